/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-rings.c - libFuzzer target for the copies out of kernel-shared
 * ring memory (src/backends/ring_copy.c): an af_packet TPACKET_V2 slot
 * header and an AF_XDP receive descriptor, forged.
 *
 * Input: byte 0 bit 0 picks the ring (0 af_packet, 1 af_xdp), bit 1 the
 * virtio-net header (af_packet); bytes 1-2 the slot or receive-area size,
 * bytes 3-4 the receive buffer's size, byte 5 how many iovec segments it
 * is cut into; then the slot header fields (af_packet: status, len,
 * snaplen, mac, vlan tci and tpid) or the descriptor (af_xdp: addr, len);
 * the rest fills the ring memory. The slot, the area and every buffer
 * segment are allocated at their exact size, so AddressSanitizer catches
 * any byte read or written outside them. Invariants on success:
 *  - the frame fits the caller's buffers and has the length the header
 *    says (plus a restored VLAN tag and the virtio-net header);
 *  - what it copied lies inside the slot (after the slot header) or the
 *    receive frames, and equals the ring's bytes.
 */
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iov.h"
#include "ring_copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CTL_BYTES 6
#define AFP_FIELDS 16
#define XDP_FIELDS 12
#define XDP_FRAME 256u
#define MAX_SEGS 8

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-rings: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static uint32_t le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* A receive buffer of @cap bytes cut into @nseg exactly sized pieces. */
struct rxbuf {
	struct iovec iov[MAX_SEGS];
	int n;
	uint8_t flat[70000];
};

static void rxbuf_init(struct rxbuf *b, size_t cap, unsigned nseg)
{
	size_t piece = cap / nseg, off = 0;
	int i;

	b->n = (int)nseg;
	for (i = 0; i < b->n; i++) {
		size_t l = i + 1 < b->n ? piece : cap - off;

		b->iov[i].iov_base = malloc(l ? l : 1);
		b->iov[i].iov_len = l;
		ASSERT(b->iov[i].iov_base);
		off += l;
	}
}

static void rxbuf_fini(struct rxbuf *b)
{
	int i;

	for (i = 0; i < b->n; i++)
		free(b->iov[i].iov_base);
}

/* Fill @n bytes of ring memory from the input's tail (cycled). */
static void fill(uint8_t *m, size_t n, const uint8_t *src, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		m[i] = len ? src[i % len] : (uint8_t)i;
}

static void fuzz_afp(const uint8_t *d, size_t size, bool vnet, size_t slot_size,
		     struct rxbuf *b)
{
	struct tpacket2_hdr h = { 0 };
	struct netbe_xfer x = { .iov = b->iov, .iovcnt = b->n };
	size_t hdr = vnet ? RC_AFP_VNET_HDR_LEN : 0, cap = iov_length(b->iov, b->n);
	enum netbe_drop_reason why;
	uint8_t *slot;

	if (size < AFP_FIELDS || slot_size < sizeof(h))
		return;
	h.tp_status = le(d, 4);
	h.tp_len = le(d + 4, 2);
	h.tp_snaplen = le(d + 6, 2);
	h.tp_mac = (uint16_t)le(d + 8, 2);
	h.tp_vlan_tci = (uint16_t)le(d + 10, 2);
	h.tp_vlan_tpid = (uint16_t)le(d + 12, 2);
	slot = malloc(slot_size);
	ASSERT(slot);
	fill(slot, slot_size, d + AFP_FIELDS, size - AFP_FIELDS);
	memcpy(slot, &h, sizeof(h));
	if (rc_afp_slot_copy(slot, slot_size, vnet, &x, &why)) {
		bool vlan = h.tp_status & TP_STATUS_VLAN_VALID;

		ASSERT(x.len <= cap);
		ASSERT(x.len == hdr + h.tp_snaplen + (vlan ? 4 : 0));
		ASSERT(h.tp_mac >= sizeof(h) + hdr);
		ASSERT((size_t)h.tp_mac + h.tp_snaplen <= slot_size);
		ASSERT(h.tp_snaplen >= h.tp_len);
		iov_to_buf(b->iov, b->n, 0, b->flat, x.len);
		if (!vlan)
			ASSERT(!memcmp(b->flat + hdr, slot + h.tp_mac, h.tp_snaplen));
		if (hdr && !vlan)
			ASSERT(!memcmp(b->flat, slot + h.tp_mac - hdr, hdr));
	} else {
		ASSERT(why == NETBE_DROP_RX_BAD_HDR || why == NETBE_DROP_RX_TOO_BIG);
	}
	free(slot);
}

static void fuzz_xdp(const uint8_t *d, size_t size, size_t area_size,
		     struct rxbuf *b)
{
	struct netbe_xfer x = { .iov = b->iov, .iovcnt = b->n };
	uint64_t addr, rx_bytes = area_size - area_size % XDP_FRAME;
	enum netbe_drop_reason why;
	uint32_t len;
	uint8_t *area;

	if (size < XDP_FIELDS || !area_size)
		return;
	addr = le(d, 4) | (uint64_t)le(d + 4, 4) << 32;
	len = le(d + 8, 4);
	area = malloc(area_size);
	ASSERT(area);
	fill(area, area_size, d + XDP_FIELDS, size - XDP_FIELDS);
	if (rc_xdp_desc_copy(area, rx_bytes, XDP_FRAME, addr, len, &x, &why)) {
		ASSERT(x.len == len && len <= iov_length(b->iov, b->n));
		ASSERT(addr + len <= rx_bytes);
		iov_to_buf(b->iov, b->n, 0, b->flat, len);
		ASSERT(!memcmp(b->flat, area + addr, len));
	} else {
		ASSERT(why == NETBE_DROP_RX_BAD_HDR || why == NETBE_DROP_RX_TOO_BIG);
	}
	free(area);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rxbuf b;
	size_t ring, cap;

	if (size < CTL_BYTES)
		return 0;
	ring = le(data + 1, 2) + 1;
	cap = le(data + 3, 2) % sizeof(b.flat);
	rxbuf_init(&b, cap, data[5] % MAX_SEGS + 1);
	if (data[0] & 1)
		fuzz_xdp(data + CTL_BYTES, size - CTL_BYTES, ring, &b);
	else
		fuzz_afp(data + CTL_BYTES, size - CTL_BYTES, data[0] & 2, ring, &b);
	rxbuf_fini(&b);
	return 0;
}
