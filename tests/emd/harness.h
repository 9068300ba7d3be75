/*
 * Test harness for emd: start the real emd binary on a temporary socket (it
 * tells us it is ready through the sd_notify protocol), talk to it over raw
 * SOCK_SEQPACKET connections, stop it with SIGTERM and check its exit status.
 * Expected bytes are built here with libmnl, independently of emd's writer.
 */
#ifndef EMD_TEST_HARNESS_H
#define EMD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "emd_wire.h"
#include "genl_req.h"
#include "emkit/nl.h"

/* emd's ids (lib/proto/emd_wire.h), under the tests' short names; tests that
 * check them resolve them through nlctrl too. */
#define FAM_ID EMD_FAMILY_ID
#define EVENT_GRP EMD_GROUP_EVENT

struct emd_proc {
	pid_t pid;
	char dir[64];
	char sock[128];
	char log[128];
	char model[128]; /* emd_start_model: the model file */
	char ready[512]; /* the READY=1 message emd sent */
	char notify_env[200]; /* NOTIFY_SOCKET=... handed to emd */
	int notify_fd;
};

/* Start emd with extra arguments (NULL-terminated); waits for READY=1. */
void emd_start(struct emd_proc *p, const char *const *args);
/* Start emd on a model file holding @text (p->model), with extra arguments. */
void emd_start_model(struct emd_proc *p, const char *text, const char *const *args);
/* The same with a malloc'ed @text, freed once written. */
void emd_start_model_take(struct emd_proc *p, char *text, const char *const *args);
/*
 * For starting emd by hand (emd_start does both): make p->notify_fd, bound at
 * p->dir/notify, and fill @envp (room for 256) with our environment without
 * NOTIFY_SOCKET and LISTEN_*, plus NOTIFY_SOCKET for it; returns the socket's
 * path. Then, once emd runs, emd_wait_ready() fails the test unless emd's first
 * message is READY=1 (kept in p->ready).
 */
const char *emd_notify_setup(struct emd_proc *p, char **envp);
void emd_wait_ready(struct emd_proc *p);
/* An emd with its defaults for a whole group of tests: cmocka group setup and
 * teardown functions that start and stop emd_default. */
extern struct emd_proc emd_default;
int emd_default_setup(void **state);
int emd_default_teardown(void **state);
/* SIGTERM, wait, check exit status 0 and that the socket file is gone. */
void emd_stop(struct emd_proc *p);
/* Send a signal to emd. */
void emd_signal(struct emd_proc *p, int sig);
/* Wait for the next sd_notify datagram; returns its text (static buffer). */
const char *emd_notify_wait(struct emd_proc *p);
/* The whole of emd's stderr so far (static buffer). */
const char *emd_log_text(const struct emd_proc *p);

/* A new connection to emd. */
int emd_connect(const struct emd_proc *p);
void send_pkt(int fd, const void *buf, size_t len);
/* Receive one packet (fails the test after 60 s of silence: a hang, not a
 * threshold). Returns its length. */
size_t recv_pkt(int fd, void *buf, size_t size);
/* True if a packet is waiting right now. */
bool pkt_waiting(int fd);

/* Tell emd the reader calls recvmsg() with @len bytes (RECV_LEN, no answer). */
void send_recv_len(int fd, uint32_t len);

/* Parse an NLMSG_ERROR packet of exactly one message; checks seq. */
void expect_error(const void *buf, size_t len, uint32_t seq, int err, const char *msg);
/* The parsed error of the NLMSG_ERROR at @buf. */
struct emnl_error parse_error(const void *buf, size_t len);

/* A packet's first message header (a function: no type-punning warning). */
static inline const struct nlmsghdr *nl(const void *p)
{
	return p;
}

/* A field of /proc/@pid/status in kB ("VmRSS:", "VmHWM:"); -1 if it has none. */
long proc_status_kb(pid_t pid, const char *field);

/* Load the spec built from spec/ (for decoding in checks). */
const struct emnl_spec *test_spec(void);

/* Write @text to @path (atomically: a temporary file renamed into place). */
void write_file(const char *path, const char *text);

#endif
