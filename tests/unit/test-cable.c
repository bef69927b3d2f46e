/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-cable.c - the data path of `netbe patch`, driven in-process.
 *
 * Theory of operation: each test opens a cable between one end of a
 * "pair:" backend and a sink (slirp, which answers ARP inline, or null,
 * which never answers), holds the other pair end itself as the "guest",
 * sends frames through it and dispatches the shared epoll loop until the
 * expected replies came back. The cable's per-direction flow counters
 * then tell how the source was read: one frame per burst toward a sink
 * that answers (each answer goes back before the next frame is read),
 * whole bursts toward one that does not.
 *
 * With two loops (patch --threads 2) the cable joins two pairs whose other
 * ends the test holds as guests A and B; each loop runs on its own thread
 * while the test thread sends numbered frames from each guest and
 * receives them at the other, in order, every one.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cable.h"
#include "guestproto.h"
#include "harness.h"
#include "netbe.h"

#define MAX_ROUNDS 300   /* dispatches of up to 10 ms each */
#define GW_IP 0x0a000202u
#define GUEST_IP 0x0a00020fu

static const uint8_t guest_mac[GP_ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t bcast[GP_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static unsigned pair_seq;

struct rig {
	struct netbe_epoll *ep;
	struct netbe *guest;      /* the test's pair end */
	struct cable *cable;      /* A: the other pair end, B: the sink */
	unsigned arp_replies;
};

/** rig_open() - a cable from a fresh pair to @sink_spec, the test holding
 * the pair's first end. Return: 0 or -errno. */
static int rig_open(struct rig *r, const char *sink_spec)
{
	struct netbe_config cfg = { 0 };
	char spec[48];
	int ret;

	memset(r, 0, sizeof(*r));
	snprintf(spec, sizeof(spec), "pair:cable-%d-%u", (int)getpid(), ++pair_seq);
	ret = netbe_epoll_new(&r->ep);
	if (!ret)
		ret = netbe_open(&r->guest, spec, &cfg, netbe_epoll_loop(r->ep));
	if (!ret)
		ret = cable_open(&r->cable, r->ep, NULL, spec, sink_spec);
	if (!ret)
		cable_start(r->cable);
	return ret;
}

/** rig_close() - close what rig_open() opened, also after it failed. */
static void rig_close(struct rig *r)
{
	cable_close(r->cable);
	netbe_close(r->guest);
	netbe_epoll_free(r->ep);
}

/** send_arp_requests() - the guest asks @n times who has the gateway. */
static void send_arp_requests(struct rig *r, unsigned n)
{
	struct gp_arp a = { .op = GP_ARP_REQUEST, .spa = GUEST_IP, .tpa = GW_IP };
	uint8_t f[64];
	ssize_t len;
	unsigned i;

	memcpy(a.sha, guest_mac, sizeof(a.sha));
	len = gp_build_arp(f, sizeof(f), bcast, &a);
	CHECK(len > 0);
	for (i = 0; i < n && len > 0; i++) {
		struct iovec iov = { f, (size_t)len };

		CHECK_EQ(netbe_send(r->guest, &iov, 1), len);
	}
}

/** drain_guest() - count the ARP replies waiting at the guest's end. */
static void drain_guest(struct rig *r)
{
	uint8_t buf[2048];
	struct iovec iov = { buf, sizeof(buf) };
	struct gp_frame f;
	ssize_t n;

	while ((n = netbe_recv(r->guest, &iov, 1)) > 0)
		if (gp_parse_frame(buf, (size_t)n, &f) == GP_KIND_ARP &&
		    f.arp.op == GP_ARP_REPLY && f.arp.spa == GW_IP)
			r->arp_replies++;
}

/** wait_replies() - dispatch until the guest holds @n ARP replies in all.
 * Return: true if it does. */
static bool wait_replies(struct rig *r, unsigned n)
{
	unsigned i;

	for (i = 0; i < MAX_ROUNDS && r->arp_replies < n; i++) {
		netbe_epoll_dispatch(r->ep, 10);
		drain_guest(r);
	}
	return r->arp_replies >= n;
}

/** wait_frames() - dispatch until the cable moved @n frames from A to B.
 * Return: true if it did. */
static bool wait_frames(struct rig *r, unsigned n)
{
	struct cable_flow fl = { 0 };
	unsigned i;

	for (i = 0; i < MAX_ROUNDS && fl.frames < n; i++) {
		netbe_epoll_dispatch(r->ep, 10);
		cable_get_flow(r->cable, true, &fl);
	}
	return fl.frames >= n;
}

/** check_bursts() - through a cable into @sink, one ARP request, then
 * three at once: all four cross in @want_bursts receive bursts and
 * @want_replies ARP replies come back. */
static void check_bursts(const char *sink, unsigned want_bursts,
			 unsigned want_replies)
{
	struct cable_flow fl;
	struct rig r;

	if (rig_open(&r, sink)) {
		CHECK(0);
		rig_close(&r);
		return;
	}
	send_arp_requests(&r, 1);
	CHECK(wait_frames(&r, 1));
	send_arp_requests(&r, 3);
	CHECK(wait_frames(&r, 4));
	CHECK(wait_replies(&r, want_replies));
	CHECK_EQ(r.arp_replies, want_replies);
	cable_get_flow(r.cable, true, &fl);
	CHECK_EQ(fl.frames, 4);
	CHECK_EQ(fl.bursts, want_bursts);
	CHECK(!cable_failed(r.cable));
	rig_close(&r);
}

/* slirp answers every ARP request inline. Once it has answered, the cable
 * takes the guest's frames one per burst even when three wait at once:
 * four requests, four bursts, four replies. */
static void test_answered_sink_one_frame_per_burst(void)
{
	check_bursts("slirp", 4, 4);
}

/* null never answers: frames waiting together go in one burst. */
static void test_silent_sink_takes_bursts(void)
{
	check_bursts("null", 2, 0);
}

#define THREADED_FRAMES 20000
#define THREADED_DEADLINE_MS 60000

/* One guest of the two-loop test: its pair end, what it sent, what it
 * received in order. */
struct guest {
	struct netbe *be;
	uint32_t sent, next, out_of_order;
};

/* Send guest @g's next frame (its number after a broadcast header).
 * Return: true when the pair took it. */
static bool guest_send(struct guest *g)
{
	uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	struct iovec iov = { f, sizeof(f) };

	memcpy(f + 14, &g->sent, sizeof(g->sent));
	if (netbe_send(g->be, &iov, 1) != (ssize_t)sizeof(f))
		return false;
	g->sent++;
	return true;
}

/* Receive what waits at guest @g, checking the numbers. */
static void guest_drain(struct guest *g)
{
	uint8_t f[2048];
	struct iovec iov = { f, sizeof(f) };
	uint32_t seq;

	while (netbe_recv(g->be, &iov, 1) >= 18) {
		memcpy(&seq, f + 14, sizeof(seq));
		g->out_of_order += seq != g->next;
		g->next = seq + 1;
	}
}

/* A loop thread of the two-loop test. Return: NULL. */
static void *run_loop(void *ep)
{
	netbe_epoll_run(ep);
	return NULL;
}

/* Open guest end @name on @ep (never run: the test polls). Return: 0 or
 * -errno. */
static int guest_open(struct guest *g, const char *name, struct netbe_epoll *ep)
{
	struct netbe_config cfg = { 0 };

	memset(g, 0, sizeof(*g));
	return netbe_open(&g->be, name, &cfg, netbe_epoll_loop(ep));
}

/* patch --threads 2 in-process: frames both ways between two guests, each
 * direction on its own loop thread; all arrive, in order, and the flow
 * counters say so. */
static void test_two_loops_both_ways(void)
{
	struct netbe_epoll *ep[3] = { NULL, NULL, NULL };
	struct guest a, b;
	struct cable *c = NULL;
	struct cable_flow ab, ba;
	pthread_t th[2];
	bool up[2] = { false, false };
	char sa[48], sb[48];
	uint64_t deadline;
	unsigned i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(sa, sizeof(sa), "pair:cable2-a-%d", (int)getpid());
	snprintf(sb, sizeof(sb), "pair:cable2-b-%d", (int)getpid());
	for (i = 0; i < 3; i++)
		if (netbe_epoll_new(&ep[i]))
			goto fail;
	if (guest_open(&a, sa, ep[2]) || guest_open(&b, sb, ep[2]) ||
	    cable_open(&c, ep[0], ep[1], sa, sb))
		goto fail;
	cable_start(c);
	for (i = 0; i < 2; i++)
		up[i] = !pthread_create(&th[i], NULL, run_loop, ep[i]);
	CHECK(up[0] && up[1]);
	deadline = harness_now_ms() + THREADED_DEADLINE_MS;
	while ((a.next < THREADED_FRAMES || b.next < THREADED_FRAMES) &&
	       harness_now_ms() < deadline) {
		bool moved = false;

		for (i = 0; i < 8; i++) {
			if (a.sent < THREADED_FRAMES)
				moved |= guest_send(&a);
			if (b.sent < THREADED_FRAMES)
				moved |= guest_send(&b);
		}
		guest_drain(&a);
		guest_drain(&b);
		if (!moved)
			sched_yield();
	}
	for (i = 0; i < 2; i++)
		netbe_epoll_stop(ep[i]);
	for (i = 0; i < 2; i++)
		if (up[i])
			pthread_join(th[i], NULL);
	cable_get_flow(c, true, &ab);
	cable_get_flow(c, false, &ba);
	CHECK_EQ(b.next, THREADED_FRAMES);
	CHECK_EQ(a.next, THREADED_FRAMES);
	CHECK_EQ(a.out_of_order + b.out_of_order, 0);
	CHECK_EQ(ab.frames, THREADED_FRAMES);
	CHECK_EQ(ba.frames, THREADED_FRAMES);
	CHECK(!cable_failed(c));
	goto out;
fail:
	CHECK(0);
out:
	cable_close(c);
	netbe_close(a.be);
	netbe_close(b.be);
	for (i = 0; i < 3; i++)
		netbe_epoll_free(ep[i]);
}

int main(void)
{
	if (CABLE_TEST_SLIRP)
		RUN(test_answered_sink_one_frame_per_burst);
	else
		SKIP(test_answered_sink_one_frame_per_burst, "slirp backend not built");
	RUN(test_silent_sink_takes_bursts);
	RUN(test_two_loops_both_ways);
	return harness_done();
}
