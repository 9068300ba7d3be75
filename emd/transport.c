/*
 * emd's transport (see transport.h): accept clients on the listening socket,
 * read their request datagrams and hand them up, send or queue what comes
 * down, pull produced output when a client can take it, deliver multicast
 * with a bounded queue per client, and close clients that go away — one
 * epoll loop, non-blocking sockets, on emd's one thread. Nothing here knows
 * a family or the layout of a netlink message.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "transport.h"

/* One packet waiting in a client's output queue. */
struct emd_pkt {
	struct emd_pkt *next;
	size_t len;
	uint8_t data[];
};

struct emd_conn {
	int fd;
	uint32_t portid;          /* the peer's pid: what replies carry in nlmsg_pid */
	struct emd_conn *prev, *next;
	uint64_t groups;          /* multicast groups it is a member of */
	bool overrun;             /* multicast was dropped; the notice is still to be sent */
	bool closing;
	uint32_t epoll_events;    /* what the client is registered for */
	struct emd_pkt *q_head, *q_tail;
	unsigned int q_len;       /* packets queued */
	size_t q_bytes;           /* bytes queued */
	uint8_t *pend;            /* the rest of a request datagram not yet handled */
	size_t pend_len, pend_off;
	uint64_t dropped;         /* multicast packets dropped since the last notice */
	size_t max_packet;        /* the socket's send buffer bounds a datagram */
	max_align_t priv[];       /* the layer above's state (cfg.conn_priv bytes) */
};

/* A file descriptor the loop watches for the daemon. */
struct watch {
	int fd;
	emd_transport_fd_cb cb;
	void *arg;
};

#define MAX_WATCHES 4

struct emd_transport {
	struct emd_transport_config cfg;
	const struct emd_transport_ops *ops;
	void *ctx;
	int epfd, lfd;
	struct emd_conn *clients;
	unsigned int nr_clients;
	uint8_t *rxbuf;  /* request datagrams */
	uint8_t *pktbuf; /* produced packets (dumps, notices) */
	struct watch watches[MAX_WATCHES];
	unsigned int nr_watches;
};

static void handle_dgram(struct emd_transport *t, struct emd_conn *c, const uint8_t *buf,
			 size_t len);

/* ---- connections ----------------------------------------------------------------- */

uint32_t emd_conn_portid(const struct emd_conn *c)
{
	return c->portid;
}

bool emd_conn_closing(const struct emd_conn *c)
{
	return c->closing;
}

bool emd_conn_congested(const struct emd_transport *t, const struct emd_conn *c)
{
	return t->cfg.queue_bytes && c->q_bytes >= t->cfg.queue_bytes;
}

void *emd_conn_priv(struct emd_conn *c)
{
	return c->priv;
}

const void *emd_conn_priv_const(const struct emd_conn *c)
{
	return c->priv;
}

void emd_conn_set_member(struct emd_conn *c, unsigned int group, bool on)
{
	assert(group < EMD_TRANSPORT_MAX_GROUPS);
	if (on)
		c->groups |= UINT64_C(1) << group;
	else
		c->groups &= ~(UINT64_C(1) << group);
}

/* Does @c have anything waiting to go out or to be produced? */
static bool has_output(const struct emd_transport *t, const struct emd_conn *c)
{
	return c->q_head || c->pend || t->ops->pending(t->ctx, c);
}

/* Register @c for what it can do now: read requests only when nothing waits. */
static void client_rearm(struct emd_transport *t, struct emd_conn *c)
{
	uint32_t want = has_output(t, c) ? EPOLLOUT : EPOLLIN;
	struct epoll_event ev = {.events = want, .data.ptr = c};

	if (c->closing || want == c->epoll_events)
		return;
	if (epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->epoll_events = want;
	else
		c->closing = true;
}

/* ---- output ---------------------------------------------------------------------- */

/* Append a copy of @buf to @c's queue. */
static int enqueue(struct emd_conn *c, const void *buf, size_t len)
{
	struct emd_pkt *p = malloc(sizeof(*p) + len);

	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->len = len;
	memcpy(p->data, buf, len);
	if (c->q_tail)
		c->q_tail->next = p;
	else
		c->q_head = p;
	c->q_tail = p;
	c->q_len++;
	c->q_bytes += len;
	return 0;
}

/* Take the head packet off @c's queue. */
static void dequeue(struct emd_conn *c)
{
	struct emd_pkt *p = c->q_head;

	assert(p && c->q_len > 0 && c->q_bytes >= p->len);
	c->q_head = p->next;
	if (!c->q_head)
		c->q_tail = NULL;
	c->q_len--;
	c->q_bytes -= p->len;
	assert(c->q_head || (c->q_len == 0 && c->q_bytes == 0));
	free(p);
}

/* Send one datagram without blocking: 0, -EAGAIN, or a fatal -errno. */
static int send_now(struct emd_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	if (errno == EMSGSIZE)
		emd_log("client %u: a %zu-byte packet exceeds its socket's send buffer", c->portid,
			len);
	return -errno;
}


/* Pull produced packets and send them until there are none or the socket is full. */
static int pump(struct emd_transport *t, struct emd_conn *c)
{
	while (t->ops->pending(t->ctx, c) && !c->q_head) {
		struct emnl_writer w;
		int err;

		emnl_writer_init(&w, t->pktbuf, c->max_packet, t->cfg.pad);
		err = t->ops->pull(t->ctx, c, &w);
		if (err)
			return err;
		if (!emnl_writer_len(&w))
			continue;
		err = send_now(c, t->pktbuf, emnl_writer_len(&w));
		if (err == -EAGAIN) {
			static_call(emd_count)(EMD_OP_DEFERRED);
			err = enqueue(c, t->pktbuf, emnl_writer_len(&w)); /* sent first when there is room */
		}
		if (err)
			return err;
	}
	return 0;
}

/* Send what is queued, the rest of a waiting datagram's answers, the overrun
 * notice, then more produced output. */
static int flush(struct emd_transport *t, struct emd_conn *c)
{
	while (c->q_head) {
		int err = send_now(c, c->q_head->data, c->q_head->len);

		if (err == -EAGAIN)
			return 0;
		if (err)
			return err;
		dequeue(c);
	}
	if (c->pend) {
		/* The rest of a request datagram that was waiting for room. */
		handle_dgram(t, c, c->pend, c->pend_len);
		if (c->closing || c->q_head)
			return 0;
	}
	if (c->overrun) {
		uint8_t buf[256] __attribute__((aligned(8)));
		struct emnl_writer w;

		emnl_writer_init(&w, buf, sizeof(buf), t->cfg.pad);
		if (t->ops->overrun(t->ctx, c, &w, c->dropped) > 0) {
			int err = send_now(c, buf, emnl_writer_len(&w));

			if (err == -EAGAIN)
				err = enqueue(c, buf, emnl_writer_len(&w));
			if (err)
				return err;
		}
		c->overrun = false;
		c->dropped = 0;
	}
	return pump(t, c);
}

/* emd_conn_send - a packet for @c: sent now or queued, never dropped. */
int emd_conn_send(struct emd_transport *t, struct emd_conn *c, const void *buf, size_t len)
{
	int err;

	if (c->closing)
		return -EPIPE;
	if (!c->q_head) {
		err = send_now(c, buf, len);
		if (err != -EAGAIN) {
			if (err)
				c->closing = true;
			return err;
		}
		static_call(emd_count)(EMD_OP_DEFERRED);
	}
	err = enqueue(c, buf, len);
	if (err)
		c->closing = true;
	client_rearm(t, c);
	return err;
}

/* emd_conn_pull - one produced packet now, sent or queued in order. */
int emd_conn_pull(struct emd_transport *t, struct emd_conn *c)
{
	struct emnl_writer w;
	int err;

	if (c->closing || !t->ops->pending(t->ctx, c))
		return 0;
	emnl_writer_init(&w, t->pktbuf, c->max_packet, t->cfg.pad);
	err = t->ops->pull(t->ctx, c, &w);
	if (!err && emnl_writer_len(&w))
		return emd_conn_send(t, c, t->pktbuf, emnl_writer_len(&w));
	if (err)
		c->closing = true;
	return err;
}

/* emd_transport_multicast - to every member; a full queue drops it. */
void emd_transport_multicast(struct emd_transport *t, unsigned int group, const void *buf,
			     size_t len)
{
	uint64_t bit = UINT64_C(1) << group;

	assert(group < EMD_TRANSPORT_MAX_GROUPS);
	for (struct emd_conn *c = t->clients; c; c = c->next) {
		if (!(c->groups & bit) || c->closing)
			continue;
		if (c->overrun || c->q_len >= t->cfg.client_queue || emd_conn_congested(t, c)) {
			c->overrun = true;
			c->dropped++;
			static_call(emd_count)(EMD_OP_DROPPED);
			continue;
		}
		emd_conn_send(t, c, buf, len);
	}
}

/* ---- input ----------------------------------------------------------------------- */

/*
 * One datagram, handed up from where it stopped before (@buf may be c->pend
 * itself). When the layer above stops early (the client is congested), the
 * rest is kept in c->pend and handed up again when the queue has drained
 * (flush).
 */
static void handle_dgram(struct emd_transport *t, struct emd_conn *c, const uint8_t *buf,
			 size_t len)
{
	size_t off = buf == c->pend ? c->pend_off : 0;

	off = t->ops->rcv(t->ctx, c, buf, len, off);
	assert(off <= len);
	if (off < len && !c->closing) {
		/* Enough waits for this client: the rest waits too. */
		if (buf != c->pend) {
			c->pend = malloc(len);
			if (!c->pend) {
				c->closing = true;
				return;
			}
			memcpy(c->pend, buf, len);
			c->pend_len = len;
		}
		c->pend_off = off;
		return;
	}
	if (buf == c->pend) {
		free(c->pend);
		c->pend = NULL;
		c->pend_len = c->pend_off = 0;
	}
}

/* Read requests while the client has nothing waiting to go out. */
static void client_readable(struct emd_transport *t, struct emd_conn *c)
{
	for (int budget = 32; budget > 0 && !c->closing; budget--) {
		ssize_t n;

		if (has_output(t, c))
			break;
		n = recv(c->fd, t->rxbuf, t->cfg.max_request, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->closing = true;
			break;
		}
		if (n == 0) {
			c->closing = true;
			break;
		}
		if ((size_t)n > t->cfg.max_request) {
			t->ops->too_big(t->ctx, c, t->rxbuf, t->cfg.max_request, (size_t)n,
					t->cfg.max_request);
			continue;
		}
		handle_dgram(t, c, t->rxbuf, (size_t)n);
		if (flush(t, c))
			c->closing = true;
	}
	client_rearm(t, c);
}

/* ---- clients --------------------------------------------------------------------- */

/* Take every pending connection. */
static void accept_clients(struct emd_transport *t)
{
	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct emd_conn *c;
		struct epoll_event ev;
		int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				emd_log("accept: %s", strerror(errno));
			return;
		}
		if (t->nr_clients >= t->cfg.max_clients) {
			emd_log("refusing a client: %u clients is the limit", t->cfg.max_clients);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c) + t->cfg.conn_priv);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cred.pid > 0)
			c->portid = (uint32_t)cred.pid;
		if (t->cfg.sndbuf > 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &t->cfg.sndbuf, sizeof(t->cfg.sndbuf));
		/* A datagram larger than the send buffer (less 32 bytes) is refused
		 * with EMSGSIZE, so produced packets are cut to fit it. */
		{
			int sb = 0;
			socklen_t sl = sizeof(sb);

			c->max_packet = EMNL_DGRAM_MAX;
			if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, &sl) == 0 && sb > 32 &&
			    (size_t)sb - 32 < c->max_packet)
				c->max_packet = (size_t)sb - 32;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->epoll_events = EPOLLIN;
		c->next = t->clients;
		if (t->clients)
			t->clients->prev = c;
		t->clients = c;
		t->nr_clients++;
	}
}

/* Close and free one client. */
static void client_free(struct emd_transport *t, struct emd_conn *c)
{
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pend);
	while (c->q_head)
		dequeue(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	assert(t->nr_clients > 0);
	t->nr_clients--;
	free(c);
}

/* Free the clients marked closing (after a batch of events, never during one). */
static void sweep(struct emd_transport *t)
{
	struct emd_conn *c = t->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->closing)
			client_free(t, c);
	}
}

/* ---- the loop -------------------------------------------------------------------- */

struct emd_transport *emd_transport_new(const struct emd_transport_config *cfg, int lfd,
					const struct emd_transport_ops *ops, void *ctx)
{
	struct emd_transport *t = calloc(1, sizeof(*t));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->ops = ops;
	t->ctx = ctx;
	t->lfd = lfd;
	t->rxbuf = malloc(cfg->max_request > EMNL_DGRAM_MAX ? cfg->max_request : EMNL_DGRAM_MAX);
	t->pktbuf = malloc(EMNL_DGRAM_MAX);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = &t->lfd;
	if (!t->rxbuf || !t->pktbuf || t->epfd < 0 ||
	    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->lfd, &ev)) {
		emd_transport_free(t);
		return NULL;
	}
	return t;
}

void emd_transport_free(struct emd_transport *t)
{
	if (!t)
		return;
	while (t->clients)
		client_free(t, t->clients);
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->rxbuf);
	free(t->pktbuf);
	free(t);
}

int emd_transport_watch(struct emd_transport *t, int fd, emd_transport_fd_cb cb, void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct watch *w;

	if (t->nr_watches == MAX_WATCHES)
		return -ENOSPC;
	w = &t->watches[t->nr_watches];
	*w = (struct watch){fd, cb, arg};
	ev.data.ptr = w;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	t->nr_watches++;
	return 0;
}

/* Is @p one of the watches? */
static struct watch *watch_of(struct emd_transport *t, void *p)
{
	for (unsigned int i = 0; i < t->nr_watches; i++)
		if (p == &t->watches[i])
			return &t->watches[i];
	return NULL;
}

int emd_transport_run(struct emd_transport *t, volatile bool *stop)
{
	struct epoll_event evs[64];

	while (!*stop) {
		int n = epoll_wait(t->epfd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			struct watch *w;
			struct emd_conn *c;

			if (p == &t->lfd) {
				accept_clients(t);
				continue;
			}
			w = watch_of(t, p);
			if (w) {
				w->cb(w->arg);
				continue;
			}
			c = p;
			if (c->closing)
				continue;
			if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
				/* Gone: nothing queued can be delivered. */
				c->closing = true;
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				if (flush(t, c))
					c->closing = true;
			}
			if (evs[i].events & EPOLLIN)
				client_readable(t, c);
			else
				client_rearm(t, c);
		}
		sweep(t);
	}
	return 0;
}

void emd_transport_describe(const struct emd_transport *t,
			    void (*line)(const struct emd_conn *c, const char *what, void *arg),
			    void *arg)
{
	char what[256];

	for (const struct emd_conn *c = t->clients; c; c = c->next) {
		snprintf(what, sizeof(what),
			 "client fd %d: queue %u%s, epoll 0x%x, groups 0x%llx, overrun %d, "
			 "closing %d", c->fd, c->q_len, c->q_head ? " (head set)" : "",
			 c->epoll_events, (unsigned long long)c->groups, c->overrun, c->closing);
		line(c, what, arg);
	}
}
