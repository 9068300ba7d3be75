/*
 * EAS: the energy estimate and wake-up placement the Linux scheduler makes around the
 * Energy Model, as of Linux 6.14 (kernel/sched/fair.c: find_energy_efficient_cpu,
 * compute_energy, eenv_pd_busy_time, eenv_pd_max_util, eenv_task_busy_time, cpu_util,
 * util_fits_cpu, fits_capacity; kernel/sched/cpufreq_schedutil.c:
 * sugov_effective_cpu_perf; kernel/sched/core.c: effective_cpu_util;
 * kernel/sched/topology.c: build_perf_domains). The model has no IRQ time, RT/DL
 * minimum or uclamp; each CPU's utilization is one number, its actual capacity
 * another. The per-domain energy itself is em_perf_table_energy() (em_cpu_energy),
 * shared with the raw estimate in energy.c.
 *
 * Everything works on a view (a private copy of the CPU domains, energy.c), so that a
 * placement search never holds a read section open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* include/linux/sched/cpufreq.h map_util_perf(): 25 % of headroom. */
static unsigned long map_util_perf(unsigned long util)
{
	return util + (util >> 2);
}

unsigned long em_eas_effective_perf(unsigned long util, unsigned long scale)
{
	/* effective_cpu_util(): CFS + RT + DL, saturating at the CPU's capacity; with no
	 * IRQ time the IRQ scaling is the identity. Its *min is 0 (no DL bandwidth, no
	 * uclamp, no runnable RT) and *max the capacity. */
	unsigned long actual = util < scale ? util : scale;
	unsigned long max = scale;

	/* sugov_effective_cpu_perf(): headroom, not above max, at least min (0). */
	actual = map_util_perf(actual);
	if (actual < max)
		max = actual;
	return max;
}

bool em_eas_fits(unsigned long util, unsigned long capacity)
{
	/* fair.c fits_capacity(cap, max): (cap) * 1280 < (max) * 1024. */
	return (uint64_t)util * 1280 < (uint64_t)capacity * 1024;
}

/* cpu_util(): the CPU's utilization, never above its capacity. */
static unsigned long clamp_util(unsigned long util, unsigned long scale)
{
	return util < scale ? util : scale;
}

uint64_t em_eas_view_pd_energy(const struct em_view *v, unsigned int p, int dst,
			       unsigned long task)
{
	const struct em_view_pd *vp = &v->pds[p];
	/* find_energy_efficient_cpu(): the domain's actual capacity is its first CPU's. */
	unsigned long cpu_cap = v->acap[vp->first];
	unsigned long pd_cap = cpu_cap * vp->nr_cpus;
	unsigned long busy = 0, max_util = 0;
	bool here = false;

	for (unsigned int k = 0; k < vp->nr_cpus; k++) {
		unsigned int c = vp->first + k;
		unsigned long u = clamp_util(v->load[c], vp->capacity);
		unsigned long eff;

		/* eenv_pd_busy_time(): effective_cpu_util() of each CPU without the task. */
		busy += u;
		/* eenv_pd_max_util(): with the task where it goes, with headroom. */
		if ((int)c == dst) {
			u = clamp_util(v->load[c] + task, vp->capacity);
			here = true;
		}
		eff = em_eas_effective_perf(u, vp->capacity);
		if (eff > max_util)
			max_util = eff;
	}
	if (busy > pd_cap)
		busy = pd_cap;
	/* compute_energy(): the task's busy time (eenv_task_busy_time(): its utilization,
	 * with no IRQ time) joins the domain's, within pd_cap. */
	if (here) {
		busy += task;
		if (busy > pd_cap)
			busy = pd_cap;
	}
	if (max_util > cpu_cap)
		max_util = cpu_cap;
	return em_perf_table_energy(vp->table, vp->flags, max_util, busy, cpu_cap);
}

void em_eas_view_acap(struct em_view *v, const struct em_eas_input *in)
{
	for (unsigned int c = 0; c < v->nr_cpus; c++) {
		unsigned int cpu = v->cpu[c];
		unsigned long cap = v->pds[v->cpu_pd[c]].capacity;

		if (in && in->actual_cap && cpu < in->nr_cpus && in->actual_cap[cpu] &&
		    in->actual_cap[cpu] < cap)
			cap = in->actual_cap[cpu];
		v->acap[c] = cap;
	}
}

/* The view's domains in the root domain's order: descending first CPU. */
static void rd_order(const struct em_view *v, unsigned int *ord)
{
	for (unsigned int i = 0; i < v->nr_pds; i++) {
		unsigned int j = i;

		while (j > 0 && v->cpu[v->pds[ord[j - 1]].first] < v->cpu[v->pds[i].first]) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = i;
	}
}

int em_eas_view_select(const struct em_view *v, unsigned long task, int prev, int *chosen,
		       uint64_t *delta)
{
	unsigned int ord_stack[16], *ord = ord_stack;
	/* The kernel's variables: ULONG_MAX deltas, -1 fits, 0 capacities. */
	uint64_t prev_delta = UINT64_MAX, best_delta = UINT64_MAX;
	int64_t sbest_delta = INT64_MAX; /* no prev: deltas compared with their sign */
	int prev_fits = -1, best_fits = -1, best_cpu = prev;
	unsigned long best_actual_cap = 0, prev_actual_cap = 0;
	bool no_prev = prev < 0;
	int ret;

	/* select_task_rq_fair() calls it only when the root domain is not overutilized:
	 * no CPU whose own utilization does not fit it (cpu_overutilized()). */
	for (unsigned int c = 0; c < v->nr_cpus; c++)
		if (!em_eas_fits(clamp_util(v->load[c], v->pds[v->cpu_pd[c]].capacity), v->acap[c]))
			return -EBUSY;
	if (v->nr_pds > 16) {
		ord = malloc(v->nr_pds * sizeof(*ord));
		if (!ord)
			return -ENOMEM;
	}
	rd_order(v, ord);
	for (unsigned int n = 0; n < v->nr_pds; n++) {
		unsigned int p = ord[n];
		const struct em_view_pd *vp = &v->pds[p];
		unsigned long cpu_actual_cap = v->acap[vp->first];
		long prev_spare_cap = -1, max_spare_cap = -1;
		int max_spare_cap_cpu = -1, max_fits = -1;
		uint64_t base, e;

		for (unsigned int k = 0; k < vp->nr_cpus; k++) {
			int c = (int)(vp->first + k);
			/* cpu_util(cpu, p, cpu, 0): with the task, not above capacity. */
			unsigned long util = clamp_util(v->load[c] + task, vp->capacity);
			unsigned long cap = v->acap[c]; /* capacity_of(): no RT/DL/IRQ to take off */
			int fits = em_eas_fits(util, cap) ? 1 : 0;

			if (!fits)
				continue;
			cap = cap > util ? cap - util : 0; /* lsub_positive() */
			if (c == prev) {
				prev_spare_cap = (long)cap;
				prev_fits = fits;
			} else if (fits > max_fits || (fits == max_fits && (long)cap > max_spare_cap)) {
				max_spare_cap = (long)cap;
				max_spare_cap_cpu = c;
				max_fits = fits;
			}
		}
		if (max_spare_cap_cpu < 0 && prev_spare_cap < 0)
			continue;
		base = em_eas_view_pd_energy(v, p, -1, task);
		if (prev_spare_cap > -1) {
			e = em_eas_view_pd_energy(v, p, prev, task);
			if (e < base) {
				/* "CPU utilization has changed": the kernel keeps prev_cpu. */
				*chosen = prev;
				*delta = 0;
				ret = -EAGAIN;
				goto out;
			}
			prev_delta = e - base;
			prev_actual_cap = cpu_actual_cap;
			if (prev_delta < best_delta)
				best_delta = prev_delta;
		}
		if (max_spare_cap_cpu >= 0 && max_spare_cap > prev_spare_cap) {
			int64_t sd;

			if (max_fits < best_fits)
				continue;
			if (max_fits < 0 && cpu_actual_cap <= best_actual_cap)
				continue;
			e = em_eas_view_pd_energy(v, p, max_spare_cap_cpu, task);
			if (!no_prev && e < base) {
				*chosen = prev;
				*delta = 0;
				ret = -EAGAIN;
				goto out;
			}
			if (no_prev) {
				/* Nothing to fall back to: the growth competes with its sign. */
				sd = (int64_t)(e - base);
				if (max_fits > 0 && best_fits > 0 && sd >= sbest_delta)
					continue;
				sbest_delta = sd;
				best_delta = e >= base ? e - base : 0;
			} else {
				if (max_fits > 0 && best_fits > 0 && e - base >= best_delta)
					continue;
				best_delta = e - base;
			}
			best_cpu = max_spare_cap_cpu;
			best_fits = max_fits;
			best_actual_cap = cpu_actual_cap;
		}
	}
	if (best_fits > prev_fits || (best_fits > 0 && best_delta < prev_delta) ||
	    (best_fits < 0 && best_actual_cap > prev_actual_cap)) {
		*chosen = best_cpu;
		*delta = best_delta;
		ret = best_cpu;
	} else if (prev >= 0 && prev_fits > 0) {
		*chosen = prev;
		*delta = prev_delta;
		ret = prev;
	} else {
		ret = -ENOSPC;
	}
out:
	if (ord != ord_stack)
		free(ord);
	return ret;
}

/* ---- public entry points ------------------------------------------------------- */

/* A view of @reg with @in's utilizations and actual capacities. */
static int view_take_input(struct em_view *v, const struct em_registry *reg,
			   const struct em_eas_input *in, struct em_error *err)
{
	struct em_cpumask seen = {0};
	int ret;

	if (in->nr_cpus > EM_MAX_CPUS)
		return em_err(err, -EINVAL, "%u CPUs: at most %u", in->nr_cpus, EM_MAX_CPUS);
	ret = em_view_take(v, reg, err);
	if (ret)
		return ret;
	for (unsigned int c = 0; c < v->nr_cpus; c++) {
		unsigned int cpu = v->cpu[c];

		em_cpumask_set(&seen, cpu);
		v->load[c] = in->util && cpu < in->nr_cpus ? in->util[cpu] : 0;
	}
	for (unsigned int cpu = 0; in->util && cpu < in->nr_cpus; cpu++) {
		if (in->util[cpu] && !em_cpumask_test(&seen, cpu)) {
			em_view_release(v);
			return em_err(err, -ENOENT,
				      "CPU %u has utilization %lu but is in no performance domain", cpu,
				      in->util[cpu]);
		}
	}
	em_eas_view_acap(v, in);
	return 0;
}

/* The actual capacity the input gives CPU cpu of a domain of capacity scale. */
static unsigned long input_acap(const struct em_eas_input *in, unsigned int cpu,
				unsigned long scale)
{
	if (in->actual_cap && cpu < in->nr_cpus && in->actual_cap[cpu] &&
	    in->actual_cap[cpu] < scale)
		return in->actual_cap[cpu];
	return scale;
}

/*
 * Straight from the registry under the read lock, no view: this is the hot path
 * (em_estimate_energy), and the same arithmetic as em_eas_view_pd_energy(dst = -1).
 */
int em_eas_estimate(const struct em_registry *reg, const struct em_eas_input *in,
		    struct em_eas_pd_estimate *pds, unsigned int max_pds, unsigned int *nr_pds,
		    uint64_t *total, struct em_error *err)
{
	const struct em_pd_set *set;
	uint64_t sum = 0;
	unsigned int n = 0;

	if (in->nr_cpus > EM_MAX_CPUS)
		return em_err(err, -EINVAL, "%u CPUs: at most %u", in->nr_cpus, EM_MAX_CPUS);
	em_read_lock();
	set = em_read_set(reg);
	for (unsigned int c = 0; in->util && c < in->nr_cpus; c++) {
		if (in->util[c] && (!set || !em_cpumask_test(&set->all, c))) {
			em_read_unlock();
			return em_err(err, -ENOENT,
				      "CPU %u has utilization %lu but is in no performance domain", c,
				      in->util[c]);
		}
	}
	for (unsigned int i = 0; set && i < set->nr; i++) {
		const struct em_pd *pd = set->pd[i];
		const struct em_perf_table *t;
		unsigned long scale, cpu_cap, pd_cap, busy = 0, max_util = 0;
		uint64_t e;

		if (!pd->is_cpu)
			continue;
		t = em_pd_table(pd);
		scale = t->states[t->nr_states - 1].performance;
		cpu_cap = input_acap(in, pd->cpu_list[0], scale);
		pd_cap = cpu_cap * pd->nr_cpu_list;
		for (unsigned int k = 0; k < pd->nr_cpu_list; k++) {
			unsigned int c = pd->cpu_list[k];
			unsigned long u = in->util && c < in->nr_cpus ? clamp_util(in->util[c], scale) : 0;
			unsigned long eff = em_eas_effective_perf(u, scale);

			busy += u;
			if (eff > max_util)
				max_util = eff;
		}
		if (busy > pd_cap)
			busy = pd_cap;
		if (max_util > cpu_cap)
			max_util = cpu_cap;
		e = em_perf_table_energy(t, pd->flags, max_util, busy, cpu_cap);
		sum += e;
		if (n < max_pds) {
			struct em_eas_pd_estimate *o = &pds[n];

			o->id = pd->id;
			o->cpu_cap = cpu_cap;
			o->pd_cap = pd_cap;
			o->busy_time = busy;
			o->max_util = max_util;
			o->state = em_perf_table_state_for(t, pd->flags, max_util);
			o->energy = e;
		}
		n++;
	}
	em_read_unlock();
	if (nr_pds)
		*nr_pds = n;
	*total = sum;
	return 0;
}

int em_estimate_energy(const struct em_registry *reg, const unsigned long *util,
		       unsigned int nr_cpus, uint64_t *energy, struct em_error *err)
{
	const struct em_eas_input in = {.util = util, .nr_cpus = nr_cpus};

	return em_eas_estimate(reg, &in, NULL, 0, NULL, energy, err);
}

int em_eas_select_cpu(const struct em_registry *reg, const struct em_eas_input *in,
		      unsigned long task_util, int prev_cpu, struct em_eas_decision *d,
		      struct em_error *err)
{
	struct em_view v;
	int prev = -1, chosen = -1, ret;
	uint64_t delta = 0;

	if (task_util < 1 || task_util > EM_CAPACITY_SCALE)
		return em_err(err, -EINVAL, "task utilization %lu is not in 1..%u", task_util,
			      EM_CAPACITY_SCALE);
	ret = view_take_input(&v, reg, in, err);
	if (ret)
		return ret;
	if (prev_cpu >= 0) {
		for (unsigned int c = 0; c < v.nr_cpus; c++)
			if (v.cpu[c] == (unsigned int)prev_cpu)
				prev = (int)c;
		if (prev < 0) {
			em_view_release(&v);
			return em_err(err, -EINVAL, "prev_cpu %d is in no CPU domain", prev_cpu);
		}
	}
	ret = em_eas_view_select(&v, task_util, prev, &chosen, &delta);
	if (ret == -EBUSY) {
		em_err(err, ret, "a CPU's own utilization does not fit it: overutilized, the kernel does not use EAS");
	} else if (ret == -ENOSPC) {
		em_err(err, ret, "a task of utilization %lu fits no CPU (util * 1280 < capacity * 1024)",
		       task_util);
	} else if (ret == -ENOMEM) {
		em_err(err, ret, "out of memory");
	} else {
		if (d) {
			uint64_t before = 0, after = 0;

			for (unsigned int p = 0; p < v.nr_pds; p++) {
				before += em_eas_view_pd_energy(&v, p, -1, 0);
				after += em_eas_view_pd_energy(&v, p,
							       chosen, task_util);
			}
			d->cpu = (int)v.cpu[chosen];
			d->delta = delta;
			d->before = before;
			d->after = after;
		}
		if (ret == -EAGAIN)
			em_err(err, ret, "adding the task lowers a domain's energy: the kernel keeps it on prev_cpu %d",
			       prev_cpu);
		else
			ret = (int)v.cpu[chosen];
	}
	em_view_release(&v);
	return ret;
}
