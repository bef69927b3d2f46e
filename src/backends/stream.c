/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stream.c - Ethernet frames over a byte stream: each frame is prefixed by
 * its length as a 4-byte big-endian number, over TCP (IPv4 or IPv6) or a
 * unix stream socket. This is the framing of QEMU's "-netdev stream" and
 * "-netdev socket,listen=|connect=", and of passt's unix socket.
 *
 * Theory of operation
 *
 * Peers. "listen=ADDR" owns a listening socket watched through the
 * caller's loop; the first peer that connects is accepted, a second one
 * while the first is there is accepted only to be closed unread, so
 * nothing it sent is taken in; it is counted in peers_refused. The
 * listener keeps a spare fd (/dev/null): when accept() fails for want of
 * an fd, the spare is closed, the peer accepted and closed at once
 * (refused and counted, instead of left pending on a level-triggered
 * watch that would fire forever), and the spare reopened. If accept()
 * fails for any other lasting reason, or the spare cannot help, the
 * listening socket is not watched for STREAM_ACCEPT_PAUSE_NS (a one-shot
 * loop timer resumes it), so the loop waits instead of spinning.
 * "connect=ADDR" connects in open(); without reconnect= a failed connect
 * fails open() and a lost peer ends the handle (recv returns -ENOTCONN);
 * with reconnect=N a periodic loop timer starts a non-blocking connect
 * every N seconds while there is no peer, and a watch on the connecting
 * socket reports its completion. Whenever a peer arrives the connected
 * socket becomes rx_fd and tx_fd (netbe_set_fds), so core watches it for
 * receive and transmit readiness, and the link goes up; when the peer goes
 * away (end of stream, an error, or a length that makes no sense) the
 * socket is closed, the fds become -1 and the link goes down.
 *
 * Receive. The stream is read into a per-handle reassembly buffer with one
 * large read, and as many complete frames as it holds are copied out; a
 * frame split across reads simply waits in the buffer for the rest, so
 * partial reads never desynchronise the stream. A length of 0 or above
 * rx_max cannot come from a sane peer: it is counted (rx_bad_framing) and
 * resets the connection, since nothing after it can be trusted. A stream
 * that ends inside a frame loses that frame: it is counted under
 * rx_bad_framing too, as the framing is what broke (rx_runt would say the
 * peer sent a short frame, which it did not). When complete
 * frames are left in the buffer after a burst, netbe_rx_kick() makes the
 * loop call back, because the socket alone would not say so.
 *
 * Transmit. A burst goes out with one sendmsg() carrying every length
 * prefix and frame. Frames that went out whole are consumed; a frame that
 * went out only in part is consumed too, its unsent tail kept in a
 * per-handle remainder buffer, and frames after it are not consumed. While
 * a remainder is pending, send() first tries to flush it and returns
 * -EAGAIN if it cannot (core then waits for EV_OUT and calls the
 * frontend's tx callback), so a slow peer means back-pressure, never a
 * dropped or torn frame. A remainder must not wait for the frontend's next
 * frame, which may never come, so a private watch on a duplicate of the
 * socket flushes it as soon as the socket is writable. Frames sent while
 * there is no peer are dropped and counted as tx errors, like a NIC
 * without a cable. A frame whose remainder is pending was counted as sent
 * when it was consumed; if the peer goes away before the rest is written,
 * it stays counted once, as sent (the peer saw it cut, and counts that as
 * a framing error if it is netbe), and a log line says so. A
 * frame above tx_max is consumed as lost (-EMSGSIZE) and never written:
 * core never hands one, but its tail would not fit the remainder buffer,
 * so the backend checks too.
 *
 * Threads. send() may run on another thread than the loop; the mutex
 * guards what it shares with the loop thread: the connected socket, the
 * remainder and the flush watch. Peers come and go only on the loop thread
 * (watch and timer callbacks, and recv(), which frontends call from the rx
 * callback), which is also the only user of the reassembly buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "backend.h"
#include "bytes.h"
#include "iov.h"
#include "log.h"
#include "spec.h"

#define STREAM_LEN_BYTES 4
#define STREAM_RBUF_SIZE (256 * 1024)
#define STREAM_IOV_MAX 1024                 /* UIO_MAXIOV */
#define STREAM_CONNECT_TIMEOUT_MS 10000
#define STREAM_RECONNECT_MAX 86400
#define STREAM_ADDR_TEXT 128
/* Connections the kernel queues before accept(): more than the one peer
 * taken, so peers that knock while it is connected, or while the loop is
 * busy moving frames, are refused (closed and counted), not left to
 * retry a dropped SYN unseen. */
#define STREAM_BACKLOG 16
#define STREAM_ACCEPT_PAUSE_NS 100000000ULL /* accept() failing: retry after */
#define NS_PER_S 1000000000ULL

struct stream_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool is_unix;
	char text[STREAM_ADDR_TEXT];        /* as written in the spec */
};

struct stream_priv {
	struct stream_addr addr;
	bool listening;
	unsigned reconnect_s;               /* 0: connect once */
	bool dead;                          /* connect once, and the peer left */

	int listen_fd;
	void *listen_watch;
	struct stat listen_st;              /* the unix socket file we made */
	int spare_fd;                       /* listen: freed to refuse a peer
					     * when out of fds */
	int pending_fd;                     /* a connect in progress */
	void *pending_watch;
	void *timer;                        /* connect: reconnect; listen:
					     * resume accepting after a pause */

	pthread_mutex_t lock;               /* the fields below, up to rbuf */
	int conn_fd;
	bool broken;                        /* a send failed: the peer is gone */
	int flush_fd;                       /* duplicate of conn_fd */
	void *flush_watch;
	bool flush_armed;
	uint8_t *rem;                       /* unsent tail of one frame */
	size_t rem_off, rem_len;
	uint8_t tx_len[NETBE_BURST][STREAM_LEN_BYTES];
	struct iovec tx_iov[STREAM_IOV_MAX];

	uint8_t *rbuf;                      /* loop thread only */
	size_t rhead, rtail;
};

static const struct netbe_key stream_keys[] = {
	{ .name = "listen",
	  .help = "ADDR: accept one peer at a time on ADDR: HOST:PORT, [V6]:PORT, "
		  "or a unix socket PATH (anything containing '/')" },
	{ .name = "connect",
	  .help = "ADDR: connect to ADDR: HOST:PORT, [V6]:PORT, or a unix socket "
		  "PATH (anything containing '/'), e.g. passt's socket" },
	{ .name = "reconnect",
	  .help = "1..86400: with connect=, retry every this many seconds while "
		  "there is no peer (default: fail instead)" },
	{ .name = NULL }
};

/* ------------------------------------------------------------------------ */
/* Addresses                                                                */
/* ------------------------------------------------------------------------ */

/**
 * stream_parse_addr() - parse the value of @key by the address grammar
 * (core/addr.h): a unix PATH when it holds '/', else HOST:PORT or
 * [V6]:PORT, where an empty HOST means every IPv4 address when @listening
 * Return: 0, or -EINVAL with a message naming the key.
 */
static int stream_parse_addr(const char *key, const char *s, bool listening,
			     struct stream_addr *a)
{
	unsigned flags = NETBE_ADDR_NAMES | NETBE_ADDR_UNIX |
			 (listening ? NETBE_ADDR_ANY : 0);
	struct netbe_addr na;
	int err;

	memset(a, 0, sizeof(*a));
	snprintf(a->text, sizeof(a->text), "%s", s);
	err = netbe_addr_parse_key("stream", key, s, flags, 0, &na);
	if (err)
		return err;
	a->ss = na.ss;
	a->len = na.len;
	a->is_unix = na.ss.ss_family == AF_UNIX;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Peers coming and going                                                   */
/* ------------------------------------------------------------------------ */

/**
 * stream_flush() - write the pending remainder; lock held
 * Return: 0 when none is left, -EAGAIN when the socket is full, or another
 * negative errno when the peer is gone (the remainder is then dropped: its
 * frame was counted as sent, see the top of the file).
 */
static int stream_flush(struct stream_priv *p)
{
	while (p->rem_off < p->rem_len) {
		ssize_t r = send(p->conn_fd, p->rem + p->rem_off,
				 p->rem_len - p->rem_off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r > 0) {
			p->rem_off += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return -EAGAIN;
		p->rem_off = p->rem_len = 0;
		NB_LOG_RL(NETBE_LOG_INFO, "stream %s: the peer left with a frame half written",
			  p->addr.text);
		return r < 0 ? -errno : -EPIPE;
	}
	p->rem_off = p->rem_len = 0;
	return 0;
}

/** stream_arm_flush() - watch for room to flush the remainder, or stop;
 * lock held. Return: nothing. */
static void stream_arm_flush(struct netbe *be, bool on)
{
	struct stream_priv *p = netbe_priv(be);

	if (p->flush_armed == on || !p->flush_watch)
		return;
	if (be->loop.ops->watch_mod(be->loop.loop, p->flush_watch,
				    on ? NETBE_EV_OUT : 0) == 0)
		p->flush_armed = on;
}

/**
 * stream_on_flush() - the flush watch: the socket has room (or failed);
 * push the remainder out so it never waits for the frontend's next frame
 * Return: nothing.
 */
static void stream_on_flush(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	struct stream_priv *p = netbe_priv(be);
	int err;

	(void)fd;
	(void)revents;
	pthread_mutex_lock(&p->lock);
	err = p->conn_fd >= 0 ? stream_flush(p) : 0;
	if (err != -EAGAIN)
		stream_arm_flush(be, false);
	if (err && err != -EAGAIN) {
		p->broken = true;
		nb_debug("stream %s: peer gone while flushing a frame: %s",
			 p->addr.text, strerror(-err));
	}
	pthread_mutex_unlock(&p->lock);
}

/**
 * stream_peer_name() - describe the peer of @fd for log lines: its
 * address for TCP, "a local process" for a unix socket
 * Return: @buf.
 */
static const char *stream_peer_name(struct stream_priv *p, int fd, char *buf,
				    size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (p->addr.is_unix || getpeername(fd, (struct sockaddr *)&ss, &sl))
		snprintf(buf, len, "a local process");
	else
		netbe_addr_format((struct sockaddr *)&ss, sl, buf, len);
	return buf;
}

/**
 * stream_attach() - make connected socket @fd the peer: watched by core,
 * with a flush watch on a duplicate, link up
 * @in_open: called from open(), before core watches anything
 * Return: 0, or a negative errno with @fd closed.
 */
static int stream_attach(struct netbe *be, int fd, bool in_open)
{
	struct stream_priv *p = netbe_priv(be);
	char peer[STREAM_ADDR_TEXT + 16];
	int one = 1, err, dup_fd;

	if (!p->addr.is_unix)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		err = netbe_errf(-errno, "stream %s: cannot duplicate the socket: %s - raise the open file limit (ulimit -n)",
				 p->addr.text, strerror(errno));
		close(fd);
		return err;
	}
	err = be->loop.ops->watch_add(be->loop.loop, dup_fd, stream_on_flush, be,
				      &p->flush_watch);
	if (!err && !in_open)
		err = netbe_set_fds(be, fd, fd);
	if (err) {
		if (p->flush_watch)
			be->loop.ops->watch_del(be->loop.loop, p->flush_watch);
		p->flush_watch = NULL;
		close(dup_fd);
		close(fd);
		return err;
	}
	if (in_open)
		be->rx_fd = be->tx_fd = fd;
	pthread_mutex_lock(&p->lock);
	p->conn_fd = fd;
	p->flush_fd = dup_fd;
	p->flush_armed = false;
	p->broken = false;
	pthread_mutex_unlock(&p->lock);
	p->rhead = p->rtail = 0;
	if (p->listening)
		nb_info("stream %s: link up, accepted a peer (%s)", p->addr.text,
			stream_peer_name(p, fd, peer, sizeof(peer)));
	else
		nb_info("stream %s: link up, connected", p->addr.text);
	netbe_set_link(be, true);
	return 0;
}

/**
 * stream_forget_peer() - close the connected socket and its flush watch;
 * fds are already taken away from core
 * Return: nothing.
 */
static void stream_forget_peer(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);

	pthread_mutex_lock(&p->lock);
	if (p->flush_watch)
		be->loop.ops->watch_del(be->loop.loop, p->flush_watch);
	p->flush_watch = NULL;
	p->flush_armed = false;
	if (p->flush_fd >= 0)
		close(p->flush_fd);
	if (p->conn_fd >= 0)
		close(p->conn_fd);
	p->flush_fd = p->conn_fd = -1;
	if (p->rem_off < p->rem_len)   /* counted as sent: top of the file */
		NB_LOG_RL(NETBE_LOG_INFO, "stream %s: the peer left with a frame half written",
			  p->addr.text);
	p->rem_off = p->rem_len = 0;
	p->broken = false;
	pthread_mutex_unlock(&p->lock);
	p->rhead = p->rtail = 0;
}

/**
 * stream_drop_peer() - the peer is gone (@why says how): close it, link
 * down, and wait for the next one (listen), retry (reconnect), or mark the
 * handle dead (connect once)
 * Return: nothing.
 */
static void stream_drop_peer(struct netbe *be, const char *why)
{
	struct stream_priv *p = netbe_priv(be);
	uint64_t period = (uint64_t)p->reconnect_s * NS_PER_S;

	netbe_set_fds(be, -1, -1);
	stream_forget_peer(be);
	if (p->listening)
		nb_info("stream %s: link down, peer %s; waiting for the next one",
			p->addr.text, why);
	else if (p->reconnect_s)
		nb_info("stream %s: link down, peer %s; reconnecting every %u s",
			p->addr.text, why, p->reconnect_s);
	else
		nb_info("stream %s: link down, peer %s", p->addr.text, why);
	if (!p->listening && p->reconnect_s)
		be->loop.ops->timer_mod(be->loop.loop, p->timer, period, period);
	if (!p->listening && !p->reconnect_s) {
		p->dead = true;
		netbe_rx_kick(be);   /* so the frontend hears -ENOTCONN */
	}
	netbe_set_link(be, false);
	netbe_tx_kick(be);           /* a waiting sender now gets its frames dropped */
}

/**
 * stream_take_peer() - an accepted socket: the peer if there is none,
 * else refused (closed unread) while the connected one stays
 * Return: nothing.
 */
static void stream_take_peer(struct netbe *be, int c)
{
	struct stream_priv *p = netbe_priv(be);
	char peer[STREAM_ADDR_TEXT + 16];

	if (p->conn_fd < 0) {
		if (stream_attach(be, c, false))
			netbe_count_peer_refused(be);
		return;
	}
	NB_LOG_RL(NETBE_LOG_WARN, "stream %s: refused a second peer (%s): one peer at a time, the connected one stays",
		  p->addr.text, stream_peer_name(p, c, peer, sizeof(peer)));
	netbe_count_peer_refused(be);
	close(c);
}

/**
 * stream_open_spare() - reserve the fd that stream_refuse_spare() frees
 * Return: nothing; spare_fd is -1 when even that fd is not there.
 */
static void stream_open_spare(struct stream_priv *p)
{
	if (p->spare_fd < 0)
		p->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/**
 * stream_refuse_spare() - accept() failed for want of an fd: free the
 * spare, accept the next peer and close it at once (so it hears it is
 * refused instead of waiting, and the listening socket stops being
 * readable), then reserve the spare again
 * Return: 0 after refusing one peer, -EAGAIN when none was pending, or
 * another negative errno (no spare, or accept() failed anyway).
 */
static int stream_refuse_spare(struct netbe *be, int lfd)
{
	struct stream_priv *p = netbe_priv(be);
	char peer[STREAM_ADDR_TEXT + 16];
	int c, err = 0;

	if (p->spare_fd < 0)
		return -EMFILE;
	close(p->spare_fd);
	p->spare_fd = -1;
	c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		err = -errno;
	} else {
		NB_LOG_RL(NETBE_LOG_WARN, "stream %s: refused a peer (%s): out of file descriptors - raise the open file limit (ulimit -n)",
			  p->addr.text, stream_peer_name(p, c, peer, sizeof(peer)));
		netbe_count_peer_refused(be);
		close(c);
	}
	stream_open_spare(p);
	return err;
}

/**
 * stream_accept_pause() - accept() fails in a way that retrying now will
 * not fix: stop watching the listening socket (level-triggered, it would
 * fire at once again) and resume after STREAM_ACCEPT_PAUSE_NS
 * Return: nothing.
 */
static void stream_accept_pause(struct netbe *be, int err)
{
	struct stream_priv *p = netbe_priv(be);

	NB_LOG_RL(NETBE_LOG_ERR, "stream %s: accept failed: %s - not accepting peers for %llu ms%s",
		  p->addr.text, strerror(-err), STREAM_ACCEPT_PAUSE_NS / 1000000,
		  err == -EMFILE || err == -ENFILE ? "; raise the open file limit (ulimit -n)" : "");
	if (!be->loop.ops->timer_mod(be->loop.loop, p->timer, STREAM_ACCEPT_PAUSE_NS, 0))
		be->loop.ops->watch_mod(be->loop.loop, p->listen_watch, 0);
}

/** stream_on_accept_timer() - the pause is over: take the spare back if
 * it was lost and watch the listening socket again. Return: nothing. */
static void stream_on_accept_timer(void *opaque)
{
	struct netbe *be = opaque;
	struct stream_priv *p = netbe_priv(be);

	stream_open_spare(p);
	if (be->loop.ops->watch_mod(be->loop.loop, p->listen_watch, NETBE_EV_IN))
		be->loop.ops->timer_mod(be->loop.loop, p->timer, STREAM_ACCEPT_PAUSE_NS, 0);
}

/**
 * stream_accept_transient() - whether accept() failed for that one
 * connection only (it is gone; see accept(2)), so the next may succeed
 * Return: true to go on accepting.
 */
static bool stream_accept_transient(int err)
{
	switch (-err) {
	case EINTR: case ECONNABORTED: case EPROTO: case EPERM:
	case ENETDOWN: case ENETUNREACH: case EHOSTDOWN: case EHOSTUNREACH:
	case ENONET: case ENOPROTOOPT: case EOPNOTSUPP:
		return true;
	}
	return false;
}

/**
 * stream_on_accept() - the listening socket is readable: take or refuse
 * every pending peer; out of fds, refuse them with the spare fd; when
 * accept() keeps failing, pause instead of spinning on a level-triggered
 * watch
 * Return: nothing.
 */
static void stream_on_accept(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	int c, err;

	(void)revents;
	for (;;) {
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0) {
			stream_take_peer(be, c);
			continue;
		}
		err = -errno;
		if (err == -EMFILE || err == -ENFILE)
			err = stream_refuse_spare(be, fd);
		if (err == -EAGAIN)
			return;
		if (err && !stream_accept_transient(err)) {
			stream_accept_pause(be, err);
			return;
		}
	}
}

/** stream_cancel_pending() - abandon a connect in progress. Return: nothing. */
static void stream_cancel_pending(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);

	if (p->pending_watch)
		be->loop.ops->watch_del(be->loop.loop, p->pending_watch);
	p->pending_watch = NULL;
	if (p->pending_fd >= 0)
		close(p->pending_fd);
	p->pending_fd = -1;
}

/** stream_connected() - a connect succeeded: stop retrying, attach.
 * Return: 0 or a negative errno. */
static int stream_connected(struct netbe *be, int fd, bool in_open)
{
	struct stream_priv *p = netbe_priv(be);

	if (p->timer)
		be->loop.ops->timer_mod(be->loop.loop, p->timer, 0, 0);
	return stream_attach(be, fd, in_open);
}

/** stream_on_connect_done() - the connecting socket is writable: the
 * connect finished, one way or the other. Return: nothing. */
static void stream_on_connect_done(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	struct stream_priv *p = netbe_priv(be);
	socklen_t sl = sizeof(int);
	int err = 0;

	(void)revents;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl))
		err = errno;
	be->loop.ops->watch_del(be->loop.loop, p->pending_watch);
	p->pending_watch = NULL;
	p->pending_fd = -1;
	if (err) {
		nb_debug("stream %s: connect failed: %s; retrying in %u s",
			 p->addr.text, strerror(err), p->reconnect_s);
		close(fd);
		return;
	}
	stream_connected(be, fd, false);
}

/**
 * stream_start_connect() - one non-blocking connect attempt
 * @fdp: receives the socket, connected or connecting
 * Return: 0 connected, 1 in progress, or a negative errno (nothing open).
 */
static int stream_start_connect(struct stream_priv *p, int *fdp)
{
	int fd = socket(p->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&p->addr.ss, p->addr.len) == 0) {
		*fdp = fd;
		return 0;
	}
	err = -errno;
	if (err == -EINPROGRESS) {
		*fdp = fd;
		return 1;
	}
	close(fd);
	return err;
}

/**
 * stream_try_connect() - an attempt from the loop (open with reconnect, or
 * the timer): attach at once, or watch the connect until it completes
 * Return: nothing; failures are retried by the timer.
 */
static void stream_try_connect(struct netbe *be, bool in_open)
{
	struct stream_priv *p = netbe_priv(be);
	int fd = -1, ret;

	stream_cancel_pending(be);
	ret = stream_start_connect(p, &fd);
	if (ret == 0) {
		stream_connected(be, fd, in_open);
		return;
	}
	if (ret < 0) {
		nb_debug("stream %s: cannot connect: %s; retrying in %u s",
			 p->addr.text, strerror(-ret), p->reconnect_s);
		return;
	}
	if (be->loop.ops->watch_add(be->loop.loop, fd, stream_on_connect_done, be,
				    &p->pending_watch) ||
	    be->loop.ops->watch_mod(be->loop.loop, p->pending_watch, NETBE_EV_OUT)) {
		if (p->pending_watch)
			be->loop.ops->watch_del(be->loop.loop, p->pending_watch);
		p->pending_watch = NULL;
		close(fd);
		return;
	}
	p->pending_fd = fd;
}

/** stream_on_timer() - the reconnect timer: try again unless a peer is
 * there (a connect still pending after N seconds is abandoned).
 * Return: nothing. */
static void stream_on_timer(void *opaque)
{
	struct netbe *be = opaque;
	struct stream_priv *p = netbe_priv(be);

	if (p->conn_fd >= 0) {
		be->loop.ops->timer_mod(be->loop.loop, p->timer, 0, 0);
		return;
	}
	stream_try_connect(be, false);
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

/**
 * stream_connect_error() - the message for a connect that failed at open
 * Return: @err.
 */
static int stream_connect_error(struct stream_priv *p, int err)
{
	return netbe_errf(err, "stream: cannot connect to %s: %s - is passt (or whatever should listen there) running? add reconnect=SECONDS to keep trying",
			  p->addr.text, strerror(-err));
}

/**
 * stream_connect_once() - connect=ADDR without reconnect: connect now,
 * waiting at most STREAM_CONNECT_TIMEOUT_MS
 * Return: 0 with the peer attached, or a negative errno with the message.
 */
static int stream_connect_once(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);
	int fd = -1, ret = stream_start_connect(p, &fd), err = 0;
	socklen_t sl = sizeof(err);
	struct pollfd pfd;

	if (ret < 0)
		return stream_connect_error(p, ret);
	if (ret == 1) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			ret = poll(&pfd, 1, STREAM_CONNECT_TIMEOUT_MS);
		while (ret < 0 && errno == EINTR);
		if (ret == 0)
			err = ETIMEDOUT;
		else if (ret < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl))
			err = errno;
		if (err) {
			close(fd);
			return stream_connect_error(p, -err);
		}
	}
	return stream_connected(be, fd, true);
}

/**
 * stream_unix_stale() - whether the unix socket file at @path has nobody
 * listening (a leftover of a process that died)
 * Return: true when it is a socket that refuses connections.
 */
static bool stream_unix_stale(const struct stream_addr *a, const char *path)
{
	struct stat st;
	int fd, ret;

	if (stat(path, &st) || !S_ISSOCK(st.st_mode))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ret = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	ret = ret < 0 && errno == ECONNREFUSED;
	close(fd);
	return ret;
}

/**
 * stream_bind() - bind @fd to the listen address, replacing a stale unix
 * socket file
 * Return: 0, or a negative errno with a message.
 */
static int stream_bind(struct stream_priv *p, int fd)
{
	const char *path = ((struct sockaddr_un *)&p->addr.ss)->sun_path;
	int one = 1;

	if (!p->addr.is_unix)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&p->addr.ss, p->addr.len) == 0)
		return 0;
	if (errno == EADDRINUSE && p->addr.is_unix && stream_unix_stale(&p->addr, path)) {
		nb_info("stream %s: removing a stale socket file nobody listens on", path);
		unlink(path);
		if (bind(fd, (struct sockaddr *)&p->addr.ss, p->addr.len) == 0)
			return 0;
	}
	if (errno == EADDRINUSE)
		return netbe_errf(-errno, "stream: cannot listen on %s: %s - another process listens there; stop it or pick another %s",
				  p->addr.text, strerror(errno),
				  p->addr.is_unix ? "path" : "port");
	return netbe_errf(-errno, "stream: cannot listen on %s: %s - check that the %s",
			  p->addr.text, strerror(errno),
			  p->addr.is_unix ? "directory exists and is writable"
					  : "address belongs to this host");
}

/**
 * stream_listen() - listen=ADDR: a listening socket watched by the loop,
 * link down until a peer connects
 * Return: 0, or a negative errno with a message.
 */
static int stream_listen(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);
	int err;

	p->listen_fd = socket(p->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->listen_fd < 0)
		return netbe_errf(-errno, "stream: cannot create a socket for %s: %s",
				  p->addr.text, strerror(errno));
	err = stream_bind(p, p->listen_fd);
	if (err)
		return err;
	if (p->addr.is_unix)
		(void)stat(((struct sockaddr_un *)&p->addr.ss)->sun_path, &p->listen_st);
	if (listen(p->listen_fd, STREAM_BACKLOG))
		return netbe_errf(-errno, "stream: cannot listen on %s: %s",
				  p->addr.text, strerror(errno));
	stream_open_spare(p);
	if (p->spare_fd < 0)
		return netbe_errf(-errno, "stream %s: cannot reserve a spare file descriptor: %s - raise the open file limit (ulimit -n)",
				  p->addr.text, strerror(errno));
	err = be->loop.ops->timer_add(be->loop.loop, stream_on_accept_timer, be, &p->timer);
	if (!err)
		err = be->loop.ops->watch_add(be->loop.loop, p->listen_fd, stream_on_accept,
					      be, &p->listen_watch);
	if (!err)
		err = be->loop.ops->watch_mod(be->loop.loop, p->listen_watch, NETBE_EV_IN);
	if (err)
		return netbe_errf(err, "stream %s: the loop refused a watch or a timer for the listening socket: %s",
				  p->addr.text, strerror(-err));
	nb_info("stream %s: listening, link down until a peer connects", p->addr.text);
	netbe_set_link(be, false);
	return 0;
}

/**
 * stream_connect_retrying() - connect=ADDR,reconnect=N: a periodic timer
 * and a first attempt now; link down until it succeeds
 * Return: 0, or a negative errno with a message.
 */
static int stream_connect_retrying(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);
	uint64_t period = (uint64_t)p->reconnect_s * NS_PER_S;
	int err;

	err = be->loop.ops->timer_add(be->loop.loop, stream_on_timer, be, &p->timer);
	if (!err)
		err = be->loop.ops->timer_mod(be->loop.loop, p->timer, period, period);
	if (err)
		return netbe_errf(err, "stream %s: the loop refused a reconnect timer: %s",
				  p->addr.text, strerror(-err));
	stream_try_connect(be, true);
	if (p->conn_fd < 0) {
		nb_info("stream %s: not connected yet, link down; trying every %u s",
			p->addr.text, p->reconnect_s);
		netbe_set_link(be, false);
	}
	return 0;
}

/**
 * stream_parse_spec() - listen= or connect= (exactly one), reconnect=
 * Return: 0, or -EINVAL with a message saying what to write.
 */
static int stream_parse_spec(struct stream_priv *p, const struct netbe_spec *spec)
{
	const char *listen_at = netbe_spec_get(spec, "listen");
	const char *connect_to = netbe_spec_get(spec, "connect");
	uint64_t rec;
	int err;

	if (!listen_at && !connect_to)
		return netbe_errf(-EINVAL, "stream: say where the peer is - use stream:listen=ADDR or stream:connect=ADDR (ADDR: HOST:PORT, [V6]:PORT, or a unix socket PATH containing '/')");
	if (listen_at && connect_to)
		return netbe_errf(-EINVAL, "stream: listen= and connect= given together - use one: listen=ADDR waits for a peer, connect=ADDR goes to one");
	err = netbe_spec_uint(spec, "reconnect", 1, STREAM_RECONNECT_MAX, 0, &rec);
	if (err)
		return err;
	if (rec && listen_at)
		return netbe_errf(-EINVAL, "stream: reconnect= only applies to connect= - a listening stream always waits for the next peer");
	p->listening = listen_at != NULL;
	p->reconnect_s = (unsigned)rec;
	if (listen_at)
		return stream_parse_addr("listen", listen_at, true, &p->addr);
	return stream_parse_addr("connect", connect_to, false, &p->addr);
}

/** stream_release() - free everything open() took; safe on a partial
 * open. Return: nothing. */
static void stream_release(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);
	struct stat st;
	const char *path = ((struct sockaddr_un *)&p->addr.ss)->sun_path;

	stream_cancel_pending(be);
	if (p->timer)
		be->loop.ops->timer_del(be->loop.loop, p->timer);
	p->timer = NULL;
	if (p->listen_watch)
		be->loop.ops->watch_del(be->loop.loop, p->listen_watch);
	p->listen_watch = NULL;
	if (p->listen_fd >= 0) {
		close(p->listen_fd);
		if (p->addr.is_unix && p->listen_st.st_ino && !stat(path, &st) &&
		    st.st_ino == p->listen_st.st_ino && st.st_dev == p->listen_st.st_dev)
			unlink(path);
	}
	p->listen_fd = -1;
	if (p->spare_fd >= 0)
		close(p->spare_fd);
	p->spare_fd = -1;
	stream_forget_peer(be);
	free(p->rbuf);
	free(p->rem);
	p->rbuf = p->rem = NULL;
	pthread_mutex_destroy(&p->lock);
}

/**
 * stream_open() - the open op
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int stream_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct stream_priv *p = netbe_priv(be);
	int err;

	p->listen_fd = p->spare_fd = p->pending_fd = p->conn_fd = p->flush_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	be->be_hdr_len = 0;
	be->native_caps = 0;
	be->rx_max = be->tx_max = NETBE_FRAME_MAX;
	be->tx_events = NETBE_EV_OUT;
	err = stream_parse_spec(p, spec);
	if (err)
		goto fail;
	p->rbuf = malloc(STREAM_RBUF_SIZE);
	p->rem = malloc(STREAM_LEN_BYTES + be->tx_max);
	if (!p->rbuf || !p->rem) {
		err = netbe_errf(-ENOMEM, "stream: out of memory");
		goto fail;
	}
	if (p->listening)
		err = stream_listen(be);
	else if (p->reconnect_s)
		err = stream_connect_retrying(be);
	else
		err = stream_connect_once(be);
	if (!err)
		return 0;
fail:
	stream_release(be);
	return err;
}

/** stream_close() - the close op (core no longer watches our fds).
 * Return: nothing. */
static void stream_close(struct netbe *be)
{
	stream_release(be);
}

/* ------------------------------------------------------------------------ */
/* Receive                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * stream_parse_one() - take the next complete frame out of the buffer
 * Return: 1 copied into @x, 0 when the buffer holds no complete frame, or
 * -EBADMSG for a length of 0 or above rx_max.
 */
static int stream_parse_one(struct netbe *be, struct netbe_xfer *x)
{
	struct stream_priv *p = netbe_priv(be);
	size_t avail = p->rtail - p->rhead;
	uint32_t len;

	if (avail < STREAM_LEN_BYTES)
		return 0;
	len = nb_get_be32(p->rbuf + p->rhead);
	if (len == 0 || len > be->rx_max) {
		NB_LOG_RL(NETBE_LOG_WARN, "stream %s: peer sent a frame length of %u (valid: 1 to %zu) - not netbe/QEMU/passt framing; resetting the connection",
			  p->addr.text, len, be->rx_max);
		return -EBADMSG;
	}
	if (avail - STREAM_LEN_BYTES < len)
		return 0;
	iov_from_buf(x->iov, x->iovcnt, 0, p->rbuf + p->rhead + STREAM_LEN_BYTES, len);
	x->len = len;
	p->rhead += STREAM_LEN_BYTES + len;
	return 1;
}

/**
 * stream_frame_buffered() - whether the buffer holds a complete frame (or
 * a bad length, which the next recv turns into a reset)
 * Return: true when the next recv has work without reading.
 */
static bool stream_frame_buffered(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);
	size_t avail = p->rtail - p->rhead;
	uint32_t len;

	if (avail < STREAM_LEN_BYTES)
		return false;
	len = nb_get_be32(p->rbuf + p->rhead);
	return len == 0 || len > be->rx_max || avail - STREAM_LEN_BYTES >= len;
}

/**
 * stream_fill() - one read of whatever the socket holds into the buffer,
 * after moving a partial frame to its start
 * Return: bytes read (> 0), 0 at end of stream, -EAGAIN when nothing is
 * there, or another negative errno.
 */
static ssize_t stream_fill(struct stream_priv *p)
{
	ssize_t r;

	if (p->rhead == p->rtail) {
		p->rhead = p->rtail = 0;
	} else if (p->rhead) {
		memmove(p->rbuf, p->rbuf + p->rhead, p->rtail - p->rhead);
		p->rtail -= p->rhead;
		p->rhead = 0;
	}
	do
		r = read(p->conn_fd, p->rbuf + p->rtail, STREAM_RBUF_SIZE - p->rtail);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	p->rtail += (size_t)r;
	return r;
}

/**
 * stream_cut_frame() - the stream ended: a frame it began and never
 * finished (some bytes of a length or of a frame) is counted as a
 * framing drop, since the peer sent it and it is lost
 * Return: nothing.
 */
static void stream_cut_frame(struct netbe *be)
{
	struct stream_priv *p = netbe_priv(be);

	if (p->rtail == p->rhead)
		return;
	NB_LOG_RL(NETBE_LOG_WARN, "stream %s: the stream ended inside a frame (%zu bytes of it came); dropped",
		  p->addr.text, p->rtail - p->rhead);
	netbe_count_drop(be, NETBE_DROP_RX_BAD_FRAMING);
}

/**
 * stream_recv_dead() - recv on a connect-once handle whose peer left
 * Return: -ENOTCONN with the message.
 */
static int stream_recv_dead(struct stream_priv *p)
{
	return NB_ERR_RL(-ENOTCONN, "stream %s: the peer closed the connection - add reconnect=SECONDS to keep trying",
			 p->addr.text);
}

/**
 * stream_recv() - the recv op: frames from the reassembly buffer, refilled
 * with one large read whenever it runs out of complete frames
 * Return: frames received; 0 when none (or no peer, link down);
 * -ENOTCONN when the peer of a connect-once handle is gone.
 */
static int stream_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct stream_priv *p = netbe_priv(be);
	unsigned i = 0;
	bool dry = false;
	ssize_t r;
	int got;

	if (p->conn_fd < 0)
		return p->dead ? stream_recv_dead(p) : 0;
	while (i < n) {
		got = stream_parse_one(be, &x[i]);
		if (got > 0) {
			i++;
			continue;
		}
		if (got < 0) {
			netbe_count_drop(be, NETBE_DROP_RX_BAD_FRAMING);
			stream_drop_peer(be, "sent a bad frame length");
			break;
		}
		if (dry)
			break;
		r = stream_fill(p);
		if (r == -EAGAIN)
			break;
		if (r <= 0) {
			stream_cut_frame(be);
			stream_drop_peer(be, r ? strerror((int)-r) : "closed the connection");
			break;
		}
		dry = p->rtail < STREAM_RBUF_SIZE;   /* a short read took it all */
	}
	if (i == n && p->conn_fd >= 0 && stream_frame_buffered(be))
		netbe_rx_kick(be);
	if (!i && p->dead)
		return stream_recv_dead(p);
	return (int)i;
}

/* ------------------------------------------------------------------------ */
/* Transmit                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * stream_drop_all() - no peer to send to: consume @n frames as tx errors
 * Return: @n.
 */
static int stream_drop_all(struct netbe_xfer *x, unsigned n, int err)
{
	unsigned i;

	for (i = 0; i < n; i++)
		x[i].err = err;
	return (int)n;
}

/**
 * stream_refuse_big() - a frame above tx_max (core never hands one; this
 * is defense in depth, since its tail would overflow the remainder
 * buffer): consume it as lost
 * Return: 1.
 */
static int stream_refuse_big(struct netbe *be, struct netbe_xfer *x)
{
	struct stream_priv *p = netbe_priv(be);

	NB_LOG_RL(NETBE_LOG_ERR, "stream %s: dropped a frame of %zu bytes, above the %zu this backend carries",
		  p->addr.text, x->len, be->tx_max);
	x->err = -EMSGSIZE;
	return 1;
}

/**
 * stream_build_iov() - length prefixes and frames of a burst as one iovec,
 * up to the first frame above tx_max; lock held
 * @frames: receives how many frames it holds (at least 1 unless the first
 *          alone needs more than STREAM_IOV_MAX segments or is too big)
 * Return: iovec entries used.
 */
static int stream_build_iov(struct netbe *be, struct netbe_xfer *x,
			    unsigned n, unsigned *frames)
{
	struct stream_priv *p = netbe_priv(be);
	int used = 0, k;
	unsigned i;

	for (i = 0; i < n && i < NETBE_BURST; i++) {
		if (used + 1 + x[i].iovcnt > STREAM_IOV_MAX || x[i].len > be->tx_max)
			break;
		nb_put_be32(p->tx_len[i], (uint32_t)x[i].len);
		p->tx_iov[used].iov_base = p->tx_len[i];
		p->tx_iov[used++].iov_len = STREAM_LEN_BYTES;
		for (k = 0; k < x[i].iovcnt; k++)
			p->tx_iov[used++] = x[i].iov[k];
	}
	*frames = i;
	return used;
}

/**
 * stream_keep_rest() - frame @x went out only up to @sent bytes (prefix
 * included): keep the rest as the remainder; lock held
 * Return: nothing.
 */
static void stream_keep_rest(struct stream_priv *p, const struct netbe_xfer *x,
			     size_t sent)
{
	uint8_t prefix[STREAM_LEN_BYTES];
	size_t total = STREAM_LEN_BYTES + x->len, off = 0;

	nb_put_be32(prefix, (uint32_t)x->len);
	if (sent < STREAM_LEN_BYTES) {
		off = STREAM_LEN_BYTES - sent;
		memcpy(p->rem, prefix + sent, off);
		sent = STREAM_LEN_BYTES;
	}
	iov_to_buf(x->iov, x->iovcnt, sent - STREAM_LEN_BYTES, p->rem + off,
		   total - sent);
	p->rem_off = 0;
	p->rem_len = off + total - sent;
}

/**
 * stream_send_linear() - the first frame has too many segments for one
 * sendmsg(): copy it whole into the remainder and flush that; lock held
 * Return: 1 (consumed; any unsent part stays as the remainder).
 */
static int stream_send_linear(struct netbe *be, struct netbe_xfer *x)
{
	struct stream_priv *p = netbe_priv(be);

	int err;

	stream_keep_rest(p, x, 0);
	x->err = 0;
	err = stream_flush(p);
	if (err == -EAGAIN)
		stream_arm_flush(be, true);
	else if (err)
		p->broken = true;
	return 1;
}

/**
 * stream_account() - after sendmsg() took @sent bytes of a burst of
 * @frames: consume the whole frames and the partial one; lock held
 * Return: frames consumed.
 */
static int stream_account(struct netbe *be, struct netbe_xfer *x,
			  unsigned frames, size_t sent)
{
	struct stream_priv *p = netbe_priv(be);
	unsigned i;

	for (i = 0; i < frames && sent; i++) {
		size_t total = STREAM_LEN_BYTES + x[i].len;

		x[i].err = 0;
		if (sent >= total) {
			sent -= total;
			continue;
		}
		stream_keep_rest(p, &x[i], sent);
		stream_arm_flush(be, true);
		return (int)i + 1;
	}
	return (int)i;
}

/**
 * stream_send_locked() - the send op with the lock held
 * Return: see stream_send().
 */
static int stream_send_locked(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct stream_priv *p = netbe_priv(be);
	struct msghdr msg = { .msg_iov = p->tx_iov };
	unsigned frames;
	ssize_t r;
	int err;

	if (p->conn_fd < 0 || p->broken)
		return stream_drop_all(x, n, -ENOTCONN);
	err = stream_flush(p);
	if (err == -EAGAIN) {
		stream_arm_flush(be, true);
		return -EAGAIN;
	}
	if (err) {
		p->broken = true;
		return stream_drop_all(x, n, err);
	}
	msg.msg_iovlen = (size_t)stream_build_iov(be, x, n, &frames);
	if (!frames && x->len > be->tx_max)
		return stream_refuse_big(be, x);
	if (!frames)
		return stream_send_linear(be, x);
	do
		r = sendmsg(p->conn_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if ((r < 0 && errno == EAGAIN) || r == 0)
		return -EAGAIN;
	if (r < 0) {
		NB_LOG_RL(NETBE_LOG_DEBUG, "stream %s: send failed: %s",
			  p->addr.text, strerror(errno));
		p->broken = true;
		return stream_drop_all(x, n, -errno);
	}
	return stream_account(be, x, frames, (size_t)r);
}

/**
 * stream_send() - the send op: one sendmsg() for the burst, after the
 * remainder of an earlier partial write
 * Return: frames consumed (x[i].err set for frames dropped because there is
 * no peer, or -EMSGSIZE for one above tx_max), or -EAGAIN when the socket
 * takes nothing now.
 */
static int stream_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct stream_priv *p = netbe_priv(be);
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = stream_send_locked(be, x, n);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

const struct netbe_backend netbe_backend_stream = {
	.name = "stream",
	.help = "frames with a 4-byte big-endian length over TCP or a unix socket (QEMU -netdev stream/socket, passt): listen=ADDR or connect=ADDR",
	.name_use = NETBE_NAME_NONE,
	.keys = stream_keys,
	.priv_size = sizeof(struct stream_priv),
	.open = stream_open,
	.close = stream_close,
	.send = stream_send,
	.recv = stream_recv,
};
