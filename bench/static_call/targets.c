/*
 * Callees, and the direct, static-call and function-pointer loops. This file is part of
 * the benchmark executable, linked with --emit-relocs: its static-call sites are found
 * and patched to call the target directly (the inline flavour).
 */
#include "emkit/static_call.h"

#include "bench.h"

BENCH_CALLEES(, bench_target)

bench_fn *volatile bench_fptr_target[2] = {bench_target, bench_target_work};

DEFINE_STATIC_CALL(bench_sc, bench_target);
DEFINE_STATIC_CALL(bench_sc_work, bench_target_work);

long bench_direct(long n, int work)
{
	BENCH_LOOP(n, work, bench_target_work, bench_target);
}

long bench_static_call(long n, int work)
{
	BENCH_LOOP(n, work, static_call(bench_sc_work), static_call(bench_sc));
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
