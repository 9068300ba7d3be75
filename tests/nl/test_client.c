/*
 * Tests of the client, against the running kernel and against a small
 * seqpacket peer written here. Kernel: resolve nlctrl, dump every family and
 * compare names and ids with `genl ctrl list`, do getfamily, the kernel's own
 * extended acks decoded (a policy failure with its text and offset; a missing
 * attribute on netdev, which the kernel reports by type), subscribe to a
 * group. Peer: the same API over AF_UNIX SOCK_SEQPACKET, against the shared
 * fake dev-energymodel peer (tests/fixtures/fake_peer.c): family
 * resolution, a dump spread over many datagrams, do with errors, joining the
 * event group and receiving notifications, and the peer going away.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "fake_peer.h"
#include "genl_req.h"
#include "nl_test.h"

/* ---- kernel ----------------------------------------------------------------- */

struct fam_list {
	size_t n;
	char names[128][32];
	unsigned ids[128];
};

/* `genl ctrl list`: "Name: X" then "\tID: 0xNN ...". */
static void genl_list(struct fam_list *l)
{
	FILE *p = popen("genl ctrl list 2>/dev/null", "r");
	char line[512], name[32] = "";

	assert_non_null(p);
	l->n = 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned id;

		if (sscanf(line, "Name: %31s", name) == 1)
			continue;
		if (sscanf(line, " ID: 0x%x", &id) == 1 && name[0] && l->n < 128) {
			snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
			l->ids[l->n++] = id;
			name[0] = '\0';
		}
	}
	assert_int_equal(pclose(p), 0);
	assert_true(l->n >= 1);
}

static int collect_family(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	struct fam_list *l = data;
	const struct emnl_value *id = emnl_attrs_get(msg, "family-id");
	const struct emnl_value *name = emnl_attrs_get(msg, "family-name");

	assert_true(nlh->nlmsg_flags & NLM_F_MULTI);
	assert_non_null(id);
	assert_non_null(name);
	if (l->n < 128) {
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name->bytes.ptr);
		l->ids[l->n++] = (unsigned)id->u;
	}
	return 0;
}

static struct emnl_sock *kernel_sock(struct emnl_family *fam, const struct emnl_spec *spec)
{
	struct emnl_error e;
	struct emnl_sock *sk = emnl_sock_open_kernel(&e);

	if (!sk)
		fail_msg("%s", e.msg);
	if (emnl_family_resolve(sk, spec, fam, &e))
		fail_msg("resolving %s: %s", spec->name, e.msg);
	return sk;
}

static void test_kernel_resolve(void **state)
{
	struct emnl_family fam;
	struct emnl_sock *sk = kernel_sock(&fam, ctrl);
	struct emnl_family none;
	struct emnl_error e;
	struct emnl_spec fake = {.name = "no-such-fam"};

	(void)state;
	assert_int_equal(fam.id, GENL_ID_CTRL);
	assert_int_equal(fam.version, 2);
	assert_int_equal(emnl_family_group_id(&fam, "notify"), 0x10);
	assert_int_equal(emnl_family_group_id(&fam, "nope"), -ENOENT);
	/* dev-energymodel arrived in 6.19; this kernel is older. */
	assert_int_equal(emnl_family_resolve(sk, &fake, &none, &e), -ENOENT);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
}

static void test_kernel_dump_matches_genl(void **state)
{
	struct emnl_family fam;
	struct emnl_sock *sk = kernel_sock(&fam, ctrl);
	struct fam_list *ours = calloc(1, sizeof(*ours)), *genl = calloc(1, sizeof(*genl));
	struct emnl_error e;
	uint64_t before = emnl_sock_datagrams(sk);

	(void)state;
	if (emnl_dump(sk, &fam, emnl_spec_op(ctrl, "getfamily"), NULL, collect_family, ours, &e))
		fail_msg("dump: %s", e.msg);
	assert_true(emnl_sock_datagrams(sk) - before >= 1);
	genl_list(genl);
	assert_int_equal(ours->n, genl->n);
	for (size_t i = 0; i < genl->n; i++) {
		bool found = false;

		for (size_t j = 0; j < ours->n && !found; j++)
			found = !strcmp(genl->names[i], ours->names[j]) && genl->ids[i] == ours->ids[j];
		if (!found)
			fail_msg("genl lists %s (0x%x), the dump does not", genl->names[i], genl->ids[i]);
	}
	/* A smaller receive buffer: the same families, maybe more datagrams. */
	memset(ours, 0, sizeof(*ours));
	assert_int_equal(emnl_sock_set_rcvbuf_len(sk, 4096), 0);
	if (emnl_dump(sk, &fam, emnl_spec_op(ctrl, "getfamily"), NULL, collect_family, ours, &e))
		fail_msg("dump: %s", e.msg);
	assert_int_equal(ours->n, genl->n);
	free(ours);
	free(genl);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
}

static int count_msg(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	(void)msg;
	assert_true(nlh->nlmsg_flags & NLM_F_MULTI);
	(*(int *)data)++;
	return 0;
}

/* Dump ethtool's policies (hundreds of messages) through a 4 KiB receive
 * buffer: the kernel then sizes its datagrams small, and the same messages
 * arrive over several of them. */
static void test_kernel_dump_many_datagrams(void **state)
{
	const struct emnl_op *op = emnl_spec_op(ctrl, "getpolicy");
	struct emnl_spec probe = {.name = "ethtool"};
	struct emnl_family fam, eth;
	struct emnl_error e;
	int big = 0, small = 0, late = 0;
	int *counts[] = {&big, &small, &late};
	uint64_t before;

	(void)state;
	/* Pass 0: default buffer; 1: 4 KiB from the start; 2: 4 KiB set after
	 * the kernel has seen 32 KiB receives (its datagrams stay big: the
	 * buffer must grow, not cut them). */
	for (int pass = 0; pass < 3; pass++) {
		struct emnl_sock *sk = emnl_sock_open_kernel(&e);
		struct emnl_attrs *req = emnl_attrs_new(op->set);

		assert_non_null(sk);
		/* Before the first receive: the kernel remembers the largest. */
		if (pass == 1)
			assert_int_equal(emnl_sock_set_rcvbuf_len(sk, 4096), 0);
		assert_int_equal(emnl_family_resolve(sk, ctrl, &fam, &e), 0);
		if (pass == 2)
			assert_int_equal(emnl_sock_set_rcvbuf_len(sk, 4096), 0);
		if (emnl_family_resolve(sk, &probe, &eth, &e)) {
			emnl_attrs_free(req);
			emnl_family_release(&fam);
			emnl_sock_close(sk);
			skip(); /* a kernel without ethtool netlink */
		}
		emnl_family_release(&eth);
		assert_int_equal(emnl_attrs_add_str(req, "family-name", "ethtool"), 0);
		before = emnl_sock_datagrams(sk);
		if (emnl_dump(sk, &fam, op, req, count_msg, counts[pass], &e))
			fail_msg("dump: %s", e.msg);
		if (pass == 1)
			assert_true(emnl_sock_datagrams(sk) - before >= 3);
		emnl_attrs_free(req);
		emnl_family_release(&fam);
		emnl_sock_close(sk);
	}
	assert_true(big > 50);
	assert_int_equal(small, big);
	assert_int_equal(late, big);
}

static void test_kernel_do_getfamily(void **state)
{
	struct emnl_family fam;
	struct emnl_sock *sk = kernel_sock(&fam, ctrl);
	const struct emnl_op *op = emnl_spec_op(ctrl, "getfamily");
	struct emnl_attrs *req = emnl_attrs_new(op->set), *reply;
	const struct emnl_value *v;
	struct emnl_error e;

	(void)state;
	assert_int_equal(emnl_attrs_add_str(req, "family-name", "nlctrl"), 0);
	if (emnl_do(sk, &fam, op, req, &reply, &e))
		fail_msg("do: %s", e.msg);
	assert_int_equal(emnl_attrs_get(reply, "family-id")->u, GENL_ID_CTRL);
	assert_string_equal(emnl_attrs_get(reply, "family-name")->bytes.ptr, "nlctrl");
	assert_int_equal(emnl_attrs_get(reply, "version")->u, 2);
	v = emnl_attrs_get(reply, "ops");
	assert_non_null(v);
	assert_int_equal(v->kind, EMNL_T_INDEXED_ARRAY);
	assert_true(v->nest->n >= 2);
	assert_int_equal(v->nest->v[0].type, 1);
	assert_int_equal(emnl_attrs_get(v->nest->v[0].nest, "id")->u, CTRL_CMD_GETFAMILY);
	v = emnl_attrs_get(reply, "mcast-groups");
	assert_string_equal(emnl_attrs_get(v->nest->v[0].nest, "name")->bytes.ptr, "notify");
	emnl_attrs_free(reply);
	emnl_attrs_free(req);

	/* An unknown name: the kernel says ENOENT. */
	req = emnl_attrs_new(op->set);
	assert_int_equal(emnl_attrs_add_str(req, "family-name", "no-such-family"), 0);
	assert_int_equal(emnl_do(sk, &fam, op, req, &reply, &e), -ENOENT);
	assert_null(reply);
	emnl_attrs_free(req);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
}

/* The kernel's own extended ack for a family name without its NUL. */
static void test_kernel_extack_policy(void **state)
{
	struct emnl_family fam;
	struct emnl_sock *sk = kernel_sock(&fam, ctrl);
	const struct emnl_op *op = emnl_spec_op(ctrl, "getfamily");
	struct emnl_attrs *req = emnl_attrs_new(op->set), *reply;
	struct emnl_value v = {.attr = emnl_set_attr(op->set, "family-name"), .type = 2,
			       .kind = EMNL_T_BINARY, .bytes = {.ptr = "nlctrl", .len = 6}};
	struct emnl_error e;
	char line[256];

	(void)state;
	assert_int_equal(emnl_attrs_add_value(req, &v), 0);
	assert_int_equal(emnl_do(sk, &fam, op, req, &reply, &e), -EINVAL);
	assert_string_equal(e.msg, "Attribute failed policy validation");
	assert_true(e.has_offset);
	assert_int_equal(e.offset, 20);
	assert_string_equal(emnl_error_format(&e, ctrl, line, sizeof(line)),
			    "Invalid argument (EINVAL): Attribute failed policy validation (offset 20)");
	emnl_attrs_free(req);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
}

/* netdev, as much of it as these tests need, from the kernel's uapi numbers: dev-get
 * (and, the notifications' spec goes on, their operations after it). */
#define NETDEV_SPEC_OPS                                                                    \
	"name: netdev\n"                                                                  \
	"attribute-sets:\n"                                                               \
	"  - name: dev\n"                                                                 \
	"    attributes:\n"                                                               \
	"      - {name: ifindex, type: u32}\n"                                             \
	"operations:\n"                                                                   \
	"  list:\n"                                                                       \
	"    - name: dev-get\n"                                                            \
	"      attribute-set: dev\n"                                                       \
	"      do: {request: {attributes: [ifindex]}, reply: {attributes: [ifindex]}}\n"
static const char netdev_spec[] = NETDEV_SPEC_OPS;

/* The kernel reports a missing required attribute by type, without text. */
static void test_kernel_extack_missing(void **state)
{
	struct emnl_error e;
	struct emnl_spec *nd = emnl_spec_parse(netdev_spec, sizeof(netdev_spec) - 1, &e);
	struct emnl_family fam;
	struct emnl_sock *sk = emnl_sock_open_kernel(&e);
	struct emnl_attrs *req, *reply;
	char line[256];

	(void)state;
	assert_non_null(nd);
	assert_non_null(sk);
	if (emnl_family_resolve(sk, nd, &fam, &e)) {
		emnl_sock_close(sk);
		emnl_spec_free(nd);
		skip(); /* a kernel without netdev */
	}
	assert_int_equal(emnl_do(sk, &fam, emnl_spec_op(nd, "dev-get"), NULL, &reply, &e), -EINVAL);
	assert_true(e.has_miss_type);
	assert_int_equal(e.miss_type, 1);
	assert_false(e.has_offset);
	assert_string_equal(emnl_error_format(&e, nd, line, sizeof(line)),
			    "Invalid argument (EINVAL): missing attribute 'ifindex' (type 1)");
	/* And an index no device has. */
	req = emnl_attrs_new(emnl_spec_set(nd, "dev"));
	assert_int_equal(emnl_attrs_add_uint(req, "ifindex", 0x7ffffff0), 0);
	assert_int_equal(emnl_do(sk, &fam, emnl_spec_op(nd, "dev-get"), req, &reply, &e), -ENODEV);
	emnl_attrs_free(req);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
	emnl_spec_free(nd);
}

/* A seqpacket server answers CTRL_CMD_GETFAMILY with emnl_ctrl_put_family:
 * for nlctrl itself its bytes must be the kernel's own answer. */
static void test_ctrl_reply_matches_kernel(void **state)
{
	struct emnl_error e;
	struct emnl_sock *sk = emnl_sock_open_kernel(&e);
	uint8_t req[64] MSGALIGN, ours[1024] MSGALIGN;
	struct nlmsghdr *q = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST, 77, CTRL_CMD_GETFAMILY, 2);
	const struct nlmsghdr *k = NULL;
	const void *dgram;
	uint32_t groups[] = {0x10};
	ssize_t n;
	int len;

	(void)state;
	assert_non_null(sk);
	mnl_attr_put_strz(q, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	assert_int_equal(emnl_send_raw(sk, req, q->nlmsg_len), 0);
	n = emnl_recv_raw(sk, &dgram, 5000);
	assert_true(n > 0);
	k = dgram;
	assert_int_equal(k->nlmsg_type, GENL_ID_CTRL);
	/* The kernel addresses its reply to our port. Dirty the buffer first:
	 * padding must come out zero whatever was there. */
	q->nlmsg_pid = k->nlmsg_pid;
	memset(ours, 0x3f, sizeof(ours));
	len = emnl_ctrl_put_family(ours, sizeof(ours), q, ctrl, GENL_ID_CTRL, groups);
	assert_int_equal(len, (int)k->nlmsg_len);
	assert_memory_equal(ours, k, (size_t)len);
	/* Too small a buffer is refused at every size. */
	for (int size = 0; size < len; size++)
		assert_int_equal(emnl_ctrl_put_family(ours, (size_t)size, q, ctrl, GENL_ID_CTRL, groups),
				 -EMSGSIZE);
	emnl_sock_close(sk);
}

static void test_kernel_subscribe(void **state)
{
	struct emnl_family fam;
	struct emnl_sock *sk = kernel_sock(&fam, ctrl);
	struct emnl_error e;

	(void)state;
	assert_int_equal(emnl_subscribe(sk, &fam, "notify", &e), 0);
	assert_int_equal(emnl_subscribe(sk, &fam, "nope", &e), -ENOENT);
	assert_string_equal(e.msg, "family 'nlctrl' has no multicast group 'nope'");
	/* Nothing registers families during the test: a timeout, not an error. */
	assert_int_equal(emnl_recv_notification(sk, &fam, 0, NULL, NULL, &e), 0);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
}

/* netdev's notifications, as far as this test needs them (uapi numbers). */
static const char netdev_ntf_spec[] =
	NETDEV_SPEC_OPS
	"    - {name: dev-add-ntf, notify: dev-get, mcgrp: mgmt}\n"
	"    - {name: dev-del-ntf, notify: dev-get, mcgrp: mgmt}\n"
	"mcast-groups:\n"
	"  list: [{name: mgmt}]\n";

struct ntf_seen {
	int adds, dels;
	uint32_t ifindex;
};

static int collect_ntf(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	struct ntf_seen *s = data;
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct emnl_value *v = emnl_attrs_get(msg, "ifindex");

	if (g->cmd == 2 && v) {
		s->adds++;
		s->ifindex = (uint32_t)v->u;
	} else if (g->cmd == 3 && v && v->u == s->ifindex) {
		s->dels++;
	}
	return 0;
}

/* In a network namespace of its own: subscribe to netdev's mgmt group, add
 * and delete a veth pair, and receive the kernel's notifications for it.
 * Exit status: 0 pass, 77 cannot run here, else the step that failed. */
static int ntf_child(void)
{
	struct emnl_error e;
	struct emnl_spec *nd;
	struct emnl_sock *sk;
	struct emnl_family fam;
	struct ntf_seen seen = {0};

	if (unshare(CLONE_NEWNET))
		return 77;
	nd = emnl_spec_parse(netdev_ntf_spec, sizeof(netdev_ntf_spec) - 1, &e);
	if (!nd)
		return 2;
	sk = emnl_sock_open_kernel(&e);
	if (!sk)
		return 3;
	if (emnl_family_resolve(sk, nd, &fam, &e))
		return 77; /* no netdev family */
	if (emnl_subscribe(sk, &fam, "mgmt", &e))
		return 4;
	if (system("ip link add emnl-a type veth peer name emnl-b >/dev/null 2>&1"))
		return 77;
	for (int i = 0; i < 20 && !seen.adds; i++)
		if (emnl_recv_notification(sk, &fam, 1000, collect_ntf, &seen, &e) < 0)
			return 5;
	if (!seen.adds || !seen.ifindex)
		return 6;
	if (system("ip link del emnl-a >/dev/null 2>&1"))
		return 7;
	for (int i = 0; i < 20 && !seen.dels; i++)
		if (emnl_recv_notification(sk, &fam, 1000, collect_ntf, &seen, &e) < 0)
			return 8;
	if (!seen.dels)
		return 9;
	emnl_family_release(&fam);
	emnl_sock_close(sk);
	emnl_spec_free(nd);
	return 0;
}

static void test_kernel_notifications(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(ntf_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip(); /* no namespaces, no veth or no netdev family here */
	if (WEXITSTATUS(status))
		fail_msg("notification test failed at step %d", WEXITSTATUS(status));
}

/* ---- seqpacket peer ----------------------------------------------------------- */

#define PEER_FAMILY 0x20
#define PEER_GROUP 7
#define PEER_PDS 3

/* The shared fake peer (tests/fixtures/fake_peer.c) serving three CPU
 * domains of two CPUs each; its dump comes as PD 0 alone, PDs 1 and 2
 * together, then NLMSG_DONE alone. */
static struct em_registry *peer_registry(void)
{
	static const struct em_state_desc st[] = {{500000, 100000, 0}, {1000000, 300000, 0}};
	struct em_registry *reg = em_registry_new();

	for (unsigned int i = 0; i < PEER_PDS; i++) {
		struct em_cpumask m = {{0}};

		em_cpumask_set(&m, 2 * i);
		em_cpumask_set(&m, 2 * i + 1);
		assert_int_equal(em_pd_register_cpus(reg, NULL, &m, 1024, EM_PD_MICROWATTS, st, 2,
						     NULL, NULL), 0);
	}
	return reg;
}

static struct emnl_sock *peer_start(struct fake_peer *p)
{
	static const unsigned int split[] = {1, 2, 0};

	*p = (struct fake_peer){.spec = em, .reg = peer_registry(), .family_id = PEER_FAMILY,
				.group_id = PEER_GROUP, .dump_split = split, .notify_on_join = true};
	return fake_peer_start(p);
}

static void peer_stop(struct fake_peer *p, struct emnl_sock *sk)
{
	emnl_sock_close(sk); /* the peer sees end of file and leaves */
	fake_peer_wait(p);
	em_registry_free(p->reg);
}

/* What a dump or a series of notifications brought: per message, its
 * command, id, and how many cpus and perf-state attributes it had. */
struct seen {
	int n;
	uint8_t cmds[8];
	uint32_t ids[8];
	size_t cpus[8], states[8];
};

static int collect(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	struct seen *s = data;

	if (s->n < 8) {
		s->cmds[s->n] = ((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd;
		s->ids[s->n] = (uint32_t)emnl_attrs_get(msg, "perf-domain-id")->u;
		s->cpus[s->n] = emnl_attrs_count(msg, "cpus");
		s->states[s->n] = emnl_attrs_count(msg, "perf-state");
		s->n++;
	}
	return 0;
}

static void test_seqpacket_resolve_dump_do(void **state)
{
	struct fake_peer p;
	struct emnl_sock *sk = peer_start(&p);
	struct emnl_family fam;
	struct emnl_error e;
	struct seen seen = {0};
	const struct emnl_op *op = emnl_spec_op(em, "get-perf-domains");
	struct emnl_attrs *req, *reply;
	char line[256];

	(void)state;
	if (emnl_family_resolve(sk, em, &fam, &e))
		fail_msg("resolve: %s", e.msg);
	assert_int_equal(fam.id, PEER_FAMILY);
	assert_int_equal(fam.version, 1);
	assert_int_equal(emnl_family_group_id(&fam, "event"), PEER_GROUP);

	/* The dump arrives in three datagrams. */
	assert_int_equal(emnl_sock_datagrams(sk), 1);
	if (emnl_dump(sk, &fam, op, NULL, collect, &seen, &e))
		fail_msg("dump: %s", e.msg);
	assert_int_equal(emnl_sock_datagrams(sk), 4);
	assert_int_equal(seen.n, PEER_PDS);
	for (int i = 0; i < PEER_PDS; i++) {
		assert_int_equal(seen.ids[i], (uint32_t)i);
		assert_int_equal(seen.cpus[i], 2);
	}

	/* do: found, unknown id, missing id. */
	req = emnl_attrs_new(op->set);
	assert_int_equal(emnl_attrs_add_uint(req, "perf-domain-id", 1), 0);
	assert_int_equal(emnl_do(sk, &fam, op, req, &reply, &e), 0);
	assert_int_equal(emnl_attrs_get(reply, "perf-domain-id")->u, 1);
	assert_int_equal(emnl_attrs_count(reply, "cpus"), 2);
	emnl_attrs_free(reply);
	emnl_attrs_free(req);

	req = emnl_attrs_new(op->set);
	assert_int_equal(emnl_attrs_add_uint(req, "perf-domain-id", 7), 0);
	assert_int_equal(emnl_do(sk, &fam, op, req, &reply, &e), -ENOENT);
	assert_null(reply);
	assert_string_equal(emnl_error_format(&e, em, line, sizeof(line)),
			    "No such file or directory (ENOENT): no performance domain 7 (offset 20)");
	emnl_attrs_free(req);

	assert_int_equal(emnl_do(sk, &fam, op, NULL, &reply, &e), -EINVAL);
	assert_string_equal(emnl_error_format(&e, em, line, sizeof(line)),
			    "Invalid argument (EINVAL): missing attribute 'perf-domain-id' (missing type 2)");
	assert_ptr_equal(e.attr_set, op->set);

	/* A request the spec does not allow never reaches a handler. */
	req = emnl_attrs_new(op->set);
	assert_int_equal(emnl_attrs_add_uint(req, "perf-domain-id", 0), 0);
	assert_int_equal(emnl_attrs_add_uint(req, "flags", 1), 0);
	assert_int_equal(emnl_do(sk, &fam, op, req, &reply, &e), -EINVAL);
	assert_string_equal(e.msg, "Unknown attribute type"); /* flags: type 3, maxattr 2 */
	assert_int_equal(e.offset, 28);
	emnl_attrs_free(req);

	/* get-perf-table cannot be dumped: the client says so without asking. */
	assert_int_equal(emnl_dump(sk, &fam, emnl_spec_op(em, "get-perf-table"), NULL, NULL, NULL, &e),
			 -EOPNOTSUPP);
	emnl_family_release(&fam);
	peer_stop(&p, sk);
	/* The resolve's receive (a 32 KiB buffer) was announced once, before the
	 * next request, as the kernel's max_recvmsg_len: SKB_WITH_OVERHEAD(32768). */
	assert_int_equal(p.n_recv_lens, 1);
	assert_int_equal(p.recv_lens[0], EMNL_DUMP_MAX_RECVMSG_LEN);
}

/* A reader with a 4 KiB buffer announces 4096 (netlink_recvmsg() records
 * the length passed, not the datagram's), and a larger buffer later raises
 * it: max_recvmsg_len only grows. */
static void test_seqpacket_recv_len(void **state)
{
	struct fake_peer p;
	struct emnl_sock *sk = peer_start(&p);
	struct emnl_family fam;
	struct emnl_error e;

	(void)state;
	assert_int_equal(emnl_sock_set_rcvbuf_len(sk, 4096), 0);
	assert_int_equal(emnl_family_resolve(sk, em, &fam, &e), 0);
	assert_int_equal(emnl_dump(sk, &fam, emnl_spec_op(em, "get-perf-domains"), NULL, NULL, NULL,
				   &e), 0);
	assert_int_equal(emnl_sock_set_rcvbuf_len(sk, 8192), 0);
	assert_int_equal(emnl_dump(sk, &fam, emnl_spec_op(em, "get-perf-domains"), NULL, NULL, NULL,
				   &e), 0);
	assert_int_equal(emnl_sock_set_rcvbuf_len(sk, 4096), 0);
	assert_int_equal(emnl_dump(sk, &fam, emnl_spec_op(em, "get-perf-domains"), NULL, NULL, NULL,
				   &e), 0);
	emnl_family_release(&fam);
	peer_stop(&p, sk);
	assert_int_equal(p.n_recv_lens, 2);
	assert_int_equal(p.recv_lens[0], 4096);
	assert_int_equal(p.recv_lens[1], 8192);
}

/* A seqpacket server's overrun notice is the kernel's ENOBUFS: one failed
 * emnl_recv_notification() (with the server's text), then events again. */
static void test_seqpacket_overrun(void **state)
{
	struct nlmsghdr overrun = {.nlmsg_len = sizeof(overrun), .nlmsg_type = NLMSG_OVERRUN};
	struct emnl_error notice, e;
	struct emnl_family fam = {.spec = em, .id = PEER_FAMILY};
	uint8_t buf[512] MSGALIGN;
	struct seen got = {0};
	int sv[2], n;
	struct emnl_sock *sk;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	sk = emnl_sock_open_fd(sv[0], &e);
	assert_non_null(sk);
	emnl_error_set(&notice, -ENOBUFS, "event queue full: %d events dropped", 3);
	n = emnl_extack_put(buf, sizeof(buf), &overrun, &notice, true, true);
	assert_true(n > 0);
	assert_int_equal(send(sv[1], buf, (size_t)n, 0), n);
	{
		uint8_t ev[64] MSGALIGN;
		struct emnl_writer w;

		emnl_writer_init(&w, ev, sizeof(ev), EMNL_PAD_NEVER);
		emnl_msg_begin_genl(&w, PEER_FAMILY, 0, 0, 0, 5, 1); /* perf-domain-deleted */
		emnl_put_u32(&w, 1, 4);
		n = emnl_msg_end(&w);
		assert_int_equal(send(sv[1], ev, (size_t)n, 0), n);
	}
	assert_int_equal(emnl_recv_notification(sk, &fam, 1000, collect, &got, &e), -ENOBUFS);
	assert_string_equal(e.msg, "events were lost: event queue full: 3 events dropped");
	assert_int_equal(emnl_recv_notification(sk, &fam, 1000, collect, &got, &e), 1);
	assert_int_equal(got.ids[0], 4);
	assert_int_equal(emnl_recv_notification(sk, &fam, 0, collect, &got, &e), 0);
	emnl_sock_close(sk);
	close(sv[1]);
}

static void test_seqpacket_notifications(void **state)
{
	struct fake_peer p;
	struct emnl_sock *sk = peer_start(&p);
	struct emnl_family fam;
	struct emnl_error e;
	struct seen got = {0};

	(void)state;
	assert_int_equal(emnl_family_resolve(sk, em, &fam, &e), 0);
	assert_int_equal(emnl_subscribe(sk, &fam, "event", &e), 0);
	/* The peer sends its notifications right after the join's ack: a do
	 * sent now meets them before its reply, and must keep them. */
	{
		struct emnl_attrs *req = emnl_attrs_new(emnl_spec_op(em, "get-perf-domains")->set);
		struct emnl_attrs *reply;

		assert_int_equal(emnl_attrs_add_uint(req, "perf-domain-id", 0), 0);
		assert_int_equal(emnl_do(sk, &fam, emnl_spec_op(em, "get-perf-domains"), req, &reply,
					 &e), 0);
		emnl_attrs_free(reply);
		emnl_attrs_free(req);
	}
	assert_int_equal(emnl_recv_notification(sk, &fam, 5000, collect, &got, &e), 2);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.cmds[0], 5);
	assert_int_equal(got.ids[0], 2);
	assert_int_equal(got.cmds[1], 3);
	assert_int_equal(got.ids[1], 5);
	assert_int_equal(got.states[1], 1);
	assert_int_equal(emnl_recv_notification(sk, &fam, 0, collect, &got, &e), 0);
	emnl_family_release(&fam);
	peer_stop(&p, sk);
}

/* The same, when the request that meets the notifications is a GETFAMILY:
 * resolving a family again must not drop them either. */
static void test_seqpacket_notifications_during_resolve(void **state)
{
	struct fake_peer p;
	struct emnl_sock *sk = peer_start(&p);
	struct emnl_family fam, again;
	struct emnl_error e;
	struct seen got = {0};

	(void)state;
	assert_int_equal(emnl_family_resolve(sk, em, &fam, &e), 0);
	assert_int_equal(emnl_subscribe(sk, &fam, "event", &e), 0);
	assert_int_equal(emnl_family_resolve(sk, em, &again, &e), 0);
	assert_int_equal(again.id, fam.id);
	assert_int_equal(emnl_recv_notification(sk, &fam, 5000, collect, &got, &e), 2);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.cmds[0], 5);
	assert_int_equal(got.cmds[1], 3);
	emnl_family_release(&again);
	emnl_family_release(&fam);
	peer_stop(&p, sk);
}

/* The same peer reached by path, as emctl --socket reaches emd. */
static void test_seqpacket_by_path(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct emnl_family fam;
	struct emnl_error e;
	struct emnl_sock *sk;
	struct seen seen = {0};
	struct fake_peer p = {.spec = em, .reg = peer_registry(), .family_id = PEER_FAMILY,
			      .group_id = PEER_GROUP};
	int lfd;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/emnl-test-%d.sock", (int)getpid());
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	sk = emnl_sock_open_unix(sa.sun_path, &e);
	if (!sk)
		fail_msg("%s", e.msg);
	fake_peer_start_fd(&p, accept(lfd, NULL, NULL));
	assert_int_equal(emnl_family_resolve(sk, em, &fam, &e), 0);
	assert_int_equal(emnl_dump(sk, &fam, emnl_spec_op(em, "get-perf-domains"), NULL, collect,
				   &seen, &e), 0);
	assert_int_equal(seen.n, PEER_PDS);
	emnl_family_release(&fam);
	peer_stop(&p, sk);
	close(lfd);
	unlink(sa.sun_path);
}

/* The server going away is an error, not a hang. */
static void test_seqpacket_peer_gone(void **state)
{
	int sv[2];
	struct emnl_error e;
	struct emnl_sock *sk;
	struct emnl_family fam;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	sk = emnl_sock_open_fd(sv[0], &e);
	close(sv[1]);
	assert_true(emnl_family_resolve(sk, em, &fam, &e) < 0);
	emnl_sock_close(sk);
	/* Not a seqpacket socket. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_null(emnl_sock_open_fd(sv[0], &e));
	assert_int_equal(e.err, -EINVAL);
	close(sv[1]);
	assert_null(emnl_sock_open_unix("/nonexistent/emkit.sock", &e));
	assert_int_equal(e.err, -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_resolve),
		cmocka_unit_test(test_kernel_dump_matches_genl),
		cmocka_unit_test(test_kernel_dump_many_datagrams),
		cmocka_unit_test(test_kernel_do_getfamily),
		cmocka_unit_test(test_kernel_extack_policy),
		cmocka_unit_test(test_kernel_extack_missing),
		cmocka_unit_test(test_ctrl_reply_matches_kernel),
		cmocka_unit_test(test_kernel_subscribe),
		cmocka_unit_test(test_kernel_notifications),
		cmocka_unit_test(test_seqpacket_resolve_dump_do),
		cmocka_unit_test(test_seqpacket_notifications),
		cmocka_unit_test(test_seqpacket_notifications_during_resolve),
		cmocka_unit_test(test_seqpacket_recv_len),
		cmocka_unit_test(test_seqpacket_overrun),
		cmocka_unit_test(test_seqpacket_by_path),
		cmocka_unit_test(test_seqpacket_peer_gone),
	};

	return cmocka_run_group_tests(tests, load_em_ctrl, free_em_ctrl);
}
