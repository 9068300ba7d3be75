/*
 * Static calls across modules: calls inside a shared library, keys and typed stubs
 * used from other modules, call sites rewritten in shared libraries (libsc_lib,
 * libsc_user, see lib.h), and a plugin dlopen'ed, updated and dlclose'd again and
 * again (plugin.c; its paths come in SC_PLUGIN and SC_PLUGIN_RELOCS).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "lib.h"

/* The address of a label placed at a call instruction. */
#define SITE(label) ((const void *)(uintptr_t)(label))

static int module_target(int x)
{
	return x + 7;
}

/*
 * A call inside libsc_lib to its own static call goes straight to the trampoline,
 * not through a PLT entry: the call instruction's target is the key's trampoline.
 * (Runs before any update of lib_op, while the call is as the linker left it.)
 */
void test_lib_calls_are_direct(void **state)
{
	uintptr_t to = branch_target(SITE(lib_op_asm_site));

	(void)state;
#if defined(__x86_64__) || defined(__aarch64__)
	assert_true(to != 0);
	assert_true(to == (uintptr_t)STATIC_CALL_KEY(lib_op).tramp);
#else
	(void)to;
#endif
	assert_int_equal(lib_call_op_asm(4), 8);
	assert_int_equal(lib_call_op(4), 8);
}

/* libsc_lib's own calls (linked with --emit-relocs) are rewritten by updates. */
void test_lib_sites_patched(void **state)
{
	size_t all;

	(void)state;
	assert_int_equal(static_call_update(lib_op, lib_thrice), 0);
	assert_int_equal(lib_call_op(4), 12);
	assert_int_equal(lib_call_op_asm(4), 12);
	all = static_call_sites(lib_op, 0);
	print_message("# lib_op: %zu call sites, %zu direct\n", all, static_call_sites(lib_op, 1));
	assert_true(all >= 2); /* at least libsc_lib's C and assembly calls */
#if defined(__x86_64__) || defined(__aarch64__)
	assert_true(branch_target(SITE(lib_op_asm_site)) == (uintptr_t)lib_thrice);
#endif
	assert_int_equal(static_call_update(lib_op, lib_twice), 0);
	assert_int_equal(lib_call_op_asm(4), 8);
#if defined(__x86_64__) || defined(__aarch64__)
	assert_true(branch_target(SITE(lib_op_asm_site)) == (uintptr_t)lib_twice);
#endif
}

/* Keys, calls and typed stubs of libsc_lib, from this module. */
void test_cross_module_keys(void **state)
{
	(void)state;
	assert_int_equal(static_call(lib_op)(5), 10);
	assert_int_equal(static_call_update(lib_op, module_target), 0);
	assert_int_equal(static_call(lib_op)(5), 12);
	assert_int_equal(lib_call_op(5), 12);
	assert_int_equal(user_call_op(5), 12);
	/* libsc_lib's typed stub, by name from here: the same function it installs. */
	assert_int_equal(static_call_update(lib_op, STATIC_CALL_STUB_RET0(lib_op)), 0);
	assert_ptr_equal(static_call_query(lib_op), STATIC_CALL_KEY(lib_op).ret0);
	assert_int_equal(lib_call_op(5), 0);
	assert_int_equal(user_call_op(5), 0);
	assert_int_equal(static_call_update(lib_op, __static_call_return0), 0);
	assert_ptr_equal(static_call_query(lib_op), STATIC_CALL_KEY(lib_op).ret0);
	assert_int_equal(static_call_update(lib_op, lib_twice), 0);
	assert_int_equal(user_call_op(5), 10);
	assert_int_equal(lib_call_probe(5), 0);
	assert_int_equal(static_call_update(lib_probe, lib_thrice), 0);
	assert_int_equal(lib_call_probe(5), 15);
}

/*
 * A call from libsc_user into libsc_lib goes through libsc_user's PLT entry. Once the
 * dynamic linker has bound it (its first call: libsc_user is linked -z lazy), an
 * update rewrites it to call the target itself; before, it is left on the PLT.
 */
void test_cross_module_sites(void **state)
{
	uintptr_t home;

	(void)state;
	assert_int_equal(static_call_update(lib_lazy, lib_twice), 0);
	home = branch_target(SITE(user_lazy_asm_site));
#if defined(__x86_64__) || defined(__aarch64__)
	assert_true(home != 0);
	assert_true(home != (uintptr_t)STATIC_CALL_KEY(lib_lazy).tramp); /* a PLT entry */
	assert_true(home != (uintptr_t)lib_twice);
#endif
	assert_int_equal(user_call_lazy_asm(3), 6); /* binds it */
	assert_int_equal(static_call_update(lib_lazy, lib_thrice), 0);
	assert_int_equal(user_call_lazy_asm(3), 9);
#if defined(__x86_64__) || defined(__aarch64__)
	assert_true(branch_target(SITE(user_lazy_asm_site)) == (uintptr_t)lib_thrice);
	assert_true(static_call_sites(lib_lazy, 1) >= 1);
	/* NULL: the typed stub, if in reach, else back home. */
	assert_int_equal(static_call_update(lib_lazy, NULL), 0);
	assert_int_equal(user_call_lazy_asm(3), 0);
	assert_int_equal(static_call_update(lib_lazy, lib_twice), 0);
	assert_int_equal(user_call_lazy_asm(3), 6);
	assert_true(branch_target(SITE(user_lazy_asm_site)) == (uintptr_t)lib_twice);
#endif
}

typedef int (*int_fn)(int);

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p)
		fail_msg("dlsym %s: %s", name, dlerror());
	return p;
}

static int_fn fn_sym(void *h, const char *name)
{
	void *p = sym(h, name);
	int_fn f;

	memcpy(&f, &p, sizeof(f));
	return f;
}

/*
 * One plugin, three times: loaded, its own static call updated from inside and from
 * here, libsc_lib's call updated (rewriting the plugin's call sites, in the
 * --emit-relocs build), one of its functions installed in libsc_lib's call and taken
 * out, unloaded; then libsc_lib's call updated again, with the plugin's sites gone
 * (and no longer counted).
 * From the second round on, the library's descriptors and mappings come back to the
 * same counts, and nothing of the plugin stays mapped.
 */
static void plugin_rounds(const char *path, size_t plugin_sites)
{
	int fds[3], maps[3];
	size_t sites = static_call_sites(lib_op, 0);

	for (int round = 0; round < 3; round++) {
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		struct static_call_key *key;
		int_fn call, call_lib, select, target;

		if (!h)
			fail_msg("dlopen %s: %s", path, dlerror());
		call = fn_sym(h, "plugin_call");
		call_lib = fn_sym(h, "plugin_call_lib");
		select = fn_sym(h, "plugin_select");
		target = fn_sym(h, "plugin_target");
		key = (struct static_call_key *)sym(h, "static_call_key__plugin_op");

		assert_int_equal(call(1), 102);
		assert_int_equal(select(1), 0); /* updated from inside the plugin */
		assert_int_equal(call(1), 103);
		assert_int_equal(static_call_update_key(key, key->ret0), 0); /* and from here */
		assert_int_equal(call(1), 0);
		assert_int_equal(select(0), 0);
		assert_int_equal(call(1), 102);

		assert_int_equal(static_call_update(lib_op, lib_thrice), 0);
		assert_int_equal(call_lib(2), 6);
		assert_int_equal(static_call_sites(lib_op, 0), sites + plugin_sites);
		assert_int_equal(static_call_update(lib_op, target), 0);
		assert_int_equal(lib_call_op(2), 1002);
		assert_int_equal(call_lib(2), 1002);
		assert_int_equal(static_call_update(lib_op, lib_twice), 0); /* out again */
		assert_int_equal(call_lib(2), 4);

		assert_int_equal(dlclose(h), 0);
		assert_int_equal(count_maps(path), count_maps(NULL)); /* nothing of it left */
		assert_int_equal(static_call_sites(lib_op, 0), sites); /* its call forgotten */
		assert_int_equal(static_call_update(lib_op, lib_thrice), 0);
		assert_int_equal(lib_call_op(2), 6);
		assert_int_equal(static_call_update(lib_op, lib_twice), 0);
		assert_int_equal(lib_call_op(2), 4);
		fds[round] = count_fds();
		maps[round] = count_maps(path);
	}
	print_message("# %s: descriptors %d %d %d, mappings %d %d %d\n", strrchr(path, '/') + 1,
		      fds[0], fds[1], fds[2], maps[0], maps[1], maps[2]);
	assert_int_equal(fds[2], fds[1]);
	assert_int_equal(maps[2], maps[1]);
}

void test_dlopen_dlclose(void **state)
{
	const char *plain = getenv("SC_PLUGIN"), *relocs = getenv("SC_PLUGIN_RELOCS");

	(void)state;
	if (!plain || !relocs)
		fail_msg("SC_PLUGIN and SC_PLUGIN_RELOCS must name the plugin's builds");
	plugin_rounds(plain, 0);
	plugin_rounds(relocs, 1); /* plugin_call_lib() */
}
