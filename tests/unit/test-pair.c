/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-pair.c - the pair backend with the two ends on two threads.
 *
 * A producer thread sends numbered frames into one end in bursts of 1 to
 * 8 while the loop thread drains the other end from its rx callback in
 * bursts of 64 buffers, stopping when a burst comes back short (as `netbe
 * patch` does). Every frame must arrive, in order. A frame left queued
 * with nobody told stalls both ends (the queue fills, the producer
 * waits), which the bounded wait turns into a failure.
 *
 * Two buffer sizes: full-size buffers are received in place, several per
 * call; buffers smaller than the largest frame a pair can carry go through
 * core's one-frame stash, one frame per call.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "netbe.h"

#define FRAME_LEN 60
#define RX_BURST 64
#define BIG_BUF (65535 + 18 + 20)
#define DEADLINE_MS 30000

struct consumer {
	uint32_t frames;               /* how many the producer sends */
	size_t buf_len;                /* each receive buffer's size */
	uint32_t next;                 /* sequence number expected next */
	uint32_t out_of_order;
	uint8_t buf[RX_BURST][BIG_BUF];
};

struct producer {
	struct netbe *be;
	uint32_t frames;
	uint32_t sent;
	int error;                     /* first hard send error, 0 if none */
	bool stop;                     /* atomic */
};

/* Fill @f with a broadcast frame of ethertype 0x88b5 carrying @seq. */
static void make_frame(uint8_t *f, uint32_t seq)
{
	memset(f, 0, FRAME_LEN);
	memset(f, 0xff, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, sizeof(seq));
}

/* The rx callback: receive bursts until one comes back short, checking
 * the order. */
static void on_rx(struct netbe *be, void *opaque)
{
	struct consumer *c = opaque;
	struct iovec iov[RX_BURST];
	struct netbe_frame f[RX_BURST];
	int n, i;

	do {
		for (i = 0; i < RX_BURST; i++) {
			iov[i] = (struct iovec){ c->buf[i], c->buf_len };
			f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
		}
		n = netbe_recv_burst(be, f, RX_BURST);
		for (i = 0; i < n; i++) {
			uint32_t seq;

			memcpy(&seq, c->buf[i] + 14, sizeof(seq));
			if (seq != c->next)
				c->out_of_order++;
			c->next = seq + 1;
		}
	} while (n == RX_BURST);
}

/* The producer thread: p->frames frames in bursts of 1 to 8, retrying
 * what the full queue refuses. Return: NULL. */
static void *produce(void *arg)
{
	struct producer *p = arg;
	uint8_t buf[8][FRAME_LEN];
	struct iovec iov[8];
	struct netbe_frame f[8];
	unsigned burst = 1;

	while (p->sent < p->frames && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		unsigned n = burst < p->frames - p->sent ? burst : p->frames - p->sent, i;
		int ret;

		for (i = 0; i < n; i++) {
			make_frame(buf[i], p->sent + i);
			iov[i] = (struct iovec){ buf[i], FRAME_LEN };
			f[i] = (struct netbe_frame){ .iov = &iov[i], .iovcnt = 1 };
		}
		ret = netbe_send_burst(p->be, f, n);
		if (ret == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (ret < 0) {
			p->error = ret;
			return NULL;
		}
		p->sent += (uint32_t)ret;
		burst = burst % 8 + 1;
	}
	return NULL;
}

/* Send @frames from a producer thread; the loop thread receives them into
 * buffers of @buf_len bytes. */
static void check_cross_thread(uint32_t frames, size_t buf_len)
{
	static struct consumer c;
	struct netbe_config tx_cfg = { 0 }, rx_cfg = { .rx_cb = on_rx, .opaque = &c };
	struct producer p = { .frames = frames };
	struct netbe_epoll *ep = NULL;
	struct netbe *rx = NULL;
	pthread_t thread;
	uint64_t deadline;

	c.frames = frames;
	c.buf_len = buf_len;
	c.next = c.out_of_order = 0;
	if (netbe_epoll_new(&ep) ||
	    netbe_open(&p.be, "pair:xthread", &tx_cfg, netbe_epoll_loop(ep)) ||
	    netbe_open(&rx, "pair:xthread", &rx_cfg, netbe_epoll_loop(ep))) {
		CHECK(0);
		goto out;
	}
	netbe_rx_enable(rx);
	if (pthread_create(&thread, NULL, produce, &p)) {
		CHECK(0);
		goto out;
	}
	deadline = harness_now_ms() + DEADLINE_MS;
	while (c.next < c.frames && harness_now_ms() < deadline)
		netbe_epoll_dispatch(ep, 10);
	__atomic_store_n(&p.stop, true, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	CHECK_EQ(p.error, 0);
	CHECK_EQ(p.sent, frames);
	CHECK_EQ(c.next, frames);
	CHECK_EQ(c.out_of_order, 0);
out:
	netbe_close(rx);
	netbe_close(p.be);
	netbe_epoll_free(ep);
}

/* Full-size buffers: frames are received in place, many per call. */
static void test_cross_thread_full_buffers(void)
{
	check_cross_thread(200000, BIG_BUF);
}

/* Buffers that fit these frames but not the largest a pair carries: each
 * frame goes through core's stash, one per call, and the frames left
 * queued must bring the callback back. */
static void test_cross_thread_small_buffers(void)
{
	check_cross_thread(20000, FRAME_LEN);
}

/* Small buffers still take a whole burst per netbe_recv_burst() call:
 * each frame goes through the stash, but one frame from the stash is not
 * the backend running dry (it was: one frame per call, 15x slower). */
static void test_small_buffers_whole_burst(void)
{
	static uint8_t tx[RX_BURST][FRAME_LEN], rx[RX_BURST][FRAME_LEN];
	struct iovec txv[RX_BURST], rxv[RX_BURST];
	struct netbe_frame tf[RX_BURST], rf[RX_BURST];
	struct netbe_config cfg = { 0 };
	struct netbe_epoll *ep = NULL;
	struct netbe *a = NULL, *b = NULL;
	unsigned i;

	for (i = 0; i < RX_BURST; i++) {
		make_frame(tx[i], i);
		txv[i] = (struct iovec){ tx[i], FRAME_LEN };
		rxv[i] = (struct iovec){ rx[i], FRAME_LEN };
		tf[i] = (struct netbe_frame){ &txv[i], 1, 0 };
		rf[i] = (struct netbe_frame){ &rxv[i], 1, 0 };
	}
	if (netbe_epoll_new(&ep) ||
	    netbe_open(&a, "pair:smallburst", &cfg, netbe_epoll_loop(ep)) ||
	    netbe_open(&b, "pair:smallburst", &cfg, netbe_epoll_loop(ep))) {
		CHECK(0);
		goto out;
	}
	CHECK_EQ(netbe_send_burst(a, tf, 32), 32);
	CHECK_EQ(netbe_recv_burst(b, rf, 32), 32);
	for (i = 0; i < 32; i++)
		CHECK_EQ(rf[i].result, FRAME_LEN);
	CHECK(!memcmp(rx[31], tx[31], FRAME_LEN));
	CHECK_EQ(netbe_send_burst(a, tf, 5), 5);
	CHECK_EQ(netbe_recv_burst(b, rf, 32), 5);      /* all there is */
	CHECK_EQ(netbe_recv_burst(b, rf, 32), 0);
out:
	netbe_close(a);
	netbe_close(b);
	netbe_epoll_free(ep);
}

int main(void)
{
	RUN(test_small_buffers_whole_burst);
	RUN(test_cross_thread_full_buffers);
	RUN(test_cross_thread_small_buffers);
	return harness_done();
}
