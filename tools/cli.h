/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - the subcommands of the netbe tool. Each takes its own argv,
 * argv[0] being the subcommand name, and returns the process exit code:
 * 0 success, 1 failure, 2 usage error.
 */
#ifndef NETBE_CLI_H
#define NETBE_CLI_H

int netbe_cmd_list(int argc, char **argv);
int netbe_cmd_patch(int argc, char **argv);
int netbe_cmd_probe(int argc, char **argv);
int netbe_cmd_bench(int argc, char **argv);

#endif /* NETBE_CLI_H */
