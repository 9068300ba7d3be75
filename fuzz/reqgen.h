/*
 * reqgen.h — spec-driven generic netlink request generator (the syzkaller idea).
 *
 * From a YNL spec loaded by lib/nl, build requests the family accepts (every
 * operation with a do or a dump, its listed attributes with values of the right
 * type, enum values and flag bits the spec defines, nests filled from their
 * sets), then break them in one of the ways a hostile or buggy client would:
 * wrong types and lengths; missing, extra, duplicate attributes; bad nesting;
 * truncated headers; huge lengths; wrong flags and reserved bits.
 *
 * Every choice is drawn from a struct rg_src: either the bytes of a fuzzer
 * input (so libFuzzer's byte mutations become structural mutations of the
 * request, and coverage guides them), or a seeded PRNG (for bounded,
 * reproducible runs in tests/hardening). An exhausted byte source keeps
 * answering 0, so every input, however short, makes a request.
 *
 * Used by fuzz/fuzz_nl_request.c (in-process, against lib/nl's validation
 * and extack), fuzz/fuzz_emd.c (in-process, against emd's request handling)
 * and tests/hardening/blackbox.c (over a running emd's socket).
 */
#ifndef EMKIT_FUZZ_REQGEN_H
#define EMKIT_FUZZ_REQGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emkit/nl.h"

/* Where choices come from. */
struct rg_src {
	const uint8_t *p; /* fuzzer bytes (NULL: use the PRNG) */
	size_t len, pos;
	uint64_t rng;     /* xorshift state when p == NULL */
};

/* rg_src_bytes - choices from @len bytes at @p. */
void rg_src_bytes(struct rg_src *s, const uint8_t *p, size_t len);
/* rg_src_seed - choices from a PRNG seeded with @seed (any value). */
void rg_src_seed(struct rg_src *s, uint64_t seed);
/* rg_pick - a choice in 0..@n-1 (0 when @n is 0). */
uint32_t rg_pick(struct rg_src *s, uint32_t n);
/* rg_u64 - a 64-bit value. */
uint64_t rg_u64(struct rg_src *s);

/* How a generated request was broken (RG_MUT_NONE: it is valid). */
enum rg_mut {
	RG_MUT_NONE,
	RG_MUT_ATTR_TYPE_UNKNOWN,  /* an attribute's type beyond the set's max */
	RG_MUT_ATTR_TYPE_ZERO,     /* an attribute of type 0 */
	RG_MUT_ATTR_TYPE_OTHER,    /* an attribute renamed to another of the set */
	RG_MUT_ATTR_LEN,           /* a scalar payload of the wrong length */
	RG_MUT_ATTR_DROP,          /* an attribute removed (may be required) */
	RG_MUT_ATTR_EXTRA,         /* an attribute of the set the op does not list */
	RG_MUT_ATTR_DUP,           /* an attribute given twice */
	RG_MUT_NEST_FLAG,          /* NLA_F_NESTED on a scalar */
	RG_MUT_NEST_DEEP,          /* nests inside nests beyond the recursion limit */
	RG_MUT_NEST_SCALAR,        /* a nest whose payload is a bare scalar */
	RG_MUT_STRING_NO_NUL,      /* a string without its terminating NUL */
	RG_MUT_ENUM_VALUE,         /* a value the enum or flags do not define */
	RG_MUT_NLA_LEN_HUGE,       /* nla_len beyond the message */
	RG_MUT_NLA_LEN_SHORT,      /* nla_len below the attribute header */
	RG_MUT_NLMSG_LEN_HUGE,     /* nlmsg_len beyond the datagram */
	RG_MUT_NLMSG_LEN_SHORT,    /* nlmsg_len below the headers */
	RG_MUT_TRUNCATE,           /* the datagram cut short, lengths unchanged */
	RG_MUT_TRAILING,           /* bytes after the last attribute, < a header */
	RG_MUT_RESERVED,           /* genetlink reserved field non-zero */
	RG_MUT_CMD,                /* a command the family does not have */
	RG_MUT_FLAGS,              /* random nlmsg_flags (no REQUEST, DUMP on a do...) */
	RG_MUT_VERSION,            /* another genetlink version */
	RG_MUT_FAMILY,             /* another nlmsg_type */
	RG_MUT_BYTE_FLIP,          /* random bytes changed anywhere */
	RG_MUT_TWO_MESSAGES,       /* a second message after the first, same datagram */
	RG_MUT__COUNT,
};

/* rg_mut_name - a short name for @m ("attr-type-unknown", ...). */
const char *rg_mut_name(enum rg_mut m);

/* What was generated. */
struct rg_req {
	const struct emnl_op *op;
	bool dump;
	enum rg_mut mut;
	bool must_fail; /* the mutation makes the request invalid whatever the rest */
	size_t len;     /* datagram length */
	/* How the kernel parses this request's attributes: not at all when the
	 * operation names none (no policy), liberally under dont-validate. */
	bool parsed, strict;
};

/*
 * rg_spec_load - emkit's own spec of family @name (spec/NAME.yaml in the
 * source tree, EMKIT_SPEC_DIR). On failure prints why, prefixed by @who, to
 * stderr and exits with @status.
 */
struct emnl_spec *rg_spec_load(const char *name, const char *who, int status);

/*
 * rg_valid_possible - false when some attribute of @spec can carry no value
 * that validation accepts (an empty enum, or an enum none of whose entries
 * fits the attribute's width: a negative entry in a u8): a valid request
 * naming it cannot be generated.
 */
bool rg_valid_possible(const struct emnl_spec *spec);

/*
 * rg_generate - build one request datagram for @spec into @buf.
 * @family_id: nlmsg_type of the family
 * @mut: the mutation to apply; RG_MUT__COUNT lets the source choose one
 *       (valid requests included)
 * @out: filled with what was made
 * @size must be at least 512; requests are far smaller than EMNL_DGRAM_MAX.
 * Returns the datagram length (> 0), or 0 when @spec has no request operation.
 */
size_t rg_generate(struct rg_src *s, const struct emnl_spec *spec, uint16_t family_id,
		   enum rg_mut mut, uint8_t *buf, size_t size, struct rg_req *out);

#endif
