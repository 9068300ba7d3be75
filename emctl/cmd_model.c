/*
 * emctl's Energy Model commands: model show / check / export, estimate,
 * place and frontier. Each loads a model — a file, the embedded RK3399
 * default, a debugfs energy_model directory, or (--netlink, --socket,
 * --kernel) the model emd or the kernel serves, read with the typed client
 * (emdev_read_model) — into a private registry and works on it with lib/em;
 * none needs a daemon unless asked. The table and JSON are show's (output.c):
 * `emctl model show --default --json` prints what `emctl show --json` prints
 * for an emd serving the default.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "emctl.h"
#include "emkit/dev_energymodel_user.h"
#include "emkit/em.h"

/* ---- sources ---------------------------------------------------------------------- */

/* The model file named by --model or the bare FILE argument. */
static const char *model_file(const struct emctl_args *a)
{
	return a->model ? a->model : a->argc > 0 ? a->argv[0] : NULL;
}

/* One source at most; returns 0 or EMCTL_EXIT_USAGE. */
static int check_source(const struct emctl_args *a)
{
	int n = !!a->model + (a->argc > 0) + a->def + !!a->debugfs +
		(a->netlink || a->socket || a->kernel);

	if (n > 1 && a->netlink && a->argc > 0)
		return emctl_usage_error(a, "give one model source only ('%s' and --netlink; "
					    "--netlink takes no spec: dev-energymodel's is built "
					    "into libemkit)", a->argv[0]);
	if (n > 1)
		return emctl_usage_error(a, "give one model source only (--model FILE%s, "
					    "--default, --debugfs DIR, or --netlink with --socket "
					    "or --kernel)", a->cmd->max_args ? ", FILE" : "");
	return 0;
}

/* Load the model @a names into @m: 0 or the exit status, after saying why. */
static int load(const struct emctl_args *a, struct em_model *m)
{
	struct em_error err;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (a->netlink || a->socket || a->kernel) {
		struct emctl_peer p;

		rc = emctl_peer_connect(a, &p);
		if (rc)
			return rc;
		if (emdev_read_model(p.dev, m, &err)) {
			fprintf(stderr, "%s: %s: %s\n", a->name, p.where, err.msg);
			rc = EMCTL_EXIT_FAIL;
		}
		emctl_peer_close(&p);
		return rc;
	}
	if (model_file(a))
		rc = em_model_load_file(m, model_file(a), &err);
	else if (a->debugfs)
		rc = em_model_load_debugfs(m, a->debugfs, &err);
	else if (em_model_default(m))
		snprintf(err.msg, sizeof(err.msg), "out of memory"), rc = -ENOMEM;
	if (rc) {
		fprintf(stderr, "%s: %s\n", a->name, err.msg);
		return EMCTL_EXIT_FAIL;
	}
	return 0;
}

/* The model as a registry (what emd would serve): 0 or the exit status. */
static int load_registry(const struct emctl_args *a, struct em_registry **out)
{
	struct em_model m;
	struct em_error err;
	struct em_registry *reg;
	int rc = load(a, &m);

	*out = NULL;
	if (rc)
		return rc;
	reg = em_registry_new();
	if (!reg || em_model_register(&m, reg, &err)) {
		fprintf(stderr, "%s: %s\n", a->name, reg ? err.msg : "out of memory");
		em_registry_free(reg);
		em_model_release(&m);
		return EMCTL_EXIT_FAIL;
	}
	em_model_release(&m);
	*out = reg;
	return 0;
}

/* ---- model show ------------------------------------------------------------------- */

/* @pd as a domain to print; @states has room for its table. Under em_read_lock. */
static void domain_of(const struct em_pd *pd, struct emctl_domain *d, struct emctl_state *states)
{
	const struct em_perf_table *t = em_pd_table(pd);

	memset(d, 0, sizeof(*d));
	d->id = em_pd_id(pd);
	d->name = em_pd_name(pd);
	d->flags = em_pd_flags(pd);
	d->device = !em_pd_is_cpu(pd);
	if (!d->device) {
		em_cpumask_format(em_pd_cpus(pd), d->cpus, sizeof(d->cpus));
		d->capacity = em_pd_capacity(pd);
	}
	for (unsigned int i = 0; i < t->nr_states; i++)
		states[i] = (struct emctl_state){t->states[i].frequency, t->states[i].performance,
						 t->states[i].power, t->states[i].cost,
						 t->states[i].flags};
	d->n_states = t->nr_states;
	d->states = states;
}

static struct json_object *flag_list(unsigned long flags, const char *const *names,
				     unsigned int n)
{
	struct json_object *a = json_object_new_array();

	for (unsigned int b = 0; b < 64; b++)
		if (flags & (1UL << b))
			json_object_array_add(a, b < n ? json_object_new_string(names[b])
						       : json_object_new_uint64(1ULL << b));
	return a;
}

/* A domain as `emctl show --json` prints one: the wire's attributes by the
 * spec's names, no "cpus" for a device (the wire has none). */
static struct json_object *domain_json(const struct emctl_domain *d, const struct em_pd *pd)
{
	static const char *const pd_flags[] = {"perf-domain-microwatts",
					       "perf-domain-skip-inefficiencies",
					       "perf-domain-artificial"};
	static const char *const ps_flags[] = {"perf-state-inefficient"};
	struct json_object *o = json_object_new_object(), *states = json_object_new_array();

	json_object_object_add(o, "perf-domain-id", json_object_new_uint64(d->id));
	json_object_object_add(o, "flags", flag_list(d->flags, pd_flags, 3));
	if (!d->device) {
		struct json_object *cpus = json_object_new_array();
		unsigned int c;

		em_cpumask_for_each(c, em_pd_cpus(pd))
			json_object_array_add(cpus, json_object_new_uint64(c));
		json_object_object_add(o, "cpus", cpus);
	}
	for (size_t i = 0; i < d->n_states; i++) {
		const struct emctl_state *ps = &d->states[i];
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "performance", json_object_new_uint64(ps->performance));
		json_object_object_add(s, "frequency", json_object_new_uint64(ps->frequency));
		json_object_object_add(s, "power", json_object_new_uint64(ps->power));
		json_object_object_add(s, "cost", json_object_new_uint64(ps->cost));
		json_object_object_add(s, "flags", flag_list(ps->flags, ps_flags, 1));
		json_object_array_add(states, s);
	}
	json_object_object_add(o, "perf-state", states);
	return o;
}

int emctl_cmd_model_show(struct emctl_args *a)
{
	struct emctl_state states[EM_MAX_STATES];
	struct json_object *list = json_object_new_array();
	struct em_registry *reg;
	const struct em_pd *pd;
	bool first = true;
	int rc = check_source(a);

	if (rc || (rc = load_registry(a, &reg))) {
		json_object_put(list);
		return rc;
	}
	em_read_lock();
	if (em_pd_count(reg) == 0 && !a->json)
		printf("the model has no performance domains\n");
	em_for_each_pd(pd, reg) {
		struct emctl_domain d;

		domain_of(pd, &d, states);
		if (a->json) {
			json_object_array_add(list, domain_json(&d, pd));
		} else {
			if (!first)
				putchar('\n');
			emctl_print_domain(stdout, &d);
		}
		first = false;
	}
	em_read_unlock();
	if (a->json)
		emctl_json_print(stdout, list);
	json_object_put(list);
	em_registry_free(reg);
	return EMCTL_EXIT_OK;
}

/* ---- model check, model export ------------------------------------------------------ */

int emctl_cmd_model_check(struct emctl_args *a)
{
	const char *file = model_file(a);
	struct em_model m;
	struct em_error err;
	unsigned int states = 0;

	if (!file)
		return emctl_usage_error(a, "give the model FILE");
	if (a->model && a->argc)
		return emctl_usage_error(a, "give one model FILE only");
	if (em_model_load_file(&m, file, &err)) {
		fprintf(stderr, "%s: %s\n", a->name, err.msg);
		return EMCTL_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < m.nr_domains; i++)
		states += m.domains[i].nr_states;
	if (a->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(file));
		json_object_object_add(o, "perf-domains", json_object_new_uint64(m.nr_domains));
		json_object_object_add(o, "perf-states", json_object_new_uint64(states));
		emctl_json_print(stdout, o);
		json_object_put(o);
	} else {
		printf("%s: ok: %u domains, %u states\n", file, m.nr_domains, states);
	}
	em_model_release(&m);
	return EMCTL_EXIT_OK;
}

int emctl_cmd_model_export(struct emctl_args *a)
{
	const char *path = a->output ? a->output : "-";
	struct em_registry *reg;
	struct em_model m;
	FILE *f;
	int rc = check_source(a);

	/* Through a registry, so that what is exported is what was registered. */
	if (rc || (rc = load_registry(a, &reg)))
		return rc;
	rc = em_model_from_registry(&m, reg);
	em_registry_free(reg);
	if (rc) {
		fprintf(stderr, "%s: out of memory\n", a->name);
		return EMCTL_EXIT_FAIL;
	}
	f = emctl_open_output(path, a->name);
	if (!f) {
		em_model_release(&m);
		return EMCTL_EXIT_FAIL;
	}
	em_model_write_yaml(&m, f); /* its errors are the stream's, checked here: */
	em_model_release(&m);
	return emctl_close_output(f, a->name, strcmp(path, "-") ? path : "the output");
}

/* ---- estimate ------------------------------------------------------------------ */

/* Parse an unsigned decimal number that must end at *end_char. */
static bool parse_num(const char *s, char end_char, unsigned long max, unsigned long *v,
		      const char **rest)
{
	unsigned long x = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (unsigned long)(*p - '0');
		if (x > max)
			return false;
	}
	if (*p != end_char && !(end_char == ',' && *p == '\0'))
		return false;
	*v = x;
	*rest = p;
	return true;
}

/* Parse "CPU=VALUE,..." into val[] (max per value); returns 0 or a usage error. */
static int parse_cpu_values(const struct emctl_args *a, const char *opt, const char *spec,
			    unsigned long max, unsigned long *val, unsigned int *nr_cpus)
{
	struct em_cpumask given = {0};

	for (const char *p = spec;;) {
		unsigned long cpu, u;
		const char *rest;

		if (!parse_num(p, '=', EM_MAX_CPUS - 1, &cpu, &rest) ||
		    !parse_num(rest + 1, ',', max, &u, &rest))
			return emctl_usage_error(a, "%s: '%s' is not a list of CPU=%s (CPU < 1024, %s 0..%lu)",
					   opt, spec, !strcmp(opt, "--util") ? "UTIL" : "CAP",
					   !strcmp(opt, "--util") ? "UTIL" : "CAP", max);
		if (em_cpumask_test(&given, (unsigned int)cpu))
			return emctl_usage_error(a, "%s: CPU %lu is given twice", opt, cpu);
		em_cpumask_set(&given, (unsigned int)cpu);
		val[cpu] = u;
		if (cpu + 1 > *nr_cpus)
			*nr_cpus = (unsigned int)cpu + 1;
		if (!*rest)
			return 0;
		p = rest + 1; /* after a comma, another pair must follow */
	}
}

static void print_json(struct json_object *o)
{
	emctl_json_print(stdout, o);
	json_object_put(o);
}

int emctl_cmd_estimate(struct emctl_args *a)
{
	unsigned long util[EM_MAX_CPUS] = {0}, acap[EM_MAX_CPUS] = {0};
	unsigned int nr_cpus = 0, nr_acap = 0, nr_pds = 0;
	struct em_registry *reg;
	struct em_error err;
	struct em_eas_pd_estimate *eas = NULL;
	struct json_object *jeas = NULL, *jraw = NULL;
	const struct em_pd *pd;
	uint64_t total, raw_total;
	bool json = a->json;
	int ret = EMCTL_EXIT_OK;

	if (!a->util)
		return emctl_usage_error(a, "--util CPU=UTIL,... is required");
	if ((ret = check_source(a)))
		return ret;
	if (parse_cpu_values(a, "--util", a->util, 1024, util, &nr_cpus))
		return EMCTL_EXIT_USAGE;
	if (a->actual_cap &&
	    parse_cpu_values(a, "--actual-cap", a->actual_cap, 1024, acap, &nr_acap))
		return EMCTL_EXIT_USAGE;
	if ((ret = load_registry(a, &reg)))
		return ret;
	if (nr_acap > nr_cpus)
		nr_cpus = nr_acap;
	const struct em_eas_input in = {.util = util, .actual_cap = acap, .nr_cpus = nr_cpus};

	em_read_lock();
	nr_pds = em_pd_count(reg);
	em_read_unlock();
	eas = calloc(nr_pds ? nr_pds : 1, sizeof(*eas));
	if (!eas || em_eas_estimate(reg, &in, eas, nr_pds, &nr_pds, &total, &err) ||
	    em_estimate_energy_raw(reg, util, nr_cpus, &raw_total, &err)) {
		fprintf(stderr, "%s: %s\n", a->name, eas ? err.msg : "out of memory");
		ret = EMCTL_EXIT_FAIL;
		goto out;
	}
	if (json) {
		jeas = json_object_new_array();
		jraw = json_object_new_array();
	} else {
		printf("EAS estimate (compute_energy, Linux 6.14):\n");
	}
	em_read_lock();
	for (unsigned int i = 0; i < nr_pds; i++) {
		const struct em_eas_pd_estimate *e = &eas[i];
		const struct em_perf_state *ps;

		pd = em_pd_get(reg, e->id);
		ps = &em_pd_table(pd)->states[e->state];
		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "perf-domain-id", json_object_new_uint64(e->id));
			json_object_object_add(o, "name", json_object_new_string(em_pd_name(pd)));
			json_object_object_add(o, "cpu-cap", json_object_new_uint64(e->cpu_cap));
			json_object_object_add(o, "pd-cap", json_object_new_uint64(e->pd_cap));
			json_object_object_add(o, "max-util", json_object_new_uint64(e->max_util));
			json_object_object_add(o, "busy-time", json_object_new_uint64(e->busy_time));
			json_object_object_add(o, "state", json_object_new_uint64(e->state));
			json_object_object_add(o, "frequency", json_object_new_uint64(ps->frequency));
			json_object_object_add(o, "cost", json_object_new_uint64(ps->cost));
			json_object_object_add(o, "energy", json_object_new_uint64(e->energy));
			json_object_array_add(jeas, o);
		} else {
			printf("  perf-domain %u '%s': max_util %lu busy_time %lu (cpu_cap %lu, pd_cap %lu) -> state %u (%lu kHz, cost %lu): energy %llu\n",
			       e->id, em_pd_name(pd), e->max_util, e->busy_time, e->cpu_cap,
			       e->pd_cap, e->state, ps->frequency, ps->cost,
			       (unsigned long long)e->energy);
		}
	}
	if (!json)
		printf("EAS total energy %llu\nraw em_cpu_energy (max_util and sum_util as given, no headroom):\n",
		       (unsigned long long)total);
	em_for_each_pd(pd, reg) {
		const struct em_perf_table *t = em_pd_table(pd);
		unsigned long max = 0, sum = 0, cap = t->states[t->max_state].performance;
		unsigned int c, st;
		uint64_t e;

		if (!em_pd_is_cpu(pd))
			continue;
		em_cpumask_for_each(c, em_pd_cpus(pd)) {
			unsigned long u = util[c] > cap ? cap : util[c];

			sum += u;
			if (u > max)
				max = u;
		}
		st = em_perf_table_state_for(t, em_pd_flags(pd), max);
		e = em_perf_table_energy(t, em_pd_flags(pd), max, sum, cap);
		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "perf-domain-id", json_object_new_uint64(em_pd_id(pd)));
			json_object_object_add(o, "name", json_object_new_string(em_pd_name(pd)));
			json_object_object_add(o, "max-util", json_object_new_uint64(max));
			json_object_object_add(o, "sum-util", json_object_new_uint64(sum));
			json_object_object_add(o, "state", json_object_new_uint64(st));
			json_object_object_add(o, "frequency",
					       json_object_new_uint64(t->states[st].frequency));
			json_object_object_add(o, "cost", json_object_new_uint64(t->states[st].cost));
			json_object_object_add(o, "energy", json_object_new_uint64(e));
			json_object_array_add(jraw, o);
		} else {
			printf("  perf-domain %u '%s': max_util %lu sum_util %lu -> state %u (%lu kHz, cost %lu): energy %llu\n",
			       em_pd_id(pd), em_pd_name(pd), max, sum, st, t->states[st].frequency,
			       t->states[st].cost, (unsigned long long)e);
		}
	}
	em_read_unlock();
	if (json) {
		struct json_object *o = json_object_new_object(), *x = json_object_new_object();
		struct json_object *y = json_object_new_object();

		json_object_object_add(x, "total-energy", json_object_new_uint64(total));
		json_object_object_add(x, "perf-domains", jeas);
		json_object_object_add(y, "total-energy", json_object_new_uint64(raw_total));
		json_object_object_add(y, "perf-domains", jraw);
		json_object_object_add(o, "eas", x);
		json_object_object_add(o, "raw-em-cpu-energy", y);
		print_json(o);
	} else {
		printf("raw total energy %llu\n", (unsigned long long)raw_total);
	}
out:
	free(eas);
	em_registry_free(reg);
	return ret;
}

/* ---- place ----------------------------------------------------------------------- */

static void print_placement(const char *what, const unsigned long *tasks, unsigned int n,
			    const unsigned int *cpu, uint64_t energy)
{
	printf("%s: energy %llu\n", what, (unsigned long long)energy);
	for (unsigned int i = 0; i < n; i++)
		printf("  task %u (util %lu) -> CPU %u\n", i, tasks[i], cpu[i]);
}

static struct json_object *placement_json(const unsigned int *cpu, unsigned int n, uint64_t energy)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (unsigned int i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_uint64(cpu[i]));
	json_object_object_add(o, "energy", json_object_new_uint64(energy));
	json_object_object_add(o, "cpus", a);
	return o;
}

int emctl_cmd_place(struct emctl_args *a)
{
	const char *spec = a->tasks;
	unsigned long *tasks = NULL;
	unsigned int *cpu = NULL, n = 0;
	struct em_registry *reg;
	struct em_error err;
	uint64_t opt = 0, greedy;
	struct json_object *jo = NULL;
	bool json = a->json;
	int ret = EMCTL_EXIT_OK, ro;

	if (!spec)
		return emctl_usage_error(a, "--tasks UTIL,... is required");
	if ((ret = check_source(a)))
		return ret;
	for (const char *p = spec; *p; p++)
		n += *p == ',';
	n++;
	tasks = calloc(n, sizeof(*tasks));
	cpu = calloc(n, sizeof(*cpu));
	if (!tasks || !cpu) {
		free(tasks);
		free(cpu);
		fprintf(stderr, "%s: out of memory\n", a->name);
		return EMCTL_EXIT_FAIL;
	}
	n = 0;
	for (const char *p = spec; *p || n == 0;) {
		const char *rest;

		if (!parse_num(p, ',', 1024, &tasks[n], &rest) || tasks[n] == 0) {
			free(tasks);
			free(cpu);
			return emctl_usage_error(a, "--tasks: '%s' is not a list of utilizations "
						    "(1..1024)", spec);
		}
		n++;
		p = *rest ? rest + 1 : rest;
		if (*rest && !*p) {
			free(tasks);
			free(cpu);
			return emctl_usage_error(a, "--tasks: '%s' is not a list of utilizations "
						    "(1..1024)", spec);
		}
	}
	ret = load_registry(a, &reg);
	if (ret) {
		free(tasks);
		free(cpu);
		return ret;
	}
	if (json) {
		struct json_object *list = json_object_new_array();

		jo = json_object_new_object();
		for (unsigned int i = 0; i < n; i++)
			json_object_array_add(list, json_object_new_uint64(tasks[i]));
		json_object_object_add(jo, "tasks", list);
	}
	ro = n <= EM_PLACE_OPTIMAL_MAX_TASKS ? em_place_optimal(reg, tasks, n, cpu, &opt, &err)
					     : -E2BIG;
	if (ro == 0) {
		if (json)
			json_object_object_add(jo, "optimal", placement_json(cpu, n, opt));
		else
			print_placement("optimal", tasks, n, cpu, opt);
	} else if (ro == -E2BIG) {
		if (json)
			json_object_object_add(jo, "optimal", NULL);
		else
			printf("optimal: not searched (%u tasks; the exhaustive search takes at most %u)\n",
			       n, EM_PLACE_OPTIMAL_MAX_TASKS);
	} else {
		fprintf(stderr, "%s: %s\n", a->name, err.msg);
		ret = EMCTL_EXIT_FAIL;
		goto out;
	}
	if (em_place_greedy(reg, tasks, n, cpu, &greedy, &err)) {
		fprintf(stderr, "%s: greedy: %s\n", a->name, err.msg);
		ret = EMCTL_EXIT_FAIL;
		goto out;
	}
	if (json)
		json_object_object_add(jo, "greedy", placement_json(cpu, n, greedy));
	else
		print_placement("greedy", tasks, n, cpu, greedy);
	if (ro == 0) {
		double gap = opt ? 100.0 * (double)(greedy - opt) / (double)opt : 0.0;

		if (json)
			json_object_object_add(jo, "gap-percent", json_object_new_double(gap));
		else
			printf("gap: greedy is %.2f%% above optimal (%llu)\n", gap,
			       (unsigned long long)(greedy - opt));
	}
	if (json) {
		print_json(jo);
		jo = NULL;
	}
out:
	json_object_put(jo);
	em_registry_free(reg);
	free(tasks);
	free(cpu);
	return ret;
}

/* ---- frontier --------------------------------------------------------------------- */

static void print_cpu_list(const unsigned int *c, unsigned int n)
{
	if (!n) {
		printf("-");
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", c[i]);
}

static struct json_object *uint_array(const unsigned int *c, unsigned int n)
{
	struct json_object *a = json_object_new_array();

	for (unsigned int i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_uint64(c[i]));
	return a;
}

static struct json_object *level_json(const struct em_frontier *f,
				      const struct em_frontier_level *l, unsigned int *buf)
{
	struct json_object *o = json_object_new_object(), *d = json_object_new_array();
	unsigned int n;

	json_object_object_add(o, "performance", json_object_new_uint64(l->performance));
	json_object_object_add(o, "power", json_object_new_uint64(l->power));
	n = em_frontier_cpus(f, l, buf);
	json_object_object_add(o, "cpus", uint_array(buf, n));
	n = em_frontier_overflow(f, l, buf);
	json_object_object_add(o, "overflow", uint_array(buf, n));
	for (unsigned int i = 0; i < f->nr_domains; i++) {
		struct json_object *x;

		if (!l->nr_cpus[i])
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "perf-domain-id", json_object_new_uint64(f->domain_id[i]));
		json_object_object_add(x, "state", json_object_new_uint64(l->state[i]));
		json_object_object_add(x, "nr-cpus", json_object_new_uint64(l->nr_cpus[i]));
		json_object_array_add(d, x);
	}
	json_object_object_add(o, "perf-domains", d);
	return o;
}

static void level_text(const struct em_frontier *f, const struct em_frontier_level *l,
		       unsigned int *buf)
{
	unsigned int n;
	const char *sep = "";

	printf("perf %llu (%.1f%%)  power %llu  cpus ", (unsigned long long)l->performance,
	       f->total_performance ? 100.0 * (double)l->performance / (double)f->total_performance
				    : 0.0,
	       (unsigned long long)l->power);
	n = em_frontier_cpus(f, l, buf);
	print_cpu_list(buf, n);
	printf("  states ");
	for (unsigned int i = 0; i < f->nr_domains; i++) {
		if (!l->nr_cpus[i])
			continue;
		printf("%spd%u:%ux%u", sep, f->domain_id[i], l->nr_cpus[i], l->state[i]);
		sep = ",";
	}
	printf("  overflow ");
	n = em_frontier_overflow(f, l, buf);
	print_cpu_list(buf, n);
	printf("\n");
}

int emctl_cmd_frontier(struct emctl_args *a)
{
	static const unsigned int scx_targets[] = {5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
	unsigned int targets[101], nr_targets = 0, *buf = NULL;
	const char *spec = a->targets;
	struct em_registry *reg;
	struct em_frontier f;
	struct em_error err;
	bool json = a->json, all = a->all;
	int rc = check_source(a);

	if (rc)
		return rc;
	if (spec) {
		for (const char *p = spec;;) {
			unsigned long v;
			const char *rest;

			if (nr_targets == 101 || !parse_num(p, ',', 100, &v, &rest) || v == 0)
				return emctl_usage_error(a, "--targets: '%s' is not a list of "
							    "percentages (1..100)", spec);
			targets[nr_targets++] = (unsigned int)v;
			if (!*rest)
				break;
			p = rest + 1;
		}
	} else {
		for (unsigned int i = 0; i < sizeof(scx_targets) / sizeof(scx_targets[0]); i++)
			targets[nr_targets++] = scx_targets[i];
	}
	if ((rc = load_registry(a, &reg)))
		return rc;
	if (em_frontier_compute(reg, &f, &err)) {
		fprintf(stderr, "%s: %s\n", a->name, err.msg);
		em_registry_free(reg);
		return EMCTL_EXIT_FAIL;
	}
	buf = calloc(f.nr_cpus ? f.nr_cpus : 1, sizeof(*buf));
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", a->name);
		em_frontier_release(&f);
		em_registry_free(reg);
		return EMCTL_EXIT_FAIL;
	}
	if (json) {
		struct json_object *o = json_object_new_object(), *d = json_object_new_array();
		struct json_object *t = json_object_new_array();

		json_object_object_add(o, "total-performance",
				       json_object_new_uint64(f.total_performance));
		for (unsigned int i = 0; i < f.nr_domains; i++) {
			struct json_object *x = json_object_new_object();

			json_object_object_add(x, "perf-domain-id",
					       json_object_new_uint64(f.domain_id[i]));
			json_object_object_add(x, "cpus", uint_array(f.cpu + f.domain_first[i],
								      f.domain_nr_cpus[i]));
			json_object_array_add(d, x);
		}
		json_object_object_add(o, "domains", d);
		json_object_object_add(o, "nr-levels", json_object_new_uint64(f.nr_levels));
		for (unsigned int i = 0; i < nr_targets; i++) {
			struct json_object *x = json_object_new_object();
			uint64_t want = em_frontier_target(&f, targets[i]);
			const struct em_frontier_level *l = em_frontier_for(&f, want);

			json_object_object_add(x, "percent", json_object_new_uint64(targets[i]));
			json_object_object_add(x, "target", json_object_new_uint64(want));
			json_object_object_add(x, "level", level_json(&f, l, buf));
			json_object_array_add(t, x);
		}
		json_object_object_add(o, "targets", t);
		if (all) {
			struct json_object *levels = json_object_new_array();

			for (unsigned int i = 0; i < f.nr_levels; i++)
				json_object_array_add(levels, level_json(&f, &f.levels[i], buf));
			json_object_object_add(o, "levels", levels);
		}
		print_json(o);
	} else {
		printf("frontier of %u CPU domains, %u CPUs: %u levels, total performance %llu\n",
		       f.nr_domains, f.nr_cpus, f.nr_levels,
		       (unsigned long long)f.total_performance);
		for (unsigned int i = 0; i < nr_targets; i++) {
			uint64_t want = em_frontier_target(&f, targets[i]);

			printf("target %3u%% (%llu): ", targets[i], (unsigned long long)want);
			level_text(&f, em_frontier_for(&f, want), buf);
		}
		if (all) {
			printf("levels:\n");
			for (unsigned int i = 0; i < f.nr_levels; i++) {
				printf("%6u  ", i);
				level_text(&f, &f.levels[i], buf);
			}
		}
	}
	free(buf);
	em_frontier_release(&f);
	em_registry_free(reg);
	return EMCTL_EXIT_OK;
}

