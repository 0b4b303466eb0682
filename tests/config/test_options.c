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
	CU_ASSERT_EQUAL(hd_config_clear(&cfg, "upstream"), 0);
	CU_ASSERT_EQUAL(cfg.n_upstream, 0);
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
		{ "clear replaces lists", test_clear },
		{ "block settings", test_block_settings },
		{ "blocklists, allowlists and their names", test_lists_and_names },
		{ "client groups", test_groups },
		{ "records, zone files, local zones", test_records_and_zones },
		{ "list and group items as mappings", test_items },
		{ "docs list every option", test_docs_list_every_option },
		{ NULL, NULL },
	};

	docs_path = argc > 1 ? argv[1] : NULL;
	return config_test_run("config_options", tests);
}
