/*
 * emctl's command line: the table of options (each with one meaning in every
 * command), the table of commands (which options apply, what arguments they
 * take, their help), and everything derived from them — the getopt_long
 * parser, the help texts and the bash completion script. Adding an option
 * to a command is one bit in its row; its parsing, its help and its
 * completion follow.
 *
 * The grammar: emctl [GLOBAL-OPTIONS] COMMAND [OPTIONS] [ARGS]. The global
 * options (--socket, --json, --kernel, --help, --version) may stand before or
 * after the command; an option given to a command it does not apply to is
 * refused, as is an unknown one. --opt=value and --opt value both work; long
 * options may be abbreviated while unambiguous (getopt_long).
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emctl.h"
#include "emkit/version.h"

/* ---- the options ---------------------------------------------------------------------- */

struct emctl_option {
	const char *name;
	char short_name;      /* 0: none */
	bool arg;             /* takes a value */
	const char *metavar;
	const char *help;
	const char *complete; /* the value: "file", "dir" or NULL */
};

static const struct emctl_option options[O_NR] = {
	[O_SOCKET] = {"socket", 's', true, "PATH",
		      "emd's socket (default: $EMD_SOCKET, else /run/emd/emd.sock when it "
		      "exists, else $XDG_RUNTIME_DIR/emd.sock)", "file"},
	[O_JSON] = {"json", 'j', false, NULL,
		    "print JSON, one line, as the kernel's ynl CLI prints with --output-json",
		    NULL},
	[O_KERNEL] = {"kernel", 0, false, NULL,
		      "ask the running kernel's dev-energymodel family (Linux 6.19 or later) "
		      "instead of emd", NULL},
	[O_HELP] = {"help", 'h', false, NULL, "print this help and exit", NULL},
	[O_VERSION] = {"version", 'V', false, NULL, "print emctl's version and exit", NULL},
	[O_COUNT] = {"count", 'n', true, "N", "stop after N events", NULL},
	[O_TIMEOUT] = {"timeout", 't', true, "S",
		       "stop after S seconds (with --count: a failure if fewer came)", NULL},
	[O_SVG] = {"svg", 0, true, "FILE", "write the chart as SVG to FILE ('-': standard output)",
		   "file"},
	[O_CSV] = {"csv", 0, true, "FILE",
		   "write the states' numbers as CSV to FILE ('-': standard output)", "file"},
	[O_MODEL] = {"model", 'm', true, "FILE",
		     "the model in FILE (YAML or JSON; docs/em-model-format.md)", "file"},
	[O_DEFAULT] = {"default", 0, false, NULL,
		       "the embedded Rockchip RK3399 model (the source when none is given)", NULL},
	[O_DEBUGFS] = {"debugfs", 0, true, "DIR",
		       "the kernel's debugfs energy_model directory "
		       "(/sys/kernel/debug/energy_model)", "dir"},
	[O_NETLINK] = {"netlink", 0, false, NULL,
		       "the model emd serves (--socket, or the default socket), or the "
		       "kernel's with --kernel; --socket and --kernel alone imply it", NULL},
	[O_OUTPUT] = {"output", 'o', true, "FILE",
		      "write to FILE ('-', the default: standard output)", "file"},
	[O_UTIL] = {"util", 0, true, "CPU=UTIL,...",
		    "the CPUs' utilizations (0..1024; CPUs not listed are idle)", NULL},
	[O_ACTUAL_CAP] = {"actual-cap", 0, true, "CPU=CAP,...",
			  "CPUs' actual capacity below their capacity (thermal or cpufreq "
			  "pressure; a domain uses its first CPU's)", NULL},
	[O_TASKS] = {"tasks", 0, true, "UTIL,...", "the tasks' utilizations (1..1024)", NULL},
	[O_TARGETS] = {"targets", 0, true, "PCT,...",
		       "utilization targets in % of the total performance (1..100; default "
		       "5,10,20,30,40,50,60,70,80,90,100, as scx_lavd); each is served by the "
		       "first level at or above it", NULL},
	[O_ALL] = {"all", 0, false, NULL, "every level, not only the targets'", NULL},
	[O_SPEC] = {"spec", 0, true, "FILE", "the family's YNL spec (e.g. spec/nlctrl.yaml)",
		    "file"},
	[O_DO] = {"do", 0, true, "OP", "send OP's do request and print its reply (an object)",
		  NULL},
	[O_DUMP] = {"dump", 0, true, "OP", "send OP's dump request and print the replies (a list)",
		    NULL},
	[O_REQUEST] = {"request", 'r', true, "JSON",
		       "the request's attributes, as ynl's --json takes them, e.g. "
		       "'{\"family-name\": \"nlctrl\"}'", NULL},
	[O_SUBSCRIBE] = {"subscribe", 0, true, "GROUP",
			 "join multicast GROUP and print its notifications, one object a line",
			 NULL},
	[O_DURATION] = {"duration", 0, true, "S",
			"how long to listen for notifications, in seconds (default 0: what is "
			"queued)", NULL},
	[O_LIBRARY] = {"library", 0, true, "FILE",
		       "the preload library (default $EMKIT_PRELOAD, else the one built next to "
		       "emctl, else the installed one)", "file"},
};

/* Options that may stand before the command. */
#define GLOBAL_OPTS (OPT(O_SOCKET) | OPT(O_JSON) | OPT(O_KERNEL) | OPT(O_HELP) | OPT(O_VERSION))
/* Where a command asks: emd or the kernel. */
#define PEER_OPTS (OPT(O_SOCKET) | OPT(O_KERNEL) | OPT(O_HELP))
/* Where a model command's model comes from. */
#define SOURCE_OPTS \
	(OPT(O_MODEL) | OPT(O_DEFAULT) | OPT(O_DEBUGFS) | OPT(O_NETLINK) | PEER_OPTS)

#define SOURCE_TEXT \
	"The model comes from one source: --model FILE, --default (the embedded\n" \
	"RK3399, used when none is given), --debugfs DIR, or --netlink: what emd\n" \
	"serves (or the kernel, with --kernel)."

/* ---- the commands ------------------------------------------------------------------- */

static const struct emctl_command commands[] = {
	{
		.name = "show", .opts = PEER_OPTS | OPT(O_JSON), .run = emctl_cmd_show,
		.summary = "every performance domain and its states, as a table",
		.text = "Ask emd (or, with --kernel, the kernel) for every performance domain\n"
			"(get-perf-domains dump) and each one's states (get-perf-table), and print\n"
			"a table per domain: frequency in MHz (kHz when one is not a whole number\n"
			"of MHz), performance, power in µW (mW when every value is a whole number\n"
			"of mW; \"abstract\" when the domain lacks the microwatts flag), cost, and\n"
			"the state's flags (inefficient: a faster state costs no more).\n"
			"--json prints a list of the domains, each with its perf-state list.",
	},
	{
		.name = "dump", .opts = PEER_OPTS | OPT(O_JSON), .run = emctl_cmd_dump,
		.summary = "every performance domain, one line each",
		.text = "get-perf-domains dump: one line per domain (id, CPUs or \"device\",\n"
			"flags). --json prints the replies as a list.",
	},
	{
		.name = "get", .args = "ID", .min_args = 1, .max_args = 1,
		.opts = PEER_OPTS | OPT(O_JSON), .run = emctl_cmd_get,
		.summary = "one performance domain by id",
		.text = "get-perf-domains do for domain ID: its line, as dump prints it; --json\n"
			"prints the reply.",
	},
	{
		.name = "table", .args = "ID", .min_args = 1, .max_args = 1,
		.opts = PEER_OPTS | OPT(O_JSON), .run = emctl_cmd_table,
		.summary = "one domain's table of states",
		.text = "get-perf-table do for domain ID: its states, as show prints them;\n"
			"--json prints the reply.",
	},
	{
		.name = "watch", .opts = PEER_OPTS | OPT(O_JSON) | OPT(O_COUNT) | OPT(O_TIMEOUT),
		.run = emctl_cmd_watch,
		.summary = "print perf-domain events as they arrive",
		.text = "Join the event group and print perf-domain-created, -updated and\n"
			"-deleted events as they arrive, one line each (--json: one\n"
			"{\"name\": ..., \"msg\": ...} object a line, as ynl --subscribe prints).\n"
			"Events lost on the way (ENOBUFS) are reported on standard error.",
	},
	{
		.name = "plot", .args = "ID", .min_args = 1, .max_args = 1,
		.opts = PEER_OPTS | OPT(O_SVG) | OPT(O_CSV), .run = emctl_cmd_plot,
		.summary = "one domain's power and cost against frequency, as SVG or CSV",
		.text = "Chart domain ID's states: power against frequency and, below it for CPU\n"
			"domains, cost against frequency; a tick at each state's frequency (MHz),\n"
			"gridlines, units, inefficient states marked, the domain and its CPUs in\n"
			"the title. --csv writes the numbers instead (or as well). One of --svg\n"
			"and --csv is needed.",
	},
	{
		.name = "model show", .args = "[FILE]", .max_args = 1, .complete = "file",
		.opts = SOURCE_OPTS | OPT(O_JSON), .run = emctl_cmd_model_show,
		.summary = "print a model, offline or as emd serves it",
		.text = "Print a model's domains and states in show's layout, with each domain's\n"
			"name and capacity; --json prints show's JSON. FILE is --model FILE.\n"
			SOURCE_TEXT,
	},
	{
		.name = "model check", .args = "[FILE]", .max_args = 1, .complete = "file",
		.opts = OPT(O_MODEL) | OPT(O_JSON) | OPT(O_HELP), .run = emctl_cmd_model_check,
		.summary = "validate a model file",
		.text = "Load a model file (YAML or JSON) as emd would and say how many domains\n"
			"and states it has; errors name the file, line and field. FILE is\n"
			"--model FILE.",
	},
	{
		.name = "model export", .args = "[FILE]", .max_args = 1, .complete = "file",
		.opts = SOURCE_OPTS | OPT(O_OUTPUT), .run = emctl_cmd_model_export,
		.summary = "write a model as a YAML model file",
		.text = "Write the model (as registered, so as emd would serve it) as a YAML\n"
			"model file. FILE is --model FILE.\n" SOURCE_TEXT,
	},
	{
		.name = "estimate", .opts = SOURCE_OPTS | OPT(O_JSON) | OPT(O_UTIL) | OPT(O_ACTUAL_CAP),
		.run = emctl_cmd_estimate,
		.summary = "energy estimates for per-CPU utilizations",
		.text = "Two energy estimates for the given per-CPU utilizations, each named:\n"
			"  EAS  what the scheduler computes (Linux 6.14 compute_energy()): per\n"
			"       CPU domain, max_util = the busiest CPU's utilization plus\n"
			"       schedutil's 25 % headroom, capped at the CPU's capacity and then\n"
			"       at its actual capacity; busy_time = the summed utilization, at\n"
			"       most actual capacity * CPUs; energy = cost of the state picked\n"
			"       for max_util * busy_time\n"
			"  raw  em_cpu_energy() with max_util and sum_util as given (no\n"
			"       headroom), each CPU clamped to the allowed capacity\n"
			"docs/em.md has every rule. --util is required.\n" SOURCE_TEXT,
	},
	{
		.name = "place", .opts = SOURCE_OPTS | OPT(O_JSON) | OPT(O_TASKS),
		.run = emctl_cmd_place,
		.summary = "energy-optimal placement of tasks on CPUs",
		.text = "Assign tasks to CPUs under the scheduler's rules (Linux 6.14): a CPU\n"
			"takes a load only if load * 1280 < capacity * 1024 (fits_capacity), and\n"
			"energy is the EAS estimate (see 'emctl help estimate'). Two placements:\n"
			"  optimal  the least EAS estimate, by exhaustive search (up to 12 tasks)\n"
			"  greedy   what find_energy_efficient_cpu() does, one wake-up at a time,\n"
			"           biggest task first, each beside those placed before it\n"
			"and the gap between them. --tasks is required.\n" SOURCE_TEXT,
	},
	{
		.name = "frontier",
		.opts = SOURCE_OPTS | OPT(O_JSON) | OPT(O_TARGETS) | OPT(O_ALL),
		.run = emctl_cmd_frontier,
		.summary = "least-power CPUs for every performance level",
		.text = "For each performance level the CPUs can reach, the CPUs to run and each\n"
			"domain's state for the least total power: the table sched_ext's scx_lavd\n"
			"builds with scx_utils' EnergyModelOptimizer, computed exactly. A level's\n"
			"performance is the sum, over its CPUs, of their domain's state's\n"
			"performance; its power the sum of those states' power. Equal power:\n"
			"fewest domains, then fewest CPUs, then the domains the previous level\n"
			"ran. Overflow: the other CPUs, in the order the levels above add them.\n"
			SOURCE_TEXT,
	},
	{
		.name = "nl",
		.opts = OPT(O_SPEC) | OPT(O_DO) | OPT(O_DUMP) | OPT(O_REQUEST) | OPT(O_SUBSCRIBE) |
			OPT(O_DURATION) | OPT(O_COUNT) | OPT(O_JSON) | PEER_OPTS,
		.run = emctl_cmd_nl,
		.summary = "a request of any generic netlink family a YNL spec describes",
		.text = "Load the YNL spec, resolve its family through the controller, send a do\n"
			"or a dump and print the replies as JSON (always; --json is accepted),\n"
			"as the kernel's ynl CLI does with --output-json: an object for a do, a\n"
			"list for a dump, {\"name\": ..., \"msg\": ...} a line for notifications.\n"
			"The kernel answers unless --socket names a server (emd). A failed\n"
			"request prints the peer's extended ack. --spec is required, and one of\n"
			"--do, --dump or --subscribe.",
		.opt_help = {{O_COUNT, "stop after N notifications"},
			     {O_SOCKET, "ask the server at the UNIX seqpacket socket PATH "
					"(emd) instead of the kernel"},
			     {O_KERNEL, "ask the kernel (the default)"}},
	},
	{
		.name = "exec", .args = "[--] COMMAND [ARGS...]", .min_args = 1, .max_args = UINT_MAX,
		.stop_at_arg = true, .complete = "command",
		.opts = OPT(O_SOCKET) | OPT(O_LIBRARY) | OPT(O_HELP), .run = emctl_cmd_exec,
		.summary = "run a netlink program with dev-energymodel served by emd",
		.text = "Run COMMAND with libemkit-preload loaded (LD_PRELOAD): on its generic\n"
			"netlink sockets dev-energymodel is served by emd, everything else by the\n"
			"kernel. Programs it execs keep the library; statically linked programs\n"
			"and programs making raw system calls cannot be served (docs/preload.md).\n"
			"The exit status is COMMAND's (126: it cannot be run, 127: not found;\n"
			"3: the library is missing).",
		.opt_help = {{O_SOCKET, "emd's socket (sets EMD_SOCKET for COMMAND; default: "
					"$EMD_SOCKET, else emd's default socket)"}},
	},
	{
		.name = "help", .args = "[COMMAND]", .max_args = 2, .complete = "help",
		.opts = OPT(O_HELP), .run = emctl_cmd_help,
		.summary = "describe emctl, or one command",
		.text = "Print the general help, or COMMAND's (as 'emctl COMMAND --help').",
	},
	{
		.name = "completion", .args = "SHELL", .min_args = 1, .max_args = 1,
		.complete = "shell", .opts = OPT(O_HELP), .run = emctl_cmd_completion,
		.summary = "print the shell completion script (SHELL: bash)",
		.text = "Print emctl's completion script for SHELL (bash), generated from the\n"
			"same table as the parser and this help: source <(emctl completion\n"
			"bash). Installed as share/bash-completion/completions/emctl.",
	},
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char exit_text[] =
	"Exit status: 0 success; 1 the request failed, the model is invalid or the\n"
	"output could not be written; 2 usage error; 3 emd (or the kernel's\n"
	"dev-energymodel family) is not reachable.\n";

/* ---- help ---------------------------------------------------------------------------- */

/* @text wrapped at 79 columns, continuation lines indented by @indent, the
 * first starting at column @col. */
static void wrap(FILE *out, const char *text, size_t indent, size_t col)
{
	const char *p = text;

	while (*p) {
		const char *end = p;
		size_t w;

		while (*end && *end != ' ')
			end++;
		w = (size_t)(end - p);
		if (col > indent && col + 1 + w > 79) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, w, out);
		col += w;
		p = *end ? end + 1 : end;
	}
	fputc('\n', out);
}

static const char *opt_help(const struct emctl_command *c, enum emctl_opt o)
{
	for (size_t i = 0; c && i < sizeof(c->opt_help) / sizeof(c->opt_help[0]); i++)
		if (c->opt_help[i].help && c->opt_help[i].opt == o)
			return c->opt_help[i].help;
	return options[o].help;
}

/* The options in @mask, one per line, as getopt_long takes them. */
static void print_options(FILE *out, uint64_t mask, const struct emctl_command *c)
{
	for (int o = 0; o < O_NR; o++) {
		const struct emctl_option *op = &options[o];
		char head[64];
		int n;

		if (!(mask & OPT(o)))
			continue;
		n = snprintf(head, sizeof(head), "  %c%c%c --%s%s%s", op->short_name ? '-' : ' ',
			     op->short_name ? op->short_name : ' ', op->short_name ? ',' : ' ',
			     op->name, op->arg ? " " : "", op->arg ? op->metavar : "");
		fputs(head, out);
		if (n >= 26) {
			fprintf(out, "\n%26s", "");
			n = 26;
		} else {
			fprintf(out, "%*s", 26 - n, "");
		}
		wrap(out, opt_help(c, (enum emctl_opt)o), 26, 26);
	}
}

static void print_command_help(FILE *out, const struct emctl_command *c)
{
	fprintf(out, "usage: emctl %s [OPTIONS]%s%s\n\n", c->name, c->args ? " " : "",
		c->args ? c->args : "");
	fprintf(out, "%s\n\nOptions:\n", c->text);
	print_options(out, c->opts | OPT(O_HELP), c);
}

static void print_general_help(FILE *out)
{
	fputs("usage: emctl [OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
	      "Query, watch and explain the Linux Energy Model as emd(8) serves it (or the\n"
	      "kernel's dev-energymodel generic netlink family), and work on models\n"
	      "offline.\n\nCommands:\n", out);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fputs("\nOptions (before or after the command, where they apply):\n", out);
	print_options(out, GLOBAL_OPTS, NULL);
	fputs("\n'emctl help COMMAND' or 'emctl COMMAND --help' describes one command;\n"
	      "emctl(1) describes them all.\n\n", out);
	fputs(exit_text, out);
}

/* ---- lookup ---------------------------------------------------------------------------- */

/* The command named by @argv[0] (and @argv[1] for a group): its entry, and in
 * *@words how many words its name took; NULL if none. *@group: @argv[0] names
 * a group ("model") but the second word names none of its commands. */
static const struct emctl_command *find_command(int argc, char **argv, int *words, bool *group)
{
	size_t len = strlen(argv[0]);

	*group = false;
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		const char *name = commands[i].name;

		if (!strcmp(name, argv[0])) {
			*words = 1;
			return &commands[i];
		}
		if (!strncmp(name, argv[0], len) && name[len] == ' ') {
			*group = true;
			if (argc > 1 && !strcmp(name + len + 1, argv[1])) {
				*words = 2;
				*group = false;
				return &commands[i];
			}
		}
	}
	return NULL;
}

/* Print the help of every command of group @g ("model"). */
static void print_group_help(FILE *out, const char *g)
{
	size_t len = strlen(g);
	bool first = true;

	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strncmp(commands[i].name, g, len) && commands[i].name[len] == ' ') {
			if (!first)
				fputc('\n', out);
			print_command_help(out, &commands[i]);
			first = false;
		}
}

/* ---- parsing ------------------------------------------------------------------------ */

int emctl_usage_error(const struct emctl_args *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", a->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (a->cmd)
		fprintf(stderr, "\n(see 'emctl help %s')\n", a->cmd->name);
	else
		fprintf(stderr, "\n(see 'emctl --help')\n");
	return EMCTL_EXIT_USAGE;
}

/* getopt_long's tables for every option: long options return 256 + their id. */
static void getopt_tables(struct option *lopts, char *shorts, bool stop)
{
	size_t n = 0;

	if (stop)
		shorts[n++] = '+';
	shorts[n++] = ':';
	for (int o = 0; o < O_NR; o++) {
		lopts[o] = (struct option){options[o].name,
					   options[o].arg ? required_argument : no_argument, NULL,
					   256 + o};
		if (options[o].short_name) {
			shorts[n++] = options[o].short_name;
			if (options[o].arg)
				shorts[n++] = ':';
		}
	}
	lopts[O_NR] = (struct option){NULL, 0, NULL, 0};
	shorts[n] = '\0';
}

/* The option getopt_long returned as @c, or -1. */
static int option_of(int c)
{
	if (c >= 256 && c < 256 + O_NR)
		return c - 256;
	for (int o = 0; o < O_NR; o++)
		if (c && options[o].short_name == c)
			return o;
	return -1;
}

/* getopt_long's complaint for return value @c, in emctl's words. */
static int getopt_error(const struct emctl_args *a, int c, char **argv)
{
	char name[64];
	int o = option_of(optopt);

	if (c == ':' && o >= 0) {
		/* As the user wrote it: getopt gives a short option as its letter. */
		if (optopt < 256)
			snprintf(name, sizeof(name), "-%c", optopt);
		else
			snprintf(name, sizeof(name), "--%s", options[o].name);
		return emctl_usage_error(a, "option '%s' requires an argument", name);
	}
	if (c == '?' && optopt >= 256 && o >= 0)
		return emctl_usage_error(a, "option '--%s' takes no argument", options[o].name);
	if (optopt && optopt < 256)
		return emctl_usage_error(a, "unknown option '-%c'", optopt);
	/* An unknown or ambiguous long option: the word as given, up to '='. */
	snprintf(name, sizeof(name), "%s", optind > 0 ? argv[optind - 1] : "?");
	name[strcspn(name, "=")] = '\0';
	return emctl_usage_error(a, "unknown option '%s'", name);
}

/* A number > 0 for option @o. */
static int positive(const struct emctl_args *a, int o, const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno || end == s || *end || *v <= 0)
		return emctl_usage_error(a, "--%s: '%s' is not a positive number", options[o].name,
					 s);
	return 0;
}

/* Store option @o's value @v in @a. */
static int take(struct emctl_args *a, int o, const char *v)
{
	char *end;

	a->given |= OPT(o);
	switch (o) {
	case O_SOCKET: a->socket = v; break;
	case O_JSON: a->json = true; break;
	case O_KERNEL: a->kernel = true; break;
	case O_COUNT: return positive(a, o, v, &a->count);
	case O_TIMEOUT: return positive(a, o, v, &a->timeout);
	case O_SVG: a->svg = v; break;
	case O_CSV: a->csv = v; break;
	case O_MODEL: a->model = v; break;
	case O_DEFAULT: a->def = true; break;
	case O_DEBUGFS: a->debugfs = v; break;
	case O_NETLINK: a->netlink = true; break;
	case O_OUTPUT: a->output = v; break;
	case O_UTIL: a->util = v; break;
	case O_ACTUAL_CAP: a->actual_cap = v; break;
	case O_TASKS: a->tasks = v; break;
	case O_TARGETS: a->targets = v; break;
	case O_ALL: a->all = true; break;
	case O_SPEC: a->spec = v; break;
	case O_DO: a->do_op = v; break;
	case O_DUMP: a->dump_op = v; break;
	case O_REQUEST: a->request = v; break;
	case O_SUBSCRIBE: a->subscribe = v; break;
	case O_DURATION:
		errno = 0;
		a->duration = strtod(v, &end);
		if (errno || end == v || *end || !(a->duration >= 0 && a->duration <= 86400))
			return emctl_usage_error(a, "--duration: '%s' is not a number of seconds "
						    "(0..86400)", v);
		break;
	case O_LIBRARY: a->library = v; break;
	default: break; /* --help, --version: looked at by the caller */
	}
	return 0;
}

/* Parse the options of @argv from optind on: before the command (a->cmd
 * NULL) only the global ones, after it only the command's; @stop: options
 * end at the first argument. */
static int parse_options(int argc, char **argv, struct emctl_args *a, bool stop)
{
	struct option lopts[O_NR + 1];
	char shorts[2 * O_NR + 3];
	int c;

	getopt_tables(lopts, shorts, stop);
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		int o = option_of(c), rc;

		if (c == '?' || c == ':' || o < 0)
			return getopt_error(a, c, argv);
		if (!a->cmd && !(GLOBAL_OPTS & OPT(o)))
			return emctl_usage_error(a, "option '--%s' goes after the command it is "
						    "for", options[o].name);
		if (a->cmd && !(a->cmd->opts & OPT(o)))
			return emctl_usage_error(a, "option '--%s' does not apply to %s",
						 options[o].name, a->cmd->name);
		rc = take(a, o, optarg);
		if (rc)
			return rc;
	}
	return 0;
}

int emctl_parse(int argc, char **argv, struct emctl_args *a)
{
	static char name[64];
	uint64_t before;
	bool group;
	int words, rc, at;

	memset(a, 0, sizeof(*a));
	a->name = "emctl";
	/* Options before the command: stop at the first word that is none. */
	optind = 0;
	rc = parse_options(argc, argv, a, true);
	if (rc)
		return rc;
	if (a->given & OPT(O_VERSION)) {
		printf("emctl (emkit) %s\n", EMKIT_VERSION);
		return -1;
	}
	if (optind >= argc) {
		if (a->given & OPT(O_HELP)) {
			print_general_help(stdout);
			return -1;
		}
		fprintf(stderr, "emctl: no command given\n");
		print_general_help(stderr);
		return EMCTL_EXIT_USAGE;
	}
	at = optind;
	a->cmd = find_command(argc - at, argv + at, &words, &group);
	if (!a->cmd && group) {
		if (at + 1 < argc && (!strcmp(argv[at + 1], "--help") ||
				      !strcmp(argv[at + 1], "-h") || (a->given & OPT(O_HELP)))) {
			print_group_help(stdout, argv[at]);
			return -1;
		}
		if (a->given & OPT(O_HELP) && at + 1 == argc) {
			print_group_help(stdout, argv[at]);
			return -1;
		}
		snprintf(name, sizeof(name), "emctl %s", argv[at]);
		a->name = name;
		if (at + 1 >= argc)
			fprintf(stderr, "%s: give a subcommand:", a->name);
		else
			fprintf(stderr, "%s: unknown subcommand '%s'; it is one of", a->name,
				argv[at + 1]);
		for (size_t i = 0, len = strlen(argv[at]); i < NR_COMMANDS; i++)
			if (!strncmp(commands[i].name, argv[at], len) && commands[i].name[len] == ' ')
				fprintf(stderr, " %s", commands[i].name + len + 1);
		fprintf(stderr, "\n(see 'emctl help %s')\n", argv[at]);
		return EMCTL_EXIT_USAGE;
	}
	if (!a->cmd) {
		fprintf(stderr, "emctl: unknown command '%s'\n(see 'emctl --help')\n", argv[at]);
		return EMCTL_EXIT_USAGE;
	}
	snprintf(name, sizeof(name), "emctl %s", a->cmd->name);
	a->name = name;
	/* The global options given before it must apply to it too. */
	before = a->given;
	for (int o = 0; o < O_NR; o++)
		if ((before & OPT(o)) && !(a->cmd->opts & OPT(o)) && o != O_HELP)
			return emctl_usage_error(a, "option '--%s' does not apply to %s",
						 options[o].name, a->cmd->name);
	/* Its options and arguments: argv[at + words - 1] is argv[0] to getopt. */
	argc -= at + words - 1;
	argv += at + words - 1;
	optind = 0;
	rc = parse_options(argc, argv, a, a->cmd->stop_at_arg);
	if (rc)
		return rc;
	if (a->given & OPT(O_HELP)) {
		print_command_help(stdout, a->cmd);
		return -1;
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	if ((unsigned int)a->argc < a->cmd->min_args) {
		/* The first argument's name: "ID", "COMMAND" (not "[--]"). */
		const char *what = a->cmd->args;

		while (what[0] == '[')
			what += strcspn(what, " ") + 1;
		return emctl_usage_error(a, "missing %.*s", (int)strcspn(what, " "), what);
	}
	if ((unsigned int)a->argc > a->cmd->max_args)
		return emctl_usage_error(a, "unexpected argument '%s'%s",
					 a->argv[a->cmd->max_args],
					 a->argv[a->cmd->max_args][0] == '{'
						 ? " (request attributes go in --request JSON)"
						 : "");
	if (a->kernel && a->socket)
		return emctl_usage_error(a, "--kernel and --socket exclude each other");
	return 0;
}

int emctl_parse_id(const struct emctl_args *a, uint32_t *id)
{
	const char *s = a->argv[0];
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v > UINT32_MAX)
		return emctl_usage_error(a, "'%s' is not a performance domain id", s);
	*id = (uint32_t)v;
	return 0;
}

/* ---- help and completion as commands --------------------------------------------------- */

int emctl_cmd_help(struct emctl_args *a)
{
	const struct emctl_command *c;
	bool group;
	int words;

	if (a->argc == 0) {
		print_general_help(stdout);
		return EMCTL_EXIT_OK;
	}
	c = find_command(a->argc, a->argv, &words, &group);
	if (c && words == a->argc) {
		print_command_help(stdout, c);
		return EMCTL_EXIT_OK;
	}
	if (group && a->argc == 1) {
		print_group_help(stdout, a->argv[0]);
		return EMCTL_EXIT_OK;
	}
	return emctl_usage_error(a, "no command '%s%s%s'", a->argv[0], a->argc > 1 ? " " : "",
				 a->argc > 1 ? a->argv[1] : "");
}

int emctl_cmd_completion(struct emctl_args *a)
{
	if (strcmp(a->argv[0], "bash"))
		return emctl_usage_error(a, "no completion for '%s' (only bash)", a->argv[0]);
	return emctl_completion_bash(stdout);
}

/* The option words of @mask for a completion list: "--socket -s --json ...". */
static void option_words(FILE *out, uint64_t mask)
{
	const char *sep = "";

	for (int o = 0; o < O_NR; o++) {
		if (!(mask & OPT(o)))
			continue;
		fprintf(out, "%s--%s", sep, options[o].name);
		sep = " ";
		if (options[o].short_name)
			fprintf(out, " -%c", options[o].short_name);
	}
}

/* The option words (with @arg: only those taking a value of kind @kind;
 * kind NULL: any value). */
static void value_option_words(FILE *out, const char *kind)
{
	const char *sep = "";

	for (int o = 0; o < O_NR; o++) {
		if (!options[o].arg || (kind && (!options[o].complete ||
						 strcmp(options[o].complete, kind))))
			continue;
		fprintf(out, "%s--%s", sep, options[o].name);
		sep = "|";
		if (options[o].short_name)
			fprintf(out, "|-%c", options[o].short_name);
	}
}

int emctl_completion_bash(FILE *out)
{
	char groups[128] = "";
	size_t n = 0;

	/* The first words of two-word commands ("model"), once each. */
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		const char *sp = strchr(commands[i].name, ' ');
		int len = sp ? (int)(sp - commands[i].name) : 0;

		if (sp && (i == 0 || strncmp(commands[i - 1].name, commands[i].name, (size_t)len + 1)))
			n += (size_t)snprintf(groups + n, sizeof(groups) - n, "%s%.*s", n ? " " : "",
					      len, commands[i].name);
		assert(n < sizeof(groups));
	}
	fprintf(out,
		"# bash completion for emctl (emkit %s), generated by 'emctl completion bash'\n"
		"# from the table that also drives emctl's parser and help.\n"
		"_emctl()\n{\n"
		"    local cur prev words cword i w cmd= sub= opts args=0 complete=\n"
		"    local groups=\"%s\"\n"
		"    words=(\"${COMP_WORDS[@]}\")\n"
		"    cword=$COMP_CWORD\n"
		"    cur=${words[cword]}\n"
		"    prev=${words[cword-1]}\n"
		"    # --opt=value: bash splits at '='.\n"
		"    if [[ $cur == = ]]; then prev=${words[cword-1]}; cur=; fi\n"
		"    if [[ $prev == = && $cword -ge 2 ]]; then prev=${words[cword-2]}; fi\n"
		"    # The command (one or two words) and how many arguments precede cur.\n"
		"    for ((i = 1; i < cword; i++)); do\n"
		"        w=${words[i]}\n"
		"        if [[ ${words[i+1]} == = ]]; then ((i += 2)); continue; fi\n"
		"        case $w in\n"
		"        ",
		EMKIT_VERSION, groups);
	value_option_words(out, NULL);
	fprintf(out, ")\n"
		     "            ((i++)) ;;\n"
		     "        --) [[ $cmd ]] && args=$((args + cword - i - 1)) && break ;;\n"
		     "        -*) ;;\n"
		     "        *)\n"
		     "            if [[ -z $cmd ]]; then cmd=$w\n"
		     "            elif [[ -z $sub && \" $groups \" == *\" $cmd \"* ]]; then sub=$w\n"
		     "            else args=$((args + 1)); [[ $cmd == exec ]] && break\n"
		     "            fi ;;\n"
		     "        esac\n"
		     "    done\n"
		     "    [[ $sub ]] && cmd=\"$cmd $sub\"\n"
		     "    # The value of an option.\n"
		     "    case $prev in\n    ");
	value_option_words(out, "file");
	fprintf(out, ")\n        compopt -o filenames 2>/dev/null\n"
		     "        COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n    ");
	value_option_words(out, "dir");
	fprintf(out, ")\n        compopt -o filenames 2>/dev/null\n"
		     "        COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n    ");
	value_option_words(out, NULL);
	fprintf(out, ")\n        COMPREPLY=(); return ;;\n    esac\n"
		     "    case $cmd in\n");
	/* Per command: its options and what its arguments are. */
	fprintf(out, "    '')\n        opts=\"");
	option_words(out, GLOBAL_OPTS);
	fprintf(out, "\"\n        complete=commands ;;\n");
	{
		const char *groups_done = "";

		for (size_t i = 0; i < NR_COMMANDS; i++) {
			const struct emctl_command *c = &commands[i];
			const char *sp = strchr(c->name, ' ');

			if (sp && strncmp(groups_done, c->name, (size_t)(sp - c->name) + 1)) {
				/* The group's word alone: its subcommands. */
				fprintf(out, "    %.*s)\n        if [[ $cur == -* ]]; then "
					     "COMPREPLY=($(compgen -W \"--help -h\" -- \"$cur\"))\n"
					     "        else COMPREPLY=($(compgen -W \"",
					(int)(sp - c->name), c->name);
				for (size_t j = i; j < NR_COMMANDS; j++)
					if (!strncmp(commands[j].name, c->name,
						     (size_t)(sp - c->name) + 1))
						fprintf(out, "%s%s", j == i ? "" : " ",
							commands[j].name + (sp - c->name) + 1);
				fprintf(out, "\" -- \"$cur\")); fi\n        return ;;\n");
				groups_done = c->name;
			}
			fprintf(out, "    '%s')\n        opts=\"", c->name);
			option_words(out, c->opts | OPT(O_HELP));
			fprintf(out, "\"\n");
			if (c->stop_at_arg) /* past COMMAND, the words are its own */
				fprintf(out, "        [[ $args -ge 1 ]] && opts=\n");
			if (c->max_args)
				fprintf(out, "        [[ $args -lt %u ]] && complete=%s ;;\n",
					c->max_args == UINT_MAX ? 1000000 : c->max_args,
					c->complete ? c->complete : "none");
			else
				fprintf(out, "        ;;\n");
		}
	}
	fprintf(out, "    *) return ;;\n    esac\n"
		     "    if [[ $cur == -* ]]; then\n"
		     "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return\n"
		     "    fi\n"
		     "    case $complete in\n"
		     "    commands|help) COMPREPLY=($(compgen -W \"");
	{
		const char *prev_group = "";

		for (size_t i = 0; i < NR_COMMANDS; i++) {
			const char *nm = commands[i].name, *sp = strchr(nm, ' ');

			if (sp && !strncmp(prev_group, nm, (size_t)(sp - nm) + 1))
				continue;
			fprintf(out, "%s%.*s", i ? " " : "", sp ? (int)(sp - nm) : (int)strlen(nm), nm);
			prev_group = sp ? nm : "";
		}
	}
	fprintf(out, "\" -- \"$cur\")) ;;\n"
		     "    file) compopt -o filenames 2>/dev/null\n"
		     "        COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
		     "    command) if [[ $args -eq 0 ]]; then COMPREPLY=($(compgen -c -- \"$cur\"))\n"
		     "        else compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); fi ;;\n"
		     "    shell) COMPREPLY=($(compgen -W \"bash\" -- \"$cur\")) ;;\n"
		     "    *) COMPREPLY=() ;;\n"
		     "    esac\n"
		     "}\n"
		     "complete -F _emctl emctl\n");
	return EMCTL_EXIT_OK;
}
