/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry commands of the server (lib/stats registers /heimdall/stats).
 * They run on the EAL's telemetry thread: they read only what is fixed after
 * start-up, the cache's own counters (safe from any thread), and the
 * upstream counters the slow path copies out every 100 ms.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "hd_app.h"
#include "hd_replica.h"
#include "cluster.h"

static const char *
sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	}
	return buf;
}

static int
handle_cache(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *d)
{
	struct hd_persist_stats ps;
	struct hd_cache_stats s;
	uint64_t refreshes, dropped;

	if (hd_app.cache == NULL)
		return -ENODEV;
	hd_cache_stats_get(hd_app.cache, &s);
	hd_persist_stats_get(&ps);
	/* prefetches counts every refresh asked (stale or near expiry); the
	 * dropped ones never reached the slow path. */
	refreshes = hd_stats_sum(HD_STAT_prefetches);
	dropped = hd_stats_sum(HD_STAT_refresh_dropped);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "entries", s.entries);
	rte_tel_data_add_dict_u64(d, "bytes", s.bytes);
	rte_tel_data_add_dict_u64(d, "capacity", s.capacity);
	rte_tel_data_add_dict_u64(d, "max_bytes", hd_app.cfg.cache_bytes);
	rte_tel_data_add_dict_u64(d, "inserts", s.inserts);
	rte_tel_data_add_dict_u64(d, "replaced", s.replaced);
	rte_tel_data_add_dict_u64(d, "hits", hd_stats_sum(HD_STAT_cache_hits));
	rte_tel_data_add_dict_u64(d, "misses", hd_stats_sum(HD_STAT_cache_misses));
	rte_tel_data_add_dict_u64(d, "evictions", s.evictions);
	rte_tel_data_add_dict_u64(d, "expired", s.expired);
	rte_tel_data_add_dict_u64(d, "stale_answers", hd_stats_sum(HD_STAT_stale_answers));
	rte_tel_data_add_dict_u64(d, "prefetches", refreshes);
	rte_tel_data_add_dict_u64(d, "refreshes", refreshes > dropped ? refreshes - dropped : 0);
	rte_tel_data_add_dict_u64(d, "refresh_dropped", dropped);
	rte_tel_data_add_dict_u64(d, "saved_entries", ps.saved_entries);
	rte_tel_data_add_dict_u64(d, "loaded_entries", ps.loaded_entries);
	rte_tel_data_add_dict_u64(d, "saves", ps.saves);
	rte_tel_data_add_dict_u64(d, "save_failures", ps.save_failures);
	rte_tel_data_add_dict_u64(d, "last_save_time", ps.last_save_wall);
	rte_tel_data_add_dict_string(d, "last_save_error",
				     ps.last_save_error != 0 ? strerror(ps.last_save_error) : "");
	rte_tel_data_add_dict_string(d, "load_error",
				     ps.load_error != 0 ? strerror(ps.load_error) : "");
	return 0;
}

static int
handle_upstreams(const char *cmd __rte_unused, const char *params __rte_unused,
		 struct rte_tel_data *d)
{
	/* Ranks as the slow path built them: default upstreams, then each
	 * forward zone's servers (slowpath.c servers_fill()). */
	const struct hd_config *cfg = &hd_app.cfg;
	unsigned int i, z = 0, k = 0, n = cfg->n_upstream;
	char ip[INET6_ADDRSTRLEN], key[16];

	for (i = 0; i < cfg->n_forwards; i++)
		n += cfg->forwards[i].n_servers;
	/* DPDK 22.11 arrays cannot hold dicts: one dict per server, keyed by its rank. */
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "strategy", hd_config_strategy_name(cfg->upstream_strategy));
	rte_tel_data_add_dict_u64(d, "dedup_joined", hd_stats_sum(HD_STAT_dedup_joined));
	for (i = 0; i < n && i < HD_UPSTREAM_MAX; i++) {
		const struct hd_app_upstream_snap *s = &hd_app.up_snap[i];
		const struct sockaddr_storage *addr;
		const struct hd_config_server *cs;
		const char *group = "default";
		struct rte_tel_data *one;
		uint16_t port;

		if (i < cfg->n_upstream) {
			addr = &cfg->upstream[i];
			cs = &cfg->upstream_server[i];
		} else {
			while (k >= cfg->forwards[z].n_servers) {
				z++;
				k = 0;
			}
			cs = &cfg->forwards[z].servers[k++];
			addr = &cs->addr;
			group = cfg->forwards[z].domain;
		}
		one = rte_tel_data_alloc();
		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		if (addr->ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

			inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
			port = ntohs(sin->sin_port);
		} else {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
			port = ntohs(sin6->sin6_port);
		}
		rte_tel_data_add_dict_string(one, "address", ip);
		rte_tel_data_add_dict_u64(one, "port", port);
		rte_tel_data_add_dict_string(one, "transport", cs->tls ? "tls" : "udp");
		rte_tel_data_add_dict_string(one, "tls_name", cs->tls_name);
		rte_tel_data_add_dict_string(one, "group", group);
		rte_tel_data_add_dict_string(one, "state",
			__atomic_load_n(&s->down, __ATOMIC_RELAXED) ? "down" : "up");
		rte_tel_data_add_dict_u64(one, "queries", __atomic_load_n(&s->queries, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "replies", __atomic_load_n(&s->replies, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "failures", __atomic_load_n(&s->failures, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "timeouts", __atomic_load_n(&s->timeouts, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "rejected", __atomic_load_n(&s->rejected, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "race_lost", __atomic_load_n(&s->race_lost, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "rtt_ms", __atomic_load_n(&s->rtt_ms, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "backoff_ms", __atomic_load_n(&s->backoff_ms, __ATOMIC_RELAXED));
		if (__atomic_load_n(&s->down, __ATOMIC_RELAXED))
			rte_tel_data_add_dict_u64(one, "down_since_ms",
				__atomic_load_n(&s->down_since_ms, __ATOMIC_RELAXED));
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, one, 0);
	}
	return 0;
}

/* "net_af_xdp0:q0 net_af_packet1:q0": where a worker polls. */
static void
worker_queues(const struct hd_worker *w, char *buf, size_t len)
{
	size_t off = 0;
	uint16_t port;

	buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(port) {
		const struct hd_port *p = &hd_app.ports[port];
		int n;

		if (!p->started || w->index >= p->n_rxq)
			continue;
		n = snprintf(buf + off, len - off, "%s%s:q%u", off ? " " : "", p->name, w->index);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

static int
handle_lcores(const char *cmd __rte_unused, const char *params __rte_unused,
	      struct rte_tel_data *d)
{
	char name[16], queues[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *one;
	unsigned int i;

	rte_tel_data_start_dict(d);
	one = rte_tel_data_alloc();
	if (one == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(one);
	rte_tel_data_add_dict_string(one, "role", "main+slow");
	rte_tel_data_add_dict_string(one, "does", "control, telemetry, misses, upstreams, DNS over TCP");
	snprintf(name, sizeof(name), "%u", rte_get_main_lcore());
	rte_tel_data_add_dict_container(d, name, one, 0);
	for (i = 0; i < hd_app.n_workers; i++) {
		const struct hd_worker *w = &hd_app.workers[i];

		one = rte_tel_data_alloc();
		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_string(one, "role", "worker");
		rte_tel_data_add_dict_u64(one, "worker", w->index);
		worker_queues(w, queues, sizeof(queues));
		rte_tel_data_add_dict_string(one, "queues", queues);
		snprintf(name, sizeof(name), "%u", w->lcore_id);
		rte_tel_data_add_dict_container(d, name, one, 0);
	}
	return 0;
}

static struct rte_tel_data *
config_listen(void)
{
	struct rte_tel_data *a = rte_tel_data_alloc();
	char ip[INET6_ADDRSTRLEN];
	unsigned int i;

	if (a == NULL)
		return NULL;
	rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
	for (i = 0; i < hd_app.cfg.n_listen; i++) {
		const struct hd_config_addr *l = &hd_app.cfg.listen[i];

		if (inet_ntop(l->family, l->addr, ip, sizeof(ip)) != NULL)
			rte_tel_data_add_array_string(a, ip);
	}
	return a;
}

static struct rte_tel_data *
config_upstreams(void)
{
	struct rte_tel_data *a = rte_tel_data_alloc();
	char buf[INET6_ADDRSTRLEN + 16];
	unsigned int i;

	if (a == NULL)
		return NULL;
	rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
	for (i = 0; i < hd_app.cfg.n_upstream; i++)
		rte_tel_data_add_array_string(a, sockaddr_str(&hd_app.cfg.upstream[i], buf,
							      sizeof(buf)));
	return a;
}

static struct rte_tel_data *
config_ports(void)
{
	struct rte_tel_data *a = rte_tel_data_alloc();
	char buf[RTE_TEL_MAX_STRING_LEN];
	uint16_t port;

	if (a == NULL)
		return NULL;
	rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
	RTE_ETH_FOREACH_DEV(port) {
		const struct hd_port *p = &hd_app.ports[port];

		if (!p->started)
			continue;
		snprintf(buf, sizeof(buf), "%s mode=%s%s%s queues=%u slow_txq=%d", p->name,
			 hd_port_mode_name(p->mode), p->ifname[0] ? " iface=" : "", p->ifname,
			 p->n_rxq, p->slow_txq);
		rte_tel_data_add_array_string(a, buf);
	}
	return a;
}

static int
handle_config(const char *cmd __rte_unused, const char *params __rte_unused,
	      struct rte_tel_data *d)
{
	struct rte_tel_data *listen = config_listen();
	struct rte_tel_data *ups = config_upstreams();
	struct rte_tel_data *ports = config_ports();

	if (listen == NULL || ups == NULL || ports == NULL) {
		rte_tel_data_free(listen);
		rte_tel_data_free(ups);
		rte_tel_data_free(ports);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_container(d, "listen", listen, 0);
	rte_tel_data_add_dict_container(d, "upstreams", ups, 0);
	rte_tel_data_add_dict_u64(d, "port", hd_app.cfg.port);
	rte_tel_data_add_dict_u64(d, "tcp", (uint64_t)hd_app.cfg.tcp);
	rte_tel_data_add_dict_u64(d, "udp_size", hd_app.cfg.udp_size);
	rte_tel_data_add_dict_container(d, "ports", ports, 0);
	rte_tel_data_add_dict_u64(d, "workers", hd_app.n_workers);
	return 0;
}

/* The Redis replica: this node's view of the cluster. */
static int
handle_cluster(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *d)
{
	struct hd_cluster_snap s;

	hd_cluster_snap_get(&s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "node_id", hd_app.cfg.node_id);
	rte_tel_data_add_dict_string(d, "redis", !s.enabled ? "off" :
				     hd_replica_state_name((enum hd_replica_state)s.state));
	if (s.enabled)
		rte_tel_data_add_dict_string(d, "redis_addr", s.redis_addr);
	rte_tel_data_add_dict_u64(d, "writes", s.writes);
	rte_tel_data_add_dict_u64(d, "write_dropped", s.write_dropped);
	rte_tel_data_add_dict_u64(d, "write_errors", s.write_errors);
	rte_tel_data_add_dict_u64(d, "l2_hits", s.l2_hits);
	rte_tel_data_add_dict_u64(d, "l2_misses", s.l2_misses);
	rte_tel_data_add_dict_u64(d, "l2_rejected", s.l2_rejected);
	rte_tel_data_add_dict_u64(d, "outstanding", s.outstanding);
	/* Members, totals and control sync (cluster.c). */
	return hd_cluster_telemetry(d);
}

/*
 * DPDK refuses a command silently when its help text is 128 bytes or more
 * (the command then answers null): say so instead.
 */
static void
reg(const char *cmd, telemetry_cb fn, const char *help)
{
	if (rte_telemetry_register_cmd(cmd, fn, help) != 0)
		APP_LOG(ERR, "telemetry command %s could not be registered", cmd);
}

void
hd_telemetry_register(void)
{
	reg("/heimdall/cache", handle_cache,
	    "Cache size, hit/miss/eviction/stale/prefetch counters, persistence. No parameters.");
	reg("/heimdall/upstreams", handle_upstreams,
	    "Upstream servers by rank: state, counters, RTT; the strategy. No parameters.");
	reg("/heimdall/lcores", handle_lcores,
	    "Role of each lcore: main+slow, or worker with the port queues it polls. No parameters.");
	reg("/heimdall/config", handle_config,
	    "Running configuration: listen addresses, upstreams, DNS port, ports. No parameters.");
	reg("/heimdall/cluster", handle_cluster,
	    "Node id, Redis state and L2 counters, members and their state, cluster totals. No parameters.");
	hd_policy_telemetry_register();
}
