/*
 * Typed value trees. A struct emnl_attrs is what the codec encodes from and
 * decodes into and what the JSON layer converts: an ordered list of
 * attributes, each tied to its spec attribute, with nests owning their
 * children. Builders take attribute names and check the value fits the
 * attribute's type (the spec's kind tables), so a request built by hand or
 * from JSON cannot encode into something the spec does not allow. Decoded
 * trees live in an arena (arena.c); lists built here grow on the heap.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "emkit/nl.h"
#include "nl_internal.h"

/* Values a new list holds before it needs a second allocation. */
#define INLINE_VALUES 4

/* emnl_attrs_new - an empty list, with room for a few values inline. */
struct emnl_attrs *emnl_attrs_new(const struct emnl_attr_set *set)
{
	struct emnl_attrs *a = malloc(sizeof(*a) + INLINE_VALUES * sizeof(struct emnl_value));

	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->set = set;
	a->v = (struct emnl_value *)(a + 1);
	a->cap = INLINE_VALUES;
	a->self_owned = true;
	return a;
}

/* emnl_attrs_init - an empty list in caller-owned storage. */
void emnl_attrs_init(struct emnl_attrs *a, const struct emnl_attr_set *set,
		     struct emnl_value *storage, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->set = set;
	a->v = storage;
	a->cap = storage ? cap : 0;
}

static void value_release(struct emnl_value *v)
{
	switch (v->kind) {
	case EMNL_T_STRING:
	case EMNL_T_BINARY:
		if (!v->borrowed)
			free(v->bytes.ptr);
		break;
	case EMNL_T_NEST:
	case EMNL_T_INDEXED_ARRAY:
	case EMNL_T_NEST_TYPE_VALUE:
		emnl_attrs_free(v->nest);
		break;
	default:
		break;
	}
}

/* emnl_attrs_free - free @a and its nests. */
void emnl_attrs_free(struct emnl_attrs *a)
{
	if (!a)
		return;
	void *arena = a->arena;

	for (size_t i = 0; i < a->n; i++)
		value_release(&a->v[i]);
	if (a->v_owned)
		free(a->v);
	if (a->self_owned)
		free(a);
	emnl_arena_free(arena); /* last: the root itself may live in it */
}

/* emnl_attrs_get - first value named @name. */
const struct emnl_value *emnl_attrs_get(const struct emnl_attrs *a, const char *name)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (a->v[i].attr && !strcmp(a->v[i].attr->name, name))
			return &a->v[i];
	return NULL;
}

/* emnl_attrs_count - occurrences of @name. */
size_t emnl_attrs_count(const struct emnl_attrs *a, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; a && i < a->n; i++)
		if (a->v[i].attr && !strcmp(a->v[i].attr->name, name))
			n++;
	return n;
}

/* Make room for one more value; returns it zeroed, or NULL. */
static struct emnl_value *grow(struct emnl_attrs *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct emnl_value *v;

		if (a->v_owned) {
			v = realloc(a->v, cap * sizeof(*v));
		} else {
			/* Inline or arena storage cannot grow in place. */
			v = malloc(cap * sizeof(*v));
			if (v && a->n)
				memcpy(v, a->v, a->n * sizeof(*v));
		}
		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
		a->v_owned = true;
	}
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	return &a->v[a->n++];
}

/* emnl_attrs_add_value - append a copy of @v (nest ownership moves). */
int emnl_attrs_add_value(struct emnl_attrs *a, const struct emnl_value *v)
{
	struct emnl_value *d;
	char *copy = NULL;

	if ((v->kind == EMNL_T_STRING || v->kind == EMNL_T_BINARY)) {
		copy = malloc(v->bytes.len + 1);
		if (!copy)
			return -ENOMEM;
		if (v->bytes.len)
			memcpy(copy, v->bytes.ptr, v->bytes.len);
		copy[v->bytes.len] = '\0';
	}
	d = grow(a);
	if (!d) {
		free(copy);
		return -ENOMEM;
	}
	*d = *v;
	d->borrowed = false;
	if (copy)
		d->bytes.ptr = copy;
	return 0;
}

/* Find @name in @a's set; the attribute must be one of @kinds' family. */
static const struct emnl_attr *lookup(const struct emnl_attrs *a, const char *name)
{
	return a->set ? emnl_set_attr(a->set, name) : NULL;
}

/* Does unsigned @v fit attribute kind @k? */
static bool fits_unsigned(enum emnl_type k, uint64_t v)
{
	unsigned w = emnl_kind_width(k);

	if (k == EMNL_T_UINT || k == EMNL_T_BITFIELD32)
		return true;
	if (k == EMNL_T_FLAG)
		return v == 1;
	return w == 8 || v < (1ULL << (w * 8));
}

/* A value of attribute @at, its payload still to be set. */
static struct emnl_value value_of(const struct emnl_attr *at)
{
	return (struct emnl_value){.attr = at, .type = at->type, .kind = at->kind};
}

/* emnl_attrs_add_uint - append an unsigned number. */
int emnl_attrs_add_uint(struct emnl_attrs *a, const char *name, uint64_t v)
{
	const struct emnl_attr *at = lookup(a, name);
	struct emnl_value val;

	if (!at)
		return -ENOENT;
	if (emnl_kind_signed(at->kind))
		return emnl_attrs_add_sint(a, name, (int64_t)v);
	if (!(emnl_kind_width(at->kind) || at->kind == EMNL_T_UINT || at->kind == EMNL_T_FLAG))
		return -EINVAL;
	if (!fits_unsigned(at->kind, v))
		return -ERANGE;
	val = value_of(at);
	val.u = v;
	return emnl_attrs_add_value(a, &val);
}

/* emnl_attrs_add_sint - append a signed number. */
int emnl_attrs_add_sint(struct emnl_attrs *a, const char *name, int64_t v)
{
	const struct emnl_attr *at = lookup(a, name);
	struct emnl_value val;
	unsigned w;

	if (!at)
		return -ENOENT;
	if (!emnl_kind_signed(at->kind)) {
		if (v < 0)
			return -ERANGE;
		return emnl_attrs_add_uint(a, name, (uint64_t)v);
	}
	w = emnl_kind_width(at->kind);
	if (w && w < 8) {
		int64_t lim = 1LL << (w * 8 - 1);

		if (v < -lim || v >= lim)
			return -ERANGE;
	}
	val = value_of(at);
	val.s = v;
	return emnl_attrs_add_value(a, &val);
}

static int add_bytes(struct emnl_attrs *a, const char *name, const void *p, size_t len,
		     enum emnl_type want)
{
	const struct emnl_attr *at = lookup(a, name);
	struct emnl_value val;

	if (!at)
		return -ENOENT;
	if (at->kind != want)
		return -EINVAL;
	val = value_of(at);
	val.bytes.ptr = (char *)p;
	val.bytes.len = len;
	return emnl_attrs_add_value(a, &val);
}

/* emnl_attrs_add_str - append a string. */
int emnl_attrs_add_str(struct emnl_attrs *a, const char *name, const char *s)
{
	return add_bytes(a, name, s, strlen(s), EMNL_T_STRING);
}

/* emnl_attrs_add_str_ref - append a string the caller keeps alive. */
int emnl_attrs_add_str_ref(struct emnl_attrs *a, const char *name, const char *s)
{
	const struct emnl_attr *at = lookup(a, name);
	struct emnl_value *d;

	if (!at)
		return -ENOENT;
	if (at->kind != EMNL_T_STRING)
		return -EINVAL;
	d = grow(a);
	if (!d)
		return -ENOMEM;
	*d = value_of(at);
	d->bytes.ptr = (char *)s;
	d->bytes.len = strlen(s);
	d->borrowed = true;
	return 0;
}

/* emnl_attrs_add_bin - append a binary. */
int emnl_attrs_add_bin(struct emnl_attrs *a, const char *name, const void *p, size_t len)
{
	return add_bytes(a, name, p, len, EMNL_T_BINARY);
}

/* emnl_attrs_add_flag - append a flag attribute. */
int emnl_attrs_add_flag(struct emnl_attrs *a, const char *name)
{
	const struct emnl_attr *at = lookup(a, name);

	if (!at)
		return -ENOENT;
	if (at->kind != EMNL_T_FLAG)
		return -EINVAL;
	return emnl_attrs_add_uint(a, name, 1);
}

/* emnl_attrs_add_nest - append a nest; *child receives its empty list. */
int emnl_attrs_add_nest(struct emnl_attrs *a, const char *name, struct emnl_attrs **child)
{
	const struct emnl_attr *at = lookup(a, name);
	struct emnl_value val;
	int err;

	if (!at)
		return -ENOENT;
	if (at->kind != EMNL_T_NEST && at->kind != EMNL_T_INDEXED_ARRAY &&
	    at->kind != EMNL_T_NEST_TYPE_VALUE)
		return -EINVAL;
	val = value_of(at);
	val.nest = emnl_attrs_new(at->kind == EMNL_T_INDEXED_ARRAY ? NULL : at->nested);
	if (!val.nest)
		return -ENOMEM;
	if (at->kind == EMNL_T_INDEXED_ARRAY)
		val.nest->array_of = at;
	err = emnl_attrs_add_value(a, &val);
	if (err) {
		emnl_attrs_free(val.nest);
		return err;
	}
	*child = val.nest;
	return 0;
}
