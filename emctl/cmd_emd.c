/*
 * emctl's queries to a dev-energymodel peer — emd, or the kernel with
 * --kernel (peer.c connects) — each one or two requests of the typed client
 * (emkit/dev_energymodel_user.h) and a printer:
 *
 *   show        every domain (dump) and its table (a get-perf-table each),
 *               in the one table layout (output.c); --json: a list of the
 *               domains, each with its perf-state list
 *   dump        get-perf-domains dump: a line per domain; --json: the list
 *   get ID      get-perf-domains do: the domain's line; --json: the reply
 *   table ID    get-perf-table do: the domain's table (its line from a
 *               get-perf-domains do); --json: the reply
 *   watch       the 'event' group: a line (--json: an object) per event
 *
 * JSON is the messages as the kernel's ynl CLI decodes them (emnl_to_json),
 * printed as it prints them. A device domain has no cpus: the wire carries
 * no cpus attribute for it, and the JSON no "cpus" key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "dev_energymodel.h"
#include "emctl.h"
#include "emkit/dev_energymodel_user.h"
#include "emkit/em.h"
#include "emkit/nl.h"

/* ---- the domain view of wire messages ------------------------------------------------ */

/* The peer acked a do without a reply. */
static int no_reply(const struct emctl_args *a, const struct emctl_peer *p, const char *op)
{
	fprintf(stderr, "%s: %s: %s sent no reply\n", a->name, op, p->where);
	return EMCTL_EXIT_FAIL;
}

static int get_domain(const struct emctl_args *a, struct emctl_peer *p, uint32_t id,
		      struct emdev_perf_domain **out)
{
	struct emnl_error e = {0};

	if (emdev_get_perf_domain(p->dev, id, out, &e))
		return emctl_peer_failed(a, p, "get-perf-domains", &e, id);
	return *out ? 0 : no_reply(a, p, "get-perf-domains");
}

static int get_table(const struct emctl_args *a, struct emctl_peer *p, uint32_t id,
		     struct emdev_perf_table **out)
{
	struct emnl_error e = {0};

	if (emdev_get_perf_table(p->dev, id, out, &e))
		return emctl_peer_failed(a, p, "get-perf-table", &e, id);
	return *out ? 0 : no_reply(a, p, "get-perf-table");
}

/* Print domain @d (its line) with @t's states. */
static int print_domain(struct emctl_domain *d, const struct emdev_perf_table *t)
{
	if (emctl_states_of(t, d))
		return -ENOMEM;
	emctl_print_domain(stdout, d);
	free(d->states);
	d->states = NULL;
	return 0;
}

/* ---- dump, get, table ---------------------------------------------------------------- */

/* What a dump collects: the domains (their messages stay with the client
 * only during the callback, so each is copied, as JSON and as a view). */
struct collected {
	const struct emctl_args *a;
	struct json_object *list; /* each domain's reply as JSON */
	struct emctl_domain *doms;
	size_t n, cap;
};

static int collect(const struct emdev_perf_domain *pd, void *data)
{
	struct collected *col = data;

	if (col->n == col->cap) {
		size_t cap = col->cap ? col->cap * 2 : 16;
		struct emctl_domain *p = realloc(col->doms, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		col->doms = p;
		col->cap = cap;
	}
	emctl_domain_of(pd, &col->doms[col->n++]);
	json_object_array_add(col->list, emnl_to_json(pd->msg));
	return 0;
}

static int dump_domains(const struct emctl_args *a, struct emctl_peer *p, struct collected *col)
{
	struct emnl_error e = {0};

	col->a = a;
	col->list = json_object_new_array();
	if (emdev_dump_perf_domains(p->dev, collect, col, &e))
		return emctl_peer_failed(a, p, "get-perf-domains", &e, -1);
	return 0;
}

static void collected_free(struct collected *col)
{
	json_object_put(col->list);
	free(col->doms);
}

int emctl_cmd_dump(struct emctl_args *a)
{
	struct collected col = {0};
	struct emctl_peer p;
	int rc = emctl_peer_connect(a, &p);

	if (rc)
		return rc;
	rc = dump_domains(a, &p, &col);
	if (!rc && a->json)
		emctl_json_print(stdout, col.list);
	for (size_t i = 0; !rc && !a->json && i < col.n; i++)
		emctl_print_domain_line(stdout, &col.doms[i]);
	collected_free(&col);
	emctl_peer_close(&p);
	return rc;
}

int emctl_cmd_get(struct emctl_args *a)
{
	struct emdev_perf_domain *pd = NULL;
	struct emctl_peer p;
	uint32_t id;
	int rc = emctl_parse_id(a, &id);

	if (rc || (rc = emctl_peer_connect(a, &p)))
		return rc;
	rc = get_domain(a, &p, id, &pd);
	if (!rc && a->json) {
		struct json_object *j = emnl_to_json(pd->msg);

		emctl_json_print(stdout, j);
		json_object_put(j);
	} else if (!rc) {
		struct emctl_domain d;

		emctl_domain_of(pd, &d);
		emctl_print_domain_line(stdout, &d);
	}
	emdev_perf_domain_free(pd);
	emctl_peer_close(&p);
	return rc;
}

int emctl_cmd_table(struct emctl_args *a)
{
	struct emdev_perf_domain *pd = NULL;
	struct emdev_perf_table *t = NULL;
	struct emctl_peer p;
	uint32_t id;
	int rc = emctl_parse_id(a, &id);

	if (rc || (rc = emctl_peer_connect(a, &p)))
		return rc;
	rc = get_table(a, &p, id, &t);
	if (!rc && a->json) {
		struct json_object *j = emnl_to_json(t->msg);

		emctl_json_print(stdout, j);
		json_object_put(j);
	} else if (!rc) {
		/* The table's units depend on the domain's flags. */
		struct emctl_domain d;

		rc = get_domain(a, &p, id, &pd);
		if (!rc)
			emctl_domain_of(pd, &d);
		if (!rc && print_domain(&d, t))
			rc = EMCTL_EXIT_FAIL;
	}
	emdev_perf_domain_free(pd);
	emdev_perf_table_free(t);
	emctl_peer_close(&p);
	return rc;
}

/* ---- show ------------------------------------------------------------------------------ */

int emctl_cmd_show(struct emctl_args *a)
{
	struct collected col = {0};
	struct json_object *all = json_object_new_array();
	struct emctl_peer p;
	int rc = emctl_peer_connect(a, &p);

	if (rc) {
		json_object_put(all);
		return rc;
	}
	rc = dump_domains(a, &p, &col);
	if (!rc && col.n == 0 && !a->json)
		printf("%s has no performance domains\n", p.where);
	for (size_t i = 0; !rc && i < col.n; i++) {
		struct emdev_perf_table *t = NULL;

		rc = get_table(a, &p, col.doms[i].id, &t);
		if (!rc && a->json) {
			/* The domain's attributes, then its table's states. */
			struct json_object *obj = json_object_get(json_object_array_get_idx(col.list, i));
			struct json_object *tj = emnl_to_json(t->msg), *states;

			if (json_object_object_get_ex(tj, "perf-state", &states))
				json_object_object_add(obj, "perf-state", json_object_get(states));
			json_object_put(tj);
			json_object_array_add(all, obj);
		} else if (!rc) {
			if (i)
				putchar('\n');
			if (print_domain(&col.doms[i], t))
				rc = EMCTL_EXIT_FAIL;
		}
		emdev_perf_table_free(t);
	}
	if (!rc && a->json)
		emctl_json_print(stdout, all);
	json_object_put(all);
	collected_free(&col);
	emctl_peer_close(&p);
	return rc;
}

/* ---- watch ----------------------------------------------------------------------------- */

struct watching {
	const struct emctl_args *a;
	long seen;
	bool out_failed;
};

/* Print one event (or that some were lost). */
static int print_event(const struct emdev_event *ev, void *data)
{
	struct watching *w = data;
	const struct emctl_args *a = w->a;
	const char *prefix = "perf-domain-";

	if (!ev->cmd) {
		fprintf(stderr, "%s: events were lost (ENOBUFS): %s\n", a->name,
			ev->socket_overflow ? "the socket's buffer overflowed"
			: ev->lost	    ? ev->lost
					    : "overrun");
		return 0;
	}
	w->seen++;
	if (!ev->table.msg) {
		fprintf(stderr, "%s: undecodable event (command %u)\n", a->name, ev->cmd);
		return 0;
	}
	if (a->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(ev->name));
		json_object_object_add(j, "msg", emnl_to_json(ev->table.msg));
		emctl_json_print(stdout, j);
		json_object_put(j);
	} else {
		const char *what = strncmp(ev->name, prefix, strlen(prefix)) ? ev->name
									      : ev->name + strlen(prefix);

		if (ev->cmd == DEV_ENERGYMODEL_CMD_PERF_DOMAIN_DELETED)
			printf("%s perf-domain %u\n", what, ev->table.perf_domain_id);
		else
			printf("%s perf-domain %u: %zu state%s\n", what, ev->table.perf_domain_id,
			       ev->table.n_states, ev->table.n_states == 1 ? "" : "s");
	}
	/* Each event as it comes; a reader that went away ends the watch. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		w->out_failed = true;
		return -EIO;
	}
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

int emctl_cmd_watch(struct emctl_args *a)
{
	struct timespec deadline = {0};
	struct emnl_error e = {0};
	struct watching w = {.a = a};
	struct emctl_peer p;
	FILE *say = a->json ? stderr : stdout;
	int rc = emctl_peer_connect(a, &p);

	if (rc)
		return rc;
	if (emdev_subscribe(p.dev, &e)) {
		rc = emctl_peer_failed(a, &p, "joining the event group", &e, -1);
		emctl_peer_close(&p);
		return rc;
	}
	/* Once subscribed, say so (on stderr with --json, so stdout stays JSON). */
	fprintf(say, "watching %s for perf-domain events\n", p.where);
	if (fflush(say) == EOF || ferror(say))
		w.out_failed = true;
	if (a->timeout) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += a->timeout;
	}
	while (!w.out_failed && (!a->count || w.seen < a->count)) {
		int ms = left_ms(&deadline), n;

		if (ms == 0)
			break;
		n = emdev_recv_events(p.dev, ms, print_event, &w, &e);
		if (n == -ETIMEDOUT || w.out_failed)
			break;
		if (n < 0) {
			rc = emctl_peer_failed(a, &p, "receiving events", &e, -1);
			break;
		}
	}
	if (w.out_failed)
		rc = emctl_close_output(stdout, a->name, "the output");
	else if (!rc && a->count && w.seen < a->count) {
		fprintf(stderr, "%s: timed out after %ld s with %ld of %ld events\n", a->name,
			a->timeout, w.seen, a->count);
		rc = EMCTL_EXIT_FAIL;
	}
	emctl_peer_close(&p);
	return rc;
}
