/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench.c - `netbe bench tx|rx SPEC`: a frame generator and a sink over any
 * backend, through the public burst calls, for measuring packet rates and
 * for checking that every frame is accounted for.
 *
 * Frames. The generator sends broadcast Ethernet frames with ethertype
 * 0x88b5 (IEEE "local experimental ethertype 1", which no stack handles)
 * whose payload starts with a magic, a 32-bit stream id chosen per run and
 * a 64-bit sequence number counting from 0; the rest is zero. --size is
 * the Ethernet frame size as RFC 2544 counts it, FCS included: --size 64
 * hands 60-byte frames to the backend. Gbit/s figures count those frame
 * bits including the 4-byte FCS (so 1 Mpps of 64-byte frames is 0.512
 * Gbit/s); the summaries also give the line rate, which adds 20 bytes of
 * preamble and inter-frame gap per frame.
 *
 * Theory of operation, tx. The caller's loop is driven here with
 * netbe_epoll_dispatch(): without a timeout while there is nothing to do
 * (waiting for the link, for the tx callback after -EAGAIN, or for the
 * token timer), with a zero timeout between rounds of at most
 * BURSTS_PER_ROUND bursts when sending flat out, so the progress and
 * duration timers keep firing even when a backend never pushes back. A
 * burst is filled with fresh sequence numbers only when the previous one
 * is fully consumed; frames the backend refused stay where they are and
 * go first once the tx callback says it has room. --rate is a token
 * bucket on CLOCK_MONOTONIC: a round waits (on a one-shot loop timer,
 * never spinning, with the timer slack cut to 1 us) until about a
 * millisecond's worth of frames (1 to --burst/2) has accrued, then sends
 * what accrued in bursts. The bucket holds BUCKET_MS worth of frames (at
 * least a burst): a loaded or virtualised host stalls a process for tens
 * of milliseconds (measured here: several 10-50 ms stalls a second under
 * CPU steal), and such a stall is caught up back to back instead of
 * lowering the average rate.
 * Sending starts when the link is up (a stream connect), pauses while it
 * is down, and after the last frame the loop runs until it has been idle
 * for IDLE_MS (at most LINGER_ROUNDS times), so a backend can push out
 * what it still holds (a partly written stream frame) before the close.
 *
 * Theory of operation, rx. The rx callback drains up to BURSTS_PER_ROUND
 * bursts; every frame is counted, and bench frames also go through a
 * sequence tracker: a number above the next expected one counts the gap
 * as lost, one below it is looked up in a bitmap of the last SEQ_WINDOW
 * numbers: seen before means a duplicate, otherwise it is a reordered
 * frame that had been counted lost. A new stream id (a new generator)
 * restarts the tracker. The receiver cannot see frames lost after the
 * last one it got: compare with the generator's "sent". Rates are over
 * the time from the first to the last frame received.
 *
 * Both stop at --duration (0: no limit), rx also at --count frames, and
 * both on SIGINT/SIGTERM, and print a summary with the handle's drop
 * counters by reason. Exit codes: 0 done, 1 open or I/O failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "netbe.h"

#define BENCH_ETHERTYPE 0x88b5
#define BENCH_MAGIC 0x4e42424eu        /* "NBBN" */
#define OFF_ETHERTYPE 12
#define OFF_MAGIC 14
#define OFF_STREAM 18
#define OFF_SEQ 22
#define BENCH_HDR_LEN 30               /* Ethernet header, magic, id, seq */
#define FCS_LEN 4
#define LINE_OVERHEAD 20               /* preamble + SFD 8, gap 12 */
#define SIZE_MIN 64
#define SIZE_MAX_FRAME (65535 + FCS_LEN)
#define BURST_DEFAULT 32
#define BURST_MAX 256
#define RX_BUF (20 + 65535 + 14 + 4)   /* any frame a backend may produce */
#define BURSTS_PER_ROUND 16
#define SEQ_WINDOW 65536
#define BUCKET_MS 50
#define IDLE_MS 100
#define LINGER_ROUNDS 10
#define NS_PER_SEC 1000000000ULL

struct bench_opts {
	bool tx;
	const char *spec;
	unsigned size;        /* tx: frame size with FCS */
	unsigned burst;
	uint64_t rate;        /* tx: frames/s, 0 = as fast as possible */
	double duration;      /* seconds, 0 = no limit */
	uint64_t count;       /* rx: stop after this many frames, 0 = none */
};

/* Frames and frame bytes (without FCS) moved. */
struct meter {
	uint64_t frames, bytes;
};

/* What tx and rx share: the loop, the handle, the timers. */
struct bench {
	const struct bench_opts *o;
	struct netbe_epoll *ep;
	const struct netbe_loop *loop;
	struct netbe *be;
	void *progress_timer, *stop_timer;
	struct meter total, shown;   /* shown: at the last progress line */
	uint64_t t_shown;
	bool stop;
	int exit_code;
	struct netbe_frame frames[BURST_MAX];
	struct iovec iov[BURST_MAX];
};

struct bench_tx {
	struct bench c;
	uint32_t stream;
	uint64_t next_seq;
	unsigned pend_off, pend_n;     /* filled, not yet consumed */
	uint64_t eagain, eagain_shown;
	bool ready;                    /* set up: link changes may start it */
	bool started, link_up, blocked, waiting_tokens;
	uint64_t t_begin, t_end;
	double tokens;
	unsigned target;               /* frames per rate-limited round */
	double depth;                  /* bucket size in frames */
	uint64_t t_refill;
	void *token_timer;
};

struct seq_track {
	uint64_t next;                 /* one past the highest number seen */
	uint64_t lost, reordered, duplicate;
	uint32_t stream;
	unsigned streams;
	uint64_t seen[SEQ_WINDOW / 64];
};

struct bench_rx {
	struct bench c;
	uint64_t bench_frames, other_frames;
	uint64_t t_first, t_last;
	struct seq_track seq;
};

static volatile sig_atomic_t bench_signalled;
static struct netbe_epoll *signal_loop;

/** on_signal() - SIGINT/SIGTERM: end the run (async-signal-safe). Return: nothing. */
static void on_signal(int sig)
{
	(void)sig;
	bench_signalled = 1;
	if (signal_loop)
		netbe_epoll_stop(signal_loop);
}

/** now_ns() - Return: CLOCK_MONOTONIC in nanoseconds. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/** put_be16() / put_be32() / put_be64() - store @v big-endian at @p.
 * Return: nothing. */
static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/** get_be32() - Return: the big-endian number at @p. */
static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/** get_be64() - Return: the big-endian number at @p. */
static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/** mpps() - Return: @frames over @ns in millions per second (0 for no time). */
static double mpps(uint64_t frames, uint64_t ns)
{
	return ns ? (double)frames * 1e3 / (double)ns : 0.0;
}

/** gbps() - Return: Gbit/s of @m over @ns, each frame counted with its FCS
 * and @extra more bytes (0 for frame bits, LINE_OVERHEAD for the line). */
static double gbps(const struct meter *m, unsigned extra, uint64_t ns)
{
	double bits = 8.0 * ((double)m->bytes + (double)m->frames * (FCS_LEN + extra));

	return ns ? bits / (double)ns : 0.0;
}

/** meter_delta() - Return: @now minus @then. */
static struct meter meter_delta(const struct meter *now, const struct meter *then)
{
	struct meter d = { now->frames - then->frames, now->bytes - then->bytes };

	return d;
}

/* ------------------------------------------------------------------------ */
/* Shared: loop, timers, handle, summary                                    */
/* ------------------------------------------------------------------------ */

/** timer_new() - a disarmed loop timer calling @fn(@opaque).
 * Return: its handle, or NULL with a message printed. */
static void *timer_new(struct bench *c, netbe_timer_fn fn, void *opaque)
{
	void *t = NULL;

	if (c->loop->ops->timer_add(c->loop->loop, fn, opaque, &t)) {
		fprintf(stderr, "bench: cannot create a timer: %s\n", netbe_last_error());
		return NULL;
	}
	return t;
}

/** timer_arm() - fire @t after @delay_ns, then every @period_ns (0: once);
 * a zero delay is made 1 ns so it never disarms. Return: nothing. */
static void timer_arm(struct bench *c, void *t, uint64_t delay_ns, uint64_t period_ns)
{
	c->loop->ops->timer_mod(c->loop->loop, t, delay_ns ? delay_ns : 1, period_ns);
}

/** timer_free() - delete *@t if set and clear it. Return: nothing. */
static void timer_free(struct bench *c, void **t)
{
	if (*t)
		c->loop->ops->timer_del(c->loop->loop, *t);
	*t = NULL;
}

/** duration_ns() - Return: --duration in nanoseconds, 0 for no limit. */
static uint64_t duration_ns(const struct bench_opts *o)
{
	return (uint64_t)(o->duration * 1e9 + 0.5);
}

/** bench_open() - create the loop, open the spec, allocate one buffer of
 * @buf_len bytes per burst slot. Return: 0, or an exit code (1). */
static int bench_open(struct bench *c, const struct netbe_config *cfg, size_t buf_len)
{
	unsigned i;

	if (netbe_epoll_new(&c->ep))
		return 1;
	c->loop = netbe_epoll_loop(c->ep);
	if (netbe_open(&c->be, c->o->spec, cfg, c->loop))
		return 1;
	for (i = 0; i < c->o->burst; i++) {
		c->iov[i].iov_base = calloc(1, buf_len);
		if (!c->iov[i].iov_base) {
			fprintf(stderr, "bench: out of memory for %u buffers of %zu bytes - lower --burst or --size\n",
				c->o->burst, buf_len);
			return 1;
		}
		c->iov[i].iov_len = buf_len;
		c->frames[i].iov = &c->iov[i];
		c->frames[i].iovcnt = 1;
	}
	return 0;
}

/** bench_close() - close the handle, the loop and the buffers; safe after
 * a partial bench_open(). Return: nothing. */
static void bench_close(struct bench *c)
{
	unsigned i;

	signal_loop = NULL;
	if (c->loop) {
		timer_free(c, &c->progress_timer);
		timer_free(c, &c->stop_timer);
	}
	netbe_close(c->be);
	netbe_epoll_free(c->ep);
	for (i = 0; i < BURST_MAX; i++)
		free(c->iov[i].iov_base);
}

/** install_signals() - SIGINT/SIGTERM stop the loop; SIGPIPE is ignored.
 * Return: nothing. */
static void install_signals(struct bench *c)
{
	struct sigaction sa = { .sa_handler = on_signal };

	bench_signalled = 0;
	signal_loop = c->ep;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/** arm_stop() - (re)arm the stop after --duration from now, if there is
 * a limit. Return: 0, or 1 when the timer cannot be created. */
static int arm_stop(struct bench *c, netbe_timer_fn stop, void *opaque)
{
	uint64_t d = duration_ns(c->o);

	if (!d)
		return 0;
	if (!c->stop_timer)
		c->stop_timer = timer_new(c, stop, opaque);
	if (!c->stop_timer)
		return 1;
	timer_arm(c, c->stop_timer, d, 0);
	return 0;
}

/** start_timers() - arm the progress line every second and the stop after
 * --duration. Return: 0, or 1 when a timer cannot be created. */
static int start_timers(struct bench *c, netbe_timer_fn progress, netbe_timer_fn stop,
			void *opaque)
{
	if (!c->progress_timer)
		c->progress_timer = timer_new(c, progress, opaque);
	if (!c->progress_timer)
		return 1;
	timer_arm(c, c->progress_timer, NS_PER_SEC, NS_PER_SEC);
	c->t_shown = now_ns();
	c->shown = c->total;
	return arm_stop(c, stop, opaque);
}

/** progress_delta() - the traffic since the last progress line, and its
 * duration in *@ns; moves the mark. Return: the delta. */
static struct meter progress_delta(struct bench *c, uint64_t *ns)
{
	uint64_t now = now_ns();
	struct meter d = meter_delta(&c->total, &c->shown);

	*ns = now - c->t_shown;
	c->t_shown = now;
	c->shown = c->total;
	return d;
}

/** print_drops() - ", dropped N" and the nonzero reasons of @st in
 * parentheses. Return: nothing. */
static void print_drops(const struct netbe_stats *st)
{
	uint64_t sum = 0;
	unsigned i;
	bool first = true;

	for (i = 0; i < NETBE_DROP__MAX; i++)
		sum += st->drops[i];
	printf(", dropped %llu", (unsigned long long)sum);
	for (i = 0; i < NETBE_DROP__MAX; i++) {
		if (!st->drops[i])
			continue;
		printf("%s%s %llu", first ? " (" : ", ",
		       netbe_drop_reason_name((enum netbe_drop_reason)i),
		       (unsigned long long)st->drops[i]);
		first = false;
	}
	printf("%s\n", first ? "" : ")");
}

/** print_rates() - "in T s, X Mpps, Y Gbit/s (...)" for @m over @ns.
 * Return: nothing. */
static void print_rates(const struct meter *m, uint64_t ns)
{
	printf(" in %.3f s, %.3f Mpps, %.3f Gbit/s (frame bits incl. FCS; %.3f on the line)",
	       (double)ns / 1e9, mpps(m->frames, ns), gbps(m, 0, ns),
	       gbps(m, LINE_OVERHEAD, ns));
}

/* ------------------------------------------------------------------------ */
/* tx                                                                       */
/* ------------------------------------------------------------------------ */

/** tx_frame_len() - Return: the frame length handed to the backend. */
static size_t tx_frame_len(const struct bench_tx *t)
{
	return t->c.o->size - FCS_LEN;
}

/** tx_prepare() - write the constant part of every burst slot. Return: nothing. */
static void tx_prepare(struct bench_tx *t)
{
	static const uint8_t macs[12] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* broadcast */
		0x02, 0x6e, 0x62, 0x00, 0x00, 0x01,     /* locally administered */
	};
	unsigned i;

	t->stream = (uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16));
	for (i = 0; i < t->c.o->burst; i++) {
		uint8_t *f = t->c.iov[i].iov_base;

		memcpy(f, macs, sizeof(macs));
		put_be16(f + OFF_ETHERTYPE, BENCH_ETHERTYPE);
		put_be32(f + OFF_MAGIC, BENCH_MAGIC);
		put_be32(f + OFF_STREAM, t->stream);
		t->c.iov[i].iov_len = tx_frame_len(t);
	}
}

/** tx_can_send() - Return: whether a round may send now. */
static bool tx_can_send(const struct bench_tx *t)
{
	return t->started && !t->c.stop && !bench_signalled && t->link_up &&
	       !t->blocked && !t->waiting_tokens;
}

/** tx_take_tokens() - refill the bucket and take what a round may send;
 * when too little accrued, arm the token timer instead.
 * Return: frames this round may send, 0 when waiting. */
static unsigned tx_take_tokens(struct bench_tx *t)
{
	uint64_t now = now_ns();
	unsigned n;

	t->tokens += (double)(now - t->t_refill) * (double)t->c.o->rate / 1e9;
	t->t_refill = now;
	if (t->tokens > t->depth)
		t->tokens = t->depth;
	if (t->tokens < t->target) {
		double wait = (t->target - t->tokens) * 1e9 / (double)t->c.o->rate;

		t->waiting_tokens = true;
		timer_arm(&t->c, t->token_timer, (uint64_t)wait + 1, 0);
		return 0;
	}
	n = t->tokens < t->c.o->burst ? (unsigned)t->tokens : t->c.o->burst;
	t->tokens -= n;
	return n;
}

/** tx_fill() - number a new burst. Return: frames filled, 0 when the rate
 * limit says wait. */
static unsigned tx_fill(struct bench_tx *t)
{
	unsigned n = t->c.o->burst, i;

	if (t->c.o->rate)
		n = tx_take_tokens(t);
	for (i = 0; i < n; i++)
		put_be64((uint8_t *)t->c.iov[i].iov_base + OFF_SEQ, t->next_seq++);
	t->pend_off = 0;
	t->pend_n = n;
	return n;
}

/** tx_fail() - stop with exit code 1 after a hard failure. Return: nothing. */
static void tx_fail(struct bench_tx *t, int err)
{
	fprintf(stderr, "bench tx: %s: send failed: %s (%s)\n", t->c.o->spec,
		strerror(-err), netbe_last_error());
	t->c.exit_code = 1;
	t->c.stop = true;
}

/** tx_flush() - send the pending frames of the burst. Return: true when the
 * backend took some, false when it refused (wait for tx_cb) or failed. */
static bool tx_flush(struct bench_tx *t)
{
	struct netbe_frame *f = t->c.frames + t->pend_off;
	int ret = netbe_send_burst(t->c.be, f, t->pend_n);
	int i;

	if (ret == -EAGAIN || ret == 0) {
		t->eagain++;
		t->blocked = true;
		return false;
	}
	if (ret < 0) {
		tx_fail(t, ret);
		return false;
	}
	for (i = 0; i < ret; i++) {
		if (f[i].result < 0)
			continue;   /* dropped: the handle's counters say why */
		t->c.total.frames++;
		t->c.total.bytes += tx_frame_len(t);
	}
	t->pend_off += (unsigned)ret;
	t->pend_n -= (unsigned)ret;
	return true;
}

/** tx_round() - send up to BURSTS_PER_ROUND bursts. Return: nothing. */
static void tx_round(struct bench_tx *t)
{
	unsigned i;

	for (i = 0; i < BURSTS_PER_ROUND && tx_can_send(t); i++) {
		if (!t->pend_n && !tx_fill(t))
			return;
		if (!tx_flush(t))
			return;
	}
}

/** tx_on_progress() - the progress timer: one line for the last second.
 * Return: nothing. */
static void tx_on_progress(void *opaque)
{
	struct bench_tx *t = opaque;
	uint64_t ns;
	struct meter d = progress_delta(&t->c, &ns);

	printf("tx %.3f Mpps %.3f Gbit/s, eagain %llu\n", mpps(d.frames, ns),
	       gbps(&d, 0, ns), (unsigned long long)(t->eagain - t->eagain_shown));
	fflush(stdout);
	t->eagain_shown = t->eagain;
}

/** tx_on_stop() - the duration timer: end the run, or fail when the link
 * never came up. Return: nothing. */
static void tx_on_stop(void *opaque)
{
	struct bench_tx *t = opaque;

	if (!t->started) {
		fprintf(stderr, "bench tx: %s: the link did not come up within %g s - is the peer there?\n",
			t->c.o->spec, t->c.o->duration);
		t->c.exit_code = 1;
	}
	t->c.stop = true;
}

/** tx_on_tokens() - the token timer: enough frames accrued to send a
 * round. Return: nothing. */
static void tx_on_tokens(void *opaque)
{
	struct bench_tx *t = opaque;

	t->waiting_tokens = false;
}

/** tx_on_writable() - the tx callback: a send refused with -EAGAIN may
 * now succeed. Return: nothing. */
static void tx_on_writable(struct netbe *be, void *opaque)
{
	struct bench_tx *t = opaque;

	(void)be;
	t->blocked = false;
}

/** tx_start() - begin sending: clock, bucket and timers. Return: nothing. */
static void tx_start(struct bench_tx *t)
{
	const struct bench_opts *o = t->c.o;

	t->started = true;
	t->t_begin = t->t_refill = now_ns();
	if (o->rate) {
		t->target = (unsigned)(o->rate / 1000);
		if (t->target > o->burst / 2)
			t->target = o->burst / 2;
		if (t->target < 1)
			t->target = 1;
		t->tokens = t->target;
		t->depth = (double)o->rate * BUCKET_MS / 1000;
		if (t->depth < o->burst)
			t->depth = o->burst;
		prctl(PR_SET_TIMERSLACK, 1000UL);   /* 1 us instead of 50 */
	}
	if (start_timers(&t->c, tx_on_progress, tx_on_stop, t)) {
		t->c.exit_code = 1;
		t->c.stop = true;
	}
}

/** tx_on_link() - the link callback: start on the first link up, pause
 * while down. Return: nothing. */
static void tx_on_link(struct netbe *be, int up, void *opaque)
{
	struct bench_tx *t = opaque;

	(void)be;
	t->link_up = up;
	if (!t->ready)
		return;   /* still in netbe_open() */
	printf("bench tx: link %s%s\n", up ? "up" : "down",
	       t->started ? (up ? ", resuming" : ", pausing") : "");
	fflush(stdout);
	if (up && !t->started && !t->c.stop)
		tx_start(t);
}

/** tx_linger() - let the backend push out what it holds: run the loop
 * until it is idle for IDLE_MS, LINGER_ROUNDS times at most. Return: nothing. */
static void tx_linger(struct bench_tx *t)
{
	unsigned i;

	timer_free(&t->c, &t->c.progress_timer);
	for (i = 0; i < LINGER_ROUNDS && !bench_signalled; i++)
		if (netbe_epoll_dispatch(t->c.ep, IDLE_MS) <= 0)
			break;
}

/** tx_loop() - drive the loop until the duration, a signal or a failure.
 * Return: nothing (the exit code is in t->c). */
static void tx_loop(struct bench_tx *t)
{
	while (!t->c.stop && !bench_signalled) {
		int r = netbe_epoll_dispatch(t->c.ep, tx_can_send(t) ? 0 : -1);

		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "bench tx: loop failed: %s\n", netbe_last_error());
			t->c.exit_code = 1;
			return;
		}
		if (tx_can_send(t))
			tx_round(t);
	}
}

/** tx_summary() - the generator's last line. Return: nothing. */
static void tx_summary(struct bench_tx *t)
{
	struct netbe_stats st = { 0 };
	uint64_t ns = t->started ? t->t_end - t->t_begin : 0;

	netbe_get_stats(t->c.be, &st);
	printf("tx summary: sent %llu frames (%llu bytes)",
	       (unsigned long long)t->c.total.frames, (unsigned long long)t->c.total.bytes);
	print_rates(&t->c.total, ns);
	printf(", eagain %llu", (unsigned long long)t->eagain);
	print_drops(&st);
	fflush(stdout);
}

/** tx_announce() - the first line: what is going to be sent. Return: nothing. */
static void tx_announce(struct bench_tx *t)
{
	const struct bench_opts *o = t->c.o;
	char rate[32] = "unlimited";

	if (o->rate)
		snprintf(rate, sizeof(rate), "%llu frames/s", (unsigned long long)o->rate);
	printf("bench tx: %s: %u-byte frames (%zu + FCS), burst %u, rate %s, %g s%s\n",
	       o->spec, o->size, tx_frame_len(t), o->burst, rate, o->duration,
	       netbe_link_is_up(t->c.be) == 1 ? "" : ", waiting for the link");
	fflush(stdout);
}

/** bench_tx() - the generator. Return: the exit code. */
static int bench_tx(const struct bench_opts *o)
{
	static struct bench_tx t;
	struct netbe_config cfg = { .tx_cb = tx_on_writable, .link_cb = tx_on_link,
				    .opaque = &t };
	int ret;

	memset(&t, 0, sizeof(t));
	t.c.o = o;
	ret = bench_open(&t.c, &cfg, o->size - FCS_LEN);
	if (!ret) {
		t.token_timer = timer_new(&t.c, tx_on_tokens, &t);
		ret = t.token_timer ? 0 : 1;
	}
	if (!ret) {
		install_signals(&t.c);
		tx_prepare(&t);
		tx_announce(&t);
		t.link_up = netbe_link_is_up(t.c.be) == 1;
		t.ready = true;
		if (t.link_up)
			tx_start(&t);
		else if (arm_stop(&t.c, tx_on_stop, &t))
			t.c.stop = true;
		tx_loop(&t);
		t.t_end = now_ns();
		tx_linger(&t);
		tx_summary(&t);
		ret = t.c.exit_code;
	}
	if (t.c.loop)
		timer_free(&t.c, &t.token_timer);
	bench_close(&t.c);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* rx                                                                       */
/* ------------------------------------------------------------------------ */

/** seen_set() - mark @seq seen. Return: whether it was marked already. */
static bool seen_set(struct seq_track *s, uint64_t seq)
{
	uint64_t *w = &s->seen[(seq / 64) % (SEQ_WINDOW / 64)];
	uint64_t bit = 1ULL << (seq % 64);
	bool was = *w & bit;

	*w |= bit;
	return was;
}

/** seen_clear() - forget @seq in the window. Return: nothing. */
static void seen_clear(struct seq_track *s, uint64_t seq)
{
	s->seen[(seq / 64) % (SEQ_WINDOW / 64)] &= ~(1ULL << (seq % 64));
}

/** seq_ahead() - @seq >= the next expected number: count the gap as lost
 * and slide the window. Return: nothing. */
static void seq_ahead(struct seq_track *s, uint64_t seq)
{
	uint64_t n;

	if (seq - s->next >= SEQ_WINDOW)
		memset(s->seen, 0, sizeof(s->seen));
	else
		for (n = s->next; n <= seq; n++)
			seen_clear(s, n);   /* stale marks of numbers a window ago */
	seen_set(s, seq);
	s->lost += seq - s->next;
	s->next = seq + 1;
}

/** seq_behind() - @seq < the next expected number: a duplicate, or a late
 * frame that the gap counted as lost. Return: nothing. */
static void seq_behind(struct seq_track *s, uint64_t seq)
{
	if (s->next - seq <= SEQ_WINDOW && seen_set(s, seq)) {
		s->duplicate++;
		return;
	}
	s->reordered++;   /* beyond the window it could be either: say late */
	if (s->lost)
		s->lost--;
}

/** seq_track() - account bench frame @seq of generator @stream.
 * Return: nothing. */
static void seq_track(struct seq_track *s, uint32_t stream, uint64_t seq)
{
	if (!s->streams || stream != s->stream) {
		s->stream = stream;
		s->streams++;
		s->next = 0;
		memset(s->seen, 0, sizeof(s->seen));
	}
	if (seq >= s->next)
		seq_ahead(s, seq);
	else
		seq_behind(s, seq);
}

/** rx_account() - count a received frame of @len bytes at @f. Return: nothing. */
static void rx_account(struct bench_rx *r, const uint8_t *f, size_t len)
{
	r->c.total.frames++;
	r->c.total.bytes += len;
	if (len < BENCH_HDR_LEN || f[OFF_ETHERTYPE] != BENCH_ETHERTYPE >> 8 ||
	    f[OFF_ETHERTYPE + 1] != (BENCH_ETHERTYPE & 0xff) ||
	    get_be32(f + OFF_MAGIC) != BENCH_MAGIC) {
		r->other_frames++;
		return;
	}
	r->bench_frames++;
	seq_track(&r->seq, get_be32(f + OFF_STREAM), get_be64(f + OFF_SEQ));
}

/** rx_stop() - stop receiving and end the loop. Return: nothing. */
static void rx_stop(struct bench_rx *r)
{
	r->c.stop = true;
	netbe_rx_disable(r->c.be);
	netbe_epoll_stop(r->c.ep);
}

/** rx_want() - Return: frames the next burst may take (--count aware). */
static unsigned rx_want(const struct bench_rx *r)
{
	uint64_t left = r->c.o->count - r->c.total.frames;

	if (r->c.o->count && left < r->c.o->burst)
		return (unsigned)left;
	return r->c.o->burst;
}

/** rx_burst() - receive and count one burst. Return: frames received, or
 * -errno after stopping with exit code 1. */
static int rx_burst(struct bench_rx *r, unsigned want)
{
	int n = netbe_recv_burst(r->c.be, r->c.frames, want), i;

	if (n < 0) {
		fprintf(stderr, "bench rx: %s: receive failed: %s (%s)\n", r->c.o->spec,
			strerror(-n), netbe_last_error());
		r->c.exit_code = 1;
		rx_stop(r);
		return n;
	}
	if (n > 0) {
		r->t_last = now_ns();
		if (!r->t_first)
			r->t_first = r->t_last;
	}
	for (i = 0; i < n; i++)
		rx_account(r, r->c.iov[i].iov_base, (size_t)r->c.frames[i].result);
	return n;
}

/** rx_on_frames() - the rx callback: drain up to BURSTS_PER_ROUND bursts,
 * stopping at --count. Return: nothing. */
static void rx_on_frames(struct netbe *be, void *opaque)
{
	struct bench_rx *r = opaque;
	unsigned round, want;
	int n;

	(void)be;
	for (round = 0; round < BURSTS_PER_ROUND && !r->c.stop; round++) {
		want = rx_want(r);
		if (!want) {
			rx_stop(r);
			return;
		}
		n = rx_burst(r, want);
		if (n >= 0 && r->c.o->count && r->c.total.frames >= r->c.o->count)
			rx_stop(r);
		if (n < (int)want)
			return;
	}
}

/** rx_on_progress() - the progress timer: one line for the last second.
 * Return: nothing. */
static void rx_on_progress(void *opaque)
{
	struct bench_rx *r = opaque;
	uint64_t ns;
	struct meter d = progress_delta(&r->c, &ns);

	printf("rx %.3f Mpps %.3f Gbit/s, lost %llu\n", mpps(d.frames, ns),
	       gbps(&d, 0, ns), (unsigned long long)r->seq.lost);
	fflush(stdout);
}

/** rx_on_stop() - the duration timer: end the run. Return: nothing. */
static void rx_on_stop(void *opaque)
{
	rx_stop(opaque);
}

/** rx_summary() - the sink's last line. Return: nothing. */
static void rx_summary(struct bench_rx *r)
{
	struct netbe_stats st = { 0 };
	uint64_t ns = r->t_last - r->t_first;

	netbe_get_stats(r->c.be, &st);
	printf("rx summary: received %llu frames (%llu bytes; bench %llu, other %llu)",
	       (unsigned long long)r->c.total.frames, (unsigned long long)r->c.total.bytes,
	       (unsigned long long)r->bench_frames, (unsigned long long)r->other_frames);
	print_rates(&r->c.total, ns);
	printf(", lost %llu, reordered %llu, duplicate %llu",
	       (unsigned long long)r->seq.lost, (unsigned long long)r->seq.reordered,
	       (unsigned long long)r->seq.duplicate);
	if (r->seq.streams > 1)
		printf(", generators %u", r->seq.streams);
	print_drops(&st);
	fflush(stdout);
}

/** bench_rx() - the sink. Return: the exit code. */
static int bench_rx(const struct bench_opts *o)
{
	static struct bench_rx r;
	struct netbe_config cfg = { .rx_cb = rx_on_frames, .opaque = &r };
	int ret;

	memset(&r, 0, sizeof(r));
	r.c.o = o;
	ret = bench_open(&r.c, &cfg, RX_BUF);
	if (!ret)
		ret = start_timers(&r.c, rx_on_progress, rx_on_stop, &r);
	if (!ret) {
		install_signals(&r.c);
		printf("bench rx: %s: ready\n", o->spec);
		fflush(stdout);
		netbe_rx_enable(r.c.be);
		if (netbe_epoll_run(r.c.ep) < 0) {
			fprintf(stderr, "bench rx: loop failed: %s\n", netbe_last_error());
			r.c.exit_code = 1;
		}
		rx_summary(&r);
		ret = r.c.exit_code;
	}
	bench_close(&r.c);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

/** print_usage() - the usage text to @out. Return: nothing. */
static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: netbe bench tx SPEC [--size BYTES] [--rate FPS] [--duration SECONDS] [--burst N]\n"
		"       netbe bench rx SPEC [--duration SECONDS] [--count N] [--burst N]\n"
		"  tx sends numbered frames (ethertype 0x88b5) as fast as possible or at\n"
		"  --rate frames/s; --size is the Ethernet frame size with FCS (64 to %u,\n"
		"  default 64: 60-byte frames); --burst frames per call (1 to %u, default %u).\n"
		"  rx counts frames and checks the numbers for lost, reordered and duplicate\n"
		"  frames; start it before tx. --duration defaults to 10 s (0: until\n"
		"  SIGINT/SIGTERM); rx also stops after --count frames.\n"
		"  Gbit/s counts frame bits with FCS; summaries also give the line rate\n"
		"  (plus 20 bytes of preamble and gap per frame).\n",
		SIZE_MAX_FRAME, BURST_MAX, BURST_DEFAULT);
}

/** usage() - the usage text to stderr. Return: 2, the usage exit code. */
static int usage(void)
{
	print_usage(stderr);
	return 2;
}

/** parse_u64() - @s as a whole number from @min to @max.
 * Return: true and *@v set, or false. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return false;
	*v = x;
	return true;
}

/** parse_seconds() - @s as seconds from 0 to a day. Return: true and *@v set. */
static bool parse_seconds(const char *s, double *v)
{
	char *end;
	double x;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtod(s, &end);
	if (errno || *end || !(x >= 0 && x <= 86400))
		return false;
	*v = x;
	return true;
}

/** bad_value() - report an option value out of range. Return: 2. */
static int bad_value(const char *opt, const char *want, const char *got)
{
	fprintf(stderr, "bench: --%s wants %s, got '%s'\n", opt, want, got);
	return 2;
}

/** parse_option() - apply option @c with @arg. Return: 0, 1 after --help
 * (usage printed to stdout), or 2. */
static int parse_option(struct bench_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 's':
		if (!o->tx || !parse_u64(arg, SIZE_MIN, SIZE_MAX_FRAME, &v))
			return o->tx ? bad_value("size", "bytes from 64 to 65539", arg) : usage();
		o->size = (unsigned)v;
		return 0;
	case 'r':
		if (!o->tx || !parse_u64(arg, 1, 1000000000, &o->rate))
			return o->tx ? bad_value("rate", "frames/s from 1 to 1000000000", arg) : usage();
		return 0;
	case 'c':
		if (o->tx || !parse_u64(arg, 1, UINT64_MAX, &o->count))
			return o->tx ? usage() : bad_value("count", "a number of frames >= 1", arg);
		return 0;
	case 'd':
		return parse_seconds(arg, &o->duration) ? 0 :
			bad_value("duration", "seconds from 0 (no limit) to 86400", arg);
	case 'b':
		if (!parse_u64(arg, 1, BURST_MAX, &v))
			return bad_value("burst", "frames per call from 1 to 256", arg);
		o->burst = (unsigned)v;
		return 0;
	case 'h':
		print_usage(stdout);
		return 1;
	default:
		return usage();
	}
}

/** parse_args() - "tx|rx SPEC [options]" (options anywhere after the mode).
 * Return: 0, 1 after --help, or 2 on a usage error. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "burst", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	if (argc < 2 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx")))
		return usage();
	*o = (struct bench_opts){ .tx = !strcmp(argv[1], "tx"), .size = SIZE_MIN,
				  .burst = BURST_DEFAULT, .duration = 10 };
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		ret = parse_option(o, c, optarg);
		if (ret)
			return ret;
	}
	if (argc - optind != 1)
		return usage();
	o->spec = argv[optind];
	return 0;
}

/** netbe_cmd_bench() - `netbe bench`. Return: the exit code (0, 1, 2). */
int netbe_cmd_bench(int argc, char **argv)
{
	struct bench_opts o;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "help"))) {
		print_usage(stdout);
		return 0;
	}
	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret == 1 ? 0 : ret;
	return o.tx ? bench_tx(&o) : bench_rx(&o);
}
