/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netbe.c - the netbe command line tool: a thin dispatcher to the
 * subcommands, which use the public API only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "netbe.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{ "list", netbe_cmd_list, "list                          backends, their aliases, keys and help" },
	{ "patch", netbe_cmd_patch, "patch [opts] SPEC SPEC        a userspace L2 cable between two backends" },
	{ "probe", netbe_cmd_probe, "probe [opts] SPEC             a minimal guest: DHCP, ARP, ping the gateway" },
	{ "bench", netbe_cmd_bench, "bench tx|rx SPEC [opts]       a frame generator / sink: Mpps, Gbit/s, drops" },
	{ "vhost-user", netbe_cmd_vhost_user, "vhost-user [opts] SPEC        a vhost-user-net device over a backend, for VMMs" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	unsigned i;

	fprintf(out, "usage: netbe COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out, "\nSPEC is TYPE[:NAME][,key=value...]; `netbe list` shows the types.\n"
		     "NETBE_LOG=err|warn|info|debug sets the log level (default info).\n");
}

/* Apply NETBE_LOG from the environment. */
static void set_log_level(void)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };
	const char *v = getenv("NETBE_LOG");
	unsigned i;

	for (i = 0; v && i < 4; i++)
		if (!strcmp(v, names[i]))
			netbe_set_log(NULL, NULL, (enum netbe_log_level)i);
}

int main(int argc, char **argv)
{
	unsigned i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	set_log_level();
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "netbe: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
