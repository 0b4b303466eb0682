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
	struct hd_cache_stats s;

	if (hd_app.cache == NULL)
		return -ENODEV;
	hd_cache_stats_get(hd_app.cache, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "entries", s.entries);
	rte_tel_data_add_dict_u64(d, "bytes", s.bytes);
	rte_tel_data_add_dict_u64(d, "capacity", s.capacity);
	rte_tel_data_add_dict_u64(d, "max_bytes", hd_app.cfg.cache_bytes);
	rte_tel_data_add_dict_u64(d, "inserts", s.inserts);
	rte_tel_data_add_dict_u64(d, "replaced", s.replaced);
	rte_tel_data_add_dict_u64(d, "evictions", s.evictions);
	rte_tel_data_add_dict_u64(d, "expired", s.expired);
	return 0;
}

static int
handle_upstreams(const char *cmd __rte_unused, const char *params __rte_unused,
		 struct rte_tel_data *d)
{
	char addr[INET6_ADDRSTRLEN + 16], key[16];
	unsigned int i;

	/* DPDK 22.11 arrays cannot hold dicts: one dict per server, keyed by its rank. */
	rte_tel_data_start_dict(d);
	for (i = 0; i < hd_app.cfg.n_upstream && i < HD_UPSTREAM_MAX; i++) {
		const struct hd_app_upstream_snap *s = &hd_app.up_snap[i];
		struct rte_tel_data *one = rte_tel_data_alloc();

		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_string(one, "address",
			sockaddr_str(&hd_app.cfg.upstream[i], addr, sizeof(addr)));
		rte_tel_data_add_dict_u64(one, "queries", __atomic_load_n(&s->queries, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "replies", __atomic_load_n(&s->replies, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "timeouts", __atomic_load_n(&s->timeouts, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "rejected", __atomic_load_n(&s->rejected, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(one, "rtt_ms", __atomic_load_n(&s->rtt_ms, __ATOMIC_RELAXED));
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

void
hd_telemetry_register(void)
{
	rte_telemetry_register_cmd("/heimdall/cache", handle_cache,
		"Cache size and counters: entries, bytes, capacity, inserts, evictions, expired. No parameters.");
	rte_telemetry_register_cmd("/heimdall/upstreams", handle_upstreams,
		"Per upstream server, by rank in the configuration: address, queries, replies, timeouts, rejected, rtt_ms. No parameters.");
	rte_telemetry_register_cmd("/heimdall/lcores", handle_lcores,
		"Role of each lcore: main+slow, or worker with the port queues it polls. No parameters.");
	rte_telemetry_register_cmd("/heimdall/config", handle_config,
		"Running configuration: listen addresses, upstreams, DNS port, ports. No parameters.");
	hd_policy_telemetry_register();
}
