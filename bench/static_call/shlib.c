/*
 * The shared-library loops: this file is libbench_sc_lib.so, linked with
 * --emit-relocs, so its static-call sites are rewritten like the executable's. It
 * times a direct call to a function of its own (the baseline for these rows), a
 * static call whose key it defines, and a static call whose key another module
 * defines (libbench_sc_keys.so, reached through this library's PLT), all three with
 * callees in this library.
 */
#include "emkit/static_call.h"

#include "bench.h"
#include "keys.h"

BENCH_CALLEES(static, lib_target)

DEFINE_STATIC_CALL(bench_lib_sc, lib_target);
DEFINE_STATIC_CALL(bench_lib_sc_work, lib_target_work);

long bench_lib_direct(long n, int work)
{
	BENCH_LOOP(n, work, lib_target_work, lib_target);
}

long bench_lib_static_call(long n, int work)
{
	BENCH_LOOP(n, work, static_call(bench_lib_sc_work), static_call(bench_lib_sc));
}

long bench_lib_cross(long n, int work)
{
	BENCH_LOOP(n, work, static_call(bench_keys_op_work), static_call(bench_keys_op));
}

int bench_update_lib(int which)
{
	int err;

	/* Bind the PLT entries first: a call into another module is rewritten once the
	 * dynamic linker has bound it. */
	bench_lib_cross(1, 0);
	bench_lib_cross(1, 1);
	err = static_call_update(bench_lib_sc, which ? lib_target_alt : lib_target);
	if (!err)
		err = static_call_update(bench_lib_sc_work, lib_target_work);
	if (!err)
		err = static_call_update(bench_keys_op, which ? lib_target_alt : lib_target);
	if (!err)
		err = static_call_update(bench_keys_op_work, lib_target_work);
	return err;
}

size_t bench_lib_sites_direct(void)
{
	return static_call_sites(bench_lib_sc, 1) + static_call_sites(bench_lib_sc_work, 1) +
	       static_call_sites(bench_keys_op, 1) + static_call_sites(bench_keys_op_work, 1);
}
