/*
 * libFuzzer target: lib/nl's strict request validation and extended-ack
 * encoding, fed by the spec-driven request generator (reqgen.c).
 *
 * The input's first byte picks the family (dev-energymodel or nlctrl) and the
 * mode. In generated mode the rest of the input is the generator's stream of
 * choices — which operation, which attributes and values, which mutation —
 * so libFuzzer's byte mutations become structural ones and its coverage
 * guides them. In raw mode the rest is the datagram itself (seeds such as
 * the syzkaller case are raw). Each message of the datagram goes through
 * what a server does before its handler runs, and the fuzzer insists on:
 *   - a generated valid request passes validation (no false refusals), and a
 *     required attribute it left out is reported with MISS_TYPE;
 *   - a mutation that breaks the request whatever else it holds is refused;
 *   - every refusal is structured: -EINVAL, -ERANGE (the kernel's parser
 *     answers some policy violations so) or -EOPNOTSUPP, a message, and an
 *     offset (when given) that points at an aligned attribute inside the
 *     message;
 *   - the error survives emnl_extack_put()/emnl_extack_parse() unchanged, in
 *     all four combinations of capped and extended acks, with the request
 *     echoed as it came;
 *   - what passes a strict parse decodes, with the command it was sent with
 *     (a request the kernel does not parse — no policy — or parses
 *     liberally may hold what the decoder refuses).
 * A broken invariant aborts with the mutation's name; ASan and UBSan catch
 * any read outside the datagram.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "reqgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FAMILY_ID 0x20

static struct emnl_spec *specs[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	specs[0] = rg_spec_load("dev-energymodel", "fuzz-nl-request", 1);
	specs[1] = rg_spec_load("nlctrl", "fuzz-nl-request", 1);
	return 0;
}

static void die(const char *what, const struct rg_req *r, const struct emnl_error *e)
{
	fprintf(stderr, "fuzz-nl-request: %s (mutation %s, op %s%s): err %d '%s'\n", what,
		r ? rg_mut_name(r->mut) : "raw", r && r->op ? r->op->name : "?",
		r && r->dump ? " dump" : "", e ? e->err : 0, e ? e->msg : "");
	abort();
}

/* The attributes a handler requires: dev-energymodel's do requests need
 * every attribute they list (the domain id); nlctrl's take either. */
static size_t required_of(const struct emnl_spec *spec, const struct emnl_op *op,
			  const struct nlmsghdr *nlh, uint16_t *req)
{
	size_t n = 0;

	if (!op || strcmp(spec->name, "dev-energymodel") ||
	    (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
		return 0;
	for (size_t i = 0; i < op->do_req.n && n < 8; i++)
		req[n++] = op->do_req.attrs[i]->type;
	return n;
}

/* Encode @e as the answer to @nlh in every ack mode and read it back. */
static void check_extack(const struct nlmsghdr *nlh, const struct emnl_error *e,
			 const struct rg_req *r)
{
	static uint8_t out[EMNL_DGRAM_MAX + 1024] __attribute__((aligned(8)));

	for (int mode = 0; mode < 4; mode++) {
		bool cap = mode & 1, ext = mode & 2;
		struct emnl_error back;
		const struct nlmsghdr *echo = NULL;
		int n = emnl_extack_put(out, sizeof(out), nlh, e, cap, ext);

		if (n < 0)
			die("extack_put failed", r, e);
		if (emnl_extack_parse((const struct nlmsghdr *)out, &back, &echo) < 0)
			die("our own extack does not parse", r, e);
		if (back.err != e->err)
			die("extack changed the errno", r, e);
		if (!echo || memcmp(echo, nlh, sizeof(*nlh)))
			die("extack does not echo the request header", r, e);
		if (!cap && e->err && memcmp(echo, nlh, nlh->nlmsg_len))
			die("uncapped extack does not echo the whole request", r, e);
		if (!ext || !e->err)
			continue;
		if (strcmp(back.msg, e->msg))
			die("extack changed the message", r, e);
		if (back.has_offset != e->has_offset || (e->has_offset && back.offset != e->offset))
			die("extack changed the offset", r, e);
		if (back.has_miss_type != e->has_miss_type ||
		    (e->has_miss_type && back.miss_type != e->miss_type))
			die("extack changed the missing type", r, e);
		if (back.has_policy != e->has_policy ||
		    (e->has_policy && (back.policy.type != e->policy.type ||
				       back.policy.has != e->policy.has ||
				       back.policy.max_u != e->policy.max_u ||
				       back.policy.max_len != e->policy.max_len)))
			die("extack changed the policy", r, e);
	}
}

/* Validate one message at @nlh with @len bytes left in the datagram. */
static void check_one(const struct emnl_spec *spec, const struct nlmsghdr *nlh, size_t len,
		      const struct rg_req *r)
{
	struct emnl_error e, e2;
	struct emnl_msg_info info = {0};
	uint16_t req[8];
	size_t n_req;
	int err = emnl_validate(spec, nlh, len, false, NULL, 0, &info, &e);
	const struct emnl_op *op = info.op;

	if (r && r->mut == RG_MUT_NONE && err)
		die("a valid generated request was refused", r, &e);
	if (r && r->must_fail && !err)
		die("a broken request was accepted", r, &e);
	if (err) {
		if (err != e.err || (err != -EINVAL && err != -EOPNOTSUPP && err != -ERANGE) ||
		    !e.msg[0])
			die("unstructured refusal", r, &e);
		/* (Trailing bytes shorter than a header are pointed at too.) */
		if (e.has_offset && (e.offset < NLMSG_HDRLEN + GENL_HDRLEN || e.offset % 4 ||
				     e.offset >= nlh->nlmsg_len))
			die("error offset outside the message's attributes", r, &e);
	} else {
		n_req = required_of(spec, op, nlh, req);
		if (n_req && emnl_validate(spec, nlh, len, false, req, n_req, NULL, &e2)) {
			bool present = false;

			if (e2.err != -EINVAL || !e2.has_miss_type)
				die("missing attribute reported without MISS_TYPE", r, &e2);
			for (size_t i = 0; i < n_req; i++)
				present |= req[i] == e2.miss_type;
			if (!present)
				die("MISS_TYPE names an attribute that is not required", r, &e2);
			e = e2;
		}
	}
	/* A server answers only messages whose length it could read (the kernel
	 * drops the others without a word). */
	if (len >= NLMSG_HDRLEN && nlh->nlmsg_len >= NLMSG_HDRLEN && nlh->nlmsg_len <= len)
		check_extack(nlh, &e, r);
	if (!err && info.parsed &&
	    !(op->dont_validate & (info.dump ? EMNL_DONT_VALIDATE_DUMP_STRICT
					     : EMNL_DONT_VALIDATE_STRICT))) {
		struct emnl_attrs *tree = NULL;
		struct emnl_hdr h;
		struct json_object *j;

		if (emnl_decode(nlh, op->set, &h, &tree, &e2))
			die("a validated request does not decode", r, &e2);
		if (h.cmd != ((const struct genlmsghdr *)NLMSG_DATA(nlh))->cmd)
			die("decoded command differs", r, &e2);
		j = emnl_to_json(tree);
		if (!j)
			die("a validated request has no JSON form", r, &e2);
		json_object_put(j);
		emnl_attrs_free(tree);
	}
}

/* Walk the datagram's messages as a server would. The datagram is copied
 * to a heap block of exactly its size, so that ASan sees any read past it. */
static void check_datagram(const struct emnl_spec *spec, const uint8_t *dgram, size_t len,
			   const struct rg_req *r)
{
	uint8_t *buf = malloc(len ? len : 1);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	bool first = true;

	if (!buf)
		abort();
	memcpy(buf, dgram, len);

	for (;;) {
		check_one(spec, nlh, len, first ? r : NULL);
		first = false;
		if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len ||
		    NLMSG_ALIGN(nlh->nlmsg_len) >= len)
			break;
		len -= NLMSG_ALIGN(nlh->nlmsg_len);
		nlh = (const struct nlmsghdr *)((const uint8_t *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[EMNL_DGRAM_MAX] __attribute__((aligned(8)));
	const struct emnl_spec *spec;
	struct rg_src src;
	struct rg_req r;
	size_t len;

	if (size < 1)
		return 0;
	spec = specs[(data[0] >> 1) & 1];
	if (!(data[0] & 1)) {
		/* Raw: the datagram as given. */
		check_datagram(spec, data + 1, size - 1 < EMNL_DGRAM_MAX ? size - 1 : EMNL_DGRAM_MAX,
			       NULL);
		return 0;
	}
	rg_src_bytes(&src, data + 1, size - 1);
	len = rg_generate(&src, spec, FAMILY_ID, RG_MUT__COUNT, buf, sizeof(buf), &r);
	if (len)
		check_datagram(spec, buf, len, &r);
	return 0;
}
