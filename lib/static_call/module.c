/*
 * The registry of modules: the executable and shared objects that use static calls.
 *
 * Every module that includes emkit/static_call.h has a constructor that registers it
 * and a destructor that unregisters it (see the header). Registration looks the
 * module up in the dynamic loader's list (dl_iterate_phdr) once, outside the update
 * lock, and records what updates need later without asking the loader again: its
 * load bias, its file, its executable segments, its dynamic section (for the GOT
 * slots of PLT calls) and whether its pages are BTI-guarded. Unregistration, at
 * dlclose() or exit, forgets the module's call sites and closes its code aliases,
 * so that a module loaded again, maybe at the same address, starts afresh.
 *
 * Memory comes from mmap, never malloc: an update may run in a signal handler.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

SC_HIDDEN void sc_init_once(void);

struct sc_module **sc_modules;
size_t sc_nr_modules;
static size_t sc_alloc_modules;

/* ---- memory ---------------------------------------------------------------------- */

size_t sc_page_size(void)
{
	static size_t ps;

	if (!ps) {
		unsigned long v = getauxval(AT_PAGESZ);

		ps = v ? (size_t)v : 4096;
	}
	return ps;
}

static size_t round_up(size_t size)
{
	size_t ps = sc_page_size();

	return (size + ps - 1) & ~(ps - 1);
}

void *sc_mem_alloc(size_t size)
{
	void *p = mmap(NULL, round_up(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void sc_mem_free(void *p, size_t size)
{
	if (p)
		munmap(p, round_up(size));
}

/* ---- describing a module ------------------------------------------------------------ */

#if defined(__aarch64__)
#ifndef GNU_PROPERTY_AARCH64_FEATURE_1_AND
#define GNU_PROPERTY_AARCH64_FEATURE_1_AND 0xc0000000u
#endif
#ifndef GNU_PROPERTY_AARCH64_FEATURE_1_BTI
#define GNU_PROPERTY_AARCH64_FEATURE_1_BTI 1u
#endif
#ifndef PT_GNU_PROPERTY
#define PT_GNU_PROPERTY 0x6474e553
#endif

/* Does the GNU property note at @p (@size bytes) mark the module BTI-compatible? */
static int note_has_bti(const unsigned char *p, size_t size)
{
	while (size >= 16) {
		const uint32_t *n = (const void *)p;
		size_t namesz = (n[0] + 3) & ~3u, descsz = (n[1] + 7) & ~7u;
		const unsigned char *desc = p + 12 + namesz;

		if (12 + namesz + descsz > size)
			return 0;
		if (n[2] == NT_GNU_PROPERTY_TYPE_0 && n[0] == 4 && !memcmp(p + 12, "GNU", 4)) {
			size_t off = 0;

			while (off + 8 <= n[1]) {
				const uint32_t *pr = (const void *)(desc + off);

				if (pr[0] == GNU_PROPERTY_AARCH64_FEATURE_1_AND && pr[1] >= 4)
					return (pr[2] & GNU_PROPERTY_AARCH64_FEATURE_1_BTI) != 0;
				off += 8 + ((pr[1] + 7) & ~7u);
			}
		}
		p += 12 + namesz + descsz;
		size -= 12 + namesz + descsz;
	}
	return 0;
}
#endif

struct sc_lookup {
	uintptr_t addr;
	struct sc_module *m; /* filled in when found */
	int err;
};

static int describe(struct dl_phdr_info *info, size_t info_size, void *data)
{
	struct sc_lookup *l = data;
	struct sc_module *m;
	uintptr_t ps = sc_page_size();
	const char *name;
	int found = 0;

	(void)info_size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && l->addr >= lo && l->addr < lo + ph->p_memsz)
			found = 1;
	}
	if (!found)
		return 0;

	m = sc_mem_alloc(sizeof(*m));
	if (!m) {
		l->err = -ENOMEM;
		return 1;
	}
	m->base = info->dlpi_addr;
	name = info->dlpi_name ? info->dlpi_name : "";
	m->path_size = strlen(name) + 1;
	m->path = sc_mem_alloc(m->path_size);
	if (!m->path) {
		sc_mem_free(m, sizeof(*m));
		l->err = -ENOMEM;
		return 1;
	}
	memcpy(m->path, name, m->path_size);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && m->nr_segs < SC_MAX_SEGS) {
			struct sc_region *r = &m->seg[m->nr_segs++];

			r->seg_lo = lo & ~(ps - 1);
			r->seg_hi = (lo + ph->p_memsz + ps - 1) & ~(ps - 1);
			r->fd = -1;
		} else if (ph->p_type == PT_DYNAMIC) {
			m->dynamic = (const void *)lo;
		}
#if defined(__aarch64__)
		else if (ph->p_type == PT_GNU_PROPERTY) {
			m->bti = note_has_bti((const void *)lo, ph->p_memsz);
		}
#endif
	}
	l->m = m;
	return 1;
}

static void module_free(struct sc_module *m)
{
	sc_text_release(m);
	sc_sites_release(m);
	sc_mem_free(m->path, m->path_size);
	sc_mem_free(m, sizeof(*m));
}

/* Describe the module holding @addr (not async-signal-safe: asks the loader). */
static int module_describe(uintptr_t addr, struct sc_module **out)
{
	struct sc_lookup l = {.addr = addr};

	dl_iterate_phdr(describe, &l);
	if (l.err)
		return l.err;
	if (!l.m)
		return -ENOENT;
	*out = l.m;
	return 0;
}

/* ---- the registry ------------------------------------------------------------------- */

struct sc_module *sc_module_of(uintptr_t addr)
{
	for (size_t i = 0; i < sc_nr_modules; i++) {
		struct sc_module *m = sc_modules[i];

		for (unsigned int s = 0; s < m->nr_segs; s++)
			if (addr >= m->seg[s].seg_lo && addr < m->seg[s].seg_hi)
				return m;
	}
	return NULL;
}

/* Add @m, or if its module is there already (found on demand), give that one @desc. */
static int registry_add(struct sc_module *m, struct static_call_module *desc,
			struct sc_module **added)
{
	for (size_t i = 0; i < sc_nr_modules; i++) {
		if (sc_modules[i]->base == m->base && sc_modules[i]->nr_segs &&
		    sc_modules[i]->seg[0].seg_lo == m->seg[0].seg_lo) {
			if (desc && !sc_modules[i]->desc)
				sc_modules[i]->desc = desc;
			*added = sc_modules[i];
			return 1; /* not added: free @m */
		}
	}
	if (sc_nr_modules == sc_alloc_modules) {
		size_t n = sc_alloc_modules ? 2 * sc_alloc_modules : 32;
		struct sc_module **t = sc_mem_alloc(n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		if (sc_nr_modules)
			memcpy(t, sc_modules, sc_nr_modules * sizeof(*t));
		sc_mem_free(sc_modules, sc_alloc_modules * sizeof(*t));
		sc_modules = t;
		sc_alloc_modules = n;
	}
	m->desc = desc;
	sc_modules[sc_nr_modules++] = m;
	*added = m;
	return 0;
}

int sc_module_register_addr(uintptr_t addr)
{
	struct sc_module *m, *added;
	int err = module_describe(addr, &m);

	if (err)
		return err;
	(void)sc_lock(); /* called without it */
	err = registry_add(m, NULL, &added);
	sc_unlock();
	if (err)
		module_free(m);
	return err < 0 ? err : 0;
}

void static_call_register_module(struct static_call_module *desc)
{
	struct sc_module *m, *added;
	int err;

	if (!desc || __atomic_load_n(&desc->priv, __ATOMIC_ACQUIRE))
		return;
	sc_init_once();
	if (module_describe((uintptr_t)desc, &m))
		return; /* updates will find it on demand */
	if (sc_lock()) {
		module_free(m);
		return;
	}
	if (__atomic_load_n(&desc->priv, __ATOMIC_ACQUIRE)) {
		err = 1;
	} else {
		err = registry_add(m, desc, &added);
		if (err >= 0)
			__atomic_store_n(&desc->priv, added, __ATOMIC_RELEASE);
	}
	sc_unlock();
	if (err)
		module_free(m);
}

void static_call_unregister_module(struct static_call_module *desc)
{
	struct sc_module *m = NULL;

	if (!desc || sc_lock())
		return;
	for (size_t i = 0; i < sc_nr_modules; i++) {
		if (sc_modules[i] == desc->priv) {
			m = sc_modules[i];
			sc_modules[i] = sc_modules[--sc_nr_modules];
			break;
		}
	}
	__atomic_store_n(&desc->priv, NULL, __ATOMIC_RELEASE);
	sc_unlock();
	if (m)
		module_free(m);
}
