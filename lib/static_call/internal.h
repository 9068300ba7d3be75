/*
 * Internal interfaces of the static-call runtime.
 *
 *   static_call.c   the public entry point: checks, the update lock, generic keys,
 *                   and making every thread see the new code (sync_core)
 *   text_alias.c    a writable alias of a code page, so that code is never W and X
 *   patch_*.c       one per architecture: rewrite a trampoline for a new target
 *
 * Everything here runs with the update lock held.
 */
#ifndef EMKIT_STATIC_CALL_INTERNAL_H
#define EMKIT_STATIC_CALL_INTERNAL_H

#include <stdint.h>

#include "emkit/static_call.h"

/*
 * sc_text_alias - the writable alias of the code at @rx.
 * The page holding @rx is remapped, the first time, from a memfd holding the same
 * bytes: read+exec at its own address, read+write at the returned alias.
 * Returns the alias of @rx itself, or NULL with errno set (the page is then as it was).
 */
void *sc_text_alias(void *rx);

/*
 * sc_text_publish - make instructions written through the alias of @rx..@rx+@len
 * visible to instruction fetch: cache maintenance where the architecture needs it.
 */
void sc_text_publish(void *rx, size_t len);

/*
 * sc_arch_patch - point @key's trampoline at @func (NULL: return at once).
 * Returns 0 or a negative errno; on error the trampoline is unchanged.
 */
int sc_arch_patch(struct static_call_key *key, void *func);

/* sc_sync_core - every thread of the process has executed a serializing event. */
void sc_sync_core(void);

#endif
