/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * CUnit suite for lib/cache/cache.c.
 *
 * Answers are built by hand. The executable is linked with
 * -Wl,--wrap=free so every free() made by the cache is counted: the tests
 * check that replaced, evicted and deleted answers are freed exactly when
 * the readers are done with them, and that nothing leaks.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "hd_cache.h"

/* ---- counting free() ---- */

void __real_free(void *p);
void __wrap_free(void *p);

static uint64_t n_alloc;	/* answers the tests allocated */
static uint64_t n_free;		/* free() calls made by the cache (and us) */
static const void *watched;	/* a pointer whose release a test awaits */
static int watched_freed;

void
__wrap_free(void *p)
{
	if (p != NULL) {
		__atomic_fetch_add(&n_free, 1, __ATOMIC_RELAXED);
		if (p == watched)
			watched_freed = 1;
	}
	__real_free(p);
}

static void
watch(const void *p)
{
	watched = p;
	watched_freed = 0;
}

static uint64_t
answers_live(void)
{
	return n_alloc - __atomic_load_n(&n_free, __ATOMIC_RELAXED);
}

/* ---- helpers ---- */

#define FAR	1000000u	/* an expiry no test reaches */

/* An answer of @p len data bytes all equal to @p fill, with two TTL
 * offsets, for a question of @p qname_len bytes. */
static struct hd_dns_answer *
answer_new(uint8_t qname_len, uint16_t len, uint8_t fill,
	   uint32_t stored, uint32_t expires, uint32_t stale_until)
{
	struct hd_dns_answer *a;
	uint16_t *offs;

	a = malloc(sizeof(*a) + 2 * sizeof(uint16_t) + len);
	if (a == NULL)
		abort();
	n_alloc++;
	memset(a, 0, sizeof(*a));
	a->stored = stored;
	a->expires = expires;
	a->stale_until = stale_until;
	a->ancount = 1;
	a->n_ttl = 2;
	a->len = len;
	a->qname_len = qname_len;
	a->ttl = expires - stored;
	offs = (uint16_t *)(void *)(a + 1);
	offs[0] = fill;
	offs[1] = fill;
	memset((uint8_t *)(offs + 2), fill, len);
	return a;
}

/* Wire form of "<label>.test." into @p out; @return its length. */
static uint8_t
wire_name(uint8_t *out, const char *label)
{
	size_t n = strlen(label);

	out[0] = (uint8_t)n;
	memcpy(out + 1, label, n);
	memcpy(out + 1 + n, "\4test", 6);	/* with the root label */
	return (uint8_t)(n + 7);
}

static void
query_make(struct hd_dns_query *q, const char *label, uint16_t qtype)
{
	memset(q, 0, sizeof(*q));
	/* Bytes past the name must not reach the key. */
	memset(q->lname, 0x5a, sizeof(q->lname));
	q->qname_len = wire_name(q->lname, label);
	q->qtype = qtype;
	q->qclass = HD_DNS_CLASS_IN;
}

static uint8_t
key_make(struct hd_cache_key *k, const char *label)
{
	struct hd_dns_query q;

	query_make(&q, label, HD_DNS_TYPE_A);
	hd_cache_key_from_query(k, &q);
	return k->name_len;
}

static uint8_t
key_num(struct hd_cache_key *k, unsigned int i)
{
	char label[16];

	snprintf(label, sizeof(label), "k%u", i);
	return key_make(k, label);
}

static struct hd_cache *
cache_new(const char *name, uint32_t max_entries, uint64_t max_bytes,
	  struct rte_rcu_qsbr *qsv)
{
	struct hd_cache_params p = {
		.name = name,
		.max_entries = max_entries,
		.max_bytes = max_bytes,
		.socket_id = SOCKET_ID_ANY,
		.qsv = qsv,
	};

	return hd_cache_create(&p);
}

static struct rte_rcu_qsbr *
qsv_new(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	struct rte_rcu_qsbr *v;

	v = rte_zmalloc("test_qsv", sz, RTE_CACHE_LINE_SIZE);
	if (v != NULL && rte_rcu_qsbr_init(v, RTE_MAX_LCORE) != 0) {
		rte_free(v);
		v = NULL;
	}
	return v;
}

static void
stats(const struct hd_cache *c, struct hd_cache_stats *s)
{
	hd_cache_stats_get(c, s);
}

/* ---- tests ---- */

static void
test_create_params(void)
{
	struct hd_cache_params p = { .name = "t_params", .max_entries = 64 };
	struct hd_cache_stats s;
	struct hd_cache *c, *dup;

	hd_cache_free(NULL);

	rte_errno = 0;
	CU_ASSERT_PTR_NULL(hd_cache_create(NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);

	p.name = NULL;
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(hd_cache_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);

	p.name = "";
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(hd_cache_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);

	p.name = "a_name_far_too_long_for_rte_hash";
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(hd_cache_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);

	p.name = "t_params";
	p.max_entries = 63;
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(hd_cache_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);

	p.max_entries = 64;
	c = hd_cache_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.capacity, 64);
	CU_ASSERT_EQUAL(s.entries, 0);
	CU_ASSERT_EQUAL(s.bytes, 0);

	rte_errno = 0;
	dup = hd_cache_create(&p);
	CU_ASSERT_PTR_NULL(dup);
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	hd_cache_free(dup);
	hd_cache_free(c);

	/* The name is free again once the cache is gone. */
	c = hd_cache_create(&p);
	CU_ASSERT_PTR_NOT_NULL(c);
	hd_cache_free(c);
}

static void
test_key_from_query(void)
{
	struct hd_cache_key k1, k2, k;
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	struct hd_cache *c;
	uint8_t len;
	size_t i;
	int zero = 1;

	memset(&k1, 0xaa, sizeof(k1));
	query_make(&q, "www", HD_DNS_TYPE_AAAA);
	hd_cache_key_from_query(&k1, &q);
	CU_ASSERT_EQUAL(k1.name_len, 10);
	CU_ASSERT_EQUAL(memcmp(k1.name, "\3www\4test", 10), 0);
	CU_ASSERT_EQUAL(k1.qtype, HD_DNS_TYPE_AAAA);
	CU_ASSERT_EQUAL(k1.qclass, HD_DNS_CLASS_IN);
	CU_ASSERT_EQUAL(k1.flags, 0);
	for (i = k1.name_len; i < sizeof(k1.name); i++)
		zero &= k1.name[i] == 0;
	for (i = 0; i < sizeof(k1.pad); i++)
		zero &= k1.pad[i] == 0;
	CU_ASSERT(zero);

	/* The same question with other garbage around it: the same key. */
	memset(&k2, 0x33, sizeof(k2));
	query_make(&q, "www", HD_DNS_TYPE_AAAA);
	memset(q.lname + q.qname_len, 0x77, sizeof(q.lname) - q.qname_len);
	hd_cache_key_from_query(&k2, &q);
	CU_ASSERT_EQUAL(memcmp(&k1, &k2, sizeof(k1)), 0);

	q.do_bit = 1;
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_EQUAL(k.flags, HD_CACHE_KEY_DO);
	q.do_bit = 0;
	q.flags = HD_DNS_RD | HD_DNS_CD;
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_EQUAL(k.flags, HD_CACHE_KEY_CD);

	c = cache_new("t_key", 64, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	a = answer_new(k1.name_len, 20, 1, 100, FAR, FAR);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k1, a, 100), 0);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &k2, 100, NULL), a);

	/* Another name, case, type, class or flag is another entry. */
	query_make(&q, "wwx", HD_DNS_TYPE_AAAA);
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));
	query_make(&q, "WWW", HD_DNS_TYPE_AAAA);
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));
	query_make(&q, "www", HD_DNS_TYPE_A);
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));
	query_make(&q, "www", HD_DNS_TYPE_AAAA);
	q.qclass = HD_DNS_CLASS_CH;
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));
	query_make(&q, "www", HD_DNS_TYPE_AAAA);
	q.do_bit = 1;
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));
	/* A longer name sharing the prefix. */
	len = key_make(&k, "wwww");
	CU_ASSERT_EQUAL(len, 11);
	k.qtype = HD_DNS_TYPE_AAAA;
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));

	/* Bytes past name_len in a caller's key do not hide the entry. */
	k = k1;
	memset(k.name + k.name_len, 0xee, sizeof(k.name) - k.name_len);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &k, 100, NULL), a);
	CU_ASSERT_EQUAL(hd_cache_delete(c, &k), 0);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k1, 100, NULL));
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_ttl_aging(void)
{
	struct hd_cache_key k, ks;
	struct hd_dns_answer *a, *b;
	struct hd_cache *c;
	int stale = -1;

	c = cache_new("t_ttl", 64, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);

	/* No stale window: found up to stored + 9, never after. */
	a = answer_new(key_make(&k, "fresh"), 32, 2, 1000, 1010, 1010);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 1000), 0);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &k, 1000, NULL), a);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &k, 1009, &stale), a);
	CU_ASSERT_EQUAL(stale, 0);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 1010, NULL));
	stale = -1;
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 1010, &stale));
	CU_ASSERT_EQUAL(stale, 0);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 5000, &stale));

	/* Stale window of 30 s: served stale only to callers that ask. */
	b = answer_new(key_make(&ks, "stale"), 32, 3, 1000, 1010, 1040);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &ks, b, 1000), 0);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &ks, 1009, &stale), b);
	CU_ASSERT_EQUAL(stale, 0);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &ks, 1010, NULL));
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &ks, 1010, &stale), b);
	CU_ASSERT_EQUAL(stale, 1);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &ks, 1039, &stale), b);
	CU_ASSERT_EQUAL(stale, 1);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &ks, 1040, &stale));
	CU_ASSERT_EQUAL(stale, 0);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &ks, 1040, NULL));

	/* Expired entries stay counted until something removes them. */
	struct hd_cache_stats s;
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 2);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_negative(void)
{
	struct hd_cache_key k;
	struct hd_dns_answer *a;
	const struct hd_dns_answer *got;
	struct hd_cache *c;

	c = cache_new("t_neg", 64, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	a = answer_new(key_make(&k, "nx"), 48, 4, 200, 500, 500);
	a->negative = 1;
	a->flags = HD_DNS_RCODE_NXDOMAIN;
	a->ancount = 0;
	a->nscount = 1;
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 200), 0);
	got = hd_cache_lookup(c, &k, 499, NULL);
	CU_ASSERT_PTR_EQUAL_FATAL(got, a);
	CU_ASSERT_EQUAL(got->negative, 1);
	CU_ASSERT_EQUAL(got->flags & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(got->nscount, 1);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 500, NULL));
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_bad_insert(void)
{
	struct hd_cache_key k;
	struct hd_dns_answer *a;
	struct hd_cache_stats s;
	struct hd_cache *c;
	uint8_t len;

	c = cache_new("t_badins", 64, 1000, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	len = key_make(&k, "bad");

	/* Every refused answer is freed: the cache owns it either way. */
	a = answer_new(len + 1, 16, 5, 100, 200, 200);
	watch(a);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 100), -EINVAL);
	CU_ASSERT(watched_freed);

	a = answer_new(len, 16, 5, 100, 200, 200);
	watch(a);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 200), -EINVAL);	/* dead on arrival */
	CU_ASSERT(watched_freed);

	a = answer_new(len, 16, 5, 100, 200, 150);
	watch(a);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 100), -EINVAL);	/* stale limit < expiry */
	CU_ASSERT(watched_freed);

	a = answer_new(len, 2000, 5, 100, 200, 200);
	watch(a);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 100), -ENOSPC);	/* > max_bytes */
	CU_ASSERT(watched_freed);

	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, NULL, 100), -EINVAL);
	a = answer_new(len, 16, 5, 100, 200, 200);
	watch(a);
	CU_ASSERT_EQUAL(hd_cache_insert(c, NULL, a, 100), -EINVAL);
	CU_ASSERT(watched_freed);

	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 0);
	CU_ASSERT_EQUAL(s.bytes, 0);
	CU_ASSERT_EQUAL(s.inserts, 0);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_replace(void)
{
	struct hd_cache_key k;
	struct hd_dns_answer *a1, *a2;
	struct hd_cache_stats s;
	struct hd_cache *c;
	uint8_t len;

	c = cache_new("t_replace", 64, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	len = key_make(&k, "same");
	a1 = answer_new(len, 40, 6, 100, 400, 400);
	a2 = answer_new(len, 90, 7, 150, 450, 450);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a1, 100), 0);
	watch(a1);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a2, 150), 0);
	/* Without readers the old answer goes at once. */
	CU_ASSERT(watched_freed);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &k, 150, NULL), a2);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 1);
	CU_ASSERT_EQUAL(s.inserts, 2);
	CU_ASSERT_EQUAL(s.replaced, 1);
	CU_ASSERT_EQUAL(s.bytes, hd_dns_answer_size(a2));
	CU_ASSERT_EQUAL(answers_live(), 1);

	watch(a2);
	CU_ASSERT_EQUAL(hd_cache_delete(c, &k), 0);
	CU_ASSERT(watched_freed);
	CU_ASSERT_EQUAL(hd_cache_delete(c, &k), -ENOENT);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 150, NULL));
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 0);
	CU_ASSERT_EQUAL(s.bytes, 0);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

/* A reader that holds an answer keeps it alive until its next quiescent
 * state, through a replacement and through a delete. */
static void
test_deferred_free(void)
{
	const unsigned int rid = 7;	/* a reader id no lcore uses here */
	const struct hd_dns_answer *held;
	struct hd_dns_answer *a1, *a2;
	struct rte_rcu_qsbr *v;
	struct hd_cache_key k;
	struct hd_cache *c;
	uint8_t len;

	v = qsv_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	c = cache_new("t_defer", 64, 0, v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(rte_rcu_qsbr_thread_register(v, rid), 0);
	rte_rcu_qsbr_thread_online(v, rid);

	len = key_make(&k, "held");
	a1 = answer_new(len, 64, 0x11, 100, 400, 400);
	a2 = answer_new(len, 64, 0x22, 100, 400, 400);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a1, 100), 0);
	held = hd_cache_lookup(c, &k, 100, NULL);
	CU_ASSERT_PTR_EQUAL(held, a1);

	watch(a1);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a2, 100), 0);
	hd_cache_reclaim(c);
	CU_ASSERT_FALSE(watched_freed);
	CU_ASSERT_EQUAL(held->len, 64);		/* still readable */
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &k, 100, NULL), a2);
	rte_rcu_qsbr_quiescent(v, rid);
	hd_cache_reclaim(c);
	CU_ASSERT(watched_freed);

	held = hd_cache_lookup(c, &k, 100, NULL);
	watch(a2);
	CU_ASSERT_EQUAL(hd_cache_delete(c, &k), 0);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 100, NULL));
	hd_cache_reclaim(c);
	CU_ASSERT_FALSE(watched_freed);
	CU_ASSERT_EQUAL(hd_dns_answer_data(held)[0], 0x22);
	rte_rcu_qsbr_quiescent(v, rid);
	hd_cache_reclaim(c);
	CU_ASSERT(watched_freed);

	/* A reader that went offline holds nothing. */
	a1 = answer_new(len, 64, 0x33, 100, 400, 400);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a1, 100), 0);
	rte_rcu_qsbr_thread_offline(v, rid);
	watch(a1);
	CU_ASSERT_EQUAL(hd_cache_delete(c, &k), 0);
	hd_cache_reclaim(c);
	CU_ASSERT(watched_freed);

	/* Freeing the cache releases answers still waiting for a reader
	 * that stopped without going offline. */
	rte_rcu_qsbr_thread_online(v, rid);
	a1 = answer_new(len, 64, 0x44, 100, 400, 400);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a1, 100), 0);
	CU_ASSERT_EQUAL(hd_cache_delete(c, &k), 0);
	hd_cache_reclaim(c);
	CU_ASSERT_EQUAL(answers_live(), 1);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
	rte_rcu_qsbr_thread_offline(v, rid);
	rte_rcu_qsbr_thread_unregister(v, rid);
	rte_free(v);
}

/* A reader that stops reporting makes inserts fail, never wait, and
 * never drains what is cached. */
static void
test_stalled_reader(void)
{
	const unsigned int rid = 9;
	struct hd_cache_key k;
	struct hd_cache_stats s;
	struct rte_rcu_qsbr *v;
	struct hd_cache *c;
	unsigned int i, ok = 0, nospc = 0, found = 0;
	uint8_t len;
	int ret;

	v = qsv_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	c = cache_new("t_stall", 64, 0, v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(rte_rcu_qsbr_thread_register(v, rid), 0);
	rte_rcu_qsbr_thread_online(v, rid);

	for (i = 0; i < 64; i++) {
		len = key_num(&k, i);
		CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 1, i, FAR, FAR), i), 0);
	}
	for (i = 64; i < 264; i++) {
		len = key_num(&k, i);
		ret = hd_cache_insert(c, &k, answer_new(len, 24, 1, i, FAR, FAR), i);
		ok += ret == 0;
		nospc += ret == -ENOSPC;
	}
	stats(c, &s);
	/* Evicted keys keep their slot while the reader may see them: only
	 * the hash's headroom (64 slots here) can be used meanwhile. */
	CU_ASSERT(ok > 0 && ok <= 64);
	CU_ASSERT_EQUAL(ok + nospc, 200);
	CU_ASSERT_EQUAL(s.entries, 64);
	CU_ASSERT_EQUAL(s.evictions, ok);
	for (i = 0; i < 264; i++) {
		key_num(&k, i);
		found += hd_cache_lookup(c, &k, 300, NULL) != NULL;
	}
	CU_ASSERT_EQUAL(found, 64);

	/* Replacing needs no slot. */
	len = key_num(&k, 64 + ok - 1);	/* the newest one kept */
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 2, 300, FAR, FAR), 300), 0);

	rte_rcu_qsbr_quiescent(v, rid);
	hd_cache_reclaim(c);
	CU_ASSERT_EQUAL(answers_live(), 64);
	len = key_num(&k, 1000);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 3, 301, FAR, FAR), 301), 0);
	CU_ASSERT_PTR_NOT_NULL(hd_cache_lookup(c, &k, 301, NULL));

	rte_rcu_qsbr_thread_offline(v, rid);
	rte_rcu_qsbr_thread_unregister(v, rid);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
	rte_free(v);
}

static void
test_evict_entries(void)
{
	struct hd_cache_key k;
	struct hd_cache_stats s;
	struct hd_cache *c;
	unsigned int i, over = 0, failed = 0, present = 0;
	uint8_t len;

	c = cache_new("t_evict_n", 64, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (i = 0; i < 1000; i++) {
		len = key_num(&k, i);
		if (hd_cache_insert(c, &k, answer_new(len, 24, (uint8_t)i, i, FAR, FAR), i) != 0)
			failed++;
		stats(c, &s);
		if (s.entries > 64)
			over++;
	}
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(over, 0);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 64);
	CU_ASSERT_EQUAL(s.inserts, 1000);
	CU_ASSERT_EQUAL(s.evictions, 1000 - 64);
	CU_ASSERT_EQUAL(s.expired, 0);
	CU_ASSERT_EQUAL(answers_live(), 64);

	/* The victim is the oldest of 8 distinct entries sampled, so the 8
	 * newest are always kept; most of the older ones are gone. */
	for (i = 992; i < 1000; i++) {
		key_num(&k, i);
		CU_ASSERT_PTR_NOT_NULL(hd_cache_lookup(c, &k, 1000, NULL));
	}
	for (i = 0; i < 500; i++) {
		key_num(&k, i);
		present += hd_cache_lookup(c, &k, 1000, NULL) != NULL;
	}
	CU_ASSERT(present < 32);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_evict_bytes(void)
{
	struct hd_cache_key k;
	struct hd_dns_answer *a;
	struct hd_cache_stats s, before;
	struct hd_cache *c;
	unsigned int i, over = 0, failed = 0;
	size_t one;
	uint64_t max;
	uint8_t len;

	one = sizeof(struct hd_dns_answer) + 2 * sizeof(uint16_t) + 100;
	max = 10 * one + one / 2;

	c = cache_new("t_evict_b", 1024, max, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (i = 0; i < 100; i++) {
		len = key_num(&k, i);
		if (hd_cache_insert(c, &k, answer_new(len, 100, 1, i, FAR, FAR), i) != 0)
			failed++;
		stats(c, &s);
		if (s.bytes > max)
			over++;
	}
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(over, 0);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 10);
	CU_ASSERT_EQUAL(s.bytes, 10 * one);
	CU_ASSERT_EQUAL(s.evictions, 90);

	/* A bigger answer pushes out as many as it needs. */
	len = key_num(&k, 100);
	a = answer_new(len, 3 * 100 + 2 * (uint16_t)(one - 100), 1, 100, FAR, FAR);
	CU_ASSERT_EQUAL(hd_dns_answer_size(a), 3 * one);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 100), 0);
	stats(c, &s);
	CU_ASSERT(s.bytes <= max);
	CU_ASSERT_EQUAL(s.entries, 8);
	CU_ASSERT_PTR_EQUAL(hd_cache_lookup(c, &k, 100, NULL), a);

	/* Growing an entry in place counts the difference only. */
	a = answer_new(len, 100, 2, 101, FAR, FAR);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, a, 101), 0);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.bytes, 8 * one);
	CU_ASSERT_EQUAL(s.entries, 8);

	/* One that can never fit changes nothing. */
	stats(c, &before);
	len = key_num(&k, 101);
	CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, (uint16_t)max, 3, 102, FAR, FAR),
					102), -ENOSPC);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, before.entries);
	CU_ASSERT_EQUAL(s.bytes, before.bytes);
	CU_ASSERT_EQUAL(s.evictions, before.evictions);
	CU_ASSERT_EQUAL(answers_live(), 8);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_expired_first(void)
{
	struct hd_cache_key k;
	struct hd_cache_stats s;
	struct hd_cache *c;
	unsigned int i, live_kept = 0, new_kept = 0, dead_found = 0;
	uint8_t len;

	c = cache_new("t_expfirst", 64, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* 48 entries dead by t=200, 16 live ones stored before them all. */
	for (i = 0; i < 64; i++) {
		uint32_t exp = i % 4 == 0 ? FAR : 150;

		len = key_num(&k, i);
		CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 1, i % 4 == 0 ? 10 : 100,
								  exp, exp), 100), 0);
	}
	for (i = 64; i < 80; i++) {
		len = key_num(&k, i);
		CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 1, 200, FAR, FAR), 200),
				0);
	}
	for (i = 0; i < 80; i++) {
		key_num(&k, i);
		if (hd_cache_lookup(c, &k, 200, NULL) != NULL) {
			if (i >= 64)
				new_kept++;
			else if (i % 4 == 0)
				live_kept++;
		}
		dead_found += i < 64 && i % 4 != 0 && hd_cache_lookup(c, &k, 100, NULL) != NULL;
	}
	CU_ASSERT_EQUAL(live_kept, 16);
	CU_ASSERT_EQUAL(new_kept, 16);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.evictions, 0);
	CU_ASSERT(s.expired >= 16);
	CU_ASSERT_EQUAL(s.entries, 32 + dead_found);
	CU_ASSERT(s.entries <= 64);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_expire(void)
{
	struct hd_cache_key k;
	struct hd_cache_stats s;
	struct hd_cache *c;
	unsigned int i, bad = 0;
	const struct hd_dns_answer *a;
	int stale;
	uint8_t len;

	c = cache_new("t_expire", 256, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* By t=500: 40 dead, 30 stale but servable, 30 fresh. */
	for (i = 0; i < 100; i++) {
		uint32_t exp = i % 10 < 7 ? 300 : 1000;
		uint32_t lim = i % 10 < 4 ? 300 : 1000;

		len = key_num(&k, i);
		CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 1, 100, exp, lim), 100),
				0);
	}
	CU_ASSERT_EQUAL(hd_cache_expire(c, 250, 1000), 0);	/* nothing dead yet */
	CU_ASSERT_EQUAL(hd_cache_expire(c, 500, 10), 10);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 90);
	CU_ASSERT_EQUAL(s.expired, 10);
	CU_ASSERT_EQUAL(hd_cache_expire(c, 500, 1000), 30);
	CU_ASSERT_EQUAL(hd_cache_expire(c, 500, 1000), 0);
	CU_ASSERT_EQUAL(hd_cache_expire(c, 500, 0), 0);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 60);
	CU_ASSERT_EQUAL(s.expired, 40);
	CU_ASSERT_EQUAL(s.evictions, 0);
	CU_ASSERT_EQUAL(answers_live(), 60);

	for (i = 0; i < 100; i++) {
		key_num(&k, i);
		a = hd_cache_lookup(c, &k, 500, &stale);
		if (i % 10 < 4)
			bad += a != NULL;
		else if (i % 10 < 7)
			bad += a == NULL || stale != 1 || hd_cache_lookup(c, &k, 500, NULL) != NULL;
		else
			bad += a == NULL || stale != 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_delete_name(void)
{
	static const uint16_t types[] = { HD_DNS_TYPE_A, HD_DNS_TYPE_AAAA, HD_DNS_TYPE_MX };
	struct hd_cache_key k, other;
	struct hd_dns_query q;
	struct hd_cache_stats s;
	struct hd_cache *c;

	c = cache_new("t_delname", 128, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* Three types of one name, with and without DO, and one other name. */
	for (unsigned int i = 0; i < RTE_DIM(types); i++) {
		for (unsigned int d = 0; d < 2; d++) {
			query_make(&q, "gone", types[i]);
			q.do_bit = (uint8_t)d;
			hd_cache_key_from_query(&k, &q);
			CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(k.name_len, 24, 1, 1, FAR,
									  FAR), 1), 0);
		}
	}
	key_make(&other, "kept");
	CU_ASSERT_EQUAL(hd_cache_insert(c, &other, answer_new(other.name_len, 24, 2, 1, FAR, FAR),
					1), 0);
	key_make(&k, "gone");
	CU_ASSERT_EQUAL(hd_cache_delete_name(c, k.name, k.name_len), 2 * RTE_DIM(types));
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 1);
	CU_ASSERT_PTR_NULL(hd_cache_lookup(c, &k, 1, NULL));
	CU_ASSERT_PTR_NOT_NULL(hd_cache_lookup(c, &other, 1, NULL));
	/* A name that is a suffix of a cached one is another name. */
	key_make(&k, "ept");
	CU_ASSERT_EQUAL(hd_cache_delete_name(c, k.name, k.name_len), 0);
	CU_ASSERT_EQUAL(hd_cache_delete_name(c, other.name, other.name_len), 1);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 0);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

static void
test_flush(void)
{
	struct hd_cache_key k;
	struct hd_cache_stats s;
	struct hd_cache *c;
	unsigned int i, found = 0;
	uint8_t len;

	c = cache_new("t_flush", 128, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (i = 0; i < 100; i++) {
		len = key_num(&k, i);
		CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 1, 1, FAR, FAR), 1), 0);
	}
	hd_cache_flush(c);
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 0);
	CU_ASSERT_EQUAL(s.bytes, 0);
	CU_ASSERT_EQUAL(answers_live(), 0);
	for (i = 0; i < 100; i++) {
		key_num(&k, i);
		found += hd_cache_lookup(c, &k, 1, NULL) != NULL;
	}
	CU_ASSERT_EQUAL(found, 0);
	/* Every slot is usable again. */
	for (i = 0; i < 128; i++) {
		len = key_num(&k, 1000 + i);
		CU_ASSERT_EQUAL(hd_cache_insert(c, &k, answer_new(len, 24, 1, 2, FAR, FAR), 2), 0);
	}
	stats(c, &s);
	CU_ASSERT_EQUAL(s.entries, 128);
	CU_ASSERT_EQUAL(s.evictions, 0);
	hd_cache_free(c);
	CU_ASSERT_EQUAL(answers_live(), 0);
}

/* ---- one reader lcore, one writer ---- */

#define CONC_KEYS	96
#define CONC_NOW	5000u
#define CONC_STORED	4000u
#define CONC_EXPIRES	6000u

struct conc {
	struct hd_cache *c;
	struct rte_rcu_qsbr *v;
	struct hd_cache_key keys[CONC_KEYS];
	int stop;
	uint64_t loops;
	uint64_t hits;
	uint64_t bad;
};

static uint16_t
conc_len(unsigned int i, unsigned int gen)
{
	return (uint16_t)(8 + (i * 13 + gen * 7) % 300);
}

static uint8_t
conc_fill(unsigned int i, unsigned int gen)
{
	return (uint8_t)(i * 31 + gen);
}

/* Everything a reader sees must be the answer stored for that key, whole. */
static int
conc_intact(const struct hd_dns_answer *a, unsigned int i, uint8_t qname_len)
{
	const uint8_t *d;
	unsigned int gen, j;
	uint8_t fill;

	if (a->stored != CONC_STORED || a->expires != CONC_EXPIRES ||
	    a->stale_until != CONC_EXPIRES || a->ancount != i || a->n_ttl != 2 ||
	    a->qname_len != qname_len)
		return 0;
	gen = a->arcount;
	fill = conc_fill(i, gen);
	if (a->len != conc_len(i, gen) || hd_dns_answer_ttl_offs(a)[0] != fill ||
	    hd_dns_answer_ttl_offs(a)[1] != fill)
		return 0;
	d = hd_dns_answer_data(a);
	for (j = 0; j < a->len; j++)
		if (d[j] != fill)
			return 0;
	return 1;
}

static int
conc_reader(void *arg)
{
	struct conc *s = arg;
	unsigned int id = rte_lcore_id(), i;
	const struct hd_dns_answer *a;
	uint64_t loops = 0, hits = 0, bad = 0;

	if (rte_rcu_qsbr_thread_register(s->v, id) != 0)
		return -1;
	rte_rcu_qsbr_thread_online(s->v, id);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < CONC_KEYS; i++) {
			a = hd_cache_lookup(s->c, &s->keys[i], CONC_NOW, NULL);
			if (a == NULL)
				continue;
			hits++;
			bad += !conc_intact(a, i, s->keys[i].name_len);
		}
		loops++;
		rte_rcu_qsbr_quiescent(s->v, id);
	}
	rte_rcu_qsbr_thread_offline(s->v, id);
	rte_rcu_qsbr_thread_unregister(s->v, id);
	s->loops = loops;
	s->hits = hits;
	s->bad = bad;
	return 0;
}

static void
test_concurrent(void)
{
	static struct conc s;
	struct hd_cache_stats st;
	struct hd_dns_answer *a;
	uint64_t end, ops = 0, nospc = 0, other = 0, over = 0;
	unsigned int lcore, i, gen = 0;
	uint32_t rng = 2463534242u;
	int ret;

	CU_ASSERT_FATAL(rte_lcore_count() >= 2);
	lcore = rte_get_next_lcore(-1, 1, 0);
	CU_ASSERT_FATAL(lcore < RTE_MAX_LCORE);

	memset(&s, 0, sizeof(s));
	s.v = qsv_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.v);
	/* Fewer entries than keys, so evictions run alongside. */
	s.c = cache_new("t_conc", 64, 0, s.v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.c);
	for (i = 0; i < CONC_KEYS; i++)
		key_num(&s.keys[i], i);

	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(conc_reader, &s, lcore), 0);
	end = rte_get_timer_cycles() + rte_get_timer_hz() / 2;
	while (rte_get_timer_cycles() < end) {
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		i = rng % CONC_KEYS;
		switch ((rng >> 8) % 8) {
		case 0: case 1: case 2: case 3: case 4:
			gen = (gen + 1) & 0xff;
			a = answer_new(s.keys[i].name_len, conc_len(i, gen), conc_fill(i, gen),
				       CONC_STORED, CONC_EXPIRES, CONC_EXPIRES);
			a->ancount = (uint16_t)i;
			a->arcount = (uint16_t)gen;
			ret = hd_cache_insert(s.c, &s.keys[i], a, CONC_NOW);
			/* -ENOSPC: too many replacements wait for the reader. */
			nospc += ret == -ENOSPC;
			other += ret != 0 && ret != -ENOSPC;
			break;
		case 5: case 6:
			ret = hd_cache_delete(s.c, &s.keys[i]);
			other += ret != 0 && ret != -ENOENT;
			break;
		default:
			hd_cache_reclaim(s.c);
			break;
		}
		hd_cache_stats_get(s.c, &st);
		over += st.entries > 64;
		ops++;
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(rte_eal_wait_lcore(lcore), 0);

	printf("\n    writer ops %" PRIu64 " (enospc %" PRIu64 "), reader loops %" PRIu64
	       " hits %" PRIu64 " ", ops, nospc, s.loops, s.hits);
	CU_ASSERT_EQUAL(s.bad, 0);
	CU_ASSERT(s.loops > 100);
	CU_ASSERT(s.hits > 0);
	CU_ASSERT_EQUAL(other, 0);
	CU_ASSERT_EQUAL(over, 0);
	hd_cache_stats_get(s.c, &st);
	CU_ASSERT(st.inserts > 1000);
	CU_ASSERT(st.replaced > 0);
	CU_ASSERT(st.evictions > 0);

	/* With the reader gone everything retired can go. */
	hd_cache_reclaim(s.c);
	CU_ASSERT_EQUAL(answers_live(), st.entries);
	hd_cache_free(s.c);
	CU_ASSERT_EQUAL(answers_live(), 0);
	rte_free(s.v);
}

int
main(void)
{
	/* Not --in-memory: DPDK 22.11 refuses it beside --no-huge (which
	 * implies legacy memory); --no-shconf keeps the run file-free. */
	char *eal_args[] = {
		"test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
		"--log-level=lib.*:error", "-l", "0-1", "--file-prefix=hd_test_cache",
	};
	CU_pSuite suite;
	int failed;

	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("cache", NULL, NULL);
	if (suite == NULL ||
	    !CU_add_test(suite, "create validates parameters", test_create_params) ||
	    !CU_add_test(suite, "key from query", test_key_from_query) ||
	    !CU_add_test(suite, "TTL aging and serve-stale", test_ttl_aging) ||
	    !CU_add_test(suite, "negative answers", test_negative) ||
	    !CU_add_test(suite, "refused inserts free the answer", test_bad_insert) ||
	    !CU_add_test(suite, "replace and delete", test_replace) ||
	    !CU_add_test(suite, "freeing waits for readers", test_deferred_free) ||
	    !CU_add_test(suite, "a stalled reader never drains the cache", test_stalled_reader) ||
	    !CU_add_test(suite, "eviction by entries", test_evict_entries) ||
	    !CU_add_test(suite, "eviction by bytes", test_evict_bytes) ||
	    !CU_add_test(suite, "dead entries go first", test_expired_first) ||
	    !CU_add_test(suite, "expire timer", test_expire) ||
	    !CU_add_test(suite, "flush", test_flush) ||
	    !CU_add_test(suite, "delete one name, every type", test_delete_name) ||
	    !CU_add_test(suite, "reader lcore during writes", test_concurrent)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() != 0 || CU_get_number_of_tests_failed() != 0;
	CU_cleanup_registry();
	rte_eal_cleanup();
	return failed;
}
