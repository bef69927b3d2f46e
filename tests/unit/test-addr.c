/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-addr.c - the address grammar of spec values (src/core/addr.c).
 *
 * Every accepted form is checked by what netbe_addr_format() makes of it
 * and by parsing that text again to the same socket address; every refused
 * form by its exact message. The backends are checked to use the grammar:
 * the same port message from each, and vxlan:local=::1:4444 refused (it
 * used to bind [::0.1.68.68]:4789).
 */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "addr.h"
#include "harness.h"
#include "netbe.h"

#define A_OPT   NETBE_ADDR_PORT_OPT
#define A_PORT0 NETBE_ADDR_PORT0
#define A_ANY   NETBE_ADDR_ANY
#define A_NAMES NETBE_ADDR_NAMES
#define A_UNIX  NETBE_ADDR_UNIX
#define A_V4    NETBE_ADDR_V4
#define A_V6    NETBE_ADDR_V6

#define BRACKETS "an IPv6 address with a port needs brackets - write IPv6 as [V6]:PORT, e.g. [::1]:4444"
#define NO_PORT "no port - use HOST:PORT or [V6]:PORT, e.g. 127.0.0.1:4444"
#define NOT_NUMERIC "is not a numeric address - write an IPv4 or IPv6 address, e.g. 10.0.0.1 or [fd00::1]"

/** check_ok() - @text parses under @flags to what formats as @want, and
 * that text parses back to the same socket address. */
static void check_ok(const char *text, unsigned flags, uint16_t def, const char *want)
{
	struct netbe_addr a, b;
	char why[256] = "", buf[NETBE_ADDR_STRLEN];
	int ret = netbe_addr_parse(text, flags, def, &a, why, sizeof(why));

	if (ret) {
		printf("# '%s' refused: %s\n", text, why);
		CHECK(ret == 0);
		return;
	}
	netbe_addr_format((struct sockaddr *)&a.ss, a.len, buf, sizeof(buf));
	if (strcmp(buf, want))
		printf("# '%s' formats as '%s', expected '%s'\n", text, buf, want);
	CHECK(!strcmp(buf, want));
	CHECK_EQ(netbe_addr_parse(buf, flags, def, &b, why, sizeof(why)), 0);
	CHECK_EQ(a.len, b.len);
	CHECK(!memcmp(&a.ss, &b.ss, a.len));
}

/** check_bad() - @text is refused under @flags with exactly @want. */
static void check_bad(const char *text, unsigned flags, const char *want)
{
	struct netbe_addr a;
	char why[512] = "";

	CHECK_EQ(netbe_addr_parse(text, flags, 4789, &a, why, sizeof(why)), -EINVAL);
	if (strcmp(why, want))
		printf("# '%s': got \"%s\", expected \"%s\"\n", text, why, want);
	CHECK(!strcmp(why, want));
}

static void test_ipv4(void)
{
	check_ok("10.0.0.1:4789", 0, 0, "10.0.0.1:4789");
	check_ok("10.0.0.1", A_OPT, 4789, "10.0.0.1:4789");
	check_ok("10.0.0.1:5000", A_OPT, 4789, "10.0.0.1:5000");
	check_ok("1.2.3.4:00080", 0, 0, "1.2.3.4:80");
	check_ok("127.0.0.1:65535", 0, 0, "127.0.0.1:65535");
	check_ok("[10.0.0.1]:5", 0, 0, "10.0.0.1:5");
	check_ok("127.0.0.1:0", A_PORT0, 0, "127.0.0.1:0");
	check_ok(":4444", A_ANY, 0, "0.0.0.0:4444");
	check_ok("10.0.0.1:5", A_V4, 0, "10.0.0.1:5");
}

static void test_ipv6(void)
{
	char want[64];

	check_ok("[fd00::1]:4789", 0, 0, "[fd00::1]:4789");
	check_ok("[fd00::1]", A_OPT, 4789, "[fd00::1]:4789");
	check_ok("fd00::1", A_OPT, 4789, "[fd00::1]:4789");
	check_ok("::1", A_OPT, 4789, "[::1]:4789");
	check_ok("::ffff:1.2.3.4", A_OPT, 1, "[::ffff:1.2.3.4]:1");
	check_ok("[fd00::1:4444]", A_OPT, 4789, "[fd00::1:4444]:4789");
	check_ok(":4444", A_ANY | A_V6, 0, "[::]:4444");
	check_ok("[::1]:5", A_V6, 0, "[::1]:5");
	snprintf(want, sizeof(want), "[fe80::1%%%u]:4789", if_nametoindex("lo"));
	check_ok("fe80::1%lo", A_OPT, 4789, want);
	check_ok("[fe80::1%lo]:4789", 0, 0, want);
	check_ok("[fe80::1%7]:4789", 0, 0, "[fe80::1%7]:4789");
}

static void test_names_and_paths(void)
{
	struct netbe_addr a;
	char why[256], path[200];

	check_ok("127.1:5", A_NAMES, 0, "127.0.0.1:5");
	CHECK_EQ(netbe_addr_parse("localhost:4444", A_NAMES, 0, &a, why, sizeof(why)), 0);
	CHECK_EQ(netbe_addr_port((struct sockaddr *)&a.ss), 4444);
	check_ok("/tmp/x.sock", A_UNIX, 0, "/tmp/x.sock");
	check_ok("./a.sock", A_UNIX | A_NAMES, 0, "./a.sock");
	CHECK_EQ(netbe_addr_parse("./a.sock", A_UNIX, 0, &a, why, sizeof(why)), 0);
	CHECK_EQ(a.ss.ss_family, AF_UNIX);
	CHECK_EQ(a.len, offsetof(struct sockaddr_un, sun_path) + 9);
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[150] = '\0';
	check_bad(path, A_UNIX, "a unix socket path has at most 107 bytes, this one 150 - use a shorter path");
}

static void test_brackets(void)
{
	check_bad("::1:4444", A_OPT, BRACKETS);
	check_bad("fd00::1:2", A_OPT, BRACKETS);
	check_bad("fe80::1%lo:4444", A_OPT, BRACKETS);
	check_bad("::1:4444", 0, BRACKETS);
	check_bad("fd00::1", 0, BRACKETS);
	check_bad("::1:4444", A_NAMES | A_UNIX, BRACKETS);
	check_bad("[::1", A_OPT, "no ']' after '[' - write IPv6 as [V6]:PORT, e.g. [::1]:4444");
	check_bad("[::1]4444", 0, "text after ']' that is not :PORT - write IPv6 as [V6]:PORT, e.g. [::1]:4444");
}

static void test_ports(void)
{
	check_bad("10.0.0.1", 0, NO_PORT);
	check_bad("[::1]", 0, NO_PORT);
	check_bad("", 0, NO_PORT);
	check_bad("10.0.0.1", A_UNIX, NO_PORT ", or a unix socket PATH (holding a '/')");
	check_bad("10.0.0.1:0", 0, "bad port '0': out of range - use 1..65535");
	check_bad("10.0.0.1:65536", A_OPT, "bad port '65536': out of range - use 1..65535");
	check_bad("10.0.0.1:99999999999999999999", 0,
		  "bad port '99999999999999999999': out of range - use 1..65535");
	check_bad("10.0.0.1:65536", A_PORT0, "bad port '65536': out of range - use 0..65535");
	check_bad("10.0.0.1:http", 0, "bad port 'http': not a number - use 1..65535");
	check_bad("10.0.0.1:+5", 0, "bad port '+5': not a number - use 1..65535");
	check_bad("10.0.0.1: 5", 0, "bad port ' 5': not a number - use 1..65535");
	check_bad("10.0.0.1:", A_PORT0, "bad port '': not a number - use 0..65535");
	check_bad("[::1]:x", 0, "bad port 'x': not a number - use 1..65535");
}

static void test_hosts(void)
{
	char longhost[300];
	struct netbe_addr a;
	char why[512];

	check_bad(":4444", 0, "no host - give an address, e.g. 127.0.0.1:4444");
	check_bad("1.2.3", A_OPT, "'1.2.3' " NOT_NUMERIC);
	check_bad("127.0.0.300", A_OPT, "'127.0.0.300' " NOT_NUMERIC);
	check_bad("host.example:5", 0, "'host.example' " NOT_NUMERIC);
	check_bad("1.2.3:5", A_V4, "'1.2.3' is not a numeric address - write an IPv4 address, e.g. 10.0.0.1");
	check_bad("[::1]:5", A_V4, "'::1' is not an IPv4 address");
	check_bad("1.2.3.4:5", A_V6, "'1.2.3.4' is not an IPv6 address");
	check_bad("fe80::1%nosuchif0", A_OPT,
		  "no interface 'nosuchif0' after '%' - give an interface name or index, e.g. fe80::1%eth0");
	check_bad("[fe80::1%0]:5", 0,
		  "no interface '0' after '%' - give an interface name or index, e.g. fe80::1%eth0");
	memset(longhost, 'h', sizeof(longhost));
	strcpy(longhost + 280, ":5");
	check_bad(longhost, A_NAMES, "the host part is longer than 255 bytes");
	CHECK_EQ(netbe_addr_parse("300.1.2.3:5", A_NAMES, 0, &a, why, sizeof(why)), -EINVAL);
	CHECK_STR_CONTAINS(why, "'300.1.2.3' is not an IPv4 or IPv6 address or a name that resolves to one (");
}

static void test_parse_key(void)
{
	struct netbe_addr a;

	CHECK_EQ(netbe_addr_parse_key("vxlan", "local", "::1:4444", A_OPT, 4789, &a), -EINVAL);
	CHECK(!strcmp(netbe_last_error(), "vxlan: local=::1:4444: " BRACKETS));
	CHECK_EQ(netbe_addr_parse_key("vxlan", "local", "[::1]:4444", A_OPT, 4789, &a), 0);
	CHECK_EQ(netbe_addr_port((struct sockaddr *)&a.ss), 4444);
}

static void test_format(void)
{
	struct sockaddr_storage ss = { .ss_family = AF_PACKET };
	char buf[NETBE_ADDR_STRLEN];

	CHECK(!strcmp(netbe_addr_format((struct sockaddr *)&ss, sizeof(ss), buf, sizeof(buf)),
		      "(unnamed)"));
	ss.ss_family = AF_INET;
	CHECK(!strcmp(netbe_addr_format((struct sockaddr *)&ss, 4, buf, sizeof(buf)),
		      "(unnamed)"));
	CHECK_EQ(netbe_addr_port((struct sockaddr *)&ss), 0);
}

/** open_error() - open @spec, which must fail with -EINVAL.
 * Return: netbe_last_error(). */
static const char *open_error(struct netbe_epoll *ep, const char *spec)
{
	struct netbe *be = NULL;
	int ret = netbe_open(&be, spec, NULL, netbe_epoll_loop(ep));

	CHECK_EQ(ret, -EINVAL);
	if (!ret)
		netbe_close(be);
	return netbe_last_error();
}

/* The backends report what the grammar says, in its words. */
static void test_backends(void)
{
	static const char *const port0[] = {
		"stream:connect=127.0.0.1:0",
		"dgram:local=127.0.0.1:5000,remote=127.0.0.1:0",
		"mcast:group=230.0.0.1:0",
		"vxlan:vni=1,local=127.0.0.1,remote=127.0.0.2:0",
	};
	struct netbe_epoll *ep;
	unsigned i;

	if (netbe_epoll_new(&ep)) {
		CHECK(0);
		return;
	}
	/* used to bind [::0.1.68.68]:4789 */
	CHECK(!strcmp(open_error(ep, "vxlan:vni=1,local=::1:4444,remote=::1"),
		      "vxlan: local=::1:4444: " BRACKETS));
	CHECK(!strcmp(open_error(ep, "stream:connect=::1:4444"),
		      "stream: connect=::1:4444: " BRACKETS));
	CHECK(!strcmp(open_error(ep, "dgram:local=::1:5000,remote=[::1]:5001"),
		      "dgram: local=::1:5000: " BRACKETS));
	for (i = 0; i < sizeof(port0) / sizeof(port0[0]); i++)
		CHECK_STR_CONTAINS(open_error(ep, port0[i]),
				   ":0: bad port '0': out of range - use 1..65535");
	netbe_epoll_free(ep);
}

int main(void)
{
	RUN(test_ipv4);
	RUN(test_ipv6);
	RUN(test_names_and_paths);
	RUN(test_brackets);
	RUN(test_ports);
	RUN(test_hosts);
	RUN(test_parse_key);
	RUN(test_format);
	RUN(test_backends);
	return harness_done();
}
