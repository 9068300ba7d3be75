/*
 * Call sites: the inline flavour of the trampoline backends.
 *
 * A static call compiles to a direct call to its key's trampoline. When a module (the
 * executable or a shared object) is linked with `-Wl,--emit-relocs`, its file keeps
 * the linker's relocations, and each call to a trampoline is one of them — what the
 * kernel learns from objtool at build time, we read from the file at run time. Then
 * an update rewrites each of those call instructions to call the new target directly,
 * and a static call costs exactly a direct call. Modules linked without the option
 * keep calling the trampolines, which are patched as well; so do sites the new target
 * is out of reach from (they are pointed back at the trampoline).
 *
 * A site is only ever rewritten after checking, in memory, that it is a call whose
 * target is this key's trampoline or its current target, so a stale file or an odd
 * relocation can never make us touch anything else.
 *
 * Modules are scanned once each, on the first update after they appear; the table of
 * sites only grows and is published with release stores, because the x86-64 int3
 * handler (patch_x86_64.c) reads it from a signal handler without the lock.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define TRAMP_PREFIX "static_call_tramp__"

struct sc_site_table sc_sites; /* see internal.h */

static uintptr_t *scanned_modules; /* load bases already scanned */
static size_t nr_scanned, alloc_scanned;

static int site_add(uintptr_t addr, const char *name)
{
	struct sc_site *t = sc_sites.sites;
	size_t n = __atomic_load_n(&sc_sites.nr, __ATOMIC_RELAXED);

	if (n == sc_sites.alloc) {
		/*
		 * Grow by copying into a new array and never freeing the old one: a
		 * signal handler may be reading it. Doubling keeps the garbage small.
		 */
		size_t alloc = sc_sites.alloc ? 2 * sc_sites.alloc : 64;
		struct sc_site *bigger = malloc(alloc * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		if (n)
			memcpy(bigger, t, n * sizeof(*t));
		__atomic_store_n(&sc_sites.sites, bigger, __ATOMIC_RELEASE);
		sc_sites.alloc = alloc;
		t = bigger;
	}
	t[n].addr = addr;
	t[n].name = strdup(name + strlen(TRAMP_PREFIX));
	t[n].tramp = 0;
	if (!t[n].name)
		return -ENOMEM;
	__atomic_store_n(&sc_sites.nr, n + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Find the relocations against trampolines in one mapped ELF file. */
static int scan_elf(const unsigned char *file, size_t size, uintptr_t base)
{
	const Elf64_Ehdr *eh = (const void *)file;
	const Elf64_Shdr *sh;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size || eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr))
		return 0; /* not something we can read: no sites, trampolines only */
	sh = (const void *)(file + eh->e_shoff);

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
			size_t s = ELF64_R_SYM(r[k].r_info);
			const char *name;
			uintptr_t site;
			int err;

			if (s == 0 || s >= nr_syms || syms[s].st_name >= strtab->sh_size)
				continue;
			name = (const char *)file + strtab->sh_offset + syms[s].st_name;
			if (strnlen(name, strtab->sh_size - syms[s].st_name) ==
				    strtab->sh_size - syms[s].st_name ||
			    strncmp(name, TRAMP_PREFIX, strlen(TRAMP_PREFIX)))
				continue;
			/* In a linked file, r_offset is the address the relocation patched. */
			site = sc_arch_site_of_reloc((unsigned int)ELF64_R_TYPE(r[k].r_info),
						     base + r[k].r_offset);
			if (site && (err = site_add(site, name)))
				return err;
		}
	}
	return 0;
}

static int scan_module(struct dl_phdr_info *info, size_t info_size, void *data)
{
	const char *path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : NULL;
	int *result = data;
	struct stat st;
	void *file;
	int fd;

	(void)info_size;
	for (size_t i = 0; i < nr_scanned; i++)
		if (scanned_modules[i] == info->dlpi_addr)
			return 0;
	if (nr_scanned == alloc_scanned) {
		size_t n = alloc_scanned ? 2 * alloc_scanned : 16;
		uintptr_t *t = realloc(scanned_modules, n * sizeof(*t));

		if (!t) {
			*result = -ENOMEM;
			return 1;
		}
		scanned_modules = t;
		alloc_scanned = n;
	}
	/* The executable has no name here; the vDSO's is not a file. */
	fd = open(path ? path : "/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT && errno != EACCES && errno != ENOTDIR) {
		*result = -errno; /* out of descriptors or memory: try again next time */
		return 1;
	}
	scanned_modules[nr_scanned++] = info->dlpi_addr;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (file != MAP_FAILED) {
			*result = scan_elf(file, (size_t)st.st_size, info->dlpi_addr);
			munmap(file, (size_t)st.st_size);
		}
	}
	close(fd);
	return *result ? 1 : 0;
}

int sc_sites_scan(void)
{
	int result = 0;

	dl_iterate_phdr(scan_module, &result);
	return result;
}

/*
 * Where @key's sites should call now: the target itself, or the trampoline for NULL
 * (it returns) and for a target out of the site's reach.
 */
static uintptr_t site_destination(const struct static_call_key *key, uintptr_t site, void *func)
{
	if (func && sc_arch_site_reaches(site, (uintptr_t)func))
		return (uintptr_t)func;
	return (uintptr_t)key->tramp;
}

/* Is @site, in memory now, one of @key's calls? */
static int site_is_ours(const struct static_call_key *key, const struct sc_site *s)
{
	void *func = __atomic_load_n(&key->func, __ATOMIC_ACQUIRE);
	uintptr_t cur;

	if (strcmp(s->name, key->name) || sc_arch_site_target(s->addr, &cur))
		return 0;
	return cur == (uintptr_t)key->tramp || (func && cur == (uintptr_t)func);
}

int sc_sites_prepare(struct static_call_key *key)
{
	size_t n = __atomic_load_n(&sc_sites.nr, __ATOMIC_ACQUIRE);

	for (size_t i = 0; i < n; i++) {
		struct sc_site *s = &sc_sites.sites[i];

		if (!site_is_ours(key, s))
			continue;
		/* A call may straddle a page: alias both ends before writing anything. */
		if (!sc_text_alias((void *)s->addr) ||
		    !sc_text_alias((void *)(s->addr + SC_SITE_LEN - 1)))
			return -errno;
	}
	return 0;
}

void sc_sites_retarget(struct static_call_key *key, void *func)
{
	size_t n = __atomic_load_n(&sc_sites.nr, __ATOMIC_ACQUIRE);

	for (size_t i = 0; i < n; i++) {
		struct sc_site *s = &sc_sites.sites[i];

		if (!site_is_ours(key, s))
			continue;
		/* The int3 handler sends a trapped caller to the trampoline. */
		__atomic_store_n(&s->tramp, (uintptr_t)key->tramp, __ATOMIC_RELEASE);
		sc_arch_patch_site(s->addr, site_destination(key, s->addr, func));
	}
}

size_t static_call_key_sites(const struct static_call_key *key, int direct_only)
{
	size_t n = __atomic_load_n(&sc_sites.nr, __ATOMIC_ACQUIRE), count = 0;

	for (size_t i = 0; i < n; i++) {
		const struct sc_site *s = &sc_sites.sites[i];
		uintptr_t cur;

		if (site_is_ours(key, s) && !sc_arch_site_target(s->addr, &cur))
			count += !direct_only || cur != (uintptr_t)key->tramp;
	}
	return count;
}
