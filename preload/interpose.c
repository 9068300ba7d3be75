/*
 * The libc functions the library stands in front of, and the table of
 * wrapped descriptors.
 *
 * socket() wraps every AF_NETLINK/NETLINK_GENERIC socket it creates; close,
 * dup, dup2, dup3, fcntl(F_DUPFD*), close_range and closefrom keep the table
 * in step with the descriptors; fcntl(F_SETFL) and ioctl(FIONBIO) keep the
 * socket's O_NONBLOCK known, and setsockopt(SO_RCVTIMEO) its timeout, for
 * blocking receives. The data calls (send, sendto, sendmsg,
 * sendmmsg, write; recv, recvfrom, recvmsg, recvmmsg, read) go to send.c and
 * recv.c for wrapped descriptors. bind() and setsockopt() are the kernel's,
 * then emd's group memberships follow the socket's. poll, ppoll, select,
 * pselect (and the fortified __poll_chk, __ppoll_chk) wait on each wrapped
 * socket's side descriptor too; epoll_ctl registers the side descriptor with
 * the same events and data. Every other descriptor goes straight to libc:
 * its cost is one load from the table.
 *
 * fork() keeps working without help: the child shares the kernel socket and
 * emd's connection, as it shares a kernel socket's queue; the locks are
 * taken around fork (pthread_atfork) so that the child finds them free.
 */
/* Both fcntl and fcntl64 are defined here: neither may be renamed to the other. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "preload.h"

/* Descriptors above this are never wrapped (docs/preload.md). */
#define PL_MAX_FD 65536

struct pl_real pl_real;

/* The rest of libc that only this file calls. */
static struct {
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned int, unsigned int, int);
	int (*ioctl)(int, unsigned long, ...);
	void (*closefrom)(int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
} lc;

static struct pl_sock *_Atomic table[PL_MAX_FD];
static struct pl_sock *all; /* every live wrapped socket, once */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER; /* table, all */
static atomic_int n_wrapped;
static pthread_once_t once = PTHREAD_ONCE_INIT;

extern void __chk_fail(void) __attribute__((noreturn));

/* ---- set-up --------------------------------------------------------------------- */

#define RESOLVE(dst, name) (*(void **)&(dst) = dlsym(RTLD_NEXT, name))

/* Every wrapped socket locked around fork() (prepare, then parent/child), so
 * that the child finds every lock free. */
static void lock_all(void)
{
	pthread_mutex_lock(&table_lock);
	for (struct pl_sock *s = all; s; s = s->all_next)
		pthread_mutex_lock(&s->lock);
}

static void unlock_all(void)
{
	for (struct pl_sock *s = all; s; s = s->all_next)
		pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&table_lock);
}

static void resolve(void)
{
	RESOLVE(pl_real.socket, "socket");
	RESOLVE(pl_real.close, "close");
	RESOLVE(pl_real.bind, "bind");
	RESOLVE(pl_real.setsockopt, "setsockopt");
	RESOLVE(pl_real.sendmsg, "sendmsg");
	RESOLVE(pl_real.recvmsg, "recvmsg");
	RESOLVE(pl_real.send, "send");
	RESOLVE(pl_real.recv, "recv");
	RESOLVE(pl_real.poll, "poll");
	RESOLVE(pl_real.epoll_ctl, "epoll_ctl");
	RESOLVE(pl_real.fcntl, "fcntl");
	RESOLVE(lc.dup, "dup");
	RESOLVE(lc.dup2, "dup2");
	RESOLVE(lc.dup3, "dup3");
	RESOLVE(lc.close_range, "close_range");
	RESOLVE(lc.ioctl, "ioctl");
	RESOLVE(lc.closefrom, "closefrom");
	RESOLVE(lc.read, "read");
	RESOLVE(lc.write, "write");
	RESOLVE(lc.sendto, "sendto");
	RESOLVE(lc.recvfrom, "recvfrom");
	RESOLVE(lc.sendmmsg, "sendmmsg");
	RESOLVE(lc.recvmmsg, "recvmmsg");
	RESOLVE(lc.ppoll, "ppoll");
	RESOLVE(lc.select, "select");
	RESOLVE(lc.pselect, "pselect");
	pthread_atfork(lock_all, unlock_all, unlock_all);
}

static inline void init(void)
{
	if (__builtin_expect(!pl_real.recvmsg, 0))
		pthread_once(&once, resolve);
}

__attribute__((constructor)) static void preload_init(void)
{
	init();
}

/* ---- the descriptor table ------------------------------------------------------- */

/* The socket wrapped at @fd, with a reference, or NULL. */
static struct pl_sock *get(int fd)
{
	struct pl_sock *s;

	if (fd < 0 || fd >= PL_MAX_FD ||
	    !atomic_load_explicit(&table[fd], memory_order_relaxed))
		return NULL;
	pthread_mutex_lock(&table_lock);
	s = atomic_load(&table[fd]);
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&table_lock);
	return s;
}

static void put(struct pl_sock *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	pthread_mutex_lock(&table_lock);
	if (s->all_prev)
		s->all_prev->all_next = s->all_next;
	else
		all = s->all_next;
	if (s->all_next)
		s->all_next->all_prev = s->all_prev;
	pthread_mutex_unlock(&table_lock);
	pl_sock_free(s);
}

/* Make @fd refer to @s (whose reference the table takes; NULL: not wrapped). */
static void set(int fd, struct pl_sock *s)
{
	struct pl_sock *old;

	if (fd < 0 || fd >= PL_MAX_FD ||
	    (!s && !atomic_load_explicit(&table[fd], memory_order_relaxed)))
		return;
	pthread_mutex_lock(&table_lock);
	old = atomic_exchange(&table[fd], s);
	atomic_fetch_add(&n_wrapped, (s ? 1 : 0) - (old ? 1 : 0));
	pthread_mutex_unlock(&table_lock);
	put(old);
}

/* After a descriptor @newfd was made a copy of @oldfd. */
static int duplicated(int oldfd, int newfd)
{
	if (newfd >= 0 && newfd != oldfd)
		set(newfd, get(oldfd));
	return newfd;
}

/* ---- descriptors ---------------------------------------------------------------- */

int socket(int domain, int type, int protocol)
{
	int fd;

	init();
	fd = pl_real.socket(domain, type, protocol);
	if (fd < 0)
		return fd;
	if (domain == AF_NETLINK && protocol == NETLINK_GENERIC &&
	    ((type & 0xf) == SOCK_RAW || (type & 0xf) == SOCK_DGRAM)) {
		struct pl_sock *s = pl_sock_new(type & SOCK_CLOEXEC, type & SOCK_NONBLOCK);

		if (s) {
			pthread_mutex_lock(&table_lock);
			s->all_next = all;
			if (all)
				all->all_prev = s;
			all = s;
			pthread_mutex_unlock(&table_lock);
			set(fd, s);
		}
	} else {
		set(fd, NULL); /* a stale entry, if a wrapped descriptor went unseen */
	}
	return fd;
}

int close(int fd)
{
	init();
	set(fd, NULL);
	return pl_real.close(fd);
}

int dup(int fd)
{
	init();
	return duplicated(fd, lc.dup(fd));
}

int dup2(int fd, int fd2)
{
	init();
	return duplicated(fd, lc.dup2(fd, fd2));
}

int dup3(int fd, int fd2, int flags)
{
	init();
	return duplicated(fd, lc.dup3(fd, fd2, flags));
}

/* The file's O_NONBLOCK changed to @on (blocking receives read it: recv.c). */
static void nonblock_set(int fd, bool on)
{
	struct pl_sock *s = get(fd);

	if (s) {
		pthread_mutex_lock(&s->lock);
		s->nonblock = on;
		pthread_mutex_unlock(&s->lock);
		put(s);
	}
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	unsigned long arg;
	int r;

	init();
	/* Every fcntl argument fits a word; what it means depends on @cmd. */
	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	r = pl_real.fcntl(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		duplicated(fd, r);
	if (cmd == F_SETFL && r == 0)
		nonblock_set(fd, arg & O_NONBLOCK);
	return r;
}

/*
 * Where off_t is 64 bits, glibc's fcntl and fcntl64 are one function (in
 * x86_64's and aarch64's libc.so.6 both names have one address), so one wrapper
 * answers to both names.
 */
_Static_assert(sizeof(off_t) == 8, "fcntl64 is fcntl only where off_t is 64 bits");
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	init();
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = lc.ioctl(fd, req, arg);
	if (r == 0 && req == FIONBIO && arg)
		nonblock_set(fd, *(const int *)arg != 0);
	return r;
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	init();
	if (!lc.close_range) {
		errno = ENOSYS;
		return -1;
	}
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		for (unsigned long fd = first; fd <= last && fd < PL_MAX_FD; fd++)
			set((int)fd, NULL);
	return lc.close_range(first, last, flags);
}

void closefrom(int lowfd)
{
	init();
	for (int fd = lowfd < 0 ? 0 : lowfd; fd < PL_MAX_FD; fd++)
		set(fd, NULL);
	if (lc.closefrom)
		lc.closefrom(lowfd);
}

/* ---- group membership ----------------------------------------------------------- */

/* After the kernel socket's memberships may have changed: emd's follow. */
static void memberships_changed(struct pl_sock *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	if (s->emd >= 0)
		pl_sync_membership(s, fd);
	else if (pl_idmap_ready())
		pl_emd_connect(s, fd); /* joins what the socket is a member of */
	pthread_mutex_unlock(&s->lock);
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pl_sock *s;
	int r;

	init();
	r = pl_real.bind(fd, sa, len);
	if (r == 0 && (s = get(fd))) {
		pthread_mutex_lock(&s->lock);
		s->portid = 0; /* read again when needed */
		pthread_mutex_unlock(&s->lock);
		if (len >= sizeof(struct sockaddr_nl) &&
		    (((const struct sockaddr_nl *)sa)->nl_groups || s->emd >= 0))
			memberships_changed(s, fd);
		put(s);
	}
	return r;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct pl_sock *s;
	int r;

	init();
	r = pl_real.setsockopt(fd, level, name, val, len);
	if (r == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW) &&
	    (s = get(fd))) {
		/* Kept for blocking receives, which wait in poll() (recv.c). */
		struct timeval tv = {0};
		socklen_t tl = sizeof(tv);
		int ms = -1;

		if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, &tv, &tl) == 0 && (tv.tv_sec || tv.tv_usec))
			ms = tv.tv_sec > 1000000 ? 1000000000 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
		pthread_mutex_lock(&s->lock);
		s->rcvtimeo_ms = ms;
		pthread_mutex_unlock(&s->lock);
		put(s);
	}
	if (r == 0 && level == SOL_NETLINK &&
	    (name == NETLINK_ADD_MEMBERSHIP || name == NETLINK_DROP_MEMBERSHIP) &&
	    (s = get(fd))) {
		memberships_changed(s, fd);
		put(s);
	}
	return r;
}

/* ---- data ----------------------------------------------------------------------- */

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct pl_sock *s;
	ssize_t r;

	init();
	s = get(fd);
	if (!s)
		return pl_real.sendmsg(fd, msg, flags);
	r = pl_sendmsg(s, fd, msg, flags);
	put(s);
	return r;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_name = (void *)to, .msg_namelen = to ? tolen : 0,
			     .msg_iov = &iov, .msg_iovlen = 1};
	struct pl_sock *s;
	ssize_t r;

	init();
	s = get(fd);
	if (!s)
		return lc.sendto(fd, buf, len, flags, to, tolen);
	r = pl_sendmsg(s, fd, &msg, flags);
	put(s);
	return r;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	init();
	if (fd >= 0 && fd < PL_MAX_FD && atomic_load_explicit(&table[fd], memory_order_relaxed))
		return sendto(fd, buf, len, flags, NULL, 0);
	return pl_real.send(fd, buf, len, flags);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	init();
	if (fd >= 0 && fd < PL_MAX_FD && atomic_load_explicit(&table[fd], memory_order_relaxed))
		return sendto(fd, buf, len, 0, NULL, 0);
	return lc.write(fd, buf, len);
}

int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct pl_sock *s;
	unsigned int i;

	init();
	s = get(fd);
	if (!s)
		return lc.sendmmsg(fd, v, n, flags);
	for (i = 0; i < n; i++) {
		ssize_t r = pl_sendmsg(s, fd, &v[i].msg_hdr, flags);

		if (r < 0)
			break;
		v[i].msg_len = (unsigned int)r;
	}
	put(s);
	return i ? (int)i : (n ? -1 : 0);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct pl_sock *s;
	ssize_t r;

	init();
	s = get(fd);
	if (!s)
		return pl_real.recvmsg(fd, msg, flags);
	r = pl_recvmsg(s, fd, msg, flags);
	put(s);
	return r;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		 socklen_t *fromlen)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {.msg_name = from && fromlen ? from : NULL,
			     .msg_namelen = from && fromlen ? *fromlen : 0,
			     .msg_iov = &iov, .msg_iovlen = 1};
	struct pl_sock *s;
	ssize_t r;

	init();
	s = get(fd);
	if (!s)
		return lc.recvfrom(fd, buf, len, flags, from, fromlen);
	r = pl_recvmsg(s, fd, &msg, flags);
	put(s);
	if (r >= 0 && from && fromlen)
		*fromlen = msg.msg_namelen;
	return r;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	init();
	if (fd >= 0 && fd < PL_MAX_FD && atomic_load_explicit(&table[fd], memory_order_relaxed))
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	return pl_real.recv(fd, buf, len, flags);
}

ssize_t read(int fd, void *buf, size_t len)
{
	init();
	if (fd >= 0 && fd < PL_MAX_FD && atomic_load_explicit(&table[fd], memory_order_relaxed))
		return recvfrom(fd, buf, len, 0, NULL, NULL);
	return lc.read(fd, buf, len);
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *timeout)
{
	struct pl_sock *s;
	unsigned int i;

	init();
	s = get(fd);
	if (!s)
		return lc.recvmmsg(fd, v, n, flags, timeout);
	/* The first datagram as asked; with MSG_WAITFORONE, the rest only if
	 * they are there. (The timeout is not applied: docs/preload.md.) */
	for (i = 0; i < n; i++) {
		int f = flags & ~MSG_WAITFORONE;
		ssize_t r;

		if (i && (flags & MSG_WAITFORONE))
			f |= MSG_DONTWAIT;
		r = pl_recvmsg(s, fd, &v[i].msg_hdr, f);
		if (r < 0)
			break;
		v[i].msg_len = (unsigned int)r;
	}
	put(s);
	return i ? (int)i : (n ? -1 : 0);
}

/* ---- waiting -------------------------------------------------------------------- */

/* The side descriptor of a wrapped @fd, or -1. With @create, make one (for
 * registrations that outlive the call: epoll). */
static int side_of(int fd, bool create)
{
	struct pl_sock *s = get(fd);
	int side = -1;

	if (!s)
		return -1;
	pthread_mutex_lock(&s->lock);
	side = create ? pl_side(s) : s->side;
	pthread_mutex_unlock(&s->lock);
	put(s);
	return side;
}

/* Run @call on the program's pollfds plus the side descriptors of its wrapped
 * sockets; a readable side descriptor makes its socket readable. */
static int poll_sides(struct pollfd *fds, nfds_t n,
		      int (*call)(struct pollfd *, nfds_t, const void *), const void *arg)
{
	struct pollfd stack[64], *ext = stack;
	nfds_t stack_map[32], *map = stack_map, k = 0;
	int r;

	if (!atomic_load_explicit(&n_wrapped, memory_order_relaxed))
		return call(fds, n, arg);
	if (2 * n > 64) {
		ext = malloc(sizeof(*ext) * 2 * n);
		map = malloc(sizeof(*map) * n);
		if (!ext || !map) {
			free(ext);
			free(map);
			return call(fds, n, arg);
		}
	}
	for (nfds_t i = 0; i < n; i++) {
		int side;

		if (!(fds[i].events & (POLLIN | POLLRDNORM)) || (side = side_of(fds[i].fd, false)) < 0)
			continue;
		ext[n + k].fd = side;
		ext[n + k].events = POLLIN;
		ext[n + k].revents = 0;
		map[k++] = i;
	}
	if (!k) {
		r = call(fds, n, arg);
	} else {
		memcpy(ext, fds, sizeof(*fds) * n);
		r = call(ext, n + k, arg);
		if (r >= 0) {
			for (nfds_t i = 0; i < n; i++)
				fds[i].revents = ext[i].revents;
			for (nfds_t j = 0; j < k; j++)
				if (ext[n + j].revents & POLLIN)
					fds[map[j]].revents |= fds[map[j]].events & (POLLIN | POLLRDNORM);
			r = 0;
			for (nfds_t i = 0; i < n; i++)
				r += fds[i].revents != 0;
		}
	}
	if (ext != stack) {
		free(ext);
		free(map);
	}
	return r;
}

static int call_poll(struct pollfd *fds, nfds_t n, const void *arg)
{
	return pl_real.poll(fds, n, *(const int *)arg);
}

struct ppoll_args {
	const struct timespec *tmo;
	const sigset_t *mask;
};

static int call_ppoll(struct pollfd *fds, nfds_t n, const void *arg)
{
	const struct ppoll_args *a = arg;

	return lc.ppoll(fds, n, a->tmo, a->mask);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	init();
	return poll_sides(fds, n, call_poll, &timeout);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	struct ppoll_args a = {tmo, mask};

	init();
	return poll_sides(fds, n, call_ppoll, &a);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
		size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
		size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, tmo, mask);
}

struct select_args {
	struct timeval *tv;
	const struct timespec *ts;
	const sigset_t *mask;
	bool pselect;
};

/* select/pselect with the side descriptors of wrapped sockets in the read set. */
static int select_sides(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct select_args *a)
{
	fd_set r, w, e;
	int pairs[64][2], k = 0, max = nfds, ret;

	if (!rd || nfds > FD_SETSIZE || !atomic_load_explicit(&n_wrapped, memory_order_relaxed))
		goto plain;
	for (int fd = 0; fd < nfds && k < 64; fd++) {
		int side;

		if (FD_ISSET(fd, rd) && (side = side_of(fd, false)) >= 0 && side < FD_SETSIZE) {
			pairs[k][0] = fd;
			pairs[k++][1] = side;
		}
	}
	if (!k)
		goto plain;
	/* Copies holding only the program's bits below nfds, then the sides. */
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	for (int fd = 0; fd < nfds; fd++) {
		if (FD_ISSET(fd, rd))
			FD_SET(fd, &r);
		if (wr && FD_ISSET(fd, wr))
			FD_SET(fd, &w);
		if (ex && FD_ISSET(fd, ex))
			FD_SET(fd, &e);
	}
	for (int i = 0; i < k; i++) {
		FD_SET(pairs[i][1], &r);
		if (pairs[i][1] + 1 > max)
			max = pairs[i][1] + 1;
	}
	ret = a->pselect ? lc.pselect(max, &r, wr ? &w : NULL, ex ? &e : NULL, a->ts, a->mask)
			 : lc.select(max, &r, wr ? &w : NULL, ex ? &e : NULL, a->tv);
	if (ret < 0)
		return ret;
	for (int i = 0; i < k; i++)
		if (FD_ISSET(pairs[i][1], &r))
			FD_SET(pairs[i][0], &r);
	ret = 0;
	for (int fd = 0; fd < nfds; fd++) {
		bool in_r = FD_ISSET(fd, &r), in_w = wr && FD_ISSET(fd, &w);
		bool in_e = ex && FD_ISSET(fd, &e);

		for (int i = 0; i < k; i++)
			if (pairs[i][1] == fd)
				in_r = false; /* a side descriptor is never the program's */
		if (in_r)
			FD_SET(fd, rd);
		else
			FD_CLR(fd, rd);
		if (wr && !in_w)
			FD_CLR(fd, wr);
		if (ex && !in_e)
			FD_CLR(fd, ex);
		ret += in_r + in_w + in_e;
	}
	return ret;
plain:
	return a->pselect ? lc.pselect(nfds, rd, wr, ex, a->ts, a->mask)
			  : lc.select(nfds, rd, wr, ex, a->tv);
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	struct select_args a = {.tv = tv};

	init();
	return select_sides(nfds, rd, wr, ex, &a);
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
	    const sigset_t *mask)
{
	struct select_args a = {.ts = ts, .mask = mask, .pselect = true};

	init();
	return select_sides(nfds, rd, wr, ex, &a);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int r, side;

	init();
	r = pl_real.epoll_ctl(epfd, op, fd, ev);
	if (r || (side = side_of(fd, op != EPOLL_CTL_DEL)) < 0)
		return r;
	if (op == EPOLL_CTL_DEL) {
		pl_real.epoll_ctl(epfd, EPOLL_CTL_DEL, side, NULL);
	} else if (ev) {
		/* The side descriptor is only ever readable; an epoll descriptor
		 * cannot be the target of EPOLLEXCLUSIVE. */
		struct epoll_event sev = {
			.events = ev->events & (EPOLLIN | EPOLLRDNORM | EPOLLET | EPOLLONESHOT),
			.data = ev->data,
		};

		int saved = errno;

		if (pl_real.epoll_ctl(epfd, op, side, &sev) && errno == ENOENT && op == EPOLL_CTL_MOD)
			pl_real.epoll_ctl(epfd, EPOLL_CTL_ADD, side, &sev);
		errno = saved;
	}
	return r;
}
