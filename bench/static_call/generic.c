/* The static-call loops with the generic backend: an indirect call through the key. */
#define EMKIT_STATIC_CALL_GENERIC
#include "emkit/static_call.h"

#include "bench.h"

__attribute__((noinline)) static int bench_target_alt(int x)
{
	BENCH_EMPTY_BODY(x);
}

DEFINE_STATIC_CALL(bench_scg, bench_target);
DEFINE_STATIC_CALL(bench_scg_work, bench_target_work);

long bench_static_call_generic(long n, int work)
{
	BENCH_LOOP(n, work, static_call(bench_scg_work), static_call(bench_scg));
}

int bench_update_generic(int which)
{
	return static_call_update(bench_scg, which ? bench_target_alt : bench_target);
}
