/*
 * Energy: the kernel's raw per-domain estimate (em_cpu_energy) and its sum over
 * per-CPU utilizations, the private copies of the CPU domains ("views") that
 * estimates and searches work on, and task placement (exhaustive, and one wake-up at
 * a time as EAS does) under the scheduler's fit rule and estimate (lib/em/eas.c).
 *
 * The per-domain estimate is what em_cpu_energy() returns for the max_util and
 * sum_util it is given: pick the first allowed state that covers max_util, charge
 * sum_util at its cost. Views are taken under the read lock, so a long search never
 * holds a read section open and never sees two versions of a table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

unsigned int em_perf_table_state_for(const struct em_perf_table *t, unsigned long pd_flags,
				     unsigned long max_util)
{
	for (unsigned int i = t->min_state; i <= t->max_state; i++) {
		const struct em_perf_state *ps = &t->states[i];

		if (ps->performance < max_util)
			continue;
		if ((pd_flags & EM_PD_SKIP_INEFFICIENCIES) && (ps->flags & EM_PS_INEFFICIENT))
			continue;
		return i;
	}
	return t->max_state;
}

uint64_t em_perf_table_energy(const struct em_perf_table *t, unsigned long pd_flags,
			      unsigned long max_util, unsigned long sum_util,
			      unsigned long allowed_cap)
{
	unsigned int i;

	if (!sum_util)
		return 0;
	if (max_util > allowed_cap)
		max_util = allowed_cap;
	i = em_perf_table_state_for(t, pd_flags, max_util);
	return (uint64_t)t->states[i].cost * sum_util;
}

static unsigned long allowed_cap(const struct em_perf_table *t)
{
	return t->states[t->max_state].performance;
}

int em_estimate_pd(const struct em_registry *reg, unsigned int id, unsigned long max_util,
		   unsigned long sum_util, uint64_t *energy, struct em_error *err)
{
	const struct em_pd *pd;
	const struct em_perf_table *t;
	int ret = 0;

	em_read_lock();
	pd = em_pd_get(reg, id);
	if (!pd) {
		ret = em_err(err, -ENOENT, "no performance domain with id %u", id);
	} else if (!em_pd_is_cpu(pd)) {
		ret = em_err(err, -EINVAL, "domain '%s' (id %u) is a device: no energy estimate",
			     em_pd_name(pd), id);
	} else {
		t = em_pd_table(pd);
		*energy = em_perf_table_energy(t, em_pd_flags(pd), max_util, sum_util,
					       allowed_cap(t));
	}
	em_read_unlock();
	return ret;
}

/* ---- views --------------------------------------------------------------------- */

void em_view_release(struct em_view *v)
{
	for (unsigned int i = 0; i < v->nr_pds; i++) {
		free(v->pds[i].cpus);
		free(v->pds[i].table);
	}
	free(v->pds);
	free(v->cpu);
	free(v->cpu_pd);
	free(v->load);
	free(v->acap);
	memset(v, 0, sizeof(*v));
}

int em_view_take(struct em_view *v, const struct em_registry *reg, struct em_error *err)
{
	const struct em_pd_set *set;
	unsigned int n = 0, ncpu = 0;
	int ret = 0;

	memset(v, 0, sizeof(*v));
	em_read_lock();
	set = em_read_set(reg); /* one snapshot for both passes */
	for (unsigned int i = 0; set && i < set->nr; i++) {
		if (set->pd[i]->is_cpu) {
			n++;
			ncpu += set->pd[i]->nr_cpu_list;
		}
	}
	v->pds = em_calloc(n ? n : 1, sizeof(*v->pds));
	v->cpu = em_calloc(ncpu ? ncpu : 1, sizeof(*v->cpu));
	v->cpu_pd = em_calloc(ncpu ? ncpu : 1, sizeof(*v->cpu_pd));
	v->load = em_calloc(ncpu ? ncpu : 1, sizeof(*v->load));
	v->acap = em_calloc(ncpu ? ncpu : 1, sizeof(*v->acap));
	if (!v->pds || !v->cpu || !v->cpu_pd || !v->load || !v->acap) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; set && i < set->nr; i++) {
		const struct em_pd *pd = set->pd[i];
		const struct em_perf_table *t;
		struct em_view_pd *vp;
		size_t sz;

		if (!pd->is_cpu)
			continue;
		vp = &v->pds[v->nr_pds];
		t = em_pd_table(pd);
		sz = sizeof(*t) + t->nr_states * sizeof(t->states[0]);
		vp->table = em_malloc(sz);
		vp->cpus = em_calloc(pd->nr_cpu_list, sizeof(*vp->cpus));
		if (!vp->table || !vp->cpus) {
			free(vp->table);
			free(vp->cpus);
			ret = -ENOMEM;
			goto out;
		}
		memcpy(vp->table, t, sz);
		vp->id = pd->id;
		vp->flags = pd->flags;
		vp->allowed_cap = allowed_cap(t);
		vp->capacity = t->states[t->nr_states - 1].performance;
		vp->first = v->nr_cpus;
		for (unsigned int k = 0; k < pd->nr_cpu_list; k++) {
			vp->cpus[vp->nr_cpus++] = pd->cpu_list[k];
			v->cpu[v->nr_cpus] = pd->cpu_list[k];
			v->cpu_pd[v->nr_cpus] = v->nr_pds;
			v->nr_cpus++;
		}
		v->nr_pds++;
	}
out:
	em_read_unlock();
	if (ret) {
		em_view_release(v);
		return em_err(err, ret, "out of memory");
	}
	return 0;
}

int em_estimate_energy_raw(const struct em_registry *reg, const unsigned long *util,
			   unsigned int nr_cpus, uint64_t *energy, struct em_error *err)
{
	const struct em_pd_set *set;
	uint64_t total = 0;

	if (nr_cpus > EM_MAX_CPUS)
		return em_err(err, -EINVAL, "%u CPUs: at most %u", nr_cpus, EM_MAX_CPUS);
	em_read_lock();
	set = em_read_set(reg);
	for (unsigned int c = 0; c < nr_cpus; c++) {
		if (util[c] && (!set || !em_cpumask_test(&set->all, c))) {
			em_read_unlock();
			return em_err(err, -ENOENT,
				      "CPU %u has utilization %lu but is in no performance domain", c,
				      util[c]);
		}
	}
	for (unsigned int i = 0; set && i < set->nr; i++) {
		const struct em_pd *pd = set->pd[i];
		const struct em_perf_table *t;
		unsigned long max = 0, sum = 0, cap;

		if (!pd->is_cpu)
			continue;
		t = em_pd_table(pd);
		cap = allowed_cap(t);
		for (unsigned int k = 0; k < pd->nr_cpu_list; k++) {
			unsigned int c = pd->cpu_list[k];
			unsigned long u = c < nr_cpus ? util[c] : 0;

			if (u > cap)
				u = cap;
			sum += u;
			if (u > max)
				max = u;
		}
		total += em_perf_table_energy(t, pd->flags, max, sum, cap);
	}
	em_read_unlock();
	*energy = total;
	return 0;
}

/* ---- placement ----------------------------------------------------------------- */

struct search {
	const struct em_view *v;   /* its load[] is the placement being tried */
	const unsigned long *util; /* sorted, biggest first */
	unsigned int nr_tasks;
	unsigned int *at;          /* view CPU of each sorted task */
	unsigned int *best_at;
	uint64_t best;
	bool found;
	/* Branch and bound: */
	uint64_t **sufmin;         /* per domain: least cost from state i to max_state */
	uint64_t gmin;             /* least cost of any allowed state of any domain */
	const uint64_t *rest_util; /* rest_util[t]: utilization of tasks t.. */
};

/* The EAS estimate of the whole view with loads load[]. */
static uint64_t view_energy(const struct em_view *v)
{
	uint64_t e = 0;

	for (unsigned int p = 0; p < v->nr_pds; p++)
		e += em_eas_view_pd_energy(v, p, -1, 0);
	return e;
}

/* The kernel's fit rule for a CPU's total load (util_fits_cpu on cpu_util()). */
static bool load_fits(const struct em_view *v, unsigned int c, unsigned long load)
{
	unsigned long scale = v->pds[v->cpu_pd[c]].capacity;

	return em_eas_fits(load < scale ? load : scale, v->acap[c]);
}

/*
 * A lower bound on the EAS estimate of any completion of the current placement. Every
 * CPU's load fits (below 80 % of its actual capacity), so no busy time is clamped and
 * a domain's busy time is at least today's sum; its max_util (headroom included) only
 * grows, so its state is at or above the first one covering today's, and its cost at
 * least the least cost from there up; every unplaced unit of utilization costs at
 * least the least cost anywhere.
 */
static uint64_t lower_bound(const struct search *s, unsigned int task)
{
	const struct em_view *v = s->v;
	uint64_t lb = (uint64_t)s->rest_util[task] * s->gmin;

	for (unsigned int p = 0; p < v->nr_pds; p++) {
		const struct em_view_pd *vp = &v->pds[p];
		const struct em_perf_table *t = vp->table;
		unsigned long max = 0, sum = 0, cpu_cap = v->acap[vp->first];
		unsigned int i;

		for (unsigned int k = 0; k < vp->nr_cpus; k++) {
			unsigned long u = v->load[vp->first + k];

			sum += u;
			if (u > max)
				max = u;
		}
		if (!sum)
			continue;
		max = em_eas_effective_perf(max, vp->capacity);
		if (max > cpu_cap)
			max = cpu_cap;
		for (i = t->min_state; i < t->max_state && t->states[i].performance < max; i++)
			;
		lb += s->sufmin[p][i] * sum;
	}
	return lb;
}

static void search(struct search *s, unsigned int task)
{
	const struct em_view *v = s->v;

	if (task == s->nr_tasks) {
		uint64_t e = view_energy(v);

		if (!s->found || e < s->best) {
			s->found = true;
			s->best = e;
			memcpy(s->best_at, s->at, s->nr_tasks * sizeof(*s->at));
		}
		return;
	}
	/* Nothing below can beat (or tie) the best found so far: an equal energy
	 * found later would not replace it anyway. */
	if (s->found && lower_bound(s, task) >= s->best)
		return;
	for (unsigned int p = 0; p < v->nr_pds; p++) {
		const struct em_view_pd *vp = &v->pds[p];

		for (unsigned int k = 0; k < vp->nr_cpus; k++) {
			unsigned int c = vp->first + k;
			bool seen = false;

			/* CPUs of one domain with the same load are interchangeable. */
			for (unsigned int j = 0; j < k && !seen; j++)
				seen = v->load[vp->first + j] == v->load[c];
			if (seen || !load_fits(v, c, v->load[c] + s->util[task]))
				continue;
			v->load[c] += s->util[task];
			s->at[task] = c;
			search(s, task + 1);
			v->load[c] -= s->util[task];
		}
	}
}

/* Task indexes ordered by decreasing utilization (stable). */
static unsigned int *order_tasks(const unsigned long *util, unsigned int n)
{
	unsigned int *ord = em_calloc(n ? n : 1, sizeof(*ord));

	if (!ord)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int j = i;

		while (j > 0 && util[ord[j - 1]] < util[i]) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = i;
	}
	return ord;
}

struct place_ctx {
	struct em_view v;
	unsigned int *ord;
	unsigned long *sorted;
	unsigned int *at;
	unsigned int *best_at;
};

static void place_release(struct place_ctx *pc)
{
	em_view_release(&pc->v);
	free(pc->ord);
	free(pc->sorted);
	free(pc->at);
	free(pc->best_at);
}

static int place_prepare(struct place_ctx *pc, const struct em_registry *reg,
			 const unsigned long *task_util, unsigned int nr_tasks, struct em_error *err)
{
	int ret;

	memset(pc, 0, sizeof(*pc));
	for (unsigned int i = 0; i < nr_tasks; i++)
		if (task_util[i] < 1 || task_util[i] > EM_CAPACITY_SCALE)
			return em_err(err, -EINVAL, "task %u: utilization %lu is not in 1..%u", i,
				      task_util[i], EM_CAPACITY_SCALE);
	ret = em_view_take(&pc->v, reg, err);
	if (ret)
		return ret;
	if (pc->v.nr_cpus == 0) {
		place_release(pc);
		return em_err(err, -EINVAL, "the model has no CPU domain to place tasks on");
	}
	pc->ord = order_tasks(task_util, nr_tasks);
	pc->sorted = em_calloc(nr_tasks ? nr_tasks : 1, sizeof(*pc->sorted));
	pc->at = em_calloc(nr_tasks ? nr_tasks : 1, sizeof(*pc->at));
	pc->best_at = em_calloc(nr_tasks ? nr_tasks : 1, sizeof(*pc->best_at));
	if (!pc->ord || !pc->sorted || !pc->at || !pc->best_at) {
		place_release(pc);
		return em_err(err, -ENOMEM, "out of memory");
	}
	em_eas_view_acap(&pc->v, NULL);
	for (unsigned int i = 0; i < nr_tasks; i++)
		pc->sorted[i] = task_util[pc->ord[i]];
	return 0;
}

static void place_output(const struct place_ctx *pc, unsigned int nr_tasks,
			 const unsigned int *at, unsigned int *cpu_out)
{
	for (unsigned int i = 0; i < nr_tasks; i++)
		cpu_out[pc->ord[i]] = pc->v.cpu[at[i]];
}

/* Suffix minima of the costs and the suffix sums of the utilizations. */
static int bound_prepare(struct search *s, const struct place_ctx *pc, unsigned int nr_tasks,
			 struct em_error *err)
{
	const struct em_view *v = &pc->v;
	uint64_t *rest = em_calloc(nr_tasks + 1, sizeof(*rest));

	s->sufmin = em_calloc(v->nr_pds, sizeof(*s->sufmin));
	if (!rest || !s->sufmin) {
		free(rest);
		free(s->sufmin);
		return em_err(err, -ENOMEM, "out of memory");
	}
	s->rest_util = rest;
	for (unsigned int t = nr_tasks; t-- > 0;)
		rest[t] = rest[t + 1] + s->util[t];
	s->gmin = UINT64_MAX;
	for (unsigned int p = 0; p < v->nr_pds; p++) {
		const struct em_perf_table *t = v->pds[p].table;
		uint64_t *m = em_calloc(t->nr_states, sizeof(*m));

		if (!m) {
			for (unsigned int q = 0; q < p; q++)
				free(s->sufmin[q]);
			free(s->sufmin);
			free(rest);
			return em_err(err, -ENOMEM, "out of memory");
		}
		m[t->max_state] = t->states[t->max_state].cost;
		for (unsigned int i = t->max_state; i-- > t->min_state;)
			m[i] = t->states[i].cost < m[i + 1] ? t->states[i].cost : m[i + 1];
		if (m[t->min_state] < s->gmin)
			s->gmin = m[t->min_state];
		s->sufmin[p] = m;
	}
	return 0;
}

static void bound_release(struct search *s, const struct place_ctx *pc)
{
	for (unsigned int p = 0; p < pc->v.nr_pds; p++)
		free(s->sufmin[p]);
	free(s->sufmin);
	free((void *)s->rest_util);
}

int em_place_optimal(const struct em_registry *reg, const unsigned long *task_util,
		     unsigned int nr_tasks, unsigned int *cpu_out, uint64_t *energy,
		     struct em_error *err)
{
	struct place_ctx pc;
	struct search s;
	int ret;

	if (nr_tasks > EM_PLACE_OPTIMAL_MAX_TASKS)
		return em_err(err, -E2BIG,
			      "%u tasks: the exhaustive search takes at most %u (use the greedy one)",
			      nr_tasks, EM_PLACE_OPTIMAL_MAX_TASKS);
	ret = place_prepare(&pc, reg, task_util, nr_tasks, err);
	if (ret)
		return ret;
	s = (struct search){
		.v = &pc.v, .util = pc.sorted, .nr_tasks = nr_tasks, .at = pc.at,
		.best_at = pc.best_at,
	};
	ret = bound_prepare(&s, &pc, nr_tasks, err);
	if (ret) {
		place_release(&pc);
		return ret;
	}
	search(&s, 0);
	bound_release(&s, &pc);
	if (!s.found) {
		ret = em_err(err, -ENOSPC,
			     "no placement fits every task (util * 1280 < capacity * 1024 on every CPU)");
	} else {
		place_output(&pc, nr_tasks, pc.best_at, cpu_out);
		*energy = s.best;
	}
	place_release(&pc);
	return ret;
}

int em_place_greedy(const struct em_registry *reg, const unsigned long *task_util,
		    unsigned int nr_tasks, unsigned int *cpu_out, uint64_t *energy,
		    struct em_error *err)
{
	struct place_ctx pc;
	int ret = place_prepare(&pc, reg, task_util, nr_tasks, err);

	if (ret)
		return ret;
	for (unsigned int t = 0; t < nr_tasks; t++) {
		unsigned long u = pc.sorted[t];
		uint64_t delta;
		int c = -1;

		ret = em_eas_view_select(&pc.v, u, -1, &c, &delta);
		if (ret < 0) {
			if (ret == -EBUSY)
				em_err(err, ret,
				       "task %u (utilization %lu): the tasks placed before it overutilize a CPU, so the kernel would not use EAS",
				       pc.ord[t], u);
			else if (ret == -ENOSPC)
				em_err(err, ret, "task %u (utilization %lu) fits on no CPU", pc.ord[t], u);
			else
				em_err(err, ret, "out of memory");
			place_release(&pc);
			return ret;
		}
		pc.v.load[ret] += u;
		pc.at[t] = (unsigned int)ret;
	}
	place_output(&pc, nr_tasks, pc.at, cpu_out);
	*energy = view_energy(&pc.v);
	place_release(&pc);
	return 0;
}
