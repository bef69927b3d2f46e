/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-vde.c - the vde backend against a fake switch written here and
 * against a real vde_switch, without privileges.
 *
 * The fake switch speaks vde_switch's side of the join (a request on the
 * control stream naming the client's data socket, answered with the
 * address of a data socket of ours), so the test can send what no switch
 * would: datagrams shorter than an Ethernet header (counted as rx_runt)
 * and longer than a frame (counted as rx_too_big, never delivered cut
 * short), fill the handle's queue towards the switch (-EAGAIN, then tx_cb
 * and nothing lost), and hang up (link down, later sends counted as
 * tx_error; with reconnect=1 the handle joins again once the switch
 * answers, and the link comes back up). A real vde_switch, started as a
 * child in a temporary directory, carries frames both ways between two
 * handles, and one with mtu=100 counts a longer frame as rx_too_big. Bad
 * specs fail with a message naming what is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "netbe.h"

#define BIG 20000
/* Where the client's data socket address sits in vde_switch's request:
 * after magic, version and type (three 32-bit fields, packed). */
#define REQ_SOCK_OFF 12

static struct netbe_epoll *ep;
static char tmpdir[64];
static uint8_t buf[BIG];
static int tx_calls;

/* The fake switch: its control listener, the accepted control stream and
 * its data socket, connected to the handle's. */
struct fake {
	char dir[128];
	int listen_fd, ctl_fd, data_fd;
	pthread_t thread;
};

static void on_tx(struct netbe *be, void *opaque)
{
	(void)be;
	(void)opaque;
	tx_calls++;
}

/* Open @spec with the test's callbacks, frames without a header.
 * Return: 0 or -errno. */
static int open_raw(struct netbe **be, const char *spec)
{
	struct netbe_config cfg = { .tx_cb = on_tx };
	int ret = netbe_open(be, spec, &cfg, netbe_epoll_loop(ep));

	return ret ? ret : netbe_set_cap(*be, 0, 0);
}

/* A unix address for @path. Return: its length. */
static socklen_t sun_of(struct sockaddr_un *su, const char *path)
{
	size_t n = strlen(path);

	memset(su, 0, sizeof(*su));
	su->sun_family = AF_UNIX;
	memcpy(su->sun_path, path, n < sizeof(su->sun_path) ? n : sizeof(su->sun_path) - 1);
	return sizeof(*su);
}

/* The switch's side of one join, on its own thread (vde_open() waits for
 * the answer): take the request, connect our data socket to the client's,
 * answer with our data socket's address. */
static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	uint8_t req[512];
	struct sockaddr_un client, mine;
	char path[160];
	ssize_t n;

	f->ctl_fd = accept(f->listen_fd, NULL, NULL);
	if (f->ctl_fd < 0)
		return NULL;
	n = recv(f->ctl_fd, req, sizeof(req), 0);
	if (n < (ssize_t)(REQ_SOCK_OFF + sizeof(client)))
		return NULL;
	memcpy(&client, req + REQ_SOCK_OFF, sizeof(client));
	snprintf(path, sizeof(path), "%s/data", f->dir);
	unlink(path);
	f->data_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (f->data_fd < 0 || bind(f->data_fd, (struct sockaddr *)&mine, sun_of(&mine, path)) ||
	    connect(f->data_fd, (struct sockaddr *)&client, sizeof(client)))
		return NULL;
	if (send(f->ctl_fd, &mine, sizeof(mine), 0) != (ssize_t)sizeof(mine))
		return NULL;
	return f;
}

/* Start a fake switch in a fresh directory and open @keys on it.
 * Return: 0 or -errno. */
static int fake_open(struct fake *f, struct netbe **be, const char *keys)
{
	static unsigned seq;
	struct sockaddr_un su;
	char path[200], spec[300];
	void *res = NULL;
	int ret;

	f->ctl_fd = f->data_fd = -1;
	snprintf(f->dir, sizeof(f->dir), "%s/fake%u", tmpdir, seq++);
	snprintf(path, sizeof(path), "%s/ctl", f->dir);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (mkdir(f->dir, 0700) || f->listen_fd < 0 ||
	    bind(f->listen_fd, (struct sockaddr *)&su, sun_of(&su, path)) ||
	    listen(f->listen_fd, 1) ||
	    pthread_create(&f->thread, NULL, fake_serve, f))
		return -errno;
	snprintf(spec, sizeof(spec), "vde:%s%s", f->dir, keys);
	ret = open_raw(be, spec);
	if (ret)
		shutdown(f->listen_fd, SHUT_RDWR);
	pthread_join(f->thread, &res);
	if (!ret && !res)
		ret = -EPROTO;
	return ret;
}

static void fake_close(struct fake *f)
{
	char cmd[200];

	if (f->listen_fd >= 0)
		close(f->listen_fd);
	if (f->ctl_fd >= 0)
		close(f->ctl_fd);
	if (f->data_fd >= 0)
		close(f->data_fd);
	f->listen_fd = f->ctl_fd = f->data_fd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		printf("# could not remove %s\n", f->dir);
}

/* A broadcast Ethernet frame of @len bytes, numbered @n. */
static void make_frame(uint8_t *fr, size_t len, unsigned n)
{
	memset(fr, 0, len);
	memset(fr, 0xff, 6);
	memcpy(fr + 6, "\x02\x00\x00\x00\x00\x07", 6);
	fr[12] = 0x88;
	fr[13] = 0xb5;
	if (len >= 18)
		memcpy(fr + 14, &n, sizeof(n));
}

/* Receive one frame, dispatching the loop for up to 2 s.
 * Return: its length, 0 when none came, -errno. */
static ssize_t recv_wait(struct netbe *be)
{
	struct iovec iov = { buf, sizeof(buf) };
	uint64_t end = harness_now_ms() + 2000;
	ssize_t r;

	while ((r = netbe_recv(be, &iov, 1)) == 0 && harness_now_ms() < end)
		netbe_epoll_dispatch(ep, 10);
	return r;
}

static uint64_t drops(struct netbe *be, enum netbe_drop_reason why)
{
	struct netbe_stats st;

	netbe_get_stats(be, &st);
	return st.drops[why];
}

/* Runts and over-long datagrams from the switch are dropped and counted;
 * a full-size frame between them arrives whole. */
static void test_hostile_datagrams(void)
{
	static uint8_t d[BIG];
	static const size_t lens[] = { 1, 6, 13, 1519, 9000, BIG, 1518 };
	struct netbe *be = NULL;
	struct fake f;
	unsigned i;

	CHECK_EQ(fake_open(&f, &be, ""), 0);
	if (!be) {
		fake_close(&f);
		return;
	}
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		make_frame(d, lens[i], i);
		CHECK_EQ(send(f.data_fd, d, lens[i], 0), (ssize_t)lens[i]);
	}
	CHECK_EQ(recv_wait(be), 1518);
	CHECK(!memcmp(buf, d, 1518));
	CHECK_EQ(recv_wait(be), 0);
	CHECK_EQ(drops(be, NETBE_DROP_RX_RUNT), 3);
	CHECK_EQ(drops(be, NETBE_DROP_RX_TOO_BIG), 3);
	netbe_close(be);
	fake_close(&f);
}

/* A frame in three pieces reaches the switch as one datagram. */
static void test_send_gathered(void)
{
	uint8_t fr[300], got[400];
	struct iovec iov[3] = { { fr, 10 }, { fr + 10, 90 }, { fr + 100, 200 } };
	struct netbe *be = NULL;
	struct fake f;

	CHECK_EQ(fake_open(&f, &be, ",descr=gather"), 0);
	if (!be) {
		fake_close(&f);
		return;
	}
	make_frame(fr, sizeof(fr), 42);
	CHECK_EQ(netbe_send(be, iov, 3), (ssize_t)sizeof(fr));
	CHECK_EQ(recv(f.data_fd, got, sizeof(got), MSG_DONTWAIT), (ssize_t)sizeof(fr));
	CHECK(!memcmp(got, fr, sizeof(fr)));
	netbe_close(be);
	fake_close(&f);
}

static bool tx_called(void)
{
	uint64_t end = harness_now_ms() + 2000;

	while (!tx_calls && harness_now_ms() < end)
		netbe_epoll_dispatch(ep, 10);
	return tx_calls > 0;
}

/* A switch that does not read: -EAGAIN, nothing lost, tx_cb once it reads. */
static void test_back_pressure(void)
{
	uint8_t fr[60], got[100];
	struct iovec iov = { fr, sizeof(fr) };
	struct netbe *be = NULL;
	struct netbe_stats st;
	struct fake f;
	int sent = 0, read = 0;
	ssize_t r = 0;

	CHECK_EQ(fake_open(&f, &be, ""), 0);
	if (!be) {
		fake_close(&f);
		return;
	}
	make_frame(fr, sizeof(fr), 0);
	while (sent < 100000 && (r = netbe_send(be, &iov, 1)) > 0)
		sent++;
	CHECK_EQ(r, -EAGAIN);
	netbe_get_stats(be, &st);
	CHECK_EQ(st.tx_frames, (uint64_t)sent);
	CHECK_EQ(st.drops[NETBE_DROP_TX_ERROR], 0);
	tx_calls = 0;
	while (recv(f.data_fd, got, sizeof(got), MSG_DONTWAIT) == (ssize_t)sizeof(fr))
		read++;
	CHECK_EQ(read, sent);
	CHECK(tx_called());
	CHECK_EQ(netbe_send(be, &iov, 1), (ssize_t)sizeof(fr));
	netbe_close(be);
	fake_close(&f);
}

static bool link_down_within(struct netbe *be, int ms)
{
	uint64_t end = harness_now_ms() + (uint64_t)ms;

	while (netbe_link_is_up(be) == 1 && harness_now_ms() < end)
		netbe_epoll_dispatch(ep, 10);
	return netbe_link_is_up(be) == 0;
}

/* The switch hangs up: link down; with its data socket gone too, a send
 * is consumed and counted as tx_error, never blocks. */
static void test_switch_gone(void)
{
	uint8_t fr[60];
	struct iovec iov = { fr, sizeof(fr) };
	struct netbe *be = NULL;
	struct fake f;

	CHECK_EQ(fake_open(&f, &be, ""), 0);
	if (!be) {
		fake_close(&f);
		return;
	}
	CHECK_EQ(netbe_link_is_up(be), 1);
	close(f.ctl_fd);
	f.ctl_fd = -1;
	close(f.data_fd);
	f.data_fd = -1;
	CHECK(link_down_within(be, 2000));
	make_frame(fr, sizeof(fr), 0);
	CHECK_EQ(netbe_send(be, &iov, 1), (ssize_t)sizeof(fr));
	CHECK_EQ(drops(be, NETBE_DROP_TX_ERROR), 1);
	netbe_close(be);
	fake_close(&f);
}

static bool link_up_within(struct netbe *be, int ms)
{
	uint64_t end = harness_now_ms() + (uint64_t)ms;

	while (netbe_link_is_up(be) != 1 && harness_now_ms() < end)
		netbe_epoll_dispatch(ep, 10);
	return netbe_link_is_up(be) == 1;
}

/* reconnect=1: the switch hangs up, the link goes down; the switch is
 * back (it answers the next join): the handle joins again within a few
 * periods, the link comes up and frames flow both ways on the new port. */
static void test_rejoin(void)
{
	uint8_t fr[60], got[100];
	struct iovec iov = { fr, sizeof(fr) };
	struct netbe *be = NULL;
	void *res = NULL;
	struct fake f;

	CHECK_EQ(fake_open(&f, &be, ",reconnect=1"), 0);
	if (!be) {
		fake_close(&f);
		return;
	}
	close(f.ctl_fd);
	close(f.data_fd);
	f.ctl_fd = f.data_fd = -1;
	CHECK(link_down_within(be, 2000));
	CHECK_EQ(pthread_create(&f.thread, NULL, fake_serve, &f), 0);
	CHECK(link_up_within(be, 10000));
	pthread_join(f.thread, &res);
	CHECK(res == &f);
	make_frame(fr, sizeof(fr), 5);
	CHECK_EQ(netbe_send(be, &iov, 1), (ssize_t)sizeof(fr));
	CHECK_EQ(recv(f.data_fd, got, sizeof(got), MSG_DONTWAIT), (ssize_t)sizeof(fr));
	CHECK_EQ(send(f.data_fd, fr, sizeof(fr), 0), (ssize_t)sizeof(fr));
	CHECK_EQ(recv_wait(be), (ssize_t)sizeof(fr));
	netbe_close(be);
	fake_close(&f);
}

/* Each bad spec fails with -EINVAL or -ENOENT and a message naming it. */
static void test_bad_specs(void)
{
	static const struct { const char *keys; int err; const char *says; } bad[] = {
		{ ",mode=999", -EINVAL, "mode=999" },
		{ ",mode=rwx", -EINVAL, "octal" },
		{ ",port=0", -EINVAL, "port" },
		{ ",port=70000", -EINVAL, "port" },
		{ ",mtu=10", -EINVAL, "mtu" },
		{ ",mtu=10000", -EINVAL, "mtu" },
		{ ",reconnect=0", -EINVAL, "reconnect" },
		{ ",bogus=1", -EINVAL, "accepted keys" },
	};
	char spec[400], descr[200];
	struct netbe *be = NULL;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "vde:%s%s", tmpdir, bad[i].keys);
		CHECK_EQ(open_raw(&be, spec), bad[i].err);
		CHECK(be == NULL);
		CHECK_STR_CONTAINS(netbe_last_error(), bad[i].says);
	}
	memset(descr, 'x', sizeof(descr) - 1);
	descr[sizeof(descr) - 1] = '\0';
	snprintf(spec, sizeof(spec), "vde:%s,descr=%s", tmpdir, descr);
	CHECK_EQ(open_raw(&be, spec), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "descr=");
	snprintf(spec, sizeof(spec), "vde:%s/no-such-switch", tmpdir);
	CHECK_EQ(open_raw(&be, spec), -ENOENT);
	CHECK_STR_CONTAINS(netbe_last_error(), "vde_switch -s");
	snprintf(spec, sizeof(spec), "vde:%s", tmpdir);
	CHECK(open_raw(&be, spec) < 0);
	CHECK_STR_CONTAINS(netbe_last_error(), "vde: cannot join");
	CHECK(be == NULL);
}

/* A real vde_switch: a child in tmpdir/sw, its stdin a pipe we hold (it
 * exits when that closes), stopped by PID. */
static pid_t sw_pid = -1;
static int sw_stdin = -1;

static void switch_stop(void)
{
	if (sw_pid > 0) {
		kill(sw_pid, SIGTERM);
		waitpid(sw_pid, NULL, 0);
	}
	if (sw_stdin >= 0)
		close(sw_stdin);
	sw_pid = sw_stdin = -1;
}

/* Return: 0 once tmpdir/sw/ctl exists, -errno otherwise. */
static int switch_start(void)
{
	char sw[128], ctl[160];
	struct stat st;
	int pfd[2], i;

	snprintf(sw, sizeof(sw), "%s/sw", tmpdir);
	snprintf(ctl, sizeof(ctl), "%s/ctl", sw);
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	sw_pid = fork();
	if (sw_pid == 0) {
		dup2(pfd[0], 0);
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(126);
		execlp("vde_switch", "vde_switch", "-s", sw, (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	sw_stdin = pfd[1];
	for (i = 0; sw_pid > 0 && i < 300 && stat(ctl, &st); i++)
		usleep(10000);
	return stat(ctl, &st) ? -ENOENT : 0;
}

/* Two handles on a vde_switch: frames both ways, gathered and full-size;
 * a handle with mtu=100 counts a longer frame as rx_too_big. */
static void test_real_switch(void)
{
	uint8_t fr[1518];
	struct iovec two[2] = { { fr, 14 }, { fr + 14, sizeof(fr) - 14 } };
	struct iovec small = { fr, 100 + 18 }, over = { fr, 200 };
	struct netbe *a = NULL, *b = NULL, *c = NULL;
	uint64_t too_big;
	char spec[200];
	unsigned i;

	CHECK_EQ(switch_start(), 0);
	snprintf(spec, sizeof(spec), "vde:%s/sw,descr=test-vde-a", tmpdir);
	CHECK_EQ(open_raw(&a, spec), 0);
	snprintf(spec, sizeof(spec), "vde:%s/sw,descr=test-vde-b", tmpdir);
	CHECK_EQ(open_raw(&b, spec), 0);
	snprintf(spec, sizeof(spec), "vde:%s/sw,mtu=100", tmpdir);
	CHECK_EQ(open_raw(&c, spec), 0);
	for (i = 0; a && b && c && i < 20; i++) {
		make_frame(fr, sizeof(fr), i);
		CHECK_EQ(netbe_send(i % 2 ? a : b, two, 2), (ssize_t)sizeof(fr));
		CHECK_EQ(recv_wait(i % 2 ? b : a), (ssize_t)sizeof(fr));
		CHECK(!memcmp(buf, fr, sizeof(fr)));
	}
	if (c) {
		while (recv_wait(c) > 0)
			;
		too_big = drops(c, NETBE_DROP_RX_TOO_BIG);
		make_frame(fr, 200, 99);
		CHECK_EQ(netbe_send(a, &over, 1), 200);
		CHECK_EQ(netbe_send(a, &small, 1), 118);
		CHECK_EQ(recv_wait(c), 118);
		CHECK_EQ(drops(c, NETBE_DROP_RX_TOO_BIG) - too_big, 1);
	}
	netbe_close(a);
	netbe_close(b);
	netbe_close(c);
	switch_stop();
}

static void cleanup(void)
{
	char cmd[100];

	switch_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (tmpdir[0] && system(cmd))
		printf("# could not remove %s\n", tmpdir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nbtest-vde-XXXXXX");
	if (!mkdtemp(tmpdir) || netbe_epoll_new(&ep)) {
		printf("Bail out! no temporary directory or loop\n");
		return 1;
	}
	atexit(cleanup);
	RUN(test_bad_specs);
	RUN(test_hostile_datagrams);
	RUN(test_send_gathered);
	RUN(test_back_pressure);
	RUN(test_switch_gone);
	RUN(test_rejoin);
	if (system("command -v vde_switch >/dev/null 2>&1"))
		SKIP(test_real_switch, "vde_switch not installed (apt-get install vde2)");
	else
		RUN(test_real_switch);
	netbe_epoll_free(ep);
	return harness_done();
}
