/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * registry.c - the explicit table of built-in backends and its lookup.
 *
 * No constructors, no linker sets: a backend is in when it is listed here,
 * and optional ones are listed when meson found their dependency
 * (config.h). Lookup is exact on names and aliases.
 */
#include <errno.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "log.h"

extern const struct netbe_backend netbe_backend_af_packet;
extern const struct netbe_backend netbe_backend_dgram;
extern const struct netbe_backend netbe_backend_mcast;
extern const struct netbe_backend netbe_backend_null;
extern const struct netbe_backend netbe_backend_pair;
extern const struct netbe_backend netbe_backend_stream;
extern const struct netbe_backend netbe_backend_tap;
extern const struct netbe_backend netbe_backend_vxlan;
#if NETBE_HAVE_SLIRP
extern const struct netbe_backend netbe_backend_slirp;
#endif
#if NETBE_HAVE_VDE
extern const struct netbe_backend netbe_backend_vde;
#endif
#if NETBE_HAVE_AF_XDP
extern const struct netbe_backend netbe_backend_af_xdp;
#endif
#if NETBE_HAVE_NETMAP
extern const struct netbe_backend netbe_backend_netmap;
extern const struct netbe_backend netbe_backend_vale;
#endif

const struct netbe_backend *const netbe_backends[] = {
	&netbe_backend_tap,
	&netbe_backend_af_packet,
#if NETBE_HAVE_AF_XDP
	&netbe_backend_af_xdp,
#endif
#if NETBE_HAVE_NETMAP
	&netbe_backend_netmap,
	&netbe_backend_vale,
#endif
#if NETBE_HAVE_SLIRP
	&netbe_backend_slirp,
#endif
	&netbe_backend_dgram,
	&netbe_backend_mcast,
	&netbe_backend_stream,
	&netbe_backend_vxlan,
#if NETBE_HAVE_VDE
	&netbe_backend_vde,
#endif
	&netbe_backend_pair,
	&netbe_backend_null,
};

const unsigned netbe_nbackends = sizeof(netbe_backends) / sizeof(netbe_backends[0]);

const struct netbe_backend *netbe_backend_find(const char *type)
{
	const char *const *a;
	unsigned i;

	if (!type)
		return NULL;
	for (i = 0; i < netbe_nbackends; i++) {
		const struct netbe_backend *b = netbe_backends[i];

		if (!strcmp(b->name, type))
			return b;
		for (a = b->aliases; a && *a; a++)
			if (!strcmp(*a, type))
				return b;
	}
	return NULL;
}

NETBE_EXPORT unsigned netbe_backend_count(void)
{
	return netbe_nbackends;
}

NETBE_EXPORT int netbe_backend_info(unsigned idx, struct netbe_backend_info *info)
{
	const struct netbe_backend *b;

	if (!info)
		return netbe_errf(-EINVAL, "netbe_backend_info: info is NULL");
	if (idx >= netbe_nbackends)
		return -ENOENT;
	b = netbe_backends[idx];
	info->name = b->name;
	info->aliases = b->aliases;
	info->help = b->help;
	info->name_help = b->name_help;
	info->keys = b->keys;
	return 0;
}

NETBE_EXPORT const struct netbe_key *netbe_common_keys(void)
{
	return netbe_common_key_table;
}
