/*
 * The emd test harness (see harness.h): process control, sd_notify readiness,
 * raw seqpacket I/O with a hang guard, and request building with libmnl.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
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

static void start_in_dir(struct emd_proc *p, const char *const *args);

/* Every emd started, so that one left running by a failed test is killed at
 * exit (it would otherwise hold the test runner's pipes open). */
static pid_t started[64];
static size_t n_started;

static void kill_leftovers(void)
{
	for (size_t i = 0; i < n_started; i++)
		if (started[i] > 0 && kill(started[i], 0) == 0)
			kill(started[i], SIGKILL);
}

/* emd_start - spawn emd and wait until it says READY=1. */
void emd_start(struct emd_proc *p, const char *const *args)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/emd-test.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	start_in_dir(p, args);
}

/* Spawn emd with its files in p->dir. */
static void start_in_dir(struct emd_proc *p, const char *const *args)
{
	const char *argv[64];
	char *envp[256];
	size_t n = 0;
	posix_spawn_file_actions_t fa;

	snprintf(p->sock, sizeof(p->sock), "%s/emd.sock", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/emd.log", p->dir);
	emd_notify_setup(p, envp);
	argv[n++] = EMD_PATH;
	argv[n++] = "--socket";
	argv[n++] = p->sock;
	if (geteuid() == 0)
		argv[n++] = "--allow-root"; /* CI runs as root; emd refuses it unless told */
	for (; args && *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(posix_spawn(&p->pid, EMD_PATH, &fa, NULL, (char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	if (n_started == 0)
		atexit(kill_leftovers);
	if (n_started < sizeof(started) / sizeof(started[0]))
		started[n_started++] = p->pid;
	emd_wait_ready(p);
}

/* emd_notify_setup - p->notify_fd bound in p->dir, and emd's environment. */
const char *emd_notify_setup(struct emd_proc *p, char **envp)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t ne = 0;

	p->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(p->notify_fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", p->dir);
	assert_int_equal(bind(p->notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(p->notify_env, sizeof(p->notify_env), "NOTIFY_SOCKET=%s", sa.sun_path);
	for (char **e = environ; *e && ne < 250; e++)
		if (strncmp(*e, "NOTIFY_SOCKET=", 14) && strncmp(*e, "LISTEN_", 7))
			envp[ne++] = *e;
	envp[ne++] = p->notify_env;
	envp[ne] = NULL;
	return p->notify_env + strlen("NOTIFY_SOCKET=");
}

/* emd_wait_ready - the first sd_notify message must be READY=1. */
void emd_wait_ready(struct emd_proc *p)
{
	const char *ready = emd_notify_wait(p);

	snprintf(p->ready, sizeof(p->ready), "%s", ready);
	if (strncmp(ready, "READY=1", 7))
		fail_msg("emd did not get ready: '%s'; log:\n%s", ready, emd_log_text(p));
}

struct emd_proc emd_default;

int emd_default_setup(void **state)
{
	(void)state;
	emd_start(&emd_default, NULL);
	return 0;
}

int emd_default_teardown(void **state)
{
	(void)state;
	emd_stop(&emd_default);
	return 0;
}

/* emd_start_model - emd on a model file written from @text. */
void emd_start_model(struct emd_proc *p, const char *text, const char *const *args)
{
	const char *argv[40];
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/emd-test.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->model, sizeof(p->model), "%s/model.yaml", p->dir);
	write_file(p->model, text);
	argv[n++] = "--model";
	argv[n++] = p->model;
	for (; args && *args && n < 38; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	start_in_dir(p, argv);
}

/* emd_start_model_take - emd_start_model, then free(@text). */
void emd_start_model_take(struct emd_proc *p, char *text, const char *const *args)
{
	emd_start_model(p, text, args);
	free(text);
}

/* emd_notify_wait - the next sd_notify message. */
const char *emd_notify_wait(struct emd_proc *p)
{
	static char buf[1024];
	struct pollfd pf = {.fd = p->notify_fd, .events = POLLIN};
	ssize_t n;
	int slices = 0, status;

	/* Wait in slices, so that an emd that exited is noticed at once. */
	while (poll(&pf, 1, 100) != 1) {
		if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
			snprintf(buf, sizeof(buf), "(emd exited with status 0x%x)", status);
			p->pid = -1;
			return buf;
		}
		if (++slices == 600) {
			snprintf(buf, sizeof(buf), "(nothing in 60 s)");
			return buf;
		}
	}
	n = recv(p->notify_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* emd_log_text - emd's stderr. */
const char *emd_log_text(const struct emd_proc *p)
{
	static char buf[65536];
	FILE *f = fopen(p->log, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

void emd_signal(struct emd_proc *p, int sig)
{
	assert_int_equal(kill(p->pid, sig), 0);
}

/* emd_stop - SIGTERM and a clean exit. */
void emd_stop(struct emd_proc *p)
{
	struct stat st;
	int status;

	emd_signal(p, SIGTERM);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("emd exited with status 0x%x; log:\n%s", status, emd_log_text(p));
	assert_int_equal(stat(p->sock, &st), -1); /* the socket file is removed */
	close(p->notify_fd);
	{
		char path[200];

		snprintf(path, sizeof(path), "%s/notify", p->dir);
		unlink(path);
		unlink(p->log);
		snprintf(path, sizeof(path), "%s/model.yaml", p->dir);
		unlink(path);
		rmdir(p->dir);
	}
}

/* emd_connect - one client connection. */
int emd_connect(const struct emd_proc *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(p->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p->sock, strlen(p->sock) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

void send_pkt(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* recv_pkt - one packet, or the test fails after a minute of silence. */
size_t recv_pkt(int fd, void *buf, size_t size)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pf, 1, 60000) != 1)
		fail_msg("no packet from emd in 60 s");
	n = recv(fd, buf, size, MSG_TRUNC);
	assert_true(n > 0);
	assert_true((size_t)n <= size);
	return (size_t)n;
}

bool pkt_waiting(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};

	return poll(&pf, 1, 0) == 1;
}

/* proc_status_kb - a field of /proc/PID/status, in kB. */
long proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kb = atol(line + strlen(field));
	fclose(f);
	return kb;
}

/* send_recv_len - tell emd our receive buffer is @len bytes (RECV_LEN). */
void send_recv_len(int fd, uint32_t len)
{
	uint64_t buf[8];
	struct nlmsghdr *nlh = req_begin(buf, EMD_CTRL_ID, NLM_F_REQUEST, 0,
					 EMNL_SEQPACKET_CMD_RECV_LEN, 1);

	mnl_attr_put_u32(nlh, EMNL_SEQPACKET_ATTR_LEN, len);
	send_pkt(fd, nlh, nlh->nlmsg_len);
}

/* parse_error - the NLMSG_ERROR at @buf, which must be the packet's only message. */
struct emnl_error parse_error(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	struct emnl_error e;

	assert_int_equal(nlh->nlmsg_type, NLMSG_ERROR);
	assert_int_equal(nlh->nlmsg_len, len);
	assert_int_equal(emnl_extack_parse(nlh, &e, NULL), 0);
	return e;
}

/* expect_error - an NLMSG_ERROR with @err and (if not NULL) message @msg. */
void expect_error(const void *buf, size_t len, uint32_t seq, int err, const char *msg)
{
	const struct nlmsghdr *nlh = buf;
	struct emnl_error e = parse_error(buf, len);

	assert_int_equal(nlh->nlmsg_seq, seq);
	assert_int_equal(nlh->nlmsg_pid, (uint32_t)getpid());
	assert_int_equal(e.err, err);
	if (msg)
		assert_string_equal(e.msg, msg);
}

/* test_spec - spec/dev-energymodel.yaml, loaded once. */
const struct emnl_spec *test_spec(void)
{
	static struct emnl_spec *spec;
	struct emnl_error e;

	if (!spec)
		spec = emnl_spec_load(EM_SPEC_DIR "/dev-energymodel.yaml", &e);
	assert_non_null(spec);
	return spec;
}

/* write_file - replace @path with @text (rename, as editors do). */
void write_file(const char *path, const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}
