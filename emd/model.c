/*
 * Where emd's Energy Model comes from, and how it changes. The source is the
 * embedded RK3399 default, a model file (YAML or JSON), or the running
 * kernel's EM as debugfs shows it. A reload (SIGHUP, or inotify seeing the
 * model file rewritten or renamed into place) reads the source again and
 * applies the difference per domain, matched by name, to the live registry:
 * a new table for a domain whose states changed (an 'updated' event), new
 * domains registered ('created'), device domains that went away unregistered
 * ('deleted'); a device domain whose shape changed is deleted and created
 * again. The events come from the registry's observers (family.c). As in the
 * kernel, a CPU domain is never removed nor reshaped: a model that would need
 * it is refused whole, before anything changes, and the old model stays.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "emd.h"

/* Read the configured source into @m. */
static int read_source(const struct emd *d, struct em_model *m, struct em_error *err)
{
	switch (d->cfg.model_kind) {
	case EMD_MODEL_FILE:
		return em_model_load_file(m, d->cfg.model_path, err);
	case EMD_MODEL_DEBUGFS:
		return em_model_load_debugfs(m, d->cfg.model_path, err);
	case EMD_MODEL_DEFAULT:
	default:
		if (em_model_default(m)) {
			snprintf(err->msg, sizeof(err->msg), "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
}

/* emd_model_load - a new registry holding the configured model. */
int emd_model_load(struct emd *d, struct em_error *err)
{
	struct em_model m;
	int ret = read_source(d, &m, err);

	if (ret)
		return ret;
	d->reg = em_registry_new();
	if (!d->reg) {
		em_model_release(&m);
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = em_model_register(&m, d->reg, err);
	em_model_release(&m);
	return ret;
}

/* The domain of @m named @name, or NULL. */
static const struct em_model_domain *by_name(const struct em_model *m, const char *name)
{
	for (unsigned int i = 0; i < m->nr_domains; i++)
		if (!strcmp(m->domains[i].name, name))
			return &m->domains[i];
	return NULL;
}

/* Same kind, flags, CPUs, capacity and number of states. */
static bool same_shape(const struct em_model_domain *a, const struct em_model_domain *b)
{
	return a->is_cpu == b->is_cpu && a->flags == b->flags && a->capacity == b->capacity &&
	       a->nr_states == b->nr_states &&
	       (!a->is_cpu || !memcmp(&a->cpus, &b->cpus, sizeof(a->cpus)));
}

static bool same_states(const struct em_model_domain *a, const struct em_model_domain *b)
{
	for (unsigned int k = 0; k < a->nr_states; k++)
		if (a->states[k].frequency != b->states[k].frequency ||
		    a->states[k].power != b->states[k].power || a->states[k].cost != b->states[k].cost)
			return false;
	return true;
}

/* The registry's id of the domain named @name. */
static int id_of(const struct emd *d, const char *name, unsigned int *id)
{
	const struct em_pd *pd;

	em_read_lock();
	pd = em_pd_by_name(d->reg, name);
	if (pd)
		*id = em_pd_id(pd);
	em_read_unlock();
	return pd ? 0 : -ENOENT;
}

/* Register one model domain in the live registry. */
static int add_domain(struct emd *d, const struct em_model_domain *nd, struct em_error *err)
{
	struct em_pd_desc desc = {
		.name = nd->name,
		.flags = nd->flags,
		.cpus = nd->is_cpu ? &nd->cpus : NULL,
		.capacity = nd->is_cpu ? nd->capacity : 0,
		.nr_states = nd->nr_states,
		.states = nd->states,
	};

	return em_pd_register(d->reg, &desc, NULL, err);
}

/* Check that @next can replace @cur in place (see the file comment). */
static int check_plan(const struct em_model *cur, const struct em_model *next,
		      struct em_error *err)
{
	for (unsigned int i = 0; i < cur->nr_domains; i++) {
		const struct em_model_domain *od = &cur->domains[i];
		const struct em_model_domain *nd = by_name(next, od->name);

		if (!od->is_cpu)
			continue;
		if (!nd) {
			snprintf(err->msg, sizeof(err->msg),
				 "%s: CPU domain '%s' is gone; CPU domains cannot be removed (restart emd)",
				 next->source, od->name);
			return -EPERM;
		}
		if (!same_shape(od, nd)) {
			snprintf(err->msg, sizeof(err->msg),
				 "%s: CPU domain '%s' changed its CPUs, flags, capacity or number of "
				 "states; only its states may change (restart emd)",
				 next->source, od->name);
			return -EPERM;
		}
	}
	return 0;
}

/* emd_model_reload - read the source again, apply the difference per domain. */
int emd_model_reload(struct emd *d, struct em_error *err)
{
	struct em_model cur, next;
	struct em_registry *scratch;
	unsigned int id;
	int ret;

	ret = read_source(d, &next, err);
	if (ret)
		return ret;
	/* The whole new model must register on its own before anything changes. */
	scratch = em_registry_new();
	ret = scratch ? em_model_register(&next, scratch, err) : -ENOMEM;
	em_registry_free(scratch);
	if (ret) {
		em_model_release(&next);
		return ret;
	}
	if (em_model_from_registry(&cur, d->reg)) {
		em_model_release(&next);
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = check_plan(&cur, &next, err);
	/* Gone or reshaped device domains first (their ids become free). */
	for (unsigned int i = 0; !ret && i < cur.nr_domains; i++) {
		const struct em_model_domain *od = &cur.domains[i];
		const struct em_model_domain *nd = by_name(&next, od->name);

		if (od->is_cpu || (nd && same_shape(od, nd)))
			continue;
		if (!id_of(d, od->name, &id))
			ret = em_pd_unregister(d->reg, id, err);
	}
	/* Changed tables, then new (or reshaped) domains, in the new model's order. */
	for (unsigned int i = 0; !ret && i < next.nr_domains; i++) {
		const struct em_model_domain *nd = &next.domains[i];
		const struct em_model_domain *od = by_name(&cur, nd->name);

		if (od && same_shape(od, nd)) {
			if (!same_states(od, nd) && !id_of(d, nd->name, &id))
				ret = em_table_replace(d->reg, id, nd->states, nd->nr_states, err);
		}
	}
	for (unsigned int i = 0; !ret && i < next.nr_domains; i++) {
		const struct em_model_domain *nd = &next.domains[i];
		const struct em_model_domain *od = by_name(&cur, nd->name);

		if (!od || !same_shape(od, nd))
			ret = add_domain(d, nd, err);
	}
	if (!ret) {
		d->reloads++;
		em_registry_synchronize(d->reg);
	}
	em_model_release(&cur);
	em_model_release(&next);
	return ret;
}

/* emd_model_watch - inotify on the model file's directory (editors and
 * installers replace files by renaming, which a watch on the file misses). */
int emd_model_watch(struct emd *d)
{
	char dir[PATH_MAX];
	const char *slash;

	d->inofd = -1;
	if (d->cfg.model_kind != EMD_MODEL_FILE || !d->cfg.watch_model)
		return 0;
	slash = strrchr(d->cfg.model_path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == d->cfg.model_path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - d->cfg.model_path),
			 d->cfg.model_path);
	d->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->inofd < 0)
		return -errno;
	d->inowd = inotify_add_watch(d->inofd, dir, IN_CLOSE_WRITE | IN_MOVED_TO);
	if (d->inowd < 0) {
		int e = -errno;

		close(d->inofd);
		d->inofd = -1;
		return e;
	}
	return 0;
}

/* emd_model_watch_event - drain inotify; true if the model file was written. */
bool emd_model_watch_event(struct emd *d)
{
	const char *base = strrchr(d->cfg.model_path, '/');
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	base = base ? base + 1 : d->cfg.model_path;
	while ((n = read(d->inofd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->len && !strcmp(ev->name, base))
				hit = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}
