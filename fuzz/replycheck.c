/*
 * Checks that a server's reply datagrams are well-formed netlink, whatever
 * the request was (see replycheck.h for the list). The hardening tests and
 * the in-process emd fuzzer run every reply through rc_check_dgram(), so a
 * malformed request can be shown to produce either a structured error or a
 * proper answer — never a torn message, a bad length or an unparsable ack.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "replycheck.h"

#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif

void rc_init(struct rc_ctx *c, const struct emnl_spec *em, uint16_t em_id,
	     const struct emnl_spec *ctrl, uint16_t ctrl_id)
{
	memset(c, 0, sizeof(*c));
	c->em = em;
	c->em_id = em_id;
	c->ctrl = ctrl;
	c->ctrl_id = ctrl_id;
}

static int bad(struct rc_ctx *c, const struct nlmsghdr *nlh, const char *what)
{
	snprintf(c->why, sizeof(c->why), "reply type %u flags 0x%x seq %u len %u: %s",
		 nlh ? nlh->nlmsg_type : 0, nlh ? nlh->nlmsg_flags : 0, nlh ? nlh->nlmsg_seq : 0,
		 nlh ? nlh->nlmsg_len : 0, what);
	return -1;
}

static int check_error(struct rc_ctx *c, const struct nlmsghdr *nlh)
{
	const struct nlmsghdr *req = NULL;
	struct emnl_error e;
	int32_t err;
	char msg[320];

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(int32_t) + NLMSG_HDRLEN)
		return bad(c, nlh, "NLMSG_ERROR too short for errno and the request header");
	memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
	if (err > 0 || err < -4095)
		return bad(c, nlh, "NLMSG_ERROR errno out of range");
	if (emnl_extack_parse(nlh, &e, &req) < 0)
		return bad(c, nlh, "NLMSG_ERROR does not parse as an extended ack");
	if (e.err != err)
		return bad(c, nlh, "extended ack parsed to another errno");
	if (!req || req->nlmsg_seq != nlh->nlmsg_seq)
		return bad(c, nlh, "NLMSG_ERROR does not echo the request's sequence number");
	if (err && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		if (!e.msg[0] && !e.has_miss_type && !e.has_offset) {
			snprintf(msg, sizeof(msg), "error %d with ACK_TLVS but no message", err);
			return bad(c, nlh, msg);
		}
		if (e.has_offset && (e.offset < NLMSG_HDRLEN || e.offset >= req->nlmsg_len)) {
			snprintf(msg, sizeof(msg), "error offset %u outside the %u-byte request (%s)",
				 e.offset, req->nlmsg_len, e.msg);
			return bad(c, nlh, msg);
		}
	}
	if (err)
		c->errors++;
	else
		c->acks++;
	/* An error does not end a dump that has begun: a failed start sends
	 * no dump message, and a later failure ends in NLMSG_DONE's status
	 * (netlink_dump()). One of the dump's sequence answers a later message
	 * of the same datagram (clients often number them all alike). */
	return 0;
}

int rc_check_dgram(struct rc_ctx *c, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	char msg[400];

	c->datagrams++;
	if (len > EMNL_DGRAM_MAX)
		return bad(c, NULL, "datagram larger than EMNL_DGRAM_MAX");
	if (len == 0)
		return bad(c, NULL, "empty datagram");
	while (off < len) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(buf + off);
		size_t left = len - off;

		if (left < NLMSG_HDRLEN) {
			snprintf(msg, sizeof(msg), "%zu bytes after the last message", left);
			return bad(c, NULL, msg);
		}
		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > left)
			return bad(c, nlh, "nlmsg_len out of bounds");
		c->msgs++;
		/* Between a dump's packets may come notifications, and the answers
		 * to the later messages of the request's datagram (the kernel builds
		 * a dump's first packet inline, the rest as the reader reads); but
		 * never a second dump's messages: that one would be -EBUSY. */
		if (c->in_dump && nlh->nlmsg_seq != c->dump_seq &&
		    (nlh->nlmsg_flags & NLM_F_MULTI) && nlh->nlmsg_type != NLMSG_ERROR)
			return bad(c, nlh, "a second dump inside an unfinished dump");
		switch (nlh->nlmsg_type) {
		case NLMSG_ERROR:
			if (check_error(c, nlh))
				return -1;
			break;
		case NLMSG_DONE:
			if (!(nlh->nlmsg_flags & NLM_F_MULTI))
				return bad(c, nlh, "NLMSG_DONE without NLM_F_MULTI");
			if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(int32_t))
				return bad(c, nlh, "NLMSG_DONE without its status");
			/* Alone, it is a whole empty dump (a dump with nothing
			 * to say, as GETPOLICY of one op, is just NLMSG_DONE);
			 * inside another dump, the check above refused it. */
			c->in_dump = false;
			c->dumps_done++;
			break;
		default: {
			const struct emnl_spec *spec = nlh->nlmsg_type == c->em_id ? c->em :
						       nlh->nlmsg_type == c->ctrl_id ? c->ctrl : NULL;
			struct emnl_error e;

			if (!spec)
				return bad(c, nlh, "message of an unknown type");
			if (emnl_validate(spec, nlh, nlh->nlmsg_len, true, NULL, 0, NULL, &e)) {
				snprintf(msg, sizeof(msg), "fails strict validation as a %s reply: %s",
					 spec->name, e.msg);
				return bad(c, nlh, msg);
			}
			if (nlh->nlmsg_flags & NLM_F_MULTI) {
				if (!c->in_dump) {
					c->in_dump = true;
					c->dump_seq = nlh->nlmsg_seq;
				}
			}
		}
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len) < left ? NLMSG_ALIGN(nlh->nlmsg_len) : left;
	}
	return 0;
}

bool rc_find_ack(const uint8_t *buf, size_t len, uint32_t seq)
{
	size_t off = 0;

	while (len - off >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(buf + off);
		int32_t err;

		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len - off)
			return false;
		if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq == seq &&
		    nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(err)) {
			memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
			if (err == 0)
				return true;
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (off >= len)
			break;
	}
	return false;
}

size_t rc_sentinel(uint8_t *buf, uint32_t seq)
{
	static const char name[] = "dev-energymodel";
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);
	struct nlattr *na = (struct nlattr *)(buf + NLMSG_HDRLEN + GENL_HDRLEN);

	memset(buf, 0, 64);
	na->nla_type = CTRL_ATTR_FAMILY_NAME;
	na->nla_len = (uint16_t)(NLA_HDRLEN + sizeof(name));
	memcpy(na + 1, name, sizeof(name));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 2;
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(na->nla_len);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	return nlh->nlmsg_len;
}
