/*
 * The pieces of a systemd service's surroundings that a test can set up
 * without systemd as PID 1, for tests/systemd/units.sh and sandbox.sh:
 *
 *   sandbox mdwe CMD [ARG...]          the kernel's W^X for the process and what it
 *                                      execs (prctl PR_SET_MDWE, Linux 6.3), then CMD
 *   sandbox seccomp-mdwe CMD [ARG...]  systemd 252's MemoryDenyWriteExecute=yes, then CMD
 *   sandbox wx-probe                   exit 0 when a writable+executable mapping and
 *                                      mprotect(PROT_EXEC) are both refused, 1 if not
 *   sandbox notify PATH OUT            the service manager's end of sd_notify: append
 *                                      each datagram sent to PATH to OUT, until killed
 *   sandbox stream-connect PATH        connect a SOCK_STREAM client to PATH, then exit
 *
 * systemd 252 implements MemoryDenyWriteExecute= with a seccomp filter
 * (src/shared/seccomp-util.c, seccomp_memory_deny_write_execute()): on x86-64
 * and arm64 it fails with EPERM an mmap() whose prot has both PROT_WRITE and
 * PROT_EXEC, an mprotect() or pkey_mprotect() whose prot has PROT_EXEC, and a
 * shmat() with SHM_EXEC; anything else passes. The filter below is that rule.
 * The kernel's own rule (mm/mmap.c, map_deny_write_exec()) refuses a mapping
 * that is writable and executable, and one that becomes executable when it was
 * not.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

static int usage(void)
{
	fprintf(stderr, "usage: sandbox mdwe|seccomp-mdwe CMD [ARG...] | wx-probe | "
			"notify PATH OUT | stream-connect PATH\n");
	return 2;
}

static int exec_cmd(char **argv)
{
	execvp(argv[0], argv);
	fprintf(stderr, "sandbox: %s: %s\n", argv[0], strerror(errno));
	return 127;
}

/* The low word of syscall argument @n (prot and shmflg fit in it). */
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))

static int seccomp_mdwe(void)
{
#ifdef NATIVE_AUDIT_ARCH
#ifdef __NR_pkey_mprotect
#define NR_PKEY_MPROTECT __NR_pkey_mprotect
#else
#define NR_PKEY_MPROTECT __NR_mprotect
#endif
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 0, 16),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 4, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 6, 0),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_PKEY_MPROTECT, 5, 0),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_shmat, 7, 0),
		/* 7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 8: mmap */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 6, 7),
		/* 11: mprotect, pkey_mprotect */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_EXEC),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_EXEC, 3, 4),
		/* 14: shmat */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, SHM_EXEC),
		/* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SHM_EXEC, 0, 1),
		/* 17 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		/* 18 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		fprintf(stderr, "sandbox: seccomp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
#else
	fprintf(stderr, "sandbox: seccomp-mdwe: no filter for this architecture\n");
	return -1;
#endif
}

/* 0 when W+X memory cannot be had, 1 (with a message) when it can. */
static int wx_probe(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int bad = 0;

	if (p != MAP_FAILED) {
		fprintf(stderr, "sandbox: wx-probe: a writable+executable mapping was granted\n");
		munmap(p, (size_t)ps);
		bad = 1;
	}
	p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	if (mprotect(p, (size_t)ps, PROT_READ | PROT_EXEC) == 0) {
		fprintf(stderr, "sandbox: wx-probe: mprotect(PROT_EXEC) was granted\n");
		bad = 1;
	}
	munmap(p, (size_t)ps);
	return bad;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int notify(const char *path, const char *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sigaction act = {.sa_handler = on_term};
	char buf[4096];
	int fd, o;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	o = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || o < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0666)) { /* the service's user sends to it */
		fprintf(stderr, "sandbox: notify %s: %s\n", path, strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &act, NULL);
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		buf[n++] = '\n';
		if (write(o, buf, (size_t)n) != n)
			return 1;
	}
	unlink(path);
	return 0;
}

static int stream_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	strcpy(sa.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "sandbox: connect %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "mdwe") && argc > 2) {
		if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0)) {
			fprintf(stderr, "sandbox: PR_SET_MDWE: %s\n", strerror(errno));
			return 77;
		}
		return exec_cmd(argv + 2);
	}
	if (!strcmp(argv[1], "seccomp-mdwe") && argc > 2)
		return seccomp_mdwe() ? 1 : exec_cmd(argv + 2);
	if (!strcmp(argv[1], "wx-probe") && argc == 2)
		return wx_probe();
	if (!strcmp(argv[1], "notify") && argc == 4)
		return notify(argv[2], argv[3]);
	if (!strcmp(argv[1], "stream-connect") && argc == 3)
		return stream_connect(argv[2]);
	return usage();
}
