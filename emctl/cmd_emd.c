/*
 * emctl's queries to a dev-energymodel peer: emd over its UNIX socket (the
 * default), or the running kernel's generic netlink family (--kernel). One
 * connection helper resolves the family through the controller; each command
 * is then one or two requests and a printer:
 *
 *   show        every domain (dump) and its table, as a table; inefficient
 *               states marked
 *   dump        get-perf-domains dump: one line per domain, or --json (a list,
 *               the ynl CLI's --output-json shape)
 *   get ID      get-perf-domains do; --json: an object
 *   table ID    get-perf-table do; --json: an object
 *   watch       join the 'event' group and print events as they come
 *   plot ID     power and cost against frequency as an SVG file
 *
 * Exit codes: 0 success, 1 the request failed (e.g. no such domain), 2 a usage
 * error, 3 the peer is unreachable (emd not running, or a kernel without the
 * family). The requests are the typed client's (emkit/dev_energymodel_user.h),
 * whose spec is built into the library, so nothing is read from disk.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "dev_energymodel.h"
#include "emctl.h"
#include "emkit/dev_energymodel_user.h"
#include "emkit/em.h"
#include "emkit/nl.h"

/* The peer cannot be reached (not running, or no such family in the kernel). */
#define EMCTL_EXIT_UNAVAILABLE 3

/* Options shared by the commands. */
struct opts {
	const char *cmd;
	const char *socket;
	bool kernel, json;
	const char *svg;    /* plot */
	long count;         /* watch: stop after this many events (0: never) */
	long timeout;       /* watch: stop after this many seconds (0: never) */
	bool has_id;
	uint32_t id;
};

/* A connection to the peer with its family resolved. */
struct conn {
	const struct emnl_spec *spec;
	struct emdev *dev;
	char where[PATH_MAX + 16];
};

static void usage(FILE *out, const char *cmd)
{
	fprintf(out,
		"usage: emctl show  [--json] [--socket PATH | --kernel]\n"
		"       emctl dump  [--json] [--socket PATH | --kernel]\n"
		"       emctl get ID   [--json] [--socket PATH | --kernel]\n"
		"       emctl table ID [--json] [--socket PATH | --kernel]\n"
		"       emctl watch [--json] [--count N] [--timeout S] [--socket PATH | --kernel]\n"
		"       emctl plot ID --svg FILE [--socket PATH | --kernel]\n"
		"\n"
		"Ask emd (or, with --kernel, the running kernel's dev-energymodel generic\n"
		"netlink family) for performance domains and their tables.\n"
		"\n"
		"  --socket PATH  emd's socket (default /run/emd/emd.sock as root,\n"
		"                 $XDG_RUNTIME_DIR/emd.sock otherwise)\n"
		"  --kernel       ask the kernel instead (Linux 6.19 or later)\n"
		"  --json         print JSON in the shape of the kernel's ynl CLI\n"
		"                 (--output-json); watch prints one object per line\n"
		"  --count N      watch: exit after N events\n"
		"  --timeout S    watch: exit after S seconds\n"
		"  --svg FILE     plot: where to write the SVG\n"
		"\n"
		"Exit status: 0 success, 1 the request failed, 2 usage error,\n"
		"3 emd (or the kernel family) is not reachable.\n");
	(void)cmd;
}

/* Parse the command line of @argv[0]; @want_id: the command takes an ID. */
static int parse(int argc, char **argv, struct opts *o, bool want_id)
{
	enum { O_SOCKET = 256, O_KERNEL, O_JSON, O_SVG, O_COUNT, O_TIMEOUT, O_HELP };
	static const struct option lopts[] = {
		{"socket", required_argument, NULL, O_SOCKET},
		{"kernel", no_argument, NULL, O_KERNEL},
		{"json", no_argument, NULL, O_JSON},
		{"svg", required_argument, NULL, O_SVG},
		{"count", required_argument, NULL, O_COUNT},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->cmd = argv[0];
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case O_SOCKET: o->socket = optarg; break;
		case O_KERNEL: o->kernel = true; break;
		case O_JSON: o->json = true; break;
		case O_SVG: o->svg = optarg; break;
		case O_COUNT:
		case O_TIMEOUT:
			errno = 0;
			{
				long v = strtol(optarg, &end, 10);

				if (errno || end == optarg || *end || v <= 0) {
					fprintf(stderr, "emctl %s: --%s: '%s' is not a positive number\n",
						o->cmd, c == O_COUNT ? "count" : "timeout", optarg);
					return EMCTL_EXIT_USAGE;
				}
				if (c == O_COUNT)
					o->count = v;
				else
					o->timeout = v;
			}
			break;
		case O_HELP:
		case 'h':
			usage(stdout, o->cmd);
			return -1;
		default:
			fprintf(stderr, "emctl %s: unknown option '%s'\n", o->cmd, argv[optind - 1]);
			usage(stderr, o->cmd);
			return EMCTL_EXIT_USAGE;
		}
	}
	if (want_id) {
		char *end;
		unsigned long v;

		if (optind >= argc) {
			fprintf(stderr, "emctl %s: missing the performance domain ID\n", o->cmd);
			return EMCTL_EXIT_USAGE;
		}
		errno = 0;
		v = strtoul(argv[optind], &end, 10);
		if (errno || end == argv[optind] || *end || argv[optind][0] == '-' || v > UINT32_MAX) {
			fprintf(stderr, "emctl %s: '%s' is not a performance domain id\n", o->cmd,
				argv[optind]);
			return EMCTL_EXIT_USAGE;
		}
		o->has_id = true;
		o->id = (uint32_t)v;
		optind++;
	}
	if (optind < argc) {
		fprintf(stderr, "emctl %s: unexpected argument '%s'\n", o->cmd, argv[optind]);
		return EMCTL_EXIT_USAGE;
	}
	if (o->kernel && o->socket) {
		fprintf(stderr, "emctl %s: --kernel and --socket exclude each other\n", o->cmd);
		return EMCTL_EXIT_USAGE;
	}
	if (!strcmp(o->cmd, "plot") && !o->svg) {
		fprintf(stderr, "emctl plot: --svg FILE is required\n");
		return EMCTL_EXIT_USAGE;
	}
	return 0;
}

/* Close what connect_peer opened. */
static void disconnect(struct conn *c)
{
	emdev_close(c->dev);
	memset(c, 0, sizeof(*c));
}

/* Open the socket to emd or the kernel and resolve dev-energymodel. */
static int connect_peer(const struct opts *o, struct conn *c)
{
	struct emnl_error e = {0};
	struct emnl_sock *sk;
	char path[PATH_MAX];
	char line[400];

	memset(c, 0, sizeof(*c));
	c->spec = emdev_builtin_spec(&e);
	if (c->spec)
		c->dev = emdev_new(c->spec, &e);
	if (!c->dev) {
		fprintf(stderr, "emctl %s: built-in spec: %s\n", o->cmd, e.msg);
		return EMCTL_EXIT_FAIL;
	}
	if (o->kernel) {
		snprintf(c->where, sizeof(c->where), "the kernel");
		sk = emnl_sock_open_kernel(&e);
	} else {
		if (o->socket) {
			snprintf(path, sizeof(path), "%s", o->socket);
		} else if (emd_default_socket(path, sizeof(path))) {
			fprintf(stderr, "emctl %s: no socket: give --socket PATH or set "
					"XDG_RUNTIME_DIR\n", o->cmd);
			disconnect(c);
			return EMCTL_EXIT_USAGE;
		}
		snprintf(c->where, sizeof(c->where), "emd at %s", path);
		sk = emnl_sock_open_unix(path, &e);
	}
	if (!sk) {
		fprintf(stderr, "emctl %s: cannot reach %s: %s%s\n", o->cmd, c->where,
			strerror(-e.err), o->kernel ? "" : " (is emd running?)");
		disconnect(c);
		return EMCTL_EXIT_UNAVAILABLE;
	}
	if (emdev_connect(c->dev, sk, &e)) {
		if (o->kernel && e.err == -ENOENT)
			fprintf(stderr, "emctl %s: the running kernel has no dev-energymodel generic "
					"netlink family (it needs Linux 6.19 or later with "
					"CONFIG_ENERGY_MODEL); use emd instead\n", o->cmd);
		else
			fprintf(stderr, "emctl %s: %s: resolving dev-energymodel: %s\n", o->cmd,
				c->where, emnl_error_format(&e, c->spec, line, sizeof(line)));
		disconnect(c);
		return EMCTL_EXIT_UNAVAILABLE;
	}
	return 0;
}

/* Parse the command line and connect to the peer: true to go on, else false
 * with the exit code in *@rc (0 after --help). */
static bool start(int argc, char **argv, bool want_id, struct opts *o, struct conn *c, int *rc)
{
	*rc = parse(argc, argv, o, want_id);
	if (*rc) {
		*rc = *rc < 0 ? EMCTL_EXIT_OK : *rc;
		return false;
	}
	*rc = connect_peer(o, c);
	return *rc == 0;
}

/* Report a failed request; "no performance domain with id N" for -ENOENT. */
static int request_failed(const struct opts *o, const struct conn *c, const char *op,
			  const struct emnl_error *e, uint32_t id, bool has_id)
{
	char line[400];

	if (has_id && e->err == -ENOENT)
		fprintf(stderr, "emctl %s: no performance domain with id %u\n", o->cmd, id);
	else if (e->err == -ECONNRESET || e->err == -EPIPE)
		fprintf(stderr, "emctl %s: %s closed the connection\n", o->cmd, c->where);
	else
		fprintf(stderr, "emctl %s: %s: %s\n", o->cmd, op,
			emnl_error_format(e, c->spec, line, sizeof(line)));
	return EMCTL_EXIT_FAIL;
}

/* ---- printing ------------------------------------------------------------------- */

/* Domain flags as words. */
static void flag_words(uint64_t f, char *buf, size_t size)
{
	static const char *const names[] = {"microwatts", "skip-inefficiencies", "artificial"};
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 3; i++)
		if (f & (1ull << i))
			n += (size_t)snprintf(buf + n, size > n ? size - n : 0, "%s%s", n ? "," : "",
					      names[i]);
	if (f & ~7ull)
		snprintf(buf + n, size > n ? size - n : 0, "%s0x%llx", n ? "," : "",
			 (unsigned long long)(f & ~7ull));
	if (!buf[0])
		snprintf(buf, size, "none");
}

/* A domain's CPUs as a CPU list ("0-3"), or "device". */
static void cpu_words(const struct emdev_perf_domain *pd, char *buf, size_t size)
{
	struct em_cpumask m = {{0}};
	bool any = false;

	for (size_t i = 0; i < pd->n_cpus; i++)
		if (pd->cpus[i] < EM_MAX_CPUS) {
			em_cpumask_set(&m, (unsigned int)pd->cpus[i]);
			any = true;
		}
	if (any)
		em_cpumask_format(&m, buf, size);
	else
		snprintf(buf, size, "none (device)");
}

static void print_domain_line(const struct emdev_perf_domain *pd)
{
	char flags[96], cpus[256];

	flag_words(pd->flags, flags, sizeof(flags));
	cpu_words(pd, cpus, sizeof(cpus));
	printf("perf domain %u: cpus %s, flags %s\n", pd->perf_domain_id, cpus, flags);
}

/* A table's states, one line each. */
static void print_states(const struct emdev_perf_table *t)
{
	printf("  %5s %14s %11s %12s %8s\n", "state", "frequency/kHz", "performance", "power",
	       "cost");
	for (size_t i = 0; i < t->n_states; i++) {
		const struct emdev_perf_state *ps = &t->states[i];

		printf("  %5zu %14llu %11llu %12llu %8llu%s\n", i,
		       (unsigned long long)ps->frequency, (unsigned long long)ps->performance,
		       (unsigned long long)ps->power, (unsigned long long)ps->cost,
		       (ps->flags & EM_PS_INEFFICIENT) ? "  inefficient" : "");
	}
}

static void print_json(struct json_object *j)
{
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
}

/* @msg as JSON on one line. */
static void print_tree(const struct emnl_attrs *msg)
{
	struct json_object *j = emnl_to_json(msg);

	print_json(j);
	json_object_put(j);
}

/* ---- requests ---------------------------------------------------------------------- */

/* The peer answered a do with an ack and no reply. */
static int no_reply(const struct opts *o, const struct conn *c, const char *opname)
{
	fprintf(stderr, "emctl %s: %s: %s sent no reply\n", o->cmd, opname, c->where);
	return EMCTL_EXIT_FAIL;
}

/* get-perf-table for @id into *@out. */
static int get_table(const struct opts *o, struct conn *c, uint32_t id,
		     struct emdev_perf_table **out)
{
	struct emnl_error e = {0};

	if (emdev_get_perf_table(c->dev, id, out, &e))
		return request_failed(o, c, "get-perf-table", &e, id, true);
	return *out ? 0 : no_reply(o, c, "get-perf-table");
}

/* Collected dump replies. */
struct collected {
	struct json_object *list; /* --json */
	struct dpd {
		uint32_t id;
		uint64_t flags;
		char cpus[256];
	} *pd;
	size_t n, cap;
	bool lines;               /* print a line per domain */
};

static int collect(const struct emdev_perf_domain *pd, void *data)
{
	struct collected *col = data;

	if (col->list)
		json_object_array_add(col->list, emnl_to_json(pd->msg));
	if (col->lines)
		print_domain_line(pd);
	if (col->n == col->cap) {
		size_t cap = col->cap ? col->cap * 2 : 16;
		struct dpd *p = realloc(col->pd, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		col->pd = p;
		col->cap = cap;
	}
	col->pd[col->n].id = pd->perf_domain_id;
	col->pd[col->n].flags = pd->flags;
	cpu_words(pd, col->pd[col->n].cpus, sizeof(col->pd[col->n].cpus));
	col->n++;
	return 0;
}

static int dump_domains(const struct opts *o, struct conn *c, struct collected *col)
{
	struct emnl_error e = {0};

	if (emdev_dump_perf_domains(c->dev, collect, col, &e))
		return request_failed(o, c, "get-perf-domains", &e, 0, false);
	return 0;
}

/* ---- commands ---------------------------------------------------------------------- */

/* emctl_cmd_dump - every domain. */
int emctl_cmd_dump(int argc, char **argv)
{
	struct collected col = {0};
	struct opts o;
	struct conn c;
	int rc;

	if (!start(argc, argv, false, &o, &c, &rc))
		return rc;
	col.list = o.json ? json_object_new_array() : NULL;
	col.lines = !o.json;
	rc = dump_domains(&o, &c, &col);
	if (!rc && col.list)
		print_json(col.list);
	json_object_put(col.list);
	free(col.pd);
	disconnect(&c);
	return rc;
}

/* emctl_cmd_get - one domain (get-perf-domains do). */
int emctl_cmd_get(int argc, char **argv)
{
	struct emdev_perf_domain *pd = NULL;
	struct emnl_error e = {0};
	struct opts o;
	struct conn c;
	int rc;

	if (!start(argc, argv, true, &o, &c, &rc))
		return rc;
	if (emdev_get_perf_domain(c.dev, o.id, &pd, &e))
		rc = request_failed(&o, &c, "get-perf-domains", &e, o.id, true);
	else if (!pd)
		rc = no_reply(&o, &c, "get-perf-domains");
	else if (o.json)
		print_tree(pd->msg);
	else
		print_domain_line(pd);
	emdev_perf_domain_free(pd);
	disconnect(&c);
	return rc;
}

/* emctl_cmd_table - one domain's table (get-perf-table do). */
int emctl_cmd_table(int argc, char **argv)
{
	struct emdev_perf_table *t = NULL;
	struct opts o;
	struct conn c;
	int rc;

	if (!start(argc, argv, true, &o, &c, &rc))
		return rc;
	rc = get_table(&o, &c, o.id, &t);
	if (!rc && o.json) {
		print_tree(t->msg);
	} else if (!rc) {
		printf("perf domain %u:\n", o.id);
		print_states(t);
	}
	emdev_perf_table_free(t);
	disconnect(&c);
	return rc;
}

/* emctl_cmd_show - every domain with its table. */
int emctl_cmd_show(int argc, char **argv)
{
	struct collected col = {0};
	struct json_object *all = NULL;
	struct opts o;
	struct conn c;
	int rc;

	if (!start(argc, argv, false, &o, &c, &rc))
		return rc;
	col.list = json_object_new_array();
	rc = dump_domains(&o, &c, &col);
	if (!rc && col.n == 0 && !o.json)
		printf("%s has no performance domains\n", c.where);
	if (o.json)
		all = json_object_new_array();
	for (size_t i = 0; !rc && i < col.n; i++) {
		struct emdev_perf_table *t = NULL;
		char fw[96];

		rc = get_table(&o, &c, col.pd[i].id, &t);
		if (rc)
			break;
		if (o.json) {
			/* The domain's attributes with its table's states. */
			struct json_object *obj = json_object_get(json_object_array_get_idx(col.list, i));
			struct json_object *tj = emnl_to_json(t->msg), *states;

			if (json_object_object_get_ex(tj, "perf-state", &states))
				json_object_object_add(obj, "perf-state", json_object_get(states));
			json_object_put(tj);
			json_object_array_add(all, obj);
		} else {
			flag_words(col.pd[i].flags, fw, sizeof(fw));
			printf("%sperf domain %u: cpus %s, flags %s\n", i ? "\n" : "", col.pd[i].id,
			       col.pd[i].cpus, fw);
			print_states(t);
		}
		emdev_perf_table_free(t);
	}
	if (!rc && all)
		print_json(all);
	json_object_put(all);
	json_object_put(col.list);
	free(col.pd);
	disconnect(&c);
	return rc;
}

/* ---- watch --------------------------------------------------------------------------- */

struct watching {
	const struct opts *o;
	long seen;
};

/* Print one event (or that some were lost). */
static int print_event(const struct emdev_event *ev, void *data)
{
	struct watching *w = data;
	const struct opts *o = w->o;
	const char *prefix = "perf-domain-";

	if (!ev->cmd) {
		fprintf(stderr, "emctl %s: events were lost (ENOBUFS): %s\n", o->cmd,
			ev->socket_overflow ? "the socket's buffer overflowed"
			: ev->lost	    ? ev->lost
					    : "overrun");
		return 0;
	}
	w->seen++;
	if (!ev->table.msg) {
		fprintf(stderr, "emctl %s: undecodable event (command %u)\n", o->cmd, ev->cmd);
		return 0;
	}
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(ev->name));
		json_object_object_add(j, "msg", emnl_to_json(ev->table.msg));
		print_json(j);
		json_object_put(j);
	} else {
		const char *what = strncmp(ev->name, prefix, strlen(prefix)) ? ev->name
									      : ev->name + strlen(prefix);

		if (ev->cmd == DEV_ENERGYMODEL_CMD_PERF_DOMAIN_DELETED)
			printf("%s perf domain %u\n", what, ev->table.perf_domain_id);
		else
			printf("%s perf domain %u: %zu states\n", what, ev->table.perf_domain_id,
			       ev->table.n_states);
	}
	fflush(stdout);
	return 0;
}

/* Milliseconds left until @deadline (CLOCK_MONOTONIC), or -1 for none. */
static int left_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (!deadline->tv_sec)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* emctl_cmd_watch - print events until --count or --timeout (or forever). */
int emctl_cmd_watch(int argc, char **argv)
{
	struct timespec deadline = {0};
	struct emnl_error e = {0};
	struct opts o;
	struct watching w = {.o = &o};
	struct conn c;
	int rc;

	if (!start(argc, argv, false, &o, &c, &rc))
		return rc;
	if (emdev_subscribe(c.dev, &e)) {
		rc = request_failed(&o, &c, "joining the event group", &e, 0, false);
		disconnect(&c);
		return rc;
	}
	/* Once subscribed, say so (on stderr with --json, so stdout stays JSON). */
	fprintf(o.json ? stderr : stdout, "watching %s for perf-domain events\n", c.where);
	fflush(o.json ? stderr : stdout);
	if (o.timeout) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += o.timeout;
	}
	while (!o.count || w.seen < o.count) {
		int ms = left_ms(&deadline), n;

		if (ms == 0)
			break;
		n = emdev_recv_events(c.dev, ms, print_event, &w, &e);
		if (n == -ETIMEDOUT)
			break;
		if (n < 0) {
			rc = request_failed(&o, &c, "receiving events", &e, 0, false);
			break;
		}
	}
	if (!rc && o.count && w.seen < o.count) {
		fprintf(stderr, "emctl %s: timed out after %ld s with %ld of %ld events\n", o.cmd,
			o.timeout, w.seen, o.count);
		rc = EMCTL_EXIT_FAIL;
	}
	disconnect(&c);
	return rc;
}

/* ---- plot ---------------------------------------------------------------------------- */

/* One state for the plot. */
struct pt {
	double f, power, cost;
	bool ineff;
};

/* Write the SVG: frequency on x, power (left axis) and cost (right axis). */
static int write_svg(FILE *f, uint32_t id, const struct pt *p, size_t n)
{
	const double W = 640, H = 400, L = 80, R = 80, T = 40, B = 60;
	double fmin = p[0].f, fmax = p[n - 1].f, pmax = 0, cmax = 0;

	for (size_t i = 0; i < n; i++) {
		pmax = p[i].power > pmax ? p[i].power : pmax;
		cmax = p[i].cost > cmax ? p[i].cost : cmax;
	}
	if (fmax <= fmin)
		fmax = fmin + 1;
	if (pmax <= 0)
		pmax = 1;
	if (cmax <= 0)
		cmax = 1;
#define X(v) (L + ((v) - fmin) / (fmax - fmin) * (W - L - R))
#define YP(v) (H - B - (v) / pmax * (H - T - B))
#define YC(v) (H - B - (v) / cmax * (H - T - B))
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
		W, H, W, H);
	fprintf(f, "<title>perf domain %u: power and cost against frequency</title>\n", id);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"%.0f\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">perf domain "
		   "%u</text>\n", W / 2, id);
	/* Axes with their extreme values. */
	fprintf(f, "<g stroke=\"black\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
		L, H - B, W - R, H - B, L, T, L, H - B, W - R, T, W - R, H - B);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">frequency (kHz): %.0f .. "
		   "%.0f</text>\n", W / 2, H - 20, fmin, fmax);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1f77b4\">%.0f</text>\n",
		L - 4, T + 4, pmax);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#ff7f0e\">%.0f</text>\n", W - R + 4, T + 4,
		cmax);
	fprintf(f, "<text x=\"20\" y=\"%.1f\" fill=\"#1f77b4\" transform=\"rotate(-90 20 %.1f)\" "
		   "text-anchor=\"middle\">power</text>\n", H / 2, H / 2);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#ff7f0e\" transform=\"rotate(90 %.1f %.1f)\" "
		   "text-anchor=\"middle\">cost</text>\n", W - 20, H / 2, W - 20, H / 2);
	/* The two curves. */
	fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", X(p[i].f), YP(p[i].power));
	fprintf(f, "\"/>\n<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" "
		   "stroke-dasharray=\"6 3\" points=\"");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", X(p[i].f), YC(p[i].cost));
	fprintf(f, "\"/>\n");
	/* The states; inefficient ones are hollow red rings with a label. */
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" %s/>\n",
			p[i].ineff ? "inefficient" : "state", X(p[i].f), YC(p[i].cost),
			p[i].ineff ? "fill=\"none\" stroke=\"red\" stroke-width=\"2\""
				   : "fill=\"#ff7f0e\"");
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>\n", X(p[i].f),
			YP(p[i].power));
		if (p[i].ineff)
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"red\" font-size=\"10\" "
				   "text-anchor=\"middle\">inefficient</text>\n",
				X(p[i].f), YC(p[i].cost) - 8);
	}
	fprintf(f, "<g font-size=\"11\"><text x=\"%.1f\" y=\"%.1f\" fill=\"#1f77b4\">— power</text>"
		   "<text x=\"%.1f\" y=\"%.1f\" fill=\"#ff7f0e\">- - cost</text>"
		   "<text x=\"%.1f\" y=\"%.1f\" fill=\"red\">○ inefficient state</text></g>\n",
		L + 10, T + 14, L + 90, T + 14, L + 170, T + 14);
	fprintf(f, "</svg>\n");
#undef X
#undef YP
#undef YC
	return ferror(f) ? -EIO : 0;
}

/* emctl_cmd_plot - one domain's table as an SVG chart. */
int emctl_cmd_plot(int argc, char **argv)
{
	struct emdev_perf_table *t = NULL;
	struct pt *p = NULL;
	size_t n = 0;
	struct opts o;
	struct conn c;
	FILE *f;
	int rc;

	if (!start(argc, argv, true, &o, &c, &rc))
		return rc;
	rc = get_table(&o, &c, o.id, &t);
	if (!rc) {
		p = calloc(t->n_states ? t->n_states : 1, sizeof(*p));
		for (size_t i = 0; p && i < t->n_states; i++) {
			const struct emdev_perf_state *ps = &t->states[i];

			p[n].f = (double)ps->frequency;
			p[n].power = (double)ps->power;
			p[n].cost = (double)ps->cost;
			p[n].ineff = ps->flags & EM_PS_INEFFICIENT;
			n++;
		}
		if (!p || n == 0) {
			fprintf(stderr, "emctl plot: perf domain %u has no states\n", o.id);
			rc = EMCTL_EXIT_FAIL;
		}
	}
	if (!rc) {
		f = fopen(o.svg, "w");
		if (!f) {
			fprintf(stderr, "emctl plot: %s: %s\n", o.svg, strerror(errno));
			rc = EMCTL_EXIT_FAIL;
		} else {
			if (write_svg(f, o.id, p, n) || fclose(f)) {
				fprintf(stderr, "emctl plot: %s: write error\n", o.svg);
				rc = EMCTL_EXIT_FAIL;
			} else {
				printf("wrote %s (%zu states)\n", o.svg, n);
			}
		}
	}
	free(p);
	emdev_perf_table_free(t);
	disconnect(&c);
	return rc;
}
