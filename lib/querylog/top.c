/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Top-N by the space-saving algorithm (Metwally, Agrawal, El Abbadi 2005):
 * a fixed number of counters; a new key takes over the smallest counter and
 * inherits its count as its error. Memory stays fixed whatever the traffic,
 * nothing is ever reset, and any key seen more than total/slots times is
 * guaranteed to hold a counter.
 *
 * The smallest counter is the root of a min-heap; keys are found through an
 * open-addressing table (linear probing, backward-shift deletion).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "hd_querylog.h"

#define EMPTY UINT32_MAX

struct entry {
	struct hd_querylog_top_entry e;
	uint32_t heap_pos;
	uint32_t hash;
};

struct hd_querylog_top {
	uint32_t slots;
	uint32_t n;			/* entries in use */
	uint32_t tmask;			/* table size - 1 */
	uint64_t total;
	struct entry *ent;
	uint32_t *heap;			/* entry indices, min count at 0 */
	uint32_t *table;		/* entry indices or EMPTY */
};

static uint32_t
key_hash(const uint8_t *k, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ k[i]) * 16777619u;
	return h ^ (h >> 15);
}

struct hd_querylog_top *
hd_querylog_top_create(unsigned int slots)
{
	struct hd_querylog_top *t;
	uint32_t tsize;

	if (slots == 0 || slots > (1u << 24)) {
		rte_errno = EINVAL;
		return NULL;
	}
	tsize = rte_align32pow2(slots * 2);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto nomem;
	t->slots = slots;
	t->tmask = tsize - 1;
	t->ent = calloc(slots, sizeof(*t->ent));
	t->heap = calloc(slots, sizeof(*t->heap));
	t->table = malloc(sizeof(*t->table) * tsize);
	if (t->ent == NULL || t->heap == NULL || t->table == NULL)
		goto nomem;
	memset(t->table, 0xff, sizeof(*t->table) * tsize);
	return t;
nomem:
	hd_querylog_top_free(t);
	rte_errno = ENOMEM;
	return NULL;
}

void
hd_querylog_top_free(struct hd_querylog_top *t)
{
	if (t == NULL)
		return;
	free(t->ent);
	free(t->heap);
	free(t->table);
	free(t);
}

static uint32_t
table_find(const struct hd_querylog_top *t, const uint8_t *key, size_t len, uint32_t h)
{
	uint32_t i = h & t->tmask, idx;

	while ((idx = t->table[i]) != EMPTY) {
		const struct entry *e = &t->ent[idx];

		if (e->hash == h && e->e.len == len && memcmp(e->e.key, key, len) == 0)
			return idx;
		i = (i + 1) & t->tmask;
	}
	return EMPTY;
}

static void
table_insert(struct hd_querylog_top *t, uint32_t idx)
{
	uint32_t i = t->ent[idx].hash & t->tmask;

	while (t->table[i] != EMPTY)
		i = (i + 1) & t->tmask;
	t->table[i] = idx;
}

/* Remove entry @p idx; later entries of its probe run move back into the gap. */
static void
table_delete(struct hd_querylog_top *t, uint32_t idx)
{
	uint32_t i = t->ent[idx].hash & t->tmask, j, home;

	while (t->table[i] != idx)
		i = (i + 1) & t->tmask;
	j = i;
	for (;;) {
		j = (j + 1) & t->tmask;
		if (t->table[j] == EMPTY)
			break;
		home = t->ent[t->table[j]].hash & t->tmask;
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if (((j - home) & t->tmask) >= ((j - i) & t->tmask)) {
			t->table[i] = t->table[j];
			i = j;
		}
	}
	t->table[i] = EMPTY;
}

static void
heap_swap(struct hd_querylog_top *t, uint32_t a, uint32_t b)
{
	uint32_t x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->ent[t->heap[a]].heap_pos = a;
	t->ent[t->heap[b]].heap_pos = b;
}

static inline uint64_t
heap_count(const struct hd_querylog_top *t, uint32_t pos)
{
	return t->ent[t->heap[pos]].e.count;
}

static void
sift_down(struct hd_querylog_top *t, uint32_t pos)
{
	uint32_t l, r, m;

	for (;;) {
		l = 2 * pos + 1;
		r = l + 1;
		m = pos;
		if (l < t->n && heap_count(t, l) < heap_count(t, m))
			m = l;
		if (r < t->n && heap_count(t, r) < heap_count(t, m))
			m = r;
		if (m == pos)
			return;
		heap_swap(t, pos, m);
		pos = m;
	}
}

static void
sift_up(struct hd_querylog_top *t, uint32_t pos)
{
	while (pos > 0 && heap_count(t, (pos - 1) / 2) > heap_count(t, pos)) {
		heap_swap(t, pos, (pos - 1) / 2);
		pos = (pos - 1) / 2;
	}
}

static void
key_set(struct entry *e, const uint8_t *key, size_t len, uint32_t h)
{
	memcpy(e->e.key, key, len);
	e->e.len = (uint8_t)len;
	e->hash = h;
}

void
hd_querylog_top_add(struct hd_querylog_top *t, const uint8_t *key, size_t len)
{
	uint32_t h, idx;
	struct entry *e;

	if (len > HD_QUERYLOG_KEY_MAX)
		len = HD_QUERYLOG_KEY_MAX;
	h = key_hash(key, len);
	t->total++;
	idx = table_find(t, key, len, h);
	if (idx != EMPTY) {
		t->ent[idx].e.count++;
		sift_down(t, t->ent[idx].heap_pos);
		return;
	}
	if (t->n < t->slots) {
		idx = t->n++;
		e = &t->ent[idx];
		key_set(e, key, len, h);
		e->e.count = 1;
		e->e.error = 0;
		e->heap_pos = idx;
		t->heap[idx] = idx;
		table_insert(t, idx);
		sift_up(t, idx);
		return;
	}
	/* Full: the smallest counter changes hands. */
	idx = t->heap[0];
	e = &t->ent[idx];
	table_delete(t, idx);
	e->e.error = e->e.count;
	e->e.count++;
	key_set(e, key, len, h);
	table_insert(t, idx);
	sift_down(t, 0);
}

static int
by_count_desc(const void *a, const void *b)
{
	const struct hd_querylog_top_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	/* Equal counts: the smaller error is the surer one. */
	if (x->error != y->error)
		return x->error < y->error ? -1 : 1;
	return 0;
}

unsigned int
hd_querylog_top_get(const struct hd_querylog_top *t, struct hd_querylog_top_entry *out,
		    unsigned int n)
{
	struct hd_querylog_top_entry *all;
	uint32_t i;

	if (n == 0 || t->n == 0)
		return 0;
	all = malloc(sizeof(*all) * t->n);
	if (all == NULL)
		return 0;
	for (i = 0; i < t->n; i++)
		all[i] = t->ent[i].e;
	qsort(all, t->n, sizeof(*all), by_count_desc);
	n = RTE_MIN(n, t->n);
	memcpy(out, all, sizeof(*all) * n);
	free(all);
	return n;
}

uint64_t
hd_querylog_top_total(const struct hd_querylog_top *t)
{
	return t->total;
}
