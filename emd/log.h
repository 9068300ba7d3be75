/*
 * emd's log (server.c): one line to stderr, which is the journal under
 * systemd. Apart from emd.h so that the transport needs nothing else of emd.
 */
#ifndef EMD_LOG_H
#define EMD_LOG_H

/* Log a line to stderr with the "emd: " prefix. */
void emd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
