/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netns.h - doing something inside another network namespace without
 * moving the caller: a spec's netns=PID|PATH|NAME is opened here, and
 * netbe_netns_call() runs a function in a forked child that enters that
 * namespace (joining the user namespace owning it first when it may not
 * enter otherwise, like slirp4netns) and hands back the fd the function
 * opened. The caller's namespaces and threads are
 * never touched.
 */
#ifndef NETBE_NETNS_H
#define NETBE_NETNS_H

#include <stddef.h>
#include <sys/types.h>

/* An opened network namespace. */
struct netbe_netns {
	int net_fd;            /* the network namespace */
	int user_fd;           /* the user namespace owning it when that is
				* not ours and can be joined, else -1 */
	uid_t owner;           /* the uid owning user_fd's namespace */
	char label[160];       /* "WHO: netns=VALUE", for messages */
};

/*
 * The function netbe_netns_call() runs in the namespace, in a child
 * forked from a process that may have other threads: it may only make
 * async-signal-safe calls (no allocation, no stdio, no netbe_errf), and
 * reports details through @res (@res_len bytes, copied back to the caller).
 * Return: an fd to hand back, or a negative errno.
 */
typedef int (*netbe_netns_fn)(void *arg, void *res, size_t res_len);

/**
 * netbe_netns_open() - open the namespace that netns=@value of backend
 * @who names: a PID (its /proc/PID/ns/net), a path holding '/' (a
 * bind-mounted namespace file such as /run/netns/X or /proc/PID/ns/net)
 * or a NAME of `ip netns` (/run/netns/NAME)
 * Return: 0 with @ns filled, or a negative errno with a message saying what
 * to do (no such process or file, no permission, not a network namespace).
 */
int netbe_netns_open(struct netbe_netns *ns, const char *who,
		     const char *value);

/**
 * netbe_netns_call() - run @fn(@arg, @res, @res_len) in a child that
 * entered @ns, and collect what it returns
 * @ret: receives @fn's result: an fd now open in this process
 *       (close-on-exec), or @fn's negative errno with @res filled in
 * Return: 0 when @fn ran (look at *@ret), or a negative errno with a
 * message when the namespace could not be entered or the child failed.
 */
int netbe_netns_call(const struct netbe_netns *ns, netbe_netns_fn fn,
		     void *arg, void *res, size_t res_len, int *ret);

/** netbe_netns_close() - close what netbe_netns_open() opened; safe twice. */
void netbe_netns_close(struct netbe_netns *ns);

#endif /* NETBE_NETNS_H */
