/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker side of the query log and the store the API reads.
 *
 * Ring: one producer (a worker) and one consumer (the drain thread). The
 * producer owns head, its counters and a cached copy of tail on a line the
 * consumer never reads; it writes records in place (no copy through a
 * stack record) and publishes them with one release store of `published`
 * per burst (hd_querylog_fp_flush()), not per record: with the consumer on
 * another core, every write to a line the consumer has read costs a
 * cross-core transfer, so a per-record publish was most of the log's cost.
 * The producer reads the consumer's line only when its cached tail says
 * the ring is full.
 *
 * Sampling: the consumer measures the fill it found at each drain and sets
 * sample_n (keep 1 query in N). A worker pays one relaxed load for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_prefetch.h>

#include "hd_querylog.h"

struct hd_querylog_ring *
hd_querylog_ring_create(uint32_t size, int socket, uint16_t lcore, int anon)
{
	struct hd_querylog_ring *r;
	size_t bytes;
	void *mem;

	/*
	 * Plain memory, not hugepages: nothing here is DMA'd, and the rings
	 * would otherwise take a large share of a small -m budget.
	 */
	RTE_SET_USED(socket);
	if (size < 2 || !rte_is_power_of_2(size) || anon < HD_QUERYLOG_ANON_NONE ||
	    anon > HD_QUERYLOG_ANON_HIDE) {
		rte_errno = EINVAL;
		return NULL;
	}
	bytes = sizeof(*r) + (size_t)size * sizeof(struct hd_querylog_rec);
	if (posix_memalign(&mem, RTE_CACHE_LINE_SIZE, bytes) != 0) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(mem, 0, bytes);
	r = mem;
	r->mask = size - 1;
	r->cmask = size - 1;
	r->lcore = lcore;
	r->anon = (uint8_t)anon;
	r->sample_n = 1;
	return r;
}

void
hd_querylog_ring_free(struct hd_querylog_ring *r)
{
	free(r);
}

static void
sampling_adapt(struct hd_querylog_ring *r, uint32_t fill)
{
	/* cmask, not mask: reading the producer's line here would cost it a transfer per drain. */
	uint64_t size = (uint64_t)r->cmask + 1;
	uint32_t n = r->sample_n;

	if ((uint64_t)fill * 8 > size * HD_QUERYLOG_HIGH_EIGHTHS)
		n = RTE_MIN(n * 2, (uint32_t)HD_QUERYLOG_SAMPLE_MAX);
	else if ((uint64_t)fill * 8 < size * HD_QUERYLOG_LOW_EIGHTHS && n > 1)
		n /= 2;
	if (n != r->sample_n)
		__atomic_store_n(&r->sample_n, n, __ATOMIC_RELAXED);
}

/* Move up to @p max records, leaving the newest @p lag published ones. */
static unsigned int
drain(struct hd_querylog_ring *r, struct hd_querylog_rec *out, unsigned int max, uint32_t lag)
{
	uint32_t head = __atomic_load_n(&r->published, __ATOMIC_ACQUIRE);
	uint32_t tail = r->tail, fill = head - tail, n, i;

	n = fill > lag ? RTE_MIN(fill - lag, max) : 0;
	/* Published slots only: the producer is done with them (no line is shared mid-write). */
	for (i = 0; i < n; i++)
		out[i] = r->slots[(tail + i) & r->cmask];
	/* The slots read above may be reused from here on. */
	if (n > 0)
		__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
	sampling_adapt(r, fill);
	return n;
}

unsigned int
hd_querylog_ring_drain(struct hd_querylog_ring *r, struct hd_querylog_rec *out,
		       unsigned int max)
{
	return drain(r, out, max, 0);
}

unsigned int
hd_querylog_ring_drain_behind(struct hd_querylog_ring *r, struct hd_querylog_rec *out,
			      unsigned int max)
{
	return drain(r, out, max, HD_QUERYLOG_DRAIN_LAG);
}

void
hd_querylog_ring_stats(const struct hd_querylog_ring *r, struct hd_querylog_ring_stats *s)
{
	s->records = __atomic_load_n(&r->st.records, __ATOMIC_RELAXED);
	s->dropped = __atomic_load_n(&r->st.dropped, __ATOMIC_RELAXED);
	s->sampled_out = __atomic_load_n(&r->st.sampled_out, __ATOMIC_RELAXED);
}

static const uint8_t outcome_status[] = {
	[HD_FP_OUT_HIT] = HD_QUERYLOG_CACHED,
	[HD_FP_OUT_STALE] = HD_QUERYLOG_STALE,
	[HD_FP_OUT_LOCAL] = HD_QUERYLOG_LOCAL,
	[HD_FP_OUT_BLOCKED] = HD_QUERYLOG_BLOCKED,
	[HD_FP_OUT_CNAME_BLOCKED] = HD_QUERYLOG_CNAME_BLOCKED,
	[HD_FP_OUT_REJECTED] = HD_QUERYLOG_REJECTED,
};

void
hd_querylog_fp_log(void *arg, const struct hd_fp_log *e)
{
	struct hd_querylog_ring *r = arg;
	struct hd_querylog_rec *rec = hd_querylog_ring_reserve(r);

	if (rec == NULL)
		return;
	rec->time = rte_rdtsc();
	rec->flags = 0;
	hd_querylog_rec_client(rec, e->client, e->ipv6);
	/* Here, so the worker's ring never holds more of the address than allowed. */
	if (r->anon != HD_QUERYLOG_ANON_NONE)
		hd_querylog_anonymize(rec, r->anon);
	rec->qtype = e->qtype;
	rec->list = e->list;
	rec->lcore = r->lcore;
	rec->latency_ms = 0;
	rec->status = e->outcome < RTE_DIM(outcome_status) ? outcome_status[e->outcome]
							    : HD_QUERYLOG_CACHED;
	rec->rcode = e->rcode;
	hd_querylog_rec_name(rec, e->lname, e->lname_len);
	hd_querylog_ring_stage(r);
	/*
	 * The next slot was last read by the drain thread on another core:
	 * ask for its two lines now, so the write of the next record does not
	 * wait for them.
	 */
	rec = &r->slots[r->head & r->mask];
	rte_prefetch0_write(rec);
	rte_prefetch0_write((uint8_t *)rec + RTE_CACHE_LINE_SIZE);
}

/* ---- the store: the last N drained records ---- */

struct hd_querylog_store {
	uint32_t capacity;
	uint32_t count;
	uint32_t next;			/* slot the next record goes to */
	struct hd_querylog_rec *recs;
};

struct hd_querylog_store *
hd_querylog_store_create(uint32_t capacity)
{
	struct hd_querylog_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		goto nomem;
	s->capacity = capacity;
	if (capacity > 0) {
		s->recs = calloc(capacity, sizeof(*s->recs));
		if (s->recs == NULL)
			goto nomem;
	}
	return s;
nomem:
	free(s);
	rte_errno = ENOMEM;
	return NULL;
}

void
hd_querylog_store_free(struct hd_querylog_store *s)
{
	if (s == NULL)
		return;
	free(s->recs);
	free(s);
}

void
hd_querylog_store_add(struct hd_querylog_store *s, const struct hd_querylog_rec *r)
{
	if (s->capacity == 0)
		return;
	s->recs[s->next] = *r;
	s->next = s->next + 1 == s->capacity ? 0 : s->next + 1;
	if (s->count < s->capacity)
		s->count++;
}

unsigned int
hd_querylog_store_walk(const struct hd_querylog_store *s, const struct hd_querylog_filter *f,
		       unsigned int limit,
		       int (*fn)(void *arg, const struct hd_querylog_rec *r), void *arg)
{
	unsigned int seen = 0;
	uint32_t k, idx;

	for (k = 0; k < s->count && seen < limit; k++) {
		idx = s->next >= k + 1 ? s->next - k - 1 : s->capacity + s->next - k - 1;
		if (f != NULL && !hd_querylog_filter_match(f, &s->recs[idx]))
			continue;
		seen++;
		if (fn(arg, &s->recs[idx]) != 0)
			break;
	}
	return seen;
}

uint32_t
hd_querylog_store_count(const struct hd_querylog_store *s)
{
	return s->count;
}
