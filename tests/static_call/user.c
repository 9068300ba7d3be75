/*
 * libsc_user: calls libsc_lib's static calls from another shared object, through its
 * PLT. Linked with --emit-relocs (its calls are inline sites) and -z lazy (a PLT
 * entry is bound at its first call, which the tests rely on).
 */
#include "lib.h"

int user_call_op(int x)
{
	return static_call(lib_op)(x) + 0 * x;
}

#if defined(__x86_64__)
__asm__(".pushsection .text\n"
	".globl user_call_lazy_asm\n"
	".type user_call_lazy_asm, @function\n"
	"user_call_lazy_asm:\n"
	"sub $8, %rsp\n"
	".globl user_lazy_asm_site\n"
	".type user_lazy_asm_site, @function\n"
	"user_lazy_asm_site:\n"
	"call static_call_tramp__lib_lazy@PLT\n"
	"add $8, %rsp\n"
	"ret\n"
	".size user_call_lazy_asm, . - user_call_lazy_asm\n"
	".popsection\n");
#elif defined(__aarch64__)
__asm__(".pushsection .text\n"
	".globl user_call_lazy_asm\n"
	".type user_call_lazy_asm, %function\n"
	"user_call_lazy_asm:\n"
	"hint 34\n"
	"stp x29, x30, [sp, #-16]!\n"
	"mov x29, sp\n"
	".globl user_lazy_asm_site\n"
	".type user_lazy_asm_site, %function\n"
	"user_lazy_asm_site:\n"
	"bl static_call_tramp__lib_lazy\n"
	"ldp x29, x30, [sp], #16\n"
	"ret\n"
	".size user_call_lazy_asm, . - user_call_lazy_asm\n"
	".popsection\n");
#endif
