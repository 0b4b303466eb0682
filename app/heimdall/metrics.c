/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * GET /metrics: the Prometheus text format 0.0.4, built at each scrape on
 * the HTTP thread from what other threads publish: the per-lcore counters
 * (relaxed loads), ethdev stats and xstats (read-only queries, as DPDK's
 * own telemetry thread makes them), the cache's counters, the policy
 * snapshot (under its lock), the upstream snapshot the slow path copies
 * every 100 ms, the slow path's answer-time histogram, then the writers
 * other parts registered.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "hd_app.h"
#include "hd_build_config.h"
#include "hd_histo.h"
#include "hd_http.h"
#include "hd_prom.h"

#define WRITERS_MAX	16

struct hd_metrics_buf {
	struct hd_prom p;
};

struct hd_histo hd_metrics_answer_histo;

static hd_metrics_fn writers[WRITERS_MAX];
static unsigned int n_writers;
static double start_time;
static unsigned int dropped_logged;

int
hd_metrics_register(hd_metrics_fn fn)
{
	if (fn == NULL)
		return -EINVAL;
	if (n_writers == WRITERS_MAX)
		return -ENOSPC;
	writers[n_writers++] = fn;
	return 0;
}

void
hd_metrics_family(struct hd_metrics_buf *b, const char *name, const char *type,
		  const char *help)
{
	hd_prom_family(&b->p, name, type, help);
}

void
hd_metrics_u64(struct hd_metrics_buf *b, const char *name, uint64_t v, ...)
{
	va_list ap;

	va_start(ap, v);
	hd_prom_u64v(&b->p, name, v, ap);
	va_end(ap);
}

void
hd_metrics_double(struct hd_metrics_buf *b, const char *name, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	hd_prom_doublev(&b->p, name, v, ap);
	va_end(ap);
}

/* ---- per-lcore counters ---- */

static void
write_counters(struct hd_metrics_buf *b, const struct hd_app *app)
{
	unsigned int main_lcore = rte_get_main_lcore(), w;
	char name[HD_PROM_NAME_MAX], lcore[16];
	enum hd_stat k;

	for (k = 0; k < HD_STAT_MAX; k++) {
		snprintf(name, sizeof(name), "heimdall_%s_total", hd_stats_name(k));
		hd_metrics_family(b, name, "counter", hd_stats_help(k));
		snprintf(lcore, sizeof(lcore), "%u", main_lcore);
		hd_metrics_u64(b, name, hd_stats_get(main_lcore, k), "lcore", lcore,
			       "role", "slowpath", NULL);
		for (w = 0; w < app->n_workers; w++) {
			snprintf(lcore, sizeof(lcore), "%u", app->workers[w].lcore_id);
			hd_metrics_u64(b, name, hd_stats_get(app->workers[w].lcore_id, k),
				       "lcore", lcore, "role", "worker", NULL);
		}
	}
}

/* ---- ports ---- */

static const struct {
	const char *name, *help;
	size_t off;
} port_counters[] = {
	{ "heimdall_port_rx_packets_total", "packets received by the port (ethdev ipackets)",
	  offsetof(struct rte_eth_stats, ipackets) },
	{ "heimdall_port_tx_packets_total", "packets sent by the port (ethdev opackets)",
	  offsetof(struct rte_eth_stats, opackets) },
	{ "heimdall_port_rx_bytes_total", "bytes received by the port (ethdev ibytes)",
	  offsetof(struct rte_eth_stats, ibytes) },
	{ "heimdall_port_tx_bytes_total", "bytes sent by the port (ethdev obytes)",
	  offsetof(struct rte_eth_stats, obytes) },
	{ "heimdall_port_rx_missed_total", "packets the port dropped because no RX queue "
	  "had room (ethdev imissed)", offsetof(struct rte_eth_stats, imissed) },
	{ "heimdall_port_rx_errors_total", "erroneous packets received (ethdev ierrors)",
	  offsetof(struct rte_eth_stats, ierrors) },
	{ "heimdall_port_tx_errors_total", "packets the port failed to send (ethdev oerrors)",
	  offsetof(struct rte_eth_stats, oerrors) },
	{ "heimdall_port_rx_nombuf_total", "RX mbuf allocation failures (ethdev rx_nombuf)",
	  offsetof(struct rte_eth_stats, rx_nombuf) },
};

struct port_view {
	char id[8];
	const char *name;
	struct rte_eth_stats st;
	int st_ok;
	int up;
};

static unsigned int
ports_read(const struct hd_app *app, struct port_view *v)
{
	struct rte_eth_link link;
	unsigned int n = 0;
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		const struct hd_port *p = &app->ports[port];

		if (!p->started || n == HD_APP_PORTS_MAX)
			continue;
		snprintf(v[n].id, sizeof(v[n].id), "%u", port);
		v[n].name = p->name;
		v[n].st_ok = rte_eth_stats_get(port, &v[n].st) == 0;
		memset(&link, 0, sizeof(link));
		v[n].up = rte_eth_link_get_nowait(port, &link) == 0 &&
			  link.link_status == RTE_ETH_LINK_UP;
		n++;
	}
	return n;
}

/* Every xstat of one port; they are many and per driver, so untyped. */
static void
write_xstats(struct hd_metrics_buf *b, uint16_t port, const char *id, const char *name)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *xs = NULL;
	int n, got, i;

	n = rte_eth_xstats_get_names(port, NULL, 0);
	if (n <= 0)
		return;
	names = calloc((size_t)n, sizeof(*names));
	xs = calloc((size_t)n, sizeof(*xs));
	if (names == NULL || xs == NULL)
		goto out;
	if (rte_eth_xstats_get_names(port, names, (unsigned int)n) != n)
		goto out;
	got = rte_eth_xstats_get(port, xs, (unsigned int)n);
	if (got <= 0 || got > n)
		goto out;
	for (i = 0; i < got; i++) {
		if (xs[i].id >= (uint64_t)n)
			continue;
		hd_metrics_u64(b, "heimdall_port_xstat", xs[i].value, "port", id, "name", name,
			       "xstat", names[xs[i].id].name, NULL);
	}
out:
	free(names);
	free(xs);
}

static void
write_ports(struct hd_metrics_buf *b, const struct hd_app *app)
{
	static struct port_view v[HD_APP_PORTS_MAX];	/* HTTP thread only */
	unsigned int n = ports_read(app, v), i, c;

	for (c = 0; c < RTE_DIM(port_counters); c++) {
		hd_metrics_family(b, port_counters[c].name, "counter", port_counters[c].help);
		for (i = 0; i < n; i++) {
			uint64_t val;

			if (!v[i].st_ok)
				continue;
			memcpy(&val, (const char *)&v[i].st + port_counters[c].off, sizeof(val));
			hd_metrics_u64(b, port_counters[c].name, val, "port", v[i].id, "name",
				       v[i].name, NULL);
		}
	}
	hd_metrics_family(b, "heimdall_port_up", "gauge", "1 when the port's link is up");
	for (i = 0; i < n; i++)
		hd_metrics_u64(b, "heimdall_port_up", (uint64_t)v[i].up, "port", v[i].id, "name",
			       v[i].name, NULL);
	hd_metrics_family(b, "heimdall_port_xstat", "untyped",
			  "every extended statistic of the port's driver, by xstat name");
	for (i = 0; i < n; i++)
		write_xstats(b, (uint16_t)atoi(v[i].id), v[i].id, v[i].name);
}

/* ---- slow path, cache, lists ---- */

static void
write_histogram(struct hd_metrics_buf *b)
{
	static const char *const name = "heimdall_slowpath_answer_seconds";
	struct hd_histo_snap s;
	char le[32];
	unsigned int i;

	hd_histo_read(&hd_metrics_answer_histo, &s);
	hd_metrics_family(b, name, "histogram",
			  "time from the slow path taking a miss off its ring to sending the "
			  "reply (upstream answers, late cache hits, stale and SERVFAIL)");
	for (i = 0; i < HD_HISTO_BOUNDS; i++) {
		snprintf(le, sizeof(le), "%g", hd_histo_bound_s(i));
		hd_metrics_u64(b, "heimdall_slowpath_answer_seconds_bucket", s.le[i], "le", le,
			       NULL);
	}
	hd_metrics_u64(b, "heimdall_slowpath_answer_seconds_bucket", s.count, "le", "+Inf",
		       NULL);
	hd_metrics_double(b, "heimdall_slowpath_answer_seconds_sum", s.sum_s, NULL);
	hd_metrics_u64(b, "heimdall_slowpath_answer_seconds_count", s.count, NULL);
}

static void
write_cache(struct hd_metrics_buf *b, const struct hd_app *app)
{
	struct hd_cache_stats s;

	memset(&s, 0, sizeof(s));
	if (app->cache != NULL)
		hd_cache_stats_get(app->cache, &s);
	hd_metrics_family(b, "heimdall_cache_entries", "gauge", "answers in the cache");
	hd_metrics_u64(b, "heimdall_cache_entries", s.entries, NULL);
	hd_metrics_family(b, "heimdall_cache_bytes", "gauge", "bytes the cached answers take");
	hd_metrics_u64(b, "heimdall_cache_bytes", s.bytes, NULL);
	hd_metrics_family(b, "heimdall_cache_capacity_entries", "gauge",
			  "answers the cache can hold");
	hd_metrics_u64(b, "heimdall_cache_capacity_entries", s.capacity, NULL);
	hd_metrics_family(b, "heimdall_cache_evictions_total", "counter",
			  "answers removed to make room");
	hd_metrics_u64(b, "heimdall_cache_evictions_total", s.evictions, NULL);
	hd_metrics_family(b, "heimdall_cache_expired_total", "counter",
			  "answers removed because they were stale past their limit");
	hd_metrics_u64(b, "heimdall_cache_expired_total", s.expired, NULL);
}

static void
write_lists(struct hd_metrics_buf *b)
{
	static struct hd_policy_list_stat ls[HD_CONFIG_LISTS_MAX];	/* HTTP thread only */
	unsigned int n = hd_policy_lists_get(ls, RTE_DIM(ls)), i;

	hd_metrics_family(b, "heimdall_list_rules", "gauge",
			  "rules of the list in the published filter (after deduplication)");
	for (i = 0; i < n; i++)
		hd_metrics_u64(b, "heimdall_list_rules", ls[i].rules, "list", ls[i].name, NULL);
	hd_metrics_family(b, "heimdall_list_hits_total", "counter",
			  "queries blocked by the list (fast path and slow path)");
	for (i = 0; i < n; i++)
		hd_metrics_u64(b, "heimdall_list_hits_total", ls[i].hits, "list", ls[i].name, NULL);
}

/* ---- upstreams ---- */

struct upstream_view {
	char addr[INET6_ADDRSTRLEN + 8];
	const char *group;
};

/* Ranks as the slow path fills up_snap (slowpath.c servers_fill()). */
static unsigned int
upstreams_name(const struct hd_config *cfg, struct upstream_view *v)
{
	unsigned int i, z = 0, k = 0, n = cfg->n_upstream;
	char ip[INET6_ADDRSTRLEN];

	for (i = 0; i < cfg->n_forwards; i++)
		n += cfg->forwards[i].n_servers;
	if (n > HD_UPSTREAM_MAX)
		n = HD_UPSTREAM_MAX;
	for (i = 0; i < n; i++) {
		const struct sockaddr_storage *a;

		if (i < cfg->n_upstream) {
			a = &cfg->upstream[i];
			v[i].group = "default";
		} else {
			while (k >= cfg->forwards[z].n_servers) {
				z++;
				k = 0;
			}
			a = &cfg->forwards[z].servers[k++].addr;
			v[i].group = cfg->forwards[z].domain;
		}
		if (a->ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;

			inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
			snprintf(v[i].addr, sizeof(v[i].addr), "%s:%u", ip, ntohs(s4->sin_port));
		} else {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;

			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
			snprintf(v[i].addr, sizeof(v[i].addr), "[%s]:%u", ip,
				 ntohs(s6->sin6_port));
		}
	}
	return n;
}

static void
write_upstreams(struct hd_metrics_buf *b, const struct hd_app *app)
{
	static struct upstream_view v[HD_UPSTREAM_MAX];	/* HTTP thread only */
	unsigned int n = upstreams_name(&app->cfg, v), i;
	const struct hd_app_upstream_snap *s = app->up_snap;

	hd_metrics_family(b, "heimdall_upstream_up", "gauge",
			  "1 while the upstream is in use, 0 while it is marked down");
	for (i = 0; i < n; i++)
		hd_metrics_u64(b, "heimdall_upstream_up",
			       !__atomic_load_n(&s[i].down, __ATOMIC_RELAXED),
			       "upstream", v[i].addr, "group", v[i].group, NULL);
	hd_metrics_family(b, "heimdall_upstream_rtt_seconds", "gauge",
			  "smoothed round-trip time of the upstream");
	for (i = 0; i < n; i++)
		hd_metrics_double(b, "heimdall_upstream_rtt_seconds",
				  __atomic_load_n(&s[i].rtt_ms, __ATOMIC_RELAXED) / 1000.0,
				  "upstream", v[i].addr, "group", v[i].group, NULL);
	/* heimdall_upstream_queries_total is the per-lcore counter: per server, another name. */
	hd_metrics_family(b, "heimdall_upstream_server_queries_total", "counter",
			  "queries sent to this upstream");
	for (i = 0; i < n; i++)
		hd_metrics_u64(b, "heimdall_upstream_server_queries_total",
			       __atomic_load_n(&s[i].queries, __ATOMIC_RELAXED),
			       "upstream", v[i].addr, "group", v[i].group, NULL);
	hd_metrics_family(b, "heimdall_upstream_server_timeouts_total", "counter",
			  "attempts to this upstream that timed out");
	for (i = 0; i < n; i++)
		hd_metrics_u64(b, "heimdall_upstream_server_timeouts_total",
			       __atomic_load_n(&s[i].timeouts, __ATOMIC_RELAXED),
			       "upstream", v[i].addr, "group", v[i].group, NULL);
}

/* ---- the process ---- */

static void
write_process(struct hd_metrics_buf *b, const struct hd_app *app)
{
	hd_metrics_family(b, "heimdall_info", "gauge", "version and node id of this heimdall");
	hd_metrics_u64(b, "heimdall_info", 1, "version", HD_VERSION, "node", app->cfg.node_id,
		       NULL);
	hd_metrics_family(b, "heimdall_start_time_seconds", "gauge",
			  "when the server started, seconds since the Unix epoch");
	hd_metrics_double(b, "heimdall_start_time_seconds", start_time, NULL);
	hd_metrics_family(b, "heimdall_workers", "gauge", "worker lcores polling the ports");
	hd_metrics_u64(b, "heimdall_workers", app->n_workers, NULL);
}

/* At load: close enough to the process start, and before any thread runs. */
RTE_INIT(metrics_start_time)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
hd_metrics_serve(const struct hd_http_request *req, struct hd_http_response *resp)
{
	struct hd_metrics_buf b;
	unsigned int i;

	(void)req;
	if (hd_prom_init(&b.p) < 0) {
		hd_http_reply_error(resp, 500, "out of memory");
		return;
	}
	write_process(&b, &hd_app);
	write_counters(&b, &hd_app);
	write_ports(&b, &hd_app);
	write_histogram(&b);
	write_cache(&b, &hd_app);
	write_lists(&b);
	write_upstreams(&b, &hd_app);
	for (i = 0; i < n_writers; i++)
		writers[i](&b);
	if (b.p.err != 0) {
		hd_prom_free(&b.p);
		hd_http_reply_error(resp, 500, "out of memory");
		return;
	}
	/* A writer's mistake is dropped from the text; say so once per new count. */
	if (b.p.dropped != dropped_logged) {
		APP_LOG(WARNING, "/metrics: %u malformed or duplicate families or samples left "
			"out", b.p.dropped);
		dropped_logged = b.p.dropped;
	}
	free(resp->body);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = b.p.buf;	/* the server frees it */
	resp->len = b.p.len;
}
