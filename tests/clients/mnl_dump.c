/*
 * A libmnl client of dev-energymodel, written the way libmnl's own examples
 * are (examples/genl/genl-family-get.c): MNL_SOCKET_BUFFER_SIZE buffers,
 * mnl_socket_recvfrom() (which refuses a truncated datagram with ENOSPC) and
 * mnl_cb_run() (which checks every message's port id and sequence number).
 * It resolves the family through nlctrl, dumps get-perf-domains and prints
 * one line per domain: "ID FLAGS CPU..." , then checks that no id came twice.
 * Run by libmnl.sh under `emctl exec`, unmodified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#define MAX_IDS 65536

static uint16_t family;
static unsigned char seen[MAX_IDS];
static unsigned int domains, repeated, datagrams;
static size_t largest;

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			family = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int domain_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;
	uint32_t id = UINT32_MAX;
	uint64_t flags = 0;
	char cpus[4096] = "";

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case 2: /* perf-domain-id */
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return MNL_CB_ERROR;
			id = mnl_attr_get_u32(a);
			break;
		case 3: /* flags */
			if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				return MNL_CB_ERROR;
			flags = mnl_attr_get_u64(a);
			break;
		case 4: /* cpus */
			if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				return MNL_CB_ERROR;
			snprintf(cpus + strlen(cpus), sizeof(cpus) - strlen(cpus), " %llu",
				 (unsigned long long)mnl_attr_get_u64(a));
			break;
		}
	}
	if (id >= MAX_IDS) {
		fprintf(stderr, "mnl_dump: a domain without a usable id\n");
		return MNL_CB_ERROR;
	}
	if (seen[id]++)
		repeated++;
	domains++;
	printf("%u %llu%s\n", id, (unsigned long long)flags, cpus);
	return MNL_CB_OK;
}

/* Send @nlh and run @cb over the answers until the exchange ends. */
static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, const char *what)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		fprintf(stderr, "mnl_dump: %s: mnl_socket_sendto: %s\n", what, strerror(errno));
		return -1;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "mnl_dump: %s: mnl_socket_recvfrom: %s\n", what,
				strerror(errno));
			return -1;
		}
		datagrams++;
		if ((size_t)n > largest)
			largest = (size_t)n;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, NULL);
	} while (ret > 0); /* until the ack, NLMSG_DONE or an error */
	if (ret < 0) {
		fprintf(stderr, "mnl_dump: %s: mnl_cb_run: %s\n", what, strerror(errno));
		return -1;
	}
	return 0;
}

int main(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_GENERIC);
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	unsigned int seq = (unsigned int)time(NULL);

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("mnl_dump: mnl_socket_open/bind");
		return 1;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "dev-energymodel");
	if (talk(nl, nlh, family_cb, "GETFAMILY") || !family)
		return 1;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = 1; /* get-perf-domains */
	g->version = 1;
	datagrams = 0;
	largest = 0;
	if (talk(nl, nlh, domain_cb, "get-perf-domains dump"))
		return 1;
	mnl_socket_close(nl);
	fprintf(stderr, "mnl_dump: %u domains, %u repeated, in %u datagrams of at most %zu bytes, "
		"with %zu-byte buffers\n", domains, repeated, datagrams, largest,
		(size_t)MNL_SOCKET_BUFFER_SIZE);
	return repeated ? 1 : 0;
}
