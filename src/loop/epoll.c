/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoll.c - the built-in epoll implementation of the loop adapter.
 *
 * Callers without an event loop of their own (the CLI, bhyve-style
 * frontends through netbe_default_loop()) get one here: an epoll fd, one
 * timerfd per timer, and an eventfd that netbe_epoll_stop() writes to.
 *
 * Theory of operation.
 *
 * Every watch and timer is a struct nb_source whose address is the epoll
 * data pointer (the stop eventfd uses NULL). Watches are level-triggered.
 * A disabled watch stays registered as EPOLLONESHOT with no events: epoll
 * always reports ERR/HUP, so a plain empty mask would wake the loop forever
 * on a hung-up fd; the one-shot registration reports it at most once, and
 * dispatch drops events of a disabled watch.
 *
 * Deleting a source marks it dead under the lock and removes it from
 * epoll. While any dispatch is in progress (from just before epoll_wait()
 * to the end of its batch) dead sources are parked on a graveyard list
 * instead of being freed, because the batch may still hold their address;
 * dispatch checks the dead flag before each callback and frees the
 * graveyard when the outermost dispatch ends. So a callback may add,
 * change and delete any source, itself included, and a deleted source is
 * never called back once its delete returns.
 *
 * The mutex guards the source list, the dead flags, the watch masks and
 * the graveyard; it is never held while a callback runs. It makes
 * watch_mod() safe from another thread than the dispatching one (the
 * library arms a transmit wait from the sending thread); epoll_ctl() runs
 * under it so the kernel mask and the recorded mask never disagree.
 *
 * epoll keys registrations on the fd, so a second watch on an fd that is
 * already watched (rx and tx on one tap fd) registers a private
 * close-on-exec duplicate of it. The caller's fds are never closed here,
 * and a watch must be deleted before its fd is closed.
 *
 * netbe_epoll_stop() only sets a flag (a lock-free atomic store, so also
 * safe from another thread) and writes the eventfd, both
 * async-signal-safe; the write wakes an epoll_wait() that a signal
 * arriving just before it would otherwise not interrupt.
 *
 * Busy polling (netbe_epoll_set_busy_poll) only changes netbe_epoll_run():
 * after a dispatch that ran callbacks it waits with a zero timeout until the
 * busy time passed without any, then blocks again. The stop flag is checked
 * on every round, so a stop ends a spin as it ends a wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "netbe.h"

/* Events taken from the kernel per epoll_wait(). */
#define NB_EPOLL_BATCH 64
#define NB_NSEC_PER_SEC 1000000000ULL
#define NB_WATCH_EVENTS (NETBE_EV_IN | NETBE_EV_OUT)

/* A watch (watch_fn set) or a timer (timer_fn set). */
struct nb_source {
	struct nb_source *prev, *next;  /* live list, or graveyard (next) */
	int fd;            /* registered fd: caller's, a dup of it, a timerfd */
	int user_fd;       /* the caller's fd, passed to watch_fn */
	bool owns_fd;      /* fd is a dup or a timerfd: close it on delete */
	bool dead;         /* deleted: never call back again */
	unsigned events;   /* watch: enabled NETBE_EV_IN/OUT, 0 = disabled */
	netbe_watch_fn watch_fn;
	netbe_timer_fn timer_fn;
	void *opaque;
};

struct netbe_epoll {
	int epfd;
	int stop_fd;                        /* eventfd written by stop */
	int stop_requested;                 /* atomic (lock-free: signal-safe) */
	uint64_t busy_ns;                   /* spin this long after callbacks */
	pthread_mutex_t lock;
	struct nb_source *live;             /* doubly linked */
	struct nb_source *graveyard;        /* dead, freed after dispatch */
	unsigned dispatching;               /* nesting depth of dispatch */
	struct netbe_loop adapter;
};

static const struct netbe_loop_ops nb_epoll_ops;

/* What netbe_epoll_loop(NULL) returns: every operation fails -EINVAL. */
static const struct netbe_loop nb_null_adapter = {
	.ops = &nb_epoll_ops,
	.loop = NULL,
};

/** epoll_to_netbe() - translate epoll events. Return: NETBE_EV_* bits. */
static unsigned epoll_to_netbe(uint32_t events)
{
	unsigned r = 0;

	if (events & EPOLLIN)
		r |= NETBE_EV_IN;
	if (events & EPOLLOUT)
		r |= NETBE_EV_OUT;
	if (events & EPOLLERR)
		r |= NETBE_EV_ERR;
	if (events & (EPOLLHUP | EPOLLRDHUP))
		r |= NETBE_EV_HUP;
	return r;
}

/** watch_epoll_events() - the epoll mask for a watch enabled for @events
 * (NETBE_EV_IN/OUT). Return: the mask; one-shot with no events when
 * disabled (see the top of the file). */
static uint32_t watch_epoll_events(unsigned events)
{
	uint32_t r = 0;

	if (!events)
		return EPOLLONESHOT;
	if (events & NETBE_EV_IN)
		r |= EPOLLIN;
	if (events & NETBE_EV_OUT)
		r |= EPOLLOUT;
	return r;
}

/** link_live() - put @src on the live list; lock held. Return: nothing. */
static void link_live(struct netbe_epoll *ep, struct nb_source *src)
{
	src->prev = NULL;
	src->next = ep->live;
	if (ep->live)
		ep->live->prev = src;
	ep->live = src;
}

/** unlink_live() - take @src off the live list; lock held. Return: nothing. */
static void unlink_live(struct netbe_epoll *ep, struct nb_source *src)
{
	if (src->prev)
		src->prev->next = src->next;
	else
		ep->live = src->next;
	if (src->next)
		src->next->prev = src->prev;
	src->prev = src->next = NULL;
}

/** retire_source() - delete @src: mark it dead, drop it from epoll, close
 * its own fd, and free it now or after the running dispatch; lock held.
 * Return: nothing. */
static void retire_source(struct netbe_epoll *ep, struct nb_source *src)
{
	src->dead = true;
	unlink_live(ep, src);
	/* Fails only if the caller already closed the fd; nothing to undo. */
	epoll_ctl(ep->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	if (src->owns_fd)
		close(src->fd);
	if (ep->dispatching) {
		src->next = ep->graveyard;
		ep->graveyard = src;
	} else {
		free(src);
	}
}

/** register_watch() - add @fd to epoll for @src, disabled, duplicating it
 * when it is already registered; lock held. Return: 0 or -errno. */
static int register_watch(struct netbe_epoll *ep, struct nb_source *src,
			  int fd)
{
	struct epoll_event ev = { .events = EPOLLONESHOT, .data.ptr = src };
	int dup, err;

	src->fd = fd;
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -errno;
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, dup, &ev) < 0) {
		err = -errno;
		close(dup);
		return err;
	}
	src->fd = dup;
	src->owns_fd = true;
	return 0;
}

/** nb_watch_add() - the adapter's watch_add. Return: 0 and *@handle set,
 * or -EINVAL / -ENOMEM / an epoll_ctl() errno (-EPERM for a regular file). */
static int nb_watch_add(void *loop, int fd, netbe_watch_fn fn, void *opaque,
			void **handle)
{
	struct netbe_epoll *ep = loop;
	struct nb_source *src;
	int err;

	if (!ep || fd < 0 || !fn || !handle)
		return netbe_errf(-EINVAL, "epoll: watch_add needs a loop, an fd >= 0, a callback and a handle pointer");
	*handle = NULL;
	src = calloc(1, sizeof(*src));
	if (!src)
		return netbe_errf(-ENOMEM, "epoll: out of memory adding a watch on fd %d", fd);
	src->user_fd = fd;
	src->watch_fn = fn;
	src->opaque = opaque;
	pthread_mutex_lock(&ep->lock);
	err = register_watch(ep, src, fd);
	if (!err)
		link_live(ep, src);
	pthread_mutex_unlock(&ep->lock);
	if (err) {
		free(src);
		return netbe_errf(err, "epoll: cannot watch fd %d: %s - pass a pollable fd (socket, pipe, tun, eventfd)",
				  fd, strerror(-err));
	}
	*handle = src;
	return 0;
}

/** nb_watch_mod() - the adapter's watch_mod; safe from any thread.
 * Return: 0, -EINVAL for a bad handle or mask, or an epoll_ctl() errno. */
static int nb_watch_mod(void *loop, void *handle, unsigned events)
{
	struct netbe_epoll *ep = loop;
	struct nb_source *src = handle;
	struct epoll_event ev = { .data.ptr = src };
	int err = 0;

	if (!ep || !src || !src->watch_fn || (events & ~NB_WATCH_EVENTS))
		return netbe_errf(-EINVAL, "epoll: watch_mod needs a loop, a watch handle and a mask of NETBE_EV_IN|NETBE_EV_OUT (got 0x%x)",
				  events);
	pthread_mutex_lock(&ep->lock);
	if (src->dead) {
		err = -EINVAL;
	} else if (src->events != events) {
		ev.events = watch_epoll_events(events);
		if (epoll_ctl(ep->epfd, EPOLL_CTL_MOD, src->fd, &ev) == 0)
			src->events = events;
		else
			err = -errno;
	}
	pthread_mutex_unlock(&ep->lock);
	if (err == -EINVAL)
		return netbe_errf(err, "epoll: watch_mod on a deleted watch");
	if (err)
		return netbe_errf(err, "epoll: cannot change events of fd %d: %s",
				  src->user_fd, strerror(-err));
	return 0;
}

/** nb_del() - the adapter's watch_del and timer_del: the callback is not
 * called once this returns; NULL arguments are ignored. Return: nothing. */
static void nb_del(void *loop, void *handle)
{
	struct netbe_epoll *ep = loop;
	struct nb_source *src = handle;

	if (!ep || !src)
		return;
	pthread_mutex_lock(&ep->lock);
	if (!src->dead)
		retire_source(ep, src);
	pthread_mutex_unlock(&ep->lock);
}

/** nb_timer_add() - the adapter's timer_add: a disarmed timerfd.
 * Return: 0 and *@handle set, or -EINVAL / -ENOMEM / -EMFILE / -errno. */
static int nb_timer_add(void *loop, netbe_timer_fn fn, void *opaque,
			void **handle)
{
	struct netbe_epoll *ep = loop;
	struct epoll_event ev = { .events = EPOLLIN };
	struct nb_source *src;
	int err;

	if (!ep || !fn || !handle)
		return netbe_errf(-EINVAL, "epoll: timer_add needs a loop, a callback and a handle pointer");
	*handle = NULL;
	src = calloc(1, sizeof(*src));
	if (!src)
		return netbe_errf(-ENOMEM, "epoll: out of memory adding a timer");
	src->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (src->fd < 0) {
		err = -errno;
		free(src);
		return netbe_errf(err, "epoll: cannot create a timerfd: %s - raise the open file limit (ulimit -n)",
				  strerror(-err));
	}
	src->user_fd = -1;
	src->owns_fd = true;
	src->timer_fn = fn;
	src->opaque = opaque;
	ev.data.ptr = src;
	pthread_mutex_lock(&ep->lock);
	err = epoll_ctl(ep->epfd, EPOLL_CTL_ADD, src->fd, &ev) ? -errno : 0;
	if (!err)
		link_live(ep, src);
	pthread_mutex_unlock(&ep->lock);
	if (err) {
		close(src->fd);
		free(src);
		return netbe_errf(err, "epoll: cannot watch a timerfd: %s", strerror(-err));
	}
	*handle = src;
	return 0;
}

/** ns_to_timespec() - split @ns. Return: the timespec. */
static struct timespec ns_to_timespec(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NB_NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NB_NSEC_PER_SEC),
	};
	return ts;
}

/** nb_timer_mod() - the adapter's timer_mod: arm for @delay_ns then every
 * @period_ns (0: once); @delay_ns == 0 disarms and drops an expiry not yet
 * dispatched. Return: 0, -EINVAL for a bad handle, or a timerfd errno. */
static int nb_timer_mod(void *loop, void *handle, uint64_t delay_ns,
			uint64_t period_ns)
{
	struct netbe_epoll *ep = loop;
	struct nb_source *src = handle;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	int err = 0;

	if (!ep || !src || !src->timer_fn)
		return netbe_errf(-EINVAL, "epoll: timer_mod needs a loop and a timer handle");
	if (delay_ns) {
		its.it_value = ns_to_timespec(delay_ns);
		its.it_interval = ns_to_timespec(period_ns);
	}
	pthread_mutex_lock(&ep->lock);
	if (src->dead)
		err = -EINVAL;
	else if (timerfd_settime(src->fd, 0, &its, NULL) < 0)
		err = -errno;
	pthread_mutex_unlock(&ep->lock);
	if (err == -EINVAL)
		return netbe_errf(err, "epoll: timer_mod on a deleted timer or with an out-of-range delay");
	if (err)
		return netbe_errf(err, "epoll: cannot arm a timerfd: %s", strerror(-err));
	return 0;
}

static const struct netbe_loop_ops nb_epoll_ops = {
	.watch_add = nb_watch_add,
	.watch_mod = nb_watch_mod,
	.watch_del = nb_del,
	.timer_add = nb_timer_add,
	.timer_mod = nb_timer_mod,
	.timer_del = nb_del,
};

/** free_sources() - free every source of @ep, closing only fds it owns.
 * Return: nothing. */
static void free_sources(struct netbe_epoll *ep)
{
	struct nb_source *src, *next;

	for (src = ep->live; src; src = next) {
		next = src->next;
		if (src->owns_fd)
			close(src->fd);
		free(src);
	}
	for (src = ep->graveyard; src; src = next) {
		next = src->next;
		free(src);
	}
	ep->live = ep->graveyard = NULL;
}

/** destroy_loop() - release everything @ep holds; its fds may be -1.
 * Return: nothing. */
static void destroy_loop(struct netbe_epoll *ep)
{
	free_sources(ep);
	if (ep->stop_fd >= 0)
		close(ep->stop_fd);
	if (ep->epfd >= 0)
		close(ep->epfd);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

/** open_loop_fds() - create the epoll fd and the watched stop eventfd.
 * Return: 0 or -errno (message set). */
static int open_loop_fds(struct netbe_epoll *ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0) {
		err = -errno;
		return netbe_errf(err, "epoll: cannot create an epoll fd: %s - raise the open file limit (ulimit -n)",
				  strerror(-err));
	}
	ep->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ep->stop_fd < 0) {
		err = -errno;
		return netbe_errf(err, "epoll: cannot create an eventfd: %s - raise the open file limit (ulimit -n)",
				  strerror(-err));
	}
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->stop_fd, &ev) < 0) {
		err = -errno;
		return netbe_errf(err, "epoll: cannot watch the stop eventfd: %s",
				  strerror(-err));
	}
	return 0;
}

/** netbe_epoll_new() - create a loop. Return: 0 and *@epp set, or -EINVAL /
 * -ENOMEM / -EMFILE (message set). */
NETBE_EXPORT int netbe_epoll_new(struct netbe_epoll **epp)
{
	struct netbe_epoll *ep;
	int err;

	if (!epp)
		return netbe_errf(-EINVAL, "epoll: netbe_epoll_new needs a place to store the loop");
	*epp = NULL;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return netbe_errf(-ENOMEM, "epoll: out of memory creating a loop");
	err = pthread_mutex_init(&ep->lock, NULL);
	if (err) {
		free(ep);
		return netbe_errf(-err, "epoll: cannot create a mutex: %s", strerror(err));
	}
	ep->epfd = ep->stop_fd = -1;
	err = open_loop_fds(ep);
	if (err) {
		destroy_loop(ep);
		return err;
	}
	ep->adapter.ops = &nb_epoll_ops;
	ep->adapter.loop = ep;
	*epp = ep;
	return 0;
}

/** netbe_epoll_free() - destroy @ep with the bookkeeping of the sources still
 * registered (not the caller's fds); NULL is a no-op. Must not be called
 * from inside a dispatch. Return: nothing. */
NETBE_EXPORT void netbe_epoll_free(struct netbe_epoll *ep)
{
	if (ep)
		destroy_loop(ep);
}

/** netbe_epoll_loop() - the adapter of @ep. Return: never NULL; for a NULL
 * loop, an adapter whose operations all fail with -EINVAL. */
NETBE_EXPORT const struct netbe_loop *netbe_epoll_loop(struct netbe_epoll *ep)
{
	return ep ? &ep->adapter : &nb_null_adapter;
}

/** netbe_epoll_fd() - the epoll fd itself, readable when a dispatch has work.
 * Return: the fd, or -EINVAL for NULL. */
NETBE_EXPORT int netbe_epoll_fd(struct netbe_epoll *ep)
{
	if (!ep)
		return netbe_errf(-EINVAL, "epoll: netbe_epoll_fd on a NULL loop");
	return ep->epfd;
}

/** drain_fd() - empty a non-blocking eventfd or timerfd.
 * Return: true if it held a count. */
static bool drain_fd(int fd)
{
	uint64_t count;

	return read(fd, &count, sizeof(count)) == (ssize_t)sizeof(count);
}

/** run_watch() - call a watch back for epoll @events unless it was deleted
 * or disabled meanwhile. Return: 1 if called, else 0. */
static int run_watch(struct netbe_epoll *ep, struct nb_source *src,
		     uint32_t events)
{
	unsigned revents = epoll_to_netbe(events);
	bool enabled;

	pthread_mutex_lock(&ep->lock);
	enabled = !src->dead && src->events;
	revents &= src->events | NETBE_EV_ERR | NETBE_EV_HUP;
	pthread_mutex_unlock(&ep->lock);
	if (!enabled || !revents)
		return 0;
	src->watch_fn(src->opaque, src->user_fd, revents);
	return 1;
}

/** run_timer() - consume the expiry of a timer and call it back, unless it
 * was deleted or re-armed (which drops the expiry) meanwhile.
 * Return: 1 if called, else 0. */
static int run_timer(struct netbe_epoll *ep, struct nb_source *src)
{
	bool expired;

	pthread_mutex_lock(&ep->lock);
	expired = !src->dead && drain_fd(src->fd);
	pthread_mutex_unlock(&ep->lock);
	if (!expired)
		return 0;
	src->timer_fn(src->opaque);
	return 1;
}

/** run_event() - handle one event of a batch. Return: callbacks run. */
static int run_event(struct netbe_epoll *ep, const struct epoll_event *ev)
{
	struct nb_source *src = ev->data.ptr;

	if (!src) {
		drain_fd(ep->stop_fd);
		return 0;
	}
	if (src->timer_fn)
		return run_timer(ep, src);
	return run_watch(ep, src, ev->events);
}

/** dispatch_begin() - keep deleted sources alive until dispatch_end().
 * Return: nothing. */
static void dispatch_begin(struct netbe_epoll *ep)
{
	pthread_mutex_lock(&ep->lock);
	ep->dispatching++;
	pthread_mutex_unlock(&ep->lock);
}

/** dispatch_end() - free the sources deleted during the outermost
 * dispatch. Return: nothing. */
static void dispatch_end(struct netbe_epoll *ep)
{
	struct nb_source *src, *next;

	pthread_mutex_lock(&ep->lock);
	if (--ep->dispatching == 0) {
		for (src = ep->graveyard; src; src = next) {
			next = src->next;
			free(src);
		}
		ep->graveyard = NULL;
	}
	pthread_mutex_unlock(&ep->lock);
}

/** netbe_epoll_dispatch() - wait once, up to @timeout_ms, and run the ready
 * callbacks. Return: callbacks run, -EINTR on a signal, or another -errno. */
NETBE_EXPORT int netbe_epoll_dispatch(struct netbe_epoll *ep, int timeout_ms)
{
	struct epoll_event evs[NB_EPOLL_BATCH];
	int n, i, ran = 0;

	if (!ep)
		return netbe_errf(-EINVAL, "epoll: netbe_epoll_dispatch on a NULL loop");
	dispatch_begin(ep);
	n = epoll_wait(ep->epfd, evs, NB_EPOLL_BATCH, timeout_ms);
	if (n < 0)
		n = -errno;
	for (i = 0; i < n; i++)
		ran += run_event(ep, &evs[i]);
	dispatch_end(ep);
	if (n == -EINTR)
		return n;
	if (n < 0)
		return netbe_errf(n, "epoll: epoll_wait failed: %s", strerror(-n));
	return ran;
}

/** netbe_epoll_set_busy_poll() - see netbe.h. Return: 0 or -EINVAL. */
NETBE_EXPORT int netbe_epoll_set_busy_poll(struct netbe_epoll *ep, unsigned usec)
{
	if (!ep)
		return netbe_errf(-EINVAL, "epoll: netbe_epoll_set_busy_poll on a NULL loop");
	if (usec > 1000000)
		return netbe_errf(-EINVAL, "epoll: busy poll of %u us is above the 1000000 us limit - pass 0 to 1000000",
				  usec);
	ep->busy_ns = (uint64_t)usec * 1000;
	return 0;
}

/** netbe_epoll_run() - dispatch until netbe_epoll_stop(); a stop requested
 * before the call makes it return at once. With busy polling, the wait does
 * not block until busy_ns passed without a callback. Return: 0 after a stop,
 * -EINVAL, or an epoll_wait() errno other than -EINTR. */
NETBE_EXPORT int netbe_epoll_run(struct netbe_epoll *ep)
{
	uint64_t spin_until = 0;
	bool spinning;
	int r;

	if (!ep)
		return netbe_errf(-EINVAL, "epoll: netbe_epoll_run on a NULL loop");
	for (;;) {
		if (__atomic_exchange_n(&ep->stop_requested, 0, __ATOMIC_ACQ_REL))
			return 0;
		spinning = spin_until && nb_clock_ns(CLOCK_MONOTONIC) < spin_until;
		r = netbe_epoll_dispatch(ep, spinning ? 0 : -1);
		if (r < 0 && r != -EINTR)
			return r;
		if (r > 0 && ep->busy_ns)
			spin_until = nb_clock_ns(CLOCK_MONOTONIC) + ep->busy_ns;
	}
}

/** netbe_epoll_stop() - make netbe_epoll_run() return; async-signal-safe and
 * thread-safe; preserves errno. Return: nothing. */
NETBE_EXPORT void netbe_epoll_stop(struct netbe_epoll *ep)
{
	const uint64_t one = 1;
	int saved_errno = errno;
	ssize_t r;

	if (!ep)
		return;
	__atomic_store_n(&ep->stop_requested, 1, __ATOMIC_RELEASE);
	/* Only fails with EAGAIN when the counter is full: a wake-up is
	 * pending anyway. */
	r = write(ep->stop_fd, &one, sizeof(one));
	(void)r;
	errno = saved_errno;
}
