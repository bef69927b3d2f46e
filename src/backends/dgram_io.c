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
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
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
	char addr[NETBE_ADDR_STRLEN];

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
			  netbe_addr_format((struct sockaddr *)&io->from[j],
					    m->msg_hdr.msg_namelen, addr, sizeof(addr)));
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
