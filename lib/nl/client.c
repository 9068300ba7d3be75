/*
 * The client: requests out, replies, acks and notifications in, over one of
 * two transports with the same datagram semantics. The kernel transport is
 * an AF_NETLINK/NETLINK_GENERIC socket with extended acks (NETLINK_EXT_ACK)
 * and capped acks (NETLINK_CAP_ACK) turned on; the seqpacket transport is a
 * connected AF_UNIX SOCK_SEQPACKET socket carrying exactly the same bytes,
 * one netlink datagram per packet, to a user-space server (emd) that also
 * answers CTRL_CMD_GETFAMILY for its family. Only opening and joining a
 * multicast group differ between them; everything else (family resolution,
 * do, dump across any number of datagrams, notifications) is one code path.
 * The socket owns one receive buffer; replies are decoded into value trees
 * before the next receive reuses it.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "emkit/nl.h"
#include "nl_internal.h"
#include "writer_impl.h"

enum transport { TRANSPORT_KERNEL, TRANSPORT_SEQPACKET };

struct emnl_sock {
	int fd;
	enum transport kind;
	uint32_t portid;
	uint32_t seq;
	uint8_t *buf;
	size_t buflen;
	uint64_t datagrams;
	uint8_t *txbuf;
	size_t txlen;
	struct pending *pending, **pending_tail; /* notifications met mid-request */
	struct pending *taken; /* the one emnl_recv_next() handed out last */
	/* The kernel's max_recvmsg_len as netlink_recvmsg() keeps it: the
	 * largest receive so far, capped; on a seqpacket socket announced to
	 * the server (RECV_LEN) before the next request, once it grew. */
	size_t recv_max, recv_announced;
	/* Events were lost (the kernel's ENOBUFS, emd's overrun notice) while
	 * a request waited: emnl_recv_notification() reports it next. */
	bool overrun;
	char overrun_msg[sizeof(((struct emnl_error *)0)->msg)];
};

/* A notification that arrived while a request was waiting for its reply:
 * kept for emnl_recv_notification() instead of being lost. */
struct pending {
	struct pending *next;
	size_t len;
	uint8_t msg[] __attribute__((aligned(8)));
};

/* Keep a copy of @nlh if it is a notification (sequence 0, not a control
 * message). */
static void pending_keep(struct emnl_sock *sk, const struct nlmsghdr *nlh)
{
	struct pending *p;

	if (nlh->nlmsg_seq != 0 || nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;
	p = malloc(sizeof(*p) + nlh->nlmsg_len);
	if (!p)
		return; /* as if the socket had overrun */
	p->next = NULL;
	p->len = nlh->nlmsg_len;
	memcpy(p->msg, nlh, nlh->nlmsg_len);
	if (!sk->pending)
		sk->pending_tail = &sk->pending;
	*sk->pending_tail = p;
	sk->pending_tail = &p->next;
}

/* Allocate the socket structure around @fd. */
static struct emnl_sock *sock_new(int fd, enum transport kind, struct emnl_error *e)
{
	struct emnl_sock *sk = calloc(1, sizeof(*sk));

	if (sk) {
		sk->buflen = EMNL_DGRAM_MAX;
		sk->buf = malloc(sk->buflen);
		sk->txlen = 8192;
		sk->txbuf = malloc(sk->txlen);
	}
	if (!sk || !sk->buf || !sk->txbuf) {
		if (sk) {
			free(sk->buf);
			free(sk->txbuf);
		}
		free(sk);
		close(fd);
		emnl_error_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	sk->fd = fd;
	sk->kind = kind;
	/* Sequence numbers start from a per-socket value so that replies to an
	 * earlier socket on the same port are never mistaken for ours. */
	sk->seq = (uint32_t)getpid() << 8;
	return sk;
}

/* emnl_sock_open_kernel - NETLINK_GENERIC with extended and capped acks. */
struct emnl_sock *emnl_sock_open_kernel(struct emnl_error *e)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	socklen_t salen = sizeof(sa);
	int one = 1, fd;
	struct emnl_sock *sk;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0) {
		emnl_error_set(e, -errno, "socket(AF_NETLINK, NETLINK_GENERIC): %s", strerror(errno));
		return NULL;
	}
	/* Connected to the kernel (port 0), so sends need no address. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) ||
	    connect(fd, (struct sockaddr *)&(struct sockaddr_nl){.nl_family = AF_NETLINK},
		    sizeof(struct sockaddr_nl))) {
		int err = errno;

		close(fd);
		emnl_error_set(e, -err, "setting up the netlink socket: %s", strerror(err));
		return NULL;
	}
	sk = sock_new(fd, TRANSPORT_KERNEL, e);
	if (sk)
		sk->portid = sa.nl_pid;
	return sk;
}

/* emnl_sock_open_fd - take over a connected SOCK_SEQPACKET socket. */
struct emnl_sock *emnl_sock_open_fd(int fd, struct emnl_error *e)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_SEQPACKET) {
		close(fd);
		emnl_error_set(e, -EINVAL, "descriptor is not a SOCK_SEQPACKET socket");
		return NULL;
	}
	return sock_new(fd, TRANSPORT_SEQPACKET, e);
}

/* emnl_sock_open_unix - connect to a seqpacket server at @path. */
struct emnl_sock *emnl_sock_open_unix(const char *path, struct emnl_error *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		emnl_error_set(e, -ENAMETOOLONG, "socket path too long: %s", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		emnl_error_set(e, -errno, "socket(AF_UNIX, SOCK_SEQPACKET): %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		emnl_error_set(e, -err, "connect %s: %s", path, strerror(err));
		return NULL;
	}
	return sock_new(fd, TRANSPORT_SEQPACKET, e);
}

/* emnl_sock_close - close and free. */
void emnl_sock_close(struct emnl_sock *sk)
{
	if (!sk)
		return;
	close(sk->fd);
	free(sk->taken);
	while (sk->pending) {
		struct pending *next = sk->pending->next;

		free(sk->pending);
		sk->pending = next;
	}
	free(sk->buf);
	free(sk->txbuf);
	free(sk);
}

/* emnl_sock_fd - for poll(). */
int emnl_sock_fd(const struct emnl_sock *sk)
{
	return sk->fd;
}

/* emnl_sock_set_rcvbuf_len - resize the receive buffer. */
int emnl_sock_set_rcvbuf_len(struct emnl_sock *sk, size_t len)
{
	uint8_t *b;

	if (len < 4096)
		return -EINVAL;
	b = realloc(sk->buf, len);
	if (!b)
		return -ENOMEM;
	sk->buf = b;
	sk->buflen = len;
	return 0;
}

/* emnl_sock_datagrams - datagrams received so far. */
uint64_t emnl_sock_datagrams(const struct emnl_sock *sk)
{
	return sk->datagrams;
}

/* Tell a seqpacket server the largest receive so far, as a kernel socket's
 * netlink_recvmsg() would have recorded it (EMNL_SEQPACKET_CMD_RECV_LEN). */
static int announce_recv_len(struct emnl_sock *sk)
{
	uint8_t buf[NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 4] __attribute__((aligned(4)));
	struct emnl_writer w;
	uint32_t v = (uint32_t)sk->recv_max;
	ssize_t n;
	int len;

	wr_init(&w, buf, sizeof(buf), NULL, EMNL_PAD_NEVER);
	wr_msg_begin_genl(&w, GENL_ID_CTRL, NLM_F_REQUEST, 0, 0, EMNL_SEQPACKET_CMD_RECV_LEN, 1);
	wr_put(&w, EMNL_SEQPACKET_ATTR_LEN, &v, sizeof(v));
	len = wr_msg_end(&w);
	assert(len == (int)sizeof(buf));
	n = send(sk->fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	sk->recv_announced = sk->recv_max;
	return 0;
}

/* emnl_send_raw - one datagram out. */
int emnl_send_raw(struct emnl_sock *sk, const void *buf, size_t len)
{
	ssize_t n;

	if (sk->kind == TRANSPORT_SEQPACKET && sk->recv_max > sk->recv_announced) {
		int err = announce_recv_len(sk);

		if (err)
			return err;
	}
	n = send(sk->fd, buf, len, sk->kind == TRANSPORT_KERNEL ? 0 : MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* netlink_recvmsg(): a receive of @len bytes that got a datagram raises the
 * socket's max_recvmsg_len, up to SKB_WITH_OVERHEAD(32768). */
static void note_recv_len(struct emnl_sock *sk, size_t len)
{
	if (len > sk->recv_max)
		sk->recv_max = len < EMNL_DUMP_MAX_RECVMSG_LEN ? len : EMNL_DUMP_MAX_RECVMSG_LEN;
}

/* Is @nlh a seqpacket server's overrun notice (NLMSG_ERROR -ENOBUFS,
 * sequence 0, echoing a header of type NLMSG_OVERRUN)? Its message, if
 * any, goes to @msg. */
static bool overrun_notice(const struct nlmsghdr *nlh, char *msg, size_t size)
{
	const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);
	struct emnl_error e;

	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != 0 ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*me) || me->error != -ENOBUFS ||
	    me->msg.nlmsg_type != NLMSG_OVERRUN)
		return false;
	if (!emnl_extack_parse(nlh, &e, NULL) && msg)
		snprintf(msg, size, "%s", e.msg);
	return true;
}

/* Events were lost while a request waited: note it for later. */
static void note_overrun(struct emnl_sock *sk, const struct nlmsghdr *nlh)
{
	sk->overrun = true;
	sk->overrun_msg[0] = '\0';
	if (nlh)
		overrun_notice(nlh, sk->overrun_msg, sizeof(sk->overrun_msg));
}

/* emnl_recv_raw - one datagram in, into the socket's buffer. */
ssize_t emnl_recv_raw(struct emnl_sock *sk, const void **out, int timeout_ms)
{
	ssize_t n;

	if (timeout_ms >= 0) {
		struct pollfd p = {.fd = sk->fd, .events = POLLIN};
		int r = poll(&p, 1, timeout_ms);

		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
	}
	if (sk->buflen < EMNL_DGRAM_MAX) {
		/* A small buffer asks the kernel for small dump datagrams, but
		 * one it sized earlier may still be bigger: learn its size first
		 * (without raising the kernel's idea of our buffer) and grow. */
		do {
			n = recv(sk->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		note_recv_len(sk, 0);
		if ((size_t)n > sk->buflen) {
			uint8_t *b = realloc(sk->buf, (size_t)n);

			if (!b)
				return -ENOMEM;
			sk->buf = b;
			sk->buflen = (size_t)n;
		}
	}
	do {
		n = recv(sk->fd, sk->buf, sk->buflen, MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	note_recv_len(sk, sk->buflen);
	if (n == 0 && sk->kind == TRANSPORT_SEQPACKET)
		return -ECONNRESET; /* the server closed the connection */
	if ((size_t)n > sk->buflen)
		return -EMSGSIZE; /* truncated: the peer broke the size bound */
	sk->datagrams++;
	*out = sk->buf;
	return n;
}

/* emnl_recv_next - a kept notification first, else one datagram. */
ssize_t emnl_recv_next(struct emnl_sock *sk, const void **out, int timeout_ms)
{
	if (sk->overrun) {
		sk->overrun = false;
		return -ENOBUFS;
	}
	free(sk->taken);
	sk->taken = sk->pending;
	if (sk->taken) {
		sk->pending = sk->taken->next;
		*out = sk->taken->msg;
		return (ssize_t)sk->taken->len;
	}
	return emnl_recv_raw(sk, out, timeout_ms);
}

/* Build and send one request of @op's @m direction with @flags. */
static int send_request(struct emnl_sock *sk, uint16_t family, uint32_t version, uint8_t cmd,
			uint16_t flags, const struct emnl_attrs *req, uint32_t *seq,
			struct emnl_error *e)
{
	struct emnl_hdr h = {.nlmsg_type = family, .nlmsg_flags = flags, .nlmsg_seq = ++sk->seq,
			     .cmd = cmd, .version = (uint8_t)version};
	int n;

	for (;;) {
		n = emnl_encode(sk->txbuf, sk->txlen, NULL, &h, req, EMNL_PAD_NEVER);
		if (n != -EMSGSIZE || sk->txlen >= EMNL_DGRAM_MAX)
			break;
		/* Requests are small; grow the send buffer when one is not. */
		{
			uint8_t *b = realloc(sk->txbuf, sk->txlen * 2);

			if (!b)
				return emnl_error_set(e, -ENOMEM, "out of memory");
			sk->txbuf = b;
			sk->txlen *= 2;
		}
	}
	if (n < 0)
		return emnl_error_set(e, n, "encoding the request: %s", strerror(-n));
	*seq = h.nlmsg_seq;
	n = emnl_send_raw(sk, sk->txbuf, (size_t)n);
	if (n < 0)
		return emnl_error_set(e, n, "send: %s", strerror(-n));
	return 0;
}

/* Turn an NLMSG_ERROR into our error; returns its errno (0 for an ack). */
static int take_error(const struct nlmsghdr *nlh, const struct emnl_attr_set *set,
		      struct emnl_error *e)
{
	struct emnl_error tmp, *t = e ? e : &tmp;

	if (emnl_extack_parse(nlh, t, NULL))
		return emnl_error_set(e, -EPROTO, "malformed NLMSG_ERROR from the peer");
	if (t->has_miss_type && !t->has_miss_nest)
		t->attr_set = set;
	return t->err;
}

/* An NLMSG_DONE ends a dump; it carries an int status and may carry TLVs. */
static int take_done(const struct nlmsghdr *nlh, struct emnl_error *e)
{
	int status = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof(int));
	if (status >= 0)
		return 0;
	emnl_error_set(e, status, NULL);
	if (e && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		const struct nlattr *a;

		mnl_attr_for_each(a, nlh, sizeof(int)) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
				snprintf(e->msg, sizeof(e->msg), "%s", mnl_attr_get_str(a));
		}
	}
	return status;
}

/* What a receive loop is collecting. */
struct collect {
	const struct emnl_attr_set *set; /* replies are decoded in the op's set */
	uint16_t family;
	uint32_t seq;
	bool dump;
	emnl_msg_cb cb;
	void *data;
	struct emnl_attrs *reply; /* do: the first reply */
};

/* A reply handler: 1 when the exchange is over, 0 to go on, or a negative
 * errno. It sees only the messages of the request's sequence number. */
typedef int (*reply_fn)(void *ctx, const struct nlmsghdr *nlh, struct emnl_error *e);

/* The reply_fn of a family request (struct collect). */
static int handle(void *ctx, const struct nlmsghdr *nlh, struct emnl_error *e)
{
	struct collect *c = ctx;
	struct emnl_attrs *msg;
	int err;

	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		err = take_error(nlh, c->set, e);
		return err ? err : 1;
	case NLMSG_DONE:
		err = take_done(nlh, e);
		return err ? err : (c->dump ? 1 : 0);
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		return 0;
	default:
		break;
	}
	if (nlh->nlmsg_type != c->family)
		return 0;
	err = emnl_decode(nlh, c->set, NULL, &msg, e);
	if (err)
		return err;
	if (c->dump) {
		err = c->cb ? c->cb(nlh, msg, c->data) : 0;
		emnl_attrs_free(msg);
		if (err < 0)
			return emnl_error_set(e, err, "stopped by the callback");
		return 0;
	}
	if (c->reply)
		emnl_attrs_free(msg); /* a do has one reply; ignore extras */
	else
		c->reply = msg;
	return 0;
}

/* Receive until @fn says the exchange of request @seq is over. Messages of
 * other sequence numbers (events) are kept for emnl_recv_notification(). */
static int exchange(struct emnl_sock *sk, uint32_t seq, reply_fn fn, void *ctx,
		    struct emnl_error *e)
{
	for (;;) {
		const void *buf;
		ssize_t n = emnl_recv_raw(sk, &buf, -1);
		const struct nlmsghdr *nlh = buf;
		int len, r;

		if (n == -ENOBUFS) {
			/* Events were lost; the answer is still on its way. */
			note_overrun(sk, NULL);
			continue;
		}
		if (n < 0)
			return emnl_error_set(e, (int)n, "receive: %s", strerror((int)-n));
		len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq) {
				if (overrun_notice(nlh, NULL, 0))
					note_overrun(sk, nlh);
				else
					pending_keep(sk, nlh);
				continue;
			}
			r = fn(ctx, nlh, e);
			if (r)
				return r < 0 ? r : 0;
		}
		if (len)
			return emnl_error_set(e, -EPROTO, "%d stray bytes after the messages", len);
	}
}

/* Send @fam's command @cmd with @flags and @req; collect the answer in @c. */
static int transact(struct emnl_sock *sk, const struct emnl_family *fam, uint8_t cmd,
		    uint16_t flags, const struct emnl_attrs *req, struct collect *c,
		    struct emnl_error *e)
{
	int err = send_request(sk, fam->id, fam->spec->version, cmd, flags, req, &c->seq, e);

	return err ? err : exchange(sk, c->seq, handle, c, e);
}

/* ---- family resolution ---------------------------------------------------- */

/* Read the groups of a CTRL_ATTR_MCAST_GROUPS array. */
static void read_groups(struct emnl_family *fam, const struct nlattr *arr)
{
	const struct nlattr *g, *a;

	mnl_attr_for_each_nested(g, arr) {
		const char *name = NULL;
		uint32_t id = 0;
		bool have_id = false;

		mnl_attr_for_each_nested(a, g) {
			if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
			    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
				name = mnl_attr_get_str(a);
			else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
				 !mnl_attr_validate(a, MNL_TYPE_U32)) {
				id = mnl_attr_get_u32(a);
				have_id = true;
			}
		}
		if (name && have_id && fam->n_mcgrps < sizeof(fam->mcgrp_ids) / sizeof(fam->mcgrp_ids[0])) {
			fam->mcgrp_names[fam->n_mcgrps] = strdup(name);
			if (fam->mcgrp_names[fam->n_mcgrps])
				fam->mcgrp_ids[fam->n_mcgrps++] = id;
		}
	}
}

/* What a GETFAMILY exchange fills in. */
struct resolve {
	struct emnl_family *fam;
	bool got;
};

/* The reply_fn of a GETFAMILY request: the family's id, version and groups. */
static int resolve_reply(void *ctx, const struct nlmsghdr *r, struct emnl_error *e)
{
	struct resolve *rs = ctx;
	struct emnl_family *fam = rs->fam;
	const struct nlattr *a;
	int err;

	if (r->nlmsg_type == NLMSG_ERROR) {
		err = take_error(r, NULL, e);
		if (err == -ENOENT && e && !e->msg[0])
			snprintf(e->msg, sizeof(e->msg), "no family '%s'", fam->spec->name);
		if (err)
			return err;
		return rs->got ? 1 : emnl_error_set(e, -EPROTO, "no reply for '%s'", fam->spec->name);
	}
	if (r->nlmsg_type != GENL_ID_CTRL || mnl_nlmsg_get_payload_len(r) < sizeof(struct genlmsghdr))
		return 0;
	mnl_attr_for_each(a, r, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			if (!mnl_attr_validate(a, MNL_TYPE_U16)) {
				fam->id = mnl_attr_get_u16(a);
				rs->got = true;
			}
			break;
		case CTRL_ATTR_VERSION:
			if (!mnl_attr_validate(a, MNL_TYPE_U32))
				fam->version = mnl_attr_get_u32(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			read_groups(fam, a);
			break;
		default:
			break;
		}
	}
	return 0;
}

/* emnl_family_resolve - CTRL_CMD_GETFAMILY by name. */
int emnl_family_resolve(struct emnl_sock *sk, const struct emnl_spec *spec,
			struct emnl_family *fam, struct emnl_error *e)
{
	struct resolve rs = {.fam = fam};
	struct emnl_writer w;
	uint32_t seq = ++sk->seq;
	int err, qlen;

	memset(fam, 0, sizeof(*fam));
	fam->spec = spec;
	emnl_error_clear(e);
	if (strlen(spec->name) > 255)
		return emnl_error_set(e, -EINVAL, "family name too long: %s", spec->name);
	wr_init(&w, sk->txbuf, sk->txlen, NULL, EMNL_PAD_NEVER);
	wr_msg_begin_genl(&w, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq, 0,
			  CTRL_CMD_GETFAMILY, 1);
	wr_put(&w, CTRL_ATTR_FAMILY_NAME, spec->name, strlen(spec->name) + 1);
	qlen = wr_msg_end(&w);
	if (qlen < 0)
		return emnl_error_set(e, -EINVAL, "family name too long: %s", spec->name);
	err = emnl_send_raw(sk, sk->txbuf, (size_t)qlen);
	if (err)
		return emnl_error_set(e, err, "send: %s", strerror(-err));
	return exchange(sk, seq, resolve_reply, &rs, e);
}

/* emnl_family_group_id - a group's id by name. */
int64_t emnl_family_group_id(const struct emnl_family *fam, const char *name)
{
	for (size_t i = 0; i < fam->n_mcgrps; i++)
		if (!strcmp(fam->mcgrp_names[i], name))
			return fam->mcgrp_ids[i];
	return -ENOENT;
}

/* emnl_family_release - free group names. */
void emnl_family_release(struct emnl_family *fam)
{
	for (size_t i = 0; i < fam->n_mcgrps; i++)
		free(fam->mcgrp_names[i]);
	fam->n_mcgrps = 0;
}

/* ---- requests ------------------------------------------------------------- */

/* emnl_do - request, reply, ack. */
int emnl_do(struct emnl_sock *sk, const struct emnl_family *fam, const struct emnl_op *op,
	    const struct emnl_attrs *req, struct emnl_attrs **reply, struct emnl_error *e)
{
	struct collect c = {.set = op->set, .family = fam->id};
	int err;

	if (reply)
		*reply = NULL;
	emnl_error_clear(e);
	if (!op->has_do)
		return emnl_error_set(e, -EOPNOTSUPP, "'%s' has no do request", op->name);
	err = transact(sk, fam, op->do_req.cmd, NLM_F_REQUEST | NLM_F_ACK, req, &c, e);
	if (err || !reply)
		emnl_attrs_free(c.reply);
	else
		*reply = c.reply;
	return err;
}

/* emnl_dump - request, many replies, done. */
int emnl_dump(struct emnl_sock *sk, const struct emnl_family *fam, const struct emnl_op *op,
	      const struct emnl_attrs *req, emnl_msg_cb cb, void *data, struct emnl_error *e)
{
	struct collect c = {.set = op->set, .family = fam->id, .dump = true,
			    .cb = cb, .data = data};

	emnl_error_clear(e);
	if (!op->has_dump)
		return emnl_error_set(e, -EOPNOTSUPP, "'%s' cannot be dumped", op->name);
	return transact(sk, fam, op->dump_req.cmd, NLM_F_REQUEST | NLM_F_DUMP, req, &c, e);
}

/* ---- notifications -------------------------------------------------------- */

/* emnl_subscribe - join a multicast group. */
int emnl_subscribe(struct emnl_sock *sk, const struct emnl_family *fam, const char *group,
		   struct emnl_error *e)
{
	int64_t id = emnl_family_group_id(fam, group);
	uint32_t gid;

	emnl_error_clear(e);
	if (id < 0)
		return emnl_error_set(e, -ENOENT, "family '%s' has no multicast group '%s'",
				      fam->spec->name, group);
	gid = (uint32_t)id;
	if (sk->kind == TRANSPORT_KERNEL) {
		if (setsockopt(sk->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &gid, sizeof(gid)))
			return emnl_error_set(e, -errno, "joining group '%s': %s", group,
					      strerror(errno));
		return 0;
	} else {
		struct collect c = {.family = GENL_ID_CTRL};
		struct emnl_writer w;
		int err, n;

		wr_init(&w, sk->txbuf, sk->txlen, NULL, EMNL_PAD_NEVER);
		c.seq = ++sk->seq;
		wr_msg_begin_genl(&w, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, c.seq, 0,
				  EMNL_SEQPACKET_CMD_JOIN, 1);
		wr_put(&w, EMNL_SEQPACKET_ATTR_GROUP, &gid, sizeof(gid));
		n = wr_msg_end(&w);
		assert(n > 0); /* 28 bytes in a buffer of at least 8 KiB */
		err = emnl_send_raw(sk, sk->txbuf, (size_t)n);
		if (err)
			return emnl_error_set(e, err, "send: %s", strerror(-err));
		return exchange(sk, c.seq, handle, &c, e);
	}
}

/* Decode one notification of @fam and hand it to @cb: 1 if it was one, 0 if
 * the message is something else, negative on error. */
static int notification(const struct emnl_family *fam, const struct nlmsghdr *nlh,
			emnl_msg_cb cb, void *data, struct emnl_error *e)
{
	const struct emnl_op *op;
	const struct genlmsghdr *g;
	struct emnl_attrs *msg;
	int err;

	if (nlh->nlmsg_type != fam->id || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*g))
		return 0;
	g = mnl_nlmsg_get_payload(nlh);
	op = emnl_spec_op_by_cmd(fam->spec, g->cmd, true, NULL);
	err = emnl_decode(nlh, op ? op->set : NULL, NULL, &msg, e);
	if (err)
		return err;
	err = cb ? cb(nlh, msg, data) : 0;
	emnl_attrs_free(msg);
	if (err < 0)
		return emnl_error_set(e, err, "stopped by the callback");
	return 1;
}

/* emnl_recv_notification - one datagram of notifications. */
int emnl_recv_notification(struct emnl_sock *sk, const struct emnl_family *fam, int timeout_ms,
			   emnl_msg_cb cb, void *data, struct emnl_error *e)
{
	const void *buf;
	const struct nlmsghdr *nlh;
	ssize_t n;
	int len, count = 0;

	emnl_error_clear(e);
	if (sk->overrun) {
		/* Lost while a request waited: reported before what came after. */
		sk->overrun = false;
		return emnl_error_set(e, -ENOBUFS, "events were lost%s%s",
				      sk->overrun_msg[0] ? ": " : "", sk->overrun_msg);
	}
	if (sk->pending) {
		/* Notifications met during a request come first, without waiting. */
		while (sk->pending) {
			struct pending *p = sk->pending;
			int r;

			sk->pending = p->next;
			r = notification(fam, (const struct nlmsghdr *)p->msg, cb, data, e);
			free(p);
			if (r < 0)
				return r;
			count += r;
		}
		return count;
	}
	n = emnl_recv_raw(sk, &buf, timeout_ms);
	if (n == -ETIMEDOUT)
		return 0;
	if (n == -ENOBUFS)
		return emnl_error_set(e, -ENOBUFS, "events were lost: the socket's buffer overflowed");
	if (n < 0)
		return emnl_error_set(e, (int)n, "receive: %s", strerror((int)-n));
	len = (int)n;
	for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		int r;

		/* A seqpacket server's overrun notice is the kernel's ENOBUFS:
		 * one failed receive (and the notice stands alone in its packet). */
		if (overrun_notice(nlh, sk->overrun_msg, sizeof(sk->overrun_msg)))
			return emnl_error_set(e, -ENOBUFS, "events were lost: %s",
					      sk->overrun_msg[0] ? sk->overrun_msg : "overrun");
		r = notification(fam, nlh, cb, data, e);

		if (r < 0)
			return r;
		count += r;
	}
	return count;
}
