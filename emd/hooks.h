/*
 * emd's hot-path hooks (hooks.c): request tracing and per-operation counters
 * as static calls that return 0 — a direct call to a typed stub — until
 * switched on (SIGUSR1).
 */
#ifndef EMD_HOOKS_H
#define EMD_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "emkit/static_call.h"

/* Per-operation counters. */
enum emd_op {
	EMD_OP_GETFAMILY,
	EMD_OP_GET_PD,
	EMD_OP_DUMP_PD,
	EMD_OP_GET_TABLE,
	EMD_OP_JOIN,
	EMD_OP_ERROR,
	EMD_OP_EVENT,
	EMD_OP_DEFERRED, /* a packet waited for room in the client's socket (EAGAIN) */
	EMD_OP_DROPPED,  /* an event dropped: the client's queue was full */
	EMD_OP_MAX,
};

/* One line per request on stderr: the requester's port, the message, the result. */
int emd_trace_request_hook(uint32_t portid, const struct nlmsghdr *nlh, int err);
/* Count one operation (EMD_OP_MAX: nothing). */
int emd_count_hook(enum emd_op op);
/* The hot-path hooks: static calls that return 0 (cost: a direct call) until
 * emd_hooks_enable(true) points them at the functions above. */
DECLARE_STATIC_CALL(emd_trace, emd_trace_request_hook);
DECLARE_STATIC_CALL(emd_count, emd_count_hook);
/* Switch tracing and counters on (true) or back to RET0 (false). */
int emd_hooks_enable(bool on);
bool emd_hooks_enabled(void);
/* Write the counters to stderr (and as STATUS= to the service manager). */
void emd_hooks_report(void);
uint64_t emd_hooks_count(enum emd_op op);

#endif
