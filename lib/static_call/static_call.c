/*
 * The static-call runtime: what static_call_update() does after the header's macros
 * have checked the target's type.
 *
 * An update takes one process-wide lock (updates are rare and must not interleave
 * their writes), checks that the key was defined by a DEFINE_STATIC_CALL* macro,
 * does everything that can fail (finding call sites, making code writable), then
 * patches the trampoline, then the call sites, serializes every thread, and only
 * then publishes the new target in the key, so that a failed update leaves all as
 * it was. Generic callers read key->call; trampoline callers never read the key.
 *
 * The lock records its owner thread, so that a signal handler that interrupts an
 * update on the same thread gets -EDEADLK instead of waiting for itself; nothing
 * under it takes another lock or allocates from libc, which makes the whole update
 * async-signal-safe.
 */
#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* ---- the lock ------------------------------------------------------------------ */

/*
 * The owner is the holding thread's thread pointer (unique among live threads, read
 * with one instruction, and still right in a fork child); 0 when free. Waiters sleep
 * on a sequence number that every release of a waited-for lock advances.
 */
static uintptr_t sc_lock_owner;
static int sc_lock_seq, sc_lock_waiters;

static uintptr_t sc_self(void)
{
	uintptr_t tp;

#if defined(__x86_64__)
	__asm__("mov %%fs:0, %0" : "=r"(tp));
#elif defined(__aarch64__)
	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
#else
	tp = (uintptr_t)pthread_self();
#endif
	return tp;
}

static void futex(int *word, int op, int val)
{
	syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

int sc_lock(void)
{
	uintptr_t self = sc_self();

	for (;;) {
		uintptr_t free = 0;
		int seq;

		if (__atomic_compare_exchange_n(&sc_lock_owner, &free, self, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 0;
		if (free == self)
			return -EDEADLK; /* a handler interrupted our own update */
		__atomic_fetch_add(&sc_lock_waiters, 1, __ATOMIC_SEQ_CST);
		seq = __atomic_load_n(&sc_lock_seq, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&sc_lock_owner, __ATOMIC_SEQ_CST))
			futex(&sc_lock_seq, FUTEX_WAIT, seq); /* returns at once if seq moved */
		__atomic_fetch_sub(&sc_lock_waiters, 1, __ATOMIC_SEQ_CST);
	}
}

void sc_unlock(void)
{
	__atomic_store_n(&sc_lock_owner, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sc_lock_waiters, __ATOMIC_SEQ_CST)) {
		__atomic_fetch_add(&sc_lock_seq, 1, __ATOMIC_SEQ_CST);
		futex(&sc_lock_seq, FUTEX_WAKE, 1);
	}
}

/* ---- serializing every thread --------------------------------------------------- */

static int membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

/*
 * 1: membarrier SYNC_CORE is registered; -1: not available, use the fallback; 0: not
 * asked yet (and again after fork, the registration being the process's).
 * Only read and written under the lock.
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
	size_t sz = sc_page_size();

	if (!page) {
		page = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED) {
			page = NULL;
			return;
		}
	}
	mprotect(page, sz, PROT_READ | PROT_WRITE);
	*(volatile char *)page = 1;
	mprotect(page, sz, PROT_READ);
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

/* ---- fork ---------------------------------------------------------------------- */

static int sc_fork_locked;

/* No update may be half done when the address space is copied. */
static void sc_atfork_prepare(void)
{
	sc_fork_locked = sc_lock() == 0; /* -EDEADLK: fork() from a handler inside an update */
}

/* Both processes now map the same memfds: each copies its own before writing. */
static void sc_atfork_parent(void)
{
	sc_text_forked();
	if (sc_fork_locked)
		sc_unlock();
}

static void sc_atfork_child(void)
{
	sc_text_forked();
	sc_membarrier_state = 0;
	/* The owner is this thread (prepare took it), or one that is not here. */
	__atomic_store_n(&sc_lock_owner, 0, __ATOMIC_RELEASE);
	sc_lock_waiters = 0;
}

/* Called by the first registration (a constructor), never from a signal handler. */
SC_HIDDEN void sc_init_once(void);
void sc_init_once(void)
{
	static int done;

	if (!__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		pthread_atfork(sc_atfork_prepare, sc_atfork_parent, sc_atfork_child);
}

/* ---- the API --------------------------------------------------------------------- */

long static_call_return0_untyped(void)
{
	return 0;
}

long __static_call_return0(const struct static_call_return0_tag *unused)
{
	(void)unused;
	return 0;
}

const char *static_call_version(void)
{
	return EMKIT_STATIC_CALL_VERSION;
}

#if STATIC_CALL_ASM_STUBS
/* Patch @key's trampoline and call sites to reach @dest. Under the lock. */
static int sc_patch(struct static_call_key *key, uintptr_t dest)
{
	uintptr_t tramp = (uintptr_t)key->tramp;
	struct sc_module *m = sc_module_of(tramp);
	int err;

	if (!m) {
		/* The defining module's constructor has not run yet (we are called from
		 * an earlier one): register it by address, without the lock. */
		sc_unlock();
		err = sc_module_register_addr(tramp);
		(void)sc_lock(); /* cannot fail: this thread does not hold it */
		if (err)
			return err;
		m = sc_module_of(tramp);
		if (!m)
			return -ENOENT;
	}
	/*
	 * Everything that can fail comes first (finding the call sites, making their
	 * pages and the trampoline's writable), so that a failure leaves all as it was.
	 * Then the trampoline, then the sites: a caller that still reaches the
	 * trampoline meanwhile gets the new target too.
	 */
	err = sc_sites_scan();
	if (!err)
		err = sc_text_prepare(m, tramp, sc_arch_tramp_len(key));
	if (!err)
		err = sc_sites_prepare(key);
	if (!err)
		err = sc_arch_patch(m, key, dest);
	if (!err) {
		err = sc_sites_retarget(key, dest);
		sc_sync_core();
	}
	return err;
}
#endif

int static_call_update_key(struct static_call_key *key, void *func)
{
	void *dest;
	int err;

	if (!key || key->magic != STATIC_CALL_KEY_MAGIC || !key->ret0)
		return -EINVAL; /* never defined: nothing to patch, nothing trustworthy */
	if (func == (void *)__static_call_return0)
		func = key->ret0; /* the kernel's name for "return 0": this call's typed stub */
	dest = func ? func : key->ret0; /* NULL: calls run the stub and return 0 */

	err = sc_lock();
	if (err)
		return err;
	if (key->tramp) {
#if STATIC_CALL_ASM_STUBS
		err = sc_patch(key, (uintptr_t)dest);
#else
		err = -ENOSYS; /* a trampoline key on an architecture we cannot patch */
#endif
	}
	if (!err) {
		__atomic_store_n(&key->call, dest, __ATOMIC_RELEASE);
		__atomic_store_n(&key->func, func, __ATOMIC_RELEASE);
	}
	sc_unlock();
	return err;
}
