/*
 * The static-call test suite's shared parts. The suite is built once per backend
 * (generic, the architecture's trampolines, trampolines with inline call sites),
 * as C11 and, in the C++ builds, as C++17 from the same files (the files in cxx/ include
 * them), and in the aarch64 BTI build as a BTI-enforced shared object that a plain
 * launcher runs (bti_launcher.c). So this code is written in the common subset of
 * C and C++: explicit casts from void *, no designated initializers.
 */
#ifndef EMKIT_TEST_STATIC_CALL_SUITE_H
#define EMKIT_TEST_STATIC_CALL_SUITE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* cmocka.h does not say so itself */
#endif
#include <cmocka.h>
#ifdef __cplusplus
}
#endif

#include "emkit/static_call.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run @fn in a child process: the signal that killed it, or 0 if it exited 0. */
int run_in_child(void (*fn)(void));

/*
 * Descriptors and mappings of this process that are the library's (its memfds, named
 * "emkit-static-call") or hold @path's code (NULL: none), from /proc/self. Anonymous
 * mappings are left out: a sanitizer's allocator makes them as it pleases.
 */
int count_fds(void);
int count_maps(const char *path);

/* The target of the direct call or jump at @insn (x86-64: e8/e9 rel32; aarch64:
 * BL/B), or 0 if it is not one. */
uintptr_t branch_target(const void *insn);

/* test_modules.c: shared libraries and dlopen. */
void test_lib_calls_are_direct(void **state);
void test_lib_sites_patched(void **state);
void test_cross_module_keys(void **state);
void test_cross_module_sites(void **state);
void test_dlopen_dlclose(void **state);

/* test_fork.c */
void test_fork_private(void **state);
void test_fork_twice(void **state);
void test_raw_clone_child(void **state);
void test_fork_while_updating(void **state);

/* test_signals.c */
void test_update_in_handler(void **state);
void test_handler_interrupts_update(void **state);
void test_handler_waits_for_other_thread(void **state);
void test_handler_interrupts_malloc_dlopen(void **state);

#ifdef __cplusplus
}
#endif

#endif
