/*
 * The typed client of dev-energymodel (emkit/dev_energymodel_user.h): the
 * family's requests through lib/nl's client (emnl_do, emnl_dump, the
 * controller), its replies and events turned from value trees into plain C
 * structs by the wire numbers of the generated uapi-style header, and the
 * bridge to lib/em: the whole model as an em_model. lib/em knows nothing
 * of netlink and lib/nl nothing of the Energy Model; this file, above both,
 * is where they meet.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "dev_energymodel.h"
#include "emkit/dev_energymodel_user.h"
#include "emkit/em.h"
#include "../em/internal.h" /* em_err() */

struct emdev {
	const struct emnl_spec *spec;
	const struct emnl_op *op_domains, *op_table;
	struct emnl_sock *sk;
	struct emnl_family fam;
	bool resolved;
};

/* ---- the built-in spec ------------------------------------------------------------- */

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static struct emnl_spec *builtin;
static struct emnl_error builtin_err;

static void builtin_load(void)
{
	builtin = emnl_spec_parse(emd_spec_dev_energymodel, strlen(emd_spec_dev_energymodel),
				  &builtin_err);
}

const struct emnl_spec *emdev_builtin_spec(struct emnl_error *e)
{
	pthread_once(&builtin_once, builtin_load);
	if (!builtin && e)
		*e = builtin_err;
	return builtin;
}

/* ---- a client ---------------------------------------------------------------------- */

struct emdev *emdev_new(const struct emnl_spec *spec, struct emnl_error *e)
{
	struct emdev *c;

	if (!spec && !(spec = emdev_builtin_spec(e)))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		emnl_error_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	c->spec = spec;
	c->op_domains = emnl_spec_op(spec, "get-perf-domains");
	c->op_table = emnl_spec_op(spec, "get-perf-table");
	if (!c->op_domains || !c->op_table) {
		emnl_error_set(e, -EINVAL, "%s: the spec has no %s operation", spec->name,
			       c->op_domains ? "get-perf-table" : "get-perf-domains");
		free(c);
		return NULL;
	}
	return c;
}

int emdev_connect(struct emdev *c, struct emnl_sock *sk, struct emnl_error *e)
{
	int err;

	c->sk = sk;
	err = emnl_family_resolve(sk, c->spec, &c->fam, e);
	c->resolved = !err;
	return err;
}

/* new + connect on @sk (NULL: opening it failed, @e says why). */
static struct emdev *open_on(struct emnl_sock *sk, struct emnl_error *e)
{
	struct emdev *c;

	if (!sk)
		return NULL;
	c = emdev_new(NULL, e);
	if (!c) {
		emnl_sock_close(sk);
		return NULL;
	}
	if (emdev_connect(c, sk, e)) {
		emdev_close(c);
		return NULL;
	}
	return c;
}

struct emdev *emdev_open_unix(const char *path, struct emnl_error *e)
{
	char buf[256];
	int err;

	if (!path) {
		err = emd_default_socket(buf, sizeof(buf));
		if (err) {
			emnl_error_set(e, err, "no default socket: set XDG_RUNTIME_DIR");
			return NULL;
		}
		path = buf;
	}
	return open_on(emnl_sock_open_unix(path, e), e);
}

struct emdev *emdev_open_kernel(struct emnl_error *e)
{
	return open_on(emnl_sock_open_kernel(e), e);
}

void emdev_close(struct emdev *c)
{
	if (!c)
		return;
	if (c->resolved)
		emnl_family_release(&c->fam);
	emnl_sock_close(c->sk);
	free(c);
}

const struct emnl_spec *emdev_spec(const struct emdev *c)
{
	return c->spec;
}

struct emnl_sock *emdev_sock(const struct emdev *c)
{
	return c->sk;
}

const struct emnl_family *emdev_family(const struct emdev *c)
{
	return &c->fam;
}

/* ---- from trees to structs -------------------------------------------------------- */

/* How many values of type @type @a holds. */
static size_t count_of(const struct emnl_attrs *a, uint16_t type)
{
	size_t n = 0;

	for (size_t i = 0; a && i < a->n; i++)
		n += a->v[i].type == type;
	return n;
}

/* The first value of type @type in @a, as a number (0 if absent). */
static uint64_t first(const struct emnl_attrs *a, uint16_t type, bool *present)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (a->v[i].type == type) {
			if (present)
				*present = true;
			return a->v[i].u;
		}
	return 0;
}

/* A perf-domain message into @pd, its CPUs into @cpus (room for all).
 * Of a repeated single attribute the first counts, as emnl_attrs_get(). */
static void read_domain(const struct emnl_attrs *msg, struct emdev_perf_domain *pd,
			uint64_t *cpus)
{
	memset(pd, 0, sizeof(*pd));
	pd->msg = msg;
	pd->cpus = cpus;
	pd->perf_domain_id = (uint32_t)first(msg, DEV_ENERGYMODEL_A_PERF_DOMAIN_PERF_DOMAIN_ID,
					     &pd->has_id);
	pd->flags = first(msg, DEV_ENERGYMODEL_A_PERF_DOMAIN_FLAGS, NULL);
	for (size_t i = 0; i < msg->n; i++) {
		const struct emnl_value *v = &msg->v[i];

		switch (v->type) {
		case DEV_ENERGYMODEL_A_PERF_DOMAIN_CPUS:
			cpus[pd->n_cpus++] = v->u;
			break;
		default:
			break;
		}
	}
}

/* A perf-table message into @t, its states into @states (room for all). */
static void read_table(const struct emnl_attrs *msg, struct emdev_perf_table *t,
		       struct emdev_perf_state *states)
{
	memset(t, 0, sizeof(*t));
	t->msg = msg;
	t->states = states;
	t->perf_domain_id = (uint32_t)first(msg, DEV_ENERGYMODEL_A_PERF_TABLE_PERF_DOMAIN_ID,
					    &t->has_id);
	for (size_t i = 0; msg && i < msg->n; i++) {
		const struct emnl_value *v = &msg->v[i];
		struct emdev_perf_state *s;

		if (v->type != DEV_ENERGYMODEL_A_PERF_TABLE_PERF_STATE || !v->nest)
			continue;
		s = &states[t->n_states++];
		s->performance = first(v->nest, DEV_ENERGYMODEL_A_PERF_STATE_PERFORMANCE, NULL);
		s->frequency = first(v->nest, DEV_ENERGYMODEL_A_PERF_STATE_FREQUENCY, NULL);
		s->power = first(v->nest, DEV_ENERGYMODEL_A_PERF_STATE_POWER, NULL);
		s->cost = first(v->nest, DEV_ENERGYMODEL_A_PERF_STATE_COST, NULL);
		s->flags = first(v->nest, DEV_ENERGYMODEL_A_PERF_STATE_FLAGS, NULL);
	}
}

/* ---- requests ---------------------------------------------------------------------- */

/* A do request of @op carrying perf-domain-id @id; the reply tree in *@out. */
static int do_with_id(struct emdev *c, const struct emnl_op *op, uint32_t id,
		      struct emnl_attrs **out, struct emnl_error *e)
{
	struct emnl_value storage[2];
	struct emnl_attrs req;
	int err;

	emnl_attrs_init(&req, op->set, storage, 2);
	err = emnl_attrs_add_uint(&req, "perf-domain-id", id);
	if (err)
		return emnl_error_set(e, err, "%s: cannot put perf-domain-id", op->name);
	err = emnl_do(c->sk, &c->fam, op, &req, out, e);
	emnl_attrs_free(&req);
	return err;
}

/* A reply struct with what it points at, owning its tree: one allocation. */
struct domain_box {
	struct emnl_attrs *msg;
	struct emdev_perf_domain pd;
	uint64_t cpus[];
};

struct table_box {
	struct emnl_attrs *msg;
	struct emdev_perf_table t;
	struct emdev_perf_state states[];
};

/*
 * A do request of get-perf-domains (@table false) or get-perf-table for @id,
 * its reply read into a box. NULL with *@err: the request failed (or the
 * peer sent no reply, *@err 0).
 */
static void *get_boxed(struct emdev *c, bool table, uint32_t id, int *err, struct emnl_error *e)
{
	uint16_t many = table ? DEV_ENERGYMODEL_A_PERF_TABLE_PERF_STATE
			      : DEV_ENERGYMODEL_A_PERF_DOMAIN_CPUS;
	size_t head = table ? sizeof(struct table_box) : sizeof(struct domain_box);
	size_t item = table ? sizeof(struct emdev_perf_state) : sizeof(uint64_t);
	struct emnl_attrs *msg = NULL;
	void *box;

	*err = do_with_id(c, table ? c->op_table : c->op_domains, id, &msg, e);
	if (*err || !msg)
		return NULL;
	box = malloc(head + count_of(msg, many) * item);
	if (!box) {
		emnl_attrs_free(msg);
		*err = emnl_error_set(e, -ENOMEM, "out of memory");
	} else if (table) {
		struct table_box *b = box;

		b->msg = msg;
		read_table(msg, &b->t, b->states);
	} else {
		struct domain_box *b = box;

		b->msg = msg;
		read_domain(msg, &b->pd, b->cpus);
	}
	return box;
}

/* Free the box whose struct is at @item, @off bytes into it. */
static void box_free(void *item, size_t off)
{
	struct emnl_attrs **box;

	if (!item)
		return;
	box = (void *)((char *)item - off);
	emnl_attrs_free(*box);
	free(box);
}

int emdev_get_perf_domain(struct emdev *c, uint32_t id, struct emdev_perf_domain **out,
			  struct emnl_error *e)
{
	int err;
	struct domain_box *b = get_boxed(c, false, id, &err, e);

	*out = b ? &b->pd : NULL;
	return err;
}

void emdev_perf_domain_free(struct emdev_perf_domain *pd)
{
	box_free(pd, offsetof(struct domain_box, pd));
}

int emdev_get_perf_table(struct emdev *c, uint32_t id, struct emdev_perf_table **out,
			 struct emnl_error *e)
{
	int err;
	struct table_box *b = get_boxed(c, true, id, &err, e);

	*out = b ? &b->t : NULL;
	return err;
}

void emdev_perf_table_free(struct emdev_perf_table *t)
{
	box_free(t, offsetof(struct table_box, t));
}

/* A dump in progress: the caller's callback. */
struct dump_ctx {
	emdev_perf_domain_cb cb;
	void *data;
};

static int dump_one(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	struct dump_ctx *d = data;
	struct emdev_perf_domain pd;
	uint64_t stack[64], *cpus = stack;
	size_t n = count_of(msg, DEV_ENERGYMODEL_A_PERF_DOMAIN_CPUS);
	int ret;

	(void)nlh;
	if (n > sizeof(stack) / sizeof(stack[0])) {
		cpus = malloc(n * sizeof(*cpus));
		if (!cpus)
			return -ENOMEM;
	}
	read_domain(msg, &pd, cpus);
	ret = d->cb ? d->cb(&pd, d->data) : 0;
	if (cpus != stack)
		free(cpus);
	return ret;
}

int emdev_dump_perf_domains(struct emdev *c, emdev_perf_domain_cb cb, void *data,
			    struct emnl_error *e)
{
	struct dump_ctx d = {cb, data};

	return emnl_dump(c->sk, &c->fam, c->op_domains, NULL, dump_one, &d, e);
}

/* ---- events ------------------------------------------------------------------------ */

int emdev_subscribe(struct emdev *c, struct emnl_error *e)
{
	return emnl_subscribe(c->sk, &c->fam, "event", e);
}

/* Hand one event message (or undecodable one) to @cb. */
static int one_event(struct emdev *c, const struct nlmsghdr *nlh, emdev_event_cb cb, void *data)
{
	const struct genlmsghdr *g = (const void *)((const uint8_t *)nlh + NLMSG_HDRLEN);
	const struct emnl_op *op = emnl_spec_op_by_cmd(c->spec, g->cmd, true, NULL);
	struct emdev_event ev = {.cmd = g->cmd, .name = op ? op->name : NULL};
	struct emdev_perf_state stack[32], *states = stack;
	struct emnl_attrs *msg = NULL;
	struct emnl_error de;
	size_t n;
	int ret;

	if (op && emnl_decode(nlh, op->set, NULL, &msg, &de))
		msg = NULL;
	n = count_of(msg, DEV_ENERGYMODEL_A_PERF_TABLE_PERF_STATE);
	if (n > sizeof(stack) / sizeof(stack[0])) {
		states = malloc(n * sizeof(*states));
		if (!states) {
			emnl_attrs_free(msg);
			return -ENOMEM;
		}
	}
	read_table(msg, &ev.table, states);
	ret = cb ? cb(&ev, data) : 0;
	if (states != stack)
		free(states);
	emnl_attrs_free(msg);
	return ret;
}

int emdev_recv_events(struct emdev *c, int timeout_ms, emdev_event_cb cb, void *data,
		      struct emnl_error *e)
{
	const void *buf;
	const struct nlmsghdr *nlh;
	int count = 0, ret, left;
	ssize_t n;

	emnl_error_clear(e);
	n = emnl_recv_next(c->sk, &buf, timeout_ms);
	if (n == -ETIMEDOUT)
		return emnl_error_set(e, -ETIMEDOUT, "no event in %d ms", timeout_ms);
	if (n == -ENOBUFS) {
		/* The kernel's overrun: the socket's buffer overflowed. */
		struct emdev_event ev = {.socket_overflow = true};

		ret = cb ? cb(&ev, data) : 0;
		return ret < 0 ? emnl_error_set(e, ret, "stopped by the callback") : 1;
	}
	if (n < 0)
		return emnl_error_set(e, (int)n, "receive: %s", strerror((int)-n));
	for (nlh = buf, left = (int)n; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct emnl_error oe;

			/* emd's overrun notice: events were dropped for us. */
			if (emnl_extack_parse(nlh, &oe, NULL) || oe.err != -ENOBUFS)
				continue;
			struct emdev_event ev = {.lost = oe.msg[0] ? oe.msg : NULL};

			ret = cb ? cb(&ev, data) : 0;
		} else if (nlh->nlmsg_type == c->fam.id &&
			   nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN) {
			ret = one_event(c, nlh, cb, data);
		} else {
			continue;
		}
		if (ret < 0)
			return emnl_error_set(e, ret, "stopped by the callback");
		count++;
	}
	return count;
}

/* ---- the whole model ----------------------------------------------------------------- */

static int nl_fail(struct em_error *err, const char *what, const struct emnl_error *e,
		   const struct emnl_spec *spec)
{
	char line[400];

	emnl_error_format(e, spec, line, sizeof(line));
	return em_err(err, e->err ? e->err : -EIO, "%s: %s", what, line);
}

/* What the dump says about one domain. */
struct nl_pd {
	uint32_t id;
	uint64_t flags;
	bool is_cpu;
	struct em_cpumask cpus;
};

struct pd_list {
	struct nl_pd *pd;
	size_t n, cap;
	struct em_error *err;
};

/* One get-perf-domains dump message: its id, flags and CPUs. */
static int collect_pd(const struct emdev_perf_domain *d, void *data)
{
	struct pd_list *l = data;
	struct nl_pd pd = {.id = d->perf_domain_id, .flags = d->flags};

	for (size_t i = 0; i < d->n_cpus; i++) {
		if (d->cpus[i] >= EM_MAX_CPUS)
			return em_err(l->err, -ERANGE, "get-perf-domains: CPU %llu is not below %u",
				      (unsigned long long)d->cpus[i], EM_MAX_CPUS);
		em_cpumask_set(&pd.cpus, (unsigned int)d->cpus[i]);
		pd.is_cpu = true;
	}
	if (!d->has_id)
		return em_err(l->err, -EINVAL, "get-perf-domains: a reply without perf-domain-id");
	if (l->n == l->cap) {
		struct nl_pd *np;

		l->cap = l->cap ? l->cap * 2 : 8;
		np = realloc(l->pd, l->cap * sizeof(*np));
		if (!np)
			return em_err(l->err, -ENOMEM, "out of memory");
		l->pd = np;
	}
	l->pd[l->n++] = pd;
	return 0;
}

/* get-perf-table for @pd into @d. */
static int table_of(struct emdev *c, const struct nl_pd *pd, struct em_model_domain *d,
		    struct em_error *err)
{
	struct emdev_perf_table *t;
	struct emnl_error e = {0};
	unsigned long top_perf = 0;
	size_t n;
	int ret;

	ret = emdev_get_perf_table(c, pd->id, &t, &e);
	if (ret) {
		char what[64];

		snprintf(what, sizeof(what), "get-perf-table %u", pd->id);
		return nl_fail(err, what, &e, c->spec);
	}
	n = t ? t->n_states : 0;
	if (n == 0 || n > EM_MAX_STATES) {
		emdev_perf_table_free(t);
		return em_err(err, -EINVAL, "get-perf-table %u: %zu states (want 1..%u)", pd->id,
			      n, EM_MAX_STATES);
	}
	d->states = calloc(n, sizeof(*d->states));
	if (!d->states) {
		emdev_perf_table_free(t);
		return em_err(err, -ENOMEM, "out of memory");
	}
	d->nr_states = (unsigned int)n;
	for (size_t i = 0; i < n; i++) {
		struct em_state_desc *s = &d->states[i];

		s->frequency = (unsigned long)t->states[i].frequency;
		s->power = (unsigned long)t->states[i].power;
		/* Only artificial CPU domains take costs; the others are recomputed. */
		s->cost = d->is_cpu && (d->flags & EM_PD_ARTIFICIAL) ?
			  (unsigned long)t->states[i].cost : 0;
		top_perf = (unsigned long)t->states[i].performance;
	}
	emdev_perf_table_free(t);
	if (d->is_cpu)
		d->capacity = (unsigned int)(top_perf > EM_CAPACITY_SCALE ? EM_CAPACITY_SCALE + 1
									 : top_perf);
	return 0;
}

int emdev_read_model(struct emdev *c, struct em_model *m, struct em_error *err)
{
	struct pd_list l = {.err = err};
	struct emnl_error e = {0};
	struct em_registry *scratch;
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "netlink %s", c->spec->name);
	ret = emdev_dump_perf_domains(c, collect_pd, &l, &e);
	if (ret && e.err)
		ret = nl_fail(err, "get-perf-domains", &e, c->spec);
	if (!ret && l.n == 0)
		ret = em_err(err, -ENOENT, "get-perf-domains: the peer has no performance domain");
	if (!ret) {
		m->domains = calloc(l.n, sizeof(*m->domains));
		if (!m->domains)
			ret = em_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < l.n; i++) {
		struct em_model_domain *d = &m->domains[i];

		m->nr_domains = (unsigned int)i + 1;
		if (l.pd[i].flags & ~(uint64_t)EM_PD_FLAGS_ALL) {
			ret = em_err(err, -EINVAL, "perf domain %u: unknown flags 0x%llx",
				     l.pd[i].id, (unsigned long long)l.pd[i].flags);
			break;
		}
		d->flags = (unsigned long)l.pd[i].flags;
		d->is_cpu = l.pd[i].is_cpu;
		d->cpus = l.pd[i].cpus;
		if (d->is_cpu)
			snprintf(d->name, sizeof(d->name), "cpu%u", em_cpumask_next(&d->cpus, 0));
		else
			snprintf(d->name, sizeof(d->name), "pd%u", l.pd[i].id);
		ret = table_of(c, &l.pd[i], d, err);
	}
	free(l.pd);
	if (!ret) {
		scratch = em_registry_new();
		ret = scratch ? em_model_register(m, scratch, err) : em_err(err, -ENOMEM, "out of memory");
		em_registry_free(scratch);
	}
	if (ret)
		em_model_release(m);
	return ret;
}
