/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-guestproto.c - unit tests of the probe's frame builders and parsers.
 *
 * Server replies (DHCP OFFER/ACK, ARP, ICMP) are built here byte by byte
 * with a checksum routine of the test's own, then fed to the parsers; the
 * client frames the probe builds are taken apart by hand and their
 * checksums recomputed the same way. Checksums are also checked against
 * the RFC 1071 example. Every malformed case must be rejected, and every
 * truncation and a batch of random mutations of a valid frame are parsed
 * from exactly sized heap buffers, so a sanitizer run catches any read
 * past the end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "guestproto.h"

static const uint8_t client_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t server_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define XID 0x1badcafeu

/* The test's own checksum: a plain word sum folded once at the end. */
static uint16_t naive_csum(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += (i % 2) ? p[i] : (uint64_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v)
{
	w16(p, (uint16_t)(v >> 16));
	w16(p + 2, (uint16_t)v);
}

static uint16_t r16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t r32(const uint8_t *p)
{
	return (uint32_t)r16(p) << 16 | r16(p + 2);
}

/* UDP checksum over pseudo-header + segment, by the naive routine. */
static uint16_t naive_udp_csum(uint32_t src, uint32_t dst, const uint8_t *udp, size_t len)
{
	uint8_t buf[12 + 2048];

	w32(buf, src);
	w32(buf + 4, dst);
	buf[8] = 0;
	buf[9] = 17;
	w16(buf + 10, (uint16_t)len);
	memcpy(buf + 12, udp, len);
	return naive_csum(buf, 12 + len);
}

/* Ethernet + IPv4 header; returns the IP header's address. */
static uint8_t *put_eth_ip(uint8_t *f, const uint8_t *dst, const uint8_t *src,
			   uint8_t proto, uint32_t sip, uint32_t dip, size_t ip_len)
{
	uint8_t *ip = f + 14;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	w16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	w16(ip + 2, (uint16_t)ip_len);
	ip[8] = 255;
	ip[9] = proto;
	w32(ip + 12, sip);
	w32(ip + 16, dip);
	w16(ip + 10, naive_csum(ip, 20));
	return ip;
}

/*
 * A server's BOOTREPLY frame from 10.0.2.2 to 255.255.255.255 whose
 * options (after the cookie) are @opts; @pad extra zero bytes of Ethernet
 * padding follow the datagram. Returns the frame length.
 */
static size_t build_reply(uint8_t *f, const uint8_t *opts, size_t optlen, size_t pad)
{
	size_t bootp_len = 240 + optlen, udp_len = 8 + bootp_len;
	size_t ip_len = 20 + udp_len;
	uint8_t *ip, *udp, *bp;

	memset(f, 0, 14 + ip_len + pad);
	ip = put_eth_ip(f, bcast, server_mac, 17, IP(10, 0, 2, 2), 0xffffffffu, ip_len);
	udp = ip + 20;
	w16(udp, 67);
	w16(udp + 2, 68);
	w16(udp + 4, (uint16_t)udp_len);
	bp = udp + 8;
	bp[0] = 2;
	bp[1] = 1;
	bp[2] = 6;
	w32(bp + 4, XID);
	w32(bp + 16, IP(10, 0, 2, 15));
	w32(bp + 20, IP(10, 0, 2, 2));
	memcpy(bp + 28, client_mac, 6);
	bp[236] = 99;
	bp[237] = 130;
	bp[238] = 83;
	bp[239] = 99;
	memcpy(bp + 240, opts, optlen);
	w16(udp + 6, naive_udp_csum(IP(10, 0, 2, 2), 0xffffffffu, udp, udp_len));
	return 14 + ip_len + pad;
}

static const uint8_t offer_opts[] = {
	53, 1, 2,                          /* OFFER */
	0, 0,                              /* pads */
	1, 4, 255, 255, 255, 0,
	3, 4, 10, 0, 2, 2,
	6, 8, 10, 0, 2, 3, 8, 8, 8, 8,     /* two DNS servers: first wins */
	51, 4, 0x00, 0x01, 0x51, 0x80,     /* 86400 */
	54, 4, 10, 0, 2, 2,
	12, 3, 'v', 'm', '1',              /* host name: skipped */
	255,
};

/* Parse @len bytes from an exactly sized heap copy; pointers in @f are
 * dangling afterwards, only its scalar fields may be used. */
static int parse_exact(const uint8_t *frame, size_t len, struct gp_frame *f)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, frame, len);
	ret = gp_parse_frame(copy, len, f);
	free(copy);
	return ret;
}

/* ------------------------------------------------------------------ */

static void test_csum_rfc1071(void)
{
	/* RFC 1071 section 3: these words sum to ddf2, checksum 220d. */
	static const uint8_t v[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	CHECK_EQ(gp_csum_add(0, v, sizeof(v)), 0xddf2);
	CHECK_EQ(gp_inet_csum(v, sizeof(v)), 0x220d);
	CHECK_EQ(gp_csum_fold(gp_csum_add(gp_csum_add(0, v, 4), v + 4, 4)), 0x220d);
}

static void test_csum_ipv4_header(void)
{
	uint8_t h[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};

	CHECK_EQ(gp_inet_csum(h, sizeof(h)), 0xb861);
	w16(h + 10, 0xb861);
	CHECK_EQ(gp_inet_csum(h, sizeof(h)), 0);
}

static void test_csum_odd_and_carry(void)
{
	static const uint8_t one[] = { 0x01 };
	uint8_t ff[4096];

	CHECK_EQ(gp_inet_csum(one, 1), 0xfeff);
	CHECK_EQ(gp_inet_csum(one, 0), 0xffff);
	memset(ff, 0xff, sizeof(ff));
	CHECK_EQ(gp_inet_csum(ff, sizeof(ff)), naive_csum(ff, sizeof(ff)));
	for (size_t i = 0; i < sizeof(ff); i++)
		ff[i] = (uint8_t)(i * 7 + 3);
	CHECK_EQ(gp_inet_csum(ff, 1023), naive_csum(ff, 1023));
	CHECK(gp_csum_add(0, ff, sizeof(ff)) < 0x20000);
}

static void check_client_dhcp(const uint8_t *f, ssize_t len, uint8_t type)
{
	const uint8_t *ip = f + 14, *udp = ip + 20, *bp = udp + 8;

	CHECK_EQ(len, GP_DHCP_FRAME_LEN);
	CHECK(!memcmp(f, bcast, 6));
	CHECK(!memcmp(f + 6, client_mac, 6));
	CHECK_EQ(r16(f + 12), 0x0800);
	CHECK_EQ(ip[0], 0x45);
	CHECK_EQ(r16(ip + 2), 576);
	CHECK_EQ(ip[9], 17);
	CHECK_EQ(naive_csum(ip, 20), 0);
	CHECK_EQ(r32(ip + 12), 0);
	CHECK_EQ(r32(ip + 16), 0xffffffffu);
	CHECK_EQ(r16(udp), 68);
	CHECK_EQ(r16(udp + 2), 67);
	CHECK_EQ(r16(udp + 4), 556);
	CHECK(r16(udp + 6) != 0);
	CHECK_EQ(naive_udp_csum(0, 0xffffffffu, udp, 556), 0);
	CHECK_EQ(bp[0], 1);
	CHECK_EQ(bp[1], 1);
	CHECK_EQ(bp[2], 6);
	CHECK_EQ(r32(bp + 4), XID);
	CHECK(!memcmp(bp + 28, client_mac, 6));
	CHECK_EQ(r32(bp + 236), 0x63825363u);
	CHECK_EQ(bp[240], 53);
	CHECK_EQ(bp[241], 1);
	CHECK_EQ(bp[242], type);
}

/* Find option @code in the client frame @f; returns its value or NULL. */
static const uint8_t *find_option(const uint8_t *f, uint8_t code, uint8_t *olen)
{
	const uint8_t *o = f + 14 + 20 + 8 + 240, *end = f + GP_DHCP_FRAME_LEN;

	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (o + 2 > end || o + 2 + o[1] > end)
			return NULL;
		if (*o == code) {
			*olen = o[1];
			return o + 2;
		}
		o += 2 + o[1];
	}
	return NULL;
}

static void test_build_discover(void)
{
	struct gp_dhcp_msg m = { .type = GP_DHCP_DISCOVER, .xid = XID };
	uint8_t f[GP_DHCP_FRAME_LEN];
	uint8_t olen = 0;

	memcpy(m.mac, client_mac, 6);
	check_client_dhcp(f, gp_build_dhcp(f, sizeof(f), &m), GP_DHCP_DISCOVER);
	CHECK(find_option(f, 50, &olen) == NULL);
	CHECK(find_option(f, 54, &olen) == NULL);
	CHECK(find_option(f, 55, &olen) != NULL);
}

static void test_build_request(void)
{
	struct gp_dhcp_msg m = {
		.type = GP_DHCP_REQUEST, .xid = XID,
		.requested_ip = IP(10, 0, 2, 15), .server_id = IP(10, 0, 2, 2),
	};
	uint8_t f[GP_DHCP_FRAME_LEN];
	const uint8_t *v;
	uint8_t olen = 0;

	memcpy(m.mac, client_mac, 6);
	check_client_dhcp(f, gp_build_dhcp(f, sizeof(f), &m), GP_DHCP_REQUEST);
	v = find_option(f, 50, &olen);
	CHECK(v && olen == 4 && r32(v) == IP(10, 0, 2, 15));
	v = find_option(f, 54, &olen);
	CHECK(v && olen == 4 && r32(v) == IP(10, 0, 2, 2));
}

static void test_build_dhcp_errors(void)
{
	struct gp_dhcp_msg m = { .type = GP_DHCP_OFFER };
	uint8_t f[GP_DHCP_FRAME_LEN];

	CHECK_EQ(gp_build_dhcp(f, sizeof(f), &m), -EINVAL);
	m.type = GP_DHCP_DISCOVER;
	CHECK_EQ(gp_build_dhcp(f, sizeof(f) - 1, &m), -ENOSPC);
}

static void test_parse_offer(void)
{
	uint8_t f[1024];
	size_t len = build_reply(f, offer_opts, sizeof(offer_opts), 0);
	struct gp_frame pf;

	CHECK_EQ(parse_exact(f, len, &pf), GP_KIND_DHCP);
	CHECK_EQ(pf.dhcp.type, GP_DHCP_OFFER);
	CHECK_EQ(pf.dhcp.xid, XID);
	CHECK(!memcmp(pf.dhcp.chaddr, client_mac, 6));
	CHECK(!memcmp(pf.src, server_mac, 6));
	CHECK_EQ(pf.dhcp.yiaddr, IP(10, 0, 2, 15));
	CHECK_EQ(pf.dhcp.siaddr, IP(10, 0, 2, 2));
	CHECK_EQ(pf.dhcp.mask, IP(255, 255, 255, 0));
	CHECK_EQ(pf.dhcp.router, IP(10, 0, 2, 2));
	CHECK_EQ(pf.dhcp.dns, IP(10, 0, 2, 3));
	CHECK_EQ(pf.dhcp.server_id, IP(10, 0, 2, 2));
	CHECK_EQ(pf.dhcp.lease_time, 86400);
	CHECK_EQ(pf.dhcp.have, GP_HAVE_SERVER_ID | GP_HAVE_MASK | GP_HAVE_ROUTER |
		 GP_HAVE_DNS | GP_HAVE_LEASE);
	CHECK_EQ(pf.ip.src, IP(10, 0, 2, 2));
	CHECK_EQ(pf.ip.ttl, 255);
}

static void test_parse_ack_minimal(void)
{
	/* Only the message type, no END, then Ethernet padding. */
	static const uint8_t opts[] = { 53, 1, 5 };
	uint8_t f[1024];
	size_t len = build_reply(f, opts, sizeof(opts), 7);
	struct gp_frame pf;

	CHECK_EQ(parse_exact(f, len, &pf), GP_KIND_DHCP);
	CHECK_EQ(pf.dhcp.type, GP_DHCP_ACK);
	CHECK_EQ(pf.dhcp.have, 0);
	CHECK_EQ(pf.dhcp.yiaddr, IP(10, 0, 2, 15));
}

static void test_udp_csum_zero_accepted(void)
{
	uint8_t f[1024];
	size_t len = build_reply(f, offer_opts, sizeof(offer_opts), 0);
	struct gp_frame pf;

	w16(f + 14 + 20 + 6, 0);
	CHECK_EQ(parse_exact(f, len, &pf), GP_KIND_DHCP);
}

/* Build a reply with options @opts and expect gp_parse_frame() == @want. */
static int parse_with_opts(const uint8_t *opts, size_t optlen)
{
	uint8_t f[1024];
	size_t len = build_reply(f, opts, optlen, 0);
	struct gp_frame pf;

	return parse_exact(f, len, &pf);
}

static void test_bad_options(void)
{
	static const uint8_t past_end[] = { 53, 1, 2, 1, 10, 255, 255 };
	static const uint8_t no_len[] = { 53, 1, 2, 54 };
	static const uint8_t mask3[] = { 1, 3, 255, 255, 255, 255 };
	static const uint8_t router6[] = { 3, 6, 10, 0, 2, 2, 10, 0, 255 };
	static const uint8_t dns0[] = { 6, 0, 255 };
	static const uint8_t type2[] = { 53, 2, 2, 2, 255 };
	static const uint8_t lease5[] = { 51, 5, 0, 0, 0, 0, 0, 255 };
	static const uint8_t sid3[] = { 54, 3, 10, 0, 2, 255 };

	CHECK_EQ(parse_with_opts(past_end, sizeof(past_end)), -EINVAL);
	CHECK_EQ(parse_with_opts(no_len, sizeof(no_len)), -EINVAL);
	CHECK_EQ(parse_with_opts(mask3, sizeof(mask3)), -EINVAL);
	CHECK_EQ(parse_with_opts(router6, sizeof(router6)), -EINVAL);
	CHECK_EQ(parse_with_opts(dns0, sizeof(dns0)), -EINVAL);
	CHECK_EQ(parse_with_opts(type2, sizeof(type2)), -EINVAL);
	CHECK_EQ(parse_with_opts(lease5, sizeof(lease5)), -EINVAL);
	CHECK_EQ(parse_with_opts(sid3, sizeof(sid3)), -EINVAL);
}

/* Corrupt one thing in a valid OFFER, fix checksums as told, parse. */
static int parse_corrupted(size_t off, uint8_t val, int fix_ip, int fix_udp)
{
	uint8_t f[1024];
	size_t len = build_reply(f, offer_opts, sizeof(offer_opts), 0);
	uint8_t *ip = f + 14, *udp = ip + 20;
	struct gp_frame pf;

	f[off] = val;
	if (fix_ip) {
		w16(ip + 10, 0);
		w16(ip + 10, naive_csum(ip, 20));
	}
	if (fix_udp) {
		w16(udp + 6, 0);
		w16(udp + 6, naive_udp_csum(r32(ip + 12), r32(ip + 16), udp, r16(udp + 4)));
	}
	return parse_exact(f, len, &pf);
}

static void test_bad_headers(void)
{
	const size_t ip = 14, udp = 34, bp = 42;

	CHECK_EQ(parse_corrupted(ip + 8, 1, 0, 0), -EBADMSG);         /* IP csum */
	CHECK_EQ(parse_corrupted(bp + 100, 1, 1, 0), -EBADMSG);       /* UDP csum */
	CHECK_EQ(parse_corrupted(ip + 0, 0x44, 1, 1), -EINVAL);       /* ihl 4 */
	CHECK_EQ(parse_corrupted(ip + 0, 0x4f, 1, 1), -EBADMSG);      /* ihl 15: csum over 60 */
	CHECK_EQ(parse_corrupted(ip + 0, 0x65, 1, 1), -EINVAL);       /* version 6 */
	CHECK_EQ(parse_corrupted(ip + 2, 0x7f, 1, 1), -EINVAL);       /* total > frame */
	CHECK_EQ(parse_corrupted(ip + 3, 0x00, 1, 0), -EINVAL);       /* total 512: < udp len */
	CHECK_EQ(parse_corrupted(udp + 4, 0x7f, 1, 0), -EINVAL);      /* udp len > ip */
	CHECK_EQ(parse_corrupted(bp + 0, 1, 1, 1), -EINVAL);          /* BOOTREQUEST */
	CHECK_EQ(parse_corrupted(bp + 2, 16, 1, 1), -EINVAL);         /* hlen 16 */
	CHECK_EQ(parse_corrupted(bp + 236, 0, 1, 1), -EINVAL);        /* cookie */
	CHECK_EQ(parse_corrupted(ip + 6, 0x20, 1, 1), GP_KIND_OTHER); /* MF: fragment */
	CHECK_EQ(parse_corrupted(udp + 1, 53, 1, 1), GP_KIND_OTHER);  /* from port 53 */
	CHECK_EQ(parse_corrupted(ip + 9, 6, 1, 1), GP_KIND_OTHER);    /* TCP */
	CHECK_EQ(parse_corrupted(12, 0x86, 0, 0), GP_KIND_OTHER);     /* IPv6 */
}

static void test_udp_len_too_small(void)
{
	uint8_t f[1024];
	size_t len = build_reply(f, offer_opts, sizeof(offer_opts), 0);
	struct gp_frame pf;

	w16(f + 14 + 20 + 4, 7);
	CHECK_EQ(parse_exact(f, len, &pf), -EINVAL);
}

static void test_truncations_rejected(void)
{
	uint8_t f[1024];
	size_t len = build_reply(f, offer_opts, sizeof(offer_opts), 0);
	struct gp_frame pf;
	int bad = 0;

	for (size_t l = 0; l < len; l++)
		if (parse_exact(f, l, &pf) >= 0)
			bad++;
	CHECK_EQ(bad, 0);
}

static void test_arp_roundtrip(void)
{
	struct gp_arp a = {
		.op = GP_ARP_REQUEST, .spa = IP(10, 0, 2, 15), .tpa = IP(10, 0, 2, 2),
	};
	uint8_t f[64];
	struct gp_frame pf;
	ssize_t len;

	memcpy(a.sha, client_mac, 6);
	len = gp_build_arp(f, sizeof(f), bcast, &a);
	CHECK_EQ(len, 60);
	CHECK(!memcmp(f, bcast, 6));
	CHECK_EQ(r16(f + 12), 0x0806);
	CHECK_EQ(r16(f + 14), 1);
	CHECK_EQ(r16(f + 16), 0x0800);
	CHECK_EQ(r16(f + 20), 1);
	CHECK_EQ(r32(f + 28), IP(10, 0, 2, 15));
	CHECK_EQ(r32(f + 38), IP(10, 0, 2, 2));
	CHECK_EQ(parse_exact(f, (size_t)len, &pf), GP_KIND_ARP);
	CHECK_EQ(pf.arp.op, GP_ARP_REQUEST);
	CHECK(!memcmp(pf.arp.sha, client_mac, 6));
	CHECK_EQ(pf.arp.spa, IP(10, 0, 2, 15));
	CHECK_EQ(pf.arp.tpa, IP(10, 0, 2, 2));
	CHECK_EQ(parse_exact(f, 14 + 27, &pf), -EINVAL);
	CHECK_EQ(parse_exact(f, 14 + 7, &pf), -EINVAL);
	CHECK_EQ(gp_build_arp(f, 59, bcast, &a), -ENOSPC);
}

static void test_arp_reply_from_server(void)
{
	uint8_t f[60] = { 0 };
	struct gp_frame pf;

	memcpy(f, client_mac, 6);
	memcpy(f + 6, server_mac, 6);
	w16(f + 12, 0x0806);
	w16(f + 14, 1);
	w16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	w16(f + 20, 2);
	memcpy(f + 22, server_mac, 6);
	w32(f + 28, IP(10, 0, 2, 2));
	memcpy(f + 32, client_mac, 6);
	w32(f + 38, IP(10, 0, 2, 15));
	CHECK_EQ(parse_exact(f, 42, &pf), GP_KIND_ARP);
	CHECK_EQ(pf.arp.op, GP_ARP_REPLY);
	CHECK(!memcmp(pf.arp.sha, server_mac, 6));
	CHECK_EQ(pf.arp.spa, IP(10, 0, 2, 2));
	f[18] = 8;                         /* not IPv4 over Ethernet */
	CHECK_EQ(parse_exact(f, 42, &pf), GP_KIND_OTHER);
}

static void test_echo_roundtrip(void)
{
	uint8_t data[56], f[256];
	struct gp_echo_msg m = {
		.type = GP_ICMP_ECHO_REQUEST, .src_ip = IP(10, 0, 2, 15),
		.dst_ip = IP(10, 0, 2, 2), .ip_id = 7, .id = 0x4242, .seq = 3,
		.data = data, .data_len = sizeof(data),
	};
	struct gp_frame pf;
	ssize_t len;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	memcpy(m.src_mac, client_mac, 6);
	memcpy(m.dst_mac, server_mac, 6);
	len = gp_build_echo(f, sizeof(f), &m);
	CHECK_EQ(len, 14 + 20 + 8 + 56);
	CHECK_EQ(naive_csum(f + 14, 20), 0);
	CHECK_EQ(naive_csum(f + 34, 64), 0);
	CHECK_EQ(gp_parse_frame(f, (size_t)len, &pf), GP_KIND_ICMP);
	CHECK_EQ(pf.icmp.type, GP_ICMP_ECHO_REQUEST);
	CHECK_EQ(pf.icmp.id, 0x4242);
	CHECK_EQ(pf.icmp.seq, 3);
	CHECK_EQ(pf.icmp.data_len, 56);
	CHECK(pf.icmp.data_len == 56 && !memcmp(pf.icmp.data, data, 56));
	CHECK_EQ(pf.ip.src, IP(10, 0, 2, 15));
	CHECK_EQ(pf.ip.dst, IP(10, 0, 2, 2));
	CHECK_EQ(pf.ip.ttl, 64);
	f[60] ^= 0x10;                     /* payload bit flip */
	CHECK_EQ(parse_exact(f, (size_t)len, &pf), -EBADMSG);
	CHECK_EQ(gp_build_echo(f, (size_t)len - 1, &m), -ENOSPC);
	m.data_len = 65535 - 28 + 1;
	CHECK_EQ(gp_build_echo(f, sizeof(f), &m), -EINVAL);
}

static void test_echo_reply_by_hand(void)
{
	uint8_t f[14 + 20 + 8 + 4];
	uint8_t *ip = put_eth_ip(f, client_mac, server_mac, 1, IP(10, 0, 2, 2),
				 IP(10, 0, 2, 15), 32);
	uint8_t *icmp = ip + 20;
	struct gp_frame pf;

	memset(icmp, 0, 12);
	w16(icmp + 4, 0x4242);
	w16(icmp + 6, 1);
	memcpy(icmp + 8, "ping", 4);
	w16(icmp + 2, naive_csum(icmp, 12));
	CHECK_EQ(parse_exact(f, sizeof(f), &pf), GP_KIND_ICMP);
	CHECK_EQ(pf.icmp.type, GP_ICMP_ECHO_REPLY);
	CHECK_EQ(pf.icmp.seq, 1);
	CHECK_EQ(pf.ip.ttl, 255);
	w16(ip + 2, 20 + 7);               /* ICMP shorter than its header */
	w16(ip + 10, 0);
	w16(ip + 10, naive_csum(ip, 20));
	CHECK_EQ(parse_exact(f, sizeof(f), &pf), -EINVAL);
}

static void test_random_mutations(void)
{
	uint8_t f[1024], m[1024];
	size_t len = build_reply(f, offer_opts, sizeof(offer_opts), 0);
	unsigned seed = 12345;
	struct gp_frame pf;

	for (int i = 0; i < 20000; i++) {
		size_t l = len;

		memcpy(m, f, len);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			m[(seed >> 8) % len] = (uint8_t)(seed >> 20);
		}
		if (i % 3 == 0)
			l = (seed >> 4) % (len + 1);
		parse_exact(m, l, &pf);
	}
	CHECK(1);
}

static void test_mac_text(void)
{
	uint8_t mac[6];
	char s[18];

	CHECK_EQ(gp_parse_mac("52:54:00:12:34:56", mac), 0);
	CHECK(!memcmp(mac, client_mac, 6));
	CHECK_EQ(gp_parse_mac("52:55:0A:00:02:02", mac), 0);
	CHECK_STR_CONTAINS(gp_format_mac(mac, s), "52:55:0a:00:02:02");
	CHECK_EQ(gp_parse_mac("", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("52:54:00:12:34", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("52:54:00:12:34:5", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("52:54:00:12:34:567", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("52-54-00-12-34-56", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("zz:54:00:12:34:56", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("01:00:5e:00:00:01", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("00:00:00:00:00:00", mac), -EINVAL);
	CHECK_EQ(gp_parse_mac("ff:ff:ff:ff:ff:ff", mac), -EINVAL);
}

static void test_ip_text_and_prefix(void)
{
	char s[16];

	CHECK(!strcmp(gp_format_ip(IP(10, 0, 2, 15), s), "10.0.2.15"));
	CHECK(!strcmp(gp_format_ip(0xffffffffu, s), "255.255.255.255"));
	CHECK_EQ(gp_mask_prefix(IP(255, 255, 255, 0)), 24);
	CHECK_EQ(gp_mask_prefix(0), 0);
	CHECK_EQ(gp_mask_prefix(0xffffffffu), 32);
	CHECK_EQ(gp_mask_prefix(IP(255, 255, 0, 255)), -1);
	CHECK_EQ(gp_mask_prefix(IP(0, 255, 255, 255)), -1);
}

int main(void)
{
	RUN(test_csum_rfc1071);
	RUN(test_csum_ipv4_header);
	RUN(test_csum_odd_and_carry);
	RUN(test_build_discover);
	RUN(test_build_request);
	RUN(test_build_dhcp_errors);
	RUN(test_parse_offer);
	RUN(test_parse_ack_minimal);
	RUN(test_udp_csum_zero_accepted);
	RUN(test_bad_options);
	RUN(test_bad_headers);
	RUN(test_udp_len_too_small);
	RUN(test_truncations_rejected);
	RUN(test_arp_roundtrip);
	RUN(test_arp_reply_from_server);
	RUN(test_echo_roundtrip);
	RUN(test_echo_reply_by_hand);
	RUN(test_random_mutations);
	RUN(test_mac_text);
	RUN(test_ip_text_and_prefix);
	return harness_done();
}
