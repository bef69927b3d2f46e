/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-vhu-server.c - libFuzzer target for the vhost-user server as a
 * hostile frontend drives it: message framing, fd passing, every handler,
 * and the device behind it (guest memory mapped from a memfd, rings the
 * frontend places there, kicks, frames from the backend's other end).
 *
 * A netbe_vhost_user in client mode connects to a unix listener in a
 * private directory; the target accepts and is the frontend. The device's
 * backend is "pair:fz" and the target holds the other end.
 *
 * Input:
 *   byte 0: N patches of guest memory, then N times
 *           [offset u16 LE][length u8][bytes]  written into the 64 KiB memfd
 *   then records until the input ends:
 *     [request u8][flags u8][fds u8][size u16 LE][payload, up to size bytes]
 *   fds: bits 0-1 how many fds ride along (0..3), bits 2-3 which: the
 *   memfd, the kick eventfd, the call eventfd, or /dev/null; bit 4 kick
 *   after the message, bit 5 the other end sends a frame, bit 6 it drains.
 *   The header carries the record's size even when fewer bytes follow, so
 *   short messages and messages split by the next record are both tried.
 * After each record the loop runs until idle and replies are read. The
 * invariants (abort when broken): no fd is left open once the server is
 * freed (counted in /proc/self/fd), and a connection the server did not
 * close is still reported as connected. ASan and UBSan catch the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netbe.h"
#include "netbe-virtio.h"

#define MEM_SIZE 65536
#define PAYLOAD_MAX 300
#define FRAME_LEN 60

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-vhu-server: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

struct harness {
	struct netbe_epoll *ep;
	char dir[64];
	char path[108];
	int listen_fd;
	int fds[4];                 /* memfd, kick, call, /dev/null */
};

static struct harness *h;

/* The log hook: fuzzing is quiet. */
static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* Return: how many fds this process has open. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ASSERT(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* The listener, the memfd and the eventfds, once per process. */
static void harness_init(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	h = calloc(1, sizeof(*h));
	ASSERT(h);
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
	ASSERT(netbe_epoll_new(&h->ep) == 0);
	snprintf(h->dir, sizeof(h->dir), "/tmp/fuzz-vhu-XXXXXX");
	ASSERT(mkdtemp(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/sock", h->dir);
	memcpy(a.sun_path, h->path, strlen(h->path) + 1);
	h->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT(h->listen_fd >= 0);
	ASSERT(bind(h->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	ASSERT(listen(h->listen_fd, 4) == 0);
	h->fds[0] = memfd_create("guest", MFD_CLOEXEC);
	ASSERT(h->fds[0] >= 0 && ftruncate(h->fds[0], MEM_SIZE) == 0);
	h->fds[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->fds[2] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->fds[3] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT(h->fds[1] >= 0 && h->fds[2] >= 0 && h->fds[3] >= 0);
}

/* Run the loop until nothing is ready. */
static void pump(void)
{
	for (int i = 0; i < 64 && netbe_epoll_dispatch(h->ep, 0) > 0; i++)
		;
}

/* Read and drop what the server sent. Return: false once it closed. */
static bool drain(int c)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(c, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

/* Write the memory patches. Return: bytes of input used. */
static size_t patch_memory(const uint8_t *d, size_t n)
{
	static const uint8_t zero[4096];
	size_t off = 1, i, count;

	for (i = 0; i < MEM_SIZE; i += sizeof(zero))
		ASSERT(pwrite(h->fds[0], zero, sizeof(zero), (off_t)i) == sizeof(zero));
	if (n < 1)
		return 0;
	count = d[0];
	for (i = 0; i < count && off + 3 <= n; i++) {
		size_t at = d[off] | (size_t)d[off + 1] << 8, len = d[off + 2];

		off += 3;
		if (len > n - off)
			len = n - off;
		if (at + len > MEM_SIZE)
			len = at < MEM_SIZE ? MEM_SIZE - at : 0;
		if (len)
			ASSERT(pwrite(h->fds[0], d + off, len, (off_t)at) == (ssize_t)len);
		off += len;
	}
	return off;
}

/* Send one record's message. Return: bytes of input used, or 0 at the
 * end of the input or when the socket is gone. */
static size_t send_record(int c, const uint8_t *d, size_t n, uint8_t *fdsel)
{
	uint32_t hdr[3];
	union { char b[CMSG_SPACE(sizeof(int) * 3)]; struct cmsghdr a; } cb;
	int fds[3];
	size_t len;
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct cmsghdr *cm;
	unsigned nfds, i;

	if (n < 5)
		return 0;
	hdr[0] = d[0];
	hdr[1] = d[1];
	hdr[2] = d[3] | (uint32_t)d[4] << 8;
	*fdsel = d[2];
	len = hdr[2] < PAYLOAD_MAX ? hdr[2] : PAYLOAD_MAX;
	if (len > n - 5)
		len = n - 5;
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ (void *)(d + 5), len };
	nfds = d[2] & 3;
	memset(&cb, 0, sizeof(cb));
	if (nfds) {
		for (i = 0; i < nfds; i++)
			fds[i] = h->fds[(d[2] >> 2) & 3];
		mh.msg_control = cb.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	if (sendmsg(c, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return 0;
	return 5 + len;
}

/* What the record asks of the frame peer and the kick eventfd. */
static void side_effects(struct netbe *peer, uint8_t fdsel)
{
	uint8_t frame[FRAME_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	uint8_t buf[2048];
	struct iovec iov = { frame, sizeof(frame) };
	uint64_t one = 1;

	if (fdsel & 0x10)
		ASSERT(write(h->fds[1], &one, sizeof(one)) == sizeof(one));
	if (fdsel & 0x20)
		(void)netbe_send(peer, &iov, 1);
	iov = (struct iovec){ buf, sizeof(buf) };
	if (fdsel & 0x40)
		while (netbe_recv(peer, &iov, 1) > 0)
			;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netbe_vhost_user_params p = { .flags = NETBE_VHU_CLIENT,
		.dev = { .spec = "pair:fz" } };
	struct netbe_vhost_user *vu = NULL;
	struct netbe *peer = NULL;
	size_t off, used;
	uint8_t fdsel;
	bool open_ = true;
	int c, fds0;

	if (!h)
		harness_init();
	fds0 = count_fds();
	p.socket_path = h->path;
	off = patch_memory(data, size);
	ASSERT(netbe_vhost_user_new(&vu, &p, netbe_epoll_loop(h->ep)) == 0);
	ASSERT(netbe_open(&peer, "pair:fz", NULL, netbe_epoll_loop(h->ep)) == 0);
	c = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT(c >= 0);
	pump();
	while (open_ && (used = send_record(c, data + off, size - off, &fdsel))) {
		off += used;
		pump();
		side_effects(peer, fdsel);
		pump();
		open_ = drain(c);
	}
	pump();
	if (open_ && drain(c))
		ASSERT(netbe_vhost_user_connected(vu) == 1);
	close(c);
	netbe_vhost_user_free(vu);
	netbe_close(peer);
	pump();
	while (eventfd_read(h->fds[1], &(eventfd_t){ 0 }) == 0 ||
	       eventfd_read(h->fds[2], &(eventfd_t){ 0 }) == 0)
		;
	ASSERT(count_fds() == fds0);
	return 0;
}
