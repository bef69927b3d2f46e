/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vnet_hdr.c - virtio-net header codec and the checks that decide whether a
 * header coming from a guest (transmit) or from a host backend (receive)
 * may be acted upon. Fields are little-endian (virtio 1.x).
 */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "iov.h"
#include "vnet_hdr.h"

bool vnet_hdr_len_valid(unsigned len)
{
	return len == 0 || len == NETBE_VNET_HDR_LEN_LEGACY ||
	       len == NETBE_VNET_HDR_LEN_MRG || len == NETBE_VNET_HDR_LEN_HASH;
}

void vnet_hdr_decode(const uint8_t *buf, unsigned len, struct netbe_vnet_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < NETBE_VNET_HDR_LEN_LEGACY)
		return;
	h->flags = buf[0];
	h->gso_type = buf[1];
	h->hdr_len = nb_get_le16(buf + 2);
	h->gso_size = nb_get_le16(buf + 4);
	h->csum_start = nb_get_le16(buf + 6);
	h->csum_offset = nb_get_le16(buf + 8);
	if (len >= NETBE_VNET_HDR_LEN_MRG)
		h->num_buffers = nb_get_le16(buf + 10);
	if (len >= NETBE_VNET_HDR_LEN_HASH) {
		h->hash_value = (uint32_t)nb_get_le16(buf + 12) |
				(uint32_t)nb_get_le16(buf + 14) << 16;
		h->hash_report = nb_get_le16(buf + 16);
		h->padding_reserved = nb_get_le16(buf + 18);
	}
}

void vnet_hdr_encode(uint8_t *buf, unsigned len, const struct netbe_vnet_hdr *h)
{
	if (len < NETBE_VNET_HDR_LEN_LEGACY)
		return;
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	nb_put_le16(buf + 2, h->hdr_len);
	nb_put_le16(buf + 4, h->gso_size);
	nb_put_le16(buf + 6, h->csum_start);
	nb_put_le16(buf + 8, h->csum_offset);
	if (len >= NETBE_VNET_HDR_LEN_MRG)
		nb_put_le16(buf + 10, h->num_buffers);
	if (len >= NETBE_VNET_HDR_LEN_HASH) {
		nb_put_le16(buf + 12, (uint16_t)h->hash_value);
		nb_put_le16(buf + 14, (uint16_t)(h->hash_value >> 16));
		nb_put_le16(buf + 16, h->hash_report);
		nb_put_le16(buf + 18, h->padding_reserved);
	}
}

int vnet_hdr_read(const struct iovec *iov, int iovcnt, unsigned len,
		  struct netbe_vnet_hdr *h)
{
	uint8_t buf[NETBE_VNET_HDR_LEN_HASH];

	if (len > sizeof(buf) || iov_to_buf(iov, iovcnt, 0, buf, len) != len)
		return -EINVAL;
	vnet_hdr_decode(buf, len, h);
	return 0;
}

int vnet_hdr_write(const struct iovec *iov, int iovcnt, unsigned len,
		   const struct netbe_vnet_hdr *h)
{
	uint8_t buf[NETBE_VNET_HDR_LEN_HASH];

	if (len > sizeof(buf))
		return -EINVAL;
	vnet_hdr_encode(buf, len, h);
	return iov_from_buf(iov, iovcnt, 0, buf, len) == len ? 0 : -EINVAL;
}

/* The feature a gso_type needs, in the direction given by @guest; 0 for an
 * unknown type. */
static uint64_t gso_feature(uint8_t gso_type, bool guest)
{
	switch (gso_type & ~NETBE_GSO_ECN) {
	case NETBE_GSO_TCPV4:
		return guest ? NETBE_F_GUEST_TSO4 : NETBE_F_HOST_TSO4;
	case NETBE_GSO_TCPV6:
		return guest ? NETBE_F_GUEST_TSO6 : NETBE_F_HOST_TSO6;
	case NETBE_GSO_UDP:
		return guest ? NETBE_F_GUEST_UFO : NETBE_F_HOST_UFO;
	case NETBE_GSO_UDP_L4:
		return guest ? (NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6)
			     : NETBE_F_HOST_USO;
	default:
		return 0;
	}
}

uint64_t vnet_hdr_host_features(const struct netbe_vnet_hdr *h)
{
	uint64_t need = gso_feature(h->gso_type, false);

	if (h->flags & NETBE_HDR_F_NEEDS_CSUM)
		need |= NETBE_F_CSUM;
	if (h->gso_type & NETBE_GSO_ECN)
		need |= NETBE_F_HOST_ECN;
	return need;
}

/* Shared by both directions: is @h consistent with a frame of @frame_len
 * bytes and with @features? @guest selects the GUEST_* (receive) bits. */
static enum netbe_drop_reason check_hdr(const struct netbe_vnet_hdr *h,
					uint64_t features, size_t frame_len,
					bool guest)
{
	enum netbe_drop_reason bad = guest ? NETBE_DROP_RX_BAD_HDR : NETBE_DROP_TX_BAD_HDR;
	enum netbe_drop_reason unneg = guest ? NETBE_DROP_RX_OFFLOAD : NETBE_DROP_TX_OFFLOAD;
	uint64_t csum = guest ? NETBE_F_GUEST_CSUM : NETBE_F_CSUM;
	uint64_t ecn = guest ? NETBE_F_GUEST_ECN : NETBE_F_HOST_ECN;

	if (h->flags & ~(NETBE_HDR_F_NEEDS_CSUM | NETBE_HDR_F_DATA_VALID))
		return bad;
	if (h->flags & NETBE_HDR_F_NEEDS_CSUM) {
		if (!(features & csum))
			return unneg;
		if ((size_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return bad;
	}
	if (h->gso_type == NETBE_GSO_NONE)
		return NETBE_DROP__MAX;
	if (!gso_feature(h->gso_type, guest) || h->gso_size == 0 ||
	    h->hdr_len > frame_len)
		return bad;
	if (!(features & gso_feature(h->gso_type, guest)))
		return unneg;
	if ((h->gso_type & NETBE_GSO_ECN) && !(features & ecn))
		return unneg;
	return NETBE_DROP__MAX;
}

enum netbe_drop_reason vnet_hdr_check_tx(const struct netbe_vnet_hdr *h,
					 uint64_t features, size_t frame_len)
{
	return check_hdr(h, features, frame_len, false);
}

enum netbe_drop_reason vnet_hdr_check_rx(const struct netbe_vnet_hdr *h,
					 uint64_t features, size_t frame_len)
{
	return check_hdr(h, features, frame_len, true);
}
