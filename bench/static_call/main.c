/*
 * bench/static_call: ns per call for each kind of call, and its ratio to a direct call
 * measured in the same run; then the latency of one static_call_update().
 *
 * Each loop runs --calls calls (default 100,000,000); a measurement is the best of
 * --repeat runs (default 7), interleaved across kinds so that a burst of load on this
 * shared machine hits them all alike. Times are wall-clock (CLOCK_MONOTONIC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emkit/static_call.h"

#include "bench.h"
#include "../timing.h"

struct kind {
	const char *name;
	long (*run)(long n, int work);
	double best_ns[2]; /* empty callee, callee with a body */
	int base;          /* the kind its ratio is against */
};

int main(int argc, char **argv)
{
	struct kind kinds[] = {
		{"direct call", bench_direct, {0, 0}, 0},
#if STATIC_CALL_HAVE_TRAMP
		{"static_call, " STATIC_CALL_BACKEND_NAME, bench_static_call_tramp, {0, 0}, 0},
		{"static_call, inline call sites", bench_static_call, {0, 0}, 0},
#endif
		{"static_call, generic", bench_static_call_generic, {0, 0}, 0},
		{"function pointer", bench_fptr, {0, 0}, 0},
#ifdef BENCH_HAVE_RETPOLINE
		{"function pointer, retpoline", bench_retpoline, {0, 0}, 0},
#endif
#ifdef BENCH_HAVE_KCFI
		{"function pointer, kCFI", bench_kcfi, {0, 0}, 0},
#endif
		/* In a shared library: against a direct call in that library. */
		{"shared library: direct call", bench_lib_direct, {0, 0}, -1},
		{"shared library: static_call", bench_lib_static_call, {0, 0}, -1},
		{"shared library: key in other module", bench_lib_cross, {0, 0}, -1},
	};
	size_t nk = sizeof(kinds) / sizeof(kinds[0]), lib_base = nk - 3;
	long calls = 100000000, updates = 20000;
	int repeat = 7;
	double t0, upd_tramp, upd_generic;
	volatile long sink = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			calls = atol(argv[++i]);
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--updates") && i + 1 < argc)
			updates = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--calls N] [--repeat N] [--updates N]\n", argv[0]);
			return 2;
		}
	}
	if (calls <= 0 || repeat <= 0 || updates <= 0) {
		fprintf(stderr, "bench_static_call: counts must be positive\n");
		return 2;
	}

	for (size_t k = 0; k < nk; k++)
		if (kinds[k].base < 0)
			kinds[k].base = (int)lib_base;
	/* Patch once first, so that the timed code is in its steady state. */
	if (bench_update_tramp(0) || bench_update_tramp_only(0) || bench_update_generic(0) ||
	    bench_update_lib(0)) {
		fprintf(stderr, "bench_static_call: static_call_update failed\n");
		return 1;
	}
	for (int r = 0; r < repeat; r++) {
		for (int w = 0; w < 2; w++) {
			for (size_t k = 0; k < nk; k++) {
				double t = now_ns();

				sink += kinds[k].run(calls, w);
				t = (now_ns() - t) / (double)calls;
				if (r == 0 || t < kinds[k].best_ns[w])
					kinds[k].best_ns[w] = t;
			}
		}
	}

	t0 = now_ns();
	for (long i = 0; i < updates; i++)
		if (bench_update_tramp_only((int)(i & 1)))
			return 1;
	upd_tramp = (now_ns() - t0) / (double)updates / 2; /* two keys per round */
	t0 = now_ns();
	for (long i = 0; i < updates; i++)
		if (bench_update_generic((int)(i & 1)))
			return 1;
	upd_generic = (now_ns() - t0) / (double)updates;

	printf("bench/static_call: %ld calls per run, best of %d\n", calls, repeat);
	printf("%-36s %21s %25s\n", "", "empty callee", "estimate-sized callee");
	printf("%-36s %10s %10s %12s %12s\n", "kind", "ns/call", "vs direct", "ns/call",
	       "vs direct");
	for (size_t k = 0; k < nk; k++) {
		const struct kind *b = &kinds[kinds[k].base];

		if (k == lib_base)
			printf("(in a shared library, vs a direct call in that library)\n");
		printf("%-36s %10.3f %9.2fx %12.3f %11.2fx\n", kinds[k].name, kinds[k].best_ns[0],
		       kinds[k].best_ns[0] / b->best_ns[0], kinds[k].best_ns[1],
		       kinds[k].best_ns[1] / b->best_ns[1]);
	}
#ifdef BENCH_HAVE_RETPOLINE
	for (int k = 1; k <= 2; k++)
		printf("retpoline call / %s: %.2fx empty, %.2fx estimate-sized\n", kinds[k].name,
		       kinds[5].best_ns[0] / kinds[k].best_ns[0],
		       kinds[5].best_ns[1] / kinds[k].best_ns[1]);
#endif
	printf("static_call_update latency: %s %.0f ns, generic %.0f ns (%ld updates)\n",
	       STATIC_CALL_BACKEND_NAME, upd_tramp, upd_generic, updates);
	printf("call sites patched in the benchmark loops: %zu in the executable, %zu in the "
	       "shared library\n", bench_sites_direct(), bench_lib_sites_direct());
	return sink == 42 ? 3 : 0;
}
