/* libbench_sc_keys.so: static calls another module (libbench_sc_lib.so) calls. */
#ifndef EMKIT_BENCH_STATIC_CALL_KEYS_H
#define EMKIT_BENCH_STATIC_CALL_KEYS_H

#include "emkit/static_call.h"

int bench_keys_default(int x);
DECLARE_STATIC_CALL(bench_keys_op, bench_keys_default);
DECLARE_STATIC_CALL(bench_keys_op_work, bench_keys_default);

#endif
