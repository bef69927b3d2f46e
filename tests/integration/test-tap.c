/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-tap.c - the tap backend against the real Linux tun driver.
 *
 * Everything happens inside a network namespace the test creates
 * (nbtapu-PID) and enters with setns() for its whole run, so the taps, the
 * addresses and every frame exist only there; the namespace is deleted at
 * exit. The test is single-threaded, which is what makes setns() of the
 * calling thread enough. sysfs shows the namespace it was mounted in, so
 * /sys/class/net files are read through "ip netns exec". Needs root: when
 * not root every test reports "skipped: needs root".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/if_tun.h>

#include "netbe.h"
#include "../harness.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define TEST_HDR 12
#define BUF_LEN (TEST_HDR + 65535 + 18)
#define PEER_MAC "\x02\x00\x00\x00\x77\x02"
#define TAP_IP "10.78.0.1"
#define PEER_IP "10.78.0.2"
#define TEST_PORT 9999

static char ns_name[32];
static int orig_ns = -1;
static struct netbe_epoll *ep;
static unsigned char buf[BUF_LEN];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** sh() - run a shell command built from @fmt. Return: its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

/** write_file() - write @val to @path. Return: 0 or -1. */
static int write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(val, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

/**
 * sysfs_read() - read a number (decimal, or hex with 0x) from
 * /sys/class/net/@ifname/@file in the test namespace
 * Return: the value, or -1 when it cannot be read.
 */
static long long sysfs_read(const char *ifname, const char *file)
{
	char cmd[256];
	long long v = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /sys/class/net/%s/%s 2>/dev/null",
		 ns_name, ifname, file);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%lli", &v) != 1)
		v = -1;
	pclose(p);
	return v;
}

/** ns_cleanup() - leave and delete the test namespace (atexit). */
static void ns_cleanup(void)
{
	if (orig_ns >= 0) {
		if (setns(orig_ns, CLONE_NEWNET))
			perror("setns back");
		close(orig_ns);
		orig_ns = -1;
		sh("ip netns del %s 2>/dev/null", ns_name);
	}
	netbe_epoll_free(ep);
	ep = NULL;
}

/**
 * ns_enter() - create nbtapu-PID, enter it, switch IPv6 off so the kernel
 * sends nothing on its own, bring lo up.
 * Return: 0, or -1 with a diagnostic printed.
 */
static int ns_enter(void)
{
	char path[64];
	int fd;

	snprintf(ns_name, sizeof(ns_name), "nbtapu-%d", (int)getpid());
	if (sh("ip netns add %s", ns_name))
		return -1;
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (orig_ns < 0 || fd < 0 || setns(fd, CLONE_NEWNET)) {
		printf("# cannot enter %s: %s\n", ns_name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	return sh("ip link set lo up");
}

/** kernel_at_least() - Return: true if the running kernel is >= @maj.@min. */
static bool kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

/** if_flags() - Return: @ifname's interface flags, or -1 if it is absent. */
static int if_flags(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		ret = ifr.ifr_flags & 0xffff;
	if (s >= 0)
		close(s);
	return ret;
}

/** if_mtu() - Return: @ifname's MTU, or -1. */
static int if_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0)
		ret = ifr.ifr_mtu;
	if (s >= 0)
		close(s);
	return ret;
}

/** if_mac() - copy @ifname's MAC into @mac. Return: 0 or -1. */
static int if_mac(const char *ifname, unsigned char mac[6])
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s >= 0 && ioctl(s, SIOCGIFHWADDR, &ifr) == 0) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
		ret = 0;
	}
	if (s >= 0)
		close(s);
	return ret;
}

/** tap_fd_make() - create tun/tap @name with @flags myself, as a parent
 * would before passing it. Return: the fd, or -1. */
static int tap_fd_make(const char *name, short flags)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		close(fd);
		return -1;
	}
	return fd;
}

/** open_spec() - netbe_open() @spec on the test loop. Return: its result. */
static int open_spec(struct netbe **be, const char *spec)
{
	return netbe_open(be, spec, NULL, netbe_epoll_loop(ep));
}

/** expect_open_error() - @spec must fail with -EINVAL and a message
 * containing @needle. */
static void expect_open_error(const char *spec, int err, const char *needle)
{
	struct netbe *be = NULL;
	int ret = open_spec(&be, spec);

	CHECK_EQ(ret, err);
	CHECK(be == NULL);
	CHECK_STR_CONTAINS(netbe_last_error(), needle);
	printf("# %s -> %s\n", spec, netbe_last_error());
	netbe_close(be);
}

/**
 * recv_match() - receive frames until one has EtherType @ethertype (and,
 * for IPv4, IP protocol @proto), at most 50 frames or 2 seconds
 * Return: its length (header included), or <= 0 if none came.
 */
static ssize_t recv_match(struct netbe *be, unsigned ethertype, int proto)
{
	struct iovec iov = { buf, sizeof(buf) };
	size_t hl = netbe_get_vnet_hdr_len(be);
	int i, tries = 0;

	for (i = 0; i < 50 && tries < 200; ) {
		ssize_t n = netbe_recv(be, &iov, 1);
		const unsigned char *eth = buf + hl;

		if (n < 0)
			return n;
		if (n == 0) {
			tries++;
			usleep(10000);
			continue;
		}
		i++;
		if ((size_t)n < hl + 14 ||
		    (unsigned)(eth[12] << 8 | eth[13]) != ethertype)
			continue;
		if (proto >= 0 && ((size_t)n < hl + 34 || eth[23] != proto))
			continue;
		return n;
	}
	return 0;
}

/** open_ip_tap() - open tap:@name, give it TAP_IP and a static neighbour
 * PEER_IP at PEER_MAC. Return: the handle or NULL. */
static struct netbe *open_ip_tap(const char *name)
{
	struct netbe *be = NULL;
	char spec[64];

	snprintf(spec, sizeof(spec), "tap:%s", name);
	if (open_spec(&be, spec)) {
		printf("# open %s: %s\n", spec, netbe_last_error());
		return NULL;
	}
	if (sh("ip addr add %s/24 dev %s", TAP_IP, name) ||
	    sh("ip neigh replace %s lladdr 02:00:00:00:77:02 nud permanent dev %s",
	       PEER_IP, name)) {
		netbe_close(be);
		return NULL;
	}
	return be;
}

/** udp_send_to_peer() - send @len bytes to PEER_IP from a socket in the
 * namespace, as @gso_size segments if non-zero. Return: bytes or -1. */
static ssize_t udp_send_to_peer(size_t len, int gso_size)
{
	static char payload[16000];
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(TEST_PORT) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n = -1;

	if (s < 0 || len > sizeof(payload))
		goto out;
	inet_pton(AF_INET, PEER_IP, &to.sin_addr);
	memset(payload, 'x', len);
	if (gso_size && setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &gso_size,
				   sizeof(gso_size)))
		goto out;
	n = sendto(s, payload, len, 0, (struct sockaddr *)&to, sizeof(to));
out:
	if (s >= 0)
		close(s);
	return n;
}

/* ------------------------------------------------------------------------ */

static void test_open_name_creates_up_tap(void)
{
	struct netbe *be = NULL;

	CHECK(if_nametoindex("nbt0") == 0);
	CHECK_EQ(open_spec(&be, "tap:nbt0"), 0);
	CHECK(if_nametoindex("nbt0") != 0);
	CHECK(if_flags("nbt0") >= 0 && (if_flags("nbt0") & IFF_UP));
	CHECK(!strcmp(netbe_name(be), "tap"));
	CHECK((sysfs_read("nbt0", "tun_flags") & IFF_VNET_HDR) != 0);
	netbe_close(be);
	CHECK(if_nametoindex("nbt0") == 0);
}

static void test_caps_probed(void)
{
	uint64_t want = NETBE_F_CSUM | NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6 |
		NETBE_F_HOST_ECN | NETBE_F_HOST_UFO | NETBE_F_GUEST_CSUM |
		NETBE_F_GUEST_TSO4 | NETBE_F_GUEST_TSO6 | NETBE_F_GUEST_ECN;
	uint64_t uso = NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6 | NETBE_F_HOST_USO;
	struct netbe *be = NULL;
	uint64_t cap;

	CHECK_EQ(open_spec(&be, "tap:nbt1"), 0);
	cap = netbe_get_cap(be);
	printf("# caps 0x%llx\n", (unsigned long long)cap);
	CHECK_EQ(cap & want, want);
	if (kernel_at_least(6, 2))
		CHECK_EQ(cap & uso, uso);
	else
		CHECK_EQ(cap & uso, 0);
	CHECK_EQ(netbe_set_cap(be, cap, 12), 0);
	CHECK_EQ(netbe_set_cap(be, 0, 0), 0);
	netbe_close(be);
}

static void test_vnet_hdr_off(void)
{
	struct netbe *be = NULL;

	CHECK_EQ(open_spec(&be, "tap:nbt2,vnet_hdr=off,offload=native"), 0);
	CHECK_EQ(netbe_get_cap(be) & (NETBE_F_HOST_OFFLOADS | NETBE_F_GUEST_OFFLOADS), 0);
	netbe_close(be);
	/* by default core offers every offload, done in software */
	CHECK_EQ(open_spec(&be, "tap:nbt2,vnet_hdr=off"), 0);
	CHECK(netbe_get_cap(be) & NETBE_F_HOST_TSO4);
	CHECK_EQ(sysfs_read("nbt2", "tun_flags") & IFF_VNET_HDR, 0);
	netbe_close(be);
}

static void test_vmnet_alias_and_mtu(void)
{
	struct netbe *be = NULL;

	CHECK_EQ(open_spec(&be, "vmnet0"), 0);
	CHECK(if_nametoindex("vmnet0") != 0);
	netbe_close(be);
	be = NULL;
	CHECK_EQ(open_spec(&be, "tap:nbt3,mtu=9000"), 0);
	CHECK_EQ(if_mtu("nbt3"), 9000);
	netbe_close(be);
}

static void test_fd_adopt(void)
{
	struct netbe *be = NULL;
	char spec[64];
	int fd = tap_fd_make("nbt4", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);

	CHECK(fd >= 0);
	snprintf(spec, sizeof(spec), "tap:fd=%d", fd);
	CHECK_EQ(open_spec(&be, spec), 0);
	CHECK(netbe_get_cap(be) & NETBE_F_GUEST_TSO4);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	netbe_close(be);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
	CHECK(if_nametoindex("nbt4") == 0);

	be = NULL;
	fd = tap_fd_make("nbt5", IFF_TAP | IFF_NO_PI);
	CHECK(fd >= 0);
	snprintf(spec, sizeof(spec), "tap:fd=%d,offload=native", fd);
	CHECK_EQ(open_spec(&be, spec), 0);
	CHECK_EQ(netbe_get_cap(be) & NETBE_F_GUEST_OFFLOADS, 0);
	netbe_close(be);

	fd = tap_fd_make("nbt6", IFF_TAP | IFF_NO_PI);
	snprintf(spec, sizeof(spec), "tap:fd=%d,vnet_hdr=on", fd);
	expect_open_error(spec, -EINVAL, "vnet_hdr");
	close(fd);
	fd = tap_fd_make("nbt6", IFF_TAP);
	snprintf(spec, sizeof(spec), "tap:fd=%d", fd);
	expect_open_error(spec, -EINVAL, "IFF_NO_PI");
	close(fd);
	fd = tap_fd_make("nbt6", IFF_TUN | IFF_NO_PI);
	snprintf(spec, sizeof(spec), "tap:fd=%d", fd);
	expect_open_error(spec, -EINVAL, "not a tap");
	close(fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	snprintf(spec, sizeof(spec), "tap:fd=%d", fd);
	expect_open_error(spec, -ENOTTY, "not an attached tap");
	close(fd);
}

static void test_bad_inputs(void)
{
	expect_open_error("tap", -EINVAL, "tap:NAME");
	expect_open_error("tap:nbt7,fd=3", -EINVAL, "either");
	expect_open_error("tap:nbt7,vnet_hdr=maybe", -EINVAL, "vnet_hdr");
	expect_open_error("tap:fd=notanumber", -EINVAL, "'fd'");
	expect_open_error("tap:nbt7,mtu=20", -EINVAL, "'mtu'");
	expect_open_error("tap:nbtaverylongname7", -EINVAL, "too long");
	expect_open_error("tap:lo", -EINVAL, "not a single-queue tap");
	CHECK(if_nametoindex("nbt7") == 0);
}

static int rx_calls;

static void count_rx(struct netbe *be, void *opaque)
{
	(void)be;
	(void)opaque;
	rx_calls++;
}

static void test_rx_from_kernel(void)
{
	const uint64_t f = NETBE_F_GUEST_CSUM | NETBE_F_MRG_RXBUF;
	struct netbe_config cfg = { .rx_cb = count_rx };
	struct netbe *be = NULL;
	const unsigned char *eth = buf + TEST_HDR;
	ssize_t n;
	int i;

	CHECK_EQ(netbe_open(&be, "tap:nbt8", &cfg, netbe_epoll_loop(ep)), 0);
	if (!be)
		return;
	CHECK_EQ(sh("ip addr add %s/24 dev nbt8", TAP_IP), 0);
	CHECK_EQ(sh("ip neigh replace %s lladdr 02:00:00:00:77:02 nud permanent dev nbt8",
		    PEER_IP), 0);
	CHECK_EQ(netbe_set_cap(be, f, TEST_HDR), 0);
	netbe_rx_enable(be);
	CHECK_EQ(udp_send_to_peer(100, 0), 100);
	for (i = 0; i < 20 && !rx_calls; i++)
		netbe_epoll_dispatch(ep, 100);
	CHECK(rx_calls > 0);
	netbe_rx_disable(be);

	n = recv_match(be, 0x0800, IPPROTO_UDP);
	CHECK_EQ(n, TEST_HDR + 14 + 20 + 8 + 100);
	CHECK(!memcmp(eth, PEER_MAC, 6));
	/* a partially checksummed UDP frame: checksum field at 34 + 6 */
	CHECK_EQ(buf[0], NETBE_HDR_F_NEEDS_CSUM);
	CHECK_EQ(buf[1], NETBE_GSO_NONE);
	CHECK_EQ(buf[6] | buf[7] << 8, 14 + 20);
	CHECK_EQ(buf[8] | buf[9] << 8, 6);
	CHECK_EQ(buf[10] | buf[11] << 8, 1);
	netbe_close(be);
}

/* Large UDP send with UDP_SEGMENT: one USO super-frame when the frontend
 * negotiated USO, else segments the kernel cut itself. */
static void test_rx_uso_follows_negotiation(void)
{
	const uint64_t uso = NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6;
	struct netbe *be = open_ip_tap("nbt9");
	ssize_t n;

	CHECK(be != NULL);
	if (!be)
		return;
	if ((netbe_get_cap(be) & uso) == uso) {
		CHECK_EQ(netbe_set_cap(be, NETBE_F_GUEST_CSUM | uso, TEST_HDR), 0);
		CHECK_EQ(udp_send_to_peer(10000, 1000), 10000);
		n = recv_match(be, 0x0800, IPPROTO_UDP);
		CHECK_EQ(n, TEST_HDR + 14 + 20 + 8 + 10000);
		CHECK_EQ(buf[1], NETBE_GSO_UDP_L4);
		CHECK_EQ(buf[4] | buf[5] << 8, 1000);
	}
	CHECK_EQ(netbe_set_cap(be, NETBE_F_GUEST_CSUM, TEST_HDR), 0);
	CHECK_EQ(udp_send_to_peer(10000, 1000), 10000);
	n = recv_match(be, 0x0800, IPPROTO_UDP);
	CHECK_EQ(n, TEST_HDR + 14 + 20 + 8 + 1000);
	CHECK_EQ(buf[1], NETBE_GSO_NONE);
	netbe_close(be);
}

/** build_arp_request() - an ARP who-has TAP_IP from PEER into @f.
 * Return: its length. */
static size_t build_arp_request(unsigned char *f)
{
	static const unsigned char arp_hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	memset(f, 0xff, 6);
	memcpy(f + 6, PEER_MAC, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, arp_hdr, 8);
	memcpy(f + 22, PEER_MAC, 6);
	inet_pton(AF_INET, PEER_IP, f + 28);
	memset(f + 32, 0, 6);
	inet_pton(AF_INET, TAP_IP, f + 38);
	memset(f + 42, 0, 18);
	return 60;
}

/** ip_csum() - Return: the Internet checksum of @len bytes at @p. */
static uint16_t ip_csum(const unsigned char *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * build_udp_partial() - an IPv4/UDP frame PEER -> TAP_IP:TEST_PORT with
 * @plen bytes of payload, its UDP checksum left to the device (only the
 * pseudo-header sum filled in). Return: the frame length.
 */
static size_t build_udp_partial(unsigned char *f, const unsigned char *dmac,
				size_t plen)
{
	unsigned char *ip = f + 14, *udp = f + 34;
	uint32_t ps;
	uint16_t c;

	memcpy(f, dmac, 6);
	memcpy(f + 6, PEER_MAC, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (20 + 8 + plen) >> 8;
	ip[3] = (20 + 8 + plen) & 0xff;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, PEER_IP, ip + 12);
	inet_pton(AF_INET, TAP_IP, ip + 16);
	c = ip_csum(ip, 20, 0);
	ip[10] = c >> 8;
	ip[11] = c & 0xff;
	udp[0] = 0x30;
	udp[1] = 0x39;
	udp[2] = TEST_PORT >> 8;
	udp[3] = TEST_PORT & 0xff;
	udp[4] = (8 + plen) >> 8;
	udp[5] = (8 + plen) & 0xff;
	memset(udp + 8, 'y', plen);
	/* pseudo-header sum, not complemented, as NEEDS_CSUM expects */
	ps = (uint32_t)(ip[12] << 8 | ip[13]) + (ip[14] << 8 | ip[15]) +
	     (ip[16] << 8 | ip[17]) + (ip[18] << 8 | ip[19]) + IPPROTO_UDP +
	     8 + plen;
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	udp[6] = ps >> 8;
	udp[7] = ps & 0xff;
	return 14 + 20 + 8 + plen;
}

static void test_tx_to_kernel(void)
{
	struct netbe *be = open_ip_tap("nbt10");
	unsigned char frame[TEST_HDR + 1500], mac[6], got[200];
	struct iovec iov[2] = { { frame, TEST_HDR }, { frame + TEST_HDR, 0 } };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(TEST_PORT) };
	long long rx0;
	ssize_t n;
	int s;

	CHECK(be != NULL);
	if (!be)
		return;
	CHECK_EQ(netbe_set_cap(be, NETBE_F_CSUM | NETBE_F_GUEST_CSUM, TEST_HDR), 0);
	CHECK_EQ(if_mac("nbt10", mac), 0);
	rx0 = sysfs_read("nbt10", "statistics/rx_packets");

	/* ARP: the kernel answers, and the answer comes back through recv */
	memset(frame, 0, TEST_HDR);
	iov[1].iov_len = build_arp_request(frame + TEST_HDR);
	CHECK_EQ(netbe_send(be, iov, 2), TEST_HDR + 60);
	n = recv_match(be, 0x0806, -1);
	CHECK_EQ(n, TEST_HDR + 42);
	CHECK(!memcmp(buf + TEST_HDR, PEER_MAC, 6));
	CHECK(!memcmp(buf + TEST_HDR + 6, mac, 6));
	CHECK_EQ(buf[TEST_HDR + 21], 2);

	/* UDP with a checksum the kernel completes: a socket gets it intact */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	inet_pton(AF_INET, TAP_IP, &a.sin_addr);
	CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	memset(frame, 0, TEST_HDR);
	frame[0] = NETBE_HDR_F_NEEDS_CSUM;
	frame[6] = 34;
	frame[8] = 6;
	iov[1].iov_len = build_udp_partial(frame + TEST_HDR, mac, 100);
	CHECK_EQ(netbe_send(be, iov, 2), TEST_HDR + 142);
	n = -1;
	for (int i = 0; i < 100 && n < 0; i++) {
		n = recv(s, got, sizeof(got), 0);
		if (n < 0)
			usleep(10000);
	}
	CHECK_EQ(n, 100);
	CHECK(n == 100 && got[0] == 'y' && got[99] == 'y');
	close(s);
	CHECK(sysfs_read("nbt10", "statistics/rx_packets") >= rx0 + 2);
	netbe_close(be);
}

static void test_down_then_deleted_interface(void)
{
	struct netbe *be = open_ip_tap("nbt11");
	unsigned char frame[TEST_HDR + 60] = { 0 };
	struct iovec iov = { frame, sizeof(frame) };
	struct iovec riov = { buf, sizeof(buf) };
	struct netbe_stats st;
	ssize_t n;

	CHECK(be != NULL);
	if (!be)
		return;
	CHECK_EQ(netbe_set_cap(be, 0, TEST_HDR), 0);
	build_arp_request(frame + TEST_HDR);
	/* down is not gone: the frame is dropped and counted, no error */
	CHECK_EQ(sh("ip link set nbt11 down"), 0);
	CHECK_EQ(netbe_send(be, &iov, 1), sizeof(frame));
	CHECK_EQ(netbe_get_stats(be, &st), 0);
	CHECK_EQ(st.drops[NETBE_DROP_TX_ERROR], 1);
	CHECK_EQ(netbe_recv(be, &riov, 1), 0);
	CHECK_EQ(sh("ip link set nbt11 up"), 0);
	CHECK_EQ(netbe_send(be, &iov, 1), sizeof(frame));
	CHECK_EQ(sh("ip link del nbt11"), 0);
	n = netbe_recv(be, &riov, 1);
	printf("# recv after delete: %zd (%s)\n", n, netbe_last_error());
	CHECK(n < 0 && n != -EAGAIN);
	n = netbe_send(be, &iov, 1);
	printf("# send after delete: %zd (%s)\n", n, netbe_last_error());
	CHECK(n < 0 && n != -EAGAIN);
	netbe_epoll_dispatch(ep, 0);
	netbe_close(be);
}

/* queues=N: N handles attach N queues of one multiqueue tap, the next is
 * refused, and each handle moves frames on its own. */
static void test_multiqueue(void)
{
	struct netbe *q[3] = { NULL, NULL, NULL };
	uint8_t frame[60];
	struct iovec iov = { frame, sizeof(frame) };
	int i;

	memset(frame, 0xff, 12);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (i = 0; i < 2; i++) {
		CHECK_EQ(open_spec(&q[i], "tap:nbtmq,queues=2,vnet_hdr=off"), 0);
		CHECK_EQ(netbe_set_cap(q[i], 0, 0), 0);
	}
	CHECK((sysfs_read("nbtmq", "tun_flags") & IFF_MULTI_QUEUE) != 0);
	CHECK_EQ(open_spec(&q[2], "tap:nbtmq,queues=2,vnet_hdr=off"), -EBUSY);
	CHECK_STR_CONTAINS(netbe_last_error(), "all queues are attached");
	for (i = 0; i < 2; i++)
		CHECK_EQ(netbe_send(q[i], &iov, 1), (ssize_t)sizeof(frame));
	netbe_close(q[1]);
	CHECK_EQ(open_spec(&q[1], "tap:nbtmq,queues=2,vnet_hdr=off"), 0);
	expect_open_error("tap:fd=3,queues=2", -EINVAL, "queues=");
	netbe_close(q[0]);
	netbe_close(q[1]);
}

int main(void)
{
	bool ok = harness_is_root();

	if (ok && (netbe_epoll_new(&ep) || ns_enter())) {
		printf("# cannot set up the test namespace\n");
		ns_cleanup();
		return 1;
	}
	atexit(ns_cleanup);
	if (ok) {
		RUN(test_open_name_creates_up_tap);
		RUN(test_caps_probed);
		RUN(test_vnet_hdr_off);
		RUN(test_vmnet_alias_and_mtu);
		RUN(test_fd_adopt);
		RUN(test_bad_inputs);
		RUN(test_rx_from_kernel);
		RUN(test_rx_uso_follows_negotiation);
		RUN(test_tx_to_kernel);
		RUN(test_down_then_deleted_interface);
		RUN(test_multiqueue);
	} else {
		SKIP(test_open_name_creates_up_tap, "needs root");
		SKIP(test_caps_probed, "needs root");
		SKIP(test_vnet_hdr_off, "needs root");
		SKIP(test_vmnet_alias_and_mtu, "needs root");
		SKIP(test_fd_adopt, "needs root");
		SKIP(test_bad_inputs, "needs root");
		SKIP(test_rx_from_kernel, "needs root");
		SKIP(test_rx_uso_follows_negotiation, "needs root");
		SKIP(test_tx_to_kernel, "needs root");
		SKIP(test_down_then_deleted_interface, "needs root");
		SKIP(test_multiqueue, "needs root");
	}
	return harness_done();
}
