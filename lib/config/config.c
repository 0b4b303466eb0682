/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Defaults and the checks that involve more than one setting. Single values
 * are checked where they are parsed (options.c), so a bad value is reported
 * with the file line or flag it came from; what is left here can only be
 * judged once every source has been applied.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "hd_config.h"
#include "config_private.h"

void
hd_config_defaults(struct hd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 53;
	c->upstream_timeout_ms = 800;
	c->upstream_budget_ms = 2500;
	c->cache_entries = 262144;
	c->cache_bytes = 256ULL << 20;
	c->cache_min_ttl = 0;
	c->cache_max_ttl = 86400;
	c->cache_neg_max_ttl = 3600;
	c->udp_size = 1232;
	c->tcp = 1;
	c->manage_addresses = 1;
	c->ring_size = 4096;
	c->mbufs = 16383;
	c->max_pending = 4096;
	c->xdp_prog[0] = '\0';
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->block_mode = HD_CONFIG_BLOCK_NULL;
	c->block_ttl = 10;
	c->list_refresh = 86400;
	snprintf(c->list_dir, sizeof(c->list_dir), "/var/lib/heimdall/lists");
	c->local_ptr = 1;
	c->upstream_strategy = HD_CONFIG_STRATEGY_FASTEST;
	c->tls_ca_file[0] = '\0';
	c->serve_stale = 1;
	c->stale_ttl = 30;
	c->stale_window = 86400;
	c->prefetch = 1;
	c->cache_file[0] = '\0';
	c->cache_save_interval = 0;
	c->redis.enabled = 0;
	cfg_node_id_default(c->node_id, sizeof(c->node_id));
	snprintf(c->redis_prefix, sizeof(c->redis_prefix), "heimdall");
	c->redis_timeout_ms = 20;
	snprintf(c->redis_sentinel_master, sizeof(c->redis_sentinel_master), "mymaster");
	c->cluster_interval = 5;
	snprintf(c->http_listen, sizeof(c->http_listen), "127.0.0.1");
	c->http_port = 8053;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/heimdall");
	c->querylog = 1;
	c->querylog_max_size = 64ULL << 20;
	c->querylog_files = 5;
	c->querylog_memory = 10000;
	c->querylog_anonymize = HD_CONFIG_ANON_NONE;
}

/*
 * An upstream that is one of our own listen addresses on the served port
 * would send every miss back to heimdall until the budget runs out.
 */
static int
upstream_is_self(const struct hd_config *c, const struct sockaddr_storage *ss,
		 char *text, size_t len)
{
	const void *addr;
	uint16_t port;
	size_t alen;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		addr = &sin->sin_addr;
		alen = 4;
		port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		addr = &sin6->sin6_addr;
		alen = 16;
		port = ntohs(sin6->sin6_port);
	}
	if (port != c->port)
		return 0;
	for (unsigned int i = 0; i < c->n_listen; i++) {
		if (c->listen[i].family == ss->ss_family &&
		    memcmp(c->listen[i].addr, addr, alen) == 0) {
			char ip[INET6_ADDRSTRLEN];

			inet_ntop(ss->ss_family, addr, ip, sizeof(ip));
			snprintf(text, len, ss->ss_family == AF_INET ? "%s:%u" : "[%s]:%u",
				 ip, port);
			return 1;
		}
	}
	return 0;
}

static int
validate_forwards(const struct hd_config *c, char *err, size_t errlen)
{
	char self[INET6_ADDRSTRLEN + 16];

	for (unsigned int i = 0; i < c->n_forwards; i++) {
		const struct hd_config_forward *f = &c->forwards[i];

		for (unsigned int j = 0; j < f->n_servers; j++) {
			if (!upstream_is_self(c, &f->servers[j].addr, self, sizeof(self)))
				continue;
			cfg_err(err, errlen, "%s: forward-zone %s: server %s is one of heimdall's "
				"own listen addresses: queries would loop", f->where, f->domain,
				self);
			return -EINVAL;
		}
	}
	return 0;
}

int
hd_config_validate(const struct hd_config *c, char *err, size_t errlen)
{
	char self[INET6_ADDRSTRLEN + 16];

	if (c->n_listen == 0) {
		cfg_err(err, errlen, "no listen address: give --listen ADDR or 'listen:' in "
			"the config file");
		return -EINVAL;
	}
	if (c->n_upstream == 0) {
		cfg_err(err, errlen, "no upstream: give --upstream ADDR[:PORT] or 'upstream:' "
			"in the config file");
		return -EINVAL;
	}
	if (c->upstream_budget_ms < c->upstream_timeout_ms) {
		cfg_err(err, errlen, "upstream-budget-ms (%u) is shorter than "
			"upstream-timeout-ms (%u): the budget must allow one whole attempt",
			c->upstream_budget_ms, c->upstream_timeout_ms);
		return -EINVAL;
	}
	if (c->cache_min_ttl > c->cache_max_ttl) {
		cfg_err(err, errlen, "cache.min-ttl (%u) is greater than cache.max-ttl (%u)",
			c->cache_min_ttl, c->cache_max_ttl);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < c->n_upstream; i++) {
		if (upstream_is_self(c, &c->upstream[i], self, sizeof(self))) {
			cfg_err(err, errlen, "upstream %s is one of heimdall's own listen "
				"addresses: queries would loop", self);
			return -EINVAL;
		}
	}
	if (validate_forwards(c, err, errlen) < 0)
		return -EINVAL;
	/* Saving periodically with nowhere to save is a setting that silently does nothing. */
	if (c->cache_save_interval != 0 && c->cache_file[0] == '\0') {
		cfg_err(err, errlen, "cache-save-interval (%u s) needs cache-file: there is no "
			"file to save the cache to", c->cache_save_interval);
		return -EINVAL;
	}
	return cfg_validate_lists(c, err, errlen);
}
