/*
 * The default socket path rule, in one place for emd, emctl and the typed
 * client: root's emd is the system's (/run/emd/emd.sock); a user's emd lives
 * in the user's runtime directory ($XDG_RUNTIME_DIR/emd.sock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "emkit/dev_energymodel_user.h"

/* emd_default_socket - see emkit/dev_energymodel_user.h. */
int emd_default_socket(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, size, "%s", EMD_ROOT_SOCKET);
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/emd.sock", xdg);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
