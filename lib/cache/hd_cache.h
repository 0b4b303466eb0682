/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CACHE_H
#define HD_CACHE_H

/**
 * @file
 * The shared answer cache: one rte_hash with lock-free read/write
 * concurrency, read by every worker lcore, written only by the slow path.
 *
 * Entries are immutable struct hd_dns_answer allocations (libc malloc, built
 * by hd_dns_answer_build()). Replaced or evicted entries are freed through
 * the RCU QSBR variable given at creation: a reader may use the pointer that
 * hd_cache_lookup() returned until it next reports a quiescent state.
 *
 * Thread safety: hd_cache_lookup() from any number of registered readers;
 * every other function from the one writer thread only.
 */

#include <stdint.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "hd_dns.h"

/** Key: lowercase qname, type, class and the DO bit. */
struct hd_cache_key {
	uint16_t qtype;
	uint16_t qclass;
	uint8_t flags;		/**< HD_CACHE_KEY_DO | HD_CACHE_KEY_CD */
	uint8_t name_len;	/**< used bytes of name; the rest must be zero */
	uint8_t name[HD_DNS_NAME_MAX];
	uint8_t pad[3];
} __rte_aligned(8); /* rte_hash reads keys in 8-byte words */

#define HD_CACHE_KEY_DO 0x01
#define HD_CACHE_KEY_CD 0x02

struct hd_cache_params {
	const char *name;	/**< unique name for the rte_hash */
	uint32_t max_entries;	/**< at least 64 */
	uint64_t max_bytes;	/**< 0: no byte bound */
	int socket_id;
	struct rte_rcu_qsbr *qsv; /**< readers' QSBR variable (NULL: no readers but the writer) */
};

struct hd_cache_stats {
	uint32_t entries;
	uint64_t bytes;
	uint64_t inserts;
	uint64_t replaced;
	uint64_t evictions;	/**< removed to make room */
	uint64_t expired;	/**< removed because stale past their limit */
	uint32_t capacity;
};

struct hd_cache;

/** Fill @p k from a parsed query (zeroing unused name bytes). */
void hd_cache_key_from_query(struct hd_cache_key *k, const struct hd_dns_query *q);

/**
 * Create a cache.
 * @return the cache, or NULL with rte_errno set (EINVAL, ENOMEM, EEXIST).
 */
struct hd_cache *hd_cache_create(const struct hd_cache_params *p);

/** Free the cache and every entry; NULL is a no-op. No reader may be active. */
void hd_cache_free(struct hd_cache *c);

/**
 * Look up @p k. Lock-free; any registered reader.
 * @param now    seconds on the clock the entries were stored with
 * @param stale  set to 1 when the entry is past its expiry but within its
 *   stale limit (the caller then answers with a stale TTL and asks for a
 *   refresh), 0 otherwise; may be NULL, in which case stale entries are
 *   not returned.
 * @return the entry, or NULL when absent or expired.
 */
const struct hd_dns_answer *
hd_cache_lookup(struct hd_cache *c, const struct hd_cache_key *k, uint32_t now, int *stale);

/**
 * Insert or replace the entry for @p k. Writer only. Takes ownership of
 * @p a in every case (freed at once on failure). Makes room first when the
 * entry or byte bound is reached: expired entries go first, then a sample of
 * the oldest-stored; the worker lcores are never blocked.
 * @return 0, or -ENOSPC / -EINVAL.
 */
int hd_cache_insert(struct hd_cache *c, const struct hd_cache_key *k,
		    struct hd_dns_answer *a, uint32_t now);

/** Remove @p k. Writer only. @return 0 or -ENOENT. */
int hd_cache_delete(struct hd_cache *c, const struct hd_cache_key *k);

/** Remove every entry. Writer only. */
void hd_cache_flush(struct hd_cache *c);

/**
 * Remove every entry of one name (all types, classes and DO/CD variants),
 * as an operator's "flush this name" does. Writer only; walks the table.
 * @param name  wire form, lowercase (as in struct hd_cache_key)
 * @return entries removed.
 */
unsigned int hd_cache_delete_name(struct hd_cache *c, const uint8_t *name, uint8_t name_len);

/**
 * Remove up to @p budget entries past their stale limit, resuming where the
 * last call stopped. Writer only; call it from the slow path's timer.
 * @return entries removed.
 */
unsigned int hd_cache_expire(struct hd_cache *c, uint32_t now, unsigned int budget);

/** Reclaim entries no reader can see any more. Writer only. */
void hd_cache_reclaim(struct hd_cache *c);

/** Counters; any thread (values may be a moment old). */
void hd_cache_stats_get(const struct hd_cache *c, struct hd_cache_stats *s);

/* ---- persistence (persist.c) ---- */

/** First bytes of a cache file; the format is described in persist.c. */
#define HD_CACHE_FILE_MAGIC	"HDCACHE1"
#define HD_CACHE_FILE_VERSION	1

/** A serialized cache, ready to be written by any thread. */
struct hd_cache_image {
	uint8_t *buf;		/**< the whole file, checksum included (malloc) */
	size_t len;
	uint32_t entries;
};

/**
 * Serialize every entry still servable at @p now (fresh, or stale within
 * its limit) with its key, its age and its TTLs. Writer only (the entries
 * it reads cannot be reclaimed under it); takes time proportional to the
 * cache but never blocks the readers.
 * @param wall_now  wall-clock seconds (CLOCK_REALTIME), stored in the file
 * @param now       the data-path clock the entries were stored with
 * @return 0 and @p img filled (free with hd_cache_image_free()), or -ENOMEM.
 */
int __rte_warn_unused_result
hd_cache_snapshot(struct hd_cache *c, uint64_t wall_now, uint32_t now,
		  struct hd_cache_image *img);

/**
 * Write @p img to @p path atomically: @p path.tmp, fsync, rename over
 * @p path, fsync of the directory. Any thread (touches no cache state).
 * @return 0 or a negative errno (the temporary file is removed on failure).
 */
int __rte_warn_unused_result
hd_cache_image_write(const struct hd_cache_image *img, const char *path);

/** Free the buffer of @p img; a zeroed image is a no-op. */
void hd_cache_image_free(struct hd_cache_image *img);

/**
 * hd_cache_snapshot() then hd_cache_image_write(). Writer only.
 * @return entries saved, or a negative errno.
 */
int hd_cache_save(struct hd_cache *c, const char *path, uint64_t wall_now, uint32_t now);

/**
 * Load a file written by hd_cache_save(). Writer only.
 *
 * Nothing is inserted unless the whole file checks out: magic, version,
 * sizes, checksum, then every entry (lengths, counts, TTL offsets at the
 * TTL of each record, names that parse, key name == question length). The
 * TTLs are aged by the wall-clock time since the entry was stored; entries
 * past their stale limit are skipped. A rejected file is logged with the
 * reason and leaves the cache as it was.
 * @param wall_now  wall-clock seconds now
 * @param now       the data-path clock to store the entries with
 * @return entries inserted (>= 0), or -ENOENT (no file), -EPROTO (not a
 *   cache file), -ENOTSUP (another version), -EBADMSG (corrupt or
 *   truncated), -EFBIG (larger than this cache could hold), -ENOMEM, or
 *   another negative errno from reading.
 */
int hd_cache_load(struct hd_cache *c, const char *path, uint64_t wall_now, uint32_t now);

#endif /* HD_CACHE_H */
