/*
 * The static-call loops through the trampolines alone: this file is a shared object of
 * its own, linked without --emit-relocs (so its call sites stay on the trampolines;
 * they are direct calls, the trampolines having protected visibility). Its callees
 * live here too, within a direct jump's reach of the trampolines.
 */
#include "emkit/static_call.h"

#include "bench.h"

__attribute__((noinline)) static int tramp_target(int x)
{
	BENCH_EMPTY_BODY(x);
}

__attribute__((noinline)) static int tramp_target_work(int x)
{
	BENCH_WORK_BODY(x);
}

__attribute__((noinline)) static int tramp_target_alt(int x)
{
	BENCH_EMPTY_BODY(x);
}

DEFINE_STATIC_CALL(bench_sct, tramp_target);
DEFINE_STATIC_CALL(bench_sct_work, tramp_target_work);

long bench_static_call_tramp(long n, int work)
{
	int x = 0;

	if (work)
		for (long i = 0; i < n; i++)
			x = static_call(bench_sct_work)(x);
	else
		for (long i = 0; i < n; i++)
			x = static_call(bench_sct)(x);
	return x;
}

int bench_update_tramp_only(int which)
{
	int err = static_call_update(bench_sct, which ? tramp_target_alt : tramp_target);

	return err ? err : static_call_update(bench_sct_work, tramp_target_work);
}
