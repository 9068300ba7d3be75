/*
 * The static-call loops through the trampolines alone: this file is a shared object of
 * its own, linked without --emit-relocs (so its call sites stay on the trampolines;
 * they are direct calls, the trampolines having protected visibility). Its callees
 * live here too, within a direct jump's reach of the trampolines.
 */
#include "emkit/static_call.h"

#include "bench.h"

BENCH_CALLEES(static, tramp_target)

DEFINE_STATIC_CALL(bench_sct, tramp_target);
DEFINE_STATIC_CALL(bench_sct_work, tramp_target_work);

long bench_static_call_tramp(long n, int work)
{
	BENCH_LOOP(n, work, static_call(bench_sct_work), static_call(bench_sct));
}

int bench_update_tramp_only(int which)
{
	int err = static_call_update(bench_sct, which ? tramp_target_alt : tramp_target);

	return err ? err : static_call_update(bench_sct_work, tramp_target_work);
}
