/*
 * The dev-energymodel generic netlink family (Linux 6.19+, or emd) as a model
 * source for emctl's model commands: `emctl model show --netlink SPEC`. The
 * reading itself is the typed client's (emdev_read_model, in libemkit).
 */
#ifndef EMCTL_MODEL_NETLINK_H
#define EMCTL_MODEL_NETLINK_H

#include "emkit/em.h"

/*
 * Open the kernel's generic netlink (socket_path NULL) or emd's UNIX socket, load
 * the YNL spec at spec_path, resolve its family and read every domain and table
 * into @m (see emdev_read_model). Returns 0 or a negative errno with @err.
 */
int emctl_model_load_netlink(struct em_model *m, const char *spec_path,
			     const char *socket_path, struct em_error *err);

#endif
