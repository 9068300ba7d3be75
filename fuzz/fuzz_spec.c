/*
 * libFuzzer target: lib/nl's YNL spec loader, emnl_spec_parse().
 *
 * Any text must either load or fail with a negative errno and a message; it
 * must never crash, leak or read past the buffer (the input comes in a heap
 * block of exactly its size, not NUL-terminated). A spec that loads must be
 * internally consistent, since every other part of lib/nl trusts it:
 *   - each attribute is found again by its name and by its number in its set,
 *     and points back at that set; resolved references (nested sets, enums)
 *     are non-NULL when named;
 *   - each request direction an operation lists is found again by command;
 *   - the request generator (reqgen.c) can build valid requests for it, and
 *     lib/nl's strict validation accepts them — the loader and the validator
 *     agree on what the spec means.
 * A broken invariant aborts with what was wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emkit/nl.h"
#include "reqgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const struct emnl_spec *s, const char *what, const char *name)
{
	fprintf(stderr, "fuzz-spec: family '%s': %s: %s\n", s ? s->name : "?", what,
		name ? name : "");
	abort();
}

static void check_sets(const struct emnl_spec *s)
{
	for (size_t i = 0; i < s->n_sets; i++) {
		const struct emnl_attr_set *set = &s->sets[i];

		if (emnl_spec_set(s, set->name) == NULL)
			die(s, "set not found by its name", set->name);
		for (size_t a = 0; a < set->n; a++) {
			const struct emnl_attr *at = &set->attrs[a];

			if (at->set != set)
				die(s, "attribute does not point at its set", at->name);
			if (at->type > set->max_type)
				die(s, "attribute number above the set's max_type", at->name);
			if (emnl_set_attr_by_type(set, at->type) == NULL)
				die(s, "attribute not found by number", at->name);
			if (emnl_set_attr(set, at->name) == NULL)
				die(s, "attribute not found by name", at->name);
			if (at->nested_name && !at->nested)
				die(s, "nested-attributes left unresolved", at->name);
			if (at->enum_name && !at->def)
				die(s, "enum left unresolved", at->name);
		}
	}
}

static void check_ops(const struct emnl_spec *s)
{
	for (size_t i = 0; i < s->n_ops; i++) {
		const struct emnl_op *op = &s->ops[i];
		const struct emnl_msg_spec *m = NULL;

		if (emnl_spec_op(s, op->name) == NULL)
			die(s, "operation not found by its name", op->name);
		if ((op->do_req.n || op->dump_req.n) && !op->set)
			die(s, "request attributes without an attribute set", op->name);
		if (op->has_do && op->do_req.present &&
		    !emnl_spec_op_by_cmd(s, op->do_req.cmd, false, &m))
			die(s, "do request not found by command", op->name);
		for (size_t a = 0; a < op->do_req.n; a++)
			if (!op->do_req.attrs[a])
				die(s, "do request lists a NULL attribute", op->name);
	}
}

/* Generate valid requests from the spec and have them validated. */
static void check_generated(const struct emnl_spec *s, const uint8_t *data, size_t size)
{
	static uint8_t buf[EMNL_DGRAM_MAX] __attribute__((aligned(8)));
	struct rg_src src;

	/* An empty enum has no value a request could carry. */
	for (size_t i = 0; i < s->n_defs; i++)
		if (s->defs[i].kind == EMNL_DEF_ENUM && s->defs[i].n == 0)
			return;
	if (!rg_valid_possible(s))
		return;
	rg_src_bytes(&src, data, size);
	for (int k = 0; k < 4; k++) {
		struct rg_req r;
		struct emnl_error e;
		size_t len = rg_generate(&src, s, 0x20, RG_MUT_NONE, buf, sizeof(buf), &r);

		if (!len)
			return;
		/* Two operations with the same request command make the command
		 * ambiguous: the validator then checks against the first. */
		if (emnl_spec_op_by_cmd(s, ((const uint8_t *)buf)[16], false, NULL) != r.op)
			continue;
		if (emnl_validate(s, (const struct nlmsghdr *)buf, len, false, NULL, 0, NULL, &e)) {
			fprintf(stderr, "fuzz-spec: %s\n", e.msg);
			die(s, "a request generated from the spec is refused by validation",
			    r.op->name);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emnl_error e;
	char *text = malloc(size ? size : 1);
	struct emnl_spec *s;

	if (!text)
		abort();
	memcpy(text, data, size);
	s = emnl_spec_parse(text, size, &e);
	if (!s) {
		if (e.err >= 0 || !e.msg[0])
			die(NULL, "refused without an errno and a message", e.msg);
		free(text);
		return 0;
	}
	check_sets(s);
	check_ops(s);
	check_generated(s, data, size);
	emnl_spec_free(s);
	free(text);
	return 0;
}
