/*
 * Netlink layer benchmark (not a test: it prints numbers, it asserts
 * nothing about time). Two measurements:
 *
 *  1. codec: encode and decode a dev-energymodel perf-table message with 64
 *     perf states (the biggest message emd sends), in ns per message, each
 *     alone and one after the other; and, apart, building that tree.
 *  2. kernel round trip: CTRL_CMD_GETFAMILY for "nlctrl" with NLM_F_ACK
 *     through emnl_do (request tree on the stack, encode, send, receive reply
 *     and ack, decode into a tree), against the same exchange written here on a bare
 *     netlink socket (fixed request bytes, send, receive until the ack, pick
 *     the family id out of the reply). Same process, same run, alternating
 *     rounds; the ratio of the medians is the client's overhead (goal ≤ 1.10).
 *
 * Usage: nl_bench [SPEC_DIR] [ROUNDS] [codec|kernel]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emkit/nl.h"
#include "../timing.h"
#include "genl_req.h"

#ifndef EMNL_SPEC_DIR
#define EMNL_SPEC_DIR "spec"
#endif

/* Keeps results alive so the compiler cannot drop the work. */
static volatile uint64_t sink;

/* ---- codec ------------------------------------------------------------------ */

static struct emnl_attrs *build_table(const struct emnl_spec *em)
{
	struct emnl_attrs *t = emnl_attrs_new(emnl_spec_set(em, "perf-table"));

	emnl_attrs_add_uint(t, "perf-domain-id", 1);
	for (int i = 0; i < 64; i++) {
		struct emnl_attrs *s;
		uint64_t freq = 200000 + 30000 * (uint64_t)i;

		emnl_attrs_add_nest(t, "perf-state", &s);
		emnl_attrs_add_uint(s, "performance", 1024 * freq / 2090000);
		emnl_attrs_add_uint(s, "frequency", freq);
		emnl_attrs_add_uint(s, "power", 1000 + 900 * (uint64_t)i * (uint64_t)i);
		emnl_attrs_add_uint(s, "cost", 10 + (uint64_t)i);
		emnl_attrs_add_uint(s, "flags", 0);
	}
	return t;
}

static void bench_codec(const struct emnl_spec *em, int rounds)
{
	static uint8_t buf[16384] __attribute__((aligned(8)));
	struct emnl_hdr h = {.nlmsg_type = 0x20, .cmd = 2, .version = 1};
	const int iters = 2000;
	double build[64], enc[64], dec[64], all[64];
	struct emnl_attrs *t = build_table(em);
	struct emnl_error e;
	int len = emnl_encode(buf, sizeof(buf), NULL, &h, t, EMNL_PAD_NEVER);

	if (rounds > 64)
		rounds = 64;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ns();

		for (int i = 0; i < iters; i++) {
			struct emnl_attrs *x = build_table(em);

			sink += x->n;
			emnl_attrs_free(x);
		}
		build[r] = (now_ns() - t0) / iters;
		t0 = now_ns();
		for (int i = 0; i < iters; i++)
			sink += (uint64_t)emnl_encode(buf, sizeof(buf), NULL, &h, t, EMNL_PAD_NEVER);
		enc[r] = (now_ns() - t0) / iters;
		t0 = now_ns();
		for (int i = 0; i < iters; i++) {
			struct emnl_attrs *x;

			if (emnl_decode((struct nlmsghdr *)buf, t->set, NULL, &x, &e) == 0) {
				sink += x->n;
				emnl_attrs_free(x);
			}
		}
		dec[r] = (now_ns() - t0) / iters;
		t0 = now_ns();
		for (int i = 0; i < iters; i++) {
			struct emnl_attrs *y;

			emnl_encode(buf, sizeof(buf), NULL, &h, t, EMNL_PAD_NEVER);
			if (emnl_decode((struct nlmsghdr *)buf, t->set, NULL, &y, &e) == 0) {
				sink += y->n;
				emnl_attrs_free(y);
			}
		}
		all[r] = (now_ns() - t0) / iters;
	}
	/* The server's side of a request: strict validation of a do request
	 * with its required attribute, and the extended ack for a bad one. */
	{
		static uint8_t req[64] __attribute__((aligned(8))), ack[256] __attribute__((aligned(8)));
		static const uint16_t need[] = {2};
		const struct emnl_op *op = emnl_spec_op(em, "get-perf-domains");
		struct emnl_attrs *q = emnl_attrs_new(op->set);
		struct emnl_hdr qh = {.nlmsg_type = 0x20, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
				      .cmd = 1, .version = 1};
		struct emnl_error bad = {.err = -ENOENT, .has_offset = true, .offset = 20};
		double val[64], ext[64];
		int qlen;

		emnl_attrs_add_uint(q, "perf-domain-id", 0);
		qlen = emnl_encode(req, sizeof(req), NULL, &qh, q, EMNL_PAD_NEVER);
		strcpy(bad.msg, "no performance domain 7");
		for (int r = 0; r < rounds; r++) {
			double t0 = now_ns();

			for (int i = 0; i < iters * 10; i++)
				sink += (uint64_t)emnl_validate(em, (struct nlmsghdr *)req, (size_t)qlen,
								false, need, 1, NULL, &e);
			val[r] = (now_ns() - t0) / (iters * 10);
			t0 = now_ns();
			for (int i = 0; i < iters * 10; i++)
				sink += (uint64_t)emnl_extack_put(ack, sizeof(ack), (struct nlmsghdr *)req,
								  &bad, true, true);
			ext[r] = (now_ns() - t0) / (iters * 10);
		}
		printf("server side: validate a get-perf-domains request  %6.0f ns (median)\n",
		       median(val, rounds));
		printf("             extended ack with message + offset   %6.0f ns\n",
		       median(ext, rounds));
		emnl_attrs_free(q);
	}
	printf("codec: perf-table with 64 states, %d bytes on the wire (%d rounds x %d)\n", len,
	       rounds, iters);
	printf("  encode            %8.0f ns/message (median)\n", median(enc, rounds));
	printf("  decode            %8.0f ns/message\n", median(dec, rounds));
	printf("  encode+decode     %8.0f ns/message\n", median(all, rounds));
	printf("  (building the tree by attribute names: %.0f ns/message)\n", median(build, rounds));
	emnl_attrs_free(t);
}

/* ---- kernel round trip ------------------------------------------------------ */

/* The bare exchange: fixed request, receive until the ack. Returns the id. */
static int raw_getfamily(int fd, uint8_t *req, size_t reqlen, uint32_t seq, uint8_t *buf,
			 size_t buflen)
{
	struct nlmsghdr *q = (struct nlmsghdr *)req;
	int id = -1;

	q->nlmsg_seq = seq;
	if (send(fd, req, reqlen, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, buflen, 0);
		int len = (int)n;
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlattr *a;

			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);

				return me->error ? me->error : id;
			}
			mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
				if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
					id = mnl_attr_get_u16(a);
		}
	}
}

static int bench_kernel(const struct emnl_spec *ctrl, int rounds)
{
	static uint8_t req[64] __attribute__((aligned(8))), buf[32768] __attribute__((aligned(8)));
	const int iters = 500;
	double ours[64], raw[64];
	struct emnl_error e;
	struct emnl_sock *sk = emnl_sock_open_kernel(&e);
	struct emnl_family fam;
	const struct emnl_op *op = emnl_spec_op(ctrl, "getfamily");
	struct nlmsghdr *nlh;
	int one = 1, fd;
	uint32_t seq = 1;
	double mo, mr;

	if (!sk || emnl_family_resolve(sk, ctrl, &fam, &e)) {
		fprintf(stderr, "bench_nl: %s\n", e.msg);
		return 1;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nlh = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, 0, CTRL_CMD_GETFAMILY, 2);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	if (raw_getfamily(fd, req, nlh->nlmsg_len, seq++, buf, sizeof(buf)) != GENL_ID_CTRL) {
		fprintf(stderr, "bench_nl: raw getfamily failed\n");
		return 1;
	}
	if (rounds > 64)
		rounds = 64;
	for (int r = 0; r < rounds; r++) {
		/* Alternate which side goes first, so drift favours neither. */
		for (int side = 0; side < 2; side++) {
			double t0 = now_ns();

			if ((side ^ r) & 1) {
				for (int i = 0; i < iters; i++)
					sink += (uint64_t)raw_getfamily(fd, req, nlh->nlmsg_len, seq++,
									buf, sizeof(buf));
				raw[r] = (now_ns() - t0) / iters;
				continue;
			}
			for (int i = 0; i < iters; i++) {
				struct emnl_attrs q, *reply;
				struct emnl_value qv[2];

				/* The request on the stack, as a hot path would build it. */
				emnl_attrs_init(&q, op->set, qv, 2);
				emnl_attrs_add_str_ref(&q, "family-name", "nlctrl");
				if (emnl_do(sk, &fam, op, &q, &reply, &e)) {
					fprintf(stderr, "bench_nl: %s\n", e.msg);
					return 1;
				}
				sink += emnl_attrs_get(reply, "family-id")->u;
				emnl_attrs_free(reply);
				emnl_attrs_free(&q);
			}
			ours[r] = (now_ns() - t0) / iters;
		}
	}
	{
		/* Rounds are adjacent pairs under the same machine load, so the
		 * median of per-round ratios is steadier than a ratio of medians;
		 * the fastest rounds show the cost with the least interference. */
		double ratio[64], lo_o = ours[0], lo_r = raw[0];

		for (int r = 0; r < rounds; r++) {
			ratio[r] = ours[r] / raw[r];
			lo_o = ours[r] < lo_o ? ours[r] : lo_o;
			lo_r = raw[r] < lo_r ? raw[r] : lo_r;
		}
		mo = median(ours, rounds);
		mr = median(raw, rounds);
		printf("kernel CTRL_CMD_GETFAMILY(\"nlctrl\") + ack round trip (%d rounds x %d, alternating)\n",
		       rounds, iters);
		printf("  emnl_do (tree in, tree out)  %8.0f ns (median)  %8.0f ns (fastest round)\n",
		       mo, lo_o);
		printf("  raw socket, same exchange    %8.0f ns (median)  %8.0f ns (fastest round)\n",
		       mr, lo_r);
		printf("  ratio                        %8.3f x (median of per-round ratios; goal <= 1.10)\n",
		       median(ratio, rounds));
		printf("                               %8.3f x (fastest rounds)\n", lo_o / lo_r);
	}
	close(fd);
	emnl_family_release(&fam);
	emnl_sock_close(sk);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : EMNL_SPEC_DIR;
	int rounds = argc > 2 ? atoi(argv[2]) : 31;
	char path[512];
	struct emnl_error e;
	struct emnl_spec *em, *ctrl;
	int rc;

	if (rounds < 1)
		rounds = 1;
	snprintf(path, sizeof(path), "%s/dev-energymodel.yaml", dir);
	em = emnl_spec_load(path, &e);
	snprintf(path, sizeof(path), "%s/nlctrl.yaml", dir);
	ctrl = em ? emnl_spec_load(path, &e) : NULL;
	if (!em || !ctrl) {
		fprintf(stderr, "bench_nl: %s\n", e.msg);
		emnl_spec_free(em);
		return 1;
	}
	rc = 0;
	if (argc <= 3 || !strcmp(argv[3], "codec"))
		bench_codec(em, rounds);
	if (argc <= 3 || !strcmp(argv[3], "kernel"))
		rc = bench_kernel(ctrl, rounds);
	emnl_spec_free(em);
	emnl_spec_free(ctrl);
	return rc;
}
