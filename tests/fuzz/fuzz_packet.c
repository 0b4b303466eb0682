/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over the worker's packet -> reply function.
 *
 * Input: one byte that sets the spare room after the frame (x 8 bytes, so
 * replies that grow and replies that do not fit are both reached), then the
 * Ethernet frame. The frame is copied into a heap buffer of exactly that
 * size so ASan sees any access past what hd_fastpath_handle() was given.
 * The cache holds a few answers (a small A, a large A set that needs TC
 * without EDNS, a negative answer) for the names the seed corpus asks.
 * Misses also go through the slow path's hd_fastpath_query() and
 * hd_fastpath_reply_policy().
 *
 * Bit 3 of the room byte (set in the seeds) turns on a policy: a small
 * filter (domains, AdBlock and an allowlist, a bypass group and an IPv6
 * group) and local data (a zone with a CNAME and a wildcard, and a record
 * on a name the seeds ask), so local answers, block replies and the CNAME
 * cloaking walk (the slow path's spare answer is a CNAME to a blocked name)
 * are fuzzed too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>

#include "hd_cache.h"
#include "hd_dns.h"
#include "hd_fastpath.h"
#include "hd_filter.h"
#include "hd_localzone.h"
#include "hd_stats.h"
#include "hd_wire.h"

#define T0 1000u

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hd_fastpath_conf conf;
static struct hd_fastpath_ctx ctx;
static struct hd_stats_lcore stats;
static struct hd_dns_answer *spare;	/* an answer for hd_fastpath_reply() */
static struct hd_fastpath_policy policy;
static uint64_t hits[HD_FILTER_LISTS_MAX];
/*
 * The cache owns its entries, but keeps the pointers in DPDK memory, which
 * LeakSanitizer does not scan: a copy here keeps them visibly reachable.
 */
static struct hd_dns_answer *cached[8];
static unsigned int n_cached;

/* An upstream reply for @p name: @p n_a A records, or NXDOMAIN with a SOA. */
static size_t
upstream_reply(uint8_t *m, size_t cap, const uint8_t *name, size_t nlen, unsigned int n_a,
	       int nxdomain)
{
	struct hd_wire w;
	unsigned int i;

	hd_wire_init(&w, m, cap);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, HD_DNS_QR | HD_DNS_RA | (nxdomain ? HD_DNS_RCODE_NXDOMAIN : 0));
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, (uint16_t)n_a);
	hd_wire_write_u16(&w, nxdomain ? 1 : 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_bytes(&w, name, nlen);
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	for (i = 0; i < n_a; i++) {
		hd_wire_write_u16(&w, 0xc000 | HD_DNS_HDR_LEN);
		hd_wire_write_u16(&w, HD_DNS_TYPE_A);
		hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
		hd_wire_write_u32(&w, 300);
		hd_wire_write_u16(&w, 4);
		hd_wire_write_u32(&w, 0xc0000200u + i);
	}
	if (nxdomain) {
		/* example. SOA ns.example. host.example. 1 2 3 4 60 */
		hd_wire_write_bytes(&w, "\x07" "example\0", 9);
		hd_wire_write_u16(&w, HD_DNS_TYPE_SOA);
		hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
		hd_wire_write_u32(&w, 60);
		hd_wire_write_u16(&w, 5 + 7 + 20);	/* mname, rname, five counters */
		hd_wire_write_bytes(&w, "\x02ns\xc0", 4);
		hd_wire_write_u8(&w, (uint8_t)(HD_DNS_HDR_LEN + nlen + 4));
		hd_wire_write_bytes(&w, "\x04host\xc0", 6);
		hd_wire_write_u8(&w, (uint8_t)(HD_DNS_HDR_LEN + nlen + 4));
		hd_wire_write_u32(&w, 1);
		hd_wire_write_u32(&w, 2);
		hd_wire_write_u32(&w, 3);
		hd_wire_write_u32(&w, 4);
		hd_wire_write_u32(&w, 60);
	}
	return hd_wire_ok(&w) ? w.pos : 0;
}

/* @p name CNAME tracker.example. (blocked by the policy's filter), then an A. */
static size_t
cname_reply(uint8_t *m, size_t cap, const uint8_t *name, size_t nlen)
{
	static const uint8_t target[] = "\x07tracker\x07" "example";
	struct hd_wire w;

	hd_wire_init(&w, m, cap);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, HD_DNS_QR | HD_DNS_RA);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, 2);
	hd_wire_write_u32(&w, 0);
	hd_wire_write_bytes(&w, name, nlen);
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	hd_wire_write_u16(&w, 0xc000 | HD_DNS_HDR_LEN);
	hd_wire_write_u16(&w, HD_DNS_TYPE_CNAME);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	hd_wire_write_u32(&w, 300);
	hd_wire_write_u16(&w, sizeof(target));
	hd_wire_write_bytes(&w, target, sizeof(target));
	hd_wire_write_bytes(&w, target, sizeof(target));
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	hd_wire_write_u32(&w, 300);
	hd_wire_write_u16(&w, 4);
	hd_wire_write_u32(&w, 0xc0000263u);
	return hd_wire_ok(&w) ? w.pos : 0;
}

static struct hd_dns_answer *
make_answer(const char *str, unsigned int n_a, int nxdomain, struct hd_cache_key *k)
{
	uint8_t name[HD_DNS_NAME_MAX], qm[512], rm[1024];
	struct hd_dns_answer_limits lim = { 0 };
	struct hd_dns_query q;
	struct hd_wire w;
	size_t rl;
	int nlen, err;

	nlen = hd_dns_name_from_str(str, name);
	if (nlen < 0)
		return NULL;
	hd_wire_init(&w, qm, sizeof(qm));
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u32(&w, 0);
	hd_wire_write_bytes(&w, name, (size_t)nlen);
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	if (!hd_wire_ok(&w) || hd_dns_query_parse(qm, w.pos, &q) != 0)
		return NULL;
	if (n_a == 0 && nxdomain < 0)
		rl = cname_reply(rm, sizeof(rm), name, (size_t)nlen);
	else
		rl = upstream_reply(rm, sizeof(rm), name, (size_t)nlen, n_a, nxdomain);
	if (rl == 0)
		return NULL;
	hd_cache_key_from_query(k, &q);
	return hd_dns_answer_build(rm, rl, &q, T0, &lim, &err);
}

static void
put(struct hd_cache *c, const char *name, unsigned int n_a, int nxdomain)
{
	struct hd_cache_key k __rte_aligned(8);
	struct hd_dns_answer *a = make_answer(name, n_a, nxdomain, &k);

	if (a == NULL || n_cached == RTE_DIM(cached) || hd_cache_insert(c, &k, a, T0) != 0) {
		fprintf(stderr, "fuzz_packet: cannot cache %s\n", name);
		abort();
	}
	cached[n_cached++] = a;
}

static void
policy_make(void)
{
	static const char *const bypass[] = { "10.53.0.3" };
	static const char *const v6[] = { "fd53::/64" };
	static const char *const v6_lists[] = { "adb", "allow" };
	static const struct {
		const char *name, *text;
		enum hd_filter_syntax syntax;
		int allow;
		enum hd_filter_mode mode;
	} lists[] = {
		{ "dom", "www.example.com\ntracker.example\n", HD_FILTER_SYNTAX_DOMAINS, 0,
		  HD_FILTER_MODE_NULL },
		{ "adb", "||miss.example^\n||ad*.example^\n", HD_FILTER_SYNTAX_ADBLOCK, 0,
		  HD_FILTER_MODE_NXDOMAIN },
		{ "allow", "ok.miss.example\n", HD_FILTER_SYNTAX_DOMAINS, 1, HD_FILTER_MODE_NULL },
	};
	static const char *const records[] = {
		"host.lab.example A 10.0.0.1",
		"alias.lab.example CNAME host.lab.example",
		"*.w.lab.example AAAA fd00::1",
		"a.example TXT \"local\"",
	};
	struct hd_filter_builder *fb = hd_filter_builder_create();
	struct hd_localzone_builder *lb = hd_localzone_builder_create();
	struct hd_filter_report rep;
	char err[256];
	unsigned int i;

	if (fb == NULL || lb == NULL)
		abort();
	for (i = 0; i < RTE_DIM(lists); i++) {
		struct hd_filter_list_spec spec = {
			.name = lists[i].name, .source = lists[i].name, .syntax = lists[i].syntax,
			.allow = lists[i].allow,
			.response = { .mode = lists[i].mode, .ttl = 10, .v4 = { 10, 9, 9, 9 },
				      .has_v4 = 1 },
		};

		if (hd_filter_builder_add_list(fb, &spec, lists[i].text, strlen(lists[i].text),
					       &rep) != (int)i)
			abort();
	}
	if (hd_filter_builder_add_group(fb, "open", bypass, 1, NULL, 0, err, sizeof(err)) != 0 ||
	    hd_filter_builder_add_group(fb, "v6", v6, 1, v6_lists, 2, err, sizeof(err)) != 0)
		abort();
	policy.filter = hd_filter_build(fb);
	for (i = 0; i < RTE_DIM(records); i++)
		if (hd_localzone_add_record(lb, records[i], "fuzz", err, sizeof(err)) != 0)
			abort();
	if (hd_localzone_builder_add_zone(lb, "lab.example", err, sizeof(err)) != 0)
		abort();
	policy.local = hd_localzone_build(lb, err, sizeof(err));
	if (policy.filter == NULL || policy.local == NULL) {
		fprintf(stderr, "fuzz_packet: cannot build the policy: %s\n", err);
		abort();
	}
	policy.generation = 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t v4[4] = { 10, 53, 0, 1 };
	static const uint8_t v6[16] = { 0xfd, 0x53, [15] = 1 };
	static const uint8_t mac[6] = { 0x02, 0x53, 0, 0, 0, 1 };
	char *eal[] = { "fuzz_packet", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=lib.*:error", "-l", "0" };
	struct hd_cache_params cp = { .name = "fuzz", .max_entries = 64, .socket_id = SOCKET_ID_ANY };
	struct hd_cache_key k __rte_aligned(8);
	struct hd_cache *c;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "fuzz_packet: rte_eal_init failed\n");
		abort();
	}
	c = hd_cache_create(&cp);
	if (c == NULL)
		abort();
	put(c, "a.example", 1, 0);
	put(c, "www.example.com", 2, 0);
	put(c, "big.example", 40, 0);
	put(c, "nx.example", 0, 1);
	/* A CNAME to a blocked name: misses replied with it go through the cloaking walk. */
	spare = make_answer("spare.example", 0, -1, &k);
	if (spare == NULL)
		abort();
	policy_make();

	memcpy(conf.mac.addr_bytes, mac, 6);
	memcpy(&conf.v4[0], v4, 4);
	memcpy(conf.v6[0], v6, 16);
	conf.n_v4 = 1;
	conf.n_v6 = 1;
	conf.answer_arp_nd = 1;
	conf.dns_port = 53;
	conf.udp_size = HD_DNS_EDNS_SIZE;
	ctx.conf = &conf;
	ctx.cache = c;
	ctx.stats = &stats;
	ctx.now = T0 + 10;
	ctx.filter_hits = hits;
	return 0;
}

/* The slow path's handling of a miss: re-read the query, answer or SERVFAIL. */
static void
slow_path(uint8_t *buf, uint16_t len, uint16_t cap, const uint8_t *orig)
{
	struct hd_dns_query q;
	int n;

	if (hd_fastpath_query(&conf, buf, len, &q) != 0)
		abort();	/* a miss frame must parse again */
	n = hd_fastpath_reply_policy(&conf, &stats, ctx.policy, hits, buf, len, cap,
				     (q.id & 1) ? spare : NULL, HD_DNS_RCODE_SERVFAIL, T0 + 20,
				     (q.id & 2) ? 5 : 0);
	if (n > cap)
		abort();
	if (n < 0) {
		/* Not enough room: the frame is dropped, try again with SERVFAIL. */
		memcpy(buf, orig, len);
		n = hd_fastpath_reply(&conf, &stats, buf, len, cap, NULL,
				      HD_DNS_RCODE_SERVFAIL, T0 + 20, 0);
		if (n > cap)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum hd_fp_verdict v;
	uint16_t len, cap, out = 0;
	uint8_t *buf;

	if (size < 1 || size - 1 > 4096)
		return 0;
	len = (uint16_t)(size - 1);
	cap = (uint16_t)(len + data[0] * 8u);
	buf = malloc(cap ? cap : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	ctx.policy = (data[0] & 8) ? &policy : NULL;
	v = hd_fastpath_handle(&ctx, buf, len, cap, &out);
	if (v == HD_FP_TX && (out > cap || out < RTE_ETHER_HDR_LEN))
		abort();
	if (v == HD_FP_MISS) {
		if (memcmp(buf, data + 1, len) != 0)
			abort();	/* a miss leaves the frame untouched */
		slow_path(buf, len, cap, data + 1);
	}
	free(buf);
	return 0;
}
