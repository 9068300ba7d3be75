/*
 * replycheck.h — is what a dev-energymodel server sent back well-formed netlink?
 *
 * Used by the black-box client (tests/hardening/hbclient.c) and the
 * in-process emd fuzzer on every reply datagram, whatever the request was:
 *   - the datagram is a whole number of messages (nlmsg_len within bounds,
 *     4-byte steps, nothing left over) and at most EMNL_DGRAM_MAX bytes;
 *   - NLMSG_ERROR carries an errno <= 0 and the request header, and, with
 *     NLM_F_ACK_TLVS, extended-ack TLVs that lib/nl parses; a reported
 *     offset lies inside the request it names;
 *   - NLMSG_DONE carries NLM_F_MULTI and a 4-byte status;
 *   - family messages (dev-energymodel or nlctrl) pass lib/nl's strict
 *     validation as replies against their spec;
 *   - a multi-part answer (NLM_F_MULTI) ends with NLMSG_DONE of its own
 *     sequence (never an error: an error of that sequence answers another
 *     message of the datagram) before another multi-part answer starts (other
 *     answers may come between its packets: the kernel builds a dump's
 *     first packet while the request datagram is handled, the rest as the
 *     reader reads, after the answers to the datagram's later messages).
 */
#ifndef EMKIT_FUZZ_REPLYCHECK_H
#define EMKIT_FUZZ_REPLYCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emkit/nl.h"

struct rc_ctx {
	const struct emnl_spec *em, *ctrl;
	uint16_t em_id, ctrl_id;
	bool in_dump;          /* inside a multi-part answer */
	uint32_t dump_seq;
	uint64_t msgs, errors, acks, dumps_done, datagrams;
	char why[512];         /* what was wrong, after a failure */
};

/* rc_init - check replies of family @em_id (spec @em) and nlctrl (@ctrl_id). */
void rc_init(struct rc_ctx *c, const struct emnl_spec *em, uint16_t em_id,
	     const struct emnl_spec *ctrl, uint16_t ctrl_id);

/*
 * rc_check_dgram - check one reply datagram.
 * Returns 0, or -1 with c->why saying what was wrong.
 */
int rc_check_dgram(struct rc_ctx *c, const uint8_t *buf, size_t len);

/* rc_find_ack - true if @buf holds an NLMSG_ERROR with errno 0 for sequence
 * @seq (the end of a sentinel request's answer). */
bool rc_find_ack(const uint8_t *buf, size_t len, uint32_t seq);

/*
 * rc_sentinel - write into @buf (64 bytes at least) a getfamily do for
 * dev-energymodel with NLM_F_ACK and sequence @seq: its ack marks the end of the
 * answers to whatever was sent before it. Returns its length.
 */
size_t rc_sentinel(uint8_t *buf, uint32_t seq);

#endif
