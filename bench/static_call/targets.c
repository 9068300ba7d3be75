/*
 * Callees, and the direct, static-call and function-pointer loops. This file is part of
 * the benchmark executable, linked with --emit-relocs: its static-call sites are found
 * and patched to call the target directly (the inline flavour).
 */
#include "emkit/static_call.h"

#include "bench.h"

__attribute__((noinline)) int bench_target(int x)
{
	BENCH_EMPTY_BODY(x);
}

__attribute__((noinline)) int bench_target_work(int x)
{
	BENCH_WORK_BODY(x);
}

/* The same as bench_target, elsewhere: what updates alternate with. */
__attribute__((noinline)) static int bench_target_alt(int x)
{
	BENCH_EMPTY_BODY(x);
}

bench_fn *volatile bench_fptr_target[2] = {bench_target, bench_target_work};

DEFINE_STATIC_CALL(bench_sc, bench_target);
DEFINE_STATIC_CALL(bench_sc_work, bench_target_work);

long bench_direct(long n, int work)
{
	int x = 0;

	if (work)
		for (long i = 0; i < n; i++)
			x = bench_target_work(x);
	else
		for (long i = 0; i < n; i++)
			x = bench_target(x);
	return x;
}

long bench_static_call(long n, int work)
{
	int x = 0;

	if (work)
		for (long i = 0; i < n; i++)
			x = static_call(bench_sc_work)(x);
	else
		for (long i = 0; i < n; i++)
			x = static_call(bench_sc)(x);
	return x;
}

long bench_fptr(long n, int work)
{
	int x = 0;

	for (long i = 0; i < n; i++)
		x = bench_fptr_target[work](x);
	return x;
}

int bench_update_tramp(int which)
{
	int err = static_call_update(bench_sc, which ? bench_target_alt : bench_target);

	return err ? err : static_call_update(bench_sc_work, bench_target_work);
}

size_t bench_sites_direct(void)
{
	return static_call_sites(bench_sc, 1) + static_call_sites(bench_sc_work, 1);
}
