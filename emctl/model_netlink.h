/*
 * The dev-energymodel generic netlink family (Linux 6.19+, or emd) as a model
 * source for emctl's model commands. lib/em knows nothing of netlink, so the bridge
 * between lib/nl and lib/em lives here, in the program.
 */
#ifndef EMCTL_MODEL_NETLINK_H
#define EMCTL_MODEL_NETLINK_H

#include "emkit/em.h"
#include "emkit/nl.h"

/*
 * Read every performance domain and its table through @sk (dump get-perf-domains,
 * then get-perf-table for each) into @m, in the order of the dump. Domains get the
 * names debugfs gives them ("cpuN" after the first CPU, "pdN" for devices, N the
 * domain id); capacity is the top state's performance. The result is validated as
 * em_pd_register() would. Returns 0 or a negative errno with @err.
 */
int emctl_model_from_netlink(struct em_model *m, struct emnl_sock *sk,
			     const struct emnl_spec *spec, struct em_error *err);

/*
 * Open the kernel's generic netlink (socket_path NULL) or emd's UNIX socket, load
 * the YNL spec at spec_path and read the model as above.
 */
int emctl_model_load_netlink(struct em_model *m, const char *spec_path,
			     const char *socket_path, struct em_error *err);

#endif
