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
 * hd_fastpath_reply().
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
#include "hd_stats.h"
#include "hd_wire.h"

#define T0 1000u

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hd_fastpath_conf conf;
static struct hd_fastpath_ctx ctx;
static struct hd_stats_lcore stats;
static struct hd_dns_answer *spare;	/* an answer for hd_fastpath_reply() */
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
	spare = make_answer("spare.example", 3, 0, &k);
	if (spare == NULL)
		abort();

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
	n = hd_fastpath_reply(&conf, &stats, buf, len, cap, (q.id & 1) ? spare : NULL,
			      HD_DNS_RCODE_SERVFAIL, T0 + 20, (q.id & 2) ? 5 : 0);
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
