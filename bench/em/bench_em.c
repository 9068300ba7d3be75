/*
 * Energy Model benchmark: what the hot paths of lib/em cost on this machine, on the
 * embedded RK3399 model. Prints ns per domain estimate (the kernel's em_cpu_energy
 * arithmetic, with and without taking the read lock), ns per whole-system estimate,
 * table-replacement throughput while 2 reader threads read continuously, and
 * placement time against task count (exhaustive and greedy, with their gap).
 * Numbers are medians of 5 runs; nothing here is asserted (see tests/em for that).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emkit/em.h"
#include "../timing.h"

static volatile uint64_t sink;

static double bench_table_energy(const struct em_registry *reg, unsigned long iters)
{
	double t0, t1;
	uint64_t acc = 0;

	em_read_lock();
	const struct em_pd *pd = em_pd_of_cpu(reg, 4);
	const struct em_perf_table *t = em_pd_table(pd);
	unsigned long flags = em_pd_flags(pd);

	t0 = now_ns();
	for (unsigned long i = 0; i < iters; i++) {
		unsigned long u = (i * 37) & 1023;

		acc += em_perf_table_energy(t, flags, u, u + 100, 1024);
	}
	t1 = now_ns();
	em_read_unlock();
	sink = acc;
	return (t1 - t0) / (double)iters;
}

static double bench_estimate_pd(const struct em_registry *reg, unsigned long iters)
{
	double t0, t1;
	uint64_t acc = 0, e;

	t0 = now_ns();
	for (unsigned long i = 0; i < iters; i++) {
		unsigned long u = (i * 37) & 1023;

		em_estimate_pd(reg, 1, u, u + 100, &e, NULL);
		acc += e;
	}
	t1 = now_ns();
	sink = acc;
	return (t1 - t0) / (double)iters;
}

static double bench_system(const struct em_registry *reg, unsigned long iters)
{
	unsigned long util[6];
	double t0, t1;
	uint64_t acc = 0, e;

	t0 = now_ns();
	for (unsigned long i = 0; i < iters; i++) {
		for (unsigned int c = 0; c < 6; c++)
			util[c] = ((i + c) * 53) % 381;
		em_estimate_energy(reg, util, 6, &e, NULL);
		acc += e;
	}
	t1 = now_ns();
	sink = acc;
	return (t1 - t0) / (double)iters;
}

struct readers {
	const struct em_registry *reg;
	int stop;
	unsigned long reads;
};

static void *reader(void *arg)
{
	struct readers *r = arg;
	unsigned long n = 0;
	uint64_t acc = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		em_read_lock();
		const struct em_perf_table *t = em_pd_table(em_pd_of_cpu(r->reg, 4));

		acc += t->states[t->nr_states - 1].cost;
		em_read_unlock();
		n++;
	}
	sink = acc;
	__atomic_fetch_add(&r->reads, n, __ATOMIC_RELAXED);
	return NULL;
}

static void bench_replace(struct em_registry *reg, double duration_ns, double *per_s,
			  double *reads_per_s)
{
	unsigned long nr;
	struct em_model m;
	struct readers r = {.reg = reg};
	pthread_t th[2];
	double t0, t1;

	em_model_default(&m);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, reader, &r);
	t0 = now_ns();
	for (nr = 0; now_ns() - t0 < duration_ns; nr++) {
		m.domains[1].states[0].power = 121075 + (nr & 1023);
		em_table_replace(reg, 1, m.domains[1].states, m.domains[1].nr_states, NULL);
	}
	em_registry_synchronize(reg);
	t1 = now_ns();
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* Put the RK3399's own table back for the benchmarks that follow. */
	em_model_release(&m);
	em_model_default(&m);
	em_table_replace(reg, 1, m.domains[1].states, m.domains[1].nr_states, NULL);
	*per_s = (double)nr / ((t1 - t0) / 1e9);
	*reads_per_s = (double)r.reads / ((t1 - t0) / 1e9);
	em_model_release(&m);
}

/*
 * Baseline for the same job without RCU: a reader-writer lock around the domains'
 * table pointers. Readers take the read lock, look the domain up by CPU as the RCU
 * readers do, and read; the writer builds the new table outside the lock, swaps it
 * under the write lock and frees the old one at once.
 */
struct rw_shared {
	pthread_rwlock_t lock;
	struct em_cpumask cpus[2];
	struct em_perf_table *tables[2];
	int stop;
	unsigned long reads;
};

static void *rw_reader(void *arg)
{
	struct rw_shared *sh = arg;
	unsigned long n = 0;
	uint64_t acc = 0;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		const struct em_perf_table *t = NULL;

		pthread_rwlock_rdlock(&sh->lock);
		for (int i = 0; i < 2 && !t; i++)
			if (em_cpumask_test(&sh->cpus[i], 4))
				t = sh->tables[i];
		acc += t->states[t->nr_states - 1].cost;
		pthread_rwlock_unlock(&sh->lock);
		n++;
	}
	sink = acc;
	__atomic_fetch_add(&sh->reads, n, __ATOMIC_RELAXED);
	return NULL;
}

static void bench_replace_rwlock(const struct em_registry *reg, double duration_ns,
				 double *per_s, double *reads_per_s)
{
	struct rw_shared sh = {.lock = PTHREAD_RWLOCK_INITIALIZER};
	unsigned long nr;
	pthread_t th[2];
	double t0, t1;
	size_t sz;

	em_read_lock();
	for (int i = 0; i < 2; i++) {
		const struct em_pd *pd = em_pd_of_cpu(reg, i ? 4 : 0);
		const struct em_perf_table *t = em_pd_table(pd);

		sz = sizeof(*t) + t->nr_states * sizeof(t->states[0]);
		sh.tables[i] = malloc(sz);
		memcpy(sh.tables[i], t, sz);
		sh.cpus[i] = *em_pd_cpus(pd);
	}
	em_read_unlock();
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, rw_reader, &sh);
	t0 = now_ns();
	for (nr = 0; now_ns() - t0 < duration_ns; nr++) {
		struct em_perf_table *nt = malloc(sz), *old;

		memcpy(nt, sh.tables[1], sz); /* only the writer writes: no lock to read */
		nt->states[0].power = 121075 + (nr & 1023);
		pthread_rwlock_wrlock(&sh.lock);
		old = sh.tables[1];
		sh.tables[1] = nt;
		pthread_rwlock_unlock(&sh.lock);
		free(old);
	}
	t1 = now_ns();
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	free(sh.tables[0]);
	free(sh.tables[1]);
	*per_s = (double)nr / ((t1 - t0) / 1e9);
	*reads_per_s = (double)sh.reads / ((t1 - t0) / 1e9);
}

int main(void)
{
	struct em_registry *reg = em_registry_new();
	struct em_model m;
	struct em_error err;
	double v[5], w[5];

	if (!reg || em_model_default(&m) || em_model_register(&m, reg, &err)) {
		fprintf(stderr, "em_bench: cannot load the default model\n");
		return 1;
	}
	em_model_release(&m);
	printf("Energy Model benchmark, RK3399 default model (median of 5 runs)\n\n");
	for (int i = 0; i < 5; i++)
		v[i] = bench_table_energy(reg, 10000000);
	printf("domain estimate, em_perf_table_energy (lock held):  %8.2f ns\n", median(v, 5));
	for (int i = 0; i < 5; i++)
		v[i] = bench_estimate_pd(reg, 5000000);
	printf("domain estimate, em_estimate_pd (lock + lookup):    %8.2f ns\n", median(v, 5));
	for (int i = 0; i < 5; i++)
		v[i] = bench_system(reg, 2000000);
	printf("whole-system EAS estimate, em_estimate_energy:      %8.2f ns\n", median(v, 5));
	for (int i = 0; i < 5; i++)
		bench_replace(reg, 2e8, &v[i], &w[i]);
	printf("table replacement with 2 reader threads (0.2 s):    %8.0f replacements/s\n",
	       median(v, 5));
	printf("  meanwhile, reads by the 2 readers:                %8.0f reads/s\n", median(w, 5));
	for (int i = 0; i < 5; i++)
		bench_replace_rwlock(reg, 2e8, &v[i], &w[i]);
	printf("baseline: pthread rwlock instead of RCU:            %8.0f replacements/s\n",
	       median(v, 5));
	printf("  meanwhile, reads by the 2 readers:                %8.0f reads/s\n", median(w, 5));

	printf("\nplacement (RK3399, 6 CPUs), tasks of utilization 40..250:\n");
	printf("%6s %14s %14s %16s %16s %8s\n", "tasks", "optimal-us", "greedy-us", "optimal-energy",
	       "greedy-energy", "gap");
	for (unsigned int n = 1; n <= 64; n = n < 12 ? n + 1 : n * 2) {
		unsigned long tasks[64];
		unsigned int cpu[64];
		uint64_t eo = 0, eg = 0;
		int ro = -1, rg;
		double to = 0, tg;

		for (unsigned int i = 0; i < n; i++)
			tasks[i] = 40 + (i * 71) % 211;
		if (n > 12)
			for (unsigned int i = 0; i < n; i++)
				tasks[i] = 1 + (i * 7) % 30; /* many small tasks still fit */
		if (n <= EM_PLACE_OPTIMAL_MAX_TASKS) {
			for (int i = 0; i < 5; i++) {
				double t0 = now_ns();

				ro = em_place_optimal(reg, tasks, n, cpu, &eo, NULL);
				v[i] = (now_ns() - t0) / 1e3;
			}
			to = median(v, 5);
		}
		for (int i = 0; i < 5; i++) {
			double t0 = now_ns();

			rg = em_place_greedy(reg, tasks, n, cpu, &eg, NULL);
			v[i] = (now_ns() - t0) / 1e3;
		}
		tg = median(v, 5);
		if (ro == 0 && rg == 0)
			printf("%6u %14.1f %14.1f %16llu %16llu %7.2f%%\n", n, to, tg,
			       (unsigned long long)eo, (unsigned long long)eg,
			       100.0 * (double)(eg - eo) / (double)eo);
		else if (rg == 0)
			printf("%6u %14s %14.1f %16s %16llu %8s\n", n, ro == -1 ? "-" : "no fit", tg,
			       "-", (unsigned long long)eg, "-");
		else
			printf("%6u %14s %14s %16s %16s %8s\n", n, "no fit", "no fit", "-", "-", "-");
	}
	em_registry_free(reg);
	return 0;
}
