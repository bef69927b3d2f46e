/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-offload.c - the software offload engine (src/core/offload.c).
 *
 * Checksums are compared with RFC 1071's examples and with the simple
 * reference in offload-frames.h. Segmentation of known frames is checked
 * field by field: every segment is flattened (header block + payload
 * slice) and its IP length/id/checksum, TCP sequence/flags/checksum, UDP
 * length/checksum and fragment offsets are compared with what they must
 * be. Every validation failure is provoked with the reason it must give,
 * and every frame is also fed truncated at every length from a buffer of
 * exactly that size, so ASan sees any read past the end.
 */
#include <errno.h>
#include <stdlib.h>

#include "harness.h"
#include "offload-frames.h"
#include "offload.h"

#define BUF_MAX 70000

static uint8_t frame_buf[BUF_MAX];

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Return: the engine's checksum of @p/@n as it would be stored (bytes). */
static uint16_t engine_csum_be(const uint8_t *p, size_t n)
{
	uint16_t c = (uint16_t)~ol_csum_fold(ol_csum_partial(p, n, 0));
	uint8_t b[2];

	memcpy(b, &c, 2);
	return fb_get16(b);
}

/* Return: the reference checksum of @p/@n, big-endian value. */
static uint16_t ref_csum(const uint8_t *p, size_t n)
{
	return (uint16_t)~ref_fold(ref_add(0, p, n));
}

/* Return: true when the L4 checksum of the packet in @pkt verifies. */
static bool l4_ok(const uint8_t *pkt, size_t l3, size_t l4, size_t end,
		  int ipv, int proto)
{
	uint32_t s = ref_pseudo(pkt + l3, ipv, proto, (uint32_t)(end - l4));

	return ref_fold(ref_add(s, pkt + l4, end - l4)) == 0xffff;
}

/* Return: true when the IPv4 header at @ip verifies. */
static bool ip4_ok(const uint8_t *ip)
{
	return ref_fold(ref_add(0, ip, (size_t)(ip[0] & 0xf) * 4)) == 0xffff;
}

/* Copy segment @s into @out. Return: its length. */
static size_t flatten(const struct ol_seg *s, uint8_t *out)
{
	memcpy(out, s->hdr, s->hdr_len);
	if (s->data_len)
		memcpy(out + s->hdr_len, s->data, s->data_len);
	return s->hdr_len + s->data_len;
}

struct run {
	struct netbe_vnet_hdr h;
	struct fb_layout lay;
	struct ol_pkt p;
	uint8_t *store;
	struct ol_seg segs[OL_MAX_SEGS];
	int n;
};

/* Build @o, check and segment it with @flags into segments of at most
 * @seg_max bytes, into @r. Return: the ol_check() result. */
static enum netbe_drop_reason run_frame_max(const struct fb *o, unsigned flags,
					    size_t seg_max, struct run *r)
{
	enum netbe_drop_reason why;

	fb_build(frame_buf, o, &r->h, &r->lay);
	why = ol_check(&r->h, frame_buf, r->lay.len, flags, seg_max, &r->p);
	r->store = NULL;
	r->n = 0;
	if (why != OL_OK)
		return why;
	r->store = malloc(ol_store_size(&r->p) + 1);
	r->n = ol_segment(&r->h, &r->p, flags, 0xabcd1234, r->store,
			  ol_store_size(&r->p), r->segs, OL_MAX_SEGS);
	return why;
}

/* run_frame_max() with core's largest frame as the limit. */
static enum netbe_drop_reason run_frame(const struct fb *o, unsigned flags,
					struct run *r)
{
	return run_frame_max(o, flags, OL_TEST_MAX, r);
}

/* ------------------------------------------------------------------------ */
/* Checksums                                                                */
/* ------------------------------------------------------------------------ */

static void test_csum_rfc1071(void)
{
	/* RFC 1071 section 3: the sum of these words is ddf2. */
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* A well-known IPv4 header whose checksum is b861. */
	static const uint8_t ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
		0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t f = ol_csum_fold(ol_csum_partial(ex, sizeof(ex), 0));
	uint8_t b[2];

	memcpy(b, &f, 2);
	CHECK_EQ(fb_get16(b), 0xddf2);
	CHECK_EQ(engine_csum_be(ip, sizeof(ip)), 0xb861);
	CHECK_EQ(ref_csum(ip, sizeof(ip)), 0xb861);
	CHECK_EQ(engine_csum_be(ex, 0), 0xffff);
	/* RFC 1071: an odd byte counts as the high byte of a word. */
	CHECK_EQ(engine_csum_be(ex, 3), (uint16_t)~(0x0001 + 0xf200));
}

static void test_csum_vs_reference(void)
{
	static uint8_t buf[70000 + 16];
	size_t lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63,
			  64, 65, 100, 1447, 1448, 1500, 9000, 65535, 70000 };
	size_t i, a, cut;

	srand(1);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (a = 0; a < 8; a++)
			CHECK_EQ(engine_csum_be(buf + a, lens[i]),
				 ref_csum(buf + a, lens[i]));
	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ(engine_csum_be(buf + 1, 70000), ref_csum(buf + 1, 70000));
	/* Chained over even pieces, unaligned starts. */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (cut = 0; cut < 200; cut += 2) {
		uint32_t s = ol_csum_partial(buf + 3, cut, 0);
		uint16_t c;
		uint8_t b[2];

		s = ol_csum_partial(buf + 3 + cut, 999 - cut, s);
		c = (uint16_t)~ol_csum_fold(s);
		memcpy(b, &c, 2);
		CHECK_EQ(fb_get16(b), ref_csum(buf + 3, 999));
	}
}

/* ------------------------------------------------------------------------ */
/* TSO and USO                                                              */
/* ------------------------------------------------------------------------ */

/* Segment @o with @flags and check every segment field by field. */
static void check_l4_segments(const struct fb *o, unsigned flags)
{
	static uint8_t seg[BUF_MAX];
	static struct run r;
	size_t mss = o->gso_size, paylen = o->paylen;
	unsigned expect = paylen ? (unsigned)((paylen + mss - 1) / mss) : 1, i;
	bool tcp = o->proto == IPPROTO_TCP;

	CHECK_EQ(run_frame(o, flags, &r), OL_OK);
	CHECK_EQ(r.n, expect);
	for (i = 0; i < (unsigned)r.n && r.n == (int)expect; i++) {
		const struct ol_seg *s = &r.segs[i];
		size_t dl = paylen - i * mss < mss ? paylen - i * mss : mss;
		size_t len = flatten(s, seg);
		const uint8_t *ip = seg + r.lay.l3, *th = seg + r.lay.l4;
		uint8_t fl = o->tcp_flags ? o->tcp_flags : FB_TCP_ACK;

		CHECK_EQ(s->hdr_len, r.lay.payload);
		CHECK_EQ(s->data_len, dl);
		CHECK(s->data == frame_buf + r.lay.payload + i * mss);
		CHECK(memcmp(seg, frame_buf, r.lay.l3) == 0);
		if (o->ipv == 4) {
			CHECK_EQ(fb_get16(ip + 2), len - r.lay.l3);
			CHECK_EQ(fb_get16(ip + 4), (uint16_t)(o->ip_id + i));
			CHECK_EQ(fb_get16(ip + 6), 0x4000);
			CHECK(ip4_ok(ip));
		} else {
			CHECK_EQ(fb_get16(ip + 4), len - r.lay.l3 - 40);
			CHECK(memcmp(ip + 40, frame_buf + r.lay.l3 + 40,
				     8 * o->ip6_ext) == 0);
		}
		if (tcp) {
			if (i + 1 < (unsigned)r.n)
				fl &= (uint8_t)~(FB_TCP_FIN | FB_TCP_PSH);
			if (i > 0)
				fl &= (uint8_t)~FB_TCP_CWR;
			CHECK_EQ(fb_get32(th + 4), (uint32_t)(o->seq + i * mss));
			CHECK_EQ(th[13], fl);
		} else {
			CHECK_EQ(fb_get16(th + 4), 8 + dl);
		}
		if (flags & OL_CSUM_PARTIAL) {
			size_t off = tcp ? 16 : 6;

			CHECK_EQ(s->flags, NETBE_HDR_F_NEEDS_CSUM);
			CHECK_EQ(s->csum_start, r.lay.l4);
			CHECK_EQ(s->csum_offset, off);
			CHECK_EQ(fb_get16(th + off),
				 ref_fold(ref_pseudo(ip, o->ipv, o->proto,
						     (uint32_t)(len - r.lay.l4))));
		} else {
			CHECK_EQ(s->flags, 0);
			CHECK(l4_ok(seg, r.lay.l3, r.lay.l4, len, o->ipv, o->proto));
		}
	}
	free(r.store);
}

static void test_tso4(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 3000,
			.ip_id = 0xfffe, .seq = 0xfffff000,
			.tcp_flags = FB_TCP_ACK | FB_TCP_PSH | FB_TCP_FIN | FB_TCP_CWR,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 };

	check_l4_segments(&o, 0);
	check_l4_segments(&o, OL_CSUM_PARTIAL);
	o.gso_type |= NETBE_GSO_ECN;
	check_l4_segments(&o, 0);
	o.paylen = 65535 - 40;
	check_l4_segments(&o, 0);
	o.paylen = 1448 * 4;
	check_l4_segments(&o, 0);
	o.paylen = 1000;                  /* one segment: flags untouched */
	check_l4_segments(&o, 0);
	o.paylen = 0;
	check_l4_segments(&o, 0);
	o.paylen = 5000;
	o.gso_size = 1447;                /* odd MSS: odd payload slices */
	o.seed = 77;
	check_l4_segments(&o, 0);
	o.no_csum = true;                 /* GSO without NEEDS_CSUM */
	check_l4_segments(&o, 0);
}

static void test_tso4_vlan_options(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 9000,
			.ntags = 1, .tcp_opt = 12, .ip_id = 7, .seq = 1,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1400 };

	check_l4_segments(&o, 0);
	o.ntags = 2;
	check_l4_segments(&o, 0);
	check_l4_segments(&o, OL_CSUM_PARTIAL);
}

static void test_tso6(void)
{
	struct fb o = { .ipv = 6, .proto = IPPROTO_TCP, .paylen = 20000,
			.seq = 12345, .tcp_flags = FB_TCP_ACK | FB_TCP_PSH,
			.gso_type = NETBE_GSO_TCPV6, .gso_size = 1428 };

	check_l4_segments(&o, 0);
	check_l4_segments(&o, OL_CSUM_PARTIAL);
	o.ip6_ext = 2;                    /* hop-by-hop + destination options */
	o.ntags = 2;
	o.tcp_opt = 12;
	check_l4_segments(&o, 0);
	o.ip6_ext = 8;
	check_l4_segments(&o, 0);
}

static void test_uso(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 8000,
			.ip_id = 100, .gso_type = NETBE_GSO_UDP_L4,
			.gso_size = 1472 };

	check_l4_segments(&o, 0);
	check_l4_segments(&o, OL_CSUM_PARTIAL);
	o.ntags = 1;
	check_l4_segments(&o, 0);
	o.ipv = 6;
	o.gso_size = 1452;
	check_l4_segments(&o, 0);
	o.ip6_ext = 1;
	check_l4_segments(&o, OL_CSUM_PARTIAL);
	o.paylen = 100;
	check_l4_segments(&o, 0);
}

/* A UDP datagram whose checksum comes out as 0 is sent with 0xffff. */
static void test_udp_zero_csum(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 64,
			.gso_type = NETBE_GSO_UDP_L4, .gso_size = 1000 };
	struct run r;
	uint8_t seg[256];
	uint32_t s;
	size_t len;

	/* Make the last payload word cancel the sum of everything else. */
	fb_build(frame_buf, &o, &r.h, &r.lay);
	frame_buf[r.lay.len - 2] = frame_buf[r.lay.len - 1] = 0;
	s = ref_pseudo(frame_buf + r.lay.l3, 4, IPPROTO_UDP, 72);
	s = ref_add(s, frame_buf + r.lay.l4, 6);
	s = ref_add(s, frame_buf + r.lay.payload, o.paylen);
	fb_put16(frame_buf + r.lay.len - 2, (uint16_t)~ref_fold(s));
	CHECK_EQ(ol_check(&r.h, frame_buf, r.lay.len, 0, OL_TEST_MAX, &r.p), OL_OK);
	r.store = malloc(ol_store_size(&r.p));
	CHECK_EQ(ol_segment(&r.h, &r.p, 0, 0, r.store, ol_store_size(&r.p),
			    r.segs, OL_MAX_SEGS), 1);
	len = flatten(&r.segs[0], seg);
	CHECK_EQ(len, r.lay.len);
	CHECK_EQ(fb_get16(seg + r.lay.l4 + 6), 0xffff);
	CHECK(l4_ok(seg, r.lay.l3, r.lay.l4, len, 4, IPPROTO_UDP));
	free(r.store);
}

/* ------------------------------------------------------------------------ */
/* UFO                                                                      */
/* ------------------------------------------------------------------------ */

/* Fragment @o, check each fragment, reassemble and verify the datagram. */
static void check_ufo(const struct fb *o, unsigned expect)
{
	static uint8_t seg[BUF_MAX], dgram[BUF_MAX];
	static struct run r;
	size_t fs = o->gso_size & ~7u, ulen = 8 + o->paylen, got = 0;
	size_t fh;                       /* where the fragment header is */
	unsigned i;

	CHECK_EQ(run_frame(o, 0, &r), OL_OK);
	CHECK_EQ(r.n, expect);
	fh = r.lay.l4;
	for (i = 0; i < (unsigned)r.n && r.n == (int)expect; i++) {
		const struct ol_seg *s = &r.segs[i];
		size_t len = flatten(s, seg), off, flen;
		const uint8_t *ip = seg + r.lay.l3;
		bool more;

		CHECK(memcmp(seg, frame_buf, r.lay.l3) == 0);
		if (expect == 1) {
			CHECK_EQ(len, r.lay.len);
			CHECK(l4_ok(seg, r.lay.l3, r.lay.l4, len, o->ipv, IPPROTO_UDP));
			continue;
		}
		if (o->ipv == 4) {
			off = (size_t)(fb_get16(ip + 6) & 0x1fff) * 8;
			more = fb_get16(ip + 6) & 0x2000;
			CHECK_EQ(fb_get16(ip + 2), len - r.lay.l3);
			CHECK_EQ(fb_get16(ip + 4), o->ip_id);
			CHECK(ip4_ok(ip));
			flen = len - fh;
		} else {
			const uint8_t *f = seg + fh;   /* no ext headers here */

			CHECK_EQ(ip[6], 44);
			CHECK_EQ(f[0], IPPROTO_UDP);
			CHECK_EQ(f[1], 0);
			CHECK_EQ(fb_get32(f + 4), 0xabcd1234);
			off = fb_get16(f + 2) & ~7u;
			more = fb_get16(f + 2) & 1;
			CHECK_EQ(fb_get16(ip + 4), len - r.lay.l3 - 40);
			flen = len - fh - 8;
		}
		CHECK_EQ(off, i * fs);
		CHECK_EQ(more, i + 1 < (unsigned)r.n);
		CHECK_EQ(flen, i + 1 < (unsigned)r.n ? fs : ulen - i * fs);
		if (off + flen <= sizeof(dgram)) {
			memcpy(dgram + off, seg + len - flen, flen);
			got += flen;
		}
	}
	if (expect > 1) {
		uint32_t s = ref_pseudo(frame_buf + r.lay.l3, o->ipv, IPPROTO_UDP,
					(uint32_t)ulen);

		CHECK_EQ(got, ulen);
		CHECK_EQ(fb_get16(dgram + 4), ulen);
		CHECK(memcmp(dgram + 8, frame_buf + r.lay.payload, o->paylen) == 0);
		CHECK_EQ(ref_fold(ref_add(s, dgram, ulen)), 0xffff);
	}
	free(r.store);
}

static void test_ufo4(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 4000,
			.ip_id = 4242, .gso_type = NETBE_GSO_UDP, .gso_size = 1480 };

	check_ufo(&o, 3);
	o.gso_size = 1477;                /* rounded down to 1472 */
	check_ufo(&o, 3);
	o.ntags = 2;
	o.paylen = 65000;
	check_ufo(&o, 45);
	o.paylen = 1469;                  /* 1477 bytes fit: not fragmented */
	check_ufo(&o, 1);
}

static void test_ufo6(void)
{
	struct fb o = { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 4000,
			.gso_type = NETBE_GSO_UDP, .gso_size = 1448 };

	check_ufo(&o, 3);
	o.ntags = 1;
	o.paylen = 30001;
	check_ufo(&o, 21);
	o.paylen = 1000;
	check_ufo(&o, 1);
}

/* IPv6 with a hop-by-hop header: the fragment header goes after it. */
static void test_ufo6_hbh(void)
{
	struct fb o = { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 3000,
			.ip6_ext = 1, .gso_type = NETBE_GSO_UDP, .gso_size = 1400 };
	static struct run r;
	uint8_t seg[2000];
	size_t len;
	unsigned i;

	CHECK_EQ(run_frame(&o, 0, &r), OL_OK);
	CHECK_EQ(r.n, 3);
	for (i = 0; i < (unsigned)r.n; i++) {
		const uint8_t *ip = seg + r.lay.l3;

		len = flatten(&r.segs[i], seg);
		CHECK_EQ(ip[6], 0);               /* still hop-by-hop first */
		CHECK_EQ(ip[40], 44);             /* which names the fragment hdr */
		CHECK_EQ(ip[48], IPPROTO_UDP);
		CHECK_EQ(fb_get16(ip + 50) & ~7u, i * 1400);
		CHECK_EQ(fb_get16(ip + 4), len - r.lay.l3 - 40);
	}
	free(r.store);
}

/* ------------------------------------------------------------------------ */
/* NEEDS_CSUM without GSO                                                   */
/* ------------------------------------------------------------------------ */

static void check_needs_csum(const struct fb *o)
{
	static uint8_t seg[BUF_MAX];
	static struct run r;
	size_t len;

	CHECK_EQ(run_frame(o, 0, &r), OL_OK);
	CHECK_EQ(r.n, 1);
	len = flatten(&r.segs[0], seg);
	CHECK_EQ(len, r.lay.len);
	CHECK_EQ(r.segs[0].hdr_len, r.lay.l4 + (o->proto == IPPROTO_TCP ? 18 : 8));
	CHECK(l4_ok(seg, r.lay.l3, r.lay.l4, len, o->ipv, o->proto));
	free(r.store);

	CHECK_EQ(run_frame(o, OL_CSUM_PARTIAL, &r), OL_OK);
	CHECK_EQ(r.segs[0].flags, NETBE_HDR_F_NEEDS_CSUM);
	CHECK_EQ(r.segs[0].csum_start, r.lay.l4);
	CHECK(memcmp(r.segs[0].hdr, frame_buf, r.segs[0].hdr_len) == 0);
	free(r.store);

	CHECK_EQ(ol_csum_complete(&r.h, &r.p, frame_buf), 0);
	CHECK(l4_ok(frame_buf, r.lay.l3, r.lay.l4, r.lay.len, o->ipv, o->proto));
}

static void test_needs_csum(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 1000 };

	check_needs_csum(&o);
	o.ipv = 6;
	o.proto = IPPROTO_UDP;
	o.paylen = 777;
	check_needs_csum(&o);
	o.ntags = 2;
	o.ip6_ext = 2;
	check_needs_csum(&o);
}

/* A small frame with (non-zero) Ethernet padding: the sum stops at the
 * end of the IP packet. */
static void test_needs_csum_padding(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 5 };
	struct run r;
	uint8_t seg[64];
	size_t len;

	fb_build(frame_buf, &o, &r.h, &r.lay);
	memset(frame_buf + r.lay.len, 0x5a, 60 - r.lay.len);
	CHECK_EQ(ol_check(&r.h, frame_buf, 60, 0, OL_TEST_MAX, &r.p), OL_OK);
	r.store = malloc(ol_store_size(&r.p));
	CHECK_EQ(ol_segment(&r.h, &r.p, 0, 0, r.store, ol_store_size(&r.p),
			    r.segs, 1), 1);
	len = flatten(&r.segs[0], seg);
	CHECK_EQ(len, 60);
	CHECK(l4_ok(seg, r.lay.l3, r.lay.l4, r.lay.len, 4, IPPROTO_UDP));
	free(r.store);
	/* Padding is not allowed on a large frame. */
	o.paylen = 100;
	o.gso_type = NETBE_GSO_UDP_L4;
	o.gso_size = 50;
	fb_build(frame_buf, &o, &r.h, &r.lay);
	CHECK_EQ(ol_check(&r.h, frame_buf, r.lay.len + 2, 0, OL_TEST_MAX, &r.p),
		 NETBE_DROP_TX_BAD_HDR);
}

/* Without GSO, hdr_len means nothing and is not checked. */
static void test_needs_csum_ignores_hdr_len(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 100 };
	struct netbe_vnet_hdr h;
	struct ol_pkt p;
	size_t len = fb_build(frame_buf, &o, &h, NULL);

	h.hdr_len = 60000;
	CHECK_EQ(ol_check(&h, frame_buf, len, 0, OL_TEST_MAX, &p), OL_OK);
}

static void test_nothing_to_do(void)
{
	struct netbe_vnet_hdr h = { 0 };
	struct ol_pkt p;
	struct ol_seg s;
	uint8_t junk[3] = { 1, 2, 3 };

	CHECK(!ol_needs_work(&h));
	CHECK_EQ(ol_check(&h, junk, sizeof(junk), 0, OL_TEST_MAX, &p), OL_OK);
	CHECK_EQ(ol_store_size(&p), 0);
	CHECK_EQ(ol_segment(&h, &p, 0, 0, NULL, 0, &s, 1), 1);
	CHECK(s.data == junk);
	CHECK_EQ(s.data_len, 3);
	CHECK_EQ(s.hdr_len, 0);
	CHECK_EQ(ol_csum_complete(&h, &p, junk), -EINVAL);
}

static void test_no_room(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 3000,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1000 };
	struct run r;
	uint8_t store[OL_MAX_HDR * 3];

	fb_build(frame_buf, &o, &r.h, &r.lay);
	CHECK_EQ(ol_check(&r.h, frame_buf, r.lay.len, 0, OL_TEST_MAX, &r.p), OL_OK);
	CHECK_EQ(r.p.nsegs, 3);
	CHECK_EQ(ol_segment(&r.h, &r.p, 0, 0, store, sizeof(store), r.segs, 2),
		 -ENOSPC);
	CHECK_EQ(ol_segment(&r.h, &r.p, 0, 0, store, ol_store_size(&r.p) - 1,
			    r.segs, 3), -ENOSPC);
	CHECK_EQ(ol_segment(&r.h, &r.p, 0, 0, store, sizeof(store), r.segs, 3), 3);
}

/* ------------------------------------------------------------------------ */
/* Validation failures                                                      */
/* ------------------------------------------------------------------------ */

/* Build @o, let @mutate spoil it, expect @want from ol_check(). */
struct bad_case {
	const char *name;
	struct fb o;
	void (*mutate)(uint8_t *f, size_t *len, struct netbe_vnet_hdr *h,
		       const struct fb_layout *lay);
	enum netbe_drop_reason want;
};

#define MUT(name, body)							\
static void name(uint8_t *f, size_t *len, struct netbe_vnet_hdr *h,	\
		 const struct fb_layout *lay)				\
{									\
	(void)f; (void)len; (void)h; (void)lay;				\
	body;								\
}

MUT(m_runt, *len = 13)
MUT(m_csum_past_end, h->csum_offset = (uint16_t)(*len - h->csum_start - 1))
MUT(m_unknown_flag, h->flags |= 4)
MUT(m_hdr_len_past_end, h->hdr_len = (uint16_t)(*len + 1))
MUT(m_gso_size_zero, h->gso_size = 0)
MUT(m_gso_tcpv6_on_v4, h->gso_type = NETBE_GSO_TCPV6)
MUT(m_gso_tcpv4_on_v6, h->gso_type = NETBE_GSO_TCPV4)
MUT(m_gso_udp_on_tcp, h->gso_type = NETBE_GSO_UDP)
MUT(m_gso_uso_on_tcp, h->gso_type = NETBE_GSO_UDP_L4)
MUT(m_gso_tcp_on_udp, h->gso_type = NETBE_GSO_TCPV4)
MUT(m_gso_unknown, h->gso_type = 2)
MUT(m_gso_ecn_udp, h->gso_type = NETBE_GSO_UDP_L4 | NETBE_GSO_ECN)
MUT(m_csum_start_not_l4, h->csum_start = (uint16_t)(h->csum_start - 2))
MUT(m_csum_offset_wrong, h->csum_offset = 6)
MUT(m_ihl_small, f[lay->l3] = 0x44)
MUT(m_ihl_past_end, f[lay->l3] = 0x4f; *len = lay->l3 + 50;
    fb_put16(f + lay->l3 + 2, 50); h->hdr_len = 0)
MUT(m_ip_version, f[lay->l3] = 0x65)
MUT(m_tot_len_long, fb_put16(f + lay->l3 + 2, (uint16_t)(*len - lay->l3 + 1)))
MUT(m_tot_len_short, fb_put16(f + lay->l3 + 2, (uint16_t)(*len - lay->l3 - 1)))
MUT(m_tot_len_below_ihl, fb_put16(f + lay->l3 + 2, 19))
MUT(m_ip4_mf, fb_put16(f + lay->l3 + 6, 0x2000))
MUT(m_ip4_frag_off, fb_put16(f + lay->l3 + 6, 0x0001))
MUT(m_ip6_plen_zero, fb_put16(f + lay->l3 + 4, 0))
MUT(m_ip6_plen_long, fb_put16(f + lay->l3 + 4, (uint16_t)(*len - lay->l3 - 39)))
MUT(m_ip6_fragment, f[lay->l3 + 6] = 44)
MUT(m_ip6_ext_overrun, f[lay->l3 + 41] = 200)
MUT(m_ip6_hbh_not_first, f[lay->l3 + 40] = 0)
MUT(m_ip6_unknown_l4, f[lay->l3 + 6] = 50)
MUT(m_tcp_doff_small, f[lay->l4 + 12] = 0x40)
MUT(m_tcp_doff_past_end, f[lay->l4 + 12] = 0xf0; *len = lay->l4 + 40;
    fb_put16(f + lay->l3 + 2, (uint16_t)(40 + 20)); h->hdr_len = 0)
MUT(m_tcp_truncated, *len = lay->l4 + 10; fb_put16(f + lay->l3 + 2, 30);
    h->hdr_len = 0; h->flags = 0)
MUT(m_udp_truncated, *len = lay->l4 + 7; fb_put16(f + lay->l3 + 2, 27);
    h->hdr_len = 0; h->flags = 0)
MUT(m_not_ip, fb_put16(f + 12, 0x0806))
MUT(m_three_tags, fb_put16(f + 12, 0x8100); fb_put16(f + 16, 0x8100);
    fb_put16(f + 20, 0x8100))
MUT(m_vlan_truncated, fb_put16(f + 12, 0x8100); *len = 16; h->hdr_len = 0;
    h->flags = 0)
MUT(m_too_many_segs, h->gso_size = 1)
MUT(m_ufo_tiny_frag, h->gso_size = 7)
/* A 328-byte hop-by-hop header, then a sane TCP header. */
MUT(m_ip6_huge_ext, f[lay->l3 + 40] = IPPROTO_TCP; f[lay->l3 + 41] = 40;
    f[lay->l3 + 40 + 328 + 12] = 0x50; h->flags = 0)
MUT(m_rx_runt, *len = 5)

/* Base frames for the failure cases (macros: clang wants constants). */
#define TSO4 { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 3000, \
	.gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 }
#define TSO6 { .ipv = 6, .proto = IPPROTO_TCP, .paylen = 3000, \
	.gso_type = NETBE_GSO_TCPV6, .gso_size = 1448 }
#define TSO6X { .ipv = 6, .proto = IPPROTO_TCP, .paylen = 3000, .ip6_ext = 2, \
	.gso_type = NETBE_GSO_TCPV6, .gso_size = 1448 }
#define USO4 { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 3000, \
	.gso_type = NETBE_GSO_UDP_L4, .gso_size = 1448 }
#define UFO4 { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 3000, \
	.gso_type = NETBE_GSO_UDP, .gso_size = 1448 }
#define CSUM4 { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 100 }

static const struct fb tso4 = TSO4;
static const struct fb tso6 = TSO6;
static const struct fb tso6x = TSO6X;
static const struct fb uso4 = USO4;
static const struct fb ufo4 = UFO4;
static const struct fb csum4 = CSUM4;

static const struct bad_case bad_cases[] = {
	{ "runt", CSUM4, m_runt, NETBE_DROP_TX_RUNT },
	{ "csum field past the end", CSUM4, m_csum_past_end, NETBE_DROP_TX_BAD_HDR },
	{ "unknown header flag", TSO4, m_unknown_flag, NETBE_DROP_TX_BAD_HDR },
	{ "hdr_len past the end", TSO4, m_hdr_len_past_end, NETBE_DROP_TX_BAD_HDR },
	{ "gso_size 0", TSO4, m_gso_size_zero, NETBE_DROP_TX_BAD_HDR },
	{ "TCPV6 on IPv4", TSO4, m_gso_tcpv6_on_v4, NETBE_DROP_TX_BAD_HDR },
	{ "TCPV4 on IPv6", TSO6, m_gso_tcpv4_on_v6, NETBE_DROP_TX_BAD_HDR },
	{ "UFO on TCP", TSO4, m_gso_udp_on_tcp, NETBE_DROP_TX_BAD_HDR },
	{ "USO on TCP", TSO4, m_gso_uso_on_tcp, NETBE_DROP_TX_BAD_HDR },
	{ "TSO on UDP", USO4, m_gso_tcp_on_udp, NETBE_DROP_TX_BAD_HDR },
	{ "unknown gso_type", TSO4, m_gso_unknown, NETBE_DROP_TX_BAD_HDR },
	{ "ECN on UDP", USO4, m_gso_ecn_udp, NETBE_DROP_TX_BAD_HDR },
	{ "GSO csum_start not at L4", TSO4, m_csum_start_not_l4, NETBE_DROP_TX_BAD_HDR },
	{ "GSO csum_offset wrong", TSO4, m_csum_offset_wrong, NETBE_DROP_TX_BAD_HDR },
	{ "IPv4 IHL < 5", TSO4, m_ihl_small, NETBE_DROP_TX_BAD_HDR },
	{ "IPv4 IHL past the end", TSO4, m_ihl_past_end, NETBE_DROP_TX_BAD_HDR },
	{ "IP version", TSO4, m_ip_version, NETBE_DROP_TX_BAD_HDR },
	{ "IPv4 total length > frame", TSO4, m_tot_len_long, NETBE_DROP_TX_BAD_HDR },
	{ "IPv4 total length < frame", TSO4, m_tot_len_short, NETBE_DROP_TX_BAD_HDR },
	{ "IPv4 total length < IHL", TSO4, m_tot_len_below_ihl, NETBE_DROP_TX_BAD_HDR },
	{ "IPv4 fragment (MF)", TSO4, m_ip4_mf, NETBE_DROP_TX_BAD_HDR },
	{ "IPv4 fragment (offset)", UFO4, m_ip4_frag_off, NETBE_DROP_TX_BAD_HDR },
	{ "IPv6 payload length 0", TSO6, m_ip6_plen_zero, NETBE_DROP_TX_BAD_HDR },
	{ "IPv6 payload length > frame", TSO6, m_ip6_plen_long, NETBE_DROP_TX_BAD_HDR },
	{ "IPv6 fragment header", TSO6, m_ip6_fragment, NETBE_DROP_TX_BAD_HDR },
	{ "IPv6 ext header past the end", TSO6X, m_ip6_ext_overrun, NETBE_DROP_TX_BAD_HDR },
	{ "IPv6 hop-by-hop not first", TSO6X, m_ip6_hbh_not_first, NETBE_DROP_TX_BAD_HDR },
	{ "IPv6 ESP", TSO6, m_ip6_unknown_l4, NETBE_DROP_TX_BAD_HDR },
	{ "TCP data offset < 5", TSO4, m_tcp_doff_small, NETBE_DROP_TX_BAD_HDR },
	{ "TCP data offset past the end", TSO4, m_tcp_doff_past_end, NETBE_DROP_TX_BAD_HDR },
	{ "TCP header truncated", TSO4, m_tcp_truncated, NETBE_DROP_TX_BAD_HDR },
	{ "UDP header truncated", USO4, m_udp_truncated, NETBE_DROP_TX_BAD_HDR },
	{ "not IP", TSO4, m_not_ip, NETBE_DROP_TX_BAD_HDR },
	{ "three VLAN tags", TSO4, m_three_tags, NETBE_DROP_TX_BAD_HDR },
	{ "VLAN tag truncated", USO4, m_vlan_truncated, NETBE_DROP_TX_BAD_HDR },
	{ "more than 1024 segments", TSO4, m_too_many_segs, NETBE_DROP_TX_BAD_HDR },
	{ "UFO fragment < 8 bytes", UFO4, m_ufo_tiny_frag, NETBE_DROP_TX_BAD_HDR },
	{ "headers > OL_MAX_HDR", TSO6X, m_ip6_huge_ext, NETBE_DROP_TX_BAD_HDR },
	{ "runt GSO", TSO4, m_rx_runt, NETBE_DROP_TX_RUNT },
};

static void check_bad_case(const struct bad_case *c)
{
	static uint8_t f[BUF_MAX];
	struct netbe_vnet_hdr h;
	struct fb_layout lay;
	struct ol_pkt p;
	size_t len = fb_build(f, &c->o, &h, &lay);
	enum netbe_drop_reason rx_want = c->want == NETBE_DROP_TX_RUNT ?
		NETBE_DROP_RX_RUNT : NETBE_DROP_RX_BAD_HDR;

	/* The unspoiled frame passes. */
	CHECK_EQ(ol_check(&h, f, len, 0, OL_TEST_MAX, &p), OL_OK);
	c->mutate(f, &len, &h, &lay);
	CHECK_EQ(ol_check(&h, f, len, 0, OL_TEST_MAX, &p), c->want);
	CHECK_EQ(ol_check(&h, f, len, OL_RX, OL_TEST_MAX, &p), rx_want);
}

static void test_segment_bound(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 65000,
			.gso_type = NETBE_GSO_TCPV4 };
	static struct run r;

	o.gso_size = 64;                          /* 1016 segments: fine */
	CHECK_EQ(run_frame(&o, 0, &r), OL_OK);
	CHECK_EQ(r.n, 1016);
	free(r.store);
	o.gso_size = 63;                          /* 1032 segments: too many */
	CHECK_EQ(run_frame(&o, 0, &r), NETBE_DROP_TX_BAD_HDR);
}

/* ------------------------------------------------------------------------ */
/* Segment limits: nothing longer than the receiver takes                   */
/* ------------------------------------------------------------------------ */

/* Segment TCP frame @o for a receiver of @seg_max bytes: every segment
 * fits, is a valid packet, and the payloads add up to the original in
 * sequence order. Return: the number of segments. */
static int check_tcp_fits(const struct fb *o, size_t seg_max)
{
	static uint8_t seg[BUF_MAX];
	static struct run r;
	size_t done = 0;
	int i;

	CHECK_EQ(run_frame_max(o, 0, seg_max, &r), OL_OK);
	for (i = 0; i < r.n; i++) {
		size_t len = flatten(&r.segs[i], seg), dl = len - r.lay.payload;

		CHECK(len <= seg_max);
		CHECK(l4_ok(seg, r.lay.l3, r.lay.l4, len, o->ipv, IPPROTO_TCP));
		CHECK_EQ(fb_get32(seg + r.lay.l4 + 4), (uint32_t)(o->seq + done));
		CHECK(memcmp(seg + r.lay.payload, frame_buf + r.lay.payload + done,
			     dl) == 0);
		done += dl;
	}
	CHECK_EQ(done, o->paylen);
	free(r.store);
	return r.n;
}

/* A guest's gso_size larger than the backend's frames (16000 bytes into a
 * 4096-byte AF_XDP UMEM frame): TCP is segmented at a size that fits. */
static void test_tso_lowered_to_fit(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 20000,
			.seq = 0xfffff000, .gso_type = NETBE_GSO_TCPV4,
			.gso_size = 16000 };

	CHECK_EQ(check_tcp_fits(&o, 4096), 5);      /* 4042 bytes a segment */
	CHECK_EQ(check_tcp_fits(&o, 1514), 14);
	o.ipv = 6;
	o.gso_type = NETBE_GSO_TCPV6;
	o.paylen = 65000;
	o.gso_size = 65000;                          /* one segment: too long */
	CHECK_EQ(check_tcp_fits(&o, 9014), 8);
}

/* A limit below the headers, or one that needs more segments than the
 * engine makes, is too big, not a bad header. */
static void test_tso_cannot_fit(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 60000,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 };
	static struct run r;

	CHECK_EQ(run_frame_max(&o, 0, 54, &r), NETBE_DROP_TX_TOO_BIG);
	CHECK_EQ(run_frame_max(&o, OL_RX, 54, &r), NETBE_DROP_RX_TOO_BIG);
	CHECK_EQ(run_frame_max(&o, 0, 54 + 50, &r), NETBE_DROP_TX_TOO_BIG);
}

/* USO datagram boundaries are the sender's: never moved, refused instead. */
static void test_uso_too_big(void)
{
	struct fb o = { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 8000,
			.gso_type = NETBE_GSO_UDP_L4, .gso_size = 2000 };
	static struct run r;

	CHECK_EQ(run_frame_max(&o, 0, 1514, &r), NETBE_DROP_TX_TOO_BIG);
	CHECK_EQ(run_frame_max(&o, 0, 2042, &r), OL_OK);
	CHECK_EQ(r.n, 4);
	free(r.store);
}

/* Check UFO fragments of @o made for a @seg_max receiver: all fit, the
 * IP payload lengths agree with the fragment lengths, and the fragments'
 * data reassembles into the datagram. Return: the number of fragments. */
static int check_ufo_fits(const struct fb *o, size_t seg_max)
{
	static uint8_t seg[BUF_MAX], dgram[BUF_MAX];
	static struct run r;
	size_t ulen = 8 + o->paylen, got = 0;
	size_t fh = o->ipv == 4 ? 0 : 8;     /* fragment header bytes */
	int i;

	CHECK_EQ(run_frame_max(o, 0, seg_max, &r), OL_OK);
	for (i = 0; i < r.n && r.n > 1; i++) {
		size_t len = flatten(&r.segs[i], seg), off, fl;
		const uint8_t *ip = seg + r.lay.l3;

		CHECK(len <= seg_max);
		if (o->ipv == 4) {
			CHECK_EQ(fb_get16(ip + 2), len - r.lay.l3);
			CHECK(ip4_ok(ip));
			off = (size_t)(fb_get16(ip + 6) & 0x1fff) * 8;
		} else {
			CHECK_EQ(fb_get16(ip + 4), len - r.lay.l3 - 40);
			off = fb_get16(seg + r.lay.l4 + 2) & ~7u;
		}
		fl = len - r.lay.l4 - fh;
		CHECK(off + fl <= ulen);
		if (off + fl <= ulen) {
			memcpy(dgram + off, seg + r.lay.l4 + fh, fl);
			got += fl;
		}
	}
	if (r.n > 1) {
		CHECK_EQ(got, ulen);
		CHECK(memcmp(dgram + 8, frame_buf + r.lay.payload, o->paylen) == 0);
	}
	free(r.store);
	return r.n;
}

/* The reported case: a 65551-byte UFO/IPv6 frame, UDP length 65497 and
 * gso_size 65496, made a 65558-byte first fragment. */
static void test_ufo6_never_grows(void)
{
	struct fb o = { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 65489,
			.gso_type = NETBE_GSO_UDP, .gso_size = 65496 };

	CHECK_EQ(check_ufo_fits(&o, OL_TEST_MAX), 2);
	CHECK_EQ(check_ufo_fits(&o, 1514), 46);
	o.ntags = 2;
	o.paylen = 1000;                    /* fits gso_size, not the limit */
	CHECK_EQ(check_ufo_fits(&o, 1000), 2);
	o.ipv = 4;
	o.paylen = 60000;
	CHECK_EQ(check_ufo_fits(&o, 1518), 41);
}

/* ------------------------------------------------------------------------ */
/* Truncation and corruption: no out-of-bounds access, sane results         */
/* ------------------------------------------------------------------------ */

/* Check and segment @len bytes of @src copied into an exact-size buffer;
 * every payload slice must lie inside it. Return: segments (or 0). */
static int probe(const uint8_t *src, size_t len, const struct netbe_vnet_hdr *h,
		 unsigned flags)
{
	static struct ol_seg segs[OL_MAX_SEGS];
	uint8_t *f = malloc(len ? len : 1), *store;
	struct ol_pkt p;
	int n = 0, i;

	memcpy(f, src, len);
	if (ol_check(h, f, len, flags, OL_TEST_MAX, &p) == OL_OK) {
		store = malloc(ol_store_size(&p) + 1);
		n = ol_segment(h, &p, flags, 1, store, ol_store_size(&p), segs,
			       OL_MAX_SEGS);
		CHECK(n >= 1);
		for (i = 0; i < n; i++) {
			CHECK(segs[i].data >= f);
			CHECK(segs[i].data + segs[i].data_len <= f + len);
			CHECK(segs[i].hdr_len <= ol_store_size(&p));
		}
		free(store);
	}
	free(f);
	return n;
}

static const struct fb *const trunc_frames[] = { &tso4, &tso6, &tso6x, &uso4,
						 &ufo4, &csum4 };

static void test_truncated(void)
{
	static uint8_t f[8192];
	struct netbe_vnet_hdr h;
	struct fb_layout lay;
	size_t i, cut, len;

	for (i = 0; i < sizeof(trunc_frames) / sizeof(trunc_frames[0]); i++) {
		struct fb o = *trunc_frames[i];

		len = fb_build(f, &o, &h, &lay);
		for (cut = 0; cut < len; cut++) {
			/* As is: lengths no longer match. */
			probe(f, cut, &h, 0);
			/* With the IP length fixed to the cut: parses deeper. */
			if (cut >= lay.l3 + 6) {
				uint8_t save[2];
				size_t at = lay.l3 + (o.ipv == 4 ? 2 : 4);
				size_t v = cut - lay.l3 - (o.ipv == 4 ? 0 : 40);

				memcpy(save, f + at, 2);
				fb_put16(f + at, (uint16_t)v);
				probe(f, cut, &h, OL_RX);
				probe(f, cut, &h, OL_CSUM_PARTIAL);
				memcpy(f + at, save, 2);
			}
		}
		CHECK(probe(f, len, &h, 0) >= 1);
	}
}

static void test_corrupted(void)
{
	static uint8_t f[8192], g[8192];
	struct netbe_vnet_hdr h;
	struct fb_layout lay;
	size_t i, len;
	unsigned k, j;

	srand(7);
	for (i = 0; i < sizeof(trunc_frames) / sizeof(trunc_frames[0]); i++) {
		len = fb_build(f, trunc_frames[i], &h, &lay);
		for (k = 0; k < 3000; k++) {
			struct netbe_vnet_hdr hh = h;

			memcpy(g, f, len);
			for (j = 0; j < 3; j++)
				g[(size_t)rand() % lay.payload] = (uint8_t)rand();
			if (k & 1) {
				hh.gso_size = (uint16_t)rand();
				hh.csum_start = (uint16_t)(rand() % (int)lay.payload);
			}
			probe(g, len, &hh, k & 2 ? OL_CSUM_PARTIAL : 0);
		}
	}
}

int main(void)
{
	size_t i;

	RUN(test_csum_rfc1071);
	RUN(test_csum_vs_reference);
	RUN(test_tso4);
	RUN(test_tso4_vlan_options);
	RUN(test_tso6);
	RUN(test_uso);
	RUN(test_udp_zero_csum);
	RUN(test_ufo4);
	RUN(test_ufo6);
	RUN(test_ufo6_hbh);
	RUN(test_needs_csum);
	RUN(test_needs_csum_padding);
	RUN(test_needs_csum_ignores_hdr_len);
	RUN(test_nothing_to_do);
	RUN(test_no_room);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		RUN_CASE(bad_cases[i].name, check_bad_case, &bad_cases[i]);
	RUN(test_segment_bound);
	RUN(test_tso_lowered_to_fit);
	RUN(test_tso_cannot_fit);
	RUN(test_uso_too_big);
	RUN(test_ufo6_never_grows);
	RUN(test_truncated);
	RUN(test_corrupted);
	return harness_done();
}
