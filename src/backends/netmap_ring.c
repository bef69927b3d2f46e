/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netmap_ring.c - copying frames between netmap ring slots and iovecs.
 *
 * Theory of operation. A netmap ring is a circular array of slots, each
 * naming a fixed-size buffer. The application owns the slots in
 * [head, tail): on a receive ring they hold frames, on a transmit ring they
 * are free. It hands slots back by moving head (and cur, the point after
 * which poll() wakes it) and telling the kernel with one ioctl; the kernel
 * moves tail. A frame longer than one buffer spans several slots, every one
 * but the last flagged NS_MOREFRAG.
 *
 * Receive walks the chain at head without going past tail or past
 * NMR_MAX_FRAGS slots, then decides on the whole chain before copying a
 * byte: complete and fitting (copied out, slots released), complete but
 * larger than the caller's buffers (released and reported as too big: core
 * always gives room for the largest frame, so only a peer breaking the
 * rules gets there), unfinished at tail (left in place with cur at tail:
 * the rest is still arriving, and poll wakes us when it does), or broken
 * (a chain that fills the ring or is too long, a slot longer than its
 * buffer, a buffer index out of range: released and reported; the rest of
 * an unfinished broken chain is skipped when it arrives).
 *
 * Transmit computes the slots a frame needs first and writes nothing unless
 * the free slots take all of it, so a full ring is -EAGAIN with the frame
 * kept by the caller, never a frame cut in half or dropped. Nothing here
 * trusts the ring description: indexes, lengths and buffer indexes are
 * checked before use.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netmap_ring.h"

/* A position in an iovec: segment @seg, byte @off in it. */
struct iov_cursor {
	const struct iovec *iov;
	int cnt;
	int seg;
	size_t off;
};

/* Facts about the slot chain at head, gathered before anything moves. */
struct chain {
	uint32_t slots;        /* slots walked */
	uint32_t end;          /* the slot after the last one walked */
	size_t len;            /* bytes in the walked slots */
	bool complete;         /* the last walked slot ends the frame */
	bool bad;              /* a slot is longer than a buffer or has a bad index */
};

/** ring_next() - the slot after @i. Return: its index. */
static uint32_t ring_next(const struct nmr_ring *r, uint32_t i)
{
	return i + 1 == r->num_slots ? 0 : i + 1;
}

/** ring_dist() - slots from @from up to (not including) @to. Return: the count. */
static uint32_t ring_dist(const struct nmr_ring *r, uint32_t from, uint32_t to)
{
	return to >= from ? to - from : to + r->num_slots - from;
}

/** slot_payload_max() - bytes one slot can carry (a slot length is 16 bits).
 * Return: the smaller of the buffer size and 65535. */
static size_t slot_payload_max(const struct nmr_ring *r)
{
	return r->buf_size < UINT16_MAX ? r->buf_size : UINT16_MAX;
}

/** iov_capacity() - bytes in @iov, saturating at SIZE_MAX.
 * Return: the total (0 for a NULL or empty iovec). */
static size_t iov_capacity(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	int i;

	for (i = 0; iov && i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - total)
			return SIZE_MAX;
		total += iov[i].iov_len;
	}
	return total;
}

/** cursor_init() - a cursor at the start of @iov. */
static void cursor_init(struct iov_cursor *c, const struct iovec *iov, int iovcnt)
{
	c->iov = iov;
	c->cnt = iov ? iovcnt : 0;
	c->seg = 0;
	c->off = 0;
}

/**
 * cursor_copy() - copy @n bytes between @buf and the iovec at @c, and
 * advance @c; empty segments are stepped over without touching their base
 * @to_iov: true copies @buf into the iovec, false the iovec into @buf
 * Return: the bytes copied (less than @n only when the iovec ends first).
 */
static size_t cursor_copy(struct iov_cursor *c, uint8_t *buf, size_t n,
			  bool to_iov)
{
	size_t done = 0;

	while (done < n && c->seg < c->cnt) {
		const struct iovec *v = &c->iov[c->seg];
		size_t k = v->iov_len - c->off;

		if (k > n - done)
			k = n - done;
		if (k) {
			uint8_t *at = (uint8_t *)v->iov_base + c->off;

			if (to_iov)
				memcpy(at, buf + done, k);
			else
				memcpy(buf + done, at, k);
		}
		done += k;
		c->off += k;
		if (c->off == v->iov_len) {
			c->seg++;
			c->off = 0;
		}
	}
	return done;
}

uint8_t *nmr_slot_buf(const struct nmr_ring *r, uint32_t i)
{
	uint32_t idx;

	if (i >= r->num_slots)
		return NULL;
	idx = r->slot[i].buf_idx;
	if (idx >= r->nbufs)
		return NULL;
	return r->buf_base + (size_t)idx * r->buf_size;
}

bool nmr_ring_valid(const struct nmr_ring *r)
{
	return r && r->slot && r->buf_base && r->num_slots >= 2 &&
	       r->num_slots <= INT32_MAX && r->buf_size > 0 &&
	       r->head < r->num_slots && r->cur < r->num_slots &&
	       r->tail < r->num_slots;
}

uint32_t nmr_rx_space(const struct nmr_ring *r)
{
	if (!nmr_ring_valid(r))
		return 0;
	return ring_dist(r, r->head, r->tail);
}

/** rx_release() - hand the slots before @end back: head and cur move there. */
static void rx_release(struct nmr_ring *r, uint32_t end)
{
	r->head = end;
	r->cur = end;
}

/**
 * rx_skip_rest() - release the slots that finish a chain dropped earlier,
 * up to its last slot or to tail
 */
static void rx_skip_rest(struct nmr_ring *r)
{
	while (r->rx_skip && r->head != r->tail) {
		r->rx_skip = (r->slot[r->head].flags & NMR_MOREFRAG) != 0;
		r->head = ring_next(r, r->head);
	}
	r->cur = r->head;
}

/**
 * chain_scan() - walk the chain at head (head != tail), never reaching
 * tail and never more than NMR_MAX_FRAGS slots, into @c
 */
static void chain_scan(const struct nmr_ring *r, struct chain *c)
{
	uint32_t i = r->head;

	memset(c, 0, sizeof(*c));
	do {
		const struct nmr_slot *s = &r->slot[i];

		c->slots++;
		c->len += s->len;
		if (s->len > r->buf_size || !nmr_slot_buf(r, i))
			c->bad = true;
		i = ring_next(r, i);
		if (!(s->flags & NMR_MOREFRAG)) {
			c->complete = true;
			break;
		}
	} while (i != r->tail && c->slots < NMR_MAX_FRAGS);
	c->end = i;
}

/**
 * rx_copy() - copy the complete chain @c that starts at slot @start into
 * @iov, which holds at least c->len bytes
 */
static void rx_copy(const struct nmr_ring *r, const struct chain *c,
		    uint32_t start, const struct iovec *iov, int iovcnt)
{
	struct iov_cursor cur;
	uint32_t i, k;

	cursor_init(&cur, iov, iovcnt);
	for (k = 0, i = start; k < c->slots; k++, i = ring_next(r, i))
		cursor_copy(&cur, nmr_slot_buf(r, i), r->slot[i].len, true);
}

int nmr_rx_frame(struct nmr_ring *r, const struct iovec *iov, int iovcnt,
		 size_t *len)
{
	struct chain c;
	uint32_t start;

	*len = 0;
	if (!nmr_ring_valid(r))
		return -EIO;
	rx_skip_rest(r);
	if (r->head == r->tail)
		return NMR_RX_NONE;
	chain_scan(r, &c);
	if (!c.complete && c.end == r->tail && c.slots < NMR_MAX_FRAGS &&
	    ring_dist(r, r->head, r->tail) < r->num_slots - 1) {
		/* still arriving: keep it, wake up when tail moves on */
		r->cur = r->tail;
		return NMR_RX_NONE;
	}
	*len = c.len;
	start = r->head;
	rx_release(r, c.end);
	if (!c.complete || c.bad) {
		r->rx_skip = !c.complete;
		return NMR_RX_MALFORMED;
	}
	if (c.len > iov_capacity(iov, iovcnt))
		return NMR_RX_TOO_BIG;
	/* the released slots stay ours until the caller publishes head */
	rx_copy(r, &c, start, iov, iovcnt);
	return NMR_RX_FRAME;
}

int nmr_rx_burst(struct nmr_ring *r, struct netbe_xfer *x, unsigned n,
		 struct nmr_rx_drops *drops)
{
	unsigned got = 0;

	while (got < n) {
		size_t len;
		int ret = nmr_rx_frame(r, x[got].iov, x[got].iovcnt, &len);

		if (ret < 0)
			return got ? (int)got : ret;
		if (ret == NMR_RX_NONE)
			break;
		if (ret == NMR_RX_FRAME)
			x[got++].len = len;
		else if (ret == NMR_RX_TOO_BIG)
			drops->too_big++;
		else
			drops->malformed++;
	}
	return (int)got;
}

/**
 * tx_slots_needed() - slots a frame of @len bytes takes
 * Return: at least 1, saturating at UINT32_MAX.
 */
static uint32_t tx_slots_needed(const struct nmr_ring *r, size_t len)
{
	size_t per = slot_payload_max(r);
	size_t need = len / per + (len % per != 0);

	if (!need)
		return 1;
	return need > UINT32_MAX ? UINT32_MAX : (uint32_t)need;
}

int nmr_tx_frame(struct nmr_ring *r, const struct iovec *iov, int iovcnt)
{
	size_t len, left, per;
	uint32_t need, max, i, k;
	struct iov_cursor c;

	if (!nmr_ring_valid(r))
		return -EIO;
	len = iov_capacity(iov, iovcnt);
	per = slot_payload_max(r);
	need = tx_slots_needed(r, len);
	max = r->max_frags ? r->max_frags : 1;
	if (need > max || need > r->num_slots - 1)
		return -EMSGSIZE;
	if (need > ring_dist(r, r->head, r->tail))
		return -EAGAIN;
	for (k = 0, i = r->head; k < need; k++, i = ring_next(r, i))
		if (!nmr_slot_buf(r, i))
			return -EIO;
	cursor_init(&c, iov, iovcnt);
	left = len;
	for (k = 0, i = r->head; k < need; k++, i = ring_next(r, i)) {
		size_t chunk = left < per ? left : per;

		cursor_copy(&c, nmr_slot_buf(r, i), chunk, false);
		r->slot[i].len = (uint16_t)chunk;
		r->slot[i].flags = k + 1 < need ? NMR_MOREFRAG : 0;
		left -= chunk;
	}
	r->head = i;
	r->cur = i;
	return (int)need;
}

int nmr_tx_burst(struct nmr_ring *r, struct netbe_xfer *x, unsigned n,
		 unsigned *slots)
{
	unsigned done = 0;
	int ret = 0;

	*slots = 0;
	while (done < n) {
		ret = nmr_tx_frame(r, x[done].iov, x[done].iovcnt);
		if (ret == -EAGAIN || ret == -EIO)
			break;
		x[done].err = ret < 0 ? ret : 0;
		if (ret > 0)
			*slots += (unsigned)ret;
		done++;
	}
	if (!done && n)
		return ret;
	return (int)done;
}
