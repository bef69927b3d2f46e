/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faults.c - fault injection between the frontend and the backend, for
 * every backend, per direction (tx: frontend -> backend, rx: backend ->
 * frontend): loss, a fixed delay with jitter, reordering, duplication and
 * corruption, drawn from a seeded generator so a run can be replayed.
 *
 * Theory of operation
 *
 * Off, a direction costs one branch in netbe.c on be->core->fault_on[dir].
 * On, every frame draws its fate (always the same six numbers, in the same
 * order, so a seed and a frame sequence give the same faults whatever the
 * settings): lost (dropped and counted), or kept with a release time of
 * now + delay +- jitter, a second copy (dup), one flipped bit past the
 * Ethernet header in a private copy (corrupt, the virtio-net header never
 * touched) and whether it is held back for the next frame to overtake
 * (reorder: it waits up to REORDER_HOLD_NS more, and the next frame that
 * comes through takes it along right behind itself). A frame with none of
 * that, while nothing is queued, goes straight on; any other is copied
 * whole (header included, super-frames too) into the direction's queue,
 * a list sorted by release time that is bounded in frames and bytes
 * (NETBE_FAULT_QUEUE_FRAMES/BYTES; a frame beyond it is dropped and
 * counted as *_fault_overflow).
 *
 * Release. Due tx frames are sent at once by the sending thread, or by
 * the direction's loop timer. The tx path's normal checks run on them
 * then, under tx_lock. When the backend says -EAGAIN the frame stays at
 * the head, the direction is "blocked" and the sender gets -EAGAIN (and
 * tx_cb later): the backend's writability (tx_ready in netbe.c) resumes
 * the release, nothing is dropped. Rx frames are pulled from the backend
 * by netbe_recv() through the normal receive path (so they are in the
 * frontend's form, offloads done), queued, and handed out when due; the
 * timer calls the frontend's rx callback when the earliest is due.
 *
 * Timers. The loop adapter may only be called from the loop's thread, and
 * netbe_send() may run on a frontend's. Each direction's timer lives on
 * that direction's loop (core_dir_loop: with NETBE_CFG_TX_LOOP the tx
 * timer is on the tx loop, so tx frames are released and tx_cb runs on
 * its thread; rx stays on the handle's loop). So a thread that queues a
 * frame earlier than the timer is armed for only sets rearm and kicks the
 * direction's loop (core_kick); its kick callback (loop thread) then arms
 * the timer, as do the timer callback and tx_ready. Timers are created
 * there on first use.
 *
 * Locks: tx_lock (netbe.c) serialises tx release with the sender; each
 * direction's lock guards its settings, generator and queue; never held
 * while a frame is handed to the backend. Order: tx_lock, then a
 * direction's lock.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "core.h"
#include "faults.h"
#include "iov.h"
#include "log.h"

#define NS_PER_MS 1000000ULL
#define REORDER_HOLD_NS (10 * NS_PER_MS)
/* Frames taken from the backend per receive call, at most. */
#define PULL_MAX 256
/* Largest frame a queue takes: the biggest frontend header and frame. */
#define FRAME_COPY_MAX (NETBE_VNET_HDR_LEN_HASH + NETBE_FRAME_MAX)

struct fault_frame {
	struct fault_frame *prev, *next;
	uint64_t due;              /* CLOCK_MONOTONIC ns */
	size_t len;
	uint8_t data[];
};

struct fault_dir {
	struct netbe *be;
	enum netbe_direction dir;
	pthread_mutex_t lock;      /* all below but timer */
	struct netbe_faults cfg;
	uint64_t rng;
	struct fault_frame *head, *tail;
	struct fault_frame *held;  /* reorder: waits for the next frame */
	unsigned count;
	size_t bytes;
	uint64_t armed;            /* release time the timer is set for, 0 none */
	bool blocked;              /* tx: the backend refused the head */
	int rearm;                 /* atomic: the loop must arm the timer */
	void *timer;               /* loop thread only */
};

struct faults {
	struct fault_dir d[2];
	uint8_t *rx_buf;           /* FRAME_COPY_MAX bytes, to pull rx frames */
};

/* What happens to one frame. */
struct fate {
	bool lost, dup, corrupt, reorder;
	uint64_t delay_ns;
	uint64_t bit;              /* corrupt: random bit number */
};

/* ------------------------------------------------------------------------ */
/* Settings                                                                 */
/* ------------------------------------------------------------------------ */

/** splitmix64 step. Return: the next 64-bit number of @state. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/** Return: the generator state of direction @dir for @seed. */
static uint64_t rng_seed(uint64_t seed, enum netbe_direction dir)
{
	uint64_t s = seed ^ (dir == NETBE_DIR_RX ? 0x5258525852585258ULL : 0);

	return rng_next(&s);
}

/** Return: true when @c injects anything. */
static bool cfg_any(const struct netbe_faults *c)
{
	return c->loss_ppm || c->delay_ms || c->jitter_ms || c->reorder_ppm ||
	       c->dup_ppm || c->corrupt_ppm;
}

/* Publish whether @d's frames must come here: settings or queued frames.
 * Caller holds d->lock. */
static void update_on(struct fault_dir *d)
{
	__atomic_store_n(&d->be->core->fault_on[d->dir],
			 cfg_any(&d->cfg) || d->count, __ATOMIC_RELEASE);
}

/* Allocate @be's fault state on first use. Return: it, or NULL. */
static struct faults *faults_get(struct netbe *be)
{
	struct netbe_core_state *c = be->core;
	struct faults *f;
	unsigned i;

	pthread_mutex_lock(&c->lock);
	f = c->faults;
	if (!f && (f = calloc(1, sizeof(*f))) && !(f->rx_buf = malloc(FRAME_COPY_MAX))) {
		free(f);
		f = NULL;
	}
	if (f && !c->faults) {
		for (i = 0; i < 2; i++) {
			f->d[i].be = be;
			f->d[i].dir = (enum netbe_direction)i;
			f->d[i].cfg.size = sizeof(f->d[i].cfg);
			f->d[i].cfg.seed = c->fault_seed;
			f->d[i].rng = rng_seed(c->fault_seed, f->d[i].dir);
			pthread_mutex_init(&f->d[i].lock, NULL);
		}
		__atomic_store_n(&c->faults, f, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
	return f;
}

/* Check @f's values. Return: 0, or -EINVAL naming the field. */
static int check_values(const char *who, const struct netbe_faults *f)
{
	const struct { const char *name; uint32_t v, max; } v[] = {
		{ "loss_ppm", f->loss_ppm, NETBE_FAULT_PPM_MAX },
		{ "reorder_ppm", f->reorder_ppm, NETBE_FAULT_PPM_MAX },
		{ "dup_ppm", f->dup_ppm, NETBE_FAULT_PPM_MAX },
		{ "corrupt_ppm", f->corrupt_ppm, NETBE_FAULT_PPM_MAX },
		{ "delay_ms", f->delay_ms, NETBE_FAULT_DELAY_MAX_MS },
		{ "jitter_ms", f->jitter_ms, NETBE_FAULT_DELAY_MAX_MS },
		{ "reserved", f->reserved, 0 },
	};
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i].v > v[i].max)
			return netbe_errf(-EINVAL, "%s: %s is %u: expected 0 to %u",
					  who, v[i].name, v[i].v, v[i].max);
	return 0;
}

/* Install @f (checked) on direction @dir of @be. Return: 0 or -ENOMEM. */
static int faults_apply(struct netbe *be, enum netbe_direction dir,
			const struct netbe_faults *f)
{
	struct faults *all = faults_get(be);
	struct fault_dir *d;
	uint64_t seed;

	if (!all)
		return netbe_errf(-ENOMEM, "%s: out of memory for fault injection",
				  be->ops->name);
	d = &all->d[dir];
	pthread_mutex_lock(&d->lock);
	seed = d->cfg.seed;
	d->cfg = *f;
	d->cfg.size = sizeof(d->cfg);
	if (f->seed)
		d->rng = rng_seed(f->seed, dir);
	else
		d->cfg.seed = seed;
	update_on(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* Parse a percentage "N[.DDDD]" from 0 to 100 into parts per million.
 * Return: true when @v is one. */
static bool parse_pct(const char *v, uint32_t *ppm)
{
	uint32_t whole = 0, frac = 0, scale = 10000;
	unsigned digits = 0;

	for (; isdigit((unsigned char)*v) && digits < 4; v++, digits++)
		whole = whole * 10 + (uint32_t)(*v - '0');
	if (!digits)
		return false;
	if (*v == '.') {
		for (v++, digits = 0; isdigit((unsigned char)*v) && digits < 4; v++, digits++)
			frac += (uint32_t)(*v - '0') * (scale /= 10);
		if (!digits)
			return false;
	}
	*ppm = whole * 10000 + frac;
	return !*v && *ppm <= NETBE_FAULT_PPM_MAX;
}

/* Read key @prefix@name as a percentage into *@ppm (untouched if absent).
 * Return: 0 or -EINVAL stating the range. */
static int spec_pct(struct netbe *be, const struct netbe_spec *s,
		    const char *prefix, const char *name, uint32_t *ppm)
{
	char key[32];
	const char *v;

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	v = netbe_spec_get(s, key);
	if (v && !parse_pct(v, ppm))
		return netbe_errf(-EINVAL, "%s: bad value '%s' for key '%s': expected a percentage from 0 to 100 with up to 4 decimals (e.g. 0.5)",
				  be->ops->name, v, key);
	return 0;
}

/* Read key @prefix@name as milliseconds into *@ms. Return: 0 or -EINVAL. */
static int spec_ms(const struct netbe_spec *s, const char *prefix,
		   const char *name, uint32_t *ms)
{
	char key[32];
	uint64_t v;
	int ret;

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	ret = netbe_spec_uint(s, key, 0, NETBE_FAULT_DELAY_MAX_MS, 0, &v);
	*ms = (uint32_t)v;
	return ret;
}

/* Read the keys of direction @prefix into @f. Return: 0 or -EINVAL. */
static int spec_dir(struct netbe *be, const struct netbe_spec *s,
		    const char *prefix, struct netbe_faults *f)
{
	int ret = spec_pct(be, s, prefix, "loss", &f->loss_ppm);

	if (!ret)
		ret = spec_pct(be, s, prefix, "reorder", &f->reorder_ppm);
	if (!ret)
		ret = spec_pct(be, s, prefix, "dup", &f->dup_ppm);
	if (!ret)
		ret = spec_pct(be, s, prefix, "corrupt", &f->corrupt_ppm);
	if (!ret)
		ret = spec_ms(s, prefix, "delay", &f->delay_ms);
	if (!ret)
		ret = spec_ms(s, prefix, "jitter", &f->jitter_ms);
	return ret;
}

int faults_from_spec(struct netbe *be, const struct netbe_spec *s)
{
	static const char *const prefix[2] = { "tx_", "rx_" };
	struct netbe_faults f;
	uint64_t seed;
	unsigned i;
	int ret;

	ret = netbe_spec_uint(s, "fault_seed", 0, UINT64_MAX, 0, &seed);
	if (ret)
		return ret;
	be->core->fault_seed = netbe_spec_get(s, "fault_seed") ? seed :
		nb_clock_ns(CLOCK_MONOTONIC) ^ (uint64_t)(uintptr_t)be;
	for (i = 0; i < 2; i++) {
		memset(&f, 0, sizeof(f));
		f.size = sizeof(f);
		ret = spec_dir(be, s, prefix[i], &f);
		if (!ret && cfg_any(&f))
			ret = faults_apply(be, (enum netbe_direction)i, &f);
		if (ret)
			return ret;
	}
	return 0;
}

NETBE_EXPORT int netbe_set_faults(struct netbe *be, enum netbe_direction dir,
				  const struct netbe_faults *f)
{
	int ret;

	if (!be || !f)
		return netbe_errf(-EINVAL, "netbe_set_faults: handle or faults is NULL");
	if (dir != NETBE_DIR_TX && dir != NETBE_DIR_RX)
		return netbe_errf(-EINVAL, "netbe_set_faults: direction %d is not NETBE_DIR_TX or NETBE_DIR_RX",
				  (int)dir);
	if (f->size != sizeof(*f))
		return netbe_errf(-EINVAL, "netbe_set_faults: size is %u, this library knows %zu: set size = sizeof(struct netbe_faults)",
				  f->size, sizeof(*f));
	ret = check_values("netbe_set_faults", f);
	return ret ? ret : faults_apply(be, dir, f);
}

NETBE_EXPORT int netbe_get_faults(struct netbe *be, enum netbe_direction dir,
				  struct netbe_faults *f)
{
	struct faults *all;
	struct netbe_faults cur = { .size = sizeof(cur) };
	size_t n;

	if (!be || !f)
		return netbe_errf(-EINVAL, "netbe_get_faults: handle or faults is NULL");
	if (dir != NETBE_DIR_TX && dir != NETBE_DIR_RX)
		return netbe_errf(-EINVAL, "netbe_get_faults: direction %d is not NETBE_DIR_TX or NETBE_DIR_RX",
				  (int)dir);
	if (f->size < sizeof(uint32_t))
		return netbe_errf(-EINVAL, "netbe_get_faults: size is %u: set size = sizeof(struct netbe_faults)",
				  f->size);
	all = __atomic_load_n(&be->core->faults, __ATOMIC_ACQUIRE);
	cur.seed = be->core->fault_seed;
	if (all) {
		pthread_mutex_lock(&all->d[dir].lock);
		cur = all->d[dir].cfg;
		pthread_mutex_unlock(&all->d[dir].lock);
	}
	n = f->size < sizeof(cur) ? f->size : sizeof(cur);
	cur.size = (uint32_t)n;
	memcpy(f, &cur, n);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The queue (caller holds d->lock)                                         */
/* ------------------------------------------------------------------------ */

/* Draw the fate of a frame of @len bytes with a @hdr-byte header. */
static struct fate draw(struct fault_dir *d, size_t len, size_t hdr)
{
	const struct netbe_faults *c = &d->cfg;
	uint64_t r[6], jit = c->jitter_ms * NS_PER_MS, base = c->delay_ms * NS_PER_MS;
	size_t body = len > hdr + ETH_HDR_LEN ? len - hdr - ETH_HDR_LEN : 0;
	struct fate f;
	unsigned i;

	for (i = 0; i < 6; i++)
		r[i] = rng_next(&d->rng);
	f.lost = r[0] % NETBE_FAULT_PPM_MAX < c->loss_ppm;
	f.corrupt = body && r[1] % NETBE_FAULT_PPM_MAX < c->corrupt_ppm;
	f.bit = body ? r[2] % (body * 8) : 0;
	f.dup = r[3] % NETBE_FAULT_PPM_MAX < c->dup_ppm;
	f.reorder = r[4] % NETBE_FAULT_PPM_MAX < c->reorder_ppm;
	f.delay_ns = base + r[5] % (2 * jit + 1);
	f.delay_ns = f.delay_ns > jit ? f.delay_ns - jit : 0;
	return f;
}

/* Take @fr out of @d's list (count and bytes are the caller's). */
static void q_unlink(struct fault_dir *d, struct fault_frame *fr)
{
	*(fr->prev ? &fr->prev->next : &d->head) = fr->next;
	*(fr->next ? &fr->next->prev : &d->tail) = fr->prev;
	fr->prev = fr->next = NULL;
}

/* Link @fr right after @after (NULL: at the head). */
static void q_link_after(struct fault_dir *d, struct fault_frame *after,
			 struct fault_frame *fr)
{
	fr->prev = after;
	fr->next = after ? after->next : d->head;
	*(fr->next ? &fr->next->prev : &d->tail) = fr;
	*(after ? &after->next : &d->head) = fr;
}

/* Insert @fr by release time, after every frame due no later. */
static void q_insert(struct fault_dir *d, struct fault_frame *fr)
{
	struct fault_frame *p = d->tail;

	while (p && p->due > fr->due)
		p = p->prev;
	q_link_after(d, p, fr);
}

/* Take the head off the queue. Return: it, or NULL. */
static struct fault_frame *q_pop(struct fault_dir *d)
{
	struct fault_frame *fr = d->head;

	if (!fr)
		return NULL;
	q_unlink(d, fr);
	if (fr == d->held)
		d->held = NULL;
	d->count--;
	d->bytes -= fr->len;
	return fr;
}

/* Put @fr (just popped) back at the head. */
static void q_push_front(struct fault_dir *d, struct fault_frame *fr)
{
	q_link_after(d, NULL, fr);
	d->count++;
	d->bytes += fr->len;
}

/* The release time of the first frame due after @now, 0 if none. */
static uint64_t next_due_after(const struct fault_dir *d, uint64_t now)
{
	const struct fault_frame *p;

	for (p = d->head; p; p = p->next)
		if (p->due > now)
			return p->due;
	return 0;
}

/* Count one event of kind @which (0 delayed, 1 reordered, 2 duplicated,
 * 3 corrupted) in @d's direction. */
static void count_event(struct fault_dir *d, unsigned which)
{
	struct netbe_stats *st = &d->be->stats;
	uint64_t *tx[] = { &st->tx_fault_delayed, &st->tx_fault_reordered,
			   &st->tx_fault_duplicated, &st->tx_fault_corrupted };
	uint64_t *rx[] = { &st->rx_fault_delayed, &st->rx_fault_reordered,
			   &st->rx_fault_duplicated, &st->rx_fault_corrupted };

	core_count((d->dir == NETBE_DIR_TX ? tx : rx)[which], 1);
}

enum { EV_DELAYED, EV_REORDERED, EV_DUPLICATED, EV_CORRUPTED };

/* A frame released at @due was queued: when that is earlier than the
 * timer is set for, have the loop arm it (from any thread). */
static void request_arm(struct fault_dir *d, uint64_t due)
{
	if ((!d->armed || due < d->armed) &&
	    !__atomic_exchange_n(&d->rearm, 1, __ATOMIC_ACQ_REL))
		core_kick(d->be, d->dir);
}

/* Hold @fr back (reorder) until the next frame passes, or for
 * REORDER_HOLD_NS more. */
static void hold(struct fault_dir *d, struct fault_frame *fr)
{
	q_unlink(d, fr);
	fr->due += REORDER_HOLD_NS;
	q_insert(d, fr);
	d->held = fr;
	count_event(d, EV_REORDERED);
	request_arm(d, fr->due);
}

/* The held frame goes right behind @fr, which overtook it. */
static void take_along(struct fault_dir *d, struct fault_frame *fr)
{
	struct fault_frame *h = d->held;

	q_unlink(d, h);
	h->due = fr->due;
	q_link_after(d, fr, h);
	d->held = NULL;
}

/* Copy frame @iov (@len bytes) into a new entry. Return: it, or NULL. */
static struct fault_frame *frame_copy(const struct iovec *iov, int iovcnt,
				      size_t len)
{
	struct fault_frame *fr = malloc(sizeof(*fr) + len);

	if (!fr)
		return NULL;
	fr->prev = fr->next = NULL;
	fr->len = len;
	iov_to_buf(iov, iovcnt, 0, fr->data, len);
	return fr;
}

/* Queue a frame (@len bytes, @hdr of them the frontend header) as @fate
 * says, counting what does not fit. Return: copies queued. */
static unsigned enqueue(struct fault_dir *d, const struct iovec *iov,
			int iovcnt, size_t len, size_t hdr,
			const struct fate *fate, uint64_t now)
{
	struct fault_frame *fr, *last = NULL, *prev = d->held ? d->held->prev : d->tail;
	uint64_t floor = prev ? prev->due : 0;   /* only reorder overtakes */
	unsigned i, queued = 0;

	for (i = 0; i < (fate->dup ? 2u : 1u); i++) {
		fr = NULL;
		if (d->count < NETBE_FAULT_QUEUE_FRAMES &&
		    d->bytes + len <= NETBE_FAULT_QUEUE_BYTES)
			fr = frame_copy(iov, iovcnt, len);
		if (!fr) {
			netbe_count_drop(d->be, d->dir == NETBE_DIR_TX ?
					 NETBE_DROP_TX_FAULT_OVERFLOW :
					 NETBE_DROP_RX_FAULT_OVERFLOW);
			continue;
		}
		fr->due = now + fate->delay_ns;
		if (fr->due < floor)
			fr->due = floor;
		if (!i && fate->corrupt) {
			fr->data[hdr + ETH_HDR_LEN + fate->bit / 8] ^=
				(uint8_t)(1u << (fate->bit % 8));
			count_event(d, EV_CORRUPTED);
		}
		q_insert(d, fr);
		d->count++;
		d->bytes += len;
		if (fate->delay_ns) {
			count_event(d, EV_DELAYED);
			request_arm(d, fr->due);
		}
		last = fr;
		queued++;
	}
	if (fate->dup)
		count_event(d, EV_DUPLICATED);
	if (last && d->held)
		take_along(d, last);
	else if (last && fate->reorder)
		hold(d, last);
	return queued;
}

static void on_timer(void *opaque);

/* Arm @d's timer for what is queued: tx for the head unless the backend
 * is full (tx_ready resumes then); rx for frames due from now on, and
 * at once for due ones unless the frontend was just told (@notified).
 * The direction's loop thread only. */
static void arm(struct fault_dir *d, bool notified)
{
	const struct netbe_loop *l = core_dir_loop(d->be, d->dir);
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC), due;

	pthread_mutex_lock(&d->lock);
	if (d->dir == NETBE_DIR_TX)
		due = d->blocked || !d->head ? 0 : d->head->due;
	else if (!notified && d->head && d->head->due <= now)
		due = now;
	else
		due = next_due_after(d, now);
	if (due && !d->timer &&
	    l->ops->timer_add(l->loop, on_timer, d, &d->timer) < 0) {
		d->timer = NULL;
		NB_LOG_RL(NETBE_LOG_ERR, "%s: the loop refused a fault injection timer; delayed frames wait for the next one",
			  d->be->ops->name);
	}
	if (d->timer && due != d->armed) {
		l->ops->timer_mod(l->loop, d->timer,
				  due ? (due > now ? due - now : 1) : 0, 0);
		d->armed = due;
	}
	pthread_mutex_unlock(&d->lock);
}

/* ------------------------------------------------------------------------ */
/* Transmit                                                                 */
/* ------------------------------------------------------------------------ */

/* Hand queued frame @fr to the normal transmit path (tx_lock held).
 * Return: 1 when consumed, -EAGAIN, or the backend's -errno (the frame
 * is then counted as tx_error). */
static int tx_release(struct netbe *be, struct fault_frame *fr)
{
	struct iovec iov = { fr->data, fr->len };
	struct netbe_frame f = { .iov = &iov, .iovcnt = 1 };
	int ret = core_tx_one(be, &f);

	if (ret < 0 && ret != -EAGAIN)
		netbe_count_drop(be, NETBE_DROP_TX_ERROR);
	return ret;
}

/* Send the due tx frames, in order (tx_lock held). Return: 0, -EAGAIN
 * when the backend is full (the frame stays at the head, @d blocked), or
 * the backend's -errno. */
static int tx_flush(struct fault_dir *d)
{
	struct fault_frame *fr;
	int ret;

	for (;;) {
		pthread_mutex_lock(&d->lock);
		d->blocked = false;
		fr = d->head && d->head->due <= nb_clock_ns(CLOCK_MONOTONIC) ?
			q_pop(d) : NULL;
		update_on(d);
		pthread_mutex_unlock(&d->lock);
		if (!fr)
			return 0;
		ret = tx_release(d->be, fr);
		if (ret == -EAGAIN) {
			pthread_mutex_lock(&d->lock);
			q_push_front(d, fr);
			d->blocked = true;
			update_on(d);
			pthread_mutex_unlock(&d->lock);
			return ret;
		}
		free(fr);
		if (ret < 0)
			return ret;
	}
}

/* Frame @f of the frontend through the faults (tx_lock held).
 * Return: 1 when consumed, -EAGAIN, or -errno. */
static int tx_one(struct fault_dir *d, struct netbe_frame *f)
{
	struct netbe *be = d->be;
	size_t len = iov_length(f->iov, f->iovcnt);
	struct fate fate;
	bool direct;
	int ret;

	pthread_mutex_lock(&d->lock);
	if (d->blocked) {
		pthread_mutex_unlock(&d->lock);
		core_count(&be->stats.tx_eagain, 1);
		return -EAGAIN;
	}
	fate = draw(d, len, be->fe_hdr_len);
	f->result = (ssize_t)len;
	direct = !fate.lost && ((!d->count && !fate.delay_ns && !fate.dup &&
				 !fate.corrupt && !fate.reorder) ||
				len > FRAME_COPY_MAX);
	if (fate.lost)
		netbe_count_drop(be, NETBE_DROP_TX_FAULT_LOSS);
	else if (!direct)
		enqueue(d, f->iov, f->iovcnt, len, be->fe_hdr_len, &fate,
			nb_clock_ns(CLOCK_MONOTONIC));
	update_on(d);
	pthread_mutex_unlock(&d->lock);
	if (fate.lost)
		return 1;
	if (direct)
		return core_tx_one(be, f);
	ret = tx_flush(d);
	return ret == -EAGAIN ? 1 : ret < 0 ? ret : 1;
}

int faults_tx_burst(struct netbe *be, struct netbe_frame *f, unsigned n)
{
	struct faults *all = __atomic_load_n(&be->core->faults, __ATOMIC_ACQUIRE);
	unsigned done = 0;
	int ret = 0;

	pthread_mutex_lock(&be->core->tx_lock);
	while (done < n) {
		ret = tx_one(&all->d[NETBE_DIR_TX], &f[done]);
		if (ret <= 0)
			break;
		done++;
	}
	pthread_mutex_unlock(&be->core->tx_lock);
	if (done)
		return (int)done;
	return ret ? ret : -EAGAIN;
}

int faults_tx_ready(struct netbe *be)
{
	struct fault_dir *d = &be->core->faults->d[NETBE_DIR_TX];
	int ret = tx_flush(d);

	arm(d, false);
	return ret == -EAGAIN ? ret : 0;
}

/* ------------------------------------------------------------------------ */
/* Receive                                                                  */
/* ------------------------------------------------------------------------ */

/* Frame @buf (@len bytes, frontend form, already counted as received)
 * through the faults into @d's queue. */
static void rx_take(struct fault_dir *d, uint8_t *buf, size_t len)
{
	struct netbe *be = d->be;
	struct iovec iov = { buf, len };
	size_t payload = len - be->fe_hdr_len;
	unsigned queued = 0;
	struct fate fate;

	pthread_mutex_lock(&d->lock);
	fate = draw(d, len, be->fe_hdr_len);
	if (fate.lost)
		netbe_count_drop(be, NETBE_DROP_RX_FAULT_LOSS);
	else
		queued = enqueue(d, &iov, 1, len, be->fe_hdr_len, &fate,
				 nb_clock_ns(CLOCK_MONOTONIC));
	update_on(d);
	pthread_mutex_unlock(&d->lock);
	/* rx_frames counts frames handed to the frontend */
	/* (uint64_t): one lost frame takes its count back, modulo 2^64 */
	core_count(&be->stats.rx_frames, (uint64_t)queued - 1);
	core_count(&be->stats.rx_bytes, ((uint64_t)queued - 1) * payload);
}

/* Take up to PULL_MAX frames from the backend into @d's queue.
 * Return: 0, or the backend's -errno. */
static int rx_pull(struct fault_dir *d)
{
	uint8_t *buf = d->be->core->faults->rx_buf;
	unsigned i;
	int ret = 0;

	for (i = 0; i < PULL_MAX; i++) {
		struct iovec iov = { buf, FRAME_COPY_MAX };
		struct netbe_frame f = { .iov = &iov, .iovcnt = 1 };

		ret = core_rx_burst(d->be, &f, 1);
		if (ret <= 0)
			break;
		rx_take(d, buf, (size_t)f.result);
	}
	return ret < 0 ? ret : 0;
}

/* The head of @d when it is due, else NULL. Caller holds d->lock. */
static struct fault_frame *due_head(struct fault_dir *d)
{
	return d->head && d->head->due <= nb_clock_ns(CLOCK_MONOTONIC) ?
		d->head : NULL;
}

int faults_rx_burst(struct netbe *be, struct netbe_frame *f, unsigned n)
{
	struct fault_dir *d = &be->core->faults->d[NETBE_DIR_RX];
	int pulled = rx_pull(d), ret = 0;
	struct fault_frame *fr;
	unsigned got = 0;

	pthread_mutex_lock(&d->lock);
	while (got < n && (fr = due_head(d))) {
		if (iov_length(f[got].iov, f[got].iovcnt) < fr->len) {
			ret = -EMSGSIZE;
			break;
		}
		iov_from_buf(f[got].iov, f[got].iovcnt, 0, fr->data, fr->len);
		f[got++].result = (ssize_t)fr->len;
		free(q_pop(d));
	}
	update_on(d);
	pthread_mutex_unlock(&d->lock);
	if (got)
		return (int)got;
	return ret ? ret : pulled;
}

ssize_t faults_rx_peek(struct netbe *be)
{
	struct fault_dir *d = &be->core->faults->d[NETBE_DIR_RX];
	int pulled = rx_pull(d);
	struct fault_frame *fr;
	ssize_t len;

	pthread_mutex_lock(&d->lock);
	fr = due_head(d);
	len = fr ? (ssize_t)fr->len : pulled;
	pthread_mutex_unlock(&d->lock);
	return len;
}

ssize_t faults_rx_discard(struct netbe *be)
{
	struct fault_dir *d = &be->core->faults->d[NETBE_DIR_RX];
	int pulled = rx_pull(d);
	struct fault_frame *fr;
	ssize_t len;

	pthread_mutex_lock(&d->lock);
	fr = due_head(d) ? q_pop(d) : NULL;
	update_on(d);
	pthread_mutex_unlock(&d->lock);
	if (!fr)
		return pulled;
	len = (ssize_t)fr->len;
	free(fr);
	be->stats.rx_frames--;
	be->stats.rx_bytes -= (size_t)len - be->fe_hdr_len;
	netbe_count_drop(be, NETBE_DROP_RX_DISCARDED);
	return len;
}

/* ------------------------------------------------------------------------ */
/* The loop side                                                            */
/* ------------------------------------------------------------------------ */

/* A direction's timer: release due tx frames, or tell the frontend that
 * rx frames are due; then arm for the next. */
static void on_timer(void *opaque)
{
	struct fault_dir *d = opaque;
	struct netbe *be = d->be;
	bool due;

	pthread_mutex_lock(&d->lock);
	d->armed = 0;
	due = due_head(d) != NULL;
	pthread_mutex_unlock(&d->lock);
	if (d->dir == NETBE_DIR_TX) {
		pthread_mutex_lock(&be->core->tx_lock);
		tx_flush(d);
		pthread_mutex_unlock(&be->core->tx_lock);
	} else if (due) {
		core_rx_ready(be);
	}
	arm(d, true);
}

void faults_kick(struct netbe *be, enum netbe_direction dir)
{
	struct faults *all = __atomic_load_n(&be->core->faults, __ATOMIC_ACQUIRE);

	if (all && __atomic_exchange_n(&all->d[dir].rearm, 0, __ATOMIC_ACQ_REL))
		arm(&all->d[dir], false);
}

void faults_free(struct netbe *be)
{
	struct faults *all = be->core->faults;
	struct fault_frame *fr;
	unsigned i, n = 0;

	if (!all)
		return;
	for (i = 0; i < 2; i++) {
		struct fault_dir *d = &all->d[i];

		const struct netbe_loop *l = core_dir_loop(be, d->dir);

		if (d->timer)
			l->ops->timer_del(l->loop, d->timer);
		for (; (fr = q_pop(d)); n++)
			free(fr);
		pthread_mutex_destroy(&d->lock);
	}
	netbe_count_drops(be, NETBE_DROP_FAULT_CLOSED, n);
	if (n)
		nb_info("%s: closed with %u delayed frames, dropped", be->ops->name, n);
	free(all->rx_buf);
	free(all);
	be->core->faults = NULL;
}
