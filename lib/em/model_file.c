/*
 * Model files: YAML (libyaml) and JSON (json-c), documented in
 * docs/em-model-format.md.
 *
 * The reader streams: it walks libyaml's events (each with its line, so that every
 * error can say "FILE:LINE: FIELD: problem") and hands each domain to its caller as
 * soon as the domain is read and checked, so that a model of any size is read in
 * memory proportional to one domain — a caller that builds its registry from the
 * domains (a batch: emd) never holds the whole model twice. A JSON file (first
 * non-blank character '{') is first checked by json-c in strict mode, so that only
 * real JSON is accepted as JSON; JSON being a subset of YAML's flow style, the same
 * walker then reads it. YAML aliases are refused: the model has no use for them, and
 * a walker expanding them is the billion-laughs attack.
 *
 * The file is opened without blocking (a FIFO or a device at the path is refused,
 * never waited on) and must be a regular file; one that changes while it is read
 * (its size, times or inode differ before and after, or fewer bytes came than it
 * holds) is refused with -EAGAIN, so that half of a file being rewritten in place is
 * never taken for the model.
 *
 * em_model_load_file() and em_model_load_buffer() collect the domains into a struct
 * em_model and register it into a scratch registry, so that what `emctl model
 * check` accepts is exactly what the registry accepts, with file and line in each
 * message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <yaml.h>

#include "internal.h"

#define MODEL_FILE_MAX (64u << 20) /* bytes: a larger file is refused */
#define P_NONE UINT_MAX

/* One state as the file gives it (power may come from a voltage). */
struct raw_state {
	unsigned long frequency, power, cost, voltage;
	bool has_power, has_voltage, has_freq;
	unsigned int line;
};

struct loader {
	const char *file;
	yaml_parser_t parser;
	yaml_event_t ev; /* the current event: the first one not consumed */
	bool has_ev;
	struct em_error *err;
	/* The field being read, e.g. domains[1].states[2].power: kept in parts and
	 * written out only for a message (formatting it at every step was a third
	 * of the reading time). */
	bool p_top;         /* "(top)" */
	unsigned int p_dom; /* domains[p_dom] (P_NONE: "domains") */
	char p_dkey[64];    /* .key of the domain ("": none) */
	int p_item;         /* [p_item] of that list (states, cpus; -1: none) */
	char p_skey[16];    /* .key of the state ("": none) */
	em_model_domain_fn domain;
	void *ctx;
	struct raw_state *raw; /* the states of the domain being read */
	unsigned int raw_cap;
	/* Input from a file descriptor: the first bytes (already read), then fd. */
	int fd;
	const char *head;
	size_t head_len, head_off;
	uint64_t total; /* bytes read from the file */
	int read_errno;
};

static int fail(struct loader *ld, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, unsigned long line, const char *fmt, ...)
{
	char what[400], path[160];
	int n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ld->p_top) {
		snprintf(path, sizeof(path), "(top)");
	} else {
		n = snprintf(path, sizeof(path), "domains");
		if (ld->p_dom != P_NONE)
			n += snprintf(path + n, sizeof(path) - (size_t)n, "[%u]", ld->p_dom);
		if (ld->p_dkey[0])
			n += snprintf(path + n, sizeof(path) - (size_t)n, ".%s", ld->p_dkey);
		if (ld->p_item >= 0)
			n += snprintf(path + n, sizeof(path) - (size_t)n, "[%d]", ld->p_item);
		if (ld->p_skey[0])
			snprintf(path + n, sizeof(path) - (size_t)n, ".%s", ld->p_skey);
	}
	return em_err(ld->err, -EINVAL, "%s:%lu: %s: %s", ld->file, line, path, what);
}

/* Copy @key (cut to fit) into @buf of @size. */
static void copy_key(char *buf, size_t size, const char *key)
{
	size_t n = strlen(key);

	if (n >= size)
		n = size - 1;
	memcpy(buf, key, n);
	buf[n] = '\0';
}

/* The path: (top); domains; domains[i]; .key of the domain; [i] of its list; .key. */
static void path_top(struct loader *ld)
{
	ld->p_top = true;
}

static void path_domain(struct loader *ld, unsigned int idx)
{
	ld->p_top = false;
	ld->p_dom = idx;
	ld->p_dkey[0] = ld->p_skey[0] = '\0';
	ld->p_item = -1;
}

static void path_dkey(struct loader *ld, const char *key)
{
	copy_key(ld->p_dkey, sizeof(ld->p_dkey), key);
	ld->p_item = -1;
	ld->p_skey[0] = '\0';
}

static void path_item(struct loader *ld, int item)
{
	ld->p_item = item;
	ld->p_skey[0] = '\0';
}

static void path_skey(struct loader *ld, const char *key)
{
	copy_key(ld->p_skey, sizeof(ld->p_skey), key);
}

/* ---- events -------------------------------------------------------------------- */

static unsigned long line_of(const struct loader *ld)
{
	return (unsigned long)ld->ev.start_mark.line + 1;
}

static bool is(const struct loader *ld, yaml_event_type_t type)
{
	return ld->ev.type == type;
}

static const char *scalar(const struct loader *ld)
{
	return (const char *)ld->ev.data.scalar.value;
}

static const char *kind(const struct loader *ld)
{
	switch (ld->ev.type) {
	case YAML_SCALAR_EVENT:
		return "a scalar";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* Consume the current event: the next one becomes current. */
static int advance(struct loader *ld)
{
	if (ld->has_ev)
		yaml_event_delete(&ld->ev);
	ld->has_ev = false;
	if (!yaml_parser_parse(&ld->parser, &ld->ev)) {
		if (ld->read_errno == EFBIG)
			return em_err(ld->err, -EFBIG, "%s: larger than %u MiB", ld->file,
				      MODEL_FILE_MAX >> 20);
		if (ld->read_errno)
			return em_err(ld->err, -ld->read_errno, "%s: %s", ld->file,
				      strerror(ld->read_errno));
		return em_err(ld->err, -EINVAL, "%s:%lu: YAML: %s%s%s", ld->file,
			      (unsigned long)ld->parser.problem_mark.line + 1,
			      ld->parser.problem ? ld->parser.problem : "syntax error",
			      ld->parser.context ? " " : "",
			      ld->parser.context ? ld->parser.context : "");
	}
	ld->has_ev = true;
	if (is(ld, YAML_ALIAS_EVENT))
		return fail(ld, line_of(ld), "aliases (*%s) are not supported",
			    (const char *)ld->ev.data.alias.anchor);
	return 0;
}

/* Consume the current node, whatever it holds. */
static int skip_node(struct loader *ld)
{
	unsigned long depth = 0;

	do {
		if (is(ld, YAML_SEQUENCE_START_EVENT) || is(ld, YAML_MAPPING_START_EVENT))
			depth++;
		else if (is(ld, YAML_SEQUENCE_END_EVENT) || is(ld, YAML_MAPPING_END_EVENT))
			depth--;
		int ret = advance(ld);

		if (ret)
			return ret;
	} while (depth);
	return 0;
}

/* The current node as a number in [0, max] (not consumed). */
static int get_ulong(struct loader *ld, unsigned long max, unsigned long *out)
{
	const char *s;
	unsigned long v = 0;

	if (!is(ld, YAML_SCALAR_EVENT))
		return fail(ld, line_of(ld), "expected a non-negative integer, got %s", kind(ld));
	s = scalar(ld);
	if (!*s)
		return fail(ld, line_of(ld), "expected a non-negative integer, got ''");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(ld, line_of(ld), "expected a non-negative integer, got '%s'", s);
		if (v > (ULONG_MAX - (unsigned long)(*p - '0')) / 10)
			return fail(ld, line_of(ld), "%s is too large", s);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max)
		return fail(ld, line_of(ld), "%lu is above the limit %lu", v, max);
	*out = v;
	return 0;
}

/* A mapping's key: the current event (a scalar, else ""), copied into @key. */
static void get_key(struct loader *ld, char *key, size_t size)
{
	copy_key(key, size, is(ld, YAML_SCALAR_EVENT) ? scalar(ld) : "");
}

/* ---- the walker ---------------------------------------------------------------- */

static int read_flags(struct loader *ld, unsigned long *flags)
{
	static const struct {
		const char *name;
		unsigned long bit;
	} names[] = {
		{"microwatts", EM_PD_MICROWATTS},
		{"skip-inefficiencies", EM_PD_SKIP_INEFFICIENCIES},
		{"artificial", EM_PD_ARTIFICIAL},
	};
	int ret;

	if (!is(ld, YAML_SEQUENCE_START_EVENT))
		return fail(ld, line_of(ld), "expected a list of flags, got %s", kind(ld));
	*flags = 0;
	for (ret = advance(ld); !ret && !is(ld, YAML_SEQUENCE_END_EVENT); ret = advance(ld)) {
		unsigned int k;

		if (!is(ld, YAML_SCALAR_EVENT))
			return fail(ld, line_of(ld), "expected a flag name, got %s", kind(ld));
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (!strcmp(scalar(ld), names[k].name))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return fail(ld, line_of(ld),
				    "unknown flag '%s' (known: microwatts, artificial, skip-inefficiencies)",
				    scalar(ld));
		*flags |= names[k].bit;
	}
	return ret ? ret : advance(ld);
}

static int read_cpus(struct loader *ld, struct em_cpumask *cpus)
{
	unsigned int i = 0;
	int ret;

	if (!is(ld, YAML_SEQUENCE_START_EVENT))
		return fail(ld, line_of(ld), "expected a list of CPU numbers, got %s", kind(ld));
	memset(cpus, 0, sizeof(*cpus));
	for (ret = advance(ld); !ret && !is(ld, YAML_SEQUENCE_END_EVENT); ret = advance(ld), i++) {
		unsigned long v;

		path_item(ld, (int)i);
		ret = get_ulong(ld, EM_MAX_CPUS - 1, &v);
		if (ret)
			return ret;
		if (em_cpumask_test(cpus, (unsigned int)v))
			return fail(ld, line_of(ld), "CPU %lu is listed twice", v);
		em_cpumask_set(cpus, (unsigned int)v);
	}
	return ret ? ret : advance(ld);
}

static int read_state(struct loader *ld, struct raw_state *rs)
{
	static const char *const keys[] = {"frequency", "power", "cost", "voltage"};
	unsigned long map_line = line_of(ld);
	unsigned int seen = 0;
	char key[64];
	int ret;

	if (!is(ld, YAML_MAPPING_START_EVENT))
		return fail(ld, line_of(ld), "expected a mapping {frequency, power}, got %s",
			    kind(ld));
	memset(rs, 0, sizeof(*rs));
	rs->line = (unsigned int)map_line;
	for (ret = advance(ld); !ret && !is(ld, YAML_MAPPING_END_EVENT); ret = advance(ld)) {
		unsigned long key_line = line_of(ld);
		unsigned int k;

		get_key(ld, key, sizeof(key));
		path_skey(ld, key);
		for (k = 0; k < 4 && strcmp(key, keys[k]); k++)
			;
		if (k < 4 && (seen & (1u << k)))
			return fail(ld, key_line, "'%s' is given twice", key);
		if (k == 4) {
			path_skey(ld, "");
			return fail(ld, key_line,
				    "unknown field '%s' (known: frequency, power, voltage, cost)", key);
		}
		seen |= 1u << k;
		ret = advance(ld);
		if (ret)
			return ret;
		switch (k) {
		case 0:
			ret = get_ulong(ld, ULONG_MAX, &rs->frequency);
			rs->has_freq = true;
			break;
		case 1:
			ret = get_ulong(ld, ULONG_MAX, &rs->power);
			rs->has_power = true;
			break;
		case 2:
			ret = get_ulong(ld, ULONG_MAX, &rs->cost);
			break;
		default:
			ret = get_ulong(ld, 100000, &rs->voltage);
			rs->has_voltage = true;
			break;
		}
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	path_skey(ld, "");
	if (!rs->has_freq)
		return fail(ld, map_line, "missing field 'frequency'");
	return advance(ld);
}

/* The states list into ld->raw: how many in *n (more than EM_MAX_STATES are counted,
 * not kept). */
static int read_states(struct loader *ld, size_t *n)
{
	int ret;

	if (!is(ld, YAML_SEQUENCE_START_EVENT))
		return fail(ld, line_of(ld), "expected a list of states, got %s", kind(ld));
	*n = 0;
	for (ret = advance(ld); !ret && !is(ld, YAML_SEQUENCE_END_EVENT); (*n)++) {
		if (*n >= EM_MAX_STATES) {
			ret = skip_node(ld);
			continue;
		}
		if (*n == ld->raw_cap) {
			unsigned int cap = ld->raw_cap ? 2 * ld->raw_cap : 16;
			struct raw_state *r = em_realloc(ld->raw, cap * sizeof(*r));

			if (!r)
				return em_err(ld->err, -ENOMEM, "out of memory");
			ld->raw = r;
			ld->raw_cap = cap;
		}
		path_item(ld, (int)*n);
		ret = read_state(ld, &ld->raw[*n]);
	}
	return ret ? ret : advance(ld);
}

enum { K_NAME, K_CPUS, K_CAPACITY, K_FLAGS, K_DPC, K_STATES, K_UNKNOWN };

static int domain_key(const char *key)
{
	static const char *const keys[] = {"name", "flags", "cpus", "capacity",
					   "dynamic-power-coefficient", "states"};
	static const int ids[] = {K_NAME, K_FLAGS, K_CPUS, K_CAPACITY, K_DPC, K_STATES};

	for (unsigned int k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strcmp(key, keys[k]))
			return ids[k];
	return K_UNKNOWN;
}

/* Turn the raw states into d's (power from a voltage where the domain says so). */
static int convert_states(struct loader *ld, struct em_model_domain *d, unsigned long dpc)
{
	path_dkey(ld, "states");
	for (unsigned int i = 0; i < d->nr_states; i++) {
		const struct raw_state *rs = &ld->raw[i];

		path_item(ld, (int)i);
		d->state_line[i] = rs->line;
		if (dpc) {
			if (rs->has_power)
				return fail(ld, rs->line,
					    "give 'voltage' (mV), not 'power', when the domain has a dynamic-power-coefficient");
			if (!rs->has_voltage)
				return fail(ld, rs->line,
					    "missing field 'voltage' (mV; the domain has a dynamic-power-coefficient)");
			d->states[i].power = em_opp_power_uw((unsigned int)dpc, rs->voltage,
							     rs->frequency);
		} else {
			if (rs->has_voltage)
				return fail(ld, rs->line,
					    "'voltage' needs a dynamic-power-coefficient in the domain");
			if (!rs->has_power)
				return fail(ld, rs->line, "missing field 'power'");
			d->states[i].power = rs->power;
		}
		d->states[i].frequency = rs->frequency;
		d->states[i].cost = rs->cost;
	}
	return 0;
}

/* One domain: read, checked as the registry would check it alone, handed over. */
static int read_domain(struct loader *ld, unsigned int idx)
{
	struct em_model_domain d = {0};
	unsigned long map_line = line_of(ld), cap_line = 0, states_line = 0, dpc = 0, v;
	bool has_name = false, has_cpus = false, has_cap = false, has_states = false;
	size_t ns = 0;
	unsigned int seen = 0;
	char key[64];
	int ret, bad = -1;

	path_domain(ld, idx);
	if (!is(ld, YAML_MAPPING_START_EVENT))
		return fail(ld, line_of(ld), "expected a mapping, got %s", kind(ld));
	d.line = (unsigned int)map_line;
	for (ret = advance(ld); !ret && !is(ld, YAML_MAPPING_END_EVENT);) {
		unsigned long key_line = line_of(ld);
		int k;

		get_key(ld, key, sizeof(key));
		k = domain_key(key);
		path_dkey(ld, key);
		if (k != K_UNKNOWN && (seen & (1u << k)))
			return fail(ld, key_line, "'%s' is given twice", key);
		if (k == K_UNKNOWN) {
			path_dkey(ld, "");
			return fail(ld, key_line,
				    "unknown field '%s' (known: name, cpus, capacity, flags, dynamic-power-coefficient, states)",
				    key);
		}
		seen |= 1u << k;
		ret = advance(ld);
		if (ret)
			return ret;
		switch (k) {
		case K_NAME:
			if (!is(ld, YAML_SCALAR_EVENT))
				return fail(ld, line_of(ld), "expected a string, got %s", kind(ld));
			if (strlen(scalar(ld)) >= EM_NAME_MAX)
				return fail(ld, line_of(ld), "'%s' is longer than %u characters",
					    scalar(ld), EM_NAME_MAX - 1);
			snprintf(d.name, sizeof(d.name), "%s", scalar(ld));
			has_name = true;
			ret = advance(ld);
			break;
		case K_CPUS:
			ret = read_cpus(ld, &d.cpus);
			has_cpus = true;
			break;
		case K_CAPACITY:
			ret = get_ulong(ld, UINT_MAX, &v);
			d.capacity = (unsigned int)v;
			cap_line = line_of(ld);
			has_cap = true;
			if (!ret)
				ret = advance(ld);
			break;
		case K_FLAGS:
			ret = read_flags(ld, &d.flags);
			break;
		case K_DPC:
			ret = get_ulong(ld, UINT_MAX, &dpc);
			if (!ret && dpc == 0)
				ret = fail(ld, line_of(ld), "must be above 0");
			if (!ret)
				ret = advance(ld);
			break;
		default:
			states_line = line_of(ld);
			ret = read_states(ld, &ns);
			has_states = true;
			break;
		}
	}
	if (!ret)
		ret = advance(ld); /* past the domain's end */
	if (ret)
		return ret;
	path_dkey(ld, "");
	if (!has_name)
		return fail(ld, map_line, "missing field 'name'");
	d.is_cpu = has_cpus;
	if (has_cpus && !has_cap)
		return fail(ld, map_line, "missing field 'capacity' (a CPU domain needs it)");
	if (!has_cpus && has_cap) {
		path_dkey(ld, "capacity");
		return fail(ld, cap_line, "a device domain (no 'cpus') has no capacity");
	}
	if (!has_states)
		return fail(ld, map_line, "missing field 'states'");
	path_dkey(ld, "states");
	if (ns == 0)
		return fail(ld, states_line, "needs at least one state");
	if (ns > EM_MAX_STATES)
		return fail(ld, states_line, "%zu states: at most %u", ns, EM_MAX_STATES);
	d.states = em_calloc(ns, sizeof(*d.states));
	d.state_line = em_calloc(ns, sizeof(*d.state_line));
	if (!d.states || !d.state_line) {
		ret = em_err(ld->err, -ENOMEM, "out of memory");
		goto out;
	}
	d.nr_states = (unsigned int)ns;
	ret = convert_states(ld, &d, dpc);
	if (ret)
		goto out;
	/* What the registry checks of one domain, with the line of the state at fault. */
	{
		struct em_pd_desc desc = {
			.name = d.name, .flags = d.flags, .cpus = d.is_cpu ? &d.cpus : NULL,
			.capacity = d.capacity, .nr_states = d.nr_states, .states = d.states,
		};

		ret = em_pd_desc_validate(&desc, ld->err, &bad);
	}
	if (!ret)
		ret = ld->domain(ld->ctx, &d, ld->err);
	if (ret) {
		unsigned int line = bad >= 0 ? d.state_line[bad] : d.line;

		em_err_prefix(ld->err, "%s:%u: ", ld->file, line);
	}
out:
	free(d.states);
	free(d.state_line);
	return ret;
}

/* The first document of the stream: { domains: [...] }. */
static int walk(struct loader *ld)
{
	unsigned long root_line;
	bool seen = false;
	unsigned int idx = 0;
	char key[64];
	int ret;

	path_top(ld);
	ret = advance(ld); /* the stream's start */
	if (!ret)
		ret = advance(ld);
	if (ret)
		return ret;
	if (is(ld, YAML_STREAM_END_EVENT))
		return em_err(ld->err, -EINVAL, "%s: the file is empty", ld->file);
	ret = advance(ld); /* past the document's start: its root */
	if (ret)
		return ret;
	root_line = line_of(ld);
	if (!is(ld, YAML_MAPPING_START_EVENT))
		return fail(ld, root_line, "expected a mapping with 'domains', got %s", kind(ld));
	for (ret = advance(ld); !ret && !is(ld, YAML_MAPPING_END_EVENT);) {
		unsigned long key_line = line_of(ld);

		get_key(ld, key, sizeof(key));
		if (strcmp(key, "domains"))
			return fail(ld, key_line, "unknown field '%s' (known: domains)", key);
		if (seen) {
			path_domain(ld, P_NONE);
			return fail(ld, key_line, "'domains' is given twice");
		}
		seen = true;
		ret = advance(ld);
		if (ret)
			return ret;
		path_domain(ld, P_NONE);
		if (!is(ld, YAML_SEQUENCE_START_EVENT))
			return fail(ld, line_of(ld), "expected a list of domains, got %s", kind(ld));
		for (ret = advance(ld); !ret && !is(ld, YAML_SEQUENCE_END_EVENT);)
			ret = read_domain(ld, idx++);
		if (!ret)
			ret = advance(ld);
		path_top(ld);
	}
	if (ret)
		return ret;
	if (!seen)
		return fail(ld, root_line, "missing field 'domains'");
	return 0;
}

/* ---- input --------------------------------------------------------------------- */

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

static bool first_is_brace(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r'))
		i++;
	return i < len && buf[i] == '{';
}

/* Walk the YAML (or checked JSON) already set as the parser's input. */
static int run(struct loader *ld)
{
	int ret = walk(ld);

	if (ld->has_ev)
		yaml_event_delete(&ld->ev);
	ld->has_ev = false;
	yaml_parser_delete(&ld->parser);
	free(ld->raw);
	ld->raw = NULL;
	return ret;
}

static int read_buffer(const char *name, const char *buf, size_t len, em_model_domain_fn domain,
		       void *ctx, struct em_error *err)
{
	struct loader ld = {.file = name, .err = err, .domain = domain, .ctx = ctx, .fd = -1};

	if (first_is_brace(buf, len)) {
		int ret = check_json(name, buf, len, err);

		if (ret)
			return ret;
	}
	if (!yaml_parser_initialize(&ld.parser))
		return em_err(err, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)buf, len);
	return run(&ld);
}

/* libyaml's input: the bytes read ahead, then the file, at most MODEL_FILE_MAX. */
static int read_handler(void *data, unsigned char *buffer, size_t size, size_t *size_read)
{
	struct loader *ld = data;
	ssize_t n;

	if (ld->head_off < ld->head_len) {
		n = (ssize_t)(ld->head_len - ld->head_off < size ? ld->head_len - ld->head_off
								  : size);
		memcpy(buffer, ld->head + ld->head_off, (size_t)n);
		ld->head_off += (size_t)n;
		*size_read = (size_t)n;
		return 1;
	}
	do {
		n = read(ld->fd, buffer, size);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		ld->read_errno = errno;
		return 0;
	}
	ld->total += (uint64_t)n;
	if (ld->total > MODEL_FILE_MAX) {
		ld->read_errno = EFBIG;
		return 0;
	}
	*size_read = (size_t)n;
	return 1;
}

/* Did the file change between @a and @b, the stat before and after reading it? */
static bool changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	       a->st_ctim.tv_sec != b->st_ctim.tv_sec || a->st_ctim.tv_nsec != b->st_ctim.tv_nsec;
}

/* Read what remains of @fd after @have bytes at @buf (grown): the whole file. */
static int slurp(struct loader *ld, char **buf, size_t *len, size_t cap)
{
	for (;;) {
		ssize_t n;

		if (*len == cap) {
			char *nb;

			cap *= 2;
			if (cap > MODEL_FILE_MAX + (size_t)1) {
				if (*len > MODEL_FILE_MAX)
					return em_err(ld->err, -EFBIG, "%s: larger than %u MiB",
						      ld->file, MODEL_FILE_MAX >> 20);
				cap = MODEL_FILE_MAX + (size_t)1;
			}
			nb = em_realloc(*buf, cap);
			if (!nb)
				return em_err(ld->err, -ENOMEM, "out of memory");
			*buf = nb;
		}
		do {
			n = read(ld->fd, *buf + *len, cap - *len);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return em_err(ld->err, -errno, "%s: %s", ld->file, strerror(errno));
		if (n == 0)
			break;
		*len += (size_t)n;
		ld->total += (uint64_t)n;
	}
	if (*len > MODEL_FILE_MAX)
		return em_err(ld->err, -EFBIG, "%s: larger than %u MiB", ld->file,
			      MODEL_FILE_MAX >> 20);
	return 0;
}

/* Read the rest of the file (into @buf, overwritten), counting its bytes. */
static int drain(struct loader *ld, char *buf, size_t size)
{
	for (;;) {
		ssize_t n = read(ld->fd, buf, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return em_err(ld->err, -errno, "%s: %s", ld->file, strerror(errno));
		if (n == 0)
			return 0;
		ld->total += (uint64_t)n;
		if (ld->total > MODEL_FILE_MAX)
			return em_err(ld->err, -EFBIG, "%s: larger than %u MiB", ld->file,
				      MODEL_FILE_MAX >> 20);
	}
}

int em_model_read_file(const char *path, em_model_domain_fn domain, void *ctx,
		       struct em_error *err)
{
	struct loader ld = {.file = path, .err = err, .domain = domain, .ctx = ctx};
	struct stat before, after;
	size_t cap = 8192, len = 0;
	char *buf = NULL;
	int ret;

	/* Never wait: a FIFO would block open() until a writer came, and then read(). */
	ld.fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (ld.fd < 0)
		return em_err(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(ld.fd, &before)) {
		ret = em_err(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(before.st_mode)) {
		ret = em_err(err, -EISDIR, "%s: is a directory, not a model file", path);
		goto out;
	}
	if (!S_ISREG(before.st_mode)) {
		ret = em_err(err, -EINVAL, "%s: not a regular file (%s); a model file must be one",
			     path, S_ISFIFO(before.st_mode)  ? "a FIFO"
				   : S_ISSOCK(before.st_mode) ? "a socket"
				   : S_ISCHR(before.st_mode)  ? "a character device"
				   : S_ISBLK(before.st_mode)  ? "a block device"
							      : "not a file");
		goto out;
	}
	/* The first bytes say YAML or JSON. */
	buf = em_malloc(cap);
	if (!buf) {
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n;

		do {
			n = read(ld.fd, buf + len, cap - len);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			ret = em_err(err, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
		ld.total += (uint64_t)n;
		if (n == 0 || len == cap)
			break;
	}
	if (first_is_brace(buf, len)) {
		/* JSON: json-c checks the whole text, which must be in memory. */
		ret = slurp(&ld, &buf, &len, cap);
		if (!ret)
			ret = read_buffer(path, buf, len, domain, ctx, err);
	} else if (!yaml_parser_initialize(&ld.parser)) {
		ret = em_err(err, -ENOMEM, "out of memory");
	} else {
		ld.head = buf;
		ld.head_len = len;
		yaml_parser_set_input(&ld.parser, read_handler, &ld);
		ret = run(&ld);
		/* The walk stops at the first document's end: the rest counts for the size. */
		if (!ret)
			ret = drain(&ld, buf, cap);
	}
	if (ret)
		goto out;
	if (fstat(ld.fd, &after)) {
		ret = em_err(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (changed(&before, &after) || ld.total != (uint64_t)before.st_size)
		ret = em_err(err, -EAGAIN,
			     "%s: the file changed while it was read (%lld bytes before, %lld "
			     "after, %llu read); not taken: it is read again when it changes",
			     path, (long long)before.st_size, (long long)after.st_size,
			     (unsigned long long)ld.total);
out:
	free(buf);
	close(ld.fd);
	return ret;
}

/* ---- whole models -------------------------------------------------------------- */

/* em_model_domain_fn collecting the domains into a model. */
static int collect(void *ctx, struct em_model_domain *d, struct em_error *err)
{
	struct em_model *m = ctx;

	if ((m->nr_domains & (m->nr_domains - 1)) == 0) {
		/* At 0, 1, 2, 4, ...: twice the room. */
		struct em_model_domain *nd =
			em_realloc(m->domains, (m->nr_domains ? 2 * m->nr_domains : 1) * sizeof(*nd));

		if (!nd)
			return em_err(err, -ENOMEM, "out of memory");
		m->domains = nd;
	}
	m->domains[m->nr_domains++] = *d;
	d->states = NULL; /* the model has them now */
	d->state_line = NULL;
	return 0;
}

/* The checks across domains (names, CPUs, ids): exactly the registry's. */
static int check_model(struct em_model *m, int ret, struct em_error *err)
{
	if (!ret) {
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

int em_model_load_buffer(struct em_model *m, const char *name, const char *buf, size_t len,
			 struct em_error *err)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "%s", name);
	return check_model(m, read_buffer(name, buf, len, collect, m, err), err);
}

int em_model_load_file(struct em_model *m, const char *path, struct em_error *err)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "%s", path);
	return check_model(m, em_model_read_file(path, collect, m, err), err);
}
