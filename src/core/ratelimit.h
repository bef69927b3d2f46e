/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.h - token buckets (Firecracker's RateLimiter model), pure:
 * no locks, no clock of their own. Every call takes the time in
 * nanoseconds from the caller, so tests drive a fake clock.
 *
 * A bucket holds up to @size tokens and refills @size tokens in
 * @refill_ms from empty, linearly; it starts full, plus a one-time burst
 * that is spent first and never refilled. A limit is two buckets, bytes
 * and ops (frames); a frame costs its payload bytes and one op.
 *
 * The rule for a frame larger than the bucket: it is admitted once the
 * bucket is full (as many tokens as the bucket can ever hold) and takes
 * them all, leaving a debt (a negative budget) that the refill pays off
 * before anything else is admitted. So every frame passes eventually and
 * the long-term rate is exactly size/refill. charge() takes tokens
 * unconditionally (a received frame, whose size is only known once read),
 * with the same debt.
 */
#ifndef NETBE_RATELIMIT_H
#define NETBE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Largest size and burst, and largest refill time, a bucket accepts. */
#define RL_SIZE_MAX 1000000000000000ULL     /* 10^15 tokens */
#define RL_REFILL_MS_MAX 3600000ULL         /* one hour */

struct rl_bucket {
	uint64_t size;          /* 0: no limit */
	uint64_t refill_ns;     /* time to refill @size tokens from empty */
	uint64_t burst;         /* one-time burst tokens left */
	int64_t budget;         /* tokens now; negative: a debt */
	uint64_t last_ns;       /* time the budget was last refilled to */
};

/* A direction's limit: both buckets must admit a frame. */
struct rl_limit {
	struct rl_bucket bytes, ops;
};

/**
 * rl_bucket_init() - a full bucket of @size tokens refilled in
 * @refill_ms, with @burst extra one-time tokens, at time @now
 * (@size 0: no limit). The values must be in range (rl_check()).
 */
void rl_bucket_init(struct rl_bucket *b, uint64_t size, uint64_t refill_ms,
		    uint64_t burst, uint64_t now);

/**
 * rl_check() - are @size, @refill_ms and @burst a valid bucket?
 * Return: NULL when valid (@size 0 is "no limit" and needs the others 0),
 * else what is wrong, as a phrase for a message.
 */
const char *rl_check(uint64_t size, uint64_t refill_ms, uint64_t burst);

/** rl_bucket_limited() - does @b limit anything? */
static inline bool rl_bucket_limited(const struct rl_bucket *b)
{
	return b->size != 0;
}

/**
 * rl_bucket_wait_ns() - how long until @b admits @cost tokens at @now
 * Return: 0 when it admits them now, else the nanoseconds to wait (at
 * least 1).
 */
uint64_t rl_bucket_wait_ns(struct rl_bucket *b, uint64_t now, uint64_t cost);

/**
 * rl_bucket_take() - take @cost tokens if @b admits them at @now (see the
 * rule for large frames above). Return: true when taken.
 */
bool rl_bucket_take(struct rl_bucket *b, uint64_t now, uint64_t cost);

/** rl_bucket_charge() - take @cost tokens at @now whatever the budget. */
void rl_bucket_charge(struct rl_bucket *b, uint64_t now, uint64_t cost);

/** rl_bucket_refund() - give back @cost tokens taken for a frame that was
 * not sent after all (never above the bucket's size). */
void rl_bucket_refund(struct rl_bucket *b, uint64_t cost);

/** rl_limit_limited() - does @l limit anything? */
static inline bool rl_limit_limited(const struct rl_limit *l)
{
	return rl_bucket_limited(&l->bytes) || rl_bucket_limited(&l->ops);
}

/**
 * rl_limit_wait_ns() - how long until @l admits a frame of @bytes at @now
 * Return: 0 now, else the nanoseconds to wait.
 */
uint64_t rl_limit_wait_ns(struct rl_limit *l, uint64_t now, uint64_t bytes);

/**
 * rl_limit_take() - take one op and @bytes from @l if both buckets admit
 * them at @now; nothing is taken otherwise. Return: true when taken.
 */
bool rl_limit_take(struct rl_limit *l, uint64_t now, uint64_t bytes);

/** rl_limit_charge() - take @ops and @bytes from @l whatever it holds. */
void rl_limit_charge(struct rl_limit *l, uint64_t now, uint64_t ops,
		     uint64_t bytes);

/** rl_limit_refund() - give back @ops and @bytes. */
void rl_limit_refund(struct rl_limit *l, uint64_t ops, uint64_t bytes);

/**
 * rl_limit_frames() - how many frames @l could take now if each had at
 * most @frame_max bytes (at least 1 when it admits any: it may then go
 * into debt by one frame). Return: that count, capped at @cap; 0 when it
 * is empty.
 */
unsigned rl_limit_frames(struct rl_limit *l, uint64_t now, uint64_t frame_max,
			 unsigned cap);

#endif /* NETBE_RATELIMIT_H */
