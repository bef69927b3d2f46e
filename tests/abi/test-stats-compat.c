/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-stats-compat.c - struct netbe_stats read three ways (issue 18, item
 * 6): by a program built against this header (the inline netbe_get_stats()),
 * by one built against a shorter or a longer struct (netbe_stats_read() with
 * its size), and by one linked against the first ABI, which calls
 * netbe_get_stats@NETBE_0 (looked up with dlvsym() in libnetbe.so, the path
 * given as argv[1]) and expects the NETBE_0 layout: drops[14] between
 * tx_eagain and peers_refused.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "harness.h"
#include "netbe.h"

/* The NETBE_0 layout, as the first header declared it. */
struct stats_v0 {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, tx_eagain;
	uint64_t drops[14];
	uint64_t peers_refused;
};

static const char *so_path;
static struct netbe_epoll *ep;

/* Open @spec on the test's loop, no callbacks. Return: the handle or NULL. */
static struct netbe *open_pair(const char *spec)
{
	struct netbe_config cfg = { 0 };
	struct netbe *be = NULL;

	return netbe_open(&be, spec, &cfg, netbe_epoll_loop(ep)) ? NULL : be;
}

/* Send @frames 60-byte frames and one 10-byte runt (dropped, counted). */
static void send_traffic(struct netbe *be, unsigned frames)
{
	uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	struct iovec iov = { f, sizeof(f) };
	unsigned i;

	for (i = 0; i < frames; i++)
		CHECK_EQ(netbe_send(be, &iov, 1), (ssize_t)sizeof(f));
	iov.iov_len = 10;
	netbe_send(be, &iov, 1);
}

static void current_program(void)
{
	struct netbe *a = open_pair("pair:stats-cur"), *b = open_pair("pair:stats-cur");
	struct netbe_stats st;

	CHECK(a && b);
	if (!a || !b)
		goto out;
	send_traffic(a, 3);
	memset(&st, 0xaa, sizeof(st));
	CHECK_EQ(netbe_get_stats(a, &st), 0);
	CHECK_EQ(st.tx_frames, 3);
	CHECK_EQ(st.tx_bytes, 180);
	CHECK_EQ(st.drops[NETBE_DROP_TX_RUNT], 1);
	CHECK_EQ(st.peers_refused, 0);
	CHECK_EQ(st.drops[NETBE_DROP_SLOTS - 1], 0);
out:
	netbe_close(a);
	netbe_close(b);
}

static void shorter_and_longer_structs(void)
{
	struct netbe *a = open_pair("pair:stats-size"), *b = open_pair("pair:stats-size");
	size_t first = offsetof(struct netbe_stats, drops) + NETBE_DROP_SLOTS * sizeof(uint64_t);
	unsigned char big[sizeof(struct netbe_stats) + 64];
	struct netbe_stats st;

	CHECK(a && b);
	if (!a || !b)
		goto out;
	send_traffic(a, 2);
	memset(&st, 0xaa, sizeof(st));
	CHECK_EQ(netbe_stats_read(a, &st, first), 0);
	CHECK_EQ(st.tx_frames, 2);
	CHECK_EQ(st.drops[NETBE_DROP_TX_RUNT], 1);
	CHECK_EQ(netbe_stats_read(a, &st, first - 1), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "pass sizeof(struct netbe_stats)");
	memset(big, 0xaa, sizeof(big));
	CHECK_EQ(netbe_stats_read(a, (struct netbe_stats *)(void *)big, sizeof(big)), 0);
	CHECK_EQ(((struct netbe_stats *)(void *)big)->tx_frames, 2);
	CHECK_EQ(big[sizeof(struct netbe_stats)], 0);
	CHECK_EQ(big[sizeof(big) - 1], 0);
	CHECK_EQ(netbe_stats_read(NULL, &st, sizeof(st)), -EINVAL);
	CHECK_EQ(netbe_stats_read(a, NULL, sizeof(st)), -EINVAL);
out:
	netbe_close(a);
	netbe_close(b);
}

static void first_abi_program(void)
{
	int (*get_v0)(struct netbe *, struct stats_v0 *);
	struct netbe *a = open_pair("pair:stats-v0"), *b = open_pair("pair:stats-v0");
	struct stats_v0 st;
	void *lib;

	CHECK(a && b);
	lib = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
	CHECK(lib != NULL);
	if (!lib || !a || !b) {
		printf("# dlopen %s: %s\n", so_path, lib ? "ok" : dlerror());
		goto out;
	}
	*(void **)&get_v0 = dlvsym(lib, "netbe_get_stats", "NETBE_0");
	CHECK(get_v0 != NULL);
	if (get_v0) {
		send_traffic(a, 4);
		memset(&st, 0xaa, sizeof(st));
		CHECK_EQ(get_v0(a, &st), 0);
		CHECK_EQ(st.tx_frames, 4);
		CHECK_EQ(st.tx_bytes, 240);
		CHECK_EQ(st.tx_eagain, 0);
		CHECK_EQ(st.drops[NETBE_DROP_TX_RUNT], 1);
		CHECK_EQ(st.peers_refused, 0);
		CHECK_EQ(get_v0(NULL, &st), -EINVAL);
	}
	dlclose(lib);
out:
	netbe_close(a);
	netbe_close(b);
}

int main(int argc, char **argv)
{
	int rc;

	so_path = argc > 1 ? argv[1] : "libnetbe.so";
	if (netbe_epoll_new(&ep)) {
		printf("Bail out! netbe_epoll_new: %s\n", netbe_last_error());
		return 1;
	}
	RUN(current_program);
	RUN(shorter_and_longer_structs);
	RUN(first_abi_program);
	rc = harness_done();
	netbe_epoll_free(ep);
	return rc;
}
