/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-tap-netns.c - tap:NAME,netns=...[,configure=on] against the kernel.
 *
 * The test makes its own namespace, nbtn-PID (ip netns add), and opens taps
 * into it by name, by path and by the PID of a process living there (a
 * `sleep` started with ip netns exec, ended by its PID). It checks that
 * each tap exists there and not here, that the caller's own namespace did
 * not change, that closing the handle removes the tap, and that
 * configure=on leaves lo up and the address, the MTU and the default route
 * in place, read back with `ip -n`. A namespace owned by a user namespace
 * of its own (unshare --user --net) is entered while the caller has a
 * second thread, by root and by uid 65534 (in a forked child of the
 * test), whose tap can only be made after joining that user namespace,
 * which setns(CLONE_NEWUSER) refuses to a multithreaded process: netbe
 * does it in a child of its own. Refused values and namespaces are
 * checked by their messages; they need no root. The rest needs root and
 * reports "skipped: needs root" otherwise. The namespace is deleted at
 * exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "netbe.h"
#include "../harness.h"

#define TAPN "nbtn0"

static char ns_name[32];
static bool ns_made;
static pid_t sleeper = -1;
static pid_t userns_holder = -1;
static char attached[48];        /* an `ip netns attach` name, "" if none */
static struct netbe_epoll *ep;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh_out(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** sh() - run a shell command built from @fmt. Return: its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

/**
 * sh_out() - run a shell command built from @fmt, its output (at most
 * @len - 1 bytes) in @out
 * Return: 0, or -1 when it could not run.
 */
static int sh_out(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512];
	size_t n = 0, r;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n + 1 < len && (r = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	pclose(p);
	return 0;
}

/** cleanup() - end the sleeper and the holder, delete the namespaces
 * (atexit). */
static void cleanup(void)
{
	if (sleeper > 0) {
		kill(sleeper, SIGKILL);
		waitpid(sleeper, NULL, 0);
		sleeper = -1;
	}
	if (userns_holder > 0) {
		kill(userns_holder, SIGKILL);
		waitpid(userns_holder, NULL, 0);
		userns_holder = -1;
	}
	if (attached[0])
		sh("ip netns del %s 2>/dev/null", attached);
	attached[0] = '\0';
	if (ns_made)
		sh("ip netns del %s 2>/dev/null", ns_name);
	ns_made = false;
	netbe_epoll_free(ep);
	ep = NULL;
}

/** open_spec() - netbe_open() @spec on the test loop. Return: its result. */
static int open_spec(struct netbe **be, const char *spec)
{
	return netbe_open(be, spec, NULL, netbe_epoll_loop(ep));
}

/** in_ns() - Return: true when interface @ifname exists in the namespace. */
static bool in_ns(const char *ifname)
{
	return sh("ip -n %s link show %s >/dev/null 2>&1", ns_name, ifname) == 0;
}

/** net_ino() - Return: the inode of this thread's network namespace. */
static long long net_ino(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? -1 : (long long)st.st_ino;
}

/**
 * expect_bad() - opening @spec fails with @err and a message holding @msg
 */
static void expect_bad(const char *spec, int err, const char *msg)
{
	struct netbe *be = NULL;
	int ret = open_spec(&be, spec);

	if (ret != err)
		printf("# %s: got %d (%s)\n", spec, ret, netbe_last_error());
	CHECK_EQ(ret, err);
	CHECK(be == NULL);
	CHECK_STR_CONTAINS(netbe_last_error(), msg);
	if (ret >= 0)
		netbe_close(be);
}

/** test_bad_values() - every refused key, combination and namespace. */
static void test_bad_values(void)
{
	expect_bad("tap:" TAPN ",configure=on", -EINVAL, "configure=on needs netns=");
	expect_bad("tap:" TAPN ",netns=x,configure=maybe", -EINVAL, "expected on or off");
	expect_bad("tap:" TAPN ",netns=x,address=10.0.2.9", -EINVAL,
		   "address= applies with configure=on");
	expect_bad("tap:" TAPN ",netns=x,gateway=10.0.2.9", -EINVAL,
		   "gateway= applies with configure=on");
	expect_bad("tap:" TAPN ",netns=x,configure=on,address=10.0.2", -EINVAL,
		   "bad value '10.0.2' for key 'address': expected an IPv4 address");
	expect_bad("tap:" TAPN ",netns=x,configure=on,gateway=fd00::2", -EINVAL,
		   "for key 'gateway': expected an IPv4 address");
	expect_bad("tap:" TAPN ",netns=x,configure=on,prefix=31", -EINVAL,
		   "expected a number from 1 to 30");
	expect_bad("tap:" TAPN ",netns=x,configure=on,gateway=10.0.3.2", -EINVAL,
		   "gateway=10.0.3.2 is outside address=10.0.2.100/24");
	expect_bad("tap:" TAPN ",netns=x,configure=on,gateway=10.0.2.100", -EINVAL,
		   "gateway=10.0.2.100 is the tap's own");
	expect_bad("tap:" TAPN ",netns=x,configure=on,address=10.0.2.255", -EINVAL,
		   "network or broadcast address");
	expect_bad("tap:fd=3,netns=x", -EINVAL, "netns= applies to tap:NAME");
	expect_bad("tap:" TAPN ",netns=x,queues=2", -EINVAL,
		   "queues= cannot be combined with netns=");
	expect_bad("tap:" TAPN ",netns=2147483647", -ESRCH,
		   "tap: netns=2147483647: no process 2147483647");
	expect_bad("tap:" TAPN ",netns=12ab", -EINVAL, "not a PID");
	expect_bad("tap:" TAPN ",netns=/nonexistent/ns", -ENOENT,
		   "no such namespace file /nonexistent/ns - create the namespace first");
	expect_bad("tap:" TAPN ",netns=nbtn-no-such-ns", -ENOENT,
		   "no such namespace file /run/netns/nbtn-no-such-ns");
	expect_bad("tap:" TAPN ",netns=/dev/null", -EINVAL,
		   "/dev/null is not a network namespace");
	expect_bad("tap:" TAPN ",netns=/proc/self/ns/uts", -EINVAL,
		   "is not a network namespace");
}

/**
 * open_check() - open @spec, check that tap @ifname appears in the test
 * namespace only, that this thread stayed where it was, and that closing
 * removes the tap
 */
static void open_check(const char *spec, const char *ifname)
{
	long long before = net_ino();
	struct netbe *be = NULL;
	int ret = open_spec(&be, spec);

	if (ret < 0)
		printf("# %s: %s\n", spec, netbe_last_error());
	CHECK_EQ(ret, 0);
	if (ret < 0)
		return;
	CHECK(in_ns(ifname));
	CHECK_EQ(if_nametoindex(ifname), 0);
	CHECK_EQ(net_ino(), before);
	CHECK(sh("ip -n %s link show %s | grep -q '[<,]UP[,>]'", ns_name, ifname) == 0);
	netbe_close(be);
	CHECK(!in_ns(ifname));
}

/** test_by_name() - netns=NAME of ip netns. */
static void test_by_name(void)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "tap:" TAPN ",netns=%s", ns_name);
	open_check(spec, TAPN);
}

/** test_by_path() - netns=/run/netns/NAME, and a kernel name pattern. */
static void test_by_path(void)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "tap:nbtnp0,netns=/run/netns/%s,vnet_hdr=on", ns_name);
	open_check(spec, "nbtnp0");
}

/**
 * start_sleeper() - a `sleep` inside the namespace, its PID in sleeper
 * once it lives there (5 s at most)
 * Return: 0, or -1.
 */
static int start_sleeper(void)
{
	char want[64], path[64], got[64];
	uint64_t end = harness_now_ms() + 5000;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	if (stat(path, &st))
		return -1;
	snprintf(want, sizeof(want), "net:[%llu]", (unsigned long long)st.st_ino);
	fflush(stdout);
	sleeper = fork();
	if (sleeper == 0) {
		execlp("ip", "ip", "netns", "exec", ns_name, "sleep", "30", (char *)NULL);
		_exit(127);
	}
	if (sleeper < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)sleeper);
	while (harness_now_ms() < end) {
		n = readlink(path, got, sizeof(got) - 1);
		if (n > 0) {
			got[n] = '\0';
			if (!strcmp(got, want))
				return 0;
		}
		usleep(20000);
	}
	return -1;
}

/** test_by_pid() - netns=PID of a process in the namespace. */
static void test_by_pid(void)
{
	char spec[128];

	CHECK_EQ(start_sleeper(), 0);
	if (sleeper <= 0)
		return;
	snprintf(spec, sizeof(spec), "tap:nbtnq0,netns=%d", (int)sleeper);
	open_check(spec, "nbtnq0");
}

/**
 * test_configure() - configure=on: lo up, the address, the MTU, the
 * default route; a second configure=on finds the route taken
 */
static void test_configure(void)
{
	struct netbe *be = NULL, *be2 = NULL;
	char spec[192], out[2048];
	int ret;

	snprintf(spec, sizeof(spec), "tap:" TAPN ",netns=%s,configure=on", ns_name);
	ret = open_spec(&be, spec);
	if (ret < 0)
		printf("# %s: %s\n", spec, netbe_last_error());
	CHECK_EQ(ret, 0);
	if (ret < 0)
		return;
	sh_out(out, sizeof(out), "ip -n %s -o -4 addr show dev " TAPN, ns_name);
	CHECK_STR_CONTAINS(out, "inet 10.0.2.100/24 brd 10.0.2.255");
	sh_out(out, sizeof(out), "ip -n %s -4 route show default", ns_name);
	CHECK_STR_CONTAINS(out, "default via 10.0.2.2 dev " TAPN);
	sh_out(out, sizeof(out), "ip -n %s link show " TAPN, ns_name);
	CHECK_STR_CONTAINS(out, "mtu 1500 ");
	CHECK_STR_CONTAINS(out, ",UP");
	sh_out(out, sizeof(out), "ip -n %s link show lo", ns_name);
	CHECK_STR_CONTAINS(out, ",UP");

	snprintf(spec, sizeof(spec), "tap:nbtn1,netns=%s,configure=on,address=10.0.2.101", ns_name);
	ret = open_spec(&be2, spec);
	CHECK_EQ(ret, -EEXIST);
	CHECK_STR_CONTAINS(netbe_last_error(), "tap nbtn1: cannot add the default route");
	CHECK_STR_CONTAINS(netbe_last_error(), "has a default route already");
	CHECK(!in_ns("nbtn1"));
	netbe_close(be2);
	netbe_close(be);
	CHECK(!in_ns(TAPN));
	sh_out(out, sizeof(out), "ip -n %s -4 route show default", ns_name);
	CHECK_EQ(strlen(out), 0);
}

/** test_configure_values() - address=, prefix=, gateway=, mtu= given. */
static void test_configure_values(void)
{
	struct netbe *be = NULL;
	char spec[192], out[2048];
	int ret;

	snprintf(spec, sizeof(spec),
		 "tap:" TAPN ",netns=%s,configure=on,address=192.168.77.5,prefix=28,gateway=192.168.77.1,mtu=9000,vnet_hdr=off",
		 ns_name);
	ret = open_spec(&be, spec);
	if (ret < 0)
		printf("# %s: %s\n", spec, netbe_last_error());
	CHECK_EQ(ret, 0);
	if (ret < 0)
		return;
	sh_out(out, sizeof(out), "ip -n %s -o -4 addr show dev " TAPN, ns_name);
	CHECK_STR_CONTAINS(out, "inet 192.168.77.5/28 brd 192.168.77.15");
	sh_out(out, sizeof(out), "ip -n %s -4 route show default", ns_name);
	CHECK_STR_CONTAINS(out, "default via 192.168.77.1 dev " TAPN);
	sh_out(out, sizeof(out), "ip -n %s link show " TAPN, ns_name);
	CHECK_STR_CONTAINS(out, "mtu 9000 ");
	netbe_close(be);
}

/** test_mtu_only() - netns= with mtu= and no configure: just the MTU. */
static void test_mtu_only(void)
{
	struct netbe *be = NULL;
	char spec[128], out[2048];
	int ret;

	snprintf(spec, sizeof(spec), "tap:" TAPN ",netns=%s,mtu=4000", ns_name);
	ret = open_spec(&be, spec);
	CHECK_EQ(ret, 0);
	if (ret < 0)
		return;
	sh_out(out, sizeof(out), "ip -n %s link show " TAPN, ns_name);
	CHECK_STR_CONTAINS(out, "mtu 4000 ");
	sh_out(out, sizeof(out), "ip -n %s -o -4 addr show dev " TAPN, ns_name);
	CHECK_EQ(strlen(out), 0);
	netbe_close(be);
}

/** blocker() - a second thread of the caller: waits for its pipe to close.
 * Return: NULL. */
static void *blocker(void *arg)
{
	char c;

	while (read(*(int *)arg, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/**
 * start_userns_holder() - `unshare --user --map-root-user --net sleep` (as
 * @uid unless it is -1), its PID in userns_holder once its network
 * namespace is not ours (5 s at most)
 * Return: 0, or -1.
 */
static int start_userns_holder(uid_t uid)
{
	uint64_t end = harness_now_ms() + 5000;
	char ours[64], path[64], got[64];
	ssize_t n;

	n = readlink("/proc/self/ns/net", ours, sizeof(ours) - 1);
	if (n <= 0)
		return -1;
	ours[n] = '\0';
	fflush(stdout);
	userns_holder = fork();
	if (userns_holder == 0) {
		if (uid != (uid_t)-1 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execlp("unshare", "unshare", "--user", "--map-root-user", "--net",
		       "sleep", "30", (char *)NULL);
		_exit(127);
	}
	if (userns_holder < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)userns_holder);
	while (harness_now_ms() < end) {
		n = readlink(path, got, sizeof(got) - 1);
		if (n > 0) {
			got[n] = '\0';
			if (strcmp(got, ours))
				return 0;
		}
		usleep(20000);
	}
	return -1;
}

/**
 * userns_round() - with a second thread running, open
 * tap:nbtnu0,netns=PID,configure=on for a fresh `unshare --user --net`
 * holder, read the result back through nsenter, close, end the holder
 * @out: receives a report: "open=RET", whether this thread's namespace
 *       stayed, the address and the default route seen inside
 */
static void userns_round(char *out, size_t len)
{
	struct netbe *be = NULL;
	char spec[128], cmd[160], buf[1024];
	long long before = net_ino();
	pthread_t th;
	int pfd[2], ret;
	size_t n;

	snprintf(out, len, "holder: cannot start unshare --user --map-root-user --net\n");
	if (start_userns_holder((uid_t)-1) || pipe(pfd))
		return;
	if (pthread_create(&th, NULL, blocker, &pfd[0]) == 0) {
		snprintf(spec, sizeof(spec), "tap:nbtnu0,netns=%d,configure=on", (int)userns_holder);
		ret = open_spec(&be, spec);
		snprintf(out, len, "open=%d %s\nsame-ns=%d\n", ret,
			 ret < 0 ? netbe_last_error() : "", net_ino() == before);
		snprintf(cmd, sizeof(cmd), "nsenter -t %d -U -n --preserve-credentials ip",
			 (int)userns_holder);
		sh_out(buf, sizeof(buf), "%s -o -4 addr show dev nbtnu0; %s -4 route show default",
		       cmd, cmd);
		n = strlen(out);
		snprintf(out + n, len - n, "%s", buf);
		netbe_close(be);
		close(pfd[1]);
		pthread_join(th, NULL);
	} else {
		close(pfd[1]);
	}
	close(pfd[0]);
	kill(userns_holder, SIGKILL);
	waitpid(userns_holder, NULL, 0);
	userns_holder = -1;
}

/** check_userns_report() - the report of userns_round() says it all worked */
static void check_userns_report(const char *out)
{
	const char *l, *e;

	for (l = out; *l; l = *e ? e + 1 : e) {
		e = strchrnul(l, '\n');
		printf("# %.*s\n", (int)(e - l), l);
	}
	CHECK_STR_CONTAINS(out, "open=0 ");
	CHECK_STR_CONTAINS(out, "same-ns=1");
	CHECK_STR_CONTAINS(out, "inet 10.0.2.100/24");
	CHECK_STR_CONTAINS(out, "default via 10.0.2.2 dev nbtnu0");
	CHECK_EQ(if_nametoindex("nbtnu0"), 0);
}

/**
 * test_userns_threaded() - as root: netns=PID of a namespace owned by a
 * user namespace of its own, opened while the caller has a second thread
 */
static void test_userns_threaded(void)
{
	char out[2048];

	userns_round(out, sizeof(out));
	check_userns_report(out);
}

/**
 * test_userns_rootless() - the same as uid 65534, which owns the holder's
 * user namespace: the child joins it (setns(CLONE_NEWUSER), refused to a
 * multithreaded process, so it proves the work is done in a child)
 */
static void test_userns_rootless(void)
{
	char out[2048] = "";
	int pfd[2], st = 0;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	CHECK_EQ(pipe(pfd), 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(2);
		userns_round(out, sizeof(out));
		_exit(write(pfd[1], out, strlen(out)) < 0 ? 3 : 0);
	}
	close(pfd[1]);
	while (n + 1 < sizeof(out) && (r = read(pfd[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check_userns_report(out);
}

/**
 * test_foreign_userns() - uid 65533 given the namespace file of uid
 * 65534's rootless namespace (ip netns attach) may open it but not join
 * its user namespace: the message names the owner
 */
static void test_foreign_userns(void)
{
	char spec[96], msg[512] = "";
	int pfd[2], st = 0;
	ssize_t n;
	pid_t pid;

	if (start_userns_holder(65534)) {
		printf("# cannot start unshare as uid 65534\n");
		CHECK(0);
		return;
	}
	snprintf(attached, sizeof(attached), "nbtnx-%d", (int)getpid());
	CHECK_EQ(sh("ip netns attach %s %d", attached, (int)userns_holder), 0);
	snprintf(spec, sizeof(spec), "tap:" TAPN ",netns=%s", attached);
	CHECK_EQ(pipe(pfd), 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct netbe *be = NULL;
		int ret;

		close(pfd[0]);
		if (setgid(65533) || setuid(65533))
			_exit(2);
		ret = open_spec(&be, spec);
		if (write(pfd[1], netbe_last_error(), strlen(netbe_last_error())) < 0)
			_exit(3);
		_exit(ret == -EPERM ? 0 : 1);
	}
	close(pfd[1]);
	n = read(pfd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	printf("# as uid 65533: %s\n", msg);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_STR_CONTAINS(msg, "cannot join the user namespace owning it (owner uid 65534)");
	CHECK_STR_CONTAINS(msg, "run netbe as uid 65534");
	sh("ip netns del %s 2>/dev/null", attached);
	attached[0] = '\0';
	kill(userns_holder, SIGKILL);
	waitpid(userns_holder, NULL, 0);
	userns_holder = -1;
}

/**
 * test_unprivileged() - uid 65534 may not enter root's namespace: the
 * message says so and what to do (checked in a child that drops to it)
 */
static void test_unprivileged(void)
{
	char spec[128], msg[512] = "";
	int pfd[2], st = 0;
	ssize_t n;
	pid_t pid;

	snprintf(spec, sizeof(spec), "tap:" TAPN ",netns=%s", ns_name);
	CHECK_EQ(pipe(pfd), 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct netbe *be = NULL;
		int ret;

		close(pfd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(2);
		ret = open_spec(&be, spec);
		if (write(pfd[1], netbe_last_error(), strlen(netbe_last_error())) < 0)
			_exit(3);
		_exit(ret == -EPERM ? 0 : 1);
	}
	close(pfd[1]);
	n = read(pfd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	printf("# as uid 65534: %s\n", msg);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_STR_CONTAINS(msg, "cannot enter the network namespace");
	CHECK_STR_CONTAINS(msg, "run as root");
	CHECK(!in_ns(TAPN));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (netbe_epoll_new(&ep) < 0) {
		printf("Bail out! no epoll loop\n");
		return 1;
	}
	atexit(cleanup);
	RUN(test_bad_values);
	if (!harness_is_root()) {
		SKIP(test_by_name, "needs root");
		SKIP(test_by_path, "needs root");
		SKIP(test_by_pid, "needs root");
		SKIP(test_configure, "needs root");
		SKIP(test_configure_values, "needs root");
		SKIP(test_mtu_only, "needs root");
		SKIP(test_userns_threaded, "needs root");
		SKIP(test_userns_rootless, "needs root");
		SKIP(test_foreign_userns, "needs root");
		SKIP(test_unprivileged, "needs root");
		return harness_done();
	}
	snprintf(ns_name, sizeof(ns_name), "nbtn-%d", (int)getpid());
	if (sh("ip netns add %s", ns_name)) {
		printf("Bail out! cannot create namespace %s\n", ns_name);
		return 1;
	}
	ns_made = true;
	RUN(test_by_name);
	RUN(test_by_path);
	RUN(test_by_pid);
	RUN(test_configure);
	RUN(test_configure_values);
	RUN(test_mtu_only);
	if (sh("unshare --user --map-root-user --net true 2>/dev/null") == 0) {
		RUN(test_userns_threaded);
		RUN(test_userns_rootless);
		RUN(test_foreign_userns);
	} else {
		SKIP(test_userns_threaded, "user namespaces unavailable (unshare --user failed)");
		SKIP(test_userns_rootless, "user namespaces unavailable (unshare --user failed)");
		SKIP(test_foreign_userns, "user namespaces unavailable (unshare --user failed)");
	}
	RUN(test_unprivileged);
	return harness_done();
}
