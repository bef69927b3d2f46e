/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - logging and error reporting inside the library.
 *
 * Every message goes through the hook installed with netbe_set_log().
 * netbe_errf() is how a failing call says what was wrong: it records the
 * message as the thread's netbe_last_error(), logs it, and returns the errno
 * it was given, so a failure path reads "return netbe_errf(-EINVAL, ...)".
 * Data-path messages use the _rl variants, which print at most a few lines
 * per second per call site and say how many were suppressed.
 */
#ifndef NETBE_LOG_H
#define NETBE_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "netbe.h"

#define NETBE_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Per call site state of a rate-limited message. */
struct netbe_ratelimit {
	uint64_t window_start_ns;
	unsigned printed;
	unsigned suppressed;
};

/** netbe_logf() - log one line at @level (dropped above the hook's level). */
void netbe_logf(enum netbe_log_level level, const char *fmt, ...) NETBE_PRINTF(2, 3);

/** netbe_errf() - record and log an error message. Return: @err. */
int netbe_errf(int err, const char *fmt, ...) NETBE_PRINTF(2, 3);

/** netbe_errf_rl() - netbe_errf() whose logging is rate-limited by @rl. */
int netbe_errf_rl(struct netbe_ratelimit *rl, int err, const char *fmt, ...)
	NETBE_PRINTF(3, 4);

/** netbe_logf_rl() - netbe_logf() rate-limited by @rl. */
void netbe_logf_rl(struct netbe_ratelimit *rl, enum netbe_log_level level,
		   const char *fmt, ...) NETBE_PRINTF(3, 4);

#define nb_err(...)   netbe_logf(NETBE_LOG_ERR, __VA_ARGS__)
#define nb_warn(...)  netbe_logf(NETBE_LOG_WARN, __VA_ARGS__)
#define nb_info(...)  netbe_logf(NETBE_LOG_INFO, __VA_ARGS__)
#define nb_debug(...) netbe_logf(NETBE_LOG_DEBUG, __VA_ARGS__)

/* Rate-limited error return from a data-path call site. */
#define NB_ERR_RL(err, ...) __extension__ ({				\
	static struct netbe_ratelimit nb_rl_;				\
	netbe_errf_rl(&nb_rl_, (err), __VA_ARGS__);			\
})

/* Rate-limited log line from a data-path call site. */
#define NB_LOG_RL(level, ...) do {					\
	static struct netbe_ratelimit nb_rl_;				\
	netbe_logf_rl(&nb_rl_, (level), __VA_ARGS__);			\
} while (0)

#endif /* NETBE_LOG_H */
