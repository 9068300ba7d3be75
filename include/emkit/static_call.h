/* SPDX-License-Identifier: MIT */
/*
 * emkit/static_call.h — static calls for user-space C
 * ====================================================
 *
 * A static call is a call through a variable target that costs what a direct call
 * costs. The target lives in a key; each call goes to the key's trampoline, a tiny
 * piece of code whose branch instruction is rewritten when the target changes. This is
 * the Linux kernel's static_call API, with the same names and meaning, for programs.
 *
 * API
 * ---
 *   DECLARE_STATIC_CALL(name, func)       declare, in a header, a static call whose
 *                                         prototype is that of function func
 *   DEFINE_STATIC_CALL(name, func)        define it, initially calling func
 *   DEFINE_STATIC_CALL_NULL(name, func)   define it with no target: calls do nothing
 *                                         (use static_call_cond); may be set to NULL
 *   DEFINE_STATIC_CALL_RET0(name, func)   define it so that calls return 0
 *   static_call(name)(args...)            call the current target
 *   static_call_cond(name)(args...)       call, result discarded; a no-op when NULL
 *   static_call_update(name, f)           retarget; f must have func's type (or be
 *                                         NULL, for NULL-able calls): anything else
 *                                         does not compile. Returns 0 or -errno.
 *   static_call_query(name)               the current target (NULL if none)
 *   STATIC_CALL_STUB_RET0(name)           this call's own return-0 function, with
 *                                         func's prototype (see "CFI" below)
 *
 * Example
 * -------
 *   int  slow_hash(const char *s, size_t n);
 *   int  fast_hash(const char *s, size_t n);
 *   DEFINE_STATIC_CALL(hash, slow_hash);
 *
 *   h = static_call(hash)(key, len);                    // calls slow_hash
 *   if (cpu_has_crc32())
 *           static_call_update(hash, fast_hash);        // later calls: fast_hash
 *   static_call_update(hash, STATIC_CALL_STUB_RET0(hash)); // calls return 0
 *
 * Updates are serialized by the library. A caller on another thread, at any moment,
 * runs either the old target or the new one, never anything else; when
 * static_call_update() returns, every thread runs the new one. On failure (the code
 * could not be patched, NULL for a call that is not NULL-able, a key that was never
 * defined) the old target stays in force and the result is a negative errno:
 *   -EINVAL  NULL target for a call not defined with DEFINE_STATIC_CALL_NULL, or a key
 *            that was not defined with DEFINE_STATIC_CALL* (never initialised)
 *   -EPERM, -ENOMEM, -EMFILE ...  the trampoline could not be made writable (the
 *            error of memfd_create or mmap, e.g. refused by a seccomp policy)
 *
 * Backends (chosen at build time)
 * -------------------------------
 * trampolines (default on x86-64 and aarch64)
 *     Each key has an out-of-line trampoline in the section .static_call.text of the
 *     module that defines it; callers make a direct call to it, and it branches to the
 *     target. Cost: a direct call plus one direct jump.
 *     x86-64: the trampoline starts with an 8-byte aligned word holding `jmp rel32`
 *     (or `ret` for NULL); an update rewrites the word with one aligned store, then
 *     runs membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) so that every
 *     thread is serialized before the update returns. A target beyond ±2 GiB (another
 *     shared object) is reached through `jmp *slot(%rip)`, the slot being a data word.
 *     aarch64: the first instruction is `B target` (in range, ±128 MiB) or `NOP`,
 *     followed by a load of the slot and `BR x16` (a zero slot returns, for NULL);
 *     only B and NOP are ever swapped under running code, which the architecture
 *     allows, followed by cache maintenance and the same membarrier.
 *     Code is never writable and executable at once: the page holding a trampoline
 *     is mapped a second time, read-write, from a memfd with the same bytes, and
 *     written only through that alias.
 * inline call sites (on top of the trampolines, per module)
 *     Link a module with -Wl,--emit-relocs and its calls to trampolines are found
 *     from its relocations (what the kernel gets from objtool) at the first update;
 *     from then on each update also rewrites every such `call`/`BL` to call the
 *     target itself. Cost: a direct call. x86-64 rewrites a site with one aligned
 *     store when its rel32 fits one 8-byte word, else with the kernel's int3
 *     protocol (a SIGTRAP handler sends a thread that meets the int3 to the
 *     trampoline); aarch64 always with one store. Sites that cannot reach the target,
 *     and NULL targets, go back to calling the trampoline.
 * generic (any architecture; define EMKIT_STATIC_CALL_GENERIC before including)
 *     static_call() is an indirect call through the key. Cost: a load and an
 *     indirect call (plus a retpoline or a CFI check where the build adds them).
 *
 * CFI
 * ---
 * Under clang's -fsanitize=kcfi every indirect call checks a type hash stored just
 * before its target. The kernel's generic backend once pointed every RET0 call at one
 * shared `long __static_call_return0(void)`, whose hash matches no real prototype, so
 * the check failed (an arm64 kernel crashed on `perf record -a`). Here each static
 * call gets its own return-0 stub, STATIC_CALL_STUB_RET0(name), declared with func's
 * prototype, so its kCFI hash is that prototype's; the trampolines carry their
 * prototype's hash too. The untyped stub is kept as static_call_return0_untyped()
 * only so that a test can show kCFI catching it. The stubs zero the integer return
 * register: RET0 is for calls that return an integer or a pointer (or void).
 *
 * Keys defined in one module (executable or shared object) may be called and updated
 * from any module: declare them with DECLARE_STATIC_CALL in a shared header.
 */
#ifndef EMKIT_STATIC_CALL_H
#define EMKIT_STATIC_CALL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One per static call. Fields are the library's; read them only through the macros. */
struct static_call_key {
	void *func;          /* the target as set: what static_call_query() returns */
	void *call;          /* what a generic call calls: func, or the RET0 stub for NULL */
	void *tramp;         /* trampoline entry, or NULL (generic definition) */
	void **slot;         /* the trampoline's far-target slot */
	void *ret0;          /* this call's typed return-0 stub */
	const char *name;    /* the static call's name, for messages */
	unsigned int flags;  /* STATIC_CALL_F_* */
	unsigned int magic;  /* STATIC_CALL_KEY_MAGIC once defined */
};

#define STATIC_CALL_F_NULLABLE 0x1u /* defined with DEFINE_STATIC_CALL_NULL */
#define STATIC_CALL_KEY_MAGIC  0x5ca11edu

/*
 * static_call_update_key - retarget a static call (use static_call_update()).
 * @key:  the call's key
 * @func: the new target, or NULL
 * Returns 0, or a negative errno with the old target still in force.
 */
int static_call_update_key(struct static_call_key *key, void *func);

/*
 * static_call_key_sites - the call sites of @key that the library found (in modules
 * linked with -Wl,--emit-relocs; see "Inline call sites" above); with @direct_only,
 * only those that now call the target directly rather than the trampoline. Known
 * once the key has been updated. For tests and diagnostics.
 */
size_t static_call_key_sites(const struct static_call_key *key, int direct_only);
#define static_call_sites(name, direct_only) static_call_key_sites(&STATIC_CALL_KEY(name), direct_only)

/*
 * static_call_return0_untyped - the kernel's historic shared RET0 stub, long (void).
 * Do not use it as a target: through a typed call under kCFI it traps, which is what
 * the tests show. Use STATIC_CALL_STUB_RET0(name).
 */
long static_call_return0_untyped(void);

/*
 * static_call_backend_name - "x86-64 trampolines", "aarch64 trampolines" or
 * "generic": the backend this header selects for the including file.
 */
#define static_call_backend_name() STATIC_CALL_BACKEND_NAME

/* ---- names ---------------------------------------------------------------- */

#define STATIC_CALL_KEY(name)       static_call_key__##name
#define STATIC_CALL_TRAMP(name)     static_call_tramp__##name
#define STATIC_CALL_STUB_RET0(name) static_call_ret0__##name
#define STATIC_CALL_SLOT(name)      static_call_slot__##name

#define STATIC_CALL_STR_(x) #x
#define STATIC_CALL_STR(x)  STATIC_CALL_STR_(x)

/* ---- backend selection ---------------------------------------------------- */

#if !defined(EMKIT_STATIC_CALL_GENERIC) && defined(__x86_64__)
#define STATIC_CALL_HAVE_TRAMP 1
#define STATIC_CALL_BACKEND_NAME "x86-64 trampolines"
#elif !defined(EMKIT_STATIC_CALL_GENERIC) && defined(__aarch64__)
#define STATIC_CALL_HAVE_TRAMP 1
#define STATIC_CALL_BACKEND_NAME "aarch64 trampolines"
#else
#define STATIC_CALL_HAVE_TRAMP 0
#define STATIC_CALL_BACKEND_NAME "generic"
#endif

/* The typed stubs are written in assembly where we know the architecture. */
#if defined(__x86_64__) || defined(__aarch64__)
#define STATIC_CALL_ASM_STUBS 1
#else
#define STATIC_CALL_ASM_STUBS 0
#endif

/*
 * kCFI type id of a symbol: clang emits __kcfi_typeid_<sym> for every declared
 * function whose address the translation unit takes, so assembly can carry the hash.
 */
#if defined(__has_feature)
#if __has_feature(kcfi)
#define STATIC_CALL_KCFI 1
#endif
#endif
#ifdef STATIC_CALL_KCFI
#define STATIC_CALL_TYPEID(sym) "__kcfi_typeid_" STATIC_CALL_STR(sym)
#else
#define STATIC_CALL_TYPEID(sym) "0"
#endif

/* ---- assembly: typed RET0 stub, trampoline and slot per key ---------------- */

/*
 * Per architecture: the preamble that puts the kCFI hash just before an entry point,
 * the RET0 body, the trampoline body after its first (patched) instruction, and the
 * instructions a trampoline starts with.
 */
#if defined(__x86_64__)
#define STATIC_CALL_ASM_TYPE "@" /* .type/.pushsection spell types @function, @progbits */
/* 16-aligned, the hash in `movl $hash, %eax` ending at the entry. */
#define STATIC_CALL_ASM_PREAMBLE(sym)                                                       \
	".balign 16\n"                                                                      \
	".fill 11, 1, 0xcc\n"                                                               \
	".byte 0xb8\n"                                                                      \
	".long " STATIC_CALL_TYPEID(sym) "\n"
#define STATIC_CALL_ASM_RET0_BODY "xorl %eax, %eax\nret\n"
/*
 * Trampoline: [0,8) the patched word — `jmp rel32` + 3×int3, `ret` + 7×int3, or a short
 * jump to [8,14), `jmp *slot(%rip)`, the path to targets beyond ±2 GiB.
 */
#define STATIC_CALL_ASM_TRAMP_BODY(slot)                                                    \
	".balign 8, 0xcc\n"                                                                 \
	"jmp *" slot "(%rip)\n"                                                             \
	".balign 16, 0xcc\n"
#define STATIC_CALL_INSN_JMP(sym)       "jmp " sym "@PLT"
#define STATIC_CALL_INSN_JMP_LOCAL(sym) "jmp " sym
#define STATIC_CALL_INSN_NULL           "ret"

#elif defined(__aarch64__)
#define STATIC_CALL_ASM_TYPE "%"
/* The hash is the word before the entry. */
#define STATIC_CALL_ASM_PREAMBLE(sym)                                                       \
	".balign 16\n"                                                                      \
	".skip 12\n"                                                                        \
	".long " STATIC_CALL_TYPEID(sym) "\n"
#define STATIC_CALL_ASM_RET0_BODY "mov x0, xzr\nret\n"
/*
 * Trampoline: word 0 is `B target` or `NOP` (the only instruction ever rewritten); then
 * the slot is loaded and branched to, or, when it is zero (NULL), we return.
 */
#define STATIC_CALL_ASM_TRAMP_BODY(slot)                                                    \
	"adrp x16, " slot "\n"                                                              \
	"ldr x16, [x16, :lo12:" slot "]\n"                                                  \
	"cbz x16, 1f\n"                                                                     \
	"br x16\n"                                                                          \
	"1: ret\n"
#define STATIC_CALL_INSN_JMP(sym)       "b " sym
#define STATIC_CALL_INSN_JMP_LOCAL(sym) "b " sym
#define STATIC_CALL_INSN_NULL           "nop"
#endif

#if STATIC_CALL_ASM_STUBS
/* A typed function symbol in .static_call.text: preamble, label, body, size. */
#define STATIC_CALL_ASM_FUNC(sym, visibility, body)                                         \
	".pushsection .static_call.text, \"ax\", " STATIC_CALL_ASM_TYPE "progbits\n"       \
	".globl " STATIC_CALL_STR(sym) "\n"                                                 \
	visibility STATIC_CALL_ASM_PREAMBLE(sym)                                            \
	".type " STATIC_CALL_STR(sym) ", " STATIC_CALL_ASM_TYPE "function\n"                \
	STATIC_CALL_STR(sym) ":\n"                                                          \
	body                                                                                \
	".size " STATIC_CALL_STR(sym) ", . - " STATIC_CALL_STR(sym) "\n"                    \
	".popsection\n"

#define STATIC_CALL_ASM_RET0(name)                                                          \
	__asm__(STATIC_CALL_ASM_FUNC(STATIC_CALL_STUB_RET0(name),                            \
				     ".hidden " STATIC_CALL_STR(STATIC_CALL_STUB_RET0(name)) "\n", \
				     STATIC_CALL_ASM_RET0_BODY))

/* The far-target slot (a hidden data word), then the trampoline. */
#define STATIC_CALL_ASM_TRAMP(name, init_insn, slot_init)                                   \
	__asm__(".pushsection .data, \"aw\", " STATIC_CALL_ASM_TYPE "progbits\n"           \
		".balign 8\n"                                                               \
		".globl " STATIC_CALL_STR(STATIC_CALL_SLOT(name)) "\n"                      \
		".hidden " STATIC_CALL_STR(STATIC_CALL_SLOT(name)) "\n"                     \
		STATIC_CALL_STR(STATIC_CALL_SLOT(name)) ": .quad " slot_init "\n"           \
		".popsection\n"                                                             \
		STATIC_CALL_ASM_FUNC(STATIC_CALL_TRAMP(name), "",                           \
				     init_insn "\n" STATIC_CALL_ASM_TRAMP_BODY(              \
					     STATIC_CALL_STR(STATIC_CALL_SLOT(name)))))
#endif

/* ---- declaration and definition ------------------------------------------- */

/*
 * The trampoline symbol is declared with func's type: it is the prototype every macro
 * checks against, whichever backend defines the call.
 */
#define DECLARE_STATIC_CALL(name, func)                                                    \
	extern struct static_call_key STATIC_CALL_KEY(name);                               \
	extern __typeof__(func) STATIC_CALL_TRAMP(name);                                   \
	extern __typeof__(func) STATIC_CALL_STUB_RET0(name)                                \
		__attribute__((visibility("hidden")))

#if STATIC_CALL_ASM_STUBS
#define STATIC_CALL_DEFINE_RET0_(name) STATIC_CALL_ASM_RET0(name)
#define STATIC_CALL_RET0_ADDR_(name)   ((void *)&STATIC_CALL_STUB_RET0(name))
#else
/*
 * No assembly for this architecture: the RET0 stub is the shared untyped one, which
 * is correct without CFI (the only configuration such a build can have).
 */
#define STATIC_CALL_DEFINE_RET0_(name) _Static_assert(1, "")
#define STATIC_CALL_RET0_ADDR_(name)   ((void *)&static_call_return0_untyped)
#endif

#if STATIC_CALL_HAVE_TRAMP
#define STATIC_CALL_DEFINE_(n_, f_, initf_, initc_, fl_, insn_, slot_)  \
	DECLARE_STATIC_CALL(n_, f_);                                                   \
	extern void *STATIC_CALL_SLOT(n_) __attribute__((visibility("hidden")));         \
	STATIC_CALL_DEFINE_RET0_(n_);                                                    \
	STATIC_CALL_ASM_TRAMP(n_, insn_, slot_);                                 \
	struct static_call_key STATIC_CALL_KEY(n_) = {                                   \
		.func = (void *)(initf_),                                               \
		.call = (void *)(initc_),                                               \
		.tramp = (void *)&STATIC_CALL_TRAMP(n_),                                 \
		.slot = &STATIC_CALL_SLOT(n_),                                           \
		.ret0 = STATIC_CALL_RET0_ADDR_(n_),                                      \
		.name = #n_,                                                             \
		.flags = (fl_),                                                          \
		.magic = STATIC_CALL_KEY_MAGIC,                                            \
	}

#define DEFINE_STATIC_CALL(name, func)                                                     \
	STATIC_CALL_DEFINE_(name, func, &(func), &(func), 0, STATIC_CALL_INSN_JMP(#func), #func)
#define DEFINE_STATIC_CALL_NULL(name, func)                                                \
	STATIC_CALL_DEFINE_(name, func, (void *)0, STATIC_CALL_RET0_ADDR_(name),           \
			    STATIC_CALL_F_NULLABLE, STATIC_CALL_INSN_NULL, "0")
#define DEFINE_STATIC_CALL_RET0(name, func)                                                \
	STATIC_CALL_DEFINE_(name, func, STATIC_CALL_RET0_ADDR_(name),                      \
			    STATIC_CALL_RET0_ADDR_(name), 0,                               \
			    STATIC_CALL_INSN_JMP_LOCAL(STATIC_CALL_STR(STATIC_CALL_STUB_RET0(name))), \
			    STATIC_CALL_STR(STATIC_CALL_STUB_RET0(name)))

/* A direct call to the trampoline. */
#define static_call(name) (STATIC_CALL_TRAMP(name))

#else /* generic */

#define STATIC_CALL_DEFINE_(n_, f_, initf_, initc_, fl_)                    \
	DECLARE_STATIC_CALL(n_, f_);                                                   \
	STATIC_CALL_DEFINE_RET0_(n_);                                                    \
	struct static_call_key STATIC_CALL_KEY(n_) = {                                   \
		.func = (void *)(initf_),                                               \
		.call = (void *)(initc_),                                               \
		.ret0 = STATIC_CALL_RET0_ADDR_(n_),                                      \
		.name = #n_,                                                             \
		.flags = (fl_),                                                          \
		.magic = STATIC_CALL_KEY_MAGIC,                                            \
	}

#define DEFINE_STATIC_CALL(name, func) STATIC_CALL_DEFINE_(name, func, &(func), &(func), 0)
#define DEFINE_STATIC_CALL_NULL(name, func)                                                \
	STATIC_CALL_DEFINE_(name, func, (void *)0, STATIC_CALL_RET0_ADDR_(name),           \
			    STATIC_CALL_F_NULLABLE)
#define DEFINE_STATIC_CALL_RET0(name, func)                                                \
	STATIC_CALL_DEFINE_(name, func, STATIC_CALL_RET0_ADDR_(name),                      \
			    STATIC_CALL_RET0_ADDR_(name), 0)

/*
 * An indirect call through the key. The target is never NULL: a NULL call runs the
 * call's typed RET0 stub, which does nothing for a void call.
 */
#define static_call(name)                                                                  \
	((__typeof__(&STATIC_CALL_TRAMP(name)))__atomic_load_n(&STATIC_CALL_KEY(name).call, \
							       __ATOMIC_ACQUIRE))
#endif

/* Both backends make NULL a no-op, so the conditional call is the plain one. */
#define static_call_cond(name) (void)static_call(name)

/* Decays a function designator to a pointer, leaves a pointer (or NULL) alone. */
#define STATIC_CALL_DECAY_(f) __typeof__(1 ? (f) : (f))

#define static_call_update(name, f)                                                        \
	({                                                                                 \
		_Static_assert(__builtin_types_compatible_p(STATIC_CALL_DECAY_(f),         \
							    __typeof__(&STATIC_CALL_TRAMP(name))) || \
				       __builtin_types_compatible_p(STATIC_CALL_DECAY_(f),  \
								    void *),                \
			       "static_call_update(" #name ", " #f                          \
			       "): the target's type is not the static call's prototype"); \
		static_call_update_key(&STATIC_CALL_KEY(name), (void *)(f));               \
	})

#define static_call_query(name)                                                            \
	((__typeof__(&STATIC_CALL_TRAMP(name)))__atomic_load_n(&STATIC_CALL_KEY(name).func, \
							       __ATOMIC_ACQUIRE))

#ifdef __cplusplus
}
#endif

#endif /* EMKIT_STATIC_CALL_H */
