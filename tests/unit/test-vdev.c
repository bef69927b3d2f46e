/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-vdev.c - the virtio-net device model (netbe-virtio.h) driven by a
 * test driver (vq-driver.h) over guest memory the test owns, with a pair
 * backend whose other end the test holds.
 *
 * Contract checked: parameters and features are validated; a guest tx
 * chain reaches the peer byte for byte and comes back used; peer frames
 * land in guest rx buffers with the v1 header (num_buffers counted with
 * MRG_RXBUF, 1 without); a guest without buffers holds frames back instead
 * of losing them; a frame larger than the guest's buffers is dropped and
 * counted; hostile chains come back with length 0 and are counted; a TSO
 * super-frame from the guest reaches a peer that negotiated nothing as
 * segments; control commands are answered; the link status follows a
 * stream backend's peer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "netbe-virtio.h"
#include "offload-frames.h"
#include "vq-driver.h"

#define MEM_GPA   0x100000ULL
#define MEM_SIZE  (8u << 20)
#define QSIZE     256
#define HDR       12

struct fx {
	struct netbe_epoll *ep;
	struct netbe_vdev *dev;
	struct netbe *peer;
	struct drv_mem mem;
	struct drv_vq rx, tx, ctrl;
	unsigned notifies[3];
	unsigned config_changes;
	unsigned ctrl_queue;
};

static void on_notify(void *opaque, unsigned q)
{
	struct fx *f = opaque;

	if (q < 3)
		f->notifies[q]++;
}

static void on_config(void *opaque)
{
	((struct fx *)opaque)->config_changes++;
}

/* Open a device over @spec with the given features removed from its
 * offer, and the pair's other end @peer_spec (NULL: none). */
static int fx_open(struct fx *f, const char *spec, const char *peer_spec,
		   uint64_t drop_features)
{
	struct netbe_vdev_params p = { .spec = spec, .queue_pairs = 1,
				       .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
				       .notify = on_notify, .config_changed = on_config,
				       .opaque = f };
	struct netbe_vdev_region r;
	struct netbe_vdev_vring v;
	int err;

	memset(f, 0, sizeof(*f));
	if (netbe_epoll_new(&f->ep) || drv_mem_init(&f->mem, MEM_GPA, MEM_SIZE))
		return -ENOMEM;
	err = netbe_vdev_new(&f->dev, &p, netbe_epoll_loop(f->ep));
	if (!err && peer_spec)
		err = netbe_open(&f->peer, peer_spec, NULL, netbe_epoll_loop(f->ep));
	if (!err)
		err = netbe_vdev_set_features(f->dev, netbe_vdev_features(f->dev) & ~drop_features);
	r = drv_region(&f->mem);
	if (!err)
		err = netbe_vdev_set_mem(f->dev, &r, 1);
	drv_vq_init(&f->rx, &f->mem, QSIZE);
	drv_vq_init(&f->tx, &f->mem, QSIZE);
	drv_vq_init(&f->ctrl, &f->mem, 16);
	v = drv_vring(&f->rx);
	if (!err)
		err = netbe_vdev_set_vring(f->dev, 0, &v);
	v = drv_vring(&f->tx);
	if (!err)
		err = netbe_vdev_set_vring(f->dev, 1, &v);
	v = drv_vring(&f->ctrl);
	if (!err && !(drop_features & NETBE_F_CTRL_VQ))
		err = netbe_vdev_set_vring(f->dev, 2, &v);
	return err;
}

static void fx_close(struct fx *f)
{
	netbe_vdev_free(f->dev);
	netbe_close(f->peer);
	netbe_epoll_free(f->ep);
	drv_mem_free(&f->mem);
}

/* Run the loop until it is idle for a moment. */
static void fx_settle(struct fx *f)
{
	int i;

	for (i = 0; i < 50 && netbe_epoll_dispatch(f->ep, 10) > 0; i++)
		;
}

/* Put a 12-byte header plus @len frame bytes into guest memory and queue
 * it on tx as header and frame segments. Return: the head. */
static uint16_t guest_tx(struct fx *f, const uint8_t *hdr, const uint8_t *frame,
			 size_t len)
{
	uint64_t h = drv_alloc(&f->mem, HDR, 8), d = drv_alloc(&f->mem, len, 8);
	struct drv_seg s[2] = { { h, HDR, false }, { d, (uint32_t)len, false } };
	uint16_t head;

	memcpy(drv_ptr(&f->mem, h), hdr, HDR);
	memcpy(drv_ptr(&f->mem, d), frame, len);
	head = drv_add(&f->tx, s, 2);
	drv_publish(&f->tx);
	return head;
}

/* Queue @n rx buffers of @size bytes. Return: the gpa of the first. */
static uint64_t guest_rx_buffers(struct fx *f, unsigned n, uint32_t size)
{
	uint64_t first = 0, b;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct drv_seg s = { 0, size, true };

		b = drv_alloc(&f->mem, size, 8);
		s.gpa = b;
		if (!i)
			first = b;
		drv_add(&f->rx, &s, 1);
	}
	drv_publish(&f->rx);
	return first;
}

/* An Ethernet frame of @len bytes with a recognisable pattern. */
static void make_frame(uint8_t *b, size_t len, uint8_t seed)
{
	size_t i;

	memcpy(b, "\x02\x00\x00\x00\x00\x02\x52\x54\x00\x12\x34\x56\x88\xb5", 14);
	for (i = 14; i < len; i++)
		b[i] = (uint8_t)(i * 7 + seed);
}

static void test_params_checked(void)
{
	struct netbe_epoll *ep;
	struct netbe_vdev *dev = (void *)1;
	struct netbe_vdev_params p = { .spec = "null", .notify = on_notify };

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(netbe_vdev_new(&dev, NULL, netbe_epoll_loop(ep)), -EINVAL);
	CHECK(dev == NULL);
	p.queue_pairs = NETBE_VDEV_PAIRS_MAX + 1;
	CHECK_EQ(netbe_vdev_new(&dev, &p, netbe_epoll_loop(ep)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "queue pairs");
	p.queue_pairs = 1;
	p.mac[0] = 1;
	CHECK_EQ(netbe_vdev_new(&dev, &p, netbe_epoll_loop(ep)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "multicast");
	p.mac[0] = 0;
	p.spec = "nosuchbackend";
	CHECK(netbe_vdev_new(&dev, &p, netbe_epoll_loop(ep)) < 0);
	p.spec = "null";
	CHECK_EQ(netbe_vdev_new(&dev, &p, NULL), -EINVAL);
	CHECK_EQ(netbe_vdev_new(&dev, &p, netbe_epoll_loop(ep)), 0);
	CHECK(netbe_vdev_features(dev) & NETBE_F_VERSION_1);
	CHECK(netbe_vdev_features(dev) & NETBE_F_HOST_TSO4);
	CHECK(netbe_vdev_features(dev) & NETBE_F_MRG_RXBUF);
	CHECK(!(netbe_vdev_features(dev) & NETBE_F_MQ));
	CHECK_EQ(netbe_vdev_set_features(dev, NETBE_F_CSUM), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "VERSION_1");
	CHECK_EQ(netbe_vdev_set_features(dev, NETBE_F_VERSION_1 | (1ULL << 40)), -EINVAL);
	CHECK_EQ(netbe_vdev_kick(dev, 3), -EINVAL);
	netbe_vdev_free(dev);
	netbe_vdev_free(NULL);
	netbe_epoll_free(ep);
}

static void test_config_space(void)
{
	struct fx f;
	struct netbe_vdev_config_space cs;

	CHECK_EQ(fx_open(&f, "pair:cfg", NULL, 0), 0);
	CHECK_EQ(netbe_vdev_get_config(f.dev, 0, &cs, sizeof(cs)), 0);
	CHECK(!memcmp(cs.mac, "\x52\x54\x00\x12\x34\x56", 6));
	CHECK_EQ(cs.max_virtqueue_pairs, 1);
	CHECK_EQ(cs.mtu, 1500);
	CHECK_EQ(netbe_vdev_get_config(f.dev, 8, &cs, 4), 0);
	CHECK_EQ(netbe_vdev_get_config(f.dev, 8, &cs, 5), -EINVAL);
	CHECK_EQ(netbe_vdev_get_config(f.dev, 4000000000u, &cs, 1), -EINVAL);
	fx_close(&f);
}

static void test_tx_reaches_peer(void)
{
	uint8_t hdr[HDR] = { 0 }, frame[300], got[400];
	struct iovec iov = { got, sizeof(got) };
	uint32_t id, len;
	uint16_t head;
	struct fx f;
	ssize_t n;

	CHECK_EQ(fx_open(&f, "pair:tx", "pair:tx", 0), 0);
	CHECK_EQ(netbe_set_cap(f.peer, 0, 0), 0);
	make_frame(frame, sizeof(frame), 1);
	head = guest_tx(&f, hdr, frame, sizeof(frame));
	CHECK_EQ(netbe_vdev_kick(f.dev, 1), 0);
	n = netbe_recv(f.peer, &iov, 1);
	CHECK_EQ(n, (ssize_t)sizeof(frame));
	CHECK(!memcmp(got, frame, sizeof(frame)));
	CHECK(drv_get_used(&f.tx, &id, &len));
	CHECK_EQ(id, head);
	CHECK_EQ(len, 0);
	CHECK(f.notifies[1] >= 1);
	fx_close(&f);
}

/* Receive one peer frame of @flen bytes into buffers of @bufsz; with
 * @mrg the header must count @want_bufs buffers. */
static void rx_case(bool mrg, size_t flen, uint32_t bufsz, unsigned want_bufs)
{
	uint8_t frame[9000], got[9000 + HDR];
	struct iovec iov = { frame, flen };
	uint32_t id, len, total = 0;
	unsigned used = 0;
	uint64_t first;
	struct fx f;
	uint16_t nb;

	CHECK_EQ(fx_open(&f, "pair:rx", "pair:rx", mrg ? 0 : NETBE_F_MRG_RXBUF), 0);
	CHECK_EQ(netbe_set_cap(f.peer, 0, 0), 0);
	first = guest_rx_buffers(&f, 8, bufsz);
	make_frame(frame, flen, 3);
	CHECK_EQ(netbe_send(f.peer, &iov, 1), (ssize_t)flen);
	fx_settle(&f);
	while (drv_get_used(&f.rx, &id, &len)) {
		CHECK_EQ(id, used);
		memcpy(got + total, drv_ptr(&f.mem, first + (uint64_t)used * bufsz), len);
		total += len;
		used++;
	}
	CHECK_EQ(used, want_bufs);
	CHECK_EQ(total, flen + HDR);
	memcpy(&nb, got + 10, 2);
	CHECK_EQ(nb, mrg ? want_bufs : 1);
	CHECK(!memcmp(got + HDR, frame, flen));
	CHECK(f.notifies[0] >= 1);
	fx_close(&f);
}

static void test_rx_mergeable(void)
{
	rx_case(true, 4000, 1536, 3);
	rx_case(true, 100, 1536, 1);
}

static void test_rx_plain(void)
{
	rx_case(false, 1514, 1526, 1);
}

static void test_rx_waits_for_buffers(void)
{
	uint8_t frame[200];
	struct iovec iov = { frame, sizeof(frame) };
	struct netbe_vdev_stats st;
	uint32_t id, len;
	struct fx f;
	int i;

	CHECK_EQ(fx_open(&f, "pair:starve", "pair:starve", 0), 0);
	CHECK_EQ(netbe_set_cap(f.peer, 0, 0), 0);
	make_frame(frame, sizeof(frame), 5);
	for (i = 0; i < 3; i++)
		CHECK_EQ(netbe_send(f.peer, &iov, 1), (ssize_t)sizeof(frame));
	fx_settle(&f);
	CHECK(!drv_get_used(&f.rx, &id, &len));
	CHECK_EQ(netbe_vdev_get_stats(f.dev, &st), 0);
	CHECK(st.rx_no_buffers >= 1);
	guest_rx_buffers(&f, 8, 2048);
	CHECK_EQ(netbe_vdev_kick(f.dev, 0), 0);
	fx_settle(&f);
	for (i = 0; i < 3; i++) {
		CHECK(drv_get_used(&f.rx, &id, &len));
		CHECK_EQ(len, sizeof(frame) + HDR);
	}
	CHECK(!drv_get_used(&f.rx, &id, &len));
	fx_close(&f);
}

static void test_rx_too_big_dropped(void)
{
	uint8_t frame[3000];
	struct iovec iov = { frame, sizeof(frame) };
	struct netbe_vdev_stats st;
	uint32_t id, len;
	struct fx f;

	CHECK_EQ(fx_open(&f, "pair:big", "pair:big", NETBE_F_MRG_RXBUF), 0);
	CHECK_EQ(netbe_set_cap(f.peer, 0, 0), 0);
	guest_rx_buffers(&f, 2, 1526);
	make_frame(frame, sizeof(frame), 6);
	CHECK_EQ(netbe_send(f.peer, &iov, 1), (ssize_t)sizeof(frame));
	iov.iov_len = 600;
	CHECK_EQ(netbe_send(f.peer, &iov, 1), 600);
	fx_settle(&f);
	CHECK_EQ(netbe_vdev_get_stats(f.dev, &st), 0);
	CHECK_EQ(st.rx_too_big, 1);
	CHECK(drv_get_used(&f.rx, &id, &len));
	CHECK_EQ(len, 600 + HDR);
	fx_close(&f);
}

static void test_bad_chains_returned(void)
{
	uint8_t hdr[HDR] = { 0 }, frame[100];
	struct iovec iov = { frame, sizeof(frame) };
	struct netbe_vdev_stats st;
	struct drv_seg s = { MEM_GPA + MEM_SIZE - 8, 64, false };
	uint32_t id, len;
	uint16_t head;
	struct fx f;

	CHECK_EQ(fx_open(&f, "pair:bad", "pair:bad", 0), 0);
	/* a segment running off the end of guest memory */
	head = drv_add(&f.tx, &s, 1);
	drv_publish(&f.tx);
	/* a chain shorter than the virtio-net header */
	s.gpa = MEM_GPA;
	s.len = 6;
	drv_add(&f.tx, &s, 1);
	drv_publish(&f.tx);
	/* then a good one */
	make_frame(frame, sizeof(frame), 7);
	guest_tx(&f, hdr, frame, sizeof(frame));
	CHECK_EQ(netbe_vdev_kick(f.dev, 1), 0);
	CHECK(drv_get_used(&f.tx, &id, &len));
	CHECK_EQ(id, head);
	CHECK_EQ(len, 0);
	CHECK(drv_get_used(&f.tx, &id, &len));
	CHECK(drv_get_used(&f.tx, &id, &len));
	CHECK_EQ(netbe_vdev_get_stats(f.dev, &st), 0);
	CHECK_EQ(st.bad_chains, 1);
	CHECK_EQ(st.tx_bad_chains, 1);
	/* an rx chain with a readable segment is refused when a frame
	 * comes for it */
	s.len = 2048;
	drv_add(&f.rx, &s, 1);
	drv_publish(&f.rx);
	CHECK_EQ(netbe_vdev_kick(f.dev, 0), 0);
	CHECK(!drv_get_used(&f.rx, &id, &len));
	iov.iov_len = 100;
	CHECK_EQ(netbe_send(f.peer, &iov, 1), 100);
	fx_settle(&f);
	CHECK(drv_get_used(&f.rx, &id, &len));
	CHECK_EQ(len, 0);
	CHECK_EQ(netbe_vdev_get_stats(f.dev, &st), 0);
	CHECK_EQ(st.bad_chains, 2);
	fx_close(&f);
}

static void test_tso_segmented_for_plain_peer(void)
{
	static uint8_t buf[OL_TEST_MAX], got[2048];
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 20000,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1448 };
	struct iovec iov = { got, sizeof(got) };
	struct netbe_vnet_hdr h;
	uint8_t hdr[HDR] = { 0 };
	size_t len, total = 0;
	unsigned segs = 0;
	struct fx f;
	ssize_t n;

	CHECK_EQ(fx_open(&f, "pair:tso,mtu=1500", "pair:tso", 0), 0);
	CHECK_EQ(netbe_set_cap(f.peer, 0, 0), 0);
	len = fb_build(buf, &o, &h, NULL);
	fb_encode_vnet(hdr, &h);
	guest_tx(&f, hdr, buf, len);
	CHECK_EQ(netbe_vdev_kick(f.dev, 1), 0);
	fx_settle(&f);
	while ((n = netbe_recv(f.peer, &iov, 1)) > 0) {
		CHECK(n <= 1514);
		total += (size_t)n - 54;
		segs++;
	}
	CHECK_EQ(segs, (20000 + 1447) / 1448);
	CHECK_EQ(total, 20000);
	fx_close(&f);
}

/* Send control command @cmd (with @data) and return the ack, or -1. */
static int ctrl_cmd(struct fx *f, uint8_t class, uint8_t cmd, const void *data,
		    size_t len)
{
	uint64_t out = drv_alloc(&f->mem, 2 + len, 8), ack = drv_alloc(&f->mem, 1, 1);
	struct drv_seg s[2] = { { out, (uint32_t)(2 + len), false }, { ack, 1, true } };
	uint8_t *p = drv_ptr(&f->mem, out);
	uint32_t id, ulen;

	p[0] = class;
	p[1] = cmd;
	if (len)
		memcpy(p + 2, data, len);
	*(uint8_t *)drv_ptr(&f->mem, ack) = 0xee;
	drv_add(&f->ctrl, s, 2);
	drv_publish(&f->ctrl);
	netbe_vdev_kick(f->dev, f->ctrl_queue ? f->ctrl_queue : 2);
	if (!drv_get_used(&f->ctrl, &id, &ulen) || ulen != 1)
		return -1;
	return *(uint8_t *)drv_ptr(&f->mem, ack);
}

static void test_control_queue(void)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	uint8_t on = 1, got[6], table[20] = { 0 };
	uint64_t offl = NETBE_F_GUEST_CSUM;
	uint16_t pairs = 2;
	struct netbe_vdev_stats st;
	struct fx f;

	CHECK_EQ(fx_open(&f, "pair:ctrl", NULL, 0), 0);
	CHECK_EQ(ctrl_cmd(&f, 0, 0, &on, 1), 0);          /* promisc on */
	CHECK_EQ(ctrl_cmd(&f, 1, 1, mac, 6), 0);          /* MAC addr set */
	CHECK_EQ(netbe_vdev_get_config(f.dev, 0, got, 6), 0);
	CHECK(!memcmp(got, mac, 6));
	table[0] = 1;                                      /* 1 unicast entry */
	CHECK_EQ(ctrl_cmd(&f, 1, 0, table, 14), 0);       /* MAC table set */
	CHECK_EQ(ctrl_cmd(&f, 1, 0, table, 13), 1);       /* truncated table */
	table[0] = 0xff;
	CHECK_EQ(ctrl_cmd(&f, 1, 0, table, 14), 1);       /* entries overflow */
	CHECK_EQ(ctrl_cmd(&f, 4, 0, &pairs, 2), 1);       /* MQ not offered */
	CHECK_EQ(ctrl_cmd(&f, 5, 0, &offl, 8), 0);        /* guest offloads */
	offl = 1ULL << 40;
	CHECK_EQ(ctrl_cmd(&f, 5, 0, &offl, 8), 1);
	CHECK_EQ(ctrl_cmd(&f, 99, 0, NULL, 0), 1);
	CHECK_EQ(netbe_vdev_get_stats(f.dev, &st), 0);
	CHECK_EQ(st.ctrl_commands, 9);
	CHECK_EQ(st.ctrl_errors, 5);
	fx_close(&f);
}

static void test_link_follows_stream_peer(void)
{
	struct netbe_vdev_config_space cs;
	struct netbe *peer = NULL;
	struct fx f;
	int i;

	CHECK_EQ(fx_open(&f, "stream:listen=127.0.0.1:5711", NULL, 0), 0);
	CHECK_EQ(netbe_vdev_get_config(f.dev, 0, &cs, sizeof(cs)), 0);
	CHECK_EQ(cs.status & NETBE_VDEV_S_LINK_UP, 0);
	CHECK_EQ(netbe_open(&peer, "stream:connect=127.0.0.1:5711", NULL,
			    netbe_epoll_loop(f.ep)), 0);
	for (i = 0; i < 100 && !f.config_changes; i++)
		netbe_epoll_dispatch(f.ep, 20);
	CHECK_EQ(f.config_changes, 1);
	CHECK_EQ(netbe_vdev_get_config(f.dev, 0, &cs, sizeof(cs)), 0);
	CHECK_EQ(cs.status & NETBE_VDEV_S_LINK_UP, NETBE_VDEV_S_LINK_UP);
	netbe_close(peer);
	for (i = 0; i < 100 && f.config_changes < 2; i++)
		netbe_epoll_dispatch(f.ep, 20);
	CHECK_EQ(f.config_changes, 2);
	CHECK_EQ(netbe_vdev_get_config(f.dev, 0, &cs, sizeof(cs)), 0);
	CHECK_EQ(cs.status & NETBE_VDEV_S_LINK_UP, 0);
	fx_close(&f);
}

#define MQ_FRAMES 20000

/* One queue pair's transmitting guest thread. */
struct mq_sender {
	struct netbe_vdev *dev;
	struct drv_vq tx;
	unsigned queue;
	uint64_t buf;        /* one 12 + 60 byte frame, reused */
	unsigned sent, reclaimed;
};

/* Send MQ_FRAMES frames through one tx queue, kicking after each batch
 * and taking used entries back. */
static void *mq_send(void *opaque)
{
	struct mq_sender *m = opaque;
	struct drv_seg s = { m->buf, 72, false };
	uint32_t id, len;
	unsigned spins = 0;

	while (m->reclaimed < MQ_FRAMES && spins < 10000000) {
		while (m->sent < MQ_FRAMES && m->sent - m->reclaimed < m->tx.num) {
			drv_add(&m->tx, &s, 1);
			m->sent++;
		}
		drv_publish(&m->tx);
		netbe_vdev_kick(m->dev, m->queue);
		while (drv_get_used(&m->tx, &id, &len))
			m->reclaimed++;
		spins++;
	}
	return NULL;
}

static void test_multiqueue_threads(void)
{
	struct netbe_vdev_params p = { .spec = "null", .queue_pairs = 2,
				       .notify = on_notify };
	struct mq_sender m[2];
	struct netbe_vdev_region r;
	struct netbe_vdev_vring v;
	struct netbe_stats st;
	struct netbe_epoll *ep;
	struct drv_mem mem;
	pthread_t th[2];
	struct fx f = { 0 };
	uint16_t pairs;
	unsigned i;

	p.opaque = &f;
	f.ctrl_queue = 4;
	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(drv_mem_init(&mem, MEM_GPA, 1 << 20), 0);
	CHECK_EQ(netbe_vdev_new(&f.dev, &p, netbe_epoll_loop(ep)), 0);
	CHECK(netbe_vdev_features(f.dev) & NETBE_F_MQ);
	CHECK_EQ(netbe_vdev_set_features(f.dev, netbe_vdev_features(f.dev)), 0);
	r = drv_region(&mem);
	CHECK_EQ(netbe_vdev_set_mem(f.dev, &r, 1), 0);
	f.mem = mem;
	drv_vq_init(&f.ctrl, &f.mem, 16);
	v = drv_vring(&f.ctrl);
	CHECK_EQ(netbe_vdev_set_vring(f.dev, 4, &v), 0);
	pairs = 3;
	CHECK_EQ(ctrl_cmd(&f, 4, 0, &pairs, 2), 1);
	pairs = 2;
	CHECK_EQ(ctrl_cmd(&f, 4, 0, &pairs, 2), 0);
	for (i = 0; i < 2; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].dev = f.dev;
		m[i].queue = 2 * i + 1;
		drv_vq_init(&m[i].tx, &f.mem, 64);
		m[i].buf = drv_alloc(&f.mem, 72, 8);
		v = drv_vring(&m[i].tx);
		CHECK_EQ(netbe_vdev_set_vring(f.dev, m[i].queue, &v), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, mq_send, &m[i]);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(m[i].reclaimed, MQ_FRAMES);
		CHECK_EQ(netbe_get_stats(netbe_vdev_backend(f.dev, i), &st), 0);
		CHECK_EQ(st.tx_frames, MQ_FRAMES);
	}
	netbe_vdev_free(f.dev);
	netbe_epoll_free(ep);
	drv_mem_free(&mem);
}

int main(void)
{
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	RUN(test_params_checked);
	RUN(test_config_space);
	RUN(test_tx_reaches_peer);
	RUN(test_rx_mergeable);
	RUN(test_rx_plain);
	RUN(test_rx_waits_for_buffers);
	RUN(test_rx_too_big_dropped);
	RUN(test_bad_chains_returned);
	RUN(test_tso_segmented_for_plain_peer);
	RUN(test_control_queue);
	RUN(test_link_follows_stream_peer);
	RUN(test_multiqueue_threads);
	return harness_done();
}
