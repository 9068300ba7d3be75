/*
 * The netlink writer: every byte emkit puts on the wire is written here.
 * Requests (the client and the codec), replies and events (emd's handlers),
 * acks and errors with extended-ack TLVs, nlctrl's answers: each is a
 * message appended to a caller-owned datagram buffer with the layout the
 * kernel's nlmsg_put()/nla_put() family gives it: a 16-byte nlmsghdr, an
 * optional fixed header (genlmsghdr, nlmsgerr), attributes aligned to 4
 * bytes with zeroed padding, nests closed with their final length, and u64
 * attributes preceded by a pad exactly where nla_put_u64_64bit() puts one.
 * A put that fails (no room, an attribute too long for nla_len) is
 * remembered, and closing the message then takes it out whole, so a
 * datagram never ends in a partial message. The inline bodies live in
 * writer_impl.h, shared with the codec's hot loop; this file exports them.
 */
#include "emkit/nl.h"
#include "nl_internal.h"
#include "writer_impl.h"

/* emnl_pad_mode_native - does this architecture's kernel pad u64s? */
enum emnl_pad_mode emnl_pad_mode_native(void)
{
	/* The kernel pads only without CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS;
	 * these architectures select it. */
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || \
	defined(__powerpc__) || defined(__s390__) || defined(__loongarch__) || \
	(defined(__riscv) && defined(__riscv_misaligned_fast))
	return EMNL_PAD_NEVER;
#else
	return EMNL_PAD_ALIGN8;
#endif
}

void emnl_writer_init(struct emnl_writer *w, void *buf, size_t size, enum emnl_pad_mode pad)
{
	wr_init(w, buf, size, NULL, pad);
}

void emnl_writer_init_at(struct emnl_writer *w, void *buf, size_t size, const void *dgram_start,
			 enum emnl_pad_mode pad)
{
	wr_init(w, buf, size, dgram_start, pad);
}

void emnl_writer_set_limit(struct emnl_writer *w, size_t limit)
{
	w->limit = limit < w->size ? limit : w->size;
}

size_t emnl_writer_len(const struct emnl_writer *w)
{
	return w->len;
}

void *emnl_writer_data(const struct emnl_writer *w)
{
	return w->buf;
}

void emnl_writer_truncate(struct emnl_writer *w, size_t len)
{
	assert(!w->open && len <= w->len);
	w->len = w->start = len;
	w->err = 0;
}

int emnl_writer_error(const struct emnl_writer *w)
{
	return w->err;
}

struct nlmsghdr *emnl_msg_begin(struct emnl_writer *w, uint16_t type, uint16_t flags,
				uint32_t seq, uint32_t portid)
{
	return wr_msg_begin(w, type, flags, seq, portid);
}

void *emnl_msg_put_extra(struct emnl_writer *w, size_t len)
{
	return wr_reserve(w, len);
}

struct genlmsghdr *emnl_msg_begin_genl(struct emnl_writer *w, uint16_t type, uint16_t flags,
				       uint32_t seq, uint32_t portid, uint8_t cmd, uint8_t version)
{
	return wr_msg_begin_genl(w, type, flags, seq, portid, cmd, version);
}

int emnl_msg_end(struct emnl_writer *w)
{
	return wr_msg_end(w);
}

void emnl_msg_cancel(struct emnl_writer *w)
{
	wr_msg_cancel(w);
}

void emnl_put(struct emnl_writer *w, uint16_t type, const void *data, size_t len)
{
	wr_put(w, type, data, len);
}

void emnl_put_flag(struct emnl_writer *w, uint16_t type)
{
	wr_put(w, type, NULL, 0);
}

void emnl_put_u8(struct emnl_writer *w, uint16_t type, uint8_t v)
{
	wr_put(w, type, &v, sizeof(v));
}

void emnl_put_u16(struct emnl_writer *w, uint16_t type, uint16_t v)
{
	wr_put(w, type, &v, sizeof(v));
}

void emnl_put_u32(struct emnl_writer *w, uint16_t type, uint32_t v)
{
	wr_put(w, type, &v, sizeof(v));
}

void emnl_put_u64(struct emnl_writer *w, uint16_t type, uint64_t v)
{
	wr_put(w, type, &v, sizeof(v));
}

void emnl_put_u64_pad(struct emnl_writer *w, uint16_t type, uint64_t v, uint16_t pad_type)
{
	wr_put_u64_pad(w, type, v, pad_type);
}

void emnl_put_strz(struct emnl_writer *w, uint16_t type, const char *s)
{
	wr_put(w, type, s, strlen(s) + 1);
}

size_t emnl_nest_begin(struct emnl_writer *w, uint16_t type)
{
	return wr_nest_begin(w, type | NLA_F_NESTED);
}

size_t emnl_nest_begin_noflag(struct emnl_writer *w, uint16_t type)
{
	return wr_nest_begin(w, type);
}

void emnl_nest_end(struct emnl_writer *w, size_t nest)
{
	wr_nest_end(w, nest);
}

void emnl_nest_cancel(struct emnl_writer *w, size_t nest)
{
	wr_nest_cancel(w, nest);
}
