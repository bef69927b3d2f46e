/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-link-mac.c - two operator controls of core over the pair backend:
 * mac= (frames from another source MAC are dropped and counted as
 * tx_spoofed, the frontend's own pass) and netbe_set_link_admin() (the
 * link the frontend sees goes down and up, link_cb tells it, frames both
 * ways are dropped and counted while it is down, and flow again after).
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "harness.h"
#include "netbe.h"

static struct netbe_epoll *ep;

struct link_log {
	int calls, last;
};

/* link_cb: record the calls. */
static void on_link(struct netbe *be, int up, void *opaque)
{
	struct link_log *l = opaque;

	(void)be;
	l->calls++;
	l->last = up;
}

/* Open @spec on the test loop with link log @l (may be NULL).
 * Return: the handle, or NULL with the message printed. */
static struct netbe *open_on_loop(const char *spec, struct link_log *l)
{
	struct netbe_config cfg = { .link_cb = on_link, .opaque = l };
	struct netbe *be = NULL;

	if (!l)
		cfg.link_cb = NULL;
	if (netbe_open(&be, spec, &cfg, netbe_epoll_loop(ep))) {
		printf("# open %s: %s\n", spec, netbe_last_error());
		return NULL;
	}
	return be;
}

/* Send one 60-byte frame from source MAC 02:00:00:00:00:@last.
 * Return: netbe_send()'s result. */
static ssize_t send_from(struct netbe *be, uint8_t last)
{
	uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 0x88, 0xb5 };
	struct iovec iov = { f, sizeof(f) };

	f[11] = last;
	return netbe_send(be, &iov, 1);
}

/* Receive every frame pending on @be. Return: how many. */
static int drain(struct netbe *be)
{
	uint8_t buf[2048];
	struct iovec iov = { buf, sizeof(buf) };
	int n = 0;

	while (netbe_recv(be, &iov, 1) > 0)
		n++;
	return n;
}

/* Counter @reason of @be. */
static uint64_t drops(struct netbe *be, enum netbe_drop_reason reason)
{
	struct netbe_stats st;

	return netbe_get_stats(be, &st) ? UINT64_MAX : st.drops[reason];
}

static void mac_parser(void)
{
	uint8_t mac[6];

	CHECK_EQ(netbe_mac_parse("52:54:00:12:34:5f", mac), 0);
	CHECK(mac[0] == 0x52 && mac[5] == 0x5f);
	CHECK_EQ(netbe_mac_parse("52-54-00-AB-cd-EF", mac), 0);
	CHECK(mac[3] == 0xab && mac[5] == 0xef);
	CHECK_EQ(netbe_mac_parse("52:54:00:12:34", mac), -EINVAL);
	CHECK_EQ(netbe_mac_parse("52:54:00:12:34:56:78", mac), -EINVAL);
	CHECK_EQ(netbe_mac_parse("52:54:00:12:34:5", mac), -EINVAL);
	CHECK_EQ(netbe_mac_parse("525400123456", mac), -EINVAL);
	CHECK_EQ(netbe_mac_parse("52:54:00:12:34:5g", mac), -EINVAL);
	CHECK_EQ(netbe_mac_parse("", mac), -EINVAL);
}

static void mac_key_rejects_bad_values(void)
{
	struct netbe *be = NULL;
	struct netbe_config cfg = { 0 };

	CHECK_EQ(netbe_open(&be, "pair:m0,mac=52:54:00:12:34", &cfg, netbe_epoll_loop(ep)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "bad value '52:54:00:12:34' for key 'mac'");
	CHECK_EQ(netbe_open(&be, "pair:m0,mac=01:00:5e:00:00:01", &cfg, netbe_epoll_loop(ep)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "multicast");
	CHECK(be == NULL);
}

static void spoofed_frames_dropped_and_counted(void)
{
	struct netbe *a = open_on_loop("pair:m1,mac=02:00:00:00:00:0a", NULL);
	struct netbe *b = open_on_loop("pair:m1", NULL);

	CHECK(a && b);
	if (!a || !b)
		goto out;
	CHECK_EQ(send_from(a, 0x0a), 60);
	CHECK_EQ(send_from(a, 0x0b), 60);   /* consumed: dropped, counted */
	CHECK_EQ(send_from(a, 0x0a), 60);
	CHECK_EQ(drain(b), 2);
	CHECK_EQ(drops(a, NETBE_DROP_TX_SPOOFED), 1);
	CHECK_EQ(send_from(b, 0x0b), 60);   /* no mac= on b: any source */
	CHECK_EQ(drain(a), 1);
	CHECK_STR_CONTAINS(netbe_drop_reason_name(NETBE_DROP_TX_SPOOFED), "tx_spoofed");
out:
	netbe_close(a);
	netbe_close(b);
}

static void link_admin_down_and_up(void)
{
	struct link_log la = { 0 }, lb = { 0 };
	struct netbe *a = open_on_loop("pair:l1", &la);
	struct netbe *b = open_on_loop("pair:l1", &lb);

	CHECK(a && b);
	if (!a || !b)
		goto out;
	CHECK_EQ(netbe_get_link_admin(a), 1);
	CHECK_EQ(netbe_link_is_up(a), 1);
	CHECK_EQ(netbe_set_link_admin(a, 0), 0);
	CHECK_EQ(la.calls, 1);
	CHECK_EQ(la.last, 0);
	CHECK_EQ(lb.calls, 0);              /* the operator's link is a's only */
	CHECK_EQ(netbe_link_is_up(a), 0);
	CHECK_EQ(netbe_get_link_admin(a), 0);
	CHECK_EQ(netbe_set_link_admin(a, 0), 0);
	CHECK_EQ(la.calls, 1);              /* no change, no call */
	CHECK_EQ(send_from(a, 1), 60);      /* consumed: dropped, counted */
	CHECK_EQ(send_from(b, 2), 60);      /* reaches a's queue ... */
	CHECK_EQ(drain(a), 0);              /* ... and is dropped there */
	CHECK_EQ(drain(b), 0);
	CHECK_EQ(drops(a, NETBE_DROP_TX_LINK_DOWN), 1);
	CHECK_EQ(drops(a, NETBE_DROP_RX_LINK_DOWN), 1);
	CHECK_EQ(netbe_set_link_admin(a, 1), 0);
	CHECK_EQ(la.calls, 2);
	CHECK_EQ(la.last, 1);
	CHECK_EQ(netbe_link_is_up(a), 1);
	CHECK_EQ(send_from(a, 1), 60);
	CHECK_EQ(drain(b), 1);
	CHECK_EQ(send_from(b, 2), 60);
	CHECK_EQ(drain(a), 1);
out:
	netbe_close(a);
	netbe_close(b);
}

static void link_admin_bad_arguments(void)
{
	struct netbe *a = open_on_loop("pair:l2", NULL);

	CHECK_EQ(netbe_set_link_admin(NULL, 1), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "handle is NULL");
	CHECK_EQ(netbe_get_link_admin(NULL), -EINVAL);
	if (a) {
		CHECK_EQ(netbe_set_link_admin(a, 2), -EINVAL);
		CHECK_STR_CONTAINS(netbe_last_error(), "pass 1 (up) or 0 (down)");
		CHECK_EQ(netbe_get_link_admin(a), 1);
	}
	netbe_close(a);
}

int main(void)
{
	int rc;

	if (netbe_epoll_new(&ep)) {
		printf("Bail out! netbe_epoll_new: %s\n", netbe_last_error());
		return 1;
	}
	RUN(mac_parser);
	RUN(mac_key_rejects_bad_values);
	RUN(spoofed_frames_dropped_and_counted);
	RUN(link_admin_down_and_up);
	RUN(link_admin_bad_arguments);
	rc = harness_done();
	netbe_epoll_free(ep);
	return rc;
}
