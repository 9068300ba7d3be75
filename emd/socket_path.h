/*
 * Where emd listens by default; shared by emd and emctl so that both agree.
 */
#ifndef EMD_SOCKET_PATH_H
#define EMD_SOCKET_PATH_H

#include <stddef.h>

/* The directory and file emd uses as root. */
#define EMD_ROOT_SOCKET_DIR "/run/emd"
#define EMD_ROOT_SOCKET EMD_ROOT_SOCKET_DIR "/emd.sock"

/*
 * emd_default_socket - the default socket path: /run/emd/emd.sock for root,
 * $XDG_RUNTIME_DIR/emd.sock for anyone else. Returns 0, or -ENOENT when
 * neither applies (not root and no XDG_RUNTIME_DIR), -ENAMETOOLONG.
 */
int emd_default_socket(char *buf, size_t size);

#endif
