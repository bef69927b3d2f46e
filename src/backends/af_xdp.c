/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * af_xdp.c - the AF_XDP backend: an existing Linux interface (a veth end, a
 * NIC queue) through an XDP socket and its shared-memory rings (libxdp).
 *
 * Theory of operation. open() maps a UMEM of XDP_NFRAMES frames of
 * XDP_FRAME_SIZE bytes, registers it (xsk_umem__create: fill and completion
 * rings) and binds one XDP socket to IFNAME's queue (xsk_socket__create: rx
 * and tx rings). libxdp attaches its default XDP program, which redirects
 * every frame arriving on that queue to the socket, and detaches it again
 * when the last socket on the interface goes (xsk_socket__delete).
 *
 * The UMEM is split once and for all: the first half of the frames belongs
 * to the receive side, the second half to the transmit side, so the two
 * directions share no state and one thread may send while another receives
 * with no lock (backend.h's threading contract).
 *  - Receive: every rx frame starts on the fill ring; the kernel copies an
 *    arriving frame into one and posts it on the rx ring; recv() copies it
 *    into core's buffers and puts the frame straight back on the fill ring.
 *    The fill ring is twice the rx half, so it has room for every frame
 *    even though the kernel tells late how far it read (XDP_FILL_SIZE);
 *    recv() still takes no more frames than it can put back.
 *  - Transmit: a stack of free tx frames; send() pops one per frame, copies
 *    the frame in and posts it on the tx ring; the kernel returns it on the
 *    completion ring once sent, and send() reclaims completions before
 *    taking frames. No free frame or a full tx ring after reclaiming is
 *    -EAGAIN; core then waits for the socket to be writable.
 * A UMEM frame holds at most XDP_FRAME_SIZE bytes (less the kernel's
 * XDP_PACKET_HEADROOM on receive), so be->tx_max/rx_max say so (tx_max
 * also follows the interface's MTU, read once at open): core hands send() no frame longer
 * than tx_max (core_tx_send() is the one place it transmits), and since
 * this backend does no offloads (native_caps 0) core segments TSO frames
 * in software at a segment size lowered to fit tx_max when the guest's
 * gso_size is larger, so send() copies without checking.
 *
 * need_wakeup (XDP_USE_NEED_WAKEUP) lets the kernel say when it wants a
 * syscall: send() kicks the tx ring with sendto() and recv() the fill ring
 * with recvfrom() only when xsk_ring_prod__needs_wakeup() says so, once per
 * batch. In copy mode one sendto() moves a bounded number of frames (32),
 * so the kick repeats while the kernel reports more work (EAGAIN) or a
 * frame it dropped (EBUSY) and frames are left on the tx ring.
 *
 * busy_poll=USEC turns on preferred busy polling (SO_PREFER_BUSY_POLL,
 * SO_BUSY_POLL, a budget of 64 frames), as DPDK's af_xdp driver does by
 * default: recv() then calls recvfrom() even on an empty ring, which runs
 * the queue's NAPI (on veth: the XDP program and the copy into the UMEM)
 * on the caller's thread instead of in the sender's softirq. On this
 * project's veth bench it moves TCP from 2.4 to 3.2 Gbit/s (bench/suite.sh).
 *
 * The kernel reports neither a deleted interface nor its own drops through
 * poll(), so a one-second timer on the caller's loop reads SO_ERROR (set to
 * ENETDOWN when the interface is unregistered) and XDP_STATISTICS: a gone
 * interface makes the next recv()/send() fail with -ENODEV (the timer kicks
 * both sides so the frontend asks), drops are counted as rx_overflow or
 * rx_too_big, and a stalled transmit side (tx ring full while the link was
 * down) is kicked again.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "backend.h"
#include "iov.h"
#include "log.h"
#include "ring_copy.h"
#include "spec.h"

#define XDP_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE   /* 4 KiB */
#define XDP_NFRAMES 4096u
#define XDP_HALF (XDP_NFRAMES / 2)                   /* frames per side */
#define XDP_RING_SIZE XDP_HALF                       /* rx, tx, completion */
/* The kernel publishes how far it read the fill ring lazily (after using up
 * everything it saw last time), so the ring may look up to twice as full
 * as the receive half: twice as large, it never refuses a frame. */
#define XDP_FILL_SIZE (2 * XDP_HALF)
#define XDP_RX_MAX (XDP_FRAME_SIZE - XDP_PACKET_HEADROOM)
/* sendto() calls per kick at most: the kernel's copy-mode budget is 32
 * frames per call, a burst is NETBE_BURST frames, plus retries past drops */
#define XDP_KICK_TRIES (NETBE_BURST / 32 + 4)
#define XDP_TIMER_NS 1000000000ull
#define XDP_BUSY_POLL_MAX_US 10000u
#define XDP_BUSY_POLL_BUDGET 64    /* frames per busy poll, DPDK's default */

enum xdp_mode { XDP_MODE_NATIVE_KEY, XDP_MODE_SKB_KEY };

struct xdp_priv {
	char ifname[IFNAMSIZ];
	int fd;
	uint8_t *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *timer;
	int gone;                        /* atomic: the interface was deleted */
	int tx_stalled;                  /* atomic: the last send was refused */
	bool busy_poll;                  /* recv() drives the NAPI itself */
	struct xdp_statistics seen;      /* kernel drop counters already counted */

	/* receive side: touched only by the receiving thread */
	char pad_rx[64];
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;

	/* transmit side: touched only by the sending thread */
	char pad_tx[64];
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	unsigned tx_nfree;
	uint64_t tx_free[XDP_HALF];
};

static const char *const xdp_modes[] = { "native", "skb", NULL };

static const struct netbe_key xdp_keys[] = {
	{ .name = "queue",
	  .help = "N: the interface's receive/transmit queue to bind (default 0)" },
	{ .name = "mode",
	  .help = "native|skb: attach the XDP program in the driver (native) or "
		  "on the generic skb path (skb); default: native where the "
		  "driver has it, else skb" },
	{ .name = "zerocopy",
	  .help = "on|off: insist on (on) or refuse (off) zero-copy; default: "
		  "zero-copy where the driver has it, else copy" },
	{ .name = "busy_poll",
	  .help = "USEC: preferred busy polling (as DPDK's af_xdp does): "
		  "recv() polls the queue's NAPI for up to USEC microseconds, "
		  "so the driver's receive work runs on the caller's thread "
		  "instead of the sender's CPU; 0 off (default 0)" },
	{ .name = NULL }
};

/** xdp_opts - the parsed keys. */
struct xdp_opts {
	uint64_t queue;
	int mode;                 /* enum xdp_mode, -1: the kernel picks */
	int zerocopy;             /* 1 on, 0 off, -1: the kernel picks */
	uint64_t busy_poll_us;    /* 0: off */
};

/**
 * xdp_parse() - read the keys of @spec into @o
 * Return: 0, or -EINVAL with a message naming the key.
 */
static int xdp_parse(const struct netbe_spec *spec, struct xdp_opts *o)
{
	bool zc = false;
	int err = netbe_spec_uint(spec, "queue", 0, 65535, 0, &o->queue);

	if (!err)
		err = netbe_spec_choice(spec, "mode", xdp_modes, -1, &o->mode);
	if (!err)
		err = netbe_spec_bool(spec, "zerocopy", false, &zc);
	if (!err)
		err = netbe_spec_uint(spec, "busy_poll", 0, XDP_BUSY_POLL_MAX_US, 0,
				      &o->busy_poll_us);
	o->zerocopy = netbe_spec_get(spec, "zerocopy") ? zc : -1;
	return err;
}

/**
 * xdp_lib_log() - route a libxdp/libbpf message to netbe's debug log (their
 * default prints to stderr)
 * Return: 0.
 */
__attribute__((format(printf, 2, 0)))
static int xdp_lib_log(int level, const char *fmt, va_list ap)
{
	char line[256];
	size_t len;

	(void)level;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	nb_debug("af_xdp: %s", line);
	return 0;
}

/** xdp_libxdp_log() - libxdp's print hook: xdp_lib_log(). Return: 0. */
__attribute__((format(printf, 2, 0)))
static int xdp_libxdp_log(enum libxdp_print_level level, const char *fmt,
			  va_list ap)
{
	return xdp_lib_log((int)level, fmt, ap);
}

/** xdp_libbpf_log() - libbpf's print hook: xdp_lib_log(). Return: 0. */
__attribute__((format(printf, 2, 0)))
static int xdp_libbpf_log(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	return xdp_lib_log((int)level, fmt, ap);
}

/* The print hooks the caller had; libxdp and libbpf use ours only while
 * netbe calls into them, so a program that uses them itself keeps its own. */
struct xdp_hooks {
	libxdp_print_fn_t xdp;
	libbpf_print_fn_t bpf;
};

/** xdp_hooks_take() - install netbe's print hooks. Return: the old ones. */
static struct xdp_hooks xdp_hooks_take(void)
{
	struct xdp_hooks h = {
		.xdp = libxdp_set_print(xdp_libxdp_log),
		.bpf = libbpf_set_print(xdp_libbpf_log),
	};

	return h;
}

/** xdp_hooks_restore() - put the caller's print hooks back. */
static void xdp_hooks_restore(struct xdp_hooks h)
{
	libxdp_set_print(h.xdp);
	libbpf_set_print(h.bpf);
}

/**
 * xdp_check_ifname() - @name must name an interface of this namespace
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int xdp_check_ifname(const char *name)
{
	if (strlen(name) >= IFNAMSIZ)
		return netbe_errf(-EINVAL, "af_xdp: interface name '%s' is too long - use at most %d characters",
				  name, IFNAMSIZ - 1);
	if (!if_nametoindex(name))
		return netbe_errf(-ENODEV, "af_xdp: no interface '%s' in this network namespace - check the name with 'ip link', or create one (e.g. 'ip link add %s type veth peer name PEER')",
				  name, name);
	return 0;
}

/**
 * xdp_umem_error() - explain a failed UMEM registration
 * Return: @err, with the message recorded.
 */
static int xdp_umem_error(int err, const char *ifname)
{
	if (err == -EPERM || err == -EACCES)
		return netbe_errf(err, "af_xdp %s: cannot create an XDP socket: %s - af_xdp: needs CAP_NET_ADMIN/CAP_BPF: run as root",
				  ifname, strerror(-err));
	if (err == -ENOMEM || err == -ENOBUFS)
		return netbe_errf(err, "af_xdp %s: cannot register the %u MiB frame area: %s - raise the locked-memory limit (ulimit -l) or run as root",
				  ifname, (XDP_NFRAMES * XDP_FRAME_SIZE) >> 20, strerror(-err));
	if (err == -EAFNOSUPPORT)
		return netbe_errf(err, "af_xdp %s: the kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS) - use af_packet:%s",
				  ifname, ifname);
	return netbe_errf(err, "af_xdp %s: cannot register the frame area: %s",
			  ifname, strerror(-err));
}

/**
 * xdp_socket_error() - explain a failed xsk_socket__create()
 * Return: @err, with the message recorded.
 */
static int xdp_socket_error(int err, const char *ifname,
			    const struct xdp_opts *o)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return netbe_errf(err, "af_xdp %s: cannot attach the XDP program: %s - af_xdp: needs CAP_NET_ADMIN/CAP_BPF: run as root",
				  ifname, strerror(-err));
	case -EOPNOTSUPP:
		if (o->zerocopy == 1)
			return netbe_errf(err, "af_xdp %s: the driver has no zero-copy AF_XDP (veth never has) - use zerocopy=off or mode=skb",
					  ifname);
		if (o->mode == XDP_MODE_NATIVE_KEY)
			return netbe_errf(err, "af_xdp %s: the driver has no native XDP - use mode=skb",
					  ifname);
		break;
	case -EINVAL:
		return netbe_errf(err, "af_xdp %s: cannot bind to queue %llu: %s - check the queue exists (ethtool -l %s) and the interface is up",
				  ifname, (unsigned long long)o->queue, strerror(-err), ifname);
	case -EBUSY:
	case -EEXIST:
		return netbe_errf(err, "af_xdp %s: queue %llu is taken: %s - another AF_XDP socket or an XDP program in another mode is attached (see 'ip link show %s'); pick another queue or detach it",
				  ifname, (unsigned long long)o->queue, strerror(-err), ifname);
	default:
		break;
	}
	return netbe_errf(err, "af_xdp %s: cannot create the XDP socket: %s - run with NETBE debug logging to see libxdp's reason",
			  ifname, strerror(-err));
}

/**
 * xdp_socket_config() - the socket configuration the keys ask for
 * Return: the configuration (need_wakeup always on).
 */
static struct xsk_socket_config xdp_socket_config(const struct xdp_opts *o)
{
	struct xsk_socket_config c = {
		.rx_size = XDP_RING_SIZE,
		.tx_size = XDP_RING_SIZE,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};

	if (o->mode == XDP_MODE_NATIVE_KEY)
		c.xdp_flags = XDP_FLAGS_DRV_MODE;
	else if (o->mode == XDP_MODE_SKB_KEY)
		c.xdp_flags = XDP_FLAGS_SKB_MODE;
	if (o->zerocopy == 1)
		c.bind_flags |= XDP_ZEROCOPY;
	else if (o->zerocopy == 0)
		c.bind_flags |= XDP_COPY;
	return c;
}

/**
 * xdp_fill_all() - hand every receive frame to the kernel and stack every
 * transmit frame as free
 */
static void xdp_fill_all(struct xdp_priv *p)
{
	uint32_t idx = 0, i;

	xsk_ring_prod__reserve(&p->fill, XDP_HALF, &idx);
	for (i = 0; i < XDP_HALF; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = (uint64_t)i * XDP_FRAME_SIZE;
	xsk_ring_prod__submit(&p->fill, XDP_HALF);
	for (i = 0; i < XDP_HALF; i++)
		p->tx_free[i] = (uint64_t)(XDP_HALF + i) * XDP_FRAME_SIZE;
	p->tx_nfree = XDP_HALF;
}

/**
 * xdp_set_busy_poll() - turn on preferred busy polling of @usec on the socket
 * Return: 0, or a negative errno with a message naming the option.
 */
static int xdp_set_busy_poll(struct xdp_priv *p, uint64_t usec)
{
	const struct { int opt, val; const char *name; } opts[] = {
		{ SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL" },
		{ SO_BUSY_POLL, (int)usec, "SO_BUSY_POLL" },
		{ SO_BUSY_POLL_BUDGET, XDP_BUSY_POLL_BUDGET, "SO_BUSY_POLL_BUDGET" },
	};
	unsigned i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (setsockopt(p->fd, SOL_SOCKET, opts[i].opt, &opts[i].val,
			       sizeof(opts[i].val)))
			return netbe_errf(-errno, "af_xdp %s: busy_poll: the kernel refused %s: %s - drop busy_poll or run with CAP_NET_ADMIN on Linux >= 5.11",
					  p->ifname, opts[i].name, strerror(errno));
	}
	p->busy_poll = true;
	return 0;
}

/**
 * xdp_create() - map and register the UMEM, bind the socket
 * Return: 0, or a negative errno with a message; on failure whatever was
 * taken is left in @p for xdp_release().
 */
static int xdp_create(struct xdp_priv *p, const struct xdp_opts *o)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = XDP_FILL_SIZE,
		.comp_size = XDP_RING_SIZE,
		.frame_size = XDP_FRAME_SIZE,
		.frame_headroom = 0,
	};
	const struct xsk_socket_config scfg = xdp_socket_config(o);
	size_t len = (size_t)XDP_NFRAMES * XDP_FRAME_SIZE;
	void *area = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err;

	if (area == MAP_FAILED)
		return netbe_errf(-ENOMEM, "af_xdp %s: cannot map %zu MiB for frames: %s",
				  p->ifname, len >> 20, strerror(errno));
	p->area = area;
	err = xsk_umem__create(&p->umem, area, len, &p->fill, &p->comp, &ucfg);
	if (err) {
		p->umem = NULL;
		return xdp_umem_error(err, p->ifname);
	}
	err = xsk_socket__create(&p->xsk, p->ifname, (uint32_t)o->queue, p->umem,
				 &p->rx, &p->tx, &scfg);
	if (err) {
		p->xsk = NULL;
		return xdp_socket_error(err, p->ifname, o);
	}
	p->fd = xsk_socket__fd(p->xsk);
	xdp_fill_all(p);
	return o->busy_poll_us ? xdp_set_busy_poll(p, o->busy_poll_us) : 0;
}

/** xdp_release() - delete the socket (libxdp detaches its program with the
 * last socket), the UMEM and the frame area, whichever exist. */
static void xdp_release(struct xdp_priv *p)
{
	struct xdp_hooks h = xdp_hooks_take();

	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem && xsk_umem__delete(p->umem))
		nb_warn("af_xdp %s: the frame area is still in use", p->ifname);
	xdp_hooks_restore(h);
	if (p->area)
		munmap(p->area, (size_t)XDP_NFRAMES * XDP_FRAME_SIZE);
	p->xsk = NULL;
	p->umem = NULL;
	p->area = NULL;
	p->fd = -1;
}

/**
 * xdp_poll_stats() - count the frames the kernel dropped since the last
 * call: ring full or no fill frame as rx_overflow, the rest (larger than a
 * frame) as rx_too_big
 */
static void xdp_poll_stats(struct netbe *be, struct xdp_priv *p)
{
	struct xdp_statistics s;
	socklen_t len = sizeof(s);
	uint64_t dropped, empty;

	if (getsockopt(p->fd, SOL_XDP, XDP_STATISTICS, &s, &len) || len < sizeof(s))
		return;
	dropped = s.rx_dropped - p->seen.rx_dropped;
	empty = s.rx_fill_ring_empty_descs - p->seen.rx_fill_ring_empty_descs;
	if (empty > dropped)
		empty = dropped;
	netbe_count_drops(be, NETBE_DROP_RX_OVERFLOW,
			  s.rx_ring_full - p->seen.rx_ring_full + empty);
	netbe_count_drops(be, NETBE_DROP_RX_TOO_BIG, dropped - empty);
	p->seen = s;
}

/**
 * xdp_on_timer() - once a second: notice a deleted interface, count the
 * kernel's drops, and retry a transmit side that got stuck
 */
static void xdp_on_timer(void *opaque)
{
	struct netbe *be = opaque;
	struct xdp_priv *p = netbe_priv(be);
	socklen_t len = sizeof(int);
	int err = 0;

	xdp_poll_stats(be, p);
	if (!__atomic_load_n(&p->gone, __ATOMIC_ACQUIRE) &&
	    getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
		nb_debug("af_xdp %s: socket error %s", p->ifname, strerror(err));
		if (err == ENETDOWN || err == ENODEV || err == ENXIO) {
			__atomic_store_n(&p->gone, 1, __ATOMIC_RELEASE);
			netbe_rx_kick(be);
			netbe_tx_kick(be);
			return;
		}
	}
	if (__atomic_load_n(&p->tx_stalled, __ATOMIC_ACQUIRE))
		netbe_tx_kick(be);
}

/**
 * xdp_timer_start() - arm the one-second housekeeping timer
 * Return: 0, or a negative errno with a message.
 */
static int xdp_timer_start(struct netbe *be, struct xdp_priv *p)
{
	const struct netbe_loop_ops *ops = be->loop.ops;
	int err = ops->timer_add(be->loop.loop, xdp_on_timer, be, &p->timer);

	if (!err)
		err = ops->timer_mod(be->loop.loop, p->timer, XDP_TIMER_NS, XDP_TIMER_NS);
	if (err)
		return netbe_errf(err, "af_xdp %s: the loop refused a timer: %s",
				  p->ifname, strerror(-err));
	return 0;
}

/** xdp_timer_stop() - destroy the housekeeping timer if it exists. */
static void xdp_timer_stop(struct netbe *be, struct xdp_priv *p)
{
	if (p->timer)
		be->loop.ops->timer_del(be->loop.loop, p->timer);
	p->timer = NULL;
}

/**
 * xdp_open() - the open op: "af_xdp:IFNAME" with its keys
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int xdp_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct xdp_priv *p = netbe_priv(be);
	struct xdp_hooks h;
	struct xdp_opts o;
	long frame;
	int err;

	p->fd = -1;
	err = xdp_parse(spec, &o);
	if (!err)
		err = xdp_check_ifname(spec->name);
	if (err)
		return err;
	memcpy(p->ifname, spec->name, strlen(spec->name) + 1);
	h = xdp_hooks_take();
	err = xdp_create(p, &o);
	xdp_hooks_restore(h);
	if (!err)
		err = xdp_timer_start(be, p);
	if (err) {
		xdp_timer_stop(be, p);
		xdp_release(p);
		return err;
	}
	be->be_hdr_len = 0;
	be->native_caps = 0;
	be->rx_max = XDP_RX_MAX;
	frame = netbe_if_frame_max(p->ifname);
	/* more than the MTU would only be dropped on the wire (a veth counts
	 * it in tx_dropped); core segments TCP to fit */
	be->tx_max = frame > 0 && frame < XDP_FRAME_SIZE ? (size_t)frame : XDP_FRAME_SIZE;
	be->rx_fd = p->fd;
	be->tx_fd = p->fd;
	be->tx_events = NETBE_EV_OUT;
	nb_debug("af_xdp %s: fd %d, queue %llu, %u frames of %u bytes",
		 p->ifname, p->fd, (unsigned long long)o.queue, XDP_NFRAMES,
		 XDP_FRAME_SIZE);
	return 0;
}

/** xdp_close() - the close op: stop the timer, release socket and UMEM. */
static void xdp_close(struct netbe *be)
{
	struct xdp_priv *p = netbe_priv(be);

	xdp_timer_stop(be, p);
	xdp_release(p);
}

/**
 * xdp_gone() - the interface was deleted
 * Return: -ENODEV with a (rate-limited) message naming it.
 */
static int xdp_gone(struct xdp_priv *p)
{
	return NB_ERR_RL(-ENODEV, "af_xdp %s: the interface was deleted",
			 p->ifname);
}

/* ------------------------------------------------------------------------ */
/* Receive                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * xdp_refill() - put the frames of @n received descriptors from @first
 * back on the fill ring (the caller checked there is room), and wake the
 * kernel if it asks for it
 */
static void xdp_refill(struct xdp_priv *p, uint32_t first, unsigned n)
{
	uint32_t idx = 0, i;

	xsk_ring_prod__reserve(&p->fill, n, &idx);
	for (i = 0; i < n; i++) {
		uint64_t addr = xsk_ring_cons__rx_desc(&p->rx, first + i)->addr;

		*xsk_ring_prod__fill_addr(&p->fill, idx + i) =
			addr - addr % XDP_FRAME_SIZE;
	}
	xsk_ring_prod__submit(&p->fill, n);
	if (xsk_ring_prod__needs_wakeup(&p->fill))
		recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/**
 * xdp_recv() - the recv op: copy up to @n frames off the rx ring
 * Return: frames received (0 when none is pending), or -ENODEV when the
 * interface was deleted.
 */
static int xdp_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct xdp_priv *p = netbe_priv(be);
	enum netbe_drop_reason why;
	uint32_t first = 0, got, i;
	unsigned k = 0;

	if (__atomic_load_n(&p->gone, __ATOMIC_ACQUIRE))
		return xdp_gone(p);
	got = xsk_prod_nb_free(&p->fill, n);
	if (got > n)
		got = n;
	got = xsk_ring_cons__peek(&p->rx, got, &first);
	if (!got) {
		if (p->busy_poll || xsk_ring_prod__needs_wakeup(&p->fill))
			recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	for (i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, first + i);

		if (rc_xdp_desc_copy(p->area, (uint64_t)XDP_HALF * XDP_FRAME_SIZE,
				     XDP_FRAME_SIZE, d->addr, d->len, &x[k], &why))
			k++;
		else
			netbe_count_drop(be, why);
	}
	xdp_refill(p, first, got);
	xsk_ring_cons__release(&p->rx, got);
	return (int)k;
}

/* ------------------------------------------------------------------------ */
/* Transmit                                                                 */
/* ------------------------------------------------------------------------ */

/** xdp_reclaim() - take the frames the kernel completed back as free. */
static void xdp_reclaim(struct xdp_priv *p)
{
	uint32_t idx = 0, i;
	uint32_t done = xsk_ring_cons__peek(&p->comp, XDP_RING_SIZE, &idx);

	for (i = 0; i < done && p->tx_nfree < XDP_HALF; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&p->comp, idx + i);

		p->tx_free[p->tx_nfree++] = addr - addr % XDP_FRAME_SIZE;
	}
	if (done)
		xsk_ring_cons__release(&p->comp, done);
}

/** xdp_tx_ring_empty() - has the kernel taken every posted descriptor?
 * Return: true when it has. */
static bool xdp_tx_ring_empty(struct xdp_priv *p)
{
	return xsk_prod_nb_free(&p->tx, XDP_RING_SIZE) == XDP_RING_SIZE;
}

/**
 * xdp_kick_tx() - make the kernel transmit what is on the tx ring, when it
 * asks for a wakeup. In copy mode one sendto() moves at most 32 frames and
 * stops at a frame the device dropped, so it repeats while frames are left.
 * Return: 0, or -ENODEV when the interface is gone.
 */
static int xdp_kick_tx(struct xdp_priv *p)
{
	unsigned tries;

	if (!xsk_ring_prod__needs_wakeup(&p->tx))
		return 0;
	for (tries = 0; tries < XDP_KICK_TRIES; tries++) {
		if (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return 0;
		switch (errno) {
		case EAGAIN:
		case EBUSY:
		case EINTR:
			if (xdp_tx_ring_empty(p))
				return 0;
			continue;
		case ENXIO:
		case ENODEV:
			__atomic_store_n(&p->gone, 1, __ATOMIC_RELEASE);
			return xdp_gone(p);
		case ENETDOWN:
			/* the frames wait on the ring; the timer retries */
			return 0;
		default:
			NB_LOG_RL(NETBE_LOG_WARN, "af_xdp %s: transmit kick failed: %s",
				  p->ifname, strerror(errno));
			return 0;
		}
	}
	return 0;
}

/**
 * xdp_post() - copy frame @x into a free UMEM frame and post it at tx ring
 * slot @idx
 */
static void xdp_post(struct xdp_priv *p, uint32_t idx, struct netbe_xfer *x)
{
	struct xdp_desc *d = xsk_ring_prod__tx_desc(&p->tx, idx);
	uint64_t addr = p->tx_free[--p->tx_nfree];

	iov_to_buf(x->iov, x->iovcnt, 0, p->area + addr, x->len);
	d->addr = addr;
	d->len = (uint32_t)x->len;
	d->options = 0;
}

/**
 * xdp_room() - how many of @n frames can go out now: free UMEM frames and
 * tx ring slots, after reclaiming completions (and one kick when none)
 * Return: a count (0 when full), or -ENODEV when the interface is gone.
 */
static int xdp_room(struct xdp_priv *p, unsigned n)
{
	uint32_t slots;
	int err;

	xdp_reclaim(p);
	slots = xsk_prod_nb_free(&p->tx, n);
	if (!p->tx_nfree || !slots) {
		err = xdp_kick_tx(p);
		if (err)
			return err;
		xdp_reclaim(p);
		slots = xsk_prod_nb_free(&p->tx, n);
	}
	if (slots < n)
		n = slots;
	if (p->tx_nfree < n)
		n = p->tx_nfree;
	return (int)n;
}

/**
 * xdp_send() - the send op: post up to @n frames, one kick for the batch
 * Return: frames consumed (x[i].err 0; oversized frames were dropped by
 * core before), -EAGAIN when no frame or slot is free, or -ENODEV when the
 * interface is gone.
 */
static int xdp_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct xdp_priv *p = netbe_priv(be);
	uint32_t idx = 0, i;
	int m;

	if (__atomic_load_n(&p->gone, __ATOMIC_ACQUIRE))
		return xdp_gone(p);
	m = xdp_room(p, n);
	if (m <= 0) {
		if (!m)
			__atomic_store_n(&p->tx_stalled, 1, __ATOMIC_RELEASE);
		return m ? m : -EAGAIN;
	}
	xsk_ring_prod__reserve(&p->tx, (uint32_t)m, &idx);
	for (i = 0; i < (uint32_t)m; i++) {
		x[i].err = 0;
		xdp_post(p, idx + i, &x[i]);
	}
	xsk_ring_prod__submit(&p->tx, (uint32_t)m);
	__atomic_store_n(&p->tx_stalled, 0, __ATOMIC_RELAXED);
	/* a gone interface fails the next call; these frames were consumed */
	xdp_kick_tx(p);
	return m;
}

const struct netbe_backend netbe_backend_af_xdp = {
	.name = "af_xdp",
	.help = "an existing Linux interface (veth, NIC queue) through an AF_XDP socket (libxdp): UMEM rings, need_wakeup, copy or zero-copy",
	.name_help = "interface to attach to (e.g. veth1); it must exist in this network namespace",
	.name_use = NETBE_NAME_REQUIRED,
	.keys = xdp_keys,
	.priv_size = sizeof(struct xdp_priv),
	.open = xdp_open,
	.close = xdp_close,
	.send = xdp_send,
	.recv = xdp_recv,
};
