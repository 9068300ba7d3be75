/*
 * A wrapped socket's own state: the connection to emd (opened when the
 * program first asks for dev-energymodel, with a GETFAMILY handshake that
 * learns emd's ids), the side epoll descriptor that makes emd's data visible
 * to poll/select/epoll on the program's descriptor, the queue of datagrams
 * the library holds for the program (an eventfd in the side epoll says it is
 * not empty), memberships at emd following the kernel socket's own, and the
 * requests kept for the errors that echo them.
 *
 * Internal requests (the handshake, JOIN, LEAVE) are answered on the same
 * connection as the program's: they carry PL_INTERNAL_PID and a sequence
 * number of the library's, and whatever emd sends before their answer is
 * queued for the program in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "preload.h"
#include "emkit/dev_energymodel_user.h"

/* pl_sock_new - see preload.h. */
struct pl_sock *pl_sock_new(bool cloexec, bool nonblock)
{
	struct pl_sock *s = calloc(1, sizeof(*s));
	struct timespec ts;

	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->lock, NULL);
	s->cloexec = cloexec;
	s->nonblock = nonblock;
	s->side = s->evfd = s->emd = -1;
	s->rcvtimeo_ms = -1;
	s->emd_timeo_ms = -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Internal sequence numbers start somewhere a program's are unlikely to be. */
	s->iseq = (uint32_t)(ts.tv_nsec ^ ((uint32_t)getpid() << 12)) | 0x80000000u;
	return s;
}

static void reqs_clear(struct pl_sock *s)
{
	while (s->reqs) {
		struct pl_req *r = s->reqs;

		s->reqs = r->next;
		free(r);
	}
	s->reqs_bytes = 0;
	s->n_reqs = 0;
	s->in_flight = 0;
}

/* pl_sock_free - see preload.h. */
void pl_sock_free(struct pl_sock *s)
{
	pl_emd_disconnect(s);
	if (s->side >= 0)
		pl_real.close(s->side);
	if (s->evfd >= 0)
		pl_real.close(s->evfd);
	while (s->q_head)
		pl_queue_pop(s);
	reqs_clear(s);
	free(s->family);
	free(s->rbuf);
	free(s->tbuf);
	free(s->wbuf);
	free(s->sbuf);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* pl_side - see preload.h. */
int pl_side(struct pl_sock *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int cx = s->cloexec ? EPOLL_CLOEXEC : 0;

	if (s->side >= 0)
		return s->side;
	s->side = epoll_create1(cx);
	if (s->side < 0)
		return -errno;
	s->evfd = eventfd(0, EFD_NONBLOCK | (s->cloexec ? EFD_CLOEXEC : 0));
	ev.data.fd = s->evfd;
	if (s->evfd < 0 || pl_real.epoll_ctl(s->side, EPOLL_CTL_ADD, s->evfd, &ev)) {
		int err = -errno;

		if (s->evfd >= 0)
			pl_real.close(s->evfd);
		pl_real.close(s->side);
		s->side = s->evfd = -1;
		return err;
	}
	if (s->emd >= 0) {
		ev.data.fd = s->emd;
		pl_real.epoll_ctl(s->side, EPOLL_CTL_ADD, s->emd, &ev);
	}
	return s->side;
}

/* ---- the local queue ------------------------------------------------------------ */

/* pl_queue_push - see preload.h. */
int pl_queue_push(struct pl_sock *s, const void *data, size_t len, bool raw)
{
	struct pl_pkt *p = malloc(sizeof(*p) + len);
	uint64_t one = 1;

	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->len = len;
	p->raw = raw;
	memcpy(p->data, data, len);
	if (s->q_tail)
		s->q_tail->next = p;
	else
		s->q_head = p;
	s->q_tail = p;
	/* The eventfd counts to 1 while the queue holds anything. */
	if (p == s->q_head && pl_side(s) >= 0)
		(void)!write(s->evfd, &one, sizeof(one));
	return 0;
}

/* pl_queue_pop - see preload.h. */
void pl_queue_pop(struct pl_sock *s)
{
	struct pl_pkt *p = s->q_head;
	uint64_t v;

	if (!p)
		return;
	s->q_head = p->next;
	if (!s->q_head) {
		s->q_tail = NULL;
		if (s->evfd >= 0)
			(void)!read(s->evfd, &v, sizeof(v));
	}
	free(p);
}

/* ---- kept requests ------------------------------------------------------------ */

/* pl_req_keep - see preload.h. */
void pl_req_keep(struct pl_sock *s, const struct nlmsghdr *orig, const struct nlmsghdr *sent)
{
	struct pl_req *r = malloc(sizeof(*r) + orig->nlmsg_len), **pp;

	if (!r)
		return;
	r->sent = *sent;
	r->pending = sent->nlmsg_flags & NLM_F_REQUEST;
	s->in_flight += r->pending;
	r->len = orig->nlmsg_len;
	memcpy(r->msg, orig, orig->nlmsg_len);
	r->next = s->reqs;
	s->reqs = r;
	s->reqs_bytes += r->len;
	s->n_reqs++;
	if (s->reqs_bytes <= PL_REQS_BYTES && s->n_reqs <= PL_REQS_MAX)
		return;
	/* Over the budget: forget the older half. */
	pp = &s->reqs;
	for (unsigned int i = 0; *pp && i < s->n_reqs / 2; i++)
		pp = &(*pp)->next;
	while (*pp) {
		struct pl_req *old = *pp;

		*pp = old->next;
		s->reqs_bytes -= old->len;
		s->n_reqs--;
		s->in_flight -= old->pending; /* forgotten: no longer awaited */
		free(old);
	}
}

/* pl_req_find - see preload.h. */
const struct pl_req *pl_req_find(const struct pl_sock *s, const struct nlmsghdr *echo)
{
	for (const struct pl_req *r = s->reqs; r; r = r->next)
		if (!memcmp(&r->sent, echo, sizeof(*echo)))
			return r;
	return NULL;
}

/* The newest request still pending with sequence number @seq. */
static struct pl_req *pending_req(struct pl_sock *s, uint32_t seq)
{
	for (struct pl_req *r = s->reqs; r; r = r->next)
		if (r->pending && r->sent.nlmsg_seq == seq)
			return r;
	return NULL;
}

static void answered(struct pl_sock *s, struct pl_req *r)
{
	r->pending = false;
	s->in_flight--;
}

/* pl_req_answered - see preload.h. A request is answered by its error or ack,
 * by the NLMSG_DONE of its dump, or (a do without NLM_F_ACK) by its reply. */
void pl_req_answered(struct pl_sock *s, const uint8_t *in, size_t len)
{
	pl_for_each_msg(nlh, in, len) {
		struct pl_req *r;

		if (!s->in_flight)
			return;
		if (!nlh->nlmsg_pid)
			continue; /* a notification: emd sends those with port id 0 */
		if (nlh->nlmsg_type == NLMSG_ERROR &&
		    nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nlmsgerr)) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (e->error == -EMSGSIZE) {
				/* A datagram refused whole: none of it will be answered. */
				for (r = s->reqs; r; r = r->next)
					if (r->pending)
						answered(s, r);
				return;
			}
		}
		r = pending_req(s, nlh->nlmsg_seq);
		if (!r)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE ||
		    (!(nlh->nlmsg_flags & NLM_F_MULTI) && !(r->sent.nlmsg_flags & NLM_F_ACK)))
			answered(s, r);
	}
}

/* pl_nonblock - see preload.h. */
bool pl_nonblock(struct pl_sock *s, int fd)
{
	if (s->nonblock < 0)
		s->nonblock = !!(pl_real.fcntl(fd, F_GETFL) & O_NONBLOCK);
	return s->nonblock;
}

/* ---- emd ------------------------------------------------------------------------ */

/* pl_emd_disconnect - see preload.h. */
void pl_emd_disconnect(struct pl_sock *s)
{
	if (s->emd < 0)
		return;
	if (s->side >= 0)
		pl_real.epoll_ctl(s->side, EPOLL_CTL_DEL, s->emd, NULL);
	pl_real.close(s->emd);
	s->emd = -1;
	s->recv_announced = 0; /* a new connection is told again */
	memset(s->joined, 0, sizeof(s->joined));
	reqs_clear(s);
}

/* Milliseconds left until @deadline (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* True if @buf's first message answers internal request @seq. */
static bool answers(const uint8_t *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct nlmsgerr *e = NLMSG_DATA(nlh);

	if (len < NLMSG_HDRLEN || nlh->nlmsg_seq != seq)
		return false;
	if (nlh->nlmsg_type != NLMSG_ERROR)
		return true;
	return len >= NLMSG_HDRLEN + sizeof(*e) && e->msg.nlmsg_pid == PL_INTERNAL_PID;
}

/*
 * Send the internal request @req to emd and read until its answer comes;
 * anything before it is queued for the program. The answer (its datagram's
 * first message, at most @size bytes) goes to @ans. Returns its length or
 * -errno (-ETIMEDOUT after PL_CALL_TIMEOUT_MS; -EPIPE if emd went away).
 */
static ssize_t emd_call(struct pl_sock *s, struct nlmsghdr *req, void *ans, size_t size)
{
	struct timespec deadline;
	bool sent = false;

	req->nlmsg_seq = ++s->iseq;
	req->nlmsg_pid = PL_INTERNAL_PID;
	if (!s->rbuf && !(s->rbuf = malloc(PL_RBUF)))
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += PL_CALL_TIMEOUT_MS / 1000;
	for (;;) {
		struct pollfd p = {.fd = s->emd, .events = POLLIN | (sent ? 0 : POLLOUT)};
		ssize_t n;
		int r = pl_real.poll(&p, 1, ms_left(&deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -ETIMEDOUT;
		if (!sent && (p.revents & POLLOUT)) {
			n = pl_real.send(s->emd, req, req->nlmsg_len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			sent = n == (ssize_t)req->nlmsg_len;
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = pl_real.recv(s->emd, s->rbuf, PL_RBUF, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		if (sent && answers(s->rbuf, (size_t)n, req->nlmsg_seq)) {
			const struct nlmsghdr *nlh = (const void *)s->rbuf;
			size_t len = nlh->nlmsg_len < (size_t)n ? nlh->nlmsg_len : (size_t)n;

			memcpy(ans, s->rbuf, len < size ? len : size);
			return (ssize_t)len;
		}
		pl_queue_push(s, s->rbuf, (size_t)n, true);
	}
}

/* emd's id and group ids from its GETFAMILY reply @nlh. */
static int parse_family(const struct nlmsghdr *nlh, uint16_t *id, uint32_t *groups,
			unsigned int *n)
{
	const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;

	*id = 0;
	*n = 0;
	if (nlh->nlmsg_type != GENL_ID_CTRL || nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EPROTO;
	pl_for_each_attr(a, (const uint8_t *)nlh + NLMSG_HDRLEN + GENL_HDRLEN, end) {
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (type == CTRL_ATTR_FAMILY_ID && pl_attr_len(a) >= sizeof(*id))
			memcpy(id, pl_attr_data(a), sizeof(*id));
		if (type != CTRL_ATTR_MCAST_GROUPS)
			continue;
		pl_for_each_attr(g, pl_attr_data(a), (uint8_t *)a + a->nla_len) {
			pl_for_each_attr(f, pl_attr_data(g), (uint8_t *)g + g->nla_len) {
				if ((f->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_ID &&
				    pl_attr_len(f) >= sizeof(uint32_t) && *n < PL_MAX_GROUPS)
					memcpy(&groups[(*n)++], pl_attr_data(f), sizeof(uint32_t));
			}
		}
	}
	return *id ? 0 : -EPROTO;
}

/* Open a connection to emd's socket (EMD_SOCKET, else the default path). */
static int emd_open(bool cloexec)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *env = getenv("EMD_SOCKET");
	int fd;

	if (env && env[0]) {
		if (strlen(env) >= sizeof(sa.sun_path))
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, env);
	} else if (emd_default_socket(sa.sun_path, sizeof(sa.sun_path))) {
		return -ENOENT;
	}
	fd = pl_real.socket(AF_UNIX, SOCK_SEQPACKET | (cloexec ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		if (err == -EINTR)
			continue;
		pl_real.close(fd);
		return err;
	}
	return fd;
}

/* pl_emd_connect - see preload.h. */
int pl_emd_connect(struct pl_sock *s, int fd)
{
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
		struct nlattr a;
		char name[sizeof(PL_FAMILY_NAME)];
	} req = {
		.nlh = {.nlmsg_len = sizeof(req), .nlmsg_type = GENL_ID_CTRL,
			.nlmsg_flags = NLM_F_REQUEST},
		.g = {.cmd = CTRL_CMD_GETFAMILY, .version = 1},
		.a = {.nla_len = NLA_HDRLEN + sizeof(PL_FAMILY_NAME),
		      .nla_type = CTRL_ATTR_FAMILY_NAME},
		.name = PL_FAMILY_NAME,
	};
	struct epoll_event ev = {.events = EPOLLIN};
	uint32_t groups[PL_MAX_GROUPS];
	unsigned int n = 0;
	uint16_t id = 0;
	uint8_t *ans;
	ssize_t len;
	int err;

	_Static_assert(sizeof(req) % 4 == 0, "the request is a whole number of words");
	if (s->emd >= 0)
		return 0;
	s->emd = emd_open(s->cloexec);
	if (s->emd < 0)
		return s->emd;
	ans = malloc(PL_RBUF);
	if (!ans) {
		pl_emd_disconnect(s);
		return -ENOMEM;
	}
	len = emd_call(s, &req.nlh, ans, PL_RBUF);
	err = len < 0 ? (int)len
		      : parse_family((const struct nlmsghdr *)ans, &id, groups, &n);
	if (!err)
		err = pl_idmap_setup(id, groups, n);
	if (err) {
		free(ans);
		pl_emd_disconnect(s);
		return err;
	}
	free(s->family);
	s->family = ans;
	s->family_len = (size_t)len;
	if (pl_side(s) >= 0) {
		ev.data.fd = s->emd;
		pl_real.epoll_ctl(s->side, EPOLL_CTL_ADD, s->emd, &ev);
	}
	atomic_store(&s->active, true);
	pl_portid(s, fd);
	pl_sync_membership(s, fd);
	return 0;
}

/* pl_portid - see preload.h. */
uint32_t pl_portid(struct pl_sock *s, int fd)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);

	if (s->portid)
		return s->portid;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.nl_pid == 0) {
		/* As netlink_sendmsg() autobinds an unbound socket. */
		struct sockaddr_nl any = {.nl_family = AF_NETLINK};

		pl_real.bind(fd, (struct sockaddr *)&any, sizeof(any));
		len = sizeof(sa);
		if (getsockname(fd, (struct sockaddr *)&sa, &len))
			sa.nl_pid = 0;
	}
	s->portid = sa.nl_pid;
	return s->portid;
}

/* pl_sockopt - see preload.h. */
int pl_sockopt(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len))
		return 0;
	return v;
}

/* JOIN or LEAVE emd's group @group. */
static int emd_membership(struct pl_sock *s, uint32_t group, bool join)
{
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
		struct nlattr a;
		uint32_t group;
	} req = {
		.nlh = {.nlmsg_len = sizeof(req), .nlmsg_type = GENL_ID_CTRL,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
		.g = {.cmd = (uint8_t)(EMNL_SEQPACKET_CMD_JOIN + (join ? 0 : 1)), .version = 1},
		.a = {.nla_len = NLA_HDRLEN + sizeof(uint32_t), .nla_type = EMNL_SEQPACKET_ATTR_GROUP},
		.group = group,
	};
	uint8_t ans[512];
	const struct nlmsghdr *nlh = (const void *)ans;
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	ssize_t len = emd_call(s, &req.nlh, ans, sizeof(ans));

	if (len < 0)
		return (int)len;
	if (nlh->nlmsg_type != NLMSG_ERROR || (size_t)len < NLMSG_HDRLEN + sizeof(*e))
		return -EPROTO;
	return e->error;
}

/* pl_sync_membership - see preload.h. */
int pl_sync_membership(struct pl_sock *s, int fd)
{
	uint32_t mask[1024 / 32] = {0};
	socklen_t len = sizeof(mask);
	int err = 0;

	if (s->emd < 0 || !pl_idmap_ready())
		return 0;
	if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, mask, &len))
		return -errno;
	for (unsigned int i = 0; i < pl_idmap.n_groups; i++) {
		uint32_t g = pl_idmap.user_group[i];
		bool member = g && (g - 1) / 32 < len / 4 && (mask[(g - 1) / 32] >> ((g - 1) % 32)) & 1;

		if (member == s->joined[i])
			continue;
		err = emd_membership(s, pl_idmap.emd_group[i], member);
		if (err)
			break;
		s->joined[i] = member;
	}
	return err;
}
