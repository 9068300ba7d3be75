/*
 * Model files: YAML (libyaml) and JSON (json-c), documented in
 * docs/em-model-format.md.
 *
 * Both formats go through one tree walker over libyaml's document model, which keeps
 * every node's line, so that each error can say "FILE:LINE: FIELD: problem". A JSON
 * file (first non-blank character '{') is first checked by json-c in strict mode,
 * so that only real JSON is accepted as JSON; JSON being a subset of YAML's flow
 * style, the walker then reads it with line numbers. A loaded model is finally
 * registered into a scratch registry, so that what `emctl model check` accepts is
 * exactly what em_pd_register() accepts, with file and line in each message.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <yaml.h>

#include "internal.h"

struct loader {
	const char *file;
	yaml_document_t doc;
	struct em_error *err;
	char path[128]; /* the field being read, e.g. domains[1].states[2].power */
};

static int fail(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return em_err(ld->err, -EINVAL, "%s:%lu: %s: %s", ld->file,
		      (unsigned long)n->start_mark.line + 1, ld->path, what);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int get_ulong(struct loader *ld, const yaml_node_t *n, unsigned long max,
		     unsigned long *out)
{
	const char *s;
	unsigned long v = 0;

	if (n->type != YAML_SCALAR_NODE)
		return fail(ld, n, "expected a non-negative integer, got %s", kind(n));
	s = scalar(n);
	if (!*s)
		return fail(ld, n, "expected a non-negative integer, got ''");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(ld, n, "expected a non-negative integer, got '%s'", s);
		if (v > (ULONG_MAX - (unsigned long)(*p - '0')) / 10)
			return fail(ld, n, "%s is too large", s);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max)
		return fail(ld, n, "%lu is above the limit %lu", v, max);
	*out = v;
	return 0;
}

/* True if the key of pair p appeared earlier in mapping n (YAML would let the last win). */
static bool duplicate_key(struct loader *ld, const yaml_node_t *n, const yaml_node_pair_t *p)
{
	const yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);

	if (k->type != YAML_SCALAR_NODE)
		return false;
	for (const yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
		const yaml_node_t *e = yaml_document_get_node(&ld->doc, q->key);

		if (e->type == YAML_SCALAR_NODE && !strcmp(scalar(e), scalar(k)))
			return true;
	}
	return false;
}

static void set_path(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_path(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->path, sizeof(ld->path), fmt, ap);
	va_end(ap);
}

static int read_flags(struct loader *ld, const yaml_node_t *n, unsigned long *flags)
{
	static const struct {
		const char *name;
		unsigned long bit;
	} names[] = {
		{"microwatts", EM_PD_MICROWATTS},
		{"skip-inefficiencies", EM_PD_SKIP_INEFFICIENCIES},
		{"artificial", EM_PD_ARTIFICIAL},
	};

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(ld, n, "expected a list of flags, got %s", kind(n));
	*flags = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const yaml_node_t *f = yaml_document_get_node(&ld->doc, *it);
		unsigned int k;

		if (f->type != YAML_SCALAR_NODE)
			return fail(ld, f, "expected a flag name, got %s", kind(f));
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (!strcmp(scalar(f), names[k].name))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return fail(ld, f,
				    "unknown flag '%s' (known: microwatts, artificial, skip-inefficiencies)",
				    scalar(f));
		*flags |= names[k].bit;
	}
	return 0;
}

static int read_cpus(struct loader *ld, const yaml_node_t *n, struct em_cpumask *cpus)
{
	char base[128];
	unsigned int i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(ld, n, "expected a list of CPU numbers, got %s", kind(n));
	memset(cpus, 0, sizeof(*cpus));
	snprintf(base, sizeof(base), "%s", ld->path);
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		const yaml_node_t *c = yaml_document_get_node(&ld->doc, *it);
		unsigned long v;
		int ret;

		set_path(ld, "%s[%u]", base, i);
		ret = get_ulong(ld, c, EM_MAX_CPUS - 1, &v);
		if (ret)
			return ret;
		if (em_cpumask_test(cpus, (unsigned int)v))
			return fail(ld, c, "CPU %lu is listed twice", v);
		em_cpumask_set(cpus, (unsigned int)v);
	}
	return 0;
}

struct raw_state {
	unsigned long frequency, power, cost, voltage;
	bool has_power, has_voltage, has_freq;
};

static int read_state(struct loader *ld, const yaml_node_t *n, struct raw_state *rs)
{
	char base[128];
	int ret;

	if (n->type != YAML_MAPPING_NODE)
		return fail(ld, n, "expected a mapping {frequency, power}, got %s", kind(n));
	memset(rs, 0, sizeof(*rs));
	snprintf(base, sizeof(base), "%s", ld->path);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
		const char *key = k->type == YAML_SCALAR_NODE ? scalar(k) : "";

		set_path(ld, "%s.%s", base, key);
		if (duplicate_key(ld, n, p))
			return fail(ld, k, "'%s' is given twice", key);
		if (!strcmp(key, "frequency")) {
			ret = get_ulong(ld, v, ULONG_MAX, &rs->frequency);
			rs->has_freq = true;
		} else if (!strcmp(key, "power")) {
			ret = get_ulong(ld, v, ULONG_MAX, &rs->power);
			rs->has_power = true;
		} else if (!strcmp(key, "cost")) {
			ret = get_ulong(ld, v, ULONG_MAX, &rs->cost);
		} else if (!strcmp(key, "voltage")) {
			ret = get_ulong(ld, v, 100000, &rs->voltage);
			rs->has_voltage = true;
		} else {
			set_path(ld, "%s", base);
			ret = fail(ld, k,
				   "unknown field '%s' (known: frequency, power, voltage, cost)", key);
		}
		if (ret)
			return ret;
	}
	set_path(ld, "%s", base);
	if (!rs->has_freq)
		return fail(ld, n, "missing field 'frequency'");
	return 0;
}

static int read_domain(struct loader *ld, const yaml_node_t *n, unsigned int idx,
		       struct em_model_domain *d)
{
	const yaml_node_t *states = NULL, *cap = NULL;
	unsigned long dpc = 0, v;
	bool has_name = false, has_cpus = false;
	int ret;

	set_path(ld, "domains[%u]", idx);
	if (n->type != YAML_MAPPING_NODE)
		return fail(ld, n, "expected a mapping, got %s", kind(n));
	d->line = (unsigned int)n->start_mark.line + 1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(&ld->doc, p->value);
		const char *key = k->type == YAML_SCALAR_NODE ? scalar(k) : "";

		set_path(ld, "domains[%u].%s", idx, key);
		if (duplicate_key(ld, n, p))
			return fail(ld, k, "'%s' is given twice", key);
		ret = 0;
		if (!strcmp(key, "name")) {
			if (val->type != YAML_SCALAR_NODE)
				return fail(ld, val, "expected a string, got %s", kind(val));
			if (strlen(scalar(val)) >= EM_NAME_MAX)
				return fail(ld, val, "'%s' is longer than %u characters", scalar(val),
					    EM_NAME_MAX - 1);
			snprintf(d->name, sizeof(d->name), "%s", scalar(val));
			has_name = true;
		} else if (!strcmp(key, "cpus")) {
			ret = read_cpus(ld, val, &d->cpus);
			has_cpus = true;
		} else if (!strcmp(key, "capacity")) {
			ret = get_ulong(ld, val, UINT_MAX, &v);
			d->capacity = (unsigned int)v;
			cap = val;
		} else if (!strcmp(key, "flags")) {
			ret = read_flags(ld, val, &d->flags);
		} else if (!strcmp(key, "dynamic-power-coefficient")) {
			ret = get_ulong(ld, val, UINT_MAX, &dpc);
			if (!ret && dpc == 0)
				ret = fail(ld, val, "must be above 0");
		} else if (!strcmp(key, "states")) {
			states = val;
		} else {
			set_path(ld, "domains[%u]", idx);
			ret = fail(ld, k,
				   "unknown field '%s' (known: name, cpus, capacity, flags, dynamic-power-coefficient, states)",
				   key);
		}
		if (ret)
			return ret;
	}
	set_path(ld, "domains[%u]", idx);
	if (!has_name)
		return fail(ld, n, "missing field 'name'");
	d->is_cpu = has_cpus;
	if (has_cpus && !cap)
		return fail(ld, n, "missing field 'capacity' (a CPU domain needs it)");
	if (!has_cpus && cap) {
		set_path(ld, "domains[%u].capacity", idx);
		return fail(ld, cap, "a device domain (no 'cpus') has no capacity");
	}
	if (!states)
		return fail(ld, n, "missing field 'states'");
	set_path(ld, "domains[%u].states", idx);
	if (states->type != YAML_SEQUENCE_NODE)
		return fail(ld, states, "expected a list of states, got %s", kind(states));
	size_t ns = (size_t)(states->data.sequence.items.top - states->data.sequence.items.start);

	if (ns == 0)
		return fail(ld, states, "needs at least one state");
	if (ns > EM_MAX_STATES)
		return fail(ld, states, "%zu states: at most %u", ns, EM_MAX_STATES);
	d->states = em_calloc(ns, sizeof(*d->states));
	d->state_line = em_calloc(ns, sizeof(*d->state_line));
	if (!d->states || !d->state_line)
		return em_err(ld->err, -ENOMEM, "out of memory");
	d->nr_states = (unsigned int)ns;
	for (unsigned int i = 0; i < ns; i++) {
		const yaml_node_t *sn =
			yaml_document_get_node(&ld->doc, states->data.sequence.items.start[i]);
		struct raw_state rs;

		set_path(ld, "domains[%u].states[%u]", idx, i);
		ret = read_state(ld, sn, &rs);
		if (ret)
			return ret;
		d->state_line[i] = (unsigned int)sn->start_mark.line + 1;
		if (dpc) {
			if (rs.has_power)
				return fail(ld, sn,
					    "give 'voltage' (mV), not 'power', when the domain has a dynamic-power-coefficient");
			if (!rs.has_voltage)
				return fail(ld, sn,
					    "missing field 'voltage' (mV; the domain has a dynamic-power-coefficient)");
			d->states[i].power = em_opp_power_uw((unsigned int)dpc, rs.voltage,
							     rs.frequency);
		} else {
			if (rs.has_voltage)
				return fail(ld, sn,
					    "'voltage' needs a dynamic-power-coefficient in the domain");
			if (!rs.has_power)
				return fail(ld, sn, "missing field 'power'");
			d->states[i].power = rs.power;
		}
		d->states[i].frequency = rs.frequency;
		d->states[i].cost = rs.cost;
	}
	return 0;
}

static int walk(struct loader *ld, struct em_model *m)
{
	const yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
	const yaml_node_t *domains = NULL;

	set_path(ld, "(top)");
	if (!root)
		return em_err(ld->err, -EINVAL, "%s: the file is empty", ld->file);
	if (root->type != YAML_MAPPING_NODE)
		return fail(ld, root, "expected a mapping with 'domains', got %s", kind(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
		const char *key = k->type == YAML_SCALAR_NODE ? scalar(k) : "";

		if (strcmp(key, "domains"))
			return fail(ld, k, "unknown field '%s' (known: domains)", key);
		if (duplicate_key(ld, root, p)) {
			set_path(ld, "domains");
			return fail(ld, k, "'domains' is given twice");
		}
		domains = yaml_document_get_node(&ld->doc, p->value);
	}
	if (!domains)
		return fail(ld, root, "missing field 'domains'");
	set_path(ld, "domains");
	if (domains->type != YAML_SEQUENCE_NODE)
		return fail(ld, domains, "expected a list of domains, got %s", kind(domains));
	size_t n = (size_t)(domains->data.sequence.items.top - domains->data.sequence.items.start);

	m->domains = em_calloc(n ? n : 1, sizeof(*m->domains));
	if (!m->domains)
		return em_err(ld->err, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < n; i++) {
		int ret;

		m->nr_domains = i + 1;
		ret = read_domain(ld,
				  yaml_document_get_node(&ld->doc,
							 domains->data.sequence.items.start[i]),
				  i, &m->domains[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Strict JSON check with json-c; the error names the line of the failure. */
static int check_json(const char *name, const char *buf, size_t len, struct em_error *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	enum json_tokener_error jerr;
	int ret = 0;

	if (!tok)
		return em_err(err, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (len > INT_MAX) {
		json_tokener_free(tok);
		return em_err(err, -EFBIG, "%s: too large", name);
	}
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		ret = em_err(err, -EINVAL, "%s: JSON ends early", name);
	} else if (jerr != json_tokener_success) {
		size_t off = json_tokener_get_parse_end(tok);
		unsigned int line = 1;

		for (size_t i = 0; i < off && i < len; i++)
			line += buf[i] == '\n';
		ret = em_err(err, -EINVAL, "%s:%u: JSON: %s", name, line,
			     json_tokener_error_desc(jerr));
	} else {
		size_t end = json_tokener_get_parse_end(tok);

		while (end < len && (buf[end] == ' ' || buf[end] == '\n' || buf[end] == '\t' ||
				     buf[end] == '\r'))
			end++;
		if (end < len) {
			unsigned int line = 1;

			for (size_t i = 0; i < end; i++)
				line += buf[i] == '\n';
			ret = em_err(err, -EINVAL, "%s:%u: JSON: trailing characters after the value",
				     name, line);
		}
	}
	json_object_put(obj);
	json_tokener_free(tok);
	return ret;
}

int em_model_load_buffer(struct em_model *m, const char *name, const char *buf, size_t len,
			 struct em_error *err)
{
	struct loader ld = {.file = name, .err = err};
	yaml_parser_t parser;
	size_t i = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "%s", name);
	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r'))
		i++;
	if (i < len && buf[i] == '{') {
		ret = check_json(name, buf, len, err);
		if (ret)
			return ret;
	}
	if (!yaml_parser_initialize(&parser))
		return em_err(err, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		ret = em_err(err, -EINVAL, "%s:%lu: YAML: %s%s%s", name,
			     (unsigned long)parser.problem_mark.line + 1,
			     parser.problem ? parser.problem : "syntax error",
			     parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return ret;
	}
	ret = walk(&ld, m);
	yaml_document_delete(&ld.doc);
	yaml_parser_delete(&parser);
	if (!ret) {
		/* Semantics: exactly what the registry accepts, with lines. */
		struct em_registry *scratch = em_registry_new();

		if (!scratch)
			ret = em_err(err, -ENOMEM, "out of memory");
		else
			ret = em_model_register(m, scratch, err);
		em_registry_free(scratch);
	}
	if (ret)
		em_model_release(m);
	return ret;
}

int em_model_load_file(struct em_model *m, const char *path, struct em_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	if (!f)
		return em_err(err, -errno, "%s: %s", path, strerror(errno));
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				free(buf);
				fclose(f);
				return em_err(err, -EFBIG, "%s: larger than 64 MiB", path);
			}
			nb = em_realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return em_err(err, -ENOMEM, "out of memory");
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		ret = em_err(err, -EIO, "%s: read error", path);
	} else {
		ret = em_model_load_buffer(m, path, buf, len, err);
	}
	free(buf);
	fclose(f);
	return ret;
}
