/*
 * emd's datagrams as the kernel would have sent them to the program's socket.
 *
 * emd writes what a kernel socket with NETLINK_EXT_ACK and NETLINK_CAP_ACK
 * would receive, with its own family and group ids and the client's pid as
 * port id. For the program each message gets: the id handed out for emd's
 * family (message type, CTRL_ATTR_FAMILY_ID, the group ids of
 * CTRL_ATTR_MCAST_GROUPS); the kernel socket's port id where emd put one
 * (events keep 0); and acks in the shape net/netlink/af_netlink.c
 * netlink_ack() gives them for this socket's options:
 *   - an error echoes the whole request unless NETLINK_CAP_ACK is set, and
 *     then carries NLM_F_CAPPED; a success ack always echoes the header only
 *     and always carries NLM_F_CAPPED;
 *   - TLVs only with NETLINK_EXT_ACK (netlink_ack_tlv_len()), flagged
 *     NLM_F_ACK_TLVS; a success ack keeps only the message and cookie
 *     (NLMSGERR_ATTR_MSG, _COOKIE: "only reported as error (not warning)"
 *     holds for the others).
 * emd's overrun notice (an NLMSG_ERROR -ENOBUFS echoing NLMSG_OVERRUN)
 * becomes a failed recv(), the kernel's netlink_overrun(); answers to the
 * library's own requests are dropped.
 *
 * The nlctrl dump (CTRL_CMD_GETFAMILY with NLM_F_DUMP) is the kernel's, with
 * emd's family added before its NLMSG_DONE, as the kernel's controller would
 * list a family it had (ctrl_dumpfamily(): the same message as the do reply,
 * with NLM_F_MULTI).
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <linux/genetlink.h>

#include "preload.h"

/* pl_reshape_newfamily - see preload.h. */
void pl_reshape_newfamily(struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	uint8_t *end = (uint8_t *)nlh + nlh->nlmsg_len;
	struct nlattr *id = NULL;
	uint16_t v;

	if (!pl_idmap_ready() || nlh->nlmsg_type != GENL_ID_CTRL ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    (g->cmd != CTRL_CMD_NEWFAMILY && g->cmd != CTRL_CMD_GETPOLICY))
		return;
	pl_for_each_attr(a, (uint8_t *)nlh + NLMSG_HDRLEN + GENL_HDRLEN, end) {
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID && pl_attr_len(a) >= 2)
			id = a;
	}
	if (!id)
		return;
	memcpy(&v, pl_attr_data(id), sizeof(v));
	if (v != pl_idmap.emd_family)
		return; /* not emd's family */
	memcpy(pl_attr_data(id), &pl_idmap.user_family, sizeof(v));
	pl_for_each_attr(a, (uint8_t *)nlh + NLMSG_HDRLEN + GENL_HDRLEN, end) {
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		pl_for_each_attr(grp, pl_attr_data(a), (uint8_t *)a + a->nla_len) {
			pl_for_each_attr(f, pl_attr_data(grp), (uint8_t *)grp + grp->nla_len) {
				uint32_t gid;

				if ((f->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GRP_ID ||
				    pl_attr_len(f) < sizeof(gid))
					continue;
				memcpy(&gid, pl_attr_data(f), sizeof(gid));
				gid = pl_group_to_user(gid);
				if (gid)
					memcpy(pl_attr_data(f), &gid, sizeof(gid));
			}
		}
	}
}

/* The socket options that shape acks, read when the first ack needs them. */
struct ack_opts {
	int ext, cap; /* -1: not read yet */
};

static void ack_opts_read(struct ack_opts *o, int fd)
{
	if (o->ext < 0) {
		o->ext = pl_sockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK);
		o->cap = pl_sockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK);
	}
}

/*
 * Write emd's NLMSG_ERROR @nlh to @out as netlink_ack() would for this
 * socket (see the top of the file). Returns the bytes written.
 */
static size_t put_ack(struct pl_sock *s, int fd, const struct nlmsghdr *nlh, uint8_t *out,
		      size_t room, struct ack_opts *o)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	const struct pl_req *r = pl_req_find(s, &e->msg);
	const uint8_t *tlv, *end = (const uint8_t *)nlh + nlh->nlmsg_len;
	struct nlmsghdr echo = r ? *(const struct nlmsghdr *)r->msg : e->msg;
	struct nlmsghdr *rep = (struct nlmsghdr *)out;
	size_t off, echo_len, tlv_len = 0;
	bool capped;

	ack_opts_read(o, fd);
	/* Without the request (forgotten, or never a request of ours) only the
	 * header can be echoed. */
	capped = !e->error || o->cap || !r;
	echo_len = capped ? sizeof(echo) : r->len;
	if (!r && pl_idmap_ready() && echo.nlmsg_type == pl_idmap.emd_family)
		echo.nlmsg_type = pl_idmap.user_family;
	/* emd's TLVs follow its (capped) echo. */
	tlv = (const uint8_t *)e + sizeof(int) +
	      ((nlh->nlmsg_flags & NLM_F_CAPPED) ? sizeof(e->msg) : NLMSG_ALIGN(e->msg.nlmsg_len));
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || !o->ext || tlv > end)
		tlv = end;
	off = NLMSG_HDRLEN + sizeof(int) + NLMSG_ALIGN(echo_len);
	if (off > room)
		return 0;
	memset(out, 0, off);
	*(int *)NLMSG_DATA(rep) = e->error;
	memcpy((uint8_t *)NLMSG_DATA(rep) + sizeof(int), capped ? (const void *)&echo : r->msg,
	       echo_len);
	pl_for_each_attr(a, tlv, end) {
		uint16_t type = a->nla_type & NLA_TYPE_MASK;
		size_t n = NLA_ALIGN(a->nla_len);

		if (!e->error && type != NLMSGERR_ATTR_MSG && type != NLMSGERR_ATTR_COOKIE)
			continue;
		if (off + tlv_len + n > room || (const uint8_t *)a + n > end)
			break;
		memcpy(out + off + tlv_len, a, n);
		tlv_len += n;
	}
	rep->nlmsg_len = (uint32_t)(off + tlv_len);
	rep->nlmsg_type = NLMSG_ERROR;
	rep->nlmsg_flags = (uint16_t)((capped ? NLM_F_CAPPED : 0) | (tlv_len ? NLM_F_ACK_TLVS : 0));
	rep->nlmsg_seq = nlh->nlmsg_seq;
	rep->nlmsg_pid = pl_portid(s, fd);
	return off + tlv_len;
}

/* pl_reshape_emd - see preload.h. */
enum pl_shape pl_reshape_emd(struct pl_sock *s, int fd, const uint8_t *in, size_t len,
			     uint8_t *out, size_t *outlen, uint32_t *group)
{
	struct ack_opts o = {-1, -1};
	size_t at = 0;
	bool any = false;

	*group = 0;
	pl_for_each_msg(nlh, in, len) {
		struct nlmsghdr *m = (struct nlmsghdr *)(out + at);

		if (nlh->nlmsg_type == NLMSG_ERROR &&
		    nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nlmsgerr)) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (e->msg.nlmsg_pid == PL_INTERNAL_PID)
				continue; /* a late answer to the library's own request */
			if (e->error == -ENOBUFS && e->msg.nlmsg_type == NLMSG_OVERRUN)
				return PL_OVERRUN;
			at += put_ack(s, fd, nlh, out + at, PL_TBUF - at, &o);
			any = true;
			continue;
		}
		if (at + NLMSG_ALIGN(nlh->nlmsg_len) > PL_TBUF)
			break;
		memcpy(m, nlh, nlh->nlmsg_len);
		memset((uint8_t *)m + nlh->nlmsg_len, 0,
		       NLMSG_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len);
		at += NLMSG_ALIGN(nlh->nlmsg_len);
		any = true;
		if (pl_idmap_ready() && m->nlmsg_type == pl_idmap.emd_family) {
			m->nlmsg_type = pl_idmap.user_family;
			/* emd's notifications carry port id 0: they went to its group. */
			if (!m->nlmsg_pid && pl_idmap.n_groups)
				*group = pl_idmap.user_group[0];
		}
		if (m->nlmsg_pid)
			m->nlmsg_pid = pl_portid(s, fd);
		pl_reshape_newfamily(m);
	}
	*outlen = at;
	return any ? PL_DATA : PL_DROP;
}

/* True if CTRL_CMD_NEWFAMILY @nlh describes a family named PL_FAMILY_NAME. */
static bool names_ours(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;

	if (nlh->nlmsg_type != GENL_ID_CTRL || nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    g->cmd != CTRL_CMD_NEWFAMILY)
		return false;
	pl_for_each_attr(a, (const uint8_t *)g + GENL_HDRLEN, end) {
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_NAME &&
		    pl_attr_len(a) == sizeof(PL_FAMILY_NAME) &&
		    !memcmp(pl_attr_data(a), PL_FAMILY_NAME, sizeof(PL_FAMILY_NAME)))
			return true;
	}
	return false;
}

/* pl_reshape_kernel - see preload.h. */
size_t pl_reshape_kernel(struct pl_sock *s, int fd, const uint8_t *in, size_t len, uint8_t *out,
			 bool peek)
{
	size_t at = 0, tail_at = 0;
	uint8_t *tail = NULL;

	assert(out == s->tbuf); /* the second half of tbuf holds a split-off tail */
	pl_for_each_msg(nlh, in, len) {
		size_t n = NLMSG_ALIGN(nlh->nlmsg_len);
		uint8_t *dst;

		if (names_ours(nlh))
			continue; /* emd's stands in for the kernel's own */
		if (nlh->nlmsg_seq == s->merge_seq &&
		    (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)) {
			if (!peek)
				s->merging = false;
			if (nlh->nlmsg_type == NLMSG_DONE && s->family && !tail) {
				struct nlmsghdr *f;

				/* The family goes where the DONE was; if other messages came
				 * first, family and DONE form the next datagram. */
				tail = at ? s->tbuf + PL_RBUF : out + at;
				f = (struct nlmsghdr *)tail;
				memcpy(f, s->family, s->family_len);
				f->nlmsg_flags = NLM_F_MULTI;
				f->nlmsg_seq = s->merge_seq;
				f->nlmsg_pid = pl_portid(s, fd);
				pl_reshape_newfamily(f);
				tail_at = NLMSG_ALIGN(f->nlmsg_len);
			}
		}
		if (tail) {
			if (tail_at + n > PL_RBUF)
				break;
			dst = tail + tail_at;
			tail_at += n;
		} else {
			dst = out + at;
			at += n;
		}
		memcpy(dst, nlh, nlh->nlmsg_len);
		memset(dst + nlh->nlmsg_len, 0, n - nlh->nlmsg_len);
	}
	if (tail == out + at)
		return at + tail_at;
	if (tail && !peek)
		pl_queue_push(s, tail, tail_at, false);
	return at;
}
