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
 *   5. avail (issue 14): a well-behaved client's latency while 4,096 domains x
 *      32 states are reloaded (one subscriber reading the events), against
 *      the same client before the reload (goal: p99 <= 5 ms); 65,536 domains x
 *      8 states: start-up and reload time (goals: 2 s, 1 s), steady memory per
 *      performance state (goal: <= 100 bytes + 4 MB), peak while loading (goal:
 *      <= 2 x steady) and while reloading; 1,000 clients flooding 256-state
 *      table requests without reading: memory while they flood, and 1 s after
 *      they close (goal: within 10 MB of the baseline).
 *
 * Usage: emd_bench [ROUNDS] [rt|dump|cpu|avail]   (default 20000 round trips
 * per measurement, every part). EMD_BENCH_EMD=PATH measures another emd binary
 * (another build's, to compare); EMD_BENCH_OLD=1 leaves out the options an emd
 * from before issue 14 does not know.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "../timing.h"
#include "emd_wire.h"
#include "genl_req.h"
#include "emkit/nl.h"

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
	struct nlmsghdr *nlh = req_begin(buf, FAM_ID, NLM_F_REQUEST, seq, cmd, 1);

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

/* Write @model (through a rename) with @n domains x @states states (CPU domains
 * first, one CPU each, up to 1,024; then device domains), powers moved by @v. */
static void write_model(const char *model, unsigned int n, unsigned int states, unsigned int v)
{
	char tmp[128];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", model);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
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
				1000 + s * s * 50 + (i % 7) * s + v);
	}
	fclose(f);
	rename(tmp, model);
}

/* A field of /proc/PID/status in kB ("VmRSS:", "VmHWM:"); -1 if it has none. */
static long status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kb = atol(line + strlen(field) + 1);
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
	write_model(model, n, states, 0);
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
	       t_tables / 1e6, status_kb(emd, "VmHWM:"), t_start / 1e9);
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

/* ---- availability (issue 14) ------------------------------------------------------- */

/* An emd reporting to our notify socket (sd_notify), with @extra arguments. */
struct notified {
	pid_t pid;
	int nfd;
};

static struct notified start_notified(const char *dir, const char *sock, const char *model,
				      const char *const *extra)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct notified e;
	const char *argv[32];
	char env[160], *envp[256];
	int n = 0, ne = 0;
	posix_spawn_file_actions_t fa;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	unlink(sa.sun_path);
	e.nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e.nfd < 0 || bind(e.nfd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("emd_bench: notify socket");
		exit(1);
	}
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", sa.sun_path);
	for (char **x = environ; *x && ne < 250; x++)
		if (strncmp(*x, "NOTIFY_SOCKET=", 14))
			envp[ne++] = *x;
	envp[ne++] = env;
	envp[ne] = NULL;
	argv[n++] = emd_path();
	argv[n++] = "--socket";
	argv[n++] = sock;
	if (geteuid() == 0)
		argv[n++] = "--allow-root";
	argv[n++] = "--model";
	argv[n++] = model;
	argv[n++] = "--no-watch";
	for (; extra && *extra && n < 31; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&e.pid, emd_path(), &fa, NULL, (char *const *)argv, envp)) {
		perror("emd_bench: posix_spawn");
		exit(1);
	}
	posix_spawn_file_actions_destroy(&fa);
	return e;
}

/* The next sd_notify message starting with @what (others skipped). */
static void wait_notify(const struct notified *e, const char *what)
{
	char buf[512];

	for (;;) {
		struct pollfd pf = {.fd = e->nfd, .events = POLLIN};
		ssize_t n;

		if (poll(&pf, 1, 600000) != 1) {
			fprintf(stderr, "emd_bench: no %s from emd\n", what);
			exit(1);
		}
		n = recv(e->nfd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		if (!strncmp(buf, what, strlen(what)))
			return;
	}
}

/* Whether emd has said READY=1 (other messages, RELOADING=1 among them, read
 * and passed over), without waiting. */
static bool ready_now(const struct notified *e)
{
	char buf[512];

	for (;;) {
		struct pollfd pf = {.fd = e->nfd, .events = POLLIN};
		ssize_t n;

		if (poll(&pf, 1, 0) != 1)
			return false;
		n = recv(e->nfd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		if (!strncmp(buf, "READY=1", 7))
			return true;
	}
}

/* A subscriber (a child process): joins the event group, reads until killed. */
static pid_t subscriber(const char *sock)
{
	pid_t pid = fork();

	if (pid == 0) {
		static uint8_t buf[65536];
		uint8_t req[64];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
		struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		int fd = connect_to(sock);

		nlh->nlmsg_type = GENL_ID_CTRL;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		g->cmd = EMNL_SEQPACKET_CMD_JOIN;
		g->version = 1;
		mnl_attr_put_u32(nlh, EMNL_SEQPACKET_ATTR_GROUP, EMD_GROUP_EVENT);
		send(fd, req, nlh->nlmsg_len, 0);
		while (recv(fd, buf, sizeof(buf), 0) > 0)
			;
		_exit(0);
	}
	return pid;
}

/* A well-behaved client's latency while @n x @states domains are reloaded. */
static void reload_latency_case(const char *dir, unsigned int n, unsigned int states)
{
	enum { MAX = 2000000 };
	char sock[96], model[96];
	double *before = malloc(MAX * sizeof(double)), *during = malloc(MAX * sizeof(double));
	uint8_t req[64];
	int nb = 0, nd = 0, fd;
	double t0, t_reload, tb;
	struct notified e;
	pid_t sub;

	snprintf(sock, sizeof(sock), "%s/emd.sock", dir);
	snprintf(model, sizeof(model), "%s/model.yaml", dir);
	write_model(model, n, states, 0);
	e = start_notified(dir, sock, model, NULL);
	wait_notify(&e, "READY=1");
	fd = connect_to(sock);
	sub = subscriber(sock);
	usleep(200000); /* the subscriber has joined */
	/* A first reload, to know how long one takes. */
	write_model(model, n, states, 1);
	t0 = now_ns();
	kill(e.pid, SIGHUP);
	wait_notify(&e, "READY=1");
	tb = now_ns() - t0;
	/* Before: the client alone, as long as a reload takes. */
	t0 = now_ns();
	while (nb < MAX && now_ns() - t0 < tb) {
		size_t len = make_req(req, 2, (unsigned int)nb % n, 1);

		round_trips(fd, req, len, &before[nb++], 1);
	}
	/* During: from SIGHUP until emd says READY=1. */
	write_model(model, n, states, 2);
	t0 = now_ns();
	kill(e.pid, SIGHUP);
	while (!ready_now(&e)) {
		size_t len = make_req(req, 2, (unsigned int)nd % n, 1);

		if (nd == MAX) {
			wait_notify(&e, "READY=1");
			break;
		}
		round_trips(fd, req, len, &during[nd++], 1);
	}
	t_reload = now_ns() - t0;
	qsort(before, (size_t)nb, sizeof(double), cmp_double);
	qsort(during, (size_t)nd, sizeof(double), cmp_double);
	printf("reload of %u domains x %u states (every table changed, a subscriber reading the "
	       "events): %.0f ms\n", n, states, t_reload / 1e6);
	if (nd)
		printf("  a client's get-perf-table during it: %7d answered, p50 %8.0f ns, p99 %9.0f "
		       "ns, max %10.0f ns\n", nd, during[nd / 2], during[(size_t)nd * 99 / 100],
		       during[nd - 1]);
	if (nb)
		printf("  the same client before it:           %7d answered, p50 %8.0f ns, p99 %9.0f "
		       "ns, max %10.0f ns\n", nb, before[nb / 2], before[(size_t)nb * 99 / 100],
		       before[nb - 1]);
	close(fd);
	kill(sub, SIGKILL);
	waitpid(sub, NULL, 0);
	stop(e.pid);
	close(e.nfd);
	unlink(model);
	free(before);
	free(during);
}

/* Start-up, reload and memory of a large model. */
static void large_case(const char *dir, unsigned int n, unsigned int states)
{
	char sock[96], model[96];
	double t0, t_start, t_reload;
	long rss, hwm_load, rss_reload, hwm_reload, base;
	unsigned long total = (unsigned long)n * states;
	struct notified e;
	struct stat st;

	snprintf(sock, sizeof(sock), "%s/emd.sock", dir);
	snprintf(model, sizeof(model), "%s/model.yaml", dir);
	/* emd's own baseline: the smallest model. */
	write_model(model, 1, 1, 0);
	e = start_notified(dir, sock, model, NULL);
	wait_notify(&e, "READY=1");
	base = status_kb(e.pid, "VmRSS:");
	stop(e.pid);
	close(e.nfd);
	write_model(model, n, states, 0);
	stat(model, &st);
	t0 = now_ns();
	e = start_notified(dir, sock, model, NULL);
	wait_notify(&e, "READY=1");
	t_start = now_ns() - t0;
	rss = status_kb(e.pid, "VmRSS:");
	hwm_load = status_kb(e.pid, "VmHWM:");
	write_model(model, n, states, 3);
	t0 = now_ns();
	kill(e.pid, SIGHUP);
	wait_notify(&e, "READY=1");
	t_reload = now_ns() - t0;
	rss_reload = status_kb(e.pid, "VmRSS:");
	hwm_reload = status_kb(e.pid, "VmHWM:");
	printf("%u domains x %u states (%lu states; model file %.1f MB):\n", n, states, total,
	       (double)st.st_size / 1e6);
	printf("  start-up %.2f s; reload (every table changed) %.2f s\n", t_start / 1e9,
	       t_reload / 1e9);
	printf("  steady RSS %ld kB = %.1f bytes per state + 4 MB (emd on a 1-domain model: %ld "
	       "kB)\n", rss, ((double)rss - 4096) * 1024 / (double)total, base);
	printf("  peak RSS while loading %ld kB (x%.2f steady); while reloading %ld kB (x%.2f); "
	       "after the reload %ld kB\n", hwm_load, (double)hwm_load / (double)rss, hwm_reload,
	       (double)hwm_reload / (double)rss, rss_reload);
	stop(e.pid);
	close(e.nfd);
	unlink(model);
}

/* @clients clients flooding 256-state table requests without reading, then closing. */
static void flood_case(const char *dir, unsigned int clients)
{
	enum { REQ = 28, PER = 32768 / REQ };
	static uint8_t dgram[PER * REQ];
	const char *const extra[] = {"--max-clients-per-user", "0", "--max-clients", "2000", NULL};
	const char *const old_extra[] = {"--max-clients", "2000", NULL};
	char sock[96], model[96];
	int *fd = calloc(clients, sizeof(int)), probe;
	long base, peak, during = 0, last = -1, after;
	double lat;
	struct notified e;
	uint8_t req[64];

	snprintf(sock, sizeof(sock), "%s/emd.sock", dir);
	snprintf(model, sizeof(model), "%s/model.yaml", dir);
	{
		FILE *f = fopen(model, "w");

		fprintf(f, "domains:\n  - name: wide\n    flags: [microwatts]\n    states:\n");
		for (int s = 0; s < 256; s++)
			fprintf(f, "      - {frequency: %d, power: %d}\n", 1000 + s, 10 + s);
		fclose(f);
	}
	e = start_notified(dir, sock, model, getenv("EMD_BENCH_OLD") ? old_extra : extra);
	wait_notify(&e, "READY=1");
	probe = connect_to(sock);
	round_trips(probe, req, make_req(req, 2, 0, 1), &lat, 1);
	base = status_kb(e.pid, "VmRSS:");
	for (size_t i = 0; i < PER; i++)
		make_req(dgram + i * REQ, 2, 0, (uint32_t)i);
	for (unsigned int i = 0; i < clients; i++) {
		int one = 1;

		fd[i] = connect_to(sock);
		setsockopt(fd[i], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
		send(fd[i], dgram, sizeof(dgram), MSG_NOSIGNAL);
	}
	/* Until emd stops growing (10 samples 100 ms apart, unchanged). */
	for (int stable = 0, i = 0; stable < 10 && i < 600; i++) {
		usleep(100000);
		during = status_kb(e.pid, "VmRSS:");
		stable = during == last ? stable + 1 : 0;
		last = during;
	}
	peak = status_kb(e.pid, "VmHWM:");
	for (unsigned int i = 0; i < clients; i++)
		close(fd[i]);
	round_trips(probe, req, make_req(req, 2, 0, 2), &lat, 1); /* emd saw them go */
	sleep(1);
	after = status_kb(e.pid, "VmRSS:");
	printf("%u clients flooding 256-state get-perf-table requests, reading nothing:\n",
	       clients);
	printf("  RSS %ld kB before, %ld kB while they flood (peak %ld kB), %ld kB 1 s after they "
	       "closed (%+ld kB)\n", base, during, peak, after, after - base);
	close(probe);
	stop(e.pid);
	close(e.nfd);
	unlink(model);
	free(fd);
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
	if (all || !strcmp(part, "avail")) {
		printf("\nemd under load (issue 14)\n");
		reload_latency_case(dir, 4096, 32);
		large_case(dir, 65536, 8);
		flood_case(dir, 1000);
	}
	if (all || !strcmp(part, "cpu")) {
		char model[96];

		printf("\nemd's own CPU time per request (%d requests, one at a time)\n", rounds);
		cpu_case(dir, "get-perf-domains do (RK3399)", NULL, 1, false, 1, rounds);
		cpu_case(dir, "get-perf-table do (RK3399, 8 states)", NULL, 2, false, 1, rounds);
		cpu_case(dir, "get-perf-domains dump (RK3399, 2 domains)", NULL, 1, true, 0, rounds);
		snprintf(model, sizeof(model), "%s/model.yaml", dir);
		write_model(model, 4096, 32, 0);
		cpu_case(dir, "get-perf-table do (4096 x 32, id 4000)", model, 2, false, 4000, rounds);
		cpu_case(dir, "get-perf-domains dump (4096 domains)", model, 1, true, 0, rounds / 100);
		unlink(model);
	}
	{
		char notify[96];

		snprintf(notify, sizeof(notify), "%s/notify", dir);
		unlink(notify);
	}
	rmdir(dir);
	return 0;
}
