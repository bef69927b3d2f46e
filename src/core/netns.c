/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netns.c - run a function inside another network namespace (see netns.h).
 *
 * Theory of operation. setns() changes the namespaces of the calling
 * thread, and joining a user namespace is refused to a process with more
 * than one thread, so the caller never joins anything itself: it forks.
 * The child is single-threaded, whatever the parent was. It enters the
 * network namespace; when that is refused (EPERM: an unprivileged user) and
 * the namespace is owned by a user namespace that is not ours (found with
 * NS_GET_USERNS, so a PID or a bind-mounted file of a rootless namespace
 * both work), it joins that user namespace first, where the namespace's
 * creator has every capability, as slirp4netns does, and enters again. A
 * privileged caller (root) so never becomes a member of somebody else's
 * user namespace. Then the child runs the function and sends its result
 * over a SOCK_SEQPACKET socketpair in one message: a small header, the
 * function's result bytes and, when it opened one, the fd as SCM_RIGHTS.
 * The child then _exit()s; the parent reaps it.
 *
 * The child of a multithreaded process may only make async-signal-safe
 * calls, so it formats no message: the parent turns the header (which
 * step failed, with which errno) into the one-line message. The namespace
 * files are opened and checked in the parent, where a missing process or
 * a missing permission gets its advice. A child that dies or hangs (it
 * should not: it makes a handful of system calls) is seen as an
 * end-of-file or a timeout; a hung one is killed by its PID.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "log.h"
#include "netns.h"

/* How long the parent waits for the child's answer. */
#define NETNS_ANSWER_SECS 10
/* The largest result a function may report. */
#define NETNS_RES_MAX 256

/* Where the child stopped. */
enum netns_stage {
	NETNS_RAN,         /* the function ran; ret is its result */
	NETNS_JOIN_USER,   /* setns(CLONE_NEWUSER) failed with ret */
	NETNS_JOIN_NET,    /* setns(CLONE_NEWNET) failed with ret */
};

/* The header of the child's answer. */
struct netns_answer {
	int32_t stage;
	int32_t ret;
};

/**
 * netns_parse() - the namespace file @value names, and its PID if it is one
 * @pid: receives the PID, or 0 when @value is a path or a name
 * Return: 0 with @path filled in, or -EINVAL with a message.
 */
static int netns_parse(const struct netbe_netns *ns, const char *value,
		       char *path, size_t len, long *pid)
{
	char *end;
	int n;

	*pid = 0;
	if (!*value)
		return netbe_errf(-EINVAL, "%s: empty - give a PID, a path such as /run/netns/NAME, or an ip-netns NAME",
				  ns->label);
	if (value[0] >= '0' && value[0] <= '9') {
		errno = 0;
		*pid = strtol(value, &end, 10);
		if (*end || errno || *pid <= 0 || *pid > INT_MAX)
			return netbe_errf(-EINVAL, "%s: not a PID (a number from 1 to %d) - give a PID, a path such as /run/netns/NAME, or an ip-netns NAME",
					  ns->label, INT_MAX);
		n = snprintf(path, len, "/proc/%ld/ns/net", *pid);
	} else if (strchr(value, '/')) {
		n = snprintf(path, len, "%s", value);
	} else {
		n = snprintf(path, len, "/run/netns/%s", value);
	}
	if (n < 0 || (size_t)n >= len)
		return netbe_errf(-ENAMETOOLONG, "%s: the path is too long", ns->label);
	return 0;
}

/**
 * netns_open_error() - advice for a failed open of namespace file @path
 * Return: @err, with the message recorded.
 */
static int netns_open_error(const struct netbe_netns *ns, int err,
			    const char *path, long pid)
{
	char proc[32];
	struct stat st;

	if (pid) {
		snprintf(proc, sizeof(proc), "/proc/%ld", pid);
		if (stat(proc, &st) < 0)
			return netbe_errf(-ESRCH, "%s: no process %ld - give the PID of a process inside the namespace (such as the one 'unshare --user --map-root-user --net' runs)",
					  ns->label, pid);
		if (err == -EACCES || err == -EPERM)
			return netbe_errf(err, "%s: cannot open %s: %s - run netbe as the user running process %ld (uid %u), or as root",
					  ns->label, path, strerror(-err), pid,
					  (unsigned)st.st_uid);
	} else if (err == -ENOENT) {
		return netbe_errf(err, "%s: no such namespace file %s - create the namespace first (ip netns add NAME), or give the PID of a process inside it",
				  ns->label, path);
	} else if (err == -EACCES || err == -EPERM) {
		return netbe_errf(err, "%s: cannot open %s: %s - run netbe as the user that owns it, or as root",
				  ns->label, path, strerror(-err));
	}
	return netbe_errf(err, "%s: cannot open %s: %s", ns->label, path,
			  strerror(-err));
}

/**
 * netns_owner() - find the user namespace owning ns->net_fd and keep it
 * in ns->user_fd when it is not ours (-1 otherwise, or when it lies
 * outside ours: then entering depends on our own capabilities)
 * Return: 0, or a negative errno with a message.
 */
static int netns_owner(struct netbe_netns *ns)
{
	struct stat ours, theirs;
	int fd = ioctl(ns->net_fd, NS_GET_USERNS);

	if (fd < 0)
		return errno == EPERM ? 0 :
			netbe_errf(-errno, "%s: cannot find the user namespace owning it (NS_GET_USERNS): %s",
				   ns->label, strerror(errno));
	if (stat("/proc/self/ns/user", &ours) < 0 || fstat(fd, &theirs) < 0) {
		close(fd);
		return netbe_errf(-errno, "%s: cannot compare user namespaces: %s - is /proc mounted?",
				  ns->label, strerror(errno));
	}
	if (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
		close(fd);
		return 0;
	}
	if (ioctl(fd, NS_GET_OWNER_UID, &ns->owner) < 0)
		ns->owner = (uid_t)-1;
	ns->user_fd = fd;
	return 0;
}

int netbe_netns_open(struct netbe_netns *ns, const char *who,
		     const char *value)
{
	char path[PATH_MAX];
	long pid;
	int err, type;

	if (!ns || !who || !value)
		return netbe_errf(-EINVAL, "netns: no namespace given");
	ns->net_fd = -1;
	ns->user_fd = -1;
	ns->owner = (uid_t)-1;
	snprintf(ns->label, sizeof(ns->label), "%s: netns=%s", who, value);
	err = netns_parse(ns, value, path, sizeof(path), &pid);
	if (err)
		return err;
	ns->net_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->net_fd < 0)
		return netns_open_error(ns, -errno, path, pid);
	type = ioctl(ns->net_fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		netbe_netns_close(ns);
		return netbe_errf(-EINVAL, "%s: %s is not a network namespace - give a file such as /run/netns/NAME or /proc/PID/ns/net",
				  ns->label, path);
	}
	err = netns_owner(ns);
	if (err)
		netbe_netns_close(ns);
	return err;
}

void netbe_netns_close(struct netbe_netns *ns)
{
	if (!ns)
		return;
	if (ns->net_fd >= 0)
		close(ns->net_fd);
	if (ns->user_fd >= 0)
		close(ns->user_fd);
	ns->net_fd = -1;
	ns->user_fd = -1;
}

/**
 * netns_child() - the child: join, run @fn, answer on @sock, exit.
 * Only async-signal-safe calls from here on. Does not return.
 */
static void netns_child(const struct netbe_netns *ns, int sock,
			netbe_netns_fn fn, void *arg, void *res, size_t res_len)
{
	struct netns_answer a = { .stage = NETNS_RAN };
	struct iovec iov[2] = { { &a, sizeof(a) }, { res, res_len } };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (setns(ns->net_fd, CLONE_NEWNET) == 0) {
		a.ret = fn(arg, res, res_len);
	} else if (errno != EPERM || ns->user_fd < 0) {
		a.stage = NETNS_JOIN_NET;
		a.ret = -errno;
	} else if (setns(ns->user_fd, CLONE_NEWUSER) < 0) {
		a.stage = NETNS_JOIN_USER;
		a.ret = -errno;
	} else if (setns(ns->net_fd, CLONE_NEWNET) < 0) {
		a.stage = NETNS_JOIN_NET;
		a.ret = -errno;
	} else {
		a.ret = fn(arg, res, res_len);
	}
	if (a.stage == NETNS_RAN && a.ret >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &a.ret, sizeof(int));
	}
	(void)sendmsg(sock, &m, MSG_NOSIGNAL);
	_exit(0);
}

/**
 * netns_take_fd() - the fd an answer @m carried, if exactly one; any
 * other fd it carried is closed
 * Return: the fd, or -1.
 */
static int netns_take_fd(struct msghdr *m)
{
	struct cmsghdr *h;
	int fd = -1, got, i, n;

	for (h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		n = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < n; i++) {
			memcpy(&got, CMSG_DATA(h) + (size_t)i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = got;
			else
				close(got);
		}
	}
	return fd;
}

/**
 * netns_receive() - read the child's answer from @sock into @a and @res
 * @fd: receives the fd it carried, or -1
 * Return: 0, or a negative errno with a message (timeout, child died).
 */
static int netns_receive(const struct netbe_netns *ns, int sock,
			 struct netns_answer *a, void *res, size_t res_len,
			 int *fd)
{
	struct iovec iov[2] = { { a, sizeof(*a) }, { res, res_len } };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} c;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2,
			    .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	struct timeval tv = { .tv_sec = NETNS_ANSWER_SECS };
	ssize_t n;

	*fd = -1;
	(void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return netbe_errf(-ETIMEDOUT, "%s: the helper process that enters the namespace did not answer within %d s",
				  ns->label, NETNS_ANSWER_SECS);
	if (n < 0)
		return netbe_errf(-errno, "%s: cannot read the helper process's answer: %s",
				  ns->label, strerror(errno));
	*fd = netns_take_fd(&m);
	if ((size_t)n != sizeof(*a) + res_len || (m.msg_flags & MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return netbe_errf(-EPROTO, "%s: the helper process that enters the namespace died without an answer",
				  ns->label);
	}
	return 0;
}

/**
 * netns_reap() - wait for child @pid; kill it first when @kill_it
 * Return: nothing; a child reaped by someone else (SIGCHLD ignored) is fine.
 */
static void netns_reap(pid_t pid, int kill_it)
{
	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/**
 * netns_join_error() - the message for a child that could not join
 * Return: @err, with the message recorded.
 */
static int netns_join_error(const struct netbe_netns *ns, int stage, int err)
{
	if (stage == NETNS_JOIN_USER)
		return netbe_errf(err, "%s: cannot join the user namespace owning it (owner uid %d): %s - run netbe as uid %d, the user that created the namespace, or as root",
				  ns->label, (int)ns->owner, strerror(-err),
				  (int)ns->owner);
	if (err == -EPERM)
		return netbe_errf(err, "%s: cannot enter the network namespace: %s - run as root, or as the user whose user namespace owns it",
				  ns->label, strerror(-err));
	return netbe_errf(err, "%s: cannot enter the network namespace: %s",
			  ns->label, strerror(-err));
}

int netbe_netns_call(const struct netbe_netns *ns, netbe_netns_fn fn,
		     void *arg, void *res, size_t res_len, int *ret)
{
	struct netns_answer a = { 0 };
	int sv[2], fd, err;
	pid_t pid;

	if (!ns || ns->net_fd < 0 || !fn || !ret || (res_len && !res) ||
	    res_len > NETNS_RES_MAX)
		return netbe_errf(-EINVAL, "netns: bad call (no namespace, function or result)");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return netbe_errf(-errno, "%s: cannot create a socket pair: %s",
				  ns->label, strerror(errno));
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		return netbe_errf(err, "%s: cannot fork the helper process: %s",
				  ns->label, strerror(-err));
	}
	if (pid == 0) {
		close(sv[0]);
		netns_child(ns, sv[1], fn, arg, res, res_len);
	}
	close(sv[1]);
	err = netns_receive(ns, sv[0], &a, res, res_len, &fd);
	close(sv[0]);
	netns_reap(pid, err == -ETIMEDOUT);
	if (err)
		return err;
	if (a.stage != NETNS_RAN)
		return netns_join_error(ns, a.stage, a.ret < 0 ? a.ret : -EPROTO);
	if (a.ret >= 0 && fd < 0)
		return netbe_errf(-EPROTO, "%s: the helper process sent no file descriptor",
				  ns->label);
	if (a.ret < 0 && fd >= 0)
		close(fd);
	*ret = a.ret >= 0 ? fd : a.ret;
	return 0;
}
