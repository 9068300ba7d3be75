/*
 * The reload handshake of reload.h: the requester's side (`emd --reload PID`)
 * and emd's answer.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "emd.h"
#include "reload.h"

/*
 * Can the process @pid signal us back? kill(2) lets a sender whose real or
 * effective uid is our real or saved uid, or root. Returns 0, or -EPERM with
 * a message; 0 as well when /proc does not tell (hidepid).
 */
static int can_answer(pid_t pid)
{
	char path[64], line[256];
	unsigned int r, e;
	uid_t mr, me, ms;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
			found = 1;
			break;
		}
	fclose(f);
	if (!found || getresuid(&mr, &me, &ms))
		return 0;
	if (e == 0 || r == mr || r == ms || e == mr || e == ms)
		return 0;
	fprintf(stderr, "emd --reload: emd (pid %d) runs as uid %u and could not answer uid %u: "
			"run emd --reload as uid %u (the unit's ExecReload= does)\n",
		(int)pid, e, (unsigned int)mr, e);
	return -EPERM;
}

/* emd_reload_request - see reload.h. */
int emd_reload_request(pid_t pid)
{
	union sigval ask = {.sival_int = EMD_RELOAD_ASK};
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	sigset_t set;
	int ret;

	ret = can_answer(pid);
	if (ret)
		return ret;
	/* A pidfd tells us if emd exits before it answers. */
	pfd[1].fd = pidfd_open(pid, 0);
	if (pfd[1].fd < 0) {
		ret = -errno;
		fprintf(stderr, "emd --reload: pid %d: %s\n", (int)pid, strerror(errno));
		return ret;
	}
	pfd[1].events = POLLIN;
	/* The answer waits, blocked, in a signalfd: blocked before we ask, none is lost. */
	sigemptyset(&set);
	sigaddset(&set, SIGCONT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pfd[0].fd = signalfd(-1, &set, SFD_CLOEXEC);
	pfd[0].events = POLLIN;
	if (pfd[0].fd < 0 || sigqueue(pid, SIGHUP, ask)) {
		ret = -errno;
		fprintf(stderr, "emd --reload: asking pid %d: %s\n", (int)pid, strerror(errno));
		goto out;
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if ((pfd[0].revents & POLLIN) &&
		    read(pfd[0].fd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
		    si.ssi_pid == (uint32_t)pid && si.ssi_code == SI_QUEUE &&
		    ((uint32_t)si.ssi_int & ~0xffu) == EMD_RELOAD_DONE) {
			ret = (si.ssi_int & 0xff) ? 1 : 0;
			if (ret)
				fprintf(stderr, "emd --reload: emd (pid %d) refused the new model "
						"and serves the one it had; its log says why\n",
					(int)pid);
			break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			fprintf(stderr, "emd --reload: emd (pid %d) exited before it answered\n",
				(int)pid);
			ret = -ESRCH;
			break;
		}
	}
out:
	if (pfd[0].fd >= 0)
		close(pfd[0].fd);
	close(pfd[1].fd);
	return ret;
}

/* emd_reload_answer - see reload.h. */
void emd_reload_answer(const struct signalfd_siginfo *si, bool ok)
{
	union sigval done = {.sival_int = (int)(EMD_RELOAD_DONE | (ok ? 0u : 1u))};

	if (si->ssi_code != SI_QUEUE || si->ssi_int != EMD_RELOAD_ASK || si->ssi_pid == 0)
		return;
	if (sigqueue((pid_t)si->ssi_pid, SIGCONT, done))
		emd_log(EMD_WARNING "cannot answer the reload request of pid %u: %s", si->ssi_pid,
			strerror(errno));
}
