/*
 * The function-pointer loop under clang -fsanitize=kcfi: each call checks the type
 * hash before the target. The targets live here so that they carry the hash.
 */
#include "bench.h"

__attribute__((noinline)) static int kcfi_target(int x)
{
	BENCH_EMPTY_BODY(x);
}

__attribute__((noinline)) static int kcfi_target_work(int x)
{
	BENCH_WORK_BODY(x);
}

static bench_fn *volatile kcfi_fptr[2] = {kcfi_target, kcfi_target_work};

long bench_kcfi(long n, int work)
{
	int x = 0;

	for (long i = 0; i < n; i++)
		x = kcfi_fptr[work](x);
	return x;
}
