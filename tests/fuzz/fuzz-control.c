/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-control.c - libFuzzer target for the control socket's request
 * path: the JSON reader, the dispatcher and every command's argument
 * checks (src/control/).
 *
 * Input: the bytes of one request line. They go to ctl_request() on a
 * control socket without a socket (ctl_alloc) with two handles attached:
 * a null handle and a pair end, so the hostfwd commands run their
 * argument checks and then meet a backend without host forwards (a slirp
 * handle would listen on host ports the input names). Invariants, each
 * aborting when broken:
 *  - every request gets exactly one reply, a single line;
 *  - the reply is valid JSON (read back with the same reader): an object
 *    with one member, "return" or "error", and an error has a non-empty
 *    "desc" string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "json.h"
#include "netbe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-control: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* The control socket and its handles, made once per process. */
static struct netbe_control *fuzz_ctl(void)
{
	static struct netbe_control *ctl;
	static struct netbe_epoll *ep;
	static struct netbe *null_be, *pair_be;

	if (ctl)
		return ctl;
	netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
	ASSERT(netbe_epoll_new(&ep) == 0);
	ASSERT(netbe_open(&null_be, "null", NULL, netbe_epoll_loop(ep)) == 0);
	ASSERT(netbe_open(&pair_be, "pair:fuzz", NULL, netbe_epoll_loop(ep)) == 0);
	ctl = ctl_alloc();
	ASSERT(ctl);
	ASSERT(netbe_control_attach(ctl, "null", null_be) == 0);
	ASSERT(netbe_control_attach(ctl, "p", pair_be) == 0);
	return ctl;
}

/* Check the invariants on @reply. */
static void check_reply(const char *reply)
{
	const struct json_value *ret, *err, *desc;
	struct json_doc d;
	char why[128];

	ASSERT(reply && *reply);
	ASSERT(!strchr(reply, '\n'));
	ASSERT(json_parse(&d, reply, strlen(reply), why, sizeof(why)) == 0);
	ASSERT(d.root->type == JSON_OBJECT && d.root->count == 1);
	ret = json_member(d.root, "return");
	err = json_member(d.root, "error");
	ASSERT(ret || err);
	if (err) {
		desc = json_member(err, "desc");
		ASSERT(desc && desc->type == JSON_STRING && desc->len > 0);
	}
	json_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netbe_control *ctl = fuzz_ctl();
	struct json_writer w;

	if (size > NETBE_CONTROL_LINE_MAX)
		return 0;
	jw_init(&w);
	ctl_request(ctl, (const char *)data, size, &w);
	check_reply(jw_text(&w));
	jw_free(&w);
	return 0;
}
