/*
 * emd as a service, against the real binary: 200 concurrent clients answered
 * alike, the client limit, readiness and stopping through sd_notify, SIGTERM
 * with clients connected, the static-call hooks switched on and off at run
 * time (SIGUSR1), a stale socket file replaced and a live one left alone,
 * and the usage errors of the command line.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

extern char **environ;

/* get-perf-table do for @id with sequence @seq. */
static void ask_table(int fd, uint32_t seq, uint32_t id)
{
	uint64_t req[16];
	struct nlmsghdr *r = req_begin(req, FAM_ID, NLM_F_REQUEST, seq, 2, 1);

	mnl_attr_put_u32(r, 1, id);
	send_pkt(fd, r, r->nlmsg_len);
}

static void test_200_clients(void **state)
{
	enum { N = 200 };
	static int fd[N];
	static uint64_t first[2][256];
	static size_t first_len[2];
	struct emd_proc p;
	uint64_t buf[256];

	(void)state;
	emd_start(&p, NULL);
	for (int i = 0; i < N; i++)
		fd[i] = emd_connect(&p);
	/* Everyone asks before anyone reads. */
	for (int i = 0; i < N; i++)
		ask_table(fd[i], 1000 + (uint32_t)i, (uint32_t)i % 2);
	for (int i = 0; i < N; i++) {
		size_t n = recv_pkt(fd[i], buf, sizeof(buf));

		assert_int_equal(nl(buf)->nlmsg_seq, 1000 + i);
		assert_int_equal(nl(buf)->nlmsg_type, FAM_ID);
		assert_int_equal(nl(buf)->nlmsg_len, n);
		/* Same answer for the same domain, apart from the sequence number. */
		memset((char *)buf + offsetof(struct nlmsghdr, nlmsg_seq), 0, sizeof(uint32_t));
		if (i < 2) {
			memcpy(first[i], buf, n);
			first_len[i] = n;
		} else {
			assert_int_equal(n, first_len[i % 2]);
			assert_memory_equal(buf, first[i % 2], n);
		}
	}
	/* And again, all at once, on the same connections. */
	for (int i = 0; i < N; i++)
		ask_table(fd[i], 2000 + (uint32_t)i, 7);
	for (int i = 0; i < N; i++) {
		size_t n = recv_pkt(fd[i], buf, sizeof(buf));

		expect_error(buf, n, 2000 + (uint32_t)i, -EINVAL, "no performance domain with id 7");
	}
	for (int i = 0; i < N; i++)
		close(fd[i]);
	emd_stop(&p);
}

static void test_client_limit(void **state)
{
	const char *const args[] = {"--max-clients", "2", NULL};
	struct emd_proc p;
	uint64_t buf[256];
	int a, b, c;

	(void)state;
	emd_start(&p, args);
	a = emd_connect(&p);
	b = emd_connect(&p);
	ask_table(a, 1, 0);
	recv_pkt(a, buf, sizeof(buf));
	ask_table(b, 2, 0);
	recv_pkt(b, buf, sizeof(buf));
	/* The third is closed without an answer (blocks until emd closes it). */
	c = emd_connect(&p);
	assert_true(recv(c, buf, sizeof(buf), 0) <= 0);
	close(c);
	assert_non_null(strstr(emd_log_text(&p), "refusing a client: 2 clients is the limit"));
	/* Once one leaves, a new client is served. a's departure is ready in emd
	 * before b's next request is, so once b has its answer, emd has freed a's
	 * slot (it sweeps departed clients after each batch of events). */
	close(a);
	ask_table(b, 5, 0);
	recv_pkt(b, buf, sizeof(buf));
	c = emd_connect(&p);
	ask_table(c, 4, 0);
	{
		ssize_t n = recv(c, buf, sizeof(buf), 0);

		if (n <= 0 || nl(buf)->nlmsg_seq != 4)
			fail_msg("a new client is not served after one left; emd's log:\n%s",
				 emd_log_text(&p));
	}
	close(c);
	close(b);
	emd_stop(&p);
}

static void test_notify_and_sigterm(void **state)
{
	struct emd_proc p;
	uint64_t buf[64];
	char want[300], path[200];
	int a, status;

	(void)state;
	emd_start(&p, NULL);
	snprintf(want, sizeof(want), "READY=1\nSTATUS=serving 2 performance domains on %s", p.sock);
	assert_string_equal(p.ready, want);
	a = emd_connect(&p);
	emd_signal(&p, SIGTERM);
	assert_string_equal(emd_notify_wait(&p), "STOPPING=1");
	assert_int_equal(waitpid(p.pid, &status, 0), p.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(recv(a, buf, sizeof(buf), 0), 0); /* the client sees EOF */
	assert_int_equal(access(p.sock, F_OK), -1);        /* the socket file is gone */
	close(a);
	close(p.notify_fd);
	snprintf(path, sizeof(path), "%s/notify", p.dir);
	unlink(path);
	unlink(p.log);
	rmdir(p.dir);
}

/* The counter @key from the STATUS line emd sends on SIGUSR2. */
static unsigned long long counter(struct emd_proc *p, const char *key, bool *on)
{
	const char *st;
	char pat[64];

	emd_signal(p, SIGUSR2);
	st = emd_notify_wait(p);
	*on = strncmp(st, "STATUS=counters (off)", 21) != 0;
	snprintf(pat, sizeof(pat), " %s=", key);
	assert_non_null(strstr(st, pat));
	return strtoull(strstr(st, pat) + strlen(pat), NULL, 10);
}

static void test_hooks_switch(void **state)
{
	struct emd_proc p;
	uint64_t buf[256];
	bool on;
	int a;

	(void)state;
	emd_start(&p, NULL);
	a = emd_connect(&p);
	/* Off (RET0): nothing counted, nothing traced. */
	ask_table(a, 1, 0);
	recv_pkt(a, buf, sizeof(buf));
	assert_int_equal(counter(&p, "get-table", &on), 0);
	assert_false(on);
	assert_null(strstr(emd_log_text(&p), "trace:"));
	/* On: SIGUSR1 (taken before SIGUSR2, a lower signal number). */
	emd_signal(&p, SIGUSR1);
	assert_int_equal(counter(&p, "get-table", &on), 0);
	assert_true(on);
	ask_table(a, 2, 0);
	recv_pkt(a, buf, sizeof(buf));
	ask_table(a, 3, 9);
	recv_pkt(a, buf, sizeof(buf));
	assert_int_equal(counter(&p, "get-table", &on), 2);
	assert_int_equal(counter(&p, "errors", &on), 1);
	{
		char line[160];

		snprintf(line, sizeof(line), "emd: trace: client %d: type 32 cmd 2 flags 0x1 seq 3 "
					     "len 28 -> -2", (int)getpid());
		assert_non_null(strstr(emd_log_text(&p), line));
	}
	/* Off again. */
	emd_signal(&p, SIGUSR1);
	(void)counter(&p, "get-table", &on);
	assert_false(on);
	ask_table(a, 4, 0);
	recv_pkt(a, buf, sizeof(buf));
	assert_int_equal(counter(&p, "get-table", &on), 2);
	close(a);
	emd_stop(&p);
}

/*
 * One datagram of 1,000 requests for a 256-state table, nothing read: emd
 * queues at most --client-queue-bytes of answers and keeps the rest of the
 * datagram waiting; others are served meanwhile; then every request is
 * answered, in order, none lost.
 */
static void test_request_flood_waits(void **state)
{
	const char *const args[] = {"--no-watch", "--client-queue-bytes", "65536", NULL};
	enum { N = 1000 };
	static uint64_t req[N * 4], buf[4096];
	char *text = malloc(256 * 48 + 64);
	struct emd_proc p;
	size_t off = 0, n, first = 0;
	long rss_before;
	int flood, other;

	(void)state;
	assert_non_null(text);
	n = (size_t)sprintf(text, "domains:\n  - name: wide\n    flags: [microwatts]\n    states:\n");
	for (int i = 0; i < 256; i++)
		n += (size_t)sprintf(text + n, "      - { frequency: %d, power: %d }\n", 1000 + i, 10 + i);
	emd_start_model_take(&p, text, args);
	flood = emd_connect(&p);
	other = emd_connect(&p);
	for (uint32_t i = 0; i < N; i++) {
		struct nlmsghdr *r = req_begin((char *)req + off, FAM_ID, NLM_F_REQUEST, i + 1, 2, 1);

		mnl_attr_put_u32(r, 1, 0);
		off += r->nlmsg_len;
	}
	rss_before = proc_status_kb(p.pid, "VmRSS:");
	send_pkt(flood, req, off);
	/* Another client is served while the flood waits (after emd has taken
	 * the flood's datagram: it was sent first). */
	ask_table(other, 7, 0);
	n = recv_pkt(other, buf, sizeof(buf));
	assert_int_equal(nl(buf)->nlmsg_seq, 7);
	/* Unbounded, the answers would take 16 MiB; bounded, about 100 KiB. */
	if (proc_status_kb(p.pid, "VmRSS:") - rss_before > 8192)
		fail_msg("emd grew from %ld to %ld kB", rss_before, proc_status_kb(p.pid, "VmRSS:"));
	/* Every answer comes, in order. */
	for (uint32_t i = 0; i < N; i++) {
		n = recv_pkt(flood, buf, sizeof(buf));
		assert_int_equal(nl(buf)->nlmsg_type, FAM_ID);
		assert_int_equal(nl(buf)->nlmsg_seq, i + 1);
		if (!first)
			first = n;
		assert_int_equal(n, first);
	}
	assert_true(first > 16000); /* 256 states: about 16 KiB each */
	close(flood);
	close(other);
	emd_stop(&p);
}

/* Run emd with @args to completion; its exit status, stderr in @err. */
static int run_emd(const char *const *args, char *err, size_t size)
{
	const char *argv[16];
	char path[] = "/tmp/emd-err.XXXXXX";
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	pid_t pid;
	int status, fd = mkstemp(path);
	ssize_t len;

	assert_true(fd >= 0);
	argv[n++] = EMD_PATH;
	if (geteuid() == 0 && strcmp(args[0], "--as-is"))
		argv[n++] = "--allow-root";
	if (!strcmp(args[0], "--as-is"))
		args++; /* the test wants emd's own answer to being run as root */
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	assert_int_equal(posix_spawn(&pid, EMD_PATH, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	len = pread(fd, err, size - 1, 0);
	err[len > 0 ? len : 0] = '\0';
	close(fd);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_socket_file(void **state)
{
	struct emd_proc p;
	char err[1024];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s;

	(void)state;
	emd_start(&p, NULL);
	/* A second emd on a live socket refuses to start. */
	{
		const char *const args[] = {"--socket", p.sock, NULL};

		assert_int_equal(run_emd(args, err, sizeof(err)), 1);
		assert_non_null(strstr(err, "another server is listening there"));
	}
	emd_stop(&p);
	/* A stale socket file (nobody listening) is replaced. */
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/emd-stale-%d.sock", (int)getpid());
	unlink(sa.sun_path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	{
		struct emd_proc q;
		const char *const args[] = {"--socket", sa.sun_path, NULL};
		uint64_t buf[256];
		int fd;

		emd_start(&q, args); /* the later --socket wins */
		strcpy(q.sock, sa.sun_path);
		fd = emd_connect(&q);
		ask_table(fd, 1, 1);
		recv_pkt(fd, buf, sizeof(buf));
		assert_int_equal(nl(buf)->nlmsg_type, FAM_ID);
		close(fd);
		emd_stop(&q);
	}
}

/* The socket file is 0660, in the group --socket-group names. */
static void test_socket_permissions(void **state)
{
	struct emd_proc p;
	struct stat st;
	char err[1024];

	(void)state;
	emd_start(&p, NULL);
	assert_int_equal(stat(p.sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getegid());
	emd_stop(&p);
	{
		const char *const args[] = {"--socket-group", "12345", NULL};

		emd_start(&p, args);
		assert_int_equal(stat(p.sock, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0660);
		if (geteuid() == 0) /* only root may give a file a group it is not in */
			assert_int_equal(st.st_gid, 12345);
		emd_stop(&p);
	}
	{
		const char *const args[] = {"--socket-group", "no-such-group-here", NULL};

		assert_int_equal(run_emd(args, err, sizeof(err)), 2);
		assert_string_equal(err, "emd: --socket-group: no group 'no-such-group-here'\n");
	}
}

/* As root, emd refuses to run unless told, or serves as --user once bound. */
static void test_root(void **state)
{
	struct passwd *nobody = getpwnam("nobody");
	char err[1024], path[64], line[256];
	unsigned int uid = 0;
	FILE *f;

	(void)state;
	if (geteuid() != 0) {
		print_message("# not root: emd's root rules do not apply\n");
		return;
	}
	{
		const char *const args[] = {"--as-is", "--socket", "/tmp/emd-none.sock", NULL};

		assert_int_equal(run_emd(args, err, sizeof(err)), 2);
		assert_string_equal(err, "emd: refusing to run as root: give --user USER to serve as "
					 "USER once the socket is bound, or --allow-root\n");
	}
	{
		const char *const args[] = {"--user", "no-such-user-here", NULL};

		assert_int_equal(run_emd(args, err, sizeof(err)), 2);
		assert_string_equal(err, "emd: --user: no user 'no-such-user-here'\n");
	}
	assert_non_null(nobody);
	{
		/* Not through the harness: its sd_notify socket is root's alone. */
		char sock[] = "/tmp/emd-user.XXXXXX/emd.sock", *dir = strdup(sock);
		const char *argv[] = {EMD_PATH, "--default", "--user", "nobody", "--socket", sock,
				      NULL};
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		uint64_t buf[256];
		pid_t pid;
		int fd = -1, st;

		assert_non_null(dir);
		dir[strlen(dir) - strlen("/emd.sock")] = '\0';
		assert_non_null(mkdtemp(dir));
		memcpy(sock, dir, strlen(dir));
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		assert_int_equal(posix_spawn(&pid, EMD_PATH, NULL, NULL, (char *const *)argv, environ),
				 0);
		for (int i = 0; i < 200 && fd < 0; i++) {
			fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
				close(fd);
				fd = -1;
				usleep(50000);
			}
		}
		assert_true(fd >= 0);
		ask_table(fd, 1, 1); /* answered: emd is past binding and the drop */
		recv_pkt(fd, buf, sizeof(buf));
		assert_int_equal(nl(buf)->nlmsg_type, FAM_ID);
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Uid: %*u %u", &uid) == 1)
				break;
		fclose(f);
		assert_int_equal(uid, nobody->pw_uid); /* the effective uid */
		close(fd);
		kill(pid, SIGTERM);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		unlink(sock); /* nobody could not remove it from root's directory */
		rmdir(dir);
		free(dir);
	}
}

static void test_usage_errors(void **state)
{
	/* Usage errors: exit 2 and exactly this message. */
	static const struct {
		const char *args[4]; /* NULL-terminated */
		const char *err;
	} usage[] = {
		{{"--dump-packet-size", "0"},
		 "emd: --dump-packet-size: '0' is not a number in 1..32768\n"},
		{{"--default", "--model", "x.yaml"},
		 "emd: give one model source (--default, --model or --kernel-model)\n"},
		{{"--pad-mode", "odd"}, "emd: --pad-mode: 'odd' is not native or align8\n"},
	};
	char err[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
		assert_int_equal(run_emd(usage[i].args, err, sizeof(err)), 2);
		assert_string_equal(err, usage[i].err);
	}
	{
		const char *const args[] = {"--socket", "/tmp/emd-none.sock", "--model",
					    "/nonexistent/model.yaml", NULL};

		assert_int_equal(run_emd(args, err, sizeof(err)), 1);
		assert_non_null(strstr(err, "emd: loading the model: "));
		assert_non_null(strstr(err, "/nonexistent/model.yaml"));
	}
	{
		const char *const args[] = {"--socket", "/tmp/emd-none.sock", "--kernel-model=/nonexistent/energy_model", NULL};

		assert_int_equal(run_emd(args, err, sizeof(err)), 1);
		assert_non_null(strstr(err, "emd: loading the model: "));
	}
	{
		const char *const args[] = {"--help", NULL};

		assert_int_equal(run_emd(args, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "usage: emd [OPTIONS]"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_200_clients),
		cmocka_unit_test(test_client_limit),
		cmocka_unit_test(test_request_flood_waits),
		cmocka_unit_test(test_notify_and_sigterm),
		cmocka_unit_test(test_hooks_switch),
		cmocka_unit_test(test_socket_file),
		cmocka_unit_test(test_socket_permissions),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_usage_errors),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
