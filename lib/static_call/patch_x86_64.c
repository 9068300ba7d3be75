/*
 * x86-64 trampoline patching.
 *
 * A trampoline is 16 bytes, 16-aligned (see the header): the word at [0,8) is the only
 * thing we rewrite, with one aligned 8-byte store, so an instruction fetch sees the
 * old word or the new one whole. [8,14) is `jmp *slot(%rip)`, the path to targets more
 * than ±2 GiB away, which reads the slot, a data word we write before the code word.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define INT3   0xcc
#define JMP32  0xe9
#define JMP8   0xeb
#define RET    0xc3

static uint64_t word_of(const uint8_t b[8])
{
	uint64_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

int sc_arch_patch(struct static_call_key *key, void *func)
{
	uint8_t *tramp = key->tramp;
	uint8_t insn[8];
	uint64_t *rw;

	memset(insn, INT3, sizeof(insn));
	if (!func) {
		insn[0] = RET;
	} else {
		int64_t rel = (int64_t)((intptr_t)func - (intptr_t)(tramp + 5));

		if (rel >= INT32_MIN && rel <= INT32_MAX) {
			int32_t r = (int32_t)rel;

			insn[0] = JMP32;
			memcpy(&insn[1], &r, sizeof(r));
		} else {
			insn[0] = JMP8; /* to tramp+8: the far path through the slot */
			insn[1] = 8 - 2;
		}
	}

	rw = sc_text_alias(tramp);
	if (!rw)
		return -errno;
	/* The slot first: a thread that takes the far path must find a valid target. */
	__atomic_store_n(key->slot, func, __ATOMIC_RELEASE);
	__atomic_store_n(rw, word_of(insn), __ATOMIC_RELEASE);
	sc_text_publish(tramp, sizeof(insn));
	return 0;
}
