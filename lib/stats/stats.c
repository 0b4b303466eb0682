/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_lcore.h>

#include "hd_stats.h"

struct hd_stats_lcore hd_stats_lcores[RTE_MAX_LCORE];

static const char *const names[HD_STAT_MAX] = {
#define HD_STATS_NAME(name, help) #name,
	HD_STATS_FOREACH(HD_STATS_NAME)
#undef HD_STATS_NAME
};

static const char *const helps[HD_STAT_MAX] = {
#define HD_STATS_HELP(name, help) help,
	HD_STATS_FOREACH(HD_STATS_HELP)
#undef HD_STATS_HELP
};

struct hd_stats_lcore *
hd_stats_self(void)
{
	unsigned int id = rte_lcore_id();

	/* Non-EAL threads (unit tests, telemetry) count on the main slot. */
	if (id >= RTE_MAX_LCORE)
		id = 0;
	return &hd_stats_lcores[id];
}

const char *
hd_stats_name(enum hd_stat k)
{
	return (unsigned int)k < HD_STAT_MAX ? names[k] : NULL;
}

const char *
hd_stats_help(enum hd_stat k)
{
	return (unsigned int)k < HD_STAT_MAX ? helps[k] : NULL;
}

uint64_t
hd_stats_get(unsigned int lcore, enum hd_stat k)
{
	if (lcore >= RTE_MAX_LCORE || (unsigned int)k >= HD_STAT_MAX)
		return 0;
	return __atomic_load_n(&hd_stats_lcores[lcore].c[k], __ATOMIC_RELAXED);
}

uint64_t
hd_stats_sum(enum hd_stat k)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < RTE_MAX_LCORE; i++)
		sum += hd_stats_get(i, k);
	return sum;
}

void
hd_stats_reset(void)
{
	memset(hd_stats_lcores, 0, sizeof(hd_stats_lcores));
}
