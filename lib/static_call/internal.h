/*
 * Internal interfaces of the static-call runtime.
 *
 *   static_call.c   the public entry point: checks, the update lock, generic keys,
 *                   and making every thread see the new code (sync_core)
 *   text_alias.c    a writable alias of a code page, so that code is never W and X
 *   patch_*.c       one per architecture: rewrite a trampoline or a call site
 *   call_sites.c    find the calls to trampolines (modules linked with --emit-relocs)
 *                   and point them at the target itself
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

/* ---- call sites (call_sites.c) ---- */

struct sc_site {
	uintptr_t addr;  /* the call instruction */
	char *name;      /* the static call's name */
	uintptr_t tramp; /* its trampoline, once we patch the site (for the int3 handler) */
};

/* Append-only, published with release stores: read by a signal handler. */
struct sc_site_table {
	struct sc_site *sites;
	size_t nr, alloc;
};
extern struct sc_site_table sc_sites;

/* sc_sites_scan - find the call sites of modules not scanned yet. 0 or -errno. */
int sc_sites_scan(void);

/* sc_sites_prepare - make every page holding one of @key's sites writable through an
 * alias, so that the writes that follow cannot fail. 0 or -errno, nothing changed. */
int sc_sites_prepare(struct static_call_key *key);

/* sc_sites_retarget - point @key's sites at @func (or back at the trampoline). */
void sc_sites_retarget(struct static_call_key *key, void *func);

/* ---- per architecture (patch_*.c) ---- */

#if defined(__x86_64__)
#define SC_SITE_LEN 5 /* call rel32 */
#else
#define SC_SITE_LEN 4 /* bl imm26 */
#endif

/* The call site a relocation of @type at @where belongs to, or 0 if not a call's. */
uintptr_t sc_arch_site_of_reloc(unsigned int type, uintptr_t where);

/* Decode the direct call at @site into *@target: 0, or -1 if it is not one. */
int sc_arch_site_target(uintptr_t site, uintptr_t *target);

/* Can a call at @site reach @dest directly? */
int sc_arch_site_reaches(uintptr_t site, uintptr_t dest);

/* Rewrite the call at @site to call @dest (which it reaches); sc_sites_prepare() has
 * made its pages writable. The caller runs sc_sync_core() afterwards. */
void sc_arch_patch_site(uintptr_t site, uintptr_t dest);

#endif
