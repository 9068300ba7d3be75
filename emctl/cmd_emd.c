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
 * family). The spec is built in (emd/spec_text.c), so nothing is read from disk.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emctl.h"
#include "emkit/em.h"
#include "emkit/nl.h"
#include "../emd/socket_path.h"
#include "../emd/spec_text.h"

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
	struct emnl_spec *spec;
	struct emnl_sock *sk;
	struct emnl_family fam;
	bool resolved;
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
	return 0;
}

/* Close what connect_peer opened. */
static void disconnect(struct conn *c)
{
	if (c->resolved)
		emnl_family_release(&c->fam);
	if (c->sk)
		emnl_sock_close(c->sk);
	emnl_spec_free(c->spec);
	memset(c, 0, sizeof(*c));
}

/* Open the socket to emd or the kernel and resolve dev-energymodel. */
static int connect_peer(const struct opts *o, struct conn *c)
{
	struct emnl_error e = {0};
	char path[PATH_MAX];
	char line[400];

	memset(c, 0, sizeof(*c));
	c->spec = emnl_spec_parse(emd_spec_dev_energymodel, strlen(emd_spec_dev_energymodel), &e);
	if (!c->spec) {
		fprintf(stderr, "emctl %s: built-in spec: %s\n", o->cmd, e.msg);
		return EMCTL_EXIT_FAIL;
	}
	if (o->kernel) {
		snprintf(c->where, sizeof(c->where), "the kernel");
		c->sk = emnl_sock_open_kernel(&e);
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
		c->sk = emnl_sock_open_unix(path, &e);
	}
	if (!c->sk) {
		fprintf(stderr, "emctl %s: cannot reach %s: %s%s\n", o->cmd, c->where,
			strerror(-e.err), o->kernel ? "" : " (is emd running?)");
		disconnect(c);
		return EMCTL_EXIT_UNAVAILABLE;
	}
	if (emnl_family_resolve(c->sk, c->spec, &c->fam, &e)) {
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
	c->resolved = true;
	return 0;
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

/* ---- reading values -------------------------------------------------------------- */

/* The first value named @name, as a number (0 if absent). */
static uint64_t num(const struct emnl_attrs *a, const char *name)
{
	const struct emnl_value *v = emnl_attrs_get(a, name);

	return v ? v->u : 0;
}

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

/* The CPUs of a get-perf-domains message as a CPU list ("0-3"), or "device". */
static void cpu_words(const struct emnl_attrs *a, char *buf, size_t size)
{
	struct em_cpumask m = {{0}};
	bool any = false;

	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].attr && !strcmp(a->v[i].attr->name, "cpus") && a->v[i].u < EM_MAX_CPUS) {
			em_cpumask_set(&m, (unsigned int)a->v[i].u);
			any = true;
		}
	if (any)
		em_cpumask_format(&m, buf, size);
	else
		snprintf(buf, size, "none (device)");
}

static void print_domain_line(const struct emnl_attrs *a)
{
	char flags[96], cpus[256];

	flag_words(num(a, "flags"), flags, sizeof(flags));
	cpu_words(a, cpus, sizeof(cpus));
	printf("perf domain %llu: cpus %s, flags %s\n",
	       (unsigned long long)num(a, "perf-domain-id"), cpus, flags);
}

/* The states of a perf-table message as a table. */
static void print_states(const struct emnl_attrs *t)
{
	unsigned int k = 0;

	printf("  %5s %14s %11s %12s %8s\n", "state", "frequency/kHz", "performance", "power",
	       "cost");
	for (size_t i = 0; i < t->n; i++) {
		const struct emnl_value *v = &t->v[i];

		if (!v->attr || strcmp(v->attr->name, "perf-state") || !v->nest)
			continue;
		printf("  %5u %14llu %11llu %12llu %8llu%s\n", k++,
		       (unsigned long long)num(v->nest, "frequency"),
		       (unsigned long long)num(v->nest, "performance"),
		       (unsigned long long)num(v->nest, "power"),
		       (unsigned long long)num(v->nest, "cost"),
		       (num(v->nest, "flags") & EM_PS_INEFFICIENT) ? "  inefficient" : "");
	}
}

static void print_json(struct json_object *j)
{
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
}

/* ---- requests ---------------------------------------------------------------------- */

/* A do request of @opname with perf-domain-id @id; the reply in *@out. */
static int do_with_id(const struct opts *o, struct conn *c, const char *opname, uint32_t id,
		      struct emnl_attrs **out)
{
	const struct emnl_op *op = emnl_spec_op(c->spec, opname);
	struct emnl_value storage[2];
	struct emnl_attrs req;
	struct emnl_error e = {0};
	int err;

	emnl_attrs_init(&req, op->set, storage, 2);
	emnl_attrs_add_uint(&req, "perf-domain-id", id);
	err = emnl_do(c->sk, &c->fam, op, &req, out, &e);
	emnl_attrs_free(&req);
	if (err)
		return request_failed(o, c, opname, &e, id, true);
	if (!*out) {
		fprintf(stderr, "emctl %s: %s: %s sent no reply\n", o->cmd, opname, c->where);
		return EMCTL_EXIT_FAIL;
	}
	return 0;
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

static int collect(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	struct collected *col = data;

	(void)nlh;
	if (col->list)
		json_object_array_add(col->list, emnl_to_json(msg));
	if (col->lines)
		print_domain_line(msg);
	if (col->n == col->cap) {
		size_t cap = col->cap ? col->cap * 2 : 16;
		struct dpd *p = realloc(col->pd, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		col->pd = p;
		col->cap = cap;
	}
	col->pd[col->n].id = (uint32_t)num(msg, "perf-domain-id");
	col->pd[col->n].flags = num(msg, "flags");
	cpu_words(msg, col->pd[col->n].cpus, sizeof(col->pd[col->n].cpus));
	col->n++;
	return 0;
}

static int dump_domains(const struct opts *o, struct conn *c, struct collected *col)
{
	struct emnl_error e = {0};

	if (emnl_dump(c->sk, &c->fam, emnl_spec_op(c->spec, "get-perf-domains"), NULL, collect,
		      col, &e))
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
	int rc = parse(argc, argv, &o, false);

	if (rc)
		return rc < 0 ? EMCTL_EXIT_OK : rc;
	rc = connect_peer(&o, &c);
	if (rc)
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

static void print_get(const struct opts *o, const struct emnl_attrs *reply)
{
	(void)o;
	print_domain_line(reply);
}

static void print_table(const struct opts *o, const struct emnl_attrs *reply)
{
	printf("perf domain %u:\n", o->id);
	print_states(reply);
}

/* get and table: one do request for the id on the command line, printed as JSON
 * (the ynl CLI's shape) or by @print. */
static int do_by_id(int argc, char **argv, const char *op,
		    void (*print)(const struct opts *, const struct emnl_attrs *))
{
	struct emnl_attrs *reply = NULL;
	struct opts o;
	struct conn c;
	int rc = parse(argc, argv, &o, true);

	if (rc)
		return rc < 0 ? EMCTL_EXIT_OK : rc;
	rc = connect_peer(&o, &c);
	if (rc)
		return rc;
	rc = do_with_id(&o, &c, op, o.id, &reply);
	if (!rc) {
		if (o.json) {
			struct json_object *j = emnl_to_json(reply);

			print_json(j);
			json_object_put(j);
		} else {
			print(&o, reply);
		}
	}
	emnl_attrs_free(reply);
	disconnect(&c);
	return rc;
}

/* emctl_cmd_get - one domain. */
int emctl_cmd_get(int argc, char **argv)
{
	return do_by_id(argc, argv, "get-perf-domains", print_get);
}

/* emctl_cmd_table - one domain's table. */
int emctl_cmd_table(int argc, char **argv)
{
	return do_by_id(argc, argv, "get-perf-table", print_table);
}

/* emctl_cmd_show - every domain with its table. */
int emctl_cmd_show(int argc, char **argv)
{
	struct collected col = {0};
	struct json_object *all = NULL;
	struct opts o;
	struct conn c;
	int rc = parse(argc, argv, &o, false);

	if (rc)
		return rc < 0 ? EMCTL_EXIT_OK : rc;
	rc = connect_peer(&o, &c);
	if (rc)
		return rc;
	col.list = json_object_new_array();
	rc = dump_domains(&o, &c, &col);
	if (!rc && col.n == 0 && !o.json)
		printf("%s has no performance domains\n", c.where);
	if (o.json)
		all = json_object_new_array();
	for (size_t i = 0; !rc && i < col.n; i++) {
		struct emnl_attrs *t = NULL;
		char fw[96];

		rc = do_with_id(&o, &c, "get-perf-table", col.pd[i].id, &t);
		if (rc)
			break;
		if (o.json) {
			/* The domain's attributes with its table's states. */
			struct json_object *obj = json_object_get(json_object_array_get_idx(col.list, i));
			struct json_object *tj = emnl_to_json(t), *states;

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
		emnl_attrs_free(t);
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

/* Print one event message. */
static void print_event(const struct opts *o, const struct conn *c, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = (const void *)((const uint8_t *)nlh + NLMSG_HDRLEN);
	const struct emnl_op *op = emnl_spec_op_by_cmd(c->spec, g->cmd, true, NULL);
	struct emnl_attrs *msg = NULL;
	struct emnl_error e;

	if (!op || emnl_decode(nlh, op->set, NULL, &msg, &e)) {
		fprintf(stderr, "emctl %s: undecodable event (command %u)\n", o->cmd, g->cmd);
		return;
	}
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(op->name));
		json_object_object_add(j, "msg", emnl_to_json(msg));
		print_json(j);
		json_object_put(j);
	} else {
		size_t states = emnl_attrs_count(msg, "perf-state");
		const char *what = op->name + strlen("perf-domain-");

		if (strncmp(op->name, "perf-domain-", strlen("perf-domain-")))
			what = op->name;
		if (g->cmd == 5)
			printf("%s perf domain %llu\n", what,
			       (unsigned long long)num(msg, "perf-domain-id"));
		else
			printf("%s perf domain %llu: %zu states\n", what,
			       (unsigned long long)num(msg, "perf-domain-id"), states);
	}
	fflush(stdout);
	emnl_attrs_free(msg);
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
	struct conn c;
	long seen = 0;
	int rc = parse(argc, argv, &o, false);

	if (rc)
		return rc < 0 ? EMCTL_EXIT_OK : rc;
	rc = connect_peer(&o, &c);
	if (rc)
		return rc;
	if (emnl_subscribe(c.sk, &c.fam, "event", &e)) {
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
	while (!o.count || seen < o.count) {
		const void *buf;
		const struct nlmsghdr *nlh;
		int ms = left_ms(&deadline);
		ssize_t n;
		int len;

		if (ms == 0)
			break;
		n = emnl_recv_raw(c.sk, &buf, ms);
		if (n == -ETIMEDOUT)
			break;
		if (n == -ENOBUFS) {
			/* The kernel's overrun: events were lost. */
			fprintf(stderr, "emctl %s: events were lost (ENOBUFS): the socket's "
					"buffer overflowed\n", o.cmd);
			continue;
		}
		if (n < 0) {
			e.err = (int)n;
			snprintf(e.msg, sizeof(e.msg), "receive: %s", strerror((int)-n));
			rc = request_failed(&o, &c, "receiving events", &e, 0, false);
			break;
		}
		len = (int)n;
		for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct emnl_error oe;

				if (!emnl_extack_parse(nlh, &oe, NULL) && oe.err == -ENOBUFS)
					fprintf(stderr, "emctl %s: events were lost (ENOBUFS): %s\n",
						o.cmd, oe.msg[0] ? oe.msg : "overrun");
				continue;
			}
			if (nlh->nlmsg_type != c.fam.id ||
			    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
				continue;
			print_event(&o, &c, nlh);
			seen++;
		}
	}
	if (!rc && o.count && seen < o.count) {
		fprintf(stderr, "emctl %s: timed out after %ld s with %ld of %ld events\n", o.cmd,
			o.timeout, seen, o.count);
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
	struct emnl_attrs *t = NULL;
	struct pt *p = NULL;
	size_t n = 0;
	struct opts o;
	struct conn c;
	FILE *f;
	int rc = parse(argc, argv, &o, true);

	if (rc)
		return rc < 0 ? EMCTL_EXIT_OK : rc;
	if (!o.svg) {
		fprintf(stderr, "emctl plot: --svg FILE is required\n");
		return EMCTL_EXIT_USAGE;
	}
	rc = connect_peer(&o, &c);
	if (rc)
		return rc;
	rc = do_with_id(&o, &c, "get-perf-table", o.id, &t);
	if (!rc) {
		p = calloc(t->n ? t->n : 1, sizeof(*p));
		for (size_t i = 0; p && i < t->n; i++) {
			const struct emnl_value *v = &t->v[i];

			if (!v->attr || strcmp(v->attr->name, "perf-state") || !v->nest)
				continue;
			p[n].f = (double)num(v->nest, "frequency");
			p[n].power = (double)num(v->nest, "power");
			p[n].cost = (double)num(v->nest, "cost");
			p[n].ineff = num(v->nest, "flags") & EM_PS_INEFFICIENT;
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
	emnl_attrs_free(t);
	disconnect(&c);
	return rc;
}
