/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-dgram.c - libFuzzer target for the dgram backend's receive path:
 * hostile datagrams from the peer and from a stranger.
 *
 * A "dgram:local=A,remote=B" handle is opened on unix datagram sockets in
 * a private directory (a unix datagram may be larger than any frame, so
 * the truncation path is reachable, which UDP on loopback is not). The
 * input is a list of records: a flags byte (bit 0: sent by the stranger,
 * not the peer) and a 3-byte little-endian length (taken modulo 100000),
 * followed by that many bytes, cycled from the record's own tail. After
 * each datagram the target receives until nothing is pending. Invariants:
 *  - every datagram from the peer that is 14 to 65553 bytes long is
 *    delivered, byte for byte, in order;
 *  - every other datagram is counted once: rx_too_big (longer than a
 *    frame: the peer's, or anybody's longer than the receive buffer, which
 *    the kernel truncates), rx_foreign (the stranger's), rx_runt (shorter
 *    than an Ethernet header), and the counters say exactly how many;
 *  - recv_burst() returning 0 means nothing is pending.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netbe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAME_MAX (65535 + 18)
#define DGRAM_MAX 100000
#define BURST 4

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-dgram: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

struct expect {
	uint64_t foreign, too_big, runt, delivered;
};

static struct {
	struct netbe_epoll *ep;
	struct netbe *be;
	char dir[64];
	struct sockaddr_un local, peer, stranger;
	int peer_fd, stranger_fd;
	uint8_t out[DGRAM_MAX];
	uint8_t bufs[BURST][FRAME_MAX + 64];
} *h;

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* A unix datagram socket bound to @dir/@name, its address in @a. */
static int bound_socket(const char *name, struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int big = 1 << 20;

	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", h->dir, name);
	ASSERT(fd >= 0 && bind(fd, (struct sockaddr *)a, sizeof(*a)) == 0);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	return fd;
}

static void cleanup(void)
{
	netbe_close(h->be);
	close(h->peer_fd);
	close(h->stranger_fd);
	unlink(h->peer.sun_path);
	unlink(h->stranger.sun_path);
	unlink(h->local.sun_path);
	rmdir(h->dir);
}

static void harness_init(void)
{
	char spec[300];

	h = calloc(1, sizeof(*h));
	ASSERT(h);
	snprintf(h->dir, sizeof(h->dir), "/tmp/netbe-fuzz-dgram-XXXXXX");
	ASSERT(mkdtemp(h->dir) && netbe_epoll_new(&h->ep) == 0);
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
	h->peer_fd = bound_socket("peer", &h->peer);
	h->stranger_fd = bound_socket("stranger", &h->stranger);
	h->local.sun_family = AF_UNIX;
	snprintf(h->local.sun_path, sizeof(h->local.sun_path), "%s/local", h->dir);
	snprintf(spec, sizeof(spec), "dgram:local=%s,remote=%s", h->local.sun_path,
		 h->peer.sun_path);
	ASSERT(netbe_open(&h->be, spec, NULL, netbe_epoll_loop(h->ep)) == 0);
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
}

/* Receive everything; the one frame that may arrive must be @want. */
static void drain(const uint8_t *want, size_t want_len, struct expect *e)
{
	struct netbe_frame f[BURST];
	struct iovec iov[BURST];
	int n, i;

	for (i = 0; i < BURST; i++) {
		iov[i] = (struct iovec){ h->bufs[i], sizeof(h->bufs[i]) };
		f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
	}
	while ((n = netbe_recv_burst(h->be, f, BURST)) > 0) {
		ASSERT(n == 1 && want);
		ASSERT((size_t)f[0].result == want_len && !memcmp(h->bufs[0], want, want_len));
		want = NULL;
		e->delivered++;
	}
	ASSERT(n == 0 && !want);
	ASSERT(netbe_peek_recvlen(h->be) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expect e = { 0 };
	struct netbe_stats before, after;
	size_t off = 0;

	if (!h)
		harness_init();
	ASSERT(netbe_get_stats(h->be, &before) == 0);
	while (size - off >= 4) {
		bool stranger = data[off] & 1;
		size_t len = (data[off + 1] | data[off + 2] << 8 | (size_t)data[off + 3] << 16) % DGRAM_MAX;
		size_t tail = size - off - 4, i;
		bool deliver = !stranger && len >= 14 && len <= FRAME_MAX;

		for (i = 0; i < len; i++)
			h->out[i] = tail ? data[off + 4 + i % tail] : (uint8_t)i;
		off += 4 + (len < tail ? len : tail);
		if (sendto(stranger ? h->stranger_fd : h->peer_fd, h->out, len, 0,
			   (struct sockaddr *)&h->local, sizeof(h->local)) != (ssize_t)len)
			continue;   /* the kernel refused it (too large): nothing sent */
		if (len > sizeof(h->bufs[0]) || (!stranger && len > FRAME_MAX))
			e.too_big++;    /* truncated by the kernel, or by core */
		else if (stranger)
			e.foreign++;
		else if (len < 14)
			e.runt++;
		drain(deliver ? h->out : NULL, len, &e);
	}
	ASSERT(netbe_get_stats(h->be, &after) == 0);
	ASSERT(after.drops[NETBE_DROP_RX_FOREIGN] - before.drops[NETBE_DROP_RX_FOREIGN] == e.foreign);
	ASSERT(after.drops[NETBE_DROP_RX_TOO_BIG] - before.drops[NETBE_DROP_RX_TOO_BIG] == e.too_big);
	ASSERT(after.drops[NETBE_DROP_RX_RUNT] - before.drops[NETBE_DROP_RX_RUNT] == e.runt);
	ASSERT(after.rx_frames - before.rx_frames == e.delivered);
	return 0;
}
