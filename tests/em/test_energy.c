/*
 * Energy tests: the kernel's per-domain estimate (raw em_cpu_energy), the
 * whole-system estimates (raw, and EAS as Linux 6.14's compute_energy() makes it) and
 * placement under the kernel's fit rule, against values worked out by hand in the
 * comments. tests/em/test_eas.c has the EAS rules one by one.
 *
 * EAS in short (kernel/sched/fair.c, cpufreq_schedutil.c): max_util = min(the busiest
 * CPU's util + util/4 capped at the CPU's capacity, actual capacity); busy time =
 * min(sum of the CPUs' utils, actual capacity * CPUs); a CPU fits a load only if
 * load * 1280 < capacity * 1024 (512 -> below 409.6; 1024 -> below 819.2).
 *
 * Model: domain "a" = CPUs 0-1, capacity 512, states
 *   500 MHz  100000 µW  perf 256  cost 3906  INEFFICIENT
 *   800 MHz  150000 µW  perf 409  cost 3667
 *  1000 MHz  300000 µW  perf 512  cost 5859
 * domain "b" = CPU 2, capacity 1024, states
 *  1000 MHz  200000 µW  perf 512  cost 3906
 *  2000 MHz  800000 µW  perf 1024 cost 7812
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"

static const struct em_state_desc a_states[] = {
	{500000, 100000, 0}, {800000, 150000, 0}, {1000000, 300000, 0}};
static const struct em_state_desc b_states[] = {{1000000, 200000, 0}, {2000000, 800000, 0}};

static struct em_registry *model(unsigned long a_flags)
{
	struct em_registry *reg = em_registry_new();
	struct em_cpumask a = {0}, b = {0};
	const struct em_state_desc gpu[] = {{100000, 1000, 0}};

	em_cpumask_set(&a, 0);
	em_cpumask_set(&a, 1);
	em_cpumask_set(&b, 2);
	assert_int_equal(em_pd_register_cpus(reg, "a", &a, 512, EM_PD_MICROWATTS | a_flags,
					     a_states, 3, NULL, NULL),
			 0);
	assert_int_equal(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, gpu, 1, NULL, NULL), 0);
	assert_int_equal(em_pd_register_cpus(reg, "b", &b, 1024, EM_PD_MICROWATTS, b_states, 2,
					     NULL, NULL),
			 0);
	return reg;
}

static void test_pd_estimate(void **state)
{
	struct em_registry *reg = model(0);
	uint64_t e;
	struct em_error err;

	(void)state;
	/* max 200 -> first state with perf >= 200 is 256 (cost 3906): 3906 * 300 */
	assert_int_equal(em_estimate_pd(reg, 0, 200, 300, &e, &err), 0);
	assert_int_equal(e, 1171800);
	/* max 256 exactly -> still state 0 */
	assert_int_equal(em_estimate_pd(reg, 0, 256, 256, &e, &err), 0);
	assert_int_equal(e, 3906 * 256);
	/* max 257 -> state 1: 3667 * 400 */
	assert_int_equal(em_estimate_pd(reg, 0, 257, 400, &e, &err), 0);
	assert_int_equal(e, 1466800);
	/* max 600 is clamped to 512 -> top state: 5859 * 700 */
	assert_int_equal(em_estimate_pd(reg, 0, 600, 700, &e, &err), 0);
	assert_int_equal(e, 4101300);
	/* sum 0 -> 0 */
	assert_int_equal(em_estimate_pd(reg, 0, 100, 0, &e, &err), 0);
	assert_int_equal(e, 0);
	assert_int_equal(em_estimate_pd(reg, 1, 100, 100, &e, &err), -EINVAL);
	assert_string_equal(err.msg, "domain 'gpu' (id 1) is a device: no energy estimate");
	assert_int_equal(em_estimate_pd(reg, 9, 100, 100, &e, &err), -ENOENT);
	assert_string_equal(err.msg, "no performance domain with id 9");
	em_registry_free(reg);
}

static void test_skip_inefficiencies(void **state)
{
	struct em_registry *reg = model(EM_PD_SKIP_INEFFICIENCIES);
	uint64_t e;

	(void)state;
	/* state 0 is inefficient and skipped: state 1, 3667 * 300 */
	assert_int_equal(em_estimate_pd(reg, 0, 200, 300, &e, NULL), 0);
	assert_int_equal(e, 1100100);
	em_registry_free(reg);
}

static void test_perf_limits(void **state)
{
	struct em_registry *reg = model(0);
	uint64_t e;

	(void)state;
	/* Cap at 800 MHz: allowed capacity 409; max 450 -> clamped -> state 1. */
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 500000, 800000, NULL), 0);
	assert_int_equal(em_estimate_pd(reg, 0, 450, 450, &e, NULL), 0);
	assert_int_equal(e, 3667 * 450);
	/* Floor at 800 MHz: max 100 still runs at state 1. */
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 800000, 1000000, NULL), 0);
	assert_int_equal(em_estimate_pd(reg, 0, 100, 100, &e, NULL), 0);
	assert_int_equal(e, 366700);
	em_registry_free(reg);
}

static void test_state_for(void **state)
{
	struct em_registry *reg = model(0);
	const struct em_perf_table *t;

	(void)state;
	em_read_lock();
	t = em_pd_table(em_pd_get(reg, 0));
	assert_int_equal(em_perf_table_state_for(t, 0, 0), 0);
	assert_int_equal(em_perf_table_state_for(t, EM_PD_SKIP_INEFFICIENCIES, 0), 1);
	assert_int_equal(em_perf_table_state_for(t, 0, 410), 2);
	assert_int_equal(em_perf_table_state_for(t, 0, 9999), 2);
	assert_int_equal(em_perf_table_energy(t, 0, 9999, 10, 9999), 58590);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_system_estimate(void **state)
{
	struct em_registry *reg = model(0);
	const unsigned long util[] = {100, 200, 300};
	const unsigned long over[] = {600, 0, 2000};
	const unsigned long stray[] = {0, 0, 0, 5};
	uint64_t e;
	struct em_error err;

	(void)state;
	/* Raw: a: max 200 sum 300 -> 3906*300 = 1171800; b: 300 -> 3906*300 = 1171800. */
	assert_int_equal(em_estimate_energy_raw(reg, util, 3, &e, &err), 0);
	assert_int_equal(e, 2343600);
	/* EAS: a: max 200 -> 250 with headroom, still state 0 (256): 3906*300; b: 300 ->
	 * 375, state 0 (512): 3906*300. Equal here; test_eas.c has cases where not. */
	assert_int_equal(em_estimate_energy(reg, util, 3, &e, &err), 0);
	assert_int_equal(e, 2343600);
	/* Raw, clamped per CPU: a gets 512 (5859*512 = 2999808), b 1024 (7812*1024). */
	assert_int_equal(em_estimate_energy_raw(reg, over, 3, &e, &err), 0);
	assert_int_equal(e, 2999808 + 7999488);
	/* EAS: a: CPU 0's 600 is cut to its capacity 512 (cpu_util()), busy 512, max 512
	 * -> 5859*512; b: 1024 -> 7812*1024. */
	assert_int_equal(em_estimate_energy(reg, over, 3, &e, &err), 0);
	assert_int_equal(e, 2999808 + 7999488);
	assert_int_equal(em_estimate_energy(reg, stray, 4, &e, &err), -ENOENT);
	assert_string_equal(err.msg, "CPU 3 has utilization 5 but is in no performance domain");
	assert_int_equal(em_estimate_energy_raw(reg, stray, 4, &e, &err), -ENOENT);
	assert_string_equal(err.msg, "CPU 3 has utilization 5 but is in no performance domain");
	em_registry_free(reg);
}

static void test_place_by_hand(void **state)
{
	struct em_registry *reg = model(0);
	const unsigned long tasks[] = {300, 300};
	unsigned int cpu[2];
	uint64_t e;

	(void)state;
	/*
	 * EAS estimate: both on a (CPUs 0 and 1): max 300 -> 375 with headroom, state 1
	 * (409, cost 3667), busy 600 -> 2200200. One on a, one on b: 3667*300 + b (375:
	 * state 0) 3906*300 = 2271900. Both on b: 600 * 1280 < 1024 * 1024 fits; 750 ->
	 * state 1, 7812*600. Both on one CPU of a: 600 does not fit 512.
	 * Greedy: 300 first: b (CPU 2; the root domain lists it first) +3906*300 =
	 * 1171800, a (CPU 0) +3667*300 = 1100100 -> CPU 0; then b +1171800, a with
	 * CPU 1 (most spare) +1100100 -> CPU 1.
	 */
	assert_int_equal(em_place_optimal(reg, tasks, 2, cpu, &e, NULL), 0);
	assert_int_equal(e, 2200200);
	assert_int_equal(cpu[0] + cpu[1], 1); /* CPUs 0 and 1 */
	assert_int_equal(em_place_greedy(reg, tasks, 2, cpu, &e, NULL), 0);
	assert_int_equal(e, 2200200);
	em_registry_free(reg);
}

static void test_place_mixed_sizes(void **state)
{
	/*
	 * Tasks 100 and 400, EAS estimate (headroom: 400 -> 500, 100 -> 125, 500 -> 625):
	 *   400 on CPU 0, 100 on CPU 1: a max 500 -> state 2 (5859) * 500     = 2929500
	 *   both on one CPU of a:       500 * 1280 >= 512 * 1024: does not fit
	 *   400 on a, 100 on b:         5859*400 + 3906*100                   = 2734200
	 *   400 on b, 100 on a:         3906*400 + 3906*100 (125: state 0)    = 1953000
	 *   both on b:                  625 -> state 1: 7812*500              = 3906000
	 * (Without headroom, the old estimate, 400 on CPU 0 and 100 on CPU 1 cost 1833500
	 * and won; with schedutil's 25 % the 400 task no longer runs a at 409.)
	 * Greedy (400 first): b +3906*400 = 1562400, a (CPU 0) +5859*400 = 2343600 -> b;
	 * then 100: b 625 -> 7812*500 - 1562400 = +2343600, a (CPU 0) +390600 -> a.
	 */
	struct em_registry *reg = model(0);
	const unsigned long tasks[] = {100, 400};
	unsigned int cpu[2], gcpu[2];
	uint64_t e, g;

	(void)state;
	assert_int_equal(em_place_optimal(reg, tasks, 2, cpu, &e, NULL), 0);
	assert_int_equal(em_place_greedy(reg, tasks, 2, gcpu, &g, NULL), 0);
	assert_int_equal(e, 1953000);
	assert_int_equal(g, 1953000);
	assert_int_equal(cpu[1], 2);
	assert_int_equal(cpu[0], 0);
	assert_int_equal(gcpu[1], 2);
	assert_int_equal(gcpu[0], 0);
	em_registry_free(reg);
}

static void test_place_greedy_never_beats_optimal(void **state)
{
	struct em_registry *reg = model(0);
	unsigned int seed = 12345, worse = 0;

	(void)state;
	for (int round = 0; round < 200; round++) {
		unsigned long tasks[6];
		unsigned int n = 1 + (unsigned int)(rand_r(&seed) % 6), cpu[6];
		uint64_t e, g, check;
		int ro, rg;

		for (unsigned int i = 0; i < n; i++)
			tasks[i] = 1 + (unsigned long)(rand_r(&seed) % 400);
		ro = em_place_optimal(reg, tasks, n, cpu, &e, NULL);
		if (ro == 0) {
			/* The reported energy is the estimate of the reported placement. */
			unsigned long util[3] = {0};

			for (unsigned int i = 0; i < n; i++)
				util[cpu[i]] += tasks[i];
			assert_int_equal(em_estimate_energy(reg, util, 3, &check, NULL), 0);
			assert_int_equal(check, e);
		}
		rg = em_place_greedy(reg, tasks, n, cpu, &g, NULL);
		if (rg == 0) {
			assert_int_equal(ro, 0); /* greedy fits -> a placement exists */
			assert_true(g >= e);
			worse += g > e;
		} else {
			assert_int_equal(rg, -ENOSPC);
		}
	}
	print_message("# greedy above optimal in %u of 200 random cases\n", worse);
	em_registry_free(reg);
}

/*
 * Least energy over every assignment of n tasks to CPUs 0-2, by plain enumeration,
 * with the kernel's fit rule (fits_capacity(): load * 1280 < capacity * 1024).
 */
static uint64_t brute_force(const struct em_registry *reg, const unsigned long *tasks,
			    unsigned int n, bool *found)
{
	static const unsigned long cap[3] = {512, 512, 1024};
	unsigned int total = 1;
	uint64_t best = 0;

	*found = false;
	for (unsigned int i = 0; i < n; i++)
		total *= 3;
	for (unsigned int code = 0; code < total; code++) {
		unsigned long util[3] = {0};
		unsigned int x = code;
		bool fits = true;
		uint64_t e;

		for (unsigned int i = 0; i < n; i++, x /= 3)
			util[x % 3] += tasks[i];
		for (unsigned int c = 0; c < 3; c++)
			fits = fits && util[c] * 1280 < cap[c] * 1024;
		if (!fits)
			continue;
		assert_int_equal(em_estimate_energy(reg, util, 3, &e, NULL), 0);
		if (!*found || e < best)
			best = e;
		*found = true;
	}
	return best;
}

static void test_place_optimal_matches_brute_force(void **state)
{
	struct em_registry *reg[2] = {model(0), model(EM_PD_SKIP_INEFFICIENCIES)};
	unsigned int seed = 777;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct em_registry *r = reg[round & 1];
		unsigned long tasks[7];
		unsigned int n = 1 + (unsigned int)(rand_r(&seed) % 7), cpu[7];
		uint64_t e, want;
		bool found;
		int ret;

		for (unsigned int i = 0; i < n; i++)
			tasks[i] = 1 + (unsigned long)(rand_r(&seed) % 450);
		want = brute_force(r, tasks, n, &found);
		ret = em_place_optimal(r, tasks, n, cpu, &e, NULL);
		if (!found) {
			assert_int_equal(ret, -ENOSPC);
			continue;
		}
		assert_int_equal(ret, 0);
		if (e != want)
			fail_msg("round %d: optimal %llu, brute force %llu", round,
				 (unsigned long long)e, (unsigned long long)want);
	}
	em_registry_free(reg[0]);
	em_registry_free(reg[1]);
}

static void test_place_errors(void **state)
{
	struct em_registry *reg = model(0);
	unsigned long tasks[13];
	unsigned int cpu[13];
	uint64_t e;
	struct em_error err;

	(void)state;
	for (int i = 0; i < 13; i++)
		tasks[i] = 10;
	assert_int_equal(em_place_optimal(reg, tasks, 13, cpu, &e, &err), -E2BIG);
	assert_string_equal(err.msg,
			    "13 tasks: the exhaustive search takes at most 12 (use the greedy one)");
	tasks[0] = 1025;
	assert_int_equal(em_place_optimal(reg, tasks, 1, cpu, &e, &err), -EINVAL);
	assert_string_equal(err.msg, "task 0: utilization 1025 is not in 1..1024");
	/* 820 * 1280 = 1049600 is not below 1024 * 1024 = 1048576: fits nowhere. */
	tasks[0] = 820;
	assert_int_equal(em_place_optimal(reg, tasks, 1, cpu, &e, &err), -ENOSPC);
	assert_string_equal(err.msg,
			    "no placement fits every task (util * 1280 < capacity * 1024 on every CPU)");
	assert_int_equal(em_place_greedy(reg, tasks, 1, cpu, &e, &err), -ENOSPC);
	assert_string_equal(err.msg, "task 0 (utilization 820) fits on no CPU");
	/* 819 fits b. */
	tasks[0] = 819;
	assert_int_equal(em_place_greedy(reg, tasks, 1, cpu, &e, &err), 0);
	assert_int_equal(cpu[0], 2);
	em_registry_free(reg);
	reg = em_registry_new();
	assert_int_equal(em_place_greedy(reg, tasks, 1, cpu, &e, &err), -EINVAL);
	assert_string_equal(err.msg, "the model has no CPU domain to place tasks on");
	em_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pd_estimate),
		cmocka_unit_test(test_skip_inefficiencies),
		cmocka_unit_test(test_perf_limits),
		cmocka_unit_test(test_state_for),
		cmocka_unit_test(test_system_estimate),
		cmocka_unit_test(test_place_by_hand),
		cmocka_unit_test(test_place_mixed_sizes),
		cmocka_unit_test(test_place_greedy_never_beats_optimal),
		cmocka_unit_test(test_place_optimal_matches_brute_force),
		cmocka_unit_test(test_place_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
