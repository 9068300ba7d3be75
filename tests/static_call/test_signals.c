/*
 * static_call_update() from signal handlers: it is async-signal-safe. A handler that
 * interrupts nothing of ours updates; one that interrupts an update on its own thread
 * gets -EDEADLK at once; one that runs while another thread updates waits for it; one
 * that interrupts malloc() or dlopen()/dlclose() (whose locks a non-async-signal-safe
 * update would need) completes. A deadlock fails the test by its timeout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"
#include "lib.h"

static int sig_t1(int x)
{
	return x + 1;
}

static int sig_t2(int x)
{
	return x + 2;
}

DEFINE_STATIC_CALL(sc_sig, sig_t1);     /* updated by handlers */
DEFINE_STATIC_CALL(sc_sig_main, sig_t1); /* updated by the interrupted code */

static volatile sig_atomic_t handled, handler_ok, handler_deadlk, handler_other, handler_flip;

static void update_handler(int sig)
{
	int err;

	(void)sig;
	handler_flip = !handler_flip;
	err = static_call_update(sc_sig, handler_flip ? sig_t2 : sig_t1);
	if (err == 0)
		handler_ok++;
	else if (err == -EDEADLK)
		handler_deadlk++;
	else
		handler_other++;
	handled++;
}

static void install(int signo)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = update_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	assert_int_equal(sigaction(signo, &sa, NULL), 0);
	handled = handler_ok = handler_deadlk = handler_other = 0;
	handler_flip = 0;
	assert_int_equal(static_call_update(sc_sig, sig_t1), 0);
}

void test_update_in_handler(void **state)
{
	(void)state;
	install(SIGUSR1);
	raise(SIGUSR1);
	assert_int_equal(handled, 1);
	assert_int_equal(handler_ok, 1);
	assert_int_equal(static_call(sc_sig)(0), 2);
	raise(SIGUSR1);
	assert_int_equal(handler_ok, 2);
	assert_int_equal(static_call(sc_sig)(0), 1);
}

struct pester {
	pthread_t thread;
	pthread_t target;
	int signo;
	int stop;
};

/* One signal at a time: the next goes once the last was handled and a few
 * microseconds have passed, so that the target thread keeps running between
 * handlers (each handler is an update of its own). */
static void *pester_thread(void *arg)
{
	struct pester *p = (struct pester *)arg;
	const struct timespec pause = {0, 20000};

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		sig_atomic_t before = handled;

		pthread_kill(p->target, p->signo);
		while (handled == before && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			sched_yield();
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void pester_start(struct pester *p, pthread_t target, int signo)
{
	memset(p, 0, sizeof(*p));
	p->target = target;
	p->signo = signo;
	assert_int_equal(pthread_create(&p->thread, NULL, pester_thread, p), 0);
}

static void pester_stop(struct pester *p)
{
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(p->thread, NULL), 0);
}

/* Signals land while this thread updates (a key of libsc_lib's, with a trampoline to
 * patch even in the generic build): the handler's updates return 0 or -EDEADLK, never
 * anything else, and never wait. At least 2,000 updates, and on until 5 handlers have
 * met an update in progress. (Signals sent without pause crowded the loop out under
 * qemu-user, where every update is slow: 200 updates took 390,000 handlers and five
 * minutes.) */
void test_handler_interrupts_update(void **state)
{
	struct pester p;
	long i;

	(void)state;
	install(SIGUSR1);
	pester_start(&p, pthread_self(), SIGUSR1);
	for (i = 0; i < 400000 && (handler_deadlk < 5 || i < 2000); i++) {
		assert_int_equal(static_call_update(lib_sig, (i & 1) ? lib_twice : lib_thrice), 0);
		assert_int_equal(static_call(lib_sig)(1), (i & 1) ? 2 : 3);
	}
	pester_stop(&p);
	print_message("# %ld updates; handlers: %d updated, %d got -EDEADLK, %d other\n", i,
		      (int)handler_ok, (int)handler_deadlk, (int)handler_other);
	assert_int_equal(handler_other, 0);
	assert_true(handler_deadlk > 0);
	assert_int_equal(handled, handler_ok + handler_deadlk);
	assert_true(static_call(sc_sig)(0) == 1 || static_call(sc_sig)(0) == 2);
}

static int busy_stop;

static void *busy_updater(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; !__atomic_load_n(&busy_stop, __ATOMIC_ACQUIRE); i++)
		if (static_call_update(sc_sig_main, (i & 1) ? sig_t1 : sig_t2))
			return (void *)1;
	return NULL;
}

/* Another thread holds the lock: the handler waits for it and updates. */
void test_handler_waits_for_other_thread(void **state)
{
	pthread_t t;
	void *ret;

	(void)state;
	install(SIGUSR1);
	busy_stop = 0;
	assert_int_equal(pthread_create(&t, NULL, busy_updater, NULL), 0);
	for (int i = 0; i < 2000; i++)
		raise(SIGUSR1);
	__atomic_store_n(&busy_stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_int_equal(handled, 2000);
	assert_int_equal(handler_ok, 2000);
	assert_int_equal(static_call(sc_sig)(0), 1); /* an even number of flips */
}

static void *allocator(void *arg)
{
	struct pester *p = (struct pester *)arg;
	const char *plugin = getenv("SC_PLUGIN_RELOCS");

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 64; i++) {
			void *m = malloc((size_t)(i * 97 + 1));

			free(m);
		}
		if (plugin) {
			void *h = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);

			if (h)
				dlclose(h);
		}
	}
	return NULL;
}

/* The handler interrupts malloc, dlopen, dlclose (and the plugin registering): its
 * update needs none of their locks. */
void test_handler_interrupts_malloc_dlopen(void **state)
{
	struct pester p;
	pthread_t victim;

	(void)state;
	install(SIGUSR2);
	memset(&p, 0, sizeof(p));
	assert_int_equal(pthread_create(&victim, NULL, allocator, &p), 0);
	for (int i = 0; i < 3000; i++) {
		pthread_kill(victim, SIGUSR2);
		if (i % 8 == 0)
			sched_yield();
	}
	while (handled < 20) {
		pthread_kill(victim, SIGUSR2);
		sched_yield();
	}
	__atomic_store_n(&p.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(victim, NULL), 0);
	print_message("# handlers: %d updated, %d got -EDEADLK\n", (int)handler_ok,
		      (int)handler_deadlk);
	assert_int_equal(handler_other, 0);
	assert_true(handler_ok > 0);
}
