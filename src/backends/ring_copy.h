/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ring_copy.h - copying received frames out of memory the kernel shares
 * with a backend: an af_packet TPACKET_V2 ring slot and an AF_XDP receive
 * descriptor. Every offset and length the kernel wrote is checked against
 * the slot or the UMEM area before a byte is copied.
 *
 * Pure: no socket, no handle; the ring memory is passed in. Compiled into
 * the library (af_packet.c, af_xdp.c) and, alone, into fuzz-rings.
 */
#ifndef NETBE_RING_COPY_H
#define NETBE_RING_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define RC_AFP_VNET_HDR_LEN 10     /* PACKET_VNET_HDR: a 10-byte header */

/**
 * rc_afp_slot_copy() - copy the frame in the af_packet ring slot at @slot
 * (@slot_size bytes, a struct tpacket2_hdr first) into @x: its 10-byte
 * virtio-net header first when @vnet_hdr, and the VLAN tag the kernel
 * stripped put back (with the header's offsets moved past it).
 * Return: true with x->len set; false with *@why (rx_bad_hdr for offsets
 * outside the slot, rx_too_big for a truncated frame or one larger than
 * @x) and nothing copied.
 */
bool rc_afp_slot_copy(const uint8_t *slot, size_t slot_size, bool vnet_hdr,
		      struct netbe_xfer *x, enum netbe_drop_reason *why);

/**
 * rc_xdp_desc_copy() - copy the frame an AF_XDP receive descriptor
 * (@addr, @len) names in the UMEM at @area into @x; the receive frames are
 * the first @rx_bytes of the area, @frame_size bytes each, and a frame may
 * not cross into the next one.
 * Return: true with x->len set; false with *@why (rx_bad_hdr outside the
 * receive frames, rx_too_big larger than @x) and nothing copied.
 */
bool rc_xdp_desc_copy(const uint8_t *area, uint64_t rx_bytes, size_t frame_size,
		      uint64_t addr, uint32_t len, struct netbe_xfer *x,
		      enum netbe_drop_reason *why);

#endif /* NETBE_RING_COPY_H */
