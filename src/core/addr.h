/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.h - the one address grammar of spec values (doc/spec.md,
 * "Addresses"), shared by every backend that takes an address.
 *
 *   ADDR := IPV4 [ ":" PORT ]             10.0.0.1, 10.0.0.1:4789
 *         | "[" IPV6 [ "%" SCOPE ] "]" [ ":" PORT ]
 *         | IPV6 [ "%" SCOPE ]            fd00::1 (port optional only)
 *         | ":" PORT                      any address (NETBE_ADDR_ANY)
 *         | NAME ":" PORT                 a host name (NETBE_ADDR_NAMES)
 *         | PATH                          holds a '/' (NETBE_ADDR_UNIX)
 *
 * A bare IPv6 address is refused whenever it could also be read as
 * ADDR:PORT (::1:4444): it has to be written [::1]:4444 or [::1:4444].
 * The flags say which forms a key accepts; the messages are the same for
 * every backend.
 */
#ifndef NETBE_ADDR_H
#define NETBE_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NETBE_ADDR_PORT_OPT (1u << 0) /* the port may be left out */
#define NETBE_ADDR_PORT0    (1u << 1) /* port 0: the kernel picks one */
#define NETBE_ADDR_ANY      (1u << 2) /* empty host: the wildcard address */
#define NETBE_ADDR_NAMES    (1u << 3) /* host names, resolved once */
#define NETBE_ADDR_UNIX     (1u << 4) /* a value holding '/' is a path */
#define NETBE_ADDR_V4       (1u << 5) /* IPv4 only */
#define NETBE_ADDR_V6       (1u << 6) /* IPv6 only */

/* Enough for any address netbe_addr_format() writes. */
#define NETBE_ADDR_STRLEN 128

/* A parsed address: an AF_INET, AF_INET6 or AF_UNIX socket address. */
struct netbe_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/**
 * netbe_addr_parse() - parse @text by the grammar above, as @flags allow
 * @default_port: the port when none is written (NETBE_ADDR_PORT_OPT)
 * @why: gets what is wrong, one line, when parsing fails
 * Return: 0 with *@out set, or -EINVAL with @why filled in.
 */
int netbe_addr_parse(const char *text, unsigned flags, uint16_t default_port,
		     struct netbe_addr *out, char *why, size_t whylen);

/**
 * netbe_addr_parse_key() - netbe_addr_parse() of the value @text of spec
 * key @key of backend @who, the failure recorded as
 * "WHO: KEY=TEXT: WHY" with netbe_errf()
 * Return: 0 with *@out set, or -EINVAL with the message recorded.
 */
int netbe_addr_parse_key(const char *who, const char *key, const char *text,
			 unsigned flags, uint16_t default_port,
			 struct netbe_addr *out);

/**
 * netbe_addr_format() - @sa (@len bytes) as the grammar writes it:
 * "1.2.3.4:5", "[fd00::1]:5", "[fe80::1%2]:5" or the path; anything
 * else as "(unnamed)"
 * Return: @buf.
 */
const char *netbe_addr_format(const struct sockaddr *sa, socklen_t len,
			      char *buf, size_t size);

/** netbe_addr_port() - the port of an AF_INET/AF_INET6 @sa in host order.
 * Return: it, or 0 for another family. */
uint16_t netbe_addr_port(const struct sockaddr *sa);

/**
 * netbe_mac_parse() - an Ethernet address "52:54:00:12:34:56" (six
 * two-digit hex bytes, ':' or '-' between them) into @mac
 * Return: 0, or -EINVAL for anything else.
 */
int netbe_mac_parse(const char *text, uint8_t mac[6]);

#endif /* NETBE_ADDR_H */
