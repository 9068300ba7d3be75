/*
 * hbclient — the hostile and the fragile client of the hardening tests.
 *
 * The tests/hardening shell scripts start the real emd on a temporary socket and drive it
 * with this program; each mode is one way a client can mistreat a server:
 *
 *   fuzz SOCK N SEED   send N requests made by the spec-driven generator
 *                      (fuzz/reqgen.c: valid ones and every kind of mutation,
 *                      for dev-energymodel and nlctrl), each followed by a
 *                      valid sentinel request; every reply datagram must be
 *                      well-formed (fuzz/replycheck.c) and the sentinel must
 *                      be answered, so emd is shown to survive and to keep
 *                      answering. Then the syzkaller case (get-perf-domains
 *                      do with an id that does not exist) must get -EINVAL
 *                      (the fixed kernel's errno) with a message and the
 *                      attribute's offset, a missing
 *                      id -EINVAL with MISS_TYPE, and a dump must still work.
 *   dump SOCK          dump every domain; print how many.
 *   dump-stall SOCK    start a dump with a small receive buffer, read one
 *                      packet, print "stalled", then wait to be killed.
 *   flood SOCK CLIENTS SECONDS
 *                      open CLIENTS connections with the smallest receive
 *                      buffer; on each, send one 32 KiB datagram packed with
 *                      get-perf-table requests for domain 0, read nothing,
 *                      print "sent" and hold the connections for SECONDS.
 *   get-retry SOCK ID SECONDS
 *                      ask for domain ID; when the connection fails (emd
 *                      killed), print the error, reconnect and retry until it
 *                      works or SECONDS pass.
 *
 * Output is one line per result, for the calling script to turn into TAP;
 * the exit status is 0 on success.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "emd_wire.h"
#include "emkit/nl.h"
#include "replycheck.h"
#include "reqgen.h"

#define EM_ID EMD_FAMILY_ID /* checked against what it resolves to */
#define CTRL_ID EMD_CTRL_ID

static struct emnl_spec *em, *ctrl;

static int connect_raw(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void hexdump(const char *what, const uint8_t *p, size_t len)
{
	fprintf(stderr, "%s (%zu bytes):", what, len);
	for (size_t i = 0; i < len && i < 512; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

/* Receive and check datagrams until the ack for @seq; -1 on failure. */
static int drain(int fd, struct rc_ctx *rc, uint32_t seq, const uint8_t *req, size_t req_len)
{
	static uint8_t buf[EMNL_DGRAM_MAX * 2];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int r;

		do
			r = poll(&p, 1, 10000);
		while (r < 0 && errno == EINTR);
		if (r != 1) {
			hexdump("request", req, req_len);
			printf("emd did not answer within 10 s\n");
			return -1;
		}
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		if (n <= 0) {
			hexdump("request", req, req_len);
			printf("emd closed the connection (%s)\n", n < 0 ? strerror(errno) : "EOF");
			return -1;
		}
		if (rc_check_dgram(rc, buf, (size_t)n)) {
			hexdump("request", req, req_len);
			hexdump("reply", buf, (size_t)n);
			printf("malformed reply: %s\n", rc->why);
			return -1;
		}
		if (rc_find_ack(buf, (size_t)n, seq))
			return 0;
	}
}

/* Send one datagram and wait for its single reply datagram. */
static ssize_t ask(int fd, const void *req, size_t len, uint8_t *reply, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	if (poll(&p, 1, 10000) != 1)
		return -ETIMEDOUT;
	return recv(fd, reply, size, 0);
}

/* The syzkaller case and the missing id, checked exactly. */
static int check_get_errors(int fd)
{
	uint8_t req[64] __attribute__((aligned(8))) = {0}, reply[1024] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = (struct nlmsghdr *)req;
	struct genlmsghdr *g = (struct genlmsghdr *)(req + NLMSG_HDRLEN);
	struct nlattr *na = (struct nlattr *)(req + NLMSG_HDRLEN + GENL_HDRLEN);
	struct emnl_error e;
	uint32_t id = 999999;
	ssize_t n;

	g->cmd = 1; /* get-perf-domains */
	g->version = 1;
	na->nla_type = 2; /* perf-domain-id */
	na->nla_len = NLA_HDRLEN + 4;
	memcpy(na + 1, &id, 4);
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + 8;
	nlh->nlmsg_type = EM_ID;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 77;
	n = ask(fd, req, nlh->nlmsg_len, reply, sizeof(reply));
	if (n <= 0 || emnl_extack_parse((struct nlmsghdr *)reply, &e, NULL) < 0) {
		printf("syzkaller case: no parsable NLMSG_ERROR (%zd)\n", n);
		return -1;
	}
	if (e.err != -EINVAL || !e.msg[0] || !e.has_offset ||
	    e.offset != NLMSG_HDRLEN + GENL_HDRLEN) {
		printf("syzkaller case: got err %d msg '%s' offset %s%u, want -EINVAL, a message, "
		       "offset 20\n", e.err, e.msg, e.has_offset ? "" : "none ", e.offset);
		return -1;
	}
	printf("syzkaller case: -EINVAL '%s' at offset %u\n", e.msg, e.offset);
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN; /* now without the id */
	nlh->nlmsg_seq = 78;
	n = ask(fd, req, nlh->nlmsg_len, reply, sizeof(reply));
	if (n <= 0 || emnl_extack_parse((struct nlmsghdr *)reply, &e, NULL) < 0 ||
	    e.err != -EINVAL || !e.has_miss_type || e.miss_type != 2) {
		printf("missing id: want -EINVAL with MISS_TYPE 2, got %d '%s'\n", e.err, e.msg);
		return -1;
	}
	printf("missing id: -EINVAL, MISS_TYPE %u\n", e.miss_type);
	return 0;
}

static int count_cb(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	(void)nlh;
	(void)msg;
	(*(unsigned *)data)++;
	return 0;
}

/* Dump every domain over a fresh connection; the count, or -errno. */
static int dump_count(const char *path, char *err_out, size_t err_size)
{
	struct emnl_error e = {0};
	struct emnl_sock *sk = emnl_sock_open_unix(path, &e);
	struct emnl_family fam = {0};
	unsigned count = 0;
	int ret;

	if (!sk) {
		snprintf(err_out, err_size, "%s", e.msg);
		return e.err ? e.err : -EIO;
	}
	ret = emnl_family_resolve(sk, em, &fam, &e);
	if (!ret)
		ret = emnl_dump(sk, &fam, emnl_spec_op(em, "get-perf-domains"), NULL, count_cb,
				&count, &e);
	if (ret)
		emnl_error_format(&e, em, err_out, err_size);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
	return ret ? ret : (int)count;
}

static int mode_fuzz(const char *path, unsigned long n, unsigned long long seed)
{
	static uint8_t buf[EMNL_DGRAM_MAX] __attribute__((aligned(8)));
	uint8_t sent[64] __attribute__((aligned(8)));
	unsigned long per_mut[RG_MUT__COUNT] = {0};
	struct rc_ctx rc;
	char err[600];
	int fd = connect_raw(path), count;

	if (fd < 0) {
		printf("cannot connect to %s: %s\n", path, strerror(-fd));
		return 1;
	}
	rc_init(&rc, em, EM_ID, ctrl, CTRL_ID);
	for (unsigned long i = 0; i < n; i++) {
		struct rg_src src;
		struct rg_req r;
		bool to_ctrl = i % 4 == 3;
		size_t len, slen;

		rg_src_seed(&src, seed * 1000003ULL + i);
		len = rg_generate(&src, to_ctrl ? ctrl : em, to_ctrl ? CTRL_ID : EM_ID,
				  RG_MUT__COUNT, buf, sizeof(buf), &r);
		if (!len)
			continue;
		per_mut[r.mut]++;
		slen = rc_sentinel(sent, 0x5e000000u + (uint32_t)i);
		if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len ||
		    send(fd, sent, slen, MSG_NOSIGNAL) != (ssize_t)slen) {
			hexdump("request", buf, len);
			printf("request %lu (%s): send failed: %s\n", i, rg_mut_name(r.mut),
			       strerror(errno));
			return 1;
		}
		if (drain(fd, &rc, 0x5e000000u + (uint32_t)i, buf, len)) {
			printf("request %lu (seed %llu, mutation %s, op %s%s) broke the rule above\n",
			       i, seed, rg_mut_name(r.mut), r.op ? r.op->name : "?",
			       r.dump ? " dump" : "");
			return 1;
		}
	}
	printf("%lu requests: %llu reply datagrams, %llu messages, %llu errors, %llu acks, "
	       "%llu dumps, all well-formed; mutations:", n, (unsigned long long)rc.datagrams,
	       (unsigned long long)rc.msgs, (unsigned long long)rc.errors,
	       (unsigned long long)rc.acks, (unsigned long long)rc.dumps_done);
	for (int m = 0; m < RG_MUT__COUNT; m++)
		if (per_mut[m])
			printf(" %s=%lu", rg_mut_name((enum rg_mut)m), per_mut[m]);
	printf("\n");
	if (check_get_errors(fd))
		return 1;
	close(fd);
	count = dump_count(path, err, sizeof(err));
	if (count <= 0) {
		printf("dump after the requests failed: %s\n", count ? err : "no domains");
		return 1;
	}
	printf("dump after the requests: %d domains\n", count);
	return 0;
}

static int mode_dump(const char *path)
{
	char err[600];
	int count = dump_count(path, err, sizeof(err));

	if (count < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	printf("%d\n", count);
	return 0;
}

static int mode_dump_stall(const char *path)
{
	uint8_t req[32] __attribute__((aligned(8))) = {0}, buf[256];
	struct nlmsghdr *nlh = (struct nlmsghdr *)req;
	struct genlmsghdr *g = (struct genlmsghdr *)(req + NLMSG_HDRLEN);
	int fd = connect_raw(path), small = 1;

	if (fd < 0) {
		printf("cannot connect: %s\n", strerror(-fd));
		return 1;
	}
	/* The smallest buffers: emd's sends hit EAGAIN and it must queue. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	g->cmd = 1;
	g->version = 1;
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	nlh->nlmsg_type = EM_ID;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	if (send(fd, req, nlh->nlmsg_len, 0) < 0 || recv(fd, buf, sizeof(buf), MSG_TRUNC) <= 0) {
		printf("no first packet: %s\n", strerror(errno));
		return 1;
	}
	printf("stalled\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int mode_flood(const char *path, unsigned clients, unsigned seconds)
{
	static uint8_t dgram[EMNL_DGRAM_MAX] __attribute__((aligned(8)));
	const size_t one = NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 4;
	size_t len = 0;
	int small = 1;

	for (uint32_t seq = 1; len + one <= sizeof(dgram); seq++, len += one) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(dgram + len);
		struct genlmsghdr *g = (struct genlmsghdr *)(nlh + 1);
		struct nlattr *na = (struct nlattr *)(g + 1);

		nlh->nlmsg_len = (uint32_t)one;
		nlh->nlmsg_type = EM_ID;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		nlh->nlmsg_seq = seq;
		g->cmd = 2; /* get-perf-table */
		g->version = 1;
		na->nla_len = NLA_HDRLEN + 4;
		na->nla_type = 1; /* perf-domain-id 0 */
		memset(na + 1, 0, 4);
	}
	for (unsigned i = 0; i < clients; i++) {
		int fd = connect_raw(path);

		if (fd < 0) {
			printf("connection %u: %s\n", i, strerror(-fd));
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		if (send(fd, dgram, len, 0) != (ssize_t)len) {
			printf("connection %u: send: %s\n", i, strerror(errno));
			return 1;
		}
	}
	printf("sent %u datagrams of %zu requests\n", clients, len / one);
	fflush(stdout);
	sleep(seconds);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int mode_get_retry(const char *path, unsigned id, double seconds)
{
	double end = now() + seconds;
	const struct emnl_op *op = emnl_spec_op(em, "get-perf-domains");
	unsigned failures = 0;

	for (;;) {
		struct emnl_error e = {0};
		struct emnl_sock *sk = emnl_sock_open_unix(path, &e);
		struct emnl_family fam = {0};
		struct emnl_attrs *req = NULL, *reply = NULL;
		char line[600];
		int ret = sk ? emnl_family_resolve(sk, em, &fam, &e) : (e.err ? e.err : -EIO);

		if (!ret) {
			req = emnl_attrs_new(op->set);
			ret = req ? emnl_attrs_add_uint(req, "perf-domain-id", id) : -ENOMEM;
			if (!ret)
				ret = emnl_do(sk, &fam, op, req, &reply, &e);
		}
		emnl_attrs_free(req);
		emnl_attrs_free(reply);
		emnl_family_release(&fam);
		if (sk)
			emnl_sock_close(sk);
		if (!ret) {
			printf("ok: domain %u after %u failed attempts\n", id, failures);
			return 0;
		}
		if (!e.err)
			emnl_error_set(&e, ret, "%s", strerror(-ret));
		/* Report each distinct failure once: the first one is the one the
		 * client saw while emd went away. */
		if (failures++ == 0) {
			emnl_error_format(&e, em, line, sizeof(line));
			printf("error: %s\n", line);
			fflush(stdout);
		}
		if (now() > end) {
			printf("gave up after %u attempts\n", failures);
			return 1;
		}
		usleep(50000);
	}
}

int main(int argc, char **argv)
{
	int ret = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	em = rg_spec_load("dev-energymodel", "hbclient", 2);
	ctrl = rg_spec_load("nlctrl", "hbclient", 2);
	if (argc == 5 && !strcmp(argv[1], "fuzz"))
		ret = mode_fuzz(argv[2], strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	else if (argc == 3 && !strcmp(argv[1], "dump"))
		ret = mode_dump(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "dump-stall"))
		ret = mode_dump_stall(argv[2]);
	else if (argc == 5 && !strcmp(argv[1], "flood"))
		ret = mode_flood(argv[2], (unsigned)strtoul(argv[3], NULL, 0),
				 (unsigned)strtoul(argv[4], NULL, 0));
	else if (argc == 5 && !strcmp(argv[1], "get-retry"))
		ret = mode_get_retry(argv[2], (unsigned)strtoul(argv[3], NULL, 0), atof(argv[4]));
	else
		fprintf(stderr, "usage: hbclient fuzz SOCK N SEED | dump SOCK | dump-stall SOCK | "
				"flood SOCK CLIENTS SECONDS | get-retry SOCK ID SECONDS\n");
	emnl_spec_free(em);
	emnl_spec_free(ctrl);
	return ret;
}
