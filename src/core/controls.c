/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * controls.c - operator controls of a handle that are not filters of
 * their own file: the source MAC a frontend may send from (mac=) and the
 * operator's side of the link (netbe_set_link_admin()).
 *
 * Theory of operation
 *
 * The link a frontend sees is up when both sides say so: the backend
 * (netbe_set_link(): a stream peer connected, a tap carrier) and the
 * operator (netbe_set_link_admin(), like QEMU's set_link). link_cb runs
 * when that combination changes. While the operator holds the link down,
 * the data path drops frames both ways and counts them (tx_link_down,
 * rx_link_down), so the backend's queues keep draining.
 *
 * mac= makes transmit drop, and count as tx_spoofed, every frame whose
 * source address is not the handle's (Firecracker only counts them).
 * The checks themselves are in the classification of netbe.c.
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "core.h"
#include "iov.h"
#include "log.h"

int controls_open(struct netbe *be, const struct netbe_spec *s)
{
	const char *mac = netbe_spec_get(s, "mac");

	if (!mac)
		return 0;
	if (netbe_mac_parse(mac, be->core->mac))
		return netbe_errf(-EINVAL, "%s: bad value '%s' for key 'mac': expected six hex bytes like 52:54:00:12:34:56",
				  be->ops->name, mac);
	if (be->core->mac[0] & 1)
		return netbe_errf(-EINVAL, "%s: mac=%s is a multicast address; give the frontend's unicast address",
				  be->ops->name, mac);
	be->core->mac_set = true;
	return 0;
}

bool controls_tx_spoofed(const struct netbe *be, const struct iovec *iov,
			 int iovcnt)
{
	uint8_t src[6];

	if (iov_to_buf(iov, iovcnt, be->fe_hdr_len + 6, src, sizeof(src)) != sizeof(src))
		return true;
	return memcmp(src, be->core->mac, sizeof(src)) != 0;
}

/* Tell the frontend when the link it sees changed from @was_up. */
static void link_report(struct netbe *be, bool was_up)
{
	bool up = core_link_up(be);

	if (up != was_up && be->cfg.link_cb)
		be->cfg.link_cb(be, up, be->cfg.opaque);
}

void netbe_set_link(struct netbe *be, bool up)
{
	bool was_up = core_link_up(be);

	__atomic_store_n(&be->link_down, !up, __ATOMIC_RELAXED);  /* read anywhere */
	link_report(be, was_up);
}

NETBE_EXPORT int netbe_set_link_admin(struct netbe *be, int up)
{
	bool was_up;

	if (!be)
		return netbe_errf(-EINVAL, "netbe_set_link_admin: handle is NULL");
	if (up != 0 && up != 1)
		return netbe_errf(-EINVAL, "netbe_set_link_admin: up is %d; pass 1 (up) or 0 (down)", up);
	was_up = core_link_up(be);
	__atomic_store_n(&be->core->admin_down, !up, __ATOMIC_RELAXED);
	link_report(be, was_up);
	if (up)
		netbe_rx_kick(be);
	return 0;
}

NETBE_EXPORT int netbe_get_link_admin(struct netbe *be)
{
	if (!be)
		return netbe_errf(-EINVAL, "netbe_get_link_admin: handle is NULL");
	return !__atomic_load_n(&be->core->admin_down, __ATOMIC_RELAXED);
}

NETBE_EXPORT int netbe_link_is_up(struct netbe *be)
{
	if (!be)
		return netbe_errf(-EINVAL, "netbe_link_is_up: handle is NULL");
	return core_link_up(be);
}
