/*
 * Shared helpers for the lib/nl tests: where the project's spec files and the
 * shared fixtures are, and loading one or failing the test.
 */
#ifndef NL_TEST_H
#define NL_TEST_H

#include <stdint.h>
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

/* Message bytes, little-endian as on this host's wire: for expected bytes
 * written out by hand. */
#define LE16(x) (uint8_t)((x) & 0xff), (uint8_t)(((x) >> 8) & 0xff)
#define LE32(x) LE16((x) & 0xffff), LE16(((uint32_t)(x) >> 16) & 0xffff)
#define LE64(x) LE32((uint64_t)(x) & 0xffffffff), LE32((uint64_t)(x) >> 32)
#define NLA(len, type) LE16(len), LE16(type)
#define U32A(type, v) NLA(8, type), LE32(v)
#define U64A(type, v) NLA(12, type), LE64(v)

/* The project's two specs, for the tests that use them (setup/teardown). */
static struct emnl_spec *em __attribute__((unused)), *ctrl __attribute__((unused));

static inline int load_em_ctrl(void **state)
{
	(void)state;
	em = load_spec("dev-energymodel");
	ctrl = load_spec("nlctrl");
	return 0;
}

static inline int free_em_ctrl(void **state)
{
	(void)state;
	emnl_spec_free(em);
	emnl_spec_free(ctrl);
	em = ctrl = NULL;
	return 0;
}

#ifdef EMKIT_EVERY_KIND_SPEC
/* The shared fixture with every attribute type (tests/fixtures/every-kind). */
static inline struct emnl_spec *load_every_kind(void)
{
	return load_spec_file(EMKIT_EVERY_KIND_SPEC);
}
#endif

#endif
