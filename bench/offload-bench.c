/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * offload-bench.c - how fast the software offload engine segments.
 *
 * Builds one 64 KiB TSO4 super-frame (IPv4 total length 65535, MSS 1448,
 * 46 segments), then runs ol_check() + ol_segment() on it in a loop for
 * about a second per mode and prints segments per second and nanoseconds
 * per produced segment, both per second of CPU time the thread got (so a
 * busy machine does not skew them much): with complete checksums (what a backend without
 * offloads gets) and with partial ones (a frontend with GUEST_CSUM).
 * Not a test: numbers depend on the machine. Usage: offload-bench [secs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "offload-frames.h"
#include "offload.h"

static uint8_t frame[70000];
static uint8_t store[OL_STORE_MAX];
static struct ol_seg segs[OL_MAX_SEGS];

/* Return: the time of clock @id in nanoseconds. */
static double now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Segment the frame repeatedly for @secs seconds with @flags and print
 * the rates. Return: 0, or 1 if the engine refused the frame. */
static int run(const char *name, const struct netbe_vnet_hdr *h, size_t len,
	       unsigned flags, double secs)
{
	double w0 = now_ns(CLOCK_MONOTONIC), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID), t;
	unsigned long frames = 0, nsegs = 0;
	size_t bytes = 0;
	struct ol_pkt p;
	int n, i;

	do {
		for (i = 0; i < 64; i++) {
			if (ol_check(h, frame, len, 0, OL_TEST_MAX, &p) != OL_OK)
				return 1;
			n = ol_segment(h, &p, flags, 0, store, sizeof(store),
				       segs, OL_MAX_SEGS);
			if (n < 1)
				return 1;
			nsegs += (unsigned long)n;
			bytes += len;
			frames++;
		}
	} while (now_ns(CLOCK_MONOTONIC) - w0 < secs * 1e9);
	t = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	printf("%-22s %lu frames, %lu segments in %.3f s of CPU: %.2f Msegments/s, "
	       "%.1f ns/segment, %.2f Gbit/s\n", name, frames, nsegs,
	       t / 1e9, nsegs / t * 1e3, t / nsegs, bytes * 8 / t);
	return 0;
}

int main(int argc, char **argv)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 65535 - 40,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 };
	struct netbe_vnet_hdr h;
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	size_t len = fb_build(frame, &o, &h, NULL);

	printf("64 KiB TSO4 frame: %zu bytes, gso_size %u\n", len, h.gso_size);
	if (run("TSO4 full checksum", &h, len, 0, secs) ||
	    run("TSO4 partial checksum", &h, len, OL_CSUM_PARTIAL, secs)) {
		fprintf(stderr, "offload-bench: the engine refused the frame\n");
		return 1;
	}
	return 0;
}
