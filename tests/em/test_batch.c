/*
 * Batches (em.h, "Batches"): many changes staged apart from the registry, then
 * published by one store. The reference is the registry's own one-by-one calls:
 *
 *   - a random sequence of changes (registrations with and without names, CPUs and
 *     fixed ids, unregistrations, table replacements, capacity changes, and calls
 *     that must fail) gives, staged in a batch, the same return values, messages
 *     and ids as the calls one by one, and after the commit the same registry
 *     (order, ids, names, capacities, every table) and the same observer calls in
 *     the same order;
 *   - readers on other threads during commits of batches that replace every table
 *     see, within one read section, all old tables or all new ones (the one-by-one
 *     calls would show a mix) — this one also runs under ThreadSanitizer;
 *   - a batch staged on one thread is committed on another while readers read;
 *   - a batch whose registry another writer changed is refused whole (-ESTALE);
 *   - every allocation a batch makes fails in turn: -ENOMEM, the registry
 *     unchanged, nothing leaked (ASan).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"
#include "internal.h"

/* ---- the observer's log ---------------------------------------------------------- */

struct log {
	char *text;
	size_t len, cap;
};

static void logf_(struct log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct log *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->cap - l->len < 4096) {
		l->cap = l->cap ? 2 * l->cap : 1 << 16;
		l->text = realloc(l->text, l->cap);
		assert_non_null(l->text);
	}
	va_start(ap, fmt);
	n = vsnprintf(l->text + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	l->len += (size_t)n;
}

static void log_table(struct log *l, const struct em_perf_table *t)
{
	for (unsigned int i = 0; i < t->nr_states; i++)
		logf_(l, " [%lu %lu %lu %lu %lu]", t->states[i].performance, t->states[i].frequency,
		      t->states[i].power, t->states[i].cost, t->states[i].flags);
}

static void on_created(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	logf_(ctx, "created %u %s cap %u:", em_pd_id(pd), em_pd_name(pd), em_pd_capacity(pd));
	log_table(ctx, t);
	logf_(ctx, "\n");
}

static void on_updated(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	logf_(ctx, "updated %u %s cap %u:", em_pd_id(pd), em_pd_name(pd), em_pd_capacity(pd));
	log_table(ctx, t);
	logf_(ctx, "\n");
}

static void on_deleted(void *ctx, unsigned int id)
{
	logf_(ctx, "deleted %u\n", id);
}

static const struct em_observer_ops log_ops = {on_created, on_updated, on_deleted};

/* Everything a reader can see of @reg, in iteration order. */
static void describe(const struct em_registry *reg, struct log *out)
{
	const struct em_pd *pd;
	char cpus[256];

	em_read_lock();
	logf_(out, "%u domains, id end %u\n", em_pd_count(reg), em_pd_id_end(reg));
	em_for_each_pd(pd, reg) {
		const struct em_perf_table *t = em_pd_table(pd);

		cpus[0] = '\0';
		if (em_pd_is_cpu(pd))
			em_cpumask_format(em_pd_cpus(pd), cpus, sizeof(cpus));
		logf_(out, "%u seq %llu %s flags %lu cpus %s cap %u limits %u-%u:", em_pd_id(pd),
		      (unsigned long long)em_pd_seq(pd), em_pd_name(pd), em_pd_flags(pd), cpus,
		      em_pd_capacity(pd), t->min_state, t->max_state);
		log_table(out, t);
		logf_(out, "\n");
		assert_ptr_equal(em_pd_get(reg, em_pd_id(pd)), pd);
	}
	em_read_unlock();
}

/* ---- random changes ------------------------------------------------------------- */

static unsigned int rnd(unsigned int *s, unsigned int n)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) % n;
}

struct change {
	int kind; /* 0 register, 1 unregister, 2 replace, 3 capacity */
	struct em_pd_desc desc;
	struct em_cpumask cpus;
	char name[32];
	unsigned int id, cpu, capacity, nr;
	struct em_state_desc st[4];
};

/* A change, often valid, sometimes not (taken names and CPUs, unknown ids, bad
 * states, CPU domains unregistered). */
static void make_change(unsigned int *s, struct change *c, unsigned int i)
{
	memset(c, 0, sizeof(*c));
	c->kind = (int)rnd(s, 4);
	c->nr = 1 + rnd(s, 4);
	for (unsigned int k = 0; k < c->nr; k++) {
		c->st[k].frequency = 100000 * (k + 1) + rnd(s, 3) * 10;
		c->st[k].power = 1000 + rnd(s, 5000);
	}
	if (rnd(s, 10) == 0)
		c->st[0].power = 0; /* invalid */
	c->id = rnd(s, 24);
	c->cpu = rnd(s, 12);
	c->capacity = 100 + rnd(s, 925);
	if (c->kind == 0) {
		bool cpu = rnd(s, 3) == 0;

		snprintf(c->name, sizeof(c->name), "d%u", rnd(s, 3) ? i : rnd(s, 20));
		c->desc.name = rnd(s, 8) ? c->name : NULL;
		c->desc.flags = EM_PD_MICROWATTS | (rnd(s, 2) ? EM_PD_SKIP_INEFFICIENCIES : 0);
		if (cpu) {
			em_cpumask_set(&c->cpus, c->cpu);
			if (rnd(s, 2))
				em_cpumask_set(&c->cpus, c->cpu + 1);
			c->desc.cpus = &c->cpus;
			c->desc.capacity = c->capacity;
		}
		c->desc.nr_states = c->nr;
		c->desc.states = c->st;
		if (rnd(s, 6) == 0) {
			c->desc.fixed_id = true;
			c->desc.id = c->id + 10;
		}
	}
}

static int apply_one(struct em_registry *reg, const struct change *c, unsigned int *id,
		     struct em_error *err)
{
	switch (c->kind) {
	case 0:
		return em_pd_register(reg, &c->desc, id, err);
	case 1:
		return em_pd_unregister(reg, c->id, err);
	case 2:
		return em_table_replace(reg, c->id, c->st, c->nr, err);
	default:
		return em_adjust_cpu_capacity(reg, c->cpu, c->capacity, err);
	}
}

static int stage(struct em_batch *b, const struct change *c, unsigned int *id,
		 struct em_error *err)
{
	switch (c->kind) {
	case 0:
		return em_batch_register(b, &c->desc, id, err);
	case 1:
		return em_batch_unregister(b, c->id, err);
	case 2:
		return em_batch_table_replace(b, c->id, c->st, c->nr, err);
	default:
		return em_batch_adjust_cpu_capacity(b, c->cpu, c->capacity, err);
	}
}

/* Batches of random changes give what the calls one by one give. */
static void test_same_as_one_by_one(void **state)
{
	unsigned int seed = 12345, applied = 0, failed = 0;

	(void)state;
	for (unsigned int round = 0; round < 200; round++) {
		struct em_registry *a = em_registry_new(), *b = em_registry_new();
		struct log la = {0}, lb = {0}, da = {0}, db = {0};
		unsigned int n = 1 + rnd(&seed, 60);
		struct em_batch *batch;

		/* Both start from the same few domains, the batch's from one batch too. */
		assert_int_equal(em_observer_add(a, &log_ops, &la), 0);
		assert_int_equal(em_observer_add(b, &log_ops, &lb), 0);
		for (unsigned int pre = 0; pre < 2; pre++) {
			unsigned int pre_n = rnd(&seed, 8);

			batch = em_batch_new(b);
			assert_non_null(batch);
			for (unsigned int i = 0; i < (pre ? n : pre_n); i++) {
				struct change c;
				struct em_error ea = {{0}}, eb = {{0}};
				unsigned int ida = 999, idb = 999;
				int ra, rb;

				make_change(&seed, &c, i + 100 * pre);
				ra = apply_one(a, &c, &ida, &ea);
				rb = stage(batch, &c, &idb, &eb);
				assert_int_equal(rb, ra);
				assert_string_equal(eb.msg, ea.msg);
				if (c.kind == 0 && !ra)
					assert_int_equal(idb, ida);
				if (ra)
					failed++;
				else
					applied++;
			}
			/* Nothing is visible before the commit. */
			assert_int_equal(em_batch_commit(batch, NULL), 0);
			assert_int_equal(em_batch_changes(batch), 0);
			em_batch_free(batch);
			describe(a, &da);
			describe(b, &db);
			assert_string_equal(db.text ? db.text : "", da.text ? da.text : "");
			assert_string_equal(lb.text ? lb.text : "", la.text ? la.text : "");
		}
		em_registry_free(a);
		em_registry_free(b);
		free(la.text);
		free(lb.text);
		free(da.text);
		free(db.text);
	}
	print_message("# %u changes applied, %u refused alike\n", applied, failed);
	assert_true(applied > 1000 && failed > 100);
}

/* The observers hear nothing, and readers see nothing, before the commit. */
static void test_nothing_before_commit(void **state)
{
	struct em_registry *reg = em_registry_new();
	const struct em_state_desc st[] = {{100000, 5000, 0}, {200000, 9000, 0}};
	struct em_pd_desc d = {.name = "gpu", .flags = EM_PD_MICROWATTS, .nr_states = 2,
			       .states = st};
	struct log l = {0};
	struct em_batch *b;
	unsigned int id = 99;

	(void)state;
	assert_int_equal(em_observer_add(reg, &log_ops, &l), 0);
	b = em_batch_new(reg);
	assert_non_null(b);
	assert_int_equal(em_batch_register(b, &d, &id, NULL), 0);
	assert_int_equal(id, 0);
	assert_int_equal(em_batch_changes(b), 1);
	em_read_lock();
	assert_int_equal(em_pd_count(reg), 0);
	/* A commit inside a read section would wait for itself. */
	assert_int_equal(em_batch_commit(b, NULL), -EDEADLK);
	em_read_unlock();
	assert_null(l.text);
	/* Freed without a commit: nothing happened, nothing leaks. */
	em_batch_free(b);
	em_read_lock();
	assert_int_equal(em_pd_count(reg), 0);
	em_read_unlock();
	em_registry_free(reg);
}

/* Another writer in between: the batch is refused whole. */
static void test_stale(void **state)
{
	struct em_registry *reg = em_registry_new();
	const struct em_state_desc st[] = {{100000, 5000, 0}};
	struct em_state_desc st2[] = {{100000, 6000, 0}};
	struct em_error err;
	struct em_batch *b;

	(void)state;
	assert_int_equal(em_pd_register_device(reg, "a", EM_PD_MICROWATTS, st, 1, NULL, NULL), 0);
	b = em_batch_new(reg);
	assert_non_null(b);
	assert_int_equal(em_batch_table_replace(b, 0, st2, 1, NULL), 0);
	assert_int_equal(em_pd_register_device(reg, "b", EM_PD_MICROWATTS, st, 1, NULL, NULL), 0);
	assert_int_equal(em_batch_unregister(b, 0, &err), -ESTALE);
	assert_int_equal(em_batch_commit(b, &err), -ESTALE);
	assert_string_equal(err.msg, "the registry changed since the batch began");
	em_batch_free(b);
	em_read_lock();
	assert_int_equal(em_pd_count(reg), 2);
	assert_int_equal(em_pd_table(em_pd_get(reg, 0))->states[0].power, 5000);
	em_read_unlock();
	em_registry_free(reg);
}

/* ---- readers during commits ------------------------------------------------------ */

#define NR_PD 64

struct shared {
	struct em_registry *reg;
	int stop;
	unsigned long sections, mixed, versions_seen;
};

/* In each read section: every domain's table carries the same version (power). */
static void *reader(void *arg)
{
	struct shared *sh = arg;
	unsigned long last = 0;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		const struct em_pd *pd;
		unsigned long v = 0;
		bool first = true;

		em_read_lock();
		em_for_each_pd(pd, sh->reg) {
			unsigned long p = em_pd_table(pd)->states[0].power;

			if (first)
				v = p;
			else if (p != v)
				__atomic_add_fetch(&sh->mixed, 1, __ATOMIC_RELAXED);
			first = false;
		}
		em_read_unlock();
		if (v != last)
			__atomic_add_fetch(&sh->versions_seen, 1, __ATOMIC_RELAXED);
		last = v;
		__atomic_add_fetch(&sh->sections, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* A batch replacing every table with version @v, staged on this thread. */
static struct em_batch *stage_version(struct em_registry *reg, unsigned long v)
{
	struct em_batch *b = em_batch_new(reg);
	struct em_state_desc st[2] = {{100000, v, 0}, {200000, v + 1, 0}};

	assert_non_null(b);
	for (unsigned int id = 0; id < NR_PD; id++)
		assert_int_equal(em_batch_table_replace(b, id, st, 2, NULL), 0);
	return b;
}

static void *stager(void *arg)
{
	struct shared *sh = arg;

	return stage_version(sh->reg, 777777);
}

static void test_readers_see_whole_batches(void **state)
{
	struct shared sh = {.reg = em_registry_new()};
	pthread_t r[2], s;
	struct em_batch *b;
	void *staged;

	(void)state;
	for (unsigned int i = 0; i < NR_PD; i++) {
		struct em_state_desc st[2] = {{100000, 1000, 0}, {200000, 1001, 0}};
		char name[16];

		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(em_pd_register_device(sh.reg, name, EM_PD_MICROWATTS, st, 2, NULL,
						       NULL), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, &sh), 0);
	for (unsigned long v = 2000; v < 2300; v++) {
		b = stage_version(sh.reg, v);
		assert_int_equal(em_batch_commit(b, NULL), 0);
		em_batch_free(b);
	}
	/* Staged on another thread (while the readers read), committed on this one. */
	assert_int_equal(pthread_create(&s, NULL, stager, &sh), 0);
	assert_int_equal(pthread_join(s, &staged), 0);
	assert_int_equal(em_batch_commit(staged, NULL), 0);
	em_batch_free(staged);
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	print_message("# %lu read sections, %lu version changes seen, %lu mixed\n", sh.sections,
		      sh.versions_seen, sh.mixed);
	assert_int_equal(sh.mixed, 0);
	em_read_lock();
	assert_int_equal(em_pd_table(em_pd_get(sh.reg, NR_PD - 1))->states[0].power, 777777);
	em_read_unlock();
	em_registry_free(sh.reg);
}

/* ---- allocation failures ---------------------------------------------------------- */

/* One batch scenario; returns true when it ran through without the injected failure. */
static bool batch_scenario(void)
{
	struct em_registry *reg = em_registry_new();
	const struct em_state_desc st[] = {{100000, 5000, 0}, {200000, 9000, 0}};
	struct em_state_desc st2[] = {{100000, 6000, 0}, {200000, 9500, 0}};
	struct em_cpumask cpus = {{0}};
	struct em_error err = {{0}};
	struct log before = {0}, after = {0};
	struct em_batch *b;
	bool done = false;
	int ret = 0;

	if (!reg)
		return false;
	em_cpumask_set(&cpus, 0);
	if (em_pd_register_cpus(reg, "c", &cpus, 512, EM_PD_MICROWATTS, st, 2, NULL, NULL) ||
	    em_pd_register_device(reg, "g", EM_PD_MICROWATTS, st, 2, NULL, NULL))
		goto out;
	describe(reg, &before);
	b = em_batch_new(reg);
	if (!b)
		goto check;
	for (unsigned int i = 0; !ret && i < 70; i++) {
		char name[16];

		snprintf(name, sizeof(name), "n%u", i);
		ret = em_batch_register(b, &(struct em_pd_desc){.name = name,
								 .flags = EM_PD_MICROWATTS,
								 .nr_states = 2, .states = st},
					NULL, &err);
	}
	if (!ret)
		ret = em_batch_table_replace(b, 1, st2, 2, &err);
	if (!ret)
		ret = em_batch_adjust_cpu_capacity(b, 0, 1000, &err);
	if (!ret)
		ret = em_batch_unregister(b, 1, &err);
	if (!ret)
		ret = em_batch_commit(b, &err);
	if (ret) {
		assert_int_equal(ret, -ENOMEM);
		assert_string_equal(err.msg, "out of memory");
	}
	em_batch_free(b);
	done = !ret;
check:
	describe(reg, &after);
	if (done)
		assert_true(strstr(after.text, "71 domains") != NULL);
	else
		assert_string_equal(after.text, before.text); /* unchanged */
out:
	em_registry_free(reg);
	free(before.text);
	free(after.text);
	return done;
}

static void test_allocation_failures(void **state)
{
	long n;

	(void)state;
	for (n = 1; n < 100000; n++) {
		em_test_fail_allocation(n);
		if (batch_scenario() && em_test_allocation_countdown() > 0)
			break; /* ran through without reaching the n-th allocation */
	}
	em_test_fail_allocation(0);
	print_message("# batch scenario: %ld allocations, each failed in turn\n", n - 1);
	assert_true(n > 10 && n < 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_one_by_one),
		cmocka_unit_test(test_nothing_before_commit),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_readers_see_whole_batches),
		cmocka_unit_test(test_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
