/*
 * The kernel's dump bug as a regression test: emd dumps over 1,000 domains
 * (a model file written here) in one-message packets and in small packets, to
 * a client that reads slowly through a small socket buffer, so that emd runs
 * into EAGAIN again and again (its own counters prove it). Every packet must
 * hold whole messages only, and the domains must come exactly once each, in
 * increasing id order, then NLMSG_DONE. A reload in the middle of a dump must
 * not make it repeat or skip a domain that exists throughout.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define N_CPU 1000
#define N_DEV 200
#define N_ALL (N_CPU + N_DEV)

/* A model with @ncpu one-CPU domains and @ndev device domains, skipping the
 * device domains dev<skip_from>..dev<skip_to - 1>. */
static char *model_text(unsigned int ncpu, unsigned int ndev, unsigned int skip_from,
			unsigned int skip_to)
{
	size_t cap = (ncpu + ndev) * 200 + 64, n = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	n += (size_t)snprintf(s + n, cap - n, "domains:\n");
	for (unsigned int i = 0; i < ncpu; i++)
		n += (size_t)snprintf(s + n, cap - n,
				      "  - name: c%u\n    cpus: [%u]\n    capacity: %u\n"
				      "    flags: [microwatts]\n    states:\n"
				      "      - { frequency: 1000, power: 10 }\n"
				      "      - { frequency: 2000, power: %u }\n",
				      i, i, 512 + i % 512, 30 + i);
	for (unsigned int i = 0; i < ndev; i++) {
		if (i >= skip_from && i < skip_to)
			continue;
		n += (size_t)snprintf(s + n, cap - n,
				      "  - name: dev%u\n    flags: [microwatts]\n    states:\n"
				      "      - { frequency: 100, power: %u }\n",
				      i, 5 + i);
	}
	assert_true(n < cap);
	return s;
}

/* What a dump delivered. */
struct seen {
	uint32_t *ids;
	size_t n;
	size_t packets, max_msgs_per_packet, max_packet;
	bool done;
};

/* Check one packet of a dump reply and record its ids. */
static void take_packet(struct seen *s, const void *buf, size_t len, uint32_t seq, size_t limit)
{
	const struct nlmsghdr *m = buf;
	int left = (int)len;
	size_t msgs = 0;

	s->packets++;
	if (len > s->max_packet)
		s->max_packet = len;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		struct emnl_error e;

		assert_false(s->done); /* nothing after NLMSG_DONE */
		assert_int_equal(m->nlmsg_seq, seq);
		assert_int_equal(m->nlmsg_pid, (uint32_t)getpid());
		assert_true(m->nlmsg_flags & NLM_F_MULTI);
		msgs++;
		if (m->nlmsg_type == NLMSG_DONE) {
			s->done = true;
			continue;
		}
		assert_int_equal(m->nlmsg_type, FAM_ID);
		/* A whole, valid get-perf-domains reply. */
		if (emnl_validate(test_spec(), m, m->nlmsg_len, true, NULL, 0, NULL, &e))
			fail_msg("message %zu of packet %zu: %s", msgs, s->packets, e.msg);
		s->ids[s->n++] = mnl_attr_get_u32((const struct nlattr *)((const char *)m + 20));
	}
	assert_int_equal(left, 0); /* no partial message at the end */
	if (msgs > s->max_msgs_per_packet)
		s->max_msgs_per_packet = msgs;
	if (msgs > 1)
		assert_true(len <= limit);
}

/* Send a dump request and read it all, pausing now and then (a slow reader). */
static void read_dump(int fd, uint32_t seq, size_t limit, struct seen *s, size_t pause_every,
		      void (*midway)(void *), void *arg, size_t midway_at)
{
	uint64_t req[16], buf[4096];
	struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, seq, 1, 1);
	const struct timespec pause = {0, 2000000};

	s->ids = calloc(N_ALL * 2, sizeof(*s->ids));
	assert_non_null(s->ids);
	send_pkt(fd, r, r->nlmsg_len);
	nanosleep(&pause, NULL); /* let emd fill the socket and hit EAGAIN */
	while (!s->done) {
		size_t len = recv_pkt(fd, buf, sizeof(buf));

		take_packet(s, buf, len, seq, limit);
		if (pause_every && s->packets % pause_every == 0)
			nanosleep(&pause, NULL);
		if (midway && s->packets == midway_at)
			midway(arg);
	}
}

/* The counter named @key from emd's STATUS line (SIGUSR2). */
static unsigned long long counter(struct emd_proc *p, const char *key)
{
	const char *st, *at;
	char pat[64];

	emd_signal(p, SIGUSR2);
	st = emd_notify_wait(p);
	snprintf(pat, sizeof(pat), " %s=", key);
	at = strstr(st, pat);
	if (!at)
		fail_msg("no counter %s in '%s'", key, st);
	return strtoull(at + strlen(pat), NULL, 10);
}

/* Ids 0..n-1, each once, in order. */
static void assert_all_in_order(const struct seen *s, size_t n)
{
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++)
		if (s->ids[i] != i)
			fail_msg("position %zu holds domain %u", i, s->ids[i]);
}

static void dump_case(const char *packet_size, size_t limit, bool one_per_packet)
{
	const char *const args[] = {"--dump-packet-size", packet_size, "--sndbuf", "4096",
				    "--hooks", "--no-watch", NULL};
	char *text = model_text(N_CPU, N_DEV, 0, 0);
	struct emd_proc p;
	struct seen s = {0};
	int fd;

	emd_start_model(&p, text, args);
	free(text);
	fd = emd_connect(&p);
	read_dump(fd, 5, limit, &s, 50, NULL, NULL, 0);
	assert_all_in_order(&s, N_ALL);
	if (one_per_packet)
		assert_int_equal(s.max_msgs_per_packet, 1);
	else
		assert_true(s.max_msgs_per_packet > 1);
	/* The slow reader really made emd wait for room. */
	assert_true(counter(&p, "deferred") > 0);
	assert_int_equal(counter(&p, "dump-pd"), 1);
	/* The connection still serves requests after the dump. */
	{
		uint64_t req[16], buf[256];
		struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST, 6, 2, 1);
		size_t n;

		mnl_attr_put_u32(r, 1, N_ALL - 1);
		send_pkt(fd, r, r->nlmsg_len);
		n = recv_pkt(fd, buf, sizeof(buf));
		assert_int_equal(nl(buf)->nlmsg_seq, 6);
		assert_int_equal(nl(buf)->nlmsg_len, n);
	}
	close(fd);
	free(s.ids);
	emd_stop(&p);
}

/* One message per packet (a packet size smaller than any message). */
static void test_dump_one_message_per_packet(void **state)
{
	(void)state;
	dump_case("1", 1, true);
}

/* Small packets: several whole messages each, never beyond 1000 bytes. */
static void test_dump_small_packets(void **state)
{
	(void)state;
	dump_case("1000", 1000, false);
}

/* The largest packets (the default). */
static void test_dump_large_packets(void **state)
{
	(void)state;
	dump_case("32768", 32768, false);
}

/* A reload halfway: device domains removed before and after the cursor. */
struct reload_ctx {
	struct emd_proc *p;
	const char *model;
};

static void reload_midway(void *arg)
{
	struct reload_ctx *r = arg;
	char *text = model_text(N_CPU, N_DEV, 150, 160); /* dev150..159: ids 1150..1159 */
	const char *st;

	write_file(r->model, text);
	free(text);
	emd_signal(r->p, SIGHUP);
	st = emd_notify_wait(r->p);
	assert_string_equal(st, "RELOADING=1");
	st = emd_notify_wait(r->p);
	assert_string_equal(st, "READY=1");
}

static void test_dump_across_reload(void **state)
{
	const char *const args[] = {"--dump-packet-size", "1", "--sndbuf", "4096", "--no-watch",
				    NULL};
	char *text = model_text(N_CPU, N_DEV, 0, 0);
	struct emd_proc p;
	struct seen s = {0};
	struct reload_ctx rc = {.p = &p};
	int fd;

	(void)state;
	emd_start_model(&p, text, args);
	free(text);
	rc.model = p.model;
	fd = emd_connect(&p);
	read_dump(fd, 7, 1, &s, 0, reload_midway, &rc, 300);
	/* Every id once, increasing; 1150..1159 went away before the dump got there. */
	assert_int_equal(s.n, N_ALL - 10);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.ids[i] > s.ids[i - 1]);
	for (size_t i = 0; i < s.n; i++)
		assert_true(s.ids[i] < 1150 || s.ids[i] >= 1160);
	close(fd);
	free(s.ids);
	emd_stop(&p);
}

/* A second dump while one is running: -EBUSY, the first goes on. */
static void test_dump_busy(void **state)
{
	const char *const args[] = {"--default", NULL};
	uint64_t req[32], buf[4096];
	struct emd_proc p;
	struct nlmsghdr *r;
	size_t a, n;
	int fd, msgs = 0;

	(void)state;
	emd_start(&p, args);
	fd = emd_connect(&p);
	r = req_begin(req, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, 1, 1, 1);
	a = r->nlmsg_len;
	r = req_begin((char *)req + a, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, 2, 1, 1);
	send_pkt(fd, req, a + r->nlmsg_len);
	n = recv_pkt(fd, buf, sizeof(buf));
	expect_error(buf, n, 2, -EBUSY, "a dump is already in progress");
	n = recv_pkt(fd, buf, sizeof(buf));
	{
		const struct nlmsghdr *m = (const void *)buf;
		int left = (int)n;

		for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			assert_int_equal(m->nlmsg_seq, 1);
			msgs++;
		}
	}
	assert_int_equal(msgs, 3); /* two domains and NLMSG_DONE, in one packet */
	close(fd);
	emd_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_one_message_per_packet),
		cmocka_unit_test(test_dump_small_packets),
		cmocka_unit_test(test_dump_large_packets),
		cmocka_unit_test(test_dump_across_reload),
		cmocka_unit_test(test_dump_busy),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
