/*
 * libFuzzer target: emd's request handling, in-process.
 *
 * emd's own server code (emd/server.c, family.c, ctrl.c, msg.c, model.c...,
 * everything but main.c) runs in a thread of the fuzzer, serving a model file
 * of 40 device domains on a temporary socket with 200-byte dump packets (so
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

#include "emd.h"
#include "replycheck.h"
#include "reqgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct emd d;
static char dir[256], sock_path[300], model_path[300];
static int fd = -1;
static struct rc_ctx rc;
static uint32_t sentinel_seq = 0x5e000000;
static unsigned model_variant;

static void die(const char *what)
{
	fprintf(stderr, "fuzz-emd: %s\n", what);
	abort();
}

/* Write a model of @n device domains and rename it into place. */
static void write_model(unsigned n)
{
	char tmp[320];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", model_path);
	f = fopen(tmp, "w");
	if (!f)
		die("cannot write the model file");
	fprintf(f, "domains:\n");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "  - {name: d%u, flags: [microwatts], states: [{frequency: %u, power: %u},"
			   " {frequency: %u, power: %u}]}\n", i, 1000 + i, 10 + i, 2000 + i, 30 + i);
	if (fclose(f) || rename(tmp, model_path))
		die("cannot write the model file");
}

static void *serve(void *arg)
{
	(void)arg;
	emd_server_run(&d);
	return NULL;
}

static int connect_client(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("cannot connect to emd");
	return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct emnl_error e;
	struct em_error err = {{0}};
	pthread_t t;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/emkit-fuzz-emd.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(sock_path, sizeof(sock_path), "%s/emd.sock", dir);
	snprintf(model_path, sizeof(model_path), "%s/model.yaml", dir);
	write_model(40);
	d.cfg = (struct emd_config){
		.socket_path = sock_path,
		.model_kind = EMD_MODEL_FILE,
		.model_path = model_path,
		.dump_packet_size = 200,
		.max_clients = 64,
		.max_request = EMNL_DGRAM_MAX,
		.client_queue = 256,
		.queue_bytes = 4096, /* the smallest: a datagram of requests waits half-read */
		.watch_model = true,
		.pad = emnl_pad_mode_native(),
	};
	d.epfd = d.lfd = d.sigfd = d.inofd = d.inowd = -1;
	if (emd_specs_load(&d, &e))
		die("emd's built-in specs do not load");
	if (emd_model_load(&d, &err) || emd_events_attach(&d) || emd_model_watch(&d) ||
	    emd_server_open(&d))
		die(err.msg[0] ? err.msg : "emd does not start");
	if (pthread_create(&t, NULL, serve, NULL))
		die("pthread_create");
	pthread_detach(t);
	fd = connect_client();
	rc_init(&rc, d.spec, EMD_FAMILY_ID, d.ctrl_spec, EMD_CTRL_ID);
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
	for (const struct emd_client *c = d.clients; c; c = c->next)
		fprintf(stderr, "client fd %d: queue %u%s, dump kind %d next %u done_sent %d, "
			"epoll 0x%x, subscribed %d, overrun %d, closing %d\n", c->fd, c->q_len,
			c->q_head ? " (head set)" : "", c->dump.kind, c->dump.next,
			c->dump.done_sent, c->epoll_events, c->subscribed, c->overrun, c->closing);
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
		write_model(model_variant ? 39 : 40);
	}
	if (data[0] & 1) {
		struct rg_src src;
		struct rg_req r;

		rg_src_bytes(&src, data + 1, size - 1);
		len = rg_generate(&src, to_ctrl ? d.ctrl_spec : d.spec,
				  to_ctrl ? EMD_CTRL_ID : EMD_FAMILY_ID, RG_MUT__COUNT, buf,
				  sizeof(buf), &r);
	} else {
		len = size - 1 < sizeof(buf) ? size - 1 : sizeof(buf);
		memcpy(buf, data + 1, len);
	}
	exchange(buf, len);
	return 0;
}
