/* libbench_sc_keys.so (see keys.h): it defines the keys and nothing that calls them. */
#include "bench.h"
#include "keys.h"

__attribute__((noinline)) int bench_keys_default(int x)
{
	BENCH_EMPTY_BODY(x);
}

DEFINE_STATIC_CALL(bench_keys_op, bench_keys_default);
DEFINE_STATIC_CALL(bench_keys_op_work, bench_keys_default);
EXPORT_STATIC_CALL(bench_keys_op);
EXPORT_STATIC_CALL(bench_keys_op_work);
