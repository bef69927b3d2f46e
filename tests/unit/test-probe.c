/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-probe.c - `netbe probe` end to end against a fake network.
 *
 * Theory of operation: each test opens one end of a "pair:" backend and
 * runs a fake gateway (DHCP server, ARP responder, echo responder at
 * 10.0.2.2) on its own epoll loop in a thread; the probe is then run
 * in-process through netbe_cmd_probe() on the other end, with its stdout
 * and stderr captured so the exit status and the failure line can be
 * checked. The fake misbehaves on purpose per test: no ARP reply, only
 * one echo reply, a NAK, an ARP request for the guest that must be
 * answered before echoes are, and malformed or foreign frames before every
 * real reply, which the probe must ignore.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "netbe.h"
#include "cli.h"
#include "guestproto.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define GW_IP IP(10, 0, 2, 2)
#define GUEST_IP IP(10, 0, 2, 15)

enum fake_mode {
	FAKE_GOOD,
	FAKE_NO_ARP,          /* never answers ARP */
	FAKE_ONE_ECHO,        /* answers the first echo request only */
	FAKE_NAK,             /* refuses the REQUEST */
	FAKE_ASK_ARP,         /* ARPs for the guest, echoes only once answered */
	FAKE_NOISE,           /* junk before every reply */
};

struct fake {
	enum fake_mode mode;
	char spec[48];
	struct netbe_epoll *ep;
	struct netbe *be;
	pthread_t thread;
	atomic_int stop;
	uint8_t guest_mac[6];
	bool guest_answered_arp;
	unsigned echoes_answered;
	uint8_t rx[2048], tx[2048];
};

static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
static unsigned pair_seq;

static void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v)
{
	w16(p, (uint16_t)(v >> 16));
	w16(p + 2, (uint16_t)v);
}

static uint16_t r16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t r32(const uint8_t *p)
{
	return (uint32_t)r16(p) << 16 | r16(p + 2);
}

static void fake_send(struct fake *fk, const uint8_t *f, size_t len)
{
	struct iovec iov = { .iov_base = (void *)f, .iov_len = len };

	netbe_send(fk->be, &iov, 1);
}

/* Send the junk of FAKE_NOISE: @f addressed to another station (an ARP
 * reply then names that station's MAC, which the probe must not learn),
 * then truncations and corruptions of @f. */
static void fake_noise(struct fake *fk, const uint8_t *f, size_t len)
{
	uint8_t junk[2048];

	memcpy(junk, f, len);
	memcpy(junk, other_mac, 6);          /* for another station, and */
	if (r16(f + 12) == 0x0806)
		memcpy(junk + 22, other_mac, 6); /* claiming its address */
	fake_send(fk, junk, len);
	fake_send(fk, f, len / 2);
	fake_send(fk, f, 13);
	memcpy(junk, f, len);
	junk[len - 1] ^= 0x55;               /* breaks a checksum or a field */
	fake_send(fk, junk, len);
	memcpy(junk, f, len);
	junk[14 + 2] = 0xff;                 /* IPv4 total length (or ARP plen) */
	fake_send(fk, junk, len);
}

static void fake_reply(struct fake *fk, const uint8_t *f, size_t len)
{
	if (fk->mode == FAKE_NOISE)
		fake_noise(fk, f, len);
	fake_send(fk, f, len);
	if (fk->mode == FAKE_NOISE)
		fake_send(fk, f, len);           /* a duplicate */
}

/* A DHCP reply of @type for the guest's transaction @xid, giving @yiaddr. */
static void fake_dhcp_reply(struct fake *fk, uint32_t xid, uint8_t type, uint32_t yiaddr)
{
	static const uint8_t opts[] = {
		1, 4, 255, 255, 255, 0,
		3, 4, 10, 0, 2, 2,
		6, 4, 10, 0, 2, 3,
		51, 4, 0, 0, 0x0e, 0x10,         /* 3600 s */
		54, 4, 10, 0, 2, 2,
		255,
	};
	size_t bootp_len = 240 + 3 + sizeof(opts), udp_len = 8 + bootp_len;
	uint8_t *f = fk->tx, *ip = f + 14, *udp = ip + 20, *bp = udp + 8;

	memset(f, 0, 14 + 20 + udp_len);
	memcpy(f, bcast, 6);
	memcpy(f + 6, gw_mac, 6);
	w16(f + 12, 0x0800);
	ip[0] = 0x45;
	w16(ip + 2, (uint16_t)(20 + udp_len));
	ip[8] = 64;
	ip[9] = 17;
	w32(ip + 12, GW_IP);
	w32(ip + 16, 0xffffffffu);
	w16(ip + 10, gp_inet_csum(ip, 20));
	w16(udp, 67);
	w16(udp + 2, 68);
	w16(udp + 4, (uint16_t)udp_len);      /* checksum 0: none */
	bp[0] = 2;
	bp[1] = 1;
	bp[2] = 6;
	w32(bp + 4, xid);
	w32(bp + 16, yiaddr);
	memcpy(bp + 28, fk->guest_mac, 6);
	w32(bp + 236, 0x63825363u);
	bp[240] = 53;
	bp[241] = 1;
	bp[242] = type;
	memcpy(bp + 243, opts, sizeof(opts));
	fake_reply(fk, f, 14 + 20 + udp_len);
}

/* Return option @code of a client DHCP message (NULL if absent). */
static const uint8_t *client_option(const uint8_t *bp, size_t len, uint8_t code)
{
	for (size_t i = 240; i + 2 < len && bp[i] != 255; ) {
		if (bp[i] == 0) {
			i++;
			continue;
		}
		if (bp[i] == code)
			return i + 2 + bp[i + 1] <= len ? bp + i + 2 : NULL;
		i += 2 + bp[i + 1];
	}
	return NULL;
}

static void fake_dhcp(struct fake *fk, const uint8_t *f, size_t len)
{
	const uint8_t *bp = f + 14 + 20 + 8;
	size_t bplen = len - (14 + 20 + 8);
	const uint8_t *type, *req;
	uint32_t xid;

	if (len < 14 + 20 + 8 + 240 || r16(f + 14 + 20 + 2) != 67 || bp[0] != 1)
		return;
	memcpy(fk->guest_mac, bp + 28, 6);
	xid = r32(bp + 4);
	type = client_option(bp, bplen, 53);
	req = client_option(bp, bplen, 50);
	if (type && *type == GP_DHCP_DISCOVER) {
		/* An offer of another transaction first: the probe must skip it. */
		fake_dhcp_reply(fk, xid + 1, GP_DHCP_OFFER, IP(10, 0, 2, 99));
		fake_dhcp_reply(fk, xid, GP_DHCP_OFFER, GUEST_IP);
	} else if (type && *type == GP_DHCP_REQUEST) {
		if (fk->mode == FAKE_NAK || !req || r32(req) != GUEST_IP)
			fake_dhcp_reply(fk, xid, GP_DHCP_NAK, 0);
		else
			fake_dhcp_reply(fk, xid, GP_DHCP_ACK, GUEST_IP);
		if (fk->mode == FAKE_ASK_ARP) {
			struct gp_arp a = { .op = GP_ARP_REQUEST, .spa = GW_IP, .tpa = GUEST_IP };

			memcpy(a.sha, gw_mac, 6);
			fake_send(fk, fk->tx, (size_t)gp_build_arp(fk->tx, sizeof(fk->tx), bcast, &a));
		}
	}
}

static void fake_arp(struct fake *fk, const struct gp_arp *req)
{
	struct gp_arp a = { .op = GP_ARP_REPLY, .spa = GW_IP, .tpa = req->spa };

	if (req->op == GP_ARP_REPLY && req->spa == GUEST_IP && req->tpa == GW_IP)
		fk->guest_answered_arp = true;
	if (req->op != GP_ARP_REQUEST || req->tpa != GW_IP || fk->mode == FAKE_NO_ARP)
		return;
	memcpy(a.sha, gw_mac, 6);
	memcpy(a.tha, req->sha, 6);
	fake_reply(fk, fk->tx, (size_t)gp_build_arp(fk->tx, sizeof(fk->tx), req->sha, &a));
}

static void fake_echo(struct fake *fk, const struct gp_frame *pf)
{
	struct gp_echo_msg m = {
		.type = GP_ICMP_ECHO_REPLY, .src_ip = GW_IP, .dst_ip = pf->ip.src,
		.id = pf->icmp.id, .seq = pf->icmp.seq,
		.data = pf->icmp.data, .data_len = pf->icmp.data_len,
	};

	if (pf->icmp.type != GP_ICMP_ECHO_REQUEST || pf->ip.dst != GW_IP ||
	    memcmp(pf->dst, gw_mac, 6))
		return;
	if (fk->mode == FAKE_ONE_ECHO && fk->echoes_answered >= 1)
		return;
	if (fk->mode == FAKE_ASK_ARP && !fk->guest_answered_arp)
		return;
	fk->echoes_answered++;
	memcpy(m.src_mac, gw_mac, 6);
	memcpy(m.dst_mac, pf->src, 6);
	fake_reply(fk, fk->tx, (size_t)gp_build_echo(fk->tx, sizeof(fk->tx), &m));
}

static void fake_rx(struct netbe *be, void *opaque)
{
	struct fake *fk = opaque;
	struct iovec iov = { .iov_base = fk->rx, .iov_len = sizeof(fk->rx) };
	struct gp_frame pf;
	ssize_t n;

	while ((n = netbe_recv(be, &iov, 1)) > 0) {
		int kind = gp_parse_frame(fk->rx, (size_t)n, &pf);

		if (kind == GP_KIND_ARP)
			fake_arp(fk, &pf.arp);
		else if (kind == GP_KIND_ICMP)
			fake_echo(fk, &pf);
		else if (kind == GP_KIND_OTHER && pf.ethertype == 0x0800 &&
			 pf.ip.proto == 17)
			fake_dhcp(fk, fk->rx, (size_t)n);
	}
}

static void *fake_main(void *opaque)
{
	struct fake *fk = opaque;

	while (!atomic_load(&fk->stop))
		netbe_epoll_dispatch(fk->ep, 20);
	return NULL;
}

static int fake_start(struct fake *fk, enum fake_mode mode)
{
	struct netbe_config cfg = { .rx_cb = fake_rx, .opaque = fk };

	memset(fk, 0, sizeof(*fk));
	fk->mode = mode;
	snprintf(fk->spec, sizeof(fk->spec), "pair:probe-%d-%u", (int)getpid(), ++pair_seq);
	if (netbe_epoll_new(&fk->ep) < 0)
		return -1;
	if (netbe_open(&fk->be, fk->spec, &cfg, netbe_epoll_loop(fk->ep)) < 0 ||
	    netbe_set_cap(fk->be, 0, 0) < 0) {
		netbe_close(fk->be);
		netbe_epoll_free(fk->ep);
		return -1;
	}
	netbe_rx_enable(fk->be);
	return pthread_create(&fk->thread, NULL, fake_main, fk) ? -1 : 0;
}

static void fake_stop(struct fake *fk)
{
	atomic_store(&fk->stop, 1);
	pthread_join(fk->thread, NULL);
	netbe_close(fk->be);
	netbe_epoll_free(fk->ep);
}

/* Run `netbe probe ARGS... SPEC` with stdout and stderr captured into @out;
 * returns the exit status, or -1 if the capture could not be set up. */
static int run_probe(const char *spec, const char *a1, const char *a2,
		     char *out, size_t outsz)
{
	char *argv[] = { "probe", "--timeout", "3", (char *)a1, (char *)a2, (char *)spec, NULL };
	char **args = argv;
	int argc = 6, saved_out, saved_err, rc;
	FILE *tmp = tmpfile();
	size_t n;

	if (!a1) {
		argv[3] = (char *)spec;
		argv[4] = NULL;
		argc = 4;
	}
	if (!tmp)
		return -1;
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(tmp), 1);
	dup2(fileno(tmp), 2);
	rc = netbe_cmd_probe(argc, args);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	rewind(tmp);
	n = fread(out, 1, outsz - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	for (const char *line = out; *line; ) {
		int len = (int)strcspn(line, "\n");

		printf("#   %.*s\n", len, line);
		line += len + (line[len] == '\n');
	}
	return rc;
}

/* Probe a fake network in @mode; returns the exit status, output in @out. */
static int probe_fake(enum fake_mode mode, const char *a1, const char *a2,
		      char *out, size_t outsz)
{
	static struct fake fk;
	int rc;

	if (fake_start(&fk, mode) < 0) {
		snprintf(out, outsz, "fake network did not start: %s", netbe_last_error());
		return -1;
	}
	rc = run_probe(fk.spec, a1, a2, out, outsz);
	fake_stop(&fk);
	return rc;
}

static int count_lines(const char *out, const char *prefix)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, prefix)); p++)
		n += p == out || p[-1] == '\n';
	return n;
}

static void test_good_network(void)
{
	char out[8192];

	CHECK_EQ(probe_fake(FAKE_GOOD, NULL, NULL, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "lease 10.0.2.15/24 gateway 10.0.2.2 dns 10.0.2.3 server 10.0.2.2 lease-time 3600s\n");
	CHECK_STR_CONTAINS(out, "gateway 10.0.2.2 is at 52:55:0a:00:02:02\n");
	CHECK_EQ(count_lines(out, "reply from 10.0.2.2: icmp_seq="), 3);
	CHECK_STR_CONTAINS(out, "icmp_seq=3 ttl=64 time=");
}

static void test_count_and_mac(void)
{
	char out[8192];

	CHECK_EQ(probe_fake(FAKE_GOOD, "--count=5", "--mac=52:54:00:ab:cd:ef", out, sizeof(out)), 0);
	CHECK_EQ(count_lines(out, "reply from 10.0.2.2: icmp_seq="), 5);
}

static void test_noise_ignored(void)
{
	char out[8192];

	CHECK_EQ(probe_fake(FAKE_NOISE, NULL, NULL, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "lease 10.0.2.15/24");
	CHECK_EQ(count_lines(out, "reply from 10.0.2.2: icmp_seq="), 3);
}

static void test_guest_answers_arp(void)
{
	char out[8192];

	CHECK_EQ(probe_fake(FAKE_ASK_ARP, NULL, NULL, out, sizeof(out)), 0);
	CHECK_EQ(count_lines(out, "reply from 10.0.2.2: icmp_seq="), 3);
}

static void test_no_arp_reply(void)
{
	char out[8192];

	CHECK_EQ(probe_fake(FAKE_NO_ARP, NULL, NULL, out, sizeof(out)), 1);
	CHECK_STR_CONTAINS(out, "lease 10.0.2.15/24");
	CHECK_STR_CONTAINS(out, "probe: no ARP reply from gateway 10.0.2.2 within");
}

static void test_missing_echo_replies(void)
{
	char out[8192];

	CHECK_EQ(probe_fake(FAKE_ONE_ECHO, NULL, NULL, out, sizeof(out)), 1);
	CHECK_STR_CONTAINS(out, "probe: 1 of 3 echo replies from gateway 10.0.2.2\n");
}

static void test_nak(void)
{
	char out[8192];

	CHECK_EQ(probe_fake(FAKE_NAK, NULL, NULL, out, sizeof(out)), 1);
	CHECK_STR_CONTAINS(out, "refused the request for 10.0.2.15 (NAK)");
}

static void test_no_server(void)
{
	char out[8192];
	char spec[48];

	snprintf(spec, sizeof(spec), "pair:probe-%d-nobody", (int)getpid());
	CHECK_EQ(run_probe(spec, "-t", "0.5", out, sizeof(out)), 1);
	CHECK_STR_CONTAINS(out, "probe: no DHCP offer within 0.5 s\n");
}

static void test_bad_spec(void)
{
	char out[8192];

	CHECK_EQ(run_probe("nosuchbackend", NULL, NULL, out, sizeof(out)), 1);
	CHECK_STR_CONTAINS(out, "nosuchbackend");
}

static void test_usage_errors(void)
{
	char out[8192];

	CHECK_EQ(run_probe("null", "--count", "0", out, sizeof(out)), 2);
	CHECK_STR_CONTAINS(out, "usage: netbe probe");
	CHECK_EQ(run_probe("null", "--count", "x", out, sizeof(out)), 2);
	CHECK_EQ(run_probe("null", "--timeout", "-1", out, sizeof(out)), 2);
	CHECK_EQ(run_probe("null", "--mac", "01:00:00:00:00:01", out, sizeof(out)), 2);
	CHECK_EQ(run_probe("null", "--bogus", "1", out, sizeof(out)), 2);
	CHECK_EQ(run_probe("null", "extra", "args", out, sizeof(out)), 2);
}

int main(void)
{
	RUN(test_good_network);
	RUN(test_count_and_mac);
	RUN(test_noise_ignored);
	RUN(test_guest_answers_arp);
	RUN(test_no_arp_reply);
	RUN(test_missing_echo_replies);
	RUN(test_nak);
	RUN(test_no_server);
	RUN(test_bad_spec);
	RUN(test_usage_errors);
	return harness_done();
}
