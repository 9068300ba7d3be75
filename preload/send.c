/*
 * Outgoing datagrams. The kernel takes a datagram's messages one after the
 * other (net/netlink/af_netlink.c, netlink_rcv_skb()); so does emd. Each
 * message goes where the kernel would find its family: to emd if it is of
 * the family id handed out for dev-energymodel, or an nlctrl GETFAMILY or
 * GETPOLICY naming dev-energymodel (by CTRL_ATTR_FAMILY_ID if present, else
 * CTRL_ATTR_FAMILY_NAME, the last of each winning as in nla_parse()); to the
 * kernel otherwise. A datagram is cut into runs of consecutive messages with
 * one destination, each sent as one datagram, in order. A datagram with
 * nothing for emd goes to the kernel untouched, in the program's own call.
 *
 * An nlctrl GETFAMILY dump goes to the kernel, and is noted so that its end
 * gets emd's family (reshape.c). When emd cannot be reached, everything goes
 * to the kernel, which answers for dev-energymodel as a kernel without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "preload.h"

enum dest {
	TO_KERNEL,
	TO_EMD,
	TO_KERNEL_CTRL_DUMP, /* the kernel, then emd's family at its end */
	TO_ASK,              /* nlctrl by id before emd's ids are known: connect, then see */
};

/* Where nlctrl request @nlh belongs. */
static enum dest ctrl_dest(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;
	const struct nlattr *id = NULL, *name = NULL;
	uint16_t v;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN || !(nlh->nlmsg_flags & NLM_F_REQUEST))
		return TO_KERNEL;
	if (g->cmd == CTRL_CMD_GETFAMILY && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
		return TO_KERNEL_CTRL_DUMP;
	if (g->cmd != CTRL_CMD_GETFAMILY && g->cmd != CTRL_CMD_GETPOLICY)
		return TO_KERNEL;
	pl_for_each_attr(a, (const uint8_t *)g + GENL_HDRLEN, end) {
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
			id = a;
		else if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_NAME)
			name = a;
	}
	if (id) {
		if (pl_attr_len(id) < sizeof(v))
			return TO_KERNEL;
		memcpy(&v, pl_attr_data(id), sizeof(v));
		if (v != pl_idmap_family_candidate())
			return TO_KERNEL;
		/* The id handed out (in an earlier process, if emd's ids are not
		 * known yet in this one). */
		return pl_idmap_ready() ? TO_EMD : TO_ASK;
	}
	if (name && pl_attr_len(name) >= sizeof(PL_FAMILY_NAME) - 1 &&
	    !strncmp(pl_attr_data(name), PL_FAMILY_NAME, pl_attr_len(name)) &&
	    strnlen(pl_attr_data(name), pl_attr_len(name)) == sizeof(PL_FAMILY_NAME) - 1)
		return TO_EMD;
	return TO_KERNEL;
}

/* Where message @nlh belongs (before knowing whether emd answers). */
static enum dest dest_of(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_type == GENL_ID_CTRL)
		return ctrl_dest(nlh);
	if (pl_idmap_ready() && nlh->nlmsg_type == pl_idmap.user_family)
		return TO_EMD;
	return TO_KERNEL;
}

/* Rewrite a message bound for emd (a copy) to emd's ids. */
static void to_emd_ids(struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);

	if (nlh->nlmsg_type == pl_idmap.user_family) {
		nlh->nlmsg_type = pl_idmap.emd_family;
		return;
	}
	if (nlh->nlmsg_type != GENL_ID_CTRL || nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	pl_for_each_attr(a, (uint8_t *)g + GENL_HDRLEN, (uint8_t *)nlh + nlh->nlmsg_len) {
		uint16_t v;

		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_FAMILY_ID || pl_attr_len(a) < sizeof(v))
			continue;
		memcpy(&v, pl_attr_data(a), sizeof(v));
		if (v == pl_idmap.user_family)
			memcpy(pl_attr_data(a), &pl_idmap.emd_family, sizeof(v));
	}
}

/* Send @len bytes at @buf to the kernel, with the program's address, control
 * data (@first run only) and flags. */
static ssize_t to_kernel(int fd, const struct msghdr *orig, const void *buf, size_t len,
			 int flags, bool first)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {
		.msg_name = orig->msg_name,
		.msg_namelen = orig->msg_namelen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = first ? orig->msg_control : NULL,
		.msg_controllen = first ? orig->msg_controllen : 0,
	};

	return pl_real.sendmsg(fd, &mh, flags);
}

/* RECV_LEN: what the program's receives have shown emd's dumps may fill. */
struct recv_len_msg {
	struct nlmsghdr n;
	struct genlmsghdr g;
	struct nlattr a;
	uint32_t len;
};

/* Send one run of messages to emd (with s->lock held): rewritten to emd's
 * ids, each kept for the error that may echo it, after a RECV_LEN when the
 * program's receives grew (so that emd sizes dump packets as the kernel
 * would for this socket: netlink_dump() and max_recvmsg_len). 0, or -errno. */
static int to_emd(struct pl_sock *s, int fd, const uint8_t *run, size_t len, int flags)
{
	unsigned int recv_max = atomic_load_explicit(&s->recv_max, memory_order_relaxed);
	size_t hint = recv_max > s->recv_announced ? sizeof(struct recv_len_msg) : 0;
	uint8_t *body;

	if (len + hint > s->sbuf_size) {
		uint8_t *b = realloc(s->sbuf, len + hint);

		if (!b)
			return -ENOMEM;
		s->sbuf = b;
		s->sbuf_size = len + hint;
	}
	if (hint) {
		struct recv_len_msg m = {
			.n = {.nlmsg_len = sizeof(m), .nlmsg_type = GENL_ID_CTRL,
			      .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = ++s->iseq,
			      .nlmsg_pid = PL_INTERNAL_PID}, /* an error would be dropped */
			.g = {.cmd = EMNL_SEQPACKET_CMD_RECV_LEN, .version = 1},
			.a = {.nla_len = NLA_HDRLEN + sizeof(uint32_t),
			      .nla_type = EMNL_SEQPACKET_ATTR_LEN},
			.len = recv_max,
		};

		memcpy(s->sbuf, &m, sizeof(m));
	}
	body = s->sbuf + hint;
	memcpy(body, run, len);
	pl_for_each_msg(nlh, body, len) {
		to_emd_ids(nlh);
		pl_req_keep(s, (const struct nlmsghdr *)(run + ((uint8_t *)nlh - body)), nlh);
	}
	len += hint;
	for (;;) {
		struct pollfd p = {.fd = s->emd, .events = POLLOUT};
		ssize_t n = pl_real.send(s->emd, s->sbuf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0) {
			if (hint)
				s->recv_announced = recv_max;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if ((flags & MSG_DONTWAIT) || (pl_real.fcntl(fd, F_GETFL) & O_NONBLOCK))
			return -EAGAIN;
		/* emd reads no request while our answers wait: let the program's
		 * other threads read them meanwhile. */
		pthread_mutex_unlock(&s->lock);
		pl_real.poll(&p, 1, -1);
		pthread_mutex_lock(&s->lock);
		if (s->emd < 0)
			return -EPIPE;
		p.fd = s->emd;
	}
}

/* Send one run to its destination; a run for an emd that went away goes to
 * the kernel instead. 0, or -errno. */
static int send_run(struct pl_sock *s, int fd, const struct msghdr *msg, const uint8_t *run,
		    size_t len, enum dest d, int flags, bool *first)
{
	int err = 0;

	if (d == TO_EMD) {
		err = to_emd(s, fd, run, len, flags);
		if (err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN) {
			pl_emd_disconnect(s);
			d = TO_KERNEL;
		}
	}
	if (d != TO_EMD) {
		err = to_kernel(fd, msg, run, len, flags, *first) < 0 ? -errno : 0;
		*first = false;
	}
	return err;
}

/* pl_sendmsg - see preload.h. */
ssize_t pl_sendmsg(struct pl_sock *s, int fd, const struct msghdr *msg, int flags)
{
	const struct sockaddr_nl *to = msg->msg_name;
	const uint8_t *buf;
	uint8_t *flat = NULL;
	size_t total = 0, run_start = 0, end = 0;
	enum dest run_dest = TO_KERNEL;
	bool routed = false, first = true;
	int err = 0;

	/* To another socket's port or to a group: nothing of emd's. */
	if (msg->msg_namelen && (msg->msg_namelen < sizeof(*to) || to->nl_family != AF_NETLINK ||
				 to->nl_pid || to->nl_groups))
		return pl_real.sendmsg(fd, msg, flags);
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	if (msg->msg_iovlen == 1) {
		buf = msg->msg_iov[0].iov_base;
	} else {
		size_t off = 0;

		flat = malloc(total ? total : 1);
		if (!flat)
			return pl_real.sendmsg(fd, msg, flags);
		for (size_t i = 0; i < msg->msg_iovlen; i++) {
			memcpy(flat + off, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
			off += msg->msg_iov[i].iov_len;
		}
		buf = flat;
	}
	pl_for_each_msg(nlh, buf, total) {
		if (dest_of(nlh) != TO_KERNEL)
			routed = true;
	}
	if (!routed) {
		free(flat);
		return pl_real.sendmsg(fd, msg, flags);
	}

	pthread_mutex_lock(&s->lock);
	pl_for_each_msg(nlh, buf, total) {
		enum dest d = dest_of(nlh);
		size_t at = (size_t)((const uint8_t *)nlh - buf);

		if (d != TO_KERNEL && pl_emd_connect(s, fd))
			d = TO_KERNEL; /* no emd: the kernel answers as without the family */
		if (d == TO_ASK)
			d = dest_of(nlh) == TO_EMD ? TO_EMD : TO_KERNEL;
		if (d == TO_KERNEL_CTRL_DUMP) {
			if (!s->merging) {
				s->merging = true;
				s->merge_seq = nlh->nlmsg_seq;
			}
			d = TO_KERNEL;
		}
		if (at > run_start && d != run_dest) {
			err = send_run(s, fd, msg, buf + run_start, at - run_start, run_dest, flags,
				       &first);
			if (err)
				break;
			run_start = at;
		}
		run_dest = d;
		end = at + NLMSG_ALIGN(nlh->nlmsg_len);
		if (end > total)
			end = total;
	}
	/* Bytes after the last whole message are dropped: the kernel ignores
	 * them too (netlink_rcv_skb() stops at a message that does not fit). */
	if (!err && end > run_start)
		err = send_run(s, fd, msg, buf + run_start, end - run_start, run_dest, flags, &first);
	pthread_mutex_unlock(&s->lock);
	free(flat);
	if (err) {
		errno = -err;
		return -1;
	}
	return (ssize_t)total;
}
