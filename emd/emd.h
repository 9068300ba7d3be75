/*
 * emd — the dev-energymodel generic netlink family, served in user space.
 *
 * The daemon's parts, bottom to top (docs/architecture.md draws them):
 *
 *   transport.c  the clients of the listening socket: one epoll loop,
 *                bounded output queues, multicast; knows no family
 *   genl.c       the generic netlink core: validation, dispatch through
 *                each family's ops table, replies, acks and extended-ack
 *                errors, dump state and packing, NLMSG_DONE, events
 *   ctrl.c       the nlctrl family: CTRL_CMD_GETFAMILY (do by name or id,
 *                dump) derived from the core's tables; JOIN/LEAVE
 *   family.c     the dev-energymodel family: get-perf-domains (do, dump),
 *                get-perf-table, and the perf-domain-* events
 *   model.c      model sources (embedded default, file, kernel debugfs),
 *                reloads prepared on a thread of their own as a registry
 *                batch (per-domain difference), published at once
 *   hooks.c      request tracing and per-operation counters as static calls
 *                that return 0 until switched on (SIGUSR1)
 *   notify.c     the sd_notify datagram protocol
 *   server.c     the assembly: socket (bound safely, or passed by systemd),
 *                core, families, transport, signals, inotify, when to
 *                reload; the run loop
 *   main.c       the command line, privileges, start-up and shutdown
 *
 * Everything but main.c is the static library emd-server, which emd, the
 * fuzzers and the tests' in-process runner link. Everything runs on one
 * thread but a reload's reading and staging (model.c's loader), which only
 * reads the registry and hands a batch back. Domains and tables are read
 * from the registry under
 * em_read_lock() and never kept past it: a dump remembers the next domain
 * id, not a pointer, so a reload between two packets can neither free what
 * the dump uses nor make it repeat or skip a domain.
 */
#ifndef EMD_EMD_H
#define EMD_EMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#include "dev_energymodel.h"
#include "emd_wire.h"
#include "emkit/em.h"
#include "emkit/nl.h"
#include "genl.h"
#include "hooks.h"
#include "log.h"

struct emd_transport;

struct emd_config {
	const char *socket_path;
	bool set_socket_gid;       /* give the socket file the group socket_gid */
	gid_t socket_gid;
	const char *user;          /* started as root: who to become after binding */
	bool allow_root;           /* started as root: stay root (--allow-root) */
	/* Who serves (--user's ids, else emd's own): whom the socket's directories
	 * may belong to, and the socket's owner and default group under --user. */
	uid_t serve_uid;
	gid_t serve_gid;
	enum { EMD_MODEL_DEFAULT, EMD_MODEL_FILE, EMD_MODEL_DEBUGFS } model_kind;
	const char *model_path;    /* file or debugfs directory */
	size_t dump_packet_size;   /* bytes; one message per packet if smaller */
	unsigned int max_clients;
	unsigned int max_per_user; /* connections of one user (0: no limit) */
	unsigned int idle_timeout; /* seconds a client outside any group may idle (0: ever) */
	size_t max_request;        /* largest request datagram accepted */
	unsigned int client_queue; /* events kept for lagging members beyond a reload's */
	size_t queue_bytes;        /* bytes queued per client: beyond, requests wait
				    * (0: no byte bound); also bounds the event log */
	size_t total_bytes;        /* bytes queued for all clients (0: no bound) */
	int sndbuf;                /* SO_SNDBUF for client sockets (0: system default) */
	bool watch_model;          /* inotify on the model file */
	bool hooks_on;             /* tracing and counters from the start */
	enum emnl_pad_mode pad;
};

/* What a reload changed. */
struct emd_reload_stats {
	unsigned int domains, created, updated, deleted;
};

struct emd_loader;

/* Senders of `emd --reload PID` waiting for a reload's outcome. */
#define EMD_RELOAD_ASKERS 16
struct emd_askers {
	struct signalfd_siginfo si[EMD_RELOAD_ASKERS];
	unsigned int n;
};

struct emd {
	struct emd_config cfg;
	struct emnl_spec *spec;      /* dev-energymodel */
	struct emnl_spec *ctrl_spec; /* nlctrl */
	struct em_registry *reg;
	struct emd_genl *genl;
	struct emd_transport *transport;
	int lfd, sigfd, inofd, inowd;
	int inowd_file;              /* the model file's own watch (0: none) */
	bool unlink_socket;          /* we created the socket file: */
	dev_t sock_dev;              /* the one we bound (never another's) */
	ino_t sock_ino;
	volatile bool stop;
	uint64_t reloads;
	uint64_t model_gen;          /* model changes seen (family.c; dumps' NLM_F_DUMP_INTR) */
	/* Reloads (server.c decides when, model.c does them). */
	struct emd_loader *loader;   /* the reload being prepared, or NULL */
	int loadfd;                  /* eventfd: the loader is done */
	bool writer_active;          /* inotify: the model file modified, not closed */
	bool reload_deferred;        /* waiting for that writer to close it */
	bool reload_again;           /* asked while one was being prepared */
	const char *reload_why, *again_why;
	struct emd_askers asked_now, asked_next;
};

/* The defaults main() starts from (and the in-process runners). */
void emd_config_defaults(struct emd_config *cfg);

/* server.c */
/* Parse the specs built into the library into d->spec and d->ctrl_spec;
 * -EINVAL with @e filled when one does not load. */
int emd_specs_load(struct emd *d, struct emnl_error *e);
/* Listen (or take systemd's socket), set up the core with both families,
 * the transport, signals and the model watch. */
int emd_server_open(struct emd *d);
void emd_server_close(struct emd *d);
/* The loop, until SIGTERM or SIGINT (or d->stop and a wake-up). */
int emd_server_run(struct emd *d);
/* For a stall report: one line per client, with its dump. */
void emd_server_describe(struct emd *d, FILE *out);

/* ctrl.c, family.c: the families (registered by emd_server_open). */
int emd_ctrl_register(struct emd *d);
int emd_family_register(struct emd *d);
/* Registry observers that turn changes into events. */
int emd_events_attach(struct emd *d);
void emd_events_detach(struct emd *d);

/* Give memory freed back to the system (malloc_trim). */
void emd_memory_trim(void);

/* model.c */
/* Load the configured model into a new registry (d->reg), as one batch. */
int emd_model_load(struct emd *d, struct em_error *err);
/* Start preparing a reload on the loader's thread (d->loadfd, created by
 * emd_server_open, is written when it is done): 0, -EBUSY, -errno. */
int emd_model_reload_start(struct emd *d);
/* The loader is done: publish what it staged (events follow), with @st.
 * 0: the new model is served; else the error (in @err) and the old model. */
int emd_model_reload_finish(struct emd *d, struct em_error *err, struct emd_reload_stats *st);
/* Stop a reload in the works (emd is stopping). */
void emd_model_reload_cancel(struct emd *d);
/* start + finish, waiting in between. */
int emd_model_reload(struct emd *d, struct em_error *err);
/* Set up inotify on the model file (d->inofd; -1 when not watching). */
int emd_model_watch(struct emd *d);
/* Handle readable inotify: EMD_MODEL_CHANGED when the model file was closed
 * after writing or renamed into place (d->writer_active kept up to date). */
#define EMD_MODEL_CHANGED 1
int emd_model_watch_event(struct emd *d);
/* Is another process in the middle of writing the model file? */
bool emd_model_writer_busy(struct emd *d);

/* notify.c */
/* Send @state to $NOTIFY_SOCKET if set; 0 when sent or not asked for. */
int emd_sd_notify(const char *state);

#endif
