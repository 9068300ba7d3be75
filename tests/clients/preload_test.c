/*
 * The preload library's behaviour on a program's netlink socket, against the
 * real emd and the real kernel (TAP).
 *
 * The driver (no arguments) starts emd on a temporary socket and runs each
 * case as a separate program, `emctl exec --socket S -- preload_test --case
 * NAME`, so the case runs exactly as an unmodified program under the wrapper
 * does. A case prints "!reload" when it wants the model changed (the driver
 * swaps the model file, sends SIGHUP and waits for emd's READY=1), and exits
 * 0 or 1 with its diagnostics on stdout.
 *
 * The kernel's rules are the oracle wherever it has one: the same request
 * answered by the kernel's own nlctrl on the same socket, or on a socket the
 * library does not see (opened with raw system calls), and the rules of
 * net/netlink/af_netlink.c (netlink_ack(), netlink_recvmsg()) cited where
 * they are checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "genl_req.h"

extern char **environ;

#define FAMILY "dev-energymodel"
#define CMD_GET_PERF_DOMAINS 1
#define CMD_GET_PERF_TABLE 2
#define CMD_PERF_DOMAIN_UPDATED 4

/* ---- checks (in a case) --------------------------------------------------------- */

static const char *case_name = "";

#define CHECK(cond, ...)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			printf("# %s:%d: %s: check failed: %s\n", __FILE__, __LINE__, case_name, \
			       #cond);                                                        \
			printf("# " __VA_ARGS__);                                             \
			printf("\n");                                                         \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

/* ---- netlink helpers (in a case) ------------------------------------------------ */

static uint32_t next_seq = 1000;

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);

	CHECK(fd >= 0, "socket: %s", strerror(errno));
	return fd;
}

static void set_opt(int fd, int name, int v)
{
	CHECK(setsockopt(fd, SOL_NETLINK, name, &v, sizeof(v)) == 0, "setsockopt %d: %s", name,
	      strerror(errno));
}

static uint32_t portid_of(int fd)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);

	CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0, "getsockname");
	CHECK(len == sizeof(sa) && sa.nl_family == AF_NETLINK, "getsockname: a netlink address");
	return sa.nl_pid;
}

/* A genetlink request in @buf. */
static struct nlmsghdr *req(void *buf, uint16_t type, uint16_t flags, uint8_t cmd)
{
	return req_begin(buf, type, NLM_F_REQUEST | flags, ++next_seq, cmd, 1);
}

static struct nlmsghdr *getfamily(void *buf, const char *name, uint16_t flags)
{
	struct nlmsghdr *nlh = req(buf, GENL_ID_CTRL, flags, CTRL_CMD_GETFAMILY);

	if (name)
		mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	return nlh;
}

static void send_all(int fd, const void *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, 0);

	CHECK(n == (ssize_t)len, "send: %zd (%s)", n, strerror(errno));
}

static void send_msg(int fd, const struct nlmsghdr *nlh)
{
	send_all(fd, nlh, nlh->nlmsg_len);
}

/* One datagram, waiting up to 10 s (a hang guard, not a measurement). */
static size_t recv_dgram(int fd, void *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	CHECK(poll(&p, 1, 10000) == 1, "nothing to read in 10 s");
	n = recv(fd, buf, size, 0);
	CHECK(n > 0, "recv: %zd (%s)", n, strerror(errno));
	return (size_t)n;
}

/* The family id and first group id from a NEWFAMILY message. */
struct family {
	uint16_t id;
	uint32_t group;
	char group_name[32];
};

static int group_cb(const struct nlattr *a, void *data)
{
	struct family *f = data;
	const struct nlattr *g;

	mnl_attr_for_each_nested(g, a) {
		if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_ID && !f->group)
			f->group = mnl_attr_get_u32(g);
		if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_NAME && !f->group_name[0])
			snprintf(f->group_name, sizeof(f->group_name), "%s", mnl_attr_get_str(g));
	}
	return MNL_CB_OK;
}

static struct family parse_family(const struct nlmsghdr *nlh)
{
	struct family f = {0};
	const struct nlattr *a;

	CHECK(nlh->nlmsg_type == GENL_ID_CTRL, "a nlctrl message, type %u", nlh->nlmsg_type);
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			f.id = mnl_attr_get_u16(a);
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS) {
			const struct nlattr *g;

			mnl_attr_for_each_nested(g, a)
				group_cb(g, &f);
		}
	}
	return f;
}

/* Resolve dev-energymodel on @fd. */
static struct family resolve(int fd)
{
	uint8_t buf[8192];
	const struct nlmsghdr *nlh = getfamily(buf, FAMILY, 0);
	uint32_t seq = nlh->nlmsg_seq;
	struct family f;

	send_msg(fd, nlh);
	recv_dgram(fd, buf, sizeof(buf));
	nlh = (const void *)buf;
	CHECK(nlh->nlmsg_seq == seq, "the reply's sequence number");
	f = parse_family(nlh);
	CHECK(f.id && f.group && !strcmp(f.group_name, "event"), "a family with its group 'event'");
	return f;
}

/* A raw-syscall netlink socket: the library does not see it (the kernel's
 * answers, untouched, for comparison). */
static int raw_open(void)
{
	int fd = (int)syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);

	CHECK(fd >= 0, "raw socket");
	return fd;
}

static size_t raw_call(int fd, const struct nlmsghdr *nlh, void *buf, size_t size)
{
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	long n = syscall(SYS_sendto, fd, nlh, nlh->nlmsg_len, 0, &k, sizeof(k));

	CHECK(n == (long)nlh->nlmsg_len, "raw sendto");
	n = syscall(SYS_recvfrom, fd, buf, size, 0, NULL, NULL);
	CHECK(n > 0, "raw recvfrom");
	return (size_t)n;
}

/* The reply to get-perf-domains do for @id, on @fd (family @fam). */
static const struct nlmsghdr *get_pd(int fd, uint16_t fam, uint32_t id, void *buf, size_t size)
{
	struct nlmsghdr *nlh = req(buf, fam, 0, CMD_GET_PERF_DOMAINS);
	uint32_t seq = nlh->nlmsg_seq;

	mnl_attr_put_u32(nlh, 2, id);
	send_msg(fd, nlh);
	recv_dgram(fd, buf, size);
	nlh = buf;
	CHECK(nlh->nlmsg_type == fam, "a get-perf-domains reply of type %#x, got %#x", fam,
	      nlh->nlmsg_type);
	CHECK(nlh->nlmsg_seq == seq, "its sequence number");
	return nlh;
}

static uint32_t attr_u32(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == type)
			return mnl_attr_get_u32(a);
	CHECK(0, "attribute %u missing", type);
	return 0;
}

/* Ask the driver for a reload and wait until it is done. */
static void reload(void)
{
	char line[64];

	printf("!reload\n");
	fflush(stdout);
	CHECK(fgets(line, sizeof(line), stdin) && !strcmp(line, "done\n"), "the driver reloads");
}

/* ---- cases ---------------------------------------------------------------------- */

/* Ids the kernel uses, from the driver: "--kernel-ids F,F,...;G,G,..." */
static bool listed(const char *list, unsigned long id)
{
	char *end;

	while (list && *list && *list != ';') {
		if (strtoul(list, &end, 0) == id)
			return true;
		list = *end == ',' ? end + 1 : end;
	}
	return false;
}

/* GETFAMILY by name and by id; a request of the family; addresses and port ids. */
static int case_resolve(const char *kernel_ids)
{
	uint8_t buf[8192];
	struct sockaddr_nl from, any = {.nl_family = AF_NETLINK};
	socklen_t fromlen = sizeof(from);
	struct nlmsghdr *nlh;
	/* A first socket takes the process's pid as its port id: ours gets
	 * another, so that replies carrying emd's idea of it (our pid) show. */
	int first = raw_open(), fd;
	struct family f, g;
	uint32_t port;
	ssize_t n;

	CHECK(syscall(SYS_bind, first, &any, sizeof(any)) == 0, "bind the first socket");
	fd = nl_open();
	f = resolve(fd);
	port = portid_of(fd);
	CHECK(port != (uint32_t)getpid(), "a port id other than the pid");

	printf("# family %#x, group 'event' %u, port %u\n", f.id, f.group, port);
	CHECK(port != 0, "sending bound the socket, as netlink_sendmsg() autobinds");
	CHECK(!listed(kernel_ids, f.id), "family id %#x is one the kernel uses (%s)", f.id,
	      kernel_ids);
	CHECK(strchr(kernel_ids, ';') && !listed(strchr(kernel_ids, ';') + 1, f.group),
	      "group %u is the kernel's", f.group);

	/* By the id handed out. */
	nlh = req(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, f.id);
	send_msg(fd, nlh);
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
	CHECK(n > 0, "recvfrom");
	g = parse_family((const void *)buf);
	CHECK(g.id == f.id && g.group == f.group, "GETFAMILY by id %#x names the same family", f.id);
	/* netlink_recvmsg(): the kernel's port 0, no group for a unicast. */
	CHECK(fromlen == sizeof(from) && from.nl_family == AF_NETLINK && from.nl_pid == 0 &&
		      from.nl_groups == 0,
	      "a sockaddr_nl of port 0 (len %u pid %u groups %#x)", fromlen, from.nl_pid,
	      from.nl_groups);
	CHECK(((struct nlmsghdr *)buf)->nlmsg_pid == port, "replies carry the socket's port id");

	nlh = (struct nlmsghdr *)get_pd(fd, f.id, 1, buf, sizeof(buf));
	CHECK(nlh->nlmsg_pid == port, "family replies carry the port id");
	CHECK(attr_u32(nlh, 2) == 1, "the domain asked for");

	/* The kernel's own families are answered by the kernel, unchanged. */
	{
		uint8_t a[8192], b[8192];
		int raw = raw_open();
		size_t na, nb;

		nlh = getfamily(buf, "nlctrl", 0);
		send_msg(fd, nlh);
		na = recv_dgram(fd, a, sizeof(a));
		nb = raw_call(raw, nlh, b, sizeof(b));
		((struct nlmsghdr *)a)->nlmsg_pid = ((struct nlmsghdr *)b)->nlmsg_pid = 0;
		CHECK(na == nb && !memcmp(a, b, na), "nlctrl's own answer is the kernel's bytes");
		close(raw);
	}
	close(fd);
	close(first);
	return 0;
}

/* One error or ack on a socket with the given options, answering @request:
 * checked against netlink_ack()'s rules. */
static void check_ack(const struct nlmsghdr *nlh, const struct nlmsghdr *request, bool ext,
		      bool cap, uint32_t port, const char *who)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	bool capped = !e->error || cap;
	size_t echo = capped ? sizeof(struct nlmsghdr) : request->nlmsg_len;
	size_t base = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(int) + echo);

	CHECK(nlh->nlmsg_type == NLMSG_ERROR, "%s: NLMSG_ERROR", who);
	CHECK(nlh->nlmsg_seq == request->nlmsg_seq && nlh->nlmsg_pid == port, "%s: seq and port",
	      who);
	/* "Error messages get the original request appended, unless the user
	 * requests to cap the error message": NLM_F_CAPPED otherwise. */
	CHECK(!!(nlh->nlmsg_flags & NLM_F_CAPPED) == capped, "%s: NLM_F_CAPPED %s (ext %d cap %d)",
	      who, capped ? "set" : "clear", ext, cap);
	CHECK(!memcmp(&e->msg, request, echo), "%s: echoes %zu bytes of the request", who, echo);
	/* TLVs only with NETLINK_EXT_ACK (netlink_ack_tlv_len()). */
	if (!ext)
		CHECK(!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) && nlh->nlmsg_len == base,
		      "%s: no TLVs without NETLINK_EXT_ACK (len %u, want %zu, flags %#x)", who,
		      nlh->nlmsg_len, base, nlh->nlmsg_flags);
	else
		CHECK(!!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) == (nlh->nlmsg_len > base),
		      "%s: NLM_F_ACK_TLVS iff TLVs follow", who);
}

/* emd's direct answer to @nlh (a connection of our own, not a netlink socket),
 * with its type changed to @emd_type. */
static size_t emd_direct(const struct nlmsghdr *nlh, uint16_t emd_type, void *buf, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t copy[4096];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", getenv("EMD_SOCKET"));
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect to emd");
	memcpy(copy, nlh, nlh->nlmsg_len);
	((struct nlmsghdr *)copy)->nlmsg_type = emd_type;
	CHECK(send(fd, copy, nlh->nlmsg_len, 0) == (ssize_t)nlh->nlmsg_len, "send to emd");
	n = recv(fd, buf, size, 0);
	CHECK(n > 0, "emd answers");
	close(fd);
	return (size_t)n;
}

/* emd's own id for its family. */
static uint16_t emd_family_id(void)
{
	uint8_t rq[256], buf[4096];
	const struct nlmsghdr *nlh = getfamily(rq, FAMILY, 0);

	emd_direct(nlh, GENL_ID_CTRL, buf, sizeof(buf));
	return parse_family((const void *)buf).id;
}

/* Acks and errors shaped by NETLINK_EXT_ACK and NETLINK_CAP_ACK, for emd's
 * family and, on the same socket, for the kernel's own nlctrl. */
static int case_acks(void)
{
	for (int opt = 0; opt < 4; opt++) {
		bool ext = opt & 1, cap = opt & 2;
		uint8_t rq[512], buf[8192], direct[4096];
		int fd = nl_open();
		struct family f = resolve(fd);
		uint32_t port = portid_of(fd);
		struct nlmsghdr *nlh;
		const struct nlmsgerr *e, *d;
		char who[64];

		if (ext)
			set_opt(fd, NETLINK_EXT_ACK, 1);
		if (cap)
			set_opt(fd, NETLINK_CAP_ACK, 1);

		/* An error from emd: get-perf-table for an id that does not exist. */
		nlh = req(rq, f.id, NLM_F_ACK, CMD_GET_PERF_TABLE);
		mnl_attr_put_u32(nlh, 1, 99);
		send_msg(fd, nlh);
		recv_dgram(fd, buf, sizeof(buf));
		snprintf(who, sizeof(who), "emd error (ext %d cap %d)", ext, cap);
		check_ack((const void *)buf, nlh, ext, cap, port, who);
		e = mnl_nlmsg_get_payload((const void *)buf);
		/* The errno, and with NETLINK_EXT_ACK the TLVs, are emd's own. */
		emd_direct(nlh, emd_family_id(), direct, sizeof(direct));
		d = mnl_nlmsg_get_payload((const void *)direct);
		CHECK(e->error == d->error && e->error < 0, "%s: emd's errno %d, got %d", who,
		      d->error, e->error);
		if (ext) {
			const struct nlmsghdr *got = (const void *)buf, *want = (const void *)direct;
			size_t gbase = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(int) + (cap ? 16 : nlh->nlmsg_len));
			size_t wbase = MNL_NLMSG_HDRLEN + sizeof(int) + 16;

			CHECK(got->nlmsg_len - gbase == want->nlmsg_len - wbase &&
				      !memcmp(buf + gbase, direct + wbase, got->nlmsg_len - gbase),
			      "%s: emd's TLVs", who);
		}

		/* A success ack from emd: reply, then the ack. */
		nlh = req(rq, f.id, NLM_F_ACK, CMD_GET_PERF_TABLE);
		mnl_attr_put_u32(nlh, 1, 0);
		send_msg(fd, nlh);
		recv_dgram(fd, buf, sizeof(buf));
		CHECK(((struct nlmsghdr *)buf)->nlmsg_type == f.id, "the reply first");
		recv_dgram(fd, buf, sizeof(buf));
		snprintf(who, sizeof(who), "emd ack (ext %d cap %d)", ext, cap);
		check_ack((const void *)buf, nlh, ext, cap, port, who);
		CHECK(((struct nlmsgerr *)mnl_nlmsg_get_payload((const void *)buf))->error == 0,
		      "%s: error 0", who);

		/* The kernel on the same socket obeys the rules checked above. */
		nlh = getfamily(rq, "emkit-no-such-family", NLM_F_ACK);
		send_msg(fd, nlh);
		recv_dgram(fd, buf, sizeof(buf));
		snprintf(who, sizeof(who), "kernel error (ext %d cap %d)", ext, cap);
		check_ack((const void *)buf, nlh, ext, cap, port, who);
		nlh = getfamily(rq, "nlctrl", NLM_F_ACK);
		send_msg(fd, nlh);
		recv_dgram(fd, buf, sizeof(buf));
		recv_dgram(fd, buf, sizeof(buf));
		snprintf(who, sizeof(who), "kernel ack (ext %d cap %d)", ext, cap);
		check_ack((const void *)buf, nlh, ext, cap, port, who);
		close(fd);
	}
	return 0;
}

/* MSG_PEEK, MSG_TRUNC and truncation, the same for emd's datagrams and the
 * kernel's (netlink_recvmsg(): a short buffer gets MSG_TRUNC and the datagram
 * is gone; with MSG_TRUNC in flags the whole length is returned). */
static int case_peek(void)
{
	int fd = nl_open();
	struct family f = resolve(fd);

	for (int src = 0; src < 2; src++) {
		const char *who = src ? "kernel" : "emd";
		uint8_t buf[8192], small[20];
		struct iovec iov = {.iov_base = small, .iov_len = sizeof(small)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		struct nlmsghdr *nlh;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t full, n;

		if (src) {
			nlh = getfamily(buf, "nlctrl", 0);
		} else {
			nlh = req(buf, f.id, 0, CMD_GET_PERF_TABLE);
			mnl_attr_put_u32(nlh, 1, 0);
		}
		send_msg(fd, nlh);
		CHECK(poll(&p, 1, 10000) == 1, "%s: a reply", who);
		full = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		CHECK(full > (ssize_t)sizeof(small), "%s: a size probe says %zd", who, full);
		n = recvmsg(fd, &mh, MSG_PEEK);
		CHECK(n == sizeof(small) && (mh.msg_flags & MSG_TRUNC), "%s: peek into 20 bytes: %zd",
		      who, n);
		n = recv(fd, buf, sizeof(buf), MSG_PEEK);
		CHECK(n == full, "%s: the whole datagram still there: %zd", who, n);
		n = recvmsg(fd, &mh, MSG_TRUNC);
		CHECK(n == full && (mh.msg_flags & MSG_TRUNC), "%s: MSG_TRUNC returns the length", who);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		CHECK(n < 0 && errno == EAGAIN, "%s: the truncated datagram was consumed", who);
	}

	/* Peek, then the read takes the datagram peeked at, though emd's answer
	 * (which would otherwise come first) arrived in between. */
	{
		uint8_t buf[8192];
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct nlmsghdr *nlh = getfamily(buf, "nlctrl", 0);
		ssize_t full, n;

		send_msg(fd, nlh);
		CHECK(poll(&p, 1, 10000) == 1, "the kernel's answer");
		full = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		nlh = req(buf, f.id, 0, CMD_GET_PERF_DOMAINS);
		mnl_attr_put_u32(nlh, 2, 0);
		send_msg(fd, nlh);
		usleep(100000); /* emd answers meanwhile (if not, this proves less) */
		n = recv(fd, buf, (size_t)full, 0);
		CHECK(n == full && ((struct nlmsghdr *)buf)->nlmsg_type == GENL_ID_CTRL,
		      "the peeked datagram (%zd bytes, type %#x)", n, ((struct nlmsghdr *)buf)->nlmsg_type);
		recv_dgram(fd, buf, sizeof(buf));
		CHECK(((struct nlmsghdr *)buf)->nlmsg_type == f.id, "then emd's");
	}
	close(fd);
	return 0;
}

/* One datagram: kernel, emd, emd, kernel messages; each answered once. */
static int case_mixed(void)
{
	uint8_t dgram[4096], buf[8192];
	int fd = nl_open();
	struct family f = resolve(fd);
	size_t len = 0;
	uint32_t seqs[4];
	int seen[4] = {0}, got = 0;
	struct nlmsghdr *nlh;

	nlh = getfamily(dgram + len, "nlctrl", 0);
	seqs[0] = nlh->nlmsg_seq;
	len += nlh->nlmsg_len;
	nlh = getfamily(dgram + len, FAMILY, 0);
	seqs[1] = nlh->nlmsg_seq;
	len += nlh->nlmsg_len;
	nlh = req(dgram + len, f.id, 0, CMD_GET_PERF_DOMAINS);
	mnl_attr_put_u32(nlh, 2, 1);
	seqs[2] = nlh->nlmsg_seq;
	len += nlh->nlmsg_len;
	nlh = getfamily(dgram + len, "nlctrl", NLM_F_ACK);
	seqs[3] = nlh->nlmsg_seq;
	len += nlh->nlmsg_len;
	send_all(fd, dgram, len);
	while (got < 5) { /* four replies and the ack */
		int n = (int)recv_dgram(fd, buf, sizeof(buf));

		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
			int i;

			for (i = 0; i < 4 && seqs[i] != nlh->nlmsg_seq; i++)
				;
			CHECK(i < 4, "an answer to one of the four (seq %u)", nlh->nlmsg_seq);
			seen[i]++;
			got++;
			if (i == 1)
				CHECK(parse_family(nlh).id == f.id, "dev-energymodel from emd");
			if (i == 2)
				CHECK(nlh->nlmsg_type == f.id && attr_u32(nlh, 2) == 1, "domain 1");
			if (i == 0 || (i == 3 && nlh->nlmsg_type != NLMSG_ERROR))
				CHECK(parse_family(nlh).id == GENL_ID_CTRL, "nlctrl from the kernel");
		}
	}
	CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 2, "each once (%d %d %d %d)",
	      seen[0], seen[1], seen[2], seen[3]);
	close(fd);
	return 0;
}

/* poll, select, epoll (level, edge, one-shot) wake for emd's answers. */
static int case_wait(void)
{
	uint8_t buf[8192];
	int fd = nl_open(), ep = epoll_create1(0);
	struct family f = resolve(fd);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xabcdef}, out[4];
	fd_set rd;
	struct timeval tv = {10, 0};
	int replies;

	CHECK(poll(&p, 1, 0) == 0, "poll: nothing yet");
	get_pd(fd, f.id, 0, buf, sizeof(buf)); /* recv_dgram waits in poll() */

	send_msg(fd, req(buf, f.id, NLM_F_DUMP, CMD_GET_PERF_DOMAINS));
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	CHECK(select(fd + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &rd), "select wakes");
	CHECK(recv(fd, buf, sizeof(buf), 0) > 0, "the dump");
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	tv = (struct timeval){0, 0};
	CHECK(select(fd + 1, &rd, NULL, NULL, &tv) == 0 && !FD_ISSET(fd, &rd),
	      "select: nothing left after the dump (one packet)");

	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl ADD");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "epoll: nothing yet");
	send_msg(fd, req(buf, f.id, 0, CMD_GET_PERF_DOMAINS)); /* no id: an error */
	CHECK(epoll_wait(ep, out, 4, 10000) == 1 && out[0].data.u64 == 0xabcdef,
	      "epoll (level) wakes with the program's data");
	CHECK(recv(fd, buf, sizeof(buf), 0) > 0, "the answer (an error: no id given)");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "epoll: nothing left");

	/* Edge-triggered: two answers, read until EAGAIN after each wake-up. */
	ev.events = EPOLLIN | EPOLLET;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0, "epoll_ctl MOD");
	for (int i = 0; i < 2; i++) {
		struct nlmsghdr *nlh = req(buf, f.id, 0, CMD_GET_PERF_DOMAINS);

		mnl_attr_put_u32(nlh, 2, (uint32_t)i);
		send_msg(fd, nlh);
	}
	for (replies = 0; replies < 2;) {
		CHECK(epoll_wait(ep, out, 4, 10000) == 1, "epoll (edge) wakes, %d read", replies);
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			replies++;
		CHECK(errno == EAGAIN, "read until EAGAIN");
	}
	/* The kernel's answers wake it too. */
	send_msg(fd, getfamily(buf, "nlctrl", 0));
	CHECK(epoll_wait(ep, out, 4, 10000) == 1, "epoll wakes for the kernel");
	CHECK(recv(fd, buf, sizeof(buf), 0) > 0, "nlctrl's answer");

	/* One-shot: disarmed after one event until MOD re-arms it. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0, "epoll_ctl MOD one-shot");
	send_msg(fd, req(buf, f.id, NLM_F_DUMP, CMD_GET_PERF_DOMAINS));
	CHECK(epoll_wait(ep, out, 4, 10000) == 1, "one-shot: the first event");
	CHECK(recv(fd, buf, sizeof(buf), 0) > 0, "the dump");
	send_msg(fd, req(buf, f.id, NLM_F_DUMP, CMD_GET_PERF_DOMAINS));
	CHECK(poll(&p, 1, 10000) == 1, "the second dump is there");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "one-shot: disarmed");
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0, "re-arm");
	CHECK(epoll_wait(ep, out, 4, 10000) == 1, "re-armed: the pending dump wakes it");
	CHECK(recv(fd, buf, sizeof(buf), 0) > 0, "the second dump");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0, "epoll_ctl DEL");
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "removed: the side descriptor too");
	close(ep);
	close(fd);
	return 0;
}

/* Wait for one notification of @fam (skipping nothing): returns its datagram. */
static size_t recv_event(int fd, void *buf, size_t size, struct sockaddr_nl *from,
			 struct msghdr *mh)
{
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	mh->msg_name = from;
	mh->msg_namelen = sizeof(*from);
	mh->msg_iov = &iov;
	mh->msg_iovlen = 1;
	CHECK(poll(&p, 1, 10000) == 1, "an event within 10 s");
	n = recvmsg(fd, mh, 0);
	CHECK(n > 0, "recvmsg: %s", strerror(errno));
	return (size_t)n;
}

/* Joining 'event' with NETLINK_ADD_MEMBERSHIP or bind(); leaving. */
static int case_events(void)
{
	uint8_t buf[8192], ctl[256];
	int fd = nl_open(), one = 1;
	struct family f = resolve(fd);
	struct sockaddr_nl from, sa = {.nl_family = AF_NETLINK};
	struct msghdr mh = {0};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint32_t groups[32] = {0};
	socklen_t glen = sizeof(groups);
	const struct nlmsghdr *nlh = (const void *)buf;
	struct cmsghdr *c;
	bool pktinfo = false;

	(void)one;

	/* An answer not read yet when joining: the join waits for emd's ack
	 * behind it, and the answer is still the next thing to read. */
	nlh = req(buf, f.id, 0, CMD_GET_PERF_DOMAINS);
	mnl_attr_put_u32((struct nlmsghdr *)buf, 2, 1);
	send_msg(fd, nlh);
	CHECK(poll(&p, 1, 10000) == 1, "the answer is there");
	CHECK(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &f.group, sizeof(f.group)) == 0,
	      "ADD_MEMBERSHIP %u: %s", f.group, strerror(errno));
	CHECK(poll(&p, 1, 0) == 1, "still readable after joining");
	recv_dgram(fd, buf, sizeof(buf));
	CHECK(nlh->nlmsg_type == f.id && attr_u32(nlh, 2) == 1, "the answer read before the join");
	CHECK(getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &glen) == 0 &&
		      (groups[(f.group - 1) / 32] >> ((f.group - 1) % 32) & 1),
	      "LIST_MEMBERSHIPS shows the group");
	set_opt(fd, NETLINK_PKTINFO, 1);
	reload();
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	recv_event(fd, buf, sizeof(buf), &from, &mh);
	CHECK(nlh->nlmsg_type == f.id && nlh->nlmsg_seq == 0 && nlh->nlmsg_pid == 0,
	      "a notification of the family (type %#x seq %u pid %u)", nlh->nlmsg_type,
	      nlh->nlmsg_seq, nlh->nlmsg_pid);
	CHECK(((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd ==
		      CMD_PERF_DOMAIN_UPDATED,
	      "perf-domain-updated");
	CHECK(attr_u32(nlh, 1) == 1, "for domain 1");
	/* netlink_recvmsg(): nl_groups = netlink_group_mask(dst_group); PKTINFO. */
	CHECK(from.nl_pid == 0 && from.nl_groups == 1u << ((f.group - 1) % 32),
	      "from the group (groups %#x)", from.nl_groups);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_NETLINK && c->cmsg_type == NETLINK_PKTINFO)
			pktinfo = ((struct nl_pktinfo *)CMSG_DATA(c))->group == f.group;
	CHECK(pktinfo, "NETLINK_PKTINFO names the group");

	CHECK(setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &f.group, sizeof(f.group)) == 0,
	      "DROP_MEMBERSHIP");
	reload();
	/* A request after the reload: its answer comes after any event emd sent. */
	get_pd(fd, f.id, 0, buf, sizeof(buf));
	CHECK(poll(&p, 1, 0) == 0, "left: no event");

	/* bind() with the group in nl_groups (groups 1..32 only). */
	sa.nl_pid = portid_of(fd);
	sa.nl_groups = 1u << (f.group - 1);
	CHECK(f.group <= 32 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind groups: %s",
	      strerror(errno));
	reload();
	memset(&mh, 0, sizeof(mh));
	recv_event(fd, buf, sizeof(buf), &from, &mh);
	CHECK(nlh->nlmsg_type == f.id && attr_u32(nlh, 1) == 1, "the event after bind()");
	close(fd);
	return 0;
}

/* A member that does not read: one ENOBUFS, then events again. */
static int case_overrun(bool no_enobufs)
{
	uint8_t buf[8192];
	int fd = nl_open(), enobufs = 0, events = 0;
	struct family f = resolve(fd);
	ssize_t n;

	if (no_enobufs)
		set_opt(fd, NETLINK_NO_ENOBUFS, 1);
	CHECK(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &f.group, sizeof(f.group)) == 0,
	      "join");
	for (int i = 0; i < 40; i++)
		reload();
	/* A request: emd answers it only after what it queued for us and the
	 * overrun notice (docs/emd.md, slow subscribers). */
	send_msg(fd, req(buf, f.id, 0, CMD_GET_PERF_DOMAINS));
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		CHECK(poll(&p, 1, 10000) == 1, "more to read");
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			enobufs++;
			continue;
		}
		CHECK(n > 0, "recv: %s", strerror(errno));
		if (((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR)
			break; /* the request's answer */
		CHECK(enobufs == 0, "no event between the overrun and the answer");
		events++;
	}
	errno = EAGAIN;
	printf("# %d events before and after %d ENOBUFS\n", events, enobufs);
	CHECK(events < 40, "events were dropped (%d of 40 arrived)", events);
	CHECK(enobufs == (no_enobufs ? 0 : 1), "ENOBUFS %s", no_enobufs ? "never" : "once");
	reload();
	recv_dgram(fd, buf, sizeof(buf));
	CHECK(((struct nlmsghdr *)buf)->nlmsg_type == f.id, "events flow again");
	close(fd);
	return 0;
}

/* A child shares the socket (fork); an exec'd program keeps the library. */
static int case_fork(const char *self)
{
	uint8_t buf[8192];
	int fd = nl_open(), status;
	struct family f = resolve(fd);
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		case_name = "fork (child)";
		CHECK(attr_u32(get_pd(fd, f.id, 1, buf, sizeof(buf)), 2) == 1, "the child asks");
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the child's request on the inherited socket");
	CHECK(attr_u32(get_pd(fd, f.id, 0, buf, sizeof(buf)), 2) == 0, "the parent asks after");
	close(fd);

	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		execl(self, self, "--case", "resolve-only", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "an exec'd program resolves the family (status %d)", status);
	return 0;
}

static int case_resolve_only(void)
{
	resolve(nl_open());
	return 0;
}

/* Without emd, dev-energymodel is the kernel's business: the kernel's answer,
 * byte for byte, on the wrapped socket. */
static int case_absent(void)
{
	uint8_t a[4096], b[4096], rq[512];
	int fd = nl_open(), raw = raw_open();
	struct nlmsghdr *nlh = getfamily(rq, FAMILY, NLM_F_ACK);
	size_t na, nb;

	set_opt(fd, NETLINK_EXT_ACK, 1);
	CHECK(syscall(SYS_setsockopt, raw, SOL_NETLINK, NETLINK_EXT_ACK, &(int){1}, sizeof(int)) == 0,
	      "raw setsockopt");
	send_msg(fd, nlh);
	na = recv_dgram(fd, a, sizeof(a));
	nb = raw_call(raw, nlh, b, sizeof(b));
	CHECK(((struct nlmsgerr *)mnl_nlmsg_get_payload((void *)a))->error == -ENOENT,
	      "GETFAMILY: -ENOENT");
	((struct nlmsghdr *)a)->nlmsg_pid = ((struct nlmsghdr *)b)->nlmsg_pid = 0;
	CHECK(na == nb && !memcmp(a, b, na), "the kernel's answer (%zu and %zu bytes)", na, nb);
	close(fd);
	close(raw);
	return 0;
}

/* The ids handed out when the usual ones are taken (EMKIT_PRELOAD_AVOID_*). */
static int case_remap(void)
{
	uint8_t buf[8192];
	int fd = nl_open();
	struct family f = resolve(fd);
	struct nlmsghdr *nlh;
	struct sockaddr_nl from;
	struct msghdr mh = {0};

	printf("# family %#x, group %u\n", f.id, f.group);
	CHECK(f.id == 0x3fe && f.group == 31, "the next highest free ids");
	CHECK(attr_u32(get_pd(fd, f.id, 1, buf, sizeof(buf)), 2) == 1, "requests by the id");
	/* The avoided id is not emd's: the kernel answers (no such family). */
	nlh = req(buf, 0x3ff, NLM_F_ACK, CMD_GET_PERF_DOMAINS);
	send_msg(fd, nlh);
	recv_dgram(fd, buf, sizeof(buf));
	nlh = (void *)buf;
	CHECK(nlh->nlmsg_type == NLMSG_ERROR &&
		      ((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error == -ENOENT &&
		      ((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->msg.nlmsg_type == 0x3ff,
	      "the kernel's -ENOENT for id 0x3ff");
	/* Nor is emd's own id: the kernel answers for it, whatever it has there. */
	nlh = req(buf, emd_family_id(), NLM_F_ACK, CMD_GET_PERF_DOMAINS);
	send_msg(fd, nlh);
	recv_dgram(fd, buf, sizeof(buf));
	CHECK(((struct nlmsghdr *)buf)->nlmsg_type != f.id, "emd's own id is not served");
	CHECK(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &f.group, sizeof(f.group)) == 0,
	      "join group %u", f.group);
	reload();
	recv_event(fd, buf, sizeof(buf), &from, &mh);
	nlh = (void *)buf;
	CHECK(nlh->nlmsg_type == f.id && from.nl_groups == 1u << (f.group - 1),
	      "the event, as group %u of family %#x", f.group, f.id);
	close(fd);
	return 0;
}

/* One nlctrl dump read with @size-byte buffers: the kernel's families and
 * dev-energymodel once. Returns the datagram count. */
static int ctrl_dump(int fd, size_t size, const char *kernel_names, struct family *f)
{
	uint8_t buf[32768];
	int ours = 0, kernel = 0, dgrams = 0;
	struct nlmsghdr *nlh = getfamily(buf, NULL, NLM_F_DUMP);
	uint32_t seq = nlh->nlmsg_seq;
	bool done = false;

	send_msg(fd, nlh);
	while (!done) {
		struct iovec iov = {.iov_base = buf, .iov_len = size};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n;

		CHECK(poll(&p, 1, 10000) == 1, "more of the dump");
		n = (int)recvmsg(fd, &mh, 0);
		CHECK(n > 0 && !(mh.msg_flags & MSG_TRUNC), "a whole packet in %zu bytes", size);
		dgrams++;
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
			const struct nlattr *a;

			CHECK(!done, "nothing after NLMSG_DONE in its datagram");
			CHECK(nlh->nlmsg_seq == seq && (nlh->nlmsg_flags & NLM_F_MULTI),
			      "a part of the dump");
			if (nlh->nlmsg_type == NLMSG_DONE) {
				done = true;
				continue;
			}
			mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
				if (mnl_attr_get_type(a) != CTRL_ATTR_FAMILY_NAME)
					continue;
				if (!strcmp(mnl_attr_get_str(a), FAMILY)) {
					ours++;
					*f = parse_family(nlh);
				} else {
					char want[80];

					snprintf(want, sizeof(want), ",%s,", mnl_attr_get_str(a));
					CHECK(strstr(kernel_names, want), "%s is a kernel family",
					      mnl_attr_get_str(a));
					kernel++;
				}
			}
		}
	}
	CHECK(ours == 1, "dev-energymodel once (%d)", ours);
	for (const char *p = kernel_names + 1; *p; p = strchr(p, ',') + 1)
		kernel--;
	CHECK(kernel == 0, "every kernel family (%d missing)", -kernel);
	return dgrams;
}

/* The nlctrl dump, read with 4 KiB buffers (libmnl's) and with 32 KiB ones
 * (then the kernel's last packet also holds NLMSG_DONE: emd's family goes
 * before it, in a datagram of its own). */
static int case_ctrl_dump(const char *kernel_names)
{
	uint8_t buf[32768];
	int fd = nl_open(), n4, n32;
	struct family f = {0}, g;

	n4 = ctrl_dump(fd, 4096, kernel_names, &f);
	CHECK(f.id == resolve(fd).id, "with the id handed out");
	/* A large receive: the kernel now fills dump packets up to 32 KiB. */
	send_msg(fd, getfamily(buf, "nlctrl", 0));
	recv_dgram(fd, buf, sizeof(buf));
	n32 = ctrl_dump(fd, sizeof(buf), kernel_names, &g);
	CHECK(g.id == f.id, "the same family");
	printf("# %d datagrams with 4 KiB buffers, %d with 32 KiB\n", n4, n32);
	close(fd);
	return 0;
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* write()/read(), a dup'd descriptor, close; blocking options. */
static int case_descriptors(void)
{
	uint8_t buf[8192];
	int before = count_fds(), fd = nl_open(), fd2;
	struct family f = resolve(fd);
	struct nlmsghdr *nlh = req(buf, f.id, 0, CMD_GET_PERF_DOMAINS);
	struct timeval tv = {0, 200000};
	ssize_t n;

	mnl_attr_put_u32(nlh, 2, 1);
	CHECK(write(fd, nlh, nlh->nlmsg_len) == (ssize_t)nlh->nlmsg_len, "write");
	n = read(fd, buf, sizeof(buf));
	CHECK(n > 0 && attr_u32((void *)buf, 2) == 1, "read");
	fd2 = dup(fd);
	CHECK(attr_u32(get_pd(fd2, f.id, 0, buf, sizeof(buf)), 2) == 0, "a dup'd descriptor");
	close(fd2);
	CHECK(attr_u32(get_pd(fd, f.id, 1, buf, sizeof(buf)), 2) == 1, "the original after close");
	/* F_DUPFD_CLOEXEC, by the name a _FILE_OFFSET_BITS=64 program calls. */
	fd2 = fcntl64(fd, F_DUPFD_CLOEXEC, 100);
	CHECK(fd2 >= 100 && attr_u32(get_pd(fd2, f.id, 0, buf, sizeof(buf)), 2) == 0,
	      "fcntl64(F_DUPFD_CLOEXEC) gives a descriptor that works (%d)", fd2);
	close(fd2);

	/* O_NONBLOCK: EAGAIN when empty. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n < 0 && errno == EAGAIN, "non-blocking: EAGAIN");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	/* SO_RCVTIMEO: EAGAIN when it runs out. */
	CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO");
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n < 0 && errno == EAGAIN, "receive timeout: EAGAIN (%zd %s)", n, strerror(errno));
	close(fd);
	CHECK(count_fds() == before, "every descriptor closed (%d before, %d after)", before,
	      count_fds());
	return 0;
}

static int run_case(const char *name, char **args)
{
	case_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(name, "resolve"))
		return case_resolve(args[0] ? args[0] : "");
	if (!strcmp(name, "resolve-only"))
		return case_resolve_only();
	if (!strcmp(name, "acks"))
		return case_acks();
	if (!strcmp(name, "peek"))
		return case_peek();
	if (!strcmp(name, "mixed"))
		return case_mixed();
	if (!strcmp(name, "wait"))
		return case_wait();
	if (!strcmp(name, "events"))
		return case_events();
	if (!strcmp(name, "overrun"))
		return case_overrun(false);
	if (!strcmp(name, "overrun-no-enobufs"))
		return case_overrun(true);
	if (!strcmp(name, "fork"))
		return case_fork(args[0]);
	if (!strcmp(name, "absent"))
		return case_absent();
	if (!strcmp(name, "remap"))
		return case_remap();
	if (!strcmp(name, "ctrl-dump"))
		return case_ctrl_dump(args[0] ? args[0] : "");
	if (!strcmp(name, "descriptors"))
		return case_descriptors();
	printf("# unknown case %s\n", name);
	return 2;
}

/* ---- the driver ----------------------------------------------------------------- */

struct emd_run {
	pid_t pid;
	char dir[64], sock[128], model[128];
	int notify, generation;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static void write_model(struct emd_run *e)
{
	char tmp[160];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", e->model);
	f = fopen(tmp, "w");
	if (!f)
		die("cannot write %s", tmp);
	/* Each generation changes the gpu's top power: perf-domain-updated for 1. */
	fprintf(f,
		"domains:\n"
		"  - name: little\n    cpus: [0, 1]\n    capacity: 512\n    flags: [microwatts]\n"
		"    states:\n      - { frequency: 500000, power: 100000 }\n"
		"      - { frequency: 1000000, power: 300000 }\n"
		"  - name: gpu\n    flags: [microwatts]\n    states:\n"
		"      - { frequency: 200000, power: 300000 }\n"
		"      - { frequency: 400000, power: %d }\n",
		700000 + e->generation * 1000);
	fclose(f);
	if (rename(tmp, e->model))
		die("rename");
}

static const char *notify_wait(struct emd_run *e)
{
	static char buf[512];
	struct pollfd p = {.fd = e->notify, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, 60000) != 1)
		die("emd sent nothing in 60 s");
	n = recv(e->notify, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void emd_up(struct emd_run *e, const char *const *extra)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *argv[32];
	char env_notify[200];
	char *envp[512];
	size_t n = 0, ne = 0;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/emkit-preload.XXXXXX");
	if (!mkdtemp(e->dir))
		die("mkdtemp");
	snprintf(e->sock, sizeof(e->sock), "%s/emd.sock", e->dir);
	snprintf(e->model, sizeof(e->model), "%s/model.yaml", e->dir);
	write_model(e);
	e->notify = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", e->dir);
	if (e->notify < 0 || bind(e->notify, (struct sockaddr *)&sa, sizeof(sa)))
		die("notify socket");
	snprintf(env_notify, sizeof(env_notify), "NOTIFY_SOCKET=%s", sa.sun_path);
	for (char **p = environ; *p && ne < 500; p++)
		if (strncmp(*p, "NOTIFY_SOCKET=", 14) && strncmp(*p, "LD_PRELOAD=", 11))
			envp[ne++] = *p;
	envp[ne++] = env_notify;
	envp[ne] = NULL;
	argv[n++] = EMD_PATH;
	argv[n++] = "--socket";
	argv[n++] = e->sock;
	argv[n++] = "--model";
	argv[n++] = e->model;
	argv[n++] = "--no-watch";
	if (geteuid() == 0)
		argv[n++] = "--allow-root";
	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	if (posix_spawn(&e->pid, EMD_PATH, NULL, NULL, (char *const *)argv, envp))
		die("spawn emd");
	if (strncmp(notify_wait(e), "READY=1", 7))
		die("emd did not get ready");
}

static void emd_reload(struct emd_run *e)
{
	e->generation++;
	write_model(e);
	kill(e->pid, SIGHUP);
	if (strncmp(notify_wait(e), "RELOADING=1", 11) || strncmp(notify_wait(e), "READY=1", 7))
		die("emd did not reload");
}

static void emd_down(struct emd_run *e)
{
	int status;

	kill(e->pid, SIGTERM);
	waitpid(e->pid, &status, 0);
	close(e->notify);
	unlink(e->model);
	snprintf(e->model, sizeof(e->model), "%s/notify", e->dir);
	unlink(e->model);
	rmdir(e->dir);
}

static int tap_n;
static int tap_failed;

/* Run one case under `emctl exec`, answering its "!reload" requests. */
static void tap_case(struct emd_run *e, const char *sock, const char *title, const char *name,
		     const char *arg, const char *const *env)
{
	int in[2], out[2], status;
	char self[4096], line[1024], log[16384] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;
	FILE *f;

	self[n > 0 ? n : 0] = '\0';
	if (pipe(in) || pipe(out))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {EMCTL_PATH, "exec", "--socket", sock, "--", self, "--case",
				      name, arg ? arg : self, NULL};

		for (; env && *env; env += 2)
			setenv(env[0], env[1], 1);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(in[1]);
		close(out[0]);
		execv(EMCTL_PATH, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	while (fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "!reload\n")) {
			if (e)
				emd_reload(e);
			if (write(in[1], "done\n", 5) != 5)
				break;
			continue;
		}
		if (strlen(log) + strlen(line) < sizeof(log))
			strcat(log, line);
	}
	fclose(f);
	close(in[1]);
	waitpid(pid, &status, 0);
	tap_n++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d - %s\n", tap_n, title);
	} else {
		tap_failed++;
		printf("not ok %d - %s (status %#x)\n", tap_n, title, status);
	}
	fputs(log, stdout);
	fflush(stdout);
}

/* The kernel's family ids and group ids ("F,F;G,G") and names (",a,b,"). */
static void kernel_families(char *ids, size_t isize, char *names, size_t nsize)
{
	uint8_t buf[65536];
	char fams[2048] = "", grps[2048] = "";
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	struct nlmsghdr *nlh = getfamily(buf, NULL, NLM_F_DUMP);
	bool done = false;

	snprintf(names, nsize, ",");
	if (fd < 0 || sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)) < 0)
		die("kernel nlctrl");
	while (!done) {
		int n = (int)recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			die("kernel nlctrl dump");
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
			const struct nlattr *a;

			if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
				if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
					snprintf(fams + strlen(fams), sizeof(fams) - strlen(fams),
						 "%s%u", fams[0] ? "," : "", mnl_attr_get_u16(a));
				if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME)
					snprintf(names + strlen(names), nsize - strlen(names),
						 "%s,", mnl_attr_get_str(a));
				if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS) {
					const struct nlattr *g, *x;

					mnl_attr_for_each_nested(g, a)
						mnl_attr_for_each_nested(x, g)
							if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID)
								snprintf(grps + strlen(grps),
									 sizeof(grps) - strlen(grps),
									 "%s%u", grps[0] ? "," : "",
									 mnl_attr_get_u32(x));
				}
			}
		}
	}
	close(fd);
	snprintf(ids, isize, "%s;%s", fams, grps);
}

int main(int argc, char **argv)
{
	static const char *const remap_env[] = {"EMKIT_PRELOAD_AVOID_FAMILY_IDS", "0x3ff",
						"EMKIT_PRELOAD_AVOID_GROUP_IDS", "32", NULL};
	static const char *const small_queue[] = {"--client-queue", "1", "--sndbuf", "4096", NULL};
	char ids[4096], names[8192], gone[160];
	struct emd_run e;

	if (argc >= 3 && !strcmp(argv[1], "--case"))
		return run_case(argv[2], argv + 3);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	kernel_families(ids, sizeof(ids), names, sizeof(names));
	if (strstr(names, "," FAMILY ","))
		printf("# this kernel has its own %s: emd's stands in for it\n", FAMILY);
	printf("1..13\n");
	emd_up(&e, NULL);
	tap_case(&e, e.sock, "GETFAMILY by name and id, replies, addresses, port ids",
		 "resolve", ids, NULL);
	tap_case(&e, e.sock, "acks and errors as netlink_ack() shapes them, as the kernel's",
		 "acks", NULL, NULL);
	tap_case(&e, e.sock, "MSG_PEEK, MSG_TRUNC and truncation, as for the kernel's datagrams",
		 "peek", NULL, NULL);
	tap_case(&e, e.sock, "one datagram for the kernel and emd: each message answered once",
		 "mixed", NULL, NULL);
	tap_case(&e, e.sock, "poll, select, epoll (level, edge, one-shot) wake for emd", "wait",
		 NULL, NULL);
	tap_case(&e, e.sock, "events: ADD/DROP_MEMBERSHIP, bind() groups, address, PKTINFO",
		 "events", NULL, NULL);
	tap_case(&e, e.sock, "fork: the child shares the socket; exec keeps the library", "fork",
		 NULL, NULL);
	tap_case(&e, e.sock, "the nlctrl dump: the kernel's families and dev-energymodel once",
		 "ctrl-dump", names, NULL);
	tap_case(&e, e.sock, "write/read, dup, close, O_NONBLOCK, SO_RCVTIMEO", "descriptors",
		 NULL, NULL);
	tap_case(&e, e.sock, "ids remapped when the usual ones are taken", "remap", NULL,
		 (const char *const *)remap_env);
	emd_down(&e);

	emd_up(&e, small_queue);
	tap_case(&e, e.sock, "an overrun is one ENOBUFS, then events again", "overrun", NULL,
		 NULL);
	tap_case(&e, e.sock, "NETLINK_NO_ENOBUFS: no ENOBUFS", "overrun-no-enobufs", NULL, NULL);
	emd_down(&e);

	/* No emd: the family is unknown, as on a kernel without it. */
	snprintf(gone, sizeof(gone), "%s", e.sock);
	tap_case(NULL, gone, "without emd: the kernel's own answer, byte for byte", "absent", NULL,
		 NULL);
	return tap_failed ? 1 : 0;
}
