/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * patch.c - `netbe patch SPEC_A SPEC_B`: a userspace L2 cable.
 *
 * The data path (negotiation, bursts, back-pressure, inline answers) is
 * in cable.c; this file is the command line around it. A backend that
 * fails (a tap deleted) ends the patch with a message and exit code 1;
 * SIGINT/SIGTERM end it with exit code 0. Both print the counters, and
 * per direction how many frames moved in how many receive bursts.
 * --busy-poll makes the loop spin for a while after traffic instead of
 * sleeping (netbe_epoll_set_busy_poll), for poll-mode comparisons and
 * latency. --control PATH serves the control socket (doc/control.md) with
 * end A attached as "a" and end B as "b": slirp4netns-style host
 * forwards at run time, counters.
 *
 * --threads 2 runs each direction on its own thread: the main thread runs
 * the loop of direction A->B (with the --stats timer), a second thread the
 * loop of B->A (cable.c says what belongs to which). The signal handler
 * stops both loops (netbe_epoll_stop() is async-signal-safe); the second
 * thread blocks the signals so they reach the main thread's handler. The
 * counters are printed once both loops have returned.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cable.h"
#include "cli.h"
#include "netbe.h"

struct patch {
	struct netbe_epoll *ep;       /* direction A->B, or both */
	struct netbe_epoll *ep_b;     /* --threads 2: direction B->A */
	struct cable *cable;
	const char *spec_a, *spec_b;
	const char *control;
	struct netbe_control *ctl;
	int run_b;                    /* netbe_epoll_run(ep_b)'s result */
};

/* The options of a run. */
struct patch_opts {
	unsigned stats;               /* --stats seconds, 0 for none */
	unsigned busy_us;             /* --busy-poll */
	unsigned threads;             /* --threads: 1 or 2 */
};

static struct netbe_epoll *signal_loops[2];

/* SIGINT/SIGTERM: stop the loops; patch_run() then prints the counters. */
static void on_signal(int sig)
{
	(void)sig;
	if (signal_loops[0])
		netbe_epoll_stop(signal_loops[0]);
	if (signal_loops[1])
		netbe_epoll_stop(signal_loops[1]);
}

/* Print both handles' counters. */
static void print_ends(struct patch *p)
{
	cli_print_stats("A", p->spec_a, cable_end(p->cable, false));
	cli_print_stats("B", p->spec_b, cable_end(p->cable, true));
}

/* Print, per direction, the frames moved, the bursts that moved them and
 * the frames still held for a sink that pushed back (lost at exit). */
static void print_flows(struct patch *p)
{
	struct cable_flow ab, ba;

	cable_get_flow(p->cable, true, &ab);
	cable_get_flow(p->cable, false, &ba);
	printf("A->B: %llu frames in %llu bursts, %llu held, B->A: %llu frames in %llu bursts, %llu held\n",
	       (unsigned long long)ab.frames, (unsigned long long)ab.bursts,
	       (unsigned long long)ab.held, (unsigned long long)ba.frames,
	       (unsigned long long)ba.bursts, (unsigned long long)ba.held);
	fflush(stdout);
}

static void on_stats_timer(void *opaque)
{
	print_ends(opaque);
}

/* Arm the periodic --stats timer. Return: the timer handle or NULL. */
static void *stats_timer(struct patch *p, unsigned seconds)
{
	const struct netbe_loop *l = netbe_epoll_loop(p->ep);
	uint64_t ns = (uint64_t)seconds * 1000000000ULL;
	void *t = NULL;

	if (!seconds || l->ops->timer_add(l->loop, on_stats_timer, p, &t))
		return NULL;
	l->ops->timer_mod(l->loop, t, ns, ns);
	return t;
}

/* The second thread: run the loop of direction B->A. Return: NULL. */
static void *run_b(void *arg)
{
	struct patch *p = arg;

	p->run_b = netbe_epoll_run(p->ep_b);
	return NULL;
}

/* Start the thread of the B->A loop with SIGINT/SIGTERM blocked in it.
 * Return: 0, or an errno from pthread_create() after saying so. */
static int start_b(struct patch *p, pthread_t *thread)
{
	sigset_t block, old;
	int err;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = pthread_create(thread, NULL, run_b, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		fprintf(stderr, "patch: cannot start the second thread: %s\n", strerror(err));
	return err;
}

/* Run the loops until a signal or a failure, the B->A one on a second
 * thread with --threads 2. Return: true when a loop failed. */
static bool run_loops(struct patch *p)
{
	pthread_t thread;
	int ret;

	if (p->ep_b && start_b(p, &thread))
		return true;
	ret = netbe_epoll_run(p->ep);
	if (p->ep_b) {
		netbe_epoll_stop(p->ep_b);   /* the main loop failed on its own */
		pthread_join(thread, NULL);
		if (p->run_b < 0)
			ret = p->run_b;
	}
	return ret < 0;
}

/* Run the cable until a signal or a failure. Return: the exit code. */
static int patch_run(struct patch *p, const struct patch_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int ret;

	signal_loops[0] = p->ep;
	signal_loops[1] = p->ep_b;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	stats_timer(p, o->stats);
	netbe_epoll_set_busy_poll(p->ep, o->busy_us);
	if (p->ep_b)
		netbe_epoll_set_busy_poll(p->ep_b, o->busy_us);
	printf("patch: offloads A 0x%llx B 0x%llx, header %zu bytes\n",
	       (unsigned long long)cable_features(p->cable, false),
	       (unsigned long long)cable_features(p->cable, true),
	       netbe_get_vnet_hdr_len(cable_end(p->cable, false)));
	printf("patch: ready\n");
	fflush(stdout);
	cable_start(p->cable);
	ret = run_loops(p) || cable_failed(p->cable);
	print_ends(p);
	print_flows(p);
	signal_loops[0] = signal_loops[1] = NULL;
	return ret;
}

/* Serve --control with both ends attached. Return: 0, or 1 after a
 * message. */
static int control_open(struct patch *p)
{
	static const char *const names[] = { "a", "b" };
	struct netbe *ends[] = { cable_end(p->cable, false), cable_end(p->cable, true) };

	return cli_control_open("patch", p->control, p->ep, ends, names, 2, &p->ctl);
}

/* Print the usage to @out. Return: 2, the usage-error exit code. */
static int usage(FILE *out)
{
	fprintf(out, "usage: netbe patch [--stats SECONDS] [--busy-poll USEC] [--threads 1|2] [--control PATH] SPEC_A SPEC_B\n"
		     "  a userspace L2 cable between two backends, until SIGINT/SIGTERM (exit 0)\n"
		     "  or a backend failure (exit 1); the counters are printed at the end\n"
		     "  --stats SECONDS  print the counters every SECONDS too\n"
		     "  --busy-poll USEC keep polling for USEC (up to 1000000) after traffic\n"
		     "                   before sleeping: fewer wake-ups, a CPU spinning\n"
		     "  --threads N      1 (default): both directions on one thread; 2: each\n"
		     "                   direction on its own thread (and CPU); a sink's\n"
		     "                   answers then come through its loop, not inline\n"
		     "  --control PATH   serve the control socket (JSON lines, slirp4netns's\n"
		     "                   add_hostfwd/list_hostfwd/remove_hostfwd, list, stats)\n"
		     "                   at PATH, ends attached as \"a\" and \"b\"\n");
	return 2;
}

/* Parse the options. Return: 0, 1 after --help, or 2 on a usage error. */
static int parse_args(int argc, char **argv, struct patch *p,
		      struct patch_opts *o)
{
	static const struct option opts[] = {
		{ "stats", required_argument, NULL, 's' },
		{ "busy-poll", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = 0;

	optind = 1;
	while (!ret && (c = getopt_long(argc, argv, "+s:b:t:h", opts, NULL)) != -1) {
		if (c == 's')
			ret = cli_parse_uint("patch", "stats", optarg, 1, 86400, "seconds", &o->stats);
		else if (c == 'b')
			ret = cli_parse_uint("patch", "busy-poll", optarg, 0, 1000000, "microseconds", &o->busy_us);
		else if (c == 't')
			ret = cli_parse_uint("patch", "threads", optarg, 1, 2, "threads", &o->threads);
		else if (c == 'c')
			p->control = optarg;
		else if (c == 'h')
			return usage(stdout), 1;
		else
			return usage(stderr);
	}
	if (ret)
		return ret;
	if (argc - optind != 2)
		return usage(stderr);
	p->spec_a = argv[optind];
	p->spec_b = argv[optind + 1];
	return 0;
}

int netbe_cmd_patch(int argc, char **argv)
{
	struct patch p = { 0 };
	struct patch_opts o = { .threads = 1 };
	int ret;

	ret = parse_args(argc, argv, &p, &o);
	if (ret)
		return ret == 1 ? 0 : ret;
	ret = netbe_epoll_new(&p.ep);
	if (!ret && o.threads == 2)
		ret = netbe_epoll_new(&p.ep_b);
	if (ret) {
		fprintf(stderr, "patch: cannot create an epoll loop: %s\n", strerror(-ret));
		netbe_epoll_free(p.ep);
		return 1;
	}
	ret = cable_open(&p.cable, p.ep, p.ep_b, p.spec_a, p.spec_b) ? 1
	      : control_open(&p) ? 1 : patch_run(&p, &o);
	netbe_control_close(p.ctl);
	cable_close(p.cable);
	netbe_epoll_free(p.ep_b);
	netbe_epoll_free(p.ep);
	return ret;
}
