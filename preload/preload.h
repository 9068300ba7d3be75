/*
 * libemkit-preload: unmodified netlink programs talk to emd.
 *
 * Loaded with LD_PRELOAD (`emctl exec -- CMD ARGS...`), the library takes
 * over the libc calls a dynamically linked program makes on its
 * AF_NETLINK/NETLINK_GENERIC sockets. The program's descriptor stays the real
 * kernel socket: every message that is not for dev-energymodel goes to the
 * kernel unchanged, and what the kernel answers is read from the socket
 * unchanged. Messages for dev-energymodel (nlctrl GETFAMILY or GETPOLICY
 * naming it, by name or by the id handed out, and every message of that id)
 * go to emd over a private SOCK_SEQPACKET connection, one per wrapped socket.
 * emd's answers are rewritten as the kernel would have written them for this
 * socket (family and group ids, port id, acks shaped by NETLINK_EXT_ACK and
 * NETLINK_CAP_ACK, the overrun notice as ENOBUFS) and handed out by the same
 * recv calls, with a sockaddr_nl from port 0.
 *
 * Readiness: a wrapped socket that has ever been polled or has talked to emd
 * owns a side epoll descriptor, readable while emd's connection or the
 * library's own queue of datagrams holds something. poll, select and
 * epoll_ctl put it next to the program's descriptor, so a program waiting on
 * its socket wakes for either source; blocking receives wait on both.
 * docs/preload.md gives the whole design and its limits.
 *
 *   interpose.c  the exported libc symbols, the descriptor table, fork
 *   sock.c       a wrapped socket: emd connection, side epoll, local queue,
 *                group membership, internal requests
 *   send.c       outgoing datagrams: each message to the kernel or to emd
 *   recv.c       incoming datagrams: the sources in order, and the kernel's
 *                recvmsg rules (truncation, peek, address, control messages)
 *   reshape.c    emd's datagrams rewritten for the program; the nlctrl dump
 *                completed with dev-energymodel
 *   idmap.c      the family and group ids handed out: ones the kernel does
 *                not use
 */
#ifndef EMKIT_PRELOAD_H
#define EMKIT_PRELOAD_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <linux/netlink.h>

#define PL_FAMILY_NAME "dev-energymodel"
#define PL_MAX_GROUPS 4
/* Largest datagram taken from emd or (while an nlctrl dump is completed) from
 * the kernel: emd's packets are at most 32 KiB (EMNL_DGRAM_MAX), the kernel's
 * dump packets at most max_recvmsg_len (32 KiB less the skb overhead). */
#define PL_RBUF 65536
/* Room for the reshaped datagram: an error may grow by its echoed request. */
#define PL_TBUF (2 * PL_RBUF)
/* Requests kept for the errors that may echo them. */
#define PL_REQS_BYTES (256 * 1024)
#define PL_REQS_MAX 4096
/* How long an internal request (handshake, join, leave) waits for emd. */
#define PL_CALL_TIMEOUT_MS 5000

/* ---- attributes ----------------------------------------------------------------- */

/* True if the attribute at @a and its payload end before @end. */
static inline bool pl_attr_ok(const void *a, const void *end)
{
	const struct nlattr *na = a;
	size_t left;

	if ((const uint8_t *)end < (const uint8_t *)a)
		return false;
	left = (size_t)((const uint8_t *)end - (const uint8_t *)a);
	return left >= sizeof(*na) && na->nla_len >= sizeof(*na) && na->nla_len <= left;
}

static inline void *pl_attr_next(const void *a)
{
	return (uint8_t *)a + NLA_ALIGN(((const struct nlattr *)a)->nla_len);
}

static inline void *pl_attr_data(const void *a)
{
	return (uint8_t *)a + NLA_HDRLEN;
}

static inline size_t pl_attr_len(const void *a)
{
	return ((const struct nlattr *)a)->nla_len - NLA_HDRLEN;
}

/* True if a whole message starts at @m and ends before @end. */
static inline bool pl_msg_ok(const void *m, const void *end)
{
	const struct nlmsghdr *nlh = m;
	size_t left;

	if ((const uint8_t *)end < (const uint8_t *)m)
		return false;
	left = (size_t)((const uint8_t *)end - (const uint8_t *)m);
	return left >= NLMSG_HDRLEN && nlh->nlmsg_len >= NLMSG_HDRLEN && nlh->nlmsg_len <= left;
}

static inline void *pl_msg_next(const void *m)
{
	return (uint8_t *)m + NLMSG_ALIGN(((const struct nlmsghdr *)m)->nlmsg_len);
}

/* Every whole message of the @len bytes at @start. */
#define pl_for_each_msg(nlh, start, len)                                                      \
	for (struct nlmsghdr *nlh = (struct nlmsghdr *)(start);                                  \
	     pl_msg_ok(nlh, (const uint8_t *)(start) + (len)); nlh = pl_msg_next(nlh))

/* Every attribute from @start up to @end (the end of its message or nest). */
#define pl_for_each_attr(a, start, end)                                                       \
	for (struct nlattr *a = (struct nlattr *)(start); pl_attr_ok(a, end); a = pl_attr_next(a))

/* ---- interpose.c ------------------------------------------------------------ */

/* The libc functions the library stands in front of, as libc defines them. */
struct pl_real {
	int (*socket)(int, int, int);
	int (*close)(int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*fcntl)(int, int, ...);
};
extern struct pl_real pl_real;

/* ---- idmap.c ------------------------------------------------------------------ */

/*
 * The ids a program sees for emd's family and groups. Published once per
 * process (ready), after which the fields never change; read them only
 * after pl_idmap_ready() returned true.
 */
struct pl_idmap {
	atomic_bool ready;
	uint16_t emd_family, user_family;
	unsigned int n_groups;
	uint32_t emd_group[PL_MAX_GROUPS], user_group[PL_MAX_GROUPS];
};
extern struct pl_idmap pl_idmap;

static inline bool pl_idmap_ready(void)
{
	return atomic_load_explicit(&pl_idmap.ready, memory_order_acquire);
}

/*
 * pl_idmap_setup - choose the ids handed out for emd's family @emd_family and
 * groups @emd_groups[@n] (the first call in the process decides; later calls
 * must name the same emd ids). Returns 0, or -EEXIST when emd now uses other
 * ids than the ones already mapped (an emd restarted with another build).
 */
int pl_idmap_setup(uint16_t emd_family, const uint32_t *emd_groups, unsigned int n);
/* The family id this process hands out (or would, once emd is reached): the
 * kernel's ids are read on first use. */
uint16_t pl_idmap_family_candidate(void);
/* The group the program sees for emd's group @g (0 if not emd's), and back. */
uint32_t pl_group_to_user(uint32_t g);
uint32_t pl_group_to_emd(uint32_t g);

/* ---- sock.c ------------------------------------------------------------------- */

/* One datagram the library holds until the program reads it. */
struct pl_pkt {
	struct pl_pkt *next;
	size_t len;
	bool raw;       /* as emd sent it (reshaped when delivered), else final */
	uint8_t data[] __attribute__((aligned(8)));
};

/* A message sent to emd, kept for the error that may echo it in full. */
struct pl_req {
	struct pl_req *next;
	bool pending;         /* a request emd has not finished answering */
	struct nlmsghdr sent; /* its header as emd saw it */
	size_t len;           /* bytes of the program's message */
	uint8_t msg[] __attribute__((aligned(8)));
};

/* Where the last MSG_PEEK found its datagram: the next read takes the same one. */
enum pl_src { PL_SRC_NONE, PL_SRC_LOCAL, PL_SRC_EMD, PL_SRC_KERNEL };

/* A wrapped netlink socket (shared by the descriptors dup'd from it). */
struct pl_sock {
	atomic_int refs;
	struct pl_sock *all_prev, *all_next; /* interpose.c's list of sockets */
	atomic_bool active;   /* has talked to emd: receives look beyond the kernel */
	pthread_mutex_t lock; /* everything below */
	bool cloexec;         /* the program's socket had SOCK_CLOEXEC */
	int side;             /* epoll: emd and evfd; -1 until needed */
	int evfd;             /* eventfd, non-zero while q_head != NULL */
	int emd;              /* connection to emd, or -1 */
	uint32_t portid;      /* the kernel socket's port id, once known */
	int rcvtimeo_ms;      /* SO_RCVTIMEO as poll() takes it: -1 none */
	int nonblock;         /* O_NONBLOCK of the file: 0, 1, or -1 (read it) */
	unsigned int in_flight; /* requests emd has still to answer */
	bool emd_waiter;      /* a thread waits in recv() on emd's connection */
	int emd_timeo_ms;     /* the SO_RCVTIMEO set on emd's connection */
	uint8_t *wbuf;        /* PL_RBUF: what that thread received */
	uint32_t iseq;        /* sequence numbers of internal requests */
	uint8_t *family;      /* emd's GETFAMILY reply (the handshake) */
	size_t family_len;
	struct pl_pkt *q_head, *q_tail;
	struct pl_req *reqs; /* newest first */
	size_t reqs_bytes;
	unsigned int n_reqs;
	bool merging;        /* an nlctrl dump is to be completed */
	uint32_t merge_seq;
	bool joined[PL_MAX_GROUPS]; /* member at emd */
	enum pl_src peek_src;
	uint8_t *rbuf, *tbuf; /* PL_RBUF, PL_TBUF */
	uint8_t *sbuf;
	size_t sbuf_size;
	/* The kernel's max_recvmsg_len of the program's socket, as
	 * netlink_recvmsg() keeps it (every receive the program makes), and
	 * what emd was last told of it (RECV_LEN, before the next request). */
	atomic_uint recv_max;
	unsigned int recv_announced;
};

/* Marks internal requests (in nlmsg_pid, with an internal sequence number). */
#define PL_INTERNAL_PID 0x454d4b50u

struct pl_sock *pl_sock_new(bool cloexec, bool nonblock);
void pl_sock_free(struct pl_sock *s);
/* The side epoll descriptor, created if needed: >= 0, or -errno. */
int pl_side(struct pl_sock *s);
/* Connect to emd if not connected (handshake, ids, membership): 0 or -errno. */
int pl_emd_connect(struct pl_sock *s, int fd);
/* Drop the connection to emd (emd went away). */
void pl_emd_disconnect(struct pl_sock *s);
/* The kernel socket's port id, binding it as a send would if it is unbound. */
uint32_t pl_portid(struct pl_sock *s, int fd);
/* Queue a datagram for the program. */
int pl_queue_push(struct pl_sock *s, const void *data, size_t len, bool raw);
void pl_queue_pop(struct pl_sock *s);
/* Make emd's memberships follow the kernel socket's (NETLINK_LIST_MEMBERSHIPS). */
int pl_sync_membership(struct pl_sock *s, int fd);
/* A SOL_NETLINK or SOL_SOCKET int option of the kernel socket (0 on error). */
int pl_sockopt(int fd, int level, int name);
/* Keep the program's message @orig (sent to emd with header @sent). */
void pl_req_keep(struct pl_sock *s, const struct nlmsghdr *orig, const struct nlmsghdr *sent);
/* The kept message whose header emd echoed as @echo, or NULL. */
const struct pl_req *pl_req_find(const struct pl_sock *s, const struct nlmsghdr *echo);
/* Note the requests that emd's datagram @in (consumed by the program) ends. */
void pl_req_answered(struct pl_sock *s, const uint8_t *in, size_t len);
/* Whether the kernel socket is non-blocking (cached; see interpose.c). */
bool pl_nonblock(struct pl_sock *s, int fd);

/* ---- send.c / recv.c ---------------------------------------------------------- */

/* A receive of @len bytes (the buffer's, not the datagram's) got a datagram:
 * max_recvmsg_len grows to it, up to SKB_WITH_OVERHEAD(32768). */
void pl_note_recv_len(struct pl_sock *s, size_t len);

ssize_t pl_sendmsg(struct pl_sock *s, int fd, const struct msghdr *msg, int flags);
ssize_t pl_recvmsg(struct pl_sock *s, int fd, struct msghdr *msg, int flags);

/* ---- reshape.c ---------------------------------------------------------------- */

enum pl_shape { PL_DROP = 0, PL_DATA = 1, PL_OVERRUN = 2 };

/*
 * pl_reshape_emd - rewrite the datagram @in (@len bytes, from emd) into @out
 * as the kernel would have sent it to this socket. Returns PL_DATA (*outlen,
 * *group: the multicast group it went to, 0 for unicast), PL_DROP (nothing
 * for the program: an answer to an internal request) or PL_OVERRUN (emd's
 * overrun notice).
 */
enum pl_shape pl_reshape_emd(struct pl_sock *s, int fd, const uint8_t *in, size_t len,
			     uint8_t *out, size_t *outlen, uint32_t *group);
/*
 * pl_reshape_kernel - a datagram from the kernel while an nlctrl dump is
 * being completed: its own dev-energymodel entry (a kernel that has the
 * family) is left out, and the NLMSG_DONE ending the dump is preceded by
 * emd's family. When the DONE shares the datagram with other messages, the
 * family and DONE become the next datagram (queued unless @peek). Returns the
 * bytes written to @out.
 */
size_t pl_reshape_kernel(struct pl_sock *s, int fd, const uint8_t *in, size_t len, uint8_t *out,
			 bool peek);
/* Rewrite emd's family id and group ids in a CTRL_CMD_NEWFAMILY message,
 * and the family id of a CTRL_CMD_GETPOLICY one. */
void pl_reshape_newfamily(struct nlmsghdr *nlh);

#endif
