/* The function-pointer loop, built with retpolines (-mindirect-branch=thunk / -mretpoline). */
#include "bench.h"

long bench_retpoline(long n, int work)
{
	int x = 0;

	for (long i = 0; i < n; i++)
		x = bench_fptr_target[work](x);
	return x;
}
