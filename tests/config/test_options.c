/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * lib/config/options.c: every setting through hd_config_set() as a flag or
 * a file line would give it, the messages a bad value gets, and the option
 * table that --help and the command line parser are built from.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_config.h"
#include "config_test.h"

static const char *docs_path;	/* docs/configuration.md, from the command line */

static const char *const all_keys[] = {
	"listen", "port", "upstream", "upstream-timeout-ms", "upstream-budget-ms",
	"cache.entries", "cache.bytes", "cache.min-ttl", "cache.max-ttl",
	"cache.negative-max-ttl", "udp-size", "tcp", "manage-addresses", "ring-size",
	"mbufs", "max-pending", "xdp-prog", "log-level",
	"blocklist", "allowlist", "block-mode", "block-ttl", "block-ipv4", "block-ipv6",
	"list-refresh", "list-dir", "group", "record", "zone-file", "local-zone", "local-ptr",
	"upstream-strategy", "tls-ca-file", "forward-zone", "serve-stale", "stale-ttl",
	"stale-window", "prefetch", "cache-file", "cache-save-interval", "redis", "node-id",
	"redis-prefix", "redis-timeout-ms", "redis-sentinel", "redis-sentinel-master",
	"redis-ca-file", "cluster-interval", "http-listen", "http-port", "api-token-file",
	"state-dir", "querylog", "querylog-file", "querylog-max-size", "querylog-files",
	"querylog-memory", "querylog-anonymize",
};
#define N_KEYS (sizeof(all_keys) / sizeof(all_keys[0]))

static struct hd_config cfg;
static char err[HD_CONFIG_ERR_LEN];

static int
set(const char *key, const char *value)
{
	err[0] = '\0';
	return hd_config_set(&cfg, key, value, "test.yaml:3", err, sizeof(err));
}

/* A rejected value: -EINVAL, the config untouched, and a message naming it. */
static void
expect_bad_at(int line, const char *key, const char *value, const char *expect)
{
	struct hd_config before = cfg;
	char head[256];
	int rc = set(key, value);

	if (rc != -EINVAL)
		fprintf(stderr, "line %d: %s=%s gave %d\n", line, key, value, rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT(memcmp(&before, &cfg, sizeof(cfg)) == 0);
	snprintf(head, sizeof(head), "test.yaml:3: %s: '%s' ", key, value);
	CHECK_HAS(err, head);
	CHECK_HAS(err, expect);
}
#define expect_bad(k, v, e) expect_bad_at(__LINE__, k, v, e)

static void
expect_ok_at(int line, const char *key, const char *value)
{
	int rc = set(key, value);

	if (rc != 0)
		fprintf(stderr, "line %d: %s=%s gave %d: %s\n", line, key, value, rc, err);
	CU_ASSERT_EQUAL(rc, 0);
}
#define expect_ok(k, v) expect_ok_at(__LINE__, k, v)

static void
reset(void)
{
	hd_config_defaults(&cfg);
}

static void
test_table_keys_and_flags(void)
{
	const struct hd_config_option *o = hd_config_options();
	size_t n = 0;

	for (; o[n].key != NULL; n++) {
		char flag[64];
		size_t j;

		for (size_t m = 0; m < n; m++)
			CU_ASSERT(strcmp(o[m].key, o[n].key) != 0);
		for (j = 0; o[n].key[j] != '\0' && j + 1 < sizeof(flag); j++)
			flag[j] = o[n].key[j] == '.' ? '-' : o[n].key[j];
		flag[j] = '\0';
		CU_ASSERT_PTR_EQUAL(hd_config_option_by_flag(flag), &o[n]);
		CU_ASSERT_PTR_NOT_NULL(o[n].help);
		if (o[n].help != NULL)
			CHECK_HAS(o[n].help, "default");
		/* Booleans are --x / --no-x and take no argument; the rest need one. */
		CU_ASSERT(o[n].is_flag ? o[n].arg == NULL : o[n].arg != NULL);
		CU_ASSERT(!(o[n].is_flag && o[n].is_list));
	}
	CU_ASSERT_EQUAL(n, N_KEYS);
	for (size_t k = 0; k < N_KEYS; k++) {
		int found = 0;

		for (size_t i = 0; i < n; i++)
			found += strcmp(o[i].key, all_keys[k]) == 0;
		CU_ASSERT_EQUAL(found, 1);
	}
}

static void
test_by_flag(void)
{
	const struct hd_config_option *o;

	o = hd_config_option_by_flag("cache-max-ttl");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CHECK_STR(o->key, "cache.max-ttl");
	o = hd_config_option_by_flag("tcp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(o->is_flag);
	o = hd_config_option_by_flag("listen");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(o->is_list);
	CU_ASSERT(hd_config_option_by_flag("upstream")->is_list);
	CU_ASSERT(!hd_config_option_by_flag("port")->is_list);
	/* The YAML spelling is not a flag, and prefixes do not match. */
	CU_ASSERT_PTR_NULL(hd_config_option_by_flag("cache.max-ttl"));
	CU_ASSERT_PTR_NULL(hd_config_option_by_flag("cache-max"));
	CU_ASSERT_PTR_NULL(hd_config_option_by_flag("cache-max-ttlx"));
	CU_ASSERT_PTR_NULL(hd_config_option_by_flag(""));
	CU_ASSERT_PTR_NULL(hd_config_option_by_flag("no-tcp"));
	CU_ASSERT_PTR_NULL(hd_config_option_by_flag(NULL));
}

static void
test_unknown_key(void)
{
	reset();
	CU_ASSERT_EQUAL(set("cache.max_tll", "5"), -ENOENT);
	CHECK_STR(err, "test.yaml:3: unknown key 'cache.max_tll' (did you mean 'cache.max-ttl'?)");
	/* A flag spelling used as a key is one edit away from the key. */
	CU_ASSERT_EQUAL(set("cache-entries", "5"), -ENOENT);
	CHECK_HAS(err, "did you mean 'cache.entries'?");
	CU_ASSERT_EQUAL(set("prot", "5"), -ENOENT);
	CHECK_HAS(err, "did you mean 'port'?");
	CU_ASSERT_EQUAL(set("completely-different", "5"), -ENOENT);
	CHECK_STR(err, "test.yaml:3: unknown key 'completely-different'");
	CU_ASSERT_EQUAL(hd_config_set(&cfg, "nope", "1", NULL, err, sizeof(err)), -ENOENT);
	CHECK_STR(err, "unknown key 'nope'");
	/* No error buffer is fine too. */
	CU_ASSERT_EQUAL(hd_config_set(&cfg, "nope", "1", NULL, NULL, 0), -ENOENT);
}

static void
test_where_prefix(void)
{
	reset();
	CU_ASSERT_EQUAL(hd_config_set(&cfg, "port", "0", "--port", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "--port: '0' is out of range (expected a number in 1..65535)");
	CU_ASSERT_EQUAL(hd_config_set(&cfg, "port", "x", NULL, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "port: 'x' is not a number (expected a number in 1..65535)");
	CU_ASSERT_EQUAL(hd_config_set(&cfg, "port", "x", "", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "port: 'x' is not a number (expected a number in 1..65535)");
	/* A message longer than the buffer is cut, not overrun. */
	char small[8];

	CU_ASSERT_EQUAL(hd_config_set(&cfg, "port", "x", "--port", small, sizeof(small)),
			-EINVAL);
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
}

static void
test_port_and_numbers(void)
{
	reset();
	expect_ok("port", "5353");
	CU_ASSERT_EQUAL(cfg.port, 5353);
	expect_ok("port", "65535");
	CU_ASSERT_EQUAL(cfg.port, 65535);
	expect_ok("port", "053");
	CU_ASSERT_EQUAL(cfg.port, 53);
	expect_bad("port", "0", "1..65535");
	expect_bad("port", "65536", "out of range (expected a number in 1..65535)");
	expect_bad("port", "-1", "is not a number (expected a number in 1..65535)");
	expect_bad("port", "+53", "is not a number");
	expect_bad("port", " 53", "is not a number");
	expect_bad("port", "53 ", "is not a number");
	expect_bad("port", "0x35", "is not a number");
	expect_bad("port", "53abc", "is not a number");
	expect_bad("port", "", "is not a number");
	expect_bad("port", "99999999999999999999999999", "out of range");
	expect_bad("port", "18446744073709551616", "out of range");
	CU_ASSERT_EQUAL(cfg.port, 53);
}

static void
test_upstream_times(void)
{
	reset();
	expect_ok("upstream-timeout-ms", "250");
	CU_ASSERT_EQUAL(cfg.upstream_timeout_ms, 250);
	expect_ok("upstream-budget-ms", "5000");
	CU_ASSERT_EQUAL(cfg.upstream_budget_ms, 5000);
	expect_bad("upstream-timeout-ms", "5", "10..60000");
	expect_bad("upstream-timeout-ms", "60001", "10..60000");
	expect_bad("upstream-budget-ms", "600001", "10..600000");
	expect_bad("upstream-budget-ms", "1s", "is not a number");
}

static void
test_cache_numbers(void)
{
	reset();
	expect_ok("cache.entries", "1000");
	CU_ASSERT_EQUAL(cfg.cache_entries, 1000);
	expect_ok("cache.entries", "64");
	CU_ASSERT_EQUAL(cfg.cache_entries, 64);
	expect_bad("cache.entries", "63", "64..1073741824");
	expect_bad("cache.entries", "1073741825", "64..1073741824");
	expect_bad("cache.entries", "4294967296", "out of range");

	expect_ok("cache.min-ttl", "30");
	CU_ASSERT_EQUAL(cfg.cache_min_ttl, 30);
	expect_ok("cache.min-ttl", "0");
	CU_ASSERT_EQUAL(cfg.cache_min_ttl, 0);
	expect_ok("cache.max-ttl", "3600");
	CU_ASSERT_EQUAL(cfg.cache_max_ttl, 3600);
	expect_ok("cache.max-ttl", "2147483647");
	CU_ASSERT_EQUAL(cfg.cache_max_ttl, 2147483647u);
	expect_bad("cache.max-ttl", "0", "1..2147483647");
	expect_bad("cache.max-ttl", "2147483648", "1..2147483647");
	expect_ok("cache.negative-max-ttl", "0");
	CU_ASSERT_EQUAL(cfg.cache_neg_max_ttl, 0);
	expect_ok("cache.negative-max-ttl", "900");
	CU_ASSERT_EQUAL(cfg.cache_neg_max_ttl, 900);
	expect_bad("cache.negative-max-ttl", "-5", "0..2147483647");
}

static void
test_cache_bytes(void)
{
	static const struct {
		const char *in;
		uint64_t out;
	} good[] = {
		{ "256M", 256ULL << 20 }, { "256m", 256ULL << 20 }, { "1G", 1ULL << 30 },
		{ "64k", 64ULL << 10 }, { "64K", 64ULL << 10 }, { "65536", 65536 },
		{ "1T", 1ULL << 40 }, { "3000000", 3000000 },
	};

	reset();
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_ok("cache.bytes", good[i].in);
		CU_ASSERT_EQUAL(cfg.cache_bytes, good[i].out);
	}
	expect_bad("cache.bytes", "10X", "is not a size (expected a number with an optional "
		   "k, M, G or T suffix in 64k..1T)");
	expect_bad("cache.bytes", "1MB", "is not a size");
	expect_bad("cache.bytes", "M", "is not a size");
	expect_bad("cache.bytes", "-1M", "is not a size");
	expect_bad("cache.bytes", "1.5G", "is not a size");
	expect_bad("cache.bytes", "63k", "is out of range (expected a size in 64k..1T)");
	expect_bad("cache.bytes", "2T", "64k..1T");
	expect_bad("cache.bytes", "16777216T", "out of range");
	expect_bad("cache.bytes", "99999999999999999999G", "out of range");
}

static void
test_udp_ring_mbufs_pending(void)
{
	reset();
	expect_ok("udp-size", "512");
	CU_ASSERT_EQUAL(cfg.udp_size, 512);
	expect_ok("udp-size", "4096");
	CU_ASSERT_EQUAL(cfg.udp_size, 4096);
	expect_bad("udp-size", "511", "512..4096");
	expect_bad("udp-size", "4097", "512..4096");

	expect_ok("ring-size", "64");
	CU_ASSERT_EQUAL(cfg.ring_size, 64);
	expect_ok("ring-size", "65536");
	CU_ASSERT_EQUAL(cfg.ring_size, 65536);
	expect_bad("ring-size", "1000", "is not a power of two (expected a power of two in "
		   "64..65536)");
	expect_bad("ring-size", "32", "out of range (expected a power of two in 64..65536)");
	expect_bad("ring-size", "131072", "64..65536");

	expect_ok("mbufs", "32767");
	CU_ASSERT_EQUAL(cfg.mbufs, 32767);
	expect_bad("mbufs", "1000", "1023..16777215");
	expect_bad("mbufs", "16777216", "1023..16777215");

	expect_ok("max-pending", "1");
	CU_ASSERT_EQUAL(cfg.max_pending, 1);
	expect_bad("max-pending", "0", "1..1048576");
	expect_bad("max-pending", "1048577", "1..1048576");
}

static void
test_booleans(void)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes", "ON" };
	static const char *const no[] = { "false", "no", "off", "0", "False", "NO", "Off" };

	reset();
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		cfg.tcp = 0;
		cfg.manage_addresses = 0;
		expect_ok("tcp", yes[i]);
		expect_ok("manage-addresses", yes[i]);
		CU_ASSERT_EQUAL(cfg.tcp, 1);
		CU_ASSERT_EQUAL(cfg.manage_addresses, 1);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		cfg.tcp = 1;
		cfg.manage_addresses = 1;
		expect_ok("tcp", no[i]);
		expect_ok("manage-addresses", no[i]);
		CU_ASSERT_EQUAL(cfg.tcp, 0);
		CU_ASSERT_EQUAL(cfg.manage_addresses, 0);
	}
	expect_bad("tcp", "maybe", "is not a boolean (expected true/false, yes/no, on/off "
		   "or 1/0)");
	expect_bad("tcp", "2", "is not a boolean");
	expect_bad("manage-addresses", "", "is not a boolean");
}

static void
test_xdp_prog_and_log_level(void)
{
	char long_path[300];

	reset();
	expect_ok("xdp-prog", "/usr/lib/heimdall/heimdall_xdp.o");
	CHECK_STR(cfg.xdp_prog, "/usr/lib/heimdall/heimdall_xdp.o");
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	expect_bad("xdp-prog", long_path, "is too long for a path (expected at most 255 bytes)");
	CHECK_STR(cfg.xdp_prog, "/usr/lib/heimdall/heimdall_xdp.o");
	/* Empty is the default: back to the object built with heimdall. */
	expect_ok("xdp-prog", "");
	CHECK_STR(cfg.xdp_prog, "");

	static const struct {
		const char *in, *out;
	} levels[] = {
		{ "emerg", "emerg" }, { "alert", "alert" }, { "crit", "crit" }, { "err", "err" },
		{ "warning", "warning" }, { "notice", "notice" }, { "info", "info" },
		{ "debug", "debug" }, { "DEBUG", "debug" }, { "error", "err" },
		{ "warn", "warning" }, { "critical", "crit" }, { "emergency", "emerg" },
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		expect_ok("log-level", levels[i].in);
		CHECK_STR(cfg.log_level, levels[i].out);
	}
	expect_bad("log-level", "verbose", "is not a log level (expected emerg, alert, crit, "
		   "err, warning, notice, info or debug)");
	expect_bad("log-level", "7", "is not a log level");
}

static void
check_listen(unsigned int i, int family, const char *ip, unsigned int prefix)
{
	uint8_t want[16] = { 0 };

	CU_ASSERT_FATAL(i < cfg.n_listen);
	CU_ASSERT_EQUAL(cfg.listen[i].family, family);
	CU_ASSERT_EQUAL(inet_pton(family, ip, want), 1);
	CU_ASSERT(memcmp(cfg.listen[i].addr, want, 16) == 0);
	CU_ASSERT_EQUAL(cfg.listen[i].prefix, prefix);
}

static void
test_listen(void)
{
	char ip[32];

	reset();
	expect_ok("listen", "10.53.0.1");
	expect_ok("listen", "fd53::1/64");
	expect_ok("listen", "fd53::2");
	expect_ok("listen", "192.168.7.1/16");
	expect_ok("listen", "2001:db8::1/128");
	CU_ASSERT_EQUAL(cfg.n_listen, 5);
	check_listen(0, AF_INET, "10.53.0.1", 24);
	check_listen(1, AF_INET6, "fd53::1", 64);
	check_listen(2, AF_INET6, "fd53::2", 64);
	check_listen(3, AF_INET, "192.168.7.1", 16);
	check_listen(4, AF_INET6, "2001:db8::1", 128);

	expect_bad("listen", "10.53.0.300", "is not an IPv4 or IPv6 address");
	CU_ASSERT_EQUAL(set("listen", "10.53.0.300"), -EINVAL);
	CHECK_STR(err, "test.yaml:3: listen: '10.53.0.300' is not an IPv4 or IPv6 address");
	expect_bad("listen", "dns.example", "is not an IPv4 or IPv6 address");
	expect_bad("listen", "", "is not an IPv4 or IPv6 address");
	expect_bad("listen", "/24", "is not an IPv4 or IPv6 address");
	expect_bad("listen", "10.53.0.1/33", "has a bad prefix length (expected /1../32)");
	expect_bad("listen", "fd53::9/129", "has a bad prefix length (expected /1../128)");
	expect_bad("listen", "10.53.0.9/0", "bad prefix length");
	expect_bad("listen", "10.53.0.9/", "bad prefix length");
	expect_bad("listen", "10.53.0.9/-8", "bad prefix length");
	expect_bad("listen", "10.53.0.9/24/8", "bad prefix length");
	expect_bad("listen", "0.0.0.0", "is not a unicast address");
	expect_bad("listen", "::", "is not a unicast address");
	expect_bad("listen", "224.0.0.251", "is not a unicast address");
	expect_bad("listen", "255.255.255.255", "is not a unicast address");
	expect_bad("listen", "ff02::1", "is not a unicast address");
	expect_bad("listen", "::ffff:10.53.0.9", "is not a unicast address");
	expect_bad("listen", "10.53.0.1/16", "is given twice");
	expect_bad("listen", "fd53::1", "is given twice");

	for (unsigned int i = 0; cfg.n_listen < HD_CONFIG_LISTEN_MAX; i++) {
		snprintf(ip, sizeof(ip), "10.99.0.%u", i + 1);
		expect_ok("listen", ip);
	}
	expect_bad("listen", "10.99.1.1", "at most 8");
	CU_ASSERT_EQUAL(cfg.n_listen, HD_CONFIG_LISTEN_MAX);
}

static void
check_upstream(unsigned int i, int family, const char *ip, uint16_t port)
{
	const struct sockaddr_storage *ss = &cfg.upstream[i];
	uint8_t want[16];

	CU_ASSERT_FATAL(i < cfg.n_upstream);
	CU_ASSERT_EQUAL(ss->ss_family, family);
	CU_ASSERT_EQUAL(inet_pton(family, ip, want), 1);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		CU_ASSERT(memcmp(&sin->sin_addr, want, 4) == 0);
		CU_ASSERT_EQUAL(ntohs(sin->sin_port), port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		CU_ASSERT(memcmp(&sin6->sin6_addr, want, 16) == 0);
		CU_ASSERT_EQUAL(ntohs(sin6->sin6_port), port);
	}
}

static void
test_upstream(void)
{
	char ip[32];

	reset();
	expect_ok("upstream", "127.0.0.1:5300");
	expect_ok("upstream", "9.9.9.9");
	expect_ok("upstream", "[2001:db8::53]:5353");
	expect_ok("upstream", "2001:db8::1");
	expect_ok("upstream", "[2001:db8::2]");
	expect_ok("upstream", "127.0.0.1:5301");
	CU_ASSERT_EQUAL(cfg.n_upstream, 6);
	check_upstream(0, AF_INET, "127.0.0.1", 5300);
	check_upstream(1, AF_INET, "9.9.9.9", 53);
	check_upstream(2, AF_INET6, "2001:db8::53", 5353);
	check_upstream(3, AF_INET6, "2001:db8::1", 53);
	check_upstream(4, AF_INET6, "2001:db8::2", 53);
	check_upstream(5, AF_INET, "127.0.0.1", 5301);

	expect_bad("upstream", "1.1.1.1:0", "has a bad port (expected 1..65535)");
	expect_bad("upstream", "1.1.1.1:65536", "has a bad port (expected 1..65535)");
	expect_bad("upstream", "1.1.1.1:", "has a bad port");
	expect_bad("upstream", "1.1.1.1:53x", "has a bad port");
	expect_bad("upstream", "[2001:db8::9]:", "has a bad port");
	expect_bad("upstream", "1.1.1.300", "is not an upstream address (expected IP, "
		   "IP:PORT, IPv6 or [IPv6]:PORT)");
	expect_bad("upstream", "dns.example:53", "is not an upstream address");
	expect_bad("upstream", "[1.1.1.1]:53", "is not an upstream address");
	expect_bad("upstream", "[2001:db8::9", "is not an upstream address");
	expect_bad("upstream", "[2001:db8::9]53", "is not an upstream address");
	expect_bad("upstream", "", "is not an upstream address");
	expect_bad("upstream", "0.0.0.0:53", "is not a unicast address");
	expect_bad("upstream", "[ff02::1]:53", "is not a unicast address");
	expect_bad("upstream", "127.0.0.1:5300", "is given twice");
	expect_bad("upstream", "9.9.9.9:53", "is given twice");

	for (unsigned int i = 0; cfg.n_upstream < HD_CONFIG_UPSTREAM_MAX; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%u", i + 1);
		expect_ok("upstream", ip);
	}
	expect_bad("upstream", "10.0.1.1", "at most 8");
}

static uint16_t
server_port(const struct hd_config_server *sv)
{
	if (sv->addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&sv->addr)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&sv->addr)->sin6_port);
}

/* upstream[i] and upstream_server[i] describe the same server. */
static void
check_server(unsigned int i, int family, const char *ip, uint16_t port, int tls,
	     const char *name)
{
	check_upstream(i, family, ip, port);
	CU_ASSERT(memcmp(&cfg.upstream_server[i].addr, &cfg.upstream[i],
			 sizeof(cfg.upstream[i])) == 0);
	CU_ASSERT_EQUAL(cfg.upstream_server[i].tls, tls);
	CHECK_STR(cfg.upstream_server[i].tls_name, name);
}

static void
test_upstream_tls(void)
{
	reset();
	expect_ok("upstream", "9.9.9.9");
	expect_ok("upstream", "tls://9.9.9.9#dns.quad9.net");
	expect_ok("upstream", "tls://1.1.1.1");
	expect_ok("upstream", "TLS://[2606:4700::1111]:8853#One.One.One.One.");
	expect_ok("upstream", "tls://2620:fe::fe#dns9");
	expect_ok("upstream", "tls://127.0.0.1:5853#localhost");
	CU_ASSERT_EQUAL_FATAL(cfg.n_upstream, 6);
	check_server(0, AF_INET, "9.9.9.9", 53, 0, "");
	check_server(1, AF_INET, "9.9.9.9", 853, 1, "dns.quad9.net");
	check_server(2, AF_INET, "1.1.1.1", 853, 1, "");
	/* Names are compared as certificates compare them: lowercase, no final dot. */
	check_server(3, AF_INET6, "2606:4700::1111", 8853, 1, "one.one.one.one");
	check_server(4, AF_INET6, "2620:fe::fe", 853, 1, "dns9");
	check_server(5, AF_INET, "127.0.0.1", 5853, 1, "localhost");

	expect_bad("upstream", "9.9.9.9#dns.quad9.net", "names a certificate but is not "
		   "DNS over TLS (expected tls://IP[:PORT][#NAME])");
	expect_bad("upstream", "https://9.9.9.9/dns-query", "has an unknown scheme "
		   "(expected none, or tls:// for DNS over TLS)");
	expect_bad("upstream", "udp://9.9.9.9", "has an unknown scheme");
	expect_bad("upstream", "tls://dns.quad9.net", "is not a DNS-over-TLS server "
		   "(expected tls://IP[:PORT][#NAME]");
	expect_bad("upstream", "tls://", "is not a DNS-over-TLS server");
	expect_bad("upstream", "tls://#dns.quad9.net", "is not a DNS-over-TLS server");
	expect_bad("upstream", "tls://[9.9.9.9]:853", "is not a DNS-over-TLS server");
	/* As for plain upstreams, an IPv6 address with a port needs brackets. */
	expect_ok("upstream", "tls://2001:db8::1:853#x");
	check_server(6, AF_INET6, "2001:db8::1:853", 853, 1, "x");
	expect_bad("upstream", "tls://8.8.8.8:0", "has a bad port (expected 1..65535)");
	expect_bad("upstream", "tls://8.8.8.8:#dns.google", "has a bad port");
	expect_bad("upstream", "tls://0.0.0.0", "is not a unicast address");
	expect_bad("upstream", "tls://8.8.8.8#", "has a bad certificate name after '#' "
		   "(expected a host name such as dns.example");
	expect_bad("upstream", "tls://8.8.8.8#dns_google", "has a bad certificate name");
	expect_bad("upstream", "tls://8.8.8.8#dns..google", "has a bad certificate name");
	expect_bad("upstream", "tls://8.8.8.8#-dns.google", "has a bad certificate name");
	expect_bad("upstream", "tls://8.8.8.8#dns-.google", "has a bad certificate name");
	expect_bad("upstream", "tls://8.8.8.8#dns google", "has a bad certificate name");
	expect_bad("upstream", "tls://8.8.8.8#.", "has a bad certificate name");
	expect_bad("upstream", "tls://8.8.8.8#a.b#c", "has a bad certificate name");
	/* The same address and port is one server, whatever the transport. */
	expect_bad("upstream", "tls://9.9.9.9:853", "is given twice");
	expect_bad("upstream", "1.1.1.1:853", "is given twice");
}

static void
test_tls_name_lengths(void)
{
	char v[400], label[70];

	reset();
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(v, sizeof(v), "tls://10.0.0.1#%s.example", label);
	expect_ok("upstream", v);
	CU_ASSERT_EQUAL(strlen(cfg.upstream_server[0].tls_name), 63 + 8);
	snprintf(v, sizeof(v), "tls://10.0.0.2#a%s.example", label);
	expect_bad("upstream", v, "has a bad certificate name");
	/* 253 characters is the most a name can have. */
	snprintf(v, sizeof(v), "tls://10.0.0.3#%s.%s.%s.%.61s", label, label, label, label);
	expect_ok("upstream", v);
	snprintf(v, sizeof(v), "tls://10.0.0.4#%s.%s.%s.%.62s", label, label, label, label);
	expect_bad("upstream", v, "has a bad certificate name");
}

static void
test_upstream_strategy(void)
{
	static const struct {
		const char *text;
		int want;
	} good[] = {
		{ "strict", HD_CONFIG_STRATEGY_STRICT },
		{ "round_robin", HD_CONFIG_STRATEGY_ROUND_ROBIN },
		{ "round-robin", HD_CONFIG_STRATEGY_ROUND_ROBIN },
		{ "Parallel", HD_CONFIG_STRATEGY_PARALLEL },
		{ "fastest", HD_CONFIG_STRATEGY_FASTEST },
	};

	reset();
	CU_ASSERT_EQUAL(cfg.upstream_strategy, HD_CONFIG_STRATEGY_FASTEST);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_ok("upstream-strategy", good[i].text);
		CU_ASSERT_EQUAL(cfg.upstream_strategy, good[i].want);
	}
	expect_ok("upstream-strategy", "strict");
	expect_bad("upstream-strategy", "fast", "is not an upstream strategy (expected strict, "
		   "round_robin, fastest or parallel)");
	expect_bad("upstream-strategy", "", "is not an upstream strategy");
	expect_bad("upstream-strategy", "round robin", "is not an upstream strategy");
	CU_ASSERT_EQUAL(cfg.upstream_strategy, HD_CONFIG_STRATEGY_STRICT);
	CHECK_STR(hd_config_strategy_name(HD_CONFIG_STRATEGY_STRICT), "strict");
	CHECK_STR(hd_config_strategy_name(HD_CONFIG_STRATEGY_ROUND_ROBIN), "round_robin");
	CHECK_STR(hd_config_strategy_name(HD_CONFIG_STRATEGY_FASTEST), "fastest");
	CHECK_STR(hd_config_strategy_name(HD_CONFIG_STRATEGY_PARALLEL), "parallel");
	CHECK_STR(hd_config_strategy_name(4), "?");
	CHECK_STR(hd_config_strategy_name(-1), "?");
	/* Every name it gives is read back as the same strategy. */
	for (int st = 0; st < 4; st++) {
		expect_ok("upstream-strategy", hd_config_strategy_name(st));
		CU_ASSERT_EQUAL(cfg.upstream_strategy, st);
	}
}

static void
test_tls_ca_file(void)
{
	char long_path[HD_CONFIG_SOURCE_LEN + 8];

	reset();
	CHECK_STR(cfg.tls_ca_file, "");
	expect_ok("tls-ca-file", "/etc/heimdall/ca.pem");
	CHECK_STR(cfg.tls_ca_file, "/etc/heimdall/ca.pem");
	expect_ok("tls-ca-file", "");
	CHECK_STR(cfg.tls_ca_file, "");
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	/* The message quotes the whole value, so only its start fits the buffer. */
	expect_bad("tls-ca-file", long_path, "");
}

static void
check_fwd_server(const struct hd_config_server *sv, const char *ip, uint16_t port, int tls,
		 const char *name)
{
	uint8_t want[16];
	int family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;

	CU_ASSERT_EQUAL(sv->addr.ss_family, family);
	CU_ASSERT_EQUAL_FATAL(inet_pton(family, ip, want), 1);
	if (family == AF_INET) {
		CU_ASSERT(memcmp(&((const struct sockaddr_in *)&sv->addr)->sin_addr, want, 4) == 0);
	} else {
		CU_ASSERT(memcmp(&((const struct sockaddr_in6 *)&sv->addr)->sin6_addr, want,
				 16) == 0);
	}
	CU_ASSERT_EQUAL(server_port(sv), port);
	CU_ASSERT_EQUAL(sv->tls, tls);
	CHECK_STR(sv->tls_name, name);
}

static void
test_forward_zone(void)
{
	reset();
	CU_ASSERT_EQUAL(cfg.n_forwards, 0);
	expect_ok("forward-zone", "lan=192.168.1.1");
	expect_ok("forward-zone", "168.192.IN-ADDR.arpa.=192.168.1.1,[fd00::1]:5353");
	expect_ok("forward-zone", "corp.example=10.1.0.53,tls://10.2.0.53#NS.corp.example,"
		  "fd00::53,tls://[fd00::54]:8853");
	CU_ASSERT_EQUAL_FATAL(cfg.n_forwards, 3);
	CHECK_STR(cfg.forwards[0].domain, "lan");
	CU_ASSERT_EQUAL(cfg.forwards[0].n_servers, 1);
	check_fwd_server(&cfg.forwards[0].servers[0], "192.168.1.1", 53, 0, "");
	CHECK_STR(cfg.forwards[0].where, "test.yaml:3");
	/* One spelling per zone: lowercase, no trailing dot. */
	CHECK_STR(cfg.forwards[1].domain, "168.192.in-addr.arpa");
	CU_ASSERT_EQUAL(cfg.forwards[1].n_servers, 2);
	check_fwd_server(&cfg.forwards[1].servers[1], "fd00::1", 5353, 0, "");
	CU_ASSERT_EQUAL(cfg.forwards[2].n_servers, 4);
	check_fwd_server(&cfg.forwards[2].servers[0], "10.1.0.53", 53, 0, "");
	check_fwd_server(&cfg.forwards[2].servers[1], "10.2.0.53", 853, 1, "ns.corp.example");
	check_fwd_server(&cfg.forwards[2].servers[2], "fd00::53", 53, 0, "");
	check_fwd_server(&cfg.forwards[2].servers[3], "fd00::54", 8853, 1, "");
	/* Forward zones leave the default upstreams alone. */
	CU_ASSERT_EQUAL(cfg.n_upstream, 0);

	expect_bad("forward-zone", "lan", "is not a forward zone (expected "
		   "DOMAIN=SERVER[,SERVER...], e.g. lan=192.168.1.1)");
	expect_bad("forward-zone", "", "is not a forward zone");
	expect_bad("forward-zone", "=10.0.0.1", "has a bad domain: '' is not a domain name "
		   "(expected DOMAIN=SERVER[,SERVER...]");
	expect_bad("forward-zone", "a..b=10.0.0.1", "has a bad domain: 'a..b'");
	expect_bad("forward-zone", ".=10.0.0.1", "forwards the root zone: the default servers "
		   "are set with upstream");
	expect_bad("forward-zone", "home=", "has no server (expected DOMAIN=SERVER");
	expect_bad("forward-zone", "home=10.0.0.1,", "has a bad server: '' is empty");
	expect_bad("forward-zone", "home=,10.0.0.1", "has a bad server: '' is empty");
	expect_bad("forward-zone", "home=10.0.0.300", "has a bad server: '10.0.0.300' is not "
		   "an upstream address (expected IP, IP:PORT, IPv6 or [IPv6]:PORT)");
	expect_bad("forward-zone", "home=router.lan", "has a bad server: 'router.lan' is not "
		   "an upstream address");
	expect_bad("forward-zone", "home=10.0.0.1:0", "has a bad server: '10.0.0.1:0' has a "
		   "bad port (expected 1..65535)");
	expect_bad("forward-zone", "home=10.0.0.1#x", "has a bad server: '10.0.0.1#x' names a "
		   "certificate but is not DNS over TLS");
	expect_bad("forward-zone", "home=tls://10.0.0.1#x_y", "has a bad server: "
		   "'tls://10.0.0.1#x_y' has a bad certificate name");
	expect_bad("forward-zone", "home=10.0.0.1,10.0.0.1:53", "has a bad server: "
		   "'10.0.0.1:53' is given twice");
	expect_bad("forward-zone", "home=10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5",
		   "has a bad server: '10.0.0.5' is one server too many (at most 4 per zone)");
	expect_bad("forward-zone", "LAN.=10.9.9.9", "has the domain of the forward zone given "
		   "at test.yaml:3");
	expect_bad("forward-zone", "home=0.0.0.0", "is not a unicast address");
	CU_ASSERT_EQUAL(cfg.n_forwards, 3);
}

static void
test_forward_zone_limits(void)
{
	char spec[64];

	reset();
	for (unsigned int i = 0; i < HD_CONFIG_FORWARDS_MAX; i++) {
		snprintf(spec, sizeof(spec), "z%u.example=10.0.%u.1", i, i);
		expect_ok("forward-zone", spec);
	}
	expect_bad("forward-zone", "one.more=10.1.0.1", "is one forward zone too many "
		   "(at most 32)");
	/* A flag names the setting already: the message starts with it. */
	CU_ASSERT_EQUAL(hd_config_set(&cfg, "forward-zone", "x", "--forward-zone", err,
				      sizeof(err)), -EINVAL);
	CHECK_STR(err, "--forward-zone: 'x' is not a forward zone (expected "
		  "DOMAIN=SERVER[,SERVER...], e.g. lan=192.168.1.1)");
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "forward-zone"), 0);
	CU_ASSERT_EQUAL(cfg.n_forwards, 0);
	CU_ASSERT(cfg.forwards[0].domain[0] == '\0');
	expect_ok("forward-zone", "z0.example=10.0.0.1");
}

static void
test_stale_prefetch_persistence(void)
{
	reset();
	CU_ASSERT_EQUAL(cfg.serve_stale, 1);
	CU_ASSERT_EQUAL(cfg.prefetch, 1);
	expect_ok("serve-stale", "off");
	expect_ok("prefetch", "no");
	CU_ASSERT(cfg.serve_stale == 0 && cfg.prefetch == 0);
	expect_ok("serve-stale", "TRUE");
	expect_ok("prefetch", "1");
	CU_ASSERT(cfg.serve_stale == 1 && cfg.prefetch == 1);
	expect_bad("serve-stale", "sometimes", "is not a boolean (expected true/false, yes/no, "
		   "on/off or 1/0)");
	expect_bad("prefetch", "", "is not a boolean");

	expect_ok("stale-ttl", "1");
	CU_ASSERT_EQUAL(cfg.stale_ttl, 1);
	expect_ok("stale-ttl", "3600");
	CU_ASSERT_EQUAL(cfg.stale_ttl, 3600);
	expect_bad("stale-ttl", "0", "is out of range (expected a number in 1..3600)");
	expect_bad("stale-ttl", "3601", "is out of range (expected a number in 1..3600)");
	expect_bad("stale-ttl", "30s", "is not a number (expected a number in 1..3600)");

	expect_ok("stale-window", "90");
	CU_ASSERT_EQUAL(cfg.stale_window, 90);
	expect_ok("stale-window", "15m");
	CU_ASSERT_EQUAL(cfg.stale_window, 900);
	expect_ok("stale-window", "6h");
	CU_ASSERT_EQUAL(cfg.stale_window, 6 * 3600);
	expect_ok("stale-window", "7d");
	CU_ASSERT_EQUAL(cfg.stale_window, 7 * 86400);
	expect_ok("stale-window", "0");
	CU_ASSERT_EQUAL(cfg.stale_window, 0);
	expect_bad("stale-window", "8d", "is out of range (expected a duration in 0..7d)");
	expect_bad("stale-window", "604801", "is out of range (expected a duration in 0..7d)");
	expect_bad("stale-window", "1w", "is not a duration (expected seconds, or a number "
		   "with an s, m, h or d suffix, in 0..7d");
	expect_bad("stale-window", "-1", "is not a duration");

	expect_ok("cache-file", "/var/lib/heimdall/cache.bin");
	CHECK_STR(cfg.cache_file, "/var/lib/heimdall/cache.bin");
	expect_ok("cache-save-interval", "15m");
	CU_ASSERT_EQUAL(cfg.cache_save_interval, 900);
	expect_ok("cache-save-interval", "0");
	CU_ASSERT_EQUAL(cfg.cache_save_interval, 0);
	expect_ok("cache-save-interval", "365d");
	expect_bad("cache-save-interval", "366d", "is out of range (expected a duration in "
		   "0..365d)");
	expect_bad("cache-save-interval", "often", "is not a duration");
	expect_ok("cache-file", "");
	CHECK_STR(cfg.cache_file, "");
}

static void
test_server_items(void)
{
	const char *f1[] = { "address", "port", "tls", "tls-name" };
	const char *v1[] = { "2620:fe::fe", "8853", "yes", "DNS.quad9.net" };
	const char *w1[] = { "t.yaml:5", "t.yaml:6", "t.yaml:7", "t.yaml:8" };
	const char *f2[] = { "address", "tls" };
	const char *v2[] = { "9.9.9.9", "true" };
	const char *f3[] = { "address" };
	const char *v3[] = { "9.9.9.9" };
	const char *f4[] = { "address", "tls-name" };
	const char *v4[] = { "10.0.0.1", "x.example" };
	const char *f5[] = { "domain", "servers" };
	const char *v5[] = { "Lan.", "192.168.1.1,tls://192.168.1.2#router.lan" };
	const char *f6[] = { "domain", "server" };

#define ITEM(key, f, v, w, n, where) \
	hd_config_set_item(&cfg, key, f, v, w, n, where, err, sizeof(err))
	reset();
	CU_ASSERT_EQUAL(ITEM("upstream", f1, v1, w1, 4, "t.yaml:4"), 0);
	CU_ASSERT_EQUAL(ITEM("upstream", f2, v2, NULL, 2, "t.yaml:9"), 0);
	CU_ASSERT_EQUAL(ITEM("upstream", f3, v3, NULL, 1, "t.yaml:10"), 0);
	CU_ASSERT_EQUAL_FATAL(cfg.n_upstream, 3);
	check_server(0, AF_INET6, "2620:fe::fe", 8853, 1, "dns.quad9.net");
	check_server(1, AF_INET, "9.9.9.9", 853, 1, "");
	check_server(2, AF_INET, "9.9.9.9", 53, 0, "");
	CU_ASSERT_EQUAL(ITEM("upstream", f3, v3, NULL, 1, "t.yaml:11"), -EINVAL);
	CHECK_STR(err, "t.yaml:11: upstream: '9.9.9.9' is given twice");
	v1[1] = "0";
	CU_ASSERT_EQUAL(ITEM("upstream", f1, v1, w1, 4, "t.yaml:4"), -EINVAL);
	CHECK_STR(err, "t.yaml:6: upstream.port: '0' is not a port (expected 1..65535)");
	v1[1] = "853";
	v1[2] = "maybe";
	CU_ASSERT_EQUAL(ITEM("upstream", f1, v1, w1, 4, "t.yaml:4"), -EINVAL);
	CHECK_STR(err, "t.yaml:7: upstream.tls: 'maybe' is not a boolean (expected true/false, "
		  "yes/no, on/off or 1/0)");
	v1[2] = "true";
	v1[3] = "bad_name";
	CU_ASSERT_EQUAL(ITEM("upstream", f1, v1, w1, 4, "t.yaml:4"), -EINVAL);
	CHECK_HAS(err, "t.yaml:8: upstream.tls-name: 'bad_name' is not a host name (expected "
		  "a host name such as dns.example");
	v1[0] = "[2620:fe::fe]:53";
	CU_ASSERT_EQUAL(ITEM("upstream", f1, v1, w1, 1, "t.yaml:4"), -EINVAL);
	CHECK_STR(err, "t.yaml:5: upstream.address: '[2620:fe::fe]:53' is not an IPv4 or IPv6 "
		  "address (a port goes in 'port')");
	v1[0] = "224.0.0.1";
	CU_ASSERT_EQUAL(ITEM("upstream", f1, v1, w1, 1, "t.yaml:4"), -EINVAL);
	CHECK_STR(err, "t.yaml:5: upstream.address: '224.0.0.1' is not a unicast address");
	CU_ASSERT_EQUAL(ITEM("upstream", f4, v4, NULL, 2, "t.yaml:12"), -EINVAL);
	CHECK_STR(err, "t.yaml:12: upstream.tls-name: 'x.example' is for DNS over TLS only "
		  "(add 'tls: true')");
	CU_ASSERT_EQUAL(ITEM("upstream", f4 + 1, v4 + 1, NULL, 1, "t.yaml:13"), -EINVAL);
	CHECK_STR(err, "t.yaml:13: upstream: an item without 'address' (expected an IPv4 or "
		  "IPv6 address)");
	CU_ASSERT_EQUAL(ITEM("upstream", f6, v5, NULL, 2, "t.yaml:14"), -EINVAL);
	CHECK_STR(err, "t.yaml:14: upstream: unknown field 'domain' (expected address, port, "
		  "tls, tls-name)");
	CU_ASSERT_EQUAL(cfg.n_upstream, 3);

	CU_ASSERT_EQUAL(ITEM("forward-zone", f5, v5, NULL, 2, "t.yaml:20"), 0);
	CU_ASSERT_EQUAL_FATAL(cfg.n_forwards, 1);
	CHECK_STR(cfg.forwards[0].domain, "lan");
	CHECK_STR(cfg.forwards[0].where, "t.yaml:20");
	CU_ASSERT_EQUAL(cfg.forwards[0].n_servers, 2);
	check_fwd_server(&cfg.forwards[0].servers[1], "192.168.1.2", 853, 1, "router.lan");
	CU_ASSERT_EQUAL(ITEM("forward-zone", f5, v5, NULL, 2, "t.yaml:21"), -EINVAL);
	CHECK_STR(err, "t.yaml:21: forward-zone: 'Lan.' has the domain of the forward zone "
		  "given at t.yaml:20");
	CU_ASSERT_EQUAL(ITEM("forward-zone", f6, v5, NULL, 2, "t.yaml:22"), -EINVAL);
	CHECK_STR(err, "t.yaml:22: forward-zone: unknown field 'server' (expected domain, "
		  "servers)");
	CU_ASSERT_EQUAL(ITEM("forward-zone", f5, v5, NULL, 1, "t.yaml:23"), -EINVAL);
	CHECK_HAS(err, "t.yaml:23: forward-zone: an item needs 'domain' and 'servers'");
	v5[0] = "work";
	v5[1] = "";
	CU_ASSERT_EQUAL(ITEM("forward-zone", f5, v5, NULL, 2, "t.yaml:24"), -EINVAL);
	CHECK_HAS(err, "t.yaml:24: forward-zone: 'work' has no server");
	CU_ASSERT(hd_config_takes_items("upstream") && hd_config_takes_items("forward-zone"));
	CU_ASSERT(!hd_config_takes_items("upstream-strategy"));
#undef ITEM
}

static void
test_clear(void)
{
	reset();
	expect_ok("listen", "10.53.0.1");
	expect_ok("listen", "10.53.0.2");
	expect_ok("upstream", "10.0.0.1");
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "listen"), 0);
	CU_ASSERT_EQUAL(cfg.n_listen, 0);
	CU_ASSERT_EQUAL(cfg.n_upstream, 1);
	/* Replacing, not appending: the same address may be given again. */
	expect_ok("listen", "10.53.0.1");
	CU_ASSERT_EQUAL(cfg.n_listen, 1);
	expect_ok("upstream", "tls://10.0.0.2#a.example");
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "upstream"), 0);
	CU_ASSERT_EQUAL(cfg.n_upstream, 0);
	/* No TLS settings of a dropped server linger at its index. */
	CU_ASSERT(cfg.upstream_server[1].tls == 0 && cfg.upstream_server[1].tls_name[0] == '\0');
	expect_ok("upstream", "10.0.0.1");
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "nope"), -ENOENT);
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "port"), -EINVAL);
	CU_ASSERT_EQUAL(cfg.port, 53);
}

static void
test_block_settings(void)
{
	uint8_t want[16];

	reset();
	CU_ASSERT_EQUAL(cfg.block_mode, HD_CONFIG_BLOCK_NULL);
	CU_ASSERT_EQUAL(cfg.block_ttl, 10);
	CU_ASSERT_EQUAL(cfg.list_refresh, 86400);
	CHECK_STR(cfg.list_dir, "/var/lib/heimdall/lists");
	CU_ASSERT_EQUAL(cfg.local_ptr, 1);
	CU_ASSERT(!cfg.has_block_v4 && !cfg.has_block_v6);

	expect_ok("block-mode", "nxdomain");
	CU_ASSERT_EQUAL(cfg.block_mode, HD_CONFIG_BLOCK_NXDOMAIN);
	expect_ok("block-mode", "REFUSED");
	CU_ASSERT_EQUAL(cfg.block_mode, HD_CONFIG_BLOCK_REFUSED);
	expect_ok("block-mode", "custom");
	CU_ASSERT_EQUAL(cfg.block_mode, HD_CONFIG_BLOCK_CUSTOM);
	CHECK_STR(hd_config_block_mode_name(HD_CONFIG_BLOCK_NODATA), "nodata");
	expect_bad("block-mode", "block", "is not a block mode (expected nxdomain, nodata, "
		   "null, custom or refused)");
	expect_bad("block-mode", "", "is not a block mode");

	expect_ok("block-ttl", "0");
	CU_ASSERT_EQUAL(cfg.block_ttl, 0);
	expect_ok("block-ttl", "86400");
	expect_bad("block-ttl", "86401", "0..86400");

	expect_ok("block-ipv4", "10.53.0.80");
	CU_ASSERT(cfg.has_block_v4);
	inet_pton(AF_INET, "10.53.0.80", want);
	CU_ASSERT(memcmp(cfg.block_v4, want, 4) == 0);
	expect_ok("block-ipv6", "fd53::80");
	CU_ASSERT(cfg.has_block_v6);
	inet_pton(AF_INET6, "fd53::80", want);
	CU_ASSERT(memcmp(cfg.block_v6, want, 16) == 0);
	expect_bad("block-ipv4", "fd53::80", "is not an IPv4 address");
	expect_bad("block-ipv6", "10.53.0.80", "is not an IPv6 address");

	expect_ok("list-refresh", "0");
	CU_ASSERT_EQUAL(cfg.list_refresh, 0);
	expect_ok("list-refresh", "90");
	CU_ASSERT_EQUAL(cfg.list_refresh, 90);
	expect_ok("list-refresh", "15m");
	CU_ASSERT_EQUAL(cfg.list_refresh, 900);
	expect_ok("list-refresh", "12h");
	CU_ASSERT_EQUAL(cfg.list_refresh, 43200);
	expect_ok("list-refresh", "7d");
	CU_ASSERT_EQUAL(cfg.list_refresh, 7 * 86400);
	expect_bad("list-refresh", "1w", "is not a duration (expected seconds, or a number "
		   "with an s, m, h or d suffix, in 0..365d; 0 turns it off)");
	expect_bad("list-refresh", "h", "is not a duration");
	expect_bad("list-refresh", "5hh", "is not a duration");
	expect_bad("list-refresh", "-5", "is not a duration");
	expect_bad("list-refresh", "366d", "is out of range (expected a duration in 0..365d)");
	expect_bad("list-refresh", "99999999999999999999999", "is out of range");
	expect_ok("list-dir", "/tmp/lists");
	CHECK_STR(cfg.list_dir, "/tmp/lists");
	expect_ok("local-ptr", "off");
	CU_ASSERT_EQUAL(cfg.local_ptr, 0);
}

static void
test_lists_and_names(void)
{
	char src[64];

	reset();
	expect_ok("blocklist", "/etc/heimdall/ads.txt");
	expect_ok("blocklist", "mal=https://example.org/lists/malware.hosts?x=1");
	expect_ok("blocklist", "https://example.org/dl/StevenBlack%20hosts");
	expect_ok("blocklist", "/srv/other/ads.txt");
	expect_ok("allowlist", "/etc/heimdall/allow.txt");
	CU_ASSERT_EQUAL_FATAL(cfg.n_lists, 5);
	CHECK_STR(cfg.lists[0].name, "ads");
	CHECK_STR(cfg.lists[0].source, "/etc/heimdall/ads.txt");
	CU_ASSERT(!cfg.lists[0].is_url && !cfg.lists[0].allow && !cfg.lists[0].named);
	CU_ASSERT_EQUAL(cfg.lists[0].mode, -1);
	CU_ASSERT_EQUAL(cfg.lists[0].ttl, -1);
	CHECK_STR(cfg.lists[0].syntax, "auto");
	CHECK_STR(cfg.lists[0].where, "test.yaml:3");
	CHECK_STR(cfg.lists[1].name, "mal");
	CHECK_STR(cfg.lists[1].source, "https://example.org/lists/malware.hosts?x=1");
	CU_ASSERT(cfg.lists[1].is_url && cfg.lists[1].named);
	CHECK_STR(cfg.lists[2].name, "stevenblack-20hosts");
	/* A derived name that is taken gets a suffix. */
	CHECK_STR(cfg.lists[3].name, "ads-2");
	CHECK_STR(cfg.lists[4].name, "allow");
	CU_ASSERT(cfg.lists[4].allow);

	expect_bad("blocklist", "mal=/x.txt", "has the name 'mal' of the list given at "
		   "test.yaml:3 (names must be unique)");
	expect_bad("allowlist", "ads=/y.txt", "names must be unique");
	expect_bad("blocklist", "", "has no source");
	expect_bad("blocklist", "x=", "has no source");
	expect_bad("blocklist", "ftp://example.org/list", "is not a file path or an http(s) URL");
	expect_bad("blocklist", "https://", "is not a file path or an http(s) URL");

	/* Flags replace: clearing the blocklists keeps the allowlists. */
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "blocklist"), 0);
	CU_ASSERT_EQUAL(cfg.n_lists, 1);
	CHECK_STR(cfg.lists[0].name, "allow");
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "allowlist"), 0);
	CU_ASSERT_EQUAL(cfg.n_lists, 0);

	for (unsigned int i = 0; cfg.n_lists < HD_CONFIG_LISTS_MAX; i++) {
		snprintf(src, sizeof(src), "/l/%u.txt", i);
		expect_ok(i % 2 ? "allowlist" : "blocklist", src);
	}
	expect_bad("blocklist", "/l/last.txt", "at most 64 blocklists and allowlists");
}

static void
test_groups(void)
{
	reset();
	expect_ok("group", "kids=10.53.0.3/32,10.53.1.0/24:ads,mal");
	expect_ok("group", "adults=10.53.0.4:");
	expect_ok("group", "v6=fd53::/64,fd53:1::9/128:ads");
	expect_ok("group", "all=10.60.0.0/16");
	expect_ok("group", "v6b=fd54::1");
	CU_ASSERT_EQUAL_FATAL(cfg.n_groups, 5);
	CHECK_STR(cfg.groups[0].name, "kids");
	CU_ASSERT_EQUAL(cfg.groups[0].n_subnets, 2);
	CHECK_STR(cfg.groups[0].subnets[1], "10.53.1.0/24");
	CU_ASSERT_EQUAL(cfg.groups[0].n_lists, 2);
	CHECK_STR(cfg.groups[0].lists[1], "mal");
	CU_ASSERT(!cfg.groups[0].all_lists);
	/* An empty list part: no list, the group bypasses blocking. */
	CU_ASSERT_EQUAL(cfg.groups[1].n_lists, 0);
	CU_ASSERT(!cfg.groups[1].all_lists);
	CU_ASSERT_EQUAL(cfg.groups[2].n_subnets, 2);
	CHECK_STR(cfg.groups[2].subnets[0], "fd53::/64");
	CU_ASSERT_EQUAL(cfg.groups[2].n_lists, 1);
	/* No list part: every list. */
	CU_ASSERT(cfg.groups[3].all_lists);
	CU_ASSERT(cfg.groups[4].all_lists);
	CHECK_STR(cfg.groups[4].subnets[0], "fd54::1");

	expect_bad("group", "kids", "is not a group (expected NAME=SUBNET[,SUBNET...]"
		   "[:LIST[,LIST...]])");
	expect_bad("group", "kids=10.9.0.1:x", "has the name of the group given at test.yaml:3");
	expect_bad("group", "Kids=10.9.0.1", "has a bad group name");
	expect_bad("group", "x=:ads", "has no client subnet");
	expect_bad("group", "x=10.53.0.300:ads", "has a bad client: '10.53.0.300' is not a "
		   "subnet (expected ADDR or ADDR/PREFIX)");
	expect_bad("group", "x=10.53.0.0/33", "is not a subnet");
	expect_bad("group", "x=10.53.0.1,10.53.0.1", "has a bad client: '10.53.0.1' is given twice");
	expect_bad("group", "x=10.53.0.1:ads,ads", "has a bad list: 'ads' is given twice");
	expect_bad("group", "x=10.53.0.1:Ads", "has a bad list: 'Ads' is not a list name");
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "group"), 0);
	CU_ASSERT_EQUAL(cfg.n_groups, 0);
}

/* The owner and type the API matches records by, from the record setting's syntax. */
static void
test_record_key(void)
{
	char name[64], type[16];

	CU_ASSERT_EQUAL(hd_config_record_key("NAS.Lab.home.arpa. 300 IN a 192.168.1.10", name,
					     sizeof(name), type, sizeof(type)), 0);
	CHECK_STR(name, "nas.lab.home.arpa");
	CHECK_STR(type, "A");
	CU_ASSERT_EQUAL(hd_config_record_key("\tmail.lab  mx 10 mx.lab", name, sizeof(name),
					     type, sizeof(type)), 0);
	CHECK_STR(name, "mail.lab");
	CHECK_STR(type, "MX");
	/* A class without a TTL, and a name that is only the root. */
	CU_ASSERT_EQUAL(hd_config_record_key(". CH TXT x", name, sizeof(name), type,
					     sizeof(type)), 0);
	CHECK_STR(name, ".");
	CHECK_STR(type, "TXT");
	CU_ASSERT_EQUAL(hd_config_record_key("", name, sizeof(name), type, sizeof(type)),
			-EINVAL);
	CU_ASSERT_EQUAL(hd_config_record_key("only.name 300", name, sizeof(name), type,
					     sizeof(type)), -EINVAL);
	CU_ASSERT_EQUAL(hd_config_record_key("a.long.name A 1.2.3.4", name, 4, type,
					     sizeof(type)), -EINVAL);
}

static void
test_records_and_zones(void)
{
	reset();
	expect_ok("record", "nas.lab.home.arpa A 192.168.1.10");
	expect_ok("record", "nas.lab.home.arpa. 3600 IN AAAA fd00::10");
	expect_ok("record", "*.lab.home.arpa 60 A 192.168.1.11");
	expect_ok("record", "lab.home.arpa TXT \"v=spf1 -all\"");
	CU_ASSERT_EQUAL_FATAL(cfg.n_records, 4);
	CHECK_STR(cfg.records[1].text, "nas.lab.home.arpa. 3600 IN AAAA fd00::10");
	CHECK_STR(cfg.records[1].where, "test.yaml:3");
	expect_bad("record", "nas A", "has no value (expected \"NAME [TTL] TYPE VALUE\"");
	expect_bad("record", "nas.lab 300", "has no record type");
	expect_bad("record", "", "is empty");
	expect_bad("record", "a..b A 1.2.3.4", "does not start with a domain name");
	expect_bad("record", "nas 300 IN", "has no record type");

	expect_ok("zone-file", "/etc/heimdall/lab.zone");
	CU_ASSERT_EQUAL(cfg.n_zone_files, 1);
	expect_bad("zone-file", "/etc/heimdall/lab.zone", "is given twice");
	expect_bad("zone-file", "", "is not a path");

	expect_ok("local-zone", "Lab.Home.Arpa.");
	CHECK_STR(cfg.local_zones[0].name, "lab.home.arpa");
	expect_bad("local-zone", "lab.home.arpa", "is given twice");
	expect_bad("local-zone", "lab..arpa", "is not a domain name");
	expect_bad("local-zone", "a b", "is not a domain name");
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "record"), 0);
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "zone-file"), 0);
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "local-zone"), 0);
	CU_ASSERT(cfg.n_records == 0 && cfg.n_zone_files == 0 && cfg.n_local_zones == 0);
}

static void
test_items(void)
{
	const char *f1[] = { "name", "source", "mode", "ttl", "ipv4", "ipv6", "syntax" };
	const char *v1[] = { "ads", "https://example.org/a.txt", "custom", "60", "10.0.0.1",
			     "fd00::1", "Hosts" };
	const char *f2[] = { "source", "mode" };
	const char *v2[] = { "/a/allow.txt", "null" };
	const char *w2[] = { "test.yaml:8", "test.yaml:9" };
	const char *f3[] = { "name", "clients", "lists" };
	const char *v3[] = { "kids", "10.0.0.0/8,fd00::/8", "ads" };
	const char *v4[] = { "open", "10.1.0.0/16", "" };
	const char *f5[] = { "name", "source", "colour" };
	const char *v5[] = { "x", "/x", "red" };

	reset();
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "blocklist", f1, v1, NULL, 7, "t.yaml:4", err,
					   sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg.n_lists, 1);
	CHECK_STR(cfg.lists[0].name, "ads");
	CU_ASSERT_EQUAL(cfg.lists[0].mode, HD_CONFIG_BLOCK_CUSTOM);
	CU_ASSERT_EQUAL(cfg.lists[0].ttl, 60);
	CU_ASSERT(cfg.lists[0].has_v4 && cfg.lists[0].has_v6 && cfg.lists[0].is_url);
	CHECK_STR(cfg.lists[0].syntax, "hosts");
	CHECK_STR(cfg.lists[0].where, "t.yaml:4");
	/* mode means nothing for an allowlist: say so rather than ignore it. */
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "allowlist", f2, v2, w2, 2, "t.yaml:7", err,
					   sizeof(err)), -EINVAL);
	CHECK_STR(err, "test.yaml:9: allowlist.mode: 'null' is for blocklists only (an "
		  "allowlist blocks nothing)");
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "allowlist", f2, v2, w2, 1, "t.yaml:7", err,
					   sizeof(err)), 0);
	CHECK_STR(cfg.lists[1].name, "allow");
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "blocklist", f5, v5, NULL, 3, "t.yaml:9", err,
					   sizeof(err)), -EINVAL);
	CHECK_STR(err, "t.yaml:9: blocklist: unknown field 'colour' (expected name, source, "
		  "syntax, mode, ttl, ipv4, ipv6)");
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "blocklist", f1, v1, NULL, 1, "t.yaml:10", err,
					   sizeof(err)), -EINVAL);
	CHECK_HAS(err, "an item without 'source'");
	v1[2] = "nx";
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "blocklist", f1, v1, NULL, 3, "t.yaml:11", err,
					   sizeof(err)), -EINVAL);
	CHECK_STR(err, "t.yaml:11: blocklist.mode: 'nx' is not a block mode (expected nxdomain, "
		  "nodata, null, custom or refused)");

	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "group", f3, v3, NULL, 3, "t.yaml:12", err,
					   sizeof(err)), 0);
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "group", f3, v4, NULL, 3, "t.yaml:13", err,
					   sizeof(err)), 0);
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "group", f3, v4, NULL, 2, "t.yaml:14", err,
					   sizeof(err)), -EINVAL);
	CHECK_HAS(err, "has the name of the group given at t.yaml:13");
	CU_ASSERT_EQUAL_FATAL(cfg.n_groups, 2);
	CU_ASSERT_EQUAL(cfg.groups[0].n_subnets, 2);
	CU_ASSERT_EQUAL(cfg.groups[0].n_lists, 1);
	CU_ASSERT(!cfg.groups[1].all_lists && cfg.groups[1].n_lists == 0);
	CU_ASSERT_EQUAL(hd_config_set_item(&cfg, "port", f3, v3, NULL, 3, "t.yaml:15", err,
					   sizeof(err)), -EINVAL);
	CHECK_STR(err, "t.yaml:15: port: expected a value, found a mapping");
	CU_ASSERT(hd_config_takes_items("group") && !hd_config_takes_items("record"));
}

/* The operator's reference must not drift from the table. */
static void
test_docs_list_every_option(void)
{
	const struct hd_config_option *o = hd_config_options();
	static char text[1 << 17];
	size_t len;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(docs_path);
	f = fopen(docs_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (; o->key != NULL; o++) {
		char want[96], flag[64];
		size_t j;

		for (j = 0; o->key[j] != '\0' && j + 1 < sizeof(flag); j++)
			flag[j] = o->key[j] == '.' ? '-' : o->key[j];
		flag[j] = '\0';
		snprintf(want, sizeof(want), "| `%s` |", o->key);
		CHECK_HAS(text, want);
		snprintf(want, sizeof(want), "`--%s", flag);
		CHECK_HAS(text, want);
	}
}

/* The cluster's Redis: the URL's parts, and no password in any message. */
static void
test_redis(void)
{
	struct hd_config before;

	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(cfg.redis.enabled, 0);
	expect_ok("redis", "redis://127.0.0.1");
	CU_ASSERT_EQUAL(cfg.redis.enabled, 1);
	CHECK_STR(cfg.redis.host, "127.0.0.1");
	CU_ASSERT_EQUAL(cfg.redis.port, 6379);
	CU_ASSERT_EQUAL(cfg.redis.db, 0);
	CHECK_STR(cfg.redis.password, "");
	expect_ok("redis", "redis://hd:s3cr:t@@[::1]:6390/3");
	CHECK_STR(cfg.redis.user, "hd");
	CHECK_STR(cfg.redis.password, "s3cr:t@");
	CHECK_STR(cfg.redis.host, "::1");
	CU_ASSERT_EQUAL(cfg.redis.port, 6390);
	CU_ASSERT_EQUAL(cfg.redis.db, 3);
	expect_ok("redis", "redis://:pw@cache.lan:7000/");
	CHECK_STR(cfg.redis.user, "");
	CHECK_STR(cfg.redis.password, "pw");
	CHECK_STR(cfg.redis.host, "cache.lan");
	CU_ASSERT_EQUAL(cfg.redis.db, 0);
	expect_bad("redis", "http://127.0.0.1", "is not a redis:// or rediss:// URL");
	expect_ok("redis", "rediss://:pw@redis.lan:6380/1");
	CU_ASSERT_EQUAL(cfg.redis.tls, 1);
	CHECK_STR(cfg.redis.host, "redis.lan");
	CU_ASSERT_EQUAL(cfg.redis.port, 6380);
	CU_ASSERT_EQUAL(cfg.redis.db, 1);
	expect_ok("redis", "redis://127.0.0.1");
	CU_ASSERT_EQUAL(cfg.redis.tls, 0);
	CU_ASSERT_EQUAL(set("redis", "rediss://u:hunter2@h:0"), -EINVAL);
	CU_ASSERT(strstr(err, "hunter2") == NULL);
	CHECK_HAS(err, "rediss://u:***@h:0");
	expect_bad("redis", "redis://", "has no host");
	expect_bad("redis", "redis://h:0", "bad port");
	expect_bad("redis", "redis://h:65536", "bad port");
	expect_bad("redis", "redis://h/16", "bad database number");
	expect_bad("redis", "redis://h/x", "bad database number");
	expect_bad("redis", "redis://[::1", "unclosed");
	/* The password is hidden in the message, the config untouched. */
	before = cfg;
	CU_ASSERT_EQUAL(set("redis", "redis://u:hunter2@h:99999"), -EINVAL);
	CU_ASSERT(memcmp(&before, &cfg, sizeof(cfg)) == 0);
	CU_ASSERT(strstr(err, "hunter2") == NULL);
	CHECK_HAS(err, "redis://u:***@h:99999");
	CU_ASSERT_EQUAL(set("redis", "redis://nopass@h"), -EINVAL);
	CU_ASSERT(strstr(err, "nopass") != NULL); /* no ':' : nothing there is a password */
	expect_ok("redis", "");
	CU_ASSERT_EQUAL(cfg.redis.enabled, 0);
	CHECK_STR(cfg.redis.password, "");

	CU_ASSERT(cfg.node_id[0] != '\0');
	expect_ok("node-id", "edge-1.par:a_b");
	CHECK_STR(cfg.node_id, "edge-1.par:a_b");
	expect_bad("node-id", "", "is not a name");
	expect_bad("node-id", "a b", "is not a name");
	expect_bad("node-id", "0123456789012345678901234567890123456789012345678901234567890123",
		   "1 to 63");
	CHECK_STR(cfg.redis_prefix, "heimdall");
	expect_ok("redis-prefix", "prod:dns");
	CHECK_STR(cfg.redis_prefix, "prod:dns");
	expect_bad("redis-prefix", "a/b", "is not a name");
	CU_ASSERT_EQUAL(cfg.redis_timeout_ms, 20);
	expect_ok("redis-timeout-ms", "250");
	CU_ASSERT_EQUAL(cfg.redis_timeout_ms, 250);
	expect_bad("redis-timeout-ms", "0", "1..10000");
	expect_bad("redis-timeout-ms", "10001", "1..10000");

	/* Sentinels: every entry HOST:PORT, the bad one named. */
	CHECK_STR(cfg.redis_sentinel, "");
	expect_ok("redis-sentinel", "127.0.0.1:26391,[::1]:26392,s3.lan:26393");
	CHECK_STR(cfg.redis_sentinel, "127.0.0.1:26391,[::1]:26392,s3.lan:26393");
	expect_bad("redis-sentinel", "127.0.0.1:26391,127.0.0.1", "entry '127.0.0.1' has no :PORT");
	expect_bad("redis-sentinel", "a:1,b:0", "entry 'b:0' has a bad port");
	expect_bad("redis-sentinel", "a:1,,b:2", "entry '' is empty");
	expect_bad("redis-sentinel", "::1:26391", "without [brackets]");
	expect_bad("redis-sentinel", "[::1:26391", "has no :PORT");
	expect_bad("redis-sentinel", "a:1,a:2,a:3,a:4,a:5,a:6,a:7,a:8,a:9", "entry 'a:9' is one");
	CHECK_STR(cfg.redis_sentinel, "127.0.0.1:26391,[::1]:26392,s3.lan:26393");
	expect_ok("redis-sentinel", "");
	CHECK_STR(cfg.redis_sentinel, "");
}

int
main(int argc, char **argv)
{
	static const struct config_test tests[] = {
		{ "option table: keys, flags, help", test_table_keys_and_flags },
		{ "option lookup by flag", test_by_flag },
		{ "unknown key with suggestion", test_unknown_key },
		{ "message source prefix", test_where_prefix },
		{ "port and number parsing", test_port_and_numbers },
		{ "upstream timeout and budget", test_upstream_times },
		{ "cache entries and TTLs", test_cache_numbers },
		{ "cache.bytes with suffixes", test_cache_bytes },
		{ "udp-size, ring-size, mbufs, max-pending", test_udp_ring_mbufs_pending },
		{ "booleans", test_booleans },
		{ "xdp-prog and log-level", test_xdp_prog_and_log_level },
		{ "listen addresses", test_listen },
		{ "upstream addresses", test_upstream },
		{ "DNS-over-TLS upstreams", test_upstream_tls },
		{ "certificate name lengths", test_tls_name_lengths },
		{ "upstream strategy", test_upstream_strategy },
		{ "tls-ca-file", test_tls_ca_file },
		{ "forward zones", test_forward_zone },
		{ "forward zone limits and clear", test_forward_zone_limits },
		{ "serve-stale, prefetch, persistence", test_stale_prefetch_persistence },
		{ "upstream and forward-zone items as mappings", test_server_items },
		{ "clear replaces lists", test_clear },
		{ "block settings", test_block_settings },
		{ "blocklists, allowlists and their names", test_lists_and_names },
		{ "client groups", test_groups },
		{ "records, zone files, local zones", test_records_and_zones },
		{ "record owner and type", test_record_key },
		{ "list and group items as mappings", test_items },
		{ "docs list every option", test_docs_list_every_option },
		{ "redis, node-id, redis-prefix, redis-timeout-ms", test_redis },
		{ NULL, NULL },
	};

	docs_path = argc > 1 ? argv[1] : NULL;
	return config_test_run("config_options", tests);
}
