/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * throttle.c - rate limiting in core: the spec keys, rate groups, the
 * public calls, and the accounting the data path asks for.
 *
 * Theory of operation
 *
 * Every limited handle belongs to a group (rate_group=NAME, or a group of
 * its own) holding, per direction, the buckets of ratelimit.c under a
 * mutex. A handle's core->lim[d] points at its group's buckets while
 * direction d is limited and is NULL otherwise, so an unlimited handle
 * pays one branch on an atomic load. The pointer changes only under the
 * registry lock, and the buckets live as long as the group, which lives
 * until its last member closes: a sender that loaded the pointer may use
 * it for the rest of its call.
 *
 * Transmit knows each frame's cost before it sends: the frames at the
 * front of a burst take their tokens, the first that does not fit stops
 * the burst, and tokens of frames the backend then did not take are
 * given back. Receive does not know a frame's size before reading it:
 * the backend is read only while the buckets are not empty, as many
 * frames as the bytes left could hold at the largest frame size (at
 * least one), and delivered frames are charged, possibly into a debt of
 * at most one frame that the refill pays first.
 *
 * Held back: the direction is marked (thr[d], under thr_lock) with the
 * time and the cost it waits for, and the direction's loop is kicked (the
 * tx loop for tx with NETBE_CFG_TX_LOOP, else the handle's loop): on that
 * loop's thread netbe.c calls throttle_poll() for the direction, arms the
 * direction's own timer on that loop for the wait it returns, and calls
 * tx_cb / rx_cb when the direction is free again. So with a tx loop the
 * tx wake-up and tx_cb run on the tx loop's thread, the rx ones on the
 * main loop's.
 * Changing a limit kicks every member so a waiter re-checks at once.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "log.h"

#define GROUP_NAME_MAX 64
#define RL_SYNTAX "SIZE/REFILL_MS[/BURST] (SIZE and BURST a number with an optional k, M or G suffix, 1000-based, up to 10^15; REFILL_MS from 1 to 3600000)"

struct rl_group {
	char name[GROUP_NAME_MAX];    /* "" for a handle's own group */
	unsigned refs;
	struct rl_group *next;        /* in the registry, named groups only */
	struct netbe *members;        /* linked through core->rl_next */
	struct rl_shared dir[2];
};

static pthread_mutex_t groups_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rl_group *groups;

static const char *const dir_names[2] = { "tx", "rx" };

/* ------------------------------------------------------------------------ */
/* Spec keys                                                                */
/* ------------------------------------------------------------------------ */

/* Parse a number with an optional k/M/G suffix at *@p, moving *@p past it.
 * Return: true when it is one and fits RL_SIZE_MAX. */
static bool parse_size(const char **p, uint64_t *out)
{
	static const char suffix[] = "kMG";
	const char *s = *p, *sx;
	uint64_t v = 0, mult = 1;
	unsigned i;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > RL_SIZE_MAX)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	sx = *s ? strchr(suffix, *s) : NULL;
	if (sx) {
		for (i = (unsigned)(sx - suffix) + 1; i; i--)
			mult *= 1000;
		s++;
	}
	if (v > RL_SIZE_MAX / mult)
		return false;
	*out = v * mult;
	*p = s;
	return true;
}

/* Parse "SIZE/REFILL_MS[/BURST]" into @b. Return: true when well formed
 * and in range (SIZE at least 1). */
static bool parse_bucket(const char *v, struct netbe_token_bucket *b)
{
	const char *p = v;
	uint64_t burst = 0, refill = 0;

	if (!parse_size(&p, &b->size) || *p++ != '/' || !isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		if (refill > RL_REFILL_MS_MAX)
			return false;
		refill = refill * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '/') {
		p++;
		if (!parse_size(&p, &burst))
			return false;
	}
	b->refill_ms = refill;
	b->one_time_burst = burst;
	return !*p && b->size && !rl_check(b->size, refill, burst);
}

int throttle_parse(struct netbe *be, const struct netbe_spec *s,
		   struct throttle_spec *ts)
{
	static const char *const keys[2][2] = {
		{ "tx_bytes", "tx_ops" }, { "rx_bytes", "rx_ops" },
	};
	unsigned d, k;

	memset(ts, 0, sizeof(*ts));
	for (d = 0; d < 2; d++) {
		ts->dir[d].struct_size = sizeof(ts->dir[d]);
		for (k = 0; k < 2; k++) {
			const char *v = netbe_spec_get(s, keys[d][k]);
			struct netbe_token_bucket *b = k ? &ts->dir[d].ops : &ts->dir[d].bytes;

			if (!v)
				continue;
			if (!parse_bucket(v, b))
				return netbe_errf(-EINVAL, "%s: bad value '%s' for key '%s': expected %s",
						  be->ops->name, v, keys[d][k], RL_SYNTAX);
			ts->given[d] = true;
		}
	}
	ts->group = netbe_spec_get(s, "rate_group");
	if (ts->group && strlen(ts->group) >= GROUP_NAME_MAX)
		return netbe_errf(-EINVAL, "%s: rate_group '%s' is longer than %d characters",
				  be->ops->name, ts->group, GROUP_NAME_MAX - 1);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Groups                                                                   */
/* ------------------------------------------------------------------------ */

/* A new group called @name with no limits. Return: it, or NULL. */
static struct rl_group *group_new(const char *name)
{
	struct rl_group *g = calloc(1, sizeof(*g));
	unsigned d;

	if (!g)
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	for (d = 0; d < 2; d++) {
		pthread_mutex_init(&g->dir[d].lock, NULL);
		g->dir[d].cfg.struct_size = sizeof(g->dir[d].cfg);
	}
	return g;
}

/* Free group @g (no member left). */
static void group_free(struct rl_group *g)
{
	pthread_mutex_destroy(&g->dir[0].lock);
	pthread_mutex_destroy(&g->dir[1].lock);
	free(g);
}

/* The named group @name, or NULL. Caller holds groups_lock. */
static struct rl_group *group_find(const char *name)
{
	struct rl_group *g;

	for (g = groups; g && strcmp(g->name, name); g = g->next)
		;
	return g;
}

/* Add @be to @g. Caller holds groups_lock. */
static void group_join(struct rl_group *g, struct netbe *be)
{
	unsigned d;

	g->refs++;
	be->core->rl_group = g;
	be->core->rl_next = g->members;
	g->members = be;
	for (d = 0; d < 2; d++)
		__atomic_store_n(&be->core->lim[d],
				 rl_limit_limited(&g->dir[d].lim) ? &g->dir[d] : NULL,
				 __ATOMIC_RELEASE);
}

/* Set direction @d of @g to @cfg (checked), buckets full, and wake every
 * member. Caller holds groups_lock. */
static void group_set(struct rl_group *g, unsigned d,
		      const struct netbe_rate_limit *cfg)
{
	struct rl_shared *sh = &g->dir[d];
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC);
	struct netbe *m;
	bool limited;

	pthread_mutex_lock(&sh->lock);
	rl_bucket_init(&sh->lim.bytes, cfg->bytes.size, cfg->bytes.refill_ms,
		       cfg->bytes.one_time_burst, now);
	rl_bucket_init(&sh->lim.ops, cfg->ops.size, cfg->ops.refill_ms,
		       cfg->ops.one_time_burst, now);
	sh->cfg.bytes = cfg->bytes;
	sh->cfg.ops = cfg->ops;
	limited = rl_limit_limited(&sh->lim);
	pthread_mutex_unlock(&sh->lock);
	for (m = g->members; m; m = m->core->rl_next) {
		__atomic_store_n(&m->core->lim[d], limited ? sh : NULL, __ATOMIC_RELEASE);
		core_throttle_kick(m, d);
	}
}

/* Do the buckets of @a and @b agree? */
static bool same_limit(const struct netbe_rate_limit *a,
		       const struct netbe_rate_limit *b)
{
	return !memcmp(&a->bytes, &b->bytes, sizeof(a->bytes)) &&
	       !memcmp(&a->ops, &b->ops, sizeof(a->ops));
}

/* Join the named group of @ts (created if new) and check or set its
 * limits. Caller holds groups_lock. Return: 0 or -errno (message). */
static int attach_named(struct netbe *be, const struct throttle_spec *ts)
{
	struct rl_group *g = group_find(ts->group);
	unsigned d;

	if (g) {
		for (d = 0; d < 2; d++)
			if (ts->given[d] && !same_limit(&g->dir[d].cfg, &ts->dir[d]))
				return netbe_errf(-EINVAL, "%s: rate_group '%s' already has another %s limit: give the same %s_bytes/%s_ops or none (netbe_set_rate_limit() changes a group's limits)",
						  be->ops->name, ts->group, dir_names[d],
						  dir_names[d], dir_names[d]);
	} else {
		g = group_new(ts->group);
		if (!g)
			return netbe_errf(-ENOMEM, "%s: out of memory", be->ops->name);
		g->next = groups;
		groups = g;
		for (d = 0; d < 2; d++)
			if (ts->given[d])
				group_set(g, d, &ts->dir[d]);
	}
	group_join(g, be);
	return 0;
}

int throttle_attach(struct netbe *be, const struct throttle_spec *ts)
{
	struct rl_group *g;
	unsigned d;
	int ret = 0;

	if (!ts->group && !ts->given[NB_TX] && !ts->given[NB_RX])
		return 0;
	pthread_mutex_lock(&groups_lock);
	if (ts->group) {
		ret = attach_named(be, ts);
	} else if ((g = group_new(""))) {
		group_join(g, be);
		for (d = 0; d < 2; d++)
			if (ts->given[d])
				group_set(g, d, &ts->dir[d]);
	} else {
		ret = netbe_errf(-ENOMEM, "%s: out of memory", be->ops->name);
	}
	pthread_mutex_unlock(&groups_lock);
	return ret;
}

/* Unlink named group @g from the registry. Caller holds groups_lock. */
static void group_unlink(struct rl_group *g)
{
	struct rl_group **pp;

	for (pp = &groups; *pp && *pp != g; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = g->next;
}

void throttle_detach(struct netbe *be)
{
	struct netbe_core_state *c = be->core;
	struct rl_group *g;
	struct netbe **pp;

	pthread_mutex_lock(&groups_lock);
	g = c->rl_group;
	if (g) {
		for (pp = &g->members; *pp != be; pp = &(*pp)->core->rl_next)
			;
		*pp = c->rl_next;
		c->rl_group = NULL;
		c->lim[NB_TX] = c->lim[NB_RX] = NULL;
		if (!--g->refs) {
			group_unlink(g);
			group_free(g);
		}
	}
	pthread_mutex_unlock(&groups_lock);
}

/* ------------------------------------------------------------------------ */
/* Public calls                                                             */
/* ------------------------------------------------------------------------ */

/* The size of the first version of struct netbe_rate_limit. */
#define RL_STRUCT_V1 sizeof(struct netbe_rate_limit)

/* Check the arguments common to set and get. Return: 0 or -EINVAL. */
static int check_args(const char *fn, struct netbe *be, int dir, const void *rl)
{
	if (!be || !rl)
		return netbe_errf(-EINVAL, "%s: handle or limit is NULL", fn);
	if (dir != NETBE_DIR_TX && dir != NETBE_DIR_RX)
		return netbe_errf(-EINVAL, "%s: direction %d is not NETBE_DIR_TX or NETBE_DIR_RX",
				  fn, dir);
	if (*(const uint32_t *)rl < RL_STRUCT_V1)
		return netbe_errf(-EINVAL, "%s: struct_size %u is below %zu: set it to sizeof(struct netbe_rate_limit)",
				  fn, *(const uint32_t *)rl, RL_STRUCT_V1);
	return 0;
}

/* Check the values of @rl. Return: 0 or -EINVAL naming the bucket. */
static int check_values(const struct netbe_rate_limit *rl)
{
	const unsigned char *tail = (const unsigned char *)rl + RL_STRUCT_V1;
	const char *why;
	size_t i;

	for (i = 0; i < rl->struct_size - RL_STRUCT_V1; i++)
		if (tail[i])
			return netbe_errf(-EINVAL, "netbe_set_rate_limit: struct_size %u has non-zero fields this library does not know (it knows %zu bytes)",
					  rl->struct_size, RL_STRUCT_V1);
	if (rl->reserved)
		return netbe_errf(-EINVAL, "netbe_set_rate_limit: reserved is not 0");
	why = rl_check(rl->bytes.size, rl->bytes.refill_ms, rl->bytes.one_time_burst);
	if (why)
		return netbe_errf(-EINVAL, "netbe_set_rate_limit: bytes bucket: %s", why);
	why = rl_check(rl->ops.size, rl->ops.refill_ms, rl->ops.one_time_burst);
	if (why)
		return netbe_errf(-EINVAL, "netbe_set_rate_limit: ops bucket: %s", why);
	return 0;
}

NETBE_EXPORT int netbe_set_rate_limit(struct netbe *be, enum netbe_direction dir,
				      const struct netbe_rate_limit *rl)
{
	struct rl_group *g;
	int ret = check_args("netbe_set_rate_limit", be, (int)dir, rl);

	if (!ret)
		ret = check_values(rl);
	if (ret)
		return ret;
	pthread_mutex_lock(&groups_lock);
	g = be->core->rl_group;
	if (!g && (g = group_new("")))
		group_join(g, be);
	if (g)
		group_set(g, dir, rl);
	pthread_mutex_unlock(&groups_lock);
	return g ? 0 : netbe_errf(-ENOMEM, "netbe_set_rate_limit: out of memory");
}

NETBE_EXPORT int netbe_get_rate_limit(struct netbe *be, enum netbe_direction dir,
				      struct netbe_rate_limit *rl)
{
	struct netbe_rate_limit cur = { .struct_size = sizeof(cur) };
	uint32_t size;
	int ret = check_args("netbe_get_rate_limit", be, (int)dir, rl);

	if (ret)
		return ret;
	size = rl->struct_size;
	pthread_mutex_lock(&groups_lock);
	if (be->core->rl_group) {
		struct rl_shared *sh = &be->core->rl_group->dir[dir];

		pthread_mutex_lock(&sh->lock);
		cur = sh->cfg;
		pthread_mutex_unlock(&sh->lock);
	}
	pthread_mutex_unlock(&groups_lock);
	memset((char *)rl + RL_STRUCT_V1, 0, size - RL_STRUCT_V1);
	memcpy(rl, &cur, RL_STRUCT_V1);
	rl->struct_size = size;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Data path                                                                */
/* ------------------------------------------------------------------------ */

/* Return: the cost of frame @f in bytes (its payload, without header). */
static uint64_t frame_cost(const struct netbe *be, const struct netbe_frame *f)
{
	size_t len = 0;
	int i;

	for (i = 0; i < f->iovcnt; i++)
		len += f->iov[i].iov_len;
	return len > be->fe_hdr_len ? len - be->fe_hdr_len : 0;
}

/* Direction @d of @be is held back waiting for @need bytes: note it and
 * have the loop arm the timer (on the first refusal only). */
static void throttle_start(struct netbe *be, unsigned d, uint64_t need)
{
	struct netbe_core_state *c = be->core;
	struct throttle_dir *t = &c->thr[d];
	bool first;

	pthread_mutex_lock(&c->thr_lock);
	first = !t->on;
	t->need = need;
	if (first) {
		__atomic_store_n(&t->on, true, __ATOMIC_RELEASE);
		t->since_ns = nb_clock_ns(CLOCK_MONOTONIC);
		if (d == NB_TX)
			be->stats.tx_throttled++;
		else
			be->stats.rx_throttled++;
	}
	pthread_mutex_unlock(&c->thr_lock);
	if (first)
		core_throttle_kick(be, d);
}

unsigned throttle_tx_admit(struct netbe *be, struct rl_shared *sh,
			   const struct netbe_frame *f, unsigned n)
{
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC), cost = 0;
	unsigned i;

	pthread_mutex_lock(&sh->lock);
	for (i = 0; i < n; i++) {
		cost = frame_cost(be, &f[i]);
		if (!rl_limit_take(&sh->lim, now, cost))
			break;
	}
	pthread_mutex_unlock(&sh->lock);
	if (i < n)
		throttle_start(be, NB_TX, cost);
	return i;
}

void throttle_tx_refund(struct netbe *be, struct rl_shared *sh,
			const struct netbe_frame *f, unsigned n)
{
	uint64_t bytes = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		bytes += frame_cost(be, &f[i]);
	pthread_mutex_lock(&sh->lock);
	rl_limit_refund(&sh->lim, n, bytes);
	pthread_mutex_unlock(&sh->lock);
}

unsigned throttle_rx_gate(struct netbe *be, struct rl_shared *sh, unsigned want)
{
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC);
	unsigned k;

	pthread_mutex_lock(&sh->lock);
	k = rl_limit_frames(&sh->lim, now, be->rx_max - be->be_hdr_len, want);
	pthread_mutex_unlock(&sh->lock);
	if (!k)
		throttle_start(be, NB_RX, 1);
	return k;
}

void throttle_rx_charge(struct netbe *be, struct rl_shared *sh,
			const struct netbe_frame *f, unsigned n)
{
	uint64_t bytes = 0;
	unsigned i;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		bytes += (uint64_t)f[i].result - be->fe_hdr_len;
	pthread_mutex_lock(&sh->lock);
	rl_limit_charge(&sh->lim, nb_clock_ns(CLOCK_MONOTONIC), n, bytes);
	pthread_mutex_unlock(&sh->lock);
}

/* How long direction @d still waits for its tokens (0: free). Caller
 * holds thr_lock. */
static uint64_t dir_wait(struct netbe *be, unsigned d, uint64_t now)
{
	struct rl_shared *sh = __atomic_load_n(&be->core->lim[d], __ATOMIC_ACQUIRE);
	uint64_t w;

	if (!sh)
		return 0;
	pthread_mutex_lock(&sh->lock);
	w = rl_limit_wait_ns(&sh->lim, now, be->core->thr[d].need);
	pthread_mutex_unlock(&sh->lock);
	return w;
}

unsigned throttle_poll(struct netbe *be, unsigned d, uint64_t *wait_ns)
{
	struct netbe_core_state *c = be->core;
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC);
	uint64_t *ns = d == NB_TX ? &be->stats.tx_throttled_ns : &be->stats.rx_throttled_ns;
	unsigned bits = 0;

	*wait_ns = 0;
	pthread_mutex_lock(&c->thr_lock);
	if (c->thr[d].on) {
		*wait_ns = dir_wait(be, d, now);
		if (*wait_ns) {
			bits = THR_HELD(d);
		} else {
			__atomic_store_n(&c->thr[d].on, false, __ATOMIC_RELEASE);
			*ns += now - c->thr[d].since_ns;
			bits = THR_READY(d);
		}
	}
	pthread_mutex_unlock(&c->thr_lock);
	return bits;
}

void throttle_stats(struct netbe *be, struct netbe_stats *st)
{
	struct netbe_core_state *c = be->core;
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC);

	pthread_mutex_lock(&c->thr_lock);
	st->tx_throttled = be->stats.tx_throttled;
	st->rx_throttled = be->stats.rx_throttled;
	st->tx_throttled_ns = be->stats.tx_throttled_ns +
		(c->thr[NB_TX].on ? now - c->thr[NB_TX].since_ns : 0);
	st->rx_throttled_ns = be->stats.rx_throttled_ns +
		(c->thr[NB_RX].on ? now - c->thr[NB_RX].since_ns : 0);
	pthread_mutex_unlock(&c->thr_lock);
}
