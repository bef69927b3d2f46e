/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ring_copy.c - copying received frames out of kernel-shared ring memory
 * (ring_copy.h). The kernel is trusted to write sane slot headers and
 * descriptors, but a bug or a racing writer there must not become an
 * out-of-bounds read here, so every offset and length is checked against
 * the slot or the UMEM area first; tests/fuzz/fuzz-rings.c forges them.
 */
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>

#include "iov.h"
#include "ring_copy.h"

#define RC_VLAN_LEN 4u
#define RC_MAC_ADDRS_LEN 12u

/** add16() - add @d to the little-endian 16-bit field at @f. */
static void add16(uint8_t *f, unsigned d)
{
	unsigned v = (unsigned)(f[0] | f[1] << 8) + d;

	f[0] = (uint8_t)v;
	f[1] = (uint8_t)(v >> 8);
}

/**
 * vnet_hdr_shift() - a VLAN tag goes back in front of the network header:
 * move the header's offsets (hdr_len, csum_start) past it.
 */
static void vnet_hdr_shift(uint8_t *vh)
{
	if (vh[1] != NETBE_GSO_NONE)
		add16(vh + 2, RC_VLAN_LEN);
	if (vh[0] & NETBE_HDR_F_NEEDS_CSUM)
		add16(vh + 6, RC_VLAN_LEN);
}

/**
 * afp_slot_check() - where the frame of slot header @h lies
 * Return: true when tp_mac/tp_snaplen (and the virtio-net header before
 * the frame) lie inside the slot and the frame is whole and fits @cap
 * bytes; else false with *@why.
 */
static bool afp_slot_check(const struct tpacket2_hdr *h, size_t slot_size,
			   size_t hdr, size_t cap, enum netbe_drop_reason *why)
{
	bool vlan = h->tp_status & TP_STATUS_VLAN_VALID;
	size_t len = (size_t)h->tp_snaplen + (vlan ? RC_VLAN_LEN : 0);

	*why = NETBE_DROP_RX_TOO_BIG;
	if (h->tp_snaplen < h->tp_len || hdr + len > cap)
		return false;
	*why = NETBE_DROP_RX_BAD_HDR;
	return h->tp_mac >= hdr + sizeof(*h) && h->tp_snaplen >= RC_MAC_ADDRS_LEN &&
	       (size_t)h->tp_mac + h->tp_snaplen <= slot_size;
}

bool rc_afp_slot_copy(const uint8_t *slot, size_t slot_size, bool vnet_hdr,
		      struct netbe_xfer *x, enum netbe_drop_reason *why)
{
	const struct tpacket2_hdr *h = (const struct tpacket2_hdr *)slot;
	size_t hdr = vnet_hdr ? RC_AFP_VNET_HDR_LEN : 0, off = hdr;
	bool vlan = h->tp_status & TP_STATUS_VLAN_VALID;
	const uint8_t *mac = slot + h->tp_mac;
	uint8_t vh[RC_AFP_VNET_HDR_LEN], tag[RC_VLAN_LEN];
	uint16_t tpid;

	if (slot_size < sizeof(*h) ||
	    !afp_slot_check(h, slot_size, hdr, iov_length(x->iov, x->iovcnt), why))
		return false;
	if (hdr) {
		memcpy(vh, mac - hdr, hdr);
		if (vlan)
			vnet_hdr_shift(vh);
		iov_from_buf(x->iov, x->iovcnt, 0, vh, hdr);
	}
	x->len = hdr + h->tp_snaplen + (vlan ? RC_VLAN_LEN : 0);
	if (!vlan) {
		iov_from_buf(x->iov, x->iovcnt, off, mac, h->tp_snaplen);
		return true;
	}
	tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->tp_vlan_tpid : ETH_P_8021Q;
	tag[0] = (uint8_t)(tpid >> 8);
	tag[1] = (uint8_t)tpid;
	tag[2] = (uint8_t)(h->tp_vlan_tci >> 8);
	tag[3] = (uint8_t)h->tp_vlan_tci;
	iov_from_buf(x->iov, x->iovcnt, off, mac, RC_MAC_ADDRS_LEN);
	iov_from_buf(x->iov, x->iovcnt, off + RC_MAC_ADDRS_LEN, tag, RC_VLAN_LEN);
	iov_from_buf(x->iov, x->iovcnt, off + RC_MAC_ADDRS_LEN + RC_VLAN_LEN,
		     mac + RC_MAC_ADDRS_LEN, h->tp_snaplen - RC_MAC_ADDRS_LEN);
	return true;
}

bool rc_xdp_desc_copy(const uint8_t *area, uint64_t rx_bytes, size_t frame_size,
		      uint64_t addr, uint32_t len, struct netbe_xfer *x,
		      enum netbe_drop_reason *why)
{
	*why = NETBE_DROP_RX_BAD_HDR;
	if (addr >= rx_bytes || (addr % frame_size) + len > frame_size)
		return false;
	*why = NETBE_DROP_RX_TOO_BIG;
	if (len > iov_length(x->iov, x->iovcnt))
		return false;
	iov_from_buf(x->iov, x->iovcnt, 0, area + addr, len);
	x->len = len;
	return true;
}
