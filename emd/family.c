/*
 * The dev-energymodel family: the handlers of get-perf-domains (do and dump)
 * and get-perf-table (do), and the perf-domain-created/updated/deleted events.
 * Requests are checked strictly against the spec by lib/nl's validator before
 * a handler runs; the handlers then only look the domain up, under
 * em_read_lock(), and write the reply before leaving the read section, so no
 * domain or table is used after a concurrent update could free it. The two
 * kernel bugs this file must not have: an unknown id is answered with -ENOENT,
 * a message and the attribute's offset (never used), and a dump resumes from
 * the id it recorded, whatever the packet size or the client's pace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emd.h"

static const struct em_pd *pd_lookup(struct emd *d, uint32_t id);

/* ---- command encoding ------------------------------------------------------- */

/* emd_put_domain - one get-perf-domains message: id, flags, one cpus per CPU. */
int emd_put_domain(struct emd_msg *m, const struct em_pd *pd, uint16_t flags, uint32_t seq,
		   uint32_t portid, uint8_t cmd)
{
	emd_msg_begin(m, EMD_FAMILY_ID, flags, seq, portid, cmd, EMD_FAMILY_VERSION);
	emd_msg_put_u32(m, EMD_A_PD_ID, em_pd_id(pd));
	emd_msg_put_u64(m, EMD_A_PD_FLAGS, em_pd_flags(pd), EMD_A_PD_PAD);
	if (em_pd_is_cpu(pd)) {
		unsigned int cpu;

		em_cpumask_for_each(cpu, em_pd_cpus(pd))
			emd_msg_put_u64(m, EMD_A_PD_CPUS, cpu, EMD_A_PD_PAD);
	}
	return emd_msg_end(m);
}

/* emd_put_table - one perf-table message: the id, then a nest per state. */
int emd_put_table(struct emd_msg *m, unsigned int id, const struct em_perf_table *t,
		  uint16_t flags, uint32_t seq, uint32_t portid, uint8_t cmd)
{
	emd_msg_begin(m, EMD_FAMILY_ID, flags, seq, portid, cmd, EMD_FAMILY_VERSION);
	emd_msg_put_u32(m, EMD_A_TABLE_PD_ID, id);
	for (unsigned int i = 0; t && i < t->nr_states; i++) {
		const struct em_perf_state *ps = &t->states[i];
		size_t nest = emd_msg_nest_begin(m, EMD_A_TABLE_STATE);

		emd_msg_put_u64(m, EMD_A_PS_PERFORMANCE, ps->performance, EMD_A_PS_PAD);
		emd_msg_put_u64(m, EMD_A_PS_FREQUENCY, ps->frequency, EMD_A_PS_PAD);
		emd_msg_put_u64(m, EMD_A_PS_POWER, ps->power, EMD_A_PS_PAD);
		emd_msg_put_u64(m, EMD_A_PS_COST, ps->cost, EMD_A_PS_PAD);
		emd_msg_put_u64(m, EMD_A_PS_FLAGS, ps->flags, EMD_A_PS_PAD);
		emd_msg_nest_end(m, nest);
	}
	return emd_msg_end(m);
}

/* ---- requests ----------------------------------------------------------------- */

/* The first attribute of type @type in @nlh's genetlink payload. */
static const struct nlattr *find_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/* -ENOENT for an id no domain has: the message and the attribute's offset. */
static int no_such_domain(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh,
			  const struct nlattr *a, uint32_t id)
{
	struct emnl_error e;

	emnl_error_set(&e, -ENOENT, "no performance domain with id %u", id);
	e.has_offset = true;
	e.offset = (uint32_t)((const uint8_t *)a - (const uint8_t *)nlh);
	emd_client_error(d, c, nlh, &e);
	return -ENOENT;
}

/* Send one do reply from d->txbuf, then the ack if the request asked. */
static int reply_and_ack(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh,
			 int len)
{
	struct emnl_error ok = {0};
	int err;

	if (len < 0) {
		emnl_error_set(&ok, len, "reply does not fit in %u bytes", EMNL_DGRAM_MAX);
		return emd_client_error(d, c, nlh, &ok);
	}
	err = emd_client_send(d, c, d->txbuf, (size_t)len, false);
	if (!err && (nlh->nlmsg_flags & NLM_F_ACK))
		err = emd_client_error(d, c, nlh, &ok);
	return err;
}

/* get-perf-domains do, or get-perf-table do. */
static int do_get(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh, uint8_t cmd)
{
	uint16_t type = cmd == EMD_CMD_GET_PERF_DOMAINS ? EMD_A_PD_ID : EMD_A_TABLE_PD_ID;
	const struct nlattr *a = find_attr(nlh, type);
	uint32_t id = mnl_attr_get_u32(a); /* present: the validator required it */
	const struct em_pd *pd;
	struct emd_msg m;
	int len;

	emd_msg_init(&m, d->txbuf, EMNL_DGRAM_MAX, d->cfg.pad);
	em_read_lock();
	pd = pd_lookup(d, id);
	if (!pd) {
		em_read_unlock();
		return no_such_domain(d, c, nlh, a, id);
	}
	if (cmd == EMD_CMD_GET_PERF_DOMAINS)
		len = emd_put_domain(&m, pd, 0, nlh->nlmsg_seq, c->portid, cmd);
	else
		len = emd_put_table(&m, em_pd_id(pd), em_pd_table(pd), 0, nlh->nlmsg_seq,
				    c->portid, cmd);
	em_read_unlock();
	return reply_and_ack(d, c, nlh, len);
}

/* emd_family_request - validate and answer one dev-energymodel request. */
int emd_family_request(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh)
{
	static const uint16_t need_pd[] = {EMD_A_PD_ID};
	static const uint16_t need_table[] = {EMD_A_TABLE_PD_ID};
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	const uint16_t *req = NULL;
	size_t n_req = 0;
	struct emnl_error e;
	int err;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN && !dump) {
		if (g->cmd == EMD_CMD_GET_PERF_DOMAINS) {
			req = need_pd;
			n_req = 1;
		} else if (g->cmd == EMD_CMD_GET_PERF_TABLE) {
			req = need_table;
			n_req = 1;
		}
	}
	err = emnl_validate(d->spec, nlh, nlh->nlmsg_len, false, req, n_req, NULL, &e);
	if (err) {
		e.attr_set = NULL;
		emd_client_error(d, c, nlh, &e);
		return err;
	}
	switch (g->cmd) {
	case EMD_CMD_GET_PERF_DOMAINS:
		if (dump) {
			static_call(emd_count)(EMD_OP_DUMP_PD);
			if (c->dump.kind != EMD_DUMP_NONE) {
				emnl_error_set(&e, -EBUSY, "a dump is already in progress");
				emd_client_error(d, c, nlh, &e);
				return -EBUSY;
			}
			c->dump.kind = EMD_DUMP_DOMAINS;
			c->dump.seq = nlh->nlmsg_seq;
			c->dump.next = 0;
			c->dump.done_sent = false;
			return 0;
		}
		static_call(emd_count)(EMD_OP_GET_PD);
		return do_get(d, c, nlh, g->cmd);
	case EMD_CMD_GET_PERF_TABLE:
		static_call(emd_count)(EMD_OP_GET_TABLE);
		return do_get(d, c, nlh, g->cmd);
	default:
		/* Events are in the spec but are not requests. */
		emnl_error_set(&e, -EOPNOTSUPP, "command %u is not a request", g->cmd);
		emd_client_error(d, c, nlh, &e);
		return -EOPNOTSUPP;
	}
}

/* ---- dump --------------------------------------------------------------------- */

/*
 * Domains by id. The registry finds an id by walking its set (a cache miss
 * per domain), so emd keeps its own index, rebuilt on first use after any
 * change. It is sound because emd is the registry's only writer and runs on
 * one thread: every change goes through the observers below, which mark the
 * index stale before anything could be freed, and the pointers in a valid
 * index are only used under em_read_lock(), like any registry pointer.
 */
struct emd_pd_id_map {
	size_t cap;
	uint32_t end;   /* one past the largest id */
	bool valid;
	const struct em_pd **by_id;
};

/* The index, rebuilt if stale; NULL on allocation failure. Under em_read_lock. */
static struct emd_pd_id_map *pd_index(struct emd *d)
{
	struct emd_pd_id_map *map = d->scratch;
	const struct em_pd *pd;
	uint32_t end = 0;

	if (map->valid)
		return map;
	em_for_each_pd(pd, d->reg)
		if (em_pd_id(pd) + 1 > end)
			end = em_pd_id(pd) + 1;
	if (map->cap < end) {
		size_t cap = (size_t)end * 2;
		const struct em_pd **p = realloc(map->by_id, cap * sizeof(*p));

		if (!p)
			return NULL;
		map->by_id = p;
		map->cap = cap;
	}
	if (end)
		memset(map->by_id, 0, end * sizeof(*map->by_id));
	em_for_each_pd(pd, d->reg)
		map->by_id[em_pd_id(pd)] = pd;
	map->end = end;
	map->valid = true;
	return map;
}

/* The domain with @id, or NULL. Under em_read_lock. */
static const struct em_pd *pd_lookup(struct emd *d, uint32_t id)
{
	struct emd_pd_id_map *map = pd_index(d);

	if (!map)
		return em_pd_get(d->reg, id);
	return id < map->end ? map->by_id[id] : NULL;
}

/* Append NLMSG_DONE for @c's dump if it fits; true when it did. */
static bool put_done(struct emd_msg *m, const struct emd_client *c)
{
	void *status = emd_msg_begin_raw(m, NLMSG_DONE, NLM_F_MULTI, c->dump.seq, c->portid,
					 sizeof(int));

	if (status)
		memset(status, 0, sizeof(int));
	return emd_msg_end(m) > 0;
}

/*
 * emd_dump_domains_fill - the next packet of a get-perf-domains dump: domains
 * in increasing id order from c->dump.next, as many whole messages as fit in
 * the configured packet size (at least one), then NLMSG_DONE when the last
 * domain is in and there is room for it (else it goes alone, next packet).
 */
int emd_dump_domains_fill(struct emd *d, struct emd_client *c, struct emd_msg *m)
{
	size_t limit = d->cfg.dump_packet_size;
	uint32_t end, id;

	if (limit > m->size)
		limit = m->size;

	if (!c->dump.done_sent) {
		struct emd_pd_id_map *map;

		em_read_lock();
		map = pd_index(d);
		if (!map) {
			em_read_unlock();
			return -ENOMEM;
		}
		end = map->end;
		for (id = c->dump.next; id < end; id++) {
			const struct em_pd *pd = map->by_id[id];
			size_t before = m->len;
			int len;

			if (!pd)
				continue;
			len = emd_put_domain(m, pd, NLM_F_MULTI, c->dump.seq, c->portid,
					     EMD_CMD_GET_PERF_DOMAINS);
			if (len < 0 && before == 0) {
				em_read_unlock(); /* cannot happen: a domain is < 13 KiB */
				return -EMSGSIZE;
			}
			if (len < 0 || (before > 0 && m->len > limit)) {
				m->len = before; /* whole messages only: this one waits */
				break;
			}
		}
		em_read_unlock();
		c->dump.next = id;
		if (id < end)
			return 0;
		c->dump.done_sent = true;
	}
	/* Every domain is out: the DONE, in this packet if it fits. */
	{
		size_t before = m->len;

		if (!put_done(m, c))
			return 0;
		if (before > 0 && m->len > limit) {
			m->len = before;
			return 0;
		}
	}
	return 1;
}

/* ---- event encoding ----------------------------------------------------------- */

/* Encode a created/updated event and send it to the event group. */
static void table_event(struct emd *d, const struct em_pd *pd, const struct em_perf_table *t,
			uint8_t cmd)
{
	struct emd_msg m;
	int len;

	emd_msg_init(&m, d->txbuf, EMNL_DGRAM_MAX, d->cfg.pad);
	len = emd_put_table(&m, em_pd_id(pd), t, 0, 0, 0, cmd);
	if (len > 0) {
		static_call(emd_count)(EMD_OP_EVENT);
		emd_multicast(d, d->txbuf, (size_t)len);
	}
}

/* Any change makes the id index stale (see struct emd_pd_id_map). */
static void index_stale(struct emd *d)
{
	if (d->scratch)
		d->scratch->valid = false;
}

static void on_created(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	index_stale(ctx);
	table_event(ctx, pd, t, EMD_CMD_PERF_DOMAIN_CREATED);
}

static void on_updated(void *ctx, const struct em_pd *pd, const struct em_perf_table *t)
{
	index_stale(ctx);
	table_event(ctx, pd, t, EMD_CMD_PERF_DOMAIN_UPDATED);
}

static void on_deleted(void *ctx, unsigned int id)
{
	struct emd *d = ctx;
	struct emd_msg m;
	int len;

	index_stale(d);
	emd_msg_init(&m, d->txbuf, EMNL_DGRAM_MAX, d->cfg.pad);
	emd_msg_begin(&m, EMD_FAMILY_ID, 0, 0, 0, EMD_CMD_PERF_DOMAIN_DELETED, EMD_FAMILY_VERSION);
	emd_msg_put_u32(&m, EMD_A_TABLE_PD_ID, id);
	len = emd_msg_end(&m);
	if (len > 0) {
		static_call(emd_count)(EMD_OP_EVENT);
		emd_multicast(d, d->txbuf, (size_t)len);
	}
}

static const struct em_observer_ops event_ops = {
	.created = on_created,
	.updated = on_updated,
	.deleted = on_deleted,
};

/* emd_events_attach - send an event for every later change of d->reg. */
int emd_events_attach(struct emd *d)
{
	if (!d->scratch) {
		d->scratch = calloc(1, sizeof(*d->scratch));
		if (!d->scratch)
			return -ENOMEM;
	}
	return em_observer_add(d->reg, &event_ops, d);
}

/* emd_events_detach - stop sending events (before the registry goes). */
void emd_events_detach(struct emd *d)
{
	if (d->reg)
		em_observer_remove(d->reg, &event_ops, d);
	if (d->scratch) {
		free(d->scratch->by_id);
		free(d->scratch);
		d->scratch = NULL;
	}
}
