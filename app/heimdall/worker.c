/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker lcore: queue <index> of every port that has one for it. Bursts
 * of 32 run to completion through hd_fastpath_handle(): hits go back out
 * in the same mbuf, misses travel to the slow path over the miss ring.
 * Local data and blocklists (the published policy, read once per burst)
 * are applied before the cache. Stale answers and prefetches ask the slow
 * path for a refresh over the refresh ring (a copy of the query from
 * hd_app.refresh_pool).
 * No syscalls (beyond what a PMD does inside rx/tx), no allocation, no
 * locks, no logging.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include "hd_app.h"
#include "hd_clock.h"

struct txbuf {
	uint16_t n;
	struct rte_mbuf *m[2 * HD_APP_BURST];
};

struct worker_state {
	struct hd_worker *w;
	struct hd_stats_lcore *stats;
	uint16_t port_ids[HD_APP_PORTS_MAX];	/* ports with a queue for this worker */
	uint16_t n_ports;
	struct txbuf tx[HD_APP_PORTS_MAX];
};

/* Send what is buffered for @p port; a queue still full after a few tries drops the rest. */
static void
tx_flush(struct worker_state *ws, uint16_t port)
{
	struct txbuf *b = &ws->tx[port];
	uint16_t sent = 0, tries = 0, i;

	while (sent < b->n && tries++ <= HD_APP_TX_RETRIES)
		sent += rte_eth_tx_burst(port, (uint16_t)ws->w->index, b->m + sent, b->n - sent);
	if (likely(sent > 0))
		hd_stats_add(ws->stats, HD_STAT_tx_packets, sent);
	if (unlikely(sent < b->n)) {
		hd_stats_add(ws->stats, HD_STAT_tx_failed, b->n - sent);
		for (i = sent; i < b->n; i++)
			rte_pktmbuf_free(b->m[i]);
	}
	b->n = 0;
}

static inline void
tx_queue(struct worker_state *ws, uint16_t port, struct rte_mbuf *m)
{
	struct txbuf *b = &ws->tx[port];

	if (unlikely(b->n == RTE_DIM(b->m)))
		tx_flush(ws, port);
	b->m[b->n++] = m;
}

static inline void
miss_send(struct worker_state *ws, struct rte_mbuf *m)
{
	/* The slow path sends the reply back through this worker when it has no TX queue. */
	m->hash.usr = ws->w->index;
	if (unlikely(rte_ring_sp_enqueue(ws->w->miss_ring, m) != 0)) {
		hd_stats_inc(ws->stats, HD_STAT_miss_ring_full);
		rte_pktmbuf_free(m);
	}
}

/*
 * Hand the refresh hd_fastpath_handle() asked for (a stale answer went out,
 * or a prefetch is due) to the slow path. A full pool or ring drops it: the
 * entry is still served, and the next hit a second later asks again.
 */
static __rte_noinline void
refresh_send(struct worker_state *ws, const struct hd_fastpath_ctx *ctx)
{
	void *obj;

	if (unlikely(rte_mempool_get(hd_app.refresh_pool, &obj) != 0)) {
		hd_stats_inc(ws->stats, HD_STAT_refresh_dropped);
		return;
	}
	memcpy(obj, &ctx->refresh_q, sizeof(ctx->refresh_q));
	if (unlikely(rte_ring_sp_enqueue(ws->w->refresh_ring, obj) != 0)) {
		rte_mempool_put(hd_app.refresh_pool, obj);
		hd_stats_inc(ws->stats, HD_STAT_refresh_dropped);
	}
}

static inline void
packet_handle(struct worker_state *ws, struct hd_fastpath_ctx *ctx, uint16_t port,
	      struct rte_mbuf *m)
{
	uint16_t out_len = 0, cap;
	enum hd_fp_verdict v;

	/* Frames of several segments are never DNS queries we answer in place. */
	if (unlikely(m->nb_segs != 1)) {
		hd_stats_inc(ws->stats, HD_STAT_rx_packets);
		hd_stats_inc(ws->stats, HD_STAT_dropped);
		rte_pktmbuf_free(m);
		return;
	}
	m->port = port;
	cap = (uint16_t)(rte_pktmbuf_tailroom(m) + m->data_len);
	v = hd_fastpath_handle(ctx, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, cap, &out_len);
	if (unlikely(ctx->refresh_pending))
		refresh_send(ws, ctx);
	switch (v) {
	case HD_FP_TX:
		m->data_len = out_len;
		m->pkt_len = out_len;
		tx_queue(ws, port, m);
		break;
	case HD_FP_MISS:
		miss_send(ws, m);
		break;
	default:
		rte_pktmbuf_free(m);
		break;
	}
}

static void
rx_port(struct worker_state *ws, uint16_t port)
{
	struct hd_fastpath_ctx *ctx = &ws->w->ctx[port];
	struct rte_mbuf *pkts[HD_APP_BURST];
	uint16_t n, i;

	n = rte_eth_rx_burst(port, (uint16_t)ws->w->index, pkts, HD_APP_BURST);
	if (n == 0)
		return;
	ctx->now = hd_clock_sec();
	/* One policy per burst; it stays valid until this loop's quiescent report. */
	ctx->policy = hd_policy_current();
	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		packet_handle(ws, ctx, port, pkts[i]);
	}
	if (ws->tx[port].n > 0)
		tx_flush(ws, port);
}

/* Replies the slow path wrote into mbufs it got from this worker. */
static void
replies_drain(struct worker_state *ws)
{
	struct rte_mbuf *m[HD_APP_BURST];
	unsigned int n, i;
	uint16_t p;

	n = rte_ring_sc_dequeue_burst(ws->w->reply_ring, (void **)m, HD_APP_BURST, NULL);
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		tx_queue(ws, m[i]->port, m[i]);
	for (p = 0; p < ws->n_ports; p++)
		if (ws->tx[ws->port_ids[p]].n > 0)
			tx_flush(ws, ws->port_ids[p]);
}

int
hd_worker_main(void *arg)
{
	static struct worker_state states[RTE_MAX_LCORE];
	struct hd_worker *w = arg;
	struct worker_state *ws = &states[rte_lcore_id()];
	uint16_t port, p;

	ws->w = w;
	ws->stats = &hd_stats_lcores[rte_lcore_id()];
	ws->n_ports = 0;
	RTE_ETH_FOREACH_DEV(port) {
		if (hd_app.ports[port].started && w->index < hd_app.ports[port].n_rxq)
			ws->port_ids[ws->n_ports++] = port;
	}
	rte_rcu_qsbr_thread_register(hd_app.qsv, w->index);
	rte_rcu_qsbr_thread_online(hd_app.qsv, w->index);
	rte_rcu_qsbr_thread_register(hd_app.policy_qsv, w->index);
	rte_rcu_qsbr_thread_online(hd_app.policy_qsv, w->index);

	while (likely(!__atomic_load_n(&hd_app.stop, __ATOMIC_RELAXED))) {
		for (p = 0; p < ws->n_ports; p++)
			rx_port(ws, ws->port_ids[p]);
		replies_drain(ws);
		/* Cache entries this loop looked at may be reclaimed from here on. */
		rte_rcu_qsbr_quiescent(hd_app.qsv, w->index);
		/* So may the policy it used (ctx->policy is reloaded per burst). */
		rte_rcu_qsbr_quiescent(hd_app.policy_qsv, w->index);
	}

	rte_rcu_qsbr_thread_offline(hd_app.policy_qsv, w->index);
	rte_rcu_qsbr_thread_unregister(hd_app.policy_qsv, w->index);
	rte_rcu_qsbr_thread_offline(hd_app.qsv, w->index);
	rte_rcu_qsbr_thread_unregister(hd_app.qsv, w->index);
	return 0;
}
