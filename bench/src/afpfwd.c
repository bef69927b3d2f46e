/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afpfwd.c - the minimal AF_PACKET forwarder that bench/suite.sh sets
 * `netbe patch af_packet:A af_packet:B` against: one packet socket per
 * interface, one thread per direction, recvmmsg() of up to BATCH frames
 * (waiting for the first only) and one sendmmsg() of what came.
 *   -v        PACKET_VNET_HDR on both sockets: GSO super-frames and
 *             partial checksums pass through with their virtio-net header
 *   -b BATCH  frames per call (1..256, default 32)
 * The sockets skip the qdisc (PACKET_QDISC_BYPASS) and ignore their own
 * outgoing frames (PACKET_IGNORE_OUTGOING). Frames sendmmsg() refuses are
 * counted and dropped. SIGINT/SIGTERM stop it; it then prints its counters
 * on stderr.
 *
 * usage: afpfwd [-v] [-b BATCH] IF_A IF_B
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fwd.h"

#define BUF_LEN (65536 + 64)   /* a GSO super-frame plus its header */

/* One direction: frames received on @in are sent on @out. */
struct dir {
	int in, out;
	unsigned long long frames, bytes, dropped;
	struct mmsghdr *mm;
	struct iovec *iov;
};

static int vnet, batch = 32;

/** afp_open() - a packet socket bound to interface @ifname, all
 * protocols. Return: the fd; exits on failure. */
static int afp_open(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = if_nametoindex(ifname) };
	int one = 1, rcvbuf = 4 << 20;
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0 || !sll.sll_ifindex ||
	    (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror(ifname);
		exit(1);
	}
	return fd;
}

/** dir_init() - allocate @d's BATCH buffers and message headers.
 * Return: nothing; exits when out of memory. */
static void dir_init(struct dir *d)
{
	char *buf = malloc((size_t)BUF_LEN * batch);

	d->mm = calloc(batch, sizeof(*d->mm));
	d->iov = calloc(batch, sizeof(*d->iov));
	if (!buf || !d->mm || !d->iov)
		exit(1);
	for (int i = 0; i < batch; i++) {
		d->iov[i].iov_base = buf + (size_t)BUF_LEN * i;
		d->mm[i].msg_hdr.msg_iov = &d->iov[i];
		d->mm[i].msg_hdr.msg_iovlen = 1;
	}
}

/** forward_batch() - receive up to BATCH frames on @d->in (blocking for
 * the first) and send them on @d->out. Return: 0, or -1 on a receive
 * error other than EINTR. */
static int forward_batch(struct dir *d)
{
	int n, sent;

	for (int i = 0; i < batch; i++)
		d->iov[i].iov_len = BUF_LEN;
	n = recvmmsg(d->in, d->mm, batch, MSG_WAITFORONE, NULL);
	if (n <= 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		d->iov[i].iov_len = d->mm[i].msg_len;
		d->bytes += d->mm[i].msg_len;
	}
	sent = sendmmsg(d->out, d->mm, n, 0);
	d->dropped += n - (sent < 0 ? 0 : sent);
	d->frames += n;
	return 0;
}

/** pump() - thread body: forward one direction until stopped.
 * Return: NULL. */
static void *pump(void *arg)
{
	struct dir *d = arg;

	while (!stop)
		if (forward_batch(d) < 0)
			break;
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct dir ab = { 0 }, ba = { 0 };
	int o;

	while ((o = getopt(argc, argv, "vb:")) != -1) {
		if (o == 'v')
			vnet = 1;
		else if (o == 'b')
			batch = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 2 || batch < 1 || batch > 256) {
		fprintf(stderr, "usage: afpfwd [-v] [-b BATCH] IF_A IF_B\n");
		return 2;
	}
	ab.in = ba.out = afp_open(argv[optind]);
	ab.out = ba.in = afp_open(argv[optind + 1]);
	dir_init(&ab);
	dir_init(&ba);
	sigaction(SIGUSR1, &sa, NULL);
	run_threads(pump, &ab, &ba);
	report("A->B", ab.frames, ab.bytes, ab.dropped);
	report("B->A", ba.frames, ba.bytes, ba.dropped);
	return 0;
}
