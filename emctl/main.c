/*
 * emctl's entry point: parse the command line (cli.c), run the command, and
 * check that everything it printed was written — a full disk or a closed
 * pipe is a failure (exit 1 with a message), not a silent success.
 */
#include <stdio.h>

#include "emctl.h"

int main(int argc, char **argv)
{
	struct emctl_args a;
	int rc;

	emctl_output_init();
	rc = emctl_parse(argc, argv, &a);
	if (rc == 0)
		rc = a.cmd->run(&a);
	else if (rc < 0)
		rc = EMCTL_EXIT_OK; /* --help or --version, printed */
	/* The command's own result first; a failed write turns success into 1. */
	if (emctl_close_output(stdout, a.name, "the output") && rc == EMCTL_EXIT_OK)
		rc = EMCTL_EXIT_FAIL;
	return rc;
}
