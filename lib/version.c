/*
 * The running library's version (emkit/version.h), for a program to compare
 * with the headers it was built with.
 */
#include "emkit/version.h"

unsigned int emkit_version(void)
{
	return EMKIT_VERSION_NUMBER;
}
