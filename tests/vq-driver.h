/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vq-driver.h - a minimal virtio split-ring driver for tests: guest memory
 * as one malloc'ed region with a bump allocator, rings laid out in it,
 * chains added and used entries collected the way a guest driver does.
 * It writes whatever it is told to, so tests can also build hostile
 * chains by editing the descriptors afterwards.
 */
#ifndef NETBE_TEST_VQ_DRIVER_H
#define NETBE_TEST_VQ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netbe-virtio.h"

struct drv_mem {
	uint8_t *base;
	uint64_t gpa;       /* guest physical address of base[0] */
	size_t size;
	size_t brk;         /* next free byte */
};

struct drv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct drv_vq {
	struct drv_mem *mem;
	uint16_t num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t next_desc;     /* descriptors are handed out round robin */
	uint16_t avail_idx;
	uint16_t last_used;
};

struct drv_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/** drv_mem_init() - @size bytes of zeroed guest memory at @gpa. */
static inline int drv_mem_init(struct drv_mem *m, uint64_t gpa, size_t size)
{
	m->base = calloc(1, size);
	m->gpa = gpa;
	m->size = size;
	m->brk = 0;
	return m->base ? 0 : -1;
}

static inline void drv_mem_free(struct drv_mem *m)
{
	free(m->base);
	m->base = NULL;
}

/** drv_region() - the memory as a device region. */
static inline struct netbe_vdev_region drv_region(const struct drv_mem *m)
{
	return (struct netbe_vdev_region){ m->gpa, m->size, m->base };
}

/** drv_alloc() - @len bytes aligned to @align. Return: their gpa. */
static inline uint64_t drv_alloc(struct drv_mem *m, size_t len, size_t align)
{
	size_t at = (m->brk + align - 1) & ~(align - 1);

	m->brk = at + len;
	return m->gpa + at;
}

/** drv_ptr() - host pointer of guest address @gpa. */
static inline void *drv_ptr(struct drv_mem *m, uint64_t gpa)
{
	return m->base + (gpa - m->gpa);
}

static inline struct drv_desc *drv_desc(struct drv_vq *q, uint16_t i)
{
	return (struct drv_desc *)drv_ptr(q->mem, q->desc_gpa) + i;
}

static inline uint16_t *drv_avail(struct drv_vq *q)
{
	return drv_ptr(q->mem, q->avail_gpa);
}

static inline uint16_t *drv_used16(struct drv_vq *q)
{
	return drv_ptr(q->mem, q->used_gpa);
}

/** drv_vq_init() - lay out a queue of @num entries in @m. */
static inline void drv_vq_init(struct drv_vq *q, struct drv_mem *m, uint16_t num)
{
	memset(q, 0, sizeof(*q));
	q->mem = m;
	q->num = num;
	q->desc_gpa = drv_alloc(m, 16u * num, 16);
	q->avail_gpa = drv_alloc(m, 6u + 2u * num, 2);
	q->used_gpa = drv_alloc(m, 6u + 8u * num, 4);
}

/** drv_vring() - the queue's addresses for netbe_vdev_set_vring(). */
static inline struct netbe_vdev_vring drv_vring(const struct drv_vq *q)
{
	return (struct netbe_vdev_vring){ q->num, q->desc_gpa, q->avail_gpa,
					  q->used_gpa, 0 };
}

/** drv_add() - write a chain of @n segments and make it available (not
 * yet published). Return: the head descriptor index. */
static inline uint16_t drv_add(struct drv_vq *q, const struct drv_seg *s, unsigned n)
{
	uint16_t head = q->next_desc, i = head;
	unsigned k;

	for (k = 0; k < n; k++) {
		struct drv_desc *d = drv_desc(q, i);
		uint16_t next = (uint16_t)((i + 1) % q->num);

		d->addr = s[k].gpa;
		d->len = s[k].len;
		d->flags = (uint16_t)((s[k].write ? 2 : 0) | (k + 1 < n ? 1 : 0));
		d->next = next;
		i = next;
	}
	q->next_desc = i;
	drv_avail(q)[2 + q->avail_idx % q->num] = head;
	q->avail_idx++;
	return head;
}

/** drv_publish() - make the added chains visible to the device. */
static inline void drv_publish(struct drv_vq *q)
{
	__atomic_store_n(&drv_avail(q)[1], q->avail_idx, __ATOMIC_RELEASE);
}

/** drv_get_used() - the next used entry. Return: true and @id/@len set,
 * false when the device has returned nothing new. */
static inline bool drv_get_used(struct drv_vq *q, uint32_t *id, uint32_t *len)
{
	uint16_t idx = __atomic_load_n(&drv_used16(q)[1], __ATOMIC_ACQUIRE);
	uint32_t *e;

	if (idx == q->last_used)
		return false;
	e = (uint32_t *)((uint8_t *)drv_used16(q) + 4 + 8u * (q->last_used % q->num));
	*id = e[0];
	*len = e[1];
	q->last_used++;
	return true;
}

#endif /* NETBE_TEST_VQ_DRIVER_H */
