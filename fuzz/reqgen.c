/*
 * Spec-driven request generator: the syzkaller idea for generic netlink
 * families described by YNL specs (see reqgen.h for the interface).
 *
 * A request is first built as a small tree of attributes drawn from the spec
 * (an operation, its listed attributes, well-typed values), then one mutation
 * is applied — to the tree for the structural ones (types, lengths, missing,
 * extra and duplicate attributes, nesting), to the serialized bytes for the
 * framing ones (header lengths, truncation, reserved field, flags). Each
 * mutation knows whether it makes the request invalid whatever else the
 * request holds (must_fail): the fuzzers use that to insist that strict
 * validation refuses it, with a structured error. The tree is serialized by
 * hand rather than with lib/nl's encoder, so that the generator does not
 * share the code it is testing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "reqgen.h"

#define RG_MAX_NODES 160
#define RG_MAX_DATA 48
#define RG_MAX_DEPTH 3
#define RG_DEEP_CHAIN 12

/* One attribute of the tree: a leaf with a payload, or a nest with children. */
struct node {
	uint16_t type;        /* wire type, NLA_F_NESTED included */
	bool nest;
	uint8_t width;        /* fixed payload width of its kind, 0 if none */
	const struct emnl_attr *at;
	uint16_t len;         /* leaf payload bytes held in data */
	uint16_t extra;       /* zero bytes after data (huge attributes) */
	uint8_t data[RG_MAX_DATA];
	int child, next;      /* first child, next sibling: pool indexes or -1 */
	int parent;
};

struct tree {
	struct node n[RG_MAX_NODES];
	int count;
	int top;              /* first top-level attribute or -1 */
};

/* ---- choices --------------------------------------------------------------- */

void rg_src_bytes(struct rg_src *s, const uint8_t *p, size_t len)
{
	s->p = p ? p : (const uint8_t *)"";
	s->len = p ? len : 0;
	s->pos = 0;
	s->rng = 0;
}

void rg_src_seed(struct rg_src *s, uint64_t seed)
{
	s->p = NULL;
	s->len = s->pos = 0;
	s->rng = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	if (!s->rng)
		s->rng = 1;
}

static uint8_t next_byte(struct rg_src *s)
{
	if (s->p)
		return s->pos < s->len ? s->p[s->pos++] : 0;
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint8_t)(s->rng >> 24);
}

uint32_t rg_pick(struct rg_src *s, uint32_t n)
{
	uint32_t v;

	if (n <= 1)
		return 0;
	v = next_byte(s);
	if (n > 0x100)
		v = v << 8 | next_byte(s);
	if (n > 0x10000)
		v = v << 16 | (uint32_t)next_byte(s) << 8 | next_byte(s);
	return v % n;
}

uint64_t rg_u64(struct rg_src *s)
{
	uint64_t v = 0;

	/* Small and boundary values find more bugs than uniform ones. */
	switch (next_byte(s) & 7) {
	case 0: return 0;
	case 1: return 1;
	case 2: return next_byte(s);
	case 3: return ~0ULL;
	case 4: return 0x7fffffffULL + next_byte(s) % 3;
	default:
		for (int i = 0; i < 8; i++)
			v = v << 8 | next_byte(s);
		return v;
	}
}

static const char *const mut_names[RG_MUT__COUNT] = {
	[RG_MUT_NONE] = "valid",
	[RG_MUT_ATTR_TYPE_UNKNOWN] = "attr-type-unknown",
	[RG_MUT_ATTR_TYPE_ZERO] = "attr-type-zero",
	[RG_MUT_ATTR_TYPE_OTHER] = "attr-type-other",
	[RG_MUT_ATTR_LEN] = "attr-len",
	[RG_MUT_ATTR_DROP] = "attr-drop",
	[RG_MUT_ATTR_EXTRA] = "attr-extra",
	[RG_MUT_ATTR_DUP] = "attr-dup",
	[RG_MUT_NEST_FLAG] = "nest-flag-on-scalar",
	[RG_MUT_NEST_DEEP] = "nest-too-deep",
	[RG_MUT_NEST_SCALAR] = "nest-with-bare-bytes",
	[RG_MUT_STRING_NO_NUL] = "string-without-nul",
	[RG_MUT_ENUM_VALUE] = "enum-value-undefined",
	[RG_MUT_NLA_LEN_HUGE] = "nla-len-huge",
	[RG_MUT_NLA_LEN_SHORT] = "nla-len-short",
	[RG_MUT_NLMSG_LEN_HUGE] = "nlmsg-len-huge",
	[RG_MUT_NLMSG_LEN_SHORT] = "nlmsg-len-short",
	[RG_MUT_TRUNCATE] = "truncated",
	[RG_MUT_TRAILING] = "trailing-bytes",
	[RG_MUT_RESERVED] = "genl-reserved",
	[RG_MUT_CMD] = "unknown-cmd",
	[RG_MUT_FLAGS] = "nlmsg-flags",
	[RG_MUT_VERSION] = "genl-version",
	[RG_MUT_FAMILY] = "nlmsg-type",
	[RG_MUT_BYTE_FLIP] = "byte-flip",
	[RG_MUT_TWO_MESSAGES] = "two-messages",
};

const char *rg_mut_name(enum rg_mut m)
{
	return m < RG_MUT__COUNT ? mut_names[m] : "?";
}

/* ---- the tree -------------------------------------------------------------- */

static int node_new(struct tree *t, int parent, uint16_t type)
{
	struct node *n;

	if (t->count >= RG_MAX_NODES)
		return -1;
	n = &t->n[t->count];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->child = n->next = -1;
	n->parent = parent;
	return t->count++;
}

/* Link @i as the last child of @parent (-1: top level). */
static void node_link(struct tree *t, int parent, int i)
{
	int *slot = parent < 0 ? &t->top : &t->n[parent].child;

	while (*slot >= 0)
		slot = &t->n[*slot].next;
	*slot = i;
}

/* Unlink @i from its parent's list. */
static void node_unlink(struct tree *t, int i)
{
	int parent = t->n[i].parent;
	int *slot = parent < 0 ? &t->top : &t->n[parent].child;

	while (*slot >= 0 && *slot != i)
		slot = &t->n[*slot].next;
	if (*slot == i)
		*slot = t->n[i].next;
	t->n[i].next = -1;
}

static unsigned kind_width(enum emnl_type k)
{
	switch (k) {
	case EMNL_T_U8: case EMNL_T_S8: return 1;
	case EMNL_T_U16: case EMNL_T_S16: return 2;
	case EMNL_T_U32: case EMNL_T_S32: return 4;
	case EMNL_T_U64: case EMNL_T_S64: case EMNL_T_BITFIELD32: return 8;
	default: return 0;
	}
}

/* Is @at's value checked against its enum or flags by strict validation?
 * (Unsigned kinds: the ones whose undefined values the enum-value mutation
 * makes; see policy_def() for what the kernel's policy checks.) */
static bool enum_checked(const struct emnl_attr *at, enum emnl_type k)
{
	if (!at || !at->def || at->byte_order_be)
		return false;
	if (at->def->kind != EMNL_DEF_ENUM && at->def->kind != EMNL_DEF_FLAGS)
		return false;
	return k == EMNL_T_U8 || k == EMNL_T_U16 || k == EMNL_T_U32 || k == EMNL_T_U64 ||
	       k == EMNL_T_UINT;
}

static bool kind_is_signed(enum emnl_type k)
{
	return k == EMNL_T_S8 || k == EMNL_T_S16 || k == EMNL_T_S32 || k == EMNL_T_S64 ||
	       k == EMNL_T_SINT;
}

/* Does the kernel's policy check @at's value against its enum or flags (any
 * integer kind, as lib/nl/policy.c's int_checks(); big-endian attributes are
 * not range-checked)? */
static bool policy_def(const struct emnl_attr *at, enum emnl_type k)
{
	if (!at || !at->def || at->byte_order_be)
		return false;
	if (at->def->kind != EMNL_DEF_ENUM && at->def->kind != EMNL_DEF_FLAGS)
		return false;
	return enum_checked(at, k) || kind_is_signed(k);
}

static bool is_flags(const struct emnl_attr *at)
{
	return at->def->kind == EMNL_DEF_FLAGS || at->enum_as_flags;
}

/* Are an enum's values one run (then the policy checks a range, where the
 * spec's min/max take precedence; else membership)? */
static bool enum_contiguous(const struct emnl_def *d)
{
	int64_t lo, hi;

	if (!d->n)
		return false;
	lo = hi = (int64_t)d->values[0];
	for (size_t i = 1; i < d->n; i++) {
		if ((int64_t)d->values[i] < lo)
			lo = (int64_t)d->values[i];
		if ((int64_t)d->values[i] > hi)
			hi = (int64_t)d->values[i];
	}
	return (uint64_t)(hi - lo) + 1 == d->n;
}

static uint64_t def_mask(const struct emnl_attr *at)
{
	uint64_t m = 0;

	for (size_t i = 0; i < at->def->n; i++)
		m |= at->def->kind == EMNL_DEF_FLAGS ? at->def->values[i]
		     : at->def->values[i] < 64 ? 1ULL << at->def->values[i] : 0;
	return m;
}

/* Can an attribute of width @w (0: 8) and signedness @sgn carry @v? */
static bool value_fits(uint64_t v, unsigned w, bool sgn)
{
	if (!w || w >= 8)
		return true;
	if (sgn)
		return (int64_t)v >= -(1LL << (8 * w - 1)) && (int64_t)v < (1LL << (8 * w - 1));
	return v <= (1ULL << (8 * w)) - 1;
}

/* A value for @at that its enum or flags accept (or any, without one),
 * within the spec's min/max where the policy checks them. */
static uint64_t scalar_value(struct rg_src *s, const struct emnl_attr *at, enum emnl_type k,
			     unsigned w)
{
	uint64_t v = rg_u64(s);
	bool sgn = kind_is_signed(k);
	bool def = policy_def(at, k);

	if (def) {
		if (is_flags(at)) {
			v &= def_mask(at);
		} else if (at->def->n) { /* (an empty enum has no valid value) */
			/* An entry the attribute's width can carry (a negative entry
			 * in a u8 cannot): from a random one on, the first that fits. */
			uint32_t n = (uint32_t)at->def->n, i0 = rg_pick(s, n);

			v = at->def->values[i0];
			for (uint32_t i = 0; i < n; i++)
				if (value_fits(at->def->values[(i0 + i) % n], w, sgn)) {
					v = at->def->values[(i0 + i) % n];
					break;
				}
		}
	}
	if (w && w < 8 && k != EMNL_T_BITFIELD32)
		v &= (1ULL << (8 * w)) - 1;
	/* a bitfield32's selector (high half) within its enum's bits */
	if (k == EMNL_T_BITFIELD32 && at && at->def &&
	    (at->def->kind == EMNL_DEF_ENUM || at->def->kind == EMNL_DEF_FLAGS)) {
		uint64_t m = def_mask(at) & UINT32_MAX;

		v &= m | m << 32;
	}
	/* checks: min, max (the kernel's policy range; a flags mask or a sparse
	 * enum's membership replaces them) */
	if (at && (at->has_min || at->has_max) && !at->byte_order_be &&
	    !(def && (is_flags(at) || !enum_contiguous(at->def)))) {
		int64_t sv = sgn && w && w < 8 ? (int64_t)(v << (64 - 8 * w)) >> (64 - 8 * w)
					       : (int64_t)v;

		if (sgn ? (at->has_min && sv < at->min) : (at->has_min && v < (uint64_t)at->min))
			v = (uint64_t)at->min;
		else if (sgn ? (at->has_max && sv > at->max)
			     : (at->has_max && v > (uint64_t)at->max))
			v = (uint64_t)at->max;
		if (w && w < 8)
			v &= (1ULL << (8 * w)) - 1;
	}
	return v;
}

bool rg_valid_possible(const struct emnl_spec *spec)
{
	for (size_t i = 0; i < spec->n_sets; i++)
		for (size_t a = 0; a < spec->sets[i].n; a++) {
			const struct emnl_attr *at = &spec->sets[i].attrs[a];
			unsigned w = kind_width(at->kind);
			bool fits = false;

			/* A negative lower bound of an unsigned attribute becomes, as
			 * in the kernel's nla_get_range_unsigned() (the policy's s16
			 * or s64 min read as u64), one above every value: the spec's
			 * min, or a contiguous enum's first entry without one. */
			if (enum_checked(at, at->kind) || at->kind == EMNL_T_UINT ||
			    (!kind_is_signed(at->kind) && w)) {
				bool def = policy_def(at, at->kind);
				bool ranged = !def || (!is_flags(at) && enum_contiguous(at->def));

				if (ranged && !at->byte_order_be && at->kind != EMNL_T_BITFIELD32) {
					if (at->has_min && at->min < 0)
						return false;
					for (size_t e = 0; def && !at->has_min && e < at->def->n; e++)
						if ((int64_t)at->def->values[e] < 0)
							return false;
				}
			}
			if (!policy_def(at, at->kind) || is_flags(at))
				continue;
			for (size_t e = 0; e < at->def->n && !fits; e++)
				fits = value_fits(at->def->values[e], w, kind_is_signed(at->kind));
			if (!fits)
				return false;
		}
	return true;
}

static void put_le(uint8_t *p, uint64_t v, unsigned w)
{
	for (unsigned i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fill_string(struct rg_src *s, struct node *n, const struct emnl_spec *spec)
{
	static const char *const words[] = {"nlctrl", "dev-energymodel", "event", "notify", ""};
	const char *w;
	size_t l;

	switch (rg_pick(s, 4)) {
	case 0:
		w = spec->name;
		break;
	case 1: {
		uint32_t k = 1 + rg_pick(s, RG_MAX_DATA - 1);

		for (l = 0; l < k; l++)
			n->data[l] = (uint8_t)('a' + rg_pick(s, 26));
		n->data[k - 1] = 0;
		n->len = (uint16_t)k;
		return;
	}
	default:
		w = words[rg_pick(s, sizeof(words) / sizeof(words[0]))];
	}
	l = strlen(w);
	if (l > RG_MAX_DATA - 1)
		l = RG_MAX_DATA - 1;
	memcpy(n->data, w, l);
	n->data[l] = 0;
	n->len = (uint16_t)(l + 1);
}

static int gen_attr(struct rg_src *s, struct tree *t, const struct emnl_spec *spec, int parent,
		    const struct emnl_attr *at, enum emnl_type k, uint16_t type, unsigned depth);

/* Fill nest @i with a random subset of @set's attributes. */
static void gen_set(struct rg_src *s, struct tree *t, const struct emnl_spec *spec, int i,
		    const struct emnl_attr_set *set, unsigned depth)
{
	if (!set)
		return;
	for (size_t a = 0; a < set->n; a++) {
		const struct emnl_attr *at = &set->attrs[a];
		uint32_t reps = at->multi ? 1 + rg_pick(s, 3) : 1;

		if (at->kind == EMNL_T_UNUSED || at->kind == EMNL_T_PAD || rg_pick(s, 3) == 0)
			continue;
		for (uint32_t r = 0; r < reps; r++)
			gen_attr(s, t, spec, i, at, at->kind, at->type, depth);
	}
}

/* Append one well-typed attribute of kind @k (at may be NULL for array
 * elements) under @parent. Returns its index or -1 when the pool is full. */
static int gen_attr(struct rg_src *s, struct tree *t, const struct emnl_spec *spec, int parent,
		    const struct emnl_attr *at, enum emnl_type k, uint16_t type, unsigned depth)
{
	struct node *n;
	unsigned w = kind_width(k);
	int i;

	/* A nest-type-value is whole or absent: each of its levels holds one
	 * entry (an empty level is malformed), and the deepest level's payload
	 * is still within EMNL_MAX_NEST_DEPTH. */
	if (k == EMNL_T_NEST_TYPE_VALUE && at &&
	    (t->count + 1 + at->n_type_value > RG_MAX_NODES ||
	     depth + 1 + at->n_type_value >= EMNL_MAX_NEST_DEPTH))
		return -1;
	i = node_new(t, parent, type);
	if (i < 0)
		return -1;
	node_link(t, parent, i);
	n = &t->n[i];
	n->at = at;
	n->width = (uint8_t)w;
	switch (k) {
	case EMNL_T_UINT:
	case EMNL_T_SINT:
		w = rg_pick(s, 2) ? 8 : 4;
		put_le(n->data, scalar_value(s, at, k, w), w);
		n->len = (uint16_t)w;
		break;
	case EMNL_T_STRING:
		fill_string(s, n, spec);
		/* checks: max-len (the kernel's policy .len): a shorter string */
		if (at && at->max_len && n->len > at->max_len + 1) {
			n->len = (uint16_t)(at->max_len + 1);
			n->data[at->max_len] = 0;
		}
		break;
	case EMNL_T_BINARY:
		n->len = (uint16_t)rg_pick(s, 17);
		for (unsigned b = 0; b < n->len; b++)
			n->data[b] = (uint8_t)rg_pick(s, 256);
		break;
	case EMNL_T_FLAG:
	case EMNL_T_PAD:
	case EMNL_T_UNUSED:
		break;
	case EMNL_T_NEST:
		n->nest = true;
		n->type |= NLA_F_NESTED;
		if (depth < RG_MAX_DEPTH && at)
			gen_set(s, t, spec, i, at->nested, depth + 1);
		break;
	case EMNL_T_INDEXED_ARRAY:
		n->nest = true;
		n->type |= NLA_F_NESTED;
		if (depth < RG_MAX_DEPTH && at) {
			uint32_t k2 = rg_pick(s, 4);

			for (uint32_t e = 0; e < k2; e++) {
				int c = gen_attr(s, t, spec, i, NULL, at->sub_kind,
						 (uint16_t)(e + 1), depth + 1);

				if (c >= 0 && at->sub_kind == EMNL_T_NEST)
					gen_set(s, t, spec, c, at->nested, depth + 2);
			}
		}
		break;
	case EMNL_T_NEST_TYPE_VALUE: {
		int cur = i;

		n->nest = true;
		n->type |= NLA_F_NESTED;
		if (!at)
			break;
		for (size_t lvl = 0; lvl < at->n_type_value; lvl++) {
			int c = node_new(t, cur, (uint16_t)(1 + rg_pick(s, 8)) | NLA_F_NESTED);

			t->n[c].nest = true; /* room checked above */
			node_link(t, cur, c);
			cur = c;
		}
		if (depth + at->n_type_value < RG_MAX_DEPTH + 2)
			gen_set(s, t, spec, cur, at->nested, depth + 1 + (unsigned)at->n_type_value);
		break;
	}
	case EMNL_T_BITFIELD32: {
		/* value, then selector; as the kernel, every value bit selected */
		uint64_t v = scalar_value(s, at, k, w);
		uint32_t sel = (uint32_t)(v >> 32), val = (uint32_t)v & sel;

		put_le(n->data, val, 4);
		put_le(n->data + 4, sel, 4);
		n->len = 8;
		break;
	}
	default: /* fixed-width integers */
		put_le(n->data, scalar_value(s, at, k, w), w);
		n->len = (uint16_t)w;
		break;
	}
	return i;
}

/* ---- serialization --------------------------------------------------------- */

struct out {
	uint8_t *buf;
	size_t size, len;
	bool full;
};

static void out_bytes(struct out *o, const void *p, size_t n)
{
	if (o->full || o->size - o->len < n) {
		o->full = true;
		return;
	}
	if (p)
		memcpy(o->buf + o->len, p, n);
	else
		memset(o->buf + o->len, 0, n);
	o->len += n;
}

static void out_align(struct out *o)
{
	out_bytes(o, NULL, (4 - (o->len & 3)) & 3);
}

/* Write the list starting at @i; the offset of each top-level attribute is
 * recorded in @offs (up to @max). */
static void write_list(struct out *o, const struct tree *t, int i, size_t *offs, size_t max,
		       size_t *n_offs)
{
	for (; i >= 0; i = t->n[i].next) {
		const struct node *n = &t->n[i];
		size_t start = o->len;
		struct nlattr na = {.nla_type = n->type};

		if (offs && *n_offs < max)
			offs[(*n_offs)++] = start;
		out_bytes(o, &na, sizeof(na));
		if (n->nest && n->child >= 0)
			write_list(o, t, n->child, NULL, 0, NULL);
		else {
			out_bytes(o, n->data, n->len);
			out_bytes(o, NULL, n->extra);
		}
		if (o->full)
			return;
		na.nla_len = (uint16_t)(o->len - start);
		memcpy(o->buf + start, &na, sizeof(na));
		out_align(o);
	}
}

/* ---- mutations on the tree ------------------------------------------------- */

/* A random node satisfying @ok, or -1. */
static int pick_node(struct rg_src *s, const struct tree *t, bool (*ok)(const struct node *))
{
	int cand[RG_MAX_NODES], n = 0;

	for (int i = 0; i < t->count; i++)
		if (ok(&t->n[i]))
			cand[n++] = i;
	return n ? cand[rg_pick(s, (uint32_t)n)] : -1;
}

/* Nodes that hang in the tree (not removed) — every created node is linked,
 * except after RG_MUT_ATTR_DROP, which is applied last. */
static bool is_leaf_fixed(const struct node *n) { return !n->nest && n->width; }
static bool is_leaf(const struct node *n) { return !n->nest; }
static bool is_nest(const struct node *n) { return n->nest; }
static bool is_string(const struct node *n)
{
	return !n->nest && n->at && n->at->kind == EMNL_T_STRING;
}
static bool is_enum(const struct node *n)
{
	/* (A contiguous enum under the spec's own min/max is checked against
	 * those, which a value past the enum may meet.) */
	return !n->nest && n->width && n->at && enum_checked(n->at, n->at->kind) &&
	       (is_flags(n->at) || !(n->at->has_min || n->at->has_max) ||
		!enum_contiguous(n->at->def)) &&
	       (is_flags(n->at) ? def_mask(n->at) != (n->width == 8 ? ~0ULL :
						       (1ULL << (8 * n->width)) - 1)
				: true);
}

static uint32_t top_count(const struct tree *t)
{
	uint32_t c = 0;

	for (int i = t->top; i >= 0; i = t->n[i].next)
		c++;
	return c;
}

static int top_nth(const struct tree *t, uint32_t k)
{
	int i = t->top;

	while (i >= 0 && k--)
		i = t->n[i].next;
	return i;
}

/* An attribute of @set the message @m does not list (not pad or unused). */
static const struct emnl_attr *unlisted_attr(struct rg_src *s, const struct emnl_attr_set *set,
					     const struct emnl_msg_spec *m)
{
	const struct emnl_attr *cand[256];
	uint32_t n = 0;

	for (size_t a = 0; set && a < set->n && n < 256; a++) {
		const struct emnl_attr *at = &set->attrs[a];
		bool listed = false;

		if (at->kind == EMNL_T_UNUSED || at->kind == EMNL_T_PAD)
			continue;
		for (size_t j = 0; j < m->n; j++)
			listed |= m->attrs[j] == at;
		if (!listed)
			cand[n++] = at;
	}
	return n ? cand[rg_pick(s, n)] : NULL;
}

/* Apply a tree mutation; returns false when it cannot apply to this tree. */
static bool mutate_tree(struct rg_src *s, struct tree *t, const struct emnl_spec *spec,
			const struct emnl_op *op, const struct emnl_msg_spec *m, enum rg_mut mut)
{
	const struct emnl_attr_set *set = op->set; /* NULL: no attribute is known */
	uint16_t max_type = set ? set->max_type : 0;
	int i;

	switch (mut) {
	case RG_MUT_ATTR_TYPE_UNKNOWN:
	case RG_MUT_ATTR_TYPE_ZERO: {
		uint16_t type = mut == RG_MUT_ATTR_TYPE_ZERO ? 0 :
			(uint16_t)(max_type + 1 + rg_pick(s, 0x3fff - max_type));

		i = top_count(t) ? top_nth(t, rg_pick(s, top_count(t))) : -1;
		if (i < 0 || rg_pick(s, 4) == 0) {
			i = node_new(t, -1, 0);
			if (i < 0)
				return false;
			node_link(t, -1, i);
			t->n[i].len = 4;
		}
		t->n[i].type = (uint16_t)(type | (t->n[i].type & NLA_F_NESTED));
		return true;
	}
	case RG_MUT_ATTR_TYPE_OTHER:
		if (!top_count(t) || !set || !set->n)
			return false;
		i = top_nth(t, rg_pick(s, top_count(t)));
		t->n[i].type = (uint16_t)(set->attrs[rg_pick(s, (uint32_t)set->n)].type |
					 (t->n[i].type & NLA_F_NESTED));
		return true;
	case RG_MUT_ATTR_LEN: {
		struct node *n;
		uint32_t l;

		i = pick_node(s, t, is_leaf_fixed);
		if (i < 0)
			return false;
		n = &t->n[i];
		if (rg_pick(s, 4) == 0) { /* huge: kilobytes of zeros */
			n->extra = (uint16_t)(1024 + rg_pick(s, 3000));
			n->len = n->width;
			return true;
		}
		do
			l = rg_pick(s, 2 * n->width + 6);
		while (l == n->width);
		if (n->at && (n->at->kind == EMNL_T_UINT || n->at->kind == EMNL_T_SINT) &&
		    (l == 4 || l == 8))
			l = 3;
		for (uint32_t b = n->len; b < l && b < RG_MAX_DATA; b++)
			n->data[b] = (uint8_t)rg_pick(s, 256);
		n->len = (uint16_t)(l < RG_MAX_DATA ? l : RG_MAX_DATA);
		return true;
	}
	case RG_MUT_ATTR_DROP:
		if (!top_count(t))
			return false;
		node_unlink(t, top_nth(t, rg_pick(s, top_count(t))));
		return true;
	case RG_MUT_ATTR_EXTRA: {
		const struct emnl_attr *at = unlisted_attr(s, set, m);

		if (!at)
			return false;
		return gen_attr(s, t, spec, -1, at, at->kind, at->type, 0) >= 0;
	}
	case RG_MUT_ATTR_DUP: {
		int j;

		if (!top_count(t))
			return false;
		i = top_nth(t, rg_pick(s, top_count(t)));
		j = node_new(t, -1, 0);
		if (j < 0)
			return false;
		t->n[j] = t->n[i]; /* children are shared: written twice */
		t->n[j].next = -1;
		node_link(t, -1, j);
		return true;
	}
	case RG_MUT_NEST_FLAG:
		i = pick_node(s, t, is_leaf);
		if (i < 0)
			return false;
		t->n[i].type |= NLA_F_NESTED;
		return true;
	case RG_MUT_NEST_DEEP: {
		uint16_t type = set && set->n ? set->attrs[rg_pick(s, (uint32_t)set->n)].type : 1;
		int parent = -1;

		for (int d = 0; d < RG_DEEP_CHAIN; d++) {
			i = node_new(t, parent, type | NLA_F_NESTED);
			if (i < 0)
				return false;
			t->n[i].nest = true;
			node_link(t, parent, i);
			parent = i;
		}
		return true;
	}
	case RG_MUT_NEST_SCALAR:
		i = pick_node(s, t, is_nest);
		if (i < 0)
			return false;
		t->n[i].child = -1;
		t->n[i].nest = false;
		t->n[i].width = 0;
		t->n[i].len = 1 + (uint16_t)rg_pick(s, 3);
		memset(t->n[i].data, 0xff, t->n[i].len);
		return true;
	case RG_MUT_STRING_NO_NUL:
		i = pick_node(s, t, is_string);
		if (i < 0)
			return false;
		if (t->n[i].len)
			t->n[i].data[t->n[i].len - 1] = 'x';
		return true;
	case RG_MUT_ENUM_VALUE: {
		struct node *n;
		uint64_t v = 0;

		i = pick_node(s, t, is_enum);
		if (i < 0)
			return false;
		n = &t->n[i];
		if (is_flags(n->at)) {
			uint64_t free_bits = ~def_mask(n->at);

			if (n->width < 8)
				free_bits &= (1ULL << (8 * n->width)) - 1;
			v = free_bits & (~free_bits + 1); /* lowest undefined bit */
		} else {
			for (size_t e = 0; e < n->at->def->n; e++)
				if (n->at->def->values[e] >= v)
					v = n->at->def->values[e] + 1;
			if (n->width < 8 && v >> (8 * n->width))
				return false;
		}
		put_le(n->data, v, n->width);
		return true;
	}
	default:
		return false;
	}
}

/*
 * Does this tree mutation make any request invalid? Only where the kernel
 * parses the attributes (genetlink.c: an op that names none has no policy,
 * and its request's attributes are not looked at); a liberal parse
 * (dont-validate) lets unknown types, wrong-sized integers and NLA_F_NESTED
 * pass, but still checks a string's NUL, a nest's size and enum values.
 */
static bool tree_mut_fails(enum rg_mut m, const struct rg_req *r)
{
	if (!r->parsed)
		return false;
	switch (m) {
	case RG_MUT_NEST_SCALAR:
	case RG_MUT_STRING_NO_NUL:
	case RG_MUT_ENUM_VALUE:
		return true;
	case RG_MUT_ATTR_TYPE_UNKNOWN:
	case RG_MUT_ATTR_TYPE_ZERO:
	case RG_MUT_ATTR_LEN:
	case RG_MUT_ATTR_EXTRA:
	case RG_MUT_NEST_FLAG:
	case RG_MUT_NEST_DEEP:
		return r->strict;
	default:
		return false;
	}
}

/* ---- the request ----------------------------------------------------------- */

/* Operations a client may request, and whether each is asked as a dump. */
static const struct emnl_op *pick_op(struct rg_src *s, const struct emnl_spec *spec, bool *dump)
{
	uint32_t n = 0, k;

	for (size_t i = 0; i < spec->n_ops; i++)
		n += spec->ops[i].has_do + spec->ops[i].has_dump;
	if (!n)
		return NULL;
	k = rg_pick(s, n);
	for (size_t i = 0; i < spec->n_ops; i++) {
		const struct emnl_op *op = &spec->ops[i];

		if (op->has_do && k-- == 0) {
			*dump = false;
			return op;
		}
		if (op->has_dump && k-- == 0) {
			*dump = true;
			return op;
		}
	}
	return NULL;
}

/* A command number no operation accepts as a request. */
static uint8_t unknown_cmd(struct rg_src *s, const struct emnl_spec *spec)
{
	for (int tries = 0; tries < 512; tries++) {
		uint8_t c = (uint8_t)rg_pick(s, 256);
		bool used = false;

		for (size_t i = 0; i < spec->n_ops; i++) {
			const struct emnl_op *op = &spec->ops[i];

			used |= (op->has_do && op->do_req.cmd == c) ||
				(op->has_dump && op->dump_req.cmd == c);
		}
		if (!used)
			return c;
	}
	return 0xff;
}

/* Build the valid request of @op into @o; returns its offset list length. */
static size_t build(struct rg_src *s, struct tree *t, const struct emnl_spec *spec,
		    uint16_t family_id, const struct emnl_op *op, bool dump, struct out *o,
		    size_t *offs, size_t max_offs)
{
	const struct emnl_msg_spec *m = dump ? &op->dump_req : &op->do_req;
	struct nlmsghdr nlh = {
		.nlmsg_type = family_id,
		.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | (rg_pick(s, 2) ? NLM_F_ACK : 0) |
					  (dump ? NLM_F_DUMP : 0)),
		.nlmsg_seq = (uint32_t)rg_u64(s),
	};
	struct genlmsghdr g = {.cmd = m->cmd, .version = (uint8_t)spec->version};
	size_t start = o->len, n_offs = 0;

	out_bytes(o, &nlh, sizeof(nlh));
	out_bytes(o, &g, sizeof(g));
	write_list(o, t, t->top, offs, max_offs, &n_offs);
	if (!o->full) {
		nlh.nlmsg_len = (uint32_t)(o->len - start);
		memcpy(o->buf + start, &nlh, sizeof(nlh));
	}
	return n_offs;
}

static void fill_tree(struct rg_src *s, struct tree *t, const struct emnl_spec *spec,
		      const struct emnl_op *op, bool dump)
{
	const struct emnl_msg_spec *m = dump ? &op->dump_req : &op->do_req;

	t->count = 0;
	t->top = -1;
	for (size_t a = 0; a < m->n; a++) {
		const struct emnl_attr *at = m->attrs[a];
		uint32_t reps = at->multi ? 1 + rg_pick(s, 2) : 1;

		/* Most valid requests carry every listed attribute. */
		if (at->kind == EMNL_T_UNUSED || at->kind == EMNL_T_PAD || rg_pick(s, 8) == 0)
			continue;
		for (uint32_t r = 0; r < reps; r++)
			gen_attr(s, t, spec, -1, at, at->kind, at->type, 0);
	}
}

size_t rg_generate(struct rg_src *s, const struct emnl_spec *spec, uint16_t family_id,
		   enum rg_mut mut, uint8_t *buf, size_t size, struct rg_req *r)
{
	static __thread struct tree t;
	struct out o = {.buf = buf, .size = size};
	size_t offs[64], n_offs;
	const struct emnl_op *op;
	bool dump = false;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);

	memset(r, 0, sizeof(*r));
	op = pick_op(s, spec, &dump);
	if (!op || size < 512)
		return 0;
	if (mut >= RG_MUT__COUNT)
		mut = (enum rg_mut)(rg_pick(s, 4) == 0 ? RG_MUT_NONE : rg_pick(s, RG_MUT__COUNT));
	r->op = op;
	r->dump = dump;
	r->parsed = (dump ? op->dump_req : op->do_req).n > 0;
	r->strict = !(op->dont_validate & (dump ? EMNL_DONT_VALIDATE_DUMP_STRICT
					       : EMNL_DONT_VALIDATE_STRICT));
	fill_tree(s, &t, spec, op, dump);
	if (mut > RG_MUT_NONE && mut < RG_MUT_NLA_LEN_HUGE &&
	    !mutate_tree(s, &t, spec, op, dump ? &op->dump_req : &op->do_req, mut))
		mut = mutate_tree(s, &t, spec, op, dump ? &op->dump_req : &op->do_req,
				  RG_MUT_ATTR_TYPE_UNKNOWN) ? RG_MUT_ATTR_TYPE_UNKNOWN : RG_MUT_NONE;
	n_offs = build(s, &t, spec, family_id, op, dump, &o, offs, 64);
	if (o.full) {
		/* A mutation outgrew the buffer: fall back to a valid request. */
		o.len = 0;
		o.full = false;
		fill_tree(s, &t, spec, op, dump);
		n_offs = build(s, &t, spec, family_id, op, dump, &o, offs, 64);
		mut = RG_MUT_NONE;
		if (o.full)
			return 0;
	}
	r->must_fail = tree_mut_fails(mut, r);

	switch (mut) {
	case RG_MUT_NLA_LEN_HUGE:
	case RG_MUT_NLA_LEN_SHORT: {
		size_t at;
		uint16_t l;

		if (n_offs)
			at = offs[rg_pick(s, (uint32_t)n_offs)];
		else { /* append a header for the length to lie in */
			at = o.len;
			out_bytes(&o, NULL, NLA_HDRLEN);
			nlh->nlmsg_len = (uint32_t)o.len;
			((struct nlattr *)(buf + at))->nla_type = 1;
		}
		if (mut == RG_MUT_NLA_LEN_SHORT)
			l = (uint16_t)rg_pick(s, NLA_HDRLEN);
		else {
			size_t room = nlh->nlmsg_len - at;
			uint32_t big = (uint32_t)room + 1 + rg_pick(s, 0x10000);

			l = (uint16_t)(big > 0xffff || rg_pick(s, 4) == 0 ? 0xffff : big);
		}
		memcpy(buf + at, &l, sizeof(l));
		/* What is left after the parse stops: an error only when strict. */
		r->must_fail = r->parsed && r->strict;
		break;
	}
	case RG_MUT_NLMSG_LEN_HUGE:
		nlh->nlmsg_len = rg_pick(s, 2) ? 0xffffffffu : (uint32_t)o.len + 1 + rg_pick(s, 100000);
		r->must_fail = true;
		break;
	case RG_MUT_NLMSG_LEN_SHORT:
		nlh->nlmsg_len = rg_pick(s, NLMSG_HDRLEN + GENL_HDRLEN);
		r->must_fail = true;
		break;
	case RG_MUT_TRUNCATE:
		o.len = 1 + rg_pick(s, (uint32_t)o.len - 1);
		r->must_fail = true;
		break;
	case RG_MUT_TRAILING: {
		uint32_t k = 1 + rg_pick(s, 3);

		for (uint32_t b = 0; b < k; b++) {
			uint8_t v = (uint8_t)rg_pick(s, 256);

			out_bytes(&o, &v, 1);
		}
		nlh->nlmsg_len = (uint32_t)o.len;
		r->must_fail = !o.full && r->parsed && r->strict;
		break;
	}
	case RG_MUT_RESERVED:
		g->reserved = (uint16_t)(1 + rg_pick(s, 0xffff));
		r->must_fail = true;
		break;
	case RG_MUT_CMD:
		g->cmd = unknown_cmd(s, spec);
		r->must_fail = true;
		break;
	case RG_MUT_FLAGS:
		nlh->nlmsg_flags = (uint16_t)rg_pick(s, 0x10000);
		break;
	case RG_MUT_VERSION:
		g->version = (uint8_t)rg_pick(s, 256);
		break;
	case RG_MUT_FAMILY:
		nlh->nlmsg_type = (uint16_t)rg_pick(s, 0x10000);
		break;
	case RG_MUT_BYTE_FLIP: {
		uint32_t k = 1 + rg_pick(s, 4);

		for (uint32_t b = 0; b < k && o.len; b++)
			buf[rg_pick(s, (uint32_t)o.len)] = (uint8_t)rg_pick(s, 256);
		break;
	}
	case RG_MUT_TWO_MESSAGES: {
		struct out o2 = {.buf = buf + o.len, .size = size - o.len};
		bool dump2 = false;
		const struct emnl_op *op2 = pick_op(s, spec, &dump2);

		if (op2) {
			fill_tree(s, &t, spec, op2, dump2);
			build(s, &t, spec, family_id, op2, dump2, &o2, NULL, 0);
			if (!o2.full)
				o.len += o2.len;
		}
		break;
	}
	default:
		break;
	}
	r->mut = mut;
	r->len = o.len;
	return o.len;
}

struct emnl_spec *rg_spec_load(const char *name, const char *who, int status)
{
	char path[512];
	struct emnl_error e;
	struct emnl_spec *s;

	snprintf(path, sizeof(path), "%s/%s.yaml", EMKIT_SPEC_DIR, name);
	s = emnl_spec_load(path, &e);
	if (!s) {
		fprintf(stderr, "%s: %s: %s\n", who, path, e.msg);
		exit(status);
	}
	return s;
}
