/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "hd_stats.h"

static int
lcore_active(unsigned int lcore)
{
	unsigned int k;

	for (k = 0; k < HD_STAT_MAX; k++)
		if (hd_stats_get(lcore, k) != 0)
			return 1;
	return 0;
}

/*
 * /heimdall/stats: the totals as top-level keys, and "lcores" holding one
 * dictionary per lcore that counted anything (or is enabled).
 */
static int
handle_stats(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *d)
{
	struct rte_tel_data *lcores;
	unsigned int k, i;

	rte_tel_data_start_dict(d);
	for (k = 0; k < HD_STAT_MAX; k++)
		rte_tel_data_add_dict_u64(d, hd_stats_name(k), hd_stats_sum(k));

	lcores = rte_tel_data_alloc();
	if (lcores == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(lcores);
	for (i = 0; i < RTE_MAX_LCORE; i++) {
		struct rte_tel_data *one;
		char name[16];

		if (!rte_lcore_is_enabled(i) && !lcore_active(i))
			continue;
		one = rte_tel_data_alloc();
		if (one == NULL) {
			rte_tel_data_free(lcores);
			return -ENOMEM;
		}
		rte_tel_data_start_dict(one);
		for (k = 0; k < HD_STAT_MAX; k++)
			rte_tel_data_add_dict_u64(one, hd_stats_name(k), hd_stats_get(i, k));
		snprintf(name, sizeof(name), "%u", i);
		rte_tel_data_add_dict_container(lcores, name, one, 0);
	}
	rte_tel_data_add_dict_container(d, "lcores", lcores, 0);
	return 0;
}

RTE_INIT(hd_stats_telemetry_init)
{
	rte_telemetry_register_cmd("/heimdall/stats", handle_stats,
		"Heimdall counters: totals, and per lcore under \"lcores\". No parameters.");
}
