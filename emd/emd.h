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
 *                reload on SIGHUP or inotify with a per-domain difference
 *   hooks.c      request tracing and per-operation counters as static calls
 *                that return 0 until switched on (SIGUSR1)
 *   notify.c     the sd_notify datagram protocol
 *   server.c     the assembly: socket (bound or passed by systemd), core,
 *                families, transport, signals, inotify; the run loop
 *   main.c       the command line, privileges, start-up and shutdown
 *
 * Everything but main.c is the static library emd-server, which emd, the
 * fuzzers and the tests' in-process runner link. Everything runs on one
 * thread. Domains and tables are read from the registry under
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
	enum { EMD_MODEL_DEFAULT, EMD_MODEL_FILE, EMD_MODEL_DEBUGFS } model_kind;
	const char *model_path;    /* file or debugfs directory */
	size_t dump_packet_size;   /* bytes; one message per packet if smaller */
	unsigned int max_clients;
	size_t max_request;        /* largest request datagram accepted */
	unsigned int client_queue; /* packets queued per client before overrun */
	size_t queue_bytes;        /* bytes queued per client: beyond, requests wait
				    * and events are dropped (0: no byte bound) */
	int sndbuf;                /* SO_SNDBUF for client sockets (0: system default) */
	bool watch_model;          /* inotify on the model file */
	bool hooks_on;             /* tracing and counters from the start */
	enum emnl_pad_mode pad;
};

struct emd {
	struct emd_config cfg;
	struct emnl_spec *spec;      /* dev-energymodel */
	struct emnl_spec *ctrl_spec; /* nlctrl */
	struct em_registry *reg;
	struct emd_genl *genl;
	struct emd_transport *transport;
	int lfd, sigfd, inofd, inowd;
	bool unlink_socket;          /* we created the socket file */
	volatile bool stop;
	uint64_t reloads;
	uint64_t model_gen;          /* model changes seen (family.c; dumps' NLM_F_DUMP_INTR) */
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

/* model.c */
/* Load the configured model into a new registry (d->reg). */
int emd_model_load(struct emd *d, struct em_error *err);
/* Reload it and apply the difference per domain (events follow). */
int emd_model_reload(struct emd *d, struct em_error *err);
/* Set up inotify on the model file (d->inofd; -1 when not watching). */
int emd_model_watch(struct emd *d);
/* Handle readable inotify: returns true when the model file changed. */
bool emd_model_watch_event(struct emd *d);

/* notify.c */
/* Send @state to $NOTIFY_SOCKET if set; 0 when sent or not asked for. */
int emd_sd_notify(const char *state);

#endif
