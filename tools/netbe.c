/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netbe.c - the netbe command line tool: a thin dispatcher to the
 * subcommands, which use the public API only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "netbe.h"

#ifndef NETBE_VERSION
#error "NETBE_VERSION must be defined (tools/meson.build passes meson.project_version())"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* The one list of commands: dispatch, `netbe --help`, and through that the
 * bash completion (data/bash-completion/netbe) and doc/man/netbe.1. */
static const struct command commands[] = {
	{ "list", netbe_cmd_list, "list                          backends, their aliases, keys and help" },
	{ "patch", netbe_cmd_patch, "patch [opts] SPEC SPEC        a userspace L2 cable between two backends" },
	{ "probe", netbe_cmd_probe, "probe [opts] SPEC             a minimal guest: DHCP, ARP, ping the gateway" },
	{ "bench", netbe_cmd_bench, "bench tx|rx SPEC [opts]       a frame generator / sink: Mpps, Gbit/s, drops" },
	{ "vhost-user", netbe_cmd_vhost_user, "vhost-user [opts] SPEC        a vhost-user-net device over a backend, for VMMs" },
	{ "help", cmd_help, "help [COMMAND]                this text, or COMMAND's options" },
	{ "version", cmd_version, "version                       the version of netbe (also --version)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	unsigned i;

	fprintf(out, "usage: netbe COMMAND [ARGS...]\n"
		     "       netbe COMMAND --help | netbe help COMMAND | netbe --version\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out, "\nSPEC is TYPE[:NAME][,key=value...]; `netbe list` shows the types.\n"
		     "NETBE_LOG=err|warn|info|debug sets the log level (default info).\n"
		     "Exit codes: 0 success, 1 failure, 2 usage error.\n");
}

/* Return: the command called @name, or NULL. */
static const struct command *find_command(const char *name)
{
	unsigned i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* Return: true if @arg asks for help (-h or --help). */
static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* `netbe help [COMMAND]`: the usage, or COMMAND's help (its --help).
 * Return: the exit code, 0, or 2 for an unknown command. */
static int cmd_help(int argc, char **argv)
{
	const struct command *c;
	char *help_argv[] = { NULL, "--help", NULL };

	if (argc < 2 || is_help(argv[1]) || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c || argc > 2) {
		if (!c)
			fprintf(stderr, "netbe: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	help_argv[0] = (char *)c->name;
	return c->run(2, help_argv);
}

/* `netbe version`: print "netbe VERSION". Return: the exit code, 0 or 2. */
static int cmd_version(int argc, char **argv)
{
	if (argc > 1 && is_help(argv[1])) {
		printf("usage: netbe version\n  print \"netbe VERSION\" (same as netbe --version)\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: netbe version\n");
		return 2;
	}
	printf("netbe %s\n", NETBE_VERSION);
	return 0;
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
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (is_help(argv[1]))
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc - 1, argv + 1);
	set_log_level();
	c = find_command(argv[1]);
	if (c)
		return c->run(argc - 1, argv + 1);
	fprintf(stderr, "netbe: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
