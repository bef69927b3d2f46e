/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * list.c - `netbe list`: every built-in backend with its aliases, the
 * meaning of its NAME, its keys and its help line, straight from the
 * backends' own declarations.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "netbe.h"

/* Print one backend's entry. */
static void print_backend(const struct netbe_backend_info *bi)
{
	const char *const *a;
	const struct netbe_key *k;

	printf("%s", bi->name);
	for (a = bi->aliases; a && *a; a++)
		printf("%s%s", a == bi->aliases ? " (alias " : ", ", *a);
	printf("%s\n    %s\n", bi->aliases && *bi->aliases ? ")" : "", bi->help);
	if (bi->name_help)
		printf("    %-22s %s\n", ":NAME", bi->name_help);
	for (k = bi->keys; k && k->name; k++)
		printf("    %-22s %s%s\n", k->name, k->help,
		       k->flags & NETBE_KEY_REPEAT ? " (repeatable)" : "");
}

/* Print the usage to @out. Return: 2, the usage-error exit code. */
static int usage(FILE *out)
{
	fprintf(out, "usage: netbe list\n"
		     "  print the spec grammar, the keys every backend accepts, and per\n"
		     "  backend built in: its aliases, help, what :NAME means and its keys\n");
	return 2;
}

int netbe_cmd_list(int argc, char **argv)
{
	struct netbe_backend_info bi;
	const struct netbe_key *k;
	unsigned i;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1)
		return usage(stderr);

	printf("spec: TYPE[:NAME][,key=value...]\n\nkeys every backend accepts:\n");
	for (k = netbe_common_keys(); k->name; k++)
		printf("    %-22s %s\n", k->name, k->help);
	printf("\n");
	for (i = 0; netbe_backend_info(i, &bi) == 0; i++)
		print_backend(&bi);
	return 0;
}
