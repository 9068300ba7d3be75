/*
 * emctl's offline Energy Model commands: model show / check / export, estimate,
 * place and frontier. They need no daemon: each loads a model (a file, the embedded RK3399
 * default, or a debugfs energy_model directory) into a private registry and works on
 * it with lib/em. JSON output uses the dev-energymodel spec's attribute and flag
 * names, so it reads like what emd serves. Exit codes: 0 ok, 1 failure (bad model,
 * impossible placement), 2 usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "emctl.h"
#include "emkit/em.h"
#include "model_netlink.h"

/* Where a command's model comes from. */
struct source {
	const char *file;
	const char *debugfs;
	const char *netlink; /* YNL spec of dev-energymodel */
	const char *socket;  /* emd's UNIX socket; NULL: the kernel */
	bool def;
};

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Report a command-line mistake; returns EMCTL_EXIT_USAGE. */
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "emctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(try 'emctl %s --help')\n", cmd);
	return EMCTL_EXIT_USAGE;
}

/*
 * Take a source option at argv[*i] if there is one: --default, --debugfs DIR,
 * --netlink SPEC (with --socket PATH), --model FILE or, if allow_bare, a bare FILE.
 * Returns 1 if taken, 0 if not, -1 on a usage error (already reported).
 */
static int take_source(const char *cmd, int argc, char **argv, int *i, struct source *src,
		       bool allow_bare)
{
	const char *a = argv[*i];
	int n = (src->file != NULL) + (src->debugfs != NULL) + (src->netlink != NULL) + src->def;

	if (!strcmp(a, "--socket")) {
		if (*i + 1 >= argc) {
			usage_error(cmd, "%s needs an argument", a);
			return -1;
		}
		src->socket = argv[++*i];
		return 1;
	}
	if (!strcmp(a, "--default")) {
		src->def = true;
	} else if (!strcmp(a, "--debugfs") || !strcmp(a, "--model") || !strcmp(a, "--netlink")) {
		if (*i + 1 >= argc) {
			usage_error(cmd, "%s needs an argument", a);
			return -1;
		}
		if (!strcmp(a, "--debugfs"))
			src->debugfs = argv[++*i];
		else if (!strcmp(a, "--netlink"))
			src->netlink = argv[++*i];
		else
			src->file = argv[++*i];
	} else if (allow_bare && a[0] != '-') {
		src->file = a;
	} else {
		return 0;
	}
	if (n) {
		usage_error(cmd, "%s: give one model source only", a);
		return -1;
	}
	return 1;
}

/* Sources that parse but do not go together; returns 0 or EMCTL_EXIT_USAGE. */
static int source_usage(const char *cmd, const struct source *src)
{
	if (src->socket && !src->netlink)
		return usage_error(cmd, "%s", "--socket goes with --netlink");
	return 0;
}

static int load(const struct source *src, struct em_model *m, struct em_error *err)
{
	if (src->netlink)
		return emctl_model_load_netlink(m, src->netlink, src->socket, err);
	if (src->file)
		return em_model_load_file(m, src->file, err);
	if (src->debugfs)
		return em_model_load_debugfs(m, src->debugfs, err);
	return em_model_default(m) ? -ENOMEM : 0;
}

static struct em_registry *load_registry(const char *cmd, const struct source *src)
{
	struct em_model m;
	struct em_error err;
	struct em_registry *reg;


	if (load(src, &m, &err)) {
		fprintf(stderr, "emctl %s: %s\n", cmd, err.msg);
		return NULL;
	}
	reg = em_registry_new();
	if (!reg || em_model_register(&m, reg, &err)) {
		fprintf(stderr, "emctl %s: %s\n", cmd, reg ? err.msg : "out of memory");
		em_registry_free(reg);
		reg = NULL;
	}
	em_model_release(&m);
	return reg;
}

/* ---- model show ---------------------------------------------------------------- */

static void print_pd_flags(FILE *out, unsigned long flags)
{
	const char *sep = "";

	if (flags & EM_PD_MICROWATTS) {
		fprintf(out, "microwatts");
		sep = ",";
	}
	if (flags & EM_PD_ARTIFICIAL) {
		fprintf(out, "%sartificial", sep);
		sep = ",";
	}
	if (flags & EM_PD_SKIP_INEFFICIENCIES)
		fprintf(out, "%sskip-inefficiencies", sep);
}

static void show_text(const struct em_registry *reg)
{
	const struct em_pd *pd;

	em_read_lock();
	if (em_pd_count(reg) == 0)
		printf("(no performance domains)\n");
	em_for_each_pd(pd, reg) {
		const struct em_perf_table *t = em_pd_table(pd);

		printf("perf-domain %u '%s'", em_pd_id(pd), em_pd_name(pd));
		if (em_pd_is_cpu(pd)) {
			char cpus[256];

			em_cpumask_format(em_pd_cpus(pd), cpus, sizeof(cpus));
			printf("  cpus %s  capacity %u", cpus, em_pd_capacity(pd));
		} else {
			printf("  device");
		}
		printf("  flags ");
		print_pd_flags(stdout, em_pd_flags(pd));
		printf("\n  %5s %10s %11s %10s %8s  %s\n", "state", "freq-kHz", "performance",
		       "power-uW", "cost", "flags");
		for (unsigned int i = 0; i < t->nr_states; i++) {
			const struct em_perf_state *ps = &t->states[i];

			printf("  %5u %10lu %11lu %10lu %8lu%s\n", i, ps->frequency,
			       ps->performance, ps->power, ps->cost,
			       ps->flags & EM_PS_INEFFICIENT ? "  inefficient" : "");
		}
	}
	em_read_unlock();
}

static struct json_object *flag_list(unsigned long flags, const char *const *names,
				     unsigned int n)
{
	struct json_object *a = json_object_new_array();

	for (unsigned int b = 0; b < n; b++)
		if (flags & (1UL << b))
			json_object_array_add(a, json_object_new_string(names[b]));
	return a;
}

static const char *const pd_flag_names[] = {
	"perf-domain-microwatts", "perf-domain-skip-inefficiencies", "perf-domain-artificial"};
static const char *const ps_flag_names[] = {"perf-state-inefficient"};

static void show_json(const struct em_registry *reg)
{
	struct json_object *list = json_object_new_array();
	const struct em_pd *pd;

	em_read_lock();
	em_for_each_pd(pd, reg) {
		const struct em_perf_table *t = em_pd_table(pd);
		struct json_object *o = json_object_new_object(), *cpus = json_object_new_array();
		struct json_object *states = json_object_new_array();
		unsigned int c;

		json_object_object_add(o, "perf-domain-id", json_object_new_uint64(em_pd_id(pd)));
		json_object_object_add(o, "flags", flag_list(em_pd_flags(pd), pd_flag_names, 3));
		if (em_pd_is_cpu(pd))
			em_cpumask_for_each(c, em_pd_cpus(pd))
				json_object_array_add(cpus, json_object_new_uint64(c));
		json_object_object_add(o, "cpus", cpus);
		for (unsigned int i = 0; i < t->nr_states; i++) {
			const struct em_perf_state *ps = &t->states[i];
			struct json_object *s = json_object_new_object();

			json_object_object_add(s, "performance", json_object_new_uint64(ps->performance));
			json_object_object_add(s, "frequency", json_object_new_uint64(ps->frequency));
			json_object_object_add(s, "power", json_object_new_uint64(ps->power));
			json_object_object_add(s, "cost", json_object_new_uint64(ps->cost));
			json_object_object_add(s, "flags", flag_list(ps->flags, ps_flag_names, 1));
			json_object_array_add(states, s);
		}
		json_object_object_add(o, "perf-state", states);
		json_object_array_add(list, o);
	}
	em_read_unlock();
	printf("%s\n", json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(list);
}

static const char model_help[] =
	"usage: emctl model show [SOURCE] [--json]\n"
	"       emctl model check FILE\n"
	"       emctl model export [SOURCE]\n"
	"\n"
	"SOURCE is one of:\n"
	"  FILE | --model FILE       a model file (YAML or JSON; docs/em-model-format.md)\n"
	"  --default                 the embedded Rockchip RK3399 model (the default)\n"
	"  --debugfs DIR             the kernel's debugfs energy_model directory\n"
	"  --netlink SPEC [--socket PATH]\n"
	"                            ask a dev-energymodel peer: the kernel (6.19+), or\n"
	"                            emd at its UNIX socket PATH; SPEC is the family's\n"
	"                            YNL spec (e.g. spec/dev-energymodel.yaml)\n"
	"\n"
	"  show    print the model's domains and states (inefficient states marked);\n"
	"          --json prints the dev-energymodel view: a list of {perf-domain-id,\n"
	"          flags, cpus, perf-state: [{performance, frequency, power, cost, flags}]}\n"
	"  check   validate a model file (YAML or JSON); errors name file, line and field\n"
	"  export  write the model as a YAML model file on standard output\n"
	"\n"
	"DIR is usually /sys/kernel/debug/energy_model.\n";

static int model_show(int argc, char **argv)
{
	struct source src = {0};
	struct em_registry *reg;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(model_help, stdout);
			return EMCTL_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		r = take_source("model show", argc, argv, &i, &src, true);
		if (r < 0)
			return EMCTL_EXIT_USAGE;
		if (r == 0)
			return usage_error("model show", "unknown option '%s'", argv[i]);
	}
	if (source_usage("model show", &src))
		return EMCTL_EXIT_USAGE;
	reg = load_registry("model show", &src);
	if (!reg)
		return EMCTL_EXIT_FAIL;
	if (json)
		show_json(reg);
	else
		show_text(reg);
	em_registry_free(reg);
	return EMCTL_EXIT_OK;
}

static int model_check(int argc, char **argv)
{
	struct em_model m;
	struct em_error err;
	unsigned int states = 0;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(model_help, stdout);
		return EMCTL_EXIT_OK;
	}
	if (argc != 2)
		return usage_error("model check", "%s", "expected exactly one FILE");
	if (argv[1][0] == '-')
		return usage_error("model check", "unknown option '%s'", argv[1]);
	if (em_model_load_file(&m, argv[1], &err)) {
		fprintf(stderr, "emctl model check: %s\n", err.msg);
		return EMCTL_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < m.nr_domains; i++)
		states += m.domains[i].nr_states;
	printf("%s: ok: %u domains, %u states\n", argv[1], m.nr_domains, states);
	em_model_release(&m);
	return EMCTL_EXIT_OK;
}

static int model_export(int argc, char **argv)
{
	struct source src = {0};
	struct em_registry *reg;
	struct em_model m;
	int ret;

	for (int i = 1; i < argc; i++) {
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(model_help, stdout);
			return EMCTL_EXIT_OK;
		}
		r = take_source("model export", argc, argv, &i, &src, true);
		if (r < 0)
			return EMCTL_EXIT_USAGE;
		if (r == 0)
			return usage_error("model export", "unknown option '%s'", argv[i]);
	}
	/* Through a registry, so that what is exported is what was registered. */
	if (source_usage("model export", &src))
		return EMCTL_EXIT_USAGE;
	reg = load_registry("model export", &src);
	if (!reg)
		return EMCTL_EXIT_FAIL;
	ret = em_model_from_registry(&m, reg);
	em_registry_free(reg);
	if (ret) {
		fprintf(stderr, "emctl model export: out of memory\n");
		return EMCTL_EXIT_FAIL;
	}
	ret = em_model_write_yaml(&m, stdout);
	em_model_release(&m);
	if (ret) {
		fprintf(stderr, "emctl model export: write error\n");
		return EMCTL_EXIT_FAIL;
	}
	return EMCTL_EXIT_OK;
}

int emctl_cmd_model(int argc, char **argv)
{
	if (argc < 2) {
		fputs(model_help, stderr);
		return EMCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(model_help, stdout);
		return EMCTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "show"))
		return model_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return model_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return model_export(argc - 1, argv + 1);
	return usage_error("model", "unknown subcommand '%s'", argv[1]);
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
static int parse_cpu_values(const char *cmd, const char *opt, const char *spec,
			    unsigned long max, unsigned long *val, unsigned int *nr_cpus)
{
	struct em_cpumask given = {0};

	for (const char *p = spec;;) {
		unsigned long cpu, u;
		const char *rest;

		if (!parse_num(p, '=', EM_MAX_CPUS - 1, &cpu, &rest) ||
		    !parse_num(rest + 1, ',', max, &u, &rest))
			return usage_error(cmd, "%s: '%s' is not a list of CPU=%s (CPU < 1024, %s 0..%lu)",
					   opt, spec, !strcmp(opt, "--util") ? "UTIL" : "CAP",
					   !strcmp(opt, "--util") ? "UTIL" : "CAP", max);
		if (em_cpumask_test(&given, (unsigned int)cpu))
			return usage_error(cmd, "%s: CPU %lu is given twice", opt, cpu);
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
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static const char estimate_help[] =
	"usage: emctl estimate [SOURCE] --util CPU=UTIL,... [--actual-cap CPU=CAP,...] [--json]\n"
	"\n"
	"Energy estimates for the given per-CPU utilizations (0..1024; CPUs not listed\n"
	"are idle), two of them, each named for what it is:\n"
	"  EAS  what the scheduler computes (Linux 6.14 compute_energy()): per CPU domain,\n"
	"       max_util = the busiest CPU's utilization plus schedutil's 25 % headroom,\n"
	"       capped at the CPU's capacity and then at its actual capacity; busy_time =\n"
	"       the summed utilization, at most actual capacity * CPUs; energy = cost of the\n"
	"       state picked for max_util * busy_time\n"
	"  raw  em_cpu_energy() with max_util and sum_util as given (no headroom), each\n"
	"       CPU clamped to the allowed capacity\n"
	"--actual-cap gives CPUs an actual capacity below their capacity (thermal or\n"
	"cpufreq pressure; a domain uses its first CPU's). docs/em.md has every rule.\n"
	"SOURCE: --model FILE, --default (the RK3399, used when none is given),\n"
	"--debugfs DIR or --netlink SPEC [--socket PATH] (see 'emctl model --help').\n";

int emctl_cmd_estimate(int argc, char **argv)
{
	struct source src = {0};
	unsigned long util[EM_MAX_CPUS] = {0}, acap[EM_MAX_CPUS] = {0};
	unsigned int nr_cpus = 0, nr_acap = 0, nr_pds = 0;
	const char *spec = NULL, *cap_spec = NULL;
	struct em_registry *reg;
	struct em_error err;
	struct em_eas_pd_estimate *eas = NULL;
	struct json_object *jeas = NULL, *jraw = NULL;
	const struct em_pd *pd;
	uint64_t total, raw_total;
	bool json = false;
	int ret = EMCTL_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(estimate_help, stdout);
			return EMCTL_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(argv[i], "--util") || !strcmp(argv[i], "--actual-cap")) {
			if (i + 1 >= argc)
				return usage_error("estimate", "%s needs an argument", argv[i]);
			if (!strcmp(argv[i], "--util"))
				spec = argv[++i];
			else
				cap_spec = argv[++i];
			continue;
		}
		r = take_source("estimate", argc, argv, &i, &src, false);
		if (r < 0)
			return EMCTL_EXIT_USAGE;
		if (r == 0)
			return usage_error("estimate", "unknown option '%s'", argv[i]);
	}
	if (!spec)
		return usage_error("estimate", "%s", "--util CPU=UTIL,... is required");
	if (source_usage("estimate", &src))
		return EMCTL_EXIT_USAGE;
	if (parse_cpu_values("estimate", "--util", spec, 1024, util, &nr_cpus))
		return EMCTL_EXIT_USAGE;
	if (cap_spec && parse_cpu_values("estimate", "--actual-cap", cap_spec, 1024, acap, &nr_acap))
		return EMCTL_EXIT_USAGE;
	reg = load_registry("estimate", &src);
	if (!reg)
		return EMCTL_EXIT_FAIL;
	if (nr_acap > nr_cpus)
		nr_cpus = nr_acap;
	const struct em_eas_input in = {.util = util, .actual_cap = acap, .nr_cpus = nr_cpus};

	em_read_lock();
	nr_pds = em_pd_count(reg);
	em_read_unlock();
	eas = calloc(nr_pds ? nr_pds : 1, sizeof(*eas));
	if (!eas || em_eas_estimate(reg, &in, eas, nr_pds, &nr_pds, &total, &err) ||
	    em_estimate_energy_raw(reg, util, nr_cpus, &raw_total, &err)) {
		fprintf(stderr, "emctl estimate: %s\n", eas ? err.msg : "out of memory");
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

/* ---- place --------------------------------------------------------------------- */

static const char place_help[] =
	"usage: emctl place [SOURCE] --tasks UTIL,UTIL,... [--json]\n"
	"\n"
	"Assign tasks (utilizations 1..1024) to CPUs under the scheduler's rules (Linux\n"
	"6.14): a CPU takes a load only if load * 1280 < capacity * 1024 (fits_capacity),\n"
	"and energy is the EAS estimate (see 'emctl estimate --help'). Two placements:\n"
	"  optimal  the least EAS estimate, by exhaustive search (up to 12 tasks)\n"
	"  greedy   what find_energy_efficient_cpu() does, one wake-up at a time,\n"
	"           biggest task first, each a new task beside those placed before it\n"
	"and the gap between them.\n"
	"SOURCE: --model FILE, --default (the RK3399, used when none is given),\n"
	"--debugfs DIR or --netlink SPEC [--socket PATH] (see 'emctl model --help').\n";

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

int emctl_cmd_place(int argc, char **argv)
{
	struct source src = {0};
	const char *spec = NULL;
	unsigned long *tasks = NULL;
	unsigned int *cpu = NULL, n = 0;
	struct em_registry *reg;
	struct em_error err;
	uint64_t opt = 0, greedy;
	struct json_object *jo = NULL;
	bool json = false;
	int ret = EMCTL_EXIT_OK, ro;

	for (int i = 1; i < argc; i++) {
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(place_help, stdout);
			return EMCTL_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(argv[i], "--tasks")) {
			if (i + 1 >= argc)
				return usage_error("place", "%s needs an argument", "--tasks");
			spec = argv[++i];
			continue;
		}
		r = take_source("place", argc, argv, &i, &src, false);
		if (r < 0)
			return EMCTL_EXIT_USAGE;
		if (r == 0)
			return usage_error("place", "unknown option '%s'", argv[i]);
	}
	if (!spec)
		return usage_error("place", "%s", "--tasks UTIL,... is required");
	if (source_usage("place", &src))
		return EMCTL_EXIT_USAGE;
	for (const char *p = spec; *p; p++)
		n += *p == ',';
	n++;
	tasks = calloc(n, sizeof(*tasks));
	cpu = calloc(n, sizeof(*cpu));
	if (!tasks || !cpu) {
		free(tasks);
		free(cpu);
		fprintf(stderr, "emctl place: out of memory\n");
		return EMCTL_EXIT_FAIL;
	}
	n = 0;
	for (const char *p = spec; *p || n == 0;) {
		const char *rest;

		if (!parse_num(p, ',', 1024, &tasks[n], &rest) || tasks[n] == 0) {
			free(tasks);
			free(cpu);
			return usage_error("place",
					   "--tasks: '%s' is not a list of utilizations (1..1024)",
					   spec);
		}
		n++;
		p = *rest ? rest + 1 : rest;
		if (*rest && !*p) {
			free(tasks);
			free(cpu);
			return usage_error("place",
					   "--tasks: '%s' is not a list of utilizations (1..1024)",
					   spec);
		}
	}
	reg = load_registry("place", &src);
	if (!reg) {
		free(tasks);
		free(cpu);
		return EMCTL_EXIT_FAIL;
	}
	if (json) {
		struct json_object *a = json_object_new_array();

		jo = json_object_new_object();
		for (unsigned int i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_uint64(tasks[i]));
		json_object_object_add(jo, "tasks", a);
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
		fprintf(stderr, "emctl place: %s\n", err.msg);
		ret = EMCTL_EXIT_FAIL;
		goto out;
	}
	if (em_place_greedy(reg, tasks, n, cpu, &greedy, &err)) {
		fprintf(stderr, "emctl place: greedy: %s\n", err.msg);
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

/* ---- frontier ------------------------------------------------------------------ */

static const char frontier_help[] =
	"usage: emctl frontier [SOURCE] [--targets PCT,...] [--all] [--json]\n"
	"\n"
	"For each performance level the CPUs can reach, the CPUs to run and each domain's\n"
	"state for the least total power: the table sched_ext's scx_lavd builds with\n"
	"scx_utils' EnergyModelOptimizer, computed exactly. A level's performance is the\n"
	"sum, over its CPUs, of the performance of their domain's state; its power the sum\n"
	"of those states' power. Equal power: fewest domains, then fewest CPUs, then the\n"
	"interchangeable domains the previous level ran. Overflow: the other CPUs, in the\n"
	"order the levels above add them (where load beyond the level goes).\n"
	"  --targets PCT,...  utilization targets, % of the total performance (1..100;\n"
	"                     default 5,10,20,30,40,50,60,70,80,90,100, as scx_lavd):\n"
	"                     each is served by the first level at or above it\n"
	"  --all              every level, not only the targets'\n"
	"  --json             {total-performance, domains, targets: [{percent,\n"
	"                     performance, level}], levels (with --all)}\n"
	"SOURCE: --model FILE, --default (the RK3399, used when none is given),\n"
	"--debugfs DIR or --netlink SPEC [--socket PATH] (see 'emctl model --help').\n";

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

int emctl_cmd_frontier(int argc, char **argv)
{
	static const unsigned int scx_targets[] = {5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
	struct source src = {0};
	unsigned int targets[101], nr_targets = 0, *buf = NULL;
	const char *spec = NULL;
	struct em_registry *reg;
	struct em_frontier f;
	struct em_error err;
	bool json = false, all = false;

	for (int i = 1; i < argc; i++) {
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(frontier_help, stdout);
			return EMCTL_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(argv[i], "--all")) {
			all = true;
			continue;
		}
		if (!strcmp(argv[i], "--targets")) {
			if (i + 1 >= argc)
				return usage_error("frontier", "%s needs an argument", "--targets");
			spec = argv[++i];
			continue;
		}
		r = take_source("frontier", argc, argv, &i, &src, false);
		if (r < 0)
			return EMCTL_EXIT_USAGE;
		if (r == 0)
			return usage_error("frontier", "unknown option '%s'", argv[i]);
	}
	if (source_usage("frontier", &src))
		return EMCTL_EXIT_USAGE;
	if (spec) {
		for (const char *p = spec;;) {
			unsigned long v;
			const char *rest;

			if (nr_targets == 101 || !parse_num(p, ',', 100, &v, &rest) || v == 0)
				return usage_error("frontier",
						   "--targets: '%s' is not a list of percentages (1..100)",
						   spec);
			targets[nr_targets++] = (unsigned int)v;
			if (!*rest)
				break;
			p = rest + 1;
		}
	} else {
		for (unsigned int i = 0; i < sizeof(scx_targets) / sizeof(scx_targets[0]); i++)
			targets[nr_targets++] = scx_targets[i];
	}
	reg = load_registry("frontier", &src);
	if (!reg)
		return EMCTL_EXIT_FAIL;
	if (em_frontier_compute(reg, &f, &err)) {
		fprintf(stderr, "emctl frontier: %s\n", err.msg);
		em_registry_free(reg);
		return EMCTL_EXIT_FAIL;
	}
	buf = calloc(f.nr_cpus ? f.nr_cpus : 1, sizeof(*buf));
	if (!buf) {
		fprintf(stderr, "emctl frontier: out of memory\n");
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
			struct json_object *a = json_object_new_array();

			for (unsigned int i = 0; i < f.nr_levels; i++)
				json_object_array_add(a, level_json(&f, &f.levels[i], buf));
			json_object_object_add(o, "levels", a);
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
