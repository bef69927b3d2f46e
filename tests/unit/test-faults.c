/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-faults.c - fault injection in core (faults.c), over the pair
 * backend with the built-in epoll loop.
 *
 * One end (A) sends numbered frames, the other (B) receives them; faults
 * are set on A's tx side or on B's rx side, from the spec keys or with
 * netbe_set_faults(). Checked: a seeded loss gives the same count every
 * run and matches the counted drops, 0 % and 100 % are exact, delayed
 * frames are not visible before the loop ran the timer and are after it,
 * reorder swaps neighbours, dup doubles, corrupt flips exactly one bit
 * past the Ethernet header, run-time changes, bad keys and values are
 * refused with messages, close with frames queued frees them (the ASan
 * run checks it), and a 64 KiB TSO super-frame with its virtio-net
 * header is delayed, duplicated and corrupted whole. No timing is
 * asserted: waits are bounded generously, delays are long enough that
 * "not yet" cannot be a race.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "netbe.h"
#include "offload-frames.h"

#define FRAME_LEN 200
#define MAX_FRAMES 2048
#define BIG_BUF (65535 + 18 + 20)
#define WAIT_MS 10000

static struct netbe_epoll *ep;
static unsigned link_no;

/* The two ends of one pair link. */
struct ends {
	struct netbe *a, *b;
};

/* Open "pair:fN" + @opt_a and "pair:fN" + @opt_b. Return: 0 or -errno. */
static int ends_open(struct ends *e, const char *opt_a, const char *opt_b)
{
	char spec[256];
	int ret;

	link_no++;
	snprintf(spec, sizeof(spec), "pair:f%u%s", link_no, opt_a);
	ret = netbe_open(&e->a, spec, NULL, netbe_epoll_loop(ep));
	if (ret)
		return ret;
	snprintf(spec, sizeof(spec), "pair:f%u%s", link_no, opt_b);
	ret = netbe_open(&e->b, spec, NULL, netbe_epoll_loop(ep));
	if (ret)
		netbe_close(e->a);
	return ret;
}

static void ends_close(struct ends *e)
{
	netbe_close(e->a);
	netbe_close(e->b);
}

/* Fill @f with frame @seq: broadcast, ethertype 0x88b5, @seq at byte 14,
 * a pattern after it. */
static void make_frame(uint8_t *f, uint32_t seq)
{
	size_t i;

	memset(f, 0xff, 6);
	memset(f + 6, 0x02, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, sizeof(seq));
	for (i = 18; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(i * 7 + seq);
}

/* Send frames @first..@first+@n-1 into @be. Return: how many were taken. */
static unsigned send_frames(struct netbe *be, uint32_t first, unsigned n)
{
	uint8_t buf[FRAME_LEN];
	unsigned i, ok = 0;

	for (i = 0; i < n; i++) {
		struct iovec iov = { buf, FRAME_LEN };

		make_frame(buf, first + i);
		ok += netbe_send(be, &iov, 1) == FRAME_LEN;
	}
	return ok;
}

/* Receive everything pending on @be into @seq (frame numbers, up to
 * MAX_FRAMES), after running the loop once. Return: frames received. */
static unsigned drain(struct netbe *be, uint32_t *seq, unsigned have)
{
	uint8_t buf[FRAME_LEN + 64];

	netbe_epoll_dispatch(ep, 0);
	while (have < MAX_FRAMES) {
		struct iovec iov = { buf, sizeof(buf) };

		if (netbe_recv(be, &iov, 1) <= 0)
			break;
		memcpy(&seq[have++], buf + 14, sizeof(uint32_t));
	}
	return have;
}

/* Drain @be until @want frames arrived or WAIT_MS passed, running the
 * loop (timers) in between. Return: frames received. */
static unsigned drain_until(struct netbe *be, uint32_t *seq, unsigned want)
{
	uint64_t end = harness_now_ms() + WAIT_MS;
	unsigned got = drain(be, seq, 0);

	while (got < want && harness_now_ms() < end) {
		netbe_epoll_dispatch(ep, 10);
		got = drain(be, seq, got);
	}
	return got;
}

static uint64_t drops(struct netbe *be, enum netbe_drop_reason r)
{
	struct netbe_stats st;

	return netbe_get_stats(be, &st) ? ~0ULL : st.drops[r];
}

static struct netbe_stats stats(struct netbe *be)
{
	struct netbe_stats st;

	memset(&st, 0, sizeof(st));
	netbe_get_stats(be, &st);
	return st;
}

/* Frames received through a pair with @opt on A's spec, of 1000 sent. */
static unsigned received_with(const char *opt, uint64_t *dropped)
{
	static uint32_t seq[MAX_FRAMES];
	struct ends e;
	unsigned got;

	if (ends_open(&e, opt, ",depth=2048")) {
		printf("# open: %s\n", netbe_last_error());
		return ~0u;
	}
	CHECK_EQ(send_frames(e.a, 0, 1000), 1000);
	*dropped = drops(e.a, NETBE_DROP_TX_FAULT_LOSS);
	got = drain_until(e.b, seq, 1000 - (unsigned)*dropped);
	got = drain(e.b, seq, got);
	ends_close(&e);
	return got;
}

static void test_loss_seeded(void)
{
	uint64_t d1, d2, d3;
	unsigned r1 = received_with(",tx_loss=30,fault_seed=42", &d1);
	unsigned r2 = received_with(",tx_loss=30,fault_seed=42", &d2);
	unsigned r3 = received_with(",tx_loss=30,fault_seed=43", &d3);

	printf("# tx_loss=30: seed 42 -> %u of 1000 received twice, seed 43 -> %u\n",
	       r1, r3);
	CHECK_EQ(r1, r2);
	CHECK_EQ(r1 + d1, 1000);
	CHECK_EQ(r2 + d2, 1000);
	CHECK_EQ(r3 + d3, 1000);
	CHECK(r1 > 600 && r1 < 800);
	CHECK(r3 > 600 && r3 < 800);
}

static void test_loss_exact(void)
{
	uint64_t d;

	CHECK_EQ(received_with(",tx_loss=0", &d), 1000);
	CHECK_EQ(d, 0);
	CHECK_EQ(received_with(",tx_loss=100", &d), 0);
	CHECK_EQ(d, 1000);
	CHECK_EQ(received_with(",tx_loss=0.5,fault_seed=1", &d) + d, 1000);
	CHECK(d < 30);
}

static void test_delay(void)
{
	static uint32_t seq[MAX_FRAMES];
	struct ends e;
	unsigned i, got;

	CHECK_EQ(ends_open(&e, ",tx_delay=1500,tx_jitter=0", ""), 0);
	CHECK_EQ(send_frames(e.a, 0, 10), 10);
	CHECK_EQ(drain(e.b, seq, 0), 0);
	CHECK_EQ(netbe_peek_recvlen(e.b), 0);
	CHECK_EQ(stats(e.a).tx_fault_delayed, 10);
	CHECK_EQ(stats(e.a).tx_frames, 0);
	got = drain_until(e.b, seq, 10);
	CHECK_EQ(got, 10);
	for (i = 0; i < got; i++)
		CHECK_EQ(seq[i], i);
	CHECK_EQ(stats(e.a).tx_frames, 10);
	ends_close(&e);
}

static void test_jitter(void)
{
	static uint32_t seq[MAX_FRAMES];
	struct ends e;

	CHECK_EQ(ends_open(&e, ",tx_delay=20,tx_jitter=10,fault_seed=7", ""), 0);
	CHECK_EQ(send_frames(e.a, 0, 50), 50);
	CHECK_EQ(drain_until(e.b, seq, 50), 50);
	CHECK_EQ(stats(e.a).tx_fault_delayed, 50);
	ends_close(&e);
}

static void test_reorder(void)
{
	static const uint32_t want[] = { 1, 0, 3, 2, 5, 4 };
	static uint32_t seq[MAX_FRAMES];
	struct ends e;
	unsigned i;

	CHECK_EQ(ends_open(&e, ",tx_reorder=100", ""), 0);
	CHECK_EQ(send_frames(e.a, 0, 6), 6);
	CHECK_EQ(drain_until(e.b, seq, 6), 6);
	for (i = 0; i < 6; i++)
		CHECK_EQ(seq[i], want[i]);
	CHECK_EQ(stats(e.a).tx_fault_reordered, 3);
	ends_close(&e);
}

static void test_dup(void)
{
	static uint32_t seq[MAX_FRAMES];
	struct ends e;
	unsigned i;

	CHECK_EQ(ends_open(&e, ",tx_dup=100", ""), 0);
	CHECK_EQ(send_frames(e.a, 0, 10), 10);
	CHECK_EQ(drain_until(e.b, seq, 20), 20);
	for (i = 0; i < 20; i++)
		CHECK_EQ(seq[i], i / 2);
	CHECK_EQ(stats(e.a).tx_fault_duplicated, 10);
	CHECK_EQ(stats(e.a).tx_frames, 20);
	ends_close(&e);
}

/* Bits that differ between @a and @b (@n bytes); *@first gets the first
 * differing byte. */
static unsigned bit_diff(const uint8_t *a, const uint8_t *b, size_t n,
			 size_t *first)
{
	unsigned bits = 0;
	size_t i;

	*first = n;
	for (i = 0; i < n; i++) {
		if (a[i] != b[i] && *first == n)
			*first = i;
		bits += (unsigned)__builtin_popcount(a[i] ^ b[i]);
	}
	return bits;
}

/* Receive @n frames of FRAME_LEN on @rx and check each differs from what
 * was sent in exactly one bit at byte 14 or later. */
static void check_corrupted(struct netbe *rx, unsigned n)
{
	uint64_t end = harness_now_ms() + WAIT_MS;
	uint8_t buf[FRAME_LEN + 64], sent[FRAME_LEN];
	unsigned got = 0;

	while (got < n && harness_now_ms() < end) {
		struct iovec iov = { buf, sizeof(buf) };
		size_t first;
		ssize_t len;

		netbe_epoll_dispatch(ep, 1);
		len = netbe_recv(rx, &iov, 1);
		if (len <= 0)
			continue;
		CHECK_EQ(len, FRAME_LEN);
		make_frame(sent, got);
		CHECK_EQ(bit_diff(sent, buf, FRAME_LEN, &first), 1);
		CHECK(first >= 14);
		got++;
	}
	CHECK_EQ(got, n);
}

static void test_corrupt(void)
{
	struct ends e;

	CHECK_EQ(ends_open(&e, ",tx_corrupt=100,fault_seed=3", ""), 0);
	CHECK_EQ(send_frames(e.a, 0, 30), 30);
	check_corrupted(e.b, 30);
	CHECK_EQ(stats(e.a).tx_fault_corrupted, 30);
	ends_close(&e);
}

static void test_rx_direction(void)
{
	static uint32_t seq[MAX_FRAMES];
	struct ends e;
	unsigned i;

	CHECK_EQ(ends_open(&e, "", ",rx_loss=100"), 0);
	CHECK_EQ(send_frames(e.a, 0, 20), 20);
	CHECK_EQ(drain(e.b, seq, 0), 0);
	CHECK_EQ(drops(e.b, NETBE_DROP_RX_FAULT_LOSS), 20);
	CHECK_EQ(stats(e.b).rx_frames, 0);
	ends_close(&e);

	CHECK_EQ(ends_open(&e, "", ",rx_delay=1500,rx_dup=100"), 0);
	CHECK_EQ(send_frames(e.a, 0, 5), 5);
	CHECK_EQ(drain(e.b, seq, 0), 0);
	CHECK_EQ(stats(e.b).rx_fault_delayed, 10);
	CHECK_EQ(drain_until(e.b, seq, 10), 10);
	for (i = 0; i < 10; i++)
		CHECK_EQ(seq[i], i / 2);
	CHECK_EQ(stats(e.b).rx_fault_duplicated, 5);
	CHECK_EQ(stats(e.b).rx_frames, 10);
	ends_close(&e);

	CHECK_EQ(ends_open(&e, "", ",rx_reorder=100"), 0);
	CHECK_EQ(send_frames(e.a, 0, 4), 4);
	CHECK_EQ(drain_until(e.b, seq, 4), 4);
	CHECK_EQ(seq[0], 1);
	CHECK_EQ(seq[1], 0);
	CHECK_EQ(seq[2], 3);
	CHECK_EQ(seq[3], 2);
	ends_close(&e);

	CHECK_EQ(ends_open(&e, "", ",rx_corrupt=100"), 0);
	CHECK_EQ(send_frames(e.a, 0, 10), 10);
	check_corrupted(e.b, 10);
	CHECK_EQ(stats(e.b).rx_fault_corrupted, 10);
	ends_close(&e);
}

static void test_runtime(void)
{
	static uint32_t seq[MAX_FRAMES];
	struct netbe_faults f = { .size = sizeof(f), .loss_ppm = NETBE_FAULT_PPM_MAX };
	struct netbe_faults g = { .size = sizeof(g) };
	struct ends e;

	CHECK_EQ(ends_open(&e, "", ""), 0);
	CHECK_EQ(netbe_get_faults(e.a, NETBE_DIR_TX, &g), 0);
	CHECK_EQ(g.loss_ppm, 0);
	CHECK_EQ(g.size, sizeof(g));
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), 0);
	CHECK_EQ(netbe_get_faults(e.a, NETBE_DIR_TX, &g), 0);
	CHECK_EQ(g.loss_ppm, NETBE_FAULT_PPM_MAX);
	f.seed = 1234;
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), 0);
	f.seed = 0;
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), 0);
	CHECK_EQ(netbe_get_faults(e.a, NETBE_DIR_TX, &g), 0);
	CHECK_EQ(g.seed, 1234);
	g.size = 8;
	g.delay_ms = 77;
	CHECK_EQ(netbe_get_faults(e.a, NETBE_DIR_TX, &g), 0);
	CHECK_EQ(g.size, 8);
	CHECK_EQ(g.delay_ms, 77);   /* beyond size: untouched */
	g.size = sizeof(g);
	CHECK_EQ(send_frames(e.a, 0, 10), 10);
	CHECK_EQ(drain(e.b, seq, 0), 0);
	CHECK_EQ(drops(e.a, NETBE_DROP_TX_FAULT_LOSS), 10);

	f = (struct netbe_faults){ .size = sizeof(f), .delay_ms = 1 };
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), 0);
	CHECK_EQ(send_frames(e.a, 10, 10), 10);
	f = (struct netbe_faults){ .size = sizeof(f) };
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), 0);
	CHECK_EQ(send_frames(e.a, 20, 10), 10);
	CHECK_EQ(drain_until(e.b, seq, 20), 20);
	CHECK_EQ(seq[0], 10);
	CHECK_EQ(seq[19], 29);

	f = (struct netbe_faults){ .size = sizeof(f), .dup_ppm = NETBE_FAULT_PPM_MAX };
	CHECK_EQ(netbe_set_faults(e.b, NETBE_DIR_RX, &f), 0);
	CHECK_EQ(send_frames(e.a, 0, 3), 3);
	CHECK_EQ(drain_until(e.b, seq, 6), 6);
	ends_close(&e);
}

/* Opening "pair:x" + @opt fails with -EINVAL and a message holding @msg. */
static void check_bad_spec(const char *opt, const char *msg)
{
	struct netbe *be = NULL;
	char spec[128];

	snprintf(spec, sizeof(spec), "pair:bad%s", opt);
	CHECK_EQ(netbe_open(&be, spec, NULL, netbe_epoll_loop(ep)), -EINVAL);
	CHECK(be == NULL);
	CHECK_STR_CONTAINS(netbe_last_error(), msg);
	netbe_close(be);
}

static void test_bad_values(void)
{
	struct netbe_faults f = { .size = sizeof(f) };
	struct ends e;

	check_bad_spec(",tx_loss=101", "tx_loss");
	check_bad_spec(",tx_loss=101", "0 to 100");
	check_bad_spec(",rx_dup=-1", "rx_dup");
	check_bad_spec(",tx_corrupt=abc", "0 to 100");
	check_bad_spec(",tx_reorder=1.", "0 to 100");
	check_bad_spec(",tx_loss=0.00001", "0 to 100");
	check_bad_spec(",rx_delay=60001", "0 to 60000");
	check_bad_spec(",tx_jitter=x", "tx_jitter");
	check_bad_spec(",fault_seed=abc", "fault_seed");
	check_bad_spec(",tx_lost=1", "unknown key 'tx_lost'");

	CHECK_EQ(ends_open(&e, "", ""), 0);
	CHECK_EQ(netbe_set_faults(NULL, NETBE_DIR_TX, &f), -EINVAL);
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, NULL), -EINVAL);
	CHECK_EQ(netbe_set_faults(e.a, (enum netbe_direction)2, &f), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "direction");
	f.size = 4;
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "size");
	f.size = sizeof(f) + 8;
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), -EINVAL);
	f = (struct netbe_faults){ .size = sizeof(f), .loss_ppm = NETBE_FAULT_PPM_MAX + 1 };
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &f), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "loss_ppm");
	f = (struct netbe_faults){ .size = sizeof(f), .jitter_ms = NETBE_FAULT_DELAY_MAX_MS + 1 };
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_RX, &f), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "jitter_ms");
	f = (struct netbe_faults){ .size = sizeof(f), .reserved = 1 };
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_RX, &f), -EINVAL);
	CHECK_EQ(netbe_get_faults(e.a, NETBE_DIR_TX, NULL), -EINVAL);
	f.size = 0;
	CHECK_EQ(netbe_get_faults(e.a, NETBE_DIR_TX, &f), -EINVAL);
	ends_close(&e);
}

static void test_close_queued(void)
{
	static uint32_t seq[MAX_FRAMES];
	struct ends e;

	CHECK_EQ(ends_open(&e, ",tx_delay=10000", ",tx_delay=10000"), 0);
	CHECK_EQ(send_frames(e.a, 0, 20), 20);
	CHECK_EQ(send_frames(e.b, 0, 20), 20);
	CHECK_EQ(drain(e.a, seq, 0), 0);   /* B's frames wait in B's tx queue */
	CHECK_EQ(drain(e.b, seq, 0), 0);
	CHECK_EQ(stats(e.a).tx_fault_delayed, 20);
	CHECK_EQ(stats(e.b).tx_fault_delayed, 20);
	ends_close(&e);

	/* frames held in an rx queue: A sends plainly, B delays them */
	CHECK_EQ(ends_open(&e, "", ",rx_delay=10000"), 0);
	CHECK_EQ(send_frames(e.a, 0, 20), 20);
	CHECK_EQ(drain(e.b, seq, 0), 0);
	CHECK_EQ(stats(e.b).rx_fault_delayed, 20);
	ends_close(&e);
}

static void test_queue_bound(void)
{
	struct ends e;
	uint64_t over;

	CHECK_EQ(ends_open(&e, ",tx_delay=10000", ",depth=4096"), 0);
	CHECK_EQ(send_frames(e.a, 0, NETBE_FAULT_QUEUE_FRAMES + 10),
		 NETBE_FAULT_QUEUE_FRAMES + 10);
	over = drops(e.a, NETBE_DROP_TX_FAULT_OVERFLOW);
	CHECK_EQ(over, 10);
	CHECK_EQ(stats(e.a).tx_fault_delayed, NETBE_FAULT_QUEUE_FRAMES);
	ends_close(&e);
}

/* Delayed frames released into a full backend (a pair end that holds 2)
 * wait for it to take them: none is dropped, the order holds. */
static void test_backend_full(void)
{
	static uint32_t seq[MAX_FRAMES];
	struct ends e;
	unsigned i, r;

	CHECK_EQ(ends_open(&e, ",tx_delay=20", ",depth=2"), 0);
	CHECK_EQ(send_frames(e.a, 0, 40), 40);
	CHECK_EQ(drain_until(e.b, seq, 40), 40);
	for (i = 0; i < 40; i++)
		CHECK_EQ(seq[i], i);
	CHECK(stats(e.a).tx_eagain > 0);
	for (r = 0; r < NETBE_DROP__MAX; r++)
		CHECK_EQ(drops(e.a, (enum netbe_drop_reason)r), 0);
	CHECK_EQ(stats(e.a).tx_frames, 40);
	ends_close(&e);
}

struct xthread {
	struct netbe *be;
	unsigned frames;
	int error;
	uint32_t next, received, out_of_order;
};

/* The sender thread: x->frames frames, retrying what is refused. */
static void *xthread_send(void *arg)
{
	struct xthread *x = arg;
	uint64_t end = harness_now_ms() + 4 * WAIT_MS;
	uint8_t buf[FRAME_LEN];
	unsigned i = 0;

	while (i < x->frames && harness_now_ms() < end) {
		struct iovec iov = { buf, FRAME_LEN };
		ssize_t ret;

		make_frame(buf, i);
		ret = netbe_send(x->be, &iov, 1);
		if (ret == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (ret < 0) {
			x->error = (int)ret;
			break;
		}
		if (++i % 16 == 0)
			usleep(500);   /* a pace the loop can mostly follow */
	}
	return NULL;
}

/* B's rx callback on the loop thread: count frames, check their order. */
static void xthread_rx(struct netbe *be, void *opaque)
{
	struct xthread *x = opaque;
	uint8_t buf[FRAME_LEN + 64];
	struct iovec iov = { buf, sizeof(buf) };
	uint32_t seq;

	while (netbe_recv(be, &iov, 1) > 0) {
		memcpy(&seq, buf + 14, sizeof(seq));
		x->out_of_order += seq < x->next;
		x->next = seq + 1;
		x->received++;
	}
}

/* A frontend thread sends through tx_delay/jitter into a small backend
 * queue while the loop thread receives: the timers armed through the
 * kick eventfd release everything; each frame arrives or is counted as
 * a queue overflow, in order. */
static void test_cross_thread(void)
{
	struct xthread x = { .frames = 3000 };
	struct netbe_config cfg = { .rx_cb = xthread_rx, .opaque = &x };
	uint64_t end, over = 0;
	struct netbe *b = NULL;
	char spec[64];
	pthread_t t;

	snprintf(spec, sizeof(spec), "pair:xt%u,tx_delay=3,tx_jitter=2", ++link_no);
	CHECK_EQ(netbe_open(&x.be, spec, NULL, netbe_epoll_loop(ep)), 0);
	snprintf(spec, sizeof(spec), "pair:xt%u,depth=32", link_no);
	CHECK_EQ(netbe_open(&b, spec, &cfg, netbe_epoll_loop(ep)), 0);
	if (!x.be || !b)
		goto out;
	netbe_rx_enable(b);
	CHECK_EQ(pthread_create(&t, NULL, xthread_send, &x), 0);
	end = harness_now_ms() + 4 * WAIT_MS;
	while (harness_now_ms() < end &&
	       x.received + (over = drops(x.be, NETBE_DROP_TX_FAULT_OVERFLOW)) < x.frames)
		netbe_epoll_dispatch(ep, 10);
	pthread_join(t, NULL);
	printf("# cross-thread: %u received, %llu overflowed of %u\n",
	       x.received, (unsigned long long)over, x.frames);
	CHECK_EQ(x.error, 0);
	CHECK_EQ(x.received + over, x.frames);
	CHECK(x.received >= NETBE_FAULT_QUEUE_FRAMES);
	CHECK_EQ(x.out_of_order, 0);
out:
	netbe_close(b);
	netbe_close(x.be);
}

/* A 64 KiB TSO super-frame with a 12-byte header, delayed, duplicated
 * and, with @corrupt, corrupted: both copies arrive whole, headers intact. */
static void check_super_frame(const char *opt, bool corrupt)
{
	static uint8_t out[12 + OL_TEST_MAX], in[BIG_BUF];
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 65535 - 40,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1448, .seed = 5 };
	uint64_t caps = NETBE_F_CSUM | NETBE_F_HOST_TSO4 | NETBE_F_GUEST_CSUM |
			NETBE_F_GUEST_TSO4;
	struct netbe_vnet_hdr h;
	struct ends e;
	size_t len, first;
	unsigned got = 0, bits = 0;
	uint64_t end;

	memset(out, 0, 12);
	len = 12 + fb_build(out + 12, &o, &h, NULL);
	fb_encode_vnet(out, &h);
	CHECK_EQ(ends_open(&e, opt, ""), 0);
	CHECK_EQ(netbe_set_cap(e.a, caps, 12), 0);
	CHECK_EQ(netbe_set_cap(e.b, caps, 12), 0);
	CHECK_EQ(netbe_send(e.a, &(struct iovec){ out, len }, 1), (ssize_t)len);
	end = harness_now_ms() + WAIT_MS;
	while (got < 2 && harness_now_ms() < end) {
		struct iovec iov = { in, sizeof(in) };
		ssize_t n;

		netbe_epoll_dispatch(ep, 10);
		n = netbe_recv(e.b, &iov, 1);
		if (n <= 0)
			continue;
		CHECK_EQ(n, len);
		CHECK(memcmp(in, out, 10) == 0);
		bits += bit_diff(out + 12, in + 12, len - 12, &first);
		if (corrupt)
			CHECK(first >= 14);
		got++;
	}
	CHECK_EQ(got, 2);
	CHECK_EQ(bits, corrupt ? 1 : 0);
	CHECK_EQ(stats(e.a).tx_fault_duplicated, 1);
	ends_close(&e);
}

static void test_super_frame(void)
{
	check_super_frame(",tx_delay=20,tx_dup=100", false);
	check_super_frame(",tx_dup=100,tx_corrupt=100", true);
}

/* Frames captured by @be so far. */
static uint64_t captured(struct netbe *be)
{
	struct netbe_capture_stats c;

	return netbe_get_capture_stats(be, &c) ? UINT64_MAX : c.frames;
}

/* A capture shows what the frontend sent (before the transmit faults) and
 * what it got (after the receive faults): lost frames are not in the file
 * on receive, duplicates are there twice. */
static void test_capture_sees_the_frontend(void)
{
	char path[] = "/tmp/netbe-test-faults-XXXXXX";
	uint32_t seq[MAX_FRAMES];
	struct ends e;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0 || ends_open(&e, ",tx_loss=100", ",rx_dup=100")) {
		CHECK(0);
		goto out;
	}
	CHECK_EQ(netbe_capture_start(e.a, path, NETBE_CAPTURE_SNAPLEN_MAX, NETBE_CAPTURE_PCAPNG), 0);
	CHECK_EQ(netbe_capture_start(e.b, path, NETBE_CAPTURE_SNAPLEN_MAX, NETBE_CAPTURE_PCAPNG), 0);
	CHECK_EQ(send_frames(e.a, 0, 10), 10);
	CHECK_EQ(captured(e.a), 10);        /* sent, then lost by the fault */
	CHECK_EQ(drain(e.b, seq, 0), 0);
	CHECK_EQ(captured(e.b), 0);
	CHECK_EQ(send_frames(e.b, 0, 3), 3);
	CHECK_EQ(netbe_set_faults(e.a, NETBE_DIR_TX, &(struct netbe_faults){ .size = sizeof(struct netbe_faults) }), 0);
	CHECK_EQ(send_frames(e.a, 100, 4), 4);
	CHECK_EQ(drain_until(e.b, seq, 8), 8);   /* each one twice */
	CHECK_EQ(captured(e.b), 3 + 8);          /* 3 sent, 8 received */
	ends_close(&e);
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

int main(void)
{
	if (netbe_epoll_new(&ep)) {
		printf("Bail out! no epoll loop\n");
		return 1;
	}
	RUN(test_loss_seeded);
	RUN(test_loss_exact);
	RUN(test_delay);
	RUN(test_jitter);
	RUN(test_reorder);
	RUN(test_dup);
	RUN(test_corrupt);
	RUN(test_rx_direction);
	RUN(test_runtime);
	RUN(test_bad_values);
	RUN(test_close_queued);
	RUN(test_queue_bound);
	RUN(test_backend_full);
	RUN(test_cross_thread);
	RUN(test_super_frame);
	RUN(test_capture_sees_the_frontend);
	netbe_epoll_free(ep);
	return harness_done();
}
