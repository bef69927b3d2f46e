/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdev_ctrl.c - the virtio-net control queue (virtio 1.2, 5.1.6.5).
 *
 * A command is a chain whose readable part is {class, command, data...}
 * and whose writable part starts with the one-byte ack. The readable part
 * is copied out of guest memory (at most VDEV_CTRL_MAX bytes) before it is
 * parsed; a chain without room for the ack is returned with length 0.
 * Commands: RX promisc/allmulti (recorded: netbe delivers every frame the
 * backend gives, so the guest's filter does the rest), MAC table set and
 * MAC address set, ANNOUNCE ack, MQ queue pairs set, GUEST_OFFLOADS set
 * (narrowing the receive offloads on every backend handle). Anything else
 * is answered VIRTIO_NET_ERR and counted.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "iov.h"
#include "log.h"
#include "vdev.h"

#define VDEV_CTRL_MAX 8192     /* bytes of one command copied out */

enum {
	CTRL_OK = 0,
	CTRL_ERR = 1,
};

enum {
	CLASS_RX = 0,
	CLASS_MAC = 1,
	CLASS_ANNOUNCE = 3,
	CLASS_MQ = 4,
	CLASS_GUEST_OFFLOADS = 5,
};

/* A command copied out of guest memory. */
struct ctrl_cmd {
	uint8_t class, cmd;
	const uint8_t *data;
	size_t len;
};

/** ctrl_rx() - RX class: PROMISC (0) / ALLMULTI (1) with one on/off byte.
 * Return: the ack. */
static uint8_t ctrl_rx(struct netbe_vdev *dev, const struct ctrl_cmd *c)
{
	if (!(dev->features & NETBE_F_CTRL_RX) || c->len != 1 || c->cmd > 1)
		return CTRL_ERR;
	if (c->cmd == 0)
		dev->promisc = c->data[0];
	else
		dev->allmulti = c->data[0];
	return CTRL_OK;
}

/** mac_table_len() - bytes of one MAC table {le32 entries, 6 * entries} at
 * the front of @p. Return: its length, or 0 when it does not fit @len. */
static size_t mac_table_len(const uint8_t *p, size_t len)
{
	uint32_t entries;

	if (len < 4)
		return 0;
	memcpy(&entries, p, 4);
	entries = le32toh(entries);
	if (entries > (len - 4) / 6)
		return 0;
	return 4 + (size_t)entries * 6;
}

/** ctrl_mac() - MAC class: TABLE_SET (0, two tables, checked and
 * accepted) and ADDR_SET (1, six bytes, a unicast address). Return: the
 * ack. */
static uint8_t ctrl_mac(struct netbe_vdev *dev, const struct ctrl_cmd *c)
{
	size_t uni, multi;

	if (c->cmd == 0 && (dev->features & NETBE_F_CTRL_RX)) {
		uni = mac_table_len(c->data, c->len);
		multi = uni ? mac_table_len(c->data + uni, c->len - uni) : 0;
		return multi && uni + multi == c->len ? CTRL_OK : CTRL_ERR;
	}
	if (c->cmd != 1 || !(dev->features & NETBE_F_CTRL_MAC_ADDR) ||
	    c->len != 6 || (c->data[0] & 1))
		return CTRL_ERR;
	pthread_mutex_lock(&dev->cfg_lock);
	memcpy(dev->cfg.mac, c->data, 6);
	pthread_mutex_unlock(&dev->cfg_lock);
	return CTRL_OK;
}

/** ctrl_mq() - MQ class: VQ_PAIRS_SET (0) with a le16 from 1 to the
 * device's pairs. Return: the ack. */
static uint8_t ctrl_mq(struct netbe_vdev *dev, const struct ctrl_cmd *c)
{
	uint16_t n;

	if (!(dev->features & NETBE_F_MQ) || c->cmd != 0 || c->len != 2)
		return CTRL_ERR;
	memcpy(&n, c->data, 2);
	n = le16toh(n);
	if (n < 1 || n > dev->pairs)
		return CTRL_ERR;
	dev->active_pairs = n;
	return CTRL_OK;
}

/** ctrl_offloads() - GUEST_OFFLOADS class: SET (0) with a le64 subset of
 * the negotiated receive offloads. Return: the ack. */
static uint8_t ctrl_offloads(struct netbe_vdev *dev, const struct ctrl_cmd *c)
{
	uint64_t want, negotiated = dev->features & NETBE_F_GUEST_OFFLOADS;

	if (!(dev->features & NETBE_F_CTRL_GUEST_OFFLOADS) || c->cmd != 0 || c->len != 8)
		return CTRL_ERR;
	memcpy(&want, c->data, 8);
	want = le64toh(want);
	if (want & ~negotiated)
		return CTRL_ERR;
	return vdev_apply_offloads(dev, (dev->features & ~NETBE_F_GUEST_OFFLOADS) | want)
	       ? CTRL_ERR : CTRL_OK;
}

/** ctrl_exec() - run one command. Return: the ack byte. */
static uint8_t ctrl_exec(struct netbe_vdev *dev, const struct ctrl_cmd *c)
{
	switch (c->class) {
	case CLASS_RX:
		return ctrl_rx(dev, c);
	case CLASS_MAC:
		return ctrl_mac(dev, c);
	case CLASS_ANNOUNCE:
		return c->cmd == 0 && !c->len ? CTRL_OK : CTRL_ERR;
	case CLASS_MQ:
		return ctrl_mq(dev, c);
	case CLASS_GUEST_OFFLOADS:
		return ctrl_offloads(dev, c);
	default:
		return CTRL_ERR;
	}
}

/** ctrl_chain() - copy out, run and answer the command in @ch.
 * Return: the used length to report (1, or 0 for a chain without room
 * for the ack). */
static uint32_t ctrl_chain(struct netbe_vdev *dev, const struct vring_chain *ch)
{
	static __thread uint8_t buf[VDEV_CTRL_MAX];
	struct ctrl_cmd c = { 0 };
	size_t len;
	uint8_t ack = CTRL_ERR;

	if (!ch->in_len)
		return 0;
	len = iov_to_buf(ch->out, (int)ch->nout, 0, buf, sizeof(buf));
	dev->ctrl_commands++;
	if (len >= 2 && ch->out_len <= sizeof(buf)) {
		c = (struct ctrl_cmd){ buf[0], buf[1], buf + 2, len - 2 };
		ack = ctrl_exec(dev, &c);
	}
	if (ack != CTRL_OK) {
		dev->ctrl_errors++;
		NB_LOG_RL(NETBE_LOG_INFO, "vdev: control command class %u cmd %u (%zu bytes) refused",
			  c.class, c.cmd, ch->out_len);
	}
	iov_from_buf(ch->in, (int)ch->nin, 0, &ack, 1);
	return 1;
}

/** vdev_ctrl_run() - see vdev.h. */
void vdev_ctrl_run(struct netbe_vdev *dev)
{
	struct vdev_queue *vq = &dev->ctrlq;
	unsigned budget = 64;

	pthread_mutex_lock(&vq->lock);
	while (vq->started && vq->enabled && budget-- &&
	       vring_pop(&vq->vr, &dev->ctrl_chain) > 0)
		vring_push(&vq->vr, dev->ctrl_chain.head, ctrl_chain(dev, &dev->ctrl_chain));
	if (vq->started)
		vdev_notify(dev, vq, 2 * dev->pairs);
	pthread_mutex_unlock(&vq->lock);
}
