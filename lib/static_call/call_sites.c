/*
 * Call sites: the inline flavour of the trampoline backends.
 *
 * A static call compiles to a direct call (or, as a tail call, a jump) to its key's
 * trampoline: in the module that defines the key, the trampoline itself (protected
 * visibility: never the PLT); from another module, that module's PLT entry, which
 * jumps through a GOT slot the dynamic linker binds to the trampoline. When a module
 * is linked with `-Wl,--emit-relocs`, its file keeps the linker's relocations, and
 * each such call is one of them, against a `static_call_tramp__*` symbol — what the
 * kernel learns from objtool at build time, we read from the file. An update then
 * rewrites each of the key's calls to reach the new target directly, and a static
 * call costs exactly a direct call. A call whose target is out of its reach, or a
 * PLT call not bound yet, keeps (or goes back to) what it called at first.
 *
 * A site is only ever rewritten after checking, in memory, that it still calls what
 * we last made it call, so a stale file or an odd relocation can never make us touch
 * anything else. Modules are scanned once each, at the first update after they are
 * registered; their site tables go with them when they are unregistered. Everything
 * here runs under the update lock and uses system calls only (open, mmap).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define TRAMP_PREFIX "static_call_tramp__"

static int site_add(struct sc_module *m, const struct sc_site *s)
{
	if ((m->nr_sites + 1) * sizeof(*s) > m->sites_bytes) {
		size_t bytes = m->sites_bytes ? 2 * m->sites_bytes : 64 * sizeof(*s);
		struct sc_site *t = sc_mem_alloc(bytes);

		if (!t)
			return -ENOMEM;
		if (m->nr_sites)
			memcpy(t, m->sites, m->nr_sites * sizeof(*s));
		sc_mem_free(m->sites, m->sites_bytes);
		m->sites = t;
		m->sites_bytes = bytes;
	}
	m->sites[m->nr_sites++] = *s;
	return 0;
}

static void want(struct sc_module *m, uintptr_t lo, uintptr_t hi)
{
	if (m->want_lo == m->want_hi) {
		m->want_lo = lo;
		m->want_hi = hi;
		return;
	}
	if (lo < m->want_lo)
		m->want_lo = lo;
	if (hi > m->want_hi)
		m->want_hi = hi;
}

static int in_text(const struct sc_module *m, uintptr_t addr, size_t len)
{
	for (unsigned int s = 0; s < m->nr_segs; s++)
		if (addr >= m->seg[s].seg_lo && addr + len <= m->seg[s].seg_hi)
			return 1;
	return 0;
}

/* A dynamic-section address: glibc relocates them in place, other loaders may not. */
static uintptr_t dyn_ptr(const struct sc_module *m, ElfW(Addr) v)
{
	return v < m->base ? m->base + v : v;
}

/*
 * The GOT slot through which module @m's PLT entry for @name jumps: found in its
 * dynamic relocations (JUMP_SLOT, or GLOB_DAT), in memory. 0 if none.
 */
static uintptr_t got_slot(const struct sc_module *m, const char *name)
{
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	size_t strsz = 0;
	const ElfW(Rela) *rel[2] = {NULL, NULL};
	size_t relsz[2] = {0, 0};

	if (!m->dynamic)
		return 0;
	for (const ElfW(Dyn) *d = m->dynamic; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB: symtab = (const void *)dyn_ptr(m, d->d_un.d_ptr); break;
		case DT_STRTAB: strtab = (const void *)dyn_ptr(m, d->d_un.d_ptr); break;
		case DT_STRSZ: strsz = d->d_un.d_val; break;
		case DT_JMPREL: rel[0] = (const void *)dyn_ptr(m, d->d_un.d_ptr); break;
		case DT_PLTRELSZ: relsz[0] = d->d_un.d_val; break;
		case DT_RELA: rel[1] = (const void *)dyn_ptr(m, d->d_un.d_ptr); break;
		case DT_RELASZ: relsz[1] = d->d_un.d_val; break;
		default: break;
		}
	}
	if (!symtab || !strtab)
		return 0;
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; rel[t] && i < relsz[t] / sizeof(ElfW(Rela)); i++) {
			size_t s = ELF64_R_SYM(rel[t][i].r_info);
			size_t off;

			if (!s)
				continue;
			off = symtab[s].st_name;
			if (off < strsz && !strncmp(strtab + off, name, strsz - off))
				return m->base + rel[t][i].r_offset;
		}
	}
	return 0;
}

/* Find the calls to trampolines in module @m's mapped ELF file. */
static int scan_elf(struct sc_module *m, const unsigned char *file, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)file;
	const Elf64_Shdr *sh;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size || eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr))
		return 0; /* not something we can read: no sites, trampolines only */
	sh = (const void *)(file + eh->e_shoff);

	/* The trampolines' section: what an update of any key here will patch. */
	if (eh->e_shstrndx < eh->e_shnum) {
		const Elf64_Shdr *ss = &sh[eh->e_shstrndx];

		for (unsigned int i = 0; ss->sh_offset < size && i < eh->e_shnum; i++) {
			const char *sname = (const char *)file + ss->sh_offset + sh[i].sh_name;

			if (sh[i].sh_name < ss->sh_size && ss->sh_size <= size - ss->sh_offset &&
			    sh[i].sh_addr && (sh[i].sh_flags & SHF_EXECINSTR) &&
			    !strncmp(sname, ".static_call.text", ss->sh_size - sh[i].sh_name) &&
			    in_text(m, m->base + sh[i].sh_addr, sh[i].sh_size))
				want(m, m->base + sh[i].sh_addr, m->base + sh[i].sh_addr + sh[i].sh_size);
		}
	}

	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *rela = &sh[i], *target, *symtab, *strtab;
		const Elf64_Rela *r;
		const Elf64_Sym *syms;
		size_t nr_syms;

		if (rela->sh_type != SHT_RELA || rela->sh_info >= eh->e_shnum ||
		    rela->sh_link >= eh->e_shnum)
			continue;
		target = &sh[rela->sh_info];
		symtab = &sh[rela->sh_link];
		if (!(target->sh_flags & SHF_EXECINSTR) || symtab->sh_type != SHT_SYMTAB ||
		    symtab->sh_link >= eh->e_shnum)
			continue;
		strtab = &sh[symtab->sh_link];
		if (rela->sh_offset > size || rela->sh_size > size - rela->sh_offset ||
		    symtab->sh_offset > size || symtab->sh_size > size - symtab->sh_offset ||
		    strtab->sh_offset > size || strtab->sh_size > size - strtab->sh_offset ||
		    rela->sh_entsize != sizeof(Elf64_Rela) || symtab->sh_entsize != sizeof(Elf64_Sym))
			continue;

		r = (const void *)(file + rela->sh_offset);
		syms = (const void *)(file + symtab->sh_offset);
		nr_syms = symtab->sh_size / sizeof(Elf64_Sym);
		for (size_t k = 0; k < rela->sh_size / sizeof(Elf64_Rela); k++) {
			size_t si = ELF64_R_SYM(r[k].r_info);
			struct sc_site s = {0};
			const char *name;
			int err;

			if (si == 0 || si >= nr_syms || syms[si].st_name >= strtab->sh_size)
				continue;
			name = (const char *)file + strtab->sh_offset + syms[si].st_name;
			if (strnlen(name, strtab->sh_size - syms[si].st_name) ==
				    strtab->sh_size - syms[si].st_name ||
			    strncmp(name, TRAMP_PREFIX, strlen(TRAMP_PREFIX)))
				continue;
			/* In a linked file, r_offset is the address the relocation patched. */
			s.addr = sc_arch_site_of_reloc((unsigned int)ELF64_R_TYPE(r[k].r_info),
						       m->base + r[k].r_offset);
			if (!s.addr || !in_text(m, s.addr, SC_SITE_LEN) ||
			    sc_arch_site_decode(s.addr, &s.home, &s.kind))
				continue; /* not a call or jump we know how to rewrite */
			s.cur = s.home;
			if (syms[si].st_shndx != SHN_UNDEF) {
				s.tramp = m->base + syms[si].st_value; /* ours (or via a veneer) */
			} else {
				s.got = got_slot(m, name); /* another module's, through the PLT */
				if (!s.got)
					continue;
			}
			err = site_add(m, &s);
			if (err)
				return err;
			want(m, s.addr, s.addr + SC_SITE_LEN);
		}
	}
	return 0;
}

static int scan_module(struct sc_module *m)
{
	struct stat st;
	void *file;
	int fd, err = 0;

	/* The executable has no name in the loader's list. */
	fd = open(*m->path ? m->path : "/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == EACCES || errno == ENOTDIR) {
			m->scanned = 1; /* no file to read: trampolines only */
			return 0;
		}
		return -errno; /* out of descriptors or memory: try again next time */
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (file != MAP_FAILED) {
			err = scan_elf(m, file, (size_t)st.st_size);
			munmap(file, (size_t)st.st_size);
		} else {
			err = -errno;
		}
	}
	close(fd);
	if (err) {
		sc_sites_release(m);
		m->want_lo = m->want_hi = 0;
		return err;
	}
	m->scanned = 1;
	return 0;
}

/*
 * A module whose file cannot be read now (no descriptor or memory left) is left
 * unscanned: its calls keep going to the trampolines, which is correct, only not
 * direct, and the next update tries again.
 */
int sc_sites_scan(void)
{
	for (size_t i = 0; i < sc_nr_modules; i++)
		if (!sc_modules[i]->scanned)
			(void)scan_module(sc_modules[i]);
	return 0;
}

/* The trampoline @s reaches now: its own, or what its PLT entry's GOT slot holds. */
static uintptr_t site_tramp(const struct sc_module *m, const struct sc_site *s)
{
	uintptr_t v;

	if (s->tramp)
		return s->tramp;
	v = __atomic_load_n((const uintptr_t *)s->got, __ATOMIC_ACQUIRE);
	return in_text(m, v, 1) ? 0 : v; /* still pointing into our PLT: not bound yet */
}

int sc_sites_prepare(const struct static_call_key *key)
{
	for (size_t i = 0; i < sc_nr_modules; i++) {
		struct sc_module *m = sc_modules[i];

		for (size_t k = 0; k < m->nr_sites; k++) {
			const struct sc_site *s = &m->sites[k];
			int err;

			if (site_tramp(m, s) != (uintptr_t)key->tramp)
				continue;
			err = sc_text_prepare(m, s->addr, SC_SITE_LEN);
			if (err)
				return err;
		}
	}
	return 0;
}

int sc_sites_retarget(const struct static_call_key *key, uintptr_t dest)
{
	for (size_t i = 0; i < sc_nr_modules; i++) {
		struct sc_module *m = sc_modules[i];

		for (size_t k = 0; k < m->nr_sites; k++) {
			struct sc_site *s = &m->sites[k];
			uintptr_t now, to;
			unsigned int kind;
			int err;

			if (site_tramp(m, s) != (uintptr_t)key->tramp)
				continue;
			to = sc_arch_site_reaches(s->addr, dest) ? dest : s->home;
			if (sc_arch_site_decode(s->addr, &now, &kind) || now != s->cur ||
			    kind != s->kind)
				continue; /* not what we left there: leave it alone */
			if (now == to)
				continue;
			err = sc_arch_patch_site(m, s, to);
			if (err)
				return err;
			s->cur = to;
		}
	}
	return 0;
}

void sc_sites_release(struct sc_module *m)
{
	sc_mem_free(m->sites, m->sites_bytes);
	m->sites = NULL;
	m->nr_sites = m->sites_bytes = 0;
	m->scanned = 0;
}

size_t static_call_key_sites(const struct static_call_key *key, int direct_only)
{
	size_t count = 0;

	if (!key || !key->tramp || sc_lock())
		return 0;
	for (size_t i = 0; i < sc_nr_modules; i++) {
		const struct sc_module *m = sc_modules[i];

		for (size_t k = 0; k < m->nr_sites; k++) {
			const struct sc_site *s = &m->sites[k];
			uintptr_t now;
			unsigned int kind;

			if (site_tramp(m, s) != (uintptr_t)key->tramp ||
			    sc_arch_site_decode(s->addr, &now, &kind))
				continue;
			count += !direct_only || now != s->home;
		}
	}
	sc_unlock();
	return count;
}
