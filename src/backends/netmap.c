/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netmap.c - the netmap and VALE backends: a NIC in netmap mode
 * ("netmap:IFNAME") or a port of a VALE software switch ("valeX:Y"),
 * through the netmap user API (/dev/netmap, NIOCCTRL requests).
 *
 * Theory of operation. open() binds a /dev/netmap fd to the port with a
 * NETMAP_REQ_REGISTER request (all NIC ring pairs, or pair N with queue=N;
 * NR_NO_TX_POLL so that a poll for input never touches the transmit rings,
 * which may belong to another thread), maps the shared memory and finds the
 * rings in it. The fd is both rx_fd and tx_fd: netmap's poll reports it
 * readable when a receive ring holds slots past cur and writable when the
 * transmit ring has room.
 *
 * The data path is netmap_ring.c, which copies between slots and iovecs on
 * a description of the ring; this file only loads head, cur and tail from
 * the shared ring before a batch, stores head and cur back after it
 * (release ordering, so the kernel never sees a slot before its bytes) and
 * makes the one system call per batch: NIOCRXSYNC when the receive rings
 * ran dry (it hands back what was read and fetches what arrived), and
 * NIOCTXSYNC after frames were queued (it pushes them out). A full
 * transmit ring is synced once to reclaim sent slots, then reported as
 * -EAGAIN; core waits for POLLOUT. Frames are sent on the first bound
 * ring only, so they leave in order; all bound receive rings are served,
 * starting from a different one each call.
 *
 * Offloads: a VALE port can carry a virtio-net header before every frame
 * (NETMAP_REQ_PORT_HDR_SET, the API 12+ successor of bhyve's
 * NETMAP_BDG_VNET_HDR). open() asks for a 12-byte header; when the port
 * takes it, GSO super-frames and partial checksums pass through (VALE
 * segments and checksums for ports that have no header), and frames span
 * slots with NS_MOREFRAG. A NIC refuses the header: then there is none and
 * core does the offloads in software. A header length the port had before
 * is put back on close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>
#include <net/if.h>
#include <net/netmap_user.h>

#include "backend.h"
#include "log.h"
#include "netmap_ring.h"
#include "spec.h"

#ifndef NIOCCTRL
#error "these netmap headers predate NIOCCTRL: netbe needs netmap API 12 or later"
#endif

/* netmap_ring.c works on the shared slots in place. */
_Static_assert(sizeof(struct nmr_slot) == sizeof(struct netmap_slot),
	       "struct nmr_slot must have the layout of struct netmap_slot");
_Static_assert(offsetof(struct nmr_slot, buf_idx) == offsetof(struct netmap_slot, buf_idx) &&
	       offsetof(struct nmr_slot, len) == offsetof(struct netmap_slot, len) &&
	       offsetof(struct nmr_slot, flags) == offsetof(struct netmap_slot, flags),
	       "struct nmr_slot must have the layout of struct netmap_slot");
_Static_assert(NMR_MOREFRAG == NS_MOREFRAG, "NMR_MOREFRAG is NS_MOREFRAG");
_Static_assert(NMR_MAX_FRAGS == NETMAP_MAX_FRAGS, "NMR_MAX_FRAGS is NETMAP_MAX_FRAGS");

#define NM_DEVICE "/dev/netmap"
#define NM_VNET_HDR_LEN 12
#define NM_QUEUE_MAX 4095

/* What a VALE port with a virtio-net header carries natively (the set
 * bhyve offers on VALE). */
#define NM_CAPS (NETBE_F_CSUM | NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6 | \
		 NETBE_F_HOST_UFO | NETBE_F_GUEST_CSUM | NETBE_F_GUEST_TSO4 | \
		 NETBE_F_GUEST_TSO6 | NETBE_F_GUEST_UFO)

/* A ring: the shared one and our description of it. */
struct nm_ring {
	struct netmap_ring *ring;
	struct nmr_ring d;
};

struct nm_priv {
	int fd;
	void *mem;
	size_t memsize;
	char port[NETMAP_REQ_IFNAMSIZ];
	/* transmit; touched only by the sending thread */
	struct nm_ring tx;
	/* receive; touched only by the receiving thread */
	struct nm_ring *rx;
	unsigned nrx, rx_next;
	/* the port's header length before open, put back on close */
	uint32_t hdr_prev;
	bool hdr_changed;
};

static const struct netbe_key nm_netmap_keys[] = {
	{ .name = "queue",
	  .help = "0..4095: bind only NIC ring pair N (one handle per queue, "
		  "one thread each); default: all ring pairs" },
	{ .name = "vnet_hdr",
	  .help = "on|off: ask the port for a virtio-net header so offloads "
		  "pass through; only VALE ports take one (default on: used "
		  "when the port takes it)" },
	{ .name = NULL }
};

static const struct netbe_key nm_vale_keys[] = {
	{ .name = "vnet_hdr",
	  .help = "on|off: carry a virtio-net header so GSO super-frames and "
		  "partial checksums pass through the switch (default on)" },
	{ .name = NULL }
};

/**
 * nm_ctrl() - one NIOCCTRL request @type with @body about @port
 * @version: if not NULL, receives the API version the kernel answered with
 * Return: 0, or a negative errno.
 */
static int nm_ctrl(int fd, const char *port, uint16_t type, void *body,
		   unsigned *version)
{
	struct nmreq_header hdr;
	int ret;

	memset(&hdr, 0, sizeof(hdr));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = type;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", port);
	hdr.nr_body = (uintptr_t)body;
	ret = ioctl(fd, NIOCCTRL, &hdr);
	if (version)
		*version = hdr.nr_version;
	return ret < 0 ? -errno : 0;
}

/**
 * nm_open_device() - open /dev/netmap
 * Return: the fd, or a negative errno with a message saying what to do.
 */
static int nm_open_device(const char *type)
{
	int fd = open(NM_DEVICE, O_RDWR | O_CLOEXEC);
	int err = -errno;

	if (fd >= 0)
		return fd;
	if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
		return netbe_errf(err, "%s: cannot open " NM_DEVICE ": %s - load the netmap module (Linux: insmod netmap.ko from the netmap sources; FreeBSD: kldload netmap)",
				  type, strerror(-err));
	if (err == -EACCES || err == -EPERM)
		return netbe_errf(err, "%s: cannot open " NM_DEVICE ": %s - run as root, or give your user read-write access to " NM_DEVICE,
				  type, strerror(-err));
	return netbe_errf(err, "%s: cannot open " NM_DEVICE ": %s", type,
			  strerror(-err));
}

/**
 * nm_register_error() - turn a failed NETMAP_REQ_REGISTER into advice
 * @version: the API version the kernel answered with
 * Return: @err, with the message recorded.
 */
static int nm_register_error(int err, const char *type, const char *port,
			     unsigned version)
{
	if (version != NETMAP_API)
		return netbe_errf(err, "%s %s: the kernel speaks netmap API %u, netbe was built for API %d - rebuild netbe against the running kernel's netmap headers",
				  type, port, version, NETMAP_API);
	switch (err) {
	case -ENOENT:
	case -ENXIO:
	case -ENODEV:
		return netbe_errf(err, "%s %s: no such netmap port (%s) - check the name; an interface needs a driver with netmap support (or netmap's generic adapter)",
				  type, port, strerror(-err));
	case -EBUSY:
		return netbe_errf(err, "%s %s: port busy (%s) - another process holds its rings; close it or pick another port or queue=",
				  type, port, strerror(-err));
	case -EINVAL:
		return netbe_errf(err, "%s %s: the kernel refused the registration (%s) - check the name and queue= (a ring the port has), and that netbe was built against the running module's headers (API %d)",
				  type, port, strerror(-err), NETMAP_API);
	default:
		return netbe_errf(err, "%s %s: cannot register the port: %s", type,
				  port, strerror(-err));
	}
}

/**
 * nm_register() - bind p->fd to the port: all NIC ring pairs, or pair
 * @queue when @one_queue
 * @reg: receives the kernel's answer (memory size, ring counts)
 * Return: 0, or a negative errno with a message.
 */
static int nm_register(struct nm_priv *p, const char *type, bool one_queue,
		       unsigned queue, struct nmreq_register *reg)
{
	unsigned version = NETMAP_API;
	int err;

	memset(reg, 0, sizeof(*reg));
	reg->nr_mode = one_queue ? NR_REG_ONE_NIC : NR_REG_ALL_NIC;
	reg->nr_ringid = (uint16_t)queue;
	reg->nr_flags = NR_NO_TX_POLL | NR_ACCEPT_VNET_HDR;
	err = nm_ctrl(p->fd, p->port, NETMAP_REQ_REGISTER, reg, &version);
	if (err)
		return nm_register_error(err, type, p->port, version);
	if (!reg->nr_memsize || reg->nr_memsize > SIZE_MAX ||
	    reg->nr_offset >= reg->nr_memsize || !reg->nr_tx_rings ||
	    !reg->nr_rx_rings)
		return netbe_errf(-EIO, "%s %s: the kernel answered the registration with a bad layout (memsize %llu, offset %llu, %u tx / %u rx rings)",
				  type, p->port, (unsigned long long)reg->nr_memsize,
				  (unsigned long long)reg->nr_offset,
				  reg->nr_tx_rings, reg->nr_rx_rings);
	return 0;
}

/**
 * nm_in_map() - whether @len bytes at @at lie inside the shared memory
 * Return: true when they do.
 */
static bool nm_in_map(const struct nm_priv *p, const void *at, size_t len)
{
	uintptr_t a = (uintptr_t)at, m = (uintptr_t)p->mem;

	return a >= m && a - m <= p->memsize && len <= p->memsize - (a - m);
}

/**
 * nm_ring_setup() - check @ring against the mapping and describe it in @r
 * @max_frags: slots a sent frame may span on this port
 * Return: 0, or -EIO with a message when the ring does not fit the mapping.
 */
static int nm_ring_setup(struct nm_priv *p, const char *type,
			 struct netmap_ring *ring, unsigned max_frags,
			 struct nm_ring *r)
{
	uint8_t *base, *end = (uint8_t *)p->mem + p->memsize;
	size_t nbufs;

	if (!nm_in_map(p, ring, sizeof(*ring)) || ring->num_slots < 2 ||
	    !ring->nr_buf_size ||
	    !nm_in_map(p, ring->slot, (size_t)ring->num_slots * sizeof(ring->slot[0])))
		return netbe_errf(-EIO, "%s %s: a ring lies outside the shared memory - netmap headers and kernel module disagree; rebuild netbe against the running module",
				  type, p->port);
	base = (uint8_t *)NETMAP_BUF(ring, 0);
	if (!nm_in_map(p, base, ring->nr_buf_size))
		return netbe_errf(-EIO, "%s %s: the buffers lie outside the shared memory - netmap headers and kernel module disagree",
				  type, p->port);
	nbufs = (size_t)(end - base) / ring->nr_buf_size;
	memset(r, 0, sizeof(*r));
	r->ring = ring;
	r->d.num_slots = ring->num_slots;
	r->d.buf_size = ring->nr_buf_size;
	r->d.slot = (struct nmr_slot *)(void *)ring->slot;
	r->d.buf_base = base;
	r->d.nbufs = nbufs > UINT32_MAX ? UINT32_MAX : (uint32_t)nbufs;
	r->d.max_frags = max_frags;
	return 0;
}

/**
 * nm_map() - map the shared memory and describe the bound rings: the
 * first bound transmit ring, every bound receive ring
 * Return: 0, or a negative errno with a message.
 */
static int nm_map(struct nm_priv *p, const char *type,
		  const struct nmreq_register *reg, bool one_queue,
		  unsigned queue, unsigned max_frags)
{
	struct netmap_if *nifp;
	unsigned first = one_queue ? queue : 0, i;
	int err;

	p->mem = mmap(NULL, (size_t)reg->nr_memsize, PROT_READ | PROT_WRITE,
		      MAP_SHARED, p->fd, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return netbe_errf(-errno, "%s %s: cannot map %llu bytes of netmap memory: %s",
				  type, p->port, (unsigned long long)reg->nr_memsize,
				  strerror(errno));
	}
	p->memsize = (size_t)reg->nr_memsize;
	nifp = NETMAP_IF(p->mem, reg->nr_offset);
	if (!nm_in_map(p, nifp, sizeof(*nifp)) ||
	    (one_queue && (queue >= nifp->ni_tx_rings || queue >= nifp->ni_rx_rings)))
		return netbe_errf(-EIO, "%s %s: the port description does not fit the shared memory or has no ring %u",
				  type, p->port, queue);
	p->nrx = one_queue ? 1 : nifp->ni_rx_rings;
	if (!p->nrx)
		return netbe_errf(-EIO, "%s %s: the port has no receive ring", type, p->port);
	p->rx = calloc(p->nrx, sizeof(*p->rx));
	if (!p->rx)
		return netbe_errf(-ENOMEM, "%s %s: out of memory", type, p->port);
	err = nm_ring_setup(p, type, NETMAP_TXRING(nifp, first), max_frags, &p->tx);
	for (i = 0; !err && i < p->nrx; i++)
		err = nm_ring_setup(p, type, NETMAP_RXRING(nifp, first + i),
				    max_frags, &p->rx[i]);
	return err;
}

/**
 * nm_port_hdr() - get or set (@type) the port's header length in *@len
 * Return: 0, or a negative errno (a port that is not a VALE port refuses
 * to set one).
 */
static int nm_port_hdr(struct nm_priv *p, uint16_t type, uint32_t *len)
{
	struct nmreq_port_hdr req;
	int err;

	memset(&req, 0, sizeof(req));
	req.nr_hdr_len = *len;
	err = nm_ctrl(p->fd, p->port, type, &req, NULL);
	if (!err)
		*len = req.nr_hdr_len;
	return err;
}

/** nm_load() - copy the shared ring's head, cur and tail into our view. */
static void nm_load(struct nm_ring *r)
{
	r->d.head = r->ring->head;
	r->d.cur = r->ring->cur;
	r->d.tail = __atomic_load_n(&r->ring->tail, __ATOMIC_ACQUIRE);
}

/** nm_publish() - hand our head and cur to the kernel, after the slots. */
static void nm_publish(struct nm_ring *r)
{
	__atomic_store_n(&r->ring->cur, r->d.cur, __ATOMIC_RELEASE);
	__atomic_store_n(&r->ring->head, r->d.head, __ATOMIC_RELEASE);
}

/**
 * nm_rx_flush() - release whatever the receive rings hold: frames that
 * arrived before the header length was fixed have no header
 */
static void nm_rx_flush(struct nm_priv *p)
{
	unsigned i;

	for (i = 0; i < p->nrx; i++) {
		nm_load(&p->rx[i]);
		p->rx[i].d.head = p->rx[i].d.tail;
		p->rx[i].d.cur = p->rx[i].d.tail;
		nm_publish(&p->rx[i]);
	}
	(void)ioctl(p->fd, NIOCRXSYNC, NULL);
}

/**
 * nm_setup_hdr() - agree on the port's virtio-net header length
 * @want: ask for a 12-byte header (vnet_hdr=on)
 * @insist: vnet_hdr=on was written: a port that refuses is an error
 * Return: 0 with be->be_hdr_len and be->native_caps set, or a negative
 * errno with a message.
 */
static int nm_setup_hdr(struct netbe *be, const char *type, bool want,
			bool insist)
{
	struct nm_priv *p = netbe_priv(be);
	uint32_t cur = 0, len = want ? NM_VNET_HDR_LEN : 0;
	int err;

	if (nm_port_hdr(p, NETMAP_REQ_PORT_HDR_GET, &cur))
		cur = 0;
	p->hdr_prev = cur;
	if (len != cur) {
		err = nm_port_hdr(p, NETMAP_REQ_PORT_HDR_SET, &len);
		if (!err) {
			p->hdr_changed = true;
			cur = len;
			nm_rx_flush(p);
		} else if (insist) {
			return netbe_errf(err, "%s %s: the port takes no virtio-net header (%s) - only VALE ports do; drop vnet_hdr=on",
					  type, p->port, strerror(-err));
		} else {
			nb_debug("%s %s: no virtio-net header (%s); offloads done in software",
				 type, p->port, strerror(-err));
		}
	}
	if (cur != 0 && cur != NETBE_VNET_HDR_LEN_LEGACY && cur != NETBE_VNET_HDR_LEN_MRG)
		return netbe_errf(-EINVAL, "%s %s: the port uses a %u-byte header, which is not a virtio-net header - reset it (vale-ctl) or use another port",
				  type, p->port, cur);
	be->be_hdr_len = cur;
	be->native_caps = cur && want ? NM_CAPS : 0;
	return 0;
}

/** nm_release() - undo what open took, in reverse order. */
static void nm_release(struct nm_priv *p)
{
	uint32_t prev = p->hdr_prev;

	if (p->hdr_changed && p->fd >= 0)
		(void)nm_port_hdr(p, NETMAP_REQ_PORT_HDR_SET, &prev);
	p->hdr_changed = false;
	if (p->mem)
		munmap(p->mem, p->memsize);
	p->mem = NULL;
	free(p->rx);
	p->rx = NULL;
	p->nrx = 0;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/**
 * nm_check_name() - check the port name for the backend @vale or netmap
 * Return: 0, or -EINVAL with a message naming the expected form.
 */
static int nm_check_name(const char *type, const char *name, bool vale)
{
	const char *colon = strchr(name, ':');

	if (strlen(name) >= NETMAP_REQ_IFNAMSIZ)
		return netbe_errf(-EINVAL, "%s: port name '%s' is too long - use at most %d characters",
				  type, name, NETMAP_REQ_IFNAMSIZ - 1);
	if (vale && (strncmp(name, NM_BDG_NAME, strlen(NM_BDG_NAME)) || !colon ||
		     colon == name + strlen(NM_BDG_NAME) || !colon[1]))
		return netbe_errf(-EINVAL, "vale: '%s' is not a VALE port name - use valeSWITCH:PORT (e.g. vale0:1), or netmap:IFNAME for an interface",
				  name);
	return 0;
}

/**
 * nm_open_port() - the open op of both backends
 * @vale: the "vale" backend (NAME must be a VALE port)
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int nm_open_port(struct netbe *be, const struct netbe_spec *spec,
			bool vale)
{
	struct nm_priv *p = netbe_priv(be);
	const char *type = vale ? "vale" : "netmap";
	bool one_queue = netbe_spec_get(spec, "queue") != NULL, want;
	bool insist = netbe_spec_get(spec, "vnet_hdr") != NULL;
	struct nmreq_register reg;
	unsigned max_frags;
	uint64_t queue;
	int err;

	p->fd = -1;
	err = nm_check_name(type, spec->name, vale);
	if (!err)
		err = netbe_spec_bool(spec, "vnet_hdr", true, &want);
	if (!err)
		err = netbe_spec_uint(spec, "queue", 0, NM_QUEUE_MAX, 0, &queue);
	if (err)
		return err;
	insist = insist && want;
	snprintf(p->port, sizeof(p->port), "%s", spec->name);
	/* VALE ports take frames that span slots; NIC drivers mostly do not */
	max_frags = strncmp(p->port, NM_BDG_NAME, strlen(NM_BDG_NAME)) ? 1 : NMR_MAX_FRAGS;
	p->fd = nm_open_device(type);
	if (p->fd < 0)
		return p->fd;
	err = nm_register(p, type, one_queue, (unsigned)queue, &reg);
	if (!err)
		err = nm_map(p, type, &reg, one_queue, (unsigned)queue, max_frags);
	if (!err)
		err = nm_setup_hdr(be, type, want, insist);
	if (err) {
		nm_release(p);
		return err;
	}
	be->rx_fd = p->fd;
	be->tx_fd = p->fd;
	be->tx_events = NETBE_EV_OUT;
	nb_debug("%s %s: %u receive ring(s), %u slots of %u bytes, header %u bytes, native caps 0x%llx",
		 type, p->port, p->nrx, p->tx.d.num_slots, p->tx.d.buf_size,
		 be->be_hdr_len, (unsigned long long)be->native_caps);
	return 0;
}

/** nm_open_netmap() - the open op of "netmap". Return: as nm_open_port(). */
static int nm_open_netmap(struct netbe *be, const struct netbe_spec *spec)
{
	return nm_open_port(be, spec, false);
}

/** nm_open_vale() - the open op of "vale". Return: as nm_open_port(). */
static int nm_open_vale(struct netbe *be, const struct netbe_spec *spec)
{
	return nm_open_port(be, spec, true);
}

/** nm_close() - the close op: header length back, unmap, close. */
static void nm_close(struct netbe *be)
{
	nm_release(netbe_priv(be));
}

/**
 * nm_rx_rings() - receive from the bound rings, each from where it was,
 * starting with a different ring each call
 * Return: frames received, or -EIO (with a message) when a ring is
 * inconsistent and nothing was received.
 */
static int nm_rx_rings(struct nm_priv *p, struct netbe_xfer *x, unsigned n,
		       struct nmr_rx_drops *drops)
{
	unsigned got = 0, k;

	for (k = 0; k < p->nrx && got < n; k++) {
		struct nm_ring *r = &p->rx[(p->rx_next + k) % p->nrx];
		int ret;

		nm_load(r);
		ret = nmr_rx_burst(&r->d, x + got, n - got, drops);
		nm_publish(r);
		if (ret < 0) {
			if (got)
				break;
			return NB_ERR_RL(ret, "netmap %s: receive ring is inconsistent (head %u cur %u tail %u of %u slots)",
					 p->port, r->d.head, r->d.cur, r->d.tail,
					 r->d.num_slots);
		}
		got += (unsigned)ret;
	}
	p->rx_next = (p->rx_next + 1) % p->nrx;
	return (int)got;
}

/**
 * nm_recv() - the recv op: read the rings; when they run dry, one
 * NIOCRXSYNC hands back the slots read and fetches new ones
 * Return: frames received (0 when none), or a negative errno when the port
 * is unusable and nothing was received.
 */
static int nm_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct nm_priv *p = netbe_priv(be);
	struct nmr_rx_drops drops = { 0, 0 };
	int got = nm_rx_rings(p, x, n, &drops), more;
	unsigned i;

	if (got >= 0 && (unsigned)got < n) {
		if (ioctl(p->fd, NIOCRXSYNC, NULL) == 0) {
			more = nm_rx_rings(p, x + got, n - (unsigned)got, &drops);
			if (more > 0)
				got += more;
			else if (!got)
				got = more;
		} else if (!got) {
			got = NB_ERR_RL(-errno, "netmap %s: NIOCRXSYNC failed: %s (port gone?)",
					p->port, strerror(errno));
		}
	}
	for (i = 0; i < drops.too_big; i++)
		netbe_count_drop(be, NETBE_DROP_RX_TOO_BIG);
	for (i = 0; i < drops.malformed; i++)
		netbe_count_drop(be, NETBE_DROP_RX_BAD_FRAMING);
	if (drops.too_big || drops.malformed)
		NB_LOG_RL(NETBE_LOG_DEBUG, "netmap %s: dropped %u frame(s) larger than any frame and %u broken slot chain(s)",
			  p->port, drops.too_big, drops.malformed);
	return got;
}

/**
 * nm_tx_fill() - queue frames on the transmit ring
 * @slots: receives the slots filled
 * Return: as nmr_tx_burst().
 */
static int nm_tx_fill(struct nm_priv *p, struct netbe_xfer *x, unsigned n,
		      unsigned *slots)
{
	int ret;

	nm_load(&p->tx);
	ret = nmr_tx_burst(&p->tx.d, x, n, slots);
	nm_publish(&p->tx);
	return ret;
}

/**
 * nm_send() - the send op: fill slots, then one NIOCTXSYNC for the batch;
 * a full ring is synced once to reclaim sent slots before -EAGAIN
 * Return: frames consumed (x[i].err -EMSGSIZE for a frame too big for the
 * port), -EAGAIN when the ring has no room, or a negative errno when the
 * port is unusable.
 */
static int nm_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct nm_priv *p = netbe_priv(be);
	unsigned slots = 0;
	int ret = nm_tx_fill(p, x, n, &slots);

	if (ret == -EAGAIN) {
		if (ioctl(p->fd, NIOCTXSYNC, NULL) < 0)
			return NB_ERR_RL(-errno, "netmap %s: NIOCTXSYNC failed: %s (port gone?)",
					 p->port, strerror(errno));
		ret = nm_tx_fill(p, x, n, &slots);
	}
	if (slots && ioctl(p->fd, NIOCTXSYNC, NULL) < 0)
		NB_LOG_RL(NETBE_LOG_WARN, "netmap %s: NIOCTXSYNC failed: %s; the queued frames go out with the next sync",
			  p->port, strerror(errno));
	if (ret == -EIO)
		return NB_ERR_RL(-EIO, "netmap %s: transmit ring is inconsistent (head %u cur %u tail %u of %u slots)",
				 p->port, p->tx.d.head, p->tx.d.cur, p->tx.d.tail,
				 p->tx.d.num_slots);
	return ret;
}

const struct netbe_backend netbe_backend_netmap = {
	.name = "netmap",
	.help = "an interface in netmap mode (or any netmap port) through /dev/netmap; virtio-net header offloads on VALE ports",
	.name_help = "the interface (e.g. eth0) or netmap port name",
	.name_use = NETBE_NAME_REQUIRED,
	.keys = nm_netmap_keys,
	.priv_size = sizeof(struct nm_priv),
	.open = nm_open_netmap,
	.close = nm_close,
	.send = nm_send,
	.recv = nm_recv,
};

const struct netbe_backend netbe_backend_vale = {
	.name = "vale",
	.help = "a port of a VALE software switch (netmap), created on open; GSO and checksum offloads pass through with the virtio-net header",
	.name_help = "the VALE port valeSWITCH:PORT (e.g. vale0:1); the bhyve form vale0:1 works on its own",
	.name_use = NETBE_NAME_REQUIRED,
	.keys = nm_vale_keys,
	.priv_size = sizeof(struct nm_priv),
	.open = nm_open_vale,
	.close = nm_close,
	.send = nm_send,
	.recv = nm_recv,
};
