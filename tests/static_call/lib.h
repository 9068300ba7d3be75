/*
 * libsc_lib: a shared library that defines static calls, calls them itself and lets
 * other modules call and update them (test_modules.c). libsc_user calls them from
 * another shared library; the dlopen'ed plugin too.
 */
#ifndef EMKIT_TEST_STATIC_CALL_LIB_H
#define EMKIT_TEST_STATIC_CALL_LIB_H

#include "emkit/static_call.h"

#ifdef __cplusplus
extern "C" {
#endif

int lib_twice(int x);
int lib_thrice(int x);

DECLARE_STATIC_CALL(lib_op, lib_twice);    /* called in the library and from others */
DECLARE_STATIC_CALL(lib_lazy, lib_twice);  /* called only from libsc_user */
DECLARE_STATIC_CALL(lib_probe, lib_twice); /* RET0; its stub named by other modules */
DECLARE_STATIC_CALL(lib_local, lib_twice); /* another module defines its own stub */
DECLARE_STATIC_CALL(lib_sig, lib_twice);   /* updated by test_signals.c (a trampoline
					     * key, so its updates take a while) */

int lib_call_op(int x);     /* static_call(lib_op), compiled */
int lib_call_op_asm(int x); /* the same from assembly, at lib_op_asm_site */
int lib_call_probe(int x);
void lib_op_asm_site(void); /* a label at the call: not to be called */

int user_call_op(int x);        /* libsc_user: static_call(lib_op) */
int user_call_lazy_asm(int x);  /* libsc_user: lib_lazy through its PLT, at: */
void user_lazy_asm_site(void); /* likewise */

#ifdef __cplusplus
}
#endif

#endif
