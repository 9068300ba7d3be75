/*
 * emd — the dev-energymodel generic netlink family, served in user space.
 *
 * The daemon's parts and how they fit:
 *
 *   main.c     command line, model source, signals, sd_notify, the run loop
 *   server.c   the UNIX SOCK_SEQPACKET listener, one epoll loop, clients with
 *              bounded output queues, request dispatch, dump continuation
 *   family.c   dev-energymodel: get-perf-domains (do, dump), get-perf-table,
 *              the perf-domain-created/updated/deleted events
 *   ctrl.c     the part of nlctrl a client needs: CTRL_CMD_GETFAMILY (do by
 *              name or id, dump) and joining the event group
 *   msg.c      a netlink message writer: the kernel's bytes, 4-byte alignment,
 *              the u64 pad rule, nothing partial on overflow
 *   model.c    model sources (embedded default, file, kernel debugfs), reload
 *              on SIGHUP or inotify with a per-domain difference
 *   hooks.c    request tracing and per-operation counters as static calls
 *              that return 0 until switched on (SIGUSR1)
 *   notify.c   the sd_notify datagram protocol
 *
 * Everything runs on one thread. Domains and tables are read from the
 * registry under em_read_lock() and never kept past it: a dump remembers the
 * next domain id, not a pointer, so a reload between two packets can neither
 * free what the dump uses nor make it repeat or skip a domain.
 */
#ifndef EMD_EMD_H
#define EMD_EMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/netlink.h>

#include "emkit/em.h"
#include "emkit/nl.h"
#include "emkit/static_call.h"

/* Numbers emd gives its family on the wire (the kernel allocates them
 * dynamically; clients resolve them through CTRL_CMD_GETFAMILY). */
#define EMD_FAMILY_ID 0x20
#define EMD_FAMILY_VERSION 1
#define EMD_GROUP_EVENT 0x20 /* id of the 'event' multicast group */
#define EMD_CTRL_ID 0x10     /* GENL_ID_CTRL */
#define EMD_CTRL_VERSION 2

/* Commands of dev-energymodel (spec/dev-energymodel.yaml). */
enum {
	EMD_CMD_GET_PERF_DOMAINS = 1,
	EMD_CMD_GET_PERF_TABLE = 2,
	EMD_CMD_PERF_DOMAIN_CREATED = 3,
	EMD_CMD_PERF_DOMAIN_UPDATED = 4,
	EMD_CMD_PERF_DOMAIN_DELETED = 5,
};

/* Attributes (same file). */
enum {
	EMD_A_PD_PAD = 1,
	EMD_A_PD_ID = 2,
	EMD_A_PD_FLAGS = 3,
	EMD_A_PD_CPUS = 4,
	EMD_A_TABLE_PD_ID = 1,
	EMD_A_TABLE_STATE = 2,
	EMD_A_PS_PAD = 1,
	EMD_A_PS_PERFORMANCE = 2,
	EMD_A_PS_FREQUENCY = 3,
	EMD_A_PS_POWER = 4,
	EMD_A_PS_COST = 5,
	EMD_A_PS_FLAGS = 6,
};

/* The seqpacket transport's membership commands, sent to nlctrl's id. JOIN is
 * lib/nl's EMNL_SEQPACKET_CMD_JOIN; LEAVE is its inverse. */
#define EMD_CMD_JOIN EMNL_SEQPACKET_CMD_JOIN
#define EMD_CMD_LEAVE (EMNL_SEQPACKET_CMD_JOIN + 1)

/* Per-operation counters (hooks.c). */
enum emd_op {
	EMD_OP_GETFAMILY,
	EMD_OP_GET_PD,
	EMD_OP_DUMP_PD,
	EMD_OP_GET_TABLE,
	EMD_OP_JOIN,
	EMD_OP_ERROR,
	EMD_OP_EVENT,
	EMD_OP_DEFERRED, /* a packet waited for room in the client's socket (EAGAIN) */
	EMD_OP_DROPPED,  /* an event dropped: the client's queue was full */
	EMD_OP_MAX,
};

/* ---- msg.c ---------------------------------------------------------------- */

/*
 * A datagram under construction. Messages are appended one after the other;
 * a put that does not fit sets overflow, and emd_msg_end() then removes the
 * whole message, so a datagram never holds a partial one.
 */
struct emd_msg {
	uint8_t *buf;  /* the datagram: alignment counts from here */
	size_t size;   /* capacity */
	size_t len;    /* bytes of complete messages plus the open one */
	size_t start;  /* offset of the open message */
	bool overflow;
	enum emnl_pad_mode pad;
};

void emd_msg_init(struct emd_msg *m, void *buf, size_t size, enum emnl_pad_mode pad);
/* Open a message with a genetlink header (@cmd, @version). */
void emd_msg_begin(struct emd_msg *m, uint16_t type, uint16_t flags, uint32_t seq,
		   uint32_t portid, uint8_t cmd, uint8_t version);
/* Open a message with @payload bytes of zeroed fixed header (NLMSG_DONE...). */
void *emd_msg_begin_raw(struct emd_msg *m, uint16_t type, uint16_t flags, uint32_t seq,
			uint32_t portid, size_t payload);
void emd_msg_put_u16(struct emd_msg *m, uint16_t type, uint16_t v);
void emd_msg_put_u32(struct emd_msg *m, uint16_t type, uint32_t v);
/* A u64 of a set whose pad attribute is @pad_type, as nla_put_u64_64bit(). */
void emd_msg_put_u64(struct emd_msg *m, uint16_t type, uint64_t v, uint16_t pad_type);
void emd_msg_put_strz(struct emd_msg *m, uint16_t type, const char *s);
/* Open a nest (NLA_F_NESTED set); returns its offset for emd_msg_nest_end. */
size_t emd_msg_nest_begin(struct emd_msg *m, uint16_t type);
size_t emd_msg_nest_begin_noflag(struct emd_msg *m, uint16_t type);
void emd_msg_nest_end(struct emd_msg *m, size_t nest);
/* Close the open message: its length, or -EMSGSIZE (and it is gone). */
int emd_msg_end(struct emd_msg *m);

/* ---- the daemon ----------------------------------------------------------- */

/* One packet waiting in a client's output queue. */
struct emd_pkt {
	struct emd_pkt *next;
	size_t len;
	uint8_t data[];
};

/* What a client's dump is walking. */
enum emd_dump_kind { EMD_DUMP_NONE, EMD_DUMP_DOMAINS, EMD_DUMP_FAMILIES };

struct emd_client {
	int fd;
	uint32_t portid;          /* the peer's pid: what replies carry in nlmsg_pid */
	struct emd_client *prev, *next;
	bool subscribed;          /* member of the event group */
	bool overrun;             /* events were dropped; ENOBUFS still to be sent */
	bool closing;
	uint32_t epoll_events;    /* what the client is registered for */
	struct emd_pkt *q_head, *q_tail;
	unsigned int q_len;       /* packets queued */
	size_t q_bytes;           /* bytes queued */
	uint8_t *pend;            /* the rest of a request datagram not yet handled */
	size_t pend_len, pend_off;
	uint64_t events_dropped;
	size_t max_packet;        /* the socket's send buffer bounds a datagram */
	struct {
		enum emd_dump_kind kind;
		uint32_t seq;
		uint32_t next;        /* next domain id (or family index) to send */
		bool done_sent;
	} dump;
};

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
	int epfd, lfd, sigfd, inofd, inowd;
	bool listen_paused;          /* at the client limit */
	bool unlink_socket;          /* we created the socket file */
	struct emd_client *clients;
	unsigned int nr_clients;
	uint8_t *rxbuf, *txbuf, *dumpbuf; /* requests; replies and events; dump packets */
	struct emd_pd_id_map *scratch; /* domains by id (family.c) */
	bool stop;
	uint64_t reloads;
};

/* server.c */
/* Parse the specs built into emd (spec_text.c) into d->spec and d->ctrl_spec;
 * -EINVAL with @e filled when one does not load. */
int emd_specs_load(struct emd *d, struct emnl_error *e);
int emd_server_open(struct emd *d);
void emd_server_close(struct emd *d);
int emd_server_run(struct emd *d);
/* Queue (or send) one packet to @c; events may be dropped (@event), replies not. */
int emd_client_send(struct emd *d, struct emd_client *c, const void *buf, size_t len,
		    bool event);
/* Send the NLMSG_ERROR answering @req (e->err == 0: an ack). */
int emd_client_error(struct emd *d, struct emd_client *c, const struct nlmsghdr *req,
		     const struct emnl_error *e);
/* Send @buf to every client in the event group. */
void emd_multicast(struct emd *d, const void *buf, size_t len);

/* family.c */
int emd_family_request(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh);
/* Append one get-perf-domains message for @pd to @m. */
int emd_put_domain(struct emd_msg *m, const struct em_pd *pd, uint16_t flags, uint32_t seq,
		   uint32_t portid, uint8_t cmd);
/* Append one perf-table message (reply or created/updated event) to @m. */
int emd_put_table(struct emd_msg *m, unsigned int id, const struct em_perf_table *t,
		  uint16_t flags, uint32_t seq, uint32_t portid, uint8_t cmd);
/* Fill the next packet of @c's domain dump into @m; returns 1 when the dump
 * is complete (NLMSG_DONE included), 0 when more packets follow. */
int emd_dump_domains_fill(struct emd *d, struct emd_client *c, struct emd_msg *m);
/* Registry observers that turn changes into events. */
int emd_events_attach(struct emd *d);
void emd_events_detach(struct emd *d);

/* ctrl.c */
int emd_ctrl_request(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh);
int emd_dump_families_fill(struct emd *d, struct emd_client *c, struct emd_msg *m);

/* model.c */
/* Load the configured model into a new registry (d->reg). */
int emd_model_load(struct emd *d, struct em_error *err);
/* Reload it and apply the difference per domain (events follow). */
int emd_model_reload(struct emd *d, struct em_error *err);
/* Set up inotify on the model file (d->inofd; -1 when not watching). */
int emd_model_watch(struct emd *d);
/* Handle readable inotify: returns true when the model file changed. */
bool emd_model_watch_event(struct emd *d);

/* hooks.c */
int emd_trace_request_hook(const struct emd_client *c, const struct nlmsghdr *nlh, int err);
int emd_count_hook(enum emd_op op);
/* The hot-path hooks: static calls that return 0 (cost: a direct call) until
 * emd_hooks_enable(true) points them at the functions above. */
DECLARE_STATIC_CALL(emd_trace, emd_trace_request_hook);
DECLARE_STATIC_CALL(emd_count, emd_count_hook);
/* Switch tracing and counters on (true) or back to RET0 (false). */
int emd_hooks_enable(bool on);
bool emd_hooks_enabled(void);
/* Write the counters to stderr. */
void emd_hooks_report(void);
uint64_t emd_hooks_count(enum emd_op op);

/* notify.c */
/* Send @state to $NOTIFY_SOCKET if set; 0 when sent or not asked for. */
int emd_sd_notify(const char *state);

/*
 * Log a line to stderr: "emd: TEXT", or, when stderr is the journal
 * ($JOURNAL_STREAM names its device and inode), "<N>TEXT" with the line's
 * sd-daemon(3) priority, which journald records. @fmt may begin with one of
 * these (EMD_ERR "cannot ..."); without one, the line is EMD_INFO.
 */
#define EMD_ERR     "<3>"
#define EMD_WARNING "<4>"
#define EMD_NOTICE  "<5>"
#define EMD_INFO    "<6>"
void emd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
