/*
 * nlctrl's answer for a served family. A user-space server (emd) stands in
 * for the kernel's controller for its own families, so it must answer
 * CTRL_CMD_GETFAMILY the way nlctrl does; this file writes that answer,
 * attribute by attribute in ctrl_fill_info()'s order and form (its nests
 * carry no NLA_F_NESTED), through the writer, from a description of the
 * family (struct emnl_ctrl_family) — emd derives one from its ops table —
 * or from a spec. A test checks the bytes against the running kernel's
 * answer for nlctrl itself.
 */
#include <errno.h>

#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "nl_internal.h"
#include "writer_impl.h"

/* emnl_put_ctrl_family - CTRL_CMD_NEWFAMILY for @f. */
int emnl_put_ctrl_family(struct emnl_writer *w, const struct emnl_ctrl_family *f, uint16_t flags,
			 uint32_t seq, uint32_t portid)
{
	size_t arr, one;

	wr_msg_begin_genl(w, GENL_ID_CTRL, flags, seq, portid, CTRL_CMD_NEWFAMILY,
			  2 /* nlctrl's own version */);
	wr_put(w, CTRL_ATTR_FAMILY_NAME, f->name, strlen(f->name) + 1);
	wr_put(w, CTRL_ATTR_FAMILY_ID, &f->id, sizeof(f->id));
	wr_put(w, CTRL_ATTR_VERSION, &f->version, sizeof(f->version));
	wr_put(w, CTRL_ATTR_HDRSIZE, &f->hdrsize, sizeof(f->hdrsize));
	wr_put(w, CTRL_ATTR_MAXATTR, &f->maxattr, sizeof(f->maxattr));
	if (f->n_ops) {
		arr = wr_nest_begin(w, CTRL_ATTR_OPS);
		for (size_t i = 0; i < f->n_ops; i++) {
			one = wr_nest_begin(w, (uint16_t)(i + 1));
			wr_put(w, CTRL_ATTR_OP_ID, &f->ops[i].cmd, sizeof(uint32_t));
			wr_put(w, CTRL_ATTR_OP_FLAGS, &f->ops[i].flags, sizeof(uint32_t));
			wr_nest_end(w, one);
		}
		wr_nest_end(w, arr);
	}
	if (f->n_groups) {
		arr = wr_nest_begin(w, CTRL_ATTR_MCAST_GROUPS);
		for (size_t i = 0; i < f->n_groups; i++) {
			one = wr_nest_begin(w, (uint16_t)(i + 1));
			wr_put(w, CTRL_ATTR_MCAST_GRP_ID, &f->groups[i].id, sizeof(uint32_t));
			wr_put(w, CTRL_ATTR_MCAST_GRP_NAME, f->groups[i].name,
			       strlen(f->groups[i].name) + 1);
			wr_nest_end(w, one);
		}
		wr_nest_end(w, arr);
	}
	return wr_msg_end(w);
}

/* Capability flags of one operation, as ctrl_fill_info() computes them. */
static uint32_t op_flags(const struct emnl_op *op)
{
	uint32_t f = 0;
	struct emnl_policy p;

	if (op->has_do)
		f |= GENL_CMD_CAP_DO;
	if (op->has_dump)
		f |= GENL_CMD_CAP_DUMP;
	/* A request that names attributes has a policy (ctrl_fill_info():
	 * either half's policy sets the flag). */
	if (emnl_request_policy(op, false, &p) || emnl_request_policy(op, true, &p))
		f |= GENL_CMD_CAP_HASPOL;
	if (op->admin_perm)
		f |= GENL_ADMIN_PERM;
	if (op->uns_admin_perm)
		f |= GENL_UNS_ADMIN_PERM;
	return f;
}

/* Most operations and groups a spec-described family can list. */
#define CTRL_MAX_OPS 256
#define CTRL_MAX_GROUPS 64

/* emnl_ctrl_put_family - nlctrl's CTRL_CMD_NEWFAMILY for @spec. */
int emnl_ctrl_put_family(void *buf, size_t size, const struct nlmsghdr *req,
			 const struct emnl_spec *spec, uint16_t family_id,
			 const uint32_t *group_ids)
{
	struct emnl_ctrl_op ops[CTRL_MAX_OPS];
	struct emnl_ctrl_group groups[CTRL_MAX_GROUPS];
	struct emnl_ctrl_family f = {
		.name = spec->name, .id = family_id, .version = spec->version,
		.ops = ops, .groups = groups,
	};
	struct emnl_writer w;
	int n;

	/* Operations in command order (a spec lists at most one per number). */
	for (unsigned cmd = 0; cmd < 256; cmd++) {
		for (size_t i = 0; i < spec->n_ops && f.n_ops < CTRL_MAX_OPS; i++) {
			const struct emnl_op *op = &spec->ops[i];
			uint8_t c = op->has_do ? op->do_req.cmd : op->dump_req.cmd;

			if ((op->has_do || op->has_dump) && c == cmd)
				ops[f.n_ops++] = (struct emnl_ctrl_op){c, op_flags(op)};
		}
	}
	for (size_t i = 0; i < spec->n_mcgrps && i < CTRL_MAX_GROUPS; i++)
		groups[f.n_groups++] = (struct emnl_ctrl_group){spec->mcgrps[i], group_ids[i]};
	wr_init(&w, buf, size, NULL, EMNL_PAD_NEVER);
	n = emnl_put_ctrl_family(&w, &f, 0, req->nlmsg_seq, req->nlmsg_pid);
	return n < 0 ? -EMSGSIZE : n;
}
