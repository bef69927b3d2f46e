/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-tx-loop.c - NETBE_CFG_TX_LOOP: a handle's transmit side on a second
 * loop.
 *
 * Two built-in epoll loops run on two threads, laid out as `netbe patch
 * --threads 2` lays them out: end A has loop 1 and tx loop 2, end B has
 * loop 2 and tx loop 1. A sender thread per end sends numbered frames;
 * after -EAGAIN it blocks until the end's tx_cb says to go on. Every
 * rx_cb must run on the thread of the end's loop, every tx_cb on the
 * thread of its tx loop (each loop thread knows its number in a
 * thread-local), and every frame must arrive, in order. A lost wake-up
 * leaves a sender blocked, which a bounded wait turns into a failure.
 *
 * The same run without the flag (one loop, a tx_loop field that must not
 * be read) puts every callback on the one loop's thread. pair ends wake
 * their senders with netbe_tx_kick(); unix dgram ends (a receiver queue of
 * ten datagrams) through a tx fd the tx loop watches. unix stream ends get
 * their fds while the loops run (the listener accepts; netbe_set_fds()),
 * and once more after the connecting end is closed and opened again.
 *
 * Rate limits and fault injection arm their wake-ups through the loop of
 * their direction: a tx limit (tx_ops=) makes a sender wait for tokens and
 * its tx_cb must come on the tx loop's thread; a tx delay (tx_delay=)
 * releases frames from a timer on the tx loop, no frame before its delay
 * (each carries its send time), and with a receiver held back by rx_ops=
 * the release blocks and tx_cb must again come on the tx loop's thread;
 * an rx limit and an rx delay call rx_cb from the main loop's thread.
 * Every frame must arrive, in order, in all of them. The senders of the
 * delay runs are paced so the delay queue (NETBE_FAULT_QUEUE_FRAMES) does
 * not overflow. Times are printed, never asserted beyond the delay's
 * lower bound.
 * In those runs each loop is wrapped in an adapter that counts the calls
 * made from another thread than the loop's own (a sender's, or the other
 * loop's; the test's main thread opens and closes): there must be none.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "netbe.h"

#define FRAME_LEN 64
#define RX_BURST 32
#define BUF_LEN (65535 + 18)
#define SEND_BURST 8
#define DEADLINE_MS 60000
#define WAKEUP_WAIT_MS 20000

/* Which loop thread this is: 1 or 2; SENDER on a sender thread; 0 on the
 * test's main thread (which opens and closes handles). */
static __thread int loop_no;
#define SENDER (-1)

/* One end: its handle, its sender thread and what its callbacks saw. */
struct end {
	struct netbe *be;
	char tag;                      /* 'A' or 'B', carried in the frames */
	int rx_loop, tx_loop;          /* where rx_cb and tx_cb must run */
	uint32_t frames;               /* how many the sender sends */

	/* sender thread */
	uint32_t sent;
	uint32_t eagain;
	int error;
	bool lost_wakeup;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned tx_gen;               /* bumped by tx_cb, under mu */

	/* callbacks */
	unsigned rx_wrong_thread;      /* atomic */
	unsigned tx_wrong_thread;      /* atomic */
	unsigned tx_cbs;               /* atomic */
	uint32_t received;             /* atomic: frames in order so far */
	uint32_t out_of_order;
	uint32_t early;                /* arrived before the run's min_delay_ns */
	uint64_t max_lat_ns;           /* the longest send-to-rx_cb time */
	uint8_t buf[RX_BURST][BUF_LEN];
};

/* What a run adds to the plain exchange (zero: nothing). */
struct run_opts {
	unsigned pace_us;              /* senders sleep this long per burst */
	uint64_t min_delay_ns;         /* no frame may arrive sooner */
	bool may_not_wait;             /* -EAGAIN and tx_cb are not certain */
	bool check_adapter;            /* count adapter calls off their thread */
	void (*check_stats)(const struct netbe_stats *st, uint32_t frames);
};

static struct run_opts ropt;

struct loop_thread {
	struct netbe_epoll *ep;
	int no;
	pthread_t thread;
	bool started;
	/* the loop as the handles get it: the epoll loop, or the checked
	 * wrapper of it (checked.loop points at this struct) */
	struct netbe_loop checked;
	unsigned wrong_thread;         /* atomic: adapter calls off its thread */
};

/* Count an adapter call on @lt's loop that is not on its thread. Return:
 * the epoll loop's adapter, which does the call. */
static const struct netbe_loop *checked(void *loop)
{
	struct loop_thread *lt = loop;

	if (loop_no != lt->no && loop_no != 0)
		__atomic_fetch_add(&lt->wrong_thread, 1, __ATOMIC_RELAXED);
	return netbe_epoll_loop(lt->ep);
}

/* The checked adapter's watch_add. Return: the epoll loop's result. */
static int ck_watch_add(void *loop, int fd, netbe_watch_fn fn, void *opaque,
			void **handle)
{
	const struct netbe_loop *l = checked(loop);

	return l->ops->watch_add(l->loop, fd, fn, opaque, handle);
}

/* The checked adapter's watch_mod. Return: the epoll loop's result. */
static int ck_watch_mod(void *loop, void *handle, unsigned events)
{
	const struct netbe_loop *l = checked(loop);

	return l->ops->watch_mod(l->loop, handle, events);
}

/* The checked adapter's watch_del. */
static void ck_watch_del(void *loop, void *handle)
{
	const struct netbe_loop *l = checked(loop);

	l->ops->watch_del(l->loop, handle);
}

/* The checked adapter's timer_add. Return: the epoll loop's result. */
static int ck_timer_add(void *loop, netbe_timer_fn fn, void *opaque, void **handle)
{
	const struct netbe_loop *l = checked(loop);

	return l->ops->timer_add(l->loop, fn, opaque, handle);
}

/* The checked adapter's timer_mod. Return: the epoll loop's result. */
static int ck_timer_mod(void *loop, void *handle, uint64_t delay_ns,
			uint64_t period_ns)
{
	const struct netbe_loop *l = checked(loop);

	return l->ops->timer_mod(l->loop, handle, delay_ns, period_ns);
}

/* The checked adapter's timer_del. */
static void ck_timer_del(void *loop, void *handle)
{
	const struct netbe_loop *l = checked(loop);

	l->ops->timer_del(l->loop, handle);
}

static const struct netbe_loop_ops checked_ops = {
	ck_watch_add, ck_watch_mod, ck_watch_del,
	ck_timer_add, ck_timer_mod, ck_timer_del,
};

/* The loop adapter the handles of @lt get: the checked wrapper when the
 * run asks for it. Return: that adapter. */
static const struct netbe_loop *loop_of(struct loop_thread *lt)
{
	if (!ropt.check_adapter)
		return netbe_epoll_loop(lt->ep);
	lt->checked = (struct netbe_loop){ &checked_ops, lt };
	return &lt->checked;
}

/* Return: CLOCK_MONOTONIC now, in nanoseconds. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Fill @f with a broadcast frame of ethertype 0x88b5 carrying @tag, @seq
 * and the time it is sent. */
static void make_frame(uint8_t *f, char tag, uint32_t seq)
{
	uint64_t t = now_ns();

	memset(f, 0, FRAME_LEN);
	memset(f, 0xff, 6);
	f[6] = 0x02;
	f[11] = (uint8_t)tag;
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, sizeof(seq));
	memcpy(f + 18, &t, sizeof(t));
}

/* Note how long frame @f took from its sender to @e's rx_cb. */
static void note_latency(struct end *e, const uint8_t *f, uint64_t now)
{
	uint64_t sent, lat;

	memcpy(&sent, f + 18, sizeof(sent));
	lat = now > sent ? now - sent : 0;
	if (lat < ropt.min_delay_ns)
		e->early++;
	if (lat > e->max_lat_ns)
		e->max_lat_ns = lat;
}

/* rx_cb: drain the end, checking where we run and the order. */
static void on_rx(struct netbe *be, void *opaque)
{
	struct end *e = opaque;
	struct iovec iov[RX_BURST];
	struct netbe_frame f[RX_BURST];
	uint32_t next = __atomic_load_n(&e->received, __ATOMIC_RELAXED);
	int n, i;

	if (loop_no != e->rx_loop)
		__atomic_fetch_add(&e->rx_wrong_thread, 1, __ATOMIC_RELAXED);
	do {
		for (i = 0; i < RX_BURST; i++) {
			iov[i] = (struct iovec){ e->buf[i], BUF_LEN };
			f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
		}
		n = netbe_recv_burst(be, f, RX_BURST);
		for (i = 0; i < n; i++) {
			uint32_t seq;

			note_latency(e, e->buf[i], now_ns());
			memcpy(&seq, e->buf[i] + 14, sizeof(seq));
			if (seq != next || e->buf[i][11] == (uint8_t)e->tag)
				e->out_of_order++;
			next = seq + 1;
		}
	} while (n == RX_BURST);
	__atomic_store_n(&e->received, next, __ATOMIC_RELEASE);
}

/* tx_cb: check where we run and wake the end's sender. */
static void on_tx(struct netbe *be, void *opaque)
{
	struct end *e = opaque;

	(void)be;
	if (loop_no != e->tx_loop)
		__atomic_fetch_add(&e->tx_wrong_thread, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->tx_cbs, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&e->mu);
	e->tx_gen++;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* Block until tx_cb ran after @gen was read. Return: false when none came
 * within WAKEUP_WAIT_MS (a lost wake-up). */
static bool wait_tx_cb(struct end *e, unsigned gen)
{
	uint64_t deadline = harness_now_ms() + WAKEUP_WAIT_MS;
	bool woken;

	pthread_mutex_lock(&e->mu);
	while (e->tx_gen == gen && harness_now_ms() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
	}
	woken = e->tx_gen != gen;
	pthread_mutex_unlock(&e->mu);
	return woken;
}

/* The sender thread: e->frames frames in bursts of 1 to SEND_BURST,
 * blocking after -EAGAIN until tx_cb. Return: NULL. */
static void *send_all(void *arg)
{
	struct end *e = arg;
	uint8_t buf[SEND_BURST][FRAME_LEN];
	struct iovec iov[SEND_BURST];
	struct netbe_frame f[SEND_BURST];
	unsigned burst = 1;

	loop_no = SENDER;
	while (e->sent < e->frames) {
		unsigned n = burst < e->frames - e->sent ? burst : e->frames - e->sent, i, gen;
		int ret;

		for (i = 0; i < n; i++) {
			make_frame(buf[i], e->tag, e->sent + i);
			iov[i] = (struct iovec){ buf[i], FRAME_LEN };
			f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
		}
		pthread_mutex_lock(&e->mu);
		gen = e->tx_gen;
		pthread_mutex_unlock(&e->mu);
		ret = netbe_send_burst(e->be, f, n);
		if (ret == -EAGAIN) {
			e->eagain++;
			if (!wait_tx_cb(e, gen)) {
				e->lost_wakeup = true;
				return NULL;
			}
			continue;
		}
		if (ret < 0) {
			e->error = ret;
			return NULL;
		}
		e->sent += (uint32_t)ret;
		burst = burst % SEND_BURST + 1;
		if (ropt.pace_us)
			usleep(ropt.pace_us);
	}
	return NULL;
}

/* A loop thread: remember which loop this is, run it until stopped.
 * Return: NULL. */
static void *run_loop(void *arg)
{
	struct loop_thread *lt = arg;

	loop_no = lt->no;
	netbe_epoll_run(lt->ep);
	return NULL;
}

/* Set up end @e with fresh counters; its handle is opened later. */
static void end_init(struct end *e, char tag, int rx_loop, int tx_loop,
		     uint32_t frames)
{
	memset(e, 0, offsetof(struct end, buf));
	e->tag = tag;
	e->rx_loop = rx_loop;
	e->tx_loop = tx_loop;
	e->frames = frames;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
}

/* Close @e's handle and release its lock and condition, if end_init()
 * set them up. */
static void end_fini(struct end *e)
{
	if (!e->tag)
		return;
	netbe_close(e->be);
	e->be = NULL;
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	e->tag = 0;
}

/* Open @e from @spec with loop @loop and, when @tx non-NULL, tx loop @tx.
 * Return: 0 or -errno. */
static int end_open(struct end *e, const char *spec, struct loop_thread *loop,
		    struct loop_thread *tx)
{
	static struct netbe_loop never_read;   /* no ops: must not be used */
	struct netbe_config cfg = {
		.rx_cb = on_rx, .tx_cb = on_tx, .opaque = e,
		.flags = tx ? NETBE_CFG_TX_LOOP : 0,
		.tx_loop = tx ? loop_of(tx) : &never_read,
	};
	int ret = netbe_open(&e->be, spec, &cfg, loop_of(loop));

	if (ret)
		printf("# netbe_open(%s): %s\n", spec, netbe_last_error());
	return ret;
}

/* Wait until both ends received everything (bounded). */
static void wait_received(struct end *a, struct end *b)
{
	uint64_t deadline = harness_now_ms() + DEADLINE_MS;

	while (harness_now_ms() < deadline &&
	       (__atomic_load_n(&a->received, __ATOMIC_ACQUIRE) < b->frames ||
		__atomic_load_n(&b->received, __ATOMIC_ACQUIRE) < a->frames))
		usleep(2000);
}

/* Check what the run of @e (sender into @e's handle) and its peer saw. */
static void check_end(const struct end *e, const struct end *peer)
{
	struct netbe_stats st;

	printf("# %c: sent %u, -EAGAIN %u, tx_cb %u, received %u, the longest on the way %.1f ms\n",
	       e->tag, e->sent, e->eagain, e->tx_cbs, peer->received,
	       (double)peer->max_lat_ns / 1e6);
	CHECK_EQ(e->error, 0);
	CHECK(!e->lost_wakeup);
	CHECK_EQ(e->sent, e->frames);
	CHECK_EQ(peer->received, e->frames);
	CHECK_EQ(peer->out_of_order, 0);
	CHECK_EQ(e->rx_wrong_thread, 0);
	CHECK_EQ(e->tx_wrong_thread, 0);
	CHECK_EQ(peer->early, 0);
	if (!ropt.may_not_wait) {
		CHECK(e->eagain > 0);       /* the depth makes senders wait */
		CHECK(e->tx_cbs > 0);
	}
	if (ropt.check_stats && !netbe_get_stats(e->be, &st))
		ropt.check_stats(&st, e->frames);
}

/* Stop the running loop threads of @lt[0..n) and wait for them. */
static void stop_loops(struct loop_thread *lt, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (lt[i].started) {
			netbe_epoll_stop(lt[i].ep);
			pthread_join(lt[i].thread, NULL);
			lt[i].started = false;
		}
}

/* The loops and ends of one run. */
struct rig {
	struct loop_thread lt[2];
	bool split;
};

static struct end end_a, end_b;

/* Wait until both ends' links are up (a stream listener accepted).
 * Return: true if they are. */
static bool wait_links(struct end *a, struct end *b)
{
	uint64_t deadline = harness_now_ms() + DEADLINE_MS;

	while (harness_now_ms() < deadline &&
	       (netbe_link_is_up(a->be) != 1 || netbe_link_is_up(b->be) != 1))
		usleep(2000);
	return netbe_link_is_up(a->be) == 1 && netbe_link_is_up(b->be) == 1;
}

/* Wait until @e's link is down (its stream peer left).
 * Return: true if it is. */
static bool wait_link_down(struct end *e)
{
	uint64_t deadline = harness_now_ms() + DEADLINE_MS;

	while (harness_now_ms() < deadline && netbe_link_is_up(e->be) != 0)
		usleep(2000);
	return netbe_link_is_up(e->be) == 0;
}

/* Open end @e ('A': loop 1, tx loop 2; 'B': the other way round; both on
 * loop 1 without split) from @spec with fresh counters, and enable its
 * rx. Return: 0 or -errno. */
static int rig_open_end(struct rig *r, struct end *e, char tag, const char *spec,
			uint32_t frames)
{
	int main_no = tag == 'A' || !r->split ? 1 : 2;
	int tx_no = !r->split ? 1 : 3 - main_no;
	int ret;

	end_init(e, tag, main_no, tx_no, frames);
	ret = end_open(e, spec, &r->lt[main_no - 1],
		       r->split ? &r->lt[tx_no - 1] : NULL);
	if (!ret)
		netbe_rx_enable(e->be);
	return ret;
}

/* Start the loop threads (one without split). Return: 0 or -1. */
static int rig_start(struct rig *r)
{
	unsigned i;

	for (i = 0; i < (r->split ? 2u : 1u); i++) {
		r->lt[i].started = !pthread_create(&r->lt[i].thread, NULL, run_loop,
						   &r->lt[i]);
		if (!r->lt[i].started)
			return -1;
	}
	return 0;
}

/* Zero what the ends counted, for another exchange. */
static void end_reset(struct end *e)
{
	e->sent = e->eagain = e->out_of_order = e->early = 0;
	e->max_lat_ns = 0;
	e->error = 0;
	e->lost_wakeup = false;
	__atomic_store_n(&e->received, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&e->tx_cbs, 0, __ATOMIC_RELAXED);
}

/* Both senders send their frames; wait until everything arrived and
 * check it. */
static void exchange(struct end *a, struct end *b)
{
	pthread_t sa, sb;
	bool sa_up, sb_up;

	CHECK(wait_links(a, b));
	sa_up = !pthread_create(&sa, NULL, send_all, a);
	sb_up = !pthread_create(&sb, NULL, send_all, b);
	CHECK(sa_up && sb_up);
	if (sa_up)
		pthread_join(sa, NULL);
	if (sb_up)
		pthread_join(sb, NULL);
	wait_received(a, b);
	check_end(a, b);
	check_end(b, a);
}

/* Stop the loops and close everything. */
static void rig_close(struct rig *r)
{
	unsigned i;

	for (i = 0; i < 2; i++)
		CHECK_EQ(__atomic_load_n(&r->lt[i].wrong_thread, __ATOMIC_RELAXED), 0);
	stop_loops(r->lt, 2);
	end_fini(&end_a);
	end_fini(&end_b);
	for (i = 0; i < 2; i++)
		netbe_epoll_free(r->lt[i].ep);
}

/* Make the loops of a run. Return: 0 or -errno. */
static int rig_init(struct rig *r, bool split)
{
	memset(r, 0, sizeof(*r));
	r->split = split;
	r->lt[0].no = 1;
	r->lt[1].no = 2;
	memset(&end_a, 0, offsetof(struct end, buf));
	memset(&end_b, 0, offsetof(struct end, buf));
	if (netbe_epoll_new(&r->lt[0].ep) || netbe_epoll_new(&r->lt[1].ep))
		return -ENOMEM;
	return 0;
}

/*
 * Run @frames each way between ends opened from @spec_a and @spec_b.
 * @split: A on loop 1 with tx loop 2, B on loop 2 with tx loop 1 (else
 * both on loop 1 without the flag). @reopen: then close B, open it again
 * and run once more.
 */
static void run_both_ways(const char *spec_a, const char *spec_b,
			  uint32_t frames, bool split, bool reopen)
{
	struct rig r;

	if (rig_init(&r, split) || rig_open_end(&r, &end_a, 'A', spec_a, frames) ||
	    rig_open_end(&r, &end_b, 'B', spec_b, frames) || rig_start(&r)) {
		CHECK(0);
		goto out;
	}
	exchange(&end_a, &end_b);
	if (!reopen)
		goto out;
	stop_loops(r.lt, 2);    /* no callback of B may be running */
	end_fini(&end_b);
	end_reset(&end_a);
	if (rig_start(&r)) {
		CHECK(0);
		goto out;
	}
	CHECK(wait_link_down(&end_a));  /* a listener takes one peer at a time */
	if (rig_open_end(&r, &end_b, 'B', spec_b, frames)) {
		CHECK(0);
		goto out;
	}
	exchange(&end_a, &end_b);
out:
	rig_close(&r);
}

/* pair ends on two loops: the senders are woken by netbe_tx_kick(). */
static void test_pair_two_loops(void)
{
	run_both_ways("pair:txloop,depth=4", "pair:txloop,depth=4", 50000, true, false);
}

/* Without the flag: one loop runs everything, tx_loop is not read. */
static void test_pair_one_loop(void)
{
	run_both_ways("pair:oneloop,depth=4", "pair:oneloop,depth=4", 20000, false, false);
}

/* unix dgram ends on two loops: the tx loop watches the tx fd. */
static void test_dgram_two_loops(void)
{
	char dir[64], spec_a[160], spec_b[160];

	snprintf(dir, sizeof(dir), "/tmp/nbtest-txloop-%d", (int)getpid());
	if (mkdir(dir, 0700)) {
		CHECK(0);
		return;
	}
	snprintf(spec_a, sizeof(spec_a), "dgram:local=%s/a,remote=%s/b", dir, dir);
	snprintf(spec_b, sizeof(spec_b), "dgram:local=%s/b,remote=%s/a", dir, dir);
	run_both_ways(spec_a, spec_b, 20000, true, false);
	rmdir(dir);
}

/* unix stream ends on two loops: the listener gets its fds from the loop
 * (accept), and new ones when the other end comes back. */
static void test_stream_two_loops(void)
{
	char dir[64], spec_a[160], spec_b[160];

	snprintf(dir, sizeof(dir), "/tmp/nbtest-txloop-s%d", (int)getpid());
	if (mkdir(dir, 0700)) {
		CHECK(0);
		return;
	}
	snprintf(spec_a, sizeof(spec_a), "stream:listen=%s/s", dir);
	snprintf(spec_b, sizeof(spec_b), "stream:connect=%s/s", dir);
	run_both_ways(spec_a, spec_b, 200000, true, true);
	unlink(spec_a + strlen("stream:listen="));
	rmdir(dir);
}

/* A tx limit held the sender back. */
static void tx_throttled(const struct netbe_stats *st, uint32_t frames)
{
	(void)frames;
	CHECK(st->tx_throttled > 0);
	CHECK_EQ(st->drops[NETBE_DROP_TX_FAULT_OVERFLOW], 0);
}

/* A tx rate limit on both ends (tokens for a tenth of the frames at
 * first): each sender waits for tokens, and the tx loop's throttle timer
 * calls its tx_cb. */
static void test_tx_limit_two_loops(void)
{
	ropt = (struct run_opts){ .check_adapter = true, .check_stats = tx_throttled };
	run_both_ways("pair:txrl,depth=256,tx_ops=300/20", "pair:txrl,depth=256,tx_ops=300/20",
		      3000, true, false);
	ropt = (struct run_opts){ 0 };
}

/* The peer's rx limit held the receive back (the stats are the sender's
 * end: its own rx was limited too). */
static void rx_throttled(const struct netbe_stats *st, uint32_t frames)
{
	(void)frames;
	CHECK(st->rx_throttled > 0);
}

/* An rx rate limit on both ends: the main loop's throttle timer calls
 * rx_cb; the senders wait for the pair queue as before. */
static void test_rx_limit_two_loops(void)
{
	ropt = (struct run_opts){ .check_adapter = true, .check_stats = rx_throttled };
	run_both_ways("pair:rxrl,depth=8,rx_ops=300/20", "pair:rxrl,depth=8,rx_ops=300/20",
		      3000, true, false);
	ropt = (struct run_opts){ 0 };
}

/* Every frame of the sender went through the tx delay. */
static void tx_delayed(const struct netbe_stats *st, uint32_t frames)
{
	CHECK_EQ(st->tx_fault_delayed, frames);
	CHECK_EQ(st->drops[NETBE_DROP_TX_FAULT_OVERFLOW], 0);
}

/* A 20 ms tx delay on both ends: the tx loop's fault timer releases the
 * frames, none before its time. */
static void test_tx_delay_two_loops(void)
{
	ropt = (struct run_opts){ .check_adapter = true, .pace_us = 1000, .min_delay_ns = 20000000,
				  .may_not_wait = true, .check_stats = tx_delayed };
	run_both_ways("pair:txd,depth=256,tx_delay=20", "pair:txd,depth=256,tx_delay=20",
		      1000, true, false);
	ropt = (struct run_opts){ 0 };
}

/* A 20 ms tx delay into a receiver held back by its rx limit: the release
 * from the fault timer finds the pair full, the sender gets -EAGAIN and
 * its tx_cb comes from the tx loop when the receiver drained. */
static void test_tx_delay_blocked_two_loops(void)
{
	ropt = (struct run_opts){ .check_adapter = true, .pace_us = 1000, .min_delay_ns = 20000000,
				  .check_stats = tx_delayed };
	run_both_ways("pair:txdb,depth=4,tx_delay=20,rx_ops=20/20",
		      "pair:txdb,depth=4,tx_delay=20,rx_ops=20/20", 1000, true, false);
	ropt = (struct run_opts){ 0 };
}

/* Every frame to the receiver went through its rx delay. */
static void rx_delayed(const struct netbe_stats *st, uint32_t frames)
{
	CHECK_EQ(st->rx_fault_delayed, frames);
	CHECK_EQ(st->drops[NETBE_DROP_RX_FAULT_OVERFLOW], 0);
}

/* A 20 ms rx delay on both ends: the main loop's fault timer calls
 * rx_cb, no frame before its time. */
static void test_rx_delay_two_loops(void)
{
	ropt = (struct run_opts){ .check_adapter = true, .pace_us = 1000, .min_delay_ns = 20000000,
				  .may_not_wait = true, .check_stats = rx_delayed };
	run_both_ways("pair:rxd,depth=256,rx_delay=20", "pair:rxd,depth=256,rx_delay=20",
		      1000, true, false);
	ropt = (struct run_opts){ 0 };
}

/* Open "pair:badcfg" with @cfg. Return: netbe_open()'s result. */
static int open_with(const struct netbe_config *cfg, struct netbe_epoll *ep)
{
	struct netbe *be = NULL;
	int ret = netbe_open(&be, "pair:badcfg", cfg, netbe_epoll_loop(ep));

	CHECK(ret ? be == NULL : be != NULL);
	netbe_close(be);
	return ret;
}

/* The flag needs a complete tx loop, and excludes inline receive. */
static void test_bad_config(void)
{
	static const struct netbe_loop_ops no_ops;
	const struct netbe_loop empty = { .ops = &no_ops };
	struct netbe_config cfg = { .flags = NETBE_CFG_TX_LOOP };
	struct netbe_epoll *ep = NULL;

	if (netbe_epoll_new(&ep)) {
		CHECK(0);
		return;
	}
	CHECK_EQ(open_with(&cfg, ep), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "tx_loop");
	cfg.tx_loop = &empty;
	CHECK_EQ(open_with(&cfg, ep), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "tx_loop");
	cfg.tx_loop = netbe_epoll_loop(ep);
	cfg.flags |= NETBE_CFG_RX_INLINE;
	CHECK_EQ(open_with(&cfg, ep), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "NETBE_CFG_RX_INLINE");
	cfg.flags = NETBE_CFG_TX_LOOP;
	CHECK_EQ(open_with(&cfg, ep), 0);   /* the same loop twice is fine */
	netbe_epoll_free(ep);
}

int main(void)
{
	RUN(test_bad_config);
	RUN(test_pair_one_loop);
	RUN(test_pair_two_loops);
	RUN(test_dgram_two_loops);
	RUN(test_stream_two_loops);
	RUN(test_tx_limit_two_loops);
	RUN(test_rx_limit_two_loops);
	RUN(test_tx_delay_two_loops);
	RUN(test_tx_delay_blocked_two_loops);
	RUN(test_rx_delay_two_loops);
	return harness_done();
}
