/*
 * Fault injection: every allocation lib/em makes is made to fail in turn (the n-th
 * allocation of a scenario, for n = 1, 2, ... until the scenario runs through
 * without reaching it). Each failure must come back as -ENOMEM with a message ending
 * in "out of memory",
 * leave the registry as it was before the failed call, and leak nothing (the ASan
 * build checks leaks).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"
#include "internal.h"

/* Check the result of a call that may hit the injected failure; true to go on. */
static bool step(int ret, const struct em_error *err)
{
	if (ret == 0)
		return true;
	size_t n = strlen(err->msg);

	assert_int_equal(ret, -ENOMEM);
	/* "out of memory", perhaps after where (a model's "FILE:LINE: ") */
	assert_true(n >= 13);
	assert_string_equal(err->msg + n - 13, "out of memory");
	return false;
}

static unsigned int count(const struct em_registry *reg)
{
	unsigned int n;

	em_read_lock();
	n = em_pd_count(reg);
	em_read_unlock();
	return n;
}

/* One pass over the registry API; returns when a call fails. */
static void registry_scenario(void)
{
	struct em_registry *reg = em_registry_new();
	struct em_model m = {0}, back = {0};
	struct em_error err = {{0}};
	const struct em_state_desc gpu[] = {{100, 5, 0}, {200, 9, 0}};
	const unsigned long util[6] = {100, 50, 0, 0, 300, 20}, tasks[3] = {200, 100, 50};
	unsigned int cpu[3], before;
	uint64_t e;

	if (!reg)
		return;
	if (em_model_default(&m) != 0)
		goto out;
	before = count(reg);
	if (!step(em_model_register(&m, reg, &err), &err)) {
		assert_true(count(reg) <= before + 1); /* the first domain may be in */
		goto out;
	}
	before = count(reg);
	if (!step(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, gpu, 2, NULL, &err), &err)) {
		assert_int_equal(count(reg), before);
		goto out;
	}
	if (!step(em_table_replace(reg, 1, m.domains[1].states, m.domains[1].nr_states, &err), &err))
		goto out;
	if (!step(em_pd_set_perf_limits(reg, 1, 600000, 1608000, &err), &err))
		goto out;
	if (!step(em_estimate_energy(reg, util, 6, &e, &err), &err))
		goto out;
	if (!step(em_place_optimal(reg, tasks, 3, cpu, &e, &err), &err))
		goto out;
	if (!step(em_place_greedy(reg, tasks, 3, cpu, &e, &err), &err))
		goto out;
	if (em_model_from_registry(&back, reg) == -ENOMEM)
		goto out;
	assert_int_equal(back.nr_domains, 3);
	before = count(reg);
	if (!step(em_pd_unregister(reg, 2, &err), &err)) {
		assert_int_equal(count(reg), before);
		goto out;
	}
	assert_int_equal(count(reg), 2);
out:
	em_model_release(&m);
	em_model_release(&back);
	em_registry_free(reg);
}

static const char model_yaml[] =
	"domains:\n"
	"  - name: little\n"
	"    cpus: [0, 1]\n"
	"    capacity: 500\n"
	"    flags: [microwatts]\n"
	"    dynamic-power-coefficient: 100\n"
	"    states:\n"
	"      - { frequency: 500000, voltage: 800 }\n"
	"      - { frequency: 1000000, voltage: 900 }\n"
	"  - name: gpu\n"
	"    flags: [microwatts]\n"
	"    states: [{ frequency: 1000, power: 10 }]\n";

static void file_scenario(void)
{
	struct em_model m;
	struct em_error err = {{0}};
	int ret = em_model_load_buffer(&m, "m.yaml", model_yaml, sizeof(model_yaml) - 1, &err);

	if (step(ret, &err)) {
		assert_int_equal(m.nr_domains, 2);
		em_model_release(&m);
	}
}

/* Run scenario with the n-th allocation failing, for every n it reaches. */
static unsigned int run_all(void (*scenario)(void))
{
	unsigned int n;

	for (n = 1; n < 100000; n++) {
		em_test_fail_allocation((long)n);
		scenario();
		if (em_test_allocation_countdown() > 0)
			break; /* ran through without reaching allocation n */
	}
	em_test_fail_allocation(0);
	return n - 1;
}

static void test_registry_allocation_failures(void **state)
{
	unsigned int n;

	(void)state;
	n = run_all(registry_scenario);
	print_message("# registry scenario: %u allocations, each failed in turn\n", n);
	assert_true(n > 10);
}

static void test_file_allocation_failures(void **state)
{
	unsigned int n;

	(void)state;
	n = run_all(file_scenario);
	print_message("# model file scenario: %u allocations, each failed in turn\n", n);
	assert_true(n > 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_allocation_failures),
		cmocka_unit_test(test_file_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
