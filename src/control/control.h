/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.h - inside the control socket: the request dispatcher, the
 * command table and what commands may ask of the control socket (its
 * attached handles). The socket and its clients are control.c's alone.
 */
#ifndef NETBE_CONTROL_H
#define NETBE_CONTROL_H

#include <stddef.h>

#include "json.h"
#include "netbe.h"

/* Longest handle name, NUL excluded. */
#define CTL_NAME_MAX 63
/* Longest error description a command gives. */
#define CTL_ERR_MAX 512

/*
 * A command: @fn reads its @args (the request's "arguments" object, NULL
 * when absent) and writes its return value, one JSON value, to @ret.
 * Return: 0, or -1 with a one-line description in @err (CTL_ERR_MAX bytes;
 * the dispatcher then throws @ret away and replies with the error).
 */
struct ctl_command {
	const char *name;
	int (*fn)(struct netbe_control *ctl, const struct json_value *args,
		  struct json_writer *ret, char *err);
};

/* The command table (commands.c); adding a command is one line there. */
extern const struct ctl_command ctl_commands[];
extern const unsigned ctl_ncommands;

/**
 * ctl_alloc() - a control socket without a socket or loop, for requests
 * fed through ctl_request() (tests, the fuzzer). Free it with
 * netbe_control_close(). Return: it, or NULL when out of memory.
 */
struct netbe_control *ctl_alloc(void);

/**
 * ctl_request() - answer one request: @len bytes of @text, without the
 * newline. @out (initialised, empty) gets the reply, one JSON object
 * ({"return": ...} or {"error": {"desc": ...}}) without a newline.
 */
void ctl_request(struct netbe_control *ctl, const char *text, size_t len,
		 struct json_writer *out);

/** ctl_handle_count() - Return: how many handles are attached. */
unsigned ctl_handle_count(const struct netbe_control *ctl);

/** ctl_handle_at() - Return: the @i-th attached handle (attach order),
 * its name in *@name; NULL past the end. */
struct netbe *ctl_handle_at(const struct netbe_control *ctl, unsigned i,
			    const char **name);

/** ctl_handle_named() - Return: the handle attached as @name, or NULL. */
struct netbe *ctl_handle_named(const struct netbe_control *ctl, const char *name);

#endif /* NETBE_CONTROL_H */
