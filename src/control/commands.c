/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * commands.c - the commands of the control socket, one table.
 *
 * slirp4netns's API, spelled as slirp4netns spells it (rootlesskit's and
 * podman's clients use it unchanged): add_hostfwd, list_hostfwd and
 * remove_hostfwd act on the handle named by an optional "handle"
 * argument, or on the first attached handle with host forwards (slirp).
 * Error descriptions start "bad request: COMMAND: " as slirp4netns's do.
 * netbe's own: list (attached handles), stats (a handle's counters, drop
 * reasons by name), set_link and get_link (the operator's side of a link),
 * set_faults and get_faults, capture_start and capture_stop,
 * set_rate_limit and get_rate_limit. A command is a function and one line in the table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "control.h"

/** fail() - write "bad request: @cmd: @what" to @err. Return: -EINVAL. */
static int fail(char *err, const char *cmd, const char *what)
{
	snprintf(err, CTL_ERR_MAX, "bad request: %s: %s", cmd, what);
	return -EINVAL;
}

/** arg_string() - optional string argument @key of @args.
 * Return: 1 with *@out set, 0 when absent (or null), -EINVAL when not a string. */
static int arg_string(const struct json_value *args, const char *key, const char **out)
{
	const struct json_value *v = json_member(args, key);

	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_STRING)
		return -EINVAL;
	*out = v->str;
	return 1;
}

/** arg_port() - required argument @key, a port from 1 to 65535.
 * Return: 0 with *@port set, or -EINVAL with the error in @err. */
static int arg_port(const struct json_value *args, const char *cmd, const char *key,
		    uint16_t *port, char *err)
{
	char what[64];
	uint64_t v;

	if (json_uint(json_member(args, key), 65535, &v) || !v) {
		snprintf(what, sizeof(what), "bad arguments.%s", key);
		return fail(err, cmd, what);
	}
	*port = (uint16_t)v;
	return 0;
}

/**
 * pick_handle() - the handle a command acts on: the one named by the
 * optional "handle" argument, else the first attached one (with host
 * forwards when @fwd).
 * Return: it with *@name set, or NULL with the error in @err.
 */
static struct netbe *pick_handle(struct netbe_control *ctl, const struct json_value *args,
				 const char *cmd, bool fwd, const char **name, char *err)
{
	struct netbe *be;
	const char *want = NULL;
	char what[CTL_ERR_MAX / 2];
	unsigned i;
	int got = arg_string(args, "handle", &want);

	if (got < 0)
		return fail(err, cmd, "bad arguments.handle"), NULL;
	if (got) {
		be = ctl_handle_named(ctl, want);
		if (!be) {
			snprintf(what, sizeof(what), "no handle named '%.64s' is attached", want);
			return fail(err, cmd, what), NULL;
		}
		*name = want;
		return be;
	}
	for (i = 0; (be = ctl_handle_at(ctl, i, name)); i++)
		if (!fwd || be->ops->hostfwd_add)
			return be;
	return fail(err, cmd, fwd ? "no slirp handle is attached" : "no handle is attached"), NULL;
}

/** parse_ip() - @text as an IPv4 or IPv6 address into @ss (family set,
 * port 0), only @family when it is not AF_UNSPEC. Return: 0 or -EINVAL. */
static int parse_ip(const char *text, int family, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family != AF_INET6 && inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (family != AF_INET && inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/** set_port() - put @port into the AF_INET/AF_INET6 address @ss. */
static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/** parse_proto() - slirp4netns's proto: tcp, udp, or either with 4 or 6
 * (that family only). Return: 0 with *@f's proto and *@family set, or -EINVAL. */
static int parse_proto(const char *p, struct netbe_hostfwd *f, int *family)
{
	size_t n = strlen(p);

	if (n < 3 || n > 4 || (strncmp(p, "tcp", 3) && strncmp(p, "udp", 3)))
		return -EINVAL;
	f->proto = p[0] == 'u' ? NETBE_HOSTFWD_UDP : NETBE_HOSTFWD_TCP;
	*family = AF_UNSPEC;
	if (n == 4 && p[3] == '4')
		*family = AF_INET;
	else if (n == 4 && p[3] == '6')
		*family = AF_INET6;
	else if (n == 4)
		return -EINVAL;
	return 0;
}

/** fwd_from_args() - a forward from add_hostfwd's arguments.
 * Return: 0, or -EINVAL with the error in @err. */
static int fwd_from_args(const struct json_value *args, struct netbe_hostfwd *f,
			 char *err)
{
	static const char cmd[] = "add_hostfwd";
	const char *proto = NULL, *host = NULL, *guest = NULL;
	uint16_t hport, gport;
	int family;

	memset(f, 0, sizeof(*f));
	if (arg_string(args, "proto", &proto) != 1 || parse_proto(proto, f, &family))
		return fail(err, cmd, "bad arguments.proto");
	if (arg_string(args, "host_addr", &host) < 0)
		return fail(err, cmd, "bad arguments.host_addr");
	if (!host || !*host)
		host = family == AF_INET6 ? "::" : "0.0.0.0";
	if (parse_ip(host, family, &f->host))
		return fail(err, cmd, "bad arguments.host_addr");
	if (arg_string(args, "guest_addr", &guest) < 0)
		return fail(err, cmd, "bad arguments.guest_addr");
	if (!guest || !*guest)
		guest = "0.0.0.0";
	if (parse_ip(guest, AF_UNSPEC, &f->guest))
		return fail(err, cmd, "bad arguments.guest_addr");
	if (arg_port(args, cmd, "host_port", &hport, err) ||
	    arg_port(args, cmd, "guest_port", &gport, err))
		return -EINVAL;
	set_port(&f->host, hport);
	set_port(&f->guest, gport);
	return 0;
}

/** cmd_add_hostfwd() - {"proto", "host_addr", "host_port", "guest_addr",
 * "guest_port"} -> {"id": N}. Return: 0 or -EINVAL with @err. */
static int cmd_add_hostfwd(struct netbe_control *ctl, const struct json_value *args,
			   struct json_writer *ret, char *err)
{
	static const char cmd[] = "add_hostfwd";
	struct netbe_hostfwd f;
	const char *name;
	struct netbe *be;
	unsigned id;

	if (fwd_from_args(args, &f, err))
		return -EINVAL;
	be = pick_handle(ctl, args, cmd, true, &name, err);
	if (!be)
		return -EINVAL;
	if (netbe_hostfwd_add(be, &f, &id) < 0)
		return fail(err, cmd, netbe_last_error());
	jw_begin_object(ret);
	jw_key(ret, "id");
	jw_uint(ret, id);
	jw_end_object(ret);
	return 0;
}

/** write_addr() - "KEY": address text, "KEY_port": port of @ss. */
static void write_addr(struct json_writer *w, const char *key, const char *port_key,
		       const struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN] = "";
	uint16_t port;

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, text, sizeof(text));
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, text, sizeof(text));
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	}
	jw_key(w, key);
	jw_string(w, text);
	jw_key(w, port_key);
	jw_uint(w, port);
}

/** cmd_list_hostfwd() - -> {"entries": [{"id", "proto", "host_addr",
 * "host_port", "guest_addr", "guest_port"}...]}. Return: 0 or -EINVAL. */
static int cmd_list_hostfwd(struct netbe_control *ctl, const struct json_value *args,
			    struct json_writer *ret, char *err)
{
	static const char cmd[] = "list_hostfwd";
	struct netbe_hostfwd f[64];
	const char *name;
	struct netbe *be = pick_handle(ctl, args, cmd, true, &name, err);
	int n, i;

	if (!be)
		return -EINVAL;
	n = netbe_hostfwd_list(be, f, 64);
	if (n < 0)
		return fail(err, cmd, netbe_last_error());
	if (n > 64)
		n = 64;
	jw_begin_object(ret);
	jw_key(ret, "entries");
	jw_begin_array(ret);
	for (i = 0; i < n; i++) {
		jw_begin_object(ret);
		jw_key(ret, "id");
		jw_uint(ret, f[i].id);
		jw_key(ret, "proto");
		jw_string(ret, f[i].proto == NETBE_HOSTFWD_UDP ? "udp" : "tcp");
		write_addr(ret, "host_addr", "host_port", &f[i].host);
		write_addr(ret, "guest_addr", "guest_port", &f[i].guest);
		jw_end_object(ret);
	}
	jw_end_array(ret);
	jw_end_object(ret);
	return 0;
}

/** cmd_remove_hostfwd() - {"id": N} -> {}. Return: 0 or -EINVAL with @err. */
static int cmd_remove_hostfwd(struct netbe_control *ctl, const struct json_value *args,
			      struct json_writer *ret, char *err)
{
	static const char cmd[] = "remove_hostfwd";
	const char *name;
	struct netbe *be;
	uint64_t id;

	if (json_uint(json_member(args, "id"), UINT32_MAX, &id) || !id)
		return fail(err, cmd, "bad arguments.id");
	be = pick_handle(ctl, args, cmd, true, &name, err);
	if (!be)
		return -EINVAL;
	if (netbe_hostfwd_remove(be, (unsigned)id) < 0)
		return fail(err, cmd, "bad arguments.id: no such forward");
	jw_begin_object(ret);
	jw_end_object(ret);
	return 0;
}

/** cmd_list() - -> {"handles": [{"name", "backend", "link"}...]}.
 * Return: 0. */
static int cmd_list(struct netbe_control *ctl, const struct json_value *args,
		    struct json_writer *ret, char *err)
{
	const char *name;
	struct netbe *be;
	unsigned i;

	(void)args;
	(void)err;
	jw_begin_object(ret);
	jw_key(ret, "handles");
	jw_begin_array(ret);
	for (i = 0; (be = ctl_handle_at(ctl, i, &name)); i++) {
		jw_begin_object(ret);
		jw_key(ret, "name");
		jw_string(ret, name);
		jw_key(ret, "backend");
		jw_string(ret, netbe_name(be));
		jw_key(ret, "link");
		jw_string(ret, netbe_link_is_up(be) > 0 ? "up" : "down");
		jw_end_object(ret);
	}
	jw_end_array(ret);
	jw_end_object(ret);
	return 0;
}

/* Write the counters appended to struct netbe_stats after drops[]. */
static void stats_tail(struct json_writer *w, const struct netbe_stats *st)
{
	const struct { const char *key; uint64_t v; } c[] = {
		{ "tx_fault_delayed", st->tx_fault_delayed },
		{ "tx_fault_reordered", st->tx_fault_reordered },
		{ "tx_fault_duplicated", st->tx_fault_duplicated },
		{ "tx_fault_corrupted", st->tx_fault_corrupted },
		{ "rx_fault_delayed", st->rx_fault_delayed },
		{ "rx_fault_reordered", st->rx_fault_reordered },
		{ "rx_fault_duplicated", st->rx_fault_duplicated },
		{ "rx_fault_corrupted", st->rx_fault_corrupted },
		{ "tx_throttled", st->tx_throttled },
		{ "rx_throttled", st->rx_throttled },
		{ "tx_throttled_ns", st->tx_throttled_ns },
		{ "rx_throttled_ns", st->rx_throttled_ns },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		jw_key(w, c[i].key);
		jw_uint(w, c[i].v);
	}
}

/** cmd_stats() - {"handle"?} -> the handle's counters, drops by reason.
 * Return: 0 or -EINVAL with @err. */
static int cmd_stats(struct netbe_control *ctl, const struct json_value *args,
		     struct json_writer *ret, char *err)
{
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "stats", false, &name, err);
	struct netbe_stats st;
	unsigned i;

	if (!be || netbe_get_stats(be, &st))
		return be ? fail(err, "stats", netbe_last_error()) : -EINVAL;
	jw_begin_object(ret);
	jw_key(ret, "handle");
	jw_string(ret, name);
	jw_key(ret, "backend");
	jw_string(ret, netbe_name(be));
	jw_key(ret, "tx_frames");
	jw_uint(ret, st.tx_frames);
	jw_key(ret, "tx_bytes");
	jw_uint(ret, st.tx_bytes);
	jw_key(ret, "rx_frames");
	jw_uint(ret, st.rx_frames);
	jw_key(ret, "rx_bytes");
	jw_uint(ret, st.rx_bytes);
	jw_key(ret, "tx_eagain");
	jw_uint(ret, st.tx_eagain);
	jw_key(ret, "peers_refused");
	jw_uint(ret, st.peers_refused);
	stats_tail(ret, &st);
	jw_key(ret, "drops");
	jw_begin_object(ret);
	for (i = 0; i < NETBE_DROP__MAX; i++) {
		jw_key(ret, netbe_drop_reason_name((enum netbe_drop_reason)i));
		jw_uint(ret, st.drops[i]);
	}
	jw_end_object(ret);
	jw_end_object(ret);
	return 0;
}

/** cmd_set_link() - {"handle"?, "up": true|false} -> {}: the operator's
 * side of the handle's link (netbe_set_link_admin()). Return: 0 or -EINVAL. */
static int cmd_set_link(struct netbe_control *ctl, const struct json_value *args,
			struct json_writer *ret, char *err)
{
	const struct json_value *up = json_member(args, "up");
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "set_link", false, &name, err);

	if (!be)
		return -EINVAL;
	if (!up || (up->type != JSON_TRUE && up->type != JSON_FALSE))
		return fail(err, "set_link", "bad arguments.up: true or false");
	if (netbe_set_link_admin(be, up->type == JSON_TRUE))
		return fail(err, "set_link", netbe_last_error());
	jw_begin_object(ret);
	jw_end_object(ret);
	return 0;
}

/** cmd_get_link() - {"handle"?} -> {"admin": bool, "up": bool}: the
 * operator's side and the link the frontend sees. Return: 0 or -EINVAL. */
static int cmd_get_link(struct netbe_control *ctl, const struct json_value *args,
			struct json_writer *ret, char *err)
{
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "get_link", false, &name, err);

	if (!be)
		return -EINVAL;
	jw_begin_object(ret);
	jw_key(ret, "admin");
	jw_bool(ret, netbe_get_link_admin(be) == 1);
	jw_key(ret, "up");
	jw_bool(ret, netbe_link_is_up(be) == 1);
	jw_end_object(ret);
	return 0;
}

/** arg_direction() - argument "direction": "tx" or "rx" into *@dir.
 * Return: 0, or -EINVAL with @err. */
static int arg_direction(const struct json_value *args, const char *cmd,
			 enum netbe_direction *dir, char *err)
{
	const char *d = NULL;

	if (arg_string(args, "direction", &d) != 1 ||
	    (strcmp(d, "tx") && strcmp(d, "rx")))
		return fail(err, cmd, "bad arguments.direction: \"tx\" or \"rx\"");
	*dir = strcmp(d, "tx") ? NETBE_DIR_RX : NETBE_DIR_TX;
	return 0;
}

/** arg_uint_opt() - optional integer argument @key (0..@max) into *@out,
 * left alone when absent. Return: 0, or -EINVAL with @err. */
static int arg_uint_opt(const struct json_value *args, const char *cmd,
			const char *key, uint64_t max, uint64_t *out, char *err)
{
	const struct json_value *v = json_member(args, key);
	char what[64];

	if (!v)
		return 0;
	if (json_uint(v, max, out)) {
		snprintf(what, sizeof(what), "bad arguments.%s: 0 to %llu", key,
			 (unsigned long long)max);
		return fail(err, cmd, what);
	}
	return 0;
}

/* The fields of struct netbe_faults as the socket names them. */
static const struct {
	const char *key;
	size_t off;
	uint64_t max;
} fault_fields[] = {
	{ "loss_ppm", offsetof(struct netbe_faults, loss_ppm), NETBE_FAULT_PPM_MAX },
	{ "delay_ms", offsetof(struct netbe_faults, delay_ms), NETBE_FAULT_DELAY_MAX_MS },
	{ "jitter_ms", offsetof(struct netbe_faults, jitter_ms), NETBE_FAULT_DELAY_MAX_MS },
	{ "reorder_ppm", offsetof(struct netbe_faults, reorder_ppm), NETBE_FAULT_PPM_MAX },
	{ "dup_ppm", offsetof(struct netbe_faults, dup_ppm), NETBE_FAULT_PPM_MAX },
	{ "corrupt_ppm", offsetof(struct netbe_faults, corrupt_ppm), NETBE_FAULT_PPM_MAX },
};

/** cmd_set_faults() - {"handle"?, "direction", "loss_ppm"?, "delay_ms"?,
 * "jitter_ms"?, "reorder_ppm"?, "dup_ppm"?, "corrupt_ppm"?, "seed"?} -> {}:
 * the direction's faults, absent fields 0 (all absent: off).
 * Return: 0 or -EINVAL. */
static int cmd_set_faults(struct netbe_control *ctl, const struct json_value *args,
			  struct json_writer *ret, char *err)
{
	struct netbe_faults f = { .size = sizeof(f) };
	enum netbe_direction dir;
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "set_faults", false, &name, err);
	unsigned i;
	uint64_t v;

	if (!be || arg_direction(args, "set_faults", &dir, err))
		return -EINVAL;
	for (i = 0; i < sizeof(fault_fields) / sizeof(fault_fields[0]); i++) {
		v = 0;
		if (arg_uint_opt(args, "set_faults", fault_fields[i].key, fault_fields[i].max, &v, err))
			return -EINVAL;
		*(uint32_t *)(void *)((char *)&f + fault_fields[i].off) = (uint32_t)v;
	}
	if (arg_uint_opt(args, "set_faults", "seed", UINT64_MAX >> 11, &f.seed, err))
		return -EINVAL;
	if (netbe_set_faults(be, dir, &f))
		return fail(err, "set_faults", netbe_last_error());
	jw_begin_object(ret);
	jw_end_object(ret);
	return 0;
}

/** cmd_get_faults() - {"handle"?, "direction"} -> the direction's faults
 * under the names set_faults takes, and the seed. Return: 0 or -EINVAL. */
static int cmd_get_faults(struct netbe_control *ctl, const struct json_value *args,
			  struct json_writer *ret, char *err)
{
	struct netbe_faults f = { .size = sizeof(f) };
	enum netbe_direction dir;
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "get_faults", false, &name, err);
	unsigned i;

	if (!be || arg_direction(args, "get_faults", &dir, err))
		return -EINVAL;
	if (netbe_get_faults(be, dir, &f))
		return fail(err, "get_faults", netbe_last_error());
	jw_begin_object(ret);
	for (i = 0; i < sizeof(fault_fields) / sizeof(fault_fields[0]); i++) {
		jw_key(ret, fault_fields[i].key);
		jw_uint(ret, *(const uint32_t *)(const void *)((const char *)&f + fault_fields[i].off));
	}
	jw_key(ret, "seed");
	jw_uint(ret, f.seed);
	jw_end_object(ret);
	return 0;
}

/** cmd_capture_start() - {"handle"?, "path", "snaplen"?, "format"?:
 * "pcapng"|"pcap"} -> {}: start capturing the handle into path.
 * Return: 0 or -EINVAL. */
static int cmd_capture_start(struct netbe_control *ctl, const struct json_value *args,
			     struct json_writer *ret, char *err)
{
	enum netbe_capture_format format = NETBE_CAPTURE_PCAPNG;
	uint64_t snaplen = NETBE_CAPTURE_SNAPLEN_MAX;
	const char *name, *path = NULL, *fmt = NULL;
	struct netbe *be = pick_handle(ctl, args, "capture_start", false, &name, err);

	if (!be)
		return -EINVAL;
	if (arg_string(args, "path", &path) != 1 || !*path)
		return fail(err, "capture_start", "bad arguments.path: a file name");
	if (arg_string(args, "format", &fmt) < 0 ||
	    (fmt && strcmp(fmt, "pcapng") && strcmp(fmt, "pcap")))
		return fail(err, "capture_start", "bad arguments.format: \"pcapng\" or \"pcap\"");
	if (fmt && !strcmp(fmt, "pcap"))
		format = NETBE_CAPTURE_PCAP;
	if (arg_uint_opt(args, "capture_start", "snaplen", NETBE_CAPTURE_SNAPLEN_MAX, &snaplen, err))
		return -EINVAL;
	if (netbe_capture_start(be, path, (unsigned)snaplen, format))
		return fail(err, "capture_start", netbe_last_error());
	jw_begin_object(ret);
	jw_end_object(ret);
	return 0;
}

/** cmd_capture_stop() - {"handle"?} -> {"frames", "bytes", "truncated",
 * "write_errors"}: stop the handle's capture, with its counters.
 * Return: 0 or -EINVAL. */
static int cmd_capture_stop(struct netbe_control *ctl, const struct json_value *args,
			    struct json_writer *ret, char *err)
{
	struct netbe_capture_stats c;
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "capture_stop", false, &name, err);

	if (!be)
		return -EINVAL;
	if (netbe_capture_stop(be) || netbe_get_capture_stats(be, &c))
		return fail(err, "capture_stop", netbe_last_error());
	jw_begin_object(ret);
	jw_key(ret, "frames");
	jw_uint(ret, c.frames);
	jw_key(ret, "bytes");
	jw_uint(ret, c.bytes);
	jw_key(ret, "truncated");
	jw_uint(ret, c.truncated);
	jw_key(ret, "write_errors");
	jw_uint(ret, c.write_errors);
	jw_end_object(ret);
	return 0;
}

/** arg_bucket() - optional object argument @key {"size", "refill_ms",
 * "one_time_burst"?} into *@b (all 0 when absent). Return: 0 or -EINVAL. */
static int arg_bucket(const struct json_value *args, const char *cmd, const char *key,
		      struct netbe_token_bucket *b, char *err)
{
	const struct json_value *o = json_member(args, key);
	char what[96];

	memset(b, 0, sizeof(*b));
	if (!o)
		return 0;
	snprintf(what, sizeof(what), "bad arguments.%s: {\"size\": N, \"refill_ms\": MS, \"one_time_burst\"?: N}", key);
	if (o->type != JSON_OBJECT ||
	    json_uint(json_member(o, "size"), UINT64_MAX >> 11, &b->size) ||
	    json_uint(json_member(o, "refill_ms"), UINT64_MAX >> 11, &b->refill_ms) ||
	    (json_member(o, "one_time_burst") &&
	     json_uint(json_member(o, "one_time_burst"), UINT64_MAX >> 11, &b->one_time_burst)))
		return fail(err, cmd, what);
	return 0;
}

/** cmd_set_rate_limit() - {"handle"?, "direction", "bytes"?: BUCKET,
 * "ops"?: BUCKET} -> {}: the direction's limit (both absent: none), for
 * the handle's whole rate group. Return: 0 or -EINVAL. */
static int cmd_set_rate_limit(struct netbe_control *ctl, const struct json_value *args,
			      struct json_writer *ret, char *err)
{
	struct netbe_rate_limit rl = { .struct_size = sizeof(rl) };
	enum netbe_direction dir;
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "set_rate_limit", false, &name, err);

	if (!be || arg_direction(args, "set_rate_limit", &dir, err) ||
	    arg_bucket(args, "set_rate_limit", "bytes", &rl.bytes, err) ||
	    arg_bucket(args, "set_rate_limit", "ops", &rl.ops, err))
		return -EINVAL;
	if (netbe_set_rate_limit(be, dir, &rl))
		return fail(err, "set_rate_limit", netbe_last_error());
	jw_begin_object(ret);
	jw_end_object(ret);
	return 0;
}

/* Write bucket @b as the object set_rate_limit takes. */
static void jw_bucket(struct json_writer *w, const char *key,
		      const struct netbe_token_bucket *b)
{
	jw_key(w, key);
	jw_begin_object(w);
	jw_key(w, "size");
	jw_uint(w, b->size);
	jw_key(w, "refill_ms");
	jw_uint(w, b->refill_ms);
	jw_key(w, "one_time_burst");
	jw_uint(w, b->one_time_burst);
	jw_end_object(w);
}

/** cmd_get_rate_limit() - {"handle"?, "direction"} -> {"bytes", "ops"}
 * as set_rate_limit takes them (size 0: no limit). Return: 0 or -EINVAL. */
static int cmd_get_rate_limit(struct netbe_control *ctl, const struct json_value *args,
			      struct json_writer *ret, char *err)
{
	struct netbe_rate_limit rl = { .struct_size = sizeof(rl) };
	enum netbe_direction dir;
	const char *name;
	struct netbe *be = pick_handle(ctl, args, "get_rate_limit", false, &name, err);

	if (!be || arg_direction(args, "get_rate_limit", &dir, err))
		return -EINVAL;
	if (netbe_get_rate_limit(be, dir, &rl))
		return fail(err, "get_rate_limit", netbe_last_error());
	jw_begin_object(ret);
	jw_bucket(ret, "bytes", &rl.bytes);
	jw_bucket(ret, "ops", &rl.ops);
	jw_end_object(ret);
	return 0;
}

const struct ctl_command ctl_commands[] = {
	{ "add_hostfwd", cmd_add_hostfwd },
	{ "list_hostfwd", cmd_list_hostfwd },
	{ "remove_hostfwd", cmd_remove_hostfwd },
	{ "list", cmd_list },
	{ "stats", cmd_stats },
	{ "set_link", cmd_set_link },
	{ "get_link", cmd_get_link },
	{ "set_faults", cmd_set_faults },
	{ "get_faults", cmd_get_faults },
	{ "capture_start", cmd_capture_start },
	{ "capture_stop", cmd_capture_stop },
	{ "set_rate_limit", cmd_set_rate_limit },
	{ "get_rate_limit", cmd_get_rate_limit },
};

const unsigned ctl_ncommands = sizeof(ctl_commands) / sizeof(ctl_commands[0]);
