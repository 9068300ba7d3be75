/* SPDX-License-Identifier: MIT */
/*
 * emkit/em.h — the Energy Model, in user space
 * ============================================
 *
 * The Linux Energy Model (EM) says what each performance level of a CPU cluster or a
 * device costs in power, and the scheduler's Energy Aware Scheduling (EAS) uses it to
 * put tasks where they cost least. This module is that model as a library, with the
 * kernel's arithmetic: a registry of performance domains, their tables of performance
 * states, table replacement and capacity changes at run time under many concurrent
 * readers, the kernel's per-domain energy (em_cpu_energy), the scheduler's EAS
 * estimate and wake-up placement as Linux 6.14 computes them, the minimum-power CPU
 * set for every performance level (the "frontier" sched_ext schedulers build), and
 * model sources (the embedded RK3399 model, model files in YAML or JSON, the running
 * kernel's debugfs). It knows nothing of netlink; emd serves it over
 * dev-energymodel, emctl prints it.
 *
 * Terms
 * -----
 * performance domain (PD)  CPUs that share a clock (a cpumask), or one device. Each
 *                          has an id (the lowest free one, from 0, as the kernel's
 *                          ida; ids of deleted domains are reused; a provider may
 *                          ask for a given one, as the debugfs loader does with the
 *                          kernel's), a unique name (any text a kernel device name
 *                          can be: printable, no '/'), and flags:
 *                            EM_PD_MICROWATTS (1)          power is in µW
 *                            EM_PD_SKIP_INEFFICIENCIES (2) estimates skip
 *                                                          inefficient states
 *                            EM_PD_ARTIFICIAL (4)          power values are made up;
 *                                                          costs come from the provider
 *                          Exactly one of MICROWATTS and ARTIFICIAL is set.
 * performance state        frequency (kHz), power (µW, 0 < power <= 64,000,000),
 *                          and what the library derives from them:
 *                            performance = capacity * frequency / fmax   (CPU PDs; 0
 *                                          for devices); capacity is the CPUs' capacity
 *                                          at fmax on the 0..1024 scale
 *                            cost        = power * 10 / performance      (CPU PDs not
 *                                          ARTIFICIAL; given by the provider for
 *                                          ARTIFICIAL CPU PDs; 0 for devices)
 *                            flags       = EM_PS_INEFFICIENT (1) when a faster state of
 *                                          the same PD costs no more: walking from the
 *                                          top state down and keeping the lowest cost
 *                                          seen, a state whose cost is >= that lowest
 *                                          cost is inefficient (CPU PDs only).
 *                          A table's frequencies strictly increase.
 * performance limits       the lowest and highest state an estimate may use (the
 *                          kernel's min/max_perf_state), set by exact frequency.
 *
 * Example
 * -------
 *   struct em_error err;
 *   struct em_registry *reg = em_registry_new();
 *   struct em_cpumask little = {0};
 *   for (int c = 0; c < 4; c++)
 *           em_cpumask_set(&little, c);
 *   const struct em_state_desc st[] = {{408000, 27769, 0}, {1416000, 179212, 0}};
 *   unsigned int id;
 *   if (em_pd_register_cpus(reg, "little", &little, 381, EM_PD_MICROWATTS,
 *                           st, 2, &id, &err) < 0)
 *           fprintf(stderr, "%s\n", err.msg);
 *
 *   em_read_lock();                       // readers: never block
 *   const struct em_pd *pd = em_pd_of_cpu(reg, 2);
 *   const struct em_perf_table *t = em_pd_table(pd);
 *   for (unsigned int i = 0; i < t->nr_states; i++)
 *           printf("%lu kHz cost %lu\n", t->states[i].frequency, t->states[i].cost);
 *   em_read_unlock();                     // pd and t are not to be used after this
 *
 * Readers and writers
 * -------------------
 * Reads (lookups, iteration, em_pd_table, estimates) run under em_read_lock(), which
 * never blocks and nests. A pointer obtained under it stays valid, and its contents
 * unchanged, until the matching em_read_unlock(). Writers (register, unregister,
 * em_table_replace, em_pd_set_perf_limits, em_adjust_cpu_capacity) are serialized by
 * the registry; they build a new object and publish it with one atomic store, so a
 * reader sees the whole old table or the whole new one, never a mix. Old objects are
 * freed only after an RCU grace period (liburcu, membarrier flavour): writers batch
 * them and wait for readers in em_registry_synchronize(), which they call every
 * EM_RECLAIM_BATCH retirements. A writer must not be called from inside a read
 * section (it would wait for itself: -EDEADLK) nor from an observer (-EDEADLK). Any
 * thread may read; it is registered with liburcu on its first em_read_lock() and
 * unregistered when it exits.
 * To continue an iteration in a later read section (a netlink dump that fills several
 * buffers), keep em_pd_seq() of the last domain, not the pointer, and go on with
 * em_pd_next_after(): nothing is repeated or lost, whatever changed in between.
 *
 * Observers
 * ---------
 * em_observer_add() registers callbacks for created / updated / deleted domains
 * (emd turns them into dev-energymodel events). They run on the writer's thread,
 * after the change is visible, in the order of the changes, with the registry's
 * writer lock held; the pd and table they get stay valid for the call. "updated"
 * means a new table (em_table_replace, em_adjust_cpu_capacity); a change of
 * performance limits is not reported, as in the kernel, since no state changes.
 *
 * Energy
 * ------
 * Two levels, each named for what it is (docs/em.md gives the kernel function behind
 * every rule):
 * - raw em_cpu_energy (include/linux/energy_model.h): em_perf_table_energy() takes
 *   max_util and sum_util as given, clamps max_util to the allowed capacity, takes
 *   the first state within the limits whose performance >= max_util (skipping
 *   inefficient ones if the PD has SKIP_INEFFICIENCIES; the highest allowed state if
 *   none fits); the energy is cost * sum_util, 0 when sum_util is 0.
 *   em_estimate_pd() is that for one domain, em_estimate_energy_raw() its sum over
 *   CPU domains for per-CPU utilizations (no headroom, per-CPU clamp).
 * - EAS (kernel/sched/fair.c and cpufreq_schedutil.c of Linux 6.14): what
 *   find_energy_efficient_cpu() computes around em_cpu_energy. Per domain, the
 *   busiest CPU's utilization gets schedutil's 25 % headroom
 *   (sugov_effective_cpu_perf) capped at the CPU's capacity, then is clamped to the
 *   actual capacity (eenv_pd_max_util); the busy time is the sum of the CPUs'
 *   utilizations clamped to the domain's summed actual capacity
 *   (eenv_pd_busy_time); a task fits a CPU only if util * 1280 < capacity * 1024
 *   (fits_capacity). em_estimate_energy() / em_eas_estimate() give that estimate,
 *   em_eas_select_cpu() the CPU find_energy_efficient_cpu() picks for a waking task,
 *   em_place_greedy() places tasks one wake-up at a time with it and
 *   em_place_optimal() searches every placement under the same fit rule and estimate.
 * Units: the ×10 of the cost is kept, so the number is about 10 × power[µW] ×
 * sum_util / performance of the chosen state — an energy rate for comparing
 * placements, not joules.
 *
 * Frontier
 * --------
 * em_frontier_compute() answers the question sched_ext schedulers ask at start-up
 * (scx_lavd's performance-vs-CPU order, built by scx_utils' EnergyModelOptimizer):
 * for every performance level the CPUs can reach, which CPUs to run, and at which
 * state each domain, for the least total power. A level's performance is the sum of
 * the performance of the state each chosen CPU runs at, its power the sum of those
 * states' power. It is exact (a bounded knapsack over domains, solved by dynamic
 * programming over performance), where EnergyModelOptimizer enumerates subsets.
 *
 * Errors
 * ------
 * Functions that can fail return 0 (or a count) or a negative errno, and, when given
 * a struct em_error, write a message there that names what was wrong and where
 * ("domain 'big': state 2: frequency 816000 kHz is not above state 1's 816000 kHz").
 */
#ifndef EMKIT_EM_H
#define EMKIT_EM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of a performance domain (the values of dev-energymodel's perf-domain-flags). */
#define EM_PD_MICROWATTS          1UL
#define EM_PD_SKIP_INEFFICIENCIES 2UL
#define EM_PD_ARTIFICIAL          4UL
#define EM_PD_FLAGS_ALL           7UL
/* Flags of a performance state. */
#define EM_PS_INEFFICIENT 1UL

#define EM_MAX_POWER      64000000UL /* µW: 64 W, the kernel's bound */
#define EM_CAPACITY_SCALE 1024U      /* capacity of the biggest CPU at its top state */
#define EM_MAX_CPUS       1024U
#define EM_MAX_STATES     256U
#define EM_NAME_MAX       64U        /* including the terminating NUL */
#define EM_RECLAIM_BATCH  64U
#define EM_PD_ID_MAX      65535U     /* highest id a provider may ask for */

/* An error message, filled in by functions that fail. */
struct em_error {
	char msg[512];
};

/* A set of CPU numbers below EM_MAX_CPUS. */
struct em_cpumask {
	uint64_t bits[EM_MAX_CPUS / 64];
};

/* One performance state as a provider gives it. cost: only for ARTIFICIAL CPU PDs. */
struct em_state_desc {
	unsigned long frequency; /* kHz */
	unsigned long power;     /* µW (or abstract units for ARTIFICIAL) */
	unsigned long cost;      /* 0 unless ARTIFICIAL */
};

/* One performance state as the model holds it (read-only for readers). */
struct em_perf_state {
	unsigned long performance;
	unsigned long frequency;
	unsigned long power;
	unsigned long cost;
	unsigned long flags; /* EM_PS_* */
};

/*
 * A table of performance states, immutable once published. min_state and max_state
 * are the performance limits (indexes into states[], min_state <= max_state).
 */
struct em_perf_table {
	struct em_perf_table *reclaim_next_; /* private to the library */
	unsigned int nr_states;
	unsigned int min_state;
	unsigned int max_state;
	struct em_perf_state states[];
};

/* A performance domain; read through the accessors below, under em_read_lock(). */
struct em_pd;
/* The set of domains and the writers' lock. */
struct em_registry;

/* What a domain is made of, for em_pd_register(). cpus == NULL: a device domain. */
struct em_pd_desc {
	const char *name;              /* unique; NULL: "cpuN" (first CPU) or "devN" (id) */
	unsigned long flags;           /* EM_PD_* */
	const struct em_cpumask *cpus; /* NULL for a device */
	unsigned int capacity;         /* CPU PDs: 1..1024; devices: 0 */
	unsigned int nr_states;        /* 1..EM_MAX_STATES */
	const struct em_state_desc *states;
	bool fixed_id;                 /* register with id (0..EM_PD_ID_MAX), not the */
	unsigned int id;               /* lowest free one (-EEXIST if taken)           */
};

/* ---- cpumask helpers ----------------------------------------------------------- */

/* Add cpu to m (ignored if cpu >= EM_MAX_CPUS). */
void em_cpumask_set(struct em_cpumask *m, unsigned int cpu);
/* True if cpu is in m. */
bool em_cpumask_test(const struct em_cpumask *m, unsigned int cpu);
/* Number of CPUs in m. */
unsigned int em_cpumask_weight(const struct em_cpumask *m);
/* Lowest CPU in m at or after cpu, or EM_MAX_CPUS if none. */
unsigned int em_cpumask_next(const struct em_cpumask *m, unsigned int cpu);
/*
 * Parse a CPU list such as "0-3,5" (the kernel's %*pbl format) into m.
 * Returns 0, or -EINVAL with a message in err.
 */
int em_cpumask_parse(struct em_cpumask *m, const char *s, struct em_error *err);
/* Print m as a CPU list ("0-3,5") into buf; returns what snprintf returns. */
int em_cpumask_format(const struct em_cpumask *m, char *buf, size_t size);

#define em_cpumask_for_each(cpu, m) \
	for ((cpu) = em_cpumask_next((m), 0); (cpu) < EM_MAX_CPUS; \
	     (cpu) = em_cpumask_next((m), (cpu) + 1))

/* ---- the registry (writers) ---------------------------------------------------- */

/* A new, empty registry; NULL with errno ENOMEM. */
struct em_registry *em_registry_new(void);
/* Free reg, its domains and tables; no reader may still use them. NULL is a no-op. */
void em_registry_free(struct em_registry *reg);

/*
 * Check desc as em_pd_register() would, against an empty registry (no uniqueness
 * checks). On failure, *bad_state (if not NULL) is the index of the offending state,
 * or -1 if the problem is the domain's. Returns 0 or -EINVAL with err.
 */
int em_pd_desc_validate(const struct em_pd_desc *desc, struct em_error *err, int *bad_state);

/*
 * Register a performance domain: validate desc, compute performance, cost and
 * inefficiencies, give it the lowest free id (stored in *id if id is not NULL), publish
 * it and tell the observers. Returns 0, or a negative errno with err filled; the
 * errnos are the kernel's (em_dev_register_perf_domain, em_create_perf_table,
 * em_compute_costs in kernel/power/energy_model.c):
 * -EINVAL bad flags, capacity, name, frequency, power or cost (power or cost 0 or
 * above EM_MAX_POWER), -EEXIST name or requested id taken, or a CPU already in
 * another domain ("EM: exists for CPU"), -ENOMEM, -EDEADLK (called under
 * em_read_lock or from an observer; emkit's own).
 */
int em_pd_register(struct em_registry *reg, const struct em_pd_desc *desc, unsigned int *id,
		   struct em_error *err);
/* em_pd_register() for a CPU domain. */
int em_pd_register_cpus(struct em_registry *reg, const char *name, const struct em_cpumask *cpus,
			unsigned int capacity, unsigned long flags,
			const struct em_state_desc *states, unsigned int nr_states,
			unsigned int *id, struct em_error *err);
/* em_pd_register() for a device domain. */
int em_pd_register_device(struct em_registry *reg, const char *name, unsigned long flags,
			  const struct em_state_desc *states, unsigned int nr_states,
			  unsigned int *id, struct em_error *err);
/*
 * Remove the device domain id (CPU domains stay, as in the kernel). Its id becomes
 * free. Returns 0, -ENOENT (no such id), -EPERM (a CPU domain), -EDEADLK.
 */
int em_pd_unregister(struct em_registry *reg, unsigned int id, struct em_error *err);
/*
 * Replace the table of domain id with one built from states (same number of states;
 * the performance limits are kept). Readers see the old or the new table, whole.
 * Returns 0, -ENOENT (no domain has that id; the kernel looks domains up by device,
 * so this one is emkit's), -EINVAL (as em_pd_register), -ENOMEM, -EDEADLK.
 */
int em_table_replace(struct em_registry *reg, unsigned int id, const struct em_state_desc *states,
		     unsigned int nr_states, struct em_error *err);
/*
 * Limit estimates of domain id to the states whose frequencies are min_khz..max_khz;
 * both must be frequencies of the table (as in the kernel). Publishes a new table.
 * Returns 0, -ENOENT, -EINVAL (no such frequency, or min above max), -EDEADLK.
 */
int em_pd_set_perf_limits(struct em_registry *reg, unsigned int id, unsigned long min_khz,
			  unsigned long max_khz, struct em_error *err);
/*
 * Change the capacity of CPU cpu's domain, as the kernel's em_adjust_cpu_capacity()
 * does when arch_scale_cpu_capacity() changes after boot (em_adjust_new_capacity,
 * em_recalc_and_update): performance becomes capacity * freq / fmax for every state,
 * costs and inefficiencies are recomputed (artificial domains keep their costs; a
 * state the old table marked inefficient stays marked, since the kernel only ever sets
 * the flag on the copy it recomputes), limits are kept, the new table is published
 * and observers get "updated" (emd sends perf-domain-updated). Nothing happens, and
 * nobody is told, if the capacity is the top state's performance already. Returns 0,
 * -EINVAL (CPU in no domain, as em_dev_update_perf_domain() answers for a device
 * without one; capacity not in 1..1024; a state's performance would round to 0),
 * -ENOMEM, -EDEADLK.
 */
int em_adjust_cpu_capacity(struct em_registry *reg, unsigned int cpu, unsigned int capacity,
			   struct em_error *err);
/*
 * Wait until no reader can hold an object retired so far, then free those objects.
 * Writers call it every EM_RECLAIM_BATCH retirements; call it to free at once.
 * Must not be called under em_read_lock (returns -EDEADLK). Returns 0.
 */
int em_registry_synchronize(struct em_registry *reg);

/* ---- batches: many changes, one publication ------------------------------------ */

/*
 * A batch stages many changes of one registry — registrations, unregistrations, table
 * replacements, capacity changes — and publishes them together: one atomic store of
 * a new domain set, so that a reader sees the registry as it was before the batch or
 * as it is after it, whole (each changed domain is a new object with its new table).
 * The observers are then told of each change in the order it was staged, as if the
 * calls had been made one by one. n changes to a registry of N domains cost O(N + n);
 * the calls one by one cost O(N) each (each publishes a whole new set).
 *
 * Staging takes no lock a reader or the writer of the registry waits for: a thread
 * may build a large batch (every new table computed, every allocation made) while
 * other threads read the registry, then hand it to the thread that commits it. Each
 * staging call checks its change as the one-by-one call would at that point — the
 * same errnos and messages, against the registry as the changes staged before it
 * leave it — and ids are given as those calls would give them; a call that fails
 * stages nothing and the batch stays usable. A batch is staged against the registry
 * as it is at em_batch_new(): once any other writer changes the registry, staging
 * calls and em_batch_commit() fail with -ESTALE and the batch can only be freed. A
 * batch is used by one thread at a time.
 *
 * Example (a reload that swaps two tables and adds a device):
 *   struct em_batch *b = em_batch_new(reg);
 *   if (!b || em_batch_table_replace(b, 0, st0, 6, &err) ||
 *       em_batch_table_replace(b, 1, st1, 8, &err) ||
 *       em_batch_register(b, &gpu_desc, &gpu_id, &err) || em_batch_commit(b, &err))
 *           fprintf(stderr, "%s\n", err.msg);   // nothing changed
 *   em_batch_free(b);
 */
struct em_batch;

/*
 * A new, empty batch for reg. Takes the writer lock for a moment (O(N) to index the
 * domains), so it must not be called inside a read section or from an observer.
 * NULL with errno ENOMEM or EDEADLK.
 */
struct em_batch *em_batch_new(struct em_registry *reg);
/* Stage em_pd_register(): same checks, errnos and id (in *id if not NULL). */
int em_batch_register(struct em_batch *b, const struct em_pd_desc *desc, unsigned int *id,
		      struct em_error *err);
/* Stage em_pd_unregister(): -ENOENT, -EPERM as it. */
int em_batch_unregister(struct em_batch *b, unsigned int id, struct em_error *err);
/* Stage em_table_replace(): -ENOENT, -EINVAL as it; performance limits kept. */
int em_batch_table_replace(struct em_batch *b, unsigned int id,
			   const struct em_state_desc *states, unsigned int nr_states,
			   struct em_error *err);
/*
 * Stage em_adjust_cpu_capacity(): -EINVAL as it; 0 and nothing staged when the
 * capacity is the top state's performance already.
 */
int em_batch_adjust_cpu_capacity(struct em_batch *b, unsigned int cpu, unsigned int capacity,
				 struct em_error *err);
/* Number of changes staged (events the commit will give the observers). */
unsigned int em_batch_changes(const struct em_batch *b);
/*
 * Publish every staged change at once, tell the observers (one call per change, in
 * order, on this thread), then wait for a grace period and free what the batch
 * replaced (as em_registry_synchronize()). Returns 0, -ESTALE (the registry changed
 * since em_batch_new: nothing published), -ENOMEM (nothing published; the commit
 * may be tried again), -EDEADLK (inside a read section or an observer), -EINVAL
 * (committed already). A committed batch holds nothing; free it.
 */
int em_batch_commit(struct em_batch *b, struct em_error *err);
/* Free a batch; what it staged and did not publish goes with it. NULL is a no-op. */
void em_batch_free(struct em_batch *b);

/* ---- observers ----------------------------------------------------------------- */

/* Callbacks for changes; any may be NULL. See "Observers" above. */
struct em_observer_ops {
	void (*created)(void *ctx, const struct em_pd *pd, const struct em_perf_table *table);
	void (*updated)(void *ctx, const struct em_pd *pd, const struct em_perf_table *table);
	void (*deleted)(void *ctx, unsigned int id);
};

/* Add an observer (at most 16). Returns 0, -ENOSPC, -EDEADLK. */
int em_observer_add(struct em_registry *reg, const struct em_observer_ops *ops, void *ctx);
/* Remove the observer added with ops and ctx. Returns 0 or -ENOENT. */
int em_observer_remove(struct em_registry *reg, const struct em_observer_ops *ops, void *ctx);

/* ---- readers ------------------------------------------------------------------- */

/* Enter a read section (never blocks, nests). */
void em_read_lock(void);
/* Leave it. */
void em_read_unlock(void);

/* Domain with this id, or NULL; O(1), from the set's index by id. Under em_read_lock. */
const struct em_pd *em_pd_get(const struct em_registry *reg, unsigned int id);
/* One past the largest id in use (0: none): em_pd_get() over 0..end-1 goes in id order. */
unsigned int em_pd_id_end(const struct em_registry *reg);
/* CPU domain containing cpu, or NULL. Under em_read_lock. */
const struct em_pd *em_pd_of_cpu(const struct em_registry *reg, unsigned int cpu);
/* Domain with this name, or NULL; O(1), from the set's index by name. Under em_read_lock. */
const struct em_pd *em_pd_by_name(const struct em_registry *reg, const char *name);
/*
 * Iterate in registration order: the first domain (prev == NULL) or the one
 * registered after prev; NULL at the end. Under em_read_lock.
 */
const struct em_pd *em_pd_next(const struct em_registry *reg, const struct em_pd *prev);
/*
 * A domain's registration sequence number: 1 for the first registration of the
 * registry, growing by one with each, never reused. Unlike a pointer it survives
 * em_read_unlock, so an iteration can resume where it stopped (a netlink dump that
 * spans several reads): em_pd_next_after(reg, seq) is the first domain registered
 * after seq, whatever was registered or unregistered meanwhile; seq 0 gives the first.
 */
uint64_t em_pd_seq(const struct em_pd *pd);
/* See em_pd_seq(). Under em_read_lock; NULL at the end. */
const struct em_pd *em_pd_next_after(const struct em_registry *reg, uint64_t seq);
/* Number of domains. Under em_read_lock. */
unsigned int em_pd_count(const struct em_registry *reg);

#define em_for_each_pd(pd, reg) \
	for ((pd) = em_pd_next((reg), NULL); (pd); (pd) = em_pd_next((reg), (pd)))

/* The domain's id (what dev-energymodel calls perf-domain-id). */
unsigned int em_pd_id(const struct em_pd *pd);
/* Its name (valid while pd is). */
const char *em_pd_name(const struct em_pd *pd);
/* Its EM_PD_* flags. */
unsigned long em_pd_flags(const struct em_pd *pd);
/* True for a CPU domain. */
bool em_pd_is_cpu(const struct em_pd *pd);
/* The CPUs of a CPU domain; NULL for a device. */
const struct em_cpumask *em_pd_cpus(const struct em_pd *pd);
/* CPU capacity at the top state (0 for devices); em_adjust_cpu_capacity changes it. */
unsigned int em_pd_capacity(const struct em_pd *pd);
/* The current table. Under em_read_lock; valid until em_read_unlock. */
const struct em_perf_table *em_pd_table(const struct em_pd *pd);

/* ---- energy -------------------------------------------------------------------- */

/*
 * Index of the state EAS would run at for max_util: the first state from min_state
 * to max_state whose performance >= max_util, skipping inefficient states when
 * pd_flags has EM_PD_SKIP_INEFFICIENCIES; max_state if none.
 */
unsigned int em_perf_table_state_for(const struct em_perf_table *t, unsigned long pd_flags,
				     unsigned long max_util);
/*
 * The kernel's energy estimate for one domain: 0 if sum_util is 0, else
 * cost(state_for(min(max_util, allowed_cap))) * sum_util.
 */
uint64_t em_perf_table_energy(const struct em_perf_table *t, unsigned long pd_flags,
			      unsigned long max_util, unsigned long sum_util,
			      unsigned long allowed_cap);
/*
 * em_perf_table_energy() for domain id, with allowed_cap the performance of its
 * highest allowed state. Takes the read lock itself. Returns 0, -ENOENT, -EINVAL
 * (a device domain).
 */
int em_estimate_pd(const struct em_registry *reg, unsigned int id, unsigned long max_util,
		   unsigned long sum_util, uint64_t *energy, struct em_error *err);
/*
 * Raw em_cpu_energy summed over CPU domains: util[c] is CPU c's utilization (0..1024)
 * for c < nr_cpus. Each CPU's utilization is clamped to its domain's allowed capacity;
 * per CPU domain, max_util is the largest and sum_util the sum, with no headroom.
 * Not what the scheduler computes (see em_estimate_energy). Returns 0, or -ENOENT (a
 * CPU with utilization in no domain), -EINVAL.
 */
int em_estimate_energy_raw(const struct em_registry *reg, const unsigned long *util,
			   unsigned int nr_cpus, uint64_t *energy, struct em_error *err);

/* ---- EAS: the scheduler's estimate and wake-up placement (Linux 6.14) ------------ */

/*
 * What the scheduler is told about each CPU. util[c] is CPU c's utilization (the
 * kernel's cpu_util(): CFS, RT and DL together, 0..1024) for c < nr_cpus, 0 beyond.
 * actual_cap[c] is its actual capacity (get_actual_cpu_capacity(): the capacity less
 * thermal and cpufreq pressure); NULL, 0 or c >= nr_cpus: the domain's capacity. No
 * IRQ time, no uclamp.
 */
struct em_eas_input {
	const unsigned long *util;
	const unsigned long *actual_cap;
	unsigned int nr_cpus;
};

/*
 * sugov_effective_cpu_perf(effective_cpu_util(util)) with no IRQ, RT/DL minimum or
 * uclamp: min(util, scale) plus 25 % (map_util_perf: u + u/4), capped at scale (the
 * CPU's capacity).
 */
unsigned long em_eas_effective_perf(unsigned long util, unsigned long scale);
/* fits_capacity(): util * 1280 < capacity * 1024 (util_fits_cpu without uclamp). */
bool em_eas_fits(unsigned long util, unsigned long capacity);

/* One CPU domain's part of an EAS estimate (the fields of struct energy_env). */
struct em_eas_pd_estimate {
	unsigned int id;         /* the domain */
	unsigned long cpu_cap;   /* eenv->cpu_cap: actual capacity of its first CPU */
	unsigned long pd_cap;    /* eenv->pd_cap: cpu_cap times its CPU count */
	unsigned long busy_time; /* eenv_pd_busy_time(): summed utilization, <= pd_cap */
	unsigned long max_util;  /* eenv_pd_max_util(): headroom, capped, <= cpu_cap */
	unsigned int state;      /* the state em_cpu_energy() picks for max_util */
	uint64_t energy;         /* em_cpu_energy(max_util, busy_time, cpu_cap) */
};

/*
 * The estimate compute_energy() makes for each CPU domain (with no waking task), in
 * registration order: pds[0..max_pds-1] get the first domains, *nr_pds (if not NULL)
 * how many there are, *total the sum. Returns 0, -ENOENT (a CPU with utilization in
 * no domain), -EINVAL (nr_cpus above EM_MAX_CPUS), -ENOMEM.
 */
int em_eas_estimate(const struct em_registry *reg, const struct em_eas_input *in,
		    struct em_eas_pd_estimate *pds, unsigned int max_pds, unsigned int *nr_pds,
		    uint64_t *total, struct em_error *err);
/* em_eas_estimate()'s total with every actual capacity equal to the capacity. */
int em_estimate_energy(const struct em_registry *reg, const unsigned long *util,
		       unsigned int nr_cpus, uint64_t *energy, struct em_error *err);

/* Why em_eas_select_cpu() chose what it chose. */
struct em_eas_decision {
	int cpu;          /* the CPU, or -1 */
	uint64_t delta;   /* its domain's energy with the task minus without (0 if less) */
	uint64_t before;  /* the whole system's EAS estimate without the task */
	uint64_t after;   /* and with it on cpu */
};

/*
 * The CPU find_energy_efficient_cpu() (kernel/sched/fair.c, 6.14) picks for a waking
 * task of utilization task_util (1..1024) beside the load in: domains in the root
 * domain's order (build_perf_domains() prepends, so the domain of the highest first
 * CPU comes first); in each, the CPU with the most spare capacity that the task fits
 * (lowest number on ties), prev_cpu always a candidate if it fits; the candidate whose
 * domain's energy grows least wins, prev_cpu on ties. prev_cpu < 0: the task was on
 * no CPU (a new task): no candidate is preferred, and the kernel's guard that keeps a
 * task on prev_cpu when adding it lowers a domain's energy has nothing to keep it on,
 * so such a negative growth simply competes. Returns the CPU (>= 0, also in d), or
 * -EBUSY (a CPU's own load already does not fit: the root domain is overutilized, so
 * the kernel does not use EAS), -ENOSPC (the task fits no CPU), -EAGAIN (prev_cpu >=
 * 0 and the guard applies: the kernel keeps prev_cpu, d->cpu says so), -EINVAL,
 * -ENOMEM.
 */
int em_eas_select_cpu(const struct em_registry *reg, const struct em_eas_input *in,
		      unsigned long task_util, int prev_cpu, struct em_eas_decision *d,
		      struct em_error *err);

/* Largest task count em_place_optimal() accepts. */
#define EM_PLACE_OPTIMAL_MAX_TASKS 12U

/*
 * Place tasks (utilizations task_util[0..nr_tasks-1]) on the CPUs of the CPU domains
 * so that the EAS estimate (em_estimate_energy) is least, with every CPU's total
 * utilization fitting it as the kernel's fit rule says (util * 1280 < capacity *
 * 1024). cpu_out[i] gets task i's CPU, *energy the estimate. Exhaustive search (CPUs
 * of one domain with equal load are tried once); refuses more than
 * EM_PLACE_OPTIMAL_MAX_TASKS tasks (-E2BIG). Returns 0, -ENOSPC (no placement fits),
 * -E2BIG, -EINVAL, -ENOMEM.
 */
int em_place_optimal(const struct em_registry *reg, const unsigned long *task_util,
		     unsigned int nr_tasks, unsigned int *cpu_out, uint64_t *energy,
		     struct em_error *err);
/*
 * Place tasks as EAS would, one wake-up at a time, biggest first: each is a new task
 * (no prev_cpu) placed by em_eas_select_cpu() beside the tasks placed before it. Same
 * contract as em_place_optimal() without the task limit; -ENOSPC if a task fits
 * nowhere, -EBUSY if the tasks placed so far overutilize a CPU (the kernel would stop
 * using EAS).
 */
int em_place_greedy(const struct em_registry *reg, const unsigned long *task_util,
		    unsigned int nr_tasks, unsigned int *cpu_out, uint64_t *energy,
		    struct em_error *err);

/* ---- the frontier: minimum power for every performance level ------------------- */

#define EM_FRONTIER_OFF 0xffffU /* a domain's state at a level where it runs no CPU */

/*
 * One level: the least power that reaches at least `performance`, and the CPUs that
 * give it. state[d] / nr_cpus[d] are domain d's state index and CPU count (d indexes
 * em_frontier.domain_id; state EM_FRONTIER_OFF when nr_cpus[d] is 0); a domain runs its
 * first nr_cpus[d] CPUs in ascending order.
 */
struct em_frontier_level {
	uint64_t performance;    /* sum over the chosen CPUs of their state's performance */
	uint64_t power;          /* sum of their state's power (µW, or the domain's units) */
	unsigned int nr_domains; /* domains with a CPU running */
	unsigned int nr_cpus_used;
	uint16_t *state;
	uint16_t *nr_cpus;
};

/*
 * Every level at which the least power for "at least this performance" changes, by
 * increasing performance and power (the Pareto front; a performance between two levels
 * is served by the next one). The top level runs every CPU at its highest allowed
 * state. Ties of equal power are broken by fewest domains, then fewest CPUs, then, among
 * domains that are interchangeable (same CPU count and states), by most overlap with
 * the previous level's domains; only allowed states (performance limits) are used.
 */
struct em_frontier {
	unsigned int nr_domains;
	unsigned int *domain_id;     /* registry ids of the CPU domains, registration order */
	unsigned int *domain_first;  /* index into cpu[] of each domain's first CPU */
	unsigned int *domain_nr_cpus;
	unsigned int nr_cpus;
	unsigned int *cpu;           /* the CPUs, domain by domain, ascending in each */
	uint64_t total_performance;  /* the top level's performance */
	unsigned int nr_levels;
	struct em_frontier_level *levels;
	void *priv_;                 /* private to the library */
};

/*
 * Compute the frontier of reg's CPU domains into f (released with
 * em_frontier_release). Returns 0, -EINVAL (no CPU domain), -ENOMEM.
 */
int em_frontier_compute(const struct em_registry *reg, struct em_frontier *f,
			struct em_error *err);
/* Free what f holds (NULL-safe on a zeroed f). */
void em_frontier_release(struct em_frontier *f);
/*
 * The level serving a performance target: the first with performance >= target
 * (the top level if none). scx_lavd's targets are pct % of total_performance,
 * rounded down: em_frontier_target(f, pct) gives that number.
 */
const struct em_frontier_level *em_frontier_for(const struct em_frontier *f, uint64_t target);
uint64_t em_frontier_target(const struct em_frontier *f, unsigned int pct);
/* The CPUs level l runs, ascending; returns how many (out: room for f->nr_cpus). */
unsigned int em_frontier_cpus(const struct em_frontier *f, const struct em_frontier_level *l,
			      unsigned int *out);
/*
 * The CPUs level l does not run, in the order the levels above it add them (each
 * level's new CPUs ascending): where load beyond the level goes. Returns how many.
 */
unsigned int em_frontier_overflow(const struct em_frontier *f,
				  const struct em_frontier_level *l, unsigned int *out);

/* ---- model sources ------------------------------------------------------------- */

/* One domain of a model, as a file describes it. */
struct em_model_domain {
	char name[EM_NAME_MAX];
	unsigned long flags;
	bool is_cpu;
	struct em_cpumask cpus;
	unsigned int capacity;
	unsigned int nr_states;
	struct em_state_desc *states;
	unsigned int line;        /* where it starts in its file (0: not from a file) */
	unsigned int *state_line; /* per state, or NULL */
	bool has_id;              /* id is the kernel's (debugfs "id" file): register */
	unsigned int id;          /* with it; em_model_equal() ignores ids             */
};

/* A model: domains in registration order, and where it came from. */
struct em_model {
	char source[256];
	unsigned int nr_domains;
	struct em_model_domain *domains;
};

/* Free what a model holds (not the struct itself), leaving it empty. */
void em_model_release(struct em_model *m);

/*
 * Register every domain of m in reg, in order (with its id when it has one), as one
 * batch: all of them or, on a failure, none. Errors name the source, line and
 * domain. Returns 0 or the first failure of em_batch_register() / em_batch_commit().
 */
int em_model_register(const struct em_model *m, struct em_registry *reg, struct em_error *err);
/* Describe the domains of reg as a model (source "registry"). Returns 0 or -ENOMEM. */
int em_model_from_registry(struct em_model *m, const struct em_registry *reg);

/*
 * The embedded default: the Rockchip RK3399 (4 × Cortex-A53, 2 × Cortex-A72) from the
 * kernel's device tree, power from P = C·V²·f and capacity from capacity-dmips-mhz
 * (docs/em-model-default.md). Returns 0 or -ENOMEM.
 */
int em_model_default(struct em_model *m);

/* The power the kernel's OPP code derives: coefficient × mV² × MHz / 1,000,000 µW. */
unsigned long em_opp_power_uw(unsigned int dyn_power_coeff, unsigned long millivolts,
			      unsigned long khz);
/*
 * The capacity the kernel's arch_topology derives for a CPU: dmips_mhz × its fmax,
 * normalised so that the largest such product over all CPUs is 1024.
 */
unsigned int em_capacity_from_dmips(unsigned int dmips_mhz, unsigned long fmax_khz,
				    unsigned long largest_dmips_times_fmax);

/*
 * Load a model file: YAML, or JSON (by content: a file whose first non-blank
 * character is '{' is strict JSON). Every domain is validated as em_pd_register would.
 * Errors: "FILE:LINE: FIELD: problem". Returns 0, -ENOENT/-EACCES... (open),
 * -EINVAL (syntax, type, semantics; not a regular file), -EISDIR, -ERANGE, -EEXIST
 * (a domain name or a CPU given to two domains), -EAGAIN (the file changed while it
 * was read), -EFBIG (above 64 MiB), -ENOMEM. YAML aliases (*name) are refused.
 */
int em_model_load_file(struct em_model *m, const char *path, struct em_error *err);
/*
 * A domain of a model file, as em_model_read_file() hands it over: read and checked
 * as em_pd_desc_validate() checks one domain, valid for the call. The callback may
 * keep d->states and d->state_line (and must then set them to NULL). It returns 0 to
 * go on, or a negative errno with err filled to stop: the reader then returns it,
 * the message prefixed with the file and the domain's line ("FILE:LINE: ").
 */
typedef int (*em_model_domain_fn)(void *ctx, struct em_model_domain *d, struct em_error *err);
/*
 * Read a model file domain by domain, in file order, without holding the whole model
 * (em_model_load_file() collects the domains; emd stages each into a batch as it
 * comes). Checks across domains (unique names and CPUs) are the caller's: a batch
 * makes them. The file is opened without blocking and must be a regular file: a FIFO,
 * socket or device is refused (-EINVAL), a directory too (-EISDIR), never waited on.
 * A file that changed while it was read (size, modification or change time, inode,
 * or fewer bytes read than it holds — someone rewriting it in place) is refused with
 * -EAGAIN after the domains were handed over: the caller must drop them and read
 * the file again once it has settled. Files above 64 MiB: -EFBIG. Other errors as
 * em_model_load_file().
 */
int em_model_read_file(const char *path, em_model_domain_fn domain, void *ctx,
		       struct em_error *err);
/* As em_model_load_file() from a buffer; name is used in messages. */
int em_model_load_buffer(struct em_model *m, const char *name, const char *buf, size_t len,
			 struct em_error *err);
/* Write m as a YAML model file; loading it gives the same model. Returns 0 or -EIO. */
int em_model_write_yaml(const struct em_model *m, FILE *out);
/*
 * Read the kernel's debugfs energy_model directory (e.g.
 * /sys/kernel/debug/energy_model): one directory per domain with "cpus" (CPU
 * domains), "flags" (or the older "units" and "skip-inefficiencies"), "id" (Linux
 * 6.19+) and one "ps:FREQ" (or older "cs:FREQ") directory per state with frequency,
 * power, cost and, when present, performance and inefficient. The directory's name
 * (the device's, e.g. "cpu0", "soc:gpu@ff9a0000") is the domain's name. With "id"
 * files the domains keep the kernel's ids and come in id order, so they match what
 * dev-energymodel reports; without, CPU domains come first by first CPU, then devices
 * by name. Capacity is the top state's performance, or 1024 without performance
 * files. Returns 0, or -errno with err.
 */
int em_model_load_debugfs(struct em_model *m, const char *dir, struct em_error *err);
/* True if a and b describe the same domains (names, flags, CPUs, capacity, states). */
bool em_model_equal(const struct em_model *a, const struct em_model *b);

#ifdef __cplusplus
}
#endif

#endif /* EMKIT_EM_H */
