/*
 * emd's generic netlink core: what the kernel's genetlink.c, with
 * netlink_rcv_skb(), netlink_ack() and netlink_dump(), does for a family —
 * here for emd's families (nlctrl, dev-energymodel), between the transport
 * (transport.h: sockets, queues, epoll; it knows no family) and the
 * families' handlers (ctrl.c, family.c; they never call the transport).
 *
 * A family is one static ops table in the shape of the kernel's
 * genl_split_ops: one entry per command and kind (do or dump), with the
 * attributes a do request must carry, its handler, and the counter it
 * bumps. Its policy is the family's YNL spec: the core validates a request
 * once (emnl_validate) and hands the handler the attribute table. Then:
 *
 *   do     doit(priv, info, w) fills a reply in @w — emd_genl_reply_begin(),
 *          puts, emd_genl_reply_end() — or writes nothing, and returns 0 or
 *          a negative errno with info->extack filled. The core sends the
 *          reply, then the ack if the request asked for one, or the
 *          NLMSG_ERROR with the extended ack.
 *   dump   the core records the dump (sequence, requester, a cursor
 *          cb->args[] of zeros; start(priv, info, cb), if the op has one,
 *          may refuse it or set the cursor up from the request, as the
 *          kernel's netlink_dump_control.start) and builds its first packet
 *          at once, as netlink_dump_start() does; each later one when the
 *          transport can take a packet. For each, dumpit(priv, cb, w) gets
 *          an empty packet: the handler appends whole messages from its
 *          cursor on (emd_genl_dump_begin/end; _end refuses one that would
 *          pass the packet size, and the handler stops there), records
 *          where it stopped in cb->args[], and returns 1 (more) or 0
 *          (done). The core packs NLMSG_DONE after the last message, or
 *          alone in the next packet when it does not fit, and ends the
 *          dump. A packet is as large as the kernel's netlink_dump() would
 *          make it for this reader: EMNL_NLMSG_GOODSIZE, or the largest
 *          receive the reader announced (RECV_LEN, emd_genl_set_recv_len()),
 *          up to EMNL_DUMP_MAX_RECVMSG_LEN, and never more than
 *          --dump-packet-size. A handler that sets cb->gen (the data's
 *          generation, never 0) for each packet gets NLM_F_DUMP_INTR on the
 *          first message built after it changed, and on NLMSG_DONE if that
 *          is the first (nl_dump_check_consistent()).
 *
 * The controller's view of a family (CTRL_CMD_GETFAMILY: its operations
 * with their do/dump/has-policy flags, its groups) is derived from the same
 * table by emd_genl_put_family(), so what emd says it serves is what it
 * dispatches. Events go out through emd_genl_event_begin() and
 * emd_genl_multicast().
 *
 * Everything runs on emd's one thread.
 */
#ifndef EMD_GENL_H
#define EMD_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>

#include "emkit/nl.h"
#include "hooks.h"

struct emd_conn;
struct emd_transport;
struct emd_genl;

/* Op flags (with GENL_CMD_CAP_DO / GENL_CMD_CAP_DUMP: which half). */
enum {
	/* Not in the family's spec: the core does not validate it (the handler
	 * checks its own attributes) and GETFAMILY does not list it. emd's
	 * JOIN/LEAVE of the seqpacket transport are such ops. */
	EMD_GENL_UNLISTED = 0x100,
};

/* What a do handler gets: the kernel's struct genl_info. */
struct emd_genl_info {
	const struct emd_genl_family *family;
	const struct nlmsghdr *nlh;
	const struct genlmsghdr *genlhdr;
	/* The top-level attributes by type, validated (NULL where absent); for
	 * EMD_GENL_UNLISTED ops, nothing: the handler reads nlh itself. */
	const struct nlattr *const *attrs;
	uint32_t portid;          /* the requester's: replies carry it */
	struct emd_conn *conn;    /* the requester (emd_genl_join) */
	struct emnl_error *extack; /* what the handler says when it fails */
};

/* What a dump handler gets: the kernel's struct netlink_callback. */
struct emd_genl_dump {
	const struct emd_genl_family *family;
	uint32_t seq, portid;     /* of the request: every message carries them */
	uint64_t args[4];         /* the handler's cursor: 0 at the start */
	/* The kernel's cb->seq and cb->prev_seq: the handler sets gen to the
	 * data's generation before it builds a packet; the core flags the
	 * first message built after a change (0: not checked). */
	uint64_t gen, prev_gen;
};

typedef int (*emd_genl_doit_t)(void *priv, struct emd_genl_info *info, struct emnl_writer *w);
typedef int (*emd_genl_dumpit_t)(void *priv, struct emd_genl_dump *cb, struct emnl_writer *w);
typedef int (*emd_genl_start_t)(void *priv, struct emd_genl_info *info, struct emd_genl_dump *cb);

#define EMD_GENL_MAX_REQUIRED 2

/* One operation: the kernel's struct genl_split_ops. */
struct emd_genl_op {
	uint8_t cmd;
	uint16_t flags;            /* GENL_CMD_CAP_DO or _DUMP, EMD_GENL_* */
	uint16_t required[EMD_GENL_MAX_REQUIRED]; /* a do request must carry these (0: none) */
	emd_genl_doit_t doit;
	emd_genl_dumpit_t dumpit;
	emd_genl_start_t start;    /* a dump's start (may be NULL): 0 or -errno + extack */
	enum emd_op counter;       /* counted once the request is valid (EMD_OP_MAX: none) */
};

/* A family as the core serves it. Its file defines the static part; the
 * core fills the rest when it is registered. */
struct emd_genl_family {
	uint16_t id;               /* its nlmsg_type (the kernel allocates these; emd fixes them) */
	const struct emd_genl_op *ops;
	size_t n_ops;
	const struct emnl_ctrl_group *groups; /* the multicast groups it serves: name, id */
	size_t n_groups;
	/* Of repeated attributes, info->attrs[] holds the last, as the kernel's
	 * nla_parse() does (else the first). */
	bool last_wins;
	/* Commands from this one up must have a zero reserved field (the
	 * kernel's genl_family.resv_start_op; 0: all). */
	unsigned int resv_start_op;
	/* private: set by emd_genl_register() */
	const struct emnl_spec *spec; /* the policy, and name, version and groups */
	void *priv;                   /* the handlers' first argument */
	size_t n_attrs;               /* entries of info->attrs */
};

/* The core's configuration. */
struct emd_genl_config {
	size_t dump_packet_size;   /* bytes per dump packet (at least one message each) */
	enum emnl_pad_mode pad;    /* the u64 pad rule of replies and events */
};

/* The core: one per emd. */
struct emd_genl *emd_genl_new(const struct emd_genl_config *cfg);
void emd_genl_free(struct emd_genl *g);
/* emd_genl_set_transport - where replies and events go. */
void emd_genl_set_transport(struct emd_genl *g, struct emd_transport *t);
/* emd_genl_register - serve @f (whose requests @spec describes), handlers
 * called with @priv. Families are listed by GETFAMILY in this order. */
int emd_genl_register(struct emd_genl *g, struct emd_genl_family *f,
		      const struct emnl_spec *spec, void *priv);

/* Bytes of per-connection state the core keeps in the transport's
 * connections (the dump in progress). */
size_t emd_genl_conn_size(void);
/* The transport's view of the core (its struct emd_transport_ops). */
extern const struct emd_transport_ops emd_genl_transport_ops;

/* ---- for handlers ------------------------------------------------------------- */

/* Open the reply to @info: @cmd, the family's id and version, the request's
 * sequence, the requester's port. */
void emd_genl_reply_begin(const struct emd_genl_info *info, struct emnl_writer *w, uint8_t cmd);
/* Close it: 0, or -EMSGSIZE with info->extack saying it did not fit. */
int emd_genl_reply_end(const struct emd_genl_info *info, struct emnl_writer *w);

/* The flags of the next message of @cb's dump: NLM_F_MULTI, and
 * NLM_F_DUMP_INTR when the data changed since the last message went in
 * (nl_dump_check_consistent()). */
static inline uint16_t emd_genl_dump_flags(const struct emd_genl_dump *cb)
{
	return (uint16_t)(NLM_F_MULTI |
			  (cb->prev_gen && cb->gen != cb->prev_gen ? NLM_F_DUMP_INTR : 0));
}

/* Open one message of a dump (NLM_F_MULTI, the dump's sequence and port).
 * Inline: a dump opens one per domain. */
static inline void emd_genl_dump_begin(const struct emd_genl_dump *cb, struct emnl_writer *w,
				       uint8_t cmd)
{
	emnl_msg_begin_genl(w, cb->family->id, emd_genl_dump_flags(cb), cb->seq, cb->portid, cmd,
			    (uint8_t)cb->family->spec->version);
}

/* Close it: 0, or negative when it does not fit this packet (it is gone: stop
 * and leave the cursor on it, it goes first in the next packet, flagged as
 * it would have been here). */
static inline int emd_genl_dump_end(struct emd_genl_dump *cb, struct emnl_writer *w)
{
	if (emnl_msg_end(w) < 0)
		return -EMSGSIZE;
	cb->prev_gen = cb->gen;
	return 0;
}

/* Open an event of @f (sequence and port 0). */
void emd_genl_event_begin(const struct emd_genl_family *f, struct emnl_writer *w, uint8_t cmd);
/* Close it and send it to every member of @f's group @group (index in
 * f->groups). */
void emd_genl_multicast(struct emd_genl *g, const struct emd_genl_family *f, size_t group,
			struct emnl_writer *w);
/* A writer for an event, on the core's buffer (events are written one at a
 * time, never while a reply is being written). */
void emd_genl_event_writer(struct emd_genl *g, struct emnl_writer *w);

/* emd_genl_join - make the requester a member of the group with id
 * @group_id of any family (@join) or not; -ENOENT when there is none. */
int emd_genl_join(struct emd_genl *g, const struct emd_genl_info *info, uint32_t group_id,
		  bool join);

/* emd_genl_set_recv_len - the requester called recvmsg() with a buffer of
 * @len bytes (RECV_LEN): its max_recvmsg_len grows to it, up to
 * EMNL_DUMP_MAX_RECVMSG_LEN, as netlink_recvmsg() records it. */
void emd_genl_set_recv_len(const struct emd_genl_info *info, uint32_t len);

/* ---- for the controller -------------------------------------------------------- */

/* The @i-th registered family (NULL past the last). */
const struct emd_genl_family *emd_genl_family_at(const struct emd_genl *g, size_t i);
/* The family with this id or name, or NULL. */
const struct emd_genl_family *emd_genl_family_by_id(const struct emd_genl *g, uint16_t id);
const struct emd_genl_family *emd_genl_family_by_name(const struct emd_genl *g, const char *name);
/* Append CTRL_CMD_NEWFAMILY for @f, derived from its ops table: returns the
 * message length or a negative errno (nothing written). */
int emd_genl_put_family(struct emnl_writer *w, const struct emd_genl_family *f, uint16_t flags,
			uint32_t seq, uint32_t portid);

/* One command of @f as the kernel's genl_op_iter walks split ops: a do
 * entry and the dump entry of the same command that follows it (either may
 * be NULL). */
struct emd_genl_op_pair {
	uint8_t cmd;
	const struct emd_genl_op *doit, *dumpit;
};
/* The pair at *@pos of @f's listed ops, advancing *@pos: false past the last. */
bool emd_genl_op_pair_next(const struct emd_genl_family *f, size_t *pos,
			   struct emd_genl_op_pair *pair);
/* The kernel policy of @op's request (as the validator applies it): false
 * when it has none. */
bool emd_genl_op_policy(const struct emd_genl_family *f, const struct emd_genl_op *op,
			struct emnl_policy *p);
/* The index of registered family @f (for a dump's cursor). */
size_t emd_genl_family_index(const struct emd_genl *g, const struct emd_genl_family *f);

/* ---- diagnostics ----------------------------------------------------------------- */

/* One line about @c's dump for a stall report ("dump: none" or its state). */
void emd_genl_conn_describe(const struct emd_conn *c, char *buf, size_t size);

#endif
