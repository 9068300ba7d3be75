/*
 * emctl's netlink model source: a YNL spec file and a socket to the typed
 * client's emdev_read_model(), with the errors of each step said in the
 * model commands' terms.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "emkit/dev_energymodel_user.h"
#include "emkit/nl.h"
#include "model_netlink.h"

static int nl_fail(struct em_error *err, const char *what, const struct emnl_error *e,
		   const struct emnl_spec *spec)
{
	char line[400];

	emnl_error_format(e, spec, line, sizeof(line));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", what, line);
	return e->err ? e->err : -EIO;
}

int emctl_model_load_netlink(struct em_model *m, const char *spec_path,
			     const char *socket_path, struct em_error *err)
{
	struct emnl_error e = {0};
	struct emnl_spec *spec;
	struct emnl_sock *sk;
	struct emdev *c;
	int ret;

	memset(m, 0, sizeof(*m));
	spec = emnl_spec_load(spec_path, &e);
	if (!spec)
		return nl_fail(err, "loading the spec", &e, NULL);
	c = emdev_new(spec, &e);
	if (!c) {
		snprintf(err->msg, sizeof(err->msg), "%s", e.msg);
		emnl_spec_free(spec);
		return e.err;
	}
	sk = socket_path ? emnl_sock_open_unix(socket_path, &e) : emnl_sock_open_kernel(&e);
	if (!sk)
		ret = nl_fail(err, "opening the socket", &e, spec);
	else if (emdev_connect(c, sk, &e))
		ret = nl_fail(err, "resolving the family", &e, spec);
	else
		ret = emdev_read_model(c, m, err);
	emdev_close(c);
	emnl_spec_free(spec);
	return ret;
}
