/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bytes.h - unaligned loads and stores with the byte order in the name:
 * _be for network order (IP, TCP, UDP, VXLAN, stream length prefixes), _le
 * for virtio (the virtio-net header). One copy for core and the backends,
 * so no two files mean different orders by the same name.
 */
#ifndef NETBE_BYTES_H
#define NETBE_BYTES_H

#include <stdint.h>

/** nb_get_be16() - Return: the big-endian 16-bit value at @p. */
static inline uint16_t nb_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/** nb_get_be32() - Return: the big-endian 32-bit value at @p. */
static inline uint32_t nb_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/** nb_put_be16() - store @v big-endian at @p. */
static inline void nb_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/** nb_put_be32() - store @v big-endian at @p. */
static inline void nb_put_be32(uint8_t *p, uint32_t v)
{
	nb_put_be16(p, (uint16_t)(v >> 16));
	nb_put_be16(p + 2, (uint16_t)v);
}

/** nb_get_le16() - Return: the little-endian 16-bit value at @p. */
static inline uint16_t nb_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/** nb_put_le16() - store @v little-endian at @p. */
static inline void nb_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

#endif /* NETBE_BYTES_H */
