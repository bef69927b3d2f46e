/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-af-xdp-boundary.c - issue 14's first defect as it was found: a
 * TCPv4 TSO frame of 20054 bytes with gso_size 16000, sent through af_xdp
 * (HOST_TSO4|CSUM negotiated, 12-byte header), made the backend copy
 * ~16 KB segments into 4096-byte UMEM frames. Now core segments it at a
 * size that fits both the UMEM frame and the interface's MTU; the frames
 * that come out of the veth's other end are captured and checked: none
 * longer than the limit, each a valid TCP segment with a correct
 * checksum, the payload whole and in order, and the counters say how
 * many were sent, nothing dropped. At MTU 9000 the UMEM frame is the
 * limit (5 segments), at MTU 1500 the MTU (14 segments).
 *
 * The process moves itself into a private network namespace (unshare
 * CLONE_NEWNET; it vanishes with the process) and makes a veth pair there.
 * Needs root (else SKIP "needs root") and the af_xdp backend.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "config.h"
#include "harness.h"
#include "netbe.h"
#include "offload-frames.h"

#define HDR 12
#define UMEM_FRAME 4096
#define MAX_CAP 32

static uint8_t frame[HDR + 20100];
static uint8_t cap[MAX_CAP][UMEM_FRAME * 5];
static size_t cap_len[MAX_CAP];

/* Run a shell command quietly. Return: its exit status (0 = success). */
static int sh(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf);
}

/* A namespace with a veth pair nbxa-nbxb, up. Return: NULL, or what
 * failed. */
static const char *setup(void)
{
	static const char *const cmds[] = {
		"ip link add nbxa type veth peer name nbxb",
		"ethtool -K nbxb gro off",
		"ip link set nbxa up",
		"ip link set nbxb up",
	};
	size_t i;

	if (unshare(CLONE_NEWNET) < 0)
		return "cannot unshare a network namespace";
	sh("echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (sh(cmds[i]) != 0)
			return cmds[i];
	return NULL;
}

/* A packet socket on nbxb. Return: the fd or -1. */
static int open_capture(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			htons(ETH_P_ALL));

	sll.sll_ifindex = (int)if_nametoindex("nbxb");
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Capture our frames (source MAC 02:..:01) for up to two seconds, until
 * @want came, running the loop meanwhile (af_xdp kicks the kernel from
 * it when the send could not). Return: how many. */
static unsigned capture(struct netbe_epoll *ep, int fd, unsigned want)
{
	uint64_t end = harness_now_ms() + 2000;
	unsigned n = 0;

	while (n < want && n < MAX_CAP && harness_now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		netbe_epoll_dispatch(ep, 0);
		if (poll(&p, 1, 10) <= 0)
			continue;
		r = recv(fd, cap[n], sizeof(cap[n]), MSG_TRUNC);
		if (r >= 14 && cap[n][11] == 1 && cap[n][6] == 2)
			cap_len[n++] = (size_t)r;
	}
	return n;
}

/* Send the reported frame through af_xdp on nbxa with both veth ends at
 * @mtu; expect @segs frames of at most @limit bytes at nbxb. */
static void check_tso_fits(unsigned mtu, unsigned segs, size_t limit)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 20000,
			.seq = 1000, .gso_type = NETBE_GSO_TCPV4, .gso_size = 16000 };
	struct netbe_epoll *ep = NULL;
	struct netbe_stats st = { 0 };
	struct netbe_vnet_hdr h;
	struct fb_layout lay;
	struct netbe *be = NULL;
	struct iovec iov;
	size_t len, done = 0;
	unsigned n, i, d;
	char cmd[96];
	int fd = open_capture();

	snprintf(cmd, sizeof(cmd), "ip link set nbxa mtu %u && ip link set nbxb mtu %u", mtu, mtu);
	CHECK_EQ(sh(cmd), 0);
	CHECK(fd >= 0);
	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(netbe_open(&be, "af_xdp:nbxa,mode=skb", NULL, netbe_epoll_loop(ep)), 0);
	if (fd < 0 || !be)
		goto out;
	CHECK_EQ(netbe_set_cap(be, NETBE_F_CSUM | NETBE_F_HOST_TSO4, HDR), 0);
	len = fb_build(frame + HDR, &o, &h, &lay);
	memset(frame, 0, HDR);
	fb_encode_vnet(frame, &h);
	iov = (struct iovec){ frame, HDR + len };
	CHECK_EQ(len, 20054);
	CHECK_EQ(netbe_send(be, &iov, 1), (ssize_t)(HDR + len));
	n = capture(ep, fd, segs);
	CHECK_EQ(n, segs);
	for (i = 0; i < n; i++) {
		const uint8_t *ip = cap[i] + lay.l3, *th = cap[i] + lay.l4;

		CHECK(cap_len[i] <= limit);
		CHECK_EQ(lay.l3 + fb_get16(ip + 2), cap_len[i]);
		CHECK_EQ(fb_get32(th + 4), o.seq + done);
		d = (unsigned)(cap_len[i] - lay.payload);
		CHECK(memcmp(cap[i] + lay.payload, frame + HDR + lay.payload + done, d) == 0);
		CHECK_EQ(ref_fold(ref_add(ref_pseudo(ip, 4, IPPROTO_TCP,
						     (uint32_t)(cap_len[i] - lay.l4)),
					  th, cap_len[i] - lay.l4)), 0xffff);
		done += d;
	}
	CHECK_EQ(done, 20000);
	netbe_get_stats(be, &st);
	CHECK_EQ(st.tx_frames, segs);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		CHECK_EQ(st.drops[i], 0);
out:
	netbe_close(be);
	netbe_epoll_free(ep);
	if (fd >= 0)
		close(fd);
}

static void test_tso_into_umem_frames(void)
{
	check_tso_fits(9000, 5, UMEM_FRAME);
}

static void test_tso_into_the_mtu(void)
{
	check_tso_fits(1500, 14, 1518);
}

int main(void)
{
	const char *why;

	if (!NETBE_HAVE_AF_XDP) {
		SKIP(test_tso_into_umem_frames, "af_xdp backend not built");
		SKIP(test_tso_into_the_mtu, "af_xdp backend not built");
		return harness_done();
	}
	if (!harness_is_root()) {
		SKIP(test_tso_into_umem_frames, "needs root");
		SKIP(test_tso_into_the_mtu, "needs root");
		return harness_done();
	}
	why = setup();
	if (why) {
		SKIP(test_tso_into_umem_frames, why);
		SKIP(test_tso_into_the_mtu, why);
		return harness_done();
	}
	RUN(test_tso_into_umem_frames);
	RUN(test_tso_into_the_mtu);
	return harness_done();
}
