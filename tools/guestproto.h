/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * guestproto.h - the few guest protocols `netbe probe` speaks, as pure
 * functions: build and parse Ethernet, ARP, IPv4, UDP, DHCP and ICMP echo
 * frames, and the internet checksum. Nothing here does I/O or keeps state,
 * so everything is unit-tested on byte buffers.
 *
 * Conventions: IPv4 addresses are uint32_t in host byte order (10.0.2.15 is
 * 0x0a00020f); MAC addresses are 6-byte arrays. Builders write a complete
 * Ethernet frame (padded to the 60-byte minimum) and return its length, or
 * -ENOSPC when the buffer is too small. Parsers treat their input as
 * hostile: every length is checked before the field it covers is read.
 */
#ifndef NETBE_GUESTPROTO_H
#define NETBE_GUESTPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GP_ETH_ALEN 6
#define GP_ETH_HLEN 14
#define GP_ETH_ZLEN 60                 /* shortest frame, without FCS */
#define GP_ETHERTYPE_IPV4 0x0800
#define GP_ETHERTYPE_ARP 0x0806

#define GP_IPV4_HLEN 20
#define GP_UDP_HLEN 8
#define GP_ICMP_HLEN 8
#define GP_ARP_LEN 28
#define GP_IPPROTO_ICMP 1
#define GP_IPPROTO_UDP 17

#define GP_ARP_REQUEST 1
#define GP_ARP_REPLY 2

#define GP_ICMP_ECHO_REPLY 0
#define GP_ICMP_ECHO_REQUEST 8

#define GP_DHCP_SERVER_PORT 67
#define GP_DHCP_CLIENT_PORT 68
#define GP_BOOTP_FIXED_LEN 236         /* op .. file, before the cookie */
#define GP_BOOTP_VEND_LEN 312          /* cookie + options, as sent */
#define GP_BOOTP_LEN (GP_BOOTP_FIXED_LEN + GP_BOOTP_VEND_LEN)
/* What gp_build_dhcp() writes: 590 bytes, a 576-byte IP datagram. */
#define GP_DHCP_FRAME_LEN (GP_ETH_HLEN + GP_IPV4_HLEN + GP_UDP_HLEN + GP_BOOTP_LEN)

#define GP_IP_BROADCAST 0xffffffffu

enum gp_dhcp_type {
	GP_DHCP_DISCOVER = 1,
	GP_DHCP_OFFER = 2,
	GP_DHCP_REQUEST = 3,
	GP_DHCP_DECLINE = 4,
	GP_DHCP_ACK = 5,
	GP_DHCP_NAK = 6,
	GP_DHCP_RELEASE = 7,
	GP_DHCP_INFORM = 8,
};

/* Which optional fields a parsed DHCP reply carried (gp_dhcp_reply.have). */
#define GP_HAVE_SERVER_ID 0x01u
#define GP_HAVE_MASK      0x02u
#define GP_HAVE_ROUTER    0x04u
#define GP_HAVE_DNS       0x08u
#define GP_HAVE_LEASE     0x10u

/* A DHCP client message: DISCOVER or REQUEST, always broadcast. */
struct gp_dhcp_msg {
	uint8_t type;                  /* GP_DHCP_DISCOVER or GP_DHCP_REQUEST */
	uint32_t xid;
	uint16_t secs;
	uint8_t mac[GP_ETH_ALEN];
	uint32_t requested_ip;         /* option 50; 0 leaves it out */
	uint32_t server_id;            /* option 54; 0 leaves it out */
};

/* What a server's BOOTREPLY said. Fields not in @have are 0. */
struct gp_dhcp_reply {
	uint8_t type;                  /* option 53; 0 for plain BOOTP */
	uint32_t xid;
	uint8_t chaddr[GP_ETH_ALEN];
	uint32_t yiaddr, siaddr;
	uint32_t server_id, mask, router, dns;  /* router, dns: the first one */
	uint32_t lease_time;           /* seconds */
	unsigned have;                 /* GP_HAVE_* */
};

/* An IPv4-over-Ethernet ARP packet. */
struct gp_arp {
	uint16_t op;                   /* GP_ARP_REQUEST or GP_ARP_REPLY */
	uint8_t sha[GP_ETH_ALEN];
	uint32_t spa;
	uint8_t tha[GP_ETH_ALEN];
	uint32_t tpa;
};

/* A parsed ICMP message; id and seq are meaningful for echo types only. */
struct gp_icmp {
	uint8_t type, code;
	uint16_t id, seq;
	const uint8_t *data;           /* after the 8-byte header */
	size_t data_len;
};

/* An ICMP echo request or reply to build. */
struct gp_echo_msg {
	uint8_t type;                  /* GP_ICMP_ECHO_REQUEST or _REPLY */
	uint8_t src_mac[GP_ETH_ALEN], dst_mac[GP_ETH_ALEN];
	uint32_t src_ip, dst_ip;
	uint16_t ip_id, id, seq;
	const uint8_t *data;           /* echo payload, may be NULL if 0 long */
	size_t data_len;
};

/* A parsed IPv4 header. */
struct gp_ipv4 {
	uint32_t src, dst;
	uint8_t proto, ttl;
	int fragment;                  /* non-zero: MF set or offset != 0 */
	const uint8_t *payload;        /* trailing Ethernet padding excluded */
	size_t payload_len;
};

/* A parsed UDP header. */
struct gp_udp {
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t payload_len;
};

enum gp_kind {
	GP_KIND_OTHER = 0,             /* well formed, nothing probe handles */
	GP_KIND_ARP,
	GP_KIND_DHCP,                  /* UDP 67 -> 68 BOOTREPLY */
	GP_KIND_ICMP,
};

/* A classified frame: eth always, ip for DHCP and ICMP, then one of
 * arp / dhcp / icmp according to the kind. */
struct gp_frame {
	uint8_t dst[GP_ETH_ALEN], src[GP_ETH_ALEN];
	uint16_t ethertype;
	struct gp_ipv4 ip;
	struct gp_arp arp;
	struct gp_dhcp_reply dhcp;
	struct gp_icmp icmp;
};

/* ---- checksums ---- */

/**
 * gp_csum_add() - add @len bytes to a running ones' complement sum as
 * big-endian 16-bit words; an odd last byte is padded with zero, so only
 * the last chunk of a sum may have an odd length.
 * Return: the new partial sum (already partly folded, < 0x20000).
 */
uint32_t gp_csum_add(uint32_t sum, const void *data, size_t len);

/** gp_csum_fold() - Return: the internet checksum of a partial sum: the
 * ones' complement of its 16-bit fold. */
uint16_t gp_csum_fold(uint32_t sum);

/** gp_inet_csum() - Return: the RFC 1071 checksum of @data; 0 when @data
 * already contains a correct checksum field. */
uint16_t gp_inet_csum(const void *data, size_t len);

/* ---- builders ---- */

/**
 * gp_build_dhcp() - a broadcast DHCP client frame (Ethernet, IPv4 from
 * 0.0.0.0 to 255.255.255.255, UDP 68 -> 67, BOOTREQUEST), options padded to
 * the classic 312-byte area. Return: GP_DHCP_FRAME_LEN, -ENOSPC, or
 * -EINVAL for a type other than DISCOVER or REQUEST.
 */
ssize_t gp_build_dhcp(uint8_t *buf, size_t cap, const struct gp_dhcp_msg *m);

/**
 * gp_build_arp() - an ARP frame from @a->sha to @eth_dst (broadcast for a
 * request). Return: the frame length (60), or -ENOSPC.
 */
ssize_t gp_build_arp(uint8_t *buf, size_t cap, const uint8_t eth_dst[GP_ETH_ALEN],
		     const struct gp_arp *a);

/**
 * gp_build_echo() - an ICMP echo request or reply in IPv4 (TTL 64, DF).
 * Return: the frame length, -ENOSPC, or -EINVAL when the payload does not
 * fit an IPv4 datagram.
 */
ssize_t gp_build_echo(uint8_t *buf, size_t cap, const struct gp_echo_msg *m);

/* ---- parsers: 0 or a kind on success, -EINVAL for a truncated or
 * inconsistent packet, -EBADMSG for a wrong checksum ---- */

/** gp_parse_ipv4() - parse and verify an IPv4 header (options skipped).
 * Return: 0, -EINVAL or -EBADMSG. */
int gp_parse_ipv4(const uint8_t *p, size_t len, struct gp_ipv4 *ip);

/** gp_parse_udp() - parse a UDP header inside @ip and verify its checksum
 * when it is not 0. Return: 0, -EINVAL or -EBADMSG. */
int gp_parse_udp(const struct gp_ipv4 *ip, struct gp_udp *udp);

/** gp_parse_dhcp() - parse a BOOTREPLY (UDP payload) and the options probe
 * needs. Return: 0, or -EINVAL (not a BOOTREPLY for Ethernet, no magic
 * cookie, an option running past the end or with a wrong length). */
int gp_parse_dhcp(const uint8_t *p, size_t len, struct gp_dhcp_reply *r);

/** gp_parse_arp() - parse an ARP packet (Ethernet payload).
 * Return: 0, 1 when well formed but not IPv4 over Ethernet, or -EINVAL. */
int gp_parse_arp(const uint8_t *p, size_t len, struct gp_arp *a);

/** gp_parse_icmp() - parse an ICMP message (IPv4 payload) and verify its
 * checksum. Return: 0, -EINVAL or -EBADMSG. */
int gp_parse_icmp(const uint8_t *p, size_t len, struct gp_icmp *icmp);

/**
 * gp_parse_frame() - parse an Ethernet frame as far as probe cares.
 * Return: an enum gp_kind (>= 0; GP_KIND_OTHER for VLAN, IPv6, fragments,
 * other protocols and ports), or -EINVAL / -EBADMSG for a malformed frame.
 */
int gp_parse_frame(const uint8_t *frame, size_t len, struct gp_frame *f);

/* ---- text ---- */

/** gp_parse_mac() - "52:54:00:12:34:56" into @mac. Return: 0, or -EINVAL
 * for bad syntax or a multicast / all-zero address. */
int gp_parse_mac(const char *s, uint8_t mac[GP_ETH_ALEN]);

/** gp_format_mac() - Return: @out, holding "aa:bb:cc:dd:ee:ff". */
char *gp_format_mac(const uint8_t mac[GP_ETH_ALEN], char out[18]);

/** gp_format_ip() - Return: @out, holding the dotted quad of @ip. */
char *gp_format_ip(uint32_t ip, char out[16]);

/** gp_mask_prefix() - Return: the prefix length of a netmask, or -1 when
 * its one bits are not contiguous. */
int gp_mask_prefix(uint32_t mask);

#endif /* NETBE_GUESTPROTO_H */
