/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core.h - core-private state of a handle, shared by the data path
 * (netbe.c) and the software offload path (softpath.c). Backends never
 * include this.
 */
#ifndef NETBE_CORE_H
#define NETBE_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "capture.h"
#include "offload.h"
#include "spec.h"
#include "ratelimit.h"

#define NETBE_MAX_FRAME_IOV 1024
#define IOV_POOL (NETBE_MAX_FRAME_IOV + 3 * NETBE_BURST)
#define ETH_HDR_LEN 14

/* What the spec's offload= key asked for. */
enum offload_mode {
	OFFLOAD_AUTO,      /* native where the backend can, software elsewhere */
	OFFLOAD_NATIVE,    /* only what the backend does itself */
	OFFLOAD_SOFT,      /* everything in software, even where native exists */
	OFFLOAD_OFF,       /* offer no offload at all */
};

/* Scratch space for one direction: used by one thread at a time. */
struct dir_scratch {
	struct netbe_xfer x[NETBE_BURST];
	struct iovec iov[IOV_POOL];
	uint8_t hdr[NETBE_BURST][NETBE_VNET_HDR_LEN_HASH];
};

/* The segments of one frame whose offloads are done in software, not yet
 * all handed on. Buffers are allocated on first use. */
struct soft_queue {
	uint8_t *frame;            /* copy of the frame, NETBE_FRAME_MAX bytes */
	uint8_t *store;            /* segment header blocks, OL_STORE_MAX */
	struct ol_seg *segs;       /* OL_MAX_SEGS */
	unsigned nsegs, next;
};

/* Directions, as indices (the values of enum netbe_direction). */
#define NB_TX 0
#define NB_RX 1

/* The buckets of one direction, shared by the handles of a rate group. */
struct rl_shared {
	pthread_mutex_t lock;
	struct rl_limit lim;
	struct netbe_rate_limit cfg;    /* as last set */
};

/* A direction of a handle held back by its limit (under thr_lock). */
struct throttle_dir {
	bool on;                  /* atomic reads: held back now */
	uint64_t since_ns;        /* when it started */
	uint64_t need;            /* bytes of the frame refused (tx) */
};

struct rl_group;

struct netbe_core_state {
	pthread_mutex_t lock;     /* watch masks and the two flags below */
	bool rx_enabled;
	bool tx_waiting;
	int rx_kicked;            /* atomic */
	int tx_kicked;            /* atomic */
	int tx_arm_due;           /* atomic: split; tx_waiting rose off the
				   * tx loop, which must arm its watch */
	bool rx_inline_due;       /* answers queued during an inline-rx send */
	bool in_rx_cb;            /* atomic: the frontend's rx_cb is running */
	bool split;               /* NETBE_CFG_TX_LOOP: tx side on tx_loop */
	struct netbe_loop tx_loop;  /* split: cfg->tx_loop; else be->loop */
	int kick_fd;              /* on be->loop; rx and, unless split, tx */
	void *kick_watch;
	int tx_kick_fd;           /* split: tx kicks, on tx_loop; else -1 */
	void *tx_kick_watch;
	void *rx_watch;           /* on be->rx_fd, on be->loop */
	void *tx_watch;           /* on tx_loop: split, on tx_copy; else on
				   * be->tx_fd when it is not rx_fd */
	int tx_copy;              /* split: core's dup of be->tx_fd, or -1 */
	int tx_copy_next;         /* split: the dup netbe_set_fds() made for
				   * the tx loop to swap in (-1: no tx fd) */
	bool tx_copy_due;         /* split: tx_copy_next waits (lock) */
	int tx_swap_due;          /* atomic: split; kick for tx_copy_due */

	bool admin_down;          /* atomic: netbe_set_link_admin(be, 0) */
	bool mac_set;             /* mac= given: transmit checks the source */
	uint8_t mac[6];

	enum offload_mode offload;
	uint64_t native;          /* native_caps as the offload mode allows */
	bool rx_one_by_one;       /* frames may need software work on receive */
	uint32_t frag_id;         /* IPv6 fragment ids for UFO */

	pthread_mutex_t tx_lock;  /* the sender vs. the loop flushing soft_tx */
	struct soft_queue soft_tx, soft_rx;

	uint8_t *stash;           /* one held-back frame, backend form */
	size_t stash_len;         /* 0 when empty */

	struct capture_state cap;  /* capture.c */

	struct dir_scratch tx, rx;

	struct faults *faults;    /* fault injection, NULL until first set */
	bool fault_on[2];         /* atomic: NETBE_DIR_TX/RX go through
				   * faults.c (settings or queued frames) */
	uint64_t fault_seed;      /* fault_seed=, or a random one */
	/* Rate limiting (throttle.c): lim[d] points at the group's buckets
	 * while direction d is limited, NULL otherwise (atomic: the one
	 * branch the data path pays without a limit). */
	struct rl_shared *lim[2];
	struct rl_group *rl_group;    /* under throttle.c's registry lock */
	struct netbe *rl_next;        /* next member of rl_group */
	pthread_mutex_t thr_lock;     /* thr[] and the throttle counters */
	struct throttle_dir thr[2];
	int thr_kicked[2];            /* atomic: direction d's loop must look
				       * at thr[d] */
	void *thr_timer[2];           /* on direction d's loop (core_dir_loop),
				       * its thread only; NULL until needed */
	bool rx_paused;               /* under lock: rx watch off, throttled */
};

/** core_count() - add @n to counter @ctr of be->stats, which one thread
 * at a time writes (the sender under tx_lock, or the receiver): a plain
 * add done as an atomic load and store, so netbe_stats_read() on any
 * thread reads whole values without a locked instruction here. */
static inline void core_count(uint64_t *ctr, uint64_t n)
{
	__atomic_store_n(ctr, __atomic_load_n(ctr, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/** core_link_up() - the link the frontend sees: up when both the backend
 * and the operator say so. */
static inline bool core_link_up(const struct netbe *be)
{
	return !__atomic_load_n(&be->link_down, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&be->core->admin_down, __ATOMIC_RELAXED);
}

/** controls_open() - read the common key mac=. Return: 0 or -EINVAL. */
int controls_open(struct netbe *be, const struct netbe_spec *s);

/** controls_tx_spoofed() - does the frame in @iov (frontend form) come
 * from another source MAC than mac=? Runts count as spoofed. */
bool controls_tx_spoofed(const struct netbe *be, const struct iovec *iov,
			 int iovcnt);
/* Rate limit keys of a spec, parsed before the backend opens. */
struct throttle_spec {
	struct netbe_rate_limit dir[2];
	bool given[2];                /* a key of that direction was given */
	const char *group;            /* rate_group=, NULL if none */
};

/** core_throttle_kick() - have the loop of direction @d (NB_TX or NB_RX)
 * look at @be's throttle state of that direction (throttle_poll()).
 * Safe from any thread. */
void core_throttle_kick(struct netbe *be, unsigned d);

/**
 * throttle_parse() - read the rate limit keys of @s into @ts
 * Return: 0, or -EINVAL naming the key and its syntax.
 */
int throttle_parse(struct netbe *be, const struct netbe_spec *s,
		   struct throttle_spec *ts);

/**
 * throttle_attach() - join @be to its group (rate_group=, or a group of
 * its own when it has limits) and apply the limits of @ts. Call once the
 * handle can be kicked. Return: 0, -EINVAL when the group already has
 * other limits (message), -ENOMEM.
 */
int throttle_attach(struct netbe *be, const struct throttle_spec *ts);

/** throttle_detach() - leave the group, before the kick fd closes. */
void throttle_detach(struct netbe *be);

/**
 * throttle_tx_admit() - take the tokens of the frames at the front of @f
 * from @sh; the first that does not fit throttles tx.
 * Return: how many frames got their tokens (0: send nothing).
 */
unsigned throttle_tx_admit(struct netbe *be, struct rl_shared *sh,
			   const struct netbe_frame *f, unsigned n);

/** throttle_tx_refund() - give back the tokens of @n admitted frames @f
 * that were not consumed. */
void throttle_tx_refund(struct netbe *be, struct rl_shared *sh,
			const struct netbe_frame *f, unsigned n);

/**
 * throttle_rx_gate() - how many frames (at most @want) may be read from
 * the backend now; 0 throttles rx. Return: that count.
 */
unsigned throttle_rx_gate(struct netbe *be, struct rl_shared *sh, unsigned want);

/** throttle_rx_charge() - take the tokens of @n delivered frames @f. */
void throttle_rx_charge(struct netbe *be, struct rl_shared *sh,
			const struct netbe_frame *f, unsigned n);

/* throttle_poll() results: bits per direction. */
#define THR_READY(d) (1u << (d))          /* held back, now free */
#define THR_HELD(d) (1u << ((d) + 2))     /* still held back */

/**
 * throttle_poll() - on direction @d's loop thread: end the throttling of
 * direction @d if its tokens are back; *@wait_ns gets how long until the
 * next check is due (0 when it is not held back).
 * Return: THR_READY(@d) or THR_HELD(@d), or 0.
 */
unsigned throttle_poll(struct netbe *be, unsigned d, uint64_t *wait_ns);

/** throttle_stats() - fill the throttle counters of @st, time held back
 * so far included. */
void throttle_stats(struct netbe *be, struct netbe_stats *st);

/** core_tx_wait() - arm the wait for the backend to take frames again,
 * from the sending thread (with a tx loop, through its kick). */
void core_tx_wait(struct netbe *be);

/** core_tx_frame_max() - the longest frame, without the backend header,
 * that may be handed to the backend's send(). Return: that length. */
size_t core_tx_frame_max(const struct netbe *be);

/**
 * core_tx_send() - hand @n described frames (x[i].len set) to the
 * backend's send() and account for what it consumed: the one place core
 * transmits, so the one place that guarantees no frame longer than
 * be->tx_max reaches a backend (such a frame is consumed and counted as
 * tx_too_big instead).
 * Return: frames consumed from the front of @x, -EAGAIN, or -errno.
 */
int core_tx_send(struct netbe *be, struct netbe_xfer *x, unsigned n);

/** soft_tx_needed() - does frontend header @h ask for work the backend
 * does not do natively? */
bool soft_tx_needed(const struct netbe *be, const struct netbe_vnet_hdr *h);

/**
 * soft_tx_start() - take frame @f (@len bytes with the frontend header) for
 * software offload: validate it, segment it, queue the segments
 * Return: 0 when queued or dropped and counted, -ENOMEM.
 */
int soft_tx_start(struct netbe *be, const struct netbe_frame *f, size_t len,
		  const struct netbe_vnet_hdr *h);

/**
 * soft_tx_flush() - hand queued segments to the backend in batches
 * Return: 0 when none is left, -EAGAIN when the backend is full, or the
 * backend's negative errno.
 */
int soft_tx_flush(struct netbe *be);

/** soft_tx_pending() - segments wait in the transmit queue. */
bool soft_tx_pending(const struct netbe *be);

/**
 * soft_rx_start() - a received frame (backend form, @len bytes in @iov)
 * whose header @h asks for work the frontend did not negotiate: segment it
 * and queue the segments for delivery
 * Return: 0 when queued or dropped and counted, -ENOMEM.
 */
int soft_rx_start(struct netbe *be, const struct iovec *iov, int iovcnt,
		  size_t len, const struct netbe_vnet_hdr *h);

/** soft_rx_pending() - segments wait for delivery. */
bool soft_rx_pending(const struct netbe *be);

/** soft_rx_next_len() - frontend length of the next segment (0 if none). */
size_t soft_rx_next_len(const struct netbe *be);

/**
 * soft_rx_deliver() - copy the next segment, with a frontend header, to @f
 * Return: its length, or -EMSGSIZE when @f is too small (it stays queued).
 */
ssize_t soft_rx_deliver(struct netbe *be, struct netbe_frame *f);

/** soft_rx_skip() - drop the next queued segment. Return: its length. */
size_t soft_rx_skip(struct netbe *be);

/**
 * core_tx_one() - the normal transmit path for one frame, without fault
 * injection (faults.c releasing a queued frame). Caller holds tx_lock.
 * Return: 1 when consumed (sent, or dropped and counted), -EAGAIN (the
 * wait for the backend is armed), or -errno.
 */
int core_tx_one(struct netbe *be, struct netbe_frame *f);

/**
 * core_rx_burst() - the normal receive path, without fault injection.
 * Return: as netbe_recv_burst().
 */
int core_rx_burst(struct netbe *be, struct netbe_frame *frames, unsigned n);

/** core_rx_ready() - call the frontend's rx callback if it listens
 * (loop thread). */
void core_rx_ready(struct netbe *be);

/** core_kick() - wake the loop of direction @d (NB_TX: the tx loop with
 * NETBE_CFG_TX_LOOP; NB_RX: be->loop) through its kick eventfd, from any
 * thread; its callback then runs faults_kick(be, @d). */
void core_kick(struct netbe *be, unsigned d);

/** core_dir_loop() - the loop of direction @d (NB_TX or NB_RX): the tx
 * loop for NB_TX with NETBE_CFG_TX_LOOP, else be->loop. Its adapter may be
 * called from that loop's thread only (and in open and close). Return: it. */
static inline const struct netbe_loop *core_dir_loop(const struct netbe *be,
						     unsigned d)
{
	return d == NB_TX ? &be->core->tx_loop : &be->loop;
}

/** soft_free() - release the software offload buffers of @be. */
void soft_free(struct netbe *be);

#endif /* NETBE_CORE_H */
