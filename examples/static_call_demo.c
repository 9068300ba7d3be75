/*
 * static_call_demo — the kernel's two static-call patterns, on live-patched code.
 *
 * 1. Callbacks that another module registers and unregisters (perf's guest-info
 *    callbacks): while no module is registered, the calls are RET0 and return 0; on
 *    unregister they fall back to the call's typed RET0 stub, never to an untyped one.
 * 2. A mode switch on a hot path (cond_resched under the preemption modes): with full
 *    preemption the voluntary rescheduling point is pointless, so the call becomes
 *    RET0 and costs a call and a return; with voluntary preemption it does real work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emkit/static_call.h"

/* ---- pattern 1: registered callbacks ------------------------------------------ */

struct guest_info_callbacks {
	unsigned int (*state)(void);
	unsigned long (*get_ip)(void);
};

/* Prototypes only: the static calls take their type from these. */
unsigned int reference_state(void);
unsigned long reference_get_ip(void);

DEFINE_STATIC_CALL_RET0(guest_state, reference_state);
DEFINE_STATIC_CALL_RET0(guest_get_ip, reference_get_ip);

static int register_guest_callbacks(const struct guest_info_callbacks *cbs)
{
	int err = static_call_update(guest_state, cbs->state);

	if (!err)
		err = static_call_update(guest_get_ip, cbs->get_ip);
	return err;
}

static int unregister_guest_callbacks(void)
{
	int err = static_call_update(guest_state, STATIC_CALL_STUB_RET0(guest_state));

	if (!err)
		err = static_call_update(guest_get_ip, STATIC_CALL_STUB_RET0(guest_get_ip));
	return err;
}

/* A "hypervisor module" that knows which guest is running. */
static unsigned int kvm_state(void)
{
	return 1; /* in guest, user mode */
}

static unsigned long kvm_get_ip(void)
{
	return 0xffffffff81000000ul;
}

static void sample(const char *when)
{
	printf("  %-28s state=%u ip=%#lx\n", when, static_call(guest_state)(),
	       static_call(guest_get_ip)());
}

/* ---- pattern 2: hot-path mode switch ------------------------------------------ */

static unsigned long reschedules;

static int voluntary_cond_resched(void)
{
	reschedules++; /* a real scheduler would check need_resched() here */
	return 1;
}

DEFINE_STATIC_CALL_RET0(cond_resched, voluntary_cond_resched);

enum preempt_mode { PREEMPT_NONE, PREEMPT_VOLUNTARY, PREEMPT_FULL };

static int set_preempt_mode(enum preempt_mode mode)
{
	if (mode == PREEMPT_FULL)
		return static_call_update(cond_resched, STATIC_CALL_STUB_RET0(cond_resched));
	return static_call_update(cond_resched, voluntary_cond_resched);
}

static unsigned long hot_loop(unsigned long n)
{
	unsigned long sum = 0;

	for (unsigned long i = 0; i < n; i++) {
		sum += i;
		if ((i & 1023) == 0)
			static_call(cond_resched)();
	}
	return sum;
}

int main(void)
{
	static const struct guest_info_callbacks kvm = {kvm_state, kvm_get_ip};
	static const char *const names[] = {"none", "voluntary", "full"};
	int err;

	printf("emkit static calls, backend: %s\n\n", static_call_backend_name());

	printf("1. guest-info callbacks (perf): RET0 until a module registers\n");
	sample("before registration:");
	if ((err = register_guest_callbacks(&kvm))) {
		fprintf(stderr, "register: %s\n", strerror(-err));
		return 1;
	}
	sample("kvm registered:");
	if ((err = unregister_guest_callbacks())) {
		fprintf(stderr, "unregister: %s\n", strerror(-err));
		return 1;
	}
	sample("kvm unregistered (RET0):");

	printf("\n2. cond_resched() under the preemption modes\n");
	for (int m = PREEMPT_NONE; m <= PREEMPT_FULL; m++) {
		if ((err = set_preempt_mode((enum preempt_mode)m))) {
			fprintf(stderr, "preempt mode: %s\n", strerror(-err));
			return 1;
		}
		reschedules = 0;
		hot_loop(1u << 20);
		printf("  preempt=%-10s cond_resched -> %-24s reschedule points taken: %lu\n",
		       names[m],
		       static_call_query(cond_resched) == voluntary_cond_resched
			       ? "voluntary_cond_resched"
			       : "RET0 stub",
		       reschedules);
	}
	return 0;
}
