/*
 * The part of the generic netlink controller (nlctrl) that a client of emd
 * needs: CTRL_CMD_GETFAMILY, by name or by id (do) and for every family
 * (dump), answered with the attributes and in the order the kernel's
 * controller writes them, so that a client resolves emd's family exactly as
 * it resolves a kernel family. What it says about a family — its operations
 * with their do/dump/has-policy flags, its groups — comes from the core's
 * tables (emd_genl_put_family), the same ones requests are dispatched by.
 * Over a UNIX socket there is no setsockopt(NETLINK_ADD_MEMBERSHIP), so
 * joining and leaving a group are two controller commands of emd's own
 * (see docs/emd.md, "Joining the event group"), outside nlctrl's spec.
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

/*
 * JOIN / LEAVE: exactly one attribute, EMNL_SEQPACKET_ATTR_GROUP (u32), naming
 * the group; anything else is refused as strictly as a spec'd request.
 */
static int join_leave(void *priv, struct emd_genl_info *info, struct emnl_writer *w)
{
	struct emd *d = priv;
	const struct nlmsghdr *nlh = info->nlh;
	const struct nlattr *a, *group = NULL;
	uint32_t gid;
	int left = (int)(nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);

	(void)w;
	if (info->genlhdr->reserved)
		return fail_at(info, NULL, -EINVAL,
			       "reserved field of the genetlink header is not 0");
	a = (const struct nlattr *)((const uint8_t *)info->genlhdr + GENL_HDRLEN);
	for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && (int)a->nla_len <= left;
	     a = (const struct nlattr *)((const uint8_t *)a + NLA_ALIGN(a->nla_len))) {
		left -= (int)NLA_ALIGN(a->nla_len);
		if ((a->nla_type & NLA_TYPE_MASK) != EMNL_SEQPACKET_ATTR_GROUP)
			return fail_at(info, a, -EINVAL, "unknown attribute type");
		if (a->nla_len - NLA_HDRLEN != sizeof(uint32_t))
			return fail_at(info, a, -EINVAL, "group id must be a u32");
		if (group)
			return fail_at(info, a, -EINVAL, "group given twice");
		group = a;
	}
	if (left > 0)
		return fail_at(info, a, -EINVAL, "trailing bytes after the attributes");
	if (!group) {
		emnl_error_set(info->extack, -EINVAL, "missing the group id");
		info->extack->has_miss_type = true;
		info->extack->miss_type = EMNL_SEQPACKET_ATTR_GROUP;
		return -EINVAL;
	}
	memcpy(&gid, group + 1, sizeof(gid));
	if (emd_genl_join(d->genl, info, gid, info->genlhdr->cmd == EMD_CMD_JOIN))
		return fail_at(info, group, -ENOENT, "no multicast group with that id");
	return 0;
}

/* The family a GETFAMILY do asks for, by id (preferred, as the kernel) or name. */
static int getfamily(void *priv, struct emd_genl_info *info, struct emnl_writer *w)
{
	struct emd *d = priv;
	const struct nlattr *by_id = info->attrs[CTRL_ATTR_FAMILY_ID];
	const struct nlattr *by_name = info->attrs[CTRL_ATTR_FAMILY_NAME];
	const struct emd_genl_family *f;
	uint16_t id = 0;

	if (!by_id && !by_name) {
		emnl_error_set(info->extack, -EINVAL, "give the family's name or id");
		info->extack->has_miss_type = true;
		info->extack->miss_type = CTRL_ATTR_FAMILY_NAME;
		return -EINVAL;
	}
	if (by_id) {
		memcpy(&id, by_id + 1, sizeof(id));
		f = emd_genl_family_by_id(d->genl, id);
	} else {
		f = emd_genl_family_by_name(d->genl, (const char *)(by_name + 1));
	}
	if (!f) {
		char msg[96];

		if (by_id)
			snprintf(msg, sizeof(msg), "no family with id %u", id);
		else
			snprintf(msg, sizeof(msg), "no family named '%.60s'",
				 (const char *)(by_name + 1));
		return fail_at(info, by_id ? by_id : by_name, -ENOENT, msg);
	}
	if (emd_genl_put_family(w, f, 0, info->nlh->nlmsg_seq, info->portid) < 0)
		return emnl_error_set(info->extack, -EMSGSIZE, "reply does not fit in %u bytes",
				      EMNL_DGRAM_MAX);
	return 0;
}

/* GETFAMILY dump: every family the core serves, in registration order from
 * the cursor (cb->args[0], the next family's index). */
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

/* What emd's controller serves: GETFAMILY's two halves, and the transport's
 * JOIN/LEAVE, which are not nlctrl's and so not listed by GETFAMILY. */
static const struct emd_genl_op ctrl_ops[] = {
	{.cmd = CTRL_CMD_GETFAMILY, .flags = GENL_CMD_CAP_DO, .doit = getfamily,
	 .counter = EMD_OP_GETFAMILY},
	{.cmd = CTRL_CMD_GETFAMILY, .flags = GENL_CMD_CAP_DUMP, .dumpit = dump_families,
	 .counter = EMD_OP_GETFAMILY},
	{.cmd = EMD_CMD_JOIN, .flags = GENL_CMD_CAP_DO | EMD_GENL_UNLISTED, .doit = join_leave,
	 .counter = EMD_OP_JOIN},
	{.cmd = EMD_CMD_LEAVE, .flags = GENL_CMD_CAP_DO | EMD_GENL_UNLISTED, .doit = join_leave,
	 .counter = EMD_OP_JOIN},
};

static struct emd_genl_family ctrl_family = {
	.id = EMD_CTRL_ID,
	.last_wins = true, /* as the kernel's nla_parse(): the last of two names counts */
	.ops = ctrl_ops,
	.n_ops = sizeof(ctrl_ops) / sizeof(ctrl_ops[0]),
};

/* emd_ctrl_register - serve nlctrl (first: GETFAMILY's dump lists it first). */
int emd_ctrl_register(struct emd *d)
{
	return emd_genl_register(d->genl, &ctrl_family, d->ctrl_spec, d);
}
