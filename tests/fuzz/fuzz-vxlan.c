/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-vxlan.c - libFuzzer target for what the VXLAN backend does with a
 * received datagram: header validation and MAC learning (vxlan_proto.c),
 * then the send-side lookup of the inner destination.
 *
 * Input: a sequence of records, each
 *   byte 0: bits 0-1 pick the datagram's source (0: configured remote 0,
 *           1: remote 0's address from another port, 2: an IPv4 address
 *           from the next record byte, 3: an IPv6 address likewise);
 *           bits 2-7 advance the clock by that many seconds (age is 5 s)
 *   byte 1: the source selector byte
 *   bytes 2-3: datagram length (big-endian, clamped to what is left)
 *   then the datagram.
 * Each datagram is copied into a buffer of exactly its size, so ASan
 * catches any read past it. Invariants (abort when broken):
 *  - the verdict equals an independent reading of RFC 7348 + Linux rules;
 *  - an accepted datagram's unicast, non-zero source MAC is then found,
 *    behind the VTEP vxlan_vtep_resolve() names;
 *  - the table never holds more than VXLAN_FDB_MAX entries, and its age
 *    list and hash chains agree with its count.
 * Built with -fsanitize=fuzzer for real fuzzing, and with replay.c so the
 * seed corpus (tests/fuzz/corpus/vxlan) runs in every test run.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vxlan.h"

#define VNI 0x123456
#define PORT 4789
#define AGE_NS 5000000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vxlan_fdb fdb;

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-vxlan: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* The configured remotes: 10.0.0.1:4789 and 10.0.0.2:4789. */
static union vxlan_addr remotes[2];

static void init_remotes(void)
{
	unsigned i;

	memset(remotes, 0, sizeof(remotes));
	for (i = 0; i < 2; i++) {
		remotes[i].in.sin_family = AF_INET;
		remotes[i].in.sin_addr.s_addr = htonl(0x0a000001 + i);
		remotes[i].in.sin_port = htons(PORT);
	}
}

/* The source address a record asks for. */
static union vxlan_addr pick_source(uint8_t how, uint8_t sel)
{
	union vxlan_addr a = remotes[0];

	switch (how & 3) {
	case 1:
		a.in.sin_port = htons((uint16_t)(40000 + sel));
		break;
	case 2:
		a.in.sin_addr.s_addr = htonl(0x0a000100 + sel);
		a.in.sin_port = htons((uint16_t)(30000 + sel));
		break;
	case 3:
		memset(&a, 0, sizeof(a));
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_addr.s6_addr[0] = 0xfd;
		a.in6.sin6_addr.s6_addr[15] = sel;
		a.in6.sin6_port = htons(PORT);
		break;
	}
	return a;
}

/* The verdict, read straight from the RFC and the Linux rules. */
static enum vxlan_rx_verdict reference(const uint8_t *d, size_t len)
{
	if (len < VXLAN_HDR_LEN + VXLAN_ETH_HLEN)
		return VXLAN_RX_SHORT;
	if (d[0] != 0x08)
		return VXLAN_RX_FLAGS;
	if (d[1] | d[2] | d[3] | d[7])
		return VXLAN_RX_RESERVED;
	if (d[4] != 0x12 || d[5] != 0x34 || d[6] != 0x56)
		return VXLAN_RX_VNI;
	return VXLAN_RX_OK;
}

/* The age list and the hash chains both hold exactly fdb.count entries. */
static void check_table(void)
{
	unsigned n = 0, b, chained = 0;
	uint16_t i, prev = VXLAN_FDB_NONE;

	ASSERT(fdb.count <= VXLAN_FDB_MAX);
	for (i = fdb.newest; i != VXLAN_FDB_NONE; i = fdb.e[i].older) {
		ASSERT(fdb.e[i].used);
		ASSERT(fdb.e[i].newer == prev);
		ASSERT(++n <= VXLAN_FDB_MAX);
		prev = i;
	}
	ASSERT(prev == fdb.oldest);
	ASSERT(n == fdb.count);
	for (b = 0; b < VXLAN_FDB_BUCKETS; b++)
		for (i = fdb.bucket[b]; i != VXLAN_FDB_NONE; i = fdb.e[i].chain) {
			ASSERT(fdb.e[i].used);
			ASSERT(++chained <= n);
		}
	ASSERT(chained == n);
}

/* Run one datagram through accept + learn + lookup at @now. */
static void one_datagram(const uint8_t *d, size_t len, const union vxlan_addr *src,
			 uint64_t now)
{
	static const uint8_t zero[6];
	enum vxlan_rx_verdict v, want = reference(d, len);
	union vxlan_addr vtep, expect;
	const uint8_t *eth = d + VXLAN_HDR_LEN;

	v = vxlan_rx_accept(&fdb, VNI, remotes, 2, PORT, d, len,
			    len >= VXLAN_HDR_LEN ? eth : NULL, src, now);
	ASSERT(v == want);
	if (v != VXLAN_RX_OK)
		return;
	if (!(eth[6] & 1) && memcmp(eth + 6, zero, 6)) {
		ASSERT(vxlan_vtep_resolve(remotes, 2, src, PORT, &expect));
		ASSERT(vxlan_fdb_lookup(&fdb, eth + 6, now, &vtep));
		ASSERT(vxlan_addr_equal(&vtep, &expect));
	}
	if (!(eth[0] & 1))
		(void)vxlan_fdb_lookup(&fdb, eth, now, &vtep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1;
	size_t off = 0;

	init_remotes();
	vxlan_fdb_init(&fdb, AGE_NS, 0x5eed);
	while (size - off >= 4) {
		uint8_t how = data[off], sel = data[off + 1];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		union vxlan_addr src = pick_source(how, sel);
		uint8_t *d;

		off += 4;
		if (len > size - off)
			len = size - off;
		now += (uint64_t)(how >> 2) * 1000000000ull;
		d = malloc(len ? len : 1);
		ASSERT(d);
		memcpy(d, data + off, len);
		one_datagram(d, len, &src, now);
		free(d);
		off += len;
	}
	vxlan_fdb_expire(&fdb, now);
	check_table();
	return 0;
}
