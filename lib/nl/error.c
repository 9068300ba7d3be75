/*
 * Errors: what went wrong, in the terms of an extended ack, and how it
 * travels. struct emnl_error is filled by the loader, the validator, the
 * client and emd's handlers; here it becomes the bytes the kernel's
 * netlink_ack() would send for the same error (struct nlmsgerr with the
 * request's header, and unless capped its payload, then the TLVs
 * NLMSGERR_ATTR_MSG/OFFS/POLICY/MISS_TYPE/MISS_NEST in netlink_ack_tlv_fill()'s
 * order, flagged NLM_F_ACK_TLVS, with
 * NLM_F_CAPPED when the echo was cut to the header), written through the
 * writer; a peer's such message decoded back into a struct emnl_error; and
 * one readable line for it, naming a missing attribute from the spec.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "emkit/nl.h"
#include "nl_internal.h"
#include "writer_impl.h"

/* emnl_error_set - fill @e; returns @err. */
int emnl_error_set(struct emnl_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = emnl_error_vset(e, err, fmt, ap);
	va_end(ap);
	return err;
}

/* emnl_error_clear - no error. Only the fields that say what is present
 * are reset: this runs on every request, the message buffer need not. */
void emnl_error_clear(struct emnl_error *e)
{
	if (!e)
		return;
	e->err = 0;
	e->msg[0] = '\0';
	e->has_offset = e->has_miss_type = e->has_miss_nest = e->has_policy = false;
	e->offset = e->miss_type = e->miss_nest = 0;
	e->attr_set = NULL;
}

/* emnl_put_extack - append the NLMSG_ERROR answering @req. */
int emnl_put_extack(struct emnl_writer *w, const struct nlmsghdr *req, uint32_t portid,
		    const struct emnl_error *e, bool cap, bool ext)
{
	int err = e ? e->err : 0;
	bool capped = !err || cap;
	size_t echo = capped ? sizeof(*req) : req->nlmsg_len;
	bool tlv_msg = ext && e && e->msg[0];
	bool tlv_offs = ext && err && e->has_offset && e->offset < req->nlmsg_len;
	bool tlv_pol = ext && err && e->has_policy;
	bool tlv_miss = ext && err && e->has_miss_type;
	bool tlv_nest = ext && err && e->has_miss_nest && e->has_miss_type;
	uint16_t flags = capped ? NLM_F_CAPPED : 0;
	struct nlmsgerr *me;

	if (!capped && req->nlmsg_len < sizeof(*req))
		return -EINVAL;
	if (tlv_msg || tlv_offs || tlv_pol || tlv_miss)
		flags |= NLM_F_ACK_TLVS;
	wr_msg_begin(w, NLMSG_ERROR, flags, req->nlmsg_seq, portid);
	me = wr_reserve(w, sizeof(int) + echo);
	if (me) {
		me->error = err;
		memcpy(&me->msg, req, echo);
	}
	if (tlv_msg)
		wr_put(w, NLMSGERR_ATTR_MSG, e->msg, strlen(e->msg) + 1);
	if (tlv_offs)
		wr_put(w, NLMSGERR_ATTR_OFFS, &e->offset, sizeof(e->offset));
	if (tlv_pol)
		emnl_put_policy_attr(w, NLMSGERR_ATTR_POLICY, &e->policy);
	if (tlv_miss)
		wr_put(w, NLMSGERR_ATTR_MISS_TYPE, &e->miss_type, sizeof(e->miss_type));
	if (tlv_nest)
		wr_put(w, NLMSGERR_ATTR_MISS_NEST, &e->miss_nest, sizeof(e->miss_nest));
	return wr_msg_end(w);
}

/* emnl_extack_put - the NLMSG_ERROR answering @req, alone in @buf. */
int emnl_extack_put(void *buf, size_t size, const struct nlmsghdr *req,
		    const struct emnl_error *e, bool cap, bool ext)
{
	struct emnl_writer w;

	wr_init(&w, buf, size, NULL, EMNL_PAD_NEVER);
	return emnl_put_extack(&w, req, req->nlmsg_pid, e, cap, ext);
}

/* Read a u32 TLV that must be exactly 4 bytes. */
static int tlv_u32(const struct nlattr *a, uint32_t *out)
{
	if (mnl_attr_get_payload_len(a) != 4)
		return -EINVAL;
	*out = mnl_attr_get_u32(a);
	return 0;
}

/* Read NLMSGERR_ATTR_POLICY's nest (the NL_POLICY_TYPE_ATTR_* of one
 * attribute) into @pa. */
static int parse_policy(const struct nlattr *nest, struct emnl_policy_attr *pa)
{
	const struct nlattr *a;

	memset(pa, 0, sizeof(*pa));
	mnl_attr_for_each_nested(a, nest) {
		size_t plen = mnl_attr_get_payload_len(a);
		const void *p = mnl_attr_get_payload(a);
		uint64_t v = 0;

		if (plen == 4 || plen == 8) {
			uint32_t v32;

			if (plen == 4) {
				memcpy(&v32, p, 4);
				v = v32;
			} else {
				memcpy(&v, p, 8);
			}
		} else if (mnl_attr_get_type(a) != NL_POLICY_TYPE_ATTR_PAD) {
			return -EINVAL;
		}
		switch (mnl_attr_get_type(a)) {
		case NL_POLICY_TYPE_ATTR_TYPE: pa->type = (uint32_t)v; break;
		case NL_POLICY_TYPE_ATTR_MIN_VALUE_S:
			pa->min_s = (int64_t)v;
			pa->has |= EMNL_POLICY_HAS_RANGE_S;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_VALUE_S:
			pa->max_s = (int64_t)v;
			pa->has |= EMNL_POLICY_HAS_RANGE_S;
			break;
		case NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
			pa->min_u = v;
			pa->has |= EMNL_POLICY_HAS_RANGE_U;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
			pa->max_u = v;
			pa->has |= EMNL_POLICY_HAS_RANGE_U;
			break;
		case NL_POLICY_TYPE_ATTR_MIN_LENGTH:
			pa->min_len = (uint32_t)v;
			pa->has |= EMNL_POLICY_HAS_MIN_LEN;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_LENGTH:
			pa->max_len = (uint32_t)v;
			pa->has |= EMNL_POLICY_HAS_MAX_LEN;
			break;
		case NL_POLICY_TYPE_ATTR_POLICY_IDX:
			pa->policy_idx = (uint32_t)v;
			pa->has |= EMNL_POLICY_HAS_NESTED;
			break;
		case NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE:
			pa->policy_maxtype = (uint32_t)v;
			pa->has |= EMNL_POLICY_HAS_NESTED;
			break;
		case NL_POLICY_TYPE_ATTR_BITFIELD32_MASK:
			pa->bitfield32_mask = (uint32_t)v;
			pa->has |= EMNL_POLICY_HAS_BITFIELD32;
			break;
		case NL_POLICY_TYPE_ATTR_MASK:
			pa->mask = v;
			pa->has |= EMNL_POLICY_HAS_MASK;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* emnl_extack_parse - decode an NLMSG_ERROR. */
int emnl_extack_parse(const struct nlmsghdr *nlh, struct emnl_error *e,
		      const struct nlmsghdr **req_out)
{
	const struct nlmsgerr *me;
	size_t off, hl = MNL_NLMSG_HDRLEN + sizeof(*me);

	emnl_error_clear(e);
	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < hl)
		return -EINVAL;
	me = mnl_nlmsg_get_payload(nlh);
	if (me->error > 0 || me->error < -4095)
		return -EINVAL;
	e->err = me->error;
	if (req_out)
		*req_out = &me->msg;
	if (nlh->nlmsg_flags & NLM_F_CAPPED) {
		off = hl;
	} else {
		if (me->msg.nlmsg_len < sizeof(me->msg))
			return -EINVAL;
		off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(int) + me->msg.nlmsg_len);
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	if (off > nlh->nlmsg_len)
		return -EINVAL;
	for (const uint8_t *p = (const uint8_t *)nlh + off, *end = (const uint8_t *)nlh + nlh->nlmsg_len;
	     p + MNL_ATTR_HDRLEN <= end;) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t plen;

		if (a->nla_len < MNL_ATTR_HDRLEN || a->nla_len > (size_t)(end - p))
			return -EINVAL;
		plen = a->nla_len - MNL_ATTR_HDRLEN;
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG: {
			const char *s = mnl_attr_get_payload(a);
			size_t n = strnlen(s, plen);

			if (n == plen)
				return -EINVAL; /* not NUL-terminated */
			if (n >= sizeof(e->msg))
				n = sizeof(e->msg) - 1;
			memcpy(e->msg, s, n);
			e->msg[n] = '\0';
			break;
		}
		case NLMSGERR_ATTR_OFFS:
			if (tlv_u32(a, &e->offset))
				return -EINVAL;
			e->has_offset = true;
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (tlv_u32(a, &e->miss_type))
				return -EINVAL;
			e->has_miss_type = true;
			break;
		case NLMSGERR_ATTR_MISS_NEST:
			if (tlv_u32(a, &e->miss_nest))
				return -EINVAL;
			e->has_miss_nest = true;
			break;
		case NLMSGERR_ATTR_POLICY:
			if (parse_policy(a, &e->policy))
				return -EINVAL;
			e->has_policy = true;
			break;
		default:
			break; /* cookie: not shown */
		}
		p += MNL_ALIGN(a->nla_len);
	}
	return 0;
}

/* The errno's symbolic name for the common netlink errors. */
static const char *errno_name(int err)
{
	switch (err) {
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	case ENOMEM: return "ENOMEM";
	case EMSGSIZE: return "EMSGSIZE";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ERANGE: return "ERANGE";
	case ENODEV: return "ENODEV";
	case EACCES: return "EACCES";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPROTO: return "EPROTO";
	default: return NULL;
	}
}

/* The attribute numbered @type in @spec when every set that has that number
 * gives it the same name; NULL when absent or ambiguous. */
static const struct emnl_attr *unambiguous_attr(const struct emnl_spec *spec, uint32_t type)
{
	const struct emnl_attr *found = NULL;

	for (size_t i = 0; spec && type <= UINT16_MAX && i < spec->n_sets; i++) {
		const struct emnl_attr *a = emnl_set_attr_by_type(&spec->sets[i], (uint16_t)type);

		if (!a)
			continue;
		if (found && strcmp(found->name, a->name))
			return NULL;
		found = a;
	}
	return found;
}

/* emnl_error_format - one line describing @e. */
char *emnl_error_format(const struct emnl_error *e, const struct emnl_spec *spec, char *buf,
			size_t size)
{
	const char *sym = errno_name(-e->err);
	int n;

	if (!size)
		return buf;
	if (!e->err) {
		snprintf(buf, size, "OK%s%s", e->msg[0] ? ": " : "", e->msg);
		return buf;
	}
	if (sym)
		n = snprintf(buf, size, "%s (%s)", strerror(-e->err), sym);
	else
		n = snprintf(buf, size, "%s (errno %d)", strerror(-e->err), -e->err);
	if (e->msg[0] && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ": %s", e->msg);
	if (e->has_offset && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " (offset %u)", e->offset);
	if (e->has_miss_type && n >= 0 && (size_t)n < size) {
		const struct emnl_attr *at =
			e->attr_set ? emnl_set_attr_by_type(e->attr_set, (uint16_t)e->miss_type)
				    : unambiguous_attr(spec, e->miss_type);

		/* The kernel sends MISS_TYPE without text; emkit's peers add a
		 * message naming the attribute, so only its number is added then. */
		if (e->msg[0])
			n += snprintf(buf + n, size - (size_t)n, " (missing type %u)", e->miss_type);
		else if (at)
			n += snprintf(buf + n, size - (size_t)n, ": missing attribute '%s' (type %u)",
				      at->name, e->miss_type);
		else
			n += snprintf(buf + n, size - (size_t)n, ": missing attribute type %u",
				      e->miss_type);
	}
	if (e->has_miss_nest && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (in the nest at offset %u)", e->miss_nest);
	return buf;
}
