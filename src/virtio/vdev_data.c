/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdev_data.c - the device model's data path: guest transmit chains to the
 * backend, backend frames into the guest's receive buffers.
 *
 * Theory of operation
 *
 * Transmit. Chains are taken in bursts and their readable bytes copied out
 * of guest memory into the pair's burst buffer before anything looks at
 * them: the guest can rewrite its memory at any time, and core and the
 * offload engine must parse headers that cannot change under them. A chain
 * shorter than the virtio-net header or longer than any frame is returned
 * at once and counted (tx_bad_chains); everything else is core's to check.
 * The burst goes to netbe_send_burst(); what the backend does not take
 * waits, already copied, for the tx callback, with guest kicks off so the
 * guest is back-pressured by its own ring. Chains are returned (used length
 * 0) once the backend took their frame. A run ends when the ring is empty
 * (kicks back on, checked again for a race) or after VDEV_TX_BUDGET chains,
 * when a timer through the loop resumes it so one queue cannot starve the
 * loop.
 *
 * Receive. The next frame's length (netbe_peek_recvlen(), header included)
 * decides how many rx chains it needs: one without MRG_RXBUF (a frame
 * larger than the chain is dropped as rx_too_big: the driver sized its
 * buffers for what it negotiated), as many as it takes with it (num_buffers
 * in the header says how many). Chains are held across frames, so a frame
 * that waits for more buffers keeps the ones it has. When the guest has
 * given too few, receive callbacks stop (the backend keeps the frames) and
 * guest kicks are asked for; the guest's next rx kick resumes. Rx chains
 * must be device-writable only.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "iov.h"
#include "log.h"
#include "vdev.h"

/* The longest chain a tx queue takes: header plus the largest frame. */
#define VDEV_TX_FRAME_MAX (VDEV_HDR_LEN + 65535 + 18)
#define VDEV_NUM_BUFFERS_OFF 10   /* num_buffers in the v1 header */

/** vdev_queue_live() - Return: whether @vq of @pr moves frames now. */
static bool vdev_queue_live(const struct vdev_pair *pr, const struct vdev_queue *vq)
{
	return vq->started && vq->enabled && pr->index < pr->dev->active_pairs;
}

/** vdev_pop() - vring_pop() that counts and logs a broken ring once.
 * Return: as vring_pop(). */
static int vdev_pop(struct vdev_queue *vq, struct vring_chain *c, unsigned q)
{
	int r = vring_pop(&vq->vr, c);

	if (r == -EIO && !vq->broken_seen) {
		vq->broken_seen = true;
		vq->broken++;
		nb_warn("vdev: queue %u stopped: the driver's avail index ran more than the ring size ahead - the guest must reset the device",
			q);
	}
	return r;
}

/** rx_take_chain() - hold the next usable rx chain; unusable ones (with
 * readable segments, too many segments, shorter than the header) go back
 * with length 0. Return: 1 held, 0 none available, -EIO broken ring. */
static int rx_take_chain(struct vdev_pair *pr)
{
	struct vring_chain *c = &pr->chain;
	struct vdev_rxbuf *b;
	int r;

	for (;;) {
		r = vdev_pop(&pr->rxq, c, 2 * pr->index);
		if (r <= 0)
			return r;
		if (!c->nout && c->nin <= VDEV_RX_SEGS_MAX && c->in_len >= VDEV_HDR_LEN)
			break;
		vring_push(&pr->rxq.vr, c->head, 0);
		pr->rxq.bad_chains++;
	}
	b = &pr->held[pr->nheld++];
	b->head = c->head;
	b->nin = c->nin;
	b->len = c->in_len;
	memcpy(b->iov, c->in, c->nin * sizeof(c->in[0]));
	return 1;
}

/**
 * rx_gather() - hold enough rx chains for a frame of @len bytes
 * Return: the number of held chains the frame needs, 0 when the guest has
 * not given enough yet, -EMSGSIZE when it cannot fit what the guest can
 * give, -EIO for a broken ring.
 */
static int rx_gather(struct vdev_pair *pr, size_t len)
{
	bool mrg = pr->dev->features & NETBE_F_MRG_RXBUF;
	unsigned i, segs = 0;
	size_t have = 0;
	int r;

	for (i = 0;; i++) {
		if (i == pr->nheld) {
			if (i == VDEV_RX_HELD_MAX)
				return -EMSGSIZE;
			r = rx_take_chain(pr);
			if (r <= 0)
				return r;
		}
		segs += pr->held[i].nin;
		have += pr->held[i].len;
		if (segs > VDEV_RX_IOV_MAX)
			return -EMSGSIZE;
		if (have >= len)
			return (int)i + 1;
		if (!mrg)
			return -EMSGSIZE;
	}
}

/** rx_iov_build() - the segments of the first @k held chains, in order.
 * Return: the segment count. */
static int rx_iov_build(struct vdev_pair *pr, int k)
{
	unsigned cnt = 0;
	int i;

	for (i = 0; i < k; i++) {
		memcpy(pr->rx_iov + cnt, pr->held[i].iov,
		       pr->held[i].nin * sizeof(struct iovec));
		cnt += pr->held[i].nin;
	}
	return (int)cnt;
}

/** rx_complete() - return the chains that hold the @n bytes received into
 * the first @k held chains; the others stay held. */
static void rx_complete(struct vdev_pair *pr, int cnt, size_t n)
{
	uint16_t num_buffers;
	unsigned used = 0;
	size_t left = n, part;

	while (used < pr->nheld && (left || !used)) {
		part = left < pr->held[used].len ? left : pr->held[used].len;
		left -= part;
		used++;
	}
	if (pr->dev->features & NETBE_F_MRG_RXBUF) {
		num_buffers = htole16((uint16_t)used);
		iov_from_buf(pr->rx_iov, cnt, VDEV_NUM_BUFFERS_OFF, &num_buffers, 2);
	}
	left = n;
	for (unsigned i = 0; i < used; i++) {
		part = left < pr->held[i].len ? left : pr->held[i].len;
		vring_push(&pr->rxq.vr, pr->held[i].head, (uint32_t)part);
		left -= part;
	}
	pr->nheld -= used;
	memmove(pr->held, pr->held + used, pr->nheld * sizeof(pr->held[0]));
}

/** rx_drop() - drop the backend's next frame: no guest buffer can take it. */
static void rx_drop(struct vdev_pair *pr)
{
	netbe_rx_discard(pr->be);
	pr->rx_too_big++;
}

/**
 * rx_frame() - move one frame from the backend into the guest
 * Return: 1 a frame moved (or was dropped and counted), 0 no frame pending,
 * -EAGAIN the guest has too few buffers, -EIO broken ring.
 */
static int rx_frame(struct vdev_pair *pr)
{
	ssize_t len = netbe_peek_recvlen(pr->be), n;
	int k, cnt;

	if (len <= 0)
		return 0;
	k = rx_gather(pr, (size_t)len);
	if (k == -EMSGSIZE) {
		rx_drop(pr);
		return 1;
	}
	if (k <= 0)
		return k ? k : -EAGAIN;
	cnt = rx_iov_build(pr, k);
	n = netbe_recv(pr->be, pr->rx_iov, cnt);
	if (n == -EMSGSIZE) {
		rx_drop(pr);
		return 1;
	}
	if (n <= 0)
		return 0;
	rx_complete(pr, cnt, (size_t)n);
	return 1;
}

/** rx_starved() - the guest has too few buffers: stop the backend's
 * callbacks and ask for a kick; go on at once if buffers came meanwhile. */
static void rx_starved(struct vdev_pair *pr)
{
	pr->rx_no_buffers++;
	netbe_rx_disable(pr->be);
	vring_enable_kicks(&pr->rxq.vr, true);
	if (vring_avail_pending(&pr->rxq.vr))
		netbe_rx_enable(pr->be);
}

/** vdev_rx_run() - see vdev.h. */
void vdev_rx_run(struct vdev_pair *pr)
{
	struct vdev_queue *vq = &pr->rxq;
	unsigned budget = VDEV_RX_BUDGET;
	int r = 0;

	pthread_mutex_lock(&vq->lock);
	if (!vdev_queue_live(pr, vq)) {
		netbe_rx_disable(pr->be);
		pthread_mutex_unlock(&vq->lock);
		return;
	}
	while (budget-- && (r = rx_frame(pr)) > 0)
		;
	if (r == -EAGAIN)
		rx_starved(pr);
	else if (r == -EIO)
		netbe_rx_disable(pr->be);
	vdev_notify(pr->dev, vq, 2 * pr->index);
	pthread_mutex_unlock(&vq->lock);
}

/** vdev_rx_release() - see vdev.h. */
void vdev_rx_release(struct vdev_pair *pr)
{
	unsigned i;

	for (i = 0; i < pr->nheld; i++)
		vring_push(&pr->rxq.vr, pr->held[i].head, 0);
	pr->nheld = 0;
}

/** tx_note_source() - remember where chain @n's bytes are in guest memory
 * and start fetching them, or copy them now when there are many segments. */
static void tx_note_source(struct vdev_pair *pr, unsigned n, const struct vring_chain *c)
{
	unsigned i;

	pr->tx_src[n].nseg = c->nout <= VDEV_TX_SEGS ? c->nout : 0;
	if (!pr->tx_src[n].nseg) {
		iov_to_buf(c->out, (int)c->nout, 0, pr->tx_iov[n].iov_base, c->out_len);
		return;
	}
	for (i = 0; i < c->nout; i++)
		pr->tx_src[n].seg[i] = c->out[i];
	__builtin_prefetch(c->out[0].iov_base);
	__builtin_prefetch((const uint8_t *)c->out[0].iov_base + 64);
}

/** tx_copy_sources() - copy the chains tx_note_source() left for later:
 * their data had the time of the whole burst's pops to arrive in cache. */
static void tx_copy_sources(struct vdev_pair *pr)
{
	unsigned n, i;
	uint8_t *to;

	for (n = 0; n < pr->tx_pending; n++) {
		to = pr->tx_iov[n].iov_base;
		for (i = 0; i < pr->tx_src[n].nseg; i++) {
			memcpy(to, pr->tx_src[n].seg[i].iov_base, pr->tx_src[n].seg[i].iov_len);
			to += pr->tx_src[n].seg[i].iov_len;
		}
	}
}

/** tx_take() - pop the next tx chain and queue it in the burst at @off
 * (its bytes are copied there by tx_copy_sources() or at once).
 * Return: bytes queued (> 0), 0 for a bad chain returned at once, -ENOENT
 * when the ring is empty, -EIO when it is broken. */
static ssize_t tx_take(struct vdev_pair *pr, size_t off)
{
	struct vring_chain *c = &pr->chain;
	unsigned n = pr->tx_pending;
	int r;

	r = vdev_pop(&pr->txq, c, 2 * pr->index + 1);
	if (r <= 0)
		return r ? r : -ENOENT;
	if (c->out_len < VDEV_HDR_LEN || c->out_len > VDEV_TX_FRAME_MAX) {
		vring_push(&pr->txq.vr, c->head, 0);
		pr->tx_bad_chains++;
		return 0;
	}
	pr->tx_iov[n] = (struct iovec){ pr->tx_buf + off, c->out_len };
	pr->tx_frames[n] = (struct netbe_frame){ &pr->tx_iov[n], 1, 0 };
	pr->tx_heads[n] = c->head;
	tx_note_source(pr, n, c);
	pr->tx_pending++;
	return (ssize_t)c->out_len;
}

/**
 * tx_gather() - copy up to a burst of chains out of the ring
 * @budget: chains that may still be taken; decremented
 * Return: 1 when the ring may have more, 0 when it is empty, -EIO broken.
 */
static int tx_gather(struct vdev_pair *pr, unsigned *budget)
{
	size_t off = 0;
	ssize_t r;

	pr->tx_first = 0;
	r = 1;
	while (*budget && pr->tx_pending < VDEV_TX_BURST &&
	       VDEV_TX_BUF - off >= VDEV_TX_FRAME_MAX) {
		r = tx_take(pr, off);
		if (r < 0)
			break;
		off += (size_t)r;
		(*budget)--;
	}
	tx_copy_sources(pr);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? (int)r : 1;
}

/** tx_send() - hand the waiting frames to the backend and return their
 * chains. Return: 0 when all went, -EAGAIN when some still wait. */
static int tx_send(struct vdev_pair *pr)
{
	unsigned i;
	int r;

	while (pr->tx_pending) {
		r = netbe_send_burst(pr->be, pr->tx_frames + pr->tx_first, pr->tx_pending);
		if (r == -EAGAIN)
			return -EAGAIN;
		if (r < 0) {
			pr->tx_errors++;
			r = 1;
		}
		for (i = 0; i < (unsigned)r; i++)
			vring_push(&pr->txq.vr, pr->tx_heads[pr->tx_first + i], 0);
		pr->tx_first += (unsigned)r;
		pr->tx_pending -= (unsigned)r;
	}
	return 0;
}

/** tx_ring_idle() - the ring looks empty: turn kicks back on and look
 * again. Return: true when it is really empty. */
static bool tx_ring_idle(struct vdev_pair *pr)
{
	vring_enable_kicks(&pr->txq.vr, true);
	if (!vring_avail_pending(&pr->txq.vr))
		return true;
	vring_enable_kicks(&pr->txq.vr, false);
	return false;
}

/** tx_poll() - poll a dry ring for up to poll_us before kicks go back on.
 * Return: true when the guest made chains available meanwhile. */
static bool tx_poll(struct vdev_pair *pr)
{
	uint64_t deadline, poll_ns = (uint64_t)pr->dev->p.poll_us * 1000;
	unsigned spins = 0;

	if (!poll_ns)
		return false;
	deadline = nb_clock_ns(CLOCK_MONOTONIC) + poll_ns;
	for (;;) {
		if (vring_avail_pending(&pr->txq.vr))
			return true;
		if (++spins % 64 == 0 && nb_clock_ns(CLOCK_MONOTONIC) > deadline)
			return false;
		__builtin_ia32_pause();
	}
}

/** tx_resume_later() - the budget is spent: go on from the loop. */
static void tx_resume_later(struct vdev_pair *pr)
{
	const struct netbe_loop *l = &pr->dev->loop;

	l->ops->timer_mod(l->loop, pr->tx_timer, 1000, 0);
}

/** tx_drain() - move chains until the ring is empty, the backend pushes
 * back or the budget is spent. Each burst's chains go back to the guest
 * as soon as the backend took them: a guest (or a polling frontend) whose
 * ring is full must not wait for the end of the run. */
static void tx_drain(struct vdev_pair *pr)
{
	unsigned budget = VDEV_TX_BUDGET;
	int more;

	vring_enable_kicks(&pr->txq.vr, false);
	for (;;) {
		more = tx_gather(pr, &budget);
		if (tx_send(pr) == -EAGAIN || more < 0)
			return;
		vdev_notify(pr->dev, &pr->txq, 2 * pr->index + 1);
		if (!budget) {
			tx_resume_later(pr);
			return;
		}
		if (!more && !tx_poll(pr) && tx_ring_idle(pr))
			return;
	}
}

/** vdev_tx_run() - see vdev.h. */
void vdev_tx_run(struct vdev_pair *pr)
{
	struct vdev_queue *vq = &pr->txq;

	pthread_mutex_lock(&vq->lock);
	if (vdev_queue_live(pr, vq) && tx_send(pr) == 0)
		tx_drain(pr);
	if (vq->started)
		vdev_notify(pr->dev, vq, 2 * pr->index + 1);
	pthread_mutex_unlock(&vq->lock);
}

/** vdev_tx_release() - see vdev.h. */
void vdev_tx_release(struct vdev_pair *pr)
{
	unsigned i;

	for (i = 0; i < pr->tx_pending; i++)
		vring_push(&pr->txq.vr, pr->tx_heads[pr->tx_first + i], 0);
	pr->tx_errors += pr->tx_pending;
	pr->tx_pending = 0;
	pr->tx_first = 0;
}
