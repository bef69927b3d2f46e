/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-ipfrag.c - the IP fragment reassembler (src/core/ipfrag.c).
 *
 * Datagrams are made of a known byte pattern, cut into IPv4 or IPv6
 * fragments by the builders below, fed in various orders and checked
 * against the pattern byte for byte, with the output header (lengths,
 * fragment field, checksum, next header) checked field by field. Every
 * test also checks the accounting: each fragment fed is in an output
 * datagram, counted as dropped, or still held.
 */
#include <stdbool.h>
#include <stdint.h>

#include "ipfrag.h"
#include "offload-frames.h"
#include "harness.h"

#define SEC 1000000000ULL
#define DATA_MAX 65535
#define FRAME_MAX (IPF_FRAME_MAX + 64)

static uint8_t data[DATA_MAX];
static uint8_t frame[FRAME_MAX];

/* Fragments fed, and where they went, for the accounting check. */
struct tally {
	unsigned fed, emitted, dropped;
};

static struct ipf table;

/** csum() - Return: the folded, complemented sum of @len bytes, by the
 * reference of offload-frames.h (no code shared with the library). */
static uint16_t csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_fold(ref_add(0, p, len));
}

/** fill() - the datagram pattern for @seed. */
static void fill(unsigned seed)
{
	size_t i;

	for (i = 0; i < DATA_MAX; i++)
		data[i] = (uint8_t)(i * 131 + seed + (i >> 8));
}

/** eth() - an Ethernet header, tagged with VLAN 5 when @vlan.
 * Return: its length. */
static size_t eth(uint8_t *f, uint16_t type, bool vlan)
{
	memset(f, 0x11, 6);
	memset(f + 6, 0x22, 6);
	if (!vlan) {
		fb_put16(f + 12, type);
		return 14;
	}
	fb_put16(f + 12, 0x8100);
	fb_put16(f + 14, 5);
	fb_put16(f + 16, type);
	return 18;
}

/** frag4() - an IPv4 fragment of datagram @id: @len bytes of data[] from
 * @off, MF when @more, @opts bytes of IP options. Return: frame length. */
static size_t frag4(uint16_t id, size_t off, size_t len, bool more,
		    size_t opts, bool vlan)
{
	size_t o = eth(frame, 0x0800, vlan), ihl = 20 + opts;
	uint8_t *ip = frame + o;

	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	fb_put16(ip + 2, (uint16_t)(ihl + len));
	fb_put16(ip + 4, id);
	fb_put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
	memset(ip + 20, 1, opts);  /* NOPs */
	fb_put16(ip + 10, csum(ip, ihl));
	memcpy(ip + ihl, data + off, len);
	return o + ihl + len;
}

/** frag6() - an IPv6 fragment of datagram @id, with a hop-by-hop header
 * before the Fragment header when @hbh. Return: frame length. */
static size_t frag6(uint32_t id, size_t off, size_t len, bool more, bool hbh)
{
	size_t o = eth(frame, 0x86dd, false);
	uint8_t *ip = frame + o, *fh = ip + 40 + (hbh ? 8 : 0);

	memset(ip, 0, 40);
	ip[0] = 0x60;
	fb_put16(ip + 4, (uint16_t)((hbh ? 8 : 0) + 8 + len));
	ip[6] = hbh ? 0 : 44;
	ip[7] = 64;
	ip[23] = 1;
	ip[39] = 2;
	if (hbh) {
		memset(ip + 40, 0, 8);
		ip[40] = 44;
		ip[42] = 1;    /* PadN of 4 */
		ip[43] = 4;
	}
	fh[0] = 17;
	fh[1] = 0;
	fb_put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	fh[4] = (uint8_t)(id >> 24);
	fh[5] = (uint8_t)(id >> 16);
	fh[6] = (uint8_t)(id >> 8);
	fh[7] = (uint8_t)id;
	memcpy(fh + 8, data + off, len);
	return (size_t)(fh + 8 + len - frame);
}

/** feed() - one frame into the table at @now, tallied.
 * Return: the result. */
static enum ipf_result feed(struct tally *t, size_t len, uint64_t now,
			    struct ipf_out *out)
{
	enum ipf_result r = ipf_input(&table, frame, len, now, out);

	if (r == IPF_HELD || r == IPF_DONE || r == IPF_DROPPED)
		t->fed++;
	if (r == IPF_DONE)
		t->emitted += out->nfrags;
	t->dropped += out->dropped;
	return r;
}

/** check_tally() - every fragment fed is emitted, dropped or held. */
static void check_tally(const struct tally *t)
{
	CHECK_EQ(t->fed, t->emitted + t->dropped + ipf_held(&table));
}

/** check4() - @out is the IPv4 datagram of @dlen bytes of data[] with
 * @opts bytes of options behind an @l2-byte header. */
static void check4(const struct ipf_out *out, size_t l2, size_t opts, size_t dlen)
{
	const uint8_t *ip = out->frame + l2;
	size_t ihl = 20 + opts;

	CHECK_EQ(out->len, l2 + ihl + dlen);
	if (out->len != l2 + ihl + dlen)
		return;
	CHECK_EQ(ip[0], 0x40 | ihl / 4);
	CHECK_EQ(fb_get16(ip + 2), ihl + dlen);
	CHECK_EQ(fb_get16(ip + 6), 0);
	CHECK_EQ(csum(ip, ihl), 0);
	CHECK(!memcmp(ip + ihl, data, dlen));
	CHECK_EQ(fb_get16(out->frame + 12), l2 == 18 ? 0x8100 : 0x0800);
}

/** check6() - @out is the IPv6 datagram of @dlen bytes of data[]. */
static void check6(const struct ipf_out *out, bool hbh, size_t dlen)
{
	const uint8_t *ip = out->frame + 14;
	size_t h = 40 + (hbh ? 8 : 0);

	CHECK_EQ(out->len, 14 + h + dlen);
	if (out->len != 14 + h + dlen)
		return;
	CHECK_EQ(fb_get16(ip + 4), h - 40 + dlen);
	CHECK_EQ(hbh ? ip[40] : ip[6], 17);
	CHECK(!memcmp(ip + h, data, dlen));
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static void test_not_fragments_pass(void)
{
	struct ipf_out out;
	size_t len = frag4(1, 0, 100, false, 0, false);

	CHECK_EQ(ipf_input(&table, frame, len, 0, &out), IPF_PASS);
	len = eth(frame, 0x0806, false) + 28;
	CHECK_EQ(ipf_input(&table, frame, len, 0, &out), IPF_PASS);
	CHECK_EQ(ipf_input(&table, frame, 10, 0, &out), IPF_PASS);
	len = frag6(1, 0, 100, false, false);
	frame[14 + 6] = 17;    /* no Fragment header */
	CHECK_EQ(ipf_input(&table, frame, len, 0, &out), IPF_PASS);
	CHECK_EQ(out.dropped, 0);
	CHECK_EQ(ipf_held(&table), 0);
}

static void test_bad_headers(void)
{
	struct ipf_out out;
	size_t len = frag4(1, 0, 100, false, 0, false);

	frame[14] = 0x44;     /* ihl 4 */
	CHECK_EQ(ipf_input(&table, frame, len, 0, &out), IPF_BAD_HDR);
	frag4(1, 0, 100, false, 0, false);
	CHECK_EQ(ipf_input(&table, frame, len - 1, 0, &out), IPF_BAD_HDR);
	CHECK_EQ(ipf_input(&table, frame, 14 + 19, 0, &out), IPF_BAD_HDR);
	frag4(1, 8, 100, false, 0, false);
	frame[14 + 8]++;      /* header checksum wrong on a fragment */
	CHECK_EQ(ipf_input(&table, frame, len, 0, &out), IPF_BAD_HDR);
	len = frag6(1, 8, 100, false, true);
	frame[14 + 41] = 200; /* hop-by-hop runs past the end */
	CHECK_EQ(ipf_input(&table, frame, len, 0, &out), IPF_BAD_HDR);
	CHECK_EQ(ipf_input(&table, frame, 14 + 39, 0, &out), IPF_BAD_HDR);
	CHECK_EQ(ipf_held(&table), 0);
}

static void test_in_order_ipv4(void)
{
	struct tally t = { 0 };
	struct ipf_out out;

	fill(1);
	CHECK_EQ(feed(&t, frag4(7, 0, 1480, true, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(7, 1480, 1480, true, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(7, 2960, 40, false, 0, false), 0, &out), IPF_DONE);
	CHECK_EQ(out.nfrags, 3);
	check4(&out, 14, 0, 3000);
	check_tally(&t);
}

/* Fragments in reverse and in a shuffled order, with options and VLAN. */
static void test_out_of_order(void)
{
	static const unsigned order[] = { 3, 0, 5, 1, 4, 2 };
	struct tally t = { 0 };
	struct ipf_out out;
	enum ipf_result r = IPF_HELD;
	unsigned i;

	fill(2);
	for (i = 6; i-- > 0;)
		r = feed(&t, frag4(8, i * 800, 800, i < 5, 8, true), SEC, &out);
	CHECK_EQ(r, IPF_DONE);
	check4(&out, 18, 8, 4800);
	for (i = 0; i < 6; i++)
		r = feed(&t, frag6(9, order[i] * 1000, 1000, order[i] < 5, true), 2 * SEC, &out);
	CHECK_EQ(r, IPF_DONE);
	check6(&out, true, 6000);
	check_tally(&t);
}

static void test_duplicates(void)
{
	struct tally t = { 0 };
	struct ipf_out out;

	fill(3);
	CHECK_EQ(feed(&t, frag6(10, 0, 512, true, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag6(10, 0, 512, true, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 1);
	CHECK_EQ(feed(&t, frag6(10, 512, 100, false, false), 0, &out), IPF_DONE);
	CHECK_EQ(out.nfrags, 2);
	check6(&out, false, 612);
	/* the last fragment twice, then the same range claiming MF=0 */
	CHECK_EQ(feed(&t, frag4(11, 512, 100, false, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(11, 512, 100, false, 0, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(feed(&t, frag4(11, 0, 512, true, 0, false), 0, &out), IPF_DONE);
	check4(&out, 14, 0, 612);
	CHECK_EQ(feed(&t, frag6(12, 0, 512, true, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag6(12, 0, 512, false, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 2);
	check_tally(&t);
}

static void test_overlaps_drop_datagram(void)
{
	struct tally t = { 0 };
	struct ipf_out out;

	fill(4);
	CHECK_EQ(feed(&t, frag4(20, 0, 800, true, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(20, 1600, 100, false, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(20, 792, 808, true, 0, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 3);
	CHECK_EQ(ipf_held(&table), 0);
	/* RFC 5722: an IPv6 fragment inside another one */
	CHECK_EQ(feed(&t, frag6(21, 0, 1600, true, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag6(21, 800, 8, true, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 2);
	check_tally(&t);
}

static void test_inconsistent_ends(void)
{
	struct tally t = { 0 };
	struct ipf_out out;

	fill(5);
	/* two last fragments with different ends */
	CHECK_EQ(feed(&t, frag4(30, 8, 40, false, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(30, 8, 32, false, 0, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 2);
	/* a fragment past the end a last fragment set */
	CHECK_EQ(feed(&t, frag4(31, 800, 8, false, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(31, 808, 8, true, 0, false), 0, &out), IPF_DROPPED);
	/* a last fragment ending before a fragment already held */
	CHECK_EQ(feed(&t, frag6(32, 800, 800, true, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag6(32, 0, 400, false, false), 0, &out), IPF_DROPPED);
	/* MF with a length that is not a multiple of 8, and an empty one */
	CHECK_EQ(feed(&t, frag4(33, 0, 800, true, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(33, 800, 801, true, 0, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 2);
	CHECK_EQ(feed(&t, frag4(34, 800, 0, false, 0, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 1);
	CHECK_EQ(ipf_held(&table), 0);
	check_tally(&t);
}

static void test_timeout(void)
{
	struct tally t = { 0 };
	struct ipf_out out;

	fill(6);
	CHECK_EQ(feed(&t, frag4(40, 0, 800, true, 0, false), 100 * SEC, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(41, 0, 800, true, 0, false), 110 * SEC, &out), IPF_HELD);
	CHECK_EQ(ipf_expire(&table, 114 * SEC), 0);
	CHECK_EQ(feed(&t, frag4(40, 800, 8, false, 0, false), 115 * SEC, &out), IPF_HELD);
	CHECK_EQ(out.dropped, 1);   /* 40 expired first, then started again */
	CHECK_EQ(ipf_held(&table), 2);
	t.dropped += ipf_expire(&table, 200 * SEC);
	CHECK_EQ(ipf_held(&table), 0);
	check_tally(&t);
}

static void test_in_flight_bound(void)
{
	struct tally t = { 0 };
	struct ipf_out out;
	unsigned i;

	fill(7);
	for (i = 0; i < IPF_MAX_DGRAMS; i++) {
		CHECK_EQ(feed(&t, frag4((uint16_t)(50 + i), 0, 8, true, 0, false), i, &out), IPF_HELD);
		CHECK_EQ(out.dropped, 0);
	}
	CHECK_EQ(feed(&t, frag4(99, 0, 8, true, 0, false), 100, &out), IPF_HELD);
	CHECK_EQ(out.dropped, 1);   /* the oldest, 50, made room */
	CHECK_EQ(ipf_held(&table), IPF_MAX_DGRAMS);
	CHECK_EQ(feed(&t, frag4(51, 8, 8, false, 0, false), 100, &out), IPF_DONE);
	check4(&out, 14, 0, 16);
	CHECK_EQ(feed(&t, frag4(50, 8, 8, false, 0, false), 100, &out), IPF_HELD);
	t.dropped += ipf_release(&table);
	CHECK_EQ(ipf_held(&table), 0);
	check_tally(&t);
}

static void test_too_many_fragments(void)
{
	struct tally t = { 0 };
	struct ipf_out out;
	enum ipf_result r = IPF_HELD;
	unsigned i;

	fill(8);
	for (i = 0; i <= IPF_MAX_FRAGS && r == IPF_HELD; i++)
		r = feed(&t, frag4(60, i * 8, 8, true, 0, false), 0, &out);
	CHECK_EQ(i, IPF_MAX_FRAGS + 1);
	CHECK_EQ(r, IPF_DROPPED);
	CHECK_EQ(out.dropped, IPF_MAX_FRAGS + 1);
	check_tally(&t);
}

/* The largest datagram, in two fragments; one byte more is dropped. */
static void test_largest(void)
{
	struct tally t = { 0 };
	struct ipf_out out;
	size_t max4 = IPF_IP_MAX - 20, max6 = IPF_IP_MAX - 40;

	fill(9);
	CHECK_EQ(feed(&t, frag4(70, 32768, max4 - 32768, false, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(70, 0, 32768, true, 0, false), 0, &out), IPF_DONE);
	check4(&out, 14, 0, max4);
	CHECK(out.len <= IPF_FRAME_MAX);
	CHECK_EQ(feed(&t, frag6(71, 0, 32768, true, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag6(71, 32768, max6 - 32768, false, false), 0, &out), IPF_DONE);
	check6(&out, false, max6);
	CHECK_EQ(feed(&t, frag4(72, 32768, max4 - 32768 + 1, false, 0, false), 0, &out), IPF_DROPPED);
	/* the first fragment's options push the whole past 65535 */
	CHECK_EQ(feed(&t, frag4(73, 32768, max4 - 32768, false, 0, false), 0, &out), IPF_HELD);
	CHECK_EQ(feed(&t, frag4(73, 0, 32768, true, 4, false), 0, &out), IPF_DROPPED);
	CHECK_EQ(out.dropped, 2);
	check_tally(&t);
}

/* Issue 14: a lone last fragment is held, and dropped at release. */
static void test_lone_last_fragment(void)
{
	struct tally t = { 0 };
	struct ipf_out out;

	CHECK_EQ(feed(&t, frag4(80, 8, 40, false, 0, false), 0, &out), IPF_HELD);
	t.dropped += ipf_release(&table);
	CHECK_EQ(t.dropped, 1);
	check_tally(&t);
}

int main(void)
{
	RUN(test_not_fragments_pass);
	RUN(test_bad_headers);
	RUN(test_in_order_ipv4);
	RUN(test_out_of_order);
	RUN(test_duplicates);
	RUN(test_overlaps_drop_datagram);
	RUN(test_inconsistent_ends);
	RUN(test_timeout);
	RUN(test_in_flight_bound);
	RUN(test_too_many_fragments);
	RUN(test_largest);
	RUN(test_lone_last_fragment);
	ipf_release(&table);
	return harness_done();
}
