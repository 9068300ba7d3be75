/*
 * The dev-energymodel family: its ops table, the handlers of
 * get-perf-domains (do and dump) and get-perf-table (do), and the
 * perf-domain-created/updated/deleted events. The core (genl.c) has checked
 * a request strictly against the spec and found the op before a handler
 * runs; a handler looks the domain up under em_read_lock() — O(1), from the
 * registry's index by id — and writes its message before leaving the read
 * section, so no domain or table is used after a concurrent update could
 * free it. The two kernel bugs this file must not have: an unknown id is
 * answered with -EINVAL, the fixed kernel's errno (em_netlink.c, "if (!pd)
 * return -EINVAL;"), plus a message and the attribute's offset, never used;
 * and a dump resumes from the id it recorded, whatever the packet size or
 * the client's pace. Every model change bumps a generation, so that a dump
 * spanning one is flagged NLM_F_DUMP_INTR (genl_dump_check_consistent()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>

#include "emd.h"

/* ---- command encoding ------------------------------------------------------- */

/* One get-perf-domains message's attributes: id, flags, one cpus per CPU. */
static void put_domain(struct emnl_writer *w, const struct em_pd *pd)
{
	emnl_put_u32(w, DEV_ENERGYMODEL_A_PERF_DOMAIN_PERF_DOMAIN_ID, em_pd_id(pd));
	emnl_put_u64_pad(w, DEV_ENERGYMODEL_A_PERF_DOMAIN_FLAGS, em_pd_flags(pd),
			 DEV_ENERGYMODEL_A_PERF_DOMAIN_PAD);
	if (em_pd_is_cpu(pd)) {
		unsigned int cpu;

		em_cpumask_for_each(cpu, em_pd_cpus(pd))
			emnl_put_u64_pad(w, DEV_ENERGYMODEL_A_PERF_DOMAIN_CPUS, cpu,
					 DEV_ENERGYMODEL_A_PERF_DOMAIN_PAD);
	}
}

/* One perf-table message's attributes: the id, then a nest per state. */
static void put_table(struct emnl_writer *w, unsigned int id, const struct em_perf_table *t)
{
	emnl_put_u32(w, DEV_ENERGYMODEL_A_PERF_TABLE_PERF_DOMAIN_ID, id);
	for (unsigned int i = 0; t && i < t->nr_states; i++) {
		const struct em_perf_state *ps = &t->states[i];
		size_t nest = emnl_nest_begin(w, DEV_ENERGYMODEL_A_PERF_TABLE_PERF_STATE);

		emnl_put_u64_pad(w, DEV_ENERGYMODEL_A_PERF_STATE_PERFORMANCE, ps->performance,
				 DEV_ENERGYMODEL_A_PERF_STATE_PAD);
		emnl_put_u64_pad(w, DEV_ENERGYMODEL_A_PERF_STATE_FREQUENCY, ps->frequency,
				 DEV_ENERGYMODEL_A_PERF_STATE_PAD);
		emnl_put_u64_pad(w, DEV_ENERGYMODEL_A_PERF_STATE_POWER, ps->power,
				 DEV_ENERGYMODEL_A_PERF_STATE_PAD);
		emnl_put_u64_pad(w, DEV_ENERGYMODEL_A_PERF_STATE_COST, ps->cost,
				 DEV_ENERGYMODEL_A_PERF_STATE_PAD);
		emnl_put_u64_pad(w, DEV_ENERGYMODEL_A_PERF_STATE_FLAGS, ps->flags,
				 DEV_ENERGYMODEL_A_PERF_STATE_PAD);
		emnl_nest_end(w, nest);
	}
}

/* ---- requests ----------------------------------------------------------------- */

/* A domain's table, for the get-perf-table reply. */
static void put_domain_table(struct emnl_writer *w, const struct em_pd *pd)
{
	put_table(w, em_pd_id(pd), em_pd_table(pd));
}

/*
 * A do request naming a domain by attribute @type (present: the op requires
 * it): the reply @cmd written by @put under the read lock, or, when no
 * domain has the id, -EINVAL as the kernel's handlers answer it (6.19:
 * dev_energymodel_nl_get_perf_domains_doit() and _get_perf_table_doit()
 * return a bare -EINVAL), with a message and the attribute's offset of
 * emd's own.
 */
static int reply_for_domain(struct emd *d, struct emd_genl_info *info, struct emnl_writer *w,
			    uint16_t type, uint8_t cmd,
			    void (*put)(struct emnl_writer *, const struct em_pd *))
{
	const struct nlattr *a = info->attrs[type];
	const struct em_pd *pd;
	uint32_t id;
	int err;

	memcpy(&id, a + 1, sizeof(id));
	em_read_lock();
	pd = em_pd_get(d->reg, id);
	if (!pd) {
		em_read_unlock();
		emnl_error_set(info->extack, -EINVAL, "no performance domain with id %u", id);
		info->extack->has_offset = true;
		info->extack->offset = (uint32_t)((const uint8_t *)a - (const uint8_t *)info->nlh);
		return -EINVAL;
	}
	emd_genl_reply_begin(info, w, cmd);
	put(w, pd);
	err = emd_genl_reply_end(info, w);
	em_read_unlock();
	return err;
}

/* get-perf-domains do. */
static int get_domain(void *priv, struct emd_genl_info *info, struct emnl_writer *w)
{
	return reply_for_domain(priv, info, w, DEV_ENERGYMODEL_A_PERF_DOMAIN_PERF_DOMAIN_ID,
				DEV_ENERGYMODEL_CMD_GET_PERF_DOMAINS, put_domain);
}

/* get-perf-table do. */
static int get_table(void *priv, struct emd_genl_info *info, struct emnl_writer *w)
{
	return reply_for_domain(priv, info, w, DEV_ENERGYMODEL_A_PERF_TABLE_PERF_DOMAIN_ID,
				DEV_ENERGYMODEL_CMD_GET_PERF_TABLE, put_domain_table);
}

/*
 * get-perf-domains dump: domains in increasing id order from the cursor
 * (cb->args[0], the next id to send), as many whole messages as the packet
 * takes. The cursor is an id, not a pointer: a reload between two packets
 * can neither make the dump repeat or skip a domain that exists throughout,
 * nor free what it reads.
 */
static int dump_domains(void *priv, struct emd_genl_dump *cb, struct emnl_writer *w)
{
	struct emd *d = priv;
	uint32_t end, id;

	em_read_lock();
	/* The model's generation for this packet (never 0: 0 is "unchecked"). */
	cb->gen = __atomic_load_n(&d->model_gen, __ATOMIC_RELAXED) + 1;
	end = em_pd_id_end(d->reg);
	for (id = (uint32_t)cb->args[0]; id < end; id++) {
		const struct em_pd *pd = em_pd_get(d->reg, id);

		if (!pd)
			continue;
		emd_genl_dump_begin(cb, w, DEV_ENERGYMODEL_CMD_GET_PERF_DOMAINS);
		put_domain(w, pd);
		if (emd_genl_dump_end(cb, w) < 0)
			break; /* it goes first in the next packet */
	}
	em_read_unlock();
	cb->args[0] = id;
	return id < end;
}

/* What dev-energymodel serves: the kernel's split ops, one line each. */
static const struct emd_genl_op energymodel_ops[] = {
	{.cmd = DEV_ENERGYMODEL_CMD_GET_PERF_DOMAINS, .flags = GENL_CMD_CAP_DO,
	 .required = {DEV_ENERGYMODEL_A_PERF_DOMAIN_PERF_DOMAIN_ID}, .doit = get_domain,
	 .counter = EMD_OP_GET_PD},
	{.cmd = DEV_ENERGYMODEL_CMD_GET_PERF_DOMAINS, .flags = GENL_CMD_CAP_DUMP,
	 .dumpit = dump_domains, .counter = EMD_OP_DUMP_PD},
	{.cmd = DEV_ENERGYMODEL_CMD_GET_PERF_TABLE, .flags = GENL_CMD_CAP_DO,
	 .required = {DEV_ENERGYMODEL_A_PERF_TABLE_PERF_DOMAIN_ID}, .doit = get_table,
	 .counter = EMD_OP_GET_TABLE},
};

static const struct emnl_ctrl_group energymodel_groups[] = {
	{DEV_ENERGYMODEL_MCGRP_EVENT, EMD_GROUP_EVENT},
};

static struct emd_genl_family energymodel_family = {
	.id = EMD_FAMILY_ID,
	.last_wins = true, /* nla_parse(): of two perf-domain-id, the last counts */
	.ops = energymodel_ops,
	.n_ops = sizeof(energymodel_ops) / sizeof(energymodel_ops[0]),
	.groups = energymodel_groups,
	.n_groups = sizeof(energymodel_groups) / sizeof(energymodel_groups[0]),
};

/* emd_family_register - serve dev-energymodel. */
int emd_family_register(struct emd *d)
{
	return emd_genl_register(d->genl, &energymodel_family, d->spec, d);
}

/* ---- event encoding ----------------------------------------------------------- */

/* The 'event' group: energymodel_groups[0]. */
#define GROUP_EVENT 0

/* A created/updated event: the table, to the event group. */
static void table_event(struct emd *d, const struct em_pd *pd, const struct em_perf_table *t,
			uint8_t cmd)
{
	struct emnl_writer w;

	if (!d->genl)
		return;
	emd_genl_event_writer(d->genl, &w);
	emd_genl_event_begin(&energymodel_family, &w, cmd);
	put_table(&w, em_pd_id(pd), t);
	emd_genl_multicast(d->genl, &energymodel_family, GROUP_EVENT, &w);
}

/* Every change of the model is one more generation (the kernel's families
 * keep such a number, e.g. dev_base_seq, for genl_dump_check_consistent()). */
static void changed(struct emd *d)
{
	__atomic_fetch_add(&d->model_gen, 1, __ATOMIC_RELAXED);
}

static void on_created(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	changed(ctx);
	table_event(ctx, pd, t, DEV_ENERGYMODEL_CMD_PERF_DOMAIN_CREATED);
}

static void on_updated(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	changed(ctx);
	table_event(ctx, pd, t, DEV_ENERGYMODEL_CMD_PERF_DOMAIN_UPDATED);
}

static void on_deleted(void *ctx, unsigned int id)
{
	struct emd *d = ctx;
	struct emnl_writer w;

	changed(d);
	if (!d->genl)
		return;
	emd_genl_event_writer(d->genl, &w);
	emd_genl_event_begin(&energymodel_family, &w, DEV_ENERGYMODEL_CMD_PERF_DOMAIN_DELETED);
	emnl_put_u32(&w, DEV_ENERGYMODEL_A_PERF_TABLE_PERF_DOMAIN_ID, id);
	emd_genl_multicast(d->genl, &energymodel_family, GROUP_EVENT, &w);
}

static const struct em_observer_ops event_ops = {
	.created = on_created,
	.updated = on_updated,
	.deleted = on_deleted,
};

/* emd_events_attach - send an event for every later change of d->reg. */
int emd_events_attach(struct emd *d)
{
	return em_observer_add(d->reg, &event_ops, d);
}

/* emd_events_detach - stop sending events (before the registry goes). */
void emd_events_detach(struct emd *d)
{
	if (d->reg)
		em_observer_remove(d->reg, &event_ops, d);
}
