/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tapfwd.c - the "nothing in the way" tap <-> tap forwarder that
 * bench/suite.sh sets netbe patch against: one read() and one write()
 * system call per frame, no batching, no buffering, no offload work.
 *
 * It creates the taps A and B in the current network namespace (the suite
 * moves them into the end namespaces afterwards; the fds stay valid).
 *   default  two threads, one per direction, blocking read()/write()
 *   -p       one thread: poll() on both taps, then drain at most
 *            DRAIN_MAX frames from each readable tap (non-blocking)
 *   -v       IFF_VNET_HDR with a 12-byte header and TUNSETOFFLOAD
 *            (CSUM, TSO4, TSO6, TSO_ECN): the kernel hands over 64 KiB
 *            TSO super-frames with partial checksums, passed through as is
 * Frames a write() refuses are counted and dropped. SIGINT/SIGTERM stop
 * it; it then prints its counters on stderr.
 *
 * usage: tapfwd [-v] [-p] TAP_A TAP_B
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "fwd.h"

#define BUF_LEN (65536 + 64)   /* a TSO super-frame plus its header */
#define DRAIN_MAX 64           /* frames per tap per poll() wakeup */

/* One direction: frames read from @in are written to @out. */
struct dir {
	int in, out;
	unsigned long long frames, bytes, dropped;
	char *buf;
};

static int vnet;

/** tap_open() - create or attach tap @name, with a vnet header and
 * offloads when -v was given. Return: the fd; exits on failure. */
static int tap_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	unsigned int offl = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	int hdr = 12, fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("tapfwd: /dev/net/tun");
		exit(1);
	}
	if (vnet)
		ifr.ifr_flags |= IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    (vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) ||
	    (vnet && ioctl(fd, TUNSETOFFLOAD, offl) < 0)) {
		perror(name);
		exit(1);
	}
	return fd;
}

/** move_one() - read one frame from @d->in and write it to @d->out.
 * Return: 1 moved (or dropped by the write), 0 nothing to read / EINTR,
 * -1 a read error. */
static int move_one(struct dir *d)
{
	ssize_t n = read(d->in, d->buf, BUF_LEN);

	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (write(d->out, d->buf, n) != n)
		d->dropped++;
	d->frames++;
	d->bytes += n;
	return 1;
}

/** pump() - thread body of the default mode: move frames of one
 * direction with blocking calls until stopped. Return: NULL. */
static void *pump(void *arg)
{
	struct dir *d = arg;

	while (!stop)
		if (move_one(d) < 0)
			break;
	return NULL;
}

/** drain() - move at most DRAIN_MAX frames of direction @d (its input is
 * non-blocking). Return: nothing. */
static void drain(struct dir *d)
{
	for (int i = 0; i < DRAIN_MAX; i++)
		if (move_one(d) <= 0)
			break;
}

/** run_poll() - the single-threaded mode: poll() both taps, drain the
 * readable ones. Return: nothing. */
static void run_poll(struct dir *ab, struct dir *ba)
{
	struct pollfd p[2] = { { .fd = ab->in, .events = POLLIN },
			       { .fd = ba->in, .events = POLLIN } };

	fcntl(ab->in, F_SETFL, O_NONBLOCK);
	fcntl(ba->in, F_SETFL, O_NONBLOCK);
	while (!stop) {
		if (poll(p, 2, 200) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			drain(ab);
		if (p[1].revents & POLLIN)
			drain(ba);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct dir ab = { 0 }, ba = { 0 };
	int o, use_poll = 0;

	while ((o = getopt(argc, argv, "vp")) != -1) {
		if (o == 'v')
			vnet = 1;
		else if (o == 'p')
			use_poll = 1;
		else
			return 2;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: tapfwd [-v] [-p] TAP_A TAP_B\n");
		return 2;
	}
	ab.in = ba.out = tap_open(argv[optind]);
	ab.out = ba.in = tap_open(argv[optind + 1]);
	ab.buf = malloc(BUF_LEN);
	ba.buf = malloc(BUF_LEN);
	if (!ab.buf || !ba.buf)
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (use_poll)
		run_poll(&ab, &ba);
	else
		run_threads(pump, &ab, &ba);
	report("A->B", ab.frames, ab.bytes, ab.dropped);
	report("B->A", ba.frames, ba.bytes, ba.dropped);
	return 0;
}
