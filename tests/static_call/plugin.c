/*
 * A plugin the tests dlopen and dlclose (test_modules.c, test_signals.c): it defines
 * a static call, calls it, and calls libsc_lib's. Built twice: with --emit-relocs
 * (its calls are inline sites, rewritten by updates) and without.
 */
#include "lib.h"

static int plugin_twice(int x)
{
	return 2 * x + 100;
}

static int plugin_thrice(int x)
{
	return 3 * x + 100;
}

DEFINE_STATIC_CALL(plugin_op, plugin_twice);

int plugin_call(int x);
int plugin_call_lib(int x);
int plugin_select(int which);
int plugin_target(int x);

int plugin_call(int x)
{
	return static_call(plugin_op)(x) + 0 * x;
}

int plugin_call_lib(int x)
{
	return static_call(lib_op)(x) + 0 * x;
}

int plugin_select(int which)
{
	return static_call_update(plugin_op, which ? plugin_thrice : plugin_twice);
}

/* A callback the executable installs in lib_op, and must take out before dlclose. */
int plugin_target(int x)
{
	return x + 1000;
}
