/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netbe-virtio.h - a virtio-net device model over netbe backends, and a
 * vhost-user-net device built on it.
 *
 * struct netbe_vdev is a complete virtio-net device (virtio 1.x, split
 * virtqueues) for a VMM that has guest memory and queue addresses: the VMM
 * forwards the driver's feature negotiation, queue setup and notifications,
 * and the device moves frames between the guest's virtqueues and the
 * backend. Queue pair i (rx queue 2i, tx queue 2i+1) is served by its own
 * backend handle, opened from the spec once per pair; the control queue,
 * when negotiated, is queue 2 * queue_pairs.
 *
 * Guest memory is reached only through the region table given with
 * netbe_vdev_set_mem(): every ring and buffer address is checked against it
 * and a chain that is malformed is returned with length 0 and counted
 * (netbe_vdev_get_stats()), never trusted.
 *
 * Threads: everything that touches queue pair i (netbe_vdev_kick() on its
 * two queues, its backend's callbacks from the loop) may run on a thread of
 * its own; calls that change the device as a whole (features, memory,
 * queue setup, reset, free) must not run concurrently with any queue's
 * work. The library calls back through the loop given at creation.
 *
 * struct netbe_vhost_user serves a netbe_vdev to a vhost-user frontend
 * (QEMU, cloud-hypervisor, crosvm, DPDK virtio_user) over a unix socket,
 * as the socket's server or as a client that reconnects.
 */
#ifndef NETBE_VIRTIO_H
#define NETBE_VIRTIO_H

#include "netbe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits besides the offload bits of netbe.h (virtio 1.2, 5.1.3). */
#define NETBE_F_CTRL_GUEST_OFFLOADS (1ULL << 2)
#define NETBE_F_MTU               (1ULL << 3)
#define NETBE_F_MAC               (1ULL << 5)
#define NETBE_F_STATUS            (1ULL << 16)
#define NETBE_F_CTRL_VQ           (1ULL << 17)
#define NETBE_F_CTRL_RX           (1ULL << 18)
#define NETBE_F_CTRL_VLAN         (1ULL << 19)
#define NETBE_F_GUEST_ANNOUNCE    (1ULL << 21)
#define NETBE_F_MQ                (1ULL << 22)
#define NETBE_F_CTRL_MAC_ADDR     (1ULL << 23)
#define NETBE_F_RING_INDIRECT_DESC (1ULL << 28)
#define NETBE_F_RING_EVENT_IDX    (1ULL << 29)
#define NETBE_F_VERSION_1         (1ULL << 32)

#define NETBE_VDEV_PAIRS_MAX 16       /* queue pairs a device can have */

/* The device's configuration space (virtio 1.2, 5.1.4), little-endian. */
#define NETBE_VDEV_S_LINK_UP  1
#define NETBE_VDEV_S_ANNOUNCE 2
struct netbe_vdev_config_space {
	uint8_t mac[6];
	uint16_t status;                 /* NETBE_VDEV_S_* */
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

struct netbe_vdev;

/* The device wants the guest interrupted for queue @queue (used buffers). */
typedef void (*netbe_vdev_notify_fn)(void *opaque, unsigned queue);
/* The configuration space changed (link status): raise a config interrupt. */
typedef void (*netbe_vdev_config_fn)(void *opaque);

struct netbe_vdev_params {
	const char *spec;           /* backend spec, opened once per pair */
	unsigned queue_pairs;       /* 1..NETBE_VDEV_PAIRS_MAX; 0 means 1 */
	uint8_t mac[6];             /* all zero: a random locally administered
				     * address */
	uint16_t mtu;               /* 0: 1500; offered with NETBE_F_MTU */
	unsigned poll_us;           /* a tx queue that runs dry is polled this
				     * long before the guest is asked to kick
				     * again (vhost-net's busyloop_timeout):
				     * no kick per burst, a CPU spinning while
				     * traffic flows; 0 (default) off, at most
				     * 1000 */
	netbe_vdev_notify_fn notify;     /* required */
	netbe_vdev_config_fn config_changed;  /* may be NULL */
	void *opaque;               /* passed to both */
};

/**
 * netbe_vdev_new() - create a device and open its backends
 * Return: 0 and *@devp set, or -EINVAL (bad parameters, the message says
 * which), or the errno of the backend's netbe_open().
 */
NETBE_EXPORT int netbe_vdev_new(struct netbe_vdev **devp,
				const struct netbe_vdev_params *params,
				const struct netbe_loop *loop);

/** netbe_vdev_free() - close the backends and free the device; NULL is a
 * no-op. Nothing is called back once this returns. */
NETBE_EXPORT void netbe_vdev_free(struct netbe_vdev *dev);

/** netbe_vdev_features() - the features the device offers (the backend's
 * netbe_get_cap() plus what the model adds); 0 for NULL. */
NETBE_EXPORT uint64_t netbe_vdev_features(struct netbe_vdev *dev);

/**
 * netbe_vdev_set_features() - the driver's accepted features
 * Return: 0, or -EINVAL (not a subset of netbe_vdev_features(), or no
 * VERSION_1), or the errno of netbe_set_cap().
 */
NETBE_EXPORT int netbe_vdev_set_features(struct netbe_vdev *dev,
					 uint64_t features);

/* A guest memory region and where the caller mapped it. */
struct netbe_vdev_region {
	uint64_t gpa;     /* guest physical address */
	uint64_t size;    /* bytes */
	void *hva;        /* host address of the first byte */
};

/**
 * netbe_vdev_set_mem() - replace the guest memory table; rings already set
 * up are translated again (and stop if they no longer fit)
 * Return: 0, or -EINVAL (too many regions, empty, wrapping or overlapping).
 */
NETBE_EXPORT int netbe_vdev_set_mem(struct netbe_vdev *dev,
				    const struct netbe_vdev_region *regions,
				    unsigned n);

/* Where a queue lives in guest physical memory. */
struct netbe_vdev_vring {
	unsigned num;                 /* power of two, 1..32768 */
	uint64_t desc, avail, used;   /* guest physical addresses */
	uint16_t last_avail;          /* where to resume (0 for a new queue) */
};

/**
 * netbe_vdev_set_vring() - set up queue @queue and start it
 * Return: 0, or -EINVAL (no such queue, bad size, rings outside guest
 * memory or misaligned), or -EPROTO when features are not set yet.
 */
NETBE_EXPORT int netbe_vdev_set_vring(struct netbe_vdev *dev, unsigned queue,
				      const struct netbe_vdev_vring *ring);

/**
 * netbe_vdev_stop_vring() - stop queue @queue
 * Return: the next avail index the device would have taken (vhost-user
 * GET_VRING_BASE), or -EINVAL for no such queue.
 */
NETBE_EXPORT int netbe_vdev_stop_vring(struct netbe_vdev *dev, unsigned queue);

/**
 * netbe_vdev_enable_vring() - enable or disable a started queue (vhost-user
 * SET_VRING_ENABLE); a disabled queue keeps its state and moves nothing.
 * Return: 0 or -EINVAL.
 */
NETBE_EXPORT int netbe_vdev_enable_vring(struct netbe_vdev *dev, unsigned queue,
					 int enable);

/**
 * netbe_vdev_kick() - the driver notified queue @queue: transmit what it
 * queued (tx), take the receive buffers it added (rx), run its commands
 * (control queue)
 * Return: 0, or -EINVAL for no such queue; a queue that is not started is
 * ignored.
 */
NETBE_EXPORT int netbe_vdev_kick(struct netbe_vdev *dev, unsigned queue);

/**
 * netbe_vdev_get_config() - read @len bytes of the configuration space at
 * @offset. Return: 0, or -EINVAL (out of range).
 */
NETBE_EXPORT int netbe_vdev_get_config(struct netbe_vdev *dev, unsigned offset,
				       void *buf, unsigned len);

/** netbe_vdev_reset() - stop every queue, forget features and memory; the
 * backends stay open. */
NETBE_EXPORT void netbe_vdev_reset(struct netbe_vdev *dev);

/** netbe_vdev_backend() - the backend handle of queue pair @pair, or NULL. */
NETBE_EXPORT struct netbe *netbe_vdev_backend(struct netbe_vdev *dev,
					      unsigned pair);

struct netbe_vdev_stats {
	uint64_t bad_chains;      /* chains returned with length 0 */
	uint64_t broken_queues;   /* queues stopped for a bad avail index */
	uint64_t rx_no_buffers;   /* frames held back: the guest gave no
				   * buffers (not dropped) */
	uint64_t rx_too_big;      /* frames dropped: larger than the buffers
				   * the guest can ever give */
	uint64_t tx_bad_chains;   /* tx chains without a readable header,
				   * or longer than any frame */
	uint64_t tx_errors;       /* tx chains the backend failed to send, or
				   * still held when their queue stopped */
	uint64_t ctrl_commands, ctrl_errors;
	uint64_t notifies;        /* interrupts requested */
};

/** netbe_vdev_get_stats() - the device's counters (summed over queues).
 * Return: 0 or -EINVAL. */
NETBE_EXPORT int netbe_vdev_get_stats(struct netbe_vdev *dev,
				      struct netbe_vdev_stats *st);

/* ------------------------------------------------------------------------ */
/* vhost-user                                                               */
/* ------------------------------------------------------------------------ */

#define NETBE_VHU_CLIENT 1u   /* connect to the socket (and reconnect when the
			       * frontend restarts) instead of listening */

struct netbe_vhost_user_params {
	const char *socket_path;   /* required */
	unsigned flags;            /* NETBE_VHU_* */
	struct netbe_vdev_params dev;   /* notify/config_changed/opaque are
					 * the server's own: leave them NULL */
};

struct netbe_vhost_user;

/**
 * netbe_vhost_user_new() - create the device and start serving it
 * Listens on (or connects to) the socket; one frontend at a time. A
 * malformed message closes that connection (with one log line) and the
 * server waits for the next one.
 * Return: 0, or -EINVAL (bad parameters), or the errno of the socket or the
 * device.
 */
NETBE_EXPORT int netbe_vhost_user_new(struct netbe_vhost_user **vup,
				      const struct netbe_vhost_user_params *params,
				      const struct netbe_loop *loop);

/** netbe_vhost_user_free() - close the connection and the device; NULL is
 * a no-op. A listening socket's path is unlinked. */
NETBE_EXPORT void netbe_vhost_user_free(struct netbe_vhost_user *vu);

/** netbe_vhost_user_dev() - the device it serves (for stats), or NULL. */
NETBE_EXPORT struct netbe_vdev *netbe_vhost_user_dev(struct netbe_vhost_user *vu);

/** netbe_vhost_user_connected() - 1 while a frontend is connected, 0 when
 * not, -EINVAL for NULL. */
NETBE_EXPORT int netbe_vhost_user_connected(struct netbe_vhost_user *vu);

#ifdef __cplusplus
}
#endif

#endif /* NETBE_VIRTIO_H */
