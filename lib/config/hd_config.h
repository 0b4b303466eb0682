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

struct hd_config_addr {
	int family;		/**< AF_INET or AF_INET6 */
	uint8_t addr[16];	/**< network order; IPv4 in the first 4 bytes */
	uint8_t prefix;		/**< prefix length when added to an interface (24 / 64 default) */
};

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
 * Check settings that depend on each other (at least one listen address and
 * one upstream, budget >= attempt timeout, min TTL <= max TTL).
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
