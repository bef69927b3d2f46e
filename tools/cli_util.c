/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli_util.c - what several subcommands print and parse the same way:
 * a handle's counters on one line, a bounded number option, a MAC address,
 * the --control socket.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* Print the fault injection counters of @st that are not zero. */
static void print_fault_stats(const struct netbe_stats *st)
{
	const struct { const char *name; uint64_t v; } c[] = {
		{ "tx_fault_delayed", st->tx_fault_delayed },
		{ "tx_fault_reordered", st->tx_fault_reordered },
		{ "tx_fault_duplicated", st->tx_fault_duplicated },
		{ "tx_fault_corrupted", st->tx_fault_corrupted },
		{ "rx_fault_delayed", st->rx_fault_delayed },
		{ "rx_fault_reordered", st->rx_fault_reordered },
		{ "rx_fault_duplicated", st->rx_fault_duplicated },
		{ "rx_fault_corrupted", st->rx_fault_corrupted },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (c[i].v)
			printf(", %s %llu", c[i].name, (unsigned long long)c[i].v);
}

/* Append @be's capture counters when it captured or failed to. */
static void print_capture(struct netbe *be)
{
	struct netbe_capture_stats c;

	if (netbe_get_capture_stats(be, &c) || (!c.frames && !c.write_errors))
		return;
	printf(", captured %llu frames %llu bytes (%llu truncated, %llu write errors)",
	       (unsigned long long)c.frames, (unsigned long long)c.bytes,
	       (unsigned long long)c.truncated, (unsigned long long)c.write_errors);
}

/** cli_print_stats() - print @be's counters on one line as "LABEL SPEC:
 * tx ..., rx ...", drop reasons, fault and capture counters and rate
 * limit holds only when non-zero. */
void cli_print_stats(const char *label, const char *spec, struct netbe *be)
{
	struct netbe_stats st;
	unsigned i;

	if (!be || netbe_get_stats(be, &st))
		return;
	printf("%s %s: tx %llu frames %llu bytes, rx %llu frames %llu bytes, tx_eagain %llu",
	       label, spec, (unsigned long long)st.tx_frames,
	       (unsigned long long)st.tx_bytes, (unsigned long long)st.rx_frames,
	       (unsigned long long)st.rx_bytes, (unsigned long long)st.tx_eagain);
	for (i = 0; i < NETBE_DROP__MAX; i++)
		if (st.drops[i])
			printf(", %s %llu", netbe_drop_reason_name(i),
			       (unsigned long long)st.drops[i]);
	if (st.peers_refused)
		printf(", peers_refused %llu", (unsigned long long)st.peers_refused);
	print_fault_stats(&st);
	print_capture(be);
	if (st.tx_throttled)
		printf(", tx_throttled %llu (%llu ms)", (unsigned long long)st.tx_throttled,
		       (unsigned long long)(st.tx_throttled_ns / 1000000));
	if (st.rx_throttled)
		printf(", rx_throttled %llu (%llu ms)", (unsigned long long)st.rx_throttled,
		       (unsigned long long)(st.rx_throttled_ns / 1000000));
	printf("\n");
	fflush(stdout);
}

/** cli_parse_uint() - parse @arg as a number from @min to @max for
 * "CMD: --OPT". Return: 0 and *@out set, or 2 (usage error, printed). */
int cli_parse_uint(const char *cmd, const char *opt, const char *arg, long min,
		   long max, const char *unit, unsigned *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < min || v > max) {
		fprintf(stderr, "%s: --%s wants %s from %ld to %ld, got '%s'\n",
			cmd, opt, unit, min, max, arg);
		return 2;
	}
	*out = (unsigned)v;
	return 0;
}

/** cli_control_open() - serve the control socket at @path (--control) on
 * @ep with the @n @handles attached under @names, and say so on stdout.
 * Return: 0 with *@ctl set (NULL when @path is NULL), or 1 after printing
 * what failed on stderr. */
int cli_control_open(const char *cmd, const char *path, struct netbe_epoll *ep,
		     struct netbe *const *handles, const char *const *names,
		     unsigned n, struct netbe_control **ctl)
{
	unsigned i;

	*ctl = NULL;
	if (!path)
		return 0;
	if (netbe_control_open(ctl, path, netbe_epoll_loop(ep)))
		goto fail;
	for (i = 0; i < n; i++)
		if (netbe_control_attach(*ctl, names[i], handles[i]))
			goto fail;
	printf("%s: control socket on %s\n", cmd, path);
	fflush(stdout);
	return 0;
fail:
	fprintf(stderr, "%s: --control %s: %s\n", cmd, path, netbe_last_error());
	netbe_control_close(*ctl);
	*ctl = NULL;
	return 1;
}

/** cli_parse_mac() - parse "xx:xx:xx:xx:xx:xx" into @mac.
 * Return: 0, or 2 (usage error, printed). */
int cli_parse_mac(const char *cmd, const char *arg, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	int i;

	if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6 || (b[0] & 1)) {
		fprintf(stderr, "%s: --mac wants a unicast address like 52:54:00:12:34:56, got '%s'\n",
			cmd, arg);
		return 2;
	}
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}
