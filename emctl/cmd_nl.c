/*
 * `emctl nl`: a generic netlink client driven by a YNL spec. It loads the
 * spec, resolves the family through the controller (the kernel's, or emd's
 * over --socket), turns --request into a request, sends a do or a dump, and
 * prints the replies as JSON in the shape of the kernel's `ynl --output-json`
 * (one object for a do, a list for a dump, one object per line with "name"
 * and "msg" for notifications). A failed request prints the peer's decoded
 * extended ack on stderr and exits 1; a peer that cannot be reached or has
 * no such family exits 3; a wrong command line exits 2.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <linux/genetlink.h>

#include "emctl.h"
#include "emkit/nl.h"

/* Options that need one another. */
static int check_args(const struct emctl_args *a)
{
	if (!a->spec)
		return emctl_usage_error(a, "--spec FILE is required");
	if (a->do_op && a->dump_op)
		return emctl_usage_error(a, "give one of --do and --dump");
	if (!a->do_op && !a->dump_op && !a->subscribe)
		return emctl_usage_error(a, "give --do OP, --dump OP or --subscribe GROUP");
	if (a->count && !a->subscribe)
		return emctl_usage_error(a, "--count needs --subscribe");
	if ((a->given & OPT(O_DURATION)) && !a->subscribe)
		return emctl_usage_error(a, "--duration needs --subscribe");
	if (a->request && !a->do_op && !a->dump_op)
		return emctl_usage_error(a, "--request needs --do or --dump");
	return 0;
}

/* Print the error of a failed request and return the exit status. */
static int report(const char *what, const struct emnl_error *e, const struct emnl_spec *spec)
{
	char line[512];

	fprintf(stderr, "emctl nl: %s: %s\n", what, emnl_error_format(e, spec, line, sizeof(line)));
	return EMCTL_EXIT_FAIL;
}

/* A reader that went away (or a full disk) ends the command with 1. */
static bool output_failed(void)
{
	return fflush(stdout) == EOF || ferror(stdout);
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
	bool out_failed;
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
	emctl_json_print(stdout, o);
	json_object_put(o);
	c->printed++;
	if (output_failed()) {
		c->out_failed = true;
		return -EIO;
	}
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

		if (c.out_failed)
			return emctl_close_output(stdout, "emctl nl", "the output");
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
static int make_request(const struct emctl_args *a, const struct emnl_op *op,
			struct emnl_attrs **req)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *j;
	struct emnl_error e;

	*req = NULL;
	if (!a->request)
		return 0;
	tok = json_tokener_new();
	j = json_tokener_parse_ex(tok, a->request, (int)strlen(a->request));
	jerr = json_tokener_get_error(tok);
	if (!j || jerr != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != strlen(a->request)) {
		fprintf(stderr, "emctl nl: --request is not valid JSON: %s\n",
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
		fprintf(stderr, "emctl nl: --request: %s\n", e.msg);
		json_object_put(j);
		return EMCTL_EXIT_USAGE;
	}
	json_object_put(j);
	return 0;
}

/* Send the do or dump and print the outcome. */
static int run_request(const struct emctl_args *a, struct emnl_sock *sk,
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

			emctl_json_print(stdout, j);
			json_object_put(j);
		}
	} else {
		json_object *list = json_object_new_array();

		rc = emnl_dump(sk, fam, op, req, add_to_list, list, &e);
		if (!rc)
			emctl_json_print(stdout, list);
		json_object_put(list);
	}
	emnl_attrs_free(reply);
	emnl_attrs_free(req);
	if (rc)
		return report(name, &e, spec);
	return output_failed() ? emctl_close_output(stdout, "emctl nl", "the output")
			       : EMCTL_EXIT_OK;
}

/* emctl_cmd_nl - entry point of `emctl nl`. */
int emctl_cmd_nl(struct emctl_args *a)
{
	struct emnl_spec *spec;
	struct emnl_sock *sk;
	struct emnl_family fam;
	struct emnl_error e;
	char line[512];
	int rc = check_args(a);

	if (rc)
		return rc;
	spec = emnl_spec_load(a->spec, &e);
	if (!spec) {
		fprintf(stderr, "emctl nl: %s\n", e.msg);
		return EMCTL_EXIT_FAIL;
	}
	sk = a->socket ? emnl_sock_open_unix(a->socket, &e) : emnl_sock_open_kernel(&e);
	if (!sk) {
		fprintf(stderr, "emctl nl: cannot reach %s%s: %s\n", a->socket ? "" : "the kernel",
			a->socket ? a->socket : "", emnl_error_format(&e, spec, line, sizeof(line)));
		emnl_spec_free(spec);
		return EMCTL_EXIT_UNREACHABLE;
	}
	if (emnl_family_resolve(sk, spec, &fam, &e)) {
		/* No such family there: the peer is not the one asked for. */
		rc = report("resolving the family", &e, spec);
		if (e.err == -ENOENT)
			rc = EMCTL_EXIT_UNREACHABLE;
		goto out;
	}
	if (a->subscribe && emnl_subscribe(sk, &fam, a->subscribe, &e)) {
		rc = report("subscribing", &e, spec);
		goto out_fam;
	}
	if (a->do_op || a->dump_op)
		rc = run_request(a, sk, &fam, spec);
	if (!rc && a->subscribe)
		rc = listen_for(sk, &fam, a->duration, a->count, spec);
out_fam:
	emnl_family_release(&fam);
out:
	emnl_sock_close(sk);
	emnl_spec_free(spec);
	return rc;
}
