/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netbe.c - handles and the data path: the whole story between a frontend
 * and a backend.
 *
 * Theory of operation
 *
 * Transmit. A burst of frontend frames is checked frame by frame: runts,
 * headers that do not match the frame or the negotiated features, and
 * frames larger than the backend carries are dropped here, counted under
 * their reason and reported as consumed. Valid frames are rewritten into
 * struct netbe_xfer entries in the backend's header length: when both
 * sides use the same header length the caller's iovec goes through
 * untouched, otherwise a scratch header segment replaces the frontend's
 * (which may span segments) and the rest of the iovec follows. A chunk is
 * one dropped frame, one frame for the software offload path
 * (softpath.c), or a run of frames the backend takes as they are, so the
 * count of consumed frames is always a prefix of the caller's burst. When the
 * backend takes nothing (-EAGAIN), core watches the backend's tx fd (or
 * waits for netbe_tx_kick()) and calls the frontend's tx callback.
 *
 * Receive. Frames are received straight into the caller's buffers when
 * they can hold the largest frame the backend may produce (rx_max);
 * otherwise one frame is received into the handle's stash and copied out,
 * which is also how netbe_peek_recvlen() and -EMSGSIZE work: the stashed
 * frame stays until a large enough buffer takes it. Backend headers are
 * checked against the negotiated GUEST_* features and translated to the
 * frontend's header length with num_buffers = 1.
 *
 * Notifications. Each handle has an eventfd ("kick") that in-process
 * backends (pair, slirp) and rx_enable() use to make the loop call back;
 * fd-based backends also expose rx_fd/tx_fd, watched level-triggered.
 * Watch masks change under a mutex because the tx-wait arming happens on
 * the sending thread while rx_enable/disable run on the receiving one.
 *
 * Two loops (NETBE_CFG_TX_LOOP). Every loop adapter use of core belongs to
 * one side. Receive side, on be->loop: the watch on rx_fd (input while rx
 * is enabled: update_rx_watch, from rx_enable/disable), the kick eventfd
 * (rx kicks: on_kick, rx_ready, rx_cb), and everything the backend
 * registers itself (its timers and extra watches, link changes). Transmit
 * side, on the tx loop: the watch on tx_fd (the tx events while a send
 * waits: update_tx_watch; a tap's one fd is watched by both loops, each
 * for its own events) and a second eventfd (on_tx_kick: netbe_tx_kick,
 * tx_ready, the soft-offload flush, tx_cb). A send that gets -EAGAIN sets
 * tx_waiting on the sending thread, which need not be the tx loop's: it
 * raises tx_arm_due and writes the tx kick, and on_tx_kick sets the mask.
 * tx_ready runs on the tx loop and sets the mask itself. A backend that
 * replaces its fds (netbe_set_fds, on be->loop's thread) re-registers the
 * rx watch there and leaves a copy (dup) of the new tx fd for the tx loop,
 * which swaps its watch on the tx kick (tx_swap_due); the tx watch is
 * always on core's own copy, so the backend may close its old fd at once.
 * So each loop's watches change only on its own thread (or in open and
 * close). Core's timers belong to a direction too (core_dir_loop): the
 * rate limit's (throttle_run, one timer per direction) and the fault
 * delay's (faults.c), each kicked through its direction's eventfd (the
 * tx kick or the main one), armed and fired on its direction's loop, so
 * the tx wake-ups and tx_cb run on the tx loop's thread and rx_cb on the
 * main loop's.
 * Without the flag, tx_loop is be->loop, one kick eventfd carries both
 * kinds of kick and one watch serves a shared fd, as before.
 *
 * Inline receive (NETBE_CFG_RX_INLINE). A backend that answers sent frames
 * at once (slirp's ARP replies and TCP ACKs) kicks from inside its send
 * op. While a handle with the flag is sending, that kick only marks the
 * answers due (a thread-local names the sending handle); the send loop
 * then drops tx_lock and calls the rx callback before the next chunk, so
 * a backend that returns after each frame with an answer gets each answer
 * delivered before the next frame goes in. The callback is never entered
 * twice: an answer that comes while it runs becomes an ordinary loop kick.
 *
 * Rate limits (throttle.c, ratelimit.c). A send takes the tokens of the
 * frames at the front of its burst before anything is classified; the
 * first frame without tokens ends the burst there (-EAGAIN when it is the
 * first), and tokens of frames the backend did not take are given back.
 * A receive reads the backend only while the rx buckets are not empty and
 * charges what it delivered; frames core already holds (the stash, soft
 * segments) go out whatever the limit, so peek and recv agree. A
 * direction held back kicks its loop, which pauses the rx watch (a
 * level-triggered fd would spin), arms the direction's timer for when the
 * tokens are back and then calls tx_cb / rx_cb. Without a limit all this costs one
 * branch per call on an atomic pointer load.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core.h"
#include "faults.h"
#include "iov.h"
#include "log.h"
#include "vnet_hdr.h"

/* ------------------------------------------------------------------------ */
/* Notifications                                                            */
/* ------------------------------------------------------------------------ */

/* Set the event mask of the watch on rx_fd: input while rx is enabled,
 * and, without a tx loop, the tx wait when tx_fd is the same fd. Caller
 * holds the lock; runs on be->loop's thread (or its receiving thread). */
static void update_rx_watch(struct netbe *be)
{
	struct netbe_core_state *c = be->core;
	unsigned rx = c->rx_enabled && !c->rx_paused ? NETBE_EV_IN : 0;
	bool shared = !c->split && be->tx_fd == be->rx_fd;

	if (c->rx_watch)
		be->loop.ops->watch_mod(be->loop.loop, c->rx_watch,
					rx | (shared && c->tx_waiting ? be->tx_events : 0));
}

/* Set the event mask of the watch on tx_fd (on the tx loop): the tx
 * events while a send waits. Caller holds the lock. */
static void update_tx_watch(struct netbe *be)
{
	struct netbe_core_state *c = be->core;

	if (c->tx_watch)
		c->tx_loop.ops->watch_mod(c->tx_loop.loop, c->tx_watch,
					  c->tx_waiting ? be->tx_events : 0);
}

/* Recompute the event masks of the backend's watches. Caller holds lock. */
static void update_watches(struct netbe *be)
{
	update_rx_watch(be);
	update_tx_watch(be);
}

/* Set @flag, one of the flags of the rx watch's mask (rx_enabled,
 * rx_paused), to @value and update that mask. */
static void set_rx_flag(struct netbe *be, bool *flag, bool value)
{
	struct netbe_core_state *c = be->core;

	pthread_mutex_lock(&c->lock);
	if (*flag != value) {
		*flag = value;
		update_rx_watch(be);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Write eventfd @fd so that its loop wakes up. */
static void write_kick(struct netbe *be, int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		NB_LOG_RL(NETBE_LOG_ERR, "%s: cannot signal the loop: %s",
			  be->ops->name, strerror(errno));
}

/* The eventfd that wakes the loop of the transmit side. */
static int tx_kick_fd(const struct netbe *be)
{
	return be->core->split ? be->core->tx_kick_fd : be->core->kick_fd;
}

/* Raise kick flag @flag; write eventfd @fd only when it goes up: on_kick()
 * lowers it before acting, so a kick after that writes again, and one
 * before it is served by that very call. The exchange is a full barrier
 * (a plain load first would let a producer's frame and the consumer's
 * lowering of the flag cross: a lost wakeup). */
static void kick_flag(struct netbe *be, int *flag, int fd)
{
	if (!__atomic_exchange_n(flag, 1, __ATOMIC_SEQ_CST))
		write_kick(be, fd);
}

/*
 * Start (@value true) or stop waiting for the backend to take frames.
 * @on_tx_loop: called on the tx loop's thread. With a tx loop, a wait that
 * starts elsewhere (a sending thread) leaves the watch to the tx loop: the
 * kick makes it arm the watch (on_tx_kick), so only that thread changes it.
 */
static void set_tx_waiting(struct netbe *be, bool value, bool on_tx_loop)
{
	struct netbe_core_state *c = be->core;
	bool arm_there = false;

	pthread_mutex_lock(&c->lock);
	if (c->tx_waiting != value) {
		c->tx_waiting = value;
		if (!c->split)
			update_watches(be);
		else if (on_tx_loop)
			update_tx_watch(be);
		else
			arm_there = c->tx_watch != NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (arm_there)
		kick_flag(be, &c->tx_arm_due, c->tx_kick_fd);
}

/* The eventfd that wakes the loop of direction @d (NB_TX or NB_RX). */
static int dir_kick_fd(const struct netbe *be, unsigned d)
{
	return d == NB_TX ? tx_kick_fd(be) : be->core->kick_fd;
}

void core_kick(struct netbe *be, unsigned d)
{
	write_kick(be, dir_kick_fd(be, d));
}

/* The handle whose netbe_send_burst() runs on this thread with inline
 * receive (NETBE_CFG_RX_INLINE), or NULL. Read on every send and kick, so
 * initial-exec: a %fs-relative load instead of a __tls_get_addr() call
 * (8 bytes of static TLS, which glibc reserves even for a dlopen()ed
 * libnetbe). */
static __thread struct netbe *inline_sender __attribute__((tls_model("initial-exec")));

void core_throttle_kick(struct netbe *be, unsigned d)
{
	kick_flag(be, &be->core->thr_kicked[d], dir_kick_fd(be, d));
}

/* Have the loop call the rx callback. */
static void rx_kick_loop(struct netbe *be)
{
	kick_flag(be, &be->core->rx_kicked, be->core->kick_fd);
}

void netbe_rx_kick(struct netbe *be)
{
	if (inline_sender == be)
		be->core->rx_inline_due = true;
	else
		rx_kick_loop(be);
}

void netbe_tx_kick(struct netbe *be)
{
	kick_flag(be, &be->core->tx_kicked, tx_kick_fd(be));
}

/* The tx side became ready (on the tx loop's thread): stop waiting and
 * tell the frontend. */
static void tx_ready(struct netbe *be)
{
	int ret = 0;

	set_tx_waiting(be, false, true);
	pthread_mutex_lock(&be->core->tx_lock);
	if (soft_tx_pending(be))
		ret = soft_tx_flush(be);
	if (!ret && be->core->faults)
		ret = faults_tx_ready(be);
	pthread_mutex_unlock(&be->core->tx_lock);
	if (ret == -EAGAIN) {
		set_tx_waiting(be, true, true);
		return;
	}
	if (be->cfg.tx_cb)
		be->cfg.tx_cb(be, be->cfg.opaque);
}

/*
 * Frames may be pending: call the frontend's rx callback if it listens.
 * The callback is never entered twice: while it runs (a send from inside
 * it answered), the news goes to the loop instead.
 */
static void rx_ready(struct netbe *be)
{
	struct netbe_core_state *c = be->core;

	if (!c->rx_enabled || !be->cfg.rx_cb ||
	    __atomic_load_n(&c->thr[NB_RX].on, __ATOMIC_ACQUIRE))
		return;
	if (__atomic_exchange_n(&c->in_rx_cb, true, __ATOMIC_ACQUIRE)) {
		rx_kick_loop(be);
		return;
	}
	be->cfg.rx_cb(be, be->cfg.opaque);
	__atomic_store_n(&c->in_rx_cb, false, __ATOMIC_RELEASE);
}

void core_rx_ready(struct netbe *be)
{
	rx_ready(be);
}

/*
 * Hand the answers the backend queued during an inline-rx send to the
 * frontend now, with the send's locks dropped; kicks made meanwhile (by
 * sends from inside the callback) go to the loop. With rx disabled they
 * wait like any frames: netbe_rx_enable() kicks.
 */
static void rx_inline(struct netbe *be)
{
	be->core->rx_inline_due = false;
	inline_sender = NULL;
	rx_ready(be);
	inline_sender = be;
}

static void on_thr_tx_timer(void *opaque);
static void on_thr_rx_timer(void *opaque);

/* Arm direction @d's throttle timer, on that direction's loop, to fire in
 * @wait_ns, creating it on first use. That loop's thread only. */
static void throttle_timer_arm(struct netbe *be, unsigned d, uint64_t wait_ns)
{
	struct netbe_core_state *c = be->core;
	const struct netbe_loop *l = core_dir_loop(be, d);
	int ret = 0;

	if (!c->thr_timer[d])
		ret = l->ops->timer_add(l->loop, d == NB_TX ? on_thr_tx_timer : on_thr_rx_timer,
					be, &c->thr_timer[d]);
	if (!ret)
		ret = l->ops->timer_mod(l->loop, c->thr_timer[d], wait_ns, 0);
	if (ret < 0) {
		/* no timer: look again at the next loop round */
		NB_LOG_RL(NETBE_LOG_ERR, "%s: cannot arm the rate limit timer: %s",
			  be->ops->name, strerror(-ret));
		core_throttle_kick(be, d);
	}
}

/*
 * On direction @d's loop thread: end its throttling if its tokens are
 * back and call the frontend back (tx_cb or rx_cb), pause the rx watch
 * while a receive is held back (a level-triggered fd would spin), and
 * arm the timer for the rest of the wait.
 */
static void throttle_run(struct netbe *be, unsigned d)
{
	uint64_t wait_ns;
	unsigned bits = throttle_poll(be, d, &wait_ns);

	if (d == NB_RX)
		set_rx_flag(be, &be->core->rx_paused, bits & THR_HELD(NB_RX));
	if (wait_ns)
		throttle_timer_arm(be, d, wait_ns);
	if (bits & THR_READY(d)) {
		if (d == NB_TX)
			tx_ready(be);
		else
			rx_ready(be);
	}
}

/* The tx throttle timer expired (tx loop): see what the tokens allow. */
static void on_thr_tx_timer(void *opaque)
{
	throttle_run(opaque, NB_TX);
}

/* The rx throttle timer expired (be->loop): see what the tokens allow. */
static void on_thr_rx_timer(void *opaque)
{
	throttle_run(opaque, NB_RX);
}

/* Empty kick eventfd @fd. */
static void drain_kick(struct netbe *be, int fd)
{
	uint64_t count;

	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		NB_LOG_RL(NETBE_LOG_ERR, "%s: cannot read the kick eventfd: %s",
			  be->ops->name, strerror(errno));
}

/* On direction @d's loop thread: arm the fault timer a sender or receiver
 * asked for and look at the throttle state it kicked for. */
static void serve_dir_kicks(struct netbe *be, unsigned d)
{
	if (__atomic_load_n(&be->core->faults, __ATOMIC_RELAXED))
		faults_kick(be, d);
	if (__atomic_exchange_n(&be->core->thr_kicked[d], 0, __ATOMIC_ACQ_REL))
		throttle_run(be, d);
}

/* Serve the kicks of the transmit side on the tx loop's thread: faults,
 * throttle and netbe_tx_kick(), each of which may lead to tx_cb. */
static void serve_tx_kick(struct netbe *be)
{
	serve_dir_kicks(be, NB_TX);
	if (__atomic_exchange_n(&be->core->tx_kicked, 0, __ATOMIC_ACQ_REL))
		tx_ready(be);
}

/* The kick eventfd on be->loop: the receive side's kicks (rx, its fault
 * timer, its throttle), and the transmit side's too unless split. */
static void on_kick(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;

	(void)revents;
	drain_kick(be, fd);
	if (!be->core->split)
		serve_tx_kick(be);
	serve_dir_kicks(be, NB_RX);
	if (__atomic_exchange_n(&be->core->rx_kicked, 0, __ATOMIC_ACQ_REL))
		rx_ready(be);   /* with rx disabled, netbe_rx_enable() kicks */
}

/* The watch on rx_fd (be->loop): frames, and without a tx loop the tx
 * events of a shared fd. */
static void on_rx_fd(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	bool shared = !be->core->split && be->tx_fd == fd;

	if (shared && be->core->tx_waiting &&
	    (revents & (be->tx_events | NETBE_EV_ERR | NETBE_EV_HUP)))
		tx_ready(be);
	if (revents & (NETBE_EV_IN | NETBE_EV_ERR | NETBE_EV_HUP))
		rx_ready(be);
}

/* The watch on the tx fd (the tx loop): the backend takes frames again. */
static void on_tx_fd(void *opaque, int fd, unsigned revents)
{
	(void)fd;
	(void)revents;
	tx_ready(opaque);
}

/* The loop refused to watch an fd: say so. Return: @ret. */
static int watch_refused(struct netbe *be, int ret)
{
	return netbe_errf(ret, "%s: the loop refused to watch an fd: %s",
			  be->ops->name, strerror(-ret));
}

/* Watch the backend's rx_fd on be->loop and, without a tx loop, its tx_fd
 * too (one watch when they are the same fd), with the masks the current
 * state asks for. Caller holds the lock. Return: 0, or -errno with a
 * message. */
static int rx_side_add(struct netbe *be)
{
	struct netbe_core_state *c = be->core;
	int ret = 0;

	if (be->rx_fd >= 0)
		ret = be->loop.ops->watch_add(be->loop.loop, be->rx_fd, on_rx_fd,
					      be, &c->rx_watch);
	if (!ret && !c->split && be->tx_fd >= 0 && be->tx_fd != be->rx_fd)
		ret = be->loop.ops->watch_add(be->loop.loop, be->tx_fd, on_tx_fd,
					      be, &c->tx_watch);
	if (ret < 0)
		return watch_refused(be, ret);
	update_rx_watch(be);
	if (!c->split)
		update_tx_watch(be);
	return 0;
}

/* Stop the watches rx_side_add() made. Caller holds the lock. */
static void rx_side_del(struct netbe *be)
{
	struct netbe_core_state *c = be->core;

	if (c->rx_watch)
		be->loop.ops->watch_del(be->loop.loop, c->rx_watch);
	if (!c->split && c->tx_watch)
		be->loop.ops->watch_del(be->loop.loop, c->tx_watch);
	c->rx_watch = NULL;
	if (!c->split)
		c->tx_watch = NULL;
}

/* Close fd *@fd if open and mark it closed. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Duplicate the backend's tx_fd for the tx loop to watch (split). The
 * backend may close its fd once netbe_set_fds() returns, before the tx
 * loop stops watching the old one: core's copy keeps that registration
 * valid. Return: the copy, -1 for no tx_fd, or -errno with a message. */
static int tx_fd_copy(struct netbe *be)
{
	int fd;

	if (be->tx_fd < 0)
		return -1;
	fd = fcntl(be->tx_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return netbe_errf(-errno, "%s: cannot duplicate the tx fd: %s - raise the open file limit (ulimit -n)",
				  be->ops->name, strerror(errno));
	return fd;
}

/* Split: watch core's copy of the tx fd on the tx loop, from that loop's
 * thread or open. Caller holds the lock. Return: 0 or -errno, with a
 * message. */
static int tx_side_add(struct netbe *be)
{
	struct netbe_core_state *c = be->core;
	int ret;

	if (c->tx_copy < 0)
		return 0;
	ret = c->tx_loop.ops->watch_add(c->tx_loop.loop, c->tx_copy, on_tx_fd,
					be, &c->tx_watch);
	if (ret < 0)
		return watch_refused(be, ret);
	update_tx_watch(be);
	return 0;
}

/* Split: stop watching the tx fd copy and close it. Caller holds lock. */
static void tx_side_del(struct netbe *be)
{
	struct netbe_core_state *c = be->core;

	if (c->split && c->tx_watch)
		c->tx_loop.ops->watch_del(c->tx_loop.loop, c->tx_watch);
	if (c->split)
		c->tx_watch = NULL;
	close_fd(&c->tx_copy);
}

/* On the tx loop (split): watch the tx fd that netbe_set_fds() left in
 * tx_copy_next instead of the old one. Caller holds the lock. */
static void tx_side_swap(struct netbe *be)
{
	struct netbe_core_state *c = be->core;

	if (!c->tx_copy_due)
		return;
	tx_side_del(be);
	c->tx_copy = c->tx_copy_next;
	c->tx_copy_next = -1;
	c->tx_copy_due = false;
	if (tx_side_add(be))
		NB_LOG_RL(NETBE_LOG_ERR, "%s: a send that waits may not hear when it can go on: %s",
			  be->ops->name, netbe_last_error());
}

/* The tx kick eventfd on the tx loop (split only): take a new tx fd, arm
 * the tx watch for a wait that started on another thread, and serve tx
 * kicks. */
static void on_tx_kick(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	struct netbe_core_state *c = be->core;

	(void)revents;
	drain_kick(be, fd);
	if (__atomic_exchange_n(&c->tx_swap_due, 0, __ATOMIC_ACQ_REL)) {
		pthread_mutex_lock(&c->lock);
		tx_side_swap(be);
		pthread_mutex_unlock(&c->lock);
	}
	if (__atomic_exchange_n(&c->tx_arm_due, 0, __ATOMIC_ACQ_REL)) {
		pthread_mutex_lock(&c->lock);
		update_tx_watch(be);
		pthread_mutex_unlock(&c->lock);
	}
	serve_tx_kick(be);
}

/* Create an eventfd in *@fd watched for input by @l, calling @fn.
 * Return: 0, or -errno with a message. */
static int kick_add(struct netbe *be, const struct netbe_loop *l,
		    netbe_watch_fn fn, int *fd, void **watch)
{
	int ret;

	*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (*fd < 0)
		return netbe_errf(-errno, "%s: cannot create an eventfd: %s",
				  be->ops->name, strerror(errno));
	ret = l->ops->watch_add(l->loop, *fd, fn, be, watch);
	if (!ret)
		ret = l->ops->watch_mod(l->loop, *watch, NETBE_EV_IN);
	return ret < 0 ? watch_refused(be, ret) : 0;
}

/* Stop watching kick eventfd *@fd on @l and close it. */
static void kick_del(const struct netbe_loop *l, int *fd, void **watch)
{
	if (*watch)
		l->ops->watch_del(l->loop, *watch);
	*watch = NULL;
	close_fd(fd);
}

/* Register the kick eventfds and the backend's fds with the loops.
 * Return: 0, or -errno with a message. */
static int watches_add(struct netbe *be)
{
	struct netbe_core_state *c = be->core;
	int ret = kick_add(be, &be->loop, on_kick, &c->kick_fd, &c->kick_watch);

	if (!ret && c->split)
		ret = kick_add(be, &c->tx_loop, on_tx_kick, &c->tx_kick_fd,
			       &c->tx_kick_watch);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	ret = rx_side_add(be);
	if (!ret && c->split) {
		c->tx_copy = tx_fd_copy(be);
		ret = c->tx_copy < -1 ? c->tx_copy : tx_side_add(be);
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* Undo watches_add(): stop every watch and close core's fds. */
static void watches_del(struct netbe *be)
{
	struct netbe_core_state *c = be->core;

	pthread_mutex_lock(&c->lock);
	rx_side_del(be);
	tx_side_del(be);
	close_fd(&c->tx_copy_next);
	pthread_mutex_unlock(&c->lock);
	kick_del(&c->tx_loop, &c->tx_kick_fd, &c->tx_kick_watch);
	kick_del(&be->loop, &c->kick_fd, &c->kick_watch);
}

/*
 * Called on be->loop's thread. The receive side's watches change here;
 * with a tx loop, the transmit side's change on that loop's thread: a copy
 * of the new tx fd waits in tx_copy_next and the tx kick makes on_tx_kick
 * swap it in.
 */
int netbe_set_fds(struct netbe *be, int rx_fd, int tx_fd)
{
	struct netbe_core_state *c = be->core;
	int ret, copy = -1;

	pthread_mutex_lock(&c->lock);
	rx_side_del(be);
	be->rx_fd = rx_fd;
	be->tx_fd = tx_fd;
	ret = rx_side_add(be);
	if (c->split) {
		copy = tx_fd_copy(be);
		if (copy < -1 && !ret)
			ret = copy;
		close_fd(&c->tx_copy_next);
		c->tx_copy_next = copy < 0 ? -1 : copy;
		c->tx_copy_due = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (c->split)
		kick_flag(be, &c->tx_swap_due, c->tx_kick_fd);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

static bool loop_valid(const struct netbe_loop *l)
{
	const struct netbe_loop_ops *o = l ? l->ops : NULL;

	return o && o->watch_add && o->watch_mod && o->watch_del &&
	       o->timer_add && o->timer_mod && o->timer_del;
}

/*
 * Check the caller's config: known flags, and a complete tx loop without
 * inline receive for NETBE_CFG_TX_LOOP. cfg->tx_loop is read only with
 * that flag (a program built against the shorter struct has no such
 * field). Return: 0 or -EINVAL with a message.
 */
static int config_check(const struct netbe_config *cfg)
{
	unsigned known = NETBE_CFG_RX_INLINE | NETBE_CFG_TX_LOOP;

	if (!cfg)
		return 0;
	if (cfg->flags & ~known)
		return netbe_errf(-EINVAL, "netbe_open: unknown flags 0x%x in the config (known: NETBE_CFG_RX_INLINE, NETBE_CFG_TX_LOOP)",
				  cfg->flags & ~known);
	if (!(cfg->flags & NETBE_CFG_TX_LOOP))
		return 0;
	if (!loop_valid(cfg->tx_loop))
		return netbe_errf(-EINVAL, "netbe_open: NETBE_CFG_TX_LOOP needs cfg->tx_loop, a loop adapter with all six operations");
	if (cfg->flags & NETBE_CFG_RX_INLINE)
		return netbe_errf(-EINVAL, "netbe_open: NETBE_CFG_RX_INLINE runs rx_cb on the sending thread, NETBE_CFG_TX_LOOP keeps it on the main loop: pass one of them");
	return 0;
}

/* Copy the caller's config into @be, up to flags, and the tx loop when
 * the flags say it is there (else the tx side uses be->loop). */
static void config_copy(struct netbe *be, const struct netbe_config *cfg)
{
	if (cfg)
		memcpy(&be->cfg, cfg, offsetof(struct netbe_config, flags) +
		       sizeof(cfg->flags));
	be->core->split = cfg && (cfg->flags & NETBE_CFG_TX_LOOP);
	be->core->tx_loop = be->core->split ? *cfg->tx_loop : be->loop;
}

/* Allocate a handle for @b with its core state; backend fields unset. */
static struct netbe *handle_new(const struct netbe_backend *b,
				const struct netbe_config *cfg,
				const struct netbe_loop *loop)
{
	struct netbe *be = calloc(1, sizeof(*be) + b->priv_size);

	if (!be)
		return NULL;
	be->core = calloc(1, sizeof(*be->core));
	if (!be->core) {
		free(be);
		return NULL;
	}
	pthread_mutex_init(&be->core->lock, NULL);
	pthread_mutex_init(&be->core->tx_lock, NULL);
	pthread_mutex_init(&be->core->thr_lock, NULL);
	be->core->kick_fd = be->core->tx_kick_fd = -1;
	be->core->tx_copy = be->core->tx_copy_next = -1;
	capture_init(&be->core->cap);
	be->ops = b;
	be->loop = *loop;
	config_copy(be, cfg);
	be->rx_fd = be->tx_fd = -1;
	return be;
}

static void handle_free(struct netbe *be)
{
	faults_free(be);
	capture_fini(be);
	soft_free(be);
	pthread_mutex_destroy(&be->core->thr_lock);
	pthread_mutex_destroy(&be->core->tx_lock);
	pthread_mutex_destroy(&be->core->lock);
	free(be->core->stash);
	free(be->core);
	free(be);
}

/* Read the common key offload=. Return: 0 or -EINVAL with a message. */
static int offload_mode(struct netbe *be, const struct netbe_spec *s)
{
	static const char *const modes[] = { "auto", "native", "soft", "off", NULL };
	int mode;
	int ret = netbe_spec_choice(s, "offload", modes, OFFLOAD_AUTO, &mode);

	be->core->offload = (enum offload_mode)mode;
	return ret;
}

/* After the backend opened: fill defaults, check what it set, allocate
 * the stash and register the watches. */
static int handle_finish(struct netbe *be)
{
	if (!be->rx_max)
		be->rx_max = be->be_hdr_len + NETBE_FRAME_MAX;
	if (!be->tx_max)
		be->tx_max = be->be_hdr_len + NETBE_FRAME_MAX;
	if (be->be_hdr_len != 0 && be->be_hdr_len != NETBE_VNET_HDR_LEN_LEGACY &&
	    be->be_hdr_len != NETBE_VNET_HDR_LEN_MRG)
		return netbe_errf(-EINVAL, "%s: backend header length %u is not 0, 10 or 12",
				  be->ops->name, be->be_hdr_len);
	if (be->core->offload == OFFLOAD_AUTO || be->core->offload == OFFLOAD_NATIVE)
		be->core->native = be->native_caps;
	be->core->stash = malloc(be->rx_max);
	if (!be->core->stash)
		return netbe_errf(-ENOMEM, "%s: out of memory", be->ops->name);
	return watches_add(be);
}

NETBE_EXPORT int netbe_open(struct netbe **bep, const char *spec,
			    const struct netbe_config *cfg,
			    const struct netbe_loop *loop)
{
	struct capture_request cap = { 0 };
	struct throttle_spec ts;
	struct netbe_spec s;
	struct netbe *be;
	int ret;

	if (!bep)
		return netbe_errf(-EINVAL, "netbe_open: the handle pointer is NULL");
	*bep = NULL;
	if (!loop_valid(loop))
		return netbe_errf(-EINVAL, "netbe_open: a loop adapter with all six operations is required (netbe_epoll_loop() gives one)");
	ret = config_check(cfg);
	if (ret)
		return ret;
	ret = netbe_spec_parse(&s, spec);
	if (ret)
		return ret;
	be = handle_new(s.backend, cfg, loop);
	if (!be) {
		netbe_spec_free(&s);
		return netbe_errf(-ENOMEM, "%s: out of memory", s.backend->name);
	}
	snprintf(be->name, sizeof(be->name), "%s", s.name ? s.name : "");
	ret = offload_mode(be, &s);
	if (!ret)
		ret = controls_open(be, &s);
	if (!ret)
		ret = faults_from_spec(be, &s);
	if (!ret)
		ret = capture_spec(&s, &cap);
	if (!ret)
		ret = throttle_parse(be, &s, &ts);
	if (!ret)
		ret = be->ops->open(be, &s);
	if (ret) {
		free(cap.path);
		netbe_spec_free(&s);
		handle_free(be);
		return ret < 0 ? ret : -EIO;
	}
	ret = handle_finish(be);
	if (!ret)
		ret = throttle_attach(be, &ts);
	if (!ret && cap.path)
		ret = netbe_capture_start(be, cap.path, cap.snaplen, cap.format);
	free(cap.path);
	netbe_spec_free(&s);
	if (ret) {
		netbe_close(be);
		return ret;
	}
	*bep = be;
	return 0;
}

/* Say what closing @be throws away: segments of a super-frame the backend
 * never took (the frontend was told they were sent) and frames held back
 * for a receive that never came. */
static void close_report(struct netbe *be)
{
	struct soft_queue *t = &be->core->soft_tx, *r = &be->core->soft_rx;
	unsigned tx = t->nsegs - t->next;
	unsigned rx = r->nsegs - r->next + (be->core->stash_len != 0);

	if (tx || rx)
		nb_info("%s: closed with %u segments unsent and %u frames unreceived",
			be->ops->name, tx, rx);
}

NETBE_EXPORT void netbe_close(struct netbe *be)
{
	unsigned d;

	if (!be)
		return;
	close_report(be);
	throttle_detach(be);
	for (d = 0; d < 2; d++) {
		const struct netbe_loop *l = core_dir_loop(be, d);

		if (be->core->thr_timer[d])
			l->ops->timer_del(l->loop, be->core->thr_timer[d]);
	}
	watches_del(be);
	be->ops->close(be);
	handle_free(be);
}

NETBE_EXPORT const char *netbe_name(const struct netbe *be)
{
	return be ? be->ops->name : "";
}

/* ------------------------------------------------------------------------ */
/* Negotiation                                                              */
/* ------------------------------------------------------------------------ */

/* Offloads core can do in software for any backend. */
#define SOFT_CAPS (NETBE_F_HOST_OFFLOADS | NETBE_F_GUEST_OFFLOADS)

NETBE_EXPORT uint64_t netbe_get_cap(struct netbe *be)
{
	if (!be)
		return 0;
	switch (be->core->offload) {
	case OFFLOAD_AUTO:
		if (!be->auto_native_only)
			return be->core->native | SOFT_CAPS | NETBE_F_MRG_RXBUF;
		/* fall through */
	case OFFLOAD_NATIVE:
		return be->native_caps | NETBE_F_MRG_RXBUF;
	case OFFLOAD_OFF:
		return NETBE_F_MRG_RXBUF;
	default:
		return be->core->native | SOFT_CAPS | NETBE_F_MRG_RXBUF;
	}
}

NETBE_EXPORT int netbe_set_cap(struct netbe *be, uint64_t features,
			       unsigned vnet_hdr_len)
{
	uint64_t offloads = NETBE_F_HOST_OFFLOADS | NETBE_F_GUEST_OFFLOADS;
	int ret;

	if (!be)
		return netbe_errf(-EINVAL, "netbe_set_cap: handle is NULL");
	if (features & ~netbe_get_cap(be))
		return netbe_errf(-EINVAL, "%s: features 0x%llx are not offered (netbe_get_cap() gives 0x%llx)",
				  be->ops->name, (unsigned long long)features,
				  (unsigned long long)netbe_get_cap(be));
	if (!vnet_hdr_len_valid(vnet_hdr_len))
		return netbe_errf(-EINVAL, "%s: virtio-net header length %u is not 0, 10, 12 or 20",
				  be->ops->name, vnet_hdr_len);
	if ((features & offloads) && !vnet_hdr_len)
		return netbe_errf(-EINVAL, "%s: offload features need a virtio-net header: pass a header length of 10, 12 or 20",
				  be->ops->name);
	if ((features & NETBE_F_MRG_RXBUF) && vnet_hdr_len < NETBE_VNET_HDR_LEN_MRG)
		return netbe_errf(-EINVAL, "%s: MRG_RXBUF needs a header of at least 12 bytes",
				  be->ops->name);
	if (be->ops->set_offload) {
		ret = be->ops->set_offload(be, features & be->core->native);
		if (ret)
			return ret;
	}
	be->features = features;
	be->fe_hdr_len = vnet_hdr_len;
	/* A backend without set_offload may hand over any offload it carries
	 * (pair); those frames are received one at a time. */
	be->core->rx_one_by_one = be->be_hdr_len && !be->ops->set_offload &&
		(be->native_caps & NETBE_F_GUEST_OFFLOADS & ~features);
	return 0;
}

NETBE_EXPORT size_t netbe_get_vnet_hdr_len(struct netbe *be)
{
	return be ? be->fe_hdr_len : 0;
}

/* ------------------------------------------------------------------------ */
/* Transmit                                                                 */
/* ------------------------------------------------------------------------ */

/* What the transmit path does with a frame. */
enum tx_class {
	TX_NATIVE,     /* the backend takes it as it is */
	TX_SOFT,       /* offloads done in software first (softpath.c) */
	TX_DROP,       /* dropped and counted */
};

/* Classify frame @f of @len bytes; *@why gets the drop reason, *@h its
 * frontend header. */
static enum tx_class tx_classify(struct netbe *be, const struct netbe_frame *f,
				 size_t len, enum netbe_drop_reason *why,
				 struct netbe_vnet_hdr *h)
{
	size_t frame_len = len - be->fe_hdr_len;
	bool soft;

	memset(h, 0, sizeof(*h));
	*why = NETBE_DROP_TX_LINK_DOWN;
	if (__atomic_load_n(&be->core->admin_down, __ATOMIC_RELAXED))
		return TX_DROP;
	*why = NETBE_DROP_TX_RUNT;
	if (len < be->fe_hdr_len + ETH_HDR_LEN)
		return TX_DROP;
	*why = NETBE_DROP_TX_SPOOFED;
	if (be->core->mac_set && controls_tx_spoofed(be, f->iov, f->iovcnt))
		return TX_DROP;
	if (be->fe_hdr_len) {
		vnet_hdr_read(f->iov, f->iovcnt, be->fe_hdr_len, h);
		*why = vnet_hdr_check_tx(h, be->features, frame_len);
		if (*why != NETBE_DROP__MAX)
			return TX_DROP;
	}
	/* A super-frame segmented in software only has to fit the engine;
	 * everything else has to fit the backend. A super-frame the backend
	 * could segment but cannot carry whole (a link with a small MTU) is
	 * segmented in software too. */
	soft = be->fe_hdr_len && (soft_tx_needed(be, h) ||
		(h->gso_type != NETBE_GSO_NONE &&
		 frame_len + be->be_hdr_len > be->tx_max));
	*why = NETBE_DROP_TX_TOO_BIG;
	if (soft && h->gso_type != NETBE_GSO_NONE)
		return frame_len > NETBE_FRAME_MAX ? TX_DROP : TX_SOFT;
	if (frame_len + be->be_hdr_len > be->tx_max)
		return TX_DROP;
	*why = NETBE_DROP__MAX;
	return soft ? TX_SOFT : TX_NATIVE;
}

/*
 * Point xfer @j of @d at frame @f's bytes in the backend's header length:
 * the caller's iovec itself when both header lengths agree, else a scratch
 * header segment (d->hdr[j], filled by the caller) followed by the frame's
 * bytes after the frontend header. Return: 0, or -E2BIG when the scratch
 * iovec pool is exhausted.
 */
static int xfer_map(struct netbe *be, struct dir_scratch *d, unsigned j,
		    const struct netbe_frame *f, unsigned *pool_used)
{
	struct netbe_xfer *x = &d->x[j];
	struct iovec *out = d->iov + *pool_used;
	int room = IOV_POOL - (int)*pool_used, has_hdr = be->be_hdr_len != 0, n;

	if (be->fe_hdr_len == be->be_hdr_len) {
		x->iov = (struct iovec *)f->iov;
		x->iovcnt = f->iovcnt;
		return 0;
	}
	if (room < 2)
		return -E2BIG;
	if (has_hdr) {
		out[0].iov_base = d->hdr[j];
		out[0].iov_len = be->be_hdr_len;
	}
	n = iov_tail(f->iov, f->iovcnt, be->fe_hdr_len, out + has_hdr, room - 1);
	if (n < 0)
		return n;
	x->iov = out;
	x->iovcnt = n + has_hdr;
	*pool_used += (unsigned)x->iovcnt;
	return 0;
}

/* Describe frame @f of @len bytes, frontend header @h, as transmit xfer
 * @j. Return: 0 or -E2BIG. */
static int tx_xfer(struct netbe *be, const struct netbe_frame *f, size_t len,
		   const struct netbe_vnet_hdr *h, unsigned j, unsigned *pool_used)
{
	struct dir_scratch *t = &be->core->tx;

	t->x[j].len = len - be->fe_hdr_len + be->be_hdr_len;
	t->x[j].err = 0;
	if (be->be_hdr_len && be->fe_hdr_len != be->be_hdr_len) {
		struct netbe_vnet_hdr bh = *h;

		bh.num_buffers = 0;
		vnet_hdr_encode(t->hdr[j], be->be_hdr_len, &bh);
	}
	return xfer_map(be, t, j, f, pool_used);
}

size_t core_tx_frame_max(const struct netbe *be)
{
	size_t max = be->tx_max - be->be_hdr_len;

	return max < NETBE_FRAME_MAX ? max : NETBE_FRAME_MAX;
}

/* The run of frames at the front of @x that fit be->tx_max. Return: its
 * length; 0 means x[0] is too long. */
static unsigned tx_fitting_run(const struct netbe *be,
			       const struct netbe_xfer *x, unsigned n)
{
	unsigned m;

	for (m = 0; m < n && x[m].len <= be->tx_max; m++)
		;
	return m;
}

int core_tx_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	unsigned m = tx_fitting_run(be, x, n), j;
	int ret;

	if (!m) {
		netbe_count_drop(be, NETBE_DROP_TX_TOO_BIG);
		NB_LOG_RL(NETBE_LOG_ERR, "%s: internal: a %zu-byte frame reached the send path (largest %zu); dropped",
			  be->ops->name, x[0].len, be->tx_max);
		return 1;
	}
	ret = be->ops->send(be, x, m);
	if (ret == 0)
		ret = -EAGAIN;  /* took nothing: wait, never retry in a loop */
	for (j = 0; ret > 0 && j < (unsigned)ret; j++) {
		if (x[j].err == NETBE_XFER_ACCOUNTED)
			continue;
		if (x[j].err) {
			netbe_count_drop(be, x[j].err == -EMSGSIZE ? NETBE_DROP_TX_TOO_BIG
								 : NETBE_DROP_TX_ERROR);
			continue;
		}
		core_count(&be->stats.tx_frames, 1);
		core_count(&be->stats.tx_bytes, x[j].len - be->be_hdr_len);
	}
	return ret;
}

void core_tx_wait(struct netbe *be)
{
	set_tx_waiting(be, true, false);
}

/* The backend refused with @ret: count and arm the wait for -EAGAIN.
 * Return: @ret. */
static int tx_refused(struct netbe *be, int ret)
{
	if (ret == -EAGAIN) {
		core_count(&be->stats.tx_eagain, 1);
		core_tx_wait(be);
	}
	return ret;
}

/* Queue frame @f (@len bytes, frontend header @h) for software offload
 * and push out what the backend takes now. Return: 1 (the frame is
 * consumed), or a hard -errno. */
static int tx_soft(struct netbe *be, struct netbe_frame *f, size_t len,
		   const struct netbe_vnet_hdr *h)
{
	int ret;

	f->result = (ssize_t)len;
	if (soft_tx_start(be, f, len, h))
		return 1;
	ret = soft_tx_flush(be);
	if (ret == -EAGAIN)
		core_tx_wait(be);
	else if (ret < 0)
		return ret;
	return 1;
}

/*
 * Send one chunk: a frame to drop, a frame for the software path, or the
 * leading run of frames the backend takes as they are (each classified
 * once). Return: frames consumed, -EAGAIN, or -errno.
 */
static int tx_chunk(struct netbe *be, struct netbe_frame *f, unsigned n)
{
	enum netbe_drop_reason why;
	struct netbe_vnet_hdr h;
	unsigned m, pool_used = 0;
	int ret;

	if (soft_tx_pending(be)) {
		ret = soft_tx_flush(be);
		if (ret)
			return tx_refused(be, ret);
	}
	for (m = 0; m < n && m < NETBE_BURST; m++) {
		size_t len = iov_length(f[m].iov, f[m].iovcnt);
		enum tx_class cls = tx_classify(be, &f[m], len, &why, &h);

		if (cls != TX_NATIVE && m)
			break;          /* send the run first */
		if (cls == TX_DROP) {
			netbe_count_drop(be, why);
			f[m].result = (ssize_t)len;
			return 1;
		}
		if (cls == TX_SOFT)
			return tx_soft(be, &f[m], len, &h);
		if (tx_xfer(be, &f[m], len, &h, m, &pool_used))
			break;
		f[m].result = (ssize_t)len;
	}
	if (!m)
		return NB_ERR_RL(-EINVAL, "%s: a frame has more than %d segments",
				 be->ops->name, NETBE_MAX_FRAME_IOV);
	ret = core_tx_send(be, be->core->tx.x, m);
	return ret < 0 ? tx_refused(be, ret) : ret;
}

int core_tx_one(struct netbe *be, struct netbe_frame *f)
{
	return tx_chunk(be, f, 1);
}

/* Check the caller's burst. Return: 0 or -EINVAL with a message. */
static int check_frames(struct netbe *be, const char *fn,
			const struct netbe_frame *f, unsigned n)
{
	unsigned i;

	if (!be)
		return NB_ERR_RL(-EINVAL, "%s: handle is NULL", fn);
	if (!f && n)
		return NB_ERR_RL(-EINVAL, "%s: frames is NULL", fn);
	for (i = 0; i < n; i++)
		if (!f[i].iov || f[i].iovcnt <= 0 ||
		    f[i].iovcnt > NETBE_MAX_FRAME_IOV)
			return NB_ERR_RL(-EINVAL, "%s: frame %u has no iovec or more than %d segments",
					 fn, i, NETBE_MAX_FRAME_IOV);
	return 0;
}

/* The tx limit let @admitted of the @n frames of a burst through: count
 * a cut burst as a refusal. Caller holds tx_lock. */
static void tx_limited(struct netbe *be, unsigned admitted, unsigned n)
{
	if (admitted < n)
		core_count(&be->stats.tx_eagain, 1);
}

NETBE_EXPORT int netbe_send_burst(struct netbe *be, struct netbe_frame *frames,
				  unsigned n)
{
	struct rl_shared *lim;
	struct netbe *outer;
	unsigned done = 0, want;
	int ret = check_frames(be, "netbe_send_burst", frames, n);

	if (ret || !n)
		return ret;
	if (__builtin_expect(__atomic_load_n(&be->core->fault_on[NETBE_DIR_TX],
					     __ATOMIC_RELAXED), 0)) {
		/* captured as the frontend sent them, before the faults */
		ret = faults_tx_burst(be, frames, n);
		if (ret > 0 && capture_on(&be->core->cap))
			capture_frames(be, frames, (unsigned)ret, be->fe_hdr_len, true);
		return ret;
	}
	outer = inline_sender;
	inline_sender = be->cfg.flags & NETBE_CFG_RX_INLINE ? be : NULL;
	pthread_mutex_lock(&be->core->tx_lock);
	want = n;
	lim = __atomic_load_n(&be->core->lim[NB_TX], __ATOMIC_ACQUIRE);
	if (__builtin_expect(lim != NULL, 0)) {
		want = throttle_tx_admit(be, lim, frames, n);
		tx_limited(be, want, n);
		ret = want ? 0 : -EAGAIN;
	}
	while (done < want) {
		ret = tx_chunk(be, frames + done, want - done);
		if (ret <= 0)
			break;
		if (capture_on(&be->core->cap))
			capture_frames(be, frames + done, (unsigned)ret, be->fe_hdr_len, true);
		done += (unsigned)ret;
		if (be->core->rx_inline_due && done < want) {
			pthread_mutex_unlock(&be->core->tx_lock);
			rx_inline(be);
			pthread_mutex_lock(&be->core->tx_lock);
		}
	}
	if (lim && done < want)
		throttle_tx_refund(be, lim, frames + done, want - done);
	pthread_mutex_unlock(&be->core->tx_lock);
	if (be->core->rx_inline_due)
		rx_inline(be);
	inline_sender = outer;
	if (done)
		return (int)done;
	return ret ? ret : -EAGAIN;
}

NETBE_EXPORT ssize_t netbe_send(struct netbe *be, const struct iovec *iov,
				int iovcnt)
{
	struct netbe_frame f = { .iov = iov, .iovcnt = iovcnt };
	int ret = netbe_send_burst(be, &f, 1);

	if (ret < 0)
		return ret;
	return ret ? f.result : -EAGAIN;
}

/* ------------------------------------------------------------------------ */
/* Receive                                                                  */
/* ------------------------------------------------------------------------ */

/* What the receive path does with a frame. */
enum rx_class {
	RX_DELIVER,    /* hand it to the frontend with a translated header */
	RX_SOFT,       /* offloads the frontend did not take: softpath.c */
	RX_DROP,       /* dropped and counted */
};

/* Classify a received backend-form frame; *@h gets the frontend header,
 * *@why the drop reason. */
static enum rx_class rx_classify(struct netbe *be, const struct iovec *iov,
				 int iovcnt, size_t len, struct netbe_vnet_hdr *h,
				 enum netbe_drop_reason *why)
{
	memset(h, 0, sizeof(*h));
	*why = NETBE_DROP_RX_LINK_DOWN;
	if (__atomic_load_n(&be->core->admin_down, __ATOMIC_RELAXED))
		return RX_DROP;
	*why = NETBE_DROP_RX_RUNT;
	if (len < be->be_hdr_len + ETH_HDR_LEN)
		return RX_DROP;
	/* a backend that receives into the caller's (larger) buffers may see
	 * more than any frame: a unix datagram peer can send 200 KB */
	*why = NETBE_DROP_RX_TOO_BIG;
	if (len > be->rx_max)
		return RX_DROP;
	if (be->be_hdr_len)
		vnet_hdr_read(iov, iovcnt, be->be_hdr_len, h);
	h->num_buffers = 1;
	h->hash_value = 0;
	h->hash_report = 0;
	h->padding_reserved = 0;
	*why = vnet_hdr_check_rx(h, be->features, len - be->be_hdr_len);
	if (*why == NETBE_DROP__MAX)
		return RX_DELIVER;
	return *why == NETBE_DROP_RX_OFFLOAD ? RX_SOFT : RX_DROP;
}

static void rx_account(struct netbe *be, size_t payload)
{
	core_count(&be->stats.rx_frames, 1);
	core_count(&be->stats.rx_bytes, payload);
}

/* Frontend length of the next frame already held by core (a software
 * segment or the stashed frame), 0 if none. */
static size_t rx_pending_len(struct netbe *be)
{
	if (soft_rx_pending(be))
		return soft_rx_next_len(be);
	if (be->core->stash_len)
		return be->core->stash_len - be->be_hdr_len + be->fe_hdr_len;
	return 0;
}

/* Unless core holds a frame already, receive one into the stash (or, when
 * it needs software offloads, into the soft queue), past any number of
 * dropped ones: 0 must mean the backend has nothing left. Return: the
 * frontend length of the next frame, 0 if none is pending, -errno. */
static ssize_t rx_fill(struct netbe *be)
{
	struct netbe_core_state *c = be->core;
	struct iovec iov = { c->stash, be->rx_max };
	struct netbe_xfer x = { .iov = &iov, .iovcnt = 1 };
	enum netbe_drop_reason why;
	struct netbe_vnet_hdr h;
	int ret;

	while (!rx_pending_len(be)) {
		ret = be->ops->recv(be, &x, 1);
		if (ret <= 0)
			return ret;
		switch (rx_classify(be, &iov, 1, x.len, &h, &why)) {
		case RX_DELIVER:
			c->stash_len = x.len;
			break;
		case RX_SOFT:
			soft_rx_start(be, &iov, 1, x.len, &h);
			break;
		case RX_DROP:
			netbe_count_drop(be, why);
			break;
		}
	}
	return (ssize_t)rx_pending_len(be);
}

/* Copy the stashed frame to @f. Return: its length or -EMSGSIZE. */
static ssize_t stash_deliver(struct netbe *be, struct netbe_frame *f)
{
	struct netbe_core_state *c = be->core;
	size_t need = rx_pending_len(be), payload = c->stash_len - be->be_hdr_len;
	struct iovec iov = { c->stash, c->stash_len };
	enum netbe_drop_reason why;
	struct netbe_vnet_hdr h;

	if (iov_length(f->iov, f->iovcnt) < need)
		return -EMSGSIZE;
	rx_classify(be, &iov, 1, c->stash_len, &h, &why);
	vnet_hdr_write(f->iov, f->iovcnt, be->fe_hdr_len, &h);
	iov_from_buf(f->iov, f->iovcnt, be->fe_hdr_len, c->stash + be->be_hdr_len,
		     payload);
	c->stash_len = 0;
	rx_account(be, payload);
	f->result = (ssize_t)need;
	return f->result;
}

/* Hand the next frame core holds to @f. Return: its length, 0 when core
 * holds none, -EMSGSIZE when @f is too small (it stays). */
static ssize_t rx_deliver_held(struct netbe *be, struct netbe_frame *f)
{
	if (soft_rx_pending(be))
		return soft_rx_deliver(be, f);
	if (be->core->stash_len)
		return stash_deliver(be, f);
	return 0;
}

/* Describe frame @f's buffers as receive xfer @j.
 * Return: false when they cannot take any frame the backend may produce. */
static bool rx_xfer(struct netbe *be, const struct netbe_frame *f, unsigned j,
		    unsigned *pool_used)
{
	size_t cap = iov_length(f->iov, f->iovcnt);

	if (cap < be->fe_hdr_len || cap - be->fe_hdr_len + be->be_hdr_len < be->rx_max)
		return false;
	return xfer_map(be, &be->core->rx, j, f, pool_used) == 0;
}

/* Check and translate received xfer @j into frame slot @o (compacting over
 * dropped frames). Return: true when a frame went into slot @o. */
static bool rx_finish(struct netbe *be, struct netbe_frame *f, unsigned j,
		      unsigned o)
{
	struct netbe_xfer *x = &be->core->rx.x[j];
	size_t payload = x->len - be->be_hdr_len;
	enum netbe_drop_reason why;
	struct netbe_vnet_hdr h;

	switch (rx_classify(be, x->iov, x->iovcnt, x->len, &h, &why)) {
	case RX_DROP:
		netbe_count_drop(be, why);
		return false;
	case RX_SOFT:
		soft_rx_start(be, x->iov, x->iovcnt, x->len, &h);
		return soft_rx_pending(be) && soft_rx_deliver(be, &f[o]) > 0;
	case RX_DELIVER:
		break;
	}
	if (o != j)
		iov_copy(f[o].iov, f[o].iovcnt, f[j].iov, f[j].iovcnt,
			 payload + be->fe_hdr_len);
	vnet_hdr_write(f[o].iov, f[o].iovcnt, be->fe_hdr_len, &h);
	f[o].result = (ssize_t)(payload + be->fe_hdr_len);
	rx_account(be, payload);
	return true;
}

/* Receive one chunk straight into the caller's buffers, or through the
 * stash when the first frame's buffers are small. Frames that may need
 * software offloads come one at a time, so their segments keep their
 * place in the stream. *@taken gets how many frames the backend gave,
 * delivered or dropped, *@asked how many it was asked for (1 through the
 * stash). Return: frames delivered, -errno. */
static int rx_chunk(struct netbe *be, struct netbe_frame *f, unsigned n,
		    unsigned *taken, unsigned *asked)
{
	unsigned m, pool_used = 0, j, o = 0;
	ssize_t sret;
	int ret;

	*taken = 0;
	if (be->core->rx_one_by_one)
		n = 1;
	for (m = 0; m < n && m < NETBE_BURST; m++)
		if (!rx_xfer(be, &f[m], m, &pool_used))
			break;
	*asked = m ? m : 1;
	if (!m) {
		sret = rx_fill(be);
		if (sret <= 0)
			return (int)sret;
		sret = rx_deliver_held(be, f);
		*taken = 1;
		return sret < 0 ? (int)sret : 1;
	}
	ret = be->ops->recv(be, be->core->rx.x, m);
	if (ret <= 0)
		return ret;
	for (j = 0; j < (unsigned)ret; j++)
		o += rx_finish(be, f, j, o);
	*taken = (unsigned)ret;
	return (int)o;
}

/*
 * Receive until @n frames are delivered or the backend runs dry. A chunk
 * whose frames were all dropped is not the end: 0 is returned only when
 * nothing is pending, so a frontend that drains until 0 strands nothing.
 */
int core_rx_burst(struct netbe *be, struct netbe_frame *frames, unsigned n)
{
	struct rl_shared *lim = __atomic_load_n(&be->core->lim[NB_RX], __ATOMIC_ACQUIRE);
	unsigned got = 0, taken, asked, charged = 0;
	int ret = 0;

	while (got < n) {
		unsigned want = n - got < NETBE_BURST ? n - got : NETBE_BURST;
		ssize_t held = rx_deliver_held(be, frames + got);
		bool counted = false;   /* want is all the backend holds */

		if (held < 0) {
			ret = (int)held;
			break;
		}
		if (held) {
			got++;
			continue;
		}
		if (__builtin_expect(lim != NULL, 0)) {
			/* frames core holds went out above; the backend's
			 * wait for tokens */
			throttle_rx_charge(be, lim, frames + charged, got - charged);
			charged = got;
			want = throttle_rx_gate(be, lim, want);
			if (!want)
				break;
		}
		if (be->ops->rx_count) {
			unsigned pending = be->ops->rx_count(be);

			if (!pending)
				break;
			if (pending < want) {
				want = pending;
				counted = true;
			}
		}
		ret = rx_chunk(be, frames + got, want, &taken, &asked);
		if (ret < 0 || !taken)
			break;
		got += (unsigned)ret;
		/* the backend ran dry: don't ask again (unless all it gave
		 * was dropped: then only an empty answer proves it dry) */
		if (ret && ((counted && taken == want) || taken < asked) &&
		    !rx_pending_len(be))
			break;
	}
	if (lim)
		throttle_rx_charge(be, lim, frames + charged, got - charged);
	return got ? (int)got : ret;
}

/* Frames reach the capture as the frontend gets them: after the receive
 * faults (a frame they lose is not in the file, a duplicate is twice). */
NETBE_EXPORT int netbe_recv_burst(struct netbe *be, struct netbe_frame *frames,
				  unsigned n)
{
	int ret = check_frames(be, "netbe_recv_burst", frames, n);

	if (ret || !n)
		return ret;
	if (__builtin_expect(__atomic_load_n(&be->core->fault_on[NETBE_DIR_RX],
					     __ATOMIC_RELAXED), 0))
		ret = faults_rx_burst(be, frames, n);
	else
		ret = core_rx_burst(be, frames, n);
	if (ret > 0 && capture_on(&be->core->cap))
		capture_frames(be, frames, (unsigned)ret, be->fe_hdr_len, false);
	return ret;
}

NETBE_EXPORT ssize_t netbe_recv(struct netbe *be, const struct iovec *iov,
				int iovcnt)
{
	struct netbe_frame f = { .iov = iov, .iovcnt = iovcnt };
	int ret = netbe_recv_burst(be, &f, 1);

	if (ret <= 0)
		return ret;
	return f.result;
}

NETBE_EXPORT ssize_t netbe_peek_recvlen(struct netbe *be)
{
	struct rl_shared *lim;

	if (!be)
		return NB_ERR_RL(-EINVAL, "netbe_peek_recvlen: handle is NULL");
	if (__atomic_load_n(&be->core->fault_on[NETBE_DIR_RX], __ATOMIC_RELAXED))
		return faults_rx_peek(be);
	/* a frame core holds is reported (and delivered) whatever the rx
	 * limit; the backend is read only when it has tokens */
	lim = __atomic_load_n(&be->core->lim[NB_RX], __ATOMIC_ACQUIRE);
	if (__builtin_expect(lim != NULL, 0) && !rx_pending_len(be) &&
	    !throttle_rx_gate(be, lim, 1))
		return 0;
	return rx_fill(be);
}

NETBE_EXPORT ssize_t netbe_rx_discard(struct netbe *be)
{
	ssize_t ret;

	if (be && __atomic_load_n(&be->core->fault_on[NETBE_DIR_RX], __ATOMIC_RELAXED))
		return faults_rx_discard(be);
	ret = netbe_peek_recvlen(be);
	if (ret <= 0)
		return ret;
	if (soft_rx_pending(be))
		soft_rx_skip(be);
	else
		be->core->stash_len = 0;
	netbe_count_drop(be, NETBE_DROP_RX_DISCARDED);
	return ret;
}

NETBE_EXPORT void netbe_rx_enable(struct netbe *be)
{
	if (!be)
		return;
	set_rx_flag(be, &be->core->rx_enabled, true);
	netbe_rx_kick(be);
}

NETBE_EXPORT void netbe_rx_disable(struct netbe *be)
{
	if (!be)
		return;
	set_rx_flag(be, &be->core->rx_enabled, false);
}

/* ------------------------------------------------------------------------ */
/* bhyve compatibility                                                      */
/* ------------------------------------------------------------------------ */

static struct netbe_epoll *default_loop;
static pthread_mutex_t default_loop_lock = PTHREAD_MUTEX_INITIALIZER;

NETBE_EXPORT struct netbe_epoll *netbe_default_loop(void)
{
	pthread_mutex_lock(&default_loop_lock);
	if (!default_loop && netbe_epoll_new(&default_loop))
		default_loop = NULL;
	pthread_mutex_unlock(&default_loop_lock);
	return default_loop;
}

NETBE_EXPORT int netbe_init(net_backend_t **be, const char *opts,
			    netbe_rx_fn cb, void *param)
{
	struct netbe_config cfg = { .rx_cb = cb, .opaque = param };
	struct netbe_epoll *ep = netbe_default_loop();

	if (!ep)
		return -ENOMEM;
	return netbe_open(be, opts, &cfg, netbe_epoll_loop(ep));
}

NETBE_EXPORT void netbe_cleanup(net_backend_t *be)
{
	netbe_close(be);
}
