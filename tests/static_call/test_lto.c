/*
 * Static calls under link-time optimisation: built with -flto (gcc:
 * -flto-partition=max, every function in a partition of its own), with static
 * targets and keys, so that the assembly must name what LTO may rename or move.
 * TAP output.
 */
#include <stdio.h>

#include "emkit/static_call.h"

static int lto_a(int x)
{
	return x + 1;
}

static int lto_b(int x)
{
	return x * 3;
}

static void lto_hook(int *x)
{
	*x += 5;
}

DEFINE_STATIC_CALL(lto_op, lto_a);
DEFINE_STATIC_CALL_RET0(lto_probe, lto_a);
DEFINE_STATIC_CALL_NULL(lto_cb, lto_hook);

__attribute__((noinline)) static int call_op(int x)
{
	return static_call(lto_op)(x) + 0 * x;
}

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	failed += !ok;
}

int main(void)
{
	int v = 0;

	printf("1..6\n");
	check(call_op(1) == 2 && static_call(lto_probe)(1) == 0, "initial targets");
	check(static_call_update(lto_op, lto_b) == 0 && call_op(2) == 6, "update to a static target");
	check(static_call_update(lto_probe, lto_b) == 0 && static_call(lto_probe)(2) == 6,
	      "RET0 call updated");
	check(static_call_update(lto_probe, __static_call_return0) == 0 &&
		      static_call(lto_probe)(2) == 0,
	      "back to its typed stub");
	static_call_cond(lto_cb)(&v);
	check(v == 0 && static_call_update(lto_cb, lto_hook) == 0, "NULL call");
	static_call_cond(lto_cb)(&v);
	check(v == 5 && static_call_query(lto_cb) == lto_hook, "NULL call set");
	return failed ? 1 : 0;
}
