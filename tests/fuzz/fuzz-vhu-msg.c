/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-vhu-msg.c - libFuzzer target for the checks every received
 * vhost-user message passes (src/vhost/vhu_msg.c).
 *
 * Input: byte 0 is the number of file descriptors that came with the
 * message (0..255), byte 1 the device's queue count (0..255), then the
 * message as it arrives on the socket: a 12-byte header and whatever
 * follows, which is the payload however long it is (so truncated and
 * over-long payloads are both tried). The payload is copied into a buffer
 * of exactly its size, so ASan catches any read past it. Invariants (abort
 * when broken):
 *  - the result is 0, -EPROTO, -EINVAL or -EOPNOTSUPP, and a failure names
 *    a reason;
 *  - -EOPNOTSUPP only for requests the table does not implement, and the
 *    header check agrees with the full check on header-level failures;
 *  - an accepted message has a payload of exactly the size its request
 *    carries (recomputed here independently), exactly the fds it carries,
 *    ring indexes below the queue count, ring sizes that are powers of two
 *    up to 32768, and a memory table of 1..8 non-empty regions that wrap
 *    nothing and do not overlap in guest physical space.
 * Built with -fsanitize=fuzzer for real fuzzing, and with replay.c so the
 * seed corpus (tests/fuzz/corpus/vhu-msg) runs in every test run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhu_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-vhu-msg: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* The payload size request @r must have, or -1 when it varies. */
static long expected_size(uint32_t r)
{
	switch (r) {
	case VHU_GET_FEATURES: case VHU_SET_OWNER: case VHU_RESET_OWNER:
	case VHU_GET_PROTOCOL_FEATURES: case VHU_GET_QUEUE_NUM:
	case VHU_RESET_DEVICE: case VHU_GET_STATUS:
		return 0;
	case VHU_SET_FEATURES: case VHU_SET_PROTOCOL_FEATURES:
	case VHU_SET_VRING_KICK: case VHU_SET_VRING_CALL: case VHU_SET_VRING_ERR:
	case VHU_SET_STATUS:
	case VHU_SET_VRING_NUM: case VHU_SET_VRING_BASE: case VHU_GET_VRING_BASE:
	case VHU_SET_VRING_ENABLE:
		return 8;
	case VHU_SET_VRING_ADDR:
		return 40;
	}
	return -1;
}

/* Little helpers reading the payload at any alignment. */
static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* An accepted memory table: count, size, fds, regions. */
static void check_mem(const uint8_t *p, uint32_t size, unsigned nfds)
{
	uint32_t n = rd32(p), i, j;

	ASSERT(n >= 1 && n <= 8);
	ASSERT(size == 8 + 32 * n);
	ASSERT(nfds == n);
	for (i = 0; i < n; i++) {
		const uint8_t *r = p + 8 + 32 * i;
		uint64_t gpa = rd64(r), len = rd64(r + 8), ua = rd64(r + 16), off = rd64(r + 24);

		ASSERT(len > 0);
		ASSERT(gpa <= UINT64_MAX - len);
		ASSERT(ua <= UINT64_MAX - len);
		ASSERT(off <= (uint64_t)INT64_MAX - len);
		for (j = 0; j < i; j++) {
			const uint8_t *q = p + 8 + 32 * j;
			uint64_t g2 = rd64(q), l2 = rd64(q + 8);

			ASSERT(gpa + len <= g2 || g2 + l2 <= gpa);
		}
	}
}

/* An accepted message: everything the request's layout promises. */
static void check_accepted(const struct vhu_hdr *h, const uint8_t *p,
			   unsigned nfds, unsigned nq)
{
	long want = expected_size(h->request);
	uint64_t v = h->size >= 8 ? rd64(p) : 0;

	ASSERT((h->flags & 3) == 1 && !(h->flags & ~0xbu));
	ASSERT(vhu_request_name(h->request) != NULL);
	if (want >= 0)
		ASSERT(h->size == (uint32_t)want);
	switch (h->request) {
	case VHU_SET_MEM_TABLE:
		check_mem(p, h->size, nfds);
		return;
	case VHU_SET_VRING_KICK: case VHU_SET_VRING_CALL: case VHU_SET_VRING_ERR:
		ASSERT((v & 0xff) < nq && !(v & ~0x1ffull));
		ASSERT(nfds == ((v & 0x100) ? 0u : 1u));
		return;
	case VHU_SET_VRING_NUM:
		ASSERT(rd32(p + 4) >= 1 && rd32(p + 4) <= 32768 &&
		       !(rd32(p + 4) & (rd32(p + 4) - 1)));
		/* fall through */
	case VHU_SET_VRING_BASE: case VHU_GET_VRING_BASE: case VHU_SET_VRING_ENABLE:
	case VHU_SET_VRING_ADDR:
		ASSERT(rd32(p) < nq);
		break;
	}
	ASSERT(nfds == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_limits lim;
	struct vhu_hdr h;
	const char *why = NULL, *hwhy = NULL;
	unsigned nfds;
	uint8_t *payload;
	size_t len;
	int err, herr;

	if (size < 2 + sizeof(h))
		return 0;
	nfds = data[0];
	lim.nqueues = data[1];
	memcpy(&h, data + 2, sizeof(h));
	len = size - 2 - sizeof(h);
	payload = malloc(len ? len : 1);
	ASSERT(payload);
	memcpy(payload, data + 2 + sizeof(h), len);
	err = vhu_msg_check(&h, payload, len, nfds, &lim, &why);
	herr = vhu_hdr_check(&h, &hwhy);
	ASSERT(err == 0 || err == -EPROTO || err == -EINVAL || err == -EOPNOTSUPP);
	ASSERT(err == 0 || why != NULL);
	ASSERT(herr == 0 || hwhy != NULL);
	if (herr)
		ASSERT(err == herr);
	if (err == -EOPNOTSUPP)
		ASSERT(vhu_request_name(h.request) == NULL);
	if (err == 0) {
		ASSERT(len == h.size);
		check_accepted(&h, payload, nfds, lim.nqueues);
	}
	free(payload);
	return 0;
}
