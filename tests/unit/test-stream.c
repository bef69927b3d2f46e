/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-stream.c - the stream backend against raw sockets playing the peer.
 *
 * The peer is a plain unix or TCP socket driven by the test, so every byte
 * on the wire is under control: a peer that writes one byte at a time, a
 * peer that reads slowly (so sends hit -EAGAIN with a frame half written),
 * bad lengths, a second peer, a listener that goes away and comes back.
 * The byte stream the peer receives is parsed independently here and must
 * match the frames sent exactly. Waits are bounded in dispatch rounds; no
 * check depends on timing. Everything runs on loopback and in a private
 * temporary directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "backend.h"
#include "harness.h"
#include "netbe.h"

#define MAX_ROUNDS 500                 /* dispatch rounds of 10 ms: 5 s */
#define RECONNECT_ROUNDS 800           /* reconnect=1 needs a few seconds */
#define FRAME_MAX (65535 + 18)
#define SLOW_FRAME 9000
#define SLOW_FRAMES 400

struct ctx {
	struct netbe_epoll *ep;
	struct netbe *be;
	int links[8];                  /* link callback values, in order */
	unsigned nlinks;
	unsigned tx_calls;
	bool drain_on_rx;              /* the rx callback receives and drops */
	uint8_t buf[FRAME_MAX];
};

static char tmpdir[64];

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void on_link(struct netbe *be, int up, void *opaque)
{
	struct ctx *c = opaque;

	(void)be;
	if (c->nlinks < sizeof(c->links) / sizeof(c->links[0]))
		c->links[c->nlinks++] = up;
}

static void on_tx(struct netbe *be, void *opaque)
{
	(void)be;
	((struct ctx *)opaque)->tx_calls++;
}

static void on_rx(struct netbe *be, void *opaque)
{
	struct ctx *c = opaque;
	struct iovec iov = { c->buf, sizeof(c->buf) };
	int i;

	if (!c->drain_on_rx)
		return;
	for (i = 0; i < 100 && netbe_recv(be, &iov, 1) > 0; i++)
		;
}

static int ctx_open(struct ctx *c, const char *spec)
{
	struct netbe_config cfg = { .rx_cb = on_rx, .tx_cb = on_tx,
				    .link_cb = on_link, .opaque = c };

	memset(c, 0, sizeof(*c));
	if (netbe_epoll_new(&c->ep))
		return -1;
	return netbe_open(&c->be, spec, &cfg, netbe_epoll_loop(c->ep));
}

static void ctx_close(struct ctx *c)
{
	netbe_close(c->be);
	netbe_epoll_free(c->ep);
	c->be = NULL;
	c->ep = NULL;
}

static void dispatch(struct ctx *c, int rounds)
{
	while (rounds-- > 0)
		netbe_epoll_dispatch(c->ep, 10);
}

static bool wait_link(struct ctx *c, int up, int rounds)
{
	while (rounds-- > 0 && netbe_link_is_up(c->be) != up)
		netbe_epoll_dispatch(c->ep, 10);
	return netbe_link_is_up(c->be) == up;
}

static void path_in_tmp(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static int unix_listener(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) || listen(fd, 4)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A TCP listener on 127.0.0.1 on a free port. Return: fd; *port set. */
static int tcp_listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Accept on @lfd while dispatching (the backend connects non-blocking). */
static int accept_dispatching(struct ctx *c, int lfd)
{
	int i, fd = -1;

	set_nonblock(lfd, true);
	for (i = 0; i < MAX_ROUNDS && fd < 0; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			netbe_epoll_dispatch(c->ep, 10);
	}
	return fd;
}

/* A frame of @len whose bytes depend on @seq. */
static void make_frame(uint8_t *f, size_t len, unsigned seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 7 + (i >> 8));
	memset(f, 0xff, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = (uint8_t)seq;
	f[15] = (uint8_t)(seq >> 8);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Spec errors                                                              */
/* ------------------------------------------------------------------------ */

static void expect_spec_error(const char *spec, const char *needle)
{
	struct ctx c;

	CHECK_EQ(ctx_open(&c, spec), -EINVAL);
	CHECK(c.be == NULL);
	CHECK_STR_CONTAINS(netbe_last_error(), needle);
	ctx_close(&c);
}

static void test_spec_errors(void)
{
	char longpath[200];

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	expect_spec_error("stream", "listen=ADDR or stream:connect=ADDR");
	expect_spec_error("stream:listen=/tmp/x.sock,connect=/tmp/y.sock", "use one");
	expect_spec_error("stream:connect=127.0.0.1:0", "bad port");
	expect_spec_error("stream:connect=127.0.0.1:65536", "bad port");
	expect_spec_error("stream:listen=127.0.0.1:http", "bad port");
	expect_spec_error("stream:connect=127.0.0.1", "no port");
	expect_spec_error("stream:connect=::1:4444", "brackets");
	expect_spec_error("stream:connect=[::1]4444", "[V6]:PORT");
	expect_spec_error("stream:connect=:4444", "no host");
	expect_spec_error("stream:connect=/tmp/x.sock,reconnect=0", "reconnect");
	expect_spec_error("stream:connect=/tmp/x.sock,reconnect=soon", "reconnect");
	expect_spec_error("stream:listen=/tmp/x.sock,reconnect=1", "only applies to connect");
	expect_spec_error("stream:name", "takes no NAME");
	{
		char spec[300];

		snprintf(spec, sizeof(spec), "stream:connect=%s", longpath);
		expect_spec_error(spec, "at most");
	}
}

static void test_connect_refused(void)
{
	char path[128], spec[160];
	struct ctx c;

	path_in_tmp(path, sizeof(path), "nobody.sock");
	snprintf(spec, sizeof(spec), "stream:connect=%s", path);
	CHECK(ctx_open(&c, spec) < 0);
	CHECK_STR_CONTAINS(netbe_last_error(), "cannot connect to");
	CHECK_STR_CONTAINS(netbe_last_error(), "add reconnect=SECONDS");
	ctx_close(&c);
}

/* ------------------------------------------------------------------------ */
/* Framing                                                                  */
/* ------------------------------------------------------------------------ */

/* A connect handle on a unix path with the raw accepted peer in *@peer. */
static int open_connected(struct ctx *c, const char *name, const char *extra,
			  int *lfd, int *peer)
{
	char path[128], spec[200];

	memset(c, 0, sizeof(*c));
	*peer = -1;
	path_in_tmp(path, sizeof(path), name);
	*lfd = unix_listener(path);
	snprintf(spec, sizeof(spec), "stream:connect=%s%s", path, extra);
	if (*lfd < 0 || ctx_open(c, spec))
		return -1;
	*peer = accept_dispatching(c, *lfd);
	return *peer < 0 ? -1 : 0;
}

/* The peer writes frames one byte at a time; recv after every byte sees
 * nothing until a frame is complete, then exactly that frame. */
static void test_one_byte_writes(void)
{
	static const size_t lens[] = { 60, 1514, 9014, 14 };
	static uint8_t wire[4 + 9014];
	struct ctx c;
	int lfd = -1, peer = -1;
	unsigned k, complete = 0;
	size_t i;

	if (open_connected(&c, "onebyte.sock", "", &lfd, &peer)) {
		CHECK(0);
		goto out;
	}
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct iovec iov = { c.buf, sizeof(c.buf) };

		put_be32(wire, (uint32_t)lens[k]);
		make_frame(wire + 4, lens[k], k);
		for (i = 0; i < 4 + lens[k]; i++) {
			ssize_t r;

			CHECK(write_all(peer, wire + i, 1));
			r = netbe_recv(c.be, &iov, 1);
			if (i + 1 < 4 + lens[k]) {
				if (r != 0) {
					CHECK_EQ(r, 0);
					goto out;
				}
				continue;
			}
			CHECK_EQ(r, (ssize_t)lens[k]);
			CHECK(memcmp(c.buf, wire + 4, lens[k]) == 0);
			complete++;
		}
	}
	CHECK_EQ(complete, 4);
	CHECK_EQ(netbe_link_is_up(c.be), 1);
out:
	if (peer >= 0)
		close(peer);
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
}

/* Many frames written by the peer in one go arrive in order, in bursts. */
static void test_burst_receive(void)
{
	static uint8_t wire[200 * (4 + 300)];
	struct netbe_frame fr[64];
	static uint8_t bufs[64][FRAME_MAX];
	struct iovec iov[64];
	struct ctx c;
	int lfd = -1, peer = -1, n, j, rounds;
	unsigned k, got = 0;
	size_t off = 0;
	bool ok = true;

	if (open_connected(&c, "burst.sock", "", &lfd, &peer)) {
		CHECK(0);
		goto out;
	}
	for (k = 0; k < 200; k++) {
		size_t len = 60 + k;

		put_be32(wire + off, (uint32_t)len);
		make_frame(wire + off + 4, len, k);
		off += 4 + len;
	}
	CHECK(write_all(peer, wire, off));
	for (j = 0; j < 64; j++) {
		iov[j].iov_base = bufs[j];
		iov[j].iov_len = sizeof(bufs[j]);
		fr[j].iov = &iov[j];
		fr[j].iovcnt = 1;
	}
	for (rounds = 0; got < 200 && rounds < MAX_ROUNDS; rounds++) {
		n = netbe_recv_burst(c.be, fr, 64);
		for (j = 0; j < n; j++, got++) {
			uint8_t want[400];

			make_frame(want, 60 + got, got);
			if (fr[j].result != (ssize_t)(60 + got) ||
			    memcmp(bufs[j], want, 60 + got))
				ok = false;
		}
		if (n <= 0)
			netbe_epoll_dispatch(c.ep, 10);
	}
	CHECK_EQ(got, 200);
	CHECK(ok);
out:
	if (peer >= 0)
		close(peer);
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
}

/* A frame in 1024 segments (more than sendmsg takes with its prefix)
 * still goes out whole and exact. */
static void test_many_segments(void)
{
	static uint8_t f[1100], got[4 + 1100];
	static struct iovec iov[1024];
	struct ctx c;
	int lfd = -1, peer = -1, i;
	size_t have = 0;

	if (open_connected(&c, "segs.sock", "", &lfd, &peer)) {
		CHECK(0);
		goto out;
	}
	make_frame(f, sizeof(f), 5);
	for (i = 0; i < 1023; i++) {
		iov[i].iov_base = f + i;
		iov[i].iov_len = 1;
	}
	iov[1023].iov_base = f + 1023;
	iov[1023].iov_len = sizeof(f) - 1023;
	CHECK_EQ(netbe_send(c.be, iov, 1024), (ssize_t)sizeof(f));
	set_nonblock(peer, true);
	for (i = 0; i < MAX_ROUNDS && have < sizeof(got); i++) {
		ssize_t r = read(peer, got + have, sizeof(got) - have);

		if (r > 0)
			have += (size_t)r;
		else
			netbe_epoll_dispatch(c.ep, 10);
	}
	CHECK_EQ(have, sizeof(got));
	CHECK_EQ(get_be32(got), sizeof(f));
	CHECK(memcmp(got + 4, f, sizeof(f)) == 0);
out:
	if (peer >= 0)
		close(peer);
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
}

/* The peer's side of the slow-reader test: parse what arrived. */
struct wire_check {
	uint8_t hdr[4];
	size_t hdr_got, body_got, body_len;
	unsigned frames;
	bool ok;
	uint8_t body[SLOW_FRAME];
};

static void wire_feed(struct wire_check *w, const uint8_t *p, size_t n)
{
	while (n) {
		size_t take;

		if (w->hdr_got < 4) {
			w->hdr[w->hdr_got++] = *p++;
			n--;
			if (w->hdr_got == 4) {
				w->body_len = get_be32(w->hdr);
				w->body_got = 0;
				if (w->body_len != SLOW_FRAME)
					w->ok = false;
			}
			continue;
		}
		take = w->body_len - w->body_got < n ? w->body_len - w->body_got : n;
		if (w->body_got + take <= sizeof(w->body))
			memcpy(w->body + w->body_got, p, take);
		w->body_got += take;
		p += take;
		n -= take;
		if (w->body_got == w->body_len) {
			uint8_t want[SLOW_FRAME];

			make_frame(want, SLOW_FRAME, w->frames);
			if (w->body_len != SLOW_FRAME || memcmp(w->body, want, SLOW_FRAME))
				w->ok = false;
			w->frames++;
			w->hdr_got = 0;
		}
	}
}

/* Read what the peer has, at most @max bytes. Return: bytes read. */
static size_t peer_read(int peer, struct wire_check *w, size_t max)
{
	static uint8_t buf[65536];
	ssize_t r = recv(peer, buf, max < sizeof(buf) ? max : sizeof(buf), MSG_DONTWAIT);

	if (r <= 0)
		return 0;
	wire_feed(w, buf, (size_t)r);
	return (size_t)r;
}

/* Send frames [*next, SLOW_FRAMES) in bursts until refused. Return: the
 * last result. */
static int send_until_refused(struct ctx *c, unsigned *next)
{
	static uint8_t frames[16][SLOW_FRAME];
	struct netbe_frame fr[16];
	struct iovec iov[16];
	unsigned j, n;
	int r = 0;

	while (*next < SLOW_FRAMES) {
		n = SLOW_FRAMES - *next < 16 ? SLOW_FRAMES - *next : 16;
		for (j = 0; j < n; j++) {
			make_frame(frames[j], SLOW_FRAME, *next + j);
			iov[j].iov_base = frames[j];
			iov[j].iov_len = SLOW_FRAME;
			fr[j].iov = &iov[j];
			fr[j].iovcnt = 1;
		}
		r = netbe_send_burst(c->be, fr, n);
		if (r <= 0)
			return r;
		*next += (unsigned)r;
	}
	return r;
}

/* A slow peer: sends hit -EAGAIN, possibly with half a frame kept back;
 * the peer reads a little at a time; everything arrives exactly once. */
static void slow_reader(const char *kind)
{
	struct wire_check *w = calloc(1, sizeof(*w));
	struct netbe_stats st;
	struct ctx c = { 0 };
	char spec[200], path[128];
	int lfd = -1, peer = -1, small = 4096, port = 0, r, rounds, eagains = 0;
	unsigned next = 0;

	w->ok = true;
	if (!strcmp(kind, "unix")) {
		path_in_tmp(path, sizeof(path), "slow.sock");
		lfd = unix_listener(path);
		snprintf(spec, sizeof(spec), "stream:connect=%s", path);
	} else {
		lfd = tcp_listener(&port);
		snprintf(spec, sizeof(spec), "stream:connect=127.0.0.1:%d", port);
	}
	if (lfd >= 0)
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (lfd < 0 || ctx_open(&c, spec) || (peer = accept_dispatching(&c, lfd)) < 0) {
		CHECK(0);
		goto out;
	}
	setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	for (rounds = 0; rounds < 20000 && (next < SLOW_FRAMES || w->frames < next); rounds++) {
		r = send_until_refused(&c, &next);
		if (r == -EAGAIN)
			eagains++;
		else if (r < 0)
			break;
		/* the peer reads a little; the loop flushes what is kept back */
		peer_read(peer, w, 3000);
		netbe_epoll_dispatch(c.ep, 0);
	}
	/* nothing more is sent: the kept-back tail must still arrive */
	for (rounds = 0; rounds < MAX_ROUNDS && w->frames < next; rounds++) {
		if (!peer_read(peer, w, 65536))
			netbe_epoll_dispatch(c.ep, 10);
	}
	CHECK(eagains > 0);
	CHECK_EQ(next, SLOW_FRAMES);
	CHECK_EQ(w->frames, SLOW_FRAMES);
	CHECK_EQ(w->hdr_got, 0);
	CHECK(w->ok);
	CHECK_EQ(peer_read(peer, w, 65536), 0);
	netbe_get_stats(c.be, &st);
	CHECK_EQ(st.tx_frames, SLOW_FRAMES);
	CHECK_EQ(st.drops[NETBE_DROP_TX_ERROR], 0);
	CHECK(st.tx_eagain > 0);
out:
	if (peer >= 0)
		close(peer);
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
	free(w);
}

static void test_slow_reader_unix(void)
{
	slow_reader("unix");
}

static void test_slow_reader_tcp(void)
{
	slow_reader("tcp");
}

/* A bad length resets the connection; the listener takes the next peer. */
static void bad_length(uint32_t bad)
{
	char path[128], spec[160];
	uint8_t wire[4 + 60 + 4 + 64];
	struct iovec iov;
	struct netbe_stats st;
	struct ctx c;
	int peer = -1, peer2 = -1, i;
	char b;

	path_in_tmp(path, sizeof(path), "bad.sock");
	snprintf(spec, sizeof(spec), "stream:listen=%s", path);
	if (ctx_open(&c, spec)) {
		CHECK(0);
		goto out;
	}
	iov.iov_base = c.buf;
	iov.iov_len = sizeof(c.buf);
	CHECK_EQ(netbe_link_is_up(c.be), 0);
	peer = unix_connect(path);
	CHECK(peer >= 0 && wait_link(&c, 1, MAX_ROUNDS));
	put_be32(wire, 60);
	make_frame(wire + 4, 60, 1);
	put_be32(wire + 64, bad);
	memset(wire + 68, 0xab, 64);
	CHECK(write_all(peer, wire, sizeof(wire)));
	for (i = 0; i < MAX_ROUNDS && netbe_recv(c.be, &iov, 1) != 60; i++)
		netbe_epoll_dispatch(c.ep, 10);
	CHECK_EQ(netbe_recv(c.be, &iov, 1), 0);
	CHECK_EQ(netbe_link_is_up(c.be), 0);
	netbe_get_stats(c.be, &st);
	CHECK_EQ(st.drops[NETBE_DROP_RX_BAD_FRAMING], 1);
	CHECK_EQ(st.rx_frames, 1);
	CHECK_EQ(read(peer, &b, 1), 0);   /* the peer sees the reset */
	peer2 = unix_connect(path);
	CHECK(peer2 >= 0 && wait_link(&c, 1, MAX_ROUNDS));
	CHECK_EQ(c.nlinks, 4);
	CHECK_EQ(c.links[0], 0);
	CHECK_EQ(c.links[1], 1);
	CHECK_EQ(c.links[2], 0);
	CHECK_EQ(c.links[3], 1);
out:
	if (peer >= 0)
		close(peer);
	if (peer2 >= 0)
		close(peer2);
	ctx_close(&c);
}

static void test_zero_length_resets(void)
{
	bad_length(0);
}

static void test_oversized_length_resets(void)
{
	bad_length(65535 + 18 + 1);
}

/* While a peer is connected, a second one is closed; the first stays. */
static void test_listen_refuses_second_peer(void)
{
	char path[128], spec[160];
	uint8_t wire[4 + 60];
	struct netbe_stats st;
	struct iovec iov;
	struct ctx c;
	int a = -1, b = -1, i;
	ssize_t r = -1;
	char ch;

	path_in_tmp(path, sizeof(path), "two.sock");
	snprintf(spec, sizeof(spec), "stream:listen=%s", path);
	if (ctx_open(&c, spec)) {
		CHECK(0);
		goto out;
	}
	iov.iov_base = c.buf;
	iov.iov_len = sizeof(c.buf);
	a = unix_connect(path);
	CHECK(a >= 0 && wait_link(&c, 1, MAX_ROUNDS));
	b = unix_connect(path);
	CHECK(b >= 0);
	put_be32(wire, 60);
	make_frame(wire + 4, 60, 8);
	CHECK(write_all(b, wire, sizeof(wire)));   /* never read, never delivered */
	set_nonblock(b, true);
	for (i = 0; i < MAX_ROUNDS && (r = read(b, &ch, 1)) != 0; i++)
		netbe_epoll_dispatch(c.ep, 10);
	CHECK_EQ(r, 0);                   /* b was closed */
	CHECK_EQ(netbe_link_is_up(c.be), 1);
	make_frame(wire + 4, 60, 7);
	CHECK(write_all(a, wire, sizeof(wire)));
	for (i = 0; i < MAX_ROUNDS && (r = netbe_recv(c.be, &iov, 1)) == 0; i++)
		netbe_epoll_dispatch(c.ep, 10);
	CHECK_EQ(r, 60);
	CHECK(memcmp(c.buf, wire + 4, 60) == 0);
	CHECK_EQ(netbe_recv(c.be, &iov, 1), 0);
	netbe_get_stats(c.be, &st);
	CHECK_EQ(st.peers_refused, 1);
	CHECK_EQ(st.rx_frames, 1);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	ctx_close(&c);
}

/* The peer leaves in the middle of a frame: the frames before it arrive,
 * the cut one is counted as a framing drop. */
static void test_frame_cut_by_disconnect(void)
{
	char path[128], spec[160];
	uint8_t wire[4 + 60 + 4 + 60];
	struct netbe_stats st;
	struct iovec iov;
	struct ctx c;
	int a = -1, i;
	ssize_t r = -1;

	path_in_tmp(path, sizeof(path), "cut.sock");
	snprintf(spec, sizeof(spec), "stream:listen=%s", path);
	if (ctx_open(&c, spec)) {
		CHECK(0);
		goto out;
	}
	iov.iov_base = c.buf;
	iov.iov_len = sizeof(c.buf);
	a = unix_connect(path);
	CHECK(a >= 0 && wait_link(&c, 1, MAX_ROUNDS));
	put_be32(wire, 60);
	make_frame(wire + 4, 60, 1);
	put_be32(wire + 64, 60);
	make_frame(wire + 68, 60, 2);
	CHECK(write_all(a, wire, sizeof(wire) - 30));
	close(a);
	a = -1;
	for (i = 0; i < MAX_ROUNDS && (r = netbe_recv(c.be, &iov, 1)) == 0; i++)
		netbe_epoll_dispatch(c.ep, 10);
	CHECK_EQ(r, 60);
	CHECK(memcmp(c.buf, wire + 4, 60) == 0);
	for (i = 0; i < MAX_ROUNDS && netbe_link_is_up(c.be); i++) {
		CHECK_EQ(netbe_recv(c.be, &iov, 1), 0);
		netbe_epoll_dispatch(c.ep, 10);
	}
	CHECK_EQ(netbe_link_is_up(c.be), 0);
	netbe_get_stats(c.be, &st);
	CHECK_EQ(st.rx_frames, 1);
	CHECK_EQ(st.drops[NETBE_DROP_RX_BAD_FRAMING], 1);
out:
	if (a >= 0)
		close(a);
	ctx_close(&c);
}

/* A frame above tx_max handed to the backend's own send op (core never
 * does that) is consumed as lost, and nothing of it reaches the wire:
 * a partial write of it must not overflow the remainder buffer. */
static void test_backend_refuses_oversize(void)
{
	const struct netbe_backend *ops = netbe_backend_find("stream");
	uint8_t f[60];
	struct iovec big_iov, iov;
	struct netbe_xfer x[2];
	struct ctx c;
	int lfd = -1, peer = -1, i;
	uint8_t *big = NULL;
	size_t have = 0;

	if (!ops || open_connected(&c, "big.sock", "", &lfd, &peer)) {
		CHECK(0);
		goto out;
	}
	big_iov.iov_len = 16 * c.be->tx_max;  /* more than the socket takes at once */
	big = calloc(1, big_iov.iov_len);
	CHECK(big != NULL);
	if (!big)
		goto out;
	big_iov.iov_base = big;
	make_frame(f, sizeof(f), 4);
	iov.iov_base = f;
	iov.iov_len = sizeof(f);
	x[0] = (struct netbe_xfer){ .iov = &big_iov, .iovcnt = 1, .len = big_iov.iov_len };
	x[1] = (struct netbe_xfer){ .iov = &iov, .iovcnt = 1, .len = sizeof(f) };
	CHECK_EQ(ops->send(c.be, x, 2), 1);
	CHECK_EQ(x[0].err, -EMSGSIZE);
	x[1].err = 1;
	CHECK_EQ(ops->send(c.be, &x[1], 1), 1);
	CHECK_EQ(x[1].err, 0);
	set_nonblock(peer, true);
	for (i = 0; i < MAX_ROUNDS && have < 4 + sizeof(f); i++) {
		ssize_t r = read(peer, c.buf + have, sizeof(c.buf) - have);

		if (r > 0)
			have += (size_t)r;
		else
			netbe_epoll_dispatch(c.ep, 10);
	}
	CHECK_EQ(have, 4 + sizeof(f));    /* only the small frame */
	CHECK_EQ(get_be32(c.buf), sizeof(f));
	CHECK(memcmp(c.buf + 4, f, sizeof(f)) == 0);
out:
	free(big);
	if (peer >= 0)
		close(peer);
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
}

/* ------------------------------------------------------------------------ */
/* Out of file descriptors (run in a child, whose limit is lowered)         */
/* ------------------------------------------------------------------------ */

#define EMFILE_PEERS 3
#define EMFILE_WINDOW_NS 300000000LL   /* how long the loop runs starved */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static void set_fd_limit(rlim_t soft)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = soft;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* Run the loop for EMFILE_WINDOW_NS while accept() cannot get an fd: it
 * must wait (few callbacks, CPU time far below the wall time), not spin.
 * This bounds a spin; it does not measure speed. */
static void run_starved(struct ctx *c)
{
	long long t0 = now_ns(), cpu0 = cpu_ns(), wall, cpu;
	int calls = 0, r;

	while (now_ns() - t0 < EMFILE_WINDOW_NS) {
		r = netbe_epoll_dispatch(c->ep, 10);
		if (r > 0)
			calls += r;
	}
	wall = now_ns() - t0;
	cpu = cpu_ns() - cpu0;
	printf("# starved loop: %d callbacks, %lld ms CPU in %lld ms\n", calls,
	       cpu / 1000000, wall / 1000000);
	CHECK(calls < 200);
	CHECK(cpu * 2 < wall);
}

/* Wait until @want peers are refused. Return: the count reached. */
static uint64_t wait_refused(struct ctx *c, uint64_t want)
{
	struct netbe_stats st = { 0 };
	int i;

	for (i = 0; i < MAX_ROUNDS; i++) {
		netbe_get_stats(c->be, &st);
		if (st.peers_refused >= want)
			break;
		netbe_epoll_dispatch(c->ep, 10);
	}
	return st.peers_refused;
}

/* Of @s, the socket the backend did not close. Return: it, or -1. */
static int live_peer(const int *s, int n)
{
	char ch;
	int i;

	for (i = 0; i < n; i++)
		if (recv(s[i], &ch, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN)
			return s[i];
	return -1;
}

/* One frame from @fd reaches the frontend. */
static void frame_passes(struct ctx *c, int fd)
{
	struct iovec iov = { c->buf, sizeof(c->buf) };
	uint8_t wire[4 + 60];
	ssize_t r = 0;
	int i;

	put_be32(wire, 60);
	make_frame(wire + 4, 60, 11);
	set_nonblock(fd, false);
	CHECK(fd >= 0 && write_all(fd, wire, sizeof(wire)));
	for (i = 0; i < MAX_ROUNDS && (r = netbe_recv(c->be, &iov, 1)) == 0; i++)
		netbe_epoll_dispatch(c->ep, 10);
	CHECK_EQ(r, 60);
	CHECK(memcmp(c->buf, wire + 4, 60) == 0);
}

/* Connect @s (created before the limit went down) to 127.0.0.1:@port. */
static void tcp_connect_nb(int s, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	set_nonblock(s, true);
	CHECK(connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 || errno == EINPROGRESS);
}

/*
 * The child: a TCP listen handle whose process has no fd left
 * (@spare_works: the limit is the lowest free fd, so the backend's spare
 * fd makes room to accept and close each peer; else the limit is below
 * every fd and accept() keeps failing, so the backend pauses it). Peers
 * connect; the loop must not spin; refused peers are counted; once the
 * limit is back, a peer connects and a frame passes.
 * Return: the exit status, 0 when every check held.
 */
static int emfile_child(bool spare_works)
{
	struct rlimit saved;
	struct ctx c;
	int s[EMFILE_PEERS + 1], port = 0, fd, i;

	fd = tcp_listener(&port);
	if (fd >= 0)
		close(fd);
	getrlimit(RLIMIT_NOFILE, &saved);
	for (i = 0; i <= EMFILE_PEERS; i++)
		s[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		char spec[64];

		snprintf(spec, sizeof(spec), "stream:listen=127.0.0.1:%d", port);
		if (fd < 0 || s[EMFILE_PEERS] < 0 || ctx_open(&c, spec)) {
			CHECK(0);
			return 1;
		}
	}
	fd = fcntl(s[0], F_DUPFD_CLOEXEC, 0);      /* the lowest free fd */
	close(fd);
	set_fd_limit(spare_works ? (rlim_t)fd : 3);
	for (i = 0; i < EMFILE_PEERS; i++)
		tcp_connect_nb(s[i], port);
	run_starved(&c);
	CHECK_EQ(netbe_link_is_up(c.be), 0);
	CHECK_EQ(wait_refused(&c, spare_works ? EMFILE_PEERS : 1), spare_works ? EMFILE_PEERS : 0);
	set_fd_limit(saved.rlim_cur);
	if (spare_works)
		tcp_connect_nb(s[EMFILE_PEERS], port);
	CHECK(wait_link(&c, 1, MAX_ROUNDS));
	if (!spare_works)   /* one pending peer attached, the others refused */
		CHECK_EQ(wait_refused(&c, EMFILE_PEERS - 1), EMFILE_PEERS - 1);
	frame_passes(&c, spare_works ? s[EMFILE_PEERS] : live_peer(s, EMFILE_PEERS));
	for (i = 0; i <= EMFILE_PEERS; i++)
		close(s[i]);
	ctx_close(&c);
	return harness_cur_failed;
}

/* Fork emfile_child(@spare_works) so the lowered limit stays there. */
static void emfile_case(bool spare_works)
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		status = emfile_child(spare_works);
		fflush(stdout);
		_exit(status);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* accept() fails with EMFILE: the spare fd refuses each peer. */
static void test_listen_out_of_fds_spare(void)
{
	emfile_case(true);
}

/* accept() keeps failing: the listener pauses, then resumes. */
static void test_listen_out_of_fds_pause(void)
{
	emfile_case(false);
}

/* Frames sent with no peer are consumed and counted as tx errors. */
static void test_send_without_peer_drops(void)
{
	char path[128], spec[160];
	uint8_t f[60];
	struct iovec iov = { f, sizeof(f) };
	struct netbe_stats st;
	struct ctx c;

	path_in_tmp(path, sizeof(path), "lonely.sock");
	snprintf(spec, sizeof(spec), "stream:listen=%s", path);
	if (ctx_open(&c, spec)) {
		CHECK(0);
		goto out;
	}
	make_frame(f, sizeof(f), 0);
	CHECK_EQ(netbe_send(c.be, &iov, 1), 60);
	CHECK_EQ(netbe_recv(c.be, &(struct iovec){ c.buf, sizeof(c.buf) }, 1), 0);
	netbe_get_stats(c.be, &st);
	CHECK_EQ(st.tx_frames, 0);
	CHECK_EQ(st.drops[NETBE_DROP_TX_ERROR], 1);
out:
	ctx_close(&c);
}

/* connect once: when the peer leaves, recv fails with -ENOTCONN. */
static void test_connect_once_peer_gone(void)
{
	struct iovec iov;
	struct ctx c;
	int lfd = -1, peer = -1, i;
	ssize_t r = 0;

	if (open_connected(&c, "once.sock", "", &lfd, &peer)) {
		CHECK(0);
		goto out;
	}
	iov.iov_base = c.buf;
	iov.iov_len = sizeof(c.buf);
	close(peer);
	peer = -1;
	for (i = 0; i < MAX_ROUNDS && (r = netbe_recv(c.be, &iov, 1)) == 0; i++)
		netbe_epoll_dispatch(c.ep, 10);
	CHECK_EQ(r, -ENOTCONN);
	CHECK_STR_CONTAINS(netbe_last_error(), "reconnect=SECONDS");
	CHECK_EQ(netbe_link_is_up(c.be), 0);
	CHECK_EQ(netbe_recv(c.be, &iov, 1), -ENOTCONN);
out:
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
}

/* reconnect=1: the listener goes away and comes back; the link callback
 * sees down then up, and frames flow on the new connection. */
static void test_reconnect_after_listener_restart(void)
{
	char path[128];
	uint8_t wire[4 + 60];
	struct iovec iov;
	struct ctx c;
	int lfd = -1, peer = -1, i;
	ssize_t r = 0;

	if (open_connected(&c, "again.sock", ",reconnect=1", &lfd, &peer)) {
		CHECK(0);
		goto out;
	}
	iov.iov_base = c.buf;
	iov.iov_len = sizeof(c.buf);
	c.drain_on_rx = true;
	netbe_rx_enable(c.be);
	CHECK(wait_link(&c, 1, MAX_ROUNDS));
	path_in_tmp(path, sizeof(path), "again.sock");
	close(peer);
	close(lfd);
	unlink(path);
	peer = -1;
	CHECK(wait_link(&c, 0, MAX_ROUNDS));
	dispatch(&c, 20);                 /* a retry or two finds nobody */
	lfd = unix_listener(path);
	CHECK(lfd >= 0);
	peer = accept_dispatching(&c, lfd);
	if (peer < 0)
		peer = accept_dispatching(&c, lfd);
	CHECK(peer >= 0);
	CHECK(wait_link(&c, 1, RECONNECT_ROUNDS));
	CHECK_EQ(c.nlinks, 2);
	CHECK_EQ(c.links[0], 0);
	CHECK_EQ(c.links[1], 1);
	c.drain_on_rx = false;
	put_be32(wire, 60);
	make_frame(wire + 4, 60, 3);
	CHECK(peer >= 0 && write_all(peer, wire, sizeof(wire)));
	for (i = 0; i < MAX_ROUNDS && (r = netbe_recv(c.be, &iov, 1)) == 0; i++)
		netbe_epoll_dispatch(c.ep, 10);
	CHECK_EQ(r, 60);
out:
	if (peer >= 0)
		close(peer);
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
}

/* reconnect=1 with nobody listening yet: open succeeds with the link down,
 * and the link comes up once a listener appears. */
static void test_reconnect_before_listener(void)
{
	char path[128], spec[160];
	struct ctx c;
	int lfd = -1, peer = -1;

	path_in_tmp(path, sizeof(path), "later.sock");
	snprintf(spec, sizeof(spec), "stream:connect=%s,reconnect=1", path);
	if (ctx_open(&c, spec)) {
		CHECK(0);
		goto out;
	}
	CHECK_EQ(netbe_link_is_up(c.be), 0);
	lfd = unix_listener(path);
	CHECK(lfd >= 0);
	peer = accept_dispatching(&c, lfd);
	if (peer < 0)
		peer = accept_dispatching(&c, lfd);
	CHECK(peer >= 0);
	CHECK(wait_link(&c, 1, RECONNECT_ROUNDS));
out:
	if (peer >= 0)
		close(peer);
	if (lfd >= 0)
		close(lfd);
	ctx_close(&c);
}

/* listen and connect handles back to back over TCP (IPv4 and IPv6). */
static void back_to_back(const char *host, bool v6)
{
	char lspec[128], cspec[128];
	struct ctx l, k;
	uint8_t f[1514];
	struct iovec iov = { f, sizeof(f) }, big;
	int port = 0, fd, i;
	ssize_t r = 0;

	fd = tcp_listener(&port);     /* find a free port */
	if (fd >= 0)
		close(fd);
	snprintf(lspec, sizeof(lspec), "stream:listen=%s%s%s:%d", v6 ? "[" : "", host,
		 v6 ? "]" : "", port);
	snprintf(cspec, sizeof(cspec), "stream:connect=%s%s%s:%d", v6 ? "[" : "", host,
		 v6 ? "]" : "", port);
	memset(&k, 0, sizeof(k));
	if (ctx_open(&l, lspec)) {
		CHECK(0);
		ctx_close(&l);
		return;
	}
	/* the connect handle shares the listener's loop */
	{
		struct netbe_config cfg = { .link_cb = on_link, .opaque = &k };

		CHECK_EQ(netbe_open(&k.be, cspec, &cfg, netbe_epoll_loop(l.ep)), 0);
	}
	k.ep = l.ep;
	CHECK(wait_link(&l, 1, MAX_ROUNDS));
	make_frame(f, sizeof(f), 9);
	CHECK_EQ(netbe_send(k.be, &iov, 1), (ssize_t)sizeof(f));
	big.iov_base = l.buf;
	big.iov_len = sizeof(l.buf);
	for (i = 0; i < MAX_ROUNDS && (r = netbe_recv(l.be, &big, 1)) == 0; i++)
		netbe_epoll_dispatch(l.ep, 10);
	CHECK_EQ(r, (ssize_t)sizeof(f));
	CHECK(memcmp(l.buf, f, sizeof(f)) == 0);
	netbe_close(k.be);
	for (i = 0; i < MAX_ROUNDS && netbe_link_is_up(l.be) && netbe_recv(l.be, &big, 1) == 0; i++)
		netbe_epoll_dispatch(l.ep, 10);
	CHECK_EQ(netbe_link_is_up(l.be), 0);
	ctx_close(&l);
}

static void test_tcp4_back_to_back(void)
{
	back_to_back("127.0.0.1", false);
}

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_tcp6_back_to_back(void)
{
	back_to_back("::1", true);
}

/* A stale unix socket file (nobody listening) is replaced; the file is
 * removed on close. */
static void test_stale_socket_replaced(void)
{
	char path[128], spec[160];
	struct stat st;
	struct ctx c;
	int fd;

	path_in_tmp(path, sizeof(path), "stale.sock");
	fd = unix_listener(path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);                /* leaves the file behind */
	snprintf(spec, sizeof(spec), "stream:listen=%s", path);
	CHECK_EQ(ctx_open(&c, spec), 0);
	ctx_close(&c);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
}

static void cleanup_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/netbe-stream-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	netbe_set_log(quiet_log, NULL, NETBE_LOG_DEBUG);
	RUN(test_spec_errors);
	RUN(test_connect_refused);
	RUN(test_one_byte_writes);
	RUN(test_burst_receive);
	RUN(test_many_segments);
	RUN(test_slow_reader_unix);
	RUN(test_slow_reader_tcp);
	RUN(test_zero_length_resets);
	RUN(test_oversized_length_resets);
	RUN(test_listen_refuses_second_peer);
	RUN(test_frame_cut_by_disconnect);
	RUN(test_backend_refuses_oversize);
	RUN(test_listen_out_of_fds_spare);
	RUN(test_listen_out_of_fds_pause);
	RUN(test_send_without_peer_drops);
	RUN(test_connect_once_peer_gone);
	RUN(test_reconnect_after_listener_restart);
	RUN(test_reconnect_before_listener);
	RUN(test_tcp4_back_to_back);
	if (have_ipv6_loopback())
		RUN(test_tcp6_back_to_back);
	else
		SKIP(test_tcp6_back_to_back, "no IPv6 loopback");
	RUN(test_stale_socket_replaced);
	cleanup_tmpdir();
	return harness_done();
}
