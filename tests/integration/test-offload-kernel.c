/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-offload-kernel.c - the Linux kernel as the oracle for the offload
 * engine.
 *
 * The process moves itself into a private network namespace (unshare
 * CLONE_NEWNET; it vanishes with the process, nothing to clean up) and
 * builds: tap nbol0 (IFF_VNET_HDR, 12-byte header) and veth nbolva both
 * in bridge nbolbr, nbolva's peer nbolvb captured with AF_PACKET. nbolva
 * has segmentation and checksum offloads off, so the kernel segments every
 * super-frame written to the tap in software on the way out of nbolva and
 * completes its checksums. The same super-frame goes through ol_check() +
 * ol_segment(); the captured frames and netbe's segments must be equal
 * byte for byte (VLAN tags the receive path moved into metadata are put
 * back from PACKET_AUXDATA first).
 *
 * Deliberate differences, also in doc/offload.md:
 *  - IPv6 UFO fragment id: the kernel derives it from a hash of the
 *    addresses with a secret (ipv6_proxy_select_ident); netbe takes it
 *    from its caller. The test reads the kernel's id from the first
 *    fragment and hands that to ol_segment().
 * Needs root (else SKIP "needs root"), the bridge and veth drivers, and
 * ethtool; a super-frame type the kernel refuses is reported as SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"
#include "offload-frames.h"
#include "offload.h"

#define MAX_CAP 128
#define CAP_LEN 2048
#define TAP_NAME "nbol0"

static int tap_fd = -1, cap_fd = -1;
static uint8_t cap[MAX_CAP][CAP_LEN];
static size_t cap_len[MAX_CAP];
static uint8_t flat[CAP_LEN + OL_MAX_HDR];
static uint8_t frame[70000];

/* Run a shell command quietly. Return: its exit status (0 = success). */
static int sh(const char *cmd)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf);
}

/* Open the tap with a 12-byte virtio-net header. Return: 0 or -errno. */
static int open_tap(void)
{
	struct ifreq ifr = { 0 };
	int hdr = NETBE_VNET_HDR_LEN_MRG;

	tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap_fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), TAP_NAME);
	if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(tap_fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return -errno;
	return 0;
}

/* Open the AF_PACKET capture on nbolvb. Return: 0 or -errno. */
static int open_capture(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int one = 1;

	cap_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			htons(ETH_P_ALL));
	if (cap_fd < 0)
		return -errno;
	sll.sll_ifindex = (int)if_nametoindex("nbolvb");
	if (!sll.sll_ifindex ||
	    bind(cap_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(cap_fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

/* Build the namespace's devices. Return: 0, or a message saying what
 * is missing. */
static const char *setup(void)
{
	static const char *const cmds[] = {
		"ip link add nbolbr type bridge",
		"ip link add nbolva type veth peer name nbolvb",
		"ip link set nbolva master nbolbr",
		"ip link set " TAP_NAME " master nbolbr",
		"ethtool -K nbolva tso off gso off tx off",
		"ethtool -K nbolvb gro off",
		"ip link set nbolbr up",
		"ip link set nbolva up",
		"ip link set nbolvb up",
		"ip link set " TAP_NAME " up",
	};
	size_t i;

	if (unshare(CLONE_NEWNET) < 0)
		return "cannot unshare a network namespace";
	/* Quiet: no router solicitations or DAD in the capture. */
	sh("echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6");
	if (open_tap() < 0)
		return "cannot open a tap with IFF_VNET_HDR";
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (sh(cmds[i]) != 0)
			return cmds[i];
	sh("ethtool -K nbolva tx-udp-segmentation off");
	if (open_capture() < 0)
		return "cannot capture on the veth";
	return NULL;
}

/* Return: true for a frame our builder sent (source MAC 02:..:01). */
static bool ours(const uint8_t *f, size_t len)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 1 };

	return len >= 14 && memcmp(f + 6, src, 6) == 0;
}

/* Receive one frame into cap[@i], its VLAN tag put back.
 * Return: its length, 0 when none is queued. */
static size_t recv_one(unsigned i)
{
	uint8_t ctl[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	uint8_t *b = cap[i];
	struct iovec iov = { .iov_base = b + 4, .iov_len = CAP_LEN - 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(cap_fd, &mh, 0);

	if (n < 14)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if (aux.tp_status & TP_STATUS_VLAN_VALID) {
			memmove(b, b + 4, 12);
			fb_put16(b + 12, (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ?
				 aux.tp_vlan_tpid : 0x8100);
			fb_put16(b + 14, (uint16_t)aux.tp_vlan_tci);
			return (size_t)n + 4;
		}
	}
	memmove(b, b + 4, (size_t)n);
	return (size_t)n;
}

/* Drop whatever is queued on the capture socket. */
static void drain(void)
{
	while (recv_one(0))
		;
}

/* Collect up to @want of our frames, waiting at most 2 s.
 * Return: how many arrived. */
static unsigned capture(unsigned want)
{
	struct timespec t0, t;
	unsigned got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < want && got < MAX_CAP) {
		struct pollfd pfd = { .fd = cap_fd, .events = POLLIN };
		size_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= 2 || poll(&pfd, 1, 100) < 0)
			break;
		while (got < want && (n = recv_one(got)) > 0)
			if (ours(cap[got], n))
				cap_len[got++] = n;
	}
	return got;
}

/* Name the layer of byte @off for a mismatch message. */
static const char *where(const struct ol_pkt *p, size_t off)
{
	if (off < p->l3)
		return "ethernet/vlan";
	if (off < p->l4)
		return "ip";
	if (off < p->payload)
		return "tcp/udp header";
	return "payload";
}

struct oracle_case {
	const char *name;
	struct fb o;
};

/* Send one super-frame through the kernel and through the engine, and
 * compare the results segment by segment. */
static void run_case(const struct oracle_case *c)
{
	static struct ol_seg segs[OL_MAX_SEGS];
	static uint8_t store[OL_STORE_MAX];
	struct netbe_vnet_hdr h;
	struct ol_pkt p;
	uint32_t frag_id = 0;
	size_t len = fb_build(frame + 12, &c->o, &h, NULL), off;
	unsigned got, i;
	int n;

	CHECK_EQ(ol_check(&h, frame + 12, len, 0, OL_TEST_MAX, &p), OL_OK);
	fb_encode_vnet(frame, &h);
	frame[10] = frame[11] = 0;
	drain();
	if (write(tap_fd, frame, len + 12) != (ssize_t)(len + 12)) {
		printf("# %s: the kernel refused the frame: %s\n", c->name,
		       strerror(errno));
		harness_cur_failed = 1;
		return;
	}
	got = capture(p.nsegs);
	if (c->o.ipv == 6 && c->o.gso_type == NETBE_GSO_UDP && got > 1)
		frag_id = fb_get32(cap[0] + p.unfrag + 4);
	n = ol_segment(&h, &p, 0, frag_id, store, sizeof(store), segs, OL_MAX_SEGS);
	CHECK_EQ(got, p.nsegs);
	CHECK_EQ(n, (int)p.nsegs);
	for (i = 0; i < got && (int)i < n; i++) {
		size_t fl = segs[i].hdr_len + segs[i].data_len;

		memcpy(flat, segs[i].hdr, segs[i].hdr_len);
		memcpy(flat + segs[i].hdr_len, segs[i].data, segs[i].data_len);
		CHECK_EQ(cap_len[i], fl);
		for (off = 0; off < fl && off < cap_len[i]; off++)
			if (flat[off] != cap[i][off]) {
				printf("# %s segment %u: byte %zu (%s) kernel %02x netbe %02x\n",
				       c->name, i, off, where(&p, off), cap[i][off],
				       flat[off]);
				harness_cur_failed = 1;
				break;
			}
	}
}

static const struct oracle_case cases[] = {
	{ "tso4", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 20000, .ip_id = 0xfff0,
		    .seq = 0xffffd000, .tcp_flags = FB_TCP_ACK | FB_TCP_PSH | FB_TCP_FIN,
		    .gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 } },
	{ "tso4 ecn cwr", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 10001,
		    .tcp_flags = FB_TCP_ACK | FB_TCP_CWR | FB_TCP_PSH,
		    .gso_type = NETBE_GSO_TCPV4 | NETBE_GSO_ECN, .gso_size = 1000 } },
	{ "tso4 cwr without ecn", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 5000,
		    .tcp_flags = FB_TCP_ACK | FB_TCP_CWR,
		    .gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 } },
	{ "tso4 vlan tcp options", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 9000,
		    .ntags = 1, .tcp_opt = 12, .ip_id = 5,
		    .gso_type = NETBE_GSO_TCPV4, .gso_size = 1436 } },
	{ "tso4 qinq", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 6000,
		    .ntags = 2, .gso_type = NETBE_GSO_TCPV4, .gso_size = 1400 } },
	{ "tso4 64k", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 65535 - 40,
		    .gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 } },
	{ "tso6", { .ipv = 6, .proto = IPPROTO_TCP, .paylen = 20000, .seq = 77,
		    .tcp_flags = FB_TCP_ACK | FB_TCP_PSH,
		    .gso_type = NETBE_GSO_TCPV6, .gso_size = 1428 } },
	{ "tso6 ext headers vlan", { .ipv = 6, .proto = IPPROTO_TCP, .paylen = 7000,
		    .ip6_ext = 2, .ntags = 1,
		    .gso_type = NETBE_GSO_TCPV6, .gso_size = 1400 } },
	{ "uso4", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 8000, .ip_id = 300,
		    .gso_type = NETBE_GSO_UDP_L4, .gso_size = 1472 } },
	{ "uso6", { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 8001,
		    .gso_type = NETBE_GSO_UDP_L4, .gso_size = 1452 } },
	{ "ufo4", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 4000, .ip_id = 4242,
		    .gso_type = NETBE_GSO_UDP, .gso_size = 1480 } },
	{ "ufo6", { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 4000,
		    .gso_type = NETBE_GSO_UDP, .gso_size = 1448 } },
	{ "needs_csum tcp4", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 1001 } },
	{ "needs_csum udp6 vlan", { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 999,
		    .ntags = 1 } },
};

int main(void)
{
	const char *why;
	size_t i;

	if (!harness_is_root()) {
		SKIP(test_offload_kernel, "needs root");
		return harness_done();
	}
	why = setup();
	if (why) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			SKIP_CASE(cases[i].name, why);
		return harness_done();
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		RUN_CASE(cases[i].name, run_case, &cases[i]);
	return harness_done();
}
