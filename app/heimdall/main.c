/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heimdall: setup and teardown. The main lcore runs control and the slow
 * path; every other lcore is a worker (worker.c). See docs/running.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pdump.h>
#include <rte_version.h>

#include "hd_app.h"
#include "hd_http.h"
#include "hd_build_config.h"

RTE_LOG_REGISTER_DEFAULT(hd_app_logtype, INFO);

struct hd_app hd_app;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	hd_app.stop = 1;
}

static void
on_sighup(int sig)
{
	RTE_SET_USED(sig);
	hd_policy_sighup();
}

static void
signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Reload the configuration: the handler only sets a flag (policy.c). */
	sa.sa_handler = on_sighup;
	sigaction(SIGHUP, &sa, NULL);
	/* hiredis writes with write(): a Redis closing under it must not kill us. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* "--" splits EAL options from heimdall's; -1 when absent. */
static int
separator_find(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return -1;
}

/*
 * heimdall's options before the EAL sees anything: --help and --version
 * need neither root nor hugepages, and a bad option should not cost an
 * EAL start. Without "--", the whole line is searched for --help/--version.
 */
static void
own_options_parse(int argc, char **argv, struct hd_config *cfg)
{
	int sep = separator_find(argc, argv);
	char **own;
	int n, i;

	if (sep < 0) {
		for (i = 1; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
			    strcmp(argv[i], "--version") == 0) {
				char *one[] = { argv[0], argv[i], NULL };

				hd_params_parse(2, one, cfg);
			}
		/* heimdall --check-config FILE: all of it is heimdall's; it exits. */
		for (i = 1; i < argc; i++)
			if (strncmp(argv[i], "--check-config", 14) == 0)
				hd_params_parse(argc, argv, cfg);
		sep = argc - 1;
	}
	n = argc - sep;
	own = calloc((size_t)n + 1, sizeof(char *));
	if (own == NULL)
		exit(1);
	own[0] = argv[0];
	for (i = 1; i < n; i++)
		own[i] = argv[sep + i];
	hd_params_parse(n, own, cfg);
	free(own);
}

static void
log_level_apply(const char *level)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err",
		"warning", "notice", "info", "debug" };
	unsigned int i;

	for (i = 0; i < RTE_DIM(names); i++)
		if (strcmp(level, names[i]) == 0)
			rte_log_set_level_pattern("hd.*", RTE_LOG_EMERG + i);
}

static void
fp_conf_fill(struct hd_fastpath_conf *c, const struct hd_port *p, const struct hd_config *cfg)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->mac = p->mac;
	for (i = 0; i < cfg->n_listen; i++) {
		const struct hd_config_addr *a = &cfg->listen[i];

		if (a->family == AF_INET && c->n_v4 < HD_FP_ADDR_MAX)
			memcpy(&c->v4[c->n_v4++], a->addr, 4);
		else if (a->family == AF_INET6 && c->n_v6 < HD_FP_ADDR_MAX)
			memcpy(c->v6[c->n_v6++], a->addr, 16);
	}
	/* When the kernel shares the interface it answers ARP/NDP; otherwise nobody else will. */
	c->answer_arp_nd = p->mode != HD_PORT_AF_XDP;
	c->dns_port = cfg->port;
	c->udp_size = cfg->udp_size;
	c->serve_stale = cfg->serve_stale != 0;
	c->prefetch = cfg->prefetch != 0;
	c->stale_ttl = cfg->stale_ttl;
}

/* af_xdp: steer our UDP to the sockets, and let the kernel own the addresses. */
static int
port_share_with_kernel(struct hd_port *p, const struct hd_config *cfg)
{
	int ret;

	ret = hd_port_xdp_configure(p, cfg->listen, cfg->n_listen, cfg->port);
	if (ret < 0)
		return ret;
	if (!cfg->manage_addresses) {
		APP_LOG(INFO, "%s: manage-addresses is off: the listen addresses must be on %s",
			p->name, p->ifname);
		return 0;
	}
	ret = hd_port_addr_add(p, cfg->listen, cfg->n_listen);
	hd_addrs_record(p);
	return ret;
}

/* Data port @p d gets exception port @p e: it hands the kernel what is not its own. */
static int
exception_port_attach(struct hd_app *app, struct hd_port *d, struct hd_port *e)
{
	int ret;

	if (d->mode == HD_PORT_AF_XDP) {
		APP_LOG(ERR, "%s: an af_xdp port shares its interface with the kernel already: "
			"it takes no exception port (%s)", d->name, e->name);
		return -EINVAL;
	}
	ret = hd_port_exception_pair(e, d);
	if (ret < 0)
		return ret;
	if (e->n_rxq != d->n_rxq)
		APP_LOG(WARNING, "%s has %u queue(s) and %s %u: only %u worker(s) pass frames "
			"between them, the others drop what is for the kernel (tx_failed), and what "
			"the kernel sends on the other queues is lost", e->name, e->n_rxq, d->name,
			d->n_rxq, RTE_MIN(e->n_rxq, d->n_rxq));
	d->exc_port = e->port_id;
	app->fp_conf[d->port_id].to_kernel = 1;
	return 0;
}

/*
 * Exception ports (net_tap_exc*) pair with data ports in order: the first
 * with the first data port, and so on. One left over is a mistake.
 */
static int
exception_ports_pair(struct hd_app *app)
{
	uint16_t port, data = 0;
	int ret;

	RTE_ETH_FOREACH_DEV(port) {
		struct hd_port *e = &app->ports[port];

		if (e->mode != HD_PORT_EXCEPTION)
			continue;
		while (data < RTE_MAX_ETHPORTS && (!rte_eth_dev_is_valid_port(data) ||
		       app->ports[data].mode == HD_PORT_EXCEPTION))
			data++;
		if (data >= RTE_MAX_ETHPORTS) {
			APP_LOG(ERR, "%s: no data port left for this exception port (one exception "
				"port per data port, in order)", e->name);
			return -EINVAL;
		}
		ret = exception_port_attach(app, &app->ports[data], e);
		if (ret < 0)
			return ret;
		data++;
	}
	return 0;
}

static int
ports_init(struct hd_app *app)
{
	struct hd_port_params pp = {
		.n_workers = (uint16_t)app->n_workers,
		.n_mbufs = app->cfg.mbufs,
	};
	uint16_t port;
	int ret;

	RTE_ETH_FOREACH_DEV(port) {
		struct hd_port *p = &app->ports[port];

		ret = hd_port_init(p, port, &pp);
		if (ret < 0)
			return ret;
		app->n_ports++;
		/* An exception port serves no DNS: its fp_conf stays empty. */
		if (p->mode == HD_PORT_EXCEPTION)
			continue;
		fp_conf_fill(&app->fp_conf[port], p, &app->cfg);
		if (p->mode == HD_PORT_AF_XDP) {
			ret = port_share_with_kernel(p, &app->cfg);
			if (ret < 0)
				return ret;
		}
	}
	if (app->n_ports == 0) {
		APP_LOG(ERR, "no port: give one with EAL options, e.g. --vdev=net_af_xdp0,iface=eth1 "
			"or -a 0000:01:00.0 (see docs/running.md)");
		return -ENODEV;
	}
	return exception_ports_pair(app);
}

static int
cache_init(struct hd_app *app)
{
	struct hd_cache_params cp;
	size_t sz = rte_rcu_qsbr_get_memsize(app->n_workers);

	app->qsv = rte_zmalloc("hd_qsv", sz, RTE_CACHE_LINE_SIZE);
	if (app->qsv == NULL || rte_rcu_qsbr_init(app->qsv, app->n_workers) != 0) {
		APP_LOG(ERR, "cannot create the RCU variable for %u workers", app->n_workers);
		return -ENOMEM;
	}
	memset(&cp, 0, sizeof(cp));
	cp.name = "hd_cache";
	cp.max_entries = app->cfg.cache_entries;
	cp.max_bytes = app->cfg.cache_bytes;
	cp.socket_id = (int)rte_socket_id();
	cp.qsv = app->qsv;
	app->cache = hd_cache_create(&cp);
	if (app->cache == NULL) {
		APP_LOG(ERR, "cannot create the cache (%u entries): %s", cp.max_entries,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static struct rte_ring *
ring_make(const char *kind, unsigned int i, uint32_t size)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "hd_%s_%u", kind, i);
	return rte_ring_create(name, size, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
}

/*
 * Refresh requests: one pool of query copies shared by the workers (they
 * get, the slow path puts back), sized so every worker's ring can be full.
 * Refreshes are rare (once per name per second per worker at most), so the
 * pool needs no per-lcore cache.
 */
static int
refresh_pool_init(struct hd_app *app)
{
	app->refresh_pool = rte_mempool_create("hd_refresh",
		app->n_workers * app->cfg.ring_size, sizeof(struct hd_dns_query), 0, 0,
		NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
	if (app->refresh_pool == NULL) {
		APP_LOG(ERR, "cannot create the refresh pool: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

static int
workers_init(struct hd_app *app)
{
	unsigned int lcore, i = 0;
	uint16_t port;

	app->workers = rte_zmalloc("hd_workers", app->n_workers * sizeof(*app->workers),
				   RTE_CACHE_LINE_SIZE);
	if (app->workers == NULL)
		return -ENOMEM;
	if (refresh_pool_init(app) < 0)
		return -ENOMEM;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct hd_worker *w = &app->workers[i];

		w->index = i;
		w->lcore_id = lcore;
		w->miss_ring = ring_make("miss", i, app->cfg.ring_size);
		w->reply_ring = ring_make("reply", i, app->cfg.ring_size);
		w->refresh_ring = ring_make("refresh", i, app->cfg.ring_size);
		if (w->miss_ring == NULL || w->reply_ring == NULL || w->refresh_ring == NULL) {
			APP_LOG(ERR, "cannot create the rings of worker %u: %s", i,
				rte_strerror(rte_errno));
			return -ENOMEM;
		}
		RTE_ETH_FOREACH_DEV(port) {
			w->ctx[port].conf = &app->fp_conf[port];
			w->ctx[port].cache = app->cache;
			w->ctx[port].stats = &hd_stats_lcores[lcore];
		}
		i++;
	}
	return 0;
}

static void
workers_fini(struct hd_app *app)
{
	unsigned int i;

	if (app->workers == NULL)
		return;
	for (i = 0; i < app->n_workers; i++) {
		rte_ring_free(app->workers[i].miss_ring);
		rte_ring_free(app->workers[i].reply_ring);
		rte_ring_free(app->workers[i].refresh_ring);
	}
	rte_free(app->workers);
	app->workers = NULL;
	rte_mempool_free(app->refresh_pool);
	app->refresh_pool = NULL;
}

static void
workers_launch(struct hd_app *app)
{
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		rte_eal_remote_launch(hd_worker_main, &app->workers[i], app->workers[i].lcore_id);
}

static int
setup(struct hd_app *app)
{
	int ret;

	app->n_workers = rte_lcore_count() - 1;
	if (app->n_workers == 0) {
		APP_LOG(ERR, "needs at least 2 lcores (e.g. -l 0-1): the main lcore runs the slow "
			"path, the others are workers");
		return -EINVAL;
	}
	ret = ports_init(app);
	if (ret == 0)
		ret = cache_init(app);
	/* Warm from the last run before anyone reads the cache; a bad file is only logged. */
	if (ret == 0)
		hd_persist_load(app);
	if (ret == 0)
		ret = workers_init(app);
	/* Before the workers run: they start with the lists and records in place. */
	if (ret == 0)
		ret = hd_policy_init(app);
	if (ret == 0)
		ret = hd_slowpath_init(app);
	return ret;
}

static void
teardown(struct hd_app *app)
{
	uint16_t port;

	hd_slowpath_fini(app);
	hd_policy_fini(app);
	/* Ports before the cache and rings: the PMDs may still hold mbufs until closed. */
	RTE_ETH_FOREACH_DEV(port) {
		struct hd_port *p = &app->ports[port];
		int had_addrs = p->n_added > 0;

		hd_port_close(p);
		if (had_addrs)
			hd_addrs_forget(p->ifname);
	}
	workers_fini(app);
	hd_cache_free(app->cache);
	app->cache = NULL;
	rte_free(app->qsv);
	app->qsv = NULL;
}

static void
banner(const struct hd_app *app)
{
	APP_LOG(INFO, "heimdall %s (%s): %u worker(s), %u port(s); telemetry socket %s "
		"(dpdk-telemetry.py -f %s)", HD_VERSION, rte_version(), app->n_workers, app->n_ports,
		app->telemetry_path, app->file_prefix);
}

/*
 * What operators talk to: telemetry, then the parts that add HTTP routes,
 * then the HTTP server itself (its routes are fixed once it starts).
 */
static int
services_start(struct hd_app *app)
{
	hd_telemetry_register();
	if (hd_api_register(app) < 0 || hd_querylog_register(app) < 0 ||
	    hd_cluster_register(app) < 0)
		return -1;
	return hd_http_start(app);
}

static void
services_stop(void)
{
	hd_http_stop();
	/* After the HTTP thread (its handlers read the log), before the workers' memory goes. */
	hd_querylog_stop();
}

/*
 * dpdk-dumpcap (or dpdk-pdump) runs as a secondary process with our
 * --file-prefix and asks us over the EAL's multi-process channel to copy
 * what the ports receive and send into its ring. Until one asks, this
 * costs nothing on the fast path. Without the channel (--in-memory,
 * --no-shconf, --no-huge) there is no capture, and nothing else is lost.
 * @return 1 when capture is available (call rte_pdump_uninit() at exit).
 */
static int
capture_init(void)
{
	if (rte_pdump_init() == 0)
		return 1;
	APP_LOG(NOTICE, "packet capture (dpdk-dumpcap) unavailable: %s", rte_strerror(rte_errno));
	return 0;
}

int
main(int argc, char **argv)
{
	int sep = separator_find(argc, argv);
	struct hd_eal_args ea;
	int ret, code = 0, capture;

	own_options_parse(argc, argv, &hd_app.cfg);
	/* The EAL gets what precedes "--", rewritten. */
	ret = hd_eal_args_build(sep < 0 ? argc : sep, argv, &hd_app.cfg, &ea);
	if (ret < 0)
		return 1;
	if (hd_eal_prepare(&ea) < 0) {
		hd_eal_args_free(&ea);
		return 1;
	}
	signals_install();
	ret = rte_eal_init(ea.argc, ea.argv);
	if (ret < 0) {
		fprintf(stderr, "heimdall: EAL init failed: %s\n", rte_strerror(rte_errno));
		hd_eal_args_free(&ea);
		return 1;
	}
	log_level_apply(hd_app.cfg.log_level);
	capture = capture_init();
	hd_dns_edns_size_set(hd_app.cfg.udp_size);
	snprintf(hd_app.file_prefix, sizeof(hd_app.file_prefix), "%s", ea.prefix);
	snprintf(hd_app.telemetry_path, sizeof(hd_app.telemetry_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());

	if (setup(&hd_app) < 0) {
		code = 1;
	} else if (!hd_app.stop && hd_policy_start(&hd_app) < 0) {
		code = 1;
	} else if (!hd_app.stop && services_start(&hd_app) < 0) {
		code = 1;
	} else if (!hd_app.stop) {
		banner(&hd_app);
		workers_launch(&hd_app);
		hd_slowpath_run(&hd_app);
		APP_LOG(INFO, "stopping");
		hd_app.stop = 1;
		rte_eal_mp_wait_lcore();
		/* A clean stop: nothing writes the cache any more. */
		hd_persist_fini(&hd_app);
	}
	services_stop();
	teardown(&hd_app);
	if (capture)
		rte_pdump_uninit();
	APP_LOG(INFO, "stopped");
	rte_eal_cleanup();
	hd_eal_args_free(&ea);
	return code;
}
