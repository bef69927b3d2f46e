/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipfrag.c - bounded reassembly of IPv4 and IPv6 fragments.
 *
 * Theory of operation
 *
 * ipf_parse() looks at one frame: Ethernet, at most one 802.1Q/802.1ad
 * tag, then IPv4, or IPv6 with its hop-by-hop, routing and destination
 * options headers (at most IPF_MAX_IP6_EXT) up to a Fragment header. A
 * frame that is neither is passed through untouched; an IP header whose
 * lengths do not fit the frame is reported as bad, and so is a fragment's
 * IPv4 header with a wrong checksum (its header would be rewritten and
 * re-checksummed, laundering the corruption). Fragments are keyed by
 * version, protocol (IPv4), identification and addresses.
 *
 * A datagram in flight owns one of IPF_MAX_DGRAMS slots and a buffer of
 * IPF_HDR_MAX + IPF_IP_MAX bytes, allocated on the slot's first use and
 * kept until ipf_release(): the header block of the first fragment
 * (offset 0: Ethernet/VLAN header and the IPv4 header or IPv6 unfragmentable
 * part) is kept at the start, each fragment's data at IPF_HDR_MAX plus its
 * offset. A full table evicts the oldest datagram; datagrams expire
 * IPF_TIMEOUT_NS after their first fragment, checked at every input.
 *
 * Policy. A fragment that is empty, not a multiple of 8 bytes while more
 * follow, or that would end past IPF_IP_MAX bytes of IP packet, and any
 * fragment that overlaps another, disagrees with the end a last fragment
 * set, or exceeds IPF_MAX_FRAGS, drops its whole datagram (RFC 5722 for
 * IPv6, and the same for IPv4: no reassembly policy is needed when
 * overlaps are refused). An exact duplicate (same offset, length and
 * MF) is dropped alone. Since overlaps are refused and every range lies
 * below the end, the datagram is complete when its byte count reaches the
 * end. The whole datagram is then written in place: the header block is
 * moved to end right before the data, and the IPv4 total length, fragment
 * field (DF kept) and checksum, or the IPv6 payload length and the next
 * header byte that named the Fragment header (which is removed), fixed.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "ipfrag.h"
#include "offload.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define IP4_HLEN 20
#define IP4_DF 0x4000
#define IP4_MF 0x2000
#define IP4_OFF_MASK 0x1fff
#define IP6_HLEN 40
#define IP6_FRAG_HLEN 8
#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_DSTOPTS 60

/* One fragment as ipf_parse() found it. */
struct ipf_frag {
	const uint8_t *frame;
	const uint8_t *data;       /* its share of the datagram's data */
	uint8_t key[IPF_KEY_LEN];
	size_t l2len;
	size_t hlen;               /* L2 + IPv4 header or IPv6 unfragmentable part */
	size_t nh_at;              /* IPv6: the byte naming the Fragment header */
	uint32_t off, len;
	bool more;
	uint8_t ipv;
	uint8_t nh;                /* IPv6: what follows the Fragment header */
};

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */


/** ipf_parse4() - the IPv4 header at f->l2len. Return: IPF_PASS for a
 * whole packet, IPF_BAD_HDR, or IPF_HELD for a fragment (@f filled). */
static enum ipf_result ipf_parse4(const uint8_t *p, size_t len,
				  struct ipf_frag *f)
{
	const uint8_t *ip = p + f->l2len;
	size_t avail = len - f->l2len, ihl, tot;
	uint16_t frag;

	if (avail < IP4_HLEN || ip[0] >> 4 != 4)
		return IPF_BAD_HDR;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = nb_get_be16(ip + 2);
	if (ihl < IP4_HLEN || tot < ihl || tot > avail)
		return IPF_BAD_HDR;
	frag = nb_get_be16(ip + 6);
	if (!(frag & (IP4_MF | IP4_OFF_MASK)))
		return IPF_PASS;
	if (ol_csum_fold(ol_csum_partial(ip, ihl, 0)) != 0xffff)
		return IPF_BAD_HDR;
	f->ipv = 4;
	f->key[0] = 4;
	f->key[1] = ip[9];
	memcpy(f->key + 2, ip + 4, 2);
	memcpy(f->key + 6, ip + 12, 8);
	f->off = (uint32_t)(frag & IP4_OFF_MASK) * 8;
	f->more = frag & IP4_MF;
	f->hlen = f->l2len + ihl;
	f->data = ip + ihl;
	f->len = (uint32_t)(tot - ihl);
	return IPF_HELD;
}

/** ipf_find_frag6() - walk the extension headers from @off (next header
 * @nh, named at @nh_at) to a Fragment header ending before @end.
 * Return: IPF_HELD with f->hlen and f->nh_at set, IPF_PASS when there is
 * none, IPF_BAD_HDR when the chain runs past @end or is too long. */
static enum ipf_result ipf_find_frag6(const uint8_t *p, size_t end, size_t off,
				      uint8_t nh, size_t nh_at,
				      struct ipf_frag *f)
{
	unsigned i;

	for (i = 0; nh != IP6_NH_FRAGMENT; i++) {
		size_t hl;

		if (nh != IP6_NH_HOPOPTS && nh != IP6_NH_ROUTING &&
		    nh != IP6_NH_DSTOPTS)
			return IPF_PASS;
		if (i == IPF_MAX_IP6_EXT || end - off < 8)
			return IPF_BAD_HDR;
		hl = ((size_t)p[off + 1] + 1) * 8;
		if (end - off < hl)
			return IPF_BAD_HDR;
		nh_at = off;
		nh = p[off];
		off += hl;
	}
	if (end - off < IP6_FRAG_HLEN)
		return IPF_BAD_HDR;
	f->hlen = off;
	f->nh_at = nh_at;
	return IPF_HELD;
}

/** ipf_parse6() - the IPv6 header at f->l2len. Return: IPF_PASS for a
 * packet without a Fragment header, IPF_BAD_HDR, or IPF_HELD for a
 * fragment (@f filled). */
static enum ipf_result ipf_parse6(const uint8_t *p, size_t len,
				  struct ipf_frag *f)
{
	const uint8_t *ip = p + f->l2len, *fh;
	size_t avail = len - f->l2len, end;
	enum ipf_result r;
	uint16_t frag;

	if (avail < IP6_HLEN || ip[0] >> 4 != 6 ||
	    IP6_HLEN + (size_t)nb_get_be16(ip + 4) > avail)
		return IPF_BAD_HDR;
	end = f->l2len + IP6_HLEN + nb_get_be16(ip + 4);
	r = ipf_find_frag6(p, end, f->l2len + IP6_HLEN, ip[6], f->l2len + 6, f);
	if (r != IPF_HELD)
		return r;
	fh = p + f->hlen;
	frag = nb_get_be16(fh + 2);
	f->ipv = 6;
	f->key[0] = 6;
	memcpy(f->key + 2, fh + 4, 4);
	memcpy(f->key + 6, ip + 8, 32);
	f->nh = fh[0];
	f->off = frag & 0xfff8;
	f->more = frag & 1;
	f->data = fh + IP6_FRAG_HLEN;
	f->len = (uint32_t)(end - f->hlen - IP6_FRAG_HLEN);
	return IPF_HELD;
}

/** ipf_parse() - classify the frame @p of @len bytes.
 * Return: IPF_PASS, IPF_BAD_HDR, or IPF_HELD for a fragment (@f filled). */
static enum ipf_result ipf_parse(const uint8_t *p, size_t len,
				 struct ipf_frag *f)
{
	uint16_t type;

	memset(f, 0, sizeof(*f));
	f->frame = p;
	f->l2len = ETH_HLEN;
	if (len < ETH_HLEN)
		return IPF_PASS;
	type = nb_get_be16(p + 12);
	if (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return IPF_PASS;
		type = nb_get_be16(p + 16);
		f->l2len += VLAN_HLEN;
	}
	if (type == ETHERTYPE_IPV4)
		return ipf_parse4(p, len, f);
	if (type == ETHERTYPE_IPV6)
		return ipf_parse6(p, len, f);
	return IPF_PASS;
}

/** ipf_frag_ok() - Return: true when @f can be part of a datagram at all. */
static bool ipf_frag_ok(const struct ipf_frag *f)
{
	if (!f->len || (f->more && f->len % 8) || f->hlen > IPF_HDR_MAX)
		return false;
	return f->hlen - f->l2len + f->off + f->len <= IPF_IP_MAX;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

/** ipf_drop() - forget datagram @d. Return: the fragments it held. */
static unsigned ipf_drop(struct ipf_dgram *d)
{
	unsigned n = d->nfrags;

	d->used = false;
	d->nfrags = 0;
	return n;
}

unsigned ipf_expire(struct ipf *t, uint64_t now_ns)
{
	unsigned i, n = 0;

	for (i = 0; i < IPF_MAX_DGRAMS; i++) {
		struct ipf_dgram *d = &t->d[i];

		if (d->used && now_ns - d->start_ns >= IPF_TIMEOUT_NS)
			n += ipf_drop(d);
	}
	return n;
}

unsigned ipf_held(const struct ipf *t)
{
	unsigned i, n = 0;

	for (i = 0; i < IPF_MAX_DGRAMS; i++)
		if (t->d[i].used)
			n += t->d[i].nfrags;
	return n;
}

unsigned ipf_release(struct ipf *t)
{
	unsigned i, n = ipf_held(t);

	for (i = 0; i < IPF_MAX_DGRAMS; i++)
		free(t->d[i].buf);
	memset(t, 0, sizeof(*t));
	return n;
}

/** ipf_find() - Return: the datagram in flight with @key, or NULL. */
static struct ipf_dgram *ipf_find(struct ipf *t, const uint8_t *key)
{
	unsigned i;

	for (i = 0; i < IPF_MAX_DGRAMS; i++)
		if (t->d[i].used && !memcmp(t->d[i].key, key, IPF_KEY_LEN))
			return &t->d[i];
	return NULL;
}

/**
 * ipf_slot() - a free slot for the datagram of @f, evicting the oldest
 * one when all are in use (its fragments added to *@dropped).
 * Return: the slot, or NULL when its buffer cannot be allocated.
 */
static struct ipf_dgram *ipf_slot(struct ipf *t, const struct ipf_frag *f,
				  uint64_t now_ns, unsigned *dropped)
{
	struct ipf_dgram *d = NULL;
	uint8_t *buf;
	unsigned i;

	for (i = 0; i < IPF_MAX_DGRAMS; i++) {
		struct ipf_dgram *c = &t->d[i];

		if (!c->used) {
			d = c;
			break;
		}
		if (!d || c->start_ns < d->start_ns)
			d = c;
	}
	if (d->used)
		*dropped += ipf_drop(d);
	buf = d->buf ? d->buf : malloc(IPF_HDR_MAX + IPF_IP_MAX);
	if (!buf)
		return NULL;
	memset(d, 0, offsetof(struct ipf_dgram, frags));
	d->buf = buf;
	d->used = true;
	d->start_ns = now_ns;
	d->ipv = f->ipv;
	memcpy(d->key, f->key, IPF_KEY_LEN);
	return d;
}

/* ------------------------------------------------------------------------ */
/* Reassembly                                                               */
/* ------------------------------------------------------------------------ */

/* What adding a fragment to its datagram did. */
enum ipf_add {
	IPF_ADD_OK,
	IPF_ADD_DUP,       /* drop it alone: an exact duplicate, or no memory */
	IPF_ADD_BAD,       /* inconsistent: drop the whole datagram */
};

/** ipf_check() - compare @f with the fragments @d holds.
 * Return: IPF_ADD_OK when it fits in, IPF_ADD_DUP or IPF_ADD_BAD. */
static enum ipf_add ipf_check(const struct ipf_dgram *d, const struct ipf_frag *f)
{
	uint32_t end = f->off + f->len;
	unsigned i;

	if (d->have_last && (f->more ? end >= d->end : end != d->end))
		return IPF_ADD_BAD;
	for (i = 0; i < d->nfrags; i++) {
		const struct ipf_range *r = &d->frags[i];

		if (r->off == f->off && r->len == f->len)
			return !f->more && !d->have_last ? IPF_ADD_BAD : IPF_ADD_DUP;
		if (f->off < (uint32_t)r->off + r->len && r->off < end)
			return IPF_ADD_BAD;
		if (!f->more && (uint32_t)r->off + r->len > end)
			return IPF_ADD_BAD;
	}
	return d->nfrags == IPF_MAX_FRAGS ? IPF_ADD_BAD : IPF_ADD_OK;
}

/** ipf_store() - copy @f into @d (ipf_check() said it fits). */
static void ipf_store(struct ipf_dgram *d, const struct ipf_frag *f)
{
	memcpy(d->buf + IPF_HDR_MAX + f->off, f->data, f->len);
	d->frags[d->nfrags++] = (struct ipf_range){ (uint16_t)f->off, (uint16_t)f->len };
	d->received += f->len;
	if (!f->more) {
		d->have_last = true;
		d->end = f->off + f->len;
	}
	if (f->off)
		return;
	memcpy(d->buf, f->frame, f->hlen);
	d->have_first = true;
	d->hlen = (uint16_t)f->hlen;
	d->l2len = (uint16_t)f->l2len;
	d->nh_at = (uint16_t)f->nh_at;
	d->nh = f->nh;
}

/**
 * ipf_emit() - write the whole datagram of the complete @d in place.
 * Return: true with @out->frame/len set, false when its first fragment's
 * headers make it longer than IPF_IP_MAX (nothing written).
 */
static bool ipf_emit(struct ipf_dgram *d, struct ipf_out *out)
{
	size_t iphlen = (size_t)d->hlen - d->l2len;
	uint8_t *hdr = d->buf + IPF_HDR_MAX - d->hlen, *ip = hdr + d->l2len;

	if (iphlen + d->end > IPF_IP_MAX)
		return false;
	memmove(hdr, d->buf, d->hlen);
	if (d->ipv == 4) {
		nb_put_be16(ip + 2, (uint16_t)(iphlen + d->end));
		ip[6] &= IP4_DF >> 8;
		ip[7] = 0;
		ol_ip4_fix_csum(ip);
	} else {
		nb_put_be16(ip + 4, (uint16_t)(iphlen - IP6_HLEN + d->end));
		hdr[d->nh_at] = d->nh;
	}
	out->frame = hdr;
	out->len = d->hlen + d->end;
	out->nfrags = d->nfrags;
	return true;
}

/**
 * ipf_add() - add the fragment @f to its datagram @d (NULL: none yet).
 * Return: IPF_HELD, IPF_DONE (@out->frame set, @d freed) or IPF_DROPPED;
 * the fragments dropped are added to @out->dropped.
 */
static enum ipf_result ipf_add(struct ipf *t, struct ipf_dgram *d,
			       const struct ipf_frag *f, uint64_t now_ns,
			       struct ipf_out *out)
{
	enum ipf_add a;

	if (!ipf_frag_ok(f))
		a = IPF_ADD_BAD;
	else if (!d && !(d = ipf_slot(t, f, now_ns, &out->dropped)))
		a = IPF_ADD_DUP;
	else
		a = ipf_check(d, f);
	if (a == IPF_ADD_BAD && d)
		out->dropped += ipf_drop(d);
	if (a != IPF_ADD_OK) {
		out->dropped++;
		return IPF_DROPPED;
	}
	ipf_store(d, f);
	if (!d->have_last || d->received != d->end)
		return IPF_HELD;
	if (ipf_emit(d, out)) {
		ipf_drop(d);
		return IPF_DONE;
	}
	out->dropped += ipf_drop(d);
	return IPF_DROPPED;
}

enum ipf_result ipf_input(struct ipf *t, const uint8_t *frame, size_t len,
			  uint64_t now_ns, struct ipf_out *out)
{
	struct ipf_frag f;
	enum ipf_result r;

	memset(out, 0, sizeof(*out));
	out->dropped = ipf_expire(t, now_ns);
	r = ipf_parse(frame, len, &f);
	if (r != IPF_HELD)
		return r;
	return ipf_add(t, ipf_find(t, f.key), &f, now_ns, out);
}
