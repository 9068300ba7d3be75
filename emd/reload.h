/*
 * A reload its requester can wait for: `emd --reload PID` (the units'
 * ExecReload=) asks the emd with that pid to reload its model and returns only
 * when the reload is over, with its outcome, so that `systemctl reload emd`
 * completes after the reload and not before (systemd 252 ends a reload job
 * when ExecReload= exits; Type=notify-reload, which waits for READY=1, is 253's).
 *
 * The handshake, over signals both sides already handle:
 *   requester  --SIGHUP, sigqueue()d, value EMD_RELOAD_ASK-->  emd
 *   emd reloads (RELOADING=1 ... READY=1 to the service manager as for any reload)
 *   emd  --SIGCONT, sigqueue()d, value EMD_RELOAD_DONE + outcome-->  requester
 * A plain SIGHUP (kill -HUP) reloads as before and is answered by nobody. The
 * answer is SIGCONT because it harms no process it might reach by mistake.
 * emd can only signal a requester of its own uid (kill(2)'s rule): the
 * requester checks that first. Standard signals do not queue, so a request that
 * meets another SIGHUP still pending is merged with it and never answered: the
 * service manager's reload timeout ends that wait.
 */
#ifndef EMD_RELOAD_H
#define EMD_RELOAD_H

#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#define EMD_RELOAD_ASK  0x454d4452 /* "EMDR" */
#define EMD_RELOAD_DONE 0x454d4400 /* | 0: reloaded, | 1: refused, model kept */

/*
 * emd_reload_request - ask emd (@pid) to reload and wait for its answer.
 * Returns 0 when it reloaded, 1 when it refused the new model (and keeps the
 * one it serves), -errno when it could not be asked or exited first; messages
 * go to stderr.
 */
int emd_reload_request(pid_t pid);

/*
 * emd_reload_answer - in emd, after the reload a SIGHUP (@si) asked for:
 * answer its sender if it asked to be answered. @ok: the new model is served.
 */
void emd_reload_answer(const struct signalfd_siginfo *si, bool ok);

#endif
