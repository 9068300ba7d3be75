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
 * the layer above stops (emd_conn_congested) and the rest of the datagram
 * waits in a copy, taken up when the queue has drained: what one client can
 * make emd hold is bounded whatever its requests ask for. Produced output
 * (dump packets) is pulled one packet at a time, only when the previous one
 * has gone. Multicast packets are the only output that may be dropped: a
 * client whose queue holds client_queue packets (or queue_bytes bytes) loses
 * them, and gets one overrun notice (written by the layer above) before
 * anything that follows the gap; other clients are not affected.
 *
 * Invariants (asserted): q_len and q_bytes are the queue's packets and
 * bytes; a client waits for EPOLLOUT exactly when it has queued packets,
 * a datagram's rest or output to produce.
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
	size_t max_request;        /* largest request datagram read whole */
	unsigned int client_queue; /* packets queued per client before multicast is dropped */
	size_t queue_bytes;        /* bytes queued per client: beyond, requests wait and
				    * multicast is dropped (0: no byte bound) */
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

/* emd_conn_send - send one packet to @c now, or queue it: 0 or a negative
 * errno (then @c is being closed). */
int emd_conn_send(struct emd_transport *t, struct emd_conn *c, const void *buf, size_t len);
/* emd_conn_pull - pull one packet of @c's output to produce (ops->pull)
 * now and send or queue it, after what is queued: a dump's first packet,
 * built while its request is handled, as the kernel builds it. 0 or a
 * negative errno (then @c is being closed). */
int emd_conn_pull(struct emd_transport *t, struct emd_conn *c);
/* Groups are numbered by the layer above, 0..EMD_TRANSPORT_MAX_GROUPS-1. */
#define EMD_TRANSPORT_MAX_GROUPS 64

/* emd_transport_multicast - send @buf to every member of @group; a member
 * whose queue is full loses it (and gets the overrun notice later). */
void emd_transport_multicast(struct emd_transport *t, unsigned int group, const void *buf,
			     size_t len);
/* emd_conn_set_member - make @c a member of @group, or not. */
void emd_conn_set_member(struct emd_conn *c, unsigned int group, bool on);

/* emd_conn_portid - the peer's pid (SO_PEERCRED): what replies carry. */
uint32_t emd_conn_portid(const struct emd_conn *c);
/* emd_conn_closing - @c is going away: nothing more is sent to it. */
bool emd_conn_closing(const struct emd_conn *c);
/* emd_conn_congested - queue_bytes are queued for @c: stop taking its requests. */
bool emd_conn_congested(const struct emd_transport *t, const struct emd_conn *c);
/* emd_conn_priv - the layer above's conn_priv bytes for @c (zeroed at accept). */
void *emd_conn_priv(struct emd_conn *c);
const void *emd_conn_priv_const(const struct emd_conn *c);

/* emd_transport_describe - one line per client, for a stall report. */
void emd_transport_describe(const struct emd_transport *t,
			    void (*line)(const struct emd_conn *c, const char *what, void *arg),
			    void *arg);

#endif
