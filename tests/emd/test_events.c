/*
 * emd's events across model reloads, against the real binary: the model file
 * is rewritten (inotify) or emd gets SIGHUP, and subscribed clients must see
 * exactly the per-domain difference (deleted, updated, created, in that order,
 * with the kernel's bytes); a reload that would remove a CPU domain is refused
 * whole. A subscriber that never reads loses events, gets one -ENOBUFS notice
 * saying how many, and nothing else changes for the others.
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

/* A model: two CPU domains, and device domains as asked. */
static char *model(unsigned int little_power, bool gpu, bool dsp, bool big)
{
	char *s = malloc(4096);
	int n;

	assert_non_null(s);
	n = snprintf(s, 4096,
		     "domains:\n"
		     "  - name: little\n    cpus: [0, 1]\n    capacity: 512\n"
		     "    flags: [microwatts]\n    states:\n"
		     "      - { frequency: 500000, power: %u }\n"
		     "      - { frequency: 1000000, power: 200000 }\n",
		     little_power);
	if (big)
		n += snprintf(s + n, 4096 - (size_t)n,
			      "  - name: big\n    cpus: [2, 3]\n    capacity: 1024\n"
			      "    flags: [microwatts]\n    states:\n"
			      "      - { frequency: 1000000, power: 300000 }\n"
			      "      - { frequency: 2000000, power: 900000 }\n");
	if (gpu)
		n += snprintf(s + n, 4096 - (size_t)n,
			      "  - name: gpu\n    flags: [microwatts]\n    states:\n"
			      "      - { frequency: 200000, power: 300000 }\n");
	if (dsp)
		snprintf(s + n, 4096 - (size_t)n,
			 "  - name: dsp\n    flags: [microwatts]\n    states:\n"
			 "      - { frequency: 100000, power: 1000 }\n"
			 "      - { frequency: 300000, power: 5000 }\n");
	return s;
}

/* Join the event group over raw seqpacket, checking the ack. */
static void join(int fd, uint8_t cmd)
{
	uint64_t req[16], got[64];
	struct nlmsghdr *r = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, 900, cmd, 1);
	size_t n;

	mnl_attr_put_u32(r, EMNL_SEQPACKET_ATTR_GROUP, EVENT_GRP);
	send_pkt(fd, r, r->nlmsg_len);
	n = recv_pkt(fd, got, sizeof(got));
	expect_error(got, n, 900, 0, NULL);
}

/* A new connection to @p that has joined the event group. */
static int member(const struct emd_proc *p)
{
	int fd = emd_connect(p);

	join(fd, EMNL_SEQPACKET_CMD_JOIN);
	return fd;
}

/* Replace @p's model file with @text (of model(), freed). */
static void rewrite_model(const struct emd_proc *p, char *text)
{
	write_file(p->model, text);
	free(text);
}

/* Ask @fd for domain @id's table (seq @seq); the next packet must be the reply. */
static void table_answers(int fd, uint32_t seq, uint32_t id)
{
	uint64_t req[16], got[1024];
	struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST, seq, 2, 1);

	mnl_attr_put_u32(r, 1, id);
	send_pkt(fd, r, r->nlmsg_len);
	recv_pkt(fd, got, sizeof(got));
	assert_int_equal(nl(got)->nlmsg_seq, seq);
}

/* A device domain's state as a table reply carries it: performance 0, then
 * frequency, power, cost 0, flags 0. */
static void put_device_state(struct nlmsghdr *w, uint64_t frequency, uint64_t power)
{
	struct nlattr *st = mnl_attr_nest_start(w, 2);

	mnl_attr_put_u64(w, 2, 0);
	mnl_attr_put_u64(w, 3, frequency);
	mnl_attr_put_u64(w, 4, power);
	mnl_attr_put_u64(w, 5, 0);
	mnl_attr_put_u64(w, 6, 0);
	mnl_attr_nest_end(w, st);
}

/* The next packet must be exactly one event: returns its command and id. */
static uint8_t next_event(int fd, uint32_t *id, void *out, size_t *out_len)
{
	static uint64_t buf[1024];
	size_t n = recv_pkt(fd, buf, sizeof(buf));
	const struct nlmsghdr *m = nl(buf);
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(m);

	assert_int_equal(m->nlmsg_len, n);
	assert_int_equal(m->nlmsg_type, FAM_ID);
	assert_int_equal(m->nlmsg_flags, 0);
	assert_int_equal(m->nlmsg_seq, 0);
	assert_int_equal(m->nlmsg_pid, 0);
	assert_int_equal(g->version, 1);
	*id = mnl_attr_get_u32((const struct nlattr *)((const char *)m + 20));
	if (out) {
		memcpy(out, buf, n);
		*out_len = n;
	}
	return g->cmd;
}

/* Wait for emd to finish a reload (RELOADING=1, then READY=1). */
static void reloaded(struct emd_proc *p)
{
	assert_string_equal(emd_notify_wait(p), "RELOADING=1");
	assert_string_equal(emd_notify_wait(p), "READY=1");
}

static void test_events_on_file_change(void **state)
{
	struct emd_proc p;
	uint64_t want[256], got[1024];
	struct nlmsghdr *w;
	uint32_t id;
	size_t n;
	int a, b;

	(void)state;
	emd_start_model_take(&p, model(100000, true, false, true), NULL);
	a = member(&p);
	b = member(&p);

	/* little's table changes, gpu goes, dsp comes: inotify sees the rename. */
	rewrite_model(&p, model(110000, false, true, true));
	reloaded(&p);
	for (int i = 0; i < 2; i++) {
		int fd = i ? b : a;

		assert_int_equal(next_event(fd, &id, NULL, NULL), 5); /* deleted */
		assert_int_equal(id, 2);
		assert_int_equal(next_event(fd, &id, NULL, NULL), 4); /* updated */
		assert_int_equal(id, 0);
		assert_int_equal(next_event(fd, &id, got, &n), 3);    /* created */
		assert_int_equal(id, 2); /* the lowest free id again */
	}
	/* The created event's bytes: the new domain's table, as get-perf-table. */
	w = req_begin(want, FAM_ID, 0, 0, 3, 1);
	mnl_attr_put_u32(w, 1, 2);
	put_device_state(w, 100000, 1000);
	put_device_state(w, 300000, 5000);
	assert_int_equal(n, w->nlmsg_len);
	assert_memory_equal(got, want, n);

	/* SIGHUP with the same file: no event. b asks for a table next, and the
	 * first packet it gets must be that reply. */
	emd_signal(&p, SIGHUP);
	reloaded(&p);
	table_answers(b, 77, 2);
	/* After LEAVE, a change brings a no longer (the same check). */
	join(b, EMNL_SEQPACKET_CMD_JOIN + 1);
	rewrite_model(&p, model(120000, false, true, true));
	reloaded(&p);
	assert_int_equal(next_event(a, &id, NULL, NULL), 4);
	assert_int_equal(id, 0);
	table_answers(b, 78, 0);
	close(a);
	close(b);
	emd_stop(&p);
}

/* Removing a CPU domain is refused whole: no event, the old model stays. */
static void test_reload_refused(void **state)
{
	const char *const args[] = {"--no-watch", NULL};
	struct emd_proc p;
	uint64_t req[16], got[256];
	struct nlmsghdr *r;
	size_t n;
	int a;

	(void)state;
	emd_start_model_take(&p, model(100000, true, false, true), args);
	a = member(&p);
	rewrite_model(&p, model(100000, false, false, false)); /* big and gpu gone */
	emd_signal(&p, SIGHUP);
	reloaded(&p);
	assert_non_null(strstr(emd_log_text(&p), "CPU domain 'big' is gone; CPU domains cannot "
						  "be removed (restart emd)"));
	/* gpu (id 2) is still there, and no event came first. */
	r = req_begin(req, FAM_ID, NLM_F_REQUEST, 5, 1, 1);
	mnl_attr_put_u32(r, 2, 2);
	send_pkt(a, r, r->nlmsg_len);
	n = recv_pkt(a, got, sizeof(got));
	assert_int_equal(nl(got)->nlmsg_seq, 5);
	assert_int_equal(nl(got)->nlmsg_type, FAM_ID);
	assert_int_equal(nl(got)->nlmsg_len, n);
	/* A model file with an error: refused, with the file's message. */
	write_file(p.model, "domains:\n  - name: x\n    colour: red\n");
	emd_signal(&p, SIGHUP);
	reloaded(&p);
	assert_non_null(strstr(emd_log_text(&p), "unknown field 'colour'"));
	close(a);
	emd_stop(&p);
}

/* The power of little's first state in an updated event. */
static unsigned int event_power(const void *buf)
{
	const struct nlmsghdr *m = buf;
	const struct nlattr *a, *s;

	mnl_attr_for_each(a, m, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != 2)
			continue;
		mnl_attr_for_each_nested(s, a)
			if (mnl_attr_get_type(s) == 4)
				return (unsigned int)mnl_attr_get_u64(s);
	}
	return 0;
}

static void test_slow_subscriber(void **state)
{
	const char *const args[] = {"--no-watch", "--client-queue", "4", "--sndbuf", "4096",
				    "--hooks", NULL};
	enum { ROUNDS = 60 };
	struct emd_proc p;
	uint64_t buf[1024];
	unsigned int got_before = 0;
	unsigned long long dropped = 0;
	uint32_t id;
	size_t n;
	int slow, fast;

	(void)state;
	emd_start_model_take(&p, model(100000, false, false, true), args);
	slow = member(&p);
	fast = member(&p);
	for (unsigned int i = 1; i <= ROUNDS; i++) {
		rewrite_model(&p, model(100000 + i, false, false, true));
		emd_signal(&p, SIGHUP);
		reloaded(&p);
		/* The reader that keeps up sees every change, in order. */
		assert_int_equal(next_event(fast, &id, buf, &n), 4);
		assert_int_equal(event_power(buf), 100000 + i);
	}
	/* The slow one: consecutive events from the first, then the overrun. */
	for (;;) {
		n = recv_pkt(slow, buf, sizeof(buf));
		if (nl(buf)->nlmsg_type == NLMSG_ERROR) {
			struct emnl_error e = parse_error(buf, n);

			assert_int_equal(e.err, -ENOBUFS);
			assert_int_equal(nl(buf)->nlmsg_seq, 0);
			assert_int_equal(sscanf(e.msg, "event queue full: %llu events dropped",
						&dropped), 1);
			break;
		}
		assert_int_equal(nl(buf)->nlmsg_type, FAM_ID);
		assert_int_equal(event_power(buf), 100000 + ++got_before);
	}
	assert_true(got_before < ROUNDS);
	assert_int_equal(got_before + dropped, ROUNDS);
	/* After the notice, events flow again, to both. */
	rewrite_model(&p, model(200000, false, false, true));
	emd_signal(&p, SIGHUP);
	reloaded(&p);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(next_event(i ? fast : slow, &id, buf, &n), 4);
		assert_int_equal(event_power(buf), 200000);
	}
	/* emd's own count agrees. */
	emd_signal(&p, SIGUSR2);
	{
		const char *st = emd_notify_wait(&p);
		const char *at = strstr(st, " dropped=");

		assert_non_null(at);
		assert_int_equal(strtoull(at + 9, NULL, 10), dropped);
	}
	close(slow);
	close(fast);
	emd_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_on_file_change),
		cmocka_unit_test(test_reload_refused),
		cmocka_unit_test(test_slow_subscriber),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
