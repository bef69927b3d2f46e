/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-ratelimit.c - rate limiting: the token buckets of ratelimit.c with
 * a fake clock, then core's wiring through the public API over the `pair`
 * backend and the epoll loop.
 *
 * Bucket tests: refill, the one-time burst, bytes and ops together, the
 * rule for a frame larger than the bucket (admitted once the bucket is
 * full, leaving a debt) and the exact long-term rate with fractional
 * refills. Wiring tests: a limited sender gets -EAGAIN and then its tx_cb
 * once the loop ran long enough; every frame sent arrives (nothing is
 * dropped, in order); a burst is cut to what fits; receive is held with
 * the frames left in the backend and resumed; a peeked frame is delivered
 * over the limit; rate groups share buckets; limits change at run time
 * (removing one wakes a held sender), also while a sender thread sends;
 * bad keys and bad API values are refused with a message. Waits are
 * bounded dispatch loops; no test asserts how long anything took.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "netbe.h"
#include "ratelimit.h"

#define MS 1000000ULL
#define FRAME_LEN 60
#define DEADLINE_MS 20000

/* ------------------------------------------------------------------------ */
/* Buckets, fake clock                                                      */
/* ------------------------------------------------------------------------ */

/* Refill is linear: size tokens per refill time, from empty to full. */
static void test_bucket_refill(void)
{
	struct rl_bucket b;
	uint64_t t = 5 * MS;

	rl_bucket_init(&b, 1000, 100, 0, t);
	CHECK(rl_bucket_take(&b, t, 1000));       /* starts full */
	CHECK(!rl_bucket_take(&b, t, 1));
	CHECK_EQ(rl_bucket_wait_ns(&b, t, 1), 100000);   /* 100 ms / 1000 */
	CHECK_EQ(rl_bucket_wait_ns(&b, t, 500), 50 * MS);
	t += 50 * MS;
	CHECK(rl_bucket_take(&b, t, 500));
	CHECK(!rl_bucket_take(&b, t, 1));
	t += 10 * 1000 * MS;                      /* long idle: full, no more */
	CHECK(rl_bucket_take(&b, t, 1000));
	CHECK(!rl_bucket_take(&b, t, 1));
}

/* The one-time burst is spent first and never refilled. */
static void test_bucket_burst(void)
{
	struct rl_bucket b;
	uint64_t t = 0;

	rl_bucket_init(&b, 100, 1000, 500, t);
	CHECK(rl_bucket_take(&b, t, 550));        /* 500 burst + 50 budget */
	CHECK(rl_bucket_take(&b, t, 50));
	CHECK(!rl_bucket_take(&b, t, 1));
	t += 1000 * MS;
	CHECK(rl_bucket_take(&b, t, 100));
	CHECK(!rl_bucket_take(&b, t, 1));
	t += 5000 * MS;
	CHECK(rl_bucket_take(&b, t, 100));        /* the burst is gone */
	CHECK(!rl_bucket_take(&b, t, 1));
}

/* A frame larger than the bucket passes once the bucket is full and
 * leaves a debt that the refill pays before anything else passes. */
static void test_bucket_larger_than_size(void)
{
	struct rl_bucket b;
	uint64_t t = 0;

	rl_bucket_init(&b, 1000, 100, 0, t);
	CHECK(rl_bucket_take(&b, t, 300));
	CHECK(!rl_bucket_take(&b, t, 2500));      /* not full */
	CHECK_EQ(rl_bucket_wait_ns(&b, t, 2500), 30 * MS);
	t += 30 * MS;
	CHECK(rl_bucket_take(&b, t, 2500));       /* full: passes */
	CHECK_EQ(b.budget, -1500);
	CHECK(!rl_bucket_take(&b, t, 1));
	CHECK_EQ(rl_bucket_wait_ns(&b, t, 1), 1501 * 100000ULL);
	t += 150 * MS;
	CHECK(!rl_bucket_take(&b, t, 1));
	t += 100000;
	CHECK(rl_bucket_take(&b, t, 1));
}

/* Over a long run of large frames the rate is the bucket's rate. */
static void test_bucket_large_frames_rate(void)
{
	struct rl_bucket b;
	uint64_t t = 0, sent = 0;

	rl_bucket_init(&b, 1000, 100, 0, t);      /* 10000 tokens/s */
	for (t = 0; t <= 10000 * MS; t += MS)
		while (rl_bucket_take(&b, t, 2500))
			sent += 2500;
	/* 1000 at start (full), then 10 s at 10000/s, the last debt paid */
	CHECK(sent >= 100000 && sent <= 100000 + 2500);
	printf("# 2500-token frames through a 1000-token bucket, 10 s: %llu tokens\n",
	       (unsigned long long)sent);
}

/* Fractions of tokens are neither lost nor doubled. */
static void test_bucket_exact_rate(void)
{
	struct rl_bucket b;
	uint64_t t, taken = 0;

	rl_bucket_init(&b, 3, 10, 0, 0);          /* 0.3 tokens per ms */
	for (t = 0; t <= 1000 * MS; t += MS / 7)
		while (rl_bucket_take(&b, t, 1))
			taken++;
	CHECK(taken >= 302 && taken <= 303);      /* 3 + 300 (+1 rounding) */
	CHECK_EQ(rl_bucket_wait_ns(&b, t, 0), 0);
}

/* Ops and bytes: a frame needs both; a refusal takes nothing. */
static void test_limit_ops_and_bytes(void)
{
	struct rl_limit l;

	rl_bucket_init(&l.bytes, 10000, 1000, 0, 0);
	rl_bucket_init(&l.ops, 2, 1000, 0, 0);
	CHECK(rl_limit_take(&l, 0, 100));
	CHECK(rl_limit_take(&l, 0, 100));
	CHECK(!rl_limit_take(&l, 0, 100));        /* no op left */
	CHECK_EQ(l.bytes.budget, 9800);
	CHECK_EQ(rl_limit_wait_ns(&l, 0, 100), 500 * MS);
	rl_limit_refund(&l, 1, 100);
	CHECK(rl_limit_take(&l, 0, 100));
	CHECK_EQ(l.bytes.budget, 9800);
	rl_bucket_init(&l.ops, 0, 0, 0, 0);       /* bytes only */
	CHECK(!rl_limit_take(&l, 0, 9801));
	CHECK(rl_limit_take(&l, 0, 9800));
	rl_limit_refund(&l, 1, 50000);            /* never above the size */
	CHECK_EQ(l.bytes.budget, 10000);
}

/* The receive gate: frames that may be read before the buckets empty. */
static void test_limit_frames(void)
{
	struct rl_limit l;

	rl_bucket_init(&l.bytes, 10000, 1000, 0, 0);
	rl_bucket_init(&l.ops, 100, 1000, 0, 0);
	CHECK_EQ(rl_limit_frames(&l, 0, 1500, 64), 6);
	CHECK_EQ(rl_limit_frames(&l, 0, 65000, 64), 1);   /* at least one */
	rl_limit_charge(&l, 0, 1, 10000 + 60000);         /* one big frame */
	CHECK_EQ(rl_limit_frames(&l, 0, 1500, 64), 0);
	CHECK_EQ(rl_limit_frames(&l, 7000 * MS, 1500, 64), 6);
	rl_bucket_init(&l.bytes, 0, 0, 0, 0);
	CHECK_EQ(rl_limit_frames(&l, 0, 1500, 64), 64);
	rl_limit_charge(&l, 0, 99, 0);
	CHECK_EQ(rl_limit_frames(&l, 0, 1500, 64), 1);
}

/* Values a bucket refuses. */
static void test_bucket_check(void)
{
	CHECK(rl_check(0, 0, 0) == NULL);
	CHECK(rl_check(1, 1, 0) == NULL);
	CHECK(rl_check(RL_SIZE_MAX, RL_REFILL_MS_MAX, RL_SIZE_MAX) == NULL);
	CHECK(rl_check(0, 100, 0) != NULL);
	CHECK(rl_check(0, 0, 5) != NULL);
	CHECK(rl_check(100, 0, 0) != NULL);
	CHECK(rl_check(100, RL_REFILL_MS_MAX + 1, 0) != NULL);
	CHECK(rl_check(RL_SIZE_MAX + 1, 100, 0) != NULL);
	CHECK(rl_check(100, 100, RL_SIZE_MAX + 1) != NULL);
}

/* ------------------------------------------------------------------------ */
/* Through core: pair backend, epoll loop                                   */
/* ------------------------------------------------------------------------ */

struct end {
	struct netbe *be;
	unsigned tx_cbs;              /* tx_cb calls */
	unsigned rx_cbs;              /* rx_cb calls */
	bool drain;                   /* rx_cb receives until empty */
	uint32_t next;                /* next sequence number expected */
	uint32_t got, out_of_order;
};

static struct netbe_epoll *ep;

/* Keep expected error messages out of the test output. */
static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* Fill @f with a frame of @len bytes carrying @seq. */
static void make_frame(uint8_t *f, size_t len, uint32_t seq)
{
	memset(f, 0, len);
	memset(f, 0xff, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, sizeof(seq));
}

/* Receive one frame into @e's counters. Return: netbe_recv()'s result. */
static ssize_t recv_one(struct end *e)
{
	uint8_t buf[2048];
	struct iovec iov = { buf, sizeof(buf) };
	ssize_t n = netbe_recv(e->be, &iov, 1);
	uint32_t seq;

	if (n > 0) {
		memcpy(&seq, buf + 14, sizeof(seq));
		e->out_of_order += seq != e->next;
		e->next = seq + 1;
		e->got++;
	}
	return n;
}

/* The rx callback: count the call and, when draining, receive until
 * nothing is left. */
static void on_rx(struct netbe *be, void *opaque)
{
	struct end *e = opaque;

	(void)be;
	e->rx_cbs++;
	while (e->drain && recv_one(e) > 0)
		;
}

/* The tx callback: count the call. */
static void on_tx(struct netbe *be, void *opaque)
{
	(void)be;
	__atomic_fetch_add(&((struct end *)opaque)->tx_cbs, 1, __ATOMIC_RELAXED);
}

/* Open @spec as @e with both callbacks. Return: 0 or the error. */
static int end_open(struct end *e, const char *spec)
{
	struct netbe_config cfg = { .rx_cb = on_rx, .tx_cb = on_tx, .opaque = e };
	int ret;

	memset(e, 0, sizeof(*e));
	e->drain = true;
	ret = netbe_open(&e->be, spec, &cfg, netbe_epoll_loop(ep));
	if (ret)
		printf("# %s: %s\n", spec, netbe_last_error());
	else
		netbe_rx_enable(e->be);
	return ret;
}

/* Send frame @seq of @len bytes. Return: netbe_send()'s result. */
static ssize_t send_one(struct end *e, uint32_t seq, size_t len)
{
	uint8_t buf[2048];
	struct iovec iov = { buf, len };

	make_frame(buf, len, seq);
	return netbe_send(e->be, &iov, 1);
}

/* Dispatch until *@what reaches @n (DEADLINE_MS at most). Return: true
 * when it did. */
static bool run_until(const unsigned *what, unsigned n)
{
	uint64_t deadline = harness_now_ms() + DEADLINE_MS;

	while (__atomic_load_n(what, __ATOMIC_RELAXED) < n && harness_now_ms() < deadline)
		netbe_epoll_dispatch(ep, 10);
	return __atomic_load_n(what, __ATOMIC_RELAXED) >= n;
}

/* Return: the sum of @be's drop counters. */
static uint64_t drops(struct netbe *be)
{
	struct netbe_stats st;
	uint64_t sum = 0;
	unsigned i;

	netbe_get_stats(be, &st);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		sum += st.drops[i];
	return sum;
}

/* Over the limit a send is -EAGAIN, counted; tx_cb follows once the
 * loop ran long enough, and the send then succeeds. */
static void test_tx_eagain_then_cb(void)
{
	struct end s, r;
	struct netbe_stats st;

	if (end_open(&s, "pair:t1,tx_ops=2/200") || end_open(&r, "pair:t1")) {
		CHECK(0);
		goto out;
	}
	CHECK_EQ(send_one(&s, 0, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(send_one(&s, 1, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(send_one(&s, 2, FRAME_LEN), -EAGAIN);
	CHECK_EQ(send_one(&s, 2, FRAME_LEN), -EAGAIN);
	netbe_get_stats(s.be, &st);
	CHECK_EQ(st.tx_eagain, 2);
	CHECK_EQ(st.tx_throttled, 1);
	CHECK_EQ(st.tx_frames, 2);
	CHECK(run_until(&s.tx_cbs, 1));
	CHECK_EQ(send_one(&s, 2, FRAME_LEN), FRAME_LEN);
	CHECK(run_until(&r.got, 3));
	CHECK_EQ(r.out_of_order, 0);
	netbe_get_stats(s.be, &st);
	CHECK(st.tx_throttled_ns > 0);
	CHECK_EQ(drops(s.be) + drops(r.be), 0);
out:
	netbe_close(s.be);
	netbe_close(r.be);
}

/* A burst sends the frames that fit and says how many. */
static void test_tx_burst_cut(void)
{
	uint8_t buf[5][FRAME_LEN];
	struct iovec iov[5];
	struct netbe_frame f[5];
	struct end s, r;
	unsigned i;

	if (end_open(&s, "pair:t2,tx_ops=3/100000") || end_open(&r, "pair:t2")) {
		CHECK(0);
		goto out;
	}
	for (i = 0; i < 5; i++) {
		make_frame(buf[i], FRAME_LEN, i);
		iov[i] = (struct iovec){ buf[i], FRAME_LEN };
		f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
	}
	CHECK_EQ(netbe_send_burst(s.be, f, 5), 3);
	CHECK_EQ(f[2].result, FRAME_LEN);
	CHECK_EQ(netbe_send_burst(s.be, f + 3, 2), -EAGAIN);
	CHECK(run_until(&r.got, 3));
	CHECK_EQ(r.got, 3);
out:
	netbe_close(s.be);
	netbe_close(r.be);
}

/* Driven by tx_cb, a limited sender's frames all arrive, in order: the
 * limit holds frames back, it never drops one. */
static void test_tx_nothing_dropped(void)
{
	const uint32_t total = 400;
	uint8_t buf[8][1000];
	struct iovec iov[8];
	struct netbe_frame f[8];
	struct end s, r;
	uint32_t sent = 0;
	uint64_t deadline = harness_now_ms() + DEADLINE_MS;
	struct netbe_stats st;

	if (end_open(&s, "pair:t3,tx_bytes=40k/100,tx_ops=100/100") ||
	    end_open(&r, "pair:t3")) {
		CHECK(0);
		goto out;
	}
	while (r.got < total && harness_now_ms() < deadline) {
		unsigned n = total - sent < 8 ? total - sent : 8, i;
		int ret;

		for (i = 0; i < n; i++) {
			make_frame(buf[i], sizeof(buf[i]), sent + i);
			iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
			f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
		}
		ret = n ? netbe_send_burst(s.be, f, n) : -EAGAIN;
		if (ret > 0) {
			sent += (uint32_t)ret;
			continue;
		}
		CHECK(ret == -EAGAIN);
		netbe_epoll_dispatch(ep, 10);
	}
	CHECK_EQ(sent, total);
	CHECK_EQ(r.got, total);
	CHECK_EQ(r.out_of_order, 0);
	netbe_get_stats(s.be, &st);
	CHECK(st.tx_throttled > 0);
	CHECK_EQ(st.tx_frames, total);
	CHECK_EQ(drops(s.be) + drops(r.be), 0);
	printf("# %u frames, tx_throttled %llu, tx_eagain %llu\n", total,
	       (unsigned long long)st.tx_throttled, (unsigned long long)st.tx_eagain);
out:
	netbe_close(s.be);
	netbe_close(r.be);
}

/* Over the rx limit frames stay in the backend and rx_cb stops; it is
 * called again when tokens return, and every frame arrives. */
static void test_rx_held_and_resumed(void)
{
	struct end s, r;
	struct netbe_stats st;
	uint32_t i;

	if (end_open(&s, "pair:r1") || end_open(&r, "pair:r1,rx_ops=2/200")) {
		CHECK(0);
		goto out;
	}
	r.drain = false;
	for (i = 0; i < 6; i++)
		CHECK_EQ(send_one(&s, i, FRAME_LEN), FRAME_LEN);
	CHECK(recv_one(&r) == FRAME_LEN);
	CHECK(recv_one(&r) == FRAME_LEN);
	CHECK_EQ(recv_one(&r), 0);                 /* held back */
	CHECK_EQ(netbe_peek_recvlen(r.be), 0);
	netbe_get_stats(r.be, &st);
	CHECK_EQ(st.rx_throttled, 1);
	CHECK_EQ(st.rx_frames, 2);
	r.drain = true;
	r.rx_cbs = 0;
	CHECK(run_until(&r.got, 6));
	CHECK(r.rx_cbs > 0);
	CHECK_EQ(r.out_of_order, 0);
	CHECK_EQ(drops(s.be) + drops(r.be), 0);
out:
	netbe_close(s.be);
	netbe_close(r.be);
}

/* Handles of one rate group share their buckets; a frame one of them
 * peeked is delivered even when another emptied the bucket since. */
static void test_group_and_peek(void)
{
	struct end s1, s2, r1, r2;
	struct netbe *bad = NULL;
	struct netbe_config cfg = { 0 };

	if (end_open(&s1, "pair:g1,tx_ops=3/100000,rate_group=gt") ||
	    end_open(&s2, "pair:g2,rate_group=gt") ||
	    end_open(&r1, "pair:g1,rx_ops=1/100000,rate_group=gr") ||
	    end_open(&r2, "pair:g2,rx_ops=1/100000,rate_group=gr")) {
		CHECK(0);
		goto out;
	}
	r1.drain = r2.drain = false;
	CHECK_EQ(send_one(&s1, 0, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(send_one(&s2, 0, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(send_one(&s2, 1, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(send_one(&s1, 1, FRAME_LEN), -EAGAIN);   /* the group's 3 */
	CHECK_EQ(send_one(&s2, 2, FRAME_LEN), -EAGAIN);
	CHECK_EQ(netbe_peek_recvlen(r1.be), FRAME_LEN);  /* read, not charged */
	CHECK_EQ(recv_one(&r2), FRAME_LEN);              /* the group's 1 */
	CHECK_EQ(recv_one(&r2), 0);
	CHECK_EQ(recv_one(&r1), FRAME_LEN);              /* peeked: delivered */
	CHECK_EQ(netbe_peek_recvlen(r1.be), 0);
	/* joining with other limits is refused */
	netbe_set_log(quiet_log, NULL, NETBE_LOG_DEBUG);
	CHECK_EQ(netbe_open(&bad, "pair:g3,tx_ops=4/100000,rate_group=gt", &cfg,
			    netbe_epoll_loop(ep)), -EINVAL);
	netbe_set_log(NULL, NULL, NETBE_LOG_INFO);
	CHECK_STR_CONTAINS(netbe_last_error(), "rate_group 'gt' already has another tx limit");
	CHECK(bad == NULL);
	CHECK_EQ(netbe_open(&bad, "pair:g3,tx_ops=3/100000,rate_group=gt", &cfg,
			    netbe_epoll_loop(ep)), 0);
	netbe_close(bad);
	/* removing the group's rx limit through one member frees both */
	{
		struct netbe_rate_limit none = { .struct_size = sizeof(none) };

		CHECK_EQ(netbe_set_rate_limit(r1.be, NETBE_DIR_RX, &none), 0);
		CHECK_EQ(recv_one(&r2), FRAME_LEN);
		CHECK_EQ(netbe_get_rate_limit(r2.be, NETBE_DIR_RX, &none), 0);
		CHECK_EQ(none.ops.size, 0);
	}
out:
	netbe_close(s1.be);
	netbe_close(s2.be);
	netbe_close(r1.be);
	netbe_close(r2.be);
}

/* Limits change at run time: read back as set, and removing the limit
 * wakes a sender held back (its tx_cb runs, its send succeeds). */
static void test_runtime_change(void)
{
	struct netbe_rate_limit rl = { .struct_size = sizeof(rl) };
	struct end s, r;

	if (end_open(&s, "pair:c1,tx_bytes=1250k/100/5M") || end_open(&r, "pair:c1")) {
		CHECK(0);
		goto out;
	}
	CHECK_EQ(netbe_get_rate_limit(s.be, NETBE_DIR_TX, &rl), 0);
	CHECK_EQ(rl.bytes.size, 1250000);
	CHECK_EQ(rl.bytes.refill_ms, 100);
	CHECK_EQ(rl.bytes.one_time_burst, 5000000);
	CHECK_EQ(rl.ops.size, 0);
	CHECK_EQ(netbe_get_rate_limit(s.be, NETBE_DIR_RX, &rl), 0);
	CHECK_EQ(rl.bytes.size, 0);
	rl = (struct netbe_rate_limit){ .struct_size = sizeof(rl),
		.ops = { .size = 1, .refill_ms = 3600000 } };
	CHECK_EQ(netbe_set_rate_limit(s.be, NETBE_DIR_TX, &rl), 0);
	CHECK_EQ(send_one(&s, 0, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(send_one(&s, 1, FRAME_LEN), -EAGAIN);
	netbe_epoll_dispatch(ep, 0);
	CHECK_EQ(s.tx_cbs, 0);
	rl = (struct netbe_rate_limit){ .struct_size = sizeof(rl) };
	CHECK_EQ(netbe_set_rate_limit(s.be, NETBE_DIR_TX, &rl), 0);
	CHECK(run_until(&s.tx_cbs, 1));
	CHECK_EQ(send_one(&s, 1, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(netbe_get_rate_limit(s.be, NETBE_DIR_TX, &rl), 0);
	CHECK_EQ(rl.ops.size, 0);
	/* a limit on a handle opened without one */
	rl.ops = (struct netbe_token_bucket){ .size = 1, .refill_ms = 3600000 };
	CHECK_EQ(netbe_set_rate_limit(r.be, NETBE_DIR_TX, &rl), 0);
	CHECK_EQ(send_one(&r, 0, FRAME_LEN), FRAME_LEN);
	CHECK_EQ(send_one(&r, 1, FRAME_LEN), -EAGAIN);
	CHECK(run_until(&r.got, 2));
out:
	netbe_close(s.be);
	netbe_close(r.be);
}

struct sender {
	struct end *e;
	uint32_t frames, sent;
	int error;
	bool stop;                   /* atomic */
};

/* A sender thread: @frames frames, waiting on -EAGAIN for tx_cb (with a
 * bounded wait so a lost callback shows as a stall, not a hang).
 * Return: NULL. */
static void *sender_thread(void *arg)
{
	struct sender *p = arg;

	while (p->sent < p->frames && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		unsigned cbs = __atomic_load_n(&p->e->tx_cbs, __ATOMIC_RELAXED);
		ssize_t ret = send_one(p->e, p->sent, FRAME_LEN);

		if (ret == FRAME_LEN) {
			p->sent++;
			continue;
		}
		if (ret != -EAGAIN) {
			p->error = (int)ret;
			return NULL;
		}
		while (__atomic_load_n(&p->e->tx_cbs, __ATOMIC_RELAXED) == cbs &&
		       !__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
			sched_yield();
	}
	return NULL;
}

/* A sender thread sends while the loop thread keeps changing the limit
 * (tight, loose, none): every frame arrives, in order, none dropped. */
static void test_change_under_sender_thread(void)
{
	static const uint64_t ops[] = { 5, 50, 0, 20, 500 };
	struct sender p = { .frames = 3000 };
	struct end s, r;
	pthread_t th;
	uint64_t deadline = harness_now_ms() + DEADLINE_MS;
	unsigned k = 0;

	if (end_open(&s, "pair:x1,tx_ops=20/10") || end_open(&r, "pair:x1")) {
		CHECK(0);
		goto out;
	}
	p.e = &s;
	if (pthread_create(&th, NULL, sender_thread, &p)) {
		CHECK(0);
		goto out;
	}
	while (r.got < p.frames && harness_now_ms() < deadline) {
		struct netbe_rate_limit rl = { .struct_size = sizeof(rl) };

		rl.ops.size = ops[k++ % 5];
		rl.ops.refill_ms = rl.ops.size ? 10 : 0;
		CHECK_EQ(netbe_set_rate_limit(s.be, NETBE_DIR_TX, &rl), 0);
		netbe_epoll_dispatch(ep, 2);
	}
	__atomic_store_n(&p.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	CHECK_EQ(p.error, 0);
	CHECK_EQ(p.sent, p.frames);
	CHECK_EQ(r.got, p.frames);
	CHECK_EQ(r.out_of_order, 0);
	CHECK_EQ(drops(s.be) + drops(r.be), 0);
	printf("# %u limit changes during %u frames\n", k, p.frames);
out:
	netbe_close(s.be);
	netbe_close(r.be);
}

/* Two handles of one rate group send from two threads, taking from one
 * bucket: every frame of both arrives, in order, none dropped. */
static void test_group_two_threads(void)
{
	struct sender p1 = { .frames = 2000 }, p2 = { .frames = 2000 };
	struct end s1, s2, r1, r2;
	struct netbe_stats st1, st2;
	pthread_t t1, t2;
	uint64_t deadline = harness_now_ms() + DEADLINE_MS;
	bool started = false;

	if (end_open(&s1, "pair:m1,tx_ops=100/10,rate_group=mt") ||
	    end_open(&s2, "pair:m2,rate_group=mt") ||
	    end_open(&r1, "pair:m1") || end_open(&r2, "pair:m2")) {
		CHECK(0);
		goto out;
	}
	p1.e = &s1;
	p2.e = &s2;
	if (pthread_create(&t1, NULL, sender_thread, &p1)) {
		CHECK(0);
		goto out;
	}
	if (pthread_create(&t2, NULL, sender_thread, &p2)) {
		CHECK(0);
		__atomic_store_n(&p1.stop, true, __ATOMIC_RELAXED);
		pthread_join(t1, NULL);
		goto out;
	}
	started = true;
	while (r1.got + r2.got < p1.frames + p2.frames && harness_now_ms() < deadline)
		netbe_epoll_dispatch(ep, 10);
	__atomic_store_n(&p1.stop, true, __ATOMIC_RELAXED);
	__atomic_store_n(&p2.stop, true, __ATOMIC_RELAXED);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
out:
	if (started) {
		CHECK_EQ(p1.error + p2.error, 0);
		CHECK_EQ(r1.got, p1.frames);
		CHECK_EQ(r2.got, p2.frames);
		CHECK_EQ(r1.out_of_order + r2.out_of_order, 0);
		CHECK_EQ(drops(s1.be) + drops(s2.be) + drops(r1.be) + drops(r2.be), 0);
		netbe_get_stats(s1.be, &st1);
		netbe_get_stats(s2.be, &st2);
		printf("# tx_throttled %llu and %llu\n", (unsigned long long)st1.tx_throttled,
		       (unsigned long long)st2.tx_throttled);
	}
	netbe_close(s1.be);
	netbe_close(s2.be);
	netbe_close(r1.be);
	netbe_close(r2.be);
}

/* Open @spec, expecting -EINVAL with @part in the message. */
static void expect_bad_spec(const char *spec, const char *part)
{
	struct netbe_config cfg = { 0 };
	struct netbe *be = NULL;

	CHECK_EQ(netbe_open(&be, spec, &cfg, netbe_epoll_loop(ep)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), part);
	CHECK(be == NULL);
	netbe_close(be);
}

/* Bad keys and bad API values are refused, saying why. */
static void test_bad_values(void)
{
	struct netbe_rate_limit rl = { .struct_size = sizeof(rl) };
	uint8_t big[sizeof(rl) + 8] = { 0 };
	struct end e;
	const char *syntax = "expected SIZE/REFILL_MS[/BURST]";

	netbe_set_log(quiet_log, NULL, NETBE_LOG_DEBUG);
	expect_bad_spec("pair:b0,tx_bytes=abc", syntax);
	expect_bad_spec("pair:b0,tx_bytes=0/100", syntax);
	expect_bad_spec("pair:b0,tx_bytes=1k", syntax);
	expect_bad_spec("pair:b0,tx_ops=1k/0", syntax);
	expect_bad_spec("pair:b0,rx_ops=1k/3600001", syntax);
	expect_bad_spec("pair:b0,rx_bytes=1k/100/", syntax);
	expect_bad_spec("pair:b0,rx_bytes=1T/100", syntax);
	expect_bad_spec("pair:b0,tx_bytes=1000001G/100", syntax);
	expect_bad_spec("pair:b0,tx_bytes=10k/100/x", syntax);
	expect_bad_spec("pair:b0,tx_bytes=-1/100", syntax);
	expect_bad_spec("pair:b0,rate_group=0123456789012345678901234567890123456789012345678901234567890123456789",
			"longer than");
	if (end_open(&e, "pair:b1,tx_ops=2M/1000/3G,rx_bytes=1000000G/3600000")) {
		CHECK(0);
		goto out;
	}
	CHECK_EQ(netbe_get_rate_limit(e.be, NETBE_DIR_TX, &rl), 0);
	CHECK_EQ(rl.ops.size, 2000000);
	CHECK_EQ(rl.ops.one_time_burst, 3000000000LL);
	CHECK_EQ(netbe_get_rate_limit(e.be, NETBE_DIR_RX, &rl), 0);
	CHECK_EQ(rl.bytes.size, 1000000000000000LL);
	CHECK_EQ(netbe_set_rate_limit(NULL, NETBE_DIR_TX, &rl), -EINVAL);
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, NULL), -EINVAL);
	CHECK_EQ(netbe_set_rate_limit(e.be, (enum netbe_direction)2, &rl), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "direction 2");
	rl.struct_size = 8;
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, &rl), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "struct_size 8");
	CHECK_EQ(netbe_get_rate_limit(e.be, NETBE_DIR_TX, &rl), -EINVAL);
	rl = (struct netbe_rate_limit){ .struct_size = sizeof(rl),
		.bytes = { .size = 100 } };
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, &rl), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "bytes bucket: the refill time");
	rl.bytes = (struct netbe_token_bucket){ .refill_ms = 5 };
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, &rl), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "size of 0 means no limit");
	rl.bytes = (struct netbe_token_bucket){ 0 };
	rl.ops = (struct netbe_token_bucket){ .size = 1, .refill_ms = 1,
					      .one_time_burst = RL_SIZE_MAX + 1 };
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, &rl), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "ops bucket: the burst");
	rl.ops = (struct netbe_token_bucket){ 0 };
	rl.reserved = 1;
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, &rl), -EINVAL);
	/* a larger struct: unknown fields must be zero; get zeroes them */
	rl.reserved = 0;
	memcpy(big, &rl, sizeof(rl));
	((struct netbe_rate_limit *)big)->struct_size = sizeof(big);
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, (void *)big), 0);
	big[sizeof(rl) + 3] = 1;
	CHECK_EQ(netbe_set_rate_limit(e.be, NETBE_DIR_TX, (void *)big), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "non-zero fields");
	CHECK_EQ(netbe_get_rate_limit(e.be, NETBE_DIR_TX, (void *)big), 0);
	CHECK_EQ(big[sizeof(rl) + 3], 0);
	CHECK_EQ(((struct netbe_rate_limit *)big)->struct_size, sizeof(big));
out:
	netbe_set_log(NULL, NULL, NETBE_LOG_INFO);
	netbe_close(e.be);
}

int main(void)
{
	RUN(test_bucket_refill);
	RUN(test_bucket_burst);
	RUN(test_bucket_larger_than_size);
	RUN(test_bucket_large_frames_rate);
	RUN(test_bucket_exact_rate);
	RUN(test_limit_ops_and_bytes);
	RUN(test_limit_frames);
	RUN(test_bucket_check);
	if (netbe_epoll_new(&ep)) {
		printf("# cannot create an epoll loop\n");
		return 1;
	}
	RUN(test_tx_eagain_then_cb);
	RUN(test_tx_burst_cut);
	RUN(test_tx_nothing_dropped);
	RUN(test_rx_held_and_resumed);
	RUN(test_group_and_peek);
	RUN(test_runtime_change);
	RUN(test_change_under_sender_thread);
	RUN(test_group_two_threads);
	RUN(test_bad_values);
	netbe_epoll_free(ep);
	return harness_done();
}
