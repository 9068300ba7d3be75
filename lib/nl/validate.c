/*
 * Validation of generic netlink messages against a YNL spec.
 *
 * A request is checked as the kernel checks it (see include/emkit/nl.h,
 * "Validation"): the genetlink core's header checks (genetlink.c
 * genl_family_rcv_msg(): length, the reserved field, the operation), then,
 * when the operation has a policy, the kernel's parser (lib/nlattr.c
 * __nla_validate_parse() and validate_nla()) against the table YNL would
 * generate from the spec (policy.c), strict unless the operation says
 * dont-validate, with the kernel's extended-ack messages, offsets and policy
 * nests. The attribute table it fills is the kernel's info->attrs[].
 *
 * A reply has no kernel policy: it is checked strictly against the spec's
 * reply list (unknown or unlisted attribute, type 0, wrong length, enum
 * value or flag bit the spec does not define, a string without its NUL,
 * NLA_F_NESTED on a non-nest, nesting as deep as EMNL_MAX_NEST_DEPTH,
 * trailing bytes), with emkit's own descriptive messages.
 *
 * Offsets count from the start of the message, ready for emnl_put_extack().
 */
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "nl_internal.h"

/* Validation walk state. */
struct vctx {
	const uint8_t *base; /* start of the message: offsets count from here */
	struct emnl_error *e;
	const struct nlattr **tb; /* the top level's attributes by type, or NULL */
	size_t n_tb;
	bool last_wins;           /* of repeated ones, the table keeps the last */
	bool strict;              /* requests: NL_VALIDATE_STRICT, else liberal */
};

static int check_list(struct vctx *c, const uint8_t *p, size_t len,
		      const struct emnl_attr_set *set, const struct emnl_attr *array_of,
		      const struct emnl_msg_spec *allowed, unsigned depth);

/* An error at the attribute that starts at @p. */
static int bad_at(struct vctx *c, const void *p, int err, const char *msg)
{
	emnl_error_set(c->e, err, "%s", msg);
	if (c->e) {
		c->e->has_offset = true;
		c->e->offset = (uint32_t)((const uint8_t *)p - c->base);
	}
	return err;
}

/* Is @at among the attributes @m lists? */
static bool listed(const struct emnl_msg_spec *m, const struct emnl_attr *at)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->attrs[i] == at)
			return true;
	return false;
}

/* Check an enum value or a flag mask against the attribute's definition. */
static int check_enum(struct vctx *c, const struct nlattr *na, const struct emnl_attr *at,
		      uint64_t v)
{
	const struct emnl_def *d = at->def;
	char msg[120];

	if (!d || (d->kind != EMNL_DEF_ENUM && d->kind != EMNL_DEF_FLAGS))
		return 0;
	if (emnl_attr_is_flags(at)) {
		uint64_t mask = 0;

		for (size_t i = 0; i < d->n; i++)
			mask |= d->kind == EMNL_DEF_FLAGS ? d->values[i] : 1ULL << d->values[i];
		if (v & ~mask) {
			snprintf(msg, sizeof(msg), "'%s' has flag bits 0x%llx that '%s' does not define",
				 at->name, (unsigned long long)(v & ~mask), d->name);
			return bad_at(c, na, -EINVAL, msg);
		}
		return 0;
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->values[i] == v)
			return 0;
	snprintf(msg, sizeof(msg), "'%s' value %llu is not in enum '%s'", at->name,
		 (unsigned long long)v, d->name);
	return bad_at(c, na, -EINVAL, msg);
}

/* Read an integer payload of width @w (1,2,4,8) for range checks. */
static uint64_t read_uint(const void *p, unsigned w)
{
	uint8_t b8;
	uint16_t b16;
	uint32_t b32;
	uint64_t b64;

	switch (w) {
	case 1: memcpy(&b8, p, 1); return b8;
	case 2: memcpy(&b16, p, 2); return b16;
	case 4: memcpy(&b32, p, 4); return b32;
	default: memcpy(&b64, p, 8); return b64;
	}
}

/* Check one attribute's payload against its kind. */
static int check_payload(struct vctx *c, const struct nlattr *na, const struct emnl_attr *at,
			 enum emnl_type kind, unsigned depth)
{
	const uint8_t *p = (const uint8_t *)na + MNL_ATTR_HDRLEN;
	size_t len = na->nla_len - MNL_ATTR_HDRLEN;
	const char *name = at ? at->name : "element";
	unsigned w = emnl_kind_width(kind);
	bool nested = kind == EMNL_T_NEST || kind == EMNL_T_INDEXED_ARRAY ||
		      kind == EMNL_T_NEST_TYPE_VALUE;
	char msg[120];

	if ((na->nla_type & NLA_F_NESTED) && !nested) {
		snprintf(msg, sizeof(msg), "NLA_F_NESTED set on '%s', which is not a nest", name);
		return bad_at(c, na, -EINVAL, msg);
	}
	switch (kind) {
	case EMNL_T_PAD:
	case EMNL_T_FLAG:
		if (len) {
			snprintf(msg, sizeof(msg), "'%s' must have no payload, has %zu bytes", name, len);
			return bad_at(c, na, -EINVAL, msg);
		}
		return 0;
	case EMNL_T_STRING:
		if (!len || p[len - 1] != '\0') {
			snprintf(msg, sizeof(msg), "string '%s' is not NUL-terminated", name);
			return bad_at(c, na, -EINVAL, msg);
		}
		return 0;
	case EMNL_T_BINARY:
	case EMNL_T_UNUSED:
		return 0;
	case EMNL_T_BITFIELD32: {
		uint32_t bf[2];

		if (len != sizeof(bf)) {
			snprintf(msg, sizeof(msg), "'%s' (bitfield32) has length %zu, expected 8",
				 name, len);
			return bad_at(c, na, -EINVAL, msg);
		}
		memcpy(bf, p, sizeof(bf));
		/* As the kernel: every value bit must be selected. */
		if (bf[0] & ~bf[1]) {
			snprintf(msg, sizeof(msg), "'%s' has value bits 0x%x outside its selector",
				 name, bf[0] & ~bf[1]);
			return bad_at(c, na, -EINVAL, msg);
		}
		return 0;
	}
	case EMNL_T_UINT:
	case EMNL_T_SINT:
		if (len != 4 && len != 8) {
			snprintf(msg, sizeof(msg), "'%s' has length %zu, expected 4 or 8", name, len);
			return bad_at(c, na, -EINVAL, msg);
		}
		return at && kind == EMNL_T_UINT ? check_enum(c, na, at, read_uint(p, (unsigned)len)) : 0;
	case EMNL_T_NEST:
		return check_list(c, p, len, at ? at->nested : NULL, NULL, NULL, depth + 1);
	case EMNL_T_INDEXED_ARRAY:
		return check_list(c, p, len, NULL, at, NULL, depth + 1);
	case EMNL_T_NEST_TYPE_VALUE:
		for (size_t lvl = 0; at && lvl < at->n_type_value; lvl++) {
			const struct nlattr *in = (const struct nlattr *)p;

			if (len < MNL_ATTR_HDRLEN || in->nla_len < MNL_ATTR_HDRLEN ||
			    in->nla_len > len) {
				snprintf(msg, sizeof(msg), "level %zu of '%s' is malformed", lvl, name);
				return bad_at(c, na, -EINVAL, msg);
			}
			if ((size_t)MNL_ALIGN(in->nla_len) < len) {
				snprintf(msg, sizeof(msg), "level %zu of '%s' holds more than one entry",
					 lvl, name);
				return bad_at(c, in, -EINVAL, msg);
			}
			if (depth + 1 + lvl >= EMNL_MAX_NEST_DEPTH)
				return bad_at(c, in, -EINVAL, "nesting too deep");
			len = in->nla_len - MNL_ATTR_HDRLEN;
			p += MNL_ATTR_HDRLEN;
		}
		return check_list(c, p, len, at ? at->nested : NULL, NULL, NULL,
				  depth + 1 + (at ? (unsigned)at->n_type_value : 0));
	default:
		if (len != w) {
			snprintf(msg, sizeof(msg), "'%s' (%s) has length %zu, expected %u", name,
				 emnl_type_name(kind), len, w);
			return bad_at(c, na, -EINVAL, msg);
		}
		if (at && !emnl_kind_signed(kind) && !at->byte_order_be)
			return check_enum(c, na, at, read_uint(p, w));
		return 0;
	}
}

/* Check a run of attributes. @allowed limits the top level to an
 * operation's list. */
static int check_list(struct vctx *c, const uint8_t *p, size_t len,
		      const struct emnl_attr_set *set, const struct emnl_attr *array_of,
		      const struct emnl_msg_spec *allowed, unsigned depth)
{
	size_t off = 0;
	char msg[120];

	/* As the kernel: the top level is depth 0, a nest's payload one deeper. */
	if (depth >= EMNL_MAX_NEST_DEPTH)
		return bad_at(c, p - MNL_ATTR_HDRLEN, -EINVAL, "nesting too deep");
	while (off < len) {
		const struct nlattr *na = (const struct nlattr *)(p + off);
		const struct emnl_attr *at = NULL;
		enum emnl_type kind;
		uint16_t type;
		int err;

		if (len - off < MNL_ATTR_HDRLEN) {
			snprintf(msg, sizeof(msg), "%zu trailing bytes after the attributes", len - off);
			return bad_at(c, na, -EINVAL, msg);
		}
		if (na->nla_len < MNL_ATTR_HDRLEN || na->nla_len > len - off) {
			snprintf(msg, sizeof(msg), "attribute length %u out of bounds", na->nla_len);
			return bad_at(c, na, -EINVAL, msg);
		}
		type = na->nla_type & NLA_TYPE_MASK;
		if (array_of) {
			kind = array_of->sub_kind;
			at = array_of;
		} else {
			if (type == 0)
				return bad_at(c, na, -EINVAL, "attribute type 0 is not allowed");
			at = set ? emnl_set_attr_by_type(set, type) : NULL;
			if (!at || at->kind == EMNL_T_UNUSED) {
				snprintf(msg, sizeof(msg), "unknown attribute type %u", type);
				return bad_at(c, na, -EINVAL, msg);
			}
			if (allowed && !listed(allowed, at) && at->kind != EMNL_T_PAD) {
				snprintf(msg, sizeof(msg), "attribute '%s' is not expected here", at->name);
				return bad_at(c, na, -EINVAL, msg);
			}
			kind = at->kind;
		}
		if (array_of && kind == EMNL_T_NEST)
			err = check_list(c, (const uint8_t *)na + MNL_ATTR_HDRLEN,
					 na->nla_len - MNL_ATTR_HDRLEN, array_of->nested, NULL, NULL,
					 depth + 1);
		else
			err = check_payload(c, na, array_of ? NULL : at, kind, depth);
		if (err)
			return err;
		/* The table keeps the first of repeated attributes, or the last
		 * as the kernel's nla_parse() does. */
		if (depth == 0 && type < c->n_tb && (c->last_wins || !c->tb[type]))
			c->tb[type] = na;
		/* The last attribute may omit its alignment padding. */
		off += (size_t)MNL_ALIGN(na->nla_len) < len - off ? (size_t)MNL_ALIGN(na->nla_len) : len - off;
	}
	return 0;
}

/* ---- requests: the kernel's parser ------------------------------------------ */

/* A policy violation at attribute @na: the kernel's NL_SET_ERR_MSG_ATTR_POL
 * (with @kp: the attribute's policy goes in the ack) or NL_SET_ERR_MSG_ATTR. */
static int kfail(struct vctx *c, const struct nlattr *na, int err, const char *msg,
		 const struct emnl_kpolicy *kp)
{
	bad_at(c, na, err, msg);
	if (c->e && kp && emnl_kpolicy_describe(kp, &c->e->policy)) {
		/* No policy index in an ack: netlink_policy_dump_write_attr()
		 * writes without a dump's state. */
		c->e->policy.has &= ~(unsigned int)EMNL_POLICY_HAS_NESTED;
		c->e->has_policy = true;
	}
	return err;
}

/* validate_nla()'s out_err: "Attribute failed policy validation". */
static int kfail_pol(struct vctx *c, const struct nlattr *na, int err,
		     const struct emnl_kpolicy *kp)
{
	return kfail(c, na, err, "Attribute failed policy validation", kp);
}

/* Exact payload width of a fixed-size integer (nla_attr_len[]), else 0. */
static unsigned int kp_width(enum emnl_kp_type t)
{
	switch (t) {
	case EMNL_KP_U8: case EMNL_KP_S8: return 1;
	case EMNL_KP_U16: case EMNL_KP_S16: return 2;
	case EMNL_KP_U32: case EMNL_KP_S32: return 4;
	case EMNL_KP_U64: case EMNL_KP_S64: return 8;
	default: return 0;
	}
}

static int kparse(struct vctx *c, const uint8_t *p, size_t len, const struct emnl_policy *pol,
		  unsigned depth, bool top);

/* nla_validate_array(): each element a nest of the array's table. */
static int kvalidate_array(struct vctx *c, const uint8_t *p, size_t len,
			   const struct emnl_kpolicy *kp, unsigned depth)
{
	long rem = (long)len;

	for (const struct nlattr *na = (const void *)p;
	     rem >= NLA_HDRLEN && na->nla_len >= NLA_HDRLEN && na->nla_len <= rem;
	     rem -= NLA_ALIGN(na->nla_len), na = (const void *)((const uint8_t *)na + NLA_ALIGN(na->nla_len))) {
		size_t elen = na->nla_len - NLA_HDRLEN;
		int err;

		if (!elen)
			continue;
		if (elen < NLA_HDRLEN)
			/* The kernel names the array's table (its entry 0, which a
			 * dump cannot describe): no policy in the ack. */
			return kfail(c, na, -ERANGE, "Array element too short", NULL);
		err = kparse(c, (const uint8_t *)na + NLA_HDRLEN, elen, &kp->nested, depth + 1,
			     false);
		if (err)
			return err;
	}
	return 0;
}

/* The integer value of @na under @kp (the kernel's nla_get_*() of its type). */
static uint64_t kvalue(const struct nlattr *na, const struct emnl_kpolicy *kp)
{
	const uint8_t *p = (const uint8_t *)na + NLA_HDRLEN;
	unsigned int w = kp_width(kp->type);
	uint64_t v = 0;

	if (!w)
		w = na->nla_len - NLA_HDRLEN == 8 ? 8 : 4; /* uint, sint */
	v = read_uint(p, w);
	if (emnl_kpolicy_signed(kp->type) && w < 8) /* sign-extend */
		v = (uint64_t)((int64_t)(v << (64 - 8 * w)) >> (64 - 8 * w));
	return v;
}

/* The further validation of an integer (nla_validate_int_range(),
 * nla_validate_mask(), a sparse enum's generated function). */
static int kcheck_int(struct vctx *c, const struct nlattr *na, const struct emnl_kpolicy *kp)
{
	uint64_t v;

	/* A big-endian attribute's limits are not checked here (the kernel
	 * compares them after the byte swap; no family emkit serves has one). */
	if (kp->attr && kp->attr->byte_order_be)
		return 0;
	v = kvalue(na, kp);
	switch (kp->check) {
	case EMNL_KPC_MASK:
		if (v & ~kp->mask)
			return kfail(c, na, -EINVAL, "reserved bit set", NULL);
		return 0;
	case EMNL_KPC_ENUM:
		for (size_t i = 0; i < kp->attr->def->n; i++)
			if (kp->attr->def->values[i] == v)
				return 0;
		return kfail(c, na, -EINVAL, "invalid enum value", NULL);
	case EMNL_KPC_RANGE:
	case EMNL_KPC_MIN:
	case EMNL_KPC_MAX: {
		int64_t smin, smax;
		uint64_t umin, umax;
		bool bad;

		emnl_kpolicy_range(kp, &smin, &smax, &umin, &umax);
		bad = emnl_kpolicy_signed(kp->type) ? (int64_t)v < smin || (int64_t)v > smax
						    : v < umin || v > umax;
		return bad ? kfail(c, na, -ERANGE, "integer out of range", kp) : 0;
	}
	default:
		return 0;
	}
}

/* validate_nla(): one attribute of a parsed level against its entry. */
static int kvalidate_nla(struct vctx *c, const struct nlattr *na, const struct emnl_kpolicy *kp,
			 unsigned depth)
{
	size_t attrlen = na->nla_len - NLA_HDRLEN;
	const uint8_t *data = (const uint8_t *)na + NLA_HDRLEN;
	unsigned int w = kp_width(kp->type);
	bool nest = kp->type == EMNL_KP_NESTED || kp->type == EMNL_KP_NESTED_ARRAY;

	if (w && attrlen != w && c->strict)
		return kfail(c, na, -EINVAL, "invalid attribute length", kp);
	if (c->strict) {
		if (nest && !(na->nla_type & NLA_F_NESTED))
			return kfail(c, na, -EINVAL, "NLA_F_NESTED is missing", kp);
		if (!nest && kp->type != EMNL_KP_UNSPEC && (na->nla_type & NLA_F_NESTED))
			return kfail(c, na, -EINVAL, "NLA_F_NESTED not expected", kp);
	}
	switch (kp->type) {
	case EMNL_KP_UNSPEC:
		if (c->strict)
			return kfail(c, na, -EINVAL, "Unsupported attribute", NULL);
		return 0;
	case EMNL_KP_FLAG:
		return attrlen ? kfail_pol(c, na, -ERANGE, kp) : 0;
	case EMNL_KP_UINT:
	case EMNL_KP_SINT:
		if (attrlen != 4 && attrlen != 8)
			return kfail(c, na, -EINVAL, "invalid attribute length", kp);
		break;
	case EMNL_KP_BITFIELD32: {
		uint32_t bf[2]; /* value, selector */

		if (attrlen != sizeof(bf))
			return kfail_pol(c, na, -ERANGE, kp);
		memcpy(bf, data, sizeof(bf));
		if (!kp->mask || (bf[1] & ~kp->mask) || (bf[0] & ~kp->mask) || (bf[0] & ~bf[1]))
			return kfail_pol(c, na, -EINVAL, kp);
		return 0;
	}
	case EMNL_KP_NUL_STRING: {
		size_t minlen = kp->len && attrlen > kp->len + 1 ? kp->len + 1 : attrlen;

		if (!minlen || !memchr(data, '\0', minlen))
			return kfail_pol(c, na, -EINVAL, kp);
		if (kp->len) {
			size_t n = data[attrlen - 1] == '\0' ? attrlen - 1 : attrlen;

			if (n > kp->len)
				return kfail_pol(c, na, -ERANGE, kp);
		}
		return 0;
	}
	case EMNL_KP_BINARY:
		return kp->len && attrlen > kp->len ? kfail_pol(c, na, -ERANGE, kp) : 0;
	case EMNL_KP_NESTED:
	case EMNL_KP_NESTED_ARRAY:
		if (!attrlen)
			return 0;
		if (attrlen < NLA_HDRLEN)
			return kfail_pol(c, na, -ERANGE, kp);
		if (!kp->has_nested)
			return 0;
		if (kp->type == EMNL_KP_NESTED)
			return kparse(c, data, attrlen, &kp->nested, depth + 1, false);
		return kvalidate_array(c, data, attrlen, kp, depth);
	default:
		if (attrlen < w)
			return kfail_pol(c, na, -ERANGE, kp); /* liberal: too short */
		break;
	}
	return kcheck_int(c, na, kp);
}

/* __nla_validate_parse(): one level of attributes against table @pol. */
static int kparse(struct vctx *c, const uint8_t *p, size_t len, const struct emnl_policy *pol,
		  unsigned depth, bool top)
{
	long rem = (long)len;
	const struct nlattr *na = (const void *)p;

	if (depth >= EMNL_MAX_NEST_DEPTH)
		return emnl_error_set(c->e, -EINVAL, "allowed policy recursion depth exceeded");
	for (; rem >= NLA_HDRLEN && na->nla_len >= NLA_HDRLEN && na->nla_len <= rem;
	     rem -= NLA_ALIGN(na->nla_len), na = (const void *)((const uint8_t *)na + NLA_ALIGN(na->nla_len))) {
		uint16_t type = na->nla_type & NLA_TYPE_MASK;
		struct emnl_kpolicy kp;
		int err;

		if (!emnl_kpolicy(pol, type, &kp)) {
			if (c->strict)
				return kfail(c, na, -EINVAL, "Unknown attribute type", NULL);
			continue;
		}
		err = kvalidate_nla(c, na, &kp, depth);
		if (err)
			return err;
		if (top && type < c->n_tb && (c->last_wins || !c->tb[type]))
			c->tb[type] = na;
	}
	if (rem > 0) {
		/* A warning when liberal: the message stays, the parse goes on. */
		emnl_error_set(c->e, c->strict ? -EINVAL : 0,
			       "bytes leftover after parsing attributes");
		if (c->strict)
			return -EINVAL;
	}
	return 0;
}

/* Does the (validated) top level hold attribute @type? From the table when
 * it has room for the type, else by walking the message. */
static bool has_attr(const struct vctx *c, const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	if (type < c->n_tb)
		return c->tb[type] != NULL;
	mnl_attr_for_each(a, nlh, EMNL_GENL_HDRLEN)
		if (mnl_attr_get_type(a) == type)
			return true;
	return false;
}

/* Pick the direction a message is checked against. */
static const struct emnl_msg_spec *direction(const struct emnl_spec *spec,
					     const struct nlmsghdr *nlh, uint8_t cmd, bool reply,
					     const struct emnl_op **opp, struct emnl_error *e)
{
	const struct emnl_msg_spec *m = NULL;
	const struct emnl_op *op = emnl_spec_op_by_cmd(spec, cmd, reply, &m);

	*opp = op;
	if (!op) {
		emnl_error_set(e, -EOPNOTSUPP, "unknown command %u", cmd);
		return NULL;
	}
	if (!reply) {
		bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

		if (dump && !op->has_dump) {
			emnl_error_set(e, -EOPNOTSUPP, "'%s' cannot be dumped", op->name);
			return NULL;
		}
		if (!dump && !op->has_do) {
			emnl_error_set(e, -EOPNOTSUPP, "'%s' has no do request", op->name);
			return NULL;
		}
		return dump ? &op->dump_req : &op->do_req;
	}
	if ((nlh->nlmsg_flags & NLM_F_MULTI) && op->dump_rep.present && op->dump_rep.cmd == cmd)
		return &op->dump_rep;
	return m;
}

/* emnl_validate - check one message. */
int emnl_validate(const struct emnl_spec *spec, const struct nlmsghdr *nlh, size_t len,
		  bool reply, const uint16_t *required, size_t n_required,
		  struct emnl_msg_info *info, struct emnl_error *e)
{
	/* Without a caller's table, a small one of our own answers the
	 * required-attribute check. */
	const struct nlattr *own[16];
	struct vctx c = {.base = (const uint8_t *)nlh, .e = e, .tb = own, .n_tb = 16,
			 .strict = true};
	const struct emnl_msg_spec *m;
	const struct genlmsghdr *g;
	const struct emnl_op *op = NULL;
	size_t hl = MNL_NLMSG_HDRLEN + EMNL_GENL_HDRLEN;
	unsigned int resv_start_op = 0;
	bool dump;
	int err;

	emnl_error_clear(e);
	if (info) {
		info->op = NULL;
		info->msg = NULL;
		info->dump = false;
		info->parsed = false;
		if (info->attrs) {
			c.tb = info->attrs;
			c.n_tb = info->n_attrs;
		}
		c.last_wins = info->last_wins;
		resv_start_op = info->resv_start_op;
	}
	memset(c.tb, 0, c.n_tb * sizeof(c.tb[0]));
	if (len < sizeof(*nlh))
		return emnl_error_set(e, -EINVAL, "%zu bytes are too short for a netlink header",
				      len);
	if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
		return emnl_error_set(e, -EINVAL, "bad nlmsg_len %u (%zu bytes received)",
				      nlh->nlmsg_len, len);
	/* genl_family_rcv_msg(): a bare -EINVAL; the message is emkit's. */
	if (nlh->nlmsg_len < hl)
		return emnl_error_set(e, -EINVAL,
				      "message of %u bytes is too short for the genetlink header",
				      nlh->nlmsg_len);
	dump = !reply && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->reserved && g->cmd >= resv_start_op)
		return emnl_error_set(e, -EINVAL, "genlmsghdr.reserved field is not 0");
	m = direction(spec, nlh, g->cmd, reply, &op, e);
	if (info) {
		info->op = op;
		info->msg = m;
		info->dump = dump;
	}
	if (!m)
		return e ? e->err : -EOPNOTSUPP;
	if (reply) {
		err = check_list(&c, (const uint8_t *)nlh + hl, nlh->nlmsg_len - hl, op->set, NULL,
				 m, 0);
	} else {
		/* genl_family_rcv_msg_attrs_parse(): only an op with a policy
		 * parses its request, liberally if it says so. */
		struct emnl_policy pol;

		err = 0;
		if (emnl_request_policy(op, dump, &pol)) {
			c.strict = !(op->dont_validate & (dump ? EMNL_DONT_VALIDATE_DUMP_STRICT
							       : EMNL_DONT_VALIDATE_STRICT));
			err = kparse(&c, (const uint8_t *)nlh + hl, nlh->nlmsg_len - hl, &pol, 0, true);
			if (info)
				info->parsed = true;
		}
	}
	if (err)
		return err;
	for (size_t i = 0; i < n_required; i++) {
		const struct emnl_attr *at;

		if (has_attr(&c, nlh, required[i]))
			continue;
		at = emnl_set_attr_by_type(op->set, required[i]);
		emnl_error_set(e, -EINVAL, "missing attribute '%s'", at ? at->name : "?");
		if (e) {
			e->has_miss_type = true;
			e->miss_type = required[i];
			e->attr_set = op->set;
		}
		return -EINVAL;
	}
	return 0;
}
