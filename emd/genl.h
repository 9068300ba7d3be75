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
 *          cb->args[] of zeros) and, each time the transport can take a
 *          packet, calls dumpit(priv, cb, w) with an empty packet: the
 *          handler appends whole messages from its cursor on
 *          (emd_genl_dump_begin/end; _end refuses one that would pass the
 *          packet size, and the handler stops there), records where it
 *          stopped in cb->args[], and returns 1 (more) or 0 (done). The
 *          core packs NLMSG_DONE after the last message, or alone in the
 *          next packet when it does not fit, and ends the dump.
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
	uint64_t args[2];         /* the handler's cursor: 0 at the start */
};

typedef int (*emd_genl_doit_t)(void *priv, struct emd_genl_info *info, struct emnl_writer *w);
typedef int (*emd_genl_dumpit_t)(void *priv, struct emd_genl_dump *cb, struct emnl_writer *w);

#define EMD_GENL_MAX_REQUIRED 2

/* One operation: the kernel's struct genl_split_ops. */
struct emd_genl_op {
	uint8_t cmd;
	uint16_t flags;            /* GENL_CMD_CAP_DO or _DUMP, EMD_GENL_* */
	uint16_t required[EMD_GENL_MAX_REQUIRED]; /* a do request must carry these (0: none) */
	emd_genl_doit_t doit;
	emd_genl_dumpit_t dumpit;
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
	 * nla_parse() does (else the first, as emd has always answered
	 * dev-energymodel requests). */
	bool last_wins;
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

/* Open one message of a dump (NLM_F_MULTI, the dump's sequence and port).
 * Inline: a dump opens one per domain. */
static inline void emd_genl_dump_begin(const struct emd_genl_dump *cb, struct emnl_writer *w,
				       uint8_t cmd)
{
	emnl_msg_begin_genl(w, cb->family->id, NLM_F_MULTI, cb->seq, cb->portid, cmd,
			    (uint8_t)cb->family->spec->version);
}

/* Close it: 0, or negative when it does not fit this packet (it is gone: stop
 * and leave the cursor on it, it goes first in the next packet). */
static inline int emd_genl_dump_end(const struct emd_genl_dump *cb, struct emnl_writer *w)
{
	(void)cb;
	return emnl_msg_end(w) < 0 ? -EMSGSIZE : 0;
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

/* ---- diagnostics ----------------------------------------------------------------- */

/* One line about @c's dump for a stall report ("dump: none" or its state). */
void emd_genl_conn_describe(const struct emd_conn *c, char *buf, size_t size);

#endif
