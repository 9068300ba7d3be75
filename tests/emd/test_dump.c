/*
 * The kernel's dump bug as a regression test: emd dumps over 1,000 domains
 * (a model file written here) in one-message packets and in small packets, to
 * a client that reads slowly through a small socket buffer, so that emd runs
 * into EAGAIN again and again (its own counters prove it). Every packet must
 * hold whole messages only, and the domains must come exactly once each, in
 * increasing id order, then NLMSG_DONE. A reload in the middle of a dump must
 * not make it repeat or skip a domain that exists throughout, and flags the
 * first message built after it NLM_F_DUMP_INTR.
 *
 * Packets are sized as the kernel's netlink_dump() sizes them
 * (net/netlink/af_netlink.c): the larger of NLMSG_GOODSIZE (3776 bytes) and
 * the reader's max_recvmsg_len (what it announced with RECV_LEN, capped at
 * SKB_WITH_OVERHEAD(32768) = 32448), filled greedily: each packet holds
 * every message that fits, NLMSG_DONE included when it fits. And a datagram
 * of several requests is answered in the kernel's order: a dump's first
 * packet at once (netlink_dump_start()), the rest after the answers to the
 * datagram's later messages; a second dump while the first runs is -EBUSY.
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
	size_t intr, intr_at;   /* messages flagged NLM_F_DUMP_INTR; the first's position */
	size_t last_len;        /* the previous packet's length (greedy-fill check) */
	size_t limit;           /* the packet size the kernel would use (0: unchecked) */
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
	/* Greedy: the previous packet had no room for this one's first message. */
	if (s->limit && s->last_len && s->last_len + NLMSG_ALIGN(m->nlmsg_len) <= s->limit)
		fail_msg("packet %zu (%zu bytes) had room for the next %u-byte message (limit %zu)",
			 s->packets - 1, s->last_len, m->nlmsg_len, s->limit);
	s->last_len = len;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		struct emnl_error e;

		assert_false(s->done); /* nothing after NLMSG_DONE */
		assert_int_equal(m->nlmsg_seq, seq);
		assert_int_equal(m->nlmsg_pid, (uint32_t)getpid());
		assert_true(m->nlmsg_flags & NLM_F_MULTI);
		assert_int_equal(m->nlmsg_flags & ~(NLM_F_MULTI | NLM_F_DUMP_INTR), 0);
		if (m->nlmsg_flags & NLM_F_DUMP_INTR) {
			if (!s->intr++)
				s->intr_at = s->n;
		}
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
	uint64_t req[16], buf[8192];
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

/* One dump case: emd's options, what the reader announces, the packet
 * size the kernel would use, and what to expect. */
struct dump_case {
	const char *packet_size; /* --dump-packet-size (NULL: emd's default) */
	uint32_t recv_len;       /* RECV_LEN announced first (0: none) */
	const char *sndbuf;      /* emd's client SO_SNDBUF */
	size_t limit;            /* the packet size every packet keeps within */
	bool greedy;             /* check that every packet is filled (limit is exact) */
	bool one_per_packet;
	bool slow;               /* the reader is slow enough to make emd wait */
};

static void dump_case(const struct dump_case *dc)
{
	const char *args[10] = {"--sndbuf", dc->sndbuf, "--hooks", "--no-watch"};
	char *text = model_text(N_CPU, N_DEV, 0, 0);
	struct emd_proc p;
	struct seen s = {.limit = dc->greedy ? dc->limit : 0};
	int fd, k = 4;

	if (dc->packet_size) {
		args[k++] = "--dump-packet-size";
		args[k++] = dc->packet_size;
	}
	emd_start_model_take(&p, text, args);
	fd = emd_connect(&p);
	if (dc->recv_len)
		send_recv_len(fd, dc->recv_len);
	/* A slow reader: a pause every 50 one-message packets, or after every
	 * larger one, so that emd's sends meet a full socket (EAGAIN). */
	read_dump(fd, 5, dc->limit, &s, !dc->slow ? 0 : dc->one_per_packet ? 50 : 1, NULL, NULL, 0);
	assert_all_in_order(&s, N_ALL);
	assert_int_equal(s.intr, 0);
	if (dc->one_per_packet)
		assert_int_equal(s.max_msgs_per_packet, 1);
	else
		assert_true(s.max_msgs_per_packet > 1);
	assert_true(s.max_packet <= dc->limit || s.max_msgs_per_packet == 1);
	print_message("# %zu packets, the largest %zu bytes (limit %zu)\n", s.packets, s.max_packet,
		      dc->limit);
	/* The slow reader really made emd wait for room. */
	if (dc->slow)
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
	static const struct dump_case dc = {"1", 0, "4096", 1, false, true, true};

	(void)state;
	dump_case(&dc);
}

/* Small packets (--dump-packet-size bounds the kernel's size): several
 * whole messages each, never beyond 1000 bytes, however large the reader's
 * buffer. */
static void test_dump_small_packets(void **state)
{
	static const struct dump_case dc = {"1000", 32768, "4096", 1000, true, false, true};

	(void)state;
	dump_case(&dc);
}

/* A reader that announced nothing: NLMSG_GOODSIZE, what a fresh kernel
 * socket gets (a 4 KiB reader is never cut short). */
static void test_dump_goodsize(void **state)
{
	static const struct dump_case dc = {NULL, 0, "4096", EMNL_NLMSG_GOODSIZE, true, false, true};

	(void)state;
	dump_case(&dc);
}

/* A 4 KiB reader (libmnl's MNL_SOCKET_BUFFER_SIZE): 4096-byte packets. */
static void test_dump_4k_reader(void **state)
{
	static const struct dump_case dc = {NULL, 4096, "4096", 4096, true, false, true};

	(void)state;
	dump_case(&dc);
}

/* A 32 KiB reader: SKB_WITH_OVERHEAD(32768) = 32448-byte packets (a send
 * buffer large enough for them). */
static void test_dump_32k_reader(void **state)
{
	static const struct dump_case dc = {NULL, 32768, "200000", EMNL_DUMP_MAX_RECVMSG_LEN, true,
					    false, false};

	(void)state;
	dump_case(&dc);
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
	size_t before;
	char *text = model_text(N_CPU, N_DEV, 0, 0);
	struct emd_proc p;
	struct seen s = {0};
	struct reload_ctx rc = {.p = &p};
	int fd;

	(void)state;
	emd_start_model_take(&p, text, args);
	rc.model = p.model;
	fd = emd_connect(&p);
	read_dump(fd, 7, 1, &s, 0, reload_midway, &rc, 300);
	/* Every id once, increasing; 1150..1159 went away before the dump got there. */
	assert_int_equal(s.n, N_ALL - 10);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.ids[i] > s.ids[i - 1]);
	for (size_t i = 0; i < s.n; i++)
		assert_true(s.ids[i] < 1150 || s.ids[i] >= 1160);
	/* nl_dump_check_consistent(): the first message built after the model
	 * changed, and that one only, says NLM_F_DUMP_INTR (those queued before
	 * the reload were built before it). */
	before = 300;
	assert_int_equal(s.intr, 1);
	assert_true(s.intr_at >= before);
	print_message("# NLM_F_DUMP_INTR on message %zu (domain %u)\n", s.intr_at,
		      s.ids[s.intr_at]);
	close(fd);
	free(s.ids);
	emd_stop(&p);
}

/* The messages of one packet: type, sequence and (NLMSG_ERROR) errno. */
struct pkt_msg {
	uint16_t type;
	uint32_t seq;
	int err;
};

static size_t packet_msgs(const void *buf, size_t len, struct pkt_msg *out, size_t cap)
{
	const struct nlmsghdr *m = buf;
	int left = (int)len;
	size_t n = 0;

	for (; mnl_nlmsg_ok(m, left) && n < cap; m = mnl_nlmsg_next(m, &left), n++) {
		out[n] = (struct pkt_msg){m->nlmsg_type, m->nlmsg_seq, 0};
		if (m->nlmsg_type == NLMSG_ERROR)
			out[n].err = ((const struct nlmsgerr *)mnl_nlmsg_get_payload(m))->error;
	}
	assert_int_equal(left, 0);
	return n;
}

/*
 * [dump 1, do 2, dump 3] in one datagram, answered in the kernel's order
 * (netlink_rcv_skb() takes the messages in turn; __netlink_dump_start()
 * builds a dump's first packet at once; the rest of a dump comes as the
 * reader reads; a dump while one runs is -EBUSY):
 *   - a dump that fits its first packet is over at once, so the second dump
 *     runs: [dump 1 + DONE] [do 2's reply] [dump 3 + DONE];
 *   - a dump that does not: [dump 1's first packet] [do 2's reply]
 *     [-EBUSY for 3] [dump 1's next packets ... DONE].
 * (Checked on the running kernel's nlctrl with its own dump of families;
 * docs/compat.md quotes it.)
 */
static void reply_order(bool large)
{
	const char *const args[] = {"--no-watch", NULL};
	uint64_t req[64], buf[8192];
	struct nlmsghdr *r;
	struct pkt_msg m[256];
	struct emd_proc p;
	size_t a, b, len, n;
	int fd;

	if (large) {
		char *text = model_text(N_CPU, N_DEV, 0, 0);

		emd_start_model_take(&p, text, args);
	} else {
		const char *const dflt[] = {"--default", NULL};

		emd_start(&p, dflt);
	}
	fd = emd_connect(&p);
	r = req_begin(req, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, 1, 1, 1);
	a = r->nlmsg_len;
	r = req_begin((char *)req + a, FAM_ID, NLM_F_REQUEST, 2, 1, 1);
	mnl_attr_put_u32(r, 2, 0);
	b = a + r->nlmsg_len;
	r = req_begin((char *)req + b, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, 3, 1, 1);
	send_pkt(fd, req, b + r->nlmsg_len);

	/* The first dump's first packet. */
	len = recv_pkt(fd, buf, sizeof(buf));
	assert_true(len <= EMNL_NLMSG_GOODSIZE);
	n = packet_msgs(buf, len, m, 256);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m[i].seq, 1);
	assert_int_equal(m[n - 1].type == NLMSG_DONE, !large);
	/* The do's reply. */
	len = recv_pkt(fd, buf, sizeof(buf));
	n = packet_msgs(buf, len, m, 256);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].type, FAM_ID);
	assert_int_equal(m[0].seq, 2);
	/* The second dump: run, or -EBUSY while the first runs. */
	len = recv_pkt(fd, buf, sizeof(buf));
	n = packet_msgs(buf, len, m, 256);
	if (large) {
		assert_int_equal(n, 1);
		assert_int_equal(m[0].type, NLMSG_ERROR);
		assert_int_equal(m[0].seq, 3);
		assert_int_equal(m[0].err, -EBUSY);
		/* Then the rest of the first, to its DONE. */
		do {
			len = recv_pkt(fd, buf, sizeof(buf));
			n = packet_msgs(buf, len, m, 256);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(m[i].seq, 1);
		} while (m[n - 1].type != NLMSG_DONE);
	} else {
		assert_int_equal(n, 3); /* two domains and DONE */
		for (size_t i = 0; i < n; i++)
			assert_int_equal(m[i].seq, 3);
		assert_int_equal(m[2].type, NLMSG_DONE);
	}
	assert_false(pkt_waiting(fd));
	close(fd);
	emd_stop(&p);
}

static void test_reply_order_dump_done_at_once(void **state)
{
	(void)state;
	reply_order(false);
}

static void test_reply_order_dump_running(void **state)
{
	(void)state;
	reply_order(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_one_message_per_packet),
		cmocka_unit_test(test_dump_small_packets),
		cmocka_unit_test(test_dump_goodsize),
		cmocka_unit_test(test_dump_4k_reader),
		cmocka_unit_test(test_dump_32k_reader),
		cmocka_unit_test(test_dump_across_reload),
		cmocka_unit_test(test_reply_order_dump_done_at_once),
		cmocka_unit_test(test_reply_order_dump_running),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
