/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_APP_CLUSTER_H
#define HD_APP_CLUSTER_H

/*
 * The cluster side of the slow path (lib/replica), as telemetry sees it:
 * the slow path copies the client's counters out every 100 ms.
 */

#include <stdint.h>

struct hd_cluster_snap {
	uint32_t enabled;	/**< a redis URL is configured */
	uint32_t state;		/**< enum hd_replica_state */
	uint64_t writes;
	uint64_t write_dropped;
	uint64_t write_errors;
	uint64_t l2_hits;
	uint64_t l2_misses;
	uint64_t l2_rejected;
	uint32_t outstanding;
};

/** The last copy; any thread. */
void hd_cluster_snap_get(struct hd_cluster_snap *s);

#endif /* HD_APP_CLUSTER_H */
