/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CUnit suite for lib/querylog/querylog.c: the worker ring (order, drops
 * when full, sampling under overload), the fast-path hook, and the store
 * the API reads (newest first, bounded, filtered).
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hd_dns.h"
#include "hd_querylog.h"
#include "../hd_test.h"

static int
push(struct hd_querylog_ring *r, uint16_t qtype)
{
	struct hd_querylog_rec *s = hd_querylog_ring_reserve(r);

	if (s == NULL)
		return 0;
	memset(s, 0, sizeof(*s));
	s->qtype = qtype;
	hd_querylog_ring_commit(r);
	return 1;
}

static void
test_ring_order_and_drops(void)
{
	struct hd_querylog_ring *r = hd_querylog_ring_create(8, -1, 3, 0);
	struct hd_querylog_rec out[16];
	struct hd_querylog_ring_stats st;
	unsigned int i, n;

	CU_ASSERT_FATAL(r != NULL);
	for (i = 0; i < 10; i++)
		push(r, (uint16_t)i);
	hd_querylog_ring_stats(r, &st);
	CU_ASSERT_EQUAL(st.records, 8);
	CU_ASSERT_EQUAL(st.dropped, 2);
	n = hd_querylog_ring_drain(r, out, 5);
	CU_ASSERT_EQUAL(n, 5);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(out[i].qtype, i);
	/* The drain found the ring full: from now on 1 query in 2 is kept. */
	CU_ASSERT_EQUAL(r->sample_n, 2);
	CU_ASSERT_EQUAL(push(r, 99), 0);
	/* Room again: the producer sees the consumer's progress. */
	CU_ASSERT_EQUAL(push(r, 100), 1);
	n = hd_querylog_ring_drain(r, out, 16);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(out[0].qtype, 5);
	CU_ASSERT_EQUAL(out[3].qtype, 100);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 16), 0);
	hd_querylog_ring_stats(r, &st);
	CU_ASSERT_EQUAL(st.sampled_out, 1);
	CU_ASSERT_EQUAL(st.records, 9);
	hd_querylog_ring_free(r);
	CU_ASSERT_PTR_NULL(hd_querylog_ring_create(12, -1, 0, 0));
	CU_ASSERT_PTR_NULL(hd_querylog_ring_create(8, -1, 0, 7));
}

static void
test_ring_sampling_adapts(void)
{
	struct hd_querylog_ring *r = hd_querylog_ring_create(64, -1, 0, 0);
	struct hd_querylog_rec out[64];
	struct hd_querylog_ring_stats st;
	unsigned int i, kept = 0;

	CU_ASSERT_FATAL(r != NULL);
	/* A drain finding the ring more than half full asks for 1 in 2, then 1 in 4. */
	for (i = 0; i < 40; i++)
		push(r, 1);
	hd_querylog_ring_drain(r, out, 64);
	CU_ASSERT_EQUAL(r->sample_n, 2);
	for (i = 0; i < 80; i++)
		kept += (unsigned int)push(r, 1);
	CU_ASSERT_EQUAL(kept, 40);
	hd_querylog_ring_stats(r, &st);
	CU_ASSERT_EQUAL(st.sampled_out, 40);
	CU_ASSERT_EQUAL(st.dropped, 0);
	hd_querylog_ring_drain(r, out, 64);
	CU_ASSERT_EQUAL(r->sample_n, 4);
	/* Quiet again: N halves per drain back to 1 (everything logged). */
	hd_querylog_ring_drain(r, out, 64);
	CU_ASSERT_EQUAL(r->sample_n, 2);
	hd_querylog_ring_drain(r, out, 64);
	CU_ASSERT_EQUAL(r->sample_n, 1);
	hd_querylog_ring_free(r);
}

/* One producer thread, one consumer: every record arrives once, in order. */
struct spsc {
	struct hd_querylog_ring *r;
	unsigned int n;
};

static void *
producer(void *arg)
{
	struct spsc *p = arg;
	unsigned int i = 0;

	while (i < p->n) {
		struct hd_querylog_rec *s = hd_querylog_ring_reserve(p->r);

		if (s == NULL)
			continue;
		s->time = i;
		s->qtype = (uint16_t)i;
		/* As a worker does: staged per query, published per burst of 32. */
		hd_querylog_ring_stage(p->r);
		if (++i % 32 == 0)
			hd_querylog_ring_flush(p->r);
	}
	hd_querylog_ring_flush(p->r);
	return NULL;
}

static void
test_ring_two_threads(void)
{
	struct spsc p = { hd_querylog_ring_create(256, -1, 0, 0), 200000 };
	struct hd_querylog_rec out[64];
	unsigned int got = 0, n, i, bad = 0;
	pthread_t t;

	CU_ASSERT_FATAL(p.r != NULL);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, producer, &p) == 0);
	while (got < p.n) {
		n = hd_querylog_ring_drain(p.r, out, 64);
		/* Keep sampling off: this test is about the hand-over. */
		__atomic_store_n(&p.r->sample_n, 1, __ATOMIC_RELAXED);
		for (i = 0; i < n; i++)
			bad += out[i].time != got + i || out[i].qtype != (uint16_t)(got + i);
		got += n;
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(got, p.n);
	hd_querylog_ring_free(p.r);
}

static void
test_ring_stage_flush(void)
{
	struct hd_querylog_ring *r = hd_querylog_ring_create(128, -1, 0, 0);
	struct hd_querylog_rec out[128], *s;
	struct hd_querylog_ring_stats st;
	unsigned int i;

	CU_ASSERT_FATAL(r != NULL);
	for (i = 0; i < 10; i++) {
		s = hd_querylog_ring_reserve(r);
		CU_ASSERT_FATAL(s != NULL);
		s->qtype = (uint16_t)i;
		hd_querylog_ring_stage(r);
	}
	/* Counted at once, visible to the consumer only after the flush. */
	hd_querylog_ring_stats(r, &st);
	CU_ASSERT_EQUAL(st.records, 10);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 128), 0);
	hd_querylog_ring_flush(r);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 128), 10);
	CU_ASSERT_EQUAL(out[9].qtype, 9);
	/* A producer that never flushes still publishes every HD_QUERYLOG_STAGE_MAX. */
	for (i = 0; i < HD_QUERYLOG_STAGE_MAX + 5; i++) {
		s = hd_querylog_ring_reserve(r);
		CU_ASSERT_FATAL(s != NULL);
		s->qtype = (uint16_t)(100 + i);
		hd_querylog_ring_stage(r);
	}
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 128), HD_QUERYLOG_STAGE_MAX);
	CU_ASSERT_EQUAL(out[0].qtype, 100);
	hd_querylog_ring_flush(r);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 128), 5);
	hd_querylog_ring_free(r);

	/* Staged records take room: a full ring drops even before anything is published. */
	r = hd_querylog_ring_create(4, -1, 0, 0);
	CU_ASSERT_FATAL(r != NULL);
	for (i = 0; i < 6; i++) {
		s = hd_querylog_ring_reserve(r);
		if (s != NULL)
			hd_querylog_ring_stage(r);
	}
	hd_querylog_ring_stats(r, &st);
	CU_ASSERT_EQUAL(st.records, 4);
	CU_ASSERT_EQUAL(st.dropped, 2);
	hd_querylog_ring_flush(r);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 128), 4);
	hd_querylog_ring_free(r);
}

/* A consumer going again at once stays behind the producer; a plain drain catches up. */
static void
test_ring_drain_behind(void)
{
	struct hd_querylog_ring *r = hd_querylog_ring_create(256, -1, 0, 0);
	struct hd_querylog_rec out[256];
	unsigned int i;

	CU_ASSERT_FATAL(r != NULL);
	for (i = 0; i < HD_QUERYLOG_DRAIN_LAG + 10; i++)
		push(r, (uint16_t)i);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain_behind(r, out, 256), 10);
	CU_ASSERT_EQUAL(out[9].qtype, 9);
	/* Only the newest LAG left: nothing more while staying behind. */
	CU_ASSERT_EQUAL(hd_querylog_ring_drain_behind(r, out, 256), 0);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 256), HD_QUERYLOG_DRAIN_LAG);
	CU_ASSERT_EQUAL(out[0].qtype, 10);
	CU_ASSERT_EQUAL(out[HD_QUERYLOG_DRAIN_LAG - 1].qtype, HD_QUERYLOG_DRAIN_LAG + 9);
	/* Sampling still sees the whole fill: more than half full doubles N. */
	for (i = 0; i < 200; i++)
		push(r, 1);
	CU_ASSERT_EQUAL(hd_querylog_ring_drain_behind(r, out, 16), 16);
	CU_ASSERT_EQUAL(r->sample_n, 2);
	hd_querylog_ring_free(r);
}

/*
 * What the consumer writes and what it reads every drain are on lines the
 * producer does not write per query: a shared line written per record
 * made logging cost the worker 2-4x its hit path with the drain on
 * another core.
 */
static void
test_ring_layout(void)
{
	size_t prod = offsetof(struct hd_querylog_ring, head) / RTE_CACHE_LINE_SIZE;

	CU_ASSERT_EQUAL(offsetof(struct hd_querylog_ring, st) / RTE_CACHE_LINE_SIZE, prod);
	CU_ASSERT_EQUAL((offsetof(struct hd_querylog_ring, st) +
			 sizeof(struct hd_querylog_ring_stats) - 1) / RTE_CACHE_LINE_SIZE, prod);
	CU_ASSERT_NOT_EQUAL(offsetof(struct hd_querylog_ring, published) / RTE_CACHE_LINE_SIZE,
			    prod);
	CU_ASSERT_NOT_EQUAL(offsetof(struct hd_querylog_ring, tail) / RTE_CACHE_LINE_SIZE, prod);
	CU_ASSERT_NOT_EQUAL(offsetof(struct hd_querylog_ring, tail) / RTE_CACHE_LINE_SIZE,
			    offsetof(struct hd_querylog_ring, published) / RTE_CACHE_LINE_SIZE);
	CU_ASSERT_NOT_EQUAL(offsetof(struct hd_querylog_ring, sample_n) / RTE_CACHE_LINE_SIZE,
			    offsetof(struct hd_querylog_ring, tail) / RTE_CACHE_LINE_SIZE);
	CU_ASSERT_EQUAL(offsetof(struct hd_querylog_ring, slots) % RTE_CACHE_LINE_SIZE, 0);
	CU_ASSERT_EQUAL(sizeof(struct hd_querylog_rec), 2 * RTE_CACHE_LINE_SIZE);
}

static void
test_fp_hook(void)
{
	struct hd_querylog_ring *r = hd_querylog_ring_create(4, -1, 2, HD_QUERYLOG_ANON_MASK);
	static const uint8_t client[4] = { 10, 53, 0, 77 };
	struct hd_querylog_rec out[4];
	uint8_t name[HD_DNS_NAME_MAX];
	struct hd_fp_log e = { 0 };
	char s[64];
	int n = hd_dns_name_from_str("ads.example", name);

	CU_ASSERT_FATAL(r != NULL && n > 0);
	e.client = client;
	e.lname = name;
	e.lname_len = (uint16_t)n;
	e.qtype = 28;
	e.list = 3;
	e.outcome = HD_FP_OUT_BLOCKED;
	e.rcode = 3;
	hd_querylog_fp_log(r, &e);
	/* Staged until the worker's end of burst. */
	CU_ASSERT_EQUAL(hd_querylog_ring_drain(r, out, 4), 0);
	hd_querylog_fp_flush(r);
	CU_ASSERT_EQUAL_FATAL(hd_querylog_ring_drain(r, out, 4), 1);
	CU_ASSERT_EQUAL(out[0].status, HD_QUERYLOG_BLOCKED);
	CU_ASSERT_EQUAL(out[0].list, 3);
	CU_ASSERT_EQUAL(out[0].qtype, 28);
	CU_ASSERT_EQUAL(out[0].rcode, 3);
	CU_ASSERT_EQUAL(out[0].lcore, 2);
	CU_ASSERT(out[0].time != 0);
	/* Masked before it ever reached the ring. */
	hd_querylog_client_str(&out[0], s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "10.53.0.0");
	hd_querylog_name_str(&out[0], s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "ads.example.");
	hd_querylog_ring_free(r);
}

static int
collect(void *arg, const struct hd_querylog_rec *r)
{
	uint16_t **p = arg;

	*(*p)++ = r->qtype;
	return 0;
}

static void
test_store_newest_first(void)
{
	struct hd_querylog_store *s = hd_querylog_store_create(5);
	struct hd_querylog_filter f;
	struct hd_querylog_rec r;
	uint16_t seen[10], *p;
	unsigned int i;

	CU_ASSERT_FATAL(s != NULL);
	memset(&r, 0, sizeof(r));
	for (i = 1; i <= 7; i++) {
		r.qtype = (uint16_t)i;
		r.status = i % 2 ? HD_QUERYLOG_CACHED : HD_QUERYLOG_BLOCKED;
		hd_querylog_store_add(s, &r);
	}
	CU_ASSERT_EQUAL(hd_querylog_store_count(s), 5);
	p = seen;
	CU_ASSERT_EQUAL(hd_querylog_store_walk(s, NULL, 10, collect, &p), 5);
	CU_ASSERT_EQUAL(seen[0], 7);
	CU_ASSERT_EQUAL(seen[4], 3);
	p = seen;
	CU_ASSERT_EQUAL(hd_querylog_store_walk(s, NULL, 2, collect, &p), 2);
	CU_ASSERT_EQUAL(seen[1], 6);
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "status", "blocked"), 0);
	p = seen;
	CU_ASSERT_EQUAL(hd_querylog_store_walk(s, &f, 10, collect, &p), 2);
	CU_ASSERT_EQUAL(seen[0], 6);
	CU_ASSERT_EQUAL(seen[1], 4);
	hd_querylog_store_free(s);

	s = hd_querylog_store_create(0);
	CU_ASSERT_FATAL(s != NULL);
	hd_querylog_store_add(s, &r);
	CU_ASSERT_EQUAL(hd_querylog_store_count(s), 0);
	hd_querylog_store_free(s);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_ring_order_and_drops),
		T_CASE(test_ring_sampling_adapts),
		T_CASE(test_ring_two_threads),
		T_CASE(test_ring_stage_flush),
		T_CASE(test_ring_drain_behind),
		T_CASE(test_ring_layout),
		T_CASE(test_fp_hook),
		T_CASE(test_store_newest_first),
	};

	return t_run("querylog_querylog", cases, T_DIM(cases));
}
