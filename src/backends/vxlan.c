/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vxlan.c - the VXLAN backend: Ethernet frames in UDP datagrams (RFC 7348),
 * so a VM joins the same overlay segment that Linux kernel vxlan devices,
 * Open vSwitch and switch fabrics speak, over IPv4 or IPv6.
 *
 *   vxlan:vni=N,local=ADDR[:PORT],remote=ADDR[:PORT][,remote=...]
 *   vxlan:vni=N,local=ADDR[:PORT],group=MCAST[:PORT][,dev=IFNAME]
 *
 * Theory of operation. One non-blocking UDP socket is both rx_fd and tx_fd.
 * Each frame travels as one datagram: the 8-byte VXLAN header (the I flag,
 * the 24-bit VNI, reserved fields zero) followed by the frame. Receive and
 * send go in batches, one recvmmsg()/sendmmsg() per backend call, and the
 * frame bytes are never copied: a datagram is scattered into an 8-byte
 * header slot plus the caller's buffers, and a frame is gathered behind
 * the one constant header of the handle.
 *
 * Receive validates every field of the header before the frame is used
 * (socket-free code in vxlan_proto.c, shared with the fuzzer:
 * vxlan_rx_accept()), drops and
 * counts anything else as rx_bad_hdr, and learns "inner source MAC lives
 * behind the VTEP this datagram came from" in a bounded table with aging.
 * Send looks the destination MAC up in that table: a known unicast MAC
 * goes to its VTEP only, everything else (broadcast, multicast, unknown
 * unicast) is flooded to every remote= (or to the group=). The table is
 * shared by the receiving and the sending thread under a mutex taken once
 * per batch, around lookups only, never around a syscall; the clock is read
 * once per batch (CLOCK_MONOTONIC_COARSE, no syscall).
 *
 * A learned VTEP is the datagram's source address, but frames go back to
 * the VXLAN port, not to the source port, because kernels send from a
 * hashed source port: see vxlan_vtep_resolve().
 *
 * The backend carries no virtio-net header (be_hdr_len 0, native_caps 0):
 * core completes checksums and segments a guest's TSO super-frames before
 * they get here. Runs of equal-sized frames to one VTEP leave as one
 * UDP_SEGMENT datagram (tx_merge()); UDP GRO on receive is not used yet
 * (doc/vxlan.md).
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "backend.h"
#include "clock.h"
#include "iov.h"
#include "log.h"
#include "spec.h"
#include "vxlan.h"

#define VXLAN_PORT_DEFAULT 4789
#define VXLAN_AGE_DEFAULT 300
#define VXLAN_AGE_MAX 1000000
#define VXLAN_REMOTES_MAX 16
#define VXLAN_IOV_POOL 2048              /* per direction and batch */
#define VXLAN_TX_MSGS 256                /* datagrams per sendmmsg */
#define VXLAN_SOCKBUF (4 << 20)
#define VXLAN_UDP4_PAYLOAD_MAX 65507
#define VXLAN_UDP6_PAYLOAD_MAX 65527
#define VXLAN_GSO_SEGS 64                /* frames per UDP_SEGMENT datagram */
#define VXLAN_GSO_BYTES 65000            /* UDP payload per such datagram */

struct vxlan_priv {
	int fd;
	uint32_t vni;
	uint16_t port;                   /* destination port of learned VTEPs */
	uint8_t hdr[VXLAN_HDR_LEN];      /* the same for every frame sent */
	union vxlan_addr local;
	union vxlan_addr flood[VXLAN_REMOTES_MAX];   /* the remotes, or the group */
	unsigned nflood;
	unsigned nremotes;               /* unicast remotes in flood[] */

	pthread_mutex_t fdb_lock;
	bool fdb_lock_ready;
	struct vxlan_fdb *fdb;

	/* receive scratch (the receiving thread) */
	struct mmsghdr rx_msgs[NETBE_BURST];
	uint8_t rx_hdr[NETBE_BURST][VXLAN_HDR_LEN];
	union vxlan_addr rx_src[NETBE_BURST];
	struct iovec rx_iov[VXLAN_IOV_POOL];

	/* send scratch (the sending thread) */
	unsigned gso_max;                /* largest UDP_SEGMENT size; 0: none */
	struct mmsghdr tx_msgs[VXLAN_TX_MSGS];
	unsigned tx_frame_of[VXLAN_TX_MSGS];   /* datagram -> its first frame */
	unsigned tx_nframes[VXLAN_TX_MSGS];    /* datagram -> frames it carries */
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} tx_cmsg[VXLAN_TX_MSGS];
	unsigned tx_first[NETBE_BURST];         /* frame -> its first datagram */
	union vxlan_addr tx_dst[NETBE_BURST];
	struct iovec tx_iov[VXLAN_IOV_POOL];
};

/* ------------------------------------------------------------------------ */
/* Spec parsing and the socket                                              */
/* ------------------------------------------------------------------------ */

/** vxlan_addr_len() - the sockaddr length of @a's family. */
static socklen_t vxlan_addr_len(const union vxlan_addr *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->in) : sizeof(a->in6);
}

/** vxlan_addr_str() - "10.0.0.1:4789" or "[fd00::1]:4789" into @buf.
 * Return: @buf. */
static const char *vxlan_addr_str(const union vxlan_addr *a, char *buf, size_t len)
{
	return netbe_addr_format(&a->sa, vxlan_addr_len(a), buf, len);
}

/** vxlan_addr_is_multicast() - Return: true for a multicast address. */
static bool vxlan_addr_is_multicast(const union vxlan_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return IN_MULTICAST(ntohl(a->in.sin_addr.s_addr));
	return IN6_IS_ADDR_MULTICAST(&a->in6.sin6_addr);
}

/** vxlan_addr_is_any() - Return: true for 0.0.0.0 or ::. */
static bool vxlan_addr_is_any(const union vxlan_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
}

/**
 * vxlan_parse_addr() - the value @s of @key as ADDR[:PORT] by the address
 * grammar (core/addr.h): numeric, IPv6 in brackets when a port follows,
 * "fe80::1%eth0" scopes work
 * @def_port: the port when none is given
 * Return: 0 with *@out set, or -EINVAL with a message naming the key.
 */
static int vxlan_parse_addr(const char *key, const char *s, uint16_t def_port,
			    union vxlan_addr *out)
{
	struct netbe_addr a;
	int err = netbe_addr_parse_key("vxlan", key, s, NETBE_ADDR_PORT_OPT,
				       def_port, &a);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	memcpy(out, &a.ss, a.len);
	return 0;
}

/* What open() gathers from the spec. */
struct vxlan_conf {
	uint64_t vni, port, ttl, age;
	union vxlan_addr local;
	union vxlan_addr group;
	bool has_group;
	unsigned ifindex;
};

/** vxlan_parse_numbers() - vni (required), port, ttl and age.
 * Return: 0 or -EINVAL with a message. */
static int vxlan_parse_numbers(const struct netbe_spec *spec, struct vxlan_conf *c)
{
	int err;

	if (!netbe_spec_get(spec, "vni"))
		return netbe_errf(-EINVAL, "vxlan: vni= is required - give the VXLAN network identifier of the segment, 0..16777215 (e.g. vni=42)");
	err = netbe_spec_uint(spec, "vni", 0, VXLAN_VNI_MAX, 0, &c->vni);
	if (!err)
		err = netbe_spec_uint(spec, "port", 1, 65535, VXLAN_PORT_DEFAULT, &c->port);
	if (!err)
		err = netbe_spec_uint(spec, "ttl", 1, 255, 0, &c->ttl);
	if (!err)
		err = netbe_spec_uint(spec, "age", 1, VXLAN_AGE_MAX, VXLAN_AGE_DEFAULT, &c->age);
	return err;
}

/** vxlan_parse_remotes() - every remote= into p->flood.
 * Return: 0 or -EINVAL with a message. */
static int vxlan_parse_remotes(struct vxlan_priv *p, const struct netbe_spec *spec,
			       const struct vxlan_conf *c)
{
	unsigned i, n = netbe_spec_count(spec, "remote");
	int err;

	if (n > VXLAN_REMOTES_MAX)
		return netbe_errf(-EINVAL, "vxlan: %u remote= given, at most %d are supported - use group= for larger segments",
				  n, VXLAN_REMOTES_MAX);
	for (i = 0; i < n; i++) {
		const char *s = netbe_spec_nth(spec, "remote", i);
		union vxlan_addr *r = &p->flood[i];

		err = vxlan_parse_addr("remote", s, (uint16_t)c->port, r);
		if (err)
			return err;
		if (r->sa.sa_family != c->local.sa.sa_family)
			return netbe_errf(-EINVAL, "vxlan: remote=%s and local= are of different address families - use IPv4 or IPv6 for both",
					  s);
		if (vxlan_addr_is_multicast(r))
			return netbe_errf(-EINVAL, "vxlan: remote=%s is a multicast address - use group=%s for flood-and-learn over multicast",
					  s, s);
		if (vxlan_addr_is_any(r))
			return netbe_errf(-EINVAL, "vxlan: remote=%s is not a host address - give the address of the remote VTEP",
					  s);
	}
	p->nflood = p->nremotes = n;
	return 0;
}

/** vxlan_parse_group() - group= and dev= into @c.
 * Return: 0 or -EINVAL / -ENODEV with a message. */
static int vxlan_parse_group(const struct netbe_spec *spec, struct vxlan_conf *c)
{
	const char *g = netbe_spec_get(spec, "group");
	const char *dev = netbe_spec_get(spec, "dev");
	int err;

	if (dev && !g)
		return netbe_errf(-EINVAL, "vxlan: dev= only applies to group= - drop it, or add group=MCAST");
	if (dev) {
		c->ifindex = if_nametoindex(dev);
		if (!c->ifindex)
			return netbe_errf(-ENODEV, "vxlan: dev=%s: no such interface - give the underlay interface that reaches the group",
					  dev);
	}
	if (!g)
		return 0;
	err = vxlan_parse_addr("group", g, (uint16_t)c->port, &c->group);
	if (err)
		return err;
	if (!vxlan_addr_is_multicast(&c->group))
		return netbe_errf(-EINVAL, "vxlan: group=%s is not a multicast address - use e.g. group=239.1.1.1, or remote=%s for a unicast peer",
				  g, g);
	if (c->group.sa.sa_family != c->local.sa.sa_family)
		return netbe_errf(-EINVAL, "vxlan: group=%s and local= are of different address families - use IPv4 or IPv6 for both",
				  g);
	if (c->group.sa.sa_family == AF_INET6 && !c->ifindex)
		c->ifindex = c->local.in6.sin6_scope_id;
	c->has_group = true;
	return 0;
}

/** vxlan_parse() - the whole spec into @c and @p's peers.
 * Return: 0 or a negative errno with a message. */
static int vxlan_parse(struct vxlan_priv *p, const struct netbe_spec *spec,
		       struct vxlan_conf *c)
{
	const char *local = netbe_spec_get(spec, "local");
	unsigned nremote = netbe_spec_count(spec, "remote");
	int err = vxlan_parse_numbers(spec, c);

	if (err)
		return err;
	if (!local)
		return netbe_errf(-EINVAL, "vxlan: local= is required - give this host's underlay address to send from and bind, e.g. local=10.99.0.2");
	err = vxlan_parse_addr("local", local, (uint16_t)c->port, &c->local);
	if (err)
		return err;
	if (vxlan_addr_is_multicast(&c->local))
		return netbe_errf(-EINVAL, "vxlan: local=%s is a multicast address - give this host's unicast address and put the group in group=",
				  local);
	if (nremote && netbe_spec_get(spec, "group"))
		return netbe_errf(-EINVAL, "vxlan: remote= and group= given together - use remote= for unicast peers or group= for multicast flood-and-learn, not both");
	if (!nremote && !netbe_spec_get(spec, "group"))
		return netbe_errf(-EINVAL, "vxlan: no peer - give remote=ADDR (repeatable) for unicast VTEPs, or group=MCAST for multicast flood-and-learn");
	err = vxlan_parse_group(spec, c);
	if (!err && nremote)
		err = vxlan_parse_remotes(p, spec, c);
	if (!err && c->has_group) {
		p->flood[0] = c->group;
		p->nflood = 1;
		p->nremotes = 0;
	}
	return err;
}

/** vxlan_setsockopt_int() - setsockopt() of an int. Return: 0 or -errno. */
static int vxlan_setsockopt_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) ? -errno : 0;
}

/** vxlan_grow_buffers() - large socket buffers so bursts are not dropped;
 * best effort (the FORCE variants need CAP_NET_ADMIN). */
static void vxlan_grow_buffers(int fd)
{
	if (vxlan_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, VXLAN_SOCKBUF))
		(void)vxlan_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, VXLAN_SOCKBUF);
	if (vxlan_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, VXLAN_SOCKBUF))
		(void)vxlan_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, VXLAN_SOCKBUF);
}

/** vxlan_set_ttl() - unicast and multicast TTL / hop limit.
 * Return: 0 or -errno with a message. */
static int vxlan_set_ttl(int fd, int family, int ttl)
{
	bool v4 = family == AF_INET;
	int err = vxlan_setsockopt_int(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6,
				       v4 ? IP_TTL : IPV6_UNICAST_HOPS, ttl);

	if (!err)
		err = vxlan_setsockopt_int(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6,
					   v4 ? IP_MULTICAST_TTL : IPV6_MULTICAST_HOPS, ttl);
	if (err)
		return netbe_errf(err, "vxlan: cannot set ttl=%d: %s", ttl, strerror(-err));
	return 0;
}

/** vxlan_join_group4() - IPv4 membership, outgoing interface, no loop.
 * Return: 0 or -errno. */
static int vxlan_join_group4(int fd, const struct vxlan_conf *c)
{
	struct ip_mreqn m = {
		.imr_multiaddr = c->group.in.sin_addr,
		.imr_address = c->local.in.sin_addr,
		.imr_ifindex = (int)c->ifindex,
	};

	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof(m)))
		return -errno;
	return vxlan_setsockopt_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
}

/** vxlan_join_group6() - IPv6 membership, outgoing interface, no loop.
 * Return: 0 or -errno. */
static int vxlan_join_group6(int fd, const struct vxlan_conf *c)
{
	struct ipv6_mreq m = {
		.ipv6mr_multiaddr = c->group.in6.sin6_addr,
		.ipv6mr_interface = c->ifindex,
	};

	if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)))
		return -errno;
	if (c->ifindex &&
	    vxlan_setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)c->ifindex))
		return -errno;
	return vxlan_setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
}

/** vxlan_bind() - bind @fd to local= (unicast) or to the wildcard address
 * on local='s port (group: multicast is only delivered to such sockets).
 * Return: 0 or -errno with a message saying what to do. */
static int vxlan_bind(int fd, const struct vxlan_conf *c)
{
	union vxlan_addr a = c->local;
	char s[NETBE_ADDR_STRLEN];
	int err;

	if (c->has_group) {
		if (a.sa.sa_family == AF_INET)
			a.in.sin_addr.s_addr = htonl(INADDR_ANY);
		else
			a.in6.sin6_addr = in6addr_any;
	}
	if (!bind(fd, &a.sa, vxlan_addr_len(&a)))
		return 0;
	err = -errno;
	vxlan_addr_str(&a, s, sizeof(s));
	if (err == -EADDRINUSE)
		return netbe_errf(err, "vxlan: cannot bind %s: %s - another endpoint (a kernel vxlan device with this dstport?) owns it; use another port= or local=ADDR:PORT",
				  s, strerror(-err));
	if (err == -EADDRNOTAVAIL)
		return netbe_errf(err, "vxlan: cannot bind %s: %s - local= must be an address of this host (see 'ip addr')",
				  s, strerror(-err));
	return netbe_errf(err, "vxlan: cannot bind %s: %s", s, strerror(-err));
}

/** vxlan_socket() - the underlay socket, bound, options set, group joined.
 * Return: the fd, or -errno with a message. */
static int vxlan_socket(const struct vxlan_conf *c)
{
	int family = c->local.sa.sa_family;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char g[NETBE_ADDR_STRLEN];
	int err = 0;

	if (fd < 0)
		return netbe_errf(-errno, "vxlan: cannot create a UDP socket: %s",
				  strerror(errno));
	if (family == AF_INET6 && vxlan_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1))
		err = netbe_errf(-errno, "vxlan: cannot set IPV6_V6ONLY: %s", strerror(errno));
	vxlan_grow_buffers(fd);
	if (!err)
		err = vxlan_bind(fd, c);
	if (!err && c->ttl)
		err = vxlan_set_ttl(fd, family, (int)c->ttl);
	if (!err && c->has_group) {
		err = family == AF_INET ? vxlan_join_group4(fd, c) : vxlan_join_group6(fd, c);
		if (err)
			err = netbe_errf(err, "vxlan: cannot join group %s: %s - give dev=IFNAME, the underlay interface that reaches the group",
					 vxlan_addr_str(&c->group, g, sizeof(g)), strerror(-err));
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/** vxlan_seed() - a random key for the table's hash.
 * Return: the key (time-based when getrandom() fails). */
static uint64_t vxlan_seed(void)
{
	struct timespec ts;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
}

/**
 * vxlan_open() - the open op: parse, create the socket, the learning table
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int vxlan_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct vxlan_priv *p = netbe_priv(be);
	struct vxlan_conf c = { 0 };
	char l[NETBE_ADDR_STRLEN];
	int err;

	p->fd = -1;
	err = vxlan_parse(p, spec, &c);
	if (err)
		return err;
	p->fdb = malloc(sizeof(*p->fdb));
	if (!p->fdb)
		return netbe_errf(-ENOMEM, "vxlan: out of memory for the MAC table");
	err = pthread_mutex_init(&p->fdb_lock, NULL);
	if (err) {
		free(p->fdb);
		return netbe_errf(-err, "vxlan: cannot create a mutex: %s", strerror(err));
	}
	p->fdb_lock_ready = true;
	p->fd = vxlan_socket(&c);
	if (p->fd < 0) {
		err = p->fd;
		pthread_mutex_destroy(&p->fdb_lock);
		free(p->fdb);
		return err;
	}
	vxlan_fdb_init(p->fdb, c.age * 1000000000ull, vxlan_seed());
	p->vni = (uint32_t)c.vni;
	p->port = (uint16_t)c.port;
	p->local = c.local;
	vxlan_hdr_build(p->hdr, p->vni);
	p->gso_max = UINT16_MAX;

	be->be_hdr_len = 0;
	be->native_caps = 0;
	be->tx_max = (c.local.sa.sa_family == AF_INET ? VXLAN_UDP4_PAYLOAD_MAX
						       : VXLAN_UDP6_PAYLOAD_MAX) - VXLAN_HDR_LEN;
	be->rx_fd = be->tx_fd = p->fd;
	be->tx_events = NETBE_EV_OUT;
	nb_debug("vxlan: vni %u on %s, %u flood target(s)%s", p->vni,
		 vxlan_addr_str(&p->local, l, sizeof(l)), p->nflood,
		 c.has_group ? " (group)" : "");
	return 0;
}

/** vxlan_close() - the close op: the socket and the table. */
static void vxlan_close(struct netbe *be)
{
	struct vxlan_priv *p = netbe_priv(be);

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->fdb_lock_ready)
		pthread_mutex_destroy(&p->fdb_lock);
	p->fdb_lock_ready = false;
	free(p->fdb);
	p->fdb = NULL;
}

/* ------------------------------------------------------------------------ */
/* Receive                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * rx_prepare() - describe datagram @i: the header slot, then frame @x's
 * buffers (at most UIO_MAXIOV segments; a frame that does not fit them
 * comes back truncated and is dropped)
 * Return: false when the iovec pool cannot take it.
 */
static bool rx_prepare(struct vxlan_priv *p, const struct netbe_xfer *x,
		       unsigned i, unsigned *used)
{
	int cnt = x->iovcnt < UIO_MAXIOV - 1 ? x->iovcnt : UIO_MAXIOV - 1;
	struct iovec *iov = &p->rx_iov[*used];
	struct msghdr *mh = &p->rx_msgs[i].msg_hdr;

	if (cnt < 0 || *used + 1 + (unsigned)cnt > VXLAN_IOV_POOL)
		return false;
	iov[0].iov_base = p->rx_hdr[i];
	iov[0].iov_len = VXLAN_HDR_LEN;
	memcpy(iov + 1, x->iov, (size_t)cnt * sizeof(*iov));
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = &p->rx_src[i];
	mh->msg_namelen = sizeof(p->rx_src[i]);
	mh->msg_iov = iov;
	mh->msg_iovlen = (size_t)cnt + 1;
	*used += 1 + (unsigned)cnt;
	return true;
}

/**
 * rx_take() - validate datagram @i, learn from it, and place its frame in
 * slot @o (moving it down over dropped datagrams). Caller holds fdb_lock.
 * Return: true when the frame is delivered in slot @o.
 */
static bool rx_take(struct netbe *be, struct vxlan_priv *p,
		    struct netbe_xfer *x, unsigned i, unsigned o, uint64_t now)
{
	const struct mmsghdr *mm = &p->rx_msgs[i];
	size_t len = mm->msg_len;
	uint8_t eth[12] = { 0 };
	enum vxlan_rx_verdict v;

	if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
		netbe_count_drop(be, NETBE_DROP_RX_BAD_HDR);
		return false;
	}
	if (len >= VXLAN_HDR_LEN + VXLAN_ETH_HLEN)
		iov_to_buf(x[i].iov, x[i].iovcnt, 0, eth, sizeof(eth));
	v = vxlan_rx_accept(p->fdb, p->vni, p->flood, p->nremotes, p->port,
			    p->rx_hdr[i], len, eth, &p->rx_src[i], now);
	if (v != VXLAN_RX_OK) {
		NB_LOG_RL(NETBE_LOG_DEBUG, "vxlan: dropped a datagram of %zu bytes (verdict %d)",
			  len, (int)v);
		netbe_count_drop(be, NETBE_DROP_RX_BAD_HDR);
		return false;
	}
	x[o].len = len - VXLAN_HDR_LEN;
	if (o != i)
		iov_copy(x[o].iov, x[o].iovcnt, x[i].iov, x[i].iovcnt, x[o].len);
	return true;
}

/**
 * rx_batch() - one recvmmsg() into up to @n frames
 * @got: set to the datagrams read (delivered or dropped)
 * Return: frames delivered into the front of @x.
 */
static unsigned rx_batch(struct netbe *be, struct vxlan_priv *p,
			 struct netbe_xfer *x, unsigned n, int *got)
{
	unsigned m, used = 0, i, o = 0;
	uint64_t now;
	int r;

	for (m = 0; m < n && rx_prepare(p, &x[m], m, &used); m++)
		;
	do
		r = recvmmsg(p->fd, p->rx_msgs, m, MSG_DONTWAIT, NULL);
	while (r < 0 && errno == EINTR);
	*got = r;
	if (r <= 0) {
		if (r < 0 && errno != EAGAIN)
			NB_LOG_RL(NETBE_LOG_DEBUG, "vxlan: recvmmsg: %s", strerror(errno));
		return 0;
	}
	now = nb_clock_ns(CLOCK_MONOTONIC_COARSE);
	pthread_mutex_lock(&p->fdb_lock);
	for (i = 0; i < (unsigned)r; i++)
		o += rx_take(be, p, x, i, o, now);
	pthread_mutex_unlock(&p->fdb_lock);
	return o;
}

/**
 * vxlan_recv() - the recv op: batches of datagrams, header checked and the
 * source learned for each; a batch that was entirely dropped is followed by
 * another (bounded) so a flood of bad datagrams does not hide good ones.
 * Socket errors (an ICMP error queued on the socket) are transient: the
 * underlay socket never goes away, so this never fails.
 * Return: frames received (0 when none pending).
 */
static int vxlan_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct vxlan_priv *p = netbe_priv(be);
	unsigned got = 0, tries;
	int nread;

	if (n > NETBE_BURST)
		n = NETBE_BURST;
	for (tries = 0; !got && tries < 4; tries++) {
		got = rx_batch(be, p, x, n, &nread);
		if (nread < (int)n)
			break;
	}
	return (int)got;
}

/* ------------------------------------------------------------------------ */
/* Send                                                                     */
/* ------------------------------------------------------------------------ */

/**
 * tx_prepare() - the datagrams of frame @f: to its learned VTEP when the
 * destination is a known unicast MAC, else one per flood target, all
 * sharing one iovec (header, then the frame). Caller holds fdb_lock.
 * Return: false when the batch has no room left for it.
 */
static bool tx_prepare(struct vxlan_priv *p, struct netbe_xfer *x, unsigned f,
		       uint64_t now, unsigned *nmsg, unsigned *used)
{
	const union vxlan_addr *to = p->flood;
	unsigned k, nto = p->nflood;
	struct iovec *iov = &p->tx_iov[*used];
	uint8_t dst[6];

	x->err = 0;
	p->tx_first[f] = *nmsg;
	if (x->iovcnt < 0 || x->iovcnt >= UIO_MAXIOV) {
		x->err = -EMSGSIZE;
		return true;
	}
	if (*used + 1 + (unsigned)x->iovcnt > VXLAN_IOV_POOL)
		return false;
	if (iov_to_buf(x->iov, x->iovcnt, 0, dst, sizeof(dst)) == sizeof(dst) &&
	    !(dst[0] & 1) && vxlan_fdb_lookup(p->fdb, dst, now, &p->tx_dst[f])) {
		to = &p->tx_dst[f];
		nto = 1;
	}
	if (*nmsg + nto > VXLAN_TX_MSGS)
		return false;
	iov[0].iov_base = p->hdr;
	iov[0].iov_len = VXLAN_HDR_LEN;
	memcpy(iov + 1, x->iov, (size_t)x->iovcnt * sizeof(*iov));
	for (k = 0; k < nto; k++) {
		struct mmsghdr *mm = &p->tx_msgs[*nmsg];

		memset(mm, 0, sizeof(*mm));
		mm->msg_hdr.msg_name = (void *)&to[k];
		mm->msg_hdr.msg_namelen = vxlan_addr_len(&to[k]);
		mm->msg_hdr.msg_iov = iov;
		mm->msg_hdr.msg_iovlen = (size_t)x->iovcnt + 1;
		p->tx_frame_of[(*nmsg)++] = f;
	}
	*used += 1 + (unsigned)x->iovcnt;
	return true;
}

/** tx_msg_count() - datagrams prepared for frame @f of @nframes.
 * Return: the count (0 for a frame dropped in tx_prepare()). */
static unsigned tx_msg_count(const struct vxlan_priv *p, unsigned f,
			     unsigned nframes, unsigned nmsg)
{
	return (f + 1 < nframes ? p->tx_first[f + 1] : nmsg) - p->tx_first[f];
}

/**
 * tx_run_end() - how far the run of frames from @f can share one
 * UDP_SEGMENT datagram: each a single datagram to the same VTEP, of the
 * first one's size (the last may be shorter), iovecs adjacent, within the
 * kernel's limits and the learned largest segment size.
 * Return: the frame after the run (@f + 1 when there is no run).
 */
static unsigned tx_run_end(const struct vxlan_priv *p, const struct netbe_xfer *x,
			   unsigned f, unsigned nframes, unsigned nmsg)
{
	const struct msghdr *first = &p->tx_msgs[p->tx_first[f]].msg_hdr, *prev = first;
	size_t seg = x[f].len + VXLAN_HDR_LEN, total = seg;
	unsigned g;

	if (seg > p->gso_max || tx_msg_count(p, f, nframes, nmsg) != 1)
		return f + 1;
	for (g = f + 1; g < nframes && g - f < VXLAN_GSO_SEGS; g++) {
		const struct msghdr *m = &p->tx_msgs[p->tx_first[g]].msg_hdr;
		size_t len = x[g].len + VXLAN_HDR_LEN;

		if (tx_msg_count(p, g, nframes, nmsg) != 1 || len > seg ||
		    total + len > VXLAN_GSO_BYTES ||
		    m->msg_iov != prev->msg_iov + prev->msg_iovlen ||
		    m->msg_iovlen + (size_t)(m->msg_iov - first->msg_iov) > UIO_MAXIOV ||
		    !vxlan_addr_equal(m->msg_name, first->msg_name))
			break;
		total += len;
		prev = m;
		if (len < seg)
			return g + 1;
	}
	return g;
}

/** tx_set_segment() - attach UDP_SEGMENT of @seg bytes to datagram @w. */
static void tx_set_segment(struct vxlan_priv *p, unsigned w, size_t seg)
{
	struct msghdr *mh = &p->tx_msgs[w].msg_hdr;
	struct cmsghdr *cm;
	uint16_t size = (uint16_t)seg;

	mh->msg_control = p->tx_cmsg[w].buf;
	mh->msg_controllen = sizeof(p->tx_cmsg[w].buf);
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(cm), &size, sizeof(size));
}

/**
 * tx_merge() - rewrite the prepared datagrams in place so that runs of
 * equal-sized frames to one VTEP become one UDP_SEGMENT datagram each (the
 * kernel splits it late, so the stack runs once per run, not per frame).
 * Return: the new number of datagrams.
 */
static unsigned tx_merge(struct vxlan_priv *p, const struct netbe_xfer *x,
			 unsigned nframes, unsigned nmsg)
{
	unsigned f = 0, w = 0, g, k, start, cnt;

	while (f < nframes) {
		start = p->tx_first[f];
		cnt = tx_msg_count(p, f, nframes, nmsg);
		g = p->gso_max ? tx_run_end(p, x, f, nframes, nmsg) : f + 1;
		if (g - f > 1) {
			p->tx_msgs[w] = p->tx_msgs[start];
			p->tx_msgs[w].msg_hdr.msg_iovlen =
				(size_t)(p->tx_msgs[p->tx_first[g - 1]].msg_hdr.msg_iov -
					 p->tx_msgs[start].msg_hdr.msg_iov) +
				p->tx_msgs[p->tx_first[g - 1]].msg_hdr.msg_iovlen;
			tx_set_segment(p, w, x[f].len + VXLAN_HDR_LEN);
			cnt = 1;
		} else {
			for (k = 0; k < cnt; k++)
				p->tx_msgs[w + k] = p->tx_msgs[start + k];
		}
		for (k = f; k < g; k++)
			p->tx_first[k] = w;
		for (k = 0; k < cnt; k++) {
			p->tx_frame_of[w + k] = f;
			p->tx_nframes[w + k] = g - f;
		}
		w += cnt;
		f = g;
	}
	return w;
}

/**
 * tx_flush() - sendmmsg() the @nmsg prepared datagrams of @nframes frames
 *
 * A datagram the kernel refuses for good (no route, too big) is lost: its
 * frames get the errno and the rest go on. A UDP_SEGMENT datagram the
 * kernel refuses (segment larger than the path allows, or no UDP GSO)
 * lowers gso_max below its segment size and stops the batch before it, so
 * its frames go again, unmerged. -EAGAIN (socket buffer full) stops the
 * batch: frames not started are not consumed; a frame that already reached
 * some of its flood targets is consumed and reported lost (-EAGAIN),
 * because sending it again would duplicate it for the others.
 * Return: frames consumed; -EAGAIN when none was; 0 when none was because
 * of a refused UDP_SEGMENT datagram (retry at once).
 */
static int tx_flush(struct vxlan_priv *p, struct netbe_xfer *x,
		    unsigned nframes, unsigned nmsg)
{
	unsigned sent = 0, f, k;
	int r, err = 0;

	while (sent < nmsg) {
		r = sendmmsg(p->fd, p->tx_msgs + sent, nmsg - sent, MSG_DONTWAIT);
		if (r > 0) {
			sent += (unsigned)r;
			continue;
		}
		err = r ? errno : EIO;
		if (err == EINTR)
			continue;
		if (err == EAGAIN)
			break;
		if (p->tx_nframes[sent] > 1) {
			p->gso_max = (unsigned)x[p->tx_frame_of[sent]].len + VXLAN_HDR_LEN - 1;
			nb_debug("vxlan: UDP_SEGMENT refused (%s); segments now at most %u bytes",
				 strerror(err), p->gso_max);
			break;
		}
		NB_LOG_RL(NETBE_LOG_WARN, "vxlan: send to a VTEP failed: %s",
			  strerror(err));
		for (k = 0; k < p->tx_nframes[sent]; k++)
			x[p->tx_frame_of[sent] + k].err = -err;
		sent++;
	}
	if (sent == nmsg)
		return (int)nframes;
	f = p->tx_frame_of[sent];
	if (p->tx_first[f] != sent)
		x[f++].err = -EAGAIN;
	if (f || err == EAGAIN)
		return f ? (int)f : -EAGAIN;
	return 0;
}

/**
 * vxlan_send() - the send op: encapsulate up to @n frames and send them in
 * one sendmmsg() (more only after a hard error); retried unmerged when the
 * kernel refused a UDP_SEGMENT datagram
 * Return: frames consumed (x[i].err set for the lost ones), or -EAGAIN.
 */
static int vxlan_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct vxlan_priv *p = netbe_priv(be);
	unsigned f, nmsg, used, tries;
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC_COARSE);
	int ret = -EAGAIN;

	if (n > NETBE_BURST)
		n = NETBE_BURST;
	for (tries = 0; tries < 3; tries++) {
		nmsg = used = 0;
		pthread_mutex_lock(&p->fdb_lock);
		for (f = 0; f < n && tx_prepare(p, &x[f], f, now, &nmsg, &used); f++)
			;
		pthread_mutex_unlock(&p->fdb_lock);
		if (tries == 2)
			p->gso_max = 0;
		nmsg = tx_merge(p, x, f, nmsg);
		ret = tx_flush(p, x, f, nmsg);
		if (ret)
			return ret;
	}
	return -EAGAIN;
}

static const struct netbe_key vxlan_keys[] = {
	{ .name = "vni",
	  .help = "0..16777215: the VXLAN network identifier (required)" },
	{ .name = "local",
	  .help = "ADDR[:PORT]: this host's underlay address to bind and send from (required); PORT defaults to port=" },
	{ .name = "remote",
	  .help = "ADDR[:PORT]: a remote VTEP that gets flooded frames; repeat for several (IPv6 with a port: [ADDR]:PORT)",
	  .flags = NETBE_KEY_REPEAT },
	{ .name = "group",
	  .help = "MCAST[:PORT]: multicast group for flood-and-learn, instead of remote=" },
	{ .name = "dev",
	  .help = "IFNAME: underlay interface to join group= on (default: chosen by the routing table)" },
	{ .name = "port",
	  .help = "1..65535: UDP port of the VTEPs (default 4789)" },
	{ .name = "ttl",
	  .help = "1..255: TTL / hop limit of the underlay datagrams (default: system; 1 for multicast)" },
	{ .name = "age",
	  .help = "1..1000000: seconds a learned MAC stays without traffic from it (default 300)" },
	{ .name = NULL }
};

const struct netbe_backend netbe_backend_vxlan = {
	.name = "vxlan",
	.help = "VXLAN (RFC 7348) overlay over UDP: unicast VTEPs or a multicast group, MAC learning",
	.name_use = NETBE_NAME_NONE,
	.keys = vxlan_keys,
	.priv_size = sizeof(struct vxlan_priv),
	.open = vxlan_open,
	.close = vxlan_close,
	.send = vxlan_send,
	.recv = vxlan_recv,
};
