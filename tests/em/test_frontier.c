/*
 * Frontier tests: em_frontier_compute() against brute force on random models of up
 * to 14 CPUs, and by hand on small ones.
 *
 * The problem (scx_utils' EnergyModelOptimizer, used by scx_lavd): a level's
 * performance is the sum over the running CPUs of their domain's state performance,
 * its power the sum of those states' power; for every performance, the least power
 * that reaches at least it. The brute force enumerates every choice of CPUs and
 * states (each domain: none, or k of its CPUs at one allowed state), keeps per exact
 * performance the least (power, domains, CPUs), and keeps the performances whose
 * power is below that of every higher one: exactly the levels the library must list.
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

struct bf_dom {
	unsigned int n, lo, hi;      /* CPUs, allowed states lo..hi */
	unsigned long perf[8], power[8];
};

struct best {
	uint64_t w;
	unsigned int nd, nc;
	bool set;
};

static bool better(uint64_t w, unsigned int nd, unsigned int nc, const struct best *b)
{
	if (!b->set)
		return true;
	if (w != b->w)
		return w < b->w;
	if (nd != b->nd)
		return nd < b->nd;
	return nc < b->nc;
}

static void enumerate(const struct bf_dom *d, unsigned int nd_total, unsigned int i,
		      uint64_t perf, uint64_t w, unsigned int nd, unsigned int nc, struct best *best)
{
	if (i == nd_total) {
		if (better(w, nd, nc, &best[perf]))
			best[perf] = (struct best){w, nd, nc, true};
		return;
	}
	enumerate(d, nd_total, i + 1, perf, w, nd, nc, best);
	for (unsigned int k = 1; k <= d[i].n; k++)
		for (unsigned int s = d[i].lo; s <= d[i].hi; s++)
			enumerate(d, nd_total, i + 1, perf + k * d[i].perf[s],
				  w + k * d[i].power[s], nd + 1, nc + k, best);
}

/* Check f against brute force over the registry's domains (all CPU domains). */
static void check_against_brute_force(const struct em_registry *reg, const struct em_frontier *f,
				      int round)
{
	struct bf_dom d[8];
	uint64_t total = 0;
	unsigned int nd = 0, nl = 0;
	struct best *best;
	const struct em_pd *pd;

	em_read_lock();
	em_for_each_pd(pd, reg) {
		const struct em_perf_table *t = em_pd_table(pd);

		if (!em_pd_is_cpu(pd))
			continue;
		d[nd].n = em_cpumask_weight(em_pd_cpus(pd));
		d[nd].lo = t->min_state;
		d[nd].hi = t->max_state;
		for (unsigned int s = 0; s < t->nr_states; s++) {
			d[nd].perf[s] = t->states[s].performance;
			d[nd].power[s] = t->states[s].power;
		}
		total += d[nd].n * t->states[t->max_state].performance;
		nd++;
	}
	em_read_unlock();
	best = calloc(total + 1, sizeof(*best));
	assert_non_null(best);
	enumerate(d, nd, 0, 0, 0, 0, 0, best);
	/* The Pareto front, from the top down. */
	uint64_t min_w = UINT64_MAX;
	unsigned int *lv = calloc(total + 1, sizeof(*lv));

	for (uint64_t p = total + 1; p-- > 1;) {
		if (best[p].set && best[p].w < min_w) {
			min_w = best[p].w;
			lv[nl++] = (unsigned int)p;
		}
	}
	if (nl != f->nr_levels)
		fail_msg("round %d: %u levels, brute force %u", round, f->nr_levels, nl);
	for (unsigned int i = 0; i < nl; i++) {
		const struct em_frontier_level *l = &f->levels[i];
		const struct best *b = &best[lv[nl - 1 - i]];
		uint64_t perf = 0, w = 0;
		unsigned int used = 0;

		if (l->performance != lv[nl - 1 - i] || l->power != b->w || l->nr_domains != b->nd ||
		    l->nr_cpus_used != b->nc)
			fail_msg("round %d level %u: perf %llu power %llu domains %u cpus %u; brute force perf %u power %llu domains %u cpus %u",
				 round, i, (unsigned long long)l->performance,
				 (unsigned long long)l->power, l->nr_domains, l->nr_cpus_used,
				 lv[nl - 1 - i], (unsigned long long)b->w, b->nd, b->nc);
		/* The states it names give what it says. */
		for (unsigned int k = 0; k < nd; k++) {
			if (!l->nr_cpus[k]) {
				assert_int_equal(l->state[k], EM_FRONTIER_OFF);
				continue;
			}
			assert_true(l->state[k] >= d[k].lo && l->state[k] <= d[k].hi);
			perf += l->nr_cpus[k] * d[k].perf[l->state[k]];
			w += l->nr_cpus[k] * d[k].power[l->state[k]];
			used += l->nr_cpus[k];
		}
		assert_int_equal(perf, l->performance);
		assert_int_equal(w, l->power);
		assert_int_equal(used, l->nr_cpus_used);
	}
	free(lv);
	free(best);
}

/* Interchangeable domains: consecutive levels share as many of them as they can. */
static void check_overlap(const struct em_frontier *f, const unsigned int *cls)
{
	for (unsigned int i = 1; i < f->nr_levels; i++) {
		const struct em_frontier_level *a = &f->levels[i - 1], *b = &f->levels[i];

		for (unsigned int c = 0; c < f->nr_domains; c++) {
			unsigned int na = 0, nb = 0, both = 0;

			if (cls[c] != c)
				continue;
			for (unsigned int d = 0; d < f->nr_domains; d++) {
				if (cls[d] != c)
					continue;
				na += a->nr_cpus[d] > 0;
				nb += b->nr_cpus[d] > 0;
				both += a->nr_cpus[d] > 0 && b->nr_cpus[d] > 0;
			}
			assert_int_equal(both, na < nb ? na : nb);
		}
	}
}

static void test_brute_force_random(void **state)
{
	unsigned int seed = 4242, rounds = 0, max_cpus = 0, levels = 0;
	unsigned long total_combos = 0;

	(void)state;
	for (int round = 0; rounds < 120; round++) {
		struct em_registry *reg = em_registry_new();
		unsigned int nd = 1 + (unsigned int)(rand_r(&seed) % 6), cpu = 0, cls[8];
		unsigned long combos = 1;
		struct em_frontier f;
		struct em_error err;
		struct em_state_desc prev_st[8];
		unsigned int prev_n = 0, prev_ns = 0, prev_cap = 0;

		for (unsigned int i = 0; i < nd && cpu < 14; i++) {
			struct em_state_desc st[8];
			unsigned int n = 1 + (unsigned int)(rand_r(&seed) % 6);
			unsigned int ns = 1 + (unsigned int)(rand_r(&seed) % 6);
			unsigned int cap = 60 + (unsigned int)(rand_r(&seed) % 965);
			unsigned long fr = 0, pw = 0;
			struct em_cpumask m = {0};
			bool copy = i > 0 && rand_r(&seed) % 3 == 0;

			if (copy) { /* an interchangeable twin of the previous domain */
				n = prev_n;
				ns = prev_ns;
				cap = prev_cap;
				memcpy(st, prev_st, sizeof(st));
			} else {
				for (unsigned int s = 0; s < ns; s++) {
					fr += 100000 + (unsigned long)(rand_r(&seed) % 400000);
					/* Power mostly rising, sometimes not: inefficient states. */
					pw = rand_r(&seed) % 4 ? pw + 1 + (unsigned long)(rand_r(&seed) % 90000)
							       : 1 + (unsigned long)(rand_r(&seed) % 200000);
					st[s] = (struct em_state_desc){fr, pw, 0};
				}
			}
			if (cpu + n > 14)
				n = 14 - cpu;
			for (unsigned int k = 0; k < n; k++)
				em_cpumask_set(&m, cpu++);
			unsigned int id;

			if (em_pd_register_cpus(reg, NULL, &m, cap, EM_PD_MICROWATTS, st, ns, &id,
						&err)) {
				cpu -= n; /* a state rounds to performance 0: draw again */
				continue;
			}
			/* Sometimes limits (em_pd_set_perf_limits), which the frontier obeys. */
			if (ns > 2 && rand_r(&seed) % 4 == 0)
				assert_int_equal(em_pd_set_perf_limits(reg, id, st[1].frequency,
								       st[ns - 1].frequency, NULL),
						 0);
			combos *= 1 + n * ns;
			prev_n = n;
			prev_ns = ns;
			prev_cap = cap;
			memcpy(prev_st, st, sizeof(st));
		}
		if (combos > 4000000 || cpu == 0) {
			em_registry_free(reg);
			continue;
		}
		if (em_frontier_compute(reg, &f, &err))
			fail_msg("%s", err.msg);
		check_against_brute_force(reg, &f, round);
		levels += f.nr_levels;
		total_combos += combos;
		/* Classes of interchangeable domains, as the library defines them. */
		em_read_lock();
		for (unsigned int a = 0; a < f.nr_domains; a++) {
			const struct em_perf_table *ta = em_pd_table(em_pd_get(reg, f.domain_id[a]));

			cls[a] = a;
			for (unsigned int b = 0; b < a && cls[a] == a; b++) {
				const struct em_perf_table *tb = em_pd_table(em_pd_get(reg, f.domain_id[b]));
				bool same = cls[b] == b && f.domain_nr_cpus[a] == f.domain_nr_cpus[b] &&
					    ta->max_state - ta->min_state == tb->max_state - tb->min_state;

				for (unsigned int s = 0; same && s <= ta->max_state - ta->min_state; s++)
					same = ta->states[ta->min_state + s].performance ==
						       tb->states[tb->min_state + s].performance &&
					       ta->states[ta->min_state + s].power ==
						       tb->states[tb->min_state + s].power;
				if (same)
					cls[a] = b;
			}
		}
		em_read_unlock();
		check_overlap(&f, cls);
		if (cpu > max_cpus)
			max_cpus = cpu;
		em_frontier_release(&f);
		em_registry_free(reg);
		rounds++;
	}
	print_message("# 120 random models checked, up to %u CPUs, %lu choices enumerated, %u levels compared\n",
		      max_cpus, total_combos, levels);
}

static void test_rk3399_by_hand(void **state)
{
	/*
	 * RK3399 (docs/em-model-default.md): little perf 109 161 219 271 322 381, power
	 * 27769 40837 58956 86247 120000 179212; big perf 232 ... 1024, power 121075 ...
	 * 1130112. Lowest level: one little CPU at 408 MHz (109, 27769). 178 (5 % of
	 * 3572): two little CPUs at 408 MHz (218, 55538) beat one at 816 MHz (219,
	 * 58956). Top: every CPU at its top state, 4*381 + 2*1024 = 3572, 4*179212 +
	 * 2*1130112 = 2977072.
	 */
	struct em_registry *reg = em_registry_new();
	struct em_model m;
	struct em_frontier f;
	const struct em_frontier_level *l;
	unsigned int cpus[6], n;

	(void)state;
	assert_int_equal(em_model_default(&m), 0);
	assert_int_equal(em_model_register(&m, reg, NULL), 0);
	em_model_release(&m);
	assert_int_equal(em_frontier_compute(reg, &f, NULL), 0);
	assert_int_equal(f.total_performance, 3572);
	assert_int_equal(f.levels[0].performance, 109);
	assert_int_equal(f.levels[0].power, 27769);
	assert_int_equal(em_frontier_target(&f, 5), 178);
	l = em_frontier_for(&f, 178);
	assert_int_equal(l->performance, 218);
	assert_int_equal(l->power, 55538);
	assert_int_equal(l->nr_cpus[0], 2);
	assert_int_equal(l->state[0], 0);
	assert_int_equal(l->state[1], EM_FRONTIER_OFF);
	n = em_frontier_cpus(&f, l, cpus);
	assert_int_equal(n, 2);
	assert_int_equal(cpus[0], 0);
	assert_int_equal(cpus[1], 1);
	/* Overflow: the CPUs the next levels add, in that order: 2, then 3, then 4-5. */
	n = em_frontier_overflow(&f, l, cpus);
	assert_int_equal(n, 4);
	assert_int_equal(cpus[0], 2);
	assert_int_equal(cpus[3], 5);
	l = em_frontier_for(&f, 99999);
	assert_int_equal(l->performance, 3572);
	assert_int_equal(l->power, 4 * 179212 + 2 * 1130112);
	assert_int_equal(em_frontier_overflow(&f, l, cpus), 0);
	assert_ptr_equal(em_frontier_for(&f, 0), &f.levels[0]);
	em_frontier_release(&f);
	em_frontier_release(&f); /* released twice: a no-op */
	em_registry_free(reg);
}

static void test_no_cpu_domain(void **state)
{
	struct em_registry *reg = em_registry_new();
	const struct em_state_desc st[] = {{1000, 5, 0}};
	struct em_frontier f;
	struct em_error err;

	(void)state;
	assert_int_equal(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, st, 1, NULL, NULL), 0);
	assert_int_equal(em_frontier_compute(reg, &f, &err), -EINVAL);
	assert_string_equal(err.msg, "the model has no CPU domain");
	em_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brute_force_random),
		cmocka_unit_test(test_rk3399_by_hand),
		cmocka_unit_test(test_no_cpu_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
