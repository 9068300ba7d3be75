/*
 * emkit/dev_energymodel_user.h — a typed client for the dev-energymodel
 * generic netlink family, served by emd (over its UNIX socket) or by a
 * Linux 6.19+ kernel: what the kernel's generated dev-energymodel-user
 * library is to its YNL C core, on top of emkit/nl.h.
 *
 * Requests go out and replies come back as plain C structs:
 *
 *   emdev_get_perf_domain()     get-perf-domains do: one domain by id
 *   emdev_dump_perf_domains()   get-perf-domains dump: every domain, one
 *                               callback each, across any number of packets
 *   emdev_get_perf_table()      get-perf-table do: a domain's states
 *   emdev_subscribe(),          the 'event' group: perf-domain-created,
 *   emdev_recv_events()         -updated (with the table), -deleted (the id)
 *   emdev_read_model()          all of the above as an em_model (emkit/em.h)
 *
 * Each struct also points at the message as a value tree (emkit/nl.h), for
 * printing it the way the kernel's ynl CLI does (emnl_to_json). Errors are
 * the peer's: a negative errno and its extended ack in struct emnl_error
 * (emnl_error_format() makes a line of it). The protocol's facts are here
 * too: the wire numbers (generated from the spec into the uapi-style
 * emkit/dev_energymodel.h), the spec texts built into the library, and
 * where emd listens by default.
 *
 * Example: every domain, then domain 0's table, from the system's emd.
 *
 *	static int print_domain(const struct emdev_perf_domain *pd, void *data)
 *	{
 *		printf("domain %u: %zu CPUs\n", pd->perf_domain_id, pd->n_cpus);
 *		return 0;
 *	}
 *
 *	struct emnl_error e;
 *	struct emdev_perf_table *t = NULL;
 *	struct emdev *c = emdev_open_unix(NULL, &e);
 *	if (!c || emdev_dump_perf_domains(c, print_domain, NULL, &e) ||
 *	    emdev_get_perf_table(c, 0, &t, &e)) {
 *		char line[400];
 *		fprintf(stderr, "%s\n", emnl_error_format(&e, NULL, line, sizeof(line)));
 *	} else if (t) {
 *		for (size_t i = 0; i < t->n_states; i++)
 *			printf("  %llu kHz\n", (unsigned long long)t->states[i].frequency);
 *	}
 *	emdev_perf_table_free(t);
 *	emdev_close(c);
 *
 * One request at a time: a callback must not send another (the dump's rest
 * would be taken for the new request's answer). A client belongs to one
 * thread at a time.
 */
#ifndef EMKIT_DEV_ENERGYMODEL_USER_H
#define EMKIT_DEV_ENERGYMODEL_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emkit/nl.h"

#ifdef __cplusplus
extern "C" {
#endif

struct em_model;
struct em_error;

/* ---- the protocol's facts ------------------------------------------------------ */

/* spec/dev-energymodel.yaml and spec/nlctrl.yaml, NUL-terminated. */
extern const char emd_spec_dev_energymodel[];
extern const char emd_spec_nlctrl[];

/*
 * emdev_builtin_spec - dev-energymodel's spec, parsed once per process from
 * the text above (thread-safe; never freed). NULL, with @e, if it does not
 * load — which a test makes sure it does.
 */
const struct emnl_spec *emdev_builtin_spec(struct emnl_error *e);

/*
 * Where emd listens and where its clients look, when neither is told
 * (--socket): the rules in one place, so that emd and emctl agree.
 *
 *   emd (server)                          clients (emctl, emdev_open_unix)
 *   1. a socket passed by the service     1. $EMD_SOCKET
 *      manager (LISTEN_FDS; emd's main)   2. /run/emd/emd.sock, when that
 *   2. $EMD_SOCKET                           socket exists (the system's emd)
 *   3. /run/emd/emd.sock as root          3. $XDG_RUNTIME_DIR/emd.sock
 *   4. $XDG_RUNTIME_DIR/emd.sock          4. /run/emd/emd.sock (so that the
 *   otherwise: no default (an error)         error names where it looked)
 *
 * A user who runs an emd of their own while the system's runs points clients
 * at it with $EMD_SOCKET or --socket.
 */
/* The system's socket: its directory is made by emd.socket (or by emd as root). */
#define EMD_ROOT_SOCKET_DIR "/run/emd"
#define EMD_ROOT_SOCKET EMD_ROOT_SOCKET_DIR "/emd.sock"
/* The environment variable both sides read first. */
#define EMD_SOCKET_ENV "EMD_SOCKET"

/*
 * emd_server_socket - where emd binds when it was given no --socket and no
 * socket by the service manager (server rules 2-4). Returns 0, -ENOENT when
 * no rule applies (not root, neither variable set), or -ENAMETOOLONG.
 */
int emd_server_socket(char *buf, size_t size);
/*
 * emd_default_socket - where a client connects when given no --socket (the
 * client rules). Returns 0 or -ENAMETOOLONG.
 */
int emd_default_socket(char *buf, size_t size);

/* ---- a client -------------------------------------------------------------------- */

struct emdev;

/*
 * emdev_new - a client for the family @spec describes (NULL: the built-in
 * one; or the kernel's own dev-energymodel.yaml). -EINVAL in @e when the spec
 * lacks get-perf-domains or get-perf-table. Not connected yet.
 */
struct emdev *emdev_new(const struct emnl_spec *spec, struct emnl_error *e);
/*
 * emdev_connect - give @c its socket (it owns @sk from now on, also on
 * failure) and resolve the family through the controller: 0, or the
 * controller's errno (-ENOENT: the peer has no such family).
 */
int emdev_connect(struct emdev *c, struct emnl_sock *sk, struct emnl_error *e);
/* emdev_open_unix - new + connect to emd at @path (NULL: emd_default_socket). */
struct emdev *emdev_open_unix(const char *path, struct emnl_error *e);
/* emdev_open_kernel - new + connect to the running kernel's family. */
struct emdev *emdev_open_kernel(struct emnl_error *e);
/* emdev_close - close the socket and free @c (NULL: nothing). */
void emdev_close(struct emdev *c);

/* The parts, for lower-level calls (emkit/nl.h). */
const struct emnl_spec *emdev_spec(const struct emdev *c);
struct emnl_sock *emdev_sock(const struct emdev *c);
const struct emnl_family *emdev_family(const struct emdev *c);

/* ---- replies ----------------------------------------------------------------------- */

/* One get-perf-domains message. Absent attributes read 0 (has_id says
 * whether the id was there). */
struct emdev_perf_domain {
	uint32_t perf_domain_id;
	bool has_id;
	uint64_t flags;                /* EM_PD_* (perf-domain-flags) */
	size_t n_cpus;
	const uint64_t *cpus;          /* one per CPU, in message order */
	const struct emnl_attrs *msg;  /* the message as a tree */
};

/* One perf-state nest. */
struct emdev_perf_state {
	uint64_t performance, frequency, power, cost;
	uint64_t flags;                /* EM_PS_INEFFICIENT (perf-state-flags) */
};

/* One perf-table message (a get-perf-table reply, or a created/updated/
 * deleted event: the last has no states). */
struct emdev_perf_table {
	uint32_t perf_domain_id;
	bool has_id;
	size_t n_states;
	const struct emdev_perf_state *states;
	const struct emnl_attrs *msg;
};

/*
 * emdev_get_perf_domain - get-perf-domains do for @id. 0 with *@out (free
 * with emdev_perf_domain_free; NULL when the peer acked without a reply), or
 * the peer's errno (-ENOENT: no such domain) with @e.
 */
int emdev_get_perf_domain(struct emdev *c, uint32_t id, struct emdev_perf_domain **out,
			  struct emnl_error *e);
void emdev_perf_domain_free(struct emdev_perf_domain *pd);

/* Called for each domain of a dump; @pd is valid during the call. Return 0
 * to go on, negative to stop the dump with that errno. */
typedef int (*emdev_perf_domain_cb)(const struct emdev_perf_domain *pd, void *data);

/* emdev_dump_perf_domains - get-perf-domains dump: 0, @cb's negative return,
 * or the peer's errno with @e. */
int emdev_dump_perf_domains(struct emdev *c, emdev_perf_domain_cb cb, void *data,
			    struct emnl_error *e);

/* emdev_get_perf_table - get-perf-table do for @id (as emdev_get_perf_domain). */
int emdev_get_perf_table(struct emdev *c, uint32_t id, struct emdev_perf_table **out,
			 struct emnl_error *e);
void emdev_perf_table_free(struct emdev_perf_table *t);

/* ---- events ----------------------------------------------------------------------- */

/* emdev_subscribe - join the 'event' group. */
int emdev_subscribe(struct emdev *c, struct emnl_error *e);

/* One event, or the news that some were lost. */
struct emdev_event {
	/* DEV_ENERGYMODEL_CMD_PERF_DOMAIN_CREATED, _UPDATED, _DELETED; 0: events
	 * were lost (the peer's overrun notice, or the socket's ENOBUFS). */
	uint8_t cmd;
	const char *name;   /* the event's name in the spec ("perf-domain-created"), or NULL */
	struct emdev_perf_table table; /* its id and (created, updated) states;
					* table.msg NULL: undecodable */
	const char *lost;   /* cmd 0: the peer's message, or NULL */
	bool socket_overflow; /* cmd 0: it was our socket's buffer (ENOBUFS) */
};

/* Called for each event; @ev is valid during the call. Return 0 to go on,
 * negative to stop with that errno. */
typedef int (*emdev_event_cb)(const struct emdev_event *ev, void *data);

/*
 * emdev_recv_events - wait up to @timeout_ms (-1: forever) for one datagram
 * and call @cb for each event in it (events that arrived while a request
 * waited come first, without waiting). Returns how many times @cb was
 * called, 0 on timeout, or a negative errno.
 */
int emdev_recv_events(struct emdev *c, int timeout_ms, emdev_event_cb cb, void *data,
		      struct emnl_error *e);

/* ---- the whole model ---------------------------------------------------------------- */

/*
 * emdev_read_model - every domain (dump) and its table (a get-perf-table
 * each) as an Energy Model, in the order of the dump: domains named as
 * debugfs names them ("cpuN" after the first CPU, "pdN" for devices, N the
 * id), capacity the top state's performance, costs kept only for
 * artificial CPU domains (the others are recomputed). Checked as
 * em_pd_register() would. Returns 0 or a negative errno with @err.
 */
int emdev_read_model(struct emdev *c, struct em_model *m, struct em_error *err);

#ifdef __cplusplus
}
#endif

#endif /* EMKIT_DEV_ENERGYMODEL_USER_H */
