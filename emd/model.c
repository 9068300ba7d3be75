/*
 * Where emd's Energy Model comes from, and how it changes. The source is the
 * embedded RK3399 default, a model file (YAML or JSON), or the running
 * kernel's EM as debugfs shows it.
 *
 * Start-up reads the source straight into one registry batch (em.h,
 * "Batches"): a model file is streamed domain by domain, so a model of any
 * size costs time and memory linear in it, and the whole model is never held
 * twice.
 *
 * A reload (SIGHUP, or inotify seeing the model file rewritten or renamed into
 * place; server.c decides when) is prepared off the serving path, on a thread
 * of its own, while the event loop goes on answering clients: the source is
 * read again and compared, domain by domain and matched by name, with the
 * registry as it is, and the difference is staged into a batch — device
 * domains that went away (or changed shape) unregistered ('deleted'), changed
 * tables replaced ('updated'), a CPU domain's new capacity applied as the
 * kernel's em_adjust_cpu_capacity() does ('updated'), new domains registered
 * ('created') — in that order, so that new domains take the lowest free ids.
 * Back on the loop's thread the batch is committed: one publication switches
 * every domain and table at once, and the registry's observers (family.c)
 * send the events, one per change, in order. As in the kernel a CPU domain is
 * never removed nor given other CPUs, flags or a different number of states:
 * a model that would need it is refused whole, and the old model stays. So is
 * a file that changed while it was read (lib/em says so): it is read again at
 * the next change.
 *
 * Only the loop's thread writes the registry; the loader only reads it (in
 * read sections) and stages, so the batch it hands over is never stale.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "emd.h"

/* ---- errors -------------------------------------------------------------------- */

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

/* "SOURCE:LINE: " (or "SOURCE: " without a line) before err's message, as lib/em
 * writes its model errors. */
static void prefix(struct em_error *err, const char *source, unsigned int line)
{
	char msg[sizeof(err->msg)];

	memcpy(msg, err->msg, sizeof(msg));
	if (line)
		snprintf(err->msg, sizeof(err->msg), "%s:%u: %.400s", source, line, msg);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %.450s", source, msg);
}

/* ---- sources ------------------------------------------------------------------- */

/* Hand every domain of @m to @fn, as em_model_read_file() would. */
static int each_domain(struct em_model *m, em_model_domain_fn fn, void *ctx,
		       struct em_error *err)
{
	for (unsigned int i = 0; i < m->nr_domains; i++) {
		int ret = fn(ctx, &m->domains[i], err);

		if (ret) {
			prefix(err, m->source, m->domains[i].line);
			return ret;
		}
	}
	return 0;
}

/* Read the configured source, handing each domain to @fn. */
static int read_source(const struct emd *d, em_model_domain_fn fn, void *ctx,
		       struct em_error *err)
{
	struct em_model m = {0};
	int ret;

	switch (d->cfg.model_kind) {
	case EMD_MODEL_FILE:
		return em_model_read_file(d->cfg.model_path, fn, ctx, err);
	case EMD_MODEL_DEBUGFS:
		ret = em_model_load_debugfs(&m, d->cfg.model_path, err);
		break;
	case EMD_MODEL_DEFAULT:
	default:
		ret = em_model_default(&m);
		if (ret)
			snprintf(err->msg, sizeof(err->msg), "out of memory");
		break;
	}
	if (!ret)
		ret = each_domain(&m, fn, ctx, err);
	em_model_release(&m);
	return ret;
}

static struct em_pd_desc desc_of(const struct em_model_domain *md)
{
	return (struct em_pd_desc){
		.name = md->name,
		.flags = md->flags,
		.cpus = md->is_cpu ? &md->cpus : NULL,
		.capacity = md->is_cpu ? md->capacity : 0,
		.nr_states = md->nr_states,
		.states = md->states,
		.fixed_id = md->has_id,
		.id = md->id,
	};
}

/* ---- start-up ------------------------------------------------------------------ */

static int register_domain(void *ctx, struct em_model_domain *md, struct em_error *err)
{
	struct em_pd_desc desc = desc_of(md);

	return em_batch_register(ctx, &desc, NULL, err);
}

/* emd_model_load - a new registry holding the configured model (one batch). */
int emd_model_load(struct emd *d, struct em_error *err)
{
	struct em_batch *b;
	int ret;

	d->reg = em_registry_new();
	b = d->reg ? em_batch_new(d->reg) : NULL;
	if (!b) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = read_source(d, register_domain, b, err);
	if (!ret)
		ret = em_batch_commit(b, err);
	em_batch_free(b);
	emd_memory_trim();
	return ret;
}

/* ---- a reload, prepared on the loader's thread ---------------------------------- */

/* A domain of the registry when the reload began, by name. */
struct cur_pd {
	char name[EM_NAME_MAX];
	unsigned int id;
	bool is_cpu;
	bool seen;   /* in the new model */
	bool remove; /* to be unregistered (gone, or a device of another shape) */
};

/* A change waiting to be staged, with the new model's data it needs. */
struct pending {
	struct em_model_domain md; /* owns md.states */
	unsigned int id;           /* updates: the domain */
	bool capacity;             /* updates: adjust the capacity */
	bool states;               /* updates: replace the table */
};

struct emd_loader {
	struct emd *d;
	pthread_t thread;
	int cancel;                /* atomic: stop early (emd is stopping) */
	/* The registry as the reload found it. */
	struct cur_pd *cur;
	unsigned int nr_cur;
	unsigned int *by_id;       /* index + 1 into cur, by domain id; 0: none */
	unsigned int id_end;
	/* The difference, in the order it is staged: updates, then creations. */
	struct pending *upd, *add;
	unsigned int nr_upd, cap_upd, nr_add, cap_add;
	/* The result. */
	struct em_batch *batch;
	int ret;
	struct em_error err;
	struct emd_reload_stats st;
};

/* The registry's domain named @name, or NULL (the registry is the one the
 * snapshot saw: only the loop's thread writes it, and not while we load). */
static struct cur_pd *find_cur(struct emd_loader *l, const char *name)
{
	const struct em_pd *pd;
	unsigned int id = 0;

	em_read_lock();
	pd = em_pd_by_name(l->d->reg, name);
	if (pd)
		id = em_pd_id(pd);
	em_read_unlock();
	return pd && id < l->id_end && l->by_id[id] ? &l->cur[l->by_id[id] - 1] : NULL;
}

/* Note the registry's domains (one read section: one snapshot). */
static int snapshot(struct emd_loader *l)
{
	const struct em_pd *pd;
	unsigned int n;

	em_read_lock();
	n = em_pd_count(l->d->reg);
	l->id_end = em_pd_id_end(l->d->reg);
	l->cur = calloc(n ? n : 1, sizeof(*l->cur));
	l->by_id = calloc(l->id_end ? l->id_end : 1, sizeof(*l->by_id));
	if (!l->cur || !l->by_id) {
		em_read_unlock();
		return -ENOMEM;
	}
	em_for_each_pd(pd, l->d->reg) {
		struct cur_pd *c = &l->cur[l->nr_cur];

		snprintf(c->name, sizeof(c->name), "%s", em_pd_name(pd));
		c->id = em_pd_id(pd);
		c->is_cpu = em_pd_is_cpu(pd);
		l->by_id[c->id] = ++l->nr_cur;
	}
	em_read_unlock();
	return 0;
}

/* Keep @md (its states taken) as a change to stage later. */
static struct pending *keep(struct pending **v, unsigned int *nr, unsigned int *cap,
			    struct em_model_domain *md)
{
	struct pending *p;

	if (*nr == *cap) {
		unsigned int n = *cap ? 2 * *cap : 64;
		struct pending *nv = realloc(*v, n * sizeof(*nv));

		if (!nv)
			return NULL;
		*v = nv;
		*cap = n;
	}
	p = &(*v)[(*nr)++];
	*p = (struct pending){.md = *md};
	p->md.state_line = NULL;
	md->states = NULL; /* ours now */
	return p;
}

/* Do the new model's states differ from the domain's table (as a provider gave them)? */
static bool states_differ(const struct em_pd *pd, const struct em_model_domain *md)
{
	const struct em_perf_table *t = em_pd_table(pd);
	bool provider_cost = em_pd_is_cpu(pd) && (em_pd_flags(pd) & EM_PD_ARTIFICIAL);

	for (unsigned int k = 0; k < md->nr_states; k++)
		if (t->states[k].frequency != md->states[k].frequency ||
		    t->states[k].power != md->states[k].power ||
		    (provider_cost && t->states[k].cost != md->states[k].cost))
			return true;
	return false;
}

/* One domain of the new model: compared with the registry's, noted if it changed. */
static int compare_domain(void *ctx, struct em_model_domain *md, struct em_error *err)
{
	struct emd_loader *l = ctx;
	struct cur_pd *c;
	const struct em_pd *pd;
	bool shape, capacity, states;
	int ret = 0;

	if (__atomic_load_n(&l->cancel, __ATOMIC_RELAXED))
		return fail(err, -ECANCELED, "emd is stopping");
	l->st.domains++;
	c = find_cur(l, md->name);
	if (!c) {
		if (!keep(&l->add, &l->nr_add, &l->cap_add, md))
			return fail(err, -ENOMEM, "out of memory");
		return 0;
	}
	if (c->seen)
		return fail(err, -EEXIST, "domain '%s': the name is given twice",
				     md->name);
	c->seen = true;
	em_read_lock();
	pd = em_pd_get(l->d->reg, c->id);
	shape = pd && em_pd_is_cpu(pd) == md->is_cpu && em_pd_flags(pd) == md->flags &&
		em_pd_table(pd)->nr_states == md->nr_states &&
		(!md->is_cpu || !memcmp(em_pd_cpus(pd), &md->cpus, sizeof(md->cpus)));
	capacity = shape && md->is_cpu && em_pd_capacity(pd) != md->capacity;
	states = shape && states_differ(pd, md);
	em_read_unlock();
	if (c->is_cpu && !shape) {
		ret = fail(err, -EPERM,
				    "CPU domain '%s' changed its CPUs, flags or number of states; "
				    "only its states and capacity may change (restart emd)",
				    md->name);
	} else if (!shape) {
		/* A device of another shape: deleted, and created again. */
		c->remove = true;
		if (!keep(&l->add, &l->nr_add, &l->cap_add, md))
			ret = fail(err, -ENOMEM, "out of memory");
	} else if (capacity || states) {
		struct pending *p = keep(&l->upd, &l->nr_upd, &l->cap_upd, md);

		if (!p)
			return fail(err, -ENOMEM, "out of memory");
		p->id = c->id;
		p->capacity = capacity;
		p->states = states;
	}
	return ret;
}

/* Stage the difference: deletions (in the registry's order), updates, creations. */
static int stage(struct emd_loader *l)
{
	struct em_batch *b;
	struct em_error *err = &l->err;
	const char *src = l->d->cfg.model_path ? l->d->cfg.model_path : "the model";
	int ret = 0;

	for (unsigned int i = 0; i < l->nr_cur; i++) {
		if (l->cur[i].seen)
			continue;
		if (l->cur[i].is_cpu)
			return fail(err, -EPERM,
					     "%s: CPU domain '%s' is gone; CPU domains cannot be "
					     "removed (restart emd)",
					     src, l->cur[i].name);
		l->cur[i].remove = true;
	}
	b = em_batch_new(l->d->reg);
	if (!b)
		return fail(err, -ENOMEM, "out of memory");
	for (unsigned int i = 0; !ret && i < l->nr_cur; i++)
		if (l->cur[i].remove) {
			ret = em_batch_unregister(b, l->cur[i].id, err);
			l->st.deleted += !ret;
		}
	for (unsigned int i = 0; !ret && i < l->nr_upd; i++) {
		const struct pending *p = &l->upd[i];

		if (p->capacity) {
			ret = em_batch_adjust_cpu_capacity(b, em_cpumask_next(&p->md.cpus, 0),
							   p->md.capacity, err);
			l->st.updated += !ret;
		}
		if (!ret && p->states) {
			ret = em_batch_table_replace(b, p->id, p->md.states, p->md.nr_states, err);
			l->st.updated += !ret;
		}
		if (ret)
			prefix(err, src, p->md.line);
	}
	for (unsigned int i = 0; !ret && i < l->nr_add; i++) {
		struct em_pd_desc desc = desc_of(&l->add[i].md);

		ret = em_batch_register(b, &desc, NULL, err);
		l->st.created += !ret;
		if (ret)
			prefix(err, src, l->add[i].md.line);
	}
	if (ret) {
		em_batch_free(b);
		return ret;
	}
	l->batch = b;
	return 0;
}

/* Give back what the comparison kept: staged by now, or dropped. */
static void drop_pending(struct emd_loader *l)
{
	for (unsigned int i = 0; i < l->nr_upd; i++)
		free(l->upd[i].md.states);
	for (unsigned int i = 0; i < l->nr_add; i++)
		free(l->add[i].md.states);
	free(l->upd);
	free(l->add);
	l->upd = l->add = NULL;
	l->nr_upd = l->cap_upd = l->nr_add = l->cap_add = 0;
}

static void loader_free(struct emd_loader *l)
{
	drop_pending(l);
	free(l->cur);
	free(l->by_id);
	em_batch_free(l->batch);
	free(l);
}

/* The loader's thread: read, compare, stage; then wake the loop. */
static void *loader_main(void *arg)
{
	struct emd_loader *l = arg;
	uint64_t one = 1;

	l->ret = snapshot(l);
	if (l->ret)
		fail(&l->err, l->ret, "out of memory");
	if (!l->ret)
		l->ret = read_source(l->d, compare_domain, l, &l->err);
	if (!l->ret)
		l->ret = stage(l);
	drop_pending(l);
	if (write(l->d->loadfd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write of 1 cannot fail */
	return NULL;
}

/* emd_model_reload_start - prepare a reload on the loader's thread. */
int emd_model_reload_start(struct emd *d)
{
	struct emd_loader *l;
	sigset_t all, old;
	int err;

	if (d->loader)
		return -EBUSY;
	if (d->loadfd < 0) {
		d->loadfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->loadfd < 0)
			return -errno;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->d = d;
	/* Signals are the loop's (signalfd): the loader takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&l->thread, NULL, loader_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(l);
		return -err;
	}
	d->loader = l;
	return 0;
}

/* emd_model_reload_finish - the loader is done: publish what it staged. */
int emd_model_reload_finish(struct emd *d, struct em_error *err, struct emd_reload_stats *st)
{
	struct emd_loader *l = d->loader;
	uint64_t n;
	int ret;

	if (!l)
		return -ENOENT;
	pthread_join(l->thread, NULL);
	d->loader = NULL;
	if (read(d->loadfd, &n, sizeof(n)) < 0) {
		/* Nothing to read: the join above is what counts. */
	}
	ret = l->ret;
	*err = l->err;
	*st = l->st;
	if (!ret)
		ret = em_batch_commit(l->batch, err);
	if (!ret)
		d->reloads++;
	loader_free(l);
	emd_memory_trim();
	return ret;
}

/* emd_model_reload_cancel - emd is stopping: end a reload in the works. */
void emd_model_reload_cancel(struct emd *d)
{
	if (!d->loader)
		return;
	__atomic_store_n(&d->loader->cancel, 1, __ATOMIC_RELAXED);
	pthread_join(d->loader->thread, NULL);
	loader_free(d->loader);
	d->loader = NULL;
}

/* emd_model_reload - the whole reload at once (start, wait, finish). */
int emd_model_reload(struct emd *d, struct em_error *err)
{
	struct emd_reload_stats st;
	int ret = emd_model_reload_start(d);

	if (ret) {
		snprintf(err->msg, sizeof(err->msg), "cannot start the reload: %s", strerror(-ret));
		return ret;
	}
	return emd_model_reload_finish(d, err, &st);
}

/* ---- the model file's watch ------------------------------------------------------ */

/* Watch the model file itself for writes (its inode: the path may have been
 * replaced since). */
static void watch_file(struct emd *d)
{
	int wd = inotify_add_watch(d->inofd, d->cfg.model_path, IN_MODIFY | IN_CLOSE_WRITE);

	d->inowd_file = wd > 0 ? wd : 0;
}

/* emd_model_watch - inotify on the model file's directory (editors and
 * installers replace files by renaming, which a watch on the file misses),
 * and on the file, for writes in place (the directory's IN_MODIFY would wake
 * emd for every write to any file beside it). */
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
	d->inowd = inotify_add_watch(d->inofd, dir,
				     IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
					     IN_MOVED_FROM);
	if (d->inowd < 0) {
		int e = -errno;

		close(d->inofd);
		d->inofd = -1;
		return e;
	}
	watch_file(d);
	return 0;
}

/* emd_model_watch_event - drain inotify: EMD_MODEL_CHANGED when the model file
 * was closed after writing or renamed into place; d->writer_active says whether
 * someone is in the middle of writing it (modified, not closed yet). */
int emd_model_watch_event(struct emd *d)
{
	const char *base = strrchr(d->cfg.model_path, '/');
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int what = 0;
	ssize_t n;

	base = base ? base + 1 : d->cfg.model_path;
	while ((n = read(d->inofd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events were lost: assume the worst, read the file again. */
				d->writer_active = false;
				what |= EMD_MODEL_CHANGED;
				watch_file(d);
			} else if (d->inowd_file > 0 && ev->wd == d->inowd_file) {
				if (ev->mask & IN_MODIFY)
					d->writer_active = true;
				if (ev->mask & IN_CLOSE_WRITE) {
					d->writer_active = false;
					what |= EMD_MODEL_CHANGED;
				}
			} else if (ev->wd == d->inowd && ev->len && !strcmp(ev->name, base)) {
				if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
					d->writer_active = false;
					what |= EMD_MODEL_CHANGED;
				} else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
					d->writer_active = false; /* that inode is no longer the model */
				}
				if (ev->mask & (IN_MOVED_TO | IN_CREATE))
					watch_file(d); /* a new inode at the path */
			}
		}
	}
	return what;
}

/*
 * emd_model_writer_busy - is another process in the middle of writing the model
 * file? With the watch: inotify saw it modified and not yet closed. Without:
 * it is open for writing (a read lease cannot be taken: fcntl(2) F_SETLEASE
 * refuses one with EAGAIN while any process has the file open for writing —
 * tried when emd may take leases on it, as its owner or with CAP_LEASE).
 *
 * With the watch no lease is tried: the kernel queues IN_CLOSE_WRITE before
 * the closing file gives up its write access (fs/file_table.c: __fput() calls
 * fsnotify_close() before put_file_access()), so a lease tried on that event
 * can still fail, and a reload deferred then would wait for an event that
 * never comes. A writer that has opened the file and not written yet is not
 * seen; its close reloads again, and a file that changes while it is read is
 * not taken (-EAGAIN).
 */
bool emd_model_writer_busy(struct emd *d)
{
	int fd, busy = 0;

	if (d->cfg.model_kind != EMD_MODEL_FILE)
		return false;
	if (d->inofd >= 0) {
		emd_model_watch_event(d);
		return d->writer_active;
	}
	fd = open(d->cfg.model_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
		fcntl(fd, F_SETLEASE, F_UNLCK);
	else
		busy = errno == EAGAIN;
	close(fd);
	return busy;
}
