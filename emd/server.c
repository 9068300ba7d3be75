/*
 * emd's assembly: the listening socket (bound here, safely, or handed over
 * by systemd), the generic netlink core with the two families registered,
 * the transport serving the socket's clients with the core above it, and
 * the daemon's own events in the same loop — signals (stop, reload, hooks),
 * the model file's inotify watch, and the loader's word that a reload is
 * ready. Here it is decided when a reload runs: one at a time (a request
 * meanwhile runs another after it), never while another process is writing
 * the model file (it waits for the file to be closed). What the fuzzers and
 * the tests' in-process runner start is this, on a thread of their own;
 * main.c adds the command line and privileges.
 *
 * The socket: emd binds only where no other user can replace or move what
 * it binds — every directory on the path is owned by root or the serving
 * user and writable by no one else unless sticky, every symbolic link on it
 * owned by them — replaces only a socket file nobody answers on (never a
 * file of another kind), and at exit removes only the socket it bound
 * (same device and inode).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "emd.h"
#include "emkit/dev_energymodel_user.h"
#include "reload.h"
#include "transport.h"

/* Is stderr the journal? systemd says so in $JOURNAL_STREAM ("DEV:INO" of the
 * stream it connected to stderr); a redirected stderr no longer matches. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* emd_log - one line on stderr (the journal, under systemd). */
void emd_log(const char *fmt, ...)
{
	char line[512];
	const char *text = line;
	int prio = 6; /* LOG_INFO */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>') {
		prio = line[1] - '0';
		text = line + 3;
	}
	/* The journal names the program itself (SYSLOG_IDENTIFIER). */
	if (stderr_is_journal())
		fprintf(stderr, "<%d>%s\n", prio, text);
	else
		fprintf(stderr, "emd: %s\n", text);
}

/* A socket handed over by systemd (LISTEN_PID/LISTEN_FDS), or -1. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int type = 0;
	socklen_t len = sizeof(type);

	if (!pid || !fds || strtol(pid, NULL, 10) != getpid() || strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_SEQPACKET) {
		emd_log("the socket passed by the service manager is not SOCK_SEQPACKET");
		return -1;
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);
	fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK);
	return 3;
}

/* ---- the socket --------------------------------------------------------------------- */

/* Who serves, in messages. */
static const char *serving_user(const struct emd *d)
{
	struct passwd *pw = getpwuid(d->cfg.serve_uid);

	return pw ? pw->pw_name : "the serving user";
}

/*
 * Could someone other than root and the serving user replace what is at or
 * under @path (a directory or symbolic link on the socket's path), given @st?
 * NULL when not, else why.
 */
static const char *unsafe(const struct emd *d, const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != d->cfg.serve_uid)
		return "belongs to another user";
	if (S_ISLNK(st->st_mode) || (st->st_mode & S_ISVTX))
		return NULL; /* sticky: others cannot rename or remove what is not theirs */
	if (st->st_mode & S_IWOTH)
		return "is writable by every user (and not sticky)";
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != d->cfg.serve_gid)
		return "is writable by its group (and not sticky)";
	return NULL;
}

/* Check every component of the absolute directory @dir, as written (lstat). */
static int check_chain(const struct emd *d, const char *dir)
{
	char prefix[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(prefix))
		return -ENAMETOOLONG;
	for (size_t i = 1; i <= n; i++) {
		struct stat st;
		const char *why;

		if (i < n && dir[i] != '/')
			continue;
		memcpy(prefix, dir, i);
		prefix[i] = '\0';
		if (i > 1 && prefix[i - 1] == '/')
			continue; /* "//" */
		if (lstat(i == 1 ? "/" : prefix, &st)) {
			int err = -errno;

			emd_log(EMD_ERR "%s: %s", prefix, strerror(errno));
			return err;
		}
		why = unsafe(d, &st);
		if (why) {
			emd_log(EMD_ERR "%s: not binding there: %s %s %s, so another user could "
					"replace emd's socket; use a directory that only root or %s "
					"can change",
				d->cfg.socket_path, S_ISLNK(st.st_mode) ? "the symbolic link" : "the directory",
				i == 1 ? "/" : prefix, why, serving_user(d));
			return -EPERM;
		}
		if (i == 1 && n == 1)
			break;
	}
	return 0;
}

/*
 * The socket's directory: created when missing (0755, the serving user's),
 * emd's own default directory given to the serving user, then every
 * component checked as written and as resolved.
 */
static int check_socket_dir(const struct emd *d, const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	bool drop = d->cfg.serve_uid != geteuid();
	struct stat st;
	int ret;

	if (path[0] == '/') {
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	} else {
		if (!getcwd(dir, sizeof(dir)))
			return -errno;
		if (slash)
			snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%.*s",
				 (int)(slash - path), path);
	}
	if (lstat(dir, &st) && errno == ENOENT) {
		/* A directory of its own (as systemd's RuntimeDirectory=): created, and
		 * the serving user's, so that it can remove the socket at exit. */
		if (mkdir(dir, 0755) && errno != EEXIST) {
			ret = -errno;
			emd_log(EMD_ERR "%s: cannot create the socket's directory: %s", dir,
				strerror(errno));
			return ret;
		}
		if (drop && lchown(dir, d->cfg.serve_uid, d->cfg.serve_gid) == 0)
			emd_log("%s: created for the socket, owned by %s", dir, serving_user(d));
	} else if (drop && !strcmp(dir, EMD_ROOT_SOCKET_DIR) && S_ISDIR(st.st_mode) &&
		   st.st_uid == 0 && st.st_uid != d->cfg.serve_uid) {
		/* emd's own directory, from a run as root: now the serving user's. */
		lchown(dir, d->cfg.serve_uid, d->cfg.serve_gid);
	}
	ret = check_chain(d, dir);
	if (ret)
		return ret;
	if (!realpath(dir, real)) {
		ret = -errno;
		emd_log(EMD_ERR "%s: %s", dir, strerror(errno));
		return ret;
	}
	if (strcmp(real, dir)) {
		ret = check_chain(d, real);
		if (ret)
			return ret;
	}
	if (drop && stat(real, &st) == 0 &&
	    !((st.st_uid == d->cfg.serve_uid && (st.st_mode & S_IWUSR)) ||
	      (st.st_gid == d->cfg.serve_gid && (st.st_mode & S_IWGRP)) || (st.st_mode & S_IWOTH)))
		emd_log(EMD_NOTICE "%s: %s cannot remove the socket from this directory when emd "
				   "stops: the file stays (and the next emd replaces it); a directory "
				   "of %s's own avoids that",
			real, serving_user(d), serving_user(d));
	return 0;
}

/* Bind and listen on cfg.socket_path; a stale socket file is replaced, a live
 * one (another emd answers on it) is not, nor anything that is not a socket. */
static int listen_on(struct emd *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = d->cfg.socket_path;
	bool drop = d->cfg.serve_uid != geteuid();
	struct stat st;
	mode_t old_mask;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		emd_log(EMD_ERR "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	ret = check_socket_dir(d, path);
	if (ret)
		return ret;
	if (lstat(path, &st) == 0) {
		int probe, live;

		if (S_ISDIR(st.st_mode)) {
			emd_log(EMD_ERR "%s: is a directory; --socket names the socket file itself "
					"(e.g. %s/emd.sock)", path, path);
			return -EISDIR;
		}
		if (!S_ISSOCK(st.st_mode)) {
			emd_log(EMD_ERR "%s: exists and is not a socket; emd replaces only a stale "
					"socket file", path);
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			emd_log(EMD_ERR "%s: another server is listening there", path);
			return -EADDRINUSE;
		}
		unlink(path); /* a stale socket file: nobody answers on it */
	} else if (errno != ENOENT) {
		ret = -errno;
		emd_log(EMD_ERR "%s: %s", path, strerror(errno));
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Connecting takes write permission on the socket file: 0660 from the moment
	 * it exists (the umask applies at bind), so only the owner and the socket's
	 * group may ask, never every local user; --socket-group names that group,
	 * else under --user it is the user's own.
	 */
	old_mask = umask(0117);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret || listen(fd, 128) || lstat(path, &st) ||
	    ((d->cfg.set_socket_gid || drop) &&
	     fchownat(AT_FDCWD, path, drop ? d->cfg.serve_uid : (uid_t)-1,
		      d->cfg.set_socket_gid ? d->cfg.socket_gid
					    : (drop ? d->cfg.serve_gid : (gid_t)-1),
		      AT_SYMLINK_NOFOLLOW))) {
		int err = -errno;

		emd_log(EMD_ERR "%s: %s", path, strerror(errno));
		if (!ret)
			unlink(path);
		close(fd);
		return err;
	}
	d->unlink_socket = true;
	d->sock_dev = st.st_dev;
	d->sock_ino = st.st_ino;
	return fd;
}

/* At exit: remove the socket file only if it is still the one emd bound. */
static void remove_socket(struct emd *d)
{
	const char *path = d->cfg.socket_path;
	struct stat st;

	if (!d->unlink_socket)
		return;
	d->unlink_socket = false;
	if (lstat(path, &st))
		return;
	if (!S_ISSOCK(st.st_mode) || st.st_dev != d->sock_dev || st.st_ino != d->sock_ino) {
		emd_log(EMD_WARNING "not removing %s: it is no longer the socket emd bound", path);
		return;
	}
	if (unlink(path) && errno != ENOENT)
		emd_log(EMD_NOTICE "cannot remove %s: %s", path, strerror(errno));
}

void emd_memory_trim(void)
{
	malloc_trim(0);
}

void emd_config_defaults(struct emd_config *cfg)
{
	*cfg = (struct emd_config){
		.serve_uid = geteuid(),
		.serve_gid = getegid(),
		.dump_packet_size = EMNL_DGRAM_MAX,
		.max_clients = 1024,
		.max_per_user = 256,
		.idle_timeout = 300,
		.max_request = EMNL_DGRAM_MAX,
		.client_queue = 256,
		.queue_bytes = 1 << 20,
		.total_bytes = 64 << 20,
		.watch_model = true,
		.pad = emnl_pad_mode_native(),
	};
}

int emd_specs_load(struct emd *d, struct emnl_error *e)
{
	d->spec = emnl_spec_parse(emd_spec_dev_energymodel, strlen(emd_spec_dev_energymodel), e);
	if (d->spec)
		d->ctrl_spec = emnl_spec_parse(emd_spec_nlctrl, strlen(emd_spec_nlctrl), e);
	return d->spec && d->ctrl_spec ? 0 : -EINVAL;
}

/* ---- reloads ---------------------------------------------------------------------- */

static void answer(struct emd_askers *a, bool ok)
{
	for (unsigned int i = 0; i < a->n; i++)
		emd_reload_answer(&a->si[i], ok);
	a->n = 0;
}

/* Start preparing a reload now: those who asked so far get its outcome. */
static void reload_start(struct emd *d, const char *why)
{
	int ret;

	d->reload_deferred = d->reload_again = false;
	d->reload_why = why;
	d->asked_now = d->asked_next;
	d->asked_next.n = 0;
	emd_sd_notify("RELOADING=1");
	ret = emd_model_reload_start(d);
	if (ret) {
		emd_log(EMD_WARNING "reload (%s) failed, keeping the current model: cannot start "
				    "it: %s", why, strerror(-ret));
		emd_sd_notify("READY=1");
		answer(&d->asked_now, false);
	}
}

/*
 * A reload is asked for (@si: by `emd --reload`, to be answered). One at a time:
 * asked while one is prepared, another follows it; asked while another process
 * is writing the model file, it waits until the file is closed (with the file
 * watched) or is refused (without).
 */
static void reload_request(struct emd *d, const char *why, const struct signalfd_siginfo *si)
{
	if (si && d->asked_next.n < EMD_RELOAD_ASKERS)
		d->asked_next.si[d->asked_next.n++] = *si;
	if (d->loader) {
		d->reload_again = true;
		d->again_why = why;
		return;
	}
	if (emd_model_writer_busy(d)) {
		if (d->inofd >= 0) {
			if (!d->reload_deferred)
				emd_log(EMD_NOTICE "reload (%s) waits: another process is writing %s; "
						   "it is read once closed", why, d->cfg.model_path);
			d->reload_deferred = true;
			d->again_why = why;
			return;
		}
		emd_log(EMD_WARNING "reload (%s) refused, keeping the current model: another "
				    "process has %s open for writing; reload once it is written (or "
				    "replace the file by renaming a new one into place)",
			why, d->cfg.model_path);
		answer(&d->asked_next, false);
		return;
	}
	reload_start(d, why);
}

/* The loader is done: publish the new model, say so, answer, go on. */
static void on_loaded(void *arg)
{
	struct emd *d = arg;
	struct emd_reload_stats st = {0};
	struct em_error err = {{0}};
	int ret;

	if (!d->loader) {
		uint64_t n;

		if (read(d->loadfd, &n, sizeof(n)) < 0) {
			/* nothing was pending */
		}
		return;
	}
	/* The events of one reload are one batch: a member that keeps up loses none. */
	emd_transport_batch(d->transport, true);
	ret = emd_model_reload_finish(d, &err, &st);
	emd_transport_batch(d->transport, false);
	if (ret == -EAGAIN)
		emd_log(EMD_WARNING "reload (%s) not taken, keeping the current model: %s",
			d->reload_why, err.msg);
	else if (ret)
		emd_log(EMD_WARNING "reload (%s) failed, keeping the current model: %s",
			d->reload_why, err.msg);
	else
		emd_log("model reloaded (%s): %u domains; %u created, %u updated, %u deleted",
			d->reload_why, st.domains, st.created, st.updated, st.deleted);
	emd_sd_notify("READY=1");
	answer(&d->asked_now, ret == 0);
	if (d->reload_again)
		reload_request(d, d->again_why, NULL);
}

/* Signals arrive through the signalfd. */
static void handle_signals(struct emd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			d->stop = true;
			break;
		case SIGHUP:
			reload_request(d, "SIGHUP", &si);
			break;
		case SIGUSR1:
			if (emd_hooks_enable(!emd_hooks_enabled()) == 0)
				emd_log("tracing and counters %s", emd_hooks_enabled() ? "on" : "off");
			break;
		case SIGUSR2: {
			struct emd_transport_stats ts;

			/* Logged before the report, which ends with STATUS= to the
			 * service manager: whoever waits for that finds both. */
			emd_transport_stats(d->transport, &ts);
			emd_log("clients %u, queued %zu bytes, event log %zu packets / %zu bytes, "
				"%llu clients refused, %llu reloads",
				ts.clients, ts.queued_bytes, ts.log_packets, ts.log_bytes,
				(unsigned long long)ts.refused, (unsigned long long)d->reloads);
			emd_hooks_report();
			break;
		}
		default:
			break;
		}
	}
}

/* The loop's callbacks for the daemon's own file descriptors. */
static void on_signal(void *arg)
{
	handle_signals(arg);
}

static void on_model_change(void *arg)
{
	struct emd *d = arg;

	if (emd_model_watch_event(d) & EMD_MODEL_CHANGED)
		reload_request(d, "the model file changed", NULL);
	else if (d->reload_deferred && !d->writer_active)
		reload_request(d, d->again_why, NULL);
}

/* emd_server_open - listener, core and families, transport, signals. */
int emd_server_open(struct emd *d)
{
	struct emd_genl_config gc = {.dump_packet_size = d->cfg.dump_packet_size,
				     .pad = d->cfg.pad};
	struct emd_transport_config tc = {
		.max_clients = d->cfg.max_clients,
		.max_per_user = d->cfg.max_per_user,
		.idle_timeout = d->cfg.idle_timeout,
		.max_request = d->cfg.max_request,
		.client_queue = d->cfg.client_queue,
		.queue_bytes = d->cfg.queue_bytes,
		.total_bytes = d->cfg.total_bytes,
		.sndbuf = d->cfg.sndbuf,
		.conn_priv = emd_genl_conn_size(),
		.pad = d->cfg.pad,
	};
	sigset_t set;
	int err;

	d->loadfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->loadfd < 0)
		return -errno;
	d->genl = emd_genl_new(&gc);
	if (!d->genl)
		return -ENOMEM;
	err = emd_ctrl_register(d);
	if (!err)
		err = emd_family_register(d);
	if (err)
		return err;
	d->lfd = activated_socket();
	if (d->lfd < 0) {
		d->lfd = listen_on(d);
		if (d->lfd < 0)
			return d->lfd;
	}
	d->transport = emd_transport_new(&tc, d->lfd, &emd_genl_transport_ops, d->genl);
	if (!d->transport)
		return -ENOMEM;
	emd_genl_set_transport(d->genl, d->transport);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN); /* a lease broken while emd probes the model file (model.c) */
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -errno;
	err = emd_transport_watch(d->transport, d->sigfd, on_signal, d);
	if (!err && d->inofd >= 0)
		err = emd_transport_watch(d->transport, d->inofd, on_model_change, d);
	if (!err)
		err = emd_transport_watch(d->transport, d->loadfd, on_loaded, d);
	return err;
}

/* emd_server_close - every client, the listener, the socket file. */
void emd_server_close(struct emd *d)
{
	emd_model_reload_cancel(d);
	answer(&d->asked_now, false);
	answer(&d->asked_next, false);
	emd_transport_free(d->transport);
	d->transport = NULL;
	if (d->genl)
		emd_genl_set_transport(d->genl, NULL);
	emd_genl_free(d->genl);
	d->genl = NULL;
	if (d->lfd >= 0)
		close(d->lfd);
	remove_socket(d);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->loadfd >= 0)
		close(d->loadfd);
	d->lfd = d->sigfd = d->loadfd = -1;
}

/* emd_server_run - the event loop, until SIGTERM or SIGINT. */
int emd_server_run(struct emd *d)
{
	return emd_transport_run(d->transport, &d->stop);
}

/* One line of emd_server_describe: the transport's view, then the core's. */
static void describe_line(const struct emd_conn *c, const char *what, void *arg)
{
	char dump[160];

	emd_genl_conn_describe(c, dump, sizeof(dump));
	fprintf(arg, "%s, %s\n", what, dump);
}

void emd_server_describe(struct emd *d, FILE *out)
{
	if (d->transport)
		emd_transport_describe(d->transport, describe_line, out);
}
