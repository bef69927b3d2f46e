/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vxlan.h - the socket-free part of the VXLAN backend (vxlan_proto.c): header
 * build and validation (RFC 7348), the MAC learning table with aging, and
 * the mapping of a datagram's source to the VTEP frames are sent back to.
 *
 * These functions do no I/O, no allocation and no clock reads, so the unit
 * tests and the libFuzzer harness (tests/fuzz/fuzz-vxlan.c) drive exactly
 * the code the backend runs on every received datagram.
 */
#ifndef NETBE_VXLAN_H
#define NETBE_VXLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define VXLAN_HDR_LEN 8
#define VXLAN_FLAG_I 0x08          /* "the VNI is valid" - the only flag */
#define VXLAN_VNI_MAX 0xffffffu
#define VXLAN_ETH_HLEN 14
#define VXLAN_FDB_MAX 4096         /* learned MACs at most */
#define VXLAN_FDB_BUCKETS 8192     /* power of two */
#define VXLAN_FDB_NONE 0xffffu     /* "no entry" index */

/* A VTEP's UDP endpoint, IPv4 or IPv6. */
union vxlan_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Why a received datagram was refused (VXLAN_RX_OK: accepted). */
enum vxlan_rx_verdict {
	VXLAN_RX_OK,
	VXLAN_RX_SHORT,        /* shorter than the header + an Ethernet header */
	VXLAN_RX_FLAGS,        /* I flag missing, or a reserved flag set */
	VXLAN_RX_RESERVED,     /* a reserved field is not zero */
	VXLAN_RX_VNI,          /* another VNI */
};

struct vxlan_fdb_entry {
	uint8_t mac[6];
	uint16_t chain;            /* next entry in the hash bucket */
	uint16_t older, newer;     /* LRU list, by last time seen */
	bool used;
	uint64_t seen_ns;
	union vxlan_addr vtep;
};

/*
 * The learning table: a hash of MAC -> VTEP with chaining, plus a list
 * ordered by the time each MAC was last seen. The oldest entries expire
 * from the tail of that list; when the table is full the oldest entry is
 * evicted to make room, so a flood of new source MACs can only push out
 * entries that have been idle the longest.
 */
struct vxlan_fdb {
	uint64_t age_ns;
	uint64_t seed;             /* hash key: bucket choice is not guessable */
	unsigned count;
	uint16_t newest, oldest, free_head;
	uint16_t bucket[VXLAN_FDB_BUCKETS];
	struct vxlan_fdb_entry e[VXLAN_FDB_MAX];
};

/** vxlan_hdr_build() - the 8-byte header for @vni (I flag, zero reserved). */
void vxlan_hdr_build(uint8_t hdr[VXLAN_HDR_LEN], uint32_t vni);

/**
 * vxlan_hdr_check() - validate a received datagram of @dgram_len bytes
 * whose first 8 bytes are @hdr (only read when @dgram_len allows it)
 * Return: VXLAN_RX_OK, or why it must be dropped.
 */
enum vxlan_rx_verdict vxlan_hdr_check(const uint8_t *hdr, size_t dgram_len,
				      uint32_t vni);

/** vxlan_addr_equal() - same family, address, port (and IPv6 scope).
 * Return: true when equal. */
bool vxlan_addr_equal(const union vxlan_addr *a, const union vxlan_addr *b);

/**
 * vxlan_vtep_resolve() - where to send frames for a MAC learned from a
 * datagram with source @src: the configured remote with the same address
 * and port, else the first with the same address (kernels send from a
 * hashed source port), else @src's address with destination @port.
 * Return: false when @src is not IPv4/IPv6 (nothing to learn).
 */
bool vxlan_vtep_resolve(const union vxlan_addr *remotes, unsigned nremotes,
			const union vxlan_addr *src, uint16_t port,
			union vxlan_addr *out);

/** vxlan_fdb_init() - empty @fdb; entries live @age_ns after last seen. */
void vxlan_fdb_init(struct vxlan_fdb *fdb, uint64_t age_ns, uint64_t seed);

/**
 * vxlan_fdb_learn() - record that @mac was seen behind @vtep at @now_ns
 * Group (multicast/broadcast) and all-zero MACs are not learned.
 * Return: true when the table changed (new MAC or moved), false otherwise.
 */
bool vxlan_fdb_learn(struct vxlan_fdb *fdb, const uint8_t mac[6],
		     const union vxlan_addr *vtep, uint64_t now_ns);

/**
 * vxlan_fdb_lookup() - the VTEP behind unicast @mac at @now_ns; an entry
 * past its age is removed instead.
 * Return: true and *@vtep set when known.
 */
bool vxlan_fdb_lookup(struct vxlan_fdb *fdb, const uint8_t mac[6],
		      uint64_t now_ns, union vxlan_addr *vtep);

/** vxlan_fdb_expire() - remove every entry past its age at @now_ns.
 * Return: the number removed. */
unsigned vxlan_fdb_expire(struct vxlan_fdb *fdb, uint64_t now_ns);

/**
 * vxlan_rx_accept() - everything done to one received datagram before its
 * frame is delivered: check the header, then learn the inner source MAC
 * behind the VTEP the datagram came from
 * @hdr: the datagram's first 8 bytes; @eth: the inner frame's first 12
 * bytes (destination and source MAC), read only when the verdict is OK
 * Return: the verdict (the MAC is learned only on VXLAN_RX_OK).
 */
enum vxlan_rx_verdict vxlan_rx_accept(struct vxlan_fdb *fdb, uint32_t vni,
				      const union vxlan_addr *remotes,
				      unsigned nremotes, uint16_t port,
				      const uint8_t *hdr, size_t dgram_len,
				      const uint8_t *eth,
				      const union vxlan_addr *src,
				      uint64_t now_ns);

#endif /* NETBE_VXLAN_H */
