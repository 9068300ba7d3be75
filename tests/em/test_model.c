/*
 * Model-source tests: the embedded RK3399 default (numbers derived by hand in
 * docs/em-model-default.md and pinned here), model files in YAML and JSON with their
 * exact error messages, export round trips, and debugfs trees (ps: and cs: layouts)
 * built in a temporary directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "emkit/em.h"

#include "sample_model.h"

static void test_opp_formulas(void **state)
{
	(void)state;
	/* 100 * 825^2 * 408 / 10^6 = 27769.5 -> 27769 µW */
	assert_int_equal(em_opp_power_uw(100, 825, 408000), 27769);
	/* 436 * 1200^2 * 1800 / 10^6 = 1130112 µW */
	assert_int_equal(em_opp_power_uw(436, 1200, 1800000), 1130112);
	/* 485 * 1416000 * 1024 / (1024 * 1800000) = 381.5 -> 381 */
	assert_int_equal(em_capacity_from_dmips(485, 1416000, 1024UL * 1800000), 381);
	assert_int_equal(em_capacity_from_dmips(1024, 1800000, 1024UL * 1800000), 1024);
}

/* @t has @n states of these values, the first @n_inefficient of them inefficient. */
static void assert_table(const struct em_perf_table *t, unsigned int n, const unsigned long *freq,
			 const unsigned long *pow, const unsigned long *perf,
			 const unsigned long *cost, unsigned int n_inefficient)
{
	assert_int_equal(t->nr_states, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(t->states[i].frequency, freq[i]);
		assert_int_equal(t->states[i].power, pow[i]);
		assert_int_equal(t->states[i].performance, perf[i]);
		assert_int_equal(t->states[i].cost, cost[i]);
		assert_int_equal(t->states[i].flags, i < n_inefficient ? EM_PS_INEFFICIENT : 0);
	}
}

static void test_default_rk3399(void **state)
{
	static const unsigned long l_freq[] = {408000, 600000, 816000, 1008000, 1200000, 1416000};
	static const unsigned long l_pow[] = {27769, 40837, 58956, 86247, 120000, 179212};
	static const unsigned long l_perf[] = {109, 161, 219, 271, 322, 381};
	static const unsigned long l_cost[] = {2547, 2536, 2692, 3182, 3726, 4703};
	static const unsigned long b_freq[] = {408000, 600000, 816000, 1008000,
					       1200000, 1416000, 1608000, 1800000};
	static const unsigned long b_pow[] = {121075, 178051, 242150, 336483,
					      472188, 648630, 848316, 1130112};
	static const unsigned long b_perf[] = {232, 341, 464, 573, 682, 805, 914, 1024};
	static const unsigned long b_cost[] = {5218, 5221, 5218, 5872, 6923, 8057, 9281, 11036};
	struct em_model m;
	struct em_registry *reg = em_registry_new();
	const struct em_perf_table *t;
	struct em_error err;

	(void)state;
	assert_int_equal(em_model_default(&m), 0);
	assert_int_equal(m.nr_domains, 2);
	assert_string_equal(m.domains[0].name, "little");
	assert_int_equal(m.domains[0].capacity, 381);
	assert_int_equal(m.domains[1].capacity, 1024);
	assert_int_equal(em_model_register(&m, reg, &err), 0);
	em_read_lock();
	t = em_pd_table(em_pd_of_cpu(reg, 3));
	assert_int_equal(em_pd_id(em_pd_of_cpu(reg, 3)), 0);
	assert_table(t, 6, l_freq, l_pow, l_perf, l_cost, 1);
	t = em_pd_table(em_pd_of_cpu(reg, 5));
	assert_int_equal(em_pd_id(em_pd_of_cpu(reg, 4)), 1);
	assert_table(t, 8, b_freq, b_pow, b_perf, b_cost, 2);
	em_read_unlock();
	em_model_release(&m);
	em_registry_free(reg);
}

static char *export_to_string(const struct em_model *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(em_model_write_yaml(m, f), 0);
	fclose(f);
	return text;
}

static void test_yaml_load_export_load(void **state)
{
	struct em_model m, m2, m3;
	struct em_registry *reg = em_registry_new(), *reg2 = em_registry_new();
	struct em_error err;
	char *text, *text2;

	(void)state;
	if (em_model_load_buffer(&m, "sample.yaml", sample_yaml, strlen(sample_yaml), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(m.nr_domains, 3);
	assert_int_equal(m.domains[0].states[0].power, 27769); /* from the coefficient */
	assert_int_equal(m.domains[0].states[1].power, 179212);
	assert_false(m.domains[1].is_cpu);
	assert_int_equal(m.domains[1].line, 11);
	assert_int_equal(m.domains[2].flags, EM_PD_ARTIFICIAL | EM_PD_SKIP_INEFFICIENCIES);
	assert_int_equal(em_model_register(&m, reg, &err), 0);

	text = export_to_string(&m);
	assert_int_equal(em_model_load_buffer(&m2, "export", text, strlen(text), &err), 0);
	assert_true(em_model_equal(&m, &m2));
	text2 = export_to_string(&m2);
	assert_string_equal(text, text2); /* export is a fixed point */
	assert_int_equal(em_model_register(&m2, reg2, &err), 0);
	assert_int_equal(em_model_from_registry(&m3, reg2), 0);
	assert_true(em_model_equal(&m, &m3));
	free(text);
	free(text2);
	em_model_release(&m);
	em_model_release(&m2);
	em_model_release(&m3);
	em_registry_free(reg);
	em_registry_free(reg2);
}

static void test_odd_names_round_trip(void **state)
{
	/* Found by the mutation test: a name like "-" must be quoted on export. */
	static const char text[] =
		"domains:\n"
		"  - { name: \"-\", flags: [microwatts], states: [{ frequency: 1, power: 1 }] }\n"
		"  - { name: \"1:2\", flags: [microwatts], states: [{ frequency: 1, power: 1 }] }\n"
		"  - { name: \"007\", flags: [microwatts], states: [{ frequency: 1, power: 1 }] }\n";
	struct em_model m, m2;
	struct em_error err;
	char *out;

	(void)state;
	if (em_model_load_buffer(&m, "odd.yaml", text, strlen(text), &err))
		fail_msg("%s", err.msg);
	out = export_to_string(&m);
	if (em_model_load_buffer(&m2, "export", out, strlen(out), &err))
		fail_msg("%s\n%s", err.msg, out);
	assert_true(em_model_equal(&m, &m2));
	assert_string_equal(m2.domains[0].name, "-");
	assert_string_equal(m2.domains[1].name, "1:2");
	assert_string_equal(m2.domains[2].name, "007");
	free(out);
	em_model_release(&m);
	em_model_release(&m2);
}

static void test_default_round_trip(void **state)
{
	struct em_model m, m2;
	struct em_error err;
	char *text;

	(void)state;
	assert_int_equal(em_model_default(&m), 0);
	text = export_to_string(&m);
	assert_int_equal(em_model_load_buffer(&m2, "export", text, strlen(text), &err), 0);
	assert_true(em_model_equal(&m, &m2));
	free(text);
	em_model_release(&m);
	em_model_release(&m2);
}

static void test_json(void **state)
{
	static const char json[] =
		"{\n"
		"  \"domains\": [\n"
		"    {\"name\": \"c\", \"cpus\": [0, 1], \"capacity\": 1024,\n"
		"     \"flags\": [\"microwatts\"],\n"
		"     \"states\": [{\"frequency\": 1000, \"power\": 10},\n"
		"                {\"frequency\": 2000, \"power\": 30}]}\n"
		"  ]\n"
		"}\n";
	static const char bad[] = "{\n  \"domains\": [\n    {\"name\": 'c'}\n  ]\n}\n";
	static const char bad_field[] =
		"{\"domains\": [\n {\"name\": \"c\", \"cpus\": [0], \"capacity\": 1024,\n"
		"  \"flags\": [\"microwatts\"], \"states\": [{\"frequency\": \"fast\", \"power\": 1}]}]}\n";
	struct em_model m;
	struct em_error err;

	(void)state;
	if (em_model_load_buffer(&m, "m.json", json, strlen(json), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(m.nr_domains, 1);
	assert_int_equal(m.domains[0].nr_states, 2);
	assert_int_equal(m.domains[0].states[1].power, 30);
	assert_int_equal(m.domains[0].state_line[1], 6);
	em_model_release(&m);
	assert_int_equal(em_model_load_buffer(&m, "bad.json", bad, strlen(bad), &err), -EINVAL);
	assert_string_equal(err.msg, "bad.json:3: JSON: unexpected character");
	assert_int_equal(em_model_load_buffer(&m, "f.json", bad_field, strlen(bad_field), &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "f.json:3: domains[0].states[0].frequency: expected a non-negative integer, got 'fast'");
}

struct bad_case {
	const char *text;
	const char *msg;
};

static void test_file_errors(void **state)
{
	static const struct bad_case cases[] = {
		{"domains:\n  - name: x\n    cpus: [0]\n    capacity: big\n",
		 "m.yaml:4: domains[0].capacity: expected a non-negative integer, got 'big'"},
		{"domains:\n  - name: x\n    colour: red\n",
		 "m.yaml:3: domains[0]: unknown field 'colour' (known: name, cpus, capacity, flags, dynamic-power-coefficient, states)"},
		{"domains:\n  - cpus: [0]\n",
		 "m.yaml:2: domains[0]: missing field 'name'"},
		{"domains:\n  - name: x\n    flags: [fast]\n",
		 "m.yaml:3: domains[0].flags: unknown flag 'fast' (known: microwatts, artificial, skip-inefficiencies)"},
		{"domains:\n  - name: x\n    cpus: [0, 0]\n",
		 "m.yaml:3: domains[0].cpus[1]: CPU 0 is listed twice"},
		{"domains:\n  - name: x\n    cpus: [0]\n    flags: [microwatts]\n",
		 "m.yaml:2: domains[0]: missing field 'capacity' (a CPU domain needs it)"},
		{"domains:\n  - name: x\n    capacity: 5\n    flags: [microwatts]\n    states: []\n",
		 "m.yaml:3: domains[0].capacity: a device domain (no 'cpus') has no capacity"},
		{"domains:\n  - name: x\n    flags: [microwatts]\n    states:\n"
		 "      - { frequency: 2000, power: 5 }\n      - { frequency: 1000, power: 6 }\n",
		 "m.yaml:6: domain 'x': state 1: frequency 1000 kHz is not above state 0's 2000 kHz"},
		{"domains:\n  - name: x\n    flags: [microwatts]\n    states:\n"
		 "      - { frequency: 2000, power: 64000001 }\n",
		 "m.yaml:5: domain 'x': state 0: power 64000001 is out of range (0, 64000000] µW"},
		{"domains:\n  - name: x\n    flags: [microwatts]\n    states:\n"
		 "      - { frequency: 2000, voltage: 900 }\n",
		 "m.yaml:5: domains[0].states[0]: 'voltage' needs a dynamic-power-coefficient in the domain"},
		{"domains:\n  - name: a\n    cpus: [0, 1]\n    capacity: 10\n    flags: [microwatts]\n"
		 "    states: [{ frequency: 1000, power: 5 }]\n"
		 "  - name: b\n    cpus: [1]\n    capacity: 10\n    flags: [microwatts]\n"
		 "    states: [{ frequency: 1000, power: 5 }]\n",
		 "m.yaml:7: domain 'b': CPU 1 already belongs to domain 'a' (id 0)"},
		{"domains:\n  - name: x\n    flags: [microwatts]\n    states:\n      - { frequency: 1, power: 2, watts: 3 }\n",
		 "m.yaml:5: domains[0].states[0]: unknown field 'watts' (known: frequency, power, voltage, cost)"},
		{"domains: [\n", "m.yaml:2: YAML: did not find expected node content while parsing a flow node"},
		{"", "m.yaml: the file is empty"},
		{"name: x\n", "m.yaml:1: (top): unknown field 'name' (known: domains)"},
		{"domains:\n  - name: x\n    flags: [microwatts]\n    states:\n"
		 "      - { frequency: 1, power: 2, power: 3 }\n",
		 "m.yaml:5: domains[0].states[0].power: 'power' is given twice"},
		{"domains:\n  - name: x\n    name: y\n",
		 "m.yaml:3: domains[0].name: 'name' is given twice"},
	};
	struct em_model m;
	struct em_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_not_equal(em_model_load_buffer(&m, "m.yaml", cases[i].text,
							  strlen(cases[i].text), &err),
				     0);
		if (strcmp(err.msg, cases[i].msg))
			fail_msg("case %zu:\n got  %s\n want %s", i, err.msg, cases[i].msg);
	}
	assert_int_equal(em_model_load_file(&m, "/nonexistent/m.yaml", &err), -ENOENT);
	assert_string_equal(err.msg, "/nonexistent/m.yaml: No such file or directory");
}

/* ---- debugfs ----------------------------------------------------------------------- */

static void put(const char *dir, const char *rel, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkd(const char *dir, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* The directory @dir/@pd with files: name, content, ..., NULL. */
__attribute__((sentinel)) static void pd_dir(const char *dir, const char *pd, ...)
{
	const char *name;
	char rel[512];
	va_list ap;

	mkd(dir, pd);
	va_start(ap, pd);
	while ((name = va_arg(ap, const char *))) {
		snprintf(rel, sizeof(rel), "%s/%s", pd, name);
		put(dir, rel, va_arg(ap, const char *));
	}
	va_end(ap);
}

static void unlink_path(const char *dir, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(unlink(p), 0);
}

static void rm_tree(const char *dir)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void ps_state(const char *dir, const char *pd, unsigned long f, unsigned long p,
		     unsigned long c, unsigned long perf, const char *prefix)
{
	char rel[256], v[64];

	snprintf(rel, sizeof(rel), "%s/%s:%lu", pd, prefix, f);
	mkd(dir, rel);
#define PUT(name, val)                                                      \
	do {                                                                \
		snprintf(rel, sizeof(rel), "%s/%s:%lu/" name, pd, prefix, f); \
		snprintf(v, sizeof(v), "%lu\n", (unsigned long)(val));      \
		put(dir, rel, v);                                           \
	} while (0)
	PUT("frequency", f);
	PUT("power", p);
	PUT("cost", c);
	if (perf) {
		PUT("performance", perf);
		PUT("inefficient", 0);
	}
#undef PUT
}

/* Loading @dir fails with @code and the message "@dir@rest". */
static void debugfs_refused(const char *dir, int code, const char *rest)
{
	struct em_model m;
	struct em_error err;
	char want[1024];

	assert_int_equal(em_model_load_debugfs(&m, dir, &err), code);
	snprintf(want, sizeof(want), "%s%s", dir, rest);
	assert_string_equal(err.msg, want);
}

/* Load @dir into @m, which must have three domains named @a, @b and @c. */
static void debugfs_names(struct em_model *m, const char *dir, const char *a, const char *b,
			  const char *c)
{
	struct em_error err;

	if (em_model_load_debugfs(m, dir, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(m->nr_domains, 3);
	assert_string_equal(m->domains[0].name, a);
	assert_string_equal(m->domains[1].name, b);
	assert_string_equal(m->domains[2].name, c);
}

static void test_debugfs_ps(void **state)
{
	char dir[] = "/tmp/em-debugfs-XXXXXX";
	struct em_model m, want;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* A recent kernel's view of the RK3399 (values as the kernel computes them). */
	assert_int_equal(em_model_default(&want), 0);
	pd_dir(dir, "cpu4", "cpus", "4-5\n", "flags", "0x1\n", NULL);
	pd_dir(dir, "cpu0", "cpus", "0-3\n", "flags", "0x1\n", NULL);
	for (unsigned int d = 0; d < 2; d++) {
		const struct em_model_domain *wd = &want.domains[d];
		unsigned long fmax = wd->states[wd->nr_states - 1].frequency;

		for (unsigned int i = 0; i < wd->nr_states; i++) {
			unsigned long perf = wd->capacity * wd->states[i].frequency / fmax;

			ps_state(dir, d ? "cpu4" : "cpu0", wd->states[i].frequency,
				 wd->states[i].power, wd->states[i].power * 10 / perf, perf, "ps");
		}
	}
	pd_dir(dir, "gpu", "flags", "0x1\n", NULL);
	ps_state(dir, "gpu", 200000, 300000, 0, 0, "ps");
	debugfs_names(&m, dir, "cpu0", "cpu4", "gpu");
	assert_false(m.domains[2].is_cpu);
	m.nr_domains = 2; /* compare the CPU part with the default, names aside */
	snprintf(m.domains[0].name, EM_NAME_MAX, "little");
	snprintf(m.domains[1].name, EM_NAME_MAX, "big");
	assert_true(em_model_equal(&m, &want));
	m.nr_domains = 3;
	em_model_release(&m);
	em_model_release(&want);

	/* A broken file names itself. */
	put(dir, "gpu/ps:200000/power", "lots\n");
	debugfs_refused(dir, -EINVAL, "/gpu/ps:200000/power: expected an integer, got 'lots'");
	rm_tree(dir);
}

static void test_debugfs_cs(void **state)
{
	char dir[] = "/tmp/em-debugfs-XXXXXX";
	struct em_model m;
	struct em_error err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* An older kernel: cs: directories, milliwatts, no performance files. */
	pd_dir(dir, "cpu0", "cpus", "0-1\n", "units", "milliWatts\n", "skip-inefficiencies", "1\n",
	       NULL);
	ps_state(dir, "cpu0", 1000000, 100, 200, 0, "cs");
	ps_state(dir, "cpu0", 500000, 40, 160, 0, "cs");
	if (em_model_load_debugfs(&m, dir, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(m.nr_domains, 1);
	assert_int_equal(m.domains[0].flags, EM_PD_MICROWATTS | EM_PD_SKIP_INEFFICIENCIES);
	assert_int_equal(m.domains[0].capacity, 1024);
	assert_int_equal(m.domains[0].nr_states, 2);
	assert_int_equal(m.domains[0].states[0].frequency, 500000);
	assert_int_equal(m.domains[0].states[0].power, 40000);
	assert_int_equal(m.domains[0].states[1].power, 100000);
	assert_int_equal(m.domains[0].states[1].cost, 0); /* recomputed, not copied */
	em_model_release(&m);
	put(dir, "cpu0/units", "furlongs\n");
	debugfs_refused(dir, -EINVAL,
			"/cpu0/units: unknown units 'furlongs' (known: microWatts, milliWatts, bogoWatts)");
	rm_tree(dir);
	assert_int_equal(em_model_load_debugfs(&m, dir, &err), -ENOENT);
}

static void test_debugfs_ids_and_names(void **state)
{
	/*
	 * Linux 6.19's debugfs has an "id" file per domain (em_debug_id_show(),
	 * kernel/power/energy_model.c: "%d\n" of pd->id) and names each directory
	 * dev_name(dev). Here the big cluster has id 0, the little one id 1, a device
	 * that had id 2 is gone, and the GPU has 3. The model keeps the kernel's ids and
	 * their order.
	 */
	char dir[] = "/tmp/em-debugfs-XXXXXX";
	struct em_registry *reg;
	struct em_model m, back;
	struct em_error err;
	char *buf;

	(void)state;
	assert_non_null(mkdtemp(dir));
	pd_dir(dir, "cpu0", "cpus", "0-3\n", "flags", "0x1\n", "id", "1\n", NULL);
	ps_state(dir, "cpu0", 1000000, 100000, 0, 512, "ps");
	pd_dir(dir, "cpu4", "cpus", "4-5\n", "flags", "0x1\n", "id", "0\n", NULL);
	ps_state(dir, "cpu4", 2000000, 900000, 0, 1024, "ps");
	pd_dir(dir, "soc:gpu@ff9a0000", "flags", "0x1\n", "id", "3\n", NULL);
	ps_state(dir, "soc:gpu@ff9a0000", 200000, 300000, 0, 0, "ps");
	debugfs_names(&m, dir, "cpu4", "cpu0", "soc:gpu@ff9a0000");
	assert_true(m.domains[2].has_id);
	assert_int_equal(m.domains[2].id, 3);
	reg = em_registry_new();
	assert_int_equal(em_model_register(&m, reg, &err), 0);
	em_read_lock();
	assert_string_equal(em_pd_name(em_pd_get(reg, 0)), "cpu4");
	assert_string_equal(em_pd_name(em_pd_get(reg, 1)), "cpu0");
	assert_null(em_pd_get(reg, 2));
	assert_string_equal(em_pd_name(em_pd_get(reg, 3)), "soc:gpu@ff9a0000");
	em_read_unlock();
	/* Exported and read back: the same model (the YAML file carries no ids). */
	assert_int_equal(em_model_from_registry(&back, reg), 0);
	buf = export_to_string(&back);
	em_model_release(&back);
	assert_int_equal(em_model_load_buffer(&back, "export", buf, strlen(buf), &err), 0);
	assert_true(em_model_equal(&m, &back));
	em_model_release(&back);
	free(buf);
	em_registry_free(reg);
	em_model_release(&m);

	/* Two domains with one id: the kernel never does that; say so. */
	put(dir, "cpu0/id", "0\n");
	debugfs_refused(dir, -EEXIST, ": domain 'cpu0': id 0 is taken by domain 'cpu4'");
	/* Without ids (before 6.19), or with only some: the boot order of old. */
	unlink_path(dir, "cpu0/id");
	if (em_model_load_debugfs(&m, dir, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(m.domains[0].name, "cpu0");
	assert_string_equal(m.domains[1].name, "cpu4");
	assert_string_equal(m.domains[2].name, "soc:gpu@ff9a0000");
	assert_false(m.domains[0].has_id || m.domains[1].has_id || m.domains[2].has_id);
	em_model_release(&m);
	put(dir, "cpu0/id", "70000\n");
	debugfs_refused(dir, -EINVAL, "/cpu0/id: id 70000 is above 65535");
	rm_tree(dir);
}

static void test_quoted_names_round_trip(void **state)
{
	/* A device name may hold quotes and backslashes; the YAML export escapes them. */
	struct em_registry *reg = em_registry_new();
	const struct em_state_desc st[] = {{1000, 5, 0}};
	struct em_model m, back;
	struct em_error err;
	char *buf;

	(void)state;
	assert_int_equal(em_pd_register_device(reg, "a\"b\\c d", EM_PD_MICROWATTS, st, 1, NULL, &err), 0);
	assert_int_equal(em_model_from_registry(&m, reg), 0);
	buf = export_to_string(&m);
	assert_non_null(strstr(buf, "name: \"a\\\"b\\\\c d\""));
	if (em_model_load_buffer(&back, "quoted", buf, strlen(buf), &err))
		fail_msg("%s", err.msg);
	assert_string_equal(back.domains[0].name, "a\"b\\c d");
	em_model_release(&back);
	em_model_release(&m);
	free(buf);
	em_registry_free(reg);
}

static void test_debugfs_odd_contents(void **state)
{
	/* Every file of a one-domain tree gets each odd value in turn: the reader must
	 * load it or fail with a message that names the tree, never crash. */
	static const char *const files[] = {
		"cpu0/cpus", "cpu0/flags", "cpu0/ps:1000/frequency", "cpu0/ps:1000/power",
		"cpu0/ps:1000/cost", "cpu0/ps:1000/performance", "cpu0/ps:2000/frequency",
	};
	static const char *const odd[] = {
		"", "\n", "-1\n", "18446744073709551616\n", "0x\n", "1 2\n", "0-\n", "3-1\n",
		"99999\n", "0\n", "0x7\n", "1024\n", "0-1023\n", "abc\n", "2000\n",
	};
	char dir[] = "/tmp/em-debugfs-XXXXXX";
	unsigned int loaded = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		for (size_t v = 0; v < sizeof(odd) / sizeof(odd[0]); v++) {
			struct em_model m;
			struct em_error err = {{0}};

			rm_tree(dir);
			assert_int_equal(mkdir(dir, 0755), 0);
			pd_dir(dir, "cpu0", "cpus", "0-1\n", "flags", "0x1\n", NULL);
			ps_state(dir, "cpu0", 1000, 100, 0, 512, "ps");
			ps_state(dir, "cpu0", 2000, 300, 0, 1024, "ps");
			put(dir, files[f], odd[v]);
			if (em_model_load_debugfs(&m, dir, &err) == 0) {
				loaded++;
				em_model_release(&m);
			} else if (strncmp(err.msg, dir, strlen(dir))) {
				fail_msg("%s = '%s': message without the directory: %s", files[f],
					 odd[v], err.msg);
			}
		}
	}
	print_message("# %u of %zu odd trees loaded\n", loaded,
		      sizeof(files) / sizeof(files[0]) * sizeof(odd) / sizeof(odd[0]));
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opp_formulas),
		cmocka_unit_test(test_default_rk3399),
		cmocka_unit_test(test_yaml_load_export_load),
		cmocka_unit_test(test_odd_names_round_trip),
		cmocka_unit_test(test_default_round_trip),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_debugfs_ps),
		cmocka_unit_test(test_debugfs_cs),
		cmocka_unit_test(test_debugfs_ids_and_names),
		cmocka_unit_test(test_quoted_names_round_trip),
		cmocka_unit_test(test_debugfs_odd_contents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
