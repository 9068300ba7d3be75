/*
 * emd's wire protocol against the real binary: every reply compared byte for
 * byte with a message built here with libmnl from the spec's facts (family
 * and attribute numbers, the kernel's encoding rules), and every error path
 * with its exact errno, extack message, offset and missing type. Includes the
 * syzkaller regression (get-perf-domains with an unknown id must answer
 * -ENOENT, not crash) and the kernel's u64 pad rule in both modes.
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

static struct emd_proc emd_default;

/* The embedded RK3399 model, as the kernel would report it. */
struct st {
	uint64_t perf, freq, power, cost, flags;
};
static const struct st little[] = {
	{109, 408000, 27769, 2547, 1}, {161, 600000, 40837, 2536, 0},
	{219, 816000, 58956, 2692, 0}, {271, 1008000, 86247, 3182, 0},
	{322, 1200000, 120000, 3726, 0}, {381, 1416000, 179212, 4703, 0},
};

static int setup(void **state)
{
	(void)state;
	emd_start(&emd_default, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	emd_stop(&emd_default);
	return 0;
}

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
	uint64_t req[64], got[1024], want[1024];
	struct nlmsghdr *r, *w;
	struct nlattr *ops, *op, *grps, *grp;
	int fd = emd_connect(&emd_default);
	size_t n;

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

	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, w->nlmsg_len);
	/* Then the ack, in its own packet. */
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, build_ack(want, r));
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
	uint64_t req[64], got[512], want[512];
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
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, w->nlmsg_len);
	n = recv_pkt(fd, got, sizeof(got));
	assert_bytes(got, n, want, build_ack(want, r));
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
	expect_error(got, n, 42, -ENOENT, "no performance domain with id 9");
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
 * message (NULL: not checked), the offset of the bad attribute and the
 * missing type (NONE: the TLV must be absent). The kernel sends -EINVAL for
 * the syzkaller report's unknown id (get-perf-domains had a null
 * dereference there); emd sends what the fixed kernel would mean, -ENOENT,
 * plus the attribute's offset.
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
} err_cases[] = {
	/* nlctrl */
	{"getfamily of an unknown name", GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0,
	 {{CTRL_ATTR_FAMILY_NAME, 's', 0, "nl80211"}}, 0, 0,
	 -ENOENT, "no family named 'nl80211'", 20, NONE},
	{"getfamily without name or id", GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, {{0}}, 0, 0,
	 -EINVAL, "give the family's name or id", NONE, CTRL_ATTR_FAMILY_NAME},
	{"an nlctrl command emd does not serve", GENL_ID_CTRL, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0,
	 {{0}}, 0, 0, -EOPNOTSUPP, "emd serves no nlctrl 'getpolicy'", NONE, NONE},
	{"an unknown family id", 0x33, NLM_F_ACK, 1, 0, {{0}}, 0, 0,
	 -ENOENT, "no family with id 51", NONE, NONE},
	/* the syzkaller bug: an id no domain has */
	{"get-perf-domains of an unknown id", FAM_ID, NLM_F_ACK, 1, 0, {{2, 'u', 7, NULL}}, 0, 0,
	 -ENOENT, "no performance domain with id 7", 20, NONE},
	{"get-perf-table of an unknown id", FAM_ID, NLM_F_ACK, 2, 0, {{1, 'u', 7, NULL}}, 0, 0,
	 -ENOENT, "no performance domain with id 7", 20, NONE},
	/* a missing id */
	{"get-perf-domains without an id", FAM_ID, NLM_F_ACK, 1, 0, {{0}}, 0, 0,
	 -EINVAL, "missing attribute 'perf-domain-id'", NONE, 2},
	{"get-perf-table without an id", FAM_ID, NLM_F_ACK, 2, 0, {{0}}, 0, 0,
	 -EINVAL, "missing attribute 'perf-domain-id'", NONE, 1},
	/* strict validation */
	{"any attribute in a dump request", FAM_ID, NLM_F_DUMP, 1, 0, {{2, 'u', 0, NULL}}, 0, 0,
	 -EINVAL, "attribute 'perf-domain-id' is not expected here", 20, NONE},
	{"a u32 of 8 bytes", FAM_ID, 0, 1, 0, {{2, 'U', 0, NULL}}, 0, 0,
	 -EINVAL, "'perf-domain-id' (u32) has length 8, expected 4", 20, NONE},
	{"an unknown attribute after a good one", FAM_ID, 0, 1, 0,
	 {{2, 'u', 0, NULL}, {9, 'u', 0, NULL}}, 0, 0, -EINVAL, "unknown attribute type 9", 28, NONE},
	{"an unknown command", FAM_ID, 0, 9, 0, {{0}}, 0, 0,
	 -EOPNOTSUPP, "unknown command 9", NONE, NONE},
	{"a dump of a do-only op", FAM_ID, NLM_F_DUMP, 2, 0, {{0}}, 0, 0,
	 -EOPNOTSUPP, "'get-perf-table' cannot be dumped", NONE, NONE},
	{"a reserved genetlink field", FAM_ID, 0, 1, 5, {{2, 'u', 0, NULL}}, 0, 0,
	 -EINVAL, "reserved field of the genetlink header is 5, not 0", NONE, NONE},
	{"trailing bytes: an attribute header cut short", FAM_ID, 0, 1, 0, {{2, 'u', 0, NULL}}, 2, 0,
	 -EINVAL, NULL, 28, NONE},
	{"nlmsg_len beyond the packet", FAM_ID, 0, 1, 0, {{0}}, 0, 400,
	 -EINVAL, "bad nlmsg_len 400 (20 bytes left in the packet)", NONE, NONE},
	/* joining the event group: strict, acked */
	{"join an unknown group", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0,
	 {{EMNL_SEQPACKET_ATTR_GROUP, 'u', 5, NULL}}, 0, 0,
	 -ENOENT, "no multicast group with that id", 20, NONE},
	{"join without a group", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0, {{0}}, 0, 0,
	 -EINVAL, "missing the group id", NONE, EMNL_SEQPACKET_ATTR_GROUP},
	{"join with another attribute", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0,
	 {{2, 'u', EVENT_GRP, NULL}}, 0, 0, -EINVAL, "unknown attribute type", 20, NONE},
	/* acks */
	{"join the event group", GENL_ID_CTRL, NLM_F_ACK, EMNL_SEQPACKET_CMD_JOIN, 0,
	 {{EMNL_SEQPACKET_ATTR_GROUP, 'u', EVENT_GRP, NULL}}, 0, 0, 0, NULL, NONE, NONE},
	{"not a request: skipped, acked as asked", FAM_ID, NLM_F_ACK | NOT_REQUEST, 1, 0,
	 {{2, 'u', 7, NULL}}, 0, 0, 0, NULL, NONE, NONE},
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
	}
	/* emd is still serving: the reply, then the ack. */
	send_pkt(fd, req, req_u32(req, FAM_ID, NLM_F_REQUEST | NLM_F_ACK, 99, 1, 2, 1));
	recv_pkt(fd, got, sizeof(got));
	assert_int_equal(nl(got)->nlmsg_type, FAM_ID);
	expect_error(got, recv_pkt(fd, got, sizeof(got)), 99, 0, NULL);
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
	expect_error(got, n, 83, -ENOENT, "no performance domain with id 7");
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
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_request_too_big),
		cmocka_unit_test(test_pad_align8),
		cmocka_unit_test(test_client_resolves),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
