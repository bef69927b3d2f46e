/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * probe.c - `netbe probe SPEC`: a minimal guest on any backend.
 *
 * Theory of operation. The probe opens SPEC on the built-in epoll loop with
 * plain frames (no virtio-net header) and behaves like the smallest useful
 * guest: it gets a DHCP lease (DISCOVER, OFFER, REQUEST, ACK), resolves the
 * gateway with ARP and pings it. It uses only include/netbe.h, so it also
 * shows that a backend works for a real frontend.
 *
 * Each step is one call of run_step(): send the step's request, then
 * dispatch the loop in short slices, resending every retry interval, until
 * the step's condition holds or its deadline passes. A step's deadline is
 * its own cap or the end of the whole --timeout, whichever comes first.
 * Received frames arrive through the rx callback and are also drained after
 * every dispatch (so a backend whose callback is late still works); all of
 * them go through handle_frame(), which parses them with guestproto.c,
 * drops anything malformed or not addressed to us, and updates the state
 * the steps wait on. ARP requests for our leased address are answered at
 * any time after the ACK, because the far side may ask before replying.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "netbe.h"
#include "cli.h"
#include "guestproto.h"

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

#define PROBE_DEFAULT_COUNT 3
#define PROBE_MAX_COUNT 1000
#define PROBE_DEFAULT_TIMEOUT_S 10.0
#define PROBE_MAX_TIMEOUT_S 3600.0
#define PROBE_DEFAULT_MAC "52:54:00:12:34:56"

/* Step caps and retry intervals; every step also ends with --timeout. */
#define DHCP_STEP_NS (5 * NS_PER_S)
#define DHCP_RETRY_NS (2 * NS_PER_S)
#define ARP_STEP_NS (3 * NS_PER_S)
#define ARP_RETRY_NS (1 * NS_PER_S)
#define ECHO_WAIT_NS (1 * NS_PER_S)    /* before the next echo request */
#define ECHO_DATA_LEN 56
#define POLL_SLICE_MS 50
#define RX_BURST 256                   /* frames handled per drain */
#define FRAME_BUF_LEN (65535 + 14 + 4) /* largest frame a backend carries */

enum dhcp_state { DHCP_WANT_OFFER, DHCP_WANT_ACK, DHCP_BOUND };

struct probe_opts {
	unsigned count;
	double timeout_s;
	uint8_t mac[GP_ETH_ALEN];
	const char *spec;
};

struct probe {
	struct probe_opts opt;
	struct netbe_epoll *ep;
	struct netbe *be;
	uint64_t start_ns, deadline_ns;
	int io_err;                        /* first send/recv failure */
	const char *io_what;

	uint32_t xid;
	enum dhcp_state dhcp;
	bool nak;
	struct gp_dhcp_reply offer, ack;
	uint32_t server, my_ip, target;    /* target: the gateway we ping */
	const char *target_name;           /* "gateway", or "server" */

	bool have_target_mac;
	uint8_t target_mac[GP_ETH_ALEN];

	uint16_t icmp_id, ip_id;
	unsigned sent, replies;
	uint64_t sent_ns[PROBE_MAX_COUNT + 1];
	bool answered[PROBE_MAX_COUNT + 1];

	uint8_t rx_buf[FRAME_BUF_LEN];
};

static const uint8_t eth_broadcast[GP_ETH_ALEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

/** now_ns() - Return: CLOCK_MONOTONIC in nanoseconds. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/** min_u64() - Return: the smaller of @a and @b. */
static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/** random_u32() - Return: a random number, from getrandom() or, failing
 * that, from the clock and the pid (xids need not be secret). */
static uint32_t random_u32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	return (uint32_t)now_ns() ^ ((uint32_t)getpid() << 16);
}

#define PROBE_USAGE "usage: netbe probe [--count N] [--timeout SECONDS] [--mac MAC] SPEC\n"

/** bad_usage() - print the short usage after an argument error.
 * Return: 2, the exit status of a usage error. */
static int bad_usage(void)
{
	fprintf(stderr, PROBE_USAGE "(netbe probe --help explains the options)\n");
	return 2;
}

/** help() - print the full usage to stdout. Return: 0, for the exit. */
static int help(void)
{
	printf(PROBE_USAGE
		"Act as a minimal guest on backend SPEC: get a DHCP lease, resolve\n"
		"the gateway with ARP and ping it.\n"
		"  -c, --count N          echo requests to send (1-%d, default %d)\n"
		"  -t, --timeout SECONDS  bound for the whole probe (default %g)\n"
		"  -m, --mac MAC          guest MAC address (default %s)\n",
		PROBE_MAX_COUNT, PROBE_DEFAULT_COUNT, PROBE_DEFAULT_TIMEOUT_S,
		PROBE_DEFAULT_MAC);
	return 0;
}

/** parse_count() - Return: 0 and *@count set, or -EINVAL. */
static int parse_count(const char *s, unsigned *count)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 ||
	    v > PROBE_MAX_COUNT)
		return -EINVAL;
	*count = (unsigned)v;
	return 0;
}

/** parse_timeout() - Return: 0 and *@t set, or -EINVAL. */
static int parse_timeout(const char *s, double *t)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0 && v <= PROBE_MAX_TIMEOUT_S))
		return -EINVAL;
	*t = v;
	return 0;
}

/** parse_args() - fill @o from the command line.
 * Return: -1 to go on, or the exit status to return now (after --help: 0;
 * after a bad argument: 2, usage printed). */
static int parse_args(int argc, char **argv, struct probe_opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "mac", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->count = PROBE_DEFAULT_COUNT;
	o->timeout_s = PROBE_DEFAULT_TIMEOUT_S;
	gp_parse_mac(PROBE_DEFAULT_MAC, o->mac);
	optind = 0;                        /* full getopt reset (glibc, musl) */
	while ((c = getopt_long(argc, argv, "c:t:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_count(optarg, &o->count) < 0) {
				fprintf(stderr, "probe: --count must be 1-%d, not '%s'\n",
					PROBE_MAX_COUNT, optarg);
				return bad_usage();
			}
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout_s) < 0) {
				fprintf(stderr, "probe: --timeout must be seconds in (0, %g], not '%s'\n",
					PROBE_MAX_TIMEOUT_S, optarg);
				return bad_usage();
			}
			break;
		case 'm':
			if (gp_parse_mac(optarg, o->mac) < 0) {
				fprintf(stderr, "probe: --mac must be a unicast address like %s, not '%s'\n",
					PROBE_DEFAULT_MAC, optarg);
				return bad_usage();
			}
			break;
		case 'h':
			return help();
		default:
			return bad_usage();
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "probe: expected exactly one SPEC\n");
		return bad_usage();
	}
	o->spec = argv[optind];
	return -1;
}

/** note_io_error() - remember the first failure of the data path. */
static void note_io_error(struct probe *p, int err, const char *what)
{
	if (!p->io_err) {
		p->io_err = err;
		p->io_what = what;
	}
}

/**
 * send_frame() - send one frame. A full backend (-EAGAIN) counts as a lost
 * frame, which the step's retry covers.
 * Return: 0, or the negative errno of a hard failure (also recorded).
 */
static int send_frame(struct probe *p, const uint8_t *frame, ssize_t len)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = (size_t)len };
	ssize_t ret;

	if (len < 0) {
		note_io_error(p, (int)len, "build a frame");
		return (int)len;
	}
	ret = netbe_send(p->be, &iov, 1);
	if (ret >= 0 || ret == -EAGAIN)
		return 0;
	note_io_error(p, (int)ret, "send");
	return (int)ret;
}

/** is_host_ip() - Return: whether @ip can be a unicast host address. */
static bool is_host_ip(uint32_t ip)
{
	return ip != 0 && ip >> 24 != 127 && ip < 0xe0000000u;
}

/** elapsed_secs() - Return: whole seconds since the probe started, for
 * the DHCP secs field. */
static uint16_t elapsed_secs(const struct probe *p)
{
	uint64_t s = (now_ns() - p->start_ns) / NS_PER_S;

	return s > 0xffff ? 0xffff : (uint16_t)s;
}

/** send_discover() - Return: 0 or a negative errno. */
static int send_discover(struct probe *p)
{
	struct gp_dhcp_msg m = {
		.type = GP_DHCP_DISCOVER,
		.xid = p->xid,
		.secs = elapsed_secs(p),
	};
	uint8_t frame[GP_DHCP_FRAME_LEN];

	memcpy(m.mac, p->opt.mac, GP_ETH_ALEN);
	return send_frame(p, frame, gp_build_dhcp(frame, sizeof(frame), &m));
}

/** send_request() - request the offered address. Return: 0 or -errno. */
static int send_request(struct probe *p)
{
	struct gp_dhcp_msg m = {
		.type = GP_DHCP_REQUEST,
		.xid = p->xid,
		.secs = elapsed_secs(p),
		.requested_ip = p->offer.yiaddr,
		.server_id = p->server,
	};
	uint8_t frame[GP_DHCP_FRAME_LEN];

	memcpy(m.mac, p->opt.mac, GP_ETH_ALEN);
	return send_frame(p, frame, gp_build_dhcp(frame, sizeof(frame), &m));
}

/** send_arp() - send an ARP packet from our leased address.
 * Return: 0 or a negative errno. */
static int send_arp(struct probe *p, uint16_t op, const uint8_t eth_dst[GP_ETH_ALEN],
		    const uint8_t tha[GP_ETH_ALEN], uint32_t tpa)
{
	struct gp_arp a = { .op = op, .spa = p->my_ip, .tpa = tpa };
	uint8_t frame[GP_ETH_ZLEN];

	memcpy(a.sha, p->opt.mac, GP_ETH_ALEN);
	memcpy(a.tha, tha, GP_ETH_ALEN);
	return send_frame(p, frame, gp_build_arp(frame, sizeof(frame), eth_dst, &a));
}

/** send_arp_request() - ask who has the target. Return: 0 or -errno. */
static int send_arp_request(struct probe *p)
{
	static const uint8_t unknown[GP_ETH_ALEN];

	return send_arp(p, GP_ARP_REQUEST, eth_broadcast, unknown, p->target);
}

/** send_echo() - send the next echo request. Return: 0 or -errno. */
static int send_echo(struct probe *p)
{
	uint8_t data[ECHO_DATA_LEN];
	uint8_t frame[GP_ETH_HLEN + GP_IPV4_HLEN + GP_ICMP_HLEN + ECHO_DATA_LEN];
	struct gp_echo_msg m = {
		.type = GP_ICMP_ECHO_REQUEST,
		.src_ip = p->my_ip,
		.dst_ip = p->target,
		.ip_id = p->ip_id++,
		.id = p->icmp_id,
		.seq = (uint16_t)(p->sent + 1),
		.data = data,
		.data_len = sizeof(data),
	};

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	memcpy(m.src_mac, p->opt.mac, GP_ETH_ALEN);
	memcpy(m.dst_mac, p->target_mac, GP_ETH_ALEN);
	p->sent++;
	p->sent_ns[p->sent] = now_ns();
	return send_frame(p, frame, gp_build_echo(frame, sizeof(frame), &m));
}

/** lease_field() - Return: the ACK if it carries the option @have bit,
 * else the OFFER (which may not carry it either). */
static const struct gp_dhcp_reply *lease_field(const struct probe *p, unsigned have)
{
	return (p->ack.have & have) ? &p->ack : &p->offer;
}

/** choose_target() - ping the router of the lease, or the DHCP server
 * when the lease names no usable router. */
static void choose_target(struct probe *p)
{
	const struct gp_dhcp_reply *r = lease_field(p, GP_HAVE_ROUTER);

	if ((r->have & GP_HAVE_ROUTER) && is_host_ip(r->router)) {
		p->target = r->router;
		p->target_name = "gateway";
	} else {
		p->target = p->server;
		p->target_name = "server";
	}
}

/** handle_dhcp() - take an OFFER, ACK or NAK of our transaction. */
static void handle_dhcp(struct probe *p, const struct gp_frame *f)
{
	const struct gp_dhcp_reply *r = &f->dhcp;

	if (r->xid != p->xid || memcmp(r->chaddr, p->opt.mac, GP_ETH_ALEN))
		return;
	if (p->dhcp == DHCP_WANT_OFFER && r->type == GP_DHCP_OFFER &&
	    is_host_ip(r->yiaddr)) {
		p->offer = *r;
		p->server = (r->have & GP_HAVE_SERVER_ID) ? r->server_id : f->ip.src;
		p->dhcp = DHCP_WANT_ACK;
	} else if (p->dhcp == DHCP_WANT_ACK && r->type == GP_DHCP_ACK &&
		   is_host_ip(r->yiaddr)) {
		p->ack = *r;
		p->my_ip = r->yiaddr;
		choose_target(p);
		p->dhcp = DHCP_BOUND;
	} else if (p->dhcp == DHCP_WANT_ACK && r->type == GP_DHCP_NAK) {
		p->nak = true;
	}
}

/** handle_arp() - learn the target's MAC, answer who-has for our address. */
static void handle_arp(struct probe *p, const struct gp_arp *a)
{
	static const uint8_t zero[GP_ETH_ALEN];

	if (p->dhcp != DHCP_BOUND || (a->sha[0] & 1) ||
	    !memcmp(a->sha, zero, GP_ETH_ALEN))
		return;
	if (a->spa == p->target && is_host_ip(a->spa) && !p->have_target_mac) {
		memcpy(p->target_mac, a->sha, GP_ETH_ALEN);
		p->have_target_mac = true;
	}
	if (a->op == GP_ARP_REQUEST && a->tpa == p->my_ip && a->spa != p->my_ip)
		send_arp(p, GP_ARP_REPLY, a->sha, a->sha, a->spa);
}

/** handle_icmp() - count and print an echo reply to one of our requests. */
static void handle_icmp(struct probe *p, const struct gp_frame *f)
{
	const struct gp_icmp *icmp = &f->icmp;
	char ip[16];
	double ms;

	if (icmp->type != GP_ICMP_ECHO_REPLY || icmp->id != p->icmp_id ||
	    p->dhcp != DHCP_BOUND || f->ip.dst != p->my_ip ||
	    f->ip.src != p->target || icmp->seq < 1 || icmp->seq > p->sent ||
	    p->answered[icmp->seq])
		return;
	p->answered[icmp->seq] = true;
	p->replies++;
	ms = (double)(now_ns() - p->sent_ns[icmp->seq]) / NS_PER_MS;
	printf("reply from %s: icmp_seq=%u ttl=%u time=%.3f ms\n",
	       gp_format_ip(f->ip.src, ip), icmp->seq, f->ip.ttl, ms);
	fflush(stdout);
}

/** handle_frame() - parse one received frame and act on it; malformed
 * frames and frames for other stations are ignored. */
static void handle_frame(struct probe *p, const uint8_t *frame, size_t len)
{
	struct gp_frame f;
	int kind = gp_parse_frame(frame, len, &f);

	if (kind <= 0)
		return;
	if (memcmp(f.dst, p->opt.mac, GP_ETH_ALEN) &&
	    memcmp(f.dst, eth_broadcast, GP_ETH_ALEN))
		return;
	switch (kind) {
	case GP_KIND_DHCP:
		handle_dhcp(p, &f);
		break;
	case GP_KIND_ARP:
		handle_arp(p, &f.arp);
		break;
	case GP_KIND_ICMP:
		handle_icmp(p, &f);
		break;
	}
}

/** drain_rx() - receive and handle pending frames (at most RX_BURST). */
static void drain_rx(struct probe *p)
{
	for (int i = 0; i < RX_BURST; i++) {
		struct iovec iov = { .iov_base = p->rx_buf, .iov_len = sizeof(p->rx_buf) };
		ssize_t n = netbe_recv(p->be, &iov, 1);

		if (n == 0 || n == -EAGAIN || n == -EINTR)
			return;
		if (n == -EMSGSIZE) {
			netbe_rx_discard(p->be);
			continue;
		}
		if (n < 0) {
			note_io_error(p, (int)n, "receive");
			return;
		}
		handle_frame(p, p->rx_buf, (size_t)n);
	}
}

/** on_rx() - the backend's receive callback. */
static void on_rx(struct netbe *be, void *opaque)
{
	(void)be;
	drain_rx(opaque);
}

/** dispatch_until() - run the loop once, waiting at most until @until_ns
 * (and at most one slice), then drain the receive queue.
 * Return: 0, or a negative errno of the loop or the data path. */
static int dispatch_until(struct probe *p, uint64_t until_ns)
{
	uint64_t now = now_ns();
	uint64_t wait_ms = until_ns > now ? (until_ns - now + NS_PER_MS - 1) / NS_PER_MS : 0;
	int ret;

	ret = netbe_epoll_dispatch(p->ep, (int)min_u64(wait_ms, POLL_SLICE_MS));
	if (ret < 0 && ret != -EINTR) {
		note_io_error(p, ret, "run the event loop");
		return ret;
	}
	drain_rx(p);
	return p->io_err;
}

/** step_deadline() - Return: when a step capped at @cap_ns that starts
 * now must end. */
static uint64_t step_deadline(const struct probe *p, uint64_t cap_ns)
{
	return min_u64(now_ns() + cap_ns, p->deadline_ns);
}

/**
 * run_step() - send with @send every @retry_ns until @done holds or
 * @deadline passes.
 * Return: 0 when done, -ETIMEDOUT, or the negative errno of an I/O failure.
 */
static int run_step(struct probe *p, uint64_t deadline, uint64_t retry_ns,
		    int (*send)(struct probe *), bool (*done)(const struct probe *))
{
	uint64_t next_send = 0;

	for (;;) {
		uint64_t now = now_ns();
		int ret;

		if (done(p))
			return 0;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= next_send) {
			ret = send(p);
			if (ret < 0)
				return ret;
			next_send = now + retry_ns;
		}
		ret = dispatch_until(p, min_u64(next_send, deadline));
		if (ret < 0)
			return ret;
	}
}

/** got_offer() - Return: whether an OFFER was taken. */
static bool got_offer(const struct probe *p)
{
	return p->dhcp != DHCP_WANT_OFFER;
}

/** got_ack() - Return: whether an ACK or a NAK arrived. */
static bool got_ack(const struct probe *p)
{
	return p->dhcp == DHCP_BOUND || p->nak;
}

/** got_target_mac() - Return: whether the target's MAC is known. */
static bool got_target_mac(const struct probe *p)
{
	return p->have_target_mac;
}

/** secs_between() - Return: @to - @from in seconds, 0 if @to is earlier
 * (a step that started after the whole --timeout had passed). */
static double secs_between(uint64_t from, uint64_t to)
{
	return to > from ? (double)(to - from) / NS_PER_S : 0;
}

/** report_io_error() - print why the data path failed. Return: 1. */
static int report_io_error(const struct probe *p)
{
	fprintf(stderr, "probe: cannot %s on %s: %s\n", p->io_what,
		p->opt.spec, strerror(-p->io_err));
	return 1;
}

/** print_lease() - print the lease, taking from the OFFER what the ACK
 * leaves out. */
static void print_lease(const struct probe *p)
{
	const struct gp_dhcp_reply *mask = lease_field(p, GP_HAVE_MASK);
	const struct gp_dhcp_reply *dns = lease_field(p, GP_HAVE_DNS);
	const struct gp_dhcp_reply *lease = lease_field(p, GP_HAVE_LEASE);
	char ip[16];
	int prefix;

	printf("lease %s", gp_format_ip(p->my_ip, ip));
	if (mask->have & GP_HAVE_MASK) {
		prefix = gp_mask_prefix(mask->mask);
		if (prefix >= 0)
			printf("/%d", prefix);
		else
			printf("/%s", gp_format_ip(mask->mask, ip));
	}
	if (!strcmp(p->target_name, "gateway"))
		printf(" gateway %s", gp_format_ip(p->target, ip));
	if (dns->have & GP_HAVE_DNS)
		printf(" dns %s", gp_format_ip(dns->dns, ip));
	printf(" server %s", gp_format_ip(p->server, ip));
	if (lease->have & GP_HAVE_LEASE)
		printf(" lease-time %us", lease->lease_time);
	printf("\n");
	fflush(stdout);
}

/** get_lease() - DHCP DISCOVER/OFFER/REQUEST/ACK. Return: 0 or 1. */
static int get_lease(struct probe *p)
{
	uint64_t start = now_ns(), deadline = step_deadline(p, DHCP_STEP_NS);
	char ip[16], ip2[16];
	int ret;

	ret = run_step(p, deadline, DHCP_RETRY_NS, send_discover, got_offer);
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "probe: no DHCP offer within %.1f s\n",
			secs_between(start, deadline));
		return 1;
	}
	if (ret < 0)
		return report_io_error(p);
	start = now_ns();
	deadline = step_deadline(p, DHCP_STEP_NS);
	ret = run_step(p, deadline, DHCP_RETRY_NS, send_request, got_ack);
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "probe: no DHCP ack from %s within %.1f s\n",
			gp_format_ip(p->server, ip), secs_between(start, deadline));
		return 1;
	}
	if (ret < 0)
		return report_io_error(p);
	if (p->dhcp != DHCP_BOUND) {
		fprintf(stderr, "probe: DHCP server %s refused the request for %s (NAK)\n",
			gp_format_ip(p->server, ip), gp_format_ip(p->offer.yiaddr, ip2));
		return 1;
	}
	print_lease(p);
	return 0;
}

/** resolve_target() - ARP for the gateway. Return: 0 or 1. */
static int resolve_target(struct probe *p)
{
	uint64_t start = now_ns(), deadline = step_deadline(p, ARP_STEP_NS);
	char ip[16], mac[18];
	int ret;

	ret = run_step(p, deadline, ARP_RETRY_NS, send_arp_request, got_target_mac);
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "probe: no ARP reply from %s %s within %.1f s\n",
			p->target_name, gp_format_ip(p->target, ip),
			secs_between(start, deadline));
		return 1;
	}
	if (ret < 0)
		return report_io_error(p);
	printf("%s %s is at %s\n", p->target_name, gp_format_ip(p->target, ip),
	       gp_format_mac(p->target_mac, mac));
	fflush(stdout);
	return 0;
}

/**
 * ping_target() - send --count echo requests, the next one as soon as all
 * earlier ones are answered or ECHO_WAIT_NS after the previous one, and wait
 * ECHO_WAIT_NS for the last. Return: 0 when every one was answered, else 1.
 */
static int ping_target(struct probe *p)
{
	uint64_t next_send = 0;
	char ip[16];

	while (p->replies < p->opt.count) {
		uint64_t now = now_ns();

		if (now >= p->deadline_ns)
			break;
		if (p->sent < p->opt.count &&
		    (now >= next_send || p->replies == p->sent)) {
			if (send_echo(p) < 0)
				return report_io_error(p);
			next_send = now + ECHO_WAIT_NS;
		} else if (p->sent == p->opt.count && now >= next_send) {
			break;
		}
		if (dispatch_until(p, min_u64(next_send, p->deadline_ns)) < 0)
			return report_io_error(p);
	}
	if (p->replies == p->opt.count)
		return 0;
	fprintf(stderr, "probe: %u of %u echo replies from %s %s\n", p->replies,
		p->opt.count, p->target_name, gp_format_ip(p->target, ip));
	return 1;
}

/** open_backend() - create the loop and open the spec with plain frames.
 * Return: 0, or 1 after saying why (the library logs its own errors). */
static int open_backend(struct probe *p)
{
	struct netbe_config cfg = { .rx_cb = on_rx, .opaque = p };
	int ret;

	ret = netbe_epoll_new(&p->ep);
	if (ret < 0) {
		fprintf(stderr, "probe: cannot create an event loop: %s\n", strerror(-ret));
		return 1;
	}
	ret = netbe_open(&p->be, p->opt.spec, &cfg, netbe_epoll_loop(p->ep));
	if (ret >= 0)
		ret = netbe_set_cap(p->be, 0, 0);
	if (ret < 0) {
		if (!netbe_last_error()[0])
			fprintf(stderr, "probe: cannot open '%s': %s\n",
				p->opt.spec, strerror(-ret));
		return 1;
	}
	netbe_rx_enable(p->be);
	return 0;
}

/** run_probe() - the three steps in order. Return: the exit status. */
static int run_probe(struct probe *p)
{
	p->start_ns = now_ns();
	p->deadline_ns = p->start_ns + (uint64_t)(p->opt.timeout_s * NS_PER_S);
	p->xid = random_u32();
	p->icmp_id = (uint16_t)random_u32();
	p->ip_id = (uint16_t)random_u32();
	if (open_backend(p))
		return 1;
	if (get_lease(p) || resolve_target(p) || ping_target(p))
		return 1;
	return 0;
}

int netbe_cmd_probe(int argc, char **argv)
{
	struct probe *p = calloc(1, sizeof(*p));
	int status;

	if (!p) {
		fprintf(stderr, "probe: out of memory\n");
		return 1;
	}
	status = parse_args(argc, argv, &p->opt);
	if (status < 0)
		status = run_probe(p);
	netbe_close(p->be);
	netbe_epoll_free(p->ep);
	free(p);
	return status;
}
