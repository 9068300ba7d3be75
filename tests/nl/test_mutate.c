/*
 * Mutation tests, in the spirit of syzkaller's spec-driven fuzzing but
 * deterministic (a fixed seed, so a failure reproduces): valid messages for
 * dev-energymodel, nlctrl and a spec with every attribute type are built
 * from the specs, then corrupted many
 * thousands of times (bytes flipped, lengths rewritten, messages cut or
 * extended) and fed to the validator, the decoder, the JSON layer and the
 * extended-ack round trip. Under ASan/UBSan this shows the code never reads
 * outside the message; everywhere it checks invariants that tie the layers
 * together: what the validator accepts decodes, re-encodes and decodes to
 * the same JSON; every error offset points at an attribute inside the
 * message; every error survives extack encoding and decoding unchanged.
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

static struct emnl_spec *every;

static int setup(void **state)
{
	every = load_every_kind();
	return load_em_ctrl(state);
}

static int teardown(void **state)
{
	emnl_spec_free(every);
	return free_em_ctrl(state);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

struct seed {
	const char *what;
	const struct emnl_spec *spec;
	const struct emnl_attr_set *set;
	bool reply;
	enum emnl_pad_mode pad;
	uint8_t bytes[4096] MSGALIGN;
	size_t len;
};

/* Encode the message @json describes. */
static void make_seed(struct seed *s, const char *what, const struct emnl_spec *spec,
		      const char *set, bool reply, uint16_t flags, uint8_t cmd,
		      enum emnl_pad_mode pad, const char *json)
{
	json_object *j = json_tokener_parse(json);
	struct emnl_attrs *a;
	struct emnl_error e;
	struct emnl_hdr h = {.nlmsg_type = 0x1a, .nlmsg_flags = flags, .nlmsg_seq = 9, .cmd = cmd,
			     .version = 1};
	int n;

	s->what = what;
	s->spec = spec;
	s->set = emnl_spec_set(spec, set);
	s->reply = reply;
	s->pad = pad;
	assert_non_null(j);
	if (emnl_from_json(j, s->set, &a, &e))
		fail_msg("%s: %s", what, e.msg);
	n = emnl_encode(s->bytes, sizeof(s->bytes), NULL, &h, a, pad);
	assert_true(n > 0);
	s->len = (size_t)n;
	emnl_attrs_free(a);
	json_object_put(j);
	/* The seed itself is valid. */
	if (emnl_validate(spec, (struct nlmsghdr *)s->bytes, s->len, reply, NULL, 0, NULL, &e))
		fail_msg("%s: seed invalid: %s", what, e.msg);
}

static struct seed *seeds(size_t *n)
{
	static struct seed s[6];

	make_seed(&s[0], "pd request", em, "perf-domain", false, NLM_F_REQUEST | NLM_F_ACK, 1,
		  EMNL_PAD_NEVER, "{\"perf-domain-id\": 3}");
	make_seed(&s[1], "pd reply, padded", em, "perf-domain", true, NLM_F_MULTI, 1,
		  EMNL_PAD_ALIGN8,
		  "{\"perf-domain-id\": 1, \"flags\": [\"perf-domain-microwatts\"], \"cpus\": [0, 1, 2, 3]}");
	make_seed(&s[2], "perf table", em, "perf-table", true, 0, 2, EMNL_PAD_NEVER,
		  "{\"perf-domain-id\": 1, \"perf-state\": ["
		  "{\"performance\": 100, \"frequency\": 500000, \"power\": 1000, \"cost\": 100, \"flags\": 1},"
		  "{\"performance\": 200, \"frequency\": 1000000, \"power\": 3000, \"cost\": 150, \"flags\": 0},"
		  "{\"performance\": 1024, \"frequency\": 2000000, \"power\": 9000, \"cost\": 87, \"flags\": 0}]}");
	make_seed(&s[3], "nlctrl family", ctrl, "ctrl-attrs", true, 0, 1, EMNL_PAD_NEVER,
		  "{\"family-id\": 16, \"family-name\": \"nlctrl\", \"version\": 2, \"hdrsize\": 0,"
		  " \"maxattr\": 10, \"ops\": [{\"id\": 3, \"flags\": 14}, {\"id\": 10, \"flags\": 12}],"
		  " \"mcast-groups\": [{\"name\": \"notify\", \"id\": 16}]}");
	make_seed(&s[4], "nlctrl policy", ctrl, "ctrl-attrs", true, NLM_F_MULTI, 10, EMNL_PAD_ALIGN8,
		  "{\"family-id\": 16, \"policy\": {\"policy-id\": 0, \"attr-id\": 2,"
		  " \"type\": \"nul-string\", \"max-length\": 15, \"min-value-s\": -5, \"mask\": 7}}");
	/* A request carries no pad attribute: the kernel's policy has no entry
	 * for one (YNL's TypePad has no attr_policy), so strict parsing refuses
	 * it as "Unsupported attribute". */
	make_seed(&s[5], "every type", every, "all", false, NLM_F_REQUEST, 9, EMNL_PAD_NEVER,
		  "{\"a-u8\": 255, \"a-u16\": 4660, \"a-u32\": \"blue\", \"a-u64\": 12,"
		  " \"a-s8\": -128, \"a-s64\": -5, \"a-uint\": 8589934592, \"a-sint\": -7,"
		  " \"a-str\": \"hello\", \"a-bin\": \"00ff10\", \"a-flag\": true,"
		  " \"a-nest\": {\"x\": 1, \"deeper\": {\"y\": \"in\"}}, \"a-arr\": [10, 20],"
		  " \"a-narr\": [{\"x\": 5}, {\"y\": \"z\"}], \"a-tv\": {\"k1\": 4, \"k2\": 6, \"x\": 9},"
		  " \"a-bf\": {\"value\": 5, \"selector\": 15}, \"a-multi\": [1, 2, 3],"
		  " \"a-late\": [\"b2\", \"b3\"]}");
	*n = 6;
	return s;
}

/* Corrupt a copy of @s; returns its length. */
static size_t mutate(const struct seed *s, uint8_t *out, size_t cap)
{
	size_t len = s->len;
	int k = 1 + (int)rnd(4);

	memcpy(out, s->bytes, len);
	while (k--) {
		switch (rnd(6)) {
		case 0: /* flip a bit after the netlink header */
			out[16 + rnd((uint32_t)(len > 16 ? len - 16 : 1))] ^= (uint8_t)(1u << rnd(8));
			break;
		case 1: { /* rewrite a 16-bit field at a 4-aligned offset: nla_len or type */
			size_t at = 20 + 4 * rnd((uint32_t)((len - 20) / 4 + 1)) + 2 * rnd(2);
			static const uint16_t odd[] = {0, 1, 3, 4, 5, 8, 12, 0x7fff, 0xffff, 0x8000};
			uint16_t v = rnd(2) ? odd[rnd(10)] : (uint16_t)rnd(0x10000);

			if (at + 2 <= len)
				memcpy(out + at, &v, 2);
			break;
		}
		case 2: /* cut the message short (nlmsg_len follows) */
			len = 16 + rnd((uint32_t)(len - 15));
			break;
		case 3: /* append junk */
			for (uint32_t n = rnd(12); n-- && len < cap;)
				out[len++] = (uint8_t)rnd(256);
			break;
		case 4: /* a random byte anywhere, header included */
			out[rnd((uint32_t)len)] = (uint8_t)rnd(256);
			break;
		default: /* nlmsg_len disagrees with the datagram */
			break;
		}
		if (rnd(8)) { /* mostly keep nlmsg_len honest */
			uint32_t l = (uint32_t)len;

			memcpy(out, &l, 4);
		}
	}
	return len;
}

static void check_error_round_trip(const struct nlmsghdr *req, const struct emnl_error *e)
{
	uint8_t buf[8192] MSGALIGN;
	struct emnl_error back;
	int n = emnl_extack_put(buf, sizeof(buf), req, e, rnd(2), true);

	assert_true(n > 0);
	assert_int_equal(emnl_extack_parse((struct nlmsghdr *)buf, &back, NULL), 0);
	assert_int_equal(back.err, e->err);
	assert_string_equal(back.msg, e->msg);
	assert_int_equal(back.has_offset, e->has_offset);
	if (e->has_offset)
		assert_int_equal(back.offset, e->offset);
	assert_int_equal(back.has_miss_type, e->has_miss_type);
	assert_int_equal(back.has_policy, e->has_policy && e->err);
	if (back.has_policy) {
		assert_int_equal(back.policy.type, e->policy.type);
		assert_int_equal(back.policy.has, e->policy.has);
		assert_int_equal(back.policy.max_u, e->policy.max_u);
		assert_int_equal(back.policy.max_len, e->policy.max_len);
	}
}

static void test_mutations(void **state)
{
	size_t n_seeds;
	struct seed *s = seeds(&n_seeds);
	unsigned accepted = 0, rejected = 0;

	(void)state;
	for (int i = 0; i < 30000; i++) {
		const struct seed *sd = &s[rnd((uint32_t)n_seeds)];
		size_t cap = sd->len + 16;
		uint8_t *m = malloc(cap); /* exact-size heap copy: ASan sees every overrun */
		size_t len = mutate(sd, m, cap);
		uint8_t *msg = malloc(len ? len : 1);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)msg;
		struct emnl_error e;
		struct emnl_attrs *dec;
		int v;

		memcpy(msg, m, len);
		free(m);
		v = emnl_validate(sd->spec, nlh, len, sd->reply, NULL, 0, NULL, &e);
		if (v == 0) {
			uint8_t again[8192] MSGALIGN;
			struct emnl_hdr h;
			struct emnl_attrs *dec2;
			json_object *j1, *j2;
			int n;

			accepted++;
			/* Accepted ⇒ decodes, and re-encodes to the same values. A
			 * request is accepted as the kernel accepts it, whose policy
			 * does not look inside arrays of numbers or nest-type-value
			 * nests (no nested policy): such a request may not decode. */
			if (emnl_decode(nlh, sd->set, &h, &dec, &e)) {
				if (sd->reply)
					fail_msg("%s: accepted but not decoded: %s", sd->what,
						 e.msg);
				free(msg);
				continue;
			}
			n = emnl_encode(again, sizeof(again), NULL, &h, dec, sd->pad);
			assert_true(n > 0);
			assert_int_equal(emnl_decode((struct nlmsghdr *)again, sd->set, NULL, &dec2, &e), 0);
			j1 = emnl_to_json(dec);
			j2 = emnl_to_json(dec2);
			assert_string_equal(json_object_to_json_string(j1), json_object_to_json_string(j2));
			json_object_put(j1);
			json_object_put(j2);
			emnl_attrs_free(dec2);
			emnl_attrs_free(dec);
		} else {
			rejected++;
			assert_int_equal(v, e.err);
			assert_true(v == -EINVAL || v == -EOPNOTSUPP || v == -ERANGE);
			assert_true(e.msg[0] != '\0');
			if (e.has_offset) {
				assert_true(e.offset >= 20);
				assert_true(e.offset < nlh->nlmsg_len);
				assert_int_equal(e.offset % 4, 0);
			}
			/* The decoder may accept what the validator refuses, never crash. */
			if (len >= 16 && nlh->nlmsg_len <= len && nlh->nlmsg_len >= 16 &&
			    emnl_decode(nlh, sd->set, NULL, &dec, &e) == 0)
				emnl_attrs_free(dec);
			if (len >= 16 && nlh->nlmsg_len >= 16 && nlh->nlmsg_len <= len) {
				emnl_validate(sd->spec, nlh, len, sd->reply, NULL, 0, NULL, &e);
				check_error_round_trip(nlh, &e);
			}
		}
		free(msg);
	}
	print_message("# %u accepted, %u rejected\n", accepted, rejected);
	/* Both sides of the validator are exercised. */
	assert_true(accepted > 1000);
	assert_true(rejected > 10000);
}

/* Corrupted extended acks decode or are refused, never read out of bounds. */
static void test_extack_mutations(void **state)
{
	static const uint8_t req[] MSGALIGN = {
		40, 0, 0, 0, 0x10, 0, 5, 3, 1, 0, 0, 0, 0, 0, 0, 0, 10, 1, 0, 0,
		11, 0, 2, 0, 'n', 'l', 'c', 't', 'r', 'l', 0, 0, 8, 0, 10, 0, 99, 0, 0, 0,
	};
	struct emnl_error e = {.err = -ENOENT, .has_offset = true, .offset = 32,
			       .has_miss_type = true, .miss_type = 2};

	(void)state;
	strcpy(e.msg, "no such operation");
	for (int i = 0; i < 20000; i++) {
		uint8_t good[256] MSGALIGN;
		int n = emnl_extack_put(good, sizeof(good), (const struct nlmsghdr *)req, &e, rnd(2), true);
		size_t len = (size_t)n;
		uint8_t *m;
		struct emnl_error back;
		uint32_t l;

		for (int k = 1 + (int)rnd(3); k--;) {
			if (rnd(3))
				good[rnd((uint32_t)len)] ^= (uint8_t)(1u << rnd(8));
			else
				len = 16 + rnd((uint32_t)(len - 15));
		}
		l = (uint32_t)len;
		memcpy(good, &l, 4);
		m = malloc(len);
		memcpy(m, good, len);
		if (emnl_extack_parse((struct nlmsghdr *)m, &back, NULL) == 0)
			assert_true(back.err <= 0 && back.err >= -4095);
		free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_extack_mutations),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
