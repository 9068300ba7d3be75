/*
 * aarch64 trampoline patching.
 *
 * The trampoline's first instruction is `B target` when the target is within
 * ±128 MiB, else `NOP`; after it come a load of the slot and `BR x16` (or `RET` when
 * the slot is zero, for NULL). B and NOP are among the instructions the architecture
 * lets us swap while other cores execute them, so that word is all we rewrite, with
 * one aligned 4-byte store, always after the slot: a core that runs the old B reaches
 * the old target, one that runs the NOP reads the slot, old or new, both valid.
 */
#include <errno.h>
#include <stdint.h>

#include "internal.h"

#define AARCH64_NOP 0xd503201fu
#define AARCH64_B   0x14000000u

int sc_arch_patch(struct static_call_key *key, void *func)
{
	uint32_t *tramp = key->tramp;
	uint32_t insn = AARCH64_NOP;
	uint32_t *rw;

	if (func) {
		int64_t off = (int64_t)((intptr_t)func - (intptr_t)tramp);

		if (off >= -(INT64_C(1) << 27) && off < (INT64_C(1) << 27))
			insn = AARCH64_B | ((uint32_t)(off >> 2) & 0x03ffffffu);
	}

	rw = sc_text_alias(tramp);
	if (!rw)
		return -errno;
	__atomic_store_n(key->slot, func, __ATOMIC_RELEASE);
	__atomic_store_n(rw, insn, __ATOMIC_RELEASE);
	sc_text_publish(tramp, sizeof(insn));
	return 0;
}
