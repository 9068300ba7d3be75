/*
 * Internal helpers shared by the files of lib/nl (not installed).
 */
#ifndef EMKIT_NL_INTERNAL_H
#define EMKIT_NL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "emkit/nl.h"

/* Internal functions are not part of the library's ABI (and skip the PLT). */
#define EMNL_INTERNAL __attribute__((visibility("hidden")))

/* Size of the generic netlink header after struct nlmsghdr. */
#define EMNL_GENL_HDRLEN 4u

/* Byte width of a fixed-size integer kind, 0 for the others. */
EMNL_INTERNAL unsigned emnl_kind_width(enum emnl_type k);

/* Is @k a signed integer kind? */
EMNL_INTERNAL bool emnl_kind_signed(enum emnl_type k);

/* Does @a render as a list of flag names? */
EMNL_INTERNAL bool emnl_attr_is_flags(const struct emnl_attr *a);

/* Bump allocation for decoded trees: chunks of at least @hint bytes. */
EMNL_INTERNAL void *emnl_arena_alloc(void **head, size_t size, size_t hint);
EMNL_INTERNAL void emnl_arena_free(void *head);

#endif
