/*
 * Frontier benchmark: em_frontier_compute() on the models issue 13 names, and, side by
 * side in the same run, the subset enumeration it replaces.
 *
 * Models (power from P = C * V^2 * f with V rising linearly with f, every core a
 * little different, as per-core binning makes them, so no two domains are alike):
 *   hybrid-24   24 single-CPU domains: 8 at capacity 1024 (21 states, 0.8-4.8 GHz)
 *               and 16 at 600 (21 states, 0.8-2.8 GHz), like an Intel Core Ultra 9
 *               275HX where every CPU is its own performance domain;
 *   server-256  256 CPUs in 16 domains of 16 (capacities 1024, 896, 768, 600; 20
 *               states each).
 * Time: median of 5 runs. Peak RSS: a child process that builds the registry and
 * computes the frontier once, measured by wait4(); and one that only builds the
 * registry, for what the process costs without the frontier.
 *
 * Baseline: scx_utils' EnergyModelOptimizer before its equivalence domains (its
 * gen_all_pds_combinations(): for a utilization percentage every domain runs at the
 * first state whose performance reaches that share of its maximum, every non-empty
 * subset of CPUs is a candidate, the least power per exact performance is kept;
 * utilizations 0 and 100 first, then bisection of 0..100 while new points appear),
 * written in C here, on single-CPU hybrid models of growing size, until one run
 * would pass 10 s. Nothing is asserted: docs/em.md records the figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emkit/em.h"
#include "../timing.h"

/* A hybrid machine of single-CPU domains: big ones first, then little ones. */
static struct em_registry *hybrid(unsigned int nr_big, unsigned int nr_little)
{
	struct em_registry *reg = em_registry_new();

	for (unsigned int i = 0; i < nr_big + nr_little; i++) {
		bool big = i < nr_big;
		struct em_state_desc st[21];
		struct em_cpumask m = {0};
		double bin = 1.0 + 0.013 * i; /* per-core binning */

		for (unsigned int s = 0; s < 21; s++) {
			double ghz = big ? 0.8 + 0.2 * s : 0.8 + 0.1 * s;
			double v = big ? 0.65 + 0.10 * (ghz - 0.8) : 0.60 + 0.12 * (ghz - 0.8);
			double c = big ? 2400000.0 : 900000.0; /* µW per (V^2 GHz) */

			st[s].frequency = (unsigned long)(ghz * 1000000 + 0.5);
			st[s].power = (unsigned long)(c * bin * v * v * ghz);
			st[s].cost = 0;
		}
		em_cpumask_set(&m, i);
		if (em_pd_register_cpus(reg, NULL, &m, big ? 1024 : 600, EM_PD_MICROWATTS, st, 21, NULL,
					NULL)) {
			fprintf(stderr, "bench: cannot register domain %u\n", i);
			exit(1);
		}
	}
	return reg;
}

static struct em_registry *server(void)
{
	static const unsigned int caps[4] = {1024, 896, 768, 600};
	struct em_registry *reg = em_registry_new();

	for (unsigned int d = 0; d < 16; d++) {
		struct em_state_desc st[20];
		struct em_cpumask m = {0};
		double bin = 1.0 + 0.007 * d;

		for (unsigned int s = 0; s < 20; s++) {
			double ghz = 1.0 + 0.15 * s;
			double v = 0.7 + 0.09 * (ghz - 1.0) + 0.01 * (d % 4);

			st[s].frequency = (unsigned long)(ghz * 1000000 + 0.5);
			st[s].power = (unsigned long)(1500000.0 * bin * v * v * ghz);
			st[s].cost = 0;
		}
		for (unsigned int c = 0; c < 16; c++)
			em_cpumask_set(&m, d * 16 + c);
		if (em_pd_register_cpus(reg, NULL, &m, caps[d % 4], EM_PD_MICROWATTS, st, 20, NULL,
					NULL)) {
			fprintf(stderr, "bench: cannot register domain %u\n", d);
			exit(1);
		}
	}
	return reg;
}

static double time_frontier(const struct em_registry *reg, unsigned int *levels)
{
	double v[5];

	for (int r = 0; r < 5; r++) {
		struct em_frontier f;
		double t0 = now_ns();

		if (em_frontier_compute(reg, &f, NULL)) {
			fprintf(stderr, "bench: frontier failed\n");
			exit(1);
		}
		v[r] = now_ns() - t0;
		*levels = f.nr_levels;
		em_frontier_release(&f);
	}
	return median(v, 5);
}

/* Peak RSS (KiB) of a child that builds the model and, if frontier, computes it. */
static long child_rss(struct em_registry *(*build)(void), bool frontier)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct em_registry *reg = build();
		struct em_frontier f;

		if (frontier && em_frontier_compute(reg, &f, NULL))
			_exit(1);
		_exit(0);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	return ru.ru_maxrss;
}

static struct em_registry *hybrid_24(void)
{
	return hybrid(8, 16);
}

/* ---- the baseline: subset enumeration ------------------------------------------ */

struct base {
	unsigned int n;
	unsigned long perf[32][21], power[32][21], perf_max[32];
	unsigned int nr_states[32];
	uint64_t *min_power; /* per exact performance; UINT64_MAX: none */
	uint32_t *set;       /* the subset giving it */
	unsigned long total;
	unsigned long evaluated;
};

/* PerfDomain::select_perf_state(): first state with perf >= perf_max * util / 100. */
static unsigned int select_state(const struct base *b, unsigned int d, float util)
{
	unsigned long req = (unsigned long)((float)b->perf_max[d] * (util / 100.0f));

	for (unsigned int s = 0; s < b->nr_states[d]; s++)
		if (b->perf[d][s] >= req)
			return s;
	return b->nr_states[d] - 1;
}

/* gen_pds_combinations() + insert_pds_combinations(): true if a point is new. */
static bool combinations(struct base *b, float util)
{
	unsigned int st[32];
	bool found_new = false;

	for (unsigned int d = 0; d < b->n; d++)
		st[d] = select_state(b, d, util);
	for (uint32_t mask = 1; mask < (UINT32_C(1) << b->n); mask++) {
		unsigned long perf = 0;
		uint64_t w = 0;

		/* As PDSetInfo::new() does, from the members. */
		for (unsigned int d = 0; d < b->n; d++) {
			if (mask & (UINT32_C(1) << d)) {
				perf += b->perf[d][st[d]];
				w += b->power[d][st[d]];
			}
		}
		b->evaluated++;
		if (w < b->min_power[perf]) {
			found_new = true;
			b->min_power[perf] = w;
			b->set[perf] = mask;
		}
	}
	return found_new;
}

/* gen_perf_cpuset_table_range(): bisect while new points appear. */
static void range(struct base *b, int low, int high)
{
	int mid;

	if (low > high)
		return;
	mid = low + (high - low) / 2;
	if (combinations(b, (float)mid)) {
		range(b, mid + 1, high);
		range(b, low, mid - 1);
	}
}

static void base_load(struct base *b, const struct em_registry *reg)
{
	const struct em_pd *pd;

	memset(b, 0, sizeof(*b));
	em_read_lock();
	em_for_each_pd(pd, reg) {
		const struct em_perf_table *t = em_pd_table(pd);
		unsigned int d = b->n++;

		b->nr_states[d] = t->nr_states;
		for (unsigned int s = 0; s < t->nr_states; s++) {
			b->perf[d][s] = t->states[s].performance;
			b->power[d][s] = t->states[s].power;
		}
		b->perf_max[d] = t->states[t->nr_states - 1].performance;
		b->total += b->perf_max[d];
	}
	em_read_unlock();
}

/* Run the baseline once; returns ns, and the least power at or above target pct. */
static double base_run(const struct em_registry *reg, unsigned long *evaluated,
		       uint64_t *w_at[2], const unsigned int *pct, unsigned int nr_pct)
{
	struct base b;
	double t0, t1;

	base_load(&b, reg);
	t0 = now_ns();
	b.min_power = malloc((b.total + 1) * sizeof(*b.min_power));
	b.set = calloc(b.total + 1, sizeof(*b.set));
	for (unsigned long p = 0; p <= b.total; p++)
		b.min_power[p] = UINT64_MAX;
	combinations(&b, 0.0f);
	combinations(&b, 100.0f);
	range(&b, 0, 100);
	t1 = now_ns();
	*evaluated = b.evaluated;
	for (unsigned int i = 0; i < nr_pct; i++) {
		unsigned long target = b.total * pct[i] / 100;
		uint64_t best = UINT64_MAX;

		for (unsigned long p = target; p <= b.total; p++)
			if (b.min_power[p] < best)
				best = b.min_power[p];
		w_at[0][i] = best;
	}
	free(b.min_power);
	free(b.set);
	return t1 - t0;
}

int main(void)
{
	static const unsigned int pct[] = {5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
	const unsigned int nr_pct = sizeof(pct) / sizeof(pct[0]);
	struct em_registry *reg;
	unsigned int levels;
	double t;
	long rss_model, rss_frontier;

	printf("Frontier benchmark (median of 5 runs)\n\n");
	reg = hybrid(8, 16);
	t = time_frontier(reg, &levels);
	printf("hybrid-24  (24 single-CPU domains, 8 x 1024 + 16 x 600, 21 states): %8.2f ms, %u levels\n",
	       t / 1e6, levels);
	em_registry_free(reg);
	rss_model = child_rss(hybrid_24, false);
	rss_frontier = child_rss(hybrid_24, true);
	printf("  peak RSS of a process computing it: %ld KiB (%ld KiB without the frontier)\n",
	       rss_frontier, rss_model);
	reg = server();
	t = time_frontier(reg, &levels);
	printf("server-256 (256 CPUs in 16 domains of 16, 20 states):             %8.2f ms, %u levels\n",
	       t / 1e6, levels);
	em_registry_free(reg);

	printf("\nside by side: subset enumeration (EnergyModelOptimizer's, in C) vs the DP,\n");
	printf("hybrid models of N single-CPU domains (N/3 big, 2N/3 little)\n");
	printf("%4s %14s %16s %12s %10s  %s\n", "N", "enumerate-ms", "subsets-tried", "frontier-ms",
	       "speedup", "power at 5..100 %: DP <= enumeration");
	for (unsigned int n = 6; n <= 30; n += 3) {
		uint64_t wb[16], *wbp[2] = {wb, NULL};
		unsigned long evaluated;
		double tb, tf;
		struct em_frontier f;
		unsigned int worse = 0, better = 0;

		reg = hybrid(n / 3, n - n / 3);
		tb = base_run(reg, &evaluated, wbp, pct, nr_pct);
		tf = time_frontier(reg, &levels);
		if (em_frontier_compute(reg, &f, NULL))
			return 1;
		for (unsigned int i = 0; i < nr_pct; i++) {
			uint64_t w = em_frontier_for(&f, em_frontier_target(&f, pct[i]))->power;

			worse += w > wb[i];
			better += w < wb[i];
		}
		em_frontier_release(&f);
		printf("%4u %14.1f %16lu %12.3f %9.1fx  %s (lower at %u of %u targets)\n", n, tb / 1e6,
		       evaluated, tf / 1e6, tb / tf, worse ? "NO" : "yes", better, nr_pct);
		em_registry_free(reg);
		/* Each 3 more CPUs multiply the subsets by 8: stop before a run passes 10 s. */
		if (tb * 8 > 10e9) {
			printf("(N = %u would take about %.0f s: stopped)\n", n + 3, tb * 8 / 1e9);
			break;
		}
	}
	return 0;
}
