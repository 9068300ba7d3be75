/*
 * The default socket paths of emd and of its clients (see
 * emkit/dev_energymodel_user.h for the rules). The system's socket comes first for a client because it is the
 * one an administrator set up for everyone (emd.socket); a server only takes
 * it as root, the one user that may create it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emkit/dev_energymodel_user.h"

/* @path followed by @suffix into @buf: 0 or -ENAMETOOLONG. */
static int put(char *buf, size_t size, const char *path, const char *suffix)
{
	int n = snprintf(buf, size, "%s%s", path, suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* $name when set and not empty. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* emd_server_socket - see emkit/dev_energymodel_user.h. */
int emd_server_socket(char *buf, size_t size)
{
	const char *xdg = env("XDG_RUNTIME_DIR");

	if (env(EMD_SOCKET_ENV))
		return put(buf, size, env(EMD_SOCKET_ENV), "");
	if (geteuid() == 0)
		return put(buf, size, EMD_ROOT_SOCKET, "");
	if (xdg && xdg[0] == '/')
		return put(buf, size, xdg, "/emd.sock");
	return -ENOENT;
}

/* emd_default_socket - see emkit/dev_energymodel_user.h. */
int emd_default_socket(char *buf, size_t size)
{
	const char *xdg = env("XDG_RUNTIME_DIR");
	struct stat st;

	if (env(EMD_SOCKET_ENV))
		return put(buf, size, env(EMD_SOCKET_ENV), "");
	if (stat(EMD_ROOT_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode))
		return put(buf, size, EMD_ROOT_SOCKET, "");
	if (xdg && xdg[0] == '/')
		return put(buf, size, xdg, "/emd.sock");
	return put(buf, size, EMD_ROOT_SOCKET, "");
}
