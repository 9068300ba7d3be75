/*
 * JSON in both directions with json-c, in the shape the kernel's `ynl` CLI
 * prints with --output-json, so that output from emctl and from ynl can be
 * compared as data: keys are the spec's attribute names, enum values appear
 * by name, flags as lists of names, multi-attrs as lists, nests as objects,
 * indexed arrays as lists ({index: object} for nests), nest-type-value as one
 * object holding the type-value names and the nested attributes, binaries
 * as hex strings, flag attributes as true. Parsing accepts that shape back
 * (numbers may also be given as numbers where a name would do) and builds a
 * value tree checked against the attribute set, naming the key at fault.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "emkit/nl.h"
#include "nl_internal.h"

/* ---- to JSON -------------------------------------------------------------- */

static json_object *value_to_json(const struct emnl_value *v);

/* An unsigned number, by name when the attribute has an enum. */
static json_object *uint_to_json(const struct emnl_attr *a, uint64_t u)
{
	const struct emnl_def *d = a ? a->def : NULL;

	if (d && emnl_attr_is_flags(a)) {
		json_object *arr = json_object_new_array();
		uint64_t rest = u;

		for (size_t i = 0; i < d->n; i++) {
			uint64_t bit = d->kind == EMNL_DEF_FLAGS ? d->values[i] : 1ULL << d->values[i];

			if (u & bit) {
				json_object_array_add(arr, json_object_new_string(d->names[i]));
				rest &= ~bit;
			}
		}
		for (unsigned b = 0; b < 64; b++) /* bits the spec does not name */
			if (rest & (1ULL << b))
				json_object_array_add(arr, json_object_new_uint64(1ULL << b));
		return arr;
	}
	if (d && d->kind == EMNL_DEF_ENUM)
		for (size_t i = 0; i < d->n; i++)
			if (d->values[i] == u)
				return json_object_new_string(d->names[i]);
	return json_object_new_uint64(u);
}

/* Lower-case hex of @len bytes. */
static json_object *hex_to_json(const uint8_t *p, size_t len)
{
	char *s = malloc(len * 2 + 1);
	json_object *j;

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[len * 2] = '\0';
	j = json_object_new_string(s);
	free(s);
	return j;
}

/* An indexed array: a list of its elements. */
static json_object *array_to_json(const struct emnl_attrs *a)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; a && i < a->n; i++) {
		const struct emnl_value *el = &a->v[i];

		if (el->kind == EMNL_T_NEST) {
			json_object *wrap = json_object_new_object();
			char key[8];

			snprintf(key, sizeof(key), "%u", el->type);
			json_object_object_add(wrap, key, emnl_to_json(el->nest));
			json_object_array_add(arr, wrap);
		} else {
			json_object_array_add(arr, value_to_json(el));
		}
	}
	return arr;
}

static json_object *value_to_json(const struct emnl_value *v)
{
	switch (v->kind) {
	case EMNL_T_FLAG:
		return json_object_new_boolean(1);
	case EMNL_T_STRING:
		return json_object_new_string_len(v->bytes.ptr, (int)v->bytes.len);
	case EMNL_T_BINARY:
		return hex_to_json((const uint8_t *)v->bytes.ptr, v->bytes.len);
	case EMNL_T_NEST:
		return emnl_to_json(v->nest);
	case EMNL_T_INDEXED_ARRAY:
		return array_to_json(v->nest);
	case EMNL_T_NEST_TYPE_VALUE: {
		json_object *o = emnl_to_json(v->nest);

		for (size_t i = 0; v->attr && i < v->attr->n_type_value; i++)
			json_object_object_add(o, v->attr->type_value[i],
					       json_object_new_uint64(v->tv[i]));
		return o;
	}
	case EMNL_T_BITFIELD32: {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "value", uint_to_json(v->attr, (uint32_t)v->u));
		json_object_object_add(o, "selector", uint_to_json(v->attr, v->u >> 32));
		return o;
	}
	default:
		if (emnl_kind_signed(v->kind))
			return json_object_new_int64(v->s);
		return uint_to_json(v->attr, v->u);
	}
}

/* emnl_to_json - a value tree as a JSON object. */
struct json_object *emnl_to_json(const struct emnl_attrs *a)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; a && i < a->n; i++) {
		const struct emnl_value *v = &a->v[i];
		char num[8];
		const char *key = v->attr ? v->attr->name : num;
		json_object *j;

		if (v->kind == EMNL_T_PAD)
			continue;
		if (!v->attr)
			snprintf(num, sizeof(num), "%u", v->type);
		j = value_to_json(v);
		if (v->attr && v->attr->multi) {
			json_object *list;

			if (!json_object_object_get_ex(o, key, &list)) {
				list = json_object_new_array();
				json_object_object_add(o, key, list);
			}
			json_object_array_add(list, j);
		} else {
			json_object_object_add(o, key, j); /* a repeat replaces, as in the kernel */
		}
	}
	return o;
}

/* ---- from JSON ------------------------------------------------------------ */

static int attrs_from_json(json_object *j, const struct emnl_attr_set *set,
			   struct emnl_attrs *out, const char *path, struct emnl_error *e);

/* An unsigned number from a number, a numeric string, an enum name, or a
 * list of flag names. */
static int uint_from_json(json_object *j, const struct emnl_attr *a, uint64_t *out,
			  const char *key, struct emnl_error *e)
{
	const struct emnl_def *d = a ? a->def : NULL;

	switch (json_object_get_type(j)) {
	case json_type_int:
		if (json_object_get_int64(j) < 0)
			return emnl_error_set(e, -ERANGE, "'%s': negative value for an unsigned attribute",
					      key);
		*out = json_object_get_uint64(j);
		return 0;
	case json_type_string: {
		const char *s = json_object_get_string(j);
		char *end;

		for (size_t i = 0; d && i < d->n; i++)
			if (!strcmp(d->names[i], s)) {
				*out = emnl_attr_is_flags(a) && d->kind != EMNL_DEF_FLAGS
					       ? 1ULL << d->values[i] : d->values[i];
				return 0;
			}
		errno = 0;
		*out = strtoull(s, &end, 0);
		if (*s && !*end && !errno && *s != '-')
			return 0;
		return emnl_error_set(e, -EINVAL, "'%s': '%s' is not a number%s%s", key, s,
				      d ? " nor a value of " : "", d ? d->name : "");
	}
	case json_type_array:
		if (!emnl_attr_is_flags(a))
			return emnl_error_set(e, -EINVAL, "'%s': a list is only valid for flags", key);
		*out = 0;
		for (size_t i = 0; i < json_object_array_length(j); i++) {
			uint64_t bit;
			int err = uint_from_json(json_object_array_get_idx(j, i), a, &bit, key, e);

			if (err)
				return err;
			*out |= bit;
		}
		return 0;
	default:
		return emnl_error_set(e, -EINVAL, "'%s': expected a number", key);
	}
}

/* Decode a hex string into a new buffer. */
static int hex_from_json(json_object *j, char **out, size_t *len, const char *key,
			 struct emnl_error *e)
{
	const char *s;
	size_t n;

	if (json_object_get_type(j) != json_type_string)
		return emnl_error_set(e, -EINVAL, "'%s': expected a hex string", key);
	s = json_object_get_string(j);
	n = strlen(s);
	if (n % 2)
		return emnl_error_set(e, -EINVAL, "'%s': odd number of hex digits", key);
	*out = malloc(n / 2 + 1);
	if (!*out)
		return emnl_error_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1])) {
			free(*out);
			return emnl_error_set(e, -EINVAL, "'%s': '%s' is not hex", key, s);
		}
		(*out)[i] = (char)b;
	}
	*len = n / 2;
	return 0;
}

/* Parse one element of an indexed array at position @idx (from 1). */
static int elem_from_json(json_object *j, const struct emnl_attr *a, uint16_t idx,
			  struct emnl_attrs *arr, const char *key, struct emnl_error *e)
{
	struct emnl_value v = {.type = idx, .kind = a->sub_kind};
	int err;

	if (a->sub_kind == EMNL_T_NEST) {
		json_object *inner = j;

		if (json_object_get_type(j) != json_type_object)
			return emnl_error_set(e, -EINVAL, "'%s': elements must be objects", key);
		/* {"3": {...}} keeps ynl's index; a bare object takes its position. */
		if (json_object_object_length(j) == 1) {
			json_object_object_foreach(j, k, val) {
				char *end;
				unsigned long n = strtoul(k, &end, 10);

				if (!*end && n > 0 && n < 0x4000 &&
				    json_object_get_type(val) == json_type_object) {
					v.type = (uint16_t)n;
					inner = val;
				}
			}
		}
		v.nest = emnl_attrs_new(a->nested);
		if (!v.nest)
			return emnl_error_set(e, -ENOMEM, "out of memory");
		err = attrs_from_json(inner, a->nested, v.nest, key, e);
		if (!err)
			err = emnl_attrs_add_value(arr, &v);
		if (err)
			emnl_attrs_free(v.nest);
		return err;
	}
	if (a->sub_kind == EMNL_T_STRING || a->sub_kind == EMNL_T_BINARY) {
		if (a->sub_kind == EMNL_T_STRING) {
			if (json_object_get_type(j) != json_type_string)
				return emnl_error_set(e, -EINVAL, "'%s': expected strings", key);
			v.bytes.ptr = (char *)json_object_get_string(j);
			v.bytes.len = strlen(v.bytes.ptr);
			return emnl_attrs_add_value(arr, &v);
		}
		err = hex_from_json(j, &v.bytes.ptr, &v.bytes.len, key, e);
		if (err)
			return err;
		err = emnl_attrs_add_value(arr, &v);
		free(v.bytes.ptr);
		return err;
	}
	if (emnl_kind_signed(a->sub_kind)) {
		if (json_object_get_type(j) != json_type_int)
			return emnl_error_set(e, -EINVAL, "'%s': expected numbers", key);
		v.s = json_object_get_int64(j);
	} else {
		err = uint_from_json(j, NULL, &v.u, key, e);
		if (err)
			return err;
	}
	return emnl_attrs_add_value(arr, &v);
}

/* Add one JSON value as attribute @a to @out. */
static int one_from_json(json_object *j, const struct emnl_attr *a, struct emnl_attrs *out,
			 const char *key, struct emnl_error *e)
{
	struct emnl_attrs *child;
	int err;

	switch (a->kind) {
	case EMNL_T_FLAG:
		if (json_object_get_type(j) != json_type_boolean)
			return emnl_error_set(e, -EINVAL, "'%s': expected true or false", key);
		return json_object_get_boolean(j) ? emnl_attrs_add_flag(out, a->name) : 0;
	case EMNL_T_STRING:
		if (json_object_get_type(j) != json_type_string)
			return emnl_error_set(e, -EINVAL, "'%s': expected a string", key);
		return emnl_attrs_add_str(out, a->name, json_object_get_string(j));
	case EMNL_T_BINARY: {
		char *p;
		size_t len;

		err = hex_from_json(j, &p, &len, key, e);
		if (err)
			return err;
		err = emnl_attrs_add_bin(out, a->name, p, len);
		free(p);
		return err;
	}
	case EMNL_T_NEST:
		if (json_object_get_type(j) != json_type_object)
			return emnl_error_set(e, -EINVAL, "'%s': expected an object", key);
		err = emnl_attrs_add_nest(out, a->name, &child);
		return err ? err : attrs_from_json(j, a->nested, child, key, e);
	case EMNL_T_INDEXED_ARRAY:
		if (json_object_get_type(j) != json_type_array)
			return emnl_error_set(e, -EINVAL, "'%s': expected a list", key);
		err = emnl_attrs_add_nest(out, a->name, &child);
		for (size_t i = 0; !err && i < json_object_array_length(j); i++)
			err = elem_from_json(json_object_array_get_idx(j, i), a, (uint16_t)(i + 1),
					     child, key, e);
		return err;
	case EMNL_T_NEST_TYPE_VALUE: {
		json_object *rest;
		struct emnl_value *nv;

		if (json_object_get_type(j) != json_type_object)
			return emnl_error_set(e, -EINVAL, "'%s': expected an object", key);
		err = emnl_attrs_add_nest(out, a->name, &child);
		if (err)
			return err;
		nv = &out->v[out->n - 1];
		rest = json_object_new_object();
		json_object_object_foreach(j, k, val) {
			bool level = false;

			for (size_t i = 0; i < a->n_type_value; i++)
				if (!strcmp(k, a->type_value[i])) {
					uint64_t t = 0;

					err = uint_from_json(val, NULL, &t, k, e);
					if (!err && (t == 0 || t > 0x3fff))
						err = emnl_error_set(e, -ERANGE, "'%s': %" PRIu64
								     " is not an attribute type", k, t);
					nv->tv[i] = (uint32_t)t;
					level = true;
				}
			if (!level)
				json_object_object_add(rest, k, json_object_get(val));
		}
		if (!err)
			err = attrs_from_json(rest, a->nested, child, key, e);
		json_object_put(rest);
		return err;
	}
	case EMNL_T_BITFIELD32: {
		json_object *val, *sel;
		uint64_t x = 0, y = 0;

		if (json_object_get_type(j) == json_type_object &&
		    json_object_object_get_ex(j, "value", &val) &&
		    json_object_object_get_ex(j, "selector", &sel)) {
			err = uint_from_json(val, a, &x, key, e);
			if (!err)
				err = uint_from_json(sel, a, &y, key, e);
		} else {
			err = uint_from_json(j, a, &x, key, e);
			y = x;
		}
		if (err)
			return err;
		if (x > UINT32_MAX || y > UINT32_MAX)
			return emnl_error_set(e, -ERANGE, "'%s': value out of range", key);
		return emnl_attrs_add_uint(out, a->name, x | y << 32);
	}
	case EMNL_T_PAD:
	case EMNL_T_UNUSED:
		return emnl_error_set(e, -EINVAL, "'%s' cannot be given a value", key);
	default:
		if (emnl_kind_signed(a->kind)) {
			if (json_object_get_type(j) != json_type_int)
				return emnl_error_set(e, -EINVAL, "'%s': expected a number", key);
			err = emnl_attrs_add_sint(out, a->name, json_object_get_int64(j));
		} else {
			uint64_t u;

			err = uint_from_json(j, a, &u, key, e);
			if (err)
				return err;
			err = emnl_attrs_add_uint(out, a->name, u);
		}
		if (err == -ERANGE)
			return emnl_error_set(e, err, "'%s': value out of range for %s", key,
					      emnl_type_name(a->kind));
		return err;
	}
}

static int attrs_from_json(json_object *j, const struct emnl_attr_set *set,
			   struct emnl_attrs *out, const char *path, struct emnl_error *e)
{
	if (json_object_get_type(j) != json_type_object)
		return emnl_error_set(e, -EINVAL, "%s%sexpected an object", path ? path : "",
				      path ? ": " : "");
	json_object_object_foreach(j, key, val) {
		const struct emnl_attr *a = emnl_set_attr(set, key);
		int err = 0;

		if (!a)
			return emnl_error_set(e, -ENOENT, "'%s' is not an attribute of '%s'", key,
					      set ? set->name : "?");
		if (a->multi && json_object_get_type(val) == json_type_array &&
		    a->kind != EMNL_T_INDEXED_ARRAY && !emnl_attr_is_flags(a)) {
			for (size_t i = 0; !err && i < json_object_array_length(val); i++)
				err = one_from_json(json_object_array_get_idx(val, i), a, out, key, e);
		} else {
			err = one_from_json(val, a, out, key, e);
		}
		if (err) {
			if (e && !e->msg[0])
				emnl_error_set(e, err, "'%s': %s", key, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* emnl_from_json - a request tree from JSON. */
int emnl_from_json(const struct json_object *j, const struct emnl_attr_set *set,
		   struct emnl_attrs **out, struct emnl_error *e)
{
	struct emnl_attrs *a = emnl_attrs_new(set);
	int err;

	emnl_error_clear(e);
	*out = NULL;
	if (!a)
		return emnl_error_set(e, -ENOMEM, "out of memory");
	/* json-c takes non-const objects even to read them. */
	err = attrs_from_json((json_object *)j, set, a, NULL, e);
	if (err) {
		emnl_attrs_free(a);
		return err;
	}
	*out = a;
	return 0;
}
