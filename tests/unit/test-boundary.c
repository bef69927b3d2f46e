/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-boundary.c - hostile frames through the public API: what core
 * hands a backend and what it hands the frontend stay inside their
 * limits, and nothing is lost without a count.
 *
 *  - software segments fit the backend: a guest's gso_size larger than
 *    the link (16000 on a 1500-byte MTU pair end) is segmented at a size
 *    that fits, and a UFO/IPv6 super-frame at the 64 KiB limit is
 *    fragmented without growing past it (the fragment header is 8 bytes);
 *    the receiving end checks every frame's IP length against its size
 *    and reassembles the payload byte for byte;
 *  - netbe_recv_burst() returns 0 only when nothing is pending: a stream
 *    peer's runts fill whole bursts (all dropped) before a good frame,
 *    through the caller's buffers and through core's stash;
 *  - the pair family's soak: a sender thread pushes a hostile mix (good
 *    frames, TSO super-frames, runts, bad headers) while the receiving end
 *    stalls, is closed with frames queued and opened again; every frame
 *    is counted once: sent = handed on + counted drops, and handed on =
 *    received + counted drops + queued at the close (which pair reports).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "harness.h"
#include "netbe.h"
#include "offload-frames.h"

#define HDR 12
#define BUF (HDR + 65535 + 18)
#define BURST 8

static uint8_t frame[HDR + 70000];
static uint8_t rxbuf[BURST][BUF];

/* Open the two ends of pair @name with specs @a and @b (keys after the
 * name); the sender takes every host offload, header 12. Return: 0. */
static int open_pair(struct netbe_epoll *ep, struct netbe **tx,
		     struct netbe **rx, const char *a, const char *b)
{
	if (netbe_open(tx, a, NULL, netbe_epoll_loop(ep)) ||
	    netbe_open(rx, b, NULL, netbe_epoll_loop(ep)))
		return -1;
	if (netbe_set_cap(*tx, NETBE_F_HOST_OFFLOADS, HDR) ||
	    netbe_set_cap(*rx, 0, HDR))
		return -1;
	return 0;
}

/* Build @o with its header in front, send it into @tx. Return: send's
 * result. */
static ssize_t send_super(struct netbe *tx, const struct fb *o,
			  struct fb_layout *lay)
{
	struct netbe_vnet_hdr h;
	struct iovec iov;
	size_t len = fb_build(frame + HDR, o, &h, lay);

	memset(frame, 0, HDR);
	fb_encode_vnet(frame, &h);
	iov = (struct iovec){ frame, HDR + len };
	return netbe_send(tx, &iov, 1);
}

/* What the receiving end got, checked frame by frame. */
struct received {
	unsigned frames;
	size_t largest;            /* longest frame, header excluded */
	size_t payload;            /* L4 (TCP) or IP (UFO) payload bytes */
	bool ip_len_ok;            /* every IP length matches the frame */
};

/* Receive everything @rx holds; each frame's IP length must match its
 * size and its payload must equal @orig's at the offset it claims. */
static void drain(struct netbe *rx, const struct fb_layout *lay, bool tcp,
		  const uint8_t *orig, struct received *r)
{
	struct iovec iov[BURST];
	struct netbe_frame f[BURST];
	int n, i;

	memset(r, 0, sizeof(*r));
	r->ip_len_ok = true;
	do {
		for (i = 0; i < BURST; i++) {
			iov[i] = (struct iovec){ rxbuf[i], BUF };
			f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
		}
		n = netbe_recv_burst(rx, f, BURST);
		for (i = 0; i < n; i++) {
			const uint8_t *e = rxbuf[i] + HDR, *ip = e + lay->l3;
			size_t len = (size_t)f[i].result - HDR;
			bool v4 = (ip[0] >> 4) == 4;
			size_t iplen = v4 ? fb_get16(ip + 2) : 40u + fb_get16(ip + 4);

			r->frames++;
			if (len > r->largest)
				r->largest = len;
			if (lay->l3 + iplen != len)
				r->ip_len_ok = false;
			if (tcp) {
				uint32_t off = fb_get32(e + lay->l4 + 4);
				size_t dl = len - lay->payload;

				CHECK(memcmp(e + lay->payload, orig + lay->payload + off, dl) == 0);
				r->payload += dl;
			} else {
				r->payload += len - lay->l4 - (v4 ? 0 : 8);
			}
		}
	} while (n > 0);
}

/* A 20054-byte TSO frame with gso_size 16000 into a 1500-byte link: the
 * segments are cut at 1460 bytes of payload, none is lost or dropped. */
static void test_soft_tso_fits_link(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 20000,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 16000 };
	struct netbe *tx = NULL, *rx = NULL;
	struct netbe_epoll *ep = NULL;
	struct netbe_stats st = { 0 };
	struct fb_layout lay;
	struct received r;
	unsigned i;

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(open_pair(ep, &tx, &rx, "pair:tso,mtu=1500,offload=soft",
			   "pair:tso,mtu=1500"), 0);
	CHECK_EQ(send_super(tx, &o, &lay), HDR + (ssize_t)lay.len);
	drain(rx, &lay, true, frame + HDR, &r);
	CHECK_EQ(r.frames, 14);
	CHECK(r.largest <= 1518);
	CHECK(r.ip_len_ok);
	CHECK_EQ(r.payload, 20000);
	netbe_get_stats(tx, &st);
	CHECK_EQ(st.tx_frames, 14);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		CHECK_EQ(st.drops[i], 0);
	netbe_close(tx);
	netbe_close(rx);
	netbe_epoll_free(ep);
}

/* The reported UFO/IPv6 case: a 65551-byte frame, UDP length 65497,
 * gso_size 65496. Its first fragment used to be 65558 bytes. */
static void test_soft_ufo6_never_grows(void)
{
	struct fb o = { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 65489,
			.gso_type = NETBE_GSO_UDP, .gso_size = 65496 };
	struct netbe *tx = NULL, *rx = NULL;
	struct netbe_epoll *ep = NULL;
	struct fb_layout lay;
	struct received r;

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(open_pair(ep, &tx, &rx, "pair:ufo,offload=soft", "pair:ufo"), 0);
	CHECK_EQ(send_super(tx, &o, &lay), HDR + 65551);
	drain(rx, &lay, false, NULL, &r);
	CHECK_EQ(r.frames, 2);
	CHECK(r.largest <= 65535 + 18);
	CHECK(r.ip_len_ok);
	CHECK_EQ(r.payload, 65497);
	netbe_close(tx);
	netbe_close(rx);
	netbe_epoll_free(ep);
}

/* A stream peer on a unix socket in a private directory. */
struct stream_peer {
	char dir[64], path[108];
	int listen_fd, fd;
	struct netbe *be;
};

/* Connect a stream handle to a fresh listener. Return: 0 or -1. */
static int stream_peer_open(struct stream_peer *s, struct netbe_epoll *ep)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char spec[160];

	snprintf(s->dir, sizeof(s->dir), "/tmp/netbe-boundary-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/peer.sock", s->dir);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", s->path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&un, sizeof(un)) ||
	    listen(s->listen_fd, 1))
		return -1;
	snprintf(spec, sizeof(spec), "stream:connect=%s", s->path);
	if (netbe_open(&s->be, spec, NULL, netbe_epoll_loop(ep)))
		return -1;
	s->fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	return s->fd < 0 ? -1 : 0;
}

static void stream_peer_close(struct stream_peer *s)
{
	netbe_close(s->be);
	close(s->fd);
	close(s->listen_fd);
	unlink(s->path);
	rmdir(s->dir);
}

/* Write @runts one-byte frames, then one 60-byte frame, in one go.
 * Return: true when all of it was written. */
static bool write_runts_then_frame(int fd, unsigned runts)
{
	uint8_t buf[200 * 5 + 64] = { 0 };
	size_t off = 0;
	unsigned i;

	for (i = 0; i < runts; i++) {
		fb_put32(buf + off, 1);
		off += 5;
	}
	fb_put32(buf + off, 60);
	memset(buf + off + 4, 0xff, 6);
	off += 64;
	return write(fd, buf, off) == (ssize_t)off;
}

/* Receive with @nbufs buffers of @size bytes. Return: recv_burst's. */
static int recv_into(struct netbe *be, unsigned nbufs, size_t size)
{
	struct iovec iov[BURST];
	struct netbe_frame f[BURST];
	unsigned i;

	for (i = 0; i < nbufs; i++) {
		iov[i] = (struct iovec){ rxbuf[i], size };
		f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
	}
	return netbe_recv_burst(be, f, nbufs);
}

/* 16 runts (two whole bursts of 8, all dropped), then a good frame. */
static void test_recv_burst_past_dropped(void)
{
	struct netbe_epoll *ep = NULL;
	struct stream_peer s = { .listen_fd = -1, .fd = -1 };
	struct netbe_stats st = { 0 };

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(stream_peer_open(&s, ep), 0);
	CHECK(write_runts_then_frame(s.fd, 16));
	CHECK_EQ(recv_into(s.be, BURST, BUF), 1);
	CHECK_EQ(recv_into(s.be, BURST, BUF), 0);
	netbe_get_stats(s.be, &st);
	CHECK_EQ(st.drops[NETBE_DROP_RX_RUNT], 16);
	CHECK_EQ(st.rx_frames, 1);
	stream_peer_close(&s);
	netbe_epoll_free(ep);
}

/* The same through core's stash (buffers smaller than the largest frame),
 * with more runts than one backend burst. */
static void test_recv_stash_past_dropped(void)
{
	struct netbe_epoll *ep = NULL;
	struct stream_peer s = { .listen_fd = -1, .fd = -1 };
	struct netbe_stats st = { 0 };

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(stream_peer_open(&s, ep), 0);
	CHECK(write_runts_then_frame(s.fd, 200));
	CHECK_EQ(netbe_peek_recvlen(s.be), 60);
	CHECK_EQ(recv_into(s.be, 1, 1600), 1);
	CHECK_EQ(recv_into(s.be, 1, 1600), 0);
	netbe_get_stats(s.be, &st);
	CHECK_EQ(st.drops[NETBE_DROP_RX_RUNT], 200);
	stream_peer_close(&s);
	netbe_epoll_free(ep);
}

/* The sending side of the pair soak. */
struct soak {
	struct netbe *tx;
	uint64_t consumed;         /* frames netbe_send_burst() took */
	int stop;                  /* atomic */
	int error;                 /* a hard send error, 0 if none */
};

static uint8_t soak_buf[8][HDR + 9100];

/* Build frame @k of the soak's mix into @b. Return: its length. */
static size_t soak_frame(uint8_t *b, uint64_t k)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 100 + k % 1400,
			.seq = (uint32_t)k };
	struct netbe_vnet_hdr h;
	size_t len;

	if (k % 7 == 3) {             /* a TSO super-frame */
		o.paylen = 2000 + k % 7000;
		o.gso_type = NETBE_GSO_TCPV4;
		o.gso_size = 1448;
	}
	len = fb_build(b + HDR, &o, &h, NULL);
	memset(b, 0, HDR);
	fb_encode_vnet(b, &h);
	if (k % 11 == 5)
		return HDR + 5;            /* a runt */
	if (k % 13 == 6)
		b[0] = 0x80;               /* a header flag nobody defined */
	return HDR + len;
}

/* Send the mix in bursts of 1 to 8 until told to stop; -EAGAIN waits. */
static void *soak_send(void *arg)
{
	struct soak *s = arg;
	struct netbe_frame f[8];
	struct iovec iov[8];
	uint64_t k = 0;
	unsigned i, n;
	int ret;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		n = (unsigned)(k % 8) + 1;
		for (i = 0; i < n; i++) {
			iov[i] = (struct iovec){ soak_buf[i], soak_frame(soak_buf[i], k + i) };
			f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
		}
		ret = netbe_send_burst(s->tx, f, n);
		if (ret == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (ret < 0) {
			s->error = ret;
			break;
		}
		__atomic_add_fetch(&s->consumed, (unsigned)ret, __ATOMIC_RELEASE);
		k += (unsigned)ret;
	}
	return NULL;
}

static unsigned closed_queued;

/* Log hook: remember what a closing pair end said it had queued. */
static void soak_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	const char *p = strstr(msg, "closed with ");

	(void)opaque;
	(void)level;
	if (p)
		sscanf(p, "closed with %u frames queued", &closed_queued);
}

/* Frames a pair end took in: received plus counted drops. */
static uint64_t taken_in(struct netbe *be)
{
	struct netbe_stats st;
	uint64_t sum = 0;
	unsigned i;

	netbe_get_stats(be, &st);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		sum += st.drops[i];
	return st.rx_frames + sum;
}

/* Open the receiving end, taking every offload the sender may send. */
static struct netbe *soak_rx_open(struct netbe_epoll *ep)
{
	struct netbe *rx = NULL;

	if (netbe_open(&rx, "pair:soak,depth=64", NULL, netbe_epoll_loop(ep)) ||
	    netbe_set_cap(rx, NETBE_F_GUEST_CSUM | NETBE_F_GUEST_TSO4, HDR))
		return NULL;
	return rx;
}

/* Receive for @ms milliseconds (0: until nothing is pending). */
static void soak_drain(struct netbe *rx, unsigned ms)
{
	uint64_t end = harness_now_ms() + ms;

	do {
		while (recv_into(rx, BURST, BUF) > 0)
			;
	} while (ms && harness_now_ms() < end);
}

/* Wait (a second at most) until the sender got @n more frames taken. */
static void soak_wait_sent(struct soak *s, uint64_t n)
{
	uint64_t from = __atomic_load_n(&s->consumed, __ATOMIC_ACQUIRE);
	uint64_t end = harness_now_ms() + 1000;

	while (__atomic_load_n(&s->consumed, __ATOMIC_ACQUIRE) - from < n &&
	       harness_now_ms() < end)
		usleep(1000);
}

static void test_pair_soak(void)
{
	struct netbe_epoll *ep = NULL;
	struct soak s = { 0 };
	struct netbe *rx;
	struct netbe_stats st;
	uint64_t handed_in = 0, drops = 0;
	pthread_t t;
	unsigned i;

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(netbe_open(&s.tx, "pair:soak,depth=64", NULL, netbe_epoll_loop(ep)), 0);
	CHECK_EQ(netbe_set_cap(s.tx, NETBE_F_CSUM | NETBE_F_HOST_TSO4, HDR), 0);
	rx = soak_rx_open(ep);
	CHECK(rx != NULL);
	if (!s.tx || !rx)
		return;
	netbe_set_log(soak_log, NULL, NETBE_LOG_INFO);
	CHECK_EQ(pthread_create(&t, NULL, soak_send, &s), 0);
	soak_drain(rx, 200);
	usleep(100 * 1000);                        /* the receiver stalls */
	soak_drain(rx, 100);
	soak_wait_sent(&s, 64);                    /* the queue fills again */
	handed_in += taken_in(rx);
	netbe_close(rx);                           /* gone with frames queued */
	handed_in += closed_queued;
	usleep(50 * 1000);                         /* sends meet no peer */
	rx = soak_rx_open(ep);
	CHECK(rx != NULL);
	soak_drain(rx, 200);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	soak_drain(rx, 0);
	handed_in += taken_in(rx);
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	CHECK_EQ(s.error, 0);
	netbe_get_stats(s.tx, &st);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		drops += st.drops[i];
	printf("# soak: %llu sent, %llu handed on, %llu dropped at the sender (%llu with no peer), %u queued at the close\n",
	       (unsigned long long)s.consumed, (unsigned long long)st.tx_frames,
	       (unsigned long long)drops,
	       (unsigned long long)st.drops[NETBE_DROP_TX_ERROR], closed_queued);
	CHECK_EQ(s.consumed, st.tx_frames + drops);
	CHECK_EQ(st.tx_frames, handed_in);
	CHECK(st.drops[NETBE_DROP_TX_RUNT] > 0 && st.drops[NETBE_DROP_TX_BAD_HDR] > 0);
	CHECK(closed_queued > 0);
	netbe_close(rx);
	netbe_close(s.tx);
	netbe_epoll_free(ep);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_soft_tso_fits_link);
	RUN(test_soft_ufo6_never_grows);
	RUN(test_recv_burst_past_dropped);
	RUN(test_recv_stash_past_dropped);
	RUN(test_pair_soak);
	return harness_done();
}
