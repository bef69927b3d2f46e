/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * guestproto.c - frame builders and parsers for the `netbe probe` guest.
 *
 * Every multi-byte field is read and written byte by byte in network order,
 * so buffers need no alignment and no packed structs are involved. Parsers
 * check each length before reading the field it covers, reject lengths that
 * contradict each other (IPv4 total length vs. the frame, UDP length vs.
 * the datagram, DHCP option lengths vs. the message) and verify checksums,
 * because the frames come from a backend the probe does not trust.
 * Trailing Ethernet padding after an IPv4 datagram is ignored.
 */
#include "guestproto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const uint8_t dhcp_cookie[4] = { 99, 130, 83, 99 };
static const uint8_t eth_broadcast[GP_ETH_ALEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

enum {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_LIST = 55,
	DHCP_OPT_END = 255,
};

/** get16() - Return: the big-endian 16-bit value at @p. */
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/** get32() - Return: the big-endian 32-bit value at @p. */
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/** put16() - store @v big-endian at @p. Return: the byte after it. */
static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/** put32() - store @v big-endian at @p. Return: the byte after it. */
static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

uint32_t gp_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	for (; len >= 2; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t gp_csum_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t gp_inet_csum(const void *data, size_t len)
{
	return gp_csum_fold(gp_csum_add(0, data, len));
}

/** pseudo_sum() - Return: the partial sum of the IPv4 pseudo-header that
 * UDP and TCP checksums cover. */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto,
			   uint16_t len)
{
	uint8_t ph[12];

	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, len);
	return gp_csum_add(0, ph, sizeof(ph));
}

/** put_eth() - write an Ethernet header. Return: the byte after it. */
static uint8_t *put_eth(uint8_t *p, const uint8_t dst[GP_ETH_ALEN],
			const uint8_t src[GP_ETH_ALEN], uint16_t type)
{
	memcpy(p, dst, GP_ETH_ALEN);
	memcpy(p + GP_ETH_ALEN, src, GP_ETH_ALEN);
	return put16(p + 2 * GP_ETH_ALEN, type);
}

/** put_ipv4() - write a 20-byte IPv4 header with its checksum.
 * Return: the byte after it. */
static uint8_t *put_ipv4(uint8_t *p, uint16_t total_len, uint16_t id,
			 uint16_t frag, uint8_t proto, uint32_t src, uint32_t dst)
{
	p[0] = 0x45;
	p[1] = 0;
	put16(p + 2, total_len);
	put16(p + 4, id);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	put16(p + 10, 0);
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + 10, gp_inet_csum(p, GP_IPV4_HLEN));
	return p + GP_IPV4_HLEN;
}

/** put_dhcp_options() - write the cookie and options of a client message
 * into the zeroed vendor area @p. Return: the byte after the END option. */
static uint8_t *put_dhcp_options(uint8_t *p, const struct gp_dhcp_msg *m)
{
	static const uint8_t params[] = {
		DHCP_OPT_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS,
		DHCP_OPT_LEASE_TIME, DHCP_OPT_SERVER_ID,
	};

	memcpy(p, dhcp_cookie, sizeof(dhcp_cookie));
	p += sizeof(dhcp_cookie);
	*p++ = DHCP_OPT_MSG_TYPE;
	*p++ = 1;
	*p++ = m->type;
	if (m->requested_ip) {
		*p++ = DHCP_OPT_REQUESTED_IP;
		*p++ = 4;
		p = put32(p, m->requested_ip);
	}
	if (m->server_id) {
		*p++ = DHCP_OPT_SERVER_ID;
		*p++ = 4;
		p = put32(p, m->server_id);
	}
	*p++ = DHCP_OPT_PARAM_LIST;
	*p++ = sizeof(params);
	memcpy(p, params, sizeof(params));
	p += sizeof(params);
	*p++ = DHCP_OPT_END;
	return p;
}

ssize_t gp_build_dhcp(uint8_t *buf, size_t cap, const struct gp_dhcp_msg *m)
{
	const uint16_t udp_len = GP_UDP_HLEN + GP_BOOTP_LEN;
	uint8_t *ip, *udp, *bootp;
	uint16_t csum;

	if (m->type != GP_DHCP_DISCOVER && m->type != GP_DHCP_REQUEST)
		return -EINVAL;
	if (cap < GP_DHCP_FRAME_LEN)
		return -ENOSPC;
	memset(buf, 0, GP_DHCP_FRAME_LEN);
	ip = put_eth(buf, eth_broadcast, m->mac, GP_ETHERTYPE_IPV4);
	udp = put_ipv4(ip, GP_IPV4_HLEN + udp_len, 0, 0, GP_IPPROTO_UDP,
		       0, GP_IP_BROADCAST);
	put16(udp, GP_DHCP_CLIENT_PORT);
	put16(udp + 2, GP_DHCP_SERVER_PORT);
	put16(udp + 4, udp_len);
	bootp = udp + GP_UDP_HLEN;
	bootp[0] = 1;                      /* BOOTREQUEST */
	bootp[1] = 1;                      /* Ethernet */
	bootp[2] = GP_ETH_ALEN;
	put32(bootp + 4, m->xid);
	put16(bootp + 8, m->secs);
	put16(bootp + 10, 0x8000);         /* reply by broadcast: no IP yet */
	memcpy(bootp + 28, m->mac, GP_ETH_ALEN);
	put_dhcp_options(bootp + GP_BOOTP_FIXED_LEN, m);

	csum = gp_csum_fold(gp_csum_add(pseudo_sum(0, GP_IP_BROADCAST,
						    GP_IPPROTO_UDP, udp_len),
					 udp, udp_len));
	put16(udp + 6, csum ? csum : 0xffff);
	return GP_DHCP_FRAME_LEN;
}

ssize_t gp_build_arp(uint8_t *buf, size_t cap, const uint8_t eth_dst[GP_ETH_ALEN],
		     const struct gp_arp *a)
{
	uint8_t *p;

	if (cap < GP_ETH_ZLEN)
		return -ENOSPC;
	memset(buf, 0, GP_ETH_ZLEN);
	p = put_eth(buf, eth_dst, a->sha, GP_ETHERTYPE_ARP);
	p = put16(p, 1);                   /* Ethernet */
	p = put16(p, GP_ETHERTYPE_IPV4);
	*p++ = GP_ETH_ALEN;
	*p++ = 4;
	p = put16(p, a->op);
	memcpy(p, a->sha, GP_ETH_ALEN);
	p = put32(p + GP_ETH_ALEN, a->spa);
	memcpy(p, a->tha, GP_ETH_ALEN);
	put32(p + GP_ETH_ALEN, a->tpa);
	return GP_ETH_ZLEN;
}

ssize_t gp_build_echo(uint8_t *buf, size_t cap, const struct gp_echo_msg *m)
{
	size_t icmp_len = GP_ICMP_HLEN + m->data_len;
	size_t ip_len = GP_IPV4_HLEN + icmp_len;
	size_t frame_len = GP_ETH_HLEN + ip_len;
	uint8_t *ip, *icmp;

	if (m->data_len > 0xffff - GP_IPV4_HLEN - GP_ICMP_HLEN)
		return -EINVAL;
	if (frame_len < GP_ETH_ZLEN)
		frame_len = GP_ETH_ZLEN;
	if (cap < frame_len)
		return -ENOSPC;
	memset(buf, 0, frame_len);
	ip = put_eth(buf, m->dst_mac, m->src_mac, GP_ETHERTYPE_IPV4);
	icmp = put_ipv4(ip, (uint16_t)ip_len, m->ip_id, 0x4000, GP_IPPROTO_ICMP,
			m->src_ip, m->dst_ip);
	icmp[0] = m->type;
	icmp[1] = 0;
	put16(icmp + 4, m->id);
	put16(icmp + 6, m->seq);
	if (m->data_len)
		memcpy(icmp + GP_ICMP_HLEN, m->data, m->data_len);
	put16(icmp + 2, gp_inet_csum(icmp, icmp_len));
	return (ssize_t)frame_len;
}

int gp_parse_ipv4(const uint8_t *p, size_t len, struct gp_ipv4 *ip)
{
	size_t ihl, total;

	if (len < GP_IPV4_HLEN || p[0] >> 4 != 4)
		return -EINVAL;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	total = get16(p + 2);
	if (ihl < GP_IPV4_HLEN || ihl > total || total > len)
		return -EINVAL;
	if (gp_inet_csum(p, ihl) != 0)
		return -EBADMSG;
	ip->fragment = (get16(p + 6) & 0x3fff) != 0;
	ip->ttl = p[8];
	ip->proto = p[9];
	ip->src = get32(p + 12);
	ip->dst = get32(p + 16);
	ip->payload = p + ihl;
	ip->payload_len = total - ihl;
	return 0;
}

int gp_parse_udp(const struct gp_ipv4 *ip, struct gp_udp *udp)
{
	const uint8_t *p = ip->payload;
	size_t ulen;

	if (ip->payload_len < GP_UDP_HLEN)
		return -EINVAL;
	ulen = get16(p + 4);
	if (ulen < GP_UDP_HLEN || ulen > ip->payload_len)
		return -EINVAL;
	if (get16(p + 6) != 0 &&
	    gp_csum_fold(gp_csum_add(pseudo_sum(ip->src, ip->dst,
						GP_IPPROTO_UDP, (uint16_t)ulen),
				     p, ulen)) != 0)
		return -EBADMSG;
	udp->sport = get16(p);
	udp->dport = get16(p + 2);
	udp->payload = p + GP_UDP_HLEN;
	udp->payload_len = ulen - GP_UDP_HLEN;
	return 0;
}

/** dhcp_addr_list() - take the first address of a list option.
 * Return: 0, or -EINVAL when @len is not a positive multiple of 4. */
static int dhcp_addr_list(const uint8_t *v, size_t len, uint32_t *out)
{
	if (len < 4 || len % 4)
		return -EINVAL;
	*out = get32(v);
	return 0;
}

/** dhcp_u32() - read a 4-byte option. Return: 0, or -EINVAL for another
 * length. */
static int dhcp_u32(const uint8_t *v, size_t len, uint32_t *out)
{
	if (len != 4)
		return -EINVAL;
	*out = get32(v);
	return 0;
}

/** dhcp_option() - record one option probe cares about; others are
 * skipped. Return: 0, or -EINVAL for a known option with a bad length. */
static int dhcp_option(struct gp_dhcp_reply *r, uint8_t code,
		       const uint8_t *v, size_t len)
{
	switch (code) {
	case DHCP_OPT_MSG_TYPE:
		if (len != 1)
			return -EINVAL;
		r->type = v[0];
		return 0;
	case DHCP_OPT_MASK:
		r->have |= GP_HAVE_MASK;
		return dhcp_u32(v, len, &r->mask);
	case DHCP_OPT_ROUTER:
		r->have |= GP_HAVE_ROUTER;
		return dhcp_addr_list(v, len, &r->router);
	case DHCP_OPT_DNS:
		r->have |= GP_HAVE_DNS;
		return dhcp_addr_list(v, len, &r->dns);
	case DHCP_OPT_SERVER_ID:
		r->have |= GP_HAVE_SERVER_ID;
		return dhcp_u32(v, len, &r->server_id);
	case DHCP_OPT_LEASE_TIME:
		r->have |= GP_HAVE_LEASE;
		return dhcp_u32(v, len, &r->lease_time);
	default:
		return 0;
	}
}

int gp_parse_dhcp(const uint8_t *p, size_t len, struct gp_dhcp_reply *r)
{
	size_t i = GP_BOOTP_FIXED_LEN + sizeof(dhcp_cookie);

	memset(r, 0, sizeof(*r));
	if (len < i || p[0] != 2 || p[1] != 1 || p[2] != GP_ETH_ALEN)
		return -EINVAL;
	if (memcmp(p + GP_BOOTP_FIXED_LEN, dhcp_cookie, sizeof(dhcp_cookie)))
		return -EINVAL;
	r->xid = get32(p + 4);
	r->yiaddr = get32(p + 16);
	r->siaddr = get32(p + 20);
	memcpy(r->chaddr, p + 28, GP_ETH_ALEN);
	while (i < len && p[i] != DHCP_OPT_END) {
		size_t olen;
		int ret;

		if (p[i] == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (len - i < 2)
			return -EINVAL;
		olen = p[i + 1];
		if (olen > len - i - 2)
			return -EINVAL;
		ret = dhcp_option(r, p[i], p + i + 2, olen);
		if (ret)
			return ret;
		i += 2 + olen;
	}
	return 0;
}

int gp_parse_arp(const uint8_t *p, size_t len, struct gp_arp *a)
{
	if (len < 8)
		return -EINVAL;
	if (get16(p) != 1 || get16(p + 2) != GP_ETHERTYPE_IPV4 ||
	    p[4] != GP_ETH_ALEN || p[5] != 4)
		return 1;
	if (len < GP_ARP_LEN)
		return -EINVAL;
	a->op = get16(p + 6);
	memcpy(a->sha, p + 8, GP_ETH_ALEN);
	a->spa = get32(p + 14);
	memcpy(a->tha, p + 18, GP_ETH_ALEN);
	a->tpa = get32(p + 24);
	return 0;
}

int gp_parse_icmp(const uint8_t *p, size_t len, struct gp_icmp *icmp)
{
	if (len < GP_ICMP_HLEN)
		return -EINVAL;
	if (gp_inet_csum(p, len) != 0)
		return -EBADMSG;
	icmp->type = p[0];
	icmp->code = p[1];
	icmp->id = get16(p + 4);
	icmp->seq = get16(p + 6);
	icmp->data = p + GP_ICMP_HLEN;
	icmp->data_len = len - GP_ICMP_HLEN;
	return 0;
}

/** parse_ipv4_frame() - classify the IPv4 payload of a frame.
 * Return: an enum gp_kind or a negative errno. */
static int parse_ipv4_frame(const uint8_t *p, size_t len, struct gp_frame *f)
{
	struct gp_udp udp;
	int ret;

	ret = gp_parse_ipv4(p, len, &f->ip);
	if (ret < 0)
		return ret;
	if (f->ip.fragment)
		return GP_KIND_OTHER;
	if (f->ip.proto == GP_IPPROTO_ICMP) {
		ret = gp_parse_icmp(f->ip.payload, f->ip.payload_len, &f->icmp);
		return ret < 0 ? ret : GP_KIND_ICMP;
	}
	if (f->ip.proto != GP_IPPROTO_UDP)
		return GP_KIND_OTHER;
	ret = gp_parse_udp(&f->ip, &udp);
	if (ret < 0)
		return ret;
	if (udp.sport != GP_DHCP_SERVER_PORT || udp.dport != GP_DHCP_CLIENT_PORT)
		return GP_KIND_OTHER;
	ret = gp_parse_dhcp(udp.payload, udp.payload_len, &f->dhcp);
	return ret < 0 ? ret : GP_KIND_DHCP;
}

int gp_parse_frame(const uint8_t *frame, size_t len, struct gp_frame *f)
{
	int ret;

	memset(f, 0, sizeof(*f));
	if (len < GP_ETH_HLEN)
		return -EINVAL;
	memcpy(f->dst, frame, GP_ETH_ALEN);
	memcpy(f->src, frame + GP_ETH_ALEN, GP_ETH_ALEN);
	f->ethertype = get16(frame + 2 * GP_ETH_ALEN);
	frame += GP_ETH_HLEN;
	len -= GP_ETH_HLEN;
	switch (f->ethertype) {
	case GP_ETHERTYPE_ARP:
		ret = gp_parse_arp(frame, len, &f->arp);
		if (ret < 0)
			return ret;
		return ret ? GP_KIND_OTHER : GP_KIND_ARP;
	case GP_ETHERTYPE_IPV4:
		return parse_ipv4_frame(frame, len, f);
	default:
		return GP_KIND_OTHER;
	}
}

/** hex_digit() - Return: the value of hex digit @c, or -1. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gp_parse_mac(const char *s, uint8_t mac[GP_ETH_ALEN])
{
	static const uint8_t zero[GP_ETH_ALEN];
	uint8_t out[GP_ETH_ALEN];

	for (int i = 0; i < GP_ETH_ALEN; i++) {
		int hi = hex_digit(s[0]);
		int lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		if (s[2] != (i == GP_ETH_ALEN - 1 ? '\0' : ':'))
			return -EINVAL;
		s += 3;
	}
	if ((out[0] & 1) || !memcmp(out, zero, GP_ETH_ALEN))
		return -EINVAL;
	memcpy(mac, out, GP_ETH_ALEN);
	return 0;
}

char *gp_format_mac(const uint8_t mac[GP_ETH_ALEN], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return out;
}

char *gp_format_ip(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
	return out;
}

int gp_mask_prefix(uint32_t mask)
{
	uint32_t host = ~mask;

	if (host & (host + 1))
		return -1;
	return __builtin_popcount(mask);
}
