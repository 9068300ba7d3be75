/*
 * emd's wire conventions, beside the spec's (dev_energymodel.h): the ids emd
 * gives the families it serves on its seqpacket socket (the kernel allocates
 * them dynamically; clients resolve them through CTRL_CMD_GETFAMILY), and
 * the transport's membership commands. One place for emd, its tests, the
 * fuzzers and the benchmarks. Not installed: a client resolves, it does not
 * hard-code.
 */
#ifndef EMKIT_EMD_WIRE_H
#define EMKIT_EMD_WIRE_H

#include <linux/genetlink.h>

#include "emkit/nl.h"

#define EMD_CTRL_ID GENL_ID_CTRL /* nlctrl's id is fixed: 0x10 */
#define EMD_FAMILY_ID 0x20       /* dev-energymodel */
#define EMD_GROUP_EVENT 0x20     /* its 'event' multicast group */

/* Joining and leaving a group over a seqpacket socket: commands to nlctrl's
 * id. JOIN is lib/nl's EMNL_SEQPACKET_CMD_JOIN; LEAVE is its inverse. */
#define EMD_CMD_JOIN EMNL_SEQPACKET_CMD_JOIN
#define EMD_CMD_LEAVE (EMNL_SEQPACKET_CMD_JOIN + 1)

#endif
