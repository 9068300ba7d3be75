/*
 * Regression tests for lib/nl bugs found by the fuzzers (fuzz/, docs/fuzz.md).
 * Each test is the smallest input that showed the bug, checked for the right
 * behaviour, so that it fails until the bug is fixed and catches its return.
 *
 *   bitfield32   found by fuzz-spec: a spec with a bitfield32 attribute; the
 *                codec writes it as 8 bytes (value, selector: the kernel's
 *                struct nla_bitfield32), strict validation wants 4, so the
 *                library refuses its own correct encoding (and would accept a
 *                4-byte one its decoder then rejects).
 *   name-leak    found by fuzz-spec (LeakSanitizer): an operation's attribute
 *                list with a non-scalar item in the middle; the spec loader
 *                frees the parked names only up to the first NULL, so every
 *                name after it leaks on that failed load. Checked by the heap
 *                in use (mallinfo2) without ASan; under ASan, LeakSanitizer
 *                reports it when the test exits.
 *   notify-event found by fuzz-spec (LeakSanitizer): an operation with both
 *                `notify:` and `event:`; the event's resolved attribute list
 *                is allocated, then replaced by the notify target's reply
 *                list without being freed (8 bytes per attribute per load).
 * The first two were fixed in lib/nl commit 80832c8.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/nl.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static const char bitfield_spec[] =
	"name: bf\n"
	"protocol: genetlink\n"
	"attribute-sets:\n"
	"  - name: s\n"
	"    attributes:\n"
	"      - {name: sel, type: bitfield32}\n"
	"operations:\n"
	"  list:\n"
	"    - name: set\n"
	"      attribute-set: s\n"
	"      do:\n"
	"        request:\n"
	"          attributes: [sel]\n";

static void test_bitfield32_validates(void **state)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	struct emnl_error e;
	struct emnl_spec *spec = emnl_spec_parse(bitfield_spec, strlen(bitfield_spec), &e);
	struct emnl_attrs *a;
	struct emnl_hdr h = {.nlmsg_type = 0x20, .nlmsg_flags = NLM_F_REQUEST, .cmd = 1,
			     .version = 1};
	int n;

	(void)state;
	assert_non_null(spec);
	a = emnl_attrs_new(emnl_spec_set(spec, "s"));
	assert_non_null(a);
	/* value 0x5, selector 0x7 */
	assert_int_equal(emnl_attrs_add_uint(a, "sel", 0x5 | (uint64_t)0x7 << 32), 0);
	n = emnl_encode(buf, sizeof(buf), NULL, &h, a, EMNL_PAD_NEVER);
	assert_int_equal(n, 16 + 4 + 4 + 8); /* nlmsghdr, genlmsghdr, nla header, 2 × u32 */
	if (emnl_validate(spec, (const struct nlmsghdr *)buf, (size_t)n, false, NULL, 0, NULL, &e))
		fail_msg("our own bitfield32 encoding is refused: %s", e.msg);
	emnl_attrs_free(a);
	emnl_spec_free(spec);
}

static const char leak_spec[] =
	"name: leak\n"
	"attribute-sets:\n"
	"  - name: s\n"
	"    attributes:\n"
	"      - {name: a, type: u32}\n"
	"      - {name: b, type: u32}\n"
	"operations:\n"
	"  list:\n"
	"    - name: op\n"
	"      attribute-set: s\n"
	"      do:\n"
	"        request:\n"
	"          attributes: [a, {not: scalar}, b-is-a-rather-long-name-so-its-copy-is-seen]\n";

static void test_failed_load_frees_names(void **state)
{
	struct emnl_error e;

	(void)state;
	/* Refused, as it must be... */
	assert_null(emnl_spec_parse(leak_spec, strlen(leak_spec), &e));
	assert_true(e.err < 0);
#ifndef UNDER_ASAN
	{
		/* ...and without leaving anything behind. */
		size_t before, after;

		assert_null(emnl_spec_parse(leak_spec, strlen(leak_spec), &e));
		before = mallinfo2().uordblks;
		for (int i = 0; i < 1000; i++)
			assert_null(emnl_spec_parse(leak_spec, strlen(leak_spec), &e));
		after = mallinfo2().uordblks;
		if (after > before + 16 * 1024)
			fail_msg("1000 failed loads left %zu bytes allocated", after - before);
	}
#endif
}

static const char notify_event_spec[] =
	"name: ne\n"
	"attribute-sets:\n"
	"  - name: s\n"
	"    attributes:\n"
	"      - {name: a, type: u32}\n"
	"operations:\n"
	"  list:\n"
	"    - name: get\n"
	"      attribute-set: s\n"
	"      do:\n"
	"        request: {attributes: [a]}\n"
	"        reply: {attributes: [a]}\n"
	"    - name: ntf\n"
	"      notify: get\n"
	"      attribute-set: s\n"
	"      event: {attributes: [a]}\n"
	"      mcgrp: g\n"
	"mcast-groups:\n"
	"  list:\n"
	"    - name: g\n";

/* Load and free @text @times times; the heap must not grow (without ASan). */
static void load_free_loop(const char *text, int times)
{
	struct emnl_error e;
	struct emnl_spec *s = emnl_spec_parse(text, strlen(text), &e);

	emnl_spec_free(s);
#ifndef UNDER_ASAN
	{
		size_t before = mallinfo2().uordblks, after;

		for (int i = 0; i < times; i++)
			emnl_spec_free(emnl_spec_parse(text, strlen(text), &e));
		after = mallinfo2().uordblks;
		if (after > before + 16 * 1024)
			fail_msg("%d loads left %zu bytes allocated", times, after - before);
	}
#endif
}

static void test_notify_with_event_frees_lists(void **state)
{
	(void)state;
	load_free_loop(notify_event_spec, 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitfield32_validates),
		cmocka_unit_test(test_failed_load_frees_names),
		cmocka_unit_test(test_notify_with_event_frees_lists),
	};

	return cmocka_run_group_tests_name("hardening-nl-regress", tests, NULL, NULL);
}
