/*
 * aarch64 trampoline patching.
 *
 * The trampoline's first instruction is `B target` when the target is within
 * ±128 MiB, else `NOP`; after it come a load of the slot and `BR x16` (or `RET` when
 * the slot is zero, for NULL). B and NOP are among the instructions the architecture
 * lets us swap while other cores execute them, so that word is all we rewrite, with
 * one aligned 4-byte store, always after the slot: a core that runs the old B reaches
 * the old target, one that runs the NOP reads the slot, old or new, both valid.
 *
 * Call sites (`BL tramp`, or `B tramp` for a tail call) are one aligned word too, and
 * a B/BL swap is as allowed as B/NOP: one store, then cache maintenance.
 */
#include <elf.h>
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

/* ---- call sites ------------------------------------------------------------ */

#define AARCH64_B_MASK 0x7c000000u /* B and BL: bits 30..26 = 00101 */
#define AARCH64_IMM26  0x03ffffffu

uintptr_t sc_arch_site_of_reloc(unsigned int type, uintptr_t where)
{
	if (type == R_AARCH64_CALL26 || type == R_AARCH64_JUMP26)
		return where;
	return 0;
}

int sc_arch_site_target(uintptr_t site, uintptr_t *target)
{
	uint32_t insn = *(const uint32_t *)site;
	int32_t imm;

	if ((insn & AARCH64_B_MASK) != AARCH64_B)
		return -1;
	imm = (int32_t)((insn & AARCH64_IMM26) << 6) >> 6; /* sign-extend 26 bits */
	*target = site + (uintptr_t)((intptr_t)imm * 4);
	return 0;
}

int sc_arch_site_reaches(uintptr_t site, uintptr_t dest)
{
	int64_t off = (int64_t)(dest - site);

	return off >= -(INT64_C(1) << 27) && off < (INT64_C(1) << 27);
}

void sc_arch_patch_site(uintptr_t site, uintptr_t dest)
{
	uint32_t insn = *(const uint32_t *)site;
	int64_t off = (int64_t)(dest - site);
	uint32_t *rw = sc_text_alias((void *)site); /* prepared: cannot fail */

	insn = (insn & ~AARCH64_IMM26) | ((uint32_t)(off >> 2) & AARCH64_IMM26);
	__atomic_store_n(rw, insn, __ATOMIC_RELEASE);
	sc_text_publish((void *)site, sizeof(insn));
}
