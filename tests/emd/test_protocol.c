/*
 * emd's wire protocol against the real binary: every reply compared byte for
 * byte with a message built here with libmnl from the spec's facts (family
 * and attribute numbers, the kernel's encoding rules: ctrl_fill_info(),
 * ctrl_dumppolicy(), netlink_policy_dump_write_attr()), and every error path
 * with its exact errno, extack message, offset, policy and missing type:
 * the kernel's errno and words where the kernel has them (lib/nlattr.c,
 * genetlink.c, em_netlink.c of 6.19), emd's message and offset added where
 * it sends none. Includes the syzkaller regression (get-perf-domains with an
 * unknown id must answer the fixed kernel's -EINVAL, not crash), attributes
 * of a dump request ignored as the kernel ignores them, the last of two
 * equal attributes winning, and the kernel's u64 pad rule in both modes.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* The embedded RK3399 model, as the kernel would report it. */
struct st {
	uint64_t perf, freq, power, cost, flags;
};
static const struct st little[] = {
	{109, 408000, 27769, 2547, 1}, {161, 600000, 40837, 2536, 0},
	{219, 816000, 58956, 2692, 0}, {271, 1008000, 86247, 3182, 0},
	{322, 1200000, 120000, 3726, 0}, {381, 1416000, 179212, 4703, 0},
};

/* Compare two packets, reporting the first differing byte. */
static void assert_bytes(const void *got, size_t got_len, const void *want, size_t want_len)
{
	const uint8_t *g = got, *w = want;

	for (size_t i = 0; i < got_len && i < want_len; i++)
		if (g[i] != w[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i, g[i], w[i]);
	assert_int_equal(got_len, want_len);
}

/* The header of a reply to us. */
static struct nlmsghdr *reply_begin(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
				    uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = req_begin(buf, type, flags, seq, cmd, version);

	nlh->nlmsg_pid = (uint32_t)getpid();
	return nlh;
}

/* The capped ack of a request header @req. */
static size_t build_ack(void *buf, const struct nlmsghdr *req)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = (uint32_t)getpid();
	err->error = 0;
	err->msg = *req;
	return nlh->nlmsg_len;
}

/* The next packets on @fd: exactly the reply @w, then, in its own packet,
 * exactly the ack of @r (built over @w). */
static void reply_then_ack(int fd, struct nlmsghdr *w, const struct nlmsghdr *r)
{
	static uint64_t got[1024];
	size_t n = recv_pkt(fd, got, sizeof(got));

	assert_bytes(got, n, w, w->nlmsg_len);
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, w, build_ack(w, r));
}

/* A request with one u32 attribute. */
static size_t req_u32(void *buf, uint16_t type, uint16_t flags, uint32_t seq, uint8_t cmd,
		      uint16_t attr, uint32_t v)
{
	struct nlmsghdr *nlh = req_begin(buf, type, flags, seq, cmd, 1);

	mnl_attr_put_u32(nlh, attr, v);
	return nlh->nlmsg_len;
}

static void test_getfamily_by_name_golden(void **state)
{
	uint64_t req[64], want[1024];
	struct nlmsghdr *r, *w;
	struct nlattr *ops, *op, *grps, *grp;
	int fd = emd_connect(&emd_default);

	(void)state;
	r = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, 11, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(r, CTRL_ATTR_FAMILY_NAME, "dev-energymodel");
	send_pkt(fd, r, r->nlmsg_len);

	w = reply_begin(want, GENL_ID_CTRL, 0, 11, CTRL_CMD_NEWFAMILY, 2);
	mnl_attr_put_strz(w, CTRL_ATTR_FAMILY_NAME, "dev-energymodel");
	mnl_attr_put_u16(w, CTRL_ATTR_FAMILY_ID, FAM_ID);
	mnl_attr_put_u32(w, CTRL_ATTR_VERSION, 1);
	mnl_attr_put_u32(w, CTRL_ATTR_HDRSIZE, 0);
	mnl_attr_put_u32(w, CTRL_ATTR_MAXATTR, 0);
	/* The controller's nests carry no NLA_F_NESTED. */
	ops = mnl_attr_nest_start(w, CTRL_ATTR_OPS);
	ops->nla_type = CTRL_ATTR_OPS;
	op = mnl_attr_nest_start(w, 1);
	op->nla_type = 1;
	mnl_attr_put_u32(w, CTRL_ATTR_OP_ID, 1);
	mnl_attr_put_u32(w, CTRL_ATTR_OP_FLAGS, GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL);
	mnl_attr_nest_end(w, op);
	op = mnl_attr_nest_start(w, 2);
	op->nla_type = 2;
	mnl_attr_put_u32(w, CTRL_ATTR_OP_ID, 2);
	mnl_attr_put_u32(w, CTRL_ATTR_OP_FLAGS, GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL);
	mnl_attr_nest_end(w, op);
	mnl_attr_nest_end(w, ops);
	grps = mnl_attr_nest_start(w, CTRL_ATTR_MCAST_GROUPS);
	grps->nla_type = CTRL_ATTR_MCAST_GROUPS;
	grp = mnl_attr_nest_start(w, 1);
	grp->nla_type = 1;
	mnl_attr_put_u32(w, CTRL_ATTR_MCAST_GRP_ID, EVENT_GRP);
	mnl_attr_put_strz(w, CTRL_ATTR_MCAST_GRP_NAME, "event");
	mnl_attr_nest_end(w, grp);
	mnl_attr_nest_end(w, grps);

	reply_then_ack(fd, w, r);
	close(fd);
}

static void test_getfamily_by_id_and_dump(void **state)
{
	uint64_t req[64], got[4096];
	struct nlmsghdr *r;
	const struct nlmsghdr *m;
	int fd = emd_connect(&emd_default), len;
	const char *names[2] = {NULL, NULL};
	size_t n, count = 0;
	bool done = false;

	(void)state;
	/* By id: the same family. */
	r = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST, 12, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_u16(r, CTRL_ATTR_FAMILY_ID, FAM_ID);
	send_pkt(fd, r, r->nlmsg_len);
	n = recv_pkt(fd, got, sizeof(got));
	m = (const void *)got;
	assert_int_equal(m->nlmsg_len, n);
	assert_string_equal(mnl_attr_get_str((const struct nlattr *)((const char *)got + 20)),
			    "dev-energymodel");
	/* The dump: nlctrl and dev-energymodel, then NLMSG_DONE. */
	r = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP, 13, CTRL_CMD_GETFAMILY, 1);
	send_pkt(fd, r, r->nlmsg_len);
	while (!done) {
		len = (int)recv_pkt(fd, got, sizeof(got));
		for (m = (const void *)got; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			assert_int_equal(m->nlmsg_seq, 13);
			assert_true(m->nlmsg_flags & NLM_F_MULTI);
			if (m->nlmsg_type == NLMSG_DONE) {
				assert_int_equal(m->nlmsg_len, 20);
				assert_int_equal(*(const int *)mnl_nlmsg_get_payload(m), 0);
				done = true;
				continue;
			}
			assert_true(count < 2);
			names[count++] = mnl_attr_get_str(
				(const struct nlattr *)((const char *)m + 20));
		}
		assert_int_equal(len, 0);
	}
	assert_int_equal(count, 2);
	assert_string_equal(names[0], "nlctrl");
	assert_string_equal(names[1], "dev-energymodel");
	close(fd);
}

/* get-perf-domains do for domain 0: reply, then the ack. */
static void test_get_domain_golden(void **state)
{
	uint64_t req[64], want[512];
	struct nlmsghdr *r, *w;
	int fd = emd_connect(&emd_default);
	size_t n;

	(void)state;
	n = req_u32(req, FAM_ID, NLM_F_REQUEST | NLM_F_ACK, 31, 1, 2, 0);
	r = (struct nlmsghdr *)req;
	send_pkt(fd, req, n);
	w = reply_begin(want, FAM_ID, 0, 31, 1, 1);
	mnl_attr_put_u32(w, 2, 0);
	mnl_attr_put_u64(w, 3, 1);
	for (uint64_t cpu = 0; cpu < 4; cpu++)
		mnl_attr_put_u64(w, 4, cpu);
	reply_then_ack(fd, w, r);
	close(fd);
}

/* get-perf-table do for domain 0, without NLM_F_ACK: the reply and nothing else. */
static void test_get_table_golden(void **state)
{
	uint64_t req[64], got[1024], want[1024];
	struct nlmsghdr *w;
	int fd = emd_connect(&emd_default);
	size_t n;

	(void)state;
	n = req_u32(req, FAM_ID, NLM_F_REQUEST, 41, 2, 1, 0);
	send_pkt(fd, req, n);
	w = reply_begin(want, FAM_ID, 0, 41, 2, 1);
	mnl_attr_put_u32(w, 1, 0);
	for (size_t i = 0; i < sizeof(little) / sizeof(little[0]); i++) {
		struct nlattr *nest = mnl_attr_nest_start(w, 2);

		mnl_attr_put_u64(w, 2, little[i].perf);
		mnl_attr_put_u64(w, 3, little[i].freq);
		mnl_attr_put_u64(w, 4, little[i].power);
		mnl_attr_put_u64(w, 5, little[i].cost);
		mnl_attr_put_u64(w, 6, little[i].flags);
		mnl_attr_nest_end(w, nest);
	}
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, w->nlmsg_len);
	/* No ack was asked for: the next packet answers the next request. */
	n = req_u32(req, FAM_ID, NLM_F_REQUEST, 42, 2, 1, 9);
	send_pkt(fd, req, n);
	n = recv_pkt(fd, got, sizeof(got));
	expect_error(got, n, 42, -EINVAL, "no performance domain with id 9");
	close(fd);
}

/* ---- every error path, one table ------------------------------------------------- */

/* One attribute of a request: a u16, u32 or u64 number, or a string. */
struct attr {
	uint16_t type;
	char kind; /* 'h' u16, 'u' u32, 'U' u64, 's' string; 0: none */
	uint64_t v;
	const char *s;
};

#define NONE (-1)
/* A flag of the table's own: send the message without NLM_F_REQUEST. */
#define NOT_REQUEST 0x8000

/*
 * A request and the NLMSG_ERROR emd must answer it with: errno, extack
 * message (NULL: not checked), the offset of the bad attribute, the missing
 * type (NONE: the TLV must be absent) and whether the bad attribute's policy
 * comes with it. Where the kernel answers with words of its own (lib/nlattr.c
 * validate_nla(), __nla_validate_parse(); genetlink.c genl_family_rcv_msg())
 * emd answers with the same; where it answers with a bare errno (an unknown
 * family, command or domain; a missing id) emd adds a message, offset or
 * missing type of its own (docs/compat.md lists which).
 */
static const struct err_case {
	const char *what;
	uint16_t type, flags;          /* NLM_F_REQUEST is added unless NOT_REQUEST */
	uint8_t cmd, reserved;
	struct attr attrs[3];
	uint16_t trailing_nla_len; /* then a 4-byte attribute header this long */
	uint32_t claim_len;        /* nlmsg_len to claim (0: the real one) */
	int err;
	const char *msg;
	int offset, miss_type;
	bool policy;
} err_cases[] = {
	/* nlctrl */
	{"getfamily of an unknown name", GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0,
	 {{CTRL_ATTR_FAMILY_NAME, 's', 0, "nl80211"}}, 0, 0,
	 -ENOENT, "no family named 'nl80211'", 20, NONE, false},
	{"getfamily without name or id", GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, {{0}}, 0, 0,
	 -EINVAL, "give the family's name or id", NONE, CTRL_ATTR_FAMILY_NAME, false},
	{"getfamily of a name longer than GENL_NAMSIZ - 1", GENL_ID_CTRL, NLM_F_ACK,
	 CTRL_CMD_GETFAMILY, 0, {{CTRL_ATTR_FAMILY_NAME, 's', 0, "abcdefghijklmnop"}}, 0, 0,
	 -EINVAL, "Attribute failed policy validation", 20, NONE, true},
	{"getpolicy without a family", GENL_ID_CTRL, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0,
	 {{0}}, 0, 0, -EINVAL, "give the family's name or id", NONE, CTRL_ATTR_FAMILY_NAME, false},
	{"getpolicy of an op the family lacks", GENL_ID_CTRL, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0,
	 {{CTRL_ATTR_FAMILY_ID, 'h', FAM_ID, NULL}, {CTRL_ATTR_OP, 'u', 99, NULL}}, 0, 0,
	 -ENOENT, "family 'dev-energymodel' has no command 99", 28, NONE, false},
	{"getpolicy with an attribute its policy leaves unspecified", GENL_ID_CTRL, NLM_F_DUMP,
	 CTRL_CMD_GETPOLICY, 0, {{CTRL_ATTR_FAMILY_ID, 'h', FAM_ID, NULL}, {5, 'u', 0, NULL}}, 0, 0,
	 -EINVAL, "Unsupported attribute", 28, NONE, false},
	{"an unknown family id", 0x33, NLM_F_ACK, 1, 0, {{0}}, 0, 0,
	 -ENOENT, "no family with id 51", NONE, NONE, false},
	/* the syzkaller bug: an id no domain has; the fixed kernel's -EINVAL */
	{"get-perf-domains of an unknown id", FAM_ID, NLM_F_ACK, 1, 0, {{2, 'u', 7, NULL}}, 0, 0,
	 -EINVAL, "no performance domain with id 7", 20, NONE, false},
	{"get-perf-table of an unknown id", FAM_ID, NLM_F_ACK, 2, 0, {{1, 'u', 7, NULL}}, 0, 0,
	 -EINVAL, "no performance domain with id 7", 20, NONE, false},
	/* the last of two ids counts (nla_parse()): 7 after 0 */
	{"two ids, the last unknown", FAM_ID, NLM_F_ACK, 1, 0,
	 {{2, 'u', 0, NULL}, {2, 'u', 7, NULL}}, 0, 0,
	 -EINVAL, "no performance domain with id 7", 28, NONE, false},
	/* a missing id */
	{"get-perf-domains without an id", FAM_ID, NLM_F_ACK, 1, 0, {{0}}, 0, 0,
	 -EINVAL, "missing attribute 'perf-domain-id'", NONE, 2, false},
	{"get-perf-table without an id", FAM_ID, NLM_F_ACK, 2, 0, {{0}}, 0, 0,
	 -EINVAL, "missing attribute 'perf-domain-id'", NONE, 1, false},
	/* the kernel's strict parse of the do requests' policies (maxattr 2 / 1) */
	{"a u32 of 8 bytes", FAM_ID, 0, 1, 0, {{2, 'U', 0, NULL}}, 0, 0,
	 -EINVAL, "invalid attribute length", 20, NONE, true},
	{"the pad attribute (no policy entry)", FAM_ID, 0, 1, 0, {{1, 'u', 0, NULL}}, 0, 0,
	 -EINVAL, "Unsupported attribute", 20, NONE, false},
	{"an unknown attribute after a good one", FAM_ID, 0, 1, 0,
	 {{2, 'u', 0, NULL}, {9, 'u', 0, NULL}}, 0, 0, -EINVAL, "Unknown attribute type", 28, NONE,
	 false},
	{"a reply attribute in a request (above maxattr)", FAM_ID, 0, 2, 0,
	 {{1, 'u', 0, NULL}, {2, 'u', 0, NULL}}, 0, 0, -EINVAL, "Unknown attribute type", 28, NONE,
	 false},
	{"an unknown command", FAM_ID, 0, 9, 0, {{0}}, 0, 0,
	 -EOPNOTSUPP, "unknown command 9", NONE, NONE, false},
	{"a dump of a do-only op", FAM_ID, NLM_F_DUMP, 2, 0, {{0}}, 0, 0,
	 -EOPNOTSUPP, "'get-perf-table' cannot be dumped", NONE, NONE, false},
	{"a reserved genetlink field", FAM_ID, 0, 1, 5, {{2, 'u', 0, NULL}}, 0, 0,
	 -EINVAL, "genlmsghdr.reserved field is not 0", NONE, NONE, false},
	{"trailing bytes: an attribute header cut short", FAM_ID, 0, 1, 0, {{2, 'u', 0, NULL}}, 2, 0,
	 -EINVAL, "bytes leftover after parsing attributes", NONE, NONE, false},
	{"nlmsg_len beyond the packet", FAM_ID, 0, 1, 0, {{0}}, 0, 400,
	 -EINVAL, "bad nlmsg_len 400 (20 bytes left in the packet)", NONE, NONE, false},
	/* the seqpacket transport's commands: strict, JOIN/LEAVE acked */
	{"join an unknown group", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0,
	 {{EMNL_SEQPACKET_ATTR_GROUP, 'u', 5, NULL}}, 0, 0,
	 -ENOENT, "no multicast group with that id", 20, NONE, false},
	{"join without a group", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0, {{0}}, 0, 0,
	 -EINVAL, "missing the group id", NONE, EMNL_SEQPACKET_ATTR_GROUP, false},
	{"join with another attribute", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0,
	 {{2, 'u', EVENT_GRP, NULL}}, 0, 0, -EINVAL, "Unknown attribute type", 20, NONE, false},
	{"receive length without a length", GENL_ID_CTRL, 0, EMNL_SEQPACKET_CMD_RECV_LEN, 0, {{0}},
	 0, 0, -EINVAL, "missing the receive length", NONE, EMNL_SEQPACKET_ATTR_LEN, false},
	{"receive length of a u16", GENL_ID_CTRL, 0, EMNL_SEQPACKET_CMD_RECV_LEN, 0,
	 {{EMNL_SEQPACKET_ATTR_LEN, 'h', 4096, NULL}}, 0, 0,
	 -EINVAL, "invalid attribute length", 20, NONE, false},
	/* acks */
	{"join the event group", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0,
	 {{EMNL_SEQPACKET_ATTR_GROUP, 'u', EVENT_GRP, NULL}}, 0, 0, 0, NULL, NONE, NONE, false},
	{"a receive length, acked as asked", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_RECV_LEN, 0,
	 {{EMNL_SEQPACKET_ATTR_LEN, 'u', 4096, NULL}}, 0, 0, 0, NULL, NONE, NONE, false},
	{"not a request: skipped, acked as asked", FAM_ID, NLM_F_ACK | NOT_REQUEST, 1, 0,
	 {{2, 'u', 7, NULL}}, 0, 0, 0, NULL, NONE, NONE, false},
};

/* Build @c's request (sequence @seq) in @buf; returns the bytes to send. */
static size_t build_case(void *buf, const struct err_case *c, uint32_t seq)
{
	uint16_t flags = c->flags & NOT_REQUEST ? (uint16_t)(c->flags & ~NOT_REQUEST)
					       : (uint16_t)(c->flags | NLM_F_REQUEST);
	struct nlmsghdr *r = req_begin(buf, c->type, flags, seq, c->cmd, 1);
	size_t len;

	((struct genlmsghdr *)mnl_nlmsg_get_payload(r))->reserved = c->reserved;
	for (const struct attr *a = c->attrs; a < c->attrs + 3 && a->kind; a++) {
		switch (a->kind) {
		case 'h': mnl_attr_put_u16(r, a->type, (uint16_t)a->v); break;
		case 'u': mnl_attr_put_u32(r, a->type, (uint32_t)a->v); break;
		case 'U': mnl_attr_put_u64(r, a->type, a->v); break;
		default: mnl_attr_put_strz(r, a->type, a->s); break;
		}
	}
	if (c->trailing_nla_len) {
		memset((char *)r + r->nlmsg_len, 0, 4);
		((uint16_t *)((char *)r + r->nlmsg_len))[0] = c->trailing_nla_len;
		r->nlmsg_len += 4;
	}
	len = r->nlmsg_len;
	if (c->claim_len)
		r->nlmsg_len = c->claim_len;
	return len;
}

static void test_error_cases(void **state)
{
	uint64_t req[64], got[256];
	int fd = emd_connect(&emd_default);

	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		uint32_t seq = 100 + (uint32_t)i;
		struct emnl_error e;
		size_t n;

		print_message("# %s\n", c->what);
		send_pkt(fd, req, build_case(req, c, seq));
		n = recv_pkt(fd, got, sizeof(got));
		expect_error(got, n, seq, c->err, c->msg);
		e = parse_error(got, n);
		assert_int_equal(e.has_offset, c->offset != NONE);
		if (c->offset != NONE)
			assert_int_equal(e.offset, c->offset);
		assert_int_equal(e.has_miss_type, c->miss_type != NONE);
		if (c->miss_type != NONE)
			assert_int_equal(e.miss_type, c->miss_type);
		assert_int_equal(e.has_policy, c->policy);
	}
	/* emd is still serving: the reply, then the ack. */
	send_pkt(fd, req, req_u32(req, FAM_ID, NLM_F_REQUEST | NLM_F_ACK, 99, 1, 2, 1));
	recv_pkt(fd, got, sizeof(got));
	assert_int_equal(nl(got)->nlmsg_type, FAM_ID);
	expect_error(got, recv_pkt(fd, got, sizeof(got)), 99, 0, NULL);
	close(fd);
}

/* A dump's request attributes are not looked at: get-perf-domains' dump
 * has no policy (em_netlink_autogen.c: no .policy, no .maxattr), so the
 * kernel's genl_family_rcv_msg_attrs_parse() does not parse them at all —
 * an id, an unknown type, a bad nla_len, trailing bytes. The same dump. */
static void test_dump_request_attributes_ignored(void **state)
{
	uint64_t req[32], got[2][512];
	size_t n[2];
	int fd = emd_connect(&emd_default);

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, 60, 1, 1);

		if (i) {
			mnl_attr_put_u32(r, 2, 7);
			mnl_attr_put_u32(r, 99, 1);
			memcpy((char *)r + r->nlmsg_len, "\x28\x00\x00\x00\xff\xff", 6);
			r->nlmsg_len += 6;
		}
		send_pkt(fd, r, r->nlmsg_len);
		n[i] = recv_pkt(fd, got[i], sizeof(got[i]));
	}
	assert_bytes(got[1], n[1], got[0], n[0]);
	/* both domains (4 and 2 CPUs) and NLMSG_DONE: 88 + 64 + 20 bytes */
	assert_int_equal(n[0], 172);
	close(fd);
}

/* The policy a CTRL_CMD_GETPOLICY dump reports for a u32 attribute without
 * checks: { MIN_VALUE_U 0, MAX_VALUE_U 0xffffffff, TYPE U32 } in a nest
 * named by the attribute (netlink_policy_dump_write_attr()). */
static void put_u32_policy(struct nlmsghdr *w, uint16_t attr)
{
	struct nlattr *a = mnl_attr_nest_start(w, attr);

	mnl_attr_put_u64(w, NL_POLICY_TYPE_ATTR_MIN_VALUE_U, 0);
	mnl_attr_put_u64(w, NL_POLICY_TYPE_ATTR_MAX_VALUE_U, UINT32_MAX);
	mnl_attr_put_u32(w, NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U32);
	mnl_attr_nest_end(w, a);
}

/* One GETPOLICY message (ctrl_dumppolicy_prep()): nlctrl's header, version
 * 2, NLM_F_MULTI, the family's id. */
static struct nlmsghdr *policy_msg(void *buf, uint32_t seq)
{
	struct nlmsghdr *w = reply_begin(buf, GENL_ID_CTRL, NLM_F_MULTI, seq, CTRL_CMD_GETPOLICY, 2);

	mnl_attr_put_u16(w, CTRL_ATTR_FAMILY_ID, FAM_ID);
	return w;
}

/* A policy message at @at with CTRL_ATTR_OP_POLICY { cmd { DO: idx } }; where
 * the next one goes. */
static char *put_op_policy(char *at, uint32_t seq, uint16_t cmd, uint32_t do_idx)
{
	struct nlmsghdr *w = policy_msg(at, seq);
	struct nlattr *p = mnl_attr_nest_start(w, CTRL_ATTR_OP_POLICY);
	struct nlattr *o = mnl_attr_nest_start(w, cmd);

	mnl_attr_put_u32(w, CTRL_ATTR_POLICY_DO, do_idx);
	mnl_attr_nest_end(w, o);
	mnl_attr_nest_end(w, p);
	return at + w->nlmsg_len;
}

/* A policy message at @at with CTRL_ATTR_POLICY { idx { attr { u32 policy } } };
 * where the next one goes. */
static char *put_policy(char *at, uint32_t seq, uint16_t idx, uint16_t attr)
{
	struct nlmsghdr *w = policy_msg(at, seq);
	struct nlattr *p = mnl_attr_nest_start(w, CTRL_ATTR_POLICY);
	struct nlattr *i = mnl_attr_nest_start(w, idx);

	put_u32_policy(w, attr);
	mnl_attr_nest_end(w, i);
	mnl_attr_nest_end(w, p);
	return at + w->nlmsg_len;
}

/*
 * CTRL_CMD_GETPOLICY for dev-energymodel, as ctrl_dumppolicy() answers it:
 * one message per op with a policy (get-perf-domains' do: policy 0;
 * get-perf-table's do: policy 1; the dump has none), then one per attribute
 * of each policy (perf-domain-id, type 2 of policy 0 and type 1 of policy 1,
 * both NLA_U32), in one packet; NLMSG_DONE alone in the next, since the
 * kernel's dump callback returns skb->len. With CTRL_ATTR_OP, that op's
 * policies only, numbered from 0.
 */
static void test_getpolicy_golden(void **state)
{
	uint64_t req[64], got[1024], want[1024];
	char *at;
	struct nlmsghdr *r;
	int fd = emd_connect(&emd_default);
	size_t n;

	(void)state;
	memset(want, 0, sizeof(want)); /* libmnl leaves attribute padding as it finds it */
	r = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, 71,
		      CTRL_CMD_GETPOLICY, 1);
	mnl_attr_put_strz(r, CTRL_ATTR_FAMILY_NAME, "dev-energymodel");
	send_pkt(fd, r, r->nlmsg_len);
	at = (char *)want;
	at = put_op_policy(at, 71, 1, 0);
	at = put_op_policy(at, 71, 2, 1);
	at = put_policy(at, 71, 0, 2);
	at = put_policy(at, 71, 1, 1);
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, (size_t)(at - (char *)want));
	n = recv_pkt(fd, got, sizeof(got));
	assert_int_equal(n, 20);
	assert_int_equal(nl(got)->nlmsg_type, NLMSG_DONE);
	assert_int_equal(nl(got)->nlmsg_flags, NLM_F_MULTI);
	assert_false(pkt_waiting(fd)); /* a dump is not acked */

	/* One op, by id: get-perf-table's policy becomes policy 0. */
	r = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP, 72, CTRL_CMD_GETPOLICY, 1);
	mnl_attr_put_u16(r, CTRL_ATTR_FAMILY_ID, FAM_ID);
	mnl_attr_put_u32(r, CTRL_ATTR_OP, 2);
	send_pkt(fd, r, r->nlmsg_len);
	memset(want, 0, sizeof(want));
	at = (char *)want;
	at = put_op_policy(at, 72, 2, 0);
	at = put_policy(at, 72, 0, 1);
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, (size_t)(at - (char *)want));
	n = recv_pkt(fd, got, sizeof(got));
	assert_int_equal(nl(got)->nlmsg_type, NLMSG_DONE);
	close(fd);
}

/* Of two perf-domain-id attributes the last counts, as nla_parse() keeps it. */
static void test_last_id_wins(void **state)
{
	uint64_t req[64], got[512];
	struct nlmsghdr *r;
	int fd = emd_connect(&emd_default);
	size_t n;

	(void)state;
	r = req_begin(req, FAM_ID, NLM_F_REQUEST, 73, 1, 1);
	mnl_attr_put_u32(r, 2, 7);
	mnl_attr_put_u32(r, 2, 1);
	send_pkt(fd, r, r->nlmsg_len);
	n = recv_pkt(fd, got, sizeof(got));
	assert_int_equal(nl(got)->nlmsg_type, FAM_ID);
	assert_int_equal(nl(got)->nlmsg_len, n);
	assert_int_equal(mnl_attr_get_u32((const struct nlattr *)((const char *)got + 20)), 1);
	close(fd);
}

/* Two requests in one packet: answered in order. */
static void test_framing(void **state)
{
	uint64_t req[128], got[512];
	size_t n, a;
	int fd = emd_connect(&emd_default);

	(void)state;
	a = req_u32(req, FAM_ID, NLM_F_REQUEST, 82, 1, 2, 1);
	n = req_u32((char *)req + a, FAM_ID, NLM_F_REQUEST, 83, 1, 2, 7);
	send_pkt(fd, req, a + n);
	n = recv_pkt(fd, got, sizeof(got));
	assert_int_equal(nl(got)->nlmsg_seq, 82);
	assert_int_equal(nl(got)->nlmsg_type, FAM_ID);
	n = recv_pkt(fd, got, sizeof(got));
	expect_error(got, n, 83, -EINVAL, "no performance domain with id 7");
	close(fd);
}

/* A request larger than --max-request. */
static void test_request_too_big(void **state)
{
	static const char *const args[] = {"--max-request", "64", NULL};
	struct emd_proc p;
	uint64_t req[64], got[256];
	struct nlmsghdr *r;
	size_t n;
	int fd;

	(void)state;
	emd_start(&p, args);
	fd = emd_connect(&p);
	r = req_begin(req, FAM_ID, NLM_F_REQUEST, 91, 1, 1);
	for (int i = 0; i < 8; i++)
		mnl_attr_put_u64(r, 9, 0);
	send_pkt(fd, r, r->nlmsg_len);
	n = recv_pkt(fd, got, sizeof(got));
	expect_error(got, n, 91, -EMSGSIZE, "request of 116 bytes exceeds the limit of 64");
	close(fd);
	emd_stop(&p);
}

/* The u64 pad rule of architectures without efficient unaligned access. */
static void test_pad_align8(void **state)
{
	static const char *const args[] = {"--pad-mode", "align8", NULL};
	struct emd_proc p;
	uint64_t req[64], got[512], want[512];
	struct nlmsghdr *w;
	size_t n;
	int fd;

	(void)state;
	emd_start(&p, args);
	fd = emd_connect(&p);
	n = req_u32(req, FAM_ID, NLM_F_REQUEST, 95, 1, 2, 1);
	send_pkt(fd, req, n);
	/* Header 20 bytes, id at 20..27; flags' header at 28 (not 8-aligned): no pad;
	 * cpus at 40 (8-aligned): a pad first, then 4 more bytes, and so on. */
	w = reply_begin(want, FAM_ID, 0, 95, 1, 1);
	mnl_attr_put_u32(w, 2, 1);
	for (int i = 0; i < 3; i++) {
		uint64_t v = i == 0 ? 1 : (uint64_t)(i + 3);

		if (w->nlmsg_len % 8 == 0)
			mnl_attr_put(w, 1, 0, NULL);
		mnl_attr_put_u64(w, i == 0 ? 3 : 4, v);
	}
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, w->nlmsg_len);
	assert_int_equal(w->nlmsg_len, 72); /* 20 + 8 + 12 + (4 + 12) * 2: two pads */
	close(fd);
	emd_stop(&p);
}

/* lib/nl's client resolves emd's family as it would the kernel's. */
static void test_client_resolves(void **state)
{
	struct emnl_error e;
	struct emnl_family fam;
	struct emnl_sock *sk = emnl_sock_open_unix(emd_default.sock, &e);

	(void)state;
	assert_non_null(sk);
	assert_int_equal(emnl_family_resolve(sk, test_spec(), &fam, &e), 0);
	assert_int_equal(fam.id, FAM_ID);
	assert_int_equal(fam.version, 1);
	assert_int_equal(emnl_family_group_id(&fam, "event"), EVENT_GRP);
	assert_int_equal(emnl_subscribe(sk, &fam, "event", &e), 0);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getfamily_by_name_golden),
		cmocka_unit_test(test_getfamily_by_id_and_dump),
		cmocka_unit_test(test_get_domain_golden),
		cmocka_unit_test(test_get_table_golden),
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_dump_request_attributes_ignored),
		cmocka_unit_test(test_getpolicy_golden),
		cmocka_unit_test(test_last_id_wins),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_request_too_big),
		cmocka_unit_test(test_pad_align8),
		cmocka_unit_test(test_client_resolves),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, emd_default_setup, emd_default_teardown);
}
