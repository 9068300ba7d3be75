/*
 * emctl — the command-line client. One grammar for every command: a table of
 * options and a table of commands (cli.c) drive the parsing (getopt_long),
 * each command's help, the general help and the bash completion, so that
 * none of them can drift from the others. The files:
 *
 *   main.c        parse, dispatch, and check that the output was written
 *   cli.c         the two tables; parsing; help; the bash completion script
 *   output.c      the one output style: JSON in the ynl CLI's shape, the
 *                 domain table with units, checked writes
 *   peer.c        reaching emd (or the kernel): the default socket, errors
 *   cmd_emd.c     show, dump, get, table, watch (requests to emd or the kernel)
 *   plot.c        plot: one domain as an SVG chart or CSV
 *   cmd_model.c   model show|check|export, estimate, place, frontier (offline,
 *                 or on the model emd serves)
 *   cmd_nl.c      nl: any generic netlink family a YNL spec describes
 *   cmd_exec.c    exec: a program run with libemkit-preload (preload/)
 *
 * Exit status, the same for every command (emctl(1), EXIT STATUS):
 *   0  success
 *   1  the request failed (an error reply, no such domain), the model is
 *      invalid, the placement impossible, or the output could not be written
 *   2  the command line is wrong
 *   3  emd is unreachable, or the kernel has no dev-energymodel family
 * (exec: the program's own status; 126/127 it cannot be run/found; 3 the
 * preload library is missing.)
 */
#ifndef EMCTL_H
#define EMCTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	EMCTL_EXIT_OK = 0,
	EMCTL_EXIT_FAIL = 1,
	EMCTL_EXIT_USAGE = 2,
	EMCTL_EXIT_UNREACHABLE = 3,
};

/* ---- the command line (cli.c) ----------------------------------------------------- */

/* Every option of every command, each with one meaning everywhere. */
enum emctl_opt {
	O_SOCKET, O_JSON, O_KERNEL, O_HELP, O_VERSION,
	O_COUNT, O_TIMEOUT, O_SVG, O_CSV,
	O_MODEL, O_DEFAULT, O_DEBUGFS, O_NETLINK, O_OUTPUT,
	O_UTIL, O_ACTUAL_CAP, O_TASKS, O_TARGETS, O_ALL,
	O_SPEC, O_DO, O_DUMP, O_REQUEST, O_SUBSCRIBE, O_DURATION,
	O_LIBRARY,
	O_NR
};
#define OPT(o) (1ULL << (o))

struct emctl_command;

/* A parsed command line. */
struct emctl_args {
	const struct emctl_command *cmd;
	const char *name;      /* "emctl show": the prefix of every message */
	uint64_t given;        /* OPT() bits of the options given */
	const char *socket;
	bool json, kernel;
	long count, timeout;   /* watch, nl */
	double duration;       /* nl */
	const char *svg, *csv, *output;
	const char *model, *debugfs;
	bool def, netlink, all;
	const char *util, *actual_cap, *tasks, *targets;
	const char *spec, *do_op, *dump_op, *request, *subscribe;
	const char *library;
	int argc;              /* the positional arguments */
	char **argv;
};

/* One command: its name (one or two words), arguments, options and help. */
struct emctl_command {
	const char *name;
	const char *args;        /* the positional arguments' synopsis ("ID", "[FILE]") */
	unsigned int min_args, max_args;
	bool stop_at_arg;        /* options end at the first argument (exec) */
	const char *complete;    /* how to complete the arguments: "file", "command",
				  * "help", "shell" or NULL (nothing) */
	uint64_t opts;           /* OPT() bits of the options that apply */
	const char *summary;     /* one line */
	const char *text;        /* the description, wrapped at 78 columns */
	struct {
		enum emctl_opt opt;
		const char *help;
	} opt_help[4];           /* what an option means here, when it says more */
	int (*run)(struct emctl_args *a);
};

/*
 * emctl_parse - parse @argv into @a: options before the command, the command
 * (one or two words), its options and arguments. Returns 0 to run a->cmd,
 * -1 when the command line asked for help or the version (printed), or
 * EMCTL_EXIT_USAGE after printing why.
 */
int emctl_parse(int argc, char **argv, struct emctl_args *a);

/* emctl_usage_error - "@a->name: <message>" and a pointer to the help;
 * returns EMCTL_EXIT_USAGE. */
int emctl_usage_error(const struct emctl_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Write the bash completion script, generated from the tables. */
int emctl_completion_bash(FILE *out);

/* ---- output (output.c) -------------------------------------------------------------- */

struct json_object;

/* emctl_json_print - @j on one line and a newline, as the kernel's ynl CLI
 * prints with --output-json (Python's json.dumps: ", " and ": ", ASCII). */
void emctl_json_print(FILE *out, struct json_object *j);

/* emctl_output_init - standard output through a stream that keeps the
 * errno of its first failed write, for emctl_close_output's message. */
void emctl_output_init(void);

/*
 * emctl_close_output - flush @f and check it and its earlier writes: 0, or
 * EMCTL_EXIT_FAIL after "@prefix: writing @what: <reason>". Closes @f unless
 * it is stdout.
 */
int emctl_close_output(FILE *f, const char *prefix, const char *what);

/*
 * emctl_open_output - @path for writing, or stdout for "-": NULL after
 * "@prefix: PATH: <reason>".
 */
FILE *emctl_open_output(const char *path, const char *prefix);

/* One performance state and one domain, whichever source they came from. */
struct emctl_state {
	uint64_t frequency, performance, power, cost, flags;
};
struct emctl_domain {
	uint32_t id;
	const char *name;       /* NULL: unnamed (netlink carries no names) */
	uint64_t flags;         /* EM_PD_* */
	bool device;            /* no CPUs */
	char cpus[256];         /* CPU list, "0-3" */
	unsigned long capacity; /* CPU domains */
	size_t n_states;
	struct emctl_state *states;
};

/* "microwatts,artificial", or "none". */
void emctl_pd_flags_words(uint64_t flags, char *buf, size_t size);
/* "perf-domain 0 'little': cpus 0-3, capacity 381, flags microwatts" */
void emctl_print_domain_line(FILE *out, const struct emctl_domain *d);
/* The domain line, then its states as one table with units (n_states > 0). */
void emctl_print_domain(FILE *out, const struct emctl_domain *d);
/* The unit the table and the plot give power in: "µW", "mW" or "abstract"
 * (no microwatts flag); *@div is what to divide the values by. */
const char *emctl_power_unit(const struct emctl_domain *d, unsigned long *div);

/* ---- reaching emd or the kernel (peer.c) ------------------------------------------- */

struct emdev;
struct emnl_error;

/* A connection to emd or the kernel with dev-energymodel resolved. */
struct emctl_peer {
	struct emdev *dev;
	const struct emnl_spec *spec;
	char where[PATH_MAX + 16]; /* "emd at /run/emd/emd.sock", "the kernel" */
};

/*
 * emctl_peer_connect - reach emd (a->socket, else the default socket) or,
 * with a->kernel, the kernel, and resolve dev-energymodel. Returns 0, or the
 * exit status after printing why (EMCTL_EXIT_UNREACHABLE: not reachable;
 * an EACCES names the group the socket admits).
 */
int emctl_peer_connect(const struct emctl_args *a, struct emctl_peer *p);
void emctl_peer_close(struct emctl_peer *p);
/* Report a failed request @op ("get-perf-table"); "no performance domain
 * with id N" when @id >= 0 and the peer says there is none. Returns 1. */
int emctl_peer_failed(const struct emctl_args *a, const struct emctl_peer *p, const char *op,
		      const struct emnl_error *e, long long id);

struct emdev_perf_domain;
struct emdev_perf_table;
/* A get-perf-domains message as a domain to print (no states yet). */
void emctl_domain_of(const struct emdev_perf_domain *pd, struct emctl_domain *d);
/* A get-perf-table message's states into @d (allocated: free(d->states)). */
int emctl_states_of(const struct emdev_perf_table *t, struct emctl_domain *d);

/* ---- the commands ------------------------------------------------------------------ */

int emctl_cmd_show(struct emctl_args *a);
int emctl_cmd_dump(struct emctl_args *a);
int emctl_cmd_get(struct emctl_args *a);
int emctl_cmd_table(struct emctl_args *a);
int emctl_cmd_watch(struct emctl_args *a);
int emctl_cmd_plot(struct emctl_args *a);
int emctl_cmd_model_show(struct emctl_args *a);
int emctl_cmd_model_check(struct emctl_args *a);
int emctl_cmd_model_export(struct emctl_args *a);
int emctl_cmd_estimate(struct emctl_args *a);
int emctl_cmd_place(struct emctl_args *a);
int emctl_cmd_frontier(struct emctl_args *a);
int emctl_cmd_nl(struct emctl_args *a);
int emctl_cmd_exec(struct emctl_args *a);
int emctl_cmd_help(struct emctl_args *a);
int emctl_cmd_completion(struct emctl_args *a);

/* emctl_parse_id - a->argv[0] as a performance domain id, or a usage error. */
int emctl_parse_id(const struct emctl_args *a, uint32_t *id);

#endif
