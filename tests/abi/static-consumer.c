/* SPDX-License-Identifier: BSD-2-Clause
 * A program that links statically against libnetbe.a and defines symbols
 * netbe uses inside (QEMU's hw/iov.h declares an iov_from_buf of its own):
 * with libnetbe.a in the netbe_ namespace only, it links without a
 * duplicate definition and its own functions are the ones called.
 * Built and run by tests/abi/abi.sh. */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include "netbe.h"

size_t iov_from_buf(const struct iovec *iov, unsigned iov_cnt, size_t offset,
		    const void *buf, size_t bytes);
int ol_check(void);

size_t iov_from_buf(const struct iovec *iov, unsigned iov_cnt, size_t offset,
		    const void *buf, size_t bytes)
{
	(void)iov; (void)iov_cnt; (void)offset; (void)buf;
	return bytes + 1000;
}

int ol_check(void)
{
	return 4242;
}

int main(void)
{
	struct netbe_epoll *ep = NULL;
	struct netbe *be = NULL;
	int r;

	if (iov_from_buf(NULL, 0, 0, NULL, 1) != 1001 || ol_check() != 4242) {
		printf("the program's own iov_from_buf/ol_check were not called\n");
		return 1;
	}
	r = netbe_epoll_new(&ep);
	if (r < 0) {
		printf("netbe_epoll_new: %s\n", strerror(-r));
		return 1;
	}
	r = netbe_open(&be, "null", NULL, netbe_epoll_loop(ep));
	if (r < 0) {
		printf("netbe_open(\"null\"): %s (%s)\n", strerror(-r), netbe_last_error());
		netbe_epoll_free(ep);
		return 1;
	}
	printf("opened %s\n", netbe_name(be));
	r = strcmp(netbe_name(be), "null") != 0;
	netbe_close(be);
	netbe_epoll_free(ep);
	return r;
}
