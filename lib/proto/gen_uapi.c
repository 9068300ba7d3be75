/*
 * gen-uapi: a YNL spec to a uapi-style C header, at build time.
 *
 * The numbers a generic netlink family puts on the wire are the spec's:
 * this tool reads the spec with lib/nl's own loader (so the numbers are
 * assigned exactly as everything else in emkit assigns them) and writes
 * them in the form the kernel generates include/uapi/linux/<family>.h:
 *
 *   #define DEV_ENERGYMODEL_FAMILY_NAME "dev-energymodel"
 *   enum dev_energymodel_perf_domain_flags { ..._MICROWATTS = 1, ... };
 *   enum { DEV_ENERGYMODEL_A_PERF_DOMAIN_PAD = 1, ..., __..._MAX, ..._MAX = ... };
 *   enum { DEV_ENERGYMODEL_CMD_GET_PERF_DOMAINS = 1, ... };
 *   #define DEV_ENERGYMODEL_MCGRP_EVENT "event"
 *
 * Every entry carries its value, and the include guard is the kernel
 * header's, so a program may include either (they agree) but not both twice.
 *
 * Usage: gen-uapi SPEC.yaml OUT.h
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emkit/nl.h"

/* @s in C identifier form: upper case (or lower), '-' and '.' as '_'. */
static void ident(char *out, size_t size, const char *s, bool upper)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++)
		out[n++] = (char)(*s == '-' || *s == '.' ? '_'
				  : upper ? toupper((unsigned char)*s) : tolower((unsigned char)*s));
	out[n] = '\0';
}

static void emit_defs(FILE *f, const struct emnl_spec *s, const char *fam_u, const char *fam_l)
{
	char name_u[128], name_l[128], ent[128];

	for (size_t i = 0; i < s->n_defs; i++) {
		const struct emnl_def *d = &s->defs[i];

		if (d->kind != EMNL_DEF_ENUM && d->kind != EMNL_DEF_FLAGS)
			continue;
		ident(name_u, sizeof(name_u), d->name, true);
		ident(name_l, sizeof(name_l), d->name, false);
		fprintf(f, "enum %s_%s {\n", fam_l, name_l);
		for (size_t j = 0; j < d->n; j++) {
			ident(ent, sizeof(ent), d->names[j], true);
			if (d->kind == EMNL_DEF_FLAGS)
				fprintf(f, "\t%s_%s_%s = 0x%llx,\n", fam_u, name_u, ent,
					(unsigned long long)d->values[j]);
			else
				fprintf(f, "\t%s_%s_%s = %llu,\n", fam_u, name_u, ent,
					(unsigned long long)d->values[j]);
		}
		fprintf(f, "};\n\n");
	}
}

static void emit_sets(FILE *f, const struct emnl_spec *s, const char *fam_u)
{
	char set_u[128], at[128];

	for (size_t i = 0; i < s->n_sets; i++) {
		const struct emnl_attr_set *set = &s->sets[i];

		if (set->subset_of)
			continue; /* a subset's numbers are its parent's */
		ident(set_u, sizeof(set_u), set->name, true);
		fprintf(f, "enum {\n");
		for (size_t j = 0; j < set->n; j++) {
			ident(at, sizeof(at), set->attrs[j].name, true);
			fprintf(f, "\t%s_A_%s_%s = %u,\n", fam_u, set_u, at, set->attrs[j].type);
		}
		fprintf(f, "\n\t__%s_A_%s_MAX,\n", fam_u, set_u);
		fprintf(f, "\t%s_A_%s_MAX = (__%s_A_%s_MAX - 1)\n};\n\n", fam_u, set_u, fam_u, set_u);
	}
}

static void emit_ops(FILE *f, const struct emnl_spec *s, const char *fam_u)
{
	char op[128];

	fprintf(f, "enum {\n");
	for (size_t i = 0; i < s->n_ops; i++) {
		ident(op, sizeof(op), s->ops[i].name, true);
		fprintf(f, "\t%s_CMD_%s = %u,\n", fam_u, op, s->ops[i].value);
	}
	fprintf(f, "\n\t__%s_CMD_MAX,\n", fam_u);
	fprintf(f, "\t%s_CMD_MAX = (__%s_CMD_MAX - 1)\n};\n\n", fam_u, fam_u);
	for (size_t i = 0; i < s->n_mcgrps; i++) {
		ident(op, sizeof(op), s->mcgrps[i], true);
		fprintf(f, "#define %s_MCGRP_%s\t\"%s\"\n", fam_u, op, s->mcgrps[i]);
	}
}

int main(int argc, char **argv)
{
	struct emnl_error e;
	struct emnl_spec *s;
	char fam_u[128], fam_l[128];
	const char *base;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: gen-uapi SPEC.yaml OUT.h\n");
		return 2;
	}
	s = emnl_spec_load(argv[1], &e);
	if (!s) {
		fprintf(stderr, "gen-uapi: %s\n", e.msg);
		return 1;
	}
	f = fopen(argv[2], "w");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	base = strrchr(argv[1], '/');
	base = base ? base + 1 : argv[1];
	ident(fam_u, sizeof(fam_u), s->name, true);
	ident(fam_l, sizeof(fam_l), s->name, false);
	fprintf(f, "/* SPDX-License-Identifier: MIT */\n"
		   "/*\n"
		   " * The wire numbers of the generic netlink family \"%s\": generated from\n"
		   " * spec/%s by lib/proto/gen-uapi at build time (do not edit),\n"
		   " * in the form of the kernel's include/uapi/linux/%s.h.\n"
		   " */\n\n"
		   "#ifndef _LINUX_%s_H\n#define _LINUX_%s_H\n\n",
		s->name, base, fam_l, fam_u, fam_u);
	fprintf(f, "#define %s_FAMILY_NAME\t\"%s\"\n", fam_u, s->name);
	fprintf(f, "#define %s_FAMILY_VERSION\t%u\n\n", fam_u, s->version);
	emit_defs(f, s, fam_u, fam_l);
	emit_sets(f, s, fam_u);
	emit_ops(f, s, fam_u);
	fprintf(f, "\n#endif /* _LINUX_%s_H */\n", fam_u);
	emnl_spec_free(s);
	if (fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
