/*
 * The registry's indexes by id (issue 10) and by name: em_pd_get() and
 * em_pd_by_name() answer from the published set's indexes, so they must agree
 * with the set itself after every kind of change — registration (lowest free
 * id), unregistration (holes), table replacement (same domain), a batch — and
 * em_pd_id_end() bounds a walk in id order, as emd's dump does. The reference
 * is a walk of em_for_each_pd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"

static const struct em_state_desc st[] = {{100000, 5000, 0}, {200000, 9000, 0}};

/* The domain with @id by walking the set (what the index must agree with). */
static const struct em_pd *walk_find(const struct em_registry *reg, unsigned int id)
{
	const struct em_pd *pd;

	em_for_each_pd(pd, reg)
		if (em_pd_id(pd) == id)
			return pd;
	return NULL;
}

/* The domain named @name by walking the set. */
static const struct em_pd *walk_find_name(const struct em_registry *reg, const char *name)
{
	const struct em_pd *pd;

	em_for_each_pd(pd, reg)
		if (!strcmp(em_pd_name(pd), name))
			return pd;
	return NULL;
}

/* Every id up to a bit past the end, and every name the tests give (d0..d2999):
 * indexes and walk agree; the end is exact. */
static void check_index(const struct em_registry *reg)
{
	unsigned int end, max_plus_one = 0;
	const struct em_pd *pd;

	em_read_lock();
	end = em_pd_id_end(reg);
	em_for_each_pd(pd, reg)
		if (em_pd_id(pd) + 1 > max_plus_one)
			max_plus_one = em_pd_id(pd) + 1;
	assert_int_equal(end, max_plus_one);
	for (unsigned int id = 0; id < end + 70; id++) {
		pd = em_pd_get(reg, id);
		assert_ptr_equal(pd, walk_find(reg, id));
		if (pd)
			assert_int_equal(em_pd_id(pd), id);
	}
	for (unsigned int i = 0; i < 3000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "d%u", i);
		assert_ptr_equal(em_pd_by_name(reg, name), walk_find_name(reg, name));
	}
	em_read_unlock();
}

static unsigned int add(struct em_registry *reg, unsigned int i)
{
	char name[32];
	unsigned int id;

	snprintf(name, sizeof(name), "d%u", i);
	assert_int_equal(em_pd_register_device(reg, name, EM_PD_MICROWATTS, st, 2, &id, NULL), 0);
	return id;
}

static void test_index_follows_changes(void **state)
{
	struct em_registry *reg = em_registry_new();

	(void)state;
	check_index(reg); /* empty: end 0, nothing found */
	for (unsigned int i = 0; i < 200; i++)
		assert_int_equal(add(reg, i), i);
	check_index(reg);
	/* Holes: every third id, and the last one. */
	for (unsigned int id = 0; id < 200; id += 3)
		assert_int_equal(em_pd_unregister(reg, id, NULL), 0);
	assert_int_equal(em_pd_unregister(reg, 199, NULL), 0);
	check_index(reg);
	assert_int_equal(em_pd_unregister(reg, 0, NULL), -ENOENT);
	/* New domains fill the lowest holes first. */
	assert_int_equal(add(reg, 1000), 0);
	assert_int_equal(add(reg, 1001), 3);
	check_index(reg);
	/* A new table keeps the domain where it is. */
	assert_int_equal(em_table_replace(reg, 3, st, 2, NULL), 0);
	check_index(reg);
	/* Down to nothing and up again. */
	for (unsigned int id = 0; id < 200; id++)
		em_pd_unregister(reg, id, NULL);
	check_index(reg);
	assert_int_equal(add(reg, 2000), 0);
	check_index(reg);
	/* A batch: a name it removes comes back in another domain. */
	{
		struct em_batch *b = em_batch_new(reg);
		struct em_pd_desc d = {.name = "d2000", .flags = EM_PD_MICROWATTS, .nr_states = 2,
				       .states = st};

		assert_non_null(b);
		assert_int_equal(em_batch_unregister(b, 0, NULL), 0);
		assert_int_equal(em_batch_register(b, &d, NULL, NULL), 0);
		for (unsigned int i = 2001; i < 2600; i++) {
			char name[32];

			snprintf(name, sizeof(name), "d%u", i);
			d.name = name;
			assert_int_equal(em_batch_register(b, &d, NULL, NULL), 0);
		}
		assert_int_equal(em_batch_commit(b, NULL), 0);
		em_batch_free(b);
	}
	check_index(reg);
	em_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_follows_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
