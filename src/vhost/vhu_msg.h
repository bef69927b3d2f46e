/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vhu_msg.h - vhost-user messages as they travel on the socket, and the one
 * check every received message passes before anything acts on it.
 *
 * Everything here is pure: no I/O, no state but what the caller passes in.
 * A message is a 12-byte header (request, flags, payload size) followed by
 * the payload, in the host's byte order (vhost-user is a local protocol),
 * with file descriptors riding along as SCM_RIGHTS on its first byte. The
 * frontend controls every byte and every fd, so vhu_msg_check() decides
 * whether a message is well formed against the request's layout: exact
 * sizes (or the allowed range), version and flag bits, exactly the fds the
 * request carries, memory regions that do not wrap or overlap, ring
 * indexes below the queue count, ring sizes the virtio spec allows.
 */
#ifndef NETBE_VHU_MSG_H
#define NETBE_VHU_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Requests from the frontend (vhost-user.rst, "Front-end message types"). */
enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_LOG_BASE = 6,
	VHU_SET_LOG_FD = 7,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_SEND_RARP = 19,
	VHU_NET_SET_MTU = 20,
	VHU_SET_BACKEND_REQ_FD = 21,
	VHU_IOTLB_MSG = 22,
	VHU_SET_VRING_ENDIAN = 23,
	VHU_GET_CONFIG = 24,
	VHU_SET_CONFIG = 25,
	VHU_RESET_DEVICE = 34,
	VHU_GET_MAX_MEM_SLOTS = 36,
	VHU_SET_STATUS = 39,
	VHU_GET_STATUS = 40,
	VHU_REQUEST_MAX = 64          /* request numbers are below this */
};

/* Feature bit 30 of GET/SET_FEATURES: protocol features are offered. */
#define VHU_F_PROTOCOL_FEATURES (1ULL << 30)

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
#define VHU_PF_MQ           (1ULL << 0)
#define VHU_PF_LOG_SHMFD    (1ULL << 1)
#define VHU_PF_REPLY_ACK    (1ULL << 3)
#define VHU_PF_RESET_DEVICE (1ULL << 13)
#define VHU_PF_STATUS       (1ULL << 16)

/* Header flags. */
#define VHU_VERSION         0x1u
#define VHU_FLAG_VERSION    0x3u      /* bits 0-1: the protocol version */
#define VHU_FLAG_REPLY      0x4u
#define VHU_FLAG_NEED_REPLY 0x8u

#define VHU_HDR_SIZE        12u
#define VHU_MEM_REGIONS_MAX 8u        /* without CONFIGURE_MEM_SLOTS */
/* The largest payload read: more than any request a net device meets
 * (GET_CONFIG, the largest, has 12 + 256 bytes); a header announcing more
 * closes the connection. */
#define VHU_PAYLOAD_MAX     512u
#define VHU_FDS_MAX         VHU_MEM_REGIONS_MAX
#define VHU_VRING_NUM_MAX   32768u
#define VHU_VRING_IDX_MASK  0xffu     /* SET_VRING_KICK/CALL/ERR payload */
#define VHU_VRING_NOFD      0x100u    /* ... bit 8: no fd comes with it */
#define VHU_VRING_F_LOG     0x1u      /* vring address flags: log writes */

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;                /* payload bytes after the header */
};
_Static_assert(sizeof(struct vhu_hdr) == VHU_HDR_SIZE, "vhost-user header layout");

/* SET_VRING_NUM/BASE/ENABLE, GET_VRING_BASE and its reply. */
struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

/* SET_VRING_ADDR: ring addresses in the frontend's address space. */
struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;               /* VHU_VRING_F_LOG */
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;                 /* guest physical; used only for logging */
};

struct vhu_mem_region {
	uint64_t gpa;                 /* guest physical address */
	uint64_t size;
	uint64_t uaddr;               /* the frontend's virtual address */
	uint64_t mmap_offset;         /* where the region starts in its fd */
};

/* SET_MEM_TABLE: one fd per region, in order. */
struct vhu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_mem_region r[VHU_MEM_REGIONS_MAX];
};

union vhu_payload {
	uint64_t u64;
	struct vhu_vring_state state;
	struct vhu_vring_addr addr;
	struct vhu_mem mem;
	uint8_t raw[VHU_PAYLOAD_MAX];
};

/* A message in memory: on the socket the payload follows the header at
 * once; here it is aligned for its u64 fields (so not one flat buffer). */
struct vhu_msg {
	struct vhu_hdr hdr;
	union vhu_payload p;
};

/* What the checks know about the device. */
struct vhu_limits {
	unsigned nqueues;             /* ring indexes are below this */
};

/** vhu_request_name() - the request's name for log lines ("request 99"
 * style text is the caller's job). Return: a static string, or NULL when
 * the number is not one vhu_msg_check() knows. */
const char *vhu_request_name(uint32_t request);

/** vhu_request_has_reply() - whether @request is answered with a payload
 * of its own (GET_*), so NEED_REPLY does not add an ack.
 * Return: true or false. */
bool vhu_request_has_reply(uint32_t request);

/**
 * vhu_hdr_check() - check a header before its payload is read
 * @why: set to a one-line reason on failure
 * Return: 0; -EPROTO (version or reserved flag bits, a reply flag on a
 * request, a size above VHU_PAYLOAD_MAX, so the payload cannot be read
 * safely); or -EOPNOTSUPP for a well formed header of a request this
 * backend does not implement (its payload can be read and discarded).
 */
int vhu_hdr_check(const struct vhu_hdr *hdr, const char **why);

/**
 * vhu_msg_check() - check a whole received message
 * @payload: @len bytes as received (any alignment)
 * @nfds: file descriptors that came with it
 * @why: set to a one-line reason on failure
 * Return: 0 when the message may be acted on; -EPROTO when its shape is
 * wrong (header, size not what the request carries, a fd count other than
 * the request's, @len != hdr->size); -EINVAL when the shape is right but a
 * value is not (ring index, ring size, memory regions, flags); or
 * -EOPNOTSUPP as vhu_hdr_check().
 */
int vhu_msg_check(const struct vhu_hdr *hdr, const void *payload, size_t len,
		  unsigned nfds, const struct vhu_limits *lim, const char **why);

#endif /* NETBE_VHU_MSG_H */
