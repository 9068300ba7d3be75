/*
 * The running kernel's Energy Model as debugfs shows it (energy_model/ under the
 * debugfs mount), read into a model.
 *
 * One directory per domain, named after its device ("cpu0", "cpu4", a GPU's device
 * name). CPU domains have a "cpus" file (a CPU list such as "0-3"). Flags come from
 * "flags" (a hex number, recent kernels) or, on older ones, from "units"
 * ("microWatts", "milliWatts" or "bogoWatts") and "skip-inefficiencies" (0/1). One
 * sub-directory per state: "ps:<kHz>" (since the capacity states were renamed
 * performance states) or "cs:<kHz>" (older), each with "frequency", "power", "cost",
 * and on recent kernels "performance" and "inefficient". Where the kernel gives
 * milliwatts we scale to microwatts; "bogoWatts" domains are artificial and keep the
 * kernel's costs. Capacity is the top state's performance when the kernel shows it,
 * else 1024. The directory's name is the device's dev_name(), whatever it is
 * ("cpu0", "soc:gpu@ff9a0000"), and becomes the domain's name.
 *
 * Since Linux 6.19 each domain directory has an "id" file: the id dev-energymodel
 * reports (em_debug_id_show() in kernel/power/energy_model.c). When every domain has
 * one, the model keeps those ids and lists the domains in id order, so emkit's ids
 * are the kernel's. Older kernels have no ids; then the order is CPU domains first
 * (by first CPU), then devices by name, the order a kernel registers them at boot.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* Read a small file into buf (NUL-terminated, trailing newline removed). */
static int read_small(const char *path, char *buf, size_t size, struct em_error *err)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return em_err(err, -errno, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* dir/a/b into out; false (and an error) if it does not fit. */
static bool state_path(char *out, size_t size, const char *dir, const char *a, const char *b)
{
	return snprintf(out, size, "%s/%s/%s", dir, a, b) < (int)size;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int read_ulong(const char *path, unsigned long *v, struct em_error *err);

/* Read dir/state/file; if present is not NULL the file is optional. */
static int state_file(const char *dir, const char *state, const char *file, unsigned long *v,
		      bool *present, struct em_error *err)
{
	char p[4096];

	if (!state_path(p, sizeof(p), dir, state, file))
		return em_err(err, -ENAMETOOLONG, "%s/%s: path too long", dir, state);
	if (present) {
		*present = exists(p);
		if (!*present)
			return 0;
	}
	return read_ulong(p, v, err);
}

static int read_ulong(const char *path, unsigned long *v, struct em_error *err)
{
	char buf[64], *end;
	int ret = read_small(path, buf, sizeof(buf), err);

	if (ret)
		return ret;
	errno = 0;
	*v = strtoul(buf, &end, 0);
	if (errno || end == buf || *end || buf[0] == '-')
		return em_err(err, -EINVAL, "%s: expected an integer, got '%s'", path, buf);
	return 0;
}

struct dstate {
	unsigned long frequency, power, cost, performance;
	bool has_performance;
};

static int cmp_state(const void *a, const void *b)
{
	const struct dstate *x = a, *y = b;

	return x->frequency < y->frequency ? -1 : x->frequency > y->frequency;
}

static int cmp_id(const void *a, const void *b)
{
	const struct em_model_domain *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_domain(const void *a, const void *b)
{
	const struct em_model_domain *x = a, *y = b;

	if (x->is_cpu != y->is_cpu)
		return x->is_cpu ? -1 : 1;
	if (x->is_cpu) {
		unsigned int cx = em_cpumask_next(&x->cpus, 0), cy = em_cpumask_next(&y->cpus, 0);

		return cx < cy ? -1 : cx > cy;
	}
	return strcmp(x->name, y->name);
}

static int read_domain(const char *dir, const char *name, struct em_model_domain *d,
		       struct em_error *err)
{
	char path[4096], buf[256];
	struct dstate *st = NULL;
	unsigned int n = 0, cap = 0;
	unsigned long scale = 1;
	DIR *dp;
	struct dirent *de;
	int ret = 0;

	if (strlen(name) >= EM_NAME_MAX)
		return em_err(err, -EINVAL, "%s/%s: domain name longer than %u characters", dir,
			      name, EM_NAME_MAX - 1);
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s/cpus", dir, name);
	if (exists(path)) {
		ret = read_small(path, buf, sizeof(buf), err);
		if (!ret)
			ret = em_cpumask_parse(&d->cpus, buf, err);
		if (ret) {
			em_err_prefix(err, "%s: ", path);
			return ret;
		}
		d->is_cpu = true;
	}
	snprintf(path, sizeof(path), "%s/%s/id", dir, name);
	if (exists(path)) {
		unsigned long id;

		ret = read_ulong(path, &id, err);
		if (ret)
			return ret;
		if (id > EM_PD_ID_MAX)
			return em_err(err, -EINVAL, "%s: id %lu is above %u", path, id, EM_PD_ID_MAX);
		d->has_id = true;
		d->id = (unsigned int)id;
	}
	snprintf(path, sizeof(path), "%s/%s/flags", dir, name);
	if (exists(path)) {
		ret = read_ulong(path, &d->flags, err);
		if (ret)
			return ret;
	} else {
		snprintf(path, sizeof(path), "%s/%s/units", dir, name);
		d->flags = EM_PD_MICROWATTS;
		if (exists(path)) {
			ret = read_small(path, buf, sizeof(buf), err);
			if (ret)
				return ret;
			if (!strcmp(buf, "microWatts")) {
				d->flags = EM_PD_MICROWATTS;
			} else if (!strcmp(buf, "milliWatts")) {
				d->flags = EM_PD_MICROWATTS;
				scale = 1000;
			} else if (!strcmp(buf, "bogoWatts")) {
				d->flags = EM_PD_ARTIFICIAL;
			} else {
				return em_err(err, -EINVAL,
					      "%s: unknown units '%s' (known: microWatts, milliWatts, bogoWatts)",
					      path, buf);
			}
		}
		snprintf(path, sizeof(path), "%s/%s/skip-inefficiencies", dir, name);
		if (exists(path)) {
			unsigned long v;

			ret = read_ulong(path, &v, err);
			if (ret)
				return ret;
			if (v)
				d->flags |= EM_PD_SKIP_INEFFICIENCIES;
		}
	}

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	dp = opendir(path);
	if (!dp)
		return em_err(err, -errno, "%s: %s", path, strerror(errno));
	while ((de = readdir(dp))) {
		struct dstate *s;

		if (strncmp(de->d_name, "ps:", 3) && strncmp(de->d_name, "cs:", 3))
			continue;
		if (n == cap) {
			struct dstate *ns;

			cap = cap ? cap * 2 : 16;
			ns = em_realloc(st, cap * sizeof(*st));
			if (!ns) {
				ret = em_err(err, -ENOMEM, "out of memory");
				break;
			}
			st = ns;
		}
		if (n == EM_MAX_STATES) {
			ret = em_err(err, -EINVAL, "%s: more than %u states", path, EM_MAX_STATES);
			break;
		}
		s = &st[n];
		memset(s, 0, sizeof(*s));
		ret = state_file(path, de->d_name, "frequency", &s->frequency, NULL, err);
		if (!ret)
			ret = state_file(path, de->d_name, "power", &s->power, NULL, err);
		if (!ret)
			ret = state_file(path, de->d_name, "cost", &s->cost, NULL, err);
		if (!ret)
			ret = state_file(path, de->d_name, "performance", &s->performance,
					 &s->has_performance, err);
		if (ret)
			break;
		n++;
	}
	closedir(dp);
	if (!ret && n == 0)
		ret = em_err(err, -EINVAL, "%s: no ps:* or cs:* state directories", path);
	if (ret) {
		free(st);
		return ret;
	}
	qsort(st, n, sizeof(*st), cmp_state);
	d->states = em_calloc(n, sizeof(*d->states));
	if (!d->states) {
		free(st);
		return em_err(err, -ENOMEM, "out of memory");
	}
	d->nr_states = n;
	for (unsigned int i = 0; i < n; i++) {
		d->states[i].frequency = st[i].frequency;
		d->states[i].power = st[i].power * scale;
		if (d->is_cpu && (d->flags & EM_PD_ARTIFICIAL))
			d->states[i].cost = st[i].cost;
	}
	if (d->is_cpu)
		d->capacity = st[n - 1].has_performance ? (unsigned int)st[n - 1].performance
							: EM_CAPACITY_SCALE;
	free(st);
	return 0;
}

int em_model_load_debugfs(struct em_model *m, const char *dir, struct em_error *err)
{
	DIR *dp;
	struct dirent *de;
	unsigned int cap = 0;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "%s", dir);
	dp = opendir(dir);
	if (!dp)
		return em_err(err, -errno, "%s: %s", dir, strerror(errno));
	while ((de = readdir(dp))) {
		char p[4096];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (m->nr_domains == cap) {
			struct em_model_domain *nd;

			cap = cap ? cap * 2 : 8;
			nd = em_realloc(m->domains, cap * sizeof(*nd));
			if (!nd) {
				ret = em_err(err, -ENOMEM, "out of memory");
				break;
			}
			m->domains = nd;
		}
		memset(&m->domains[m->nr_domains], 0, sizeof(m->domains[0]));
		m->nr_domains++;
		ret = read_domain(dir, de->d_name, &m->domains[m->nr_domains - 1], err);
		if (ret)
			break;
	}
	closedir(dp);
	if (!ret && m->nr_domains == 0)
		ret = em_err(err, -ENOENT, "%s: no performance domain directories", dir);
	if (!ret) {
		struct em_registry *scratch;

		bool all_ids = true;

		for (unsigned int i = 0; i < m->nr_domains; i++)
			all_ids = all_ids && m->domains[i].has_id;
		if (all_ids) {
			qsort(m->domains, m->nr_domains, sizeof(m->domains[0]), cmp_id);
		} else {
			for (unsigned int i = 0; i < m->nr_domains; i++)
				m->domains[i].has_id = false; /* a partial set of ids means nothing */
			qsort(m->domains, m->nr_domains, sizeof(m->domains[0]), cmp_domain);
		}
		scratch = em_registry_new();
		ret = scratch ? em_model_register(m, scratch, err)
			      : em_err(err, -ENOMEM, "out of memory");
		em_registry_free(scratch);
	}
	if (ret)
		em_model_release(m);
	return ret;
}
