/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * openclose.c - open every spec given on the command line (all at once, so
 * "pair:x pair:x" makes both ends), negotiate, enable receive, run the loop
 * briefly, close everything; three rounds. Run under valgrind by
 * valgrind.sh to show that no backend leaks on open and close.
 * With --netns first (root only), it runs in a private network namespace.
 * Exit: 0, or 1 when an open fails (the message is printed).
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "netbe.h"

#define MAX_SPECS 16

/* Open, use and close @n specs once. Return: 0 or 1. */
static int round_trip(struct netbe_epoll *ep, char **specs, int n)
{
	struct netbe *be[MAX_SPECS] = { 0 };
	int i, ret = 0;

	for (i = 0; i < n && !ret; i++) {
		if (netbe_open(&be[i], specs[i], NULL, netbe_epoll_loop(ep)) ||
		    netbe_set_cap(be[i], 0, 12)) {
			fprintf(stderr, "openclose: %s: %s\n", specs[i], netbe_last_error());
			ret = 1;
			break;
		}
		netbe_rx_enable(be[i]);
	}
	for (i = 0; i < 5; i++)
		netbe_epoll_dispatch(ep, 10);
	for (i = n - 1; i >= 0; i--)
		netbe_close(be[i]);
	return ret;
}

int main(int argc, char **argv)
{
	struct netbe_epoll *ep;
	int first = 1, r, ret = 0;

	if (argc > 1 && !strcmp(argv[1], "--netns")) {
		if (unshare(CLONE_NEWNET)) {
			perror("openclose: unshare");
			return 1;
		}
		first = 2;
	}
	if (argc - first > MAX_SPECS || netbe_epoll_new(&ep))
		return 1;
	for (r = 0; r < 3 && !ret; r++)
		ret = round_trip(ep, argv + first, argc - first);
	netbe_epoll_free(ep);
	return ret;
}
