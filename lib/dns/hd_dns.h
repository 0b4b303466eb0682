/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_DNS_H
#define HD_DNS_H

/**
 * @file
 * DNS messages for heimdall: query parsing (fast path), names (reading with
 * decompression, writing with compression), RR types, EDNS, and the cached
 * answer format shared by the cache, the fast path and the slow path.
 *
 * Everything here works on plain byte buffers through struct hd_wire; nothing
 * needs the DPDK EAL, so the unit tests and the fuzzer run without it.
 * Only hd_dns_answer_build() allocates (libc malloc; the slow path calls it).
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "hd_wire.h"

#define HD_DNS_HDR_LEN		12
#define HD_DNS_NAME_MAX		255	/**< wire length, root label included */
#define HD_DNS_LABEL_MAX	63
#define HD_DNS_PTR_HOPS_MAX	32	/**< compression pointers followed per name */
#define HD_DNS_UDP_MIN		512	/**< limit for a client without EDNS */
#define HD_DNS_EDNS_SIZE	1232	/**< payload size we advertise and cap replies at */
#define HD_DNS_OPT_LEN		11	/**< an OPT RR without options */

/* Header flag bits (host order, the 16 bits after the ID). */
#define HD_DNS_QR	0x8000
#define HD_DNS_OPCODE_MASK 0x7800
#define HD_DNS_AA	0x0400
#define HD_DNS_TC	0x0200
#define HD_DNS_RD	0x0100
#define HD_DNS_RA	0x0080
#define HD_DNS_AD	0x0020
#define HD_DNS_CD	0x0010
#define HD_DNS_RCODE_MASK 0x000f

#define HD_DNS_OPCODE_QUERY 0

/* RCODEs; BADVERS is extended (needs OPT). */
#define HD_DNS_RCODE_NOERROR	0
#define HD_DNS_RCODE_FORMERR	1
#define HD_DNS_RCODE_SERVFAIL	2
#define HD_DNS_RCODE_NXDOMAIN	3
#define HD_DNS_RCODE_NOTIMPL	4
#define HD_DNS_RCODE_REFUSED	5
#define HD_DNS_RCODE_BADVERS	16

#define HD_DNS_CLASS_IN		1
#define HD_DNS_CLASS_CH		3
#define HD_DNS_CLASS_ANY	255

#define HD_DNS_TYPE_A		1
#define HD_DNS_TYPE_NS		2
#define HD_DNS_TYPE_MD		3
#define HD_DNS_TYPE_MF		4
#define HD_DNS_TYPE_CNAME	5
#define HD_DNS_TYPE_SOA		6
#define HD_DNS_TYPE_MB		7
#define HD_DNS_TYPE_MG		8
#define HD_DNS_TYPE_MR		9
#define HD_DNS_TYPE_NULL	10
#define HD_DNS_TYPE_WKS		11
#define HD_DNS_TYPE_PTR		12
#define HD_DNS_TYPE_HINFO	13
#define HD_DNS_TYPE_MINFO	14
#define HD_DNS_TYPE_MX		15
#define HD_DNS_TYPE_TXT		16
#define HD_DNS_TYPE_RP		17
#define HD_DNS_TYPE_AFSDB	18
#define HD_DNS_TYPE_RT		21
#define HD_DNS_TYPE_SIG		24
#define HD_DNS_TYPE_PX		26
#define HD_DNS_TYPE_AAAA	28
#define HD_DNS_TYPE_NXT		30
#define HD_DNS_TYPE_SRV		33
#define HD_DNS_TYPE_NAPTR	35
#define HD_DNS_TYPE_KX		36
#define HD_DNS_TYPE_DNAME	39
#define HD_DNS_TYPE_OPT		41
#define HD_DNS_TYPE_DS		43
#define HD_DNS_TYPE_RRSIG	46
#define HD_DNS_TYPE_NSEC	47
#define HD_DNS_TYPE_DNSKEY	48
#define HD_DNS_TYPE_SVCB	64
#define HD_DNS_TYPE_HTTPS	65
#define HD_DNS_TYPE_IXFR	251
#define HD_DNS_TYPE_AXFR	252
#define HD_DNS_TYPE_ANY		255
#define HD_DNS_TYPE_CAA		257

/** How the names inside a type's RDATA are treated. */
enum hd_dns_rdata_names {
	HD_DNS_RDATA_OPAQUE = 0, /**< no names, or names never compressed (RFC 3597) */
	HD_DNS_RDATA_COMPRESS,   /**< RFC 1035 types: decompress on read, may compress on write */
	HD_DNS_RDATA_DECOMPRESS, /**< RFC 3597 §4 types: decompress on read, write whole */
};

/** Parsed client query. Filled by hd_dns_query_parse(). */
struct hd_dns_query {
	uint16_t id;
	uint16_t flags;		/**< header flags as received */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t qname_len;	/**< wire length of the qname (root included) */
	uint16_t question_end;	/**< offset just after QCLASS: 12 + qname_len + 4 */
	uint16_t msg_len;	/**< length of the message parsed */
	uint8_t has_edns;	/**< the query carried an OPT RR */
	uint8_t edns_version;
	uint8_t do_bit;		/**< DNSSEC OK */
	uint16_t edns_size;	/**< client's UDP payload size (>= 512 when has_edns) */
	uint8_t lname[HD_DNS_NAME_MAX]; /**< qname in wire form, lowercased */
};

/**
 * Parse a client query held in @p msg (the UDP payload or the TCP message
 * without its length prefix).
 *
 * Accepts: QR=0, opcode QUERY, QDCOUNT=1, ANCOUNT=NSCOUNT=0, an uncompressed
 * qname of valid labels, at most one OPT in the additional section (root
 * owner), other additional records skipped. Trailing bytes are ignored.
 *
 * @return
 *   0 when @p q is filled and the query can be answered;
 *   a positive RCODE to answer with (HD_DNS_RCODE_FORMERR, _NOTIMPL,
 *   _BADVERS, _REFUSED for AXFR/IXFR over this path) — @p q then holds as
 *   much as was read and @p q->question_end is 0 when the question itself
 *   could not be read;
 *   -EINVAL when the message must be dropped (shorter than a header, QR=1:
 *   a response sent to us, or truncated inside its question).
 */
int __rte_warn_unused_result
hd_dns_query_parse(const uint8_t *msg, size_t len, struct hd_dns_query *q);

/**
 * Read a possibly compressed name at the cursor into uncompressed wire form.
 * @p msg / @p msg_len is the whole message pointers are relative to (the
 * cursor's buffer normally). A pointer must point strictly before the start
 * of the name being read (so no forward pointers and no loops), at most
 * HD_DNS_PTR_HOPS_MAX pointers are followed, labels are at most 63 bytes,
 * the result at most 255, label types 0x40/0x80 are rejected.
 * The cursor ends after the name as it stands in the message.
 *
 * @param out  at least HD_DNS_NAME_MAX bytes
 * @return the wire length written to @p out (>= 1), or a negative errno
 *   (-EBADMSG for a malformed name, -EMSGSIZE when truncated); on error the
 *   cursor's sticky error is set as well.
 */
int hd_dns_name_read(struct hd_wire *w, uint8_t *out);

/** Lowercase ASCII letters of a wire-form name in place. */
void hd_dns_name_lower(uint8_t *name, size_t len);

/** @return 1 when two wire-form names are equal ignoring ASCII case. */
int hd_dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/**
 * Convert a wire-form name to presentation form ("www.example.com.",
 * "." for the root; bytes outside letters/digits/-/_ are written \DDD).
 * @return the string length, or -ENOSPC when @p cap is too small.
 */
int hd_dns_name_to_str(const uint8_t *name, size_t len, char *out, size_t cap);

/**
 * Parse presentation form ("www.example.com" or with trailing dot, \DDD
 * and \X escapes) to wire form.
 * @param out at least HD_DNS_NAME_MAX bytes
 * @return the wire length, or -EINVAL (empty label, label > 63, name > 255).
 */
int hd_dns_name_from_str(const char *str, uint8_t *out);

/** How names inside RDATA of @p type are handled. */
enum hd_dns_rdata_names hd_dns_rdata_names(uint16_t type);

/**
 * Compressing name writer: remembers where names were written in one
 * message so later names can point back at them.
 */
#define HD_DNS_COMP_MAX 64
struct hd_dns_compressor {
	const uint8_t *msg;	/**< message start (offsets are relative to it) */
	uint16_t n;
	uint16_t off[HD_DNS_COMP_MAX]; /**< offsets of names written uncompressed in part */
};

/** Start a compressor for the message beginning at @p msg. */
void hd_dns_comp_init(struct hd_dns_compressor *c, const uint8_t *msg);

/**
 * Write wire-form @p name at the cursor (whose buffer must start at the
 * compressor's msg). With @p comp non-NULL the longest known suffix is
 * replaced by a pointer and the new suffixes are remembered; with NULL the
 * name is written whole. Matching ignores ASCII case.
 */
void hd_dns_name_write(struct hd_wire *w, struct hd_dns_compressor *comp,
		       const uint8_t *name, size_t len);

/**
 * A cached answer: an immutable image of the sections that follow the
 * question in a reply, built for a question of @c qname_len bytes at
 * offset 12, so that every compression pointer in it stays valid when it is
 * copied after any client's question for the same key. TTL fields hold the
 * TTLs as received; the writer subtracts the age.
 *
 * Layout of one allocation: this struct, then @c n_ttl uint16_t offsets
 * (relative to the start of data), then @c len bytes of data.
 */
struct hd_dns_answer {
	uint32_t stored;	/**< time stored, seconds on the caller's clock */
	uint32_t expires;	/**< stored + the smallest TTL */
	uint32_t stale_until;	/**< last second it may be served stale (>= expires) */
	uint16_t flags;		/**< upstream header bits kept: AD, RCODE (never AA) */
	uint16_t ancount;
	uint16_t nscount;
	uint16_t arcount;	/**< additional records, OPT excluded */
	uint16_t n_ttl;
	uint16_t len;		/**< bytes of section data */
	uint16_t qname_len;	/**< the question length the data was encoded for */
	uint8_t negative;	/**< NXDOMAIN or NODATA (RFC 2308) */
	uint8_t has_cname;	/**< the answer section holds a CNAME (cloaking checks) */
	uint32_t ttl;		/**< the smallest TTL, i.e. expires - stored */
	/* uint16_t ttl_off[n_ttl]; uint8_t data[len]; */
};

/** @return the TTL offset table of @p a. */
static inline const uint16_t *
hd_dns_answer_ttl_offs(const struct hd_dns_answer *a)
{
	return (const uint16_t *)(const void *)(a + 1);
}

/** @return the section data of @p a. */
static inline const uint8_t *
hd_dns_answer_data(const struct hd_dns_answer *a)
{
	return (const uint8_t *)(hd_dns_answer_ttl_offs(a) + a->n_ttl);
}

/** @return the bytes one allocation of @p a takes (for cache accounting). */
static inline size_t
hd_dns_answer_size(const struct hd_dns_answer *a)
{
	return sizeof(*a) + a->n_ttl * sizeof(uint16_t) + a->len;
}

/** Limits applied when building an answer from an upstream reply. */
struct hd_dns_answer_limits {
	uint32_t min_ttl;	/**< TTLs below are raised to it when cached (0: none) */
	uint32_t max_ttl;	/**< TTLs above are cut to it (0: 86400) */
	uint32_t neg_max_ttl;	/**< cap for negative answers (0: 3600) */
	uint32_t stale_ttl;	/**< seconds it may be served after expiry (0: none) */
};

/**
 * Build a cacheable answer from an upstream reply to query @p q.
 *
 * Checks the reply is a response (QR=1) to the same question (name compared
 * ignoring case, type, class), with rcode NOERROR or NXDOMAIN (others give
 * -ENOTSUP so the caller can answer SERVFAIL or relay). Every RR of the
 * answer, authority and additional sections except OPT (and TSIG/SIG(0)) is
 * read with names decompressed, then written again after a question of
 * @p q->qname_len bytes with RFC 1035 types' names compressed against the
 * question and earlier names, others written whole. The expiry is
 * @p now + the smallest TTL (clamped by @p lim); a negative answer (NXDOMAIN,
 * or NOERROR with no answer RR) takes min(SOA TTL, SOA MINIMUM) from the
 * authority section, and without a SOA gets ttl 0 (answer, don't cache).
 *
 * @param err  set to 0, -EBADMSG (malformed), -EPROTO (not a reply to this
 *   question), -ENOTSUP (rcode not cacheable), -ENOMEM
 * @return the answer (free with free()), or NULL with *err set.
 */
struct hd_dns_answer *
hd_dns_answer_build(const uint8_t *reply, size_t len, const struct hd_dns_query *q,
		    uint32_t now, const struct hd_dns_answer_limits *lim, int *err);

/**
 * Write the reply to query @p q from cached answer @p a into @p msg, which
 * holds the client's query (header and question, in the client's case) at
 * offset 0. Keeps the client's ID and question, sets QR, RA, copies RD and
 * CD, takes AA/AD/RCODE from @p a (AD only when the query had DO or AD),
 * copies the sections after the question, patches every TTL to
 * max(ttl - (now - a->stored), 0) (serve-stale callers pass a clamp via
 * @p stale_ttl: when non-zero, every TTL is written as that value), appends
 * an OPT when the query had one (our payload size, DO echoed). When the
 * result would exceed @p limit, the sections are dropped and TC is set.
 *
 * @param cap    bytes available at @p msg
 * @param limit  the largest reply allowed (UDP: client's size capped by
 *   ours, at least 512; TCP: 65535)
 * @return the reply length, or a negative errno (-ENOSPC when even the
 *   truncated reply does not fit in @p cap).
 */
int hd_dns_reply_answer(uint8_t *msg, size_t cap, const struct hd_dns_query *q,
			const struct hd_dns_answer *a, uint32_t now, uint32_t stale_ttl,
			size_t limit);

/**
 * hd_dns_reply_answer() with an Extended DNS Error (RFC 8914) in the OPT:
 * when the query had EDNS and @p ede is not HD_DNS_EDE_NONE, the OPT carries
 * an EDE option with INFO-CODE @p ede and no EXTRA-TEXT (6 more bytes,
 * counted against @p limit). Serve-stale replies use HD_DNS_EDE_STALE.
 * A query without EDNS gets no OPT, so no EDE, exactly as before.
 */
int hd_dns_reply_answer_ede(uint8_t *msg, size_t cap, const struct hd_dns_query *q,
			    const struct hd_dns_answer *a, uint32_t now, uint32_t stale_ttl,
			    uint16_t ede, size_t limit);

/**
 * Write a reply with @p rcode and no records into @p msg (which holds the
 * client's query): header with the client's ID, QR, RA, RD copied, the
 * question when @p q->question_end is non-zero (else QDCOUNT=0), an OPT
 * when the query had one (BADVERS uses the OPT's extended rcode; a
 * BADVERS reply always carries OPT).
 * @return the reply length, or -ENOSPC.
 */
int hd_dns_reply_rcode(uint8_t *msg, size_t cap, const struct hd_dns_query *q, int rcode);

/**
 * Call @p cb with every CNAME target (lowercase, uncompressed wire form) of
 * the answer section of DNS message @p msg (a reply: ours or an
 * upstream's), in order, until @p cb returns non-zero.
 * @return the non-zero value @p cb returned, 0 when it never did, or
 *   -EBADMSG when the message cannot be walked.
 */
int hd_dns_cname_foreach(const uint8_t *msg, size_t len,
			 int (*cb)(void *arg, const uint8_t *name, size_t name_len),
			 void *arg);

/**
 * Set the EDNS payload size written in every OPT heimdall sends (replies and
 * upstream queries); HD_DNS_EDNS_SIZE until set. Call once at start-up,
 * before any lcore writes replies. Values are clamped to [512, 65535].
 */
void hd_dns_edns_size_set(uint16_t size);

/** @return the EDNS payload size we advertise. */
uint16_t hd_dns_edns_size(void);

/**
 * Usable UDP reply size for query @p q: 512 without EDNS, else the client's
 * size bounded to [512, @p ours].
 */
static inline size_t
hd_dns_udp_limit(const struct hd_dns_query *q, size_t ours)
{
	size_t s;

	if (!q->has_edns)
		return HD_DNS_UDP_MIN;
	s = q->edns_size < ours ? q->edns_size : ours;
	return s < HD_DNS_UDP_MIN ? HD_DNS_UDP_MIN : s;
}

/**
 * Write a query for @p q into @p msg for sending upstream: ID @p id, RD set,
 * CD copied, the qname as the client sent it lowercased, an OPT with our
 * payload size and the DO bit of the client.
 * @return the message length or -ENOSPC.
 */
int hd_dns_query_write(uint8_t *msg, size_t cap, const struct hd_dns_query *q, uint16_t id);

/**
 * Check that @p reply answers the query we sent (ID @p id, question of @p q).
 * @return 0 when it does, -EPROTO when not, -EBADMSG when unreadable.
 */
int hd_dns_reply_matches(const uint8_t *reply, size_t len, const struct hd_dns_query *q,
			 uint16_t id);

/** @return 1 when the header of @p reply (len >= 12) has TC set. */
int hd_dns_reply_truncated(const uint8_t *reply, size_t len);


/** EDNS Extended DNS Error codes we send (RFC 8914). */
#define HD_DNS_EDE_NONE		0xffff
#define HD_DNS_EDE_BLOCKED	15
#define HD_DNS_EDE_STALE	3
#define HD_DNS_OPT_EDE		15	/**< EDNS option code of EDE */

/**
 * One record for hd_dns_reply_synth(). RDATA is written as given, so names
 * inside it must be uncompressed wire form.
 */
struct hd_dns_rr {
	const uint8_t *owner;	/**< wire form; NULL: the query name (written as a pointer to it) */
	uint16_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/** What hd_dns_reply_synth() writes besides the records. */
struct hd_dns_synth {
	int rcode;		/**< NOERROR, NXDOMAIN, REFUSED, ... */
	uint16_t flags;		/**< extra header bits: HD_DNS_AA for local zones */
	uint16_t ede;		/**< EDE info code, or HD_DNS_EDE_NONE */
	const char *ede_text;	/**< optional EXTRA-TEXT (NULL: none) */
	const struct hd_dns_rr *an;
	unsigned int n_an;
	const struct hd_dns_rr *ns;
	unsigned int n_ns;
};

/**
 * Write a synthesized reply (local records, blocked names) into @p msg,
 * which holds the client's query: header with the client's ID, QR, RA, RD
 * and CD copied, @p s->flags and rcode, the question as the client sent
 * it, the answer and authority records of @p s (owners compressed against
 * the question where they equal or end in it), and an OPT when the query
 * had one, carrying the EDE option when @p s->ede is set. When the result
 * would exceed @p limit the records are dropped and TC is set.
 * No allocation: the fast path calls it per packet.
 * @return the reply length, or -ENOSPC.
 */
int hd_dns_reply_synth(uint8_t *msg, size_t cap, const struct hd_dns_query *q,
		       const struct hd_dns_synth *s, size_t limit);

#endif /* HD_DNS_H */
