/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CUnit suite for lib/querylog/top.c: the space-saving top-N keeps the
 * heavy hitters of a skewed stream, in order, within its error bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hd_querylog.h"
#include "../hd_test.h"

static size_t
key_of(unsigned int i, uint8_t *k)
{
	return (size_t)snprintf((char *)k, HD_QUERYLOG_KEY_MAX, "name-%u", i);
}

static void
test_exact_when_it_fits(void)
{
	struct hd_querylog_top *t = hd_querylog_top_create(16);
	struct hd_querylog_top_entry e[16];
	uint8_t k[HD_QUERYLOG_KEY_MAX];
	unsigned int i, j;

	CU_ASSERT_FATAL(t != NULL);
	/* Key i seen i+1 times: fewer keys than slots, so every count is exact. */
	for (i = 0; i < 10; i++)
		for (j = 0; j <= i; j++)
			hd_querylog_top_add(t, k, key_of(i, k));
	CU_ASSERT_EQUAL(hd_querylog_top_total(t), 55);
	CU_ASSERT_EQUAL(hd_querylog_top_get(t, e, 16), 10);
	for (i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(e[i].count, 10 - i);
		CU_ASSERT_EQUAL(e[i].error, 0);
		key_of(9 - i, k);
		CU_ASSERT_EQUAL(memcmp(e[i].key, k, e[i].len), 0);
	}
	CU_ASSERT_EQUAL(hd_querylog_top_get(t, e, 3), 3);
	hd_querylog_top_free(t);
}

/* Zipf-like: key i is drawn with weight 1/(i+1), from many more keys than slots. */
static void
test_skewed_stream(void)
{
	enum { KEYS = 5000, SLOTS = 256, N = 200000 };
	static uint32_t truth[KEYS];
	static double cdf[KEYS];
	struct hd_querylog_top *t = hd_querylog_top_create(SLOTS);
	struct hd_querylog_top_entry e[10];
	uint8_t k[HD_QUERYLOG_KEY_MAX];
	double sum = 0, u;
	unsigned int i, lo, hi, mid, got;

	CU_ASSERT_FATAL(t != NULL);
	for (i = 0; i < KEYS; i++) {
		sum += 1.0 / (i + 1);
		cdf[i] = sum;
	}
	srandom(42);
	for (i = 0; i < N; i++) {
		u = (double)random() / RAND_MAX * sum;
		lo = 0;
		hi = KEYS - 1;
		while (lo < hi) {
			mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		truth[lo]++;
		hd_querylog_top_add(t, k, key_of(lo, k));
	}
	got = hd_querylog_top_get(t, e, 10);
	CU_ASSERT_EQUAL_FATAL(got, 10);
	for (i = 0; i < got; i++) {
		unsigned int id = (unsigned int)strtoul((const char *)e[i].key + 5, NULL, 10);

		/* The guarantee: count - error <= truth <= count, error <= N / slots. */
		CU_ASSERT(e[i].count >= truth[id]);
		CU_ASSERT(e[i].count - e[i].error <= truth[id]);
		CU_ASSERT(e[i].error <= N / SLOTS);
		/* The head of a Zipf stream is far above the error: ranks are exact. */
		CU_ASSERT_EQUAL(id, i);
		if (i > 0)
			CU_ASSERT(e[i].count <= e[i - 1].count);
	}
	CU_ASSERT_EQUAL(hd_querylog_top_total(t), N);
	hd_querylog_top_free(t);
}

/* Replacing keys exercises the table's deletions: every live key stays findable. */
static void
test_churn_keeps_table_consistent(void)
{
	struct hd_querylog_top *t = hd_querylog_top_create(8);
	struct hd_querylog_top_entry e[8];
	uint8_t k[HD_QUERYLOG_KEY_MAX];
	unsigned int i, r;

	CU_ASSERT_FATAL(t != NULL);
	for (r = 0; r < 20000; r++) {
		hd_querylog_top_add(t, k, key_of(r % 1000, k));
		/* One heavy key, every other add. */
		hd_querylog_top_add(t, (const uint8_t *)"heavy", 5);
	}
	CU_ASSERT_EQUAL(hd_querylog_top_get(t, e, 8), 8);
	CU_ASSERT_EQUAL(e[0].len, 5);
	CU_ASSERT_EQUAL(memcmp(e[0].key, "heavy", 5), 0);
	/* Had a deletion lost "heavy" from the table, it would have been re-added as new. */
	CU_ASSERT(e[0].count - e[0].error <= 20000 && e[0].count >= 20000);
	CU_ASSERT(e[0].error <= 40000 / 8);
	for (i = 1; i < 8; i++)
		CU_ASSERT(e[i].count <= e[0].count);
	hd_querylog_top_free(t);
}

static void
test_bad_args(void)
{
	CU_ASSERT_PTR_NULL(hd_querylog_top_create(0));
	hd_querylog_top_free(NULL);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_exact_when_it_fits),
		T_CASE(test_skewed_stream),
		T_CASE(test_churn_keeps_table_consistent),
		T_CASE(test_bad_args),
	};

	return t_run("querylog_top", cases, T_DIM(cases));
}
