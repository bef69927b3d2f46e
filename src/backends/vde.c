/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vde.c - a port on a VDE network through libvdeplug: a vde_switch (its
 * control directory), or any libvdeplug URL (vxvde://, vde://, ...).
 *
 *   vde:/tmp/sw[,port=N][,descr=TEXT][,group=G][,mode=OCTAL][,mtu=N]
 *       [,reconnect=SECONDS]
 *   vde:vxvde://239.1.2.3          vde:vde:///tmp/sw          vde
 *
 * Theory of operation. vde_open() joins the switch: libvdeplug loads the
 * URL's module, and for a vde_switch the module sends a request with our
 * description on the switch's control socket (a stream socket it keeps
 * open) and gets a port: a unix datagram socket connected to the switch's
 * data socket, which is vde_datafd(). One frame is one datagram, plain
 * Ethernet with no header: offloads the frontend negotiates are done in
 * software by core.
 *
 * libvdeplug's calls are blocking and move one frame each: the vde module
 * ignores vde_recv()'s flags and uses blocking sockets. So when the data
 * fd is a socket it is made non-blocking here, and a send the switch
 * cannot queue now is -EAGAIN with the data fd's POLLOUT as the wake-up (a
 * connected unix datagram socket reports POLLOUT once the switch's queue
 * has room). Other modules hand out an fd that is not a socket (vxvde: an
 * epoll fd over its UDP sockets, whose vde_recv() waits forever when
 * nothing is pending): there every vde_recv() is preceded by a poll() of
 * the data fd with no wait. A module's vde_recv() returns 1 with errno
 * EAGAIN for a datagram that was not a frame for us (vxvde: our own
 * multicast looped back, another VNI); that is skipped, not counted.
 *
 * Frames go through a buffer one byte longer than the largest frame any
 * mtu allows (vde_recv() takes one buffer): a datagram longer than
 * mtu + 18 (or cut to that buffer) is dropped as rx_too_big; one shorter than an Ethernet header
 * is passed on for core to count as rx_runt. vde_switch itself carries
 * frames of up to 1518 bytes (mtu=1500, the default).
 *
 * The switch going away: the control socket reaches end of file. The
 * handle then reports the link down and logs why, once. A restarted
 * switch is a new switch (new ports; the old data socket is dead), so
 * by default the handle stays down and sends are counted as tx_error
 * until it is closed and opened again. With reconnect=N a loop timer
 * tries vde_open() every N seconds; once the switch answers, the new
 * port replaces the old one under a lock the data path holds for reading
 * (a send may run on the frontend's thread), core's watches move to the new data
 * fd (netbe_set_fds), and the link comes up. vde_open() blocks while the
 * switch answers the join, which a live vde_switch does at once. Modules
 * without a control stream (vxvde) never go down.
 *
 * Threads: one thread may send while another receives: each holds the
 * lock for reading during its batch, so they do not wait for each other
 * (the vde module's send and receive share nothing but the socket).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <libvdeplug.h>

#include "backend.h"
#include "iov.h"
#include "log.h"
#include "spec.h"

#define VDE_MTU_MIN 68
#define VDE_MTU_DEFAULT 1500
#define VDE_MTU_MAX VDE_MAXMTU
/* Largest frame: mtu plus an Ethernet header and one VLAN tag. */
#define VDE_FRAME_MAX (VDE_MTU_MAX + NETBE_L2_MAX)
/* libvdeplug copies at most this many bytes of the description, unended
 * when it is longer (MAXDESCR in libvdeplug_mod.h). */
#define VDE_DESCR_MAX 127
#define VDE_URL_MAX 1024
#define VDE_DESCR_DEFAULT "netbe"
/* The data socket's mode when mode= is absent: QEMU's, libvdeplug's. */
#define VDE_MODE_DEFAULT 0700
#define VDE_RECONNECT_MAX 86400

struct vdebe_priv {
	pthread_rwlock_t lock;     /* conn and datafd: read by the data path,
				    * written by a rejoin */
	VDECONN *conn;
	struct vde_open_args args;
	unsigned reconnect_s;      /* rejoin period after a hang-up, 0: none */
	void *timer;               /* the rejoin timer */
	int datafd;
	int ctlfd;                 /* the switch's control stream, or -1 */
	void *ctl_watch;
	bool poll_before_recv;     /* datafd is not a socket we made non-blocking */
	bool gone;                 /* the switch closed the control stream
				    * (atomic: read by a sending thread) */
	char url[VDE_URL_MAX];
	char descr[VDE_DESCR_MAX + 1];
	char group[64];
	unsigned char rxbuf[VDE_FRAME_MAX + 1];
	unsigned char txbuf[VDE_FRAME_MAX];
};

static const struct netbe_key vdebe_keys[] = {
	{ .name = "port",
	  .help = "1..65535: join this port of the switch (default: the switch picks a free one)" },
	{ .name = "descr",
	  .help = "TEXT: the port's description in the switch's port/print (default netbe; at most 127 characters)" },
	{ .name = "group",
	  .help = "GROUP: give this group the data socket the switch sends to (a switch run by another user)" },
	{ .name = "mode",
	  .help = "OCTAL: permissions of that data socket (default 0700)" },
	{ .name = "mtu",
	  .help = "68..9216: largest IP packet on the link (default 1500; vde_switch carries no more)" },
	{ .name = "reconnect",
	  .help = "1..86400: when the switch closes the port, join it again every this many seconds (default: stay down)" },
	{ .name = NULL }
};

/**
 * vdebe_is_socket() - whether @fd is a socket
 * Return: true when getsockopt(SO_TYPE) works on it; *@type gets the type.
 */
static bool vdebe_is_socket(int fd, int *type)
{
	socklen_t len = sizeof(*type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) == 0;
}

/**
 * vdebe_copy_key() - copy string key @key (if given) into @dst of @size
 * Return: 0, or -EINVAL naming the key when it is too long.
 */
static int vdebe_copy_key(const struct netbe_spec *spec, const char *key,
			char *dst, size_t size)
{
	const char *v = netbe_spec_get(spec, key);

	if (!v)
		return 0;
	if (strlen(v) >= size)
		return netbe_errf(-EINVAL, "vde: %s= is longer than %zu characters",
				  key, size - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/**
 * vdebe_config() - read the spec into @p (its vde_open() arguments
 * included) and the link's mtu into *@mtu
 * Return: 0, or -EINVAL with a message naming the key.
 */
static int vdebe_config(struct vdebe_priv *p, const struct netbe_spec *spec,
			uint64_t *mtu)
{
	struct vde_open_args *args = &p->args;
	const char *mode = netbe_spec_get(spec, "mode");
	uint64_t port, reconnect;
	unsigned long m;
	char *end;
	int err;

	if (spec->name && strlen(spec->name) >= sizeof(p->url))
		return netbe_errf(-EINVAL, "vde: the switch path or URL is longer than %zu characters",
				  sizeof(p->url) - 1);
	snprintf(p->url, sizeof(p->url), "%s", spec->name ? spec->name : "");
	snprintf(p->descr, sizeof(p->descr), "%s", VDE_DESCR_DEFAULT);
	err = vdebe_copy_key(spec, "descr", p->descr, sizeof(p->descr));
	if (!err)
		err = vdebe_copy_key(spec, "group", p->group, sizeof(p->group));
	if (!err)
		err = netbe_spec_uint(spec, "port", 1, 65535, 0, &port);
	if (!err)
		err = netbe_spec_uint(spec, "mtu", VDE_MTU_MIN, VDE_MTU_MAX,
				      VDE_MTU_DEFAULT, mtu);
	if (!err)
		err = netbe_spec_uint(spec, "reconnect", 1, VDE_RECONNECT_MAX, 0,
				      &reconnect);
	if (err)
		return err;
	p->reconnect_s = (unsigned)reconnect;
	args->port = (int)port;
	args->group = p->group[0] ? p->group : NULL;
	args->mode = VDE_MODE_DEFAULT;
	if (mode) {
		errno = 0;
		m = strtoul(mode, &end, 8);
		if (errno || end == mode || *end || m > 0777)
			return netbe_errf(-EINVAL, "vde: mode=%s is not an octal permission (0..0777, e.g. mode=0770)",
					  mode);
		args->mode = (mode_t)m;
	}
	return 0;
}

/**
 * vdebe_open_error() - a vde_open() failure turned into advice
 * Return: @err, with the message recorded.
 */
static int vdebe_open_error(const struct vdebe_priv *p, int err)
{
	const char *where = p->url[0] ? p->url : "the default switch";

	if (err == -ENOENT || err == -ECONNREFUSED)
		return netbe_errf(err, "vde: cannot join %s: %s - no vde_switch serves it; start one with 'vde_switch -s %s' or fix the path",
				  where, strerror(-err), p->url[0] ? p->url : "/var/run/vde.ctl");
	if (err == -EACCES || err == -EPERM)
		return netbe_errf(err, "vde: cannot join %s: %s - the switch belongs to another user; run as that user, or give its group with group=",
				  where, strerror(-err));
	return netbe_errf(err, "vde: cannot join %s: %s - check the path (a vde_switch -s directory) or the libvdeplug URL (vxvde://GROUP, vde://PATH, ...)",
			  where, strerror(-err));
}

static void vdebe_on_ctl(void *opaque, int fd, unsigned revents);

/**
 * vdebe_watch_ctl() - watch the control stream of p->conn, when the module
 * has one (a stream socket that is not the data fd)
 * Return: 0, or -errno with the message recorded.
 */
static int vdebe_watch_ctl(struct netbe *be)
{
	struct vdebe_priv *p = netbe_priv(be);
	int type, err;

	p->ctlfd = vde_ctlfd(p->conn);
	if (p->ctlfd < 0 || p->ctlfd == p->datafd ||
	    !vdebe_is_socket(p->ctlfd, &type) || type != SOCK_STREAM) {
		p->ctlfd = -1;
		return 0;
	}
	err = be->loop.ops->watch_add(be->loop.loop, p->ctlfd, vdebe_on_ctl, be,
				      &p->ctl_watch);
	if (!err)
		err = be->loop.ops->watch_mod(be->loop.loop, p->ctl_watch, NETBE_EV_IN);
	if (err)
		return netbe_errf(err < 0 ? err : -EIO, "vde: cannot watch the switch's control socket: %s",
				  strerror(err < 0 ? -err : EIO));
	return 0;
}

/**
 * vdebe_on_ctl() - the control stream is readable: the switch is gone (end
 * of file or an error), or it said something, which is read and ignored
 */
static void vdebe_on_ctl(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	struct vdebe_priv *p = netbe_priv(be);
	const char *why;
	char junk[256];
	ssize_t r;

	(void)revents;
	r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	why = r == 0 ? "it stopped, or the port was removed" : strerror(errno);
	__atomic_store_n(&p->gone, true, __ATOMIC_RELAXED);
	be->loop.ops->watch_mod(be->loop.loop, p->ctl_watch, 0);
	netbe_set_link(be, false);
	if (!p->reconnect_s) {
		nb_err("vde: the switch %s closed this port (%s): link down; frames sent are counted as tx_error until the handle is opened again",
		       p->url[0] ? p->url : "(default)", why);
		return;
	}
	nb_err("vde: the switch %s closed this port (%s): link down; joining it again every %u s (frames sent meanwhile are counted as tx_error)",
	       p->url[0] ? p->url : "(default)", why, p->reconnect_s);
	be->loop.ops->timer_mod(be->loop.loop, p->timer,
				(uint64_t)p->reconnect_s * 1000000000u,
				(uint64_t)p->reconnect_s * 1000000000u);
}

/**
 * vdebe_prepare() - make @conn's data fd usable from a loop: non-blocking
 * when it is a socket, else polled before each receive
 * Return: the data fd, or -errno with the message recorded.
 */
static int vdebe_prepare(struct vdebe_priv *p, VDECONN *conn, bool *polled)
{
	int fd = vde_datafd(conn), type, flags;

	if (fd < 0)
		return netbe_errf(-EIO, "vde: %s gave no data descriptor", p->url);
	*polled = !vdebe_is_socket(fd, &type);
	if (*polled)
		return fd;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return netbe_errf(-errno, "vde: cannot make the data socket non-blocking: %s",
				  strerror(errno));
	return fd;
}

/**
 * vdebe_rejoin() - take @conn, a new port on the switch, in place of the
 * dead one (loop thread): swap under the lock the data path takes, move
 * core's watches, then close the old port
 * Return: 0, or -errno (the old port stays, the caller closes @conn).
 */
static int vdebe_rejoin(struct netbe *be, VDECONN *conn)
{
	struct vdebe_priv *p = netbe_priv(be);
	VDECONN *old = p->conn;
	bool polled;
	int fd = vdebe_prepare(p, conn, &polled), err;

	if (fd < 0)
		return fd;
	err = netbe_set_fds(be, fd, polled ? -1 : fd);
	if (err)
		return err;
	pthread_rwlock_wrlock(&p->lock);
	p->conn = conn;
	p->datafd = fd;
	p->poll_before_recv = polled;
	__atomic_store_n(&p->gone, false, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&p->lock);
	if (p->ctl_watch)
		be->loop.ops->watch_del(be->loop.loop, p->ctl_watch);
	p->ctl_watch = NULL;
	vde_close(old);
	err = vdebe_watch_ctl(be);
	if (err)
		nb_warn("vde: rejoined %s without noticing if it goes away again: %s",
			p->url, netbe_last_error());
	return 0;
}

/**
 * vdebe_on_retry() - the rejoin timer: try to join the switch again; on
 * success stop the timer and report the link up
 */
static void vdebe_on_retry(void *opaque)
{
	struct netbe *be = opaque;
	struct vdebe_priv *p = netbe_priv(be);
	VDECONN *conn;

	errno = 0;
	conn = vde_open(p->url, p->descr, &p->args);
	if (!conn) {
		nb_debug("vde: %s is not back yet: %s", p->url,
			 strerror(errno ? errno : EIO));
		return;
	}
	if (vdebe_rejoin(be, conn)) {
		vde_close(conn);
		return;
	}
	be->loop.ops->timer_mod(be->loop.loop, p->timer, 0, 0);
	netbe_set_link(be, true);
	nb_info("vde: joined the switch %s again: link up", p->url[0] ? p->url : "(default)");
}

/**
 * vdebe_close() - the close op: stop the watch and the timer, leave the
 * switch
 */
static void vdebe_close(struct netbe *be)
{
	struct vdebe_priv *p = netbe_priv(be);

	if (p->ctl_watch)
		be->loop.ops->watch_del(be->loop.loop, p->ctl_watch);
	p->ctl_watch = NULL;
	if (p->timer)
		be->loop.ops->timer_del(be->loop.loop, p->timer);
	p->timer = NULL;
	if (p->conn)
		vde_close(p->conn);
	p->conn = NULL;
	pthread_rwlock_destroy(&p->lock);
}

/**
 * vdebe_join() - join the switch the first time and set up the fds
 * Return: 0, or -errno with the message recorded.
 */
static int vdebe_join(struct netbe *be)
{
	struct vdebe_priv *p = netbe_priv(be);
	int fd, err;

	errno = 0;
	p->conn = vde_open(p->url, p->descr, &p->args);
	if (!p->conn)
		return vdebe_open_error(p, errno ? -errno : -EIO);
	fd = vdebe_prepare(p, p->conn, &p->poll_before_recv);
	if (fd < 0)
		return fd;
	p->datafd = be->rx_fd = fd;
	if (!p->poll_before_recv) {
		be->tx_fd = fd;
		be->tx_events = NETBE_EV_OUT;
	}
	if (p->reconnect_s) {
		err = be->loop.ops->timer_add(be->loop.loop, vdebe_on_retry, be, &p->timer);
		if (err)
			return netbe_errf(err < 0 ? err : -EIO, "vde: cannot create the reconnect timer");
	}
	return vdebe_watch_ctl(be);
}

/**
 * vdebe_open() - the open op: read the spec, join the switch
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int vdebe_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct vdebe_priv *p = netbe_priv(be);
	uint64_t mtu;
	int err;

	p->datafd = p->ctlfd = -1;
	pthread_rwlock_init(&p->lock, NULL);
	err = vdebe_config(p, spec, &mtu);
	if (!err)
		err = vdebe_join(be);
	if (err) {
		vdebe_close(be);
		return err;
	}
	be->be_hdr_len = 0;
	be->native_caps = 0;
	be->rx_max = be->tx_max = (size_t)mtu + NETBE_L2_MAX;
	nb_debug("vde: joined %s as '%s', data fd %d, control fd %d",
		 p->url[0] ? p->url : "(default)", p->descr, p->datafd, p->ctlfd);
	return 0;
}

/**
 * vdebe_send_one() - hand one frame to libvdeplug, flattened if need be
 * Return: >= 0 sent, or -errno.
 */
static ssize_t vdebe_send_one(struct vdebe_priv *p, const struct netbe_xfer *x)
{
	const void *buf = x->iov[0].iov_base;
	ssize_t r;

	if (x->iovcnt != 1) {
		iov_to_buf(x->iov, x->iovcnt, 0, p->txbuf, x->len);
		buf = p->txbuf;
	}
	do
		r = vde_send(p->conn, buf, x->len, 0);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/**
 * vdebe_send_op() - the send op: one datagram per frame
 * Return: frames consumed (x[i].err set for undeliverable ones), -EAGAIN
 * when the switch's queue is full, or -errno when the socket is unusable.
 */
static int vdebe_send_op(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct vdebe_priv *p = netbe_priv(be);
	unsigned i;
	ssize_t r;

	pthread_rwlock_rdlock(&p->lock);
	for (i = 0; i < n; i++) {
		x[i].err = 0;
		r = vdebe_send_one(p, &x[i]);
		if (r >= 0)
			continue;
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			break;
		if (r == -EBADF || r == -ENOTSOCK) {
			if (!i) {
				pthread_rwlock_unlock(&p->lock);
				return NB_ERR_RL((int)r, "vde: send failed: %s",
						 strerror((int)-r));
			}
			break;
		}
		x[i].err = (int)r;
		NB_LOG_RL(__atomic_load_n(&p->gone, __ATOMIC_RELAXED) ?
			  NETBE_LOG_DEBUG : NETBE_LOG_WARN,
			  "vde: a frame was not delivered to the switch: %s",
			  strerror((int)-r));
	}
	pthread_rwlock_unlock(&p->lock);
	return i ? (int)i : -EAGAIN;
}

/**
 * vdebe_pending() - for modules whose data fd is not a non-blocking
 * socket: whether vde_recv() would return without waiting
 * Return: true when it may be called.
 */
static bool vdebe_pending(const struct vdebe_priv *p)
{
	struct pollfd pfd = { .fd = p->datafd, .events = POLLIN };

	if (!p->poll_before_recv)
		return true;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

/**
 * vdebe_recv_one() - one vde_recv() into the bounce buffer
 * Return: the datagram's length, -EAGAIN when none is pending, -EINTR for
 * a datagram the module discarded (try the next), or -errno.
 */
static ssize_t vdebe_recv_one(struct vdebe_priv *p)
{
	ssize_t r;

	if (!vdebe_pending(p))
		return -EAGAIN;
	errno = 0;
	r = vde_recv(p->conn, p->rxbuf, sizeof(p->rxbuf), 0);
	if (r == 1 && errno == EAGAIN)
		return -EINTR;
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/* Datagrams looked at per recv op at most (dropped ones included). */
#define VDE_RECV_BUDGET (4 * NETBE_BURST)

/**
 * vdebe_recv_locked() - receive frames from the switch, over-long ones
 * dropped and counted; p->lock held for reading
 * Return: frames received, 0 when none pending, or -errno.
 */
static int vdebe_recv_locked(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct vdebe_priv *p = netbe_priv(be);
	unsigned got = 0, looked;
	ssize_t r;

	for (looked = 0; got < n && looked < VDE_RECV_BUDGET; looked++) {
		r = vdebe_recv_one(p);
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			if (r == -EBADF || r == -ENOTSOCK)
				return got ? (int)got : NB_ERR_RL((int)r, "vde: receive failed: %s",
								   strerror((int)-r));
			NB_LOG_RL(NETBE_LOG_DEBUG, "vde: receive: %s", strerror((int)-r));
			break;
		}
		if ((size_t)r > be->rx_max) {
			netbe_count_drop(be, NETBE_DROP_RX_TOO_BIG);
			NB_LOG_RL(NETBE_LOG_WARN, "vde: dropped a datagram longer than %zu bytes from the switch",
				  be->rx_max);
			continue;
		}
		iov_from_buf(x[got].iov, x[got].iovcnt, 0, p->rxbuf, (size_t)r);
		x[got++].len = (size_t)r;
	}
	return (int)got;
}

/**
 * vdebe_recv_op() - the recv op, holding the lock for reading
 * Return: frames received, 0 when none pending, or -errno.
 */
static int vdebe_recv_op(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct vdebe_priv *p = netbe_priv(be);
	int r;

	pthread_rwlock_rdlock(&p->lock);
	r = vdebe_recv_locked(be, x, n);
	pthread_rwlock_unlock(&p->lock);
	return r;
}

const struct netbe_backend netbe_backend_vde = {
	.name = "vde",
	.help = "a port on a VDE network through libvdeplug: a vde_switch, vxvde://, any libvdeplug URL",
	.name_help = "a vde_switch control directory (vde_switch -s DIR) or a libvdeplug URL such as vxvde://239.1.2.3; none: libvdeplug's default switch",
	.name_use = NETBE_NAME_OPTIONAL,
	.keys = vdebe_keys,
	.priv_size = sizeof(struct vdebe_priv),
	.open = vdebe_open,
	.close = vdebe_close,
	.send = vdebe_send_op,
	.recv = vdebe_recv_op,
};
