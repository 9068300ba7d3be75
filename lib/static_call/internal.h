/*
 * Internal interfaces of the static-call runtime.
 *
 *   static_call.c   the public entry points: checks, the update lock, making every
 *                   thread see new code (sync_core), fork handling
 *   module.c        the registry of modules (executable, shared objects) that use
 *                   static calls: registered by their constructors, dropped by their
 *                   destructors; memory from mmap
 *   text_alias.c    a writable view of a module's code, so that code is never W and X
 *   call_sites.c    find the calls to trampolines (modules linked with --emit-relocs)
 *                   and point them at the target itself
 *   patch_*.c       one per architecture: rewrite a trampoline or a call site
 *
 * Everything that runs with the update lock held calls no libc function that takes
 * a lock or allocates: only system calls, string functions and this library's code,
 * so that static_call_update() is async-signal-safe.
 */
#ifndef EMKIT_STATIC_CALL_INTERNAL_H
#define EMKIT_STATIC_CALL_INTERNAL_H

#include <link.h>
#include <stdint.h>
#include <sys/types.h>

/* The library is not a module with static calls of its own. */
#define EMKIT_STATIC_CALL_NO_MODULE
#include "emkit/static_call.h"

#define SC_HIDDEN __attribute__((visibility("hidden")))

/* ---- the update lock (static_call.c) ---- */

/* sc_lock - take the update lock: 0, or -EDEADLK if this thread already holds it. */
SC_HIDDEN int sc_lock(void);
SC_HIDDEN void sc_unlock(void);

/* sc_sync_core - every thread of the process has executed a serializing event. */
SC_HIDDEN void sc_sync_core(void);

/* ---- memory (module.c): mmap'd, zeroed, async-signal-safe ---- */

SC_HIDDEN void *sc_mem_alloc(size_t size);
SC_HIDDEN void sc_mem_free(void *p, size_t size);
SC_HIDDEN size_t sc_page_size(void);

/* ---- modules (module.c) ---- */

#define SC_MAX_SEGS 4 /* executable PT_LOAD segments per module we handle */

/* The writable alias of one executable segment's patched range (text_alias.c). */
struct sc_region {
	uintptr_t seg_lo, seg_hi; /* the segment, page-aligned: the region stays inside */
	uintptr_t lo, hi;         /* aliased range, page-aligned; lo == hi: none */
	int fd;                   /* the memfd behind [lo, hi), or -1 */
	pid_t owner;              /* the process that made fd; any other copies first */
	char *rw;                 /* read-write view of [lo, hi), elsewhere */
};

/* A call to a trampoline found in a module's relocations (call_sites.c). */
struct sc_site {
	uintptr_t addr;  /* the call or jump instruction */
	uintptr_t home;  /* what it called when found: trampoline, veneer or PLT entry */
	uintptr_t tramp; /* the trampoline it reaches; 0 for a PLT entry (see got) */
	uintptr_t got;   /* PLT entry: the GOT slot it jumps through, bound by ld.so */
	uintptr_t cur;   /* what we last made it call */
	unsigned int kind;
};

#define SC_SITE_CALL 0
#define SC_SITE_JUMP 1 /* a tail call */

struct sc_module {
	struct static_call_module *desc; /* NULL: found on demand, not registered */
	uintptr_t base;                  /* load bias */
	char *path;                      /* its file; "" for the executable */
	size_t path_size;
	const ElfW(Dyn) *dynamic;        /* for the GOT slots of PLT entries */
	int bti;                         /* its pages are guarded (PROT_BTI) */
	int scanned;                     /* call sites looked for */
	struct sc_region seg[SC_MAX_SEGS];
	unsigned int nr_segs;
	struct sc_site *sites;
	size_t nr_sites, sites_bytes;
	uintptr_t want_lo, want_hi;      /* trampolines and sites: what will be patched */
};

/* The registry; read and written under the update lock. */
extern SC_HIDDEN struct sc_module **sc_modules;
extern SC_HIDDEN size_t sc_nr_modules;

/* sc_module_of - the registered module whose code holds @addr, or NULL. */
SC_HIDDEN struct sc_module *sc_module_of(uintptr_t addr);

/*
 * sc_module_register_addr - register the module holding @addr without its
 * constructor (one that has not run yet). Not async-signal-safe; called without the
 * lock. 0 or -errno.
 */
SC_HIDDEN int sc_module_register_addr(uintptr_t addr);

/* ---- code aliases (text_alias.c) ---- */

/*
 * sc_text_prepare - make [@addr, @addr + @len) of module @m writable through its
 * alias for the rest of this update. 0, or -errno with nothing changed.
 */
SC_HIDDEN int sc_text_prepare(struct sc_module *m, uintptr_t addr, size_t len);

/*
 * sc_text_write - store @len (4 or 8, aligned, or 1) bytes at @addr (prepared) with
 * one store through the alias, check that the code shows it, and make instruction
 * fetch see it (cache maintenance where needed). 0 or -errno.
 */
SC_HIDDEN int sc_text_write(struct sc_module *m, uintptr_t addr, uint64_t value, size_t len);

/* sc_text_forked - after fork(): each side copies its aliases before writing. */
SC_HIDDEN void sc_text_forked(void);

/* sc_text_release - forget @m's aliases (the module is going away). */
SC_HIDDEN void sc_text_release(struct sc_module *m);

/* ---- call sites (call_sites.c) ---- */

/* sc_sites_scan - find the call sites of registered modules not scanned yet. */
SC_HIDDEN int sc_sites_scan(void);

/* sc_sites_prepare - make every page holding one of @key's sites writable, so that
 * the writes that follow cannot fail. 0 or -errno, nothing changed. */
SC_HIDDEN int sc_sites_prepare(const struct static_call_key *key);

/* sc_sites_retarget - point @key's sites at @dest (or back home if out of reach). */
SC_HIDDEN int sc_sites_retarget(const struct static_call_key *key, uintptr_t dest);

/* sc_sites_release - free @m's site table. */
SC_HIDDEN void sc_sites_release(struct sc_module *m);

/* ---- per architecture (patch_*.c) ---- */

#if defined(__x86_64__)
#define SC_SITE_LEN 5 /* call/jmp rel32 */
#else
#define SC_SITE_LEN 4 /* bl/b imm26 */
#endif

/* sc_arch_tramp_len - bytes of a trampoline the library may rewrite (from its entry). */
SC_HIDDEN size_t sc_arch_tramp_len(const struct static_call_key *key);

/* sc_arch_patch - point @key's trampoline at @dest (never NULL). 0 or -errno. */
SC_HIDDEN int sc_arch_patch(struct sc_module *m, struct static_call_key *key, uintptr_t dest);

/* The call site a relocation of @type at @where belongs to, or 0 if not a call's. */
SC_HIDDEN uintptr_t sc_arch_site_of_reloc(unsigned int type, uintptr_t where);

/* Decode the direct call or jump at @site: 0 with *@target and *@kind, or -1. */
SC_HIDDEN int sc_arch_site_decode(uintptr_t site, uintptr_t *target, unsigned int *kind);

/* Can a branch at @site reach @dest directly? */
SC_HIDDEN int sc_arch_site_reaches(uintptr_t site, uintptr_t dest);

/* Rewrite the branch at @site to go to @dest (which it reaches); its pages are
 * prepared. The caller runs sc_sync_core() afterwards. 0 or -errno. */
SC_HIDDEN int sc_arch_patch_site(struct sc_module *m, const struct sc_site *s, uintptr_t dest);

#endif
