/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * offload.c - software checksum, TSO, USO and UFO for frames whose
 * virtio-net header asks for more than the other side can do.
 *
 * Theory of operation
 *
 * ol_check() walks the frame once: Ethernet, up to two 802.1Q/802.1ad
 * tags, IPv4 or IPv6 (hop-by-hop, routing and destination-options
 * extension headers, at most OL_MAX_IP6_EXT of them), then TCP or UDP.
 * Every offset it records is proven to lie inside the frame, and every
 * field of the virtio-net header is compared with what was found, so
 * ol_segment() can index the frame without further checks. hdr_len is
 * only a hint and is never used for anything but a bounds check.
 *
 * ol_segment() never copies payload. For each output segment it copies
 * the headers (everything before the payload slice) into the caller's
 * store, fixes lengths, ids, sequence numbers, flags and checksums there,
 * and points at the slice of the original frame that follows. A TCP or
 * USO segment is "headers + gso_size bytes of L4 payload"; a UFO fragment
 * is "unfragmentable headers (+ IPv6 fragment header) + gso_size bytes
 * (rounded down to 8) of the UDP datagram", the first one carrying the
 * completed UDP header in its header block.
 *
 * No segment is longer than the limit ol_check() was given (the backend's
 * largest frame): gso_size comes from the guest, so a TCP segment size or
 * a UFO fragment size that would outgrow the limit is lowered to fit
 * (both are legal: TCP may always send smaller segments, IP may fragment
 * anywhere on 8 bytes), and a USO frame, whose datagram boundaries are
 * the sender's, is refused as too big. The IPv6 fragment header counts:
 * fragments never grow past the limit by those 8 bytes.
 *
 * Checksums are sums of 16-bit words in memory order (endian-neutral):
 * ol_csum_partial() adds 8-byte words into four 64-bit accumulators and
 * counts the carries out of them; since 2^64 = 1 in ones' complement
 * arithmetic, the carries are simply added back at the end.
 * Pseudo headers are built as bytes and summed the same way, and results
 * are stored with memcpy, so no value ever goes through htons().
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "bytes.h"
#include "offload.h"

#define ETH_HLEN 14
#define ETH_ZLEN 60
#define VLAN_HLEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define IP6_HLEN 40
#define IP6_FRAG_HLEN 8
#define UDP_HLEN 8
#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
#define IP4_MF 0x2000
#define IP4_FRAG_MASK 0x3fff     /* MF and the fragment offset */
#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_DSTOPTS 60

/* ------------------------------------------------------------------------ */
/* Checksums                                                                */
/* ------------------------------------------------------------------------ */

/* @a += @b with the carry out counted in *@carry. Return: the new @a. */
static inline uint64_t add_c(uint64_t a, uint64_t b, uint64_t *carry)
{
	uint64_t r;

	*carry += __builtin_add_overflow(a, b, &r);
	return r;
}

uint32_t ol_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t a = sum, b = 0, c = 0, d = 0, carry = 0, w[4];
	uint32_t w32;
	uint16_t w16 = 0;

	while (len >= 32) {
		memcpy(w, p, 32);
		a = add_c(a, w[0], &carry);
		b = add_c(b, w[1], &carry);
		c = add_c(c, w[2], &carry);
		d = add_c(d, w[3], &carry);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(w, p, 8);
		a = add_c(a, w[0], &carry);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		a = add_c(a, w32, &carry);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		a = add_c(a, w16, &carry);
		p += 2;
		len -= 2;
	}
	if (len) {
		w16 = 0;
		memcpy(&w16, p, 1);   /* the odd byte is the word's first byte */
		a = add_c(a, w16, &carry);
	}
	a = add_c(a, b, &carry);
	c = add_c(c, d, &carry);
	a = add_c(a, c, &carry);
	/* 2^64 = 1 in ones' complement: carries wrap around. After a wrap
	 * a < carry, so adding the last carry cannot overflow again. */
	d = 0;
	a = add_c(a, carry, &d);
	a += d;
	a = (a & 0xffffffffu) + (a >> 32);
	a = (a & 0xffffffffu) + (a >> 32);
	return (uint32_t)a;
}

uint16_t ol_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Store the complement of @sum at @p; a zero result becomes 0xffff when
 * @mangle_zero (UDP, where 0 means "no checksum"). */
static void store_csum(uint8_t *p, uint32_t sum, bool mangle_zero)
{
	uint16_t c = (uint16_t)~ol_csum_fold(sum);

	if (c == 0 && mangle_zero)
		c = 0xffff;
	memcpy(p, &c, 2);
}

/* Store the folded, uncomplemented @sum: a partial checksum seed. */
static void store_seed(uint8_t *p, uint32_t sum)
{
	uint16_t c = ol_csum_fold(sum);

	memcpy(p, &c, 2);
}

/* The pseudo-header sum of the packet whose IP header is at @ip.
 * Return: the partial sum for an L4 length of @l4len. */
static uint32_t pseudo_sum(const uint8_t *ip, uint8_t ipv, uint8_t proto,
			   uint32_t l4len)
{
	uint8_t ph[40] = { 0 };

	if (ipv == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = proto;
		nb_put_be16(ph + 10, (uint16_t)l4len);
		return ol_csum_partial(ph, 12, 0);
	}
	memcpy(ph, ip + 8, 32);
	nb_put_be32(ph + 32, l4len);
	ph[39] = proto;
	return ol_csum_partial(ph, 40, 0);
}

void ol_ip4_fix_csum(uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;

	ip[10] = ip[11] = 0;
	store_csum(ip + 10, ol_csum_partial(ip, ihl, 0), false);
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

/* Walk the Ethernet header and up to two VLAN tags.
 * Return: the L3 offset with *@etype and *@ntags set, or 0 if truncated
 * or tagged more than twice. */
static size_t parse_l2(const uint8_t *f, size_t len, uint16_t *etype,
		       unsigned *ntags)
{
	size_t off = ETH_HLEN;

	if (len < ETH_HLEN)
		return 0;
	*etype = nb_get_be16(f + 12);
	*ntags = 0;
	while (*etype == ETHERTYPE_8021Q || *etype == ETHERTYPE_8021AD) {
		if (*ntags == 2 || off + VLAN_HLEN > len)
			return 0;
		*etype = nb_get_be16(f + off + 2);
		off += VLAN_HLEN;
		(*ntags)++;
	}
	return off;
}

/* Whether an IP packet ending at @end may sit in a frame of @len bytes:
 * exactly, or followed by Ethernet padding in a minimum-size frame.
 * Return: true when consistent. */
static bool end_fits(size_t end, size_t len, unsigned ntags)
{
	return end == len || (end < len && len <= ETH_ZLEN + VLAN_HLEN * ntags);
}

/* Parse an IPv4 header at p->l3 (sets end, l4, proto).
 * Return: true when sane and not a fragment. */
static bool parse_ip4(const uint8_t *f, size_t len, unsigned ntags,
		      struct ol_pkt *p)
{
	const uint8_t *ip = f + p->l3;
	size_t ihl, tot;

	if (p->l3 + 20 > len || ip[0] >> 4 != 4)
		return false;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = nb_get_be16(ip + 2);
	if (ihl < 20 || tot < ihl || !end_fits(p->l3 + tot, len, ntags))
		return false;
	if (nb_get_be16(ip + 6) & IP4_FRAG_MASK)
		return false;
	p->end = p->l3 + tot;
	p->l4 = p->l3 + ihl;
	p->proto = ip[9];
	p->ipv = 4;
	return true;
}

/* Parse an IPv6 header and its extension headers at p->l3 (sets end,
 * l4, proto, unfrag, unfrag_nh).
 * Return: true when sane, bounded and not a fragment. */
static bool parse_ip6(const uint8_t *f, size_t len, unsigned ntags,
		      struct ol_pkt *p)
{
	const uint8_t *ip = f + p->l3;
	size_t plen, off, hl;
	uint8_t nh;
	unsigned i;

	if (p->l3 + IP6_HLEN > len || ip[0] >> 4 != 6)
		return false;
	plen = nb_get_be16(ip + 4);
	if (plen == 0 || !end_fits(p->l3 + IP6_HLEN + plen, len, ntags))
		return false;
	p->end = p->l3 + IP6_HLEN + plen;
	nh = ip[6];
	off = p->l3 + IP6_HLEN;
	p->unfrag = off;
	p->unfrag_nh = p->l3 + 6;
	for (i = 0; i < OL_MAX_IP6_EXT; i++) {
		if (nh != IP6_NH_ROUTING && nh != IP6_NH_DSTOPTS &&
		    !(nh == IP6_NH_HOPOPTS && i == 0))
			break;
		if (off + 8 > p->end)
			return false;
		hl = ((size_t)f[off + 1] + 1) * 8;
		if (off + hl > p->end)
			return false;
		if (nh != IP6_NH_DSTOPTS) {
			p->unfrag = off + hl;
			p->unfrag_nh = off;
		}
		nh = f[off];
		off += hl;
	}
	if (nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING ||
	    nh == IP6_NH_DSTOPTS || nh == IP6_NH_FRAGMENT)
		return false;
	p->l4 = off;
	p->proto = nh;
	p->ipv = 6;
	return true;
}

/* Parse the TCP or UDP header at p->l4 (sets payload).
 * Return: true when it lies inside the IP packet. */
static bool parse_l4(const uint8_t *f, struct ol_pkt *p)
{
	size_t doff;

	if (p->proto == IPPROTO_UDP) {
		p->payload = p->l4 + UDP_HLEN;
		return p->payload <= p->end;
	}
	if (p->proto != IPPROTO_TCP || p->l4 + 20 > p->end)
		return false;
	doff = (size_t)(f[p->l4 + 12] >> 4) * 4;
	p->payload = p->l4 + doff;
	return doff >= 20 && p->payload <= p->end;
}

/* Parse the whole frame into @p.
 * Return: true when it is Ethernet/VLAN/IP/TCP-or-UDP and consistent. */
static bool parse_frame(const uint8_t *f, size_t len, struct ol_pkt *p)
{
	uint16_t etype;
	unsigned ntags;
	bool ok;

	p->l3 = parse_l2(f, len, &etype, &ntags);
	if (!p->l3)
		return false;
	if (etype == ETHERTYPE_IPV4)
		ok = parse_ip4(f, len, ntags, p);
	else if (etype == ETHERTYPE_IPV6)
		ok = parse_ip6(f, len, ntags, p);
	else
		return false;
	p->parsed = ok && parse_l4(f, p);
	return p->parsed;
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

bool ol_needs_work(const struct netbe_vnet_hdr *h)
{
	return (h->flags & NETBE_HDR_F_NEEDS_CSUM) || h->gso_type != NETBE_GSO_NONE;
}

/* Whether gso type @gso fits the parsed L3/L4.
 * Return: true when it does. */
static bool gso_matches(uint8_t gso, const struct ol_pkt *p)
{
	switch (gso) {
	case NETBE_GSO_TCPV4:
		return p->ipv == 4 && p->proto == IPPROTO_TCP;
	case NETBE_GSO_TCPV6:
		return p->ipv == 6 && p->proto == IPPROTO_TCP;
	case NETBE_GSO_UDP:
	case NETBE_GSO_UDP_L4:
		return p->proto == IPPROTO_UDP;
	default:
		return false;
	}
}

/* The UFO fragment size for @p: gso_size, or less so that no fragment
 * outgrows @seg_max; sets p->nsegs and p->seg_size.
 * Return: OL_OK, @bad for a header that makes no sense, @big when the
 * datagram cannot be cut into fragments that fit @seg_max. */
static enum netbe_drop_reason size_ufo(const struct netbe_vnet_hdr *h,
				       struct ol_pkt *p, size_t seg_max,
				       enum netbe_drop_reason bad,
				       enum netbe_drop_reason big)
{
	size_t start = p->ipv == 4 ? p->l4 : p->unfrag;
	size_t blk = p->ipv == 4 ? p->l4 : p->unfrag + IP6_FRAG_HLEN;
	size_t fs = h->gso_size, total = p->end - start;
	bool clamped = false;

	if (p->end - p->l4 <= h->gso_size && p->end <= seg_max) {
		p->nsegs = 1;
		return p->l4 + UDP_HLEN <= OL_MAX_HDR ? OL_OK : bad;
	}
	if (p->l4 + UDP_HLEN + IP6_FRAG_HLEN > OL_MAX_HDR)
		return bad;
	if (seg_max < blk + fs) {
		if (seg_max <= blk)
			return big;
		fs = seg_max - blk;
		clamped = true;
	}
	fs &= ~(size_t)7;
	if (fs < (p->l4 - start) + UDP_HLEN ||
	    (total + fs - 1) / fs > OL_MAX_SEGS)
		return clamped ? big : bad;
	p->seg_size = fs;
	p->nsegs = (unsigned)((total + fs - 1) / fs);
	return OL_OK;
}

/* The TSO/USO payload per segment for @p: gso_size, or for TCP less so
 * that no segment outgrows @seg_max (USO datagram boundaries belong to
 * the sender and are never moved); sets p->nsegs and p->seg_size.
 * Return: OL_OK, @bad or @big as size_ufo(). */
static enum netbe_drop_reason size_l4(const struct netbe_vnet_hdr *h,
				      struct ol_pkt *p, size_t seg_max,
				      enum netbe_drop_reason bad,
				      enum netbe_drop_reason big)
{
	size_t paylen = p->end - p->payload, mss = h->gso_size, n;
	bool clamped = false;

	if (p->payload > OL_MAX_HDR)
		return bad;
	if (p->payload + (paylen < mss ? paylen : mss) > seg_max) {
		if (p->proto != IPPROTO_TCP || seg_max <= p->payload)
			return big;
		mss = seg_max - p->payload;
		clamped = true;
	}
	n = paylen ? (paylen + mss - 1) / mss : 1;
	if (n > OL_MAX_SEGS)
		return clamped ? big : bad;
	p->seg_size = mss;
	p->nsegs = (unsigned)n;
	return OL_OK;
}

/* Check the GSO fields of @h against the parsed frame, size segments.
 * Return: OL_OK, @bad or @big as size_ufo(). */
static enum netbe_drop_reason check_gso(const struct netbe_vnet_hdr *h,
					struct ol_pkt *p, size_t seg_max,
					enum netbe_drop_reason bad,
					enum netbe_drop_reason big)
{
	p->gso = h->gso_type & (uint8_t)~NETBE_GSO_ECN;
	if ((h->gso_type & NETBE_GSO_ECN) && p->gso != NETBE_GSO_TCPV4 &&
	    p->gso != NETBE_GSO_TCPV6)
		return bad;
	if (!gso_matches(p->gso, p) || h->gso_size == 0)
		return bad;
	if (h->flags & NETBE_HDR_F_NEEDS_CSUM) {
		uint16_t off = p->proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;

		if (h->csum_start != p->l4 || h->csum_offset != off)
			return bad;
	}
	if (p->gso == NETBE_GSO_UDP)
		return size_ufo(h, p, seg_max, bad, big);
	return size_l4(h, p, seg_max, bad, big);
}

enum netbe_drop_reason ol_check(const struct netbe_vnet_hdr *h,
				const uint8_t *frame, size_t len,
				unsigned flags, size_t seg_max, struct ol_pkt *p)
{
	enum netbe_drop_reason bad = flags & OL_RX ? NETBE_DROP_RX_BAD_HDR
						   : NETBE_DROP_TX_BAD_HDR;
	enum netbe_drop_reason big = flags & OL_RX ? NETBE_DROP_RX_TOO_BIG
						   : NETBE_DROP_TX_TOO_BIG;
	size_t field_end = (size_t)h->csum_start + h->csum_offset + 2;

	memset(p, 0, sizeof(*p));
	p->frame = frame;
	p->len = len;
	p->end = len;
	p->nsegs = 1;
	if (!ol_needs_work(h))
		return OL_OK;
	if (len < ETH_HLEN)
		return flags & OL_RX ? NETBE_DROP_RX_RUNT : NETBE_DROP_TX_RUNT;
	if (h->flags & ~(NETBE_HDR_F_NEEDS_CSUM | NETBE_HDR_F_DATA_VALID))
		return bad;
	if ((h->flags & NETBE_HDR_F_NEEDS_CSUM) &&
	    (field_end > len || field_end > OL_STORE_MAX))
		return bad;
	if (h->gso_type == NETBE_GSO_NONE) {
		p->csum_end = len;
		if (parse_frame(frame, len, p) && h->csum_start >= p->l4 &&
		    field_end <= p->end)
			p->csum_end = p->end;
		p->parsed = false;
		p->end = len;
		return OL_OK;
	}
	if (h->hdr_len > len || !parse_frame(frame, len, p))
		return bad;
	return check_gso(h, p, seg_max, bad, big);
}

size_t ol_store_size(const struct ol_pkt *p)
{
	if (!p->parsed)
		return p->csum_end ? p->csum_end : 0;
	if (p->gso != NETBE_GSO_UDP)
		return p->nsegs * p->payload;
	return p->nsegs * (p->l4 + UDP_HLEN + IP6_FRAG_HLEN);
}

/* ------------------------------------------------------------------------ */
/* Checksum completion                                                      */
/* ------------------------------------------------------------------------ */

/* The sum from csum_start to the end of the packet in @frame, the seed
 * the frontend left in the checksum field included.
 * Return: the partial sum. */
static uint32_t needs_csum_sum(const struct netbe_vnet_hdr *h,
			       const struct ol_pkt *p, const uint8_t *frame)
{
	return ol_csum_partial(frame + h->csum_start,
			       p->csum_end - h->csum_start, 0);
}

int ol_csum_complete(const struct netbe_vnet_hdr *h, const struct ol_pkt *p,
		     uint8_t *frame)
{
	if (!(h->flags & NETBE_HDR_F_NEEDS_CSUM) || !p->csum_end)
		return -EINVAL;
	store_csum(frame + h->csum_start + h->csum_offset,
		   needs_csum_sum(h, p, frame), true);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Segmentation                                                             */
/* ------------------------------------------------------------------------ */

/* Finish the L4 checksum of a segment whose headers are in @b (a copy of
 * the frame's first bytes) and whose payload is @data/@dl. */
static void seg_l4_csum(uint8_t *b, const struct ol_pkt *p, unsigned flags,
			const uint8_t *data, size_t dl, struct ol_seg *s)
{
	size_t off = p->proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	size_t l4len = s->hdr_len - p->l4 + dl;
	uint32_t sum = pseudo_sum(b + p->l3, p->ipv, p->proto, (uint32_t)l4len);

	b[p->l4 + off] = b[p->l4 + off + 1] = 0;
	if (flags & OL_CSUM_PARTIAL) {
		store_seed(b + p->l4 + off, sum);
		s->flags = NETBE_HDR_F_NEEDS_CSUM;
		s->csum_start = (uint16_t)p->l4;
		s->csum_offset = (uint16_t)off;
		return;
	}
	sum = ol_csum_partial(b + p->l4, s->hdr_len - p->l4, sum);
	sum = ol_csum_partial(data, dl, sum);
	store_csum(b + p->l4 + off, sum, p->proto == IPPROTO_UDP);
}

/* Set the IP length fields of the header copy @b for an IP packet of
 * @iplen bytes. */
static void set_ip_len(uint8_t *b, const struct ol_pkt *p, size_t iplen)
{
	if (p->ipv == 4)
		nb_put_be16(b + p->l3 + 2, (uint16_t)iplen);
	else
		nb_put_be16(b + p->l3 + 4, (uint16_t)(iplen - IP6_HLEN));
}

/* TSO and USO: headers + p->seg_size bytes of L4 payload per segment.
 * Return: the number of segments. */
static int segment_l4(const struct ol_pkt *p, unsigned flags, uint8_t *store,
		      struct ol_seg *segs)
{
	const uint8_t *f = p->frame;
	size_t hl = p->payload, mss = p->seg_size;
	uint16_t id = nb_get_be16(f + p->l3 + 4);
	uint32_t seq = p->proto == IPPROTO_TCP ? nb_get_be32(f + p->l4 + 4) : 0;
	unsigned i, n = p->nsegs;

	for (i = 0; i < n; i++) {
		struct ol_seg *s = &segs[i];
		uint8_t *b = store + i * hl;
		size_t off = p->payload + i * mss;
		size_t dl = p->end - off < mss ? p->end - off : mss;

		memcpy(b, f, hl);
		*s = (struct ol_seg){ .hdr = b, .hdr_len = hl,
				      .data = f + off, .data_len = dl };
		set_ip_len(b, p, hl - p->l3 + dl);
		if (p->ipv == 4) {
			nb_put_be16(b + p->l3 + 4, (uint16_t)(id + i));
			ol_ip4_fix_csum(b + p->l3);
		}
		if (p->proto == IPPROTO_TCP) {
			nb_put_be32(b + p->l4 + 4, seq + (uint32_t)(i * mss));
			if (i + 1 < n)
				b[p->l4 + 13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i > 0)
				b[p->l4 + 13] &= (uint8_t)~TCP_CWR;
		} else {
			nb_put_be16(b + p->l4 + 4, (uint16_t)(UDP_HLEN + dl));
		}
		seg_l4_csum(b, p, flags, f + off, dl, s);
	}
	return (int)n;
}

/* The UDP header of a UFO datagram with its length set and its checksum
 * over the whole datagram completed, into @udph. */
static void ufo_udp_header(const struct ol_pkt *p, uint8_t *udph)
{
	const uint8_t *f = p->frame;
	size_t ulen = p->end - p->l4;
	uint32_t sum;

	memcpy(udph, f + p->l4, UDP_HLEN);
	nb_put_be16(udph + 4, (uint16_t)ulen);
	udph[6] = udph[7] = 0;
	sum = pseudo_sum(f + p->l3, p->ipv, IPPROTO_UDP, (uint32_t)ulen);
	sum = ol_csum_partial(udph, UDP_HLEN, sum);
	sum = ol_csum_partial(f + p->payload, p->end - p->payload, sum);
	store_csum(udph + 6, sum, true);
}

/* UFO that fits one packet: no fragmentation, the checksum completed.
 * Return: 1. */
static int ufo_single(const struct ol_pkt *p, uint8_t *store,
		      struct ol_seg *segs)
{
	memcpy(store, p->frame, p->l4);
	ufo_udp_header(p, store + p->l4);
	if (p->ipv == 4)
		ol_ip4_fix_csum(store + p->l3);
	segs[0] = (struct ol_seg){ .hdr = store, .hdr_len = p->l4 + UDP_HLEN,
				   .data = p->frame + p->payload,
				   .data_len = p->end - p->payload };
	return 1;
}

/* Write fragment @k's header block for a UFO datagram into @b: the IP
 * header copy (IPv4: offset/MF/length/checksum; IPv6: fragment header
 * inserted after the unfragmentable part).
 * Return: the block length without the first fragment's extra bytes. */
static size_t ufo_frag_header(const struct ol_pkt *p, uint8_t *b, size_t off,
			      bool more, size_t fraglen, uint32_t frag_id)
{
	const uint8_t *f = p->frame;

	if (p->ipv == 4) {
		memcpy(b, f, p->l4);
		nb_put_be16(b + p->l3 + 2, (uint16_t)(p->l4 - p->l3 + fraglen));
		nb_put_be16(b + p->l3 + 6, (uint16_t)((off >> 3) | (more ? IP4_MF : 0)));
		ol_ip4_fix_csum(b + p->l3);
		return p->l4;
	}
	memcpy(b, f, p->unfrag);
	b[p->unfrag_nh] = IP6_NH_FRAGMENT;
	b[p->unfrag] = f[p->unfrag_nh];
	b[p->unfrag + 1] = 0;
	nb_put_be16(b + p->unfrag + 2, (uint16_t)(off | (more ? 1 : 0)));
	nb_put_be32(b + p->unfrag + 4, frag_id);
	nb_put_be16(b + p->l3 + 4, (uint16_t)(p->unfrag + IP6_FRAG_HLEN - p->l3 -
					IP6_HLEN + fraglen));
	return p->unfrag + IP6_FRAG_HLEN;
}

/* UFO: IP fragments of p->seg_size (a multiple of 8) bytes of the UDP
 * datagram (IPv4) or of the fragmentable part (IPv6).
 * Return: the number of fragments. */
static int segment_ufo(const struct ol_pkt *p, uint32_t frag_id,
		       uint8_t *store, struct ol_seg *segs)
{
	const uint8_t *f = p->frame;
	size_t fs = p->seg_size;
	size_t start = p->ipv == 4 ? p->l4 : p->unfrag;
	size_t total = p->end - start, blk = p->l4 + UDP_HLEN + IP6_FRAG_HLEN;
	unsigned k, n = p->nsegs;

	if (n == 1)
		return ufo_single(p, store, segs);
	for (k = 0; k < n; k++) {
		uint8_t *b = store + k * blk;
		size_t off = k * fs;
		size_t fl = total - off < fs ? total - off : fs;
		size_t hl = ufo_frag_header(p, b, off, k + 1 < n, fl, frag_id);
		struct ol_seg *s = &segs[k];

		*s = (struct ol_seg){ .hdr = b, .hdr_len = hl,
				      .data = f + start + off, .data_len = fl };
		if (k == 0) {
			size_t ext = p->l4 - start;

			memcpy(b + hl, f + start, ext);
			ufo_udp_header(p, b + hl + ext);
			s->hdr_len = hl + ext + UDP_HLEN;
			s->data = f + p->payload;
			s->data_len = fl - ext - UDP_HLEN;
		}
	}
	return (int)n;
}

/* NEEDS_CSUM without GSO: one segment, headers up to the checksum field.
 * Return: 1. */
static int segment_csum(const struct netbe_vnet_hdr *h, const struct ol_pkt *p,
			unsigned flags, uint8_t *store, struct ol_seg *segs)
{
	size_t field_end = (size_t)h->csum_start + h->csum_offset + 2;

	memcpy(store, p->frame, field_end);
	segs[0] = (struct ol_seg){ .hdr = store, .hdr_len = field_end,
				   .data = p->frame + field_end,
				   .data_len = p->len - field_end };
	if (flags & OL_CSUM_PARTIAL) {
		segs[0].flags = NETBE_HDR_F_NEEDS_CSUM;
		segs[0].csum_start = h->csum_start;
		segs[0].csum_offset = h->csum_offset;
		return 1;
	}
	store_csum(store + h->csum_start + h->csum_offset,
		   needs_csum_sum(h, p, p->frame), true);
	return 1;
}

int ol_segment(const struct netbe_vnet_hdr *h, const struct ol_pkt *p,
	       unsigned flags, uint32_t frag_id, uint8_t *store,
	       size_t store_len, struct ol_seg *segs, unsigned max)
{
	if (max < p->nsegs || store_len < ol_store_size(p))
		return -ENOSPC;
	if (!p->parsed) {
		if (!(h->flags & NETBE_HDR_F_NEEDS_CSUM) || !p->csum_end) {
			segs[0] = (struct ol_seg){ .hdr = store, .data = p->frame,
						   .data_len = p->len };
			return 1;
		}
		return segment_csum(h, p, flags, store, segs);
	}
	if (p->gso == NETBE_GSO_UDP)
		return segment_ufo(p, frag_id, store, segs);
	return segment_l4(p, flags, store, segs);
}
