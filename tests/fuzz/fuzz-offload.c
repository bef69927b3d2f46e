/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-offload.c - libFuzzer target for the software offload engine.
 *
 * Input: byte 0 chooses the direction and options (bit 0: OL_RX, bit 1:
 * OL_CSUM_PARTIAL) and, in bits 2-7, the receiver's largest frame (0: a
 * 64 KiB super-frame's, 1-7: 56-152 bytes, below or near the headers,
 * 8-63: 8-63 KiB); bytes 1-10 are a 10-byte little-endian virtio-net
 * header, the rest is the frame (up to 70000 bytes: run libFuzzer with
 * -max_len=70000). The target runs ol_check(), and on acceptance
 * ol_segment() and ol_csum_complete(), then checks invariants and aborts
 * when one fails:
 *  - a rejection names a reason of the requested direction;
 *  - no GSO segment is longer than the limit, and each one's IP length
 *    field says its real length;
 *  - every header block lies in the store, every payload slice in the
 *    frame, slices follow each other without gap or overlap, and together
 *    with the headers they carry exactly the input's payload;
 *  - with complete checksums, every TCP/UDP segment and IPv4 header
 *    verifies with the simple reference checksum of offload-frames.h, and
 *    a NEEDS_CSUM-only frame equals ol_csum_complete() of the input.
 * Built with -fsanitize=fuzzer for real fuzzing, and linked with
 * replay.c so the seed corpus runs in every test run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "offload-frames.h"
#include "offload.h"

#define HDR_BYTES 11

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ol_seg segs[OL_MAX_SEGS];
static uint8_t flat[70000 + OL_MAX_HDR];

/* The receiver's largest frame chosen by bits 2-7 of @opts.
 * Return: the limit for ol_check(). */
static size_t seg_limit(uint8_t opts)
{
	size_t k = opts >> 2;

	if (k == 0)
		return OL_TEST_MAX;
	if (k < 8)
		return 40 + 16 * k;
	return k * 1024 < OL_TEST_MAX ? k * 1024 : OL_TEST_MAX;
}

/* Abort with the failed condition, so the fuzzer keeps the input. */
#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-offload: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* Decode the 10-byte little-endian header at @b into @h. */
static void decode(const uint8_t *b, struct netbe_vnet_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->flags = b[0];
	h->gso_type = b[1];
	h->hdr_len = (uint16_t)(b[2] | b[3] << 8);
	h->gso_size = (uint16_t)(b[4] | b[5] << 8);
	h->csum_start = (uint16_t)(b[6] | b[7] << 8);
	h->csum_offset = (uint16_t)(b[8] | b[9] << 8);
}

/* Copy segment @s into flat[]. Return: its length. */
static size_t flatten(const struct ol_seg *s)
{
	ASSERT(s->hdr_len + s->data_len <= sizeof(flat));
	if (s->hdr_len)
		memcpy(flat, s->hdr, s->hdr_len);
	if (s->data_len)
		memcpy(flat + s->hdr_len, s->data, s->data_len);
	return s->hdr_len + s->data_len;
}

/* The slices must tile [first->data, @end) in order; the header blocks
 * must lie in @store. */
static void check_slices(const struct ol_pkt *p, int n, const uint8_t *store,
			 size_t store_len, const uint8_t *end)
{
	const uint8_t *next = segs[0].data;
	int i;

	for (i = 0; i < n; i++) {
		ASSERT(segs[i].hdr_len == 0 ||
		       (segs[i].hdr >= store &&
			segs[i].hdr + segs[i].hdr_len <= store + store_len));
		ASSERT(segs[i].data >= p->frame);
		ASSERT(segs[i].data + segs[i].data_len <= p->frame + p->len);
		ASSERT(segs[i].data == next);
		next += segs[i].data_len;
	}
	ASSERT(next == end);
}

/* Verify the checksums of segment @s (IPv4 header, TCP/UDP). */
static void check_csums(const struct ol_pkt *p, const struct ol_seg *s)
{
	size_t len = flatten(s), l4 = p->l4;
	uint32_t sum;

	if (p->ipv == 4)
		ASSERT(ref_fold(ref_add(0, flat + p->l3,
					(size_t)(flat[p->l3] & 0xf) * 4)) == 0xffff);
	if (p->gso == NETBE_GSO_UDP && p->nsegs > 1)
		return;   /* fragments: checked as a whole by the unit test */
	sum = ref_pseudo(flat + p->l3, p->ipv, p->proto, (uint32_t)(len - l4));
	ASSERT(ref_fold(ref_add(sum, flat + l4, len - l4)) == 0xffff);
}

/* Every segment fits @seg_max and its IP length field matches it. */
static void check_lengths(const struct ol_pkt *p, int n, size_t seg_max)
{
	int i;

	for (i = 0; i < n; i++) {
		size_t len = flatten(&segs[i]);
		size_t iplen = p->ipv == 4 ? fb_get16(flat + p->l3 + 2)
					   : 40u + fb_get16(flat + p->l3 + 4);

		ASSERT(len <= seg_max && len <= OL_TEST_MAX);
		ASSERT(p->l3 + iplen == len);
	}
}

/* Invariants for a GSO frame's segments. */
static void check_gso(const struct netbe_vnet_hdr *h, const struct ol_pkt *p,
		      unsigned flags, int n, const uint8_t *store, size_t slen,
		      size_t seg_max)
{
	const uint8_t *f = p->frame;
	size_t start = p->ipv == 4 ? p->l4 : p->unfrag;
	int i;

	check_lengths(p, n, seg_max);
	if (p->gso != NETBE_GSO_UDP || n == 1) {
		check_slices(p, n, store, slen, f + p->end);
		ASSERT(segs[0].data == f + p->payload);
		for (i = 0; i < n; i++) {
			ASSERT(segs[i].data_len <= h->gso_size);
			ASSERT(n == 1 || segs[i].data_len > 0);
			if (!(flags & OL_CSUM_PARTIAL))
				check_csums(p, &segs[i]);
		}
		return;
	}
	check_slices(p, n, store, slen, f + p->end);
	ASSERT(segs[0].data == f + p->payload);
	ASSERT(segs[0].hdr_len == segs[1].hdr_len + (p->l4 - start) + 8);
	for (i = 0; i < n; i++) {
		ASSERT(segs[i].data_len <= h->gso_size);
		check_csums(p, &segs[i]);
	}
}

/* Invariants for a NEEDS_CSUM frame without GSO: one segment that equals
 * the input with its checksum completed in place. */
static void check_csum_only(const struct netbe_vnet_hdr *h,
			    const struct ol_pkt *p, unsigned flags)
{
	uint8_t *copy = malloc(p->len);
	size_t len = flatten(&segs[0]);

	ASSERT(len == p->len);
	memcpy(copy, p->frame, p->len);
	ASSERT(ol_csum_complete(h, p, copy) == 0);
	if (!(flags & OL_CSUM_PARTIAL))
		ASSERT(memcmp(copy, flat, len) == 0);
	else
		ASSERT(memcmp(p->frame, flat, len) == 0);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netbe_vnet_hdr h;
	enum netbe_drop_reason why;
	unsigned flags;
	struct ol_pkt p;
	uint8_t *store;
	size_t slen, seg_max;
	int n;

	if (size < HDR_BYTES)
		return 0;
	flags = (data[0] & 1 ? OL_RX : 0) | (data[0] & 2 ? OL_CSUM_PARTIAL : 0);
	seg_max = seg_limit(data[0]);
	decode(data + 1, &h);
	why = ol_check(&h, data + HDR_BYTES, size - HDR_BYTES, flags, seg_max, &p);
	if (why != OL_OK) {
		if (flags & OL_RX)
			ASSERT(why == NETBE_DROP_RX_BAD_HDR || why == NETBE_DROP_RX_RUNT ||
			       why == NETBE_DROP_RX_TOO_BIG);
		else
			ASSERT(why == NETBE_DROP_TX_BAD_HDR || why == NETBE_DROP_TX_RUNT ||
			       why == NETBE_DROP_TX_TOO_BIG);
		return 0;
	}
	slen = ol_store_size(&p);
	ASSERT(slen <= OL_STORE_MAX);
	store = malloc(slen ? slen : 1);
	n = ol_segment(&h, &p, flags, 0x1234, store, slen, segs, OL_MAX_SEGS);
	ASSERT(n >= 1 && (unsigned)n == p.nsegs);
	if (p.parsed)
		check_gso(&h, &p, flags, n, store, slen, seg_max);
	else if (h.flags & NETBE_HDR_F_NEEDS_CSUM)
		check_csum_only(&h, &p, flags);
	else
		ASSERT(n == 1 && segs[0].hdr_len == 0 &&
		       segs[0].data == p.frame && segs[0].data_len == p.len);
	free(store);
	return 0;
}
