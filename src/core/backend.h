/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend.h - the private contract between core and the backends.
 *
 * A backend is one file exporting one const struct netbe_backend written
 * with designated initializers, listed in the table in registry.c. It does
 * only I/O: open, move frames in batches, report what the host can do
 * natively. Header translation between frontend and backend header
 * lengths, validation, counters, the receive stash (peek and -EMSGSIZE) and
 * the loop plumbing are core's job, done once in netbe.c.
 *
 * Data path contract, for every backend:
 *  - frames travel as struct netbe_xfer: an iovec holding the backend's own
 *    virtio-net header (be->be_hdr_len bytes, 0 for none) then the frame;
 *  - core hands recv() buffers that can hold be->rx_max bytes, so a backend
 *    never truncates; it reports each frame's length in x[i].len;
 *  - send() never blocks and never drops a frame silently: it returns how
 *    many frames it consumed, and sets x[i].err for the ones it consumed but
 *    could not deliver (core counts them as tx_error drops, or tx_too_big
 *    for -EMSGSIZE: longer than the link takes), or to
 *    NETBE_XFER_ACCOUNTED for one it keeps or drops and counts itself
 *    (slirp holding an IP fragment until its datagram is whole);
 *  - core hands send() no frame longer than be->tx_max.
 */
#ifndef NETBE_BACKEND_H
#define NETBE_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "netbe.h"
#include "spec.h"

/* An Ethernet header and one VLAN tag: what a frame adds to its IP packet. */
#define NETBE_L2_MAX (14 + 4)
/* Largest frame any backend carries: a 64 KiB GSO frame with an Ethernet
 * and a VLAN header. */
#define NETBE_FRAME_MAX (65535 + NETBE_L2_MAX)
/* Frames moved per backend call at most. */
#define NETBE_BURST 64

/* One frame in a backend call. */
struct netbe_xfer {
	struct iovec *iov;     /* backend header, then the frame */
	int iovcnt;
	size_t len;            /* recv: set by the backend; send: set by core */
	int err;               /* send: 0, a negative errno (why the backend
				* dropped it), or NETBE_XFER_ACCOUNTED */
};

/* x[i].err of a frame the backend consumed and accounts for itself, later
 * (netbe_count_tx) or now (netbe_count_drop): core counts it nowhere. */
#define NETBE_XFER_ACCOUNTED 1

enum netbe_name_use {
	NETBE_NAME_NONE,       /* "TYPE" only */
	NETBE_NAME_OPTIONAL,   /* "TYPE" or "TYPE:NAME" */
	NETBE_NAME_REQUIRED,   /* "TYPE:NAME" */
};

struct netbe_backend {
	const char *name;
	const char *const *aliases;       /* NULL-terminated, may be NULL */
	const char *help;                 /* one line for `netbe list` */
	const char *name_help;            /* what :NAME means */
	enum netbe_name_use name_use;
	const struct netbe_key *keys;     /* terminated by { NULL } */
	size_t priv_size;                 /* zeroed, allocated with the handle */

	/*
	 * open() - acquire the resource described by @spec (keys already
	 * checked against @keys by core). Sets be->native_caps,
	 * be->be_hdr_len, be->rx_fd/tx_fd/tx_events and, if smaller than
	 * the default, be->rx_max/tx_max. Fails with netbe_errf() so the
	 * message says what to do. On failure it releases everything it took;
	 * close() is not called.
	 */
	int (*open)(struct netbe *be, const struct netbe_spec *spec);
	/* close() - release everything open() took. */
	void (*close)(struct netbe *be);
	/*
	 * send() - move up to @n frames out. Return: frames consumed from the
	 * front of @x (each x[i].err 0 or a negative errno for a frame
	 * consumed but lost); -EAGAIN if none can be taken now (core then
	 * waits for be->tx_fd/tx_events or netbe_tx_kick()); another
	 * negative errno when the resource is gone.
	 */
	int (*send)(struct netbe *be, struct netbe_xfer *x, unsigned n);
	/*
	 * recv() - move up to @n pending frames in. Return: frames received
	 * into the front of @x (x[i].len set, backend header included); 0
	 * when none is pending; negative errno when the resource is gone.
	 */
	int (*recv)(struct netbe *be, struct netbe_xfer *x, unsigned n);
	/*
	 * rx_count() - optional, for backends that queue frames in process:
	 * how many frames recv() would return now. Core describes no more of
	 * the frontend's buffers to recv() than that (a frontend offering 64
	 * buffers for the one frame waiting does not pay for 64) and skips
	 * recv() when it returns 0. A backend with this op kicks rx
	 * (netbe_rx_kick) when recv() leaves frames behind, since a producer
	 * on another thread may add some after the count, and its recv() has
	 * no side effect when it finds nothing. Return: frames pending.
	 */
	unsigned (*rx_count)(struct netbe *be);
	/*
	 * set_offload() - optional: the frontend fixed @features (a subset
	 * of be->native_caps); program the host accordingly. Return 0 or -errno.
	 */
	int (*set_offload)(struct netbe *be, uint64_t features);
	/*
	 * hostfwd_add() / hostfwd_remove() / hostfwd_list() - optional, all
	 * three or none: host port forwards of a backend with a user-mode
	 * stack (slirp). Core checked the arguments (a known proto, AF_INET
	 * or AF_INET6 ends, non-zero ports, @out non-NULL when @max is not 0)
	 * and calls them on the loop's thread; they may run while another
	 * thread sends. add() sets *@id to a new id >= 1 that the handle never
	 * reuses; list() copies up to @max forwards oldest first and returns
	 * how many there are. Return: 0 (add, remove) or the count (list), or
	 * a negative errno with a message (netbe_errf): -EINVAL for a guest
	 * address the backend cannot reach, -ENOENT for an unknown id, the
	 * errno of the host's listen.
	 */
	int (*hostfwd_add)(struct netbe *be, const struct netbe_hostfwd *fwd,
			   unsigned *id);
	int (*hostfwd_remove)(struct netbe *be, unsigned id);
	int (*hostfwd_list)(struct netbe *be, struct netbe_hostfwd *out,
			    unsigned max);
};

/* A handle. Backends read and set the fields marked "backend". */
struct netbe {
	const struct netbe_backend *ops;
	struct netbe_loop loop;
	struct netbe_config cfg;

	uint64_t native_caps;      /* backend: features done by the host */
	unsigned be_hdr_len;       /* backend: 0, 10 or 12 */
	size_t rx_max;             /* backend: largest frame incl. header */
	size_t tx_max;             /* backend: largest frame incl. header */
	int rx_fd;                 /* backend: readable when frames pending */
	int tx_fd;                 /* backend: becomes ready after -EAGAIN */
	unsigned tx_events;        /* backend: events tx_fd waits for */

	bool link_down;            /* backend: set through netbe_set_link();
				    * atomic (netbe_link_is_up() on any thread) */
	bool auto_native_only;     /* backend: offload=auto offers only native
				    * offloads (software ones cost more than
				    * they save with this backend's setup) */
	uint64_t features;         /* negotiated */
	unsigned fe_hdr_len;       /* frontend header length */

	struct netbe_core_state *core;  /* core-private state */
	struct netbe_stats stats;
	char name[32];             /* the spec's NAME, "" if none */
	unsigned char priv[] __attribute__((aligned(16)));
};

/** netbe_priv() - the backend's private area (priv_size bytes, zeroed). */
static inline void *netbe_priv(struct netbe *be)
{
	return be->priv;
}

/**
 * netbe_rx_kick() - tell core that frames became pending without rx_fd
 * (in-process queues). Safe from any thread.
 */
void netbe_rx_kick(struct netbe *be);
/** netbe_tx_kick() - tell core a send that got -EAGAIN may now succeed.
 * Safe from any thread. */
void netbe_tx_kick(struct netbe *be);
/**
 * netbe_set_fds() - replace be->rx_fd/tx_fd after open (a stream backend
 * whose peer connected, reconnected or left; -1 for none). Call from the
 * loop's thread, before closing the old fds.
 * Return: 0, or -errno when the loop refused to watch a new fd.
 */
int netbe_set_fds(struct netbe *be, int rx_fd, int tx_fd);
/** netbe_set_link() - report the link state (from the loop's thread); the
 * frontend's link callback runs when it changes. Handles start up. */
void netbe_set_link(struct netbe *be, bool up);
/** netbe_count_drop() - count one dropped frame under @reason. */
void netbe_count_drop(struct netbe *be, enum netbe_drop_reason reason);
/** netbe_count_drops() - count @n dropped frames under @reason at once. */
void netbe_count_drops(struct netbe *be, enum netbe_drop_reason reason,
		       uint64_t n);
/** netbe_count_tx() - count @frames sent and @bytes, for frames a backend
 * kept with NETBE_XFER_ACCOUNTED and has now sent on. Call from send(). */
void netbe_count_tx(struct netbe *be, uint64_t frames, uint64_t bytes);
/** netbe_count_peer_refused() - count one connecting peer turned away. */
void netbe_count_peer_refused(struct netbe *be);

/**
 * netbe_if_frame_max() - the largest frame network interface @ifname
 * carries: its MTU plus NETBE_L2_MAX, at most NETBE_FRAME_MAX.
 * Return: that length, or a negative errno when the MTU cannot be read.
 */
long netbe_if_frame_max(const char *ifname);

/* The backend table (registry.c). */
extern const struct netbe_backend *const netbe_backends[];
extern const unsigned netbe_nbackends;

/**
 * netbe_backend_find() - exact match of @type against names and aliases.
 * Return: the backend or NULL.
 */
const struct netbe_backend *netbe_backend_find(const char *type);

#endif /* NETBE_BACKEND_H */
