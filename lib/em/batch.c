/*
 * Batches (em.h, "Batches"): many changes of one registry, staged apart from it
 * — on any thread, without the writer lock, while readers and other work go on —
 * then published by one store of a new domain set, the observers told of each
 * change in the order it was staged.
 *
 * A batch mirrors the registry as its changes will leave it: one entry per domain
 * (those of the set it began from, in the set's order, then those it registers),
 * each holding the object the registry has now (cur) and the one the batch will
 * publish (next: cur itself when unchanged, a new object when changed, NULL when
 * removed). A changed domain gets a new em_pd, not a new table stored into the old
 * one, so that the single store of the set switches every domain and table at
 * once: a reader sees the registry before the batch or after it. The look-ups
 * staging needs are O(1) — entries by id, by name (open addressing), the owner of
 * each CPU — and ids come from a copy of the registry's bitmap, so n changes to a
 * registry of N domains cost O(N + n), where the calls one by one cost O(N) each.
 *
 * Objects of the registry (cur) are read only inside a read section in which the
 * registry's generation is still the one the batch began from: then no writer has
 * retired them, and none can free them before the section ends.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct entry {
	struct em_pd *cur;  /* the registry's object (NULL: registered by the batch) */
	struct em_pd *next; /* what the batch publishes for it; NULL: removed */
};

struct change {
	int what;         /* EMREG_* */
	unsigned int id;
	struct em_pd *pd; /* created, updated: what the observers get (with pd->table) */
};

struct em_batch {
	struct em_registry *reg;
	uint64_t gen;       /* the registry's generation when the batch began */
	uint64_t next_seq;
	struct em_ids ids;  /* as the batch leaves them */
	struct entry *ent;
	unsigned int nr_ent, cap_ent;
	int *by_id;         /* the entry of each id, -1 */
	unsigned int by_id_cap;
	unsigned int *names; /* open addressing: entry + 1, 0 for an empty slot */
	unsigned int names_cap;
	int owner[EM_MAX_CPUS]; /* the entry owning each CPU, -1 */
	struct change *chg;
	unsigned int nr_chg, cap_chg;
	struct em_pd *dead; /* staged objects superseded before publication */
	bool committed;
};

/* ---- look-ups ------------------------------------------------------------------ */

/* The entry of the domain named @name that the batch leaves in place, or -1. */
static int find_name(const struct em_batch *b, const char *name)
{
	unsigned int mask = b->names_cap - 1;

	if (!b->names_cap)
		return -1;
	for (unsigned int i = emreg_name_hash(name) & mask;; i = (i + 1) & mask) {
		unsigned int e = b->names[i];

		if (!e)
			return -1;
		/* A removed domain's slot stays; its name may come back in another. */
		if (b->ent[e - 1].next && !strcmp(b->ent[e - 1].next->name, name))
			return (int)e - 1;
	}
}

static void name_insert(struct em_batch *b, unsigned int e)
{
	unsigned int mask = b->names_cap - 1, i = emreg_name_hash(b->ent[e].next->name) & mask;

	while (b->names[i])
		i = (i + 1) & mask;
	b->names[i] = e + 1;
}

/* The entry of the domain with @id, or -1. */
static int find_id(const struct em_batch *b, unsigned int id)
{
	return id < b->by_id_cap ? b->by_id[id] : -1;
}

/* ---- room ---------------------------------------------------------------------- */

/* Room for one more element in the array at @arrp (a pointer to the array's
 * pointer) of @nr used and *@cap allocated elements of @size bytes (doubling,
 * from 16). The array's pointer is read and written with memcpy: it is not a
 * void * object. */
static int grow(void *arrp, unsigned int nr, unsigned int *cap, size_t size)
{
	unsigned int n;
	void *a;

	if (nr < *cap)
		return 0;
	n = *cap ? 2 * *cap : 16;
	memcpy(&a, arrp, sizeof(a));
	a = em_realloc(a, n * size);
	if (!a)
		return -ENOMEM;
	memcpy(arrp, &a, sizeof(a));
	*cap = n;
	return 0;
}

/* Room for one more entry and change, for id @id, and a name table at most half full. */
static int reserve(struct em_batch *b, unsigned int id)
{
	if (grow(&b->ent, b->nr_ent, &b->cap_ent, sizeof(*b->ent)) ||
	    grow(&b->chg, b->nr_chg, &b->cap_chg, sizeof(*b->chg)))
		return -ENOMEM;
	if (id >= b->by_id_cap) {
		unsigned int n = b->by_id_cap ? b->by_id_cap : 64;
		int *m;

		while (id >= n)
			n *= 2;
		m = em_realloc(b->by_id, n * sizeof(*m));
		if (!m)
			return -ENOMEM;
		for (unsigned int i = b->by_id_cap; i < n; i++)
			m[i] = -1;
		b->by_id = m;
		b->by_id_cap = n;
	}
	if (2 * (b->nr_ent + 1) > b->names_cap) {
		unsigned int n = b->names_cap ? 2 * b->names_cap : 64;
		unsigned int *t = em_calloc(n, sizeof(*t));

		if (!t)
			return -ENOMEM;
		free(b->names);
		b->names = t;
		b->names_cap = n;
		for (unsigned int e = 0; e < b->nr_ent; e++)
			if (b->ent[e].next)
				name_insert(b, e);
	}
	return 0;
}

/* A staged object never published: freed (with its table) after the commit. */
static void bury(struct em_batch *b, struct em_pd *pd)
{
	pd->reclaim_next = b->dead;
	b->dead = pd;
}

static void free_pd(struct em_pd *pd)
{
	free(pd->table);
	free(pd);
}

/* Free what was buried: no reader nor observer can hold it any more. */
static void free_dead(struct em_batch *b)
{
	while (b->dead) {
		struct em_pd *pd = b->dead;

		b->dead = pd->reclaim_next;
		free_pd(pd);
	}
}

/* Entry @e now publishes @pd; a staged object it replaces is buried. */
static void supersede(struct em_batch *b, unsigned int e, struct em_pd *pd)
{
	if (b->ent[e].next && b->ent[e].next != b->ent[e].cur)
		bury(b, b->ent[e].next);
	b->ent[e].next = pd;
}

static void add_change(struct em_batch *b, int what, unsigned int id, struct em_pd *pd)
{
	assert(b->nr_chg < b->cap_chg);
	b->chg[b->nr_chg++] = (struct change){what, id, pd};
}

/* A copy of @pd (its cpu_list included) to change: the table is the caller's. */
static struct em_pd *copy_pd(const struct em_pd *pd)
{
	size_t sz = sizeof(*pd) + pd->nr_cpu_list * sizeof(pd->cpu_list[0]);
	struct em_pd *np = em_malloc(sz);

	if (np) {
		memcpy(np, pd, sz);
		np->capacity = em_pd_capacity(pd);
		np->table = NULL;
		np->reclaim_next = NULL;
	}
	return np;
}

/* ---- staging ------------------------------------------------------------------- */

/* Enter a read section in which the registry is still the one the batch began from. */
static int stage_begin(struct em_batch *b, struct em_error *err)
{
	if (b->committed)
		return em_err(err, -EINVAL, "the batch was committed already");
	em_read_lock();
	if (emreg_gen(b->reg) != b->gen) {
		em_read_unlock();
		return em_err(err, -ESTALE, "the registry changed since the batch began");
	}
	return 0;
}

/* stage_begin(), then the entry of the domain with @id: the entry, with the read
 * lock held, or a negative errno (@err set) with no lock held. */
static int stage_find(struct em_batch *b, unsigned int id, struct em_error *err)
{
	int ret = stage_begin(b, err), e;

	if (ret)
		return ret;
	e = find_id(b, id);
	if (e < 0) {
		em_read_unlock();
		return em_err(err, -ENOENT, "no performance domain with id %u", id);
	}
	return e;
}

struct em_batch *em_batch_new(struct em_registry *reg)
{
	struct em_batch *b = em_calloc(1, sizeof(*b));
	const struct em_pd_set *set;
	unsigned int max_id = 0;

	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b->reg = reg;
	for (unsigned int c = 0; c < EM_MAX_CPUS; c++)
		b->owner[c] = -1;
	if (emreg_writer_lock(reg, NULL)) {
		free(b);
		errno = EDEADLK;
		return NULL;
	}
	/* Under the writer lock the set cannot change nor be freed. */
	set = reg->set;
	b->gen = emreg_gen(reg);
	b->next_seq = reg->next_seq;
	if (emreg_ids_copy(&b->ids, &reg->ids))
		goto nomem;
	for (unsigned int i = 0; set && i < set->nr; i++)
		if (set->pd[i]->id > max_id)
			max_id = set->pd[i]->id;
	if (set && set->nr) {
		unsigned int n = 16, names = 64;

		while (n < set->nr + 1)
			n *= 2;
		while (names < 2 * (set->nr + 1))
			names *= 2;
		b->ent = em_malloc(n * sizeof(*b->ent));
		b->names = em_calloc(names, sizeof(*b->names));
		b->cap_ent = b->ent ? n : 0;
		b->names_cap = b->names ? names : 0;
		if (!b->ent || !b->names || reserve(b, max_id))
			goto nomem;
	}
	for (unsigned int i = 0; set && i < set->nr; i++) {
		struct em_pd *pd = set->pd[i];
		unsigned int c;

		b->ent[i] = (struct entry){pd, pd};
		b->nr_ent = i + 1;
		name_insert(b, i);
		b->by_id[pd->id] = (int)i;
		if (pd->is_cpu)
			em_cpumask_for_each(c, &pd->cpus)
				b->owner[c] = (int)i;
	}
	emreg_writer_unlock(reg);
	return b;
nomem:
	emreg_writer_unlock(reg);
	em_batch_free(b);
	errno = ENOMEM;
	return NULL;
}

int em_batch_register(struct em_batch *b, const struct em_pd_desc *desc, unsigned int *id,
		      struct em_error *err)
{
	const char *nm = desc->name ? desc->name : "(unnamed)";
	unsigned int e, new_id = 0;
	struct em_pd *pd;
	int ret, o;

	ret = em_pd_desc_validate(desc, err, NULL);
	if (ret)
		return ret;
	ret = stage_begin(b, err);
	if (ret)
		return ret;
	if (desc->name && (o = find_name(b, desc->name)) >= 0) {
		ret = em_err(err, -EEXIST, "domain '%s': the name is taken by domain %u", desc->name,
			     b->ent[o].next->id);
		goto out;
	}
	if (desc->cpus) {
		unsigned int c;

		em_cpumask_for_each(c, desc->cpus) {
			if (b->owner[c] < 0)
				continue;
			pd = b->ent[b->owner[c]].next;
			ret = em_err(err, -EEXIST,
				     "domain '%s': CPU %u already belongs to domain '%s' (id %u)", nm, c,
				     pd->name, pd->id);
			goto out;
		}
	}
	if (desc->fixed_id && emreg_ids_used(&b->ids, desc->id)) {
		o = find_id(b, desc->id);
		ret = em_err(err, -EEXIST, "domain '%s': id %u is taken by domain '%s'", nm, desc->id,
			     o >= 0 ? b->ent[o].next->name : "?");
		goto out;
	}
	/* Everything that can fail before the id is taken. */
	if (!desc->fixed_id) {
		struct em_ids probe = b->ids;

		/* The id it will get, for the room below (taken for real after). */
		for (new_id = probe.hint * 64; emreg_ids_used(&probe, new_id); new_id++)
			;
	}
	pd = em_calloc(1, sizeof(*pd) + (desc->cpus ? em_cpumask_weight(desc->cpus) : 0) *
					    sizeof(pd->cpu_list[0]));
	if (!pd || reserve(b, desc->fixed_id ? desc->id : new_id) ||
	    (desc->fixed_id ? emreg_ids_take_fixed(&b->ids, desc->id)
			    : emreg_ids_take(&b->ids, &new_id))) {
		free(pd);
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	pd->id = desc->fixed_id ? desc->id : new_id;
	emreg_pd_fill(pd, desc);
	if (!desc->name && (o = find_name(b, pd->name)) >= 0) {
		ret = em_err(err, -EEXIST, "domain '%s': the name is taken by domain %u", pd->name,
			     b->ent[o].next->id);
		emreg_ids_put(&b->ids, pd->id);
		free(pd);
		goto out;
	}
	pd->table = emreg_build_table(pd, desc->states, desc->nr_states);
	if (!pd->table) {
		ret = em_err(err, -ENOMEM, "out of memory");
		emreg_ids_put(&b->ids, pd->id);
		free(pd);
		goto out;
	}
	pd->seq = ++b->next_seq;
	e = b->nr_ent++;
	b->ent[e] = (struct entry){NULL, pd};
	name_insert(b, e);
	b->by_id[pd->id] = (int)e;
	if (pd->is_cpu) {
		unsigned int c;

		em_cpumask_for_each(c, &pd->cpus)
			b->owner[c] = (int)e;
	}
	add_change(b, EMREG_CREATED, pd->id, pd);
	if (id)
		*id = pd->id;
out:
	em_read_unlock();
	return ret;
}

int em_batch_unregister(struct em_batch *b, unsigned int id, struct em_error *err)
{
	int e = stage_find(b, id, err), ret = 0;
	const struct em_pd *pd;

	if (e < 0)
		return e;
	pd = b->ent[e].next;
	if (pd->is_cpu) {
		ret = em_err(err, -EPERM, "domain '%s' (id %u): CPU domains cannot be unregistered",
			     pd->name, id);
		goto out;
	}
	if (reserve(b, 0)) {
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	supersede(b, (unsigned int)e, NULL);
	b->by_id[id] = -1;
	emreg_ids_put(&b->ids, id);
	add_change(b, EMREG_DELETED, id, NULL);
out:
	em_read_unlock();
	return ret;
}

int em_batch_table_replace(struct em_batch *b, unsigned int id,
			   const struct em_state_desc *states, unsigned int nr_states,
			   struct em_error *err)
{
	const struct em_perf_table *cur;
	struct em_perf_table *t;
	const struct em_pd *pd;
	struct em_pd *np;
	int e = stage_find(b, id, err), ret = 0;

	if (e < 0)
		return e;
	pd = b->ent[e].next;
	cur = em_pd_table(pd);
	if (nr_states != cur->nr_states) {
		ret = em_err(err, -EINVAL, "domain '%s': a new table must have its %u states, not %u",
			     pd->name, cur->nr_states, nr_states);
		goto out;
	}
	struct em_pd_desc d = {
		.name = pd->name, .flags = pd->flags, .cpus = pd->is_cpu ? &pd->cpus : NULL,
		.capacity = em_pd_capacity(pd), .nr_states = nr_states, .states = states,
	};
	ret = em_pd_desc_validate(&d, err, NULL);
	if (ret)
		goto out;
	np = reserve(b, 0) ? NULL : copy_pd(pd);
	t = np ? emreg_build_table(np, states, nr_states) : NULL;
	if (!t) {
		free(np);
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	t->min_state = cur->min_state;
	t->max_state = cur->max_state;
	np->table = t;
	supersede(b, (unsigned int)e, np);
	add_change(b, EMREG_UPDATED, id, np);
out:
	em_read_unlock();
	return ret;
}

int em_batch_adjust_cpu_capacity(struct em_batch *b, unsigned int cpu, unsigned int capacity,
				 struct em_error *err)
{
	const struct em_pd *pd;
	struct em_perf_table *t;
	struct em_pd *np;
	int ret = stage_begin(b, err), e;

	if (ret)
		return ret;
	e = cpu < EM_MAX_CPUS ? b->owner[cpu] : -1;
	if (e < 0) {
		/* As em_adjust_cpu_capacity(): em_dev_update_perf_domain()'s -EINVAL. */
		ret = em_err(err, -EINVAL, "CPU %u is in no performance domain", cpu);
		goto out;
	}
	pd = b->ent[e].next;
	t = emreg_capacity_table(pd, em_pd_table(pd), capacity, err, &ret);
	if (!t)
		goto out; /* an error, or nothing to change */
	np = reserve(b, 0) ? NULL : copy_pd(pd);
	if (!np) {
		free(t);
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	np->capacity = capacity;
	np->table = t;
	supersede(b, (unsigned int)e, np);
	add_change(b, EMREG_UPDATED, np->id, np);
out:
	em_read_unlock();
	return ret;
}

unsigned int em_batch_changes(const struct em_batch *b)
{
	return b->committed ? 0 : b->nr_chg;
}

/* ---- commit -------------------------------------------------------------------- */

int em_batch_commit(struct em_batch *b, struct em_error *err)
{
	struct em_registry *reg = b->reg;
	struct em_pd_set *set, *old;
	unsigned int nr = 0, id_cap = 0;
	int ret;

	if (b->committed)
		return em_err(err, -EINVAL, "the batch was committed already");
	ret = emreg_writer_lock(reg, err);
	if (ret)
		return ret;
	if (emreg_gen(reg) != b->gen) {
		ret = em_err(err, -ESTALE, "the registry changed since the batch began");
		goto out;
	}
	if (!b->nr_chg) {
		b->committed = true;
		goto out;
	}
	for (unsigned int e = 0; e < b->nr_ent; e++) {
		if (!b->ent[e].next)
			continue;
		nr++;
		if (b->ent[e].next->id + 1 > id_cap)
			id_cap = b->ent[e].next->id + 1;
	}
	set = emreg_set_alloc(nr, id_cap);
	if (!set) {
		ret = em_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* The set's entries first, in its order, then the batch's in theirs: by seq. */
	for (unsigned int e = 0; e < b->nr_ent; e++) {
		struct em_pd *pd = b->ent[e].next;

		if (!pd)
			continue;
		set->pd[set->nr++] = pd;
		for (unsigned int w = 0; pd->is_cpu && w < EM_MAX_CPUS / 64; w++)
			set->all.bits[w] |= pd->cpus.bits[w];
	}
	emreg_set_index(set, id_cap);
	old = reg->set;
	em_publish(reg->set, set);
	emreg_gen_bump(reg);
	free(reg->ids.used);
	reg->ids = b->ids;
	b->ids = (struct em_ids){0};
	reg->next_seq = b->next_seq;
	b->committed = true;
	emreg_retire_set(reg, old);
	for (unsigned int e = 0; e < b->nr_ent; e++) {
		struct em_pd *cur = b->ent[e].cur;

		if (cur && b->ent[e].next != cur) {
			emreg_retire_table(reg, cur->table);
			emreg_retire_pd(reg, cur);
		}
	}
	for (unsigned int i = 0; i < b->nr_chg; i++) {
		const struct change *c = &b->chg[i];

		emreg_notify(reg, c->what, c->pd, c->pd ? c->pd->table : NULL, c->id);
	}
	/* What the batch replaced goes now, not EM_RECLAIM_BATCH changes later. */
	emreg_reclaim(reg);
out:
	emreg_writer_unlock(reg);
	if (b->committed)
		free_dead(b); /* never published: the observers were their last users */
	return ret;
}

void em_batch_free(struct em_batch *b)
{
	if (!b)
		return;
	if (!b->committed) {
		for (unsigned int e = 0; e < b->nr_ent; e++)
			if (b->ent[e].next && b->ent[e].next != b->ent[e].cur)
				free_pd(b->ent[e].next);
	}
	free_dead(b);
	free(b->ids.used);
	free(b->ent);
	free(b->by_id);
	free(b->names);
	free(b->chg);
	free(b);
}
