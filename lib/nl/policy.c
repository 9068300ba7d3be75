/*
 * The kernel's attribute policies of a family, derived from its spec as the
 * kernel's YNL code generator derives them (tools/net/ynl/pyynl/ynl_gen_c.py,
 * the types' attr_policy()): a request's table lists the attributes its
 * operation names, up to the highest of them; a nest's table is every
 * attribute of its set; pads and placeholders have no entry (NLA_UNSPEC).
 * Integers get their range from an enum or the spec's checks, flags a mask,
 * strings their max-len, nests the table of their set. The validator
 * (validate.c) applies these entries with the rules of the kernel's parser;
 * here they are also described as the kernel's policy dump describes them
 * (net/netlink/policy.c, __netlink_policy_dump_write_attr()), for
 * CTRL_CMD_GETPOLICY and for an extended ack's NLMSGERR_ATTR_POLICY.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/netlink.h>

#include "emkit/nl.h"
#include "nl_internal.h"
#include "writer_impl.h"

/* enum netlink_attribute_type gained these in Linux 6.8 (NLA_SINT and
 * NLA_UINT); older uapi headers lack them. */
#define TYPE_SINT 16
#define TYPE_UINT 17

/* emnl_request_policy - the table of @op's do or dump request. */
bool emnl_request_policy(const struct emnl_op *op, bool dump, struct emnl_policy *p)
{
	const struct emnl_msg_spec *m = dump ? &op->dump_req : &op->do_req;
	uint16_t max = 0;

	if ((dump ? !op->has_dump : !op->has_do) || !m->present || !m->n || !op->set)
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->attrs[i]->type > max)
			max = m->attrs[i]->type;
	*p = (struct emnl_policy){.set = op->set, .msg = m, .maxtype = max};
	return max > 0;
}

/* Does @m list the attributes of @n, no more, no fewer? */
static bool same_list(const struct emnl_msg_spec *m, const struct emnl_msg_spec *n)
{
	if (m == n)
		return true;
	if (!m || !n || m->n != n->n)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		size_t j = 0;

		while (j < n->n && n->attrs[j] != m->attrs[i])
			j++;
		if (j == n->n)
			return false;
	}
	return true;
}

/* emnl_policy_equal - one table. */
bool emnl_policy_equal(const struct emnl_policy *a, const struct emnl_policy *b)
{
	return a->set == b->set && a->maxtype == b->maxtype && same_list(a->msg, b->msg);
}

/* The attribute of @p numbered @type, if the table has one. */
static const struct emnl_attr *policy_attr(const struct emnl_policy *p, uint16_t type)
{
	if (!type || type > p->maxtype)
		return NULL;
	if (p->msg) {
		for (size_t i = 0; i < p->msg->n; i++)
			if (p->msg->attrs[i]->type == type)
				return p->msg->attrs[i];
		return NULL;
	}
	return emnl_set_attr_by_type(p->set, type);
}

/* An enum's values form one run (YNL's value_range()): its ends, else false
 * (a sparse enum: YNL generates a validation function). */
static bool enum_range(const struct emnl_def *d, int64_t *lo, int64_t *hi)
{
	if (!d->n)
		return false;
	*lo = *hi = (int64_t)d->values[0];
	for (size_t i = 1; i < d->n; i++) {
		if ((int64_t)d->values[i] < *lo)
			*lo = (int64_t)d->values[i];
		if ((int64_t)d->values[i] > *hi)
			*hi = (int64_t)d->values[i];
	}
	return (uint64_t)(*hi - *lo) + 1 == d->n;
}

/* The range checks of an integer attribute (TypeScalar: the spec's checks,
 * else the enum's run; min only when it is not 0 or the type is signed). */
static void int_checks(const struct emnl_attr *a, struct emnl_kpolicy *kp)
{
	bool has_min = a->has_min, has_max = a->has_max;
	int64_t min = a->min, max = a->max;
	const struct emnl_def *d = a->def;

	if (d && d->kind != EMNL_DEF_ENUM && d->kind != EMNL_DEF_FLAGS)
		d = NULL; /* (a const or struct named as an enum: nothing to check) */
	if (d && (d->kind == EMNL_DEF_FLAGS || a->enum_as_flags)) {
		kp->check = EMNL_KPC_MASK;
		kp->mask = 0;
		for (size_t i = 0; i < d->n; i++)
			kp->mask |= d->kind == EMNL_DEF_FLAGS ? d->values[i]
				    : d->values[i] < 64 ? 1ULL << d->values[i] : 0;
		return;
	}
	if (d && d->kind == EMNL_DEF_ENUM) {
		int64_t lo, hi;

		if (!enum_range(d, &lo, &hi)) {
			kp->check = EMNL_KPC_ENUM;
			kp->attr = a;
			return;
		}
		if (!has_min && (lo != 0 || emnl_kind_signed(a->kind))) {
			has_min = true;
			min = lo;
		}
		if (!has_max) {
			has_max = true;
			max = hi;
		}
	}
	kp->min = min;
	kp->max = max;
	kp->check = has_min && has_max ? EMNL_KPC_RANGE
		    : has_min	       ? EMNL_KPC_MIN
		    : has_max	       ? EMNL_KPC_MAX
				       : EMNL_KPC_NONE;
}

/* emnl_kpolicy - the table's entry for @type (see nl_internal.h). */
bool emnl_kpolicy(const struct emnl_policy *p, uint16_t type, struct emnl_kpolicy *kp)
{
	const struct emnl_attr *a = policy_attr(p, type);

	memset(kp, 0, sizeof(*kp));
	if (!type || type > p->maxtype)
		return false;
	if (!a)
		return true; /* NLA_UNSPEC */
	kp->attr = a;
	switch (a->kind) {
	case EMNL_T_U8: kp->type = EMNL_KP_U8; break;
	case EMNL_T_U16: kp->type = EMNL_KP_U16; break;
	case EMNL_T_U32: kp->type = EMNL_KP_U32; break;
	case EMNL_T_U64: kp->type = EMNL_KP_U64; break;
	case EMNL_T_S8: kp->type = EMNL_KP_S8; break;
	case EMNL_T_S16: kp->type = EMNL_KP_S16; break;
	case EMNL_T_S32: kp->type = EMNL_KP_S32; break;
	case EMNL_T_S64: kp->type = EMNL_KP_S64; break;
	case EMNL_T_UINT: kp->type = EMNL_KP_UINT; break;
	case EMNL_T_SINT: kp->type = EMNL_KP_SINT; break;
	case EMNL_T_FLAG: kp->type = EMNL_KP_FLAG; return true;
	case EMNL_T_STRING:
		kp->type = EMNL_KP_NUL_STRING;
		kp->len = a->max_len;
		return true;
	case EMNL_T_BINARY: kp->type = EMNL_KP_BINARY; return true;
	case EMNL_T_BITFIELD32:
		kp->type = EMNL_KP_BITFIELD32;
		kp->mask = UINT32_MAX;
		if (a->def && (a->def->kind == EMNL_DEF_ENUM || a->def->kind == EMNL_DEF_FLAGS)) {
			kp->mask = 0;
			for (size_t i = 0; i < a->def->n; i++)
				kp->mask |= a->def->kind == EMNL_DEF_FLAGS ? a->def->values[i]
					    : a->def->values[i] < 64 ? 1ULL << a->def->values[i] : 0;
		}
		return true;
	case EMNL_T_NEST:
		kp->type = EMNL_KP_NESTED;
		break;
	case EMNL_T_INDEXED_ARRAY:
		kp->type = EMNL_KP_NESTED_ARRAY;
		if (a->sub_kind != EMNL_T_NEST)
			return true;
		break;
	case EMNL_T_NEST_TYPE_VALUE: kp->type = EMNL_KP_NESTED; return true;
	default: return true; /* pad, unused: no entry */
	}
	if (kp->type == EMNL_KP_NESTED || kp->type == EMNL_KP_NESTED_ARRAY) {
		if (a->nested && a->nested->max_type) {
			kp->has_nested = true;
			kp->nested = (struct emnl_policy){.set = a->nested, .msg = NULL,
							  .maxtype = a->nested->max_type};
			kp->len = a->nested->max_type;
		}
		return true;
	}
	int_checks(a, kp);
	return true;
}

/* The type's own range (nla_get_range_unsigned/_signed before checks). */
static void type_range(enum emnl_kp_type t, int64_t *smin, int64_t *smax, uint64_t *umax)
{
	*smin = 0;
	switch (t) {
	case EMNL_KP_U8: *umax = UINT8_MAX; break;
	case EMNL_KP_U16: *umax = UINT16_MAX; break;
	case EMNL_KP_U32: *umax = UINT32_MAX; break;
	case EMNL_KP_S8: *smin = INT8_MIN; *smax = INT8_MAX; break;
	case EMNL_KP_S16: *smin = INT16_MIN; *smax = INT16_MAX; break;
	case EMNL_KP_S32: *smin = INT32_MIN; *smax = INT32_MAX; break;
	case EMNL_KP_S64:
	case EMNL_KP_SINT: *smin = INT64_MIN; *smax = INT64_MAX; break;
	default: *umax = UINT64_MAX; break;
	}
}

/* emnl_kpolicy_signed - is @t a signed integer type? */
bool emnl_kpolicy_signed(enum emnl_kp_type t)
{
	return t == EMNL_KP_S8 || t == EMNL_KP_S16 || t == EMNL_KP_S32 || t == EMNL_KP_S64 ||
	       t == EMNL_KP_SINT;
}

/* emnl_kpolicy_range - the values @kp accepts (nla_get_range_*()). */
void emnl_kpolicy_range(const struct emnl_kpolicy *kp, int64_t *smin, int64_t *smax,
			uint64_t *umin, uint64_t *umax)
{
	*smax = 0;
	*umax = 0;
	type_range(kp->type, smin, smax, umax);
	*umin = 0;
	if (kp->check == EMNL_KPC_RANGE || kp->check == EMNL_KPC_MIN) {
		*smin = kp->min;
		*umin = (uint64_t)kp->min;
	}
	if (kp->check == EMNL_KPC_RANGE || kp->check == EMNL_KPC_MAX) {
		*smax = kp->max;
		*umax = (uint64_t)kp->max;
	}
}

/* emnl_kpolicy_describe - the policy dump's view of @kp. */
bool emnl_kpolicy_describe(const struct emnl_kpolicy *kp, struct emnl_policy_attr *pa)
{
	static const uint32_t nl_type[] = {
		[EMNL_KP_U8] = NL_ATTR_TYPE_U8, [EMNL_KP_U16] = NL_ATTR_TYPE_U16,
		[EMNL_KP_U32] = NL_ATTR_TYPE_U32, [EMNL_KP_U64] = NL_ATTR_TYPE_U64,
		[EMNL_KP_S8] = NL_ATTR_TYPE_S8, [EMNL_KP_S16] = NL_ATTR_TYPE_S16,
		[EMNL_KP_S32] = NL_ATTR_TYPE_S32, [EMNL_KP_S64] = NL_ATTR_TYPE_S64,
		[EMNL_KP_UINT] = TYPE_UINT, [EMNL_KP_SINT] = TYPE_SINT,
		[EMNL_KP_FLAG] = NL_ATTR_TYPE_FLAG, [EMNL_KP_NUL_STRING] = NL_ATTR_TYPE_NUL_STRING,
		[EMNL_KP_BINARY] = NL_ATTR_TYPE_BINARY, [EMNL_KP_NESTED] = NL_ATTR_TYPE_NESTED,
		[EMNL_KP_NESTED_ARRAY] = NL_ATTR_TYPE_NESTED_ARRAY,
		[EMNL_KP_BITFIELD32] = NL_ATTR_TYPE_BITFIELD32,
	};

	memset(pa, 0, sizeof(*pa));
	if (kp->type == EMNL_KP_UNSPEC)
		return false; /* "skip - use NLA_MIN_LEN to advertise such" */
	pa->type = nl_type[kp->type];
	switch (kp->type) {
	case EMNL_KP_NESTED:
	case EMNL_KP_NESTED_ARRAY:
		if (kp->has_nested) {
			pa->has = EMNL_POLICY_HAS_NESTED;
			pa->policy_maxtype = kp->len;
		}
		break;
	case EMNL_KP_NUL_STRING:
	case EMNL_KP_BINARY:
		if (kp->len) {
			pa->has = EMNL_POLICY_HAS_MAX_LEN;
			pa->max_len = kp->len;
		}
		break;
	case EMNL_KP_BITFIELD32:
		pa->has = EMNL_POLICY_HAS_BITFIELD32;
		pa->bitfield32_mask = (uint32_t)kp->mask;
		break;
	case EMNL_KP_FLAG:
		break;
	default:
		if (kp->check == EMNL_KPC_MASK) {
			pa->has = EMNL_POLICY_HAS_MASK;
			pa->mask = kp->mask;
		} else if (kp->check != EMNL_KPC_ENUM) {
			pa->has = emnl_kpolicy_signed(kp->type) ? EMNL_POLICY_HAS_RANGE_S
								: EMNL_POLICY_HAS_RANGE_U;
			emnl_kpolicy_range(kp, &pa->min_s, &pa->max_s, &pa->min_u, &pa->max_u);
		}
		break;
	}
	return true;
}

/* emnl_policy_entry - the dump's view of attribute @type of @p. */
bool emnl_policy_entry(const struct emnl_policy *p, uint16_t type, struct emnl_policy_attr *pa,
		       struct emnl_policy *nested)
{
	struct emnl_kpolicy kp;

	memset(pa, 0, sizeof(*pa));
	if (!emnl_kpolicy(p, type, &kp) || !emnl_kpolicy_describe(&kp, pa))
		return false;
	if (kp.has_nested && nested)
		*nested = kp.nested;
	return true;
}

/* emnl_put_policy_attr - one attribute's policy, as the kernel lays it out. */
void emnl_put_policy_attr(struct emnl_writer *w, uint16_t nest_type,
			  const struct emnl_policy_attr *pa)
{
	size_t nest = wr_nest_begin(w, nest_type | NLA_F_NESTED);

	if (pa->has & EMNL_POLICY_HAS_NESTED) {
		wr_put(w, NL_POLICY_TYPE_ATTR_POLICY_IDX, &pa->policy_idx, sizeof(uint32_t));
		wr_put(w, NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, &pa->policy_maxtype, sizeof(uint32_t));
	}
	if (pa->has & EMNL_POLICY_HAS_MASK)
		wr_put_u64_pad(w, NL_POLICY_TYPE_ATTR_MASK, pa->mask, NL_POLICY_TYPE_ATTR_PAD);
	if (pa->has & EMNL_POLICY_HAS_RANGE_U) {
		wr_put_u64_pad(w, NL_POLICY_TYPE_ATTR_MIN_VALUE_U, pa->min_u, NL_POLICY_TYPE_ATTR_PAD);
		wr_put_u64_pad(w, NL_POLICY_TYPE_ATTR_MAX_VALUE_U, pa->max_u, NL_POLICY_TYPE_ATTR_PAD);
	}
	if (pa->has & EMNL_POLICY_HAS_RANGE_S) {
		wr_put_u64_pad(w, NL_POLICY_TYPE_ATTR_MIN_VALUE_S, (uint64_t)pa->min_s,
			       NL_POLICY_TYPE_ATTR_PAD);
		wr_put_u64_pad(w, NL_POLICY_TYPE_ATTR_MAX_VALUE_S, (uint64_t)pa->max_s,
			       NL_POLICY_TYPE_ATTR_PAD);
	}
	if (pa->has & EMNL_POLICY_HAS_BITFIELD32)
		wr_put(w, NL_POLICY_TYPE_ATTR_BITFIELD32_MASK, &pa->bitfield32_mask, sizeof(uint32_t));
	if (pa->has & EMNL_POLICY_HAS_MIN_LEN)
		wr_put(w, NL_POLICY_TYPE_ATTR_MIN_LENGTH, &pa->min_len, sizeof(uint32_t));
	if (pa->has & EMNL_POLICY_HAS_MAX_LEN)
		wr_put(w, NL_POLICY_TYPE_ATTR_MAX_LENGTH, &pa->max_len, sizeof(uint32_t));
	wr_put(w, NL_POLICY_TYPE_ATTR_TYPE, &pa->type, sizeof(uint32_t));
	wr_nest_end(w, nest);
}
