/*
 * emd's transport (see transport.h): accept clients on the listening socket
 * within the limits, read their request datagrams and hand them up, send or
 * queue what comes down, pull produced output when a client can take it,
 * deliver multicast from one shared log, close clients that go away or idle,
 * and give freed memory back — one epoll loop, non-blocking sockets, on
 * emd's one thread. Nothing here knows a family or the layout of a netlink
 * message.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "transport.h"

/* Packets sent to one client per turn of the loop: others get their turn. */
#define SEND_BUDGET 64
/* Connections taken per turn of the loop. */
#define ACCEPT_BUDGET 64
/* Freed bytes after which the allocator is trimmed at the next tick. */
#define TRIM_AFTER (1u << 20)

/* One packet waiting in a client's output queue. */
struct emd_pkt {
	struct emd_pkt *next;
	uint64_t mc_before; /* multicast packets logged before it go first */
	size_t len;
	uint8_t data[];
};

/* One multicast packet in the log. */
struct mc_pkt {
	uint64_t seq;
	unsigned int group;
	size_t len;
	uint8_t data[];
};

struct emd_conn {
	struct emd_transport *t;
	int fd;
	uint32_t portid;          /* the peer's pid: what replies carry in nlmsg_pid */
	uid_t uid;                /* the peer's user (per-user limit) */
	struct emd_conn *prev, *next;
	uint64_t groups;          /* multicast groups it is a member of */
	uint64_t mc_next;         /* the log position it has been given up to */
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
	time_t last_active;       /* a request came or a packet went (monotonic seconds) */
	max_align_t priv[];       /* the layer above's state (cfg.conn_priv bytes) */
};

/* A file descriptor the loop watches for the daemon. */
struct watch {
	int fd;
	emd_transport_fd_cb cb;
	void *arg;
};

#define MAX_WATCHES 6

struct uid_count {
	uid_t uid;
	unsigned int n;
};

struct emd_transport {
	struct emd_transport_config cfg;
	const struct emd_transport_ops *ops;
	void *ctx;
	int epfd, lfd;
	int spare_fd;             /* given up to take a connection when out of descriptors */
	struct emd_conn *clients;
	unsigned int nr_clients;
	size_t total_bytes;       /* queued, all clients */
	uint8_t *rxbuf;           /* request datagrams */
	uint8_t *pktbuf;          /* produced packets (dumps, notices) */
	struct watch watches[MAX_WATCHES];
	unsigned int nr_watches;
	/* The multicast log: packets log_first..log_next-1 at ring[seq & (ring_cap - 1)]. */
	struct mc_pkt **ring;
	size_t ring_cap;
	uint64_t log_first, log_next;
	size_t log_bytes;
	bool in_batch;            /* between emd_transport_batch(on) and (off) */
	bool protect;             /* the log keeps the latest batch whole: */
	uint64_t batch_first;     /* its first packet */
	uint64_t batch_end_seq;   /* one past its last, once it is over */
	size_t batch_bytes;       /* its bytes still in the log */
	unsigned int members[EMD_TRANSPORT_MAX_GROUPS];
	/* Clients per user. */
	struct uid_count *uids;
	unsigned int nr_uids, cap_uids;
	/* Time and the tick's work. */
	time_t now;
	bool listener_paused;
	time_t listener_resume;
	uint64_t refused, refused_unlogged, idle_closed;
	time_t refusal_logged_at;
	char refusal_why[96];
	size_t freed;             /* bytes freed since the last trim */
};

static void handle_dgram(struct emd_transport *t, struct emd_conn *c, const uint8_t *buf,
			 size_t len);

static time_t monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* ---- connections ----------------------------------------------------------------- */

uint32_t emd_conn_portid(const struct emd_conn *c)
{
	return c->portid;
}

size_t emd_conn_max_packet(const struct emd_conn *c)
{
	return c->max_packet;
}

bool emd_conn_closing(const struct emd_conn *c)
{
	return c->closing;
}

bool emd_conn_congested(const struct emd_transport *t, const struct emd_conn *c)
{
	return (t->cfg.queue_bytes && c->q_bytes >= t->cfg.queue_bytes) ||
	       (t->cfg.total_bytes && c->q_bytes && t->total_bytes >= t->cfg.total_bytes);
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
	struct emd_transport *t = c->t;
	uint64_t bit = UINT64_C(1) << group;

	assert(group < EMD_TRANSPORT_MAX_GROUPS);
	if (on == !!(c->groups & bit))
		return;
	if (on) {
		if (!c->groups)
			c->mc_next = t->log_next; /* what is logged from now on */
		c->groups |= bit;
		t->members[group]++;
	} else {
		c->groups &= ~bit;
		assert(t->members[group] > 0);
		t->members[group]--;
		if (!c->groups)
			c->mc_next = t->log_next; /* nothing more for it */
	}
}

/* Is there multicast for @c it has not been given (perhaps of other groups)? */
static bool mc_pending(const struct emd_transport *t, const struct emd_conn *c)
{
	return c->groups && c->mc_next < t->log_next;
}

/* Does @c have anything waiting to go out or to be produced? */
static bool has_output(const struct emd_transport *t, const struct emd_conn *c)
{
	return c->q_head || c->pend || c->overrun || mc_pending(t, c) ||
	       t->ops->pending(t->ctx, c);
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
static int enqueue(struct emd_transport *t, struct emd_conn *c, const void *buf, size_t len)
{
	struct emd_pkt *p = malloc(sizeof(*p) + len);

	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->mc_before = t->log_next;
	p->len = len;
	memcpy(p->data, buf, len);
	if (c->q_tail)
		c->q_tail->next = p;
	else
		c->q_head = p;
	c->q_tail = p;
	c->q_len++;
	c->q_bytes += len;
	t->total_bytes += len;
	return 0;
}

/* Take the head packet off @c's queue. */
static void dequeue(struct emd_transport *t, struct emd_conn *c)
{
	struct emd_pkt *p = c->q_head;

	assert(p && c->q_len > 0 && c->q_bytes >= p->len && t->total_bytes >= p->len);
	c->q_head = p->next;
	if (!c->q_head)
		c->q_tail = NULL;
	c->q_len--;
	c->q_bytes -= p->len;
	t->total_bytes -= p->len;
	t->freed += sizeof(*p) + p->len;
	assert(c->q_head || (c->q_len == 0 && c->q_bytes == 0));
	free(p);
}

/* Send one datagram without blocking: 0, -EAGAIN, or a fatal -errno. */
static int send_now(struct emd_transport *t, struct emd_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n >= 0) {
		c->last_active = t->now;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	return -errno;
}

/* ---- the multicast log ------------------------------------------------------------ */

static struct mc_pkt *log_at(const struct emd_transport *t, uint64_t seq)
{
	assert(seq >= t->log_first && seq < t->log_next);
	return t->ring[seq & (t->ring_cap - 1)];
}

/* @c loses every packet of its groups it has not been given: the overrun. */
static void mc_overrun(struct emd_transport *t, struct emd_conn *c)
{
	uint64_t n = 0;

	for (uint64_t s = c->mc_next; s < t->log_next; s++)
		n += !!(c->groups & (UINT64_C(1) << log_at(t, s)->group));
	c->mc_next = t->log_next;
	c->overrun = true;
	c->dropped += n;
	for (; n; n--)
		static_call(emd_count)(EMD_OP_DROPPED);
}

/* One past the protected batch's last packet. */
static uint64_t batch_end(const struct emd_transport *t)
{
	return t->in_batch ? t->log_next : t->batch_end_seq;
}

/* Free the log's oldest packet; members still behind it overrun. */
static void log_drop_head(struct emd_transport *t)
{
	struct mc_pkt *p = log_at(t, t->log_first);
	uint64_t bit = UINT64_C(1) << p->group;

	for (struct emd_conn *c = t->clients; c; c = c->next)
		if ((c->groups & bit) && !c->overrun && c->mc_next <= p->seq && !c->closing) {
			mc_overrun(t, c);
			client_rearm(t, c); /* the notice */
		}
	if (t->protect && p->seq >= t->batch_first && p->seq < batch_end(t))
		t->batch_bytes -= p->len;
	t->log_bytes -= p->len;
	t->log_first++;
	t->freed += sizeof(*p) + p->len;
	free(p);
}

/* Keep the log within its bound: client_queue packets and queue_bytes bytes,
 * not counting the latest batch — unless as many packets again came after it:
 * then that batch is old news. */
static void log_bound(struct emd_transport *t)
{
	for (;;) {
		uint64_t from = t->batch_first > t->log_first ? t->batch_first : t->log_first;
		uint64_t protected_n = t->protect && batch_end(t) > from ? batch_end(t) - from : 0;
		uint64_t others = t->log_next - t->log_first - protected_n;
		size_t other_bytes = t->log_bytes - (t->protect ? t->batch_bytes : 0);
		bool over = others > t->cfg.client_queue ||
			    (t->cfg.queue_bytes && other_bytes > t->cfg.queue_bytes);

		if (!over || t->log_first == t->log_next)
			return;
		if (protected_n && t->log_first >= t->batch_first) {
			/* The excess came after the batch: it is no longer protected. */
			t->protect = false;
			t->batch_bytes = 0;
			continue;
		}
		log_drop_head(t);
	}
}

/* Free the packets every member has been given (after each turn of the loop). */
static void log_collect(struct emd_transport *t)
{
	uint64_t min = t->log_next;

	if (t->log_first == t->log_next)
		return;
	for (struct emd_conn *c = t->clients; c; c = c->next)
		if (c->groups && !c->closing && c->mc_next < min)
			min = c->mc_next;
	while (t->log_first < min)
		log_drop_head(t);
}

/* Make room in the ring for one more packet. */
static int ring_grow(struct emd_transport *t)
{
	size_t n = t->ring_cap ? 2 * t->ring_cap : 256;
	struct mc_pkt **r;

	if (t->log_next - t->log_first < t->ring_cap)
		return 0;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (uint64_t s = t->log_first; s < t->log_next; s++)
		r[s & (n - 1)] = t->ring[s & (t->ring_cap - 1)];
	free(t->ring);
	t->ring = r;
	t->ring_cap = n;
	return 0;
}

/*
 * Send @c its multicast packets logged before @limit, while its socket has room
 * and @budget lasts: 0 (none left), 1 (budget spent), -EAGAIN, or a fatal -errno.
 */
static int mc_deliver(struct emd_transport *t, struct emd_conn *c, uint64_t limit, int *budget)
{
	if (!c->groups) {
		c->mc_next = t->log_next;
		return 0;
	}
	/* A member's place is never before the log: collection and the bound see to it. */
	assert(c->mc_next >= t->log_first);
	while (c->mc_next < limit && c->mc_next < t->log_next) {
		struct mc_pkt *p = log_at(t, c->mc_next);
		int err;

		if (!(c->groups & (UINT64_C(1) << p->group))) {
			c->mc_next++;
			continue;
		}
		if (p->len > c->max_packet) {
			/* Its socket cannot carry it: lost, as the kernel drops an skb a
			 * receive buffer cannot hold, and said so. */
			mc_overrun(t, c);
			return 0;
		}
		if (*budget <= 0)
			return 1;
		err = send_now(t, c, p->data, p->len);
		if (err)
			return err;
		c->mc_next++;
		(*budget)--;
	}
	return 0;
}

void emd_transport_batch(struct emd_transport *t, bool on)
{
	if (on) {
		t->in_batch = t->protect = true;
		t->batch_first = t->log_next;
		t->batch_bytes = 0;
		return;
	}
	if (!t->in_batch)
		return;
	t->in_batch = false;
	t->batch_end_seq = t->log_next;
	/* What the batch's packets did not do one by one: count what the members in
	 * overrun lose, and wake the others. */
	for (struct emd_conn *c = t->clients; c; c = c->next) {
		if (!c->groups || c->closing)
			continue;
		if (c->overrun)
			mc_overrun(t, c);
		client_rearm(t, c);
	}
}

/* emd_transport_multicast - into the log; the members take it from there. */
void emd_transport_multicast(struct emd_transport *t, unsigned int group, const void *buf,
			     size_t len)
{
	uint64_t bit = UINT64_C(1) << group;
	struct mc_pkt *p;

	assert(group < EMD_TRANSPORT_MAX_GROUPS);
	if (!t->members[group])
		return;
	p = malloc(sizeof(*p) + len);
	if (!p || ring_grow(t)) {
		/* Lost for every member: their overrun notice says so. */
		free(p);
		for (struct emd_conn *c = t->clients; c; c = c->next)
			if ((c->groups & bit) && !c->closing) {
				c->overrun = true;
				c->dropped++;
				static_call(emd_count)(EMD_OP_DROPPED);
				client_rearm(t, c);
			}
		return;
	}
	p->seq = t->log_next++;
	p->group = group;
	p->len = len;
	memcpy(p->data, buf, len);
	t->ring[p->seq & (t->ring_cap - 1)] = p;
	t->log_bytes += len;
	if (t->in_batch) {
		if (t->protect)
			t->batch_bytes += len;
	} else {
		/* One event: members take it now if they can (a batch's wait for the loop). */
		for (struct emd_conn *c = t->clients; c; c = c->next) {
			int budget = SEND_BUDGET;

			if (!(c->groups & bit) || c->closing)
				continue;
			if (c->overrun) {
				c->mc_next = t->log_next;
				c->dropped++;
				static_call(emd_count)(EMD_OP_DROPPED);
				continue;
			}
			if (!c->q_head) {
				int err = mc_deliver(t, c, t->log_next, &budget);

				if (err == -EAGAIN && budget == SEND_BUDGET)
					static_call(emd_count)(EMD_OP_DEFERRED);
				else if (err < 0 && err != -EAGAIN)
					c->closing = true;
			}
			client_rearm(t, c);
		}
	}
	log_bound(t);
}

/* ---- sending ----------------------------------------------------------------------- */

/* Pull produced packets and send them until there are none, the socket is full
 * or the budget is spent. */
static int pump(struct emd_transport *t, struct emd_conn *c, int *budget)
{
	while (t->ops->pending(t->ctx, c) && !c->q_head && *budget > 0) {
		struct emnl_writer w;
		int err = mc_deliver(t, c, t->log_next, budget); /* events logged before it */

		if (err == -EAGAIN || err == 1)
			return 0;
		if (err)
			return err;
		emnl_writer_init(&w, t->pktbuf, c->max_packet, t->cfg.pad);
		err = t->ops->pull(t->ctx, c, &w);
		if (err)
			return err;
		if (!emnl_writer_len(&w))
			continue;
		err = send_now(t, c, t->pktbuf, emnl_writer_len(&w));
		if (err == -EAGAIN) {
			static_call(emd_count)(EMD_OP_DEFERRED);
			err = enqueue(t, c, t->pktbuf, emnl_writer_len(&w)); /* first when there is room */
		}
		if (err)
			return err;
		(*budget)--;
	}
	return 0;
}

/* Send what is queued (and the multicast logged before each), the rest of a
 * waiting datagram's answers, multicast, the overrun notice, then produced
 * output — SEND_BUDGET packets at most. */
static int flush(struct emd_transport *t, struct emd_conn *c)
{
	int budget = SEND_BUDGET, err;

	while (c->q_head) {
		err = mc_deliver(t, c, c->q_head->mc_before, &budget);
		if (err == -EAGAIN || err == 1)
			return 0;
		if (err)
			return err;
		if (budget <= 0)
			return 0;
		err = send_now(t, c, c->q_head->data, c->q_head->len);
		if (err == -EAGAIN)
			return 0;
		if (err)
			return err;
		dequeue(t, c);
		budget--;
	}
	if (c->pend) {
		/* The rest of a request datagram that was waiting for room. */
		handle_dgram(t, c, c->pend, c->pend_len);
		if (c->closing || c->q_head)
			return 0;
	}
	err = mc_deliver(t, c, t->log_next, &budget);
	if (err == -EAGAIN || err == 1)
		return 0;
	if (err)
		return err;
	if (c->overrun) {
		uint8_t buf[256] __attribute__((aligned(8)));
		struct emnl_writer w;

		emnl_writer_init(&w, buf, sizeof(buf), t->cfg.pad);
		if (t->ops->overrun(t->ctx, c, &w, c->dropped) > 0) {
			err = send_now(t, c, buf, emnl_writer_len(&w));
			if (err == -EAGAIN)
				return 0; /* when there is room: nothing else goes first */
			if (err)
				return err;
		}
		c->overrun = false;
		c->dropped = 0;
	}
	return pump(t, c, &budget);
}

/* emd_conn_send - a packet for @c: sent now or queued, never dropped. */
int emd_conn_send(struct emd_transport *t, struct emd_conn *c, const void *buf, size_t len)
{
	int err;

	if (c->closing)
		return -EPIPE;
	if (len > c->max_packet)
		return -EMSGSIZE; /* the layer above answers that instead */
	if (!c->q_head) {
		int budget = INT32_MAX;

		/* Multicast logged before it goes first, as it would be in a kernel
		 * socket's queue. */
		err = mc_deliver(t, c, t->log_next, &budget);
		if (!err)
			err = send_now(t, c, buf, len);
		if (!err)
			return 0;
		if (err && err != -EAGAIN) {
			c->closing = true;
			return err;
		}
		static_call(emd_count)(EMD_OP_DEFERRED);
	}
	err = enqueue(t, c, buf, len);
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
		t->freed += c->pend_len;
		c->pend = NULL;
		c->pend_len = c->pend_off = 0;
	}
}

/* recv() gave 0: an empty datagram, or the peer's end (a seqpacket socket says
 * both with 0)? The peer's end shows as RDHUP. */
static bool peer_gone(const struct emd_conn *c)
{
	struct pollfd pf = {.fd = c->fd, .events = POLLRDHUP};

	return poll(&pf, 1, 0) != 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
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
			/* An empty datagram holds no message: nothing to answer, as the
			 * kernel's netlink_rcv_skb() finds none in it. */
			if (peer_gone(c))
				c->closing = true;
			continue;
		}
		c->last_active = t->now;
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

/* A refused connection, logged at most once a second (with how many since). */
static void refused(struct emd_transport *t, int fd, const char *why)
{
	t->refused++;
	if (t->refusal_logged_at != t->now && !t->refused_unlogged) {
		emd_log(EMD_WARNING "refusing a client: %s", why);
		t->refusal_logged_at = t->now;
	} else {
		t->refused_unlogged++;
		snprintf(t->refusal_why, sizeof(t->refusal_why), "%s", why);
	}
	if (fd >= 0)
		close(fd); /* after the log: the client may read it once closed */
}

static void refusals_report(struct emd_transport *t)
{
	if (!t->refused_unlogged || t->refusal_logged_at == t->now)
		return;
	emd_log(EMD_WARNING "refused %llu more clients since the last report (last: %s)",
		(unsigned long long)t->refused_unlogged, t->refusal_why);
	t->refused_unlogged = 0;
	t->refusal_logged_at = t->now;
}

/* The count of @uid's clients (added when absent). */
static struct uid_count *uid_slot(struct emd_transport *t, uid_t uid)
{
	for (unsigned int i = 0; i < t->nr_uids; i++)
		if (t->uids[i].uid == uid)
			return &t->uids[i];
	if (t->nr_uids == t->cap_uids) {
		unsigned int n = t->cap_uids ? 2 * t->cap_uids : 8;
		struct uid_count *u = realloc(t->uids, n * sizeof(*u));

		if (!u)
			return NULL;
		t->uids = u;
		t->cap_uids = n;
	}
	t->uids[t->nr_uids] = (struct uid_count){uid, 0};
	return &t->uids[t->nr_uids++];
}

static void uid_put(struct emd_transport *t, uid_t uid)
{
	struct uid_count *u = uid_slot(t, uid);

	assert(u && u->n > 0);
	if (--u->n == 0)
		*u = t->uids[--t->nr_uids];
}

/* Stop listening for a second: out of descriptors, and no spare to refuse with. */
static void listener_rest(struct emd_transport *t, int err)
{
	if (t->listener_paused)
		return;
	if (epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->lfd, NULL) == 0) {
		t->listener_paused = true;
		t->listener_resume = t->now + 1;
	}
	refused(t, -1, err == EMFILE || err == ENFILE ? "out of file descriptors" : strerror(err));
}

/* Accept one connection and close it: the spare descriptor makes room for it. */
static bool refuse_with_spare(struct emd_transport *t)
{
	int fd;

	if (t->spare_fd < 0)
		return false;
	close(t->spare_fd);
	fd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		refused(t, fd, "out of file descriptors"); /* closes it: room for the spare */
	t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && t->spare_fd >= 0;
}

/* Take pending connections (ACCEPT_BUDGET per turn). */
static void accept_clients(struct emd_transport *t)
{
	for (int budget = ACCEPT_BUDGET; budget > 0; budget--) {
		struct ucred cred = {.pid = 0, .uid = (uid_t)-1};
		socklen_t cl = sizeof(cred);
		struct emd_conn *c;
		struct uid_count *u;
		struct epoll_event ev;
		int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			int err = errno;

			if (err == EINTR || err == ECONNABORTED)
				continue;
			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if ((err == EMFILE || err == ENFILE) && refuse_with_spare(t))
				continue;
			/* Never retry at once: the backlog would spin the loop. */
			listener_rest(t, err);
			return;
		}
		if (t->nr_clients >= t->cfg.max_clients) {
			char why[64];

			snprintf(why, sizeof(why), "%u clients is the limit", t->cfg.max_clients);
			refused(t, fd, why);
			continue;
		}
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
		u = uid_slot(t, cred.uid);
		if (!u) {
			refused(t, fd, "out of memory");
			continue;
		}
		if (t->cfg.max_per_user && u->n >= t->cfg.max_per_user) {
			char why[80];

			snprintf(why, sizeof(why), "user %u has %u clients, the limit per user",
				 (unsigned int)cred.uid, u->n);
			refused(t, fd, why);
			continue;
		}
		c = calloc(1, sizeof(*c) + t->cfg.conn_priv);
		if (!c) {
			refused(t, fd, "out of memory");
			if (!u->n)
				*u = t->uids[--t->nr_uids];
			continue;
		}
		c->t = t;
		c->fd = fd;
		c->uid = cred.uid;
		c->last_active = t->now;
		if (cred.pid > 0)
			c->portid = (uint32_t)cred.pid;
		if (t->cfg.sndbuf > 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &t->cfg.sndbuf, sizeof(t->cfg.sndbuf));
		/* A datagram larger than the send buffer (less 32 bytes) is refused
		 * with EMSGSIZE (unix_dgram_sendmsg), so packets are cut to fit it. */
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
			refused(t, fd, strerror(errno));
			if (!u->n)
				*u = t->uids[--t->nr_uids];
			free(c);
			continue;
		}
		u->n++;
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
	if (c->pend)
		t->freed += c->pend_len;
	free(c->pend);
	while (c->q_head)
		dequeue(t, c);
	for (unsigned int g = 0; g < EMD_TRANSPORT_MAX_GROUPS; g++)
		if (c->groups & (UINT64_C(1) << g))
			emd_conn_set_member(c, g, false);
	uid_put(t, c->uid);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	assert(t->nr_clients > 0);
	t->nr_clients--;
	t->freed += sizeof(*c) + t->cfg.conn_priv;
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

/* Once a second: idle clients, the resting listener, the refusals' report, and
 * memory freed since the last trim given back to the system. */
static void tick(struct emd_transport *t)
{
	unsigned int idle = 0;

	if (t->cfg.idle_timeout) {
		for (struct emd_conn *c = t->clients; c; c = c->next)
			if (!c->closing && !c->groups && !has_output(t, c) &&
			    t->now - c->last_active >= (time_t)t->cfg.idle_timeout) {
				c->closing = true;
				idle++;
			}
		if (idle) {
			t->idle_closed += idle;
			emd_log("closed %u clients idle for %u s (--idle-timeout)", idle,
				t->cfg.idle_timeout);
			sweep(t);
		}
	}
	if (t->listener_paused && t->now >= t->listener_resume) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->lfd};

		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->lfd, &ev) == 0)
			t->listener_paused = false;
		else
			t->listener_resume = t->now + 1;
		if (t->spare_fd < 0)
			t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	refusals_report(t);
	if (t->freed >= TRIM_AFTER)
		malloc_trim(0);
	t->freed = 0;
}

/* Does the loop need its once-a-second tick? */
static bool tick_needed(const struct emd_transport *t)
{
	return (t->cfg.idle_timeout && t->nr_clients) || t->listener_paused ||
	       t->refused_unlogged || t->freed >= TRIM_AFTER;
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
	t->now = monotonic_seconds();
	t->rxbuf = malloc(cfg->max_request > EMNL_DGRAM_MAX ? cfg->max_request : EMNL_DGRAM_MAX);
	t->pktbuf = malloc(EMNL_DGRAM_MAX);
	t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
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
	while (t->log_first < t->log_next)
		log_drop_head(t);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->spare_fd >= 0)
		close(t->spare_fd);
	free(t->ring);
	free(t->uids);
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
	time_t last_tick = t->now;

	while (!*stop) {
		int n = epoll_wait(t->epfd, evs, 64, tick_needed(t) ? 1000 : -1);

		if (n < 0 && errno != EINTR)
			return -errno;
		t->now = monotonic_seconds();
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
		log_collect(t);
		if (t->now != last_tick) {
			last_tick = t->now;
			tick(t);
		}
	}
	return 0;
}

void emd_transport_stats(const struct emd_transport *t, struct emd_transport_stats *st)
{
	*st = (struct emd_transport_stats){
		.clients = t->nr_clients,
		.queued_bytes = t->total_bytes,
		.log_packets = (size_t)(t->log_next - t->log_first),
		.log_bytes = t->log_bytes,
		.refused = t->refused,
	};
}

void emd_transport_describe(const struct emd_transport *t,
			    void (*line)(const struct emd_conn *c, const char *what, void *arg),
			    void *arg)
{
	char what[256];

	for (const struct emd_conn *c = t->clients; c; c = c->next) {
		snprintf(what, sizeof(what),
			 "client fd %d: queue %u%s, epoll 0x%x, groups 0x%llx, log %llu/%llu, "
			 "overrun %d, closing %d",
			 c->fd, c->q_len, c->q_head ? " (head set)" : "", c->epoll_events,
			 (unsigned long long)c->groups, (unsigned long long)c->mc_next,
			 (unsigned long long)t->log_next, c->overrun, c->closing);
		line(c, what, arg);
	}
}
