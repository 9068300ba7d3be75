/*
 * emd under abuse, against the real binary and real clients (issue 14). Each
 * test is one finding of the attack on emd, and fails on the emd before the
 * fix (bench/emd and docs/security.md give the before/after):
 *
 *   descriptors        under a descriptor limit below --max-clients, and
 *                      with the limit lowered under a running emd, extra
 *                      clients are refused cleanly: every connection is
 *                      answered or closed, the log stays short, emd serves
 *                      again once they leave (before: accept() EMFILE spin,
 *                      millions of log lines, the backlog never answered)
 *   fifo_model         a FIFO renamed over the model file: the reload is
 *                      refused, emd keeps serving and stops on SIGTERM
 *                      (before: blocked in open(), deaf to everyone)
 *   reload_serves      a reload of a large model: requests are answered
 *                      while it is being prepared (before: nobody is
 *                      answered until the reload is over)
 *   half_written       SIGHUP while a writer has written the first 44 of 64
 *                      domains in place: the reload waits for the writer
 *                      (before: 44 domains served, 20 deleted events)
 *   socket_not_socket  --socket at a regular file or a directory: refused
 *                      with a clear message, the file left alone (before:
 *                      the file deleted; "Address already in use")
 *   per_user / idle    one user's connections are limited, another user
 *                      still gets in; an idle client is closed, a member is
 *                      not; 2,000 refusals are a few log lines (before: no
 *                      limit, no timeout, one line per refusal)
 *   memory             200 clients flooding 256-state table requests
 *                      without reading: emd's memory bounded, and back near
 *                      its baseline once they close (before: 1 MiB per
 *                      client, never given back)
 *   socket_dir         a world-writable directory, a symbolic link of
 *                      another user on the path: refused; a socket file that
 *                      is no longer emd's is not removed at exit (before:
 *                      bound there; the attacker's socket unlinked)
 *   user_socket        --user: the socket is the user's and its group's,
 *                      its directory (created) the user's, and it is removed
 *                      at exit (before: root's group, left behind)
 *   big_reply          a reply larger than the connection can carry is an
 *                      EMSGSIZE error, a dump of it ends with NLMSG_DONE
 *                      -EMSGSIZE, the client stays (before: closed)
 *   empty_datagram     a zero-length datagram is ignored (before: closed)
 *   reload_events      a subscriber that keeps up gets every event of a
 *                      reload changing 4,096 tables (before: ENOBUFS after
 *                      about 350)
 *   capacity_reload    a reload that changes a CPU domain's capacity applies
 *                      it as the kernel's em_adjust_cpu_capacity() and sends
 *                      perf-domain-updated (before: refused)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#ifndef EMD_SANITIZED
#define EMD_SANITIZED 0
#endif

extern char **environ;

/* ---- helpers ------------------------------------------------------------------- */

/* A model of @n device domains d0.. with @states states each; @power_add changes
 * every table. */
static char *devices(unsigned int n, unsigned int states, unsigned int power_add)
{
	size_t cap = (size_t)n * (64 + states * 48) + 64, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	len += (size_t)snprintf(s, cap, "domains:\n");
	for (unsigned int i = 0; i < n; i++) {
		len += (size_t)snprintf(s + len, cap - len,
					"  - name: d%u\n    flags: [microwatts]\n    states:\n", i);
		for (unsigned int k = 0; k < states; k++)
			len += (size_t)snprintf(s + len, cap - len,
						"      - {frequency: %u, power: %u}\n",
						1000 * (k + 1), 10 + k + power_add);
	}
	assert_true(len < cap);
	return s;
}

/* get-perf-table do for @id. */
static void ask_table(int fd, uint32_t seq, uint32_t id)
{
	uint64_t req[16];
	struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST, seq, 2, 1);

	mnl_attr_put_u32(r, 1, id);
	send_pkt(fd, r, r->nlmsg_len);
}

/* get-perf-domains do for @id. */
static void ask_domain(int fd, uint32_t seq, uint32_t id)
{
	uint64_t req[16];
	struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST, seq, 1, 1);

	mnl_attr_put_u32(r, 2, id);
	send_pkt(fd, r, r->nlmsg_len);
}

/* A request answered: the reply's sequence is @seq. */
static void answered(int fd, uint32_t seq)
{
	static uint64_t buf[8192];
	size_t n = recv_pkt(fd, buf, sizeof(buf));

	assert_true(n >= NLMSG_HDRLEN);
	assert_int_equal(nl(buf)->nlmsg_seq, seq);
}

/* How many domains a dump on a new connection gives. */
static unsigned int dump_count(const struct emd_proc *p)
{
	static uint64_t buf[8192];
	uint64_t req[16];
	struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, 1, 1, 1);
	unsigned int n = 0;
	int fd = emd_connect(p);

	send_pkt(fd, r, r->nlmsg_len);
	for (;;) {
		size_t len = recv_pkt(fd, buf, sizeof(buf));
		const struct nlmsghdr *m = (const void *)buf;
		int left = (int)len;

		for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type == NLMSG_DONE) {
				close(fd);
				return n;
			}
			assert_int_equal(m->nlmsg_type, FAM_ID);
			n++;
		}
	}
}

/* Join the event group. */
static void join(int fd)
{
	uint64_t req[16], got[64];
	struct nlmsghdr *r = req_begin(req, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, 900,
				       EMNL_SEQPACKET_CMD_JOIN, 1);

	mnl_attr_put_u32(r, EMNL_SEQPACKET_ATTR_GROUP, EVENT_GRP);
	send_pkt(fd, r, r->nlmsg_len);
	expect_error(got, recv_pkt(fd, got, sizeof(got)), 900, 0, NULL);
}

/* Lines of emd's log that hold @what. */
static unsigned int log_lines(const struct emd_proc *p, const char *what)
{
	const char *t = emd_log_text(p);
	unsigned int n = 0;

	for (const char *at = t; (at = strstr(at, what)); at++)
		n++;
	return n;
}

/* A barrier: SIGUSR2 makes emd report its counters to the service manager
 * after everything signalled before it was handled. */
static void barrier(struct emd_proc *p)
{
	const char *m;

	emd_signal(p, SIGUSR2);
	do
		m = emd_notify_wait(p);
	while (!strstr(m, "STATUS=") && m[0] != '(');
	if (m[0] == '(')
		fail_msg("no answer to SIGUSR2: %s", m);
}

/* Wait until emd's log holds @what (a hang guard of 60 s, not a threshold). */
static void wait_log(const struct emd_proc *p, const char *what)
{
	for (int i = 0; i < 6000 && !strstr(emd_log_text(p), what); i++)
		usleep(10000);
	if (!strstr(emd_log_text(p), what))
		fail_msg("emd never logged '%s'; log:\n%s", what, emd_log_text(p));
}

/* Kill emd and reap it, leaving its files (for tests that look at them). */
static int kill_emd(struct emd_proc *p, int sig)
{
	int status;

	kill(p->pid, sig);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	close(p->notify_fd);
	return status;
}

/* Run emd with @args until it exits: its exit status, its stderr in @log. */
static int run_emd(const char *const *args, char *log, size_t size)
{
	const char *argv[32];
	char path[] = "/tmp/emd-avail-log.XXXXXX";
	posix_spawn_file_actions_t fa;
	int fd = mkstemp(path), status;
	size_t n = 0;
	pid_t pid;
	ssize_t got;

	assert_true(fd >= 0);
	argv[n++] = EMD_PATH;
	if (geteuid() == 0)
		argv[n++] = "--allow-root";
	for (; *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	assert_int_equal(posix_spawn(&pid, EMD_PATH, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	/* emd is to refuse to start: one still running after 60 s has not (a hang
	 * guard, not a threshold). */
	for (int i = 0; i < 600 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	if (kill(pid, 0) == 0 && waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		unlink(path);
		close(fd);
		fail_msg("emd did not refuse to start in 60 s");
	}
	got = pread(fd, log, size - 1, 0);
	log[got > 0 ? got : 0] = '\0';
	close(fd);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Send without failing the test: the connection may have been refused (closed). */
static void ask_quietly(int fd, uint32_t seq)
{
	uint64_t req[16];
	struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST, seq, 1, 1);

	mnl_attr_put_u32(r, 2, 0);
	(void)send(fd, r, r->nlmsg_len, MSG_NOSIGNAL);
}

/*
 * Start emd as the harness does (sd_notify readiness, files in a new directory),
 * but with the descriptor limit @nofile (soft and hard; 0: ours) and without
 * --allow-root when @as_user is given (--user AS_USER instead).
 */
static void spawn_emd(struct emd_proc *p, rlim_t nofile, const char *as_user,
		      const char *sock, const char *const *args)
{
	const char *argv[64], *notify_path;
	char *envp[256];
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/emd-avail.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->sock, sizeof(p->sock), "%s/%s", p->dir, sock ? sock : "emd.sock");
	snprintf(p->log, sizeof(p->log), "%s/emd.log", p->dir);
	notify_path = emd_notify_setup(p, envp);
	argv[n++] = EMD_PATH;
	argv[n++] = "--socket";
	argv[n++] = p->sock;
	if (as_user) {
		argv[n++] = "--user";
		argv[n++] = as_user;
		/* The user writes to the notify socket: let it reach it. */
		chmod(p->dir, 0755);
		chmod(notify_path, 0777);
	} else if (geteuid() == 0) {
		argv[n++] = "--allow-root";
	}
	for (; args && *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		int log = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_WRONLY);

		if (nofile) {
			struct rlimit rl = {nofile, nofile};

			if (setrlimit(RLIMIT_NOFILE, &rl))
				_exit(126);
		}
		if (log < 0 || null < 0 || dup2(log, 2) < 0 || dup2(null, 1) < 0)
			_exit(126);
		execve(EMD_PATH, (char *const *)argv, envp);
		_exit(127);
	}
	emd_wait_ready(p);
}

/* Stop an emd of spawn_emd and tidy its directory. */
static void stop_spawned(struct emd_proc *p)
{
	int status = kill_emd(p, SIGTERM);
	char cmd[200];

	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("emd exited with status 0x%x; log:\n%s", status, emd_log_text(p));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- descriptors --------------------------------------------------------------- */

/*
 * A client's fate: 1 answered, 0 closed without an answer. A connection left
 * in the backlog forever (the spin) fails the hang guard.
 */
static int fate(int fd, uint32_t seq)
{
	static uint64_t buf[1024];
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pf, 1, 60000) != 1)
		fail_msg("a client was neither answered nor closed in 60 s");
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return 0;
	assert_int_equal(nl(buf)->nlmsg_seq, seq);
	return 1;
}

/* Connect @n clients, each asks once: how many were answered (the rest closed). */
static unsigned int crowd(const struct emd_proc *p, int *fd, unsigned int n)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		fd[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		assert_true(fd[i] >= 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", p->sock);
		assert_int_equal(connect(fd[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		ask_quietly(fd[i], 100 + i);
	}
	for (unsigned int i = 0; i < n; i++)
		ok += (unsigned int)fate(fd[i], 100 + i);
	return ok;
}

static void close_all(int *fd, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(fd[i]);
}

/* Lines about refusals and accept() in emd's log. */
static unsigned int refusal_lines(const struct emd_proc *p)
{
	return log_lines(p, "refus") + log_lines(p, "accept");
}

/* Started with 64 descriptors and the default --max-clients (1024): emd keeps
 * its clients below the limit and refuses the rest. */
static void test_descriptor_limit(void **state)
{
	enum { N = 70 };
	static int fd[N];
	struct emd_proc p;
	unsigned int ok;
	int c;

	(void)state;
	spawn_emd(&p, 64, NULL, NULL, (const char *const[]){"--default", NULL});
	ok = crowd(&p, fd, N);
	print_message("# under a limit of 64 descriptors: %u of %d clients served, the rest "
		      "closed; %u log lines about it\n", ok, N, refusal_lines(&p));
	assert_int_equal(ok, 64 - 32); /* the limit less what emd keeps for itself */
	if (refusal_lines(&p) > 4)
		fail_msg("the log:\n%s", emd_log_text(&p));
	close_all(fd, N);
	/* Once they are gone, a new client is served. */
	for (int i = 0; i < 6000; i++) {
		c = emd_connect(&p);
		ask_quietly(c, 7);
		if (fate(c, 7))
			break;
		close(c);
		c = -1;
		usleep(10000);
	}
	assert_true(c >= 0);
	close(c);
	stop_spawned(&p);
}

/* The limit lowered under a running emd: accept() fails with EMFILE; every
 * connection is still answered or closed, and the log stays short. */
static void test_descriptors_run_out(void **state)
{
	enum { N = 60 };
	static int fd[N];
	struct emd_proc p;
	struct rlimit rl, low;
	unsigned int ok;
	int c;

	(void)state;
	emd_start(&p, NULL);
	assert_int_equal(prlimit(p.pid, RLIMIT_NOFILE, NULL, &rl), 0);
	low = (struct rlimit){16, rl.rlim_max};
	assert_int_equal(prlimit(p.pid, RLIMIT_NOFILE, &low, NULL), 0);
	ok = crowd(&p, fd, N);
	print_message("# out of descriptors: %u of %d clients served, the rest closed; %u log "
		      "lines about it\n", ok, N, refusal_lines(&p));
	assert_true(ok >= 1 && ok < N);
	if (refusal_lines(&p) > 4)
		fail_msg("the log:\n%s", emd_log_text(&p));
	close_all(fd, N);
	assert_int_equal(prlimit(p.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	c = emd_connect(&p);
	ask_table(c, 8, 0);
	answered(c, 8);
	close(c);
	emd_stop(&p);
}

/* ---- the model file ------------------------------------------------------------ */

/* Wait for a reload's RELOADING=1 and READY=1. */
static void reloaded(struct emd_proc *p)
{
	const char *m = emd_notify_wait(p);

	if (strcmp(m, "RELOADING=1"))
		fail_msg("'%s' instead of RELOADING=1; emd's log:\n%s", m, emd_log_text(p));
	m = emd_notify_wait(p);
	if (strcmp(m, "READY=1"))
		fail_msg("'%s' instead of READY=1; emd's log:\n%s", m, emd_log_text(p));
}

static void test_fifo_model(void **state)
{
	char *text = devices(3, 1, 0);
	char fifo[200];
	struct emd_proc p;

	(void)state;
	emd_start_model_take(&p, text, NULL);
	snprintf(fifo, sizeof(fifo), "%s/fifo", p.dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(rename(fifo, p.model), 0); /* inotify: a reload */
	reloaded(&p);
	assert_non_null(strstr(emd_log_text(&p), "not a regular file (a FIFO)"));
	assert_int_equal(dump_count(&p), 3);
	emd_signal(&p, SIGHUP);
	reloaded(&p);
	assert_int_equal(dump_count(&p), 3);
	emd_stop(&p); /* SIGTERM is heard */
}

static void test_reload_serves(void **state)
{
	enum { N = 20000 };
	const char *const args[] = {"--no-watch", NULL};
	char *text = devices(N, 8, 0);
	unsigned int during = 0, total = 0;
	struct emd_proc p;
	int fd;

	(void)state;
	emd_start_model_take(&p, text, args);
	fd = emd_connect(&p);
	text = devices(N, 8, 1); /* every table changes */
	write_file(p.model, text);
	free(text);
	emd_signal(&p, SIGHUP);
	assert_string_equal(emd_notify_wait(&p), "RELOADING=1");
	/* Ask while the reload is prepared: answers come before READY=1 does. */
	while (!pkt_waiting(p.notify_fd)) {
		ask_table(fd, 1000 + total, total % N);
		answered(fd, 1000 + total);
		total++;
		during += !pkt_waiting(p.notify_fd);
	}
	assert_string_equal(emd_notify_wait(&p), "READY=1");
	print_message("# %u requests answered while %u domains were reloaded\n", during, N);
	assert_true(during >= 1);
	assert_int_equal(dump_count(&p), N);
	close(fd);
	emd_stop(&p);
}

/* Read @n events (cmd, id in order from @first) from @fd: all updated, none lost. */
static void events_in_order(int fd, unsigned int n, uint8_t cmd, uint32_t first)
{
	static uint64_t buf[8192];

	for (unsigned int i = 0; i < n; i++) {
		size_t len = recv_pkt(fd, buf, sizeof(buf));
		const struct genlmsghdr *g = mnl_nlmsg_get_payload(nl(buf));

		if (nl(buf)->nlmsg_type == NLMSG_ERROR) {
			struct emnl_error e = parse_error(buf, len);

			fail_msg("event %u of %u: error %d '%s'", i, n, e.err, e.msg);
		}
		assert_int_equal(nl(buf)->nlmsg_type, FAM_ID);
		assert_int_equal(g->cmd, cmd);
		assert_int_equal(mnl_attr_get_u32((const struct nlattr *)((const char *)buf + 20)),
				 first + i);
	}
}

static void test_half_written_model(void **state)
{
	char *whole = devices(64, 2, 0), *next = devices(64, 2, 7), *part = devices(44, 2, 7);
	size_t plen = strlen(part);
	struct emd_proc p;
	int sub, wfd;

	(void)state;
	assert_memory_equal(part, next, plen); /* the first 44 domains, whole */
	emd_start_model(&p, whole, NULL);
	sub = emd_connect(&p);
	join(sub);
	/* Rewritten in place: 44 domains written, the writer not done. */
	wfd = open(p.model, O_WRONLY | O_TRUNC);
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, part, plen), (ssize_t)plen);
	emd_signal(&p, SIGHUP);
	barrier(&p);
	assert_non_null(strstr(emd_log_text(&p), "reload (SIGHUP) waits"));
	assert_int_equal(dump_count(&p), 64);
	assert_false(pkt_waiting(sub));
	/* The writer finishes: emd reloads now, and no domain went away. */
	assert_int_equal(write(wfd, next + plen, strlen(next) - plen),
			 (ssize_t)(strlen(next) - plen));
	close(wfd);
	reloaded(&p);
	assert_int_equal(dump_count(&p), 64);
	events_in_order(sub, 64, 4, 0);
	assert_false(pkt_waiting(sub));
	/* Without the watch, a reload while the file is open for writing is refused. */
	close(sub);
	emd_stop(&p);
	{
		const char *const args[] = {"--no-watch", NULL};

		emd_start_model(&p, whole, args);
		wfd = open(p.model, O_WRONLY | O_TRUNC);
		assert_int_equal(write(wfd, part, plen), (ssize_t)plen);
		emd_signal(&p, SIGHUP);
		barrier(&p);
		assert_int_equal(dump_count(&p), 64);
		if (!strstr(emd_log_text(&p), "open for writing"))
			print_message("# SKIP without the watch: emd cannot take leases on the file "
				      "here, so it cannot tell\n");
		close(wfd);
		emd_stop(&p);
	}
	free(whole);
	free(next);
	free(part);
}

/* ---- the socket ---------------------------------------------------------------- */

static void test_socket_not_a_socket(void **state)
{
	char dir[] = "/tmp/emd-avail.XXXXXX", file[64], log[4096], buf[32];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/precious", dir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, "keep me\n", 8), 8);
	close(fd);
	assert_int_not_equal(run_emd((const char *const[]){"--default", "--socket", file, NULL},
				     log, sizeof(log)), 0);
	assert_non_null(strstr(log, "exists and is not a socket"));
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	assert_int_not_equal(run_emd((const char *const[]){"--default", "--socket", dir, NULL},
				     log, sizeof(log)), 0);
	assert_non_null(strstr(log, "is a directory; --socket names the socket file itself"));
	unlink(file);
	rmdir(dir);
}

static void test_socket_dir(void **state)
{
	char dir[] = "/tmp/emd-avail.XXXXXX", ww[64], sock[96], log[4096];
	struct emd_proc p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(ww, sizeof(ww), "%s/ww", dir);
	assert_int_equal(mkdir(ww, 0755), 0);
	assert_int_equal(chmod(ww, 0777), 0);
	snprintf(sock, sizeof(sock), "%s/emd.sock", ww);
	assert_int_not_equal(run_emd((const char *const[]){"--default", "--socket", sock, NULL},
				     log, sizeof(log)), 0);
	assert_non_null(strstr(log, "is writable by every user (and not sticky)"));
	if (geteuid() == 0) {
		/* A symbolic link of another user on the path. */
		struct passwd *nobody = getpwnam("nobody");
		char link[64], real[64];

		assert_non_null(nobody);
		snprintf(real, sizeof(real), "%s/real", dir);
		snprintf(link, sizeof(link), "%s/link", dir);
		assert_int_equal(mkdir(real, 0755), 0);
		assert_int_equal(symlink(real, link), 0);
		assert_int_equal(lchown(link, nobody->pw_uid, nobody->pw_gid), 0);
		snprintf(sock, sizeof(sock), "%s/emd.sock", link);
		assert_int_not_equal(run_emd((const char *const[]){"--default", "--socket", sock,
								   NULL},
					     log, sizeof(log)), 0);
		assert_non_null(strstr(log, "the symbolic link"));
		assert_non_null(strstr(log, "belongs to another user"));
		unlink(link);
		rmdir(real);
	} else {
		print_message("# SKIP a link of another user: not root\n");
	}
	rmdir(ww);
	rmdir(dir);

	/* A socket file that is no longer emd's is not removed at exit. */
	emd_start(&p, NULL);
	{
		char moved[160];
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		struct stat fake, after;
		int lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		snprintf(moved, sizeof(moved), "%s.moved", p.sock);
		assert_int_equal(rename(p.sock, moved), 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", p.sock);
		assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(listen(lfd, 1), 0);
		assert_int_equal(stat(p.sock, &fake), 0);
		assert_int_equal(WEXITSTATUS(kill_emd(&p, SIGTERM)), 0);
		assert_int_equal(stat(p.sock, &after), 0); /* still there */
		assert_int_equal(after.st_ino, fake.st_ino);
		assert_non_null(strstr(emd_log_text(&p), "not removing"));
		close(lfd);
		unlink(p.sock);
		unlink(moved);
	}
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p.dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_user_socket(void **state)
{
	struct passwd *nobody = getpwnam("nobody");
	char run[160];
	struct emd_proc p;
	struct stat st;

	(void)state;
	if (geteuid() != 0 || !nobody) {
		print_message("# SKIP --user: not root\n");
		return;
	}
	/* The socket in a directory that does not exist yet: emd makes it, the
	 * user's, so that the user can remove the socket at exit. */
	spawn_emd(&p, 0, "nobody", "run/emd.sock", (const char *const[]){"--default", NULL});
	snprintf(run, sizeof(run), "%s/run", p.dir);
	assert_int_equal(lstat(run, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_uid, nobody->pw_uid);
	assert_int_equal(lstat(p.sock, &st), 0);
	assert_int_equal(st.st_uid, nobody->pw_uid);
	assert_int_equal(st.st_gid, nobody->pw_gid); /* the user's group may connect */
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(WEXITSTATUS(kill_emd(&p, SIGTERM)), 0);
	assert_int_equal(lstat(p.sock, &st), -1); /* removed by the user */
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p.dir);
		assert_int_equal(system(cmd), 0);
	}
	/* In a directory of root's: it says at start that the file will stay. */
	spawn_emd(&p, 0, "nobody", NULL, (const char *const[]){"--default", NULL});
	assert_non_null(strstr(emd_log_text(&p), "nobody cannot remove the socket"));
	stop_spawned(&p);
}

/* ---- clients ------------------------------------------------------------------- */

static void test_per_user_limit(void **state)
{
	enum { N = 16 };
	static int fd[N];
	struct passwd *nobody = getpwnam("nobody");
	char gid[16];
	struct emd_proc p;
	unsigned int ok;

	(void)state;
	snprintf(gid, sizeof(gid), "%u", nobody ? (unsigned int)nobody->pw_gid : 0);
	emd_start(&p, (const char *const[]){"--max-clients", "16", "--max-clients-per-user", "8",
					    "--socket-group", gid, NULL});
	ok = crowd(&p, fd, N);
	print_message("# one user opened %d connections: %u served\n", N, ok);
	assert_int_equal(ok, 8);
	if (geteuid() == 0 && nobody) {
		/* Another user still gets in. */
		pid_t pid;
		int status;

		chmod(p.dir, 0711);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct sockaddr_un sa = {.sun_family = AF_UNIX};
			uint64_t buf[256];
			int c;

			if (setgroups(0, NULL) || setgid(nobody->pw_gid) || setuid(nobody->pw_uid))
				_exit(2);
			c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
			snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", p.sock);
			if (connect(c, (struct sockaddr *)&sa, sizeof(sa)))
				_exit(3);
			ask_quietly(c, 55);
			_exit(recv(c, buf, sizeof(buf), 0) > 0 && nl(buf)->nlmsg_seq == 55 ? 0 : 4);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(WEXITSTATUS(status), 0);
	} else {
		print_message("# SKIP another user: not root\n");
	}
	close_all(fd, N);
	emd_stop(&p);
}

static void test_idle_timeout(void **state)
{
	struct emd_proc p;
	struct pollfd pf;
	uint64_t buf[64];
	int idle, member;

	(void)state;
	emd_start(&p, (const char *const[]){"--idle-timeout", "1", NULL});
	idle = emd_connect(&p);
	member = emd_connect(&p);
	join(member);
	/* The idle one is closed (a hang guard of 60 s, not a threshold). */
	pf = (struct pollfd){.fd = idle, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 60000), 1);
	assert_true(recv(idle, buf, sizeof(buf), 0) <= 0);
	wait_log(&p, "idle for 1 s");
	/* The member is not: it waits for events. */
	ask_table(member, 9, 0);
	answered(member, 9);
	close(idle);
	close(member);
	emd_stop(&p);
}

static void test_refusals_logged_briefly(void **state)
{
	enum { N = 2000 };
	struct emd_proc p;
	unsigned int lines;
	int a, b;

	(void)state;
	emd_start(&p, (const char *const[]){"--max-clients", "2", NULL});
	a = emd_connect(&p);
	b = emd_connect(&p);
	ask_table(a, 1, 0);
	answered(a, 1);
	ask_table(b, 2, 0);
	answered(b, 2);
	for (int i = 0; i < N; i++) {
		int c = emd_connect(&p);

		ask_quietly(c, 3);
		assert_int_equal(fate(c, 3), 0);
		close(c);
	}
	barrier(&p);
	lines = log_lines(&p, "refus");
	print_message("# %d clients refused: %u log lines\n", N, lines);
	assert_true(lines >= 1 && lines <= 50);
	close(a);
	close(b);
	emd_stop(&p);
}

/* ---- memory -------------------------------------------------------------------- */

/* The queued bytes emd reports on SIGUSR2. */
static unsigned long queued_bytes(struct emd_proc *p)
{
	const char *t, *at;

	barrier(p);
	t = emd_log_text(p);
	at = NULL;
	for (const char *x = t; (x = strstr(x, ", queued ")); x++)
		at = x;
	if (!at)
		fail_msg("emd reports no queued bytes; log:\n%s", t);
	return strtoul(at + 9, NULL, 10);
}

static void test_memory_returned(void **state)
{
	enum { N = 200, REQ = 28, PER = 32768 / REQ };
	static int fd[N];
	static uint8_t dgram[PER * REQ];
	const char *const args[] = {"--no-watch", "--max-clients-per-user", "0", NULL};
	char *text = devices(1, 256, 0);
	unsigned long last = 0, q;
	long base, peak, after = 0;
	struct emd_proc p;
	int c;

	(void)state;
	emd_start_model_take(&p, text, args);
	c = emd_connect(&p);
	ask_table(c, 1, 0);
	answered(c, 1);
	base = proc_status_kb(p.pid, "VmRSS:");
	for (size_t i = 0; i < PER; i++) {
		struct nlmsghdr *r = req_begin(dgram + i * REQ, FAM_ID, NLM_F_REQUEST,
					       (uint32_t)i, 2, 1);

		mnl_attr_put_u32(r, 1, 0);
		assert_int_equal(r->nlmsg_len, REQ);
	}
	for (int i = 0; i < N; i++) {
		int one = 1;

		fd[i] = emd_connect(&p);
		setsockopt(fd[i], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
		send_pkt(fd[i], dgram, sizeof(dgram)); /* never read */
	}
	/* Until what emd queues for them stops growing. */
	for (int stable = 0, i = 0; stable < 3 && i < 600; i++) {
		q = queued_bytes(&p);
		stable = q == last ? stable + 1 : 0;
		last = q;
		usleep(20000);
	}
	peak = proc_status_kb(p.pid, "VmHWM:");
	print_message("# %d clients flooding: %lu bytes queued; RSS %ld kB at rest, peak %ld kB\n",
		      N, last, base, peak);
	/* Bounded by --total-queue-bytes (64 MiB) and one answer (10 KiB) a client
	 * at most beyond, not by 1 MiB per client. */
	assert_true(last <= (64ul << 20) + N * 16384ul);
	close_all(fd, N);
	if (EMD_SANITIZED) {
		/* The sanitizer's allocator pads every block and keeps freed ones in
		 * quarantine: emd's RSS says nothing about emd's memory there. */
		print_message("# SKIP RSS bounds: emd built with a sanitizer\n");
		close(c);
		emd_stop(&p);
		return;
	}
	assert_true(peak - base <= 100 * 1024);
	/* Given back: near the baseline again (a hang guard, not a threshold). */
	for (int i = 0; i < 600; i++) {
		ask_table(c, 2, 0);
		answered(c, 2);
		after = proc_status_kb(p.pid, "VmRSS:");
		if (after - base <= 10 * 1024)
			break;
		usleep(100000);
	}
	print_message("# after they closed: RSS %ld kB\n", after);
	assert_true(after - base <= 10 * 1024);
	close(c);
	emd_stop(&p);
}

/* ---- datagrams ----------------------------------------------------------------- */

static void test_big_reply(void **state)
{
	const char *const args[] = {"--sndbuf", "4096", "--no-watch", NULL};
	size_t cap = 16384, n = 0;
	char *text = malloc(cap);
	uint64_t req[16], buf[8192];
	struct nlmsghdr *r;
	struct emd_proc p;
	size_t len;
	int fd;

	(void)state;
	/* A domain of 1,024 CPUs: its get-perf-domains reply is 12 KiB. */
	n += (size_t)snprintf(text + n, cap - n, "domains:\n  - name: wide\n    cpus: [");
	for (int i = 0; i < 1024; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s%d", i ? ", " : "", i);
	snprintf(text + n, cap - n, "]\n    capacity: 1024\n    flags: [microwatts]\n"
				    "    states: [{frequency: 1000, power: 10}]\n"
				    "  - {name: gpu, flags: [microwatts], states: "
				    "[{frequency: 1, power: 1}]}\n");
	emd_start_model_take(&p, text, args);
	fd = emd_connect(&p);
	ask_domain(fd, 5, 0);
	len = recv_pkt(fd, buf, sizeof(buf));
	{
		struct emnl_error e = parse_error(buf, len);

		assert_int_equal(e.err, -EMSGSIZE);
		assert_non_null(strstr(e.msg, "does not fit the connection's packets"));
		print_message("# %s\n", e.msg);
	}
	ask_domain(fd, 6, 1); /* the connection stays */
	answered(fd, 6);
	/* A dump of it: nothing fits, NLMSG_DONE says -EMSGSIZE. */
	r = req_begin(req, FAM_ID, NLM_F_REQUEST | NLM_F_DUMP, 7, 1, 1);
	send_pkt(fd, r, r->nlmsg_len);
	len = recv_pkt(fd, buf, sizeof(buf));
	assert_int_equal(nl(buf)->nlmsg_type, NLMSG_DONE);
	assert_int_equal(nl(buf)->nlmsg_seq, 7);
	assert_int_equal(len, NLMSG_HDRLEN + sizeof(int));
	{
		int status;

		memcpy(&status, (const char *)buf + NLMSG_HDRLEN, sizeof(status));
		assert_int_equal(status, -EMSGSIZE);
	}
	ask_domain(fd, 8, 1);
	answered(fd, 8);
	close(fd);
	emd_stop(&p);
}

static void test_empty_datagram(void **state)
{
	struct emd_proc p;
	int fd;

	(void)state;
	emd_start(&p, NULL);
	fd = emd_connect(&p);
	assert_int_equal(send(fd, "", 0, 0), 0);
	ask_table(fd, 7, 0);
	answered(fd, 7); /* ignored, as netlink_rcv_skb() finds no message in it */
	close(fd);
	emd_stop(&p);
}

/* ---- events -------------------------------------------------------------------- */

static void test_reload_events_keep_up(void **state)
{
	enum { N = 4096 };
	const char *const args[] = {"--no-watch", NULL}; /* --client-queue: the default */
	char *text = devices(N, 2, 0);
	struct emd_proc p;
	int sub;

	(void)state;
	emd_start_model_take(&p, text, args);
	sub = emd_connect(&p);
	join(sub);
	text = devices(N, 2, 1);
	write_file(p.model, text);
	free(text);
	emd_signal(&p, SIGHUP);
	/* A reader that keeps up: every event, in order, no overrun. */
	events_in_order(sub, N, 4, 0);
	reloaded(&p);
	assert_false(pkt_waiting(sub));
	close(sub);
	emd_stop(&p);
}

/*
 * A CPU domain's capacity changed by a reload: applied as the kernel's
 * em_adjust_cpu_capacity() (kernel/power/energy_model.c: em_adjust_new_capacity()
 * recomputes performance = capacity * frequency / fmax for each state, as
 * em_init_performance() does, then the costs, and em_dev_update_perf_domain()
 * tells netlink listeners "updated").
 */
static void test_capacity_reload(void **state)
{
	static const char *const fmt =
		"domains:\n"
		"  - name: little\n    cpus: [0, 1]\n    capacity: %u\n"
		"    flags: [microwatts]\n    states:\n"
		"      - { frequency: 500000, power: 100000 }\n"
		"      - { frequency: 1000000, power: 300000 }\n";
	const char *const args[] = {"--no-watch", NULL};
	uint64_t buf[1024];
	const struct nlattr *a, *st;
	unsigned long perf[2] = {0, 0}, cost[2] = {0, 0};
	char text[512];
	struct emd_proc p;
	unsigned int k = 0;
	int sub;

	(void)state;
	snprintf(text, sizeof(text), fmt, 512);
	emd_start_model(&p, text, args);
	sub = emd_connect(&p);
	join(sub);
	snprintf(text, sizeof(text), fmt, 800);
	write_file(p.model, text);
	emd_signal(&p, SIGHUP);
	reloaded(&p);
	assert_null(strstr(emd_log_text(&p), "failed"));
	recv_pkt(sub, buf, sizeof(buf));
	assert_int_equal(nl(buf)->nlmsg_type, FAM_ID);
	assert_int_equal(((const struct genlmsghdr *)mnl_nlmsg_get_payload(nl(buf)))->cmd, 4);
	mnl_attr_for_each(a, nl(buf), GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != 2)
			continue;
		mnl_attr_for_each_nested(st, a) {
			if (mnl_attr_get_type(st) == 2)
				perf[k] = (unsigned long)mnl_attr_get_u64(st);
			if (mnl_attr_get_type(st) == 5)
				cost[k] = (unsigned long)mnl_attr_get_u64(st);
		}
		k++;
	}
	assert_int_equal(k, 2);
	assert_int_equal(perf[0], 800UL * 500000 / 1000000);
	assert_int_equal(perf[1], 800);
	assert_int_equal(cost[0], 100000UL * 10 / perf[0]);
	assert_int_equal(cost[1], 300000UL * 10 / 800);
	close(sub);
	emd_stop(&p);
}

/* Usage: hardening_availability [PATTERN]: only the tests whose names match. */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor_limit),
		cmocka_unit_test(test_descriptors_run_out),
		cmocka_unit_test(test_fifo_model),
		cmocka_unit_test(test_reload_serves),
		cmocka_unit_test(test_half_written_model),
		cmocka_unit_test(test_socket_not_a_socket),
		cmocka_unit_test(test_per_user_limit),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_refusals_logged_briefly),
		cmocka_unit_test(test_memory_returned),
		cmocka_unit_test(test_socket_dir),
		cmocka_unit_test(test_user_socket),
		cmocka_unit_test(test_big_reply),
		cmocka_unit_test(test_empty_datagram),
		cmocka_unit_test(test_reload_events_keep_up),
		cmocka_unit_test(test_capacity_reload),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
