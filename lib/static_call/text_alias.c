/*
 * Writable aliases of code: how we patch code without ever having a mapping that
 * is writable and executable at once.
 *
 * The first time code in some executable segment of a module is patched, we copy a
 * page-aligned range of it (its trampolines and call sites, so that later updates
 * fit in it) into a memfd and map the memfd read+exec over the original range
 * (MAP_FIXED). The bytes are identical at that moment, so a thread running there
 * cannot tell: the replacement happens under the kernel's mmap lock, and a thread
 * that faults meanwhile finds the new mapping. The memfd is mapped a second time,
 * read+write, at an address of the kernel's choosing, and every store goes through
 * that view. So a module holds one descriptor and two mappings per patched segment
 * (growing the range replaces them), whatever the number of pages, keys or sites,
 * and unregistering the module closes both (the code's memory goes with the module's
 * own mapping at dlclose). Mapping the writable view for each update only would cost
 * an munmap, a TLB shoot-down on every CPU running our threads: ten times the rest
 * of an update.
 *
 * fork() leaves parent and child mapping the same memfd: the fork handlers mark every
 * alias, and each process, before its next write, copies the range into a memfd of
 * its own and maps that in place. A raw clone() runs no handlers; the child notices
 * from its pid. Callers hold the update lock.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#if defined(__aarch64__) && !defined(PROT_BTI)
#define PROT_BTI 0x10
#endif

#if defined(__aarch64__)
static int sc_no_prot_bti; /* the kernel refused PROT_BTI once: do not ask again */
#endif

/* Map @len bytes of @fd read+exec at @addr, guarded like the rest of the module. */
static int map_exec(const struct sc_module *m, uintptr_t addr, size_t len, int fd, off_t off)
{
	int prot = PROT_READ | PROT_EXEC;
	void *p;

#if defined(__aarch64__)
	if (m->bti && !sc_no_prot_bti) {
		p = mmap((void *)addr, len, prot | PROT_BTI, MAP_SHARED | MAP_FIXED, fd, off);
		if (p != MAP_FAILED)
			return 0;
		if (errno != EINVAL)
			return -errno;
		sc_no_prot_bti = 1; /* no BTI in this kernel: the pages were not guarded */
	}
#else
	(void)m;
#endif
	p = mmap((void *)addr, len, prot, MAP_SHARED | MAP_FIXED, fd, off);
	return p == MAP_FAILED ? -errno : 0;
}

/*
 * Give [lo, hi) (page-aligned, inside one executable segment) a memfd of its own with
 * the bytes it holds now, mapped read+exec in place. On success the old memfd of @r,
 * if any, is closed; on failure nothing changed.
 */
static int alias_make(struct sc_module *m, struct sc_region *r, uintptr_t lo, uintptr_t hi)
{
	size_t len = hi - lo;
	int fd, err;

	fd = memfd_create("emkit-static-call", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0 || pwrite(fd, (void *)lo, len, 0) != (ssize_t)len) {
		err = errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	err = map_exec(m, lo, len, fd, 0);
	if (err) {
		close(fd);
		return err;
	}
	if (r->rw)
		munmap(r->rw, r->hi - r->lo);
	if (r->fd >= 0)
		close(r->fd);
	r->rw = NULL;
	r->fd = fd;
	r->lo = lo;
	r->hi = hi;
	r->owner = getpid();
	return 0;
}

static struct sc_region *region_of(struct sc_module *m, uintptr_t addr)
{
	for (unsigned int s = 0; s < m->nr_segs; s++)
		if (addr >= m->seg[s].seg_lo && addr < m->seg[s].seg_hi)
			return &m->seg[s];
	return NULL;
}

int sc_text_prepare(struct sc_module *m, uintptr_t addr, size_t len)
{
	uintptr_t ps = sc_page_size();
	uintptr_t lo = addr & ~(ps - 1), hi = (addr + len + ps - 1) & ~(ps - 1);
	struct sc_region *r = region_of(m, addr);
	int err;

	if (!r || hi > r->seg_hi)
		return -EFAULT; /* not this module's code */
	if (r->lo == r->hi || lo < r->lo || hi > r->hi || r->owner != getpid()) {
		/* Cover what this module will patch, within the segment, at once. */
		if (m->want_lo < m->want_hi) {
			uintptr_t wlo = m->want_lo & ~(ps - 1), whi = (m->want_hi + ps - 1) & ~(ps - 1);

			if (wlo < lo && wlo >= r->seg_lo)
				lo = wlo;
			if (whi > hi && whi <= r->seg_hi)
				hi = whi;
		}
		if (r->lo < r->hi && r->owner == getpid()) {
			lo = r->lo < lo ? r->lo : lo;
			hi = r->hi > hi ? r->hi : hi;
		} else if (r->lo < r->hi) {
			/* Forked: copy at least what we aliased before. */
			lo = r->lo < lo ? r->lo : lo;
			hi = r->hi > hi ? r->hi : hi;
		}
		err = alias_make(m, r, lo, hi);
		if (err)
			return err;
	}
	if (!r->rw) {
		void *p = mmap(NULL, r->hi - r->lo, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);

		if (p == MAP_FAILED)
			return -errno;
		r->rw = p;
	}
	return 0;
}

static void publish(struct sc_module *m, struct sc_region *r, uintptr_t addr, size_t len)
{
#if defined(__aarch64__)
	uintptr_t ps = sc_page_size(), page = addr & ~(ps - 1);

	/* Clean the data cache and invalidate the instruction cache to the point of
	 * unification for the rewritten bytes (by the exec address: caches are PIPT
	 * for data, and the I-cache is indexed by the address code is fetched from). */
	__builtin___clear_cache((char *)addr, (char *)addr + len);
	/*
	 * Map the exec view of the page again over itself: same file, same bytes, so
	 * harmless on hardware (the kernel merges it back into one mapping), and it is
	 * what makes an emulator that caches translated code by virtual address
	 * (qemu-user, which runs our aarch64 tests) drop the stale translation — it
	 * never sees a write made through the alias.
	 */
	map_exec(m, page, ps, r->fd, (off_t)(page - r->lo));
#else
	/* x86: instruction fetch snoops stores; sc_sync_core() does the rest. */
	(void)m;
	(void)r;
	(void)addr;
	(void)len;
#endif
}

static int store(struct sc_region *r, uintptr_t addr, uint64_t value, size_t len)
{
	char *rw = r->rw + (addr - r->lo);

	switch (len) {
	case 8:
		__atomic_store_n((uint64_t *)rw, value, __ATOMIC_RELEASE);
		return *(volatile const uint64_t *)addr == value;
	case 4:
		__atomic_store_n((uint32_t *)rw, (uint32_t)value, __ATOMIC_RELEASE);
		return *(volatile const uint32_t *)addr == (uint32_t)value;
	default:
		__atomic_store_n((uint8_t *)rw, (uint8_t)value, __ATOMIC_RELEASE);
		return *(volatile const uint8_t *)addr == (uint8_t)value;
	}
}

int sc_text_write(struct sc_module *m, uintptr_t addr, uint64_t value, size_t len)
{
	struct sc_region *r = region_of(m, addr);

	if (!r || !r->rw || addr < r->lo || addr + len > r->hi)
		return -EFAULT; /* not prepared: a bug */
	if (!store(r, addr, value, len)) {
		/*
		 * The code at @addr does not show what we wrote: what is mapped there is
		 * no longer our alias (someone remapped it). Alias it afresh, from what is
		 * there now, and write again.
		 */
		uintptr_t lo = r->lo, hi = r->hi;
		int err;

		munmap(r->rw, r->hi - r->lo);
		r->rw = NULL;
		close(r->fd);
		r->fd = -1;
		r->lo = r->hi = 0;
		err = alias_make(m, r, lo, hi);
		if (!err)
			err = sc_text_prepare(m, addr, len);
		if (err)
			return err;
		if (!store(r, addr, value, len))
			return -ESTALE;
	}
	publish(m, r, addr, len);
	return 0;
}

void sc_text_forked(void)
{
	for (size_t i = 0; i < sc_nr_modules; i++)
		for (unsigned int s = 0; s < sc_modules[i]->nr_segs; s++)
			sc_modules[i]->seg[s].owner = 0;
}

void sc_text_release(struct sc_module *m)
{
	for (unsigned int s = 0; s < m->nr_segs; s++) {
		struct sc_region *r = &m->seg[s];

		if (r->rw)
			munmap(r->rw, r->hi - r->lo);
		if (r->fd >= 0)
			close(r->fd);
		r->rw = NULL;
		r->fd = -1;
		r->lo = r->hi = 0;
	}
}
