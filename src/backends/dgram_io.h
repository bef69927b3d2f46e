/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dgram_io.h - what the datagram backends (dgram, mcast) share: one raw
 * Ethernet frame per datagram moved in recvmmsg/sendmmsg batches, source
 * filtering on receive, and HOST:PORT parsing.
 *
 * This is a helper of the socket backends, not a backend: it knows
 * nothing about any backend's spec keys beyond what the caller passes.
 */
#ifndef NETBE_DGRAM_IO_H
#define NETBE_DGRAM_IO_H

#include <stdbool.h>
#include <sys/socket.h>

#include "backend.h"

/* What the source filter says about one received datagram. */
enum dgram_verdict {
	DGRAM_ACCEPT,      /* deliver it */
	DGRAM_FOREIGN,     /* not from the peer: drop and count */
	DGRAM_ECHO,        /* our own frame looped back: drop silently */
};

typedef enum dgram_verdict (*dgram_filter_fn)(const struct sockaddr_storage *from,
					      socklen_t len, const void *ctx);

/* Per-handle batch state: one receive and one transmit side, so one
 * thread may send while another receives. */
struct dgram_io {
	struct mmsghdr rx[NETBE_BURST];
	struct sockaddr_storage from[NETBE_BURST];
	struct mmsghdr tx[NETBE_BURST];
};

/**
 * dgram_io_recv() - receive up to @n datagrams from @fd into @x with one
 * recvmmsg() per batch; truncated datagrams and those @filter rejects are
 * dropped (counted on @be) and the kept ones compacted to the front.
 * Return: frames received (0 when none pending), or -errno when the socket
 * failed for good.
 */
int dgram_io_recv(struct netbe *be, struct dgram_io *io, int fd,
		  struct netbe_xfer *x, unsigned n, dgram_filter_fn filter,
		  const void *ctx);

/**
 * dgram_io_send() - send up to @n frames from @fd with sendmmsg(), each as
 * one datagram to @to (NULL on a connected socket). A frame the kernel
 * refuses for itself (peer absent: ECONNREFUSED, ENOENT; unreachable;
 * too big) is consumed with x[i].err set, and the batch goes on.
 * Return: frames consumed, -EAGAIN when not even the first could be
 * sent, or -errno when the socket itself is unusable.
 */
int dgram_io_send(struct dgram_io *io, int fd, const struct sockaddr *to,
		  socklen_t tolen, struct netbe_xfer *x, unsigned n,
		  const char *what);

/**
 * dgram_io_grow_rcvbuf() - best effort: ask for a receive buffer of
 * DGRAM_RCVBUF bytes on @fd (the kernel caps it at net.core.rmem_max), so
 * a burst from a fast peer is not lost while the loop is busy elsewhere.
 */
void dgram_io_grow_rcvbuf(int fd);

/** dgram_io_same_inet() - whether datagram source @a is @b: same port, and
 * same address unless @b's is the wildcard (a socket bound to it sends from
 * whatever address the route picks). The IPv6 scope is ignored.
 * Return: true when they match. */
bool dgram_io_same_inet(const struct sockaddr_storage *a,
			const struct sockaddr_storage *b);

#endif /* NETBE_DGRAM_IO_H */
