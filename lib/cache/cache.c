/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The shared answer cache.
 *
 * Readers (worker lcores) only ever call rte_hash_lookup_with_hash_data()
 * and read the immutable answer it returns: they write no shared memory,
 * so a hit costs one hash probe and never bounces a cache line between
 * workers. Recency is therefore not tracked per hit; the writer evicts by
 * the time an entry was stored (sampled, Redis style) and removes entries
 * that are past their stale limit first.
 *
 * Reclamation: a removed or replaced answer (and, for a removal, its
 * rte_hash key slot) goes into a FIFO tagged with an RCU QSBR token and is
 * freed once every reader has reported a quiescent state after it. We keep
 * our own FIFO instead of rte_hash_rcu_qsbr_add() because the hash's
 * internal queue cannot serve three things we need on DPDK 22.11: it never
 * sees the old pointer of a replaced key, it has no call to drain it on
 * demand (hd_cache_reclaim()), and at destruction it stops at the first
 * entry whose grace period it has not observed, losing the answers behind it.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_debug.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>

#include "cache_private.h"

RTE_LOG_REGISTER_DEFAULT(hd_cache_logtype, INFO);

#define CACHE_ENTRIES_MIN	64
/* Keeps the hash (entries plus headroom) under RTE_HASH_ENTRIES_MAX. */
#define CACHE_ENTRIES_MAX	(1u << 29)
/* rte_hash names its ring "HT_<name>" and the ring's memzone "RG_HT_<name>",
 * which must fit in RTE_MEMZONE_NAMESIZE. */
#define CACHE_NAME_MAX		(RTE_MEMZONE_NAMESIZE - 8)
/* Entries looked at for dead ones before a live entry is evicted. */
#define CACHE_DEAD_SCAN		32
/* Entries sampled to pick the oldest-stored victim. */
#define CACHE_SAMPLE		8
/* Inserts retried after the hash refused a key (both buckets full). */
#define CACHE_ADD_RETRIES	4
/* hd_cache_expire() visits at most this many entries per removal allowed,
 * and never fewer than CACHE_EXPIRE_VISITS_MIN, so one timer tick stays
 * short on a big table while a full lap still happens within seconds. */
#define CACHE_EXPIRE_VISITS_PER	64
#define CACHE_EXPIRE_VISITS_MIN	4096

/* An answer waiting for readers to let go of it. */
struct retired {
	uint64_t token;			/* QSBR token taken after unlinking */
	struct hd_dns_answer *a;
	int32_t pos;			/* key slot to free with it, or -1 (replaced) */
};

struct hd_cache {
	/* Read by every lookup; never written after creation. */
	struct rte_hash *h;
	uint32_t seed;

	/* The writer's. */
	struct rte_rcu_qsbr *qsv __rte_cache_aligned;
	uint32_t max_entries;
	uint32_t hash_entries;		/* key slots of the hash */
	uint64_t max_bytes;
	uint32_t cursor;		/* rte_hash_iterate() position, rotating */
	struct retired *dq;		/* FIFO of retired answers */
	uint32_t dq_cap;
	uint32_t dq_head;
	uint32_t dq_count;
	uint32_t dq_replaced;		/* entries in dq with pos == -1 */
	uint32_t dq_replaced_max;

	/* Written by the writer with relaxed atomic stores, read by anyone. */
	struct hd_cache_stats st __rte_cache_aligned;
};

#define STAT_ADD(c, field, n) \
	__atomic_store_n(&(c)->st.field, (c)->st.field + (n), __ATOMIC_RELAXED)
#define STAT_SUB(c, field, n) \
	__atomic_store_n(&(c)->st.field, (c)->st.field - (n), __ATOMIC_RELAXED)

/*
 * Hash only the bytes in use (type, class, flags, length, then the name
 * right after them): unused name bytes are zero, and a short name should
 * not pay for hashing 255 bytes.
 */
static inline uint32_t
key_hash(const void *data, uint32_t len __rte_unused, uint32_t init)
{
	const struct hd_cache_key *k = data;

	return hd_cache_crc(data, offsetof(struct hd_cache_key, name) + k->name_len, init);
}

/* Equal when type, class, flags, length and the used name bytes are. */
static int
key_cmp(const void *a, const void *b, size_t len __rte_unused)
{
	const struct hd_cache_key *x = a;
	const struct hd_cache_key *y = b;

	if (memcmp(x, y, offsetof(struct hd_cache_key, name)) != 0)
		return 1;
	return memcmp(x->name, y->name, x->name_len) != 0;
}

/* Copy @p k with its unused bytes zeroed, so a caller's stray bytes can
 * never create a second entry for the same question. */
static void
key_normalize(struct hd_cache_key *dst, const struct hd_cache_key *k)
{
	memcpy(dst, k, offsetof(struct hd_cache_key, name) + k->name_len);
	memset(dst->name + k->name_len, 0,
	       sizeof(*dst) - offsetof(struct hd_cache_key, name) - k->name_len);
}

void
hd_cache_key_from_query(struct hd_cache_key *k, const struct hd_dns_query *q)
{
	size_t len = RTE_MIN((size_t)q->qname_len, sizeof(k->name));

	k->qtype = q->qtype;
	k->qclass = q->qclass;
	k->flags = (q->do_bit ? HD_CACHE_KEY_DO : 0) |
		   ((q->flags & HD_DNS_CD) ? HD_CACHE_KEY_CD : 0);
	k->name_len = (uint8_t)len;
	memcpy(k->name, q->lname, len);
	memset(k->name + len, 0, sizeof(k->name) - len);
	memset(k->pad, 0, sizeof(k->pad));
}

static inline bool
entry_dead(const struct hd_dns_answer *a, uint32_t now)
{
	return now >= a->stale_until;
}

/* ---- retirement ---- */

static void
retired_release(struct hd_cache *c, struct retired *r)
{
	if (r->pos >= 0)
		rte_hash_free_key_with_position(c->h, r->pos);
	else
		c->dq_replaced--;
	free(r->a);
}

/* Free what no reader can hold any more. Tokens grow with the FIFO, so the
 * first one still in its grace period ends the walk. */
static void
retired_reclaim(struct hd_cache *c)
{
	struct retired *r;

	while (c->dq_count > 0) {
		r = &c->dq[c->dq_head];
		if (rte_rcu_qsbr_check(c->qsv, r->token, false) != 1)
			break;
		retired_release(c, r);
		c->dq_head = (c->dq_head + 1) % c->dq_cap;
		c->dq_count--;
	}
}

/*
 * Hand @p a (and key slot @p pos, -1 for none) over to be freed once the
 * readers are done with it. Must be called after it was unlinked.
 * A removal always has room: each pending one holds a distinct key slot and
 * the FIFO has one place per slot beyond the replacement quota.
 */
static void
retire(struct hd_cache *c, struct hd_dns_answer *a, int32_t pos)
{
	struct retired *r;

	if (c->qsv == NULL) {
		if (pos >= 0)
			rte_hash_free_key_with_position(c->h, pos);
		free(a);
		return;
	}
	RTE_VERIFY(c->dq_count < c->dq_cap);
	r = &c->dq[(c->dq_head + c->dq_count) % c->dq_cap];
	r->token = rte_rcu_qsbr_start(c->qsv);
	r->a = a;
	r->pos = pos;
	c->dq_count++;
	if (pos < 0)
		c->dq_replaced++;
}

/* Replacements pending are bounded separately: a reader that stops
 * reporting must not make them grow without limit. */
static bool
replace_has_room(struct hd_cache *c)
{
	if (c->qsv == NULL)
		return true;
	if (c->dq_replaced >= c->dq_replaced_max)
		retired_reclaim(c);
	return c->dq_replaced < c->dq_replaced_max;
}

/* ---- table access (writer) ---- */

/* Is a key slot free? Removed keys hold theirs until the readers move on;
 * while they all do, evicting more would only add to them. */
static bool
slot_available(const struct hd_cache *c)
{
	return rte_hash_count(c->h) < (int32_t)c->hash_entries;
}

static struct hd_dns_answer *
entry_find(struct hd_cache *c, const struct hd_cache_key *k, hash_sig_t sig)
{
	void *data;

	if (rte_hash_lookup_with_hash_data(c->h, k, sig, &data) < 0)
		return NULL;
	return data;
}

/* Unlink the entry of @p k, whose answer is @p a, and retire it. */
static void
entry_remove(struct hd_cache *c, const struct hd_cache_key *k, struct hd_dns_answer *a)
{
	size_t size = hd_dns_answer_size(a);
	int32_t pos;

	pos = rte_hash_del_key_with_hash(c->h, k, key_hash(k, sizeof(*k), c->seed));
	RTE_VERIFY(pos >= 0);
	STAT_SUB(c, entries, 1);
	STAT_SUB(c, bytes, size);
	retire(c, a, pos);
}

/* The next entry from the rotating cursor, wrapping once at the end. */
static int32_t
cursor_next(struct hd_cache *c, const struct hd_cache_key **k, struct hd_dns_answer **a)
{
	const void *key;
	void *data;
	int32_t pos;

	pos = rte_hash_iterate(c->h, &key, &data, &c->cursor);
	if (pos < 0) {
		c->cursor = 0;
		pos = rte_hash_iterate(c->h, &key, &data, &c->cursor);
		if (pos < 0)
			return pos;
	}
	*k = key;
	*a = data;
	return pos;
}

/* Visit up to @p visits entries from the cursor and remove up to @p budget
 * of those past their stale limit. @return entries removed. */
static unsigned int
sweep_dead(struct hd_cache *c, uint32_t now, unsigned int visits, unsigned int budget)
{
	const struct hd_cache_key *k;
	struct hd_dns_answer *a;
	unsigned int removed = 0;

	/* More visits than entries would only go round again. */
	visits = RTE_MIN(visits, c->st.entries);
	while (visits-- > 0 && removed < budget) {
		if (cursor_next(c, &k, &a) < 0)
			break;
		if (entry_dead(a, now)) {
			entry_remove(c, k, a);
			removed++;
		}
	}
	STAT_ADD(c, expired, removed);
	return removed;
}

/* Is @p a a better victim than @p b? Expired first, then the oldest. */
static bool
victim_before(const struct hd_dns_answer *a, const struct hd_dns_answer *b, uint32_t now)
{
	bool a_exp = now >= a->expires;
	bool b_exp = now >= b->expires;

	if (a_exp != b_exp)
		return a_exp;
	return a->stored < b->stored;
}

/* Evict the best victim among a sample from the cursor. @return 1 or 0. */
static unsigned int
evict_sampled(struct hd_cache *c, uint32_t now)
{
	const struct hd_cache_key *k, *vk = NULL;
	struct hd_dns_answer *a, *va = NULL;
	int32_t seen[CACHE_SAMPLE];
	unsigned int n = 0, tries, i;
	int32_t pos;

	for (tries = 0; tries < 2 * CACHE_SAMPLE && n < CACHE_SAMPLE; tries++) {
		pos = cursor_next(c, &k, &a);
		if (pos < 0)
			break;
		for (i = 0; i < n && seen[i] != pos; i++)
			;
		if (i < n)
			continue;	/* wrapped around a small table */
		seen[n++] = pos;
		if (va == NULL || victim_before(a, va, now)) {
			vk = k;
			va = a;
		}
	}
	if (va == NULL)
		return 0;
	entry_remove(c, vk, va);
	STAT_ADD(c, evictions, 1);
	return 1;
}

/* Remove at least one entry: dead ones if found nearby, else a sampled
 * victim. @return entries removed (0: the table is empty). */
static unsigned int
evict_some(struct hd_cache *c, uint32_t now)
{
	unsigned int n;

	n = sweep_dead(c, now, CACHE_DEAD_SCAN, UINT32_MAX);
	if (n > 0)
		return n;
	return evict_sampled(c, now);
}

/* Make the entry and byte bounds hold once @p k maps to an answer of
 * @p size bytes. The entry being replaced may go too; the caller looks it
 * up again afterwards. */
static int
make_room(struct hd_cache *c, const struct hd_cache_key *k, hash_sig_t sig,
	  size_t size, uint32_t now)
{
	const struct hd_dns_answer *old;
	uint64_t bytes;
	bool full;

	for (;;) {
		old = entry_find(c, k, sig);
		full = old == NULL && c->st.entries >= c->max_entries;
		bytes = c->st.bytes + size - (old != NULL ? hd_dns_answer_size(old) : 0);
		if (!full && (c->max_bytes == 0 || bytes <= c->max_bytes))
			return 0;
		if (evict_some(c, now) == 0)
			return -ENOSPC;
	}
}

/* Add or update a key. The hash can refuse a new key below its size when
 * both of its buckets and their cuckoo paths are taken: make room and try
 * again a few times. When it is out of key slots instead, only readers
 * moving on can help. */
static int
table_add(struct hd_cache *c, const struct hd_cache_key *k, hash_sig_t sig,
	  struct hd_dns_answer *a, uint32_t now)
{
	unsigned int tries;
	int ret;

	for (tries = 0;; tries++) {
		ret = rte_hash_add_key_with_hash_data(c->h, k, sig, a);
		if (ret != -ENOSPC || tries == CACHE_ADD_RETRIES)
			return ret;
		if (c->qsv != NULL)
			retired_reclaim(c);
		if (!slot_available(c))
			return ret;
		if (evict_some(c, now) == 0)
			return ret;
	}
}

/* ---- public API ---- */

struct hd_cache *
hd_cache_create(const struct hd_cache_params *p)
{
	struct rte_hash_parameters hp = { 0 };
	struct hd_cache *c = NULL;
	uint32_t hash_entries;
	int err;

	if (p == NULL || p->name == NULL || p->name[0] == '\0' ||
	    strnlen(p->name, CACHE_NAME_MAX + 1) > CACHE_NAME_MAX ||
	    p->max_entries < CACHE_ENTRIES_MIN || p->max_entries > CACHE_ENTRIES_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}

	c = rte_zmalloc_socket("hd_cache", sizeof(*c), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (c == NULL) {
		err = ENOMEM;
		goto fail;
	}
	/* Headroom over max_entries: removed keys keep their slot until the
	 * readers move on, and a lighter load keeps cuckoo inserts from
	 * failing. */
	hash_entries = p->max_entries + RTE_MAX(p->max_entries / 8, (uint32_t)CACHE_ENTRIES_MIN);
	c->seed = (uint32_t)rte_rand();
	c->qsv = p->qsv;
	c->max_entries = p->max_entries;
	c->hash_entries = hash_entries;
	c->max_bytes = p->max_bytes;
	c->st.capacity = p->max_entries;

	hp.name = p->name;
	hp.entries = hash_entries;
	hp.key_len = sizeof(struct hd_cache_key);
	hp.hash_func = key_hash;
	hp.hash_func_init_val = c->seed;
	hp.socket_id = p->socket_id;
	/* No RTE_HASH_EXTRA_FLAGS_EXT_TABLE, on purpose: CRC is not a keyed
	 * hash, so clients can pick names that collide whatever the seed.
	 * Without chained buckets such names fill two buckets and are then
	 * refused, and every lookup stays two buckets deep. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
	rte_errno = 0;
	c->h = rte_hash_create(&hp);
	if (c->h == NULL) {
		err = rte_errno != 0 ? rte_errno : ENOMEM;
		CACHE_LOG(ERR, "cannot create hash table %s for %u entries: %s",
			  p->name, hash_entries, rte_strerror(err));
		goto fail;
	}
	rte_hash_set_cmp_func(c->h, key_cmp);

	if (c->qsv != NULL) {
		c->dq_replaced_max = hash_entries / 8 + CACHE_ENTRIES_MIN;
		c->dq_cap = hash_entries + 1 + c->dq_replaced_max;
		c->dq = rte_malloc_socket("hd_cache_dq", sizeof(*c->dq) * c->dq_cap, 0,
					  p->socket_id);
		if (c->dq == NULL) {
			err = ENOMEM;
			CACHE_LOG(ERR, "cannot allocate the reclaim queue of %s", p->name);
			goto fail;
		}
	}
	return c;

fail:
	if (c != NULL)
		rte_hash_free(c->h);
	rte_free(c);
	rte_errno = err;
	return NULL;
}

void
hd_cache_free(struct hd_cache *c)
{
	const void *key;
	void *data;
	uint32_t next = 0;

	if (c == NULL)
		return;
	while (rte_hash_iterate(c->h, &key, &data, &next) >= 0)
		free(data);
	/* No reader is active any more: pending answers go without waiting. */
	while (c->dq_count > 0) {
		free(c->dq[c->dq_head].a);
		c->dq_head = (c->dq_head + 1) % c->dq_cap;
		c->dq_count--;
	}
	rte_hash_free(c->h);
	rte_free(c->dq);
	rte_free(c);
}

const struct hd_dns_answer *
hd_cache_lookup(struct hd_cache *c, const struct hd_cache_key *k, uint32_t now, int *stale)
{
	const struct hd_dns_answer *a;
	void *data;

	if (stale != NULL)
		*stale = 0;
	if (rte_hash_lookup_with_hash_data(c->h, k, key_hash(k, sizeof(*k), c->seed),
					   &data) < 0)
		return NULL;
	a = data;
	if (likely(now < a->expires))
		return a;
	if (stale == NULL || now >= a->stale_until)
		return NULL;
	*stale = 1;
	return a;
}

int
hd_cache_insert(struct hd_cache *c, const struct hd_cache_key *k,
		struct hd_dns_answer *a, uint32_t now)
{
	struct hd_cache_key key;
	struct hd_dns_answer *old;
	hash_sig_t sig;
	size_t size;
	int ret;

	/* An answer built for another question length would carry
	 * compression pointers that miss the copied question. */
	if (c == NULL || k == NULL || a == NULL || k->name_len == 0 ||
	    a->qname_len != k->name_len || a->stale_until < a->expires ||
	    entry_dead(a, now)) {
		ret = -EINVAL;
		goto fail;
	}
	size = hd_dns_answer_size(a);
	if (c->max_bytes != 0 && size > c->max_bytes) {
		ret = -ENOSPC;
		goto fail;
	}
	key_normalize(&key, k);
	sig = key_hash(&key, sizeof(key), c->seed);
	if (c->qsv != NULL)
		retired_reclaim(c);

	/* Refuse before evicting anything: with the readers stalled, every
	 * eviction would hold one more slot and the cache would drain. */
	old = entry_find(c, &key, sig);
	if (old == NULL ? !slot_available(c) : !replace_has_room(c)) {
		ret = -ENOSPC;
		goto fail;
	}
	ret = make_room(c, &key, sig, size, now);
	if (ret < 0)
		goto fail;
	old = entry_find(c, &key, sig);
	ret = table_add(c, &key, sig, a, now);
	if (ret < 0)
		goto fail;

	STAT_ADD(c, inserts, 1);
	STAT_ADD(c, bytes, size);
	if (old != NULL) {
		STAT_SUB(c, bytes, hd_dns_answer_size(old));
		STAT_ADD(c, replaced, 1);
		retire(c, old, -1);
	} else {
		STAT_ADD(c, entries, 1);
	}
	return 0;

fail:
	free(a);
	return ret;
}

int
hd_cache_delete(struct hd_cache *c, const struct hd_cache_key *k)
{
	struct hd_cache_key key;
	struct hd_dns_answer *a;

	key_normalize(&key, k);
	a = entry_find(c, &key, key_hash(&key, sizeof(key), c->seed));
	if (a == NULL)
		return -ENOENT;
	entry_remove(c, &key, a);
	return 0;
}

void
hd_cache_flush(struct hd_cache *c)
{
	const void *key;
	void *data;
	uint32_t next = 0;

	/* Removing from the main table moves no other key, so one pass
	 * sees every entry. */
	while (rte_hash_iterate(c->h, &key, &data, &next) >= 0)
		entry_remove(c, key, data);
}

unsigned int
hd_cache_delete_name(struct hd_cache *c, const uint8_t *name, uint8_t name_len)
{
	const struct hd_cache_key *k;
	const void *key;
	void *data;
	uint32_t next = 0;
	unsigned int n = 0;

	/* As in hd_cache_flush(): removing moves no other key. */
	while (rte_hash_iterate(c->h, &key, &data, &next) >= 0) {
		k = key;
		if (k->name_len != name_len || memcmp(k->name, name, name_len) != 0)
			continue;
		entry_remove(c, k, data);
		n++;
	}
	return n;
}

unsigned int
hd_cache_expire(struct hd_cache *c, uint32_t now, unsigned int budget)
{
	uint64_t visits;

	if (c->qsv != NULL)
		retired_reclaim(c);
	visits = RTE_MAX((uint64_t)budget * CACHE_EXPIRE_VISITS_PER,
			 (uint64_t)CACHE_EXPIRE_VISITS_MIN);
	visits = RTE_MIN(visits, (uint64_t)UINT32_MAX);
	return sweep_dead(c, now, (unsigned int)visits, budget);
}

void
hd_cache_reclaim(struct hd_cache *c)
{
	if (c->qsv != NULL)
		retired_reclaim(c);
}

void
hd_cache_stats_get(const struct hd_cache *c, struct hd_cache_stats *s)
{
	s->entries = __atomic_load_n(&c->st.entries, __ATOMIC_RELAXED);
	s->bytes = __atomic_load_n(&c->st.bytes, __ATOMIC_RELAXED);
	s->inserts = __atomic_load_n(&c->st.inserts, __ATOMIC_RELAXED);
	s->replaced = __atomic_load_n(&c->st.replaced, __ATOMIC_RELAXED);
	s->evictions = __atomic_load_n(&c->st.evictions, __ATOMIC_RELAXED);
	s->expired = __atomic_load_n(&c->st.expired, __ATOMIC_RELAXED);
	s->capacity = c->st.capacity;
}

int32_t
hd_cache_iterate_(const struct hd_cache *c, const struct hd_cache_key **k,
		  const struct hd_dns_answer **a, uint32_t *next)
{
	const void *key;
	void *data;
	int32_t pos;

	pos = rte_hash_iterate(c->h, &key, &data, next);
	if (pos >= 0) {
		*k = key;
		*a = data;
	}
	return pos;
}

uint32_t
hd_cache_max_entries_(const struct hd_cache *c)
{
	return c->max_entries;
}

uint64_t
hd_cache_max_bytes_(const struct hd_cache *c)
{
	return c->max_bytes;
}
