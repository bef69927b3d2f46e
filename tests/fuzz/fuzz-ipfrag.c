/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-ipfrag.c - libFuzzer target for the IP fragment reassembler
 * (src/core/ipfrag.c).
 *
 * The input is a sequence of records, each starting with a control byte
 * whose low two bits say what follows:
 *   0: a raw frame: 2-byte big-endian length, then that many bytes (cut
 *      short at the end of the input);
 *   1, 2: an IPv4 or IPv6 fragment built here from 5 bytes: datagram id,
 *      offset / 8 (2 bytes), length (2 bytes); control bit 2 sets MF, bit 3
 *      adds a VLAN tag, bit 4 IPv4 options or an IPv6 hop-by-hop header.
 *      The data is a pattern, so two records reach a 65535-byte datagram;
 *   3: the clock moves on by a 2-byte number of milliseconds.
 * Each frame goes to one table. Invariants: every fragment taken is in
 * exactly one output datagram or drop count, or still held; an output is
 * at most IPF_FRAME_MAX bytes and its header is consistent (IPv4: total
 * length, no fragment bits, valid checksum; IPv6: payload length); an
 * hour later nothing is held. Any failure aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfrag.h"
#include "offload-frames.h"

#define SYNTH_LEN 5
#define NS_PER_MS 1000000ULL
#define HOUR_NS (3600ULL * 1000000000ULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The state of one run. */
struct run {
	struct ipf t;
	uint64_t now;
	unsigned fed, emitted, dropped;
	uint8_t frame[IPF_FRAME_MAX + 64];
};

static struct run *r;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-ipfrag: %s\n", what);
	abort();
}

/** csum() - Return: the folded, complemented sum of @len bytes, by the
 * reference of offload-frames.h (no code shared with the library). */
static uint16_t csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_fold(ref_add(0, p, len));
}

/** synth() - build the fragment record @c with fields @p into r->frame.
 * Return: the frame length. */
static size_t synth(uint8_t c, const uint8_t *p)
{
	bool v6 = (c & 3) == 2, more = c & 4, vlan = c & 8, ext = c & 16;
	size_t off = (size_t)fb_get16(p + 1) * 8, len = fb_get16(p + 3), o = 12, h, i;
	uint8_t *f = r->frame, *ip;

	memset(f, 0x22, 12);
	if (vlan) {
		fb_put16(f + 12, 0x8100);
		fb_put16(f + 14, 7);
		o = 16;
	}
	fb_put16(f + o, v6 ? 0x86dd : 0x0800);
	ip = f + o + 2;
	h = v6 ? 40 + (ext ? 8 : 0) + 8 : 20 + (ext ? 4 : 0);
	if (h + len > 65535)
		len = 65535 - h;
	memset(ip, 0, h);
	if (v6) {
		uint8_t *fh = ip + h - 8;

		ip[0] = 0x60;
		fb_put16(ip + 4, (uint16_t)(h - 40 + len));
		ip[6] = ext ? 0 : 44;
		if (ext)
			ip[40] = 44;
		fh[0] = 17;
		fb_put16(fh + 2, (uint16_t)((off & 0xfff8) | more));
		fh[7] = p[0];
	} else {
		ip[0] = (uint8_t)(0x40 | h / 4);
		fb_put16(ip + 2, (uint16_t)(h + len));
		ip[5] = p[0];
		fb_put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8 & 0x1fff)));
		ip[9] = 17;
		fb_put16(ip + 10, csum(ip, h));
	}
	for (i = 0; i < len; i++)
		ip[h + i] = (uint8_t)(off + i + p[0]);
	return o + 2 + h + len;
}

/** check_output() - the invariants of an emitted datagram. */
static void check_output(const struct ipf_out *out)
{
	const uint8_t *f = out->frame, *ip;
	size_t l2 = 14;
	uint16_t type;

	if (out->len > IPF_FRAME_MAX || out->len < 14 || !out->nfrags)
		fail("output length or fragment count out of range");
	type = fb_get16(f + 12);
	if (type == 0x8100 || type == 0x88a8) {
		type = fb_get16(f + 16);
		l2 = 18;
	}
	ip = f + l2;
	if (type == 0x0800) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;

		if (out->len < l2 + 20 || ip[0] >> 4 != 4 || ihl < 20 ||
		    fb_get16(ip + 2) != out->len - l2 || (fb_get16(ip + 6) & 0x3fff) ||
		    csum(ip, ihl))
			fail("output IPv4 header inconsistent");
	} else if (type == 0x86dd) {
		if (out->len < l2 + 40 || ip[0] >> 4 != 6 ||
		    (size_t)fb_get16(ip + 4) + 40 != out->len - l2)
			fail("output IPv6 header inconsistent");
	} else {
		fail("output is not IP");
	}
}

/** feed() - one frame of @len bytes at r->now, with its accounting. */
static void feed(size_t len)
{
	struct ipf_out out;
	enum ipf_result res = ipf_input(&r->t, r->frame, len, r->now, &out);

	if (res == IPF_HELD || res == IPF_DONE || res == IPF_DROPPED)
		r->fed++;
	if (res == IPF_DROPPED && !out.dropped)
		fail("a dropped fragment was not counted");
	if (res == IPF_DONE) {
		check_output(&out);
		r->emitted += out.nfrags;
	}
	r->dropped += out.dropped;
	if (r->fed != r->emitted + r->dropped + ipf_held(&r->t))
		fail("a fragment is unaccounted for");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (!r && !(r = calloc(1, sizeof(*r))))
		fail("out of memory");
	r->now = 1000 * NS_PER_MS;
	r->fed = r->emitted = r->dropped = 0;
	while (off < size) {
		uint8_t c = data[off++];
		size_t n;

		if ((c & 3) == 0 && size - off >= 2) {
			n = fb_get16(data + off);
			off += 2;
			n = n < size - off ? n : size - off;
			memcpy(r->frame, data + off, n);
			off += n;
			feed(n);
		} else if ((c & 3) == 3 && size - off >= 2) {
			r->now += fb_get16(data + off) * NS_PER_MS;
			off += 2;
		} else if ((c & 3) && size - off >= SYNTH_LEN) {
			feed(synth(c, data + off));
			off += SYNTH_LEN;
		} else {
			break;
		}
	}
	r->dropped += ipf_expire(&r->t, r->now + HOUR_NS);
	if (ipf_held(&r->t) || r->fed != r->emitted + r->dropped)
		fail("fragments left in flight, or unaccounted for");
	ipf_release(&r->t);
	return 0;
}
