/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-vdev.c - libFuzzer target for the virtio-net device model over
 * hostile guest memory (src/virtio/vdev*.c on vring.c), with a pair
 * backend whose other end plays the network.
 *
 * Input: a 16-byte header, then the initial contents of 256 KiB of guest
 * memory (the rest is zero):
 *   [0]      bit 0 MRG_RXBUF, bit 1 EVENT_IDX, bit 2 INDIRECT_DESC,
 *            bits 4-7 log2 of the ring size (taken modulo 9)
 *   [1..6]   tx ring: desc, avail, used offsets / 16 (le16 each)
 *   [7..12]  rx ring: the same
 *   [13]     frames the network sends to the guest (low 3 bits)
 *   [14..15] their length (le16; 0 means 65535 + 14), each one byte longer
 * The guest transmits whatever its tx ring describes, then the network
 * sends the frames into whatever its rx ring describes.
 * Invariants: every tx chain the device took is returned exactly once
 * (used index == avail entries taken, unless the ring broke), and every
 * frame the peer received came from the guest (count <= chains taken);
 * every rx frame is delivered, dropped and counted, or still held by the
 * backend; the device never touches memory outside the region (ASan).
 * (Used lengths are not checked in guest memory: a guest may put its rx
 * buffers over its own used ring, and the frame bytes then land there.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdev.h"

#define MEM_SIZE (256u * 1024)
#define MEM_GPA  0x40000ULL
#define HDR_LEN  16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct netbe_epoll *ep;
	struct netbe_vdev *dev;
	struct netbe *peer;
	uint8_t *mem;
	uint8_t frame[65535 + 14 + 8];
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-vdev: %s\n", what);
	abort();
}

static void on_notify(void *opaque, unsigned q)
{
	(void)opaque;
	(void)q;
}

/* Setup errors are expected by the thousand: keep them off stderr. */
static void quiet(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static uint16_t le16at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/** ring_at() - queue addresses from 6 header bytes. */
static struct netbe_vdev_vring ring_at(const uint8_t *p, unsigned num)
{
	return (struct netbe_vdev_vring){ num, MEM_GPA + 16ULL * le16at(p),
					  MEM_GPA + 16ULL * le16at(p + 2),
					  MEM_GPA + 16ULL * le16at(p + 4), 0 };
}

/** check_tx() - the tx ring's accounting after the guest's burst: each
 * chain taken is returned once or still waits for the backend. */
static void check_tx(struct run *r)
{
	struct vdev_pair *pr;
	struct vdev_queue *vq = vdev_queue_of(r->dev, 1, &pr);
	struct iovec iov = { r->frame, sizeof(r->frame) };

	if (!vq->started || vq->vr.broken)
		return;
	if ((uint16_t)(vq->vr.used_idx + pr->tx_pending) != vq->vr.last_avail)
		fail("a tx chain taken was not returned exactly once");
	while (netbe_recv(r->peer, &iov, 1) > 0)
		;
}

/** send_rx() - the network sends @n frames of growing length.
 * Return: how many the peer's handle passed on (runts it drops). */
static unsigned send_rx(struct run *r, unsigned n, size_t len)
{
	struct iovec iov = { r->frame, 0 };
	struct netbe_stats before, after;
	unsigned i;

	memset(r->frame, 0x5a, sizeof(r->frame));
	memcpy(r->frame, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x88\xb5", 14);
	netbe_get_stats(r->peer, &before);
	for (i = 0; i < n; i++) {
		iov.iov_len = len + i > 65535 + 14 ? 65535 + 14 : len + i;
		netbe_send(r->peer, &iov, 1);
	}
	netbe_get_stats(r->peer, &after);
	return (unsigned)(after.tx_frames - before.tx_frames);
}

/** counted_rx() - frames the device's backend delivered or dropped so
 * far. Return: their count. */
static uint64_t counted_rx(struct run *r)
{
	struct netbe_stats bs;
	uint64_t n = 0;
	unsigned i;

	netbe_get_stats(netbe_vdev_backend(r->dev, 0), &bs);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		n += bs.drops[i];
	return n + bs.rx_frames;
}

/** check_rx() - every frame sent is delivered, dropped and counted, or
 * still held by the backend (@before: counted_rx() before sending). */
static void check_rx(struct run *r, unsigned sent, uint64_t before)
{
	struct vdev_pair *pr;
	struct vdev_queue *vq = vdev_queue_of(r->dev, 0, &pr);
	struct netbe *be = pr->be;

	while (netbe_peek_recvlen(be) > 0 && netbe_rx_discard(be) > 0)
		;
	if (counted_rx(r) - before != sent)
		fail("an rx frame was lost without being counted");
	if (vq->started && pr->nheld > VDEV_RX_HELD_MAX)
		fail("more rx chains held than the model allows");
}

/** run_once() - set the device up as the header says and drive it. */
static void run_once(struct run *r, const uint8_t *h)
{
	unsigned num = 1u << ((h[0] >> 4) % 9), sent;
	uint64_t before;
	uint64_t f = netbe_vdev_features(r->dev) & ~(NETBE_F_MRG_RXBUF |
		NETBE_F_RING_EVENT_IDX | NETBE_F_RING_INDIRECT_DESC);
	struct netbe_vdev_region reg = { MEM_GPA, MEM_SIZE, r->mem };
	struct netbe_vdev_vring tx = ring_at(h + 1, num), rx = ring_at(h + 7, num);
	size_t len = le16at(h + 14) ? le16at(h + 14) : 65535 + 14;

	f |= h[0] & 1 ? NETBE_F_MRG_RXBUF : 0;
	f |= h[0] & 2 ? NETBE_F_RING_EVENT_IDX : 0;
	f |= h[0] & 4 ? NETBE_F_RING_INDIRECT_DESC : 0;
	if (netbe_vdev_set_features(r->dev, f) || netbe_vdev_set_mem(r->dev, &reg, 1))
		fail("setup refused");
	if (!netbe_vdev_set_vring(r->dev, 1, &tx))
		check_tx(r);
	if (netbe_vdev_set_vring(r->dev, 0, &rx))
		return;
	before = counted_rx(r);
	sent = send_rx(r, h[13] & 7, len);
	netbe_vdev_kick(r->dev, 0);
	while (netbe_epoll_dispatch(r->ep, 0) > 0)
		;
	check_rx(r, sent, before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run *r;
	struct netbe_vdev_params p = { .spec = "pair:fz,depth=16", .notify = on_notify };

	if (size < HDR_LEN)
		return 0;
	if (!r) {
		netbe_set_log(quiet, NULL, NETBE_LOG_ERR);
		r = calloc(1, sizeof(*r));
		if (!r || netbe_epoll_new(&r->ep) ||
		    netbe_vdev_new(&r->dev, &p, netbe_epoll_loop(r->ep)) ||
		    netbe_open(&r->peer, "pair:fz", NULL, netbe_epoll_loop(r->ep)) ||
		    netbe_set_cap(r->peer, 0, 0))
			fail("cannot set up");
	}
	r->mem = calloc(1, MEM_SIZE);
	if (!r->mem)
		fail("out of memory");
	memcpy(r->mem, data + HDR_LEN, size - HDR_LEN < MEM_SIZE ? size - HDR_LEN : MEM_SIZE);
	run_once(r, data);
	netbe_vdev_reset(r->dev);
	free(r->mem);
	return 0;
}
