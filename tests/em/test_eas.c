/*
 * EAS tests: the scheduler's estimate and wake-up placement, rule by rule, against
 * numbers worked out by hand from Linux 6.14's sources (cited per test):
 *   kernel/sched/cpufreq_schedutil.c sugov_effective_cpu_perf() (+ map_util_perf():
 *     util + util/4), kernel/sched/core.c effective_cpu_util(),
 *   kernel/sched/fair.c fits_capacity(), util_fits_cpu(), cpu_util(),
 *     eenv_pd_busy_time(), eenv_pd_max_util(), compute_energy(),
 *     find_energy_efficient_cpu(), kernel/sched/topology.c build_perf_domains(),
 *   include/linux/energy_model.h em_cpu_energy(), em_pd_get_efficient_state().
 *
 * The embedded RK3399 (docs/em-model-default.md):
 *   little CPUs 0-3, capacity 381: perf 109 161 219 271 322 381,
 *                                  cost 2547(ineff.) 2536 2692 3182 3726 4703
 *   big CPUs 4-5, capacity 1024:   perf 232 341 464 573 682 805 914 1024,
 *                                  cost 5218(i) 5221(i) 5218 5872 6923 8057 9281 11036
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

static struct em_registry *rk3399(unsigned long little_flags)
{
	struct em_registry *reg = em_registry_new();
	struct em_model m;
	struct em_error err;

	assert_int_equal(em_model_default(&m), 0);
	m.domains[0].flags |= little_flags;
	if (em_model_register(&m, reg, &err))
		fail_msg("%s", err.msg);
	em_model_release(&m);
	return reg;
}

static uint64_t eas(const struct em_registry *reg, const unsigned long *util,
		    const unsigned long *acap, struct em_eas_pd_estimate *pds)
{
	const struct em_eas_input in = {.util = util, .actual_cap = acap, .nr_cpus = 6};
	struct em_eas_pd_estimate tmp[2];
	uint64_t total;
	unsigned int n;
	struct em_error err;

	if (em_eas_estimate(reg, &in, pds ? pds : tmp, 2, &n, &total, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(n, 2);
	return total;
}

static void test_headroom_and_fit_rules(void **state)
{
	(void)state;
	/* map_util_perf(): u + u/4 (integer); capped at the capacity. */
	assert_int_equal(em_eas_effective_perf(200, 381), 250);
	assert_int_equal(em_eas_effective_perf(3, 1024), 3);
	assert_int_equal(em_eas_effective_perf(305, 381), 381);
	/* effective_cpu_util() saturates at the capacity before the headroom. */
	assert_int_equal(em_eas_effective_perf(1000, 381), 381);
	assert_int_equal(em_eas_effective_perf(0, 381), 0);
	/* fits_capacity(): 304 * 1280 = 389120 < 381 * 1024 = 390144; 305: 390400. */
	assert_true(em_eas_fits(304, 381));
	assert_false(em_eas_fits(305, 381));
	/* 819 * 1280 = 1048320 < 1048576; 820 * 1280 = 1049600. */
	assert_true(em_eas_fits(819, 1024));
	assert_false(em_eas_fits(820, 1024));
	assert_true(em_eas_fits(0, 1));
}

static void test_issue_example_estimate(void **state)
{
	/*
	 * The issue's "--util 0=200,4=300" on the RK3399. compute_energy() (no task):
	 * little: eenv_pd_max_util(): 200 + 50 = 250, min(250, cpu_cap 381) -> first
	 * perf >= 250 is state 3 (271, cost 3182); busy 200 -> 636400.
	 * big: 300 + 75 = 375 -> state 2 (464, 5218); busy 300 -> 1565400.
	 * Total 2201800. Raw em_cpu_energy without headroom: little 200 -> state 2
	 * (2692 * 200 = 538400), big 300 -> state 1 (5221 * 300 = 1566300): 2104700.
	 */
	struct em_registry *reg = rk3399(0);
	const unsigned long util[6] = {200, 0, 0, 0, 300, 0};
	struct em_eas_pd_estimate pd[2];
	uint64_t e;

	(void)state;
	assert_int_equal(eas(reg, util, NULL, pd), 2201800);
	assert_int_equal(pd[0].max_util, 250);
	assert_int_equal(pd[0].busy_time, 200);
	assert_int_equal(pd[0].cpu_cap, 381);
	assert_int_equal(pd[0].pd_cap, 4 * 381);
	assert_int_equal(pd[0].state, 3);
	assert_int_equal(pd[0].energy, 636400);
	assert_int_equal(pd[1].max_util, 375);
	assert_int_equal(pd[1].state, 2);
	assert_int_equal(pd[1].energy, 1565400);
	assert_int_equal(em_estimate_energy(reg, util, 6, &e, NULL), 0);
	assert_int_equal(e, 2201800);
	assert_int_equal(em_estimate_energy_raw(reg, util, 6, &e, NULL), 0);
	assert_int_equal(e, 2104700);
	em_registry_free(reg);
}

static void test_issue_example_350_task(void **state)
{
	/*
	 * A task of 350 on an idle RK3399. It is below little's capacity 381, but
	 * util_fits_cpu() -> fits_capacity(): 350 * 1280 = 448000 >= 381 * 1024 = 390144:
	 * the kernel considers every little CPU full. find_energy_efficient_cpu(): big
	 * (first in the root domain's list) offers CPU 4 (most spare, lowest number);
	 * base energy 0; with the task 350 + 87 = 437 -> state 2 (464, 5218) * 350 =
	 * 1826300. Little offers nothing. CPU 4, delta 1826300.
	 */
	struct em_registry *reg = rk3399(0);
	const unsigned long idle[6] = {0};
	const struct em_eas_input in = {.util = idle, .nr_cpus = 6};
	const unsigned long task = 350;
	struct em_eas_decision d;
	unsigned int cpu;
	uint64_t e;

	(void)state;
	assert_int_equal(em_eas_select_cpu(reg, &in, task, -1, &d, NULL), 4);
	assert_int_equal(d.cpu, 4);
	assert_int_equal(d.delta, 1826300);
	assert_int_equal(d.before, 0);
	assert_int_equal(d.after, 1826300);
	assert_int_equal(em_place_greedy(reg, &task, 1, &cpu, &e, NULL), 0);
	assert_int_equal(cpu, 4);
	assert_int_equal(em_place_optimal(reg, &task, 1, &cpu, &e, NULL), 0);
	assert_int_equal(cpu, 4);
	assert_int_equal(e, 1826300);
	/* 304 fits little: CPU 0, 304 + 76 = 380 -> state 5 (381, 4703) * 304 = 1429712,
	 * against big's 380 -> state 2 (5218) * 304 = 1586272. */
	assert_int_equal(em_eas_select_cpu(reg, &in, 304, -1, &d, NULL), 0);
	assert_int_equal(d.delta, 1429712);
	em_registry_free(reg);
}

static void test_actual_capacity(void **state)
{
	/*
	 * eenv.cpu_cap is the actual capacity (get_actual_cpu_capacity()) of the
	 * domain's FIRST CPU; eenv_pd_max_util() clamps to it, em_cpu_energy() takes it
	 * as allowed_cpu_cap.
	 * CPU 0 at 300: util 290 -> 362 -> min(362, 300) = 300 -> state 4 (322, 3726) *
	 * 290 = 1080540. The same pressure on CPU 1 only does not count: 362 -> state 5
	 * (381, 4703) * 290 = 1363870.
	 */
	struct em_registry *reg = rk3399(0);
	const unsigned long util[6] = {290};
	unsigned long acap[6] = {300};
	struct em_eas_pd_estimate pd[2];

	(void)state;
	assert_int_equal(eas(reg, util, acap, pd), 1080540);
	assert_int_equal(pd[0].max_util, 300);
	assert_int_equal(pd[0].state, 4);
	acap[0] = 0;
	acap[1] = 300;
	assert_int_equal(eas(reg, util, acap, pd), 1363870);
	assert_int_equal(pd[0].state, 5);
	em_registry_free(reg);
}

static void test_busy_time_clamp(void **state)
{
	/*
	 * eenv_pd_busy_time(): sum of the CPUs' utilization (each at most its capacity,
	 * cpu_util()), then min(pd_cap) where pd_cap = CPUs * actual capacity.
	 * Little all at 400 (-> 381 each), CPU 0 at actual capacity 300: pd_cap 1200,
	 * busy min(1524, 1200) = 1200; max_util min(381, 300) = 300 -> state 4 (3726):
	 * 3726 * 1200 = 4471200. Raw em_cpu_energy clamps per CPU only: 381 * 4 = 1524
	 * at state 5: 4703 * 1524 = 7167372.
	 */
	struct em_registry *reg = rk3399(0);
	const unsigned long util[6] = {400, 400, 400, 400};
	const unsigned long acap[6] = {300};
	struct em_eas_pd_estimate pd[2];
	uint64_t e;

	(void)state;
	assert_int_equal(eas(reg, util, acap, pd), 4471200);
	assert_int_equal(pd[0].busy_time, 1200);
	assert_int_equal(pd[0].pd_cap, 1200);
	assert_int_equal(em_estimate_energy_raw(reg, util, 6, &e, NULL), 0);
	assert_int_equal(e, 7167372);
	em_registry_free(reg);
}

static void test_limits_and_skip_and_idle(void **state)
{
	struct em_registry *reg = rk3399(0), *skip = rk3399(EM_PD_SKIP_INEFFICIENCIES);
	unsigned long util[6] = {0};

	(void)state;
	/* All idle: em_cpu_energy() returns 0 for sum_util 0. */
	assert_int_equal(eas(reg, util, NULL, NULL), 0);
	/* Idle CPUs do not count: little 0=0, 1=100: 125 -> state 1 (161, 2536) * 100. */
	util[1] = 100;
	assert_int_equal(eas(reg, util, NULL, NULL), 253600);
	/* em_pd_get_efficient_state() skips inefficient states under the flag: 80 -> 100
	 * -> state 0 (109) is inefficient -> state 1 (2536) * 80 = 202880; without the
	 * flag state 0 (2547) * 80 = 203760. */
	util[1] = 80;
	assert_int_equal(eas(skip, util, NULL, NULL), 202880);
	assert_int_equal(eas(reg, util, NULL, NULL), 203760);
	/* Performance limits (em_pd_get_efficient_state() looks only at min_perf_state
	 * ..max_perf_state): big capped at 1416 MHz (state 5): 700 -> 875, no allowed
	 * state reaches it -> state 5 (8057) * 700 = 5639900. */
	util[1] = 0;
	util[4] = 700;
	assert_int_equal(em_pd_set_perf_limits(reg, 1, 408000, 1416000, NULL), 0);
	assert_int_equal(eas(reg, util, NULL, NULL), 5639900);
	/* Little floored at 1008 MHz (state 3): 10 -> 12 -> state 3 (3182) * 10. */
	util[4] = 0;
	util[0] = 10;
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 1008000, 1416000, NULL), 0);
	assert_int_equal(eas(reg, util, NULL, NULL), 31820);
	em_registry_free(reg);
	em_registry_free(skip);
}

static void test_feec_prev_cpu_and_spare(void **state)
{
	/*
	 * Task 100 on an idle RK3399. Big first (root domain order): CPU 4, 125 -> state
	 * 0 (232, 5218) * 100 = 521800. Little: with prev_cpu 1, prev's delta is 125 ->
	 * state 1 (2536) * 100 = 253600; the other CPUs have the same spare capacity,
	 * not more, so only prev is evaluated; best_delta = prev_delta: the task stays on
	 * CPU 1. With no prev_cpu, little's candidate is CPU 0 (lowest of the most spare).
	 */
	struct em_registry *reg = rk3399(0);
	unsigned long util[6] = {0};
	struct em_eas_input in = {.util = util, .nr_cpus = 6};
	struct em_eas_decision d;

	(void)state;
	assert_int_equal(em_eas_select_cpu(reg, &in, 100, 1, &d, NULL), 1);
	assert_int_equal(d.delta, 253600);
	assert_int_equal(em_eas_select_cpu(reg, &in, 100, -1, &d, NULL), 0);
	/* Most spare capacity: little at 100, 0, 50, 0: CPU 1 and 3 have 381 - 10 = 371;
	 * the first wins (strict >). Little: max 110 -> 137 -> state 1: (2536 * 160) -
	 * (100 -> 125 -> state 1: 2536 * 150) = 25360. */
	util[0] = 100;
	util[2] = 50;
	assert_int_equal(em_eas_select_cpu(reg, &in, 10, -1, &d, NULL), 1);
	assert_int_equal(d.delta, 25360);
	em_registry_free(reg);
}

static void test_feec_refusals(void **state)
{
	struct em_registry *reg = rk3399(0);
	unsigned long util[6] = {0};
	struct em_eas_input in = {.util = util, .nr_cpus = 6};
	struct em_error err;

	(void)state;
	/* 820 fits no CPU (820 * 1280 >= 1024 * 1024). */
	assert_int_equal(em_eas_select_cpu(reg, &in, 820, -1, NULL, &err), -ENOSPC);
	assert_string_equal(err.msg,
			    "a task of utilization 820 fits no CPU (util * 1280 < capacity * 1024)");
	/* A CPU whose own load does not fit it makes the root domain overutilized:
	 * select_task_rq_fair() does not call find_energy_efficient_cpu(). 304 is fine:
	 * little already runs state 5 for CPU 2 (304 -> 380), so 10 more on CPU 0 costs
	 * 4703 * 10 = 47030, less than big's 10 -> 12 -> state 0: 5218 * 10 = 52180. */
	util[2] = 304;
	assert_int_equal(em_eas_select_cpu(reg, &in, 10, -1, NULL, &err), 0);
	util[2] = 305;
	assert_int_equal(em_eas_select_cpu(reg, &in, 10, -1, NULL, &err), -EBUSY);
	assert_string_equal(err.msg,
			    "a CPU's own utilization does not fit it: overutilized, the kernel does not use EAS");
	util[2] = 0;
	assert_int_equal(em_eas_select_cpu(reg, &in, 0, -1, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "task utilization 0 is not in 1..1024");
	assert_int_equal(em_eas_select_cpu(reg, &in, 10, 9, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "prev_cpu 9 is in no CPU domain");
	em_registry_free(reg);
}

static void test_feec_guard_and_domain_order(void **state)
{
	/*
	 * One domain, 2 CPUs, capacity 1024: 500 MHz 600000 uW (perf 512, cost 11718,
	 * inefficient but not skipped), 1 GHz 800000 uW (perf 1024, cost 7812).
	 * CPU 0 runs 400: 500 with headroom -> state 0: base 11718 * 400 = 4687200.
	 * A task of 20 last ran on CPU 0: 420 -> 525 -> state 1: 7812 * 420 = 3281040 <
	 * base: "CPU utilization has changed", the kernel keeps prev_cpu (-EAGAIN).
	 * As a new task: CPU 1 has the most spare (1004): max_util stays 500, state 0,
	 * busy 420: 11718 * 420 - 4687200 = 234360.
	 */
	static const struct em_state_desc st[] = {{500000, 600000, 0}, {1000000, 800000, 0}};
	struct em_registry *reg = em_registry_new();
	struct em_cpumask m = {0};
	unsigned long util[2] = {400, 0};
	struct em_eas_input in = {.util = util, .nr_cpus = 2};
	struct em_eas_decision d;

	(void)state;
	em_cpumask_set(&m, 0);
	em_cpumask_set(&m, 1);
	assert_int_equal(em_pd_register_cpus(reg, "c", &m, 1024, EM_PD_MICROWATTS, st, 2, NULL, NULL), 0);
	assert_int_equal(em_eas_select_cpu(reg, &in, 20, 0, &d, NULL), -EAGAIN);
	assert_int_equal(d.cpu, 0);
	assert_int_equal(em_eas_select_cpu(reg, &in, 20, -1, &d, NULL), 1);
	assert_int_equal(d.delta, 234360);
	em_registry_free(reg);

	/*
	 * Two identical single-CPU domains: equal deltas, and "cur_delta >= best_delta"
	 * keeps the first evaluated: build_perf_domains() prepends each new domain, so
	 * the root domain lists CPU 1's domain before CPU 0's.
	 */
	reg = em_registry_new();
	for (unsigned int c = 0; c < 2; c++) {
		struct em_cpumask one = {0};

		em_cpumask_set(&one, c);
		assert_int_equal(em_pd_register_cpus(reg, NULL, &one, 1024, EM_PD_MICROWATTS, st, 2,
						     NULL, NULL),
				 0);
	}
	util[0] = 0;
	assert_int_equal(em_eas_select_cpu(reg, &in, 100, -1, &d, NULL), 1);
	em_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headroom_and_fit_rules),
		cmocka_unit_test(test_issue_example_estimate),
		cmocka_unit_test(test_issue_example_350_task),
		cmocka_unit_test(test_actual_capacity),
		cmocka_unit_test(test_busy_time_clamp),
		cmocka_unit_test(test_limits_and_skip_and_idle),
		cmocka_unit_test(test_feec_prev_cpu_and_spare),
		cmocka_unit_test(test_feec_refusals),
		cmocka_unit_test(test_feec_guard_and_domain_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
