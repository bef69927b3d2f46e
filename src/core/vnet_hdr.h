/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vnet_hdr.h - virtio-net header codec and checks.
 *
 * Headers come in 0, 10, 12 and 20 byte forms; the codec reads and writes
 * any of them, possibly spread over several iovec segments. The checks
 * decide whether a header may be acted upon: every offset is compared with
 * the frame it describes and every offload with what was negotiated.
 */
#ifndef NETBE_VNET_HDR_H
#define NETBE_VNET_HDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "netbe.h"

/** vnet_hdr_len_valid() - true for 0, 10, 12 and 20. */
bool vnet_hdr_len_valid(unsigned len);

/** vnet_hdr_decode() - @len bytes of @buf into @h; absent fields are 0. */
void vnet_hdr_decode(const uint8_t *buf, unsigned len, struct netbe_vnet_hdr *h);

/** vnet_hdr_encode() - @h as @len bytes into @buf. */
void vnet_hdr_encode(uint8_t *buf, unsigned len, const struct netbe_vnet_hdr *h);

/**
 * vnet_hdr_read() - decode the @len byte header at the start of @iov
 * Return: 0, or -EINVAL when @iov holds fewer than @len bytes.
 */
int vnet_hdr_read(const struct iovec *iov, int iovcnt, unsigned len,
		  struct netbe_vnet_hdr *h);

/**
 * vnet_hdr_write() - encode @h as @len bytes at the start of @iov
 * Return: 0, or -EINVAL when @iov holds fewer than @len bytes.
 */
int vnet_hdr_write(const struct iovec *iov, int iovcnt, unsigned len,
		   const struct netbe_vnet_hdr *h);

/**
 * vnet_hdr_host_features() - the transmit features (NETBE_F_CSUM,
 * HOST_TSO4/6, HOST_UFO, HOST_USO, HOST_ECN) a frontend header asks for
 * Return: the NETBE_F_* mask, 0 for a header that asks for nothing.
 */
uint64_t vnet_hdr_host_features(const struct netbe_vnet_hdr *h);

/**
 * vnet_hdr_check_tx() - may a frontend header be sent with @features?
 * @frame_len: bytes after the header
 * Return: NETBE_DROP__MAX when acceptable, else the drop reason.
 */
enum netbe_drop_reason vnet_hdr_check_tx(const struct netbe_vnet_hdr *h,
					 uint64_t features, size_t frame_len);

/**
 * vnet_hdr_check_rx() - may a backend header be handed to a frontend that
 * negotiated @features? Return: NETBE_DROP__MAX when acceptable, else the
 * drop reason.
 */
enum netbe_drop_reason vnet_hdr_check_rx(const struct netbe_vnet_hdr *h,
					 uint64_t features, size_t frame_len);

#endif /* NETBE_VNET_HDR_H */
