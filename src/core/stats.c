/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.c - a handle's counters: counting from the data path, reading by
 * the frontend, and the names of the drop reasons.
 *
 * Theory of operation
 *
 * struct netbe_stats only grows at its end, and netbe_stats_read() copies
 * as many bytes as the caller's struct has, so programs built against any
 * header since NETBE_0.1 read the fields they know. Drop reasons have a
 * fixed number of slots (NETBE_DROP_SLOTS) before the growing tail, so a
 * new reason does not move the fields after it.
 *
 * The first ABI (symbol version NETBE_0) had netbe_get_stats() as a real
 * function with drops[] between tx_eagain and peers_refused and no size.
 * Programs linked against it still find netbe_get_stats@NETBE_0, which
 * writes that layout (compat_get_stats_v0 below); new programs call the
 * inline netbe_get_stats() of the header, which passes its size.
 *
 * Drop counters and peers_refused are updated atomically (backends count
 * drops from both the sending and the receiving thread); the frame and
 * byte counters of each direction belong to that direction's thread,
 * which adds with an atomic load and store (core_count), so a reader on
 * any thread (the CLI's --stats timer on one of two loops) sees whole
 * values.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core.h"
#include "log.h"

_Static_assert(NETBE_DROP__MAX <= NETBE_DROP_SLOTS,
	       "more drop reasons than struct netbe_stats has slots");

static const char *const drop_names[NETBE_DROP__MAX] = {
	[NETBE_DROP_TX_BAD_HDR] = "tx_bad_hdr",
	[NETBE_DROP_TX_OFFLOAD] = "tx_offload",
	[NETBE_DROP_TX_RUNT] = "tx_runt",
	[NETBE_DROP_TX_TOO_BIG] = "tx_too_big",
	[NETBE_DROP_TX_ERROR] = "tx_error",
	[NETBE_DROP_RX_BAD_HDR] = "rx_bad_hdr",
	[NETBE_DROP_RX_OFFLOAD] = "rx_offload",
	[NETBE_DROP_RX_RUNT] = "rx_runt",
	[NETBE_DROP_RX_DISCARDED] = "rx_discarded",
	[NETBE_DROP_RX_OVERFLOW] = "rx_overflow",
	[NETBE_DROP_RX_FOREIGN] = "rx_foreign",
	[NETBE_DROP_RX_TOO_BIG] = "rx_too_big",
	[NETBE_DROP_RX_BAD_FRAMING] = "rx_bad_framing",
	[NETBE_DROP_TX_FRAGMENT] = "tx_fragment",
	[NETBE_DROP_TX_SPOOFED] = "tx_spoofed",
	[NETBE_DROP_TX_LINK_DOWN] = "tx_link_down",
	[NETBE_DROP_RX_LINK_DOWN] = "rx_link_down",
	[NETBE_DROP_TX_FAULT_LOSS] = "tx_fault_loss",
	[NETBE_DROP_RX_FAULT_LOSS] = "rx_fault_loss",
	[NETBE_DROP_TX_FAULT_OVERFLOW] = "tx_fault_overflow",
	[NETBE_DROP_RX_FAULT_OVERFLOW] = "rx_fault_overflow",
	[NETBE_DROP_FAULT_CLOSED] = "fault_closed",
};

NETBE_EXPORT const char *netbe_drop_reason_name(enum netbe_drop_reason r)
{
	if ((unsigned)r >= NETBE_DROP__MAX)
		return "unknown";
	return drop_names[r];
}

void netbe_count_drop(struct netbe *be, enum netbe_drop_reason reason)
{
	netbe_count_drops(be, reason, 1);
}

void netbe_count_drops(struct netbe *be, enum netbe_drop_reason reason,
		       uint64_t n)
{
	if (n)
		__atomic_fetch_add(&be->stats.drops[reason], n, __ATOMIC_RELAXED);
}

void netbe_count_tx(struct netbe *be, uint64_t frames, uint64_t bytes)
{
	core_count(&be->stats.tx_frames, frames);
	core_count(&be->stats.tx_bytes, bytes);
}

void netbe_count_peer_refused(struct netbe *be)
{
	__atomic_fetch_add(&be->stats.peers_refused, 1, __ATOMIC_RELAXED);
}

/* Read counter @ctr, written on another thread. Return: its value. */
static uint64_t count_read(const uint64_t *ctr)
{
	return __atomic_load_n(ctr, __ATOMIC_RELAXED);
}

/* A consistent copy of @be's counters into @st. */
static void stats_snapshot(struct netbe *be, struct netbe_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	st->tx_frames = count_read(&be->stats.tx_frames);
	st->tx_bytes = count_read(&be->stats.tx_bytes);
	st->rx_frames = count_read(&be->stats.rx_frames);
	st->rx_bytes = count_read(&be->stats.rx_bytes);
	st->tx_eagain = count_read(&be->stats.tx_eagain);
	st->tx_fault_delayed = count_read(&be->stats.tx_fault_delayed);
	st->tx_fault_reordered = count_read(&be->stats.tx_fault_reordered);
	st->tx_fault_duplicated = count_read(&be->stats.tx_fault_duplicated);
	st->tx_fault_corrupted = count_read(&be->stats.tx_fault_corrupted);
	st->rx_fault_delayed = count_read(&be->stats.rx_fault_delayed);
	st->rx_fault_reordered = count_read(&be->stats.rx_fault_reordered);
	st->rx_fault_duplicated = count_read(&be->stats.rx_fault_duplicated);
	st->rx_fault_corrupted = count_read(&be->stats.rx_fault_corrupted);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		st->drops[i] = __atomic_load_n(&be->stats.drops[i], __ATOMIC_RELAXED);
	st->peers_refused = __atomic_load_n(&be->stats.peers_refused, __ATOMIC_RELAXED);
	throttle_stats(be, st);
}

/* The smallest struct netbe_stats a caller may pass: the first layout. */
#define STATS_SIZE_MIN (offsetof(struct netbe_stats, drops) + \
			NETBE_DROP_SLOTS * sizeof(uint64_t))

NETBE_EXPORT int netbe_stats_read(struct netbe *be, struct netbe_stats *st,
				  size_t size)
{
	struct netbe_stats snap;

	if (!be || !st)
		return netbe_errf(-EINVAL, "netbe_stats_read: handle or stats is NULL");
	if (size < STATS_SIZE_MIN)
		return netbe_errf(-EINVAL, "netbe_stats_read: size %zu is below the smallest struct netbe_stats (%zu bytes); pass sizeof(struct netbe_stats)",
				  size, (size_t)STATS_SIZE_MIN);
	stats_snapshot(be, &snap);
	if (size > sizeof(snap)) {
		memset((char *)st + sizeof(snap), 0, size - sizeof(snap));
		size = sizeof(snap);
	}
	memcpy(st, &snap, size);
	return 0;
}

/* The drop reasons of the first ABI, and its struct netbe_stats. */
#define V0_DROP_REASONS 14
struct netbe_stats_v0 {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, tx_eagain;
	uint64_t drops[V0_DROP_REASONS];
	uint64_t peers_refused;
};

int netbe_compat_get_stats_v0(struct netbe *be, struct netbe_stats_v0 *st);

/**
 * netbe_compat_get_stats_v0() - netbe_get_stats@NETBE_0, for programs
 * linked against the first ABI: the counters in that layout.
 * Return: 0, or -EINVAL for NULL arguments.
 */
NETBE_EXPORT int netbe_compat_get_stats_v0(struct netbe *be,
					   struct netbe_stats_v0 *st)
{
	struct netbe_stats snap;

	if (!be || !st)
		return netbe_errf(-EINVAL, "netbe_get_stats: handle or stats is NULL");
	stats_snapshot(be, &snap);
	st->tx_frames = snap.tx_frames;
	st->tx_bytes = snap.tx_bytes;
	st->rx_frames = snap.rx_frames;
	st->rx_bytes = snap.rx_bytes;
	st->tx_eagain = snap.tx_eagain;
	memcpy(st->drops, snap.drops, sizeof(st->drops));
	st->peers_refused = snap.peers_refused;
	return 0;
}
__asm__(".symver netbe_compat_get_stats_v0, netbe_get_stats@NETBE_0");
