/*
 * The specs built into libemkit (generated from spec/ by the build:
 * lib/proto/gen-spec-text.sh) are the files in spec/ byte for byte, and the
 * dev-energymodel one loads: what emd validates with and emctl decodes with
 * is the file a reader of the project sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/dev_energymodel_user.h"

/* The whole of @path, NUL-terminated (static buffer). */
static const char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	assert_true(n < sizeof(buf) - 1);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_texts_equal_files(void **state)
{
	(void)state;
	assert_string_equal(emd_spec_dev_energymodel, slurp(EM_SPEC_DIR "/dev-energymodel.yaml"));
	assert_string_equal(emd_spec_nlctrl, slurp(EM_SPEC_DIR "/nlctrl.yaml"));
}

static void test_builtin_spec_loads(void **state)
{
	struct emnl_error e;
	const struct emnl_spec *s = emdev_builtin_spec(&e);

	(void)state;
	if (!s)
		fail_msg("%s", e.msg);
	assert_string_equal(s->name, "dev-energymodel");
	assert_ptr_equal(emdev_builtin_spec(NULL), s); /* parsed once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_texts_equal_files),
		cmocka_unit_test(test_builtin_spec_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
