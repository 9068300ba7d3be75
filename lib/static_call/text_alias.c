/*
 * Writable aliases of code pages: how we patch code without ever having a mapping
 * that is writable and executable at once.
 *
 * The first time a trampoline on some page is patched, we copy that page into a
 * memfd, map the memfd read+write somewhere, and map it again read+exec over the
 * original page (MAP_FIXED). The bytes are identical at that moment, so a thread
 * running code on that page cannot tell: the replacement happens under the kernel's
 * mmap lock and a thread that faults meanwhile finds the new mapping. From then on,
 * writes go through the read+write view and show up in the read+exec one.
 * Callers hold the update lock; the table of aliased pages only grows.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

struct sc_alias {
	uintptr_t rx;  /* page address, read+exec */
	char *rw;      /* the same page, read+write */
	int fd;        /* the memfd behind both */
};

static struct sc_alias *sc_aliases;
static size_t sc_nr_aliases, sc_alloc_aliases;

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static struct sc_alias *alias_find(uintptr_t page)
{
	for (size_t i = 0; i < sc_nr_aliases; i++)
		if (sc_aliases[i].rx == page)
			return &sc_aliases[i];
	return NULL;
}

static struct sc_alias *alias_create(uintptr_t page)
{
	size_t ps = page_size();
	struct sc_alias a = {.rx = page, .fd = -1};
	void *p;
	int err;

	if (sc_nr_aliases == sc_alloc_aliases) {
		size_t n = sc_alloc_aliases ? 2 * sc_alloc_aliases : 8;
		struct sc_alias *t = realloc(sc_aliases, n * sizeof(*t));

		if (!t)
			return NULL;
		sc_aliases = t;
		sc_alloc_aliases = n;
	}

	a.fd = memfd_create("emkit-static-call", MFD_CLOEXEC);
	if (a.fd < 0)
		return NULL;
	if (ftruncate(a.fd, (off_t)ps) < 0 || pwrite(a.fd, (void *)page, ps, 0) != (ssize_t)ps)
		goto fail;
	a.rw = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	if (a.rw == MAP_FAILED)
		goto fail;
	p = mmap((void *)page, ps, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, a.fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		munmap(a.rw, ps);
		errno = err;
		goto fail;
	}
	sc_aliases[sc_nr_aliases] = a;
	return &sc_aliases[sc_nr_aliases++];
fail:
	err = errno;
	close(a.fd);
	errno = err;
	return NULL;
}

void *sc_text_alias(void *rx)
{
	uintptr_t page = (uintptr_t)rx & ~(uintptr_t)(page_size() - 1);
	struct sc_alias *a = alias_find(page);

	if (!a)
		a = alias_create(page);
	if (!a)
		return NULL;
	return a->rw + ((uintptr_t)rx - page);
}

void sc_text_publish(void *rx, size_t len)
{
#if defined(__aarch64__)
	uintptr_t page = (uintptr_t)rx & ~(uintptr_t)(page_size() - 1);
	struct sc_alias *a = alias_find(page);

	/* Clean the data cache and invalidate the instruction cache to the point of
	 * unification for the rewritten words (by the exec address: caches are PIPT
	 * for data, and the I-cache is indexed by the address code is fetched from). */
	__builtin___clear_cache((char *)rx, (char *)rx + len);
	/*
	 * Map the exec view again over itself: same file, same bytes, so harmless on
	 * hardware, and it is what makes an emulator that caches translated code by
	 * virtual address (qemu-user, which runs our aarch64 tests) drop the stale
	 * translation — it never sees a write made through the alias.
	 */
	if (a)
		mmap((void *)page, page_size(), PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED,
		     a->fd, 0);
#else
	/* x86: instruction fetch snoops stores; sc_sync_core() does the rest. */
	(void)rx;
	(void)len;
#endif
}
