/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The option table: one row per setting, shared by the YAML loader and the
 * command line, so a key and its flag always get the same parser, range and
 * error text. Every parser writes the config only once the value is good.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hd_config.h"
#include "config_private.h"

enum opt_id {
	OPT_LISTEN,
	OPT_PORT,
	OPT_UPSTREAM,
	OPT_UPSTREAM_TIMEOUT,
	OPT_UPSTREAM_BUDGET,
	OPT_UPSTREAM_STRATEGY,
	OPT_TLS_CA_FILE,
	OPT_FORWARD_ZONE,
	OPT_CACHE_ENTRIES,
	OPT_CACHE_BYTES,
	OPT_CACHE_MIN_TTL,
	OPT_CACHE_MAX_TTL,
	OPT_CACHE_NEG_MAX_TTL,
	OPT_SERVE_STALE,
	OPT_STALE_TTL,
	OPT_STALE_WINDOW,
	OPT_PREFETCH,
	OPT_CACHE_FILE,
	OPT_CACHE_SAVE_INTERVAL,
	OPT_UDP_SIZE,
	OPT_TCP,
	OPT_MANAGE_ADDRESSES,
	OPT_RING_SIZE,
	OPT_MBUFS,
	OPT_MAX_PENDING,
	OPT_XDP_PROG,
	OPT_LOG_LEVEL,
	OPT_BLOCKLIST,
	OPT_ALLOWLIST,
	OPT_BLOCK_MODE,
	OPT_BLOCK_TTL,
	OPT_BLOCK_IPV4,
	OPT_BLOCK_IPV6,
	OPT_LIST_REFRESH,
	OPT_LIST_DIR,
	OPT_GROUP,
	OPT_RECORD,
	OPT_ZONE_FILE,
	OPT_LOCAL_ZONE,
	OPT_LOCAL_PTR,
	OPT_REDIS,
	OPT_NODE_ID,
	OPT_REDIS_PREFIX,
	OPT_REDIS_TIMEOUT,
	OPT_REDIS_SENTINEL,
	OPT_REDIS_SENTINEL_MASTER,
	OPT_REDIS_CA_FILE,
	OPT_CLUSTER_INTERVAL,
	OPT_HTTP_LISTEN,
	OPT_HTTP_PORT,
	OPT_API_TOKEN_FILE,
	OPT_STATE_DIR,
	OPT_QUERYLOG,
	OPT_QUERYLOG_FILE,
	OPT_QUERYLOG_MAX_SIZE,
	OPT_QUERYLOG_FILES,
	OPT_QUERYLOG_MEMORY,
	OPT_QUERYLOG_ANONYMIZE,
	OPT_COUNT
};

_Static_assert(OPT_COUNT <= CFG_OPTIONS_MAX, "raise CFG_OPTIONS_MAX");

enum kind {
	KIND_UINT,	/* decimal number in [min, max], stored in a field of width bytes */
	KIND_SIZE,	/* like KIND_UINT with a k/M/G/T suffix */
	KIND_BOOL,
	KIND_LISTEN,
	KIND_UPSTREAM,
	KIND_STRING,	/* copied into a char array of width bytes */
	KIND_LOG_LEVEL,
	KIND_BLOCKLIST,
	KIND_ALLOWLIST,
	KIND_BLOCK_MODE,
	KIND_IPV4,	/* an address into a 4-byte field, with the has_block_v4 flag */
	KIND_IPV6,
	KIND_DURATION,
	KIND_GROUP,
	KIND_RECORD,
	KIND_ZONE_FILE,
	KIND_LOCAL_ZONE,
	KIND_STRATEGY,
	KIND_FORWARD,
	KIND_REDIS,
	KIND_SENTINEL,	/* "HOST:PORT[,HOST:PORT...]" into a char array */
	KIND_TOKEN,	/* 1..width-1 of [A-Za-z0-9._:-], into a char array */
	KIND_CHOICE,	/* one of names[], its index into an int */
};

struct setting {
	enum kind kind;
	size_t off;
	size_t width;
	uint64_t min;
	uint64_t max;
	bool pow2;
	const char *const *names;	/* KIND_CHOICE: NULL-terminated */
};

#define FIELD(f) \
	.off = offsetof(struct hd_config, f), \
	.width = sizeof(((struct hd_config *)0)->f)

#define TTL_MAX 2147483647ULL	/* RFC 2181 section 8 */

/* By enum hd_config_anonymize. */
static const char *const hd_config_anonymize_names[] = { "none", "mask", "hide", NULL };

static const struct hd_config_option options[OPT_COUNT + 1] = {
	[OPT_LISTEN] = { "listen", "ADDR[/PREFIX]",
		"IPv4 or IPv6 address to answer on, with the prefix length used when adding it "
		"to the interface (default: none; prefix 24 for IPv4, 64 for IPv6); repeat for "
		"more, up to 8", 1, 0 },
	[OPT_PORT] = { "port", "PORT",
		"DNS port served on the listen addresses (default: 53)", 0, 0 },
	[OPT_UPSTREAM] = { "upstream", "[tls://]ADDR[:PORT][#NAME]",
		"upstream resolver as IP, IP:PORT, IPv6 or [IPv6]:PORT (default: none; port 53), "
		"or DNS over TLS as tls://IP[:PORT][#NAME] (port 853; the certificate must hold "
		"NAME, or the IP when no name is given); repeat for more, up to 8", 1, 0 },
	[OPT_UPSTREAM_TIMEOUT] = { "upstream-timeout-ms", "MS",
		"time one upstream attempt may take before the next one (default: 800; "
		"10..60000)", 0, 0 },
	[OPT_UPSTREAM_BUDGET] = { "upstream-budget-ms", "MS",
		"total time for a query's upstream attempts before answering SERVFAIL "
		"(default: 2500; 10..600000)", 0, 0 },
	[OPT_UPSTREAM_STRATEGY] = { "upstream-strategy", "STRATEGY",
		"how a query picks among the upstreams: strict (in order, the next one on "
		"failure), round_robin, fastest (lowest smoothed RTT, with occasional probes of "
		"the others) or parallel (race the best two) (default: fastest)", 0, 0 },
	[OPT_TLS_CA_FILE] = { "tls-ca-file", "PATH",
		"PEM file of the certificate authorities trusted for DNS-over-TLS upstreams "
		"(default: none, the system's trust store)", 0, 0 },
	[OPT_FORWARD_ZONE] = { "forward-zone", "DOMAIN=SERVER[,SERVER...]",
		"send questions for DOMAIN and the names below it to these servers (up to 4, "
		"written as for upstream, tls:// included) instead of the upstreams; the longest "
		"matching domain wins (default: none); repeat for more, up to 32", 1, 0 },
	[OPT_CACHE_ENTRIES] = { "cache.entries", "COUNT",
		"most answers kept in the cache (default: 262144; 64..1073741824)", 0, 0 },
	[OPT_CACHE_BYTES] = { "cache.bytes", "SIZE",
		"most memory for cached answers, with an optional k, M, G or T suffix "
		"(default: 256M; 64k..1T)", 0, 0 },
	[OPT_CACHE_MIN_TTL] = { "cache.min-ttl", "SECONDS",
		"shortest time an answer is kept; smaller TTLs are raised to it (default: 0)",
		0, 0 },
	[OPT_CACHE_MAX_TTL] = { "cache.max-ttl", "SECONDS",
		"longest time an answer is kept; larger TTLs are lowered to it "
		"(default: 86400)", 0, 0 },
	[OPT_CACHE_NEG_MAX_TTL] = { "cache.negative-max-ttl", "SECONDS",
		"longest time an NXDOMAIN or NODATA answer is kept (default: 3600)", 0, 0 },
	[OPT_SERVE_STALE] = { "serve-stale", NULL,
		"answer from an expired cache entry while it is refreshed, and when no upstream "
		"answers (RFC 8767) (default: on)", 0, 1 },
	[OPT_STALE_TTL] = { "stale-ttl", "SECONDS",
		"TTL of the records of a stale answer (default: 30; 1..3600)", 0, 0 },
	[OPT_STALE_WINDOW] = { "stale-window", "DURATION",
		"how long past its expiry an entry may still be answered, in seconds or with an "
		"s, m, h or d suffix; 0 turns serve-stale off (default: 1d; 0..7d)", 0, 0 },
	[OPT_PREFETCH] = { "prefetch", NULL,
		"refresh a popular cache entry shortly before it expires (default: on)", 0, 1 },
	[OPT_CACHE_FILE] = { "cache-file", "PATH",
		"file the cache is saved to at a clean exit and loaded from at start, with the "
		"TTLs aged (default: none, no persistence)", 0, 0 },
	[OPT_CACHE_SAVE_INTERVAL] = { "cache-save-interval", "DURATION",
		"also save the cache to cache-file this often, in seconds or with an s, m, h or d "
		"suffix; 0: only at a clean exit (default: 0; 0..365d)", 0, 0 },
	[OPT_UDP_SIZE] = { "udp-size", "BYTES",
		"EDNS UDP payload size advertised to clients and upstreams (default: 1232; "
		"512..4096)", 0, 0 },
	[OPT_TCP] = { "tcp", NULL,
		"serve DNS over TCP on the listen addresses (default: on; --no-tcp turns it off)",
		0, 1 },
	[OPT_MANAGE_ADDRESSES] = { "manage-addresses", NULL,
		"on af_xdp ports, add missing listen addresses to the interface and remove them "
		"at exit (default: on)", 0, 1 },
	[OPT_RING_SIZE] = { "ring-size", "COUNT",
		"entries of each worker's miss ring to the slow path, a power of two "
		"(default: 4096; 64..65536)", 0, 0 },
	[OPT_MBUFS] = { "mbufs", "COUNT",
		"packet buffers in the mbuf pool (default: 16383; 1023..16777215)", 0, 0 },
	[OPT_MAX_PENDING] = { "max-pending", "COUNT",
		"most queries waiting for an upstream answer at once (default: 4096; "
		"1..1048576)", 0, 0 },
	[OPT_XDP_PROG] = { "xdp-prog", "PATH",
		"XDP steering object loaded on af_xdp ports (default: the one built with "
		"heimdall)", 0, 0 },
	[OPT_LOG_LEVEL] = { "log-level", "LEVEL",
		"emerg, alert, crit, err, warning, notice, info or debug (default: info)", 0, 0 },
	[OPT_BLOCKLIST] = { "blocklist", "[NAME=]PATH|URL",
		"list of names to block: a file, or an http(s) URL downloaded and refreshed "
		"every list-refresh; hosts, domains, AdBlock, wildcard, dnsmasq and unbound "
		"syntaxes are detected (default: none); repeat for more", 1, 0 },
	[OPT_ALLOWLIST] = { "allowlist", "[NAME=]PATH|URL",
		"list of names never blocked, in the same forms and syntaxes as blocklist "
		"(default: none); repeat for more", 1, 0 },
	[OPT_BLOCK_MODE] = { "block-mode", "MODE",
		"answer to a blocked name: nxdomain, nodata, null (0.0.0.0 / ::), custom "
		"(block-ipv4 / block-ipv6) or refused (default: null)", 0, 0 },
	[OPT_BLOCK_TTL] = { "block-ttl", "SECONDS",
		"TTL of block answers (default: 10; 0..86400)", 0, 0 },
	[OPT_BLOCK_IPV4] = { "block-ipv4", "ADDR",
		"address answered for blocked A queries in mode custom (default: none, "
		"NODATA)", 0, 0 },
	[OPT_BLOCK_IPV6] = { "block-ipv6", "ADDR",
		"address answered for blocked AAAA queries in mode custom (default: none, "
		"NODATA)", 0, 0 },
	[OPT_LIST_REFRESH] = { "list-refresh", "DURATION",
		"how often lists are downloaded or re-read, in seconds or with an s, m, h or "
		"d suffix; 0: only at start and on /heimdall/reload (default: 24h)", 0, 0 },
	[OPT_LIST_DIR] = { "list-dir", "DIR",
		"where the last good copy of each downloaded list is kept, used when a "
		"download fails (default: /var/lib/heimdall/lists)", 0, 0 },
	[OPT_GROUP] = { "group", "NAME=SUBNET[,SUBNET...][:LIST[,LIST...]]",
		"client group: clients in the subnets use only the lists named; an empty "
		"list part (\"kids=10.0.0.9/32:\") bypasses blocking; clients in no group "
		"use every list (default: none); repeat for more", 1, 0 },
	[OPT_RECORD] = { "record", "\"NAME [TTL] TYPE VALUE\"",
		"local record in zone-file syntax with an absolute name, e.g. "
		"\"nas.lab.home.arpa A 192.168.1.10\" (default: none); repeat for more", 1, 0 },
	[OPT_ZONE_FILE] = { "zone-file", "PATH",
		"RFC 1035 zone file served as an authoritative local zone (default: none); "
		"repeat for more", 1, 0 },
	[OPT_LOCAL_ZONE] = { "local-zone", "NAME",
		"make NAME an authoritative local zone: names under it without records get "
		"NXDOMAIN (default: none); repeat for more", 1, 0 },
	[OPT_LOCAL_PTR] = { "local-ptr", NULL,
		"answer reverse (PTR) queries for the addresses of local A/AAAA records "
		"(default: on)", 0, 1 },
	[OPT_REDIS] = { "redis", "redis://[USER:PASS@]HOST[:PORT][/DB]",
		"Redis shared by the cluster as a second-level cache (default: none; port 6379, "
		"db 0)", 0, 0 },
	[OPT_NODE_ID] = { "node-id", "NAME",
		"this node's name in the cluster, letters, digits and ._:- (default: the host "
		"name)", 0, 0 },
	[OPT_REDIS_PREFIX] = { "redis-prefix", "PREFIX",
		"prefix of every Redis key, letters, digits and ._:- (default: heimdall)", 0, 0 },
	[OPT_REDIS_TIMEOUT] = { "redis-timeout-ms", "MS",
		"longest wait for a Redis lookup before asking the upstream; connecting may "
		"take 10 times as long, at least 1 s (default: 20; 1..10000)", 0, 0 },
	[OPT_REDIS_SENTINEL] = { "redis-sentinel", "HOST:PORT[,HOST:PORT...]",
		"Redis Sentinels to ask for the master named by redis-sentinel-master; the "
		"redis URL then gives only credentials and db (default: none)", 0, 0 },
	[OPT_REDIS_SENTINEL_MASTER] = { "redis-sentinel-master", "NAME",
		"the master's name known to the Sentinels (default: mymaster)", 0, 0 },
	[OPT_REDIS_CA_FILE] = { "redis-ca-file", "PATH",
		"CA bundle that verifies a rediss:// server (default: the system's)", 0, 0 },
	[OPT_CLUSTER_INTERVAL] = { "cluster-interval", "DURATION",
		"how often a node renews its membership and publishes its counters; it is "
		"dropped after 3 missed renewals (default: 5s; 1s..1h)", 0, 0 },
	[OPT_HTTP_LISTEN] = { "http-listen", "ADDR",
		"address of the HTTP server (metrics, health, API) (default: 127.0.0.1)", 0, 0 },
	[OPT_HTTP_PORT] = { "http-port", "PORT",
		"port of the HTTP server; 0: no HTTP server (default: 8053)", 0, 0 },
	[OPT_API_TOKEN_FILE] = { "api-token-file", "PATH",
		"file holding the token the API's write calls need; HEIMDALL_API_TOKEN in the "
		"environment also works (default: none: the API is read-only)", 0, 0 },
	[OPT_STATE_DIR] = { "state-dir", "DIR",
		"where changes made through the API are kept across restarts "
		"(default: /var/lib/heimdall)", 0, 0 },
	[OPT_QUERYLOG] = { "querylog", NULL,
		"keep a log of queries for the API and the top lists (default: on)", 0, 1 },
	[OPT_QUERYLOG_FILE] = { "querylog-file", "PATH",
		"also write the query log there as JSON lines (default: none)", 0, 0 },
	[OPT_QUERYLOG_MAX_SIZE] = { "querylog-max-size", "SIZE",
		"rotate the query log file at this size (default: 64M; 64k..1T)", 0, 0 },
	[OPT_QUERYLOG_FILES] = { "querylog-files", "COUNT",
		"rotated query log files kept (default: 5; 1..100)", 0, 0 },
	[OPT_QUERYLOG_MEMORY] = { "querylog-memory", "COUNT",
		"latest queries kept in memory for /api/querylog (default: 10000; "
		"0..10000000)", 0, 0 },
	[OPT_QUERYLOG_ANONYMIZE] = { "querylog-anonymize", "MODE",
		"client addresses in the query log: none, mask (IPv4 /24, IPv6 /48) or hide "
		"(default: none)", 0, 0 },
	[OPT_COUNT] = { NULL, NULL, NULL, 0, 0 },
};

static const struct setting settings[OPT_COUNT] = {
	[OPT_LISTEN] = { .kind = KIND_LISTEN },
	[OPT_PORT] = { KIND_UINT, FIELD(port), .min = 1, .max = 65535 },
	[OPT_UPSTREAM] = { .kind = KIND_UPSTREAM },
	[OPT_UPSTREAM_TIMEOUT] = { KIND_UINT, FIELD(upstream_timeout_ms),
		.min = 10, .max = 60000 },
	[OPT_UPSTREAM_BUDGET] = { KIND_UINT, FIELD(upstream_budget_ms),
		.min = 10, .max = 600000 },
	[OPT_UPSTREAM_STRATEGY] = { .kind = KIND_STRATEGY },
	[OPT_TLS_CA_FILE] = { KIND_STRING, FIELD(tls_ca_file) },
	[OPT_FORWARD_ZONE] = { .kind = KIND_FORWARD },
	[OPT_CACHE_ENTRIES] = { KIND_UINT, FIELD(cache_entries),
		.min = 64, .max = 1ULL << 30 },
	[OPT_CACHE_BYTES] = { KIND_SIZE, FIELD(cache_bytes),
		.min = 64ULL << 10, .max = 1ULL << 40 },
	[OPT_CACHE_MIN_TTL] = { KIND_UINT, FIELD(cache_min_ttl), .min = 0, .max = TTL_MAX },
	[OPT_CACHE_MAX_TTL] = { KIND_UINT, FIELD(cache_max_ttl), .min = 1, .max = TTL_MAX },
	[OPT_CACHE_NEG_MAX_TTL] = { KIND_UINT, FIELD(cache_neg_max_ttl),
		.min = 0, .max = TTL_MAX },
	[OPT_SERVE_STALE] = { KIND_BOOL, FIELD(serve_stale) },
	[OPT_STALE_TTL] = { KIND_UINT, FIELD(stale_ttl), .min = 1, .max = 3600 },
	[OPT_STALE_WINDOW] = { KIND_DURATION, FIELD(stale_window), .max = 7 * 86400 },
	[OPT_PREFETCH] = { KIND_BOOL, FIELD(prefetch) },
	[OPT_CACHE_FILE] = { KIND_STRING, FIELD(cache_file) },
	[OPT_CACHE_SAVE_INTERVAL] = { KIND_DURATION, FIELD(cache_save_interval),
		.max = 365 * 86400 },
	[OPT_UDP_SIZE] = { KIND_UINT, FIELD(udp_size), .min = 512, .max = 4096 },
	[OPT_TCP] = { KIND_BOOL, FIELD(tcp) },
	[OPT_MANAGE_ADDRESSES] = { KIND_BOOL, FIELD(manage_addresses) },
	[OPT_RING_SIZE] = { KIND_UINT, FIELD(ring_size), .min = 64, .max = 65536,
		.pow2 = true },
	[OPT_MBUFS] = { KIND_UINT, FIELD(mbufs), .min = 1023, .max = 16777215 },
	[OPT_MAX_PENDING] = { KIND_UINT, FIELD(max_pending), .min = 1, .max = 1048576 },
	[OPT_XDP_PROG] = { KIND_STRING, FIELD(xdp_prog) },
	[OPT_LOG_LEVEL] = { KIND_LOG_LEVEL, FIELD(log_level) },
	[OPT_BLOCKLIST] = { .kind = KIND_BLOCKLIST },
	[OPT_ALLOWLIST] = { .kind = KIND_ALLOWLIST },
	[OPT_BLOCK_MODE] = { .kind = KIND_BLOCK_MODE },
	[OPT_BLOCK_TTL] = { KIND_UINT, FIELD(block_ttl), .min = 0, .max = 86400 },
	[OPT_BLOCK_IPV4] = { KIND_IPV4, FIELD(block_v4) },
	[OPT_BLOCK_IPV6] = { KIND_IPV6, FIELD(block_v6) },
	[OPT_LIST_REFRESH] = { KIND_DURATION, FIELD(list_refresh), .max = 365 * 86400 },
	[OPT_LIST_DIR] = { KIND_STRING, FIELD(list_dir) },
	[OPT_GROUP] = { .kind = KIND_GROUP },
	[OPT_RECORD] = { .kind = KIND_RECORD },
	[OPT_ZONE_FILE] = { .kind = KIND_ZONE_FILE },
	[OPT_LOCAL_ZONE] = { .kind = KIND_LOCAL_ZONE },
	[OPT_LOCAL_PTR] = { KIND_BOOL, FIELD(local_ptr) },
	[OPT_REDIS] = { KIND_REDIS, FIELD(redis) },
	[OPT_NODE_ID] = { KIND_TOKEN, FIELD(node_id) },
	[OPT_REDIS_PREFIX] = { KIND_TOKEN, FIELD(redis_prefix) },
	[OPT_REDIS_TIMEOUT] = { KIND_UINT, FIELD(redis_timeout_ms), .min = 1, .max = 10000 },
	[OPT_REDIS_SENTINEL] = { KIND_SENTINEL, FIELD(redis_sentinel) },
	[OPT_REDIS_SENTINEL_MASTER] = { KIND_TOKEN, FIELD(redis_sentinel_master) },
	[OPT_REDIS_CA_FILE] = { KIND_STRING, FIELD(redis_ca_file) },
	[OPT_CLUSTER_INTERVAL] = { KIND_DURATION, FIELD(cluster_interval), .min = 1,
		.max = 3600 },
	[OPT_HTTP_LISTEN] = { KIND_STRING, FIELD(http_listen) },
	[OPT_HTTP_PORT] = { KIND_UINT, FIELD(http_port), .min = 0, .max = 65535 },
	[OPT_API_TOKEN_FILE] = { KIND_STRING, FIELD(api_token_file) },
	[OPT_STATE_DIR] = { KIND_STRING, FIELD(state_dir) },
	[OPT_QUERYLOG] = { KIND_BOOL, FIELD(querylog) },
	[OPT_QUERYLOG_FILE] = { KIND_STRING, FIELD(querylog_file) },
	[OPT_QUERYLOG_MAX_SIZE] = { KIND_SIZE, FIELD(querylog_max_size),
		.min = 64ULL << 10, .max = 1ULL << 40 },
	[OPT_QUERYLOG_FILES] = { KIND_UINT, FIELD(querylog_files), .min = 1, .max = 100 },
	[OPT_QUERYLOG_MEMORY] = { KIND_UINT, FIELD(querylog_memory), .min = 0,
		.max = 10000000 },
	[OPT_QUERYLOG_ANONYMIZE] = { KIND_CHOICE, FIELD(querylog_anonymize),
		.names = hd_config_anonymize_names },
};

/* Canonical names first; the aliases are DPDK's spelling of the same levels. */
static const struct {
	const char *name;
	const char *canonical;
} log_levels[] = {
	{ "emerg", "emerg" }, { "alert", "alert" }, { "crit", "crit" },
	{ "err", "err" }, { "warning", "warning" }, { "notice", "notice" },
	{ "info", "info" }, { "debug", "debug" },
	{ "emergency", "emerg" }, { "critical", "crit" }, { "error", "err" },
	{ "warn", "warning" },
};

void
cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * "heimdall.yaml:3: listen: '...' is not ...". A flag ("--listen") already
 * names the setting, so the key is not repeated after it.
 */
void
cfg_value_err(char *err, size_t errlen, const char *where, const char *key,
	      const char *value, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (where == NULL || where[0] == '\0')
		cfg_err(err, errlen, "%s: '%s' %s", key, value, what);
	else if (strncmp(where, "--", 2) == 0)
		cfg_err(err, errlen, "%s: '%s' %s", where, value, what);
	else
		cfg_err(err, errlen, "%s: %s: '%s' %s", where, key, value, what);
}

int
cfg_option_index(const char *key)
{
	for (int i = 0; i < OPT_COUNT; i++)
		if (strcmp(options[i].key, key) == 0)
			return i;
	return -1;
}

int
cfg_is_prefix(const char *prefix)
{
	size_t len = strlen(prefix);

	for (int i = 0; i < OPT_COUNT; i++)
		if (strncmp(options[i].key, prefix, len) == 0 && options[i].key[len] == '.')
			return 1;
	return 0;
}

/* Levenshtein distance; keys longer than the row are never close anyway. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[CFG_KEY_MAX + 1];

	if (la > CFG_KEY_MAX || lb > CFG_KEY_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * A typo is a couple of edits, more on long keys. Flags written as keys
 * ("cache-max-ttl") are one edit away and so are suggested too.
 */
static const char *
suggest(const char *key)
{
	size_t limit = strlen(key) / 4;
	size_t best = SIZE_MAX;
	const char *found = NULL;

	if (limit < 2)
		limit = 2;
	for (int i = 0; i < OPT_COUNT; i++) {
		size_t d = edit_distance(key, options[i].key);

		if (d < best) {
			best = d;
			found = options[i].key;
		}
	}
	return best <= limit ? found : NULL;
}

void
cfg_unknown_key(char *err, size_t errlen, const char *where, const char *key)
{
	const char *near = suggest(key);
	const char *sep = where != NULL && where[0] != '\0' ? ": " : "";

	if (where == NULL)
		where = "";
	if (near != NULL)
		cfg_err(err, errlen, "%s%sunknown key '%s' (did you mean '%s'?)",
			where, sep, key, near);
	else
		cfg_err(err, errlen, "%s%sunknown key '%s'", where, sep, key);
}

/* Decimal only, no sign, no blanks: strtoull alone would take " -1" as 2^64-1. */
static int
parse_u64(const char *s, uint64_t *out, char **end)
{
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

static void
store_uint(struct hd_config *c, const struct setting *s, uint64_t v)
{
	void *p = (char *)c + s->off;

	switch (s->width) {
	case sizeof(uint16_t):
		*(uint16_t *)p = (uint16_t)v;
		break;
	case sizeof(uint32_t):
		*(uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(uint64_t *)p = v;
		break;
	}
}

static int
set_uint(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	 const char *where, char *err, size_t errlen)
{
	const char *what = s->pow2 ? "a power of two" : "a number";
	unsigned long long lo = s->min, hi = s->max;
	uint64_t v = 0;
	char *end = NULL;
	int rc;

	rc = parse_u64(value, &v, &end);
	if (rc == 0 && *end != '\0')
		rc = -EINVAL;
	if (rc == -EINVAL) {
		cfg_value_err(err, errlen, where, key, value,
			  "is not a number (expected %s in %llu..%llu)", what, lo, hi);
		return -EINVAL;
	}
	if (rc == -ERANGE || v < s->min || v > s->max) {
		cfg_value_err(err, errlen, where, key, value,
			  "is out of range (expected %s in %llu..%llu)", what, lo, hi);
		return -EINVAL;
	}
	if (s->pow2 && (v & (v - 1)) != 0) {
		cfg_value_err(err, errlen, where, key, value,
			  "is not a power of two (expected %s in %llu..%llu)", what, lo, hi);
		return -EINVAL;
	}
	store_uint(c, s, v);
	return 0;
}

/* "256M" rather than 268435456 in messages, to match how sizes are written. */
static void
format_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "TGMk";

	for (int i = 0; i < 4; i++) {
		unsigned int shift = 40 - 10 * i;

		if (v != 0 && (v & ((1ULL << shift) - 1)) == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(v >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

static int
size_suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K':
		return 10;
	case 'm': case 'M':
		return 20;
	case 'g': case 'G':
		return 30;
	case 't': case 'T':
		return 40;
	default:
		return -1;
	}
}

static int
set_size(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	 const char *where, char *err, size_t errlen)
{
	char lo[32], hi[32];
	uint64_t v = 0;
	char *end = NULL;
	int rc, shift = 0;

	format_size(lo, sizeof(lo), s->min);
	format_size(hi, sizeof(hi), s->max);
	rc = parse_u64(value, &v, &end);
	if (rc == 0 && *end != '\0') {
		shift = size_suffix_shift(*end);
		if (shift < 0 || end[1] != '\0')
			rc = -EINVAL;
	}
	if (rc == -EINVAL) {
		cfg_value_err(err, errlen, where, key, value, "is not a size (expected a number "
			  "with an optional k, M, G or T suffix in %s..%s)", lo, hi);
		return -EINVAL;
	}
	if (rc == 0 && v > (UINT64_MAX >> shift))
		rc = -ERANGE;
	v <<= shift;
	if (rc == -ERANGE || v < s->min || v > s->max) {
		cfg_value_err(err, errlen, where, key, value, "is out of range (expected a size "
			  "in %s..%s)", lo, hi);
		return -EINVAL;
	}
	store_uint(c, s, v);
	return 0;
}

int
cfg_parse_bool(const char *value)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return 1;
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int
set_bool(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	 const char *where, char *err, size_t errlen)
{
	int v = cfg_parse_bool(value);

	if (v < 0) {
		cfg_value_err(err, errlen, where, key, value, "%s", CFG_BOOL_EXPECTED);
		return -EINVAL;
	}
	*(int *)((char *)c + s->off) = v;
	return 0;
}

/*
 * Addresses heimdall could never answer on or send to: unspecified,
 * multicast, IPv4 class E and broadcast, and IPv4-mapped IPv6 (write the
 * IPv4 form instead, so each address has one spelling).
 */
bool
cfg_usable_unicast(int family, const uint8_t *a)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_INET)
		return memcmp(a, zero, 4) != 0 && a[0] < 224;
	return memcmp(a, zero, 16) != 0 && a[0] != 0xff && memcmp(a, mapped, 12) != 0;
}

int
cfg_parse_ip(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int
set_listen(struct hd_config *c, const char *key, const char *value,
	   const char *where, char *err, size_t errlen)
{
	struct hd_config_addr a = { 0 };
	char ip[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(value, '/');
	size_t iplen = slash != NULL ? (size_t)(slash - value) : strlen(value);
	unsigned int max_prefix;
	uint64_t prefix;
	char *end = NULL;

	if (iplen >= sizeof(ip))
		goto not_addr;
	memcpy(ip, value, iplen);
	ip[iplen] = '\0';
	if (cfg_parse_ip(ip, &a.family, a.addr) < 0)
		goto not_addr;
	max_prefix = a.family == AF_INET ? 32 : 128;
	a.prefix = a.family == AF_INET ? 24 : 64;
	if (slash != NULL) {
		if (parse_u64(slash + 1, &prefix, &end) < 0 || *end != '\0' ||
		    prefix < 1 || prefix > max_prefix) {
			cfg_value_err(err, errlen, where, key, value,
				  "has a bad prefix length (expected /1../%u)", max_prefix);
			return -EINVAL;
		}
		a.prefix = (uint8_t)prefix;
	}
	if (!cfg_usable_unicast(a.family, a.addr)) {
		cfg_value_err(err, errlen, where, key, value, "is not a unicast address");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < c->n_listen; i++) {
		if (c->listen[i].family == a.family &&
		    memcmp(c->listen[i].addr, a.addr, 16) == 0) {
			cfg_value_err(err, errlen, where, key, value, "is given twice");
			return -EINVAL;
		}
	}
	if (c->n_listen >= HD_CONFIG_LISTEN_MAX) {
		cfg_value_err(err, errlen, where, key, value, "is one address too many "
			  "(at most %d)", HD_CONFIG_LISTEN_MAX);
		return -EINVAL;
	}
	c->listen[c->n_listen++] = a;
	return 0;

not_addr:
	cfg_value_err(err, errlen, where, key, value, "is not an IPv4 or IPv6 address");
	return -EINVAL;
}

static int
set_string(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	   const char *where, char *err, size_t errlen)
{
	size_t len = strlen(value);

	/* "" is the default (the built-in object), so a file can spell it out. */
	if (len >= s->width) {
		cfg_value_err(err, errlen, where, key, value, "is too long for a path "
			  "(expected at most %zu bytes)", s->width - 1);
		return -EINVAL;
	}
	memcpy((char *)c + s->off, value, len + 1);
	return 0;
}

static int
set_log_level(struct hd_config *c, const struct setting *s, const char *key,
	      const char *value, const char *where, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcasecmp(value, log_levels[i].name) == 0) {
			snprintf((char *)c + s->off, s->width, "%s", log_levels[i].canonical);
			return 0;
		}
	}
	cfg_value_err(err, errlen, where, key, value, "is not a log level (expected emerg, "
		  "alert, crit, err, warning, notice, info or debug)");
	return -EINVAL;
}

static bool
token_ok(const char *v, size_t max)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("._:-", v[i]) == NULL)
			return false;
	return i > 0 && i <= max;
}

/* node-id, redis-prefix: they end up in Redis keys and logs, so no blanks. */
static int
set_token(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	  const char *where, char *err, size_t errlen)
{
	if (!token_ok(value, s->width - 1)) {
		cfg_value_err(err, errlen, where, key, value, "is not a name (expected 1 to %zu "
			      "letters, digits, '.', '_', ':' or '-')", s->width - 1);
		return -EINVAL;
	}
	memcpy((char *)c + s->off, value, strlen(value) + 1);
	return 0;
}

void
cfg_node_id_default(char *out, size_t len)
{
	char host[256] = "";
	size_t i;

	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	/* Keep what a node-id may hold, cut at the first character it may not. */
	for (i = 0; host[i] != '\0' && i + 1 < len; i++)
		if (!isalnum((unsigned char)host[i]) && strchr("._:-", host[i]) == NULL)
			break;
	host[i] = '\0';
	snprintf(out, len, "%s", i > 0 ? host : "heimdall");
}

/* The URL with its password hidden, for messages. */
static void
redis_redact(const char *value, char *out, size_t len)
{
	const char *at = strrchr(value, '@');
	const char *colon;

	size_t skip = strncmp(value, "rediss://", 9) == 0 ? 9 : 8;

	snprintf(out, len, "%s", value);
	if (at == NULL || (strncmp(value, "redis://", 8) != 0 && skip != 9) ||
	    at < value + skip)
		return;
	colon = memchr(value + skip, ':', (size_t)(at - value - skip));
	if (colon != NULL)
		snprintf(out, len, "%.*s:***%s", (int)(colon - value), value, at);
}

/* host[:port] or [v6][:port]. @return NULL when fine, else what is wrong. */
static const char *
redis_hostport(const char *hp, size_t n, struct hd_config_redis *r)
{
	const char *port = NULL, *host = hp;
	size_t hlen = n;
	uint64_t v;
	char num[8], *end;

	if (n > 0 && hp[0] == '[') {
		const char *close = memchr(hp, ']', n);

		if (close == NULL)
			return "has an unclosed '['";
		host = hp + 1;
		hlen = (size_t)(close - hp - 1);
		if (close + 1 < hp + n) {
			if (close[1] != ':')
				return "has something after ']' that is not :PORT";
			port = close + 2;
		}
	} else {
		const char *colon = memchr(hp, ':', n);

		if (colon != NULL) {
			hlen = (size_t)(colon - hp);
			port = colon + 1;
		}
	}
	if (hlen == 0 || hlen >= sizeof(r->host))
		return "has no host (or one too long)";
	memcpy(r->host, host, hlen);
	r->host[hlen] = '\0';
	r->port = 6379;
	if (port != NULL) {
		size_t plen = (size_t)(hp + n - port);

		if (plen == 0 || plen >= sizeof(num))
			return "has a bad port (expected 1..65535)";
		memcpy(num, port, plen);
		num[plen] = '\0';
		if (parse_u64(num, &v, &end) != 0 || *end != '\0' || v == 0 || v > 65535)
			return "has a bad port (expected 1..65535)";
		r->port = (uint16_t)v;
	}
	return NULL;
}

/* "redis[s]://[user:pass@]host[:port][/db]". @return NULL when fine, else what is wrong. */
static const char *
redis_parse(const char *value, struct hd_config_redis *r)
{
	const char *rest, *at, *slash, *colon, *why;
	uint64_t v;
	char *end;

	memset(r, 0, sizeof(*r));
	if (strncmp(value, "rediss://", 9) == 0)
		r->tls = 1;
	else if (strncmp(value, "redis://", 8) != 0)
		return "is not a redis:// or rediss:// URL";
	rest = value + (r->tls ? 9 : 8);
	at = strrchr(rest, '@');
	if (at != NULL) {
		colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon == NULL)
			return "has credentials without ':' (expected USER:PASS@ or :PASS@)";
		if ((size_t)(colon - rest) >= sizeof(r->user) ||
		    (size_t)(at - colon - 1) >= sizeof(r->password))
			return "has a user or password too long";
		memcpy(r->user, rest, (size_t)(colon - rest));
		memcpy(r->password, colon + 1, (size_t)(at - colon - 1));
		if (r->password[0] == '\0')
			return "has an empty password";
		rest = at + 1;
	}
	slash = strchr(rest, '/');
	why = redis_hostport(rest, slash != NULL ? (size_t)(slash - rest) : strlen(rest), r);
	if (why != NULL)
		return why;
	if (slash != NULL && slash[1] != '\0') {
		if (parse_u64(slash + 1, &v, &end) != 0 || *end != '\0' || v > 15)
			return "has a bad database number (expected 0..15)";
		r->db = (uint32_t)v;
	}
	r->enabled = 1;
	return NULL;
}

static int
set_redis(struct hd_config *c, const char *key, const char *value, const char *where,
	  char *err, size_t errlen)
{
	struct hd_config_redis r;
	const char *why;
	char shown[512];

	/* "" turns it off again, so a file's setting can be undone on the command line. */
	if (value[0] == '\0') {
		memset(&c->redis, 0, sizeof(c->redis));
		return 0;
	}
	why = redis_parse(value, &r);
	if (why != NULL) {
		redis_redact(value, shown, sizeof(shown));
		cfg_value_err(err, errlen, where, key, shown, "%s", why);
		memset(&r, 0, sizeof(r));
		return -EINVAL;
	}
	c->redis = r;
	return 0;
}

/* One Sentinel, "HOST:PORT" or "[V6]:PORT" (@p n bytes): what is wrong, or NULL. */
static const char *
sentinel_check(const char *e, size_t n)
{
	struct hd_config_redis tmp;
	const char *close;

	if (n == 0)
		return "is empty";
	close = e[0] == '[' ? memchr(e, ']', n) : NULL;
	/* A port is required: a Sentinel has none by default worth guessing. */
	if (e[0] == '[' ? close == NULL || close + 1 >= e + n || close[1] != ':' :
	    memchr(e, ':', n) == NULL)
		return "has no :PORT";
	if (e[0] != '[' && memchr(e, ':', n) != memrchr(e, ':', n))
		return "is an IPv6 address without [brackets]";
	return redis_hostport(e, n, &tmp);
}

/* redis-sentinel: "HOST:PORT[,HOST:PORT...]" (at most 8); "" for none. */
static int
set_sentinel(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	     const char *where, char *err, size_t errlen)
{
	const char *p = value, *why = NULL;
	unsigned int n = 0;
	char entry[300];

	if (strlen(value) >= s->width) {
		cfg_value_err(err, errlen, where, key, value, "is too long");
		return -EINVAL;
	}
	/* "" (no Sentinel) skips the loop. */
	while (p != NULL && value[0] != '\0') {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		why = ++n > 8 ? "is one Sentinel too many (at most 8)" : sentinel_check(p, len);
		if (why != NULL) {
			snprintf(entry, sizeof(entry), "%.*s", (int)(len < 250 ? len : 250), p);
			cfg_value_err(err, errlen, where, key, value, "entry '%s' %s", entry, why);
			return -EINVAL;
		}
		p = comma != NULL ? comma + 1 : NULL;
	}
	snprintf((char *)c + s->off, s->width, "%s", value);
	return 0;
}

/* cfg_set_duration() knows the maximum; a minimum is checked here. */
static int
set_duration(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	     const char *where, char *err, size_t errlen)
{
	uint32_t *field = (uint32_t *)(void *)((char *)c + s->off);
	uint32_t old = *field;
	int rc;

	rc = cfg_set_duration(field, (uint32_t)s->max, key, value, where, err, errlen);
	if (rc == 0 && *field < s->min) {
		*field = old;
		cfg_value_err(err, errlen, where, key, value, "is too short (expected at least "
			      "%llus)", (unsigned long long)s->min);
		return -EINVAL;
	}
	return rc;
}

/* A word from a fixed set: the message lists them. */
static int
set_choice(struct hd_config *c, const struct setting *s, const char *key, const char *value,
	   const char *where, char *err, size_t errlen)
{
	char expected[128] = "";
	size_t used = 0;

	for (int i = 0; s->names[i] != NULL; i++) {
		if (strcmp(value, s->names[i]) == 0) {
			*(int *)((char *)c + s->off) = i;
			return 0;
		}
		used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s%s",
					 i > 0 ? ", " : "", s->names[i]);
		if (used >= sizeof(expected))
			break;
	}
	cfg_value_err(err, errlen, where, key, value, "is not one of %s", expected);
	return -EINVAL;
}

const char *
hd_config_anonymize_name(int mode)
{
	if (mode < 0 || mode >= (int)(sizeof(hd_config_anonymize_names) / sizeof(hd_config_anonymize_names[0])) - 1)
		return "?";
	return hd_config_anonymize_names[mode];
}

/* block-ipv4 / block-ipv6: any address of the family, the custom answer. */
static int
set_ip(struct hd_config *c, const struct setting *s, const char *key, const char *value,
       const char *where, char *err, size_t errlen)
{
	int v6 = s->kind == KIND_IPV6;
	uint8_t a[16];

	if (inet_pton(v6 ? AF_INET6 : AF_INET, value, a) != 1) {
		cfg_value_err(err, errlen, where, key, value, "is not an %s address",
			      v6 ? "IPv6" : "IPv4");
		return -EINVAL;
	}
	memcpy((char *)c + s->off, a, s->width);
	if (v6)
		c->has_block_v6 = 1;
	else
		c->has_block_v4 = 1;
	return 0;
}

int
hd_config_set(struct hd_config *c, const char *key, const char *value,
	      const char *where, char *err, size_t errlen)
{
	const struct setting *s;
	int i;

	if (c == NULL || key == NULL || value == NULL) {
		cfg_err(err, errlen, "hd_config_set: missing argument");
		return -EINVAL;
	}
	i = cfg_option_index(key);
	if (i < 0) {
		cfg_unknown_key(err, errlen, where, key);
		return -ENOENT;
	}
	s = &settings[i];
	switch (s->kind) {
	case KIND_UINT:
		return set_uint(c, s, key, value, where, err, errlen);
	case KIND_SIZE:
		return set_size(c, s, key, value, where, err, errlen);
	case KIND_BOOL:
		return set_bool(c, s, key, value, where, err, errlen);
	case KIND_LISTEN:
		return set_listen(c, key, value, where, err, errlen);
	case KIND_UPSTREAM:
		return cfg_set_upstream(c, key, value, where, err, errlen);
	case KIND_STRING:
		return set_string(c, s, key, value, where, err, errlen);
	case KIND_LOG_LEVEL:
		return set_log_level(c, s, key, value, where, err, errlen);
	case KIND_BLOCKLIST:
	case KIND_ALLOWLIST:
		return cfg_set_list(c, s->kind == KIND_ALLOWLIST, key, value, where, err, errlen);
	case KIND_BLOCK_MODE:
		return cfg_set_block_mode(c, key, value, where, err, errlen);
	case KIND_IPV4:
	case KIND_IPV6:
		return set_ip(c, s, key, value, where, err, errlen);
	case KIND_DURATION:
		return set_duration(c, s, key, value, where, err, errlen);
	case KIND_GROUP:
		return cfg_set_group(c, key, value, where, err, errlen);
	case KIND_RECORD:
		return cfg_set_record(c, key, value, where, err, errlen);
	case KIND_ZONE_FILE:
		return cfg_set_zone_file(c, key, value, where, err, errlen);
	case KIND_LOCAL_ZONE:
		return cfg_set_local_zone(c, key, value, where, err, errlen);
	case KIND_STRATEGY:
		return cfg_set_strategy(c, key, value, where, err, errlen);
	case KIND_FORWARD:
		return cfg_set_forward(c, key, value, where, err, errlen);
	case KIND_REDIS:
		return set_redis(c, key, value, where, err, errlen);
	case KIND_SENTINEL:
		return set_sentinel(c, s, key, value, where, err, errlen);
	case KIND_TOKEN:
		return set_token(c, s, key, value, where, err, errlen);
	case KIND_CHOICE:
		return set_choice(c, s, key, value, where, err, errlen);
	}
	return -EINVAL;
}

int
hd_config_clear(struct hd_config *c, const char *key)
{
	int i;

	if (c == NULL || key == NULL)
		return -EINVAL;
	i = cfg_option_index(key);
	if (i < 0)
		return -ENOENT;
	switch (settings[i].kind) {
	case KIND_LISTEN:
		c->n_listen = 0;
		memset(c->listen, 0, sizeof(c->listen));
		return 0;
	case KIND_UPSTREAM:
		c->n_upstream = 0;
		memset(c->upstream, 0, sizeof(c->upstream));
		memset(c->upstream_server, 0, sizeof(c->upstream_server));
		return 0;
	case KIND_FORWARD:
		c->n_forwards = 0;
		memset(c->forwards, 0, sizeof(c->forwards));
		return 0;
	case KIND_BLOCKLIST:
	case KIND_ALLOWLIST:
		cfg_clear_lists(c, settings[i].kind == KIND_ALLOWLIST);
		return 0;
	case KIND_GROUP:
		c->n_groups = 0;
		memset(c->groups, 0, sizeof(c->groups));
		return 0;
	case KIND_RECORD:
		c->n_records = 0;
		memset(c->records, 0, sizeof(c->records));
		return 0;
	case KIND_ZONE_FILE:
		c->n_zone_files = 0;
		memset(c->zone_files, 0, sizeof(c->zone_files));
		return 0;
	case KIND_LOCAL_ZONE:
		c->n_local_zones = 0;
		memset(c->local_zones, 0, sizeof(c->local_zones));
		return 0;
	default:
		return -EINVAL;	/* a single value is replaced by setting it */
	}
}

const struct hd_config_option *
hd_config_options(void)
{
	return options;
}

const struct hd_config_option *
hd_config_option_by_flag(const char *flag)
{
	if (flag == NULL)
		return NULL;
	for (int i = 0; i < OPT_COUNT; i++) {
		const char *k = options[i].key;
		size_t j;

		for (j = 0; k[j] != '\0' && flag[j] != '\0'; j++)
			if ((k[j] == '.' ? '-' : k[j]) != flag[j])
				break;
		if (k[j] == '\0' && flag[j] == '\0')
			return &options[i];
	}
	return NULL;
}
