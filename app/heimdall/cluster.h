/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_APP_CLUSTER_H
#define HD_APP_CLUSTER_H

/*
 * The cluster side of the slow path: the Redis client (lib/replica) as
 * telemetry sees it, copied out every 100 ms by slowpath.c, and the
 * membership, aggregated counters and control-change sync of cluster.c
 * (docs/cluster.md), which run on the slow-path thread because the client
 * belongs to it.
 */

#include <stdint.h>

struct hd_app;
struct hd_replica;

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
	char redis_addr[64];	/**< the Redis in use or being tried ("" : none) */
};

/** The last copy; any thread. */
void hd_cluster_snap_get(struct hd_cluster_snap *s);

/*
 * cluster.c, called by slowpath.c on the slow-path thread.
 */

/**
 * The Redis client @p r exists (it connects from the loop): subscribe to the
 * control channel; membership starts at the first connection.
 * @return 0 or a negative errno (logged).
 */
int hd_cluster_start(struct hd_app *app, struct hd_replica *r);

/** Every 100 ms, after hd_replica_poll(): heartbeats, member reads, control changes. */
void hd_cluster_tick(uint64_t now_ms);

/** Before the client is freed: its last callbacks only free what they hold. */
void hd_cluster_stop(void);

/*
 * Telemetry's view (any thread): fills @p d, already started as a dict,
 * with the members and the cluster totals.
 */
struct rte_tel_data;
int hd_cluster_telemetry(struct rte_tel_data *d);

#endif /* HD_APP_CLUSTER_H */
