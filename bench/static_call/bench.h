/*
 * The loops bench/static_call times, one per kind of call. Each runs n calls of a
 * function that returns its argument plus one, feeding each result into the next
 * call, and returns the last result so that nothing can be optimised away.
 */
#ifndef EMKIT_BENCH_STATIC_CALL_H
#define EMKIT_BENCH_STATIC_CALL_H

#include <stddef.h>

typedef int bench_fn(int);

/*
 * Two callees: an empty one (x + 1: the loop measures nothing but the call), and one
 * with a body the size of an Energy Model estimate: pick a performance state from the
 * utilization and multiply its cost by it, as em_pd_energy() does (branch-free, so
 * that branch prediction does not depend on code layout).
 */
#define BENCH_EMPTY_BODY(x) return (x) + 1
#define BENCH_WORK_BODY(x)                                                                  \
	do {                                                                               \
		static const unsigned int cost[16] = {96,  104, 113, 121, 135, 150, 166, 181, \
						      203, 228, 254, 283, 318, 357, 401, 452}; \
		unsigned int u = (unsigned int)(x) & 1023u;                                \
		unsigned long e = (unsigned long)cost[(u * 15u) >> 10] * u;                \
		return (x) + 1 + (int)(e >> 40);                                           \
	} while (0)

/*
 * The callees @name (empty), @name##_work (with a body) and @name##_alt (the same as
 * @name, elsewhere: what updates alternate with), never inlined; the first two with
 * @storage (static, or nothing), the last one static.
 */
#define BENCH_CALLEES(storage, name)                                                       \
	__attribute__((noinline)) storage int name(int x)                                  \
	{                                                                                  \
		BENCH_EMPTY_BODY(x);                                                       \
	}                                                                                  \
	__attribute__((noinline)) storage int name##_work(int x)                           \
	{                                                                                  \
		BENCH_WORK_BODY(x);                                                        \
	}                                                                                  \
	__attribute__((noinline)) static int name##_alt(int x)                             \
	{                                                                                  \
		BENCH_EMPTY_BODY(x);                                                       \
	}

/*
 * The body of a loop function: @n calls, each result fed into the next, of
 * CALL_WORK (to the callee with a body) if @work, else of CALL (to the empty one);
 * each is a function's name or a static_call() expression.
 */
#define BENCH_LOOP(n, work, CALL_WORK, CALL)                                               \
	do {                                                                               \
		int x = 0;                                                                 \
                                                                                           \
		if (work)                                                                  \
			for (long i = 0; i < (n); i++)                                     \
				x = CALL_WORK(x);                                          \
		else                                                                       \
			for (long i = 0; i < (n); i++)                                     \
				x = CALL(x);                                               \
		return x;                                                                  \
	} while (0)

int bench_target(int x);      /* the empty callee */
int bench_target_work(int x); /* the callee with a body */

/* Each loop: n calls, to the empty callee (work = 0) or to the one with a body. */
long bench_direct(long n, int work);              /* direct call */
long bench_static_call(long n, int work);         /* static_call(), sites patched */
long bench_static_call_tramp(long n, int work);   /* static_call(), trampolines only */
long bench_static_call_generic(long n, int work); /* static_call(), generic backend */
long bench_fptr(long n, int work);                /* plain function pointer */
long bench_retpoline(long n, int work);           /* function pointer, retpoline */
long bench_kcfi(long n, int work);                /* function pointer, kCFI-checked */

/* In a shared library (shlib.c), callees in that library: */
long bench_lib_direct(long n, int work);      /* direct call */
long bench_lib_static_call(long n, int work); /* static_call(), key in the library */
long bench_lib_cross(long n, int work);       /* static_call(), key in another module */
int bench_update_lib(int which);
size_t bench_lib_sites_direct(void);

/* Retarget the static calls (to measure update latency). */
int bench_update_tramp(int which);
int bench_update_tramp_only(int which);
int bench_update_generic(int which);

extern bench_fn *volatile bench_fptr_target[2];

/* How many of the benchmark's own call sites now call their target directly. */
size_t bench_sites_direct(void);

#endif
