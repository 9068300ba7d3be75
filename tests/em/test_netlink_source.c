/*
 * The typed client's model reader (emdev_read_model, lib/proto) against the
 * shared fake dev-energymodel peer in a thread, over a SOCK_SEQPACKET pair.
 * The peer serves a registry (the RK3399 default plus a device domain) the way
 * the kernel's family does: nlctrl resolves the family, a dump of
 * get-perf-domains gives one message per domain, get-perf-table answers with
 * the states; the model read back must equal the registry's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emkit/em.h"
#include "emkit/nl.h"
#include "emkit/dev_energymodel_user.h"
#include "fake_peer.h"

#define FAMILY_ID 0x21

static const struct emnl_spec *em_spec;

/* The shared fake peer (tests/fixtures/fake_peer.c): one domain per dump
 * datagram, as the kernel's dump of a few domains comes. */
static struct emnl_sock *peer_start(struct fake_peer *p)
{
	p->spec = em_spec;
	p->family_id = FAMILY_ID;
	p->group_id = 9;
	return fake_peer_start(p);
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

static void peer_stop(struct fake_peer *p)
{
	fake_peer_wait(p);
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
	struct fake_peer p = {.reg = served_registry()};
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

/* What the reader refuses: a peer's domain with flags lib/em does not know,
 * a peer without domains. */
static void test_netlink_refusals(void **state)
{
	static const struct {
		bool empty;
		uint64_t extra_flags;
		int err;
		const char *msg;
	} cases[] = {
		{false, 0x40, -EINVAL, "perf domain 0: unknown flags 0x41"},
		{true, 0, -ENOENT, "get-perf-domains: the peer has no performance domain"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_peer p = {.reg = cases[i].empty ? em_registry_new() : served_registry(),
				      .extra_flags = cases[i].extra_flags};
		struct emnl_sock *sk = peer_start(&p);
		struct em_model got;
		struct em_error err;

		assert_int_equal(read_model(sk, &got, &err), cases[i].err);
		assert_string_equal(err.msg, cases[i].msg);
		peer_stop(&p);
		em_registry_free(p.reg);
	}
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
		cmocka_unit_test(test_netlink_refusals),
	};

	return cmocka_run_group_tests(tests, load_spec, free_spec);
}
