/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cable.h - two netbe handles wired back to back on one epoll loop, or on
 * two loops run by two threads (a direction per thread): the data path of
 * `netbe patch`, apart from its command line so that tests can drive it
 * in-process.
 */
#ifndef NETBE_CABLE_H
#define NETBE_CABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "netbe.h"

struct cable;

/* What one direction moved: frames, and the receive calls that got them;
 * and the frames received but not sent yet (the sink pushed back), which
 * closing the cable throws away. */
struct cable_flow {
	uint64_t frames;
	uint64_t bursts;
	uint64_t held;
};

/**
 * cable_open() - open @spec_a and @spec_b on @ep, fix the richest common
 * header and offload setting (printed as one "patch: offloads" line) and
 * allocate each direction's buffers. Traffic starts with cable_start().
 * With @ep_b, A's receive side and B's transmit side (direction A->B) are
 * on @ep, the rest (B->A) on @ep_b: run each loop on its own thread.
 * Return: 0, or -errno after printing what failed on stderr.
 */
int cable_open(struct cable **out, struct netbe_epoll *ep,
	       struct netbe_epoll *ep_b, const char *spec_a, const char *spec_b);

/** cable_start() - enable receive on both ends. */
void cable_start(struct cable *c);

/** cable_failed() - Return: true once a backend failed; the cable then
 * stopped the loops and printed why. Safe from any thread. */
bool cable_failed(const struct cable *c);

/** cable_end() - Return: end A's handle (@b false) or end B's. */
struct netbe *cable_end(const struct cable *c, bool b);

/** cable_get_flow() - what moved from A to B (@a_to_b) or from B to A;
 * safe from any thread. */
void cable_get_flow(const struct cable *c, bool a_to_b, struct cable_flow *f);

/* cable_features() - the features negotiated on end A, or B when @b. */
uint64_t cable_features(const struct cable *c, bool b);

/** cable_close() - close both ends and free @c; NULL is a no-op. */
void cable_close(struct cable *c);

#endif /* NETBE_CABLE_H */
