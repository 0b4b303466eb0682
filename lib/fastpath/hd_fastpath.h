/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_FASTPATH_H
#define HD_FASTPATH_H

/**
 * @file
 * The per-packet work of a worker lcore, on a plain frame buffer so the
 * workers, heimdall-bench, the slow path and the fuzzer all run the same
 * code: classify (Ethernet, one optional VLAN tag, IPv4/IPv6, UDP), parse
 * the DNS query, answer from the cache in place, or say "miss".
 *
 * L2-L4 is checked once here (lengths against the buffer, IPv4 header
 * checksum is not verified: NICs and veth deliver good frames, and a wrong
 * one only costs a reply); later code relies on struct hd_pkt.
 *
 * No allocation, no syscalls, no locks, no logging.
 */

#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "hd_cache.h"
#include "hd_dns.h"
#include "hd_stats.h"

#define HD_FP_ADDR_MAX 8

/** What the fast path answers for. Read-only once the workers start. */
struct hd_fastpath_conf {
	struct rte_ether_addr mac;	/**< our MAC, for ARP/NDP replies */
	uint32_t v4[HD_FP_ADDR_MAX];	/**< listen IPv4 addresses, network order */
	uint8_t v6[HD_FP_ADDR_MAX][16];	/**< listen IPv6 addresses */
	uint8_t n_v4;
	uint8_t n_v6;
	uint8_t answer_arp_nd;		/**< answer ARP and NDP for our addresses */
	uint16_t dns_port;		/**< host order, normally 53 */
	uint16_t udp_size;		/**< largest UDP reply (HD_DNS_EDNS_SIZE) */
	uint8_t serve_stale;		/**< answer expired entries within their stale window */
	uint8_t prefetch;		/**< refresh entries hit in their last tenth of TTL */
	uint32_t stale_ttl;		/**< TTL of stale answers (0: HD_FP_STALE_TTL) */
	/**
	 * An exception port hands the kernel what is not ours: frames that are
	 * neither DNS for us nor ARP/NDP answered here get HD_FP_KERNEL instead
	 * of HD_FP_DROP (see hd_fastpath_handle()).
	 */
	uint8_t to_kernel;
};

/** TTL of a stale answer when the configuration gives none (RFC 8767 suggests 30). */
#define HD_FP_STALE_TTL		30
/** Slots of the per-context table that suppresses repeated refresh requests. */
#define HD_FP_REFRESH_SLOTS	1024
/** Prefetch only entries that lived at least this long (seconds). */
#define HD_FP_PREFETCH_MIN_TTL	10

/** A name a refresh was recently asked for (see hd_fastpath_ctx.refresh_recent). */
struct hd_fp_refresh_slot {
	uint32_t hash;			/**< of the cache key */
	uint32_t sec;			/**< ctx->now when it was asked */
};

/** Where things are in a frame that passed hd_fastpath_classify(). */
struct hd_pkt {
	uint16_t l3_off;	/**< IP header */
	uint16_t l4_off;	/**< UDP header */
	uint16_t dns_off;	/**< DNS message */
	uint16_t dns_len;	/**< DNS message length per the UDP header */
	uint8_t ipv6;
};

struct hd_filter;
struct hd_localzone;

/** How hd_fastpath_handle() answered a query, for the query log. */
enum hd_fp_outcome {
	HD_FP_OUT_HIT = 0,	/**< from the cache */
	HD_FP_OUT_STALE,	/**< from the cache, past expiry (serve-stale) */
	HD_FP_OUT_LOCAL,	/**< from local records or zones */
	HD_FP_OUT_BLOCKED,	/**< block reply: a list blocks the name */
	HD_FP_OUT_CNAME_BLOCKED, /**< block reply: the cached CNAME chain reaches a blocked name */
	HD_FP_OUT_REJECTED,	/**< FORMERR, NOTIMPL, BADVERS or REFUSED to a bad query */
};

/** One answered query, as hd_fastpath_handle() reports it (valid during the call). */
struct hd_fp_log {
	const uint8_t *client;	/**< source address: 4 bytes, or 16 with @p ipv6 */
	const uint8_t *lname;	/**< lowercase wire-form qname */
	uint16_t lname_len;	/**< 0 when the question could not be read */
	uint16_t qtype;
	uint16_t list;		/**< the blocking list's index, or UINT16_MAX */
	uint8_t ipv6;
	uint8_t outcome;	/**< enum hd_fp_outcome */
	uint8_t rcode;		/**< the reply's RCODE (low 8 bits) */
};

/** Receives each answered query when hd_fastpath_ctx.log is set. */
typedef void (*hd_fp_log_fn)(void *arg, const struct hd_fp_log *e);

/**
 * What the control thread publishes for the workers: immutable once
 * published; replaced by pointer swap and freed after an RCU grace period
 * of the policy QSBR variable.
 */
struct hd_fastpath_policy {
	const struct hd_localzone *local;	/**< NULL: no local data */
	const struct hd_filter *filter;		/**< NULL: no lists */
	uint64_t generation;			/**< increases with every publish */
};

/** Per-worker state, cache aligned, owned by one lcore. */
struct hd_fastpath_ctx {
	const struct hd_fastpath_conf *conf;
	struct hd_cache *cache;		/**< NULL: every query is a miss */
	struct hd_stats_lcore *stats;
	uint32_t now;			/**< seconds, hd_clock_sec(); set once per burst */
	/** Current policy, loaded by the caller once per burst (may be NULL). */
	const struct hd_fastpath_policy *policy;
	/** Per-list hit counters of this lcore (HD_FILTER_LISTS_MAX entries), or NULL. */
	uint64_t *filter_hits;
	/**
	 * The query log: called once for every query answered here (not for
	 * misses: the slow path logs those), before the reply is finished.
	 * NULL (the query log off): nothing is done at all. Set before use.
	 */
	hd_fp_log_fn log;
	void *log_arg;
	/**
	 * Set by hd_fastpath_handle() when the frame it just handled asks the
	 * slow path to refresh its cache entry (a stale answer was sent, or a
	 * prefetch is due); refresh_q is then the client's parsed query. The
	 * caller hands refresh_q on (the worker: over its refresh ring). Cleared
	 * at the start of every hd_fastpath_handle().
	 */
	uint8_t refresh_pending;
	struct hd_dns_query refresh_q;
	/**
	 * Names refreshed recently, direct-mapped by key hash: one name is asked
	 * at most once per second per context. Zero it before first use.
	 */
	struct hd_fp_refresh_slot refresh_recent[HD_FP_REFRESH_SLOTS];
} __rte_cache_aligned;

enum hd_fp_verdict {
	HD_FP_DROP = 0,	/**< free the frame (counted in `dropped` where it is bad input) */
	HD_FP_TX,	/**< the frame was rewritten into a reply: send it */
	HD_FP_MISS,	/**< a valid query the cache cannot answer: hand to the slow path */
	HD_FP_KERNEL,	/**< not ours (conf->to_kernel set): send it unchanged to the exception port */
};

/**
 * Handle one received frame.
 *
 * @param pkt      frame start (Ethernet header); rewritten in place for TX
 * @param len      frame length
 * @param cap      bytes writable from @p pkt (data room left in the mbuf)
 * @param out_len  the reply's frame length when HD_FP_TX is returned
 * With ctx->policy set, a query is first answered from its local data
 * (local_answers), then blocked when a list that applies to the client's
 * address blocks its name (blocked, ctx->filter_hits), before the cache; a
 * cache hit whose CNAME chain reaches a blocked name gets the block reply
 * (blocked, cname_blocked).
 *
 * Serve-stale (conf->serve_stale, RFC 8767): an entry past its expiry but
 * within its stale window is answered with TTL conf->stale_ttl, an EDE 3
 * (Stale Answer) when the query had EDNS, counted in stale_answers (and
 * cache_hits), and a refresh is asked for. Prefetch (conf->prefetch): a
 * hit on an entry of TTL >= HD_FP_PREFETCH_MIN_TTL with less than a tenth
 * of it left asks for a refresh too. Refreshes asked (after the
 * once-per-second-per-name suppression) are counted in prefetches.
 *
 * With ctx->log set, every query answered (not a miss, not a drop) is
 * reported to it (struct hd_fp_log).
 *
 * With conf->to_kernel set, a frame that is not a UDP datagram to a listen
 * address and the DNS port, and not an ARP request or neighbour
 * solicitation answered here, is HD_FP_KERNEL (counted in to_kernel) when
 * it is addressed to conf->mac, broadcast or multicast; frames for other
 * stations, runts and DNS queries that do not parse are still dropped.
 *
 * @return the verdict. Counts rx_packets, queries, cache_hits, cache_misses,
 *   formerr/notimpl/badvers/refused, tc_replies, arp_replies, nd_replies,
 *   to_kernel and dropped as it goes.
 */
enum hd_fp_verdict
hd_fastpath_handle(struct hd_fastpath_ctx *ctx, uint8_t *pkt, uint16_t len,
		   uint16_t cap, uint16_t *out_len);

/**
 * Check L2-L4 of @p pkt: UDP to one of our addresses and the DNS port,
 * lengths consistent with @p len. Does not look at the DNS message.
 * @return 0 and @p p filled, or -EINVAL (not ours or malformed).
 */
int hd_fastpath_classify(const struct hd_fastpath_conf *conf, const uint8_t *pkt,
			 uint16_t len, struct hd_pkt *p);

/**
 * Turn the classified query frame into a reply frame once its DNS message
 * (at p->dns_off) has been rewritten to @p dns_len bytes: swap MACs,
 * addresses and ports, set the IP/UDP lengths, IPv4 header checksum and
 * UDP checksum.
 * @return the new frame length.
 */
uint16_t hd_fastpath_finish(uint8_t *pkt, const struct hd_pkt *p, uint16_t dns_len);

/**
 * Slow path: write the reply to a frame that came back as HD_FP_MISS, from
 * an answer (@p a non-NULL) or with @p rcode and no records (a NULL).
 * Re-classifies and re-parses the frame (it is unchanged since the miss).
 * Counts tc_replies and the rcode counters on @p stats.
 * @param stale_ttl  non-zero: serve @p a stale with this TTL (and an EDE 3,
 *   Stale Answer, when the query had EDNS)
 * @return the reply frame length, or a negative errno (drop the frame).
 */
int hd_fastpath_reply(const struct hd_fastpath_conf *conf, struct hd_stats_lcore *stats,
		      uint8_t *pkt, uint16_t len, uint16_t cap,
		      const struct hd_dns_answer *a, int rcode, uint32_t now,
		      uint32_t stale_ttl);

/**
 * Slow path: hd_fastpath_reply() with @p pol applied to the answer: when
 * @p a's CNAME chain reaches a name blocked for the client of the frame
 * (CNAME cloaking), the reply is the block reply of the list that blocks it
 * (counted in blocked and cname_blocked, and in @p filter_hits).
 * @param pol  may be NULL (then exactly hd_fastpath_reply())
 * @param filter_hits  HD_FILTER_LISTS_MAX per-list counters of the calling
 *   thread, or NULL
 */
int hd_fastpath_reply_policy(const struct hd_fastpath_conf *conf, struct hd_stats_lcore *stats,
			     const struct hd_fastpath_policy *pol, uint64_t *filter_hits,
			     uint8_t *pkt, uint16_t len, uint16_t cap,
			     const struct hd_dns_answer *a, int rcode, uint32_t now,
			     uint32_t stale_ttl);

/**
 * The policy of hd_fastpath_handle() for a message without a frame (DNS
 * over TCP): with @p reply_len 0, @p msg holds the client's query and local
 * data, then the client's lists, may answer it (counted in local_answers or
 * blocked); with @p reply_len > 0, @p msg holds our reply to @p q and is
 * rewritten as a block reply when its CNAME chain reaches a blocked name.
 * @param client  the client's address: 4 bytes (@p ipv6 0) or 16
 * @param limit   the largest reply allowed (65535 over TCP)
 * @return the length of the reply now in @p msg, 0 when the policy leaves
 *   the query to the cache and upstreams (or the reply as it is; @p msg
 *   untouched), or a negative errno.
 */
int hd_fastpath_policy_apply(const struct hd_fastpath_policy *pol, uint64_t *filter_hits,
			     struct hd_stats_lcore *stats, const uint8_t *client, int ipv6,
			     const struct hd_dns_query *q, uint8_t *msg, size_t reply_len,
			     size_t cap, size_t limit);

/**
 * Slow path: re-read the query of a frame that came back as HD_FP_MISS.
 * @return 0, or a negative errno when it no longer parses (cannot happen
 *   for an unchanged frame).
 */
int hd_fastpath_query(const struct hd_fastpath_conf *conf, const uint8_t *pkt,
		      uint16_t len, struct hd_dns_query *q);

#endif /* HD_FASTPATH_H */
