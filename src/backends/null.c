/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * null.c - a sink: every frame sent is consumed and counted, nothing is
 * ever received. It takes every offload, since nothing looks inside.
 */
#include "backend.h"

static int null_open(struct netbe *be, const struct netbe_spec *spec)
{
	(void)spec;
	be->be_hdr_len = NETBE_VNET_HDR_LEN_MRG;
	be->native_caps = NETBE_F_HOST_OFFLOADS | NETBE_F_GUEST_OFFLOADS;
	return 0;
}

static void null_close(struct netbe *be)
{
	(void)be;
}

static int null_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	(void)be;
	(void)x;
	return (int)n;
}

static int null_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	(void)be;
	(void)x;
	(void)n;
	return 0;
}

static const struct netbe_key null_keys[] = { { NULL } };

const struct netbe_backend netbe_backend_null = {
	.name = "null",
	.help = "a sink: consumes every frame sent, never receives",
	.name_use = NETBE_NAME_NONE,
	.keys = null_keys,
	.open = null_open,
	.close = null_close,
	.send = null_send,
	.recv = null_recv,
};
