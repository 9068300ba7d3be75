/*
 * emctl exec: run an unmodified netlink program with libemkit-preload loaded
 * (LD_PRELOAD), so that dev-energymodel on its generic netlink sockets is
 * served by emd while everything else reaches the kernel (docs/preload.md).
 * emctl only finds the library, sets the environment and execs the command:
 * the program's exit status is the command's own. Options end at COMMAND
 * (the table's stop_at_arg), whose own options are its own.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emctl.h"

#define LIB_NAME "libemkit-preload.so"

/* The library built next to this emctl (build tree: ../preload/), if any. */
static bool built_library(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return snprintf(buf, size, "%s/../preload/" LIB_NAME, exe) < (int)size &&
	       access(buf, R_OK) == 0;
}

int emctl_cmd_exec(struct emctl_args *a)
{
	const char *lib = a->library ? a->library : getenv("EMKIT_PRELOAD"), *old;
	char built[PATH_MAX], abs[PATH_MAX], *preload;
	size_t len;
	int c;

	if (a->socket && setenv("EMD_SOCKET", a->socket, 1))
		return EMCTL_EXIT_FAIL;
	if (!lib || !lib[0])
		lib = built_library(built, sizeof(built)) ? built : EMKIT_PRELOAD_INSTALLED;
	/* The dynamic loader takes LD_PRELOAD entries as paths when they hold a
	 * slash; make it absolute so that a command changing directory keeps it. */
	if (!realpath(lib, abs) || access(abs, R_OK)) {
		fprintf(stderr, "emctl exec: cannot use the preload library %s: %s\n", lib,
			strerror(errno));
		return 3;
	}
	old = getenv("LD_PRELOAD");
	len = strlen(abs) + (old ? strlen(old) + 1 : 0) + 1;
	preload = malloc(len);
	if (!preload)
		return EMCTL_EXIT_FAIL;
	if (old && old[0] && !strstr(old, abs))
		snprintf(preload, len, "%s:%s", abs, old);
	else
		snprintf(preload, len, "%s", old && old[0] ? old : abs);
	if (setenv("LD_PRELOAD", preload, 1))
		return EMCTL_EXIT_FAIL;
	free(preload);
	/* Flush what emctl wrote, if anything, before the program takes over. */
	fflush(stdout);
	execvp(a->argv[0], a->argv);
	c = errno;
	fprintf(stderr, "emctl exec: %s: %s\n", a->argv[0], strerror(c));
	return c == ENOENT ? 127 : 126;
}
