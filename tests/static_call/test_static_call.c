/*
 * The static-call test suite: semantics, the kernel's names, CFI and BTI, live
 * patching under load, inline call sites and tail calls; modules, fork and signals
 * are in test_modules.c, test_fork.c and test_signals.c (see suite.h for how the
 * suite is built: per backend, as C and C++, and as a BTI-enforced shared object).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"
#include "proc_count.h"
#include "far.h"
#include "lib.h"

/* ---- helpers (suite.h) --------------------------------------------------------- */

int run_in_child(void (*fn)(void))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka catches these to report a crash; here the crash is the result. */
		signal(SIGILL, SIG_DFL);
		signal(SIGTRAP, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return WTERMSIG(st);
	assert_int_equal(WEXITSTATUS(st), 0);
	return 0;
}

int count_fds(void)
{
	int n = proc_count_fds();

	assert_true(n >= 0); /* /proc/self/fd could be read */
	return n;
}

int count_maps(const char *path)
{
	int n = proc_count_maps(path);

	assert_true(n >= 0); /* /proc/self/maps could be read */
	return n;
}

uintptr_t branch_target(const void *insn)
{
#if defined(__x86_64__)
	const unsigned char *p = (const unsigned char *)insn;
	int32_t rel;

	if (p[0] != 0xe8 && p[0] != 0xe9)
		return 0;
	memcpy(&rel, p + 1, sizeof(rel));
	return (uintptr_t)p + 5 + (intptr_t)rel;
#elif defined(__aarch64__)
	uint32_t w;
	int32_t imm;

	memcpy(&w, insn, sizeof(w));
	if ((w & 0x7c000000u) != 0x14000000u)
		return 0;
	imm = (int32_t)((w & 0x03ffffffu) << 6) >> 6;
	return (uintptr_t)insn + (uintptr_t)((intptr_t)imm * 4);
#else
	(void)insn;
	return 0;
#endif
}

/* ---- targets ---------------------------------------------------------------- */

static int add_one(int x)
{
	return x + 1;
}

static int add_two(int x)
{
	return x + 2;
}

static int times_ten(int x)
{
	return x * 10;
}

static int hooks_seen;
static long hook_sum;

static void hook_record(int a, long b)
{
	hooks_seen++;
	hook_sum += a + b;
}

/* perf's guest-state callback has this shape: unsigned int (void), not long (void). */
static unsigned int probe_state(void)
{
	return 42;
}

static const char *name_of(int x)
{
	return x ? "one" : "zero";
}

DEFINE_STATIC_CALL(sc_math, add_one);
DEFINE_STATIC_CALL(sc_refused, add_one);
DEFINE_STATIC_CALL_NULL(sc_hook, hook_record);
DEFINE_STATIC_CALL_RET0(sc_probe, probe_state);
DEFINE_STATIC_CALL(sc_far, add_one);
DEFINE_STATIC_CALL(sc_null, add_one);
DEFINE_STATIC_CALL(sc_ptr, name_of);
DEFINE_STATIC_CALL(sc_tail, add_one);
EXPORT_STATIC_CALL(sc_math);
EXPORT_STATIC_CALL_TRAMP_GPL(sc_probe);

/* A typed return-0 function of this module for a static call defined in libsc_lib. */
DEFINE_STATIC_CALL_STUB_RET0(lib_local, lib_twice);

/* ---- basic semantics ---------------------------------------------------------- */

static void test_backend_name(void **state)
{
	(void)state;
#ifdef EMKIT_STATIC_CALL_GENERIC
	assert_string_equal(static_call_backend_name(), "generic");
#elif defined(__x86_64__)
	assert_string_equal(static_call_backend_name(), "x86-64 trampolines");
#elif defined(__aarch64__)
	assert_string_equal(static_call_backend_name(), "aarch64 trampolines");
#endif
	assert_string_equal(static_call_version(), EMKIT_STATIC_CALL_VERSION);
	print_message("# backend: %s, %s, library %s\n", static_call_backend_name(),
#ifdef __cplusplus
		      "C++",
#else
		      "C",
#endif
		      static_call_version());
}

static void test_initial_targets(void **state)
{
	(void)state;
	assert_int_equal(static_call(sc_math)(1), 2);
	assert_ptr_equal(static_call_query(sc_math), add_one);

	hooks_seen = 0;
	static_call_cond(sc_hook)(1, 2);
	assert_int_equal(hooks_seen, 0);
	assert_null(static_call_query(sc_hook));

	assert_int_equal(static_call(sc_probe)(), 0);
	assert_ptr_equal(static_call_query(sc_probe), STATIC_CALL_STUB_RET0(sc_probe));
	assert_string_equal(static_call(sc_ptr)(1), "one");
}

static void test_update_retargets(void **state)
{
	(void)state;
	assert_int_equal(static_call_update(sc_math, add_two), 0);
	assert_int_equal(static_call(sc_math)(1), 3);
	assert_ptr_equal(static_call_query(sc_math), add_two);

	assert_int_equal(static_call_update(sc_math, times_ten), 0);
	assert_int_equal(static_call(sc_math)(7), 70);

	assert_int_equal(static_call_update(sc_math, STATIC_CALL_STUB_RET0(sc_math)), 0);
	assert_int_equal(static_call(sc_math)(7), 0);
	assert_ptr_equal(static_call_query(sc_math), STATIC_CALL_STUB_RET0(sc_math));

	assert_int_equal(static_call_update(sc_math, add_one), 0);
	assert_int_equal(static_call(sc_math)(41), 42);
}

static void test_ret0_to_real_and_back(void **state)
{
	(void)state;
	assert_int_equal(static_call_update(sc_probe, probe_state), 0);
	assert_int_equal(static_call(sc_probe)(), 42);
	assert_int_equal(static_call_update(sc_probe, STATIC_CALL_STUB_RET0(sc_probe)), 0);
	assert_int_equal(static_call(sc_probe)(), 0);
}

static void test_null_call(void **state)
{
	(void)state;
	hooks_seen = 0;
	hook_sum = 0;
	assert_int_equal(static_call_update(sc_hook, hook_record), 0);
	static_call_cond(sc_hook)(3, 4);
	static_call(sc_hook)(1, 1);
	assert_int_equal(hooks_seen, 2);
	assert_int_equal(hook_sum, 9);

	assert_int_equal(static_call_update(sc_hook, NULL), 0);
	assert_null(static_call_query(sc_hook));
	static_call_cond(sc_hook)(5, 6);
	static_call(sc_hook)(5, 6);
	assert_int_equal(hooks_seen, 2);
}

/*
 * The kernel accepts NULL for every static call (kernel/static_call_inline.c,
 * __static_call_update(): func is not checked), and a NULL call does nothing
 * (include/linux/static_call.h, "Notes on NULL function pointers": the trampoline
 * becomes a RET). Here it runs the call's typed stub, so it also returns 0.
 */
static void test_null_any_key(void **state)
{
	(void)state;
	assert_int_equal(static_call_update(sc_null, add_two), 0);
	assert_int_equal(static_call(sc_null)(1), 3);
	assert_int_equal(static_call_update(sc_null, NULL), 0);
	assert_null(static_call_query(sc_null));
	assert_int_equal(static_call(sc_null)(1), 0);
	static_call_cond(sc_null)(1);
	assert_int_equal(static_call_update(sc_ptr, NULL), 0);
	assert_null(static_call(sc_ptr)(1));
	assert_int_equal(static_call_update(sc_ptr, name_of), 0);
	assert_int_equal(static_call_update(sc_null, add_one), 0);
	assert_int_equal(static_call(sc_null)(1), 2);
}

/*
 * __static_call_return0, static_call_mod, the typed stubs of other modules. The
 * kernel treats a __static_call_return0 target specially (arch/x86/kernel/
 * static_call.c, __static_call_transform(): the call becomes `xor %eax, %eax`); here
 * it stands for the call's own typed stub, which kCFI accepts.
 */
static void test_kernel_names(void **state)
{
	(void)state;
	assert_int_equal(static_call_update(sc_math, __static_call_return0), 0);
	assert_ptr_equal(static_call_query(sc_math), STATIC_CALL_STUB_RET0(sc_math));
	assert_int_equal(static_call_mod(sc_math)(5), 0);
	assert_int_equal(static_call_update(sc_math, add_one), 0);
	assert_int_equal(static_call_mod(sc_math)(5), 6);
	assert_int_equal(__static_call_return0(NULL), 0);

	/* The raw API takes __static_call_return0 too, and installs the typed stub. */
	assert_int_equal(static_call_update_key(&STATIC_CALL_KEY(sc_probe),
						(void *)__static_call_return0), 0);
	assert_ptr_equal(static_call_query(sc_probe), STATIC_CALL_STUB_RET0(sc_probe));

	/* A stub of this module's own for libsc_lib's lib_local (hidden, not lib's). */
	assert_int_equal(static_call_update(lib_local, STATIC_CALL_STUB_RET0(lib_local)), 0);
	assert_int_equal(static_call(lib_local)(4), 0);
	assert_ptr_not_equal(static_call_query(lib_local), STATIC_CALL_KEY(lib_local).ret0);
	assert_int_equal(static_call_update(lib_local, lib_twice), 0);
	assert_int_equal(static_call(lib_local)(4), 8);
}

static void test_uninitialised_key(void **state)
{
	struct static_call_key zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(static_call_update_key(&zero, (void *)add_one), -EINVAL);
	assert_null(zero.func);
	assert_null(zero.call);
	assert_int_equal(static_call_update_key(NULL, (void *)add_one), -EINVAL);
}

static void test_far_target(void **state)
{
	(void)state;
	assert_int_equal(static_call_update(sc_far, far_triple), 0);
	assert_int_equal(static_call(sc_far)(5), 15);
	assert_int_equal(static_call_update(sc_far, add_two), 0); /* near again */
	assert_int_equal(static_call(sc_far)(5), 7);
	assert_int_equal(static_call_update(sc_far, far_negate), 0);
	assert_int_equal(static_call(sc_far)(5), -5);
#if STATIC_CALL_HAVE_TRAMP && defined(__x86_64__)
	{
		const uint8_t *t = (const uint8_t *)STATIC_CALL_KEY(sc_far).tramp +
				   STATIC_CALL_KEY(sc_far).tramp_off;
		long d = (long)((intptr_t)far_negate - (intptr_t)(t + 5));

		/* Beyond rel32: the trampoline must have taken its slot path. */
		if (d > INT32_MAX || d < INT32_MIN)
			assert_int_equal(t[0], 0xeb);
		else
			assert_int_equal(t[0], 0xe9);
	}
#endif
}

/* ---- W^X --------------------------------------------------------------------- */

static void test_never_writable_and_executable(void **state)
{
	char line[512];
	FILE *f;
	int tramp_exec_seen = 0;
	uintptr_t tramp = 0;

	(void)state;
#if STATIC_CALL_HAVE_TRAMP
	tramp = (uintptr_t)STATIC_CALL_KEY(sc_math).tramp;
#endif
	assert_int_equal(static_call_update(sc_math, times_ten), 0);
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3)
			continue;
		if (perms[1] == 'w' && perms[2] == 'x')
			fail_msg("mapping both writable and executable: %s", line);
		if (tramp >= lo && tramp < hi) {
			assert_int_equal(perms[0], 'r');
			assert_int_equal(perms[1], '-');
			assert_int_equal(perms[2], 'x');
			tramp_exec_seen = 1;
		}
	}
	fclose(f);
	if (tramp)
		assert_true(tramp_exec_seen);
	assert_int_equal(static_call_update(sc_math, add_one), 0);
}

/* ---- patching refused --------------------------------------------------------- */

#if STATIC_CALL_HAVE_TRAMP
/*
 * Runs first, in a child, before any code page of this program was aliased. With no
 * file descriptor left (RLIMIT_NOFILE 0) the code cannot be aliased: the update must
 * fail with -EMFILE and the old target stay in force; once the limit is back, the
 * same update succeeds. Exit code 0 means all of that held.
 */
static int refused_child(void)
{
	struct rlimit old, none;
	int rc;

	if (getrlimit(RLIMIT_NOFILE, &old))
		return 9;
	none.rlim_cur = 0;
	none.rlim_max = old.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &none))
		return 9;
	rc = static_call_update(sc_refused, add_two);
	if (rc != -EMFILE)
		return 10;
	if (static_call_query(sc_refused) != add_one || static_call(sc_refused)(1) != 2)
		return 11;
	if (setrlimit(RLIMIT_NOFILE, &old))
		return 9;
	if (static_call_update(sc_refused, add_two) || static_call(sc_refused)(1) != 3)
		return 12;
	return 0;
}

static void test_patch_refused(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(refused_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* In this process nothing was refused. */
	assert_int_equal(static_call_update(sc_refused, add_two), 0);
	assert_int_equal(static_call(sc_refused)(1), 3);
}
#endif

/* ---- CFI and BTI --------------------------------------------------------------- */

#ifdef STATIC_CALL_KCFI
static void call_untyped_through_query(void)
{
	long (*volatile untyped)(void) = static_call_return0_untyped;
	unsigned int (*typed)(void);

	/* What the kernel did: the shared untyped stub as a typed call's target. */
	static_call_update_key(&STATIC_CALL_KEY(sc_probe), (void *)untyped);
	typed = static_call_query(sc_probe);
	if (typed() != 0)
		_exit(3);
	/* And through the call itself: an indirect call in the generic backend. */
	if (static_call(sc_probe)() != 0)
		_exit(4);
}
#endif

/* Indirect calls to the typed stub: kCFI checks the hash, BTI the landing pad. */
static void call_typed_through_query(void)
{
	unsigned int (*typed)(void);

	if (static_call_update(sc_probe, STATIC_CALL_STUB_RET0(sc_probe)))
		_exit(2);
	typed = static_call_query(sc_probe);
	if (typed() != 0 || static_call(sc_probe)() != 0)
		_exit(3);
	if (static_call_update(sc_probe, probe_state))
		_exit(2);
	typed = static_call_query(sc_probe);
	if (typed() != 42)
		_exit(3);
	if (static_call_update(sc_probe, NULL) || static_call(sc_probe)() != 0)
		_exit(5);
	/* libsc_lib's stub, named from this module. */
	if (static_call_update(lib_probe, STATIC_CALL_STUB_RET0(lib_probe)))
		_exit(6);
	if (((int (*)(int))static_call_query(lib_probe))(3) != 0)
		_exit(7);
}

#if STATIC_CALL_HAVE_TRAMP
static void call_trampoline_indirectly(void)
{
	int (*volatile t)(int) = &STATIC_CALL_TRAMP(sc_math);

	/* The trampoline carries its prototype's hash and landing pad. */
	if (static_call_update(sc_math, add_two) || t(1) != 3)
		_exit(3);
}
#endif

#ifdef STATIC_CALL_KCFI
static void test_kcfi_untyped_stub_traps(void **state)
{
	int sig;

	(void)state;
	sig = run_in_child(call_untyped_through_query);
	print_message("# untyped RET0 stub through a typed call: signal %d\n", sig);
	assert_true(sig == SIGILL || sig == SIGTRAP);
}
#endif

static void test_typed_stub_indirect_calls(void **state)
{
	(void)state;
	assert_int_equal(run_in_child(call_typed_through_query), 0);
#if STATIC_CALL_HAVE_TRAMP
	assert_int_equal(run_in_child(call_trampoline_indirectly), 0);
#endif
}

#if defined(__ARM_FEATURE_BTI_DEFAULT) && STATIC_CALL_HAVE_TRAMP
/* An indirect call to the instruction after a trampoline's `bti c`. */
static void call_past_landing_pad(void)
{
	uintptr_t t = (uintptr_t)STATIC_CALL_KEY(sc_math).tramp + 4;
	int (*volatile p)(int);

	memcpy((void *)&p, &t, sizeof(t));
	p(1);
}

/*
 * That BTI is enforced here (so the tests above mean something), and stays so on
 * the pages the library has re-mapped to patch them (PROT_BTI kept).
 */
static void test_bti_enforced(void **state)
{
	(void)state;
	assert_int_equal(STATIC_CALL_KEY(sc_math).tramp_off, 4);
	assert_int_equal(run_in_child(call_past_landing_pad), SIGILL);
	assert_int_equal(static_call_update(sc_math, add_two), 0);
	assert_int_equal(static_call(sc_math)(1), 3);
	assert_int_equal(run_in_child(call_past_landing_pad), SIGILL);
	assert_int_equal(static_call_update(sc_math, add_one), 0);
}
#endif

/* ---- live patching under load ------------------------------------------------ */

#define STRESS_UPDATES 100000
#define STRESS_CALLERS 3

static unsigned long target_hits[4];

static int stress_t1(int x)
{
	__atomic_fetch_add(&target_hits[1], 1, __ATOMIC_RELAXED);
	return x + 1;
}

static int stress_t2(int x)
{
	__atomic_fetch_add(&target_hits[2], 1, __ATOMIC_RELAXED);
	return x + 2;
}

static int stress_t3(int x)
{
	__atomic_fetch_add(&target_hits[3], 1, __ATOMIC_RELAXED);
	return x + 3;
}

DEFINE_STATIC_CALL(sc_stress, stress_t1);

#ifdef __cplusplus
extern "C" {
#endif
int stress_site_aligned(int x);
int stress_site_straddling(int x);
int stress_tail_aligned(int x);
int stress_tail_straddling(int x);
int tail_site_a(int x);
int tail_site_b(int x);
#ifdef __cplusplus
}
#endif

#if defined(__x86_64__) && STATIC_CALL_HAVE_TRAMP
/*
 * Call sites of sc_stress at chosen places: a call whose rel32 lies in one aligned
 * 8-byte word (patched with one store), one whose rel32 straddles two words (the int3
 * protocol), and the same two as tail calls (`jmp`). Each takes int x and returns
 * what the static call returns. And two tail-call sites of sc_tail.
 */
__asm__(".pushsection .text\n"
	".balign 16\n"
	".globl stress_site_aligned\n"
	".type stress_site_aligned, @function\n"
	"stress_site_aligned:\n"
	"sub $8, %rsp\n"             /* 4 bytes: [0,4) */
	".fill 4, 1, 0x90\n"         /* nops: the call at 8, its rel32 at [9,13) */
	"call static_call_tramp__sc_stress\n"
	"add $8, %rsp\n"
	"ret\n"
	".balign 16\n"
	".globl stress_site_straddling\n"
	".type stress_site_straddling, @function\n"
	"stress_site_straddling:\n"
	"sub $8, %rsp\n"             /* the call at 4, its rel32 at [5,9): two words */
	"call static_call_tramp__sc_stress\n"
	"add $8, %rsp\n"
	"ret\n"
	".balign 16\n"
	".globl stress_tail_aligned\n"
	".type stress_tail_aligned, @function\n"
	"stress_tail_aligned:\n"
	".fill 8, 1, 0x90\n"         /* the jmp at 8, its rel32 at [9,13) */
	"jmp static_call_tramp__sc_stress\n"
	".balign 16\n"
	".globl stress_tail_straddling\n"
	".type stress_tail_straddling, @function\n"
	"stress_tail_straddling:\n"
	".fill 4, 1, 0x90\n"         /* the jmp at 4, its rel32 at [5,9) */
	"jmp static_call_tramp__sc_stress\n"
	".balign 16\n"
	".globl tail_site_a\n"
	".type tail_site_a, @function\n"
	"tail_site_a:\n"
	"jmp static_call_tramp__sc_tail\n"
	".balign 16\n"
	".globl tail_site_b\n"
	".type tail_site_b, @function\n"
	"tail_site_b:\n"
	".fill 5, 1, 0x90\n"
	"jmp static_call_tramp__sc_tail\n"
	".popsection\n");
#define STRESS_SITES 5
#define TAIL_OFF_A 0
#define TAIL_OFF_B 5
#elif defined(__aarch64__) && STATIC_CALL_HAVE_TRAMP
__asm__(".pushsection .text\n"
	".balign 16\n"
	".globl stress_tail_aligned\n"
	".type stress_tail_aligned, %function\n"
	"stress_tail_aligned:\n"
	"hint 34\n"
	"b static_call_tramp__sc_stress\n"
	".globl tail_site_a\n"
	".type tail_site_a, %function\n"
	"tail_site_a:\n"
	"hint 34\n"
	"b static_call_tramp__sc_tail\n"
	".globl tail_site_b\n"
	".type tail_site_b, %function\n"
	"tail_site_b:\n"
	"hint 34\n"
	"b static_call_tramp__sc_tail\n"
	".popsection\n");
#define STRESS_SITES 2
#define TAIL_OFF_A 4
#define TAIL_OFF_B 4
#else
#define STRESS_SITES 1
#endif

static int stress_call(int site, int x)
{
#if STRESS_SITES == 5
	switch (site) {
	case 1: return stress_site_aligned(x);
	case 2: return stress_site_straddling(x);
	case 3: return stress_tail_aligned(x);
	case 4: return stress_tail_straddling(x);
	default: break;
	}
#elif STRESS_SITES == 2
	if (site == 1)
		return stress_tail_aligned(x);
#endif
	(void)site;
	return static_call(sc_stress)(x);
}

struct caller {
	pthread_t thread;
	unsigned long seen[4]; /* [0]: the RET0 stub */
	unsigned long bad;
};

static int stress_stop;
static unsigned long stress_calls; /* advanced by callers, awaited by the updater */

static void *stress_caller(void *arg)
{
	struct caller *c = (struct caller *)arg;

	for (unsigned long n = 0; !__atomic_load_n(&stress_stop, __ATOMIC_ACQUIRE); n++) {
		int r = stress_call((int)(n % STRESS_SITES), 0);

		if (r >= 0 && r <= 3)
			c->seen[r]++;
		else
			c->bad++;
		__atomic_fetch_add(&stress_calls, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_stress_live_updates(void **state)
{
	int (*const targets[])(int) = {STATIC_CALL_STUB_RET0(sc_stress), stress_t1, stress_t2,
				       stress_t3};
	struct caller callers[STRESS_CALLERS];
	unsigned long total_seen[4] = {0, 0, 0, 0}, calls = 0;
	int i, k;

	(void)state;
	memset(callers, 0, sizeof(callers));
	memset(target_hits, 0, sizeof(target_hits));
	for (i = 0; i < STRESS_CALLERS; i++)
		assert_int_equal(pthread_create(&callers[i].thread, NULL, stress_caller, &callers[i]),
				 0);
	for (i = 0; i < STRESS_UPDATES; i++) {
		unsigned long before = __atomic_load_n(&stress_calls, __ATOMIC_ACQUIRE);

		assert_int_equal(static_call_update(sc_stress, targets[(i + 1) % 4]), 0);
		/* Now and then (63 is prime to the 4 targets, so each gets its turn),
		 * let the callers catch up, so that calls interleave
		 * with updates on every backend, however fast its updates are. */
		while (i % 63 == 0 && __atomic_load_n(&stress_calls, __ATOMIC_ACQUIRE) == before)
			sched_yield();
	}
	__atomic_store_n(&stress_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < STRESS_CALLERS; i++) {
		assert_int_equal(pthread_join(callers[i].thread, NULL), 0);
		assert_int_equal(callers[i].bad, 0);
		for (k = 0; k < 4; k++) {
			total_seen[k] += callers[i].seen[k];
			calls += callers[i].seen[k];
		}
	}
	for (k = 1; k < 4; k++)
		assert_int_equal(total_seen[k], target_hits[k]);
	for (k = 0; k < 4; k++)
		assert_true(total_seen[k] > 0);
	assert_int_equal(calls, stress_calls);
	print_message("# %d updates, %lu calls: ret0 %lu, t1 %lu, t2 %lu, t3 %lu\n", STRESS_UPDATES,
		      calls, total_seen[0], total_seen[1], total_seen[2], total_seen[3]);
	/* The last update (index STRESS_UPDATES-1) set targets[STRESS_UPDATES % 4]. */
	assert_ptr_equal(static_call_query(sc_stress), targets[STRESS_UPDATES % 4]);
#ifdef TEST_CALL_SITES
	/* Every site was found, and calls the final target directly. */
	print_message("# sc_stress: %zu call sites, %zu direct\n", static_call_sites(sc_stress, 0),
		      static_call_sites(sc_stress, 1));
	assert_true(static_call_sites(sc_stress, 0) >= STRESS_SITES);
	assert_int_equal(static_call_sites(sc_stress, 1), static_call_sites(sc_stress, 0));
#endif
}

#ifdef TEST_CALL_SITES
/* Call sites follow updates: direct to the target, to the typed stub for NULL. */
static void test_call_sites(void **state)
{
	size_t all;

	(void)state;
	assert_int_equal(static_call_update(sc_math, add_two), 0);
	all = static_call_sites(sc_math, 0);
	print_message("# sc_math: %zu call sites\n", all);
	assert_true(all >= 5);
	assert_int_equal(static_call_sites(sc_math, 1), all);
	assert_int_equal(static_call(sc_math)(1), 3);

	assert_int_equal(static_call_update(sc_math, STATIC_CALL_STUB_RET0(sc_math)), 0);
	assert_int_equal(static_call_sites(sc_math, 1), all);
	assert_int_equal(static_call(sc_math)(1), 0);

	/* NULL: the sites call the typed stub, which returns. */
	assert_int_equal(static_call_update(sc_hook, hook_record), 0);
	assert_true(static_call_sites(sc_hook, 1) >= 2);
	assert_int_equal(static_call_update(sc_hook, NULL), 0);
	assert_int_equal(static_call_sites(sc_hook, 1), static_call_sites(sc_hook, 0));
	hooks_seen = 0;
	static_call_cond(sc_hook)(1, 2);
	assert_int_equal(hooks_seen, 0);

	/* Far targets: out of a site's reach, the site calls the trampoline. */
	assert_int_equal(static_call_update(sc_far, far_triple), 0);
	assert_int_equal(static_call(sc_far)(2), 6);
	assert_int_equal(static_call_update(sc_math, add_one), 0);
	assert_int_equal(static_call(sc_math)(1), 2);
}
#endif

/*
 * Tail calls (`jmp`/`b` to a trampoline) are rewritten like calls, keeping the jump:
 * as the kernel does (arch/x86/kernel/static_call.c, __static_call_transform(), its
 * `tail` argument: JMP instead of CALL).
 */
static void test_tail_calls(void **state)
{
	(void)state;
	assert_int_equal(static_call_update(sc_tail, add_two), 0);
	assert_int_equal(static_call(sc_tail)(1), 3);
#ifdef TAIL_OFF_A
	assert_int_equal(tail_site_a(1), 3);
	assert_int_equal(tail_site_b(1), 3);
#endif
	assert_int_equal(static_call_update(sc_tail, times_ten), 0);
#ifdef TAIL_OFF_A
	assert_int_equal(tail_site_a(2), 20);
	assert_int_equal(tail_site_b(2), 20);
#endif
#if defined(TEST_CALL_SITES) && defined(TAIL_OFF_A)
	/* Both jumps found (and the call above), all now going to the target itself. */
	assert_int_equal(static_call_sites(sc_tail, 0), 3);
	assert_int_equal(static_call_sites(sc_tail, 1), 3);
	assert_true(branch_target((const unsigned char *)tail_site_a + TAIL_OFF_A) ==
		    (uintptr_t)times_ten);
	assert_true(branch_target((const unsigned char *)tail_site_b + TAIL_OFF_B) ==
		    (uintptr_t)times_ten);
#endif
	assert_int_equal(static_call_update(sc_tail, add_one), 0);
}

int main(void); /* sc_suite_main() when the suite is a shared object (BTI build) */
int main(void)
{
	const struct CMUnitTest tests[] = {
#if STATIC_CALL_HAVE_TRAMP
		/* First: it needs the trampoline pages not yet aliased. (Generic keys
		 * are plain data: there is no code whose patching could be refused.) */
		cmocka_unit_test(test_patch_refused),
#endif
		cmocka_unit_test(test_backend_name),
		cmocka_unit_test(test_initial_targets),
		cmocka_unit_test(test_lib_calls_are_direct),
		cmocka_unit_test(test_update_retargets),
		cmocka_unit_test(test_ret0_to_real_and_back),
		cmocka_unit_test(test_null_call),
		cmocka_unit_test(test_null_any_key),
		cmocka_unit_test(test_kernel_names),
		cmocka_unit_test(test_uninitialised_key),
		cmocka_unit_test(test_far_target),
		cmocka_unit_test(test_never_writable_and_executable),
#ifdef STATIC_CALL_KCFI
		cmocka_unit_test(test_kcfi_untyped_stub_traps),
#endif
		cmocka_unit_test(test_typed_stub_indirect_calls),
#if defined(__ARM_FEATURE_BTI_DEFAULT) && STATIC_CALL_HAVE_TRAMP
		cmocka_unit_test(test_bti_enforced),
#endif
		cmocka_unit_test(test_tail_calls),
		cmocka_unit_test(test_stress_live_updates),
#ifdef TEST_CALL_SITES
		cmocka_unit_test(test_call_sites),
#endif
		cmocka_unit_test(test_lib_sites_patched),
		cmocka_unit_test(test_cross_module_keys),
		cmocka_unit_test(test_cross_module_sites),
		cmocka_unit_test(test_dlopen_dlclose),
		cmocka_unit_test(test_fork_private),
		cmocka_unit_test(test_fork_twice),
		cmocka_unit_test(test_raw_clone_child),
		cmocka_unit_test(test_fork_while_updating),
		cmocka_unit_test(test_update_in_handler),
		cmocka_unit_test(test_handler_interrupts_update),
		cmocka_unit_test(test_handler_waits_for_other_thread),
		cmocka_unit_test(test_handler_interrupts_malloc_dlopen),
	};

#ifndef STATIC_CALL_KCFI
	printf("# this build has no -fsanitize=kcfi: the trap test is in the kcfi builds\n");
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
