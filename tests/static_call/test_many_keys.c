/*
 * Resources do not grow with what is patched: 10,000 static calls (their trampolines
 * and return-0 functions fill some 150 pages, their call sites as many more in the
 * --emit-relocs build), updated one after the other. The process's descriptors and
 * mappings after updating 10 of them and after updating all 10,000 are the same; and
 * with no descriptor to spare but one, every update still succeeds. TAP output.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "emkit/static_call.h"
#include "proc_count.h"

static int many_a(int x)
{
	return x + 1;
}

static int many_b(int x)
{
	return x + 2;
}

#define K(n)   DEFINE_STATIC_CALL(sc_many_##n, many_a);
#define K10(n) K(n##0) K(n##1) K(n##2) K(n##3) K(n##4) K(n##5) K(n##6) K(n##7) K(n##8) K(n##9)
#define K100(n)                                                                            \
	K10(n##0) K10(n##1) K10(n##2) K10(n##3) K10(n##4) K10(n##5) K10(n##6) K10(n##7)      \
	K10(n##8) K10(n##9)
#define K1000(n)                                                                           \
	K100(n##0) K100(n##1) K100(n##2) K100(n##3) K100(n##4) K100(n##5) K100(n##6)          \
	K100(n##7) K100(n##8) K100(n##9)
#define ALL(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(0)

ALL(K1000)

#undef K
#define K(n) &STATIC_CALL_KEY(sc_many_##n),
static struct static_call_key *const keys[] = {ALL(K1000)};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* One call site per key, 100 to a function (one function of 10,000 calls takes a
 * compiler minutes to optimise). */
#undef K
#define K(n) sum += static_call(sc_many_##n)(x);
#define F100(n)                                                                            \
	__attribute__((noinline)) static long call_##n(int x)                                \
	{                                                                                  \
		long sum = 0;                                                              \
		K100(n)                                                                    \
		return sum;                                                                \
	}
#define F1000(n)                                                                           \
	F100(n##0) F100(n##1) F100(n##2) F100(n##3) F100(n##4) F100(n##5) F100(n##6)          \
	F100(n##7) F100(n##8) F100(n##9)
ALL(F1000)

#define C100(n) sum += call_##n(x);
#define C1000(n)                                                                           \
	C100(n##0) C100(n##1) C100(n##2) C100(n##3) C100(n##4) C100(n##5) C100(n##6)          \
	C100(n##7) C100(n##8) C100(n##9)
static long call_all(int x)
{
	long sum = 0;

	ALL(C1000)
	return sum;
}

/* This program's path: its code's mappings count with the library's (proc_count.h). */
static char self[256];

/* The lowest free descriptor: as RLIMIT_NOFILE, it leaves none to spare. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int update_range(size_t from, size_t to, int (*f)(int))
{
	for (size_t i = from; i < to; i++) {
		int err = static_call_update_key(keys[i], (void *)f);

		if (err) {
			printf("# update of key %zu: %s\n", i, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	failed += !ok;
}

int main(void)
{
	int fds0, maps0, fds10, maps10, fds_all, maps_all;
	struct rlimit old, tight;

	printf("1..6\n");
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) <= 0)
		return 1;
	fds0 = proc_count_fds();
	maps0 = proc_count_maps(self);
	check(call_all(0) == (long)NKEYS && update_range(0, 10, many_b) == 0, "10 updates");
	fds10 = proc_count_fds();
	maps10 = proc_count_maps(self);
	check(update_range(10, NKEYS, many_b) == 0 && call_all(0) == 2 * (long)NKEYS,
	      "10,000 updates, every call reaches the new target");
	fds_all = proc_count_fds();
	maps_all = proc_count_maps(self);
	printf("# descriptors %d -> %d -> %d, mappings %d -> %d -> %d; call sites %zu, direct %zu\n",
	       fds0, fds10, fds_all, maps0, maps10, maps_all,
	       static_call_key_sites(keys[0], 0), static_call_key_sites(keys[0], 1));
	check(fds_all == fds10 && maps_all == maps10,
	      "descriptors and mappings do not grow from 10 to 10,000 patched calls");
	check(fds10 - fds0 == 1 && maps10 - maps0 <= 3,
	      "patching adds one descriptor and at most three mappings (one module, one segment)");

	/* No descriptor to spare: nothing an update needs is a new one. */
	getrlimit(RLIMIT_NOFILE, &old);
	tight = old;
	tight.rlim_cur = (rlim_t)lowest_free_fd();
	setrlimit(RLIMIT_NOFILE, &tight);
	check(dup(0) < 0 && update_range(0, NKEYS, many_a) == 0 && call_all(0) == (long)NKEYS,
	      "10,000 updates with no descriptor to spare (RLIMIT_NOFILE)");
	setrlimit(RLIMIT_NOFILE, &old);
	check(proc_count_fds() == fds_all && proc_count_maps(self) == maps_all,
	      "still the same counts");
	return failed ? 1 : 0;
}
