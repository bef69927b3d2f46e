/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vring.h - guest memory and split virtqueues, as a device sees them.
 *
 * Theory of operation. Everything here is read from memory a guest (or a
 * vhost-user frontend) can change at any moment, so it is hostile:
 *  - guest memory is reached only through a region table (struct vmem):
 *    vmem_map() gives a host pointer for [gpa, gpa + len) only when the
 *    whole range lies inside one region (no wrap, no straddling);
 *  - a descriptor is copied out of guest memory once and only the copy is
 *    used (no double fetch); the avail index is read once per pop;
 *  - chains are bounded (by the ring size, by an indirect table's size and
 *    by VRING_IOV_MAX segments), loops are detected by that bound, nested
 *    indirect tables, readable-after-writable segments and segments outside
 *    every region make a chain bad;
 *  - a bad chain is returned to the guest at once with used length 0 and
 *    counted (vring.bad_chains); it is never handed to the caller. Its used
 *    element is pushed by vring_pop() and published by the caller's next
 *    vring_flush(), so a caller flushes after every round of pops, even
 *    one that handed it nothing;
 *  - zero-length segments are legal and skipped (their address and flags
 *    are not looked at), but count toward VRING_IOV_MAX like the others, so
 *    one chain costs at most VRING_IOV_MAX + 1 descriptor reads and one pop
 *    at most num times that; two regions are never merged, even when they are
 *    adjacent in guest physical space, so a segment straddling them is bad;
 *  - an avail index more than the ring size ahead of the device's makes the
 *    queue broken (vring.broken): it takes nothing until set up again
 *    (vring_pop() returns -EIO, vring_avail_pending() 0); pushes, flushes
 *    and notifications still work, so chains already taken can go back.
 * All functions are for one queue from one thread at a time; different
 * queues are independent (each queue pair can run on its own thread).
 */
#ifndef NETBE_VRING_H
#define NETBE_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VMEM_REGIONS_MAX 64      /* vhost-user allows 8, or 509 with
				  * CONFIGURE_MEM_SLOTS; netbe takes 64 */
#define VRING_NUM_MAX    32768   /* virtio 1.2: queue size <= 32768 */
#define VRING_IOV_MAX    256     /* segments in one chain, all kinds */
#define VRING_INDIRECT_MAX VRING_NUM_MAX  /* entries in one indirect table:
				  * bounds the walk through zero-length ones */

/* virtq_desc.flags */
#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4
/* virtq_avail.flags / virtq_used.flags */
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY     1

struct vmem_region {
	uint64_t gpa;          /* guest physical address of the first byte */
	uint64_t size;         /* bytes, > 0 */
	uint8_t *hva;          /* where the caller mapped it */
};

struct vmem {
	unsigned n;
	struct vmem_region r[VMEM_REGIONS_MAX];
};

/**
 * vmem_set() - fill @m from @regions after checking them; @m is left as it
 * was on error. A region may end exactly at 2^64 (it does not wrap).
 * Return: 0, or -EINVAL (more than VMEM_REGIONS_MAX, a zero size, a NULL
 * hva, a range that wraps the 64-bit guest or host address space, two
 * regions that overlap in guest physical space).
 */
int vmem_set(struct vmem *m, const struct vmem_region *regions, unsigned n);

/**
 * vmem_map() - host pointer for guest range [@gpa, @gpa + @len)
 * Return: the pointer, or NULL when @len is 0 or the range does not lie
 * entirely inside one region.
 */
void *vmem_map(const struct vmem *m, uint64_t gpa, uint64_t len);

/* The ring layout in guest memory (virtio 1.2, 2.7), little-endian. */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];       /* num entries, then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];   /* num entries, then avail_event */
};

struct vring {
	/* set by vring_setup() */
	uint16_t num;
	bool event_idx;        /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;         /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	const struct vmem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	/* device state */
	uint16_t last_avail;   /* next avail entry to take */
	uint16_t used_idx;     /* next used entry to write (published by
				* vring_flush()) */
	uint16_t signalled_used;  /* used idx at the last notification */
	bool signalled_valid;
	bool broken;
	uint64_t bad_chains;   /* chains returned with length 0 */
	unsigned mem_hint;     /* region of the last translation: a cache
				* private to the queue (struct vmem stays
				* read-only, shared by every queue's thread) */
};

/* One descriptor chain, translated: out[] are the device-readable
 * segments (guest -> device), in[] the device-writable ones, in order. */
struct vring_chain {
	uint16_t head;
	unsigned nout, nin;
	size_t out_len, in_len;   /* sums of the segment lengths */
	struct iovec out[VRING_IOV_MAX];
	struct iovec in[VRING_IOV_MAX];
};

/**
 * vring_setup() - attach a queue to its rings in guest memory
 * @num: the queue size, a power of two from 1 to VRING_NUM_MAX
 * @desc_gpa, @avail_gpa, @used_gpa: guest physical addresses of the
 *     descriptor table (16 * num bytes, 16-aligned), the avail ring (6 + 2 *
 *     num bytes, 2-aligned) and the used ring (6 + 8 * num bytes, 4-aligned)
 * @last_avail: where the device resumes (vhost-user SET_VRING_BASE); the
 *     used index starts at the same value
 * Return: 0, or -EINVAL (bad size or alignment, a ring not inside one
 * region, or a ring whose host address is not aligned like its guest
 * address). Clears broken; keeps bad_chains. The queue keeps host pointers
 * into @mem's regions and @mem itself: after the region table changes,
 * set the queue up again.
 */
int vring_setup(struct vring *vq, const struct vmem *mem, uint16_t num,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		uint16_t last_avail, bool event_idx, bool indirect);

/**
 * vring_pop() - take the next available chain
 * Bad chains on the way are pushed with used length 0 and counted (publish
 * them with vring_flush(), see above); it looks at no more entries than the
 * avail index it read once said were available.
 * Return: 1 and @c filled, 0 when the guest has made nothing available,
 * -EIO when the queue is broken (now or before).
 */
int vring_pop(struct vring *vq, struct vring_chain *c);

/**
 * vring_avail_pending() - chains the guest made available and the device has
 * not taken yet; an avail index more than num ahead breaks the queue here
 * too. Return: 0..num, or 0 for a broken queue.
 */
unsigned vring_avail_pending(struct vring *vq);

/**
 * vring_push() - write a used element for @head with @len bytes written
 * into the chain's in[] segments; not visible to the guest before
 * vring_flush().
 */
void vring_push(struct vring *vq, uint16_t head, uint32_t len);

/** vring_flush() - publish the used elements pushed so far (release
 * ordering: the elements and the data are visible before the index). */
void vring_flush(struct vring *vq);

/**
 * vring_need_notify() - whether the guest wants an interrupt for what was
 * flushed since the last notification (used_event with EVENT_IDX, the
 * avail ring's NO_INTERRUPT flag without). Resets the tracking: call it once
 * per notification decision, after vring_flush(). Nothing flushed since the
 * last decision (or since vring_setup()) needs none; with EVENT_IDX, the
 * first decision after vring_setup() that has something notifies.
 * Return: true to notify.
 */
bool vring_need_notify(struct vring *vq);

/**
 * vring_enable_kicks() - ask the guest to kick (true) or not (false) when
 * it makes buffers available: avail_event with EVENT_IDX, the used ring's
 * NO_NOTIFY flag without. After enabling, the caller must check
 * vring_avail_pending() again (a buffer may have come in between).
 */
void vring_enable_kicks(struct vring *vq, bool enable);

#endif /* NETBE_VRING_H */
