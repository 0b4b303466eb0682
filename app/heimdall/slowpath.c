/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path, on the main lcore: takes the workers' misses, answers from
 * the cache when the answer arrived meanwhile, otherwise asks an upstream
 * (lib/upstream, epoll over kernel sockets) and writes the reply into the
 * client's own mbuf when the answer comes back. It is the cache's only
 * writer, so it also runs the cache's reclaim and expiry. Upstream answers
 * (and cached ones it serves) go through the policy's CNAME-cloaking check
 * for the client; DNS-over-TCP clients get local data and blocking through
 * lib/upstream's policy hook.
 *
 * It also takes the workers' refresh requests (stale answers served,
 * prefetches): each goes upstream like a miss but with no client, so the
 * answer only refills the cache. When every upstream fails, a client gets
 * the expired cache entry (serve-stale, RFC 8767) instead of SERVFAIL.
 *
 * Replies leave through the port's extra TX queue when the PMD gave one;
 * otherwise (af_xdp, af_packet with one queue pair) they go back to the
 * worker that received the query, over its reply ring, and that worker
 * transmits them on its own queue: a TX queue is never shared by two
 * lcores.
 *
 * With a redis URL configured, the cluster's Redis is a second-level cache
 * (lib/replica): a local miss asks Redis first and goes upstream only when
 * Redis has no valid entry, is down, or takes longer than redis-timeout-ms;
 * a Redis hit is answered and cached locally with the time it has left.
 * Every answer an upstream gives is written to Redis. Redis is polled
 * without waiting, so its being slow or down never stops the answers.
 * The cluster's membership and control sync (cluster.c) use the same
 * client from the 100 ms timer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

#include "hd_app.h"
#include "hd_clock.h"
#include "hd_histo.h"
#include "hd_http.h"
#include "hd_querylog.h"
#include "hd_replica.h"
#include "cluster.h"

#define TIMER_MS	100
#define EXPIRE_BUDGET	1024

static struct hd_stats_lcore *sp_stats;
/*
 * Offset of an mbuf field holding the TSC when the slow path took the miss
 * off its ring, for /metrics' answer-time histogram; -1: not timed.
 */
static int miss_tsc_off = -1;
/* The cluster's Redis; NULL without a redis URL. */
static struct hd_replica *replica;
static struct hd_cluster_snap cl_snap;
/* cl_snap.redis_addr is a string: copied under this lock, the rest are atomics. */
static pthread_mutex_t cl_addr_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * The last answer written to Redis: the clients waiting on one upstream
 * question all get the same answer, which needs writing once. The store
 * time and expiry are compared too, so a new answer that happens to reuse
 * a freed one's address is still written.
 */
static const struct hd_dns_answer *last_written;
static uint32_t last_written_stored, last_written_expires;
static struct hd_cache_key last_written_key;

static void
reply_send(struct hd_app *app, struct rte_mbuf *m)
{
	const struct hd_port *p = &app->ports[m->port];
	uint16_t sent = 0, tries = 0;

	if (p->slow_txq >= 0) {
		while (sent == 0 && tries++ <= HD_APP_TX_RETRIES)
			sent = rte_eth_tx_burst(m->port, (uint16_t)p->slow_txq, &m, 1);
		if (sent == 1) {
			hd_stats_inc(sp_stats, HD_STAT_tx_packets);
			return;
		}
	} else if (rte_ring_sp_enqueue(app->workers[m->hash.usr].reply_ring, m) == 0) {
		/* The worker counts it when it goes out. */
		return;
	}
	hd_stats_inc(sp_stats, HD_STAT_tx_failed);
	rte_pktmbuf_free(m);
}

/*
 * Write the reply (answer @p a, or @p rcode without records) into @p m and
 * send it; @p stale_ttl non-zero: @p a is past its expiry, every TTL says that.
 */
static void
reply_finish(struct hd_app *app, struct rte_mbuf *m, const struct hd_dns_answer *a, int rcode,
	     uint32_t stale_ttl, unsigned int ql_status)
{
	uint16_t cap = (uint16_t)(rte_pktmbuf_tailroom(m) + m->data_len);
	uint64_t taken = miss_tsc_off >= 0 ? *RTE_MBUF_DYNFIELD(m, miss_tsc_off, uint64_t *) : 0;
	/* The query log reads the query before the reply overwrites it (ql_status: its status). */
	struct hd_querylog_rec *qlr = hd_querylog_slow_begin(m, ql_status, taken);
	int len;

	/* The answer is cached as it is; this client may still be blocked from it (cloaking). */
	len = hd_fastpath_reply_policy(&app->fp_conf[m->port], sp_stats, hd_policy_current(),
				       hd_policy_slow_hits(), rte_pktmbuf_mtod(m, uint8_t *),
				       m->data_len, cap, a, rcode, hd_clock_sec(), stale_ttl);
	hd_querylog_slow_end(qlr, m, len);
	if (len < 0) {
		hd_stats_inc(sp_stats, HD_STAT_dropped);
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	reply_send(app, m);
	if (taken != 0)
		hd_histo_add(&hd_metrics_answer_histo, rte_rdtsc() - taken);
}

/*
 * Every upstream failed for @p q: answer from the cache past expiry when it
 * still holds the entry (RFC 8767), or fresh when an identical question
 * filled it meanwhile. @return 0 when answered.
 */
static int
reply_stale(struct hd_app *app, struct rte_mbuf *m, const struct hd_dns_query *q)
{
	const struct hd_dns_answer *a;
	struct hd_cache_key k;
	int stale = 0;

	if (!app->cfg.serve_stale || app->cfg.stale_window == 0)
		return -ENOENT;
	hd_cache_key_from_query(&k, q);
	a = hd_cache_lookup(app->cache, &k, hd_clock_sec(), &stale);
	if (a == NULL)
		return -ENOENT;
	if (stale)
		hd_stats_inc(sp_stats, HD_STAT_stale_answers);
	reply_finish(app, m, a, HD_DNS_RCODE_NOERROR, stale ? app->cfg.stale_ttl : 0,
		     stale ? HD_QUERYLOG_STALE : HD_QUERYLOG_CACHED);
	return 0;
}

/* Copy an upstream answer to Redis, once per answer. */
static void
replica_write(const struct hd_dns_query *q, const struct hd_dns_answer *a)
{
	struct hd_cache_key k;

	hd_cache_key_from_query(&k, q);
	if (a == last_written && a->stored == last_written_stored &&
	    a->expires == last_written_expires &&
	    memcmp(&k, &last_written_key, sizeof(k)) == 0)
		return;
	last_written = a;
	last_written_stored = a->stored;
	last_written_expires = a->expires;
	last_written_key = k;
	/* -ESTALE: an answer with nothing left to keep (TTL 0) is not shared. */
	(void)hd_replica_write(replica, &k, a, hd_clock_sec());
}

static void
upstream_done(void *arg, void *client, const struct hd_dns_query *q,
	      const struct hd_dns_answer *a, int rcode)
{
	struct hd_app *app = arg;
	struct rte_mbuf *m = client;

	if (replica != NULL && a != NULL)
		replica_write(q, a);

	/* A refresh: lib/upstream has cached the answer; nobody to reply to. */
	if (client == HD_APP_REFRESH)
		return;
	/* At shutdown the workers and reply rings are gone: nobody to send to. */
	if (app->stopping) {
		rte_pktmbuf_free(m);
		return;
	}
	if (a == NULL && rcode == HD_DNS_RCODE_SERVFAIL && reply_stale(app, m, q) == 0)
		return;
	reply_finish(app, m, a, rcode, 0, a == NULL && rcode == HD_DNS_RCODE_SERVFAIL ?
		     HD_QUERYLOG_SERVFAIL : HD_QUERYLOG_FORWARDED);
}

/* Ask the upstreams for @p q on behalf of client @p m. */
static void
upstream_ask(struct hd_app *app, struct rte_mbuf *m, const struct hd_dns_query *q)
{
	if (hd_upstream_resolve(app->upstream, q, m) < 0 && reply_stale(app, m, q) != 0)
		reply_finish(app, m, NULL, HD_DNS_RCODE_SERVFAIL, 0, HD_QUERYLOG_SERVFAIL);
}

/* Redis answered (@p a) or not (NULL) a miss of client @p ctx. */
static void
l2_done(void *arg, void *ctx, const struct hd_dns_query *q, struct hd_dns_answer *a)
{
	struct hd_app *app = arg;
	struct rte_mbuf *m = ctx;
	struct hd_cache_key k;

	if (app->stopping) {
		free(a);
		rte_pktmbuf_free(m);
		return;
	}
	if (a == NULL) {
		upstream_ask(app, m, q);
		return;
	}
	reply_finish(app, m, a, HD_DNS_RCODE_NOERROR, 0, HD_QUERYLOG_REPLICA);
	/* The cache takes @p a in every case; the next client is answered by a worker. */
	hd_cache_key_from_query(&k, q);
	(void)hd_cache_insert(app->cache, &k, a, a->stored);
}

static void
miss_handle(struct hd_app *app, struct rte_mbuf *m)
{
	const struct hd_fastpath_conf *conf = &app->fp_conf[m->port];
	const struct hd_dns_answer *a;
	struct hd_dns_query q;
	struct hd_cache_key k;

	if (miss_tsc_off >= 0)
		*RTE_MBUF_DYNFIELD(m, miss_tsc_off, uint64_t *) = rte_rdtsc();
	/* The worker classified and parsed this frame; it cannot fail unless corrupted. */
	if (hd_fastpath_query(conf, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &q) < 0) {
		hd_stats_inc(sp_stats, HD_STAT_dropped);
		rte_pktmbuf_free(m);
		return;
	}
	/* An earlier miss for the same question may have filled the cache since. */
	hd_cache_key_from_query(&k, &q);
	a = hd_cache_lookup(app->cache, &k, hd_clock_sec(), NULL);
	if (a != NULL) {
		reply_finish(app, m, a, HD_DNS_RCODE_NOERROR, 0, HD_QUERYLOG_CACHED);
		return;
	}
	/* Down, or too busy: straight upstream. */
	if (replica != NULL && hd_replica_get(replica, &q, l2_done, app, m) == 0)
		return;
	upstream_ask(app, m, &q);
}

static unsigned int
misses_take(struct hd_app *app)
{
	struct rte_mbuf *m[HD_APP_BURST];
	unsigned int w, n, i, total = 0;

	for (w = 0; w < app->n_workers; w++) {
		n = rte_ring_sc_dequeue_burst(app->workers[w].miss_ring, (void **)m,
					      HD_APP_BURST, NULL);
		for (i = 0; i < n; i++)
			miss_handle(app, m[i]);
		total += n;
	}
	return total;
}

/*
 * Refresh requests from the workers: the query objects go back to the pool
 * as soon as lib/upstream has copied them. A refresh is no client query:
 * it is counted by the worker that asked (prefetches), not here.
 */
static unsigned int
refreshes_take(struct hd_app *app)
{
	struct hd_dns_query *q[HD_APP_BURST];
	unsigned int w, n, i, total = 0;

	for (w = 0; w < app->n_workers; w++) {
		if (app->workers[w].refresh_ring == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(app->workers[w].refresh_ring, (void **)q,
					      HD_APP_BURST, NULL);
		for (i = 0; i < n; i++) {
			/* -ENOBUFS: the slow path is saturated with clients;
			 * the entry stays stale and a later hit asks again. */
			(void)hd_upstream_resolve(app->upstream, q[i], HD_APP_REFRESH);
			rte_mempool_put(app->refresh_pool, q[i]);
		}
		total += n;
	}
	return total;
}

/* Telemetry runs on its own thread; the upstream's counters belong to this one. */
static void
upstream_snapshot(struct hd_app *app)
{
	unsigned int i, n = hd_upstream_server_count(app->upstream);
	struct hd_upstream_server_stats s;

	for (i = 0; i < n && i < HD_UPSTREAM_MAX; i++) {
		struct hd_app_upstream_snap *d = &app->up_snap[i];

		if (hd_upstream_server_stats(app->upstream, i, &s) < 0)
			continue;
		__atomic_store_n(&d->queries, s.queries, __ATOMIC_RELAXED);
		__atomic_store_n(&d->replies, s.replies, __ATOMIC_RELAXED);
		__atomic_store_n(&d->timeouts, s.timeouts, __ATOMIC_RELAXED);
		__atomic_store_n(&d->rejected, s.rejected, __ATOMIC_RELAXED);
		__atomic_store_n(&d->rtt_ms, s.rtt_ms, __ATOMIC_RELAXED);
		__atomic_store_n(&d->failures, s.failures, __ATOMIC_RELAXED);
		__atomic_store_n(&d->race_lost, s.race_lost, __ATOMIC_RELAXED);
		__atomic_store_n(&d->down_since_ms, s.down_since_ms, __ATOMIC_RELAXED);
		__atomic_store_n(&d->backoff_ms, s.backoff_ms, __ATOMIC_RELAXED);
		__atomic_store_n(&d->down, (uint32_t)s.down, __ATOMIC_RELAXED);
	}
}

void
hd_cluster_snap_get(struct hd_cluster_snap *s)
{
	s->enabled = __atomic_load_n(&cl_snap.enabled, __ATOMIC_RELAXED);
	s->state = __atomic_load_n(&cl_snap.state, __ATOMIC_RELAXED);
	s->writes = __atomic_load_n(&cl_snap.writes, __ATOMIC_RELAXED);
	s->write_dropped = __atomic_load_n(&cl_snap.write_dropped, __ATOMIC_RELAXED);
	s->write_errors = __atomic_load_n(&cl_snap.write_errors, __ATOMIC_RELAXED);
	s->l2_hits = __atomic_load_n(&cl_snap.l2_hits, __ATOMIC_RELAXED);
	s->l2_misses = __atomic_load_n(&cl_snap.l2_misses, __ATOMIC_RELAXED);
	s->l2_rejected = __atomic_load_n(&cl_snap.l2_rejected, __ATOMIC_RELAXED);
	s->outstanding = __atomic_load_n(&cl_snap.outstanding, __ATOMIC_RELAXED);
	pthread_mutex_lock(&cl_addr_lock);
	memcpy(s->redis_addr, cl_snap.redis_addr, sizeof(s->redis_addr));
	pthread_mutex_unlock(&cl_addr_lock);
}

static void
cluster_snapshot(void)
{
	struct hd_replica_stats st;

	if (replica == NULL)
		return;
	hd_replica_stats_get(replica, &st);
	__atomic_store_n(&cl_snap.state, (uint32_t)st.state, __ATOMIC_RELAXED);
	__atomic_store_n(&cl_snap.writes, st.writes, __ATOMIC_RELAXED);
	__atomic_store_n(&cl_snap.write_dropped, st.write_dropped, __ATOMIC_RELAXED);
	__atomic_store_n(&cl_snap.write_errors, st.write_errors, __ATOMIC_RELAXED);
	__atomic_store_n(&cl_snap.l2_hits, st.l2_hits, __ATOMIC_RELAXED);
	__atomic_store_n(&cl_snap.l2_misses, st.l2_misses, __ATOMIC_RELAXED);
	__atomic_store_n(&cl_snap.l2_rejected, st.l2_rejected, __ATOMIC_RELAXED);
	__atomic_store_n(&cl_snap.outstanding, st.outstanding, __ATOMIC_RELAXED);
	pthread_mutex_lock(&cl_addr_lock);
	snprintf(cl_snap.redis_addr, sizeof(cl_snap.redis_addr), "%s", st.redis_addr);
	pthread_mutex_unlock(&cl_addr_lock);
}

static void
timer_run(struct hd_app *app)
{
	hd_cache_reclaim(app->cache);
	hd_cache_expire(app->cache, hd_clock_sec(), EXPIRE_BUDGET);
	upstream_snapshot(app);
	cluster_snapshot();
	/* Membership heartbeats, member reads, control changes (cluster.c). */
	hd_cluster_tick(hd_clock_ms());
	/* Periodic cache saves (persist.c): this thread is the cache's writer. */
	hd_persist_tick(app);
	/* The API's cache flushes (api.c), for the same reason. */
	hd_api_cache_work(app);
}

static void
listen_fill(struct hd_upstream_params *up, const struct hd_config *cfg)
{
	unsigned int i;

	if (!cfg->tcp)
		return;
	for (i = 0; i < cfg->n_listen && i < HD_UPSTREAM_LISTEN_MAX; i++) {
		struct sockaddr_storage *ss = &up->listen[up->n_listen++];

		memset(ss, 0, sizeof(*ss));
		if (cfg->listen[i].family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(cfg->port);
			memcpy(&sin->sin_addr, cfg->listen[i].addr, 4);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(cfg->port);
			memcpy(&sin6->sin6_addr, cfg->listen[i].addr, 16);
		}
	}
}

static void
server_add(struct hd_upstream_params *up, const struct sockaddr_storage *addr,
	   const struct hd_config_server *cs, unsigned int group)
{
	unsigned int i = up->n_servers++;

	up->servers[i] = *addr;
	up->opts[i].group = (uint8_t)group;
	up->opts[i].tls = cs->tls ? 1 : 0;
	snprintf(up->opts[i].tls_name, sizeof(up->opts[i].tls_name), "%s", cs->tls_name);
}

/*
 * Servers by rank (telemetry uses the same): the default upstreams, then
 * each forward zone's in order. The config bounds (8 + 32 zones of 4)
 * match lib/upstream's.
 */
static void
servers_fill(struct hd_upstream_params *up, const struct hd_config *cfg)
{
	unsigned int i, z;

	RTE_BUILD_BUG_ON(HD_CONFIG_UPSTREAM_MAX > HD_UPSTREAM_GROUP_MAX);
	RTE_BUILD_BUG_ON(HD_CONFIG_FORWARD_SERVERS_MAX > HD_UPSTREAM_GROUP_MAX);
	RTE_BUILD_BUG_ON(HD_CONFIG_FORWARDS_MAX > HD_UPSTREAM_ZONES_MAX);
	RTE_BUILD_BUG_ON(HD_CONFIG_UPSTREAM_MAX +
			 HD_CONFIG_FORWARDS_MAX * HD_CONFIG_FORWARD_SERVERS_MAX > HD_UPSTREAM_MAX);
	/* upstream[] holds the address, as before; upstream_server[] adds TLS. */
	for (i = 0; i < cfg->n_upstream; i++)
		server_add(up, &cfg->upstream[i], &cfg->upstream_server[i], 0);
	for (z = 0; z < cfg->n_forwards; z++) {
		const struct hd_config_forward *f = &cfg->forwards[z];

		snprintf(up->zones[z].domain, sizeof(up->zones[z].domain), "%s", f->domain);
		for (i = 0; i < f->n_servers; i++)
			server_add(up, &f->servers[i].addr, &f->servers[i], z + 1);
	}
	up->n_zones = cfg->n_forwards;
	up->strategy = (enum hd_upstream_strategy)cfg->upstream_strategy;
	up->tls_ca_file = cfg->tls_ca_file;
}

/* The Redis client, when a redis URL is configured; it connects from the loop. */
static int
replica_init(struct hd_app *app, const struct hd_upstream_params *up)
{
	const struct hd_config *cfg = &app->cfg;
	struct hd_replica_params rp;

	if (!cfg->redis.enabled)
		return 0;
	memset(&rp, 0, sizeof(rp));
	rp.host = cfg->redis.host;
	rp.port = cfg->redis.port;
	rp.db = cfg->redis.db;
	rp.user = cfg->redis.user;
	rp.password = cfg->redis.password;
	rp.prefix = cfg->redis_prefix;
	rp.timeout_ms = cfg->redis_timeout_ms;
	rp.max_outstanding = 4096;
	rp.limits = up->limits;
	rp.tls = cfg->redis.tls;
	rp.ca_file = cfg->redis_ca_file;
	rp.sentinels = cfg->redis_sentinel;
	rp.sentinel_master = cfg->redis_sentinel_master;
	replica = hd_replica_create(&rp);
	if (replica == NULL) {
		APP_LOG(ERR, "cannot start the Redis client: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	__atomic_store_n(&cl_snap.enabled, 1, __ATOMIC_RELAXED);
	if (hd_cluster_start(app, replica) < 0)
		return -EINVAL;
	if (cfg->redis_sentinel[0] != '\0')
		APP_LOG(INFO, "cluster: node %s, redis master %s from sentinels %s, db %u%s, key "
			"prefix %s", cfg->node_id, cfg->redis_sentinel_master, cfg->redis_sentinel,
			cfg->redis.db, cfg->redis.tls ? " (TLS)" : "", cfg->redis_prefix);
	else
		APP_LOG(INFO, "cluster: node %s, redis %s:%u db %u%s, key prefix %s", cfg->node_id,
			cfg->redis.host, cfg->redis.port, cfg->redis.db,
			cfg->redis.tls ? " (TLS)" : "", cfg->redis_prefix);
	return 0;
}

static void
answer_timing_init(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "heimdall_miss_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};

	hd_histo_init(&hd_metrics_answer_histo, rte_get_tsc_hz());
	miss_tsc_off = rte_mbuf_dynfield_register(&desc);
	if (miss_tsc_off < 0)
		APP_LOG(WARNING, "no room in the mbuf for the answer time: "
			"heimdall_slowpath_answer_seconds stays empty");
}

int
hd_slowpath_init(struct hd_app *app)
{
	const struct hd_config *cfg = &app->cfg;
	/* Static: some 60 KiB, and only used here. */
	static struct hd_upstream_params up;
	int stale = cfg->serve_stale && cfg->stale_window > 0;

	sp_stats = hd_stats_self();
	answer_timing_init();
	memset(&up, 0, sizeof(up));
	servers_fill(&up, cfg);
	listen_fill(&up, cfg);
	up.attempt_ms = cfg->upstream_timeout_ms;
	up.total_ms = cfg->upstream_budget_ms;
	up.max_pending = cfg->max_pending;
	up.tcp_idle_ms = 10000;
	up.max_tcp_clients = 256;
	up.cache = app->cache;
	up.limits.min_ttl = cfg->cache_min_ttl;
	up.limits.max_ttl = cfg->cache_max_ttl;
	up.limits.neg_max_ttl = cfg->cache_neg_max_ttl;
	/* The cache keeps an entry this long past expiry for stale answers. */
	up.limits.stale_ttl = stale ? cfg->stale_window : 0;
	up.stale_ttl = stale ? cfg->stale_ttl : 0;
	up.refresh_client = HD_APP_REFRESH;
	up.stats = sp_stats;
	up.done = upstream_done;
	up.done_arg = app;
	up.policy = hd_policy_tcp_hook;
	up.policy_arg = app;
	app->upstream = hd_upstream_create(&up);
	if (app->upstream == NULL) {
		APP_LOG(ERR, "cannot start the upstream side: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	return replica_init(app, &up);
}

void
hd_slowpath_run(struct hd_app *app)
{
	uint64_t next_timer = hd_clock_ms() + TIMER_MS, now;
	unsigned int taken, reader = app->n_workers;
	int idle;

	/* The slow path reads the policy (cloaking, DNS over TCP) as reader n_workers. */
	rte_rcu_qsbr_thread_register(app->policy_qsv, reader);
	rte_rcu_qsbr_thread_online(app->policy_qsv, reader);
	while (!__atomic_load_n(&app->stop, __ATOMIC_RELAXED)) {
		taken = misses_take(app);
		taken += refreshes_take(app);
		/* Idle: sleep in epoll up to 1 ms; a miss then waits at most that long.
		 * A lookup waiting for Redis (at most redis-timeout-ms) keeps us awake:
		 * the Redis socket is not in the upstream's epoll set. */
		idle = taken == 0 && hd_upstream_pending(app->upstream) == 0 &&
		       (replica == NULL || hd_replica_pending(replica) == 0);
		hd_upstream_poll(app->upstream, idle ? 1 : 0);
		now = hd_clock_ms();
		if (replica != NULL)
			hd_replica_poll(replica, now);
		if (now >= next_timer) {
			/* /health: the loop runs. */
			__atomic_store_n(&hd_http_loop_tsc, rte_get_tsc_cycles(), __ATOMIC_RELAXED);
			timer_run(app);
			next_timer = now + TIMER_MS;
		}
		/* No policy pointer is held across iterations. */
		rte_rcu_qsbr_quiescent(app->policy_qsv, reader);
	}
	rte_rcu_qsbr_thread_offline(app->policy_qsv, reader);
	rte_rcu_qsbr_thread_unregister(app->policy_qsv, reader);
}

/* Free every mbuf still on a ring; the workers have stopped. */
static void
rings_drain(struct hd_app *app)
{
	struct rte_mbuf *m;
	unsigned int w;

	for (w = 0; w < app->n_workers; w++) {
		void *q;

		while (rte_ring_sc_dequeue(app->workers[w].miss_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		while (app->workers[w].refresh_ring != NULL &&
		       rte_ring_sc_dequeue(app->workers[w].refresh_ring, &q) == 0)
			rte_mempool_put(app->refresh_pool, q);
		while (rte_ring_sc_dequeue(app->workers[w].reply_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
}

void
hd_slowpath_fini(struct hd_app *app)
{
	app->stopping = 1;
	/* Lookups still waiting for Redis get their callback here, which frees the mbufs. */
	hd_cluster_stop();
	hd_replica_free(replica);
	replica = NULL;
	/* Outstanding requests get their callback (SERVFAIL) here, which frees the mbufs. */
	hd_upstream_free(app->upstream);
	app->upstream = NULL;
	if (app->workers != NULL)
		rings_drain(app);
}
