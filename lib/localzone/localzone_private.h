/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_LOCALZONE_PRIVATE_H
#define HD_LOCALZONE_PRIVATE_H

/*
 * Shared by the files of lib/localzone (never installed): the builder
 * (parse.c fills it, build.c compiles it) and the compiled, immutable
 * structure localzone.c answers from.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hd_dns.h"

#define LZ_NONE		UINT32_MAX
#define LZ_DEFAULT_TTL	300
/* CNAME hops followed inside the local data per query. */
#define LZ_CHAIN_MAX	8
/*
 * Records one name may hold. With LZ_CHAIN_MAX CNAMEs before it, the worst
 * answer fits LZ_ANSWER_MAX, the array the fast path keeps on its stack.
 */
#define LZ_NAME_RR_MAX	48
#define LZ_ANSWER_MAX	(LZ_NAME_RR_MAX + LZ_CHAIN_MAX)
#define LZ_LABELS_MAX	128
/*
 * Distinct last labels ("arpa", "test") checked before any hashing: most
 * queries are not local and leave after one short compare. More than this
 * many turns the filter off.
 */
#define LZ_TLD_MAX	8

/* ---- builder -------------------------------------------------------- */

/* One record as read, owner lowercased, RDATA in wire form. */
struct lz_brec {
	uint8_t *owner;		/* owner_len bytes, then rdlen bytes of RDATA (one allocation) */
	uint8_t *rdata;
	uint16_t owner_len;
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	uint32_t src;		/* index into the builder's source names */
	uint32_t line;		/* 0: the source name says where */
	uint32_t seq;		/* order of arrival */
};

struct lz_bzone {
	uint8_t name[HD_DNS_NAME_MAX];
	uint16_t len;
	uint32_t src;
};

struct hd_localzone_builder {
	struct lz_brec *rec;
	size_t n_rec, cap_rec;
	struct lz_bzone *zones;
	size_t n_zones, cap_zones;
	char **srcs;		/* "path" or "--record": where records came from */
	size_t n_srcs, cap_srcs;
	uint32_t seq;
	int auto_ptr;
};

/* Add a record (copied). @return 0 or -ENOMEM. */
int lz_builder_push(struct hd_localzone_builder *b, const uint8_t *owner, size_t owner_len,
		    uint16_t type, uint32_t ttl, const uint8_t *rdata, size_t rdlen,
		    uint32_t src, uint32_t line);

/* Remember a source name. @return its index or LZ_NONE (ENOMEM). */
uint32_t lz_builder_src(struct hd_localzone_builder *b, const char *name);

/* Add a zone apex (lowercase wire form). @return 0 or -ENOMEM. */
int lz_builder_zone(struct hd_localzone_builder *b, const uint8_t *name, size_t len,
		    uint32_t src);

/* "file:line" or "where" of record @p r into @p out. */
void lz_where(const struct hd_localzone_builder *b, const struct lz_brec *r, char *out,
	      size_t cap);

/* ---- compiled data ---------------------------------------------------- */

/* RDATA of one record, in the blob. */
struct lz_rr {
	uint32_t off;
	uint16_t len;
};

struct lz_rrset {
	uint16_t type;
	uint16_t n;
	uint32_t ttl;
	uint32_t first;		/* index of the first lz_rr */
};

/*
 * A name: an owner of records, or a name that exists only as an ancestor
 * of deeper names in a zone (empty non-terminal), a zone apex, or the
 * parent of a wildcard.
 */
struct lz_node {
	uint32_t name_off;	/* lowercase wire form in the blob */
	uint16_t name_len;
	uint16_t n_sets;
	uint32_t first_set;
	uint32_t zone;		/* index into zones, or LZ_NONE outside every zone */
	uint32_t wild;		/* node of "*.<this name>", or LZ_NONE */
};

struct lz_zone {
	uint32_t node;		/* the apex */
	uint32_t soa_set;	/* the apex's SOA rrset */
	uint32_t neg_ttl;	/* min(SOA TTL, SOA MINIMUM): RFC 2308 */
};

struct lz_slot {
	uint32_t hash;
	uint32_t node;		/* LZ_NONE: empty */
};

struct hd_localzone {
	struct lz_slot *slots;
	uint32_t mask;
	uint8_t min_labels, max_labels;
	uint8_t n_tlds;		/* 0: no filter (too many, or the root holds data) */
	uint8_t tld[LZ_TLD_MAX][1 + HD_DNS_LABEL_MAX]; /* length byte + lowercase label */
	struct lz_node *nodes;
	uint32_t n_nodes;
	struct lz_rrset *sets;
	uint32_t n_sets;
	struct lz_rr *rrs;
	uint32_t n_rrs;
	struct lz_zone *zones;
	uint32_t n_zones;
	uint8_t *blob;
	size_t blob_len;
};

/*
 * Name hashing, computed from the last label towards the first so that
 * one pass over a query name yields the hash of every suffix: the zone
 * search then costs one table probe per label and no rehashing.
 */
#define LZ_HASH_SEED	0xcbf29ce484222325ull
#define LZ_HASH_PRIME	0x100000001b3ull

/* A lowercase wire-form name split into labels, with the hash of each suffix. */
struct lz_name {
	const uint8_t *name;
	size_t len;
	int nl;				/* labels */
	uint8_t off[LZ_LABELS_MAX];	/* offset of each label */
	uint32_t h[LZ_LABELS_MAX + 1];	/* hash of the suffix at each label, then the root */
};

/*
 * Offsets of the labels of a valid wire name (root excluded).
 * @return the label count, or -1 when malformed.
 */
static inline int
lz_labels(const uint8_t *name, size_t len, uint8_t *off)
{
	size_t p = 0;
	int n = 0;

	while (p < len && name[p] != 0) {
		if (name[p] > HD_DNS_LABEL_MAX || n == LZ_LABELS_MAX - 1)
			return -1;
		off[n++] = (uint8_t)p;
		p += 1 + (size_t)name[p];
	}
	return (p + 1 == len && len <= HD_DNS_NAME_MAX) ? n : -1;
}

/*
 * h[i]: hash of the suffix starting at label i; h[n] is the root's.
 * Each label (its length byte included) is folded in 8-byte words: one
 * multiply per word keeps this short next to the probes it serves.
 */
static inline void
lz_suffix_hashes(const uint8_t *name, const uint8_t *off, int n, uint32_t *h)
{
	uint64_t x = LZ_HASH_SEED;
	int i;

	h[n] = (uint32_t)(x ^ (x >> 32));
	for (i = n - 1; i >= 0; i--) {
		const uint8_t *l = name + off[i];
		unsigned int len = 1u + l[0], j = 0;

		while (j < len) {
			uint64_t v = 0;
			unsigned int k;

			for (k = 0; k < 8 && j < len; k++, j++)
				v = v << 8 | l[j];
			x = (x ^ v) * LZ_HASH_PRIME;
			x ^= x >> 29;
		}
		h[i] = (uint32_t)(x ^ (x >> 32));
	}
}

/* @return the node named @p name (lowercase), or LZ_NONE. */
static inline uint32_t
lz_find(const struct hd_localzone *lz, const uint8_t *name, size_t len, uint32_t hash)
{
	uint32_t i = hash & lz->mask;

	for (;; i = (i + 1) & lz->mask) {
		const struct lz_slot *s = &lz->slots[i];
		const struct lz_node *n;

		if (s->node == LZ_NONE)
			return LZ_NONE;
		if (s->hash != hash)
			continue;
		n = &lz->nodes[s->node];
		if (n->name_len == len && memcmp(lz->blob + n->name_off, name, len) == 0)
			return s->node;
	}
}

#endif /* HD_LOCALZONE_PRIVATE_H */
