/*
 * Targets that live in a shared object of their own, mapped far from the test
 * executable (beyond a direct branch's reach on x86-64, usually on aarch64 too):
 * they exercise the trampolines' slot path.
 */
#include "far.h"

int far_triple(int x)
{
	return 3 * x;
}

int far_negate(int x)
{
	return -x;
}
