/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen-offload-corpus.c - write the seed corpus of fuzz-offload into a
 * directory: meaningful frames (TSO over IPv4/IPv6, USO, UFO, VLAN tags,
 * IPv6 extension headers, NEEDS_CSUM only, receive direction, partial
 * checksums) and a few malformed ones. The files are committed in
 * tests/fuzz/corpus/offload; rerun after changing the input format:
 *   build/tests/gen-offload-corpus tests/fuzz/corpus/offload
 * Input format (see fuzz-offload.c): options byte, 10-byte header, frame.
 */
#include <stdio.h>

#include "offload-frames.h"

#define OPT_RX 1
#define OPT_PARTIAL 2

static uint8_t buf[70000];

/* Write one seed. Return: 0, or -1 on an I/O error. */
static int seed(const char *dir, const char *name, const struct fb *o,
		uint8_t opts, void (*spoil)(uint8_t *f, struct netbe_vnet_hdr *h,
					    size_t *len))
{
	struct netbe_vnet_hdr h;
	size_t len = fb_build(buf + 11, o, &h, NULL);
	char path[4096];
	FILE *f;
	int rc;

	if (spoil)
		spoil(buf + 11, &h, &len);
	buf[0] = opts;
	fb_encode_vnet(buf + 1, &h);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	rc = fwrite(buf, 1, len + 11, f) == len + 11 ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

static void bad_ihl(uint8_t *f, struct netbe_vnet_hdr *h, size_t *len)
{
	(void)h; (void)len;
	f[14] = 0x43;
}

static void tcp_type_on_udp(uint8_t *f, struct netbe_vnet_hdr *h, size_t *len)
{
	(void)f; (void)len;
	h->gso_type = NETBE_GSO_TCPV4;
}

static void ext_overrun(uint8_t *f, struct netbe_vnet_hdr *h, size_t *len)
{
	(void)h; (void)len;
	f[14 + 41] = 250;
}

static void pad_small(uint8_t *f, struct netbe_vnet_hdr *h, size_t *len)
{
	(void)h;
	memset(f + *len, 0xa5, 60 - *len);
	*len = 60;
}

static void not_ip(uint8_t *f, struct netbe_vnet_hdr *h, size_t *len)
{
	(void)h;
	fb_put16(f + 12, 0x0806);
	*len = 42;
}

int main(int argc, char **argv)
{
	const struct { const char *name; struct fb o; uint8_t opts;
		       void (*spoil)(uint8_t *, struct netbe_vnet_hdr *, size_t *); } s[] = {
		{ "tso4", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 3000,
			    .tcp_flags = 0x99, .gso_type = NETBE_GSO_TCPV4,
			    .gso_size = 1448 }, 0, NULL },
		{ "tso4-vlan-opts-ecn", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 2000,
			    .ntags = 1, .tcp_opt = 12, .tcp_flags = 0x90,
			    .gso_type = NETBE_GSO_TCPV4 | NETBE_GSO_ECN,
			    .gso_size = 536 }, 0, NULL },
		{ "tso4-rx-partial", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 1500,
			    .gso_type = NETBE_GSO_TCPV4, .gso_size = 500 },
			    OPT_RX | OPT_PARTIAL, NULL },
		{ "tso6-ext-qinq", { .ipv = 6, .proto = IPPROTO_TCP, .paylen = 2500,
			    .ntags = 2, .ip6_ext = 2, .gso_type = NETBE_GSO_TCPV6,
			    .gso_size = 1000 }, 0, NULL },
		{ "uso4", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 3000,
			    .gso_type = NETBE_GSO_UDP_L4, .gso_size = 1200 }, 0, NULL },
		{ "uso6-partial", { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 2999,
			    .gso_type = NETBE_GSO_UDP_L4, .gso_size = 1000 },
			    OPT_PARTIAL, NULL },
		{ "ufo4", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 3500,
			    .ip_id = 99, .gso_type = NETBE_GSO_UDP, .gso_size = 1480 }, 0, NULL },
		{ "ufo6-hbh", { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 3500,
			    .ip6_ext = 1, .gso_type = NETBE_GSO_UDP, .gso_size = 1232 },
			    OPT_RX, NULL },
		{ "csum-tcp4", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 333 }, 0, NULL },
		{ "csum-udp6-vlan", { .ipv = 6, .proto = IPPROTO_UDP, .paylen = 100,
			    .ntags = 1 }, OPT_RX, NULL },
		{ "csum-udp4-padded", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 3 },
			    0, pad_small },
		{ "bad-ihl", { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 3000,
			    .gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 }, 0, bad_ihl },
		{ "bad-type", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 3000,
			    .gso_type = NETBE_GSO_UDP_L4, .gso_size = 1448 }, 0,
			    tcp_type_on_udp },
		{ "bad-ext", { .ipv = 6, .proto = IPPROTO_TCP, .paylen = 3000,
			    .ip6_ext = 2, .gso_type = NETBE_GSO_TCPV6,
			    .gso_size = 1448 }, OPT_RX, ext_overrun },
		/* the receiver's limit in bits 2-7 of the options byte */
		{ "tso4-16000-into-4096", { .ipv = 4, .proto = IPPROTO_TCP,
			    .paylen = 20000, .gso_type = NETBE_GSO_TCPV4,
			    .gso_size = 16000 }, 4 << 2, NULL },
		{ "ufo6-64k-grows", { .ipv = 6, .proto = IPPROTO_UDP,
			    .paylen = 65489, .gso_type = NETBE_GSO_UDP,
			    .gso_size = 65496 }, 0, NULL },
		{ "uso4-tiny-limit", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 8000,
			    .gso_type = NETBE_GSO_UDP_L4, .gso_size = 2000 },
			    2 << 2, NULL },
		{ "tso6-under-headers", { .ipv = 6, .proto = IPPROTO_TCP,
			    .paylen = 3000, .gso_type = NETBE_GSO_TCPV6,
			    .gso_size = 1448 }, 1 << 2, NULL },
		{ "plain-arp", { .ipv = 4, .proto = IPPROTO_UDP, .paylen = 0,
			    .no_csum = true }, 0, not_ip },
	};
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-offload-corpus DIR\n");
		return 2;
	}
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (seed(argv[1], s[i].name, &s[i].o, s[i].opts, s[i].spoil) < 0) {
			perror(s[i].name);
			return 1;
		}
	return 0;
}
