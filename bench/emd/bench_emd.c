/*
 * emd's benchmark (an executable, not a test): what a client pays to ask emd,
 * against a bare UNIX SOCK_SEQPACKET echo server measured in the same run.
 *
 *   1. do round trip: get-perf-domains and get-perf-table requests, one at a
 *      time, p50 and p99 latency, against an echo server (a separate process,
 *      a blocking recv/send loop) answering each request with a packet of the
 *      same size as emd's reply. Goal: emd p50 <= 1.25 x echo p50.
 *   2. throughput: 32 requests in flight on one connection, replies per second,
 *      emd against the echo.
 *   3. dump: a model of N domains x 32 states written to a file and served by
 *      emd: get-perf-domains dump (domains/s), then get-perf-table for every
 *      domain (states/s), and emd's peak resident memory (VmHWM), as N grows
 *      to 4,096 and beyond.
 *   4. cpu: emd's own time on a CPU per request (/proc/PID/schedstat), one
 *      request at a time: what emd spends, whatever else the machine runs
 *      (wall-clock figures on a shared machine move by tens of percent).
 *
 * Usage: emd_bench [ROUNDS] [rt|dump|cpu]   (default 20000 round trips per
 * measurement, every part). EMD_BENCH_EMD=PATH measures another emd binary
 * (another build's, to compare).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "../timing.h"
#include "emd_wire.h"

#define FAM_ID EMD_FAMILY_ID

extern char **environ;

/* The emd measured: this build's, or $EMD_BENCH_EMD. */
static const char *emd_path(void)
{
	const char *p = getenv("EMD_BENCH_EMD");

	return p && p[0] ? p : EMD_PATH;
}

/* Connect to a seqpacket socket, retrying while the server starts. */
static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		exit(1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (int i = 0; i < 60000; i++) { /* up to 5 minutes: a large model loads slowly */
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		usleep(5000);
	}
	fprintf(stderr, "emd_bench: cannot connect to %s\n", path);
	exit(1);
}

/* Start emd on @sock with @model (NULL: the default). */
static pid_t start_emd(const char *sock, const char *model)
{
	const char *argv[8];
	int n = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	argv[n++] = emd_path();
	argv[n++] = "--socket";
	argv[n++] = sock;
	if (geteuid() == 0)
		argv[n++] = "--allow-root"; /* emd refuses root unless told */
	if (model) {
		argv[n++] = "--model";
		argv[n++] = model;
		argv[n++] = "--no-watch";
	} else {
		argv[n++] = "--default";
	}
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, emd_path(), &fa, NULL, (char *const *)argv, environ)) {
		fprintf(stderr, "emd_bench: posix_spawn %s: %s\n", emd_path(), strerror(errno));
		exit(1);
	}
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static void stop(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

/* The echo server: answer each packet with @reply_len bytes, blocking. */
static pid_t start_echo(const char *sock, size_t reply_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pid_t pid;
	int lfd;

	if (strlen(sock) >= sizeof(sa.sun_path))
		exit(1);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	unlink(sock);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8)) {
		perror("emd_bench: echo socket");
		exit(1);
	}
	pid = fork();
	if (pid == 0) {
		static uint8_t buf[65536], out[65536];
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		memset(out, 0x5a, sizeof(out));
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			memcpy(out, buf, n < 16 ? (size_t)n : 16); /* echo the header */
			if (send(fd, out, reply_len, MSG_NOSIGNAL) < 0)
				break;
		}
		_exit(0);
	}
	close(lfd);
	return pid;
}

/* One request: get-perf-domains (cmd 1) or get-perf-table (cmd 2) for @id. */
static size_t make_req(void *buf, uint8_t cmd, uint32_t id, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	nlh->nlmsg_type = FAM_ID;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	g->cmd = cmd;
	g->version = 1;
	mnl_attr_put_u32(nlh, cmd == 1 ? 2 : 1, id);
	return nlh->nlmsg_len;
}

/* @rounds round trips of @req on @fd; latencies (ns) into @lat. Returns the
 * reply size. */
static size_t round_trips(int fd, const void *req, size_t len, double *lat, int rounds)
{
	static uint8_t buf[65536];
	ssize_t n = 0;

	for (int i = 0; i < rounds; i++) {
		double t0 = now_ns();

		if (send(fd, req, len, 0) != (ssize_t)len || (n = recv(fd, buf, sizeof(buf), 0)) <= 0) {
			fprintf(stderr, "emd_bench: round trip failed: %s\n", strerror(errno));
			exit(1);
		}
		lat[i] = now_ns() - t0;
	}
	return (size_t)n;
}

/* Replies per second with @window requests in flight. */
static double throughput(int fd, const void *req, size_t len, int total, int window)
{
	static uint8_t buf[65536];
	int sent = 0, got = 0;
	double t0 = now_ns();

	while (sent < window && sent < total) {
		send(fd, req, len, 0);
		sent++;
	}
	while (got < total) {
		if (recv(fd, buf, sizeof(buf), 0) <= 0) {
			fprintf(stderr, "emd_bench: throughput: %s\n", strerror(errno));
			exit(1);
		}
		got++;
		if (sent < total) {
			send(fd, req, len, 0);
			sent++;
		}
	}
	return total / ((now_ns() - t0) / 1e9);
}

/* Latency of one request kind on emd and on an echo of the same size. */
static void latency_case(const char *dir, const char *what, uint8_t cmd, int rounds)
{
	char esock[96], dsock[96];
	uint8_t req[64];
	double *le = calloc((size_t)rounds, sizeof(double));
	double *ld = calloc((size_t)rounds, sizeof(double));
	size_t len = make_req(req, cmd, 1, 1), reply;
	double te, td;
	pid_t emd, echo;
	int fd;

	snprintf(dsock, sizeof(dsock), "%s/emd.sock", dir);
	snprintf(esock, sizeof(esock), "%s/echo.sock", dir);
	emd = start_emd(dsock, NULL);
	fd = connect_to(dsock);
	reply = round_trips(fd, req, len, ld, rounds / 10); /* warm up; learn the size */
	round_trips(fd, req, len, ld, rounds);
	td = throughput(fd, req, len, rounds, 32);
	close(fd);
	stop(emd);

	echo = start_echo(esock, reply);
	fd = connect_to(esock);
	round_trips(fd, req, len, le, rounds / 10);
	round_trips(fd, req, len, le, rounds);
	te = throughput(fd, req, len, rounds, 32);
	close(fd);
	stop(echo);
	unlink(esock);

	qsort(ld, (size_t)rounds, sizeof(double), cmp_double);
	qsort(le, (size_t)rounds, sizeof(double), cmp_double);
	printf("%-24s %5zu B  p50 %7.0f ns (echo %7.0f, x%.2f)  p99 %7.0f ns (echo %7.0f, x%.2f)\n",
	       what, reply, ld[rounds / 2], le[rounds / 2], ld[rounds / 2] / le[rounds / 2],
	       ld[rounds * 99 / 100], le[rounds * 99 / 100],
	       ld[rounds * 99 / 100] / le[rounds * 99 / 100]);
	printf("%-24s %5s    throughput %8.0f replies/s (echo %8.0f, x%.2f), 32 in flight\n", "",
	       "", td, te, td / te);
	free(le);
	free(ld);
}

/* A model of @n domains x @states states (CPU domains first, one CPU each,
 * up to 1,024; then device domains). */
static void write_model(const char *path, unsigned int n, unsigned int states)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "domains:\n");
	for (unsigned int i = 0; i < n; i++) {
		if (i < 1024)
			fprintf(f, "  - name: c%u\n    cpus: [%u]\n    capacity: 1024\n"
				   "    flags: [microwatts]\n    states:\n", i, i);
		else
			fprintf(f, "  - name: d%u\n    flags: [microwatts]\n    states:\n", i);
		for (unsigned int s = 0; s < states; s++)
			fprintf(f, "      - { frequency: %u, power: %u }\n", 100000 * (s + 1),
				1000 + s * s * 50 + (i % 7) * s);
	}
	fclose(f);
}

/* emd's peak resident memory, kB. */
static long vm_hwm(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Dump and fetch every table of an @n-domain model. */
static void dump_case(const char *dir, unsigned int n, unsigned int states)
{
	static uint8_t buf[65536];
	char sock[96], model[96];
	uint8_t req[64];
	unsigned long domains = 0, total_states = 0;
	double t0, t_start, t_dump, t_tables;
	pid_t emd;
	int fd;

	snprintf(sock, sizeof(sock), "%s/emd.sock", dir);
	snprintf(model, sizeof(model), "%s/model.yaml", dir);
	write_model(model, n, states);
	t0 = now_ns();
	emd = start_emd(sock, model);
	fd = connect_to(sock);
	t_start = now_ns() - t0;
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
		struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		bool done = false;

		nlh->nlmsg_type = FAM_ID;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = 1;
		g->cmd = 1;
		g->version = 1;
		t0 = now_ns();
		send(fd, req, nlh->nlmsg_len, 0);
		while (!done) {
			int len = (int)recv(fd, buf, sizeof(buf), 0);
			const struct nlmsghdr *m = (const void *)buf;

			if (len <= 0) {
				fprintf(stderr, "emd_bench: dump: %s\n", strerror(errno));
				exit(1);
			}
			for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
				if (m->nlmsg_type == NLMSG_DONE)
					done = true;
				else
					domains++;
			}
		}
		t_dump = now_ns() - t0;
	}
	t0 = now_ns();
	for (unsigned int id = 0; id < n; id++) {
		size_t len = make_req(req, 2, id, id + 2);
		int r;
		const struct nlmsghdr *m = (const void *)buf;
		const struct nlattr *a;

		send(fd, req, len, 0);
		r = (int)recv(fd, buf, sizeof(buf), 0);
		if (r <= 0 || m->nlmsg_type != FAM_ID) {
			fprintf(stderr, "emd_bench: table %u failed\n", id);
			exit(1);
		}
		mnl_attr_for_each(a, m, GENL_HDRLEN)
			total_states += mnl_attr_get_type(a) == 2;
	}
	t_tables = now_ns() - t0;
	printf("%6u domains x %u states: dump %8.0f domains/s (%6.2f ms); tables %9.0f states/s "
	       "(%7.2f ms); emd peak RSS %ld kB; start-up %.1f s\n",
	       n, states, domains / (t_dump / 1e9), t_dump / 1e6, total_states / (t_tables / 1e9),
	       t_tables / 1e6, vm_hwm(emd), t_start / 1e9);
	if (domains != n || total_states != (unsigned long)n * states)
		printf("       (got %lu domains and %lu states: WRONG)\n", domains, total_states);
	close(fd);
	stop(emd);
	unlink(model);
}

/* emd's time on a CPU so far, ns (/proc/PID/schedstat, first field). */
static double cpu_ns(pid_t pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%llu", &ns) != 1) {
		fprintf(stderr, "emd_bench: %s unreadable\n", path);
		exit(1);
	}
	fclose(f);
	return (double)ns;
}

/* Send @req and read until its answer is complete: the reply (a do) or
 * NLMSG_DONE (a dump). */
static void ask(int fd, const void *req, size_t len, bool dump)
{
	static uint8_t buf[65536];
	bool done = false;

	if (send(fd, req, len, 0) != (ssize_t)len) {
		fprintf(stderr, "emd_bench: send: %s\n", strerror(errno));
		exit(1);
	}
	while (!done) {
		int n = (int)recv(fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *m = (const void *)buf;

		if (n <= 0) {
			fprintf(stderr, "emd_bench: recv: %s\n", strerror(errno));
			exit(1);
		}
		for (; mnl_nlmsg_ok(m, n); m = mnl_nlmsg_next(m, &n))
			done |= !dump || m->nlmsg_type == NLMSG_DONE;
	}
}

/* emd's CPU time per request of @what (@cmd, a dump or a do for domain @id)
 * on @model (NULL: the default), over @rounds requests one at a time. */
static void cpu_case(const char *dir, const char *what, const char *model, uint8_t cmd,
		     bool dump, uint32_t id, int rounds)
{
	char sock[96];
	uint8_t req[64];
	size_t len = make_req(req, cmd, id, 1);
	double c0;
	pid_t emd;
	int fd;

	if (dump) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)req;

		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_len = len = NLMSG_HDRLEN + GENL_HDRLEN; /* no attribute */
	}
	snprintf(sock, sizeof(sock), "%s/emd.sock", dir);
	emd = start_emd(sock, model);
	fd = connect_to(sock);
	for (int i = 0; i < rounds / 10; i++) /* warm up */
		ask(fd, req, len, dump);
	c0 = cpu_ns(emd);
	for (int i = 0; i < rounds; i++)
		ask(fd, req, len, dump);
	printf("%-40s emd CPU %6.0f ns/request\n", what, (cpu_ns(emd) - c0) / rounds);
	close(fd);
	stop(emd);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20000;
	const char *part = argc > 2 ? argv[2] : "all";
	bool all = !strcmp(part, "all");
	char dir[] = "/tmp/emd-bench.XXXXXX";

	if (rounds < 100)
		rounds = 100;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (all || !strcmp(part, "rt")) {
		printf("emd round trips (%d per measurement; echo = bare seqpacket server, same sizes)\n",
		       rounds);
		latency_case(dir, "get-perf-domains do", 1, rounds);
		latency_case(dir, "get-perf-table do", 2, rounds);
	}
	if (all || !strcmp(part, "dump")) {
		static const unsigned int sizes[] = {256, 1024, 2048, 4096};

		printf("\nemd dumps (model file written here, served by emd)\n");
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			dump_case(dir, sizes[i], 32);
	}
	if (all || !strcmp(part, "cpu")) {
		char model[96];

		printf("\nemd's own CPU time per request (%d requests, one at a time)\n", rounds);
		cpu_case(dir, "get-perf-domains do (RK3399)", NULL, 1, false, 1, rounds);
		cpu_case(dir, "get-perf-table do (RK3399, 8 states)", NULL, 2, false, 1, rounds);
		cpu_case(dir, "get-perf-domains dump (RK3399, 2 domains)", NULL, 1, true, 0, rounds);
		snprintf(model, sizeof(model), "%s/model.yaml", dir);
		write_model(model, 4096, 32);
		cpu_case(dir, "get-perf-table do (4096 x 32, id 4000)", model, 2, false, 4000, rounds);
		cpu_case(dir, "get-perf-domains dump (4096 domains)", model, 1, true, 0, rounds / 100);
		unlink(model);
	}
	rmdir(dir);
	return 0;
}
