/*
 * Shared between the files of lib/nl (not installed). The modules and what
 * each uses, lowest first (no file uses one listed after it):
 *
 *   arena.c     memory for decoded trees
 *   writer.c    every byte written (writer_impl.h: its inline bodies)
 *   spec.c      the YNL loader, look-ups, the kind tables below
 *   error.c     struct emnl_error, NLMSG_ERROR with extack (writer, spec)
 *   value.c     value trees (spec, arena)
 *   codec.c     trees to bytes and back (writer, value, spec, arena, error)
 *   validate.c  strict checks (spec, error)
 *   ctrl.c      nlctrl's GETFAMILY answer (writer)
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
