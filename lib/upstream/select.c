/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which server a question goes to: the strategies, the smoothed RTT and
 * the health state with its backoff, and the forward-zone match. No I/O
 * and no clock of its own (time is an argument), so tests drive it with a
 * fake clock.
 */
#include <string.h>

#include "upstream_private.h"

void
up_health_ok(struct up_health *h, uint64_t rtt_ms)
{
	if (rtt_ms > UINT32_MAX)
		rtt_ms = UINT32_MAX;
	if (!h->rtt_valid) {
		h->rtt_ms = (uint32_t)rtt_ms;
		h->rtt_valid = 1;
	} else {
		/* EWMA with weight 1/8, as TCP's SRTT. */
		h->rtt_ms = (uint32_t)(((uint64_t)h->rtt_ms * 7 + rtt_ms) / 8);
	}
	h->fails = 0;
	h->down = 0;
	h->backoff_ms = 0;
	h->down_since_ms = 0;
	h->retry_ms = 0;
}

void
up_health_fail(struct up_health *h, uint64_t now_ms)
{
	if (h->down) {
		/* A probe (or a try while all were down) failed: wait longer. */
		h->backoff_ms = h->backoff_ms >= HD_UPSTREAM_BACKOFF_MAX_MS / 2 ?
			HD_UPSTREAM_BACKOFF_MAX_MS : h->backoff_ms * 2;
		h->retry_ms = now_ms + h->backoff_ms;
		return;
	}
	if (h->fails < UINT8_MAX)
		h->fails++;
	if (h->fails < HD_UPSTREAM_FAIL_LIMIT)
		return;
	h->down = 1;
	h->down_since_ms = now_ms;
	h->backoff_ms = HD_UPSTREAM_BACKOFF_MIN_MS;
	h->retry_ms = now_ms + h->backoff_ms;
}

unsigned int
up_group_width(const struct up_group *g)
{
	return g->strategy == HD_UPSTREAM_PARALLEL && g->n >= 2 ? 2 : 1;
}

/* Fastest first; servers never measured before all others, in their order. */
static int
faster(const struct up_health *a, const struct up_health *b)
{
	if (a->rtt_valid != b->rtt_valid)
		return !a->rtt_valid;
	return a->rtt_valid && a->rtt_ms < b->rtt_ms;
}

static void
sort_by_rtt(uint8_t *s, unsigned int n, const struct up_health *hs)
{
	unsigned int i, j;
	uint8_t v;

	/* At most HD_UPSTREAM_GROUP_MAX: insertion sort, stable. */
	for (i = 1; i < n; i++) {
		v = s[i];
		for (j = i; j > 0 && faster(&hs[v], &hs[s[j - 1]]); j--)
			s[j] = s[j - 1];
		s[j] = v;
	}
}

static void
move_to_front(uint8_t *s, unsigned int i)
{
	uint8_t v = s[i];

	memmove(s + 1, s, i);
	s[0] = v;
}

/* Order the servers that are up (@p up, @p n) by the group's strategy. */
static void
order_up(struct up_group *g, uint8_t *up, unsigned int n, const struct up_health *hs)
{
	uint8_t tmp[HD_UPSTREAM_GROUP_MAX];
	unsigned int i, first;

	if (n < 2)
		return;
	switch (g->strategy) {
	case HD_UPSTREAM_ROUND_ROBIN:
		first = g->rr++ % n;
		for (i = 0; i < n; i++)
			tmp[i] = up[(first + i) % n];
		memcpy(up, tmp, n);
		break;
	case HD_UPSTREAM_FASTEST:
	case HD_UPSTREAM_PARALLEL:
		sort_by_rtt(up, n, hs);
		/* A server never measured is already first; otherwise now and
		 * then one of the slower ones goes first to refresh its RTT. */
		if (hs[up[0]].rtt_valid && ++g->seq % UP_PROBE_EVERY == 0)
			move_to_front(up, 1 + g->probe++ % (n - 1));
		break;
	default:	/* strict: the configured order */
		break;
	}
}

unsigned int
up_group_order(struct up_group *g, struct up_health *hs, uint64_t now_ms, uint8_t *order)
{
	uint8_t up[HD_UPSTREAM_GROUP_MAX], due[HD_UPSTREAM_GROUP_MAX], rest[HD_UPSTREAM_GROUP_MAX];
	unsigned int n_up = 0, n_due = 0, n_rest = 0, i, n = 0;

	for (i = 0; i < g->n; i++) {
		uint8_t s = g->servers[i];

		if (!hs[s].down)
			up[n_up++] = s;
		else if (now_ms >= hs[s].retry_ms)
			due[n_due++] = s;
		else
			rest[n_rest++] = s;
	}
	order_up(g, up, n_up, hs);
	/* One probe per question, first: with its attempt cut to a share of
	 * the budget, the client still gets an answer from the others. */
	if (n_due > 0) {
		order[n++] = due[0];
		hs[due[0]].retry_ms = now_ms + hs[due[0]].backoff_ms;
	}
	memcpy(order + n, up, n_up);
	n += n_up;
	/* Never nothing: down servers last, probe-due ones first. */
	if (n_due > 1) {
		memcpy(order + n, due + 1, n_due - 1);
		n += n_due - 1;
	}
	memcpy(order + n, rest, n_rest);
	return n + n_rest;
}

uint64_t
up_attempt_timeout(uint32_t attempt_ms, uint64_t remaining_ms, unsigned int untried)
{
	uint64_t t;

	if (remaining_ms == 0)
		return 0;
	t = remaining_ms / (untried ? untried : 1);
	if (t > attempt_ms)
		t = attempt_ms;
	return t ? t : 1;
}

/* @return 1 when @p zone (wire form) is @p name or a parent of it. */
static int
zone_holds(const uint8_t *zone, size_t zlen, const uint8_t *name, size_t len)
{
	size_t off = 0;

	if (zlen > len)
		return 0;
	/* Walk labels so the suffix starts on a label boundary. */
	while (off < len - zlen && name[off] != 0)
		off += 1 + (size_t)name[off];
	return off == len - zlen && memcmp(name + off, zone, zlen) == 0;
}

unsigned int
up_zone_find(const struct up_group *groups, unsigned int n_groups, const uint8_t *name,
	     size_t len)
{
	unsigned int i, best = 0, best_len = 0;

	for (i = 1; i < n_groups; i++) {
		const struct up_group *g = &groups[i];

		if (g->zone_len > best_len && zone_holds(g->zone, g->zone_len, name, len)) {
			best = i;
			best_len = g->zone_len;
		}
	}
	return best;
}
