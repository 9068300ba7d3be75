/*
 * emctl's netlink model source: ask a dev-energymodel peer (the kernel, or emd over
 * its UNIX socket) for its performance domains and tables, and turn the replies into
 * an em_model, so that `emctl model show --netlink SPEC` shows, checks and exports
 * the live model like any other source. Everything protocol-specific comes from the
 * YNL spec through lib/nl; this file only maps attribute names to model fields.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_netlink.h"

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

static int fail(struct em_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct em_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

static bool named(const struct emnl_value *v, const char *name)
{
	return v->attr && !strcmp(v->attr->name, name);
}

/* One get-perf-domains dump message: its id, flags and CPUs. */
static int collect_pd(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	struct pd_list *l = data;
	struct nl_pd pd = {0};
	bool has_id = false;

	(void)nlh;
	for (size_t i = 0; i < msg->n; i++) {
		const struct emnl_value *v = &msg->v[i];

		if (named(v, "perf-domain-id")) {
			pd.id = (uint32_t)v->u;
			has_id = true;
		} else if (named(v, "flags")) {
			pd.flags = v->u;
		} else if (named(v, "cpus")) {
			if (v->u >= EM_MAX_CPUS)
				return fail(l->err, -ERANGE, "get-perf-domains: CPU %llu is not below %u",
					    (unsigned long long)v->u, EM_MAX_CPUS);
			em_cpumask_set(&pd.cpus, (unsigned int)v->u);
			pd.is_cpu = true;
		}
	}
	if (!has_id)
		return fail(l->err, -EINVAL, "get-perf-domains: a reply without perf-domain-id");
	if (l->n == l->cap) {
		struct nl_pd *np;

		l->cap = l->cap ? l->cap * 2 : 8;
		np = realloc(l->pd, l->cap * sizeof(*np));
		if (!np)
			return fail(l->err, -ENOMEM, "out of memory");
		l->pd = np;
	}
	l->pd[l->n++] = pd;
	return 0;
}

static int nl_fail(struct em_error *err, const char *what, const struct emnl_error *e,
		   const struct emnl_spec *spec)
{
	char line[400];

	emnl_error_format(e, spec, line, sizeof(line));
	return fail(err, e->err ? e->err : -EIO, "%s: %s", what, line);
}

/* get-perf-table for pd into d. */
static int read_table(struct emnl_sock *sk, const struct emnl_family *fam,
		      const struct emnl_spec *spec, const struct nl_pd *pd,
		      struct em_model_domain *d, struct em_error *err)
{
	const struct emnl_op *op = emnl_spec_op(spec, "get-perf-table");
	struct emnl_attrs *req, *reply = NULL;
	struct emnl_error e = {0};
	unsigned long top_perf = 0;
	unsigned int n = 0;
	int ret;

	if (!op)
		return fail(err, -EINVAL, "%s: the spec has no get-perf-table operation", spec->name);
	req = emnl_attrs_new(op->set);
	if (!req)
		return fail(err, -ENOMEM, "out of memory");
	ret = emnl_attrs_add_uint(req, "perf-domain-id", pd->id);
	if (ret) {
		emnl_attrs_free(req);
		return fail(err, ret, "get-perf-table: cannot put perf-domain-id");
	}
	ret = emnl_do(sk, fam, op, req, &reply, &e);
	emnl_attrs_free(req);
	if (ret) {
		char what[64];

		snprintf(what, sizeof(what), "get-perf-table %u", pd->id);
		return nl_fail(err, what, &e, spec);
	}
	for (size_t i = 0; reply && i < reply->n; i++)
		n += named(&reply->v[i], "perf-state");
	if (n == 0 || n > EM_MAX_STATES) {
		emnl_attrs_free(reply);
		return fail(err, -EINVAL, "get-perf-table %u: %u states (want 1..%u)", pd->id, n,
			    EM_MAX_STATES);
	}
	d->states = calloc(n, sizeof(*d->states));
	if (!d->states) {
		emnl_attrs_free(reply);
		return fail(err, -ENOMEM, "out of memory");
	}
	d->nr_states = 0;
	for (size_t i = 0; i < reply->n; i++) {
		const struct emnl_value *v = &reply->v[i];
		struct em_state_desc *s;

		if (!named(v, "perf-state") || !v->nest)
			continue;
		s = &d->states[d->nr_states++];
		for (size_t k = 0; k < v->nest->n; k++) {
			const struct emnl_value *f = &v->nest->v[k];

			if (named(f, "frequency"))
				s->frequency = (unsigned long)f->u;
			else if (named(f, "power"))
				s->power = (unsigned long)f->u;
			else if (named(f, "cost"))
				s->cost = (unsigned long)f->u;
			else if (named(f, "performance"))
				top_perf = (unsigned long)f->u;
		}
		/* Only artificial CPU domains take costs; the others are recomputed. */
		if (!d->is_cpu || !(d->flags & EM_PD_ARTIFICIAL))
			s->cost = 0;
	}
	emnl_attrs_free(reply);
	if (d->is_cpu)
		d->capacity = (unsigned int)(top_perf > EM_CAPACITY_SCALE ? EM_CAPACITY_SCALE + 1
									 : top_perf);
	return 0;
}

int emctl_model_from_netlink(struct em_model *m, struct emnl_sock *sk,
			     const struct emnl_spec *spec, struct em_error *err)
{
	const struct emnl_op *dump = emnl_spec_op(spec, "get-perf-domains");
	struct pd_list l = {.err = err};
	struct emnl_family fam;
	struct emnl_error e = {0};
	struct em_registry *scratch;
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "netlink %s", spec->name);
	if (!dump)
		return fail(err, -EINVAL, "%s: the spec has no get-perf-domains operation",
			    spec->name);
	if (emnl_family_resolve(sk, spec, &fam, &e))
		return nl_fail(err, "resolving the family", &e, spec);
	ret = emnl_dump(sk, &fam, dump, NULL, collect_pd, &l, &e);
	if (ret && e.err)
		ret = nl_fail(err, "get-perf-domains", &e, spec);
	if (!ret && l.n == 0)
		ret = fail(err, -ENOENT, "get-perf-domains: the peer has no performance domain");
	if (!ret) {
		m->domains = calloc(l.n, sizeof(*m->domains));
		if (!m->domains)
			ret = fail(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < l.n; i++) {
		struct em_model_domain *d = &m->domains[i];

		m->nr_domains = (unsigned int)i + 1;
		if (l.pd[i].flags & ~(uint64_t)EM_PD_FLAGS_ALL) {
			ret = fail(err, -EINVAL, "perf domain %u: unknown flags 0x%llx", l.pd[i].id,
				   (unsigned long long)l.pd[i].flags);
			break;
		}
		d->flags = (unsigned long)l.pd[i].flags;
		d->is_cpu = l.pd[i].is_cpu;
		d->cpus = l.pd[i].cpus;
		if (d->is_cpu)
			snprintf(d->name, sizeof(d->name), "cpu%u", em_cpumask_next(&d->cpus, 0));
		else
			snprintf(d->name, sizeof(d->name), "pd%u", l.pd[i].id);
		ret = read_table(sk, &fam, spec, &l.pd[i], d, err);
	}
	emnl_family_release(&fam);
	free(l.pd);
	if (!ret) {
		scratch = em_registry_new();
		ret = scratch ? em_model_register(m, scratch, err) : fail(err, -ENOMEM, "out of memory");
		em_registry_free(scratch);
	}
	if (ret)
		em_model_release(m);
	return ret;
}

int emctl_model_load_netlink(struct em_model *m, const char *spec_path,
			     const char *socket_path, struct em_error *err)
{
	struct emnl_error e = {0};
	struct emnl_spec *spec;
	struct emnl_sock *sk;
	int ret;

	memset(m, 0, sizeof(*m));
	spec = emnl_spec_load(spec_path, &e);
	if (!spec)
		return nl_fail(err, "loading the spec", &e, NULL);
	sk = socket_path ? emnl_sock_open_unix(socket_path, &e) : emnl_sock_open_kernel(&e);
	if (!sk) {
		ret = nl_fail(err, "opening the socket", &e, spec);
	} else {
		ret = emctl_model_from_netlink(m, sk, spec, err);
		emnl_sock_close(sk);
	}
	emnl_spec_free(spec);
	return ret;
}
