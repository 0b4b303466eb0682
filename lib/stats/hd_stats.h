/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_STATS_H
#define HD_STATS_H

/**
 * @file
 * Exact per-lcore counters. Each lcore writes only its own slot (plain
 * 64-bit stores, no atomics on the hot path); readers (telemetry, metrics)
 * sum the slots with relaxed atomic loads, so a sum is exact for every
 * increment that happened before it started.
 *
 * Registers the `/heimdall/stats` telemetry command at start-up.
 */

#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>

/* X-macro: name as shown in telemetry, help text. */
#define HD_STATS_FOREACH(X) \
	X(rx_packets,        "packets received by the fast path") \
	X(tx_packets,        "packets sent by the fast path and the slow path") \
	X(queries,           "well-formed DNS queries received (UDP and TCP)") \
	X(cache_hits,        "queries answered from the cache") \
	X(cache_misses,      "queries passed to the slow path") \
	X(blocked,           "queries answered with a block response (lists and CNAME cloaking)") \
	X(cname_blocked,     "upstream answers blocked because their CNAME chain reached a blocked name") \
	X(local_answers,     "queries answered from local records and zones") \
	X(stale_answers,     "answers served stale (RFC 8767) while refreshing or with every upstream down") \
	X(prefetches,        "refreshes asked for entries near expiry or served stale") \
	X(dedup_joined,      "queries that joined an identical outstanding upstream question") \
	X(refresh_dropped,   "refresh requests dropped because the refresh ring was full") \
	X(upstream_queries,  "queries sent to an upstream") \
	X(upstream_replies,  "valid upstream replies accepted") \
	X(upstream_timeouts, "upstream attempts that timed out") \
	X(upstream_rejected, "upstream datagrams rejected (wrong source, ID or question)") \
	X(upstream_tcp,      "upstream queries retried over TCP after TC=1") \
	X(servfail,          "SERVFAIL replies sent") \
	X(formerr,           "FORMERR replies sent") \
	X(notimpl,           "NOTIMPL replies sent") \
	X(refused,           "REFUSED replies sent") \
	X(badvers,           "BADVERS replies sent") \
	X(dropped,           "packets dropped: not for us, not DNS, truncated, lying lengths") \
	X(tc_replies,        "UDP replies sent truncated (TC=1)") \
	X(tcp_queries,       "queries received over TCP") \
	X(arp_replies,       "ARP requests answered") \
	X(nd_replies,        "IPv6 neighbour solicitations answered") \
	X(miss_ring_full,    "misses dropped because the slow path ring was full") \
	X(tx_failed,         "frames dropped because a TX queue was full (replies, exception path)") \
	X(to_kernel,         "frames handed to the kernel through the exception port (not DNS for us)") \
	X(from_kernel,       "frames the kernel sent through the exception port, forwarded to the wire")

enum hd_stat {
#define HD_STATS_ENUM(name, help) HD_STAT_##name,
	HD_STATS_FOREACH(HD_STATS_ENUM)
#undef HD_STATS_ENUM
	HD_STAT_MAX
};

struct hd_stats_lcore {
	uint64_t c[HD_STAT_MAX];
} __rte_cache_aligned;

/** One slot per lcore; the slot of lcore i is written only by lcore i. */
extern struct hd_stats_lcore hd_stats_lcores[RTE_MAX_LCORE];

/** @return the calling lcore's slot (the main lcore's for non-EAL threads). */
struct hd_stats_lcore *hd_stats_self(void);

static inline void
hd_stats_add(struct hd_stats_lcore *s, enum hd_stat k, uint64_t n)
{
	__atomic_store_n(&s->c[k], s->c[k] + n, __ATOMIC_RELAXED);
}

static inline void
hd_stats_inc(struct hd_stats_lcore *s, enum hd_stat k)
{
	hd_stats_add(s, k, 1);
}

/** @return the counter's name ("rx_packets"), or NULL past the end. */
const char *hd_stats_name(enum hd_stat k);

/** @return the counter's one-line help text. */
const char *hd_stats_help(enum hd_stat k);

/** @return the sum of counter @p k over every lcore. */
uint64_t hd_stats_sum(enum hd_stat k);

/** @return lcore @p lcore's value of counter @p k. */
uint64_t hd_stats_get(unsigned int lcore, enum hd_stat k);

/** Zero every slot (tests only; never while lcores run). */
void hd_stats_reset(void);

#endif /* HD_STATS_H */
