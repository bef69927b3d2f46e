/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vring.c - guest memory regions and split virtqueues over hostile guest
 * memory (the contract and its theory of operation are in vring.h).
 *
 * Shared-memory access. Every field the guest can write is read once:
 * 16- and 32-bit ring fields with relaxed atomic loads (acquire for the
 * avail index), descriptors with memcpy() into a local followed by a
 * compiler barrier, so the compiler cannot go back to guest memory for a
 * field it already checked. Device-written fields (used elements, the used
 * index and flags, avail_event) are written with atomic stores; the used
 * index last, with release ordering.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "vring.h"

#define DESC_SIZE sizeof(struct vring_desc)

/* Keep the compiler from re-reading guest memory for a copied value. */
#define compiler_barrier() __asm__ __volatile__("" ::: "memory")

/** region_last() - Return: the last guest address of @r (no wrap: checked
 * by vmem_set()). */
static uint64_t region_last(const struct vmem_region *r)
{
	return r->gpa + (r->size - 1);
}

/** region_ok() - Return: whether @r is non-empty, has a host address and
 * wraps neither the guest nor the host address space. */
static bool region_ok(const struct vmem_region *r)
{
	uint64_t hva = (uintptr_t)r->hva;

	if (!r->size || !r->hva)
		return false;
	if (r->gpa + (r->size - 1) < r->gpa)
		return false;
	if (r->size - 1 > (uint64_t)UINTPTR_MAX - hva)
		return false;
	return true;
}

int vmem_set(struct vmem *m, const struct vmem_region *regions, unsigned n)
{
	unsigned i, j;

	if (n > VMEM_REGIONS_MAX || (n && !regions))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!region_ok(&regions[i]))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (regions[i].gpa <= region_last(&regions[j]) &&
			    regions[j].gpa <= region_last(&regions[i]))
				return -EINVAL;
	}
	for (i = 0; i < n; i++)
		m->r[i] = regions[i];
	m->n = n;
	return 0;
}

/** region_map() - host pointer for [@gpa, @last] when it lies in @r.
 * Return: the pointer, or NULL. */
static void *region_map(const struct vmem_region *r, uint64_t gpa, uint64_t last)
{
	if (gpa < r->gpa || last > region_last(r))
		return NULL;
	return r->hva + (gpa - r->gpa);
}

/** vmem_find() - vmem_map() with a cache: *@hint is the region tried first
 * and is set to the region that matched.
 * Return: the host pointer, or NULL. */
static void *vmem_find(const struct vmem *m, uint64_t gpa, uint64_t len,
		       unsigned *hint)
{
	uint64_t last = gpa + (len - 1);
	unsigned i;
	void *p;

	if (!len || last < gpa)
		return NULL;
	if (*hint < m->n && (p = region_map(&m->r[*hint], gpa, last)))
		return p;
	for (i = 0; i < m->n && i < VMEM_REGIONS_MAX; i++) {
		p = region_map(&m->r[i], gpa, last);
		if (p) {
			*hint = i;
			return p;
		}
	}
	return NULL;
}

void *vmem_map(const struct vmem *m, uint64_t gpa, uint64_t len)
{
	unsigned hint = 0;

	return vmem_find(m, gpa, len, &hint);
}

/** ring_map() - host pointer for a ring of @len bytes at @gpa, aligned to
 * @align in guest and host.
 * Return: the pointer, or NULL. */
static void *ring_map(const struct vmem *mem, uint64_t gpa, uint64_t len,
		      uint64_t align)
{
	void *p;

	if (gpa & (align - 1))
		return NULL;
	p = vmem_map(mem, gpa, len);
	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

int vring_setup(struct vring *vq, const struct vmem *mem, uint16_t num,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		uint16_t last_avail, bool event_idx, bool indirect)
{
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;

	if (!mem || !num || num > VRING_NUM_MAX || (num & (num - 1)))
		return -EINVAL;
	desc = ring_map(mem, desc_gpa, DESC_SIZE * num, 16);
	avail = ring_map(mem, avail_gpa, 6 + 2 * (uint64_t)num, 2);
	used = ring_map(mem, used_gpa, 6 + 8 * (uint64_t)num, 4);
	if (!desc || !avail || !used)
		return -EINVAL;
	vq->num = num;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->mem = mem;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->last_avail = last_avail;
	vq->used_idx = last_avail;
	vq->signalled_used = last_avail;
	vq->signalled_valid = false;
	vq->broken = false;
	vq->mem_hint = 0;
	return 0;
}

/** avail_idx() - Return: the guest's avail index, read once, with acquire
 * ordering (the ring entries before it are visible after it). */
static uint16_t avail_idx(const struct vring *vq)
{
	return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
}

unsigned vring_avail_pending(struct vring *vq)
{
	uint16_t n;

	if (vq->broken)
		return 0;
	n = (uint16_t)(avail_idx(vq) - vq->last_avail);
	if (n > vq->num) {
		vq->broken = true;
		return 0;
	}
	return n;
}

/** desc_fetch() - copy descriptor @i of @table into @d, host byte order.
 * The caller has checked that @i is inside the table; an indirect table
 * need not be aligned, hence bytes. */
static void desc_fetch(const uint8_t *table, unsigned i, struct vring_desc *d)
{
	memcpy(d, table + (size_t)i * DESC_SIZE, sizeof(*d));
	compiler_barrier();
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/** chain_add() - translate the segment of @d and append it to @c.
 * Return: 0, or -EINVAL (readable after writable, too many segments, a
 * range outside every region, a length sum that overflows). */
static int chain_add(struct vring *vq, struct vring_chain *c,
		     const struct vring_desc *d)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	size_t *sum = write ? &c->in_len : &c->out_len;
	void *p;

	if (!d->len)
		return 0;
	if (!write && c->nin)
		return -EINVAL;
	if (c->nout + c->nin >= VRING_IOV_MAX || d->len > SIZE_MAX - *sum)
		return -EINVAL;
	p = vmem_find(vq->mem, d->addr, d->len, &vq->mem_hint);
	if (!p)
		return -EINVAL;
	if (write)
		c->in[c->nin++] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	else
		c->out[c->nout++] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	*sum += d->len;
	return 0;
}

/* Where the walk of one chain is: the table it reads and how far it may go. */
struct walk {
	const uint8_t *table;
	unsigned size;         /* entries in table */
	unsigned budget;       /* descriptors it may still read in table */
	bool indirect;         /* table is an indirect table */
};

/** walk_indirect() - switch @w to the indirect table @d refers to.
 * Return: 0, or -EINVAL (not negotiated, nested, with NEXT, a length that
 * is zero, not a multiple of 16 or too large, a table outside every
 * region). */
static int walk_indirect(struct vring *vq, struct walk *w,
			 const struct vring_desc *d)
{
	const uint8_t *table;

	if (!vq->indirect || w->indirect || (d->flags & VRING_DESC_F_NEXT))
		return -EINVAL;
	if (!d->len || d->len % DESC_SIZE || d->len / DESC_SIZE > VRING_INDIRECT_MAX)
		return -EINVAL;
	table = vmem_find(vq->mem, d->addr, d->len, &vq->mem_hint);
	if (!table)
		return -EINVAL;
	w->table = table;
	w->size = d->len / DESC_SIZE;
	w->budget = w->size;
	w->indirect = true;
	return 0;
}

/** chain_walk() - translate the chain starting at descriptor @head into @c.
 * Return: 0, or -EINVAL for a bad chain. */
static int chain_walk(struct vring *vq, uint16_t head, struct vring_chain *c)
{
	struct walk w = { .table = (const uint8_t *)vq->desc, .size = vq->num,
			  .budget = vq->num };
	struct vring_desc d;
	unsigned i = head, segs = 0;

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	if (i >= w.size)
		return -EINVAL;
	for (;;) {
		if (!w.budget--)
			return -EINVAL;      /* a loop, or longer than the table */
		desc_fetch(w.table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (walk_indirect(vq, &w, &d))
				return -EINVAL;
			i = 0;
			continue;
		}
		/* zero-length segments count too: a walk reads at most
		 * VRING_IOV_MAX + 1 descriptors, whatever the tables hold */
		if (++segs > VRING_IOV_MAX || chain_add(vq, c, &d))
			return -EINVAL;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= w.size)
			return -EINVAL;
	}
}

int vring_pop(struct vring *vq, struct vring_chain *c)
{
	uint16_t idx, head;

	if (vq->broken)
		return -EIO;
	idx = avail_idx(vq);
	if ((uint16_t)(idx - vq->last_avail) > vq->num) {
		vq->broken = true;
		return -EIO;
	}
	while (vq->last_avail != idx) {
		uint16_t *slot = &vq->avail->ring[vq->last_avail & (vq->num - 1)];

		head = le16toh(__atomic_load_n(slot, __ATOMIC_RELAXED));
		vq->last_avail++;
		if (!chain_walk(vq, head, c))
			return 1;
		vring_push(vq, head, 0);
		vq->bad_chains++;
	}
	return 0;
}

void vring_push(struct vring *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx & (vq->num - 1)];

	__atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
}

void vring_flush(struct vring *vq)
{
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
}

/** used_event() - Return: where the guest wants the next interrupt
 * (avail->ring[num]), read once. */
static uint16_t used_event(const struct vring *vq)
{
	return le16toh(__atomic_load_n(&vq->avail->ring[vq->num], __ATOMIC_RELAXED));
}

/** need_event() - virtio's vring_need_event(): Return: whether @event lies
 * in [@old, @new) modulo 2^16. */
static bool need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

bool vring_need_notify(struct vring *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx;
	bool valid = vq->signalled_valid;
	uint16_t flags;

	/* The used index we published before what the guest says next. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (old == new)
		return false;
	vq->signalled_used = new;
	vq->signalled_valid = true;
	if (vq->event_idx)
		return !valid || need_event(used_event(vq), new, old);
	flags = le16toh(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED));
	return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
}

/** avail_event() - Return: the avail_event field (used->ring[num]). */
static uint16_t *avail_event(struct vring *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

void vring_enable_kicks(struct vring *vq, bool enable)
{
	if (vq->event_idx) {
		if (enable)
			__atomic_store_n(avail_event(vq), htole16(vq->last_avail),
					 __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&vq->used->flags,
				 htole16(enable ? 0 : VRING_USED_F_NO_NOTIFY),
				 __ATOMIC_RELAXED);
	}
	/* The guest sees the request before the caller looks at avail again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
