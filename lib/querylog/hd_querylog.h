/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_QUERYLOG_H
#define HD_QUERYLOG_H

/**
 * @file
 * The query log: what one answered query leaves behind, and the pieces
 * that move it from a worker to the operator without slowing the worker.
 *
 * - struct hd_querylog_rec: a fixed 128-byte record (two cache lines).
 * - struct hd_querylog_ring: a single-producer single-consumer ring of
 *   records, one per worker lcore (and one for the slow path). The producer
 *   writes straight into the next slot, publishes once per burst, and never
 *   waits: a full ring drops the record and counts it; under overload the
 *   consumer asks the producer to keep only 1 query in N (counted as
 *   sampled out).
 * - filters, top-N summaries (space-saving), the in-memory store, JSON lines
 *   and file rotation: used by the drain thread and the HTTP API only.
 *
 * Only the ring's producer side, hd_querylog_fp_log() and
 * hd_querylog_fp_flush() run on a worker:
 * no allocation, no syscalls, no locks there.
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "hd_fastpath.h"

/** Bytes of the query name a record keeps (wire form, a suffix of whole labels). */
#define HD_QUERYLOG_NAME_MAX	92

/** What happened to a query. Stable: the numbers are never reused. */
enum hd_querylog_status {
	HD_QUERYLOG_CACHED = 0,		/**< answered from the cache */
	HD_QUERYLOG_FORWARDED,		/**< answered by an upstream */
	HD_QUERYLOG_BLOCKED,		/**< a blocklist matched the name (list) */
	HD_QUERYLOG_CNAME_BLOCKED,	/**< the answer's CNAME chain reached a blocked name */
	HD_QUERYLOG_LOCAL,		/**< answered from local records or zones */
	HD_QUERYLOG_STALE,		/**< answered past expiry (RFC 8767) */
	HD_QUERYLOG_SERVFAIL,		/**< no upstream answered: SERVFAIL */
	HD_QUERYLOG_REPLICA,		/**< answered from the cluster's Redis */
	HD_QUERYLOG_REJECTED,		/**< FORMERR, NOTIMPL, REFUSED or BADVERS to a bad query */
	HD_QUERYLOG_STATUS_MAX
};

/** Record flags. */
#define HD_QUERYLOG_F_IPV6	0x01	/**< client is IPv6 (16 bytes), else IPv4 (4) */
#define HD_QUERYLOG_F_TRUNC	0x02	/**< leading labels of the name were cut */
#define HD_QUERYLOG_F_HIDDEN	0x04	/**< client address hidden (anonymize hide) */
#define HD_QUERYLOG_F_NONAME	0x08	/**< the question could not be read */

/** Anonymisation of the client address (the values of hd_config_anonymize). */
enum hd_querylog_anon {
	HD_QUERYLOG_ANON_NONE = 0,
	HD_QUERYLOG_ANON_MASK,		/**< IPv4 /24, IPv6 /48 */
	HD_QUERYLOG_ANON_HIDE,		/**< no address at all */
};

/** No list (hd_querylog_rec.list). */
#define HD_QUERYLOG_LIST_NONE	UINT16_MAX

/**
 * One query. Pushed with a TSC timestamp; the drain thread rewrites @p time
 * to Unix milliseconds before anything else sees the record.
 */
struct hd_querylog_rec {
	uint64_t time;			/**< TSC when pushed, Unix ms once drained */
	uint8_t client[16];		/**< 4 bytes for IPv4 (rest zero) */
	uint16_t qtype;
	uint16_t list;			/**< list index (blocked), or HD_QUERYLOG_LIST_NONE */
	uint16_t lcore;			/**< who answered */
	uint16_t latency_ms;		/**< miss to reply on the slow path (capped), else 0 */
	uint8_t status;			/**< enum hd_querylog_status */
	uint8_t rcode;			/**< of the reply (low 8 bits) */
	uint8_t flags;			/**< HD_QUERYLOG_F_* */
	uint8_t name_len;		/**< bytes used in @p name */
	uint8_t name[HD_QUERYLOG_NAME_MAX]; /**< lowercase wire form, root label included */
};

/* ---- records (pure) ---- */

/**
 * Store wire-form @p name (@p len bytes, root included) in @p r: the whole
 * name when it fits, else its longest suffix of whole labels that fits,
 * with HD_QUERYLOG_F_TRUNC set. A @p len of 0 stores the root and sets
 * HD_QUERYLOG_F_NONAME.
 */
void hd_querylog_rec_name(struct hd_querylog_rec *r, const uint8_t *name, size_t len);

/** Store the client's address (4 bytes, or 16 with @p ipv6). */
void hd_querylog_rec_client(struct hd_querylog_rec *r, const uint8_t *addr, int ipv6);

/** Apply @p mode (enum hd_querylog_anon) to the record's client address. */
void hd_querylog_anonymize(struct hd_querylog_rec *r, int mode);

/** @return "cached", "forwarded", ... or NULL past the end. */
const char *hd_querylog_status_name(unsigned int status);

/** @return the status called @p name, or -EINVAL. */
int hd_querylog_status_parse(const char *name);

/** @return "A", "AAAA", ... for known types, else NULL (write "TYPE<n>"). */
const char *hd_querylog_type_name(uint16_t qtype);

/** @return the type of "A", "aaaa", "TYPE65" or "65", or -EINVAL. */
int hd_querylog_type_parse(const char *s);

/** @return "NOERROR", "NXDOMAIN", ... or NULL for a code without a name. */
const char *hd_querylog_rcode_name(unsigned int rcode);

/**
 * The name in presentation form ("www.example.com."); a truncated name
 * starts with "..." before its kept suffix ("...example.com.").
 * @return the length, or -ENOSPC.
 */
int hd_querylog_name_str(const struct hd_querylog_rec *r, char *out, size_t cap);

/** The client as text ("10.53.0.2", "fd53::2", "hidden"). @return length or -ENOSPC. */
int hd_querylog_client_str(const struct hd_querylog_rec *r, char *out, size_t cap);

/**
 * One JSON line for @p r (a drained record: time in Unix ms), ending with
 * '\n', NUL-terminated:
 * {"time":"2024-05-01T12:00:00.123Z","client":"10.53.0.2","name":"a.example.",
 *  "type":"A","status":"forwarded","rcode":"NOERROR","lcore":1, ...}
 * plus "list" (blocked, @p list_name or the index), "latency_ms"
 * (forwarded), "truncated":true when the name was cut.
 * @param list_name  the name of r->list, or NULL
 * @return the length without the NUL, or -ENOSPC.
 */
int hd_querylog_json_line(const struct hd_querylog_rec *r, const char *list_name,
			  char *out, size_t cap);

/**
 * Write @p s as a JSON string body (no quotes) into @p out: '"', '\\' and
 * control bytes escaped, bytes >= 0x80 as \u00XX (names are bytes, not
 * UTF-8). @return the length, or -ENOSPC.
 */
int hd_querylog_json_escape(const char *s, size_t len, char *out, size_t cap);

/* ---- filters (pure) ---- */

/** What GET /api/querylog selects; a zeroed struct selects everything. */
struct hd_querylog_filter {
	uint8_t has_client, has_domain, has_type;
	uint8_t client_ipv6;
	uint8_t client_bits;		/**< prefix length (32/128: one address) */
	uint8_t client[16];
	uint8_t domain[255];		/**< lowercase wire form */
	uint8_t domain_len;
	uint16_t qtype;
	uint32_t status_mask;		/**< bit per status; 0: any */
};

/**
 * Parse one argument into @p f: "client" (an address or CIDR prefix, also
 * "hidden"), "domain" (a name: matches it and every name under it),
 * "status" (comma-separated names), "type" (A, AAAA, TYPE65, 65).
 * @return 0, or -EINVAL when the value is malformed, -ENOENT for an
 *   unknown argument.
 */
int hd_querylog_filter_set(struct hd_querylog_filter *f, const char *arg, const char *value);

/** @return 1 when @p r passes @p f. */
int hd_querylog_filter_match(const struct hd_querylog_filter *f, const struct hd_querylog_rec *r);

/* ---- the worker -> drain ring ---- */

/** Counters of one ring, written by its producer (relaxed), read by anyone. */
struct hd_querylog_ring_stats {
	uint64_t records;		/**< pushed */
	uint64_t dropped;		/**< lost because the ring was full */
	uint64_t sampled_out;		/**< skipped by sampling */
};

/*
 * The ring's fields sit on four cache lines by who writes them, so that a
 * worker logging every query writes no line the drain thread reads, except
 * `published` once per burst:
 * - the producer's own line (head, counters, cached tail): the consumer
 *   never touches it (counter readers load it relaxed, rarely);
 * - `published`: written by the producer once per burst (or every
 *   HD_QUERYLOG_STAGE_MAX records), read by the consumer at each drain;
 * - the consumer's line (tail): read by the producer only when its cached
 *   tail says the ring is full;
 * - `sample_n`: written by the consumer only when it changes, so it stays
 *   in the producer's cache between changes.
 */
struct hd_querylog_ring {
	/* Producer's line. */
	uint32_t head;			/**< next slot to write (free-running) */
	uint32_t pub;			/**< the producer's copy of published */
	uint32_t tail_seen;		/**< the consumer's tail when last read */
	uint32_t mask;
	uint32_t sample_ctr;
	uint16_t lcore;
	uint8_t anon;			/**< enum hd_querylog_anon, applied at push */
	struct hd_querylog_ring_stats st;
	/* Records before this index may be read by the consumer. */
	uint32_t published __rte_cache_aligned;
	/* Consumer's line. */
	uint32_t tail __rte_cache_aligned; /**< next slot to read */
	uint32_t cmask;			/**< the consumer's copy of mask */
	/** Keep 1 query in sample_n (1: all); set by the consumer. */
	uint32_t sample_n __rte_cache_aligned;
	struct hd_querylog_rec slots[] __rte_cache_aligned;
};

/**
 * Records a producer may stage (hd_querylog_ring_stage()) before they are
 * published without waiting for hd_querylog_ring_flush(): more than a
 * worker's burst, so a worker that flushes per burst never reaches it.
 */
#define HD_QUERYLOG_STAGE_MAX	64

/** High water: above this fill (of 8) after a drain, sampling doubles N. */
#define HD_QUERYLOG_HIGH_EIGHTHS	4
/** Low water: below this fill (of 8), N halves. */
#define HD_QUERYLOG_LOW_EIGHTHS		1
/** Largest N (1 query in N kept). */
#define HD_QUERYLOG_SAMPLE_MAX		1024

/**
 * A ring of @p size records (a power of two >= 2), on @p socket (or
 * SOCKET_ID_ANY), for lcore @p lcore, anonymising with @p anon.
 * @return it, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct hd_querylog_ring *hd_querylog_ring_create(uint32_t size, int socket, uint16_t lcore,
						 int anon);

/** Free @p r (NULL is a no-op). */
void hd_querylog_ring_free(struct hd_querylog_ring *r);

/**
 * Producer: the slot to fill for the next query, or NULL when the query is
 * not to be logged (ring full: counted in dropped; sampled out: counted in
 * sampled_out). Fill it, then hd_querylog_ring_commit().
 */
static inline struct hd_querylog_rec *
hd_querylog_ring_reserve(struct hd_querylog_ring *r)
{
	uint32_t n = __atomic_load_n(&r->sample_n, __ATOMIC_RELAXED);

	if (unlikely(n > 1) && ++r->sample_ctr % n != 0) {
		__atomic_store_n(&r->st.sampled_out, r->st.sampled_out + 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (unlikely(r->head - r->tail_seen > r->mask)) {
		/* Only now read the consumer's line: it has moved at most once per drain. */
		r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (r->head - r->tail_seen > r->mask) {
			__atomic_store_n(&r->st.dropped, r->st.dropped + 1, __ATOMIC_RELAXED);
			return NULL;
		}
	}
	return &r->slots[r->head & r->mask];
}

/** Producer: make the records staged so far visible to the consumer. */
static inline void
hd_querylog_ring_flush(struct hd_querylog_ring *r)
{
	if (r->head != r->pub) {
		r->pub = r->head;
		__atomic_store_n(&r->published, r->pub, __ATOMIC_RELEASE);
	}
}

/**
 * Producer: keep the slot hd_querylog_ring_reserve() gave, to be published
 * by the next hd_querylog_ring_flush() (or here, once
 * HD_QUERYLOG_STAGE_MAX records wait). A worker stages each query of a
 * burst and flushes once after it: one write of a line the consumer reads
 * per burst instead of per query.
 */
static inline void
hd_querylog_ring_stage(struct hd_querylog_ring *r)
{
	/* Only this thread writes it: a relaxed store, so readers never see a torn value. */
	__atomic_store_n(&r->st.records, r->st.records + 1, __ATOMIC_RELAXED);
	r->head++;
	if (unlikely(r->head - r->pub >= HD_QUERYLOG_STAGE_MAX))
		hd_querylog_ring_flush(r);
}

/** Producer: publish the slot hd_querylog_ring_reserve() gave (and any staged ones). */
static inline void
hd_querylog_ring_commit(struct hd_querylog_ring *r)
{
	hd_querylog_ring_stage(r);
	hd_querylog_ring_flush(r);
}

/**
 * Consumer: move up to @p max records into @p out, then adapt sampling from
 * how full the ring was (above the high water N doubles, below the low
 * water it halves). @return the number moved.
 */
unsigned int hd_querylog_ring_drain(struct hd_querylog_ring *r, struct hd_querylog_rec *out,
				    unsigned int max);

/**
 * Records hd_querylog_ring_drain_behind() leaves (8 KiB): far enough from
 * the slots the producer is writing that neither the consumer's loads nor
 * its core's hardware prefetcher take lines from under the producer.
 */
#define HD_QUERYLOG_DRAIN_LAG	64

/**
 * Consumer: as hd_querylog_ring_drain(), but leave the newest
 * HD_QUERYLOG_DRAIN_LAG published records for a later drain. For a
 * consumer going again at once because the producer is ahead (a full
 * batch): reading right behind a busy producer moved the lines it was
 * writing to the consumer's core and cost the producer some 40 % of its
 * hit path. After a pause, drain with hd_querylog_ring_drain() so the
 * last records are not held back.
 */
unsigned int hd_querylog_ring_drain_behind(struct hd_querylog_ring *r,
					   struct hd_querylog_rec *out, unsigned int max);

/** Read @p r's counters (any thread). */
void hd_querylog_ring_stats(const struct hd_querylog_ring *r, struct hd_querylog_ring_stats *s);

/**
 * hd_fastpath_ctx.log for a worker: stage @p e as a record in the ring
 * @p arg (a struct hd_querylog_ring *). The worker calls
 * hd_querylog_fp_flush() with the same @p arg after each burst; records
 * are published at the latest every HD_QUERYLOG_STAGE_MAX records.
 */
void hd_querylog_fp_log(void *arg, const struct hd_fp_log *e);

/** Publish what hd_querylog_fp_log() staged in the ring @p arg (end of a burst). */
static inline void
hd_querylog_fp_flush(void *arg)
{
	hd_querylog_ring_flush(arg);
}

/* ---- top-N (space-saving) ---- */

/** Longest key of a top table (a wire name, or 1 + 16 address bytes). */
#define HD_QUERYLOG_KEY_MAX	HD_QUERYLOG_NAME_MAX

struct hd_querylog_top;

/** One counted key; count - error <= true count <= count. */
struct hd_querylog_top_entry {
	uint64_t count;
	uint64_t error;
	uint8_t key[HD_QUERYLOG_KEY_MAX];
	uint8_t len;
};

/**
 * A space-saving summary keeping @p slots keys (>= 1): every key seen more
 * than total/slots times is in it, and each count overestimates by at most
 * its error. @return it, or NULL (ENOMEM, EINVAL).
 */
struct hd_querylog_top *hd_querylog_top_create(unsigned int slots);
void hd_querylog_top_free(struct hd_querylog_top *t);

/** Count one occurrence of @p key (@p len <= HD_QUERYLOG_KEY_MAX, else cut). */
void hd_querylog_top_add(struct hd_querylog_top *t, const uint8_t *key, size_t len);

/** The @p n largest counts, largest first, into @p out. @return how many. */
unsigned int hd_querylog_top_get(const struct hd_querylog_top *t,
				 struct hd_querylog_top_entry *out, unsigned int n);

/** Occurrences counted so far. */
uint64_t hd_querylog_top_total(const struct hd_querylog_top *t);

/* ---- the in-memory store of the latest records ---- */

struct hd_querylog_store;

/** Keep the last @p capacity records (0 keeps none). @return it, or NULL (ENOMEM). */
struct hd_querylog_store *hd_querylog_store_create(uint32_t capacity);
void hd_querylog_store_free(struct hd_querylog_store *s);

/** Add @p r, forgetting the oldest when full. */
void hd_querylog_store_add(struct hd_querylog_store *s, const struct hd_querylog_rec *r);

/**
 * Visit the records passing @p f (NULL: all), newest first, at most
 * @p limit of them; @p fn returning non-zero stops. @return records visited.
 */
unsigned int hd_querylog_store_walk(const struct hd_querylog_store *s,
				    const struct hd_querylog_filter *f, unsigned int limit,
				    int (*fn)(void *arg, const struct hd_querylog_rec *r),
				    void *arg);

/** Records held now. */
uint32_t hd_querylog_store_count(const struct hd_querylog_store *s);

/* ---- the JSON lines file ---- */

/**
 * The name of rotated file @p i of @p base: @p base itself for 0,
 * "base.1" (the newest rotated) for 1, and so on. @return the length, or
 * -ENAMETOOLONG.
 */
int hd_querylog_rotate_name(char *out, size_t cap, const char *base, unsigned int i);

struct hd_querylog_file;

/**
 * Append to @p path, rotating when it would grow past @p max_size, keeping
 * @p keep rotated files. Nothing is opened yet. @return it, or NULL (ENOMEM).
 */
struct hd_querylog_file *hd_querylog_file_create(const char *path, uint64_t max_size,
						 unsigned int keep);

/**
 * Buffer one line; writes when the buffer fills. Opens (or reopens after a
 * failure, at most once a second) the file as needed.
 * @return 0, or a negative errno when the line was lost (counted).
 */
int hd_querylog_file_write(struct hd_querylog_file *f, const char *line, size_t len,
			   uint64_t now_ms);

/** Write what is buffered. @return 0 or a negative errno (counted). */
int hd_querylog_file_flush(struct hd_querylog_file *f, uint64_t now_ms);

/** Flush and close; NULL is a no-op. */
void hd_querylog_file_free(struct hd_querylog_file *f);

/** Write, open and rename failures so far (lines lost are among them). */
uint64_t hd_querylog_file_errors(const struct hd_querylog_file *f);

#endif /* HD_QUERYLOG_H */
