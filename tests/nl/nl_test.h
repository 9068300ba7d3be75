/*
 * Shared helpers for the lib/nl tests: where the project's spec files and the
 * shared fixtures are, and loading one or failing the test.
 */
#ifndef NL_TEST_H
#define NL_TEST_H

#include <stdio.h>
#include <string.h>

#include "emkit/nl.h"

#ifndef EMNL_SPEC_DIR
#error "EMNL_SPEC_DIR must name the spec/ directory"
#endif

/* Message buffers in tests are cast to struct nlmsghdr: keep them aligned. */
#define MSGALIGN __attribute__((aligned(8)))

/* Load @path or fail the current test. */
static inline struct emnl_spec *load_spec_file(const char *path)
{
	struct emnl_error e;
	struct emnl_spec *s = emnl_spec_load(path, &e);

	if (!s)
		fail_msg("loading %s: %s", path, e.msg);
	return s;
}

/* Load spec/NAME.yaml or fail the current test. */
static inline struct emnl_spec *load_spec(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.yaml", EMNL_SPEC_DIR, name);
	return load_spec_file(path);
}

#ifdef EMKIT_EVERY_KIND_SPEC
/* The shared fixture with every attribute type (tests/fixtures/every-kind). */
static inline struct emnl_spec *load_every_kind(void)
{
	return load_spec_file(EMKIT_EVERY_KIND_SPEC);
}
#endif

#endif
