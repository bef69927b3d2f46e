/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cable.c - two handles wired back to back: the data path of `netbe patch`.
 *
 * Theory of operation: the cable is the frontend of both handles. It
 * negotiates, per direction, every offload the receiving side can hand
 * over and the sending side can take (GUEST_x on one, HOST_x on the
 * other), so two taps with vnet headers pass TSO super-frames untouched,
 * and uses one header length on both sides so a received buffer is sent
 * as it is. Each direction owns a burst of full-size buffers: the rx
 * callback of the source receives a burst and sends it to the sink. When
 * the sink refuses (-EAGAIN) the rest of the burst is kept, the source's
 * rx is disabled, and the sink's tx callback resends and re-enables it:
 * back-pressure instead of drops. A backend that fails (a tap deleted)
 * stops the loop with a message.
 *
 * Both handles deliver inline (NETBE_CFG_RX_INLINE): slirp's ACK for a
 * guest's TCP segment is written back before the next segment is fed in,
 * which is what keeps a namespace's TCP window open; a direction is never
 * pumped re-entrantly. A direction whose sink answered during its last
 * send that moved frames receives one frame at a time, so each answer goes
 * back before the next frame is read: reading the next segment first makes
 * the guest's TCP run its transmit path on the forwarder's CPU.
 *
 * Two threads (cable_open() with a second loop): loop 1 runs A's receive
 * side and B's transmit side (NETBE_CFG_TX_LOOP), loop 2 B's receive side
 * and A's, so everything of direction A->B (A's rx_cb, B's tx_cb, its
 * buffers, busy flag and flow counters) happens on loop 1's thread and
 * everything of B->A on loop 2's. Inline receive would run one
 * direction's rx callback on the other's thread, so it is off: a sink's
 * answers come through its loop, and `answered` stays false. What both
 * threads touch is atomic: the failed flag (the first failure prints, and
 * stops both loops) and the flow counters, which cable_get_flow() may
 * read from any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cable.h"

#define CABLE_BURST 32
#define CABLE_BUF (20 + 65535 + 14 + 4)
#define BURSTS_PER_CALLBACK 8

struct direction {
	struct cable *cable;
	struct netbe *src, *dst;
	const char *src_spec, *dst_spec;
	struct netbe_frame frames[CABLE_BURST];
	struct iovec iov[CABLE_BURST];
	unsigned pend_off, pend_n;   /* received but not yet sent; pend_n
				      * written with atomic stores */
	unsigned sized;              /* iov[0..sized) hold a frame's length */
	unsigned burst;              /* frames per receive: 1 or CABLE_BURST */
	bool answered;               /* the sink answered inline during a send */
	bool busy;                   /* inside pump() or on_tx()'s flush */
	struct cable_flow flow;      /* written by the direction's thread with
				      * atomic stores: read from anywhere */
};

struct cable {
	struct netbe_epoll *ep;      /* A's receive side (and B's transmit
				      * side when ep_b is set) */
	struct netbe_epoll *ep_b;    /* NULL, or B's receive side and A's
				      * transmit side */
	struct netbe *a, *b;
	const char *spec_a, *spec_b;
	struct direction ab, ba;
	uint64_t features_a, features_b;   /* negotiated */
	bool failed;                 /* atomic */
};

/* Add @n to counter @ctr that only the calling thread writes: an atomic
 * store, so readers on other threads see whole values, without a locked
 * instruction. */
static void count_add(uint64_t *ctr, uint64_t n)
{
	__atomic_store_n(ctr, __atomic_load_n(ctr, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/* Stop the loops because a backend failed; the first failure says why. */
static void cable_fail(struct cable *c, const char *spec, const char *what,
		       int err)
{
	if (!__atomic_exchange_n(&c->failed, true, __ATOMIC_ACQ_REL))
		fprintf(stderr, "patch: %s: %s failed: %s (%s)\n", spec, what,
			strerror(-err), netbe_last_error());
	netbe_epoll_stop(c->ep);
	if (c->ep_b)
		netbe_epoll_stop(c->ep_b);
}

/* Send the pending frames of @d; a send that moved frames decides how
 * many the next receive takes. Return: true when none is left. */
static bool flush(struct direction *d)
{
	if (!d->pend_n)
		return true;
	while (d->pend_n) {
		int ret = netbe_send_burst(d->dst, d->frames + d->pend_off, d->pend_n);

		if (ret == -EAGAIN)
			return false;
		if (ret < 0) {
			cable_fail(d->cable, d->dst_spec, "send", ret);
			return false;
		}
		d->pend_off += (unsigned)ret;
		__atomic_store_n(&d->pend_n, d->pend_n - (unsigned)ret, __ATOMIC_RELAXED);
	}
	d->burst = d->answered ? 1 : CABLE_BURST;
	d->answered = false;
	return true;
}

/* Receive a burst into d's buffers, each sized to its frame afterwards
 * (only those are restored to full size before the next receive).
 * Return: frames received or -errno. */
static int receive(struct direction *d)
{
	unsigned i;
	int n;

	for (i = 0; i < d->sized; i++)
		d->iov[i].iov_len = CABLE_BUF;
	d->sized = 0;
	n = netbe_recv_burst(d->src, d->frames, d->burst);
	if (n <= 0)
		return n;
	for (i = 0; i < (unsigned)n; i++)
		d->iov[i].iov_len = (size_t)d->frames[i].result;
	d->sized = (unsigned)n;
	count_add(&d->flow.frames, (unsigned)n);
	count_add(&d->flow.bursts, 1);
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
			cable_fail(d->cable, d->src_spec, "receive", n);
			return;
		}
		if (n == 0)
			return;
		d->pend_off = 0;
		__atomic_store_n(&d->pend_n, (unsigned)n, __ATOMIC_RELAXED);
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

/* Return: the direction that reads from @src. */
static struct direction *dir_from(struct cable *c, struct netbe *src)
{
	return src == c->a ? &c->ab : &c->ba;
}

/* Return: the direction that sends into @dst. */
static struct direction *dir_into(struct cable *c, struct netbe *dst)
{
	return dst == c->a ? &c->ba : &c->ab;
}

/* @be has frames: note an inline answer (one thread only: with two, the
 * other direction belongs to the other thread), then pump them across. */
static void on_rx(struct netbe *be, void *opaque)
{
	struct cable *c = opaque;
	struct direction *back = dir_into(c, be);

	if (!c->ep_b && back->busy)
		back->answered = true;  /* called inline from back's send */
	pump(dir_from(c, be));
}

/* @be takes frames again: resend what it refused, then let its source
 * receive again. */
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

/* Say that @be's link went up or down. */
static void on_link(struct netbe *be, int up, void *opaque)
{
	struct cable *c = opaque;

	printf("patch: %s: link %s\n", be == c->a ? c->spec_a : c->spec_b,
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
static int negotiate(struct cable *c)
{
	uint64_t ca = netbe_get_cap(c->a), cb = netbe_get_cap(c->b);
	uint64_t fa = 0, fb = 0;
	unsigned hdr;
	int ret;

	negotiate_dir(ca, cb, &fa, &fb);
	negotiate_dir(cb, ca, &fb, &fa);
	hdr = (fa | fb) ? NETBE_VNET_HDR_LEN_MRG : 0;
	ret = netbe_set_cap(c->a, fa, hdr);
	if (!ret)
		ret = netbe_set_cap(c->b, fb, hdr);
	c->features_a = fa;
	c->features_b = fb;
	return ret;
}

/** cable_features() - the features negotiated on end A or B (@b). */
uint64_t cable_features(const struct cable *c, bool b)
{
	return b ? c->features_b : c->features_a;
}

/* Wire @d from @src to @dst with its buffers. Return: 0 or -ENOMEM. */
static int dir_init(struct direction *d, struct cable *c, struct netbe *src,
		    struct netbe *dst, const char *src_spec, const char *dst_spec)
{
	unsigned i;

	d->cable = c;
	d->src = src;
	d->dst = dst;
	d->src_spec = src_spec;
	d->dst_spec = dst_spec;
	d->burst = CABLE_BURST;
	for (i = 0; i < CABLE_BURST; i++) {
		d->iov[i].iov_base = malloc(CABLE_BUF);
		if (!d->iov[i].iov_base)
			return -ENOMEM;
		d->iov[i].iov_len = CABLE_BUF;
		d->frames[i].iov = &d->iov[i];
		d->frames[i].iovcnt = 1;
	}
	return 0;
}

/* Free d's buffers. */
static void dir_fini(struct direction *d)
{
	unsigned i;

	for (i = 0; i < CABLE_BURST; i++)
		free(d->iov[i].iov_base);
}

/* Open both ends: on @c->ep with inline receive, or each with its
 * receive side on its own loop and its transmit side on the other's.
 * Return: 0 or -errno. */
static int ends_open(struct cable *c)
{
	struct netbe_config cfg = { .rx_cb = on_rx, .tx_cb = on_tx,
				    .link_cb = on_link, .opaque = c,
				    .flags = NETBE_CFG_RX_INLINE };
	const struct netbe_loop *la = netbe_epoll_loop(c->ep), *lb = la;
	int ret;

	if (c->ep_b) {
		lb = netbe_epoll_loop(c->ep_b);
		cfg.flags = NETBE_CFG_TX_LOOP;
		cfg.tx_loop = lb;
	}
	ret = netbe_open(&c->a, c->spec_a, &cfg, la);
	cfg.tx_loop = la;
	if (!ret)
		ret = netbe_open(&c->b, c->spec_b, &cfg, lb);
	return ret;
}

int cable_open(struct cable **out, struct netbe_epoll *ep,
	       struct netbe_epoll *ep_b, const char *spec_a, const char *spec_b)
{
	struct cable *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c) {
		fprintf(stderr, "patch: out of memory\n");
		return -ENOMEM;
	}
	c->ep = ep;
	c->ep_b = ep_b;
	c->spec_a = spec_a;
	c->spec_b = spec_b;
	ret = ends_open(c);
	if (!ret)
		ret = negotiate(c);
	if (!ret && (dir_init(&c->ab, c, c->a, c->b, spec_a, spec_b) ||
		     dir_init(&c->ba, c, c->b, c->a, spec_b, spec_a))) {
		fprintf(stderr, "patch: out of memory for buffers\n");
		ret = -ENOMEM;
	}
	if (ret) {
		cable_close(c);
		return ret;
	}
	*out = c;
	return 0;
}

void cable_start(struct cable *c)
{
	netbe_rx_enable(c->a);
	netbe_rx_enable(c->b);
}

bool cable_failed(const struct cable *c)
{
	return __atomic_load_n(&c->failed, __ATOMIC_ACQUIRE);
}

struct netbe *cable_end(const struct cable *c, bool b)
{
	return b ? c->b : c->a;
}

void cable_get_flow(const struct cable *c, bool a_to_b, struct cable_flow *f)
{
	const struct direction *d = a_to_b ? &c->ab : &c->ba;

	f->frames = __atomic_load_n(&d->flow.frames, __ATOMIC_RELAXED);
	f->bursts = __atomic_load_n(&d->flow.bursts, __ATOMIC_RELAXED);
	f->held = __atomic_load_n(&d->pend_n, __ATOMIC_RELAXED);
}

void cable_close(struct cable *c)
{
	if (!c)
		return;
	dir_fini(&c->ab);
	dir_fini(&c->ba);
	netbe_close(c->a);
	netbe_close(c->b);
	free(c);
}
