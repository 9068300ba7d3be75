/*
 * Incoming datagrams. A wrapped socket that has talked to emd has three
 * sources: the library's queue (datagrams read while an internal request
 * waited, and the tail of a completed nlctrl dump), emd's connection, and
 * the kernel socket itself. A receive takes one datagram from the first of
 * them that has one, except that after a MSG_PEEK the same source is asked
 * first, so that peeking at a size and then reading gets the same datagram.
 *
 * Delivery follows net/netlink/af_netlink.c netlink_recvmsg(): the datagram
 * is cut to the buffer with MSG_TRUNC in msg_flags (and the whole length
 * returned if the caller passed MSG_TRUNC), consumed unless MSG_PEEK; the
 * source address is a sockaddr_nl of port 0 with the group mask of a
 * notification (netlink_group_mask()); NETLINK_PKTINFO adds the group and
 * SO_PASSCRED the sender's (the kernel's: zero) credentials. emd's overrun
 * notice fails the receive with ENOBUFS once, unless NETLINK_NO_ENOBUFS.
 *
 * A blocking receive (no MSG_DONTWAIT, no O_NONBLOCK) waits in poll() on the
 * kernel socket and the side epoll descriptor, for SO_RCVTIMEO if set; a
 * signal ends the wait with EINTR (see docs/preload.md on SA_RESTART).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "emkit/nl.h"
#include "preload.h"

/* A receive found nothing to hand out in one source (dropped): look again. */
#define AGAIN (-EINPROGRESS)

static size_t iov_total(const struct msghdr *msg)
{
	size_t n = 0;

	for (size_t i = 0; i < msg->msg_iovlen; i++)
		n += msg->msg_iov[i].iov_len;
	return n;
}

/* Copy @len bytes into the program's buffers. */
static void copy_out(struct msghdr *msg, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < msg->msg_iovlen && len; i++) {
		size_t n = msg->msg_iov[i].iov_len < len ? msg->msg_iov[i].iov_len : len;

		memcpy(msg->msg_iov[i].iov_base, data, n);
		data += n;
		len -= n;
	}
}

/* Append one control message, or flag MSG_CTRUNC if it does not fit. */
static void put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data,
		     size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)((uint8_t *)msg->msg_control + *used);

	if (*used + CMSG_SPACE(len) > msg->msg_controllen) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	c->cmsg_len = CMSG_LEN(len);
	c->cmsg_level = level;
	c->cmsg_type = type;
	memcpy(CMSG_DATA(c), data, len);
	*used += CMSG_SPACE(len);
}

/* Hand the datagram @data (@len bytes, sent to @group or unicast) to the
 * program as netlink_recvmsg() would. */
static ssize_t deliver(int fd, struct msghdr *msg, int flags, const uint8_t *data, size_t len,
		       uint32_t group)
{
	size_t cap = iov_total(msg), copied = len < cap ? len : cap, used = 0;

	copy_out(msg, data, copied);
	msg->msg_flags = len > cap ? MSG_TRUNC : 0;
	if (msg->msg_name) {
		/* netlink_group_mask(): 1 << (group - 1), as the CPU shifts. */
		struct sockaddr_nl from = {
			.nl_family = AF_NETLINK,
			.nl_groups = group ? 1u << ((group - 1) % 32) : 0,
		};
		size_t n = msg->msg_namelen < sizeof(from) ? msg->msg_namelen : sizeof(from);

		memcpy(msg->msg_name, &from, n);
		msg->msg_namelen = sizeof(from);
	}
	if (msg->msg_control && msg->msg_controllen) {
		if (pl_sockopt(fd, SOL_NETLINK, NETLINK_PKTINFO)) {
			struct nl_pktinfo pi = {.group = group};

			put_cmsg(msg, &used, SOL_NETLINK, NETLINK_PKTINFO, &pi, sizeof(pi));
		}
		if (pl_sockopt(fd, SOL_SOCKET, SO_PASSCRED)) {
			struct ucred kernel = {0, 0, 0};

			put_cmsg(msg, &used, SOL_SOCKET, SCM_CREDENTIALS, &kernel, sizeof(kernel));
		}
	}
	msg->msg_controllen = used;
	return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)copied;
}

/* emd's overrun, as netlink_overrun() reports it. */
static ssize_t overrun(int fd)
{
	return pl_sockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS) ? AGAIN : -ENOBUFS;
}

/* The library's queue. */
static ssize_t from_local(struct pl_sock *s, int fd, struct msghdr *msg, int flags)
{
	struct pl_pkt *p = s->q_head;
	uint32_t group = 0;
	size_t len = 0;
	enum pl_shape shape = PL_DATA;
	ssize_t r;

	if (!p)
		return -EAGAIN;
	if (p->raw)
		shape = pl_reshape_emd(s, fd, p->data, p->len, s->tbuf, &len, &group);
	if (shape == PL_DATA)
		r = deliver(fd, msg, flags, p->raw ? s->tbuf : p->data, p->raw ? len : p->len, group);
	else
		r = shape == PL_OVERRUN ? overrun(fd) : AGAIN;
	if (!(flags & MSG_PEEK) || shape != PL_DATA) {
		if (p->raw)
			pl_req_answered(s, p->data, p->len);
		pl_queue_pop(s);
	}
	return r;
}

/* A datagram received (or peeked at, with MSG_PEEK in @flags) from emd's
 * connection: @n bytes at @buf, as recv() with MSG_TRUNC returned them. */
static ssize_t from_emd_data(struct pl_sock *s, int fd, struct msghdr *msg, int flags,
			     const uint8_t *buf, ssize_t n)
{
	enum pl_shape shape = PL_DROP; /* larger than emd ever sends */
	uint32_t group;
	size_t len;

	if (n <= PL_RBUF) {
		shape = pl_reshape_emd(s, fd, buf, (size_t)n, s->tbuf, &len, &group);
		if (!(flags & MSG_PEEK))
			pl_req_answered(s, buf, (size_t)n);
		if (shape == PL_DATA)
			return deliver(fd, msg, flags, s->tbuf, len, group);
	}
	if (flags & MSG_PEEK) {
		uint8_t *tmp = malloc(PL_RBUF);
		ssize_t m = tmp ? pl_real.recv(s->emd, tmp, PL_RBUF, MSG_DONTWAIT) : -1;

		if (m > 0)
			pl_req_answered(s, tmp, (size_t)m);
		free(tmp);
	}
	return shape == PL_OVERRUN ? overrun(fd) : AGAIN;
}

/* emd's connection. */
static ssize_t from_emd(struct pl_sock *s, int fd, struct msghdr *msg, int flags)
{
	int peek = flags & MSG_PEEK;
	ssize_t n;

	if (s->emd < 0)
		return -EAGAIN;
	n = pl_real.recv(s->emd, s->rbuf, PL_RBUF, MSG_DONTWAIT | MSG_TRUNC | peek);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	if (n <= 0) {
		/* emd went away: from now on the family is the kernel's business. */
		pl_emd_disconnect(s);
		return -EAGAIN;
	}
	return from_emd_data(s, fd, msg, flags, s->rbuf, n);
}

/* The kernel socket. Unchanged unless an nlctrl dump is being completed. */
static ssize_t from_kernel(struct pl_sock *s, int fd, struct msghdr *msg, int flags)
{
	struct iovec iov = {.iov_base = s->rbuf};
	struct msghdr km = {.msg_iov = &iov, .msg_iovlen = 1};
	size_t len, got;
	ssize_t n, r;

	if (!s->merging) {
		n = pl_real.recvmsg(fd, msg, flags | MSG_DONTWAIT);
		return n < 0 ? -errno : n;
	}
	/* The datagram's size first, with a zero-length peek: reading it with a
	 * larger buffer than the program's would raise the kernel's idea of the
	 * program's buffer (max_recvmsg_len) and with it later dump packets. */
	n = pl_real.recvmsg(fd, &km, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	iov.iov_len = (size_t)n < PL_RBUF ? (size_t)n : PL_RBUF;
	n = pl_real.recvmsg(fd, &km, (flags & MSG_PEEK) | MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	got = (size_t)n < iov.iov_len ? (size_t)n : iov.iov_len;
	len = pl_reshape_kernel(s, fd, s->rbuf, got, s->tbuf, flags & MSG_PEEK);
	if (!len)
		return AGAIN;
	r = deliver(fd, msg, flags, s->tbuf, len, 0);
	if (got < (size_t)n)
		msg->msg_flags |= MSG_TRUNC;
	return r;
}

static ssize_t from(struct pl_sock *s, enum pl_src src, int fd, struct msghdr *msg, int flags)
{
	switch (src) {
	case PL_SRC_LOCAL:
		return from_local(s, fd, msg, flags);
	case PL_SRC_EMD:
		return from_emd(s, fd, msg, flags);
	case PL_SRC_KERNEL:
		return from_kernel(s, fd, msg, flags);
	default:
		return -EAGAIN;
	}
}

#define FROM(src) (1u << (src))
#define FROM_ALL (FROM(PL_SRC_LOCAL) | FROM(PL_SRC_EMD) | FROM(PL_SRC_KERNEL))

/* One datagram from the first source (of those in @mask, FROM()) that has one,
 * without waiting: its length, -EAGAIN if none has, or -errno. With s->lock
 * held. */
static ssize_t take(struct pl_sock *s, int fd, struct msghdr *msg, int flags, unsigned int mask)
{
	const enum pl_src order[] = {s->peek_src, PL_SRC_LOCAL, PL_SRC_EMD, PL_SRC_KERNEL};

	for (int round = 0; round < 1000; round++) {
		ssize_t r = -EAGAIN;
		enum pl_src src = PL_SRC_NONE;

		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && r == -EAGAIN; i++) {
			if (order[i] == PL_SRC_NONE || (i > 0 && order[i] == order[0]) ||
			    !(mask & FROM(order[i])))
				continue;
			src = order[i];
			r = from(s, src, fd, msg, flags);
		}
		if (r == AGAIN) {
			mask = FROM_ALL; /* a datagram was dropped: anything may follow */
			continue;
		}
		s->peek_src = r >= 0 && (flags & MSG_PEEK) ? src : PL_SRC_NONE;
		return r;
	}
	return -EAGAIN;
}

/* Wait until the kernel socket, emd's connection or the library's queue has
 * something (up to SO_RCVTIMEO). The sources that have (FROM()), or -errno
 * (-EAGAIN on timeout, as the kernel's). */
static int wait_readable(struct pl_sock *s, int fd)
{
	struct pollfd p[3] = {{.fd = fd, .events = POLLIN},
			      {.fd = -1, .events = POLLIN},
			      {.fd = -1, .events = POLLIN}};
	int timeout, r;

	pthread_mutex_lock(&s->lock);
	p[1].fd = s->emd;
	p[2].fd = s->evfd;
	timeout = s->rcvtimeo_ms;
	pthread_mutex_unlock(&s->lock);
	r = pl_real.poll(p, 3, timeout);
	if (r < 0)
		return -errno;
	if (!r)
		return -EAGAIN;
	return (p[0].revents ? FROM(PL_SRC_KERNEL) : 0) | (p[1].revents ? FROM(PL_SRC_EMD) : 0) |
	       (p[2].revents ? FROM(PL_SRC_LOCAL) : 0);
}

/*
 * Wait for emd's answer in recv() on its connection itself, when one is
 * awaited: the datagram comes back in the call that waited, as it would on
 * a kernel socket (waiting in poll() and then reading costs a second system
 * call after the wake-up, a third of the round trip). The kernel socket is
 * not watched meanwhile: its datagrams wait for the next receive. One thread
 * at a time; without the lock. Returns -EALREADY when it does not apply.
 */
static ssize_t wait_emd(struct pl_sock *s, int fd, struct msghdr *msg, int flags)
{
	int conn, timeout;
	uint8_t *buf;
	ssize_t n, r;

	pthread_mutex_lock(&s->lock);
	if (s->emd < 0 || s->emd_waiter || !s->in_flight || s->q_head ||
	    s->peek_src != PL_SRC_NONE || (!s->wbuf && !(s->wbuf = malloc(PL_RBUF)))) {
		pthread_mutex_unlock(&s->lock);
		return -EALREADY;
	}
	s->emd_waiter = true;
	conn = s->emd;
	buf = s->wbuf;
	timeout = s->rcvtimeo_ms;
	if (timeout != s->emd_timeo_ms) {
		struct timeval tv = {timeout < 0 ? 0 : timeout / 1000,
				     timeout < 0 ? 0 : (timeout % 1000) * 1000};

		pl_real.setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		s->emd_timeo_ms = timeout;
	}
	pthread_mutex_unlock(&s->lock);

	n = pl_real.recv(conn, buf, PL_RBUF, MSG_TRUNC | (flags & MSG_PEEK));

	pthread_mutex_lock(&s->lock);
	s->emd_waiter = false;
	if (conn != s->emd) {
		r = AGAIN; /* emd was disconnected meanwhile */
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		r = -errno; /* SO_RCVTIMEO ran out, or a signal */
	} else if (n <= 0) {
		pl_emd_disconnect(s);
		r = AGAIN;
	} else {
		r = from_emd_data(s, fd, msg, flags, buf, n);
		if (r >= 0 && (flags & MSG_PEEK))
			s->peek_src = PL_SRC_EMD;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* pl_note_recv_len - see preload.h. */
void pl_note_recv_len(struct pl_sock *s, size_t len)
{
	unsigned int cur = atomic_load_explicit(&s->recv_max, memory_order_relaxed);

	if (len > EMNL_DUMP_MAX_RECVMSG_LEN)
		len = EMNL_DUMP_MAX_RECVMSG_LEN;
	/* As the kernel's (READ_ONCE, max, WRITE_ONCE): a racing receive may
	 * be missed, never lowered below what this one saw. */
	while (len > cur && !atomic_compare_exchange_weak_explicit(
				   &s->recv_max, &cur, (unsigned int)len, memory_order_relaxed,
				   memory_order_relaxed))
		;
}

/* pl_recvmsg - see preload.h. */
ssize_t pl_recvmsg(struct pl_sock *s, int fd, struct msghdr *msg, int flags)
{
	bool block;
	ssize_t r;

	/* A socket that never talked to emd is the kernel's alone (its
	 * receive sizes are noted: emd sizes dumps from them later). */
	if ((flags & (MSG_ERRQUEUE | MSG_OOB)) || !atomic_load(&s->active)) {
		r = pl_real.recvmsg(fd, msg, flags);
		if (r >= 0 && !(flags & (MSG_ERRQUEUE | MSG_OOB)))
			pl_note_recv_len(s, iov_total(msg));
		return r;
	}
	pthread_mutex_lock(&s->lock);
	block = !(flags & MSG_DONTWAIT) && !pl_nonblock(s, fd);
	pthread_mutex_unlock(&s->lock);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		if (!s->rbuf)
			s->rbuf = malloc(PL_RBUF);
		if (!s->tbuf)
			s->tbuf = malloc(PL_TBUF);
		if (!s->rbuf || !s->tbuf)
			r = -ENOMEM;
		else if (block && s->in_flight && !s->q_head && s->peek_src == PL_SRC_NONE)
			r = -EAGAIN; /* emd's answer is awaited: wait for it first */
		else
			r = take(s, fd, msg, flags, FROM_ALL);
		pthread_mutex_unlock(&s->lock);
		if (r != -EAGAIN || !block)
			break;
		r = wait_emd(s, fd, msg, flags);
		if (r == AGAIN)
			continue;
		if (r != -EALREADY)
			break;
		r = wait_readable(s, fd);
		if (r < 0)
			break;
		pthread_mutex_lock(&s->lock);
		r = take(s, fd, msg, flags, (unsigned int)r);
		pthread_mutex_unlock(&s->lock);
		if (r != -EAGAIN)
			break;
	}
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	/* netlink_recvmsg(): every receive that got a datagram, peeks too. */
	pl_note_recv_len(s, iov_total(msg));
	return r;
}
