/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-translate.c - virtio-net header translation and validation in core,
 * driven through two pair handles: every combination of header lengths,
 * headers split across iovec segments (ANY_LAYOUT), too-short buffers,
 * malformed and unnegotiated headers, and the counters they move.
 */
#include <errno.h>

#include "harness.h"
#include "offload-frames.h"
#include "iov.h"
#include "netbe.h"
#include "vnet_hdr.h"

#define PAYLOAD 60
static const unsigned lens[] = { 0, 10, 12, 20 };

struct fixture {
	struct netbe_epoll *ep;
	struct netbe *a, *b;
	int tx_cb_calls;
};

static void on_tx(struct netbe *be, void *opaque)
{
	(void)be;
	((struct fixture *)opaque)->tx_cb_calls++;
}

static int fx_open(struct fixture *fx, const char *spec)
{
	struct netbe_config cfg = { .tx_cb = on_tx, .opaque = fx };

	memset(fx, 0, sizeof(*fx));
	if (netbe_epoll_new(&fx->ep))
		return -1;
	if (netbe_open(&fx->a, spec, &cfg, netbe_epoll_loop(fx->ep)) ||
	    netbe_open(&fx->b, spec, &cfg, netbe_epoll_loop(fx->ep)))
		return -1;
	return 0;
}

static void fx_close(struct fixture *fx)
{
	netbe_close(fx->a);
	netbe_close(fx->b);
	netbe_epoll_free(fx->ep);
}

/* Fill @frame with a header of @hlen bytes (@h) and a known payload. */
static void make_frame(uint8_t *frame, unsigned hlen, const struct netbe_vnet_hdr *h)
{
	unsigned i;

	vnet_hdr_encode(frame, hlen, h);
	for (i = 0; i < PAYLOAD; i++)
		frame[hlen + i] = (uint8_t)(i * 7 + 1);
}

/* Send @frame of @len bytes from @be with the header split into pieces. */
static ssize_t send_split(struct netbe *be, uint8_t *frame, size_t len)
{
	struct iovec iov[4] = {
		{ frame, 3 }, { frame + 3, 4 }, { frame + 7, 10 }, { frame + 17, len - 17 },
	};

	return netbe_send(be, iov, 4);
}

/* Receive into a buffer whose first bytes are split over three segments.
 * Return: recv's result; the frame is assembled into @out. */
static ssize_t recv_split(struct netbe *be, uint8_t *out, size_t cap)
{
	struct iovec iov[3] = { { out, 1 }, { out + 1, 5 }, { out + 6, cap - 6 } };

	return netbe_recv(be, iov, 3);
}

static bool payload_ok(const uint8_t *p)
{
	unsigned i;

	for (i = 0; i < PAYLOAD; i++)
		if (p[i] != (uint8_t)(i * 7 + 1))
			return false;
	return true;
}

/* One direction A->B with header lengths @la and @lb. */
static void one_translation(unsigned la, unsigned lb)
{
	static uint8_t frame[64 + PAYLOAD], out[70000];
	struct netbe_vnet_hdr h = { 0 }, got;
	uint64_t fa = la ? NETBE_F_CSUM : 0, fb = lb ? NETBE_F_GUEST_CSUM : 0;
	struct fixture fx;
	ssize_t n;

	if (fx_open(&fx, "pair:tr")) {
		CHECK(!"open");
		return;
	}
	CHECK_EQ(netbe_set_cap(fx.a, fa, la), 0);
	CHECK_EQ(netbe_set_cap(fx.b, fb, lb), 0);
	if (la && lb) {
		h.flags = NETBE_HDR_F_NEEDS_CSUM;
		h.csum_start = 34;
		h.csum_offset = 16;
	}
	h.num_buffers = 7;
	h.hash_value = 0xdeadbeef;
	make_frame(frame, la, &h);
	CHECK_EQ(send_split(fx.a, frame, la + PAYLOAD), la + PAYLOAD);
	n = recv_split(fx.b, out, sizeof(out));
	CHECK_EQ(n, lb + PAYLOAD);
	CHECK(payload_ok(out + lb));
	vnet_hdr_decode(out, lb, &got);
	if (lb) {
		CHECK_EQ(got.flags, h.flags);
		CHECK_EQ(got.csum_start, h.csum_start);
		CHECK_EQ(got.csum_offset, h.csum_offset);
		CHECK_EQ(got.num_buffers, lb >= 12 ? 1 : 0);
		CHECK_EQ(got.hash_value, 0);
	}
	fx_close(&fx);
}

static void every_header_length_pair(void)
{
	unsigned i, j;

	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			one_translation(lens[i], lens[j]);
}

/* Send one frame from A with header @h (A negotiated @fa, header 12) and
 * return the drop counter @reason of A after it. */
static uint64_t tx_drop_count(uint64_t fa, const struct netbe_vnet_hdr *h,
			      size_t payload, enum netbe_drop_reason reason)
{
	static uint8_t frame[12 + 2000];
	struct iovec iov = { frame, 12 + payload };
	struct netbe_stats st;
	struct fixture fx;

	memset(frame, 0, sizeof(frame));
	vnet_hdr_encode(frame, 12, h);
	if (fx_open(&fx, "pair:drop"))
		return 999;
	CHECK_EQ(netbe_set_cap(fx.a, fa, 12), 0);
	CHECK_EQ(netbe_send(fx.a, &iov, 1), (ssize_t)(12 + payload));
	netbe_get_stats(fx.a, &st);
	CHECK_EQ(st.tx_frames + st.drops[reason], 1);
	fx_close(&fx);
	return st.drops[reason];
}

static void tx_headers_checked(void)
{
	struct netbe_vnet_hdr h = { .flags = NETBE_HDR_F_NEEDS_CSUM,
				    .csum_start = 34, .csum_offset = 16 };

	CHECK_EQ(tx_drop_count(0, &h, 100, NETBE_DROP_TX_OFFLOAD), 1);
	CHECK_EQ(tx_drop_count(NETBE_F_CSUM, &h, 100, NETBE_DROP_TX_OFFLOAD), 0);
	h.csum_start = 90;
	CHECK_EQ(tx_drop_count(NETBE_F_CSUM, &h, 100, NETBE_DROP_TX_BAD_HDR), 1);
	h = (struct netbe_vnet_hdr){ .flags = 0x80 };
	CHECK_EQ(tx_drop_count(NETBE_F_CSUM, &h, 100, NETBE_DROP_TX_BAD_HDR), 1);
	h = (struct netbe_vnet_hdr){ .gso_type = NETBE_GSO_TCPV4, .gso_size = 0,
				     .hdr_len = 54 };
	CHECK_EQ(tx_drop_count(NETBE_F_CSUM | NETBE_F_HOST_TSO4, &h, 100,
			       NETBE_DROP_TX_BAD_HDR), 1);
	h.gso_size = 1448;
	CHECK_EQ(tx_drop_count(NETBE_F_CSUM, &h, 100, NETBE_DROP_TX_OFFLOAD), 1);
	h.gso_type = 42;
	CHECK_EQ(tx_drop_count(NETBE_F_CSUM | NETBE_F_HOST_TSO4, &h, 100,
			       NETBE_DROP_TX_BAD_HDR), 1);
	h = (struct netbe_vnet_hdr){ 0 };
	CHECK_EQ(tx_drop_count(0, &h, 5, NETBE_DROP_TX_RUNT), 1);
}

/* A partial checksum reaching a frontend without GUEST_CSUM is completed
 * in software, never handed over partial. */
static void rx_unnegotiated_csum_completed(void)
{
	static uint8_t frame[12 + PAYLOAD], out[70000];
	struct netbe_vnet_hdr h = { .flags = NETBE_HDR_F_NEEDS_CSUM,
				    .csum_start = 34, .csum_offset = 16 };
	struct iovec iov = { frame, sizeof(frame) }, oiov = { out, sizeof(out) };
	struct netbe_vnet_hdr got;
	struct netbe_stats st;
	struct fixture fx;

	if (fx_open(&fx, "pair:rxo"))
		return;
	CHECK_EQ(netbe_set_cap(fx.a, NETBE_F_CSUM, 12), 0);
	CHECK_EQ(netbe_set_cap(fx.b, 0, 12), 0);
	make_frame(frame, 12, &h);
	CHECK_EQ(netbe_send(fx.a, &iov, 1), (ssize_t)sizeof(frame));
	CHECK_EQ(netbe_recv(fx.b, &oiov, 1), 12 + PAYLOAD);
	vnet_hdr_decode(out, 12, &got);
	CHECK_EQ(got.flags, 0);
	/* the field held the pseudo-header seed; it now holds the complement
	 * of the sum over csum_start..end taken with that seed */
	CHECK_EQ(fb_get16(out + 12 + 50),
		 (uint16_t)~ref_fold(ref_add(0, frame + 12 + 34, PAYLOAD - 34)));
	CHECK(!memcmp(out + 12, frame + 12, 50));
	netbe_get_stats(fx.b, &st);
	CHECK_EQ(st.drops[NETBE_DROP_RX_OFFLOAD], 0);
	CHECK_EQ(st.rx_frames, 1);
	fx_close(&fx);
}

/* Build a TSO super-frame of @paylen bytes behind a 12-byte header. */
static size_t tso_frame(uint8_t *buf, int ipv, size_t paylen)
{
	struct fb o = { .ipv = ipv, .proto = IPPROTO_TCP, .paylen = paylen,
			.gso_type = ipv == 4 ? NETBE_GSO_TCPV4 : NETBE_GSO_TCPV6,
			.gso_size = 1448, .seq = 1000, .seed = 3 };
	struct netbe_vnet_hdr h;
	struct fb_layout lay;
	size_t len = fb_build(buf + 12, &o, &h, &lay);

	memset(buf, 0, 12);
	fb_encode_vnet(buf, &h);
	return 12 + len;
}

/* Receive every frame on @be; check each is a complete, correct TCP
 * segment of at most @mss payload bytes. Return: the payload total. */
static size_t recv_segments(struct netbe *be, size_t mss, unsigned *count)
{
	static uint8_t out[70000];
	struct iovec oiov = { out, sizeof(out) };
	size_t total = 0;
	ssize_t n;

	*count = 0;
	while (*count < 200 && (n = netbe_recv(be, &oiov, 1)) > 0) {
		const uint8_t *ip = out + 12 + 14;
		int v6 = (ip[0] >> 4) == 6;
		size_t l4 = v6 ? 40 : (size_t)(ip[0] & 15) * 4;
		size_t l4len = (size_t)n - 12 - 14 - l4;
		uint32_t sum = ref_pseudo(ip, v6 ? 6 : 4, IPPROTO_TCP, l4len);

		CHECK(ref_fold(ref_add(sum, ip + l4, l4len)) == 0xffff);
		if (!v6)
			CHECK(ref_fold(ref_add(0, ip, l4)) == 0xffff);
		CHECK(l4len - 20 <= mss);
		total += l4len - 20;
		(*count)++;
	}
	return total;
}

/* A frontend sends TSO super-frames to a backend without native TSO
 * (offload=soft): they leave as correct MSS-sized segments. */
static void tx_tso_in_software(void)
{
	static uint8_t frame[12 + 65536];
	struct iovec iov[3];
	struct netbe_stats st;
	struct fixture fx;
	unsigned count;
	int ipv;

	for (ipv = 4; ipv <= 6; ipv += 2) {
		size_t len = tso_frame(frame, ipv, 20000);

		if (fx_open(&fx, "pair:sofx,depth=64,offload=soft"))
			return;
		CHECK(netbe_get_cap(fx.a) & NETBE_F_HOST_TSO4);
		CHECK_EQ(netbe_set_cap(fx.a, NETBE_F_CSUM | NETBE_F_HOST_TSO4 |
				       NETBE_F_HOST_TSO6, 12), 0);
		CHECK_EQ(netbe_set_cap(fx.b, 0, 12), 0);
		iov[0] = (struct iovec){ frame, 5 };     /* header split too */
		iov[1] = (struct iovec){ frame + 5, 1000 };
		iov[2] = (struct iovec){ frame + 1005, len - 1005 };
		CHECK_EQ(netbe_send(fx.a, iov, 3), (ssize_t)len);
		CHECK_EQ(recv_segments(fx.b, 1448, &count), 20000);
		CHECK_EQ(count, (20000 + 1447) / 1448);
		netbe_get_stats(fx.a, &st);
		CHECK_EQ(st.tx_frames, count);
		fx_close(&fx);
	}
}

/* A backend hands a TSO super-frame to a frontend that did not negotiate
 * GUEST_TSO: it is segmented on the way in. */
static void rx_tso_in_software(void)
{
	static uint8_t frame[12 + 65536];
	struct fixture fx;
	unsigned count;
	size_t len = tso_frame(frame, 4, 30000);
	struct iovec iov = { frame, len };

	if (fx_open(&fx, "pair:sofr"))
		return;
	CHECK_EQ(netbe_set_cap(fx.a, NETBE_F_CSUM | NETBE_F_HOST_TSO4, 12), 0);
	CHECK_EQ(netbe_set_cap(fx.b, 0, 12), 0);
	CHECK_EQ(netbe_send(fx.a, &iov, 1), (ssize_t)len);
	CHECK_EQ(netbe_peek_recvlen(fx.b), 12 + 14 + 20 + 20 + 1448);
	CHECK_EQ(recv_segments(fx.b, 1448, &count), 30000);
	CHECK_EQ(count, (30000 + 1447) / 1448);
	fx_close(&fx);
}

/* Soft segments the backend cannot take yet stay queued: the next send
 * is -EAGAIN, nothing is lost, and they leave once the peer drains. */
static void soft_segments_wait_for_room(void)
{
	static uint8_t frame[12 + 65536];
	struct fixture fx;
	unsigned count, total = 0;
	size_t len = tso_frame(frame, 4, 20000), bytes = 0;
	struct iovec iov = { frame, len };
	int i;

	if (fx_open(&fx, "pair:sofq,depth=4,offload=soft"))
		return;
	CHECK_EQ(netbe_set_cap(fx.a, NETBE_F_CSUM | NETBE_F_HOST_TSO4, 12), 0);
	CHECK_EQ(netbe_set_cap(fx.b, 0, 12), 0);
	CHECK_EQ(netbe_send(fx.a, &iov, 1), (ssize_t)len);
	CHECK_EQ(netbe_send(fx.a, &iov, 1), -EAGAIN);
	for (i = 0; i < 20 && total < 14; i++) {
		bytes += recv_segments(fx.b, 1448, &count);
		total += count;
		netbe_epoll_dispatch(fx.ep, 10);
	}
	CHECK_EQ(total, 14);
	CHECK_EQ(bytes, 20000);
	CHECK(fx.tx_cb_calls >= 1);
	fx_close(&fx);
}

static void short_buffers_keep_frame(void)
{
	static uint8_t frame[12 + PAYLOAD], out[200];
	struct netbe_vnet_hdr h = { 0 };
	struct iovec iov = { frame, sizeof(frame) };
	struct iovec tiny[2] = { { out, 4 }, { out + 4, 4 } };
	struct iovec small = { out, 12 + PAYLOAD - 1 }, exact = { out, 12 + PAYLOAD };
	struct fixture fx;

	if (fx_open(&fx, "pair:short"))
		return;
	CHECK_EQ(netbe_set_cap(fx.a, 0, 12), 0);
	CHECK_EQ(netbe_set_cap(fx.b, 0, 12), 0);
	CHECK_EQ(netbe_recv(fx.b, &exact, 1), 0);
	CHECK_EQ(netbe_peek_recvlen(fx.b), 0);
	make_frame(frame, 12, &h);
	CHECK_EQ(netbe_send(fx.a, &iov, 1), (ssize_t)sizeof(frame));
	CHECK_EQ(netbe_recv(fx.b, tiny, 2), -EMSGSIZE);      /* shorter than a header */
	CHECK_EQ(netbe_recv(fx.b, &small, 1), -EMSGSIZE);
	CHECK_EQ(netbe_peek_recvlen(fx.b), 12 + PAYLOAD);
	CHECK_EQ(netbe_recv(fx.b, &exact, 1), 12 + PAYLOAD);
	CHECK(payload_ok(out + 12));
	CHECK_EQ(netbe_recv(fx.b, &exact, 1), 0);
	fx_close(&fx);
}

static void discard_counts(void)
{
	static uint8_t frame[PAYLOAD];
	struct iovec iov = { frame, sizeof(frame) };
	struct netbe_stats st;
	struct fixture fx;

	if (fx_open(&fx, "pair:disc"))
		return;
	CHECK_EQ(netbe_send(fx.a, &iov, 1), PAYLOAD);
	CHECK_EQ(netbe_rx_discard(fx.b), PAYLOAD);
	CHECK_EQ(netbe_rx_discard(fx.b), 0);
	netbe_get_stats(fx.b, &st);
	CHECK_EQ(st.drops[NETBE_DROP_RX_DISCARDED], 1);
	fx_close(&fx);
}

static void set_cap_checks(void)
{
	struct fixture fx;

	if (fx_open(&fx, "pair:cap"))
		return;
	CHECK(netbe_get_cap(fx.a) & NETBE_F_MRG_RXBUF);
	CHECK_EQ(netbe_set_cap(fx.a, 1ULL << 63, 12), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "not offered");
	CHECK_EQ(netbe_set_cap(fx.a, 0, 11), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "11");
	CHECK_EQ(netbe_set_cap(fx.a, NETBE_F_CSUM, 0), -EINVAL);
	CHECK_EQ(netbe_set_cap(fx.a, NETBE_F_MRG_RXBUF, 10), -EINVAL);
	CHECK_EQ(netbe_set_cap(fx.a, NETBE_F_MRG_RXBUF | NETBE_F_CSUM, 12), 0);
	CHECK_EQ(netbe_get_vnet_hdr_len(fx.a), 12);
	CHECK_EQ(netbe_set_cap(NULL, 0, 0), -EINVAL);
	fx_close(&fx);
}

static void bad_arguments(void)
{
	struct netbe_epoll *ep;
	struct netbe *be = (struct netbe *)1;
	struct iovec iov = { NULL, 0 };
	struct netbe_loop noops = { 0 };

	CHECK_EQ(netbe_epoll_new(&ep), 0);
	CHECK_EQ(netbe_open(NULL, "null", NULL, netbe_epoll_loop(ep)), -EINVAL);
	CHECK_EQ(netbe_open(&be, "null", NULL, NULL), -EINVAL);
	CHECK(be == NULL);
	CHECK_EQ(netbe_open(&be, "null", NULL, &noops), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "loop adapter");
	CHECK_EQ(netbe_open(&be, "null,offload=maybe", NULL, netbe_epoll_loop(ep)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "expected one of auto, native, soft, off");
	CHECK_EQ(netbe_open(&be, "null", &(struct netbe_config){ .flags = 1u << 30 },
			    netbe_epoll_loop(ep)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "unknown flags 0x40000000");
	CHECK_EQ(netbe_open(&be, "null", NULL, netbe_epoll_loop(ep)), 0);
	CHECK_EQ(netbe_send(NULL, &iov, 1), -EINVAL);
	CHECK_EQ(netbe_send(be, NULL, 1), -EINVAL);
	CHECK_EQ(netbe_send(be, &iov, 0), -EINVAL);
	CHECK_EQ(netbe_recv(be, &iov, -1), -EINVAL);
	CHECK_EQ(netbe_recv(NULL, &iov, 1), -EINVAL);
	CHECK_EQ(netbe_peek_recvlen(NULL), -EINVAL);
	CHECK_EQ(netbe_get_stats(be, NULL), -EINVAL);
	CHECK_EQ(netbe_send_burst(be, NULL, 0), 0);
	CHECK(!strcmp(netbe_name(be), "null"));
	netbe_rx_enable(NULL);
	netbe_rx_disable(NULL);
	netbe_close(be);
	netbe_close(NULL);
	netbe_epoll_free(ep);
}

static void codec_roundtrip(void)
{
	struct netbe_vnet_hdr h = { 1, 4, 66, 1448, 54, 16, 3, 0x12345678, 2, 0 }, g;
	uint8_t buf[20];
	unsigned i;

	for (i = 0; i < 4; i++) {
		vnet_hdr_encode(buf, lens[i], &h);
		vnet_hdr_decode(buf, lens[i], &g);
		CHECK_EQ(g.gso_size, lens[i] ? 1448 : 0);
		CHECK_EQ(g.num_buffers, lens[i] >= 12 ? 3 : 0);
		CHECK_EQ(g.hash_value, lens[i] == 20 ? 0x12345678 : 0);
	}
	vnet_hdr_encode(buf, 10, &h);
	CHECK_EQ(buf[4], 1448 & 0xff);     /* little-endian on the wire */
	CHECK_EQ(buf[5], 1448 >> 8);
	CHECK(vnet_hdr_len_valid(20) && !vnet_hdr_len_valid(16));
}

int main(void)
{
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	RUN(codec_roundtrip);
	RUN(every_header_length_pair);
	RUN(tx_headers_checked);
	RUN(rx_unnegotiated_csum_completed);
	RUN(tx_tso_in_software);
	RUN(rx_tso_in_software);
	RUN(soft_segments_wait_for_room);
	RUN(short_buffers_keep_frame);
	RUN(discard_counts);
	RUN(set_cap_checks);
	RUN(bad_arguments);
	return harness_done();
}
