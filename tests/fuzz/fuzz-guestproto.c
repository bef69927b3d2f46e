/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-guestproto.c - libFuzzer target for the parsers `netbe probe` runs
 * on what a (possibly hostile) network answers: DHCP, ARP, ICMP.
 *
 * Input: one Ethernet frame. The target runs gp_parse_frame() and checks
 * its verdict, aborting on a broken invariant:
 *  - the result is a gp_kind or -EINVAL / -EBADMSG, nothing else;
 *  - for DHCP and ICMP the IPv4 header verifies with an independent
 *    checksum, is not a fragment, and every pointer it returns (IP, UDP,
 *    ICMP payloads) lies inside the frame;
 *  - an ICMP message's checksum verifies over exactly the bytes reported;
 *  - a DHCP reply is a BOOTREPLY from port 67 to 68, and option-derived
 *    fields are zero unless their GP_HAVE_* bit is set.
 * Parsing the same frame twice gives the same answer (no hidden state).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-guestproto: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* Return: whether [@p, @p + @len) lies inside [@base, @base + @size). */
static bool inside(const uint8_t *p, size_t len, const uint8_t *base, size_t size)
{
	return p >= base && p <= base + size && len <= (size_t)(base + size - p);
}

/* Reference ones' complement sum, big-endian words, byte by byte.
 * Return: the folded sum. */
static uint16_t ref_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void check_ip(const struct gp_frame *f, const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + GP_ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;

	ASSERT(len >= GP_ETH_HLEN + GP_IPV4_HLEN && ihl >= GP_IPV4_HLEN);
	ASSERT(GP_ETH_HLEN + ihl <= len);
	ASSERT(ref_sum(ip, ihl) == 0xffff);
	ASSERT(!f->ip.fragment);
	ASSERT(inside(f->ip.payload, f->ip.payload_len, frame, len));
}

static void check_dhcp(const struct gp_dhcp_reply *r)
{
	if (!(r->have & GP_HAVE_SERVER_ID))
		ASSERT(r->server_id == 0);
	if (!(r->have & GP_HAVE_MASK))
		ASSERT(r->mask == 0);
	if (!(r->have & GP_HAVE_ROUTER))
		ASSERT(r->router == 0);
	if (!(r->have & GP_HAVE_DNS))
		ASSERT(r->dns == 0);
	if (!(r->have & GP_HAVE_LEASE))
		ASSERT(r->lease_time == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_frame f, again;
	int kind;

	memset(&f, 0, sizeof(f));
	kind = gp_parse_frame(data, size, &f);
	ASSERT(kind == -EINVAL || kind == -EBADMSG || kind == GP_KIND_OTHER ||
	       kind == GP_KIND_ARP || kind == GP_KIND_DHCP || kind == GP_KIND_ICMP);
	memset(&again, 0, sizeof(again));
	ASSERT(gp_parse_frame(data, size, &again) == kind);
	if (kind == GP_KIND_DHCP || kind == GP_KIND_ICMP)
		check_ip(&f, data, size);
	if (kind == GP_KIND_ICMP) {
		ASSERT(f.ip.proto == GP_IPPROTO_ICMP);
		ASSERT(inside(f.icmp.data, f.icmp.data_len, data, size));
		ASSERT(f.icmp.data == f.ip.payload + GP_ICMP_HLEN);
		ASSERT(f.icmp.data_len + GP_ICMP_HLEN == f.ip.payload_len);
		ASSERT(ref_sum(f.ip.payload, f.ip.payload_len) == 0xffff);
	}
	if (kind == GP_KIND_DHCP) {
		ASSERT(f.ip.proto == GP_IPPROTO_UDP);
		check_dhcp(&f.dhcp);
	}
	return 0;
}
