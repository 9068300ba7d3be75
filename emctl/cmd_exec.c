/*
 * emctl exec: run an unmodified netlink program with libemkit-preload loaded
 * (LD_PRELOAD), so that dev-energymodel on its generic netlink sockets is
 * served by emd while everything else reaches the kernel (docs/preload.md).
 * emctl only finds the library, sets the environment and execs the command:
 * the program's exit status is the command's own.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emctl.h"

#define LIB_NAME "libemkit-preload.so"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: emctl exec [--socket PATH] [--library FILE] [--] COMMAND [ARGS...]\n"
		"\n"
		"Run COMMAND with libemkit-preload loaded (LD_PRELOAD): on its generic\n"
		"netlink sockets, dev-energymodel is served by emd, everything else by the\n"
		"kernel. Programs it execs keep the library; statically linked programs and\n"
		"programs making raw system calls cannot be served (docs/preload.md).\n"
		"\n"
		"  --socket PATH   emd's socket (sets EMD_SOCKET; default $EMD_SOCKET, else\n"
		"                  emd's default socket, as for the other commands)\n"
		"  --library FILE  the library (default $EMKIT_PRELOAD, else the one built next\n"
		"                  to emctl, else " EMKIT_PRELOAD_INSTALLED ")\n"
		"\n"
		"Exit status: COMMAND's; 126 it cannot be run, 127 it was not found,\n"
		"2 usage error, 3 the library was not found.\n");
}

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

int emctl_cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"library", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *lib = getenv("EMKIT_PRELOAD"), *old;
	char built[PATH_MAX], abs[PATH_MAX], *preload;
	size_t len;
	int c;

	/* '+': options end at the command, whose own options are its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (setenv("EMD_SOCKET", optarg, 1))
				return EMCTL_EXIT_FAIL;
			break;
		case 'l':
			lib = optarg;
			break;
		case 'h':
			usage(stdout);
			return EMCTL_EXIT_OK;
		default:
			usage(stderr);
			return EMCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "emctl exec: give the command to run\n");
		usage(stderr);
		return EMCTL_EXIT_USAGE;
	}
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
	execvp(argv[optind], argv + optind);
	c = errno;
	fprintf(stderr, "emctl exec: %s: %s\n", argv[optind], strerror(c));
	return c == ENOENT ? 127 : 126;
}
