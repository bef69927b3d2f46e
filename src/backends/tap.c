/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap.c - the Linux tap backend (/dev/net/tun), with bhyve's "vmnet" alias.
 *
 * Theory of operation. The backend owns one tap file descriptor, opened
 * non-blocking, that is both rx_fd and tx_fd: one readv() receives one
 * frame, one writev() sends one, and nothing is copied on the way.
 *
 * It gets that fd in one of two ways:
 *  - "tap:NAME" opens /dev/net/tun and attaches to NAME with TUNSETIFF,
 *    creating it when it did not exist. A tap netbe creates is not
 *    persistent (it vanishes when the fd closes) and is brought up, so it is
 *    usable at once; a tap that existed is left as its owner configured it.
 *  - "tap:fd=N" adopts a tap fd an unprivileged process inherited from its
 *    parent. It is already attached, so the backend only asks TUNGETIFF what
 *    it is (it must be a tap without packet information) and whether it
 *    carries a virtio-net header. netbe owns the fd once open() succeeds.
 *  - "tap:NAME,netns=PID|PATH|NAME" does what "tap:NAME" does, inside
 *    another network namespace: netns.c forks a child that enters it (an
 *    unprivileged user through the user namespace owning it) and runs
 *    tap_ns_child(), which opens and
 *    attaches the tap there, brings it up and, with configure=on, gives the
 *    namespace lo, an address, the MTU and a default route over rtnetlink
 *    (rtnl.c), as `slirp4netns --configure` does. The fd comes back over a
 *    socket; this process never changes namespace. The child may only make
 *    async-signal-safe calls, so it reports a failed step and its errno in
 *    struct tap_ns_res, and tap_ns_error() words the message here.
 *
 * With a virtio-net header (IFF_VNET_HDR, the default) the header is
 * 12 bytes (TUNSETVNETHDRSZ), so core passes offload metadata through and
 * the kernel does checksums and segmentation natively. Transmit offloads
 * (frames we write) are accepted by every kernel that has IFF_VNET_HDR,
 * except UDP segmentation (USO), which came with the receive side bits. The
 * receive offloads (frames the kernel may hand us) are probed once with
 * TUNSETOFFLOAD, which rejects bits the kernel does not know, then switched
 * off until the frontend negotiates them: set_offload() then enables
 * exactly the negotiated ones, so the kernel never hands us a GSO or
 * partial-checksum frame the frontend cannot take.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "backend.h"
#include "log.h"
#include "netns.h"
#include "rtnl.h"
#include "spec.h"

/* UDP segmentation offload bits (Linux 6.2); older headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define TAP_VNET_HDR_LEN 12
#define TAP_MTU_MIN 68
#define TAP_MTU_MAX 65521
#define TAP_QUEUES_MAX 256
/* configure=on defaults: slirp4netns's addresses and MTU */
#define TAP_CONF_ADDR "10.0.2.100"
#define TAP_CONF_PREFIX 24
#define TAP_CONF_GATEWAY "10.0.2.2"
#define TAP_CONF_MTU 1500

/* Transmit offloads every IFF_VNET_HDR kernel takes on write. */
#define TAP_HOST_CAPS (NETBE_F_CSUM | NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6 | \
		       NETBE_F_HOST_ECN | NETBE_F_HOST_UFO)

struct tap_priv {
	int fd;
	char ifname[IFNAMSIZ];
	bool multiqueue;       /* counted in tap_mqs */
};

/* One TUNSETOFFLOAD probe: the flags tried and the features they prove. */
struct tap_probe {
	unsigned tun_flags;
	uint64_t features;
};

/*
 * The kernel (up to at least 6.18) enables USO only when both USO4 and USO6
 * are requested, so the pair is probed too; single bits are kept for
 * kernels that learn them separately.
 */
static const struct tap_probe tap_probes[] = {
	{ TUN_F_CSUM, NETBE_F_GUEST_CSUM },
	{ TUN_F_CSUM | TUN_F_TSO4, NETBE_F_GUEST_TSO4 },
	{ TUN_F_CSUM | TUN_F_TSO6, NETBE_F_GUEST_TSO6 },
	{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN, NETBE_F_GUEST_ECN },
	{ TUN_F_CSUM | TUN_F_UFO, NETBE_F_GUEST_UFO },
	{ TUN_F_CSUM | TUN_F_USO4, NETBE_F_GUEST_USO4 },
	{ TUN_F_CSUM | TUN_F_USO6, NETBE_F_GUEST_USO6 },
	{ TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6,
	  NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6 },
};

static const char *const tap_aliases[] = { "vmnet", NULL };

static const struct netbe_key tap_keys[] = {
	{ .name = "fd",
	  .help = "N: adopt the already-configured tap fd N inherited from the "
		  "parent instead of opening NAME; netbe closes it on close" },
	{ .name = "vnet_hdr",
	  .help = "on|off: use the virtio-net header so the kernel does "
		  "checksum and segmentation offloads (default on)" },
	{ .name = "mtu",
	  .help = "68..65521: set the interface MTU (default: leave it; 1500 "
		  "with configure=on)" },
	{ .name = "queues",
	  .help = "1..256: make the tap multiqueue (IFF_MULTI_QUEUE) with up to N "
		  "queues; open the spec once per queue pair, one handle per "
		  "thread (default 1)" },
	{ .name = "netns",
	  .help = "PID|PATH|NAME: create the tap inside the network namespace of "
		  "process PID, of the namespace file PATH (/run/netns/X) or of "
		  "ip-netns NAME, joining its user namespace (rootless, like "
		  "slirp4netns)" },
	{ .name = "configure",
	  .help = "on|off: with netns=, bring lo and the tap up and set the "
		  "address, the MTU and a default route, like slirp4netns "
		  "--configure (default off)" },
	{ .name = "address",
	  .help = "IPV4: the tap's address with configure=on (default "
		  TAP_CONF_ADDR ")" },
	{ .name = "prefix",
	  .help = "1..30: its prefix length with configure=on (default 24)" },
	{ .name = "gateway",
	  .help = "IPV4: the default route's gateway with configure=on, inside "
		  "address/prefix (default " TAP_CONF_GATEWAY ", slirp's)" },
	{ .name = NULL }
};

/**
 * tap_ifreq_socket() - a socket for the interface ioctls (SIOC[GS]IF*)
 * Return: the fd, or a negative errno with the error recorded.
 */
static int tap_ifreq_socket(const char *ifname)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return netbe_errf(-errno, "tap %s: cannot create a socket to configure the interface: %s",
				  ifname, strerror(errno));
	return s;
}

/**
 * tap_set_mtu() - set @ifname's MTU with SIOCSIFMTU
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int tap_set_mtu(const char *ifname, unsigned mtu)
{
	struct ifreq ifr = { .ifr_mtu = (int)mtu };
	int s = tap_ifreq_socket(ifname);
	int err = 0;

	if (s < 0)
		return s;
	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		err = netbe_errf(-errno, "tap %s: cannot set mtu=%u: %s - run as root (CAP_NET_ADMIN), or drop mtu= and set it with 'ip link set %s mtu %u'",
				 ifname, mtu, strerror(errno), ifname, mtu);
	close(s);
	return err;
}

/**
 * tap_bring_up() - set IFF_UP on @ifname
 * Return: 0, or a negative errno with a message.
 */
static int tap_bring_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = tap_ifreq_socket(ifname);
	int err = 0;

	if (s < 0)
		return s;
	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		err = netbe_errf(-errno, "tap %s: cannot read interface flags: %s",
				 ifname, strerror(errno));
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			err = netbe_errf(-errno, "tap %s: cannot bring the interface up: %s - run as root (CAP_NET_ADMIN)",
					 ifname, strerror(errno));
	}
	close(s);
	return err;
}

/**
 * tap_attach_error() - turn a TUNSETIFF failure into advice
 * @where: "" in this namespace, or " in netns=X"
 * Return: @err, with the message recorded.
 */
static int tap_attach_error(int err, const char *name, bool existed,
			    const char *where)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return netbe_errf(err, "tap: cannot %s tap %s%s: %s - run as root (CAP_NET_ADMIN), or create it for your user first ('ip tuntap add %s mode tap user USER')",
				  existed ? "attach to" : "create", name, where,
				  strerror(-err), name);
	case -EBUSY:
		return netbe_errf(err, "tap: cannot attach to %s%s: %s - another process holds it open; close that process or pick another name",
				  name, where, strerror(-err));
	case -EINVAL:
		return netbe_errf(err, "tap: cannot attach to %s%s: %s - %s exists and is not a single-queue tap; pick another name",
				  name, where, strerror(-err), name);
	default:
		return netbe_errf(err, "tap: cannot %s tap %s%s: %s",
				  existed ? "attach to" : "create", name, where,
				  strerror(-err));
	}
}

/**
 * tap_tun_error() - turn a failed open of /dev/net/tun into advice
 * @where: "" in this namespace, or " in netns=X"
 * Return: @err, with the message recorded.
 */
static int tap_tun_error(int err, const char *where)
{
	if (err == -ENOENT || err == -ENODEV)
		return netbe_errf(err, "tap: cannot open /dev/net/tun%s: %s - load the tun module (modprobe tun), or pass an already-open tap with fd=N",
				  where, strerror(-err));
	return netbe_errf(err, "tap: cannot open /dev/net/tun%s: %s - run as root (CAP_NET_ADMIN), or pass an already-open tap with fd=N",
			  where, strerror(-err));
}

/* Queues of multiqueue taps attached by this process, by name, so the
 * (queues+1)-th open of a spec is refused rather than silently adding a
 * queue the frontend does not drive. */
struct tap_mq {
	char ifname[IFNAMSIZ];
	unsigned attached;
	struct tap_mq *next;
};

static pthread_mutex_t tap_mq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tap_mq *tap_mqs;

/**
 * tap_mq_take() - count one more queue of @ifname, at most @queues
 * Return: 0, -EBUSY when all are attached, -ENOMEM.
 */
static int tap_mq_take(const char *ifname, unsigned queues)
{
	struct tap_mq *m;
	int ret = 0;

	pthread_mutex_lock(&tap_mq_lock);
	for (m = tap_mqs; m && strcmp(m->ifname, ifname); m = m->next)
		;
	if (!m && (m = calloc(1, sizeof(*m)))) {
		snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
		m->next = tap_mqs;
		tap_mqs = m;
	}
	if (!m)
		ret = -ENOMEM;
	else if (m->attached >= queues)
		ret = -EBUSY;
	else
		m->attached++;
	pthread_mutex_unlock(&tap_mq_lock);
	return ret;
}

/** tap_mq_put() - one queue of @ifname is closed; forget it at zero. */
static void tap_mq_put(const char *ifname)
{
	struct tap_mq **pp, *m;

	pthread_mutex_lock(&tap_mq_lock);
	for (pp = &tap_mqs; (m = *pp) && strcmp(m->ifname, ifname); pp = &m->next)
		;
	if (m && --m->attached == 0) {
		*pp = m->next;
		free(m);
	}
	pthread_mutex_unlock(&tap_mq_lock);
}

/**
 * tap_tun_attach() - open /dev/net/tun and attach it to (or create) tap
 * @name with TUNSETIFF @flags. Async-signal-safe: tap_ns_child() calls it.
 * @ifname: receives the interface name (IFNAMSIZ bytes): the kernel fills
 *          in a pattern such as "tap%d"
 * @opened: set once /dev/net/tun is open (a failure after it is TUNSETIFF's)
 * Return: the fd, or a negative errno.
 */
static int tap_tun_attach(const char *name, unsigned flags, char *ifname,
			  bool *opened)
{
	struct ifreq ifr = { 0 };
	int fd, err;

	*opened = false;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*opened = true;
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = (short)flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;
}

/** tap_iff_flags() - the TUNSETIFF flags. Return: them. */
static unsigned tap_iff_flags(bool vnet_hdr, unsigned queues)
{
	return IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0) |
	       (queues > 1 ? IFF_MULTI_QUEUE : 0);
}

/**
 * tap_name_check() - @name fits an interface name
 * Return: 0, or -EINVAL with a message.
 */
static int tap_name_check(const char *name)
{
	if (strlen(name) >= IFNAMSIZ)
		return netbe_errf(-EINVAL, "tap: interface name '%s' is too long - use at most %d characters",
				  name, IFNAMSIZ - 1);
	return 0;
}

/**
 * tap_open_name() - open /dev/net/tun and attach to (or create) tap @name
 * @ifname: receives the interface name (IFNAMSIZ bytes)
 * @created: set when the tap did not exist before
 * Return: the fd, or a negative errno with the message recorded.
 */
static int tap_open_name(const char *name, bool vnet_hdr, unsigned queues,
			 char *ifname, bool *created)
{
	bool existed, opened;
	int fd, err;

	err = tap_name_check(name);
	if (err)
		return err;
	existed = if_nametoindex(name) != 0;
	fd = tap_tun_attach(name, tap_iff_flags(vnet_hdr, queues), ifname, &opened);
	if (fd < 0)
		return opened ? tap_attach_error(fd, name, existed, "") :
				tap_tun_error(fd, "");
	*created = !existed;
	return fd;
}

/**
 * tap_fd_flags() - TUNGETIFF on @fd, with IFF_NO_PI made trustworthy
 *
 * TUNGETIFF reports "no socket filter attached" as IFF_NOFILTER, which has
 * the value of IFF_NO_PI, so without a filter the bit says nothing about
 * packet information. In that case an accept-all filter is attached for the
 * duration of a second TUNGETIFF; it changes no frame and is removed at once.
 * @ifr: receives the name and flags
 * Return: 0, or a negative errno from TUNGETIFF.
 */
static int tap_fd_flags(int fd, struct ifreq *ifr)
{
	struct sock_filter accept_all = BPF_STMT(BPF_RET | BPF_K, UINT32_MAX);
	struct sock_fprog prog = { .len = 1, .filter = &accept_all };

	if (ioctl(fd, TUNGETIFF, ifr) < 0)
		return -errno;
	if (!(ifr->ifr_flags & IFF_NOFILTER))
		return 0;
	if (ioctl(fd, TUNATTACHFILTER, &prog) < 0)
		return 0;
	(void)ioctl(fd, TUNGETIFF, ifr);
	(void)ioctl(fd, TUNDETACHFILTER, &prog);
	return 0;
}

/**
 * tap_adopt_fd() - check that @fd is an attached tap without packet
 * information, make it non-blocking and learn its name and flags
 * @ifname: receives the interface name (IFNAMSIZ bytes)
 * @vnet_hdr: receives whether the tap has IFF_VNET_HDR
 * Return: 0, or a negative errno with a message; @fd is left open either way.
 */
static int tap_adopt_fd(int fd, char *ifname, bool *vnet_hdr)
{
	struct ifreq ifr = { 0 };
	int fl = fcntl(fd, F_GETFL);
	int err;

	if (fl < 0)
		return netbe_errf(-errno, "tap: fd=%d is not an open file descriptor: %s - pass the number of a tap fd this process inherited",
				  fd, strerror(errno));
	err = tap_fd_flags(fd, &ifr);
	if (err)
		return netbe_errf(err, "tap: fd=%d is not an attached tap (TUNGETIFF: %s) - pass a /dev/net/tun fd after TUNSETIFF",
				  fd, strerror(-err));
	if (!(ifr.ifr_flags & IFF_TAP))
		return netbe_errf(-EINVAL, "tap: fd=%d is a tun (layer 3) device, not a tap - create it with IFF_TAP",
				  fd);
	if (!(ifr.ifr_flags & IFF_NO_PI))
		return netbe_errf(-EINVAL, "tap: fd=%d was attached without IFF_NO_PI - attach it with IFF_TAP|IFF_NO_PI",
				  fd);
	if (fcntl(fd, F_SETFL, (fl | O_NONBLOCK) & ~O_ASYNC) < 0)
		return netbe_errf(-errno, "tap: fd=%d: cannot make it non-blocking: %s",
				  fd, strerror(errno));
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	*vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
	return 0;
}

/**
 * tap_probe_offloads() - which receive offloads TUNSETOFFLOAD accepts;
 * leaves them all off
 * Return: the NETBE_F_GUEST_* bits that probed OK, HOST_USO added when
 * the kernel knows USO; or a negative errno if offloads cannot be reset.
 */
static int64_t tap_probe_offloads(int fd, const char *ifname)
{
	uint64_t caps = 0;
	size_t i;

	for (i = 0; i < sizeof(tap_probes) / sizeof(tap_probes[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, tap_probes[i].tun_flags) == 0)
			caps |= tap_probes[i].features;
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		return netbe_errf(-errno, "tap %s: cannot reset offloads (TUNSETOFFLOAD): %s",
				  ifname, strerror(errno));
	if (caps & (NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6))
		caps |= NETBE_F_HOST_USO;
	return (int64_t)caps;
}

/**
 * tap_setup_vnet_hdr() - switch the tap to 12-byte headers, probe offloads
 * @offloads: false for vnet_hdr=off on an adopted fd that has a header:
 *            keep the header, advertise no offload
 * Return: 0 with be->be_hdr_len and be->native_caps set, or -errno.
 */
static int tap_setup_vnet_hdr(struct netbe *be, bool offloads)
{
	struct tap_priv *p = netbe_priv(be);
	int len = TAP_VNET_HDR_LEN;
	int64_t caps;

	if (ioctl(p->fd, TUNSETVNETHDRSZ, &len) < 0)
		return netbe_errf(-errno, "tap %s: cannot set the virtio-net header size (TUNSETVNETHDRSZ): %s - use vnet_hdr=off",
				  p->ifname, strerror(errno));
	caps = tap_probe_offloads(p->fd, p->ifname);
	if (caps < 0)
		return (int)caps;
	be->be_hdr_len = TAP_VNET_HDR_LEN;
	be->native_caps = offloads ? TAP_HOST_CAPS | (uint64_t)caps : 0;
	return 0;
}

/**
 * tap_open_fd() - the fd=N form: adopt an inherited tap
 * Return: 0 with p->fd and p->ifname set, or -errno (the fd stays open and
 * the caller's).
 */
static int tap_open_fd(struct netbe *be, const struct netbe_spec *spec,
		       bool *vnet_hdr)
{
	struct tap_priv *p = netbe_priv(be);
	const char *want = netbe_spec_get(spec, "vnet_hdr");
	uint64_t fd;
	bool has_hdr = false;
	int err;

	err = netbe_spec_uint(spec, "fd", 0, INT_MAX, 0, &fd);
	if (err)
		return err;
	err = tap_adopt_fd((int)fd, p->ifname, &has_hdr);
	if (err)
		return err;
	if (want && *vnet_hdr && !has_hdr)
		return netbe_errf(-EINVAL, "tap: fd=%d (%s) has no IFF_VNET_HDR, so vnet_hdr=on is impossible - drop vnet_hdr=on, or attach it with IFF_VNET_HDR",
				  (int)fd, p->ifname);
	if (!want)
		*vnet_hdr = has_hdr;
	p->fd = (int)fd;
	return has_hdr ? tap_setup_vnet_hdr(be, *vnet_hdr) : 0;
}

/**
 * tap_open_named() - the NAME form: open /dev/net/tun, create or attach,
 * bring a created tap up
 * Return: 0 with p->fd and p->ifname set, or -errno with nothing left open.
 */
static int tap_open_named(struct netbe *be, const char *name, bool vnet_hdr,
			  unsigned mtu, unsigned queues)
{
	struct tap_priv *p = netbe_priv(be);
	bool created = false;
	int err;

	if (queues > 1) {
		err = tap_mq_take(name, queues);
		if (err)
			return netbe_errf(err, "tap %s: %s - close a handle of it or raise queues=",
					  name, err == -EBUSY ? "all queues are attached" : "out of memory");
	}
	p->fd = tap_open_name(name, vnet_hdr, queues, p->ifname, &created);
	if (p->fd < 0) {
		if (queues > 1)
			tap_mq_put(name);
		return p->fd;
	}
	p->multiqueue = queues > 1;
	err = vnet_hdr ? tap_setup_vnet_hdr(be, true) : 0;
	if (!err && mtu)
		err = tap_set_mtu(p->ifname, mtu);
	if (!err && created)
		err = tap_bring_up(p->ifname);
	if (err) {
		close(p->fd);
		p->fd = -1;
		if (p->multiqueue)
			tap_mq_put(name);
		p->multiqueue = false;
	}
	return err;
}

/* What a spec asks of the tap, parsed and checked before anything opens. */
struct tap_opts {
	bool vnet_hdr;
	uint64_t mtu;                 /* 0: leave it */
	uint64_t queues;
	const char *netns;            /* netns= value, NULL: this namespace */
	struct netbe_ifconf conf;     /* with netns=: what the child sets */
};

/* Where tap_ns_child() stopped. */
enum tap_ns_step {
	TAP_NS_RTNL,          /* opening the netlink socket */
	TAP_NS_TUN,           /* opening /dev/net/tun */
	TAP_NS_ATTACH,        /* TUNSETIFF */
	TAP_NS_LOOKUP,        /* finding the new tap's index */
	TAP_NS_CONF,          /* netbe_rtnl_configure(), at conf_step */
};

/* What tap_ns_child() gets ... */
struct tap_ns_args {
	const char *name;
	unsigned iff_flags;
	struct netbe_ifconf conf;
};

/* ... and what it reports back. */
struct tap_ns_res {
	int32_t step;         /* enum tap_ns_step */
	int32_t conf_step;    /* enum netbe_rtnl_step, with TAP_NS_CONF */
	int32_t existed;      /* the tap existed before */
	char ifname[IFNAMSIZ];
};

/**
 * tap_ns_child() - (in the namespace, async-signal-safe) open and attach
 * the tap, bring a created one up, apply args->conf
 * Return: the tap fd, or a negative errno with @res saying where.
 */
static int tap_ns_child(void *arg, void *res, size_t res_len)
{
	const struct tap_ns_args *a = arg;
	struct tap_ns_res *r = res;
	struct netbe_ifconf conf = a->conf;
	enum netbe_rtnl_step step = NETBE_RTNL_LO_UP;
	int s, fd, index = 0, err;
	bool opened;

	(void)res_len;
	r->step = TAP_NS_RTNL;
	s = netbe_rtnl_open();
	if (s < 0)
		return s;
	r->existed = netbe_rtnl_ifindex(s, a->name) > 0;
	fd = tap_tun_attach(a->name, a->iff_flags, r->ifname, &opened);
	r->step = opened ? TAP_NS_ATTACH : TAP_NS_TUN;
	err = fd < 0 ? fd : 0;
	if (!err) {
		r->step = TAP_NS_LOOKUP;
		index = netbe_rtnl_ifindex(s, r->ifname);
		err = index < 0 ? index : 0;
	}
	if (!err) {
		r->step = TAP_NS_CONF;
		conf.up = conf.up || !r->existed;
		err = netbe_rtnl_configure(s, index, &conf, &step);
		r->conf_step = (int32_t)step;
	}
	close(s);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

/**
 * tap_conf_advice() - what to do about @err at configuration step @step
 * Return: a static string, "" when there is nothing better to say.
 */
static const char *tap_conf_advice(int err, int step)
{
	if (step == NETBE_RTNL_ROUTE && err == -EEXIST)
		return " - the namespace has a default route already; delete it or drop configure=on";
	if (step == NETBE_RTNL_MTU && err == -EINVAL)
		return " - pick an mtu= the kernel accepts (68..65521)";
	if (err == -EPERM || err == -EACCES)
		return " - netbe lacks CAP_NET_ADMIN in that namespace: run it as the user that created the namespace, or as root";
	return "";
}

/**
 * tap_ns_error() - word the failure @err that tap_ns_child() reported in
 * @r, for tap @name in namespace @ns
 * Return: @err, with the message recorded.
 */
static int tap_ns_error(const struct netbe_netns *ns, const char *name,
			const struct tap_ns_res *r, int err)
{
	char where[sizeof(ns->label) + 8];

	snprintf(where, sizeof(where), " in%s", strchr(ns->label, ' '));
	switch (r->step) {
	case TAP_NS_RTNL:
		return netbe_errf(err, "%s: cannot open a netlink socket there: %s",
				  ns->label, strerror(-err));
	case TAP_NS_TUN:
		return tap_tun_error(err, where);
	case TAP_NS_ATTACH:
		return tap_attach_error(err, name, r->existed, where);
	case TAP_NS_LOOKUP:
		return netbe_errf(err, "%s: tap %s vanished right after it was attached: %s",
				  ns->label, r->ifname, strerror(-err));
	default:
		return netbe_errf(err, "%s: tap %s: cannot %s: %s%s", ns->label,
				  r->ifname, netbe_rtnl_step_what(r->conf_step),
				  strerror(-err), tap_conf_advice(err, r->conf_step));
	}
}

/**
 * tap_open_in_netns() - the NAME form with netns=: the tap is opened,
 * attached and configured by a child inside the namespace
 * Return: 0 with p->fd and p->ifname set, or -errno with nothing left open.
 */
static int tap_open_in_netns(struct netbe *be, const char *name,
			     const struct tap_opts *o)
{
	struct tap_priv *p = netbe_priv(be);
	struct tap_ns_args a = { .name = name, .conf = o->conf,
				 .iff_flags = tap_iff_flags(o->vnet_hdr, 1) };
	struct tap_ns_res r;
	struct netbe_netns ns;
	int err, fd = -1;

	err = tap_name_check(name);
	if (!err)
		err = netbe_netns_open(&ns, "tap", o->netns);
	if (err)
		return err;
	memset(&r, 0, sizeof(r));
	err = netbe_netns_call(&ns, tap_ns_child, &a, &r, sizeof(r), &fd);
	if (!err && fd < 0)
		err = tap_ns_error(&ns, name, &r, fd);
	netbe_netns_close(&ns);
	if (err)
		return err;
	p->fd = fd;
	memcpy(p->ifname, r.ifname, IFNAMSIZ);
	p->ifname[IFNAMSIZ - 1] = '\0';
	err = o->vnet_hdr ? tap_setup_vnet_hdr(be, true) : 0;
	if (err) {
		close(p->fd);
		p->fd = -1;
	}
	return err;
}

/**
 * tap_parse_ipv4() - spec key @key as an IPv4 address, @def if absent
 * Return: 0, or -EINVAL naming the key.
 */
static int tap_parse_ipv4(const struct netbe_spec *spec, const char *key,
			  const char *def, struct in_addr *out)
{
	const char *v = netbe_spec_get(spec, key);

	if (inet_pton(AF_INET, v ? v : def, out) == 1)
		return 0;
	return netbe_errf(-EINVAL, "tap: bad value '%s' for key '%s': expected an IPv4 address such as %s",
			  v, key, def);
}

/**
 * tap_check_subnet() - the address and the gateway of @c are two host
 * addresses of one subnet
 * Return: 0, or -EINVAL with a message.
 */
static int tap_check_subnet(const struct netbe_ifconf *c)
{
	uint32_t host = UINT32_MAX >> c->prefix;
	uint32_t a = ntohl(c->addr.s_addr), g = ntohl(c->gateway.s_addr);
	char as[INET_ADDRSTRLEN], gs[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->addr, as, sizeof(as));
	inet_ntop(AF_INET, &c->gateway, gs, sizeof(gs));
	if ((a & host) == 0 || (a & host) == host)
		return netbe_errf(-EINVAL, "tap: address=%s is the network or broadcast address of its /%u - pick a host address (default " TAP_CONF_ADDR ")",
				  as, c->prefix);
	if ((a ^ g) & ~host)
		return netbe_errf(-EINVAL, "tap: gateway=%s is outside address=%s/%u - pick a gateway inside that subnet (slirp's is " TAP_CONF_GATEWAY ")",
				  gs, as, c->prefix);
	if (a == g || (g & host) == 0 || (g & host) == host)
		return netbe_errf(-EINVAL, "tap: gateway=%s is the tap's own, the network or the broadcast address - pick another host of %s/%u (slirp's is " TAP_CONF_GATEWAY ")",
				  gs, as, c->prefix);
	return 0;
}

/**
 * tap_parse_conf() - configure= and its address=, prefix=, gateway= into
 * o->conf (with o->netns and o->mtu already parsed)
 * Return: 0, or -EINVAL with a message.
 */
static int tap_parse_conf(const struct netbe_spec *spec, struct tap_opts *o)
{
	static const char *const conf_keys[] = { "address", "prefix", "gateway", NULL };
	uint64_t prefix;
	bool configure;
	int err, i;

	err = netbe_spec_bool(spec, "configure", false, &configure);
	if (err)
		return err;
	o->conf.mtu = (unsigned)o->mtu;
	if (!configure) {
		for (i = 0; conf_keys[i]; i++)
			if (netbe_spec_get(spec, conf_keys[i]))
				return netbe_errf(-EINVAL, "tap: %s= applies with configure=on - add configure=on or drop %s=",
						  conf_keys[i], conf_keys[i]);
		return 0;
	}
	if (!o->netns)
		return netbe_errf(-EINVAL, "tap: configure=on needs netns=: it configures the namespace the tap is created in (give netns=/proc/self/ns/net for netbe's own)");
	err = tap_parse_ipv4(spec, "address", TAP_CONF_ADDR, &o->conf.addr);
	if (!err)
		err = netbe_spec_uint(spec, "prefix", 1, 30, TAP_CONF_PREFIX, &prefix);
	if (!err)
		err = tap_parse_ipv4(spec, "gateway", TAP_CONF_GATEWAY, &o->conf.gateway);
	if (err)
		return err;
	o->conf.ipv4 = true;
	o->conf.up = true;
	o->conf.prefix = (unsigned)prefix;
	if (!o->conf.mtu)
		o->conf.mtu = TAP_CONF_MTU;
	return tap_check_subnet(&o->conf);
}

/**
 * tap_parse_opts() - every key of @spec into @o, with the combinations
 * checked (@has_fd: the fd=N form)
 * Return: 0, or -EINVAL with a message.
 */
static int tap_parse_opts(const struct netbe_spec *spec, bool has_fd,
			  struct tap_opts *o)
{
	int err = netbe_spec_bool(spec, "vnet_hdr", true, &o->vnet_hdr);

	if (!err)
		err = netbe_spec_uint(spec, "mtu", TAP_MTU_MIN, TAP_MTU_MAX, 0, &o->mtu);
	if (!err)
		err = netbe_spec_uint(spec, "queues", 1, TAP_QUEUES_MAX, 1, &o->queues);
	if (err)
		return err;
	if (has_fd && o->queues > 1)
		return netbe_errf(-EINVAL, "tap: queues= applies to tap:NAME; an adopted fd is one queue already - drop queues=");
	o->netns = netbe_spec_get(spec, "netns");
	if (o->netns && has_fd)
		return netbe_errf(-EINVAL, "tap: netns= applies to tap:NAME; an adopted fd is attached already - drop netns=");
	if (o->netns && o->queues > 1)
		return netbe_errf(-EINVAL, "tap: queues= cannot be combined with netns= - drop one of them");
	return tap_parse_conf(spec, o);
}

/**
 * tap_open() - the open op: "tap:NAME" (optionally in netns=) or
 * "tap:fd=N", with vnet_hdr, mtu, queues and configure
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int tap_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct tap_priv *p = netbe_priv(be);
	bool has_fd = netbe_spec_get(spec, "fd") != NULL;
	struct tap_opts o;
	int err;

	if (!spec->name && !has_fd)
		return netbe_errf(-EINVAL, "tap: no interface given - use tap:NAME to create or attach to a tap, or tap:fd=N to adopt an open one");
	if (spec->name && has_fd)
		return netbe_errf(-EINVAL, "tap: both NAME (%s) and fd= given - use either tap:NAME or tap:fd=N",
				  spec->name);
	memset(&o, 0, sizeof(o));
	err = tap_parse_opts(spec, has_fd, &o);
	if (err)
		return err;

	be->be_hdr_len = 0;
	be->native_caps = 0;
	if (has_fd) {
		err = tap_open_fd(be, spec, &o.vnet_hdr);
		if (!err && o.mtu)
			err = tap_set_mtu(p->ifname, (unsigned)o.mtu);
	} else if (o.netns) {
		err = tap_open_in_netns(be, spec->name, &o);
	} else {
		err = tap_open_named(be, spec->name, o.vnet_hdr, (unsigned)o.mtu,
				     (unsigned)o.queues);
	}
	if (err)
		return err;
	be->rx_fd = p->fd;
	be->tx_fd = p->fd;
	be->tx_events = NETBE_EV_OUT;
	nb_debug("tap %s: fd %d, vnet header %u bytes, native caps 0x%llx",
		 p->ifname, p->fd, be->be_hdr_len,
		 (unsigned long long)be->native_caps);
	return 0;
}

/** tap_close() - the close op: close the tap fd (a created tap vanishes). */
static void tap_close(struct netbe *be)
{
	struct tap_priv *p = netbe_priv(be);

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->multiqueue)
		tap_mq_put(p->ifname);
}

/**
 * tap_read_frame() - read one frame into @iov
 *
 * A single-segment buffer goes through read(), which the kernel serves
 * without importing an iovec array: measurably cheaper per 64-byte frame.
 * Return: what read()/readv() returns.
 */
static ssize_t tap_read_frame(int fd, const struct iovec *iov, int iovcnt)
{
	if (iovcnt == 1)
		return read(fd, iov->iov_base, iov->iov_len);
	return readv(fd, iov, iovcnt);
}

/**
 * tap_write_frame() - write one frame from @iov, like tap_read_frame()
 * Return: what write()/writev() returns.
 */
static ssize_t tap_write_frame(int fd, const struct iovec *iov, int iovcnt)
{
	if (iovcnt == 1)
		return write(fd, iov->iov_base, iov->iov_len);
	return writev(fd, iov, iovcnt);
}

/**
 * tap_recv() - the recv op: one read per frame until @n frames or none
 * pending
 * Return: frames received (0 when none), or -errno when the tap is gone and
 * nothing was received.
 */
static int tap_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct tap_priv *p = netbe_priv(be);
	unsigned i = 0;

	while (i < n) {
		ssize_t r = tap_read_frame(p->fd, x[i].iov, x[i].iovcnt);

		if (r > 0) {
			x[i++].len = (size_t)r;
			continue;
		}
		if (r == 0 || errno == EAGAIN)
			break;
		if (errno == EINTR)
			continue;
		if (i)
			break;
		return NB_ERR_RL(-errno, "tap %s: read failed: %s (interface deleted?)",
				 p->ifname, strerror(errno));
	}
	return (int)i;
}

/**
 * tap_send() - the send op: one write per frame
 *
 * EIO means the interface is down, which its owner may undo at any time, so
 * those frames are dropped and counted like frames the kernel refused
 * (EINVAL: a malformed header). EBADFD means the tap was deleted: that ends
 * the handle.
 * Return: frames consumed (x[i].err set for the dropped ones), -EAGAIN when
 * not even the first could be written, or -EBADFD when the tap is gone
 * before the first frame.
 */
static int tap_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct tap_priv *p = netbe_priv(be);
	unsigned i = 0;

	while (i < n) {
		ssize_t r = tap_write_frame(p->fd, x[i].iov, x[i].iovcnt);

		if (r >= 0) {
			x[i++].err = 0;
			continue;
		}
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
		case ENOBUFS:
			return i ? (int)i : -EAGAIN;
		case EBADFD:
			if (i)
				return (int)i;
			return NB_ERR_RL(-errno, "tap %s: write failed: %s (interface deleted?)",
					 p->ifname, strerror(errno));
		case EIO:
			/* the interface is down: it drops, like a NIC without link */
			x[i++].err = -EIO;
			continue;
		default:
			NB_LOG_RL(NETBE_LOG_DEBUG, "tap %s: kernel refused a %zu byte frame: %s",
				  p->ifname, x[i].len, strerror(errno));
			x[i++].err = -errno;
		}
	}
	return (int)i;
}

/**
 * tap_set_offload() - the set_offload op: let the kernel hand us exactly
 * the receive offloads in @features
 * Return: 0, or -errno with a message.
 */
static int tap_set_offload(struct netbe *be, uint64_t features)
{
	struct tap_priv *p = netbe_priv(be);
	unsigned flags = 0;

	if (!be->be_hdr_len)
		return 0;
	if (features & NETBE_F_GUEST_CSUM) {
		flags = TUN_F_CSUM;
		if (features & NETBE_F_GUEST_TSO4)
			flags |= TUN_F_TSO4;
		if (features & NETBE_F_GUEST_TSO6)
			flags |= TUN_F_TSO6;
		if ((features & NETBE_F_GUEST_ECN) && (flags & (TUN_F_TSO4 | TUN_F_TSO6)))
			flags |= TUN_F_TSO_ECN;
		if (features & NETBE_F_GUEST_UFO)
			flags |= TUN_F_UFO;
		if (features & NETBE_F_GUEST_USO4)
			flags |= TUN_F_USO4;
		if (features & NETBE_F_GUEST_USO6)
			flags |= TUN_F_USO6;
	}
	if (ioctl(p->fd, TUNSETOFFLOAD, flags) == 0)
		return 0;
	/* Kernels that take USO only as a pair refuse one bit alone: without
	 * it the kernel segments UDP itself, which is correct, only slower. */
	if (errno == EINVAL && (flags & (TUN_F_USO4 | TUN_F_USO6)) &&
	    ioctl(p->fd, TUNSETOFFLOAD, flags & ~(TUN_F_USO4 | TUN_F_USO6)) == 0)
		return 0;
	return netbe_errf(-errno, "tap %s: cannot set offloads 0x%x (TUNSETOFFLOAD): %s",
			  p->ifname, flags, strerror(errno));
}

const struct netbe_backend netbe_backend_tap = {
	.name = "tap",
	.aliases = tap_aliases,
	.help = "Linux tap device with virtio-net header offloads: create or attach to NAME, here or in netns=PID|PATH (configure=on: slirp4netns --configure), or adopt fd=N",
	.name_help = "tap interface to create or attach to (e.g. tap0); omit when fd=N is given",
	.name_use = NETBE_NAME_OPTIONAL,
	.keys = tap_keys,
	.priv_size = sizeof(struct tap_priv),
	.open = tap_open,
	.close = tap_close,
	.send = tap_send,
	.recv = tap_recv,
	.set_offload = tap_set_offload,
};
