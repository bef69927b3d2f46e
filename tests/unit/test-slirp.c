/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-slirp.c - the slirp backend through the public API, no root needed.
 *
 * Each test opens "slirp" on its own epoll loop and plays the guest: it
 * builds Ethernet/IPv4/UDP/TCP frames by hand (with real checksums, which
 * libslirp verifies), sends them, then dispatches the loop and drains the
 * frames slirp produced until the expected one shows up. Host-side peers
 * are sockets on 127.0.0.1 (the gateway 10.0.2.2 maps to the host's
 * loopback). Waits are bounded in rounds; nothing asserts timing.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "netbe.h"
#include "harness.h"

/* Dispatch rounds of 10 ms while waiting: at most 5 s. */
#define MAX_ROUNDS 500
#define FRAME_MAX 65600
#define GUEST_PORT 40000

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct ctx {
	struct netbe_epoll *ep;
	struct netbe *be;
	unsigned rx_calls;
	/* for on_rx_drain() */
	bool sending;           /* the test is inside netbe_send_burst() */
	bool resend;            /* the callback sends one more ARP request */
	unsigned inline_calls;  /* callbacks that ran inside a send */
	unsigned replies;       /* ARP replies the callback received */
	unsigned depth, max_depth;
	uint8_t buf[FRAME_MAX];
};

typedef bool (*frame_pred)(const uint8_t *f, size_t len, void *arg);

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void on_rx(struct netbe *be, void *opaque)
{
	struct ctx *c = opaque;

	(void)be;
	c->rx_calls++;
}

/* ------------------------------------------------------------------------ */
/* Frame building                                                           */
/* ------------------------------------------------------------------------ */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/** csum_add() - add @len bytes to a ones' complement sum. Return: sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/** csum_fold() - Return: the folded, complemented checksum of @sum. */
static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/** eth() - write an Ethernet header. Return: its length. */
static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, type);
	return 14;
}

/** ipv4() - write an IPv4 header for @l4len bytes of @proto.
 * Return: its length. */
static size_t ipv4(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst,
		   size_t l4len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + l4len));
	put16(p + 4, 1);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	return 20;
}

/** l4_csum() - the TCP/UDP checksum of @seg under the IPv4 header @ip. */
static uint16_t l4_csum(const uint8_t *ip, const uint8_t *seg, size_t len)
{
	uint8_t pseudo[12];

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = ip[9];
	put16(pseudo + 10, (uint16_t)len);
	return csum_fold(csum_add(csum_add(0, pseudo, 12), seg, len));
}

/** udp_frame() - a guest UDP datagram. Return: the frame length. */
static size_t udp_frame(uint8_t *f, const uint8_t *dmac, uint32_t src,
			uint32_t dst, uint16_t sport, uint16_t dport,
			const void *data, size_t dlen)
{
	size_t o = eth(f, dmac, 0x0800);
	uint8_t *ip = f + o, *u = ip + ipv4(ip, 17, src, dst, 8 + dlen);

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + dlen));
	put16(u + 6, 0);
	memcpy(u + 8, data, dlen);
	put16(u + 6, l4_csum(ip, u, 8 + dlen));
	return o + 20 + 8 + dlen;
}

/** tcp_syn() - a guest SYN with an MSS option. Return: the frame length. */
static size_t tcp_syn(uint8_t *f, uint32_t dst, uint16_t sport, uint16_t dport)
{
	size_t o = eth(f, gw_mac, 0x0800);
	uint8_t *ip = f + o, *t = ip + ipv4(ip, 6, ip4("10.0.2.15"), dst, 24);

	memset(t, 0, 24);
	put16(t, sport);
	put16(t + 2, dport);
	put16(t + 4, 0x1234);
	t[12] = 6 << 4;
	t[13] = 0x02;
	put16(t + 14, 65535);
	t[20] = 2;
	t[21] = 4;
	put16(t + 22, 1460);
	put16(t + 16, l4_csum(ip, t, 24));
	return o + 20 + 24;
}

/** arp_request() - who-has @target tell 10.0.2.15. Return: length. */
static size_t arp_request(uint8_t *f, uint32_t target)
{
	size_t o = eth(f, bcast_mac, 0x0806);
	uint8_t *a = f + o;
	uint32_t me = ip4("10.0.2.15");

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, guest_mac, 6);
	memcpy(a + 14, &me, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &target, 4);
	memset(a + 28, 0, 18);
	return o + 46;
}

/**
 * ip4_frag() - one fragment of a guest UDP/IPv4 datagram to 10.0.2.2: @len
 * bytes of @dgram (UDP header included) from byte @off, MF set when
 * @more. Return: the frame length.
 */
static size_t ip4_frag(uint8_t *f, uint16_t id, const uint8_t *dgram,
		       size_t off, size_t len, bool more)
{
	size_t o = eth(f, gw_mac, 0x0800);
	uint8_t *ip = f + o;

	ipv4(ip, 17, ip4("10.0.2.15"), ip4("10.0.2.2"), len);
	put16(ip + 4, id);
	put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	put16(ip + 10, 0);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	memcpy(ip + 20, dgram + off, len);
	return o + 20 + len;
}

/** udp_dgram() - a UDP datagram (header and @dlen bytes of a pattern)
 * from the guest's @sport to the host's @dport. Return: its length. */
static size_t udp_dgram(uint8_t *u, uint16_t sport, uint16_t dport, size_t dlen)
{
	uint8_t ip[20];
	size_t i;

	ipv4(ip, 17, ip4("10.0.2.15"), ip4("10.0.2.2"), 8 + dlen);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + dlen));
	put16(u + 6, 0);
	for (i = 0; i < dlen; i++)
		u[8 + i] = (uint8_t)(i * 7 + 3);
	put16(u + 6, l4_csum(ip, u, 8 + dlen));
	return 8 + dlen;
}

/** dhcp_discover() - a DHCPDISCOVER broadcast. Return: length. */
static size_t dhcp_discover(uint8_t *f)
{
	static const uint8_t magic[4] = { 99, 130, 83, 99 };
	uint8_t b[548];

	memset(b, 0, sizeof(b));
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	memcpy(b + 4, "\x12\x34\x56\x78", 4);
	memcpy(b + 28, guest_mac, 6);
	memcpy(b + 236, magic, 4);
	b[240] = 53;
	b[241] = 1;
	b[242] = 1;
	b[243] = 255;
	return udp_frame(f, bcast_mac, 0, 0xffffffffu, 68, 67, b, sizeof(b));
}

/* ------------------------------------------------------------------------ */
/* Frame matching                                                           */
/* ------------------------------------------------------------------------ */

/** l4_of() - the transport header of an IPv4 frame carrying @proto.
 * Return: it, or NULL when @f is something else. */
static const uint8_t *l4_of(const uint8_t *f, size_t len, uint8_t proto)
{
	size_t ihl;

	if (len < 42 || get16(f + 12) != 0x0800 || f[23] != proto)
		return NULL;
	ihl = (size_t)(f[14] & 0xf) * 4;
	if (ihl < 20 || len < 14 + ihl + (proto == 6 ? 20 : 8))
		return NULL;
	return f + 14 + ihl;
}

static bool is_dhcp_offer(const uint8_t *f, size_t len, void *arg)
{
	const uint8_t *u = l4_of(f, len, 17), *b, *opt, *end = f + len;

	(void)arg;
	if (!u || get16(u) != 67 || get16(u + 2) != 68 ||
	    memcmp(f + 26, (uint8_t[]){ 10, 0, 2, 2 }, 4))
		return false;
	b = u + 8;
	if (b + 244 > end || memcmp(b + 16, (uint8_t[]){ 10, 0, 2, 15 }, 4))
		return false;
	for (opt = b + 240; opt + 2 < end && *opt != 255; opt += 2 + opt[1])
		if (opt[0] == 53)
			return opt[1] == 1 && opt[2] == 2;
	return false;
}

static bool is_arp_reply(const uint8_t *f, size_t len, void *arg)
{
	(void)arg;
	return len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 2 &&
	       !memcmp(f + 28, (uint8_t[]){ 10, 0, 2, 2 }, 4) &&
	       !memcmp(f, guest_mac, 6);
}

/* An rx callback that drains ARP replies, notes whether it ran inside a
 * send and how deeply it was nested, and may send once more itself. */
static void on_rx_drain(struct netbe *be, void *opaque)
{
	struct ctx *c = opaque;
	struct iovec iov = { c->buf, sizeof(c->buf) };
	ssize_t n;

	c->rx_calls++;
	c->inline_calls += c->sending;
	if (++c->depth > c->max_depth)
		c->max_depth = c->depth;
	while ((n = netbe_recv(be, &iov, 1)) > 0)
		c->replies += is_arp_reply(c->buf, (size_t)n, NULL);
	if (c->resend) {
		uint8_t f[64];
		struct iovec req = { f, arp_request(f, ip4("10.0.2.2")) };

		c->resend = false;
		CHECK_EQ(netbe_send(be, &req, 1), req.iov_len);
	}
	c->depth--;
}

/* A TCP segment to the guest: ports and exact flags (SYN/ACK bits). */
struct tcp_match {
	uint16_t sport, dport;
	uint8_t flags;
};

static bool is_tcp(const uint8_t *f, size_t len, void *arg)
{
	const struct tcp_match *m = arg;
	const uint8_t *t = l4_of(f, len, 6);

	return t && (!m->sport || get16(t) == m->sport) &&
	       get16(t + 2) == m->dport && (t[13] & 0x12) == m->flags &&
	       !memcmp(f + 30, (uint8_t[]){ 10, 0, 2, 15 }, 4);
}

static bool is_udp_to_guest(const uint8_t *f, size_t len, void *arg)
{
	const uint8_t *u = l4_of(f, len, 17);

	return u && get16(u + 2) == *(uint16_t *)arg &&
	       len >= (size_t)(u - f) + 8 + 4 && !memcmp(u + 8, "pong", 4);
}

/* ------------------------------------------------------------------------ */
/* Plumbing                                                                 */
/* ------------------------------------------------------------------------ */

/** ctx_open_cfg() - a loop and a slirp handle on it with callback @cb and
 * config @flags. Return: 0 or -errno. */
static int ctx_open_cfg(struct ctx *c, const char *spec, netbe_rx_fn cb,
			unsigned flags)
{
	struct netbe_config cfg = { .rx_cb = cb, .opaque = c, .flags = flags };
	int ret;

	memset(c, 0, sizeof(*c));
	if (netbe_epoll_new(&c->ep))
		return -ENOMEM;
	ret = netbe_open(&c->be, spec, &cfg, netbe_epoll_loop(c->ep));
	if (ret) {
		printf("# open %s: %s\n", spec, netbe_last_error());
		netbe_epoll_free(c->ep);
		c->ep = NULL;
	}
	return ret;
}

/** ctx_open() - a loop and a slirp handle with on_rx(). Return: 0 or -errno. */
static int ctx_open(struct ctx *c, const char *spec)
{
	return ctx_open_cfg(c, spec, on_rx, 0);
}

static void ctx_close(struct ctx *c)
{
	netbe_close(c->be);
	netbe_epoll_free(c->ep);
	c->be = NULL;
	c->ep = NULL;
}

static void send_frame(struct ctx *c, const uint8_t *f, size_t len)
{
	struct iovec iov = { (void *)f, len };

	CHECK_EQ(netbe_send(c->be, &iov, 1), len);
}

/** step() - one dispatch round, then drain the received frames.
 * Return: true when one of them matched @pred. */
static bool step(struct ctx *c, frame_pred pred, void *arg)
{
	struct iovec iov = { c->buf, sizeof(c->buf) };
	bool hit = false;
	ssize_t n;

	netbe_epoll_dispatch(c->ep, 10);
	while ((n = netbe_recv(c->be, &iov, 1)) > 0)
		hit |= pred(c->buf, (size_t)n, arg);
	return hit;
}

/** wait_frame() - dispatch until a frame matches. Return: true if one did. */
static bool wait_frame(struct ctx *c, frame_pred pred, void *arg)
{
	unsigned i;

	for (i = 0; i < MAX_ROUNDS; i++)
		if (step(c, pred, arg))
			return true;
	return false;
}

/** announce() - ARP for the gateway so slirp learns the guest's MAC.
 * Return: true when the reply came. */
static bool announce(struct ctx *c)
{
	uint8_t f[64];

	send_frame(c, f, arp_request(f, ip4("10.0.2.2")));
	return wait_frame(c, is_arp_reply, NULL);
}

/** host_socket() - a socket of @type bound to 127.0.0.1:0, non-blocking.
 * Return: the fd (its port in *@port), or -1. */
static int host_socket(int type, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(fd, 4)) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/** free_port() - Return: a TCP port on 127.0.0.1 that was free just now. */
static uint16_t free_port(void)
{
	uint16_t port = 0;
	int fd = host_socket(SOCK_STREAM, &port);

	if (fd >= 0)
		close(fd);
	return port;
}

/** count_fds() - Return: open fds of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static void test_dhcp_offer(void)
{
	static struct ctx c;
	uint8_t f[700];

	if (ctx_open(&c, "slirp")) {
		CHECK(0);
		return;
	}
	CHECK_EQ(strcmp(netbe_name(c.be), "slirp"), 0);
	send_frame(&c, f, dhcp_discover(f));
	CHECK(wait_frame(&c, is_dhcp_offer, NULL));
	ctx_close(&c);
}

static void test_arp_reply_and_rx_callback(void)
{
	static struct ctx c;

	if (ctx_open(&c, "slirp")) {
		CHECK(0);
		return;
	}
	netbe_rx_enable(c.be);
	CHECK(announce(&c));
	CHECK(c.rx_calls > 0);
	ctx_close(&c);
}

/** send_arp_burst() - send @n ARP requests for the gateway in one burst,
 * marked as "inside a send" for on_rx_drain(). Return: what the burst
 * call returned. */
static int send_arp_burst(struct ctx *c, unsigned n)
{
	static uint8_t f[4][64];
	struct iovec iov[4];
	struct netbe_frame fr[4];
	unsigned i;
	int ret;

	for (i = 0; i < n && i < 4; i++) {
		iov[i] = (struct iovec){ f[i], arp_request(f[i], ip4("10.0.2.2")) };
		fr[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
	}
	c->sending = true;
	ret = netbe_send_burst(c->be, fr, i);
	c->sending = false;
	return ret;
}

/** wait_replies() - dispatch until on_rx_drain() counted @n replies.
 * Return: true if it did. */
static bool wait_replies(struct ctx *c, unsigned n)
{
	unsigned i;

	for (i = 0; i < MAX_ROUNDS && c->replies < n; i++)
		netbe_epoll_dispatch(c->ep, 10);
	return c->replies >= n;
}

/* With NETBE_CFG_RX_INLINE each answer reaches the callback before the
 * next frame of the burst is fed to slirp: one call per request, all of
 * them inside netbe_send_burst(). */
static void test_rx_inline_answers_within_send(void)
{
	static struct ctx c;

	if (ctx_open_cfg(&c, "slirp", on_rx_drain, NETBE_CFG_RX_INLINE)) {
		CHECK(0);
		return;
	}
	netbe_rx_enable(c.be);
	CHECK_EQ(send_arp_burst(&c, 3), 3);
	CHECK_EQ(c.inline_calls, 3);
	CHECK_EQ(c.replies, 3);
	ctx_close(&c);
}

/* Without the flag the callback only comes from the loop. */
static void test_rx_inline_off_waits_for_loop(void)
{
	static struct ctx c;

	if (ctx_open_cfg(&c, "slirp", on_rx_drain, 0)) {
		CHECK(0);
		return;
	}
	netbe_rx_enable(c.be);
	CHECK_EQ(send_arp_burst(&c, 3), 3);
	CHECK_EQ(c.rx_calls, 0);
	CHECK(wait_replies(&c, 3));
	CHECK_EQ(c.inline_calls, 0);
	ctx_close(&c);
}

/* A callback that sends on its own handle is not re-entered: the answer
 * to that nested send comes later, from the loop. */
static void test_rx_inline_not_reentered(void)
{
	static struct ctx c;

	if (ctx_open_cfg(&c, "slirp", on_rx_drain, NETBE_CFG_RX_INLINE)) {
		CHECK(0);
		return;
	}
	netbe_rx_enable(c.be);
	c.resend = true;
	CHECK_EQ(send_arp_burst(&c, 1), 1);
	CHECK_EQ(c.inline_calls, 1);
	CHECK_EQ(c.replies, 1);
	CHECK(wait_replies(&c, 2));
	CHECK_EQ(c.max_depth, 1);
	ctx_close(&c);
}

/* rx_disable holds inline callbacks too; the answers stay queued. */
static void test_rx_inline_respects_rx_disable(void)
{
	static struct ctx c;
	struct iovec iov = { c.buf, sizeof(c.buf) };
	unsigned i;

	if (ctx_open_cfg(&c, "slirp", on_rx_drain, NETBE_CFG_RX_INLINE)) {
		CHECK(0);
		return;
	}
	CHECK_EQ(send_arp_burst(&c, 2), 2);
	CHECK_EQ(c.rx_calls, 0);
	for (i = 0; i < 2; i++) {
		ssize_t n = netbe_recv(c.be, &iov, 1);

		CHECK(n > 0 && is_arp_reply(c.buf, (size_t)n, NULL));
	}
	ctx_close(&c);
}

/* Software offloads are offered by default only at small MTUs, where
 * they save the guest most of its frames; offload=soft still forces them. */
static void test_offloads_by_mtu(void)
{
	static const struct { const char *spec; bool soft; } cases[] = {
		{ "slirp", true },
		{ "slirp,mtu=4000", true },
		{ "slirp,mtu=4001", false },
		{ "slirp,mtu=65520", false },
		{ "slirp,mtu=65520,offload=soft", true },
		{ "slirp,offload=native", false },
	};
	static struct ctx c;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t caps;

		if (ctx_open(&c, cases[i].spec)) {
			CHECK(0);
			continue;
		}
		caps = netbe_get_cap(c.be);
		if (cases[i].soft != !!(caps & NETBE_F_HOST_TSO4))
			printf("# %s: caps 0x%llx\n", cases[i].spec, (unsigned long long)caps);
		CHECK_EQ(!!(caps & NETBE_F_HOST_TSO4), cases[i].soft);
		CHECK_EQ(!!(caps & NETBE_F_CSUM), cases[i].soft);
		ctx_close(&c);
	}
}

static void test_tcp_to_host(void)
{
	static struct ctx c;
	struct tcp_match m = { .dport = GUEST_PORT, .flags = 0x12 };
	uint16_t port = 0;
	int lfd = host_socket(SOCK_STREAM, &port), afd = -1;
	bool synack = false;
	unsigned i;
	uint8_t f[128];

	CHECK(lfd >= 0);
	if (lfd < 0 || ctx_open(&c, "slirp")) {
		CHECK(0);
		goto out;
	}
	CHECK(announce(&c));
	m.sport = port;
	send_frame(&c, f, tcp_syn(f, ip4("10.0.2.2"), GUEST_PORT, port));
	for (i = 0; i < MAX_ROUNDS && (!synack || afd < 0); i++) {
		synack |= step(&c, is_tcp, &m);
		if (afd < 0)
			afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	CHECK(afd >= 0);
	CHECK(synack);
	ctx_close(&c);
out:
	if (afd >= 0)
		close(afd);
	if (lfd >= 0)
		close(lfd);
}

static void test_hostfwd_syn(void)
{
	static struct ctx c;
	struct tcp_match m = { .dport = 80, .flags = 0x02 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint16_t port = free_port();
	char spec[64];
	int fd = -1;

	snprintf(spec, sizeof(spec), "slirp,hostfwd=tcp::%u-:80", port);
	if (!port || ctx_open(&c, spec)) {
		CHECK(0);
		return;
	}
	CHECK(announce(&c));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	CHECK(fd >= 0);
	CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
	CHECK(wait_frame(&c, is_tcp, &m));
	close(fd);
	ctx_close(&c);
}

static void test_udp_round_trip(void)
{
	static struct ctx c;
	uint16_t port = 0, gport = GUEST_PORT + 1;
	int fd = host_socket(SOCK_DGRAM, &port);
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	char got[16];
	ssize_t n = -1;
	unsigned i;
	uint8_t f[128];

	if (fd < 0 || ctx_open(&c, "slirp")) {
		CHECK(0);
		goto out;
	}
	CHECK(announce(&c));
	send_frame(&c, f, udp_frame(f, gw_mac, ip4("10.0.2.15"), ip4("10.0.2.2"),
				    gport, port, "ping", 4));
	for (i = 0; i < MAX_ROUNDS && n < 0; i++) {
		netbe_epoll_dispatch(c.ep, 10);
		n = recvfrom(fd, got, sizeof(got), 0, (struct sockaddr *)&from, &flen);
	}
	CHECK_EQ(n, 4);
	if (n == 4) {
		CHECK(!memcmp(got, "ping", 4));
		CHECK_EQ(sendto(fd, "pong", 4, 0, (struct sockaddr *)&from, flen), 4);
		CHECK(wait_frame(&c, is_udp_to_guest, &gport));
	}
	ctx_close(&c);
out:
	if (fd >= 0)
		close(fd);
}

/** tx_fragment_drops() - Return: the handle's tx_fragment drop count. */
static uint64_t tx_fragment_drops(struct netbe *be)
{
	struct netbe_stats st;

	if (netbe_get_stats(be, &st))
		return UINT64_MAX;
	return st.drops[NETBE_DROP_TX_FRAGMENT];
}

/** tx_sent() - Return: the handle's tx_frames count. */
static uint64_t tx_sent(struct netbe *be)
{
	struct netbe_stats st;

	if (netbe_get_stats(be, &st))
		return UINT64_MAX;
	return st.tx_frames;
}

/*
 * Issue 14, defect 5: a lone IPv4 last fragment (MF=0, offset > 0) to the
 * gateway killed libslirp 4.7.0 (SIGBUS in slirp_input). netbe must keep
 * it from libslirp; a second last fragment with another end then drops
 * the whole datagram, both fragments counted.
 */
static void test_lone_last_fragment(void)
{
	static struct ctx c;
	uint8_t d[64], f[128];
	unsigned i;

	if (ctx_open(&c, "slirp")) {
		CHECK(0);
		return;
	}
	udp_dgram(d, GUEST_PORT + 2, 9, 40);
	send_frame(&c, f, ip4_frag(f, 0x4242, d, 8, 40, false));
	for (i = 0; i < 5; i++)
		step(&c, is_tcp, NULL);
	CHECK_EQ(tx_fragment_drops(c.be), 0);
	CHECK_EQ(tx_sent(c.be), 0);       /* held: neither sent nor dropped */
	send_frame(&c, f, ip4_frag(f, 0x4242, d, 8, 32, false));
	CHECK_EQ(tx_fragment_drops(c.be), 2);
	CHECK_EQ(tx_sent(c.be), 0);       /* each fragment counted once */
	send_frame(&c, f, ip4_frag(f, 0x4243, d, 16, 8, false));
	ctx_close(&c);  /* in flight at close: counted, nothing leaks */
}

/* A UDP datagram the guest fragmented, sent last fragment first, reaches
 * a host socket whole. */
static void test_fragments_reassembled(void)
{
	static struct ctx c;
	static uint8_t d[3008], got[3008], f[1600];
	uint16_t port = 0;
	int fd = host_socket(SOCK_DGRAM, &port);
	ssize_t n = -1;
	size_t dlen;
	unsigned i;

	if (fd < 0 || ctx_open(&c, "slirp")) {
		CHECK(0);
		goto out;
	}
	dlen = udp_dgram(d, GUEST_PORT + 3, port, 3000);
	send_frame(&c, f, ip4_frag(f, 7, d, 2960, dlen - 2960, false));
	send_frame(&c, f, ip4_frag(f, 7, d, 0, 1480, true));
	send_frame(&c, f, ip4_frag(f, 7, d, 1480, 1480, true));
	for (i = 0; i < MAX_ROUNDS && n < 0; i++) {
		netbe_epoll_dispatch(c.ep, 10);
		n = recv(fd, got, sizeof(got), 0);
	}
	CHECK_EQ(n, 3000);
	CHECK(n == 3000 && !memcmp(got, d + 8, 3000));
	CHECK_EQ(tx_fragment_drops(c.be), 0);
	CHECK_EQ(tx_sent(c.be), 3);       /* the three fragments, once each */
	ctx_close(&c);
out:
	if (fd >= 0)
		close(fd);
}

/* A bad spec fails with -EINVAL and a message naming @needle. */
static void check_bad(const char *spec, const char *needle)
{
	struct netbe_epoll *ep = NULL;
	struct netbe *be = NULL;

	if (netbe_epoll_new(&ep)) {
		CHECK(0);
		return;
	}
	CHECK_EQ(netbe_open(&be, spec, NULL, netbe_epoll_loop(ep)), -EINVAL);
	CHECK(be == NULL);
	CHECK_STR_CONTAINS(netbe_last_error(), needle);
	netbe_close(be);
	netbe_epoll_free(ep);
}

static void test_bad_keys(void)
{
	static const char *const bad_fwd[] = {
		"slirp,hostfwd=bogus", "slirp,hostfwd=tcp::22",
		"slirp,hostfwd=sctp::2222-:22", "slirp,hostfwd=tcp::0-:22",
		"slirp,hostfwd=tcp::70000-:22", "slirp,hostfwd=tcp::2222-:",
		"slirp,hostfwd=tcp:1.2.3:2222-:22", "slirp,hostfwd=tcp::+22-:22",
		"slirp,hostfwd=tcp::2222-192.168.1.5:22",
		"slirp,hostfwd=tcp::2222-10.0.2.2:22",
		"slirp,hostfwd=tcp::1-2-:22",
		"slirp,hostfwd=tcp:[::1]:2222-[fd00::2]:22",
		"slirp,hostfwd=tcp:[::1]:2222-[fd00:1::15]:22",
		"slirp,hostfwd=tcp:[::1]:2222-[::]:22",
		"slirp,hostfwd=tcp:[fe80::1%1]:2222-:22",
		"slirp,ipv6=off,hostfwd=tcp:[::1]:2222-[fd00::15]:22",
	};
	unsigned i;

	for (i = 0; i < sizeof(bad_fwd) / sizeof(bad_fwd[0]); i++) {
		check_bad(bad_fwd[i], "hostfwd");
		CHECK_STR_CONTAINS(netbe_last_error(), "tcp|udp:[HOSTADDR]:HOSTPORT");
	}
	check_bad("slirp,mtu=70000", "mtu");
	check_bad("slirp,mtu=67", "mtu");
	check_bad("slirp,restrict=maybe", "restrict");
	check_bad("slirp,ipv6=perhaps", "ipv6");
	check_bad("slirp,bogus=1", "bogus");
	check_bad("slirp:name", "slirp");
}

static void test_good_keys(void)
{
	static struct ctx c;
	uint16_t p1 = free_port(), p2 = free_port();
	char spec[160];

	snprintf(spec, sizeof(spec),
		 "slirp,hostfwd=tcp:127.0.0.1:%u-10.0.2.15:22,hostfwd=udp::%u-:53,"
		 "restrict=on,mtu=65520,ipv6=off", p1, p2);
	CHECK_EQ(ctx_open(&c, spec), 0);
	ctx_close(&c);
	snprintf(spec, sizeof(spec), "slirp,hostfwd=tcp:[::1]:%u-[fd00::15]:22,hostfwd=udp:[::1]:%u-:53",
		 p1, p2);
	CHECK_EQ(ctx_open(&c, spec), 0);
	ctx_close(&c);
}

/* sockaddr @ss set to @addr (IPv4 or IPv6 text) and @port. */
static void set_sa(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
	}
}

/* Return: whether a TCP connect to @addr:@port on the host gets through
 * (to a listener; a refused or failed connect is false). */
static bool host_can_connect(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	int fd, ret;

	set_sa(&ss, addr, port);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ret = connect(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
		      sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	close(fd);
	return ret == 0;
}

/* The hostfwd calls: spec forwards listed, IPv4 and IPv6 forwards added
 * (the host port then accepts), listed, removed (the port then refuses),
 * bad guests and busy ports refused with a message. */
static void test_hostfwd_api(void)
{
	static struct ctx c;
	uint16_t p1 = free_port(), p2 = free_port(), p3 = free_port();
	struct netbe_hostfwd f = { .proto = NETBE_HOSTFWD_TCP }, l[4];
	unsigned id4 = 0, id6 = 0;
	char spec[64];

	snprintf(spec, sizeof(spec), "slirp,hostfwd=tcp::%u-:22", p1);
	if (ctx_open(&c, spec)) {
		CHECK(0);
		return;
	}
	CHECK_EQ(netbe_hostfwd_list(c.be, l, 4), 1);
	CHECK_EQ(l[0].id, 1);
	set_sa(&f.host, "127.0.0.1", p2);
	set_sa(&f.guest, "0.0.0.0", 80);
	CHECK_EQ(netbe_hostfwd_add(c.be, &f, &id4), 0);
	CHECK_EQ(id4, 2);
	CHECK(host_can_connect("127.0.0.1", p2));
	set_sa(&f.host, "::1", p3);
	set_sa(&f.guest, "fd00::15", 80);
	CHECK_EQ(netbe_hostfwd_add(c.be, &f, &id6), 0);
	CHECK_EQ(id6, 3);
	CHECK(host_can_connect("::1", p3));
	CHECK_EQ(netbe_hostfwd_list(c.be, l, 4), 3);
	CHECK_EQ(netbe_hostfwd_list(c.be, l, 1), 3);
	CHECK_EQ(netbe_hostfwd_list(c.be, NULL, 0), 3);
	CHECK_EQ(l[0].id, 1);
	CHECK_EQ(netbe_hostfwd_list(c.be, l, 4), 3);
	CHECK_EQ(l[1].guest.ss_family, AF_INET);
	CHECK_EQ(((struct sockaddr_in *)&l[1].guest)->sin_addr.s_addr, inet_addr("10.0.2.15"));
	CHECK_EQ(l[2].host.ss_family, AF_INET6);
	CHECK_EQ(netbe_hostfwd_add(c.be, &f, NULL), -EADDRINUSE);
	CHECK_STR_CONTAINS(netbe_last_error(), "cannot listen on tcp [::1]");
	CHECK_EQ(netbe_hostfwd_remove(c.be, id6), 0);
	CHECK(!host_can_connect("::1", p3));
	CHECK_EQ(netbe_hostfwd_remove(c.be, id6), -ENOENT);
	CHECK_EQ(netbe_hostfwd_remove(c.be, id4), 0);
	CHECK(!host_can_connect("127.0.0.1", p2));
	CHECK_EQ(netbe_hostfwd_list(c.be, l, 4), 1);
	set_sa(&f.guest, "fd00::3", 80);
	CHECK_EQ(netbe_hostfwd_add(c.be, &f, NULL), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "DNS");
	set_sa(&f.guest, "10.0.3.15", 80);
	CHECK_EQ(netbe_hostfwd_add(c.be, &f, NULL), -EINVAL);
	set_sa(&f.guest, "10.0.2.15", 0);
	CHECK_EQ(netbe_hostfwd_add(c.be, &f, NULL), -EINVAL);
	f.proto = (enum netbe_hostfwd_proto)7;
	set_sa(&f.guest, "10.0.2.15", 80);
	CHECK_EQ(netbe_hostfwd_add(c.be, &f, NULL), -EINVAL);
	CHECK_EQ(netbe_hostfwd_add(c.be, NULL, NULL), -EINVAL);
	CHECK_EQ(netbe_hostfwd_list(c.be, NULL, 2), -EINVAL);
	CHECK_EQ(netbe_hostfwd_remove(NULL, 1), -EINVAL);
	ctx_close(&c);
}

/* Backends without a user-mode stack answer -EOPNOTSUPP, saying why. */
static void test_hostfwd_unsupported(void)
{
	struct netbe_epoll *ep = NULL;
	struct netbe *be = NULL;
	struct netbe_hostfwd f;

	if (netbe_epoll_new(&ep) || netbe_open(&be, "null", NULL, netbe_epoll_loop(ep))) {
		CHECK(0);
		netbe_epoll_free(ep);
		return;
	}
	memset(&f, 0, sizeof(f));
	CHECK_EQ(netbe_hostfwd_add(be, &f, NULL), -EOPNOTSUPP);
	CHECK_STR_CONTAINS(netbe_last_error(), "slirp");
	CHECK_EQ(netbe_hostfwd_remove(be, 1), -EOPNOTSUPP);
	CHECK_EQ(netbe_hostfwd_list(be, NULL, 0), -EOPNOTSUPP);
	netbe_close(be);
	netbe_epoll_free(ep);
}

static void test_hostfwd_port_in_use(void)
{
	uint16_t port = 0;
	int fd = host_socket(SOCK_STREAM, &port);
	struct netbe_epoll *ep = NULL;
	struct netbe *be = NULL;
	char spec[64];

	snprintf(spec, sizeof(spec), "slirp,hostfwd=tcp::%u-:22", port);
	if (fd < 0 || netbe_epoll_new(&ep)) {
		CHECK(0);
		goto out;
	}
	CHECK(netbe_open(&be, spec, NULL, netbe_epoll_loop(ep)) < 0);
	CHECK_STR_CONTAINS(netbe_last_error(), "hostfwd");
	netbe_epoll_free(ep);
out:
	if (fd >= 0)
		close(fd);
}

static void test_open_close_many(void)
{
	static struct ctx c;
	int before = count_fds();
	char spec[64];
	unsigned i;

	for (i = 0; i < 100; i++) {
		snprintf(spec, sizeof(spec), "slirp,hostfwd=tcp::%u-:22", free_port());
		if (ctx_open(&c, spec)) {
			CHECK(0);
			break;
		}
		netbe_epoll_dispatch(c.ep, 0);
		ctx_close(&c);
	}
	CHECK_EQ(count_fds(), before);
}

int main(void)
{
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
	RUN(test_dhcp_offer);
	RUN(test_arp_reply_and_rx_callback);
	RUN(test_rx_inline_answers_within_send);
	RUN(test_rx_inline_off_waits_for_loop);
	RUN(test_rx_inline_not_reentered);
	RUN(test_rx_inline_respects_rx_disable);
	RUN(test_offloads_by_mtu);
	RUN(test_tcp_to_host);
	RUN(test_hostfwd_syn);
	RUN(test_udp_round_trip);
	RUN(test_lone_last_fragment);
	RUN(test_fragments_reassembled);
	RUN(test_bad_keys);
	RUN(test_good_keys);
	RUN(test_hostfwd_api);
	RUN(test_hostfwd_unsupported);
	RUN(test_hostfwd_port_in_use);
	RUN(test_open_close_many);
	return harness_done();
}
