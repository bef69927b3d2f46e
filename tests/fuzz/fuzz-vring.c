/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-vring.c - libFuzzer target for guest memory regions and split
 * virtqueues (src/virtio/vring.c), driven by a hostile guest.
 *
 * The input (little-endian) starts with the layout:
 *   flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC), log2 of the queue size
 *   (mod 13: 1..4096), the region count (mod 4, plus 1), then per region
 *   its guest address (8 bytes) and size (4 bytes, mod 256 KiB, plus 1),
 *   then the desc, avail and used ring addresses (8 bytes each) and
 *   last_avail (2 bytes).
 * Each region is its own malloc() of exactly its size, so AddressSanitizer
 * sees any access outside it. Then come driver actions, each a control
 * byte whose low 3 bits say what (the rest, p, is a parameter):
 *   0 write guest memory: region (1), offset (4), length (2), the bytes;
 *   1 write descriptor (2-byte index mod num) of the table: 16 raw bytes;
 *   2 make a head (2 bytes) available: avail ring entry, then index + 1;
 *   3 set the avail index to a raw 2-byte value (jumps, backwards);
 *   4 a round of pops: at most p chains (0: until none); each chain is
 *     pushed at once, or held when the next byte is odd;
 *   5 push what is held (length: in_len, cut to p * 256 when p), flush,
 *     decide on a notification;
 *   6 enable (p odd) or disable kicks, then look at what is pending;
 *   7 set the queue up again where it is (vhost-user GET/SET_VRING_BASE;
 *     held chains are dropped).
 * Invariants, each failure aborts: vmem_set() and vring_setup() accept
 * exactly what a reference check accepts, vmem_map() agrees with a
 * reference translation; every segment handed out is non-empty and inside
 * one region (its first, middle and last bytes are read); segment counts
 * are at most VRING_IOV_MAX and out_len/in_len are their sums; heads are
 * below num; one pop consumes at most what the avail index said was
 * available and never more than num entries; pops + bad chains equal the
 * avail entries consumed, and a pop that returns 0 has consumed all; an
 * avail index more than num ahead breaks the queue: -EIO (and nothing
 * pending) until set up again; the used
 * index moves by exactly the pushes plus the bad chains, a bad chain's
 * used element has length 0, and the flushed used index in guest memory is
 * the device's.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vring.h"

#define NREGIONS_MAX 4
#define REGION_MAX (256 * 1024)
#define LOGNUM_MOD 13
#define HELD_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p;
	size_t n;
};

/* The state of one run. */
struct run {
	struct vmem_region reg[NREGIONS_MAX];
	unsigned nreg;
	struct vmem mem;
	struct vring vq;
	struct vring_chain c;
	bool event_idx, indirect;
	uint16_t num, start;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint64_t pushes;           /* since the last setup */
	uint64_t bad0;             /* bad_chains at the last setup */
	uint16_t held[HELD_MAX];
	uint32_t held_len[HELD_MAX];
	unsigned nheld;
};

static struct run *r;
static volatile uint8_t sink;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-vring: %s\n", what);
	abort();
}

/** take() - Return: whether @n more input bytes exist; copies them to @out
 * (when not NULL) and consumes them. */
static bool take(struct in *in, void *out, size_t n)
{
	if (in->n < n)
		return false;
	if (out)
		memcpy(out, in->p, n);
	in->p += n;
	in->n -= n;
	return true;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/** ref_map() - the reference translation, written differently from
 * vmem_map(). Return: the host pointer, or NULL. */
static uint8_t *ref_map(uint64_t gpa, uint64_t len)
{
	unsigned i;

	if (!len)
		return NULL;
	for (i = 0; i < r->nreg; i++) {
		const struct vmem_region *g = &r->reg[i];

		if (gpa >= g->gpa && gpa - g->gpa < g->size &&
		    len <= g->size - (gpa - g->gpa))
			return g->hva + (gpa - g->gpa);
	}
	return NULL;
}

/** check_map() - vmem_map() against ref_map() for [@gpa, @gpa + @len). */
static void check_map(uint64_t gpa, uint64_t len)
{
	if (vmem_map(&r->mem, gpa, len) != ref_map(gpa, len))
		fail("vmem_map disagrees with the reference");
}

/** regions_bad() - Return: whether the reference refuses the table. */
static bool regions_bad(void)
{
	unsigned i, j;

	for (i = 0; i < r->nreg; i++) {
		const struct vmem_region *a = &r->reg[i];

		if (a->gpa > UINT64_MAX - (a->size - 1))
			return true;
		for (j = 0; j < i; j++) {
			const struct vmem_region *b = &r->reg[j];

			if (!(a->gpa + (a->size - 1) < b->gpa || b->gpa + (b->size - 1) < a->gpa))
				return true;
		}
	}
	return false;
}

/** ring_ok() - Return: whether the reference accepts a ring of @len bytes
 * at @gpa with alignment @align. */
static bool ring_ok(uint64_t gpa, uint64_t len, uintptr_t align)
{
	uint8_t *p = ref_map(gpa, len);

	return p && gpa % align == 0 && (uintptr_t)p % align == 0;
}

/** setup() - set the queue up at @start and check the result against the
 * reference. Return: whether it is set up. */
static bool setup(uint16_t start)
{
	bool ok = ring_ok(r->desc_gpa, 16ULL * r->num, 16) &&
		  ring_ok(r->avail_gpa, 6 + 2ULL * r->num, 2) &&
		  ring_ok(r->used_gpa, 6 + 8ULL * r->num, 4);
	int rc = vring_setup(&r->vq, &r->mem, r->num, r->desc_gpa, r->avail_gpa,
			     r->used_gpa, start, r->event_idx, r->indirect);

	if (rc != (ok ? 0 : -EINVAL))
		fail("vring_setup disagrees with the reference");
	if (!ok)
		return false;
	if (r->vq.broken || r->vq.last_avail != start || r->vq.used_idx != start)
		fail("vring_setup left a wrong state");
	r->start = start;
	r->pushes = 0;
	r->bad0 = r->vq.bad_chains;
	r->nheld = 0;
	return true;
}

/** layout() - regions and queue from the start of @in.
 * Return: whether a queue is set up. */
static bool layout(struct in *in)
{
	uint8_t h[3], b[26];
	unsigned i, n;

	if (!take(in, h, 3))
		return false;
	r->event_idx = h[0] & 1;
	r->indirect = h[0] & 2;
	r->num = (uint16_t)(1u << (h[1] % LOGNUM_MOD));
	n = h[2] % NREGIONS_MAX + 1;
	for (i = 0; i < n; i++) {
		uint8_t e[12];
		uint32_t sz;

		if (!take(in, e, 12))
			return false;
		memcpy(&sz, e + 8, 4);
		r->reg[i].gpa = get64(e);
		r->reg[i].size = le32toh(sz) % REGION_MAX + 1;
		r->reg[i].hva = calloc(1, r->reg[i].size);
		if (!r->reg[i].hva)
			fail("out of memory");
		r->nreg++;
	}
	if (vmem_set(&r->mem, r->reg, r->nreg) != (regions_bad() ? -EINVAL : 0))
		fail("vmem_set disagrees with the reference");
	if (regions_bad() || !take(in, b, 26))
		return false;
	for (i = 0; i < r->nreg; i++) {
		uint64_t g = r->reg[i].gpa, s = r->reg[i].size;

		check_map(g, s);
		check_map(g, s + 1);
		check_map(g - 1, 2);
		check_map(g + s - 1, 1);
		check_map(g + s - 1, 2);
		check_map(g + 1, UINT64_MAX);
		check_map(g, 0);
	}
	r->desc_gpa = get64(b);
	r->avail_gpa = get64(b + 8);
	r->used_gpa = get64(b + 16);
	return setup((uint16_t)(b[24] | b[25] << 8));
}

/** op_write() - action 0: raw bytes into a region. */
static void op_write(struct in *in)
{
	uint8_t h[7];
	struct vmem_region *g;
	uint32_t off;
	size_t len;

	if (!take(in, h, 7))
		return;
	g = &r->reg[h[0] % r->nreg];
	memcpy(&off, h + 1, 4);
	off = (uint32_t)(le32toh(off) % g->size);
	len = (size_t)(h[5] | h[6] << 8);
	if (len > g->size - off)
		len = g->size - off;
	if (len > in->n)
		len = in->n;
	check_map(g->gpa + off, len);
	memcpy(g->hva + off, in->p, len);
	take(in, NULL, len);
}

/** avail_field() - host pointer of the 16-bit field at byte @off of the avail
 * ring (inside it: checked at setup). */
static uint8_t *avail_field(uint64_t off)
{
	return ref_map(r->avail_gpa + off, 2);
}

static uint16_t avail_idx(void)
{
	uint16_t v;

	memcpy(&v, avail_field(2), 2);
	return le16toh(v);
}

static void set_avail_idx(uint16_t idx)
{
	idx = htole16(idx);
	memcpy(avail_field(2), &idx, 2);
}

/** op_desc() - action 1: raw descriptor bytes into the table. */
static void op_desc(struct in *in)
{
	uint8_t h[18];
	unsigned i;

	if (!take(in, h, 18))
		return;
	i = (unsigned)(h[0] | h[1] << 8) & (r->num - 1u);
	memcpy(ref_map(r->desc_gpa + 16ULL * i, 16), h + 2, 16);
}

/** op_avail() - action 2: one more head available. */
static void op_avail(struct in *in)
{
	uint8_t h[2];
	uint16_t idx = avail_idx();

	if (!take(in, h, 2))
		return;
	memcpy(avail_field(4 + 2ULL * (idx & (r->num - 1u))), h, 2);
	set_avail_idx((uint16_t)(idx + 1));
}

/** check_chain() - the invariants of a chain handed out. */
static void check_chain(const struct vring_chain *c)
{
	size_t out = 0, in = 0;
	unsigned i, j;

	if (c->head >= r->num)
		fail("head out of range");
	if (c->nout > VRING_IOV_MAX || c->nin > VRING_IOV_MAX ||
	    c->nout + c->nin > VRING_IOV_MAX)
		fail("too many segments");
	for (i = 0; i < c->nout + c->nin; i++) {
		const struct iovec *v = i < c->nout ? &c->out[i] : &c->in[i - c->nout];
		const uint8_t *p = v->iov_base;
		uintptr_t a = (uintptr_t)p;
		bool inside = false;

		if (!v->iov_len)
			fail("empty segment");
		for (j = 0; j < r->nreg; j++) {
			const struct vmem_region *g = &r->reg[j];

			uintptr_t base = (uintptr_t)g->hva;

			if (a >= base && a - base < g->size &&
			    v->iov_len <= g->size - (a - base))
				inside = true;
		}
		if (!inside)
			fail("segment outside every region");
		sink ^= p[0];
		sink ^= p[v->iov_len - 1];
		sink ^= p[v->iov_len / 2];
		if (i < c->nout)
			out += v->iov_len;
		else
			in += v->iov_len;
	}
	if (out != c->out_len || in != c->in_len)
		fail("out_len/in_len are not the sums of the segments");
}

/** push() - push @head with @len, counted. */
static void push(uint16_t head, uint32_t len)
{
	vring_push(&r->vq, head, len);
	r->pushes++;
}

/** check_used() - the used index moved by exactly the pushes and the bad
 * chains since setup. */
static void check_used(void)
{
	uint64_t moved = r->pushes + r->vq.bad_chains - r->bad0;

	if (r->vq.used_idx != (uint16_t)(r->start + moved))
		fail("used index does not match pushes + bad chains");
}

/** check_bad_used() - the @n bad chains one pop just pushed, from used
 * index @from: each used element has length 0 and a 16-bit id (they are
 * the only writes of that pop, in distinct slots since @n <= num). */
static void check_bad_used(uint16_t from, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		unsigned slot = (uint16_t)(from + k) & (r->num - 1u);
		uint32_t e[2];

		memcpy(e, ref_map(r->used_gpa + 4 + 8ULL * slot, 8), 8);
		if (le32toh(e[0]) > UINT16_MAX || e[1])
			fail("a bad chain's used element is not (head, 0)");
	}
}

/** pop_one() - one vring_pop() with its invariants.
 * Return: its result. */
static int pop_one(bool hold)
{
	uint16_t before = r->vq.last_avail, idx = avail_idx(), used = r->vq.used_idx;
	uint64_t bad = r->vq.bad_chains;
	bool was_broken = r->vq.broken;
	uint16_t took;
	int rc = vring_pop(&r->vq, &r->c);

	took = (uint16_t)(r->vq.last_avail - before);
	if (rc == -EIO) {
		if (!r->vq.broken || took || bad != r->vq.bad_chains)
			fail("-EIO with a queue not broken, or with work done");
		if (!was_broken && (uint16_t)(idx - before) <= r->num)
			fail("broken without a runaway avail index");
		return rc;
	}
	if (was_broken)
		fail("a broken queue popped");
	if (rc != 0 && rc != 1)
		fail("vring_pop returned something else");
	if (took > r->num || (uint16_t)(idx - before) > r->num)
		fail("one pop went past num entries, or ignored a runaway index");
	if (took != rc + (r->vq.bad_chains - bad))
		fail("pops + bad chains != avail entries consumed");
	check_bad_used(used, (unsigned)(r->vq.bad_chains - bad));
	if (took > (uint16_t)(idx - before) || (rc == 0 && r->vq.last_avail != idx))
		fail("consumed more than available, or left some");
	if (rc == 1) {
		check_chain(&r->c);
		if (hold && r->nheld < HELD_MAX) {
			r->held[r->nheld] = r->c.head;
			r->held_len[r->nheld++] = r->c.in_len > UINT32_MAX ?
						  UINT32_MAX : (uint32_t)r->c.in_len;
		} else {
			push(r->c.head, 0);
		}
	}
	check_used();
	return rc;
}

/** op_pop() - action 4: a round of at most @p pops (0: until none). */
static void op_pop(struct in *in, unsigned p)
{
	uint8_t h = 0;
	unsigned n = 0;

	take(in, &h, 1);
	while (pop_one(h & 1) == 1)
		if (++n == p)
			break;
	if (r->vq.broken && vring_avail_pending(&r->vq))
		fail("a broken queue has something pending");
}

/** op_flush() - action 5: push what is held, flush, notify. */
static void op_flush(unsigned p)
{
	unsigned i;
	uint16_t v;

	for (i = 0; i < r->nheld; i++)
		push(r->held[i], p && r->held_len[i] > p * 256u ? p * 256u : r->held_len[i]);
	r->nheld = 0;
	vring_flush(&r->vq);
	memcpy(&v, ref_map(r->used_gpa + 2, 2), 2);
	if (le16toh(v) != r->vq.used_idx)
		fail("the flushed used index is not the device's");
	check_used();
	sink ^= (uint8_t)vring_need_notify(&r->vq);
}

/** op_kicks() - action 6: kicks on or off, then what is pending. */
static void op_kicks(unsigned p)
{
	unsigned n;

	vring_enable_kicks(&r->vq, p & 1);
	n = vring_avail_pending(&r->vq);
	if (n > r->num || (r->vq.broken && n))
		fail("vring_avail_pending out of range");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	unsigned i;

	if (!r && !(r = calloc(1, sizeof(*r))))
		fail("out of memory");
	r->nreg = 0;
	if (layout(&in)) {
		uint8_t c;

		while (take(&in, &c, 1)) {
			unsigned p = c >> 3;

			switch (c & 7) {
			case 0: op_write(&in); break;
			case 1: op_desc(&in); break;
			case 2: op_avail(&in); break;
			case 3: {
				uint8_t h[2];

				if (take(&in, h, 2))
					set_avail_idx((uint16_t)(h[0] | h[1] << 8));
				break;
			}
			case 4: op_pop(&in, p); break;
			case 5: op_flush(p); break;
			case 6: op_kicks(p); break;
			default:
				if (!setup(r->vq.last_avail))
					fail("a queue that was set up could not be again");
				break;
			}
		}
		op_pop(&in, 0);
		op_flush(0);
		if (getenv("FUZZ_VRING_VERBOSE"))
			fprintf(stderr, "fuzz-vring: num %u, %llu pushed, %llu bad, "
				"broken %d, used idx %u\n", r->num,
				(unsigned long long)r->pushes,
				(unsigned long long)r->vq.bad_chains, r->vq.broken,
				r->vq.used_idx);
	} else if (getenv("FUZZ_VRING_VERBOSE")) {
		fprintf(stderr, "fuzz-vring: no queue set up\n");
	}
	for (i = 0; i < r->nreg; i++)
		free(r->reg[i].hva);
	return 0;
}
