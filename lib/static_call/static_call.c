/*
 * The static-call runtime: what static_call_update() does after the header's macros
 * have checked the target's type.
 *
 * An update takes one process-wide lock (updates are rare and must not interleave
 * their writes), checks that the key was defined by a DEFINE_STATIC_CALL* macro and
 * that NULL is allowed, patches the trampoline if the key has one, and only then
 * publishes the new target in the key, so that a failed patch leaves everything
 * as it was. Generic callers read key->call; trampoline callers never read the key.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t sc_lock = PTHREAD_MUTEX_INITIALIZER;

long static_call_return0_untyped(void)
{
	return 0;
}

static int membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

/*
 * 1: membarrier SYNC_CORE is registered; -1: not available, use the fallback.
 * Only read and written under sc_lock.
 */
static int sc_membarrier_state;

/*
 * Fallback when the kernel lacks membarrier SYNC_CORE: changing the protection of a
 * page this process has touched makes the kernel shoot down the TLB entries of every
 * CPU running one of our threads, with an interrupt, and returning from an interrupt
 * is serializing. Slower, and the guarantee is the kernel's implementation, not its ABI.
 */
static void sc_sync_core_fallback(void)
{
	static char *page;
	long sz = sysconf(_SC_PAGESIZE);

	if (!page) {
		page = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
		if (page == MAP_FAILED) {
			page = NULL;
			return;
		}
	}
	mprotect(page, (size_t)sz, PROT_READ | PROT_WRITE);
	*(volatile char *)page = 1;
	mprotect(page, (size_t)sz, PROT_READ);
}

void sc_sync_core(void)
{
	if (sc_membarrier_state == 0) {
		int cmds = membarrier(MEMBARRIER_CMD_QUERY);

		if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) &&
		    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE) == 0)
			sc_membarrier_state = 1;
		else
			sc_membarrier_state = -1;
	}
	if (sc_membarrier_state > 0 && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) == 0)
		return;
	sc_sync_core_fallback();
}

int static_call_update_key(struct static_call_key *key, void *func)
{
	int err = 0;

	if (!key || key->magic != STATIC_CALL_KEY_MAGIC)
		return -EINVAL; /* never defined: nothing to patch, nothing trustworthy */
	if (!func && !(key->flags & STATIC_CALL_F_NULLABLE))
		return -EINVAL;

	pthread_mutex_lock(&sc_lock);
	if (key->tramp) {
#if STATIC_CALL_ASM_STUBS
		/*
		 * Everything that can fail comes first (finding the call sites, making
		 * their pages and the trampoline's writable), so that a failure leaves
		 * all as it was. Then the trampoline, then the sites: a caller that
		 * still reaches the trampoline meanwhile gets the new target too.
		 */
		err = sc_sites_scan();
		if (!err)
			err = sc_sites_prepare(key);
		if (!err)
			err = sc_arch_patch(key, func);
		if (!err) {
			sc_sites_retarget(key, func);
			sc_sync_core();
		}
#else
		err = -ENOSYS; /* a trampoline key on an architecture we cannot patch */
#endif
	}
	if (!err) {
		__atomic_store_n(&key->call, func ? func : key->ret0, __ATOMIC_RELEASE);
		__atomic_store_n(&key->func, func, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sc_lock);
	return err;
}
