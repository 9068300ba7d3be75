/*
 * Where emd listens and where its clients look, when neither is told
 * (--socket): the rules in one place, so that emd and emctl agree.
 *
 *   emd (server)                          emctl (client)
 *   1. a socket passed by the service     1. $EMD_SOCKET
 *      manager (LISTEN_FDS; main.c)       2. /run/emd/emd.sock, when that
 *   2. $EMD_SOCKET                           socket exists (the system's emd)
 *   3. /run/emd/emd.sock as root          3. $XDG_RUNTIME_DIR/emd.sock
 *   4. $XDG_RUNTIME_DIR/emd.sock          4. /run/emd/emd.sock (so that the
 *   otherwise: no default (an error)         error names where it looked)
 *
 * A user who runs an emd of their own while the system's runs points emctl
 * at it with $EMD_SOCKET or --socket.
 */
#ifndef EMD_SOCKET_PATH_H
#define EMD_SOCKET_PATH_H

#include <stddef.h>

/* The system's socket: its directory is made by emd.socket (or by emd as root). */
#define EMD_ROOT_SOCKET_DIR "/run/emd"
#define EMD_ROOT_SOCKET EMD_ROOT_SOCKET_DIR "/emd.sock"

/* The environment variable both sides read first. */
#define EMD_SOCKET_ENV "EMD_SOCKET"

/*
 * emd_server_socket - where emd binds when it was given no --socket and no
 * socket by the service manager (rules 2-4 above). Returns 0, -ENOENT when no
 * rule applies (not root, neither variable set), or -ENAMETOOLONG.
 */
int emd_server_socket(char *buf, size_t size);

/*
 * emd_default_socket - where a client connects when given no --socket (the
 * client rules above). Returns 0 or -ENAMETOOLONG.
 */
int emd_default_socket(char *buf, size_t size);

#endif
