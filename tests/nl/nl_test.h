/*
 * Shared helpers for the lib/nl tests: where the project's spec files are,
 * and loading one or failing the test.
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

/* Load spec/NAME.yaml or fail the current test. */
static inline struct emnl_spec *load_spec(const char *name)
{
	char path[512];
	struct emnl_error e;
	struct emnl_spec *s;

	snprintf(path, sizeof(path), "%s/%s.yaml", EMNL_SPEC_DIR, name);
	s = emnl_spec_load(path, &e);
	if (!s)
		fail_msg("loading %s: %s", path, e.msg);
	return s;
}

#endif
