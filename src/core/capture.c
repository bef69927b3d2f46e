/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture.c - packet capture in core, for every backend, from the
 * frontend's point of view: frames as the frontend handed them to
 * netbe_send (before software segmentation or checksums) and as
 * netbe_recv delivered them, without the virtio-net header.
 *
 * Theory of operation
 *
 * Files. A process-wide registry (a list under reg_lock) holds the open
 * capture files, keyed by path and by device and inode, so two spellings
 * of one file still share it. A file is created (truncated) by its first
 * capture, written with its header (a pcapng Section Header Block, or the
 * classic pcap header), and closed when its last capture stops. Every
 * capture into a pcapng file adds an Interface Description Block named
 * after the handle ("tap:A") with its snaplen; its frames are Enhanced
 * Packet Blocks naming that interface, with the direction in epb_flags
 * (inbound: delivered to the frontend; outbound: sent by it) and, when the
 * frontend uses a virtio-net header, its fields as the block's comment. A
 * classic pcap file has one snaplen and no interfaces, so every capture
 * into it must ask for the same snaplen.
 *
 * Locks. The data path tests one flag per burst (capture_on()); only when
 * it is set does it take the handle's capture lock, then the file's lock,
 * encode the burst's frames into the file's buffer and write them with
 * one write(2) (more for a burst of large frames), so the file is whole
 * after every burst and the buffer is empty whenever the lock is free.
 * The tx and rx threads of a handle, and handles sharing a file, are thus
 * serialized on the file. Start and stop take the handle's lock, so a
 * burst being written finishes before its file can go away. Order:
 * handle capture lock, then reg_lock, then a file's lock.
 *
 * Errors. A failed write leaves the file's end undefined, so it marks the
 * file broken: every capture writing into it stops, counts one write
 * error and logs once; frames count as written once their write worked.
 * Capture never makes a send or receive fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "core.h"
#include "iov.h"
#include "log.h"
#include "vnet_hdr.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1A2B3C4Du
#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_EPB_FLAGS 2
#define EPB_INBOUND 1u
#define EPB_OUTBOUND 2u
#define LINKTYPE_ETHERNET 1
#define PCAP_MAGIC_USEC 0xA1B2C3D4u
#define COMMENT_MAX 128
#define IF_NAME_MAX 64
/* An EPB: 28 bytes of header, the data padded, flags, comment, end, length. */
#define BLOCK_MAX (28 + NETBE_CAPTURE_SNAPLEN_MAX + 3 + 8 + 4 + COMMENT_MAX + 4 + 4)
/* A burst's blocks are gathered here and written at once. */
#define FILE_BUF (2 * BLOCK_MAX)

struct capture_file {
	struct capture_file *next;     /* registry list, under reg_lock */
	char *path;
	dev_t dev;
	ino_t ino;
	unsigned refs;                 /* under reg_lock */
	enum netbe_capture_format format;
	unsigned snaplen;              /* pcap: the header's snaplen */
	pthread_mutex_t lock;          /* everything below */
	int fd;
	unsigned next_if;              /* pcapng: the next IDB's number */
	int error;                     /* first write error, 0 if none */
	size_t used;                   /* bytes gathered in buf; 0 unlocked */
	uint8_t buf[FILE_BUF];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct capture_file *files;

/* ------------------------------------------------------------------------ */
/* Block encoding                                                           */
/* ------------------------------------------------------------------------ */

/* Store @v at @p (host byte order, as the SHB's byte-order magic says).
 * Return: the position after it. */
static uint8_t *put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

/* Store @v at @p. Return: the position after it. */
static uint8_t *put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
	return p + 2;
}

/* Pad to 4 bytes: zeros after @len bytes. Return: @len rounded up. */
static size_t pad4(uint8_t *p, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	memset(p + len, 0, padded - len);
	return padded;
}

/* Store the option @code with @len bytes of @val, padded. Return: the
 * position after it. */
static uint8_t *put_opt(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	p = put16(p, code);
	p = put16(p, (uint16_t)len);
	memcpy(p, val, len);
	return p + pad4(p, len);
}

/* Close a pcapng block that starts at @start and whose body ends at @p:
 * end-of-options (when @opts), then the length at both ends.
 * Return: the block's total length. */
static size_t block_end(uint8_t *start, uint8_t *p, bool opts)
{
	size_t len;

	if (opts)
		p = put32(p, OPT_END);
	len = (size_t)(p - start) + 4;
	put32(start + 4, (uint32_t)len);
	put32(p, (uint32_t)len);
	return len;
}

/* Encode the pcapng Section Header Block into @b. Return: its length. */
static size_t shb_encode(uint8_t *b)
{
	uint8_t *p = put32(b, PCAPNG_SHB) + 4;

	p = put32(p, PCAPNG_BOM);
	p = put16(p, 1);
	p = put16(p, 0);
	memset(p, 0xff, 8);    /* section length: not given */
	p = put_opt(p + 8, OPT_SHB_USERAPPL, "netbe", 5);
	return block_end(b, p, true);
}

/* Encode the classic pcap file header into @b. Return: its length. */
static size_t pcap_hdr_encode(uint8_t *b, unsigned snaplen)
{
	uint8_t *p = put32(b, PCAP_MAGIC_USEC);

	p = put16(p, 2);
	p = put16(p, 4);
	p = put32(p, 0);       /* thiszone */
	p = put32(p, 0);       /* sigfigs */
	p = put32(p, snaplen);
	put32(p, LINKTYPE_ETHERNET);
	return 24;
}

/* Encode an Interface Description Block for @name into @b.
 * Return: its length. */
static size_t idb_encode(uint8_t *b, const char *name, unsigned snaplen)
{
	uint8_t *p = put32(b, PCAPNG_IDB) + 4;

	p = put16(p, LINKTYPE_ETHERNET);
	p = put16(p, 0);
	p = put32(p, snaplen);
	p = put_opt(p, OPT_IF_NAME, name, strlen(name));
	return block_end(b, p, true);
}

/* Return: the name of virtio-net GSO type @t (without its ECN bit), NULL
 * for a type no virtio spec defines. */
static const char *gso_name(unsigned t)
{
	switch (t) {
	case NETBE_GSO_NONE: return "none";
	case NETBE_GSO_TCPV4: return "tcpv4";
	case NETBE_GSO_UDP: return "udp";
	case NETBE_GSO_TCPV6: return "tcpv6";
	case NETBE_GSO_UDP_L4: return "udp_l4";
	default: return NULL;
	}
}

/* Write header @h as "vnet flags=0x1 gso=tcpv4 ..." into @out.
 * Return: the comment's length. */
static size_t vnet_comment(char *out, const struct netbe_vnet_hdr *h)
{
	const char *g = gso_name(h->gso_type & ~NETBE_GSO_ECN);
	char num[16];
	int n;

	snprintf(num, sizeof(num), "%u", h->gso_type & ~NETBE_GSO_ECN);
	n = snprintf(out, COMMENT_MAX, "vnet flags=0x%x gso=%s%s gso_size=%u hdr_len=%u csum_start=%u csum_offset=%u",
		     h->flags, g ? g : num, (h->gso_type & NETBE_GSO_ECN) ? "|ecn" : "",
		     h->gso_size, h->hdr_len, h->csum_start, h->csum_offset);
	return n < COMMENT_MAX ? (size_t)n : COMMENT_MAX - 1;
}

/* One frame to write: where its bytes are and how it is seen. */
struct cap_frame {
	const struct iovec *iov;
	int iovcnt;
	unsigned hdr_len;              /* frontend header before the frame */
	size_t len;                    /* frame length without the header */
	size_t caplen;                 /* bytes kept */
	bool outbound;
	uint64_t usec;                 /* wall-clock time */
};

/* Encode frame @cf as an Enhanced Packet Block for interface @if_id into
 * @b. Return: its length. */
static size_t epb_encode(uint8_t *b, const struct cap_frame *cf, unsigned if_id)
{
	uint8_t *p = put32(b, PCAPNG_EPB) + 4;
	uint32_t flags = cf->outbound ? EPB_OUTBOUND : EPB_INBOUND;
	char comment[COMMENT_MAX];
	struct netbe_vnet_hdr h;

	p = put32(p, if_id);
	p = put32(p, (uint32_t)(cf->usec >> 32));
	p = put32(p, (uint32_t)cf->usec);
	p = put32(p, (uint32_t)cf->caplen);
	p = put32(p, (uint32_t)cf->len);
	iov_to_buf(cf->iov, cf->iovcnt, cf->hdr_len, p, cf->caplen);
	p += pad4(p, cf->caplen);
	p = put_opt(p, OPT_EPB_FLAGS, &flags, 4);
	if (cf->hdr_len) {
		vnet_hdr_read(cf->iov, cf->iovcnt, cf->hdr_len, &h);
		p = put_opt(p, OPT_COMMENT, comment, vnet_comment(comment, &h));
	}
	return block_end(b, p, true);
}

/* Encode frame @cf as a classic pcap record into @b. Return: its length. */
static size_t pcap_rec_encode(uint8_t *b, const struct cap_frame *cf)
{
	uint8_t *p = put32(b, (uint32_t)(cf->usec / 1000000));

	p = put32(p, (uint32_t)(cf->usec % 1000000));
	p = put32(p, (uint32_t)cf->caplen);
	p = put32(p, (uint32_t)cf->len);
	iov_to_buf(cf->iov, cf->iovcnt, cf->hdr_len, p, cf->caplen);
	return 16 + cf->caplen;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* Write all @len bytes of @buf to @fd. Return: 0 or -errno. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write the blocks gathered in @f's buffer unless the file is broken,
 * and empty it. Caller holds f->lock. Return: 0 or the (first) write
 * error. */
static int file_flush(struct capture_file *f)
{
	if (!f->error)
		f->error = write_all(f->fd, f->buf, f->used);
	f->used = 0;
	return f->error;
}

/* The registered file that is @path, by name or by device and inode.
 * Caller holds reg_lock. Return: it or NULL. */
static struct capture_file *file_find(const char *path)
{
	struct capture_file *f;
	struct stat st;
	bool exists = stat(path, &st) == 0;

	for (f = files; f; f = f->next)
		if (!strcmp(f->path, path) ||
		    (exists && st.st_dev == f->dev && st.st_ino == f->ino))
			return f;
	return NULL;
}

/* Release @f's resources (not registered). */
static void file_free(struct capture_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	pthread_mutex_destroy(&f->lock);
	free(f->path);
	free(f);
}

/* Create @path with its header. Return: the file or NULL (*@err set). */
static struct capture_file *file_create(const char *path,
					enum netbe_capture_format format,
					unsigned snaplen, int *err)
{
	struct capture_file *f = calloc(1, sizeof(*f));
	struct stat st;

	*err = -ENOMEM;
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->format = format;
	f->snaplen = snaplen;
	f->path = strdup(path);
	f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0 || !f->path || fstat(f->fd, &st) < 0) {
		*err = f->fd < 0 || f->path ? -errno : -ENOMEM;
		file_free(f);
		return NULL;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->used = format == NETBE_CAPTURE_PCAP ? pcap_hdr_encode(f->buf, snaplen)
					       : shb_encode(f->buf);
	*err = file_flush(f);
	if (*err) {
		file_free(f);
		return NULL;
	}
	return f;
}

/* Take a reference on the file for @path, creating it if needed.
 * Return: 0 and *@out, or -errno with a message. */
static int file_get(const char *path, enum netbe_capture_format format,
		    unsigned snaplen, struct capture_file **out)
{
	static const char *const names[] = { "pcapng", "pcap" };
	struct capture_file *f;
	int ret = 0;

	pthread_mutex_lock(&reg_lock);
	f = file_find(path);
	if (f && f->format != format)
		ret = netbe_errf(-EINVAL, "netbe_capture_start: %s is already captured as %s; use that format",
				 path, names[f->format]);
	else if (f && format == NETBE_CAPTURE_PCAP && f->snaplen != snaplen)
		ret = netbe_errf(-EINVAL, "netbe_capture_start: %s is already captured as pcap with snaplen %u; a pcap file has one snaplen",
				 path, f->snaplen);
	else if (!f && !(f = file_create(path, format, snaplen, &ret)))
		ret = netbe_errf(ret, "netbe_capture_start: cannot create %s: %s",
				 path, strerror(-ret));
	else if (!f->refs++) {      /* a new file: register it */
		f->next = files;
		files = f;
	}
	pthread_mutex_unlock(&reg_lock);
	*out = ret ? NULL : f;
	return ret;
}

/* Drop a reference on @f; the last one closes it. */
static void file_put(struct capture_file *f)
{
	struct capture_file **pp;

	pthread_mutex_lock(&reg_lock);
	if (--f->refs) {
		pthread_mutex_unlock(&reg_lock);
		return;
	}
	for (pp = &files; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	pthread_mutex_unlock(&reg_lock);
	file_free(f);
}

/* Give handle @be an interface in @f. Return: 0 and *@if_id, or -errno. */
static int file_add_if(struct capture_file *f, struct netbe *be,
		       unsigned snaplen, unsigned *if_id)
{
	char name[IF_NAME_MAX];
	int ret = 0;

	snprintf(name, sizeof(name), "%s%s%s", be->ops->name, be->name[0] ? ":" : "",
		 be->name);
	pthread_mutex_lock(&f->lock);
	*if_id = f->next_if;
	if (f->format == NETBE_CAPTURE_PCAPNG) {
		f->used = idb_encode(f->buf, name, snaplen);
		ret = file_flush(f);
	}
	if (!ret)
		f->next_if++;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Handles                                                                  */
/* ------------------------------------------------------------------------ */

void capture_init(struct capture_state *cs)
{
	memset(cs, 0, sizeof(*cs));
	pthread_mutex_init(&cs->lock, NULL);
}

/* Detach @cs from its file. Caller holds cs->lock. */
static void detach(struct capture_state *cs)
{
	__atomic_store_n(&cs->on, 0, __ATOMIC_RELAXED);
	if (cs->file)
		file_put(cs->file);
	cs->file = NULL;
}

void capture_fini(struct netbe *be)
{
	struct capture_state *cs = &be->core->cap;

	pthread_mutex_lock(&cs->lock);
	detach(cs);
	pthread_mutex_unlock(&cs->lock);
	pthread_mutex_destroy(&cs->lock);
}

/* Check the arguments of netbe_capture_start(). Return: 0 or -EINVAL. */
static int start_args(struct netbe *be, const char *path, unsigned snaplen,
		      enum netbe_capture_format format)
{
	if (!be)
		return netbe_errf(-EINVAL, "netbe_capture_start: handle is NULL");
	if (!path || !*path)
		return netbe_errf(-EINVAL, "netbe_capture_start: path is NULL or empty");
	if (snaplen < 1 || snaplen > NETBE_CAPTURE_SNAPLEN_MAX)
		return netbe_errf(-EINVAL, "netbe_capture_start: snaplen %u is out of range: expected 1 to %u",
				  snaplen, NETBE_CAPTURE_SNAPLEN_MAX);
	if (format != NETBE_CAPTURE_PCAPNG && format != NETBE_CAPTURE_PCAP)
		return netbe_errf(-EINVAL, "netbe_capture_start: unknown format %d: expected NETBE_CAPTURE_PCAPNG or NETBE_CAPTURE_PCAP",
				  (int)format);
	return 0;
}

/* Start capturing @be into @path. Caller holds cs->lock. Return: 0 or -errno. */
static int start_locked(struct netbe *be, const char *path, unsigned snaplen,
			enum netbe_capture_format format)
{
	struct capture_state *cs = &be->core->cap;
	struct capture_file *f;
	int ret;

	if (capture_on(cs))
		return netbe_errf(-EBUSY, "netbe_capture_start: %s already captures; call netbe_capture_stop() first",
				  be->ops->name);
	detach(cs);     /* a capture a write error stopped */
	ret = file_get(path, format, snaplen, &f);
	if (ret)
		return ret;
	ret = file_add_if(f, be, snaplen, &cs->if_id);
	if (ret) {
		file_put(f);
		return netbe_errf(ret, "netbe_capture_start: cannot write %s: %s",
				  path, strerror(-ret));
	}
	cs->file = f;
	cs->snaplen = snaplen;
	cs->error_logged = false;
	__atomic_store_n(&cs->on, 1, __ATOMIC_RELAXED);
	return 0;
}

NETBE_EXPORT int netbe_capture_start(struct netbe *be, const char *path,
				     unsigned snaplen,
				     enum netbe_capture_format format)
{
	int ret = start_args(be, path, snaplen, format);

	if (ret)
		return ret;
	pthread_mutex_lock(&be->core->cap.lock);
	ret = start_locked(be, path, snaplen, format);
	pthread_mutex_unlock(&be->core->cap.lock);
	return ret;
}

NETBE_EXPORT int netbe_capture_stop(struct netbe *be)
{
	if (!be)
		return netbe_errf(-EINVAL, "netbe_capture_stop: handle is NULL");
	pthread_mutex_lock(&be->core->cap.lock);
	detach(&be->core->cap);
	pthread_mutex_unlock(&be->core->cap.lock);
	return 0;
}

/* The smallest struct netbe_capture_stats a caller may pass: the first
 * layout, four counters. */
#define CAP_STATS_SIZE_MIN (4 * sizeof(uint64_t))

NETBE_EXPORT int netbe_capture_stats_read(struct netbe *be,
					  struct netbe_capture_stats *st,
					  size_t size)
{
	struct netbe_capture_stats snap;

	if (!be || !st)
		return netbe_errf(-EINVAL, "netbe_capture_stats_read: handle or stats is NULL");
	if (size < CAP_STATS_SIZE_MIN)
		return netbe_errf(-EINVAL, "netbe_capture_stats_read: size %zu is below the smallest struct netbe_capture_stats (%zu bytes); pass sizeof(struct netbe_capture_stats)",
				  size, CAP_STATS_SIZE_MIN);
	pthread_mutex_lock(&be->core->cap.lock);
	snap = be->core->cap.st;
	pthread_mutex_unlock(&be->core->cap.lock);
	if (size > sizeof(snap)) {
		memset((char *)st + sizeof(snap), 0, size - sizeof(snap));
		size = sizeof(snap);
	}
	memcpy(st, &snap, size);
	return 0;
}

/* Return: the wall-clock time in microseconds. */
static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Write the blocks gathered for @cs and count the frames of @pend with
 * @cs's when that worked. Caller holds both locks. Return: 0 or the
 * write error. */
static int flush(struct capture_state *cs, struct netbe_capture_stats *pend)
{
	int ret = file_flush(cs->file);

	if (!ret) {
		cs->st.frames += pend->frames;
		cs->st.bytes += pend->bytes;
		cs->st.truncated += pend->truncated;
	}
	memset(pend, 0, sizeof(*pend));
	return ret;
}

/* Gather frame @cf in @cs's file buffer, writing what is gathered first
 * when it might not fit. Caller holds both locks. Return: 0 or the write
 * error. */
static int add_frame(struct capture_state *cs, const struct cap_frame *cf,
		     struct netbe_capture_stats *pend)
{
	struct capture_file *f = cs->file;
	int ret = f->used > FILE_BUF - BLOCK_MAX ? flush(cs, pend) : 0;

	if (ret)
		return ret;
	f->used += f->format == NETBE_CAPTURE_PCAP ? pcap_rec_encode(f->buf + f->used, cf)
						   : epb_encode(f->buf + f->used, cf, cs->if_id);
	pend->frames++;
	pend->bytes += cf->caplen;
	pend->truncated += cf->caplen < cf->len;
	return 0;
}

/* A write failed with @err: stop @be's capture and count it; the first
 * time, put the message to log in @msg. Caller holds cs->lock.
 * Return: whether to log @msg (after the locks are dropped, so a log
 * hook may call netbe_capture_stop()). */
static bool write_failed(struct netbe *be, int err, char *msg, size_t len)
{
	struct capture_state *cs = &be->core->cap;
	bool first = !cs->error_logged;

	__atomic_store_n(&cs->on, 0, __ATOMIC_RELAXED);
	cs->st.write_errors++;
	cs->error_logged = true;
	if (first)
		snprintf(msg, len, "%s: capture: writing %s failed: %s; capture stopped",
			 be->ops->name, cs->file->path, strerror(-err));
	return first;
}

void capture_frames(struct netbe *be, const struct netbe_frame *f, unsigned n,
		    unsigned hdr_len, bool outbound)
{
	struct capture_state *cs = &be->core->cap;
	struct cap_frame cf = { .hdr_len = hdr_len, .outbound = outbound };
	struct netbe_capture_stats pend = { 0 };
	char msg[512];
	bool log = false;
	unsigned i;
	int ret = 0;

	pthread_mutex_lock(&cs->lock);
	if (!cs->file || !capture_on(cs)) {
		pthread_mutex_unlock(&cs->lock);
		return;
	}
	pthread_mutex_lock(&cs->file->lock);
	for (i = 0; i < n && !ret; i++) {
		size_t len = f[i].result > 0 ? (size_t)f[i].result : 0;

		if (len < hdr_len)
			continue;
		cf.iov = f[i].iov;
		cf.iovcnt = f[i].iovcnt;
		cf.len = len - hdr_len;
		cf.caplen = cf.len < cs->snaplen ? cf.len : cs->snaplen;
		cf.usec = now_usec();
		ret = add_frame(cs, &cf, &pend);
	}
	if (!ret)
		ret = flush(cs, &pend);
	cs->file->used = 0;
	pthread_mutex_unlock(&cs->file->lock);
	if (ret)
		log = write_failed(be, ret, msg, sizeof(msg));
	pthread_mutex_unlock(&cs->lock);
	if (log)
		nb_err("%s", msg);
}

int capture_spec(const struct netbe_spec *s, struct capture_request *req)
{
	static const char *const formats[] = { "pcapng", "pcap", NULL };
	const char *path = netbe_spec_get(s, "capture");
	uint64_t snaplen;
	int format, ret;

	memset(req, 0, sizeof(*req));
	if (!path && (netbe_spec_get(s, "snaplen") || netbe_spec_get(s, "capture_format")))
		return netbe_errf(-EINVAL, "%s: snaplen= and capture_format= need capture=PATH",
				  s->backend->name);
	ret = netbe_spec_uint(s, "snaplen", 1, NETBE_CAPTURE_SNAPLEN_MAX,
			      NETBE_CAPTURE_SNAPLEN_MAX, &snaplen);
	if (!ret)
		ret = netbe_spec_choice(s, "capture_format", formats,
					NETBE_CAPTURE_PCAPNG, &format);
	if (ret || !path)
		return ret;
	req->path = strdup(path);
	if (!req->path)
		return netbe_errf(-ENOMEM, "%s: out of memory", s->backend->name);
	req->snaplen = (unsigned)snaplen;
	req->format = (enum netbe_capture_format)format;
	return 0;
}
