/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-dgram.c - the dgram and mcast backends on loopback and unix
 * sockets, without privileges.
 *
 * dgram: spec errors name the key; 100 frames each way between two
 * handles (UDP and unix) arrive exactly once and in order; a datagram from
 * a stranger is dropped and counted (rx_discarded), an oversized one is
 * counted (rx_overflow), never delivered cut short; a unix peer that is not
 * there (no file, or a stale socket: ECONNREFUSED) costs a counted tx
 * error, and the handle works once the peer appears; a stale local path
 * is reclaimed, a live one refused, and the path goes away on close.
 * mcast: three members of one group on 127.0.0.1 each hear the other two
 * and never themselves. Raw sockets play the stranger and the peers that
 * misbehave. Ports come from the kernel (bind to port 0), so concurrent
 * runs do not collide.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "harness.h"
#include "netbe.h"

#define FRAME_LEN 60
#define BIG (65535 + 18)
#define BURST 100

static struct netbe_epoll *ep;
static char tmpdir[64];
static uint8_t rxbuf[64][BIG];

/* Two distinct free UDP ports on 127.0.0.1 (the kernel's pick: both
 * sockets are bound at once, then released). */
static void free_ports(unsigned *pa, unsigned *pb)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s[2] = { socket(AF_INET, SOCK_DGRAM, 0), socket(AF_INET, SOCK_DGRAM, 0) };
	unsigned *port[2] = { pa, pb };
	socklen_t len;
	int i;

	for (i = 0; i < 2; i++) {
		len = sizeof(a);
		a.sin_port = 0;
		*port[i] = 0;
		if (s[i] >= 0 && !bind(s[i], (struct sockaddr *)&a, sizeof(a)) &&
		    !getsockname(s[i], (struct sockaddr *)&a, &len))
			*port[i] = ntohs(a.sin_port);
	}
	close(s[0]);
	close(s[1]);
}

static struct netbe *open_spec(const char *spec)
{
	struct netbe *be = NULL;

	if (netbe_open(&be, spec, NULL, netbe_epoll_loop(ep)))
		printf("# open %s: %s\n", spec, netbe_last_error());
	return be;
}

/* Open the two ends of a UDP pair on fresh ports. */
static void open_udp_pair(struct netbe **a, struct netbe **b)
{
	unsigned pa, pb;
	char sa[128], sb[128];

	free_ports(&pa, &pb);
	snprintf(sa, sizeof(sa), "dgram:local=127.0.0.1:%u,remote=127.0.0.1:%u", pa, pb);
	snprintf(sb, sizeof(sb), "udp:local=127.0.0.1:%u,remote=127.0.0.1:%u", pb, pa);
	*a = open_spec(sa);
	*b = open_spec(sb);
}

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void open_unix_pair(struct netbe **a, struct netbe **b)
{
	char pa[96], pb[96], sa[256], sb[256];

	path_of(pa, sizeof(pa), "a.sock");
	path_of(pb, sizeof(pb), "b.sock");
	snprintf(sa, sizeof(sa), "dgram:local=%s,remote=%s", pa, pb);
	snprintf(sb, sizeof(sb), "dgram:local=%s,remote=%s", pb, pa);
	*a = open_spec(sa);
	*b = open_spec(sb);
}

static void make_frame(uint8_t *f, size_t len, unsigned seq)
{
	memset(f, 0, len);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x07", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, sizeof(seq));
}

static ssize_t send_one(struct netbe *be, unsigned seq)
{
	uint8_t f[FRAME_LEN];
	struct iovec iov = { f, sizeof(f) };

	make_frame(f, sizeof(f), seq);
	return netbe_send(be, &iov, 1);
}

static struct netbe_frame rxfr[64];
static struct iovec rxiov[64];

/* One netbe_recv_burst() of up to @max frames into rxbuf; checks lengths, and sequence numbers
 * from @first + *@got on when @first >= 0. Return: frames received. */
static unsigned recv_some(struct netbe *be, unsigned max, unsigned *got, long first)
{
	unsigned i, seq;
	int r;

	for (i = 0; i < 64; i++) {
		rxiov[i].iov_base = rxbuf[i];
		rxiov[i].iov_len = BIG;
		rxfr[i].iov = &rxiov[i];
		rxfr[i].iovcnt = 1;
	}
	r = netbe_recv_burst(be, rxfr, max < 64 ? max : 64);
	for (i = 0; i < (unsigned)(r > 0 ? r : 0); i++, (*got)++) {
		CHECK_EQ(rxfr[i].result, FRAME_LEN);
		memcpy(&seq, rxbuf[i] + 14, sizeof(seq));
		if (first >= 0)
			CHECK_EQ(seq, (unsigned)first + *got);
	}
	return r > 0 ? (unsigned)r : 0;
}

/* Receive up to @want frames within @ms (see recv_some()).
 * Return: frames received. */
static unsigned recv_frames_within(struct netbe *be, unsigned want, long first,
				   unsigned ms)
{
	uint64_t end = harness_now_ms() + ms;
	unsigned got = 0;

	while (got < want && harness_now_ms() < end)
		if (!recv_some(be, want - got, &got, first))
			netbe_epoll_dispatch(ep, 5);
	return got;
}

static unsigned recv_frames(struct netbe *be, unsigned want, long first)
{
	return recv_frames_within(be, want, first, 2000);
}

/* Whether nothing (more) arrives on @be within 200 ms. */
static bool quiet(struct netbe *be)
{
	return recv_frames_within(be, 1, -1, 200) == 0;
}

/* Send @n numbered frames from @a with netbe_send_burst (up to 64 per
 * call) while @b receives them, within 5 s. Return: frames received. */
static unsigned transfer(struct netbe *a, struct netbe *b, unsigned n)
{
	static uint8_t f[BURST][FRAME_LEN];
	struct netbe_frame fr[BURST];
	struct iovec iov[BURST];
	uint64_t end = harness_now_ms() + 5000;
	unsigned sent = 0, got = 0, i, moved;
	int r;

	for (i = 0; i < n && i < BURST; i++) {
		make_frame(f[i], FRAME_LEN, i);
		iov[i].iov_base = f[i];
		iov[i].iov_len = FRAME_LEN;
		fr[i].iov = &iov[i];
		fr[i].iovcnt = 1;
	}
	while (got < n && harness_now_ms() < end) {
		moved = 0;
		if (sent < n) {
			r = netbe_send_burst(a, fr + sent, n - sent > 64 ? 64 : n - sent);
			if (r > 0) {
				sent += (unsigned)r;
				moved++;
			}
		}
		moved += recv_some(b, 64, &got, 0);
		if (!moved)
			netbe_epoll_dispatch(ep, 2);
	}
	CHECK_EQ(sent, n);
	return got;
}

static void check_burst_both_ways(struct netbe *a, struct netbe *b)
{
	struct netbe_stats sa, sb;

	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK_EQ(transfer(a, b, BURST), BURST);
	CHECK_EQ(transfer(b, a, BURST), BURST);
	CHECK(quiet(a));
	netbe_get_stats(a, &sa);
	netbe_get_stats(b, &sb);
	CHECK_EQ(sa.tx_frames, BURST);
	CHECK_EQ(sa.rx_frames, BURST);
	CHECK_EQ(sb.tx_frames, BURST);
	CHECK_EQ(sb.rx_frames, BURST);
	CHECK_EQ(sa.rx_bytes, BURST * FRAME_LEN);
	CHECK_EQ(sa.drops[NETBE_DROP_TX_ERROR] + sb.drops[NETBE_DROP_TX_ERROR], 0);
}

static void udp_burst_100_each_way(void)
{
	struct netbe *a, *b;

	open_udp_pair(&a, &b);
	check_burst_both_ways(a, b);
	netbe_close(a);
	netbe_close(b);
}

static void unix_burst_100_each_way(void)
{
	struct netbe *a, *b;
	char pa[96];
	struct stat st;

	open_unix_pair(&a, &b);
	check_burst_both_ways(a, b);
	netbe_close(a);
	netbe_close(b);
	path_of(pa, sizeof(pa), "a.sock");
	CHECK(stat(pa, &st) < 0 && errno == ENOENT);
}

static void ipv6_udp_pair(void)
{
	unsigned pa, pb;
	char sa[128], sb[128];
	struct netbe *a, *b;
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool have_v6 = s >= 0 && !bind(s, (struct sockaddr *)&lo, sizeof(lo));

	close(s);
	free_ports(&pa, &pb);
	if (!have_v6) {
		printf("# no IPv6 loopback here; skipping the IPv6 pair\n");
		return;
	}
	snprintf(sa, sizeof(sa), "dgram:local=[::1]:%u,remote=[::1]:%u", pa, pb);
	snprintf(sb, sizeof(sb), "dgram:local=[::1]:%u,remote=[::1]:%u", pb, pa);
	a = open_spec(sa);
	b = open_spec(sb);
	CHECK(a && b);
	if (a && b) {
		CHECK_EQ(send_one(a, 0), FRAME_LEN);
		CHECK_EQ(recv_frames(b, 1, 0), 1);
	}
	netbe_close(a);
	netbe_close(b);
}

/* Open @spec, expect -EINVAL and a message containing @needle. */
static void expect_spec_error(const char *spec, const char *needle)
{
	struct netbe *be = NULL;
	int r = netbe_open(&be, spec, NULL, netbe_epoll_loop(ep));

	CHECK_EQ(r, -EINVAL);
	CHECK(be == NULL);
	if (r != -EINVAL)
		printf("# %s: %d\n", spec, r);
	CHECK_STR_CONTAINS(netbe_last_error(), needle);
	netbe_close(be);
}

static void spec_errors(void)
{
	char spec[256], path[160];

	expect_spec_error("dgram:local=127.0.0.1:5000", "remote=");
	expect_spec_error("dgram:remote=127.0.0.1:5000", "local=");
	expect_spec_error("dgram", "missing");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=300.1.2.3:5001", "300.1.2.3");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=127.0.0.1", "HOST:PORT");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=127.0.0.1:0", "port");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=127.0.0.1:65536", "port");
	expect_spec_error("dgram:local=127.0.0.1:x,remote=127.0.0.1:5001", "port 'x'");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=:5001", "no host");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=::1:5001", "brackets");
	expect_spec_error("dgram:local=[::1:5000,remote=[::1]:5001", "[V6]:PORT");
	expect_spec_error("dgram:local=[::1]:5000,remote=127.0.0.1:5001", "IPv4");
	expect_spec_error("dgram:local=/tmp/x.sock,remote=127.0.0.1:5001", "both");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=230.0.0.1:5001", "mcast:");
	expect_spec_error("dgram:local=127.0.0.1:5000,remote=127.0.0.1:5001,mtu=9000", "mtu");
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(spec, sizeof(spec), "dgram:local=%s,remote=/tmp/y.sock", path);
	expect_spec_error(spec, "at most 107 bytes");
	expect_spec_error("mcast", "group=");
	expect_spec_error("mcast:group=127.0.0.1:6100", "not a multicast");
	expect_spec_error("mcast:group=230.0.0.1:0", "port");
	expect_spec_error("mcast:group=230.0.0.1:6100,local=lo", "IPv4 address");
	expect_spec_error("mcast:group=230.0.0.1:6100,ttl=300", "ttl");
	expect_spec_error("mcast:group=230.0.0.1:6100,loop=maybe", "loop");
	expect_spec_error("mcast:group=[ff02::1]:6100,local=nosuchif0", "interface");
}

/* A raw UDP socket on 127.0.0.1, bound to @port (0: any). */
static int raw_udp(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -1;
	}
	return s;
}

static ssize_t udp_send_to(int s, unsigned port, const void *buf, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	return sendto(s, buf, len, 0, (struct sockaddr *)&a, sizeof(a));
}

static void stranger_dropped_and_counted(void)
{
	unsigned pa, pb;
	int stranger, peer;
	struct netbe_stats st;
	uint8_t f[FRAME_LEN];
	char spec[128];
	struct netbe *a;

	free_ports(&pa, &pb);
	stranger = raw_udp(0);
	peer = raw_udp(pb);
	snprintf(spec, sizeof(spec), "dgram:local=127.0.0.1:%u,remote=127.0.0.1:%u", pa, pb);
	a = open_spec(spec);
	CHECK(a && stranger >= 0 && peer >= 0);
	if (a && stranger >= 0 && peer >= 0) {
		make_frame(f, sizeof(f), 1000);
		CHECK_EQ(udp_send_to(stranger, pa, f, sizeof(f)), sizeof(f));
		make_frame(f, sizeof(f), 7);
		CHECK_EQ(udp_send_to(peer, pa, f, sizeof(f)), sizeof(f));
		CHECK_EQ(recv_frames(a, 1, 7), 1);
		CHECK(quiet(a));
		netbe_get_stats(a, &st);
		CHECK_EQ(st.drops[NETBE_DROP_RX_FOREIGN], 1);
		CHECK_EQ(st.rx_frames, 1);
	}
	netbe_close(a);
	close(stranger);
	close(peer);
}

/* A raw unix datagram socket bound to @path. */
static int raw_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_DGRAM, 0), sz = 1 << 20;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -1;
	}
	return s;
}

static ssize_t unix_send_to(int s, const char *path, const void *buf, size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	return sendto(s, buf, len, 0, (struct sockaddr *)&a, sizeof(a));
}

static void oversized_and_runt_counted(void)
{
	static uint8_t big[70000];
	char pa[96], pb[96], spec[256];
	struct netbe_stats st;
	struct netbe *a;
	int peer;

	path_of(pa, sizeof(pa), "big-a.sock");
	path_of(pb, sizeof(pb), "big-b.sock");
	snprintf(spec, sizeof(spec), "dgram:local=%s,remote=%s", pa, pb);
	a = open_spec(spec);
	peer = raw_unix(pb);
	CHECK(a && peer >= 0);
	if (a && peer >= 0) {
		make_frame(big, sizeof(big), 99);
		CHECK_EQ(unix_send_to(peer, pa, big, sizeof(big)), sizeof(big));
		CHECK_EQ(unix_send_to(peer, pa, big, 5), 5);
		make_frame(big, FRAME_LEN, 3);
		CHECK_EQ(unix_send_to(peer, pa, big, FRAME_LEN), FRAME_LEN);
		CHECK_EQ(recv_frames(a, 1, 3), 1);
		netbe_get_stats(a, &st);
		CHECK_EQ(st.drops[NETBE_DROP_RX_TOO_BIG], 1);
		CHECK_EQ(st.drops[NETBE_DROP_RX_RUNT], 1);
		CHECK_EQ(st.rx_frames, 1);
	}
	netbe_close(a);
	close(peer);
	unlink(pb);
}

static void peer_absent_is_a_tx_error(void)
{
	char pa[96], pb[96], spec[256];
	struct netbe_stats st;
	struct netbe *a;
	int peer;

	path_of(pa, sizeof(pa), "ref-a.sock");
	path_of(pb, sizeof(pb), "ref-b.sock");
	snprintf(spec, sizeof(spec), "dgram:local=%s,remote=%s", pa, pb);
	a = open_spec(spec);
	CHECK(a != NULL);
	if (!a)
		return;
	/* No file at all: ENOENT. */
	CHECK_EQ(send_one(a, 0), FRAME_LEN);
	/* A stale socket file: ECONNREFUSED. */
	peer = raw_unix(pb);
	close(peer);
	CHECK_EQ(send_one(a, 1), FRAME_LEN);
	CHECK_EQ(send_one(a, 2), FRAME_LEN);
	netbe_get_stats(a, &st);
	CHECK_EQ(st.drops[NETBE_DROP_TX_ERROR], 3);
	/* The peer appears: frames flow, the handle never died. */
	peer = raw_unix(pb);
	CHECK_EQ(send_one(a, 3), FRAME_LEN);
	CHECK_EQ(recv(peer, rxbuf[0], BIG, MSG_DONTWAIT), FRAME_LEN);
	make_frame(rxbuf[1], FRAME_LEN, 4);
	CHECK_EQ(unix_send_to(peer, pa, rxbuf[1], FRAME_LEN), FRAME_LEN);
	CHECK_EQ(recv_frames(a, 1, 4), 1);
	netbe_close(a);
	close(peer);
	unlink(pb);
}

static void udp_peer_absent_keeps_going(void)
{
	unsigned pa, pb;
	struct netbe_stats st;
	char spec[128];
	struct netbe *a;
	int peer, i;

	free_ports(&pa, &pb);
	snprintf(spec, sizeof(spec), "dgram:local=127.0.0.1:%u,remote=127.0.0.1:%u", pa, pb);
	a = open_spec(spec);
	CHECK(a != NULL);
	if (!a)
		return;
	for (i = 0; i < 5; i++)
		CHECK_EQ(send_one(a, (unsigned)i), FRAME_LEN);
	CHECK(quiet(a));
	peer = raw_udp(pb);
	CHECK_EQ(send_one(a, 5), FRAME_LEN);
	CHECK_EQ(recv(peer, rxbuf[0], BIG, 0), FRAME_LEN);
	make_frame(rxbuf[1], FRAME_LEN, 6);
	CHECK_EQ(udp_send_to(peer, pa, rxbuf[1], FRAME_LEN), FRAME_LEN);
	CHECK_EQ(recv_frames(a, 1, 6), 1);
	netbe_get_stats(a, &st);
	CHECK_EQ(st.tx_frames, 6);
	netbe_close(a);
	close(peer);
}

static void unix_paths_claimed_and_released(void)
{
	char pa[96], pb[96], spec[256];
	struct netbe *a, *b = NULL;
	struct stat st;
	int fd;

	path_of(pa, sizeof(pa), "claim-a.sock");
	path_of(pb, sizeof(pb), "claim-b.sock");
	snprintf(spec, sizeof(spec), "dgram:local=%s,remote=%s", pa, pb);
	close(raw_unix(pa));                       /* a stale socket file */
	a = open_spec(spec);
	CHECK(a != NULL);
	CHECK_EQ(netbe_open(&b, spec, NULL, netbe_epoll_loop(ep)), -EADDRINUSE);
	CHECK_STR_CONTAINS(netbe_last_error(), "served by a running process");
	netbe_close(a);
	CHECK(stat(pa, &st) < 0 && errno == ENOENT);
	fd = open(pa, O_CREAT | O_WRONLY, 0600);  /* not a socket */
	close(fd);
	CHECK_EQ(netbe_open(&b, spec, NULL, netbe_epoll_loop(ep)), -EEXIST);
	CHECK_STR_CONTAINS(netbe_last_error(), "not a socket");
	CHECK(stat(pa, &st) == 0);
	unlink(pa);
}

static void udp_port_in_use(void)
{
	unsigned pa, pb;
	struct netbe *a = NULL;
	char spec[128];
	int s;

	free_ports(&pa, &pb);
	s = raw_udp(pa);
	snprintf(spec, sizeof(spec), "dgram:local=127.0.0.1:%u,remote=127.0.0.1:%u", pa, pb);
	CHECK_EQ(netbe_open(&a, spec, NULL, netbe_epoll_loop(ep)), -EADDRINUSE);
	CHECK_STR_CONTAINS(netbe_last_error(), "pick another port");
	close(s);
}

static void mcast_three_members(void)
{
	unsigned port, unused, i, j;
	struct netbe *m[3] = { NULL, NULL, NULL };
	struct netbe_stats st;
	char spec[128];

	free_ports(&port, &unused);
	snprintf(spec, sizeof(spec), "mcast:group=239.255.%u.%u:%u,local=127.0.0.1",
		 (unsigned)getpid() % 250, port % 250 + 1, port);
	for (i = 0; i < 3; i++)
		m[i] = open_spec(spec);
	CHECK(m[0] && m[1] && m[2]);
	if (m[0] && m[1] && m[2]) {
		for (i = 0; i < 3; i++)
			CHECK_EQ(send_one(m[i], i), FRAME_LEN);
		for (i = 0; i < 3; i++) {
			bool heard[3] = { false, false, false };
			unsigned seq, got = 0;

			for (j = 0; j < 2; j++) {
				if (recv_frames(m[i], 1, -1) != 1)
					continue;
				got++;
				memcpy(&seq, rxbuf[0] + 14, sizeof(seq));
				if (seq < 3)
					heard[seq] = true;
			}
			CHECK_EQ(got, 2);
			CHECK(quiet(m[i]));
			CHECK(!heard[i]);
			CHECK(heard[(i + 1) % 3] && heard[(i + 2) % 3]);
			netbe_get_stats(m[i], &st);
			CHECK_EQ(st.rx_frames, 2);
			CHECK_EQ(st.tx_frames, 1);
			CHECK_EQ(st.drops[NETBE_DROP_RX_FOREIGN], 0);
		}
	}
	for (i = 0; i < 3; i++)
		netbe_close(m[i]);
}

int main(void)
{
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nbtest-dgram-%d", (int)getpid());
	if (mkdir(tmpdir, 0700) || netbe_epoll_new(&ep)) {
		printf("Bail out! cannot create %s or a loop\n", tmpdir);
		return 1;
	}
	RUN(spec_errors);
	RUN(udp_burst_100_each_way);
	RUN(unix_burst_100_each_way);
	RUN(ipv6_udp_pair);
	RUN(stranger_dropped_and_counted);
	RUN(oversized_and_runt_counted);
	RUN(peer_absent_is_a_tx_error);
	RUN(udp_peer_absent_keeps_going);
	RUN(unix_paths_claimed_and_released);
	RUN(udp_port_in_use);
	RUN(mcast_three_members);
	netbe_epoll_free(ep);
	rmdir(tmpdir);
	return harness_done();
}
