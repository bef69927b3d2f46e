/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.c - token buckets (see ratelimit.h for the model and the rule
 * for frames larger than a bucket).
 *
 * Theory of operation: a bucket refills lazily, when it is asked: the
 * tokens earned since last_ns are floor(elapsed * size / refill_ns), and
 * last_ns advances only by the time those whole tokens took, so the
 * fractions are never lost or doubled and the long-term rate is exact. A
 * full bucket earns nothing (last_ns follows the clock). The products
 * are taken in 128 bits: size (10^15) times an elapsed time does not fit
 * 64. The one-time burst is spent before the budget and never refilled;
 * refunds go to the budget, never above the size.
 */
#include <stddef.h>

#include "ratelimit.h"

/* Return: a * b / c, rounded down (c > 0). */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	__extension__ unsigned __int128 p = (unsigned __int128)a * b;

	p /= c;
	return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
}

/* Return: a * b / c, rounded up (c > 0). */
static uint64_t muldiv_up(uint64_t a, uint64_t b, uint64_t c)
{
	__extension__ unsigned __int128 p = (unsigned __int128)a * b;

	p = (p + c - 1) / c;
	return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
}

const char *rl_check(uint64_t size, uint64_t refill_ms, uint64_t burst)
{
	if (!size)
		return refill_ms || burst ? "a size of 0 means no limit and takes no refill time or burst"
					  : NULL;
	if (size > RL_SIZE_MAX)
		return "the size is above 10^15 (1000000G)";
	if (!refill_ms || refill_ms > RL_REFILL_MS_MAX)
		return "the refill time is not from 1 to 3600000 ms";
	if (burst > RL_SIZE_MAX)
		return "the burst is above 10^15 (1000000G)";
	return NULL;
}

void rl_bucket_init(struct rl_bucket *b, uint64_t size, uint64_t refill_ms,
		    uint64_t burst, uint64_t now)
{
	b->size = size;
	b->refill_ns = refill_ms * 1000000ULL;
	b->burst = size ? burst : 0;
	b->budget = (int64_t)size;
	b->last_ns = now;
}

/* Add the tokens earned since b->last_ns, up to the size. */
static void refill(struct rl_bucket *b, uint64_t now)
{
	uint64_t earned, room;

	if (now <= b->last_ns)
		return;
	if (b->budget >= (int64_t)b->size) {
		b->last_ns = now;
		return;
	}
	earned = muldiv(now - b->last_ns, b->size, b->refill_ns);
	room = (uint64_t)((int64_t)b->size - b->budget);
	if (earned >= room) {
		b->budget = (int64_t)b->size;
		b->last_ns = now;
		return;
	}
	b->budget += (int64_t)earned;
	b->last_ns += muldiv(earned, b->refill_ns, b->size);
}

/* Tokens the bucket must hold to admit @cost: a frame larger than the
 * bucket waits for a full bucket. */
static int64_t need_of(const struct rl_bucket *b, uint64_t cost)
{
	return (int64_t)(cost < b->size ? cost : b->size);
}

/* Return: burst plus budget (negative while in debt). */
static int64_t avail_of(const struct rl_bucket *b)
{
	return (int64_t)b->burst + b->budget;
}

uint64_t rl_bucket_wait_ns(struct rl_bucket *b, uint64_t now, uint64_t cost)
{
	int64_t missing;
	uint64_t ns;

	if (!b->size)
		return 0;
	refill(b, now);
	missing = need_of(b, cost) - avail_of(b);
	if (missing <= 0)
		return 0;
	ns = muldiv_up((uint64_t)missing, b->refill_ns, b->size);
	return ns ? ns : 1;
}

void rl_bucket_charge(struct rl_bucket *b, uint64_t now, uint64_t cost)
{
	uint64_t from_burst = cost < b->burst ? cost : b->burst;

	if (!b->size)
		return;
	refill(b, now);
	b->burst -= from_burst;
	b->budget -= (int64_t)(cost - from_burst);
}

bool rl_bucket_take(struct rl_bucket *b, uint64_t now, uint64_t cost)
{
	if (rl_bucket_wait_ns(b, now, cost))
		return false;
	rl_bucket_charge(b, now, cost);
	return true;
}

void rl_bucket_refund(struct rl_bucket *b, uint64_t cost)
{
	if (!b->size)
		return;
	if (cost >= (uint64_t)((int64_t)b->size - b->budget))
		b->budget = (int64_t)b->size;
	else
		b->budget += (int64_t)cost;
}

uint64_t rl_limit_wait_ns(struct rl_limit *l, uint64_t now, uint64_t bytes)
{
	uint64_t wb = rl_bucket_wait_ns(&l->bytes, now, bytes);
	uint64_t wo = rl_bucket_wait_ns(&l->ops, now, 1);

	return wb > wo ? wb : wo;
}

bool rl_limit_take(struct rl_limit *l, uint64_t now, uint64_t bytes)
{
	if (rl_limit_wait_ns(l, now, bytes))
		return false;
	rl_limit_charge(l, now, 1, bytes);
	return true;
}

void rl_limit_charge(struct rl_limit *l, uint64_t now, uint64_t ops,
		     uint64_t bytes)
{
	rl_bucket_charge(&l->bytes, now, bytes);
	rl_bucket_charge(&l->ops, now, ops);
}

void rl_limit_refund(struct rl_limit *l, uint64_t ops, uint64_t bytes)
{
	rl_bucket_refund(&l->bytes, bytes);
	rl_bucket_refund(&l->ops, ops);
}

/* How many frames of @unit tokens bucket @b admits now: at least 1 while
 * it is not empty, at most @cap. */
static unsigned bucket_frames(struct rl_bucket *b, uint64_t now, uint64_t unit,
			      unsigned cap)
{
	int64_t avail;
	uint64_t n;

	if (!b->size)
		return cap;
	refill(b, now);
	avail = avail_of(b);
	if (avail <= 0)
		return 0;
	n = (uint64_t)avail / (unit ? unit : 1);
	if (!n)
		n = 1;
	return n < cap ? (unsigned)n : cap;
}

unsigned rl_limit_frames(struct rl_limit *l, uint64_t now, uint64_t frame_max,
			 unsigned cap)
{
	cap = bucket_frames(&l->bytes, now, frame_max, cap);
	return bucket_frames(&l->ops, now, 1, cap);
}
