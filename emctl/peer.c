/*
 * Reaching emd or the kernel, for every emctl command that asks one: emd at
 * --socket or at the default socket (emd_default_socket: $EMD_SOCKET, else
 * /run/emd/emd.sock when it exists, else $XDG_RUNTIME_DIR/emd.sock), or the
 * kernel's generic netlink with --kernel; then dev-energymodel resolved
 * through the controller with the spec built into libemkit. What went wrong
 * is said in the user's terms: a socket nobody listens on, a socket whose
 * group the user is not in (and how an administrator opens it), a kernel
 * without the family.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "emctl.h"
#include "emkit/dev_energymodel_user.h"
#include "emkit/em.h"
#include "emkit/nl.h"

void emctl_peer_close(struct emctl_peer *p)
{
	emdev_close(p->dev);
	memset(p, 0, sizeof(*p));
}

/* Why connecting to @path was refused: who the socket admits. */
static void say_denied(const struct emctl_args *a, const char *path)
{
	struct stat st;
	struct group *g;
	struct passwd *pw;
	char gname[64], uname[64];

	if (stat(path, &st)) {
		fprintf(stderr, "%s: cannot reach emd at %s: Permission denied (a directory on "
				"the way is closed to you: %s)\n", a->name, path, strerror(errno));
		return;
	}
	g = getgrgid(st.st_gid);
	snprintf(gname, sizeof(gname), g ? "%s" : "%.0s%u", g ? g->gr_name : "",
		 (unsigned int)st.st_gid);
	pw = getpwuid(st.st_uid);
	snprintf(uname, sizeof(uname), pw ? "%s" : "%.0s%u", pw ? pw->pw_name : "",
		 (unsigned int)st.st_uid);
	fprintf(stderr,
		"%s: cannot reach emd at %s: Permission denied: the socket admits its owner "
		"'%s' and the members of group '%s' (mode %03o); to let a group connect, see "
		"SocketGroup= (emd.socket) and --socket-group in emd(8)\n",
		a->name, path, uname, gname, (unsigned int)(st.st_mode & 0777));
}

int emctl_peer_connect(const struct emctl_args *a, struct emctl_peer *p)
{
	struct emnl_error e = {0};
	struct emnl_sock *sk;
	char path[PATH_MAX], line[400];

	memset(p, 0, sizeof(*p));
	p->spec = emdev_builtin_spec(&e);
	if (p->spec)
		p->dev = emdev_new(p->spec, &e);
	if (!p->dev) {
		fprintf(stderr, "%s: the built-in dev-energymodel spec: %s\n", a->name, e.msg);
		return EMCTL_EXIT_FAIL;
	}
	if (a->kernel) {
		snprintf(p->where, sizeof(p->where), "the kernel");
		sk = emnl_sock_open_kernel(&e);
	} else {
		if (a->socket) {
			snprintf(path, sizeof(path), "%s", a->socket);
		} else if (emd_default_socket(path, sizeof(path))) {
			/* Its only failure: $EMD_SOCKET or $XDG_RUNTIME_DIR too long. */
			fprintf(stderr, "%s: the default socket's path is too long (from $%s or "
					"$XDG_RUNTIME_DIR); give --socket PATH\n", a->name,
				EMD_SOCKET_ENV);
			emctl_peer_close(p);
			return EMCTL_EXIT_USAGE;
		}
		snprintf(p->where, sizeof(p->where), "emd at %s", path);
		sk = emnl_sock_open_unix(path, &e);
	}
	if (!sk) {
		if (e.err == -EACCES && !a->kernel)
			say_denied(a, path);
		else if (e.err == -ENOENT || e.err == -ECONNREFUSED)
			fprintf(stderr, "%s: cannot reach %s: %s (is emd running?)\n", a->name,
				p->where, strerror(-e.err));
		else
			fprintf(stderr, "%s: cannot reach %s: %s\n", a->name, p->where,
				e.err ? strerror(-e.err) : e.msg);
		emctl_peer_close(p);
		return EMCTL_EXIT_UNREACHABLE;
	}
	if (emdev_connect(p->dev, sk, &e)) {
		if (a->kernel && e.err == -ENOENT)
			fprintf(stderr, "%s: the running kernel has no dev-energymodel generic "
					"netlink family (it needs Linux 6.19 or later with "
					"CONFIG_ENERGY_MODEL); use emd instead\n", a->name);
		else
			fprintf(stderr, "%s: %s: resolving dev-energymodel: %s\n", a->name, p->where,
				emnl_error_format(&e, p->spec, line, sizeof(line)));
		emctl_peer_close(p);
		return EMCTL_EXIT_UNREACHABLE;
	}
	return 0;
}

int emctl_peer_failed(const struct emctl_args *a, const struct emctl_peer *p, const char *op,
		      const struct emnl_error *e, long long id)
{
	char line[400];

	/* The fixed kernel answers -EINVAL for an id it does not know, emd (and
	 * older kernels' get-perf-table) -ENOENT; either way the id is unknown
	 * when the extended ack points at it or says nothing else. */
	if (id >= 0 && (e->err == -ENOENT || e->err == -EINVAL) && !e->has_miss_type)
		fprintf(stderr, "%s: no performance domain with id %lld\n", a->name, id);
	else if (e->err == -ECONNRESET || e->err == -EPIPE)
		fprintf(stderr, "%s: %s closed the connection\n", a->name, p->where);
	else
		fprintf(stderr, "%s: %s: %s\n", a->name, op,
			emnl_error_format(e, p->spec, line, sizeof(line)));
	return EMCTL_EXIT_FAIL;
}

/* ---- the wire's messages as domains to print ------------------------------------------ */

void emctl_domain_of(const struct emdev_perf_domain *pd, struct emctl_domain *d)
{
	struct em_cpumask m = {{0}};

	memset(d, 0, sizeof(*d));
	d->id = pd->perf_domain_id;
	d->flags = pd->flags;
	for (size_t i = 0; i < pd->n_cpus; i++)
		if (pd->cpus[i] < EM_MAX_CPUS)
			em_cpumask_set(&m, (unsigned int)pd->cpus[i]);
	d->device = em_cpumask_weight(&m) == 0;
	if (!d->device)
		em_cpumask_format(&m, d->cpus, sizeof(d->cpus));
}

int emctl_states_of(const struct emdev_perf_table *t, struct emctl_domain *d)
{
	struct emctl_state *s = calloc(t->n_states ? t->n_states : 1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_states; i++)
		s[i] = (struct emctl_state){t->states[i].frequency, t->states[i].performance,
					    t->states[i].power, t->states[i].cost, t->states[i].flags};
	d->states = s;
	d->n_states = t->n_states;
	return 0;
}
