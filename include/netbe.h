/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netbe.h - public API of libnetbe, the embeddable network backend library.
 *
 * A frontend (a VMM's virtio-net or e1000 model, or the netbe CLI) opens a
 * backend from a spec string ("tap:tap0", "slirp", "pair:x", ...) and moves
 * Ethernet frames through it, optionally prefixed by a virtio-net header.
 *
 * Conventions, everywhere in this API:
 *  - a return value >= 0 is success, a negative errno is failure;
 *  - every failure of a public call leaves a one-line human message, which
 *    netbe_last_error() returns (per thread) and which is also passed to the
 *    log hook at NETBE_LOG_ERR (data-path failures are rate-limited);
 *  - the library never runs a loop or a thread of its own: it registers fds
 *    and timers with the caller's loop through struct netbe_loop.
 */
#ifndef NETBE_H
#define NETBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NETBE_EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------------ */
/* virtio-net feature bits and headers (virtio 1.2, section 5.1.3)          */
/* ------------------------------------------------------------------------ */

#define NETBE_F_CSUM        (1ULL << 0)  /* device takes partial csum from us */
#define NETBE_F_GUEST_CSUM  (1ULL << 1)  /* frontend takes partial csum */
#define NETBE_F_GUEST_TSO4  (1ULL << 7)
#define NETBE_F_GUEST_TSO6  (1ULL << 8)
#define NETBE_F_GUEST_ECN   (1ULL << 9)
#define NETBE_F_GUEST_UFO   (1ULL << 10)
#define NETBE_F_HOST_TSO4   (1ULL << 11)
#define NETBE_F_HOST_TSO6   (1ULL << 12)
#define NETBE_F_HOST_ECN    (1ULL << 13)
#define NETBE_F_HOST_UFO    (1ULL << 14)
#define NETBE_F_MRG_RXBUF   (1ULL << 15)
#define NETBE_F_GUEST_USO4  (1ULL << 54)
#define NETBE_F_GUEST_USO6  (1ULL << 55)
#define NETBE_F_HOST_USO    (1ULL << 56)

/* Offloads the frontend may hand to the backend (transmit direction). */
#define NETBE_F_HOST_OFFLOADS (NETBE_F_CSUM | NETBE_F_HOST_TSO4 | \
	NETBE_F_HOST_TSO6 | NETBE_F_HOST_ECN | NETBE_F_HOST_UFO | \
	NETBE_F_HOST_USO)
/* Offloads the backend may hand to the frontend (receive direction). */
#define NETBE_F_GUEST_OFFLOADS (NETBE_F_GUEST_CSUM | NETBE_F_GUEST_TSO4 | \
	NETBE_F_GUEST_TSO6 | NETBE_F_GUEST_ECN | NETBE_F_GUEST_UFO | \
	NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6)

#define NETBE_HDR_F_NEEDS_CSUM 1
#define NETBE_HDR_F_DATA_VALID 2

#define NETBE_GSO_NONE    0
#define NETBE_GSO_TCPV4   1
#define NETBE_GSO_UDP     3
#define NETBE_GSO_TCPV6   4
#define NETBE_GSO_UDP_L4  5
#define NETBE_GSO_ECN     0x80

/* The virtio-net header in its three sizes: 10 bytes (legacy, no
 * MRG_RXBUF), 12 bytes (num_buffers; virtio 1.x) and 20 bytes (hash report).
 * Fields are little-endian on the wire (virtio 1.x). */
struct netbe_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;      /* present when the header is >= 12 bytes */
	uint32_t hash_value;       /* present when the header is 20 bytes */
	uint16_t hash_report;
	uint16_t padding_reserved;
};

#define NETBE_VNET_HDR_LEN_LEGACY 10
#define NETBE_VNET_HDR_LEN_MRG    12
#define NETBE_VNET_HDR_LEN_HASH   20

/* ------------------------------------------------------------------------ */
/* Errors and logging                                                       */
/* ------------------------------------------------------------------------ */

enum netbe_log_level {
	NETBE_LOG_ERR = 0,
	NETBE_LOG_WARN = 1,
	NETBE_LOG_INFO = 2,
	NETBE_LOG_DEBUG = 3,
};

typedef void (*netbe_log_fn)(void *opaque, enum netbe_log_level level,
			     const char *msg);

/**
 * netbe_set_log() - install the log hook (process-wide)
 * @fn: called with one formatted line (no trailing newline); NULL restores
 *      the default, which prints "netbe: MSG" to stderr
 * @opaque: passed back to @fn
 * @level: messages above this level are not formatted at all
 */
NETBE_EXPORT void netbe_set_log(netbe_log_fn fn, void *opaque,
				enum netbe_log_level level);

/**
 * netbe_last_error() - the message of the last failed call on this thread
 *
 * Return: a NUL-terminated one-line message, "" if no call failed yet. Valid
 * until the next failing call on the same thread.
 */
NETBE_EXPORT const char *netbe_last_error(void);

/* ------------------------------------------------------------------------ */
/* Loop adapter: how the library asks the caller to watch fds and timers    */
/* ------------------------------------------------------------------------ */

#define NETBE_EV_IN   0x001u   /* same values as POLLIN/POLLOUT/POLLERR/POLLHUP */
#define NETBE_EV_OUT  0x004u
#define NETBE_EV_ERR  0x008u
#define NETBE_EV_HUP  0x010u

typedef void (*netbe_watch_fn)(void *opaque, int fd, unsigned revents);
typedef void (*netbe_timer_fn)(void *opaque);

/*
 * The operations a loop provides. All are called from the thread that owns
 * the loop, or from netbe_open()/netbe_close(). Handles are opaque to
 * netbe. Return >= 0 or a negative errno.
 */
struct netbe_loop_ops {
	/* Start watching @fd, initially for no events. */
	int (*watch_add)(void *loop, int fd, netbe_watch_fn fn, void *opaque,
			 void **handle);
	/* Replace the event mask (NETBE_EV_IN|NETBE_EV_OUT, 0 = disabled).
	 * Watches are level-triggered. */
	int (*watch_mod)(void *loop, void *handle, unsigned events);
	/* Stop watching; @fn is not called again once this returns. */
	void (*watch_del)(void *loop, void *handle);
	/* Create a disarmed timer. */
	int (*timer_add)(void *loop, netbe_timer_fn fn, void *opaque,
			 void **handle);
	/* Fire after @delay_ns, then every @period_ns if non-zero.
	 * @delay_ns == 0 disarms. */
	int (*timer_mod)(void *loop, void *handle, uint64_t delay_ns,
			 uint64_t period_ns);
	/* Destroy; @fn is not called again once this returns. */
	void (*timer_del)(void *loop, void *handle);
};

struct netbe_loop {
	const struct netbe_loop_ops *ops;
	void *loop;
};

/* The built-in epoll implementation of the loop adapter. */
struct netbe_epoll;

/**
 * netbe_epoll_new() - create a built-in epoll loop
 * Return: 0 and *@ep set, or -ENOMEM / -EMFILE / -EINVAL.
 */
NETBE_EXPORT int netbe_epoll_new(struct netbe_epoll **ep);
/** netbe_epoll_free() - destroy the loop; NULL is a no-op. */
NETBE_EXPORT void netbe_epoll_free(struct netbe_epoll *ep);
/** netbe_epoll_loop() - the adapter to pass to netbe_open(); never NULL. */
NETBE_EXPORT const struct netbe_loop *netbe_epoll_loop(struct netbe_epoll *ep);
/**
 * netbe_epoll_fd() - an fd that is readable when netbe_epoll_dispatch()
 * has work, so the loop can be nested in the caller's own poll/epoll loop.
 * Return: the fd, or -EINVAL for a NULL loop.
 */
NETBE_EXPORT int netbe_epoll_fd(struct netbe_epoll *ep);
/**
 * netbe_epoll_dispatch() - wait up to @timeout_ms (-1 forever, 0 not at
 * all) and run the callbacks of ready fds and expired timers once.
 * Return: number of callbacks run (>= 0), or a negative errno; -EINTR when
 * a signal interrupted the wait.
 */
NETBE_EXPORT int netbe_epoll_dispatch(struct netbe_epoll *ep, int timeout_ms);
/**
 * netbe_epoll_run() - dispatch until netbe_epoll_stop() is called.
 * Return: 0 after a stop, or a negative errno other than -EINTR.
 */
NETBE_EXPORT int netbe_epoll_run(struct netbe_epoll *ep);
/**
 * netbe_epoll_set_busy_poll() - after callbacks ran, keep polling without
 * sleeping for up to @usec microseconds before netbe_epoll_run() blocks
 * again, the way poll-mode drivers work: no wake-up per burst (which costs
 * the sending CPU an inter-processor interrupt) at the price of a CPU
 * spinning while traffic flows; an idle loop still sleeps. 0 (the default)
 * turns it off.
 * Return: 0, or -EINVAL for a NULL loop or @usec above 1000000.
 */
NETBE_EXPORT int netbe_epoll_set_busy_poll(struct netbe_epoll *ep, unsigned usec);
/** netbe_epoll_stop() - make netbe_epoll_run() return; async-signal-safe. */
NETBE_EXPORT void netbe_epoll_stop(struct netbe_epoll *ep);

/* ------------------------------------------------------------------------ */
/* Handles                                                                  */
/* ------------------------------------------------------------------------ */

struct netbe;
typedef struct netbe net_backend_t;   /* bhyve spelling */

/* Called from the loop when frames may be pending (not after rx_disable). */
typedef void (*netbe_rx_fn)(struct netbe *be, void *opaque);
/* Called from the loop when a send that returned -EAGAIN may now succeed
 * (from the tx loop with NETBE_CFG_TX_LOOP). */
typedef void (*netbe_tx_fn)(struct netbe *be, void *opaque);

/* Called from the loop when the link goes up or down (a stream peer
 * connected or went away), so a frontend can update VIRTIO_NET_S_LINK_UP. */
typedef void (*netbe_link_fn)(struct netbe *be, int up, void *opaque);

/*
 * NETBE_CFG_RX_INLINE - the frontend sends on the thread that runs its
 * loop and takes rx_cb calls from inside its own netbe_send() /
 * netbe_send_burst() on this handle. A backend that answers sent frames
 * at once (slirp: ARP, and the ACK for every TCP segment) then hands each
 * answer to rx_cb before the next frame of the burst is processed, after
 * the send's locks are dropped, instead of waking the loop. For TCP
 * through slirp that is the difference between the guest getting its
 * window back within the send and a loop round later, as with QEMU's
 * built-in slirp. rx_cb is never re-entered: an answer to a send made
 * from inside rx_cb waits for the loop; rx_disable holds these calls too.
 */
#define NETBE_CFG_RX_INLINE (1u << 0)

/*
 * NETBE_CFG_TX_LOOP - the handle's transmit side has its own loop,
 * cfg->tx_loop, so that the sending thread and the receiving thread can
 * each run a loop (`netbe patch --threads 2`: one thread per direction).
 * The loop passed to netbe_open() (the main loop) then watches the
 * receive side: rx_fd for input and the receive kick, and it runs rx_cb,
 * link_cb and the backend's own watches and timers. cfg->tx_loop watches
 * the transmit side: tx_fd while a send waits after -EAGAIN (the same fd
 * as rx_fd for a tap: it is then watched by both loops, each for its own
 * events), a second kick eventfd, and the transmit direction's rate
 * limit and fault delay timers; it runs tx_cb. The receive direction's
 * timers stay on the main loop. So rx_cb always runs
 * on the main loop's thread and tx_cb on the tx loop's thread, and a
 * frontend that sends only from the tx loop's thread (from tx_cb, or from
 * callbacks of other handles on that loop) has each direction on one
 * thread. A send that gets -EAGAIN on another thread arms the wait
 * through the kick, and a backend replacing its fds (stream: a peer
 * connected or left) hands the new tx fd over the same way, so each
 * loop's adapter is called only from its own thread (and from
 * netbe_open() and netbe_close()). The handle then holds one more fd, a
 * duplicate of the tx fd, while it has one.
 * The two loops may be the same loop. Excludes NETBE_CFG_RX_INLINE, which
 * runs rx_cb on the sending thread. Without this flag the handle has one
 * loop and one kick eventfd, and cfg->tx_loop is not read.
 */
#define NETBE_CFG_TX_LOOP (1u << 1)

/*
 * The struct grows only at its end, and fields after flags are read only
 * when a flag says so: a program built against the shorter struct never
 * sets those flags, so its struct is never read past flags.
 */
struct netbe_config {
	netbe_rx_fn rx_cb;        /* may be NULL: poll with netbe_recv() */
	netbe_tx_fn tx_cb;        /* may be NULL */
	void *opaque;             /* passed to every callback */
	netbe_link_fn link_cb;    /* may be NULL */
	unsigned flags;           /* NETBE_CFG_*; 0 for the defaults */
	/* with NETBE_CFG_TX_LOOP: the loop of the transmit side (above) */
	const struct netbe_loop *tx_loop;
};

/**
 * netbe_open() - open a backend from a spec string
 * @bep: receives the handle on success, NULL on failure
 * @spec: "TYPE[:NAME][,key=value...]" (see doc/spec.md), or a bhyve form
 *        ("tap0", "vmnet0", "valeX:Y")
 * @cfg: callbacks; NULL means none
 * @loop: the caller's loop adapter; required (the main loop; see
 *        NETBE_CFG_TX_LOOP for a second one)
 *
 * The handle starts with receive callbacks disabled (call netbe_rx_enable())
 * and with no features negotiated and no virtio-net header (call
 * netbe_set_cap() to change that).
 * Return: 0, or -EINVAL for a bad spec (message names the type or key and
 * lists the accepted ones), unknown @cfg flags, NETBE_CFG_TX_LOOP without
 * a complete cfg->tx_loop or with NETBE_CFG_RX_INLINE, or another negative
 * errno from the backend.
 */
NETBE_EXPORT int netbe_open(struct netbe **bep, const char *spec,
			    const struct netbe_config *cfg,
			    const struct netbe_loop *loop);

/** netbe_close() - close a handle; NULL is a no-op. Nothing is called back
 * once this returns. */
NETBE_EXPORT void netbe_close(struct netbe *be);

/**
 * netbe_link_is_up() - whether frames can reach a peer now
 * Return: 1 up, 0 down (a stream backend without a connected peer), or
 * -EINVAL for NULL. Backends without a notion of link are always up.
 * Safe from any thread.
 */
NETBE_EXPORT int netbe_link_is_up(struct netbe *be);

/**
 * netbe_set_link_admin() - the operator's side of the link (QEMU's
 * set_link): while it is down (@up 0) frames both ways are dropped and
 * counted (tx_link_down, rx_link_down) and the frontend sees the link down
 * (netbe_link_is_up(), link_cb). Handles start up. Call from the loop's
 * thread; link_cb runs from inside this call when the link changes.
 * Return: 0, or -EINVAL for a NULL handle or @up other than 0 or 1.
 */
NETBE_EXPORT int netbe_set_link_admin(struct netbe *be, int up);

/** netbe_get_link_admin() - the operator's side of the link.
 * Return: 1 up, 0 down, or -EINVAL for a NULL handle. */
NETBE_EXPORT int netbe_get_link_admin(struct netbe *be);

/** netbe_name() - the backend type of the handle ("tap", "slirp", ...);
 * "" for NULL. */
NETBE_EXPORT const char *netbe_name(const struct netbe *be);

/**
 * netbe_get_cap() - the feature bits the frontend may negotiate
 * Return: a NETBE_F_* mask; 0 for NULL.
 */
NETBE_EXPORT uint64_t netbe_get_cap(struct netbe *be);

/**
 * netbe_set_cap() - fix the negotiated features and the frontend's header
 * @features: a subset of netbe_get_cap()
 * @vnet_hdr_len: 0, 10, 12 or 20; must be non-zero when @features has any
 *                offload bit
 * Return: 0, or -EINVAL (not a subset, bad length), or a backend errno.
 */
NETBE_EXPORT int netbe_set_cap(struct netbe *be, uint64_t features,
			       unsigned vnet_hdr_len);

/** netbe_get_vnet_hdr_len() - the frontend header length last set; 0 for
 * NULL. */
NETBE_EXPORT size_t netbe_get_vnet_hdr_len(struct netbe *be);

/**
 * netbe_send() - send one frame
 * @iov: the frame, preceded by the negotiated virtio-net header; the header
 *       may span segments
 * Return: the number of bytes consumed (header included); -EAGAIN when the
 * backend cannot take it now, or the tx rate limit has no tokens for it
 * (keep the frame; tx_cb fires when it may succeed); another negative
 * errno on failure. A frame that is malformed is
 * dropped, counted under its reason, and reported as consumed.
 */
NETBE_EXPORT ssize_t netbe_send(struct netbe *be, const struct iovec *iov,
				int iovcnt);

/**
 * netbe_recv() - receive one frame into @iov
 * Return: the frame length including the frontend header; 0 when nothing
 * is pending; -EMSGSIZE when @iov is too small (the frame stays queued:
 * see netbe_peek_recvlen()); another negative errno on failure.
 */
NETBE_EXPORT ssize_t netbe_recv(struct netbe *be, const struct iovec *iov,
				int iovcnt);

/**
 * netbe_peek_recvlen() - length of the next frame, header included
 * Return: exactly what the next netbe_recv() with enough room returns; 0
 * when nothing is pending; negative errno on failure.
 */
NETBE_EXPORT ssize_t netbe_peek_recvlen(struct netbe *be);

/**
 * netbe_rx_discard() - drop the next pending frame (counted as
 * "rx_discarded")
 * Return: its length with header, 0 if nothing was pending, or -errno.
 */
NETBE_EXPORT ssize_t netbe_rx_discard(struct netbe *be);

/** netbe_rx_enable() - let the rx callback fire again; if frames are
 * already pending it fires from the loop soon. */
NETBE_EXPORT void netbe_rx_enable(struct netbe *be);
/** netbe_rx_disable() - once this returns, the rx callback is not called
 * until netbe_rx_enable(). */
NETBE_EXPORT void netbe_rx_disable(struct netbe *be);

/* A frame in a burst call: the caller fills iov/iovcnt, the call sets
 * result (bytes for a frame moved, or a negative errno). */
struct netbe_frame {
	const struct iovec *iov;
	int iovcnt;
	ssize_t result;
};

/**
 * netbe_send_burst() - send up to @n frames with as few syscalls as the
 * backend allows
 * Return: the number of frames consumed from the front of @frames (sent, or
 * dropped and counted: see each result); -EAGAIN when not even the first
 * could be taken; another negative errno on a hard failure of the first.
 */
NETBE_EXPORT int netbe_send_burst(struct netbe *be, struct netbe_frame *frames,
				  unsigned n);

/**
 * netbe_recv_burst() - receive up to @n frames
 * Return: the number of frames received into the front of @frames (their
 * results hold the lengths); 0 when none is pending; -EMSGSIZE when the
 * first frame does not fit its buffers (it stays queued).
 */
NETBE_EXPORT int netbe_recv_burst(struct netbe *be, struct netbe_frame *frames,
				  unsigned n);

/* ------------------------------------------------------------------------ */
/* Counters                                                                 */
/* ------------------------------------------------------------------------ */

enum netbe_drop_reason {
	NETBE_DROP_TX_BAD_HDR,      /* header fields do not make sense */
	NETBE_DROP_TX_OFFLOAD,      /* offload the frontend did not negotiate */
	NETBE_DROP_TX_RUNT,         /* shorter than header + Ethernet header */
	NETBE_DROP_TX_TOO_BIG,      /* larger than the backend can carry */
	NETBE_DROP_TX_ERROR,        /* the backend failed to send it */
	NETBE_DROP_RX_BAD_HDR,      /* backend header does not make sense */
	NETBE_DROP_RX_OFFLOAD,      /* offload the frontend did not negotiate */
	NETBE_DROP_RX_RUNT,         /* frame shorter than an Ethernet header */
	NETBE_DROP_RX_DISCARDED,    /* netbe_rx_discard() */
	NETBE_DROP_RX_OVERFLOW,     /* backend queue full (slirp, pair) */
	NETBE_DROP_RX_FOREIGN,      /* from a source that is not the peer */
	NETBE_DROP_RX_TOO_BIG,      /* larger than any frame (truncated) */
	NETBE_DROP_RX_BAD_FRAMING,  /* stream length prefix 0 or too large,
				     * or a frame cut by the end of the stream */
	NETBE_DROP_TX_FRAGMENT,     /* IP fragment that cannot be reassembled
				     * (overlap, timeout, too many in flight)
				     * for a backend that needs whole packets */
	NETBE_DROP_TX_SPOOFED,      /* source MAC other than the handle's mac= */
	NETBE_DROP_TX_LINK_DOWN,    /* sent while the operator set the link down */
	NETBE_DROP_RX_LINK_DOWN,    /* received while the operator set it down */
	NETBE_DROP_TX_FAULT_LOSS,   /* fault injection: tx_loss */
	NETBE_DROP_RX_FAULT_LOSS,   /* fault injection: rx_loss */
	NETBE_DROP_TX_FAULT_OVERFLOW, /* fault injection: the tx delay queue
				     * was full (NETBE_FAULT_QUEUE_FRAMES/BYTES) */
	NETBE_DROP_RX_FAULT_OVERFLOW, /* fault injection: the rx delay queue
				     * was full */
	NETBE_DROP_FAULT_CLOSED,    /* fault injection: still delayed when
				     * the handle was closed */
	NETBE_DROP__MAX
};

/* Room for drop reasons in struct netbe_stats: reasons added later take
 * slots that older programs already have (they read as 0 before). */
#define NETBE_DROP_SLOTS 64

/*
 * The handle's counters. The struct grows only at its end: counters added
 * later are appended after the last field, and new drop reasons take free
 * slots of drops[]. netbe_stats_read() takes the caller's size, so a program
 * built against an older or newer header reads the fields both know.
 * Bytes exclude virtio-net headers.
 */
struct netbe_stats {
	uint64_t tx_frames, tx_bytes;     /* handed to the backend */
	uint64_t rx_frames, rx_bytes;     /* handed to the frontend */
	uint64_t tx_eagain;               /* sends refused with -EAGAIN */
	uint64_t peers_refused;           /* connecting peers turned away
					   * (one already connected, or out
					   * of file descriptors) */
	uint64_t drops[NETBE_DROP_SLOTS]; /* by enum netbe_drop_reason */
	/* fault injection (netbe_set_faults()), per direction: frames held
	 * in the delay queue, held back for the next to overtake, sent or
	 * delivered twice, with one bit flipped */
	uint64_t tx_fault_delayed, tx_fault_reordered;
	uint64_t tx_fault_duplicated, tx_fault_corrupted;
	uint64_t rx_fault_delayed, rx_fault_reordered;
	uint64_t rx_fault_duplicated, rx_fault_corrupted;
	uint64_t tx_throttled;            /* times the tx rate limit held
					   * sends back */
	uint64_t rx_throttled;            /* times the rx rate limit held
					   * frames back */
	uint64_t tx_throttled_ns;         /* time spent held back, tx */
	uint64_t rx_throttled_ns;         /* time spent held back, rx */
};

/**
 * netbe_stats_read() - copy the handle's counters into @st
 * @size: sizeof(*st) as the caller was built (at least up to drops[]);
 *        fields this library does not have read as 0
 * Return: 0, or -EINVAL for NULL arguments or a @size below the first
 * layout with drops[] at its place.
 */
NETBE_EXPORT int netbe_stats_read(struct netbe *be, struct netbe_stats *st,
				  size_t size);

/** netbe_get_stats() - netbe_stats_read() with this header's size.
 * Return: as netbe_stats_read(). */
static inline int netbe_get_stats(struct netbe *be, struct netbe_stats *st)
{
	return netbe_stats_read(be, st, sizeof(*st));
}

/** netbe_drop_reason_name() - "tx_bad_hdr", ...; "unknown" if out of range. */
NETBE_EXPORT const char *netbe_drop_reason_name(enum netbe_drop_reason r);

/* ------------------------------------------------------------------------ */
/* Host port forwards (slirp)                                               */
/* ------------------------------------------------------------------------ */

enum netbe_hostfwd_proto {
	NETBE_HOSTFWD_TCP = 0,
	NETBE_HOSTFWD_UDP = 1,
};

/*
 * A host port forward: connections (TCP) or datagrams (UDP) to @host reach
 * @guest inside the backend's virtual network. Either end may be IPv4 or
 * IPv6, independently (an IPv6 listener can forward to the guest's IPv4
 * address). An IPv6 @host listens for IPv6 only.
 */
struct netbe_hostfwd {
	unsigned id;                     /* set by add and list; ignored by add */
	enum netbe_hostfwd_proto proto;
	struct sockaddr_storage host;    /* AF_INET/AF_INET6 address and port the
					  * host listens on (0.0.0.0/:: for all) */
	struct sockaddr_storage guest;   /* AF_INET/AF_INET6 address and port in
					  * the guest network; 0.0.0.0 means the
					  * backend's default guest (10.0.2.15) */
};

/**
 * netbe_hostfwd_add() - forward a host port to the guest, at run time
 * @fwd: what to forward (fwd->id is ignored)
 * @id: receives the forward's id (>= 1, never reused by this handle); may
 *      be NULL
 *
 * Only backends with a user-mode stack (slirp) have host forwards; forwards
 * given in the spec (slirp's hostfwd=) are listed and removable the same way.
 * Call from the thread that runs the handle's loop.
 * Return: 0; -EINVAL for a bad argument (family, port 0, a guest address
 * outside the virtual network); -EOPNOTSUPP for a backend without host
 * forwards; -EADDRINUSE or another errno when the host cannot listen.
 */
NETBE_EXPORT int netbe_hostfwd_add(struct netbe *be, const struct netbe_hostfwd *fwd,
				   unsigned *id);

/**
 * netbe_hostfwd_remove() - stop forward @id (the listener closes;
 * connections already forwarded stay). Call from the loop's thread.
 * Return: 0, -ENOENT for an unknown id, -EOPNOTSUPP as above, -EINVAL.
 */
NETBE_EXPORT int netbe_hostfwd_remove(struct netbe *be, unsigned id);

/**
 * netbe_hostfwd_list() - copy up to @max forwards, oldest first, into @out
 * (@out may be NULL when @max is 0). Call from the loop's thread.
 * Return: the number of forwards the handle has (more than @max means
 * the list was cut), -EOPNOTSUPP as above, or -EINVAL.
 */
NETBE_EXPORT int netbe_hostfwd_list(struct netbe *be, struct netbe_hostfwd *out,
				    unsigned max);

/* ------------------------------------------------------------------------ */
/* Control socket                                                           */
/* ------------------------------------------------------------------------ */

/* Longest request line a control socket takes, newline excluded. */
#define NETBE_CONTROL_LINE_MAX 16384

struct netbe_control;

/**
 * netbe_control_open() - serve the control protocol (doc/control.md) on a
 * unix stream socket at @path, through @loop
 * @ctl: receives the control socket, NULL on failure
 *
 * JSON lines: one request object per line, one reply per line, any number
 * of clients at once; a request may also end with the client's
 * shutdown(SHUT_WR), as slirp4netns clients (rootlesskit, podman) send
 * it, and the connection then closes after the reply. Commands include
 * slirp4netns's add_hostfwd, list_hostfwd and remove_hostfwd, acting on
 * attached handles. A stale socket file at @path is replaced; any other
 * file there is an error. The socket file is made mode 0600.
 * Return: 0; -EINVAL (NULL arguments, a loop without all six operations),
 * -ENAMETOOLONG, -EEXIST (@path is not a socket), or the errno of
 * socket/bind/listen/the loop.
 */
NETBE_EXPORT int netbe_control_open(struct netbe_control **ctl, const char *path,
				    const struct netbe_loop *loop);

/**
 * netbe_control_attach() - make handle @be reachable by requests as @name
 * (1 to 63 printable characters, unique). Requests run on the loop's
 * thread, so attach and detach there too; detach (or close the control
 * socket) before closing the handle.
 * Return: 0; -EINVAL for NULL arguments or a bad name; -EEXIST when @name
 * or @be is attached already; -ENOMEM.
 */
NETBE_EXPORT int netbe_control_attach(struct netbe_control *ctl, const char *name,
				      struct netbe *be);

/**
 * netbe_control_detach() - forget handle @be (it stays open).
 * Return: 0, -EINVAL for NULL arguments, -ENOENT when not attached.
 */
NETBE_EXPORT int netbe_control_detach(struct netbe_control *ctl, struct netbe *be);

/** netbe_control_close() - close every client connection and the socket,
 * remove the socket file; attached handles stay open. NULL is a no-op. */
NETBE_EXPORT void netbe_control_close(struct netbe_control *ctl);

/* ------------------------------------------------------------------------ */
/* Fault injection                                                          */
/* ------------------------------------------------------------------------ */

/* The two directions of a handle. */
enum netbe_direction {
	NETBE_DIR_TX = 0,          /* frontend -> backend (netbe_send) */
	NETBE_DIR_RX = 1,          /* backend -> frontend (netbe_recv) */
};

#define NETBE_FAULT_PPM_MAX      1000000u  /* 100 % in parts per million */
#define NETBE_FAULT_DELAY_MAX_MS 60000u    /* largest delay and jitter */
#define NETBE_FAULT_QUEUE_FRAMES 1024u     /* delay queue bound, per direction */
#define NETBE_FAULT_QUEUE_BYTES  (8u << 20)

/*
 * Faults injected in one direction (doc/faults.md). Probabilities are in
 * parts per million (0 to NETBE_FAULT_PPM_MAX: 0.5 % is 5000), drawn per
 * frame from a generator seeded with @seed, so a seed and a sequence of
 * frames give the same faults every run. All zero turns the direction off.
 */
struct netbe_faults {
	uint32_t size;             /* sizeof(struct netbe_faults): set it
				    * before either call, so the struct can
				    * grow */
	uint32_t loss_ppm;         /* frames dropped (counted) */
	uint32_t delay_ms;         /* frames held this long ... */
	uint32_t jitter_ms;        /* ... plus or minus up to this much */
	uint32_t reorder_ppm;      /* frames held until the next one passed */
	uint32_t dup_ppm;          /* frames sent twice */
	uint32_t corrupt_ppm;      /* frames with one bit flipped past the
				    * Ethernet header */
	uint32_t reserved;         /* 0 */
	uint64_t seed;             /* set: reseed with it, 0 keeps the
				    * generator; get: the seed last set */
};

/**
 * netbe_set_faults() - change the faults injected in direction @dir at run
 * time (the spec keys tx_loss=, rx_delay=, ... set them at open). Frames
 * already delayed keep their release time. May be called from any thread.
 * Return: 0, or -EINVAL (NULL argument, bad @dir, @f->size too small or
 * larger than this library knows, a value out of range: the message names
 * the field and its range), or -ENOMEM.
 */
NETBE_EXPORT int netbe_set_faults(struct netbe *be, enum netbe_direction dir,
				  const struct netbe_faults *f);

/**
 * netbe_get_faults() - read the faults of direction @dir into @f, whose
 * size field the caller sets; at most that many bytes are written and
 * size is set to the bytes filled.
 * Return: 0, or -EINVAL (NULL argument, bad @dir, size too small).
 */
NETBE_EXPORT int netbe_get_faults(struct netbe *be, enum netbe_direction dir,
				  struct netbe_faults *f);

/* ------------------------------------------------------------------------ */
/* Packet capture                                                           */
/* ------------------------------------------------------------------------ */

/* The file format of a capture (doc/capture.md). */
enum netbe_capture_format {
	NETBE_CAPTURE_PCAPNG = 0,   /* one IDB per handle, direction flags and
				     * virtio-net header fields per frame */
	NETBE_CAPTURE_PCAP = 1,     /* classic pcap, microseconds, Ethernet */
};

#define NETBE_CAPTURE_SNAPLEN_MAX 262144u   /* also the default */

/* A handle's capture counters, summed over all its captures. Like struct
 * netbe_stats it grows only at its end (netbe_capture_stats_read() takes
 * the caller's size). */
struct netbe_capture_stats {
	uint64_t frames;            /* frames written */
	uint64_t bytes;             /* frame bytes written (after snaplen) */
	uint64_t truncated;         /* frames cut to the snaplen */
	uint64_t write_errors;      /* failed writes (each stops the capture) */
};

/**
 * netbe_capture_start() - write every frame the frontend sends through @be
 * (as handed to netbe_send, before any software offload) and every frame
 * netbe_recv delivers to it, without the virtio-net header, into @path.
 * Several handles may capture into one path: they share one file, each
 * with its own interface (one format per file). May be called from any
 * thread; the data path takes a lock only while a capture is on.
 * @snaplen: bytes kept of each frame, 1..NETBE_CAPTURE_SNAPLEN_MAX
 * Return: 0; -EINVAL for a NULL handle or path, a bad snaplen or format,
 * or a path already captured in another format (or, for pcap, another
 * snaplen); -EBUSY when @be already captures; -errno when the file cannot
 * be created or written.
 */
NETBE_EXPORT int netbe_capture_start(struct netbe *be, const char *path,
				     unsigned snaplen,
				     enum netbe_capture_format format);

/**
 * netbe_capture_stop() - stop @be's capture; the file is closed when no
 * handle captures into it any more. May be called from any thread.
 * Return: 0 (also when nothing was captured), or -EINVAL for NULL.
 */
NETBE_EXPORT int netbe_capture_stop(struct netbe *be);

/**
 * netbe_capture_stats_read() - copy @be's capture counters into @st
 * @size: sizeof(*st) as the caller was built (at least the first layout,
 *        the four counters above); fields this library does not have
 *        read as 0
 * Return: 0, or -EINVAL for NULL arguments or a @size below the first
 * layout.
 */
NETBE_EXPORT int netbe_capture_stats_read(struct netbe *be,
					  struct netbe_capture_stats *st,
					  size_t size);

/** netbe_get_capture_stats() - netbe_capture_stats_read() with this
 * header's size. Return: as netbe_capture_stats_read(). */
static inline int netbe_get_capture_stats(struct netbe *be,
					  struct netbe_capture_stats *st)
{
	return netbe_capture_stats_read(be, st, sizeof(*st));
}

/* ------------------------------------------------------------------------ */
/* Rate limits (doc/ratelimit.md)                                           */
/* ------------------------------------------------------------------------ */

/* A token bucket: @size tokens (bytes, or frames for the ops bucket),
 * refilled from empty in @refill_ms, plus a one-time burst spent first
 * and never refilled. size 0 means no limit (then the others are 0). */
struct netbe_token_bucket {
	uint64_t size;             /* 1 .. 10^15, or 0 */
	uint64_t refill_ms;        /* 1 .. 3600000 */
	uint64_t one_time_burst;   /* 0 .. 10^15 */
};

/* The limit of one direction: a frame costs its bytes (without the
 * virtio-net header) in @bytes and 1 in @ops, and passes when both have
 * the tokens. The struct may grow at its end: set @struct_size to
 * sizeof(struct netbe_rate_limit) as your program was built. */
struct netbe_rate_limit {
	uint32_t struct_size;
	uint32_t reserved;         /* 0 */
	struct netbe_token_bucket bytes;
	struct netbe_token_bucket ops;
};

/**
 * netbe_set_rate_limit() - replace the limit of direction @dir of @be
 * (and of every handle of its rate_group=); both buckets start full.
 * All-zero buckets remove the limit. A sender or receiver held back is
 * woken to try again. Any thread may call it.
 * Return: 0, or -EINVAL for a NULL argument, a bad direction, a
 * struct_size below the first version's or with unknown non-zero fields
 * past what this library knows, or values out of range (the message says
 * which); -ENOMEM.
 */
NETBE_EXPORT int netbe_set_rate_limit(struct netbe *be, enum netbe_direction dir,
				      const struct netbe_rate_limit *rl);

/**
 * netbe_get_rate_limit() - the limit of direction @dir as last set (all
 * zero when none). Fills min(@rl->struct_size, the library's size) bytes
 * and zeroes any further ones, leaving struct_size as it was.
 * Return: 0, or -EINVAL for a NULL argument, a bad direction or a
 * struct_size below the first version's.
 */
NETBE_EXPORT int netbe_get_rate_limit(struct netbe *be, enum netbe_direction dir,
				      struct netbe_rate_limit *rl);

/* ------------------------------------------------------------------------ */
/* Registry                                                                 */
/* ------------------------------------------------------------------------ */

#define NETBE_KEY_REPEAT 1u     /* the key may be given more than once */

/* A key a backend accepts in its spec. */
struct netbe_key {
	const char *name;
	const char *help;             /* "on|off: ..." - syntax, then meaning */
	unsigned flags;               /* NETBE_KEY_* */
};

struct netbe_backend_info {
	const char *name;
	const char *const *aliases;   /* NULL-terminated, may be NULL */
	const char *help;             /* one line */
	const char *name_help;        /* what the :NAME part is, NULL if none */
	const struct netbe_key *keys; /* terminated by a NULL name */
};

/**
 * netbe_backend_count() / netbe_backend_info() - the built-in backends, in
 * table order. Return: count; 0 and *@info filled, or -ENOENT past the end.
 */
NETBE_EXPORT unsigned netbe_backend_count(void);
/** netbe_common_keys() - keys every backend accepts (offload=, capture=,
 * snaplen=, capture_format=),
 * terminated by a NULL name. */
NETBE_EXPORT const struct netbe_key *netbe_common_keys(void);
NETBE_EXPORT int netbe_backend_info(unsigned idx, struct netbe_backend_info *info);

/* ------------------------------------------------------------------------ */
/* bhyve compatibility                                                      */
/* ------------------------------------------------------------------------ */

/**
 * netbe_default_loop() - a process-wide built-in epoll loop, created on
 * first use, used by netbe_init(). The caller runs it (netbe_epoll_run(), or
 * nests netbe_epoll_fd() in its own loop).
 * Return: the loop, or NULL when it cannot be created (netbe_last_error()).
 */
NETBE_EXPORT struct netbe_epoll *netbe_default_loop(void);

/**
 * netbe_init() - bhyve's netbe_init(): open @opts on the default loop with
 * @cb(@param) as receive callback. Return: 0 or a negative errno.
 */
NETBE_EXPORT int netbe_init(net_backend_t **be, const char *opts,
			    netbe_rx_fn cb, void *param);
/** netbe_cleanup() - bhyve's netbe_cleanup(): netbe_close(). */
NETBE_EXPORT void netbe_cleanup(net_backend_t *be);

#ifdef __cplusplus
}
#endif

#endif /* NETBE_H */
