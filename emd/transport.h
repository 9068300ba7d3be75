/*
 * emd's transport: the clients of a listening UNIX SOCK_SEQPACKET socket,
 * driven by one epoll loop, non-blocking everywhere. It moves datagrams and
 * knows no family: a request datagram goes up to the protocol layer above
 * it (emd's genl core, through struct emd_transport_ops), and what that
 * layer sends comes down as packets for one client or for the members of a
 * multicast group.
 *
 * Output is sent at once when the socket has room and queued when it has
 * not (EAGAIN). While anything is queued, or the layer above has output
 * still to produce for the client (a dump), the client's further requests
 * wait in its socket (back-pressure, as a kernel socket's dump blocks
 * further reads). Within one request datagram, once queue_bytes are queued
 * for the client (or total_bytes for all clients, and this one has some) the
 * layer above stops (emd_conn_congested) and the rest of the datagram waits
 * in a copy, taken up when the queue has drained: what clients can make emd
 * hold is bounded whatever their requests ask for. Produced output (dump
 * packets) is pulled one packet at a time, only when the previous one has
 * gone. A packet larger than the client's socket can carry is refused
 * (-EMSGSIZE, for the layer above to answer), never a reason to close.
 *
 * Multicast packets go into one log shared by all members, written once:
 * each member has a position in it and is sent what follows when its socket
 * has room, in the order of everything sent to it. The log keeps the last
 * client_queue packets (and at most queue_bytes bytes), and whole the packets
 * of the latest batch (emd_transport_batch: one model reload's events), so
 * that a member reading as fast as it can never loses an event, however many
 * one reload makes. A member further behind loses what the log no longer
 * holds, and then everything until it has read what was queued for it; it
 * gets one overrun notice (written by the layer above) before anything that
 * follows the gap. Other clients are not affected.
 *
 * Availability: a client limit (max_clients) and a limit per user
 * (max_per_user, by SO_PEERCRED uid); connections beyond are accepted and
 * closed at once. When accept() fails for want of descriptors (EMFILE,
 * ENFILE) a spare descriptor is given up to take the connection and close
 * it, and the listener rests a second if even that fails: emd never spins on
 * a backlog it cannot take. A client that is in no multicast group and has
 * neither sent a request nor been sent anything for idle_timeout seconds is
 * closed. Refusals are logged at most once a second, with a count. Memory
 * freed by closing clients is given back to the system (malloc_trim) at the
 * next tick.
 *
 * Invariants (asserted): q_len and q_bytes are the queue's packets and
 * bytes, total_bytes their sum over clients; a client waits for EPOLLOUT
 * exactly when it has queued packets, multicast to deliver, a datagram's rest
 * or output to produce.
 */
#ifndef EMD_TRANSPORT_H
#define EMD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emkit/nl.h"

struct emd_transport;
struct emd_conn;

/* What the transport asks of the layer above it. */
struct emd_transport_ops {
	/* Handle @c's datagram @buf of @len bytes from offset @off; stop early
	 * when emd_conn_congested(c). Returns where it stopped (@len: done). */
	size_t (*rcv)(void *ctx, struct emd_conn *c, const uint8_t *buf, size_t len, size_t off);
	/* @c sent a datagram of @sent bytes, more than @limit: only its first
	 * @len bytes (at @buf) were read. */
	void (*too_big)(void *ctx, struct emd_conn *c, const uint8_t *buf, size_t len, size_t sent,
			size_t limit);
	/* Does @c have output still to produce (its requests wait meanwhile)? */
	bool (*pending)(void *ctx, const struct emd_conn *c);
	/* Write @c's next packet of that output into @w (its size is what the
	 * client's socket takes): 0 or a negative errno (the client is closed). */
	int (*pull)(void *ctx, struct emd_conn *c, struct emnl_writer *w);
	/* Write the notice that @dropped multicast packets were dropped for @c. */
	int (*overrun)(void *ctx, struct emd_conn *c, struct emnl_writer *w, uint64_t dropped);
};

struct emd_transport_config {
	unsigned int max_clients;
	unsigned int max_per_user; /* connections of one uid (0: no limit) */
	unsigned int idle_timeout; /* seconds (0: none): see above */
	size_t max_request;        /* largest request datagram read whole */
	unsigned int client_queue; /* multicast packets the log keeps beyond the latest batch */
	size_t queue_bytes;        /* bytes queued per client: beyond, requests wait and
				    * the multicast log is trimmed (0: no byte bound) */
	size_t total_bytes;        /* bytes queued for all clients: beyond, clients with
				    * something queued wait (0: no bound) */
	int sndbuf;                /* SO_SNDBUF for client sockets (0: system default) */
	size_t conn_priv;          /* bytes of the layer above's state per client */
	enum emnl_pad_mode pad;    /* for the writers the transport hands out */
};

/* Something else the loop watches (signals, inotify): called when readable. */
typedef void (*emd_transport_fd_cb)(void *arg);

/* emd_transport_new - serve the clients of listening socket @lfd (not owned). */
struct emd_transport *emd_transport_new(const struct emd_transport_config *cfg, int lfd,
					const struct emd_transport_ops *ops, void *ctx);
/* emd_transport_free - close every client. */
void emd_transport_free(struct emd_transport *t);
/* emd_transport_watch - call @cb(@arg) when @fd is readable. */
int emd_transport_watch(struct emd_transport *t, int fd, emd_transport_fd_cb cb, void *arg);
/* emd_transport_run - the loop, until *@stop is set (by a watched fd's callback). */
int emd_transport_run(struct emd_transport *t, volatile bool *stop);

/* emd_conn_send - send one packet to @c now, or queue it: 0; -EMSGSIZE when
 * it is larger than @c's socket can carry (nothing sent, @c stays); another
 * negative errno when @c is being closed. */
int emd_conn_send(struct emd_transport *t, struct emd_conn *c, const void *buf, size_t len);
/* emd_conn_pull - pull one packet of @c's output to produce (ops->pull)
 * now and send or queue it, after what is queued: a dump's first packet,
 * built while its request is handled, as the kernel builds it. 0 or a
 * negative errno (then @c is being closed). */
int emd_conn_pull(struct emd_transport *t, struct emd_conn *c);
/* Groups are numbered by the layer above, 0..EMD_TRANSPORT_MAX_GROUPS-1. */
#define EMD_TRANSPORT_MAX_GROUPS 64

/* emd_transport_multicast - @buf to every member of @group, through the log. */
void emd_transport_multicast(struct emd_transport *t, unsigned int group, const void *buf,
			     size_t len);
/* emd_transport_batch - the multicast packets between begin (@on) and end
 * (!@on) are one batch: the log keeps them whole (see above). */
void emd_transport_batch(struct emd_transport *t, bool on);
/* emd_conn_set_member - make @c a member of @group, or not. */
void emd_conn_set_member(struct emd_conn *c, unsigned int group, bool on);

/* emd_conn_portid - the peer's pid (SO_PEERCRED): what replies carry. */
uint32_t emd_conn_portid(const struct emd_conn *c);
/* emd_conn_max_packet - the largest packet @c's socket can carry. */
size_t emd_conn_max_packet(const struct emd_conn *c);
/* emd_conn_closing - @c is going away: nothing more is sent to it. */
bool emd_conn_closing(const struct emd_conn *c);
/* emd_conn_congested - enough is queued (for @c, or for all clients while @c
 * has some): stop taking its requests. */
bool emd_conn_congested(const struct emd_transport *t, const struct emd_conn *c);
/* emd_conn_priv - the layer above's conn_priv bytes for @c (zeroed at accept). */
void *emd_conn_priv(struct emd_conn *c);
const void *emd_conn_priv_const(const struct emd_conn *c);

/* What the transport holds, for reports and tests. */
struct emd_transport_stats {
	unsigned int clients;
	size_t queued_bytes;       /* unicast, all clients */
	size_t log_packets, log_bytes;
	uint64_t refused;          /* connections refused since start */
};
void emd_transport_stats(const struct emd_transport *t, struct emd_transport_stats *st);

/* emd_transport_describe - one line per client, for a stall report. */
void emd_transport_describe(const struct emd_transport *t,
			    void (*line)(const struct emd_conn *c, const char *what, void *arg),
			    void *arg);

#endif
