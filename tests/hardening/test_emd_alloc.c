/*
 * Allocation failures in emd's request path, each in turn (issue 6, item 4).
 *
 * emd's server library (everything but main.c) and libemkit, linked statically,
 * are linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so that every
 * allocation they make goes through the wrappers below; emd serves a
 * 40-domain model file with 200-byte dump packets in a thread of this test
 * (tests/fixtures/emd_runner.c).
 * A scenario is one client's whole conversation: connect, getfamily,
 * get-perf-domains for a domain that exists and one that does not,
 * get-perf-table, a domain dump across many packets, a family dump, then one
 * datagram of 60 get-perf-table requests (more answers than emd queues per
 * client: the rest of the datagram waits) — read slowly through the smallest
 * buffers, so that emd must queue. It is run
 * once to count the allocations emd's thread makes for it (N), then N times
 * more with allocation k failing (k = 1..N). Each time every reply must be
 * well-formed netlink (fuzz/replycheck.c) — a -ENOMEM error is fine, so is
 * emd closing that one connection — and afterwards a fresh client's scenario
 * must succeed in full: emd carries on. Under ASan, LeakSanitizer checks at
 * exit that no failure leaked what was allocated before it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/genetlink.h>

#include "emd_runner.h"
#include "replycheck.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static __thread bool in_emd;     /* this thread is emd's */
static unsigned long fi_count;   /* allocations by emd's thread while armed */
static unsigned long fi_fail_at; /* the one to fail (0: none) */
static bool fi_armed;

/* Count an allocation of emd's thread; true when this one must fail. */
static bool fail_now(void)
{
	if (!in_emd || !__atomic_load_n(&fi_armed, __ATOMIC_ACQUIRE))
		return false;
	return __atomic_add_fetch(&fi_count, 1, __ATOMIC_ACQ_REL) ==
	       __atomic_load_n(&fi_fail_at, __ATOMIC_ACQUIRE);
}

void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __real_realloc(p, size);
}

static struct emd_runner run;

static void mark_emd_thread(void)
{
	in_emd = true;
}

/* Append one request: family @type, @cmd, @flags, an optional u32 or string
 * attribute. */
static size_t put_req(uint8_t *buf, uint16_t type, uint8_t cmd, uint8_t version, uint16_t flags,
		      uint32_t seq, uint16_t atype, const void *payload, uint16_t plen)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(nlh + 1);
	struct nlattr *na = (struct nlattr *)(g + 1);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;

	memset(buf, 0, 64);
	g->cmd = cmd;
	g->version = version;
	if (atype) {
		na->nla_type = atype;
		na->nla_len = (uint16_t)(NLA_HDRLEN + plen);
		memcpy(na + 1, payload, plen);
		len += NLA_ALIGN(na->nla_len);
	}
	nlh->nlmsg_len = (uint32_t)len;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	return len;
}

struct outcome {
	bool closed;        /* emd closed the connection */
	unsigned enomem;    /* -ENOMEM answers */
	unsigned domains;   /* messages of the domain dump */
	unsigned answers;   /* requests answered in full */
};

/* Send one request and read until its ack / NLMSG_DONE (or an error). */
static int step(int fd, struct rc_ctx *rc, const uint8_t *req, size_t len, uint32_t seq,
		bool dump, struct outcome *o)
{
	static uint8_t buf[EMNL_DGRAM_MAX * 2];

	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		o->closed = true;
		return -1;
	}
	if (dump)
		usleep(10000); /* a slow reader: emd's sends hit EAGAIN, it queues */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		size_t off = 0;
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			fail_msg("emd did not answer within 5 s (allocation %lu failing)", fi_fail_at);
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		if (n <= 0) {
			o->closed = true;
			return -1;
		}
		if (rc_check_dgram(rc, buf, (size_t)n))
			fail_msg("allocation %lu failing: %s", fi_fail_at, rc->why);
		while (off + NLMSG_HDRLEN <= (size_t)n) {
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)(buf + off);
			int32_t err = 0;

			if (nlh->nlmsg_type == NLMSG_ERROR) {
				memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
				if (err == -ENOMEM)
					o->enomem++;
				if (nlh->nlmsg_seq == seq)
					return err == 0 || err == -EINVAL ? (o->answers++, 0) : err;
			} else if (nlh->nlmsg_type == NLMSG_DONE && dump && nlh->nlmsg_seq == seq) {
				o->answers++;
				return 0;
			} else if (nlh->nlmsg_type == EMD_FAMILY_ID && dump && nlh->nlmsg_seq == seq) {
				o->domains++;
			}
			off += NLMSG_ALIGN(nlh->nlmsg_len);
		}
	}
}

/* A datagram of @k get-perf-table requests for domain 0 (sequence 100..):
 * more answers than emd queues per client, so the rest of the datagram
 * must wait for the client to read. Ends with the last one's answer. */
static int step_many(int fd, struct rc_ctx *rc, unsigned k, struct outcome *o)
{
	static uint8_t req[64 * 32] __attribute__((aligned(8)));
	uint32_t id0 = 0;
	size_t len = 0;

	for (unsigned i = 0; i < k; i++)
		len += put_req(req + len, EMD_FAMILY_ID, 2, 1, 0, 100 + i, 1, &id0, 4);
	/* the last one asks for an ack: its arrival ends the step */
	((struct nlmsghdr *)(req + len - (NLMSG_HDRLEN + GENL_HDRLEN + 8)))->nlmsg_flags |=
		NLM_F_ACK;
	return step(fd, rc, req, len, 100 + k - 1, false, o);
}

/* One client's conversation; returns how it went. */
static struct outcome scenario(void)
{
	uint8_t req[64] __attribute__((aligned(8)));
	static const char name[] = "dev-energymodel";
	struct outcome o = {0};
	struct rc_ctx rc;
	uint32_t id0 = 0, id_none = 4000;
	int fd = emd_runner_connect(&run), small = 1;

	if (fd < 0) {
		o.closed = true;
		return o;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	rc_init(&rc, run.d.spec, EMD_FAMILY_ID, run.d.ctrl_spec, EMD_CTRL_ID);
	if (step(fd, &rc, req, put_req(req, EMD_CTRL_ID, CTRL_CMD_GETFAMILY, 2, NLM_F_ACK, 1,
				       CTRL_ATTR_FAMILY_NAME, name, sizeof(name)), 1, false, &o) ||
	    step(fd, &rc, req, put_req(req, EMD_FAMILY_ID, 1, 1, NLM_F_ACK, 2, 2, &id0, 4), 2,
		 false, &o) ||
	    step(fd, &rc, req, put_req(req, EMD_FAMILY_ID, 1, 1, NLM_F_ACK, 3, 2, &id_none, 4), 3,
		 false, &o) ||
	    step(fd, &rc, req, put_req(req, EMD_FAMILY_ID, 2, 1, NLM_F_ACK, 4, 1, &id0, 4), 4,
		 false, &o) ||
	    step(fd, &rc, req, put_req(req, EMD_FAMILY_ID, 1, 1, NLM_F_DUMP, 5, 0, NULL, 0), 5,
		 true, &o) ||
	    step(fd, &rc, req, put_req(req, EMD_CTRL_ID, CTRL_CMD_GETFAMILY, 2, NLM_F_DUMP, 6, 0,
				       NULL, 0), 6, true, &o) ||
	    step_many(fd, &rc, 60, &o)) {
		/* an error answer or a closed connection ends the conversation */
	}
	close(fd);
	return o;
}

static int setup(void **state)
{
	struct emd_config cfg;

	(void)state;
	emd_config_defaults(&cfg);
	cfg.dump_packet_size = 200;
	cfg.max_clients = 16;
	cfg.client_queue = 64;
	cfg.queue_bytes = 4096; /* the smallest: datagrams wait half-read */
	cfg.sndbuf = 1024;      /* the smallest: a few packets, then EAGAIN */
	cfg.watch_model = false;
	run.on_thread = mark_emd_thread;
	/* A short directory: the socket path must fit sun_path. */
	return emd_runner_start(&run, &cfg, 40, "/tmp");
}

static int teardown(void **state)
{
	(void)state;
	emd_runner_stop(&run);
	return 0;
}

static void test_each_allocation_fails_once(void **state)
{
	struct outcome o;
	unsigned long n, closed = 0, enomem = 0, whole = 0;

	(void)state;
	o = scenario();
	assert_false(o.closed);
	assert_int_equal(o.answers, 7);
	assert_int_equal(o.domains, 40);
	/* Count what the scenario allocates in emd's thread. */
	__atomic_store_n(&fi_count, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fi_fail_at, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fi_armed, true, __ATOMIC_RELEASE);
	o = scenario();
	usleep(20000); /* emd's thread finishes with the closed client */
	__atomic_store_n(&fi_armed, false, __ATOMIC_RELEASE);
	n = __atomic_load_n(&fi_count, __ATOMIC_ACQUIRE);
	assert_int_equal(o.answers, 7);
	print_message("the scenario makes %lu allocations in emd's thread\n", n);
	assert_true(n > 0);
	for (unsigned long k = 1; k <= n; k++) {
		__atomic_store_n(&fi_count, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&fi_fail_at, k, __ATOMIC_RELEASE);
		__atomic_store_n(&fi_armed, true, __ATOMIC_RELEASE);
		o = scenario();
		usleep(20000);
		__atomic_store_n(&fi_armed, false, __ATOMIC_RELEASE);
		closed += o.closed;
		enomem += o.enomem > 0;
		whole += !o.closed && o.answers == 7 && o.domains == 40;
		/* emd carries on: a fresh client gets everything. */
		o = scenario();
		if (o.closed || o.answers != 7 || o.domains != 40)
			fail_msg("after allocation %lu of %lu failed, emd no longer serves in full "
				 "(closed %d, %u answers, %u domains)", k, n, o.closed, o.answers,
				 o.domains);
	}
	print_message("%lu failures: %lu answered -ENOMEM, %lu closed the connection, "
		      "%lu went unnoticed\n", n, enomem, closed, whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_allocation_fails_once),
	};

	return cmocka_run_group_tests_name("hardening-emd-alloc", tests, setup, teardown);
}
