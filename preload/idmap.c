/*
 * The ids a program sees for emd's family and multicast groups. They must be
 * ids the kernel does not use, or a program could not tell emd's family from
 * a kernel family, and the kernel should be unlikely to take them later: the
 * kernel hands out family ids cyclically upwards from GENL_START_ALLOC
 * (net/netlink/genetlink.c, genl_register_family(): idr_alloc_cyclic() up to
 * GENL_MAX_ID) and group ids lowest first (genl_allocate_reserve_groups():
 * find_first_zero_bit() over a bitmap whose bits 0, 1, 16, 17 and 18 are
 * reserved, mc_group_start). So the family gets the highest id below
 * GENL_MAX_ID that no kernel family has, and each group the highest free id
 * up to 32 (so that bind() with a group mask can name it), else up to the
 * kernel's group count. The kernel's ids are read once, with a
 * CTRL_CMD_GETFAMILY dump on a private socket; EMKIT_PRELOAD_AVOID_FAMILY_IDS
 * and EMKIT_PRELOAD_AVOID_GROUP_IDS (comma-separated numbers) exclude more,
 * e.g. the ids of a module about to be loaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/genetlink.h>

#include "preload.h"

struct pl_idmap pl_idmap;
static pthread_mutex_t idmap_lock = PTHREAD_MUTEX_INITIALIZER;

#define ID_SPACE 1024 /* family and group ids are below GENL_MAX_ID + 1 */

struct used {
	uint8_t family[ID_SPACE / 8], group[ID_SPACE / 8];
	unsigned int ngroups; /* the kernel's group count for NETLINK_GENERIC */
};

static void mark(uint8_t *set, unsigned long id)
{
	if (id < ID_SPACE)
		set[id / 8] |= (uint8_t)(1u << (id % 8));
}

static bool is_marked(const uint8_t *set, unsigned long id)
{
	return id >= ID_SPACE || (set[id / 8] & (1u << (id % 8)));
}

/* Mark the numbers listed in environment variable @name. */
static void mark_env(uint8_t *set, const char *name)
{
	const char *v = getenv(name);
	char *end;

	while (v && *v) {
		unsigned long id = strtoul(v, &end, 0);

		if (end == v)
			break;
		mark(set, id);
		v = *end == ',' ? end + 1 : end;
	}
}

/* Record the family id and group ids of one CTRL_CMD_NEWFAMILY message. */
static void note_family(struct used *u, const struct nlmsghdr *nlh)
{
	const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	pl_for_each_attr(a, (const uint8_t *)nlh + NLMSG_HDRLEN + GENL_HDRLEN, end) {
		uint16_t type = a->nla_type & NLA_TYPE_MASK;
		uint16_t id;
		uint32_t grp;

		if (type == CTRL_ATTR_FAMILY_ID && pl_attr_len(a) >= sizeof(id)) {
			memcpy(&id, pl_attr_data(a), sizeof(id));
			mark(u->family, id);
		}
		if (type != CTRL_ATTR_MCAST_GROUPS)
			continue;
		pl_for_each_attr(g, pl_attr_data(a), (uint8_t *)a + a->nla_len) {
			pl_for_each_attr(f, pl_attr_data(g), (uint8_t *)g + g->nla_len) {
				if ((f->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_ID &&
				    pl_attr_len(f) >= sizeof(grp)) {
					memcpy(&grp, pl_attr_data(f), sizeof(grp));
					mark(u->group, grp);
				}
			}
		}
	}
}

/* The kernel's families and groups, from a GETFAMILY dump on a private socket. */
static void kernel_ids(struct used *u)
{
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
	} req = {
		.nlh = {.nlmsg_len = sizeof(req), .nlmsg_type = GENL_ID_CTRL,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
		.g = {.cmd = CTRL_CMD_GETFAMILY, .version = 1},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct msghdr mh = {.msg_name = &kernel, .msg_namelen = sizeof(kernel)};
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	uint32_t groups[ID_SPACE / 32];
	socklen_t glen = sizeof(groups);
	uint8_t *buf = malloc(PL_RBUF);
	bool done = false;
	int fd = pl_real.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	u->ngroups = 32;
	if (fd < 0 || !buf)
		goto out;
	if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &glen) == 0)
		u->ngroups = glen * 8 < ID_SPACE ? glen * 8 : ID_SPACE;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pl_real.sendmsg(fd, &mh, 0) < 0)
		goto out;
	while (!done) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (pl_real.poll(&p, 1, PL_CALL_TIMEOUT_MS) != 1)
			break;
		n = pl_real.recv(fd, buf, PL_RBUF, MSG_DONTWAIT);
		if (n < 0)
			break;
		pl_for_each_msg(nlh, buf, (size_t)n) {
			if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (nlh->nlmsg_type == GENL_ID_CTRL)
				note_family(u, nlh);
		}
	}
out:
	free(buf);
	if (fd >= 0)
		pl_real.close(fd);
}

/* The highest id in [lo, hi] not in @set, or 0. */
static unsigned int highest_free(const uint8_t *set, unsigned int lo, unsigned int hi)
{
	for (unsigned int id = hi; id >= lo && id > 0; id--)
		if (!is_marked(set, id))
			return id;
	return 0;
}

/* The ids not to hand out, read once (with idmap_lock held). */
static struct used used;
static bool used_read;

static void read_used(void)
{
	if (used_read)
		return;
	/* Reserved by the kernel whatever is registered (genetlink.c). */
	for (unsigned int id = 0; id < GENL_START_ALLOC; id++)
		mark(used.family, id);
	mark(used.group, 0);
	mark(used.group, 1);
	mark(used.group, GENL_ID_CTRL);
	mark(used.group, GENL_ID_VFS_DQUOT);
	mark(used.group, GENL_ID_PMCRAID);
	kernel_ids(&used);
	mark_env(used.family, "EMKIT_PRELOAD_AVOID_FAMILY_IDS");
	mark_env(used.group, "EMKIT_PRELOAD_AVOID_GROUP_IDS");
	used_read = true;
}

/* pl_idmap_family_candidate - see preload.h. */
uint16_t pl_idmap_family_candidate(void)
{
	uint16_t id;

	if (pl_idmap_ready())
		return pl_idmap.user_family;
	pthread_mutex_lock(&idmap_lock);
	read_used();
	id = (uint16_t)highest_free(used.family, GENL_START_ALLOC, GENL_MAX_ID);
	pthread_mutex_unlock(&idmap_lock);
	return id;
}

/* pl_idmap_setup - see preload.h. */
int pl_idmap_setup(uint16_t emd_family, const uint32_t *emd_groups, unsigned int n)
{
	struct used u;
	int ret = 0;

	if (n > PL_MAX_GROUPS)
		n = PL_MAX_GROUPS;
	pthread_mutex_lock(&idmap_lock);
	if (pl_idmap_ready()) {
		if (pl_idmap.emd_family != emd_family || pl_idmap.n_groups != n ||
		    memcmp(pl_idmap.emd_group, emd_groups, n * sizeof(*emd_groups)))
			ret = -EEXIST;
		goto out;
	}
	read_used();
	u = used;
	pl_idmap.emd_family = emd_family;
	pl_idmap.user_family = (uint16_t)highest_free(u.family, GENL_START_ALLOC, GENL_MAX_ID);
	pl_idmap.n_groups = n;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int g = highest_free(u.group, 2, 32);

		if (!g)
			g = highest_free(u.group, 33, u.ngroups);
		pl_idmap.emd_group[i] = emd_groups[i];
		pl_idmap.user_group[i] = g;
		mark(u.group, g);
	}
	if (!pl_idmap.user_family) {
		ret = -ENOSPC;
		goto out;
	}
	atomic_store_explicit(&pl_idmap.ready, true, memory_order_release);
out:
	pthread_mutex_unlock(&idmap_lock);
	return ret;
}

/* pl_group_to_user - see preload.h. */
uint32_t pl_group_to_user(uint32_t g)
{
	for (unsigned int i = 0; pl_idmap_ready() && i < pl_idmap.n_groups; i++)
		if (pl_idmap.emd_group[i] == g)
			return pl_idmap.user_group[i];
	return 0;
}

/* pl_group_to_emd - see preload.h. */
uint32_t pl_group_to_emd(uint32_t g)
{
	for (unsigned int i = 0; pl_idmap_ready() && i < pl_idmap.n_groups; i++)
		if (g && pl_idmap.user_group[i] == g)
			return pl_idmap.emd_group[i];
	return 0;
}
