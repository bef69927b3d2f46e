/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-core.c - libFuzzer target for core's data path: a hostile guest
 * frame through the public API, from one end of a pair to the other.
 *
 * Input:
 *   byte 0  sender: bits 0-1 header length (0, 10, 12, 20), bit 2 offloads
 *           in software (offload=soft) instead of passed through, bits 3-7
 *           host features (CSUM, HOST_TSO4, HOST_TSO6, HOST_UFO, HOST_USO)
 *   byte 1  receiver: bits 0-1 header length, bits 2-7 guest features
 *           (GUEST_CSUM, TSO4, TSO6, UFO, USO4, USO6)
 *   byte 2  how the sender's iovec is cut: 1-8 segments at offsets taken
 *           from byte 3 (so the virtio-net header may be split)
 *   byte 4  receive buffers: bit 0 first offer one 100-byte buffer (core's
 *           stash and -EMSGSIZE), bits 1-3 segments per receive buffer
 *   rest    the frame, the sender's virtio-net header first; up to 70000
 *           bytes (run libFuzzer with -max_len=70000)
 *
 * Invariants (abort on any failure):
 *  - the send consumes the frame: one counted drop, or one or more frames
 *    handed to the pair, never both, never -EAGAIN;
 *  - the receiver gives back every frame the sender handed on, delivered
 *    or counted: delivered + dropped >= handed on, and nothing stays
 *    pending once recv_burst() returns 0;
 *  - each delivered frame fits its buffers, is no longer than a 64 KiB
 *    super-frame, carries only offloads the receiver negotiated, and a
 *    header with num_buffers 1;
 *  - -EMSGSIZE keeps the frame: peek_recvlen() says its length and the
 *    next receive into large buffers returns exactly that;
 *  - a frame that asked for nothing arrives byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netbe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CTL_BYTES 5
#define FRAME_MAX (65535 + 18)
#define BUF_LEN (20 + FRAME_MAX)
#define RX_BURST 8

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-core: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static const unsigned hdr_lens[4] = { 0, 10, 12, 20 };
static const uint64_t host_bits[5] = { NETBE_F_CSUM, NETBE_F_HOST_TSO4,
	NETBE_F_HOST_TSO6, NETBE_F_HOST_UFO, NETBE_F_HOST_USO };
static const uint64_t guest_bits[6] = { NETBE_F_GUEST_CSUM, NETBE_F_GUEST_TSO4,
	NETBE_F_GUEST_TSO6, NETBE_F_GUEST_UFO, NETBE_F_GUEST_USO4,
	NETBE_F_GUEST_USO6 };

/* Two pairs: one passes offloads through, one does them in software. */
static struct {
	struct netbe_epoll *ep;
	struct netbe *tx[2], *rx[2];
	uint8_t buf[RX_BURST][BUF_LEN];
	uint8_t last[BUF_LEN];         /* a copy of the last frame delivered */
} *h;

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void harness_init(void)
{
	static const char *const tx_spec[2] = { "pair:fz0,depth=4096",
						"pair:fz1,depth=4096,offload=soft" };
	static const char *const rx_spec[2] = { "pair:fz0,depth=4096",
						"pair:fz1,depth=4096" };
	unsigned i;

	h = calloc(1, sizeof(*h));
	ASSERT(h && netbe_epoll_new(&h->ep) == 0);
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
	for (i = 0; i < 2; i++) {
		ASSERT(netbe_open(&h->tx[i], tx_spec[i], NULL, netbe_epoll_loop(h->ep)) == 0);
		ASSERT(netbe_open(&h->rx[i], rx_spec[i], NULL, netbe_epoll_loop(h->ep)) == 0);
	}
}

/* Features from the bits of @sel over @bits, as far as @be offers them
 * with header length @hl. Return: the feature set. */
static uint64_t pick(struct netbe *be, unsigned sel, const uint64_t *bits,
		     unsigned nbits, unsigned hl)
{
	uint64_t f = 0;
	unsigned i;

	if (!hl)
		return 0;
	for (i = 0; i < nbits; i++)
		if (sel & (1u << i))
			f |= bits[i];
	return f & netbe_get_cap(be);
}

/* Sum of all drop counters of @be. Return: the sum. */
static uint64_t drops(struct netbe *be, struct netbe_stats *st)
{
	uint64_t sum = 0;
	unsigned i;

	ASSERT(netbe_get_stats(be, st) == 0);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		sum += st->drops[i];
	return sum;
}

/* Cut @len bytes at @p into up to 8 iovec segments. Return: the count. */
static int cut(const uint8_t *p, size_t len, uint8_t n, uint8_t seed,
	       struct iovec *iov)
{
	size_t off = 0;
	int k = 0, want = n % 8 + 1;

	while (k < want - 1 && off < len) {
		size_t piece = (size_t)(seed * (k + 1)) % 23 + (size_t)k * 7 + 1;

		if (piece > len - off)
			piece = len - off;
		iov[k++] = (struct iovec){ (void *)(p + off), piece };
		off += piece;
	}
	iov[k++] = (struct iovec){ (void *)(p + off), len - off };
	return k;
}

/* Check a delivered frame in @b (@len bytes, receiver header @hl). */
static void check_delivered(const uint8_t *b, size_t len, unsigned hl,
			    uint64_t feat)
{
	uint8_t gso = hl ? b[1] & 0x7f : 0;

	ASSERT(len >= hl + 14 && len <= hl + FRAME_MAX);
	if (!hl)
		return;
	if (b[0] & 1)
		ASSERT(feat & NETBE_F_GUEST_CSUM);
	ASSERT(gso != NETBE_GSO_TCPV4 || (feat & NETBE_F_GUEST_TSO4));
	ASSERT(gso != NETBE_GSO_TCPV6 || (feat & NETBE_F_GUEST_TSO6));
	ASSERT(gso != NETBE_GSO_UDP || (feat & NETBE_F_GUEST_UFO));
	ASSERT(gso != NETBE_GSO_UDP_L4 ||
	       (feat & (NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6)));
	if (hl >= 12)
		ASSERT(b[10] == 1 && b[11] == 0);
}

/* Receive everything @rx holds; the stash is tried first with a small
 * buffer when bit 0 of @layout is set. Return: frames delivered; the last
 * one is copied to h->last, its length to *@last. */
static unsigned drain(struct netbe *rx, unsigned hl, uint64_t feat,
		      uint8_t layout, size_t *last)
{
	unsigned segs = (layout >> 1) % 8 + 1, got = 0, i, k;
	struct iovec iov[RX_BURST][8];
	struct netbe_frame f[RX_BURST];
	int n;

	if (layout & 1) {
		struct iovec small = { h->buf[0], 100 };
		ssize_t peek = netbe_peek_recvlen(rx), r = netbe_recv(rx, &small, 1);

		ASSERT(peek >= 0);
		ASSERT(r == (peek > 100 ? -EMSGSIZE : peek));
		if (r == -EMSGSIZE)
			ASSERT(netbe_peek_recvlen(rx) == peek);
		if (r > 0) {
			check_delivered(h->buf[0], (size_t)r, hl, feat);
			memcpy(h->last, h->buf[0], (size_t)r);
			*last = (size_t)r;
			got++;
		}
	}
	do {
		for (i = 0; i < RX_BURST; i++) {
			size_t piece = BUF_LEN / segs;

			for (k = 0; k < segs; k++)
				iov[i][k] = (struct iovec){ h->buf[i] + k * piece,
					k + 1 < segs ? piece : BUF_LEN - k * piece };
			f[i] = (struct netbe_frame){ .iov = iov[i], .iovcnt = (int)segs };
		}
		n = netbe_recv_burst(rx, f, RX_BURST);
		ASSERT(n >= 0);
		for (i = 0; i < (unsigned)n; i++) {
			ASSERT(f[i].result > 0 && f[i].result <= BUF_LEN);
			/* the pieces are contiguous: the frame is h->buf[i] */
			check_delivered(h->buf[i], (size_t)f[i].result, hl, feat);
			memcpy(h->last, h->buf[i], (size_t)f[i].result);
			*last = (size_t)f[i].result;
		}
		got += (unsigned)n;
	} while (n > 0);
	ASSERT(netbe_peek_recvlen(rx) == 0);
	return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned soft, thl, rhl, got;
	struct netbe_stats ta, tb, ra, rb;
	uint64_t tfeat, rfeat, tdrop, rdrop;
	struct netbe *tx, *rx;
	struct netbe_frame fr;
	struct iovec iov[8];
	const uint8_t *frame;
	size_t flen, last = 0;
	int ret;

	if (!h)
		harness_init();
	if (size < CTL_BYTES)
		return 0;
	soft = (data[0] >> 2) & 1;
	tx = h->tx[soft];
	rx = h->rx[soft];
	thl = hdr_lens[data[0] & 3];
	rhl = hdr_lens[data[1] & 3];
	tfeat = pick(tx, data[0] >> 3, host_bits, 5, thl);
	rfeat = pick(rx, data[1] >> 2, guest_bits, 6, rhl);
	ASSERT(netbe_set_cap(tx, tfeat, thl) == 0);
	ASSERT(netbe_set_cap(rx, rfeat, rhl) == 0);
	frame = data + CTL_BYTES;
	flen = size - CTL_BYTES;
	if (!flen)
		return 0;
	tdrop = drops(tx, &ta);
	rdrop = drops(rx, &ra);
	fr = (struct netbe_frame){ .iov = iov,
				   .iovcnt = cut(frame, flen, data[2], data[3], iov) };
	ret = netbe_send_burst(tx, &fr, 1);
	ASSERT(ret == 1 && fr.result == (ssize_t)flen);
	tdrop = drops(tx, &tb) - tdrop;
	ASSERT((tdrop == 1 && tb.tx_frames == ta.tx_frames) ||
	       (tdrop == 0 && tb.tx_frames > ta.tx_frames));
	got = drain(rx, rhl, rfeat, data[4], &last);
	rdrop = drops(rx, &rb) - rdrop;
	ASSERT(rb.rx_frames - ra.rx_frames == got);
	ASSERT(got + rdrop >= tb.tx_frames - ta.tx_frames);
	/* a frame that asked for nothing arrives as it was sent */
	if (tdrop == 0 && got == 1 && thl == rhl && (!thl || (frame[0] == 0 && frame[1] == 0)))
		ASSERT(last == flen && memcmp(h->last + rhl, frame + thl, flen - thl) == 0);
	return 0;
}
