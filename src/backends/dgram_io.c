/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dgram_io.c - batched datagram I/O shared by the dgram and mcast backends.
 *
 * Theory of operation. A frame is the whole payload of one datagram, with
 * no header and no length prefix (what QEMU's -netdev dgram and
 * -netdev socket,udp=/mcast= put on the wire). Receive hands the caller's
 * buffers (at least rx_max bytes each) straight to recvmmsg(), with a
 * source address slot per message. Afterwards each datagram is judged:
 * MSG_TRUNC in its msg_flags means it was larger than the buffer, so it is
 * dropped and counted rather than delivered cut short; the backend's
 * filter drops datagrams from strangers (counted) and our own looped-back
 * multicast frames (not counted: they are not frames anybody sent us).
 * Kept frames are compacted to the front, which copies only when something
 * before them was dropped.
 *
 * Transmit uses sendmmsg(). When it stops part way, the next call starts
 * with the failing frame, so its own errno tells what happened: EAGAIN ends
 * the batch (the caller waits for the socket), a hard socket error ends
 * the handle, and anything else (peer not there yet, unreachable, too big)
 * is that frame's fate: it is consumed with x[i].err set and core counts it
 * as a tx error. Because sendmmsg() parks such an error in the socket's
 * pending error (SO_ERROR) when earlier frames of the batch went out, and
 * ICMP errors land there too, the next receive may fail once with it; that
 * is retried, not treated as a dead socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "dgram_io.h"
#include "iov.h"
#include "log.h"

/* recvmmsg() calls per recv op when every datagram so far was dropped. */
#define DGRAM_RECV_ROUNDS 8
/* Retries of a receive failing with a parked (soft) error. */
#define DGRAM_SOFT_RETRIES 4
/* Receive buffer asked for: about 2700 full-size frames, 64 bursts of 64
 * small ones. */
#define DGRAM_RCVBUF (4 << 20)

/**
 * dgram_hard_error() - whether @err means the socket itself is unusable
 * Return: true for EBADF, ENOTSOCK and EFAULT.
 */
static bool dgram_hard_error(int err)
{
	return err == EBADF || err == ENOTSOCK || err == EFAULT;
}

/**
 * dgram_recv_batch() - one recvmmsg() of up to @n datagrams into @x
 * Return: datagrams received, 0 when none pending, -errno on failure.
 */
static int dgram_recv_batch(struct netbe *be, struct dgram_io *io, int fd,
			    struct netbe_xfer *x, unsigned n)
{
	unsigned i, soft = 0;
	int r;

	for (i = 0; i < n; i++) {
		struct msghdr *h = &io->rx[i].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = &io->from[i];
		h->msg_namelen = sizeof(io->from[i]);
		h->msg_iov = x[i].iov;
		h->msg_iovlen = (size_t)x[i].iovcnt;
	}
	for (;;) {
		r = recvmmsg(fd, io->rx, n, MSG_DONTWAIT, NULL);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			continue;
		if (!dgram_hard_error(errno) && ++soft < DGRAM_SOFT_RETRIES)
			continue;
		return NB_ERR_RL(-errno, "%s: receive failed: %s",
				 be->ops->name, strerror(errno));
	}
}

/**
 * dgram_keep() - judge received datagram @j and move it to slot @o
 * Return: true when it is kept (as frame @o).
 */
static bool dgram_keep(struct netbe *be, struct dgram_io *io,
		       struct netbe_xfer *x, unsigned j, unsigned o,
		       dgram_filter_fn filter, const void *ctx)
{
	const struct mmsghdr *m = &io->rx[j];
	char addr[INET6_ADDRSTRLEN + sizeof(((struct sockaddr_un *)0)->sun_path) + 8];

	if (m->msg_hdr.msg_flags & MSG_TRUNC) {
		netbe_count_drop(be, NETBE_DROP_RX_TOO_BIG);
		NB_LOG_RL(NETBE_LOG_WARN, "%s: dropped a datagram larger than %zu bytes",
			  be->ops->name, iov_length(x[j].iov, x[j].iovcnt));
		return false;
	}
	switch (filter(&io->from[j], m->msg_hdr.msg_namelen, ctx)) {
	case DGRAM_FOREIGN:
		netbe_count_drop(be, NETBE_DROP_RX_FOREIGN);
		NB_LOG_RL(NETBE_LOG_INFO, "%s: dropped a datagram from %s, which is not the configured peer",
			  be->ops->name,
			  dgram_io_addr_str(&io->from[j], m->msg_hdr.msg_namelen,
					    addr, sizeof(addr)));
		return false;
	case DGRAM_ECHO:
		return false;
	case DGRAM_ACCEPT:
		break;
	}
	if (o != j)
		iov_copy(x[o].iov, x[o].iovcnt, x[j].iov, x[j].iovcnt, m->msg_len);
	x[o].len = m->msg_len;
	return true;
}

int dgram_io_recv(struct netbe *be, struct dgram_io *io, int fd,
		  struct netbe_xfer *x, unsigned n, dgram_filter_fn filter,
		  const void *ctx)
{
	unsigned round, j, kept;
	int r;

	if (n > NETBE_BURST)
		n = NETBE_BURST;
	for (round = 0; round < DGRAM_RECV_ROUNDS; round++) {
		r = dgram_recv_batch(be, io, fd, x, n);
		if (r <= 0)
			return r;
		kept = 0;
		for (j = 0; j < (unsigned)r; j++)
			kept += dgram_keep(be, io, x, j, kept, filter, ctx);
		if (kept)
			return (int)kept;
	}
	return 0;
}

int dgram_io_send(struct dgram_io *io, int fd, const struct sockaddr *to,
		  socklen_t tolen, struct netbe_xfer *x, unsigned n,
		  const char *what)
{
	unsigned i, done = 0;
	int r;

	if (n > NETBE_BURST)
		n = NETBE_BURST;
	for (i = 0; i < n; i++) {
		struct msghdr *h = &io->tx[i].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = (void *)to;
		h->msg_namelen = to ? tolen : 0;
		h->msg_iov = x[i].iov;
		h->msg_iovlen = (size_t)x[i].iovcnt;
		x[i].err = 0;
	}
	while (done < n) {
		r = sendmmsg(fd, io->tx + done, n - done, MSG_DONTWAIT);
		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == EINTR)
			continue;
		if (dgram_hard_error(errno)) {
			if (!done)
				return NB_ERR_RL(-errno, "%s: send failed: %s",
						 what, strerror(errno));
			break;
		}
		x[done].err = -errno;
		NB_LOG_RL(NETBE_LOG_DEBUG, "%s: a frame was not delivered: %s",
			  what, strerror(errno));
		done++;
	}
	return done ? (int)done : -EAGAIN;
}

void dgram_io_grow_rcvbuf(int fd)
{
	int want = DGRAM_RCVBUF, have = 0;
	socklen_t len = sizeof(have);

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &have, &len) == 0 && have >= want)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) < 0)
		nb_debug("SO_RCVBUF %d: %s", want, strerror(errno));
}

/**
 * dgram_parse_port() - @s as a decimal port in [@min, 65535]
 * Return: the port, or -1.
 */
static long dgram_parse_port(const char *s, unsigned min)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < (long)min || v > 65535)
		return -1;
	return v;
}

/**
 * dgram_split_hostport() - split "HOST:PORT" / "[V6]:PORT" into @host and
 * a pointer to the port
 * Return: the port string, or NULL with the message recorded.
 */
static const char *dgram_split_hostport(const char *who, const char *key,
					const char *val, char *host,
					size_t size)
{
	const char *h = val, *end, *colon;

	if (*val == '[') {
		h = val + 1;
		end = strchr(h, ']');
		if (!end || end[1] != ':') {
			netbe_errf(-EINVAL, "%s: %s=%s: write IPv6 endpoints as [ADDR]:PORT, e.g. [::1]:5555",
				   who, key, val);
			return NULL;
		}
		colon = end + 1;
	} else {
		colon = strrchr(val, ':');
		if (!colon) {
			netbe_errf(-EINVAL, "%s: %s=%s is not HOST:PORT - e.g. 127.0.0.1:5555 or [::1]:5555",
				   who, key, val);
			return NULL;
		}
		if (memchr(val, ':', (size_t)(colon - val))) {
			netbe_errf(-EINVAL, "%s: %s=%s: put an IPv6 address in brackets, e.g. [::1]:5555",
				   who, key, val);
			return NULL;
		}
		end = colon;
	}
	if ((size_t)(end - h) >= size) {
		netbe_errf(-EINVAL, "%s: %s=%s: the host part is too long", who, key, val);
		return NULL;
	}
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	return colon + 1;
}

/**
 * dgram_set_port() - store @port in @ss (IPv4 or IPv6)
 */
static void dgram_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/**
 * dgram_wildcard() - the any-address of @family in @ss
 * Return: its length.
 */
static socklen_t dgram_wildcard(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		ss->ss_family = AF_INET6;
		return sizeof(struct sockaddr_in6);
	}
	ss->ss_family = AF_INET;
	return sizeof(struct sockaddr_in);
}

/**
 * dgram_family_name() - "IPv4", "IPv6" or "IPv4 or IPv6" for messages
 * Return: a static string.
 */
static const char *dgram_family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IPv4 or IPv6";
}

/**
 * dgram_looks_numeric() - whether @host is meant as a numeric address
 * (only digits and dots, or it has a ':'), so a typo is reported at once
 * instead of after a name lookup times out
 * Return: true when it should be parsed as an address only.
 */
static bool dgram_looks_numeric(const char *host)
{
	return strchr(host, ':') || strspn(host, "0123456789.") == strlen(host);
}

int dgram_io_parse_inet(const char *who, const char *key, const char *val,
			int family, bool passive, unsigned min_port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	const char *port_s;
	char host[256];
	long port;
	int rc;

	port_s = dgram_split_hostport(who, key, val, host, sizeof(host));
	if (!port_s)
		return -EINVAL;
	port = dgram_parse_port(port_s, min_port);
	if (port < 0)
		return netbe_errf(-EINVAL, "%s: %s=%s: port '%s' is not a number in %u..65535",
				  who, key, val, port_s, min_port);
	if (!*host) {
		if (!passive)
			return netbe_errf(-EINVAL, "%s: %s=%s has no host - give an address, e.g. 127.0.0.1:%ld",
					  who, key, val, port);
		*len = dgram_wildcard(family, ss);
		dgram_set_port(ss, (unsigned)port);
		return 0;
	}
	if (dgram_looks_numeric(host))
		hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc)
		return netbe_errf(-EINVAL, "%s: %s=%s: '%s' is not an %s address or a name that resolves to one (%s)",
				  who, key, val, host, dgram_family_name(family),
				  gai_strerror(rc));
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return netbe_errf(-EINVAL, "%s: %s=%s: unsupported address", who, key, val);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	dgram_set_port(ss, (unsigned)port);
	return 0;
}

const char *dgram_io_addr_str(const struct sockaddr_storage *ss, socklen_t len,
			      char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
		const struct sockaddr_un *su = (const void *)ss;
		size_t plen = len - offsetof(struct sockaddr_un, sun_path);

		snprintf(buf, size, "%.*s", (int)strnlen(su->sun_path, plen), su->sun_path);
	} else {
		snprintf(buf, size, "(unnamed)");
	}
	return buf;
}

bool dgram_io_same_inet(const struct sockaddr_storage *a,
			const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       (y->sin_addr.s_addr == htonl(INADDR_ANY) ||
			x->sin_addr.s_addr == y->sin_addr.s_addr);
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       (IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr) ||
			!memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)));
	}
	return false;
}
