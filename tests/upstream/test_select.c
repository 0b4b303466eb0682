/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/upstream's selection logic on its own (select.c): strategies, the
 * smoothed RTT, health with its backoff, the attempt timeout share and the
 * forward-zone match, driven by a fake clock (time is an argument).
 */
#include <string.h>

#include <CUnit/Basic.h>

#include "upstream_private.h"
#include "../hd_test.h"

static struct up_health hs[HD_UPSTREAM_MAX];

static void
group_init(struct up_group *g, unsigned int n, enum hd_upstream_strategy st)
{
	unsigned int i;

	memset(g, 0, sizeof(*g));
	memset(hs, 0, sizeof(hs));
	for (i = 0; i < n; i++)
		g->servers[i] = (uint8_t)i;
	g->n = (uint8_t)n;
	g->strategy = (uint8_t)st;
}

static unsigned int
first(struct up_group *g, uint64_t now)
{
	uint8_t o[HD_UPSTREAM_GROUP_MAX];

	CU_ASSERT_FATAL(up_group_order(g, hs, now, o) == g->n);
	return o[0];
}

static void
fail_n(unsigned int s, unsigned int n, uint64_t now)
{
	while (n--)
		up_health_fail(&hs[s], now);
}

static void
test_down_after_three(void)
{
	struct up_group g;

	group_init(&g, 2, HD_UPSTREAM_STRICT);
	fail_n(0, 2, 1000);
	CU_ASSERT(!hs[0].down);
	CU_ASSERT(first(&g, 1000) == 0);
	/* A success in between starts the count again. */
	up_health_ok(&hs[0], 10);
	fail_n(0, 2, 1000);
	CU_ASSERT(!hs[0].down);
	up_health_fail(&hs[0], 1000);
	CU_ASSERT(hs[0].down);
	CU_ASSERT(hs[0].down_since_ms == 1000);
	CU_ASSERT(hs[0].backoff_ms == HD_UPSTREAM_BACKOFF_MIN_MS);
	/* Skipped while its backoff runs, but still last in the order. */
	CU_ASSERT(first(&g, 1500) == 1);
	CU_ASSERT(first(&g, 1999) == 1);
	/* Recovery: one success brings it back first. */
	up_health_ok(&hs[0], 10);
	CU_ASSERT(!hs[0].down && hs[0].fails == 0);
	CU_ASSERT(first(&g, 2000) == 0);
}

static void
test_probe_once_per_backoff(void)
{
	uint8_t o[HD_UPSTREAM_GROUP_MAX];
	struct up_group g;

	group_init(&g, 2, HD_UPSTREAM_STRICT);
	fail_n(0, 3, 0);
	/* At the end of the backoff one question probes it, first... */
	CU_ASSERT(up_group_order(&g, hs, 1000, o) == 2);
	CU_ASSERT(o[0] == 0 && o[1] == 1);
	/* ...and the next ones do not, until the backoff runs again. */
	CU_ASSERT(first(&g, 1000) == 1);
	CU_ASSERT(first(&g, 1999) == 1);
	CU_ASSERT(first(&g, 2000) == 0);
}

static void
test_backoff_doubles_to_max(void)
{
	static const uint32_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
	uint64_t now = 0;
	unsigned int i;

	memset(hs, 0, sizeof(hs));
	fail_n(0, 3, now);
	for (i = 0; i < RTE_DIM(want); i++) {
		CU_ASSERT(hs[0].backoff_ms == want[i]);
		CU_ASSERT(hs[0].retry_ms == now + want[i]);
		now += hs[0].backoff_ms;
		up_health_fail(&hs[0], now);	/* the probe fails */
	}
	CU_ASSERT(hs[0].down);
	CU_ASSERT(hs[0].down_since_ms == 0);	/* down since the first time */
	up_health_ok(&hs[0], 5);
	CU_ASSERT(!hs[0].down && hs[0].backoff_ms == 0);
	/* Down again later: the backoff starts over at 1 s. */
	fail_n(0, 3, now);
	CU_ASSERT(hs[0].backoff_ms == HD_UPSTREAM_BACKOFF_MIN_MS);
}

static void
test_all_down_still_asked(void)
{
	uint8_t o[HD_UPSTREAM_GROUP_MAX];
	struct up_group g;
	unsigned int i, seen = 0;

	group_init(&g, 3, HD_UPSTREAM_FASTEST);
	for (i = 0; i < 3; i++)
		fail_n(i, 3, 100);
	CU_ASSERT(up_group_order(&g, hs, 200, o) == 3);
	for (i = 0; i < 3; i++)
		seen |= 1u << o[i];
	CU_ASSERT(seen == 7);
}

static void
test_strict_and_round_robin(void)
{
	uint8_t o[HD_UPSTREAM_GROUP_MAX];
	struct up_group g;
	unsigned int i;

	group_init(&g, 3, HD_UPSTREAM_STRICT);
	for (i = 0; i < 5; i++) {
		CU_ASSERT(up_group_order(&g, hs, i, o) == 3);
		CU_ASSERT(o[0] == 0 && o[1] == 1 && o[2] == 2);
	}
	group_init(&g, 3, HD_UPSTREAM_ROUND_ROBIN);
	for (i = 0; i < 6; i++) {
		CU_ASSERT(up_group_order(&g, hs, i, o) == 3);
		CU_ASSERT(o[0] == i % 3 && o[1] == (i + 1) % 3 && o[2] == (i + 2) % 3);
	}
	/* A down server leaves the rotation (but stays last). */
	fail_n(1, 3, 0);
	for (i = 0; i < 4; i++) {
		CU_ASSERT(up_group_order(&g, hs, 10, o) == 3);
		CU_ASSERT(o[0] != 1 && o[1] != 1 && o[2] == 1);
	}
}

static void
test_ewma(void)
{
	memset(hs, 0, sizeof(hs));
	up_health_ok(&hs[0], 100);
	CU_ASSERT(hs[0].rtt_valid && hs[0].rtt_ms == 100);
	up_health_ok(&hs[0], 20);
	CU_ASSERT(hs[0].rtt_ms == 90);		/* 100 * 7/8 + 20/8 */
	up_health_ok(&hs[0], 90);
	CU_ASSERT(hs[0].rtt_ms == 90);
}

static void
test_fastest(void)
{
	uint8_t o[HD_UPSTREAM_GROUP_MAX];
	unsigned int i, probes = 0, probed = 0;
	struct up_group g;

	group_init(&g, 3, HD_UPSTREAM_FASTEST);
	up_health_ok(&hs[0], 50);
	up_health_ok(&hs[2], 10);
	/* Never measured: tried first, once it has a sample it takes its place. */
	CU_ASSERT(up_group_order(&g, hs, 0, o) == 3);
	CU_ASSERT(o[0] == 1 && o[1] == 2 && o[2] == 0);
	up_health_ok(&hs[1], 30);
	CU_ASSERT(up_group_order(&g, hs, 0, o) == 3);
	CU_ASSERT(o[0] == 2 && o[1] == 1 && o[2] == 0);
	/* 1 in 32 questions goes to a slower server first, in turn. */
	g.seq = 0;
	for (i = 0; i < 4 * UP_PROBE_EVERY; i++) {
		CU_ASSERT(up_group_order(&g, hs, 0, o) == 3);
		if (o[0] != 2) {
			probes++;
			probed |= 1u << o[0];
		}
	}
	CU_ASSERT(probes == 4);
	CU_ASSERT(probed == ((1u << 0) | (1u << 1)));
	CU_ASSERT(up_group_width(&g) == 1);
	g.strategy = HD_UPSTREAM_PARALLEL;
	CU_ASSERT(up_group_width(&g) == 2);
	g.n = 1;
	CU_ASSERT(up_group_width(&g) == 1);
}

static void
test_attempt_timeout(void)
{
	CU_ASSERT(up_attempt_timeout(800, 2500, 2) == 800);
	CU_ASSERT(up_attempt_timeout(800, 1000, 3) == 333);
	CU_ASSERT(up_attempt_timeout(800, 300, 1) == 300);
	CU_ASSERT(up_attempt_timeout(800, 5, 10) == 1);
	CU_ASSERT(up_attempt_timeout(800, 0, 1) == 0);
	CU_ASSERT(up_attempt_timeout(800, 2500, 0) == 800);
}

static void
zone_set(struct up_group *g, const char *name)
{
	int len;

	memset(g, 0, sizeof(*g));
	len = hd_dns_name_from_str(name, g->zone);
	CU_ASSERT_FATAL(len > 1);
	g->zone_len = (uint8_t)len;
}

static unsigned int
zone_of(const struct up_group *gs, unsigned int n, const char *name)
{
	uint8_t w[HD_DNS_NAME_MAX];
	int len = hd_dns_name_from_str(name, w);

	CU_ASSERT_FATAL(len > 0);
	return up_zone_find(gs, n, w, (size_t)len);
}

static void
test_zone_longest_suffix(void)
{
	struct up_group gs[4];

	memset(&gs[0], 0, sizeof(gs[0]));
	zone_set(&gs[1], "lan");
	zone_set(&gs[2], "sub.lan");
	zone_set(&gs[3], "168.192.in-addr.arpa");
	CU_ASSERT(zone_of(gs, 4, "host.sub.lan") == 2);
	CU_ASSERT(zone_of(gs, 4, "sub.lan") == 2);
	CU_ASSERT(zone_of(gs, 4, "host.lan") == 1);
	CU_ASSERT(zone_of(gs, 4, "lan") == 1);
	CU_ASSERT(zone_of(gs, 4, "xsub.lan") == 1);	/* a label boundary, not bytes */
	CU_ASSERT(zone_of(gs, 4, "plan") == 0);
	CU_ASSERT(zone_of(gs, 4, "lan.example") == 0);
	CU_ASSERT(zone_of(gs, 4, "1.2.168.192.in-addr.arpa") == 3);
	CU_ASSERT(zone_of(gs, 4, "1.2.169.192.in-addr.arpa") == 0);
	CU_ASSERT(zone_of(gs, 4, ".") == 0);
	/* The order zones are given in does not matter. */
	gs[1] = gs[2];
	zone_set(&gs[2], "lan");
	CU_ASSERT(zone_of(gs, 3, "a.sub.lan") == 1);
	CU_ASSERT(zone_of(gs, 3, "a.lan") == 2);
}

int
main(void)
{
	static const struct t_case cases[] = {
		{ "down after three failures, up after a success", test_down_after_three },
		{ "one probe per backoff", test_probe_once_per_backoff },
		{ "backoff doubles from 1 s to 60 s", test_backoff_doubles_to_max },
		{ "all down: every server still asked", test_all_down_still_asked },
		{ "strict and round robin", test_strict_and_round_robin },
		{ "RTT EWMA 1/8", test_ewma },
		{ "fastest: unmeasured first, probes", test_fastest },
		{ "attempt timeout shares the budget", test_attempt_timeout },
		{ "forward zone: longest suffix", test_zone_longest_suffix },
	};

	return t_run("upstream_select", cases, T_DIM(cases));
}
