/*
 * emd's hot-path hooks: request tracing and per-operation counters. Each is a
 * static call defined RET0, so while they are off a request pays one direct
 * call to a stub that returns 0 (no load, no branch on a flag). SIGUSR1 points
 * them at the functions below, and back at their typed RET0 stubs; SIGUSR2
 * prints the counters. Typed stubs keep the calls valid under kCFI.
 */
#include <stdatomic.h>
#include <stdio.h>

#include <linux/genetlink.h>

#include "emd.h"
#include "hooks.h"

DEFINE_STATIC_CALL_RET0(emd_trace, emd_trace_request_hook);
DEFINE_STATIC_CALL_RET0(emd_count, emd_count_hook);

static uint64_t counters[EMD_OP_MAX];
static bool enabled;

static const char *const op_names[EMD_OP_MAX] = {
	[EMD_OP_GETFAMILY] = "getfamily",
	[EMD_OP_GET_PD] = "get-perf-domains do",
	[EMD_OP_DUMP_PD] = "get-perf-domains dump",
	[EMD_OP_GET_TABLE] = "get-perf-table do",
	[EMD_OP_JOIN] = "join/leave",
	[EMD_OP_ERROR] = "error replies",
	[EMD_OP_EVENT] = "events",
	[EMD_OP_DEFERRED] = "deferred (EAGAIN)",
	[EMD_OP_DROPPED] = "events dropped",
};

/* emd_trace_request_hook - one line per request on stderr, with its result. */
int emd_trace_request_hook(uint32_t portid, const struct nlmsghdr *nlh, int err)
{
	const struct genlmsghdr *g = (const void *)((const uint8_t *)nlh + NLMSG_HDRLEN);
	unsigned int cmd = nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN ? g->cmd : 0;

	fprintf(stderr, "emd: trace: client %u: type %u cmd %u flags 0x%x seq %u len %u -> %d\n",
		portid, nlh->nlmsg_type, cmd, nlh->nlmsg_flags, nlh->nlmsg_seq,
		nlh->nlmsg_len, err);
	return 0;
}

/* emd_count_hook - count one operation. */
int emd_count_hook(enum emd_op op)
{
	if (op < EMD_OP_MAX)
		counters[op]++;
	return 0;
}

/* emd_hooks_enable - retarget both static calls. */
int emd_hooks_enable(bool on)
{
	int err;

	if (on) {
		err = static_call_update(emd_trace, emd_trace_request_hook);
		if (!err)
			err = static_call_update(emd_count, emd_count_hook);
	} else {
		err = static_call_update(emd_trace, STATIC_CALL_STUB_RET0(emd_trace));
		if (!err)
			err = static_call_update(emd_count, STATIC_CALL_STUB_RET0(emd_count));
	}
	if (err) {
		emd_log("switching the hooks %s failed: error %d", on ? "on" : "off", err);
		return err;
	}
	enabled = on;
	return 0;
}

bool emd_hooks_enabled(void)
{
	return enabled;
}

uint64_t emd_hooks_count(enum emd_op op)
{
	return op < EMD_OP_MAX ? counters[op] : 0;
}

/* Short names for the service manager's status line. */
static const char *const op_keys[EMD_OP_MAX] = {
	[EMD_OP_GETFAMILY] = "getfamily", [EMD_OP_GET_PD] = "get-pd",
	[EMD_OP_DUMP_PD] = "dump-pd",     [EMD_OP_GET_TABLE] = "get-table",
	[EMD_OP_JOIN] = "join",           [EMD_OP_ERROR] = "errors",
	[EMD_OP_EVENT] = "events",        [EMD_OP_DEFERRED] = "deferred",
	[EMD_OP_DROPPED] = "dropped",
};

/* emd_hooks_report - the counters, one per line on stderr, and as one
 * STATUS= line for the service manager (systemctl status shows it). */
void emd_hooks_report(void)
{
	char status[512];
	size_t n = (size_t)snprintf(status, sizeof(status), "STATUS=counters%s:",
				    enabled ? "" : " (off)");

	fprintf(stderr, "emd: counters (%s):\n", enabled ? "counting" : "off");
	for (int i = 0; i < EMD_OP_MAX; i++) {
		fprintf(stderr, "emd:   %-22s %llu\n", op_names[i], (unsigned long long)counters[i]);
		if (n < sizeof(status))
			n += (size_t)snprintf(status + n, sizeof(status) - n, " %s=%llu", op_keys[i],
					      (unsigned long long)counters[i]);
	}
	emd_sd_notify(status);
}
