/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hostfwd.c - the public host port forward calls: argument checks shared
 * by every backend, then the backend's optional hostfwd ops (slirp has
 * them); any other backend answers -EOPNOTSUPP with a message saying so.
 */
#include <errno.h>
#include <netinet/in.h>

#include "backend.h"
#include "log.h"

/** has_hostfwd() - Return: 0 when @be has host forwards, else -EINVAL or
 * -EOPNOTSUPP with a message naming @fn. */
static int has_hostfwd(struct netbe *be, const char *fn)
{
	if (!be)
		return netbe_errf(-EINVAL, "%s: handle is NULL", fn);
	if (!be->ops->hostfwd_add)
		return netbe_errf(-EOPNOTSUPP, "%s: the %s backend has no host port forwards; only a user-mode stack (slirp) has them",
				  fn, be->ops->name);
	return 0;
}

/** endpoint_ok() - Return: whether @ss is an AF_INET or AF_INET6 address
 * with a non-zero port. */
static bool endpoint_ok(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port != 0;
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)ss)->sin6_port != 0;
	return false;
}

NETBE_EXPORT int netbe_hostfwd_add(struct netbe *be, const struct netbe_hostfwd *fwd,
				   unsigned *id)
{
	unsigned dummy;
	int ret = has_hostfwd(be, "netbe_hostfwd_add");

	if (ret)
		return ret;
	if (!fwd)
		return netbe_errf(-EINVAL, "netbe_hostfwd_add: forward is NULL");
	if (fwd->proto != NETBE_HOSTFWD_TCP && fwd->proto != NETBE_HOSTFWD_UDP)
		return netbe_errf(-EINVAL, "netbe_hostfwd_add: proto %d is not NETBE_HOSTFWD_TCP or NETBE_HOSTFWD_UDP",
				  (int)fwd->proto);
	if (!endpoint_ok(&fwd->host) || !endpoint_ok(&fwd->guest))
		return netbe_errf(-EINVAL, "netbe_hostfwd_add: host and guest must be AF_INET or AF_INET6 addresses with a port from 1 to 65535");
	return be->ops->hostfwd_add(be, fwd, id ? id : &dummy);
}

NETBE_EXPORT int netbe_hostfwd_remove(struct netbe *be, unsigned id)
{
	int ret = has_hostfwd(be, "netbe_hostfwd_remove");

	return ret ? ret : be->ops->hostfwd_remove(be, id);
}

NETBE_EXPORT int netbe_hostfwd_list(struct netbe *be, struct netbe_hostfwd *out,
				    unsigned max)
{
	int ret = has_hostfwd(be, "netbe_hostfwd_list");

	if (ret)
		return ret;
	if (!out && max)
		return netbe_errf(-EINVAL, "netbe_hostfwd_list: out is NULL with max %u", max);
	return be->ops->hostfwd_list(be, out, max);
}
