/*
 * The preload library's benchmark (an executable, not a test): what a netlink
 * program pays to reach emd through libemkit-preload, against the same
 * requests sent to emd directly on its UNIX socket, measured in the same run.
 *
 *   1. do round trip: get-perf-domains do, one at a time, p50 and p99, on a
 *      netlink socket under `emctl exec` against a seqpacket connection to
 *      emd. Goal: p50 through the library <= 1.3 x direct.
 *   2. dump: get-perf-domains dump of 4,096 domains read with 32 KiB buffers,
 *      domains per second. Goal: through the library >= 50% of direct.
 *   3. the kernel's own nlctrl round trip on a netlink socket, with and without
 *      the library (kernel traffic should pay nothing).
 * Each measurement runs in a fresh process (the library is loaded at exec), the
 * direct and preloaded ones alternating, three times; the medians are reported.
 *
 * Usage: preload_bench [ROUNDS]   (default 20000 round trips per measurement)
 */
#include <errno.h>
#include <stdbool.h>
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
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "../timing.h"
#include "genl_req.h"

#define DOMAINS 4096
#define DUMPS 50
#define RUNS 3

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "preload_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- the measuring child ------------------------------------------------------- */

static struct nlmsghdr *req(void *buf, uint16_t type, uint16_t flags, uint8_t cmd, uint32_t seq)
{
	return req_begin(buf, type, NLM_F_REQUEST | flags, seq, cmd, 1);
}

/* One request, one answer (a do). */
static void call(int fd, const struct nlmsghdr *nlh, void *buf, size_t size)
{
	if (send(fd, nlh, nlh->nlmsg_len, 0) != (ssize_t)nlh->nlmsg_len)
		die("send");
	if (recv(fd, buf, size, 0) <= 0)
		die("recv");
}

/* The family id of @name on @fd (emd's or the library's answer). */
static uint16_t resolve(int fd, const char *name)
{
	uint8_t buf[8192];
	struct nlmsghdr *nlh = req(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	const struct nlattr *a;

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	call(fd, nlh, buf, sizeof(buf));
	nlh = (void *)buf;
	if (nlh->nlmsg_type != GENL_ID_CTRL) {
		fprintf(stderr, "preload_bench: no family %s\n", name);
		exit(1);
	}
	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			return mnl_attr_get_u16(a);
	exit(1);
}

/* p50 and p99 of @rounds round trips of @nlh, in ns. */
static void round_trips(int fd, struct nlmsghdr *nlh, int rounds, double *p50, double *p99)
{
	uint8_t buf[8192];
	double *t = malloc(sizeof(*t) * (size_t)rounds);

	if (!t)
		die("malloc");
	for (int i = 0; i < rounds / 10; i++) /* warm up */
		call(fd, nlh, buf, sizeof(buf));
	for (int i = 0; i < rounds; i++) {
		double t0 = now_ns();

		nlh->nlmsg_seq++;
		call(fd, nlh, buf, sizeof(buf));
		t[i] = now_ns() - t0;
	}
	*p50 = median(t, rounds); /* sorts t */
	*p99 = t[rounds * 99 / 100];
	free(t);
}

/* Domains per second of a get-perf-domains dump read with 32 KiB buffers. */
static double dump_rate(int fd, uint16_t fam)
{
	static uint8_t buf[32768];
	double best[DUMPS];

	for (int d = 0; d < DUMPS; d++) {
		struct nlmsghdr *nlh = req(buf, fam, NLM_F_DUMP, 1, 100 + (uint32_t)d);
		int count = 0;
		bool done = false;
		double t0 = now_ns();

		if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
			die("send dump");
		while (!done) {
			int n = (int)recv(fd, buf, sizeof(buf), 0);

			if (n <= 0)
				die("recv dump");
			for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
				if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
					done = true;
				else
					count++;
			}
		}
		if (count != DOMAINS) {
			fprintf(stderr, "preload_bench: the dump had %d domains\n", count);
			exit(1);
		}
		best[d] = count / ((now_ns() - t0) / 1e9);
	}
	return median(best, DUMPS);
}

/* A measurement in this process: "emd" (a netlink socket: under the library,
 * emd; a seqpacket connection for "direct") or "kernel" (nlctrl). Prints
 * "p50 p99 dump_rate". */
static int measure(const char *what, const char *sock, int rounds)
{
	uint8_t buf[256];
	double p50, p99, rate = 0;
	struct nlmsghdr *nlh;
	uint16_t fam;
	int fd;

	if (!strcmp(what, "direct")) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
		/* Reads of 32 KiB, as the preloaded program's are (the library
		 * tells emd of them; a direct client says so itself: RECV_LEN). */
		nlh = req(buf, GENL_ID_CTRL, 0, 0x72 /* EMNL_SEQPACKET_CMD_RECV_LEN */, 1);
		mnl_attr_put_u32(nlh, 1, 32768);
		if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
			die("send");
	} else {
		fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
		if (fd < 0)
			die("socket");
	}
	if (!strcmp(what, "kernel")) {
		nlh = req(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
		mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, GENL_ID_CTRL);
		round_trips(fd, nlh, rounds, &p50, &p99);
	} else {
		fam = resolve(fd, "dev-energymodel");
		nlh = req(buf, fam, 0, 1, 1);
		mnl_attr_put_u32(nlh, 2, 0);
		round_trips(fd, nlh, rounds, &p50, &p99);
		rate = dump_rate(fd, fam);
	}
	printf("%.0f %.0f %.0f\n", p50, p99, rate);
	return 0;
}

/* ---- the driver ------------------------------------------------------------------ */

struct result {
	double p50, p99, rate;
};

/* Run `[emctl exec --socket S --] self --measure WHAT S ROUNDS`, read its line. */
static struct result run(const char *self, const char *sock, const char *what, bool preload,
			 int rounds)
{
	char r[16], line[256];
	const char *argv[16];
	int n = 0, p[2], status;
	posix_spawn_file_actions_t fa;
	struct result res = {0};
	pid_t pid;
	FILE *f;

	snprintf(r, sizeof(r), "%d", rounds);
	if (preload) {
		argv[n++] = EMCTL_PATH;
		argv[n++] = "exec";
		argv[n++] = "--socket";
		argv[n++] = sock;
		argv[n++] = "--";
	}
	argv[n++] = self;
	argv[n++] = "--measure";
	argv[n++] = what;
	argv[n++] = sock;
	argv[n++] = r;
	argv[n] = NULL;
	if (pipe(p))
		die("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ))
		die("spawn");
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "%lf %lf %lf", &res.p50, &res.p99, &res.rate) != 3) {
		fprintf(stderr, "preload_bench: %s%s failed\n", what, preload ? " (preload)" : "");
		exit(1);
	}
	fclose(f);
	waitpid(pid, &status, 0);
	return res;
}

/* The median of @n results, field by field. */
static struct result med(struct result *v, int n)
{
	double a[RUNS], b[RUNS], c[RUNS];

	for (int i = 0; i < n; i++) {
		a[i] = v[i].p50;
		b[i] = v[i].p99;
		c[i] = v[i].rate;
	}
	return (struct result){median(a, n), median(b, n), median(c, n)};
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/preload-bench.XXXXXX", sock[64], model[64], self[4096];
	struct result d[RUNS], pre[RUNS], k[RUNS], kp[RUNS], md, mp, mk, mkp;
	int rounds = argc > 1 ? atoi(argv[1]) : 20000;
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *eargv[10];
	pid_t emd;
	FILE *f;
	int i;

	if (argc == 5 && !strcmp(argv[1], "--measure"))
		return measure(argv[2], argv[3], atoi(argv[4]));
	if (rounds < 100 || sl <= 0)
		return 2;
	self[sl] = '\0';
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(sock, sizeof(sock), "%s/emd.sock", dir);
	snprintf(model, sizeof(model), "%s/model.yaml", dir);
	f = fopen(model, "w");
	if (!f)
		die("model");
	fprintf(f, "domains:\n");
	for (i = 0; i < DOMAINS; i++)
		fprintf(f, "  - {name: d%d, flags: [microwatts], states: [{frequency: 1000, power: %d}]}\n",
			i, 100 + i);
	fclose(f);
	i = 0;
	eargv[i++] = EMD_PATH;
	eargv[i++] = "--socket";
	eargv[i++] = sock;
	eargv[i++] = "--model";
	eargv[i++] = model;
	eargv[i++] = "--no-watch";
	if (geteuid() == 0)
		eargv[i++] = "--allow-root";
	eargv[i] = NULL;
	if (posix_spawn(&emd, EMD_PATH, NULL, NULL, (char *const *)eargv, environ))
		die("spawn emd");
	for (i = 0; i < 6000; i++) { /* until emd answers (a large model loads slowly) */
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		int up;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (up)
			break;
		usleep(10000);
	}

	for (i = 0; i < RUNS; i++) {
		d[i] = run(self, sock, "direct", false, rounds);
		pre[i] = run(self, sock, "emd", true, rounds);
		k[i] = run(self, sock, "kernel", false, rounds);
		kp[i] = run(self, sock, "kernel", true, rounds);
	}
	md = med(d, RUNS);
	mp = med(pre, RUNS);
	mk = med(k, RUNS);
	mkp = med(kp, RUNS);
	printf("preload round trips (%d per measurement; medians of %d runs, each a fresh process)\n",
	       rounds, RUNS);
	printf("get-perf-domains do, emd directly   p50 %8.0f ns  p99 %8.0f ns\n", md.p50, md.p99);
	printf("get-perf-domains do, via preload    p50 %8.0f ns  p99 %8.0f ns   p50 x%.2f "
	       "(goal <= 1.3)\n",
	       mp.p50, mp.p99, mp.p50 / md.p50);
	printf("kernel nlctrl do, no preload        p50 %8.0f ns  p99 %8.0f ns\n", mk.p50, mk.p99);
	printf("kernel nlctrl do, via preload       p50 %8.0f ns  p99 %8.0f ns   p50 x%.2f\n",
	       mkp.p50, mkp.p99, mkp.p50 / mk.p50);
	printf("\n%d-domain get-perf-domains dump, 32 KiB reads (median of %d dumps)\n", DOMAINS,
	       DUMPS);
	printf("emd directly   %10.0f domains/s\n", md.rate);
	printf("via preload    %10.0f domains/s   x%.2f of direct (goal >= 0.5)\n", mp.rate,
	       mp.rate / md.rate);

	kill(emd, SIGTERM);
	waitpid(emd, NULL, 0);
	unlink(model);
	rmdir(dir);
	return 0;
}
