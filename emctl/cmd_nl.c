/*
 * `emctl nl`: a generic netlink client driven by a YNL spec. It loads the
 * spec, resolves the family through the controller (the kernel's, or emd's
 * over --socket), turns --json into a request, sends a do or a dump, and
 * prints the replies as JSON in the shape of the kernel's `ynl --output-json`
 * (one object for a do, a list for a dump, one object per line with "name"
 * and "msg" for notifications). A failed request prints the peer's decoded
 * extended ack on stderr and exits 1; a wrong command line exits 2.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <linux/genetlink.h>

#include "emctl.h"
#include "emkit/nl.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: emctl nl --spec FILE (--do OP | --dump OP) [--json JSON]\n"
		"                [--subscribe GROUP --duration S [--count N]] [--socket PATH]\n"
		"       emctl nl --spec FILE --subscribe GROUP --duration S [--count N] [--socket PATH]\n"
		"\n"
		"Send a request of the generic netlink family that the YNL spec FILE\n"
		"describes and print the replies as JSON.\n"
		"\n"
		"  --spec FILE         YNL spec of the family (e.g. spec/nlctrl.yaml)\n"
		"  --do OP             send OP's do request, print its reply (an object)\n"
		"  --dump OP           send OP's dump request, print every reply (a list)\n"
		"  --json JSON         request attributes, e.g. '{\"perf-domain-id\": 0}'\n"
		"  --subscribe GROUP   join multicast GROUP and print its notifications\n"
		"  --duration S        how long to listen, in seconds (default 0: what is queued)\n"
		"  --count N           stop after N notifications\n"
		"  --socket PATH       talk to a server on a UNIX seqpacket socket (emd)\n"
		"                      instead of the kernel\n"
		"  --help              this text\n"
		"\n"
		"Exit status: 0 success, 1 the request failed (the error and the peer's\n"
		"extended ack are printed), 2 the command line was wrong.\n");
}

/* Options of one invocation. */
struct nl_args {
	const char *spec, *do_op, *dump_op, *json, *group, *socket;
	double duration;
	long count; /* 0: no limit */
};

static int parse_args(int argc, char **argv, struct nl_args *a)
{
	static const struct option opts[] = {
		{"spec", required_argument, NULL, 's'},
		{"do", required_argument, NULL, 'd'},
		{"dump", required_argument, NULL, 'D'},
		{"json", required_argument, NULL, 'j'},
		{"subscribe", required_argument, NULL, 'g'},
		{"duration", required_argument, NULL, 't'},
		{"socket", required_argument, NULL, 'u'},
		{"count", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->spec = optarg; break;
		case 'd': a->do_op = optarg; break;
		case 'D': a->dump_op = optarg; break;
		case 'j': a->json = optarg; break;
		case 'g': a->group = optarg; break;
		case 'u': a->socket = optarg; break;
		case 't':
			a->duration = strtod(optarg, &end);
			if (*end || a->duration < 0 || a->duration > 86400) {
				fprintf(stderr, "emctl nl: bad --duration '%s'\n", optarg);
				return EMCTL_EXIT_USAGE;
			}
			break;
		case 'n':
			a->count = strtol(optarg, &end, 10);
			if (*end || a->count < 1) {
				fprintf(stderr, "emctl nl: bad --count '%s'\n", optarg);
				return EMCTL_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return EMCTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "emctl nl: unexpected argument '%s'\n", argv[optind]);
		return EMCTL_EXIT_USAGE;
	}
	if (!a->spec) {
		fprintf(stderr, "emctl nl: --spec is required\n");
		usage(stderr);
		return EMCTL_EXIT_USAGE;
	}
	if ((a->do_op && a->dump_op) || (!a->do_op && !a->dump_op && !a->group)) {
		fprintf(stderr, "emctl nl: give one of --do or --dump (or --subscribe)\n");
		usage(stderr);
		return EMCTL_EXIT_USAGE;
	}
	if (a->count && !a->group) {
		fprintf(stderr, "emctl nl: --count needs --subscribe\n");
		return EMCTL_EXIT_USAGE;
	}
	if (a->json && !a->do_op && !a->dump_op) {
		fprintf(stderr, "emctl nl: --json needs --do or --dump\n");
		return EMCTL_EXIT_USAGE;
	}
	return 0;
}

/* Print the error of a failed request and return the exit status. */
static int report(const char *what, const struct emnl_error *e, const struct emnl_spec *spec)
{
	char line[512];

	fprintf(stderr, "emctl nl: %s: %s\n", what, emnl_error_format(e, spec, line, sizeof(line)));
	return EMCTL_EXIT_FAIL;
}

/* Dump callback: collect replies in a JSON list. */
static int add_to_list(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	(void)nlh;
	json_object_array_add(data, emnl_to_json(msg));
	return 0;
}

struct notify_ctx {
	const struct emnl_spec *spec;
	long printed;
};

/* Notification callback: one line {"name": ..., "msg": {...}} each. */
static int print_notification(const struct nlmsghdr *nlh, struct emnl_attrs *msg, void *data)
{
	struct notify_ctx *c = data;
	const struct genlmsghdr *g = (const void *)((const char *)nlh + NLMSG_HDRLEN);
	const struct emnl_op *op = emnl_spec_op_by_cmd(c->spec, g->cmd, true, NULL);
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", op ? json_object_new_string(op->name)
					      : json_object_new_int(g->cmd));
	json_object_object_add(o, "msg", emnl_to_json(msg));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED));
	fflush(stdout);
	json_object_put(o);
	c->printed++;
	return 0;
}

/* Monotonic milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Listen for notifications for @duration seconds. */
static int listen_for(struct emnl_sock *sk, const struct emnl_family *fam, double duration,
		      long count, const struct emnl_spec *spec)
{
	struct notify_ctx c = {.spec = spec};
	long long end = now_ms() + (long long)(duration * 1000);
	struct emnl_error e;

	for (;;) {
		long long left = end - now_ms();
		int n = emnl_recv_notification(sk, fam, left > 0 ? (int)left : 0, print_notification,
					       &c, &e);

		if (n < 0)
			return report("receiving notifications", &e, spec);
		if (count && c.printed >= count)
			return EMCTL_EXIT_OK;
		if (n == 0 && left <= 0)
			return EMCTL_EXIT_OK;
		if (n == 0 && now_ms() >= end)
			return EMCTL_EXIT_OK;
	}
}

/* Build the request tree from --json. */
static int make_request(const struct nl_args *a, const struct emnl_op *op,
			struct emnl_attrs **req)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *j;
	struct emnl_error e;

	*req = NULL;
	if (!a->json)
		return 0;
	tok = json_tokener_new();
	j = json_tokener_parse_ex(tok, a->json, (int)strlen(a->json));
	jerr = json_tokener_get_error(tok);
	if (!j || jerr != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != strlen(a->json)) {
		fprintf(stderr, "emctl nl: --json is not valid JSON: %s\n",
			j ? "trailing characters" : json_tokener_error_desc(jerr));
		json_object_put(j);
		json_tokener_free(tok);
		return EMCTL_EXIT_USAGE;
	}
	json_tokener_free(tok);
	if (!op->set) {
		json_object_put(j);
		fprintf(stderr, "emctl nl: '%s' takes no attributes\n", op->name);
		return EMCTL_EXIT_USAGE;
	}
	if (emnl_from_json(j, op->set, req, &e)) {
		fprintf(stderr, "emctl nl: --json: %s\n", e.msg);
		json_object_put(j);
		return EMCTL_EXIT_USAGE;
	}
	json_object_put(j);
	return 0;
}

/* Send the do or dump and print the outcome. */
static int run_request(const struct nl_args *a, struct emnl_sock *sk,
		       const struct emnl_family *fam, const struct emnl_spec *spec)
{
	const char *name = a->do_op ? a->do_op : a->dump_op;
	const struct emnl_op *op = emnl_spec_op(spec, name);
	struct emnl_attrs *req, *reply = NULL;
	struct emnl_error e;
	int rc;

	if (!op) {
		fprintf(stderr, "emctl nl: %s has no operation '%s'\n", spec->name, name);
		return EMCTL_EXIT_USAGE;
	}
	if (a->do_op && !op->has_do) {
		fprintf(stderr, "emctl nl: '%s' has no do request (try --dump)\n", name);
		return EMCTL_EXIT_USAGE;
	}
	if (a->dump_op && !op->has_dump) {
		fprintf(stderr, "emctl nl: '%s' cannot be dumped (try --do)\n", name);
		return EMCTL_EXIT_USAGE;
	}
	rc = make_request(a, op, &req);
	if (rc)
		return rc;
	if (a->do_op) {
		rc = emnl_do(sk, fam, op, req, &reply, &e);
		if (!rc && reply) {
			json_object *j = emnl_to_json(reply);

			printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_SPACED));
			json_object_put(j);
		}
	} else {
		json_object *list = json_object_new_array();

		rc = emnl_dump(sk, fam, op, req, add_to_list, list, &e);
		if (!rc)
			printf("%s\n", json_object_to_json_string_ext(list, JSON_C_TO_STRING_SPACED));
		json_object_put(list);
	}
	emnl_attrs_free(reply);
	emnl_attrs_free(req);
	if (rc)
		return report(name, &e, spec);
	fflush(stdout);
	return EMCTL_EXIT_OK;
}

/* emctl_cmd_nl - entry point of `emctl nl`. */
int emctl_cmd_nl(int argc, char **argv)
{
	struct nl_args a;
	struct emnl_spec *spec;
	struct emnl_sock *sk;
	struct emnl_family fam;
	struct emnl_error e;
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc < 0 ? EMCTL_EXIT_OK : rc;
	spec = emnl_spec_load(a.spec, &e);
	if (!spec) {
		fprintf(stderr, "emctl nl: %s\n", e.msg);
		return EMCTL_EXIT_USAGE;
	}
	sk = a.socket ? emnl_sock_open_unix(a.socket, &e) : emnl_sock_open_kernel(&e);
	if (!sk) {
		rc = report("opening the socket", &e, spec);
		emnl_spec_free(spec);
		return rc;
	}
	if (emnl_family_resolve(sk, spec, &fam, &e)) {
		rc = report("resolving the family", &e, spec);
		goto out;
	}
	if (a.group && emnl_subscribe(sk, &fam, a.group, &e)) {
		rc = report("subscribing", &e, spec);
		goto out_fam;
	}
	if (a.do_op || a.dump_op)
		rc = run_request(&a, sk, &fam, spec);
	if (!rc && a.group)
		rc = listen_for(sk, &fam, a.duration, a.count, spec);
out_fam:
	emnl_family_release(&fam);
out:
	emnl_sock_close(sk);
	emnl_spec_free(spec);
	return rc;
}
