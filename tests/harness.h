/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * harness.h - a tiny TAP producer for netbe's C tests.
 *
 * Each test is a void function run by RUN(); CHECK() records a failure with
 * its location and goes on, so one run reports every broken expectation.
 * SKIP() reports a test that cannot run here with its reason (tests that
 * need root say "needs root"). harness_done() prints the plan and returns
 * the exit status. Meson reads the output with protocol: 'tap'.
 */
#ifndef NETBE_TEST_HARNESS_H
#define NETBE_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int harness_n, harness_failed, harness_cur_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		harness_cur_failed = 1;					\
		printf("# %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	}								\
} while (0)

/* Compare two integers and print both when they differ. */
#define CHECK_EQ(a, b) do {						\
	long long ca_ = (long long)(a), cb_ = (long long)(b);		\
	if (ca_ != cb_) {						\
		harness_cur_failed = 1;					\
		printf("# %s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", \
		       __FILE__, __LINE__, #a, ca_, #b, cb_);		\
	}								\
} while (0)

#define CHECK_STR_CONTAINS(hay, needle) do {				\
	const char *ch_ = (hay);					\
	if (!ch_ || !strstr(ch_, (needle))) {				\
		harness_cur_failed = 1;					\
		printf("# %s:%d: \"%s\" does not contain \"%s\"\n",	\
		       __FILE__, __LINE__, ch_ ? ch_ : "(null)", (needle)); \
	}								\
} while (0)

#define RUN(fn) do {							\
	harness_cur_failed = 0;						\
	fflush(stdout);							\
	fn();								\
	harness_n++;							\
	if (harness_cur_failed)						\
		harness_failed++;					\
	printf("%s %d - %s\n", harness_cur_failed ? "not ok" : "ok",	\
	       harness_n, #fn);						\
	fflush(stdout);							\
} while (0)

/* Run fn(arg) and report it under the name @name (a string). */
#define RUN_CASE(name, fn, arg) do {					\
	harness_cur_failed = 0;						\
	fflush(stdout);							\
	fn(arg);							\
	harness_n++;							\
	if (harness_cur_failed)						\
		harness_failed++;					\
	printf("%s %d - %s\n", harness_cur_failed ? "not ok" : "ok",	\
	       harness_n, (name));					\
	fflush(stdout);							\
} while (0)

#define SKIP(fn, reason) do {						\
	harness_n++;							\
	printf("ok %d - %s # SKIP %s\n", harness_n, #fn, (reason));	\
	printf("# skipped: %s\n", (reason));				\
	fflush(stdout);							\
} while (0)

/* Report the test called @name (a string) as skipped for @reason. */
#define SKIP_CASE(name, reason) do {					\
	harness_n++;							\
	printf("ok %d - %s # SKIP %s\n", harness_n, (name), (reason));	\
	printf("# skipped: %s\n", (reason));				\
	fflush(stdout);							\
} while (0)

/* Return: CLOCK_MONOTONIC in milliseconds, for bounded waits. */
static inline uint64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline int harness_is_root(void)
{
	return geteuid() == 0;
}

static inline int harness_done(void)
{
	printf("1..%d\n", harness_n);
	return harness_failed ? 1 : 0;
}

#endif /* NETBE_TEST_HARNESS_H */
