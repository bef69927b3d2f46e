/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-addr.c - libFuzzer target for the address grammar (core/addr.c).
 *
 * Input: byte 0 holds the NETBE_ADDR_* flags (NAMES only when the text
 * has nothing but digits, dots, colons and brackets, so no name is ever
 * looked up; V6 dropped when V4 is set), bytes 1-2 the default port (0
 * means 1), the rest the text (cut at the first NUL). The target runs
 * netbe_addr_parse() and netbe_addr_parse_key() and checks, aborting on a
 * broken invariant:
 *  - an accepted address has a family the flags allow, the length of that
 *    family's socket address, a port of 0 only with NETBE_ADDR_PORT0, and
 *    netbe_addr_format() of it parses again to the same bytes;
 *  - a refused one is -EINVAL with a non-empty reason, and the keyed
 *    variant records a non-empty one-line message naming the key.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "netbe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-addr: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#define FLAGS_ALL (NETBE_ADDR_PORT_OPT | NETBE_ADDR_PORT0 | NETBE_ADDR_ANY | \
		   NETBE_ADDR_NAMES | NETBE_ADDR_UNIX | NETBE_ADDR_V4 | NETBE_ADDR_V6)

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/** fuzz_flags() - the flags byte made safe to run (see the top).
 * Return: the flags. */
static unsigned fuzz_flags(uint8_t b, const char *text)
{
	unsigned flags = b & FLAGS_ALL;

	if (strspn(text, "0123456789.:[]") != strlen(text))
		flags &= ~NETBE_ADDR_NAMES;
	if (flags & NETBE_ADDR_V4)
		flags &= ~NETBE_ADDR_V6;
	return flags;
}

/** check_accepted() - the invariants of an accepted @a (see the top). */
static void check_accepted(const struct netbe_addr *a, unsigned flags, uint16_t def)
{
	char buf[NETBE_ADDR_STRLEN], why[512];
	int family = a->ss.ss_family;
	struct netbe_addr b;

	ASSERT(family == AF_INET || family == AF_INET6 || family == AF_UNIX);
	ASSERT(family != AF_UNIX || (flags & NETBE_ADDR_UNIX));
	ASSERT(!(flags & NETBE_ADDR_V4) || family == AF_INET || family == AF_UNIX);
	ASSERT(!(flags & NETBE_ADDR_V6) || family == AF_INET6 || family == AF_UNIX);
	if (family == AF_INET)
		ASSERT(a->len == sizeof(struct sockaddr_in));
	else if (family == AF_INET6)
		ASSERT(a->len == sizeof(struct sockaddr_in6));
	else
		ASSERT(a->len == offsetof(struct sockaddr_un, sun_path) +
		       strlen(((const struct sockaddr_un *)&a->ss)->sun_path) + 1);
	ASSERT(family == AF_UNIX || (flags & NETBE_ADDR_PORT0) ||
	       netbe_addr_port((const struct sockaddr *)&a->ss) != 0);
	netbe_addr_format((const struct sockaddr *)&a->ss, a->len, buf, sizeof(buf));
	ASSERT(netbe_addr_parse(buf, flags, def, &b, why, sizeof(why)) == 0);
	ASSERT(b.len == a->len && !memcmp(&b.ss, &a->ss, a->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct netbe_addr a, k;
	char why[512] = "", *text;
	const char *msg;
	unsigned flags;
	uint16_t def;
	int ret;

	if (!quiet) {
		netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
		quiet = true;
	}
	if (size < 3)
		return 0;
	text = malloc(size - 2);
	if (!text)
		return 0;
	memcpy(text, data + 3, size - 3);
	text[size - 3] = '\0';
	flags = fuzz_flags(data[0], text);
	def = (uint16_t)(data[1] << 8 | data[2]);
	def = def ? def : 1;
	ret = netbe_addr_parse(text, flags, def, &a, why, sizeof(why));
	if (ret) {
		ASSERT(ret == -EINVAL && *why);
		ASSERT(netbe_addr_parse_key("fuzz", "k", text, flags, def, &k) == ret);
		msg = netbe_last_error();
		ASSERT(msg && !strncmp(msg, "fuzz: k=", 8) && !strchr(msg, '\n'));
	} else {
		check_accepted(&a, flags, def);
	}
	free(text);
	return 0;
}
