/*
 * x86-64 trampoline patching.
 *
 * A trampoline is 16 bytes, 16-aligned (see the header): the word at [0,8) is the only
 * thing we rewrite, with one aligned 8-byte store, so an instruction fetch sees the
 * old word or the new one whole. [8,14) is `jmp *slot(%rip)`, the path to targets more
 * than ±2 GiB away, which reads the slot, a data word we write before the code word.
 *
 * A call site (`call rel32`, 5 bytes, anywhere) is rewritten the same way when its
 * rel32 lies within one aligned 8-byte word: one store of that word, its other bytes
 * unchanged. Otherwise we use the kernel's int3 protocol: make the first byte `int3`,
 * serialize every thread, write the rel32, serialize, restore the `call` opcode. A
 * thread that meets the int3 meanwhile takes SIGTRAP, and our handler does what the
 * call would have done — push the return address, continue at the trampoline, which
 * already has the new target.
 */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "internal.h"

#define INT3   0xcc
#define JMP32  0xe9
#define JMP8   0xeb
#define RET    0xc3
#define CALL32 0xe8

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

/* ---- call sites ------------------------------------------------------------ */

uintptr_t sc_arch_site_of_reloc(unsigned int type, uintptr_t where)
{
	/* The relocation patches the rel32, one byte after the opcode. */
	if (type == R_X86_64_PLT32 || type == R_X86_64_PC32)
		return where - 1;
	return 0;
}

int sc_arch_site_target(uintptr_t site, uintptr_t *target)
{
	const uint8_t *p = (const uint8_t *)site;
	int32_t rel;

	if (p[0] != CALL32)
		return -1;
	memcpy(&rel, p + 1, sizeof(rel));
	*target = site + 5 + (intptr_t)rel;
	return 0;
}

int sc_arch_site_reaches(uintptr_t site, uintptr_t dest)
{
	int64_t rel = (int64_t)(dest - (site + 5));

	return rel >= INT32_MIN && rel <= INT32_MAX;
}

static struct sigaction sc_old_trap;
static int sc_trap_installed;

/* SIGTRAP: a thread met the int3 of a site being rewritten; do the call for it. */
static void sc_trap(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	size_t n = __atomic_load_n(&sc_sites.nr, __ATOMIC_ACQUIRE);
	struct sc_site *t = __atomic_load_n(&sc_sites.sites, __ATOMIC_ACQUIRE);

	for (size_t i = 0; i < n; i++) {
		uintptr_t tramp = __atomic_load_n(&t[i].tramp, __ATOMIC_ACQUIRE);

		if (t[i].addr == rip - 1 && tramp) {
			uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] - 8;

			*(uintptr_t *)sp = t[i].addr + 5;
			uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
			uc->uc_mcontext.gregs[REG_RIP] = (greg_t)tramp;
			return;
		}
	}
	/* Not ours: what would have happened without us. */
	if ((sc_old_trap.sa_flags & SA_SIGINFO) && sc_old_trap.sa_sigaction) {
		sc_old_trap.sa_sigaction(sig, info, ctx);
	} else if (sc_old_trap.sa_handler == SIG_IGN) {
		return;
	} else if (sc_old_trap.sa_handler != SIG_DFL) {
		sc_old_trap.sa_handler(sig);
	} else {
		sigaction(SIGTRAP, &sc_old_trap, NULL);
		raise(SIGTRAP);
	}
}

static int sc_trap_install(void)
{
	struct sigaction sa;

	if (sc_trap_installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sc_trap;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, &sc_old_trap))
		return -errno;
	sc_trap_installed = 1;
	return 0;
}

static void store_byte(uintptr_t addr, uint8_t b)
{
	uint8_t *rw = sc_text_alias((void *)addr); /* prepared: cannot fail */

	__atomic_store_n(rw, b, __ATOMIC_RELEASE);
}

void sc_arch_patch_site(uintptr_t site, uintptr_t dest)
{
	int32_t rel = (int32_t)(int64_t)(dest - (site + 5));
	uintptr_t word = (site + 1) & ~(uintptr_t)7;
	uint8_t bytes[8];

	if (!memcmp((const void *)(site + 1), &rel, sizeof(rel)))
		return;
	if (site + 1 - word <= 4) {
		uint64_t *rw = sc_text_alias((void *)word);

		memcpy(bytes, (const void *)word, sizeof(bytes));
		memcpy(bytes + (site + 1 - word), &rel, sizeof(rel));
		__atomic_store_n(rw, word_of(bytes), __ATOMIC_RELEASE);
		return;
	}
	if (sc_trap_install())
		return; /* no handler, no int3: the site keeps its old, valid target */
	memcpy(bytes, &rel, sizeof(rel));
	store_byte(site, 0xcc);
	sc_sync_core();
	for (int i = 0; i < 4; i++)
		store_byte(site + 1 + (uintptr_t)i, bytes[i]);
	sc_sync_core();
	store_byte(site, CALL32);
}
