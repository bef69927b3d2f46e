/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pair.c - two handles in one process wired back to back: what one end
 * sends, the other receives. "pair:NAME" opened twice makes the two ends.
 *
 * Theory of operation: each end owns a bounded receive queue (depth=N
 * frames). A send copies frames into the peer's queue under the queue's
 * lock; when the queue is full it returns -EAGAIN and marks the sender
 * blocked, and the peer's next receive that frees a slot kicks the sender
 * (netbe_tx_kick). A send into an empty queue kicks the peer's receive
 * side (netbe_rx_kick), and so does a receive that leaves frames behind
 * (a frontend whose buffers take one frame per call, through core's
 * stash, would otherwise never hear of the rest). Frames keep their
 * virtio-net header, so offloads pass through as they would over a wire
 * that carries them. An end whose peer is not open yet (or closed)
 * behaves like an unplugged cable: frames are consumed and counted as tx
 * errors. mtu=N gives an end the limits of a link with that MTU (core
 * segments software offloads to fit it); a frame longer than the peer
 * end takes is consumed and counted as tx_too_big, never truncated.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "iov.h"
#include "log.h"

#define PAIR_DEPTH_DEFAULT 256
#define PAIR_DEPTH_MAX 65536
#define PAIR_MTU_MAX 65535

struct pair_slot {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

/* One end's receive queue. */
struct pair_queue {
	pthread_mutex_t lock;
	struct pair_slot *slots;
	unsigned depth, head, count;
	struct netbe *writer_blocked;   /* sender waiting for room, or NULL */
};

struct pair_link {
	char name[32];
	struct netbe *end[2];
	struct pair_link *next;
};

struct pair_priv {
	struct pair_link *link;
	unsigned side;
	struct pair_queue rxq;
};

static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pair_link *links;

static struct pair_priv *priv_of(struct netbe *be)
{
	return netbe_priv(be);
}

/* The other end of @be, or NULL; caller holds links_lock. */
static struct netbe *peer_locked(struct netbe *be)
{
	struct pair_priv *p = priv_of(be);

	return p->link->end[!p->side];
}

/* Find or create the link called @name and take a free side of it.
 * Caller holds links_lock. Return: 0 or -errno with a message. */
static int link_join(struct netbe *be, const char *name)
{
	struct pair_priv *p = priv_of(be);
	struct pair_link *l;

	for (l = links; l && strcmp(l->name, name); l = l->next)
		;
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return netbe_errf(-ENOMEM, "pair: out of memory");
		snprintf(l->name, sizeof(l->name), "%s", name);
		l->next = links;
		links = l;
	}
	if (l->end[0] && l->end[1])
		return netbe_errf(-EBUSY, "pair:%s already has two ends open; use another NAME",
				  name);
	p->side = l->end[0] ? 1 : 0;
	p->link = l;
	l->end[p->side] = be;
	return 0;
}

/* Leave the link, freeing it when both ends are gone. Caller holds lock. */
static void link_leave(struct netbe *be)
{
	struct pair_priv *p = priv_of(be);
	struct pair_link **pp;

	p->link->end[p->side] = NULL;
	if (p->link->end[!p->side])
		return;
	for (pp = &links; *pp != p->link; pp = &(*pp)->next)
		;
	*pp = p->link->next;
	free(p->link);
}

static int queue_init(struct pair_queue *q, unsigned depth)
{
	q->slots = calloc(depth, sizeof(*q->slots));
	if (!q->slots)
		return netbe_errf(-ENOMEM, "pair: out of memory for %u slots", depth);
	q->depth = depth;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

static void queue_fini(struct pair_queue *q)
{
	unsigned i;

	for (i = 0; i < q->depth; i++)
		free(q->slots[i].buf);
	free(q->slots);
	pthread_mutex_destroy(&q->lock);
}

static int pair_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct pair_priv *p = priv_of(be);
	uint64_t depth, mtu;
	int ret;

	ret = netbe_spec_uint(spec, "depth", 1, PAIR_DEPTH_MAX,
			      PAIR_DEPTH_DEFAULT, &depth);
	if (!ret)
		ret = netbe_spec_uint(spec, "mtu", 68, PAIR_MTU_MAX, PAIR_MTU_MAX,
				      &mtu);
	if (ret)
		return ret;
	if (strlen(spec->name) >= sizeof(p->link->name))
		return netbe_errf(-EINVAL, "pair: NAME '%s' is longer than %zu characters",
				  spec->name, sizeof(p->link->name) - 1);
	ret = queue_init(&p->rxq, (unsigned)depth);
	if (ret)
		return ret;
	pthread_mutex_lock(&links_lock);
	ret = link_join(be, spec->name);
	pthread_mutex_unlock(&links_lock);
	if (ret) {
		queue_fini(&p->rxq);
		return ret;
	}
	be->be_hdr_len = NETBE_VNET_HDR_LEN_MRG;
	be->rx_max = be->tx_max = be->be_hdr_len + NETBE_L2_MAX + mtu;
	be->native_caps = NETBE_F_HOST_OFFLOADS | NETBE_F_GUEST_OFFLOADS;
	return 0;
}

static void pair_close(struct netbe *be)
{
	struct pair_priv *p = priv_of(be);
	struct netbe *peer;

	pthread_mutex_lock(&links_lock);
	peer = peer_locked(be);
	if (peer) {
		struct pair_queue *pq = &priv_of(peer)->rxq;

		pthread_mutex_lock(&pq->lock);
		if (pq->writer_blocked == be)
			pq->writer_blocked = NULL;
		pthread_mutex_unlock(&pq->lock);
	}
	link_leave(be);
	pthread_mutex_unlock(&links_lock);
	if (p->rxq.count)
		nb_info("pair %s: closed with %u frames queued, not received",
			be->name, p->rxq.count);
	queue_fini(&p->rxq);
}

/* Copy frame @x into the tail slot of @q. Caller holds q->lock and has
 * checked there is room. Return: 0 or -ENOMEM. */
static int queue_push(struct pair_queue *q, const struct netbe_xfer *x)
{
	struct pair_slot *s = &q->slots[(q->head + q->count) % q->depth];

	if (s->cap < x->len) {
		uint8_t *nb = realloc(s->buf, x->len);

		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = x->len;
	}
	s->len = iov_to_buf(x->iov, x->iovcnt, 0, s->buf, x->len);
	q->count++;
	return 0;
}

/* Queue frames into @peer's queue. Return: frames consumed or -EAGAIN. */
static int push_frames(struct netbe *be, struct netbe *peer,
		       struct netbe_xfer *x, unsigned n)
{
	struct pair_queue *q = &priv_of(peer)->rxq;
	bool was_empty;
	unsigned i;

	pthread_mutex_lock(&q->lock);
	was_empty = q->count == 0;
	for (i = 0; i < n && q->count < q->depth; i++)
		x[i].err = x[i].len > peer->rx_max ? -EMSGSIZE : queue_push(q, &x[i]);
	if (i < n)
		q->writer_blocked = be;
	pthread_mutex_unlock(&q->lock);
	if (i && was_empty)
		netbe_rx_kick(peer);
	return i ? (int)i : -EAGAIN;
}

static int pair_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct netbe *peer;
	unsigned i;
	int ret;

	pthread_mutex_lock(&links_lock);
	peer = peer_locked(be);
	if (peer) {
		ret = push_frames(be, peer, x, n);
		pthread_mutex_unlock(&links_lock);
		return ret;
	}
	pthread_mutex_unlock(&links_lock);
	for (i = 0; i < n; i++)
		x[i].err = -ENOTCONN;
	return (int)n;
}

/* Take up to @n frames off this end's queue; frames left behind get
 * another rx kick, since the sender kicks only into an empty queue.
 * Return: frames received. */
static int pair_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct pair_queue *q = &priv_of(be)->rxq;
	unsigned i;
	bool more;

	pthread_mutex_lock(&q->lock);
	for (i = 0; i < n && q->count; i++) {
		struct pair_slot *s = &q->slots[q->head];

		x[i].len = iov_from_buf(x[i].iov, x[i].iovcnt, 0, s->buf, s->len);
		q->head = (q->head + 1) % q->depth;
		q->count--;
	}
	if (i && q->writer_blocked) {
		/* Under the lock: pair_close() of the writer clears it here. */
		netbe_tx_kick(q->writer_blocked);
		q->writer_blocked = NULL;
	}
	more = q->count != 0;
	pthread_mutex_unlock(&q->lock);
	if (more)
		netbe_rx_kick(be);
	return (int)i;
}

/* The backend's rx_count(). Return: frames queued toward this end. */
static unsigned pair_rx_count(struct netbe *be)
{
	struct pair_queue *q = &priv_of(be)->rxq;
	unsigned count;

	pthread_mutex_lock(&q->lock);
	count = q->count;
	pthread_mutex_unlock(&q->lock);
	return count;
}

static const struct netbe_key pair_keys[] = {
	{ "depth", "1..65536: frames each end can hold before -EAGAIN (default 256)", 0 },
	{ "mtu", "68..65535: largest IP packet this end sends and receives (default 65535)", 0 },
	{ NULL },
};

const struct netbe_backend netbe_backend_pair = {
	.name = "pair",
	.help = "two handles in one process wired back to back (open pair:NAME twice)",
	.name_help = "NAME shared by the two ends",
	.name_use = NETBE_NAME_REQUIRED,
	.keys = pair_keys,
	.priv_size = sizeof(struct pair_priv),
	.open = pair_open,
	.close = pair_close,
	.send = pair_send,
	.recv = pair_recv,
	.rx_count = pair_rx_count,
};
