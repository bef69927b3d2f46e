/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iov.h - scatter-gather helpers. Every function bounds itself by the iovec
 * it is given: offsets and lengths past the end are clamped, never trusted.
 */
#ifndef NETBE_IOV_H
#define NETBE_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/** iov_length() - total bytes in @iov. */
size_t iov_length(const struct iovec *iov, int iovcnt);

/** iov_to_buf() - copy up to @len bytes at @offset of @iov into @buf.
 * Return: bytes copied (less than @len if @iov ends first). */
size_t iov_to_buf(const struct iovec *iov, int iovcnt, size_t offset,
		  void *buf, size_t len);

/** iov_from_buf() - copy @len bytes of @buf into @iov at @offset.
 * Return: bytes copied (less than @len if @iov ends first). */
size_t iov_from_buf(const struct iovec *iov, int iovcnt, size_t offset,
		    const void *buf, size_t len);

/**
 * iov_tail() - describe the bytes of @iov from @offset on in @out
 * Return: segments written to @out (0 when nothing is left), or -E2BIG
 * when more than @max segments would be needed.
 */
int iov_tail(const struct iovec *iov, int iovcnt, size_t offset,
	     struct iovec *out, int max);

/** iov_copy() - copy up to @len bytes from @src to @dst (both from 0).
 * Return: bytes copied. */
size_t iov_copy(const struct iovec *dst, int dstcnt, const struct iovec *src,
		int srccnt, size_t len);

#endif /* NETBE_IOV_H */
