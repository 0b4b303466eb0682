/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_FILTER_PRIVATE_H
#define HD_FILTER_PRIVATE_H

/*
 * Internals shared by parse.c, filter.c and group.c. Never installed.
 *
 * The compiled name table: one open-addressing table (linear probing) of
 * 8-byte slots keyed by a lowercase wire-form name without its root label.
 * A slot packs the name's arena offset + 1 (0 = empty), a 24-bit id of its
 * rule masks and an 8-bit tag taken from the hash, so most mismatching
 * probes stop at the tag without touching the name bytes. The name bytes
 * are always compared before a slot counts as a hit: no false positives.
 *
 * The hash of a name is built label by label from the right, so the fast
 * path gets the hash of every suffix of a query name in one pass.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hd_filter.h"

#define SLOT_OFF(s)	((uint32_t)(s))
#define SLOT_COMBO(s)	((uint32_t)((s) >> 32) & 0xffffffu)
#define SLOT_TAG(s)	((uint8_t)((s) >> 56))
#define SLOT_MAKE(off1, combo, tag) \
	((uint64_t)(off1) | ((uint64_t)(combo) << 32) | ((uint64_t)(tag) << 56))
#define COMBO_MAX	0xffffffu

#define HASH_SEED	0x9e3779b9u
#define HASH_K		0xff51afd7ed558ccdull

/*
 * One step of the running hash. CRC32C where the CPU has it (SSE4.2 is in
 * the build's corei7 baseline; ARMv8 CRC): a 3-cycle step, where a
 * multiply-mix step costs twice that, and the chain is serial per label.
 * Only equality of hashes matters (names are compared byte by byte on a
 * match), so quality needs are those of any hash table: DPDK's rte_hash
 * uses the same CRC.
 */
#if defined(__SSE4_2__)
#include <nmmintrin.h>
static inline uint64_t
hash_step(uint64_t h, uint64_t w)
{
	return _mm_crc32_u64(h, w);
}
#elif defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
static inline uint64_t
hash_step(uint64_t h, uint64_t w)
{
	return __crc32cd((uint32_t)h, w);
}
#else
static inline uint64_t
hash_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * HASH_K;
	return h ^ (h >> 29);
}
#endif

/*
 * Fold one label (its length byte and bytes) into the running state.
 * @p avail is how many bytes may be read from @p lab: when 8 are there the
 * last partial word is one load and a mask, else it is put together byte by
 * byte (a byte-wise memcpy to the stack would stall on store forwarding).
 * Both ways give the same value, so the builder and the fast path agree.
 */
static inline uint64_t
hash_label(uint64_t h, const uint8_t *lab, size_t avail)
{
	unsigned int n = 1u + lab[0], k;
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, lab, 8);
		h = hash_step(h, w);
		lab += 8;
		avail -= 8;
		n -= 8;
	}
	if (n == 0)
		return h;
	if (avail >= 8) {
		memcpy(&w, lab, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		w &= (1ull << (8 * n)) - 1;
	} else {
		w = 0;
		for (k = 0; k < n; k++)
			w |= (uint64_t)lab[k] << (8 * k);
	}
	return hash_step(h, w);
}

/* The slot hash of a suffix from its running state: slot index from the high half, tag below. */
static inline uint64_t
hash_final(uint64_t h)
{
	return (h ^ (h >> 32)) * 0x9e3779b97f4a7c15ull;
}

#define HASH_IDX(h, mask)	((uint32_t)((h) >> 32) & (mask))
#define HASH_TAG(h)		((uint8_t)((h) >> 24))

/*
 * A one-word-per-probe Bloom filter in front of the table, 4 bits per slot
 * (about 8 per name): most suffixes of a name are in no list, and this
 * answers them from a bit array that stays in the CPU caches (1 MB for a
 * million names) instead of a slot in a table that does not (16 MB).
 * Two bits per name in one 64-bit word: about 5 % false positives, which
 * then cost the table probe they would have cost anyway.
 */
#define BLOOM_IDX(h, mask)	((uint32_t)((h) >> 32) & (mask))
#define BLOOM_BITS(h)		((1ull << ((h) & 63)) | (1ull << (((h) >> 6) & 63)))

/* Rule masks of one name: bit i = list i. Interned: many names share one. */
struct filter_masks {
	uint64_t block_exact;
	uint64_t block_subtree;
	uint64_t allow_exact;
	uint64_t allow_subtree;
};

/* Hash of a whole wire name (no root label), as the fast path computes it. */
static inline uint64_t
hash_wire(const uint8_t *w, size_t len)
{
	const uint8_t *offs[128];
	unsigned int n = 0;
	size_t p = 0;
	uint64_t h = HASH_SEED;

	while (p < len && n < 128) {
		offs[n++] = w + p;
		p += 1u + w[p];
	}
	while (n > 0) {
		n--;
		h = hash_label(h, offs[n], len - (size_t)(offs[n] - w));
	}
	return hash_final(h);
}

/* ---- parse.c ---------------------------------------------------------- */

/*
 * Lowercase and check a presentation name (one trailing dot allowed).
 * @return its length in @p out (NUL-terminated, >= 1), or -EINVAL with
 *   @p why. With @p star, '*' is accepted as a character (patterns).
 */
int filter_name_norm(const char *s, size_t n, char *out, int star, const char **why);

/* @return 1 for names that hosts files map to themselves (localhost, ...). */
int filter_name_is_local(const char *name);

/* Presentation name (checked) to wire form without the root label. @return length. */
size_t filter_name_to_wire(const char *name, uint8_t *out);

/* ---- group.c ---------------------------------------------------------- */

struct filter_groups;

struct filter_groups *filter_groups_create(void);
void filter_groups_free(struct filter_groups *g);
int filter_groups_add(struct filter_groups *g, const char *name,
		      const char *const *subnets, unsigned int n_subnets, uint64_t lists,
		      char *err, size_t errlen);
/* Sort for lookups; after it no more adds. @return 0 or -ENOMEM. */
int filter_groups_finish(struct filter_groups *g);
/* @return 1 and *lists when a subnet holds the address, else 0. */
int filter_groups_lookup(const struct filter_groups *g, const uint8_t *addr, int ipv6,
			 uint64_t *lists);
size_t filter_groups_memory(const struct filter_groups *g);

#endif /* HD_FILTER_PRIVATE_H */
