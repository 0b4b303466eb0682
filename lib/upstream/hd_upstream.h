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
 * ID and the same question. An attempt that gets no valid reply within the
 * attempt timeout is retried on the next server; when the total budget is
 * spent the client gets SERVFAIL. A reply with TC=1 is asked again over TCP.
 *
 * Thread safety: everything from the one slow-path thread.
 */

#include <stdint.h>
#include <sys/socket.h>

#include <rte_common.h>

#include "hd_cache.h"
#include "hd_dns.h"
#include "hd_stats.h"

#define HD_UPSTREAM_MAX 8
#define HD_UPSTREAM_LISTEN_MAX 8

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
	struct sockaddr_storage servers[HD_UPSTREAM_MAX];
	unsigned int n_servers;
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
 * IPV6_FREEBIND so an address the kernel does not hold yet is fine).
 * @return NULL with rte_errno set (EINVAL for bad params, or the errno of
 *   the failing socket call: EADDRINUSE, EACCES, ...).
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

/** Outstanding client requests. */
unsigned int hd_upstream_pending(const struct hd_upstream *u);

/** Per-server counters for telemetry. */
struct hd_upstream_server_stats {
	uint64_t queries;
	uint64_t replies;
	uint64_t timeouts;
	uint64_t rejected;
	uint32_t rtt_ms;	/**< smoothed round-trip time */
};

/** @return 0 and @p s for server @p i, or -ENOENT. */
int hd_upstream_server_stats(const struct hd_upstream *u, unsigned int i,
			     struct hd_upstream_server_stats *s);

#endif /* HD_UPSTREAM_H */
