/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-epoll.c - unit tests of the built-in epoll loop (src/loop/epoll.c).
 *
 * Each test makes its own loop. Readiness comes from eventfds and pipes the
 * test writes to, so most checks use dispatch(0) and need no timing. Timer
 * tests wait in bounded dispatch loops and check only counts, never how
 * long anything took.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>

#include "netbe.h"
#include "harness.h"

#define MS 1000000ULL
/* Upper bound of dispatch rounds while waiting for something to happen. */
#define MAX_ROUNDS 200

static const struct netbe_loop *adapter;

/* Keep expected error messages out of the test output. */
static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/** new_loop() - a fresh loop; sets adapter. Return: the loop. */
static struct netbe_epoll *new_loop(void)
{
	struct netbe_epoll *ep = NULL;

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	adapter = netbe_epoll_loop(ep);
	return ep;
}

/** new_eventfd() - a non-blocking eventfd holding @count. Return: the fd. */
static int new_eventfd(unsigned count)
{
	int fd = eventfd(count, EFD_NONBLOCK | EFD_CLOEXEC);

	CHECK(fd >= 0);
	return fd;
}

/** drain() - empty an eventfd. Return: nothing. */
static void drain(int fd)
{
	uint64_t v;

	CHECK_EQ(read(fd, &v, sizeof(v)), sizeof(v));
}

/* What a watch callback saw. */
struct watch_log {
	int calls;
	int fd;
	unsigned revents;
	int drain;           /* read the eventfd in the callback */
};

static void log_watch(void *opaque, int fd, unsigned revents)
{
	struct watch_log *w = opaque;

	w->calls++;
	w->fd = fd;
	w->revents = revents;
	if (w->drain)
		drain(fd);
}

static void test_watch_enable_disable(void)
{
	struct netbe_epoll *ep = new_loop();
	struct watch_log w = { 0 };
	int fd = new_eventfd(1);
	void *h = NULL;

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &w, &h), 0);
	CHECK(h != NULL);
	/* Added disabled: a readable fd is not reported. */
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 0);
	CHECK_EQ(w.calls, 0);

	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, NETBE_EV_IN), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(w.calls, 1);
	CHECK_EQ(w.fd, fd);
	CHECK_EQ(w.revents, NETBE_EV_IN);
	/* Level-triggered: not drained, so reported again. */
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(w.calls, 2);

	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, 0), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 0);
	CHECK_EQ(w.calls, 2);

	w.drain = 1;
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, NETBE_EV_IN), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 0);
	CHECK_EQ(w.calls, 3);

	adapter->ops->watch_del(adapter->loop, h);
	netbe_epoll_free(ep);
	close(fd);
}

/* Two watches whose callbacks each delete the other one. */
struct pair_ctx {
	void *h[2];
	int calls[2];
};

static void delete_other(struct pair_ctx *c, int self)
{
	c->calls[self]++;
	if (c->h[!self]) {
		adapter->ops->watch_del(adapter->loop, c->h[!self]);
		c->h[!self] = NULL;
	}
}

static void delete_other_0(void *opaque, int fd, unsigned revents)
{
	(void)fd;
	(void)revents;
	delete_other(opaque, 0);
}

static void delete_other_1(void *opaque, int fd, unsigned revents)
{
	(void)fd;
	(void)revents;
	delete_other(opaque, 1);
}

static void test_watch_del_in_batch(void)
{
	struct netbe_epoll *ep = new_loop();
	struct pair_ctx c = { { NULL, NULL }, { 0, 0 } };
	int fd0 = new_eventfd(1), fd1 = new_eventfd(1);
	int survivor;

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd0, delete_other_0, &c, &c.h[0]), 0);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd1, delete_other_1, &c, &c.h[1]), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, c.h[0], NETBE_EV_IN), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, c.h[1], NETBE_EV_IN), 0);
	/* Both are ready in one batch; whichever runs first deletes the other. */
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(c.calls[0] + c.calls[1], 1);
	survivor = c.calls[0] ? 0 : 1;
	CHECK(c.h[survivor] != NULL);
	CHECK(c.h[!survivor] == NULL);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(c.calls[survivor], 2);
	CHECK_EQ(c.calls[!survivor], 0);

	adapter->ops->watch_del(adapter->loop, c.h[survivor]);
	netbe_epoll_free(ep);
	close(fd0);
	close(fd1);
}

/* A watch that deletes itself. */
struct self_del {
	void *h;
	int calls;
};

static void delete_self(void *opaque, int fd, unsigned revents)
{
	struct self_del *s = opaque;

	(void)fd;
	(void)revents;
	s->calls++;
	adapter->ops->watch_del(adapter->loop, s->h);
}

static void test_watch_del_self(void)
{
	struct netbe_epoll *ep = new_loop();
	struct self_del s = { NULL, 0 };
	int fd = new_eventfd(1);

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, delete_self, &s, &s.h), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, s.h, NETBE_EV_IN), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 0);
	CHECK_EQ(s.calls, 1);
	netbe_epoll_free(ep);
	close(fd);
}

static void test_two_watches_one_fd(void)
{
	struct netbe_epoll *ep = new_loop();
	struct watch_log rx = { 0 }, tx = { 0 };
	int fd = new_eventfd(1);
	void *hrx = NULL, *htx = NULL;

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &rx, &hrx), 0);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &tx, &htx), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, hrx, NETBE_EV_IN), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, htx, NETBE_EV_OUT), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 2);
	CHECK_EQ(rx.revents, NETBE_EV_IN);
	CHECK_EQ(tx.revents, NETBE_EV_OUT);
	CHECK_EQ(rx.fd, fd);
	CHECK_EQ(tx.fd, fd);
	adapter->ops->watch_del(adapter->loop, hrx);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(rx.calls, 1);
	CHECK_EQ(tx.calls, 2);
	adapter->ops->watch_del(adapter->loop, htx);
	netbe_epoll_free(ep);
	close(fd);
}

static void test_revents_err_hup(void)
{
	struct netbe_epoll *ep = new_loop();
	struct watch_log r = { 0 }, w = { 0 };
	void *hr = NULL, *hw = NULL;
	int p[2], q[2];

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_EQ(pipe2(q, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, p[1], log_watch, &w, &hw), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, hw, NETBE_EV_OUT), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(w.revents, NETBE_EV_OUT);
	close(p[0]);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK(w.revents & NETBE_EV_ERR);
	adapter->ops->watch_del(adapter->loop, hw);

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, q[0], log_watch, &r, &hr), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, hr, NETBE_EV_IN), 0);
	close(q[1]);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK(r.revents & NETBE_EV_HUP);

	adapter->ops->watch_del(adapter->loop, hr);
	netbe_epoll_free(ep);
	close(p[1]);
	close(q[0]);
}

/** check_disabled_hangup() - a disabled watch on a hung-up pipe (never
 * enabled, or enabled then disabled when @toggle) calls nothing and does
 * not keep the loop fd readable. Return: nothing. */
static void check_disabled_hangup(int toggle)
{
	struct netbe_epoll *ep = new_loop();
	struct watch_log r = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	void *h = NULL;
	int p[2];

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, p[0], log_watch, &r, &h), 0);
	if (toggle) {
		CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, NETBE_EV_IN), 0);
		CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, 0), 0);
	}
	close(p[1]);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 0);
	pfd.fd = netbe_epoll_fd(ep);
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	CHECK_EQ(r.calls, 0);
	/* Enabling it again reports the hang-up. */
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, NETBE_EV_IN), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK(r.revents & NETBE_EV_HUP);
	adapter->ops->watch_del(adapter->loop, h);
	netbe_epoll_free(ep);
	close(p[0]);
}

static void test_disabled_hangup_idle(void)
{
	check_disabled_hangup(0);
	check_disabled_hangup(1);
}

/* A timer that counts, and deletes itself after del_at calls. */
struct timer_log {
	int calls;
	int del_at;
	void *h;
};

static void count_timer(void *opaque)
{
	struct timer_log *t = opaque;

	t->calls++;
	if (t->del_at && t->calls == t->del_at) {
		adapter->ops->timer_del(adapter->loop, t->h);
		t->h = NULL;
	}
}

/** dispatch_until() - dispatch until *@count reaches @want, boundedly.
 * Return: nothing. */
static void dispatch_until(struct netbe_epoll *ep, const int *count, int want)
{
	int i;

	for (i = 0; i < MAX_ROUNDS && *count < want; i++)
		CHECK(netbe_epoll_dispatch(ep, 50) >= 0);
}

static void test_oneshot_timer(void)
{
	struct netbe_epoll *ep = new_loop();
	struct timer_log t = { 0 };

	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, &t, &t.h), 0);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, t.h, 5 * MS, 0), 0);
	dispatch_until(ep, &t.calls, 1);
	CHECK_EQ(t.calls, 1);
	CHECK_EQ(netbe_epoll_dispatch(ep, 20), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 20), 0);
	CHECK_EQ(t.calls, 1);
	adapter->ops->timer_del(adapter->loop, t.h);
	netbe_epoll_free(ep);
}

static void test_periodic_timer(void)
{
	struct netbe_epoll *ep = new_loop();
	struct timer_log t = { 0 }, self = { .del_at = 3 };
	int seen;

	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, &t, &t.h), 0);
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, &self, &self.h), 0);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, t.h, 2 * MS, 2 * MS), 0);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, self.h, 1 * MS, 1 * MS), 0);
	dispatch_until(ep, &t.calls, 4);
	dispatch_until(ep, &self.calls, 3);
	CHECK(t.calls >= 4);
	CHECK_EQ(self.calls, 3);
	CHECK(self.h == NULL);

	adapter->ops->timer_del(adapter->loop, t.h);
	seen = t.calls;
	CHECK_EQ(netbe_epoll_dispatch(ep, 10), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 10), 0);
	CHECK_EQ(t.calls, seen);
	CHECK_EQ(self.calls, 3);
	netbe_epoll_free(ep);
}

static void test_timer_mod_zero_disarms(void)
{
	struct netbe_epoll *ep = new_loop();
	struct timer_log t = { 0 };
	const struct timespec wait = { 0, 10 * MS };
	struct pollfd pfd = { .events = POLLIN };

	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, &t, &t.h), 0);
	/* Expire it, so its expiry is pending, then disarm before dispatching. */
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, t.h, 1 * MS, 0), 0);
	pfd.fd = netbe_epoll_fd(ep);
	CHECK_EQ(poll(&pfd, 1, 1000), 1);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, t.h, 0, 1 * MS), 0);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 0);
	/* A disarmed timer never fires, however long we wait. */
	nanosleep(&wait, NULL);
	CHECK_EQ(netbe_epoll_dispatch(ep, 10), 0);
	CHECK_EQ(t.calls, 0);
	/* And can be armed again. */
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, t.h, 1 * MS, 0), 0);
	dispatch_until(ep, &t.calls, 1);
	CHECK_EQ(t.calls, 1);
	adapter->ops->timer_del(adapter->loop, t.h);
	netbe_epoll_free(ep);
}

/* Signal test state: the handler stops the loop on its second SIGALRM,
 * so the first one exercises "EINTR loops again". */
static struct netbe_epoll *signal_loop;
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	if (++alarms >= 2)
		netbe_epoll_stop(signal_loop);
}

static void safety_stop(void *opaque)
{
	struct timer_log *t = opaque;

	t->calls++;
	netbe_epoll_stop(signal_loop);
}

static void test_stop_from_signal(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval every = { { 0, 10000 }, { 0, 10000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct timer_log safety = { 0 };

	signal_loop = new_loop();
	alarms = 0;
	/* If stop from the signal is lost, this timer ends run() (and fails). */
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, safety_stop, &safety, &safety.h), 0);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, safety.h, 10000 * MS, 0), 0);
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGALRM, &sa, &old), 0);
	CHECK_EQ(setitimer(ITIMER_REAL, &every, NULL), 0);
	CHECK_EQ(netbe_epoll_run(signal_loop), 0);
	CHECK_EQ(setitimer(ITIMER_REAL, &off, NULL), 0);
	CHECK_EQ(sigaction(SIGALRM, &old, NULL), 0);
	CHECK(alarms >= 2);
	CHECK_EQ(safety.calls, 0);

	/* A stop requested before run() makes it return at once. */
	netbe_epoll_stop(signal_loop);
	CHECK_EQ(netbe_epoll_run(signal_loop), 0);
	netbe_epoll_free(signal_loop);
	signal_loop = NULL;
}

static void test_nesting(void)
{
	struct netbe_epoll *ep = new_loop();
	struct watch_log w = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	void *h = NULL;
	char c = 'x';
	int p[2];

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	pfd.fd = netbe_epoll_fd(ep);
	CHECK(pfd.fd >= 0);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, p[0], log_watch, &w, &h), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, NETBE_EV_IN), 0);
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	CHECK_EQ(write(p[1], &c, 1), 1);
	CHECK_EQ(poll(&pfd, 1, 1000), 1);
	CHECK(pfd.revents & POLLIN);
	CHECK_EQ(netbe_epoll_dispatch(ep, 0), 1);
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	adapter->ops->watch_del(adapter->loop, h);
	netbe_epoll_free(ep);
	close(p[0]);
	close(p[1]);
}

/* Enable a watch from another thread while the loop waits. */
struct mod_thread {
	void *h;
	int ret;
};

static void *enable_from_thread(void *arg)
{
	struct mod_thread *m = arg;
	const struct timespec pause = { 0, 5 * MS };

	nanosleep(&pause, NULL);
	m->ret = adapter->ops->watch_mod(adapter->loop, m->h, NETBE_EV_IN);
	return NULL;
}

static void test_watch_mod_other_thread(void)
{
	struct netbe_epoll *ep = new_loop();
	struct watch_log w = { 0 };
	struct mod_thread m = { NULL, -1 };
	pthread_t th;
	int fd = new_eventfd(1);

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &w, &m.h), 0);
	CHECK_EQ(pthread_create(&th, NULL, enable_from_thread, &m), 0);
	dispatch_until(ep, &w.calls, 1);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(m.ret, 0);
	CHECK_EQ(w.calls, 1);
	adapter->ops->watch_del(adapter->loop, m.h);
	netbe_epoll_free(ep);
	close(fd);
}

static void test_free_with_sources(void)
{
	struct netbe_epoll *ep = new_loop();
	struct watch_log w = { 0 };
	struct timer_log t = { 0 };
	int fd = new_eventfd(0);
	void *h1 = NULL, *h2 = NULL;

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &w, &h1), 0);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &w, &h2), 0);
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, &t, &t.h), 0);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, t.h, 1000 * MS, 0), 0);
	netbe_epoll_free(ep);
	/* The caller's fd is still open. */
	CHECK(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

/* Busy polling: a feeder thread hands the loop NB_FEEDS events, one at a
 * time; the loop's callback stops it after the last. */
#define NB_FEEDS 3

struct feeder {
	int fd;
	volatile int seen;   /* events the callback consumed */
};

static void feed_watch(void *opaque, int fd, unsigned revents)
{
	struct feeder *f = opaque;
	uint64_t v;

	(void)revents;
	if (read(fd, &v, sizeof(v)) == sizeof(v) && ++f->seen == NB_FEEDS)
		netbe_epoll_stop(signal_loop);
}

/** feed_events() - thread: write the eventfd, wait until the loop consumed
 * it, sleep 1 ms, NB_FEEDS times. Return: NULL. */
static void *feed_events(void *opaque)
{
	struct feeder *f = opaque;
	const uint64_t one = 1;
	int i, spins;

	for (i = 0; i < NB_FEEDS; i++) {
		if (write(f->fd, &one, sizeof(one)) != sizeof(one))
			break;
		for (spins = 0; f->seen <= i && spins < 10000; spins++)
			usleep(100);
		usleep(1000);
	}
	return NULL;
}

/* Busy polling: events that arrive while the loop spins are handled, timers
 * still fire, stop ends the spin, bad arguments are refused. */
static void test_busy_poll(void)
{
	struct feeder f = { new_eventfd(0), 0 };
	struct timer_log tick = { 0 }, safety = { 0 };
	void *wh = NULL;
	pthread_t th;

	signal_loop = new_loop();
	CHECK_EQ(netbe_epoll_set_busy_poll(NULL, 10), -EINVAL);
	CHECK_EQ(netbe_epoll_set_busy_poll(signal_loop, 1000001), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "busy");
	CHECK_EQ(netbe_epoll_set_busy_poll(signal_loop, 0), 0);
	/* the longest spin: the loop never sleeps between the events */
	CHECK_EQ(netbe_epoll_set_busy_poll(signal_loop, 1000000), 0);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, f.fd, feed_watch, &f, &wh), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, wh, NETBE_EV_IN), 0);
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, &tick, &tick.h), 0);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, tick.h, MS / 2, MS / 2), 0);
	/* If the stop is lost in the spin, this ends run() (and fails). */
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, safety_stop, &safety, &safety.h), 0);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, safety.h, 10000 * MS, 0), 0);
	CHECK_EQ(pthread_create(&th, NULL, feed_events, &f), 0);
	CHECK_EQ(netbe_epoll_run(signal_loop), 0);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(f.seen, NB_FEEDS);
	CHECK_EQ(safety.calls, 0);
	CHECK(tick.calls >= 1);
	netbe_epoll_free(signal_loop);
	signal_loop = NULL;
	close(f.fd);
}

static void test_bad_args(void)
{
	const struct netbe_loop *none = netbe_epoll_loop(NULL);
	struct netbe_epoll *ep = new_loop();
	struct watch_log w = { 0 };
	void *h = NULL, *th = NULL;
	int fd = new_eventfd(0), file;
	char path[] = "/tmp/netbe-test-epoll-XXXXXX";

	CHECK_EQ(netbe_epoll_new(NULL), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "epoll");
	CHECK_EQ(netbe_epoll_fd(NULL), -EINVAL);
	CHECK_EQ(netbe_epoll_dispatch(NULL, 0), -EINVAL);
	CHECK_EQ(netbe_epoll_run(NULL), -EINVAL);
	netbe_epoll_stop(NULL);
	netbe_epoll_free(NULL);

	CHECK(none != NULL);
	CHECK_EQ(none->ops->watch_add(none->loop, fd, log_watch, &w, &h), -EINVAL);
	CHECK_EQ(none->ops->timer_add(none->loop, count_timer, NULL, &h), -EINVAL);
	CHECK(h == NULL);

	CHECK_EQ(adapter->ops->watch_add(adapter->loop, -1, log_watch, &w, &h), -EINVAL);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, NULL, &w, &h), -EINVAL);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &w, NULL), -EINVAL);
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, NULL, NULL, &th), -EINVAL);
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, NULL, NULL), -EINVAL);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, NULL, NETBE_EV_IN), -EINVAL);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, NULL, 1, 0), -EINVAL);
	adapter->ops->watch_del(adapter->loop, NULL);
	adapter->ops->timer_del(adapter->loop, NULL);

	/* A regular file cannot be watched: epoll says EPERM. */
	file = mkstemp(path);
	CHECK(file >= 0);
	unlink(path);
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, file, log_watch, &w, &h), -EPERM);
	CHECK(h == NULL);
	CHECK_STR_CONTAINS(netbe_last_error(), "cannot watch fd");
	close(file);

	/* Masks other than IN/OUT, and timer handles, are refused. */
	CHECK_EQ(adapter->ops->watch_add(adapter->loop, fd, log_watch, &w, &h), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, h, NETBE_EV_ERR), -EINVAL);
	CHECK_EQ(adapter->ops->timer_add(adapter->loop, count_timer, NULL, &th), 0);
	CHECK_EQ(adapter->ops->watch_mod(adapter->loop, th, NETBE_EV_IN), -EINVAL);
	CHECK_EQ(adapter->ops->timer_mod(adapter->loop, h, 1, 0), -EINVAL);
	adapter->ops->watch_del(adapter->loop, h);
	adapter->ops->timer_del(adapter->loop, th);
	netbe_epoll_free(ep);
	close(fd);
}

int main(void)
{
	netbe_set_log(quiet_log, NULL, NETBE_LOG_DEBUG);
	RUN(test_watch_enable_disable);
	RUN(test_watch_del_in_batch);
	RUN(test_watch_del_self);
	RUN(test_two_watches_one_fd);
	RUN(test_revents_err_hup);
	RUN(test_disabled_hangup_idle);
	RUN(test_oneshot_timer);
	RUN(test_periodic_timer);
	RUN(test_timer_mod_zero_disarms);
	RUN(test_stop_from_signal);
	RUN(test_nesting);
	RUN(test_watch_mod_other_thread);
	RUN(test_free_with_sources);
	RUN(test_busy_poll);
	RUN(test_bad_args);
	return harness_done();
}
