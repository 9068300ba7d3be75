/*
 * Registry tests: ids, order, lookups, validation messages, the kernel's performance /
 * cost / inefficiency arithmetic (values computed by hand in the comments), perf
 * limits, table replacement, capacity changes (em_adjust_cpu_capacity), fixed ids and
 * device names, observers, and the writer-inside-reader guard.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"

static struct em_cpumask mask(unsigned int first, unsigned int n)
{
	struct em_cpumask m = {0};

	for (unsigned int i = 0; i < n; i++)
		em_cpumask_set(&m, first + i);
	return m;
}

/* Domain "a": CPUs 0-1, capacity 512. */
static const struct em_state_desc a_states[] = {
	{500000, 100000, 0}, /* perf 256, cost 1000000/256 = 3906 -> inefficient */
	{800000, 150000, 0}, /* perf 409 (409.6), cost 1500000/409 = 3667 */
	{1000000, 300000, 0}, /* perf 512, cost 3000000/512 = 5859 */
};

static const struct em_state_desc dev_states[] = {{100000, 5000, 0}, {200000, 9000, 0}};

static struct em_registry *reg_with_a(unsigned int *id)
{
	struct em_registry *reg = em_registry_new();
	struct em_cpumask m = mask(0, 2);
	struct em_error err;

	assert_non_null(reg);
	assert_int_equal(em_pd_register_cpus(reg, "a", &m, 512, EM_PD_MICROWATTS, a_states, 3, id,
					     &err),
			 0);
	return reg;
}

static void test_costs_and_inefficiency(void **state)
{
	unsigned int id;
	struct em_registry *reg = reg_with_a(&id);
	const struct em_perf_table *t;

	(void)state;
	assert_int_equal(id, 0);
	em_read_lock();
	t = em_pd_table(em_pd_get(reg, 0));
	assert_int_equal(t->nr_states, 3);
	assert_int_equal(t->states[0].performance, 256);
	assert_int_equal(t->states[1].performance, 409);
	assert_int_equal(t->states[2].performance, 512);
	assert_int_equal(t->states[0].cost, 3906);
	assert_int_equal(t->states[1].cost, 3667);
	assert_int_equal(t->states[2].cost, 5859);
	assert_int_equal(t->states[0].flags, EM_PS_INEFFICIENT);
	assert_int_equal(t->states[1].flags, 0);
	assert_int_equal(t->states[2].flags, 0);
	assert_int_equal(t->min_state, 0);
	assert_int_equal(t->max_state, 2);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_equal_cost_is_inefficient(void **state)
{
	/* capacity 1024, 2 states: perf 512 and 1024; power 1000 and 2000 give cost 19
	 * (10000/512 = 19.53) and 19 (20000/1024 = 19.53): the slower one is no cheaper. */
	struct em_registry *reg = em_registry_new();
	struct em_cpumask m = mask(0, 1);
	const struct em_state_desc st[] = {{1000, 1000, 0}, {2000, 2000, 0}};
	const struct em_perf_table *t;

	(void)state;
	assert_int_equal(em_pd_register_cpus(reg, "x", &m, 1024, EM_PD_MICROWATTS, st, 2, NULL,
					     NULL),
			 0);
	em_read_lock();
	t = em_pd_table(em_pd_of_cpu(reg, 0));
	assert_int_equal(t->states[0].cost, 19);
	assert_int_equal(t->states[1].cost, 19);
	assert_int_equal(t->states[0].flags, EM_PS_INEFFICIENT);
	assert_int_equal(t->states[1].flags, 0);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_artificial_and_device(void **state)
{
	struct em_registry *reg = em_registry_new();
	struct em_cpumask m = mask(4, 2);
	const struct em_state_desc st[] = {{1000, 10, 50}, {2000, 20, 40}};
	const struct em_perf_table *t;
	unsigned int id;

	(void)state;
	assert_int_equal(em_pd_register_cpus(reg, "art", &m, 1024, EM_PD_ARTIFICIAL, st, 2, &id,
					     NULL),
			 0);
	assert_int_equal(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, dev_states, 2, &id,
					       NULL),
			 0);
	assert_int_equal(id, 1);
	em_read_lock();
	t = em_pd_table(em_pd_get(reg, 0));
	assert_int_equal(t->states[0].performance, 512);
	assert_int_equal(t->states[0].cost, 50); /* the provider's */
	assert_int_equal(t->states[1].cost, 40);
	assert_int_equal(t->states[0].flags, EM_PS_INEFFICIENT); /* 50 >= 40 */
	t = em_pd_table(em_pd_get(reg, 1));
	assert_false(em_pd_is_cpu(em_pd_get(reg, 1)));
	assert_null(em_pd_cpus(em_pd_get(reg, 1)));
	assert_int_equal(t->states[1].performance, 0);
	assert_int_equal(t->states[1].cost, 0);
	assert_int_equal(t->states[0].flags, 0);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_ids_order_lookup(void **state)
{
	struct em_registry *reg = em_registry_new();
	struct em_cpumask m = mask(0, 2);
	const struct em_pd *pd;
	unsigned int id, i;
	const char *order[4];

	(void)state;
	assert_int_equal(em_pd_register_device(reg, "d0", EM_PD_MICROWATTS, dev_states, 2, &id, NULL), 0);
	assert_int_equal(id, 0);
	assert_int_equal(em_pd_register_cpus(reg, "c", &m, 100, EM_PD_MICROWATTS, a_states, 3, &id, NULL), 0);
	assert_int_equal(id, 1);
	assert_int_equal(em_pd_register_device(reg, "d2", EM_PD_MICROWATTS, dev_states, 2, &id, NULL), 0);
	assert_int_equal(id, 2);
	assert_int_equal(em_pd_unregister(reg, 0, NULL), 0);
	/* The lowest free id is reused; registration order is kept. */
	assert_int_equal(em_pd_register_device(reg, "d3", EM_PD_MICROWATTS, dev_states, 2, &id, NULL), 0);
	assert_int_equal(id, 0);
	assert_int_equal(em_pd_register_device(reg, NULL, EM_PD_MICROWATTS, dev_states, 2, &id, NULL), 0);
	assert_int_equal(id, 3);
	em_read_lock();
	i = 0;
	em_for_each_pd(pd, reg) order[i++] = em_pd_name(pd);
	assert_int_equal(i, 4);
	assert_int_equal(em_pd_count(reg), 4);
	assert_string_equal(order[0], "c");
	assert_string_equal(order[1], "d2");
	assert_string_equal(order[2], "d3");
	assert_string_equal(order[3], "dev3");
	assert_string_equal(em_pd_name(em_pd_get(reg, 0)), "d3");
	assert_null(em_pd_get(reg, 7));
	assert_int_equal(em_pd_id(em_pd_of_cpu(reg, 1)), 1);
	assert_null(em_pd_of_cpu(reg, 2));
	assert_int_equal(em_pd_id(em_pd_by_name(reg, "d2")), 2);
	assert_int_equal(em_pd_capacity(em_pd_get(reg, 1)), 100);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_resume_by_seq(void **state)
{
	/* An iteration that drops the lock between steps, as a netlink dump does. */
	struct em_registry *reg = em_registry_new();
	const struct em_pd *pd;
	uint64_t pos = 0;
	char seen[64] = "";

	(void)state;
	assert_int_equal(em_pd_register_device(reg, "d0", EM_PD_MICROWATTS, dev_states, 2, NULL, NULL), 0);
	assert_int_equal(em_pd_register_device(reg, "d1", EM_PD_MICROWATTS, dev_states, 2, NULL, NULL), 0);
	assert_int_equal(em_pd_register_device(reg, "d2", EM_PD_MICROWATTS, dev_states, 2, NULL, NULL), 0);
	for (int step = 0;; step++) {
		em_read_lock();
		pd = em_pd_next_after(reg, pos);
		if (pd) {
			strcat(seen, em_pd_name(pd));
			pos = em_pd_seq(pd);
		}
		em_read_unlock();
		if (!pd)
			break;
		if (step == 0) {
			/* Meanwhile: d1 goes, d3 comes and takes id 1 (registered last). */
			assert_int_equal(em_pd_unregister(reg, 1, NULL), 0);
			assert_int_equal(em_pd_register_device(reg, "d3", EM_PD_MICROWATTS, dev_states,
							       2, NULL, NULL), 0);
		}
	}
	assert_string_equal(seen, "d0d2d3"); /* nothing repeated, nothing lost */
	em_read_lock();
	assert_int_equal(em_pd_seq(em_pd_by_name(reg, "d0")), 1);
	assert_int_equal(em_pd_seq(em_pd_by_name(reg, "d3")), 4);
	assert_int_equal(em_pd_id(em_pd_by_name(reg, "d3")), 1);
	assert_null(em_pd_next_after(reg, 4));
	em_read_unlock();
	em_registry_free(reg);
}

static void expect_reject(const struct em_pd_desc *d, int code, const char *msg)
{
	struct em_registry *reg = em_registry_new();
	struct em_error err = {{0}};

	assert_int_equal(em_pd_register(reg, d, NULL, &err), code);
	assert_string_equal(err.msg, msg);
	em_read_lock();
	assert_int_equal(em_pd_count(reg), 0);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_validation_messages(void **state)
{
	struct em_cpumask m = mask(0, 2), none = {0};
	struct em_state_desc st[3];
	struct em_pd_desc d = {"big", EM_PD_MICROWATTS, &m, 1024, 3, st, false, 0};

	(void)state;
	memcpy(st, a_states, sizeof(st));
	st[2].frequency = 800000;
	expect_reject(&d, -EINVAL,
		      "domain 'big': state 2: frequency 800000 kHz is not above state 1's 800000 kHz");
	memcpy(st, a_states, sizeof(st));
	st[1].power = 0;
	expect_reject(&d, -EINVAL, "domain 'big': state 1: power 0 is out of range (0, 64000000] µW");
	st[1].power = 64000001;
	expect_reject(&d, -EINVAL,
		      "domain 'big': state 1: power 64000001 is out of range (0, 64000000] µW");
	st[1].power = 64000000; /* the bound itself is allowed */
	{
		struct em_registry *reg = em_registry_new();

		assert_int_equal(em_pd_register(reg, &d, NULL, NULL), 0);
		em_registry_free(reg);
	}
	memcpy(st, a_states, sizeof(st));
	st[0].cost = 5;
	expect_reject(&d, -EINVAL,
		      "domain 'big': state 0: cost is given, but only artificial CPU domains take costs (others are computed)");
	memcpy(st, a_states, sizeof(st));
	d.flags = 0;
	expect_reject(&d, -EINVAL, "domain 'big': flags must say microwatts or artificial");
	d.flags = EM_PD_MICROWATTS | EM_PD_ARTIFICIAL;
	expect_reject(&d, -EINVAL, "domain 'big': flags microwatts and artificial exclude each other");
	d.flags = 8 | EM_PD_MICROWATTS;
	expect_reject(&d, -EINVAL, "domain 'big': unknown flags 0x8");
	d.flags = EM_PD_ARTIFICIAL;
	expect_reject(&d, -EINVAL,
		      "domain 'big': state 0: cost 0 is out of range (0, 64000000] (artificial domains give costs)");
	d.flags = EM_PD_MICROWATTS;
	d.capacity = 1025;
	expect_reject(&d, -EINVAL, "domain 'big': capacity 1025 is not in 1..1024");
	d.capacity = 1;
	expect_reject(&d, -EINVAL,
		      "domain 'big': state 0: performance 1 * 500000 / 1000000 rounds to 0, so cost cannot be computed");
	d.capacity = 1024;
	st[2].frequency = 0; /* found by the mutation test: fmax 0 must not divide */
	expect_reject(&d, -EINVAL, "domain 'big': state 2: frequency is 0");
	st[2].frequency = a_states[2].frequency;
	d.cpus = &none;
	expect_reject(&d, -EINVAL, "domain 'big': a CPU domain needs CPUs");
	d.cpus = &m;
	d.nr_states = 0;
	expect_reject(&d, -EINVAL, "domain 'big': needs 1..256 states, has 0");
	d.nr_states = 3;
	/* dev_name() never holds '/' (the driver core makes it '!'); a directory is
	 * never "." or "..". */
	d.name = "bad/name";
	expect_reject(&d, -EINVAL,
		      "domain 'bad/name': name must be 1..63 printable characters without '/' (not '.' or '..')");
	d.name = "..";
	expect_reject(&d, -EINVAL,
		      "domain '..': name must be 1..63 printable characters without '/' (not '.' or '..')");
	d.name = "tab\there";
	expect_reject(&d, -EINVAL,
		      "domain 'tab\there': name must be 1..63 printable characters without '/' (not '.' or '..')");
}

static void test_cpu_in_one_domain(void **state)
{
	unsigned int id;
	struct em_registry *reg = reg_with_a(&id);
	struct em_cpumask m = mask(1, 2);
	struct em_error err;

	(void)state;
	assert_int_equal(em_pd_register_cpus(reg, "b", &m, 512, EM_PD_MICROWATTS, a_states, 3, NULL,
					     &err),
			 -EEXIST);
	assert_string_equal(err.msg, "domain 'b': CPU 1 already belongs to domain 'a' (id 0)");
	m = mask(2, 1);
	assert_int_equal(em_pd_register_cpus(reg, "a", &m, 512, EM_PD_MICROWATTS, a_states, 3, NULL,
					     &err),
			 -EEXIST);
	assert_string_equal(err.msg, "domain 'a': the name is taken by domain 0");
	assert_int_equal(em_pd_unregister(reg, 0, &err), -EPERM);
	assert_string_equal(err.msg, "domain 'a' (id 0): CPU domains cannot be unregistered");
	assert_int_equal(em_pd_unregister(reg, 5, &err), -ENOENT);
	assert_string_equal(err.msg, "no performance domain with id 5");
	em_registry_free(reg);
}

static void test_replace_and_limits(void **state)
{
	unsigned int id;
	struct em_registry *reg = reg_with_a(&id);
	struct em_state_desc st[3];
	const struct em_perf_table *t;
	struct em_error err;

	(void)state;
	memcpy(st, a_states, sizeof(st));
	st[0].power = 50000; /* cost 500000/256 = 1953: now efficient */
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 800000, 1000000, &err), 0);
	assert_int_equal(em_table_replace(reg, 0, st, 3, &err), 0);
	em_read_lock();
	t = em_pd_table(em_pd_get(reg, 0));
	assert_int_equal(t->states[0].cost, 1953);
	assert_int_equal(t->states[0].flags, 0);
	assert_int_equal(t->min_state, 1); /* limits survive a replacement */
	assert_int_equal(t->max_state, 2);
	em_read_unlock();
	assert_int_equal(em_table_replace(reg, 0, st, 2, &err), -EINVAL);
	assert_string_equal(err.msg, "domain 'a': a new table must have its 3 states, not 2");
	assert_int_equal(em_table_replace(reg, 9, st, 3, &err), -ENOENT);
	st[1].power = 0;
	assert_int_equal(em_table_replace(reg, 0, st, 3, &err), -EINVAL);
	assert_string_equal(err.msg, "domain 'a': state 1: power 0 is out of range (0, 64000000] µW");
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 700000, 1000000, &err), -EINVAL);
	assert_string_equal(err.msg, "domain 'a': no state has frequency 700000 kHz");
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 1000000, 500000, &err), -EINVAL);
	assert_string_equal(err.msg, "domain 'a': minimum 1000000 kHz is above maximum 500000 kHz");
	assert_int_equal(em_registry_synchronize(reg), 0);
	em_registry_free(reg);
}

struct log {
	char text[512];
	struct em_registry *reg;
	int nested;
};

static void on_created(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	struct log *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "created %u %s %u;", em_pd_id(pd),
		 em_pd_name(pd), t->nr_states);
	/* A writer from an observer is refused, not deadlocked. */
	l->nested = em_pd_unregister(l->reg, em_pd_id(pd), NULL);
}

static void on_updated(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	struct log *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "updated %u %lu;", em_pd_id(pd),
		 t->states[0].power);
}

static void on_deleted(void *ctx, unsigned int id)
{
	struct log *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "deleted %u;", id);
}

static const struct em_observer_ops log_ops = {on_created, on_updated, on_deleted};

static void test_observers(void **state)
{
	struct em_registry *reg = em_registry_new();
	struct log l = {.reg = reg};
	struct em_state_desc st[2];

	(void)state;
	assert_int_equal(em_observer_add(reg, &log_ops, &l), 0);
	assert_int_equal(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, dev_states, 2, NULL, NULL), 0);
	assert_int_equal(l.nested, -EDEADLK);
	memcpy(st, dev_states, sizeof(st));
	st[0].power = 4000;
	assert_int_equal(em_table_replace(reg, 0, st, 2, NULL), 0);
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 200000, 200000, NULL), 0); /* silent */
	assert_int_equal(em_pd_unregister(reg, 0, NULL), 0);
	assert_string_equal(l.text, "created 0 gpu 2;updated 0 4000;deleted 0;");
	assert_int_equal(em_observer_remove(reg, &log_ops, &l), 0);
	assert_int_equal(em_observer_remove(reg, &log_ops, &l), -ENOENT);
	assert_int_equal(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, dev_states, 2, NULL, NULL), 0);
	assert_string_equal(l.text, "created 0 gpu 2;updated 0 4000;deleted 0;");
	em_registry_free(reg);
}

/* Observer for capacity changes: records performance and cost of state 1. */
struct cap_log {
	unsigned int updates;
	unsigned long perf1, cost1, flags0;
};

static void cap_updated(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	struct cap_log *l = ctx;

	(void)pd;
	l->updates++;
	l->perf1 = t->states[1].performance;
	l->cost1 = t->states[1].cost;
	l->flags0 = t->states[0].flags;
}

static const struct em_observer_ops cap_ops = {NULL, cap_updated, NULL};

static void test_adjust_cpu_capacity(void **state)
{
	/*
	 * kernel/power/energy_model.c em_adjust_cpu_capacity() -> em_adjust_new_capacity():
	 * performance = capacity * freq / fmax (em_init_performance), costs by
	 * em_compute_costs() (power * 10 / performance), then em_recalc_and_update() ->
	 * em_dev_update_perf_domain(), which notifies "updated".
	 * Domain a at 512 -> 256: performance 128, 204 (204.8), 256; costs
	 * 1000000/128 = 7812, 1500000/204 = 7352, 3000000/256 = 11718; state 0 stays
	 * inefficient (7812 >= 7352).
	 */
	unsigned int id;
	struct em_registry *reg = reg_with_a(&id);
	struct cap_log l = {0};
	const struct em_perf_table *t;
	struct em_error err;

	(void)state;
	assert_int_equal(em_observer_add(reg, &cap_ops, &l), 0);
	assert_int_equal(em_pd_set_perf_limits(reg, 0, 800000, 1000000, NULL), 0);
	assert_int_equal(em_adjust_cpu_capacity(reg, 1, 256, &err), 0);
	assert_int_equal(l.updates, 1);
	assert_int_equal(l.perf1, 204);
	assert_int_equal(l.cost1, 7352);
	em_read_lock();
	assert_int_equal(em_pd_capacity(em_pd_get(reg, 0)), 256);
	t = em_pd_table(em_pd_get(reg, 0));
	assert_int_equal(t->states[0].performance, 128);
	assert_int_equal(t->states[0].cost, 7812);
	assert_int_equal(t->states[2].performance, 256);
	assert_int_equal(t->states[2].cost, 11718);
	assert_int_equal(t->states[0].flags, EM_PS_INEFFICIENT);
	assert_int_equal(t->states[1].flags, 0);
	assert_int_equal(t->min_state, 1); /* limits kept */
	assert_int_equal(t->max_state, 2);
	em_read_unlock();
	/* The top state already has this performance: nothing, nobody told. */
	assert_int_equal(em_adjust_cpu_capacity(reg, 0, 256, &err), 0);
	assert_int_equal(l.updates, 1);
	/* Errors: -EINVAL, as em_dev_update_perf_domain() answers for no domain. */
	assert_int_equal(em_adjust_cpu_capacity(reg, 5, 256, &err), -EINVAL);
	assert_string_equal(err.msg, "CPU 5 is in no performance domain");
	assert_int_equal(em_adjust_cpu_capacity(reg, 0, 1025, &err), -EINVAL);
	assert_string_equal(err.msg, "domain 'a': capacity 1025 is not in 1..1024");
	/* 1 * 500000 / 1000000 = 0: the kernel would divide by zero for the cost. */
	assert_int_equal(em_adjust_cpu_capacity(reg, 0, 1, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "domain 'a': state 0: performance 1 * 500000 / 1000000 rounds to 0, so cost cannot be computed");
	assert_int_equal(l.updates, 1);
	em_read_lock();
	assert_int_equal(em_adjust_cpu_capacity(reg, 0, 300, &err), -EDEADLK);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_adjust_keeps_inefficient_flag(void **state)
{
	/*
	 * em_compute_costs() only sets EM_PERF_STATE_INEFFICIENT on the copy made by
	 * em_table_dup(); it never clears it. States {500 MHz, 999 uW}, {1 GHz, 2000 uW}:
	 * at capacity 1024, performance 512 and 1024, costs 9990/512 = 19 and
	 * 20000/1024 = 19: state 0 is inefficient (19 >= 19). At 1000: 9990/500 = 19 and
	 * 20000/1000 = 20: a fresh table says efficient, the adjusted one keeps the flag.
	 */
	static const struct em_state_desc st[] = {{500000, 999, 0}, {1000000, 2000, 0}};
	struct em_registry *reg = em_registry_new(), *fresh = em_registry_new();
	struct em_cpumask m = mask(0, 1), m2 = mask(0, 1);
	const struct em_perf_table *t;

	(void)state;
	assert_int_equal(em_pd_register_cpus(reg, "c", &m, 1024, EM_PD_MICROWATTS, st, 2, NULL, NULL), 0);
	assert_int_equal(em_pd_register_cpus(fresh, "c", &m2, 1000, EM_PD_MICROWATTS, st, 2, NULL, NULL), 0);
	em_read_lock();
	assert_int_equal(em_pd_table(em_pd_get(reg, 0))->states[0].flags, EM_PS_INEFFICIENT);
	assert_int_equal(em_pd_table(em_pd_get(fresh, 0))->states[0].flags, 0);
	em_read_unlock();
	assert_int_equal(em_adjust_cpu_capacity(reg, 0, 1000, NULL), 0);
	em_read_lock();
	t = em_pd_table(em_pd_get(reg, 0));
	assert_int_equal(t->states[0].cost, 19);
	assert_int_equal(t->states[1].cost, 20);
	assert_int_equal(t->states[0].flags, EM_PS_INEFFICIENT);
	em_read_unlock();
	em_registry_free(reg);
	em_registry_free(fresh);
}

static void test_fixed_ids_and_device_names(void **state)
{
	struct em_registry *reg = em_registry_new();
	struct em_pd_desc d = {
		.name = "soc:gpu@ff9a0000", .flags = EM_PD_MICROWATTS, .nr_states = 2,
		.states = dev_states, .fixed_id = true, .id = 3,
	};
	struct em_error err;
	unsigned int id;

	(void)state;
	/* Any dev_name() is a name: the kernel's debugfs directory is named after it. */
	assert_int_equal(em_pd_register(reg, &d, &id, &err), 0);
	assert_int_equal(id, 3);
	/* The lowest free id is still 0. */
	assert_int_equal(em_pd_register_device(reg, "odd \"name\" \\ 1", EM_PD_MICROWATTS,
					       dev_states, 2, &id, &err),
			 0);
	assert_int_equal(id, 0);
	d.name = "other";
	assert_int_equal(em_pd_register(reg, &d, &id, &err), -EEXIST);
	assert_string_equal(err.msg, "domain 'other': id 3 is taken by domain 'soc:gpu@ff9a0000'");
	d.id = EM_PD_ID_MAX + 1;
	assert_int_equal(em_pd_register(reg, &d, &id, &err), -EINVAL);
	assert_string_equal(err.msg, "domain 'other': id 65536 is above 65535");
	d.id = 200; /* beyond the first word of the id bitmap */
	assert_int_equal(em_pd_register(reg, &d, &id, &err), 0);
	assert_int_equal(id, 200);
	em_read_lock();
	assert_string_equal(em_pd_name(em_pd_get(reg, 3)), "soc:gpu@ff9a0000");
	assert_non_null(em_pd_by_name(reg, "odd \"name\" \\ 1"));
	em_read_unlock();
	/* Freed fixed ids are reused like any other. */
	assert_int_equal(em_pd_unregister(reg, 3, NULL), 0);
	assert_int_equal(em_pd_register_device(reg, "x1", EM_PD_MICROWATTS, dev_states, 2, &id, NULL), 0);
	assert_int_equal(id, 1);
	em_registry_free(reg);
}

static void test_writer_in_read_section(void **state)
{
	struct em_registry *reg = em_registry_new();
	struct em_error err;

	(void)state;
	em_read_lock();
	assert_int_equal(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, dev_states, 2, NULL,
					       &err),
			 -EDEADLK);
	assert_string_equal(err.msg,
			    "registry change requested inside a read section (it would wait for itself)");
	assert_int_equal(em_registry_synchronize(reg), -EDEADLK);
	em_read_unlock();
	em_registry_free(reg);
}

static void test_cpumask(void **state)
{
	struct em_cpumask m;
	struct em_error err;
	char buf[64];

	(void)state;
	assert_int_equal(em_cpumask_parse(&m, "0-3,5,64-65\n", &err), 0);
	assert_int_equal(em_cpumask_weight(&m), 7);
	em_cpumask_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,5,64-65");
	assert_int_equal(em_cpumask_parse(&m, "3-1", &err), -EINVAL);
	assert_string_equal(err.msg, "CPU list '3-1': range 3-1 is backwards");
	assert_int_equal(em_cpumask_parse(&m, "1,x", &err), -EINVAL);
	assert_string_equal(err.msg, "CPU list '1,x': expected a CPU number at 'x'");
	assert_int_equal(em_cpumask_parse(&m, "2048", &err), -EINVAL);
	assert_string_equal(err.msg, "CPU list '2048': CPU 2048 is not below 1024");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_costs_and_inefficiency),
		cmocka_unit_test(test_equal_cost_is_inefficient),
		cmocka_unit_test(test_artificial_and_device),
		cmocka_unit_test(test_ids_order_lookup),
		cmocka_unit_test(test_resume_by_seq),
		cmocka_unit_test(test_validation_messages),
		cmocka_unit_test(test_cpu_in_one_domain),
		cmocka_unit_test(test_replace_and_limits),
		cmocka_unit_test(test_observers),
		cmocka_unit_test(test_adjust_cpu_capacity),
		cmocka_unit_test(test_adjust_keeps_inefficient_flag),
		cmocka_unit_test(test_fixed_ids_and_device_names),
		cmocka_unit_test(test_writer_in_read_section),
		cmocka_unit_test(test_cpumask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
