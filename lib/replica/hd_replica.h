/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_REPLICA_H
#define HD_REPLICA_H

/**
 * @file
 * The Redis replica of the cache (L2): a versioned key/value codec for
 * cache entries, and an asynchronous hiredis client driven by the slow
 * path's event loop.
 *
 * Key, format v1: "PREFIX:v1:QTYPE:QCLASS:FLAGS:NAME" with the numbers in
 * decimal and NAME the lowercase question name in presentation form
 * ("www.example.com.", \DDD escapes as hd_dns_name_to_str() writes them).
 *
 * Value, format v1 (every integer big-endian):
 *   magic "HDRV" (4), version u16 (1), reserved u16 (0),
 *   ttl u32 (smallest TTL when received), left_ms u32 (time left when
 *   written: the SET's PX), flags u16 (AD, RCODE), ancount u16,
 *   nscount u16, arcount u16, n_ttl u16, len u16,
 *   qtype u16, qclass u16, key flags u8, name_len u8, name (wire form),
 *   ttl_off u16 x n_ttl, data (len bytes, the sections as the cache keeps
 *   them, every TTL aged to the time of writing).
 *
 * Decoding trusts nothing: the value must be exactly as long as its fields
 * say, name the question it is read for, and rebuild (hd_dns_answer_build)
 * into the very same entry: same counts, same TTL offsets, same bytes.
 *
 * Thread safety: the codec is pure; a client belongs to one thread.
 */

#include <stddef.h>
#include <stdint.h>

#include "hd_cache.h"
#include "hd_dns.h"

#define HD_REPLICA_MAGIC	"HDRV"
#define HD_REPLICA_VERSION	1
/** Fixed part of a value, before the name. */
#define HD_REPLICA_VALUE_FIXED	34
/** Longest key: prefix, numbers, and a name of 255 \DDD-escaped bytes. */
#define HD_REPLICA_PREFIX_MAX	64
#define HD_REPLICA_KEY_MAX	(HD_REPLICA_PREFIX_MAX + 32 + 4 * HD_DNS_NAME_MAX + 2)

/**
 * Write the key of @p k under @p prefix into @p out (NUL-terminated).
 * @return the key length, or -EINVAL (empty or over-long prefix, bad key)
 *   / -ENOSPC.
 */
int hd_replica_key(const char *prefix, const struct hd_cache_key *k, char *out, size_t cap);

/** @return the bytes hd_replica_encode() writes for @p k and @p a. */
size_t hd_replica_value_len(const struct hd_cache_key *k, const struct hd_dns_answer *a);

/**
 * Serialize @p a (stored under @p k) as it stands at @p now (the clock the
 * entry was stored with): TTLs aged, @p left_ms set to the time it has left.
 * @return the value length, -ESTALE when the entry has no time left, or
 *   -ENOSPC when @p cap is too small.
 */
int hd_replica_encode(const struct hd_cache_key *k, const struct hd_dns_answer *a,
		      uint32_t now, uint8_t *out, size_t cap, uint32_t *left_ms);

/**
 * Rebuild the entry for query @p q from value @p v.
 * @param age_ms  time since the value was written (left_ms - Redis' PTTL)
 * @param now     the cache clock to store the entry with
 * @param err     0, -EPROTO (not a heimdall value, or for another question),
 *   -ENOTSUP (another format version), -EBADMSG (malformed or truncated),
 *   -ESTALE (no time left), -ENOMEM
 * @return the entry (free()), or NULL with *err set.
 */
struct hd_dns_answer *
hd_replica_decode(const uint8_t *v, size_t len, const struct hd_dns_query *q, uint32_t age_ms,
		  uint32_t now, const struct hd_dns_answer_limits *lim, int *err);

/* ---- the client (replica.c) ---- */

/** Connection state, as telemetry shows it. */
enum hd_replica_state {
	HD_REPLICA_DOWN = 0,	/**< not connected; waiting for the next attempt */
	HD_REPLICA_CONNECTING,	/**< TCP connect, AUTH or SELECT under way */
	HD_REPLICA_CONNECTED,
};

struct hd_replica_params {
	const char *host;	/**< IP address or name */
	uint16_t port;
	uint32_t db;
	const char *user;	/**< ACL user ("" or NULL: none) */
	const char *password;	/**< "" or NULL: no AUTH */
	const char *prefix;	/**< key prefix ("heimdall") */
	uint32_t timeout_ms;	/**< connect and command timeout */
	uint32_t max_outstanding; /**< commands in flight; writes past it are dropped */
	struct hd_dns_answer_limits limits; /**< for entries read back */
	int tls;		/**< rediss://: TLS, the certificate verified */
	const char *ca_file;	/**< CA bundle for TLS ("" or NULL: the system's) */
	/** "HOST:PORT[,HOST:PORT...]" ("" or NULL: none): ask these Sentinels for
	 *  the master named @c sentinel_master instead of using host/port. */
	const char *sentinels;
	const char *sentinel_master;
};

struct hd_replica_stats {
	uint64_t writes;	/**< SETs sent */
	uint64_t write_dropped;	/**< not sent: down, or the queue full */
	uint64_t write_errors;	/**< SETs Redis answered with an error */
	uint64_t l2_hits;
	uint64_t l2_misses;	/**< no key, timed out, down, or Redis error */
	uint64_t l2_rejected;	/**< a value that did not decode (foreign, malformed) */
	uint32_t outstanding;
	enum hd_replica_state state;
	/** The server in use or being tried, "IP:PORT" ("[IP6]:PORT"); "" when none. */
	char redis_addr[64];
};

struct hd_replica;

/**
 * Outcome of a lookup: @p a is the rebuilt entry (ownership passes to the
 * callee) or NULL on a miss of any kind.
 */
typedef void (*hd_replica_get_t)(void *arg, void *ctx, const struct hd_dns_query *q,
				 struct hd_dns_answer *a);

/**
 * Create the client; it connects at the first hd_replica_poll(). The
 * connection and its handshake (TLS, AUTH, SELECT, and ROLE behind a
 * Sentinel) must complete within max(10 x timeout_ms, 1 s); a lookup
 * waits at most timeout_ms.
 * @return NULL with rte_errno set (EINVAL: bad parameters or Sentinel
 *   list; ENOENT: no CA could be loaded for TLS; ENOMEM).
 */
struct hd_replica *hd_replica_create(const struct hd_replica_params *p);

/** Disconnect and free; outstanding lookups get their callback (miss). NULL: no-op. */
void hd_replica_free(struct hd_replica *r);

/**
 * Do the socket work that is ready (no waiting), connect or reconnect when
 * due (backoff 1 s doubling to 30 s), time out lookups and a connection
 * that stopped answering.
 * @param now_ms  hd_clock_ms()
 */
void hd_replica_poll(struct hd_replica *r, uint64_t now_ms);

/** Queue SET key value PX left for entry @p a of @p k. @return 0 or a negative errno. */
int hd_replica_write(struct hd_replica *r, const struct hd_cache_key *k,
		     const struct hd_dns_answer *a, uint32_t now);

/**
 * Ask Redis for @p q; @p cb runs from a later hd_replica_poll() (or from
 * hd_replica_free()) with the entry rebuilt at clock @p now then, or NULL.
 * @return 0, or -ENOTCONN / -ENOBUFS (no callback then).
 */
int hd_replica_get(struct hd_replica *r, const struct hd_dns_query *q, hd_replica_get_t cb,
		   void *arg, void *ctx);

/* ---- any command, and pub/sub (the cluster's membership and control) ---- */

struct redisReply;

/**
 * Outcome of hd_replica_command(): @p reply is hiredis' parsed reply, valid
 * only during the call; NULL when no reply came (down, timed out after
 * timeout_ms x 10, or the connection was lost).
 */
typedef void (*hd_replica_reply_t)(void *arg, const struct redisReply *reply);

/**
 * Send one command in argv form (binary-safe, @p argvlen may be NULL for
 * NUL-terminated strings); @p cb (may be NULL) runs from a later
 * hd_replica_poll() or from hd_replica_free().
 * @return 0, or -ENOTCONN / -ENOBUFS / -EINVAL (no callback then).
 */
int hd_replica_command(struct hd_replica *r, hd_replica_reply_t cb, void *arg, int argc,
		       const char *const *argv, const size_t *argvlen);

/** A message published on a subscribed channel. */
typedef void (*hd_replica_message_t)(void *arg, const char *channel, const uint8_t *msg,
				     size_t len);

/**
 * Subscribe to @p channel on a second connection of the client (a
 * subscribed connection takes no other command); it is opened at the next
 * poll and subscribes again after every reconnect. @p cb runs from
 * hd_replica_poll(). At most 8 channels.
 * @return 0, -ENOSPC, -EINVAL, -ENOMEM.
 */
int hd_replica_subscribe(struct hd_replica *r, const char *channel, hd_replica_message_t cb,
			 void *arg);

/** Lookups waiting for Redis. */
unsigned int hd_replica_pending(const struct hd_replica *r);

void hd_replica_stats_get(const struct hd_replica *r, struct hd_replica_stats *s);

/** "connected", "connecting" or "down". */
const char *hd_replica_state_name(enum hd_replica_state s);

#endif /* HD_REPLICA_H */
