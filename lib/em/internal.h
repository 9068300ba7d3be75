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
	struct em_pd *pd[];
};

/* RCU publication and dereference (release / acquire, which TSan understands). */
#define em_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define em_deref(p)      __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

struct em_observer {
	const struct em_observer_ops *ops;
	void *ctx;
};

struct em_registry {
	pthread_mutex_t lock; /* writers; error-checking, so re-entry is -EDEADLK */
	struct em_pd_set *set; /* RCU-published */
	uint64_t next_seq;
	/* Which ids are taken (writers only): the lowest free one in O(ids / 64). */
	uint64_t *ids_used;
	unsigned int ids_words;
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

/* The current domain set of reg (under em_read_lock); NULL when empty. */
static inline const struct em_pd_set *em_read_set(const struct em_registry *reg)
{
	return em_deref(((struct em_registry *)reg)->set);
}

/* True while the calling thread is inside em_read_lock(). */
bool em_read_held(void);

/* A private copy of the CPU domains, for estimates and placement outside the lock. */
struct em_view_pd {
	unsigned int id;
	unsigned long flags;
	unsigned long allowed_cap; /* performance of the highest allowed state */
	unsigned long capacity;    /* the top state's performance (arch_scale_cpu_capacity) */
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
};

int em_view_take(struct em_view *v, const struct em_registry *reg, struct em_error *err);
void em_view_release(struct em_view *v);
/* Index in v->cpu of each domain's first CPU (CPUs are stored domain by domain). */
unsigned int *em_view_first_cpu(const struct em_view *v);

/*
 * EAS on a view (lib/em/eas.c). load[] is each view CPU's utilization without the
 * task, acap[] its actual capacity, first[] from em_view_first_cpu().
 * compute_energy() for view domain p with the task of utilization task on view CPU
 * dst (-1: nowhere, task ignored).
 */
uint64_t em_eas_view_pd_energy(const struct em_view *v, unsigned int p, const unsigned int *first,
			       const unsigned long *load, const unsigned long *acap, int dst,
			       unsigned long task);
/*
 * find_energy_efficient_cpu() on a view: returns the view CPU index, or -EBUSY,
 * -ENOSPC, -EAGAIN (as em_eas_select_cpu; prev is a view CPU index or -1), with the
 * chosen candidate's energy delta in *delta and, for -EAGAIN, prev in *chosen.
 */
int em_eas_view_select(const struct em_view *v, const unsigned int *first,
		       const unsigned long *load, const unsigned long *acap, unsigned long task,
		       int prev, int *chosen, uint64_t *delta);
/* Fill acap[] (per view CPU) from an em_eas_input's actual capacities. */
void em_eas_view_acap(const struct em_view *v, const struct em_eas_input *in, unsigned long *acap);

#endif
