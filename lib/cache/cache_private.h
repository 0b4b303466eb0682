/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CACHE_PRIVATE_H
#define HD_CACHE_PRIVATE_H

/*
 * What the files of lib/cache share beyond hd_cache.h; never installed,
 * never included outside lib/cache.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>
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


/*
 * CRC32-C of @p len bytes at any alignment, continuing from @p h
 * (rte_hash_crc() loads through wide pointers, which would misalign on a
 * key's name at offset 6 or a byte buffer). Used for key hashes and the
 * persistence file's checksum.
 */
static inline uint32_t
hd_cache_crc(const uint8_t *p, size_t len, uint32_t h)
{
	uint64_t v8;
	uint32_t v4;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v8, p, sizeof(v8));
		h = rte_hash_crc_8byte(v8, h);
	}
	if (len >= 4) {
		memcpy(&v4, p, sizeof(v4));
		h = rte_hash_crc_4byte(v4, h);
		p += 4;
		len -= 4;
	}
	for (; len > 0; p++, len--)
		h = rte_hash_crc_1byte(*p, h);
	return h;
}

#endif /* HD_CACHE_PRIVATE_H */
