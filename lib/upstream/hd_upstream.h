/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_UPSTREAM_H
#define HD_UPSTREAM_H

/**
 * @file
 * The slow path's resolver side: forwards questions to upstream servers
 * over kernel sockets, accepts only the reply it asked for, fills the
 * cache, and serves DNS over TCP from a kernel listener.
 *
 * One epoll set holds every socket; hd_upstream_poll() runs it. Each UDP
 * attempt uses a fresh connected socket (so a random source port chosen by
 * the kernel, and the kernel drops datagrams from any other address or
 * port) and a random ID from a CSPRNG; a reply is accepted only with that
 * ID and the same question. A reply with TC=1 is asked again over TCP.
 * Servers marked tls use DNS over TLS (RFC 7858) on a kept connection.
 *
 * Servers form groups: the default group and one per forward zone (the
 * zone with the longest suffix of the query name wins). Within a group the
 * strategy orders the servers (strict, round robin, fastest by smoothed
 * RTT, or a parallel race of the best two). A server that fails
 * HD_UPSTREAM_FAIL_LIMIT times in a row is marked down and only probed
 * after a backoff that doubles from 1 s to 60 s; any valid reply marks it
 * up. Each attempt's timeout is min(attempt_ms, remaining budget /
 * servers not yet tried), so every server gets a turn within the budget;
 * when the budget is spent the client gets SERVFAIL.
 *
 * Identical outstanding questions (same cache key: name, type, class, DO,
 * CD) share one upstream question; each waiting client gets its own
 * callback with its own query. At most HD_UPSTREAM_WAITERS_MAX clients
 * join one question; the next identical one starts a new upstream question
 * that later duplicates join.
 *
 * Thread safety: everything from the one slow-path thread.
 */

#include <stdint.h>
#include <sys/socket.h>

#include <rte_common.h>

#include "hd_cache.h"
#include "hd_dns.h"
#include "hd_stats.h"

/** Servers of every group together (8 default + 32 zones of 4). */
#define HD_UPSTREAM_MAX 136
/** Servers of one group. */
#define HD_UPSTREAM_GROUP_MAX 8
/** Forward zones (conditional forwarding). */
#define HD_UPSTREAM_ZONES_MAX 32
#define HD_UPSTREAM_LISTEN_MAX 8
/** Clients sharing one outstanding upstream question. */
#define HD_UPSTREAM_WAITERS_MAX 256
/** Consecutive failures (timeout, refused, malformed) that mark a server down. */
#define HD_UPSTREAM_FAIL_LIMIT 3
#define HD_UPSTREAM_BACKOFF_MIN_MS 1000
#define HD_UPSTREAM_BACKOFF_MAX_MS 60000

/** How a group picks among its servers (values of hd_config's strategy). */
enum hd_upstream_strategy {
	HD_UPSTREAM_STRICT = 0,		/**< in order; the next only on failure */
	HD_UPSTREAM_ROUND_ROBIN,	/**< each question starts at the next server */
	HD_UPSTREAM_FASTEST,		/**< lowest smoothed RTT, 1 in 32 probes another */
	HD_UPSTREAM_PARALLEL,		/**< the best two at once, first valid answer wins */
};

/** Transport and identity of one server (same index as servers[]). */
struct hd_upstream_server_opts {
	uint8_t tls;			/**< DNS over TLS (RFC 7858) */
	uint8_t group;			/**< 0: default servers, k: zones[k - 1] */
	char tls_name[256];		/**< name the certificate must hold ("": its IP) */
};

/** A forward zone: names at or below @c domain go to its group's servers. */
struct hd_upstream_zone {
	char domain[256];		/**< presentation form ("lan", "168.192.in-addr.arpa") */
};

/**
 * Called once per resolve request with its outcome: @p a when there is an
 * answer (valid only during the call: it may already be in the cache, or be
 * freed after the call), else @p rcode (SERVFAIL on timeout, or the
 * upstream's rcode when it was not cacheable, e.g. REFUSED).
 */
typedef void (*hd_upstream_done_t)(void *arg, void *client, const struct hd_dns_query *q,
				   const struct hd_dns_answer *a, int rcode);

/**
 * Policy hook for DNS-over-TCP clients (local data, blocklists, CNAME
 * cloaking), which the UDP fast path applies before the cache: called on
 * the slow-path thread for every query that parses (@p reply_len 0, @p msg
 * holds the query: the hook may write a reply over it) and for every answer
 * written from the cache or an upstream whose answer section has a CNAME
 * (@p reply_len > 0, @p msg holds that reply: the hook may rewrite it).
 * @param client  the client's address (AF_INET or AF_INET6, port included)
 * @return the length of the reply the hook wrote into @p msg, 0 to carry on
 *   as without a hook (msg untouched), or a negative errno (also carry on).
 */
typedef int (*hd_upstream_policy_t)(void *arg, const struct sockaddr_storage *client,
				    const struct hd_dns_query *q, uint8_t *msg,
				    size_t reply_len, size_t cap);

struct hd_upstream_params {
	/** Every server; opts[i].group says which group server i serves. */
	struct sockaddr_storage servers[HD_UPSTREAM_MAX];
	unsigned int n_servers;
	struct hd_upstream_server_opts opts[HD_UPSTREAM_MAX]; /**< zeroed: default group, UDP */
	struct hd_upstream_zone zones[HD_UPSTREAM_ZONES_MAX];
	unsigned int n_zones;
	enum hd_upstream_strategy strategy; /**< for every group (default strict) */
	const char *tls_ca_file;	/**< PEM CAs for DoT; NULL/"": the system's */
	/** Requests with this client (if not NULL) are cache refreshes: not counted as dedup joins. */
	const void *refresh_client;
	/**
	 * DNS-over-TCP clients whose question failed (SERVFAIL) get the cached
	 * entry past its expiry, if the cache still holds it, with TTL
	 * @c stale_ttl (RFC 8767), counted in stale_answers. 0: off.
	 */
	uint32_t stale_ttl;
	/** TCP listeners for DNS over TCP (port included); may be 0. */
	struct sockaddr_storage listen[HD_UPSTREAM_LISTEN_MAX];
	unsigned int n_listen;
	uint32_t attempt_ms;	/**< one attempt's timeout (default 800) */
	uint32_t total_ms;	/**< budget before SERVFAIL (default 2500) */
	uint32_t max_pending;	/**< outstanding client requests (default 4096) */
	uint32_t tcp_idle_ms;	/**< client TCP idle timeout (default 10000) */
	uint32_t max_tcp_clients; /**< default 256 */
	struct hd_cache *cache;	/**< filled with every cacheable answer; may be NULL */
	struct hd_dns_answer_limits limits;
	struct hd_stats_lcore *stats;
	hd_upstream_done_t done; /**< outcome of hd_upstream_resolve() requests */
	void *done_arg;
	hd_upstream_policy_t policy; /**< DNS-over-TCP clients' policy; may be NULL */
	void *policy_arg;
};

struct hd_upstream;

/**
 * Create the resolver: epoll set, TCP listeners (bound with IP_FREEBIND /
 * IPV6_FREEBIND so an address the kernel does not hold yet is fine), the
 * TLS context when a server uses DoT.
 * @return NULL with rte_errno set (EINVAL for bad params: no default
 *   server, a group without a server or with more than
 *   HD_UPSTREAM_GROUP_MAX, a zone that is not a domain name; EKEYREJECTED
 *   when the CA file cannot be loaded; or the errno of the failing socket
 *   call: EADDRINUSE, EACCES, ...).
 */
struct hd_upstream *hd_upstream_create(const struct hd_upstream_params *p);

/** Close every socket; outstanding requests get SERVFAIL first. NULL: no-op. */
void hd_upstream_free(struct hd_upstream *u);

/**
 * Ask for @p q on behalf of @p client (opaque; given back to the done
 * callback). The query is copied. Never calls the callback synchronously
 * except on failure to send, when it is called with SERVFAIL before
 * returning.
 * @return 0, -ENOBUFS when max_pending is reached (the caller answers
 *   SERVFAIL itself), or another negative errno.
 */
int hd_upstream_resolve(struct hd_upstream *u, const struct hd_dns_query *q, void *client);

/**
 * Run the event loop once: wait up to @p timeout_ms (0: don't sleep) for
 * sockets, handle what is ready, then expire timed-out attempts.
 * @return events handled, or a negative errno.
 */
int hd_upstream_poll(struct hd_upstream *u, int timeout_ms);

/** Outstanding client requests (each waiting client counts). */
unsigned int hd_upstream_pending(const struct hd_upstream *u);

/** Per-server counters for telemetry. */
struct hd_upstream_server_stats {
	uint64_t queries;
	uint64_t replies;
	uint64_t timeouts;
	uint64_t rejected;
	uint32_t rtt_ms;	/**< smoothed round-trip time (EWMA, 1/8) */
	uint64_t failures;	/**< timeouts, refusals, malformed replies, TLS failures */
	uint64_t race_lost;	/**< parallel: replies that came second and were dropped */
	uint8_t down;		/**< skipped but for probes after the backoff */
	uint32_t backoff_ms;	/**< while down: wait before the next probe */
	uint64_t down_since_ms;	/**< hd_clock_ms() when marked down (while down) */
};

/** @return 0 and @p s for server @p i, or -ENOENT. */
int hd_upstream_server_stats(const struct hd_upstream *u, unsigned int i,
			     struct hd_upstream_server_stats *s);

/** Servers of every group (params n_servers). */
unsigned int hd_upstream_server_count(const struct hd_upstream *u);

/**
 * The group that serves @p q: 0 for the default servers, k for zones[k - 1]
 * (the longest zone that holds the query name).
 */
unsigned int hd_upstream_group_of(const struct hd_upstream *u, const struct hd_dns_query *q);

#endif /* HD_UPSTREAM_H */
