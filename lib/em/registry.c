/*
 * The registry of performance domains: validation, the kernel's arithmetic for
 * performance, cost and inefficiency, and publication under RCU.
 *
 * Readers see two RCU-published pointers: the registry's domain set (an immutable,
 * sorted array of domain pointers, replaced whole on register/unregister) and each
 * domain's table (replaced whole on em_table_replace and on a change of performance
 * limits). Writers hold the registry lock, build the new object, publish it with a
 * release store, and put the old one on a retire list; em_registry_synchronize() waits
 * for a liburcu grace period (membarrier flavour) and frees the list. We never use
 * call_rcu: its worker thread would free memory behind ThreadSanitizer's back, and a
 * batched synchronous grace period is as fast for our write rates.
 *
 * ThreadSanitizer does not see liburcu's grace periods (the library is not
 * instrumented), so in TSan builds every read_unlock releases, and every grace period
 * acquires, one token: exactly the ordering RCU guarantees, stated to the tool.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#include "internal.h"

#if defined(__SANITIZE_THREAD__)
#define EM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EM_TSAN 1
#endif
#endif

#ifdef EM_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char em_grace_token;
#endif

/* ---- errors -------------------------------------------------------------------- */

int em_err(struct em_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void em_err_prefix(struct em_error *err, const char *fmt, ...)
{
	char head[sizeof(err->msg)], tail[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(tail, err->msg, sizeof(tail));
	if (snprintf(err->msg, sizeof(err->msg), "%s%s", head, tail) >= (int)sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4); /* mark the cut */
}

/* ---- allocation (with fault injection for tests) ------------------------------ */

static long em_fault_countdown;

void em_test_fail_allocation(long n)
{
	__atomic_store_n(&em_fault_countdown, n, __ATOMIC_RELAXED);
}

long em_test_allocation_countdown(void)
{
	return __atomic_load_n(&em_fault_countdown, __ATOMIC_RELAXED);
}

static bool injected_failure(void)
{
	long n = __atomic_load_n(&em_fault_countdown, __ATOMIC_RELAXED);

	return n > 0 && __atomic_sub_fetch(&em_fault_countdown, 1, __ATOMIC_RELAXED) == 0;
}

void *em_malloc(size_t size)
{
	return injected_failure() ? NULL : malloc(size);
}

void *em_calloc(size_t n, size_t size)
{
	return injected_failure() ? NULL : calloc(n, size);
}

void *em_realloc(void *p, size_t size)
{
	return injected_failure() ? NULL : realloc(p, size);
}

/* ---- cpumasks ------------------------------------------------------------------ */

void em_cpumask_set(struct em_cpumask *m, unsigned int cpu)
{
	if (cpu < EM_MAX_CPUS)
		m->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

bool em_cpumask_test(const struct em_cpumask *m, unsigned int cpu)
{
	return cpu < EM_MAX_CPUS && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned int em_cpumask_weight(const struct em_cpumask *m)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < EM_MAX_CPUS / 64; i++)
		n += (unsigned int)__builtin_popcountll(m->bits[i]);
	return n;
}

unsigned int em_cpumask_next(const struct em_cpumask *m, unsigned int cpu)
{
	while (cpu < EM_MAX_CPUS) {
		uint64_t w = m->bits[cpu / 64] >> (cpu % 64);

		if (w)
			return cpu + (unsigned int)__builtin_ctzll(w);
		cpu = (cpu / 64 + 1) * 64;
	}
	return EM_MAX_CPUS;
}

static int parse_cpu(const char **p, unsigned int *cpu, const char *whole, struct em_error *err)
{
	char *end;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return em_err(err, -EINVAL, "CPU list '%s': expected a CPU number at '%s'",
			      whole, *p);
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= EM_MAX_CPUS)
		return em_err(err, -EINVAL, "CPU list '%s': CPU %.*s is not below %u", whole,
			      (int)(end - *p), *p, EM_MAX_CPUS);
	*cpu = (unsigned int)v;
	*p = end;
	return 0;
}

int em_cpumask_parse(struct em_cpumask *m, const char *s, struct em_error *err)
{
	const char *p = s;
	int ret;

	memset(m, 0, sizeof(*m));
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\n' || *p == '\0')
		return 0;
	for (;;) {
		unsigned int a, b;

		ret = parse_cpu(&p, &a, s, err);
		if (ret)
			return ret;
		b = a;
		if (*p == '-') {
			p++;
			ret = parse_cpu(&p, &b, s, err);
			if (ret)
				return ret;
			if (b < a)
				return em_err(err, -EINVAL, "CPU list '%s': range %u-%u is backwards",
					      s, a, b);
		}
		for (unsigned int c = a; c <= b; c++)
			em_cpumask_set(m, c);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\n' && p[1] == '\0')
			return 0;
		if (*p == '\0')
			return 0;
		return em_err(err, -EINVAL, "CPU list '%s': unexpected '%c'", s, *p);
	}
}

int em_cpumask_format(const struct em_cpumask *m, char *buf, size_t size)
{
	size_t len = 0;
	int total = 0;
	unsigned int c = em_cpumask_next(m, 0);

	if (size)
		buf[0] = '\0';
	while (c < EM_MAX_CPUS) {
		unsigned int e = c;
		int n;

		while (e + 1 < EM_MAX_CPUS && em_cpumask_test(m, e + 1))
			e++;
		if (e == c)
			n = snprintf(buf + len, len < size ? size - len : 0, "%s%u",
				     total ? "," : "", c);
		else
			n = snprintf(buf + len, len < size ? size - len : 0, "%s%u-%u",
				     total ? "," : "", c, e);
		total += n;
		len += (size_t)n;
		c = em_cpumask_next(m, e + 1);
	}
	return total;
}

/* ---- RCU ----------------------------------------------------------------------- */

static pthread_key_t em_thread_key;
static pthread_once_t em_thread_once = PTHREAD_ONCE_INIT;
static __thread bool em_thread_registered __attribute__((tls_model("initial-exec")));
static __thread unsigned int em_read_depth __attribute__((tls_model("initial-exec")));
__thread struct emreg_snap emreg_snap __attribute__((tls_model("initial-exec"))) = {
	.loaded_in = (unsigned long)-1,
};

static void em_thread_exit(void *unused)
{
	(void)unused;
	if (em_thread_registered) {
		urcu_memb_unregister_thread();
		em_thread_registered = false;
	}
}

static void em_thread_key_init(void)
{
	if (pthread_key_create(&em_thread_key, em_thread_exit))
		abort();
}

static void em_thread_register(void)
{
	pthread_once(&em_thread_once, em_thread_key_init);
	urcu_memb_register_thread();
	em_thread_registered = true;
	/* Any non-NULL value makes the destructor run at thread exit. */
	pthread_setspecific(em_thread_key, &em_thread_registered);
}

void em_read_lock(void)
{
	if (!em_thread_registered)
		em_thread_register();
	if (em_read_depth++ == 0)
		emreg_snap.section++; /* a new outermost section: a new snapshot */
	urcu_memb_read_lock();
}

void em_read_unlock(void)
{
#ifdef EM_TSAN
	__tsan_release(&em_grace_token);
#endif
	urcu_memb_read_unlock();
	em_read_depth--;
}

bool em_read_held(void)
{
	return em_read_depth > 0;
}


void emreg_retire_table(struct em_registry *reg, struct em_perf_table *t)
{
	t->reclaim_next_ = reg->dead_tables;
	reg->dead_tables = t;
	reg->nr_dead++;
}

void emreg_retire_pd(struct em_registry *reg, struct em_pd *pd)
{
	pd->reclaim_next = reg->dead_pds;
	reg->dead_pds = pd;
	reg->nr_dead++;
}

void emreg_retire_set(struct em_registry *reg, struct em_pd_set *s)
{
	if (!s)
		return;
	s->reclaim_next = reg->dead_sets;
	reg->dead_sets = s;
	reg->nr_dead++;
}

void emreg_reclaim(struct em_registry *reg)
{
	if (!reg->nr_dead)
		return;
	urcu_memb_synchronize_rcu();
#ifdef EM_TSAN
	__tsan_acquire(&em_grace_token);
#endif
	while (reg->dead_tables) {
		struct em_perf_table *t = reg->dead_tables;

		reg->dead_tables = t->reclaim_next_;
		free(t);
	}
	while (reg->dead_pds) {
		struct em_pd *pd = reg->dead_pds;

		reg->dead_pds = pd->reclaim_next;
		free(pd);
	}
	while (reg->dead_sets) {
		struct em_pd_set *s = reg->dead_sets;

		reg->dead_sets = s->reclaim_next;
		free(s);
	}
	reg->nr_dead = 0;
}

static void maybe_reclaim(struct em_registry *reg)
{
	if (reg->nr_dead >= EM_RECLAIM_BATCH)
		emreg_reclaim(reg);
}

/* Take the writer lock; -EDEADLK from inside a read section or an observer. */
int emreg_writer_lock(struct em_registry *reg, struct em_error *err)
{
	int ret;

	if (em_read_held())
		return em_err(err, -EDEADLK,
			      "registry change requested inside a read section (it would wait for itself)");
	ret = pthread_mutex_lock(&reg->lock);
	if (ret == EDEADLK)
		return em_err(err, -EDEADLK, "registry change requested from an observer");
	if (ret)
		return em_err(err, -ret, "registry lock: %s", strerror(ret));
	return 0;
}

void emreg_writer_unlock(struct em_registry *reg)
{
	pthread_mutex_unlock(&reg->lock);
}

int em_registry_synchronize(struct em_registry *reg)
{
	int ret = emreg_writer_lock(reg, NULL);

	if (ret)
		return ret;
	emreg_reclaim(reg);
	emreg_writer_unlock(reg);
	return 0;
}

/* ---- registry ------------------------------------------------------------------ */

struct em_registry *em_registry_new(void)
{
	struct em_registry *reg = em_calloc(1, sizeof(*reg));
	pthread_mutexattr_t a;

	if (!reg)
		return NULL;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&reg->lock, &a);
	pthread_mutexattr_destroy(&a);
	return reg;
}

void em_registry_free(struct em_registry *reg)
{
	struct em_pd_set *set;

	if (!reg)
		return;
	pthread_mutex_lock(&reg->lock);
	set = reg->set;
	if (set) {
		for (unsigned int i = 0; i < set->nr; i++) {
			emreg_retire_table(reg, set->pd[i]->table);
			emreg_retire_pd(reg, set->pd[i]);
		}
		reg->set = NULL;
		emreg_retire_set(reg, set);
	}
	if (!em_read_held())
		emreg_reclaim(reg);
	pthread_mutex_unlock(&reg->lock);
	pthread_mutex_destroy(&reg->lock);
	free(reg->ids.used);
	free(reg);
}

/*
 * A name the kernel could give a domain: its debugfs directory is the device's
 * dev_name(), which may be any text without '/' (the driver core turns '/' into '!'),
 * such as "cpu0" or "soc:gpu@ff9a0000". We also refuse control characters, "." and
 * "..", which no directory can be named.
 */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= EM_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return false;
	}
	return true;
}

#define PD_LABEL_FMT "domain '%s': "

int em_pd_desc_validate(const struct em_pd_desc *d, struct em_error *err, int *bad_state)
{
	const char *nm = d->name ? d->name : "(unnamed)";
	unsigned long kind;

	if (bad_state)
		*bad_state = -1;
	if (d->name && !name_ok(d->name))
		return em_err(err, -EINVAL,
			      "domain '%.*s': name must be 1..%u printable characters without '/' (not '.' or '..')",
			      (int)(EM_NAME_MAX + 8), d->name, EM_NAME_MAX - 1);
	if (d->flags & ~EM_PD_FLAGS_ALL)
		return em_err(err, -EINVAL, PD_LABEL_FMT "unknown flags 0x%lx", nm,
			      d->flags & ~EM_PD_FLAGS_ALL);
	kind = d->flags & (EM_PD_MICROWATTS | EM_PD_ARTIFICIAL);
	if (kind == 0)
		return em_err(err, -EINVAL,
			      PD_LABEL_FMT "flags must say microwatts or artificial", nm);
	if (kind == (EM_PD_MICROWATTS | EM_PD_ARTIFICIAL))
		return em_err(err, -EINVAL,
			      PD_LABEL_FMT "flags microwatts and artificial exclude each other", nm);
	if (d->fixed_id && d->id > EM_PD_ID_MAX)
		return em_err(err, -EINVAL, PD_LABEL_FMT "id %u is above %u", nm, d->id, EM_PD_ID_MAX);
	if (d->cpus) {
		if (em_cpumask_weight(d->cpus) == 0)
			return em_err(err, -EINVAL, PD_LABEL_FMT "a CPU domain needs CPUs", nm);
		if (d->capacity < 1 || d->capacity > EM_CAPACITY_SCALE)
			return em_err(err, -EINVAL, PD_LABEL_FMT "capacity %u is not in 1..%u", nm,
				      d->capacity, EM_CAPACITY_SCALE);
	} else if (d->capacity) {
		return em_err(err, -EINVAL, PD_LABEL_FMT "a device domain has no capacity", nm);
	}
	if (d->nr_states < 1 || d->nr_states > EM_MAX_STATES || !d->states)
		return em_err(err, -EINVAL, PD_LABEL_FMT "needs 1..%u states, has %u", nm,
			      EM_MAX_STATES, d->states ? d->nr_states : 0);

	unsigned long fmax = d->states[d->nr_states - 1].frequency;

	for (unsigned int i = 0; i < d->nr_states; i++) {
		const struct em_state_desc *s = &d->states[i];

		if (bad_state)
			*bad_state = (int)i;
		if (s->frequency == 0)
			return em_err(err, -EINVAL, PD_LABEL_FMT "state %u: frequency is 0", nm, i);
		if (i > 0 && s->frequency <= d->states[i - 1].frequency)
			return em_err(err, -EINVAL,
				      PD_LABEL_FMT "state %u: frequency %lu kHz is not above state %u's %lu kHz",
				      nm, i, s->frequency, i - 1, d->states[i - 1].frequency);
		if (s->power == 0 || s->power > EM_MAX_POWER)
			return em_err(err, -EINVAL,
				      PD_LABEL_FMT "state %u: power %lu is out of range (0, %lu] µW", nm,
				      i, s->power, EM_MAX_POWER);
		if (d->cpus && (d->flags & EM_PD_ARTIFICIAL)) {
			if (s->cost == 0 || s->cost > EM_MAX_POWER)
				return em_err(err, -EINVAL,
					      PD_LABEL_FMT "state %u: cost %lu is out of range (0, %lu] (artificial domains give costs)",
					      nm, i, s->cost, EM_MAX_POWER);
		} else if (s->cost) {
			return em_err(err, -EINVAL,
				      PD_LABEL_FMT "state %u: cost is given, but only artificial CPU domains take costs (others are computed)",
				      nm, i);
		}
		/* fmax == 0 is an error a later state reports (frequencies must rise). */
		if (d->cpus && !(d->flags & EM_PD_ARTIFICIAL) && fmax &&
		    (unsigned long long)d->capacity * s->frequency / fmax == 0)
			return em_err(err, -EINVAL,
				      PD_LABEL_FMT "state %u: performance %u * %lu / %lu rounds to 0, so cost cannot be computed",
				      nm, i, d->capacity, s->frequency, fmax);
	}
	if (bad_state)
		*bad_state = -1;
	return 0;
}

/* Build a table from validated states with the kernel's arithmetic. */
struct em_perf_table *emreg_build_table(const struct em_pd *pd, const struct em_state_desc *st,
					 unsigned int n)
{
	struct em_perf_table *t = em_calloc(1, sizeof(*t) + n * sizeof(t->states[0]));
	unsigned long fmax = st[n - 1].frequency;
	unsigned long prev_cost = (unsigned long)-1;

	if (!t)
		return NULL;
	t->nr_states = n;
	t->min_state = 0;
	t->max_state = n - 1;
	for (unsigned int i = 0; i < n; i++) {
		t->states[i].frequency = st[i].frequency;
		t->states[i].power = st[i].power;
		if (pd->is_cpu)
			t->states[i].performance =
				(unsigned long)((unsigned long long)pd->capacity * st[i].frequency / fmax);
	}
	if (!pd->is_cpu)
		return t; /* devices: no cost, no inefficiency (EAS does not use them) */
	for (unsigned int k = n; k-- > 0;) {
		struct em_perf_state *ps = &t->states[k];

		if (pd->flags & EM_PD_ARTIFICIAL)
			ps->cost = st[k].cost;
		else
			ps->cost = ps->power * 10 / ps->performance;
		if (ps->cost >= prev_cost)
			ps->flags = EM_PS_INEFFICIENT;
		else
			prev_cost = ps->cost;
	}
	return t;
}

/* A set for @nr domains whose ids are all below @id_cap, index included. */
struct em_pd_set *emreg_set_alloc(unsigned int nr, unsigned int id_cap)
{
	size_t slots = 2;
	struct em_pd_set *set;

	while (slots < 2 * (size_t)nr)
		slots *= 2;
	set = em_calloc(1, sizeof(*set) + ((size_t)nr + id_cap) * sizeof(set->pd[0]) +
				   slots * sizeof(*set->by_name));
	if (set) {
		set->by_id = set->pd + nr;
		set->by_name = (unsigned int *)(set->by_id + id_cap);
		set->name_mask = (unsigned int)slots - 1;
	}
	return set;
}

/* Fill @set's index from its domains (before it is published). */
void emreg_set_index(struct em_pd_set *set, unsigned int id_cap)
{
	assert(set->by_id == set->pd + set->nr);
	for (unsigned int i = 0; i < set->nr; i++) {
		struct em_pd *pd = set->pd[i];

		assert(pd->id < id_cap && !set->by_id[pd->id]); /* ids are unique */
		assert(i == 0 || set->pd[i - 1]->seq < pd->seq); /* sorted by seq */
		set->by_id[pd->id] = pd;
		if (pd->id >= set->id_end)
			set->id_end = pd->id + 1;
		assert(!emreg_set_find_name(set, pd->name)); /* names are unique */
		for (unsigned int h = emreg_name_hash(pd->name);; h++) {
			if (!set->by_name[h & set->name_mask]) {
				set->by_name[h & set->name_mask] = i + 1;
				break;
			}
		}
	}
}

const struct em_pd *emreg_set_find_id(const struct em_pd_set *set, unsigned int id)
{
	return set && id < set->id_end ? set->by_id[id] : NULL;
}

const struct em_pd *emreg_set_find_name(const struct em_pd_set *set, const char *name)
{
	for (unsigned int h = set ? emreg_name_hash(name) : 0; set; h++) {
		unsigned int i = set->by_name[h & set->name_mask];

		if (!i)
			return NULL;
		if (!strcmp(set->pd[i - 1]->name, name))
			return set->pd[i - 1];
	}
	return NULL;
}

/* Grow @ids to hold id @id. */
static int ids_grow(struct em_ids *ids, unsigned int id)
{
	unsigned int n = ids->words ? ids->words : 1;
	uint64_t *w;

	while (id / 64 >= n)
		n *= 2;
	w = em_realloc(ids->used, n * sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w + ids->words, 0, (n - ids->words) * sizeof(*w));
	ids->used = w;
	ids->words = n;
	return 0;
}

/* Take the lowest free id, as the kernel allocates them: 0 or -ENOMEM. The hint
 * (no free id below its word) makes n registrations O(n) rather than O(n^2 / 64). */
int emreg_ids_take(struct em_ids *ids, unsigned int *id)
{
	unsigned int w;

	for (w = ids->hint; w < ids->words; w++)
		if (~ids->used[w])
			break;
	if (w == ids->words && ids_grow(ids, w * 64))
		return -ENOMEM;
	ids->hint = w;
	*id = w * 64 + (unsigned int)__builtin_ctzll(~ids->used[w]);
	ids->used[w] |= UINT64_C(1) << (*id % 64);
	return 0;
}

/* True if id is taken. */
bool emreg_ids_used(const struct em_ids *ids, unsigned int id)
{
	return id / 64 < ids->words && (ids->used[id / 64] & (UINT64_C(1) << (id % 64)));
}

/* Take the id a provider asks for (a kernel's, read from debugfs): 0 or -ENOMEM. */
int emreg_ids_take_fixed(struct em_ids *ids, unsigned int id)
{
	if (id / 64 >= ids->words && ids_grow(ids, id))
		return -ENOMEM;
	ids->used[id / 64] |= UINT64_C(1) << (id % 64);
	return 0;
}

void emreg_ids_put(struct em_ids *ids, unsigned int id)
{
	assert(emreg_ids_used(ids, id));
	ids->used[id / 64] &= ~(UINT64_C(1) << (id % 64));
	if (id / 64 < ids->hint)
		ids->hint = id / 64;
}

/* A copy of @src in @dst (for a batch): 0 or -ENOMEM. */
int emreg_ids_copy(struct em_ids *dst, const struct em_ids *src)
{
	*dst = (struct em_ids){.hint = src->hint};
	if (!src->words)
		return 0;
	dst->used = em_malloc(src->words * sizeof(*dst->used));
	if (!dst->used)
		return -ENOMEM;
	memcpy(dst->used, src->used, src->words * sizeof(*dst->used));
	dst->words = src->words;
	return 0;
}

void emreg_notify(struct em_registry *reg, int what, const struct em_pd *pd,
		  const struct em_perf_table *t, unsigned int id)
{
	for (unsigned int i = 0; i < reg->nr_observers; i++) {
		const struct em_observer *o = &reg->observers[i];

		if (what == EMREG_CREATED && o->ops->created)
			o->ops->created(o->ctx, pd, t);
		else if (what == EMREG_UPDATED && o->ops->updated)
			o->ops->updated(o->ctx, pd, t);
		else if (what == EMREG_DELETED && o->ops->deleted)
			o->ops->deleted(o->ctx, id);
	}
}

/*
 * emreg_pd_fill - a new domain @pd (id set, CPU list allocated for @desc's
 * CPUs) takes @desc's flags, capacity, CPUs and name; a nameless domain is
 * "cpuN" after its first CPU, or "devN" after its id.
 */
void emreg_pd_fill(struct em_pd *pd, const struct em_pd_desc *desc)
{
	pd->flags = desc->flags;
	pd->is_cpu = desc->cpus != NULL;
	pd->capacity = desc->capacity;
	if (desc->cpus) {
		unsigned int c;

		pd->cpus = *desc->cpus;
		em_cpumask_for_each(c, desc->cpus)
			pd->cpu_list[pd->nr_cpu_list++] = (unsigned short)c;
	}
	if (desc->name)
		snprintf(pd->name, sizeof(pd->name), "%s", desc->name);
	else if (pd->is_cpu)
		snprintf(pd->name, sizeof(pd->name), "cpu%u", em_cpumask_next(&pd->cpus, 0));
	else
		snprintf(pd->name, sizeof(pd->name), "dev%u", pd->id);
}

int em_pd_register(struct em_registry *reg, const struct em_pd_desc *desc, unsigned int *id,
		   struct em_error *err)
{
	struct em_pd_set *old, *set;
	struct em_pd *pd;
	unsigned int id_cap;
	int ret;

	ret = em_pd_desc_validate(desc, err, NULL);
	if (ret)
		return ret;
	ret = emreg_writer_lock(reg, err);
	if (ret)
		return ret;
	old = reg->set;
	if (desc->name) {
		const struct em_pd *o = emreg_set_find_name(old, desc->name);

		if (o) {
			ret = em_err(err, -EEXIST, "domain '%s': the name is taken by domain %u",
				     desc->name, o->id);
			goto out;
		}
	}
	if (desc->cpus) {
		unsigned int c;

		em_cpumask_for_each(c, desc->cpus) {
			for (unsigned int i = 0; old && i < old->nr; i++)
				if (old->pd[i]->is_cpu && em_cpumask_test(&old->pd[i]->cpus, c)) {
					ret = em_err(err, -EEXIST,
						     "domain '%s': CPU %u already belongs to domain '%s' (id %u)",
						     desc->name ? desc->name : "(unnamed)", c,
						     old->pd[i]->name, old->pd[i]->id);
					goto out;
				}
		}
	}
	if (desc->fixed_id && emreg_ids_used(&reg->ids, desc->id)) {
		const struct em_pd *o = emreg_set_find_id(old, desc->id);

		ret = em_err(err, -EEXIST, "domain '%s': id %u is taken by domain '%s'",
			     desc->name ? desc->name : "(unnamed)", desc->id, o ? o->name : "?");
		goto out;
	}
	pd = em_calloc(1, sizeof(*pd) + (desc->cpus ? em_cpumask_weight(desc->cpus) : 0) *
					    sizeof(pd->cpu_list[0]));
	/* The lowest free id is at most the number of domains; a fixed one may be above. */
	id_cap = old ? (old->id_end > old->nr + 1 ? old->id_end : old->nr + 1) : 1;
	if (desc->fixed_id && desc->id + 1 > id_cap)
		id_cap = desc->id + 1;
	set = emreg_set_alloc(old ? old->nr + 1 : 1, id_cap);
	if (pd && desc->fixed_id)
		pd->id = desc->id;
	if (!pd || !set ||
	    (desc->fixed_id ? emreg_ids_take_fixed(&reg->ids, desc->id)
			    : emreg_ids_take(&reg->ids, &pd->id))) {
		free(pd);
		free(set);
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	emreg_pd_fill(pd, desc);
	if (!desc->name) {
		const struct em_pd *o = emreg_set_find_name(old, pd->name);

		if (o) {
			emreg_ids_put(&reg->ids, pd->id);
			free(pd);
			free(set);
			ret = em_err(err, -EEXIST, "domain '%s': the name is taken by domain %u",
				     o->name, o->id);
			goto out;
		}
	}
	pd->table = emreg_build_table(pd, desc->states, desc->nr_states);
	if (!pd->table) {
		emreg_ids_put(&reg->ids, pd->id);
		free(pd);
		free(set);
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	pd->seq = ++reg->next_seq; /* from 1: 0 means "before the first"; never reused */
	set->nr = old ? old->nr + 1 : 1;
	if (old)
		set->all = old->all;
	for (unsigned int i = 0; old && i < old->nr; i++)
		set->pd[i] = old->pd[i];
	set->pd[set->nr - 1] = pd;
	for (unsigned int w = 0; w < EM_MAX_CPUS / 64; w++)
		set->all.bits[w] |= pd->cpus.bits[w];
	emreg_set_index(set, id_cap);
	em_publish(reg->set, set);
	emreg_gen_bump(reg);
	emreg_retire_set(reg, old);
	if (id)
		*id = pd->id;
	emreg_notify(reg, EMREG_CREATED, pd, pd->table, pd->id);
	maybe_reclaim(reg);
out:
	emreg_writer_unlock(reg);
	return ret;
}

int em_pd_register_cpus(struct em_registry *reg, const char *name, const struct em_cpumask *cpus,
			unsigned int capacity, unsigned long flags,
			const struct em_state_desc *states, unsigned int nr_states,
			unsigned int *id, struct em_error *err)
{
	struct em_pd_desc d = {
		.name = name, .flags = flags, .cpus = cpus, .capacity = capacity,
		.nr_states = nr_states, .states = states,
	};

	if (!cpus)
		return em_err(err, -EINVAL, "domain '%s': a CPU domain needs CPUs",
			      name ? name : "(unnamed)");
	return em_pd_register(reg, &d, id, err);
}

int em_pd_register_device(struct em_registry *reg, const char *name, unsigned long flags,
			  const struct em_state_desc *states, unsigned int nr_states,
			  unsigned int *id, struct em_error *err)
{
	struct em_pd_desc d = {
		.name = name, .flags = flags, .nr_states = nr_states, .states = states,
	};

	return em_pd_register(reg, &d, id, err);
}

int em_pd_unregister(struct em_registry *reg, unsigned int id, struct em_error *err)
{
	struct em_pd_set *old, *set;
	struct em_pd *pd = NULL;
	int ret = emreg_writer_lock(reg, err);

	if (ret)
		return ret;
	old = reg->set;
	pd = (struct em_pd *)emreg_set_find_id(old, id);
	if (!pd) {
		ret = em_err(err, -ENOENT, "no performance domain with id %u", id);
		goto out;
	}
	if (pd->is_cpu) {
		ret = em_err(err, -EPERM, "domain '%s' (id %u): CPU domains cannot be unregistered",
			     pd->name, id);
		goto out;
	}
	set = emreg_set_alloc(old->nr - 1, old->id_end);
	if (!set) {
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < old->nr; i++)
		if (old->pd[i] != pd)
			set->pd[set->nr++] = old->pd[i];
	set->all = old->all; /* a device domain has no CPUs to take out */
	emreg_set_index(set, old->id_end);
	em_publish(reg->set, set);
	emreg_gen_bump(reg);
	emreg_ids_put(&reg->ids, id);
	emreg_retire_set(reg, old);
	emreg_retire_table(reg, pd->table);
	emreg_retire_pd(reg, pd);
	emreg_notify(reg, EMREG_DELETED, NULL, NULL, id);
	maybe_reclaim(reg);
out:
	emreg_writer_unlock(reg);
	return ret;
}

/* Publish t as pd's table, retire the old one, tell the observers if tell. */
static void install_table(struct em_registry *reg, struct em_pd *pd, struct em_perf_table *t,
			  bool tell)
{
	struct em_perf_table *old = pd->table;

	em_publish(pd->table, t);
	emreg_gen_bump(reg);
	emreg_retire_table(reg, old);
	if (tell)
		emreg_notify(reg, EMREG_UPDATED, pd, t, pd->id);
	maybe_reclaim(reg);
}

static struct em_pd *find_locked(struct em_registry *reg, unsigned int id)
{
	return (struct em_pd *)emreg_set_find_id(reg->set, id);
}

int em_table_replace(struct em_registry *reg, unsigned int id, const struct em_state_desc *states,
		     unsigned int nr_states, struct em_error *err)
{
	struct em_perf_table *t;
	struct em_pd *pd;
	int ret = emreg_writer_lock(reg, err);

	if (ret)
		return ret;
	pd = find_locked(reg, id);
	if (!pd) {
		ret = em_err(err, -ENOENT, "no performance domain with id %u", id);
		goto out;
	}
	if (nr_states != pd->table->nr_states) {
		ret = em_err(err, -EINVAL,
			     "domain '%s': a new table must have its %u states, not %u", pd->name,
			     pd->table->nr_states, nr_states);
		goto out;
	}
	struct em_pd_desc d = {
		.name = pd->name, .flags = pd->flags, .cpus = pd->is_cpu ? &pd->cpus : NULL,
		.capacity = pd->capacity, .nr_states = nr_states, .states = states,
	};
	ret = em_pd_desc_validate(&d, err, NULL);
	if (ret)
		goto out;
	t = emreg_build_table(pd, states, nr_states);
	if (!t) {
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	t->min_state = pd->table->min_state;
	t->max_state = pd->table->max_state;
	install_table(reg, pd, t, true);
out:
	emreg_writer_unlock(reg);
	return ret;
}

int em_pd_set_perf_limits(struct em_registry *reg, unsigned int id, unsigned long min_khz,
			  unsigned long max_khz, struct em_error *err)
{
	struct em_perf_table *t, *cur;
	struct em_pd *pd;
	int min_ps = -1, max_ps = -1;
	int ret = emreg_writer_lock(reg, err);

	if (ret)
		return ret;
	pd = find_locked(reg, id);
	if (!pd) {
		ret = em_err(err, -ENOENT, "no performance domain with id %u", id);
		goto out;
	}
	cur = pd->table;
	for (unsigned int i = 0; i < cur->nr_states; i++) {
		if (cur->states[i].frequency == min_khz)
			min_ps = (int)i;
		if (cur->states[i].frequency == max_khz)
			max_ps = (int)i;
	}
	if (min_ps < 0 || max_ps < 0) {
		ret = em_err(err, -EINVAL, "domain '%s': no state has frequency %lu kHz", pd->name,
			     min_ps < 0 ? min_khz : max_khz);
		goto out;
	}
	if (min_ps > max_ps) {
		ret = em_err(err, -EINVAL,
			     "domain '%s': minimum %lu kHz is above maximum %lu kHz", pd->name,
			     min_khz, max_khz);
		goto out;
	}
	size_t sz = sizeof(*cur) + cur->nr_states * sizeof(cur->states[0]);
	t = em_malloc(sz);
	if (!t) {
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(t, cur, sz);
	t->min_state = (unsigned int)min_ps;
	t->max_state = (unsigned int)max_ps;
	/* As in the kernel, limits are not an update: the states do not change. */
	install_table(reg, pd, t, false);
out:
	emreg_writer_unlock(reg);
	return ret;
}

/*
 * The kernel's em_adjust_cpu_capacity() (kernel/power/energy_model.c, 6.15+): a
 * duplicate of the table gets performance = capacity * freq / fmax for every state
 * (em_init_performance); em_recalc_and_update() recomputes costs unless the domain is
 * artificial and publishes it through em_dev_update_perf_domain(), which tells
 * netlink listeners "updated". em_compute_costs() only ever sets INEFFICIENT on the
 * duplicate, so a flag the old table had stays. Nothing happens when the top state's
 * performance already equals the capacity.
 */
struct em_perf_table *emreg_capacity_table(const struct em_pd *pd,
					   const struct em_perf_table *cur, unsigned int capacity,
					   struct em_error *err, int *ret)
{
	struct em_perf_table *t;
	unsigned long fmax, prev_cost = (unsigned long)-1;
	size_t sz;

	*ret = 0;
	if (capacity < 1 || capacity > EM_CAPACITY_SCALE) {
		*ret = em_err(err, -EINVAL, "domain '%s': capacity %u is not in 1..%u", pd->name,
			      capacity, EM_CAPACITY_SCALE);
		return NULL;
	}
	if (cur->states[cur->nr_states - 1].performance == capacity)
		return NULL;
	fmax = cur->states[cur->nr_states - 1].frequency;
	for (unsigned int i = 0; i < cur->nr_states; i++) {
		if ((unsigned long long)capacity * cur->states[i].frequency / fmax == 0) {
			/* The kernel would divide by zero computing this state's cost. */
			*ret = em_err(err, -EINVAL,
				      "domain '%s': state %u: performance %u * %lu / %lu rounds to 0, so cost cannot be computed",
				      pd->name, i, capacity, cur->states[i].frequency, fmax);
			return NULL;
		}
	}
	sz = sizeof(*cur) + cur->nr_states * sizeof(cur->states[0]);
	t = em_malloc(sz);
	if (!t) {
		*ret = em_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(t, cur, sz); /* limits and flags included, as em_table_dup() copies */
	for (unsigned int k = t->nr_states; k-- > 0;) {
		struct em_perf_state *ps = &t->states[k];

		ps->performance = (unsigned long)((unsigned long long)capacity * ps->frequency / fmax);
		if (pd->flags & EM_PD_ARTIFICIAL)
			continue;
		ps->cost = ps->power * 10 / ps->performance;
		if (ps->cost >= prev_cost)
			ps->flags |= EM_PS_INEFFICIENT;
		else
			prev_cost = ps->cost;
	}
	return t;
}

int em_adjust_cpu_capacity(struct em_registry *reg, unsigned int cpu, unsigned int capacity,
			   struct em_error *err)
{
	struct em_perf_table *t;
	struct em_pd *pd = NULL;
	int ret = emreg_writer_lock(reg, err);

	if (ret)
		return ret;
	for (unsigned int i = 0; reg->set && i < reg->set->nr; i++)
		if (reg->set->pd[i]->is_cpu && em_cpumask_test(&reg->set->pd[i]->cpus, cpu))
			pd = reg->set->pd[i];
	if (!pd) {
		/* em_dev_update_perf_domain() on a device without a domain: -EINVAL. */
		ret = em_err(err, -EINVAL, "CPU %u is in no performance domain", cpu);
		goto out;
	}
	t = emreg_capacity_table(pd, pd->table, capacity, err, &ret);
	if (t) {
		__atomic_store_n(&pd->capacity, capacity, __ATOMIC_RELAXED);
		install_table(reg, pd, t, true);
	}
out:
	emreg_writer_unlock(reg);
	return ret;
}

int em_observer_add(struct em_registry *reg, const struct em_observer_ops *ops, void *ctx)
{
	int ret = emreg_writer_lock(reg, NULL);

	if (ret)
		return ret;
	if (reg->nr_observers == EM_MAX_OBSERVERS) {
		ret = -ENOSPC;
	} else {
		reg->observers[reg->nr_observers].ops = ops;
		reg->observers[reg->nr_observers].ctx = ctx;
		reg->nr_observers++;
	}
	emreg_writer_unlock(reg);
	return ret;
}

int em_observer_remove(struct em_registry *reg, const struct em_observer_ops *ops, void *ctx)
{
	int ret = emreg_writer_lock(reg, NULL);

	if (ret)
		return ret;
	ret = -ENOENT;
	for (unsigned int i = 0; i < reg->nr_observers; i++) {
		if (reg->observers[i].ops == ops && reg->observers[i].ctx == ctx) {
			memmove(&reg->observers[i], &reg->observers[i + 1],
				(reg->nr_observers - i - 1) * sizeof(reg->observers[0]));
			reg->nr_observers--;
			ret = 0;
			break;
		}
	}
	emreg_writer_unlock(reg);
	return ret;
}

/* ---- readers ------------------------------------------------------------------- */


const struct em_pd *em_pd_get(const struct em_registry *reg, unsigned int id)
{
	return emreg_set_find_id(em_read_set(reg), id);
}

unsigned int em_pd_id_end(const struct em_registry *reg)
{
	const struct em_pd_set *set = em_read_set(reg);

	return set ? set->id_end : 0;
}

const struct em_pd *em_pd_of_cpu(const struct em_registry *reg, unsigned int cpu)
{
	const struct em_pd_set *set = em_read_set(reg);

	for (unsigned int i = 0; set && i < set->nr; i++)
		if (set->pd[i]->is_cpu && em_cpumask_test(&set->pd[i]->cpus, cpu))
			return set->pd[i];
	return NULL;
}

const struct em_pd *em_pd_by_name(const struct em_registry *reg, const char *name)
{
	return emreg_set_find_name(em_read_set(reg), name);
}

const struct em_pd *em_pd_next_after(const struct em_registry *reg, uint64_t seq)
{
	const struct em_pd_set *set = em_read_set(reg);
	unsigned int lo = 0, hi = set ? set->nr : 0;

	/* The set is sorted by registration sequence. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (set->pd[mid]->seq > seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	return set && lo < set->nr ? set->pd[lo] : NULL;
}

const struct em_pd *em_pd_next(const struct em_registry *reg, const struct em_pd *prev)
{
	return em_pd_next_after(reg, prev ? prev->seq : 0);
}

uint64_t em_pd_seq(const struct em_pd *pd)
{
	return pd->seq;
}

unsigned int em_pd_count(const struct em_registry *reg)
{
	const struct em_pd_set *set = em_read_set(reg);

	return set ? set->nr : 0;
}

unsigned int em_pd_id(const struct em_pd *pd)
{
	return pd->id;
}

const char *em_pd_name(const struct em_pd *pd)
{
	return pd->name;
}

unsigned long em_pd_flags(const struct em_pd *pd)
{
	return pd->flags;
}

bool em_pd_is_cpu(const struct em_pd *pd)
{
	return pd->is_cpu;
}

const struct em_cpumask *em_pd_cpus(const struct em_pd *pd)
{
	return pd->is_cpu ? &pd->cpus : NULL;
}

unsigned int em_pd_capacity(const struct em_pd *pd)
{
	/* em_adjust_cpu_capacity() changes it under readers. */
	return __atomic_load_n(&pd->capacity, __ATOMIC_RELAXED);
}

const struct em_perf_table *em_pd_table(const struct em_pd *pd)
{
	return em_deref(((struct em_pd *)pd)->table);
}
