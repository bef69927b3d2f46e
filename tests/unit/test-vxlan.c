/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-vxlan.c - the VXLAN backend: spec errors, handles back to back on
 * loopback (IPv4 and IPv6), header validation with drop counters, MAC
 * learning (known unicast to one VTEP, the rest flooded), aging, and the
 * bounded learning table driven directly through vxlan.h.
 *
 * Every handle binds 127.0.0.1 (or ::1) on ports picked from the PID and
 * retried when taken, so concurrent runs do not collide.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"
#include "netbe.h"
#include "../../src/backends/vxlan.h"

#define VNI 4242
#define FRAME_MAX 65600

static struct netbe_epoll *ep;
static uint8_t rbuf[FRAME_MAX];

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Build a frame dst/src/0x88b5 whose payload carries @tag. Return: @len. */
static size_t make_frame(uint8_t *f, size_t len, const uint8_t *dst,
			 const uint8_t *src, uint8_t tag)
{
	size_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(tag + i);
	return len;
}

static ssize_t send_frame(struct netbe *be, const uint8_t *dst, const uint8_t *src,
			  uint8_t tag, size_t len)
{
	static uint8_t f[FRAME_MAX];
	struct iovec iov = { f, make_frame(f, len, dst, src, tag) };

	return netbe_send(be, &iov, 1);
}

/* Wait up to 2 s for a frame on @be. Return: its length, or <= 0. */
static ssize_t recv_wait(struct netbe *be)
{
	struct iovec iov = { rbuf, sizeof(rbuf) };
	ssize_t r = 0;
	int i;

	for (i = 0; i < 2000; i++) {
		r = netbe_recv(be, &iov, 1);
		if (r != 0)
			return r;
		netbe_epoll_dispatch(ep, 1);
	}
	return r;
}

/* Whether anything arrives on @be within @ms. Return: true if so. */
static bool got_within(struct netbe *be, int ms)
{
	struct iovec iov = { rbuf, sizeof(rbuf) };
	int i;

	for (i = 0; i < ms; i++) {
		if (netbe_recv(be, &iov, 1) > 0)
			return true;
		netbe_epoll_dispatch(ep, 1);
	}
	return false;
}

static int open_spec(struct netbe **be, const char *spec)
{
	return netbe_open(be, spec, NULL, netbe_epoll_loop(ep));
}

/*
 * Open @n handles on @host ("127.0.0.1" or "[::1]"): handle 0 lists handles 1..n-1 as remotes, each
 * other handle lists handle 0. @extra is appended to handle 0's spec.
 * Return: 0, or the errno of the last failed attempt.
 */
static int open_mesh(struct netbe **be, unsigned n, const char *host,
		     const char *extra)
{
	char spec[512];
	unsigned try, i, base;
	size_t len;
	int ret = -1;

	for (try = 0; try < 20; try++) {
		base = 20000 + (unsigned)((getpid() * 7 + try * 101) % 30000);
		len = (size_t)snprintf(spec, sizeof(spec), "vxlan:vni=%d,local=%s:%u%s",
				       VNI, host, base, extra);
		for (i = 1; i < n && len < sizeof(spec); i++)
			len += (size_t)snprintf(spec + len, sizeof(spec) - len,
						",remote=%s:%u", host, base + i);
		ret = open_spec(&be[0], spec);
		for (i = 1; !ret && i < n; i++) {
			snprintf(spec, sizeof(spec), "vxlan:vni=%d,local=%s:%u,remote=%s:%u",
				 VNI, host, base + i, host, base);
			ret = open_spec(&be[i], spec);
		}
		if (!ret)
			return 0;
		for (i = 0; i < n; i++) {
			netbe_close(be[i]);
			be[i] = NULL;
		}
		if (ret != -EADDRINUSE)
			break;
	}
	printf("# open_mesh: %s\n", netbe_last_error());
	return ret;
}

static void close_all(struct netbe **be, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		netbe_close(be[i]);
}

/* Spec errors name the key and say what to do. */
static void test_spec_errors(void)
{
	static const struct { const char *spec; const char *msg; } bad[] = {
		{ "vxlan:local=127.0.0.1,remote=127.0.0.2", "vni= is required" },
		{ "vxlan:vni=16777216,local=127.0.0.1,remote=127.0.0.2", "vni" },
		{ "vxlan:vni=x,local=127.0.0.1,remote=127.0.0.2", "vni" },
		{ "vxlan:vni=1,remote=127.0.0.2", "local= is required" },
		{ "vxlan:vni=1,local=127.0.0.300,remote=127.0.0.2", "local=127.0.0.300" },
		{ "vxlan:vni=1,local=1.2.3,remote=127.0.0.2", "not a numeric address" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=host.example", "remote=host.example" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2:0", "bad port" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2:65536", "bad port" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=[::1", "remote=[::1" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2,group=239.1.1.1", "not both" },
		{ "vxlan:vni=1,local=127.0.0.1", "no peer" },
		{ "vxlan:vni=1,local=127.0.0.1,group=10.0.0.1", "not a multicast" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=239.1.1.1", "use group=" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=::1", "address families" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2,dev=lo", "dev= only applies" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2,port=0", "port" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2,age=0", "age" },
		{ "vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2,bogus=1", "bogus" },
		{ "vxlan:vni=1,local=192.0.2.77,remote=127.0.0.2", "address of this host" },
	};
	struct netbe *be;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = open_spec(&be, bad[i].spec);

		CHECK(ret < 0);
		CHECK(be == NULL);
		if (ret < 0)
			CHECK_STR_CONTAINS(netbe_last_error(), bad[i].msg);
		else
			netbe_close(be);
	}
}

/* Frames of many sizes cross both ways intact; bursts keep their order. */
static void check_back_to_back(struct netbe **be)
{
	static const size_t sizes[] = { 60, 64, 1514, 9014, 65000 };
	static uint8_t want[FRAME_MAX], f[64][128];
	struct netbe_frame fr[64];
	struct iovec iov[64];
	unsigned i, s, got = 0;
	int r;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (i = 0; i < 2; i++) {
			CHECK_EQ(send_frame(be[i], bcast, i ? mac_b : mac_a, (uint8_t)s,
					    sizes[s]), (ssize_t)sizes[s]);
			CHECK_EQ(recv_wait(be[!i]), (ssize_t)sizes[s]);
			make_frame(want, sizes[s], bcast, i ? mac_b : mac_a, (uint8_t)s);
			CHECK(!memcmp(rbuf, want, sizes[s]));
		}
	}
	for (i = 0; i < 64; i++) {
		iov[i].iov_base = f[i];
		iov[i].iov_len = make_frame(f[i], sizeof(f[i]), mac_b, mac_a, (uint8_t)i);
		fr[i].iov = &iov[i];
		fr[i].iovcnt = 1;
	}
	CHECK_EQ(netbe_send_burst(be[0], fr, 64), 64);
	for (i = 0; i < 64; i++) {
		iov[i].iov_base = f[i];
		iov[i].iov_len = sizeof(f[i]);
		memset(f[i], 0, sizeof(f[i]));
	}
	for (i = 0; i < 200 && got < 64; i++) {
		r = netbe_recv_burst(be[1], fr + got, 64 - got);
		if (r > 0)
			got += (unsigned)r;
		else
			netbe_epoll_dispatch(ep, 10);
	}
	CHECK_EQ(got, 64);
	for (i = 0; i < got; i++) {
		make_frame(want, sizeof(f[i]), mac_b, mac_a, (uint8_t)i);
		CHECK_EQ(fr[i].result, (ssize_t)sizeof(f[i]));
		CHECK(!memcmp(f[i], want, sizeof(f[i])));
	}
}

static void test_back_to_back_ipv4(void)
{
	struct netbe *be[2] = { 0 };

	if (open_mesh(be, 2, "127.0.0.1", "") == 0)
		check_back_to_back(be);
	else
		CHECK(0);
	close_all(be, 2);
}

/* Whether ::1 can be bound here (IPv6 may be disabled). */
static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok = fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a));

	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_back_to_back_ipv6(void)
{
	struct netbe *be[2] = { 0 };

	if (open_mesh(be, 2, "[::1]", "") == 0)
		check_back_to_back(be);
	else
		CHECK(0);
	close_all(be, 2);
}

/* Send raw bytes @d as one datagram to @to. Return: 0 or -1. */
static int raw_send(int fd, const struct sockaddr_in *to, const uint8_t *d, size_t len)
{
	return sendto(fd, d, len, 0, (const struct sockaddr *)to, sizeof(*to)) == (ssize_t)len ? 0 : -1;
}

/* Headers with a wrong flag, reserved bits, VNI or length are dropped and
 * counted; a good datagram after them in the same batch still arrives. */
static void test_bad_headers(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t d[8 + 60], good[8 + 60];
	struct netbe_stats st;
	struct netbe *be = NULL;
	unsigned port, try;
	char spec[128];
	int fd, ret = -1;

	for (try = 0; try < 20 && ret; try++) {
		port = 20000 + (unsigned)((getpid() * 13 + try * 211) % 30000);
		snprintf(spec, sizeof(spec), "vxlan:vni=%d,local=127.0.0.1:%u,remote=127.0.0.1:%u",
			 VNI, port, port + 1);
		ret = open_spec(&be, spec);
	}
	CHECK_EQ(ret, 0);
	if (ret)
		return;
	to.sin_port = htons((uint16_t)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fd >= 0);
	vxlan_hdr_build(good, VNI);
	make_frame(good + 8, 60, bcast, mac_x, 1);

	memcpy(d, good, sizeof(d));
	d[0] = 0x00;                                  /* no I flag */
	CHECK_EQ(raw_send(fd, &to, d, sizeof(d)), 0);
	d[0] = 0x0c;                                  /* GPE's P flag */
	CHECK_EQ(raw_send(fd, &to, d, sizeof(d)), 0);
	memcpy(d, good, sizeof(d));
	d[7] = 1;                                     /* reserved byte */
	CHECK_EQ(raw_send(fd, &to, d, sizeof(d)), 0);
	memcpy(d, good, sizeof(d));
	d[6] ^= 1;                                    /* another VNI */
	CHECK_EQ(raw_send(fd, &to, d, sizeof(d)), 0);
	CHECK_EQ(raw_send(fd, &to, good, 8 + 13), 0); /* inner frame too short */
	CHECK_EQ(raw_send(fd, &to, good, 5), 0);      /* not even a header */
	CHECK_EQ(raw_send(fd, &to, good, sizeof(good)), 0);
	usleep(20000);

	CHECK_EQ(recv_wait(be), 60);
	CHECK(!memcmp(rbuf, good + 8, 60));
	netbe_get_stats(be, &st);
	CHECK_EQ(st.drops[NETBE_DROP_RX_BAD_HDR], 6);
	CHECK_EQ(st.rx_frames, 1);
	close(fd);
	netbe_close(be);
}

/*
 * Handle 0 has two remotes (1 and 2). After 1 sends from MAC X, a frame to
 * X goes only to 1; a broadcast goes to both. With age=1, after the entry
 * ages out, a frame to X is flooded again.
 */
static void test_learning_and_aging(void)
{
	struct netbe *be[3] = { 0 };
	struct netbe_stats st;

	if (open_mesh(be, 3, "127.0.0.1", ",age=1")) {
		CHECK(0);
		return;
	}
	/* unknown unicast floods */
	CHECK_EQ(send_frame(be[0], mac_x, mac_a, 1, 60), 60);
	CHECK_EQ(recv_wait(be[1]), 60);
	CHECK_EQ(recv_wait(be[2]), 60);

	CHECK_EQ(send_frame(be[1], mac_a, mac_x, 2, 60), 60);
	CHECK_EQ(recv_wait(be[0]), 60);

	/* known unicast to X: VTEP 1 only; then a broadcast reaches both */
	CHECK_EQ(send_frame(be[0], mac_x, mac_a, 3, 100), 100);
	CHECK_EQ(send_frame(be[0], bcast, mac_a, 4, 200), 200);
	CHECK_EQ(recv_wait(be[1]), 100);
	CHECK_EQ(recv_wait(be[1]), 200);
	CHECK_EQ(recv_wait(be[2]), 200);     /* the first thing 2 sees */
	CHECK(!got_within(be[2], 50));

	/* X moves behind VTEP 2 */
	CHECK_EQ(send_frame(be[2], mac_a, mac_x, 5, 60), 60);
	CHECK_EQ(recv_wait(be[0]), 60);
	CHECK_EQ(send_frame(be[0], mac_x, mac_a, 6, 300), 300);
	CHECK_EQ(recv_wait(be[2]), 300);
	CHECK(!got_within(be[1], 50));

	/* aging: after more than age=1 s without traffic from X, flood again */
	usleep(1300 * 1000);
	CHECK_EQ(send_frame(be[0], mac_x, mac_a, 7, 400), 400);
	CHECK_EQ(recv_wait(be[1]), 400);
	CHECK_EQ(recv_wait(be[2]), 400);

	netbe_get_stats(be[0], &st);
	CHECK_EQ(st.drops[NETBE_DROP_RX_BAD_HDR], 0);
	CHECK_EQ(st.drops[NETBE_DROP_TX_ERROR], 0);
	close_all(be, 3);
}

static union vxlan_addr addr4(uint32_t host, uint16_t port)
{
	union vxlan_addr a;

	memset(&a, 0, sizeof(a));
	a.in.sin_family = AF_INET;
	a.in.sin_addr.s_addr = htonl(host);
	a.in.sin_port = htons(port);
	return a;
}

/* The table never holds more than VXLAN_FDB_MAX MACs; the oldest go first;
 * entries expire after their age. */
static void test_fdb_bounded(void)
{
	static struct vxlan_fdb fdb;
	union vxlan_addr v1 = addr4(0x0a000001, 4789), v2 = addr4(0x0a000002, 4789), out;
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };
	unsigned i;

	vxlan_fdb_init(&fdb, 1000, 12345);
	for (i = 0; i < VXLAN_FDB_MAX + 10; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		CHECK(vxlan_fdb_learn(&fdb, mac, &v1, 1));
	}
	CHECK_EQ(fdb.count, VXLAN_FDB_MAX);
	mac[4] = 0;
	mac[5] = 5;
	CHECK(!vxlan_fdb_lookup(&fdb, mac, 10, &out));   /* evicted: oldest */
	mac[4] = (uint8_t)((VXLAN_FDB_MAX + 9) >> 8);
	mac[5] = (uint8_t)(VXLAN_FDB_MAX + 9);
	CHECK(vxlan_fdb_lookup(&fdb, mac, 10, &out));
	CHECK(vxlan_addr_equal(&out, &v1));
	CHECK(!vxlan_fdb_learn(&fdb, mac, &v1, 20));      /* refresh only */
	CHECK(vxlan_fdb_learn(&fdb, mac, &v2, 20));       /* moved */
	CHECK(vxlan_fdb_lookup(&fdb, mac, 20, &out));
	CHECK(vxlan_addr_equal(&out, &v2));
	CHECK(!vxlan_fdb_learn(&fdb, bcast, &v1, 20));    /* group MACs not learned */
	CHECK_EQ(vxlan_fdb_expire(&fdb, 1001), VXLAN_FDB_MAX - 1);
	CHECK_EQ(fdb.count, 1);
	CHECK(!vxlan_fdb_lookup(&fdb, mac, 1020, &out));  /* lazy expiry */
	CHECK_EQ(fdb.count, 0);
}

/* A learned source maps to the configured remote, by address and port,
 * then by address; else to the source address on the VXLAN port. */
static void test_vtep_resolve(void)
{
	union vxlan_addr r[2] = { addr4(0x0a000001, 4789), addr4(0x0a000001, 5000) };
	union vxlan_addr src = addr4(0x0a000001, 5000), out, want;

	CHECK(vxlan_vtep_resolve(r, 2, &src, 4789, &out));
	CHECK(vxlan_addr_equal(&out, &r[1]));
	src = addr4(0x0a000001, 40000);
	CHECK(vxlan_vtep_resolve(r, 2, &src, 4789, &out));
	CHECK(vxlan_addr_equal(&out, &r[0]));
	src = addr4(0x0a000009, 40000);
	want = addr4(0x0a000009, 4789);
	CHECK(vxlan_vtep_resolve(r, 2, &src, 4789, &out));
	CHECK(vxlan_addr_equal(&out, &want));
	src.sa.sa_family = AF_UNIX;
	CHECK(!vxlan_vtep_resolve(r, 2, &src, 4789, &out));
}

int main(void)
{
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	if (netbe_epoll_new(&ep))
		return 1;
	RUN(test_spec_errors);
	RUN(test_back_to_back_ipv4);
	if (have_ipv6_loopback())
		RUN(test_back_to_back_ipv6);
	else
		SKIP(test_back_to_back_ipv6, "no IPv6 loopback");
	RUN(test_bad_headers);
	RUN(test_learning_and_aging);
	RUN(test_fdb_bounded);
	RUN(test_vtep_resolve);
	netbe_epoll_free(ep);
	return harness_done();
}
