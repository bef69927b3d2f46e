/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-iov.c - the scatter-gather helpers stay inside the iovec they are
 * given, whatever offsets and lengths they are asked for.
 */
#include <errno.h>

#include "harness.h"
#include "iov.h"

static void gather_scatter(void)
{
	char a[3] = "abc", b[1] = "d", c[4] = "efgh", out[16] = { 0 };
	struct iovec iov[4] = { { a, 3 }, { b, 1 }, { NULL, 0 }, { c, 4 } };

	CHECK_EQ(iov_length(iov, 4), 8);
	CHECK_EQ(iov_to_buf(iov, 4, 2, out, 5), 5);
	CHECK(!memcmp(out, "cdefg", 5));
	CHECK_EQ(iov_to_buf(iov, 4, 6, out, 10), 2);
	CHECK(!memcmp(out, "gh", 2));
	CHECK_EQ(iov_to_buf(iov, 4, 100, out, 10), 0);
	CHECK_EQ(iov_from_buf(iov, 4, 1, "XYZW", 4), 4);
	CHECK(!memcmp(a, "aXY", 3) && b[0] == 'Z' && c[0] == 'W');
	CHECK_EQ(iov_from_buf(iov, 4, 7, "12", 2), 1);
	CHECK_EQ(c[3], '1');
}

static void tails(void)
{
	char a[3], b[4];
	struct iovec iov[2] = { { a, 3 }, { b, 4 } }, out[2];

	CHECK_EQ(iov_tail(iov, 2, 0, out, 2), 2);
	CHECK_EQ(iov_tail(iov, 2, 3, out, 2), 1);
	CHECK(out[0].iov_base == b && out[0].iov_len == 4);
	CHECK_EQ(iov_tail(iov, 2, 4, out, 2), 1);
	CHECK(out[0].iov_base == b + 1 && out[0].iov_len == 3);
	CHECK_EQ(iov_tail(iov, 2, 7, out, 2), 0);
	CHECK_EQ(iov_tail(iov, 2, 99, out, 2), 0);
	CHECK_EQ(iov_tail(iov, 2, 1, out, 1), -E2BIG);
}

static void copies(void)
{
	char s1[2] = "ab", s2[3] = "cde", d1[1], d2[10] = { 0 };
	struct iovec src[2] = { { s1, 2 }, { s2, 3 } }, dst[2] = { { d1, 1 }, { d2, 10 } };

	CHECK_EQ(iov_copy(dst, 2, src, 2, 5), 5);
	CHECK(d1[0] == 'a' && !memcmp(d2, "bcde", 4));
	CHECK_EQ(iov_copy(dst, 1, src, 2, 5), 1);
}

int main(void)
{
	RUN(gather_scatter);
	RUN(tails);
	RUN(copies);
	return harness_done();
}
