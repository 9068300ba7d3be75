/*
 * emd's assembly: the listening socket (bound here with the right
 * permissions, or handed over by systemd), the generic netlink core with
 * the two families registered, the transport serving the socket's clients
 * with the core above it, and the daemon's own events in the same loop —
 * signals (stop, reload, hooks) and the model file's inotify watch. What
 * the fuzzers and the tests' in-process runner start is this, on a thread
 * of their own; main.c adds the command line and privileges.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Bind and listen on cfg.socket_path; a stale socket file is replaced, a live
 * one (another emd answers on it) is not. */
static int listen_on(struct emd *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = d->cfg.socket_path;
	mode_t old_mask;
	int fd, probe, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		emd_log("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		int live = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		close(probe);
		if (live) {
			emd_log("%s: another server is listening there", path);
			return -EADDRINUSE;
		}
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/*
	 * Connecting takes write permission on the socket file: 0660 from the moment
	 * it exists (the umask applies at bind), so only the owner and the socket's
	 * group may ask, never every local user; --socket-group names that group.
	 */
	old_mask = umask(0117);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret || listen(fd, 128) ||
	    (d->cfg.set_socket_gid &&
	     fchownat(AT_FDCWD, path, (uid_t)-1, d->cfg.socket_gid, AT_SYMLINK_NOFOLLOW))) {
		int err = -errno;

		emd_log("%s: %s", path, strerror(errno));
		if (!ret)
			unlink(path);
		close(fd);
		return err;
	}
	d->unlink_socket = true;
	return fd;
}

void emd_config_defaults(struct emd_config *cfg)
{
	*cfg = (struct emd_config){
		.dump_packet_size = EMNL_DGRAM_MAX,
		.max_clients = 1024,
		.max_request = EMNL_DGRAM_MAX,
		.client_queue = 256,
		.queue_bytes = 1 << 20,
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

/* Reload the model and say so; 0 when the new model is served. */
static int reload(struct emd *d, const char *why)
{
	struct em_error err;
	int ret;

	emd_sd_notify("RELOADING=1");
	ret = emd_model_reload(d, &err);
	if (ret)
		emd_log(EMD_WARNING "reload (%s) failed, keeping the current model: %s", why,
			err.msg);
	else
		emd_log("model reloaded (%s)", why);
	emd_sd_notify("READY=1");
	return ret;
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
			emd_reload_answer(&si, reload(d, "SIGHUP") == 0);
			break;
		case SIGUSR1:
			if (emd_hooks_enable(!emd_hooks_enabled()) == 0)
				emd_log("tracing and counters %s", emd_hooks_enabled() ? "on" : "off");
			break;
		case SIGUSR2:
			emd_hooks_report();
			break;
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

	if (emd_model_watch_event(d))
		reload(d, "the model file changed");
}

/* emd_server_open - listener, core and families, transport, signals. */
int emd_server_open(struct emd *d)
{
	struct emd_genl_config gc = {.dump_packet_size = d->cfg.dump_packet_size,
				     .pad = d->cfg.pad};
	struct emd_transport_config tc = {
		.max_clients = d->cfg.max_clients,
		.max_request = d->cfg.max_request,
		.client_queue = d->cfg.client_queue,
		.queue_bytes = d->cfg.queue_bytes,
		.sndbuf = d->cfg.sndbuf,
		.conn_priv = emd_genl_conn_size(),
		.pad = d->cfg.pad,
	};
	sigset_t set;
	int err;

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
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -errno;
	err = emd_transport_watch(d->transport, d->sigfd, on_signal, d);
	if (!err && d->inofd >= 0)
		err = emd_transport_watch(d->transport, d->inofd, on_model_change, d);
	return err;
}

/* emd_server_close - every client, the listener, the socket file. */
void emd_server_close(struct emd *d)
{
	emd_transport_free(d->transport);
	d->transport = NULL;
	if (d->genl)
		emd_genl_set_transport(d->genl, NULL);
	emd_genl_free(d->genl);
	d->genl = NULL;
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->unlink_socket)
		unlink(d->cfg.socket_path);
	if (d->sigfd >= 0)
		close(d->sigfd);
	d->lfd = d->sigfd = -1;
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
