/* SPDX-License-Identifier: MIT */
/*
 * emkit/static_call.h — static calls for user-space C and C++
 * ============================================================
 *
 * A static call is a call through a variable target that costs what a direct call
 * costs. The target lives in a key; each call goes to the key's trampoline, a tiny
 * piece of code whose branch instruction is rewritten when the target changes, or,
 * in modules linked with -Wl,--emit-relocs, the call instruction itself is rewritten.
 * This is the Linux kernel's static_call API, with the same names and meaning, for
 * programs: `cc app.c $(pkg-config --cflags --libs emkit-static-call)`, nothing else.
 *
 * API
 * ---
 *   DECLARE_STATIC_CALL(name, func)        declare, in a header, a static call whose
 *                                          prototype is that of function func
 *   DEFINE_STATIC_CALL(name, func)         define it, initially calling func
 *   DEFINE_STATIC_CALL_NULL(name, func)    define it with no target (NULL)
 *   DEFINE_STATIC_CALL_RET0(name, func)    define it so that calls return 0
 *   static_call(name)(args...)             call the current target
 *   static_call_cond(name)(args...)        the same, result discarded
 *   static_call_mod(name)(args...)         the same (the kernel's name for a call
 *                                          from another module)
 *   static_call_update(name, f)            retarget; returns 0 or a negative errno
 *   static_call_query(name)                the current target, NULL if none
 *   STATIC_CALL_STUB_RET0(name)            this call's own return-0 function, with
 *                                          func's prototype (see "CFI"); a value,
 *                                          not a constant expression
 *   __static_call_return0                  accepted by static_call_update() for any
 *                                          call that may return 0: it installs that
 *                                          call's STATIC_CALL_STUB_RET0
 *   DEFINE_STATIC_CALL_STUB_RET0(name, func)  a typed return-0 function on its own;
 *   ARCH_DEFINE_TYPED_STUB_RET0(name)         its assembly (every DEFINE has one)
 *   EXPORT_STATIC_CALL{,_GPL}(name), EXPORT_STATIC_CALL_TRAMP{,_GPL}(name)
 *                                          accepted, see "Modules"
 *   EMKIT_STATIC_CALL_VERSION, _MAJOR, _MINOR, _PATCH; static_call_version()
 *                                          the header's and the library's version
 *   static_call_sites(name, direct_only)   how many of its calls the library found
 *                                          (and rewrote), for tests and diagnostics
 *
 * Example
 * -------
 *   #include <stdio.h>
 *   #include <emkit/static_call.h>
 *
 *   static unsigned int slow_hash(const char *s)
 *   {
 *           unsigned int h = 0;
 *
 *           while (*s)
 *                   h = h * 31 + (unsigned char)*s++;
 *           return h;
 *   }
 *
 *   static unsigned int fast_hash(const char *s)
 *   {
 *           return (unsigned int)(unsigned char)s[0] << 8 | (unsigned char)s[1];
 *   }
 *
 *   DEFINE_STATIC_CALL(hash, slow_hash);
 *
 *   int main(void)
 *   {
 *           printf("slow: %u\n", static_call(hash)("emkit"));      // slow_hash
 *           if (static_call_update(hash, fast_hash))
 *                   return 1;
 *           printf("fast: %u\n", static_call(hash)("emkit"));      // fast_hash
 *           if (static_call_update(hash, __static_call_return0))
 *                   return 1;
 *           printf("ret0: %u\n", static_call(hash)("emkit"));      // 0
 *           return 0;
 *   }
 *
 * What holds
 * ----------
 * Updates. static_call_update() is serialized by the library. A caller on another
 * thread, at any moment, runs the old target or the new one, never anything else;
 * when it returns 0, every thread of the process runs the new one. On failure the
 * old target stays in force and the result is a negative errno:
 *   -EINVAL   a key that no DEFINE_STATIC_CALL* initialised
 *   -EDEADLK  called on a thread that is itself inside an update (from a signal
 *             handler that interrupted one, see "Signals")
 *   -EMFILE, -ENOMEM, -EPERM ...  the code could not be made writable (the error of
 *             memfd_create or mmap, e.g. no descriptor left, or a seccomp policy)
 *   -ESTALE   the code the library aliased is no longer what is mapped there
 *
 * NULL. As in the kernel, every static call accepts NULL (static_call_update(name,
 * NULL), DEFINE_STATIC_CALL_NULL). A NULL call does nothing: it runs the call's
 * typed return-0 function, so static_call() returns 0 for a call that returns an
 * integer or a pointer, and static_call_cond() is safe whatever the return type.
 * static_call_query() returns NULL.
 *
 * RET0. A return-0 function zeroes every register a C return value is passed in
 * (x86-64: rax, rdx, xmm0, xmm1; aarch64: x0, x1, v0-v3), so it returns 0, 0.0 or an
 * all-zero small struct. DEFINE_STATIC_CALL_RET0, DEFINE_STATIC_CALL_STUB_RET0,
 * STATIC_CALL_STUB_RET0 and __static_call_return0 are meant for calls returning void,
 * an integer or a pointer, and refuse at compile time what the compiler can see:
 *   C++   any other return type (floating, __int128, struct, ...).
 *   C     float, double, long double, complex and __int128, when the parameter types
 *         are ones the default argument promotions leave alone (int, long, pointers,
 *         double...: C offers no other way to see a return type). A struct returned
 *         in memory (larger than two registers), or a long double on x86-64, can
 *         then get past the check and would return garbage: do not.
 *
 * Types. static_call_update(name, f) compiles only when f has func's type, or is
 * NULL, or is __static_call_return0 (and the call may return 0): a cast to (void *)
 * or to another function type does not compile, in C and in C++. The kernel's
 * `static_call_update(x, (void *)&__static_call_return0)` becomes
 * `static_call_update(x, __static_call_return0)`.
 *
 * Modules. A key, its trampoline and its typed return-0 function are visible to
 * every module of the process (executable and shared objects), whatever
 * -fvisibility says: another module declares the call with DECLARE_STATIC_CALL and
 * may call it, update it, and name its STATIC_CALL_STUB_RET0. Trampolines and stubs
 * have protected visibility, so calls inside the module that defines them are
 * direct calls, never through the PLT. EXPORT_STATIC_CALL{,_GPL} and
 * EXPORT_STATIC_CALL_TRAMP{,_GPL} are accepted for the kernel's sources and change
 * nothing: ELF exports what is global, so the _TRAMP variants cannot keep other
 * modules from the key as the kernel does, and there are no licences to check.
 * static_call_mod() is static_call(). (An executable's symbols reach shared objects
 * only if it is linked with -rdynamic, as for any symbol.)
 *
 * Shared libraries. Calls from another module go through that module's PLT to the
 * trampoline. With -Wl,--emit-relocs on a module, its calls are found and rewritten
 * as in the kernel's inline flavour: calls inside the module at the first update,
 * calls into another module once the dynamic linker has bound them (their first
 * call, or load time with -Wl,-z,now); a call whose target is out of reach stays on
 * its trampoline or PLT entry.
 *
 * dlopen and dlclose. Every module that includes this header registers itself when
 * it is loaded (a constructor) and unregisters when it is unloaded (a destructor):
 * its call sites and patched pages are forgotten with it, and a module loaded again
 * starts afresh. A module must point static calls away from its own functions before
 * it is unloaded, as a kernel module must (the demo's "unregister" does).
 *
 * fork, clone, vfork. After fork() each process has its own patched code: an update
 * in one is never seen by the other (the first update on either side, after the
 * fork, gives that side private copies of the patched pages it shared). fork() waits
 * for an update under way to finish. A child made by a raw clone() without CLONE_VM
 * runs no fork handlers: its first update makes its pages private too, but until
 * then it sees its parent's updates, and an update under way in another of the
 * parent's threads at the clone leaves the child's state undefined; have such a child
 * exec, or use fork(). A vfork() child shares the parent's memory and may only exec
 * or _exit, as always.
 *
 * Signals. static_call_update() is async-signal-safe: it takes no lock but its own,
 * and calls nothing but system calls. From a signal handler that interrupted an
 * update (or a module's registration) on the same thread it returns -EDEADLK at
 * once; one that interrupted anything else (another thread updating, malloc, dlopen)
 * completes normally. One exception: an update made before the constructor of the
 * module that defines the key has run (from an earlier constructor) asks the dynamic
 * loader for the module, which is not async-signal-safe.
 *
 * Resources. Each executable segment of a module whose code has been patched holds
 * one memfd descriptor and two mappings: the patched range, mapped from the memfd in
 * place of the module's own (which it splits), and a read-write view of it elsewhere.
 * Nothing grows with the number of keys, calls or pages patched; all goes when the
 * module is unloaded. The memfd holds a copy of the range from the module's first
 * trampoline or call site to its last, so memory follows the code's size, not the
 * number of patches. RLIMIT_NOFILE needs room for one descriptor, once per segment,
 * and the first update after a module is loaded opens its file for a moment, to look
 * for call sites: without room, its calls keep going through the trampolines until an
 * update finds room.
 *
 * Backends (chosen per translation unit, at compile time)
 * --------------------------------------------------------
 * trampolines (default on x86-64 and aarch64)
 *     Each key has a trampoline in .static_call.text of the module that defines it;
 *     callers make a direct call to it and it branches to the target. Cost: a
 *     direct call plus one direct jump.
 *     x86-64: an aligned 8-byte word holding `jmp rel32` is the only thing
 *     rewritten, with one store, then membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_
 *     SYNC_CORE) serializes every thread before the update returns. A target beyond
 *     ±2 GiB is reached through `jmp *slot(%rip)`, the slot being a data word.
 *     aarch64: the patched word is `B target` (±128 MiB) or `NOP`, then `LDR x16`
 *     of the slot and `BR x16`; only B and NOP are ever swapped under running code,
 *     as the architecture allows, followed by cache maintenance and the membarrier.
 *     Code is never writable and executable at once: the pages are mapped from a
 *     memfd with the same bytes, and written through a second, read-write view.
 * inline call sites (on top of the trampolines, per module)
 *     Link a module with -Wl,--emit-relocs and its calls and tail calls to
 *     trampolines are found from its relocations (what the kernel gets from objtool)
 *     and rewritten to call the target itself. Cost: a direct call. x86-64 writes a
 *     site with one aligned store when its rel32 fits one 8-byte word, else with the
 *     kernel's int3 protocol (a SIGTRAP handler takes a thread that meets the int3
 *     to the trampoline); aarch64 always with one store.
 * generic (any architecture; define EMKIT_STATIC_CALL_GENERIC before including)
 *     static_call() is an indirect call through the key. Cost: a load and an
 *     indirect call (plus a retpoline or a CFI check where the build adds them).
 *     A key defined by a generic translation unit has no trampoline, so every
 *     caller of it must be generic too.
 *
 * CFI, BTI, IBT
 * -------------
 * Under clang's -fsanitize=kcfi every indirect call checks a type hash stored just
 * before its target. The kernel's generic backend once pointed every RET0 call at one
 * shared `long __static_call_return0(void)`, whose hash matches no real prototype, so
 * the check failed (an arm64 kernel crashed on `perf record -a`). Here each static
 * call has its own return-0 function, STATIC_CALL_STUB_RET0(name), with func's
 * prototype and so its hash; the trampolines carry their prototype's hash too.
 * static_call_return0_untyped() is the old shared stub, kept only so that a test can
 * show kCFI catching it. With -mbranch-protection=standard (aarch64 BTI) every
 * trampoline and stub starts with `bti c`, and patched pages keep PROT_BTI; with
 * -fcf-protection (x86-64 IBT) they start with `endbr64`.
 *
 * C++
 * ---
 * The header compiles as C++11 and later; the macros are the same and the type
 * checks are exact (overloaded functions resolve to the call's prototype). func
 * must not be overloaded in DECLARE/DEFINE. Symbols are not mangled: a static call
 * is one name in C and C++ alike, and a key defined in a C module may be called and
 * updated from a C++ one, and the other way round.
 *
 * LTO
 * ---
 * The assembly names only symbols the compiler hands it, so static targets and
 * -flto with any partitioning (gcc -flto-partition=max, clang -flto) work.
 */
#ifndef EMKIT_STATIC_CALL_H
#define EMKIT_STATIC_CALL_H

#define EMKIT_STATIC_CALL_VERSION_MAJOR 0
#define EMKIT_STATIC_CALL_VERSION_MINOR 1
#define EMKIT_STATIC_CALL_VERSION_PATCH 0
#define EMKIT_STATIC_CALL_VERSION       "0.1.0"

#include <stddef.h>

#ifdef __cplusplus
#include <type_traits>
extern "C" {
#endif

#define STATIC_CALL_API __attribute__((visibility("default")))

/* One per static call. Fields are the library's; read them only through the macros. */
struct static_call_key {
	void *func;               /* the target as set: what static_call_query() returns */
	void *call;               /* what a generic call calls: func, or ret0 for NULL */
	void *tramp;              /* trampoline entry, or NULL (generic definition) */
	void **slot;              /* the trampoline's far-target slot */
	void *ret0;               /* this call's typed return-0 function */
	const char *name;         /* the static call's name, for messages */
	unsigned short tramp_off; /* offset of the rewritten word in the trampoline */
	unsigned short flags;     /* reserved, 0 */
	unsigned int magic;       /* STATIC_CALL_KEY_MAGIC once defined */
};

#define STATIC_CALL_KEY_MAGIC 0x5ca11ed2u

/* One per module, shared by its translation units: the library's record of it. */
struct static_call_module {
	void *priv;
};

/* The type of __static_call_return0's parameter: only its name matters. */
struct static_call_return0_tag;

/*
 * static_call_update_key - retarget a static call (use static_call_update(), which
 * checks the type).
 * @key:  the call's key
 * @func: the new target, NULL, or __static_call_return0 (this call's typed stub)
 * Returns 0, or a negative errno with the old target still in force.
 * Async-signal-safe.
 */
STATIC_CALL_API int static_call_update_key(struct static_call_key *key, void *func);

/*
 * static_call_key_sites - the call sites of @key that the library found (in modules
 * linked with -Wl,--emit-relocs); with @direct_only, only those that now call the
 * target directly rather than the trampoline or a PLT entry. Known once some key has
 * been updated. For tests and diagnostics.
 */
STATIC_CALL_API size_t static_call_key_sites(const struct static_call_key *key, int direct_only);
#define static_call_sites(name, direct_only) static_call_key_sites(&STATIC_CALL_KEY(name), direct_only)

/*
 * __static_call_return0 - the kernel's name for "return 0", as a static_call_update()
 * target: the library installs the call's own typed stub in its place. Called, it
 * returns 0.
 */
STATIC_CALL_API long __static_call_return0(const struct static_call_return0_tag *unused);

/*
 * static_call_return0_untyped - the kernel's historic shared RET0 stub, long (void).
 * Do not use it as a target: through a typed call under kCFI it traps, which is what
 * the tests show. Use STATIC_CALL_STUB_RET0(name) or __static_call_return0.
 */
STATIC_CALL_API long static_call_return0_untyped(void);

/* static_call_version - the library's version, "MAJOR.MINOR.PATCH". */
STATIC_CALL_API const char *static_call_version(void);

/*
 * static_call_register_module, static_call_unregister_module - called by the
 * constructor and destructor this header puts in every module; not for direct use.
 */
STATIC_CALL_API void static_call_register_module(struct static_call_module *mod);
STATIC_CALL_API void static_call_unregister_module(struct static_call_module *mod);

/*
 * static_call_backend_name - "x86-64 trampolines", "aarch64 trampolines" or
 * "generic": the backend this header selects for the including file.
 */
#define static_call_backend_name() STATIC_CALL_BACKEND_NAME

/* ---- names ---------------------------------------------------------------- */

#define STATIC_CALL_KEY(name)      static_call_key__##name
#define STATIC_CALL_TRAMP(name)    static_call_tramp__##name
#define STATIC_CALL_RET0_SYM(name) static_call_ret0__##name
#define STATIC_CALL_SLOT(name)     static_call_slot__##name
#define STATIC_CALL_EMITTER(name)  static_call_emit__##name

#define STATIC_CALL_STR_(x) #x
#define STATIC_CALL_STR(x)  STATIC_CALL_STR_(x)

/* ---- backend and trampoline layout ----------------------------------------- */

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
#define STATIC_CALL_TYPEID(sym) "__kcfi_typeid_" sym /* sym: a string */
#else
#define STATIC_CALL_TYPEID(sym) "0"
#endif

/*
 * Per architecture: how assembly spells a symbol's type (in extended asm, "%" is
 * written "%%"), the preamble that puts the kCFI hash just before an entry point,
 * the landing pad an indirect branch needs (BTI, IBT), the return-0 body, and where
 * in the trampoline the rewritten word is (STATIC_CALL_TRAMP_OFF).
 */
#if defined(__x86_64__)
#define STATIC_CALL_ASM_TYPE   "@"
#define STATIC_CALL_ASM_TYPE_X "@"
/* 16-aligned, the hash in `movl $hash, %eax` ending at the entry. */
#define STATIC_CALL_ASM_PREAMBLE(sym)                                                       \
	".balign 16\n"                                                                      \
	".fill 11, 1, 0xcc\n"                                                               \
	".byte 0xb8\n"                                                                      \
	".long " STATIC_CALL_TYPEID(sym) "\n"
#if defined(__CET__) && (__CET__ & 1)
#define STATIC_CALL_ASM_PAD      "endbr64\n"
#define STATIC_CALL_ASM_PAD_WORD "endbr64\n.byte 0x0f, 0x1f, 0x40, 0x00\n" /* + nopl */
#define STATIC_CALL_TRAMP_OFF    8
#endif
#define STATIC_CALL_ASM_RET0_BODY(pct)                                                      \
	"xorl " pct "eax, " pct "eax\n"                                                     \
	"xorl " pct "edx, " pct "edx\n"                                                     \
	"xorps " pct "xmm0, " pct "xmm0\n"                                                  \
	"xorps " pct "xmm1, " pct "xmm1\n"                                                  \
	"ret\n"

#elif defined(__aarch64__)
#define STATIC_CALL_ASM_TYPE   "%"
#define STATIC_CALL_ASM_TYPE_X "%%"
/* The hash is the word before the entry. */
#define STATIC_CALL_ASM_PREAMBLE(sym)                                                       \
	".balign 16\n"                                                                      \
	".skip 12\n"                                                                        \
	".long " STATIC_CALL_TYPEID(sym) "\n"
#if defined(__ARM_FEATURE_BTI_DEFAULT)
#define STATIC_CALL_ASM_PAD      "hint 34\n" /* bti c */
#define STATIC_CALL_ASM_PAD_WORD "hint 34\n"
#define STATIC_CALL_TRAMP_OFF    4
#endif
#define STATIC_CALL_ASM_RET0_BODY(pct)                                                      \
	"mov x0, xzr\n"                                                                     \
	"mov x1, xzr\n"                                                                     \
	"movi v0.2d, #0\n"                                                                  \
	"movi v1.2d, #0\n"                                                                  \
	"movi v2.2d, #0\n"                                                                  \
	"movi v3.2d, #0\n"                                                                  \
	"ret\n"
#endif
/* Either architecture without an enforced landing pad: nothing before the entry,
 * the rewritten word first. */
#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(STATIC_CALL_ASM_PAD)
#define STATIC_CALL_ASM_PAD      ""
#define STATIC_CALL_ASM_PAD_WORD ""
#define STATIC_CALL_TRAMP_OFF    0
#endif

/*
 * Extended-asm operands that stand for a symbol (a static function, a function in
 * another module, an LTO-renamed one): the compiler prints its real name, so the
 * assembly never spells a C name itself. Each compiler accepts a different
 * constraint for this under -fPIC.
 */
#if defined(__clang__) && defined(__aarch64__)
#define STATIC_CALL_ASM_SYM_C    "i"
#define STATIC_CALL_ASM_SYM(n)   "%c" #n
#elif defined(__clang__)
#define STATIC_CALL_ASM_SYM_C    "s"
#define STATIC_CALL_ASM_SYM(n)   "%c" #n
#elif defined(__x86_64__)
#define STATIC_CALL_ASM_SYM_C    "X"
#define STATIC_CALL_ASM_SYM(n)   "%p" #n
#else
#define STATIC_CALL_ASM_SYM_C    "X"
#define STATIC_CALL_ASM_SYM(n)   "%c" #n
#endif

#if STATIC_CALL_ASM_STUBS
/* A function symbol in .static_call.text: visibility, hash, landing pad, body, size. */
#define STATIC_CALL_ASM_FUNC(sym, type, vis, pad, body)                                    \
	".pushsection .static_call.text, \"ax\", " type "progbits\n"                        \
	".globl " sym "\n"                                                                  \
	vis " " sym "\n"                                                                    \
	STATIC_CALL_ASM_PREAMBLE(sym)                                                       \
	".type " sym ", " type "function\n"                                                 \
	sym ":\n"                                                                           \
	pad                                                                                 \
	body                                                                                \
	".size " sym ", . - " sym "\n"                                                      \
	".popsection\n"

/*
 * ARCH_DEFINE_TYPED_STUB_RET0 - the return-0 function of static call @name: declared
 * (DECLARE_STATIC_CALL) with the call's prototype, so its kCFI hash is right.
 */
#define STATIC_CALL_ASM_RET0_(name, vis)                                                    \
	__asm__(STATIC_CALL_ASM_FUNC(STATIC_CALL_STR(STATIC_CALL_RET0_SYM(name)),            \
				     STATIC_CALL_ASM_TYPE, vis, STATIC_CALL_ASM_PAD,               \
				     STATIC_CALL_ASM_RET0_BODY("%")))
#define ARCH_DEFINE_TYPED_STUB_RET0(name) STATIC_CALL_ASM_RET0_(name, ".protected")

/*
 * The trampoline: landing pad, the rewritten word (its initial branch pads to 8 bytes
 * on x86-64), then the far path through the slot. It lives in the asm of a function
 * that is never called, so that the compiler names the initial target and the slot
 * (operands 0 and 1).
 */
#if defined(__x86_64__)
#define STATIC_CALL_ASM_TRAMP_BODY(init)                                                    \
	".Lsc_word%=:\n"                                                                    \
	"jmp " init "\n"                                                                    \
	".org .Lsc_word%= + 8, 0xcc\n"                                                      \
	"jmp *" STATIC_CALL_ASM_SYM(1) "(%%rip)\n"                                          \
	".balign 16, 0xcc\n"
#else
#define STATIC_CALL_ASM_TRAMP_BODY(init)                                                    \
	"b " init "\n"                                                                      \
	"adrp x16, " STATIC_CALL_ASM_SYM(1) "\n"                                            \
	"ldr x16, [x16, :lo12:" STATIC_CALL_ASM_SYM(1) "]\n"                                \
	"br x16\n"
#endif
#define STATIC_CALL_ASM_TRAMP_(name, init, target)                                          \
	__attribute__((used)) static void STATIC_CALL_EMITTER(name)(void)                   \
	{                                                                                   \
		__asm__ volatile(STATIC_CALL_ASM_FUNC(                                      \
					 STATIC_CALL_STR(STATIC_CALL_TRAMP(name)),          \
					 STATIC_CALL_ASM_TYPE_X, ".protected",              \
					 STATIC_CALL_ASM_PAD_WORD,                          \
					 STATIC_CALL_ASM_TRAMP_BODY(init))                  \
				 :                                                          \
				 : STATIC_CALL_ASM_SYM_C(target),                           \
				   STATIC_CALL_ASM_SYM_C(&STATIC_CALL_SLOT(name)));         \
	}                                                                                   \
	struct static_call_semicolon_
#else
/*
 * No assembly for this architecture: the RET0 function is the shared untyped one,
 * which is correct without CFI (the only configuration such a build can have).
 */
#define ARCH_DEFINE_TYPED_STUB_RET0(name) struct static_call_semicolon_
#endif

/* ---- declaration and definition ------------------------------------------- */

/*
 * The trampoline symbol is declared with func's type: it is the prototype every macro
 * checks against, whichever backend defines the call. Asm labels keep C++ from
 * mangling the names.
 */
#define DECLARE_STATIC_CALL(name, func)                                                    \
	extern struct static_call_key STATIC_CALL_KEY(name)                                \
		__asm__(STATIC_CALL_STR(STATIC_CALL_KEY(name)))                            \
		__attribute__((visibility("default")));                                    \
	extern __typeof__(func) STATIC_CALL_TRAMP(name)                                    \
		__asm__(STATIC_CALL_STR(STATIC_CALL_TRAMP(name)));                         \
	extern __typeof__(func) STATIC_CALL_RET0_SYM(name)                                 \
		__asm__(STATIC_CALL_STR(STATIC_CALL_RET0_SYM(name)))

#if STATIC_CALL_ASM_STUBS
#define STATIC_CALL_RET0_ADDR_(name) (__extension__(void *) & STATIC_CALL_RET0_SYM(name))
#else
#define STATIC_CALL_RET0_ADDR_(name) (__extension__(void *) & static_call_return0_untyped)
#endif

/* The key: positional, so that C++ before C++20 takes it too. */
#define STATIC_CALL_KEY_INIT_(name, initf, initc, tramp, slot)                              \
	struct static_call_key STATIC_CALL_KEY(name) = {                                    \
		initf, initc, tramp, slot, STATIC_CALL_RET0_ADDR_(name), #name,             \
		STATIC_CALL_TRAMP_OFF, 0, STATIC_CALL_KEY_MAGIC}

#if STATIC_CALL_HAVE_TRAMP
/* @init: the trampoline's first branch target (an asm operand, or the stub's name). */
#define STATIC_CALL_DEFINE_(name, func, initf, slotv, init, target)                        \
	DECLARE_STATIC_CALL(name, func);                                                   \
	ARCH_DEFINE_TYPED_STUB_RET0(name);                                                 \
	static void *STATIC_CALL_SLOT(name) = (slotv);                                     \
	STATIC_CALL_ASM_TRAMP_(name, init, target);                                        \
	STATIC_CALL_KEY_INIT_(name, initf, (slotv), (__extension__(void *) & STATIC_CALL_TRAMP(name)), \
			      &STATIC_CALL_SLOT(name))

#define DEFINE_STATIC_CALL(name, func)                                                     \
	STATIC_CALL_DEFINE_(name, func, (__extension__(void *) & (func)),                  \
			    (__extension__(void *) & (func)), STATIC_CALL_ASM_SYM(0), &(func))
#define DEFINE_STATIC_CALL_NULL(name, func)                                                \
	STATIC_CALL_DEFINE_(name, func, (void *)0, STATIC_CALL_RET0_ADDR_(name),           \
			    STATIC_CALL_STR(STATIC_CALL_RET0_SYM(name)), &STATIC_CALL_SLOT(name))
#define STATIC_CALL_DEFINE_RET0_(name, func)                                               \
	STATIC_CALL_DEFINE_(name, func, STATIC_CALL_RET0_ADDR_(name), STATIC_CALL_RET0_ADDR_(name), \
			    STATIC_CALL_STR(STATIC_CALL_RET0_SYM(name)), &STATIC_CALL_SLOT(name))

/* A direct call to the trampoline. */
#define static_call(name) (STATIC_CALL_TRAMP(name))

#else /* generic */

#define STATIC_CALL_DEFINE_(name, func, initf, initc)                                      \
	DECLARE_STATIC_CALL(name, func);                                                   \
	ARCH_DEFINE_TYPED_STUB_RET0(name);                                                 \
	STATIC_CALL_KEY_INIT_(name, initf, initc, (void *)0, (void **)0)

#define DEFINE_STATIC_CALL(name, func)                                                     \
	STATIC_CALL_DEFINE_(name, func, (__extension__(void *) & (func)),                  \
			    (__extension__(void *) & (func)))
#define DEFINE_STATIC_CALL_NULL(name, func)                                                \
	STATIC_CALL_DEFINE_(name, func, (void *)0, STATIC_CALL_RET0_ADDR_(name))
#define STATIC_CALL_DEFINE_RET0_(name, func)                                               \
	STATIC_CALL_DEFINE_(name, func, STATIC_CALL_RET0_ADDR_(name), STATIC_CALL_RET0_ADDR_(name))

/*
 * An indirect call through the key. The target is never NULL: a NULL call runs the
 * call's typed RET0 function.
 */
#define static_call(name)                                                                  \
	STATIC_CALL_FN_FROM_VOIDP_(&STATIC_CALL_TRAMP(name),                               \
				   __atomic_load_n(&STATIC_CALL_KEY(name).call, __ATOMIC_ACQUIRE))
#endif

/* NULL runs the typed RET0 function, so the conditional call is the plain one. */
#define static_call_cond(name) (void)static_call(name)
#define static_call_mod(name)  static_call(name)

#define static_call_query(name)                                                            \
	STATIC_CALL_FN_FROM_VOIDP_(&STATIC_CALL_TRAMP(name),                               \
				   __atomic_load_n(&STATIC_CALL_KEY(name).func, __ATOMIC_ACQUIRE))

/* The kernel's export macros: every static call is visible to other modules already. */
#define EXPORT_STATIC_CALL(name)                                                           \
	extern __typeof__(STATIC_CALL_KEY(name)) STATIC_CALL_KEY(name)
#define EXPORT_STATIC_CALL_GPL(name)       EXPORT_STATIC_CALL(name)
#define EXPORT_STATIC_CALL_TRAMP(name)     EXPORT_STATIC_CALL(name)
#define EXPORT_STATIC_CALL_TRAMP_GPL(name) EXPORT_STATIC_CALL(name)

#ifdef __cplusplus
} /* extern "C" */
#endif

/* ---- type checks ------------------------------------------------------------- */

#define STATIC_CALL_TYPE_MSG(name, f)                                                      \
	"static_call_update(" #name ", " #f "): the target's type is not the static call's prototype"
#define STATIC_CALL_RET0_MSG                                                               \
	"a return-0 static call needs a return type that is void, an integer or a pointer"

#ifndef __cplusplus

/* C: the type of f after function-to-pointer decay. */
#define STATIC_CALL_DECAY_(f) __typeof__(1 ? (f) : (f))
#define STATIC_CALL_FP_(name) __typeof__(&STATIC_CALL_TRAMP(name))

/* f is a null pointer constant (NULL): only then does `1 ? (T *)0 : f` have type T *. */
struct static_call_null_;
#define STATIC_CALL_AS_VOIDP_(f) _Generic((f), void *: (f), default: (void *)1)
#define STATIC_CALL_IS_NULL_(f)                                                            \
	__builtin_types_compatible_p(__typeof__(1 ? (struct static_call_null_ *)0            \
						: STATIC_CALL_AS_VOIDP_(f)),                  \
				     struct static_call_null_ *)
#define STATIC_CALL_IS_RETURN0_(f)                                                         \
	__builtin_types_compatible_p(STATIC_CALL_DECAY_(f), __typeof__(&__static_call_return0))
#define STATIC_CALL_TARGET_OK_(name, f)                                                    \
	(__builtin_types_compatible_p(STATIC_CALL_DECAY_(f), STATIC_CALL_FP_(name)) ||       \
	 STATIC_CALL_IS_NULL_(f) || STATIC_CALL_IS_RETURN0_(f))

/*
 * May a function of type F return 0 through a RET0 stub? C cannot name F's return
 * type; a prototype whose parameters the default promotions leave alone is
 * compatible with the unprototyped `R ()` of its return type R, which catches the
 * scalar types a stub cannot return in the integer registers.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
typedef float static_call_rf_();
typedef double static_call_rd_();
typedef long double static_call_rld_();
typedef _Complex float static_call_rcf_();
typedef _Complex double static_call_rcd_();
typedef _Complex long double static_call_rcld_();
#ifdef __SIZEOF_INT128__
__extension__ typedef __int128 static_call_ri128_();
__extension__ typedef unsigned __int128 static_call_ru128_();
#endif
#pragma GCC diagnostic pop
#define STATIC_CALL_RETURNS_(F, R) __builtin_types_compatible_p(F, R)
#ifdef __SIZEOF_INT128__
#define STATIC_CALL_RETURNS_INT128_(F)                                                     \
	(STATIC_CALL_RETURNS_(F, static_call_ri128_) || STATIC_CALL_RETURNS_(F, static_call_ru128_))
#else
#define STATIC_CALL_RETURNS_INT128_(F) 0
#endif
#define STATIC_CALL_RET0_OK_(F)                                                            \
	(!(STATIC_CALL_RETURNS_(F, static_call_rf_) || STATIC_CALL_RETURNS_(F, static_call_rd_) || \
	   STATIC_CALL_RETURNS_(F, static_call_rld_) || STATIC_CALL_RETURNS_(F, static_call_rcf_) || \
	   STATIC_CALL_RETURNS_(F, static_call_rcd_) ||                                    \
	   STATIC_CALL_RETURNS_(F, static_call_rcld_) || STATIC_CALL_RETURNS_INT128_(F)))
#define STATIC_CALL_ASSERT_RET0_(F)                                                        \
	_Static_assert(STATIC_CALL_RET0_OK_(F), STATIC_CALL_RET0_MSG)
/* An expression that fails to compile unless F may return 0. */
#define STATIC_CALL_CHECK_RET0_(F)                                                         \
	((void)sizeof(struct {                                                              \
		STATIC_CALL_ASSERT_RET0_(F);                                                \
		char c_;                                                                    \
	}))

#define STATIC_CALL_FN_FROM_VOIDP_(fp, v) (__extension__(__typeof__(fp))(v))

#define static_call_update(name, f)                                                        \
	__extension__({                                                                    \
		_Static_assert(STATIC_CALL_TARGET_OK_(name, f), STATIC_CALL_TYPE_MSG(name, f)); \
		_Static_assert(!STATIC_CALL_IS_RETURN0_(f) ||                               \
				       STATIC_CALL_RET0_OK_(__typeof__(STATIC_CALL_TRAMP(name))), \
			       STATIC_CALL_RET0_MSG);                                       \
		static_call_update_key(&STATIC_CALL_KEY(name), (__extension__(void *)(f))); \
	})

#else /* C++ */

template <class F> struct static_call_fn_traits_;
template <class R, class... A> struct static_call_fn_traits_<R(A...)> { typedef R ret; };
template <class R, class... A> struct static_call_fn_traits_<R(A..., ...)> { typedef R ret; };
#if __cplusplus >= 201703L
template <class R, class... A> struct static_call_fn_traits_<R(A...) noexcept> { typedef R ret; };
template <class R, class... A> struct static_call_fn_traits_<R(A..., ...) noexcept> { typedef R ret; };
#endif

/* May a function of type F return 0 through a RET0 stub? Exactly: void, an integer or
 * enumeration no wider than a register, a pointer. */
template <class F> constexpr bool static_call_ret0_ok_()
{
	typedef typename static_call_fn_traits_<F>::ret R;
	typedef typename std::conditional<std::is_void<R>::value, char, R>::type S;
	return std::is_void<R>::value ||
	       ((std::is_integral<R>::value || std::is_enum<R>::value) && sizeof(S) <= sizeof(long)) ||
	       std::is_pointer<R>::value || std::is_same<R, decltype(nullptr)>::value;
}
template <bool OK> struct static_call_ret0_assert_ {
	static_assert(OK, STATIC_CALL_RET0_MSG);
};

typedef long (*static_call_return0_fp_)(const struct static_call_return0_tag *);

/*
 * What static_call_update() takes, for a call whose pointer type is P: what converts
 * to P implicitly (a function of that type, an overload set resolving to it, P
 * itself, nullptr, NULL), classified 1; __static_call_return0, 2; anything else (a
 * void *, another function type), sizeof(long). get() gives it as a void *.
 */
template <class P> struct static_call_target_ {
	static char check(P);
	template <class T>
	static short check(T, typename std::enable_if<
				      std::is_same<T, static_call_return0_fp_>::value>::type * = 0);
	static long check(...);
	static void *get(P p)
	{
		void *v;

		__builtin_memcpy(&v, &p, sizeof(v));
		return v;
	}
	template <class T>
	static void *get(T p, typename std::enable_if<
				      std::is_same<T, static_call_return0_fp_>::value>::type * = 0)
	{
		void *v;

		__builtin_memcpy(&v, &p, sizeof(v));
		return v;
	}
};

template <class P> inline P static_call_fn_from_voidp_(void *v)
{
	P p;

	__builtin_memcpy(&p, &v, sizeof(p));
	return p;
}
#define STATIC_CALL_FN_FROM_VOIDP_(fp, v) static_call_fn_from_voidp_<decltype(fp)>(v)

#define STATIC_CALL_RET0_OK_(F) static_call_ret0_ok_<F>()
#define STATIC_CALL_ASSERT_RET0_(F) static_assert(STATIC_CALL_RET0_OK_(F), STATIC_CALL_RET0_MSG)
#define STATIC_CALL_CHECK_RET0_(F) ((void)sizeof(static_call_ret0_assert_<STATIC_CALL_RET0_OK_(F)>))

#define static_call_update(name, f)                                                        \
	__extension__({                                                                    \
		typedef static_call_target_<decltype(&STATIC_CALL_TRAMP(name))> static_call_t_; \
		static_assert(sizeof(static_call_t_::check(f)) <= 2,                        \
			      STATIC_CALL_TYPE_MSG(name, f));                               \
		static_assert(sizeof(static_call_t_::check(f)) != 2 ||                      \
				      STATIC_CALL_RET0_OK_(__typeof__(STATIC_CALL_TRAMP(name))), \
			      STATIC_CALL_RET0_MSG);                                        \
		static_call_update_key(&STATIC_CALL_KEY(name), static_call_t_::get(f));     \
	})

#endif /* C++ */

/* ---- return-0 definitions ------------------------------------------------------ */

#define DEFINE_STATIC_CALL_RET0(name, func)                                                \
	STATIC_CALL_ASSERT_RET0_(__typeof__(func));                                        \
	STATIC_CALL_DEFINE_RET0_(name, func)

/*
 * DEFINE_STATIC_CALL_STUB_RET0 - a typed return-0 function for static call @name
 * with @func's prototype, in this module only (hidden): for a call defined elsewhere.
 * Every DEFINE_STATIC_CALL* already defines one, visible to all modules.
 */
#if STATIC_CALL_ASM_STUBS
#define DEFINE_STATIC_CALL_STUB_RET0(name, func)                                           \
	STATIC_CALL_ASSERT_RET0_(__typeof__(func));                                        \
	extern __typeof__(func) STATIC_CALL_RET0_SYM(name)                                 \
		__asm__(STATIC_CALL_STR(STATIC_CALL_RET0_SYM(name)));                      \
	__attribute__((used)) static void *const static_call_ret0_addr__##name =           \
		STATIC_CALL_RET0_ADDR_(name); /* makes clang emit its kCFI type id */      \
	STATIC_CALL_ASM_RET0_(name, ".hidden")
#else
#define DEFINE_STATIC_CALL_STUB_RET0(name, func) STATIC_CALL_ASSERT_RET0_(__typeof__(func))
#endif

/*
 * STATIC_CALL_STUB_RET0 - static call @name's typed return-0 function, as a value
 * (it does not compile for a call that cannot return 0, see "RET0").
 */
#if STATIC_CALL_ASM_STUBS
#define STATIC_CALL_STUB_RET0(name)                                                        \
	(STATIC_CALL_CHECK_RET0_(__typeof__(STATIC_CALL_TRAMP(name))), STATIC_CALL_RET0_SYM(name))
#else
#define STATIC_CALL_STUB_RET0(name)                                                        \
	(STATIC_CALL_CHECK_RET0_(__typeof__(STATIC_CALL_TRAMP(name))),                     \
	 STATIC_CALL_FN_FROM_VOIDP_(&STATIC_CALL_TRAMP(name), STATIC_CALL_RET0_ADDR_(name)))
#endif

/* ---- module registration ----------------------------------------------------- */

/*
 * Every module (executable or shared object) that includes this header gets one
 * static_call_module and a constructor/destructor pair registering it with the
 * library: weak, so that its translation units share them, and hidden, so that each
 * module has its own. This is how call sites and patched pages follow dlopen/dlclose.
 */
#ifndef EMKIT_STATIC_CALL_NO_MODULE
#ifdef __cplusplus
extern "C" {
#endif
extern struct static_call_module static_call_this_module_ __attribute__((weak, visibility("hidden")));
void static_call_module_ctor_(void) __attribute__((weak, visibility("hidden")));
void static_call_module_dtor_(void) __attribute__((weak, visibility("hidden")));

__attribute__((weak, visibility("hidden"))) struct static_call_module static_call_this_module_;

__attribute__((weak, visibility("hidden"), constructor)) void static_call_module_ctor_(void)
{
	if (!__atomic_load_n(&static_call_this_module_.priv, __ATOMIC_ACQUIRE))
		static_call_register_module(&static_call_this_module_);
}

__attribute__((weak, visibility("hidden"), destructor)) void static_call_module_dtor_(void)
{
	if (__atomic_load_n(&static_call_this_module_.priv, __ATOMIC_ACQUIRE))
		static_call_unregister_module(&static_call_this_module_);
}
#ifdef __cplusplus
}
#endif
#endif

#endif /* EMKIT_STATIC_CALL_H */
