/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iface.c - what backends that sit on a host network interface (af_packet,
 * af_xdp) ask about it. The question goes through a throwaway AF_UNIX
 * socket: any socket family passes interface ioctls on to the device
 * layer, except those whose own ioctl refuses them (an AF_XDP socket
 * answers none).
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

long netbe_if_frame_max(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name) - 1);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	if (ifr.ifr_mtu <= 0 || (size_t)ifr.ifr_mtu + NETBE_L2_MAX > NETBE_FRAME_MAX)
		return NETBE_FRAME_MAX;
	return (long)ifr.ifr_mtu + NETBE_L2_MAX;
}
