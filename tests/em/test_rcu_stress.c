/*
 * RCU stress: reader threads check that every table they see is whole while a writer
 * replaces one domain's table 100,000 times and registers / unregisters a device
 * domain. Generation g's table has power[i] = (g + 1) * (i + 1), so a mix of two
 * tables, or a freed one, is caught by the readers' checks; readers also check that
 * generations never go backwards. Runs in the 'tsan' suite too.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"

#define NR_READERS      3
#define NR_REPLACEMENTS 100000UL
#define NR_STATES       4

static const unsigned long freqs[NR_STATES] = {500000, 1000000, 1500000, 2000000};

struct shared {
	struct em_registry *reg;
	int stop;
	unsigned long errors;
	unsigned long reads;
	unsigned long device_seen;
	unsigned long updates_observed;
};

static void fill(struct em_state_desc *st, unsigned long gen)
{
	for (unsigned int i = 0; i < NR_STATES; i++) {
		st[i].frequency = freqs[i];
		st[i].power = (gen + 1) * (i + 1);
		st[i].cost = 0;
	}
}

/* True if t is generation g's table for capacity 1024, whole. */
static bool table_ok(const struct em_perf_table *t, unsigned long *gen)
{
	unsigned long g;

	if (t->nr_states != NR_STATES || t->states[0].power == 0)
		return false;
	g = t->states[0].power - 1;
	for (unsigned int i = 0; i < NR_STATES; i++) {
		const struct em_perf_state *ps = &t->states[i];
		unsigned long perf = 1024 * freqs[i] / freqs[NR_STATES - 1];

		if (ps->frequency != freqs[i] || ps->power != (g + 1) * (i + 1) ||
		    ps->performance != perf || ps->cost != ps->power * 10 / perf)
			return false;
	}
	*gen = g;
	return true;
}

static void *reader(void *arg)
{
	struct shared *sh = arg;
	unsigned long last = 0, reads = 0, errors = 0, device = 0;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		const struct em_pd *pd, *dev;
		unsigned long g;

		em_read_lock();
		pd = em_pd_of_cpu(sh->reg, 1);
		if (!pd || !table_ok(em_pd_table(pd), &g) || g < last)
			errors++;
		else
			last = g;
		dev = em_pd_by_name(sh->reg, "gpu");
		if (dev) {
			const struct em_perf_table *t = em_pd_table(dev);

			device++;
			if (t->nr_states != 2 || t->states[0].power != 7 || t->states[1].power != 9 ||
			    em_pd_id(dev) != 1)
				errors++;
		}
		em_read_unlock();
		reads++;
	}
	__atomic_fetch_add(&sh->reads, reads, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->errors, errors, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->device_seen, device, __ATOMIC_RELAXED);
	return NULL;
}

static void on_updated(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	struct shared *sh = ctx;

	(void)pd;
	(void)t;
	sh->updates_observed++;
}

static const struct em_observer_ops ops = {NULL, on_updated, NULL};

static void test_replace_under_readers(void **state)
{
	struct shared sh = {0};
	struct em_state_desc st[NR_STATES];
	const struct em_state_desc dev[2] = {{100, 7, 0}, {200, 9, 0}};
	struct em_cpumask m = {0};
	pthread_t th[NR_READERS];
	struct em_error err;
	bool dev_on = false;

	(void)state;
	sh.reg = em_registry_new();
	assert_non_null(sh.reg);
	em_cpumask_set(&m, 0);
	em_cpumask_set(&m, 1);
	fill(st, 0);
	assert_int_equal(em_pd_register_cpus(sh.reg, "cl", &m, 1024, EM_PD_MICROWATTS, st,
					     NR_STATES, NULL, &err),
			 0);
	assert_int_equal(em_observer_add(sh.reg, &ops, &sh), 0);
	for (int i = 0; i < NR_READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &sh), 0);
	for (unsigned long g = 1; g <= NR_REPLACEMENTS; g++) {
		fill(st, g);
		if (em_table_replace(sh.reg, 0, st, NR_STATES, &err))
			fail_msg("replace %lu: %s", g, err.msg);
		if (g % 97 == 0) {
			if (dev_on)
				assert_int_equal(em_pd_unregister(sh.reg, 1, &err), 0);
			else
				assert_int_equal(em_pd_register_device(sh.reg, "gpu",
								       EM_PD_MICROWATTS, dev, 2,
								       NULL, &err),
						 0);
			dev_on = !dev_on;
		}
	}
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NR_READERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(sh.errors, 0);
	assert_true(sh.reads > 0);
	assert_int_equal(sh.updates_observed, NR_REPLACEMENTS);
	em_read_lock();
	{
		unsigned long g;

		assert_true(table_ok(em_pd_table(em_pd_get(sh.reg, 0)), &g));
		assert_int_equal(g, NR_REPLACEMENTS);
	}
	em_read_unlock();
	print_message("# %lu reads, %lu saw the device domain\n", sh.reads, sh.device_seen);
	em_registry_free(sh.reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_under_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
