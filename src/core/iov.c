/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iov.c - scatter-gather helpers used by header translation, the receive
 * stash and the backends. They never step past the iovec they are given.
 */
#include <errno.h>
#include <string.h>

#include "iov.h"

size_t iov_length(const struct iovec *iov, int iovcnt)
{
	size_t len = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	return len;
}

/* Find the segment holding byte @offset; *@skip is the offset inside it.
 * Return: its index, or @iovcnt when @offset is past the end. */
static int iov_seek(const struct iovec *iov, int iovcnt, size_t offset,
		    size_t *skip)
{
	int i;

	for (i = 0; i < iovcnt && offset >= iov[i].iov_len; i++)
		offset -= iov[i].iov_len;
	*skip = offset;
	return i;
}

size_t iov_to_buf(const struct iovec *iov, int iovcnt, size_t offset,
		  void *buf, size_t len)
{
	size_t done = 0, skip;
	int i;

	for (i = iov_seek(iov, iovcnt, offset, &skip); i < iovcnt && done < len; i++) {
		size_t n = iov[i].iov_len - skip;

		if (n > len - done)
			n = len - done;
		if (n)
			memcpy((char *)buf + done, (char *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, int iovcnt, size_t offset,
		    const void *buf, size_t len)
{
	size_t done = 0, skip;
	int i;

	for (i = iov_seek(iov, iovcnt, offset, &skip); i < iovcnt && done < len; i++) {
		size_t n = iov[i].iov_len - skip;

		if (n > len - done)
			n = len - done;
		if (n)
			memcpy((char *)iov[i].iov_base + skip, (const char *)buf + done, n);
		done += n;
		skip = 0;
	}
	return done;
}

int iov_tail(const struct iovec *iov, int iovcnt, size_t offset,
	     struct iovec *out, int max)
{
	size_t skip;
	int i, n = 0;

	for (i = iov_seek(iov, iovcnt, offset, &skip); i < iovcnt; i++) {
		if (iov[i].iov_len == skip)
			continue;
		if (n == max)
			return -E2BIG;
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = iov[i].iov_len - skip;
		n++;
		skip = 0;
	}
	return n;
}

size_t iov_copy(const struct iovec *dst, int dstcnt, const struct iovec *src,
		int srccnt, size_t len)
{
	size_t done = 0;
	int i;

	for (i = 0; i < srccnt && done < len; i++) {
		size_t n = src[i].iov_len, put;

		if (n > len - done)
			n = len - done;
		put = iov_from_buf(dst, dstcnt, done, src[i].iov_base, n);
		done += put;
		if (put < n)
			break;
	}
	return done;
}
