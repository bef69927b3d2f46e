/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * offload.h - the software offload engine: header validation, checksum
 * completion and segmentation (TSO4/TSO6, USO, UFO) of one frame.
 *
 * A pure module: no I/O, no handle, no allocation, no logging. The data
 * path (netbe.c) calls it in either direction:
 *
 *   struct ol_pkt p;
 *   r = ol_check(&vh, frame, len, flags, max, &p);   validate, find offsets
 *   if (r != OL_OK) drop and count r;
 *   n = ol_segment(&vh, &p, flags, frag_id, store, ol_store_size(&p),
 *                  segs, OL_MAX_SEGS);
 *   for each segment: iovec { segs[i].hdr, hdr_len } + { data, data_len }
 *
 * Segments never copy payload: each one is a small header block written
 * into the caller's @store plus a slice of the original (const) frame.
 * doc/offload.md describes every policy choice (IPv4 ids, flags, limits)
 * and how the engine differs from the Linux kernel's software GSO.
 */
#ifndef NETBE_OFFLOAD_H
#define NETBE_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netbe.h"

/* ol_check() result for an acceptable frame (the drop reasons are 0..). */
#define OL_OK NETBE_DROP__MAX

#define OL_MAX_SEGS 1024    /* more segments than this: bad header */
#define OL_MAX_HDR 256      /* bound on one segment's header block */
#define OL_MAX_IP6_EXT 8    /* IPv6 extension headers walked at most */
#define OL_STORE_MAX ((size_t)OL_MAX_SEGS * OL_MAX_HDR)

/* Flags for ol_check() and ol_segment(). */
#define OL_RX           0x1u  /* backend -> frontend: report RX_* reasons */
#define OL_CSUM_PARTIAL 0x2u  /* leave L4 checksums partial (NEEDS_CSUM) */

/* Where things are in a frame, filled by ol_check(). Offsets are from the
 * start of the frame (the Ethernet header). */
struct ol_pkt {
	const uint8_t *frame;
	size_t len;          /* bytes given, Ethernet padding included */
	size_t end;          /* end of the IP packet (len minus padding) */
	size_t l3;           /* IP header */
	size_t l4;           /* TCP/UDP header */
	size_t payload;      /* first byte after the TCP/UDP header */
	size_t unfrag;       /* IPv6: end of the unfragmentable part */
	size_t unfrag_nh;    /* IPv6: next-header byte naming what follows */
	size_t csum_end;     /* NEEDS_CSUM: sum runs up to here */
	unsigned nsegs;      /* segments ol_segment() will produce */
	size_t seg_size;     /* GSO: L4 payload (TSO/USO) or IP payload (UFO)
			      * bytes per segment, at most gso_size */
	uint8_t ipv;         /* 4, 6, or 0 when not parsed (no GSO) */
	uint8_t proto;       /* IPPROTO_TCP or IPPROTO_UDP when parsed */
	uint8_t gso;         /* gso_type without the ECN bit */
	bool parsed;         /* the L3/L4 fields above are valid */
};

/* One produced segment: send hdr[0..hdr_len) then data[0..data_len). */
struct ol_seg {
	uint8_t *hdr;        /* inside the caller's store */
	size_t hdr_len;
	const uint8_t *data; /* inside the original frame; may be empty */
	size_t data_len;
	uint8_t flags;       /* NETBE_HDR_F_NEEDS_CSUM with OL_CSUM_PARTIAL */
	uint16_t csum_start; /* when flags has NEEDS_CSUM */
	uint16_t csum_offset;
};

/**
 * ol_csum_partial() - add the 16-bit words of @buf to @sum
 *
 * Words are taken in memory order, so the folded, complemented result is
 * stored with memcpy (not htons). Chaining calls is exact when every
 * buffer but the last has an even length.
 * Return: the new 32-bit partial sum (not folded).
 */
uint32_t ol_csum_partial(const void *buf, size_t len, uint32_t sum);

/** ol_ip4_fix_csum() - recompute the checksum of the IPv4 header at @ip
 * (its length from the IHL field, which the caller has checked). */
void ol_ip4_fix_csum(uint8_t *ip);

/** ol_csum_fold() - fold a partial sum to 16 bits.
 * Return: the folded sum, not complemented. */
uint16_t ol_csum_fold(uint32_t sum);

/**
 * ol_check() - parse @frame and validate header @h against it
 * @flags: OL_RX selects the RX_* drop reasons
 * @seg_max: the longest frame any segment may be (the receiver's limit);
 *           TCP segments and UFO fragments are made smaller than gso_size
 *           to fit it, a USO frame that cannot fit is refused
 * @p: filled with offsets and the segment count on success
 *
 * Frames without NEEDS_CSUM and without GSO are accepted as they are
 * (p->nsegs = 1, nothing to do). NEEDS_CSUM alone needs only a checksum
 * field inside the frame (hdr_len is not looked at); GSO needs a parsable
 * Ethernet/VLAN/IP/TCP-or-UDP frame that matches gso_type, a hdr_len
 * within the frame and at most OL_MAX_SEGS segments (doc/offload.md lists
 * every check). The frame must be contiguous.
 * Without GSO the frame is one segment of @len bytes: the caller checks
 * it against its limit.
 * Return: OL_OK, or the drop reason (NETBE_DROP_TX_BAD_HDR,
 * NETBE_DROP_TX_RUNT, NETBE_DROP_TX_TOO_BIG or their RX_ twins).
 */
enum netbe_drop_reason ol_check(const struct netbe_vnet_hdr *h,
				const uint8_t *frame, size_t len,
				unsigned flags, size_t seg_max, struct ol_pkt *p);

/** ol_needs_work() - whether @h asks for anything (NEEDS_CSUM or GSO).
 * Return: true when ol_segment() must run before the frame is sent. */
bool ol_needs_work(const struct netbe_vnet_hdr *h);

/** ol_store_size() - bytes of header storage ol_segment() needs for @p.
 * Return: at most OL_STORE_MAX. */
size_t ol_store_size(const struct ol_pkt *p);

/**
 * ol_csum_complete() - complete the NEEDS_CSUM checksum of a writable frame
 * in place (receive side, frontend without GUEST_CSUM)
 * @p: from ol_check() with the same @h
 * Return: 0, or -EINVAL when @h has no NEEDS_CSUM.
 */
int ol_csum_complete(const struct netbe_vnet_hdr *h, const struct ol_pkt *p,
		     uint8_t *frame);

/**
 * ol_segment() - produce the segments of a frame accepted by ol_check()
 * @h, @p: the header and ol_check()'s result for it
 * @flags: OL_CSUM_PARTIAL leaves TCP/UDP checksums partial (the pseudo
 *         header sum, with each segment's csum_start/csum_offset set);
 *         otherwise every checksum is complete
 * @frag_id: IPv6 fragment identification for UFO over IPv6
 * @store: header storage, ol_store_size(@p) bytes
 * @segs: room for @max segments
 *
 * Without GSO, a NEEDS_CSUM frame becomes one segment whose header block
 * is the frame up to the end of its checksum field (completed, or left
 * as is with OL_CSUM_PARTIAL); a frame needing nothing is one segment
 * pointing at the frame.
 * Return: the number of segments (>= 1), or -ENOSPC when @store or @max
 * is too small.
 */
int ol_segment(const struct netbe_vnet_hdr *h, const struct ol_pkt *p,
	       unsigned flags, uint32_t frag_id, uint8_t *store,
	       size_t store_len, struct ol_seg *segs, unsigned max);

#endif /* NETBE_OFFLOAD_H */
