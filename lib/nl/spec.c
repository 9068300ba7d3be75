/*
 * YNL spec loader. Reads a generic netlink family description in the YAML
 * format the kernel keeps under Documentation/netlink/specs (protocols
 * genetlink and genetlink-legacy) and builds the immutable model the codec,
 * the validator, the client and the JSON layer are driven by: definitions,
 * attribute sets, operations and multicast groups, with every number
 * assigned the way YNL assigns it and every name reference (nested sets,
 * enums, notify targets, subsets) resolved to a pointer. libyaml composes
 * the document, so anchors and aliases arrive already expanded. Of an
 * attribute's checks the numeric max-len, min and max are kept, and of an
 * operation its dont-validate flags (the kernel policy the validator
 * applies, policy.c); keys this layer has no use for (doc, c names, other
 * checks, struct members...) are skipped, which is what lets it read the
 * kernel's files unchanged. The
 * kind tables (type names, widths, signedness) live here with the types.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "emkit/nl.h"
#include "nl_internal.h"

/* A load error in @e (spec.c sits below error.c: see nl_internal.h). */
static int spec_error(struct emnl_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int spec_error(struct emnl_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = emnl_error_vset(e, err, fmt, ap);
	va_end(ap);
	return err;
}

/* Parsing context: the composed document and where to report errors. */
struct loader {
	yaml_document_t doc;
	struct emnl_error *e;
	const char *origin;
	int failed;
};

static const struct {
	const char *name;
	enum emnl_type t;
} type_names[] = {
	{"u8", EMNL_T_U8}, {"u16", EMNL_T_U16}, {"u32", EMNL_T_U32}, {"u64", EMNL_T_U64},
	{"s8", EMNL_T_S8}, {"s16", EMNL_T_S16}, {"s32", EMNL_T_S32}, {"s64", EMNL_T_S64},
	{"uint", EMNL_T_UINT}, {"sint", EMNL_T_SINT}, {"string", EMNL_T_STRING},
	{"binary", EMNL_T_BINARY}, {"flag", EMNL_T_FLAG}, {"pad", EMNL_T_PAD},
	{"nest", EMNL_T_NEST}, {"indexed-array", EMNL_T_INDEXED_ARRAY},
	{"nest-type-value", EMNL_T_NEST_TYPE_VALUE}, {"bitfield32", EMNL_T_BITFIELD32},
	{"unused", EMNL_T_UNUSED},
};

/* emnl_type_name - YNL's name for @t. */
const char *emnl_type_name(enum emnl_type t)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].t == t)
			return type_names[i].name;
	return "?";
}

/* ---- kind tables ------------------------------------------------------------ */

/* emnl_kind_width - bytes of a fixed-width integer kind. */
unsigned emnl_kind_width(enum emnl_type k)
{
	switch (k) {
	case EMNL_T_U8: case EMNL_T_S8: return 1;
	case EMNL_T_U16: case EMNL_T_S16: return 2;
	case EMNL_T_U32: case EMNL_T_S32: case EMNL_T_BITFIELD32: return 4;
	case EMNL_T_U64: case EMNL_T_S64: return 8;
	default: return 0;
	}
}

/* emnl_kind_signed - signed integer kinds. */
bool emnl_kind_signed(enum emnl_type k)
{
	return k == EMNL_T_S8 || k == EMNL_T_S16 || k == EMNL_T_S32 || k == EMNL_T_S64 ||
	       k == EMNL_T_SINT;
}

/* emnl_attr_is_flags - an attribute whose value is a set of flag bits. */
bool emnl_attr_is_flags(const struct emnl_attr *a)
{
	return a && a->def && (a->def->kind == EMNL_DEF_FLAGS || a->enum_as_flags);
}

/* Map a YNL type name to the enum; -1 when unknown. */
static int parse_type(const char *s)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcmp(type_names[i].name, s))
			return type_names[i].t;
	return -1;
}

/* Record the first error with the node's line. */
static void fail(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char what[120];
	va_list ap;

	if (l->failed)
		return;
	l->failed = 1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	spec_error(l->e, -EINVAL, "%s:%lu: %s", l->origin,
		       n ? (unsigned long)n->start_mark.line + 1 : 0UL, what);
}

static yaml_node_t *node(struct loader *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

/* The value of @key in mapping @map, or NULL. */
static yaml_node_t *get(struct loader *l, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(l, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return node(l, p->value);
	}
	return NULL;
}

/* A scalar's text, or NULL for anything else (an empty value is NULL too). */
static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static const char *get_str(struct loader *l, const yaml_node_t *map, const char *key)
{
	return scalar(get(l, map, key));
}

/* Duplicate a string, failing the load on allocation failure. */
static char *dup(struct loader *l, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d && !l->failed) {
		l->failed = 1;
		spec_error(l->e, -ENOMEM, "out of memory");
	}
	return d;
}

static void *zalloc(struct loader *l, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p && !l->failed) {
		l->failed = 1;
		spec_error(l->e, -ENOMEM, "out of memory");
	}
	return p;
}

/* An integer scalar (decimal or 0x hex); @def when absent. */
static int64_t get_int(struct loader *l, const yaml_node_t *map, const char *key, int64_t def)
{
	yaml_node_t *n = get(l, map, key);
	const char *s = scalar(n);
	char *end;
	long long v;

	if (!n)
		return def;
	if (!s) {
		fail(l, n, "'%s' must be a number", key);
		return def;
	}
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end) {
		fail(l, n, "'%s' is not a number: '%s'", key, s);
		return def;
	}
	return v;
}

static bool get_bool(struct loader *l, const yaml_node_t *map, const char *key)
{
	const char *s = get_str(l, map, key);

	return s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes"));
}

/* Number of items of a sequence (0 for anything else). */
static size_t seq_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct loader *l, const yaml_node_t *n, size_t i)
{
	return node(l, n->data.sequence.items.start[i]);
}

/* A list that is either a sequence directly or a mapping with a 'list' key. */
static yaml_node_t *list_of(struct loader *l, yaml_node_t *n)
{
	if (n && n->type == YAML_MAPPING_NODE)
		return get(l, n, "list");
	return n;
}

/* ---- definitions ---------------------------------------------------------- */

static void load_def(struct loader *l, yaml_node_t *n, struct emnl_def *d)
{
	const char *type = get_str(l, n, "type");
	yaml_node_t *entries = get(l, n, "entries");
	int64_t next;

	d->name = dup(l, get_str(l, n, "name"));
	if (!d->name)
		return fail(l, n, "definition without a name");
	if (!type || !strcmp(type, "const"))
		d->kind = EMNL_DEF_CONST;
	else if (!strcmp(type, "enum"))
		d->kind = EMNL_DEF_ENUM;
	else if (!strcmp(type, "flags"))
		d->kind = EMNL_DEF_FLAGS;
	else
		d->kind = EMNL_DEF_STRUCT; /* struct and anything newer: no entries */
	if (d->kind == EMNL_DEF_CONST || d->kind == EMNL_DEF_STRUCT)
		return;
	d->n = seq_len(entries);
	d->names = zalloc(l, d->n, sizeof(*d->names));
	d->values = zalloc(l, d->n, sizeof(*d->values));
	if (!d->names || !d->values)
		return;
	next = get_int(l, n, "value-start", 0);
	for (size_t i = 0; i < d->n; i++) {
		yaml_node_t *it = seq_item(l, entries, i);
		const char *name = scalar(it);
		int64_t v = next;

		if (!name) {
			name = get_str(l, it, "name");
			v = get_int(l, it, "value", next);
		}
		if (!name)
			return fail(l, it, "entry %zu of '%s' has no name", i, d->name);
		if (d->kind == EMNL_DEF_FLAGS && (v < 0 || v > 63))
			return fail(l, it, "flag '%s' bit %lld out of range", name, (long long)v);
		d->names[i] = dup(l, name);
		d->values[i] = d->kind == EMNL_DEF_FLAGS ? 1ULL << v : (uint64_t)v;
		next = v + 1;
	}
}

/* ---- attribute sets ------------------------------------------------------- */

/* A number of checks:, or false (a name of a definition, or anything else:
 * the check is left out, as a limit this loader cannot evaluate). */
static bool check_int(struct loader *l, const yaml_node_t *map, const char *key, int64_t *v)
{
	const char *s = scalar(get(l, map, key));
	char *end;
	long long x;

	if (!s)
		return false;
	errno = 0;
	x = strtoll(s, &end, 0);
	if (errno || *end || end == s)
		return false;
	*v = x;
	return true;
}

/* checks: the limits the kernel's policy puts on an attribute. */
static void load_checks(struct loader *l, const yaml_node_t *chk, struct emnl_attr *a)
{
	int64_t v;

	if (!chk)
		return;
	if (check_int(l, chk, "max-len", &v) && v > 0 && v <= UINT16_MAX)
		a->max_len = (uint32_t)v;
	a->has_min = check_int(l, chk, "min", &a->min);
	a->has_max = check_int(l, chk, "max", &a->max);
}

static void load_attr(struct loader *l, yaml_node_t *n, struct emnl_attr *a, int64_t *next,
		      bool subset)
{
	const char *name = get_str(l, n, "name");
	const char *type = get_str(l, n, "type");
	const char *bo = get_str(l, n, "byte-order");
	yaml_node_t *tv = get(l, n, "type-value");
	int64_t v;
	int t;

	if (!name)
		return fail(l, n, "attribute without a name");
	a->name = dup(l, name);
	v = get_int(l, n, "value", *next);
	if (v < 0 || v > 0x3fff)
		return fail(l, n, "attribute '%s' value %lld out of range", name, (long long)v);
	a->type = (uint16_t)v;
	*next = v + 1;
	if (type) {
		t = parse_type(type);
		if (t < 0)
			return fail(l, n, "attribute '%s' has unknown type '%s'", name, type);
		a->kind = (enum emnl_type)t;
	} else if (subset) {
		a->kind = EMNL_T_UNUSED; /* subset members take the parent's type */
	} else {
		return fail(l, n, "attribute '%s' has no type", name);
	}
	/* No message can carry attribute type 0: the kernel's strict parser and
	 * emnl_validate() both refuse it, so only a placeholder may take it. */
	if (!subset && a->type == 0 && a->kind != EMNL_T_UNUSED)
		return fail(l, n, "attribute '%s' has value 0, which only a 'type: unused' placeholder may take",
			    name);
	type = get_str(l, n, "sub-type");
	if (type) {
		t = parse_type(type);
		if (t < 0)
			return fail(l, n, "attribute '%s' has unknown sub-type '%s'", name, type);
		a->sub_kind = (enum emnl_type)t;
	}
	a->multi = get_bool(l, n, "multi-attr");
	a->enum_as_flags = get_bool(l, n, "enum-as-flags");
	load_checks(l, get(l, n, "checks"), a);
	a->byte_order_be = bo && !strcmp(bo, "big-endian");
	a->nested_name = dup(l, get_str(l, n, "nested-attributes"));
	a->enum_name = dup(l, get_str(l, n, "enum"));
	a->n_type_value = seq_len(tv);
	if (a->n_type_value > 4)
		return fail(l, n, "attribute '%s': more than 4 type-value levels", name);
	if (a->n_type_value) {
		a->type_value = zalloc(l, a->n_type_value, sizeof(char *));
		for (size_t i = 0; a->type_value && i < a->n_type_value; i++)
			a->type_value[i] = dup(l, scalar(seq_item(l, tv, i)));
	}
}

static void load_set(struct loader *l, yaml_node_t *n, struct emnl_attr_set *s)
{
	yaml_node_t *attrs = get(l, n, "attributes");
	int64_t next = 1;

	s->name = dup(l, get_str(l, n, "name"));
	if (!s->name)
		return fail(l, n, "attribute set without a name");
	s->subset_of = dup(l, get_str(l, n, "subset-of"));
	s->n = seq_len(attrs);
	s->attrs = zalloc(l, s->n, sizeof(*s->attrs));
	for (size_t i = 0; s->attrs && i < s->n && !l->failed; i++) {
		load_attr(l, seq_item(l, attrs, i), &s->attrs[i], &next, s->subset_of != NULL);
		s->attrs[i].set = s;
	}
}

/* ---- operations ----------------------------------------------------------- */

/* Read one direction ({value, attributes}); attribute names are resolved
 * later, so they are parked in a temporary array of strings. */
static void load_msg(struct loader *l, yaml_node_t *n, struct emnl_msg_spec *m, uint8_t dflt,
		     char ***names, size_t *cnt)
{
	yaml_node_t *attrs;
	int64_t v;

	if (!n)
		return;
	m->present = true;
	v = get_int(l, n, "value", dflt);
	if (v < 0 || v > 255)
		return fail(l, n, "command value %lld out of range", (long long)v);
	m->cmd = (uint8_t)v;
	attrs = get(l, n, "attributes");
	m->n = seq_len(attrs);
	*names = zalloc(l, m->n + 1, sizeof(char *));
	if (*names)
		*cnt = m->n;
	for (size_t i = 0; *names && i < m->n; i++)
		(*names)[i] = dup(l, scalar(seq_item(l, attrs, i)));
}

/* Parked attribute names of one operation, by direction, with their counts
 * (a name that is not a scalar leaves a NULL in its slot). */
struct op_names {
	char **n[5];
	size_t cnt[5];
};

static void load_op(struct loader *l, yaml_node_t *n, struct emnl_op *op, int64_t *next,
		    struct op_names *names)
{
	yaml_node_t *d = get(l, n, "do"), *u = get(l, n, "dump"), *ev = get(l, n, "event");
	int64_t v;

	op->name = dup(l, get_str(l, n, "name"));
	if (!op->name)
		return fail(l, n, "operation without a name");
	v = get_int(l, n, "value", *next);
	if (v < 0 || v > 255)
		return fail(l, n, "operation '%s' value %lld out of range", op->name, (long long)v);
	op->value = (uint8_t)v;
	*next = v + 1;
	op->set_name = dup(l, get_str(l, n, "attribute-set"));
	op->notify_name = dup(l, get_str(l, n, "notify"));
	op->mcgrp = dup(l, get_str(l, n, "mcgrp"));
	{
		yaml_node_t *flags = get(l, n, "flags");

		for (size_t i = 0; i < seq_len(flags); i++) {
			const char *f = scalar(seq_item(l, flags, i));

			if (f && !strcmp(f, "admin-perm"))
				op->admin_perm = true;
			else if (f && !strcmp(f, "uns-admin-perm"))
				op->uns_admin_perm = true;
		}
	}
	{
		yaml_node_t *dv = get(l, n, "dont-validate");

		for (size_t i = 0; i < seq_len(dv); i++) {
			const char *f = scalar(seq_item(l, dv, i));

			if (f && !strcmp(f, "strict"))
				op->dont_validate |= EMNL_DONT_VALIDATE_STRICT;
			else if (f && !strcmp(f, "dump"))
				op->dont_validate |= EMNL_DONT_VALIDATE_DUMP;
			else if (f && !strcmp(f, "dump-strict"))
				op->dont_validate |= EMNL_DONT_VALIDATE_DUMP_STRICT;
		}
	}
	op->has_do = d != NULL;
	op->has_dump = u != NULL;
	op->is_notify = op->notify_name != NULL;
	op->is_event = ev != NULL;
	load_msg(l, get(l, d, "request"), &op->do_req, op->value, &names->n[0], &names->cnt[0]);
	load_msg(l, get(l, d, "reply"), &op->do_rep, op->value, &names->n[1], &names->cnt[1]);
	load_msg(l, get(l, u, "request"), &op->dump_req, op->value, &names->n[2], &names->cnt[2]);
	load_msg(l, get(l, u, "reply"), &op->dump_rep, op->value, &names->n[3], &names->cnt[3]);
	load_msg(l, ev, &op->event, op->value, &names->n[4], &names->cnt[4]);
	/* A do or dump without a request still has a command number: the other
	 * direction's request value (directional specs number requests apart
	 * from the operation), else the operation's. */
	if (op->has_do && !op->do_req.present)
		op->do_req.cmd = op->dump_req.present ? op->dump_req.cmd : op->value;
	if (op->has_dump && !op->dump_req.present)
		op->dump_req.cmd = op->do_req.present ? op->do_req.cmd : op->value;
}

/* ---- resolution ----------------------------------------------------------- */

static void resolve_sets(struct loader *l, struct emnl_spec *s)
{
	for (size_t i = 0; i < s->n_sets && !l->failed; i++) {
		struct emnl_attr_set *set = &s->sets[i];
		const struct emnl_attr_set *parent = NULL;

		if (set->subset_of) {
			parent = emnl_spec_set(s, set->subset_of);
			if (!parent)
				return fail(l, NULL, "set '%s' is a subset of unknown set '%s'",
					    set->name, set->subset_of);
		}
		for (size_t j = 0; j < set->n; j++) {
			struct emnl_attr *a = &set->attrs[j];

			if (parent) {
				const struct emnl_attr *pa = emnl_set_attr(parent, a->name);

				if (!pa)
					return fail(l, NULL, "'%s' of subset '%s' is not in '%s'",
						    a->name, set->name, parent->name);
				a->type = pa->type;
				if (a->kind == EMNL_T_UNUSED)
					a->kind = pa->kind;
				if (!a->sub_kind)
					a->sub_kind = pa->sub_kind;
				a->multi = a->multi || pa->multi;
				a->enum_as_flags = a->enum_as_flags || pa->enum_as_flags;
				a->byte_order_be = a->byte_order_be || pa->byte_order_be;
				if (!a->nested_name && pa->nested_name)
					a->nested_name = dup(l, pa->nested_name);
				if (!a->enum_name && pa->enum_name)
					a->enum_name = dup(l, pa->enum_name);
				if (!a->max_len)
					a->max_len = pa->max_len;
				if (!a->has_min) {
					a->has_min = pa->has_min;
					a->min = pa->min;
				}
				if (!a->has_max) {
					a->has_max = pa->has_max;
					a->max = pa->max;
				}
			}
			if (a->type > set->max_type)
				set->max_type = a->type;
			if (a->kind == EMNL_T_PAD && !set->pad)
				set->pad = a;
		}
	}
	for (size_t i = 0; i < s->n_sets && !l->failed; i++) {
		struct emnl_attr_set *set = &s->sets[i];

		/* The decoder and validator look attributes up by number, JSON by
		 * name: each must name one attribute. */
		set->by_type = zalloc(l, (size_t)set->max_type + 1, sizeof(*set->by_type));
		for (size_t j = 0; set->by_type && j < set->n; j++) {
			const struct emnl_attr *a = &set->attrs[j], **slot = &set->by_type[a->type];

			if (*slot)
				return fail(l, NULL, "set '%s': '%s' and '%s' are both attribute %u",
					    set->name, (*slot)->name, a->name, a->type);
			*slot = a;
			for (size_t k = 0; k < j; k++)
				if (!strcmp(set->attrs[k].name, a->name))
					return fail(l, NULL, "set '%s' has two attributes named '%s'",
						    set->name, a->name);
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(s->sets[k].name, set->name))
				return fail(l, NULL, "two attribute sets are named '%s'", set->name);
		for (size_t j = 0; j < set->n; j++) {
			struct emnl_attr *a = &set->attrs[j];

			if (a->nested_name) {
				a->nested = emnl_spec_set(s, a->nested_name);
				if (!a->nested)
					return fail(l, NULL, "'%s' nests unknown set '%s'",
						    a->name, a->nested_name);
			}
			if ((a->kind == EMNL_T_NEST || a->kind == EMNL_T_NEST_TYPE_VALUE ||
			     (a->kind == EMNL_T_INDEXED_ARRAY && a->sub_kind == EMNL_T_NEST)) &&
			    !a->nested)
				return fail(l, NULL, "'%s' of '%s' needs nested-attributes",
					    a->name, set->name);
			if (a->kind == EMNL_T_INDEXED_ARRAY && !a->sub_kind)
				return fail(l, NULL, "indexed-array '%s' needs a sub-type", a->name);
			if (a->enum_name) {
				a->def = emnl_spec_def(s, a->enum_name);
				if (!a->def)
					return fail(l, NULL, "'%s' uses unknown enum '%s'",
						    a->name, a->enum_name);
			}
		}
	}
}

static void resolve_msg(struct loader *l, struct emnl_msg_spec *m, const struct emnl_attr_set *set,
			char **names, const char *opname)
{
	if (!m->present || !m->n)
		return;
	if (!set)
		return fail(l, NULL, "operation '%s' lists attributes but has no set", opname);
	m->attrs = zalloc(l, m->n, sizeof(*m->attrs));
	for (size_t i = 0; m->attrs && i < m->n; i++) {
		m->attrs[i] = names[i] ? emnl_set_attr(set, names[i]) : NULL;
		if (!m->attrs[i])
			return fail(l, NULL, "operation '%s' lists '%s', not in set '%s'", opname,
				    names[i] ? names[i] : "?", set->name);
	}
}

static void copy_msg(struct loader *l, struct emnl_msg_spec *dst, const struct emnl_msg_spec *src,
		     uint8_t cmd)
{
	dst->present = true;
	dst->cmd = cmd;
	dst->n = src->n;
	free(dst->attrs); /* an op with both notify: and event: had a list already */
	dst->attrs = zalloc(l, src->n, sizeof(*dst->attrs));
	if (dst->attrs && src->n)
		memcpy(dst->attrs, src->attrs, src->n * sizeof(*dst->attrs));
}

static void resolve_ops(struct loader *l, struct emnl_spec *s, struct op_names *names)
{
	for (size_t i = 0; i < s->n_ops && !l->failed; i++) {
		struct emnl_op *op = &s->ops[i];

		if (op->set_name) {
			op->set = emnl_spec_set(s, op->set_name);
			if (!op->set)
				return fail(l, NULL, "operation '%s' uses unknown set '%s'",
					    op->name, op->set_name);
		}
		resolve_msg(l, &op->do_req, op->set, names[i].n[0], op->name);
		resolve_msg(l, &op->do_rep, op->set, names[i].n[1], op->name);
		resolve_msg(l, &op->dump_req, op->set, names[i].n[2], op->name);
		resolve_msg(l, &op->dump_rep, op->set, names[i].n[3], op->name);
		resolve_msg(l, &op->event, op->set, names[i].n[4], op->name);
	}
	/* Notifications carry their target's do reply: resolved after all ops. */
	for (size_t i = 0; i < s->n_ops && !l->failed; i++) {
		struct emnl_op *op = &s->ops[i];
		const struct emnl_op *t;

		if (!op->notify_name)
			continue;
		t = emnl_spec_op(s, op->notify_name);
		if (!t)
			return fail(l, NULL, "'%s' notifies unknown operation '%s'", op->name,
				    op->notify_name);
		if (!op->set)
			op->set = t->set;
		copy_msg(l, &op->event, t->do_rep.present ? &t->do_rep : &t->dump_rep, op->value);
	}
	for (size_t i = 0; i < s->n_ops && !l->failed; i++) {
		const struct emnl_op *op = &s->ops[i];
		bool found = !op->mcgrp;

		for (size_t j = 0; j < s->n_mcgrps && !found; j++)
			found = !strcmp(s->mcgrps[j], op->mcgrp);
		if (!found)
			return fail(l, NULL, "'%s' uses unknown multicast group '%s'", op->name,
				    op->mcgrp);
	}
}

/* ---- top level ------------------------------------------------------------ */

static void load_root(struct loader *l, struct emnl_spec *s)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);
	yaml_node_t *defs, *sets, *ops, *ops_list, *grps;
	struct op_names *names = NULL;
	const char *model;
	int64_t next;

	if (!root || root->type != YAML_MAPPING_NODE)
		return fail(l, root, "not a YNL spec (the top level is not a mapping)");
	s->name = dup(l, get_str(l, root, "name"));
	if (!s->name)
		return fail(l, root, "spec without a family name");
	s->protocol = dup(l, get_str(l, root, "protocol"));
	if (!s->protocol)
		s->protocol = dup(l, "genetlink");
	if (s->protocol && strncmp(s->protocol, "genetlink", 9))
		return fail(l, get(l, root, "protocol"), "protocol '%s' is not generic netlink",
			    s->protocol);
	s->version = (uint32_t)get_int(l, root, "version", 1);

	defs = get(l, root, "definitions");
	s->n_defs = seq_len(defs);
	s->defs = zalloc(l, s->n_defs, sizeof(*s->defs));
	for (size_t i = 0; s->defs && i < s->n_defs && !l->failed; i++)
		load_def(l, seq_item(l, defs, i), &s->defs[i]);

	sets = get(l, root, "attribute-sets");
	s->n_sets = seq_len(sets);
	s->sets = zalloc(l, s->n_sets, sizeof(*s->sets));
	for (size_t i = 0; s->sets && i < s->n_sets && !l->failed; i++)
		load_set(l, seq_item(l, sets, i), &s->sets[i]);

	grps = list_of(l, get(l, root, "mcast-groups"));
	s->n_mcgrps = seq_len(grps);
	s->mcgrps = zalloc(l, s->n_mcgrps, sizeof(char *));
	for (size_t i = 0; s->mcgrps && i < s->n_mcgrps && !l->failed; i++) {
		yaml_node_t *g = seq_item(l, grps, i);
		const char *gn = scalar(g) ? scalar(g) : get_str(l, g, "name");

		if (!gn)
			return fail(l, g, "multicast group without a name");
		s->mcgrps[i] = dup(l, gn);
	}

	ops = get(l, root, "operations");
	ops_list = list_of(l, ops);
	model = get_str(l, ops, "enum-model");
	s->directional = model && !strcmp(model, "directional");
	s->n_ops = seq_len(ops_list);
	s->ops = zalloc(l, s->n_ops, sizeof(*s->ops));
	names = zalloc(l, s->n_ops, sizeof(*names));
	next = 1;
	for (size_t i = 0; s->ops && names && i < s->n_ops && !l->failed; i++)
		load_op(l, seq_item(l, ops_list, i), &s->ops[i], &next, &names[i]);

	if (!l->failed)
		resolve_sets(l, s);
	if (!l->failed)
		resolve_ops(l, s, names);
	for (size_t i = 0; names && i < s->n_ops; i++)
		for (int k = 0; k < 5; k++) {
			for (size_t j = 0; names[i].n[k] && j < names[i].cnt[k]; j++)
				free(names[i].n[k][j]);
			free(names[i].n[k]);
		}
	free(names);
}

/* Parser errors from libyaml carry their own position. */
static struct emnl_spec *parse(yaml_parser_t *p, const char *origin, struct emnl_error *e)
{
	struct loader l = {.e = e, .origin = origin};
	struct emnl_spec *s;

	spec_error(e, 0, NULL);
	if (!yaml_parser_load(p, &l.doc)) {
		spec_error(e, -EINVAL, "%s:%lu: %s", origin,
			       (unsigned long)p->problem_mark.line + 1,
			       p->problem ? p->problem : "YAML error");
		return NULL;
	}
	s = zalloc(&l, 1, sizeof(*s));
	if (s)
		load_root(&l, s);
	yaml_document_delete(&l.doc);
	if (l.failed) {
		emnl_spec_free(s);
		return NULL;
	}
	return s;
}

/* emnl_spec_parse - build a spec from YAML text. */
struct emnl_spec *emnl_spec_parse(const char *text, size_t len, struct emnl_error *e)
{
	yaml_parser_t p;
	struct emnl_spec *s;

	if (!yaml_parser_initialize(&p)) {
		spec_error(e, -ENOMEM, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	s = parse(&p, "<string>", e);
	yaml_parser_delete(&p);
	return s;
}

/* emnl_spec_load - build a spec from a YAML file. */
struct emnl_spec *emnl_spec_load(const char *path, struct emnl_error *e)
{
	yaml_parser_t p;
	struct emnl_spec *s;
	FILE *f = fopen(path, "r");

	if (!f) {
		spec_error(e, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		spec_error(e, -ENOMEM, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_file(&p, f);
	s = parse(&p, path, e);
	yaml_parser_delete(&p);
	fclose(f);
	return s;
}

static void free_msg(struct emnl_msg_spec *m)
{
	free(m->attrs);
}

/* emnl_spec_free - release everything. */
void emnl_spec_free(struct emnl_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->defs && i < s->n_defs; i++) {
		for (size_t j = 0; s->defs[i].names && j < s->defs[i].n; j++)
			free(s->defs[i].names[j]);
		free(s->defs[i].names);
		free(s->defs[i].values);
		free(s->defs[i].name);
	}
	free(s->defs);
	for (size_t i = 0; s->sets && i < s->n_sets; i++) {
		struct emnl_attr_set *set = &s->sets[i];

		for (size_t j = 0; set->attrs && j < set->n; j++) {
			struct emnl_attr *a = &set->attrs[j];

			free(a->name);
			free(a->nested_name);
			free(a->enum_name);
			for (size_t k = 0; a->type_value && k < a->n_type_value; k++)
				free(a->type_value[k]);
			free(a->type_value);
		}
		free(set->attrs);
		free(set->by_type);
		free(set->name);
		free(set->subset_of);
	}
	free(s->sets);
	for (size_t i = 0; s->ops && i < s->n_ops; i++) {
		struct emnl_op *op = &s->ops[i];

		free(op->name);
		free(op->set_name);
		free(op->notify_name);
		free(op->mcgrp);
		free_msg(&op->do_req);
		free_msg(&op->do_rep);
		free_msg(&op->dump_req);
		free_msg(&op->dump_rep);
		free_msg(&op->event);
	}
	free(s->ops);
	for (size_t i = 0; s->mcgrps && i < s->n_mcgrps; i++)
		free(s->mcgrps[i]);
	free(s->mcgrps);
	free(s->name);
	free(s->protocol);
	free(s);
}

/* ---- look-ups ------------------------------------------------------------- */

/* emnl_spec_set - the set named @name. */
const struct emnl_attr_set *emnl_spec_set(const struct emnl_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_sets; i++)
		if (s->sets[i].name && !strcmp(s->sets[i].name, name))
			return &s->sets[i];
	return NULL;
}

/* emnl_spec_op - the operation named @name. */
const struct emnl_op *emnl_spec_op(const struct emnl_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_ops; i++)
		if (s->ops[i].name && !strcmp(s->ops[i].name, name))
			return &s->ops[i];
	return NULL;
}

/* emnl_spec_def - the definition named @name. */
const struct emnl_def *emnl_spec_def(const struct emnl_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_defs; i++)
		if (s->defs[i].name && !strcmp(s->defs[i].name, name))
			return &s->defs[i];
	return NULL;
}

/* emnl_set_attr - the attribute of @set named @name. */
const struct emnl_attr *emnl_set_attr(const struct emnl_attr_set *set, const char *name)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (set->attrs[i].name && !strcmp(set->attrs[i].name, name))
			return &set->attrs[i];
	return NULL;
}

/* emnl_set_attr_by_type - the attribute of @set numbered @type. */
const struct emnl_attr *emnl_set_attr_by_type(const struct emnl_attr_set *set, uint16_t type)
{
	if (set && set->by_type)
		return type <= set->max_type ? set->by_type[type] : NULL;
	for (size_t i = 0; set && i < set->n; i++)
		if (set->attrs[i].type == type)
			return &set->attrs[i];
	return NULL;
}

/* Does @m carry command @cmd? */
static bool msg_is(const struct emnl_msg_spec *m, uint8_t cmd)
{
	return m->present && m->cmd == cmd;
}

/* emnl_spec_op_by_cmd - find the operation and direction of a command. */
const struct emnl_op *emnl_spec_op_by_cmd(const struct emnl_spec *s, uint8_t cmd, bool reply,
					  const struct emnl_msg_spec **msg)
{
	for (size_t i = 0; i < s->n_ops; i++) {
		const struct emnl_op *op = &s->ops[i];
		const struct emnl_msg_spec *m = NULL;

		if (!reply) {
			if ((op->has_do && op->do_req.cmd == cmd))
				m = &op->do_req;
			else if (op->has_dump && op->dump_req.cmd == cmd)
				m = &op->dump_req;
		} else {
			if (msg_is(&op->do_rep, cmd))
				m = &op->do_rep;
			else if (msg_is(&op->dump_rep, cmd))
				m = &op->dump_rep;
			else if (msg_is(&op->event, cmd))
				m = &op->event;
		}
		if (m) {
			if (msg)
				*msg = m;
			return op;
		}
	}
	return NULL;
}
