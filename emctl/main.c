/*
 * emctl entry point: dispatch to a command group (see emctl.h).
 */
#include <stdio.h>
#include <string.h>

#include "emctl.h"

struct emctl_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct emctl_command commands[] = {
#ifdef EMCTL_HAVE_EMD
	{"show", emctl_cmd_show, "performance domains and their states, as a table"},
	{"dump", emctl_cmd_dump, "every performance domain (get-perf-domains dump)"},
	{"get", emctl_cmd_get, "one performance domain by id (get-perf-domains do)"},
	{"table", emctl_cmd_table, "one domain's performance table (get-perf-table do)"},
	{"watch", emctl_cmd_watch, "print perf-domain events as they arrive"},
	{"plot", emctl_cmd_plot, "power and cost against frequency, as SVG"},
#endif
#ifdef EMCTL_HAVE_NL
	{"nl", emctl_cmd_nl, "send a request described by a YNL spec, print JSON"},
#endif
#ifdef EMCTL_HAVE_EXEC
	{"exec", emctl_cmd_exec, "run a netlink program with dev-energymodel served by emd"},
#endif
#ifdef EMCTL_HAVE_MODEL
	{"model", emctl_cmd_model, "show, check or export an Energy Model (offline)"},
	{"estimate", emctl_cmd_estimate, "energy estimate for per-CPU utilizations"},
	{"place", emctl_cmd_place, "energy-optimal placement of tasks on CPUs"},
	{"frontier", emctl_cmd_frontier, "least-power CPUs for every performance level"},
#endif
};

static void usage(FILE *out)
{
	fprintf(out, "usage: emctl COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'emctl COMMAND --help' describes one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EMCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EMCTL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "emctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EMCTL_EXIT_USAGE;
}
