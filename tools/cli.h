/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - the subcommands of the netbe tool. Each takes its own argv,
 * argv[0] being the subcommand name, and returns the process exit code:
 * 0 success, 1 failure, 2 usage error.
 */
#ifndef NETBE_CLI_H
#define NETBE_CLI_H

#include <stdint.h>

#include "netbe.h"

int netbe_cmd_list(int argc, char **argv);
int netbe_cmd_patch(int argc, char **argv);
int netbe_cmd_probe(int argc, char **argv);
int netbe_cmd_bench(int argc, char **argv);
int netbe_cmd_vhost_user(int argc, char **argv);

/* Shared by the subcommands (cli_util.c). */
void cli_print_stats(const char *label, const char *spec, struct netbe *be);
int cli_parse_uint(const char *cmd, const char *opt, const char *arg, long min,
		   long max, const char *unit, unsigned *out);
int cli_parse_mac(const char *cmd, const char *arg, uint8_t mac[6]);
int cli_control_open(const char *cmd, const char *path, struct netbe_epoll *ep,
		     struct netbe *const *handles, const char *const *names,
		     unsigned n, struct netbe_control **ctl);

#endif /* NETBE_CLI_H */
