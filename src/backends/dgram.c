/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dgram.c - one raw Ethernet frame per datagram, over UDP (IPv4 or IPv6) or
 * a unix datagram socket ("udp" is an alias).
 *
 *   dgram:local=HOST:PORT,remote=HOST:PORT
 *   dgram:local=PATH,remote=PATH          (a value with a '/' is a path)
 *
 * The wire format is QEMU's: -netdev dgram (inet or unix) and
 * -netdev socket,udp=HOST:PORT,localaddr=HOST:PORT put the bare frame in the
 * datagram, nothing before or after it.
 *
 * Theory of operation. The backend owns one non-blocking socket bound to
 * local and left unconnected, so that a datagram from any other source
 * still reaches it and can be counted when it is dropped (a connected
 * socket would make the kernel discard it unseen). Every frame is sent to
 * remote with sendmmsg() and received with recvmmsg(), up to 64 per call
 * (dgram_io.c); a datagram whose source is not remote is dropped and
 * counted as rx_discarded, one larger than the receive buffer as
 * rx_overflow. The peer not being there yet is not an error of the
 * backend: UDP just loses the frame, a unix socket refuses it (ENOENT,
 * ECONNREFUSED), and that frame is counted as a tx error.
 *
 * Back-pressure: a full UDP send buffer gives -EAGAIN and the socket's
 * POLLOUT says when to retry. A unix receiver queues at most
 * net.unix.max_dgram_qlen datagrams (10 by default), and a sender whose
 * socket is not connected gets -EAGAIN beyond that yet sees POLLOUT all
 * the time, so waiting on it would spin. So a unix handle has a second,
 * never-sending "waiter" socket: after -EAGAIN it is connected to remote,
 * and a connected unix datagram socket reports POLLOUT only once the
 * peer's queue has room; it serves as tx_fd. The data socket itself stays
 * unconnected, for the same reason as above.
 *
 * A unix local path is claimed before bind: a leftover socket file that no
 * process serves (connect() is refused) is removed; anything else there
 * is an error. On close the path is unlinked if it is still the socket
 * this handle bound.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "backend.h"
#include "dgram_io.h"
#include "log.h"
#include "spec.h"

/* Send buffer asked for on unix sockets: queued datagrams are charged to
 * the sender until read, so the peer's queue length, not our buffer, is
 * what limits a burst. */
#define DGRAM_UNIX_SNDBUF (4 << 20)
/* Largest UDP payload: 65535 - IP header (IPv4 only) - UDP header. */
#define DGRAM_UDP4_MAX (65535 - 20 - 8)
#define DGRAM_UDP6_MAX (65535 - 8)

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

struct dgram_priv {
	int fd;
	int waiter_fd;                     /* unix: tx_fd after -EAGAIN, else -1 */
	struct sockaddr_storage remote;
	socklen_t remote_len;
	size_t remote_path_len;            /* unix: strlen of the path */
	char bound_path[SUN_PATH_MAX];     /* unix path we bound, "" if none */
	dev_t bound_dev;
	ino_t bound_ino;
	struct dgram_io io;
};

static const char *const dgram_aliases[] = { "udp", NULL };

static const struct netbe_key dgram_keys[] = {
	{ .name = "local",
	  .help = "HOST:PORT | [V6ADDR]:PORT | PATH: where this end is bound "
		  "(required; an empty HOST means any address, PORT 0 lets "
		  "the kernel pick; a value with a '/' is a unix socket path)" },
	{ .name = "remote",
	  .help = "HOST:PORT | [V6ADDR]:PORT | PATH: where frames are sent; "
		  "datagrams from any other source are dropped and counted "
		  "(required; same kind as local)" },
	{ .name = NULL }
};

/**
 * dgram_is_path() - whether an endpoint value names a unix socket path
 * Return: true when it contains a '/'.
 */
static bool dgram_is_path(const char *val)
{
	return strchr(val, '/') != NULL;
}

/**
 * dgram_from_remote() - the source filter: only remote may send to us
 * Return: DGRAM_ACCEPT or DGRAM_FOREIGN.
 */
static enum dgram_verdict dgram_from_remote(const struct sockaddr_storage *from,
					    socklen_t len, const void *ctx)
{
	const struct dgram_priv *p = ctx;
	const size_t off = offsetof(struct sockaddr_un, sun_path);
	const struct sockaddr_un *su = (const void *)from, *ru = (const void *)&p->remote;

	if (p->remote.ss_family != AF_UNIX)
		return dgram_io_same_inet(from, &p->remote) ? DGRAM_ACCEPT : DGRAM_FOREIGN;
	if (from->ss_family != AF_UNIX || len <= off ||
	    strnlen(su->sun_path, len - off) != p->remote_path_len ||
	    memcmp(su->sun_path, ru->sun_path, p->remote_path_len))
		return DGRAM_FOREIGN;
	return DGRAM_ACCEPT;
}

/**
 * dgram_bind_error() - a bind() failure turned into advice
 * Return: @err, with the message recorded.
 */
static int dgram_bind_error(int err, const char *local)
{
	if (err == -EADDRINUSE)
		return netbe_errf(err, "dgram: cannot bind local=%s: %s - another socket uses it; stop that process or pick another port or path",
				  local, strerror(-err));
	if (err == -EADDRNOTAVAIL)
		return netbe_errf(err, "dgram: cannot bind local=%s: %s - that address is not on this host; use one of its addresses, or an empty host (local=:PORT)",
				  local, strerror(-err));
	return netbe_errf(err, "dgram: cannot bind local=%s: %s", local, strerror(-err));
}

/**
 * dgram_open_inet() - the UDP form: resolve both ends, bind local
 * Return: 0 with p->fd open, or -errno with the message recorded.
 */
static int dgram_open_inet(struct netbe *be, const char *local, const char *remote)
{
	struct dgram_priv *p = netbe_priv(be);
	struct netbe_addr r, l;
	int err, family;

	err = netbe_addr_parse_key("dgram", "remote", remote, NETBE_ADDR_NAMES, 0, &r);
	if (err)
		return err;
	p->remote = r.ss;
	p->remote_len = r.len;
	family = p->remote.ss_family;
	if ((family == AF_INET &&
	     IN_MULTICAST(ntohl(((struct sockaddr_in *)&p->remote)->sin_addr.s_addr))) ||
	    (family == AF_INET6 &&
	     IN6_IS_ADDR_MULTICAST(&((struct sockaddr_in6 *)&p->remote)->sin6_addr)))
		return netbe_errf(-EINVAL, "dgram: remote=%s is a multicast group - use mcast:group=%s",
				  remote, remote);
	err = netbe_addr_parse_key("dgram", "local", local,
				   NETBE_ADDR_NAMES | NETBE_ADDR_ANY | NETBE_ADDR_PORT0 |
				   (family == AF_INET ? NETBE_ADDR_V4 : NETBE_ADDR_V6),
				   0, &l);
	if (err)
		return err;
	p->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return netbe_errf(-errno, "dgram: cannot create a UDP socket: %s",
				  strerror(errno));
	if (bind(p->fd, (struct sockaddr *)&l.ss, l.len) < 0)
		return dgram_bind_error(-errno, local);
	dgram_io_grow_rcvbuf(p->fd);
	be->tx_max = family == AF_INET ? DGRAM_UDP4_MAX : DGRAM_UDP6_MAX;
	return 0;
}

/**
 * dgram_path_is_stale() - whether the socket file at @su is served by
 * nobody (connect() is refused)
 * Return: true when it is safe to remove.
 */
static bool dgram_path_is_stale(const struct sockaddr_un *su, socklen_t len)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool stale;

	if (s < 0)
		return false;
	stale = connect(s, (const struct sockaddr *)su, len) < 0 &&
		(errno == ECONNREFUSED || errno == ENOENT);
	close(s);
	return stale;
}

/**
 * dgram_claim_path() - make @su's path free to bind: remove a stale
 * socket file, refuse anything else that is there
 * Return: 0, or -errno with the message recorded.
 */
static int dgram_claim_path(const struct sockaddr_un *su, socklen_t len)
{
	const char *path = su->sun_path;
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return netbe_errf(-errno, "dgram: local=%s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return netbe_errf(-EEXIST, "dgram: local=%s exists and is not a socket - remove it or pick another path",
				  path);
	if (!dgram_path_is_stale(su, len))
		return netbe_errf(-EADDRINUSE, "dgram: local=%s is served by a running process - stop it or pick another path",
				  path);
	if (unlink(path) < 0 && errno != ENOENT)
		return netbe_errf(-errno, "dgram: cannot remove the stale socket local=%s: %s",
				  path, strerror(errno));
	return 0;
}

/**
 * dgram_open_unix() - the unix form: bind local (claiming a stale path),
 * remember remote, create the waiter socket
 * Return: 0 with p->fd and p->waiter_fd open, or -errno.
 */
static int dgram_open_unix(struct netbe *be, const char *local, const char *remote)
{
	struct dgram_priv *p = netbe_priv(be);
	struct netbe_addr r, l;
	struct stat st;
	int err, sndbuf;

	err = netbe_addr_parse_key("dgram", "remote", remote, NETBE_ADDR_UNIX, 0, &r);
	if (err)
		return err;
	p->remote = r.ss;
	p->remote_len = r.len;
	p->remote_path_len = strlen(remote);
	err = netbe_addr_parse_key("dgram", "local", local, NETBE_ADDR_UNIX, 0, &l);
	if (err)
		return err;
	err = dgram_claim_path((struct sockaddr_un *)&l.ss, l.len);
	if (err)
		return err;
	p->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return netbe_errf(-errno, "dgram: cannot create a unix socket: %s",
				  strerror(errno));
	if (bind(p->fd, (struct sockaddr *)&l.ss, l.len) < 0)
		return dgram_bind_error(-errno, local);
	if (stat(local, &st) == 0) {
		memcpy(p->bound_path, ((struct sockaddr_un *)&l.ss)->sun_path,
		       sizeof(p->bound_path));
		p->bound_dev = st.st_dev;
		p->bound_ino = st.st_ino;
	}
	sndbuf = DGRAM_UNIX_SNDBUF;
	if (setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)
		nb_debug("dgram: SO_SNDBUF %d: %s", sndbuf, strerror(errno));
	p->waiter_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->waiter_fd < 0)
		return netbe_errf(-errno, "dgram: cannot create a unix socket: %s",
				  strerror(errno));
	return 0;
}

/**
 * dgram_close() - the close op: close the sockets, unlink the
 * unix path this handle bound if it is still ours
 */
static void dgram_close(struct netbe *be)
{
	struct dgram_priv *p = netbe_priv(be);
	struct stat st;

	if (p->fd >= 0)
		close(p->fd);
	if (p->waiter_fd >= 0)
		close(p->waiter_fd);
	p->fd = p->waiter_fd = -1;
	if (p->bound_path[0] && stat(p->bound_path, &st) == 0 &&
	    st.st_dev == p->bound_dev && st.st_ino == p->bound_ino)
		unlink(p->bound_path);
	p->bound_path[0] = '\0';
}

/**
 * dgram_open() - the open op: check the keys, open the UDP or unix form
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int dgram_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct dgram_priv *p = netbe_priv(be);
	const char *local = netbe_spec_get(spec, "local");
	const char *remote = netbe_spec_get(spec, "remote");
	int err;

	p->fd = p->waiter_fd = -1;
	if (!local || !remote)
		return netbe_errf(-EINVAL, "dgram: %s= is missing - give both ends, e.g. dgram:local=127.0.0.1:5556,remote=127.0.0.1:5555 or dgram:local=/tmp/a.sock,remote=/tmp/b.sock",
				  local ? "remote" : "local");
	if (dgram_is_path(local) != dgram_is_path(remote))
		return netbe_errf(-EINVAL, "dgram: local=%s and remote=%s must both be HOST:PORT or both unix socket paths (a path contains a '/', e.g. ./a.sock)",
				  local, remote);
	if (dgram_is_path(local))
		err = dgram_open_unix(be, local, remote);
	else
		err = dgram_open_inet(be, local, remote);
	if (err) {
		dgram_close(be);
		return err;
	}
	be->be_hdr_len = 0;
	be->native_caps = 0;
	be->rx_fd = p->fd;
	be->tx_fd = p->waiter_fd >= 0 ? p->waiter_fd : p->fd;
	be->tx_events = NETBE_EV_OUT;
	nb_debug("dgram: fd %d, local %s, remote %s", p->fd, local, remote);
	return 0;
}

/**
 * dgram_arm_waiter() - after -EAGAIN on a unix socket: connect the waiter
 * to remote (again: the peer may have restarted), so that it turns
 * writable when the peer's queue has room. When remote is gone the waiter
 * stays writable and the retry reports the frames as undeliverable.
 */
static void dgram_arm_waiter(struct dgram_priv *p)
{
	if (connect(p->waiter_fd, (struct sockaddr *)&p->remote, p->remote_len) < 0)
		nb_debug("dgram: waiter connect: %s", strerror(errno));
}

/**
 * dgram_send() - the send op: one datagram per frame to remote
 * Return: frames consumed (x[i].err set for undeliverable ones), -EAGAIN,
 * or -errno when the socket is unusable.
 */
static int dgram_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct dgram_priv *p = netbe_priv(be);
	int r = dgram_io_send(&p->io, p->fd, (struct sockaddr *)&p->remote,
			      p->remote_len, x, n, "dgram");

	if (r == -EAGAIN && p->waiter_fd >= 0)
		dgram_arm_waiter(p);
	return r;
}

/**
 * dgram_recv() - the recv op: frames from remote only
 * Return: frames received, 0 when none pending, or -errno.
 */
static int dgram_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct dgram_priv *p = netbe_priv(be);

	return dgram_io_recv(be, &p->io, p->fd, x, n, dgram_from_remote, p);
}

const struct netbe_backend netbe_backend_dgram = {
	.name = "dgram",
	.aliases = dgram_aliases,
	.help = "one frame per datagram over UDP or a unix datagram socket (QEMU -netdev dgram / socket,udp= compatible)",
	.name_use = NETBE_NAME_NONE,
	.keys = dgram_keys,
	.priv_size = sizeof(struct dgram_priv),
	.open = dgram_open,
	.close = dgram_close,
	.send = dgram_send,
	.recv = dgram_recv,
};
