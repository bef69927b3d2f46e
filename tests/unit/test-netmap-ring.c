/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-netmap-ring.c - the netmap slot <-> iovec copy (netmap_ring.c) on
 * in-memory rings: frames spanning 1, 2 and 5 slots, wrap-around at the
 * end of the ring, a full transmit ring (-EAGAIN, nothing lost), short
 * iovecs and zero-length segments, broken receive rings (a MOREFRAG chain
 * into tail, a chain filling the ring, bad lengths and buffer indexes,
 * indexes out of range) and bursts.
 *
 * A "kernel" side is simulated here: it appends frames at tail of a
 * receive ring and collects what was published before head of a transmit
 * ring, then frees every slot, as a completed NIOCTXSYNC does. Buffers are
 * handed out in reverse order so a slot's buffer is found by its index,
 * not by its position.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "../../src/backends/netmap_ring.h"

#define SLOTS_MAX 128
#define BUF 16                      /* bytes per buffer: small, so frames span slots */
#define NBUFS (2 * SLOTS_MAX)

struct tring {
	struct nmr_ring r;
	struct nmr_slot slot[SLOTS_MAX];
	uint8_t bufs[NBUFS * BUF];
	uint32_t hw;                    /* transmit: first slot not yet collected */
};

/* A receive ring (empty) or a transmit ring (all free) of @nslots. */
static void ring_init(struct tring *t, uint32_t nslots, bool tx)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < nslots; i++)
		t->slot[i].buf_idx = NBUFS - 1 - i;
	memset(t->bufs, 0xee, sizeof(t->bufs));
	t->r.num_slots = nslots;
	t->r.slot = t->slot;
	t->r.buf_base = t->bufs;
	t->r.buf_size = BUF;
	t->r.nbufs = NBUFS;
	t->r.max_frags = NMR_MAX_FRAGS;
	if (tx)
		t->r.tail = nslots - 1;
}

static uint32_t next(const struct tring *t, uint32_t i)
{
	return i + 1 == t->r.num_slots ? 0 : i + 1;
}

static uint8_t *buf_of(struct tring *t, uint32_t slot)
{
	return t->bufs + (size_t)t->slot[slot].buf_idx * BUF;
}

/* Fill @p with a pattern that depends on @tag. */
static void pattern(uint8_t *p, size_t len, uint8_t tag)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(tag * 31 + i);
}

/*
 * Kernel side of a receive ring: append a frame of @len bytes (pattern
 * @tag) at tail, cut into fragments of @frag bytes (the last one shorter);
 * @last_more leaves NMR_MOREFRAG on the last slot (an unfinished chain).
 * Return: slots used.
 */
static uint32_t kern_rx_push(struct tring *t, size_t len, uint8_t tag,
			     size_t frag, bool last_more)
{
	uint8_t data[SLOTS_MAX * BUF];
	uint32_t used = 0;
	size_t off = 0;

	pattern(data, len, tag);
	do {
		uint32_t s = t->r.tail;
		size_t k = len - off < frag ? len - off : frag;

		memcpy(buf_of(t, s), data + off, k);
		t->slot[s].len = (uint16_t)k;
		off += k;
		t->slot[s].flags = off < len || last_more ? NMR_MOREFRAG : 0;
		t->r.tail = next(t, s);
		used++;
	} while (off < len);
	return used;
}

/*
 * Kernel side of a transmit ring: collect the next published frame into
 * @out. Return: its length, or -1 when nothing is published.
 */
static ssize_t kern_tx_frame(struct tring *t, uint8_t *out, unsigned *nslots)
{
	size_t len = 0;

	*nslots = 0;
	if (t->hw == t->r.head)
		return -1;
	for (;;) {
		uint32_t s = t->hw;

		memcpy(out + len, buf_of(t, s), t->slot[s].len);
		len += t->slot[s].len;
		(*nslots)++;
		t->hw = next(t, s);
		if (!(t->slot[s].flags & NMR_MOREFRAG) || t->hw == t->r.head)
			return (ssize_t)len;
	}
}

/* Kernel side: every published slot was sent; all slots are free again. */
static void kern_tx_complete(struct tring *t)
{
	t->hw = t->r.head;
	t->r.tail = t->r.head ? t->r.head - 1 : t->r.num_slots - 1;
}

/* Check that @p holds pattern @tag over @len bytes. */
static bool is_pattern(const uint8_t *p, size_t len, uint8_t tag)
{
	uint8_t want[SLOTS_MAX * BUF];

	pattern(want, len, tag);
	return memcmp(p, want, len) == 0;
}

/* Receive one frame of @len bytes cut in @frag-byte slots; expect @slots. */
static void rx_span(size_t len, size_t frag, uint32_t slots)
{
	struct tring t;
	uint8_t out[256];
	struct iovec iov = { out, sizeof(out) };
	size_t got;

	ring_init(&t, 16, false);
	CHECK_EQ(kern_rx_push(&t, len, 7, frag, false), slots);
	CHECK_EQ(nmr_rx_space(&t.r), slots);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	CHECK_EQ(got, len);
	CHECK(is_pattern(out, len, 7));
	CHECK_EQ(t.r.head, slots);
	CHECK_EQ(t.r.cur, slots);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_NONE);
	CHECK_EQ(got, 0);
}

static void rx_frame_in_one_slot(void)
{
	rx_span(10, BUF, 1);
}

static void rx_frame_in_two_slots(void)
{
	rx_span(20, BUF, 2);
}

static void rx_frame_in_five_slots(void)
{
	rx_span(70, BUF, 5);
	rx_span(60, 12, 5);            /* fragments shorter than a buffer */
}

/* A frame that ends exactly on a buffer boundary, and one that fills the
 * iovec exactly. */
static void rx_exact_sizes(void)
{
	struct tring t;
	uint8_t out[2 * BUF];
	struct iovec iov = { out, sizeof(out) };
	size_t got;

	ring_init(&t, 8, false);
	kern_rx_push(&t, 2 * BUF, 3, BUF, false);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	CHECK_EQ(got, 2 * BUF);
	CHECK(is_pattern(out, got, 3));
}

/* Frames that wrap from the last slot to slot 0. */
static void rx_wraps_around(void)
{
	struct tring t;
	uint8_t out[128];
	struct iovec iov = { out, sizeof(out) };
	size_t got;
	int i;

	ring_init(&t, 8, false);
	for (i = 0; i < 6; i++) {
		kern_rx_push(&t, 5, (uint8_t)i, BUF, false);
		CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	}
	CHECK_EQ(t.r.head, 6);
	CHECK_EQ(kern_rx_push(&t, 70, 9, BUF, false), 5);   /* slots 6,7,0,1,2 */
	CHECK_EQ(t.r.tail, 3);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	CHECK_EQ(got, 70);
	CHECK(is_pattern(out, 70, 9));
	CHECK_EQ(t.r.head, 3);
}

/* An iovec of odd, short and empty segments (including a NULL base). */
static void rx_scattered_iovec(void)
{
	struct tring t;
	uint8_t a[7], b[1], c[100], flat[108];
	struct iovec iov[] = {
		{ NULL, 0 }, { a, sizeof(a) }, { b, 0 }, { b, sizeof(b) },
		{ NULL, 0 }, { c, sizeof(c) },
	};
	size_t got;

	ring_init(&t, 16, false);
	kern_rx_push(&t, 70, 4, BUF, false);
	CHECK_EQ(nmr_rx_frame(&t.r, iov, 6, &got), NMR_RX_FRAME);
	CHECK_EQ(got, 70);
	memcpy(flat, a, 7);
	memcpy(flat + 7, b, 1);
	memcpy(flat + 8, c, 62);
	CHECK(is_pattern(flat, 70, 4));
}

/* A frame larger than the iovec: released and reported with its length,
 * and the next frame is unharmed. */
static void rx_frame_larger_than_iovec(void)
{
	struct tring t;
	uint8_t out[32];
	struct iovec iov[] = { { out, 20 }, { out + 20, 12 } };
	size_t got;

	ring_init(&t, 8, false);
	kern_rx_push(&t, 40, 1, BUF, false);
	kern_rx_push(&t, 30, 2, BUF, false);
	CHECK_EQ(nmr_rx_frame(&t.r, iov, 2, &got), NMR_RX_TOO_BIG);
	CHECK_EQ(got, 40);
	CHECK_EQ(t.r.head, 3);
	CHECK_EQ(nmr_rx_frame(&t.r, iov, 2, &got), NMR_RX_FRAME);
	CHECK_EQ(got, 30);
	CHECK(is_pattern(out, 30, 2));
	CHECK_EQ(nmr_rx_frame(&t.r, NULL, 0, &got), NMR_RX_NONE);
}

/*
 * A MOREFRAG chain that runs into tail: nothing at or past tail is read,
 * the chain stays (cur moves to tail to wait for the rest), and once the
 * last fragment arrives the whole frame comes out.
 */
static void rx_chain_into_tail_waits(void)
{
	struct tring t;
	uint8_t out[128];
	struct iovec iov = { out, sizeof(out) };
	size_t got;
	uint32_t s;

	ring_init(&t, 8, false);
	kern_rx_push(&t, 2 * BUF, 5, BUF, true);
	s = t.r.tail;                   /* a trap at tail: ends a frame, bad buffer */
	t.slot[s].len = 1000;
	t.slot[s].flags = 0;
	t.slot[s].buf_idx = UINT32_MAX;
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_NONE);
	CHECK_EQ(got, 0);
	CHECK_EQ(t.r.head, 0);
	CHECK_EQ(t.r.cur, t.r.tail);
	CHECK_EQ(t.r.rx_skip, false);
	/* the kernel finishes the frame */
	t.slot[s].buf_idx = NBUFS - 1 - s;
	pattern(out, 40, 5);
	memcpy(buf_of(&t, s), out + 2 * BUF, 8);
	memset(out, 0, sizeof(out));
	t.slot[s].len = 8;
	t.r.tail = next(&t, s);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	CHECK_EQ(got, 40);
	CHECK(is_pattern(out, 40, 5));
	CHECK_EQ(t.r.head, 3);
	CHECK_EQ(t.r.cur, 3);
}

/*
 * A chain that fills the whole ring can never end: it is dropped, and the
 * slots that finish it when they arrive are skipped, so the next real
 * frame comes out intact.
 */
static void rx_chain_filling_ring_is_dropped(void)
{
	struct tring t;
	uint8_t out[256];
	struct iovec iov = { out, sizeof(out) };
	size_t got;

	ring_init(&t, 8, false);
	kern_rx_push(&t, 7 * BUF, 1, BUF, true);    /* 7 slots: all we can own */
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_MALFORMED);
	CHECK_EQ(got, 7 * BUF);
	CHECK_EQ(t.r.head, 7);
	CHECK_EQ(t.r.cur, 7);
	CHECK(t.r.rx_skip);
	kern_rx_push(&t, 2 * BUF, 2, BUF, true);    /* more of the broken chain */
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_NONE);
	CHECK(t.r.rx_skip);
	kern_rx_push(&t, 3, 3, BUF, false);         /* its end */
	kern_rx_push(&t, 25, 4, BUF, false);        /* a good frame */
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	CHECK_EQ(got, 25);
	CHECK(is_pattern(out, 25, 4));
	CHECK(!t.r.rx_skip);
}

/* A chain longer than NMR_MAX_FRAGS slots is dropped as soon as it is
 * seen to be, and its end is skipped when it arrives. */
static void rx_chain_too_long_is_dropped(void)
{
	struct tring t;
	uint8_t out[64];
	struct iovec iov = { out, sizeof(out) };
	size_t got;
	uint32_t i;

	ring_init(&t, SLOTS_MAX, false);
	for (i = 0; i < NMR_MAX_FRAGS - 1; i++)
		kern_rx_push(&t, 1, 1, BUF, true);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_NONE);
	CHECK_EQ(t.r.head, 0);
	kern_rx_push(&t, 1, 1, BUF, true);          /* slot 64, still MOREFRAG */
	kern_rx_push(&t, 1, 1, BUF, true);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_MALFORMED);
	CHECK_EQ(got, NMR_MAX_FRAGS);
	CHECK_EQ(t.r.head, NMR_MAX_FRAGS);
	CHECK(t.r.rx_skip);
	kern_rx_push(&t, 1, 1, BUF, false);         /* the end of the long chain */
	kern_rx_push(&t, 20, 2, BUF, false);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	CHECK_EQ(got, 20);
	CHECK(is_pattern(out, 20, 2));
	CHECK_EQ(t.r.head, t.r.tail);
}

/* Slots that lie: a length beyond the buffer, a buffer index out of range. */
static void rx_bad_slots_are_dropped(void)
{
	struct tring t;
	uint8_t out[256];
	struct iovec iov = { out, sizeof(out) };
	size_t got;

	ring_init(&t, 8, false);
	kern_rx_push(&t, 20, 1, BUF, false);
	t.slot[0].len = BUF + 1;
	kern_rx_push(&t, 10, 2, BUF, false);
	t.slot[2].buf_idx = NBUFS;
	kern_rx_push(&t, 10, 3, BUF, false);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_MALFORMED);
	CHECK_EQ(t.r.head, 2);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_MALFORMED);
	CHECK_EQ(t.r.head, 3);
	CHECK(!t.r.rx_skip);
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), NMR_RX_FRAME);
	CHECK(is_pattern(out, 10, 3));
}

/* Ring descriptions that cannot be walked are refused, not walked. */
static void invalid_rings_are_refused(void)
{
	struct tring t;
	uint8_t out[64];
	struct iovec iov = { out, sizeof(out) };
	size_t got;

	ring_init(&t, 8, false);
	t.r.tail = 8;
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), -EIO);
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), -EIO);
	CHECK_EQ(nmr_rx_space(&t.r), 0);
	ring_init(&t, 8, false);
	t.r.head = 9;
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), -EIO);
	ring_init(&t, 8, false);
	t.r.num_slots = 0;
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), -EIO);
	ring_init(&t, 8, false);
	t.r.slot = NULL;
	CHECK_EQ(nmr_rx_frame(&t.r, &iov, 1, &got), -EIO);
	ring_init(&t, 8, true);
	t.r.buf_size = 0;
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), -EIO);
	CHECK(!nmr_ring_valid(NULL));
}

/* A receive burst takes what is complete, counts drops, leaves the rest. */
static void rx_burst(void)
{
	struct tring t;
	uint8_t bufs[8][64];
	struct iovec iov[8];
	struct netbe_xfer x[8];
	struct nmr_rx_drops d = { 0, 0 };
	int i;

	ring_init(&t, 32, false);
	for (i = 0; i < 8; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		x[i].iov = &iov[i];
		x[i].iovcnt = 1;
		x[i].len = 0;
	}
	kern_rx_push(&t, 14, 1, BUF, false);
	kern_rx_push(&t, 64, 2, BUF, false);
	kern_rx_push(&t, 65, 3, BUF, false);        /* too big for 64 */
	kern_rx_push(&t, 33, 4, BUF, false);
	kern_rx_push(&t, 50, 5, BUF, false);
	kern_rx_push(&t, 16, 6, BUF, true);         /* still arriving */
	CHECK_EQ(nmr_rx_burst(&t.r, x, 2, &d), 2);
	CHECK_EQ(x[0].len, 14);
	CHECK_EQ(x[1].len, 64);
	CHECK(is_pattern(bufs[1], 64, 2));
	CHECK_EQ(nmr_rx_burst(&t.r, x, 8, &d), 2);
	CHECK_EQ(d.too_big, 1);
	CHECK_EQ(d.malformed, 0);
	CHECK_EQ(x[0].len, 33);
	CHECK_EQ(x[1].len, 50);
	CHECK(is_pattern(bufs[0], 33, 4));
	CHECK(is_pattern(bufs[1], 50, 5));
	CHECK_EQ(t.r.cur, t.r.tail);
	CHECK_EQ(nmr_rx_burst(&t.r, x, 8, &d), 0);
}

/* Send one frame of @len bytes; expect @slots slots with the flags right. */
static void tx_span(size_t len, uint32_t slots)
{
	struct tring t;
	uint8_t in[256], out[256];
	struct iovec iov = { in, len };
	unsigned n;
	uint32_t i;

	ring_init(&t, 16, true);
	pattern(in, len, 8);
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), slots);
	CHECK_EQ(t.r.head, slots);
	CHECK_EQ(t.r.cur, slots);
	for (i = 0; i < slots; i++)
		CHECK_EQ(t.slot[i].flags, i + 1 < slots ? NMR_MOREFRAG : 0);
	CHECK_EQ(kern_tx_frame(&t, out, &n), len);
	CHECK_EQ(n, slots);
	CHECK(is_pattern(out, len, 8));
}

static void tx_frame_in_one_slot(void)
{
	tx_span(10, 1);
	tx_span(BUF, 1);
}

static void tx_frame_in_two_slots(void)
{
	tx_span(BUF + 1, 2);
	tx_span(2 * BUF, 2);
}

static void tx_frame_in_five_slots(void)
{
	tx_span(70, 5);
}

/* An empty frame takes one slot of length 0. */
static void tx_empty_frame(void)
{
	struct tring t;
	struct iovec iov = { NULL, 0 };

	ring_init(&t, 8, true);
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), 1);
	CHECK_EQ(t.slot[0].len, 0);
	CHECK_EQ(t.slot[0].flags, 0);
}

/* Frames that wrap from the last slot to slot 0. */
static void tx_wraps_around(void)
{
	struct tring t;
	uint8_t in[128], out[128];
	struct iovec iov = { in, 0 };
	unsigned n;
	int i;

	ring_init(&t, 8, true);
	for (i = 0; i < 6; i++) {
		iov.iov_len = 3;
		CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), 1);
	}
	kern_tx_complete(&t);
	pattern(in, 70, 6);
	iov.iov_len = 70;
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), 5);     /* slots 6,7,0,1,2 */
	CHECK_EQ(t.r.head, 3);
	CHECK_EQ(t.slot[7].flags, NMR_MOREFRAG);
	CHECK_EQ(t.slot[2].flags, 0);
	CHECK_EQ(kern_tx_frame(&t, out, &n), 70);
	CHECK(is_pattern(out, 70, 6));
}

/* A gather list of odd, short and empty segments (including NULL bases). */
static void tx_scattered_iovec(void)
{
	struct tring t;
	uint8_t in[70], out[128];
	struct iovec iov[] = {
		{ NULL, 0 }, { in, 1 }, { in + 1, 0 }, { in + 1, 20 },
		{ NULL, 0 }, { in + 21, 11 }, { in + 32, 38 }, { NULL, 0 },
	};
	unsigned n;

	ring_init(&t, 16, true);
	pattern(in, sizeof(in), 2);
	CHECK_EQ(nmr_tx_frame(&t.r, iov, 8), 5);
	CHECK_EQ(kern_tx_frame(&t, out, &n), 70);
	CHECK(is_pattern(out, 70, 2));
}

/*
 * A full ring: the frame that does not fit is refused whole with -EAGAIN
 * and nothing is written; once the kernel frees slots the same call sends
 * it, and every frame arrives.
 */
static void tx_full_ring_keeps_frame(void)
{
	struct tring t;
	uint8_t in[48], out[64];
	struct iovec iov = { in, sizeof(in) };
	struct nmr_slot before;
	unsigned n;
	int i;

	ring_init(&t, 8, true);                     /* 7 free slots */
	for (i = 0; i < 2; i++) {
		pattern(in, sizeof(in), (uint8_t)i);
		CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), 3);
	}
	before = t.slot[t.r.head];
	pattern(in, sizeof(in), 2);
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), -EAGAIN);
	CHECK_EQ(t.r.head, 6);
	CHECK_EQ(t.r.cur, 6);
	CHECK(memcmp(&before, &t.slot[6], sizeof(before)) == 0);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(kern_tx_frame(&t, out, &n), 48);
		CHECK(is_pattern(out, 48, (uint8_t)i));
	}
	kern_tx_complete(&t);
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), 3);
	CHECK_EQ(kern_tx_frame(&t, out, &n), 48);
	CHECK(is_pattern(out, 48, 2));
	CHECK_EQ(kern_tx_frame(&t, out, &n), -1);
}

/* Frames the port can never take are -EMSGSIZE, never -EAGAIN forever. */
static void tx_too_big(void)
{
	struct tring t;
	uint8_t in[8 * BUF];
	struct iovec iov = { in, BUF + 1 };

	ring_init(&t, 8, true);
	t.r.max_frags = 1;
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), -EMSGSIZE);
	CHECK_EQ(t.r.head, 0);
	iov.iov_len = BUF;
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), 1);
	ring_init(&t, 8, true);
	iov.iov_len = 8 * BUF;                      /* 8 slots: more than a ring holds */
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), -EMSGSIZE);
	iov.iov_len = 7 * BUF;
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), 7);
}

/* A free slot with a bad buffer index is -EIO, with nothing written. */
static void tx_bad_buffer_index(void)
{
	struct tring t;
	uint8_t in[40];
	struct iovec iov = { in, sizeof(in) };

	ring_init(&t, 8, true);
	t.slot[2].buf_idx = NBUFS + 5;
	CHECK_EQ(nmr_tx_frame(&t.r, &iov, 1), -EIO);
	CHECK_EQ(t.r.head, 0);
	CHECK_EQ(t.slot[0].len, 0);
}

/* A transmit burst: frames until the ring is full, the slot count for the
 * one sync, too-big frames consumed with their error, the rest after the
 * kernel frees slots. */
static void tx_burst(void)
{
	struct tring t;
	uint8_t in[6][40], out[64];
	struct iovec iov[6];
	struct netbe_xfer x[6];
	unsigned slots, n;
	int i;

	ring_init(&t, 8, true);
	t.r.max_frags = 2;
	for (i = 0; i < 6; i++) {
		pattern(in[i], sizeof(in[i]), (uint8_t)(10 + i));
		iov[i].iov_base = in[i];
		iov[i].iov_len = 2 * BUF;
		x[i].iov = &iov[i];
		x[i].iovcnt = 1;
		x[i].err = 1;
	}
	iov[1].iov_len = 40;                        /* 3 slots: too big for max_frags 2 */
	CHECK_EQ(nmr_tx_burst(&t.r, x, 6, &slots), 4);
	CHECK_EQ(slots, 6);
	CHECK_EQ(x[0].err, 0);
	CHECK_EQ(x[1].err, -EMSGSIZE);
	CHECK_EQ(x[2].err, 0);
	CHECK_EQ(x[3].err, 0);
	CHECK_EQ(nmr_tx_burst(&t.r, x + 4, 2, &slots), -EAGAIN);
	CHECK_EQ(slots, 0);
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		CHECK_EQ(kern_tx_frame(&t, out, &n), 2 * BUF);
		CHECK(is_pattern(out, 2 * BUF, (uint8_t)(10 + i)));
	}
	kern_tx_complete(&t);
	CHECK_EQ(nmr_tx_burst(&t.r, x + 4, 2, &slots), 2);
	CHECK_EQ(slots, 4);
	CHECK_EQ(nmr_tx_burst(&t.r, x, 0, &slots), 0);
	for (i = 4; i < 6; i++) {
		CHECK_EQ(kern_tx_frame(&t, out, &n), 2 * BUF);
		CHECK(is_pattern(out, 2 * BUF, (uint8_t)(10 + i)));
	}
}

int main(void)
{
	RUN(rx_frame_in_one_slot);
	RUN(rx_frame_in_two_slots);
	RUN(rx_frame_in_five_slots);
	RUN(rx_exact_sizes);
	RUN(rx_wraps_around);
	RUN(rx_scattered_iovec);
	RUN(rx_frame_larger_than_iovec);
	RUN(rx_chain_into_tail_waits);
	RUN(rx_chain_filling_ring_is_dropped);
	RUN(rx_chain_too_long_is_dropped);
	RUN(rx_bad_slots_are_dropped);
	RUN(invalid_rings_are_refused);
	RUN(rx_burst);
	RUN(tx_frame_in_one_slot);
	RUN(tx_frame_in_two_slots);
	RUN(tx_frame_in_five_slots);
	RUN(tx_empty_frame);
	RUN(tx_wraps_around);
	RUN(tx_scattered_iovec);
	RUN(tx_full_ring_keeps_frame);
	RUN(tx_too_big);
	RUN(tx_bad_buffer_index);
	RUN(tx_burst);
	return harness_done();
}
