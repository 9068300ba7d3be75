/*
 * Shared between the files of lib/em: the registry's private layout, the error
 * helper and the read-side primitives. Nothing here is part of the public API.
 */
#ifndef EMKIT_EM_INTERNAL_H
#define EMKIT_EM_INTERNAL_H

#include <pthread.h>

#include "emkit/em.h"

#define EM_MAX_OBSERVERS 16

struct em_pd {
	unsigned int id;
	unsigned long flags;
	bool is_cpu;
	unsigned int capacity;
	uint64_t seq; /* registration order */
	char name[EM_NAME_MAX];
	struct em_cpumask cpus;
	struct em_perf_table *table; /* RCU-published */
	struct em_pd *reclaim_next;
	unsigned int nr_cpu_list;
	unsigned short cpu_list[]; /* the CPUs, ascending: estimates walk this */
};

/*
 * An immutable snapshot of the registered domains, sorted by seq, with its
 * index by id (em_pd_get in O(1)): by_id[id] is the domain with that id,
 * NULL for a free id below id_end; both live in the set's one allocation.
 */
struct em_pd_set {
	struct em_pd_set *reclaim_next;
	struct em_cpumask all; /* every CPU of a CPU domain */
	unsigned int nr;
	unsigned int id_end;   /* one past the largest id */
	struct em_pd **by_id;  /* id_end entries, after pd[nr] */
	unsigned int name_mask; /* by_name has name_mask + 1 slots, at most half used */
	unsigned int *by_name; /* open addressing by emreg_name_hash: index in pd + 1 */
	struct em_pd *pd[];
};

/* FNV-1a of a domain name: the set's and a batch's name tables. */
static inline unsigned int emreg_name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* RCU publication and dereference (release / acquire, which TSan understands). */
#define em_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define em_deref(p)      __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

struct em_observer {
	const struct em_observer_ops *ops;
	void *ctx;
};

/* Which ids are taken: the lowest free one from the hint's word on. */
struct em_ids {
	uint64_t *used;
	unsigned int words;
	unsigned int hint; /* no free id in the words below this one */
};

struct em_registry {
	pthread_mutex_t lock; /* writers; error-checking, so re-entry is -EDEADLK */
	struct em_pd_set *set; /* RCU-published */
	uint64_t next_seq;
	/* Bumped (atomically, release) by every publication: a batch staged
	 * against one generation is refused at commit if it moved. */
	uint64_t gen;
	struct em_ids ids; /* writers only */
	unsigned int nr_observers;
	struct em_observer observers[EM_MAX_OBSERVERS];
	/* Retired objects waiting for a grace period. */
	struct em_perf_table *dead_tables;
	struct em_pd *dead_pds;
	struct em_pd_set *dead_sets;
	unsigned int nr_dead;
};

/*
 * Every allocation of lib/em goes through these, so that tests can make the n-th
 * one fail (fault injection, as SQLite's test harness does): em_fault_countdown = n
 * makes the n-th allocation from now return NULL, once. 0 (the default) disables it.
 * Tests reach the counter through em_test_fail_allocation() below.
 */
void *em_malloc(size_t size);
void *em_calloc(size_t n, size_t size);
void *em_realloc(void *p, size_t size);
/* Test hook: make the n-th allocation from now fail (0: none). Not in em.h. */
void em_test_fail_allocation(long n);
/* Test hook: allocations still to go before the injected failure (0: it happened). */
long em_test_allocation_countdown(void);

/* printf into err->msg if err is not NULL; returns code (a negative errno). */
int em_err(struct em_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix err->msg with a printf-formatted string. */
void em_err_prefix(struct em_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- the registry's writer side, shared with batch.c ---------------------------- */

int emreg_writer_lock(struct em_registry *reg, struct em_error *err);
void emreg_writer_unlock(struct em_registry *reg);
static inline void emreg_gen_bump(struct em_registry *reg)
{
	__atomic_add_fetch(&reg->gen, 1, __ATOMIC_RELEASE);
}
static inline uint64_t emreg_gen(const struct em_registry *reg)
{
	return __atomic_load_n(&reg->gen, __ATOMIC_ACQUIRE);
}
/* Put an object on the retire list (freed after a grace period). */
void emreg_retire_table(struct em_registry *reg, struct em_perf_table *t);
void emreg_retire_pd(struct em_registry *reg, struct em_pd *pd);
void emreg_retire_set(struct em_registry *reg, struct em_pd_set *s);
/* Wait for a grace period and free everything retired (writer lock held). */
void emreg_reclaim(struct em_registry *reg);
/* A new domain (id set) takes @desc's flags, capacity, CPUs and name. */
void emreg_pd_fill(struct em_pd *pd, const struct em_pd_desc *desc);
/* A set for @nr domains whose ids are below @id_cap; its index from its domains. */
struct em_pd_set *emreg_set_alloc(unsigned int nr, unsigned int id_cap);
void emreg_set_index(struct em_pd_set *set, unsigned int id_cap);
const struct em_pd *emreg_set_find_id(const struct em_pd_set *set, unsigned int id);
const struct em_pd *emreg_set_find_name(const struct em_pd_set *set, const char *name);
/* A table from validated states, with the kernel's arithmetic for @pd. */
struct em_perf_table *emreg_build_table(const struct em_pd *pd, const struct em_state_desc *st,
					unsigned int n);
/* The table em_adjust_cpu_capacity() would publish for @pd, whose table is @cur:
 * NULL with *ret 0 when the capacity is the top state's performance already,
 * NULL with *ret a negative errno (and @err) when it cannot. */
struct em_perf_table *emreg_capacity_table(const struct em_pd *pd,
					   const struct em_perf_table *cur, unsigned int capacity,
					   struct em_error *err, int *ret);
int emreg_ids_take(struct em_ids *ids, unsigned int *id);
bool emreg_ids_used(const struct em_ids *ids, unsigned int id);
int emreg_ids_take_fixed(struct em_ids *ids, unsigned int id);
void emreg_ids_put(struct em_ids *ids, unsigned int id);
int emreg_ids_copy(struct em_ids *dst, const struct em_ids *src);
/* Tell the observers: @what is EMREG_CREATED, _UPDATED or _DELETED. */
enum { EMREG_CREATED, EMREG_UPDATED, EMREG_DELETED };
void emreg_notify(struct em_registry *reg, int what, const struct em_pd *pd,
		  const struct em_perf_table *t, unsigned int id);

/*
 * The set a read section sees: the first one it loads from a registry, kept for
 * the rest of the section (per thread), so that every look-up and iteration of
 * one read section sees one snapshot — a batch's changes all, or none — however
 * many sets a writer publishes meanwhile (RCU keeps it alive until the section
 * ends). section counts the thread's outermost read sections.
 */
struct emreg_snap {
	const struct em_registry *reg;
	const struct em_pd_set *set;
	unsigned long section, loaded_in;
};
extern __thread struct emreg_snap emreg_snap __attribute__((tls_model("initial-exec")));

/* The current domain set of reg (under em_read_lock); NULL when empty. */
static inline const struct em_pd_set *em_read_set(const struct em_registry *reg)
{
	struct emreg_snap *s = &emreg_snap;

	if (s->reg != reg || s->loaded_in != s->section) {
		s->reg = reg;
		s->set = em_deref(((struct em_registry *)reg)->set);
		s->loaded_in = s->section;
	}
	return s->set;
}

/* True while the calling thread is inside em_read_lock(). */
bool em_read_held(void);

/* A private copy of the CPU domains, for estimates and placement outside the lock. */
struct em_view_pd {
	unsigned int id;
	unsigned long flags;
	unsigned long allowed_cap; /* performance of the highest allowed state */
	unsigned long capacity;    /* the top state's performance (arch_scale_cpu_capacity) */
	unsigned int first;        /* index in em_view.cpu of its first CPU */
	unsigned int nr_cpus;
	unsigned int *cpus;
	struct em_perf_table *table;
};

struct em_view {
	unsigned int nr_pds;
	struct em_view_pd *pds;
	unsigned int nr_cpus;      /* CPUs in all CPU domains */
	unsigned int *cpu;         /* CPU numbers, domain by domain */
	unsigned int *cpu_pd;      /* domain index of each of them */
	/* EAS's inputs for each view CPU, zero when taken: */
	unsigned long *load;       /* utilization without the task being placed */
	unsigned long *acap;       /* actual capacity (em_eas_view_acap()) */
};

int em_view_take(struct em_view *v, const struct em_registry *reg, struct em_error *err);
void em_view_release(struct em_view *v);

/*
 * EAS on a view (lib/em/eas.c), from its load[] and acap[].
 * compute_energy() for view domain p with the task of utilization task on view CPU
 * dst (-1: nowhere, task ignored).
 */
uint64_t em_eas_view_pd_energy(const struct em_view *v, unsigned int p, int dst,
			       unsigned long task);
/*
 * find_energy_efficient_cpu() on a view: returns the view CPU index, or -EBUSY,
 * -ENOSPC, -EAGAIN (as em_eas_select_cpu; prev is a view CPU index or -1), with the
 * chosen candidate's energy delta in *delta and, for -EAGAIN, prev in *chosen.
 */
int em_eas_view_select(const struct em_view *v, unsigned long task, int prev, int *chosen,
		       uint64_t *delta);
/* Fill acap[] (per view CPU) from an em_eas_input's actual capacities. */
void em_eas_view_acap(struct em_view *v, const struct em_eas_input *in);

#endif
