/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core-cost.c - what the library itself costs per frame (issue 19, item 2):
 * netbe_send_burst()/netbe_send() into the null backend (whose send op
 * does nothing, so the whole time is core's: argument checks, header
 * decoding and classification, counters, locking) and a send/receive round
 * over a pair (core on both sides plus the pair's one copy per frame), in
 * ns and, where the CPU's counters are readable, instructions per frame.
 * Public API only. Not a test: numbers depend on the machine.
 * Usage: core-cost [seconds per case, default 1] [case number, default all]
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "netbe.h"

#define BURST 32
#define FRAME 60
#define HDR NETBE_VNET_HDR_LEN_MRG
#define BIG (HDR + 65535 + 18)      /* the largest frame a pair carries */

struct frames {
	uint8_t buf[BURST][HDR + FRAME];
	struct iovec iov[BURST];
	struct netbe_frame f[BURST];
};

/* A thread instruction counter. Return: its fd, or -1 when unavailable. */
static int instr_counter(void)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_HARDWARE, .size = sizeof(a),
		.config = PERF_COUNT_HW_INSTRUCTIONS,
		.exclude_kernel = 1, .exclude_hv = 1,
	};

	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

/* The counter's value, 0 when @fd is -1. */
static uint64_t instr_read(int fd)
{
	uint64_t v = 0;

	if (fd >= 0 && read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fill @fr with BURST frames of @hdr header bytes + 60. */
static void frames_init(struct frames *fr, unsigned hdr)
{
	unsigned i;

	memset(fr->buf, 0, sizeof(fr->buf));
	for (i = 0; i < BURST; i++) {
		memset(fr->buf[i] + hdr, 0xff, 6);
		fr->buf[i][hdr + 6] = 2;
		fr->buf[i][hdr + 11] = (uint8_t)i;
		fr->buf[i][hdr + 12] = 0x88;
		fr->buf[i][hdr + 13] = 0xb5;
		fr->iov[i] = (struct iovec){ fr->buf[i], hdr + FRAME };
		fr->f[i] = (struct netbe_frame){ &fr->iov[i], 1, 0 };
	}
}

/* One case: a step moving frames, and what it measured. */
struct bench_case {
	const char *name;
	int (*step)(void *arg);    /* Return: frames moved, <= 0 stops */
	void *arg;
};

/* Run @c for @secs seconds; print ns and instructions per frame. */
static void run_case(const struct bench_case *c, double secs)
{
	uint64_t frames = 0, t0, t1, i0, i1, end;
	int fd = instr_counter(), n;

	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	i0 = instr_read(fd);
	do {
		for (int k = 0; k < 64; k++) {
			n = c->step(c->arg);
			if (n <= 0) {
				fprintf(stderr, "core-cost: %s: step returned %d: %s\n", c->name, n,
					netbe_last_error());
				exit(1);
			}
			frames += (uint64_t)n;
		}
	} while ((t1 = now_ns()) < end);
	i1 = instr_read(fd);
	if (fd >= 0)
		close(fd);
	printf("%-44s %8.1f ns/frame", c->name, (double)(t1 - t0) / (double)frames);
	if (fd >= 0)
		printf(" %8.0f instructions/frame", (double)(i1 - i0) / (double)frames);
	printf("  (%.2f Mframes/s)\n", (double)frames * 1e3 / (double)(t1 - t0));
}

struct sink {
	struct netbe *be;
	struct frames fr;
};

static int step_burst(void *arg)
{
	struct sink *s = arg;

	return netbe_send_burst(s->be, s->fr.f, BURST);
}

static int step_single(void *arg)
{
	struct sink *s = arg;

	return netbe_send(s->be, &s->fr.iov[0], 1) > 0;
}

struct round {
	struct netbe *a, *b;
	struct frames tx, rx;
	struct netbe_frame big[BURST];     /* full-size receive buffers */
	struct iovec big_iov[BURST];
};

/* Send a burst into a, receive it from b. Return: frames received. */
static int step_round(void *arg)
{
	struct round *r = arg;
	int sent = netbe_send_burst(r->a, r->tx.f, BURST);

	if (sent <= 0)
		return sent;
	return netbe_recv_burst(r->b, r->rx.f, (unsigned)sent);
}

/* As step_round, receiving into full-size buffers (in place, no stash). */
static int step_round_big(void *arg)
{
	struct round *r = arg;
	int sent = netbe_send_burst(r->a, r->tx.f, BURST);

	if (sent <= 0)
		return sent;
	return netbe_recv_burst(r->b, r->big, (unsigned)sent);
}

/* Point @r's full-size receive buffers at @mem (BURST x @each bytes). */
static void big_init(struct round *r, uint8_t *mem, size_t each)
{
	for (unsigned i = 0; i < BURST; i++) {
		r->big_iov[i] = (struct iovec){ mem + i * each, each };
		r->big[i] = (struct netbe_frame){ &r->big_iov[i], 1, 0 };
	}
}

/* Open @spec with vnet header length @hdr (0: none).
 * Return: the handle; exits on failure. */
static struct netbe *open_hdr(const char *spec, unsigned hdr,
			      struct netbe_epoll *ep)
{
	struct netbe_config cfg = { 0 };
	struct netbe *be;

	if (netbe_open(&be, spec, &cfg, netbe_epoll_loop(ep)) ||
	    (hdr && netbe_set_cap(be, 0, hdr))) {
		fprintf(stderr, "core-cost: %s: %s\n", spec, netbe_last_error());
		exit(1);
	}
	return be;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	int only = argc > 2 ? atoi(argv[2]) : 0;
	static struct sink hdr_sink, plain_sink;
	static struct round rnd;
	static uint8_t big_mem[BURST * BIG];
	struct netbe_epoll *ep;

	if (secs <= 0 || secs > 60 || netbe_epoll_new(&ep)) {
		fprintf(stderr, "usage: core-cost [seconds per case, 0..60]\n");
		return 2;
	}
	hdr_sink.be = open_hdr("null", HDR, ep);
	frames_init(&hdr_sink.fr, HDR);
	plain_sink.be = open_hdr("null", 0, ep);
	frames_init(&plain_sink.fr, 0);
	rnd.a = open_hdr("pair:core-cost", HDR, ep);
	rnd.b = open_hdr("pair:core-cost", HDR, ep);
	frames_init(&rnd.tx, HDR);
	frames_init(&rnd.rx, HDR);
	big_init(&rnd, big_mem, BIG);

	const struct bench_case cases[] = {
		{ "null: send_burst x32, 12-byte vnet header", step_burst, &hdr_sink },
		{ "null: send_burst x32, no header", step_burst, &plain_sink },
		{ "null: netbe_send, 12-byte vnet header", step_single, &hdr_sink },
		{ "pair: send_burst x32 + recv_burst x32", step_round, &rnd },
		{ "pair: same, full-size receive buffers", step_round_big, &rnd },
	};
	printf("library cost per 60-byte frame, %.1f s per case\n", secs);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!only || only == (int)i + 1)
			run_case(&cases[i], secs);
	netbe_close(hdr_sink.be);
	netbe_close(plain_sink.be);
	netbe_close(rnd.a);
	netbe_close(rnd.b);
	netbe_epoll_free(ep);
	return 0;
}
