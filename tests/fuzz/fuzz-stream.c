/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-stream.c - libFuzzer target for the stream backend's receive
 * framing (4-byte big-endian length, then the frame).
 *
 * The input is a hostile peer: its first byte says how many chunk sizes
 * follow (1..8), those bytes give the sizes in which the rest, the byte
 * stream, is written to the socket (cycled), so frames and length prefixes
 * get split at every possible place. A "stream:connect=" handle is opened
 * to a unix listener in a private directory; after every chunk the test
 * receives until nothing is pending. An independent parser of the same
 * bytes says what must come out: every frame of 14 bytes or more, in
 * order and byte for byte, until the first length of 0 or above the
 * maximum, which must reset the connection and be counted once (runts are
 * counted as rx_runt); a frame that the end of the stream cuts short is
 * counted once the same way. Any difference aborts; AddressSanitizer catches
 * reads and writes out of bounds.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netbe.h"

#define FRAME_MAX (65535 + 18)
#define ETH_MIN 14
#define RECV_BURST 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference parser's view of the byte stream. */
struct reference {
	const uint8_t *p;
	size_t len, off;
	bool bad;                  /* met a length of 0 or above FRAME_MAX */
	unsigned runts;
};

struct harness {
	struct netbe_epoll *ep;
	char dir[64];
	char path[108];
	int listen_fd;
	uint8_t bufs[RECV_BURST][FRAME_MAX];
};

static struct harness *h;

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-stream: %s\n", what);
	abort();
}

/* At exit: remove the listener's socket file and directory. */
static void harness_cleanup(void)
{
	close(h->listen_fd);
	unlink(h->path);
	rmdir(h->dir);
}

/* One-time setup: a loop and a unix listener in a private directory. */
static void harness_init(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	h = calloc(1, sizeof(*h));
	if (!h)
		fail("out of memory");
	snprintf(h->dir, sizeof(h->dir), "/tmp/netbe-fuzz-stream-XXXXXX");
	if (!mkdtemp(h->dir) || netbe_epoll_new(&h->ep))
		fail("setup failed");
	atexit(harness_cleanup);
	snprintf(h->path, sizeof(h->path), "%s/peer.sock", h->dir);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", h->path);
	h->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0 || bind(h->listen_fd, (struct sockaddr *)&un, sizeof(un)) ||
	    listen(h->listen_fd, 4))
		fail("cannot listen");
	signal(SIGPIPE, SIG_IGN);
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The next frame the backend must deliver, skipping runts. Return: its
 * bytes and *len, or NULL when the stream ends or turned bad first. */
static const uint8_t *reference_next(struct reference *r, size_t *len)
{
	while (!r->bad && r->len - r->off >= 4) {
		uint32_t l = be32(r->p + r->off);

		if (l == 0 || l > FRAME_MAX) {
			r->bad = true;
			break;
		}
		if (r->len - r->off - 4 < l)
			break;
		r->off += 4 + l;
		if (l < ETH_MIN) {
			r->runts++;
			continue;
		}
		*len = l;
		return r->p + r->off - l;
	}
	return NULL;
}

/* Receive everything pending and compare with the reference. Return: false
 * once the backend has no peer any more. */
static bool drain(struct netbe *be, struct reference *r)
{
	struct netbe_frame fr[RECV_BURST];
	struct iovec iov[RECV_BURST];
	int n, i;

	for (i = 0; i < RECV_BURST; i++) {
		iov[i].iov_base = h->bufs[i];
		iov[i].iov_len = FRAME_MAX;
		fr[i].iov = &iov[i];
		fr[i].iovcnt = 1;
	}
	while ((n = netbe_recv_burst(be, fr, RECV_BURST)) > 0) {
		for (i = 0; i < n; i++) {
			size_t want_len = 0;
			const uint8_t *want = reference_next(r, &want_len);

			if (!want)
				fail("backend delivered a frame the stream does not hold");
			if ((size_t)fr[i].result != want_len ||
			    memcmp(h->bufs[i], want, want_len))
				fail("delivered frame differs from the stream");
		}
	}
	if (n < 0 && n != -ENOTCONN)
		fail("recv failed with an unexpected error");
	return n == 0 && netbe_link_is_up(be) == 1;
}

/* Write @len bytes to the peer socket. Return: false if the backend
 * closed the connection. */
static bool feed(struct netbe *be, int fd, const uint8_t *p, size_t len,
		 struct reference *r)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EAGAIN) {
			if (!drain(be, r))
				return false;
			continue;
		}
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return drain(be, r);
}

/* The final counters must match what the reference met. */
static void check_counters(struct netbe *be, struct reference *r)
{
	struct netbe_stats st;
	size_t l;
	bool cut;

	while (reference_next(r, &l))
		fail("a complete frame was not delivered");
	cut = !r->bad && r->off < r->len;
	netbe_get_stats(be, &st);
	if (st.drops[NETBE_DROP_RX_BAD_FRAMING] != (r->bad || cut ? 1u : 0u))
		fail("a bad length or a frame cut by the end was not counted exactly once");
	if (st.drops[NETBE_DROP_RX_RUNT] != r->runts)
		fail("runts were not counted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reference r = { 0 };
	struct netbe *be = NULL;
	char spec[160];
	size_t nsizes, off, i = 0;
	int peer;

	if (!h)
		harness_init();
	if (size < 2)
		return 0;
	nsizes = (size_t)(data[0] % 8) + 1;
	if (size < 1 + nsizes)
		return 0;
	r.p = data + 1 + nsizes;
	r.len = size - 1 - nsizes;
	snprintf(spec, sizeof(spec), "stream:connect=%s", h->path);
	if (netbe_open(&be, spec, NULL, netbe_epoll_loop(h->ep)))
		fail("open failed");
	peer = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (peer < 0)
		fail("accept failed");
	for (off = 0; off < r.len; i++) {
		unsigned b = data[1 + i % nsizes];
		size_t chunk = (size_t)b * b / 4 + 1;

		if (chunk > r.len - off)
			chunk = r.len - off;
		if (!feed(be, peer, r.p + off, chunk, &r))
			break;
		off += chunk;
	}
	close(peer);
	drain(be, &r);
	check_counters(be, &r);
	netbe_close(be);
	return 0;
}
