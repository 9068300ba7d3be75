/*
 * The netlink writer's bodies (see writer.c and struct emnl_writer in
 * include/emkit/nl.h), inline so that the codec's per-attribute loop pays no
 * call. Private to lib/nl.
 *
 * Invariants, asserted where a message opens or is taken out (not on every
 * put: this is the hot path): len <= size; a message is open between begin
 * and end/cancel; once a put has failed (err != 0) nothing more is written
 * until the message is closed, which takes it out whole.
 */
#ifndef EMKIT_NL_WRITER_IMPL_H
#define EMKIT_NL_WRITER_IMPL_H

#include <assert.h>
#include <errno.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "emkit/nl.h"

#define WR_ALIGN(x) (((x) + 3u) & ~(size_t)3u)

static inline void wr_init(struct emnl_writer *w, void *buf, size_t size, const void *dgram_start,
			   enum emnl_pad_mode pad)
{
	w->buf = buf;
	w->size = size;
	w->limit = size;
	w->len = 0;
	w->start = 0;
	w->base = dgram_start ? (size_t)((const uint8_t *)buf - (const uint8_t *)dgram_start) : 0;
	w->err = 0;
	w->open = false;
	w->pad = pad;
}

/* Reserve @n bytes (zeroed up to the 4-byte boundary); NULL once a put failed
 * or when they do not fit. */
static inline void *wr_reserve_raw(struct emnl_writer *w, size_t n, size_t al)
{
	uint8_t *p;

	if (w->err)
		return NULL;
	if (w->size - w->len < al) {
		w->err = -EMSGSIZE;
		return NULL;
	}
	p = w->buf + w->len;
	if (al != n)
		memset(p + n, 0, al - n);
	w->len += al;
	return p; /* bounds: asserted where a message opens and closes */
}

/* A zeroed fixed header of @n bytes (genlmsghdr, nlmsgerr...). */
static inline void *wr_reserve(struct emnl_writer *w, size_t n)
{
	void *p = wr_reserve_raw(w, n, WR_ALIGN(n));

	if (p)
		memset(p, 0, n);
	return p;
}

static inline struct nlmsghdr *wr_msg_begin(struct emnl_writer *w, uint16_t type, uint16_t flags,
					    uint32_t seq, uint32_t portid)
{
	struct nlmsghdr *nlh;

	assert(!w->open && w->len <= w->size);
	w->start = w->len;
	w->open = true;
	w->err = 0;
	nlh = wr_reserve_raw(w, sizeof(*nlh), sizeof(*nlh));
	if (!nlh)
		return NULL;
	nlh->nlmsg_len = 0; /* set by wr_msg_end */
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = portid;
	return nlh;
}

static inline struct genlmsghdr *wr_msg_begin_genl(struct emnl_writer *w, uint16_t type,
						   uint16_t flags, uint32_t seq, uint32_t portid,
						   uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *g;

	if (!wr_msg_begin(w, type, flags, seq, portid))
		return NULL;
	g = wr_reserve(w, sizeof(*g));
	if (g) {
		g->cmd = cmd;
		g->version = version;
	}
	return g;
}

static inline void wr_msg_cancel(struct emnl_writer *w)
{
	assert(w->open);
	w->len = w->start;
	w->open = false;
	w->err = 0;
}

static inline int wr_msg_end(struct emnl_writer *w)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(w->buf + w->start);
	int err = w->err;

	/* A message after the first may not take the datagram past the limit. */
	if (!err && w->start > 0 && w->len > w->limit)
		err = -EMSGSIZE;
	if (err) {
		wr_msg_cancel(w);
		return err;
	}
	nlh->nlmsg_len = (uint32_t)(w->len - w->start);
	w->open = false;
	return (int)nlh->nlmsg_len;
}

/* One attribute: header, @len bytes of payload, zeroed padding. */
static inline void wr_put(struct emnl_writer *w, uint16_t type, const void *data, size_t len)
{
	struct nlattr *na;

	if (len > UINT16_MAX - NLA_HDRLEN) {
		if (!w->err)
			w->err = -EINVAL; /* nla_len cannot say it */
		return;
	}
	na = wr_reserve_raw(w, NLA_HDRLEN + len, WR_ALIGN(NLA_HDRLEN + len));
	if (!na)
		return;
	na->nla_len = (uint16_t)(NLA_HDRLEN + len);
	na->nla_type = type;
	if (len)
		memcpy(na + 1, data, len);
}

/*
 * The u64 pad rule, stated once (see enum emnl_pad_mode): in EMNL_PAD_ALIGN8
 * mode, when the attribute header would start 8-byte aligned in the datagram
 * (so its payload, 4 bytes later, would not be), a zero-length attribute of
 * the set's pad type goes first, as nla_put_u64_64bit() does.
 */
static inline void wr_put_u64_pad(struct emnl_writer *w, uint16_t type, uint64_t v,
				  uint16_t pad_type)
{
	if (w->pad == EMNL_PAD_ALIGN8 && ((w->base + w->len) & 7) == 0)
		wr_put(w, pad_type, NULL, 0);
	wr_put(w, type, &v, sizeof(v));
}

/* Open a nest of type @type (flags included); returns its offset. */
static inline size_t wr_nest_begin(struct emnl_writer *w, uint16_t type)
{
	size_t off = w->len;

	wr_put(w, type, NULL, 0);
	return off;
}

static inline void wr_nest_end(struct emnl_writer *w, size_t nest)
{
	struct nlattr *na = (struct nlattr *)(w->buf + nest);

	if (w->err)
		return;
	if (w->len - nest > UINT16_MAX) {
		w->err = -EMSGSIZE; /* nla_len cannot say it */
		return;
	}
	na->nla_len = (uint16_t)(w->len - nest);
}

static inline void wr_nest_cancel(struct emnl_writer *w, size_t nest)
{
	assert(nest >= w->start);
	if (nest < w->len)
		w->len = nest;
}

#endif
