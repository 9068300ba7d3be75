/*
 * The protocol layer's generated facts. The specs built into libemkit
 * (lib/proto/gen-spec-text.sh) are the files in spec/ byte for byte, and the
 * dev-energymodel one loads: what emd validates with and emctl decodes with
 * is the file a reader of the project sees. The uapi-style header generated
 * from it (lib/proto/gen-uapi) has the family's numbers as docs/BRIEF.md
 * states them from the kernel's Documentation/netlink/specs/dev-energymodel.yaml.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dev_energymodel.h"
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

static void test_uapi_numbers(void **state)
{
	(void)state;
	assert_string_equal(DEV_ENERGYMODEL_FAMILY_NAME, "dev-energymodel");
	assert_int_equal(DEV_ENERGYMODEL_FAMILY_VERSION, 1);
	assert_string_equal(DEV_ENERGYMODEL_MCGRP_EVENT, "event");
	assert_int_equal(DEV_ENERGYMODEL_CMD_GET_PERF_DOMAINS, 1);
	assert_int_equal(DEV_ENERGYMODEL_CMD_GET_PERF_TABLE, 2);
	assert_int_equal(DEV_ENERGYMODEL_CMD_PERF_DOMAIN_CREATED, 3);
	assert_int_equal(DEV_ENERGYMODEL_CMD_PERF_DOMAIN_UPDATED, 4);
	assert_int_equal(DEV_ENERGYMODEL_CMD_PERF_DOMAIN_DELETED, 5);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_DOMAIN_PAD, 1);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_DOMAIN_PERF_DOMAIN_ID, 2);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_DOMAIN_FLAGS, 3);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_DOMAIN_CPUS, 4);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_DOMAIN_MAX, 4);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_TABLE_PERF_DOMAIN_ID, 1);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_TABLE_PERF_STATE, 2);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_STATE_PAD, 1);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_STATE_PERFORMANCE, 2);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_STATE_FREQUENCY, 3);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_STATE_POWER, 4);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_STATE_COST, 5);
	assert_int_equal(DEV_ENERGYMODEL_A_PERF_STATE_FLAGS, 6);
	assert_int_equal(DEV_ENERGYMODEL_PERF_DOMAIN_FLAGS_PERF_DOMAIN_MICROWATTS, 1);
	assert_int_equal(DEV_ENERGYMODEL_PERF_DOMAIN_FLAGS_PERF_DOMAIN_SKIP_INEFFICIENCIES, 2);
	assert_int_equal(DEV_ENERGYMODEL_PERF_DOMAIN_FLAGS_PERF_DOMAIN_ARTIFICIAL, 4);
	assert_int_equal(DEV_ENERGYMODEL_PERF_STATE_FLAGS_PERF_STATE_INEFFICIENT, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uapi_numbers),
		cmocka_unit_test(test_texts_equal_files),
		cmocka_unit_test(test_builtin_spec_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
