/*
 * Server-side helpers: what a user-space peer of the client needs beyond the
 * codec, validator and extended acks. A seqpacket server (emd) stands in for
 * the kernel's controller for its own family, so it must answer
 * CTRL_CMD_GETFAMILY the way nlctrl does; this file writes that answer from
 * the spec, attribute by attribute in nlctrl's order and form (its nests
 * carry no NLA_F_NESTED), so a client cannot tell the two apart. A test
 * checks the bytes against the running kernel's answer for nlctrl itself.
 */
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "nl_internal.h"

/* Capability flags of one operation, as ctrl_fill_info() computes them. */
static uint32_t op_flags(const struct emnl_op *op)
{
	uint32_t f = 0;

	if (op->has_do)
		f |= GENL_CMD_CAP_DO;
	if (op->has_dump)
		f |= GENL_CMD_CAP_DUMP;
	/* A request with attributes has a policy, in either direction. */
	if ((op->has_do && op->do_req.present) || (op->has_dump && op->dump_req.present))
		f |= GENL_CMD_CAP_HASPOL;
	if (op->admin_perm)
		f |= GENL_ADMIN_PERM;
	if (op->uns_admin_perm)
		f |= GENL_UNS_ADMIN_PERM;
	return f;
}

/* Start a nest the nlctrl way: no NLA_F_NESTED. */
static struct nlattr *nest_noflag(struct nlmsghdr *nlh, size_t size, uint16_t type)
{
	struct nlattr *n = mnl_attr_nest_start_check(nlh, size, type);

	if (n)
		n->nla_type &= (uint16_t)~NLA_F_NESTED;
	return n;
}

/* emnl_ctrl_put_family - nlctrl's CTRL_CMD_NEWFAMILY for @spec. */
int emnl_ctrl_put_family(void *buf, size_t size, const struct nlmsghdr *req,
			 const struct emnl_spec *spec, uint16_t family_id,
			 const uint32_t *group_ids)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct nlattr *arr, *one;
	uint16_t idx = 0;
	bool ok;

	if (size < MNL_NLMSG_HDRLEN + sizeof(*g))
		return -EMSGSIZE;
	/* libmnl (1.0.4) leaves alignment padding as it finds it: start from
	 * zeros so the bytes are the kernel's, padding included. */
	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = req->nlmsg_pid;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_NEWFAMILY;
	g->version = 2; /* nlctrl's own version */
	ok = mnl_attr_put_strz_check(nlh, size, CTRL_ATTR_FAMILY_NAME, spec->name) &&
	     mnl_attr_put_u16_check(nlh, size, CTRL_ATTR_FAMILY_ID, family_id) &&
	     mnl_attr_put_u32_check(nlh, size, CTRL_ATTR_VERSION, spec->version) &&
	     mnl_attr_put_u32_check(nlh, size, CTRL_ATTR_HDRSIZE, 0) &&
	     mnl_attr_put_u32_check(nlh, size, CTRL_ATTR_MAXATTR, 0);
	if (!ok)
		return -EMSGSIZE;

	/* Operations in command order, each numbered from 1 in the array. */
	arr = nest_noflag(nlh, size, CTRL_ATTR_OPS);
	if (!arr)
		return -EMSGSIZE;
	for (unsigned cmd = 0; cmd < 256; cmd++) {
		for (size_t i = 0; i < spec->n_ops; i++) {
			const struct emnl_op *op = &spec->ops[i];
			uint8_t c = op->has_do ? op->do_req.cmd : op->dump_req.cmd;

			if ((!op->has_do && !op->has_dump) || c != cmd)
				continue;
			one = nest_noflag(nlh, size, ++idx);
			if (!one || !mnl_attr_put_u32_check(nlh, size, CTRL_ATTR_OP_ID, c) ||
			    !mnl_attr_put_u32_check(nlh, size, CTRL_ATTR_OP_FLAGS, op_flags(op)))
				return -EMSGSIZE;
			mnl_attr_nest_end(nlh, one);
		}
	}
	if (idx)
		mnl_attr_nest_end(nlh, arr);
	else
		mnl_attr_nest_cancel(nlh, arr); /* nlctrl omits an empty list */

	if (spec->n_mcgrps) {
		arr = nest_noflag(nlh, size, CTRL_ATTR_MCAST_GROUPS);
		if (!arr)
			return -EMSGSIZE;
		for (size_t i = 0; i < spec->n_mcgrps; i++) {
			one = nest_noflag(nlh, size, (uint16_t)(i + 1));
			/* nlctrl puts the id before the name. */
			if (!one ||
			    !mnl_attr_put_u32_check(nlh, size, CTRL_ATTR_MCAST_GRP_ID, group_ids[i]) ||
			    !mnl_attr_put_strz_check(nlh, size, CTRL_ATTR_MCAST_GRP_NAME, spec->mcgrps[i]))
				return -EMSGSIZE;
			mnl_attr_nest_end(nlh, one);
		}
		mnl_attr_nest_end(nlh, arr);
	}
	return (int)nlh->nlmsg_len;
}
