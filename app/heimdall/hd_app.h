/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_APP_H
#define HD_APP_H

/*
 * The heimdall server: shared state of the lcore roles. Private to
 * app/heimdall; libraries never include it.
 *
 * Ownership of an mbuf holding a query: the worker that received it, then
 * (on a miss) the slow path from the miss ring until the reply is sent,
 * either on the slow path's own TX queue or handed back to the worker over
 * its reply ring.
 */

#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "hd_cache.h"
#include "hd_config.h"
#include "hd_fastpath.h"
#include "hd_filter.h"
#include "hd_port.h"
#include "hd_stats.h"
#include "hd_upstream.h"

extern int hd_app_logtype;

#define APP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, hd_app_logtype, "heimdall: " fmt "\n", ##__VA_ARGS__)

#define HD_APP_BURST		32
#define HD_APP_PORTS_MAX	RTE_MAX_ETHPORTS
#define HD_APP_WORKERS_MAX	(RTE_MAX_LCORE - 1)
#define HD_APP_TX_RETRIES	4

/* Exit codes: 2 for a bad command line or configuration, as getopt tools do. */
#define HD_EXIT_USAGE	2

/** A worker's place in the data path. Written before launch, read-only after. */
struct hd_worker {
	unsigned int index;		/**< 0..n_workers-1: RCU thread id, queue id */
	unsigned int lcore_id;
	struct rte_ring *miss_ring;	/**< worker -> slow path (SP/SC) */
	struct rte_ring *reply_ring;	/**< slow path -> worker (SP/SC) */
	/**
	 * worker -> slow path (SP/SC): struct hd_dns_query objects from
	 * hd_app.refresh_pool for stale answers and prefetches. The slow path
	 * resolves each with client HD_APP_REFRESH (no reply, the answer only
	 * refills the cache) and puts the object back into the pool.
	 */
	struct rte_ring *refresh_ring;
	struct hd_fastpath_ctx ctx[HD_APP_PORTS_MAX]; /**< per port: conf differs by MAC */
	/** Per-list filter hits of this worker (every port's ctx points here). */
	uint64_t filter_hits[HD_FILTER_LISTS_MAX] __rte_cache_aligned;
} __rte_cache_aligned;

/**
 * Upstream counters copied by the slow path for telemetry (relaxed atomics),
 * by rank: the default upstreams, then each forward zone's servers in order.
 */
struct hd_app_upstream_snap {
	uint64_t queries, replies, timeouts, rejected;
	uint32_t rtt_ms;
	uint64_t failures, race_lost, down_since_ms;
	uint32_t backoff_ms;
	uint32_t down;
};

struct hd_app {
	struct hd_config cfg;
	char file_prefix[64];
	char telemetry_path[256];

	struct hd_port ports[HD_APP_PORTS_MAX];
	struct hd_fastpath_conf fp_conf[HD_APP_PORTS_MAX];
	uint16_t n_ports;

	struct hd_worker *workers;	/**< rte_zmalloc'd, n_workers entries */
	unsigned int n_workers;

	struct rte_rcu_qsbr *qsv;
	/** Readers of the published policy: workers 0..n-1, the slow path as n. */
	struct rte_rcu_qsbr *policy_qsv;
	struct hd_cache *cache;
	struct rte_mempool *refresh_pool; /**< struct hd_dns_query objects (see refresh_ring) */
	struct hd_upstream *upstream;
	struct hd_app_upstream_snap up_snap[HD_UPSTREAM_MAX];

	volatile int stop;		/**< set by SIGINT/SIGTERM */
	int stopping;			/**< slow path: shutting down, free instead of reply */
};

extern struct hd_app hd_app;

/** The "client" of a refresh request: nobody is waiting for a reply. */
#define HD_APP_REFRESH ((void *)&hd_app.refresh_pool)

/* params.c */
/**
 * Parse heimdall's own options (what follows "--"): defaults, then
 * --config FILE, then the flags. Prints --help / --version and exits 0;
 * prints a message naming the bad option and exits HD_EXIT_USAGE.
 */
void hd_params_parse(int argc, char **argv, struct hd_config *cfg);
void hd_params_usage(const char *prog);

/* eal_args.c: everything done before rte_eal_init() */
struct hd_eal_args {
	int argc;
	char **argv;		/**< given to rte_eal_init(), which may rewrite it */
	char **owned;		/**< the same strings, for freeing */
	char prefix[64];
	char ifaces[HD_APP_PORTS_MAX][IF_NAMESIZE]; /**< af_xdp interfaces */
	unsigned int n_ifaces;
};
int hd_eal_args_build(int argc, char **argv, const struct hd_config *cfg,
		      struct hd_eal_args *ea);
int hd_eal_prepare(const struct hd_eal_args *ea);
void hd_eal_args_free(struct hd_eal_args *ea);
void hd_addrs_record(const struct hd_port *p);
void hd_addrs_forget(const char *ifname);

/* worker.c */
int hd_worker_main(void *arg);

/* slowpath.c */
int hd_slowpath_init(struct hd_app *app);
void hd_slowpath_run(struct hd_app *app);
void hd_slowpath_fini(struct hd_app *app);

/** Unix time in milliseconds (wall clock: versions, log times; not for intervals). */
static inline uint64_t
hd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** @p ms from now on CLOCK_MONOTONIC, for a condition variable set to that clock. */
static inline void
hd_deadline_ms(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* files.c: what heimdall writes for the operator */
/** mkdir -p @p dir (new levels get @p mode). @return 0 or a negative errno. */
int hd_mkdirs(const char *dir, mode_t mode);
/**
 * Write @p path (a file in directory @p dir) whole or not at all: a temp
 * file beside it, fsync, rename, fsync of @p dir.
 * @return 0 or a negative errno (nothing changed then).
 */
int hd_file_write_atomic(const char *dir, const char *path, const void *data, size_t len,
			 mode_t mode);

/* telemetry.c */
void hd_telemetry_register(void);

/*
 * Parts with HTTP routes, registered before hd_http_start() (hd_http.h);
 * each may also start its own thread. @return 0 or a negative errno.
 */
int hd_api_register(struct hd_app *app);	/* api.c: the REST API */
int hd_querylog_register(struct hd_app *app);	/* querylog.c: /api/querylog */

/* querylog.c: the query log's other entry points */
/** Stop the drain thread after the workers and the slow path, flushing the file. */
void hd_querylog_stop(void);
struct rte_mbuf;
struct hd_querylog_rec;
/**
 * Slow path, before writing the reply into @p m (still the query): the
 * record to complete, or NULL (log off, ring full, sampled out).
 * @param status  enum hd_querylog_status of the answer about to be sent
 * @param taken_tsc  when the slow path took the miss (0: unknown), for its latency
 */
struct hd_querylog_rec *hd_querylog_slow_begin(const struct rte_mbuf *m, unsigned int status,
					       uint64_t taken_tsc);
/** Slow path, after the reply (@p len: its length, < 0 when dropped): publish @p r. */
void hd_querylog_slow_end(struct hd_querylog_rec *r, const struct rte_mbuf *m, int len);
int hd_cluster_register(struct hd_app *app);	/* cluster.c: /api/cluster */

/* persist.c: the cache file; every call on the slow-path thread (the cache's writer) */
struct hd_persist_stats {
	uint64_t saved_entries;		/**< entries in the last successful save */
	uint64_t loaded_entries;	/**< entries loaded at start */
	uint64_t saves;
	uint64_t save_failures;
	uint64_t last_save_wall;	/**< wall-clock seconds of the last good save (0: none) */
	int last_save_error;		/**< errno of the last save, 0 when it worked */
	int load_error;			/**< errno why the file was refused at start, or 0 */
};
/** Load cfg.cache_file into the cache (when set); after cache creation, before the workers. */
void hd_persist_load(struct hd_app *app);
/** Periodic save every cfg.cache_save_interval; call from the slow path's 100 ms timer. */
void hd_persist_tick(struct hd_app *app);
/** Save on clean shutdown, after the workers and the slow path have stopped. */
void hd_persist_fini(struct hd_app *app);
/** Counters for telemetry; any thread. */
void hd_persist_stats_get(struct hd_persist_stats *s);

/* policy.c: blocklists and local data, built off the data path and published by RCU */
/**
 * Create the policy QSBR variable and build the first policy from the
 * configuration, before the workers start. Lists that cannot be read are
 * logged and start empty; a record or zone that cannot be compiled is fatal.
 * @return 0 or a negative errno.
 */
int hd_policy_init(struct hd_app *app);
/** Start the control thread that reloads lists every list-refresh and on request. */
int hd_policy_start(struct hd_app *app);
/** Stop the control thread and free the policy; the readers have stopped. */
void hd_policy_fini(struct hd_app *app);
/** The published policy (may be NULL), for a registered policy reader. */
static inline const struct hd_fastpath_policy *
hd_policy_current(void)
{
	extern struct hd_fastpath_policy *hd_policy_published;

	return __atomic_load_n(&hd_policy_published, __ATOMIC_ACQUIRE);
}
/** Per-list hits counted by the slow path (cloaking, DNS over TCP). */
uint64_t *hd_policy_slow_hits(void);
/** lib/upstream's DNS-over-TCP policy hook (see hd_upstream_policy_t). */
int hd_policy_tcp_hook(void *arg, const struct sockaddr_storage *client,
		       const struct hd_dns_query *q, uint8_t *msg, size_t reply_len,
		       size_t cap);
/** Register /heimdall/filter, /heimdall/records, /heimdall/reload and /heimdall/control. */
void hd_policy_telemetry_register(void);
/** SIGHUP's handler: only sets a flag; the policy's control thread reloads. */
void hd_policy_sighup(void);

/* api.c: cache requests of the API (flush all, flush one name), done by the cache's writer */
/** Do the pending request, if any; the slow path's 100 ms timer calls it. */
void hd_api_cache_work(struct hd_app *app);
/** One list as /metrics shows it. */
struct hd_policy_list_stat {
	char name[HD_CONFIG_NAME_LEN];
	uint64_t rules;		/**< in the published filter, after dedup */
	uint64_t hits;		/**< queries it blocked, every lcore */
};
/** Copy up to @p max lists' stats (under the snapshot lock); any thread. @return how many. */
unsigned int hd_policy_lists_get(struct hd_policy_list_stat *out, unsigned int max);

#endif /* HD_APP_H */
