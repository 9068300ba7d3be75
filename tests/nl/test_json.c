/*
 * Tests of the JSON layer: the exact text emnl_to_json gives for
 * dev-energymodel and nlctrl messages (the ynl --output-json shape: enums by
 * name, flags as lists, multi-attrs as lists, indexed arrays, nest-type-value),
 * requests parsed from JSON encoding to the same bytes as trees built by hand,
 * a JSON → bytes → JSON round trip over every attribute type, and the errors
 * a bad --json argument gets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "nl_test.h"

static void assert_json(const struct emnl_attrs *a, const char *want)
{
	json_object *j = emnl_to_json(a);

	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(j);
}

/* Parse @text for @set, or fail with the error. */
static struct emnl_attrs *parse(const char *text, const struct emnl_attr_set *set)
{
	json_object *j = json_tokener_parse(text);
	struct emnl_attrs *a;
	struct emnl_error e;

	assert_non_null(j);
	if (emnl_from_json(j, set, &a, &e))
		fail_msg("%s: %s", text, e.msg);
	json_object_put(j);
	return a;
}

static void test_em_to_json(void **state)
{
	struct emnl_attrs *a = parse("{\"perf-domain-id\": 0, \"flags\": [\"perf-domain-microwatts\", "
				     "\"perf-domain-artificial\"], \"cpus\": [0, 1]}",
				     emnl_spec_set(em, "perf-domain"));

	(void)state;
	assert_int_equal(a->n, 4);
	assert_int_equal(a->v[1].u, 5);
	assert_json(a, "{\"perf-domain-id\":0,\"flags\":[\"perf-domain-microwatts\","
		       "\"perf-domain-artificial\"],\"cpus\":[0,1]}");
	emnl_attrs_free(a);

	a = parse("{\"perf-domain-id\": 2, \"perf-state\": [{\"performance\": 512, "
		  "\"frequency\": 1000000, \"power\": 100000, \"cost\": 1953, \"flags\": "
		  "[\"perf-state-inefficient\"]}, {\"performance\": 1024, \"flags\": 0}]}",
		  emnl_spec_set(em, "perf-table"));
	assert_json(a, "{\"perf-domain-id\":2,\"perf-state\":[{\"performance\":512,"
		       "\"frequency\":1000000,\"power\":100000,\"cost\":1953,\"flags\":"
		       "[\"perf-state-inefficient\"]},{\"performance\":1024,\"flags\":[]}]}");
	emnl_attrs_free(a);
}

/* A request from JSON encodes to the same bytes as one built by hand. */
static void test_request_from_json(void **state)
{
	const struct emnl_op *op = emnl_spec_op(em, "get-perf-domains");
	struct emnl_attrs *a = parse("{\"perf-domain-id\": 0}", op->set);
	struct emnl_attrs *b = emnl_attrs_new(op->set);
	struct emnl_hdr h = {.nlmsg_type = 0x1a, .nlmsg_flags = NLM_F_REQUEST, .cmd = 1, .version = 1};
	uint8_t x[64] MSGALIGN, y[64] MSGALIGN;
	int nx, ny;

	(void)state;
	assert_int_equal(emnl_attrs_add_uint(b, "perf-domain-id", 0), 0);
	nx = emnl_encode(x, sizeof(x), NULL, &h, a, EMNL_PAD_NEVER);
	ny = emnl_encode(y, sizeof(y), NULL, &h, b, EMNL_PAD_NEVER);
	assert_int_equal(nx, 28);
	assert_int_equal(nx, ny);
	assert_memory_equal(x, y, 28);
	emnl_attrs_free(a);
	emnl_attrs_free(b);
}

static void test_nlctrl_to_json(void **state)
{
	const struct emnl_attr_set *ca = emnl_spec_set(ctrl, "ctrl-attrs");
	struct emnl_attrs *a = parse(
		"{\"family-id\": 16, \"family-name\": \"nlctrl\", \"ops\": [{\"1\": {\"id\": 3, "
		"\"flags\": [\"cmd-cap-do\", \"cmd-cap-dump\", \"cmd-cap-haspol\"]}}, {\"id\": 10, "
		"\"flags\": 12}], \"mcast-groups\": [{\"name\": \"notify\", \"id\": 16}]}",
		ca);
	struct emnl_attrs *p;

	(void)state;
	assert_json(a, "{\"family-id\":16,\"family-name\":\"nlctrl\",\"ops\":[{\"1\":{\"id\":3,"
		       "\"flags\":[\"cmd-cap-do\",\"cmd-cap-dump\",\"cmd-cap-haspol\"]}},{\"2\":"
		       "{\"id\":10,\"flags\":[\"cmd-cap-dump\",\"cmd-cap-haspol\"]}}],"
		       "\"mcast-groups\":[{\"1\":{\"name\":\"notify\",\"id\":16}}]}");
	assert_int_equal(emnl_attrs_get(a, "ops")->nest->v[0].nest->v[1].u, 14);
	/* nest-type-value: the level names sit beside the nested attributes. */
	p = parse("{\"family-id\": 16, \"policy\": {\"policy-id\": 0, \"attr-id\": 2, "
		  "\"type\": \"nul-string\", \"max-length\": 15}}", ca);
	assert_int_equal(emnl_attrs_get(p, "policy")->tv[1], 2);
	assert_json(p, "{\"family-id\":16,\"policy\":{\"type\":\"nul-string\",\"max-length\":15,"
		       "\"policy-id\":0,\"attr-id\":2}}");
	emnl_attrs_free(p);
	emnl_attrs_free(a);
}


/* JSON → tree → bytes → tree → JSON gives the text back. */
static void test_every_type_round_trip(void **state)
{
	static const char text[] =
		"{\"a-u8\":255,\"a-u16\":4660,\"a-u32\":\"blue\",\"a-u64\":18446744073709551615,"
		"\"a-s8\":-128,\"a-s16\":-2,\"a-s32\":-2147483648,\"a-s64\":-9223372036854775807,"
		"\"a-uint\":8589934592,\"a-sint\":-1099511627776,\"a-str\":\"h\xc3\xa9\","
		"\"a-bin\":\"00ff10\",\"a-flag\":true,\"a-nest\":{\"x\":1,\"y\":\"in\"},"
		"\"a-arr\":[10,20,30],\"a-narr\":[{\"1\":{\"x\":5}},{\"2\":{\"y\":\"z\"}}],"
		"\"a-tv\":{\"x\":9,\"k1\":4,\"k2\":6},\"a-bf\":{\"value\":5,\"selector\":15},"
		"\"a-multi\":[1,2,3]}";
	struct emnl_error e;
	struct emnl_spec *s = load_every_kind();
	const struct emnl_attr_set *all = emnl_spec_set(s, "all");
	struct emnl_attrs *a, *back;
	struct emnl_hdr h = {.nlmsg_type = 0x30, .cmd = 1};
	uint8_t buf[1024] MSGALIGN;
	int n;

	(void)state;
	assert_non_null(s);
	a = parse(text, all);
	n = emnl_encode(buf, sizeof(buf), NULL, &h, a, EMNL_PAD_NEVER);
	assert_true(n > 0);
	assert_int_equal(emnl_decode((struct nlmsghdr *)buf, all, NULL, &back, &e), 0);
	assert_json(back, text);
	emnl_attrs_free(back);
	emnl_attrs_free(a);
	emnl_spec_free(s);
}

static const struct {
	const char *json;
	int err;
	const char *msg;
} bad[] = {
	{"{\"bogus\": 1}", -ENOENT, "'bogus' is not an attribute of 'perf-domain'"},
	{"{\"perf-domain-id\": \"abc\"}", -EINVAL, "'perf-domain-id': 'abc' is not a number"},
	{"{\"perf-domain-id\": 4294967296}", -ERANGE, "'perf-domain-id': value out of range for u32"},
	{"{\"perf-domain-id\": -1}", -ERANGE, "'perf-domain-id': negative value for an unsigned attribute"},
	{"{\"perf-domain-id\": [1]}", -EINVAL, "'perf-domain-id': a list is only valid for flags"},
	{"{\"flags\": [\"perf-domain-fast\"]}", -EINVAL,
	 "'flags': 'perf-domain-fast' is not a number nor a value of perf-domain-flags"},
	{"{\"cpus\": [0, \"x\"]}", -EINVAL, "'cpus': 'x' is not a number"},
	{"{\"pad\": 0}", -EINVAL, "'pad' cannot be given a value"},
	{"[1, 2]", -EINVAL, "expected an object"},
};

static void test_bad_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *j = json_tokener_parse(bad[i].json);
		struct emnl_attrs *a;
		struct emnl_error e;

		assert_non_null(j);
		assert_int_equal(emnl_from_json(j, emnl_spec_set(em, "perf-domain"), &a, &e), bad[i].err);
		assert_null(a);
		if (strcmp(e.msg, bad[i].msg))
			fail_msg("%s: got '%s', want '%s'", bad[i].json, e.msg, bad[i].msg);
		json_object_put(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_em_to_json),
		cmocka_unit_test(test_request_from_json),
		cmocka_unit_test(test_nlctrl_to_json),
		cmocka_unit_test(test_every_type_round_trip),
		cmocka_unit_test(test_bad_json),
	};

	return cmocka_run_group_tests(tests, load_em_ctrl, free_em_ctrl);
}
