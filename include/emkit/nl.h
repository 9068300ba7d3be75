/*
 * emkit/nl.h — generic netlink driven by YNL spec files.
 *
 * One library serves both ends of a generic netlink conversation: the client
 * (emctl) and the server (emd). Everything protocol-specific comes from a YNL
 * spec file (the YAML format of the kernel's Documentation/netlink/specs), so
 * the same code speaks nlctrl, dev-energymodel or any other family.
 *
 * The pieces, in the order a message meets them:
 *
 *   writer     struct emnl_writer: every netlink byte emkit writes (requests,
 *              replies, events, acks, nlctrl answers) is appended through it
 *              to a caller-owned datagram: the kernel's layout, the u64 pad
 *              rule stated once, never a partial message.
 *   spec       emnl_spec_load() reads a YNL file (genetlink, genetlink-legacy):
 *              definitions (enums, flags), attribute sets, operations and
 *              multicast groups. Numbers are assigned as YNL does: attributes
 *              from 1, enum entries from 0, flags from bit 0, operations from 1,
 *              each `value:` restarting the count.
 *   values     struct emnl_attrs is a typed tree of attributes (numbers, strings,
 *              binaries, flags, nests, arrays), each tied to its spec attribute.
 *   codec      emnl_encode() turns a tree into a netlink message in a buffer the
 *              caller owns; emnl_decode() turns message bytes back into a tree.
 *              Attributes are 4-byte aligned; a u64 in a set that has a `pad`
 *              attribute is written as the kernel's nla_put_u64_64bit() writes it
 *              (see EMNL_PAD_* below for exactly when a pad appears).
 *   validate   emnl_validate() checks a message strictly against the spec, as the
 *              kernel's strict mode does, hands back the operation and the
 *              top-level attributes by type (the kernel's info->attrs[]), and
 *              on failure fills struct emnl_error: errno, a message, the offset
 *              of the offending attribute from the start of the message, the
 *              missing attribute type.
 *   errors     struct emnl_error and its wire form: emnl_put_extack() writes
 *              it as NLMSG_ERROR with extended-ack TLVs; emnl_extack_parse()
 *              decodes one, and emnl_error_format() makes it a readable line.
 *   client     struct emnl_sock talks to the kernel (AF_NETLINK, NETLINK_GENERIC,
 *              with NETLINK_EXT_ACK and NETLINK_CAP_ACK) or to a peer over a UNIX
 *              SOCK_SEQPACKET socket (one netlink datagram per packet), with the
 *              same calls: resolve a family, do, dump, subscribe, receive.
 *   nlctrl     emnl_put_ctrl_family() answers CTRL_CMD_GETFAMILY for a served
 *              family in nlctrl's exact bytes; with emnl_validate() and
 *              emnl_put_extack() that is what a seqpacket server needs beyond
 *              the codec.
 *   json       emnl_to_json() / emnl_from_json(): the shape of the kernel's `ynl`
 *              CLI with --output-json (enum values by name, flags as lists of
 *              names, repeated attributes as lists, binaries as hex).
 *
 * Not supported: genetlink-legacy fixed headers (`fixed-header:` structs
 * after the genlmsghdr; nlctrl and dev-energymodel have none) and the
 * netlink-raw protocol (rtnetlink).
 *
 * Example: ask the kernel's controller for the nlctrl family, print it as JSON
 * (it builds with `cc app.c $(pkg-config --cflags --libs emkit)`; the test
 * nl-header-examples builds and runs it).
 *
 *	struct emnl_spec *spec = emnl_spec_load("spec/nlctrl.yaml", &err);
 *	struct emnl_sock *sk = emnl_sock_open_kernel(&err);
 *	struct emnl_family fam;
 *	emnl_family_resolve(sk, spec, &fam, &err);
 *	const struct emnl_op *op = emnl_spec_op(spec, "getfamily");
 *	struct emnl_attrs *req = emnl_attrs_new(op->set);
 *	emnl_attrs_add_str(req, "family-name", "nlctrl");
 *	struct emnl_attrs *reply;
 *	if (emnl_do(sk, &fam, op, req, &reply, &err) < 0) {
 *		char line[512];
 *		emnl_error_format(&err, spec, line, sizeof(line));
 *		fprintf(stderr, "%s\n", line);
 *	} else {
 *		json_object *j = emnl_to_json(reply);
 *		puts(json_object_to_json_string(j));
 *		json_object_put(j);
 *		emnl_attrs_free(reply);
 *	}
 *	emnl_attrs_free(req);
 *	emnl_family_release(&fam);
 *	emnl_sock_close(sk);
 *	emnl_spec_free(spec);
 *
 * Conventions: functions that can fail return a negative errno (or NULL) and,
 * where they take a struct emnl_error, say why in it. A spec is immutable once
 * loaded and may be shared between threads; a socket and a value tree belong
 * to one thread at a time. The only state kept outside those objects is one
 * spare decode chunk per thread (at most 64 KiB, released at thread exit),
 * which lets a request loop decode replies without calling malloc.
 */
#ifndef EMKIT_NL_H
#define EMKIT_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "emkit/version.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

/* ------------------------------------------------------------------------- */
/* Errors                                                                      */
/* ------------------------------------------------------------------------- */

/*
 * What the kernel's policy dump (net/netlink/policy.c,
 * netlink_policy_dump_write_attr()) says about one attribute: its type
 * (enum netlink_attribute_type, NL_ATTR_TYPE_*) and the limits the policy
 * sets. Written as a nest of NL_POLICY_TYPE_ATTR_* attributes, both in an
 * extended ack (NLMSGERR_ATTR_POLICY, the bad attribute's policy) and in a
 * CTRL_CMD_GETPOLICY dump. @has says which of the other fields are written.
 */
struct emnl_policy_attr {
	uint32_t type;            /* NL_ATTR_TYPE_U32, ... */
	unsigned int has;         /* EMNL_POLICY_HAS_* */
	int64_t min_s, max_s;     /* signed range */
	uint64_t min_u, max_u;    /* unsigned range */
	uint32_t min_len, max_len;
	uint32_t policy_idx, policy_maxtype; /* a nest's policy, in a policy dump */
	uint32_t bitfield32_mask;
	uint64_t mask;
};

enum {
	EMNL_POLICY_HAS_RANGE_S = 1 << 0,
	EMNL_POLICY_HAS_RANGE_U = 1 << 1,
	EMNL_POLICY_HAS_MIN_LEN = 1 << 2,
	EMNL_POLICY_HAS_MAX_LEN = 1 << 3,
	EMNL_POLICY_HAS_NESTED = 1 << 4,
	EMNL_POLICY_HAS_BITFIELD32 = 1 << 5,
	EMNL_POLICY_HAS_MASK = 1 << 6,
};

/*
 * What went wrong, in the terms of an extended ack. err is a negative errno
 * (0: no error; a message then is a warning, as the kernel's ack carries
 * one). The has_* flags say which optional parts are present.
 */
struct emnl_error {
	int err;
	char msg[160];
	bool has_offset;
	uint32_t offset;    /* of the bad attribute from the start of the message */
	bool has_miss_type;
	uint32_t miss_type; /* a required attribute that is absent */
	bool has_miss_nest;
	uint32_t miss_nest; /* offset of the nest it is missing from */
	const void *attr_set; /* set miss_type belongs to, if known (struct emnl_attr_set) */
	bool has_policy;
	struct emnl_policy_attr policy; /* the bad attribute's policy (NLMSGERR_ATTR_POLICY) */
};

/*
 * emnl_error_set - fill an error with an errno and a printf-style message.
 * @e: error to fill (may be NULL: nothing happens)
 * @err: negative errno
 * Returns @err, so callers can write `return emnl_error_set(e, -EINVAL, ...)`.
 */
int emnl_error_set(struct emnl_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* emnl_error_clear - reset @e to "no error". */
void emnl_error_clear(struct emnl_error *e);

/* ------------------------------------------------------------------------- */
/* Writer                                                                      */
/* ------------------------------------------------------------------------- */

/*
 * When a u64 attribute of a set with a pad attribute gets a pad before it.
 * The kernel's nla_put_u64_64bit() pads only on architectures without
 * efficient unaligned access, and there only when the attribute header would
 * start 8-byte aligned (so that the payload, 4 bytes later, would not be):
 * then it first puts a zero-length pad attribute (4 bytes). Alignment is
 * counted from the start of the datagram (the kernel's skb data).
 */
enum emnl_pad_mode {
	EMNL_PAD_NEVER,  /* x86-64, arm64, ...: what this machine's kernel does */
	EMNL_PAD_ALIGN8, /* architectures without efficient unaligned access */
};

/* emnl_pad_mode_native - the mode the kernel of this architecture uses. */
enum emnl_pad_mode emnl_pad_mode_native(void);

/*
 * A datagram being written: messages one after the other in a buffer the
 * caller owns. Open a message (emnl_msg_begin / emnl_msg_begin_genl), put
 * its attributes, close it (emnl_msg_end). Puts do not return errors: the
 * first failure (no room: -EMSGSIZE; a payload nla_len cannot say: -EINVAL)
 * is kept, later puts do nothing, and emnl_msg_end() reports it and takes
 * the message out whole, so what the buffer holds is always whole messages.
 *
 * Layout, as the kernel's nlmsg_put()/nla_put(): attributes 4-byte aligned
 * with zeroed padding, nla_len without the padding, strings with their NUL,
 * nests closed with their final length. For a u64 of a set that has a pad
 * attribute, emnl_put_u64_pad() applies the rule above, counting alignment
 * from the start of the datagram (emnl_writer_init_at() when the buffer is
 * not its start).
 *
 * A limit (emnl_writer_set_limit; default: the buffer size) bounds the
 * datagram for every message but the first: a message that would end past
 * it is taken out (-EMSGSIZE) and waits for the next datagram. This is how
 * a dump packs whole messages into packets of a chosen size.
 *
 * Example: a get-perf-domains reply.
 *
 *	struct emnl_writer w;
 *	uint8_t buf[512];
 *	emnl_writer_init(&w, buf, sizeof(buf), emnl_pad_mode_native());
 *	emnl_msg_begin_genl(&w, family_id, 0, seq, portid, cmd, 1);
 *	emnl_put_u32(&w, DEV_ENERGYMODEL_A_PERF_DOMAIN_PERF_DOMAIN_ID, id);
 *	emnl_put_u64_pad(&w, DEV_ENERGYMODEL_A_PERF_DOMAIN_FLAGS, flags,
 *			 DEV_ENERGYMODEL_A_PERF_DOMAIN_PAD);
 *	if (emnl_msg_end(&w) < 0)
 *		... it did not fit; buf holds nothing of it
 *	send(fd, emnl_writer_data(&w), emnl_writer_len(&w), 0);
 */
struct emnl_writer {
	/* private: use the functions below */
	uint8_t *buf;
	size_t size;   /* capacity */
	size_t limit;  /* bound for messages after the first */
	size_t len;    /* bytes written: whole messages, then the open one */
	size_t start;  /* offset of the open message */
	size_t base;   /* offset of buf in its datagram, for the pad rule */
	int err;       /* the open message's first failed put */
	bool open;
	enum emnl_pad_mode pad;
};

/* emnl_writer_init - an empty datagram at @buf, @size bytes. */
void emnl_writer_init(struct emnl_writer *w, void *buf, size_t size, enum emnl_pad_mode pad);
/* emnl_writer_init_at - the same, for a buffer that starts inside a datagram
 * beginning at @dgram_start (NULL: at @buf): u64 alignment counts from there. */
void emnl_writer_init_at(struct emnl_writer *w, void *buf, size_t size, const void *dgram_start,
			 enum emnl_pad_mode pad);
/* emnl_writer_set_limit - bound the datagram for messages after the first. */
void emnl_writer_set_limit(struct emnl_writer *w, size_t limit);
/* emnl_writer_len - bytes of whole messages written (no message open). */
size_t emnl_writer_len(const struct emnl_writer *w);
/* emnl_writer_data - the buffer. */
void *emnl_writer_data(const struct emnl_writer *w);
/* emnl_writer_truncate - drop every message after the first @len bytes. */
void emnl_writer_truncate(struct emnl_writer *w, size_t len);
/* emnl_writer_error - the open message's first failure (0: none yet). */
int emnl_writer_error(const struct emnl_writer *w);

/* emnl_msg_begin - open a message; returns its header (NULL: no room). */
struct nlmsghdr *emnl_msg_begin(struct emnl_writer *w, uint16_t type, uint16_t flags,
				uint32_t seq, uint32_t portid);
/* emnl_msg_put_extra - @len zeroed bytes of fixed header after the nlmsghdr. */
void *emnl_msg_put_extra(struct emnl_writer *w, size_t len);
/* emnl_msg_begin_genl - open a generic netlink message (nlmsghdr, genlmsghdr). */
struct genlmsghdr *emnl_msg_begin_genl(struct emnl_writer *w, uint16_t type, uint16_t flags,
				       uint32_t seq, uint32_t portid, uint8_t cmd,
				       uint8_t version);
/* emnl_msg_end - close the open message: its length, or the negative errno
 * of its first failed put / -EMSGSIZE past the limit (then it is gone). */
int emnl_msg_end(struct emnl_writer *w);
/* emnl_msg_cancel - take the open message out. */
void emnl_msg_cancel(struct emnl_writer *w);

/* Attributes of the open message. */
void emnl_put(struct emnl_writer *w, uint16_t type, const void *data, size_t len);
void emnl_put_flag(struct emnl_writer *w, uint16_t type);
void emnl_put_u8(struct emnl_writer *w, uint16_t type, uint8_t v);
void emnl_put_u16(struct emnl_writer *w, uint16_t type, uint16_t v);
void emnl_put_u32(struct emnl_writer *w, uint16_t type, uint32_t v);
/* emnl_put_u64 - a u64 with no pad (a set without a pad attribute). */
void emnl_put_u64(struct emnl_writer *w, uint16_t type, uint64_t v);
/* emnl_put_u64_pad - a u64 of a set whose pad attribute is @pad_type, as
 * nla_put_u64_64bit() writes it in the writer's pad mode. */
void emnl_put_u64_pad(struct emnl_writer *w, uint16_t type, uint64_t v, uint16_t pad_type);
void emnl_put_strz(struct emnl_writer *w, uint16_t type, const char *s);
/* emnl_nest_begin - open a nest (NLA_F_NESTED set); returns its offset. */
size_t emnl_nest_begin(struct emnl_writer *w, uint16_t type);
/* emnl_nest_begin_noflag - a nest without NLA_F_NESTED, as older kernel code
 * (the controller) writes them. */
size_t emnl_nest_begin_noflag(struct emnl_writer *w, uint16_t type);
void emnl_nest_end(struct emnl_writer *w, size_t nest);
/* emnl_nest_cancel - take an open nest and what it holds out. */
void emnl_nest_cancel(struct emnl_writer *w, size_t nest);

/* ------------------------------------------------------------------------- */
/* Spec model                                                                  */
/* ------------------------------------------------------------------------- */

/* Attribute types of YNL. */
enum emnl_type {
	EMNL_T_UNUSED = 0,
	EMNL_T_U8, EMNL_T_U16, EMNL_T_U32, EMNL_T_U64,
	EMNL_T_S8, EMNL_T_S16, EMNL_T_S32, EMNL_T_S64,
	EMNL_T_UINT,   /* 4 or 8 bytes, unsigned */
	EMNL_T_SINT,   /* 4 or 8 bytes, signed */
	EMNL_T_STRING, /* NUL-terminated on the wire */
	EMNL_T_BINARY,
	EMNL_T_FLAG,   /* no payload: presence is the value */
	EMNL_T_PAD,    /* alignment filler, never a value */
	EMNL_T_NEST,
	EMNL_T_INDEXED_ARRAY,   /* nest of entries numbered 1.. of sub_type */
	EMNL_T_NEST_TYPE_VALUE, /* nests whose types carry values, then a set */
	EMNL_T_BITFIELD32,
};

/* Kinds of definition. */
enum emnl_def_kind { EMNL_DEF_ENUM, EMNL_DEF_FLAGS, EMNL_DEF_CONST, EMNL_DEF_STRUCT };

/* One enum or flags definition: entry i is named names[i] and worth values[i]
 * (for flags, values[i] is the bit mask, 1 << bit). */
struct emnl_def {
	char *name;
	enum emnl_def_kind kind;
	size_t n;
	char **names;
	uint64_t *values;
};

struct emnl_attr_set;

/* One attribute of a set. */
struct emnl_attr {
	char *name;
	uint16_t type;          /* attribute number on the wire */
	enum emnl_type kind;
	enum emnl_type sub_kind; /* element type of an indexed-array */
	bool multi;             /* multi-attr: may repeat, values form a list */
	bool enum_as_flags;
	bool byte_order_be;     /* byte-order: big-endian */
	char *nested_name;      /* nested-attributes, resolved into nested */
	const struct emnl_attr_set *nested;
	char *enum_name;        /* enum:, resolved into def */
	const struct emnl_def *def;
	size_t n_type_value;    /* nest-type-value: levels and their names */
	char **type_value;
	const struct emnl_attr_set *set; /* the set this attribute belongs to */
	/* checks: the limits the kernel's policy puts on it in a request */
	uint32_t max_len;       /* max-len (strings): 0 for none */
	bool has_min, has_max;  /* min, max (integers) */
	int64_t min, max;
};

/* An attribute set, attrs in spec order. */
struct emnl_attr_set {
	char *name;
	char *subset_of;
	size_t n;
	struct emnl_attr *attrs;
	uint16_t max_type;
	const struct emnl_attr *pad; /* the set's pad attribute, if it has one */
	/* private: use emnl_set_attr_by_type() */
	const struct emnl_attr **by_type; /* max_type + 1 entries: look-up by number */
};

/* One direction of an operation: command number and attribute list. */
struct emnl_msg_spec {
	bool present;
	uint8_t cmd;
	size_t n;
	const struct emnl_attr **attrs; /* the listed attributes */
};

/* One operation. */
struct emnl_op {
	char *name;
	const struct emnl_attr_set *set;
	char *set_name;
	struct emnl_msg_spec do_req, do_rep, dump_req, dump_rep, event;
	bool has_do, has_dump;
	bool is_notify, is_event;
	char *notify_name; /* notify: the op whose do reply is the payload */
	char *mcgrp;
	uint8_t value;     /* the operation's number in the unified model */
	bool admin_perm, uns_admin_perm; /* flags: [admin-perm], [uns-admin-perm] */
	unsigned int dont_validate; /* dont-validate: EMNL_DONT_VALIDATE_* */
};

/* dont-validate: of an operation (genetlink-legacy): the kernel's
 * GENL_DONT_VALIDATE_* flags of its ops. */
enum {
	EMNL_DONT_VALIDATE_STRICT = 1 << 0,      /* do requests are parsed liberally */
	EMNL_DONT_VALIDATE_DUMP = 1 << 1,        /* (dump requests: the core's own) */
	EMNL_DONT_VALIDATE_DUMP_STRICT = 1 << 2, /* dump requests are parsed liberally */
};

/* A whole family. */
struct emnl_spec {
	char *name;
	char *protocol; /* genetlink, genetlink-legacy, ... */
	uint32_t version;
	bool directional;
	size_t n_defs, n_sets, n_ops, n_mcgrps;
	struct emnl_def *defs;
	struct emnl_attr_set *sets;
	struct emnl_op *ops;
	char **mcgrps;
};

/*
 * emnl_spec_load - read a YNL spec file.
 * @path: the YAML file
 * @e: filled on failure with a message naming the file and line
 * Returns the spec (free with emnl_spec_free) or NULL. Besides broken YAML,
 * unknown types and dangling names, a spec no message could follow is
 * refused: e.g. an attribute numbered 0 that is not a `type: unused`
 * placeholder (the kernel never accepts attribute type 0).
 */
struct emnl_spec *emnl_spec_load(const char *path, struct emnl_error *e);

/* emnl_spec_parse - as emnl_spec_load, from a YAML text of @len bytes. */
struct emnl_spec *emnl_spec_parse(const char *text, size_t len, struct emnl_error *e);

/* emnl_spec_free - release a spec and everything it owns. */
void emnl_spec_free(struct emnl_spec *spec);

/* Look-ups by name; NULL when absent. */
const struct emnl_attr_set *emnl_spec_set(const struct emnl_spec *spec, const char *name);
const struct emnl_op *emnl_spec_op(const struct emnl_spec *spec, const char *name);
const struct emnl_def *emnl_spec_def(const struct emnl_spec *spec, const char *name);
const struct emnl_attr *emnl_set_attr(const struct emnl_attr_set *set, const char *name);
/* emnl_set_attr_by_type - the attribute numbered @type in @set, or NULL. */
const struct emnl_attr *emnl_set_attr_by_type(const struct emnl_attr_set *set, uint16_t type);

/*
 * emnl_spec_op_by_cmd - which operation a message with command @cmd is.
 * @reply: the message travels kernel → user (matters for directional specs)
 * @msg: set to the matching direction (do request/reply, dump..., event)
 */
const struct emnl_op *emnl_spec_op_by_cmd(const struct emnl_spec *spec, uint8_t cmd,
					  bool reply, const struct emnl_msg_spec **msg);

/* emnl_type_name - the YNL name of a type ("u32", "nest", ...). */
const char *emnl_type_name(enum emnl_type t);

/* ------------------------------------------------------------------------- */
/* Value trees                                                                 */
/* ------------------------------------------------------------------------- */

/* One attribute with its value. */
struct emnl_value {
	const struct emnl_attr *attr; /* NULL for an array element or unknown type */
	uint16_t type;
	enum emnl_type kind;
	union {
		uint64_t u;     /* unsigned kinds, flag (1), bitfield32 (value | selector << 32) */
		int64_t s;      /* signed kinds */
		struct {
			char *ptr;  /* string (NUL-terminated) or binary */
			size_t len; /* binary length; string length without NUL */
		} bytes;
		struct emnl_attrs *nest; /* nest, array, nest-type-value */
	};
	uint32_t tv[4]; /* nest-type-value: the type numbers at each level */
	/* private: */
	bool borrowed;  /* bytes belong to the tree's arena, not to this value */
};

/*
 * A list of attributes: a message body or a nest's payload. Memory: a list
 * built with emnl_attrs_new() holds its first values inline and grows on the
 * heap; a decoded tree lives in one arena owned by its root (a handful of
 * allocations per message instead of one per string and nest). Either way
 * emnl_attrs_free() on the root releases everything, and adding values to
 * any list of a decoded tree is allowed.
 */
struct emnl_attrs {
	const struct emnl_attr_set *set; /* set the attributes belong to (NULL: array) */
	const struct emnl_attr *array_of; /* for an indexed array: its attribute */
	size_t n;        /* values v[0..n-1], in message order */
	struct emnl_value *v;
	/* private: */
	size_t cap;
	bool v_owned;    /* v was allocated on its own (else inline or arena) */
	bool self_owned; /* the list was allocated on its own (else arena) */
	void *arena;     /* root of a decoded tree: the arena's chunks */
};

/* emnl_attrs_new - an empty list for @set. NULL on allocation failure. */
struct emnl_attrs *emnl_attrs_new(const struct emnl_attr_set *set);
/*
 * emnl_attrs_init - make @a an empty list in caller-owned storage: @cap
 * values at @storage are used before anything is allocated. For requests
 * built on the stack on a hot path. emnl_attrs_free() then releases only what
 * the list allocated itself.
 */
void emnl_attrs_init(struct emnl_attrs *a, const struct emnl_attr_set *set,
		     struct emnl_value *storage, size_t cap);
/* emnl_attrs_free - free a list and every nest in it (and the list itself
 * when it came from emnl_attrs_new or a decoder). */
void emnl_attrs_free(struct emnl_attrs *a);
/* emnl_attrs_get - first attribute named @name in @a, or NULL. */
const struct emnl_value *emnl_attrs_get(const struct emnl_attrs *a, const char *name);
/* emnl_attrs_count - how many times @name occurs in @a. */
size_t emnl_attrs_count(const struct emnl_attrs *a, const char *name);

/*
 * Appending values by attribute name. Each returns 0 or a negative errno:
 * -ENOENT (no such attribute in the list's set), -EINVAL (wrong kind),
 * -ENOMEM. The unsigned adder serves u8..u64, uint, flag (any value) and the
 * signed one s8..s64 and sint; range is checked against the attribute's width.
 */
int emnl_attrs_add_uint(struct emnl_attrs *a, const char *name, uint64_t v);
int emnl_attrs_add_sint(struct emnl_attrs *a, const char *name, int64_t v);
int emnl_attrs_add_str(struct emnl_attrs *a, const char *name, const char *s);
/* emnl_attrs_add_str_ref - as emnl_attrs_add_str, without a copy: @s must
 * outlive the list. */
int emnl_attrs_add_str_ref(struct emnl_attrs *a, const char *name, const char *s);
int emnl_attrs_add_bin(struct emnl_attrs *a, const char *name, const void *p, size_t len);
int emnl_attrs_add_flag(struct emnl_attrs *a, const char *name);
/* emnl_attrs_add_nest - append a nest (or array, or nest-type-value); its
 * contents go in *@child, which the parent owns. */
int emnl_attrs_add_nest(struct emnl_attrs *a, const char *name, struct emnl_attrs **child);
/* emnl_attrs_add_value - append a value as is (for elements of indexed
 * arrays and hand-made values); copies @v's bytes, takes ownership of
 * @v->nest. */
int emnl_attrs_add_value(struct emnl_attrs *a, const struct emnl_value *v);

/* ------------------------------------------------------------------------- */
/* Codec                                                                       */
/* ------------------------------------------------------------------------- */

/* Header fields of a generic netlink message. */
struct emnl_hdr {
	uint16_t nlmsg_type;  /* family id */
	uint16_t nlmsg_flags;
	uint32_t nlmsg_seq;
	uint32_t nlmsg_pid;
	uint8_t cmd;
	uint8_t version;
};

/*
 * emnl_encode - write one message: nlmsghdr, genlmsghdr, then @attrs.
 * @buf: where to write; the message starts here
 * @size: bytes available
 * @dgram_start: start of the datagram @buf is part of (for EMNL_PAD_ALIGN8;
 *               NULL means @buf)
 * Returns the message length (nlmsg_len) or -EMSGSIZE when it does not fit
 * (nothing partial is left for the caller to send) or -EINVAL for a value
 * the attribute cannot hold.
 */
int emnl_encode(void *buf, size_t size, const void *dgram_start, const struct emnl_hdr *hdr,
		const struct emnl_attrs *attrs, enum emnl_pad_mode pad);

/*
 * emnl_decode - read one message's attributes into a tree.
 * @nlh: the message (nlmsg_len bytes)
 * @set: the attribute set of its operation
 * @hdr: if not NULL, receives the header fields
 * @out: the tree (free with emnl_attrs_free)
 * @e: why decoding failed
 * Decoding is lenient where validation is strict: unknown attributes are
 * kept as binaries with attr == NULL. Malformed framing still fails (-EINVAL).
 */
int emnl_decode(const struct nlmsghdr *nlh, const struct emnl_attr_set *set,
		struct emnl_hdr *hdr, struct emnl_attrs **out, struct emnl_error *e);

/* emnl_decode_attrs - decode @len bytes of attributes at @p in @set. */
int emnl_decode_attrs(const void *p, size_t len, const struct emnl_attr_set *set,
		      struct emnl_attrs **out, struct emnl_error *e);

/* ------------------------------------------------------------------------- */
/* Validation                                                                  */
/* ------------------------------------------------------------------------- */

/*
 * Requests are checked as the kernel checks them: against the attribute
 * policy its code generator (YNL, tools/net/ynl/pyynl/ynl_gen_c.py) derives
 * from the spec, by the rules of the kernel's parser (lib/nlattr.c,
 * __nla_validate_parse() and validate_nla()), with the kernel's extended-ack
 * messages. The policy of a do or dump request lists the attributes the
 * operation names, up to the highest of them (maxattr); types in between
 * are unspecified. An operation that names none has no policy and its
 * request's attributes are not looked at (genetlink.c
 * genl_family_rcv_msg_attrs_parse(): no maxattr, no parse). A nest's policy
 * is every attribute of its set. Strict parsing (the default; not with
 * dont-validate: strict / dump-strict) refuses, with -EINVAL:
 *
 *   type 0 or above maxattr       "Unknown attribute type", offset
 *   an unspecified type           "Unsupported attribute", offset
 *   a fixed-size integer of the   "invalid attribute length", offset, policy
 *   wrong length (uint/sint: not 4 or 8, also when liberal)
 *   NLA_F_NESTED missing on a     "NLA_F_NESTED is missing" / "... not
 *   nest, or set on a non-nest     expected", offset, policy
 *   bytes after the last whole    "bytes leftover after parsing attributes"
 *   attribute (a bad nla_len)      (no offset; liberal parsing keeps the
 *                                  message as a warning and goes on)
 *   nests deeper than             "allowed policy recursion depth exceeded"
 *   EMNL_MAX_NEST_DEPTH
 *
 * and, strict or not, "Attribute failed policy validation" with offset and
 * policy for a flag with a payload, a nest of 1..3 bytes, a string longer
 * than its max-len (-ERANGE) or without its NUL (-EINVAL), a bitfield32 of
 * the wrong size (-ERANGE) or with bits outside its enum (-EINVAL); "integer
 * out of range" (-ERANGE, with policy) for an enum value outside the enum's
 * range or a min/max check (not applied to big-endian attributes, which no
 * family emkit serves has); "reserved bit set" (-EINVAL) for a flag bit the
 * flags enum does not define; "invalid enum value" (-EINVAL) for a value
 * missing from an enum with gaps. A message of the kernel's own is kept
 * word for word; emkit adds one only where the kernel sends none (an
 * unknown command, a missing required attribute, framing).
 *
 * Replies (@reply) have no kernel policy; they are checked strictly against
 * the spec's reply lists, with emkit's own descriptive messages.
 */

/* The kernel's policy recursion limit: the top level is depth 0, each nest's
 * payload one deeper, and a payload at this depth is refused (so at most
 * EMNL_MAX_NEST_DEPTH - 1 nests inside each other). */
#define EMNL_MAX_NEST_DEPTH 10

/*
 * What emnl_validate() found. The caller may give room for the top-level
 * attributes (@attrs, @n_attrs entries; NULL: not wanted); the validator
 * then sets attrs[t] to the attribute of type t (t < n_attrs) and NULL
 * where there is none: what the kernel's genl core hands a handler as
 * info->attrs[], checked once, read without checks. Of repeated attributes
 * the table keeps the first, or with @last_wins the last, as the kernel's
 * nla_parse() does.
 */
struct emnl_msg_info {
	const struct emnl_op *op;        /* the operation (NULL: unknown command) */
	const struct emnl_msg_spec *msg; /* the direction it was checked against */
	bool dump;                       /* a dump request (NLM_F_DUMP) */
	const struct nlattr **attrs;     /* in: room for the table, or NULL */
	size_t n_attrs;                  /* in: its entries */
	bool last_wins;                  /* in: which of repeated attributes it keeps */
	/* in: commands from this one up must have a zero reserved field in
	 * their genetlink header (the family's resv_start_op; 0: all, as for
	 * every family with split ops; nlctrl: CTRL_CMD_GETPOLICY + 1) */
	unsigned int resv_start_op;
	bool parsed;                     /* out: the request had a policy and was parsed */
};

/*
 * emnl_validate - check a request as the kernel would (or, with @reply, a
 * reply strictly against the spec).
 * @spec: the family
 * @nlh: the message; @len: bytes available from nlh (the datagram's rest)
 * @reply: check against reply attribute lists instead of request ones
 * @required: attribute types the top level must contain (may be NULL)
 * @n_required: length of @required
 * @info: if not NULL, receives the operation (also when a later check
 *        fails) and, where it has room, the attribute table
 * Returns 0 or a negative errno, with @e filled (see above): -EINVAL for
 * framing, a non-zero reserved field ("genlmsghdr.reserved field is not
 * 0"), a policy violation or a missing required attribute (miss_type and
 * "missing attribute 'name'"); -ERANGE for some policy violations;
 * -EOPNOTSUPP for an unknown command or one the operation does not support
 * (do/dump). Offsets are from the start of the message (@nlh). A liberal
 * parse that met trailing bytes returns 0 with the kernel's warning in
 * e->msg.
 */
int emnl_validate(const struct emnl_spec *spec, const struct nlmsghdr *nlh, size_t len,
		  bool reply, const uint16_t *required, size_t n_required,
		  struct emnl_msg_info *info, struct emnl_error *e);

/* ------------------------------------------------------------------------- */
/* Kernel policies                                                             */
/* ------------------------------------------------------------------------- */

/*
 * One attribute policy table of the kernel (struct nla_policy[maxtype + 1])
 * as YNL generates it: the attributes @msg lists, or with @msg NULL every
 * attribute of @set (a nest's policy). The validator applies them; a
 * server answering CTRL_CMD_GETPOLICY reports them.
 */
struct emnl_policy {
	const struct emnl_attr_set *set;
	const struct emnl_msg_spec *msg; /* NULL: all of @set */
	uint16_t maxtype;
};

/* emnl_request_policy - the policy of @op's do (or @dump) request: false
 * when it has none (the request names no attributes). */
bool emnl_request_policy(const struct emnl_op *op, bool dump, struct emnl_policy *p);

/* emnl_policy_equal - the same table (the kernel shares one policy between
 * operations that name the same attributes of the same set). */
bool emnl_policy_equal(const struct emnl_policy *a, const struct emnl_policy *b);

/*
 * emnl_policy_entry - what @p says about attribute @type, as the kernel's
 * policy dump writes it. Returns false when the table has no entry for it
 * (above maxtype, or NLA_UNSPEC: a dump skips it). For a nest with a policy
 * of its own, *@nested (if not NULL) is set to it and EMNL_POLICY_HAS_NESTED
 * to be completed by the caller with the policy's index in its dump
 * (pa->policy_idx); pa->policy_maxtype is filled.
 */
bool emnl_policy_entry(const struct emnl_policy *p, uint16_t type, struct emnl_policy_attr *pa,
		       struct emnl_policy *nested);

/*
 * emnl_put_policy_attr - append @pa as a nest of type @nest_type, laid out
 * as netlink_policy_dump_write_attr() lays it out (the limits, then
 * NL_POLICY_TYPE_ATTR_TYPE; u64s with the NL_POLICY_TYPE_ATTR_PAD rule).
 */
void emnl_put_policy_attr(struct emnl_writer *w, uint16_t nest_type,
			  const struct emnl_policy_attr *pa);

/* ------------------------------------------------------------------------- */
/* Extended acks                                                               */
/* ------------------------------------------------------------------------- */

/*
 * emnl_extack_put - write the NLMSG_ERROR answering @req.
 * @buf, @size: where (caller-owned)
 * @req: the request being answered (its nlmsg_len bytes are read)
 * @e: the error; e->err == 0 makes an ack. MSG, OFFS, POLICY, MISS_TYPE and
 *     MISS_NEST TLVs are written for the parts present, in that order (the
 *     order of af_netlink.c netlink_ack_tlv_fill()), with NLM_F_ACK_TLVS; an
 *     ack carries the message only (a warning).
 * @cap: the peer asked for NETLINK_CAP_ACK: echo only the request's header
 *     (NLM_F_CAPPED). Acks (err == 0) are always capped, as the kernel does.
 * @ext: the peer asked for NETLINK_EXT_ACK (no TLVs without it)
 * Returns the message length or -EMSGSIZE.
 */
int emnl_extack_put(void *buf, size_t size, const struct nlmsghdr *req,
		    const struct emnl_error *e, bool cap, bool ext);

/*
 * emnl_put_extack - the same NLMSG_ERROR, appended to a datagram as one more
 * message, its nlmsg_pid set to @portid (the kernel puts the requester's
 * port there; the echoed header keeps the request's own). Returns the
 * message length, -EMSGSIZE (nothing written) or -EINVAL (an uncapped echo
 * of a request shorter than its header).
 */
int emnl_put_extack(struct emnl_writer *w, const struct nlmsghdr *req, uint32_t portid,
		    const struct emnl_error *e, bool cap, bool ext);

/*
 * emnl_extack_parse - decode an NLMSG_ERROR message into @e.
 * Returns 0 when it parsed (e->err holds the peer's errno, 0 for an ack) or
 * -EINVAL when the message is malformed. @req_out (optional) points at the
 * echoed request header inside @nlh.
 */
int emnl_extack_parse(const struct nlmsghdr *nlh, struct emnl_error *e,
		      const struct nlmsghdr **req_out);

/*
 * emnl_error_format - one readable line for @e, e.g.
 * "Invalid argument (EINVAL): unknown attribute type 9 (offset 28)" or, for a
 * kernel MISS_TYPE without text,
 * "Invalid argument (EINVAL): missing attribute 'ifindex' (type 1)".
 * A missing attribute is named from e->attr_set (filled by emnl_validate and
 * by the client for top-level attributes) or else from @spec (may be NULL)
 * when all its sets agree on the name of that number. Returns @buf.
 */
char *emnl_error_format(const struct emnl_error *e, const struct emnl_spec *spec,
			char *buf, size_t size);

/* ------------------------------------------------------------------------- */
/* Client                                                                      */
/* ------------------------------------------------------------------------- */

struct emnl_sock;

/* A family as resolved on one socket: its id and multicast group ids. */
struct emnl_family {
	const struct emnl_spec *spec;
	uint16_t id;
	uint32_t version;
	size_t n_mcgrps;
	char *mcgrp_names[16];
	uint32_t mcgrp_ids[16];
};

/*
 * On a SOCK_SEQPACKET transport there is no kernel socket for the server to
 * look at, so what a kernel learns from the socket itself travels as nlctrl
 * commands of the seqpacket transport (nlctrl has none of these numbers):
 *
 *   JOIN / LEAVE   join or leave the multicast group whose id is the u32
 *                  attribute EMNL_SEQPACKET_ATTR_GROUP; the server acks
 *                  (setsockopt(NETLINK_ADD/DROP_MEMBERSHIP) on a kernel
 *                  socket).
 *   RECV_LEN       the reader has called recvmsg() with a buffer of the u32
 *                  attribute EMNL_SEQPACKET_ATTR_LEN bytes. The server keeps,
 *                  as the kernel's netlink_recvmsg() keeps max_recvmsg_len,
 *                  the largest such length, capped at
 *                  EMNL_DUMP_MAX_RECVMSG_LEN, and sizes dump packets from it
 *                  (netlink_dump(): the larger of EMNL_NLMSG_GOODSIZE and
 *                  that length); without it, dump packets stay within
 *                  EMNL_NLMSG_GOODSIZE, as a fresh kernel socket's do. Not
 *                  acked unless NLM_F_ACK asks for it.
 */
#define EMNL_SEQPACKET_CMD_JOIN 0x70
#define EMNL_SEQPACKET_CMD_LEAVE 0x71
#define EMNL_SEQPACKET_CMD_RECV_LEN 0x72
#define EMNL_SEQPACKET_ATTR_GROUP 1
#define EMNL_SEQPACKET_ATTR_LEN 1

/* The kernel's dump packet sizes on x86-64 and 4 KiB-page arm64:
 * NLMSG_GOODSIZE = SKB_WITH_OVERHEAD(PAGE_SIZE), and the cap of
 * max_recvmsg_len, SKB_WITH_OVERHEAD(32768); SKB_WITH_OVERHEAD(x) takes off
 * SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) = 320 bytes. */
#define EMNL_NLMSG_GOODSIZE 3776
#define EMNL_DUMP_MAX_RECVMSG_LEN 32448

/* Largest datagram a peer may send. The kernel caps its dump datagrams at
 * 32 KiB; a seqpacket server keeps to the same bound (a larger packet is
 * reported as -EMSGSIZE, not silently cut). */
#define EMNL_DGRAM_MAX 32768

/* emnl_sock_open_kernel - a NETLINK_GENERIC socket with extended acks and
 * capped acks turned on. NULL on failure (@e says why). */
struct emnl_sock *emnl_sock_open_kernel(struct emnl_error *e);
/* emnl_sock_open_unix - connect a SOCK_SEQPACKET socket to @path. */
struct emnl_sock *emnl_sock_open_unix(const char *path, struct emnl_error *e);
/* emnl_sock_open_fd - wrap a connected SOCK_SEQPACKET @fd (taken over). */
struct emnl_sock *emnl_sock_open_fd(int fd, struct emnl_error *e);
/* emnl_sock_close - close and free. */
void emnl_sock_close(struct emnl_sock *sk);
/* emnl_sock_fd - the file descriptor, for poll(). */
int emnl_sock_fd(const struct emnl_sock *sk);
/* emnl_sock_set_rcvbuf_len - size of the receive buffer used per recv()
 * (at least 4096; default EMNL_DGRAM_MAX). The kernel sizes its dump
 * datagrams from the largest receive it has seen on the socket, up to 32 KiB,
 * so set this before the first request to get small datagrams. Below
 * EMNL_DGRAM_MAX each receive first peeks at the datagram's size and grows
 * the buffer when needed: nothing is ever cut. On a seqpacket socket the
 * client tells the server the largest receive so far (RECV_LEN, before its
 * next request), so that the server sizes dump packets as the kernel
 * would. */
int emnl_sock_set_rcvbuf_len(struct emnl_sock *sk, size_t len);
/* emnl_sock_datagrams - how many datagrams this socket has received. */
uint64_t emnl_sock_datagrams(const struct emnl_sock *sk);

/*
 * emnl_family_resolve - look @spec's family up with CTRL_CMD_GETFAMILY and
 * fill @fam with its id, version and groups. For nlctrl itself no request
 * is needed (its id is fixed) but one is sent anyway, to learn its groups.
 */
int emnl_family_resolve(struct emnl_sock *sk, const struct emnl_spec *spec,
			struct emnl_family *fam, struct emnl_error *e);

/* emnl_family_group_id - the id of group @name, or -ENOENT. */
int64_t emnl_family_group_id(const struct emnl_family *fam, const char *name);

/* emnl_family_release - free the names held by @fam. */
void emnl_family_release(struct emnl_family *fam);

/*
 * emnl_do - send @op's do request made of @req (may be NULL: no attributes)
 * with NLM_F_ACK, wait for the reply and the ack.
 * @reply: receives the decoded reply (NULL if the operation has none)
 * Returns 0 or the negative errno the peer answered, with @e filled from its
 * extended ack.
 */
int emnl_do(struct emnl_sock *sk, const struct emnl_family *fam, const struct emnl_op *op,
	    const struct emnl_attrs *req, struct emnl_attrs **reply, struct emnl_error *e);

/* Called once per dump reply message; return 0 to go on, negative to stop. */
typedef int (*emnl_msg_cb)(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data);

/*
 * emnl_dump - send @op's dump request and call @cb for every reply message,
 * across as many datagrams as the peer sends, until NLMSG_DONE. @cb owns
 * nothing: the tree is freed after it returns. Returns 0, @cb's negative
 * return, or the peer's errno (with @e).
 */
int emnl_dump(struct emnl_sock *sk, const struct emnl_family *fam, const struct emnl_op *op,
	      const struct emnl_attrs *req, emnl_msg_cb cb, void *data, struct emnl_error *e);

/* emnl_subscribe - join multicast group @group of @fam. */
int emnl_subscribe(struct emnl_sock *sk, const struct emnl_family *fam, const char *group,
		   struct emnl_error *e);

/*
 * emnl_recv_notification - wait up to @timeout_ms (-1: forever) for one
 * datagram of notifications and call @cb for each message in it.
 * Notifications that arrived while emnl_do/emnl_dump waited for a reply were
 * kept; they are delivered first, without waiting.
 * Returns the number of messages, 0 on timeout, or a negative errno. Lost
 * events are -ENOBUFS, once, on either transport: a kernel socket's recv()
 * fails so when its buffer overflowed (af_netlink.c netlink_overrun()), and
 * a seqpacket server's overrun notice (NLMSG_ERROR -ENOBUFS echoing
 * NLMSG_OVERRUN; e->msg then holds its text) is reported the same way; one
 * met while emnl_do/emnl_dump waited is reported by the next call here.
 */
int emnl_recv_notification(struct emnl_sock *sk, const struct emnl_family *fam,
			   int timeout_ms, emnl_msg_cb cb, void *data, struct emnl_error *e);

/*
 * emnl_send_raw - send @len bytes (one or more messages) as one datagram.
 * For callers that build their own messages (tests, benchmarks). On a
 * seqpacket socket a RECV_LEN announcement goes first when the largest
 * receive grew since the last one (see EMNL_SEQPACKET_CMD_RECV_LEN).
 */
int emnl_send_raw(struct emnl_sock *sk, const void *buf, size_t len);
/* emnl_recv_raw - receive one datagram into the socket's buffer; *@out points
 * at it until the next receive. Returns its length or a negative errno. */
ssize_t emnl_recv_raw(struct emnl_sock *sk, const void **out, int timeout_ms);
/* emnl_recv_next - as emnl_recv_raw, but a notification kept while
 * emnl_do/emnl_dump waited for a reply comes first, without waiting, as a
 * datagram of its own, and events lost meanwhile are -ENOBUFS first. For
 * callers that read notifications themselves (a server's overrun notice
 * that arrives here is handed over as the datagram it is). */
ssize_t emnl_recv_next(struct emnl_sock *sk, const void **out, int timeout_ms);

/* ------------------------------------------------------------------------- */
/* nlctrl answers                                                              */
/* ------------------------------------------------------------------------- */

/* What CTRL_CMD_NEWFAMILY says about a family. */
struct emnl_ctrl_op {
	uint32_t cmd;
	uint32_t flags; /* GENL_CMD_CAP_DO, _DUMP, _HASPOL, GENL_ADMIN_PERM... */
};
struct emnl_ctrl_group {
	const char *name;
	uint32_t id;
};
struct emnl_ctrl_family {
	const char *name;
	uint16_t id;
	uint32_t version;
	uint32_t hdrsize;
	uint32_t maxattr; /* 0 for split ops, whose policies are per operation */
	size_t n_ops;
	const struct emnl_ctrl_op *ops;
	size_t n_groups;
	const struct emnl_ctrl_group *groups;
};

/*
 * emnl_put_ctrl_family - append the controller's CTRL_CMD_NEWFAMILY for @f,
 * as the kernel's ctrl_fill_info() writes it: family name, id, version,
 * header size, maxattr, the operations (CTRL_ATTR_OPS, numbered from 1, each
 * its id then its flags; left out when there are none) and the multicast
 * groups (numbered from 1, each its id before its name), nests without
 * NLA_F_NESTED. @flags (0, or NLM_F_MULTI in a dump), @seq and @portid go in
 * the header. Returns the message length or a negative errno (nothing
 * written).
 */
int emnl_put_ctrl_family(struct emnl_writer *w, const struct emnl_ctrl_family *f, uint16_t flags,
			 uint32_t seq, uint32_t portid);

/*
 * emnl_ctrl_put_family - the answer to CTRL_CMD_GETFAMILY @req for @spec's
 * family, in a buffer of its own: id @family_id, the spec's version, the
 * operations that have a do or a dump in command order with the flags
 * ctrl_fill_info() computes from the spec (do, dump, has-policy when a
 * request lists attributes, admin), and the spec's groups with ids
 * @group_ids (one per group, in spec order). The request's seq and pid are
 * echoed. Returns the message length or -EMSGSIZE.
 */
int emnl_ctrl_put_family(void *buf, size_t size, const struct nlmsghdr *req,
			 const struct emnl_spec *spec, uint16_t family_id,
			 const uint32_t *group_ids);

/* ------------------------------------------------------------------------- */
/* JSON                                                                        */
/* ------------------------------------------------------------------------- */

/* emnl_to_json - @a as a JSON object (new reference), ynl --output-json shape. */
struct json_object *emnl_to_json(const struct emnl_attrs *a);

/*
 * emnl_from_json - a tree for @set from JSON object @j: keys are attribute
 * names, enum values may be names, flags lists of names, multi-attrs lists.
 * Returns 0 or a negative errno with @e naming the bad key.
 */
int emnl_from_json(const struct json_object *j, const struct emnl_attr_set *set,
		   struct emnl_attrs **out, struct emnl_error *e);

#ifdef __cplusplus
}
#endif

#endif /* EMKIT_NL_H */
