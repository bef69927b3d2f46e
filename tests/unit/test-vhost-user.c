/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-vhost-user.c - netbe_vhost_user against a vhost-user frontend
 * written here: a unix socket, guest memory in a memfd passed with
 * SCM_RIGHTS, rings laid out by hand, eventfds for kick and call.
 *
 * The device's backend is "pair:NAME"; the test opens the other end of
 * the cable with netbe_open(), so it sees the frames the "guest" put in
 * its tx ring and sends frames the guest finds in its rx ring.
 *
 * Everything runs on one thread: the frontend writes a request, then
 * turns the built-in epoll loop (which serves the device) until the reply
 * or the end of the connection can be read. Cases:
 *  - the handshake: features, protocol features (CONFIG not offered),
 *    queue count, status, REPLY_ACK acks (a failure ack for a request
 *    netbe does not implement, and the connection stays);
 *  - the data path: a frame from the guest's tx ring reaches the pair's
 *    other end, a frame sent there lands in the guest's rx ring with the
 *    call eventfd signalled; a ring under protocol features moves nothing
 *    until SET_VRING_ENABLE; GET_VRING_BASE reports where the rings
 *    stopped;
 *  - malformed messages (bad size, bad version, reply flag, wrong fd
 *    counts, overlapping regions, a ring outside memory, a vring index out
 *    of range, a truncated message, 200 fds, an unknown request without
 *    REPLY_ACK) each close the connection, and the server takes a new
 *    frontend afterwards;
 *  - a second frontend is refused while one is connected;
 *  - in client mode, the device reconnects to a frontend that went away;
 *  - no fd leaks: /proc/self/fd counted before and after.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "netbe.h"
#include "netbe-virtio.h"
#include "vhu_msg.h"
#include "vring.h"

#define WAIT_MS 5000
#define MEM_SIZE (2u << 20)      /* the memfd: two regions of 1 MiB */
#define REGION_SIZE (1u << 20)
#define GPA0 0x100000ull         /* region 0: buffers */
#define GPA1 0x80000000ull       /* region 1 (mmap_offset 1 MiB): rings */
#define QSIZE 8
#define HDR_LEN 12               /* virtio-net v1 header */
#define FRAME_LEN 60

static struct netbe_epoll *ep;
static const struct netbe_loop *lp;
static char path[108];

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Return: how many fds this process has open. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the DIR's own fd */
}

/* Turn the loop for about @ms milliseconds. */
static void pump(unsigned ms)
{
	uint64_t end = harness_now_ms() + ms;

	while (harness_now_ms() < end)
		netbe_epoll_dispatch(ep, 5);
}

/* Turn the loop until @fd is readable. Return: true if it became so. */
static bool pump_readable(int fd)
{
	uint64_t end = harness_now_ms() + WAIT_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (harness_now_ms() < end) {
		if (poll(&p, 1, 0) == 1)
			return true;
		netbe_epoll_dispatch(ep, 5);
	}
	return false;
}

/* Connect a frontend to the server. Return: the socket, or -1. */
static int fe_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(a.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send one message with @nfds fds. Return: 0 or -1. */
static int fe_send(int fd, uint32_t req, uint32_t flags, const void *p,
		   uint32_t size, const int *fds, unsigned nfds)
{
	struct vhu_hdr h = { .request = req, .flags = flags, .size = size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, size } };
	union { char b[CMSG_SPACE(sizeof(int) * 253)]; struct cmsghdr a; } c;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct cmsghdr *cm;

	memset(&c, 0, sizeof(c));
	if (nfds) {
		mh.msg_control = c.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)(sizeof(h) + size) ? 0 : -1;
}

/* Receive one reply to @req. Return: its payload size, or -1. */
static int fe_recv(int fd, uint32_t req, union vhu_payload *p)
{
	struct vhu_hdr h;

	if (!pump_readable(fd) || recv(fd, &h, sizeof(h), MSG_WAITALL) != sizeof(h))
		return -1;
	if (h.request != req || h.flags != (VHU_VERSION | VHU_FLAG_REPLY) ||
	    h.size > sizeof(*p))
		return -1;
	if (h.size && recv(fd, p, h.size, MSG_WAITALL) != (ssize_t)h.size)
		return -1;
	return (int)h.size;
}

/* A request without payload answered with a u64. Return: it, or ~0. */
static uint64_t fe_get_u64(int fd, uint32_t req)
{
	union vhu_payload p;

	if (fe_send(fd, req, VHU_VERSION, NULL, 0, NULL, 0) ||
	    fe_recv(fd, req, &p) != sizeof(uint64_t))
		return ~0ull;
	return p.u64;
}

/* Send a request with a u64 payload. Return: 0 or -1. */
static int fe_set_u64(int fd, uint32_t req, uint32_t flags, uint64_t v,
		      const int *fds, unsigned nfds)
{
	return fe_send(fd, req, flags, &v, sizeof(v), fds, nfds);
}

/* The REPLY_ACK answer to @req. Return: its value, or ~0 if none. */
static uint64_t fe_ack(int fd, uint32_t req)
{
	union vhu_payload p;

	return fe_recv(fd, req, &p) == sizeof(uint64_t) ? p.u64 : ~0ull;
}

/* Send a vring state request. Return: 0 or -1. */
static int fe_state(int fd, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhu_vring_state s = { index, num };

	return fe_send(fd, req, VHU_VERSION, &s, sizeof(s), NULL, 0);
}

/* Whether the server closed @fd (end of stream within the wait). */
static bool fe_closed(int fd)
{
	char b[512];
	ssize_t n;

	while (pump_readable(fd)) {
		n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
	}
	return false;
}

/* Wait until the server reports @want as its connection state. */
static bool wait_connected(struct netbe_vhost_user *vu, int want)
{
	uint64_t end = harness_now_ms() + WAIT_MS;

	while (harness_now_ms() < end) {
		if (netbe_vhost_user_connected(vu) == want)
			return true;
		netbe_epoll_dispatch(ep, 5);
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* Guest memory and rings                                                   */
/* ------------------------------------------------------------------------ */

struct guest {
	int memfd;
	uint8_t *mem;               /* the frontend's mapping */
	struct vhu_mem table;
	int kick[2], call[2];       /* queue 0 (rx) and 1 (tx) */
};

/* Where queue @q's rings live: desc, avail and used at 4 KiB steps in
 * region 1. */
static uint64_t ring_gpa(unsigned q, unsigned part)
{
	return GPA1 + q * 0x4000 + part * 0x1000;
}

/* Return: the frontend's pointer to guest physical @gpa. */
static uint8_t *g_ptr(struct guest *g, uint64_t gpa)
{
	return gpa >= GPA1 ? g->mem + REGION_SIZE + (gpa - GPA1) : g->mem + (gpa - GPA0);
}

/* Return: the frontend's address of @gpa, as it goes into SET_VRING_ADDR. */
static uint64_t g_uaddr(struct guest *g, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)g_ptr(g, gpa);
}

/* Make guest memory (a memfd created with @memfd_flags) and the
 * eventfds. Return: 0 or -1. */
static int guest_init_flags(struct guest *g, unsigned memfd_flags)
{
	memset(g, 0, sizeof(*g));
	g->memfd = memfd_create("guest", MFD_CLOEXEC | memfd_flags);
	if (g->memfd < 0 || ftruncate(g->memfd, MEM_SIZE))
		return -1;
	g->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	if (g->mem == MAP_FAILED)
		return -1;
	g->table.nregions = 2;
	g->table.r[0] = (struct vhu_mem_region){ GPA0, REGION_SIZE, (uintptr_t)g->mem, 0 };
	g->table.r[1] = (struct vhu_mem_region){ GPA1, REGION_SIZE,
		(uintptr_t)g->mem + REGION_SIZE, REGION_SIZE };
	for (int i = 0; i < 2; i++) {
		g->kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		g->call[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	return 0;
}

/* Make guest memory without sealing and the eventfds. Return: 0 or -1. */
static int guest_init(struct guest *g)
{
	return guest_init_flags(g, 0);
}

/* Free guest memory and the eventfds. */
static void guest_fini(struct guest *g)
{
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, MEM_SIZE);
	close(g->memfd);
	for (int i = 0; i < 2; i++) {
		close(g->kick[i]);
		close(g->call[i]);
	}
}

/* SET_MEM_TABLE with both regions (and their fds). Return: 0 or -1. */
static int fe_mem_table(int fd, struct guest *g, uint32_t flags)
{
	int fds[2] = { g->memfd, g->memfd };

	return fe_send(fd, VHU_SET_MEM_TABLE, flags, &g->table,
		       8 + 2 * sizeof(struct vhu_mem_region), fds, 2);
}

/* Set queue @q up: size, base, addresses, call, kick. Return: 0 or -1. */
static int fe_ring(int fd, struct guest *g, unsigned q)
{
	struct vhu_vring_addr a = {
		.index = q, .desc = g_uaddr(g, ring_gpa(q, 0)),
		.avail = g_uaddr(g, ring_gpa(q, 1)), .used = g_uaddr(g, ring_gpa(q, 2)),
	};

	if (fe_state(fd, VHU_SET_VRING_NUM, q, QSIZE) ||
	    fe_state(fd, VHU_SET_VRING_BASE, q, 0) ||
	    fe_send(fd, VHU_SET_VRING_ADDR, VHU_VERSION, &a, sizeof(a), NULL, 0) ||
	    fe_set_u64(fd, VHU_SET_VRING_CALL, VHU_VERSION, q, &g->call[q], 1) ||
	    fe_set_u64(fd, VHU_SET_VRING_KICK, VHU_VERSION, q, &g->kick[q], 1))
		return -1;
	return 0;
}

/* Put one buffer of @len bytes at @gpa on queue @q's avail ring, as its
 * @n-th entry. */
static void post_buf(struct guest *g, unsigned q, unsigned n, uint64_t gpa,
		     uint32_t len, bool writable)
{
	struct vring_desc *d = (struct vring_desc *)g_ptr(g, ring_gpa(q, 0));
	uint16_t *avail = (uint16_t *)g_ptr(g, ring_gpa(q, 1));
	uint16_t slot = (uint16_t)(n % QSIZE);

	d[slot] = (struct vring_desc){ gpa, len, writable ? VRING_DESC_F_WRITE : 0, 0 };
	avail[2 + slot] = slot;
	__atomic_store_n(&avail[1], (uint16_t)(n + 1), __ATOMIC_RELEASE);
}

/* Return: queue @q's used index. */
static uint16_t used_idx(struct guest *g, unsigned q)
{
	return __atomic_load_n((uint16_t *)g_ptr(g, ring_gpa(q, 2)) + 1, __ATOMIC_ACQUIRE);
}

/* Kick queue @q. */
static void kick(struct guest *g, unsigned q)
{
	uint64_t one = 1;

	CHECK(write(g->kick[q], &one, sizeof(one)) == sizeof(one));
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static struct netbe_vhost_user *vu;

/* Return: a server on @path serving "pair:vhu" with one queue pair. */
static struct netbe_vhost_user *server_new(unsigned flags)
{
	struct netbe_vhost_user_params p = {
		.socket_path = path, .flags = flags,
		.dev = { .spec = "pair:vhu", .queue_pairs = 1,
			 .mac = { 0x52, 0x54, 0, 1, 2, 3 } },
	};
	struct netbe_vhost_user *v = NULL;

	CHECK_EQ(netbe_vhost_user_new(&v, &p, lp), 0);
	return v;
}

/* Bad parameters fail with -EINVAL and leave *vup NULL. */
static void test_bad_params(void)
{
	struct netbe_vhost_user_params p = { .socket_path = path, .dev = { .spec = "pair:x" } };
	struct netbe_vhost_user *v = (void *)1;
	int dummy;

	CHECK_EQ(netbe_vhost_user_new(&v, NULL, lp), -EINVAL);
	CHECK_EQ(netbe_vhost_user_new(&v, &p, NULL), -EINVAL);
	CHECK(v == NULL);
	p.dev.opaque = &dummy;
	CHECK_EQ(netbe_vhost_user_new(&v, &p, lp), -EINVAL);
	p.dev.opaque = NULL;
	p.socket_path = "";
	CHECK_EQ(netbe_vhost_user_new(&v, &p, lp), -EINVAL);
	p.socket_path = path;
	p.flags = 0x80;
	CHECK_EQ(netbe_vhost_user_new(&v, &p, lp), -EINVAL);
	CHECK_EQ(netbe_vhost_user_connected(NULL), -EINVAL);
	CHECK(netbe_vhost_user_dev(NULL) == NULL);
	netbe_vhost_user_free(NULL);
}

/* Features, protocol features, queue count, status, acks. */
static void test_handshake(void)
{
	int fd = fe_connect();
	uint64_t f, pf;
	uint32_t config[3 + 3] = { 0, 12, 0 };   /* offset, size, flags, data */

	CHECK(fd >= 0);
	CHECK(wait_connected(vu, 1));
	f = fe_get_u64(fd, VHU_GET_FEATURES);
	CHECK(f & VHU_F_PROTOCOL_FEATURES);
	CHECK(f & NETBE_F_VERSION_1);
	CHECK(f == (netbe_vdev_features(netbe_vhost_user_dev(vu)) | VHU_F_PROTOCOL_FEATURES));
	pf = fe_get_u64(fd, VHU_GET_PROTOCOL_FEATURES);
	CHECK(pf & VHU_PF_REPLY_ACK);
	CHECK(pf & VHU_PF_MQ);
	CHECK(!(pf & VHU_PF_LOG_SHMFD));
	CHECK(!(pf & (1ULL << 9)));              /* CONFIG */
	CHECK_EQ(fe_set_u64(fd, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, pf, NULL, 0), 0);
	CHECK_EQ(fe_get_u64(fd, VHU_GET_QUEUE_NUM), 1);
	CHECK_EQ(fe_send(fd, VHU_SET_OWNER, VHU_VERSION | VHU_FLAG_NEED_REPLY, NULL, 0, NULL, 0), 0);
	CHECK_EQ(fe_ack(fd, VHU_SET_OWNER), 0);
	/* not implemented, well formed, NEED_REPLY: a failure ack, not a close */
	CHECK_EQ(fe_set_u64(fd, VHU_NET_SET_MTU, VHU_VERSION | VHU_FLAG_NEED_REPLY, 1500, NULL, 0), 0);
	CHECK(fe_ack(fd, VHU_NET_SET_MTU) != 0);
	CHECK_EQ(fe_send(fd, VHU_GET_CONFIG, VHU_VERSION | VHU_FLAG_NEED_REPLY,
			 config, sizeof(config), NULL, 0), 0);
	CHECK(fe_ack(fd, VHU_GET_CONFIG) != 0);
	CHECK_EQ(fe_set_u64(fd, VHU_SET_STATUS, VHU_VERSION, 0x7, NULL, 0), 0);
	CHECK_EQ(fe_get_u64(fd, VHU_GET_STATUS), 0x7);
	CHECK_EQ(fe_set_u64(fd, VHU_SET_VRING_ERR, VHU_VERSION | VHU_FLAG_NEED_REPLY,
			    VHU_VRING_NOFD, NULL, 0), 0);
	CHECK_EQ(fe_ack(fd, VHU_SET_VRING_ERR), 0);
	CHECK_EQ(netbe_vhost_user_connected(vu), 1);
	close(fd);
	CHECK(wait_connected(vu, 0));
}

/* Receive a frame at the pair's other end. Return: its length, or -1. */
static ssize_t peer_recv(struct netbe *peer, uint8_t *buf, size_t len)
{
	uint64_t end = harness_now_ms() + WAIT_MS;
	struct iovec iov = { buf, len };
	ssize_t n;

	while (harness_now_ms() < end) {
		n = netbe_recv(peer, &iov, 1);
		if (n)
			return n;
		netbe_epoll_dispatch(ep, 5);
	}
	return -1;
}

/* Turn the loop until queue @q's used index reaches @want. */
static bool wait_used(struct guest *g, unsigned q, uint16_t want)
{
	uint64_t end = harness_now_ms() + WAIT_MS;

	while (harness_now_ms() < end) {
		if (used_idx(g, q) == want)
			return true;
		netbe_epoll_dispatch(ep, 5);
	}
	return false;
}

/* The guest's tx: a frame in queue 1 reaches the peer, but only after the
 * ring is enabled. */
static void datapath_tx(int fd, struct guest *g, struct netbe *peer)
{
	uint8_t *buf = g_ptr(g, GPA0), got[2048];

	memset(buf, 0, HDR_LEN);
	memset(buf + HDR_LEN, 0xff, 6);
	memcpy(buf + HDR_LEN + 6, "\x52\x54\x00\x01\x02\x03\x88\xb5txframe", 15);
	post_buf(g, 1, 0, GPA0, HDR_LEN + FRAME_LEN, false);
	kick(g, 1);
	pump(100);
	CHECK_EQ(used_idx(g, 1), 0);   /* disabled: nothing moves */
	CHECK_EQ(fe_state(fd, VHU_SET_VRING_ENABLE, 1, 1), 0);
	CHECK_EQ(fe_state(fd, VHU_SET_VRING_ENABLE, 0, 1), 0);
	kick(g, 1);
	CHECK_EQ(peer_recv(peer, got, sizeof(got)), FRAME_LEN);
	CHECK(memcmp(got, buf + HDR_LEN, FRAME_LEN) == 0);
	CHECK(wait_used(g, 1, 1));
}

/* The guest's rx: a frame the peer sends lands in the buffer posted on
 * queue 0, with the v1 header, and the call eventfd fires. */
static void datapath_rx(struct guest *g, struct netbe *peer)
{
	uint8_t frame[FRAME_LEN], *buf = g_ptr(g, GPA0 + 0x10000);
	struct iovec iov = { frame, sizeof(frame) };
	struct vring_used_elem *ue = (struct vring_used_elem *)(g_ptr(g, ring_gpa(0, 2)) + 4);
	uint64_t calls = 0;

	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	memcpy(frame + 12, "\x88\xb5rxframe", 9);
	post_buf(g, 0, 0, GPA0 + 0x10000, 2048, true);
	kick(g, 0);
	pump(20);
	while (read(g->call[0], &calls, sizeof(calls)) > 0)
		;
	CHECK_EQ(netbe_send(peer, &iov, 1), FRAME_LEN);
	CHECK(wait_used(g, 0, 1));
	CHECK_EQ(ue[0].len, HDR_LEN + FRAME_LEN);
	CHECK(memcmp(buf + HDR_LEN, frame, FRAME_LEN) == 0);
	CHECK(pump_readable(g->call[0]));
	CHECK(read(g->call[0], &calls, sizeof(calls)) == sizeof(calls) && calls > 0);
}

/* Memory table, two rings, a frame each way, where the rings stopped. */
static void test_datapath(void)
{
	struct netbe *peer = NULL;
	struct guest g;
	union vhu_payload p;
	int fd, fds0 = count_fds();
	uint64_t f;

	CHECK_EQ(guest_init(&g), 0);
	CHECK_EQ(netbe_open(&peer, "pair:vhu", NULL, lp), 0);
	fd = fe_connect();
	CHECK(fd >= 0);
	f = fe_get_u64(fd, VHU_GET_FEATURES);
	CHECK_EQ(fe_set_u64(fd, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, VHU_PF_REPLY_ACK, NULL, 0), 0);
	CHECK_EQ(fe_set_u64(fd, VHU_SET_FEATURES, VHU_VERSION | VHU_FLAG_NEED_REPLY,
			    (f & VHU_F_PROTOCOL_FEATURES) | NETBE_F_VERSION_1, NULL, 0), 0);
	CHECK_EQ(fe_ack(fd, VHU_SET_FEATURES), 0);
	CHECK_EQ(fe_mem_table(fd, &g, VHU_VERSION | VHU_FLAG_NEED_REPLY), 0);
	CHECK_EQ(fe_ack(fd, VHU_SET_MEM_TABLE), 0);
	CHECK_EQ(fe_ring(fd, &g, 0), 0);
	CHECK_EQ(fe_ring(fd, &g, 1), 0);
	datapath_tx(fd, &g, peer);
	datapath_rx(&g, peer);
	CHECK_EQ(fe_state(fd, VHU_GET_VRING_BASE, 1, 0), 0);
	CHECK_EQ(fe_recv(fd, VHU_GET_VRING_BASE, &p), 8);
	CHECK_EQ(p.state.index, 1);
	CHECK_EQ(p.state.num, 1);
	CHECK_EQ(fe_state(fd, VHU_GET_VRING_BASE, 0, 0), 0);
	CHECK_EQ(fe_recv(fd, VHU_GET_VRING_BASE, &p), 8);
	CHECK_EQ(p.state.num, 1);
	/* a new table while connected: the old one is unmapped after */
	CHECK_EQ(fe_mem_table(fd, &g, VHU_VERSION | VHU_FLAG_NEED_REPLY), 0);
	CHECK_EQ(fe_ack(fd, VHU_SET_MEM_TABLE), 0);
	close(fd);
	CHECK(wait_connected(vu, 0));
	netbe_close(peer);
	guest_fini(&g);
	CHECK_EQ(count_fds(), fds0);
}

/* ------------------------------------------------------------------------ */
/* Malformed messages                                                       */
/* ------------------------------------------------------------------------ */

struct bad_case {
	const char *name;
	int (*send)(int fd, struct guest *g);
};

/* Each bad_*() sends one malformed message (after what it needs first)
 * on @fd. Return: 0 once sent. */
static int bad_size(int fd, struct guest *g)
{
	(void)g;
	return fe_send(fd, VHU_SET_FEATURES, VHU_VERSION, "\0\0\0\0", 4, NULL, 0);
}

static int bad_version(int fd, struct guest *g)
{
	(void)g;
	return fe_send(fd, VHU_GET_FEATURES, 0x2, NULL, 0, NULL, 0);
}

static int bad_reply_flag(int fd, struct guest *g)
{
	(void)g;
	return fe_send(fd, VHU_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, NULL, 0, NULL, 0);
}

static int bad_fd_on_u64(int fd, struct guest *g)
{
	return fe_set_u64(fd, VHU_SET_FEATURES, VHU_VERSION, NETBE_F_VERSION_1, &g->kick[0], 1);
}

static int bad_call_without_fd(int fd, struct guest *g)
{
	(void)g;
	return fe_set_u64(fd, VHU_SET_VRING_CALL, VHU_VERSION, 0, NULL, 0);
}

static int bad_mem_fd_count(int fd, struct guest *g)
{
	return fe_send(fd, VHU_SET_MEM_TABLE, VHU_VERSION, &g->table,
		       8 + 2 * sizeof(struct vhu_mem_region), &g->memfd, 1);
}

static int bad_mem_overlap(int fd, struct guest *g)
{
	struct vhu_mem m = g->table;
	int fds[2] = { g->memfd, g->memfd };

	m.r[1].gpa = GPA0 + 4096;
	return fe_send(fd, VHU_SET_MEM_TABLE, VHU_VERSION, &m,
		       8 + 2 * sizeof(struct vhu_mem_region), fds, 2);
}

static int bad_mem_beyond_file(int fd, struct guest *g)
{
	struct vhu_mem m = g->table;

	m.nregions = 1;
	m.r[0].mmap_offset = MEM_SIZE;     /* past the memfd's end: SIGBUS bait */
	return fe_send(fd, VHU_SET_MEM_TABLE, VHU_VERSION, &m,
		       8 + sizeof(struct vhu_mem_region), &g->memfd, 1);
}

static int bad_ring_outside(int fd, struct guest *g)
{
	struct vhu_vring_addr a = { .index = 0, .desc = 0x1000, .avail = 0x2000, .used = 0x3000 };

	if (fe_mem_table(fd, g, VHU_VERSION))
		return -1;
	return fe_send(fd, VHU_SET_VRING_ADDR, VHU_VERSION, &a, sizeof(a), NULL, 0);
}

static int bad_index(int fd, struct guest *g)
{
	(void)g;
	return fe_state(fd, VHU_SET_VRING_NUM, 40, QSIZE);
}

static int bad_ring_size(int fd, struct guest *g)
{
	(void)g;
	return fe_state(fd, VHU_SET_VRING_NUM, 0, 100);
}

static int bad_truncated(int fd, struct guest *g)
{
	struct vhu_hdr h = { VHU_SET_FEATURES, VHU_VERSION, 8 };

	(void)g;
	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h) ||
	    send(fd, "\0\0\0\0", 4, MSG_NOSIGNAL) != 4)
		return -1;
	pump(20);
	return shutdown(fd, SHUT_WR);
}

static int bad_200_fds(int fd, struct guest *g)
{
	int fds[200];

	for (int i = 0; i < 200; i++)
		fds[i] = g->kick[0];
	return fe_set_u64(fd, VHU_SET_VRING_KICK, VHU_VERSION, 0, fds, 200);
}

static int bad_unknown(int fd, struct guest *g)
{
	(void)g;
	return fe_set_u64(fd, 99, VHU_VERSION, 0, NULL, 0);
}

static int bad_log_base(int fd, struct guest *g)
{
	uint64_t log[2] = { 4096, 0 };

	return fe_send(fd, VHU_SET_LOG_BASE, VHU_VERSION, log, sizeof(log), &g->memfd, 1);
}

static int bad_kick_not_eventfd(int fd, struct guest *g)
{
	struct vhu_vring_addr a = {
		.index = 0, .desc = g_uaddr(g, ring_gpa(0, 0)),
		.avail = g_uaddr(g, ring_gpa(0, 1)), .used = g_uaddr(g, ring_gpa(0, 2)),
	};

	if (fe_mem_table(fd, g, VHU_VERSION) || fe_state(fd, VHU_SET_VRING_NUM, 0, QSIZE) ||
	    fe_send(fd, VHU_SET_VRING_ADDR, VHU_VERSION, &a, sizeof(a), NULL, 0))
		return -1;
	return fe_set_u64(fd, VHU_SET_VRING_KICK, VHU_VERSION, 0, &g->memfd, 1);
}

static const struct bad_case bad_cases[] = {
	{ "bad payload size", bad_size },
	{ "bad version", bad_version },
	{ "reply flag on a request", bad_reply_flag },
	{ "fd on a request without fds", bad_fd_on_u64 },
	{ "vring call without fd or no-fd flag", bad_call_without_fd },
	{ "memory table with fewer fds than regions", bad_mem_fd_count },
	{ "overlapping memory regions", bad_mem_overlap },
	{ "memory region beyond its file", bad_mem_beyond_file },
	{ "ring outside guest memory", bad_ring_outside },
	{ "vring index out of range", bad_index },
	{ "vring size not a power of two", bad_ring_size },
	{ "truncated message", bad_truncated },
	{ "message with 200 fds", bad_200_fds },
	{ "unknown request without REPLY_ACK", bad_unknown },
	{ "SET_LOG_BASE (LOG_SHMFD not offered)", bad_log_base },
	{ "kick fd that is not an eventfd", bad_kick_not_eventfd },
};

/* One malformed message on a fresh connection closes it; the server
 * takes the next frontend. */
static void run_bad(const void *arg)
{
	const struct bad_case *bc = arg;
	struct guest g;
	int fd, fds0;

	CHECK_EQ(guest_init(&g), 0);
	fds0 = count_fds();
	fd = fe_connect();
	CHECK(fd >= 0);
	CHECK(fe_get_u64(fd, VHU_GET_FEATURES) & VHU_F_PROTOCOL_FEATURES);
	CHECK_EQ(fe_set_u64(fd, VHU_SET_FEATURES, VHU_VERSION, NETBE_F_VERSION_1, NULL, 0), 0);
	CHECK_EQ(bc->send(fd, &g), 0);
	CHECK(fe_closed(fd));
	close(fd);
	CHECK(wait_connected(vu, 0));
	CHECK_EQ(count_fds(), fds0);
	fd = fe_connect();
	CHECK(fd >= 0);
	CHECK(fe_get_u64(fd, VHU_GET_FEATURES) & VHU_F_PROTOCOL_FEATURES);
	close(fd);
	CHECK(wait_connected(vu, 0));
	guest_fini(&g);
}

/* A second frontend is closed; the first one is still served. */
static void test_second_frontend(void)
{
	int a = fe_connect(), b;

	CHECK(a >= 0);
	CHECK(wait_connected(vu, 1));
	b = fe_connect();
	CHECK(b >= 0);
	CHECK(fe_closed(b));
	CHECK(fe_get_u64(a, VHU_GET_FEATURES) & VHU_F_PROTOCOL_FEATURES);
	close(b);
	close(a);
	CHECK(wait_connected(vu, 0));
}

/* Accept one connection on @lfd within the wait. Return: it, or -1. */
static int accept_wait(int lfd)
{
	return pump_readable(lfd) ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
}

/* Client mode: connects when a frontend listens, again after it left. */
static void test_client_reconnect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct netbe_vhost_user *cl;
	int lfd, c, fds0 = count_fds();

	unlink(path);
	cl = server_new(NETBE_VHU_CLIENT);   /* nobody listens yet */
	CHECK(cl != NULL);
	CHECK_EQ(netbe_vhost_user_connected(cl), 0);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(a.sun_path, path, strlen(path) + 1);
	CHECK_EQ(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(listen(lfd, 4), 0);
	c = accept_wait(lfd);
	CHECK(c >= 0);
	CHECK(wait_connected(cl, 1));
	CHECK(fe_get_u64(c, VHU_GET_FEATURES) & VHU_F_PROTOCOL_FEATURES);
	close(c);                            /* the frontend restarts */
	CHECK(wait_connected(cl, 0));
	c = accept_wait(lfd);
	CHECK(c >= 0);
	CHECK(wait_connected(cl, 1));
	CHECK_EQ(fe_get_u64(c, VHU_GET_QUEUE_NUM), 1);
	close(c);
	netbe_vhost_user_free(cl);
	close(lfd);
	unlink(path);
	CHECK_EQ(count_fds(), fds0);
}

static int fds_start;

/* Freeing the server removes its socket file. */
static void test_free_unlinks(void)
{
	netbe_vhost_user_free(vu);
	CHECK(access(path, F_OK) != 0);
}

/* Every fd the tests and the servers opened is closed. */
static void test_no_fd_leak(void)
{
	CHECK_EQ(count_fds(), fds_start);
}

/* A frontend that shrinks guest memory under netbe would make the next
 * guest access fault (SIGBUS): memory that can be sealed is sealed
 * against shrinking once it is mapped. */
static void test_memory_sealed(void)
{
	struct guest g;
	int fd;

	CHECK_EQ(guest_init_flags(&g, MFD_ALLOW_SEALING), 0);
	fd = fe_connect();
	CHECK(fd >= 0);
	fe_get_u64(fd, VHU_GET_FEATURES);
	CHECK_EQ(fe_set_u64(fd, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, VHU_PF_REPLY_ACK, NULL, 0), 0);
	CHECK_EQ(fe_set_u64(fd, VHU_SET_FEATURES, VHU_VERSION | VHU_FLAG_NEED_REPLY,
			    NETBE_F_VERSION_1, NULL, 0), 0);
	CHECK_EQ(fe_ack(fd, VHU_SET_FEATURES), 0);
	CHECK(ftruncate(g.memfd, MEM_SIZE / 2) == 0 && ftruncate(g.memfd, MEM_SIZE) == 0);
	CHECK_EQ(fe_mem_table(fd, &g, VHU_VERSION | VHU_FLAG_NEED_REPLY), 0);
	CHECK_EQ(fe_ack(fd, VHU_SET_MEM_TABLE), 0);
	CHECK(fcntl(g.memfd, F_GET_SEALS) & F_SEAL_SHRINK);
	CHECK(ftruncate(g.memfd, MEM_SIZE / 2) < 0 && errno == EPERM);
	CHECK(ftruncate(g.memfd, MEM_SIZE * 2) == 0);     /* growing is fine */
	close(fd);
	CHECK(wait_connected(vu, 0));
	guest_fini(&g);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/netbe-vhu-test-%d.sock", (int)getpid());
	unlink(path);
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	if (netbe_epoll_new(&ep))
		return 1;
	lp = netbe_epoll_loop(ep);
	fds_start = count_fds();
	RUN(test_bad_params);
	vu = server_new(0);
	if (!vu)
		return harness_done();
	RUN(test_handshake);
	RUN(test_datapath);
	RUN(test_memory_sealed);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		RUN_CASE(bad_cases[i].name, run_bad, &bad_cases[i]);
	RUN(test_second_frontend);
	RUN(test_free_unlinks);
	RUN(test_client_reconnect);
	RUN(test_no_fd_leak);
	netbe_epoll_free(ep);
	return harness_done();
}
