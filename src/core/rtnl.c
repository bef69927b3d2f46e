/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtnl.c - a minimal rtnetlink client (see rtnl.h).
 *
 * Theory of operation. Every call is one request with NLM_F_ACK on a
 * NETLINK_ROUTE socket, built in a fixed buffer on the stack, and one
 * read of the answers until the kernel's acknowledgement (an NLMSG_ERROR
 * with our sequence number: 0 or a negative errno). A lookup
 * (RTM_GETLINK) also gets an RTM_NEWLINK answer before the
 * acknowledgement; its ifi_index is kept. Nothing allocates, nothing
 * prints, nothing takes a lock, so a child forked from a multithreaded
 * process may call all of it (netns.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "rtnl.h"

#define RTNL_REQ_MAX 512
#define RTNL_ANSWER_MAX 8192

/* One request: the header, then the family header and attributes. */
struct rtnl_req {
	struct nlmsghdr n;
	unsigned char body[RTNL_REQ_MAX];
};

int netbe_rtnl_open(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return s < 0 ? -errno : s;
}

/**
 * rtnl_init() - start request @r of @type with @flags and a zeroed family
 * header of @hdr_len bytes
 * Return: the family header, to fill in.
 */
static void *rtnl_init(struct rtnl_req *r, uint16_t type, uint16_t flags,
		       size_t hdr_len)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr_len);
	r->n.nlmsg_type = type;
	r->n.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	return NLMSG_DATA(&r->n);
}

/**
 * rtnl_attr() - append attribute @type with @len bytes of @data to @r
 * Return: 0, or -ENOBUFS when it does not fit (a bug: requests are small).
 */
static int rtnl_attr(struct rtnl_req *r, uint16_t type, const void *data,
		     size_t len)
{
	size_t off = NLMSG_ALIGN(r->n.nlmsg_len);
	struct rtattr *a = (struct rtattr *)((unsigned char *)&r->n + off);

	if (off + RTA_SPACE(len) > sizeof(*r))
		return -ENOBUFS;
	a->rta_type = type;
	a->rta_len = (uint16_t)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->n.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return 0;
}

/**
 * rtnl_answer() - look at one answer @h of @len valid bytes to request
 * @seq; an RTM_NEWLINK answer's index goes to *@ifindex (when not NULL)
 * Return: 1 when more answers follow, 0 for an acknowledgement, a negative
 * errno for a refusal.
 */
static int rtnl_answer(const struct nlmsghdr *h, size_t len, uint32_t seq,
		       int *ifindex)
{
	const struct nlmsgerr *e;

	if (h->nlmsg_seq != seq)
		return 1;
	if (h->nlmsg_type == RTM_NEWLINK && ifindex &&
	    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
		*ifindex = ((const struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
		return 1;
	}
	if (h->nlmsg_type != NLMSG_ERROR)
		return 1;
	if (len < NLMSG_LENGTH(sizeof(*e)))
		return -EPROTO;
	e = NLMSG_DATA(h);
	return e->error > 0 ? -EPROTO : e->error;
}

/**
 * rtnl_talk() - send @r and read answers until its acknowledgement
 * @ifindex: receives the index of an RTM_NEWLINK answer, if any
 * Return: 0, or the negative errno the kernel (or the socket) gave.
 */
static int rtnl_talk(int s, struct rtnl_req *r, int *ifindex)
{
	static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	unsigned char buf[RTNL_ANSWER_MAX] __attribute__((aligned(NLMSG_ALIGNTO)));
	static uint32_t seq_counter;
	uint32_t seq = ++seq_counter;
	ssize_t n;
	int ret;

	r->n.nlmsg_seq = seq;
	if (sendto(s, &r->n, r->n.nlmsg_len, 0, (const struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		size_t left;

		n = recv(s, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		for (left = (size_t)n; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			ret = rtnl_answer(h, h->nlmsg_len, seq, ifindex);
			if (ret <= 0)
				return ret;
		}
	}
}

int netbe_rtnl_ifindex(int s, const char *name)
{
	struct rtnl_req r;
	struct ifinfomsg *ifi = rtnl_init(&r, RTM_GETLINK, 0, sizeof(*ifi));
	size_t len = strlen(name);
	int index = 0, err;

	if (len == 0 || len >= IFNAMSIZ)
		return -ENODEV;
	ifi->ifi_family = AF_UNSPEC;
	err = rtnl_attr(&r, IFLA_IFNAME, name, len + 1);
	if (!err)
		err = rtnl_talk(s, &r, &index);
	if (err)
		return err;
	return index > 0 ? index : -ENODEV;
}

int netbe_rtnl_link_set(int s, int ifindex, unsigned mtu, bool up)
{
	struct rtnl_req r;
	struct ifinfomsg *ifi = rtnl_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));
	uint32_t m = mtu;
	int err = 0;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (mtu)
		err = rtnl_attr(&r, IFLA_MTU, &m, sizeof(m));
	return err ? err : rtnl_talk(s, &r, NULL);
}

int netbe_rtnl_addr_add(int s, int ifindex, struct in_addr addr,
			unsigned prefix)
{
	struct rtnl_req r;
	struct ifaddrmsg *ifa = rtnl_init(&r, RTM_NEWADDR,
					  NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
	uint32_t host = prefix >= 32 ? 0 : UINT32_MAX >> prefix;
	struct in_addr brd = { .s_addr = addr.s_addr | htonl(host) };
	int err;

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	err = rtnl_attr(&r, IFA_LOCAL, &addr, sizeof(addr));
	if (!err)
		err = rtnl_attr(&r, IFA_ADDRESS, &addr, sizeof(addr));
	if (!err && prefix < 31)
		err = rtnl_attr(&r, IFA_BROADCAST, &brd, sizeof(brd));
	return err ? err : rtnl_talk(s, &r, NULL);
}

int netbe_rtnl_default_route(int s, int ifindex, struct in_addr gateway)
{
	struct rtnl_req r;
	struct rtmsg *rt = rtnl_init(&r, RTM_NEWROUTE,
				     NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
	uint32_t oif = (uint32_t)ifindex;
	int err;

	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	err = rtnl_attr(&r, RTA_GATEWAY, &gateway, sizeof(gateway));
	if (!err)
		err = rtnl_attr(&r, RTA_OIF, &oif, sizeof(oif));
	return err ? err : rtnl_talk(s, &r, NULL);
}

int netbe_rtnl_configure(int s, int ifindex, const struct netbe_ifconf *c,
			 enum netbe_rtnl_step *step)
{
	int lo, err = 0;

	if (c->ipv4) {
		*step = NETBE_RTNL_LO_UP;
		lo = netbe_rtnl_ifindex(s, "lo");
		err = lo < 0 ? lo : netbe_rtnl_link_set(s, lo, 0, true);
	}
	if (!err && c->mtu) {
		*step = NETBE_RTNL_MTU;
		err = netbe_rtnl_link_set(s, ifindex, c->mtu, false);
	}
	if (!err && c->ipv4) {
		*step = NETBE_RTNL_ADDR;
		err = netbe_rtnl_addr_add(s, ifindex, c->addr, c->prefix);
	}
	if (!err && c->up) {
		*step = NETBE_RTNL_UP;
		err = netbe_rtnl_link_set(s, ifindex, 0, true);
	}
	if (!err && c->ipv4) {
		*step = NETBE_RTNL_ROUTE;
		err = netbe_rtnl_default_route(s, ifindex, c->gateway);
	}
	return err;
}

const char *netbe_rtnl_step_what(enum netbe_rtnl_step step)
{
	switch (step) {
	case NETBE_RTNL_LO_UP:
		return "bring lo up";
	case NETBE_RTNL_MTU:
		return "set the MTU";
	case NETBE_RTNL_ADDR:
		return "add the address";
	case NETBE_RTNL_UP:
		return "bring the interface up";
	case NETBE_RTNL_ROUTE:
		return "add the default route";
	}
	return "configure the interface";
}
