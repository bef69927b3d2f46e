/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-slirp.c - libFuzzer target feeding guest frames to libslirp through
 * netbe's slirp backend, the way a guest does: whatever crashes libslirp
 * here crashes a VMM using netbe (issue 14).
 *
 * The input's first byte picks the spec (bit 0: mtu=65520, so frames up to
 * 65534 bytes go in; bit 1: restrict=on; bit 2: ipv6=off); the rest is a
 * sequence of frames, each a 2-byte big-endian length then that many
 * bytes (cut short at the end of the input). Each input opens a handle on
 * a shared epoll loop, sends every frame with netbe_send(), runs the loop
 * once and drains what slirp answered after each, then closes it. Every
 * send must consume the frame; frames coming back must fit the handle's
 * largest frame.
 *
 * libslirp turns guest traffic into real sockets of this process, so the
 * target refuses to run (exit 1) unless its network namespace has no
 * interface but lo: run it under `unshare -n` (tests/fuzz/slirp-ns.sh).
 */
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "netbe.h"

#define FRAME_MAX (65535 + 18)
#define RECV_BURST 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct netbe_epoll *ep;
static uint8_t rxbuf[FRAME_MAX];

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-slirp: %s\n", what);
	abort();
}

/** only_loopback() - Return: true when the network namespace has no
 * interface but lo. Asks the kernel (if_nameindex), since /sys/class/net
 * shows the namespace sysfs was mounted in, not ours. */
static bool only_loopback(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	bool ok = ifs != NULL;

	for (i = ifs; ok && i->if_index; i++)
		ok = !strcmp(i->if_name, "lo");
	if (ifs)
		if_freenameindex(ifs);
	return ok;
}

/* One-time setup: refuse to run next to real interfaces; a loop. */
static void harness_init(void)
{
	if (!only_loopback()) {
		fprintf(stderr, "fuzz-slirp: refusing to run: this network namespace has interfaces other than lo; libslirp would open real sockets. Run it under `unshare -n`.\n");
		exit(1);
	}
	if (netbe_epoll_new(&ep))
		fail("cannot create the loop");
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
}

/** drain() - run the loop once and receive everything slirp produced. */
static void drain(struct netbe *be)
{
	struct iovec iov = { rxbuf, sizeof(rxbuf) };
	ssize_t n;

	netbe_epoll_dispatch(ep, 0);
	while ((n = netbe_recv(be, &iov, 1)) > 0)
		if ((size_t)n > FRAME_MAX)
			fail("a received frame is larger than any frame");
	if (n < 0)
		fail("recv failed");
}

/** send_frames() - send every length-prefixed frame of @p (@len bytes). */
static void send_frames(struct netbe *be, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (len - off >= 2) {
		size_t flen = (size_t)p[off] << 8 | p[off + 1];
		struct iovec iov;
		ssize_t r;

		off += 2;
		if (flen > len - off)
			flen = len - off;
		iov.iov_base = (void *)(p + off);
		iov.iov_len = flen;
		r = netbe_send(be, &iov, 1);
		if (r != (ssize_t)flen)
			fail("a frame was not consumed");
		off += flen;
		drain(be);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netbe *be = NULL;
	char spec[64];

	if (!ep)
		harness_init();
	if (size < 1)
		return 0;
	snprintf(spec, sizeof(spec), "slirp,mtu=%s,restrict=%s,ipv6=%s",
		 data[0] & 1 ? "65520" : "1500", data[0] & 2 ? "on" : "off",
		 data[0] & 4 ? "off" : "on");
	if (netbe_open(&be, spec, NULL, netbe_epoll_loop(ep)))
		fail("open failed");
	send_frames(be, data + 1, size - 1);
	netbe_close(be);
	return 0;
}
