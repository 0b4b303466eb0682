/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CONFIG_H
#define HD_CONFIG_H

/**
 * @file
 * Heimdall's settings: built-in defaults, a YAML file (libyaml), and command
 * line flags, all going through one table of options so that the YAML key
 * `cache.max-ttl` and the flag `--cache-max-ttl` are the same setting with
 * the same validation and the same help text.
 *
 * Errors name the source ("heimdall.yaml:12" or "--listen"), the key and
 * what was expected, in the caller's buffer.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HD_CONFIG_LISTEN_MAX	8
#define HD_CONFIG_UPSTREAM_MAX	8
#define HD_CONFIG_ERR_LEN	512

/* Blocking and local data (issue 3). Sized at build time: the config is a flat struct. */
#define HD_CONFIG_LISTS_MAX	64	/**< blocklists + allowlists (lib/filter's limit) */
#define HD_CONFIG_GROUPS_MAX	32
#define HD_CONFIG_GROUP_SUBNETS_MAX 16
#define HD_CONFIG_GROUP_LISTS_MAX 32
#define HD_CONFIG_RECORDS_MAX	512	/**< --record / record:; zone files for more */
#define HD_CONFIG_ZONE_FILES_MAX 16
#define HD_CONFIG_LOCAL_ZONES_MAX 64
#define HD_CONFIG_NAME_LEN	64	/**< list and group names: at most 63 of [a-z0-9._-] */
#define HD_CONFIG_SOURCE_LEN	1024	/**< list paths and URLs, zone file paths, list-dir */
#define HD_CONFIG_RECORD_LEN	512
#define HD_CONFIG_DNAME_LEN	256	/**< a domain name in presentation form */
#define HD_CONFIG_SUBNET_LEN	48	/**< "IPv6/128" */
#define HD_CONFIG_WHERE_LEN	80	/**< "heimdall.yaml:12" or "--record", for later messages */

struct hd_config_addr {
	int family;		/**< AF_INET or AF_INET6 */
	uint8_t addr[16];	/**< network order; IPv4 in the first 4 bytes */
	uint8_t prefix;		/**< prefix length when added to an interface (24 / 64 default) */
};

/** How a blocked name is answered; the same order as lib/filter's enum hd_filter_mode. */
enum hd_config_block_mode {
	HD_CONFIG_BLOCK_NXDOMAIN = 0,
	HD_CONFIG_BLOCK_NODATA,
	HD_CONFIG_BLOCK_NULL,		/**< A 0.0.0.0 / AAAA :: */
	HD_CONFIG_BLOCK_CUSTOM,		/**< A/AAAA from block-ipv4 / block-ipv6 */
	HD_CONFIG_BLOCK_REFUSED,
};

/** A blocklist or an allowlist (blocklist: / allowlist:, --blocklist / --allowlist). */
struct hd_config_list {
	char name[HD_CONFIG_NAME_LEN];	/**< given, or derived from the source */
	char source[HD_CONFIG_SOURCE_LEN]; /**< a path, or an http(s) URL */
	char syntax[16];		/**< "auto", "hosts", "domains", "adblock", ... */
	char where[HD_CONFIG_WHERE_LEN];
	int allow;			/**< 1: an allowlist */
	int mode;			/**< enum hd_config_block_mode, or -1: block-mode */
	int64_t ttl;			/**< -1: block-ttl */
	uint8_t v4[4];			/**< has_v4: this list's custom address */
	uint8_t v6[16];
	uint8_t has_v4;
	uint8_t has_v6;
	uint8_t is_url;
	uint8_t named;			/**< the name was given (not derived) */
};

/** A client group: clients in its subnets use its lists. */
struct hd_config_group {
	char name[HD_CONFIG_NAME_LEN];
	char where[HD_CONFIG_WHERE_LEN];
	char subnets[HD_CONFIG_GROUP_SUBNETS_MAX][HD_CONFIG_SUBNET_LEN]; /**< as written */
	unsigned int n_subnets;
	char lists[HD_CONFIG_GROUP_LISTS_MAX][HD_CONFIG_NAME_LEN];
	unsigned int n_lists;
	int all_lists;			/**< no list part given: every list applies */
};

/** A text setting given several times, with where each one came from. */
struct hd_config_record {
	char text[HD_CONFIG_RECORD_LEN];
	char where[HD_CONFIG_WHERE_LEN];
};

struct hd_config_path {
	char path[HD_CONFIG_SOURCE_LEN];
	char where[HD_CONFIG_WHERE_LEN];
};

struct hd_config_dname {
	char name[HD_CONFIG_DNAME_LEN];
	char where[HD_CONFIG_WHERE_LEN];
};

/* Resolver quality (issue 4). */
#define HD_CONFIG_FORWARDS_MAX		32
#define HD_CONFIG_FORWARD_SERVERS_MAX	4

/** How the slow path picks among the default upstreams. */
enum hd_config_strategy {
	HD_CONFIG_STRATEGY_STRICT = 0,	/**< in the order given; the next only on failure */
	HD_CONFIG_STRATEGY_ROUND_ROBIN,
	HD_CONFIG_STRATEGY_FASTEST,	/**< lowest smoothed RTT, occasional probes of the others */
	HD_CONFIG_STRATEGY_PARALLEL,	/**< race the best two, first valid answer wins */
};

/**
 * One upstream server: "IP", "IP:port", "[IPv6]:port", or DNS over TLS as
 * "tls://IP[:port][#tls-name]" (port 853 by default; without #name the
 * certificate is checked against the address).
 */
struct hd_config_server {
	struct sockaddr_storage addr;
	int tls;				/**< DNS over TLS (RFC 7858) */
	char tls_name[HD_CONFIG_DNAME_LEN];	/**< name the certificate must hold ("" = the IP) */
};

/**
 * Conditional forwarding: names at or below @c domain go to @c servers
 * instead of the default upstreams; the longest matching domain wins.
 * Flag/YAML string form: "DOMAIN=SERVER[,SERVER...]" (SERVER as above).
 */
struct hd_config_forward {
	char domain[HD_CONFIG_DNAME_LEN];	/**< presentation form, no trailing dot */
	struct hd_config_server servers[HD_CONFIG_FORWARD_SERVERS_MAX];
	unsigned int n_servers;
	char where[HD_CONFIG_WHERE_LEN];
};

/**
 * The Redis of the cluster (L2 cache): "redis://[user:pass@]host[:port][/db]"
 * (port 6379, db 0). The password is never logged nor shown.
 */
struct hd_config_redis {
	int enabled;				/**< a URL was given */
	char host[HD_CONFIG_DNAME_LEN];		/**< IP address or name, no brackets */
	uint16_t port;
	uint32_t db;
	char user[128];				/**< ACL user ("": default user) */
	char password[256];			/**< "": no AUTH */
	int tls;				/**< rediss:// */
};

/** querylog-anonymize: what the query log keeps of a client's address. */
enum hd_config_anonymize {
	HD_CONFIG_ANON_NONE = 0,	/**< the address */
	HD_CONFIG_ANON_MASK,		/**< IPv4 /24, IPv6 /48: the rest zeroed */
	HD_CONFIG_ANON_HIDE,		/**< nothing: 0.0.0.0 / :: */
};

#define HD_CONFIG_NODE_ID_LEN		64
#define HD_CONFIG_REDIS_PREFIX_LEN	65

struct hd_config {
	struct hd_config_addr listen[HD_CONFIG_LISTEN_MAX];
	unsigned int n_listen;
	uint16_t port;			/**< DNS port served (53) */
	struct sockaddr_storage upstream[HD_CONFIG_UPSTREAM_MAX];
	unsigned int n_upstream;
	uint32_t upstream_timeout_ms;	/**< one attempt (800) */
	uint32_t upstream_budget_ms;	/**< until SERVFAIL (2500) */
	uint32_t cache_entries;		/**< 262144 */
	uint64_t cache_bytes;		/**< 268435456 (256 MiB) */
	uint32_t cache_min_ttl;		/**< 0 */
	uint32_t cache_max_ttl;		/**< 86400 */
	uint32_t cache_neg_max_ttl;	/**< 3600 */
	uint16_t udp_size;		/**< EDNS payload size advertised and used (1232) */
	int tcp;			/**< serve DNS over TCP (1) */
	int manage_addresses;		/**< af_xdp: add missing listen addresses (1) */
	uint32_t ring_size;		/**< miss ring entries per worker (4096) */
	uint32_t mbufs;			/**< mbuf pool size (16383) */
	uint32_t max_pending;		/**< outstanding upstream requests (4096) */
	char xdp_prog[256];		/**< XDP object for af_xdp ports ("" = built-in path) */
	char log_level[16];		/**< "info" */

	/* Blocking */
	struct hd_config_list lists[HD_CONFIG_LISTS_MAX]; /**< blocklists and allowlists, in order given */
	unsigned int n_lists;
	int block_mode;			/**< enum hd_config_block_mode (null) */
	uint32_t block_ttl;		/**< TTL of block replies (10) */
	uint8_t block_v4[4];		/**< custom mode, when has_block_v4 */
	uint8_t block_v6[16];
	int has_block_v4;
	int has_block_v6;
	uint32_t list_refresh;		/**< seconds between downloads/re-reads; 0: never (86400) */
	char list_dir[HD_CONFIG_SOURCE_LEN]; /**< last good copies of downloaded lists */
	struct hd_config_group groups[HD_CONFIG_GROUPS_MAX];
	unsigned int n_groups;

	/* Local data */
	struct hd_config_record records[HD_CONFIG_RECORDS_MAX];
	unsigned int n_records;
	struct hd_config_path zone_files[HD_CONFIG_ZONE_FILES_MAX];
	unsigned int n_zone_files;
	struct hd_config_dname local_zones[HD_CONFIG_LOCAL_ZONES_MAX];
	unsigned int n_local_zones;
	int local_ptr;			/**< PTR records for local A/AAAA (1) */

	/* Resolver quality (issue 4) */
	/** TLS and name of upstream[i] (upstream[] keeps the address, as before). */
	struct hd_config_server upstream_server[HD_CONFIG_UPSTREAM_MAX];
	int upstream_strategy;		/**< enum hd_config_strategy (fastest) */
	char tls_ca_file[HD_CONFIG_SOURCE_LEN]; /**< CA bundle for DoT ("" = the system's) */
	struct hd_config_forward forwards[HD_CONFIG_FORWARDS_MAX]; /**< forward-zone */
	unsigned int n_forwards;
	int serve_stale;		/**< RFC 8767 (1); off too when stale_window is 0 */
	uint32_t stale_ttl;		/**< TTL of stale answers (30) */
	uint32_t stale_window;		/**< seconds past expiry an entry may be served (86400);
					 *   0: no stale answers, whatever serve_stale says */
	int prefetch;			/**< refresh popular entries before they expire (1) */
	char cache_file[HD_CONFIG_SOURCE_LEN]; /**< persistence file ("" = off) */
	uint32_t cache_save_interval;	/**< seconds between periodic saves; 0: only at exit (0) */

	/* Cluster (issue 5) */
	struct hd_config_redis redis;	/**< redis: L2 cache (off) */
	char node_id[HD_CONFIG_NODE_ID_LEN]; /**< this node's name (the host name) */
	char redis_prefix[HD_CONFIG_REDIS_PREFIX_LEN]; /**< key prefix ("heimdall") */
	uint32_t redis_timeout_ms;	/**< longest wait for an L2 lookup (20) */
	char redis_sentinel[HD_CONFIG_SOURCE_LEN]; /**< "HOST:PORT[,HOST:PORT...]" ("": none) */
	char redis_sentinel_master[HD_CONFIG_NODE_ID_LEN]; /**< ("mymaster") */
	char redis_ca_file[HD_CONFIG_SOURCE_LEN]; /**< CA bundle for rediss:// ("": the system's) */
	uint32_t cluster_interval;	/**< seconds between membership renewals (5) */

	/* Operations (issue 6) */
	char http_listen[64];		/**< address of the HTTP server ("127.0.0.1") */
	uint16_t http_port;		/**< 8053; 0: no HTTP server */
	char api_token_file[HD_CONFIG_SOURCE_LEN]; /**< write token ("": HEIMDALL_API_TOKEN) */
	char state_dir[HD_CONFIG_SOURCE_LEN]; /**< API changes kept here ("/var/lib/heimdall") */
	int querylog;			/**< keep a query log (1) */
	char querylog_file[HD_CONFIG_SOURCE_LEN]; /**< JSON lines file ("": none) */
	uint64_t querylog_max_size;	/**< rotate at (64 MiB) */
	uint32_t querylog_files;	/**< rotated files kept (5) */
	uint32_t querylog_memory;	/**< records kept for the API (10000) */
	int querylog_anonymize;		/**< enum hd_config_anonymize (none) */
};

/** Fill @p c with the built-in defaults (which listen nowhere). */
void hd_config_defaults(struct hd_config *c);

/**
 * Apply one setting by its key ("listen", "cache.max-ttl", ...). List
 * settings (listen, upstream) append. @p where names the source for errors.
 * @return 0, or -EINVAL / -ENOENT (unknown key) with @p err filled.
 */
int hd_config_set(struct hd_config *c, const char *key, const char *value,
		  const char *where, char *err, size_t errlen);

/**
 * Clear a list setting before a new source replaces it (flags replace what
 * the file said rather than append to it). @return 0 or -ENOENT.
 */
int hd_config_clear(struct hd_config *c, const char *key);

/**
 * Read a YAML file: a mapping whose keys are the settings; nested mappings
 * form dotted keys (cache: {max-ttl: 60} is cache.max-ttl); a sequence
 * gives a list setting several values.
 * @return 0, or a negative errno with @p err naming file, line and key.
 */
int hd_config_load_file(struct hd_config *c, const char *path, char *err, size_t errlen);

/** Same as hd_config_load_file() on a string (tests, the embedded default). */
int hd_config_load_string(struct hd_config *c, const char *yaml, const char *name,
			  char *err, size_t errlen);

/**
 * Apply one item of a list setting given as a YAML mapping: blocklist and
 * allowlist ({name, source, syntax, mode, ttl, ipv4, ipv6}), group
 * ({name, clients, lists}), upstream ({address, port, tls, tls-name}) and
 * forward-zone ({domain, servers}). A field that is a YAML list arrives joined with
 * commas ("" for an empty list: a group with `lists: []` bypasses blocking).
 * @p fwhere[i] names the line of field i (may be NULL), @p where the item's.
 * @return 0, or -EINVAL / -ENOENT with @p err filled.
 */
int hd_config_set_item(struct hd_config *c, const char *key, const char *const *fields,
		       const char *const *values, const char *const *fwhere, unsigned int n,
		       const char *where, char *err, size_t errlen);

/** @return 1 when list setting @p key takes YAML mappings as items. */
int hd_config_takes_items(const char *key);

/** @return the name of a block mode ("nxdomain", ...). */
const char *hd_config_block_mode_name(int mode);

/**
 * The owner name (lowercase, no final dot) and type (uppercase) of a record
 * in the `record` setting's syntax ("NAME [TTL] [CLASS] TYPE RDATA").
 * @return 0, or -EINVAL when either is missing or does not fit.
 */
int hd_config_record_key(const char *text, char *name, size_t ncap, char *type, size_t tcap);

/** @return the name of a querylog-anonymize mode ("none", "mask", "hide"), or "?". */
const char *hd_config_anonymize_name(int mode);

/** @return the name of an upstream strategy ("strict", "round_robin", ...), or "?". */
const char *hd_config_strategy_name(int strategy);

/**
 * Check settings that depend on each other (at least one listen address and
 * one upstream, budget >= attempt timeout, min TTL <= max TTL, every list a
 * group names exists, no upstream or forward server is heimdall itself,
 * cache-save-interval only with a cache-file).
 * @return 0 or -EINVAL with @p err filled.
 */
int hd_config_validate(const struct hd_config *c, char *err, size_t errlen);

/** One option of the table, for --help and for the CLI parser. */
struct hd_config_option {
	const char *key;	/**< YAML key; the flag is "--" + key with '.' -> '-' */
	const char *arg;	/**< placeholder for help ("ADDR", "SECONDS") */
	const char *help;	/**< one line, with the default */
	int is_list;
	int is_flag;		/**< boolean: "--tcp" / "--no-tcp" on the command line */
};

/** @return the option table, terminated by an entry with key NULL. */
const struct hd_config_option *hd_config_options(void);

/** @return the option whose flag is @p flag ("cache-max-ttl"), or NULL. */
const struct hd_config_option *hd_config_option_by_flag(const char *flag);

#endif /* HD_CONFIG_H */
