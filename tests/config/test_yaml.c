/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * lib/config/yaml.c: config files as an operator writes them, nested or
 * dotted, with lists, and with the mistakes they make: unknown or repeated
 * keys, YAML syntax errors, a list where one value belongs, a missing file.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hd_config.h"
#include "config_test.h"

static const char *example_path;	/* etc/heimdall.yaml, from the command line */

static struct hd_config cfg;
static char err[HD_CONFIG_ERR_LEN];

static int
load(const char *yaml)
{
	hd_config_defaults(&cfg);
	err[0] = '\0';
	return hd_config_load_string(&cfg, yaml, "heimdall.yaml", err, sizeof(err));
}

static int
load_ok_at(int line, const char *yaml)
{
	int rc = load(yaml);

	if (rc != 0)
		fprintf(stderr, "line %d: load gave %d: %s\n", line, rc, err);
	CU_ASSERT_EQUAL(rc, 0);
	return rc;
}
#define load_ok(y) load_ok_at(__LINE__, y)

static uint16_t
upstream_port(unsigned int i)
{
	const struct sockaddr_storage *ss = &cfg.upstream[i];

	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void
test_nested_and_dotted(void)
{
	const char *yaml =
		"# a whole config\n"
		"listen: 10.53.0.1\n"
		"port: 5353\n"
		"upstream: 127.0.0.1:5300\n"
		"cache:\n"
		"  entries: 1000\n"
		"  bytes: 64M\n"
		"  max-ttl: 600\n"
		"cache.min-ttl: 5\n"
		"cache.negative-max-ttl: 60\n"
		"tcp: no\n"
		"manage-addresses: off\n"
		"log-level: debug\n"
		"xdp-prog: \"/opt/hd/xdp.o\"\n"
		"ring-size: 1024\n";

	if (load_ok(yaml) != 0)
		return;
	CU_ASSERT_EQUAL(cfg.n_listen, 1);
	CU_ASSERT_EQUAL(cfg.port, 5353);
	CU_ASSERT_EQUAL(cfg.n_upstream, 1);
	CU_ASSERT_EQUAL(upstream_port(0), 5300);
	CU_ASSERT_EQUAL(cfg.cache_entries, 1000);
	CU_ASSERT_EQUAL(cfg.cache_bytes, 64ULL << 20);
	CU_ASSERT_EQUAL(cfg.cache_max_ttl, 600);
	CU_ASSERT_EQUAL(cfg.cache_min_ttl, 5);
	CU_ASSERT_EQUAL(cfg.cache_neg_max_ttl, 60);
	CU_ASSERT_EQUAL(cfg.tcp, 0);
	CU_ASSERT_EQUAL(cfg.manage_addresses, 0);
	CHECK_STR(cfg.log_level, "debug");
	CHECK_STR(cfg.xdp_prog, "/opt/hd/xdp.o");
	CU_ASSERT_EQUAL(cfg.ring_size, 1024);
	/* Keys the file did not name keep their defaults. */
	CU_ASSERT_EQUAL(cfg.udp_size, 1232);
	CU_ASSERT_EQUAL(cfg.upstream_timeout_ms, 800);
}

static void
test_flow_mapping_and_quoting(void)
{
	if (load_ok("cache: {entries: 2048, max-ttl: '300'}\nport: \"54\"\n") != 0)
		return;
	CU_ASSERT_EQUAL(cfg.cache_entries, 2048);
	CU_ASSERT_EQUAL(cfg.cache_max_ttl, 300);
	CU_ASSERT_EQUAL(cfg.port, 54);
}

static void
test_lists(void)
{
	if (load_ok("listen:\n  - 10.53.0.1\n  - fd53::1/64\n"
		    "upstream: [127.0.0.1:5300, '[::1]:5300', 9.9.9.9]\n") != 0)
		return;
	CU_ASSERT_EQUAL(cfg.n_listen, 2);
	CU_ASSERT_EQUAL(cfg.listen[0].family, AF_INET);
	CU_ASSERT_EQUAL(cfg.listen[1].family, AF_INET6);
	CU_ASSERT_EQUAL(cfg.listen[1].prefix, 64);
	CU_ASSERT_EQUAL(cfg.n_upstream, 3);
	CU_ASSERT_EQUAL(upstream_port(0), 5300);
	CU_ASSERT_EQUAL(cfg.upstream[1].ss_family, AF_INET6);
	CU_ASSERT_EQUAL(upstream_port(1), 5300);
	CU_ASSERT_EQUAL(upstream_port(2), 53);

	/* One value for a list setting is a list of one. */
	if (load_ok("listen: fd53::1\n") != 0)
		return;
	CU_ASSERT_EQUAL(cfg.n_listen, 1);
	CU_ASSERT_EQUAL(cfg.listen[0].family, AF_INET6);

	/* An empty list leaves the list empty (validate then asks for one). */
	if (load_ok("listen: []\n") != 0)
		return;
	CU_ASSERT_EQUAL(cfg.n_listen, 0);
}

static void
test_bad_list_item(void)
{
	CU_ASSERT_EQUAL(load("port: 53\nlisten:\n  - 10.53.0.300\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: listen: '10.53.0.300' is not an IPv4 or IPv6 address");
	CU_ASSERT_EQUAL(load("listen:\n  - 10.53.0.1\n  - [10.53.0.2]\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:3: listen: expected a list of values");
}

static void
test_unknown_key(void)
{
	const char *yaml =
		"listen: 10.53.0.1\n"
		"upstream: 127.0.0.1\n"
		"cache:\n"
		"  entries: 1000\n"
		"\n"
		"  # the next key has a typo\n"
		"  max_tll: 60\n";

	CU_ASSERT_EQUAL(load(yaml), -ENOENT);
	CHECK_STR(err, "heimdall.yaml:7: unknown key 'cache.max_tll' (did you mean "
		  "'cache.max-ttl'?)");
	CU_ASSERT_EQUAL(load("port: 53\ncache.entires: 5\n"), -ENOENT);
	CHECK_STR(err, "heimdall.yaml:2: unknown key 'cache.entires' (did you mean "
		  "'cache.entries'?)");
	/* A misspelt group: the suggestion comes from the full key. */
	CU_ASSERT_EQUAL(load("cahce:\n  entries: 5\n"), -ENOENT);
	CHECK_STR(err, "heimdall.yaml:2: unknown key 'cahce.entries' (did you mean "
		  "'cache.entries'?)");
	/* A flag name used as a key. */
	CU_ASSERT_EQUAL(load("cache-max-ttl: 5\n"), -ENOENT);
	CHECK_HAS(err, "did you mean 'cache.max-ttl'?");
	CU_ASSERT_EQUAL(load("frobnicate: [1, 2]\n"), -ENOENT);
	CHECK_STR(err, "heimdall.yaml:1: unknown key 'frobnicate'");
	CU_ASSERT_EQUAL(load("frobnicate: {}\n"), -ENOENT);
	CHECK_STR(err, "heimdall.yaml:1: unknown key 'frobnicate'");
	/* An empty group that does exist is harmless. */
	load_ok("cache: {}\n");
}

static void
test_duplicates(void)
{
	CU_ASSERT_EQUAL(load("port: 53\nlisten: 10.53.0.1\nport: 54\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: duplicate key 'port' (first given at line 1)");
	/* The same setting in its nested and dotted spellings. */
	CU_ASSERT_EQUAL(load("cache:\n  entries: 100\ncache.entries: 200\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: duplicate key 'cache.entries' (first given at line 2)");
	CU_ASSERT_EQUAL(load("cache:\n  entries: 100\ncache:\n  bytes: 1M\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: duplicate key 'cache' (first given at line 1)");
	CU_ASSERT_EQUAL(load("listen: [10.53.0.1]\nlisten: [10.53.0.2]\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:2: duplicate key 'listen'");
	CU_ASSERT_EQUAL(load("cache: {entries: 100, entries: 200}\n"), -EINVAL);
	CHECK_HAS(err, "duplicate key 'cache.entries'");
}

static void
test_syntax_errors(void)
{
	CU_ASSERT_EQUAL(load("listen: 10.53.0.1\nport 53\nupstream: 1.1.1.1\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:3:1: could not find expected ':'");
	CHECK_HAS(err, "line 2");
	CU_ASSERT_EQUAL(load("port: 53\nlisten: [10.53.0.1\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:3:1:");
	CHECK_HAS(err, "did not find expected ',' or ']'");
	CU_ASSERT_EQUAL(load("port: \"53\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:");
	CHECK_HAS(err, "quoted scalar");
	CU_ASSERT_EQUAL(load("port: 53\n\tudp-size: 1232\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:2:1: found a tab character");
	CU_ASSERT_EQUAL(load("port: *nowhere\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:1:7: found undefined alias");
	/* Not UTF-8: libyaml's reader reports a byte offset. */
	CU_ASSERT_EQUAL(load("port: 53\n\xff\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml: byte 9:");
}

static void
test_shape_errors(void)
{
	CU_ASSERT_EQUAL(load("listen: 10.53.0.1\nport:\n  - 53\n  - 54\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: port: expected one value, found a list");
	CU_ASSERT_EQUAL(load("cache:\n  entries: [1]\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: cache.entries: expected one value, found a list");
	CU_ASSERT_EQUAL(load("port: {number: 53}\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:1: port: expected a value, found a mapping");
	CU_ASSERT_EQUAL(load("listen: {a: 10.53.0.1}\n"), -EINVAL);
	CHECK_HAS(err, "listen: expected a value, found a mapping");
	CU_ASSERT_EQUAL(load("- port: 53\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:1: expected a mapping of settings");
	CU_ASSERT_EQUAL(load("just words\n"), -EINVAL);
	CHECK_HAS(err, "expected a mapping of settings");
	CU_ASSERT_EQUAL(load("[1, 2]: 53\n"), -EINVAL);
	CHECK_HAS(err, "a key must be a plain name");
	CU_ASSERT_EQUAL(load("port: \"5\\03\"\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:1: value contains a NUL character");
	CU_ASSERT_EQUAL(load("port: 53\n---\nport: 54\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:3: a second YAML document");
	/* A bad value names key, value and range, with the line of the value. */
	CU_ASSERT_EQUAL(load("cache:\n  entries:\n    12x\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: cache.entries: '12x' is not a number (expected a "
		  "number in 64..1073741824)");
	/* A missing value is no value, not "use the default". */
	CU_ASSERT_EQUAL(load("port:\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:1: port: '' is not a number");
}

/* An alias to an ancestor makes a cycle; the walk must end with an error. */
static void
test_recursive_alias(void)
{
	int rc = load("cache: &loop\n  again: *loop\n");

	CU_ASSERT(rc == -ENOENT || rc == -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:");
	/* Aliases of plain values work like the value. */
	if (load_ok("upstream-timeout-ms: &t 900\nupstream-budget-ms: *t\n") == 0)
		CU_ASSERT_EQUAL(cfg.upstream_budget_ms, 900);
}

static void
test_empty_inputs(void)
{
	struct hd_config defaults;
	static const char *const empty[] = { "", "\n\n", "# only a comment\n", "---\n",
					     "---\n...\n", "~\n" };

	hd_config_defaults(&defaults);
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		load_ok(empty[i]);
		CU_ASSERT(memcmp(&cfg, &defaults, sizeof(cfg)) == 0);
	}
}

static void
test_block_and_local(void)
{
	const char *yaml =
		"blocklist:\n"
		"  - /etc/heimdall/extra.txt\n"
		"  - name: ads\n"
		"    source: https://example.org/hosts.txt\n"
		"    syntax: hosts\n"
		"    mode: nxdomain\n"
		"    ttl: 30\n"
		"  - {name: porn, source: /p.txt, mode: custom, ipv4: 10.53.0.80, ipv6: 'fd53::80'}\n"
		"allowlist: mine=/etc/heimdall/allow.txt\n"
		"block-mode: refused\n"
		"block-ttl: 5\n"
		"list-refresh: 6h\n"
		"group:\n"
		"  - {name: kids, clients: [10.53.0.0/28, 'fd53::/64'], lists: [ads, porn]}\n"
		"  - name: admins\n"
		"    clients: 10.53.0.4/32\n"
		"    lists: []\n"
		"  - {name: rest, clients: [10.60.0.0/16]}\n"
		"record:\n"
		"  - nas.lab.home.arpa A 192.168.1.10\n"
		"  - \"_smb._tcp.lab.home.arpa SRV 0 0 445 nas.lab.home.arpa\"\n"
		"zone-file: /etc/heimdall/lab.zone\n"
		"local-zone: [lab.home.arpa]\n"
		"local-ptr: no\n";

	if (load_ok(yaml) != 0)
		return;
	CU_ASSERT_EQUAL_FATAL(cfg.n_lists, 4);
	CHECK_STR(cfg.lists[0].name, "extra");
	CHECK_STR(cfg.lists[0].where, "heimdall.yaml:2");
	CHECK_STR(cfg.lists[1].name, "ads");
	CHECK_STR(cfg.lists[1].syntax, "hosts");
	CU_ASSERT_EQUAL(cfg.lists[1].mode, HD_CONFIG_BLOCK_NXDOMAIN);
	CU_ASSERT_EQUAL(cfg.lists[1].ttl, 30);
	CHECK_STR(cfg.lists[1].where, "heimdall.yaml:3");
	CU_ASSERT(cfg.lists[2].has_v4 && cfg.lists[2].has_v6);
	CHECK_STR(cfg.lists[3].name, "mine");
	CU_ASSERT(cfg.lists[3].allow);
	CU_ASSERT_EQUAL(cfg.block_mode, HD_CONFIG_BLOCK_REFUSED);
	CU_ASSERT_EQUAL(cfg.block_ttl, 5);
	CU_ASSERT_EQUAL(cfg.list_refresh, 6 * 3600);
	CU_ASSERT_EQUAL_FATAL(cfg.n_groups, 3);
	CU_ASSERT_EQUAL(cfg.groups[0].n_subnets, 2);
	CHECK_STR(cfg.groups[0].subnets[1], "fd53::/64");
	CU_ASSERT_EQUAL(cfg.groups[0].n_lists, 2);
	CU_ASSERT(!cfg.groups[1].all_lists && cfg.groups[1].n_lists == 0);
	CU_ASSERT(cfg.groups[2].all_lists);
	CU_ASSERT_EQUAL(cfg.n_records, 2);
	CHECK_STR(cfg.records[1].where, "heimdall.yaml:21");
	CU_ASSERT_EQUAL(cfg.n_zone_files, 1);
	CU_ASSERT_EQUAL(cfg.n_local_zones, 1);
	CU_ASSERT_EQUAL(cfg.local_ptr, 0);

	/* One item may stand without a list around it. */
	if (load_ok("group: {name: solo, clients: 10.1.0.0/16, lists: []}\n") == 0)
		CU_ASSERT_EQUAL(cfg.n_groups, 1);
}

static void
test_block_and_local_errors(void)
{
	CU_ASSERT_EQUAL(load("blocklist:\n  - name: ads\n    source: /a\n    mode: nx\n"),
			-EINVAL);
	CHECK_STR(err, "heimdall.yaml:4: blocklist.mode: 'nx' is not a block mode (expected "
		  "nxdomain, nodata, null, custom or refused)");
	CU_ASSERT_EQUAL(load("blocklist:\n  - {name: ads, source: /a, colour: red}\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: blocklist: unknown field 'colour' (expected name, "
		  "source, syntax, mode, ttl, ipv4, ipv6)");
	CU_ASSERT_EQUAL(load("blocklist:\n  - {name: ads}\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:2: blocklist: an item without 'source'");
	CU_ASSERT_EQUAL(load("blocklist:\n  - {source: /a, source: /b}\n"), -EINVAL);
	CHECK_HAS(err, "field 'source' given twice");
	CU_ASSERT_EQUAL(load("group:\n  - {name: k, clients: [10.0.0.300/8]}\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: group: 'k' has a bad client: '10.0.0.300/8' is not a "
		  "subnet (expected ADDR or ADDR/PREFIX)");
	CU_ASSERT_EQUAL(load("group:\n  - {name: k, clients: {a: b}}\n"), -EINVAL);
	CHECK_HAS(err, "group.clients: expected a value or a list of values, found a mapping");
	CU_ASSERT_EQUAL(load("block-mode: deny\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:1: block-mode: 'deny' is not a block mode (expected "
		  "nxdomain, nodata, null, custom or refused)");
	/* Mappings are items only where a list takes them. */
	CU_ASSERT_EQUAL(load("record:\n  - {name: x}\n"), -EINVAL);
	CHECK_HAS(err, "record: expected a list of values, found a nested list or mapping");
	CU_ASSERT_EQUAL(load("record: {name: x}\n"), -EINVAL);
	CHECK_HAS(err, "record: expected a value, found a mapping");
	/* A group naming an unknown list loads, and validation says which. */
	if (load_ok("listen: 10.53.0.1\nupstream: 127.0.0.1:5300\nblocklist: [/a.txt]\n"
		    "group: [{name: k, clients: [10.0.0.0/8], lists: [ads]}]\n") == 0) {
		CU_ASSERT_EQUAL(hd_config_validate(&cfg, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, "heimdall.yaml:4: group 'k' names list 'ads', which is not a "
			  "blocklist or allowlist name (lists: a)");
	}
}

static void
test_resolver_settings(void)
{
	const char *yaml =
		"upstream:\n"
		"  - 127.0.0.1:5300\n"
		"  - \"tls://9.9.9.9#dns.quad9.net\"\n"
		"  - {address: \"2620:fe::fe\", tls: true, tls-name: dns.quad9.net}\n"
		"  - address: 192.168.1.1\n"
		"    port: 5353\n"
		"  - {address: 10.0.0.9, tls: yes, port: 8853}\n"
		"upstream-strategy: round-robin\n"
		"tls-ca-file: /etc/heimdall/ca.pem\n"
		"forward-zone:\n"
		"  - lan=192.168.1.1\n"
		"  - {domain: 168.192.in-addr.arpa., servers: [192.168.1.1, '[fd00::1]:53']}\n"
		"  - domain: Corp.Example\n"
		"    servers: tls://10.2.0.53#ns.corp.example\n"
		"serve-stale: false\n"
		"stale-ttl: 10\n"
		"stale-window: 2h\n"
		"prefetch: off\n"
		"cache-file: /var/lib/heimdall/cache.bin\n"
		"cache-save-interval: 5m\n";
	const struct sockaddr_in6 *sin6;

	if (load_ok(yaml) != 0)
		return;
	CU_ASSERT_EQUAL_FATAL(cfg.n_upstream, 5);
	CU_ASSERT_EQUAL(upstream_port(0), 5300);
	CU_ASSERT(!cfg.upstream_server[0].tls);
	CU_ASSERT_EQUAL(upstream_port(1), 853);
	CU_ASSERT(cfg.upstream_server[1].tls);
	CHECK_STR(cfg.upstream_server[1].tls_name, "dns.quad9.net");
	CU_ASSERT_EQUAL(cfg.upstream[2].ss_family, AF_INET6);
	CU_ASSERT_EQUAL(upstream_port(2), 853);
	CU_ASSERT(cfg.upstream_server[2].tls);
	CHECK_STR(cfg.upstream_server[2].tls_name, "dns.quad9.net");
	sin6 = (const struct sockaddr_in6 *)&cfg.upstream_server[2].addr;
	CU_ASSERT_EQUAL(ntohs(sin6->sin6_port), 853);
	CU_ASSERT_EQUAL(upstream_port(3), 5353);
	CU_ASSERT(!cfg.upstream_server[3].tls);
	CU_ASSERT_EQUAL(upstream_port(4), 8853);
	CU_ASSERT(cfg.upstream_server[4].tls && cfg.upstream_server[4].tls_name[0] == '\0');
	CU_ASSERT_EQUAL(cfg.upstream_strategy, HD_CONFIG_STRATEGY_ROUND_ROBIN);
	CHECK_STR(cfg.tls_ca_file, "/etc/heimdall/ca.pem");
	CU_ASSERT_EQUAL_FATAL(cfg.n_forwards, 3);
	CHECK_STR(cfg.forwards[0].domain, "lan");
	CHECK_STR(cfg.forwards[0].where, "heimdall.yaml:11");
	CHECK_STR(cfg.forwards[1].domain, "168.192.in-addr.arpa");
	CU_ASSERT_EQUAL(cfg.forwards[1].n_servers, 2);
	CHECK_STR(cfg.forwards[1].where, "heimdall.yaml:12");
	CHECK_STR(cfg.forwards[2].domain, "corp.example");
	CU_ASSERT_EQUAL(cfg.forwards[2].n_servers, 1);
	CU_ASSERT(cfg.forwards[2].servers[0].tls);
	CHECK_STR(cfg.forwards[2].servers[0].tls_name, "ns.corp.example");
	CU_ASSERT_EQUAL(cfg.serve_stale, 0);
	CU_ASSERT_EQUAL(cfg.stale_ttl, 10);
	CU_ASSERT_EQUAL(cfg.stale_window, 7200);
	CU_ASSERT_EQUAL(cfg.prefetch, 0);
	CHECK_STR(cfg.cache_file, "/var/lib/heimdall/cache.bin");
	CU_ASSERT_EQUAL(cfg.cache_save_interval, 300);

	/* One item may stand without a list around it. */
	if (load_ok("upstream: {address: 9.9.9.9, tls: true}\n"
		    "forward-zone: {domain: lan, servers: [192.168.1.1]}\n") == 0) {
		CU_ASSERT_EQUAL(cfg.n_upstream, 1);
		CU_ASSERT_EQUAL(upstream_port(0), 853);
		CU_ASSERT_EQUAL(cfg.n_forwards, 1);
	}
	/* A single string is a list of one, for forward zones too. */
	if (load_ok("forward-zone: home.arpa=192.168.1.1,192.168.1.2\n") == 0) {
		CU_ASSERT_EQUAL_FATAL(cfg.n_forwards, 1);
		CU_ASSERT_EQUAL(cfg.forwards[0].n_servers, 2);
	}
	/* The defaults survive a file that does not mention them. */
	if (load_ok("port: 53\n") == 0) {
		CU_ASSERT_EQUAL(cfg.upstream_strategy, HD_CONFIG_STRATEGY_FASTEST);
		CU_ASSERT(cfg.serve_stale && cfg.prefetch);
		CU_ASSERT_EQUAL(cfg.stale_window, 86400);
	}
}

static void
test_resolver_errors(void)
{
	CU_ASSERT_EQUAL(load("upstream:\n  - 9.9.9.9\n  - tls://9.9.9.9#dns_quad9\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: upstream: 'tls://9.9.9.9#dns_quad9' has a bad "
		  "certificate name after '#' (expected a host name such as dns.example: labels "
		  "of letters, digits and '-')");
	CU_ASSERT_EQUAL(load("upstream:\n  - address: 9.9.9.9\n    tls-name: dns.quad9.net\n"),
			-EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: upstream.tls-name: 'dns.quad9.net' is for DNS over TLS "
		  "only (add 'tls: true')");
	CU_ASSERT_EQUAL(load("upstream:\n  - {address: 9.9.9.9, tls: true, port: 99999}\n"),
			-EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: upstream.port: '99999' is not a port (expected "
		  "1..65535)");
	CU_ASSERT_EQUAL(load("upstream:\n  - {address: 9.9.9.9, transport: tls}\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: upstream: unknown field 'transport' (expected address, "
		  "port, tls, tls-name)");
	CU_ASSERT_EQUAL(load("upstream:\n  - {port: 53}\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:2: upstream: an item without 'address'");
	CU_ASSERT_EQUAL(load("upstream:\n  - {address: [9.9.9.9, 1.1.1.1]}\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: upstream.address: '9.9.9.9,1.1.1.1' is not an IPv4 or "
		  "IPv6 address (a port goes in 'port')");
	CU_ASSERT_EQUAL(load("upstream-strategy: [fastest]\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:1: upstream-strategy: expected one value, found a list");
	CU_ASSERT_EQUAL(load("upstream-strategy: quickest\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:1: upstream-strategy: 'quickest' is not an upstream "
		  "strategy (expected strict, round_robin, fastest or parallel)");
	CU_ASSERT_EQUAL(load("forward-zone:\n  - lan=192.168.1.1\n  - LAN.=192.168.1.2\n"),
			-EINVAL);
	CHECK_STR(err, "heimdall.yaml:3: forward-zone: 'LAN.=192.168.1.2' has the domain of the "
		  "forward zone given at heimdall.yaml:2");
	CU_ASSERT_EQUAL(load("forward-zone:\n  - {domain: ., servers: [192.168.1.1]}\n"),
			-EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: forward-zone: '.' forwards the root zone: the default "
		  "servers are set with upstream");
	CU_ASSERT_EQUAL(load("forward-zone:\n  - {domain: lan, servers: [1.1.1.1, 2.2.2.2, "
			     "3.3.3.3, 4.4.4.4, 5.5.5.5]}\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: forward-zone: 'lan' has a bad server: '5.5.5.5' is one "
		  "server too many (at most 4 per zone)");
	CU_ASSERT_EQUAL(load("forward-zone:\n  - {domain: lan, servers: [{address: 1.1.1.1}]}\n"),
			-EINVAL);
	CHECK_HAS(err, "heimdall.yaml:2: forward-zone.servers: expected a list of values");
	CU_ASSERT_EQUAL(load("forward-zone:\n  - {domain: lan}\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:2: forward-zone: an item needs 'domain' and 'servers'");
	CU_ASSERT_EQUAL(load("forward-zone:\n  - lan\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: forward-zone: 'lan' is not a forward zone (expected "
		  "DOMAIN=SERVER[,SERVER...], e.g. lan=192.168.1.1)");
	CU_ASSERT_EQUAL(load("\nstale-window: 30d\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:2: stale-window: '30d' is out of range (expected a duration "
		  "in 0..7d)");
	CU_ASSERT_EQUAL(load("stale-ttl: 0\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:1: stale-ttl: '0' is out of range (expected a number in "
		  "1..3600)");
	CU_ASSERT_EQUAL(load("serve-stale: sometimes\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:1: serve-stale: 'sometimes' is not a boolean");
	CU_ASSERT_EQUAL(load("cache-save-interval: 1 hour\n"), -EINVAL);
	CHECK_HAS(err, "heimdall.yaml:1: cache-save-interval: '1 hour' is not a duration");
	CU_ASSERT_EQUAL(load("cache-file: [/a, /b]\n"), -EINVAL);
	CHECK_STR(err, "heimdall.yaml:1: cache-file: expected one value, found a list");
	/* An interval without a file loads, and validation says what is missing. */
	if (load_ok("listen: 10.53.0.1\nupstream: 127.0.0.1:5300\ncache-save-interval: 1h\n")
	    == 0) {
		CU_ASSERT_EQUAL(hd_config_validate(&cfg, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, "cache-save-interval (3600 s) needs cache-file: there is no file to "
			  "save the cache to");
	}
}

/* A rejected file leaves the config as it was, even the lines before the error. */
static void
test_failed_load_changes_nothing(void)
{
	struct hd_config before;

	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(hd_config_set(&cfg, "port", "5353", NULL, err, sizeof(err)), 0);
	before = cfg;
	CU_ASSERT_EQUAL(hd_config_load_string(&cfg, "port: 54\nlisten: 10.53.0.1\nbogus: 1\n",
					      "x.yaml", err, sizeof(err)), -ENOENT);
	CU_ASSERT(memcmp(&cfg, &before, sizeof(cfg)) == 0);
	CU_ASSERT_EQUAL(cfg.port, 5353);
	/* A good file applies on top of what was there. */
	CU_ASSERT_EQUAL(hd_config_load_string(&cfg, "udp-size: 1400\n", NULL, err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(cfg.port, 5353);
	CU_ASSERT_EQUAL(cfg.udp_size, 1400);
	/* Without a name, messages still say where. */
	CU_ASSERT_EQUAL(hd_config_load_string(&cfg, "bogus: 1\n", NULL, err, sizeof(err)),
			-ENOENT);
	CHECK_STR(err, "<string>:1: unknown key 'bogus'");
}

static int
write_temp(char *path, size_t len, const char *text)
{
	const char *dir = getenv("TMPDIR");
	int fd;
	size_t n = strlen(text);

	snprintf(path, len, "%s/hd-config-test-XXXXXX", dir != NULL ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

static void
test_load_file(void)
{
	char path[256], want[400];

	CU_ASSERT_EQUAL_FATAL(write_temp(path, sizeof(path), "listen: [10.53.0.1, fd53::1]\n"
					 "upstream: 127.0.0.1:5300\ncache: {max-ttl: 60}\n"), 0);
	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(hd_config_load_file(&cfg, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.n_listen, 2);
	CU_ASSERT_EQUAL(cfg.n_upstream, 1);
	CU_ASSERT_EQUAL(cfg.cache_max_ttl, 60);
	CU_ASSERT_EQUAL(hd_config_validate(&cfg, err, sizeof(err)), 0);
	unlink(path);

	/* Messages from a file carry its path. */
	CU_ASSERT_EQUAL_FATAL(write_temp(path, sizeof(path), "port: 53\nport: 54\n"), 0);
	CU_ASSERT_EQUAL(hd_config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: duplicate key 'port'", path);
	CHECK_HAS(err, want);
	unlink(path);

	CU_ASSERT_EQUAL_FATAL(write_temp(path, sizeof(path), ""), 0);
	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(hd_config_load_file(&cfg, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.port, 53);
	unlink(path);
}

static void
test_load_file_errors(void)
{
	const char *missing = "/nonexistent-heimdall-dir/heimdall.yaml";
	char want[400];

	hd_config_defaults(&cfg);
	CU_ASSERT_EQUAL(hd_config_load_file(&cfg, missing, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: %s", missing, strerror(ENOENT));
	CHECK_STR(err, want);

	/* A directory opens but cannot be read. */
	CU_ASSERT_EQUAL(hd_config_load_file(&cfg, "/", err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "/: cannot read: %s", strerror(EISDIR));
	CHECK_STR(err, want);
}

/* The shipped example must load, validate, and name every setting. */
static void
test_example_file(void)
{
	const struct hd_config_option *o = hd_config_options();
	static char text[1 << 16];
	size_t len;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(example_path);
	hd_config_defaults(&cfg);
	err[0] = '\0';
	CU_ASSERT_EQUAL(hd_config_load_file(&cfg, example_path, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CU_ASSERT_EQUAL(hd_config_validate(&cfg, err, sizeof(err)), 0);
	CHECK_STR(err, "");

	f = fopen(example_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (; o->key != NULL; o++) {
		const char *dot = strchr(o->key, '.');
		char want[96];

		/* Nested keys appear as "  max-ttl:" under "cache:". */
		snprintf(want, sizeof(want), "%s:", dot != NULL ? dot + 1 : o->key);
		CHECK_HAS(text, want);
	}
}

int
main(int argc, char **argv)
{
	static const struct config_test tests[] = {
		{ "nested and dotted keys", test_nested_and_dotted },
		{ "flow mappings and quoted values", test_flow_mapping_and_quoting },
		{ "lists", test_lists },
		{ "bad list item", test_bad_list_item },
		{ "unknown key with line", test_unknown_key },
		{ "duplicate keys", test_duplicates },
		{ "syntax errors with line and column", test_syntax_errors },
		{ "wrong shapes", test_shape_errors },
		{ "recursive alias", test_recursive_alias },
		{ "blocking and local data", test_block_and_local },
		{ "blocking and local data errors", test_block_and_local_errors },
		{ "upstreams, forward zones, stale, persistence", test_resolver_settings },
		{ "resolver settings errors", test_resolver_errors },
		{ "empty inputs keep defaults", test_empty_inputs },
		{ "failed load changes nothing", test_failed_load_changes_nothing },
		{ "load a file", test_load_file },
		{ "missing and unreadable files", test_load_file_errors },
		{ "example config", test_example_file },
		{ NULL, NULL },
	};

	example_path = argc > 1 ? argv[1] : NULL;
	return config_test_run("config_yaml", tests);
}
