/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipfrag.h - a bounded reassembler of IPv4 and IPv6 fragments, for
 * backends whose peer must only see whole datagrams (libslirp).
 *
 * A pure module: no I/O, no logging, no clock of its own (the caller
 * passes the monotonic time in). Zeroed memory is an empty table; datagram
 * buffers are allocated on first use and kept until ipf_release():
 *
 *   struct ipf_out out;
 *   switch (ipf_input(&t, frame, len, now_ns, &out)) {
 *   case IPF_PASS:    send the frame as it is; break;
 *   case IPF_DONE:    send out.frame, out.len; break;
 *   case IPF_BAD_HDR: count one tx_bad_hdr drop; break;
 *   case IPF_HELD: case IPF_DROPPED: break;
 *   }
 *   count out.dropped tx_fragment drops (after every call);
 *
 * Every fragment given to ipf_input() ends up exactly once in an emitted
 * datagram (out.nfrags), in a drop count (out.dropped, or the return of
 * ipf_expire()/ipf_release()), or still in flight (ipf_held()).
 */
#ifndef NETBE_IPFRAG_H
#define NETBE_IPFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPF_MAX_DGRAMS 16          /* datagrams in flight at most */
#define IPF_MAX_FRAGS 128          /* fragments of one datagram at most */
#define IPF_IP_MAX 65535           /* bound on a reassembled IP packet */
#define IPF_L2_MAX 18              /* Ethernet and one VLAN tag */
#define IPF_HDR_MAX 256            /* L2 + unfragmentable headers, at most */
#define IPF_MAX_IP6_EXT 8          /* IPv6 extension headers walked at most */
#define IPF_TIMEOUT_NS (15ULL * 1000000000ULL)
#define IPF_KEY_LEN 38             /* version, protocol, id, addresses */
/* Largest frame ipf_input() emits. */
#define IPF_FRAME_MAX (IPF_L2_MAX + IPF_IP_MAX)

/* What ipf_input() did with a frame. */
enum ipf_result {
	IPF_PASS,       /* not an IP fragment: use the frame as it is */
	IPF_HELD,       /* a fragment, kept until its datagram completes */
	IPF_DONE,       /* it completed a datagram: see struct ipf_out */
	IPF_DROPPED,    /* a fragment, dropped (counted in out->dropped) */
	IPF_BAD_HDR,    /* an IPv4/IPv6 header that does not make sense */
};

/* One received fragment: its place in the datagram's data. */
struct ipf_range {
	uint16_t off;
	uint16_t len;
};

/* A datagram being reassembled. */
struct ipf_dgram {
	uint8_t *buf;              /* IPF_HDR_MAX + IPF_IP_MAX bytes, or NULL */
	uint64_t start_ns;         /* when its first fragment came */
	uint8_t key[IPF_KEY_LEN];
	bool used;
	bool have_first;           /* offset 0 came: the header is in buf */
	bool have_last;            /* MF=0 came: end is known */
	uint8_t ipv;               /* 4 or 6 */
	uint8_t nh;                /* IPv6: the header after the fragment header */
	uint16_t hlen;             /* L2 + unfragmentable part of the first */
	uint16_t l2len;
	uint16_t nh_at;            /* IPv6: offset in the header of the byte
				    * that named the fragment header */
	uint32_t end;              /* data length, once have_last */
	uint32_t received;         /* data bytes held */
	unsigned nfrags;
	struct ipf_range frags[IPF_MAX_FRAGS];
};

/* The reassembly table; all zeroes is an empty one. */
struct ipf {
	struct ipf_dgram d[IPF_MAX_DGRAMS];
};

/* What one ipf_input() call produced. */
struct ipf_out {
	const uint8_t *frame;      /* IPF_DONE: the whole datagram, valid
				    * until the next call on the table */
	size_t len;
	unsigned nfrags;           /* IPF_DONE: fragments it was made of */
	unsigned dropped;          /* fragments dropped by this call */
};

/**
 * ipf_input() - take one Ethernet frame of @len bytes at time @now_ns
 * (monotonic). Datagrams older than IPF_TIMEOUT_NS are expired first.
 * Return: an enum ipf_result; @out->dropped is set in every case.
 */
enum ipf_result ipf_input(struct ipf *t, const uint8_t *frame, size_t len,
			  uint64_t now_ns, struct ipf_out *out);

/**
 * ipf_expire() - drop the datagrams that are IPF_TIMEOUT_NS old at @now_ns.
 * Return: the fragments dropped.
 */
unsigned ipf_expire(struct ipf *t, uint64_t now_ns);

/** ipf_held() - Return: the fragments in flight. */
unsigned ipf_held(const struct ipf *t);

/**
 * ipf_release() - drop every datagram in flight and free the buffers; the
 * table is empty (and usable) afterwards.
 * Return: the fragments dropped.
 */
unsigned ipf_release(struct ipf *t);

#endif /* NETBE_IPFRAG_H */
