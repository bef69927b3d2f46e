/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netmap_ring.h - the netmap data path as pure functions: frames copied
 * between the slots of a netmap ring and iovecs, with no netmap header and
 * no system call, so it is built and unit-tested everywhere.
 *
 * A ring is described by struct nmr_ring: the slot array (laid out exactly
 * as struct netmap_slot, which netmap.c checks at compile time), the
 * user-owned window [head, tail) and where the buffers are. The functions
 * move head and cur in the description only; the caller copies them back
 * to the shared ring (after a release fence) and issues the one
 * NIOCRXSYNC/NIOCTXSYNC per batch. tail is never written and nothing at or
 * past tail is ever read.
 */
#ifndef NETBE_NETMAP_RING_H
#define NETBE_NETMAP_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend.h"

/* Slot flag: the frame continues in the next slot (NS_MOREFRAG). */
#define NMR_MOREFRAG 0x0020u
/* Most slots a frame may span (NETMAP_MAX_FRAGS). */
#define NMR_MAX_FRAGS 64u

/* One slot; the layout of struct netmap_slot. */
struct nmr_slot {
	uint32_t buf_idx;
	uint16_t len;
	uint16_t flags;
	uint64_t ptr;
};

struct nmr_ring {
	uint32_t num_slots;
	uint32_t head;          /* first slot owned by us */
	uint32_t cur;           /* wake-up point: poll fires when tail passes it */
	uint32_t tail;          /* first slot owned by the kernel (read only) */
	uint32_t buf_size;      /* bytes per buffer */
	struct nmr_slot *slot;  /* num_slots entries */
	uint8_t *buf_base;      /* buffer 0 */
	uint32_t nbufs;         /* buffers at buf_base; larger indexes are bad */
	unsigned max_frags;     /* transmit: slots a frame may span (0 = 1) */
	bool rx_skip;           /* receive: drop slots up to the end of a chain
				 * whose start was dropped; kept by the caller */
};

/* What nmr_rx_frame() found at head. */
enum nmr_rx_result {
	NMR_RX_NONE = 0,        /* no complete frame between head and tail */
	NMR_RX_FRAME,           /* a frame was copied out */
	NMR_RX_TOO_BIG,         /* a frame larger than the iovec: dropped */
	NMR_RX_MALFORMED,       /* a broken slot chain: dropped */
};

/* Frames nmr_rx_burst() dropped, by reason. */
struct nmr_rx_drops {
	unsigned too_big;       /* count as NETBE_DROP_RX_TOO_BIG */
	unsigned malformed;     /* count as NETBE_DROP_RX_BAD_FRAMING */
};

/**
 * nmr_slot_buf() - the buffer of slot @i
 * Return: its address (buf_size bytes), or NULL when the slot's buffer
 * index is outside the buffers the ring describes.
 */
uint8_t *nmr_slot_buf(const struct nmr_ring *r, uint32_t i);

/**
 * nmr_ring_valid() - whether the description can be walked safely:
 * slots and buffers present, head, cur and tail inside the ring
 * Return: true when it can.
 */
bool nmr_ring_valid(const struct nmr_ring *r);

/**
 * nmr_rx_space() - slots between head and tail (owned by us, unread)
 * Return: the count, 0 for an invalid ring.
 */
uint32_t nmr_rx_space(const struct nmr_ring *r);

/**
 * nmr_rx_frame() - take the frame at head: gather its slots (NMR_MOREFRAG
 * on all but the last) into @iov, then move head and cur past them
 *
 * A chain that runs into tail is a frame still arriving: it stays, and cur
 * is moved to tail so poll wakes when more slots come. A chain that can
 * never complete (it fills the ring, or spans more than NMR_MAX_FRAGS
 * slots), a slot longer than a buffer, or a bad buffer index is malformed:
 * its slots are released, and the rest of an unfinished chain is skipped
 * on later calls (r->rx_skip).
 * @len: set to the frame length for NMR_RX_FRAME and NMR_RX_TOO_BIG, and to
 *       the bytes dropped for NMR_RX_MALFORMED
 * Return: an enum nmr_rx_result, or -EIO when @r is not valid.
 */
int nmr_rx_frame(struct nmr_ring *r, const struct iovec *iov, int iovcnt,
		 size_t *len);

/**
 * nmr_rx_burst() - nmr_rx_frame() into x[0..n) until none is complete;
 * frames that were dropped do not take an entry and are counted in @drops
 * Return: frames received (x[i].len set), or -EIO when @r is not valid and
 * none was received.
 */
int nmr_rx_burst(struct nmr_ring *r, struct netbe_xfer *x, unsigned n,
		 struct nmr_rx_drops *drops);

/**
 * nmr_tx_frame() - scatter the frame in @iov into the slots from head on
 * (NMR_MOREFRAG on all but the last) and move head and cur past them
 * Return: the slots filled (>= 1; an empty frame takes one slot of length
 * 0); -EAGAIN when the free slots cannot take the whole frame (nothing is
 * written); -EMSGSIZE when it needs more than max_frags slots; -EIO when @r
 * is not valid or a free slot has a bad buffer index.
 */
int nmr_tx_frame(struct nmr_ring *r, const struct iovec *iov, int iovcnt);

/**
 * nmr_tx_burst() - nmr_tx_frame() for x[0..n) until the ring is full
 * @slots: set to the slots filled, so the caller knows whether to sync
 * Return: frames consumed from the front of @x (x[i].err is 0, or
 * -EMSGSIZE for a frame too big for the port, which is consumed unsent);
 * -EAGAIN when not even the first frame fits; -EIO when the ring is broken
 * and nothing was consumed.
 */
int nmr_tx_burst(struct nmr_ring *r, struct netbe_xfer *x, unsigned n,
		 unsigned *slots);

#endif /* NETBE_NETMAP_RING_H */
