/*
 * The frontier: for every performance level the CPUs can reach, the CPUs to run and
 * each domain's state for the least total power.
 *
 * The problem is the one scx_utils' EnergyModelOptimizer (used by scx_lavd) solves by
 * enumerating CPU subsets: a level's performance is the sum, over the CPUs that run,
 * of the performance of their domain's state, and its power the sum of those states'
 * power (the Energy Model gives power per CPU). The CPUs of one domain are
 * interchangeable and share one state, so a domain contributes one "option": k of its
 * n CPUs at state s (or none). Choosing one option per domain with the least power for
 * at least a performance is a multiple-choice knapsack; we solve it exactly by dynamic
 * programming over performance (pseudo-polynomial: performance is an integer of at
 * most 1024 per CPU).
 *
 * Layer d holds, for the first d domains, every performance that can be on an optimal
 * path: the least key (power, then domains used, then CPUs used) per exact
 * performance, pruned to the Pareto front (a performance whose power is not below
 * that of some higher performance can be on no optimal path: the higher one would give
 * more for as little). Each domain's options are pruned the same way first. The last
 * layer is the frontier; each level is rebuilt by following back-pointers, O(domains)
 * per level. Interchangeable domains (same CPU count and allowed states) then swap
 * their options so that as many as possible of the domains the previous level ran run
 * again; which of a domain's CPUs run is its first k, so consecutive levels nest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* key = power << 22 | domains << 11 | cpus: lexicographic, and additive. */
#define KEY_DOM (UINT64_C(1) << 11)
#define KEY_W_SHIFT 22
#define NO_OPT 0xffffU

struct option {
	uint32_t perf;
	uint16_t k;
	uint16_t state;
	uint64_t key;
};

struct layer {
	unsigned int n;
	uint32_t *perf;
	uint64_t *key;
	uint32_t *pred;
	uint16_t *opt;
};

struct priv {
	struct layer *layer;
	uint32_t *rperf[2];       /* performance and key of the last two layers */
	uint64_t *rkey[2];
	struct option **opt;
	unsigned int *nr_opt;
	unsigned int *cls;        /* class (first member's domain index) of each domain */
	uint16_t *level_mem;
	unsigned int *cpu_domain; /* domain of each index of f->cpu */
	unsigned int *cpu_rank;   /* index of the CPU within its domain */
};

static int cmp_option(const void *a, const void *b)
{
	const struct option *x = a, *y = b;

	if (x->perf != y->perf)
		return x->perf < y->perf ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->state < y->state ? -1 : x->state > y->state;
}

/* The Pareto-useful options of one domain: k CPUs at state s, k >= 1. */
static int domain_options(const struct em_view_pd *vp, struct option **out, unsigned int *nr)
{
	const struct em_perf_table *t = vp->table;
	unsigned int ns = t->max_state - t->min_state + 1, n = 0, kept = 0;
	struct option *o = em_calloc((size_t)vp->nr_cpus * ns, sizeof(*o));
	uint64_t min_w = UINT64_MAX;

	if (!o)
		return -ENOMEM;
	for (unsigned int k = 1; k <= vp->nr_cpus; k++) {
		for (unsigned int s = t->min_state; s <= t->max_state; s++) {
			if (!t->states[s].performance)
				continue; /* no performance for power: "off" is better */
			o[n].perf = (uint32_t)(k * t->states[s].performance);
			o[n].k = (uint16_t)k;
			o[n].state = (uint16_t)s;
			o[n].key = ((uint64_t)k * t->states[s].power << KEY_W_SHIFT) + KEY_DOM + k;
			n++;
		}
	}
	qsort(o, n, sizeof(*o), cmp_option);
	/* Keep, per performance, the least key; then only those whose power is below
	 * that of every higher performance. */
	for (unsigned int i = n; i-- > 0;) {
		uint64_t w = o[i].key >> KEY_W_SHIFT;

		if (i > 0 && o[i - 1].perf == o[i].perf)
			continue; /* a better one of the same performance comes first */
		if (w < min_w) {
			min_w = w;
			o[n - 1 - kept++] = o[i];
		}
	}
	memmove(o, o + n - kept, kept * sizeof(*o));
	*out = o;
	*nr = kept;
	return 0;
}

static void priv_free(struct priv *pv, unsigned int nr_domains)
{
	if (!pv)
		return;
	for (unsigned int d = 0; pv->layer && d < nr_domains; d++) {
		free(pv->layer[d].pred);
		free(pv->layer[d].opt);
	}
	for (unsigned int i = 0; i < 2; i++) {
		free(pv->rperf[i]);
		free(pv->rkey[i]);
	}
	for (unsigned int d = 0; pv->opt && d < nr_domains; d++)
		free(pv->opt[d]);
	free(pv->layer);
	free(pv->opt);
	free(pv->nr_opt);
	free(pv->cls);
	free(pv->level_mem);
	free(pv->cpu_domain);
	free(pv->cpu_rank);
	free(pv);
}

void em_frontier_release(struct em_frontier *f)
{
	if (!f)
		return;
	priv_free(f->priv_, f->nr_domains);
	free(f->domain_id);
	free(f->domain_first);
	free(f->domain_nr_cpus);
	free(f->cpu);
	free(f->levels);
	memset(f, 0, sizeof(*f));
}

/* Merge layer d-1 (or the empty start) with domain d's options into layer d. */
static int merge(struct priv *pv, unsigned int d, uint64_t *skey, uint32_t *spred,
		 uint16_t *sopt, uint32_t reach)
{
	static const uint32_t zero_perf = 0;
	static const uint64_t zero_key = 0;
	const struct layer *in = d ? &pv->layer[d - 1] : NULL;
	unsigned int m = in ? in->n : 1, q = pv->nr_opt[d], n = 0;
	const uint32_t *iperf = in ? in->perf : &zero_perf;
	const uint64_t *ikey = in ? in->key : &zero_key;
	const struct option *o = pv->opt[d];
	struct layer *out = &pv->layer[d];
	uint64_t min_w = UINT64_MAX;

	for (unsigned int i = 0; i < m; i++) {
		uint32_t p = iperf[i];
		uint64_t k = ikey[i];

		/* The domain runs nothing. */
		if (k < skey[p]) {
			skey[p] = k;
			spred[p] = i;
			sopt[p] = NO_OPT;
		}
		for (unsigned int j = 0; j < q; j++) {
			uint32_t np = p + o[j].perf;
			uint64_t nk = k + o[j].key;

			if (nk < skey[np]) {
				skey[np] = nk;
				spred[np] = i;
				sopt[np] = (uint16_t)j;
			}
		}
	}
	/* The Pareto front, collected from the top down, then turned around. */
	for (uint32_t p = reach + 1; p-- > 0;) {
		if (skey[p] == UINT64_MAX)
			continue;
		if ((skey[p] >> KEY_W_SHIFT) < min_w) {
			min_w = skey[p] >> KEY_W_SHIFT;
			n++;
		} else {
			skey[p] = UINT64_MAX;
		}
	}
	/* Performance and key are only needed by the next merge (and, for the last
	 * layer, the levels): two buffers, used in turn. */
	out->perf = pv->rperf[d & 1];
	out->key = pv->rkey[d & 1];
	out->pred = em_malloc((n ? n : 1) * sizeof(*out->pred));
	out->opt = em_malloc((n ? n : 1) * sizeof(*out->opt));
	if (!out->pred || !out->opt) {
		for (uint32_t p = 0; p <= reach; p++)
			skey[p] = UINT64_MAX;
		return -ENOMEM;
	}
	out->n = 0;
	for (uint32_t p = 0; p <= reach; p++) {
		if (skey[p] == UINT64_MAX)
			continue;
		out->perf[out->n] = p;
		out->key[out->n] = skey[p];
		out->pred[out->n] = spred[p];
		out->opt[out->n] = sopt[p];
		out->n++;
		skey[p] = UINT64_MAX;
	}
	return 0;
}

/*
 * Give interchangeable domains' options to the ones the previous level ran first.
 * members[] lists the domains class by class (ascending in each), class_end[i] the
 * end of the i-th class of two or more.
 */
static void favour_previous(struct em_frontier_level *l, const struct em_frontier_level *prev,
			    const unsigned int *all_members, const unsigned int *class_end,
			    unsigned int nr_classes, uint16_t *st, uint16_t *nc)
{
	for (unsigned int c = 0, from = 0; c < nr_classes; from = class_end[c++]) {
		const unsigned int *members = all_members + from;
		unsigned int nm = class_end[c] - from, na = 0, at = 0;

		/* The class's active options, biggest first. */
		for (unsigned int i = 0; i < nm; i++) {
			unsigned int d = members[i];

			if (l->nr_cpus[d]) {
				unsigned int j = na++;

				while (j > 0 && (nc[j - 1] < l->nr_cpus[d] ||
						 (nc[j - 1] == l->nr_cpus[d] && st[j - 1] < l->state[d]))) {
					nc[j] = nc[j - 1];
					st[j] = st[j - 1];
					j--;
				}
				nc[j] = l->nr_cpus[d];
				st[j] = l->state[d];
			}
		}
		for (unsigned int i = 0; i < nm; i++) {
			l->nr_cpus[members[i]] = 0;
			l->state[members[i]] = EM_FRONTIER_OFF;
		}
		/* First to the members the previous level ran, then to the others. */
		for (int pass = 0; pass < 2; pass++) {
			for (unsigned int i = 0; i < nm && at < na; i++) {
				unsigned int d = members[i];
				bool ran = prev && prev->nr_cpus[d];

				if (ran != (pass == 0))
					continue;
				l->nr_cpus[d] = nc[at];
				l->state[d] = st[at];
				at++;
			}
		}
	}
}

static bool same_domain_shape(const struct em_view_pd *a, const struct em_view_pd *b)
{
	const struct em_perf_table *x = a->table, *y = b->table;

	if (a->nr_cpus != b->nr_cpus || x->max_state - x->min_state != y->max_state - y->min_state)
		return false;
	for (unsigned int i = 0; i <= x->max_state - x->min_state; i++) {
		const struct em_perf_state *s = &x->states[x->min_state + i];
		const struct em_perf_state *t = &y->states[y->min_state + i];

		if (s->performance != t->performance || s->power != t->power)
			return false;
	}
	return true;
}

int em_frontier_compute(const struct em_registry *reg, struct em_frontier *f,
			struct em_error *err)
{
	struct em_view v;
	struct priv *pv = NULL;
	uint64_t *skey = NULL;
	uint32_t *spred = NULL, reach = 0;
	uint16_t *sopt = NULL;
	unsigned int D, at = 0;
	int ret;

	memset(f, 0, sizeof(*f));
	ret = em_view_take(&v, reg, err);
	if (ret)
		return ret;
	D = v.nr_pds;
	if (!D) {
		em_view_release(&v);
		return em_err(err, -EINVAL, "the model has no CPU domain");
	}
	f->nr_domains = D;
	f->nr_cpus = v.nr_cpus;
	pv = em_calloc(1, sizeof(*pv));
	f->domain_id = em_calloc(D, sizeof(*f->domain_id));
	f->domain_first = em_calloc(D, sizeof(*f->domain_first));
	f->domain_nr_cpus = em_calloc(D, sizeof(*f->domain_nr_cpus));
	f->cpu = em_calloc(v.nr_cpus, sizeof(*f->cpu));
	if (!pv || !f->domain_id || !f->domain_first || !f->domain_nr_cpus || !f->cpu)
		goto nomem;
	f->priv_ = pv;
	pv->layer = em_calloc(D, sizeof(*pv->layer));
	pv->opt = em_calloc(D, sizeof(*pv->opt));
	pv->nr_opt = em_calloc(D, sizeof(*pv->nr_opt));
	pv->cls = em_calloc(D, sizeof(*pv->cls));
	pv->cpu_domain = em_calloc(v.nr_cpus, sizeof(*pv->cpu_domain));
	pv->cpu_rank = em_calloc(v.nr_cpus, sizeof(*pv->cpu_rank));
	if (!pv->layer || !pv->opt || !pv->nr_opt || !pv->cls || !pv->cpu_domain || !pv->cpu_rank)
		goto nomem;
	for (unsigned int d = 0; d < D; d++) {
		const struct em_view_pd *vp = &v.pds[d];

		f->domain_id[d] = vp->id;
		f->domain_first[d] = vp->first;
		f->domain_nr_cpus[d] = vp->nr_cpus;
		for (unsigned int k = 0; k < vp->nr_cpus; k++) {
			f->cpu[vp->first + k] = v.cpu[vp->first + k];
			pv->cpu_domain[vp->first + k] = d;
			pv->cpu_rank[vp->first + k] = k;
		}
		reach += vp->nr_cpus * (uint32_t)vp->table->states[vp->table->max_state].performance;
		pv->cls[d] = d;
		for (unsigned int e = 0; e < d; e++) {
			if (pv->cls[e] == e && same_domain_shape(&v.pds[e], vp)) {
				pv->cls[d] = e;
				break;
			}
		}
		if (domain_options(vp, &pv->opt[d], &pv->nr_opt[d]))
			goto nomem;
	}
	skey = em_malloc(((size_t)reach + 1) * sizeof(*skey));
	spred = em_malloc(((size_t)reach + 1) * sizeof(*spred));
	sopt = em_malloc(((size_t)reach + 1) * sizeof(*sopt));
	for (unsigned int i = 0; i < 2; i++) {
		pv->rperf[i] = em_malloc(((size_t)reach + 1) * sizeof(*pv->rperf[i]));
		pv->rkey[i] = em_malloc(((size_t)reach + 1) * sizeof(*pv->rkey[i]));
		if (!pv->rperf[i] || !pv->rkey[i])
			goto nomem;
	}
	if (!skey || !spred || !sopt)
		goto nomem;
	for (uint32_t p = 0; p <= reach; p++)
		skey[p] = UINT64_MAX;
	reach = 0;
	for (unsigned int d = 0; d < D; d++) {
		const struct em_view_pd *vp = &v.pds[d];

		reach += vp->nr_cpus * (uint32_t)vp->table->states[vp->table->max_state].performance;
		if (merge(pv, d, skey, spred, sopt, reach))
			goto nomem;
	}
	free(skey);
	free(spred);
	free(sopt);
	skey = NULL;
	spred = NULL;
	sopt = NULL;

	/* The levels: every point of the last layer but performance 0. */
	const struct layer *last = &pv->layer[D - 1];
	unsigned int nl = last->n && last->perf[0] == 0 ? last->n - 1 : last->n;
	unsigned int *members = em_calloc(D, sizeof(*members)), nr_classes = 0, nm = 0;
	unsigned int *class_end = em_calloc(D, sizeof(*class_end));
	uint16_t *st = em_calloc(D, sizeof(*st)), *nc = em_calloc(D, sizeof(*nc));

	f->levels = em_calloc(nl ? nl : 1, sizeof(*f->levels));
	pv->level_mem = em_malloc((size_t)(nl ? nl : 1) * D * 2 * sizeof(*pv->level_mem));
	if (!members || !class_end || !st || !nc || !f->levels || !pv->level_mem) {
		free(members);
		free(class_end);
		free(st);
		free(nc);
		goto nomem;
	}
	/* The classes of interchangeable domains with two or more members. */
	for (unsigned int c = 0; c < D; c++) {
		unsigned int from = nm;

		if (pv->cls[c] != c)
			continue;
		for (unsigned int d = c; d < D; d++)
			if (pv->cls[d] == c)
				members[nm++] = d;
		if (nm - from < 2)
			nm = from;
		else
			class_end[nr_classes++] = nm;
	}
	for (unsigned int i = last->n - nl; i < last->n; i++) {
		struct em_frontier_level *l = &f->levels[at];
		uint32_t j = i;

		l->state = pv->level_mem + (size_t)at * D * 2;
		l->nr_cpus = l->state + D;
		l->performance = last->perf[i];
		l->power = last->key[i] >> KEY_W_SHIFT;
		for (unsigned int d = D; d-- > 0;) {
			const struct layer *ly = &pv->layer[d];
			uint16_t o = ly->opt[j];

			if (o == NO_OPT) {
				l->state[d] = EM_FRONTIER_OFF;
				l->nr_cpus[d] = 0;
			} else {
				l->state[d] = pv->opt[d][o].state;
				l->nr_cpus[d] = pv->opt[d][o].k;
				l->nr_domains++;
				l->nr_cpus_used += pv->opt[d][o].k;
			}
			j = ly->pred[j];
		}
		if (nr_classes)
			favour_previous(l, at ? &f->levels[at - 1] : NULL, members, class_end,
					nr_classes, st, nc);
		at++;
	}
	free(members);
	free(class_end);
	free(st);
	free(nc);
	f->nr_levels = nl;
	f->total_performance = nl ? f->levels[nl - 1].performance : 0;
	/* The layers were only needed to rebuild the levels. */
	for (unsigned int d = 0; d < D; d++) {
		free(pv->layer[d].pred);
		free(pv->layer[d].opt);
	}
	free(pv->layer);
	pv->layer = NULL;
	for (unsigned int i = 0; i < 2; i++) {
		free(pv->rperf[i]);
		free(pv->rkey[i]);
		pv->rperf[i] = NULL;
		pv->rkey[i] = NULL;
	}
	em_view_release(&v);
	return 0;
nomem:
	free(skey);
	free(spred);
	free(sopt);
	if (!f->priv_)
		priv_free(pv, D);
	em_frontier_release(f);
	em_view_release(&v);
	return em_err(err, -ENOMEM, "out of memory");
}

const struct em_frontier_level *em_frontier_for(const struct em_frontier *f, uint64_t target)
{
	unsigned int lo = 0, hi = f->nr_levels;

	if (!f->nr_levels)
		return NULL;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (f->levels[mid].performance >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &f->levels[lo < f->nr_levels ? lo : f->nr_levels - 1];
}

uint64_t em_frontier_target(const struct em_frontier *f, unsigned int pct)
{
	return f->total_performance * pct / 100;
}

/* True if level l runs f->cpu[c]. */
static bool runs(const struct em_frontier *f, const struct em_frontier_level *l, unsigned int c)
{
	const struct priv *pv = f->priv_;

	return pv->cpu_rank[c] < l->nr_cpus[pv->cpu_domain[c]];
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

unsigned int em_frontier_cpus(const struct em_frontier *f, const struct em_frontier_level *l,
			      unsigned int *out)
{
	unsigned int n = 0;

	for (unsigned int c = 0; c < f->nr_cpus; c++)
		if (runs(f, l, c))
			out[n++] = f->cpu[c];
	qsort(out, n, sizeof(*out), cmp_uint);
	return n;
}

unsigned int em_frontier_overflow(const struct em_frontier *f,
				  const struct em_frontier_level *l, unsigned int *out)
{
	unsigned int i = (unsigned int)(l - f->levels), n = 0, want = 0;
	struct em_cpumask done = {0};

	for (unsigned int c = 0; c < f->nr_cpus; c++) {
		if (runs(f, l, c))
			em_cpumask_set(&done, f->cpu[c]);
		else
			want++;
	}
	for (unsigned int j = i + 1; j < f->nr_levels && n < want; j++) {
		unsigned int from = n;

		for (unsigned int c = 0; c < f->nr_cpus; c++) {
			if (!em_cpumask_test(&done, f->cpu[c]) && runs(f, &f->levels[j], c)) {
				em_cpumask_set(&done, f->cpu[c]);
				out[n++] = f->cpu[c];
			}
		}
		qsort(out + from, n - from, sizeof(*out), cmp_uint);
	}
	return n;
}
