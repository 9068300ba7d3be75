/*
 * aarch64 trampoline and call-site patching.
 *
 * A trampoline's word at key->tramp_off (after `bti c` when built for BTI) is
 * `B target` when the target is within ±128 MiB, else `NOP`; after it come a load of
 * the slot and `BR x16`. B and NOP are among the instructions the architecture lets
 * us swap while other cores execute them, so that word is all we rewrite, with one
 * aligned 4-byte store, always after the slot: a core that runs the old B reaches
 * the old target, one that runs the NOP reads the slot, old or new, both valid. The
 * slot never holds NULL (a NULL call reaches the typed return-0 function).
 *
 * Call sites (`BL tramp`, or `B tramp` for a tail call, to the trampoline or a PLT
 * entry) are one aligned word too, and a B/BL swap is as allowed as B/NOP: one store,
 * then cache maintenance.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>

#include "internal.h"

#define AARCH64_NOP    0xd503201fu
#define AARCH64_B      0x14000000u
#define AARCH64_BL     0x94000000u
#define AARCH64_B_MASK 0xfc000000u
#define AARCH64_IMM26  0x03ffffffu

size_t sc_arch_tramp_len(const struct static_call_key *key)
{
	return key->tramp_off + 16u;
}

static int in_range(uintptr_t from, uintptr_t to)
{
	int64_t off = (int64_t)(to - from);

	return off >= -(INT64_C(1) << 27) && off < (INT64_C(1) << 27);
}

int sc_arch_patch(struct sc_module *m, struct static_call_key *key, uintptr_t dest)
{
	uintptr_t word = (uintptr_t)key->tramp + key->tramp_off;
	uint32_t insn = AARCH64_NOP;

	if (word & 3)
		return -EINVAL;
	if (in_range(word, dest))
		insn = AARCH64_B | ((uint32_t)((int64_t)(dest - word) >> 2) & AARCH64_IMM26);
	__atomic_store_n(key->slot, (void *)dest, __ATOMIC_RELEASE);
	return sc_text_write(m, word, insn, 4);
}

/* ---- call sites ------------------------------------------------------------ */

uintptr_t sc_arch_site_of_reloc(unsigned int type, uintptr_t where)
{
	if (type == R_AARCH64_CALL26 || type == R_AARCH64_JUMP26)
		return where;
	return 0;
}

int sc_arch_site_decode(uintptr_t site, uintptr_t *target, unsigned int *kind)
{
	uint32_t insn = *(const uint32_t *)site;
	int32_t imm;

	if ((insn & AARCH64_B_MASK) == AARCH64_BL)
		*kind = SC_SITE_CALL;
	else if ((insn & AARCH64_B_MASK) == AARCH64_B)
		*kind = SC_SITE_JUMP;
	else
		return -1;
	imm = (int32_t)((insn & AARCH64_IMM26) << 6) >> 6; /* sign-extend 26 bits */
	*target = site + (uintptr_t)((intptr_t)imm * 4);
	return 0;
}

int sc_arch_site_reaches(uintptr_t site, uintptr_t dest)
{
	return in_range(site, dest);
}

int sc_arch_patch_site(struct sc_module *m, const struct sc_site *s, uintptr_t dest)
{
	uint32_t insn = *(const uint32_t *)s->addr;

	insn = (insn & ~AARCH64_IMM26) | ((uint32_t)((int64_t)(dest - s->addr) >> 2) & AARCH64_IMM26);
	return sc_text_write(m, s->addr, insn, 4);
}
