/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * slirp.c - user-mode NAT through libslirp: the guest gets a private
 * 10.0.2.0/24 (and fd00::/64) network with DHCP, DNS and a gateway whose
 * connections become ordinary sockets of this process. No privileges.
 *
 * Theory of operation
 *
 * libslirp is a TCP/IP stack without a thread or loop of its own: the
 * application feeds it guest frames (slirp_input), asks it which sockets it
 * wants polled (slirp_pollfds_fill), tells it which ones are ready
 * (slirp_pollfds_poll) and runs its timers. Here all of that goes through
 * the caller's loop adapter, so there is no helper thread.
 *
 * Poll set. After every call into libslirp (a burst of guest frames, a
 * ready socket, a timer) the backend refills the poll set: fill's add_poll
 * callback records (fd, events) in an array whose index slirp keeps per
 * socket. Loop watches are kept per fd in a table indexed by fd and
 * reconciled with the fresh set: new fds are added, changed masks
 * modified, fds that left the set deleted; a generation number per fill
 * makes that O(sockets). When a watch fires, its revents are stored at the
 * fd's index and slirp_pollfds_poll() runs once, reading them back through
 * get_revents. slirp calls unregister_poll_fd() before it closes a socket,
 * and the watch is deleted right there, because the loop keys watches on
 * fd numbers and a closed number is soon reused.
 *
 * Time. slirp's TCP timers run inside slirp_pollfds_poll(); fill returns
 * how long slirp may wait (2 ms while an ACK is delayed, up to a second
 * when idle). One loop timer makes sure poll runs that often. It is only
 * re-armed when the wanted deadline is earlier than the armed one (timers
 * are a syscall each in most loops), and never closer than 1 ms. slirp's
 * own timers (IPv6 router advertisements) map one to one to loop timers.
 *
 * Frames to the guest. slirp hands frames to send_packet(); they are
 * copied into a byte ring (records of length + data, never split across
 * the end) bounded in frames and bytes; a full ring drops and counts
 * rx_overflow (slirp's TCP retransmits). One netbe_rx_kick() per call into
 * slirp tells core that frames are pending, and only when the consumer has
 * not yet been told: recv() clears that once it empties the ring (as does
 * rx_count() finding it empty, after which core skips recv()), and kicks
 * again itself when it leaves frames behind. rx_count() lets core describe
 * only as many of the frontend's buffers as the ring holds frames, mostly
 * one ACK. send() returns after a guest
 * frame that caused such a kick, so a frontend with inline receive gets
 * the answer (the ACK that reopens the guest's TCP window) before slirp
 * sees the next frame: with a 64 KiB window and 25-64 KB frames, that ACK
 * latency is what bounds bulk TCP from a namespace.
 *
 * Guest frames. libslirp parses guest bytes, and a crash in it is a crash
 * of the process, so it only sees frames netbe checked (see
 * doc/slirp.md). IPv4 and IPv6 fragments never reach it: libslirp 4.7.0
 * dies on a lone IPv4 last fragment (issue 14), so they go to a bounded
 * reassembler (ipfrag.c) and only whole datagrams go in; IP headers whose
 * lengths do not fit the frame are dropped as tx_bad_hdr, fragments that
 * cannot be reassembled (overlaps, timeouts, too many in flight, still in
 * flight at close) as tx_fragment. Expiry is lazy, at each send.
 *
 * Offloads. libslirp has none, so the guest is offered core's software
 * offloads, and by default only up to SL_SOFT_OFFLOAD_MTU_MAX (see there).
 *
 * Threads. A frontend may send from another thread than the one running
 * the loop. libslirp is not thread-safe, so every call into it holds
 * s->lock; the ring has its own lock, so recv() never waits for slirp. Loop
 * operations are only made on the loop thread (the one that opened the
 * handle or last ran one of our callbacks); a send from any other thread
 * leaves the reconciliation to the loop, woken through an eventfd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "addr.h"
#include "backend.h"
#include "clock.h"
#include "iov.h"
#include "ipfrag.h"
#include "log.h"
#include "spec.h"

#define SL_ETH_HLEN 14
#define SL_MTU_MIN 68
#define SL_MTU_MAX 65520
#define SL_MTU_DEFAULT 1500
/*
 * Largest MTU at which offload=auto offers software offloads. They cost a
 * checksum pass on the backend's thread that libslirp then repeats, and
 * they leave the guest's TCP work on that thread too; what they buy is
 * fewer frames from the guest, which only pays while its frames are small.
 * Namespace to host loopback TCP, iperf3 server on the forwarder's CPU
 * (auto vs native, Gbit/s): MTU 1500 1.13-1.24 vs 0.87; 4000 1.77-2.02 vs
 * 1.54-1.77; 9000 2.42-2.77 vs 3.14-3.22; 65520 3.2-3.5 vs 4.1-5.3.
 */
#define SL_SOFT_OFFLOAD_MTU_MAX 4000
#define SL_RING_BYTES (4u << 20)
#define SL_RING_FRAMES 1024u
#define SL_REC_HDR 8u
#define SL_REC_WRAP UINT32_MAX
#define SL_NS_PER_MS 1000000ULL
#define SL_POLL_MIN_MS 1u
#define SL_FWD_SYNTAX "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. hostfwd=tcp::2222-:22 or hostfwd=tcp:[::1]:8080-[fd00::15]:80"

/* Virtual network, as QEMU's user networking numbers it. */
#define SL_NET "10.0.2.0"
#define SL_MASK "255.255.255.0"
#define SL_HOST "10.0.2.2"
#define SL_DNS "10.0.2.3"
#define SL_DHCP_START "10.0.2.15"
#define SL_FWD_HOST_DEFAULT "127.0.0.1"
#define SL_NET6 "fd00::"
#define SL_HOST6 "fd00::2"
#define SL_DNS6 "fd00::3"
#define SL_PREFIX6_LEN 64

/* One entry of the poll set slirp asked for in the last fill. */
struct sl_pollent {
	int fd;
	int events;        /* SLIRP_POLL_* */
	int revents;       /* SLIRP_POLL_*, set while a watch callback runs */
};

/* The loop watch of one fd, in a table indexed by fd. */
struct sl_watch {
	void *handle;      /* NULL: not watched */
	unsigned events;   /* NETBE_EV_* mask the loop has */
	unsigned gen;      /* fill generation that last listed this fd */
	unsigned idx;      /* its index in the poll set of that fill */
	unsigned wl_idx;   /* its position in the list of watched fds */
	bool stale;        /* slirp closed it off the loop thread */
};

/* A libslirp timer mapped to a loop timer. */
struct sl_timer {
	struct netbe *be;
	SlirpTimerId id;
	void *cb_opaque;
	void *handle;
	uint64_t pending_ns;   /* delay to apply on the loop thread, 0: none */
};

/* The frames slirp produced for the guest: a byte ring of records. */
struct sl_ring {
	pthread_mutex_t lock;
	unsigned char *buf;
	size_t head, tail;     /* read and write offsets */
	unsigned count;
	bool told;             /* the consumer was kicked and has not emptied us */
};

struct sl_priv {
	pthread_mutex_t lock;  /* every call into slirp, and the fields below */
	Slirp *slirp;
	pthread_t loop_thread;

	struct sl_pollent *set;
	unsigned nset, set_cap;
	unsigned gen;

	struct sl_watch *watch;    /* indexed by fd */
	unsigned watch_cap;
	int *watched;              /* fds with a loop watch */
	unsigned nwatched;
	bool set_changed;          /* the last fill differs from the watches */

	void *poll_timer;
	bool poll_armed;
	uint64_t poll_deadline_ns;
	uint64_t poll_want_ns;     /* deadline still to arm, 0: none */

	struct sl_timer **timers;  /* libslirp's timers, to apply pending mods */
	unsigned ntimers;

	int wake_fd;               /* eventfd: work for the loop thread */
	void *wake_watch;
	bool wake_pending;

	struct ipf frags;          /* guest IP fragments being reassembled */
	bool kick;                 /* frames queued during this call */
	unsigned char *bounce;     /* a multi-segment frame made contiguous */
	size_t mtu;

	struct sl_ring ring;

	bool ipv6;                 /* the guest network has fd00::/64 */
	struct netbe_hostfwd *fwds;    /* host forwards, oldest first */
	unsigned nfwds, fwds_cap;
	unsigned fwd_last_id;
};

static const struct netbe_key sl_keys[] = {
	{ "hostfwd", "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT: forward a host port to the guest (HOSTADDR defaults to 127.0.0.1, GUESTADDR to 10.0.2.15; IPv6 in brackets: tcp:[::1]:8080-[fd00::15]:80)",
	  NETBE_KEY_REPEAT },
	{ "restrict", "on|off: isolate the guest: only hostfwd connections, nothing outside (default off)", 0 },
	{ "mtu", "68..65520: MTU of the virtual link (default 1500); above 4000 offload=auto offers the guest no offloads", 0 },
	{ "ipv6", "on|off: IPv6 on fd00::/64 with host fd00::2 and DNS fd00::3 (default on)", 0 },
	{ NULL, NULL, 0 },
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

/** sl_on_loop() - true when the calling thread may use the loop adapter. */
static bool sl_on_loop(const struct sl_priv *s)
{
	return pthread_equal(pthread_self(), s->loop_thread);
}

/** sl_to_netbe_ev() - the loop mask for slirp's wanted events. */
static unsigned sl_to_netbe_ev(int events)
{
	unsigned ev = 0;

	if (events & (SLIRP_POLL_IN | SLIRP_POLL_PRI))
		ev |= NETBE_EV_IN;
	if (events & SLIRP_POLL_OUT)
		ev |= NETBE_EV_OUT;
	return ev;
}

/** sl_from_netbe_ev() - slirp's revents for what the loop reported. */
static int sl_from_netbe_ev(unsigned revents)
{
	int ev = 0;

	if (revents & NETBE_EV_IN)
		ev |= SLIRP_POLL_IN;
	if (revents & NETBE_EV_OUT)
		ev |= SLIRP_POLL_OUT;
	if (revents & NETBE_EV_ERR)
		ev |= SLIRP_POLL_ERR;
	if (revents & NETBE_EV_HUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/** sl_round8() - @n rounded up to a multiple of 8. */
static size_t sl_round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ------------------------------------------------------------------------ */
/* The ring of frames for the guest                                         */
/* ------------------------------------------------------------------------ */

/**
 * sl_ring_reserve() - find room for a record of @need bytes; lock held.
 * Return: its offset, or -1 when the ring is full. Writes the wrap marker
 * when the record goes back to the start.
 */
static long sl_ring_reserve(struct sl_ring *r, size_t need)
{
	if (r->count == SL_RING_FRAMES)
		return -1;
	if (!r->count)
		r->head = r->tail = 0;
	if (r->tail >= r->head) {
		if (SL_RING_BYTES - r->tail >= need)
			return (long)r->tail;
		if (r->head <= need)
			return -1;
		if (SL_RING_BYTES - r->tail >= SL_REC_HDR)
			*(uint32_t *)(r->buf + r->tail) = SL_REC_WRAP;
		return 0;
	}
	return r->head - r->tail > need ? (long)r->tail : -1;
}

/**
 * sl_ring_push() - queue a copy of a frame.
 * Return: -1 when the ring is full, 1 when queued and the consumer must be
 * told (it emptied the ring since it was last told), 0 when queued.
 */
static int sl_ring_push(struct sl_ring *r, const void *frame, size_t len)
{
	size_t need = SL_REC_HDR + sl_round8(len);
	int ret = -1;
	long at;

	pthread_mutex_lock(&r->lock);
	at = sl_ring_reserve(r, need);
	if (at >= 0) {
		*(uint32_t *)(r->buf + at) = (uint32_t)len;
		memcpy(r->buf + at + SL_REC_HDR, frame, len);
		r->tail = (size_t)at + need;
		r->count++;
		ret = !r->told;
		r->told = true;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/** sl_ring_front() - the oldest record; lock held, ring not empty.
 * Return: a pointer to its header (length, then the frame 8 bytes on). */
static unsigned char *sl_ring_front(struct sl_ring *r)
{
	if (SL_RING_BYTES - r->head < SL_REC_HDR ||
	    *(uint32_t *)(r->buf + r->head) == SL_REC_WRAP)
		r->head = 0;
	return r->buf + r->head;
}

/** sl_ring_pop() - drop the oldest record (of @len bytes); lock held. */
static void sl_ring_pop(struct sl_ring *r, size_t len)
{
	r->head += SL_REC_HDR + sl_round8(len);
	if (!--r->count)
		r->head = r->tail = 0;
}

/* ------------------------------------------------------------------------ */
/* Poll set and loop watches                                                */
/* ------------------------------------------------------------------------ */

/** sl_watch_grow() - make the watch table cover @fd. Return: 0 or -ENOMEM. */
static int sl_watch_grow(struct sl_priv *s, int fd)
{
	unsigned cap = s->watch_cap ? s->watch_cap : 64;
	struct sl_watch *w;
	int *wl;

	if ((unsigned)fd < s->watch_cap)
		return 0;
	while (cap <= (unsigned)fd)
		cap *= 2;
	w = realloc(s->watch, cap * sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w + s->watch_cap, 0, (cap - s->watch_cap) * sizeof(*w));
	s->watch = w;
	wl = realloc(s->watched, cap * sizeof(*wl));
	if (!wl)
		return -ENOMEM;
	s->watched = wl;
	s->watch_cap = cap;
	return 0;
}

/**
 * sl_add_poll() - slirp_pollfds_fill()'s add_poll: record @fd and @events.
 * Return: the index slirp passes back to sl_get_revents(), -1 when out of
 * memory (the socket is then not polled this round).
 */
static int sl_add_poll(int fd, int events, void *opaque)
{
	struct sl_priv *s = netbe_priv(opaque);
	struct sl_watch *w;

	if (fd < 0 || sl_watch_grow(s, fd))
		return -1;
	if (s->nset == s->set_cap) {
		unsigned cap = s->set_cap ? 2 * s->set_cap : 16;
		struct sl_pollent *set = realloc(s->set, cap * sizeof(*set));

		if (!set) {
			NB_LOG_RL(NETBE_LOG_ERR, "slirp: out of memory polling fd %d", fd);
			return -1;
		}
		s->set = set;
		s->set_cap = cap;
	}
	s->set[s->nset] = (struct sl_pollent){ .fd = fd, .events = events };
	w = &s->watch[fd];
	w->gen = s->gen;
	w->idx = s->nset;
	if (!w->handle || w->stale || w->events != sl_to_netbe_ev(events))
		s->set_changed = true;
	return (int)s->nset++;
}

/** sl_get_revents() - slirp_pollfds_poll()'s get_revents.
 * Return: the SLIRP_POLL_* events recorded for index @idx. */
static int sl_get_revents(int idx, void *opaque)
{
	struct sl_priv *s = netbe_priv(opaque);

	if (idx < 0 || (unsigned)idx >= s->nset)
		return 0;
	return s->set[idx].revents;
}

/** sl_forget() - drop fd's place in the list of watched fds. */
static void sl_forget(struct sl_priv *s, int fd)
{
	struct sl_watch *w = &s->watch[fd];
	int last = s->watched[--s->nwatched];

	s->watched[w->wl_idx] = last;
	s->watch[last].wl_idx = w->wl_idx;
	w->handle = NULL;
	w->events = 0;
	w->stale = false;
}

/** sl_unwatch() - delete the loop watch of @fd; on the loop thread. */
static void sl_unwatch(struct netbe *be, int fd)
{
	struct sl_priv *s = netbe_priv(be);

	be->loop.ops->watch_del(be->loop.loop, s->watch[fd].handle);
	sl_forget(s, fd);
}

static void sl_on_socket(void *opaque, int fd, unsigned revents);

/** sl_watch_set() - give @fd a watch for @events; on the loop thread.
 * Return: 0 or the loop's negative errno. */
static int sl_watch_set(struct netbe *be, int fd, unsigned events)
{
	struct sl_priv *s = netbe_priv(be);
	struct sl_watch *w = &s->watch[fd];
	int ret;

	if (!w->handle) {
		ret = be->loop.ops->watch_add(be->loop.loop, fd, sl_on_socket, be,
					      &w->handle);
		if (ret)
			return ret;
		w->events = 0;
		w->wl_idx = s->nwatched;
		s->watched[s->nwatched++] = fd;
	}
	if (w->events == events)
		return 0;
	ret = be->loop.ops->watch_mod(be->loop.loop, w->handle, events);
	if (!ret)
		w->events = events;
	return ret;
}

/** sl_reconcile() - make the loop watches match the last fill; on the loop
 * thread. Failures are logged and retried at the next fill. */
static void sl_reconcile(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	unsigned i;
	int ret;

	for (i = 0; i < s->nwatched;) {
		int fd = s->watched[i];

		if (s->watch[fd].stale || s->watch[fd].gen != s->gen)
			sl_unwatch(be, fd);
		else
			i++;
	}
	for (i = 0; i < s->nset; i++) {
		ret = sl_watch_set(be, s->set[i].fd, sl_to_netbe_ev(s->set[i].events));
		if (ret) {
			NB_LOG_RL(NETBE_LOG_ERR, "slirp: cannot watch socket fd %d: %s",
				  s->set[i].fd, strerror(-ret));
			s->set_changed = true;
			return;
		}
	}
	s->set_changed = false;
}

/** sl_fill() - ask slirp for its poll set and note the poll deadline. */
static void sl_fill(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	uint32_t timeout = UINT32_MAX;
	uint64_t want;

	s->gen++;
	s->nset = 0;
	s->set_changed = false;
	slirp_pollfds_fill(s->slirp, &timeout, sl_add_poll, be);
	if (s->nset != s->nwatched)
		s->set_changed = true;
	if (timeout < SL_POLL_MIN_MS)
		timeout = SL_POLL_MIN_MS;
	want = nb_clock_ns(CLOCK_MONOTONIC) + timeout * SL_NS_PER_MS;
	if (!s->poll_armed || want < s->poll_deadline_ns)
		s->poll_want_ns = want;
}

/** sl_arm_poll() - arm the poll timer for the deadline the fill wanted;
 * on the loop thread. */
static void sl_arm_poll(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	uint64_t now = nb_clock_ns(CLOCK_MONOTONIC), want = s->poll_want_ns;
	int ret;

	if (!want)
		return;
	s->poll_want_ns = 0;
	ret = be->loop.ops->timer_mod(be->loop.loop, s->poll_timer,
				      want > now ? want - now : 1, 0);
	if (ret) {
		NB_LOG_RL(NETBE_LOG_ERR, "slirp: cannot arm the poll timer: %s",
			  strerror(-ret));
		return;
	}
	s->poll_armed = true;
	s->poll_deadline_ns = want;
}

/** sl_apply_timers() - apply slirp timer changes made off the loop thread. */
static void sl_apply_timers(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	unsigned i;

	for (i = 0; i < s->ntimers; i++) {
		struct sl_timer *t = s->timers[i];

		if (!t->pending_ns)
			continue;
		be->loop.ops->timer_mod(be->loop.loop, t->handle, t->pending_ns, 0);
		t->pending_ns = 0;
	}
}

/** sl_wake_loop() - have the loop thread run sl_sync() soon. */
static void sl_wake_loop(struct sl_priv *s)
{
	uint64_t one = 1;

	if (s->wake_pending)
		return;
	s->wake_pending = true;
	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		NB_LOG_RL(NETBE_LOG_ERR, "slirp: cannot wake the loop: %s",
			  strerror(errno));
}

/** sl_sync() - bring loop watches and timers up to date with slirp, or
 * leave it to the loop thread when called off it. s->lock held. */
static void sl_sync(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	bool timers = false;
	unsigned i;

	for (i = 0; i < s->ntimers && !timers; i++)
		timers = s->timers[i]->pending_ns != 0;
	if (!s->set_changed && !s->poll_want_ns && !timers)
		return;
	if (!sl_on_loop(s)) {
		sl_wake_loop(s);
		return;
	}
	if (s->set_changed)
		sl_reconcile(be);
	sl_arm_poll(be);
	if (timers)
		sl_apply_timers(be);
}

/** sl_enter() - start a call into slirp. */
static void sl_enter(struct sl_priv *s)
{
	pthread_mutex_lock(&s->lock);
}

/** sl_leave() - end a call into slirp: refill the poll set, sync the loop,
 * and tell core about frames queued meanwhile (after unlocking, since
 * core may call recv() right away). */
static void sl_leave(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	bool kick;

	sl_fill(be);
	sl_sync(be);
	kick = s->kick;
	s->kick = false;
	pthread_mutex_unlock(&s->lock);
	if (kick)
		netbe_rx_kick(be);
}

/** sl_on_socket() - a watched socket is ready: let slirp handle it. */
static void sl_on_socket(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);
	struct sl_watch *w;

	sl_enter(s);
	s->loop_thread = pthread_self();
	w = (unsigned)fd < s->watch_cap ? &s->watch[fd] : NULL;
	if (w && w->gen == s->gen && w->idx < s->nset && s->set[w->idx].fd == fd) {
		s->set[w->idx].revents = sl_from_netbe_ev(revents);
		slirp_pollfds_poll(s->slirp, 0, sl_get_revents, be);
	}
	sl_leave(be);
}

/** sl_on_poll_timer() - run slirp's TCP and IP timers. */
static void sl_on_poll_timer(void *opaque)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);

	sl_enter(s);
	s->loop_thread = pthread_self();
	s->poll_armed = false;
	slirp_pollfds_poll(s->slirp, 0, sl_get_revents, be);
	sl_leave(be);
}

/** sl_on_wake() - a call off the loop thread left loop work for us. */
static void sl_on_wake(void *opaque, int fd, unsigned revents)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);
	uint64_t n;

	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		NB_LOG_RL(NETBE_LOG_ERR, "slirp: cannot read the wake eventfd: %s",
			  strerror(errno));
	sl_enter(s);
	s->loop_thread = pthread_self();
	s->wake_pending = false;
	sl_leave(be);
}

/* ------------------------------------------------------------------------ */
/* libslirp callbacks                                                       */
/* ------------------------------------------------------------------------ */

/** sl_cb_send_packet() - a frame for the guest: queue it.
 * Return: @len (slirp treats a frame it handed over as sent). */
static ssize_t sl_cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);
	int ret;

	if (len > be->rx_max) {
		netbe_count_drop(be, NETBE_DROP_RX_OVERFLOW);
		NB_LOG_RL(NETBE_LOG_WARN, "slirp: dropped a %zu-byte frame larger than mtu %zu",
			  len, s->mtu);
		return (ssize_t)len;
	}
	ret = sl_ring_push(&s->ring, buf, len);
	if (ret < 0)
		netbe_count_drop(be, NETBE_DROP_RX_OVERFLOW);
	else if (ret)
		s->kick = true;
	return (ssize_t)len;
}

/** sl_cb_guest_error() - slirp found the guest misbehaving: log it. */
static void sl_cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	NB_LOG_RL(NETBE_LOG_WARN, "slirp: guest error: %s", msg);
}

/** sl_cb_clock_get_ns() - Return: CLOCK_MONOTONIC in ns. */
static int64_t sl_cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)nb_clock_ns(CLOCK_MONOTONIC);
}

/** sl_on_slirp_timer() - a libslirp timer expired: hand it to slirp. */
static void sl_on_slirp_timer(void *opaque)
{
	struct sl_timer *t = opaque;
	struct sl_priv *s = netbe_priv(t->be);

	sl_enter(s);
	s->loop_thread = pthread_self();
	slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
	sl_leave(t->be);
}

/** sl_cb_timer_new_opaque() - create a loop timer for slirp timer @id.
 * Return: the timer, NULL when out of memory (slirp then has no timer). */
static void *sl_cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque,
				    void *opaque)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);
	struct sl_timer *t = calloc(1, sizeof(*t)), **list;

	list = t ? realloc(s->timers, (s->ntimers + 1) * sizeof(*list)) : NULL;
	if (!list)
		goto fail;
	s->timers = list;
	*t = (struct sl_timer){ .be = be, .id = id, .cb_opaque = cb_opaque };
	if (be->loop.ops->timer_add(be->loop.loop, sl_on_slirp_timer, t, &t->handle))
		goto fail;
	s->timers[s->ntimers++] = t;
	return t;
fail:
	nb_err("slirp: cannot create a timer for libslirp: out of memory or loop refused");
	free(t);
	return NULL;
}

/** sl_cb_timer_free() - destroy a timer made by sl_cb_timer_new_opaque(). */
static void sl_cb_timer_free(void *timer, void *opaque)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);
	struct sl_timer *t = timer;
	unsigned i;

	if (!t)
		return;
	for (i = 0; i < s->ntimers; i++) {
		if (s->timers[i] == t) {
			s->timers[i] = s->timers[--s->ntimers];
			break;
		}
	}
	be->loop.ops->timer_del(be->loop.loop, t->handle);
	free(t);
}

/** sl_cb_timer_mod() - arm @timer for @expire_ms on the slirp clock. */
static void sl_cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);
	struct sl_timer *t = timer;
	int64_t delay = expire_ms * (int64_t)SL_NS_PER_MS - (int64_t)nb_clock_ns(CLOCK_MONOTONIC);

	if (!t)
		return;
	t->pending_ns = delay > 0 ? (uint64_t)delay : 1;
	if (sl_on_loop(s)) {
		be->loop.ops->timer_mod(be->loop.loop, t->handle, t->pending_ns, 0);
		t->pending_ns = 0;
	}
}

/** sl_cb_register_poll_fd() - slirp made a socket; a watch left on that fd
 * number belongs to a socket closed without notice: mark it. */
static void sl_cb_register_poll_fd(int fd, void *opaque)
{
	struct sl_priv *s = netbe_priv(opaque);

	if (fd >= 0 && (unsigned)fd < s->watch_cap && s->watch[fd].handle)
		s->watch[fd].stale = true;
}

/** sl_cb_unregister_poll_fd() - slirp is about to close @fd: delete its
 * watch now, before the number can be reused. */
static void sl_cb_unregister_poll_fd(int fd, void *opaque)
{
	struct netbe *be = opaque;
	struct sl_priv *s = netbe_priv(be);

	if (fd < 0 || (unsigned)fd >= s->watch_cap || !s->watch[fd].handle)
		return;
	if (sl_on_loop(s))
		sl_unwatch(be, fd);
	else
		s->watch[fd].stale = true;
}

/** sl_cb_notify() - slirp's buffers drained and its poll set will change;
 * nothing to do, since the poll set is refilled after every call. */
static void sl_cb_notify(void *opaque)
{
	(void)opaque;
}

/** sl_cb_init_completed() - slirp_new() is done: keep the instance. */
static void sl_cb_init_completed(Slirp *slirp, void *opaque)
{
	struct sl_priv *s = netbe_priv(opaque);

	s->slirp = slirp;
}

static const SlirpCb sl_callbacks = {
	.send_packet = sl_cb_send_packet,
	.guest_error = sl_cb_guest_error,
	.clock_get_ns = sl_cb_clock_get_ns,
	.timer_free = sl_cb_timer_free,
	.timer_mod = sl_cb_timer_mod,
	.register_poll_fd = sl_cb_register_poll_fd,
	.unregister_poll_fd = sl_cb_unregister_poll_fd,
	.notify = sl_cb_notify,
	.init_completed = sl_cb_init_completed,
	.timer_new_opaque = sl_cb_timer_new_opaque,
};

/* ------------------------------------------------------------------------ */
/* Host forwards: hostfwd= and the hostfwd ops                              */
/* ------------------------------------------------------------------------ */

/** sl_parse_endpoint() - "[ADDR]:PORT" in @s (@len chars) by the address
 * grammar (IPv4 or bracketed IPv6), ADDR @def when empty, into @out.
 * Return: NULL, or what is wrong with it (in @why or a literal). */
static const char *sl_parse_endpoint(const char *s, size_t len, const char *def,
				     struct sockaddr_storage *out,
				     char *why, size_t whylen)
{
	char text[96];
	struct netbe_addr a;

	if (len + strlen(def) >= sizeof(text))
		return "address too long";
	snprintf(text, sizeof(text), "%s%.*s", len && *s == ':' ? def : "", (int)len, s);
	if (netbe_addr_parse(text, 0, 0, &a, why, whylen))
		return why;
	if (a.ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&a.ss)->sin6_scope_id)
		return "scoped IPv6 addresses (%IFACE) are not supported";
	*out = a.ss;
	return NULL;
}

/** sl_check_guest4() - Return: NULL when @a is a guest address of the
 * virtual IPv4 network, or what is wrong with it. */
static const char *sl_check_guest4(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr), net = ntohl(inet_addr(SL_NET));
	uint32_t mask = ntohl(inet_addr(SL_MASK)), host = h & ~mask;

	if ((h & mask) != net)
		return "guest address outside 10.0.2.0/24";
	if (!host || host == ~mask || a.s_addr == inet_addr(SL_HOST) ||
	    a.s_addr == inet_addr(SL_DNS))
		return "guest address is the network, broadcast, gateway or DNS address";
	return NULL;
}

/** sl_check_guest6() - Return: NULL when @a is a guest address of the
 * virtual IPv6 network (on when @ipv6), or what is wrong with it. */
static const char *sl_check_guest6(const struct in6_addr *a, bool ipv6)
{
	struct in6_addr net, gw, dns;

	inet_pton(AF_INET6, SL_NET6, &net);
	inet_pton(AF_INET6, SL_HOST6, &gw);
	inet_pton(AF_INET6, SL_DNS6, &dns);
	if (!ipv6)
		return "an IPv6 guest address with ipv6=off";
	if (memcmp(a, &net, SL_PREFIX6_LEN / 8))
		return "guest address outside fd00::/64";
	if (!memcmp(a, &net, sizeof(*a)) || !memcmp(a, &gw, sizeof(*a)) ||
	    !memcmp(a, &dns, sizeof(*a)))
		return "guest address is the network, gateway or DNS address";
	return NULL;
}

/** sl_check_guest() - fill in the default guest (10.0.2.15 for 0.0.0.0)
 * and check @g. Return: NULL when the guest can be reached, or why not. */
static const char *sl_check_guest(struct sockaddr_storage *g, bool ipv6)
{
	struct sockaddr_in *g4 = (struct sockaddr_in *)g;

	if (g->ss_family == AF_INET6)
		return sl_check_guest6(&((struct sockaddr_in6 *)g)->sin6_addr, ipv6);
	if (!g4->sin_addr.s_addr)
		g4->sin_addr.s_addr = inet_addr(SL_DHCP_START);
	return sl_check_guest4(g4->sin_addr);
}

/** sl_parse_fwd() - parse a hostfwd= value into @f.
 * Return: 0, or -EINVAL naming the key, the value and the syntax. */
static int sl_parse_fwd(const char *v, bool ipv6, struct netbe_hostfwd *f)
{
	const char *colon = strchr(v, ':'), *dash, *why;
	char buf[256];
	size_t plen;

	memset(f, 0, sizeof(*f));
	if (!colon) {
		why = "missing protocol";
		goto bad;
	}
	plen = (size_t)(colon - v);
	if (plen == 3 && !strncmp(v, "udp", 3))
		f->proto = NETBE_HOSTFWD_UDP;
	else if (plen && !(plen == 3 && !strncmp(v, "tcp", 3))) {
		why = "protocol is not tcp or udp";
		goto bad;
	}
	dash = strchr(colon + 1, '-');
	if (!dash || strchr(dash + 1, '-')) {
		why = "expected one '-' between host and guest";
		goto bad;
	}
	why = sl_parse_endpoint(colon + 1, (size_t)(dash - colon - 1),
				SL_FWD_HOST_DEFAULT, &f->host, buf, sizeof(buf));
	if (!why)
		why = sl_parse_endpoint(dash + 1, strlen(dash + 1), SL_DHCP_START,
					&f->guest, buf, sizeof(buf));
	if (!why)
		why = sl_check_guest(&f->guest, ipv6);
	if (!why)
		return 0;
bad:
	return netbe_errf(-EINVAL, "slirp: bad value '%s' for key 'hostfwd': %s; expected %s",
			  v, why, SL_FWD_SYNTAX);
}

/** sl_sa_len() - Return: the length of the AF_INET/AF_INET6 address @ss. */
static socklen_t sl_sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

/** sl_fwd_flags() - Return: libslirp's SLIRP_HOSTFWD_* flags for @f; an
 * IPv6 listener takes IPv6 only, so 0.0.0.0 and :: can both be forwarded. */
static int sl_fwd_flags(const struct netbe_hostfwd *f)
{
	return (f->proto == NETBE_HOSTFWD_UDP ? SLIRP_HOSTFWD_UDP : 0) |
	       (f->host.ss_family == AF_INET6 ? SLIRP_HOSTFWD_V6ONLY : 0);
}

/** sl_fwd_room() - make room for one more forward.
 * Return: 0 or -ENOMEM with a message. */
static int sl_fwd_room(struct sl_priv *s)
{
	unsigned cap = s->fwds_cap ? 2 * s->fwds_cap : 8;
	struct netbe_hostfwd *f;

	if (s->nfwds < s->fwds_cap)
		return 0;
	f = realloc(s->fwds, cap * sizeof(*f));
	if (!f)
		return netbe_errf(-ENOMEM, "slirp: out of memory for a host forward");
	s->fwds = f;
	s->fwds_cap = cap;
	return 0;
}

/**
 * sl_fwd_install() - have libslirp listen for forward @f (guest already
 * checked) and record it under a new id; @what names the request in
 * messages. Return: 0 with *@id set, or a negative errno with a message.
 */
static int sl_fwd_install(struct netbe *be, const struct netbe_hostfwd *f,
			  unsigned *id, const char *what)
{
	struct sl_priv *s = netbe_priv(be);
	char host[NETBE_ADDR_STRLEN];
	int ret = sl_fwd_room(s), err = 0;

	if (ret)
		return ret;
	sl_enter(s);
	errno = 0;
	if (slirp_add_hostxfwd(s->slirp, (const struct sockaddr *)&f->host,
			       sl_sa_len(&f->host), (const struct sockaddr *)&f->guest,
			       sl_sa_len(&f->guest), sl_fwd_flags(f)) < 0)
		err = errno ? errno : EADDRINUSE;
	sl_leave(be);
	if (err) {
		netbe_addr_format((const struct sockaddr *)&f->host, sl_sa_len(&f->host),
				  host, sizeof(host));
		return netbe_errf(-err, "slirp: %s: cannot listen on %s %s: %s - pick a free host port or address",
				  what, f->proto == NETBE_HOSTFWD_UDP ? "udp" : "tcp",
				  host, strerror(err));
	}
	s->fwds[s->nfwds] = *f;
	s->fwds[s->nfwds].id = *id = ++s->fwd_last_id;
	s->nfwds++;
	return 0;
}

/** sl_add_fwds() - parse and install every hostfwd= of @spec.
 * Return: 0 or a negative errno with a message. */
static int sl_add_fwds(struct netbe *be, const struct netbe_spec *spec)
{
	struct sl_priv *s = netbe_priv(be);
	unsigned i, id, n = netbe_spec_count(spec, "hostfwd");
	struct netbe_hostfwd f;
	char what[128];
	int ret;

	for (i = 0; i < n; i++) {
		const char *v = netbe_spec_nth(spec, "hostfwd", i);

		ret = sl_parse_fwd(v, s->ipv6, &f);
		snprintf(what, sizeof(what), "hostfwd=%s", v);
		if (!ret)
			ret = sl_fwd_install(be, &f, &id, what);
		if (ret)
			return ret;
	}
	return 0;
}

/** sl_hostfwd_add() - the backend's hostfwd_add().
 * Return: 0 with *@id set, or a negative errno with a message. */
static int sl_hostfwd_add(struct netbe *be, const struct netbe_hostfwd *fwd,
			  unsigned *id)
{
	struct sl_priv *s = netbe_priv(be);
	struct netbe_hostfwd f = *fwd;
	const char *why = sl_check_guest(&f.guest, s->ipv6);

	if (why)
		return netbe_errf(-EINVAL, "slirp: netbe_hostfwd_add: %s", why);
	return sl_fwd_install(be, &f, id, "netbe_hostfwd_add");
}

/** sl_hostfwd_remove() - the backend's hostfwd_remove(): close the
 * listener of forward @id. Return: 0 or -ENOENT with a message. */
static int sl_hostfwd_remove(struct netbe *be, unsigned id)
{
	struct sl_priv *s = netbe_priv(be);
	struct netbe_hostfwd *f;
	unsigned i;
	int ret;

	for (i = 0; i < s->nfwds && s->fwds[i].id != id; i++)
		;
	if (i == s->nfwds)
		return netbe_errf(-ENOENT, "slirp: no host forward with id %u", id);
	f = &s->fwds[i];
	sl_enter(s);
	ret = slirp_remove_hostxfwd(s->slirp, (const struct sockaddr *)&f->host,
				    sl_sa_len(&f->host), sl_fwd_flags(f));
	sl_leave(be);
	if (ret < 0)
		nb_info("slirp: host forward %u had no listener left in libslirp", id);
	memmove(f, f + 1, (s->nfwds - i - 1) * sizeof(*f));
	s->nfwds--;
	return 0;
}

/** sl_hostfwd_list() - the backend's hostfwd_list().
 * Return: the number of forwards. */
static int sl_hostfwd_list(struct netbe *be, struct netbe_hostfwd *out,
			   unsigned max)
{
	struct sl_priv *s = netbe_priv(be);
	unsigned n = s->nfwds < max ? s->nfwds : max;

	if (n)
		memcpy(out, s->fwds, n * sizeof(*out));
	return (int)s->nfwds;
}

/* ------------------------------------------------------------------------ */
/* Backend operations                                                       */
/* ------------------------------------------------------------------------ */

/** sl_config() - fill @cfg from the spec's keys.
 * Return: 0 or -EINVAL naming the key. */
static int sl_config(const struct netbe_spec *spec, SlirpConfig *cfg,
		     size_t *mtu)
{
	bool restricted, ipv6;
	uint64_t m;
	int ret;

	ret = netbe_spec_uint(spec, "mtu", SL_MTU_MIN, SL_MTU_MAX, SL_MTU_DEFAULT, &m);
	if (!ret)
		ret = netbe_spec_bool(spec, "restrict", false, &restricted);
	if (!ret)
		ret = netbe_spec_bool(spec, "ipv6", true, &ipv6);
	if (ret)
		return ret;
	*mtu = (size_t)m;
	memset(cfg, 0, sizeof(*cfg));
	cfg->version = 4;
	cfg->restricted = restricted;
	cfg->in_enabled = true;
	inet_pton(AF_INET, SL_NET, &cfg->vnetwork);
	inet_pton(AF_INET, SL_MASK, &cfg->vnetmask);
	inet_pton(AF_INET, SL_HOST, &cfg->vhost);
	inet_pton(AF_INET, SL_DHCP_START, &cfg->vdhcp_start);
	inet_pton(AF_INET, SL_DNS, &cfg->vnameserver);
	cfg->in6_enabled = ipv6;
	inet_pton(AF_INET6, SL_NET6, &cfg->vprefix_addr6);
	cfg->vprefix_len = SL_PREFIX6_LEN;
	inet_pton(AF_INET6, SL_HOST6, &cfg->vhost6);
	inet_pton(AF_INET6, SL_DNS6, &cfg->vnameserver6);
	cfg->if_mtu = *mtu;
	cfg->if_mru = *mtu;
	return 0;
}

/** sl_release() - free everything; works on a partly opened handle. */
static void sl_release(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	const struct netbe_loop_ops *ops = be->loop.ops;

	s->loop_thread = pthread_self();
	if (s->slirp)
		slirp_cleanup(s->slirp);
	s->slirp = NULL;
	netbe_count_drops(be, NETBE_DROP_TX_FRAGMENT, ipf_release(&s->frags));
	while (s->nwatched)
		sl_unwatch(be, s->watched[0]);
	while (s->ntimers)
		sl_cb_timer_free(s->timers[0], be);
	if (s->poll_timer)
		ops->timer_del(be->loop.loop, s->poll_timer);
	if (s->wake_watch)
		ops->watch_del(be->loop.loop, s->wake_watch);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->timers);
	free(s->set);
	free(s->watch);
	free(s->watched);
	free(s->bounce);
	free(s->fwds);
	free(s->ring.buf);
	pthread_mutex_destroy(&s->ring.lock);
	pthread_mutex_destroy(&s->lock);
}

/** sl_open_loop() - the wake eventfd, its watch and the poll timer.
 * Return: 0 or a negative errno with a message. */
static int sl_open_loop(struct netbe *be)
{
	struct sl_priv *s = netbe_priv(be);
	const struct netbe_loop_ops *ops = be->loop.ops;
	int ret;

	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0)
		return netbe_errf(-errno, "slirp: cannot create an eventfd: %s - raise the open file limit (ulimit -n)",
				  strerror(errno));
	ret = ops->watch_add(be->loop.loop, s->wake_fd, sl_on_wake, be, &s->wake_watch);
	if (!ret)
		ret = ops->watch_mod(be->loop.loop, s->wake_watch, NETBE_EV_IN);
	if (!ret)
		ret = ops->timer_add(be->loop.loop, sl_on_poll_timer, be, &s->poll_timer);
	if (ret)
		return netbe_errf(ret, "slirp: the loop refused a watch or a timer: %s",
				  strerror(-ret));
	return 0;
}

/** sl_open() - the backend's open(): configure and start libslirp.
 * Return: 0 or a negative errno with a message. */
static int sl_open(struct netbe *be, const struct netbe_spec *spec)
{
	struct sl_priv *s = netbe_priv(be);
	SlirpConfig cfg;
	int ret;

	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->ring.lock, NULL);
	s->wake_fd = -1;
	s->loop_thread = pthread_self();
	ret = sl_config(spec, &cfg, &s->mtu);
	s->ipv6 = !ret && cfg.in6_enabled;
	if (!ret)
		ret = sl_open_loop(be);
	if (ret)
		goto fail;
	be->rx_max = be->tx_max = s->mtu + SL_ETH_HLEN;
	be->auto_native_only = s->mtu > SL_SOFT_OFFLOAD_MTU_MAX;
	s->ring.buf = malloc(SL_RING_BYTES);
	s->bounce = malloc(be->tx_max);
	if (!s->ring.buf || !s->bounce) {
		ret = netbe_errf(-ENOMEM, "slirp: out of memory");
		goto fail;
	}
	s->slirp = slirp_new(&cfg, &sl_callbacks, be);
	if (!s->slirp) {
		ret = netbe_errf(-ENOMEM, "slirp: libslirp %s refused the configuration or is out of memory",
				 slirp_version_string());
		goto fail;
	}
	ret = sl_add_fwds(be, spec);
	if (ret)
		goto fail;
	sl_enter(s);
	sl_leave(be);
	return 0;
fail:
	sl_release(be);
	return ret;
}

/** sl_close() - the backend's close(). */
static void sl_close(struct netbe *be)
{
	sl_release(be);
}

/** sl_frame() - frame @x as one buffer, gathered into the bounce buffer
 * when it has several segments. Return: its start. */
static const uint8_t *sl_frame(struct sl_priv *s, const struct netbe_xfer *x)
{
	if (x->iovcnt == 1)
		return x->iov[0].iov_base;
	iov_to_buf(x->iov, x->iovcnt, 0, s->bounce, x->len);
	return s->bounce;
}

/**
 * sl_input() - hand the guest frame @f of @len bytes to slirp, through the
 * reassembler: whole datagrams and frames that are not IP fragments go in,
 * fragments wait for the rest of their datagram, bad headers are counted.
 * A completed datagram counts its earlier fragments as sent, with the
 * bytes it adds to this frame's, so every fragment is counted once: sent
 * or dropped.
 * Return: 0 when core counts the frame as sent, NETBE_XFER_ACCOUNTED when
 * it is held or was counted as a drop here.
 */
static int sl_input(struct netbe *be, const uint8_t *f, size_t len)
{
	struct sl_priv *s = netbe_priv(be);
	struct ipf_out out;
	int ret = NETBE_XFER_ACCOUNTED;

	switch (ipf_input(&s->frags, f, len, nb_clock_ns(CLOCK_MONOTONIC), &out)) {
	case IPF_PASS:
		slirp_input(s->slirp, f, (int)len);
		ret = 0;
		break;
	case IPF_DONE:
		slirp_input(s->slirp, out.frame, (int)out.len);
		netbe_count_tx(be, out.nfrags - 1, out.len > len ? out.len - len : 0);
		ret = 0;
		break;
	case IPF_BAD_HDR:
		netbe_count_drop(be, NETBE_DROP_TX_BAD_HDR);
		break;
	case IPF_HELD:
	case IPF_DROPPED:
		break;
	}
	netbe_count_drops(be, NETBE_DROP_TX_FRAGMENT, out.dropped);
	return ret;
}

/**
 * sl_send() - the backend's send(): hand frames to slirp, which takes
 * every frame, stopping after one that slirp answered (an ARP reply, the
 * ACK of a TCP segment) so that core can hand the answer to an inline-rx
 * frontend before the next frame goes in.
 * Return: frames consumed, at least 1.
 */
static int sl_send(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct sl_priv *s = netbe_priv(be);
	unsigned i;

	sl_enter(s);
	for (i = 0; i < n; i++) {
		x[i].err = 0;
		if (x[i].len > be->tx_max) {
			x[i].err = -EMSGSIZE;
			continue;
		}
		x[i].err = sl_input(be, sl_frame(s, &x[i]), x[i].len);
		if (s->kick) {
			i++;
			break;  /* slirp answered: core may deliver it before the next frame */
		}
	}
	sl_leave(be);
	return (int)i;
}

/** sl_recv() - the backend's recv(): pop queued frames into @x.
 * Return: frames received, 0 when none is pending. */
static int sl_recv(struct netbe *be, struct netbe_xfer *x, unsigned n)
{
	struct sl_priv *s = netbe_priv(be);
	struct sl_ring *r = &s->ring;
	unsigned i;
	bool more;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < n && r->count; i++) {
		unsigned char *rec = sl_ring_front(r);
		size_t len = *(uint32_t *)rec;

		x[i].len = iov_from_buf(x[i].iov, x[i].iovcnt, 0, rec + SL_REC_HDR, len);
		sl_ring_pop(r, len);
	}
	more = r->count != 0;
	if (!more)
		r->told = false;
	pthread_mutex_unlock(&r->lock);
	if (more)
		netbe_rx_kick(be);
	return (int)i;
}

/** sl_rx_count() - the backend's rx_count(). Return: frames in the ring. */
static unsigned sl_rx_count(struct netbe *be)
{
	struct sl_ring *r = &((struct sl_priv *)netbe_priv(be))->ring;
	unsigned count;

	pthread_mutex_lock(&r->lock);
	count = r->count;
	if (!count)
		r->told = false;  /* as sl_recv() finding it empty would */
	pthread_mutex_unlock(&r->lock);
	return count;
}

const struct netbe_backend netbe_backend_slirp = {
	.name = "slirp",
	.help = "user-mode NAT through libslirp: DHCP, DNS, outbound TCP/UDP and hostfwd, no privileges",
	.name_use = NETBE_NAME_NONE,
	.keys = sl_keys,
	.priv_size = sizeof(struct sl_priv),
	.open = sl_open,
	.close = sl_close,
	.send = sl_send,
	.recv = sl_recv,
	.rx_count = sl_rx_count,
	.hostfwd_add = sl_hostfwd_add,
	.hostfwd_remove = sl_hostfwd_remove,
	.hostfwd_list = sl_hostfwd_list,
};
