/*
 * Codec: value trees to generic netlink messages and back. Encoding walks
 * the tree and writes each value through the writer (writer_impl.h) as the
 * kernel would: integers in host order unless the spec says big-endian,
 * strings with their NUL, nests with NLA_F_NESTED, indexed arrays numbered
 * from 1, and 64-bit numbers of a set that has a pad attribute with the pad
 * rule. Nothing is left half-written: on -EMSGSIZE the caller gets an
 * error, not a truncated message. Decoding is the lenient
 * mirror (unknown attributes kept as binaries) and builds the whole tree
 * in one arena sized from the message; the strict checks live in validate.c.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "nl_internal.h"
#include "writer_impl.h"

/* Deepest tree the decoder follows (beyond the validator's limit, as a guard). */
#define DECODE_MAX_DEPTH 32

/* Encoding state: the writer, holding the one message being written. */
struct enc {
	struct emnl_writer w;
};

static int encode_list(struct enc *c, const struct emnl_attrs *a);

/* Put an attribute of @len bytes; the writer's error once one failed. */
static inline int put(struct enc *c, uint16_t type, size_t len, const void *data)
{
	wr_put(&c->w, type, data, len);
	return c->w.err;
}

/* A 64-bit payload: the pad rule when the set has a pad attribute. */
static int put64(struct enc *c, const struct emnl_value *v, uint64_t raw)
{
	const struct emnl_attr_set *set = v->attr ? v->attr->set : NULL;

	if (set && set->pad)
		wr_put_u64_pad(&c->w, v->type, raw, set->pad->type);
	else
		wr_put(&c->w, v->type, &raw, sizeof(raw));
	return c->w.err;
}

/* Encode one integer value as @kind with the attribute's byte order. */
static int put_int(struct enc *c, const struct emnl_value *v, enum emnl_type kind)
{
	bool be = v->attr && v->attr->byte_order_be;
	uint64_t u = v->u;

	switch (kind) {
	case EMNL_T_U8: case EMNL_T_S8: {
		uint8_t x = (uint8_t)u;
		return put(c, v->type, 1, &x);
	}
	case EMNL_T_U16: case EMNL_T_S16: {
		uint16_t x = be ? htobe16((uint16_t)u) : (uint16_t)u;
		return put(c, v->type, 2, &x);
	}
	case EMNL_T_U32: case EMNL_T_S32: {
		uint32_t x = be ? htobe32((uint32_t)u) : (uint32_t)u;
		return put(c, v->type, 4, &x);
	}
	case EMNL_T_U64: case EMNL_T_S64:
		return put64(c, v, be ? htobe64(u) : u);
	case EMNL_T_UINT:
		/* As nla_put_uint(): 4 bytes when the value fits, else 8, no pad. */
		if (u <= UINT32_MAX) {
			uint32_t x = (uint32_t)u;
			return put(c, v->type, 4, &x);
		}
		return put(c, v->type, 8, &u);
	case EMNL_T_SINT:
		if (v->s >= INT32_MIN && v->s <= INT32_MAX) {
			int32_t x = (int32_t)v->s;
			return put(c, v->type, 4, &x);
		}
		return put(c, v->type, 8, &u);
	default:
		return -EINVAL;
	}
}

/* Encode a nest whose payload is @a (or, for nest-type-value, the inner levels). */
static int put_nest(struct enc *c, uint16_t type, const struct emnl_value *v, unsigned level)
{
	size_t nest = wr_nest_begin(&c->w, type | NLA_F_NESTED);
	int err = c->w.err;

	if (err)
		return err;
	if (v->kind == EMNL_T_NEST_TYPE_VALUE && v->attr && level < v->attr->n_type_value)
		err = put_nest(c, (uint16_t)v->tv[level], v, level + 1);
	else
		err = encode_list(c, v->nest);
	if (err) {
		wr_nest_cancel(&c->w, nest);
		return err;
	}
	wr_nest_end(&c->w, nest);
	return c->w.err;
}

/* Encode one value. */
static int encode_value(struct enc *c, const struct emnl_value *v)
{
	switch (v->kind) {
	case EMNL_T_PAD:
	case EMNL_T_UNUSED:
		return 0;
	case EMNL_T_FLAG:
		return put(c, v->type, 0, NULL);
	case EMNL_T_STRING:
		return put(c, v->type, v->bytes.len + 1, v->bytes.ptr);
	case EMNL_T_BINARY:
		return put(c, v->type, v->bytes.len, v->bytes.ptr);
	case EMNL_T_BITFIELD32: {
		uint32_t bf[2] = {(uint32_t)v->u, (uint32_t)(v->u >> 32)};
		return put(c, v->type, sizeof(bf), bf);
	}
	case EMNL_T_NEST:
	case EMNL_T_INDEXED_ARRAY:
	case EMNL_T_NEST_TYPE_VALUE:
		if (!v->nest)
			return -EINVAL;
		return put_nest(c, v->type, v, 0);
	default:
		return put_int(c, v, v->kind);
	}
}

static int encode_list(struct enc *c, const struct emnl_attrs *a)
{
	for (size_t i = 0; a && i < a->n; i++) {
		int err = encode_value(c, &a->v[i]);

		if (err)
			return err;
	}
	return 0;
}

/* emnl_encode - one complete message, through the writer. */
int emnl_encode(void *buf, size_t size, const void *dgram_start, const struct emnl_hdr *hdr,
		const struct emnl_attrs *attrs, enum emnl_pad_mode pad)
{
	struct enc c;
	int err;

	wr_init(&c.w, buf, size, dgram_start, pad);
	if (!wr_msg_begin_genl(&c.w, hdr->nlmsg_type, hdr->nlmsg_flags, hdr->nlmsg_seq,
			       hdr->nlmsg_pid, hdr->cmd, hdr->version)) {
		wr_msg_cancel(&c.w);
		return -EMSGSIZE;
	}
	err = encode_list(&c, attrs);
	if (err) {
		wr_msg_cancel(&c.w);
		return err;
	}
	return wr_msg_end(&c.w);
}

/* ---- decoding ------------------------------------------------------------- */

/* A decode in progress: the arena every list, value and byte string of the
 * tree is carved from, sized from the message. */
struct dec {
	void *arena;
	size_t hint;
};

static int decode_list(struct dec *d, const uint8_t *p, size_t len,
		       const struct emnl_attr_set *set, const struct emnl_attr *array_of,
		       struct emnl_attrs **out, unsigned depth, struct emnl_error *e);

/* Read an integer payload of @len bytes as @kind. */
static int read_int(struct emnl_value *v, enum emnl_type kind, bool be, const void *p,
		    size_t len, struct emnl_error *e)
{
	unsigned w = emnl_kind_width(kind);

	if (kind == EMNL_T_UINT || kind == EMNL_T_SINT) {
		if (len != 4 && len != 8)
			return emnl_error_set(e, -EINVAL, "%s attribute %u has length %zu",
					      emnl_type_name(kind), v->type, len);
		w = (unsigned)len;
	} else if (len != w) {
		return emnl_error_set(e, -EINVAL, "attribute %u (%s) has length %zu, expected %u",
				      v->type, emnl_type_name(kind), len, w);
	}
	/* Netlink integers are in host order unless the spec says big-endian. */
	bool msb_first = be || __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
	const uint8_t *b = p;
	uint64_t x = 0;

	for (unsigned i = 0; i < w; i++)
		x |= (uint64_t)b[i] << 8 * (msb_first ? w - 1 - i : i);
	v->u = x;
	if (emnl_kind_signed(kind) && w < 8) {
		unsigned shift = 64 - 8 * w;

		v->s = (int64_t)(x << shift) >> shift; /* sign-extend the top bit of @w bytes */
	}
	return 0;
}

/* Copy @len bytes into the arena, NUL-terminated. */
static int take_bytes(struct dec *d, struct emnl_value *v, const uint8_t *p, size_t len,
		      struct emnl_error *e)
{
	char *copy = emnl_arena_alloc(&d->arena, len + 1, d->hint);

	if (!copy)
		return emnl_error_set(e, -ENOMEM, "out of memory");
	memcpy(copy, p, len);
	copy[len] = '\0';
	v->bytes.ptr = copy;
	v->bytes.len = len;
	v->borrowed = true;
	return 0;
}

/* Decode the payload of one attribute of spec kind @kind into @v. */
static int decode_payload(struct dec *d, struct emnl_value *v, const struct emnl_attr *at,
			  enum emnl_type kind, const uint8_t *p, size_t len, unsigned depth,
			  struct emnl_error *e)
{
	v->kind = kind;
	switch (kind) {
	case EMNL_T_FLAG:
		if (len)
			return emnl_error_set(e, -EINVAL, "flag attribute %u has a payload", v->type);
		v->u = 1;
		return 0;
	case EMNL_T_STRING: {
		const void *nul = memchr(p, '\0', len);

		return take_bytes(d, v, p, nul ? (size_t)((const uint8_t *)nul - p) : len, e);
	}
	case EMNL_T_BINARY:
	case EMNL_T_UNUSED:
		v->kind = EMNL_T_BINARY;
		return take_bytes(d, v, p, len, e);
	case EMNL_T_BITFIELD32: {
		uint32_t bf[2];
		if (len != sizeof(bf))
			return emnl_error_set(e, -EINVAL, "bitfield32 attribute %u has length %zu",
					      v->type, len);
		memcpy(bf, p, sizeof(bf));
		v->u = bf[0] | (uint64_t)bf[1] << 32;
		return 0;
	}
	case EMNL_T_NEST:
		return decode_list(d, p, len, at ? at->nested : NULL, NULL, &v->nest, depth + 1, e);
	case EMNL_T_INDEXED_ARRAY:
		return decode_list(d, p, len, NULL, at, &v->nest, depth + 1, e);
	case EMNL_T_NEST_TYPE_VALUE: {
		/* Follow the first attribute of each level; its type is the value. */
		for (size_t lvl = 0; at && lvl < at->n_type_value; lvl++) {
			const struct nlattr *in = (const struct nlattr *)p;

			if (len < MNL_ATTR_HDRLEN || in->nla_len < MNL_ATTR_HDRLEN ||
			    in->nla_len > len)
				return emnl_error_set(e, -EINVAL,
						      "nest-type-value attribute %u is malformed",
						      v->type);
			v->tv[lvl] = in->nla_type & NLA_TYPE_MASK;
			len = in->nla_len - MNL_ATTR_HDRLEN;
			p += MNL_ATTR_HDRLEN;
		}
		return decode_list(d, p, len, at ? at->nested : NULL, NULL, &v->nest, depth + 1, e);
	}
	default:
		return read_int(v, kind, at && at->byte_order_be, p, len, e);
	}
}

/* How many attribute headers a run holds (framing errors end the count;
 * the decoding pass reports them). */
static size_t count_attrs(const uint8_t *p, size_t len)
{
	size_t n = 0, off = 0;

	while (len - off >= MNL_ATTR_HDRLEN) {
		const struct nlattr *na = (const struct nlattr *)(p + off);

		if (na->nla_len < MNL_ATTR_HDRLEN || na->nla_len > len - off)
			break;
		n++;
		off += MNL_ALIGN(na->nla_len);
		if (off > len)
			break;
	}
	return n;
}

/* Decode a run of attributes into a list sized exactly for it. For an
 * indexed array (@array_of), each entry is an element numbered by its type,
 * of the array's sub-type. */
static int decode_list(struct dec *d, const uint8_t *p, size_t len,
		       const struct emnl_attr_set *set, const struct emnl_attr *array_of,
		       struct emnl_attrs **out, unsigned depth, struct emnl_error *e)
{
	size_t off = 0, count;
	struct emnl_attrs *a;

	*out = NULL;
	if (depth > DECODE_MAX_DEPTH)
		return emnl_error_set(e, -EINVAL, "nesting deeper than %d", DECODE_MAX_DEPTH);
	count = count_attrs(p, len);
	a = emnl_arena_alloc(&d->arena, sizeof(*a) + count * sizeof(struct emnl_value), d->hint);
	if (!a)
		return emnl_error_set(e, -ENOMEM, "out of memory");
	memset(a, 0, sizeof(*a));
	a->set = set;
	a->array_of = array_of;
	a->v = (struct emnl_value *)(a + 1);
	a->cap = count;
	*out = a;
	while (len - off >= MNL_ATTR_HDRLEN) {
		const struct nlattr *na = (const struct nlattr *)(p + off);
		const uint8_t *payload = p + off + MNL_ATTR_HDRLEN;
		const struct emnl_attr *at = NULL;
		struct emnl_value *v;
		enum emnl_type kind;
		int err;

		if (na->nla_len < MNL_ATTR_HDRLEN || na->nla_len > len - off)
			return emnl_error_set(e, -EINVAL, "attribute length %u out of bounds",
					      na->nla_len);
		v = &a->v[a->n];
		memset(v, 0, sizeof(*v));
		v->type = na->nla_type & NLA_TYPE_MASK;
		if (array_of) {
			kind = array_of->sub_kind;
			at = array_of;
		} else {
			at = set ? emnl_set_attr_by_type(set, v->type) : NULL;
			kind = at ? at->kind : EMNL_T_BINARY;
			v->attr = at;
		}
		off += MNL_ALIGN(na->nla_len);
		if (off > len)
			off = len;
		if (kind == EMNL_T_PAD)
			continue;
		if (array_of && kind == EMNL_T_NEST) {
			v->kind = EMNL_T_NEST;
			err = decode_list(d, payload, na->nla_len - MNL_ATTR_HDRLEN, array_of->nested,
					  NULL, &v->nest, depth + 1, e);
		} else {
			err = decode_payload(d, v, at, kind, payload, na->nla_len - MNL_ATTR_HDRLEN,
					     depth, e);
		}
		if (err)
			return err;
		a->n++;
	}
	return 0;
}

/* Run a decode and hand the arena to the root, or free it on failure. */
static int decode_root(const uint8_t *p, size_t len, const struct emnl_attr_set *set,
		       struct emnl_attrs **out, struct emnl_error *e)
{
	/* A value takes up to 18 times the wire size of the smallest attribute:
	 * size the first chunk for that (one allocation per message), but stay
	 * below malloc's mmap threshold and add chunks beyond it. */
	size_t hint = len * 18 + 512;
	struct dec d = {.arena = NULL, .hint = hint < 65536 ? hint : 65536};
	int err = decode_list(&d, p, len, set, NULL, out, 0, e);

	if (err) {
		emnl_arena_free(d.arena);
		*out = NULL;
		return err;
	}
	(*out)->arena = d.arena;
	return 0;
}

/* emnl_decode_attrs - decode a run of attributes. */
int emnl_decode_attrs(const void *p, size_t len, const struct emnl_attr_set *set,
		      struct emnl_attrs **out, struct emnl_error *e)
{
	return decode_root(p, len, set, out, e);
}

/* emnl_decode - decode one message. */
int emnl_decode(const struct nlmsghdr *nlh, const struct emnl_attr_set *set, struct emnl_hdr *hdr,
		struct emnl_attrs **out, struct emnl_error *e)
{
	const struct genlmsghdr *g;
	size_t hl = MNL_NLMSG_HDRLEN + EMNL_GENL_HDRLEN;

	*out = NULL;
	if (nlh->nlmsg_len < hl)
		return emnl_error_set(e, -EINVAL, "message of %u bytes is shorter than its headers",
				      nlh->nlmsg_len);
	g = mnl_nlmsg_get_payload(nlh);
	if (hdr) {
		hdr->nlmsg_type = nlh->nlmsg_type;
		hdr->nlmsg_flags = nlh->nlmsg_flags;
		hdr->nlmsg_seq = nlh->nlmsg_seq;
		hdr->nlmsg_pid = nlh->nlmsg_pid;
		hdr->cmd = g->cmd;
		hdr->version = g->version;
	}
	return decode_root((const uint8_t *)nlh + hl, nlh->nlmsg_len - hl, set, out, e);
}
