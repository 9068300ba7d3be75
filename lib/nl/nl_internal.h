/*
 * Shared between the files of lib/nl (not installed). The modules and what
 * each uses, lowest first (no file uses one listed after it):
 *
 *   arena.c     memory for decoded trees
 *   writer.c    every byte written (writer_impl.h: its inline bodies)
 *   spec.c      the YNL loader, look-ups, the kind tables below
 *   policy.c    the kernel's attribute policies of a spec, as YNL derives
 *               them, and their policy-dump description (writer, spec)
 *   error.c     struct emnl_error, NLMSG_ERROR with extack (writer, spec,
 *               policy)
 *   value.c     value trees (spec, arena)
 *   codec.c     trees to bytes and back (writer, value, spec, arena, error)
 *   validate.c  the kernel's checks of a request, strict checks of a
 *               reply (spec, policy, error)
 *   ctrl.c      nlctrl's GETFAMILY answer (writer, policy)
 *   client.c    sockets, do, dump, notifications (codec, writer, error)
 *   json.c      trees to JSON and back (value, spec, error)
 */
#ifndef EMKIT_NL_INTERNAL_H
#define EMKIT_NL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emkit/nl.h"

/* Internal functions are not part of the library's ABI (and skip the PLT). */
#define EMNL_INTERNAL __attribute__((visibility("hidden")))

/* Size of the generic netlink header after struct nlmsghdr. */
#define EMNL_GENL_HDRLEN 4u

/* ---- spec.c: the kind tables ---------------------------------------------- */

/* Byte width of a fixed-size integer kind, 0 for the others. */
EMNL_INTERNAL unsigned emnl_kind_width(enum emnl_type k);

/* Is @k a signed integer kind? */
EMNL_INTERNAL bool emnl_kind_signed(enum emnl_type k);

/* Does @a render as a list of flag names? */
EMNL_INTERNAL bool emnl_attr_is_flags(const struct emnl_attr *a);

/* ---- policy.c: one entry of a kernel policy table ---------------------------- */

/* The nla_policy types YNL generates (include/net/netlink.h NLA_*). */
enum emnl_kp_type {
	EMNL_KP_UNSPEC,
	EMNL_KP_U8, EMNL_KP_U16, EMNL_KP_U32, EMNL_KP_U64,
	EMNL_KP_S8, EMNL_KP_S16, EMNL_KP_S32, EMNL_KP_S64,
	EMNL_KP_UINT, EMNL_KP_SINT,
	EMNL_KP_FLAG, EMNL_KP_NUL_STRING, EMNL_KP_BINARY,
	EMNL_KP_NESTED, EMNL_KP_NESTED_ARRAY, EMNL_KP_BITFIELD32,
};

/* Its further validation (the policy's validation_type). */
enum emnl_kp_check {
	EMNL_KPC_NONE,
	EMNL_KPC_RANGE,  /* NLA_POLICY_RANGE: min..max */
	EMNL_KPC_MIN,    /* NLA_POLICY_MIN */
	EMNL_KPC_MAX,    /* NLA_POLICY_MAX */
	EMNL_KPC_MASK,   /* NLA_POLICY_MASK: flags */
	EMNL_KPC_ENUM,   /* a sparse enum: YNL's generated validation function */
};

struct emnl_kpolicy {
	enum emnl_kp_type type;
	enum emnl_kp_check check;
	int64_t min, max;
	uint64_t mask;                /* flags mask, bitfield32's valid bits */
	uint32_t len;                 /* strings: max length; nests: their table's maxtype */
	const struct emnl_attr *attr; /* NULL for NLA_UNSPEC */
	bool has_nested;
	struct emnl_policy nested;    /* a nest's table */
};

/* The entry of @p for @type: false when @type is 0 or beyond the table's
 * maxtype; else *@kp (type EMNL_KP_UNSPEC where the table has nothing). */
EMNL_INTERNAL bool emnl_kpolicy(const struct emnl_policy *p, uint16_t type,
				struct emnl_kpolicy *kp);
/* Describe @kp as the policy dump does; false for NLA_UNSPEC. */
EMNL_INTERNAL bool emnl_kpolicy_describe(const struct emnl_kpolicy *kp,
					 struct emnl_policy_attr *pa);
EMNL_INTERNAL bool emnl_kpolicy_signed(enum emnl_kp_type t);
/* The values @kp accepts: its type's range narrowed by its checks. */
EMNL_INTERNAL void emnl_kpolicy_range(const struct emnl_kpolicy *kp, int64_t *smin,
				      int64_t *smax, uint64_t *umin, uint64_t *umax);

/* ---- arena.c ---------------------------------------------------------------- */

/* Bump allocation for decoded trees: chunks of at least @hint bytes. */
EMNL_INTERNAL void *emnl_arena_alloc(void **head, size_t size, size_t hint);
EMNL_INTERNAL void emnl_arena_free(void *head);

/* ---- the error record ------------------------------------------------------- */

/*
 * emnl_error_vset - the body of emnl_error_set() (error.c), inline so that
 * the spec loader, which error.c's formatting builds on, fills errors
 * without depending on error.c. Returns @err.
 */
static inline int emnl_error_vset(struct emnl_error *e, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static inline int emnl_error_vset(struct emnl_error *e, int err, const char *fmt, va_list ap)
{
	if (!e)
		return err;
	memset(e, 0, sizeof(*e));
	e->err = err;
	if (fmt)
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return err;
}

#endif
