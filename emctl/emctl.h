/*
 * emctl — the command-line client. Each command group lives in its own file and
 * exports one entry point with main()'s signature (argv[0] is the group's name):
 *
 *   cmd_nl.c     emctl nl ...            generic YNL-spec-driven netlink requests
 *   cmd_model.c  emctl model|estimate|place ...   offline Energy Model tools
 *   cmd_emd.c    emctl show|dump|get|table|watch|plot ...   queries to emd or the kernel
 *   cmd_exec.c   emctl exec -- CMD ...   run a netlink program against emd (preload/)
 *
 * main.c dispatches on the first argument and prints the usage.
 */
#ifndef EMCTL_H
#define EMCTL_H

int emctl_cmd_nl(int argc, char **argv);
int emctl_cmd_model(int argc, char **argv);
int emctl_cmd_estimate(int argc, char **argv);
int emctl_cmd_place(int argc, char **argv);
int emctl_cmd_frontier(int argc, char **argv);
int emctl_cmd_show(int argc, char **argv);
int emctl_cmd_dump(int argc, char **argv);
int emctl_cmd_get(int argc, char **argv);
int emctl_cmd_table(int argc, char **argv);
int emctl_cmd_watch(int argc, char **argv);
int emctl_cmd_plot(int argc, char **argv);
int emctl_cmd_exec(int argc, char **argv);

/* Exit codes shared by every command. */
enum {
	EMCTL_EXIT_OK = 0,
	EMCTL_EXIT_FAIL = 1,  /* the request failed (error reply, bad model...) */
	EMCTL_EXIT_USAGE = 2, /* the command line was wrong */
};

#endif
