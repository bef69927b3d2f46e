/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock.h - a clock read in nanoseconds, the one conversion that the
 * loop's timers and busy polling, slirp's clock, vxlan's table aging and
 * the log rate limit all use.
 */
#ifndef NETBE_CLOCK_H
#define NETBE_CLOCK_H

#include <stdint.h>
#include <time.h>

/**
 * nb_clock_ns() - read @clock (CLOCK_MONOTONIC, or CLOCK_MONOTONIC_COARSE
 * where a tick of precision is enough and no syscall is wanted)
 * Return: the time in nanoseconds.
 */
static inline uint64_t nb_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif
