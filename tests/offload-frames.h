/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * offload-frames.h - build test frames for the offload engine, and a
 * deliberately simple reference checksum to judge its output.
 *
 * Used by the unit test, the kernel-oracle test, the bench and the fuzz
 * corpus generator. fb_build() writes an Ethernet frame (0-2 VLAN tags,
 * IPv4 or IPv6 with optional extension headers, TCP or UDP, a payload
 * pattern) and the virtio-net header a Linux guest would send with it:
 * NEEDS_CSUM with the pseudo-header sum (full L4 length) in the checksum
 * field. The reference checksum adds big-endian 16-bit words one byte
 * pair at a time, nothing clever, so it shares no code with the engine.
 */
#ifndef NETBE_TEST_OFFLOAD_FRAMES_H
#define NETBE_TEST_OFFLOAD_FRAMES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "netbe.h"

/* The segment limit the tests give ol_check(): core's NETBE_FRAME_MAX, a
 * 64 KiB IP packet with an Ethernet and a VLAN header. */
#define OL_TEST_MAX (65535 + 14 + 4)

struct fb {
	int ipv;            /* 4 or 6 */
	int proto;          /* IPPROTO_TCP or IPPROTO_UDP */
	unsigned ntags;     /* VLAN tags: 0, 1 or 2 */
	unsigned ip6_ext;   /* IPv6: hop-by-hop, then destination options */
	unsigned tcp_opt;   /* bytes of TCP options (NOPs), multiple of 4 */
	size_t paylen;
	uint8_t tcp_flags;  /* 0 means ACK */
	uint16_t ip_id;
	uint32_t seq;
	uint8_t gso_type;
	uint16_t gso_size;
	bool no_csum;       /* do not set NEEDS_CSUM */
	uint8_t seed;       /* payload pattern */
};

/* Layout of a frame built by fb_build(). */
struct fb_layout {
	size_t l3, l4, payload, len;
};

#define FB_TCP_FIN 0x01
#define FB_TCP_PSH 0x08
#define FB_TCP_ACK 0x10
#define FB_TCP_CWR 0x80

static inline uint16_t fb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t fb_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void fb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fb_put32(uint8_t *p, uint32_t v)
{
	fb_put16(p, (uint16_t)(v >> 16));
	fb_put16(p + 2, (uint16_t)v);
}

/* Reference: add @n bytes as big-endian words, a trailing odd byte as the
 * high byte of a word. Return: the unfolded sum. */
static inline uint32_t ref_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

/* Return: @s folded to 16 bits (not complemented). */
static inline uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Return: the unfolded pseudo-header sum for the IP header at @ip. */
static inline uint32_t ref_pseudo(const uint8_t *ip, int ipv, int proto,
				  uint32_t l4len)
{
	uint32_t s = 0;

	if (ipv == 4) {
		s = ref_add(s, ip + 12, 8);
		return s + (uint32_t)proto + l4len;
	}
	s = ref_add(s, ip + 8, 32);
	return s + (l4len >> 16) + (l4len & 0xffff) + (uint32_t)proto;
}

/* Return: the IP header length (with IPv6 extension headers) fb_build()
 * writes for @o. */
static inline size_t fb_l3_len(const struct fb *o)
{
	return o->ipv == 4 ? 20 : 40 + 8 * (size_t)o->ip6_ext;
}

/**
 * fb_build() - write the frame described by @o into @buf (fb_size(@o)
 * bytes) and its virtio-net header into @h; @h and @lay may be NULL
 * Return: the frame length, with @lay filled when non-NULL.
 */
static inline size_t fb_build(uint8_t *buf, const struct fb *o,
			      struct netbe_vnet_hdr *h, struct fb_layout *lay)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 2 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 1 };
	size_t l3 = 14 + 4 * (size_t)o->ntags, l4 = l3 + fb_l3_len(o);
	size_t thl = o->proto == IPPROTO_TCP ? 20 + o->tcp_opt : 8;
	size_t pl = l4 + thl, len = pl + o->paylen, l4len = len - l4, i;
	size_t csum_off = o->proto == IPPROTO_TCP ? 16 : 6;
	uint8_t *ip = buf + l3, *th = buf + l4;
	unsigned t;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	for (t = 0; t < o->ntags; t++) {
		fb_put16(buf + 12 + 4 * t, t == 0 && o->ntags == 2 ? 0x88a8 : 0x8100);
		fb_put16(buf + 14 + 4 * t, (uint16_t)(100 + t));
	}
	fb_put16(buf + l3 - 2, o->ipv == 4 ? 0x0800 : 0x86dd);
	if (o->ipv == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		fb_put16(ip + 2, (uint16_t)(len - l3));
		fb_put16(ip + 4, o->ip_id);
		fb_put16(ip + 6, 0x4000);          /* DF */
		ip[8] = 64;
		ip[9] = (uint8_t)o->proto;
		fb_put32(ip + 12, 0x0a000001);
		fb_put32(ip + 16, 0x0a000002);
		fb_put16(ip + 10, (uint16_t)~ref_fold(ref_add(0, ip, 20)));
	} else {
		uint8_t *x = ip + 40;

		memset(ip, 0, 40);
		ip[0] = 0x60;
		fb_put16(ip + 4, (uint16_t)(len - l3 - 40));
		ip[6] = o->ip6_ext ? 0 : (uint8_t)o->proto;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
		for (t = 0; t < o->ip6_ext; t++, x += 8) {
			x[0] = t + 1 < o->ip6_ext ? 60 : (uint8_t)o->proto;
			x[1] = 0;
			x[2] = 1;                       /* PadN, 4 bytes */
			x[3] = 4;
			memset(x + 4, 0, 4);
		}
	}
	memset(th, 0, thl);
	fb_put16(th, 40000);
	fb_put16(th + 2, 5001);
	if (o->proto == IPPROTO_TCP) {
		fb_put32(th + 4, o->seq);
		fb_put32(th + 8, 0x01020304);
		th[12] = (uint8_t)((thl / 4) << 4);
		th[13] = o->tcp_flags ? o->tcp_flags : FB_TCP_ACK;
		fb_put16(th + 14, 65535);
		memset(th + 20, 1, o->tcp_opt);
	} else {
		fb_put16(th + 4, (uint16_t)l4len);
	}
	for (i = 0; i < o->paylen; i++)
		buf[pl + i] = (uint8_t)(i * 131 + o->seed);
	fb_put16(th + csum_off, ref_fold(ref_pseudo(ip, o->ipv, o->proto,
						    (uint32_t)l4len)));
	if (h) {
		memset(h, 0, sizeof(*h));
		h->flags = o->no_csum ? 0 : NETBE_HDR_F_NEEDS_CSUM;
		h->csum_start = o->no_csum ? 0 : (uint16_t)l4;
		h->csum_offset = o->no_csum ? 0 : (uint16_t)csum_off;
		h->gso_type = o->gso_type;
		h->gso_size = o->gso_size;
		h->hdr_len = o->gso_type ? (uint16_t)pl : 0;
	}
	if (lay)
		*lay = (struct fb_layout){ .l3 = l3, .l4 = l4, .payload = pl,
					   .len = len };
	return len;
}

/* Return: the bytes fb_build() needs for @o. */
static inline size_t fb_size(const struct fb *o)
{
	return 14 + 4 * (size_t)o->ntags + fb_l3_len(o) +
	       (o->proto == IPPROTO_TCP ? 20 + o->tcp_opt : 8) + o->paylen;
}

/* Encode @h as the 10-byte little-endian virtio-net header into @b. */
static inline void fb_encode_vnet(uint8_t *b, const struct netbe_vnet_hdr *h)
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	b[2] = (uint8_t)h->hdr_len;
	b[3] = (uint8_t)(h->hdr_len >> 8);
	b[4] = (uint8_t)h->gso_size;
	b[5] = (uint8_t)(h->gso_size >> 8);
	b[6] = (uint8_t)h->csum_start;
	b[7] = (uint8_t)(h->csum_start >> 8);
	b[8] = (uint8_t)h->csum_offset;
	b[9] = (uint8_t)(h->csum_offset >> 8);
}

#endif /* NETBE_TEST_OFFLOAD_FRAMES_H */
