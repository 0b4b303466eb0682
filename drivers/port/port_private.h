/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_PORT_PRIVATE_H
#define HD_PORT_PRIVATE_H

#include <rte_log.h>

extern int hd_port_logtype;

#define PORT_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, hd_port_logtype, "hd.port: " fmt "\n", ##__VA_ARGS__)

#endif /* HD_PORT_PRIVATE_H */
