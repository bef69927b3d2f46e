/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mcast.c - a hub over a multicast group: every member sends each frame as
 * one datagram to the group and hears every other member's frames.
 *
 *   mcast:group=ADDR:PORT[,local=ADDR][,ttl=N][,loop=on|off]
 *
 * Wire-compatible with QEMU's -netdev socket,mcast=ADDR:PORT[,localaddr=]
 * and with -netdev dgram whose remote is a multicast group: the bare frame
 * is the datagram's payload.
 *
 * Theory of operation. A member has two sockets. The receive socket is
 * bound to group:PORT with SO_REUSEADDR (so every member on a host, QEMU
 * included, shares the port) and joins the group on the interface that
 * local names; binding to the group address keeps unicast traffic to the
 * port out. The send socket is bound to an ephemeral port on local,
 * carries the multicast interface, TTL and loop settings, and is
 * connected to the group. Members on one host hear each other only
 * through IP_MULTICAST_LOOP (on by default, as QEMU does), which also
 * brings every frame back to its sender; those echoes are recognised
 * because their source address and port are the send socket's own
 * (getsockname() after connect()), unique per member even on one host, and
 * they are dropped without being counted (they are not frames anybody sent
 * us). Hashing recently sent frames was the alternative; it costs a hash
 * per frame each way and misfires on identical frames from two members.
 *
 * IPv4 groups take local=ADDR, an address of the interface to use (default:
 * the interface the routing table picks for the group; 127.0.0.1 keeps the
 * traffic on loopback, which needs no route and no MULTICAST flag on lo).
 * IPv6 groups (ff00::/8) take local=IFNAME instead, because IPv6 selects
 * multicast interfaces by index.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "backend.h"
#include "dgram_io.h"
#include "log.h"
#include "spec.h"

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif

#define MCAST_UDP4_MAX (65535 - 20 - 8)
#define MCAST_UDP6_MAX (65535 - 8)

struct mcast_priv {
	int rx_fd;                         /* bound to the group, joined */
	int tx_fd;                         /* connected to the group */
	struct sockaddr_storage group;
	socklen_t group_len;
	struct sockaddr_storage self;      /* tx_fd's address: echoes come from it */
	struct in_addr local4;             /* IPv4: interface address */
	unsigned ifindex;                  /* IPv6: interface index */
	const char *group_str;             /* valid during open, for messages */
	struct dgram_io io;
};

static const struct netbe_key mcast_keys[] = {
	{ .name = "group",
	  .help = "ADDR:PORT | [V6ADDR]:PORT: the multicast group and port every "
		  "member uses (required), e.g. 230.0.0.1:6100" },
	{ .name = "local",
	  .help = "ADDR (IPv4 group) | IFNAME (IPv6 group): the interface to join "
		  "and send on (default: the route's choice; 127.0.0.1 keeps "
		  "everything on loopback)" },
	{ .name = "ttl",
	  .help = "0..255: multicast TTL / hop limit of sent frames (default 1: "
		  "the local link only)" },
	{ .name = "loop",
	  .help = "on|off: loop sent frames back to members on this host "
		  "(default on, as QEMU; own frames are dropped)" },
	{ .name = NULL }
};

/**
 * mcast_is_echo() - the source filter: our own frames come back looped
 * Return: DGRAM_ECHO for a datagram from our send socket, else DGRAM_ACCEPT.
 */
static enum dgram_verdict mcast_is_echo(const struct sockaddr_storage *from,
					socklen_t len, const void *ctx)
{
	const struct mcast_priv *p = ctx;

	(void)len;
	return dgram_io_same_inet(from, &p->self) ? DGRAM_ECHO : DGRAM_ACCEPT;
}

/**
 * mcast_sockopt() - setsockopt() with an error message naming @what
 * Return: 0 or -errno.
 */
static int mcast_sockopt(int fd, int level, int name, const void *val,
			 socklen_t len, const char *what)
{
	if (setsockopt(fd, level, name, val, len) < 0)
		return netbe_errf(-errno, "mcast: cannot set %s: %s", what, strerror(errno));
	return 0;
}

/**
 * mcast_parse_local() - local= as an IPv4 address or an IPv6 interface
 * Return: 0 with p->local4 / p->ifindex set, or -EINVAL with a message.
 */
static int mcast_parse_local(struct mcast_priv *p, const char *local)
{
	if (!local)
		return 0;
	if (p->group.ss_family == AF_INET) {
		if (inet_pton(AF_INET, local, &p->local4) != 1)
			return netbe_errf(-EINVAL, "mcast: local=%s is not an IPv4 address - give the address of the interface to use, e.g. local=127.0.0.1",
					  local);
		return 0;
	}
	p->ifindex = if_nametoindex(local);
	if (!p->ifindex)
		return netbe_errf(-EINVAL, "mcast: local=%s is not an interface on this host - for an IPv6 group give an interface name, e.g. local=eth0",
				  local);
	return 0;
}

/**
 * mcast_parse_group() - group= as a multicast ADDR:PORT
 * Return: 0 with p->group set, or -EINVAL with a message.
 */
static int mcast_parse_group(struct mcast_priv *p, const char *group)
{
	struct netbe_addr a;
	bool is_mcast;
	int err;

	if (!group)
		return netbe_errf(-EINVAL, "mcast: group= is missing - e.g. mcast:group=230.0.0.1:6100,local=127.0.0.1");
	err = netbe_addr_parse_key("mcast", "group", group, NETBE_ADDR_NAMES, 0, &a);
	if (err)
		return err;
	p->group = a.ss;
	p->group_len = a.len;
	if (p->group.ss_family == AF_INET)
		is_mcast = IN_MULTICAST(ntohl(((struct sockaddr_in *)&p->group)->sin_addr.s_addr));
	else
		is_mcast = IN6_IS_ADDR_MULTICAST(&((struct sockaddr_in6 *)&p->group)->sin6_addr);
	if (!is_mcast)
		return netbe_errf(-EINVAL, "mcast: group=%s is not a multicast address (224.0.0.0/4 or ff00::/8) - for one unicast peer use dgram:",
				  group);
	p->group_str = group;
	return 0;
}

/**
 * mcast_join() - join the group on the receive socket
 * Return: 0 or -errno with advice.
 */
static int mcast_join(struct mcast_priv *p)
{
	struct ip_mreqn m4 = { .imr_address = p->local4 };
	struct ipv6_mreq m6 = { .ipv6mr_interface = p->ifindex };
	int off = 0, r;

	if (p->group.ss_family == AF_INET) {
		m4.imr_multiaddr = ((struct sockaddr_in *)&p->group)->sin_addr;
		r = setsockopt(p->rx_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m4, sizeof(m4));
		if (r == 0)
			r = mcast_sockopt(p->rx_fd, IPPROTO_IP, IP_MULTICAST_ALL, &off,
					  sizeof(off), "IP_MULTICAST_ALL");
	} else {
		m6.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&p->group)->sin6_addr;
		r = setsockopt(p->rx_fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof(m6));
	}
	if (r < 0)
		return netbe_errf(-errno, "mcast: cannot join group %s: %s - name a multicast-capable interface with local= (e.g. local=127.0.0.1 for loopback)",
				  p->group_str, strerror(errno));
	return 0;
}

/**
 * mcast_open_rx() - the receive socket: SO_REUSEADDR, bound to the group,
 * joined
 * Return: 0 or -errno.
 */
static int mcast_open_rx(struct mcast_priv *p)
{
	struct sockaddr_storage b = p->group;
	int one = 1, err;

	p->rx_fd = socket(p->group.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->rx_fd < 0)
		return netbe_errf(-errno, "mcast: cannot create a UDP socket: %s", strerror(errno));
	err = mcast_sockopt(p->rx_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one),
			    "SO_REUSEADDR");
	if (err)
		return err;
	if (b.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&b)->sin6_scope_id = p->ifindex;
	if (bind(p->rx_fd, (struct sockaddr *)&b, p->group_len) < 0)
		return netbe_errf(-errno, "mcast: cannot bind to group %s: %s - another socket holds the port without SO_REUSEADDR; stop it or pick another port",
				  p->group_str, strerror(errno));
	dgram_io_grow_rcvbuf(p->rx_fd);
	return mcast_join(p);
}

/**
 * mcast_tx_options() - interface, TTL and loop of the send socket
 * Return: 0 or -errno.
 */
static int mcast_tx_options(struct mcast_priv *p, int ttl, int loop)
{
	struct ip_mreqn m4 = { .imr_address = p->local4 };
	int ifindex = (int)p->ifindex, err;

	if (p->group.ss_family == AF_INET) {
		err = mcast_sockopt(p->tx_fd, IPPROTO_IP, IP_MULTICAST_IF, &m4,
				    sizeof(m4), "IP_MULTICAST_IF");
		if (!err)
			err = mcast_sockopt(p->tx_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
					    sizeof(ttl), "IP_MULTICAST_TTL");
		if (!err)
			err = mcast_sockopt(p->tx_fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
					    sizeof(loop), "IP_MULTICAST_LOOP");
		return err;
	}
	err = mcast_sockopt(p->tx_fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex,
			    sizeof(ifindex), "IPV6_MULTICAST_IF");
	if (!err)
		err = mcast_sockopt(p->tx_fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl,
				    sizeof(ttl), "IPV6_MULTICAST_HOPS");
	if (!err)
		err = mcast_sockopt(p->tx_fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop,
				    sizeof(loop), "IPV6_MULTICAST_LOOP");
	return err;
}

/**
 * mcast_open_tx() - the send socket: options, bound to local:0, connected
 * to the group; its address becomes p->self
 * Return: 0 or -errno.
 */
static int mcast_open_tx(struct mcast_priv *p, int ttl, int loop)
{
	struct sockaddr_storage b = { .ss_family = p->group.ss_family };
	socklen_t len = sizeof(p->self);
	int err;

	p->tx_fd = socket(p->group.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->tx_fd < 0)
		return netbe_errf(-errno, "mcast: cannot create a UDP socket: %s", strerror(errno));
	err = mcast_tx_options(p, ttl, loop);
	if (err)
		return err;
	if (b.ss_family == AF_INET)
		((struct sockaddr_in *)&b)->sin_addr = p->local4;
	if (bind(p->tx_fd, (struct sockaddr *)&b, p->group_len) < 0)
		return netbe_errf(-errno, "mcast: cannot bind the send socket to local: %s - give an address of this host",
				  strerror(errno));
	if (connect(p->tx_fd, (struct sockaddr *)&p->group, p->group_len) < 0)
		return netbe_errf(-errno, "mcast: cannot send to group %s: %s - no route to it; name the interface with local= (e.g. local=127.0.0.1)",
				  p->group_str, strerror(errno));
	if (getsockname(p->tx_fd, (struct sockaddr *)&p->self, &len) < 0)
		return netbe_errf(-errno, "mcast: getsockname: %s", strerror(errno));
	return 0;
}

/** mcast_close() - the close op: close both sockets (leaving the group). */
static void mcast_close(struct netbe *be)
{
	struct mcast_priv *p = netbe_priv(be);

	if (p->rx_fd >= 0)
		close(p->rx_fd);
	if (p->tx_fd >= 0)
		close(p->tx_fd);
	p->rx_fd = p->tx_fd = -1;
}

/**
 * mcast_open() - the open op: parse, open the receive and send sockets
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int mcast_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct mcast_priv *p = netbe_priv(be);
	uint64_t ttl;
	bool loop;
	int err;

	p->rx_fd = p->tx_fd = -1;
	err = mcast_parse_group(p, netbe_spec_get(spec, "group"));
	if (!err)
		err = mcast_parse_local(p, netbe_spec_get(spec, "local"));
	if (!err)
		err = netbe_spec_uint(spec, "ttl", 0, 255, 1, &ttl);
	if (!err)
		err = netbe_spec_bool(spec, "loop", true, &loop);
	if (!err)
		err = mcast_open_rx(p);
	if (!err)
		err = mcast_open_tx(p, (int)ttl, loop);
	p->group_str = NULL;
	if (err) {
		mcast_close(be);
		return err;
	}
	be->be_hdr_len = 0;
	be->native_caps = 0;
	be->rx_fd = p->rx_fd;
	be->tx_fd = p->tx_fd;
	be->tx_events = NETBE_EV_OUT;
	be->tx_max = p->group.ss_family == AF_INET ? MCAST_UDP4_MAX : MCAST_UDP6_MAX;
	return 0;
}

/**
 * mcast_send() - the send op: every frame to the group
 * Return: frames consumed, -EAGAIN, or -errno when the socket is unusable.
 */
static int mcast_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct mcast_priv *p = netbe_priv(be);

	return dgram_io_send(&p->io, p->tx_fd, NULL, 0, x, n, "mcast");
}

/**
 * mcast_recv() - the recv op: every member's frames but our own
 * Return: frames received, 0 when none pending, or -errno.
 */
static int mcast_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct mcast_priv *p = netbe_priv(be);

	return dgram_io_recv(be, &p->io, p->rx_fd, x, n, mcast_is_echo, p);
}

const struct netbe_backend netbe_backend_mcast = {
	.name = "mcast",
	.help = "a hub over a multicast group, one frame per datagram (QEMU -netdev socket,mcast= compatible)",
	.name_use = NETBE_NAME_NONE,
	.keys = mcast_keys,
	.priv_size = sizeof(struct mcast_priv),
	.open = mcast_open,
	.close = mcast_close,
	.send = mcast_send,
	.recv = mcast_recv,
};
