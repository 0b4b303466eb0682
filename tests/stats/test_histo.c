/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path's answer-time histogram: an observation lands in the first
 * bucket whose bound it does not exceed, the snapshot is cumulative as
 * Prometheus shows it, and its count always equals the +Inf bucket.
 */

#include <stdint.h>

#include <CUnit/Basic.h>

#include "hd_histo.h"
#include "../hd_test.h"

#define HZ 1000000000ULL	/* a 1 GHz clock: one cycle is one nanosecond */

static uint64_t
ns(double seconds)
{
	return (uint64_t)(seconds * 1e9 + 0.5);
}

static void
test_bounds_are_prometheus_seconds(void)
{
	unsigned int i;

	CU_ASSERT_DOUBLE_EQUAL(hd_histo_bound_s(0), 0.0005, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(hd_histo_bound_s(HD_HISTO_BOUNDS - 1), 2.5, 1e-12);
	for (i = 1; i < HD_HISTO_BOUNDS; i++)
		CU_ASSERT(hd_histo_bound_s(i) > hd_histo_bound_s(i - 1));
}

static void
test_bucket_edges(void)
{
	struct hd_histo h;

	hd_histo_init(&h, HZ);
	/* "le": a value equal to a bound belongs to that bound's bucket. */
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, 0), 0);
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, ns(0.0005)), 0);
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, ns(0.0005) + 1), 1);
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, ns(0.001)), 1);
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, ns(0.03)), 6);	/* <= 0.05 */
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, ns(2.5)), HD_HISTO_BOUNDS - 1);
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, ns(2.5) + 1), HD_HISTO_BOUNDS);
	CU_ASSERT_EQUAL(hd_histo_bucket(&h, UINT64_MAX), HD_HISTO_BOUNDS);
}

static void
test_snapshot_cumulative_with_sum(void)
{
	struct hd_histo h;
	struct hd_histo_snap s;

	hd_histo_init(&h, HZ);
	hd_histo_add(&h, ns(0.0002));	/* le 0.0005 */
	hd_histo_add(&h, ns(0.0002));
	hd_histo_add(&h, ns(0.02));	/* le 0.025 */
	hd_histo_add(&h, ns(3.0));	/* +Inf only */
	hd_histo_read(&h, &s);
	CU_ASSERT_EQUAL(s.le[0], 2);
	CU_ASSERT_EQUAL(s.le[4], 2);	/* le 0.01 */
	CU_ASSERT_EQUAL(s.le[5], 3);	/* le 0.025 */
	CU_ASSERT_EQUAL(s.le[HD_HISTO_BOUNDS - 1], 3);
	CU_ASSERT_EQUAL(s.le[HD_HISTO_BOUNDS], 4);
	CU_ASSERT_EQUAL(s.count, 4);
	CU_ASSERT_DOUBLE_EQUAL(s.sum_s, 0.0002 * 2 + 0.02 + 3.0, 1e-9);
}

static void
test_other_clock_rate(void)
{
	struct hd_histo h;
	struct hd_histo_snap s;

	/* 2.5 GHz TSC: 1 ms is 2.5 M cycles, in the le=0.001 bucket. */
	hd_histo_init(&h, 2500000000ULL);
	hd_histo_add(&h, 2500000);
	hd_histo_read(&h, &s);
	CU_ASSERT_EQUAL(s.le[0], 0);
	CU_ASSERT_EQUAL(s.le[1], 1);
	CU_ASSERT_DOUBLE_EQUAL(s.sum_s, 0.001, 1e-12);
}

static void
test_init_zeroes(void)
{
	struct hd_histo h;
	struct hd_histo_snap s;

	hd_histo_init(&h, HZ);
	hd_histo_add(&h, 5);
	hd_histo_init(&h, HZ);
	hd_histo_read(&h, &s);
	CU_ASSERT_EQUAL(s.count, 0);
	CU_ASSERT_DOUBLE_EQUAL(s.sum_s, 0, 1e-12);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_bounds_are_prometheus_seconds),
		T_CASE(test_bucket_edges),
		T_CASE(test_snapshot_cumulative_with_sum),
		T_CASE(test_other_clock_rate),
		T_CASE(test_init_zeroes),
	};

	return t_run("stats_histo", cases, T_DIM(cases));
}
