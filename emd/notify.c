/*
 * The service manager's readiness protocol (sd_notify), without libsystemd:
 * when $NOTIFY_SOCKET names a UNIX datagram socket (a path, or an abstract
 * name written with a leading '@'), each state change ("READY=1",
 * "RELOADING=1", "STOPPING=1", "STATUS=...") is one datagram to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "emd.h"

/* emd_sd_notify - send @state; 0 when sent or when nobody asked. */
int emd_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen;
	socklen_t salen;
	ssize_t n;
	int fd;

	if (!path || !path[0])
		return 0;
	plen = strlen(path);
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;
	if (plen >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
			    (path[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Never block the service on a slow manager: a full queue drops the line. */
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
		   salen);
	close(fd);
	return n < 0 ? -errno : 0;
}
