/*
 * The part of the generic netlink controller (nlctrl) that a client of emd
 * needs, answered as the kernel's controller answers (net/netlink/genetlink.c):
 *
 *   GETFAMILY   by name or id (do; the name wins when both are given, as in
 *               ctrl_getfamily()) and for every family (dump), with the
 *               attributes and in the order ctrl_fill_info() writes them;
 *   GETPOLICY   (dump) the attribute policies of a family's operations, or
 *               of one (CTRL_ATTR_OP), as ctrl_dumppolicy() and
 *               net/netlink/policy.c lay them out: one message per operation
 *               that has a policy, then one per attribute of each policy.
 *
 * What it says about a family — its operations with their do/dump/has-policy
 * flags, its groups, its policies — comes from the core's tables and the
 * family's spec, the same ones requests are dispatched and validated by. The
 * requests themselves are checked by the core against spec/nlctrl.yaml with
 * the kernel's nlctrl policies (family-id u16, family-name a string of at
 * most 15 bytes, op u32; GETFAMILY's do parsed liberally).
 *
 * Over a UNIX socket the server cannot see the socket the way a kernel sees
 * its own, so the seqpacket transport has three commands of its own,
 * outside nlctrl's spec and not listed by GETFAMILY (docs/emd.md): JOIN and
 * LEAVE a multicast group, and RECV_LEN, the size of the reader's receive
 * buffer, from which dump packets are sized.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/genetlink.h>

#include "emd.h"

/* An error at attribute @a of the request (NULL: no offset). */
static int fail_at(const struct emd_genl_info *info, const struct nlattr *a, int err,
		   const char *msg)
{
	emnl_error_set(info->extack, err, "%s", msg);
	if (a) {
		info->extack->has_offset = true;
		info->extack->offset = (uint32_t)((const uint8_t *)a - (const uint8_t *)info->nlh);
	}
	return err;
}

/* ---- the seqpacket transport's commands ---------------------------------------------- */

/*
 * The one u32 attribute of type @type a JOIN, LEAVE or RECV_LEN carries,
 * checked as strictly as a spec'd request (the kernel's messages): 0 and
 * *@out, or a negative errno with the extack filled.
 */
static int one_u32(struct emd_genl_info *info, uint16_t type, const char *what,
		   const struct nlattr **out)
{
	const struct nlmsghdr *nlh = info->nlh;
	const struct nlattr *a, *found = NULL;
	int left = (int)(nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);

	if (info->genlhdr->reserved) /* nlctrl's resv_start_op is below these */
		return fail_at(info, NULL, -EINVAL, "genlmsghdr.reserved field is not 0");
	a = (const struct nlattr *)((const uint8_t *)info->genlhdr + GENL_HDRLEN);
	for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && (int)a->nla_len <= left;
	     a = (const struct nlattr *)((const uint8_t *)a + NLA_ALIGN(a->nla_len))) {
		left -= (int)NLA_ALIGN(a->nla_len);
		if ((a->nla_type & NLA_TYPE_MASK) != type)
			return fail_at(info, a, -EINVAL, "Unknown attribute type");
		if (a->nla_len - NLA_HDRLEN != sizeof(uint32_t))
			return fail_at(info, a, -EINVAL, "invalid attribute length");
		found = a; /* the last of two wins, as nla_parse() */
	}
	if (left > 0)
		return fail_at(info, NULL, -EINVAL, "bytes leftover after parsing attributes");
	if (!found) {
		emnl_error_set(info->extack, -EINVAL, "missing the %s", what);
		info->extack->has_miss_type = true;
		info->extack->miss_type = type;
		return -EINVAL;
	}
	*out = found;
	return 0;
}

/* JOIN / LEAVE: the group id. */
static int join_leave(void *priv, struct emd_genl_info *info, struct emnl_writer *w)
{
	struct emd *d = priv;
	const struct nlattr *group;
	uint32_t gid;
	int err;

	(void)w;
	err = one_u32(info, EMNL_SEQPACKET_ATTR_GROUP, "group id", &group);
	if (err)
		return err;
	memcpy(&gid, group + 1, sizeof(gid));
	if (emd_genl_join(d->genl, info, gid, info->genlhdr->cmd == EMNL_SEQPACKET_CMD_JOIN))
		return fail_at(info, group, -ENOENT, "no multicast group with that id");
	return 0;
}

/* RECV_LEN: the reader called recvmsg() with a buffer this large. */
static int recv_len(void *priv, struct emd_genl_info *info, struct emnl_writer *w)
{
	const struct nlattr *len;
	uint32_t v;
	int err;

	(void)priv;
	(void)w;
	err = one_u32(info, EMNL_SEQPACKET_ATTR_LEN, "receive length", &len);
	if (err)
		return err;
	memcpy(&v, len + 1, sizeof(v));
	emd_genl_set_recv_len(info, v);
	return 0;
}

/* ---- GETFAMILY --------------------------------------------------------------------- */

/* The family a request names: by name (@name_first, as ctrl_getfamily()) or
 * by id (as ctrl_dumppolicy_start()), whichever the request has; NULL with
 * the extack filled (-EINVAL: neither; -ENOENT: no such family; the kernel
 * says nothing more, the message, offset and missing type are emd's). */
static const struct emd_genl_family *named_family(struct emd *d, struct emd_genl_info *info,
						  bool name_first, int *err)
{
	const struct nlattr *by_id = info->attrs[CTRL_ATTR_FAMILY_ID];
	const struct nlattr *by_name = info->attrs[CTRL_ATTR_FAMILY_NAME];
	const struct emd_genl_family *f;
	char msg[96];
	uint16_t id = 0;

	if (!by_id && !by_name) {
		*err = emnl_error_set(info->extack, -EINVAL, "give the family's name or id");
		info->extack->has_miss_type = true;
		info->extack->miss_type = CTRL_ATTR_FAMILY_NAME;
		return NULL;
	}
	if (by_id)
		memcpy(&id, by_id + 1, sizeof(id));
	if (by_name && (name_first || !by_id)) {
		f = emd_genl_family_by_name(d->genl, (const char *)(by_name + 1));
		if (f)
			return f;
		snprintf(msg, sizeof(msg), "no family named '%.60s'", (const char *)(by_name + 1));
		*err = fail_at(info, by_name, -ENOENT, msg);
		return NULL;
	}
	f = emd_genl_family_by_id(d->genl, id);
	if (f)
		return f;
	snprintf(msg, sizeof(msg), "no family with id %u", id);
	*err = fail_at(info, by_id, -ENOENT, msg);
	return NULL;
}

/* GETFAMILY do. */
static int getfamily(void *priv, struct emd_genl_info *info, struct emnl_writer *w)
{
	struct emd *d = priv;
	const struct emd_genl_family *f;
	int err = 0;

	f = named_family(d, info, true, &err);
	if (!f)
		return err;
	if (emd_genl_put_family(w, f, 0, info->nlh->nlmsg_seq, info->portid) < 0)
		return emnl_error_set(info->extack, -EMSGSIZE, "reply does not fit in %u bytes",
				      EMNL_DGRAM_MAX);
	return 0;
}

/* GETFAMILY dump: every family the core serves, in registration order from
 * the cursor (cb->args[0], the next family's index). Done when all went in,
 * so that NLMSG_DONE shares the last packet (ctrl_dumpfamily() since Linux
 * 6.10). */
static int dump_families(void *priv, struct emd_genl_dump *cb, struct emnl_writer *w)
{
	struct emd *d = priv;
	const struct emd_genl_family *f;

	while ((f = emd_genl_family_at(d->genl, (size_t)cb->args[0]))) {
		if (emd_genl_put_family(w, f, NLM_F_MULTI, cb->seq, cb->portid) < 0)
			return 1; /* it goes first in the next packet */
		cb->args[0]++;
	}
	return 0;
}

/* ---- GETPOLICY ---------------------------------------------------------------------- */

#define MAX_POLICIES 32

/* The policies of a dump, numbered as netlink_policy_dump_add_policy()
 * numbers them: each operation's do then dump policy in the order the ops
 * are walked, each followed by the nests' policies it reaches; one index
 * per distinct table. */
struct policies {
	struct emnl_policy p[MAX_POLICIES];
	size_t n;
};

/* The index of @p in @l, added if new. */
static size_t policy_add(struct policies *l, const struct emnl_policy *p)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (emnl_policy_equal(&l->p[i], p))
			return i;
	if (l->n == MAX_POLICIES)
		return MAX_POLICIES - 1; /* a spec this large is not emd's */
	l->p[l->n] = *p;
	return l->n++;
}

/* Add a root policy and every nest's policy it reaches. */
static void policy_add_tree(struct policies *l, const struct emnl_policy *root)
{
	policy_add(l, root);
	for (size_t i = 0; i < l->n; i++) {
		for (uint16_t type = 1; type <= l->p[i].maxtype; type++) {
			struct emnl_policy nested = {0};
			struct emnl_policy_attr pa;

			if (emnl_policy_entry(&l->p[i], type, &pa, &nested) &&
			    (pa.has & EMNL_POLICY_HAS_NESTED))
				policy_add(l, &nested);
		}
	}
}

/* GETPOLICY's cursor (cb->args): the family's index, the op asked for (+
 * SINGLE_OP), the next op pair to write, and the next policy attribute
 * (policy index << 16 | attribute type) once the ops are out. */
#define ARG_FAMILY 0
#define ARG_OP 1
#define ARG_PAIR 2
#define ARG_ATTR 3
#define SINGLE_OP 0x100
#define OPS_DONE UINT64_MAX

/* @pair's do and dump policies, if it has them. */
static void pair_policies(const struct emd_genl_family *f, const struct emd_genl_op_pair *pair,
			  struct emnl_policy *doit, bool *has_do, struct emnl_policy *dumpit,
			  bool *has_dump)
{
	*has_do = pair->doit && emd_genl_op_policy(f, pair->doit, doit);
	*has_dump = pair->dumpit && emd_genl_op_policy(f, pair->dumpit, dumpit);
}

/* The policies of the dump @cb describes. */
static void collect(const struct emd_genl_family *f, const struct emd_genl_dump *cb,
		    struct policies *l)
{
	struct emd_genl_op_pair pair;
	size_t pos = 0;

	l->n = 0;
	while (emd_genl_op_pair_next(f, &pos, &pair)) {
		struct emnl_policy doit, dumpit;
		bool has_do, has_dump;

		if ((cb->args[ARG_OP] & SINGLE_OP) && pair.cmd != (cb->args[ARG_OP] & 0xff))
			continue;
		pair_policies(f, &pair, &doit, &has_do, &dumpit, &has_dump);
		if (has_do)
			policy_add_tree(l, &doit);
		if (has_dump)
			policy_add_tree(l, &dumpit);
	}
}

/* ctrl_dumppolicy_start(): the family (by id, else by name), the op if one
 * is named (-ENOENT with its offset when the family has no such command;
 * -ENODATA when nothing has a policy). */
static int getpolicy_start(void *priv, struct emd_genl_info *info, struct emd_genl_dump *cb)
{
	struct emd *d = priv;
	const struct nlattr *op = info->attrs[CTRL_ATTR_OP];
	const struct emd_genl_family *f;
	struct policies l;
	int err = 0;

	f = named_family(d, info, false, &err);
	if (!f)
		return err;
	cb->args[ARG_FAMILY] = emd_genl_family_index(d->genl, f);
	if (op) {
		struct emd_genl_op_pair pair;
		uint32_t cmd;
		size_t pos = 0;
		bool found = false;
		char msg[96];

		memcpy(&cmd, op + 1, sizeof(cmd));
		while (cmd < 256 && !found && emd_genl_op_pair_next(f, &pos, &pair))
			found = pair.cmd == cmd;
		if (!found) {
			snprintf(msg, sizeof(msg), "family '%.40s' has no command %u",
				 f->spec->name, cmd);
			return fail_at(info, op, -ENOENT, msg);
		}
		cb->args[ARG_OP] = SINGLE_OP | cmd;
	}
	collect(f, cb, &l);
	if (!l.n)
		return emnl_error_set(info->extack, -ENODATA, "no policy to report");
	return 0;
}

/* The header every GETPOLICY message starts with (ctrl_dumppolicy_prep()). */
static void policy_msg_begin(const struct emd_genl_dump *cb, struct emnl_writer *w,
			     uint16_t family_id)
{
	emnl_msg_begin_genl(w, GENL_ID_CTRL, NLM_F_MULTI, cb->seq, cb->portid, CTRL_CMD_GETPOLICY,
			    2 /* nlctrl's own version */);
	emnl_put_u16(w, CTRL_ATTR_FAMILY_ID, family_id);
}

/*
 * GETPOLICY dump (ctrl_dumppolicy()): first one message per op pair that has
 * a policy — CTRL_ATTR_OP_POLICY { (the do op's command, 0 without one) {
 * DO: index, DUMP: index } } — then one per attribute of each policy that
 * has an entry — CTRL_ATTR_POLICY { policy index { attribute type {
 * description } } }. As many as the packet takes; like the kernel's, it
 * says "more" whenever it wrote anything, so NLMSG_DONE comes alone.
 */
static int dump_policy(void *priv, struct emd_genl_dump *cb, struct emnl_writer *w)
{
	struct emd *d = priv;
	const struct emd_genl_family *f = emd_genl_family_at(d->genl, (size_t)cb->args[ARG_FAMILY]);
	size_t start = emnl_writer_len(w);
	struct policies l;

	if (!f)
		return 0;
	collect(f, cb, &l);
	while (cb->args[ARG_PAIR] != OPS_DONE) {
		struct emd_genl_op_pair pair;
		struct emnl_policy doit, dumpit;
		bool has_do, has_dump;
		size_t pos = (size_t)cb->args[ARG_PAIR], nest, op;

		if (!emd_genl_op_pair_next(f, &pos, &pair)) {
			cb->args[ARG_PAIR] = OPS_DONE;
			break;
		}
		pair_policies(f, &pair, &doit, &has_do, &dumpit, &has_dump);
		if (((cb->args[ARG_OP] & SINGLE_OP) && pair.cmd != (cb->args[ARG_OP] & 0xff)) ||
		    (!has_do && !has_dump)) {
			cb->args[ARG_PAIR] = pos;
			continue;
		}
		policy_msg_begin(cb, w, f->id);
		nest = emnl_nest_begin(w, CTRL_ATTR_OP_POLICY);
		/* The kernel names the pair by its do half's command: 0 without one. */
		op = emnl_nest_begin(w, pair.doit ? pair.cmd : 0);
		if (has_do)
			emnl_put_u32(w, CTRL_ATTR_POLICY_DO, (uint32_t)policy_add(&l, &doit));
		if (has_dump)
			emnl_put_u32(w, CTRL_ATTR_POLICY_DUMP, (uint32_t)policy_add(&l, &dumpit));
		emnl_nest_end(w, op);
		emnl_nest_end(w, nest);
		if (emnl_msg_end(w) < 0)
			return 1; /* it goes first in the next packet */
		cb->args[ARG_PAIR] = pos;
	}
	for (;;) {
		size_t idx = (size_t)(cb->args[ARG_ATTR] >> 16);
		uint16_t type = (uint16_t)cb->args[ARG_ATTR];
		struct emnl_policy_attr pa;
		struct emnl_policy nested;
		size_t nest, pnest;

		if (idx >= l.n)
			break;
		if (type > l.p[idx].maxtype) {
			cb->args[ARG_ATTR] = (uint64_t)(idx + 1) << 16;
			continue;
		}
		if (!emnl_policy_entry(&l.p[idx], type, &pa, &nested)) {
			cb->args[ARG_ATTR]++;
			continue; /* NLA_UNSPEC: nothing to say */
		}
		if (pa.has & EMNL_POLICY_HAS_NESTED)
			pa.policy_idx = (uint32_t)policy_add(&l, &nested);
		policy_msg_begin(cb, w, f->id);
		nest = emnl_nest_begin(w, CTRL_ATTR_POLICY);
		pnest = emnl_nest_begin(w, (uint16_t)idx);
		emnl_put_policy_attr(w, type, &pa);
		emnl_nest_end(w, pnest);
		emnl_nest_end(w, nest);
		if (emnl_msg_end(w) < 0)
			return 1; /* it goes first in the next packet */
		cb->args[ARG_ATTR]++;
	}
	return emnl_writer_len(w) > start; /* the kernel's "return skb->len" */
}

/* ---- the family ---------------------------------------------------------------------- */

/* What emd's controller serves: GETFAMILY's two halves and GETPOLICY's dump,
 * as the kernel's nlctrl (whose ops these are), and the transport's
 * commands, which are not nlctrl's and so not listed by GETFAMILY. */
static const struct emd_genl_op ctrl_ops[] = {
	{.cmd = CTRL_CMD_GETFAMILY, .flags = GENL_CMD_CAP_DO, .doit = getfamily,
	 .counter = EMD_OP_GETFAMILY},
	{.cmd = CTRL_CMD_GETFAMILY, .flags = GENL_CMD_CAP_DUMP, .dumpit = dump_families,
	 .counter = EMD_OP_GETFAMILY},
	{.cmd = CTRL_CMD_GETPOLICY, .flags = GENL_CMD_CAP_DUMP, .start = getpolicy_start,
	 .dumpit = dump_policy, .counter = EMD_OP_GETFAMILY},
	{.cmd = EMNL_SEQPACKET_CMD_JOIN, .flags = GENL_CMD_CAP_DO | EMD_GENL_UNLISTED,
	 .doit = join_leave, .counter = EMD_OP_JOIN},
	{.cmd = EMNL_SEQPACKET_CMD_LEAVE, .flags = GENL_CMD_CAP_DO | EMD_GENL_UNLISTED,
	 .doit = join_leave, .counter = EMD_OP_JOIN},
	{.cmd = EMNL_SEQPACKET_CMD_RECV_LEN, .flags = GENL_CMD_CAP_DO | EMD_GENL_UNLISTED,
	 .doit = recv_len, .counter = EMD_OP_MAX},
};

/* nlctrl's one group: 'notify', id GENL_ID_CTRL (genl_validate_assign_mc_groups()
 * gives the controller's group its family's id). emd registers no family at
 * run time, so it never sends to it. */
static const struct emnl_ctrl_group ctrl_groups[] = {
	{"notify", GENL_ID_CTRL},
};

static struct emd_genl_family ctrl_family = {
	.id = EMD_CTRL_ID,
	.last_wins = true, /* as the kernel's nla_parse(): the last of two names counts */
	/* genl_ctrl.resv_start_op: GETFAMILY and GETPOLICY may carry a
	 * non-zero reserved field (older iproute2 set it). */
	.resv_start_op = CTRL_CMD_GETPOLICY + 1,
	.ops = ctrl_ops,
	.n_ops = sizeof(ctrl_ops) / sizeof(ctrl_ops[0]),
	.groups = ctrl_groups,
	.n_groups = sizeof(ctrl_groups) / sizeof(ctrl_groups[0]),
};

/* emd_ctrl_register - serve nlctrl (first: GETFAMILY's dump lists it first). */
int emd_ctrl_register(struct emd *d)
{
	return emd_genl_register(d->genl, &ctrl_family, d->ctrl_spec, d);
}
