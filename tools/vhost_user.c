/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vhost_user.c - `netbe vhost-user [opts] SPEC`: a vhost-user-net device
 * over any backend, for QEMU, cloud-hypervisor, crosvm, libvirt and DPDK's
 * virtio_user.
 *
 * The device model and the protocol are the library's
 * (netbe_vhost_user_new()); this file is the command line around them, on
 * the built-in epoll loop. SIGINT/SIGTERM end it with exit code 0 after the
 * counters are printed: one line per queue pair's backend handle, one for
 * the device. --stats prints them periodically too. --control PATH serves
 * the control socket (doc/control.md) with queue pair N's backend
 * attached as "pairN".
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "netbe-virtio.h"

#define DEFAULT_SOCKET "/tmp/netbe-vhost-user.sock"

struct vhu_cli {
	struct netbe_vhost_user_params params;
	unsigned stats;
	const char *control;
	struct netbe_control *ctl;
	struct netbe_epoll *ep;
	struct netbe_vhost_user *vu;
};

static struct netbe_epoll *signal_loop;

/* SIGINT/SIGTERM: stop the loop; the counters are printed after it. */
static void on_signal(int sig)
{
	(void)sig;
	if (signal_loop)
		netbe_epoll_stop(signal_loop);
}

/* Print the device's own counters on one line. */
static void print_device(struct netbe_vdev *dev)
{
	struct netbe_vdev_stats st;

	if (netbe_vdev_get_stats(dev, &st))
		return;
	printf("device: bad_chains %llu, broken_queues %llu, rx_no_buffers %llu, rx_too_big %llu, tx_bad_chains %llu, tx_errors %llu, ctrl_commands %llu, ctrl_errors %llu, notifies %llu\n",
	       (unsigned long long)st.bad_chains, (unsigned long long)st.broken_queues,
	       (unsigned long long)st.rx_no_buffers, (unsigned long long)st.rx_too_big,
	       (unsigned long long)st.tx_bad_chains, (unsigned long long)st.tx_errors,
	       (unsigned long long)st.ctrl_commands, (unsigned long long)st.ctrl_errors,
	       (unsigned long long)st.notifies);
	fflush(stdout);
}

/* Print every pair's backend counters and the device's. */
static void print_all(struct vhu_cli *c)
{
	struct netbe_vdev *dev = netbe_vhost_user_dev(c->vu);
	unsigned i, pairs = c->params.dev.queue_pairs;
	char label[32];

	for (i = 0; i < pairs; i++) {
		snprintf(label, sizeof(label), "pair %u", i);
		cli_print_stats(label, c->params.dev.spec, netbe_vdev_backend(dev, i));
	}
	print_device(dev);
}

static void on_stats_timer(void *opaque)
{
	print_all(opaque);
}

/* Arm the periodic --stats timer. Return: 0 or a negative errno. */
static int stats_timer(struct vhu_cli *c)
{
	const struct netbe_loop *l = netbe_epoll_loop(c->ep);
	uint64_t ns = (uint64_t)c->stats * 1000000000ULL;
	void *t = NULL;
	int err;

	if (!c->stats)
		return 0;
	err = l->ops->timer_add(l->loop, on_stats_timer, c, &t);
	return err ? err : l->ops->timer_mod(l->loop, t, ns, ns);
}

/* Serve until a signal. Return: the exit code. */
static int vhu_run(struct vhu_cli *c)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int ret;

	signal_loop = c->ep;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (stats_timer(c))
		return 1;
	netbe_epoll_set_busy_poll(c->ep, c->params.dev.poll_us);
	printf("vhost-user: ready on %s (%s)\n", c->params.socket_path,
	       c->params.flags & NETBE_VHU_CLIENT ? "client" : "server");
	fflush(stdout);
	ret = netbe_epoll_run(c->ep) < 0;
	print_all(c);
	signal_loop = NULL;
	return ret;
}

/* Serve --control with every queue pair's backend attached as "pairN".
 * Return: 0, or 1 after a message. */
static int control_open(struct vhu_cli *c)
{
	struct netbe_vdev *dev = netbe_vhost_user_dev(c->vu);
	struct netbe *be[NETBE_VDEV_PAIRS_MAX];
	char names[NETBE_VDEV_PAIRS_MAX][16];
	const char *np[NETBE_VDEV_PAIRS_MAX];
	unsigned i, n = c->params.dev.queue_pairs;

	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "pair%u", i);
		np[i] = names[i];
		be[i] = netbe_vdev_backend(dev, i);
	}
	return cli_control_open("vhost-user", c->control, c->ep, be, np, n, &c->ctl);
}

/* Print the usage to @out. Return: 2, the usage-error exit code. */
static int usage(FILE *out)
{
	fprintf(out, "usage: netbe vhost-user [--socket PATH] [--client] [--queues N] [--mac MAC]\n"
			"                        [--stats SECONDS] [--busy-poll USEC] [--control PATH] SPEC\n"
			"  --socket PATH   the vhost-user socket (default " DEFAULT_SOCKET ")\n"
			"  --client        connect to PATH (the frontend listens) and reconnect\n"
			"  --queues N      queue pairs, 1..%d; the spec is opened once per pair\n"
			"                  (tap:NAME,queues=N for a multiqueue tap)\n"
			"  --mac MAC       the device's MAC (default: random, locally administered)\n"
			"  --stats SECONDS print the counters every SECONDS\n"
			"  --busy-poll USEC poll a dry tx ring and the loop for USEC (up to 1000)\n"
			"                  before sleeping: fewer guest kicks, a CPU spinning\n"
			"  --control PATH  serve the control socket (JSON lines, slirp4netns's\n"
			"                  add_hostfwd/list_hostfwd/remove_hostfwd, list, stats)\n"
			"                  at PATH, queue pair N's backend attached as \"pairN\"\n",
		NETBE_VDEV_PAIRS_MAX);
	return 2;
}

/* Apply one option. Return: 0, 1 after --help, or 2 on a usage error. */
static int parse_option(struct vhu_cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 'S':
		c->params.socket_path = arg;
		return 0;
	case 'c':
		c->params.flags |= NETBE_VHU_CLIENT;
		return 0;
	case 'q':
		return cli_parse_uint("vhost-user", "queues", arg, 1, NETBE_VDEV_PAIRS_MAX,
				      "queue pairs", &c->params.dev.queue_pairs);
	case 'm':
		return cli_parse_mac("vhost-user", arg, c->params.dev.mac);
	case 's':
		return cli_parse_uint("vhost-user", "stats", arg, 1, 86400, "seconds", &c->stats);
	case 'b':
		return cli_parse_uint("vhost-user", "busy-poll", arg, 0, 1000,
				      "microseconds", &c->params.dev.poll_us);
	case 'C':
		c->control = arg;
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	default:
		return usage(stderr);
	}
}

/* Parse the command line. Return: 0, 1 after --help, or 2 on a usage
 * error. */
static int parse_args(int argc, char **argv, struct vhu_cli *c)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "client", no_argument, NULL, 'c' },
		{ "queues", required_argument, NULL, 'q' },
		{ "mac", required_argument, NULL, 'm' },
		{ "stats", required_argument, NULL, 's' },
		{ "busy-poll", required_argument, NULL, 'b' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret = 0;

	c->params.socket_path = DEFAULT_SOCKET;
	c->params.dev.queue_pairs = 1;
	optind = 1;
	while (!ret && (opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
		ret = parse_option(c, opt, optarg);
	if (ret)
		return ret;
	if (argc - optind != 1)
		return usage(stderr);
	c->params.dev.spec = argv[optind];
	return 0;
}

int netbe_cmd_vhost_user(int argc, char **argv)
{
	struct vhu_cli c = { 0 };
	int ret;

	ret = parse_args(argc, argv, &c);
	if (ret)
		return ret == 1 ? 0 : ret;
	if (netbe_epoll_new(&c.ep))
		return 1;
	ret = netbe_vhost_user_new(&c.vu, &c.params, netbe_epoll_loop(c.ep)) ? 1
	      : control_open(&c) ? 1 : vhu_run(&c);
	netbe_control_close(c.ctl);
	netbe_vhost_user_free(c.vu);
	netbe_epoll_free(c.ep);
	return ret;
}
