/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vhu_msg.c - the shape of every vhost-user request netbe implements, and
 * the checks a received message passes before it is acted on.
 *
 * One table row per implemented request gives its payload size range, the
 * fds it carries and whether it is answered with a payload of its own.
 * The checks run in two steps because the payload is read only once its
 * size is known to fit: vhu_hdr_check() on the header, vhu_msg_check() on
 * the whole message. Requests outside the table are well formed or not by
 * the header alone (their payload is read and thrown away), and reported
 * as -EOPNOTSUPP so the server can answer them with a failure ack.
 */
#include <errno.h>
#include <string.h>

#include "vhu_msg.h"

/* How many fds a request carries. */
enum vhu_fds {
	FDS_NONE,
	FDS_VRING,      /* one, unless the payload's bit 8 says none */
	FDS_MEM,        /* one per memory region */
};

/* How the payload is laid out. */
enum vhu_shape {
	SHAPE_NONE,
	SHAPE_U64,
	SHAPE_STATE,
	SHAPE_ADDR,
	SHAPE_MEM,
};

struct vhu_req_info {
	const char *name;
	enum vhu_shape shape;
	enum vhu_fds fds;
	bool reply;                   /* answered with its own payload */
};

static const struct vhu_req_info req_info[VHU_REQUEST_MAX] = {
	[VHU_GET_FEATURES] = { "GET_FEATURES", SHAPE_NONE, FDS_NONE, true },
	[VHU_SET_FEATURES] = { "SET_FEATURES", SHAPE_U64, FDS_NONE, false },
	[VHU_SET_OWNER] = { "SET_OWNER", SHAPE_NONE, FDS_NONE, false },
	[VHU_RESET_OWNER] = { "RESET_OWNER", SHAPE_NONE, FDS_NONE, false },
	[VHU_SET_MEM_TABLE] = { "SET_MEM_TABLE", SHAPE_MEM, FDS_MEM, false },
	[VHU_SET_VRING_NUM] = { "SET_VRING_NUM", SHAPE_STATE, FDS_NONE, false },
	[VHU_SET_VRING_ADDR] = { "SET_VRING_ADDR", SHAPE_ADDR, FDS_NONE, false },
	[VHU_SET_VRING_BASE] = { "SET_VRING_BASE", SHAPE_STATE, FDS_NONE, false },
	[VHU_GET_VRING_BASE] = { "GET_VRING_BASE", SHAPE_STATE, FDS_NONE, true },
	[VHU_SET_VRING_KICK] = { "SET_VRING_KICK", SHAPE_U64, FDS_VRING, false },
	[VHU_SET_VRING_CALL] = { "SET_VRING_CALL", SHAPE_U64, FDS_VRING, false },
	[VHU_SET_VRING_ERR] = { "SET_VRING_ERR", SHAPE_U64, FDS_VRING, false },
	[VHU_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", SHAPE_NONE, FDS_NONE, true },
	[VHU_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", SHAPE_U64, FDS_NONE, false },
	[VHU_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", SHAPE_NONE, FDS_NONE, true },
	[VHU_SET_VRING_ENABLE] = { "SET_VRING_ENABLE", SHAPE_STATE, FDS_NONE, false },
	[VHU_RESET_DEVICE] = { "RESET_DEVICE", SHAPE_NONE, FDS_NONE, false },
	[VHU_SET_STATUS] = { "SET_STATUS", SHAPE_U64, FDS_NONE, false },
	[VHU_GET_STATUS] = { "GET_STATUS", SHAPE_NONE, FDS_NONE, true },
};

/** req_lookup() - the table row of @request. Return: it, or NULL when
 * netbe does not implement the request. */
static const struct vhu_req_info *req_lookup(uint32_t request)
{
	if (request >= VHU_REQUEST_MAX || !req_info[request].name)
		return NULL;
	return &req_info[request];
}

/** vhu_request_name() - see vhu_msg.h. */
const char *vhu_request_name(uint32_t request)
{
	const struct vhu_req_info *ri = req_lookup(request);

	return ri ? ri->name : NULL;
}

/** vhu_request_has_reply() - see vhu_msg.h. */
bool vhu_request_has_reply(uint32_t request)
{
	const struct vhu_req_info *ri = req_lookup(request);

	return ri && ri->reply;
}

/** fail() - set *@why. Return: @err. */
static int fail(const char **why, int err, const char *reason)
{
	*why = reason;
	return err;
}

/** shape_size_ok() - whether @size is a payload size @shape allows (the
 * exact size of a memory table depends on its count, checked later).
 * Return: true or false. */
static bool shape_size_ok(enum vhu_shape shape, uint32_t size)
{
	switch (shape) {
	case SHAPE_NONE:
		return size == 0;
	case SHAPE_U64:
		return size == sizeof(uint64_t);
	case SHAPE_STATE:
		return size == sizeof(struct vhu_vring_state);
	case SHAPE_ADDR:
		return size == sizeof(struct vhu_vring_addr);
	case SHAPE_MEM:
		return size >= 8 + sizeof(struct vhu_mem_region) &&
		       size <= sizeof(struct vhu_mem);
	}
	return false;
}

/** vhu_hdr_check() - see vhu_msg.h. */
int vhu_hdr_check(const struct vhu_hdr *hdr, const char **why)
{
	const struct vhu_req_info *ri;

	if ((hdr->flags & VHU_FLAG_VERSION) != VHU_VERSION)
		return fail(why, -EPROTO, "protocol version is not 1");
	if (hdr->flags & VHU_FLAG_REPLY)
		return fail(why, -EPROTO, "reply flag set on a request");
	if (hdr->flags & ~(VHU_FLAG_VERSION | VHU_FLAG_REPLY | VHU_FLAG_NEED_REPLY))
		return fail(why, -EPROTO, "reserved flag bits set");
	if (hdr->size > VHU_PAYLOAD_MAX)
		return fail(why, -EPROTO, "payload larger than any request's");
	ri = req_lookup(hdr->request);
	if (!ri)
		return fail(why, -EOPNOTSUPP, "request not implemented");
	if (!shape_size_ok(ri->shape, hdr->size))
		return fail(why, -EPROTO, "payload size does not match the request");
	return 0;
}

/** check_index() - a ring index from the payload. Return: 0 or -EINVAL. */
static int check_index(uint32_t index, const struct vhu_limits *lim,
		       const char **why)
{
	if (index >= lim->nqueues)
		return fail(why, -EINVAL, "vring index out of range");
	return 0;
}

/**
 * check_u64() - SET_VRING_KICK/CALL/ERR (index and no-fd bit, and the fd
 * that must come with it) and SET_STATUS (one status byte)
 * Return: 0, -EPROTO (fd count) or -EINVAL.
 */
static int check_u64(uint32_t request, uint64_t v, unsigned nfds,
		     const struct vhu_limits *lim, const char **why)
{
	if (request == VHU_SET_STATUS && v > 0xff)
		return fail(why, -EINVAL, "device status above one byte");
	if (req_info[request].fds != FDS_VRING)
		return 0;
	if (v & ~(uint64_t)(VHU_VRING_IDX_MASK | VHU_VRING_NOFD))
		return fail(why, -EINVAL, "reserved bits set in a vring fd request");
	if (nfds != ((v & VHU_VRING_NOFD) ? 0u : 1u))
		return fail(why, -EPROTO, "vring fd count does not match the no-fd flag");
	return check_index((uint32_t)(v & VHU_VRING_IDX_MASK), lim, why);
}

/** check_state() - SET_VRING_NUM/BASE/ENABLE, GET_VRING_BASE.
 * Return: 0 or -EINVAL. */
static int check_state(uint32_t request, const struct vhu_vring_state *s,
		       const struct vhu_limits *lim, const char **why)
{
	int err = check_index(s->index, lim, why);

	if (err)
		return err;
	switch (request) {
	case VHU_SET_VRING_NUM:
		if (s->num == 0 || s->num > VHU_VRING_NUM_MAX || (s->num & (s->num - 1)))
			return fail(why, -EINVAL, "vring size not a power of two up to 32768");
		break;
	case VHU_SET_VRING_BASE:
		if (s->num > 0xffff)
			return fail(why, -EINVAL, "vring base above 16 bits");
		break;
	case VHU_SET_VRING_ENABLE:
		if (s->num > 1)
			return fail(why, -EINVAL, "vring enable neither 0 nor 1");
		break;
	}
	return 0;
}

/** check_addr() - SET_VRING_ADDR. Return: 0 or -EINVAL. */
static int check_addr(const struct vhu_vring_addr *a,
		      const struct vhu_limits *lim, const char **why)
{
	if (a->flags & ~VHU_VRING_F_LOG)
		return fail(why, -EINVAL, "unknown vring address flags");
	return check_index(a->index, lim, why);
}

/** wraps() - whether [@start, @start + @len) passes 2^64. Return: true or
 * false. */
static bool wraps(uint64_t start, uint64_t len)
{
	return start + len < start;
}

/** check_region() - one memory region on its own. Return: 0 or -EINVAL. */
static int check_region(const struct vhu_mem_region *r, const char **why)
{
	if (r->size == 0)
		return fail(why, -EINVAL, "memory region of size 0");
	if (wraps(r->gpa, r->size))
		return fail(why, -EINVAL, "memory region wraps guest physical space");
	if (wraps(r->uaddr, r->size))
		return fail(why, -EINVAL, "memory region wraps the frontend's address space");
	if (wraps(r->mmap_offset, r->size) || r->mmap_offset + r->size > INT64_MAX)
		return fail(why, -EINVAL, "memory region's mmap offset + size out of range");
	return 0;
}

/** check_mem() - SET_MEM_TABLE: count, one fd per region, each region,
 * no two overlapping in guest physical space. Return: 0, -EPROTO or
 * -EINVAL. */
static int check_mem(const struct vhu_mem *m, uint32_t size, unsigned nfds,
		     const char **why)
{
	unsigned i, j;
	int err;

	if (m->nregions == 0 || m->nregions > VHU_MEM_REGIONS_MAX)
		return fail(why, -EINVAL, "memory table with 0 or more than 8 regions");
	if (size != 8 + m->nregions * sizeof(struct vhu_mem_region))
		return fail(why, -EPROTO, "memory table size does not match its region count");
	if (nfds != m->nregions)
		return fail(why, -EPROTO, "memory table fd count does not match its region count");
	for (i = 0; i < m->nregions; i++) {
		err = check_region(&m->r[i], why);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (m->r[i].gpa < m->r[j].gpa + m->r[j].size &&
			    m->r[j].gpa < m->r[i].gpa + m->r[i].size)
				return fail(why, -EINVAL, "memory regions overlap in guest physical space");
	}
	return 0;
}

/** vhu_msg_check() - see vhu_msg.h. */
int vhu_msg_check(const struct vhu_hdr *hdr, const void *payload, size_t len,
		  unsigned nfds, const struct vhu_limits *lim, const char **why)
{
	union vhu_payload p;
	const struct vhu_req_info *ri;
	int err = vhu_hdr_check(hdr, why);

	if (err)
		return err;
	if (len != hdr->size)
		return fail(why, -EPROTO, "truncated payload");
	ri = req_lookup(hdr->request);
	memset(&p, 0, sizeof(p));
	memcpy(&p, payload, len);
	if (ri->fds == FDS_NONE && nfds)
		return fail(why, -EPROTO, "unexpected file descriptors");
	switch (ri->shape) {
	case SHAPE_NONE:
		return 0;
	case SHAPE_U64:
		return check_u64(hdr->request, p.u64, nfds, lim, why);
	case SHAPE_STATE:
		return check_state(hdr->request, &p.state, lim, why);
	case SHAPE_ADDR:
		return check_addr(&p.addr, lim, why);
	case SHAPE_MEM:
		return check_mem(&p.mem, hdr->size, nfds, why);
	}
	return fail(why, -EPROTO, "request without a known layout");
}
