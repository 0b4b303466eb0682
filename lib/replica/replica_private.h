/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_REPLICA_PRIVATE_H
#define HD_REPLICA_PRIVATE_H

/* What the files of lib/replica share beyond hd_replica.h; never installed. */

#include <rte_log.h>

#include "hd_replica.h"

extern int hd_replica_logtype;
#define REPLICA_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, hd_replica_logtype, "replica: " fmt "\n", ##__VA_ARGS__)

#endif /* HD_REPLICA_PRIVATE_H */
