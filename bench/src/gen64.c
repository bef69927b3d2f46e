/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen64.c - the 64-byte frame flood of bench/suite.sh: identical 60-byte
 * frames (64 on the wire with the FCS) sent as fast as one CPU can, for a
 * bounded time, through a packet socket on one interface.
 *
 * The frames go from 02:00:00:00:00:0a to 02:00:00:00:00:0b (the suite's
 * end hosts) with ethertype 0x88b5 (IEEE local experimental), which no
 * stack handles, so the receiving namespace counts them in its interface
 * counters and drops them cheaply. Two ways to send:
 *   ring (default)  a TPACKET_V2 TX ring: the frames are written into the
 *                   ring once; each round marks RING_KICK slots for sending
 *                   and kicks the kernel with one send()
 *   -m              sendmmsg() of MMSG_BATCH frames per call
 * Both skip the qdisc (PACKET_QDISC_BYPASS). On exit it prints frames
 * sent and the rate on stdout.
 *
 * usage: gen64 [-m] [-t SECONDS] IFNAME     (default 3 s, at most 600)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 60
#define RING_FRAME 128                /* slot size: header + frame, aligned */
#define RING_BLOCK 4096
#define RING_BLOCKS 128               /* 4096 slots */
#define RING_KICK 256                 /* slots marked per send() */
#define MMSG_BATCH 64

static unsigned char frame[FRAME_LEN] = {
	0x02, 0, 0, 0, 0, 0x0b,       /* destination */
	0x02, 0, 0, 0, 0, 0x0a,       /* source */
	0x88, 0xb5,                   /* local experimental ethertype */
};

/** now() - Return: CLOCK_MONOTONIC in seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/** sock_open() - a send-only packet socket bound to @ifname, qdisc
 * bypassed. Return: the fd; exits on failure. */
static int sock_open(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = if_nametoindex(ifname) };
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW, 0);   /* 0: receive nothing */

	if (fd < 0 || !sll.sll_ifindex ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror(ifname);
		exit(1);
	}
	return fd;
}

/** ring_map() - set up and map a TPACKET_V2 TX ring on @fd with the frame
 * already in every slot. Return: the ring; exits on failure. */
static unsigned char *ring_map(int fd)
{
	struct tpacket_req req = { .tp_block_size = RING_BLOCK, .tp_block_nr = RING_BLOCKS,
				   .tp_frame_size = RING_FRAME,
				   .tp_frame_nr = RING_BLOCK / RING_FRAME * RING_BLOCKS };
	size_t len = (size_t)RING_BLOCK * RING_BLOCKS;
	int v = TPACKET_V2;
	unsigned char *ring;

	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req))) {
		perror("gen64: TX ring");
		exit(1);
	}
	ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		perror("gen64: mmap");
		exit(1);
	}
	for (unsigned int i = 0; i < req.tp_frame_nr; i++)
		memcpy(ring + (size_t)i * RING_FRAME + TPACKET2_HDRLEN -
		       sizeof(struct sockaddr_ll), frame, FRAME_LEN);
	return ring;
}

/** ring_mark() - mark up to RING_KICK free slots from *@slot on for
 * sending. Return: the number marked (0: the ring is full). */
static unsigned int ring_mark(unsigned char *ring, unsigned int *slot)
{
	unsigned int nslots = RING_BLOCK / RING_FRAME * RING_BLOCKS, n;

	for (n = 0; n < RING_KICK; n++) {
		struct tpacket2_hdr *h = (void *)(ring + (size_t)*slot * RING_FRAME);

		if (h->tp_status != TP_STATUS_AVAILABLE)
			break;
		h->tp_len = FRAME_LEN;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		*slot = (*slot + 1) % nslots;
	}
	return n;
}

/** run_ring() - send through the TX ring until @end. Return: frames
 * handed to the kernel. */
static unsigned long long run_ring(int fd, double end)
{
	unsigned char *ring = ring_map(fd);
	unsigned long long sent = 0;
	unsigned int slot = 0, n;

	while (now() < end) {
		n = ring_mark(ring, &slot);
		sent += n;
		if (send(fd, NULL, 0, n ? MSG_DONTWAIT : 0) < 0 &&
		    errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
			perror("gen64: send");
			break;
		}
	}
	return sent;
}

/** run_mmsg() - send MMSG_BATCH frames per sendmmsg() until @end.
 * Return: frames the kernel took. */
static unsigned long long run_mmsg(int fd, double end)
{
	struct iovec iov = { .iov_base = frame, .iov_len = FRAME_LEN };
	struct mmsghdr mm[MMSG_BATCH];
	unsigned long long sent = 0;
	int n;

	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < MMSG_BATCH; i++) {
		mm[i].msg_hdr.msg_iov = &iov;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (now() < end) {
		n = sendmmsg(fd, mm, MMSG_BATCH, 0);
		if (n > 0)
			sent += n;
		else if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
			break;
	}
	return sent;
}

int main(int argc, char **argv)
{
	double secs = 3, t0;
	unsigned long long sent;
	int o, mmsg = 0, fd;

	while ((o = getopt(argc, argv, "mt:")) != -1) {
		if (o == 'm')
			mmsg = 1;
		else if (o == 't')
			secs = atof(optarg);
		else
			return 2;
	}
	if (argc - optind != 1 || !(secs > 0 && secs <= 600)) {
		fprintf(stderr, "usage: gen64 [-m] [-t SECONDS] IFNAME\n");
		return 2;
	}
	fd = sock_open(argv[optind]);
	t0 = now();
	sent = mmsg ? run_mmsg(fd, t0 + secs) : run_ring(fd, t0 + secs);
	printf("sent %llu frames in %.3f s: %.3f Mpps\n", sent, now() - t0,
	       sent / (now() - t0) / 1e6);
	return 0;
}
