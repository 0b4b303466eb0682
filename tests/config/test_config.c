/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * lib/config/config.c: the built-in defaults (which the help text and
 * docs promise) and the checks across settings that run once every source
 * has been applied.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hd_config.h"
#include "config_test.h"

static struct hd_config cfg;
static char err[HD_CONFIG_ERR_LEN];

static void
set_ok(const char *key, const char *value)
{
	int rc = hd_config_set(&cfg, key, value, "--test", err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "%s=%s: %s\n", key, value, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
}

/* A config that validates: one listen address and one upstream. */
static void
minimal(void)
{
	hd_config_defaults(&cfg);
	set_ok("listen", "10.53.0.1");
	set_ok("upstream", "127.0.0.1:5300");
}

static int
validate(void)
{
	err[0] = '\0';
	return hd_config_validate(&cfg, err, sizeof(err));
}

static void
test_defaults(void)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(cfg.n_listen, 0);
	CU_ASSERT_EQUAL(cfg.n_upstream, 0);
	CU_ASSERT_EQUAL(cfg.port, 53);
	CU_ASSERT_EQUAL(cfg.upstream_timeout_ms, 800);
	CU_ASSERT_EQUAL(cfg.upstream_budget_ms, 2500);
	CU_ASSERT_EQUAL(cfg.cache_entries, 262144);
	CU_ASSERT_EQUAL(cfg.cache_bytes, 268435456ULL);
	CU_ASSERT_EQUAL(cfg.cache_min_ttl, 0);
	CU_ASSERT_EQUAL(cfg.cache_max_ttl, 86400);
	CU_ASSERT_EQUAL(cfg.cache_neg_max_ttl, 3600);
	CU_ASSERT_EQUAL(cfg.udp_size, 1232);
	CU_ASSERT_EQUAL(cfg.tcp, 1);
	CU_ASSERT_EQUAL(cfg.manage_addresses, 1);
	CU_ASSERT_EQUAL(cfg.ring_size, 4096);
	CU_ASSERT_EQUAL(cfg.mbufs, 16383);
	CU_ASSERT_EQUAL(cfg.max_pending, 4096);
	CHECK_STR(cfg.xdp_prog, "");
	CHECK_STR(cfg.log_level, "info");
	CU_ASSERT_EQUAL(cfg.n_lists, 0);
	CU_ASSERT_EQUAL(cfg.n_groups, 0);
	CU_ASSERT_EQUAL(cfg.n_records, 0);
	CU_ASSERT_EQUAL(cfg.block_mode, HD_CONFIG_BLOCK_NULL);
	CU_ASSERT_EQUAL(cfg.block_ttl, 10);
	CU_ASSERT_EQUAL(cfg.list_refresh, 86400);
	CU_ASSERT_EQUAL(cfg.local_ptr, 1);
	CU_ASSERT_EQUAL(cfg.upstream_strategy, HD_CONFIG_STRATEGY_FASTEST);
	CHECK_STR(cfg.tls_ca_file, "");
	CU_ASSERT_EQUAL(cfg.n_forwards, 0);
	CU_ASSERT_EQUAL(cfg.serve_stale, 1);
	CU_ASSERT_EQUAL(cfg.stale_ttl, 30);
	CU_ASSERT_EQUAL(cfg.stale_window, 86400);
	CU_ASSERT_EQUAL(cfg.prefetch, 1);
	CHECK_STR(cfg.cache_file, "");
	CU_ASSERT_EQUAL(cfg.cache_save_interval, 0);
	CU_ASSERT_EQUAL(cfg.redis.enabled, 0);
	CHECK_STR(cfg.redis_prefix, "heimdall");
	CU_ASSERT_EQUAL(cfg.redis_timeout_ms, 20);
	{
		char host[256] = "";

		/* The host name, when it is a valid node-id (as on any test machine). */
		if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0' &&
		    strchr(host, ' ') == NULL && strlen(host) < sizeof(cfg.node_id))
			CHECK_STR(cfg.node_id, host);
	}
	for (unsigned int i = 0; i < HD_CONFIG_UPSTREAM_MAX; i++)
		CU_ASSERT(cfg.upstream_server[i].tls == 0 &&
			  cfg.upstream_server[i].tls_name[0] == '\0');
}

/* Each default is what the option's help line says it is. */
static void
test_help_states_defaults(void)
{
	static const struct {
		const char *key, *text;
	} promised[] = {
		{ "port", "default: 53" },
		{ "upstream-timeout-ms", "default: 800" },
		{ "upstream-budget-ms", "default: 2500" },
		{ "cache.entries", "default: 262144" },
		{ "cache.bytes", "default: 256M" },
		{ "cache.min-ttl", "default: 0" },
		{ "cache.max-ttl", "default: 86400" },
		{ "cache.negative-max-ttl", "default: 3600" },
		{ "udp-size", "default: 1232" },
		{ "tcp", "default: on" },
		{ "manage-addresses", "default: on" },
		{ "ring-size", "default: 4096" },
		{ "mbufs", "default: 16383" },
		{ "max-pending", "default: 4096" },
		{ "log-level", "default: info" },
		{ "listen", "prefix 24 for IPv4, 64 for IPv6" },
		{ "upstream", "port 53" },
		{ "block-mode", "default: null" },
		{ "block-ttl", "default: 10" },
		{ "list-refresh", "default: 24h" },
		{ "list-dir", "default: /var/lib/heimdall/lists" },
		{ "local-ptr", "default: on" },
		{ "upstream", "port 853" },
		{ "upstream-strategy", "default: fastest" },
		{ "tls-ca-file", "default: none, the system's trust store" },
		{ "forward-zone", "default: none" },
		{ "serve-stale", "default: on" },
		{ "stale-ttl", "default: 30" },
		{ "stale-window", "default: 1d" },
		{ "prefetch", "default: on" },
		{ "cache-file", "default: none" },
		{ "cache-save-interval", "default: 0" },
		{ "redis", "default: none" },
		{ "node-id", "default: the host name" },
		{ "redis-prefix", "default: heimdall" },
		{ "redis-timeout-ms", "default: 20" },
	};

	for (size_t i = 0; i < sizeof(promised) / sizeof(promised[0]); i++) {
		const struct hd_config_option *o = hd_config_options();

		while (o->key != NULL && strcmp(o->key, promised[i].key) != 0)
			o++;
		CU_ASSERT_PTR_NOT_NULL_FATAL(o->key);
		CHECK_HAS(o->help, promised[i].text);
	}
}

static void
test_validate_minimal(void)
{
	minimal();
	CU_ASSERT_EQUAL(validate(), 0);
	CHECK_STR(err, "");
}

static void
test_validate_needs_listen_and_upstream(void)
{
	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_HAS(err, "no listen address");
	CHECK_HAS(err, "--listen");

	set_ok("listen", "fd53::1");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_HAS(err, "no upstream");
	CHECK_HAS(err, "--upstream");

	minimal();
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "listen"), 0);
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_HAS(err, "no listen address");
}

static void
test_validate_budget(void)
{
	minimal();
	set_ok("upstream-timeout-ms", "1000");
	set_ok("upstream-budget-ms", "999");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_STR(err, "upstream-budget-ms (999) is shorter than upstream-timeout-ms (1000): "
		  "the budget must allow one whole attempt");
	set_ok("upstream-budget-ms", "1000");
	CU_ASSERT_EQUAL(validate(), 0);
}

static void
test_validate_ttls(void)
{
	minimal();
	set_ok("cache.min-ttl", "600");
	set_ok("cache.max-ttl", "300");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_STR(err, "cache.min-ttl (600) is greater than cache.max-ttl (300)");
	set_ok("cache.max-ttl", "600");
	CU_ASSERT_EQUAL(validate(), 0);
}

static void
test_validate_upstream_is_self(void)
{
	minimal();
	set_ok("upstream", "10.53.0.1");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_HAS(err, "upstream 10.53.0.1:53 is one of heimdall's own listen addresses");

	/* Same address on another port is a different server (e.g. a local knotd). */
	minimal();
	set_ok("upstream", "10.53.0.1:5300");
	CU_ASSERT_EQUAL(validate(), 0);

	/* ... and so is port 53 once heimdall serves elsewhere. */
	minimal();
	set_ok("upstream", "10.53.0.1");
	set_ok("port", "5353");
	CU_ASSERT_EQUAL(validate(), 0);

	hd_config_defaults(&cfg);
	set_ok("listen", "fd53::1/64");
	set_ok("upstream", "[fd53::1]:53");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_HAS(err, "upstream [fd53::1]:53 is one of heimdall's own listen addresses");
}

static void
test_validate_groups(void)
{
	minimal();
	set_ok("blocklist", "ads=/l/ads.txt");
	set_ok("allowlist", "/l/allow.txt");
	set_ok("group", "kids=10.53.0.3/32:ads,allow");
	set_ok("group", "adults=10.53.0.4/32:");
	CU_ASSERT_EQUAL(validate(), 0);
	set_ok("group", "guests=10.53.0.5/32:ads,porn");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_STR(err, "--test: group 'guests' names list 'porn', which is not a blocklist or "
		  "allowlist name (lists: ads, allow)");

	minimal();
	set_ok("group", "kids=10.53.0.3:x");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_HAS(err, "(none is configured)");

	/* One client in two groups: which lists it gets would depend on the order. */
	minimal();
	set_ok("group", "a=10.53.0.0/24");
	set_ok("group", "b=10.53.1.0/24,10.53.0.0/24");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_STR(err, "--test: group 'b': client 10.53.0.0/24 is also in group 'a' (--test)");
	/* Nested subnets are fine: the most specific wins. */
	minimal();
	set_ok("group", "a=10.53.0.0/24");
	set_ok("group", "b=10.53.0.9/32");
	CU_ASSERT_EQUAL(validate(), 0);
}

static void
test_validate_forward_is_self(void)
{
	minimal();
	set_ok("forward-zone", "lan=192.168.1.1,10.53.0.1:5300");
	CU_ASSERT_EQUAL(validate(), 0);
	set_ok("forward-zone", "corp=10.9.0.1,10.53.0.1");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_STR(err, "--test: forward-zone corp: server 10.53.0.1:53 is one of heimdall's own "
		  "listen addresses: queries would loop");
	/* TLS on port 853 is another service, even on a listen address. */
	minimal();
	set_ok("forward-zone", "corp=tls://10.53.0.1");
	CU_ASSERT_EQUAL(validate(), 0);
}

static void
test_validate_cache_persistence(void)
{
	minimal();
	set_ok("cache-save-interval", "15m");
	CU_ASSERT_EQUAL(validate(), -EINVAL);
	CHECK_STR(err, "cache-save-interval (900 s) needs cache-file: there is no file to save "
		  "the cache to");
	set_ok("cache-file", "/var/lib/heimdall/cache.bin");
	CU_ASSERT_EQUAL(validate(), 0);
	/* A file alone is saved at exit only. */
	set_ok("cache-save-interval", "0");
	CU_ASSERT_EQUAL(validate(), 0);
	minimal();
	set_ok("cache-file", "");
	CU_ASSERT_EQUAL(validate(), 0);
}

/* A stale window of 0 is how serve-stale is turned off: no conflict to report. */
static void
test_validate_stale_window_zero(void)
{
	minimal();
	set_ok("serve-stale", "true");
	set_ok("stale-window", "0");
	CU_ASSERT_EQUAL(validate(), 0);
	CU_ASSERT_EQUAL(cfg.stale_window, 0);
}

static void
test_validate_no_err_buffer(void)
{
	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(hd_config_validate(&cfg, NULL, 0), -EINVAL);
}

int
main(void)
{
	static const struct config_test tests[] = {
		{ "defaults", test_defaults },
		{ "help states each default", test_help_states_defaults },
		{ "minimal config validates", test_validate_minimal },
		{ "listen and upstream required", test_validate_needs_listen_and_upstream },
		{ "budget at least one attempt", test_validate_budget },
		{ "min-ttl not above max-ttl", test_validate_ttls },
		{ "upstream is not ourselves", test_validate_upstream_is_self },
		{ "groups name existing lists", test_validate_groups },
		{ "forward servers are not ourselves", test_validate_forward_is_self },
		{ "cache-save-interval needs cache-file", test_validate_cache_persistence },
		{ "stale-window 0 validates", test_validate_stale_window_zero },
		{ "no error buffer", test_validate_no_err_buffer },
		{ NULL, NULL },
	};

	return config_test_run("config_config", tests);
}
