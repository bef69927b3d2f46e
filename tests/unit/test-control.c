/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-control.c - the control socket over its unix socket, on the epoll
 * loop, with pair and slirp handles attached: every command and its
 * errors, malformed requests (the connection lives on), two clients at
 * once, pipelined requests, an oversized line (error, then closed), the
 * slirp4netns way of asking (no newline, shutdown(SHUT_WR)), the client
 * limit, and the argument checks of the public calls. Host forwards listen on loopback
 * only. Waits are bounded in loop rounds; nothing asserts timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "harness.h"
#include "json.h"
#include "netbe.h"

#define ROUNDS 500
#define BUF_MAX 65536

struct client {
	int fd;
	char buf[BUF_MAX];
	size_t len;
};

static struct netbe_epoll *ep;
static char sock_path[108];

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* Return: a connected, non-blocking client of the control socket, fd -1
 * on failure. */
static void client_connect(struct client *c)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	c->len = 0;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd >= 0 && connect(c->fd, (struct sockaddr *)&a, sizeof(a))) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->fd >= 0)
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
}

/* Send @text as it is. Return: whether all of it went. */
static bool client_send(struct client *c, const char *text)
{
	size_t n = strlen(text), off = 0;
	unsigned r;

	for (r = 0; off < n && r < ROUNDS; r++) {
		ssize_t w = send(c->fd, text + off, n - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else
			netbe_epoll_dispatch(ep, 10);
	}
	return off == n;
}

/* Dispatch the loop until @c has a whole line (copied to @out, newline
 * dropped) or the connection ends. Return: true for a line. */
static bool client_line(struct client *c, char *out, size_t size)
{
	unsigned r;

	for (r = 0; r < ROUNDS; r++) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			snprintf(out, size, "%.*s", (int)l, c->buf);
			c->len -= l + 1;
			memmove(c->buf, nl + 1, c->len);
			return true;
		}
		netbe_epoll_dispatch(ep, 10);
		n = recv(c->fd, c->buf + c->len, BUF_MAX - c->len, MSG_DONTWAIT);
		if (n == 0)
			return false;
		if (n > 0)
			c->len += (size_t)n;
	}
	return false;
}

/* Dispatch until @c's connection ends. Return: true when it did. */
static bool client_eof(struct client *c)
{
	unsigned r;
	char b[256];

	for (r = 0; r < ROUNDS; r++) {
		ssize_t n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);

		if (n == 0)
			return true;
		if (n < 0 && errno != EAGAIN)
			return true;
		netbe_epoll_dispatch(ep, 10);
	}
	return false;
}

/* Send @req (a newline is added) and wait for the reply in @out, which
 * must be one JSON object. Return: whether a valid reply came. */
static bool ask(struct client *c, const char *req, char *out, size_t size)
{
	char line[BUF_MAX];
	struct json_doc d;
	char why[128];
	bool ok;

	snprintf(line, sizeof(line), "%s\n", req);
	if (!client_send(c, line) || !client_line(c, out, size))
		return false;
	ok = json_parse(&d, out, strlen(out), why, sizeof(why)) == 0 &&
	     d.root->type == JSON_OBJECT && d.root->count == 1 &&
	     (json_member(d.root, "return") || json_member(d.root, "error"));
	json_free(&d);
	if (!ok)
		printf("# not a reply: %s\n", out);
	return ok;
}

/* Return: a TCP port on 127.0.0.1 that was free just now. */
static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint16_t port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Return: whether a TCP connect to @addr:@port gets through. */
static bool can_connect(const char *addr, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	bool v6 = strchr(addr, ':') != NULL;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return false;
	if (v6) {
		inet_pton(AF_INET6, addr, &a6.sin6_addr);
		ret = connect(fd, (struct sockaddr *)&a6, sizeof(a6));
	} else {
		inet_pton(AF_INET, addr, &a4.sin_addr);
		ret = connect(fd, (struct sockaddr *)&a4, sizeof(a4));
	}
	close(fd);
	return ret == 0;
}

struct setup {
	struct netbe_control *ctl;
	struct netbe *a, *b, *s;
};

/* Open the control socket and pair ends "a", "b" and a slirp "s",
 * attached in that order. Return: 0 or -1. */
static int setup_open(struct setup *st, bool attach)
{
	const struct netbe_loop *l = netbe_epoll_loop(ep);

	memset(st, 0, sizeof(*st));
	if (netbe_control_open(&st->ctl, sock_path, l) ||
	    netbe_open(&st->a, "pair:ctl", NULL, l) ||
	    netbe_open(&st->b, "pair:ctl", NULL, l) ||
	    netbe_open(&st->s, "slirp", NULL, l))
		return -1;
	if (attach && (netbe_control_attach(st->ctl, "a", st->a) ||
		       netbe_control_attach(st->ctl, "b", st->b) ||
		       netbe_control_attach(st->ctl, "s", st->s)))
		return -1;
	return 0;
}

static void setup_close(struct setup *st)
{
	netbe_control_close(st->ctl);
	netbe_close(st->a);
	netbe_close(st->b);
	netbe_close(st->s);
}

static void test_list_and_stats(void)
{
	struct setup st;
	struct client c;
	char r[BUF_MAX], last[64];

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	CHECK(c.fd >= 0);
	CHECK(ask(&c, "{\"execute\": \"list\"}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"handles\": [{\"name\": \"a\", \"backend\": \"pair\", \"link\": \"up\"}, "
		      "{\"name\": \"b\", \"backend\": \"pair\", \"link\": \"up\"}, "
		      "{\"name\": \"s\", \"backend\": \"slirp\", \"link\": \"up\"}]}}"));
	CHECK(ask(&c, "{\"execute\": \"stats\", \"arguments\": {\"handle\": \"s\"}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"return\": {\"handle\": \"s\", \"backend\": \"slirp\", \"tx_frames\": 0,");
	CHECK_STR_CONTAINS(r, "\"drops\": {\"tx_bad_hdr\": 0,");
	snprintf(last, sizeof(last), "\"%s\": 0}", netbe_drop_reason_name(NETBE_DROP__MAX - 1));
	CHECK_STR_CONTAINS(r, "\"tx_fragment\": 0,");
	CHECK_STR_CONTAINS(r, last);        /* every reason, the last one closing */
	CHECK(ask(&c, "{\"execute\": \"stats\"}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "\"handle\": \"a\"");
	CHECK(ask(&c, "{\"execute\": \"stats\", \"arguments\": {\"handle\": \"zz\"}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"error\": {\"desc\": \"bad request: stats: no handle named 'zz'");
	CHECK_EQ(netbe_control_detach(st.ctl, st.a), 0);
	CHECK(ask(&c, "{\"execute\": \"list\"}", r, sizeof(r)));
	CHECK(strstr(r, "\"a\"") == NULL);
	close(c.fd);
	setup_close(&st);
}

/* set_link/get_link: the operator's side of a handle's link. */
static void test_set_link(void)
{
	struct setup st;
	struct client c;
	char r[BUF_MAX];

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	CHECK(ask(&c, "{\"execute\": \"set_link\", \"arguments\": {\"handle\": \"b\", \"up\": false}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {}}"));
	CHECK_EQ(netbe_get_link_admin(st.b), 0);
	CHECK_EQ(netbe_link_is_up(st.b), 0);
	CHECK_EQ(netbe_get_link_admin(st.a), 1);
	CHECK(ask(&c, "{\"execute\": \"get_link\", \"arguments\": {\"handle\": \"b\"}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"admin\": false, \"up\": false}}"));
	CHECK(ask(&c, "{\"execute\": \"list\"}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"name\": \"b\", \"backend\": \"pair\", \"link\": \"down\"}");
	CHECK(ask(&c, "{\"execute\": \"set_link\", \"arguments\": {\"handle\": \"b\", \"up\": true}}", r, sizeof(r)));
	CHECK_EQ(netbe_get_link_admin(st.b), 1);
	CHECK(ask(&c, "{\"execute\": \"set_link\", \"arguments\": {\"up\": 1}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"error\": {\"desc\": \"bad request: set_link: bad arguments.up: true or false");
	CHECK(ask(&c, "{\"execute\": \"set_link\", \"arguments\": {\"handle\": \"zz\", \"up\": true}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "no handle named 'zz'");
	close(c.fd);
	setup_close(&st);
}

/* Send @n broadcast frames from @be. Return: how many it took. */
static int send_some(struct netbe *be, int n)
{
	uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	struct iovec iov = { f, sizeof(f) };
	int i, ok = 0;

	for (i = 0; i < n; i++)
		ok += netbe_send(be, &iov, 1) == (ssize_t)sizeof(f);
	return ok;
}

/* set_faults/get_faults and capture_start/capture_stop. */
static void test_faults_and_capture(void)
{
	char path[] = "/tmp/netbe-test-control-XXXXXX", req[256], r[BUF_MAX];
	struct netbe_stats st_a;
	struct setup st;
	struct client c;
	int fd = mkstemp(path);

	if (fd < 0 || setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	snprintf(req, sizeof(req), "{\"execute\": \"capture_start\", \"arguments\": {\"handle\": \"a\", \"path\": \"%s\"}}", path);
	CHECK(ask(&c, req, r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {}}"));
	CHECK_EQ(send_some(st.a, 3), 3);
	CHECK(ask(&c, "{\"execute\": \"capture_stop\", \"arguments\": {\"handle\": \"a\"}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"frames\": 3, \"bytes\": 180, \"truncated\": 0, \"write_errors\": 0}}"));
	CHECK(ask(&c, "{\"execute\": \"set_faults\", \"arguments\": {\"handle\": \"a\", \"direction\": \"tx\", \"loss_ppm\": 1000000, \"seed\": 7}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {}}"));
	CHECK_EQ(send_some(st.a, 2), 2);
	CHECK(netbe_get_stats(st.a, &st_a) == 0 && st_a.drops[NETBE_DROP_TX_FAULT_LOSS] == 2);
	CHECK(ask(&c, "{\"execute\": \"get_faults\", \"arguments\": {\"handle\": \"a\", \"direction\": \"tx\"}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"loss_ppm\": 1000000, \"delay_ms\": 0, \"jitter_ms\": 0, \"reorder_ppm\": 0, \"dup_ppm\": 0, \"corrupt_ppm\": 0, \"seed\": 7}}"));
	CHECK(ask(&c, "{\"execute\": \"set_faults\", \"arguments\": {\"handle\": \"a\", \"direction\": \"tx\"}}", r, sizeof(r)));
	CHECK_EQ(send_some(st.a, 1), 1);
	CHECK(netbe_get_stats(st.a, &st_a) == 0 && st_a.drops[NETBE_DROP_TX_FAULT_LOSS] == 2);
	CHECK(ask(&c, "{\"execute\": \"set_faults\", \"arguments\": {\"direction\": \"up\"}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "bad request: set_faults: bad arguments.direction");
	CHECK(ask(&c, "{\"execute\": \"set_faults\", \"arguments\": {\"direction\": \"rx\", \"loss_ppm\": 1000001}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "bad request: set_faults: bad arguments.loss_ppm: 0 to 1000000");
	CHECK(ask(&c, "{\"execute\": \"capture_start\", \"arguments\": {\"handle\": \"a\"}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "bad request: capture_start: bad arguments.path");
	snprintf(req, sizeof(req), "{\"execute\": \"capture_start\", \"arguments\": {\"path\": \"%s\", \"format\": \"cap\"}}", path);
	CHECK(ask(&c, req, r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "bad request: capture_start: bad arguments.format");
	close(c.fd);
	setup_close(&st);
	close(fd);
	unlink(path);
}

/* set_rate_limit/get_rate_limit, and the throttle counters in stats. */
static void test_rate_limit(void)
{
	struct setup st;
	struct client c;
	char r[BUF_MAX];
	int sent;

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	CHECK(ask(&c, "{\"execute\": \"set_rate_limit\", \"arguments\": {\"handle\": \"a\", \"direction\": \"tx\", "
		  "\"ops\": {\"size\": 2, \"refill_ms\": 60000}}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {}}"));
	sent = send_some(st.a, 3);
	CHECK_EQ(sent, 2);                       /* the third waits for tokens */
	CHECK(ask(&c, "{\"execute\": \"get_rate_limit\", \"arguments\": {\"handle\": \"a\", \"direction\": \"tx\"}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"bytes\": {\"size\": 0, \"refill_ms\": 0, \"one_time_burst\": 0}, "
		      "\"ops\": {\"size\": 2, \"refill_ms\": 60000, \"one_time_burst\": 0}}}"));
	CHECK(ask(&c, "{\"execute\": \"stats\", \"arguments\": {\"handle\": \"a\"}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "\"tx_throttled\": 1,");
	CHECK(ask(&c, "{\"execute\": \"set_rate_limit\", \"arguments\": {\"handle\": \"a\", \"direction\": \"tx\"}}", r, sizeof(r)));
	CHECK_EQ(send_some(st.a, 3), 3);         /* no limit any more */
	CHECK(ask(&c, "{\"execute\": \"set_rate_limit\", \"arguments\": {\"direction\": \"tx\", \"bytes\": 5}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "bad request: set_rate_limit: bad arguments.bytes");
	CHECK(ask(&c, "{\"execute\": \"set_rate_limit\", \"arguments\": {\"direction\": \"tx\", \"bytes\": {\"size\": 100, \"refill_ms\": 0}}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"error\": {\"desc\": \"bad request: set_rate_limit: ");
	close(c.fd);
	setup_close(&st);
}

static void test_hostfwd(void)
{
	uint16_t p4 = free_port(), p6 = free_port();
	struct setup st;
	struct client c;
	char r[BUF_MAX], req[512];

	if (!p4 || !p6 || setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	snprintf(req, sizeof(req), "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", "
		 "\"host_addr\": \"127.0.0.1\", \"host_port\": %u, \"guest_addr\": \"10.0.2.100\", \"guest_port\": 80}}", p4);
	CHECK(ask(&c, req, r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"id\": 1}}"));
	CHECK(can_connect("127.0.0.1", p4));
	snprintf(req, sizeof(req), "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp6\", "
		 "\"host_addr\": \"::1\", \"host_port\": %u, \"guest_addr\": \"fd00::15\", \"guest_port\": 80}}", p6);
	CHECK(ask(&c, req, r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"id\": 2}}"));
	CHECK(can_connect("::1", p6));
	CHECK(ask(&c, req, r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"error\": {\"desc\": \"bad request: add_hostfwd: slirp: netbe_hostfwd_add: cannot listen on tcp [::1]");
	CHECK(ask(&c, "{\"execute\": \"list_hostfwd\"}", r, sizeof(r)));
	snprintf(req, sizeof(req), "{\"return\": {\"entries\": ["
		 "{\"id\": 1, \"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": %u, \"guest_addr\": \"10.0.2.100\", \"guest_port\": 80}, "
		 "{\"id\": 2, \"proto\": \"tcp\", \"host_addr\": \"::1\", \"host_port\": %u, \"guest_addr\": \"fd00::15\", \"guest_port\": 80}]}}",
		 p4, p6);
	CHECK(!strcmp(r, req));
	CHECK(ask(&c, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 1}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {}}"));
	CHECK(!can_connect("127.0.0.1", p4));
	CHECK(ask(&c, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 1}}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"error\": {\"desc\": \"bad request: remove_hostfwd: bad arguments.id: no such forward\"}}"));
	CHECK(ask(&c, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 2, \"handle\": \"s\"}}", r, sizeof(r)));
	CHECK(!can_connect("::1", p6));
	CHECK(ask(&c, "{\"execute\": \"list_hostfwd\"}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"entries\": []}}"));
	snprintf(req, sizeof(req), "{\"execute\": \"add_hostfwd\", \"arguments\": {\"handle\": \"a\", \"proto\": \"udp\", "
		 "\"host_addr\": \"127.0.0.1\", \"host_port\": %u, \"guest_port\": 53}}", p4);
	CHECK(ask(&c, req, r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "no host port forwards");
	close(c.fd);
	setup_close(&st);
}

static void test_bad_requests(void)
{
	static const char *const cases[][2] = {
		{ "{", "bad request: cannot parse JSON: at byte 1" },
		{ "[1]", "bad request: not a JSON object" },
		{ "{\"arguments\": {}}", "bad request: no execute found" },
		{ "{\"execute\": 7}", "bad request: no execute found" },
		{ "{\"execute\": \"frobnicate\"}", "unknown execute 'frobnicate'; known: add_hostfwd, list_hostfwd" },
		{ "{\"execute\": \"list\", \"arguments\": [1]}", "list: arguments is not an object" },
		{ "{\"execute\": \"add_hostfwd\"}", "add_hostfwd: bad arguments.proto" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"sctp\"}}", "bad arguments.proto" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp4\", \"host_addr\": \"::1\"}}", "bad arguments.host_addr" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": 5}}", "bad arguments.host_addr" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"guest_addr\": \"x\"}}", "bad arguments.guest_addr" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"guest_port\": 80}}", "bad arguments.host_port" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_port\": 70000, \"guest_port\": 80}}", "bad arguments.host_port" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_port\": 8080, \"guest_port\": 1.5}}", "bad arguments.guest_port" },
		{ "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": 1, \"guest_addr\": \"10.0.2.2\", \"guest_port\": 80}}", "gateway" },
		{ "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": \"1\"}}", "bad arguments.id" },
		{ "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 0}}", "bad arguments.id" },
	};
	struct setup st;
	struct client c;
	char r[BUF_MAX];
	unsigned i;

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(ask(&c, cases[i][0], r, sizeof(r)));
		CHECK_STR_CONTAINS(r, "{\"error\": {\"desc\": \"");
		CHECK_STR_CONTAINS(r, cases[i][1]);
	}
	/* blank lines get no reply; CRLF works; the connection still serves */
	CHECK(ask(&c, "\n\r\n{\"execute\": \"list\"}\r", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"return\": {\"handles\": [");
	close(c.fd);
	setup_close(&st);
}

static void test_no_handles(void)
{
	struct setup st;
	struct client c;
	char r[BUF_MAX];

	if (setup_open(&st, false)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	CHECK(ask(&c, "{\"execute\": \"list_hostfwd\"}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"error\": {\"desc\": \"bad request: list_hostfwd: no slirp handle is attached\"}}"));
	CHECK(ask(&c, "{\"execute\": \"stats\"}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "no handle is attached");
	CHECK(ask(&c, "{\"execute\": \"list\"}", r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"handles\": []}}"));
	close(c.fd);
	setup_close(&st);
}

static void test_two_clients(void)
{
	struct setup st;
	struct client c1, c2;
	char r[BUF_MAX];

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c1);
	client_connect(&c2);
	/* c1 sends half a request; c2 is served meanwhile */
	CHECK(client_send(&c1, "{\"execute\": "));
	CHECK(ask(&c2, "{\"execute\": \"stats\", \"arguments\": {\"handle\": \"b\"}}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "\"handle\": \"b\"");
	CHECK(client_send(&c1, "\"list\"}\n{\"execute\": \"stats\"}\n"));
	CHECK(client_line(&c1, r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "\"handles\"");
	CHECK(client_line(&c1, r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "\"handle\": \"a\"");
	CHECK(ask(&c2, "{\"execute\": \"list\"}", r, sizeof(r)));
	close(c1.fd);
	close(c2.fd);
	setup_close(&st);
}

static void test_oversized(void)
{
	static char big[NETBE_CONTROL_LINE_MAX + 100];
	struct setup st;
	struct client c;
	char r[BUF_MAX];

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	memset(big, ' ', sizeof(big) - 1);
	CHECK(client_send(&c, big));
	CHECK(client_line(&c, r, sizeof(r)));
	CHECK(!strcmp(r, "{\"error\": {\"desc\": \"bad request: longer than 16384 bytes\"}}"));
	CHECK(client_eof(&c));
	close(c.fd);
	/* exactly the limit is fine */
	client_connect(&c);
	memset(big, ' ', NETBE_CONTROL_LINE_MAX);
	memcpy(big + NETBE_CONTROL_LINE_MAX - 19, "{\"execute\":\"list\"}\n", 20);
	CHECK(client_send(&c, big));
	CHECK(client_line(&c, r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "{\"return\": {\"handles\"");
	close(c.fd);
	setup_close(&st);
}

/* slirp4netns's clients (rootlesskit, podman): one request without a
 * newline, shutdown(SHUT_WR), read the reply to the end. */
static void test_slirp4netns_style(void)
{
	struct setup st;
	struct client c;
	char r[BUF_MAX];

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	client_connect(&c);
	CHECK(client_send(&c, "{\"execute\": \"list_hostfwd\"}"));
	CHECK(shutdown(c.fd, SHUT_WR) == 0);
	CHECK(client_line(&c, r, sizeof(r)));
	CHECK(!strcmp(r, "{\"return\": {\"entries\": []}}"));
	CHECK(client_eof(&c));
	close(c.fd);
	/* a client gone before its reply is written harms nothing */
	client_connect(&c);
	CHECK(client_send(&c, "{\"execute\": \"list\"}\n"));
	close(c.fd);
	client_connect(&c);
	CHECK(ask(&c, "{\"execute\": \"list\"}", r, sizeof(r)));
	close(c.fd);
	setup_close(&st);
}

/* 32 clients are served; the 33rd is told so and closed; once one
 * leaves, a new one is served again. */
static void test_too_many_clients(void)
{
	static struct client c[34];
	struct setup st;
	char r[BUF_MAX];
	unsigned i;

	if (setup_open(&st, true)) {
		CHECK(0);
		setup_close(&st);
		return;
	}
	for (i = 0; i < 32; i++) {
		client_connect(&c[i]);
		CHECK(ask(&c[i], "{\"execute\": \"list\"}", r, sizeof(r)));
	}
	client_connect(&c[32]);
	CHECK(client_line(&c[32], r, sizeof(r)));
	CHECK(!strcmp(r, "{\"error\": {\"desc\": \"too many control clients\"}}"));
	CHECK(client_eof(&c[32]));
	close(c[32].fd);
	close(c[0].fd);
	for (i = 0; i < 3; i++)
		netbe_epoll_dispatch(ep, 10);
	client_connect(&c[33]);
	CHECK(ask(&c[33], "{\"execute\": \"list\"}", r, sizeof(r)));
	CHECK_STR_CONTAINS(r, "\"return\"");
	for (i = 1; i < 32; i++)
		close(c[i].fd);
	close(c[33].fd);
	setup_close(&st);
}

static void test_api_args(void)
{
	const struct netbe_loop *l = netbe_epoll_loop(ep);
	struct netbe_control *ctl = NULL;
	struct netbe *be = NULL;
	char longpath[200], file[128];
	int fd;

	CHECK_EQ(netbe_control_open(NULL, sock_path, l), -EINVAL);
	CHECK_EQ(netbe_control_open(&ctl, NULL, l), -EINVAL);
	CHECK_EQ(netbe_control_open(&ctl, sock_path, NULL), -EINVAL);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_EQ(netbe_control_open(&ctl, longpath, l), -ENAMETOOLONG);
	snprintf(file, sizeof(file), "%s.file", sock_path);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ(netbe_control_open(&ctl, file, l), -EEXIST);
	CHECK_STR_CONTAINS(netbe_last_error(), "is not a socket");
	unlink(file);
	CHECK(ctl == NULL);
	/* a stale socket file is replaced */
	CHECK_EQ(netbe_control_open(&ctl, sock_path, l), 0);
	netbe_control_close(ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
		CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
		close(fd);
	}
	CHECK_EQ(netbe_control_open(&ctl, sock_path, l), 0);
	CHECK_EQ(netbe_open(&be, "null", NULL, l), 0);
	CHECK_EQ(netbe_control_attach(ctl, "n", be), 0);
	CHECK_EQ(netbe_control_attach(ctl, "n", be), -EEXIST);
	CHECK_EQ(netbe_control_attach(ctl, "m", be), -EEXIST);
	CHECK_EQ(netbe_control_attach(ctl, "", be), -EINVAL);
	CHECK_EQ(netbe_control_attach(ctl, "a b", be), -EINVAL);
	CHECK_EQ(netbe_control_attach(ctl, NULL, be), -EINVAL);
	CHECK_EQ(netbe_control_attach(ctl, "x", NULL), -EINVAL);
	CHECK_EQ(netbe_control_detach(ctl, be), 0);
	CHECK_EQ(netbe_control_detach(ctl, be), -ENOENT);
	CHECK_EQ(netbe_control_detach(NULL, be), -EINVAL);
	netbe_control_close(ctl);
	netbe_control_close(NULL);
	CHECK(access(sock_path, F_OK) != 0);
	netbe_close(be);
}

int main(void)
{
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
	snprintf(sock_path, sizeof(sock_path), "/tmp/netbe-test-control-%d.sock", (int)getpid());
	if (netbe_epoll_new(&ep)) {
		printf("not ok 1 - epoll loop\n1..1\n");
		return 1;
	}
	RUN(test_list_and_stats);
	RUN(test_set_link);
	RUN(test_faults_and_capture);
	RUN(test_rate_limit);
	RUN(test_hostfwd);
	RUN(test_bad_requests);
	RUN(test_no_handles);
	RUN(test_two_clients);
	RUN(test_oversized);
	RUN(test_slirp4netns_style);
	RUN(test_too_many_clients);
	RUN(test_api_args);
	netbe_epoll_free(ep);
	unlink(sock_path);
	return harness_done();
}
