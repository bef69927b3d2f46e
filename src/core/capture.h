/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture.h - per-handle packet capture (capture.c), seen from the data
 * path: one flag to test per burst, and the calls that write a burst.
 */
#ifndef NETBE_CAPTURE_H
#define NETBE_CAPTURE_H

#include <pthread.h>
#include <stdbool.h>

#include "netbe.h"
#include "spec.h"

struct capture_file;

/* A handle's capture: which file, its interface there, its counters. */
struct capture_state {
	pthread_mutex_t lock;          /* everything below; taken only while on */
	int on;                        /* atomic: frames are being written */
	struct capture_file *file;     /* NULL when stopped */
	unsigned if_id;                /* this handle's IDB in the file */
	unsigned snaplen;
	bool error_logged;             /* the write error of this capture */
	struct netbe_capture_stats st;
};

/* What the spec's capture keys asked for. */
struct capture_request {
	char *path;                    /* NULL: no capture= key */
	unsigned snaplen;
	enum netbe_capture_format format;
};

/** capture_init() - set up @cs, stopped. */
void capture_init(struct capture_state *cs);

/** capture_fini() - stop @be's capture if any and release @cs. */
void capture_fini(struct netbe *be);

/**
 * capture_spec() - read capture=, snaplen= and capture_format= from @s
 * Return: 0 (@req->path NULL without capture=), -EINVAL with a message for
 * a bad value or snaplen=/capture_format= without capture=, -ENOMEM.
 */
int capture_spec(const struct netbe_spec *s, struct capture_request *req);

/** capture_on() - whether @cs writes frames now; the data path's one test. */
static inline bool capture_on(struct capture_state *cs)
{
	return __atomic_load_n(&cs->on, __ATOMIC_RELAXED) != 0;
}

/**
 * capture_frames() - write the frames @f[0..n) of the frontend's burst
 * (frontend header of @hdr_len bytes first, f[i].result bytes in all) as
 * @outbound (sent by the frontend) or inbound ones. A frame shorter than
 * the header is skipped.
 * A write error stops the capture; the caller never sees it.
 */
void capture_frames(struct netbe *be, const struct netbe_frame *f, unsigned n,
		    unsigned hdr_len, bool outbound);

#endif /* NETBE_CAPTURE_H */
