/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.c - the control socket: a unix stream socket speaking JSON
 * lines, served through the caller's loop adapter (doc/control.md).
 *
 * Theory of operation
 *
 * The listening socket and every client connection are loop watches; the
 * library never blocks and runs no thread. A client owns an input buffer
 * of NETBE_CONTROL_LINE_MAX + 1 bytes and an output buffer. It is driven
 * by one function, client_pump(), run after every event:
 *  1. write what output is pending; while some remains, watch only for
 *     writability: a client that does not read its replies stops being
 *     read, so its output never grows past one reply;
 *  2. otherwise answer the next complete line in the input, and go to 1;
 *  3. an input buffer full without a newline is a request too long: an
 *     error reply, then the connection closes; an end of input with a
 *     partial line left answers that line as a request (slirp4netns
 *     clients send one request without a newline and shut down their
 *     writing side), then closes after the reply;
 *  4. otherwise watch for readability again.
 * Requests are parsed by json.c, which trusts nothing, and dispatched
 * through the command table in commands.c; whatever the bytes, the client
 * gets one reply per request, and no request can make the process crash
 * or a reply exceed what the command writes.
 *
 * Clients are bounded (CTL_CLIENTS_MAX): one more is told so and closed.
 * A client whose connection fails is closed at once, from inside its own
 * callback, which the loop adapter allows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

#define CTL_CLIENTS_MAX 32
#define CTL_ACCEPT_BURST 16

struct ctl_handle {
	char name[CTL_NAME_MAX + 1];
	struct netbe *be;
};

struct ctl_client {
	struct netbe_control *ctl;
	struct ctl_client *next;
	int fd;
	void *watch;
	unsigned events;           /* the watch's mask */
	char *in;                  /* NETBE_CONTROL_LINE_MAX + 1 bytes */
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool eof;                  /* the client will send nothing more */
	bool closing;              /* close once the output is written */
};

struct netbe_control {
	struct netbe_loop loop;
	int fd;
	void *watch;
	bool bound;                /* the socket file at path is ours */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_handle *handles;
	unsigned nhandles, handles_cap;
	struct ctl_client *clients;
	unsigned nclients;
};

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/** reply_error() - replace @out with {"error": {"desc": @desc}}. */
static void reply_error(struct json_writer *out, const char *desc)
{
	jw_free(out);
	jw_begin_object(out);
	jw_key(out, "error");
	jw_begin_object(out);
	jw_key(out, "desc");
	jw_string(out, desc);
	jw_end_object(out);
	jw_end_object(out);
}

/** find_command() - Return: the command called @name, or NULL. */
static const struct ctl_command *find_command(const char *name)
{
	unsigned i;

	for (i = 0; i < ctl_ncommands; i++)
		if (!strcmp(ctl_commands[i].name, name))
			return &ctl_commands[i];
	return NULL;
}

/** unknown_command() - the error for an unknown execute @name into @err,
 * listing the known ones. */
static void unknown_command(const char *name, char *err)
{
	size_t used;
	unsigned i;

	used = (size_t)snprintf(err, CTL_ERR_MAX, "bad request: unknown execute '%.64s'; known:", name);
	for (i = 0; i < ctl_ncommands && used < CTL_ERR_MAX; i++)
		used += (size_t)snprintf(err + used, CTL_ERR_MAX - used, "%s %s",
					 i ? "," : "", ctl_commands[i].name);
}

/** dispatch() - run the request in @root, its reply into @out.
 * Return: 0, or -EINVAL with the error description in @err. */
static int dispatch(struct netbe_control *ctl, const struct json_value *root,
		    struct json_writer *out, char *err)
{
	const struct json_value *exec = json_member(root, "execute");
	const struct json_value *args = json_member(root, "arguments");
	const struct ctl_command *cmd;

	if (!root || root->type != JSON_OBJECT)
		return snprintf(err, CTL_ERR_MAX, "bad request: not a JSON object"), -EINVAL;
	if (!exec || exec->type != JSON_STRING)
		return snprintf(err, CTL_ERR_MAX, "bad request: no execute found"), -EINVAL;
	cmd = find_command(exec->str);
	if (!cmd)
		return unknown_command(exec->str, err), -EINVAL;
	if (args && args->type == JSON_NULL)
		args = NULL;
	if (args && args->type != JSON_OBJECT)
		return snprintf(err, CTL_ERR_MAX, "bad request: %s: arguments is not an object",
				cmd->name), -EINVAL;
	jw_begin_object(out);
	jw_key(out, "return");
	if (cmd->fn(ctl, args, out, err))
		return -EINVAL;
	jw_end_object(out);
	if (!jw_text(out))
		return snprintf(err, CTL_ERR_MAX, "%s: out of memory", cmd->name), -EINVAL;
	return 0;
}

void ctl_request(struct netbe_control *ctl, const char *text, size_t len,
		 struct json_writer *out)
{
	char why[256], err[CTL_ERR_MAX];
	struct json_doc doc;
	int ret = json_parse(&doc, text, len, why, sizeof(why));

	if (ret) {
		snprintf(err, sizeof(err), "bad request: cannot parse JSON: %s", why);
		reply_error(out, err);
	} else if (dispatch(ctl, doc.root, out, err)) {
		reply_error(out, err);
	}
	json_free(&doc);
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

/** client_close() - unwatch, close and free @c. */
static void client_close(struct ctl_client *c)
{
	struct netbe_control *ctl = c->ctl;
	struct ctl_client **pp;

	for (pp = &ctl->clients; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	ctl->nclients--;
	if (c->watch)
		ctl->loop.ops->watch_del(ctl->loop.loop, c->watch);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/** client_queue() - append @text and a newline to @c's output.
 * Return: 0 or -ENOMEM. */
static int client_queue(struct ctl_client *c, const char *text)
{
	size_t n = strlen(text);
	char *o;

	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	o = realloc(c->out, c->outlen + n + 1);
	if (!o)
		return -ENOMEM;
	memcpy(o + c->outlen, text, n);
	o[c->outlen + n] = '\n';
	c->out = o;
	c->outlen += n + 1;
	return 0;
}

/** client_answer() - answer the request @text (@len bytes) of @c.
 * Return: 0 or -ENOMEM. */
static int client_answer(struct ctl_client *c, const char *text, size_t len)
{
	struct json_writer w;
	const char *reply;
	int ret;

	jw_init(&w);
	ctl_request(c->ctl, text, len, &w);
	reply = jw_text(&w);
	ret = reply ? client_queue(c, reply) : -ENOMEM;
	jw_free(&w);
	return ret;
}

/** client_next() - answer the next request waiting in @c's input.
 * Return: 1 when a reply was queued, 0 when no request is complete,
 * -ENOMEM. */
static int client_next(struct ctl_client *c)
{
	char *nl = memchr(c->in, '\n', c->inlen), msg[96];
	size_t len;
	int ret;

	if (nl) {
		len = (size_t)(nl - c->in);
		ret = len && !(len == 1 && c->in[0] == '\r') ?
		      client_answer(c, c->in, len - (c->in[len - 1] == '\r')) : 0;
		c->inlen -= len + 1;
		memmove(c->in, nl + 1, c->inlen);
		return ret ? ret : 1;
	}
	if (c->inlen > NETBE_CONTROL_LINE_MAX) {
		snprintf(msg, sizeof(msg), "{\"error\": {\"desc\": \"bad request: longer than %d bytes\"}}",
			 NETBE_CONTROL_LINE_MAX);
		c->inlen = 0;
		c->closing = true;
		return client_queue(c, msg) ? -ENOMEM : 1;
	}
	if (c->eof && c->inlen) {
		len = c->inlen;
		c->inlen = 0;
		return client_answer(c, c->in, len) ? -ENOMEM : 1;
	}
	return 0;
}

/** client_flush() - write pending output. Return: 0 (written or the
 * socket is full), or a negative errno when the connection failed. */
static int client_flush(struct ctl_client *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->outoff += (size_t)n;
	}
	return 0;
}

/** client_watch() - watch @c for @events. Return: 0 or the loop's errno. */
static int client_watch(struct ctl_client *c, unsigned events)
{
	struct netbe_control *ctl = c->ctl;
	int ret;

	if (c->events == events)
		return 0;
	ret = ctl->loop.ops->watch_mod(ctl->loop.loop, c->watch, events);
	if (!ret)
		c->events = events;
	return ret;
}

/** client_pump() - move @c on as far as it goes without blocking (see the
 * top of the file); may close it. */
static void client_pump(struct ctl_client *c)
{
	int ret;

	for (;;) {
		ret = client_flush(c);
		if (!ret && c->outoff < c->outlen)
			ret = client_watch(c, NETBE_EV_OUT);
		if (ret || c->outoff < c->outlen)
			break;
		ret = client_next(c);
		if (ret > 0)
			continue;
		if (!ret && !c->closing && !c->eof)
			ret = client_watch(c, NETBE_EV_IN);
		else
			ret = -EPIPE;   /* done with this client */
		break;
	}
	if (ret)
		client_close(c);
}

/** client_read() - read what @c sent. Return: 0, or a negative errno when
 * the connection failed. */
static int client_read(struct ctl_client *c)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, NETBE_CONTROL_LINE_MAX + 1 - c->inlen,
			 MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		c->eof = true;
	c->inlen += (size_t)n;
	return 0;
}

/** on_client() - a client connection is ready. */
static void on_client(void *opaque, int fd, unsigned revents)
{
	struct ctl_client *c = opaque;

	(void)fd;
	if ((revents & NETBE_EV_IN) && client_read(c)) {
		client_close(c);
		return;
	}
	if ((revents & (NETBE_EV_ERR | NETBE_EV_HUP)) && !(revents & NETBE_EV_IN) &&
	    c->outoff == c->outlen && !c->inlen) {
		client_close(c);
		return;
	}
	client_pump(c);
}

/** client_refuse() - tell connection @fd there are too many clients, and
 * close it. */
static void client_refuse(int fd)
{
	static const char msg[] = "{\"error\": {\"desc\": \"too many control clients\"}}\n";

	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		nb_debug("control: cannot tell a client it is refused: %s", strerror(errno));
	close(fd);
}

/** client_new() - take connection @fd as a client. Return: 0, or a
 * negative errno (@fd closed). */
static int client_new(struct netbe_control *ctl, int fd)
{
	struct ctl_client *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM;

	if (c)
		c->in = malloc(NETBE_CONTROL_LINE_MAX + 1);
	if (c && c->in)
		ret = ctl->loop.ops->watch_add(ctl->loop.loop, fd, on_client, c, &c->watch);
	if (ret) {
		if (c)
			free(c->in);
		free(c);
		close(fd);
		return ret;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->nclients++;
	if (client_watch(c, NETBE_EV_IN))
		client_close(c);
	return 0;
}

/** on_listen() - accept the connections waiting. */
static void on_listen(void *opaque, int fd, unsigned revents)
{
	struct netbe_control *ctl = opaque;
	unsigned i;
	int cfd, ret;

	(void)revents;
	for (i = 0; i < CTL_ACCEPT_BURST; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				NB_LOG_RL(NETBE_LOG_WARN, "control: accept: %s", strerror(errno));
			return;
		}
		if (ctl->nclients >= CTL_CLIENTS_MAX) {
			client_refuse(cfd);
			continue;
		}
		ret = client_new(ctl, cfd);
		if (ret)
			NB_LOG_RL(NETBE_LOG_WARN, "control: cannot take a client: %s", strerror(-ret));
	}
}

/* ------------------------------------------------------------------------ */
/* Handles                                                                  */
/* ------------------------------------------------------------------------ */

unsigned ctl_handle_count(const struct netbe_control *ctl)
{
	return ctl->nhandles;
}

struct netbe *ctl_handle_at(const struct netbe_control *ctl, unsigned i,
			    const char **name)
{
	if (i >= ctl->nhandles)
		return NULL;
	*name = ctl->handles[i].name;
	return ctl->handles[i].be;
}

struct netbe *ctl_handle_named(const struct netbe_control *ctl, const char *name)
{
	unsigned i;

	for (i = 0; i < ctl->nhandles; i++)
		if (!strcmp(ctl->handles[i].name, name))
			return ctl->handles[i].be;
	return NULL;
}

/** name_ok() - Return: whether @name is 1..CTL_NAME_MAX printable ASCII
 * characters. */
static bool name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (!n || n > CTL_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

NETBE_EXPORT int netbe_control_attach(struct netbe_control *ctl, const char *name,
				      struct netbe *be)
{
	struct ctl_handle *h;
	unsigned i;

	if (!ctl || !name || !be)
		return netbe_errf(-EINVAL, "netbe_control_attach: control, name or handle is NULL");
	if (!name_ok(name))
		return netbe_errf(-EINVAL, "netbe_control_attach: name '%.80s' is not 1 to %d printable characters without spaces",
				  name, CTL_NAME_MAX);
	for (i = 0; i < ctl->nhandles; i++)
		if (!strcmp(ctl->handles[i].name, name) || ctl->handles[i].be == be)
			return netbe_errf(-EEXIST, "netbe_control_attach: '%s' or its handle is attached already (as '%s')",
					  name, ctl->handles[i].name);
	if (ctl->nhandles == ctl->handles_cap) {
		unsigned cap = ctl->handles_cap ? 2 * ctl->handles_cap : 4;

		h = realloc(ctl->handles, cap * sizeof(*h));
		if (!h)
			return netbe_errf(-ENOMEM, "netbe_control_attach: out of memory");
		ctl->handles = h;
		ctl->handles_cap = cap;
	}
	h = &ctl->handles[ctl->nhandles++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->be = be;
	return 0;
}

NETBE_EXPORT int netbe_control_detach(struct netbe_control *ctl, struct netbe *be)
{
	unsigned i;

	if (!ctl || !be)
		return netbe_errf(-EINVAL, "netbe_control_detach: control or handle is NULL");
	for (i = 0; i < ctl->nhandles; i++) {
		if (ctl->handles[i].be != be)
			continue;
		memmove(&ctl->handles[i], &ctl->handles[i + 1],
			(ctl->nhandles - i - 1) * sizeof(ctl->handles[0]));
		ctl->nhandles--;
		return 0;
	}
	return netbe_errf(-ENOENT, "netbe_control_detach: the handle is not attached");
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

struct netbe_control *ctl_alloc(void)
{
	struct netbe_control *ctl = calloc(1, sizeof(*ctl));

	if (ctl)
		ctl->fd = -1;
	return ctl;
}

/** make_room() - clear @path for our socket: a socket file left there is
 * removed, anything else is refused. Return: 0 or a negative errno. */
static int make_room(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : netbe_errf(-errno, "control: %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return netbe_errf(-EEXIST, "control: %s exists and is not a socket - pick another path", path);
	if (unlink(path))
		return netbe_errf(-errno, "control: cannot remove the old socket %s: %s", path,
				  strerror(errno));
	return 0;
}

/** listen_on() - the listening socket of @ctl at ctl->path.
 * Return: 0 or a negative errno with a message. */
static int listen_on(struct netbe_control *ctl)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int ret = make_room(ctl->path);

	if (ret)
		return ret;
	memcpy(a.sun_path, ctl->path, sizeof(a.sun_path));
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return netbe_errf(-errno, "control: socket: %s", strerror(errno));
	if (bind(ctl->fd, (struct sockaddr *)&a, sizeof(a)))
		return netbe_errf(-errno, "control: cannot bind %s: %s", ctl->path,
				  strerror(errno));
	ctl->bound = true;
	if (chmod(ctl->path, 0600) || listen(ctl->fd, 16))
		return netbe_errf(-errno, "control: cannot listen on %s: %s", ctl->path,
				  strerror(errno));
	ret = ctl->loop.ops->watch_add(ctl->loop.loop, ctl->fd, on_listen, ctl, &ctl->watch);
	if (!ret)
		ret = ctl->loop.ops->watch_mod(ctl->loop.loop, ctl->watch, NETBE_EV_IN);
	if (ret)
		return netbe_errf(ret, "control: the loop refused to watch the socket: %s",
				  strerror(-ret));
	return 0;
}

NETBE_EXPORT int netbe_control_open(struct netbe_control **ctlp, const char *path,
				    const struct netbe_loop *loop)
{
	const struct netbe_loop_ops *o = loop ? loop->ops : NULL;
	struct netbe_control *ctl;
	int ret;

	if (!ctlp)
		return netbe_errf(-EINVAL, "netbe_control_open: the control pointer is NULL");
	*ctlp = NULL;
	if (!path || !*path)
		return netbe_errf(-EINVAL, "netbe_control_open: the socket path is NULL or empty");
	if (!o || !o->watch_add || !o->watch_mod || !o->watch_del || !o->timer_add ||
	    !o->timer_mod || !o->timer_del)
		return netbe_errf(-EINVAL, "netbe_control_open: a loop adapter with all six operations is required (netbe_epoll_loop() gives one)");
	ctl = ctl_alloc();
	if (!ctl)
		return netbe_errf(-ENOMEM, "control: out of memory");
	if (strlen(path) >= sizeof(ctl->path)) {
		free(ctl);
		return netbe_errf(-ENAMETOOLONG, "control: socket path '%s' is longer than %zu bytes",
				  path, sizeof(ctl->path) - 1);
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->loop = *loop;
	ret = listen_on(ctl);
	if (ret) {
		netbe_control_close(ctl);
		return ret;
	}
	*ctlp = ctl;
	return 0;
}

NETBE_EXPORT void netbe_control_close(struct netbe_control *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_close(ctl->clients);
	if (ctl->watch)
		ctl->loop.ops->watch_del(ctl->loop.loop, ctl->watch);
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->bound)
		unlink(ctl->path);
	free(ctl->handles);
	free(ctl);
}
