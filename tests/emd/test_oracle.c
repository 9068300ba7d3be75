/*
 * emd's controller against the running kernel's, byte for byte: each
 * request below, about nlctrl itself (a family both know), goes to the
 * kernel's nlctrl (AF_NETLINK, NETLINK_EXT_ACK and NETLINK_CAP_ACK, as emd
 * answers) and to emd's (its seqpacket socket), and every datagram each
 * answers with is compared:
 *
 *   SAME   the same datagrams, the same bytes (apart from nlmsg_pid, the
 *          kernel's port id or emd's idea of it): nlctrl's GETFAMILY reply
 *          for itself, its GETPOLICY dump, and the kernel's own extended
 *          acks — policy violations with their messages, offsets and policy
 *          nests, a liberal parse's warning in the ack, the reserved field
 *          checked only from resv_start_op on, the name winning over the id;
 *   ADDS   the kernel's errno and every TLV it sends, and emd's own message
 *          (or offset, or missing type) on top where the kernel says no
 *          more than the errno (docs/compat.md).
 *
 * This is the outside oracle for validation messages, policy nests and
 * dump-attribute handling: the kernel itself, not a copy of its rules. On a
 * kernel whose nlctrl differs from 6.18/6.19's the test skips (it checks the
 * kernel's GETFAMILY reply for nlctrl has the shape emd reproduces first).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

enum expect { SAME, ADDS };

/* One request: what to put in it. */
struct oracle_case {
	const char *what;
	enum expect expect;
	uint16_t flags;      /* besides NLM_F_REQUEST */
	uint8_t cmd, reserved;
	int id;              /* CTRL_ATTR_FAMILY_ID: -1 none, -2 a 1-byte one */
	const char *name;    /* CTRL_ATTR_FAMILY_NAME (NUL included), or NULL */
	int name_len;        /* bytes of @name to put (0: with its NUL; -1: none) */
	int op;              /* CTRL_ATTR_OP (-1: none) */
	int extra_type;      /* an extra u32 attribute of this type (0: none) */
	int trailing;        /* bytes of 0xff after the attributes */
	bool short_msg;      /* no genetlink header at all */
};

static const struct oracle_case cases[] = {
	{"getfamily nlctrl by name", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "nlctrl", 0, -1, 0, 0, false},
	{"getfamily nlctrl by id", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, GENL_ID_CTRL, NULL, 0, -1, 0, 0, false},
	{"getfamily: the name wins over an unknown id", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, 0x77, "nlctrl", 0, -1, 0, 0, false},
	/* the warning stands in for emd's own words, as in the kernel */
	{"getfamily: trailing bytes and an unknown name", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "nosuch", 0, -1, 0, 2, false},
	{"getfamily: an unknown attribute, liberal", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "nlctrl", 0, -1, 7, 0, false},
	{"getfamily: attribute type 0, liberal", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "nlctrl", 0, -1, -100, 0, false},
	{"getfamily: trailing bytes, a warning in the ack", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "nlctrl", 0, -1, 0, 2, false},
	{"getfamily: a reserved field below resv_start_op", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 3, -1, "nlctrl", 0, -1, 0, 0, false},
	{"getfamily: a 1-byte id (-ERANGE, policy)", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -2, NULL, 0, -1, 0, 0, false},
	{"getfamily: a name without its NUL", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "nlctrl", 6, -1, 0, 0, false},
	{"getfamily: a name of 16 bytes", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "abcdefghijklmnop", 0, -1, 0, 0, false},
	{"getfamily: a name of no bytes", SAME, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "", -1, -1, 0, 0, false},
	{"getfamily dump: an unknown attribute, strict", SAME, NLM_F_DUMP, CTRL_CMD_GETFAMILY, 0, -1, NULL, 0, -1, 7, 0, false},
	{"getfamily dump: trailing bytes, strict", SAME, NLM_F_DUMP, CTRL_CMD_GETFAMILY, 0, -1, NULL, 0, -1, 0, 2, false},
	{"getpolicy nlctrl by name", SAME, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0, -1, "nlctrl", 0, -1, 0, 0, false},
	{"getpolicy nlctrl by id, op getfamily", SAME, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0, GENL_ID_CTRL, NULL, 0, CTRL_CMD_GETFAMILY, 0, 0, false},
	{"getpolicy: the id wins over an unknown name", SAME, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0, GENL_ID_CTRL, "nosuch", 0, CTRL_CMD_GETPOLICY, 0, 0, false},
	{"getpolicy: a reserved field below resv_start_op", SAME, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 1, -1, "nlctrl", 0, -1, 0, 0, false},
	{"getpolicy: an unspecified type, strict", SAME, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0, -1, "nlctrl", 0, -1, 5, 0, false},
	{"getpolicy: trailing bytes, strict", SAME, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0, -1, "nlctrl", 0, -1, 0, 2, false},
	{"a reserved field from resv_start_op on", SAME, NLM_F_ACK, CTRL_CMD_GETPOLICY + 1, 1, -1, NULL, 0, -1, 0, 0, false},
	{"getfamily: an unknown name", ADDS, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "nosuch", 0, -1, 0, 0, false},
	{"getfamily: a known id, an unknown name", ADDS, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, GENL_ID_CTRL, "nosuch", 0, -1, 0, 0, false},
	{"getfamily: the empty name", ADDS, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, "", 0, -1, 0, 0, false},
	{"getfamily: neither name nor id", ADDS, NLM_F_ACK, CTRL_CMD_GETFAMILY, 0, -1, NULL, 0, -1, 0, 0, false},
	{"getpolicy: neither name nor id", ADDS, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0, -1, NULL, 0, -1, 0, 0, false},
	{"getpolicy: an op the family lacks", ADDS, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 0, -1, "nlctrl", 0, 99, 0, 0, false},
	{"getpolicy as a do", ADDS, NLM_F_ACK, CTRL_CMD_GETPOLICY, 0, -1, "nlctrl", 0, -1, 0, 0, false},
	{"an unknown command", ADDS, NLM_F_ACK, 0x20, 0, -1, NULL, 0, -1, 0, 0, false},
	{"a dump without a genetlink header", ADDS, NLM_F_DUMP, 0, 0, -1, NULL, 0, -1, 0, 0, true},
};

/* Build @c's request with sequence @seq in @buf; its length. */
static size_t build(void *buf, const struct oracle_case *c, uint32_t seq)
{
	struct nlmsghdr *r;

	memset(buf, 0, 256);
	if (c->short_msg) {
		r = mnl_nlmsg_put_header(buf);
		r->nlmsg_type = GENL_ID_CTRL;
		r->nlmsg_flags = NLM_F_REQUEST | c->flags;
		r->nlmsg_seq = seq;
		return r->nlmsg_len;
	}
	r = req_begin(buf, GENL_ID_CTRL, NLM_F_REQUEST | c->flags, seq, c->cmd, 1);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(r))->reserved = c->reserved;
	if (c->extra_type > 0)
		mnl_attr_put_u32(r, (uint16_t)c->extra_type, 1);
	else if (c->extra_type == -100)
		mnl_attr_put_u32(r, 0, 1);
	if (c->id >= 0)
		mnl_attr_put_u16(r, CTRL_ATTR_FAMILY_ID, (uint16_t)c->id);
	else if (c->id == -2)
		mnl_attr_put(r, CTRL_ATTR_FAMILY_ID, 1, "\x10");
	if (c->name)
		mnl_attr_put(r, CTRL_ATTR_FAMILY_NAME,
			     c->name_len < 0 ? 0 : c->name_len ? (size_t)c->name_len
							 : strlen(c->name) + 1, c->name);
	if (c->op >= 0)
		mnl_attr_put_u32(r, CTRL_ATTR_OP, (uint32_t)c->op);
	for (int i = 0; i < c->trailing; i++)
		((uint8_t *)r)[r->nlmsg_len++] = 0xff;
	return r->nlmsg_len;
}

/* The answers to one request: every datagram until its end. */
struct answer {
	uint8_t data[16][32768] __attribute__((aligned(8)));
	size_t len[16];
	int n;
};

/* Does datagram @d end the exchange with sequence @seq? */
static bool ends(const uint8_t *d, size_t len, uint32_t seq)
{
	const struct nlmsghdr *m = (const void *)d;
	int left = (int)len;

	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left))
		if (m->nlmsg_seq == seq && (m->nlmsg_type == NLMSG_ERROR || m->nlmsg_type == NLMSG_DONE))
			return true;
	return false;
}

/* Send @req on @fd and read the answer (nlmsg_pid zeroed in every message). */
static void exchange(int fd, const void *req, size_t len, uint32_t seq, struct answer *a)
{
	a->n = 0;
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	do {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		struct nlmsghdr *m;
		int left;

		assert_true(a->n < 16);
		if (poll(&p, 1, 10000) != 1)
			fail_msg("no answer in 10 s");
		n = recv(fd, a->data[a->n], sizeof(a->data[0]), MSG_TRUNC);
		assert_true(n > 0 && (size_t)n <= sizeof(a->data[0]));
		a->len[a->n] = (size_t)n;
		left = (int)n;
		for (m = (void *)a->data[a->n]; mnl_nlmsg_ok(m, left);
		     m = (struct nlmsghdr *)mnl_nlmsg_next(m, &left))
			m->nlmsg_pid = 0;
		a->n++;
	} while (!ends(a->data[a->n - 1], a->len[a->n - 1], seq));
}

/* The kernel's nlctrl socket, as emd answers: extended and capped acks. */
static int kernel_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC), one = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one))) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct answer kern, emd_ans;

/* Every TLV of the kernel's error @k is in emd's @e, with the same bytes. */
static void assert_tlvs_kept(const struct nlmsghdr *k, const struct nlmsghdr *e)
{
	size_t koff = NLMSG_HDRLEN + sizeof(struct nlmsgerr), eoff = koff;

	for (; koff + NLA_HDRLEN <= k->nlmsg_len;) {
		const struct nlattr *ka = (const void *)((const uint8_t *)k + koff);
		bool found = false;

		for (size_t o = eoff; o + NLA_HDRLEN <= e->nlmsg_len;) {
			const struct nlattr *ea = (const void *)((const uint8_t *)e + o);

			if (ea->nla_len == ka->nla_len && !memcmp(ea, ka, ka->nla_len))
				found = true;
			o += NLA_ALIGN(ea->nla_len ? ea->nla_len : 4);
		}
		if (!found)
			fail_msg("the kernel's TLV type %u is not in emd's answer", ka->nla_type);
		koff += NLA_ALIGN(ka->nla_len ? ka->nla_len : 4);
	}
}

static void test_against_the_kernel(void **state)
{
	uint64_t req[64];
	int kfd = kernel_socket(), efd;

	(void)state;
	if (kfd < 0)
		skip();
	efd = emd_connect(&emd_default);
	/* Both readers take 64 KiB: dump packets of SKB_WITH_OVERHEAD(32768). */
	send_recv_len(efd, 65536);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct oracle_case *c = &cases[i];
		uint32_t seq = 500 + (uint32_t)i;
		size_t len = build(req, c, seq);

		print_message("# %s\n", c->what);
		exchange(kfd, req, len, seq, &kern);
		exchange(efd, req, len, seq, &emd_ans);
		if (i == 0 && (kern.n != 2 || kern.len[0] != 136)) {
			close(kfd);
			close(efd);
			print_message("# this kernel's nlctrl is not 6.18/6.19's (%zu bytes): skipped\n",
				      kern.len[0]);
			skip();
		}
		assert_int_equal(emd_ans.n, kern.n);
		for (int d = 0; d < kern.n; d++) {
			const struct nlmsghdr *k = (const void *)kern.data[d];
			const struct nlmsghdr *e = (const void *)emd_ans.data[d];

			if (c->expect == SAME) {
				if (emd_ans.len[d] != kern.len[d] ||
				    memcmp(emd_ans.data[d], kern.data[d], kern.len[d])) {
					for (size_t b = 0; b < kern.len[d] && b < emd_ans.len[d]; b++)
						if (emd_ans.data[d][b] != kern.data[d][b])
							fail_msg("datagram %d byte %zu: emd 0x%02x, the kernel 0x%02x",
								 d, b, emd_ans.data[d][b], kern.data[d][b]);
					fail_msg("datagram %d: emd %zu bytes, the kernel %zu", d,
						 emd_ans.len[d], kern.len[d]);
				}
				continue;
			}
			/* ADDS: one error, the kernel's errno, its TLVs kept, emd's added. */
			assert_int_equal(k->nlmsg_type, NLMSG_ERROR);
			assert_int_equal(e->nlmsg_type, NLMSG_ERROR);
			assert_int_equal(((const struct nlmsgerr *)mnl_nlmsg_get_payload(e))->error,
					 ((const struct nlmsgerr *)mnl_nlmsg_get_payload(k))->error);
			assert_memory_equal(&((const struct nlmsgerr *)mnl_nlmsg_get_payload(e))->msg,
					    &((const struct nlmsgerr *)mnl_nlmsg_get_payload(k))->msg,
					    sizeof(struct nlmsghdr));
			assert_tlvs_kept(k, e);
			assert_true(e->nlmsg_len > k->nlmsg_len); /* something added */
		}
	}
	close(kfd);
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_the_kernel),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, emd_default_setup, emd_default_teardown);
}
