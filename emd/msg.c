/*
 * The netlink message writer emd builds every reply and event with. It writes
 * what the kernel's nlmsg_put/nla_put family writes: a 16-byte nlmsghdr, a
 * 4-byte genlmsghdr, attributes aligned to 4 bytes with zeroed padding, nests
 * with NLA_F_NESTED, strings with their NUL, and u64 attributes with the pad
 * rule of nla_put_u64_64bit() (a zero-length pad attribute first when the
 * attribute would start 8-byte aligned, on architectures that want it; never
 * on x86-64 or arm64). Several messages share one datagram; when one does not
 * fit, it is taken out whole, so what is sent never ends in a partial message.
 */
#include <errno.h>
#include <string.h>

#include <linux/genetlink.h>

#include "emd.h"

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

/* emd_msg_init - an empty datagram in @buf. */
void emd_msg_init(struct emd_msg *m, void *buf, size_t size, enum emnl_pad_mode pad)
{
	m->buf = buf;
	m->size = size;
	m->len = 0;
	m->start = 0;
	m->overflow = false;
	m->pad = pad;
}

/* Reserve @n bytes (zeroed up to the 4-byte boundary); NULL on overflow. */
static void *reserve(struct emd_msg *m, size_t n)
{
	size_t al = ALIGN4(n);
	void *p;

	if (m->overflow || m->size - m->len < al) {
		m->overflow = true;
		return NULL;
	}
	p = m->buf + m->len;
	if (al != n)
		memset((uint8_t *)p + n, 0, al - n);
	m->len += al;
	return p;
}

/* emd_msg_begin_raw - open a message with a fixed header of @payload bytes. */
void *emd_msg_begin_raw(struct emd_msg *m, uint16_t type, uint16_t flags, uint32_t seq,
			uint32_t portid, size_t payload)
{
	struct nlmsghdr *nlh;
	void *body;

	m->start = m->len;
	m->overflow = false;
	nlh = reserve(m, sizeof(*nlh));
	body = reserve(m, payload);
	if (!nlh || !body)
		return NULL;
	nlh->nlmsg_len = 0;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = portid;
	memset(body, 0, payload);
	return body;
}

/* emd_msg_begin - open a generic netlink message. */
void emd_msg_begin(struct emd_msg *m, uint16_t type, uint16_t flags, uint32_t seq,
		   uint32_t portid, uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *g = emd_msg_begin_raw(m, type, flags, seq, portid, sizeof(*g));

	if (g) {
		g->cmd = cmd;
		g->version = version;
	}
}

/* Put one attribute header and payload. */
static void put(struct emd_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *na = reserve(m, NLA_HDRLEN + len);

	if (!na)
		return;
	na->nla_len = (uint16_t)(NLA_HDRLEN + len);
	na->nla_type = type;
	if (len)
		memcpy((uint8_t *)na + NLA_HDRLEN, data, len);
}

void emd_msg_put_u16(struct emd_msg *m, uint16_t type, uint16_t v)
{
	put(m, type, &v, sizeof(v));
}

void emd_msg_put_u32(struct emd_msg *m, uint16_t type, uint32_t v)
{
	put(m, type, &v, sizeof(v));
}

/* emd_msg_put_u64 - a u64, after a pad attribute when the ALIGN8 rule asks. */
void emd_msg_put_u64(struct emd_msg *m, uint16_t type, uint64_t v, uint16_t pad_type)
{
	if (m->pad == EMNL_PAD_ALIGN8 && (m->len % 8) == 0)
		put(m, pad_type, NULL, 0);
	put(m, type, &v, sizeof(v));
}

void emd_msg_put_strz(struct emd_msg *m, uint16_t type, const char *s)
{
	put(m, type, s, strlen(s) + 1);
}

/* emd_msg_nest_begin - open a nest; its length is set by emd_msg_nest_end. */
size_t emd_msg_nest_begin(struct emd_msg *m, uint16_t type)
{
	size_t off = m->len;

	put(m, type | NLA_F_NESTED, NULL, 0);
	return off;
}

/* emd_msg_nest_begin_noflag - a nest without NLA_F_NESTED, as the kernel's
 * older code (the controller) writes them. */
size_t emd_msg_nest_begin_noflag(struct emd_msg *m, uint16_t type)
{
	size_t off = m->len;

	put(m, type, NULL, 0);
	return off;
}

void emd_msg_nest_end(struct emd_msg *m, size_t nest)
{
	struct nlattr *na = (struct nlattr *)(m->buf + nest);

	if (m->overflow)
		return;
	if (m->len - nest > 0xffff) {
		m->overflow = true; /* nla_len cannot say it */
		return;
	}
	na->nla_len = (uint16_t)(m->len - nest);
}

/* emd_msg_end - close the open message or take it out whole. */
int emd_msg_end(struct emd_msg *m)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(m->buf + m->start);

	if (m->overflow) {
		m->len = m->start;
		m->overflow = false;
		return -EMSGSIZE;
	}
	nlh->nlmsg_len = (uint32_t)(m->len - m->start);
	return (int)nlh->nlmsg_len;
}
