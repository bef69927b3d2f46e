/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtnl.h - a minimal rtnetlink (NETLINK_ROUTE) client: look an interface
 * up, set its MTU and bring it up, add an IPv4 address and a default
 * route; what `slirp4netns --configure` does, without the `ip` binary.
 *
 * Everything here is async-signal-safe (no allocation, no stdio, no
 * locks): it runs in the child that netns.c forks from a process that may
 * have other threads. Functions return negative errnos and record no
 * message; the caller, back in the parent, says what failed.
 */
#ifndef NETBE_RTNL_H
#define NETBE_RTNL_H

#include <stdbool.h>
#include <netinet/in.h>

/* What netbe_rtnl_configure() does to one interface. */
struct netbe_ifconf {
	unsigned mtu;                /* 0: leave it */
	bool up;                     /* bring the interface up */
	bool ipv4;                   /* lo up, address, default route */
	struct in_addr addr;         /* with ipv4: the address ... */
	unsigned prefix;             /* ... its prefix length ... */
	struct in_addr gateway;      /* ... and the default route's gateway */
};

/* The steps of netbe_rtnl_configure(), in the order it takes them. */
enum netbe_rtnl_step {
	NETBE_RTNL_LO_UP,
	NETBE_RTNL_MTU,
	NETBE_RTNL_ADDR,
	NETBE_RTNL_UP,
	NETBE_RTNL_ROUTE,
};

/**
 * netbe_rtnl_open() - a NETLINK_ROUTE socket in the current network
 * namespace
 * Return: the fd (close-on-exec), or a negative errno.
 */
int netbe_rtnl_open(void);

/**
 * netbe_rtnl_ifindex() - the index of interface @name (RTM_GETLINK)
 * Return: the index (> 0), -ENODEV when there is none, or a negative errno.
 */
int netbe_rtnl_ifindex(int s, const char *name);

/**
 * netbe_rtnl_link_set() - set interface @ifindex's MTU (when @mtu is not
 * 0) and, with @up, IFF_UP (RTM_NEWLINK)
 * Return: 0 or a negative errno.
 */
int netbe_rtnl_link_set(int s, int ifindex, unsigned mtu, bool up);

/**
 * netbe_rtnl_addr_add() - add (or replace) IPv4 address @addr/@prefix on
 * interface @ifindex, with its broadcast address (RTM_NEWADDR)
 * Return: 0 or a negative errno.
 */
int netbe_rtnl_addr_add(int s, int ifindex, struct in_addr addr,
			unsigned prefix);

/**
 * netbe_rtnl_default_route() - add the IPv4 default route via @gateway on
 * interface @ifindex to the main table (RTM_NEWROUTE)
 * Return: 0, -EEXIST when there is a default route already, or a negative
 * errno.
 */
int netbe_rtnl_default_route(int s, int ifindex, struct in_addr gateway);

/**
 * netbe_rtnl_configure() - apply @c to interface @ifindex, step by step
 * in enum netbe_rtnl_step order, skipping the steps @c does not ask for
 * @step: receives the step that failed
 * Return: 0 or the negative errno of the failed step.
 */
int netbe_rtnl_configure(int s, int ifindex, const struct netbe_ifconf *c,
			 enum netbe_rtnl_step *step);

/**
 * netbe_rtnl_step_what() - @step as words for a message ("set the MTU")
 * Return: a static string.
 */
const char *netbe_rtnl_step_what(enum netbe_rtnl_step step);

#endif /* NETBE_RTNL_H */
