/*
 * The typed client's model reader (emdev_read_model) against a dev-energymodel peer in a thread, over a
 * SOCK_SEQPACKET pair. The peer serves a registry (the RK3399 default plus a device
 * domain) the way the kernel's family does: nlctrl resolves the family, a dump of
 * get-perf-domains gives one message per domain, get-perf-table answers with the
 * states; the model read back must equal the registry's.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emkit/em.h"
#include "emkit/nl.h"
#include "emkit/dev_energymodel_user.h"

#define FAMILY_ID 0x21

struct peer {
	int fd;
	pthread_t thread;
	const struct emnl_spec *spec;
	struct em_registry *reg;
	uint64_t extra_flags; /* OR-ed into every domain's flags (to test refusals) */
};

static const struct emnl_spec *em_spec;

static void send_dgram(struct peer *p, const void *buf, size_t len)
{
	assert_int_equal(send(p->fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void send_ack(struct peer *p, const struct nlmsghdr *req, const struct emnl_error *e)
{
	uint64_t out[128];
	int n = emnl_extack_put(out, sizeof(out), req, e, true, true);

	assert_true(n > 0);
	send_dgram(p, out, (size_t)n);
}

/* nlctrl: answer CTRL_CMD_GETFAMILY for dev-energymodel, then ack. */
static void answer_ctrl(struct peer *p, const struct nlmsghdr *req)
{
	uint64_t out[256];
	struct nlmsghdr *r = mnl_nlmsg_put_header(out);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(r, sizeof(*g));
	struct nlattr *groups, *grp;
	struct emnl_error ack = {0};
	int n;

	r->nlmsg_type = GENL_ID_CTRL;
	r->nlmsg_seq = req->nlmsg_seq;
	g->cmd = CTRL_CMD_NEWFAMILY;
	g->version = 2;
	mnl_attr_put_strz(r, CTRL_ATTR_FAMILY_NAME, "dev-energymodel");
	mnl_attr_put_u16(r, CTRL_ATTR_FAMILY_ID, FAMILY_ID);
	mnl_attr_put_u32(r, CTRL_ATTR_VERSION, 1);
	groups = mnl_attr_nest_start(r, CTRL_ATTR_MCAST_GROUPS);
	grp = mnl_attr_nest_start(r, 1);
	mnl_attr_put_strz(r, CTRL_ATTR_MCAST_GRP_NAME, "event");
	mnl_attr_put_u32(r, CTRL_ATTR_MCAST_GRP_ID, 9);
	mnl_attr_nest_end(r, grp);
	mnl_attr_nest_end(r, groups);
	n = emnl_extack_put((char *)out + r->nlmsg_len, sizeof(out) - r->nlmsg_len, req, &ack,
			    true, true);
	assert_true(n > 0);
	send_dgram(p, out, r->nlmsg_len + (size_t)n);
}

static void answer_dump(struct peer *p, const struct nlmsghdr *req)
{
	uint64_t out[512];
	const struct em_pd *pd;
	struct nlmsghdr *done;

	em_read_lock();
	em_for_each_pd(pd, p->reg) {
		struct emnl_attrs *a = emnl_attrs_new(emnl_spec_set(p->spec, "perf-domain"));
		struct emnl_hdr h = {.nlmsg_type = FAMILY_ID, .nlmsg_flags = NLM_F_MULTI,
				     .nlmsg_seq = req->nlmsg_seq, .cmd = 1, .version = 1};
		unsigned int c;
		int n;

		assert_int_equal(emnl_attrs_add_uint(a, "perf-domain-id", em_pd_id(pd)), 0);
		assert_int_equal(emnl_attrs_add_uint(a, "flags", em_pd_flags(pd) | p->extra_flags), 0);
		if (em_pd_is_cpu(pd))
			em_cpumask_for_each(c, em_pd_cpus(pd))
				assert_int_equal(emnl_attrs_add_uint(a, "cpus", c), 0);
		n = emnl_encode(out, sizeof(out), NULL, &h, a, EMNL_PAD_NEVER);
		emnl_attrs_free(a);
		assert_true(n > 0);
		send_dgram(p, out, (size_t)n); /* one domain per datagram */
	}
	em_read_unlock();
	done = mnl_nlmsg_put_header(out);
	done->nlmsg_type = NLMSG_DONE;
	done->nlmsg_flags = NLM_F_MULTI;
	done->nlmsg_seq = req->nlmsg_seq;
	*(int *)mnl_nlmsg_put_extra_header(done, sizeof(int)) = 0;
	send_dgram(p, out, done->nlmsg_len);
}

static void answer_table(struct peer *p, const struct nlmsghdr *req)
{
	const struct emnl_op *op = emnl_spec_op(p->spec, "get-perf-table");
	struct emnl_attrs *in, *a;
	struct emnl_error e = {0};
	const struct emnl_value *idv;
	const struct em_pd *pd;
	uint64_t out[1024];
	int n;

	assert_int_equal(emnl_decode(req, op->set, NULL, &in, &e), 0);
	idv = emnl_attrs_get(in, "perf-domain-id");
	assert_non_null(idv);
	em_read_lock();
	pd = em_pd_get(p->reg, (unsigned int)idv->u);
	if (!pd) {
		em_read_unlock();
		emnl_error_set(&e, -ENOENT, "no performance domain %llu",
			       (unsigned long long)idv->u);
		send_ack(p, req, &e);
		emnl_attrs_free(in);
		return;
	}
	a = emnl_attrs_new(op->set);
	assert_int_equal(emnl_attrs_add_uint(a, "perf-domain-id", em_pd_id(pd)), 0);
	{
		const struct em_perf_table *t = em_pd_table(pd);

		for (unsigned int i = 0; i < t->nr_states; i++) {
			const struct em_perf_state *ps = &t->states[i];
			struct emnl_attrs *st;

			assert_int_equal(emnl_attrs_add_nest(a, "perf-state", &st), 0);
			emnl_attrs_add_uint(st, "performance", ps->performance);
			emnl_attrs_add_uint(st, "frequency", ps->frequency);
			emnl_attrs_add_uint(st, "power", ps->power);
			emnl_attrs_add_uint(st, "cost", ps->cost);
			emnl_attrs_add_uint(st, "flags", ps->flags);
		}
	}
	em_read_unlock();
	{
		struct emnl_hdr h = {.nlmsg_type = FAMILY_ID, .nlmsg_seq = req->nlmsg_seq,
				     .cmd = 2, .version = 1};

		n = emnl_encode(out, sizeof(out), NULL, &h, a, EMNL_PAD_NEVER);
	}
	assert_true(n > 0);
	send_dgram(p, out, (size_t)n);
	e.err = 0;
	send_ack(p, req, &e);
	emnl_attrs_free(a);
	emnl_attrs_free(in);
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	uint64_t buf[1024];
	ssize_t n;

	while ((n = recv(p->fd, buf, sizeof(buf), 0)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

		if ((size_t)n < sizeof(*nlh) + sizeof(*g))
			break;
		if (nlh->nlmsg_type == GENL_ID_CTRL)
			answer_ctrl(p, nlh);
		else if (g->cmd == 1 && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
			answer_dump(p, nlh);
		else if (g->cmd == 2)
			answer_table(p, nlh);
		else {
			struct emnl_error e;

			emnl_error_set(&e, -EOPNOTSUPP, "unexpected command %u", g->cmd);
			send_ack(p, nlh, &e);
		}
	}
	close(p->fd);
	return NULL;
}

static struct emnl_sock *peer_start(struct peer *p)
{
	struct emnl_error e;
	struct emnl_sock *sk;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[1];
	p->spec = em_spec;
	assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
	sk = emnl_sock_open_fd(sv[0], &e);
	assert_non_null(sk);
	return sk;
}

/* The typed client's model reader on @sk (which it then owns and closes). */
static int read_model(struct emnl_sock *sk, struct em_model *m, struct em_error *err)
{
	struct emnl_error e;
	struct emdev *c = emdev_new(em_spec, &e);
	int ret;

	assert_non_null(c);
	assert_int_equal(emdev_connect(c, sk, &e), 0);
	ret = emdev_read_model(c, m, err);
	emdev_close(c);
	return ret;
}

static void peer_stop(struct peer *p)
{
	assert_int_equal(pthread_join(p->thread, NULL), 0);
}

static struct em_registry *served_registry(void)
{
	struct em_registry *reg = em_registry_new();
	struct em_model m;
	const struct em_state_desc gpu[] = {{200000, 300000, 0}, {400000, 700000, 0}};

	assert_int_equal(em_model_default(&m), 0);
	assert_int_equal(em_model_register(&m, reg, NULL), 0);
	em_model_release(&m);
	assert_int_equal(em_pd_register_device(reg, "gpu", EM_PD_MICROWATTS, gpu, 2, NULL, NULL), 0);
	return reg;
}

static void test_netlink_round_trip(void **state)
{
	struct peer p = {.reg = served_registry()};
	struct emnl_sock *sk = peer_start(&p);
	struct em_model got, want;
	struct em_error err;

	(void)state;
	if (read_model(sk, &got, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(em_model_from_registry(&want, p.reg), 0);
	assert_int_equal(got.nr_domains, 3);
	assert_string_equal(got.domains[0].name, "cpu0");
	assert_string_equal(got.domains[1].name, "cpu4");
	assert_string_equal(got.domains[2].name, "pd2");
	/* Names are not on the wire; everything else must be. */
	for (unsigned int i = 0; i < 3; i++)
		memcpy(got.domains[i].name, want.domains[i].name, EM_NAME_MAX);
	assert_true(em_model_equal(&got, &want));
	em_model_release(&got);
	em_model_release(&want);
	peer_stop(&p);
	em_registry_free(p.reg);
}

static void test_netlink_refuses_unknown_flags(void **state)
{
	struct peer p = {.reg = served_registry(), .extra_flags = 0x40};
	struct emnl_sock *sk = peer_start(&p);
	struct em_model got;
	struct em_error err;

	(void)state;
	assert_int_equal(read_model(sk, &got, &err), -EINVAL);
	assert_string_equal(err.msg, "perf domain 0: unknown flags 0x41");
	peer_stop(&p);
	em_registry_free(p.reg);
}

static void test_netlink_empty_peer(void **state)
{
	struct peer p = {.reg = em_registry_new()};
	struct emnl_sock *sk = peer_start(&p);
	struct em_model got;
	struct em_error err;

	(void)state;
	assert_int_equal(read_model(sk, &got, &err), -ENOENT);
	assert_string_equal(err.msg, "get-perf-domains: the peer has no performance domain");
	peer_stop(&p);
	em_registry_free(p.reg);
}

static int load_spec(void **state)
{
	struct emnl_error e;

	(void)state;
	em_spec = emnl_spec_load(EM_SPEC_DIR "/dev-energymodel.yaml", &e);
	return em_spec ? 0 : -1;
}

static int free_spec(void **state)
{
	(void)state;
	emnl_spec_free((struct emnl_spec *)em_spec);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netlink_round_trip),
		cmocka_unit_test(test_netlink_refuses_unknown_flags),
		cmocka_unit_test(test_netlink_empty_peer),
	};

	return cmocka_run_group_tests(tests, load_spec, free_spec);
}
