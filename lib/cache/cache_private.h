/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CACHE_PRIVATE_H
#define HD_CACHE_PRIVATE_H

/*
 * What the files of lib/cache share beyond hd_cache.h; never installed,
 * never included outside lib/cache.
 */

#include <stdint.h>

#include <rte_log.h>

#include "hd_cache.h"

extern int hd_cache_logtype;
#define CACHE_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, hd_cache_logtype, "cache: " fmt "\n", ##__VA_ARGS__)

/**
 * Walk the entries (writer only): @p next starts at 0.
 * @return >= 0 with @p k and @p a set, or < 0 past the last entry.
 */
int32_t hd_cache_iterate_(const struct hd_cache *c, const struct hd_cache_key **k,
			  const struct hd_dns_answer **a, uint32_t *next);

/** The entry and byte bounds given at creation (0 bytes: none). */
uint32_t hd_cache_max_entries_(const struct hd_cache *c);
uint64_t hd_cache_max_bytes_(const struct hd_cache *c);

#endif /* HD_CACHE_PRIVATE_H */
