/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vxlan_proto.c - the socket-free part of the VXLAN backend (vxlan.h):
 * header build and validation, the MAC learning table with aging, and the
 * mapping from a datagram's source to the VTEP frames go back to.
 *
 * Theory of operation of the table: MAC -> VTEP entries live in a fixed
 * array of VXLAN_FDB_MAX, found through a hash keyed with a random seed
 * (chains cannot be aimed at one bucket by a peer choosing MACs) and
 * linked in a list ordered by when each MAC was last seen. Learning moves
 * an entry to the new end; expiry pops entries past their age from the old
 * end, lazily, whenever something is learned or looked up; a full table
 * evicts its oldest entry. So memory is fixed, every operation is O(1)
 * apart from the (short) hash chain, and no timer is needed.
 *
 * No I/O, no allocation, no clock: the caller passes the time. Compiled
 * into the library and, alone, into the fuzzer.
 */
#include <arpa/inet.h>
#include <string.h>

#include "vxlan.h"

void vxlan_hdr_build(uint8_t hdr[VXLAN_HDR_LEN], uint32_t vni)
{
	memset(hdr, 0, VXLAN_HDR_LEN);
	hdr[0] = VXLAN_FLAG_I;
	hdr[4] = (uint8_t)(vni >> 16);
	hdr[5] = (uint8_t)(vni >> 8);
	hdr[6] = (uint8_t)vni;
}

/*
 * RFC 7348 says receivers ignore the reserved bits. Like Linux, netbe
 * drops datagrams that set any instead: the VXLAN-GPE and GBP extensions
 * put a next-protocol and a policy id there, and a GPE datagram may not
 * carry Ethernet at all, so reading it as a frame would be wrong.
 */
enum vxlan_rx_verdict vxlan_hdr_check(const uint8_t *hdr, size_t dgram_len,
				      uint32_t vni)
{
	uint32_t got;

	if (dgram_len < VXLAN_HDR_LEN + VXLAN_ETH_HLEN)
		return VXLAN_RX_SHORT;
	if (hdr[0] != VXLAN_FLAG_I)
		return VXLAN_RX_FLAGS;
	if (hdr[1] || hdr[2] || hdr[3] || hdr[7])
		return VXLAN_RX_RESERVED;
	got = (uint32_t)hdr[4] << 16 | (uint32_t)hdr[5] << 8 | hdr[6];
	return got == vni ? VXLAN_RX_OK : VXLAN_RX_VNI;
}

/** vxlan_addr_same_host() - same family and IP address (ports ignored).
 * Return: true when equal. */
static bool vxlan_addr_same_host(const union vxlan_addr *a,
				 const union vxlan_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr,
			       sizeof(a->in6.sin6_addr)) &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id;
	return false;
}

bool vxlan_addr_equal(const union vxlan_addr *a, const union vxlan_addr *b)
{
	if (!vxlan_addr_same_host(a, b))
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port;
	return a->in6.sin6_port == b->in6.sin6_port;
}

bool vxlan_vtep_resolve(const union vxlan_addr *remotes, unsigned nremotes,
			const union vxlan_addr *src, uint16_t port,
			union vxlan_addr *out)
{
	unsigned i;

	if (src->sa.sa_family != AF_INET && src->sa.sa_family != AF_INET6)
		return false;
	for (i = 0; i < nremotes; i++)
		if (vxlan_addr_equal(&remotes[i], src)) {
			*out = remotes[i];
			return true;
		}
	for (i = 0; i < nremotes; i++)
		if (vxlan_addr_same_host(&remotes[i], src)) {
			*out = remotes[i];
			return true;
		}
	memset(out, 0, sizeof(*out));
	if (src->sa.sa_family == AF_INET) {
		out->in.sin_family = AF_INET;
		out->in.sin_addr = src->in.sin_addr;
		out->in.sin_port = htons(port);
	} else {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_addr = src->in6.sin6_addr;
		out->in6.sin6_scope_id = src->in6.sin6_scope_id;
		out->in6.sin6_port = htons(port);
	}
	return true;
}

/** fdb_hash() - the bucket of @mac, keyed by the table's seed.
 * Return: an index below VXLAN_FDB_BUCKETS. */
static unsigned fdb_hash(const struct vxlan_fdb *fdb, const uint8_t mac[6])
{
	uint64_t k = 0;
	unsigned i;

	for (i = 0; i < 6; i++)
		k = k << 8 | mac[i];
	k ^= fdb->seed;
	k *= 0x9e3779b97f4a7c15ull;
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ull;
	return (unsigned)(k >> 32) & (VXLAN_FDB_BUCKETS - 1);
}

void vxlan_fdb_init(struct vxlan_fdb *fdb, uint64_t age_ns, uint64_t seed)
{
	unsigned i;

	memset(fdb, 0, sizeof(*fdb));
	fdb->age_ns = age_ns;
	fdb->seed = seed;
	fdb->newest = fdb->oldest = VXLAN_FDB_NONE;
	for (i = 0; i < VXLAN_FDB_BUCKETS; i++)
		fdb->bucket[i] = VXLAN_FDB_NONE;
	for (i = 0; i < VXLAN_FDB_MAX; i++)
		fdb->e[i].chain = i + 1 < VXLAN_FDB_MAX ? (uint16_t)(i + 1) : VXLAN_FDB_NONE;
	fdb->free_head = 0;
}

/** fdb_find() - the entry of @mac. Return: its index or VXLAN_FDB_NONE. */
static uint16_t fdb_find(const struct vxlan_fdb *fdb, const uint8_t mac[6])
{
	uint16_t i = fdb->bucket[fdb_hash(fdb, mac)];

	while (i != VXLAN_FDB_NONE && memcmp(fdb->e[i].mac, mac, 6))
		i = fdb->e[i].chain;
	return i;
}

/** fdb_lru_unlink() - take entry @i out of the age list. */
static void fdb_lru_unlink(struct vxlan_fdb *fdb, uint16_t i)
{
	struct vxlan_fdb_entry *e = &fdb->e[i];

	if (e->newer != VXLAN_FDB_NONE)
		fdb->e[e->newer].older = e->older;
	else
		fdb->newest = e->older;
	if (e->older != VXLAN_FDB_NONE)
		fdb->e[e->older].newer = e->newer;
	else
		fdb->oldest = e->newer;
}

/** fdb_lru_push() - make entry @i the most recently seen. */
static void fdb_lru_push(struct vxlan_fdb *fdb, uint16_t i)
{
	struct vxlan_fdb_entry *e = &fdb->e[i];

	e->newer = VXLAN_FDB_NONE;
	e->older = fdb->newest;
	if (fdb->newest != VXLAN_FDB_NONE)
		fdb->e[fdb->newest].newer = i;
	else
		fdb->oldest = i;
	fdb->newest = i;
}

/** fdb_remove() - free entry @i (hash chain, age list, count). */
static void fdb_remove(struct vxlan_fdb *fdb, uint16_t i)
{
	uint16_t *pp = &fdb->bucket[fdb_hash(fdb, fdb->e[i].mac)];

	while (*pp != i)
		pp = &fdb->e[*pp].chain;
	*pp = fdb->e[i].chain;
	fdb_lru_unlink(fdb, i);
	fdb->e[i].used = false;
	fdb->e[i].chain = fdb->free_head;
	fdb->free_head = i;
	fdb->count--;
}

/** fdb_expired() - whether entry @i is past its age at @now_ns.
 * Return: true when it must go. */
static bool fdb_expired(const struct vxlan_fdb *fdb, uint16_t i, uint64_t now_ns)
{
	uint64_t seen = fdb->e[i].seen_ns;

	return now_ns > seen && now_ns - seen >= fdb->age_ns;
}

unsigned vxlan_fdb_expire(struct vxlan_fdb *fdb, uint64_t now_ns)
{
	unsigned n = 0;

	while (fdb->oldest != VXLAN_FDB_NONE && fdb_expired(fdb, fdb->oldest, now_ns)) {
		fdb_remove(fdb, fdb->oldest);
		n++;
	}
	return n;
}

/** fdb_alloc() - a free entry, evicting the oldest when the table is full.
 * Return: its index. */
static uint16_t fdb_alloc(struct vxlan_fdb *fdb)
{
	uint16_t i;

	if (fdb->free_head == VXLAN_FDB_NONE)
		fdb_remove(fdb, fdb->oldest);
	i = fdb->free_head;
	fdb->free_head = fdb->e[i].chain;
	return i;
}

bool vxlan_fdb_learn(struct vxlan_fdb *fdb, const uint8_t mac[6],
		     const union vxlan_addr *vtep, uint64_t now_ns)
{
	static const uint8_t zero[6];
	struct vxlan_fdb_entry *e;
	unsigned b;
	uint16_t i;
	bool moved;

	if ((mac[0] & 1) || !memcmp(mac, zero, 6))
		return false;
	vxlan_fdb_expire(fdb, now_ns);
	i = fdb_find(fdb, mac);
	if (i != VXLAN_FDB_NONE) {
		e = &fdb->e[i];
		moved = !vxlan_addr_equal(&e->vtep, vtep);
		if (moved)
			e->vtep = *vtep;
		e->seen_ns = now_ns;
		fdb_lru_unlink(fdb, i);
		fdb_lru_push(fdb, i);
		return moved;
	}
	i = fdb_alloc(fdb);
	e = &fdb->e[i];
	memcpy(e->mac, mac, 6);
	e->vtep = *vtep;
	e->seen_ns = now_ns;
	e->used = true;
	b = fdb_hash(fdb, mac);
	e->chain = fdb->bucket[b];
	fdb->bucket[b] = i;
	fdb_lru_push(fdb, i);
	fdb->count++;
	return true;
}

bool vxlan_fdb_lookup(struct vxlan_fdb *fdb, const uint8_t mac[6],
		      uint64_t now_ns, union vxlan_addr *vtep)
{
	uint16_t i = fdb_find(fdb, mac);

	if (i == VXLAN_FDB_NONE)
		return false;
	if (fdb_expired(fdb, i, now_ns)) {
		fdb_remove(fdb, i);
		return false;
	}
	*vtep = fdb->e[i].vtep;
	return true;
}

enum vxlan_rx_verdict vxlan_rx_accept(struct vxlan_fdb *fdb, uint32_t vni,
				      const union vxlan_addr *remotes,
				      unsigned nremotes, uint16_t port,
				      const uint8_t *hdr, size_t dgram_len,
				      const uint8_t *eth,
				      const union vxlan_addr *src,
				      uint64_t now_ns)
{
	enum vxlan_rx_verdict v = vxlan_hdr_check(hdr, dgram_len, vni);
	union vxlan_addr vtep;

	if (v == VXLAN_RX_OK && vxlan_vtep_resolve(remotes, nremotes, src, port, &vtep))
		vxlan_fdb_learn(fdb, eth + 6, &vtep, now_ns);
	return v;
}

