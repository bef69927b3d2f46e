/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-vring.c - guest memory regions and split virtqueues
 * (src/virtio/vring.c).
 *
 * Guest memory is three malloc'ed regions: A at 0x10000 (64 KiB) holds
 * the rings, B at 0x30000 (64 KiB, after a gap) and C at 0x40000 (4 KiB,
 * adjacent to B in guest physical space, but a separate region: a segment
 * that straddles B and C is bad, since the host mappings need not be
 * contiguous) hold buffers. A tiny in-test driver writes descriptors and
 * avail entries the way a guest would; every test reads the used ring back
 * and checks the bad-chain counter.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "vring.h"
#include "harness.h"

#define GPA_A 0x10000ULL
#define GPA_B 0x30000ULL
#define GPA_C 0x40000ULL
#define SIZE_A 0x10000ULL
#define SIZE_B 0x10000ULL
#define SIZE_C 0x1000ULL
#define DESC_GPA  GPA_A
#define AVAIL_GPA (GPA_A + 0x8000)
#define USED_GPA  (GPA_A + 0xa000)
#define INDIR_GPA (GPA_B + 0x8000)   /* indirect tables */
#define BUF_GPA   GPA_B              /* buffers */

static uint8_t *host_a, *host_b, *host_c;
static struct vmem mem;

/* The driver side of one queue. */
struct drv {
	struct vring vq;
	uint16_t num;
	uint16_t avail_idx;
};

static struct drv d;

/** g2h() - the test's own translation (not vmem_map()). Return: the host
 * address of guest address @gpa, which must be inside a region. */
static uint8_t *g2h(uint64_t gpa)
{
	if (gpa >= GPA_A && gpa < GPA_A + SIZE_A)
		return host_a + (gpa - GPA_A);
	if (gpa >= GPA_B && gpa < GPA_B + SIZE_B)
		return host_b + (gpa - GPA_B);
	if (gpa >= GPA_C && gpa < GPA_C + SIZE_C)
		return host_c + (gpa - GPA_C);
	abort();
}

static void put16(uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(g2h(gpa), &v, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, g2h(gpa), 2);
	return le16toh(v);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, g2h(gpa), 4);
	return le32toh(v);
}

/** put_desc() - write descriptor @i of the table at @table_gpa. */
static void put_desc(uint64_t table_gpa, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc x = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(g2h(table_gpa + 16ULL * i), &x, sizeof(x));
}

/** desc() - write descriptor @i of the queue's descriptor table. */
static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	put_desc(DESC_GPA, i, addr, len, flags, next);
}

/** avail_add() - make the chain at @head available. */
static void avail_add(uint16_t head)
{
	put16(AVAIL_GPA + 4 + 2ULL * (d.avail_idx & (d.num - 1)), head);
	d.avail_idx++;
	put16(AVAIL_GPA + 2, d.avail_idx);
}

static uint16_t used_idx(void)
{
	return get16(USED_GPA + 2);
}

static uint32_t used_id(uint16_t k)
{
	return get32(USED_GPA + 4 + 8ULL * (k & (d.num - 1)));
}

static uint32_t used_len(uint16_t k)
{
	return get32(USED_GPA + 4 + 8ULL * (k & (d.num - 1)) + 4);
}

/** setup() - fresh memory and queue of @num entries starting at @start.
 * Return: vring_setup()'s result. */
static int setup(uint16_t num, uint16_t start, bool event_idx, bool indirect)
{
	memset(host_a, 0, SIZE_A);
	memset(host_b, 0, SIZE_B);
	memset(host_c, 0, SIZE_C);
	memset(&d, 0, sizeof(d));
	d.num = num;
	d.avail_idx = start;
	put16(AVAIL_GPA + 2, start);
	put16(USED_GPA + 2, start);
	return vring_setup(&d.vq, &mem, num, DESC_GPA, AVAIL_GPA, USED_GPA, start,
			   event_idx, indirect);
}

static void test_vmem(void)
{
	struct vmem m;
	struct vmem_region r[VMEM_REGIONS_MAX + 1];
	uint8_t buf[64];
	unsigned i;

	memset(r, 0, sizeof(r));
	r[0] = (struct vmem_region){ .gpa = 0x1000, .size = 32, .hva = buf };
	r[1] = (struct vmem_region){ .gpa = 0x1020, .size = 32, .hva = buf + 32 };
	CHECK_EQ(vmem_set(&m, r, 2), 0);
	CHECK(vmem_map(&m, 0x1000, 32) == buf);
	CHECK(vmem_map(&m, 0x1010, 16) == buf + 16);
	CHECK(vmem_map(&m, 0x1020, 1) == buf + 32);
	CHECK(vmem_map(&m, 0x103f, 1) == buf + 63);
	CHECK(vmem_map(&m, 0x1000, 0) == NULL);           /* empty */
	CHECK(vmem_map(&m, 0x1010, 32) == NULL);          /* straddles r0/r1 */
	CHECK(vmem_map(&m, 0xfff, 2) == NULL);            /* starts before */
	CHECK(vmem_map(&m, 0x1030, 17) == NULL);          /* ends after */
	CHECK(vmem_map(&m, 0x1040, 1) == NULL);
	CHECK(vmem_map(&m, 0x1001, UINT64_MAX) == NULL);  /* wraps */
	CHECK(vmem_map(&m, UINT64_MAX, 2) == NULL);

	r[1].gpa = 0x101f;                                /* overlap */
	CHECK_EQ(vmem_set(&m, r, 2), -EINVAL);
	CHECK(vmem_map(&m, 0x1020, 1) == buf + 32);       /* unchanged */
	r[1].gpa = 0x1020;
	r[1].size = 0;
	CHECK_EQ(vmem_set(&m, r, 2), -EINVAL);
	r[1].size = 32;
	r[1].hva = NULL;
	CHECK_EQ(vmem_set(&m, r, 2), -EINVAL);
	r[1].hva = buf + 32;
	r[1].gpa = UINT64_MAX - 30;                       /* wraps 2^64 */
	CHECK_EQ(vmem_set(&m, r, 2), -EINVAL);
	r[1].gpa = UINT64_MAX - 31;                       /* ends at 2^64 */
	CHECK_EQ(vmem_set(&m, r, 2), 0);
	CHECK(vmem_map(&m, UINT64_MAX, 1) == buf + 63);
	CHECK(vmem_map(&m, UINT64_MAX - 31, 32) == buf + 32);
	CHECK(vmem_map(&m, UINT64_MAX, 2) == NULL);
	/* a host range that wraps (the pointer is never dereferenced) */
	r[1].hva = (uint8_t *)(UINTPTR_MAX - 15);
	CHECK_EQ(vmem_set(&m, r, 2), -EINVAL);
	r[1].hva = buf + 32;
	r[0].size = UINT64_MAX;                           /* wraps everything */
	CHECK_EQ(vmem_set(&m, r, 1), -EINVAL);
	r[0].size = 32;

	for (i = 0; i < VMEM_REGIONS_MAX + 1; i++)
		r[i] = (struct vmem_region){ .gpa = 0x1000ULL * i, .size = 16, .hva = buf };
	CHECK_EQ(vmem_set(&m, r, VMEM_REGIONS_MAX + 1), -EINVAL);
	CHECK_EQ(vmem_set(&m, r, VMEM_REGIONS_MAX), 0);
	CHECK(vmem_map(&m, 0x1000ULL * (VMEM_REGIONS_MAX - 1) + 4, 12) == buf + 4);
	CHECK_EQ(vmem_set(&m, r, 0), 0);
	CHECK(vmem_map(&m, 0, 1) == NULL);
}

static void test_setup(void)
{
	struct vring *vq = &d.vq;

	CHECK_EQ(setup(8, 0, false, false), 0);
	CHECK_EQ(vring_setup(vq, &mem, 0, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 6, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 1, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, 0), 0);
	/* alignment */
	CHECK_EQ(vring_setup(vq, &mem, 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 8, DESC_GPA + 16, AVAIL_GPA + 2, USED_GPA + 4, 0, 0, 0), 0);
	/* outside memory, in the gap, past the end of a region */
	CHECK_EQ(vring_setup(vq, &mem, 8, 0x1000, AVAIL_GPA, USED_GPA, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 8, DESC_GPA, 0x20000, USED_GPA, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 8, DESC_GPA, AVAIL_GPA, GPA_A + SIZE_A - 64, 0, 0, 0),
		 -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 8, DESC_GPA, AVAIL_GPA, GPA_A + SIZE_A - 72, 0, 0, 0), 0);
	/* 4096 descriptors fill region A exactly; 8192 do not fit */
	CHECK_EQ(vring_setup(vq, &mem, 4096, GPA_A, GPA_B, GPA_B + 0x4000, 0, 0, 0), 0);
	CHECK_EQ(vring_setup(vq, &mem, 8192, GPA_A, GPA_B, GPA_B + 0x8000, 0, 0, 0), -EINVAL);
	/* a table straddling B and C (adjacent in guest memory) */
	CHECK_EQ(vring_setup(vq, &mem, 8, GPA_C - 64, AVAIL_GPA, USED_GPA, 0, 0, 0), -EINVAL);
	CHECK_EQ(vring_setup(vq, &mem, 8, UINT64_MAX - 15, AVAIL_GPA, USED_GPA, 0, 0, 0), -EINVAL);
}

/* A region mapped at a host address aligned differently from its guest
 * address: rings in it are refused (they are read with aligned loads). */
static void test_setup_host_align(void)
{
	struct vmem m;
	struct vmem_region r = { .gpa = GPA_A, .size = SIZE_A - 16, .hva = host_a + 2 };
	struct vring vq;

	memset(&vq, 0, sizeof(vq));
	CHECK_EQ(vmem_set(&m, &r, 1), 0);
	CHECK_EQ(vring_setup(&vq, &m, 8, GPA_A, GPA_A + 0x800, GPA_A + 0x1000, 0, 0, 0),
		 -EINVAL);                                 /* desc: 16 */
	r.hva = host_a + 4;
	CHECK_EQ(vmem_set(&m, &r, 1), 0);
	CHECK_EQ(vring_setup(&vq, &m, 8, GPA_A, GPA_A + 0x800, GPA_A + 0x1000, 0, 0, 0),
		 -EINVAL);
	CHECK_EQ(vring_setup(&vq, &m, 8, GPA_A + 12, GPA_A + 0x800, GPA_A + 0x1000, 0, 0, 0),
		 -EINVAL);                                 /* host aligned, guest not */
	r.hva = host_a + 16;
	CHECK_EQ(vmem_set(&m, &r, 1), 0);
	CHECK_EQ(vring_setup(&vq, &m, 8, GPA_A, GPA_A + 0x800, GPA_A + 0x1000, 0, 0, 0), 0);
	CHECK(vq.desc == (void *)(host_a + 16));
}

/** pop_ok() - pop into @c, expecting a chain at @head. */
static void pop_ok(struct vring_chain *c, uint16_t head)
{
	CHECK_EQ(vring_pop(&d.vq, c), 1);
	CHECK_EQ(c->head, head);
}

static void test_normal(void)
{
	static struct vring_chain c;

	CHECK_EQ(setup(8, 0, false, false), 0);
	CHECK_EQ(vring_pop(&d.vq, &c), 0);
	desc(3, BUF_GPA, 10, VRING_DESC_F_NEXT, 5);
	desc(5, BUF_GPA + 100, 20, VRING_DESC_F_NEXT, 0);
	desc(0, GPA_C, 30, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
	desc(7, BUF_GPA + 0x1000, 1500, VRING_DESC_F_WRITE, 2);  /* next ignored */
	desc(1, BUF_GPA + 0x2000, 64, VRING_DESC_F_WRITE, 0);
	avail_add(3);
	avail_add(1);
	CHECK_EQ(vring_avail_pending(&d.vq), 2);
	pop_ok(&c, 3);
	CHECK_EQ(c.nout, 2);
	CHECK_EQ(c.nin, 2);
	CHECK(c.out[0].iov_base == g2h(BUF_GPA) && c.out[0].iov_len == 10);
	CHECK(c.out[1].iov_base == g2h(BUF_GPA + 100) && c.out[1].iov_len == 20);
	CHECK(c.in[0].iov_base == g2h(GPA_C) && c.in[0].iov_len == 30);
	CHECK(c.in[1].iov_base == g2h(BUF_GPA + 0x1000) && c.in[1].iov_len == 1500);
	CHECK_EQ(c.out_len, 30);
	CHECK_EQ(c.in_len, 1530);
	pop_ok(&c, 1);
	CHECK_EQ(c.nout, 0);
	CHECK_EQ(c.nin, 1);
	CHECK_EQ(c.in_len, 64);
	CHECK_EQ(vring_pop(&d.vq, &c), 0);
	CHECK_EQ(vring_avail_pending(&d.vq), 0);
	/* used elements are written in push order, published by flush */
	vring_push(&d.vq, 1, 64);
	vring_push(&d.vq, 3, 1000);
	CHECK_EQ(used_idx(), 0);
	vring_flush(&d.vq);
	CHECK_EQ(used_idx(), 2);
	CHECK_EQ(used_id(0), 1);
	CHECK_EQ(used_len(0), 64);
	CHECK_EQ(used_id(1), 3);
	CHECK_EQ(used_len(1), 1000);
	CHECK_EQ(d.vq.bad_chains, 0);
	/* a chain using every descriptor of the table is fine */
	for (unsigned i = 0; i < 8; i++)
		desc(i, BUF_GPA + 16 * i, 16, i < 7 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	avail_add(0);
	pop_ok(&c, 0);
	CHECK_EQ(c.nout, 8);
	CHECK_EQ(c.out_len, 128);
}

static void test_indirect(void)
{
	static struct vring_chain c;

	CHECK_EQ(setup(8, 0, false, true), 0);
	/* one direct readable segment, then an indirect table of 3 */
	desc(2, BUF_GPA, 12, VRING_DESC_F_NEXT, 4);
	desc(4, INDIR_GPA, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	put_desc(INDIR_GPA, 0, BUF_GPA + 0x100, 100, VRING_DESC_F_NEXT, 2);
	put_desc(INDIR_GPA, 2, BUF_GPA + 0x200, 200, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	put_desc(INDIR_GPA, 1, GPA_C + 8, 300, VRING_DESC_F_WRITE, 0);
	avail_add(2);
	/* an indirect-only chain */
	desc(6, INDIR_GPA + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA + 0x100, 0, BUF_GPA + 0x300, 7, VRING_DESC_F_WRITE, 0);
	avail_add(6);
	pop_ok(&c, 2);
	CHECK_EQ(c.nout, 2);
	CHECK_EQ(c.nin, 2);
	CHECK(c.out[0].iov_base == g2h(BUF_GPA) && c.out[0].iov_len == 12);
	CHECK(c.out[1].iov_base == g2h(BUF_GPA + 0x100) && c.out[1].iov_len == 100);
	CHECK(c.in[0].iov_base == g2h(BUF_GPA + 0x200) && c.in[0].iov_len == 200);
	CHECK(c.in[1].iov_base == g2h(GPA_C + 8) && c.in[1].iov_len == 300);
	CHECK_EQ(c.out_len, 112);
	CHECK_EQ(c.in_len, 500);
	pop_ok(&c, 6);
	CHECK_EQ(c.nout, 0);
	CHECK_EQ(c.nin, 1);
	CHECK_EQ(c.in_len, 7);
	CHECK_EQ(d.vq.bad_chains, 0);
	/* VRING_IOV_MAX segments through an indirect table are fine */
	for (unsigned i = 0; i < VRING_IOV_MAX; i++)
		put_desc(INDIR_GPA, i, BUF_GPA + i, 1, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	put_desc(INDIR_GPA, VRING_IOV_MAX - 1, BUF_GPA, 1, 0, 0);
	desc(1, INDIR_GPA, 16 * VRING_IOV_MAX, VRING_DESC_F_INDIRECT, 0);
	avail_add(1);
	pop_ok(&c, 1);
	CHECK_EQ(c.nout, VRING_IOV_MAX);
	CHECK_EQ(c.out_len, VRING_IOV_MAX);
}

static void test_zero_length(void)
{
	static struct vring_chain c;

	CHECK_EQ(setup(8, 0, false, true), 0);
	/* zero-length segments anywhere, even at addresses outside memory or
	 * readable among writable ones: skipped */
	desc(0, 0xdead0000, 0, VRING_DESC_F_NEXT, 1);
	desc(1, BUF_GPA, 10, VRING_DESC_F_NEXT, 2);
	desc(2, BUF_GPA, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	desc(3, BUF_GPA + 10, 10, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 4);
	desc(4, UINT64_MAX, 0, VRING_DESC_F_NEXT, 5);
	desc(5, INDIR_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA, 0, 0, 0, VRING_DESC_F_NEXT, 1);
	put_desc(INDIR_GPA, 1, BUF_GPA + 20, 5, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	/* a chain with nothing but a zero-length segment */
	desc(6, BUF_GPA, 0, 0, 0);
	avail_add(6);
	pop_ok(&c, 0);
	CHECK_EQ(c.nout, 1);
	CHECK_EQ(c.nin, 2);
	CHECK_EQ(c.out_len, 10);
	CHECK_EQ(c.in_len, 15);
	CHECK(c.in[1].iov_base == g2h(BUF_GPA + 20));
	pop_ok(&c, 6);
	CHECK_EQ(c.nout + c.nin, 0);
	CHECK_EQ(d.vq.bad_chains, 0);
}

/* One bad chain: how to build it, and the queue features it needs. */
struct bad_case {
	const char *name;
	bool indirect;          /* negotiate INDIRECT_DESC */
	uint16_t head;          /* what goes in the avail ring */
	void (*build)(void);
};

static void bad_next(void)
{
	desc(0, BUF_GPA, 10, VRING_DESC_F_NEXT, 16);
}

static void bad_loop(void)
{
	desc(0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	desc(1, BUF_GPA, 10, VRING_DESC_F_NEXT, 2);
	desc(2, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
}

static void bad_self_loop_zero(void)
{
	desc(0, BUF_GPA, 0, VRING_DESC_F_NEXT, 0);   /* zero-length loop */
}

static void bad_too_long(void)
{
	unsigned i;

	/* 14 descriptors, then back to the first: a chain that goes on
	 * past the 16 entries of the queue (in a direct table, a chain longer
	 * than num is a loop) */
	for (i = 0; i < 14; i++)
		desc(i, BUF_GPA + i, 1, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % 14));
}

static void bad_outside(void)
{
	desc(0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	desc(1, 0x20000, 10, 0, 0);                 /* in the gap */
}

static void bad_beyond(void)
{
	desc(0, GPA_C + SIZE_C - 10, 11, 0, 0);      /* one past C's end */
}

static void bad_straddle(void)
{
	/* B and C are adjacent in guest memory but separate regions */
	desc(0, GPA_C - 8, 16, VRING_DESC_F_WRITE, 0);
}

static void bad_wrap(void)
{
	desc(0, UINT64_MAX - 3, 8, 0, 0);
}

static void bad_wrap_huge(void)
{
	desc(0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	desc(1, GPA_B + 1, UINT32_MAX, 0, 0);
}

static void bad_indirect_next(void)
{
	desc(0, INDIR_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	desc(1, BUF_GPA, 10, 0, 0);
	put_desc(INDIR_GPA, 0, BUF_GPA, 10, 0, 0);
}

static void bad_indirect_nested(void)
{
	desc(0, INDIR_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA, 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	put_desc(INDIR_GPA, 1, INDIR_GPA + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA + 0x100, 0, BUF_GPA, 10, 0, 0);
}

static void bad_indirect_len(void)
{
	desc(0, INDIR_GPA, 24, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA, 0, BUF_GPA, 10, 0, 0);
}

static void bad_indirect_zero(void)
{
	desc(0, INDIR_GPA, 0, VRING_DESC_F_INDIRECT, 0);
}

static void bad_indirect_outside(void)
{
	desc(0, GPA_C + SIZE_C - 16, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(GPA_C + SIZE_C - 16, 0, BUF_GPA, 10, 0, 0);
}

static void bad_indirect_next_range(void)
{
	desc(0, INDIR_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA, 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 2);  /* 2 entries */
	put_desc(INDIR_GPA, 2, BUF_GPA, 10, 0, 0);
}

static void bad_indirect_loop(void)
{
	desc(0, INDIR_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA, 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	put_desc(INDIR_GPA, 1, BUF_GPA, 10, VRING_DESC_F_NEXT, 0);
}

static void bad_indirect_huge(void)
{
	/* more entries than VRING_INDIRECT_MAX (the table itself is not
	 * even inside memory: the size is refused first) */
	desc(0, GPA_B, 16 * (VRING_INDIRECT_MAX + 1), VRING_DESC_F_INDIRECT, 0);
}

static void bad_readable_after_writable(void)
{
	desc(0, BUF_GPA, 10, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	desc(1, BUF_GPA + 10, 10, 0, 0);
}

static void bad_readable_after_writable_indirect(void)
{
	desc(0, BUF_GPA, 10, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	desc(1, INDIR_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(INDIR_GPA, 0, BUF_GPA, 10, 0, 0);
}

static void bad_too_many(void)
{
	unsigned i;

	/* VRING_IOV_MAX + 1 segments: one direct, the rest indirect */
	desc(0, BUF_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc(1, INDIR_GPA, 16 * VRING_IOV_MAX, VRING_DESC_F_INDIRECT, 0);
	for (i = 0; i < VRING_IOV_MAX; i++)
		put_desc(INDIR_GPA, i, BUF_GPA + i, 1,
			 i + 1 < VRING_IOV_MAX ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
}

static void bad_too_many_zero(void)
{
	unsigned i;

	/* VRING_IOV_MAX + 1 descriptors, most of them zero-length */
	desc(0, BUF_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc(1, INDIR_GPA, 16 * VRING_IOV_MAX, VRING_DESC_F_INDIRECT, 0);
	for (i = 0; i < VRING_IOV_MAX; i++)
		put_desc(INDIR_GPA, i, BUF_GPA + i, i == 7 ? 1 : 0,
			 i + 1 < VRING_IOV_MAX ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
}

static const struct bad_case bad_cases[] = {
	{ "bad: head >= num", false, 16, NULL },
	{ "bad: head far out", false, 0xffff, NULL },
	{ "bad: next >= num", false, 0, bad_next },
	{ "bad: descriptor loop", false, 0, bad_loop },
	{ "bad: zero-length self loop", false, 0, bad_self_loop_zero },
	{ "bad: chain longer than num", false, 0, bad_too_long },
	{ "bad: addr in the gap", false, 0, bad_outside },
	{ "bad: past a region's end", false, 0, bad_beyond },
	{ "bad: straddles adjacent regions", false, 0, bad_straddle },
	{ "bad: addr + len wraps 2^64", false, 0, bad_wrap },
	{ "bad: 4 GiB segment", false, 0, bad_wrap_huge },
	{ "bad: indirect not negotiated", false, 0, bad_indirect_nested },
	{ "bad: indirect with NEXT", true, 0, bad_indirect_next },
	{ "bad: nested indirect", true, 0, bad_indirect_nested },
	{ "bad: indirect len not a multiple of 16", true, 0, bad_indirect_len },
	{ "bad: indirect len 0", true, 0, bad_indirect_zero },
	{ "bad: indirect table outside a region", true, 0, bad_indirect_outside },
	{ "bad: indirect next past the table", true, 0, bad_indirect_next_range },
	{ "bad: indirect loop", true, 0, bad_indirect_loop },
	{ "bad: indirect table too large", true, 0, bad_indirect_huge },
	{ "bad: readable after writable", false, 0, bad_readable_after_writable },
	{ "bad: readable indirect after writable", true, 0,
	  bad_readable_after_writable_indirect },
	{ "bad: too many segments", true, 0, bad_too_many },
	{ "bad: too many segments, zero-length ones too", true, 0, bad_too_many_zero },
};

/** run_bad() - the chain of @bc between two good ones: it comes back at
 * once with length 0, in order, counted; the good ones are popped. */
static void run_bad(const struct bad_case *bc)
{
	static struct vring_chain c;

	CHECK_EQ(setup(16, 0, false, bc->indirect), 0);
	if (bc->build)
		bc->build();
	desc(14, BUF_GPA + 0x4000, 100, VRING_DESC_F_WRITE, 0);
	desc(15, BUF_GPA + 0x5000, 100, 0, 0);
	avail_add(14);
	avail_add(bc->head);
	avail_add(bc->head);                      /* twice */
	avail_add(15);
	pop_ok(&c, 14);
	vring_push(&d.vq, 14, 42);
	pop_ok(&c, 15);                           /* past both bad ones */
	CHECK_EQ(c.nout, 1);
	CHECK_EQ(c.out_len, 100);
	CHECK_EQ(d.vq.bad_chains, 2);
	CHECK_EQ(vring_pop(&d.vq, &c), 0);
	vring_push(&d.vq, 15, 0);
	vring_flush(&d.vq);
	CHECK_EQ(used_idx(), 4);
	CHECK_EQ(used_id(0), 14);
	CHECK_EQ(used_len(0), 42);
	CHECK_EQ(used_id(1), bc->head);
	CHECK_EQ(used_len(1), 0);
	CHECK_EQ(used_id(2), bc->head);
	CHECK_EQ(used_len(2), 0);
	CHECK_EQ(used_id(3), 15);
	/* alone: pop reports nothing, the next flush returns it */
	avail_add(bc->head);
	CHECK_EQ(vring_pop(&d.vq, &c), 0);
	CHECK_EQ(d.vq.bad_chains, 3);
	vring_flush(&d.vq);
	CHECK_EQ(used_idx(), 5);
	CHECK_EQ(used_id(4), bc->head);
	CHECK_EQ(used_len(4), 0);
	CHECK_EQ(d.vq.broken, false);
}

static void test_broken(void)
{
	static struct vring_chain c;

	CHECK_EQ(setup(8, 0, false, false), 0);
	desc(0, BUF_GPA, 10, 0, 0);
	avail_add(0);
	pop_ok(&c, 0);
	/* exactly num ahead is fine */
	put16(AVAIL_GPA + 2, 1 + 8);
	CHECK_EQ(vring_avail_pending(&d.vq), 8);
	/* num + 1 ahead breaks the queue, for good */
	put16(AVAIL_GPA + 2, 1 + 9);
	CHECK_EQ(vring_pop(&d.vq, &c), -EIO);
	CHECK(d.vq.broken);
	CHECK_EQ(vring_avail_pending(&d.vq), 0);
	put16(AVAIL_GPA + 2, 2);
	CHECK_EQ(vring_pop(&d.vq, &c), -EIO);
	CHECK_EQ(vring_pop(&d.vq, &c), -EIO);
	/* a new setup clears it, keeps bad_chains */
	d.vq.bad_chains = 7;
	CHECK_EQ(vring_setup(&d.vq, &mem, 8, DESC_GPA, AVAIL_GPA, USED_GPA, 1, 0, 0), 0);
	CHECK(!d.vq.broken);
	CHECK_EQ(d.vq.bad_chains, 7);
	pop_ok(&c, 0);                            /* ring[1] is 0 */
	CHECK_EQ(vring_pop(&d.vq, &c), 0);
	/* idx going backwards looks like 65535 ahead: broken */
	put16(AVAIL_GPA + 2, 1);
	CHECK_EQ(vring_pop(&d.vq, &c), -EIO);
	/* and vring_avail_pending() finds it too */
	CHECK_EQ(vring_setup(&d.vq, &mem, 8, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, 0), 0);
	put16(AVAIL_GPA + 2, 100);
	CHECK_EQ(vring_avail_pending(&d.vq), 0);
	CHECK(d.vq.broken);
	CHECK_EQ(vring_pop(&d.vq, &c), -EIO);
}

static void test_wrap(void)
{
	static struct vring_chain c;
	uint16_t k;
	unsigned i;

	CHECK_EQ(setup(8, 65530, false, false), 0);
	for (i = 0; i < 8; i++)
		desc(i, BUF_GPA + 0x100 * i, 10 + i, VRING_DESC_F_WRITE, 0);
	for (i = 0; i < 8; i++)
		avail_add((uint16_t)i);
	CHECK_EQ(vring_avail_pending(&d.vq), 8);
	for (i = 0; i < 8; i++) {
		pop_ok(&c, (uint16_t)i);
		CHECK_EQ(c.in_len, 10 + i);
		vring_push(&d.vq, (uint16_t)i, (uint32_t)i * 3);
	}
	CHECK_EQ(vring_pop(&d.vq, &c), 0);
	CHECK_EQ(d.vq.last_avail, 2);
	vring_flush(&d.vq);
	CHECK_EQ(used_idx(), 2);
	for (i = 0, k = 65530; i < 8; i++, k++) {
		CHECK_EQ(used_id(k), i);
		CHECK_EQ(used_len(k), i * 3);
	}
	/* more after the wrap, with a bad one */
	avail_add(9);
	avail_add(3);
	pop_ok(&c, 3);
	CHECK_EQ(d.vq.bad_chains, 1);
	vring_push(&d.vq, 3, 1);
	vring_flush(&d.vq);
	CHECK_EQ(used_idx(), 4);
	CHECK_EQ(used_id(2), 9);
	CHECK_EQ(used_id(3), 3);
	/* a jump past num across the wrap breaks it */
	CHECK_EQ(vring_setup(&d.vq, &mem, 8, DESC_GPA, AVAIL_GPA, USED_GPA, 65533, 0, 0), 0);
	put16(AVAIL_GPA + 2, 5);                  /* 8 ahead: fine */
	CHECK_EQ(vring_avail_pending(&d.vq), 8);
	put16(AVAIL_GPA + 2, 6);                  /* 9 ahead */
	CHECK_EQ(vring_pop(&d.vq, &c), -EIO);
}

static void test_notify(void)
{
	uint64_t used_event_gpa = AVAIL_GPA + 4 + 2 * 8;
	uint64_t avail_event_gpa = USED_GPA + 4 + 8 * 8;
	unsigned i;

	/* without EVENT_IDX: the NO_INTERRUPT flag */
	CHECK_EQ(setup(8, 0, false, false), 0);
	CHECK(!vring_need_notify(&d.vq));         /* nothing flushed */
	vring_push(&d.vq, 0, 1);
	vring_flush(&d.vq);
	CHECK(vring_need_notify(&d.vq));
	CHECK(!vring_need_notify(&d.vq));         /* nothing new */
	put16(AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	vring_push(&d.vq, 0, 1);
	vring_flush(&d.vq);
	CHECK(!vring_need_notify(&d.vq));
	put16(AVAIL_GPA, 0);
	vring_push(&d.vq, 0, 1);
	vring_flush(&d.vq);
	CHECK(vring_need_notify(&d.vq));
	/* kicks: the used ring's NO_NOTIFY flag */
	vring_enable_kicks(&d.vq, false);
	CHECK_EQ(get16(USED_GPA), VRING_USED_F_NO_NOTIFY);
	vring_enable_kicks(&d.vq, true);
	CHECK_EQ(get16(USED_GPA), 0);

	/* with EVENT_IDX, across the 16-bit wrap */
	CHECK_EQ(setup(8, 65530, true, false), 0);
	CHECK(!vring_need_notify(&d.vq));
	vring_push(&d.vq, 0, 1);
	vring_flush(&d.vq);
	put16(used_event_gpa, 0);                 /* far away, but first time */
	CHECK(vring_need_notify(&d.vq));          /* signalled 65531 */
	put16(used_event_gpa, 65533);             /* after the 3rd next */
	for (i = 0; i < 2; i++) {
		vring_push(&d.vq, 0, 1);
		vring_flush(&d.vq);
		CHECK(!vring_need_notify(&d.vq));  /* 65532, 65533 */
	}
	vring_push(&d.vq, 0, 1);
	vring_flush(&d.vq);
	CHECK(vring_need_notify(&d.vq));          /* 65534 passes 65533 */
	put16(used_event_gpa, 1);                 /* wants idx 2 */
	for (i = 0; i < 4; i++)
		vring_push(&d.vq, 0, 1);          /* 65534 -> 2 */
	vring_flush(&d.vq);
	CHECK(vring_need_notify(&d.vq));
	put16(used_event_gpa, 1);                 /* already passed */
	vring_push(&d.vq, 0, 1);
	vring_flush(&d.vq);
	CHECK(!vring_need_notify(&d.vq));
	put16(AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);  /* ignored with EVENT_IDX */
	put16(used_event_gpa, 3);
	vring_push(&d.vq, 0, 1);
	vring_flush(&d.vq);
	CHECK(vring_need_notify(&d.vq));
	/* kicks: avail_event = last_avail when enabling */
	put16(avail_event_gpa, 0x1234);
	vring_enable_kicks(&d.vq, false);
	CHECK_EQ(get16(avail_event_gpa), 0x1234);
	CHECK_EQ(get16(USED_GPA), 0);
	vring_enable_kicks(&d.vq, true);
	CHECK_EQ(get16(avail_event_gpa), 65530);
	desc(0, BUF_GPA, 1, 0, 0);
	for (i = 0; i < 7; i++)
		avail_add(0);
	{
		static struct vring_chain c;

		while (vring_pop(&d.vq, &c) == 1)
			;
	}
	CHECK_EQ(d.vq.last_avail, 1);
	vring_enable_kicks(&d.vq, true);
	CHECK_EQ(get16(avail_event_gpa), 1);
}

int main(void)
{
	struct vmem_region r[3];
	unsigned i;

	host_a = malloc(SIZE_A);
	host_b = malloc(SIZE_B);
	host_c = malloc(SIZE_C);
	if (!host_a || !host_b || !host_c)
		return 99;
	r[0] = (struct vmem_region){ .gpa = GPA_A, .size = SIZE_A, .hva = host_a };
	r[1] = (struct vmem_region){ .gpa = GPA_B, .size = SIZE_B, .hva = host_b };
	r[2] = (struct vmem_region){ .gpa = GPA_C, .size = SIZE_C, .hva = host_c };
	if (vmem_set(&mem, r, 3))
		return 99;
	RUN(test_vmem);
	RUN(test_setup);
	RUN(test_setup_host_align);
	RUN(test_normal);
	RUN(test_indirect);
	RUN(test_zero_length);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		RUN_CASE(bad_cases[i].name, run_bad, &bad_cases[i]);
	RUN(test_broken);
	RUN(test_wrap);
	RUN(test_notify);
	free(host_a);
	free(host_b);
	free(host_c);
	return harness_done();
}
