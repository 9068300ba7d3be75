/*
 * emd's generic netlink core (see genl.h): the messages of a request
 * datagram in order, each dispatched to its family's op after one strict
 * validation; the answer — reply, ack, or NLMSG_ERROR with extended ack —
 * sent by the core alone; dumps recorded per connection and produced one
 * packet at a time when the transport pulls, NLMSG_DONE included; events
 * framed and multicast. The request path, top to bottom:
 *
 *   rcv()          one datagram: framing, congestion (the rest waits)
 *   rcv_msg()      one message: not a request, unknown family, trace hook
 *   family_rcv()   the op, validation against the spec, the counter
 *   do_op()        doit(), then reply + ack or the error
 *   start_dump()   the dump's state; pull() later fills each packet
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>

#include "genl.h"
#include "hooks.h"
#include "transport.h"

#define MAX_FAMILIES 8

/* Per connection (in the transport's connection): the dump in progress,
 * and what the reader has shown it can take. */
struct genl_conn {
	const struct emd_genl_op *op; /* NULL: no dump running */
	struct emd_genl_dump cb;
	bool done_pending;            /* every message is out, NLMSG_DONE is not */
	uint32_t recv_len;            /* the kernel's max_recvmsg_len (RECV_LEN) */
	int done_errno;               /* what NLMSG_DONE carries (0, or why it ended) */
};

struct emd_genl {
	struct emd_genl_config cfg;
	struct emd_transport *t;
	struct emd_genl_family *families[MAX_FAMILIES];
	unsigned int first_group[MAX_FAMILIES]; /* transport group of each family's first */
	size_t n_families;
	unsigned int n_groups;
	uint8_t *txbuf;               /* the reply (or event) being written */
	const struct nlattr **attrs;  /* the attribute table of the request at hand */
	size_t n_attrs;
};

size_t emd_genl_conn_size(void)
{
	return sizeof(struct genl_conn);
}

struct emd_genl *emd_genl_new(const struct emd_genl_config *cfg)
{
	struct emd_genl *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->cfg = *cfg;
	g->txbuf = malloc(EMNL_DGRAM_MAX);
	if (g->txbuf)
		return g;
	emd_genl_free(g);
	return NULL;
}

void emd_genl_free(struct emd_genl *g)
{
	if (!g)
		return;
	free(g->txbuf);
	free(g->attrs);
	free(g);
}

void emd_genl_set_transport(struct emd_genl *g, struct emd_transport *t)
{
	g->t = t;
}

int emd_genl_register(struct emd_genl *g, struct emd_genl_family *f,
		      const struct emnl_spec *spec, void *priv)
{
	size_t n_attrs = 1;

	if (g->n_families == MAX_FAMILIES || g->n_groups + f->n_groups > EMD_TRANSPORT_MAX_GROUPS)
		return -ENOSPC;
	for (size_t i = 0; i < spec->n_sets; i++)
		if ((size_t)spec->sets[i].max_type + 1 > n_attrs)
			n_attrs = (size_t)spec->sets[i].max_type + 1;
	if (n_attrs > g->n_attrs) {
		const struct nlattr **a = realloc(g->attrs, n_attrs * sizeof(*a));

		if (!a)
			return -ENOMEM;
		g->attrs = a;
		g->n_attrs = n_attrs;
	}
	for (size_t i = 0; i < f->n_ops; i++) {
		const struct emd_genl_op *op = &f->ops[i];
		uint16_t kind = op->flags & (GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP);

		/* Split ops: each entry is one half of a command, with its handler. */
		assert(kind == GENL_CMD_CAP_DO || kind == GENL_CMD_CAP_DUMP);
		assert(kind == GENL_CMD_CAP_DO ? op->doit != NULL : op->dumpit != NULL);
		(void)kind;
	}
	f->spec = spec;
	f->priv = priv;
	f->n_attrs = n_attrs;
	g->first_group[g->n_families] = g->n_groups;
	g->n_groups += (unsigned int)f->n_groups;
	g->families[g->n_families++] = f;
	return 0;
}

/* ---- family look-ups ------------------------------------------------------------- */

const struct emd_genl_family *emd_genl_family_at(const struct emd_genl *g, size_t i)
{
	return i < g->n_families ? g->families[i] : NULL;
}

const struct emd_genl_family *emd_genl_family_by_id(const struct emd_genl *g, uint16_t id)
{
	for (size_t i = 0; i < g->n_families; i++)
		if (g->families[i]->id == id)
			return g->families[i];
	return NULL;
}

const struct emd_genl_family *emd_genl_family_by_name(const struct emd_genl *g, const char *name)
{
	for (size_t i = 0; i < g->n_families; i++)
		if (!strcmp(g->families[i]->spec->name, name))
			return g->families[i];
	return NULL;
}

size_t emd_genl_family_index(const struct emd_genl *g, const struct emd_genl_family *f)
{
	for (size_t i = 0; i < g->n_families; i++)
		if (g->families[i] == f)
			return i;
	assert(!"an unregistered family");
	return 0;
}

/* The op for @cmd of the kind the request asks for (an unlisted op takes
 * its command whatever the kind). */
static const struct emd_genl_op *find_op(const struct emd_genl_family *f, uint8_t cmd, bool dump)
{
	uint16_t kind = dump ? GENL_CMD_CAP_DUMP : GENL_CMD_CAP_DO;

	for (size_t i = 0; i < f->n_ops; i++)
		if (f->ops[i].cmd == cmd &&
		    ((f->ops[i].flags & kind) || (f->ops[i].flags & EMD_GENL_UNLISTED)))
			return &f->ops[i];
	return NULL;
}

/* ---- the controller's view ---------------------------------------------------------- */

bool emd_genl_op_policy(const struct emd_genl_family *f, const struct emd_genl_op *op,
			struct emnl_policy *p)
{
	const struct emnl_op *sop = emnl_spec_op_by_cmd(f->spec, op->cmd, false, NULL);

	return sop && emnl_request_policy(sop, op->flags & GENL_CMD_CAP_DUMP, p);
}

bool emd_genl_op_pair_next(const struct emd_genl_family *f, size_t *pos,
			   struct emd_genl_op_pair *pair)
{
	size_t i = *pos;

	while (i < f->n_ops && (f->ops[i].flags & EMD_GENL_UNLISTED))
		i++;
	if (i == f->n_ops) {
		*pos = i;
		return false;
	}
	*pair = (struct emd_genl_op_pair){.cmd = f->ops[i].cmd};
	if (f->ops[i].flags & GENL_CMD_CAP_DO)
		pair->doit = &f->ops[i++];
	if (i < f->n_ops && f->ops[i].cmd == pair->cmd && (f->ops[i].flags & GENL_CMD_CAP_DUMP) &&
	    !(f->ops[i].flags & EMD_GENL_UNLISTED))
		pair->dumpit = &f->ops[i++];
	*pos = i;
	return true;
}

int emd_genl_put_family(struct emnl_writer *w, const struct emd_genl_family *f, uint16_t flags,
			uint32_t seq, uint32_t portid)
{
	struct emnl_ctrl_op ops[32];
	struct emnl_ctrl_family cf = {
		.name = f->spec->name, .id = f->id, .version = f->spec->version,
		.ops = ops, .n_groups = f->n_groups, .groups = f->groups,
	};

	/* One entry per command, its do and dump halves merged, as
	 * ctrl_fill_info() lists split ops. */
	for (size_t i = 0; i < f->n_ops; i++) {
		const struct emd_genl_op *op = &f->ops[i];
		bool dump = op->flags & GENL_CMD_CAP_DUMP;
		struct emnl_policy pol;
		size_t k;

		if (op->flags & EMD_GENL_UNLISTED)
			continue;
		for (k = 0; k < cf.n_ops && ops[k].cmd != op->cmd; k++)
			;
		if (k == cf.n_ops) {
			assert(k < sizeof(ops) / sizeof(ops[0]));
			ops[cf.n_ops++] = (struct emnl_ctrl_op){op->cmd, 0};
		}
		ops[k].flags |= dump ? GENL_CMD_CAP_DUMP : GENL_CMD_CAP_DO;
		if (emd_genl_op_policy(f, op, &pol))
			ops[k].flags |= GENL_CMD_CAP_HASPOL;
	}
	return emnl_put_ctrl_family(w, &cf, flags, seq, portid);
}

/* ---- answers ---------------------------------------------------------------------- */

/* The NLMSG_ERROR answering @req (e->err == 0: an ack), capped and with
 * TLVs, as for a client that set NETLINK_CAP_ACK and NETLINK_EXT_ACK. */
static int send_error(struct emd_genl *g, struct emd_conn *c, const struct nlmsghdr *req,
		      const struct emnl_error *e)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	struct emnl_writer w;
	int n;

	if (e->err)
		static_call(emd_count)(EMD_OP_ERROR);
	emnl_writer_init(&w, buf, sizeof(buf), g->cfg.pad);
	n = emnl_put_extack(&w, req, emd_conn_portid(c), e, true, true);
	if (n < 0)
		return n;
	return emd_conn_send(g->t, c, buf, (size_t)n);
}

/* The ack of @req: with the parser's warning @warn (a message, err 0), or
 * bare (NULL), as netlink_ack() sends an extack message on success. */
static int send_ack(struct emd_genl *g, struct emd_conn *c, const struct nlmsghdr *req,
		    const struct emnl_error *warn)
{
	struct emnl_error ok = {0};

	if (warn && warn->msg[0]) {
		memcpy(ok.msg, warn->msg, sizeof(ok.msg));
		return send_error(g, c, req, &ok);
	}
	return send_error(g, c, req, &ok);
}

void emd_genl_reply_begin(const struct emd_genl_info *info, struct emnl_writer *w, uint8_t cmd)
{
	emnl_msg_begin_genl(w, info->family->id, 0, info->nlh->nlmsg_seq, info->portid, cmd,
			    (uint8_t)info->family->spec->version);
}

int emd_genl_reply_end(const struct emd_genl_info *info, struct emnl_writer *w)
{
	int n = emnl_msg_end(w);

	if (n >= 0)
		return 0;
	return emnl_error_set(info->extack, n, "reply does not fit in %u bytes", EMNL_DGRAM_MAX);
}

/* ---- do --------------------------------------------------------------------------- */

/* A handler failed with @err after a liberal parse left a warning @warn: as
 * in the kernel, where the handler says nothing more, the warning is the
 * error's message (emd's own additions give way to the kernel's words). */
static void keep_warning(struct emnl_error *e, const struct emnl_error *warn, int err)
{
	if (warn->msg[0]) {
		*e = *warn;
		e->err = err;
	} else if (!e->err) {
		e->err = err;
	}
}

/* Run a do handler and answer: its reply, then the ack if asked; or the error. */
static int do_op(struct emd_genl *g, struct emd_conn *c, const struct emd_genl_op *op,
		 struct emd_genl_info *info)
{
	struct emnl_error warn;
	struct emnl_writer w;
	int err;

	/* A liberal parse's warning, kept for the ack or the error. */
	warn.msg[0] = '\0';
	if (info->extack->msg[0])
		warn = *info->extack;
	emnl_writer_init(&w, g->txbuf, EMNL_DGRAM_MAX, g->cfg.pad);
	err = op->doit(info->family->priv, info, &w);
	if (err) {
		assert(err < 0);
		keep_warning(info->extack, &warn, err);
		send_error(g, c, info->nlh, info->extack);
		return err;
	}
	if (op->flags & EMD_GENL_UNLISTED)
		static_call(emd_count)(op->counter);
	if (emnl_writer_len(&w))
		err = emd_conn_send(g->t, c, g->txbuf, emnl_writer_len(&w));
	if (err == -EMSGSIZE) {
		/* More than the connection can carry (emd --sndbuf): said, not a close. */
		emnl_error_set(info->extack, -EMSGSIZE,
			       "reply of %zu bytes does not fit the connection's packets (%zu bytes)",
			       emnl_writer_len(&w), emd_conn_max_packet(c));
		send_error(g, c, info->nlh, info->extack);
		return err;
	}
	if (!err && (info->nlh->nlmsg_flags & NLM_F_ACK))
		err = send_ack(g, c, info->nlh, &warn);
	return err;
}

/* ---- dump ------------------------------------------------------------------------- */

static struct genl_conn *conn_state(struct emd_conn *c)
{
	return emd_conn_priv(c);
}

/*
 * Start a dump for @c, as __netlink_dump_start() does: -EBUSY while one runs
 * (the kernel has one callback per socket), the op's start, then the first
 * packet at once (the kernel's first netlink_dump() runs inline, before the
 * next message of the datagram is looked at); the rest comes when the
 * transport pulls it, after what the datagram's later messages answer.
 */
static int start_dump(struct emd_genl *g, struct emd_conn *c, const struct emd_genl_op *op,
		      struct emd_genl_info *info)
{
	struct genl_conn *gc = conn_state(c);
	struct emnl_error warn;
	int err;

	if (gc->op) {
		emnl_error_set(info->extack, -EBUSY, "a dump is already in progress");
		send_error(g, c, info->nlh, info->extack);
		return -EBUSY;
	}
	gc->cb = (struct emd_genl_dump){.family = info->family, .seq = info->nlh->nlmsg_seq,
					.portid = emd_conn_portid(c)};
	gc->done_pending = false;
	gc->done_errno = 0;
	warn.msg[0] = '\0';
	if (info->extack->msg[0])
		warn = *info->extack;
	if (op->start) {
		err = op->start(info->family->priv, info, &gc->cb);
		if (err) {
			assert(err < 0);
			keep_warning(info->extack, &warn, err);
			send_error(g, c, info->nlh, info->extack);
			return err;
		}
	}
	gc->op = op;
	return g->t ? emd_conn_pull(g->t, c) : 0;
}

/* How large the next packet of @gc's dump may be: netlink_dump()'s
 * allocation, the larger of NLMSG_GOODSIZE and the reader's
 * max_recvmsg_len, within --dump-packet-size. */
static size_t dump_packet_size(const struct emd_genl *g, const struct genl_conn *gc)
{
	size_t size = gc->recv_len > EMNL_NLMSG_GOODSIZE ? gc->recv_len : EMNL_NLMSG_GOODSIZE;

	return size < g->cfg.dump_packet_size ? size : g->cfg.dump_packet_size;
}

void emd_genl_set_recv_len(const struct emd_genl_info *info, uint32_t len)
{
	struct genl_conn *gc = conn_state(info->conn);

	if (len > gc->recv_len)
		gc->recv_len = len < EMNL_DUMP_MAX_RECVMSG_LEN ? len : EMNL_DUMP_MAX_RECVMSG_LEN;
}

/* The transport can take a packet of @c's dump: fill @w. */
static int pull(void *ctx, struct emd_conn *c, struct emnl_writer *w)
{
	struct emd_genl *g = ctx;
	struct genl_conn *gc = conn_state(c);

	assert(gc->op && gc->cb.family);
	emnl_writer_set_limit(w, dump_packet_size(g, gc));
	if (!gc->done_pending) {
		uint64_t cursor = gc->cb.args[0];
		int more = gc->op->dumpit(gc->cb.family->priv, &gc->cb, w);

		/* A cursor only moves forward: a dump never repeats what it
		 * sent (the second kernel bug of the brief: dumps that repeat). */
		assert(gc->cb.args[0] >= cursor);
		(void)cursor;
		if (more < 0)
			return more;
		if (more && emnl_writer_len(w))
			return 0;
		/* Whole messages only: one that does not fit an empty packet never
		 * will. The dump ends there, NLMSG_DONE saying -EMSGSIZE, as the
		 * kernel's netlink_dump_done() ends a dump whose dumpit failed. */
		gc->done_errno = more ? -EMSGSIZE : 0;
		gc->done_pending = true;
	}
	/* Every message is out: NLMSG_DONE (its status), in this packet if it
	 * fits, checked for consistency as netlink_dump_done() checks it. */
	emnl_msg_begin(w, NLMSG_DONE, emd_genl_dump_flags(&gc->cb), gc->cb.seq, gc->cb.portid);
	{
		void *status = emnl_msg_put_extra(w, sizeof(int));

		if (status)
			memcpy(status, &gc->done_errno, sizeof(int));
	}
	if (emnl_msg_end(w) < 0)
		return 0; /* alone in the next packet */
	gc->cb.prev_gen = gc->cb.gen;
	gc->op = NULL;
	return 0;
}

static bool pending(void *ctx, const struct emd_conn *c)
{
	const struct genl_conn *gc = emd_conn_priv_const(c);

	(void)ctx;
	return gc->op != NULL;
}

void emd_genl_conn_describe(const struct emd_conn *c, char *buf, size_t size)
{
	const struct genl_conn *gc = emd_conn_priv_const(c);

	if (!gc->op)
		snprintf(buf, size, "dump: none");
	else
		snprintf(buf, size, "dump: family %u cmd %u seq %u cursor %llu done_pending %d",
			 gc->cb.family->id, gc->op->cmd, gc->cb.seq,
			 (unsigned long long)gc->cb.args[0], gc->done_pending);
}

/* ---- requests --------------------------------------------------------------------- */

/* One request to family @f: find the op, validate, count, run. */
static int family_rcv(struct emd_genl *g, const struct emd_genl_family *f, struct emd_conn *c,
		      const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *gh = (const void *)((const uint8_t *)nlh + NLMSG_HDRLEN);
	bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	bool hdr_ok = nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN;
	const struct emd_genl_op *op = hdr_ok ? find_op(f, gh->cmd, dump) : NULL;
	struct emnl_msg_info mi = {.attrs = g->attrs, .n_attrs = f->n_attrs,
				   .last_wins = f->last_wins, .resv_start_op = f->resv_start_op};
	struct emnl_error e;
	struct emd_genl_info info = {
		.family = f, .nlh = nlh, .genlhdr = gh, .attrs = g->attrs,
		.portid = emd_conn_portid(c), .conn = c, .extack = &e,
	};
	size_t n_req = 0;
	int err;

	if (op && (op->flags & EMD_GENL_UNLISTED)) {
		info.attrs = NULL; /* not in the spec: the handler reads the message */
		emnl_error_clear(&e);
		return do_op(g, c, op, &info);
	}
	while (op && !dump && n_req < EMD_GENL_MAX_REQUIRED && op->required[n_req])
		n_req++;
	err = emnl_validate(f->spec, nlh, nlh->nlmsg_len, false, op ? op->required : NULL, n_req,
			    &mi, &e);
	if (err) {
		e.attr_set = NULL;
		send_error(g, c, nlh, &e);
		return err;
	}
	if (!op) {
		/* In the spec, valid, but not served. */
		emnl_error_set(&e, -EOPNOTSUPP, "emd serves no %s '%s'", f->spec->name,
			       mi.op ? mi.op->name : "?");
		send_error(g, c, nlh, &e);
		return -EOPNOTSUPP;
	}
	static_call(emd_count)(op->counter);
	if (dump)
		return start_dump(g, c, op, &info);
	return do_op(g, c, op, &info);
}

/* One message of a request datagram. */
static void rcv_msg(struct emd_genl *g, struct emd_conn *c, const struct nlmsghdr *nlh)
{
	const struct emd_genl_family *f;
	int err = 0;

	if (!(nlh->nlmsg_flags & NLM_F_REQUEST) || nlh->nlmsg_type < NLMSG_MIN_TYPE) {
		/* Not a request: the kernel skips it too; an ack if one was asked. */
		if (nlh->nlmsg_flags & NLM_F_ACK)
			send_ack(g, c, nlh, NULL);
	} else if ((f = emd_genl_family_by_id(g, nlh->nlmsg_type))) {
		err = family_rcv(g, f, c, nlh);
	} else {
		struct emnl_error e;

		err = emnl_error_set(&e, -ENOENT, "no family with id %u", nlh->nlmsg_type);
		send_error(g, c, nlh, &e);
	}
	static_call(emd_trace)(emd_conn_portid(c), nlh, err);
}

/* A request datagram's messages, in order, from @off; stops when the
 * client's queue is full (the transport keeps the rest). */
static size_t rcv(void *ctx, struct emd_conn *c, const uint8_t *buf, size_t len, size_t off)
{
	struct emd_genl *g = ctx;

	while (len - off >= NLMSG_HDRLEN && !emd_conn_closing(c)) {
		const struct nlmsghdr *nlh = (const void *)(buf + off);
		size_t mlen = nlh->nlmsg_len, step;

		if (mlen < NLMSG_HDRLEN || mlen > len - off) {
			struct emnl_error e;
			struct nlmsghdr hdr = *nlh;

			/* The kernel drops such a datagram silently; we say why. */
			hdr.nlmsg_len = NLMSG_HDRLEN;
			emnl_error_set(&e, -EINVAL, "bad nlmsg_len %zu (%zu bytes left in the packet)",
				       mlen, len - off);
			send_error(g, c, &hdr, &e);
			return len;
		}
		rcv_msg(g, c, nlh);
		step = NLMSG_ALIGN(mlen);
		off = step >= len - off ? len : off + step;
		if (off < len && emd_conn_congested(g->t, c))
			return off; /* enough waits for this client: the rest waits too */
	}
	return len;
}

/* The transport read only @len of the @sent bytes @c sent. */
static void too_big(void *ctx, struct emd_conn *c, const uint8_t *buf, size_t len, size_t sent,
		    size_t limit)
{
	struct nlmsghdr hdr;
	struct emnl_error e;

	assert(len >= sizeof(hdr));
	memcpy(&hdr, buf, sizeof(hdr));
	hdr.nlmsg_len = sizeof(hdr);
	emnl_error_set(&e, -EMSGSIZE, "request of %zu bytes exceeds the limit of %zu", sent, limit);
	send_error(ctx, c, &hdr, &e);
}

/* The overrun notice: NLMSG_ERROR -ENOBUFS, sequence 0, an echoed header of
 * type NLMSG_OVERRUN, and how many events were lost. */
static int overrun(void *ctx, struct emd_conn *c, struct emnl_writer *w, uint64_t dropped)
{
	struct nlmsghdr req = {.nlmsg_len = sizeof(req), .nlmsg_type = NLMSG_OVERRUN,
			       .nlmsg_pid = emd_conn_portid(c)};
	struct emnl_error e;

	(void)ctx;
	emnl_error_set(&e, -ENOBUFS, "event queue full: %llu events dropped",
		       (unsigned long long)dropped);
	return emnl_put_extack(w, &req, emd_conn_portid(c), &e, true, true);
}

const struct emd_transport_ops emd_genl_transport_ops = {
	.rcv = rcv,
	.too_big = too_big,
	.pending = pending,
	.pull = pull,
	.overrun = overrun,
};

/* ---- events and groups ----------------------------------------------------------- */

void emd_genl_event_writer(struct emd_genl *g, struct emnl_writer *w)
{
	emnl_writer_init(w, g->txbuf, EMNL_DGRAM_MAX, g->cfg.pad);
}

void emd_genl_event_begin(const struct emd_genl_family *f, struct emnl_writer *w, uint8_t cmd)
{
	emnl_msg_begin_genl(w, f->id, 0, 0, 0, cmd, (uint8_t)f->spec->version);
}

void emd_genl_multicast(struct emd_genl *g, const struct emd_genl_family *f, size_t group,
			struct emnl_writer *w)
{
	int n = emnl_msg_end(w);

	assert(group < f->n_groups);
	if (n <= 0)
		return;
	static_call(emd_count)(EMD_OP_EVENT);
	if (g->t)
		emd_transport_multicast(g->t, g->first_group[emd_genl_family_index(g, f)] + (unsigned)group,
					emnl_writer_data(w), (size_t)n);
}

int emd_genl_join(struct emd_genl *g, const struct emd_genl_info *info, uint32_t group_id,
		  bool join)
{
	for (size_t i = 0; i < g->n_families; i++) {
		const struct emd_genl_family *f = g->families[i];

		for (size_t k = 0; k < f->n_groups; k++)
			if (f->groups[k].id == group_id) {
				emd_conn_set_member(info->conn, g->first_group[i] + (unsigned)k, join);
				return 0;
			}
	}
	return -ENOENT;
}
