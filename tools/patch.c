/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * patch.c - `netbe patch SPEC_A SPEC_B`: a userspace L2 cable.
 *
 * Theory of operation: the patch is the frontend of both handles. It
 * negotiates, per direction, every offload the receiving side can hand
 * over and the sending side can take (GUEST_x on one, HOST_x on the
 * other), so two taps with vnet headers pass TSO super-frames untouched,
 * and uses one header length on both sides so a received buffer is sent
 * as it is. Each direction owns a burst of full-size buffers: the rx
 * callback of the source receives a burst and sends it to the sink. When
 * the sink refuses (-EAGAIN) the rest of the burst is kept, the source's
 * rx is disabled, and the sink's tx callback resends and re-enables it:
 * back-pressure instead of drops. A backend that fails (a tap deleted)
 * ends the patch with a message and exit code 1; SIGINT/SIGTERM end it
 * with exit code 0. Both print the counters. Both handles deliver inline
 * (NETBE_CFG_RX_INLINE): slirp's ACK for a guest's TCP segment is written
 * back before the next segment is fed in, which is what keeps a
 * namespace's TCP window open; a direction is never pumped re-entrantly.
 * A direction whose sink answered during its last send receives one frame
 * at a time, so each answer goes back before the next frame is read.
 * --busy-poll makes the loop spin for a while after traffic instead of
 * sleeping (netbe_epoll_set_busy_poll), for poll-mode comparisons and
 * latency.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "netbe.h"

#define PATCH_BURST 32
#define PATCH_BUF (20 + 65535 + 14 + 4)
#define BURSTS_PER_CALLBACK 8

struct direction {
	struct patch *patch;
	struct netbe *src, *dst;
	const char *src_spec;
	struct netbe_frame frames[PATCH_BURST];
	struct iovec iov[PATCH_BURST];
	unsigned pend_off, pend_n;   /* received but not yet sent */
	unsigned burst;              /* frames per receive: 1 or PATCH_BURST */
	bool answered;               /* the sink answered inline during a send */
	bool busy;                   /* inside pump() or on_tx()'s flush */
};

struct patch {
	struct netbe_epoll *ep;
	struct netbe *a, *b;
	const char *spec_a, *spec_b;
	struct direction ab, ba;
	int exit_code;
};

static struct netbe_epoll *signal_loop;

static void on_signal(int sig)
{
	(void)sig;
	if (signal_loop)
		netbe_epoll_stop(signal_loop);
}

/* Stop the patch because a backend failed. */
static void patch_fail(struct patch *p, const char *spec, const char *what,
		       int err)
{
	if (!p->exit_code)
		fprintf(stderr, "patch: %s: %s failed: %s (%s)\n", spec, what,
			strerror(-err), netbe_last_error());
	p->exit_code = 1;
	netbe_epoll_stop(p->ep);
}

/* Send the pending frames of @d. Return: true when none is left. */
static bool flush(struct direction *d)
{
	while (d->pend_n) {
		int ret = netbe_send_burst(d->dst, d->frames + d->pend_off, d->pend_n);

		if (ret == -EAGAIN)
			return false;
		if (ret < 0) {
			patch_fail(d->patch, d->dst == d->patch->a ? d->patch->spec_a
				   : d->patch->spec_b, "send", ret);
			return false;
		}
		d->pend_off += (unsigned)ret;
		d->pend_n -= (unsigned)ret;
	}
	d->burst = d->answered ? 1 : PATCH_BURST;
	d->answered = false;
	return true;
}

/* Receive a burst into d's buffers, each sized to its frame afterwards.
 * Return: frames received or -errno. */
static int receive(struct direction *d)
{
	unsigned i;
	int n;

	for (i = 0; i < d->burst; i++)
		d->iov[i].iov_len = PATCH_BUF;
	n = netbe_recv_burst(d->src, d->frames, d->burst);
	for (i = 0; n > 0 && i < (unsigned)n; i++)
		d->iov[i].iov_len = (size_t)d->frames[i].result;
	return n;
}

/* Move bursts from d->src to d->dst until the source is empty, the sink
 * is full, or the per-callback budget is spent. */
static void pump_bursts(struct direction *d)
{
	unsigned round;
	int n;

	for (round = 0; round < BURSTS_PER_CALLBACK; round++) {
		if (!flush(d)) {
			netbe_rx_disable(d->src);
			return;
		}
		n = receive(d);
		if (n < 0) {
			patch_fail(d->patch, d->src_spec, "receive", n);
			return;
		}
		if (n == 0)
			return;
		d->pend_off = 0;
		d->pend_n = (unsigned)n;
		if ((unsigned)n < d->burst)
			break;  /* the source ran dry */
	}
	if (!flush(d))
		netbe_rx_disable(d->src);
}

/*
 * pump() - pump_bursts() unless @d is already being pumped further up the
 * stack: with inline receive, a send can call back into the other
 * direction, whose send can call back into this one. The nested call
 * leaves the frames to a loop round (rx_enable kicks the source).
 */
static void pump(struct direction *d)
{
	if (d->busy) {
		netbe_rx_enable(d->src);
		return;
	}
	d->busy = true;
	pump_bursts(d);
	d->busy = false;
}

static struct direction *dir_from(struct patch *p, struct netbe *src)
{
	return src == p->a ? &p->ab : &p->ba;
}

static struct direction *dir_into(struct patch *p, struct netbe *dst)
{
	return dst == p->a ? &p->ba : &p->ab;
}

static void on_rx(struct netbe *be, void *opaque)
{
	struct direction *back = dir_into(opaque, be);

	if (back->busy)
		back->answered = true;  /* called inline from back's send */
	pump(dir_from(opaque, be));
}

static void on_tx(struct netbe *be, void *opaque)
{
	struct direction *d = dir_into(opaque, be);
	bool done;

	if (d->busy)
		return;  /* the flush further up the stack goes on */
	d->busy = true;
	done = flush(d);
	d->busy = false;
	if (done)
		netbe_rx_enable(d->src);
}

static void on_link(struct netbe *be, int up, void *opaque)
{
	struct patch *p = opaque;

	printf("patch: %s: link %s\n", be == p->a ? p->spec_a : p->spec_b,
	       up ? "up" : "down");
	fflush(stdout);
}

/* The offload pairs: what a receiving side hands over (GUEST_x) and what
 * a sending side takes (HOST_x). */
static const uint64_t offload_pairs[][2] = {
	{ NETBE_F_GUEST_CSUM, NETBE_F_CSUM },
	{ NETBE_F_GUEST_TSO4, NETBE_F_HOST_TSO4 },
	{ NETBE_F_GUEST_TSO6, NETBE_F_HOST_TSO6 },
	{ NETBE_F_GUEST_ECN, NETBE_F_HOST_ECN },
	{ NETBE_F_GUEST_UFO, NETBE_F_HOST_UFO },
	{ NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6, NETBE_F_HOST_USO },
};

/* Features for frames flowing from @rx_caps's side to @tx_caps's side:
 * *@rx_f gets the GUEST bits, *@tx_f the HOST bits. */
static void negotiate_dir(uint64_t rx_caps, uint64_t tx_caps, uint64_t *rx_f,
			  uint64_t *tx_f)
{
	unsigned i;

	for (i = 0; i < sizeof(offload_pairs) / sizeof(offload_pairs[0]); i++) {
		uint64_t g = rx_caps & offload_pairs[i][0];

		if (g && (tx_caps & offload_pairs[i][1])) {
			*rx_f |= g;
			*tx_f |= offload_pairs[i][1];
		}
	}
}

/* Fix the richest common setting on both handles. Return: 0 or -errno. */
static int negotiate(struct patch *p)
{
	uint64_t ca = netbe_get_cap(p->a), cb = netbe_get_cap(p->b);
	uint64_t fa = 0, fb = 0;
	unsigned hdr;
	int ret;

	negotiate_dir(ca, cb, &fa, &fb);
	negotiate_dir(cb, ca, &fb, &fa);
	hdr = (fa | fb) ? NETBE_VNET_HDR_LEN_MRG : 0;
	ret = netbe_set_cap(p->a, fa, hdr);
	if (!ret)
		ret = netbe_set_cap(p->b, fb, hdr);
	if (!ret)
		printf("patch: offloads A 0x%llx B 0x%llx, header %u bytes\n",
		       (unsigned long long)fa, (unsigned long long)fb, hdr);
	return ret;
}

static int dir_init(struct direction *d, struct patch *p, struct netbe *src,
		    struct netbe *dst, const char *src_spec)
{
	unsigned i;

	d->patch = p;
	d->src = src;
	d->dst = dst;
	d->src_spec = src_spec;
	d->burst = PATCH_BURST;
	for (i = 0; i < PATCH_BURST; i++) {
		d->iov[i].iov_base = malloc(PATCH_BUF);
		if (!d->iov[i].iov_base)
			return -ENOMEM;
		d->iov[i].iov_len = PATCH_BUF;
		d->frames[i].iov = &d->iov[i];
		d->frames[i].iovcnt = 1;
	}
	return 0;
}

static void dir_fini(struct direction *d)
{
	unsigned i;

	for (i = 0; i < PATCH_BURST; i++)
		free(d->iov[i].iov_base);
}

/* Print one handle's counters on one line. */
static void print_stats(const char *label, const char *spec, struct netbe *be)
{
	struct netbe_stats st;
	unsigned i;

	if (!be || netbe_get_stats(be, &st))
		return;
	printf("%s %s: tx %llu frames %llu bytes, rx %llu frames %llu bytes, tx_eagain %llu",
	       label, spec, (unsigned long long)st.tx_frames,
	       (unsigned long long)st.tx_bytes, (unsigned long long)st.rx_frames,
	       (unsigned long long)st.rx_bytes, (unsigned long long)st.tx_eagain);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		if (st.drops[i])
			printf(", %s %llu", netbe_drop_reason_name(i),
			       (unsigned long long)st.drops[i]);
	printf("\n");
	fflush(stdout);
}

static void on_stats_timer(void *opaque)
{
	struct patch *p = opaque;

	print_stats("A", p->spec_a, p->a);
	print_stats("B", p->spec_b, p->b);
}

/* Arm the periodic --stats timer. Return: the timer handle or NULL. */
static void *stats_timer(struct patch *p, unsigned seconds)
{
	const struct netbe_loop *l = netbe_epoll_loop(p->ep);
	uint64_t ns = (uint64_t)seconds * 1000000000ULL;
	void *t = NULL;

	if (!seconds || l->ops->timer_add(l->loop, on_stats_timer, p, &t))
		return NULL;
	l->ops->timer_mod(l->loop, t, ns, ns);
	return t;
}

/* Open both ends and wire the directions. Return: 0 or an exit code. */
static int patch_open(struct patch *p)
{
	struct netbe_config cfg = { .rx_cb = on_rx, .tx_cb = on_tx, .opaque = p,
				    .link_cb = on_link, .flags = NETBE_CFG_RX_INLINE };
	const struct netbe_loop *l;

	if (netbe_epoll_new(&p->ep))
		return 1;
	l = netbe_epoll_loop(p->ep);
	if (netbe_open(&p->a, p->spec_a, &cfg, l) ||
	    netbe_open(&p->b, p->spec_b, &cfg, l) || negotiate(p))
		return 1;
	if (dir_init(&p->ab, p, p->a, p->b, p->spec_a) ||
	    dir_init(&p->ba, p, p->b, p->a, p->spec_b)) {
		fprintf(stderr, "patch: out of memory for buffers\n");
		return 1;
	}
	return 0;
}

static void patch_close(struct patch *p)
{
	dir_fini(&p->ab);
	dir_fini(&p->ba);
	netbe_close(p->a);
	netbe_close(p->b);
	netbe_epoll_free(p->ep);
}

static int usage(void)
{
	fprintf(stderr, "usage: netbe patch [--stats SECONDS] [--busy-poll USEC] SPEC_A SPEC_B\n");
	return 2;
}

/* Parse @arg as a number from @min to @max for --@opt. Return: 0 or 2. */
static int parse_uint(const char *opt, const char *arg, long min, long max,
		      const char *unit, unsigned *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < min || v > max) {
		fprintf(stderr, "patch: --%s wants %s from %ld to %ld, got '%s'\n",
			opt, unit, min, max, arg);
		return 2;
	}
	*out = (unsigned)v;
	return 0;
}

/* Parse the options. Return: 0, or 2 on a usage error. */
static int parse_args(int argc, char **argv, struct patch *p, unsigned *stats,
		      unsigned *busy_us)
{
	static const struct option opts[] = {
		{ "stats", required_argument, NULL, 's' },
		{ "busy-poll", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = 0;

	optind = 1;
	while (!ret && (c = getopt_long(argc, argv, "+s:b:", opts, NULL)) != -1) {
		if (c == 's')
			ret = parse_uint("stats", optarg, 1, 86400, "seconds", stats);
		else if (c == 'b')
			ret = parse_uint("busy-poll", optarg, 0, 1000000, "microseconds", busy_us);
		else
			return usage();
	}
	if (ret)
		return ret;
	if (argc - optind != 2)
		return usage();
	p->spec_a = argv[optind];
	p->spec_b = argv[optind + 1];
	return 0;
}

int netbe_cmd_patch(int argc, char **argv)
{
	struct patch p = { 0 };
	unsigned stats = 0, busy_us = 0;
	int ret;

	ret = parse_args(argc, argv, &p, &stats, &busy_us);
	if (ret)
		return ret;
	ret = patch_open(&p);
	if (!ret) {
		struct sigaction sa = { .sa_handler = on_signal };

		signal_loop = p.ep;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		stats_timer(&p, stats);
		netbe_epoll_set_busy_poll(p.ep, busy_us);
		printf("patch: ready\n");
		fflush(stdout);
		netbe_rx_enable(p.a);
		netbe_rx_enable(p.b);
		if (netbe_epoll_run(p.ep) < 0 && !p.exit_code)
			p.exit_code = 1;
		ret = p.exit_code;
		print_stats("A", p.spec_a, p.a);
		print_stats("B", p.spec_b, p.b);
		signal_loop = NULL;
	}
	patch_close(&p);
	return ret;
}
