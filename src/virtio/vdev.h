/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdev.h - inside the virtio-net device model (include/netbe-virtio.h):
 * the device, its queue pairs and the files that share them.
 *
 * vdev.c      lifecycle, features, guest memory, queue setup, config space,
 *             link status
 * vdev_data.c the data path: guest tx chains to the backend, backend frames
 *             into guest rx buffers (mergeable or not)
 * vdev_ctrl.c the control queue
 *
 * Locking: each queue has a mutex taken by whatever drives it (a kick from
 * the VMM's thread, a backend callback from the loop), so a queue pair can
 * run on its own thread. Device-wide calls (features, memory, setup,
 * reset) must not run concurrently with queue work (netbe-virtio.h).
 */
#ifndef NETBE_VDEV_H
#define NETBE_VDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "netbe-virtio.h"
#include "vring.h"

#define VDEV_HDR_LEN      NETBE_VNET_HDR_LEN_MRG  /* virtio 1.x header */
#define VDEV_RX_HELD_MAX  64     /* rx chains held for one frame */
#define VDEV_RX_SEGS_MAX  32     /* writable segments of one rx chain */
#define VDEV_RX_IOV_MAX   1024   /* segments of one merged rx frame */
#define VDEV_TX_BURST     32     /* chains sent per backend burst */
#define VDEV_TX_BUF       (256 * 1024)   /* copies of one burst */
#define VDEV_TX_SEGS      4      /* segments of a chain copied after the
				  * burst is taken (more: copied at once) */
#define VDEV_TX_BUDGET    1024   /* chains per run before yielding */
#define VDEV_RX_BUDGET    256    /* frames per run before yielding */

struct vdev_queue {
	pthread_mutex_t lock;
	struct vring vr;
	struct netbe_vdev_vring addr;   /* as set, for set_mem */
	bool started;
	bool enabled;
	uint64_t bad_chains;    /* chains the model itself refused */
	uint64_t broken;        /* times the ring broke */
	bool broken_seen;       /* this setup's break is counted */
	uint64_t notifies;
};

/* An rx chain taken from the guest and not used yet. */
struct vdev_rxbuf {
	uint16_t head;
	unsigned nin;
	size_t len;
	struct iovec iov[VDEV_RX_SEGS_MAX];
};

struct vdev_pair {
	struct netbe_vdev *dev;
	unsigned index;
	struct netbe *be;
	struct vdev_queue rxq, txq;
	/* rx: chains held for the next frame, and the iovec of one frame */
	struct vdev_rxbuf held[VDEV_RX_HELD_MAX];
	unsigned nheld;
	struct iovec rx_iov[VDEV_RX_IOV_MAX];
	uint64_t rx_no_buffers, rx_too_big;
	/* tx: one burst copied out of guest memory; frames [tx_first,
	 * tx_first + tx_pending) wait for the backend (-EAGAIN) */
	uint8_t *tx_buf;
	struct iovec tx_iov[VDEV_TX_BURST];
	struct netbe_frame tx_frames[VDEV_TX_BURST];
	uint16_t tx_heads[VDEV_TX_BURST];
	struct {
		unsigned nseg;              /* 0: already copied */
		struct iovec seg[VDEV_TX_SEGS];
	} tx_src[VDEV_TX_BURST];        /* guest segments still to copy */
	unsigned tx_first, tx_pending;
	uint64_t tx_bad_chains, tx_errors;
	void *tx_timer;         /* resumes a tx run that used its budget */
	struct vring_chain chain;   /* scratch for vring_pop() */
};

struct netbe_vdev {
	struct netbe_vdev_params p;
	char *spec;
	struct netbe_loop loop;
	unsigned pairs;
	unsigned active_pairs;  /* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET */
	uint64_t offered;
	uint64_t features;      /* 0 until set */
	struct vmem mem;
	struct vdev_pair *pair[NETBE_VDEV_PAIRS_MAX];
	struct vdev_queue ctrlq;
	struct vring_chain ctrl_chain;
	struct netbe_vdev_config_space cfg;   /* little-endian fields */
	pthread_mutex_t cfg_lock;
	bool promisc, allmulti;
	uint64_t ctrl_commands, ctrl_errors;
};

/** vdev_queue_of() - queue @q of @dev and, for data queues, its pair.
 * Return: the queue, or NULL when @dev has no queue @q. */
struct vdev_queue *vdev_queue_of(struct netbe_vdev *dev, unsigned q,
				 struct vdev_pair **pair);

/** vdev_notify() - flush @vq's used entries and interrupt the guest if it
 * asked for it. */
void vdev_notify(struct netbe_vdev *dev, struct vdev_queue *vq, unsigned q);

/** vdev_rx_run() - move backend frames into the guest's rx buffers of
 * @pr until either side runs dry or the budget is spent. */
void vdev_rx_run(struct vdev_pair *pr);

/** vdev_tx_run() - send the guest's tx chains of @pr to the backend until
 * the ring is empty, the backend pushes back or the budget is spent. */
void vdev_tx_run(struct vdev_pair *pr);

/** vdev_rx_release() / vdev_tx_release() - give back every chain the
 * pair holds (used length 0; held tx copies are counted as tx_errors),
 * before its ring stops or moves. Called with the queue's lock held. */
void vdev_rx_release(struct vdev_pair *pr);
void vdev_tx_release(struct vdev_pair *pr);

/** vdev_ctrl_run() - execute the commands queued on the control queue. */
void vdev_ctrl_run(struct netbe_vdev *dev);

/** vdev_apply_offloads() - set @features on every backend handle.
 * Return: 0 or the first netbe_set_cap() error. */
int vdev_apply_offloads(struct netbe_vdev *dev, uint64_t features);

#endif /* NETBE_VDEV_H */
