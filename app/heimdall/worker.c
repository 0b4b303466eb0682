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
#include "hd_querylog.h"

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
	/* Exception path: per data port, its exception port if this worker has a queue on it. */
	int16_t exc_of[HD_APP_PORTS_MAX];
	uint16_t exc_ids[HD_APP_PORTS_MAX];	/* exception ports this worker polls */
	uint16_t n_exc;
	uint32_t loops;
};

/*
 * The tap PMD's RX is a readv() per burst even when nothing waits: poll the
 * kernel's side once every this many loops (a power of two), so an idle
 * exception port costs a loaded worker one syscall per 8 bursts, and the
 * kernel's frames wait a few bursts at most.
 */
#define EXC_POLL_EVERY 8

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

/* Send @p n frames on this worker's queue of @p port; what a full queue refuses is dropped. */
static uint16_t
burst_send(struct worker_state *ws, uint16_t port, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = 0, tries = 0, i;

	while (sent < n && tries++ <= HD_APP_TX_RETRIES)
		sent += rte_eth_tx_burst(port, (uint16_t)ws->w->index, m + sent, n - sent);
	if (unlikely(sent < n)) {
		hd_stats_add(ws->stats, HD_STAT_tx_failed, n - sent);
		for (i = sent; i < n; i++)
			rte_pktmbuf_free(m[i]);
	}
	return sent;
}

/* Frames for the kernel buffered for exception port @p exc (counted in to_kernel already). */
static void
kernel_flush(struct worker_state *ws, uint16_t exc)
{
	struct txbuf *b = &ws->tx[exc];

	burst_send(ws, exc, b->m, b->n);
	b->n = 0;
}

/* HD_FP_KERNEL: the frame goes unchanged to the exception port of @p port. */
static __rte_noinline void
kernel_queue(struct worker_state *ws, uint16_t port, struct rte_mbuf *m)
{
	int exc = ws->exc_of[port];
	struct txbuf *b;

	/* The exception port offers fewer queues than the data port: no way to the kernel. */
	if (unlikely(exc < 0)) {
		hd_stats_inc(ws->stats, HD_STAT_tx_failed);
		rte_pktmbuf_free(m);
		return;
	}
	b = &ws->tx[exc];
	if (unlikely(b->n == RTE_DIM(b->m)))
		kernel_flush(ws, (uint16_t)exc);
	b->m[b->n++] = m;
}

/*
 * What the kernel sends on exception port @p exc leaves through its data
 * port as it is: the kernel wrote the whole frame, with the data port's MAC
 * as its source. A frame of several segments (kernel MTU above what one
 * mbuf holds) is dropped: the data port's TX is set up for single segments.
 */
static void
kernel_rx(struct worker_state *ws, uint16_t exc)
{
	struct rte_mbuf *pkts[HD_APP_BURST];
	uint16_t n, i, k = 0;

	n = rte_eth_rx_burst(exc, (uint16_t)ws->w->index, pkts, HD_APP_BURST);
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		if (unlikely(pkts[i]->nb_segs != 1)) {
			hd_stats_inc(ws->stats, HD_STAT_dropped);
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		pkts[k++] = pkts[i];
	}
	hd_stats_add(ws->stats, HD_STAT_from_kernel, k);
	if (k > 0)
		burst_send(ws, (uint16_t)hd_app.ports[exc].data_port, pkts, k);
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
	case HD_FP_KERNEL:
		kernel_queue(ws, port, m);
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
	/* The burst's query log records, published at once (one shared-line write per burst). */
	if (ctx->log != NULL)
		hd_querylog_fp_flush(ctx->log_arg);
	if (ws->tx[port].n > 0)
		tx_flush(ws, port);
	if (unlikely(ws->exc_of[port] >= 0) && ws->tx[ws->exc_of[port]].n > 0)
		kernel_flush(ws, (uint16_t)ws->exc_of[port]);
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

/* Which data ports this worker can hand to the kernel: those whose exception port it polls. */
static void
exceptions_map(struct worker_state *ws)
{
	uint16_t i, k = 0;
	int d;

	for (i = 0; i < ws->n_exc; i++) {
		d = hd_app.ports[ws->exc_ids[i]].data_port;
		/* kernel_rx() sends on this worker's TX queue of the data port: it must have one. */
		if (d < 0 || d >= HD_APP_PORTS_MAX || ws->w->index >= hd_app.ports[d].n_rxq)
			continue;
		ws->exc_of[d] = (int16_t)ws->exc_ids[i];
		ws->exc_ids[k++] = ws->exc_ids[i];
	}
	ws->n_exc = k;
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
	ws->n_exc = 0;
	RTE_ETH_FOREACH_DEV(port) {
		ws->exc_of[port] = -1;
		if (!hd_app.ports[port].started || w->index >= hd_app.ports[port].n_rxq)
			continue;
		if (hd_app.ports[port].mode == HD_PORT_EXCEPTION)
			ws->exc_ids[ws->n_exc++] = port;
		else
			ws->port_ids[ws->n_ports++] = port;
	}
	exceptions_map(ws);
	rte_rcu_qsbr_thread_register(hd_app.qsv, w->index);
	rte_rcu_qsbr_thread_online(hd_app.qsv, w->index);
	rte_rcu_qsbr_thread_register(hd_app.policy_qsv, w->index);
	rte_rcu_qsbr_thread_online(hd_app.policy_qsv, w->index);

	while (likely(!__atomic_load_n(&hd_app.stop, __ATOMIC_RELAXED))) {
		for (p = 0; p < ws->n_ports; p++)
			rx_port(ws, ws->port_ids[p]);
		if (unlikely(ws->n_exc > 0) && (++ws->loops & (EXC_POLL_EVERY - 1)) == 0)
			for (p = 0; p < ws->n_exc; p++)
				kernel_rx(ws, ws->exc_ids[p]);
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
