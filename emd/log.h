/*
 * emd's log (server.c): one line to stderr, which is the journal under
 * systemd. Apart from emd.h so that the transport needs nothing else of emd.
 */
#ifndef EMD_LOG_H
#define EMD_LOG_H

/*
 * Log a line to stderr: "emd: TEXT", or, when stderr is the journal
 * ($JOURNAL_STREAM names its device and inode), "<N>TEXT" with the line's
 * sd-daemon(3) priority, which journald records. @fmt may begin with one of
 * these (EMD_ERR "cannot ..."); without one, the line is EMD_INFO.
 */
#define EMD_ERR     "<3>"
#define EMD_WARNING "<4>"
#define EMD_NOTICE  "<5>"
#define EMD_INFO    "<6>"
void emd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
