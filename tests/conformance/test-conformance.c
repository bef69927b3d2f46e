/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-conformance.c - the contract of include/netbe.h, checked the same
 * way against every backend that can run here.
 *
 * Each backend case knows how to open a handle and how to make one frame
 * pending on it (pair: the other end sends; slirp: an ARP request that
 * slirp answers; tap: a frame sent by the kernel through an AF_PACKET
 * socket on the tap). The checks then use only the public API: empty recv
 * is 0, peek equals the next recv, short buffers give -EMSGSIZE and keep
 * the frame, rx_disable silences the callback until rx_enable, a refused
 * send is -EAGAIN and loses nothing, close(NULL) is a no-op and a closed
 * backend opens again, counters add up.
 * The tap case runs as root in a private network namespace (unshare), so
 * nothing outside the test process sees it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "netbe.h"

#define HDR 12
#define BIG (HDR + 65535 + 18)

struct conf;

struct backend_case {
	const char *name;
	const char *spec;
	bool needs_root;
	bool receives;             /* false: the backend never has frames */
	bool back_pressure;        /* true: sends can be refused (-EAGAIN) */
	int (*setup)(struct conf *c);
	int (*inject)(struct conf *c);
	void (*teardown)(struct conf *c);
	const char *(*unavailable)(void);  /* why it cannot run here, or NULL */
};

struct conf {
	const struct backend_case *bc;
	struct netbe_epoll *ep;
	struct netbe *be, *peer;
	int pkt_fd;
	int rx_calls, tx_calls;
	bool take_one;             /* on_rx receives one frame per call */
	int taken;                 /* frames on_rx received */
	uint8_t buf[BIG];
};

static void on_rx(struct netbe *be, void *opaque)
{
	struct conf *c = opaque;
	struct iovec iov = { c->buf, sizeof(c->buf) };

	c->rx_calls++;
	if (c->take_one && netbe_recv(be, &iov, 1) > 0)
		c->taken++;
}

static void on_tx(struct netbe *be, void *opaque)
{
	(void)be;
	((struct conf *)opaque)->tx_calls++;
}

/* Dispatch the loop for @ms milliseconds at most, until @done(c). */
static bool dispatch_until(struct conf *c, int ms, bool (*done)(struct conf *))
{
	uint64_t end = harness_now_ms() + (uint64_t)ms;

	while (!(done && done(c)) && harness_now_ms() < end)
		netbe_epoll_dispatch(c->ep, 10);
	return done && done(c);
}

static bool frame_pending(struct conf *c)
{
	return netbe_peek_recvlen(c->be) > 0;
}

static bool rx_called(struct conf *c)
{
	return c->rx_calls > 0;
}

/* An Ethernet frame (broadcast, local experimental ethertype) of @len. */
static size_t test_frame(uint8_t *f, size_t len)
{
	memset(f, 0, len);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	return len;
}

static int open_handle(struct conf *c, struct netbe **be, const char *spec)
{
	struct netbe_config cfg = { .rx_cb = on_rx, .tx_cb = on_tx, .opaque = c };
	int ret = netbe_open(be, spec, &cfg, netbe_epoll_loop(c->ep));

	if (ret)
		return ret;
	return netbe_set_cap(*be, 0, HDR);
}

/* pair: the peer end sends. */
static int pair_setup(struct conf *c)
{
	int ret = open_handle(c, &c->be, c->bc->spec);

	return ret ? ret : open_handle(c, &c->peer, c->bc->spec);
}

static int pair_inject(struct conf *c)
{
	uint8_t f[HDR + 60];
	struct iovec iov = { f, sizeof(f) };

	test_frame(f + HDR, 60);
	memset(f, 0, HDR);
	return netbe_send(c->peer, &iov, 1) == (ssize_t)sizeof(f) ? 0 : -1;
}

static int null_setup(struct conf *c)
{
	return open_handle(c, &c->be, c->bc->spec);
}

#if NETBE_HAVE_SLIRP
/* slirp: an ARP request for the gateway makes slirp queue a reply. */
static int slirp_inject(struct conf *c)
{
	static const uint8_t arp[] = {
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
		0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
	};
	uint8_t f[HDR + 60];
	struct iovec iov = { f, sizeof(f) };

	memset(f, 0, sizeof(f));
	memset(f + HDR, 0xff, 6);
	memcpy(f + HDR + 6, arp + 8, 6);
	f[HDR + 12] = 0x08;
	f[HDR + 13] = 0x06;
	memcpy(f + HDR + 14, arp, sizeof(arp));
	return netbe_send(c->be, &iov, 1) == (ssize_t)sizeof(f) ? 0 : -1;
}
#endif

/* tap: in a private namespace, the kernel sends through a packet socket. */
static int tap_setup(struct conf *c)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	char ifname[IFNAMSIZ] = "";
	int ret = open_handle(c, &c->be, c->bc->spec);

	if (ret)
		return ret;
	/* the interface is the spec's NAME: "tap:NAME[,keys]" */
	sscanf(c->bc->spec, "tap:%15[^,]", ifname);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	c->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (c->pkt_fd < 0 || !sll.sll_ifindex ||
	    bind(c->pkt_fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return 0;
}

static int tap_inject(struct conf *c)
{
	uint8_t f[60];

	test_frame(f, sizeof(f));
	return send(c->pkt_fd, f, sizeof(f), 0) == (ssize_t)sizeof(f) ? 0 : -errno;
}

/* vxlan: loopback must be up (as root the test runs in a fresh namespace,
 * where it starts down). Return: 0 or -errno. */
static int vxlan_loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(fd);
	return ret;
}

/* vxlan: two handles back to back on loopback, on ports picked from the
 * PID (retried when taken); the peer end sends (pair_inject). */
static int vxlan_setup(struct conf *c)
{
	char a[128], b[128];
	unsigned try, port;
	int ret = vxlan_loopback_up();

	for (try = 0; !ret && try < 20; try++) {
		port = 20000 + (unsigned)((getpid() * 17 + try * 307) % 30000);
		snprintf(a, sizeof(a), "vxlan:vni=7,local=127.0.0.1:%u,remote=127.0.0.1:%u",
			 port, port + 1);
		snprintf(b, sizeof(b), "vxlan:vni=7,local=127.0.0.1:%u,remote=127.0.0.1:%u",
			 port + 1, port);
		ret = open_handle(c, &c->be, a);
		if (!ret)
			ret = open_handle(c, &c->peer, b);
		if (ret != -EADDRINUSE)
			return ret;
		netbe_close(c->be);
		netbe_close(c->peer);
		c->be = c->peer = NULL;
		ret = 0;
	}
	return ret ? ret : -EADDRINUSE;
}

/* dgram/mcast: two UDP ports on 127.0.0.1 the kernel picked (both bound
 * at once so they differ), released for the handles to take.
 * Return: 0 or -errno. */
static int dgram_free_ports(unsigned *pa, unsigned *pb)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s[2] = { socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0),
		     socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) };
	unsigned *port[2] = { pa, pb };
	socklen_t len;
	int i, ret = 0;

	for (i = 0; i < 2; i++) {
		len = sizeof(a);
		a.sin_port = 0;
		if (s[i] < 0 || bind(s[i], (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(s[i], (struct sockaddr *)&a, &len))
			ret = -errno;
		*port[i] = ntohs(a.sin_port);
	}
	close(s[0]);
	close(s[1]);
	return ret;
}

/* dgram over UDP: two handles back to back on loopback; the peer end
 * sends (pair_inject). */
static int dgram_udp_setup(struct conf *c)
{
	char a[128], b[128];
	unsigned pa, pb;
	int ret = vxlan_loopback_up();

	if (!ret)
		ret = dgram_free_ports(&pa, &pb);
	if (ret)
		return ret;
	snprintf(a, sizeof(a), "dgram:local=127.0.0.1:%u,remote=127.0.0.1:%u", pa, pb);
	snprintf(b, sizeof(b), "dgram:local=127.0.0.1:%u,remote=127.0.0.1:%u", pb, pa);
	ret = open_handle(c, &c->be, a);
	return ret ? ret : open_handle(c, &c->peer, b);
}

static char dgram_dir[64];

static void dgram_dir_remove(void)
{
	rmdir(dgram_dir);
}

/* dgram over unix datagram sockets in a private temporary directory
 * (removed at exit; the backend unlinks its sockets on close). */
static int dgram_unix_setup(struct conf *c)
{
	char a[256], b[256];
	int ret;

	if (!dgram_dir[0]) {
		snprintf(dgram_dir, sizeof(dgram_dir), "/tmp/nbconf-dgram-XXXXXX");
		if (!mkdtemp(dgram_dir)) {
			dgram_dir[0] = '\0';
			return -errno;
		}
		atexit(dgram_dir_remove);
	}
	snprintf(a, sizeof(a), "dgram:local=%s/a.sock,remote=%s/b.sock", dgram_dir, dgram_dir);
	snprintf(b, sizeof(b), "dgram:local=%s/b.sock,remote=%s/a.sock", dgram_dir, dgram_dir);
	ret = open_handle(c, &c->be, a);
	return ret ? ret : open_handle(c, &c->peer, b);
}

/* mcast: two members of a group on loopback (port from the kernel); the
 * other member sends (pair_inject); own echoes never show up. */
static int mcast_setup(struct conf *c)
{
	char spec[128];
	unsigned port, unused;
	int ret = vxlan_loopback_up();

	if (!ret)
		ret = dgram_free_ports(&port, &unused);
	if (ret)
		return ret;
	snprintf(spec, sizeof(spec), "mcast:group=239.255.%u.%u:%u,local=127.0.0.1",
		 (unsigned)getpid() % 250, port % 250 + 1, port);
	ret = open_handle(c, &c->be, spec);
	return ret ? ret : open_handle(c, &c->peer, spec);
}

static bool stream_peer_up(struct conf *c)
{
	return netbe_link_is_up(c->peer) == 1 && netbe_link_is_up(c->be) == 1;
}

/* stream: a listen handle (the peer) and a connect handle back to back on
 * @addr; up once the listener accepted. Return: 0 or -errno. */
static int stream_pair_open(struct conf *c, const char *addr)
{
	char spec[160];
	int ret;

	snprintf(spec, sizeof(spec), "stream:listen=%s", addr);
	ret = open_handle(c, &c->peer, spec);
	if (ret)
		return ret;
	snprintf(spec, sizeof(spec), "stream:connect=%s", addr);
	ret = open_handle(c, &c->be, spec);
	if (!ret && !dispatch_until(c, 2000, stream_peer_up))
		ret = -ETIMEDOUT;
	return ret;
}

/* stream over TCP on 127.0.0.1, on a port the kernel found free (retried
 * when someone takes it in between). */
static int stream_tcp_setup(struct conf *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	char addr[64];
	unsigned try;
	int ret = vxlan_loopback_up(), fd;

	for (try = 0; !ret && try < 20; try++) {
		sin.sin_port = 0;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    getsockname(fd, (struct sockaddr *)&sin, &sl))
			ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret)
			return ret;
		snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
		ret = stream_pair_open(c, addr);
		if (ret != -EADDRINUSE)
			return ret;
		netbe_close(c->be);
		netbe_close(c->peer);
		c->be = c->peer = NULL;
		ret = 0;
	}
	return ret ? ret : -EADDRINUSE;
}

/* stream over a unix socket in a fresh temporary directory, removed as
 * soon as the two ends are connected (the path is not needed after). */
static int stream_unix_setup(struct conf *c)
{
	char dir[64] = "/tmp/netbe-conf-XXXXXX", path[96];
	int ret;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	ret = stream_pair_open(c, path);
	unlink(path);
	rmdir(dir);
	return ret;
}

#if NETBE_HAVE_VDE
/* vde: one vde_switch for the whole run, started in a temporary directory
 * as a child whose stdin is a pipe we hold (it exits when its stdin
 * closes, so it cannot outlive the test), stopped at exit by PID. */
static struct {
	pid_t pid;
	int stdin_fd;
	char dir[64], sw[96];
} vsw = { .pid = -1, .stdin_fd = -1 };

static void vde_switch_stop(void)
{
	char path[160];

	if (vsw.pid > 0) {
		kill(vsw.pid, SIGTERM);
		waitpid(vsw.pid, NULL, 0);
	}
	if (vsw.stdin_fd >= 0)
		close(vsw.stdin_fd);
	snprintf(path, sizeof(path), "rm -rf '%s'", vsw.dir);
	if (vsw.dir[0] && system(path))
		printf("# could not remove %s\n", vsw.dir);
}

static const char *vde_switch_missing(void)
{
	return system("command -v vde_switch >/dev/null 2>&1") ?
	       "vde_switch not installed (apt-get install vde2)" : NULL;
}

/* Start the switch once. Return: 0 or -errno. */
static int vde_switch_start(void)
{
	char ctl[128];
	struct stat st;
	int pfd[2], i;

	if (vsw.pid > 0)
		return 0;
	snprintf(vsw.dir, sizeof(vsw.dir), "/tmp/nbconf-vde-XXXXXX");
	if (!mkdtemp(vsw.dir) || pipe2(pfd, O_CLOEXEC))
		return -errno;
	snprintf(vsw.sw, sizeof(vsw.sw), "%s/sw", vsw.dir);
	atexit(vde_switch_stop);
	vsw.pid = fork();
	if (vsw.pid == 0) {
		dup2(pfd[0], 0);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("vde_switch", "vde_switch", "-s", vsw.sw, (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	vsw.stdin_fd = pfd[1];
	if (vsw.pid < 0)
		return -errno;
	snprintf(ctl, sizeof(ctl), "%s/ctl", vsw.sw);
	for (i = 0; i < 300 && stat(ctl, &st); i++)
		usleep(10000);
	return stat(ctl, &st) ? -ENOENT : 0;
}

/* vde: two ports on the switch; the peer end sends (pair_inject), the
 * switch floods its broadcast to the handle under test. */
static int vde_setup(struct conf *c)
{
	char spec[160];
	int ret = vde_switch_start();

	if (ret)
		return ret;
	snprintf(spec, sizeof(spec), "vde:%s,descr=conformance", vsw.sw);
	ret = open_handle(c, &c->be, spec);
	return ret ? ret : open_handle(c, &c->peer, spec);
}
#endif

static void teardown(struct conf *c)
{
	netbe_close(c->be);
	netbe_close(c->peer);
	if (c->pkt_fd >= 0)
		close(c->pkt_fd);
	netbe_epoll_free(c->ep);
}

#if NETBE_HAVE_AF_XDP
/* af_xdp: a veth pair made in the private namespace (the previous check's
 * pair deleted first; the last one goes with the namespace at exit); the
 * handle takes one end, a packet socket on the other end sends
 * (tap_inject). */
static int af_xdp_setup(struct conf *c)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int ret;

	if (system("ip link del nbcxdp0 2>/dev/null; "
		   "ip link add nbcxdp0 type veth peer name nbcxdp1 && "
		   "ip link set nbcxdp0 up && ip link set nbcxdp1 up")) {
		printf("# af_xdp: cannot create the veth pair nbcxdp0/nbcxdp1 with ip(8)\n");
		return -ENODEV;
	}
	ret = open_handle(c, &c->be, c->bc->spec);
	if (ret)
		return ret;
	sll.sll_ifindex = (int)if_nametoindex("nbcxdp1");
	c->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (c->pkt_fd < 0 || !sll.sll_ifindex ||
	    bind(c->pkt_fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return 0;
}
#endif

/* af_packet: a veth pair made in the private namespace (the previous
 * check's pair deleted first; the last one goes with the namespace at
 * exit); the handle takes one end, a packet socket on the other end sends
 * (tap_inject). */
static int af_packet_setup(struct conf *c)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int ret;

	if (system("ip link del nbcafp0 2>/dev/null; "
		   "ip link add nbcafp0 type veth peer name nbcafp1 && "
		   "ip link set nbcafp0 up && ip link set nbcafp1 up")) {
		printf("# af_packet: cannot create the veth pair nbcafp0/nbcafp1 with ip(8)\n");
		return -ENODEV;
	}
	ret = open_handle(c, &c->be, c->bc->spec);
	if (ret)
		return ret;
	sll.sll_ifindex = (int)if_nametoindex("nbcafp1");
	c->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (c->pkt_fd < 0 || !sll.sll_ifindex ||
	    bind(c->pkt_fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return 0;
}

static const struct backend_case cases[] = {
	{ "pair", "pair:conf,depth=8", false, true, true, pair_setup, pair_inject, teardown },
	{ "null", "null", false, false, false, null_setup, NULL, teardown },
#if NETBE_HAVE_SLIRP
	{ "slirp", "slirp", false, true, false, null_setup, slirp_inject, teardown },
#endif
	{ "tap", "tap:nbconf0", true, true, false, tap_setup, tap_inject, teardown },
	{ "tap-multiqueue", "tap:nbconfmq,queues=4", true, true, false, tap_setup, tap_inject, teardown },
	{ "vxlan", "vxlan (ports chosen in setup)", false, true, false, vxlan_setup, pair_inject, teardown },
	{ "stream-tcp", "stream (listen and connect on 127.0.0.1)", false, true, false, stream_tcp_setup, pair_inject, teardown },
	{ "stream-unix", "stream (listen and connect on a unix path)", false, true, true, stream_unix_setup, pair_inject, teardown },
	{ "dgram-udp", "dgram (ports chosen in setup)", false, true, false, dgram_udp_setup, pair_inject, teardown },
	{ "dgram-unix", "dgram (paths chosen in setup)", false, true, true, dgram_unix_setup, pair_inject, teardown },
	{ "mcast", "mcast (group chosen in setup)", false, true, false, mcast_setup, pair_inject, teardown },
#if NETBE_HAVE_VDE
	{ "vde", "vde (a vde_switch started by the test)", false, true, false, vde_setup, pair_inject, teardown,
	  vde_switch_missing },
#endif
	{ "af_packet", "af_packet:nbcafp0", true, true, false, af_packet_setup, tap_inject, teardown },
	{ "af_packet-plain", "af_packet:nbcafp0,vnet_hdr=off,promisc=off", true, true, false, af_packet_setup, tap_inject, teardown },
#if NETBE_HAVE_AF_XDP
	{ "af_xdp", "af_xdp:nbcxdp0", true, true, false, af_xdp_setup, tap_inject, teardown },
	{ "af_xdp-skb", "af_xdp:nbcxdp0,mode=skb", true, true, false, af_xdp_setup, tap_inject, teardown },
	{ "af_xdp-busy", "af_xdp:nbcxdp0,busy_poll=20", true, true, false, af_xdp_setup, tap_inject, teardown },
#endif
};

static struct conf *conf_open(const struct backend_case *bc)
{
	static struct conf c;

	memset(&c, 0, sizeof(c));
	c.bc = bc;
	c.pkt_fd = -1;
	if (netbe_epoll_new(&c.ep) || bc->setup(&c)) {
		printf("# %s: setup failed: %s\n", bc->name, netbe_last_error());
		teardown(&c);
		return NULL;
	}
	return &c;
}

static ssize_t recv_big(struct conf *c)
{
	struct iovec iov = { c->buf, sizeof(c->buf) };

	return netbe_recv(c->be, &iov, 1);
}

/* Receive until nothing is left (bounded). Return: frames drained. */
static int drain(struct conf *c)
{
	int n = 0;

	while (n < 1000 && recv_big(c) > 0)
		n++;
	return n;
}

/* Inject one frame and wait until it is pending. */
static bool inject_and_wait(struct conf *c)
{
	if (c->bc->inject(c)) {
		printf("# %s: inject failed\n", c->bc->name);
		return false;
	}
	return dispatch_until(c, 2000, frame_pending);
}

static void check_empty_recv(struct conf *c)
{
	drain(c);
	CHECK_EQ(recv_big(c), 0);
	CHECK_EQ(netbe_peek_recvlen(c->be), 0);
}

static void check_peek_equals_recv(struct conf *c)
{
	ssize_t len;

	drain(c);
	CHECK(inject_and_wait(c));
	len = netbe_peek_recvlen(c->be);
	CHECK(len > HDR);
	CHECK_EQ(netbe_peek_recvlen(c->be), len);
	CHECK_EQ(recv_big(c), len);
}

static void check_short_buffers(struct conf *c)
{
	uint8_t small[HDR + 8];
	struct iovec iov[2] = { { small, 5 }, { small + 5, sizeof(small) - 5 } };
	ssize_t len;

	drain(c);
	CHECK(inject_and_wait(c));
	len = netbe_peek_recvlen(c->be);
	CHECK_EQ(netbe_recv(c->be, iov, 2), -EMSGSIZE);
	CHECK_EQ(netbe_recv(c->be, iov, 1), -EMSGSIZE);
	CHECK_EQ(netbe_peek_recvlen(c->be), len);
	CHECK_EQ(recv_big(c), len);
}

static void check_rx_disable(struct conf *c)
{
	drain(c);
	netbe_rx_enable(c->be);
	c->rx_calls = 0;
	CHECK(inject_and_wait(c));
	CHECK(dispatch_until(c, 2000, rx_called));
	drain(c);
	netbe_rx_disable(c->be);
	dispatch_until(c, 50, NULL);
	c->rx_calls = 0;
	CHECK(inject_and_wait(c));
	dispatch_until(c, 200, NULL);
	CHECK_EQ(c->rx_calls, 0);
	netbe_rx_enable(c->be);
	CHECK(dispatch_until(c, 2000, rx_called));
	CHECK(recv_big(c) > 0);
	netbe_rx_disable(c->be);
}

static bool took_three(struct conf *c)
{
	return c->taken >= 3;
}

/* An rx callback that takes one frame per call is called again while
 * frames are left, however they were announced. */
static void check_rx_until_drained(struct conf *c)
{
	int i;

	drain(c);
	for (i = 0; i < 3; i++)
		CHECK_EQ(c->bc->inject(c), 0);
	c->taken = 0;
	c->take_one = true;
	netbe_rx_enable(c->be);
	CHECK(dispatch_until(c, 2000, took_three));
	netbe_rx_disable(c->be);
	c->take_one = false;
	drain(c);
}

static bool tx_called(struct conf *c)
{
	return c->tx_calls > 0;
}

/* Fill the backend until it refuses; everything accepted must arrive. */
static void check_eagain_loses_nothing(struct conf *c)
{
	uint8_t f[HDR + 60];
	struct iovec iov = { f, sizeof(f) }, big = { c->buf, sizeof(c->buf) };
	struct netbe_stats st;
	int sent = 0, got = 0;
	ssize_t ret = 0;

	memset(f, 0, HDR);
	test_frame(f + HDR, 60);
	while (sent < 10000 && (ret = netbe_send(c->be, &iov, 1)) > 0)
		sent++;
	CHECK_EQ(ret, -EAGAIN);
	netbe_get_stats(c->be, &st);
	CHECK(st.tx_eagain >= 1);
	CHECK_EQ(st.tx_frames, sent);
	c->tx_calls = 0;
	while (got < sent + 10 && netbe_recv(c->peer, &big, 1) > 0)
		got++;
	CHECK_EQ(got, sent);
	CHECK(dispatch_until(c, 2000, tx_called));
	CHECK_EQ(netbe_send(c->be, &iov, 1), (ssize_t)sizeof(f));
}

static void check_counters(struct conf *c)
{
	uint8_t f[HDR + 60], runt[HDR + 4] = { 0 };
	struct iovec iov = { f, sizeof(f) }, riov = { runt, sizeof(runt) };
	struct netbe_stats before, after;
	int i, received = 0;

	drain(c);
	memset(f, 0, HDR);
	test_frame(f + HDR, 60);
	netbe_get_stats(c->be, &before);
	for (i = 0; i < 3; i++)
		CHECK_EQ(netbe_send(c->be, &iov, 1), (ssize_t)sizeof(f));
	CHECK_EQ(netbe_send(c->be, &riov, 1), (ssize_t)sizeof(runt));
	netbe_get_stats(c->be, &after);
	CHECK_EQ(after.tx_frames - before.tx_frames, 3);
	CHECK_EQ(after.tx_bytes - before.tx_bytes, 3 * 60);
	CHECK_EQ(after.drops[NETBE_DROP_TX_RUNT] - before.drops[NETBE_DROP_TX_RUNT], 1);
	before = after;
	if (c->bc->receives) {
		CHECK(inject_and_wait(c));
		received = drain(c);
	}
	netbe_get_stats(c->be, &after);
	CHECK_EQ(after.rx_frames - before.rx_frames, received);
	CHECK(after.rx_bytes - before.rx_bytes >= (uint64_t)received * 14);
	if (c->bc->receives)
		CHECK(received >= 1);
}

static void check_close_reopen(const struct backend_case *bc)
{
	struct conf *c;
	int i;

	netbe_close(NULL);
	for (i = 0; i < 3; i++) {
		c = conf_open(bc);
		CHECK(c != NULL);
		if (c)
			teardown(c);
	}
}

/* af_packet: frames the kernel drops because the ring is full, with no
 * frame after them to carry TP_STATUS_LOSING, are still counted once the
 * ring is drained: sent = received + rx_overflow. The ring of the
 * vnet-header case holds ~120 frames; AFP_FLOOD overflows it. */
#define AFP_FLOOD 600
static void check_afp_tail_drops(struct conf *c)
{
	struct netbe_stats before, after;
	int i, sent = 0, received;

	drain(c);
	netbe_get_stats(c->be, &before);
	for (i = 0; i < AFP_FLOOD; i++)
		sent += c->bc->inject(c) == 0;
	received = drain(c);
	netbe_get_stats(c->be, &after);
	CHECK_EQ(sent, AFP_FLOOD);
	CHECK(received < sent);
	CHECK_EQ(received + (int)(after.drops[NETBE_DROP_RX_OVERFLOW] -
				  before.drops[NETBE_DROP_RX_OVERFLOW]), sent);
}

/* Run check @fn on a fresh handle of @bc, reported as "BACKEND: what". */
static void run_check(const struct backend_case *bc, const char *what,
		      void (*fn)(struct conf *))
{
	char name[96];
	struct conf *c;

	snprintf(name, sizeof(name), "%s: %s", bc->name, what);
	c = conf_open(bc);
	if (!c) {
		RUN_CASE(name, CHECK, 0);
		return;
	}
	RUN_CASE(name, fn, c);
	teardown(c);
}

static void skip_check(const struct backend_case *bc, const char *what,
		       const char *why)
{
	char name[96];

	snprintf(name, sizeof(name), "%s: %s", bc->name, what);
	SKIP_CASE(name, why);
}

static void run_backend(const struct backend_case *bc)
{
	static const struct { const char *what; void (*fn)(struct conf *); bool rx; } checks[] = {
		{ "empty recv returns 0", check_empty_recv, false },
		{ "peek_recvlen equals the next recv", check_peek_equals_recv, true },
		{ "short buffers give -EMSGSIZE and keep the frame", check_short_buffers, true },
		{ "rx_disable silences the callback until rx_enable", check_rx_disable, true },
		{ "the rx callback comes back while frames are left", check_rx_until_drained, true },
		{ "counters add up", check_counters, false },
	};
	const char *why = bc->unavailable ? bc->unavailable() : NULL;
	char name[96];
	unsigned i;

	if (why) {
		for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
			skip_check(bc, checks[i].what, why);
		skip_check(bc, "refused send is -EAGAIN and loses nothing", why);
		skip_check(bc, "close(NULL) is a no-op, reopen after close works", why);
		return;
	}
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (bc->needs_root && !harness_is_root())
			skip_check(bc, checks[i].what, "needs root");
		else if (checks[i].rx && !bc->receives)
			skip_check(bc, checks[i].what, "backend never receives");
		else
			run_check(bc, checks[i].what, checks[i].fn);
	}
	if (bc->needs_root && !harness_is_root())
		skip_check(bc, "refused send is -EAGAIN and loses nothing", "needs root");
	else if (!bc->back_pressure)
		skip_check(bc, "refused send is -EAGAIN and loses nothing",
			   "backend never refuses a send");
	else
		run_check(bc, "refused send is -EAGAIN and loses nothing",
			  check_eagain_loses_nothing);
	snprintf(name, sizeof(name), "%s: close(NULL) is a no-op, reopen after close works", bc->name);
	if (bc->needs_root && !harness_is_root())
		SKIP_CASE(name, "needs root");
	else
		RUN_CASE(name, check_close_reopen, bc);
}

/* As root, move into a private network namespace without IPv6 chatter. */
static void private_netns(void)
{
	FILE *f;

	if (!harness_is_root())
		return;
	if (unshare(CLONE_NEWNET)) {
		printf("# unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return;
	}
	f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
}

int main(void)
{
	unsigned i;

	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	private_netns();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_backend(&cases[i]);
		if (strcmp(cases[i].name, "af_packet"))
			continue;
		if (harness_is_root())
			run_check(&cases[i], "ring overflow at the tail is counted", check_afp_tail_drops);
		else
			skip_check(&cases[i], "ring overflow at the tail is counted", "needs root");
	}
	return harness_done();
}
