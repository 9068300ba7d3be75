/*
 * x86-64 trampoline and call-site patching.
 *
 * A trampoline (see the header) holds, at key->tramp_off from its entry (after
 * `endbr64` when built for IBT), an 8-byte aligned word that is the only thing we
 * rewrite, with one aligned store, so an instruction fetch sees the old word or the
 * new one whole: `jmp rel32` + int3 padding, or a short jump to the word after it,
 * `jmp *slot(%rip)`, the path to targets more than ±2 GiB away, which reads the slot,
 * a data word we write before the code word.
 *
 * A call site (`call rel32`, or `jmp rel32` for a tail call, 5 bytes, anywhere) is
 * rewritten the same way when its rel32 lies within one aligned 8-byte word: one
 * store of that word, its other bytes unchanged. Otherwise we use the kernel's int3
 * protocol: make the first byte `int3`, serialize every thread, write the rel32,
 * serialize, restore the opcode. A thread that meets the int3 meanwhile takes
 * SIGTRAP, and our handler does what the instruction would have done towards the
 * site's first target (the trampoline, or a PLT entry that reaches it), which already
 * has the new target; one that trapped just before the opcode came back is sent to
 * run it again. The handler knows the sites from a small ring of the latest ones,
 * written before each int3, so it never reads tables a dlclose may free.
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
#define CALL32 0xe8

static uint64_t word_of(const uint8_t b[8])
{
	uint64_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

size_t sc_arch_tramp_len(const struct static_call_key *key)
{
	return key->tramp_off + 16u;
}

int sc_arch_patch(struct sc_module *m, struct static_call_key *key, uintptr_t dest)
{
	uintptr_t word = (uintptr_t)key->tramp + key->tramp_off;
	int64_t rel = (int64_t)(dest - (word + 5));
	uint8_t insn[8];

	if (word & 7)
		return -EINVAL; /* not a trampoline of ours */
	memset(insn, INT3, sizeof(insn));
	if (rel >= INT32_MIN && rel <= INT32_MAX) {
		int32_t r = (int32_t)rel;

		insn[0] = JMP32;
		memcpy(&insn[1], &r, sizeof(r));
	} else {
		insn[0] = JMP8; /* to word+8: the far path through the slot */
		insn[1] = 8 - 2;
	}
	/* The slot first: a thread that takes the far path must find a valid target. */
	__atomic_store_n(key->slot, (void *)dest, __ATOMIC_RELEASE);
	return sc_text_write(m, word, word_of(insn), 8);
}

/* ---- call sites ------------------------------------------------------------ */

uintptr_t sc_arch_site_of_reloc(unsigned int type, uintptr_t where)
{
	/* The relocation patches the rel32, one byte after the opcode. */
	if (type == R_X86_64_PLT32 || type == R_X86_64_PC32)
		return where - 1;
	return 0;
}

int sc_arch_site_decode(uintptr_t site, uintptr_t *target, unsigned int *kind)
{
	const uint8_t *p = (const uint8_t *)site;
	int32_t rel;

	if (p[0] == CALL32)
		*kind = SC_SITE_CALL;
	else if (p[0] == JMP32)
		*kind = SC_SITE_JUMP;
	else
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

/* The sites whose int3 a thread may meet: the latest ones rewritten that way. */
#define SC_RING 64
static struct sc_ring {
	uintptr_t addr, home;
	unsigned int kind;
} sc_ring[SC_RING];
static unsigned int sc_ring_next;

static struct sigaction sc_old_trap;
static int sc_trap_installed;

/* SIGTRAP: a thread met the int3 of a site being rewritten; do the branch for it. */
static void sc_trap(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t site = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] - 1;

	for (unsigned int i = 0; i < SC_RING; i++) {
		struct sc_ring r;

		r.addr = __atomic_load_n(&sc_ring[i].addr, __ATOMIC_ACQUIRE);
		if (r.addr != site || !r.addr)
			continue;
		r.home = __atomic_load_n(&sc_ring[i].home, __ATOMIC_ACQUIRE);
		r.kind = __atomic_load_n(&sc_ring[i].kind, __ATOMIC_ACQUIRE);
		if (*(volatile const uint8_t *)site != INT3) {
			/* The rewrite finished while we were on our way here. */
			uc->uc_mcontext.gregs[REG_RIP] = (greg_t)site;
			return;
		}
		if (r.kind == SC_SITE_CALL) {
			uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] - 8;

			*(uintptr_t *)sp = site + 5;
			uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
		}
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)r.home;
		return;
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

int sc_arch_patch_site(struct sc_module *m, const struct sc_site *s, uintptr_t dest)
{
	uintptr_t site = s->addr, word = (site + 1) & ~(uintptr_t)7;
	int32_t rel = (int32_t)(int64_t)(dest - (site + 5));
	struct sc_ring *r;
	uint8_t bytes[8];
	int err;

	if (site + 1 - word <= 4) {
		memcpy(bytes, (const void *)word, sizeof(bytes));
		memcpy(bytes + (site + 1 - word), &rel, sizeof(rel));
		return sc_text_write(m, word, word_of(bytes), 8);
	}
	err = sc_trap_install();
	if (err)
		return err;
	r = &sc_ring[sc_ring_next++ % SC_RING];
	__atomic_store_n(&r->addr, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->home, s->home, __ATOMIC_RELEASE);
	__atomic_store_n(&r->kind, s->kind, __ATOMIC_RELEASE);
	__atomic_store_n(&r->addr, site, __ATOMIC_RELEASE);
	memcpy(bytes, &rel, sizeof(rel));
	err = sc_text_write(m, site, INT3, 1);
	if (err)
		return err;
	sc_sync_core();
	for (int i = 0; i < 4 && !err; i++)
		err = sc_text_write(m, site + 1 + (uintptr_t)i, bytes[i], 1);
	sc_sync_core();
	if (!err)
		err = sc_text_write(m, site, s->kind == SC_SITE_CALL ? CALL32 : JMP32, 1);
	return err;
}
