/*
 * libsc_lib (see lib.h). Linked with --emit-relocs: its own calls are inline sites.
 * The assembly call is written as a PLT call, as the compiler writes it under -fPIC:
 * the trampoline's protected visibility is what makes the linker bind it directly.
 */
#include "lib.h"

int lib_twice(int x)
{
	return 2 * x;
}

int lib_thrice(int x)
{
	return 3 * x;
}

DEFINE_STATIC_CALL(lib_op, lib_twice);
DEFINE_STATIC_CALL(lib_lazy, lib_twice);
DEFINE_STATIC_CALL_RET0(lib_probe, lib_twice);
DEFINE_STATIC_CALL(lib_local, lib_twice);
DEFINE_STATIC_CALL(lib_sig, lib_twice);
EXPORT_STATIC_CALL(lib_op);
EXPORT_STATIC_CALL_GPL(lib_lazy);
EXPORT_STATIC_CALL_TRAMP(lib_probe);
EXPORT_STATIC_CALL_TRAMP_GPL(lib_local);

int lib_call_op(int x)
{
	return static_call(lib_op)(x) + 0 * x; /* not a tail call */
}

int lib_call_probe(int x)
{
	return static_call_mod(lib_probe)(x) + 0 * x;
}

#if defined(__x86_64__)
__asm__(".pushsection .text\n"
	".globl lib_call_op_asm\n"
	".type lib_call_op_asm, @function\n"
	"lib_call_op_asm:\n"
	"sub $8, %rsp\n"
	".globl lib_op_asm_site\n"
	".type lib_op_asm_site, @function\n"
	"lib_op_asm_site:\n"
	"call static_call_tramp__lib_op@PLT\n"
	"add $8, %rsp\n"
	"ret\n"
	".size lib_call_op_asm, . - lib_call_op_asm\n"
	".popsection\n");
#elif defined(__aarch64__)
__asm__(".pushsection .text\n"
	".globl lib_call_op_asm\n"
	".type lib_call_op_asm, %function\n"
	"lib_call_op_asm:\n"
	"hint 34\n" /* bti c */
	"stp x29, x30, [sp, #-16]!\n"
	"mov x29, sp\n"
	".globl lib_op_asm_site\n"
	".type lib_op_asm_site, %function\n"
	"lib_op_asm_site:\n"
	"bl static_call_tramp__lib_op\n"
	"ldp x29, x30, [sp], #16\n"
	"ret\n"
	".size lib_call_op_asm, . - lib_call_op_asm\n"
	".popsection\n");
#endif
