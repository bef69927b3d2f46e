/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vhost_user.c - a netbe_vdev served to a vhost-user frontend (QEMU,
 * cloud-hypervisor, crosvm, DPDK virtio_user) over a unix stream socket.
 *
 * Theory of operation
 *
 * Connection. As the server, a listening socket is watched through the
 * caller's loop; the first frontend is taken, a second one while it is
 * there is accepted only to be closed (one frontend at a time). As the
 * client (NETBE_VHU_CLIENT), a periodic loop timer tries a connect every
 * VHU_RECONNECT_NS while there is no frontend, so a frontend that restarts
 * finds the device again. Nothing here blocks and nothing runs outside the
 * loop's callbacks: the library owns no thread and no loop.
 *
 * Messages. The connected socket is non-blocking and watched for input. A
 * message is read into a per-connection buffer, header first and then the
 * payload, each with as many recvmsg() calls as the stream needs: a read
 * that stops short (EAGAIN) leaves what it got in the buffer and the next
 * readable event goes on, so a message that arrives in parts is never
 * mistaken for a short one and the loop never waits on a slow frontend.
 * File descriptors come as SCM_RIGHTS with a message's first byte, with
 * MSG_CMSG_CLOEXEC; room is made for VHU_FDS_MAX of them, and fds that come
 * later in a message, that overflow (MSG_CTRUNC) or that the request does
 * not carry make the message malformed. Every received fd is closed unless
 * a handler took it, on every path. The header is checked before the
 * payload is read and the whole message before it is acted on
 * (vhu_msg_check(): sizes, flags, fd counts, regions, indexes).
 *
 * Errors. A malformed message, a request the device refuses without a
 * NEED_REPLY to report it through, or a failing socket closes the
 * connection with one log line and resets the session: rings stopped,
 * netbe_vdev_reset(), guest memory unmapped, every fd closed; then the
 * server waits for the next frontend and the client reconnects. With
 * REPLY_ACK negotiated, a refused request with NEED_REPLY (and a request
 * netbe does not implement) gets a failure ack instead and the frontend
 * decides. Replies are small and written without blocking: a frontend
 * waits for each reply before its next request, so a socket without room
 * for one is a frontend that does not read, and it is dropped.
 *
 * Rings. SET_VRING_NUM, _BASE and _ADDR are remembered (ring addresses
 * are translated from the frontend's address space to guest physical
 * through the memory table, and must lie in it); SET_VRING_KICK starts the
 * ring and its eventfd is watched through the loop, each wakeup a
 * netbe_vdev_kick(). With VHOST_USER_F_PROTOCOL_FEATURES negotiated a
 * started ring is disabled until SET_VRING_ENABLE, as the spec says; since
 * netbe_vdev_set_vring() starts a queue enabled and runs it at once, such
 * a ring is handed to the device only when both its kick and its enable
 * have come, and a later disable goes through netbe_vdev_enable_vring().
 * GET_VRING_BASE stops it and reports where to resume. The
 * device's notify callback writes the ring's call eventfd; it may run on
 * a queue pair's own thread, so the call fds are swapped under a mutex.
 * Kick and call fds must be eventfds: any other fd could make a watch
 * fire forever or a write block. A kick eventfd is made non-blocking (only
 * the device reads it, so the flag, shared with the frontend's copy,
 * changes nothing there) so that a frontend reading it too cannot block
 * the loop; a call eventfd is written only when poll() says there is
 * room, since its reader is the frontend and its flags are left alone.
 *
 * Protocol features offered: MQ, REPLY_ACK, RESET_DEVICE and STATUS.
 * Not CONFIG: vhost-user-net frontends build the config space themselves
 * (QEMU 7.2 never sends GET_CONFIG for a net device and warns at every
 * start when a backend offers it), so GET_CONFIG/SET_CONFIG are answered
 * like any request netbe does not implement.
 *
 * Guest memory. Each region of SET_MEM_TABLE is mapped shared from its fd
 * at offset 0 for mmap_offset + size bytes (the region starts at
 * mmap_offset), after checking that the fd is a regular file (memfd,
 * hugetlbfs, tmpfs) at least that long, so touching the mapping cannot
 * raise SIGBUS at setup. The new table replaces the old in the device
 * before the old one is unmapped. A frontend that shrinks its file later
 * can still make accesses fault; every vhost-user backend shares that
 * trust in the frontend's memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "netbe-virtio.h"
#include "vhu_msg.h"

#define VHU_QUEUES_MAX (2 * NETBE_VDEV_PAIRS_MAX + 1)
#define VHU_RECONNECT_NS 1000000000ULL
#define VHU_ACCEPT_PAUSE_NS 100000000ULL
#define VHU_MSGS_PER_WAKEUP 32     /* then let the loop serve others */
#define VHU_BACKLOG 4
#define VHU_PROTOCOL_FEATURES (VHU_PF_MQ | VHU_PF_REPLY_ACK | \
			       VHU_PF_RESET_DEVICE | VHU_PF_STATUS)

struct netbe_vhost_user;

struct vhu_queue {
	struct netbe_vhost_user *vu;
	unsigned index;
	unsigned num;
	uint64_t desc, avail, used;   /* guest physical */
	uint16_t base;                /* where to resume */
	bool have_addr;
	bool kicked;                  /* started in vhost-user terms: its
				       * SET_VRING_KICK came */
	bool started;                 /* started in the device */
	bool enabled;                 /* SET_VRING_ENABLE's last word */
	int kick_fd;
	void *kick_watch;
};

struct vhu_map {
	void *base;
	size_t len;
	bool sealed;           /* the file cannot shrink under the mapping */
};

struct netbe_vhost_user {
	struct netbe_loop loop;
	struct netbe_vdev *dev;
	struct sockaddr_un addr;
	bool client;
	unsigned pairs, nqueues;

	int listen_fd;
	void *listen_watch;
	struct stat listen_st;        /* the socket file we made */
	void *timer;                  /* client: reconnect; server: resume
				       * accepting after a pause */
	int conn_fd;
	void *conn_watch;

	/* the message being received */
	struct vhu_msg rx;
	size_t rx_have;
	int rx_fds[VHU_FDS_MAX];
	unsigned rx_nfds;
	const char *why;              /* the reason for the next drop */

	/* the session with the connected frontend */
	uint64_t proto_features;
	bool proto_acked;             /* VHOST_USER_F_PROTOCOL_FEATURES */
	uint8_t status;
	struct vhu_mem mem;           /* for address translation */
	struct vhu_map maps[VHU_MEM_REGIONS_MAX];
	struct vhu_queue q[VHU_QUEUES_MAX];

	pthread_mutex_t call_lock;    /* call_fd: notify runs on queue threads */
	int call_fd[VHU_QUEUES_MAX];
};

static void vhu_arm_reconnect(struct netbe_vhost_user *vu);

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

/** vhu_close_fd() - close *@fdp if open and mark it closed. Return:
 * nothing. */
static void vhu_close_fd(int *fdp)
{
	if (*fdp >= 0)
		close(*fdp);
	*fdp = -1;
}

/** vhu_is_eventfd() - whether @fd is an eventfd (its /proc link names
 * the anonymous inode). Return: true or false. */
static bool vhu_is_eventfd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventfd]") == 0;
}

/** vhu_name() - the request's name for log lines. Return: a string that
 * lives until the next call. */
static const char *vhu_name(uint32_t request)
{
	static __thread char buf[32];
	const char *name = vhu_request_name(request);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "request %u", request);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Notifications                                                            */
/* ------------------------------------------------------------------------ */

/**
 * vhu_notify() - the device's notify callback: signal queue @queue's call
 * eventfd. Runs on whatever thread serves the queue; a full eventfd (the
 * frontend never reads it) is skipped rather than blocked on.
 * Return: nothing.
 */
static void vhu_notify(void *opaque, unsigned queue)
{
	struct netbe_vhost_user *vu = opaque;
	uint64_t one = 1;
	struct pollfd pfd = { .events = POLLOUT };

	if (queue >= VHU_QUEUES_MAX)
		return;
	pthread_mutex_lock(&vu->call_lock);
	pfd.fd = vu->call_fd[queue];
	if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT) &&
	    write(pfd.fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		NB_LOG_RL(NETBE_LOG_WARN, "vhost-user %s: cannot signal queue %u's call eventfd: %s",
			  vu->addr.sun_path, queue, strerror(errno));
	pthread_mutex_unlock(&vu->call_lock);
}

/**
 * vhu_config_changed() - the device's config callback: a vhost-user
 * backend tells the frontend through the backend channel (BACKEND_REQ),
 * which netbe does not offer, so the change is only logged (vhost-user-net
 * frontends keep the config space themselves).
 * Return: nothing.
 */
static void vhu_config_changed(void *opaque)
{
	struct netbe_vhost_user *vu = opaque;

	nb_debug("vhost-user %s: device config changed (the frontend is not told)",
		 vu->addr.sun_path);
}

/** vhu_set_call_fd() - swap queue @qi's call fd for @fd (-1: none) and
 * close the old one. Return: nothing. */
static void vhu_set_call_fd(struct netbe_vhost_user *vu, unsigned qi, int fd)
{
	int old;

	pthread_mutex_lock(&vu->call_lock);
	old = vu->call_fd[qi];
	vu->call_fd[qi] = fd;
	pthread_mutex_unlock(&vu->call_lock);
	vhu_close_fd(&old);
}

/** vhu_on_kick() - queue's kick eventfd is readable: consume it and kick
 * the device. Return: nothing. */
static void vhu_on_kick(void *opaque, int fd, unsigned revents)
{
	struct vhu_queue *q = opaque;
	uint64_t v;

	(void)revents;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
		NB_LOG_RL(NETBE_LOG_WARN, "vhost-user %s: cannot read queue %u's kick eventfd: %s",
			  q->vu->addr.sun_path, q->index, strerror(errno));
	netbe_vdev_kick(q->vu->dev, q->index);
}

/** vhu_drop_kick() - stop watching queue's kick fd and close it.
 * Return: nothing. */
static void vhu_drop_kick(struct netbe_vhost_user *vu, struct vhu_queue *q)
{
	if (q->kick_watch)
		vu->loop.ops->watch_del(vu->loop.loop, q->kick_watch);
	q->kick_watch = NULL;
	vhu_close_fd(&q->kick_fd);
}

/* ------------------------------------------------------------------------ */
/* Guest memory                                                             */
/* ------------------------------------------------------------------------ */

/** vhu_unmap() - unmap @n mappings of @maps. Return: nothing. */
static void vhu_unmap(struct vhu_map *maps, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (maps[i].base)
			munmap(maps[i].base, maps[i].len);
		maps[i].base = NULL;
		maps[i].len = 0;
	}
}

/**
 * vhu_seal_shrink() - keep the frontend from shrinking a region's file
 * under the mapping (a guest access past the new end would raise SIGBUS
 * in netbe): F_SEAL_SHRINK, which a memfd created with sealing allowed
 * takes from anyone holding it (QEMU's memory-backend-memfd does by
 * default); growing stays allowed. Sealed before the size is checked, so
 * the check cannot be raced.
 * Return: true when the file cannot shrink any more.
 */
static bool vhu_seal_shrink(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals >= 0 && (seals & F_SEAL_SHRINK))
		return true;
	return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0;
}

/**
 * vhu_map_region() - map region @r from @fd (offset 0, mmap_offset + size
 * bytes) after sealing it against shrinking where it can be (m->sealed)
 * and checking the file is that long
 * Return: 0 with @m filled, or -EINVAL / the errno of fstat() or mmap().
 */
static int vhu_map_region(int fd, const struct vhu_mem_region *r,
			  struct vhu_map *m)
{
	uint64_t len = r->mmap_offset + r->size;   /* no wrap: vhu_msg_check */
	struct stat st;
	void *p;

	m->sealed = vhu_seal_shrink(fd);
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < len || len > SIZE_MAX)
		return -EINVAL;
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->base = p;
	m->len = (size_t)len;
	return 0;
}

/** vhu_uaddr_to_gpa() - translate a frontend address through the memory
 * table. Return: 0 with *@gpa set, or -EINVAL when no region holds it. */
static int vhu_uaddr_to_gpa(const struct netbe_vhost_user *vu, uint64_t uaddr,
			    uint64_t *gpa)
{
	unsigned i;

	for (i = 0; i < vu->mem.nregions; i++) {
		const struct vhu_mem_region *r = &vu->mem.r[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size) {
			*gpa = r->gpa + (uaddr - r->uaddr);
			return 0;
		}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------------ */
/* Session state                                                            */
/* ------------------------------------------------------------------------ */

/** vhu_reset_queues() - forget every ring: kick watches and fds closed,
 * call fds closed, sizes and addresses cleared. Return: nothing. */
static void vhu_reset_queues(struct netbe_vhost_user *vu)
{
	unsigned i;

	for (i = 0; i < VHU_QUEUES_MAX; i++) {
		struct vhu_queue *q = &vu->q[i];

		vhu_drop_kick(vu, q);
		vhu_set_call_fd(vu, i, -1);
		q->num = 0;
		q->desc = q->avail = q->used = 0;
		q->base = 0;
		q->have_addr = q->kicked = q->started = q->enabled = false;
	}
}

/** vhu_reset_device() - RESET_OWNER / RESET_DEVICE, and the end of a
 * connection: rings stopped, device reset, memory unmapped. Protocol
 * features stay (they belong to the connection). Return: nothing. */
static void vhu_reset_device(struct netbe_vhost_user *vu)
{
	vhu_reset_queues(vu);
	netbe_vdev_reset(vu->dev);
	vhu_unmap(vu->maps, VHU_MEM_REGIONS_MAX);
	memset(&vu->mem, 0, sizeof(vu->mem));
	vu->proto_acked = false;
	vu->status = 0;
}

/** vhu_rx_clear() - close the fds of the message being received and start
 * a new one. Return: nothing. */
static void vhu_rx_clear(struct netbe_vhost_user *vu)
{
	unsigned i;

	for (i = 0; i < vu->rx_nfds; i++)
		vhu_close_fd(&vu->rx_fds[i]);
	vu->rx_nfds = 0;
	vu->rx_have = 0;
}

/**
 * vhu_disconnect() - end the connection (@fmt says why, one log line at
 * @level) and the session; the server waits for the next frontend, the
 * client starts reconnecting
 * Return: nothing.
 */
static void vhu_disconnect(struct netbe_vhost_user *vu, enum netbe_log_level level,
			   const char *fmt, ...) NETBE_PRINTF(3, 4);
static void vhu_disconnect(struct netbe_vhost_user *vu, enum netbe_log_level level,
			   const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	netbe_logf(level, "vhost-user %s: frontend disconnected: %s; %s",
		   vu->addr.sun_path, why,
		   vu->client ? "reconnecting every second" : "waiting for the next one");
	if (vu->conn_watch)
		vu->loop.ops->watch_del(vu->loop.loop, vu->conn_watch);
	vu->conn_watch = NULL;
	vhu_close_fd(&vu->conn_fd);
	vhu_rx_clear(vu);
	vhu_reset_device(vu);
	vu->proto_features = 0;
	if (vu->client)
		vhu_arm_reconnect(vu);
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * vhu_send_reply() - send @reply (its header's size says how much payload)
 * for the request being handled. Replies are at most a few hundred bytes
 * to a frontend that waits for them, so the write does not block: a short
 * one means the frontend is not reading (see the top of the file).
 * Return: 0, or a negative errno (the caller drops the connection).
 */
static int vhu_send_reply(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	size_t len = VHU_HDR_SIZE + reply->hdr.size;
	struct iovec iov[2] = {
		{ .iov_base = &reply->hdr, .iov_len = VHU_HDR_SIZE },
		{ .iov_base = &reply->p, .iov_len = reply->hdr.size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	reply->hdr.request = vu->rx.hdr.request;
	reply->hdr.flags = VHU_VERSION | VHU_FLAG_REPLY;
	do
		n = sendmsg(vu->conn_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EAGAIN;
}

/** vhu_send_ack() - the REPLY_ACK answer: u64 0 for success, 1 for
 * failure. Return: as vhu_send_reply(). */
static int vhu_send_ack(struct netbe_vhost_user *vu, int result)
{
	struct vhu_msg reply;

	memset(&reply, 0, sizeof(reply));
	reply.hdr.size = sizeof(uint64_t);
	reply.p.u64 = result ? 1 : 0;
	return vhu_send_reply(vu, &reply);
}

/** vhu_reply_u64() - fill @reply with one u64. Return: 0. */
static int vhu_reply_u64(struct vhu_msg *reply, uint64_t v)
{
	reply->hdr.size = sizeof(uint64_t);
	reply->p.u64 = v;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Request handlers: the message in vu->rx is checked; each returns 0 or a  */
/* negative errno with vu->why set, and fills @reply when the request has   */
/* a reply of its own. A handler that keeps an fd sets its slot to -1.      */
/* ------------------------------------------------------------------------ */

/** vhu_refuse() - set vu->why. Return: @err. */
static int vhu_refuse(struct netbe_vhost_user *vu, int err, const char *why)
{
	vu->why = why;
	return err;
}

/** h_get_features() - the device's features and PROTOCOL_FEATURES.
 * Return: 0. */
static int h_get_features(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	return vhu_reply_u64(reply, netbe_vdev_features(vu->dev) | VHU_F_PROTOCOL_FEATURES);
}

/** h_set_features() - the driver's features, bit 30 kept for ourselves.
 * Return: 0 or the errno of netbe_vdev_set_features(). */
static int h_set_features(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	uint64_t f = vu->rx.p.u64;
	int err;

	(void)reply;
	err = netbe_vdev_set_features(vu->dev, f & ~VHU_F_PROTOCOL_FEATURES);
	if (err)
		return vhu_refuse(vu, err, "the device refused the features");
	vu->proto_acked = !!(f & VHU_F_PROTOCOL_FEATURES);
	return 0;
}

/** h_nop() - SET_OWNER: nothing to do, one frontend is all there is.
 * Return: 0. */
static int h_nop(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	(void)vu;
	(void)reply;
	return 0;
}

/** h_reset() - RESET_OWNER, RESET_DEVICE. Return: 0. */
static int h_reset(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	(void)reply;
	vhu_reset_device(vu);
	return 0;
}

/** h_set_mem_table() - map the new regions, hand them to the device, then
 * unmap the old ones. Return: 0, or a negative errno (old table kept). */
/** vhu_warn_unsealed() - say once per table when guest memory could shrink
 * under netbe (hugetlbfs, tmpfs, a memfd without sealing). */
static void vhu_warn_unsealed(const struct netbe_vhost_user *vu,
			      const struct vhu_map *maps, unsigned n)
{
	unsigned i, open = 0;

	for (i = 0; i < n; i++)
		open += !maps[i].sealed;
	if (open)
		nb_warn("vhost-user %s: %u of %u guest memory regions cannot be sealed against shrinking - a frontend that shrinks them can crash netbe; use a memfd with sealing (QEMU: memory-backend-memfd, seal=on)",
			vu->addr.sun_path, open, n);
}

static int h_set_mem_table(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	const struct vhu_mem *m = &vu->rx.p.mem;
	struct vhu_map maps[VHU_MEM_REGIONS_MAX];
	struct netbe_vdev_region reg[VHU_MEM_REGIONS_MAX];
	unsigned i;
	int err = 0;

	(void)reply;
	memset(maps, 0, sizeof(maps));
	for (i = 0; i < m->nregions && !err; i++) {
		err = vhu_map_region(vu->rx_fds[i], &m->r[i], &maps[i]);
		if (err)
			break;
		reg[i].gpa = m->r[i].gpa;
		reg[i].size = m->r[i].size;
		reg[i].hva = (uint8_t *)maps[i].base + m->r[i].mmap_offset;
	}
	if (err) {
		vhu_unmap(maps, m->nregions);
		return vhu_refuse(vu, err, "a memory region's fd cannot be mapped (not a regular file as long as mmap_offset + size?)");
	}
	err = netbe_vdev_set_mem(vu->dev, reg, m->nregions);
	if (err) {
		vhu_unmap(maps, m->nregions);
		return vhu_refuse(vu, err, "the device refused the memory table");
	}
	vhu_warn_unsealed(vu, maps, m->nregions);
	vhu_unmap(vu->maps, VHU_MEM_REGIONS_MAX);
	memcpy(vu->maps, maps, sizeof(maps));
	vu->mem = *m;
	return 0;
}

/** h_set_vring_num() - remember the ring size. Return: 0. */
static int h_set_vring_num(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	(void)reply;
	vu->q[vu->rx.p.state.index].num = vu->rx.p.state.num;
	return 0;
}

/** h_set_vring_base() - remember where the ring resumes. Return: 0. */
static int h_set_vring_base(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	(void)reply;
	vu->q[vu->rx.p.state.index].base = (uint16_t)vu->rx.p.state.num;
	return 0;
}

/** h_set_vring_addr() - translate and remember the ring's addresses.
 * Return: 0, or -EINVAL when one lies outside the memory table. */
static int h_set_vring_addr(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	const struct vhu_vring_addr *a = &vu->rx.p.addr;
	struct vhu_queue *q = &vu->q[a->index];
	uint64_t desc, avail, used;

	(void)reply;
	if (vhu_uaddr_to_gpa(vu, a->desc, &desc) ||
	    vhu_uaddr_to_gpa(vu, a->avail, &avail) ||
	    vhu_uaddr_to_gpa(vu, a->used, &used))
		return vhu_refuse(vu, -EINVAL, "a ring address lies outside the memory table");
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->have_addr = true;
	return 0;
}

/** vhu_start_queue() - hand ring @q to the device (which starts it
 * enabled) once it is kicked and, under protocol features, enabled.
 * Return: 0 or a negative errno. */
static int vhu_start_queue(struct netbe_vhost_user *vu, struct vhu_queue *q)
{
	struct netbe_vdev_vring ring = {
		.num = q->num, .desc = q->desc, .avail = q->avail,
		.used = q->used, .last_avail = q->base,
	};
	int err;

	if (q->started || !q->kicked || (vu->proto_acked && !q->enabled))
		return 0;
	err = netbe_vdev_set_vring(vu->dev, q->index, &ring);
	if (err)
		return vhu_refuse(vu, err, "the device refused the ring");
	q->started = true;
	return 0;
}

/** h_set_vring_kick() - take the kick eventfd, watch it, start the ring.
 * Return: 0 or a negative errno. */
static int h_set_vring_kick(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	struct vhu_queue *q = &vu->q[vu->rx.p.u64 & VHU_VRING_IDX_MASK];
	int fd = vu->rx_nfds ? vu->rx_fds[0] : -1, err;

	(void)reply;
	if (fd >= 0 && !vhu_is_eventfd(fd))
		return vhu_refuse(vu, -EINVAL, "the kick fd is not an eventfd");
	if (!q->num || !q->have_addr)
		return vhu_refuse(vu, -EINVAL, "kick fd before the ring's size and addresses");
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return vhu_refuse(vu, -errno, "the kick fd cannot be made non-blocking");
	vhu_drop_kick(vu, q);
	if (fd >= 0) {
		err = vu->loop.ops->watch_add(vu->loop.loop, fd, vhu_on_kick, q, &q->kick_watch);
		if (!err)
			err = vu->loop.ops->watch_mod(vu->loop.loop, q->kick_watch, NETBE_EV_IN);
		q->kick_fd = fd;
		vu->rx_fds[0] = -1;
		if (err) {
			vhu_drop_kick(vu, q);
			return vhu_refuse(vu, err, "the loop refused a watch on the kick fd");
		}
	}
	q->kicked = true;
	return vhu_start_queue(vu, q);
}

/** h_set_vring_call() - take the call eventfd (or none). Return: 0 or
 * -EINVAL. */
static int h_set_vring_call(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	int fd = vu->rx_nfds ? vu->rx_fds[0] : -1;

	(void)reply;
	if (fd >= 0 && !vhu_is_eventfd(fd))
		return vhu_refuse(vu, -EINVAL, "the call fd is not an eventfd");
	vhu_set_call_fd(vu, vu->rx.p.u64 & VHU_VRING_IDX_MASK, fd);
	if (fd >= 0)
		vu->rx_fds[0] = -1;
	return 0;
}

/** h_get_vring_base() - stop the ring, report where it stopped, stop
 * watching its kick fd. Return: 0. */
static int h_get_vring_base(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	struct vhu_queue *q = &vu->q[vu->rx.p.state.index];
	int r = q->base;

	vhu_drop_kick(vu, q);
	if (q->started)
		r = netbe_vdev_stop_vring(vu->dev, q->index);
	if (r < 0)
		r = q->base;
	q->kicked = q->started = false;
	q->base = (uint16_t)r;
	reply->hdr.size = sizeof(struct vhu_vring_state);
	reply->p.state.index = q->index;
	reply->p.state.num = (uint32_t)r;
	return 0;
}

/** h_get_protocol_features() - what netbe offers. Return: 0. */
static int h_get_protocol_features(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	(void)vu;
	return vhu_reply_u64(reply, VHU_PROTOCOL_FEATURES);
}

/** h_set_protocol_features() - the frontend's choice, a subset of the
 * offer. Return: 0 or -EINVAL. */
static int h_set_protocol_features(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	(void)reply;
	if (vu->rx.p.u64 & ~VHU_PROTOCOL_FEATURES)
		return vhu_refuse(vu, -EINVAL, "protocol features that were not offered");
	vu->proto_features = vu->rx.p.u64;
	return 0;
}

/** h_get_queue_num() - queue pairs. Return: 0. */
static int h_get_queue_num(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	return vhu_reply_u64(reply, vu->pairs);
}

/** h_set_vring_enable() - remember, and apply to a started ring.
 * Return: 0 or the errno of netbe_vdev_enable_vring(). */
static int h_set_vring_enable(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	struct vhu_queue *q = &vu->q[vu->rx.p.state.index];
	int err;

	(void)reply;
	q->enabled = vu->rx.p.state.num != 0;
	if (!q->started)
		return vhu_start_queue(vu, q);
	err = netbe_vdev_enable_vring(vu->dev, q->index, q->enabled);
	return err ? vhu_refuse(vu, err, "the device refused to enable the ring") : 0;
}

/** h_set_status() - remember the driver status byte. Return: 0. */
static int h_set_status(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	(void)reply;
	vu->status = (uint8_t)vu->rx.p.u64;
	return 0;
}

/** h_get_status() - the status byte last set. Return: 0. */
static int h_get_status(struct netbe_vhost_user *vu, struct vhu_msg *reply)
{
	return vhu_reply_u64(reply, vu->status);
}

typedef int (*vhu_handler)(struct netbe_vhost_user *vu, struct vhu_msg *reply);

static const vhu_handler handlers[VHU_REQUEST_MAX] = {
	[VHU_GET_FEATURES] = h_get_features,
	[VHU_SET_FEATURES] = h_set_features,
	[VHU_SET_OWNER] = h_nop,
	[VHU_RESET_OWNER] = h_reset,
	[VHU_SET_MEM_TABLE] = h_set_mem_table,
	[VHU_SET_VRING_NUM] = h_set_vring_num,
	[VHU_SET_VRING_ADDR] = h_set_vring_addr,
	[VHU_SET_VRING_BASE] = h_set_vring_base,
	[VHU_GET_VRING_BASE] = h_get_vring_base,
	[VHU_SET_VRING_KICK] = h_set_vring_kick,
	[VHU_SET_VRING_CALL] = h_set_vring_call,
	[VHU_SET_VRING_ERR] = h_nop,          /* netbe never reports ring errors */
	[VHU_GET_PROTOCOL_FEATURES] = h_get_protocol_features,
	[VHU_SET_PROTOCOL_FEATURES] = h_set_protocol_features,
	[VHU_GET_QUEUE_NUM] = h_get_queue_num,
	[VHU_SET_VRING_ENABLE] = h_set_vring_enable,
	[VHU_RESET_DEVICE] = h_reset,
	[VHU_SET_STATUS] = h_set_status,
	[VHU_GET_STATUS] = h_get_status,
};

/**
 * vhu_dispatch() - check and act on the complete message in vu->rx, and
 * answer it (its reply, or an ack when NEED_REPLY asks for one under
 * REPLY_ACK)
 * Return: 0 to go on, or a negative errno with vu->why set: drop the
 * connection.
 */
static int vhu_dispatch(struct netbe_vhost_user *vu)
{
	const struct vhu_limits lim = { .nqueues = vu->nqueues };
	const struct vhu_hdr *h = &vu->rx.hdr;
	bool ack = (vu->proto_features & VHU_PF_REPLY_ACK) &&
		   (h->flags & VHU_FLAG_NEED_REPLY) && !vhu_request_has_reply(h->request);
	struct vhu_msg reply;
	int err;

	nb_debug("vhost-user %s: %s, %u bytes, %u fds%s", vu->addr.sun_path,
		 vhu_name(h->request), h->size, vu->rx_nfds,
		 h->flags & VHU_FLAG_NEED_REPLY ? ", reply needed" : "");
	err = vhu_msg_check(h, &vu->rx.p, vu->rx_have - VHU_HDR_SIZE, vu->rx_nfds,
			    &lim, &vu->why);
	if (err && (err != -EOPNOTSUPP || !ack))
		return err;
	memset(&reply, 0, sizeof(reply));
	if (!err)
		err = handlers[h->request] ? handlers[h->request](vu, &reply)
					   : vhu_refuse(vu, -EOPNOTSUPP, "request not implemented");
	if (err && !ack)
		return err;
	if (err)
		nb_warn("vhost-user %s: %s refused: %s", vu->addr.sun_path,
			vhu_name(h->request), vu->why);
	if (ack)
		err = vhu_send_ack(vu, err);
	else if (vhu_request_has_reply(h->request))
		err = vhu_send_reply(vu, &reply);
	if (err)
		vu->why = "cannot send the reply";
	return err;
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                */
/* ------------------------------------------------------------------------ */

/**
 * vhu_take_fds() - collect the SCM_RIGHTS fds of @mh into vu->rx_fds;
 * every received fd ends up there or closed
 * Return: 0, or -EPROTO (fds past a message's first byte, more than
 * VHU_FDS_MAX, a truncated or foreign control message) with vu->why set.
 */
static int vhu_take_fds(struct netbe_vhost_user *vu, struct msghdr *mh)
{
	struct cmsghdr *c;
	int err = 0;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		unsigned n, i;
		int *fds = (int *)CMSG_DATA(c);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			err = vhu_refuse(vu, -EPROTO, "a control message other than SCM_RIGHTS");
			continue;
		}
		n = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, fds + i, sizeof(fd));
			if (vu->rx_have || vu->rx_nfds == VHU_FDS_MAX) {
				close(fd);
				err = vhu_refuse(vu, -EPROTO, vu->rx_have ? "file descriptors past a message's first byte"
									 : "more file descriptors than any request carries");
				continue;
			}
			vu->rx_fds[vu->rx_nfds++] = fd;
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		err = vhu_refuse(vu, -EPROTO, "more file descriptors than any request carries (control message truncated)");
	return err;
}

/**
 * vhu_recv_some() - read up to @want more bytes of the message (of the
 * header, or of the payload, never across) with the fds that come along
 * Return: bytes read (> 0), -EAGAIN when nothing is there yet, or another
 * negative errno with vu->why set (-ECONNRESET: the frontend closed).
 */
static int vhu_recv_some(struct netbe_vhost_user *vu, size_t want)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_FDS_MAX)];
		struct cmsghdr align;
	} cbuf;
	uint8_t *at = vu->rx_have < VHU_HDR_SIZE ? (uint8_t *)&vu->rx.hdr + vu->rx_have
						  : vu->rx.p.raw + (vu->rx_have - VHU_HDR_SIZE);
	struct iovec iov = { .iov_base = at, .iov_len = want };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;
	int err;

	do
		n = recvmsg(vu->conn_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	if (n < 0)
		return vhu_refuse(vu, -errno, "the socket failed");
	err = vhu_take_fds(vu, &mh);
	if (err)
		return err;
	if (n == 0)
		return vhu_refuse(vu, -ECONNRESET, vu->rx_have ? "the frontend closed the socket inside a message"
							      : "the frontend closed the socket");
	vu->rx_have += (size_t)n;
	return (int)n;
}

/**
 * vhu_recv_msg() - go on receiving the current message
 * Return: 1 when it is complete in vu->rx, 0 when more must arrive first,
 * or a negative errno with vu->why set.
 */
static int vhu_recv_msg(struct netbe_vhost_user *vu)
{
	int err;

	while (vu->rx_have < VHU_HDR_SIZE) {
		err = vhu_recv_some(vu, VHU_HDR_SIZE - vu->rx_have);
		if (err < 0)
			return err == -EAGAIN ? 0 : err;
	}
	err = vhu_hdr_check(&vu->rx.hdr, &vu->why);
	if (err && err != -EOPNOTSUPP)
		return err;
	while (vu->rx_have < VHU_HDR_SIZE + vu->rx.hdr.size) {
		err = vhu_recv_some(vu, VHU_HDR_SIZE + vu->rx.hdr.size - vu->rx_have);
		if (err < 0)
			return err == -EAGAIN ? 0 : err;
	}
	return 1;
}

/**
 * vhu_on_conn() - the frontend's socket is readable: receive and handle
 * messages until it runs dry (or VHU_MSGS_PER_WAKEUP were handled; the
 * watch is level-triggered and comes back); any error ends the connection
 * Return: nothing.
 */
static void vhu_on_conn(void *opaque, int fd, unsigned revents)
{
	struct netbe_vhost_user *vu = opaque;
	unsigned i;
	uint32_t req;
	int err;

	(void)fd;
	(void)revents;
	for (i = 0; i < VHU_MSGS_PER_WAKEUP; i++) {
		err = vhu_recv_msg(vu);
		if (err == 0)
			return;
		req = vu->rx.hdr.request;
		if (err > 0)
			err = vhu_dispatch(vu);
		if (err == -ECONNRESET && vu->rx_have == 0) {
			vhu_disconnect(vu, NETBE_LOG_INFO, "%s", vu->why);
			return;
		}
		if (err) {
			vhu_disconnect(vu, NETBE_LOG_WARN, "%s: %s (%s)",
				       vu->rx_have >= VHU_HDR_SIZE ? vhu_name(req) : "message header",
				       vu->why, strerror(-err));
			return;
		}
		vhu_rx_clear(vu);
	}
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

/** vhu_attach() - make @fd (non-blocking) the frontend's socket.
 * Return: 0, or a negative errno with @fd closed. */
static int vhu_attach(struct netbe_vhost_user *vu, int fd)
{
	int err = vu->loop.ops->watch_add(vu->loop.loop, fd, vhu_on_conn, vu, &vu->conn_watch);

	if (!err)
		err = vu->loop.ops->watch_mod(vu->loop.loop, vu->conn_watch, NETBE_EV_IN);
	if (err) {
		if (vu->conn_watch)
			vu->loop.ops->watch_del(vu->loop.loop, vu->conn_watch);
		vu->conn_watch = NULL;
		close(fd);
		nb_warn("vhost-user %s: the loop refused a watch on the frontend's socket: %s",
			vu->addr.sun_path, strerror(-err));
		return err;
	}
	vu->conn_fd = fd;
	vu->rx_have = 0;
	vu->rx_nfds = 0;
	nb_info("vhost-user %s: frontend connected", vu->addr.sun_path);
	return 0;
}

/** vhu_on_listen() - the listening socket is readable: take the first
 * frontend, refuse others while one is connected; pause when accept()
 * fails for a lasting reason. Return: nothing. */
static void vhu_on_listen(void *opaque, int fd, unsigned revents)
{
	struct netbe_vhost_user *vu = opaque;
	int c;

	(void)revents;
	for (;;) {
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED))
			return;
		if (c < 0) {
			NB_LOG_RL(NETBE_LOG_ERR, "vhost-user %s: accept failed: %s - pausing for 100 ms",
				  vu->addr.sun_path, strerror(errno));
			if (!vu->loop.ops->timer_mod(vu->loop.loop, vu->timer, VHU_ACCEPT_PAUSE_NS, 0))
				vu->loop.ops->watch_mod(vu->loop.loop, vu->listen_watch, 0);
			return;
		}
		if (vu->conn_fd < 0) {
			vhu_attach(vu, c);
			continue;
		}
		NB_LOG_RL(NETBE_LOG_WARN, "vhost-user %s: refused a second frontend: one at a time, the connected one stays",
			  vu->addr.sun_path);
		close(c);
	}
}

/** vhu_try_connect() - client: one connect attempt; a unix socket
 * connects at once or not at all. Return: 0 connected, or a negative
 * errno (the timer tries again). */
static int vhu_try_connect(struct netbe_vhost_user *vu)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&vu->addr, sizeof(vu->addr))) {
		err = -errno;
		close(fd);
		nb_debug("vhost-user %s: cannot connect: %s; retrying", vu->addr.sun_path,
			 strerror(-err));
		return err;
	}
	err = vhu_attach(vu, fd);
	if (!err)
		vu->loop.ops->timer_mod(vu->loop.loop, vu->timer, 0, 0);
	return err;
}

/** vhu_arm_reconnect() - client: try every VHU_RECONNECT_NS. Return:
 * nothing. */
static void vhu_arm_reconnect(struct netbe_vhost_user *vu)
{
	if (vu->loop.ops->timer_mod(vu->loop.loop, vu->timer, VHU_RECONNECT_NS, VHU_RECONNECT_NS))
		nb_err("vhost-user %s: the loop refused the reconnect timer; not reconnecting",
		       vu->addr.sun_path);
}

/** vhu_on_timer() - client: reconnect; server: accept again after a
 * pause. Return: nothing. */
static void vhu_on_timer(void *opaque)
{
	struct netbe_vhost_user *vu = opaque;

	if (!vu->client) {
		if (vu->loop.ops->watch_mod(vu->loop.loop, vu->listen_watch, NETBE_EV_IN))
			vu->loop.ops->timer_mod(vu->loop.loop, vu->timer, VHU_ACCEPT_PAUSE_NS, 0);
		return;
	}
	if (vu->conn_fd < 0)
		vhu_try_connect(vu);
}

/** vhu_unix_stale() - whether the socket file at our path has nobody
 * listening (left by a process that died). Return: true or false. */
static bool vhu_unix_stale(const struct netbe_vhost_user *vu)
{
	struct stat st;
	int fd, stale;

	if (stat(vu->addr.sun_path, &st) || !S_ISSOCK(st.st_mode))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	stale = connect(fd, (const struct sockaddr *)&vu->addr, sizeof(vu->addr)) < 0 &&
		errno == ECONNREFUSED;
	close(fd);
	return stale;
}

/** vhu_listen() - server: bind (replacing a stale socket file), listen,
 * watch. Return: 0, or a negative errno with a message. */
static int vhu_listen(struct netbe_vhost_user *vu)
{
	const char *path = vu->addr.sun_path;
	int err;

	vu->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (vu->listen_fd < 0)
		return netbe_errf(-errno, "vhost-user: cannot create a socket: %s", strerror(errno));
	err = bind(vu->listen_fd, (struct sockaddr *)&vu->addr, sizeof(vu->addr));
	if (err && errno == EADDRINUSE && vhu_unix_stale(vu)) {
		nb_info("vhost-user %s: removing a stale socket file nobody listens on", path);
		unlink(path);
		err = bind(vu->listen_fd, (struct sockaddr *)&vu->addr, sizeof(vu->addr));
	}
	if (err)
		return netbe_errf(-errno, "vhost-user: cannot listen on %s: %s - %s", path,
				  strerror(errno), errno == EADDRINUSE ? "another process listens there"
				  : "check that the directory exists and is writable");
	(void)stat(path, &vu->listen_st);
	if (listen(vu->listen_fd, VHU_BACKLOG))
		return netbe_errf(-errno, "vhost-user: cannot listen on %s: %s", path, strerror(errno));
	err = vu->loop.ops->watch_add(vu->loop.loop, vu->listen_fd, vhu_on_listen, vu,
				      &vu->listen_watch);
	if (!err)
		err = vu->loop.ops->watch_mod(vu->loop.loop, vu->listen_watch, NETBE_EV_IN);
	if (err)
		return netbe_errf(err, "vhost-user %s: the loop refused a watch on the listening socket",
				  path);
	nb_info("vhost-user %s: listening for a frontend", path);
	return 0;
}

/** vhu_close_listener() - stop listening and remove the socket file if it
 * is still the one we made. Return: nothing. */
static void vhu_close_listener(struct netbe_vhost_user *vu)
{
	struct stat st;

	if (vu->listen_watch)
		vu->loop.ops->watch_del(vu->loop.loop, vu->listen_watch);
	vu->listen_watch = NULL;
	if (vu->listen_fd < 0)
		return;
	if (!stat(vu->addr.sun_path, &st) && st.st_dev == vu->listen_st.st_dev &&
	    st.st_ino == vu->listen_st.st_ino)
		unlink(vu->addr.sun_path);
	vhu_close_fd(&vu->listen_fd);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */
/* ------------------------------------------------------------------------ */

/** vhu_check_params() - the caller's parameters. Return: 0 or -EINVAL
 * with a message. */
static int vhu_check_params(const struct netbe_vhost_user_params *params,
			    const struct netbe_loop *loop)
{
	const struct netbe_vdev_params *d = &params->dev;

	if (!loop || !loop->ops)
		return netbe_errf(-EINVAL, "vhost-user: a loop adapter is required");
	if (!params->socket_path || !*params->socket_path)
		return netbe_errf(-EINVAL, "vhost-user: socket_path is required");
	if (strlen(params->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return netbe_errf(-EINVAL, "vhost-user: socket path %s is too long for a unix socket - use a shorter path",
				  params->socket_path);
	if (params->flags & ~NETBE_VHU_CLIENT)
		return netbe_errf(-EINVAL, "vhost-user: unknown flags 0x%x", params->flags);
	if (d->notify || d->config_changed || d->opaque)
		return netbe_errf(-EINVAL, "vhost-user: dev.notify, dev.config_changed and dev.opaque belong to the vhost-user server - leave them NULL");
	if (d->queue_pairs > NETBE_VDEV_PAIRS_MAX)
		return netbe_errf(-EINVAL, "vhost-user: at most %u queue pairs", NETBE_VDEV_PAIRS_MAX);
	return 0;
}

/** vhu_alloc() - a server with nothing open yet. Return: it, or NULL. */
static struct netbe_vhost_user *vhu_alloc(const struct netbe_vhost_user_params *params,
					  const struct netbe_loop *loop)
{
	struct netbe_vhost_user *vu = calloc(1, sizeof(*vu));
	unsigned i;

	if (!vu)
		return NULL;
	vu->loop = *loop;
	vu->addr.sun_family = AF_UNIX;
	memcpy(vu->addr.sun_path, params->socket_path, strlen(params->socket_path) + 1);
	vu->client = params->flags & NETBE_VHU_CLIENT;
	vu->pairs = params->dev.queue_pairs ? params->dev.queue_pairs : 1;
	vu->nqueues = 2 * vu->pairs + 1;
	vu->listen_fd = vu->conn_fd = -1;
	for (i = 0; i < VHU_QUEUES_MAX; i++) {
		vu->q[i].vu = vu;
		vu->q[i].index = i;
		vu->q[i].kick_fd = -1;
		vu->call_fd[i] = -1;
	}
	pthread_mutex_init(&vu->call_lock, NULL);
	return vu;
}

/** netbe_vhost_user_new() - see netbe-virtio.h. */
NETBE_EXPORT int netbe_vhost_user_new(struct netbe_vhost_user **vup,
			 const struct netbe_vhost_user_params *params,
			 const struct netbe_loop *loop)
{
	struct netbe_vdev_params dp;
	struct netbe_vhost_user *vu;
	int err;

	if (!vup || !params)
		return netbe_errf(-EINVAL, "vhost-user: NULL argument");
	*vup = NULL;
	err = vhu_check_params(params, loop);
	if (err)
		return err;
	vu = vhu_alloc(params, loop);
	if (!vu)
		return netbe_errf(-ENOMEM, "vhost-user: out of memory");
	dp = params->dev;
	dp.notify = vhu_notify;
	dp.config_changed = vhu_config_changed;
	dp.opaque = vu;
	err = netbe_vdev_new(&vu->dev, &dp, loop);
	if (!err)
		err = loop->ops->timer_add(loop->loop, vhu_on_timer, vu, &vu->timer);
	if (!err && !vu->client)
		err = vhu_listen(vu);
	if (!err && vu->client && vhu_try_connect(vu))
		vhu_arm_reconnect(vu);
	if (err) {
		netbe_vhost_user_free(vu);
		return err;
	}
	*vup = vu;
	return 0;
}

/** netbe_vhost_user_free() - see netbe-virtio.h. */
NETBE_EXPORT void netbe_vhost_user_free(struct netbe_vhost_user *vu)
{
	if (!vu)
		return;
	if (vu->conn_watch)
		vu->loop.ops->watch_del(vu->loop.loop, vu->conn_watch);
	vu->conn_watch = NULL;
	vhu_close_fd(&vu->conn_fd);
	vhu_rx_clear(vu);
	vhu_reset_queues(vu);
	vhu_close_listener(vu);
	if (vu->timer)
		vu->loop.ops->timer_del(vu->loop.loop, vu->timer);
	netbe_vdev_free(vu->dev);
	vhu_unmap(vu->maps, VHU_MEM_REGIONS_MAX);
	pthread_mutex_destroy(&vu->call_lock);
	free(vu);
}

/** netbe_vhost_user_dev() - see netbe-virtio.h. */
NETBE_EXPORT struct netbe_vdev *netbe_vhost_user_dev(struct netbe_vhost_user *vu)
{
	return vu ? vu->dev : NULL;
}

/** netbe_vhost_user_connected() - see netbe-virtio.h. */
NETBE_EXPORT int netbe_vhost_user_connected(struct netbe_vhost_user *vu)
{
	if (!vu)
		return -EINVAL;
	return vu->conn_fd >= 0;
}
