/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * af_packet.c - the AF_PACKET backend: an existing Linux interface (a veth
 * end, a physical NIC) as a virtual wire, through a raw packet socket.
 *
 * Theory of operation. One non-blocking SOCK_RAW/ETH_P_ALL socket, bound to
 * the interface's index, is both rx_fd and tx_fd. PACKET_IGNORE_OUTGOING
 * keeps the frames we send from coming back to us (a patch would otherwise
 * loop them), and promiscuous membership (default on) makes the interface
 * accept frames for the frontend's MAC address, which is not its own.
 *
 * Receive goes through a TPACKET_V2 ring mapped into our memory: fixed
 * slots, each large enough for the largest frame the socket can hand over
 * (a 64 KiB GSO frame with vnet headers), that the kernel fills and hands
 * over one by one; the socket is readable while a slot is ours. The copy
 * into the ring runs in the sender's softirq, on the sender's CPU. recv()
 * copies frames out of their slots into the buffers core gives (the one
 * copy the backend contract needs) and hands each slot straight back.
 * TPACKET_V3 (variable-size frames in blocks) was tried first and dropped:
 * it hands a block over only when it is full or its retire timer fires (one
 * jiffy, 4 ms at HZ=250), so small frames such as TCP ACKs waited up to that
 * long per hop and TCP through a patch fell to 0.25 Gbit/s (V2: 5-8).
 * A VLAN tag the NIC stripped (TP_STATUS_VLAN_VALID) is put back into the
 * frame. A frame the kernel had to truncate (larger than a slot) is dropped
 * and counted as rx_too_big; frames the kernel dropped because no slot was
 * free are counted as rx_overflow (PACKET_STATISTICS, read when a slot
 * says TP_STATUS_LOSING and whenever recv() drains the ring).
 *
 * Transmit is one sendmmsg() per burst: the kernel copies each frame into
 * an skb and queues it (or, with qdisc_bypass=on, hands it to the driver
 * directly). A full queue (EAGAIN/ENOBUFS) is -EAGAIN with the frame kept;
 * a frame the kernel refuses (EINVAL, EMSGSIZE) is consumed with its error.
 * A TPACKET TX ring (copy into a slot, one send() kick per burst) was
 * measured against it and lost on 64-byte frames by half and on TCP by a
 * little (doc/af_packet.md), and it cannot say which frame the kernel
 * refused.
 *
 * With vnet_hdr=on (the default) the socket carries a 10-byte virtio-net
 * header before each frame both ways (PACKET_VNET_HDR): GSO super-frames
 * and partial checksums pass through, in both directions. On a mapped ring
 * the kernel writes that header just before the frame (at tp_mac - 10),
 * with csum_start counted from the Ethernet header, as core expects. The
 * kernel hands over whatever offloaded frames it has, with no way to ask
 * for fewer, so there is no set_offload op: core segments in software what
 * the frontend did not negotiate. With vnet_hdr=off the frames carry no
 * metadata, so the peers' offloads must be off (doc/af_packet.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "backend.h"
#include "iov.h"
#include "log.h"
#include "ring_copy.h"
#include "spec.h"

#define AFP_VNET_HDR_LEN RC_AFP_VNET_HDR_LEN
/* Receive ring: blocks of AFP_BLOCK_SIZE bytes (a power of two: the kernel
 * allocates blocks in power-of-two pages), cut into slots that each hold
 * the largest frame with the kernel's slot header in front of it. */
#define AFP_BLOCK_SIZE (1u << 20)
#define AFP_RING_BYTES (8u << 20)
#define AFP_SLOT_OVERHEAD 128u

/* Transmit offloads the kernel takes with PACKET_VNET_HDR (packet_snd ->
 * virtio_net_hdr_to_skb); UDP segmentation (USO) from Linux 6.2 on. */
#define AFP_HOST_CAPS (NETBE_F_CSUM | NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6 | \
		       NETBE_F_HOST_ECN | NETBE_F_HOST_UFO)
/* Receive offloads the kernel may hand over (virtio_net_hdr_from_skb). */
#define AFP_GUEST_CAPS (NETBE_F_GUEST_CSUM | NETBE_F_GUEST_TSO4 | \
			NETBE_F_GUEST_TSO6 | NETBE_F_GUEST_ECN | \
			NETBE_F_GUEST_USO4 | NETBE_F_GUEST_USO6)

struct afp_priv {
	int fd;
	char ifname[IFNAMSIZ];
	bool vnet_hdr;
	/* receive ring; touched only by the receiving thread */
	uint8_t *ring;
	size_t ring_len;
	unsigned slot_size, slots_per_block, nslots;
	unsigned slot;                   /* the next slot to read */
	bool unchecked;                  /* frames taken since the last drop count */
	/* transmit; touched only by the sending thread */
	struct mmsghdr mm[NETBE_BURST];
};

static const struct netbe_key afp_keys[] = {
	{ .name = "vnet_hdr",
	  .help = "on|off: carry a virtio-net header so GSO super-frames and "
		  "partial checksums pass through (default on)" },
	{ .name = "qdisc_bypass",
	  .help = "on|off: hand sent frames straight to the driver, skipping "
		  "the interface's qdisc (default off)" },
	{ .name = "fanout",
	  .help = "0..65535: join fanout group N (flow hash), so several "
		  "handles on one interface share its traffic" },
	{ .name = "promisc",
	  .help = "on|off: put the interface in promiscuous mode while open, "
		  "so frames for the frontend's MAC arrive (default on)" },
	{ .name = NULL }
};

/**
 * afp_socket_error() - turn a failed socket()/setsockopt()/bind() into advice
 * Return: @err, with the message recorded.
 */
static int afp_socket_error(int err, const char *ifname, const char *what)
{
	if (err == -EPERM || err == -EACCES)
		return netbe_errf(err, "af_packet %s: %s: %s - packet sockets need CAP_NET_RAW: run as root or give the program cap_net_raw",
				  ifname, what, strerror(-err));
	return netbe_errf(err, "af_packet %s: %s: %s", ifname, what, strerror(-err));
}

/**
 * afp_setsockopt_int() - set one SOL_PACKET option to @val
 * Return: 0, or a negative errno with a message naming @what.
 */
static int afp_setsockopt_int(struct afp_priv *p, int opt, int val,
			      const char *what)
{
	if (setsockopt(p->fd, SOL_PACKET, opt, &val, sizeof(val)) == 0)
		return 0;
	return afp_socket_error(-errno, p->ifname, what);
}

/**
 * afp_kernel_has_uso() - does the running kernel take UDP segmentation
 * (VIRTIO_NET_HDR_GSO_UDP_L4) from a packet socket? (Linux 6.2 and later)
 * Return: true when it does.
 */
static bool afp_kernel_has_uso(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 2);
}

/**
 * afp_slot_size() - bytes per receive slot: the largest frame the socket
 * can hand over (a 64 KiB GSO frame with vnet headers, else an MTU-sized
 * frame with a VLAN tag) plus the kernel's slot header
 * Return: the size, or a negative errno with a message.
 */
static int afp_slot_size(struct afp_priv *p, bool vnet_hdr)
{
	long frame = NETBE_FRAME_MAX;

	if (!vnet_hdr) {
		frame = netbe_if_frame_max(p->ifname);
		if (frame < 0)
			return netbe_errf((int)frame, "af_packet %s: cannot read the MTU: %s",
					  p->ifname, strerror((int)-frame));
	}
	return (int)((AFP_SLOT_OVERHEAD + (size_t)frame + TPACKET_ALIGNMENT - 1) &
		     ~(size_t)(TPACKET_ALIGNMENT - 1));
}

/**
 * afp_setup_ring() - switch to TPACKET_V2 and map the receive ring
 * Return: 0 with p->ring and its geometry set, or a negative errno with a
 * message.
 */
static int afp_setup_ring(struct afp_priv *p, bool vnet_hdr)
{
	struct tpacket_req req = {
		.tp_block_size = AFP_BLOCK_SIZE,
		.tp_block_nr = AFP_RING_BYTES / AFP_BLOCK_SIZE,
	};
	int slot = afp_slot_size(p, vnet_hdr), err;
	void *ring;

	if (slot < 0)
		return slot;
	err = afp_setsockopt_int(p, PACKET_VERSION, TPACKET_V2,
				 "cannot select TPACKET_V2 (Linux 2.6.27 or later needed)");
	if (err)
		return err;
	req.tp_frame_size = (unsigned)slot;
	req.tp_frame_nr = AFP_BLOCK_SIZE / (unsigned)slot * req.tp_block_nr;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return netbe_errf(-errno, "af_packet %s: cannot set up the %u MiB receive ring: %s - check the memory limits",
				  p->ifname, AFP_RING_BYTES >> 20, strerror(errno));
	ring = mmap(NULL, AFP_RING_BYTES, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, p->fd, 0);
	if (ring == MAP_FAILED)
		return netbe_errf(-errno, "af_packet %s: cannot map the receive ring: %s",
				  p->ifname, strerror(errno));
	p->ring = ring;
	p->ring_len = AFP_RING_BYTES;
	p->slot_size = (unsigned)slot;
	p->slots_per_block = AFP_BLOCK_SIZE / (unsigned)slot;
	p->nslots = req.tp_frame_nr;
	return 0;
}

/**
 * afp_bind() - bind the socket to @ifindex for every protocol, then join
 * the fanout group if one was asked for
 * Return: 0, or a negative errno with a message.
 */
static int afp_bind(struct afp_priv *p, int ifindex, bool fanout,
		    unsigned group)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};

	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)))
		return afp_socket_error(-errno, p->ifname, "cannot bind to the interface");
	if (!fanout)
		return 0;
	group |= PACKET_FANOUT_HASH << 16;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_FANOUT, &group, sizeof(group)))
		return netbe_errf(-errno, "af_packet %s: cannot join fanout group %u: %s - every member of a group must use the same interface and mode; pick another group number",
				  p->ifname, group & 0xffff, strerror(errno));
	return 0;
}

/**
 * afp_set_promisc() - promiscuous membership for as long as the socket lives
 * Return: 0, or a negative errno with a message.
 */
static int afp_set_promisc(struct afp_priv *p, int ifindex)
{
	struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC };

	if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) == 0)
		return 0;
	return afp_socket_error(-errno, p->ifname,
				"cannot make the interface promiscuous (use promisc=off if the frontend uses the interface's own MAC)");
}

/** afp_opts - the parsed keys. */
struct afp_opts {
	bool vnet_hdr, qdisc_bypass, promisc, fanout;
	uint64_t group;
};

/**
 * afp_parse() - read the keys of @spec into @o
 * Return: 0, or -EINVAL with a message naming the key.
 */
static int afp_parse(const struct netbe_spec *spec, struct afp_opts *o)
{
	int err = netbe_spec_bool(spec, "vnet_hdr", true, &o->vnet_hdr);

	if (!err)
		err = netbe_spec_bool(spec, "qdisc_bypass", false, &o->qdisc_bypass);
	if (!err)
		err = netbe_spec_bool(spec, "promisc", true, &o->promisc);
	if (!err)
		err = netbe_spec_uint(spec, "fanout", 0, 65535, 0, &o->group);
	o->fanout = netbe_spec_get(spec, "fanout") != NULL;
	return err;
}

/**
 * afp_ifindex() - the index of interface @name in this network namespace
 * Return: the index, or a negative errno with a message saying what to do.
 */
static int afp_ifindex(const char *name)
{
	unsigned idx;

	if (strlen(name) >= IFNAMSIZ)
		return netbe_errf(-EINVAL, "af_packet: interface name '%s' is too long - use at most %d characters",
				  name, IFNAMSIZ - 1);
	idx = if_nametoindex(name);
	if (!idx)
		return netbe_errf(-ENODEV, "af_packet: no interface '%s' in this network namespace - check the name with 'ip link', or create one (e.g. 'ip link add %s type veth peer name PEER')",
				  name, name);
	return (int)idx;
}

/**
 * afp_configure() - every socket option, the ring and the binding, in the
 * order the kernel needs (header and version before the ring, fanout after
 * the bind)
 * Return: 0, or a negative errno with a message.
 */
static int afp_configure(struct afp_priv *p, int ifindex,
			 const struct afp_opts *o)
{
	int err = 0;

	if (o->vnet_hdr)
		err = afp_setsockopt_int(p, PACKET_VNET_HDR, 1,
					 "cannot enable virtio-net headers (PACKET_VNET_HDR) - use vnet_hdr=off");
	if (!err)
		err = afp_setsockopt_int(p, PACKET_IGNORE_OUTGOING, 1,
					 "cannot ignore outgoing frames (PACKET_IGNORE_OUTGOING needs Linux 4.20 or later)");
	if (!err && o->qdisc_bypass)
		err = afp_setsockopt_int(p, PACKET_QDISC_BYPASS, 1,
					 "cannot bypass the qdisc - drop qdisc_bypass=on");
	if (!err)
		err = afp_setup_ring(p, o->vnet_hdr);
	if (!err && o->promisc)
		err = afp_set_promisc(p, ifindex);
	if (!err)
		err = afp_bind(p, ifindex, o->fanout, (unsigned)o->group);
	return err;
}

/** afp_unmap() - unmap the receive ring if it is mapped. */
static void afp_unmap(struct afp_priv *p)
{
	if (p->ring)
		munmap(p->ring, p->ring_len);
	p->ring = NULL;
}

/**
 * afp_open() - the open op: "af_packet:IFNAME" with its keys
 * Return: 0, or a negative errno with a message saying what to do.
 */
static int afp_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct afp_priv *p = netbe_priv(be);
	struct afp_opts o;
	int ifindex, err;

	err = afp_parse(spec, &o);
	if (err)
		return err;
	ifindex = afp_ifindex(spec->name);
	if (ifindex < 0)
		return ifindex;
	memcpy(p->ifname, spec->name, strlen(spec->name) + 1);
	/* protocol 0: nothing is queued before the ring exists; bind() sets
	 * ETH_P_ALL */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return afp_socket_error(-errno, p->ifname, "cannot create a packet socket");
	err = afp_configure(p, ifindex, &o);
	if (err) {
		afp_unmap(p);
		close(p->fd);
		p->fd = -1;
		return err;
	}
	p->vnet_hdr = o.vnet_hdr;
	be->be_hdr_len = o.vnet_hdr ? AFP_VNET_HDR_LEN : 0;
	be->native_caps = 0;
	if (o.vnet_hdr)
		be->native_caps = AFP_HOST_CAPS | AFP_GUEST_CAPS |
			(afp_kernel_has_uso() ? NETBE_F_HOST_USO : 0);
	be->rx_fd = p->fd;
	be->tx_fd = p->fd;
	be->tx_events = NETBE_EV_OUT;
	nb_debug("af_packet %s: fd %d, ifindex %d, vnet header %u bytes, native caps 0x%llx",
		 p->ifname, p->fd, ifindex, be->be_hdr_len,
		 (unsigned long long)be->native_caps);
	return 0;
}

/** afp_close() - the close op: unmap the ring, close the socket. */
static void afp_close(struct netbe *be)
{
	struct afp_priv *p = netbe_priv(be);

	afp_unmap(p);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* ------------------------------------------------------------------------ */
/* Receive                                                                  */
/* ------------------------------------------------------------------------ */

/** afp_slot() - the header of receive slot @i. */
static struct tpacket2_hdr *afp_slot(struct afp_priv *p, unsigned i)
{
	size_t off = (size_t)(i / p->slots_per_block) * AFP_BLOCK_SIZE +
		     (size_t)(i % p->slots_per_block) * p->slot_size;

	return (struct tpacket2_hdr *)(void *)(p->ring + off);
}

/**
 * afp_count_kernel_drops() - add the frames the kernel dropped for want of
 * a free slot (read and reset by PACKET_STATISTICS) to rx_overflow. Called
 * when a slot says TP_STATUS_LOSING and when recv() drains the ring after
 * taking frames: drops at the tail of a burst mark no later slot.
 */
static void afp_count_kernel_drops(struct netbe *be, struct afp_priv *p)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	unsigned i;

	p->unchecked = false;
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return;
	for (i = 0; i < st.tp_drops; i++)
		netbe_count_drop(be, NETBE_DROP_RX_OVERFLOW);
}

/**
 * afp_next_frame() - the next slot the kernel handed over
 * Return: its header inside the ring, or NULL when there is none.
 */
static struct tpacket2_hdr *afp_next_frame(struct afp_priv *p)
{
	struct tpacket2_hdr *h = afp_slot(p, p->slot);

	if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return NULL;
	return h;
}

/** afp_release() - give slot @h back to the kernel and move to the next. */
static void afp_release(struct netbe *be, struct afp_priv *p,
			struct tpacket2_hdr *h)
{
	if (h->tp_status & TP_STATUS_LOSING)
		afp_count_kernel_drops(be, p);
	__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	p->slot = p->slot + 1 == p->nslots ? 0 : p->slot + 1;
	p->unchecked = true;
}

/**
 * afp_warn_offloaded() - with vnet_hdr=off a frame with a partial checksum
 * (or a GSO super-frame) arrives without the metadata to finish it: say
 * once in a while what to do about it.
 */
static void afp_warn_offloaded(struct afp_priv *p, const struct tpacket2_hdr *h)
{
	if (!p->vnet_hdr && (h->tp_status & TP_STATUS_CSUMNOTREADY))
		NB_LOG_RL(NETBE_LOG_WARN, "af_packet %s: received a frame with an unfinished checksum; with vnet_hdr=off turn the senders' offloads off (ethtool -K PEER tso off gso off tx off), or use vnet_hdr=on",
			  p->ifname);
}

/**
 * afp_check_socket() - nothing is pending: see whether the socket reported
 * an error (the interface went down or was deleted), which also clears it
 * Return: 0, or -ENODEV when the interface is gone.
 */
static int afp_check_socket(struct afp_priv *p)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) || !err)
		return 0;
	if (err == ENODEV || err == ENXIO)
		return NB_ERR_RL(-ENODEV, "af_packet %s: the interface was deleted",
				 p->ifname);
	NB_LOG_RL(NETBE_LOG_WARN, "af_packet %s: %s", p->ifname, strerror(err));
	return 0;
}

/**
 * afp_recv() - the recv op: copy up to @n frames out of the ring
 * Return: frames received (0 when none is pending), or -ENODEV when the
 * interface was deleted.
 */
static int afp_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct afp_priv *p = netbe_priv(be);
	struct tpacket2_hdr *h;
	enum netbe_drop_reason why;
	unsigned i = 0;

	while (i < n && (h = afp_next_frame(p)) != NULL) {
		afp_warn_offloaded(p, h);
		if (rc_afp_slot_copy((const uint8_t *)h, p->slot_size, p->vnet_hdr,
				     &x[i], &why))
			i++;
		else
			netbe_count_drop(be, why);
		afp_release(be, p, h);
	}
	if (i < n && p->unchecked)
		afp_count_kernel_drops(be, p);
	if (!i)
		return afp_check_socket(p);
	return (int)i;
}

/* ------------------------------------------------------------------------ */
/* Transmit                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * afp_send() - the send op: sendmmsg() of the burst, repeated past frames
 * the kernel refuses
 *
 * sendmmsg() stops at the first frame that fails and reports only the
 * frames before it, so the failing frame is retried alone to learn its
 * error. ENETDOWN (the interface is down; its owner may bring it up) drops
 * like a NIC without link; ENXIO/ENODEV mean the interface is gone.
 * Return: frames consumed (x[i].err set for dropped ones), -EAGAIN when
 * none could be queued, or -ENODEV when the interface is gone.
 */
static int afp_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct afp_priv *p = netbe_priv(be);
	unsigned i, done = 0;

	for (i = 0; i < n; i++) {
		memset(&p->mm[i], 0, sizeof(p->mm[i]));
		p->mm[i].msg_hdr.msg_iov = x[i].iov;
		p->mm[i].msg_hdr.msg_iovlen = (size_t)x[i].iovcnt;
		x[i].err = 0;
	}
	while (done < n) {
		int r = sendmmsg(p->fd, p->mm + done, n - done, MSG_DONTWAIT);

		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
		case ENOBUFS:
			return done ? (int)done : -EAGAIN;
		case ENXIO:
		case ENODEV:
			if (done)
				return (int)done;
			return NB_ERR_RL(-ENODEV, "af_packet %s: send failed: %s (interface deleted?)",
					 p->ifname, strerror(errno));
		default:
			NB_LOG_RL(NETBE_LOG_DEBUG, "af_packet %s: kernel refused a %zu byte frame: %s",
				  p->ifname, x[done].len, strerror(errno));
			x[done++].err = -errno;
		}
	}
	return (int)done;
}

const struct netbe_backend netbe_backend_af_packet = {
	.name = "af_packet",
	.help = "an existing Linux interface (veth, NIC) through a packet socket: TPACKET_V2 receive ring, virtio-net header offloads",
	.name_help = "interface to attach to (e.g. veth1); it must exist in this network namespace",
	.name_use = NETBE_NAME_REQUIRED,
	.keys = afp_keys,
	.priv_size = sizeof(struct afp_priv),
	.open = afp_open,
	.close = afp_close,
	.send = afp_send,
	.recv = afp_recv,
};
