/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.c - the one address grammar of spec values (see addr.h).
 *
 * Parsing goes in three steps, each with its own messages: split the text
 * into HOST and PORT (brackets, the bare IPv6 ambiguity), read the port,
 * then read the host (empty, numeric, or a name where allowed). A value
 * holding '/' is a unix socket path where the key takes one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "log.h"

#define ADDR_HOST_MAX 256
#define ADDR_BRACKETS "write IPv6 as [V6]:PORT, e.g. [::1]:4444"

/** addr_why() - format the failure into @why.
 * Return: -EINVAL. */
static int addr_why(char *why, size_t len, const char *fmt, ...) NETBE_PRINTF(3, 4);
static int addr_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/** addr_family_name() - what @flags allow, for messages.
 * Return: a static string. */
static const char *addr_family_name(unsigned flags)
{
	if (flags & NETBE_ADDR_V4)
		return "IPv4";
	return flags & NETBE_ADDR_V6 ? "IPv6" : "IPv4 or IPv6";
}

/** addr_example() - an address of the family @flags allow, for messages.
 * Return: a static string. */
static const char *addr_example(unsigned flags)
{
	if (flags & NETBE_ADDR_V4)
		return "10.0.0.1";
	return flags & NETBE_ADDR_V6 ? "[fd00::1]" : "10.0.0.1 or [fd00::1]";
}

/** addr_is_v6() - whether the @n bytes at @s are an IPv6 address, with
 * or without a "%SCOPE". Return: true when they are. */
static bool addr_is_v6(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;
	const char *pct = memchr(s, '%', n);

	if (pct)
		n = (size_t)(pct - s);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/** addr_is_digits() - Return: whether @s is one or more decimal digits. */
static bool addr_is_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/**
 * addr_split_bare() - split @text, which has no brackets, at its port
 * colon. Two or more colons make a bare IPv6 address: accepted whole when
 * the port is optional and it cannot be read as ADDR:PORT.
 * Return: the port text or NULL (no port), or -EINVAL in *@err.
 */
static const char *addr_split_bare(const char *text, unsigned flags,
				   size_t *hostlen, int *err, char *why,
				   size_t whylen)
{
	const char *colon = strchr(text, ':'), *last = strrchr(text, ':');

	*hostlen = colon ? (size_t)(colon - text) : strlen(text);
	if (colon == last)
		return colon ? colon + 1 : NULL;
	if ((flags & NETBE_ADDR_PORT_OPT) &&
	    !(addr_is_v6(text, (size_t)(last - text)) && addr_is_digits(last + 1))) {
		*hostlen = strlen(text);
		return NULL;
	}
	*err = addr_why(why, whylen, "an IPv6 address with a port needs brackets - %s",
			ADDR_BRACKETS);
	return NULL;
}

/**
 * addr_split() - @text into @host and the port text (*@port, NULL when
 * none is written)
 * Return: 0, or -EINVAL with @why filled in.
 */
static int addr_split(const char *text, unsigned flags, char *host,
		      const char **port, char *why, size_t whylen)
{
	const char *h = text, *end;
	size_t n;
	int err = 0;

	if (*text == '[') {
		h = text + 1;
		end = strchr(h, ']');
		if (!end || (end[1] && end[1] != ':'))
			return addr_why(why, whylen, "%s - %s",
					end ? "text after ']' that is not :PORT" : "no ']' after '['",
					ADDR_BRACKETS);
		n = (size_t)(end - h);
		*port = end[1] ? end + 2 : NULL;
	} else {
		*port = addr_split_bare(text, flags, &n, &err, why, whylen);
		if (err)
			return err;
	}
	if (!*port && !(flags & NETBE_ADDR_PORT_OPT))
		return addr_why(why, whylen, "no port - use HOST:PORT or [V6]:PORT, e.g. 127.0.0.1:4444%s",
				flags & NETBE_ADDR_UNIX ? ", or a unix socket PATH (holding a '/')" : "");
	if (n >= ADDR_HOST_MAX)
		return addr_why(why, whylen, "the host part is longer than %d bytes",
				ADDR_HOST_MAX - 1);
	memcpy(host, h, n);
	host[n] = '\0';
	return 0;
}

/**
 * addr_parse_port() - @s as a decimal port, 1..65535 (0..65535 with
 * NETBE_ADDR_PORT0)
 * Return: the port, or -EINVAL with @why filled in.
 */
static int addr_parse_port(const char *s, unsigned flags, char *why, size_t whylen)
{
	unsigned min = flags & NETBE_ADDR_PORT0 ? 0 : 1;
	unsigned long v = 0;
	const char *p;

	if (!addr_is_digits(s))
		return addr_why(why, whylen, "bad port '%s': not a number - use %u..65535",
				s, min);
	for (p = s; *p && v <= 65535; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v < min || v > 65535)
		return addr_why(why, whylen, "bad port '%s': out of range - use %u..65535",
				s, min);
	return (int)v;
}

/** addr_set_port() - store @port in the IPv4 or IPv6 address @a.
 * Return: nothing. */
static void addr_set_port(struct netbe_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
}

/** addr_wildcard() - the any-address of the family @flags allow (IPv4
 * unless IPv6 only) into @a. Return: 0. */
static int addr_wildcard(unsigned flags, struct netbe_addr *a)
{
	bool v6 = flags & NETBE_ADDR_V6;

	a->ss.ss_family = v6 ? AF_INET6 : AF_INET;
	a->len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	return 0;
}

/** addr_scope() - the interface @s after '%': a name or an index.
 * Return: its index, or 0 when there is no such interface. */
static uint32_t addr_scope(const char *s)
{
	uint32_t id = if_nametoindex(s);
	unsigned long v;
	char *end;

	if (id || !addr_is_digits(s) || *s == '0')
		return id;
	errno = 0;
	v = strtoul(s, &end, 10);
	return errno || v > UINT32_MAX ? 0 : (uint32_t)v;
}

/**
 * addr_numeric() - @host as a dotted-quad IPv4 or an IPv6 address with an
 * optional "%SCOPE"; @host is cut at the '%'
 * Return: 0, -ENOENT when it is not numeric, or -EINVAL with @why filled
 * in for a bad scope.
 */
static int addr_numeric(char *host, struct netbe_addr *a, char *why, size_t whylen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
	char *scope = strchr(host, '%');

	if (!scope && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		a->len = sizeof(*s4);
		return 0;
	}
	if (scope)
		*scope++ = '\0';
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
		return -ENOENT;
	s6->sin6_family = AF_INET6;
	a->len = sizeof(*s6);
	if (scope && !(s6->sin6_scope_id = addr_scope(scope)))
		return addr_why(why, whylen, "no interface '%s' after '%%' - give an interface name or index, e.g. fe80::1%%eth0",
				scope);
	return 0;
}

/** addr_looks_numeric() - whether @host is meant as a numeric address
 * (only digits and dots, or it has a ':'), so a typo is reported at once
 * instead of after a name lookup times out. Return: true when it is. */
static bool addr_looks_numeric(const char *host)
{
	return strchr(host, ':') || strspn(host, "0123456789.") == strlen(host);
}

/**
 * addr_resolve() - look @host up (numeric forms only when it looks
 * numeric), keeping the first address of the allowed family
 * Return: 0, or -EINVAL with @why filled in.
 */
static int addr_resolve(const char *host, unsigned flags, struct netbe_addr *a,
			char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	int rc;

	hints.ai_family = flags & NETBE_ADDR_V4 ? AF_INET :
			  flags & NETBE_ADDR_V6 ? AF_INET6 : AF_UNSPEC;
	if (addr_looks_numeric(host))
		hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc)
		return addr_why(why, whylen, "'%s' is not an %s address or a name that resolves to one (%s)",
				host, addr_family_name(flags), gai_strerror(rc));
	if (res->ai_addrlen > sizeof(a->ss)) {
		freeaddrinfo(res);
		return addr_why(why, whylen, "'%s' resolves to an unsupported address", host);
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/**
 * addr_host() - @host (cut at a '%') into @a: empty, numeric, or a name
 * Return: 0, or -EINVAL with @why filled in.
 */
static int addr_host(char *host, unsigned flags, struct netbe_addr *a,
		     char *why, size_t whylen)
{
	int family, err;

	if (!*host) {
		if (flags & NETBE_ADDR_ANY)
			return addr_wildcard(flags, a);
		return addr_why(why, whylen, "no host - give an address, e.g. 127.0.0.1:4444");
	}
	err = addr_numeric(host, a, why, whylen);
	if (err == -ENOENT && (flags & NETBE_ADDR_NAMES))
		return addr_resolve(host, flags, a, why, whylen);
	if (err == -ENOENT)
		return addr_why(why, whylen, "'%s' is not a numeric address - write an %s address, e.g. %s",
				host, addr_family_name(flags), addr_example(flags));
	if (err)
		return err;
	family = a->ss.ss_family;
	if (((flags & NETBE_ADDR_V4) && family != AF_INET) ||
	    ((flags & NETBE_ADDR_V6) && family != AF_INET6))
		return addr_why(why, whylen, "'%s' is not an %s address",
				host, addr_family_name(flags));
	return 0;
}

/** addr_unix() - the path @text as a unix socket address.
 * Return: 0, or -EINVAL with @why filled in when it is too long. */
static int addr_unix(const char *text, struct netbe_addr *a, char *why,
		     size_t whylen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
	size_t n = strlen(text);

	if (n >= sizeof(un->sun_path))
		return addr_why(why, whylen, "a unix socket path has at most %zu bytes, this one %zu - use a shorter path",
				sizeof(un->sun_path) - 1, n);
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, text, n + 1);
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int netbe_addr_parse(const char *text, unsigned flags, uint16_t default_port,
		     struct netbe_addr *out, char *why, size_t whylen)
{
	char host[ADDR_HOST_MAX];
	const char *port_s = NULL;
	int port = default_port, err;

	memset(out, 0, sizeof(*out));
	if ((flags & NETBE_ADDR_UNIX) && strchr(text, '/'))
		return addr_unix(text, out, why, whylen);
	err = addr_split(text, flags, host, &port_s, why, whylen);
	if (!err && port_s)
		err = port = addr_parse_port(port_s, flags, why, whylen);
	if (err < 0)
		return err;
	err = addr_host(host, flags, out, why, whylen);
	if (err)
		return err;
	addr_set_port(out, (uint16_t)port);
	return 0;
}

int netbe_addr_parse_key(const char *who, const char *key, const char *text,
			 unsigned flags, uint16_t default_port,
			 struct netbe_addr *out)
{
	char why[512];
	int err = netbe_addr_parse(text, flags, default_port, out, why, sizeof(why));

	if (err)
		return netbe_errf(err, "%s: %s=%s: %s", who, key, text, why);
	return 0;
}

uint16_t netbe_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

const char *netbe_addr_format(const struct sockaddr *sa, socklen_t len,
			      char *buf, size_t size)
{
	const size_t off = offsetof(struct sockaddr_un, sun_path);
	char a[INET6_ADDRSTRLEN], scope[16] = "";

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, netbe_addr_port(sa));
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		if (s6->sin6_scope_id)
			snprintf(scope, sizeof(scope), "%%%u", s6->sin6_scope_id);
		snprintf(buf, size, "[%s%s]:%u", a, scope, netbe_addr_port(sa));
	} else if (sa->sa_family == AF_UNIX && len > off) {
		const char *path = ((const struct sockaddr_un *)sa)->sun_path;

		snprintf(buf, size, "%.*s", (int)strnlen(path, len - off), path);
	} else {
		snprintf(buf, size, "(unnamed)");
	}
	return buf;
}

/* The value 0..15 of hex digit @c, or -1. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int netbe_mac_parse(const char *text, uint8_t mac[6])
{
	unsigned i;

	for (i = 0; i < 6; i++, text += 3) {
		int hi = hex_digit(text[0]), lo = hi < 0 ? -1 : hex_digit(text[1]);
		char sep = lo < 0 ? '?' : text[2];

		if (i == 5 ? sep != '\0' : sep != ':' && sep != '-')
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
