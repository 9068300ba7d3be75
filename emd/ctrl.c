/*
 * The part of the generic netlink controller (nlctrl) that a client of emd
 * needs: CTRL_CMD_GETFAMILY, by name or by id (do) and for every family
 * (dump), answered with the attributes and in the order the kernel's
 * controller writes them (name, id, version, hdrsize, maxattr, the operations
 * with their capability flags, the multicast groups), so that a client
 * resolves emd's family exactly as it resolves a kernel family. Over a UNIX
 * socket there is no setsockopt(NETLINK_ADD_MEMBERSHIP), so joining and
 * leaving the event group are two controller commands of their own (see
 * docs/emd.md, "Joining the event group").
 */
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emd.h"

/* One operation as CTRL_ATTR_OPS lists it. */
struct ctrl_op {
	uint32_t cmd, flags;
};

/* One family emd answers for. */
struct ctrl_family {
	const char *name;
	uint16_t id;
	uint32_t version, maxattr;
	const struct ctrl_op *ops;
	size_t n_ops;
	const char *group; /* its one multicast group, or NULL */
	uint32_t group_id;
};

/*
 * dev-energymodel's operations are split do/dump ops without a family-wide
 * policy, so maxattr is 0 and each op's flags say do/dump/has-policy. The
 * controller writes its nests without NLA_F_NESTED (checked against a 6.18
 * kernel's own answer for nlctrl: maxattr 0, ops and groups numbered from 1,
 * a group's id before its name).
 */
static const struct ctrl_op energymodel_ops[] = {
	{EMD_CMD_GET_PERF_DOMAINS, GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL},
	{EMD_CMD_GET_PERF_TABLE, GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL},
};
static const struct ctrl_op ctrl_ops[] = {
	{CTRL_CMD_GETFAMILY, GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL},
};

static const struct ctrl_family families[] = {
	{"nlctrl", EMD_CTRL_ID, EMD_CTRL_VERSION, 0, ctrl_ops, 1, NULL, 0},
	{"dev-energymodel", EMD_FAMILY_ID, EMD_FAMILY_VERSION, 0, energymodel_ops, 2, "event",
	 EMD_GROUP_EVENT},
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* Append one CTRL_CMD_NEWFAMILY message describing @f. */
static int put_family(struct emd_msg *m, const struct ctrl_family *f, uint16_t flags,
		      uint32_t seq, uint32_t portid)
{
	size_t ops, grps, nest;

	emd_msg_begin(m, EMD_CTRL_ID, flags, seq, portid, CTRL_CMD_NEWFAMILY, EMD_CTRL_VERSION);
	emd_msg_put_strz(m, CTRL_ATTR_FAMILY_NAME, f->name);
	emd_msg_put_u16(m, CTRL_ATTR_FAMILY_ID, f->id);
	emd_msg_put_u32(m, CTRL_ATTR_VERSION, f->version);
	emd_msg_put_u32(m, CTRL_ATTR_HDRSIZE, 0);
	emd_msg_put_u32(m, CTRL_ATTR_MAXATTR, f->maxattr);
	ops = emd_msg_nest_begin_noflag(m, CTRL_ATTR_OPS);
	for (size_t i = 0; i < f->n_ops; i++) {
		nest = emd_msg_nest_begin_noflag(m, (uint16_t)(i + 1));
		emd_msg_put_u32(m, CTRL_ATTR_OP_ID, f->ops[i].cmd);
		emd_msg_put_u32(m, CTRL_ATTR_OP_FLAGS, f->ops[i].flags);
		emd_msg_nest_end(m, nest);
	}
	emd_msg_nest_end(m, ops);
	if (f->group) {
		grps = emd_msg_nest_begin_noflag(m, CTRL_ATTR_MCAST_GROUPS);
		nest = emd_msg_nest_begin_noflag(m, 1);
		emd_msg_put_u32(m, CTRL_ATTR_MCAST_GRP_ID, f->group_id);
		emd_msg_put_strz(m, CTRL_ATTR_MCAST_GRP_NAME, f->group);
		emd_msg_nest_end(m, nest);
		emd_msg_nest_end(m, grps);
	}
	return emd_msg_end(m);
}

/* An error at attribute @a of @nlh. */
static int fail_at(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh,
		   const struct nlattr *a, int err, const char *msg)
{
	struct emnl_error e;

	emnl_error_set(&e, err, "%s", msg);
	if (a) {
		e.has_offset = true;
		e.offset = (uint32_t)((const uint8_t *)a - (const uint8_t *)nlh);
	}
	emd_client_error(d, c, nlh, &e);
	return err;
}

/*
 * JOIN / LEAVE: exactly one attribute, EMNL_SEQPACKET_ATTR_GROUP (u32), naming
 * the group; anything else is refused as strictly as a spec'd request.
 */
static int join_leave(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh,
		      bool join)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *group = NULL;
	struct emnl_error ok = {0};
	int left;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return fail_at(d, c, nlh, NULL, -EINVAL,
			       "message is too short for the genetlink header");
	if (g->reserved)
		return fail_at(d, c, nlh, NULL, -EINVAL,
			       "reserved field of the genetlink header is not 0");
	a = (const struct nlattr *)((const uint8_t *)g + GENL_HDRLEN);
	left = (int)(nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);
	for (; mnl_attr_ok(a, left); a = mnl_attr_next(a)) {
		left -= (int)MNL_ALIGN(a->nla_len);
		if (mnl_attr_get_type(a) != EMNL_SEQPACKET_ATTR_GROUP)
			return fail_at(d, c, nlh, a, -EINVAL, "unknown attribute type");
		if (mnl_attr_get_payload_len(a) != sizeof(uint32_t))
			return fail_at(d, c, nlh, a, -EINVAL, "group id must be a u32");
		if (group)
			return fail_at(d, c, nlh, a, -EINVAL, "group given twice");
		group = a;
	}
	if (left > 0)
		return fail_at(d, c, nlh, a, -EINVAL, "trailing bytes after the attributes");
	if (!group) {
		struct emnl_error e;

		emnl_error_set(&e, -EINVAL, "missing the group id");
		e.has_miss_type = true;
		e.miss_type = EMNL_SEQPACKET_ATTR_GROUP;
		emd_client_error(d, c, nlh, &e);
		return -EINVAL;
	}
	if (mnl_attr_get_u32(group) != EMD_GROUP_EVENT)
		return fail_at(d, c, nlh, group, -ENOENT, "no multicast group with that id");
	static_call(emd_count)(EMD_OP_JOIN);
	c->subscribed = join;
	if (nlh->nlmsg_flags & NLM_F_ACK)
		return emd_client_error(d, c, nlh, &ok);
	return 0;
}

/* The family a GETFAMILY do asks for, by id (preferred, as the kernel) or name. */
static int getfamily(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh)
{
	const struct nlattr *a, *by_id = NULL, *by_name = NULL;
	const struct ctrl_family *f = NULL;
	struct emnl_error ok = {0};
	struct emd_msg m;
	int len;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			by_id = a;
		else if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME)
			by_name = a;
	}
	if (!by_id && !by_name) {
		struct emnl_error e;

		emnl_error_set(&e, -EINVAL, "give the family's name or id");
		e.has_miss_type = true;
		e.miss_type = CTRL_ATTR_FAMILY_NAME;
		emd_client_error(d, c, nlh, &e);
		return -EINVAL;
	}
	for (size_t i = 0; i < N_FAMILIES; i++) {
		if (by_id ? families[i].id == mnl_attr_get_u16(by_id)
			  : !strcmp(families[i].name, mnl_attr_get_str(by_name)))
			f = &families[i];
	}
	if (!f) {
		char msg[96];

		if (by_id)
			snprintf(msg, sizeof(msg), "no family with id %u", mnl_attr_get_u16(by_id));
		else
			snprintf(msg, sizeof(msg), "no family named '%.60s'",
				 mnl_attr_get_str(by_name));
		return fail_at(d, c, nlh, by_id ? by_id : by_name, -ENOENT, msg);
	}
	emd_msg_init(&m, d->txbuf, EMNL_DGRAM_MAX, d->cfg.pad);
	len = put_family(&m, f, 0, nlh->nlmsg_seq, c->portid);
	if (len < 0)
		return fail_at(d, c, nlh, NULL, len, "reply does not fit");
	len = emd_client_send(d, c, d->txbuf, (size_t)len, false);
	if (!len && (nlh->nlmsg_flags & NLM_F_ACK))
		len = emd_client_error(d, c, nlh, &ok);
	return len;
}

/* emd_ctrl_request - one request to nlctrl's id. */
int emd_ctrl_request(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct emnl_msg_info info = {0};
	struct emnl_error e;
	int err;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN &&
	    (g->cmd == EMD_CMD_JOIN || g->cmd == EMD_CMD_LEAVE))
		return join_leave(d, c, nlh, g->cmd == EMD_CMD_JOIN);
	err = emnl_validate(d->ctrl_spec, nlh, nlh->nlmsg_len, false, NULL, 0, &info, &e);
	if (err) {
		emd_client_error(d, c, nlh, &e);
		return err;
	}
	if (g->cmd != CTRL_CMD_GETFAMILY) {
		emnl_error_set(&e, -EOPNOTSUPP, "emd serves no nlctrl '%s'", info.op ? info.op->name : "?");
		emd_client_error(d, c, nlh, &e);
		return -EOPNOTSUPP;
	}
	static_call(emd_count)(EMD_OP_GETFAMILY);
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		return getfamily(d, c, nlh);
	if (c->dump.kind != EMD_DUMP_NONE) {
		emnl_error_set(&e, -EBUSY, "a dump is already in progress");
		emd_client_error(d, c, nlh, &e);
		return -EBUSY;
	}
	c->dump.kind = EMD_DUMP_FAMILIES;
	c->dump.seq = nlh->nlmsg_seq;
	c->dump.next = 0;
	c->dump.done_sent = false;
	return 0;
}

/* emd_dump_families_fill - the next packet of a GETFAMILY dump (see
 * emd_dump_domains_fill for the packing rule). */
int emd_dump_families_fill(struct emd *d, struct emd_client *c, struct emd_msg *m)
{
	size_t limit = d->cfg.dump_packet_size < m->size ? d->cfg.dump_packet_size : m->size;
	size_t before;

	while (c->dump.next < N_FAMILIES) {
		before = m->len;
		if (put_family(m, &families[c->dump.next], NLM_F_MULTI, c->dump.seq,
			       c->portid) < 0 ||
		    (before > 0 && m->len > limit)) {
			m->len = before;
			return 0;
		}
		c->dump.next++;
	}
	before = m->len;
	if (emd_msg_begin_raw(m, NLMSG_DONE, NLM_F_MULTI, c->dump.seq, c->portid, sizeof(int)) &&
	    emd_msg_end(m) > 0 && !(before > 0 && m->len > limit))
		return 1;
	m->len = before;
	return 0;
}
