/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * softpath.c - the data path's detour through the software offload engine.
 *
 * Transmit: a frontend frame asking for checksum or segmentation work the
 * backend cannot do natively is copied once into the handle's soft_tx
 * queue, checked and segmented by offload.c (segments are a header block
 * plus a slice of that copy), and the segments go to the backend in
 * batches. The frame counts as consumed as soon as it is queued; segments
 * the backend cannot take yet stay queued, the next send returns -EAGAIN
 * until they are gone, and the loop flushes them when the backend becomes
 * writable (netbe.c's tx_ready), so a super-frame is never half lost. The
 * segments are sized for the backend's tx_max (offload.c lowers the guest's
 * segment size when it would not fit); when the backend fails for good,
 * the segments left are counted as tx_error (closing the handle logs
 * them: its counters go with it).
 *
 * Receive: a backend frame whose header asks for work the frontend did not
 * negotiate (a GSO frame, a partial checksum without GUEST_CSUM) is copied
 * into the soft_rx queue and segmented; recv then hands out one segment per
 * frame, with checksums completed, or left partial when the frontend took
 * GUEST_CSUM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "iov.h"
#include "log.h"
#include "vnet_hdr.h"

bool soft_tx_needed(const struct netbe *be, const struct netbe_vnet_hdr *h)
{
	uint64_t need;

	if (!ol_needs_work(h))
		return false;
	need = vnet_hdr_host_features(h);
	return !be->be_hdr_len || (be->core->native & need) != need;
}

/* Allocate @q's buffers on first use. Return: 0 or -ENOMEM. */
static int queue_alloc(struct soft_queue *q)
{
	if (q->frame)
		return 0;
	q->frame = malloc(NETBE_FRAME_MAX);
	q->store = malloc(OL_STORE_MAX);
	q->segs = calloc(OL_MAX_SEGS, sizeof(*q->segs));
	if (q->frame && q->store && q->segs)
		return 0;
	free(q->frame);
	free(q->store);
	free(q->segs);
	memset(q, 0, sizeof(*q));
	return -ENOMEM;
}

/* Check and segment the @len byte frame in q->frame as @h asks, into
 * segments of at most @seg_max bytes. Return: OL_OK, or the drop reason. */
static enum netbe_drop_reason queue_fill(struct netbe *be, struct soft_queue *q,
					 size_t len, const struct netbe_vnet_hdr *h,
					 unsigned flags, size_t seg_max)
{
	struct ol_pkt p;
	enum netbe_drop_reason why = ol_check(h, q->frame, len, flags & OL_RX,
					      seg_max, &p);
	int n;

	if (why != OL_OK)
		return why;
	n = ol_segment(h, &p, flags, be->core->frag_id++, q->store,
		       OL_STORE_MAX, q->segs, OL_MAX_SEGS);
	if (n < 0)
		return (flags & OL_RX) ? NETBE_DROP_RX_BAD_HDR : NETBE_DROP_TX_BAD_HDR;
	q->nsegs = (unsigned)n;
	q->next = 0;
	return OL_OK;
}

int soft_tx_start(struct netbe *be, const struct netbe_frame *f, size_t len,
		  const struct netbe_vnet_hdr *h)
{
	struct soft_queue *q = &be->core->soft_tx;
	size_t flen = len - be->fe_hdr_len;
	unsigned flags = 0;
	enum netbe_drop_reason why;

	if (queue_alloc(q) || flen > NETBE_FRAME_MAX) {
		netbe_count_drop(be, NETBE_DROP_TX_ERROR);
		return -ENOMEM;
	}
	if (be->be_hdr_len && (be->core->native & NETBE_F_CSUM))
		flags = OL_CSUM_PARTIAL;
	iov_to_buf(f->iov, f->iovcnt, be->fe_hdr_len, q->frame, flen);
	why = queue_fill(be, q, flen, h, flags, core_tx_frame_max(be));
	if (why != OL_OK)
		netbe_count_drop(be, why);
	return 0;
}

bool soft_tx_pending(const struct netbe *be)
{
	const struct soft_queue *q = &be->core->soft_tx;

	return q->next < q->nsegs;
}

/* Describe segment @s as transmit xfer @j: backend header, segment
 * headers, payload slice. */
static void seg_xfer(struct netbe *be, const struct ol_seg *s, unsigned j,
		     unsigned *pool_used)
{
	struct dir_scratch *t = &be->core->tx;
	struct iovec *iov = t->iov + *pool_used;
	struct netbe_xfer *x = &t->x[j];
	int k = 0;

	if (be->be_hdr_len) {
		struct netbe_vnet_hdr h = {
			.flags = s->flags,
			.csum_start = s->csum_start,
			.csum_offset = s->csum_offset,
		};

		vnet_hdr_encode(t->hdr[j], be->be_hdr_len, &h);
		iov[k].iov_base = t->hdr[j];
		iov[k++].iov_len = be->be_hdr_len;
	}
	iov[k].iov_base = s->hdr;
	iov[k++].iov_len = s->hdr_len;
	if (s->data_len) {
		iov[k].iov_base = (void *)s->data;
		iov[k++].iov_len = s->data_len;
	}
	x->iov = iov;
	x->iovcnt = k;
	x->len = be->be_hdr_len + s->hdr_len + s->data_len;
	x->err = 0;
	*pool_used += (unsigned)k;
}

/* The backend failed for good: count the queued segments as tx_error and
 * forget them. */
static void soft_tx_discard(struct netbe *be)
{
	struct soft_queue *q = &be->core->soft_tx;

	netbe_count_drops(be, NETBE_DROP_TX_ERROR, q->nsegs - q->next);
	q->nsegs = q->next = 0;
}

int soft_tx_flush(struct netbe *be)
{
	struct soft_queue *q = &be->core->soft_tx;
	struct dir_scratch *t = &be->core->tx;
	int ret;

	while (q->next < q->nsegs) {
		unsigned m, pool_used = 0;

		for (m = 0; m < NETBE_BURST && q->next + m < q->nsegs; m++)
			seg_xfer(be, &q->segs[q->next + m], m, &pool_used);
		ret = core_tx_send(be, t->x, m);
		if (ret == -EAGAIN)
			return ret;
		if (ret < 0) {
			soft_tx_discard(be);
			return ret;
		}
		q->next += (unsigned)ret;
	}
	q->nsegs = q->next = 0;
	return 0;
}

int soft_rx_start(struct netbe *be, const struct iovec *iov, int iovcnt,
		  size_t len, const struct netbe_vnet_hdr *h)
{
	struct soft_queue *q = &be->core->soft_rx;
	size_t flen = len - be->be_hdr_len;
	unsigned flags = OL_RX;
	enum netbe_drop_reason why;

	if (queue_alloc(q) || flen > NETBE_FRAME_MAX) {
		netbe_count_drop(be, NETBE_DROP_RX_OVERFLOW);
		return -ENOMEM;
	}
	if (be->features & NETBE_F_GUEST_CSUM)
		flags |= OL_CSUM_PARTIAL;
	iov_to_buf(iov, iovcnt, be->be_hdr_len, q->frame, flen);
	why = queue_fill(be, q, flen, h, flags, NETBE_FRAME_MAX);
	if (why != OL_OK)
		netbe_count_drop(be, why);
	return 0;
}

bool soft_rx_pending(const struct netbe *be)
{
	const struct soft_queue *q = &be->core->soft_rx;

	return q->next < q->nsegs;
}

size_t soft_rx_next_len(const struct netbe *be)
{
	const struct soft_queue *q = &be->core->soft_rx;
	const struct ol_seg *s = &q->segs[q->next];

	if (q->next >= q->nsegs)
		return 0;
	return be->fe_hdr_len + s->hdr_len + s->data_len;
}

/* Step past the next segment. Return: the frame length (no header). */
static size_t rx_advance(struct soft_queue *q)
{
	const struct ol_seg *s = &q->segs[q->next];
	size_t len = s->hdr_len + s->data_len;

	if (++q->next == q->nsegs)
		q->nsegs = q->next = 0;
	return len;
}

ssize_t soft_rx_deliver(struct netbe *be, struct netbe_frame *f)
{
	struct soft_queue *q = &be->core->soft_rx;
	const struct ol_seg *s = &q->segs[q->next];
	size_t need = soft_rx_next_len(be);
	struct netbe_vnet_hdr h = {
		.flags = s->flags,
		.csum_start = s->csum_start,
		.csum_offset = s->csum_offset,
		.num_buffers = 1,
	};

	if (iov_length(f->iov, f->iovcnt) < need)
		return -EMSGSIZE;
	vnet_hdr_write(f->iov, f->iovcnt, be->fe_hdr_len, &h);
	iov_from_buf(f->iov, f->iovcnt, be->fe_hdr_len, s->hdr, s->hdr_len);
	iov_from_buf(f->iov, f->iovcnt, be->fe_hdr_len + s->hdr_len, s->data,
		     s->data_len);
	core_count(&be->stats.rx_frames, 1);
	core_count(&be->stats.rx_bytes, rx_advance(q));
	f->result = (ssize_t)need;
	return f->result;
}

size_t soft_rx_skip(struct netbe *be)
{
	return be->fe_hdr_len + rx_advance(&be->core->soft_rx);
}

void soft_free(struct netbe *be)
{
	struct soft_queue *q[] = { &be->core->soft_tx, &be->core->soft_rx };
	unsigned i;

	for (i = 0; i < 2; i++) {
		free(q[i]->frame);
		free(q[i]->store);
		free(q[i]->segs);
		memset(q[i], 0, sizeof(*q[i]));
	}
}
