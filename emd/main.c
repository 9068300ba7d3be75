/*
 * emd's entry point: read the command line, find the socket (the service
 * manager's, else --socket, else the default of emkit/dev_energymodel_user.h), load the specs
 * built into the binary and the Energy Model from the chosen source, open the
 * socket, tell the service manager that emd is ready, and run the event loop
 * until SIGTERM. `emd --reload PID` is the other entry: a reload that waits
 * (reload.h). See emd(8) (docs/man/emd.8) and docs/emd.md.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "emd.h"
#include "emkit/dev_energymodel_user.h"
#include "reload.h"

#ifndef EMKIT_VERSION
#error "EMKIT_VERSION comes from the build (meson.build: the project's version)"
#endif

#define DEFAULT_DEBUGFS "/sys/kernel/debug/energy_model"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: emd [OPTIONS]\n"
		"Serve the Energy Model as the dev-energymodel generic netlink family over a\n"
		"UNIX SOCK_SEQPACKET socket (one netlink datagram per packet).\n"
		"\n"
		"Model source (one of):\n"
		"  --default               the embedded RK3399 model (the default)\n"
		"  --model FILE            a model file (YAML or JSON); reloaded on SIGHUP\n"
		"                          and when the file changes\n"
		"  --kernel-model [DIR]    the running kernel's EM from debugfs\n"
		"                          (default " DEFAULT_DEBUGFS ")\n"
		"Socket and limits:\n"
		"  --socket PATH           created 0660; default $EMD_SOCKET, else\n"
		"                          " EMD_ROOT_SOCKET " as root, else\n"
		"                          $XDG_RUNTIME_DIR/emd.sock; a socket passed by the\n"
		"                          service manager (LISTEN_FDS) is used instead.\n"
		"                          Its directories must be root's or the serving\n"
		"                          user's, writable by no one else unless sticky;\n"
		"                          a missing last one is created; only a stale\n"
		"                          socket file there is replaced\n"
		"  --socket-group GROUP    group of the socket file (name or number): its\n"
		"                          members may connect (default: emd's group, or\n"
		"                          USER's with --user)\n"
		"Privileges (started as root, emd needs one of):\n"
		"  --user USER             become USER (and its group) once the socket is\n"
		"                          bound and the model loaded; the socket is USER's\n"
		"  --allow-root            keep running as root\n"
		"  --dump-packet-size N    the largest dump packet, 1..32768 (default 32768;\n"
		"                          else the kernel's size for the reader); below one\n"
		"                          message's size: one message per packet\n"
		"  --max-clients N         concurrent clients (default 1024, and below the\n"
		"                          descriptor limit, which emd raises to its maximum)\n"
		"  --max-clients-per-user N  concurrent clients of one user (default 256;\n"
		"                          0: no limit)\n"
		"  --idle-timeout S        close a client in no event group that neither\n"
		"                          asked nor was sent anything for S seconds\n"
		"                          (default 300; 0: never)\n"
		"  --max-request N         largest request packet in bytes (default 32768)\n"
		"  --client-queue N        events kept for a subscriber that lags, beyond\n"
		"                          those of the latest reload (default 256); one\n"
		"                          further behind loses events (ENOBUFS notice)\n"
		"  --client-queue-bytes N  bytes queued per client (default 1 MiB): beyond,\n"
		"                          its requests wait; also bounds the kept events\n"
		"  --total-queue-bytes N   bytes queued for all clients (default 64 MiB):\n"
		"                          beyond, clients with answers queued wait\n"
		"  --sndbuf N              SO_SNDBUF of client sockets (default: system's);\n"
		"                          a larger reply is an EMSGSIZE error\n"
		"  --no-watch              do not watch the model file with inotify\n"
		"  --hooks                 start with request tracing and counters on\n"
		"                          (SIGUSR1 toggles them, SIGUSR2 prints counters)\n"
		"  --pad-mode MODE         u64 padding: native (default) or align8\n"
		"  --help                  this text\n"
		"  --version               emd's version\n"
		"\n"
		"usage: emd --reload PID\n"
		"Make the emd with that pid reload its model, and wait until it has: exit 0\n"
		"when it serves the new model, 1 when it refused it (systemctl reload emd).\n");
}

/* A number option in [lo, hi], or exit with a usage error. */
static unsigned long number(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		emd_log(EMD_ERR "%s: '%s' is not a number in %lu..%lu", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

/* A group by name or number, or exit with a usage error. */
static gid_t group_id(const char *s)
{
	struct group *g = getgrnam(s);
	char *end;
	unsigned long v;

	if (g)
		return g->gr_gid;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!errno && end != s && !*end && s[0] != '-' && v < (gid_t)-1)
		return (gid_t)v;
	emd_log(EMD_ERR "--socket-group: no group '%s'", s);
	exit(2);
}

/*
 * Started as root, emd binds its socket (perhaps under /run) and reads the model
 * (perhaps from debugfs) as root, then serves as @user: a bug in request handling
 * then runs without privileges. Returns 0 or -errno.
 */
static int drop_root(const char *user)
{
	struct passwd *pw;

	pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
		return -errno;
	if (pw->pw_uid != 0 && setuid(0) == 0)
		return -EPERM; /* root came back: the drop did not hold */
	return 0;
}

/* Parse argv into @cfg (and @reload_pid for --reload); exits on a usage error. */
static void parse_args(int argc, char **argv, struct emd_config *cfg, pid_t *reload_pid)
{
	enum { O_DEFAULT = 256, O_MODEL, O_KMODEL, O_SOCKET, O_SGROUP, O_USER, O_ROOT, O_DPS, O_MAXC, O_MAXR, O_CQ, O_CQB, O_SNDBUF,
	       O_NOWATCH, O_HOOKS, O_PAD, O_HELP, O_VERSION, O_RELOAD, O_MAXU, O_IDLE, O_TQB };
	static const struct option opts[] = {
		{"default", no_argument, NULL, O_DEFAULT},
		{"model", required_argument, NULL, O_MODEL},
		{"kernel-model", optional_argument, NULL, O_KMODEL},
		{"socket", required_argument, NULL, O_SOCKET},
		{"socket-group", required_argument, NULL, O_SGROUP},
		{"user", required_argument, NULL, O_USER},
		{"allow-root", no_argument, NULL, O_ROOT},
		{"dump-packet-size", required_argument, NULL, O_DPS},
		{"max-clients", required_argument, NULL, O_MAXC},
		{"max-clients-per-user", required_argument, NULL, O_MAXU},
		{"idle-timeout", required_argument, NULL, O_IDLE},
		{"total-queue-bytes", required_argument, NULL, O_TQB},
		{"max-request", required_argument, NULL, O_MAXR},
		{"client-queue", required_argument, NULL, O_CQ},
		{"client-queue-bytes", required_argument, NULL, O_CQB},
		{"sndbuf", required_argument, NULL, O_SNDBUF},
		{"no-watch", no_argument, NULL, O_NOWATCH},
		{"hooks", no_argument, NULL, O_HOOKS},
		{"pad-mode", required_argument, NULL, O_PAD},
		{"help", no_argument, NULL, O_HELP},
		{"version", no_argument, NULL, O_VERSION},
		{"reload", required_argument, NULL, O_RELOAD},
		{NULL, 0, NULL, 0},
	};
	int sources = 0, nopts = 0, o;

	/* "+": no reordering; emd takes no operands, so a word after an option is
	 * that option's (see --kernel-model) or an error. ":": tell a missing
	 * argument from an unknown option. */
	opterr = 0; /* our messages, with emd's name and priority */
	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		nopts++;
		switch (o) {
		case O_DEFAULT:
			cfg->model_kind = EMD_MODEL_DEFAULT;
			sources++;
			break;
		case O_MODEL:
			cfg->model_kind = EMD_MODEL_FILE;
			cfg->model_path = optarg;
			sources++;
			break;
		case O_KMODEL:
			/* getopt takes an optional argument only as --kernel-model=DIR; emd
			 * has no operands, so a word that follows can only be the DIR. */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			cfg->model_kind = EMD_MODEL_DEBUGFS;
			cfg->model_path = optarg ? optarg : DEFAULT_DEBUGFS;
			sources++;
			break;
		case O_SOCKET:
			cfg->socket_path = optarg;
			break;
		case O_USER:
			cfg->user = optarg;
			break;
		case O_ROOT:
			cfg->allow_root = true;
			break;
		case O_SGROUP:
			cfg->socket_gid = group_id(optarg);
			cfg->set_socket_gid = true;
			break;
		case O_DPS:
			cfg->dump_packet_size = number("--dump-packet-size", optarg, 1, EMNL_DGRAM_MAX);
			break;
		case O_MAXC:
			cfg->max_clients = (unsigned int)number("--max-clients", optarg, 1, 1000000);
			break;
		case O_MAXU:
			cfg->max_per_user = (unsigned int)number("--max-clients-per-user", optarg, 0,
								 1000000);
			break;
		case O_IDLE:
			cfg->idle_timeout = (unsigned int)number("--idle-timeout", optarg, 0, 86400 * 365);
			break;
		case O_TQB:
			cfg->total_bytes = number("--total-queue-bytes", optarg, 0, 1UL << 40);
			break;
		case O_MAXR:
			cfg->max_request = number("--max-request", optarg, 64, 1 << 20);
			break;
		case O_CQ:
			cfg->client_queue = (unsigned int)number("--client-queue", optarg, 1, 1 << 20);
			break;
		case O_CQB:
			cfg->queue_bytes = number("--client-queue-bytes", optarg, 4096, 1UL << 30);
			break;
		case O_SNDBUF:
			cfg->sndbuf = (int)number("--sndbuf", optarg, 1024, INT_MAX / 2);
			break;
		case O_NOWATCH:
			cfg->watch_model = false;
			break;
		case O_HOOKS:
			cfg->hooks_on = true;
			break;
		case O_PAD:
			if (!strcmp(optarg, "native")) {
				cfg->pad = emnl_pad_mode_native();
			} else if (!strcmp(optarg, "align8")) {
				cfg->pad = EMNL_PAD_ALIGN8;
			} else {
				emd_log(EMD_ERR "--pad-mode: '%s' is not native or align8", optarg);
				exit(2);
			}
			break;
		case O_HELP:
		case 'h':
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("emd (emkit) %s\n", EMKIT_VERSION);
			exit(0);
		case O_RELOAD:
			*reload_pid = (pid_t)number("--reload", optarg, 2, INT_MAX);
			break;
		case ':':
			emd_log(EMD_ERR "option '%s' needs an argument (emd --help)", argv[optind - 1]);
			exit(2);
		default:
			emd_log(EMD_ERR "unknown option '%s' (emd --help lists them)", argv[optind - 1]);
			exit(2);
		}
	}
	if (optind < argc) {
		emd_log(EMD_ERR "unexpected argument '%s'", argv[optind]);
		exit(2);
	}
	if (sources > 1) {
		emd_log(EMD_ERR "give one model source (--default, --model or --kernel-model)");
		exit(2);
	}
	if (*reload_pid && nopts > 1) {
		emd_log(EMD_ERR "--reload PID takes no other option");
		exit(2);
	}
}

/*
 * Did the service manager pass us a listening socket (sd_listen_fds(3)'s rule:
 * $LISTEN_PID is ours, $LISTEN_FDS >= 1, the first is fd 3)? Then that socket
 * decides where emd serves, whatever --socket or the defaults say, and
 * emd_server_open() takes it. Returns 1 with its name in @name (the bound
 * path, or "@NAME" for an abstract one), 0 when none was passed, -EINVAL
 * when fd 3 is not a listening AF_UNIX SOCK_SEQPACKET socket.
 */
static int passed_socket(char *name, size_t size)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct sockaddr_un sa = {0};
	socklen_t len = sizeof(sa), tlen = sizeof(int), alen = sizeof(int);
	int type = 0, acc = 0;
	size_t n;

	if (!pid || !fds || strtol(pid, NULL, 10) != getpid() || strtol(fds, NULL, 10) < 1)
		return 0;
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &tlen) || type != SOCK_SEQPACKET ||
	    getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen) || !acc ||
	    getsockname(3, (struct sockaddr *)&sa, &len) || sa.sun_family != AF_UNIX) {
		emd_log(EMD_ERR "the socket passed by the service manager (fd 3) is not a listening "
				"AF_UNIX SOCK_SEQPACKET socket (ListenSequentialPacket= in the .socket unit)");
		return -EINVAL;
	}
	if (strtol(fds, NULL, 10) > 1)
		emd_log(EMD_NOTICE "the service manager passed %s sockets; emd serves on the first", fds);
	n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path)
							 : 0;
	if (n == 0)
		snprintf(name, size, "an unnamed socket");
	else if (sa.sun_path[0] == '\0')
		snprintf(name, size, "@%.*s", (int)(n - 1), sa.sun_path + 1);
	else
		snprintf(name, size, "%.*s", (int)strnlen(sa.sun_path, n), sa.sun_path);
	return 1;
}

/*
 * Descriptors: raise the soft limit to the hard one (a service's default soft
 * limit, 1024, is below the default --max-clients plus what emd itself
 * needs), then keep --max-clients below it, so that accept() does not run
 * out of descriptors for want of a limit (the transport copes if it does).
 */
#define EMD_OWN_FDS 32 /* listener, epoll, signalfd, inotify, eventfd, model file, ... */
static void fit_descriptors(struct emd_config *cfg, bool given)
{
	struct rlimit rl;
	unsigned long room;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = {rl.rlim_max, rl.rlim_max};

		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return;
	room = rl.rlim_cur > EMD_OWN_FDS ? (unsigned long)rl.rlim_cur - EMD_OWN_FDS : 1;
	if (cfg->max_clients > room) {
		if (given)
			emd_log(EMD_NOTICE "--max-clients %u lowered to %lu: the descriptor limit "
					   "is %lu (LimitNOFILE=)",
				cfg->max_clients, room, (unsigned long)rl.rlim_cur);
		cfg->max_clients = (unsigned int)room;
	}
}

int main(int argc, char **argv)
{
	static char sock[PATH_MAX];
	struct emd d = {.lfd = -1, .sigfd = -1, .inofd = -1, .inowd = -1, .loadfd = -1};
	struct em_error err = {{0}};
	struct emnl_error e;
	unsigned int n;
	char status[PATH_MAX + 64];
	pid_t reload_pid = 0;
	int ret;

	emd_config_defaults(&d.cfg);
	parse_args(argc, argv, &d.cfg, &reload_pid);
	if (reload_pid)
		return emd_reload_request(reload_pid) == 0 ? 0 : 1;
	if (geteuid() == 0 && !d.cfg.user && !d.cfg.allow_root) {
		emd_log(EMD_ERR "refusing to run as root: give --user USER to serve as USER "
				"once the socket is bound, or --allow-root");
		return 2;
	}
	if (d.cfg.user) {
		struct passwd *pw = getpwnam(d.cfg.user);

		if (!pw) {
			emd_log(EMD_ERR "--user: no user '%s'", d.cfg.user);
			return 2;
		}
		if (geteuid() == 0) {
			d.cfg.serve_uid = pw->pw_uid;
			d.cfg.serve_gid = pw->pw_gid;
		}
	}
	{
		unsigned int asked = d.cfg.max_clients;
		struct emd_config def;

		emd_config_defaults(&def);
		fit_descriptors(&d.cfg, asked != def.max_clients);
	}
	/* The service manager's socket first: with it, emd needs no path of its own. */
	ret = passed_socket(sock, sizeof(sock));
	if (ret < 0)
		return 1;
	if (ret > 0) {
		if (d.cfg.socket_path && strcmp(d.cfg.socket_path, sock))
			emd_log(EMD_NOTICE "--socket %s: not used; the service manager passed the "
					   "socket to serve on", d.cfg.socket_path);
		if (d.cfg.set_socket_gid)
			emd_log(EMD_NOTICE "--socket-group: not used; the service manager made the "
					   "socket (SocketGroup= in its .socket unit)");
		d.cfg.socket_path = sock;
	} else if (!d.cfg.socket_path) {
		ret = emd_server_socket(sock, sizeof(sock));
		if (ret) {
			emd_log(EMD_ERR "no socket path: give --socket PATH, or set " EMD_SOCKET_ENV
					" or XDG_RUNTIME_DIR");
			return 2;
		}
		d.cfg.socket_path = sock; /* its directory is created if missing (server.c) */
	}
	if (emd_specs_load(&d, &e)) {
		emd_log(EMD_ERR "built-in spec: %s", e.msg);
		return 1;
	}
	ret = emd_model_load(&d, &err);
	if (ret) {
		emd_log(EMD_ERR "loading the model: %s", err.msg);
		goto out;
	}
	ret = emd_events_attach(&d);
	if (!ret)
		ret = emd_model_watch(&d);
	if (ret) {
		emd_log(EMD_ERR "setting up: %s", strerror(-ret));
		goto out;
	}
	if (d.cfg.hooks_on && emd_hooks_enable(true))
		emd_log(EMD_WARNING "the hooks stay off");
	ret = emd_server_open(&d);
	if (ret) {
		emd_log(EMD_ERR "cannot serve on %s: %s", d.cfg.socket_path, strerror(-ret));
		goto out;
	}
	if (d.cfg.user && geteuid() == 0) {
		ret = drop_root(d.cfg.user);
		if (ret) {
			emd_log(EMD_ERR "cannot become user %s: %s", d.cfg.user, strerror(-ret));
			goto out;
		}
		emd_log("socket bound and model loaded: serving as user %s", d.cfg.user);
	}
	em_read_lock();
	n = em_pd_count(d.reg);
	em_read_unlock();
	emd_log("serving %u performance domains on %s", n, d.cfg.socket_path);
	snprintf(status, sizeof(status), "READY=1\nSTATUS=serving %u performance domains on %s", n,
		 d.cfg.socket_path);
	emd_sd_notify(status);
	ret = emd_server_run(&d);
	emd_sd_notify("STOPPING=1");
	emd_log("stopping");
out:
	emd_server_close(&d);
	emd_events_detach(&d);
	if (d.inofd >= 0)
		close(d.inofd);
	em_registry_free(d.reg);
	emnl_spec_free(d.spec);
	emnl_spec_free(d.ctrl_spec);
	return ret ? 1 : 0;
}
