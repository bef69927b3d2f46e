/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdev.c - the virtio-net device model: lifecycle, feature negotiation,
 * guest memory, queue setup, configuration space and link status.
 *
 * Theory of operation. The device offers what the backend can do through
 * netbe_get_cap() (native offloads, or the software engine's, so a guest
 * always gets CSUM/TSO/USO/UFO) plus what the model adds itself (VERSION_1,
 * MAC, STATUS, MTU, mergeable rx buffers, the control queue, indirect
 * descriptors, EVENT_IDX, MQ for more than one pair). The driver's accepted
 * set goes to every backend handle with netbe_set_cap() and the 12-byte v1
 * header, so frames cross netbe with the guest's own header and core
 * translates or emulates whatever the backend lacks.
 *
 * Queues are set up with guest physical addresses; the addresses are kept
 * so a new memory table (vhost-user sends one on memory hotplug) can move
 * the rings. A queue whose rings do not fit the new table stops.
 *
 * The configuration space holds the MAC, the link status (following the
 * backend's link callback: a stream peer going away takes the guest's link
 * down) and the number of queue pairs; a change calls config_changed.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "vdev.h"

/* Model features offered on top of the backend's capabilities. */
#define VDEV_MODEL_FEATURES (NETBE_F_VERSION_1 | NETBE_F_MAC | NETBE_F_STATUS | \
	NETBE_F_MTU | NETBE_F_CTRL_VQ | NETBE_F_CTRL_RX | \
	NETBE_F_CTRL_GUEST_OFFLOADS | NETBE_F_CTRL_MAC_ADDR | \
	NETBE_F_RING_INDIRECT_DESC | NETBE_F_RING_EVENT_IDX)
/* Backend capabilities that reach the guest. */
#define VDEV_BACKEND_FEATURES (NETBE_F_HOST_OFFLOADS | NETBE_F_GUEST_OFFLOADS | \
	NETBE_F_MRG_RXBUF)

/**
 * vdev_queue_of() - see vdev.h. Data queue 2i is pair i's rx, 2i+1 its
 * tx; the control queue follows the last pair.
 */
struct vdev_queue *vdev_queue_of(struct netbe_vdev *dev, unsigned q,
				 struct vdev_pair **pair)
{
	struct vdev_pair *pr;

	if (pair)
		*pair = NULL;
	if (q == 2 * dev->pairs)
		return &dev->ctrlq;
	if (q > 2 * dev->pairs)
		return NULL;
	pr = dev->pair[q / 2];
	if (pair)
		*pair = pr;
	return q % 2 ? &pr->txq : &pr->rxq;
}

/** vdev_notify() - see vdev.h. Called with the queue's lock held. */
void vdev_notify(struct netbe_vdev *dev, struct vdev_queue *vq, unsigned q)
{
	vring_flush(&vq->vr);
	if (!vring_need_notify(&vq->vr))
		return;
	vq->notifies++;
	dev->p.notify(dev->p.opaque, q);
}

/** vdev_rx_cb() - the backend has frames: move them into the guest. */
static void vdev_rx_cb(struct netbe *be, void *opaque)
{
	(void)be;
	vdev_rx_run(opaque);
}

/** vdev_tx_cb() - the backend can take frames again. */
static void vdev_tx_cb(struct netbe *be, void *opaque)
{
	(void)be;
	vdev_tx_run(opaque);
}

/** vdev_tx_timer() - a tx run that used its budget goes on. */
static void vdev_tx_timer(void *opaque)
{
	vdev_tx_run(opaque);
}

/** vdev_set_status() - set or clear @bit in the config status. Return:
 * whether it changed. */
static bool vdev_set_status(struct netbe_vdev *dev, uint16_t bit, bool on)
{
	uint16_t old, val;

	pthread_mutex_lock(&dev->cfg_lock);
	old = le16toh(dev->cfg.status);
	val = on ? old | bit : old & ~bit;
	dev->cfg.status = htole16(val);
	pthread_mutex_unlock(&dev->cfg_lock);
	return val != old;
}

/** vdev_link_cb() - pair 0's backend link went up or down: the guest's
 * link follows. */
static void vdev_link_cb(struct netbe *be, int up, void *opaque)
{
	struct vdev_pair *pr = opaque;
	struct netbe_vdev *dev = pr->dev;

	(void)be;
	if (pr->index || !vdev_set_status(dev, NETBE_VDEV_S_LINK_UP, up))
		return;
	nb_info("vdev: link %s", up ? "up" : "down");
	if (dev->p.config_changed)
		dev->p.config_changed(dev->p.opaque);
}

/** vdev_queue_init() - a stopped queue. Return: 0 or -ENOMEM. */
static int vdev_queue_init(struct vdev_queue *vq)
{
	memset(vq, 0, sizeof(*vq));
	return -pthread_mutex_init(&vq->lock, NULL);
}

/** vdev_pair_free() - close pair @pr's backend and free it; NULL is a no-op. */
static void vdev_pair_free(struct vdev_pair *pr)
{
	if (!pr)
		return;
	netbe_close(pr->be);
	if (pr->tx_timer)
		pr->dev->loop.ops->timer_del(pr->dev->loop.loop, pr->tx_timer);
	pthread_mutex_destroy(&pr->rxq.lock);
	pthread_mutex_destroy(&pr->txq.lock);
	free(pr->tx_buf);
	free(pr);
}

/** vdev_pair_new() - allocate pair @i and open its backend.
 * Return: 0, or -ENOMEM, or the errno of netbe_open(). */
static int vdev_pair_new(struct netbe_vdev *dev, unsigned i)
{
	struct netbe_config cfg = { .rx_cb = vdev_rx_cb, .tx_cb = vdev_tx_cb,
				    .link_cb = vdev_link_cb };
	struct vdev_pair *pr = calloc(1, sizeof(*pr));
	int err;

	if (!pr)
		return netbe_errf(-ENOMEM, "vdev: out of memory for queue pair %u", i);
	pr->dev = dev;
	pr->index = i;
	dev->pair[i] = pr;
	cfg.opaque = pr;
	pr->tx_buf = malloc(VDEV_TX_BUF);
	if (!pr->tx_buf || vdev_queue_init(&pr->rxq) || vdev_queue_init(&pr->txq))
		return netbe_errf(-ENOMEM, "vdev: out of memory for queue pair %u", i);
	err = dev->loop.ops->timer_add(dev->loop.loop, vdev_tx_timer, pr, &pr->tx_timer);
	if (err)
		return netbe_errf(err, "vdev: cannot create a timer: %s", strerror(-err));
	return netbe_open(&pr->be, dev->spec, &cfg, &dev->loop);
}

/** vdev_check_params() - Return: 0, or -EINVAL with the reason. */
static int vdev_check_params(const struct netbe_vdev_params *p,
			     const struct netbe_loop *loop)
{
	if (!p || !p->spec || !p->notify)
		return netbe_errf(-EINVAL, "vdev: parameters with a spec and a notify callback are required");
	if (!loop || !loop->ops)
		return netbe_errf(-EINVAL, "vdev: a loop adapter is required (netbe_epoll_loop())");
	if (p->queue_pairs > NETBE_VDEV_PAIRS_MAX)
		return netbe_errf(-EINVAL, "vdev: %u queue pairs asked, at most %d - lower queue_pairs",
				  p->queue_pairs, NETBE_VDEV_PAIRS_MAX);
	if (p->mtu && (p->mtu < 68 || p->mtu > 65535 - 14))
		return netbe_errf(-EINVAL, "vdev: mtu %u out of range - use 68 to 65521", p->mtu);
	if (p->poll_us > 1000)
		return netbe_errf(-EINVAL, "vdev: poll_us %u is above 1000 - a queue would hold its thread too long",
				  p->poll_us);
	if (p->mac[0] & 1)
		return netbe_errf(-EINVAL, "vdev: the MAC is a multicast address - clear the low bit of its first byte");
	return 0;
}

/** vdev_init_config() - the configuration space at creation. */
static void vdev_init_config(struct netbe_vdev *dev)
{
	static const uint8_t zero[6];

	memcpy(dev->cfg.mac, dev->p.mac, 6);
	if (!memcmp(dev->cfg.mac, zero, 6)) {
		if (getrandom(dev->cfg.mac, 6, 0) != 6)
			memcpy(dev->cfg.mac, "\x00\x00\x5e\x00\x53\x01", 6);
		dev->cfg.mac[0] = (uint8_t)((dev->cfg.mac[0] & 0xfe) | 0x02);
	}
	dev->cfg.max_virtqueue_pairs = htole16((uint16_t)dev->pairs);
	dev->cfg.mtu = htole16(dev->p.mtu ? dev->p.mtu : 1500);
	dev->cfg.status = htole16(netbe_link_is_up(dev->pair[0]->be) == 1 ?
				  NETBE_VDEV_S_LINK_UP : 0);
}

/** vdev_offer() - the features the device offers. Return: the mask. */
static uint64_t vdev_offer(struct netbe_vdev *dev)
{
	uint64_t f = VDEV_MODEL_FEATURES;

	f |= netbe_get_cap(dev->pair[0]->be) & VDEV_BACKEND_FEATURES;
	if (dev->pairs > 1)
		f |= NETBE_F_MQ;
	return f;
}

NETBE_EXPORT int netbe_vdev_new(struct netbe_vdev **devp,
				const struct netbe_vdev_params *params,
				const struct netbe_loop *loop)
{
	struct netbe_vdev *dev;
	unsigned i;
	int err;

	if (!devp)
		return netbe_errf(-EINVAL, "vdev: devp is NULL");
	*devp = NULL;
	err = vdev_check_params(params, loop);
	if (err)
		return err;
	dev = calloc(1, sizeof(*dev));
	if (!dev || !(dev->spec = strdup(params->spec))) {
		free(dev);
		return netbe_errf(-ENOMEM, "vdev: out of memory");
	}
	dev->p = *params;
	dev->p.spec = dev->spec;
	dev->loop = *loop;
	dev->pairs = params->queue_pairs ? params->queue_pairs : 1;
	dev->active_pairs = dev->pairs;
	pthread_mutex_init(&dev->cfg_lock, NULL);
	err = vdev_queue_init(&dev->ctrlq);
	for (i = 0; !err && i < dev->pairs; i++)
		err = vdev_pair_new(dev, i);
	if (err) {
		netbe_vdev_free(dev);
		return err;
	}
	vdev_init_config(dev);
	dev->offered = vdev_offer(dev);
	*devp = dev;
	return 0;
}

NETBE_EXPORT void netbe_vdev_free(struct netbe_vdev *dev)
{
	unsigned i;

	if (!dev)
		return;
	netbe_vdev_reset(dev);
	for (i = 0; i < NETBE_VDEV_PAIRS_MAX; i++)
		vdev_pair_free(dev->pair[i]);
	pthread_mutex_destroy(&dev->ctrlq.lock);
	pthread_mutex_destroy(&dev->cfg_lock);
	free(dev->spec);
	free(dev);
}

NETBE_EXPORT uint64_t netbe_vdev_features(struct netbe_vdev *dev)
{
	return dev ? dev->offered : 0;
}

/** vdev_apply_offloads() - see vdev.h. */
int vdev_apply_offloads(struct netbe_vdev *dev, uint64_t features)
{
	uint64_t caps = features & VDEV_BACKEND_FEATURES;
	unsigned i;
	int err;

	for (i = 0; i < dev->pairs; i++) {
		err = netbe_set_cap(dev->pair[i]->be, caps, VDEV_HDR_LEN);
		if (err)
			return err;
	}
	return 0;
}

NETBE_EXPORT int netbe_vdev_set_features(struct netbe_vdev *dev,
					 uint64_t features)
{
	int err;

	if (!dev)
		return netbe_errf(-EINVAL, "vdev: device is NULL");
	if (features & ~dev->offered)
		return netbe_errf(-EINVAL, "vdev: features 0x%llx were not offered (offered 0x%llx)",
				  (unsigned long long)(features & ~dev->offered),
				  (unsigned long long)dev->offered);
	if (!(features & NETBE_F_VERSION_1))
		return netbe_errf(-EINVAL, "vdev: the driver did not accept VERSION_1 - legacy virtio-net is not supported, use a virtio 1.0 driver");
	err = vdev_apply_offloads(dev, features);
	if (err)
		return err;
	dev->features = features;
	return 0;
}

/** vdev_ring_attach() - (re)attach @vq's rings in the current memory,
 * keeping the used index across a move. Return: 0 or -EINVAL. */
static int vdev_ring_attach(struct netbe_vdev *dev, struct vdev_queue *vq,
			    uint16_t last_avail, bool moving)
{
	const struct netbe_vdev_vring *a = &vq->addr;
	struct vring old = vq->vr;
	int err;

	err = vring_setup(&vq->vr, &dev->mem, (uint16_t)a->num, a->desc, a->avail,
			  a->used, last_avail,
			  dev->features & NETBE_F_RING_EVENT_IDX,
			  dev->features & NETBE_F_RING_INDIRECT_DESC);
	if (err)
		return err;
	vq->broken_seen = false;
	if (moving) {
		vq->vr.used_idx = old.used_idx;
		vq->vr.signalled_used = old.signalled_used;
		vq->vr.signalled_valid = old.signalled_valid;
	}
	return 0;
}

/** vdev_queue_release() - give back what queue @q's pair holds. */
static void vdev_queue_release(struct vdev_pair *pr, struct vdev_queue *vq)
{
	if (!pr)
		return;
	if (vq == &pr->rxq)
		vdev_rx_release(pr);
	else
		vdev_tx_release(pr);
}

/** vdev_queue_stop() - stop @vq (queue @q). Return: its next avail index. */
static uint16_t vdev_queue_stop(struct netbe_vdev *dev, unsigned q)
{
	struct vdev_pair *pr;
	struct vdev_queue *vq = vdev_queue_of(dev, q, &pr);
	uint16_t base;

	pthread_mutex_lock(&vq->lock);
	if (vq->started) {
		vdev_queue_release(pr, vq);
		vring_flush(&vq->vr);
	}
	if (pr && vq == &pr->rxq)
		netbe_rx_disable(pr->be);
	base = vq->vr.last_avail;
	vq->started = false;
	vq->enabled = false;
	pthread_mutex_unlock(&vq->lock);
	return base;
}

NETBE_EXPORT int netbe_vdev_set_mem(struct netbe_vdev *dev,
				    const struct netbe_vdev_region *regions,
				    unsigned n)
{
	struct vmem_region r[VMEM_REGIONS_MAX];
	struct vdev_queue *vq;
	struct vdev_pair *pr;
	unsigned i;
	int err;

	if (!dev || (n && !regions) || n > VMEM_REGIONS_MAX)
		return netbe_errf(-EINVAL, "vdev: %u memory regions, at most %d with a table",
				  n, VMEM_REGIONS_MAX);
	for (i = 0; i < n; i++)
		r[i] = (struct vmem_region){ regions[i].gpa, regions[i].size, regions[i].hva };
	for (i = 0; i <= 2 * dev->pairs; i++) {
		vq = vdev_queue_of(dev, i, &pr);
		pthread_mutex_lock(&vq->lock);
		if (vq->started)
			vdev_queue_release(pr, vq);
	}
	err = vmem_set(&dev->mem, r, n);
	for (i = 0; i <= 2 * dev->pairs; i++) {
		vq = vdev_queue_of(dev, i, &pr);
		if (vq->started && vdev_ring_attach(dev, vq, vq->vr.last_avail, true)) {
			nb_warn("vdev: queue %u stopped: its rings are outside the new memory table", i);
			vq->started = false;
		}
		pthread_mutex_unlock(&vq->lock);
	}
	if (err)
		return netbe_errf(err, "vdev: bad memory table: regions must be non-empty, not wrap and not overlap");
	return 0;
}

/** vdev_queue_start() - run a queue that just started or was enabled. */
static void vdev_queue_start(struct netbe_vdev *dev, unsigned q)
{
	struct vdev_pair *pr;
	struct vdev_queue *vq = vdev_queue_of(dev, q, &pr);

	if (!pr)
		return;
	if (vq == &pr->rxq)
		netbe_rx_enable(pr->be);
	netbe_vdev_kick(dev, q);
}

NETBE_EXPORT int netbe_vdev_set_vring(struct netbe_vdev *dev, unsigned queue,
				      const struct netbe_vdev_vring *ring)
{
	struct vdev_queue *vq;
	int err;

	if (!dev || !ring || !(vq = vdev_queue_of(dev, queue, NULL)))
		return netbe_errf(-EINVAL, "vdev: no queue %u (the device has %u)",
				  queue, dev ? 2 * dev->pairs + 1 : 0);
	if (!dev->features)
		return netbe_errf(-EPROTO, "vdev: queue %u set up before the features were set", queue);
	if (vq == &dev->ctrlq && !(dev->features & NETBE_F_CTRL_VQ))
		return netbe_errf(-EINVAL, "vdev: queue %u is the control queue, which was not negotiated", queue);
	netbe_vdev_stop_vring(dev, queue);
	pthread_mutex_lock(&vq->lock);
	vq->addr = *ring;
	err = ring->num > VRING_NUM_MAX ? -EINVAL
	      : vdev_ring_attach(dev, vq, ring->last_avail, false);
	vq->started = vq->enabled = !err;
	pthread_mutex_unlock(&vq->lock);
	if (err)
		return netbe_errf(err, "vdev: queue %u: size %u or ring addresses are invalid (size a power of two up to 32768, rings aligned and inside guest memory)",
				  queue, ring->num);
	vdev_queue_start(dev, queue);
	return 0;
}

NETBE_EXPORT int netbe_vdev_stop_vring(struct netbe_vdev *dev, unsigned queue)
{
	if (!dev || !vdev_queue_of(dev, queue, NULL))
		return netbe_errf(-EINVAL, "vdev: no queue %u to stop", queue);
	return vdev_queue_stop(dev, queue);
}

NETBE_EXPORT int netbe_vdev_enable_vring(struct netbe_vdev *dev, unsigned queue,
					 int enable)
{
	struct vdev_pair *pr;
	struct vdev_queue *vq;
	bool was;

	if (!dev || !(vq = vdev_queue_of(dev, queue, &pr)))
		return netbe_errf(-EINVAL, "vdev: no queue %u to enable", queue);
	pthread_mutex_lock(&vq->lock);
	was = vq->enabled;
	vq->enabled = enable;
	pthread_mutex_unlock(&vq->lock);
	if (enable && !was)
		vdev_queue_start(dev, queue);
	else if (!enable && pr && vq == &pr->rxq)
		netbe_rx_disable(pr->be);
	return 0;
}

NETBE_EXPORT int netbe_vdev_kick(struct netbe_vdev *dev, unsigned queue)
{
	struct vdev_pair *pr;
	struct vdev_queue *vq;

	if (!dev || !(vq = vdev_queue_of(dev, queue, &pr)))
		return netbe_errf(-EINVAL, "vdev: kick for queue %u, which does not exist", queue);
	if (!pr)
		vdev_ctrl_run(dev);
	else if (vq == &pr->rxq) {
		netbe_rx_enable(pr->be);
		vdev_rx_run(pr);
	} else {
		vdev_tx_run(pr);
	}
	return 0;
}

NETBE_EXPORT int netbe_vdev_get_config(struct netbe_vdev *dev, unsigned offset,
				       void *buf, unsigned len)
{
	if (!dev || (!buf && len) || offset > sizeof(dev->cfg) ||
	    len > sizeof(dev->cfg) - offset)
		return netbe_errf(-EINVAL, "vdev: config read of %u bytes at %u is outside its %zu bytes",
				  len, offset, sizeof(dev->cfg));
	pthread_mutex_lock(&dev->cfg_lock);
	memcpy(buf, (const uint8_t *)&dev->cfg + offset, len);
	pthread_mutex_unlock(&dev->cfg_lock);
	return 0;
}

NETBE_EXPORT void netbe_vdev_reset(struct netbe_vdev *dev)
{
	unsigned q;

	if (!dev)
		return;
	for (q = 0; q <= 2 * dev->pairs && dev->pair[dev->pairs - 1]; q++)
		vdev_queue_stop(dev, q);
	dev->features = 0;
	dev->active_pairs = dev->pairs;
	dev->promisc = dev->allmulti = false;
	vmem_set(&dev->mem, NULL, 0);
}

NETBE_EXPORT struct netbe *netbe_vdev_backend(struct netbe_vdev *dev,
					      unsigned pair)
{
	return dev && pair < dev->pairs ? dev->pair[pair]->be : NULL;
}

/** vdev_add_queue() - add @vq's counters to @st. */
static void vdev_add_queue(struct netbe_vdev_stats *st, const struct vdev_queue *vq)
{
	st->bad_chains += vq->vr.bad_chains + vq->bad_chains;
	st->broken_queues += vq->broken;
	st->notifies += vq->notifies;
}

NETBE_EXPORT int netbe_vdev_get_stats(struct netbe_vdev *dev,
				      struct netbe_vdev_stats *st)
{
	const struct vdev_pair *pr;
	unsigned i;

	if (!dev || !st)
		return netbe_errf(-EINVAL, "vdev: get_stats needs a device and a stats buffer");
	memset(st, 0, sizeof(*st));
	for (i = 0; i < dev->pairs; i++) {
		pr = dev->pair[i];
		vdev_add_queue(st, &pr->rxq);
		vdev_add_queue(st, &pr->txq);
		st->rx_no_buffers += pr->rx_no_buffers;
		st->rx_too_big += pr->rx_too_big;
		st->tx_bad_chains += pr->tx_bad_chains;
		st->tx_errors += pr->tx_errors;
	}
	vdev_add_queue(st, &dev->ctrlq);
	st->ctrl_commands = dev->ctrl_commands;
	st->ctrl_errors = dev->ctrl_errors;
	return 0;
}
