/*
 * libFuzzer target: emd's request handling, in-process.
 *
 * emd's own server library (everything but main.c, instrumented for
 * coverage) runs in a thread of the fuzzer (tests/fixtures/emd_runner.c),
 * serving a model file of 40 device domains on a temporary socket with
 * 200-byte dump packets (so
 * that every dump resumes across many packets) and the smallest per-client
 * queue (so that a datagram of many requests is answered in parts). The fuzzer is its client.
 * Each input becomes one request datagram — raw bytes, or made by the
 * spec-driven generator (reqgen.c) from the input's bytes as choices, for
 * dev-energymodel or nlctrl — followed by a valid sentinel request; every
 * reply datagram is checked by replycheck.c (well-formed netlink, extended
 * acks that parse, replies that pass strict validation, dumps that end with
 * NLMSG_DONE) and the sentinel's ack must come back within 20 s. Three flag
 * bits (all set: one input in eight) rewrite the model file first (40 or 39 domains, renamed into place), so
 * that emd's inotify reload, its events and its dump resumption meet the
 * requests. Any failure aborts with the reason and the request in hex;
 * ASan/UBSan watch emd's code as well as ours, since it is instrumented.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/genetlink.h>

#include "emd_runner.h"
#include "replycheck.h"
#include "reqgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct emd_runner run;
static int fd = -1;
static struct rc_ctx rc;
static uint32_t sentinel_seq = 0x5e000000;
static unsigned model_variant;

static void die(const char *what)
{
	fprintf(stderr, "fuzz-emd: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct emd_config cfg;

	(void)argc;
	(void)argv;
	emd_config_defaults(&cfg);
	cfg.dump_packet_size = 200;
	cfg.max_clients = 64;
	cfg.queue_bytes = 4096; /* the smallest: a datagram of requests waits half-read */
	if (emd_runner_start(&run, &cfg, 40, NULL))
		die("emd does not start");
	pthread_detach(run.thread);
	fd = emd_runner_connect(&run);
	if (fd < 0)
		die("cannot connect to emd");
	rc_init(&rc, run.d.spec, EMD_FAMILY_ID, run.d.ctrl_spec, EMD_CTRL_ID);
	return 0;
}

static void hexdump(const char *what, const uint8_t *p, size_t len)
{
	fprintf(stderr, "%s (%zu bytes):", what, len);
	for (size_t i = 0; i < len && i < 512; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

/* What emd's clients look like (read without emd's cooperation: for the
 * report of a stall only). */
static void dump_state(void)
{
	emd_server_describe(&run.d, stderr);
}

/* Send @req and the sentinel; check every reply until the sentinel's ack. */
static void exchange(const uint8_t *req, size_t len)
{
	static uint8_t buf[EMNL_DGRAM_MAX * 2];
	uint8_t sent[64] __attribute__((aligned(8)));
	uint32_t seq = sentinel_seq++;
	size_t slen = rc_sentinel(sent, seq);

	if (len && send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		hexdump("request", req, len);
		die("emd refused a datagram (connection closed?)");
	}
	if (send(fd, sent, slen, MSG_NOSIGNAL) != (ssize_t)slen)
		die("emd refused the sentinel");
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int r;

		/* libFuzzer's -timeout alarm (SIGALRM) interrupts poll and recv:
		 * EINTR is not an answer, nor a stall. */
		do
			r = poll(&p, 1, 20000);
		while (r < 0 && errno == EINTR);
		if (r != 1) {
			hexdump("request", req, len);
			dump_state();
			/* FUZZ_EMD_STALL_WAIT=SECONDS: stay alive that long for a
			 * debugger to look at emd's thread. */
			if (getenv("FUZZ_EMD_STALL_WAIT")) {
				fprintf(stderr, "fuzz-emd: stalled; pid %d waits\n", (int)getpid());
				sleep((unsigned)atoi(getenv("FUZZ_EMD_STALL_WAIT")));
			}
			die("emd did not answer within 20 s");
		}
		do
			n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			hexdump("request", req, len);
			die("emd closed the connection");
		}
		if (rc_check_dgram(&rc, buf, (size_t)n)) {
			hexdump("request", req, len);
			hexdump("reply", buf, (size_t)n);
			die(rc.why);
		}
		if (rc_find_ack(buf, (size_t)n, seq))
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[EMNL_DGRAM_MAX] __attribute__((aligned(8)));
	bool to_ctrl;
	size_t len;

	if (size < 1)
		return 0;
	to_ctrl = data[0] & 2;
	if ((data[0] & 0x1c) == 0x1c) { /* one input in eight */
		model_variant ^= 1;
		if (emd_runner_write_model(&run, model_variant ? 39 : 40))
			die("cannot write the model file");
	}
	if (data[0] & 1) {
		struct rg_src src;
		struct rg_req r;

		rg_src_bytes(&src, data + 1, size - 1);
		len = rg_generate(&src, to_ctrl ? run.d.ctrl_spec : run.d.spec,
				  to_ctrl ? EMD_CTRL_ID : EMD_FAMILY_ID, RG_MUT__COUNT, buf,
				  sizeof(buf), &r);
	} else {
		len = size - 1 < sizeof(buf) ? size - 1 : sizeof(buf);
		memcpy(buf, data + 1, len);
	}
	exchange(buf, len);
	return 0;
}
