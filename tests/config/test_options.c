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
		{ "docs list every option", test_docs_list_every_option },
		{ NULL, NULL },
	};

	docs_path = argc > 1 ? argv[1] : NULL;
	return config_test_run("config_options", tests);
}
