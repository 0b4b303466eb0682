/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_HISTO_H
#define HD_HISTO_H

/**
 * @file
 * A latency histogram with fixed bounds (seconds, roughly 1-2.5-5 per
 * decade, as Prometheus' default buckets), kept in TSC cycles. One writer
 * (relaxed atomic stores: a compare per bound and two adds, no division);
 * any number of readers take a snapshot with relaxed loads.
 */

#include <stdint.h>

#define HD_HISTO_BOUNDS 12

/** @return the upper bound of bucket @p i (< HD_HISTO_BOUNDS) in seconds. */
static inline double
hd_histo_bound_s(unsigned int i)
{
	static const double bounds[HD_HISTO_BOUNDS] = {
		0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	};

	return bounds[i];
}

struct hd_histo {
	uint64_t bound[HD_HISTO_BOUNDS];	/**< bounds in cycles, set by init */
	uint64_t hz;
	uint64_t bucket[HD_HISTO_BOUNDS + 1];	/**< not cumulative; last: above every bound */
	uint64_t sum;				/**< cycles */
};

/** A reader's copy, cumulative as Prometheus shows it. */
struct hd_histo_snap {
	uint64_t le[HD_HISTO_BOUNDS + 1];	/**< le[i]: observations <= bound i; last: count */
	double sum_s;
	uint64_t count;
};

/** Set the bounds for a clock of @p hz cycles per second and zero the counts. */
static inline void
hd_histo_init(struct hd_histo *h, uint64_t hz)
{
	unsigned int i;

	for (i = 0; i < HD_HISTO_BOUNDS; i++)
		h->bound[i] = (uint64_t)(hd_histo_bound_s(i) * (double)hz);
	for (i = 0; i <= HD_HISTO_BOUNDS; i++)
		__atomic_store_n(&h->bucket[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sum, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&h->hz, hz, __ATOMIC_RELEASE);
}

/** @return the bucket of a duration of @p cycles (HD_HISTO_BOUNDS: above every bound). */
static inline unsigned int
hd_histo_bucket(const struct hd_histo *h, uint64_t cycles)
{
	unsigned int i = 0;

	while (i < HD_HISTO_BOUNDS && cycles > h->bound[i])
		i++;
	return i;
}

/** Record one observation of @p cycles. Single writer. */
static inline void
hd_histo_add(struct hd_histo *h, uint64_t cycles)
{
	unsigned int i = hd_histo_bucket(h, cycles);

	__atomic_store_n(&h->bucket[i], h->bucket[i] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sum, h->sum + cycles, __ATOMIC_RELAXED);
}

/**
 * Copy @p h. The count is the sum of the buckets read, so the +Inf bucket
 * always equals it even while the writer runs.
 */
static inline void
hd_histo_read(const struct hd_histo *h, struct hd_histo_snap *s)
{
	uint64_t hz = __atomic_load_n(&h->hz, __ATOMIC_ACQUIRE);
	uint64_t acc = 0;
	unsigned int i;

	for (i = 0; i <= HD_HISTO_BOUNDS; i++) {
		acc += __atomic_load_n(&h->bucket[i], __ATOMIC_RELAXED);
		s->le[i] = acc;
	}
	s->count = acc;
	s->sum_s = hz != 0 ? (double)__atomic_load_n(&h->sum, __ATOMIC_RELAXED) / (double)hz : 0;
}

#endif /* HD_HISTO_H */
