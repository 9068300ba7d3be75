/*
 * emd's server: a UNIX SOCK_SEQPACKET listener and its clients, driven by one
 * epoll loop, non-blocking everywhere. Each packet a client sends is one
 * netlink datagram; its messages are taken in order, as the kernel's
 * netlink_rcv_skb() takes them, and answered through the client's output
 * queue. Output is sent at once when the socket has room and queued when it
 * has not (EAGAIN); while anything is queued or a dump is under way, the
 * client's further requests wait in its socket (back-pressure, as a kernel
 * socket's dump blocks further reads). Within one request datagram, once
 * queue_bytes are queued the rest of the datagram waits too (a copy of it,
 * at most max_request bytes), so what one client can make emd hold is
 * bounded whatever its requests ask for.
 * Dumps are produced one packet at a time, only when the previous one has
 * gone, and resume from the id they recorded. Events for the 'event' group
 * are the only output that may be dropped: a client whose queue holds
 * client_queue packets loses them, and gets one NLMSG_ERROR with -ENOBUFS
 * (the netlink overrun) before anything that follows the gap; other clients
 * are not affected.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/genetlink.h>

#include "emd.h"
#include "reload.h"
#include "spec_text.h"

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

/* emd_log - see emd.h. */
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

static void handle_dgram(struct emd *d, struct emd_client *c, const uint8_t *buf, size_t len);

/* ---- output --------------------------------------------------------------------- */

/* Register @c for what it can do now: read requests only when nothing waits. */
static void client_rearm(struct emd *d, struct emd_client *c)
{
	uint32_t want = (c->q_head || c->pend || c->dump.kind != EMD_DUMP_NONE) ? EPOLLOUT
										 : EPOLLIN;
	struct epoll_event ev = {.events = want, .data.ptr = c};

	if (c->closing || want == c->epoll_events)
		return;
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->epoll_events = want;
	else
		c->closing = true;
}

/* Append a copy of @buf to @c's queue. */
static int enqueue(struct emd_client *c, const void *buf, size_t len)
{
	struct emd_pkt *p = malloc(sizeof(*p) + len);

	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->len = len;
	memcpy(p->data, buf, len);
	if (c->q_tail)
		c->q_tail->next = p;
	else
		c->q_head = p;
	c->q_tail = p;
	c->q_len++;
	c->q_bytes += len;
	return 0;
}

/* Send one datagram without blocking: 0, -EAGAIN, or a fatal -errno. */
static int send_now(struct emd_client *c, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	if (errno == EMSGSIZE)
		emd_log("client %u: a %zu-byte packet exceeds its socket's send buffer", c->portid,
			len);
	return -errno;
}

/* The overrun notice: NLMSG_ERROR -ENOBUFS, sequence 0, with a message. */
static int put_overrun(struct emd *d, struct emd_client *c, uint8_t *buf, size_t size)
{
	struct nlmsghdr req = {.nlmsg_len = sizeof(req), .nlmsg_type = NLMSG_OVERRUN,
			       .nlmsg_pid = c->portid};
	struct emnl_error e;
	int n;

	(void)d;
	emnl_error_set(&e, -ENOBUFS, "event queue full: %llu events dropped",
		       (unsigned long long)c->events_dropped);
	n = emnl_extack_put(buf, size, &req, &e, true, true);
	if (n > 0)
		((struct nlmsghdr *)buf)->nlmsg_pid = c->portid;
	return n;
}

/* Produce and send dump packets until the dump is over or the socket is full. */
static int pump_dump(struct emd *d, struct emd_client *c)
{
	while (c->dump.kind != EMD_DUMP_NONE && !c->q_head) {
		struct emd_msg m;
		int done, err;

		emd_msg_init(&m, d->dumpbuf, c->max_packet, d->cfg.pad);
		if (c->dump.kind == EMD_DUMP_DOMAINS)
			done = emd_dump_domains_fill(d, c, &m);
		else
			done = emd_dump_families_fill(d, c, &m);
		if (done < 0)
			return done;
		if (done)
			c->dump.kind = EMD_DUMP_NONE;
		if (m.len == 0)
			continue;
		err = send_now(c, m.buf, m.len);
		if (err == -EAGAIN) {
			static_call(emd_count)(EMD_OP_DEFERRED);
			err = enqueue(c, m.buf, m.len); /* sent first when there is room */
		}
		if (err)
			return err;
	}
	return 0;
}

/* Send what is queued, the overrun notice, then more of a dump. */
static int flush(struct emd *d, struct emd_client *c)
{
	while (c->q_head) {
		struct emd_pkt *p = c->q_head;
		int err = send_now(c, p->data, p->len);

		if (err == -EAGAIN)
			return 0;
		if (err)
			return err;
		c->q_head = p->next;
		if (!c->q_head)
			c->q_tail = NULL;
		c->q_len--;
		c->q_bytes -= p->len;
		free(p);
	}
	if (c->pend) {
		/* The rest of a request datagram that was waiting for room. */
		handle_dgram(d, c, c->pend, c->pend_len);
		if (c->closing || c->q_head)
			return 0;
	}
	if (c->overrun) {
		uint8_t buf[256];
		int n = put_overrun(d, c, buf, sizeof(buf));

		if (n > 0) {
			int err = send_now(c, buf, (size_t)n);

			if (err == -EAGAIN)
				err = enqueue(c, buf, (size_t)n);
			if (err)
				return err;
		}
		c->overrun = false;
		c->events_dropped = 0;
	}
	return pump_dump(d, c);
}

/* emd_client_send - send or queue one packet; events beyond the bound are dropped. */
int emd_client_send(struct emd *d, struct emd_client *c, const void *buf, size_t len, bool event)
{
	int err;

	if (c->closing)
		return -EPIPE;
	if (event && (c->overrun || c->q_len >= d->cfg.client_queue ||
		      (d->cfg.queue_bytes && c->q_bytes >= d->cfg.queue_bytes))) {
		c->overrun = true;
		c->events_dropped++;
		static_call(emd_count)(EMD_OP_DROPPED);
		return -ENOBUFS;
	}
	if (!c->q_head) {
		err = send_now(c, buf, len);
		if (err != -EAGAIN) {
			if (err)
				c->closing = true;
			return err;
		}
		static_call(emd_count)(EMD_OP_DEFERRED);
	}
	err = enqueue(c, buf, len);
	if (err)
		c->closing = true;
	client_rearm(d, c);
	return err;
}

/* emd_client_error - NLMSG_ERROR with extended ack TLVs (capped, as if the
 * client had set NETLINK_EXT_ACK and NETLINK_CAP_ACK). */
int emd_client_error(struct emd *d, struct emd_client *c, const struct nlmsghdr *req,
		     const struct emnl_error *e)
{
	uint8_t buf[512];
	int n;

	if (e->err)
		static_call(emd_count)(EMD_OP_ERROR);
	n = emnl_extack_put(buf, sizeof(buf), req, e, true, true);
	if (n < 0)
		return n;
	((struct nlmsghdr *)buf)->nlmsg_pid = c->portid;
	return emd_client_send(d, c, buf, (size_t)n, false);
}

/* emd_multicast - an event to every member of the group. */
void emd_multicast(struct emd *d, const void *buf, size_t len)
{
	for (struct emd_client *c = d->clients; c; c = c->next)
		if (c->subscribed)
			emd_client_send(d, c, buf, len, true);
}

/* ---- input ---------------------------------------------------------------------- */

/* An ack (err 0) when the request asked for one; for messages that are not handled. */
static void ack_if_asked(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh)
{
	struct emnl_error ok = {0};

	if (nlh->nlmsg_flags & NLM_F_ACK)
		emd_client_error(d, c, nlh, &ok);
}

/* One message of a request datagram. */
static void handle_msg(struct emd *d, struct emd_client *c, const struct nlmsghdr *nlh)
{
	int err = 0;

	if (!(nlh->nlmsg_flags & NLM_F_REQUEST) || nlh->nlmsg_type < NLMSG_MIN_TYPE) {
		ack_if_asked(d, c, nlh); /* not a request: the kernel skips it too */
	} else if (nlh->nlmsg_type == EMD_CTRL_ID) {
		err = emd_ctrl_request(d, c, nlh);
	} else if (nlh->nlmsg_type == EMD_FAMILY_ID) {
		err = emd_family_request(d, c, nlh);
	} else {
		struct emnl_error e;

		err = emnl_error_set(&e, -ENOENT, "no family with id %u", nlh->nlmsg_type);
		emd_client_error(d, c, nlh, &e);
	}
	static_call(emd_trace)(c, nlh, err);
}

/*
 * One datagram: its whole messages, in order. When a message leaves more than
 * queue_bytes queued for the client, the rest of the datagram is kept in
 * c->pend and handled when the queue has drained (flush). @buf may be
 * c->pend itself.
 */
static void handle_dgram(struct emd *d, struct emd_client *c, const uint8_t *buf, size_t len)
{
	size_t off = buf == c->pend ? c->pend_off : 0;

	while (len - off >= NLMSG_HDRLEN && !c->closing) {
		const struct nlmsghdr *nlh = (const void *)(buf + off);
		size_t mlen = nlh->nlmsg_len, step;

		if (mlen < NLMSG_HDRLEN || mlen > len - off) {
			struct emnl_error e;
			struct nlmsghdr hdr = *nlh;

			/* The kernel drops such a datagram silently; we say why. */
			hdr.nlmsg_len = NLMSG_HDRLEN;
			emnl_error_set(&e, -EINVAL, "bad nlmsg_len %zu (%zu bytes left in the packet)",
				       mlen, len - off);
			emd_client_error(d, c, &hdr, &e);
			break;
		}
		handle_msg(d, c, nlh);
		step = NLMSG_ALIGN(mlen);
		off = step >= len - off ? len : off + step;
		if (off < len && d->cfg.queue_bytes && c->q_bytes >= d->cfg.queue_bytes) {
			/* Enough waits for this client: the rest waits too. */
			if (buf != c->pend) {
				c->pend = malloc(len);
				if (!c->pend) {
					c->closing = true;
					return;
				}
				memcpy(c->pend, buf, len);
				c->pend_len = len;
			}
			c->pend_off = off;
			return;
		}
	}
	if (buf == c->pend) {
		free(c->pend);
		c->pend = NULL;
		c->pend_len = c->pend_off = 0;
	}
}

/* Read requests while the client has nothing waiting to go out. */
static void client_readable(struct emd *d, struct emd_client *c)
{
	for (int budget = 32; budget > 0 && !c->closing; budget--) {
		ssize_t n;

		if (c->q_head || c->pend || c->dump.kind != EMD_DUMP_NONE)
			break;
		n = recv(c->fd, d->rxbuf, d->cfg.max_request, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->closing = true;
			break;
		}
		if (n == 0) {
			c->closing = true;
			break;
		}
		if ((size_t)n > d->cfg.max_request) {
			struct nlmsghdr hdr;
			struct emnl_error e;

			memcpy(&hdr, d->rxbuf, sizeof(hdr));
			hdr.nlmsg_len = sizeof(hdr);
			emnl_error_set(&e, -EMSGSIZE, "request of %zd bytes exceeds the limit of %zu",
				       n, d->cfg.max_request);
			emd_client_error(d, c, &hdr, &e);
			continue;
		}
		handle_dgram(d, c, d->rxbuf, (size_t)n);
		if (flush(d, c))
			c->closing = true;
	}
	client_rearm(d, c);
}

/* ---- clients -------------------------------------------------------------------- */

/* Take every pending connection. */
static void accept_clients(struct emd *d)
{
	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct emd_client *c;
		struct epoll_event ev;
		int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				emd_log("accept: %s", strerror(errno));
			return;
		}
		if (d->nr_clients >= d->cfg.max_clients) {
			emd_log("refusing a client: %u clients is the limit", d->cfg.max_clients);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cred.pid > 0)
			c->portid = (uint32_t)cred.pid;
		if (d->cfg.sndbuf > 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &d->cfg.sndbuf, sizeof(d->cfg.sndbuf));
		/* A datagram larger than the send buffer (less 32 bytes) is refused
		 * with EMSGSIZE, so dump packets are cut to fit it. */
		{
			int sb = 0;
			socklen_t sl = sizeof(sb);

			c->max_packet = EMNL_DGRAM_MAX;
			if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, &sl) == 0 && sb > 32 &&
			    (size_t)sb - 32 < c->max_packet)
				c->max_packet = (size_t)sb - 32;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->epoll_events = EPOLLIN;
		c->next = d->clients;
		if (d->clients)
			d->clients->prev = c;
		d->clients = c;
		d->nr_clients++;
	}
}

/* Close and free one client. */
static void client_free(struct emd *d, struct emd_client *c)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pend);
	while (c->q_head) {
		struct emd_pkt *p = c->q_head;

		c->q_head = p->next;
		free(p);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		d->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->nr_clients--;
	free(c);
}

/* Free the clients marked closing (after a batch of events, never during one). */
static void sweep(struct emd *d)
{
	struct emd_client *c = d->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->closing)
			client_free(d, c);
	}
}

/* ---- the listener --------------------------------------------------------------- */

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

int emd_specs_load(struct emd *d, struct emnl_error *e)
{
	d->spec = emnl_spec_parse(emd_spec_dev_energymodel, strlen(emd_spec_dev_energymodel), e);
	if (d->spec)
		d->ctrl_spec = emnl_spec_parse(emd_spec_nlctrl, strlen(emd_spec_nlctrl), e);
	return d->spec && d->ctrl_spec ? 0 : -EINVAL;
}

/* emd_server_open - listener, signals, epoll. */
int emd_server_open(struct emd *d)
{
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t set;

	d->rxbuf = malloc(d->cfg.max_request > EMNL_DGRAM_MAX ? d->cfg.max_request : EMNL_DGRAM_MAX);
	d->txbuf = malloc(EMNL_DGRAM_MAX);
	d->dumpbuf = malloc(EMNL_DGRAM_MAX);
	if (!d->rxbuf || !d->txbuf || !d->dumpbuf)
		return -ENOMEM;
	d->lfd = activated_socket();
	if (d->lfd < 0) {
		d->lfd = listen_on(d);
		if (d->lfd < 0)
			return d->lfd;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->epfd < 0)
		return -errno;
	ev.data.ptr = &d->lfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->lfd, &ev))
		return -errno;
	ev.data.ptr = &d->sigfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev))
		return -errno;
	if (d->inofd >= 0) {
		ev.data.ptr = &d->inofd;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->inofd, &ev))
			return -errno;
	}
	return 0;
}

/* emd_server_close - every client, the listener, the socket file. */
void emd_server_close(struct emd *d)
{
	while (d->clients)
		client_free(d, d->clients);
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->unlink_socket)
		unlink(d->cfg.socket_path);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d->rxbuf);
	free(d->txbuf);
	free(d->dumpbuf);
	d->rxbuf = d->txbuf = d->dumpbuf = NULL;
	d->lfd = d->sigfd = d->epfd = -1;
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

/* emd_server_run - the event loop, until SIGTERM or SIGINT. */
int emd_server_run(struct emd *d)
{
	struct epoll_event evs[64];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &d->lfd) {
				accept_clients(d);
			} else if (p == &d->sigfd) {
				handle_signals(d);
			} else if (p == &d->inofd) {
				if (emd_model_watch_event(d))
					reload(d, "the model file changed");
			} else {
				struct emd_client *c = p;

				if (c->closing)
					continue;
				if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
					/* Gone: nothing queued can be delivered. */
					c->closing = true;
					continue;
				}
				if (evs[i].events & EPOLLOUT) {
					if (flush(d, c))
						c->closing = true;
				}
				if (evs[i].events & EPOLLIN)
					client_readable(d, c);
				else
					client_rearm(d, c);
			}
		}
		sweep(d);
	}
	return 0;
}
