/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - the log hook, the per-thread last error, and rate limiting.
 *
 * The hook is process-wide and set rarely (at start-up), so it is read
 * without locking. The last error is per thread, so a sending thread and a
 * receiving thread never overwrite each other's message.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

#define NETBE_MSG_MAX 512
#define RATELIMIT_WINDOW_NS 1000000000ULL
#define RATELIMIT_BURST 5

static netbe_log_fn log_fn;
static void *log_opaque;
static enum netbe_log_level log_level = NETBE_LOG_INFO;
static __thread char last_error[NETBE_MSG_MAX];

NETBE_EXPORT void netbe_set_log(netbe_log_fn fn, void *opaque,
				enum netbe_log_level level)
{
	log_fn = fn;
	log_opaque = opaque;
	log_level = level;
}

NETBE_EXPORT const char *netbe_last_error(void)
{
	return last_error;
}

/* Deliver one formatted line to the hook or to stderr. */
static void log_emit(enum netbe_log_level level, const char *msg)
{
	if (log_fn)
		log_fn(log_opaque, level, msg);
	else
		fprintf(stderr, "netbe: %s\n", msg);
}

/* Format @fmt into @buf, replacing newlines so a message stays one line. */
static void NETBE_PRINTF(3, 0) format_line(char *buf, size_t len,
					    const char *fmt, va_list ap)
{
	char *p;

	vsnprintf(buf, len, fmt, ap);
	for (p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

void netbe_logf(enum netbe_log_level level, const char *fmt, ...)
{
	char msg[NETBE_MSG_MAX];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	format_line(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(level, msg);
}

int netbe_errf(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_line(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (log_level >= NETBE_LOG_ERR)
		log_emit(NETBE_LOG_ERR, last_error);
	return err;
}

/* Return: 1 when a rate-limited message may be printed now. */
static int ratelimit_allow(struct netbe_ratelimit *rl, unsigned *suppressed)
{
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC);

	*suppressed = 0;
	if (now - rl->window_start_ns >= RATELIMIT_WINDOW_NS) {
		*suppressed = rl->suppressed;
		rl->window_start_ns = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < RATELIMIT_BURST) {
		rl->printed++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}

/* Log @msg through @rl, saying how many lines were held back before it. */
static void log_limited(struct netbe_ratelimit *rl, enum netbe_log_level level,
			const char *msg)
{
	unsigned suppressed;

	if (level > log_level || !ratelimit_allow(rl, &suppressed))
		return;
	if (suppressed) {
		char line[NETBE_MSG_MAX + 64];

		snprintf(line, sizeof(line), "%s (%u similar messages suppressed)",
			 msg, suppressed);
		log_emit(level, line);
		return;
	}
	log_emit(level, msg);
}

int netbe_errf_rl(struct netbe_ratelimit *rl, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_line(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	log_limited(rl, NETBE_LOG_ERR, last_error);
	return err;
}

void netbe_logf_rl(struct netbe_ratelimit *rl, enum netbe_log_level level,
		   const char *fmt, ...)
{
	char msg[NETBE_MSG_MAX];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	format_line(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_limited(rl, level, msg);
}
