/*
 * Tests of the codec: golden bytes for dev-energymodel messages, written out
 * by hand from the protocol's facts (header layout, attribute numbers, 4-byte
 * alignment, NLA_F_NESTED on nests, where a pad attribute goes when the
 * kernel pads u64s), and round trips through encode and decode for every
 * attribute type YNL has, plus the failure modes: a buffer too small at
 * every length, a value too wide for its attribute, framing errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "nl_test.h"

/* Compare bytes, printing both in hex when they differ. */
static void assert_bytes(const uint8_t *got, size_t glen, const uint8_t *want, size_t wlen)
{
	if (glen == wlen && !memcmp(got, want, wlen))
		return;
	print_message("got  %zu:", glen);
	for (size_t i = 0; i < glen; i++)
		print_message("%s%02x", i % 4 ? "" : " ", got[i]);
	print_message("\nwant %zu:", wlen);
	for (size_t i = 0; i < wlen; i++)
		print_message("%s%02x", i % 4 ? "" : " ", want[i]);
	print_message("\n");
	fail_msg("bytes differ");
}

/* @a under @h encodes with @pad into @buf (filled with 0x5a first: padding must
 * come out zero) as exactly @want. */
static void encodes_as(void *buf, size_t size, const struct emnl_hdr *h,
		       const struct emnl_attrs *a, enum emnl_pad_mode pad, const uint8_t *want,
		       size_t wlen)
{
	int n;

	memset(buf, 0x5a, size);
	n = emnl_encode(buf, size, NULL, h, a, pad);
	assert_bytes(buf, (size_t)n, want, wlen);
}

#define PADA(type) NLA(4, type)

/* nlmsghdr + genlmsghdr for family 0x1a, cmd, version 1. */
#define HDR(len, flags, seq, cmd) LE32(len), LE16(0x1a), LE16(flags), LE32(seq), LE32(0), cmd, 1, 0, 0

static struct emnl_hdr hdr_of(uint16_t flags, uint32_t seq, uint8_t cmd)
{
	struct emnl_hdr h = {.nlmsg_type = 0x1a, .nlmsg_flags = flags, .nlmsg_seq = seq,
			     .cmd = cmd, .version = 1};
	return h;
}

static void test_golden_request(void **state)
{
	static const uint8_t want[] MSGALIGN = {
		HDR(28, NLM_F_REQUEST | NLM_F_ACK, 7, 1),
		U32A(2, 0),
	};
	const struct emnl_op *op = emnl_spec_op(em, "get-perf-domains");
	struct emnl_attrs *a = emnl_attrs_new(op->set);
	struct emnl_hdr h = hdr_of(NLM_F_REQUEST | NLM_F_ACK, 7, op->do_req.cmd);
	uint8_t buf[256] MSGALIGN;

	(void)state;
	assert_int_equal(emnl_attrs_add_uint(a, "perf-domain-id", 0), 0);
	encodes_as(buf, sizeof(buf), &h, a, EMNL_PAD_NEVER, want, sizeof(want));
	/* Padding mode does not matter without 64-bit values. */
	encodes_as(buf, sizeof(buf), &h, a, EMNL_PAD_ALIGN8, want, sizeof(want));
	emnl_attrs_free(a);
}

/* A perf-domain reply: id 0, microwatts, CPUs 0 and 1. */
static struct emnl_attrs *pd_reply(void)
{
	struct emnl_attrs *a = emnl_attrs_new(emnl_spec_set(em, "perf-domain"));

	assert_int_equal(emnl_attrs_add_uint(a, "perf-domain-id", 0), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "flags", 1), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "cpus", 0), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "cpus", 1), 0);
	return a;
}

static void test_golden_pd_reply(void **state)
{
	static const uint8_t nopad[] MSGALIGN = {
		HDR(64, 0, 3, 1),
		U32A(2, 0), U64A(3, 1), U64A(4, 0), U64A(4, 1),
	};
	/* Header at 20 → id; flags header at 28 (payload 32: aligned, no pad);
	 * cpus header at 40 would leave its payload at 44: pad first, twice. */
	static const uint8_t align8[] MSGALIGN = {
		HDR(72, 0, 3, 1),
		U32A(2, 0), U64A(3, 1), PADA(1), U64A(4, 0), PADA(1), U64A(4, 1),
	};
	struct emnl_attrs *a = pd_reply(), *back;
	struct emnl_hdr h = hdr_of(0, 3, 1), hb;
	struct emnl_error e;
	uint8_t buf[256] MSGALIGN;
	int n;

	(void)state;
	encodes_as(buf, sizeof(buf), &h, a, EMNL_PAD_NEVER, nopad, sizeof(nopad));
	encodes_as(buf, sizeof(buf), &h, a, EMNL_PAD_ALIGN8, align8, sizeof(align8));

	/* Decoding drops the pads and gives back the same values. */
	assert_int_equal(emnl_decode((struct nlmsghdr *)buf, a->set, &hb, &back, &e), 0);
	assert_int_equal(hb.cmd, 1);
	assert_int_equal(hb.nlmsg_seq, 3);
	assert_int_equal(back->n, 4);
	assert_int_equal(emnl_attrs_count(back, "cpus"), 2);
	assert_int_equal(back->v[3].u, 1);
	assert_ptr_equal(back->v[3].attr, emnl_set_attr(a->set, "cpus"));
	emnl_attrs_free(back);

	/* The same message 4 bytes into a datagram: attributes start at datagram
	 * offset 24, so every u64 header lands 8-aligned and gets a pad. */
	{
		static const uint8_t shifted[] MSGALIGN = {
			HDR(76, 0, 3, 1),
			U32A(2, 0), PADA(1), U64A(3, 1), PADA(1), U64A(4, 0), PADA(1), U64A(4, 1),
		};
		n = emnl_encode(buf + 4, sizeof(buf) - 4, buf, &h, a, EMNL_PAD_ALIGN8);
		assert_bytes(buf + 4, (size_t)n, shifted, sizeof(shifted));
	}
	assert_int_equal(emnl_pad_mode_native(), EMNL_PAD_NEVER); /* this machine: x86-64 */
	emnl_attrs_free(a);
}

/* One perf-state nest. */
static void add_state(struct emnl_attrs *t, uint64_t perf, uint64_t freq, uint64_t power,
		      uint64_t cost, uint64_t flags)
{
	struct emnl_attrs *s;

	assert_int_equal(emnl_attrs_add_nest(t, "perf-state", &s), 0);
	assert_int_equal(emnl_attrs_add_uint(s, "performance", perf), 0);
	assert_int_equal(emnl_attrs_add_uint(s, "frequency", freq), 0);
	assert_int_equal(emnl_attrs_add_uint(s, "power", power), 0);
	assert_int_equal(emnl_attrs_add_uint(s, "cost", cost), 0);
	assert_int_equal(emnl_attrs_add_uint(s, "flags", flags), 0);
}

static void test_golden_perf_table(void **state)
{
	static const uint8_t nopad[] MSGALIGN = {
		HDR(20 + 8 + 64 * 2, 0, 9, 2),
		U32A(1, 2),
		NLA(64, 2 | NLA_F_NESTED),
		U64A(2, 512), U64A(3, 1000000), U64A(4, 100000), U64A(5, 1953), U64A(6, 1),
		NLA(64, 2 | NLA_F_NESTED),
		U64A(2, 1024), U64A(3, 2000000), U64A(4, 400000), U64A(5, 3906), U64A(6, 0),
	};
	/* Nest header at 28, first state attribute at 32 (8-aligned): every
	 * u64 of the nest gets a pad. The second nest starts at 28 + 84 = 112,
	 * its first attribute at 116 needs none, the four after it do. */
	static const uint8_t align8[] MSGALIGN = {
		HDR(20 + 8 + 84 + 80, 0, 9, 2),
		U32A(1, 2),
		NLA(84, 2 | NLA_F_NESTED),
		PADA(1), U64A(2, 512), PADA(1), U64A(3, 1000000), PADA(1), U64A(4, 100000),
		PADA(1), U64A(5, 1953), PADA(1), U64A(6, 1),
		NLA(80, 2 | NLA_F_NESTED),
		U64A(2, 1024), PADA(1), U64A(3, 2000000), PADA(1), U64A(4, 400000),
		PADA(1), U64A(5, 3906), PADA(1), U64A(6, 0),
	};
	const struct emnl_op *op = emnl_spec_op(em, "perf-domain-updated");
	struct emnl_attrs *t = emnl_attrs_new(op->set), *back;
	struct emnl_hdr h = hdr_of(0, 9, 2);
	struct emnl_error e;
	uint8_t buf[512] MSGALIGN;

	(void)state;
	assert_int_equal(emnl_attrs_add_uint(t, "perf-domain-id", 2), 0);
	add_state(t, 512, 1000000, 100000, 1953, 1);
	add_state(t, 1024, 2000000, 400000, 3906, 0);
	encodes_as(buf, sizeof(buf), &h, t, EMNL_PAD_NEVER, nopad, sizeof(nopad));
	encodes_as(buf, sizeof(buf), &h, t, EMNL_PAD_ALIGN8, align8, sizeof(align8));

	assert_int_equal(emnl_decode((struct nlmsghdr *)buf, t->set, NULL, &back, &e), 0);
	assert_int_equal(emnl_attrs_count(back, "perf-state"), 2);
	{
		const struct emnl_attrs *s = back->v[2].nest;

		assert_int_equal(s->n, 5);
		assert_int_equal(emnl_attrs_get(s, "performance")->u, 1024);
		assert_int_equal(emnl_attrs_get(s, "cost")->u, 3906);
	}
	emnl_attrs_free(back);
	emnl_attrs_free(t);
}

static void test_golden_deleted_event(void **state)
{
	static const uint8_t want[] MSGALIGN = {HDR(28, 0, 0, 5), U32A(1, 4)};
	const struct emnl_op *op = emnl_spec_op(em, "perf-domain-deleted");
	struct emnl_attrs *t = emnl_attrs_new(op->set);
	struct emnl_hdr h = hdr_of(0, 0, op->event.cmd);
	uint8_t buf[64] MSGALIGN;

	(void)state;
	assert_int_equal(emnl_attrs_add_uint(t, "perf-domain-id", 4), 0);
	encodes_as(buf, sizeof(buf), &h, t, EMNL_PAD_NEVER, want, sizeof(want));
	emnl_attrs_free(t);
}

/* A message that does not fit is refused whole, at every short length. */
static void test_too_small(void **state)
{
	struct emnl_attrs *a = pd_reply();
	struct emnl_hdr h = hdr_of(0, 3, 1);
	uint8_t buf[256] MSGALIGN;
	int full = emnl_encode(buf, sizeof(buf), NULL, &h, a, EMNL_PAD_ALIGN8);

	(void)state;
	assert_int_equal(full, 72);
	for (int size = 0; size < full; size++)
		assert_int_equal(emnl_encode(buf, (size_t)size, NULL, &h, a, EMNL_PAD_ALIGN8),
				 -EMSGSIZE);
	assert_int_equal(emnl_encode(buf, (size_t)full, NULL, &h, a, EMNL_PAD_ALIGN8), full);
	emnl_attrs_free(a);
}

/* Values that do not fit their attribute, names that are not in the set. */
static void test_builder_checks(void **state)
{
	struct emnl_attrs *a = emnl_attrs_new(emnl_spec_set(em, "perf-domain"));
	struct emnl_attrs *child;

	(void)state;
	assert_int_equal(emnl_attrs_add_uint(a, "perf-domain-id", 1ULL << 32), -ERANGE);
	assert_int_equal(emnl_attrs_add_uint(a, "nope", 1), -ENOENT);
	assert_int_equal(emnl_attrs_add_str(a, "flags", "x"), -EINVAL);
	assert_int_equal(emnl_attrs_add_nest(a, "cpus", &child), -EINVAL);
	assert_int_equal(emnl_attrs_add_sint(a, "cpus", -1), -ERANGE);
	assert_int_equal(emnl_attrs_add_flag(a, "cpus"), -EINVAL);
	assert_int_equal(a->n, 0);
	emnl_attrs_free(a);
}

/* ---- every attribute type ------------------------------------------------- */


/* Encode @a, decode it, and compare value by value. */
static void round_trip(const struct emnl_attrs *a, enum emnl_pad_mode pad, uint8_t *buf,
		       size_t size, int *len, struct emnl_attrs **back)
{
	struct emnl_hdr h = hdr_of(NLM_F_REQUEST, 1, 1);
	struct emnl_error e;

	*len = emnl_encode(buf, size, NULL, &h, a, pad);
	assert_true(*len > 0);
	if (emnl_decode((struct nlmsghdr *)buf, a->set, NULL, back, &e))
		fail_msg("decode: %s", e.msg);
}

static void assert_same(const struct emnl_attrs *x, const struct emnl_attrs *y)
{
	assert_int_equal(x->n, y->n);
	for (size_t i = 0; i < x->n; i++) {
		const struct emnl_value *a = &x->v[i], *b = &y->v[i];

		assert_int_equal(a->type, b->type);
		assert_int_equal(a->kind, b->kind);
		assert_ptr_equal(a->attr, b->attr);
		switch (a->kind) {
		case EMNL_T_STRING:
		case EMNL_T_BINARY:
			assert_int_equal(a->bytes.len, b->bytes.len);
			assert_memory_equal(a->bytes.ptr, b->bytes.ptr, a->bytes.len);
			break;
		case EMNL_T_NEST:
		case EMNL_T_INDEXED_ARRAY:
		case EMNL_T_NEST_TYPE_VALUE:
			assert_memory_equal(a->tv, b->tv, sizeof(a->tv));
			assert_same(a->nest, b->nest);
			break;
		default:
			assert_int_equal(a->u, b->u);
		}
	}
}

/* Append an element of an indexed array by hand (type = index). */
static struct emnl_value *elem(struct emnl_attrs *arr, enum emnl_type kind, uint16_t idx)
{
	struct emnl_value v = {.type = idx, .kind = kind};

	assert_int_equal(emnl_attrs_add_value(arr, &v), 0);
	return &arr->v[arr->n - 1];
}

static struct emnl_attrs *every_value(const struct emnl_spec *s, int variant)
{
	const struct emnl_attr_set *all = emnl_spec_set(s, "all");
	struct emnl_attrs *a = emnl_attrs_new(all), *n, *arr;
	static const uint8_t bin[] MSGALIGN = {0, 1, 2, 0xff, 0xfe};

	assert_int_equal(emnl_attrs_add_uint(a, "a-u8", variant ? 0xff : 0), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-u16", variant ? 0xffff : 1), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-u32", 2), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-u64", variant ? UINT64_MAX : 1ULL << 40), 0);
	assert_int_equal(emnl_attrs_add_sint(a, "a-s8", variant ? -128 : 127), 0);
	assert_int_equal(emnl_attrs_add_sint(a, "a-s16", variant ? -32768 : -1), 0);
	assert_int_equal(emnl_attrs_add_sint(a, "a-s32", variant ? INT32_MIN : INT32_MAX), 0);
	assert_int_equal(emnl_attrs_add_sint(a, "a-s64", variant ? INT64_MIN : -5), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-uint", variant ? 1ULL << 33 : 7), 0);
	assert_int_equal(emnl_attrs_add_sint(a, "a-sint", variant ? -(1LL << 40) : -7), 0);
	assert_int_equal(emnl_attrs_add_str(a, "a-str", variant ? "" : "hello, netlink"), 0);
	assert_int_equal(emnl_attrs_add_bin(a, "a-bin", bin, variant ? 0 : sizeof(bin)), 0);
	assert_int_equal(emnl_attrs_add_flag(a, "a-flag"), 0);
	assert_int_equal(emnl_attrs_add_nest(a, "a-nest", &n), 0);
	assert_int_equal(emnl_attrs_add_uint(n, "x", 42), 0);
	assert_int_equal(emnl_attrs_add_str(n, "y", "in"), 0);
	assert_int_equal(emnl_attrs_add_nest(a, "a-arr", &arr), 0);
	for (uint16_t i = 1; i <= 3; i++)
		elem(arr, EMNL_T_U32, i)->u = 100u * i;
	assert_int_equal(emnl_attrs_add_nest(a, "a-narr", &arr), 0);
	for (uint16_t i = 1; i <= 2; i++) {
		struct emnl_value *v = elem(arr, EMNL_T_NEST, i);

		v->nest = emnl_attrs_new(emnl_spec_set(s, "inner"));
		assert_int_equal(emnl_attrs_add_uint(v->nest, "x", i), 0);
	}
	assert_int_equal(emnl_attrs_add_nest(a, "a-tv", &n), 0);
	a->v[a->n - 1].tv[0] = 3;
	a->v[a->n - 1].tv[1] = 9;
	assert_int_equal(emnl_attrs_add_uint(n, "x", 5), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-bf", 0x0000000f00000005ULL), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-be", 0x01020304), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-multi", 1), 0);
	assert_int_equal(emnl_attrs_add_uint(a, "a-multi", 2), 0);
	return a;
}

static void test_round_trip_every_type(void **state)
{
	struct emnl_error e;
	struct emnl_spec *s = load_every_kind();

	(void)state;
	if (!s)
		fail_msg("%s", e.msg);
	for (int variant = 0; variant < 2; variant++)
		for (int pad = EMNL_PAD_NEVER; pad <= EMNL_PAD_ALIGN8; pad++) {
			struct emnl_attrs *a = every_value(s, variant), *back;
			uint8_t buf[1024] MSGALIGN;
			int len;

			round_trip(a, (enum emnl_pad_mode)pad, buf, sizeof(buf), &len, &back);
			assert_same(a, back);
			/* Validates strictly too (as the reply of op: all attributes). */
			emnl_attrs_free(back);
			emnl_attrs_free(a);
		}
	emnl_spec_free(s);
}

/* Byte-level checks of the types whose wire form is easy to get wrong. */
static void test_wire_forms(void **state)
{
	struct emnl_error e;
	struct emnl_spec *s = load_every_kind();
	const struct emnl_attr_set *all = emnl_spec_set(s, "all");
	struct emnl_hdr h = hdr_of(0, 0, 1);
	uint8_t buf[256] MSGALIGN;

	(void)state;
	{	/* big-endian u32, string with NUL padded to 4, uint as 4 or 8 bytes */
		static const uint8_t want[] MSGALIGN = {
			HDR(20 + 8 + 8 + 8 + 12 + 8, 0, 0, 1),
			NLA(8, 20), 1, 2, 3, 4,
			NLA(7, 12), 'a', 'b', 0, 0,
			NLA(8, 10), LE32(7),
			NLA(12, 10), LE64(1ULL << 32),
			NLA(8, 11), LE32(-2),
		};
		struct emnl_attrs *a = emnl_attrs_new(all);

		assert_int_equal(emnl_attrs_add_uint(a, "a-be", 0x01020304), 0);
		assert_int_equal(emnl_attrs_add_str(a, "a-str", "ab"), 0);
		assert_int_equal(emnl_attrs_add_uint(a, "a-uint", 7), 0);
		assert_int_equal(emnl_attrs_add_uint(a, "a-uint", 1ULL << 32), 0);
		assert_int_equal(emnl_attrs_add_sint(a, "a-sint", -2), 0);
		encodes_as(buf, sizeof(buf), &h, a, EMNL_PAD_ALIGN8, want, sizeof(want));
		emnl_attrs_free(a);
	}
	{	/* indexed array numbered from 1; flag with no payload; bitfield32 */
		static const uint8_t want[] MSGALIGN = {
			HDR(20 + 4 + 4 + 16 + 12, 0, 0, 1),
			NLA(4, 14),
			NLA(20, 16 | NLA_F_NESTED), NLA(8, 1), LE32(10), NLA(8, 2), LE32(20),
			NLA(12, 19), LE32(5), LE32(0xf),
		};
		struct emnl_attrs *a = emnl_attrs_new(all), *arr;

		assert_int_equal(emnl_attrs_add_flag(a, "a-flag"), 0);
		assert_int_equal(emnl_attrs_add_nest(a, "a-arr", &arr), 0);
		elem(arr, EMNL_T_U32, 1)->u = 10;
		elem(arr, EMNL_T_U32, 2)->u = 20;
		assert_int_equal(emnl_attrs_add_uint(a, "a-bf", 0x0000000f00000005ULL), 0);
		encodes_as(buf, sizeof(buf), &h, a, EMNL_PAD_NEVER, want, sizeof(want));
		emnl_attrs_free(a);
	}
	{	/* nest-type-value: one nest per level, the level's value as its type */
		static const uint8_t want[] MSGALIGN = {
			HDR(20 + 4 + 4 + 4 + 8, 0, 0, 1),
			NLA(20, 18 | NLA_F_NESTED), NLA(16, 3 | NLA_F_NESTED),
			NLA(12, 9 | NLA_F_NESTED), U32A(1, 77),
		};
		struct emnl_attrs *a = emnl_attrs_new(all), *n2, *back;

		assert_int_equal(emnl_attrs_add_nest(a, "a-tv", &n2), 0);
		a->v[0].tv[0] = 3;
		a->v[0].tv[1] = 9;
		assert_int_equal(emnl_attrs_add_uint(n2, "x", 77), 0);
		encodes_as(buf, sizeof(buf), &h, a, EMNL_PAD_NEVER, want, sizeof(want));
		assert_int_equal(emnl_decode((struct nlmsghdr *)buf, all, NULL, &back, &e), 0);
		assert_int_equal(back->v[0].tv[0], 3);
		assert_int_equal(back->v[0].tv[1], 9);
		assert_int_equal(emnl_attrs_get(back->v[0].nest, "x")->u, 77);
		emnl_attrs_free(back);
		emnl_attrs_free(a);
	}
	emnl_spec_free(s);
}

/* Decoding keeps unknown attributes and refuses broken framing. */
static void test_decode_lenient_and_errors(void **state)
{
	const struct emnl_attr_set *pd = emnl_spec_set(em, "perf-domain");
	struct emnl_attrs *out;
	struct emnl_error e;

	(void)state;
	{
		uint8_t msg[] MSGALIGN = {HDR(36, 0, 0, 1), NLA(6, 99), 'h', 'i', 0, 0, U32A(2, 3)};

		assert_int_equal(emnl_decode((struct nlmsghdr *)msg, pd, NULL, &out, &e), 0);
		assert_int_equal(out->n, 2);
		assert_null(out->v[0].attr);
		assert_int_equal(out->v[0].kind, EMNL_T_BINARY);
		assert_int_equal(out->v[0].bytes.len, 2);
		assert_int_equal(out->v[1].u, 3);
		emnl_attrs_free(out);
	}
	{
		uint8_t msg[] MSGALIGN = {HDR(28, 0, 0, 1), NLA(12, 2), LE32(3)};

		assert_int_equal(emnl_decode((struct nlmsghdr *)msg, pd, NULL, &out, &e), -EINVAL);
		assert_string_equal(e.msg, "attribute length 12 out of bounds");
		assert_null(out);
	}
	{
		uint8_t msg[] MSGALIGN = {HDR(32, 0, 0, 1), NLA(12, 2), LE64(3)};

		assert_int_equal(emnl_decode((struct nlmsghdr *)msg, pd, NULL, &out, &e), -EINVAL);
		assert_string_equal(e.msg, "attribute 2 (u32) has length 8, expected 4");
	}
	{
		uint8_t msg[] MSGALIGN = {HDR(16, 0, 0, 1)};

		assert_int_equal(emnl_decode((struct nlmsghdr *)msg, pd, NULL, &out, &e), -EINVAL);
		assert_string_equal(e.msg, "message of 16 bytes is shorter than its headers");
	}
}

/* Decoded trees live in an arena, yet every list of them can still grow,
 * and stack-built requests encode like heap-built ones (ASan checks the
 * frees). */
static void test_tree_memory(void **state)
{
	struct emnl_attrs *t = emnl_attrs_new(emnl_spec_set(em, "perf-table")), *back, *s;
	struct emnl_hdr h = hdr_of(0, 1, 2);
	struct emnl_error e;
	uint8_t buf[1024] MSGALIGN, buf2[1024] MSGALIGN;
	int n, n2;

	(void)state;
	assert_int_equal(emnl_attrs_add_uint(t, "perf-domain-id", 3), 0);
	for (int i = 0; i < 9; i++)
		add_state(t, 100 + (uint64_t)i, 1000 * (uint64_t)i, 5, 6, 0);
	memset(buf, 0x5a, sizeof(buf)); /* padding must come out zero */
	n = emnl_encode(buf, sizeof(buf), NULL, &h, t, EMNL_PAD_NEVER);
	assert_int_equal(emnl_decode((struct nlmsghdr *)buf, t->set, NULL, &back, &e), 0);
	assert_non_null(back->arena);
	assert_false(back->self_owned);
	/* Grow the root past its exact size and a nest past its own. */
	add_state(back, 1, 2, 3, 4, 0);
	s = back->v[1].nest;
	assert_int_equal(s->cap, 5);
	assert_int_equal(emnl_attrs_add_uint(s, "flags", 1), 0);
	assert_true(s->v_owned);
	n2 = emnl_encode(buf2, sizeof(buf2), NULL, &h, back, EMNL_PAD_NEVER);
	assert_int_equal(n2, n + 64 + 12);
	emnl_attrs_free(back);
	emnl_attrs_free(t);

	{	/* a request on the stack, its string borrowed, then grown */
		const struct emnl_op *op = emnl_spec_op(em, "get-perf-domains");
		struct emnl_value store[1];
		struct emnl_attrs q;
		char name[] = "not-a-string-attr";

		emnl_attrs_init(&q, op->set, store, 1);
		assert_int_equal(emnl_attrs_add_uint(&q, "perf-domain-id", 0), 0);
		assert_ptr_equal(q.v, store);
		assert_int_equal(emnl_attrs_add_uint(&q, "cpus", 1), 0);
		assert_true(q.v_owned);
		assert_int_equal(emnl_attrs_add_str_ref(&q, "flags", name), -EINVAL);
		assert_int_equal(emnl_attrs_add_str_ref(&q, "nope", name), -ENOENT);
		emnl_attrs_free(&q);
	}
}

/* ---- the writer ------------------------------------------------------------ */

/* Whole messages only: a put that fails (no room, or a payload nla_len cannot
 * hold) takes its message out at emnl_msg_end, and the datagram keeps the
 * messages before it; the limit refuses a message after the first that
 * would pass it; nests and truncation. */
static void test_writer(void **state)
{
	static const uint8_t two[] MSGALIGN = {
		HDR(28, 2, 5, 1), U32A(2, 7),
		HDR(28, 2, 6, 1), U32A(2, 8),
	};
	uint8_t buf[128] MSGALIGN, big[70000];
	struct emnl_writer w;
	size_t nest;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	emnl_writer_init(&w, buf, sizeof(buf), EMNL_PAD_NEVER);
	for (uint32_t i = 0; i < 2; i++) {
		emnl_msg_begin_genl(&w, 0x1a, 2, 5 + i, 0, 1, 1);
		emnl_put_u32(&w, 2, 7 + i);
		assert_int_equal(emnl_msg_end(&w), 28);
	}
	assert_bytes(buf, emnl_writer_len(&w), two, sizeof(two));
	/* No room: the third message is taken out whole. */
	emnl_msg_begin_genl(&w, 0x1a, 2, 7, 0, 1, 1);
	emnl_put(&w, 3, big, 100);
	assert_int_equal(emnl_writer_error(&w), -EMSGSIZE);
	emnl_put_u32(&w, 2, 9); /* after a failure: nothing */
	assert_int_equal(emnl_msg_end(&w), -EMSGSIZE);
	assert_bytes(buf, emnl_writer_len(&w), two, sizeof(two));
	/* A payload too long for nla_len: -EINVAL, whatever the room. */
	emnl_msg_begin_genl(&w, 0x1a, 2, 7, 0, 1, 1);
	emnl_put(&w, 3, big, 65532);
	assert_int_equal(emnl_msg_end(&w), -EINVAL);
	assert_int_equal(emnl_writer_len(&w), sizeof(two));
	/* The limit: refused for a message after the first, not for the first. */
	emnl_writer_set_limit(&w, 60);
	emnl_msg_begin_genl(&w, 0x1a, 2, 7, 0, 1, 1);
	assert_int_equal(emnl_msg_end(&w), -EMSGSIZE); /* 56 + 20 > 60 */
	emnl_writer_truncate(&w, 0);
	emnl_msg_begin_genl(&w, 0x1a, 2, 7, 0, 1, 1);
	emnl_put(&w, 3, big, 60);
	assert_int_equal(emnl_msg_end(&w), 84); /* the first may pass it */
	/* A nest closed with its length; a cancelled one leaves nothing. */
	emnl_writer_init(&w, buf, sizeof(buf), EMNL_PAD_NEVER);
	emnl_msg_begin_genl(&w, 0x1a, 0, 1, 0, 1, 1);
	nest = emnl_nest_begin(&w, 4);
	emnl_put_u32(&w, 1, 3);
	emnl_nest_end(&w, nest);
	nest = emnl_nest_begin(&w, 5);
	emnl_put_u32(&w, 1, 4);
	emnl_nest_cancel(&w, nest);
	assert_int_equal(emnl_msg_end(&w), 32);
	{
		static const uint8_t want[] MSGALIGN = {
			HDR(32, 0, 1, 1), NLA(12, 4 | NLA_F_NESTED), U32A(1, 3),
		};

		assert_bytes(buf, emnl_writer_len(&w), want, sizeof(want));
	}
}

/* The u64 pad rule counts alignment from the datagram's start, also when the
 * writer's buffer starts inside it (emnl_writer_init_at). */
static void test_writer_pad_rule(void **state)
{
	uint8_t dgram[128] MSGALIGN;
	struct emnl_writer w;

	(void)state;
	for (size_t shift = 0; shift < 8; shift += 4) {
		/* Header 20 bytes: a u64's header at 20 + shift. */
		emnl_writer_init_at(&w, dgram + shift, sizeof(dgram) - shift, dgram, EMNL_PAD_ALIGN8);
		emnl_msg_begin_genl(&w, 0x1a, 0, 1, 0, 1, 1);
		emnl_put_u64_pad(&w, 3, 1, 1);
		/* at 20 (shift 0): not 8-aligned, no pad; at 24 (shift 4): a pad */
		assert_int_equal(emnl_msg_end(&w), shift ? 36 : 32);
		emnl_writer_init(&w, dgram, sizeof(dgram), EMNL_PAD_NEVER);
		emnl_msg_begin_genl(&w, 0x1a, 0, 1, 0, 1, 1);
		emnl_put_u64_pad(&w, 3, 1, 1);
		assert_int_equal(emnl_msg_end(&w), 32); /* never in NEVER mode */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_request),
		cmocka_unit_test(test_golden_pd_reply),
		cmocka_unit_test(test_golden_perf_table),
		cmocka_unit_test(test_golden_deleted_event),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_builder_checks),
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_wire_forms),
		cmocka_unit_test(test_decode_lenient_and_errors),
		cmocka_unit_test(test_tree_memory),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_pad_rule),
	};

	return cmocka_run_group_tests(tests, load_em_ctrl, free_em_ctrl);
}
