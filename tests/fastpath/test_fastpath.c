/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/fastpath/fastpath.c: frames built by hand go through
 * hd_fastpath_handle() as a worker would run it; replies are checked field by
 * field, with checksums verified by a routine independent of the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_ether.h>

#include "hd_cache.h"
#include "hd_dns.h"
#include "hd_fastpath.h"
#include "hd_filter.h"
#include "hd_localzone.h"
#include "hd_stats.h"

#define T0 100000u		/* the clock the cache entries are stored with */
#define FRAME_CAP 2048

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t our_v4[4] = { 10, 53, 0, 1 };
static const uint8_t our_v4b[4] = { 10, 53, 0, 2 };
static const uint8_t cli_v4[4] = { 10, 53, 0, 100 };
static const uint8_t our_v6[16] = { 0xfd, 0x53, [15] = 1 };
static const uint8_t cli_v6[16] = { 0xfd, 0x53, [15] = 0x64 };
static const uint8_t ll_v6[16] = { 0xfe, 0x80, [15] = 0x99 };

static struct hd_fastpath_conf conf;
static struct hd_cache *cache;
static struct hd_stats_lcore st;
static struct hd_fastpath_ctx ctx;

/* ---- helpers independent of the library ---- */

#define CHECK_TEXT(got, want) do { \
	if (strcmp((got), (want)) != 0) \
		fprintf(stderr, "%s:%d: \"%s\" is not \"%s\"\n", __FILE__, __LINE__, \
			(got), (want)); \
	CU_ASSERT_STRING_EQUAL((got), (want)); \
} while (0)

static uint32_t
sum16(const uint8_t *b, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

/* "www.example.com" -> wire form; @return its length. */
static size_t
name_wire(uint8_t *out, const char *s)
{
	size_t n = 0;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		out[n++] = (uint8_t)l;
		memcpy(out + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

struct qopts {
	uint16_t id;
	uint16_t flags;		/* header flags */
	uint16_t qdcount;	/* 0 means 1 */
	int edns;
	uint16_t edns_size;
};

static size_t
dns_query(uint8_t *m, const char *name, uint16_t qtype, const struct qopts *o)
{
	size_t n = 12;

	memset(m, 0, 12);
	put16(m, o->id);
	put16(m + 2, o->flags);
	put16(m + 4, o->qdcount ? o->qdcount : 1);
	put16(m + 10, o->edns ? 1 : 0);
	n += name_wire(m + n, name);
	put16(m + n, qtype);
	put16(m + n + 2, HD_DNS_CLASS_IN);
	n += 4;
	if (o->edns) {
		m[n++] = 0;
		put16(m + n, HD_DNS_TYPE_OPT);
		put16(m + n + 2, o->edns_size);
		put32(m + n + 4, 0);
		put16(m + n + 8, 0);
		n += 10;
	}
	return n;
}

/* An upstream's reply with @p n_a A records (the owner a pointer to the question). */
static size_t
upstream_reply(uint8_t *m, const char *name, uint16_t n_a, uint32_t ttl)
{
	size_t n = 12;
	uint16_t i;

	memset(m, 0, 12);
	put16(m, 0x4242);
	put16(m + 2, HD_DNS_QR | HD_DNS_RD | HD_DNS_RA);
	put16(m + 4, 1);
	put16(m + 6, n_a);
	n += name_wire(m + n, name);
	put16(m + n, HD_DNS_TYPE_A);
	put16(m + n + 2, HD_DNS_CLASS_IN);
	n += 4;
	for (i = 0; i < n_a; i++) {
		put16(m + n, 0xc00c);
		put16(m + n + 2, HD_DNS_TYPE_A);
		put16(m + n + 4, HD_DNS_CLASS_IN);
		put32(m + n + 6, ttl);
		put16(m + n + 10, 4);
		m[n + 12] = 192;
		m[n + 13] = 0;
		m[n + 14] = (uint8_t)(2 + i / 250);
		m[n + 15] = (uint8_t)(1 + i % 250);
		n += 16;
	}
	return n;
}

struct fopts {
	int v6;
	int vlan;		/* 0x8100 or 0x88a8 */
	const uint8_t *dst;	/* NULL: our first address */
	uint16_t dport;		/* 0: 53 */
	uint16_t sport;		/* 0: 40000 */
	int ihl_words;		/* IPv4 option words */
	uint16_t frag;
	int hbh;		/* IPv6 hop-by-hop header before UDP */
	size_t pad;		/* Ethernet padding after the datagram */
	const uint8_t *src;	/* NULL: cli_v4 / cli_v6 */
};

static size_t
l2_header(uint8_t *f, int vlan, uint16_t type, const uint8_t *dst_mac)
{
	size_t n = 12;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, cli_mac, 6);
	if (vlan) {
		put16(f + 12, (uint16_t)vlan);
		put16(f + 14, 42);
		n += 4;
	}
	put16(f + n, type);
	return n + 2;
}

static uint16_t
udp_sum(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *udp, size_t ulen)
{
	uint32_t s = 0;

	s = sum16(src, alen, s);
	s = sum16(dst, alen, s);
	s += 17 + (uint32_t)ulen;
	s = sum16(udp, ulen, s);
	return fold(s);
}

static size_t
build_frame(uint8_t *f, const struct fopts *o, const uint8_t *dns, size_t dlen)
{
	size_t l3, l4, n, ulen = 8 + dlen;
	uint16_t c;

	memset(f, 0, FRAME_CAP);
	l3 = l2_header(f, o->vlan, o->v6 ? 0x86dd : 0x0800, our_mac);
	if (!o->v6) {
		size_t ihl = 20 + 4 * (size_t)o->ihl_words;

		f[l3] = (uint8_t)(0x40 | (ihl / 4));
		put16(f + l3 + 2, (uint16_t)(ihl + ulen));
		put16(f + l3 + 4, 0x1111);
		put16(f + l3 + 6, o->frag);
		f[l3 + 8] = 17;		/* a TTL unlike the reply's */
		f[l3 + 9] = 17;
		memcpy(f + l3 + 12, o->src ? o->src : cli_v4, 4);
		memcpy(f + l3 + 16, o->dst ? o->dst : our_v4, 4);
		memset(f + l3 + 20, 1, ihl - 20);	/* NOP options */
		put16(f + l3 + 10, (uint16_t)~fold(sum16(f + l3, ihl, 0)));
		l4 = l3 + ihl;
	} else {
		size_t ext = o->hbh ? 8 : 0;

		put32(f + l3, 0x60000000);
		put16(f + l3 + 4, (uint16_t)(ulen + ext));
		f[l3 + 6] = o->hbh ? 0 : 17;
		f[l3 + 7] = 17;
		memcpy(f + l3 + 8, o->src ? o->src : cli_v6, 16);
		memcpy(f + l3 + 24, o->dst ? o->dst : our_v6, 16);
		l4 = l3 + 40;
		if (o->hbh) {
			f[l4] = 17;	/* next header; length 0; PadN */
			f[l4 + 2] = 1;
			f[l4 + 3] = 4;
			l4 += 8;
		}
	}
	put16(f + l4, o->sport ? o->sport : 40000);
	put16(f + l4 + 2, o->dport ? o->dport : 53);
	put16(f + l4 + 4, (uint16_t)ulen);
	memcpy(f + l4 + 8, dns, dlen);
	c = (uint16_t)~(o->v6 ? udp_sum(f + l3 + 8, f + l3 + 24, 16, f + l4, ulen) :
			   udp_sum(f + l3 + 12, f + l3 + 16, 4, f + l4, ulen));
	put16(f + l4 + 6, c ? c : 0xffff);
	n = l4 + ulen;
	return n + o->pad;
}

/* Offsets of a frame we built (no IPv4 options, no extension header). */
static size_t
l3_of(const uint8_t *f)
{
	uint16_t t = get16(f + 12);

	return (t == 0x8100 || t == 0x88a8) ? 18 : 14;
}

/*
 * Check a reply frame against the query frame it came from: swapped
 * addresses and ports, lengths, TTL 64, checksums. @return the DNS offset.
 */
static size_t
check_reply_frame(const uint8_t *r, size_t rlen, const uint8_t *q)
{
	size_t l3 = l3_of(q), l4, ulen;
	int v6 = get16(q + l3 - 2) == 0x86dd;

	CU_ASSERT(memcmp(r, q + 6, 6) == 0);
	CU_ASSERT(memcmp(r + 6, q, 6) == 0);
	CU_ASSERT(memcmp(r + 12, q + 12, l3 - 12) == 0);	/* tag and type kept */
	if (!v6) {
		size_t qihl = (size_t)(q[l3] & 0xf) * 4;

		CU_ASSERT_EQUAL(r[l3], 0x45);			/* options not echoed */
		CU_ASSERT_EQUAL(get16(r + l3 + 2), rlen - l3);
		CU_ASSERT_EQUAL(get16(r + l3 + 4), get16(q + l3 + 4));	/* ID kept */
		CU_ASSERT_EQUAL(r[l3 + 8], 64);
		CU_ASSERT_EQUAL(r[l3 + 9], 17);
		CU_ASSERT(memcmp(r + l3 + 12, q + l3 + 16, 4) == 0);
		CU_ASSERT(memcmp(r + l3 + 16, q + l3 + 12, 4) == 0);
		CU_ASSERT_EQUAL(fold(sum16(r + l3, 20, 0)), 0xffff);
		l4 = l3 + 20;
		ulen = get16(r + l4 + 4);
		CU_ASSERT_EQUAL(ulen, rlen - l4);
		CU_ASSERT_EQUAL(udp_sum(r + l3 + 12, r + l3 + 16, 4, r + l4, ulen), 0xffff);
		CU_ASSERT(memcmp(r + l4, q + l3 + qihl + 2, 2) == 0);
		CU_ASSERT(memcmp(r + l4 + 2, q + l3 + qihl, 2) == 0);
	} else {
		CU_ASSERT_EQUAL(get16(r + l3 + 4), rlen - l3 - 40);
		CU_ASSERT_EQUAL(r[l3 + 6], 17);
		CU_ASSERT_EQUAL(r[l3 + 7], 64);
		CU_ASSERT(memcmp(r + l3 + 8, q + l3 + 24, 16) == 0);
		CU_ASSERT(memcmp(r + l3 + 24, q + l3 + 8, 16) == 0);
		l4 = l3 + 40;
		ulen = get16(r + l4 + 4);
		CU_ASSERT_EQUAL(ulen, rlen - l4);
		CU_ASSERT_EQUAL(udp_sum(r + l3 + 8, r + l3 + 24, 16, r + l4, ulen), 0xffff);
		CU_ASSERT(memcmp(r + l4, q + l4 + 2, 2) == 0);
		CU_ASSERT(memcmp(r + l4 + 2, q + l4, 2) == 0);
	}
	CU_ASSERT(get16(r + l4 + 6) != 0);
	return l4 + 8;
}

static size_t
skip_name(const uint8_t *m, size_t off)
{
	while (m[off] != 0) {
		if ((m[off] & 0xc0) == 0xc0)
			return off + 2;
		off += (size_t)m[off] + 1;
	}
	return off + 1;
}

/* Insert the answer of an upstream reply with @p n_a A records for @p name,
 * servable stale for @p window seconds after it expires. */
static void
cache_put_stale(const char *name, uint16_t n_a, uint32_t ttl, uint32_t window)
{
	uint8_t qm[512], rm[8192];
	struct qopts qo = { .id = 1 };
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	struct hd_dns_answer_limits lim = { .stale_ttl = window };
	struct hd_cache_key k __rte_aligned(8);
	size_t ql, rl;
	int err = 0;

	ql = dns_query(qm, name, HD_DNS_TYPE_A, &qo);
	CU_ASSERT_FATAL(hd_dns_query_parse(qm, ql, &q) == 0);
	rl = upstream_reply(rm, name, n_a, ttl);
	a = hd_dns_answer_build(rm, rl, &q, T0, &lim, &err);
	CU_ASSERT_FATAL(a != NULL);
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_FATAL(hd_cache_insert(cache, &k, a, T0) == 0);
}

static void
cache_put(const char *name, uint16_t n_a, uint32_t ttl)
{
	cache_put_stale(name, n_a, ttl, 0);
}

static void
reset(void)
{
	memset(&st, 0, sizeof(st));
	memset(ctx.refresh_recent, 0, sizeof(ctx.refresh_recent));
	conf.serve_stale = 0;
	conf.prefetch = 0;
	conf.stale_ttl = 0;
	conf.answer_arp_nd = 1;
	conf.to_kernel = 0;
	ctx.now = T0;
	ctx.cache = cache;
	ctx.policy = NULL;
	ctx.filter_hits = NULL;
}

static enum hd_fp_verdict
handle(uint8_t *f, size_t len, uint16_t *out)
{
	return hd_fastpath_handle(&ctx, f, (uint16_t)len, FRAME_CAP, out);
}

/* ---- tests ---- */

static void
test_classify(void)
{
	uint8_t dns[64], f[FRAME_CAP];
	struct qopts qo = { .id = 7 };
	struct fopts fo = { 0 };
	struct hd_pkt p;
	size_t dl = dns_query(dns, "a.example", HD_DNS_TYPE_A, &qo), n;

	n = build_frame(f, &fo, dns, dl);
	CU_ASSERT_EQUAL(hd_fastpath_classify(&conf, f, (uint16_t)n, &p), 0);
	CU_ASSERT_EQUAL(p.l3_off, 14);
	CU_ASSERT_EQUAL(p.l4_off, 34);
	CU_ASSERT_EQUAL(p.dns_off, 42);
	CU_ASSERT_EQUAL(p.dns_len, dl);
	CU_ASSERT_EQUAL(p.ipv6, 0);

	fo.v6 = 1;
	fo.vlan = 0x8100;
	n = build_frame(f, &fo, dns, dl);
	CU_ASSERT_EQUAL(hd_fastpath_classify(&conf, f, (uint16_t)n, &p), 0);
	CU_ASSERT_EQUAL(p.l3_off, 18);
	CU_ASSERT_EQUAL(p.l4_off, 58);
	CU_ASSERT_EQUAL(p.dns_off, 66);
	CU_ASSERT_EQUAL(p.ipv6, 1);

	fo.v6 = 0;
	fo.vlan = 0x88a8;
	fo.dst = our_v4b;
	fo.pad = 6;
	n = build_frame(f, &fo, dns, dl);
	CU_ASSERT_EQUAL(hd_fastpath_classify(&conf, f, (uint16_t)n, &p), 0);
	CU_ASSERT_EQUAL(p.dns_len, dl);
}

/* A miss leaves the frame as it was; after an insert the same frame is a hit. */
static void
test_miss_then_hit(void)
{
	uint8_t dns[128], f[FRAME_CAP], q[FRAME_CAP];
	struct qopts qo = { .id = 0xbeef, .flags = HD_DNS_RD };
	struct fopts fo = { 0 };
	uint16_t out = 0;
	size_t dl, n, d, qend, rr;

	reset();
	dl = dns_query(dns, "WwW.ExAmPlE.oRg", HD_DNS_TYPE_A, &qo);
	n = build_frame(f, &fo, dns, dl);
	memcpy(q, f, n);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_MISS);
	CU_ASSERT(memcmp(f, q, n) == 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_rx_packets], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_queries], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_misses], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 0);

	cache_put("www.example.org", 1, 300);
	ctx.now = T0 + 100;
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_TX);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_queries], 2);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 0);
	d = check_reply_frame(f, out, q);
	CU_ASSERT_EQUAL(get16(f + d), 0xbeef);
	CU_ASSERT_EQUAL(get16(f + d + 2) & (HD_DNS_QR | HD_DNS_RD | HD_DNS_RA | HD_DNS_TC |
					    HD_DNS_RCODE_MASK), HD_DNS_QR | HD_DNS_RD | HD_DNS_RA);
	CU_ASSERT_EQUAL(get16(f + d + 4), 1);
	CU_ASSERT_EQUAL(get16(f + d + 6), 1);
	qend = 12 + 17 + 4;
	/* The client's letter case comes back. */
	CU_ASSERT(memcmp(f + d + 12, q + 42 + 12, qend - 12) == 0);
	rr = skip_name(f + d, qend);
	CU_ASSERT_EQUAL(get16(f + d + rr), HD_DNS_TYPE_A);
	CU_ASSERT_EQUAL(get32(f + d + rr + 4), 200);	/* 300 s stored 100 s ago */
	CU_ASSERT_EQUAL(get16(f + d + rr + 8), 4);
	CU_ASSERT_EQUAL(f[d + rr + 10], 192);
	CU_ASSERT_EQUAL(f[d + rr + 13], 1);
	CU_ASSERT_EQUAL(d + rr + 14, out);

	/* Past its TTL the entry is not served (no serve-stale here). */
	memcpy(f, q, n);
	ctx.now = T0 + 301;
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_MISS);
}

static void
test_hit_v6_vlan_options_padding(void)
{
	uint8_t dns[128], f[FRAME_CAP], q[FRAME_CAP];
	struct qopts qo = { .id = 0x0102, .edns = 1, .edns_size = 4096 };
	struct fopts fos[] = {
		{ .v6 = 1 },
		{ .v6 = 1, .vlan = 0x8100 },
		{ .vlan = 0x88a8, .dst = our_v4b },
		{ .ihl_words = 3 },
		{ .pad = 9 },
		{ .v6 = 1, .pad = 3 },
		{ .frag = 0x4000 },	/* DF alone is not a fragment */
	};
	uint16_t out = 0;
	size_t i, dl, n, d, qend, rr;

	reset();
	cache_put("v6.example.net", 2, 60);
	dl = dns_query(dns, "v6.example.net", HD_DNS_TYPE_A, &qo);
	for (i = 0; i < RTE_DIM(fos); i++) {
		n = build_frame(f, &fos[i], dns, dl);
		memcpy(q, f, n);
		CU_ASSERT_EQUAL_FATAL(handle(f, n, &out), HD_FP_TX);
		if (fos[i].ihl_words) {
			/* check_reply_frame() assumes the query's UDP at l3 + 20 */
			memmove(q + 34, q + 34 + 4 * fos[i].ihl_words, n - 34 - 12);
			q[14] = 0x45;
		}
		d = check_reply_frame(f, out, q);
		CU_ASSERT_EQUAL(get16(f + d), 0x0102);
		CU_ASSERT_EQUAL(get16(f + d + 6), 2);
		CU_ASSERT_EQUAL(get16(f + d + 10), 1);	/* OPT echoed */
		qend = d + 12 + 16 + 4;
		rr = skip_name(f, qend);
		CU_ASSERT_EQUAL(get32(f + rr + 4), 60);
	}
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], RTE_DIM(fos));
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 0);
}

/* 40 A records do not fit in 512 bytes: TC without EDNS, whole with EDNS. */
static void
test_tc_for_large_answer(void)
{
	uint8_t dns[128], f[FRAME_CAP], q[FRAME_CAP];
	struct qopts qo = { .id = 9 };
	struct fopts fo = { 0 };
	uint16_t out = 0;
	size_t dl, n, d;

	reset();
	cache_put("big.example.com", 40, 300);
	dl = dns_query(dns, "big.example.com", HD_DNS_TYPE_A, &qo);
	n = build_frame(f, &fo, dns, dl);
	memcpy(q, f, n);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_TX);
	d = check_reply_frame(f, out, q);
	CU_ASSERT(get16(f + d + 2) & HD_DNS_TC);
	CU_ASSERT_EQUAL(get16(f + d + 6), 0);
	CU_ASSERT(out - d <= 512);
	CU_ASSERT_EQUAL(st.c[HD_STAT_tc_replies], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 1);

	qo.edns = 1;
	qo.edns_size = 1232;
	dl = dns_query(dns, "big.example.com", HD_DNS_TYPE_A, &qo);
	n = build_frame(f, &fo, dns, dl);
	memcpy(q, f, n);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_TX);
	d = check_reply_frame(f, out, q);
	CU_ASSERT_FALSE(get16(f + d + 2) & HD_DNS_TC);
	CU_ASSERT_EQUAL(get16(f + d + 6), 40);
	CU_ASSERT(out - d > 512);
	CU_ASSERT_EQUAL(st.c[HD_STAT_tc_replies], 1);
}

static void
check_rcode_reply(const struct qopts *qo, const char *name, int rcode, enum hd_stat counter)
{
	uint8_t dns[128], f[FRAME_CAP], q[FRAME_CAP];
	struct fopts fo = { .v6 = qo->id & 1 };
	uint16_t out = 0;
	size_t dl, n, d;

	reset();
	dl = dns_query(dns, name, HD_DNS_TYPE_A, qo);
	n = build_frame(f, &fo, dns, dl);
	memcpy(q, f, n);
	CU_ASSERT_EQUAL_FATAL(handle(f, n, &out), HD_FP_TX);
	d = check_reply_frame(f, out, q);
	CU_ASSERT_EQUAL(get16(f + d), qo->id);
	CU_ASSERT(get16(f + d + 2) & HD_DNS_QR);
	CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, rcode);
	CU_ASSERT_EQUAL(get16(f + d + 6), 0);
	CU_ASSERT_EQUAL(st.c[counter], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_queries], 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 0);
}

static void
test_formerr_notimpl(void)
{
	struct qopts two = { .id = 0x1001, .qdcount = 2 };
	struct qopts status = { .id = 0x2002, .flags = 2 << 11 };
	struct qopts notify = { .id = 0x3003, .flags = 4 << 11 };

	check_rcode_reply(&two, "x.example", HD_DNS_RCODE_FORMERR, HD_STAT_formerr);
	check_rcode_reply(&status, "x.example", HD_DNS_RCODE_NOTIMPL, HD_STAT_notimpl);
	check_rcode_reply(&notify, "x.example", HD_DNS_RCODE_NOTIMPL, HD_STAT_notimpl);
}

static size_t
arp_request(uint8_t *f, const uint8_t *target, int vlan)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t l3;

	memset(f, 0, FRAME_CAP);
	l3 = l2_header(f, vlan, 0x0806, bcast);
	put16(f + l3, 1);
	put16(f + l3 + 2, 0x0800);
	f[l3 + 4] = 6;
	f[l3 + 5] = 4;
	put16(f + l3 + 6, 1);
	memcpy(f + l3 + 8, cli_mac, 6);
	memcpy(f + l3 + 14, cli_v4, 4);
	memcpy(f + l3 + 24, target, 4);
	return 60;	/* padded to the Ethernet minimum */
}

static void
test_arp(void)
{
	uint8_t f[FRAME_CAP];
	uint16_t out = 0;
	size_t n, l3;
	int vlan;

	for (vlan = 0; vlan <= 0x8100; vlan += 0x8100) {
		reset();
		l3 = vlan ? 18 : 14;
		n = arp_request(f, our_v4b, vlan);
		CU_ASSERT_EQUAL_FATAL(handle(f, n, &out), HD_FP_TX);
		CU_ASSERT_EQUAL(out, l3 + 28);
		CU_ASSERT(memcmp(f, cli_mac, 6) == 0);
		CU_ASSERT(memcmp(f + 6, our_mac, 6) == 0);
		CU_ASSERT_EQUAL(get16(f + l3 - 2), 0x0806);
		CU_ASSERT_EQUAL(get16(f + l3 + 6), 2);
		CU_ASSERT(memcmp(f + l3 + 8, our_mac, 6) == 0);
		CU_ASSERT(memcmp(f + l3 + 14, our_v4b, 4) == 0);
		CU_ASSERT(memcmp(f + l3 + 18, cli_mac, 6) == 0);
		CU_ASSERT(memcmp(f + l3 + 24, cli_v4, 4) == 0);
		CU_ASSERT_EQUAL(st.c[HD_STAT_arp_replies], 1);
		CU_ASSERT_EQUAL(st.c[HD_STAT_rx_packets], 1);
	}

	reset();
	n = arp_request(f, cli_v4, 0);		/* someone else's address */
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	n = arp_request(f, our_v4, 0);
	put16(f + 14 + 6, 2);			/* a reply, not a request */
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	n = arp_request(f, our_v4, 0);
	CU_ASSERT_EQUAL(handle(f, 14 + 27, &out), HD_FP_DROP);	/* truncated */
	conf.answer_arp_nd = 0;
	n = arp_request(f, our_v4, 0);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	CU_ASSERT_EQUAL(st.c[HD_STAT_arp_replies], 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 4);
}

struct nsopts {
	const uint8_t *src;	/* NULL: link-local of the client */
	const uint8_t *target;
	int to_target;		/* unicast to the target instead of solicited-node */
	uint8_t hop;		/* 0: 255 */
	int no_option;
	int bad_sum;
	int zero_opt_len;
};

static size_t
ns_frame(uint8_t *f, const struct nsopts *o)
{
	static const uint8_t sol_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	uint8_t dst[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	const uint8_t *src = o->src ? o->src : ll_v6;
	size_t l3, icmp, plen = o->no_option ? 24 : 32;
	uint32_t s;

	memset(f, 0, FRAME_CAP);
	l3 = l2_header(f, 0, 0x86dd, sol_mac);
	memcpy(dst + 13, o->target + 13, 3);
	put32(f + l3, 0x60000000);
	put16(f + l3 + 4, (uint16_t)plen);
	f[l3 + 6] = 58;
	f[l3 + 7] = o->hop ? o->hop : 255;
	memcpy(f + l3 + 8, src, 16);
	memcpy(f + l3 + 24, o->to_target ? o->target : dst, 16);
	icmp = l3 + 40;
	f[icmp] = 135;
	memcpy(f + icmp + 8, o->target, 16);
	if (!o->no_option) {
		f[icmp + 24] = 1;
		f[icmp + 25] = o->zero_opt_len ? 0 : 1;
		memcpy(f + icmp + 26, cli_mac, 6);
	}
	s = sum16(f + l3 + 8, 32, 0) + 58 + (uint32_t)plen;
	s = sum16(f + icmp, plen, s);
	put16(f + icmp + 2, (uint16_t)(~fold(s) + (o->bad_sum ? 1 : 0)));
	return icmp + plen;
}

static void
check_na(const uint8_t *f, size_t out, const uint8_t *dst, const uint8_t *dst_mac, int solicited)
{
	size_t l3 = 14, icmp = l3 + 40;
	uint32_t s;

	CU_ASSERT_EQUAL(out, icmp + 32);
	CU_ASSERT(memcmp(f, dst_mac, 6) == 0);
	CU_ASSERT(memcmp(f + 6, our_mac, 6) == 0);
	CU_ASSERT_EQUAL(get16(f + 12), 0x86dd);
	CU_ASSERT_EQUAL(f[l3] >> 4, 6);
	CU_ASSERT_EQUAL(get16(f + l3 + 4), 32);
	CU_ASSERT_EQUAL(f[l3 + 6], 58);
	CU_ASSERT_EQUAL(f[l3 + 7], 255);
	CU_ASSERT(memcmp(f + l3 + 8, our_v6, 16) == 0);
	CU_ASSERT(memcmp(f + l3 + 24, dst, 16) == 0);
	CU_ASSERT_EQUAL(f[icmp], 136);
	CU_ASSERT_EQUAL(f[icmp + 1], 0);
	CU_ASSERT_EQUAL(get32(f + icmp + 4), (solicited ? 0x40000000u : 0) | 0x20000000u);
	CU_ASSERT(memcmp(f + icmp + 8, our_v6, 16) == 0);
	CU_ASSERT_EQUAL(f[icmp + 24], 2);
	CU_ASSERT_EQUAL(f[icmp + 25], 1);
	CU_ASSERT(memcmp(f + icmp + 26, our_mac, 6) == 0);
	s = sum16(f + l3 + 8, 32, 0) + 58 + 32;
	s = sum16(f + icmp, 32, s);
	CU_ASSERT_EQUAL(fold(s), 0xffff);
}

static void
test_ndp(void)
{
	static const uint8_t unspec[16];
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t other[16] = { 0xfd, 0x53, [15] = 9 };
	uint8_t f[FRAME_CAP];
	uint16_t out = 0;
	size_t n;
	struct nsopts ok = { .target = our_v6 };
	struct nsopts uni = { .target = our_v6, .to_target = 1, .src = cli_v6, .no_option = 1 };
	struct nsopts dad = { .target = our_v6, .src = unspec, .no_option = 1 };
	struct nsopts bad[] = {
		{ .target = other },
		{ .target = our_v6, .hop = 64 },
		{ .target = our_v6, .bad_sum = 1 },
		{ .target = our_v6, .zero_opt_len = 1 },
		{ .target = our_v6, .src = unspec },	/* DAD with a source LL option */
	};
	size_t i;

	reset();
	n = ns_frame(f, &ok);
	CU_ASSERT_EQUAL_FATAL(handle(f, n, &out), HD_FP_TX);
	check_na(f, out, ll_v6, cli_mac, 1);
	n = ns_frame(f, &uni);
	CU_ASSERT_EQUAL_FATAL(handle(f, n, &out), HD_FP_TX);
	check_na(f, out, cli_v6, cli_mac, 1);
	n = ns_frame(f, &dad);
	CU_ASSERT_EQUAL_FATAL(handle(f, n, &out), HD_FP_TX);
	check_na(f, out, all_nodes, all_nodes_mac, 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_nd_replies], 3);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 0);

	reset();
	for (i = 0; i < RTE_DIM(bad); i++) {
		n = ns_frame(f, &bad[i]);
		CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	}
	n = ns_frame(f, &ok);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(hd_fastpath_handle(&ctx, f, (uint16_t)i, (uint16_t)i, &out),
				HD_FP_DROP);
	conf.answer_arp_nd = 0;
	n = ns_frame(f, &ok);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	CU_ASSERT_EQUAL(st.c[HD_STAT_nd_replies], 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], RTE_DIM(bad) + n + 1);
}

/* Truncated at every length below the whole: dropped and counted, never read past. */
static void
test_truncated_everywhere(void)
{
	uint8_t dns[128], f[FRAME_CAP], *copy;
	struct qopts qo = { .id = 3, .edns = 1, .edns_size = 1232 };
	struct fopts fos[] = { { 0 }, { .v6 = 1 }, { .vlan = 0x8100 }, { .v6 = 1, .vlan = 0x88a8 } };
	uint16_t out;
	size_t i, k, dl, n;

	reset();
	cache_put("t.example", 1, 300);
	dl = dns_query(dns, "t.example", HD_DNS_TYPE_A, &qo);
	for (k = 0; k < RTE_DIM(fos); k++) {
		n = build_frame(f, &fos[k], dns, dl);
		memset(&st, 0, sizeof(st));
		for (i = 0; i < n; i++) {
			/* Exactly i bytes on the heap so ASan sees any overread. */
			copy = malloc(i ? i : 1);
			CU_ASSERT_FATAL(copy != NULL);
			memcpy(copy, f, i);
			CU_ASSERT_EQUAL(hd_fastpath_handle(&ctx, copy, (uint16_t)i, (uint16_t)i, &out),
					HD_FP_DROP);
			free(copy);
		}
		CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], n);
		CU_ASSERT_EQUAL(st.c[HD_STAT_rx_packets], n);
		CU_ASSERT_EQUAL(st.c[HD_STAT_queries], 0);
		/* The whole frame is a hit, answered within the room given. */
		copy = malloc(n + 64);
		CU_ASSERT_FATAL(copy != NULL);
		memcpy(copy, f, n);
		CU_ASSERT_EQUAL(hd_fastpath_handle(&ctx, copy, (uint16_t)n, (uint16_t)(n + 64), &out),
				HD_FP_TX);
		CU_ASSERT(out > n && out <= n + 64);
		free(copy);
	}
}

static void
test_malformed_dropped(void)
{
	uint8_t dns[128], f[FRAME_CAP];
	struct qopts qo = { .id = 5 };
	struct qopts resp = { .id = 5, .flags = HD_DNS_QR };
	static const uint8_t other4[4] = { 10, 53, 0, 9 };
	static const uint8_t other6[16] = { 0xfd, 0x53, [15] = 2 };
	uint16_t out;
	size_t dl, n, l3 = 14, l4 = 34, expect = 0;

	reset();
	cache_put("m.example", 1, 300);
	dl = dns_query(dns, "m.example", HD_DNS_TYPE_A, &qo);

#define DROPPED(mutate, ...) do { \
		struct fopts fo = { .pad = 0, __VA_ARGS__ }; \
		n = build_frame(f, &fo, dns, dl); \
		mutate; \
		CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP); \
		CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], ++expect); \
	} while (0)

	/* UDP length longer than the IP payload, shorter than a header, or the DNS header. */
	DROPPED(put16(f + l4 + 4, (uint16_t)(get16(f + l4 + 4) + 1)));
	DROPPED(put16(f + l4 + 4, 7));
	DROPPED(put16(f + l4 + 4, 8 + 11));
	DROPPED(put16(f + 54 + 4, (uint16_t)(get16(f + 54 + 4) + 1)), .v6 = 1);
	/* IPv4 lengths and header fields that lie. */
	DROPPED(f[l3] = 0x44);
	DROPPED(f[l3] = 0x46);
	DROPPED(f[l3] = 0x4f);
	DROPPED(f[l3] = 0x55);
	DROPPED(put16(f + l3 + 2, (uint16_t)(n - l3 + 1)));
	DROPPED(put16(f + l3 + 2, 20 + 7));
	DROPPED(put16(f + l3 + 2, 19));
	/* Fragments: first (MF), middle, last. */
	DROPPED((void)0, .frag = 0x2000);
	DROPPED((void)0, .frag = 0x2010);
	DROPPED((void)0, .frag = 0x0010);
	DROPPED((void)0, .frag = 0x4001);
	/* IPv6: extension header, payload length lies, not version 6. */
	DROPPED((void)0, .v6 = 1, .hbh = 1);
	DROPPED(put16(f + l3 + 4, (uint16_t)(get16(f + l3 + 4) + 1)), .v6 = 1);
	DROPPED(f[l3] = 0x40, .v6 = 1);
	/* Not ours: port, address, protocol, ethertype, two tags, source port 0. */
	DROPPED((void)0, .dport = 5353);
	DROPPED((void)0, .dst = other4);
	DROPPED((void)0, .v6 = 1, .dst = other6);
	DROPPED(f[l3 + 9] = 6);
	DROPPED(put16(f + 12, 0x88cc));
	DROPPED(put16(f + 16, 0x8100), .vlan = 0x88a8);
	DROPPED(put16(f + l4, 0), .sport = 0);
	/* Sources nobody can be answered at: multicast, broadcast, loopback, group MAC. */
	DROPPED(f[l3 + 12] = 224);
	DROPPED(memset(f + l3 + 12, 0xff, 4));
	DROPPED(f[l3 + 12] = 127);
	DROPPED(f[l3 + 12] = 0);
	DROPPED(f[l3 + 8] = 0xff, .v6 = 1);
	DROPPED(memset(f + l3 + 8, 0, 16), .v6 = 1);
	DROPPED((memset(f + l3 + 8, 0, 16), f[l3 + 23] = 1), .v6 = 1);
	DROPPED(f[6] = 0x01);
	DROPPED(memset(f, 0xff, 6));
	DROPPED(f[0] = 0x33, .v6 = 1);
	/* A response sent to us, and an empty datagram. */
	dl = dns_query(dns, "m.example", HD_DNS_TYPE_A, &resp);
	DROPPED((void)0);
	dl = 0;
	DROPPED((void)0);
#undef DROPPED
	CU_ASSERT_EQUAL(st.c[HD_STAT_rx_packets], expect);
	CU_ASSERT_EQUAL(st.c[HD_STAT_queries], 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 0);
}

/*
 * With an exception port, what is not ours goes to the kernel unchanged;
 * DNS for us, ARP/NDP for our addresses and broken DNS are handled as before.
 */
static void
test_exception_path(void)
{
	static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	uint8_t dns[128], f[FRAME_CAP], q[FRAME_CAP];
	struct qopts qo = { .id = 9 };
	struct qopts resp = { .id = 9, .flags = HD_DNS_QR };
	struct fopts fo = { 0 }, fo6 = { .v6 = 1 };
	struct nsopts no = { .target = our_v6 };
	uint16_t out = 0;
	size_t dl, n, l3 = 14;

	/* ICMP echo to our address: dropped without an exception port. */
	reset();
	dl = dns_query(dns, "x.example", HD_DNS_TYPE_A, &qo);
	n = build_frame(f, &fo, dns, dl);
	f[l3 + 9] = 1;
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_to_kernel], 0);

	/* With one it goes to the kernel as it came. */
	reset();
	conf.to_kernel = 1;
	memcpy(q, f, n);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_KERNEL);
	CU_ASSERT(memcmp(f, q, n) == 0);
	/* DNS over TCP and UDP to another port of ours: the kernel's too. */
	f[l3 + 9] = 6;
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_KERNEL);
	n = build_frame(f, &(struct fopts){ .dport = 22 }, dns, dl);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_KERNEL);
	/* ICMPv6 to a solicited-node group MAC, ARP for others, ARP replies. */
	n = build_frame(f, &fo6, dns, dl);
	f[l3 + 6] = 58;
	f[0] = 0x33;
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_KERNEL);
	n = arp_request(f, cli_v4, 0);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_KERNEL);
	n = arp_request(f, our_v4, 0);
	put16(f + l3 + 6, 2);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_KERNEL);
	CU_ASSERT_EQUAL(st.c[HD_STAT_to_kernel], 6);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 0);

	/* Still answered here: ARP and NDP for our addresses, DNS from the cache. */
	n = arp_request(f, our_v4, 0);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_TX);
	CU_ASSERT_EQUAL(st.c[HD_STAT_arp_replies], 1);
	n = ns_frame(f, &no);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_TX);
	CU_ASSERT_EQUAL(st.c[HD_STAT_nd_replies], 1);
	n = build_frame(f, &fo, dns, dl);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_MISS);
	cache_put("x.example", 1, 300);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_TX);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_to_kernel], 6);

	/* Dropped as before: broken DNS to our port, other stations' frames, runts. */
	dl = dns_query(dns, "x.example", HD_DNS_TYPE_A, &resp);
	n = build_frame(f, &fo, dns, dl);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	n = build_frame(f, &fo, dns, 0);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	n = build_frame(f, &fo, dns, dl);
	f[l3 + 9] = 1;
	memcpy(f, other_mac, 6);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_DROP);
	CU_ASSERT_EQUAL(handle(f, 13, &out), HD_FP_DROP);
	CU_ASSERT_EQUAL(st.c[HD_STAT_dropped], 4);
	CU_ASSERT_EQUAL(st.c[HD_STAT_to_kernel], 6);
}

/* Random damage to valid frames: any verdict, but consistent and in bounds. */
static void
test_random_damage(void)
{
	uint8_t dns[128], f[FRAME_CAP], *buf;
	struct qopts qo = { .id = 11, .edns = 1, .edns_size = 1400 };
	uint16_t out;
	size_t dl, n, i, k;
	unsigned int seed = 12345;
	enum hd_fp_verdict v;

	reset();
	cache_put("r.example", 3, 300);
	dl = dns_query(dns, "r.example", HD_DNS_TYPE_A, &qo);
	for (i = 0; i < 20000; i++) {
		struct fopts fo = { .v6 = (int)(i & 1), .vlan = (i & 2) ? 0x8100 : 0 };

		n = build_frame(f, &fo, dns, dl);
		for (k = 0; k < 1 + (size_t)(rand_r(&seed) % 4); k++)
			f[(size_t)rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
		buf = malloc(n + 64);
		CU_ASSERT_FATAL(buf != NULL);
		memcpy(buf, f, n);
		out = 0;
		v = hd_fastpath_handle(&ctx, buf, (uint16_t)n, (uint16_t)(n + 64), &out);
		CU_ASSERT(v == HD_FP_DROP || v == HD_FP_TX || v == HD_FP_MISS);
		if (v == HD_FP_TX)
			CU_ASSERT(out >= 14 && out <= n + 64);
		free(buf);
	}
	CU_ASSERT_EQUAL(st.c[HD_STAT_rx_packets], 20000);
}

/* The slow path's side: reply to a frame that came back as a miss. */
static void
test_slow_path_reply(void)
{
	uint8_t dns[128], f[FRAME_CAP], q[FRAME_CAP], rm[512];
	struct qopts qo = { .id = 0x7777, .flags = HD_DNS_RD, .edns = 1, .edns_size = 1232 };
	struct fopts fos[] = { { 0 }, { .v6 = 1, .vlan = 0x8100 } };
	struct hd_stats_lcore sst;
	struct hd_dns_query dq;
	struct hd_dns_answer *a;
	struct hd_dns_answer_limits lim = { 0 };
	uint16_t out;
	size_t k, dl, n, d, rl;
	int len, err;

	reset();
	dl = dns_query(dns, "Slow.Example.com", HD_DNS_TYPE_A, &qo);
	for (k = 0; k < RTE_DIM(fos); k++) {
		memset(&sst, 0, sizeof(sst));
		n = build_frame(f, &fos[k], dns, dl);
		memcpy(q, f, n);
		CU_ASSERT_EQUAL_FATAL(handle(f, n, &out), HD_FP_MISS);
		CU_ASSERT_EQUAL_FATAL(hd_fastpath_query(&conf, f, (uint16_t)n, &dq), 0);
		CU_ASSERT_EQUAL(dq.id, 0x7777);
		CU_ASSERT_EQUAL(dq.qtype, HD_DNS_TYPE_A);
		CU_ASSERT(memcmp(dq.lname, "\x04slow\x07" "example\x03" "com", 18) == 0);

		rl = upstream_reply(rm, "slow.example.com", 1, 120);
		a = hd_dns_answer_build(rm, rl, &dq, T0, &lim, &err);
		CU_ASSERT_FATAL(a != NULL);
		len = hd_fastpath_reply(&conf, &sst, f, (uint16_t)n, FRAME_CAP, a, 0, T0 + 20, 0);
		CU_ASSERT_FATAL(len > 0);
		d = check_reply_frame(f, (size_t)len, q);
		CU_ASSERT_EQUAL(get16(f + d), 0x7777);
		CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, 0);
		CU_ASSERT_EQUAL(get16(f + d + 6), 1);
		CU_ASSERT(memcmp(f + d + 12, q + d + 12, 18) == 0);
		CU_ASSERT_EQUAL(get32(f + skip_name(f, d + 12 + 18 + 4) + 4), 100);

		/* Served stale: every TTL is the one given. */
		memcpy(f, q, n);
		len = hd_fastpath_reply(&conf, &sst, f, (uint16_t)n, FRAME_CAP, a, 0, T0 + 500, 30);
		CU_ASSERT_FATAL(len > 0);
		d = check_reply_frame(f, (size_t)len, q);
		CU_ASSERT_EQUAL(get32(f + skip_name(f, d + 12 + 18 + 4) + 4), 30);
		free(a);

		memcpy(f, q, n);
		len = hd_fastpath_reply(&conf, &sst, f, (uint16_t)n, FRAME_CAP, NULL,
					HD_DNS_RCODE_SERVFAIL, T0, 0);
		CU_ASSERT_FATAL(len > 0);
		d = check_reply_frame(f, (size_t)len, q);
		CU_ASSERT_EQUAL(get16(f + d), 0x7777);
		CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_SERVFAIL);
		CU_ASSERT(get16(f + d + 2) & HD_DNS_RD);
		CU_ASSERT_EQUAL(get16(f + d + 6), 0);
		CU_ASSERT_EQUAL(sst.c[HD_STAT_servfail], 1);

		/* A frame that is not a query for us is refused, not rewritten. */
		memcpy(f, q, n);
		f[12] = 0x12;
		CU_ASSERT(hd_fastpath_reply(&conf, &sst, f, (uint16_t)n, FRAME_CAP, NULL,
					    HD_DNS_RCODE_SERVFAIL, T0, 0) < 0);
		CU_ASSERT(hd_fastpath_query(&conf, f, (uint16_t)n, &dq) < 0);
	}
}


/* ---- policy: local data, blocking, cloaking ---- */

static const uint8_t kid_v4[4] = { 10, 53, 0, 101 };
static const uint8_t adult_v4[4] = { 10, 53, 0, 102 };
static uint64_t hits[HD_FILTER_LISTS_MAX];

struct tlist {
	const char *name;
	const char *text;
	enum hd_filter_syntax syntax;
	int allow;
	enum hd_filter_mode mode;
	int has_v4;
};

/* A filter of @p n lists (TTL 42, custom address 10.9.9.9 where asked), and groups. */
static struct hd_filter *
filter_make(const struct tlist *l, unsigned int n, int groups)
{
	static const char *const kids[] = { "10.53.0.101/32" };
	static const char *const adults[] = { "10.53.0.102" };
	static const char *const kid_lists[] = { "ads", "ok" };
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter_report rep;
	char err[256];
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (i = 0; i < n; i++) {
		struct hd_filter_list_spec spec = {
			.name = l[i].name, .source = l[i].name, .syntax = l[i].syntax,
			.allow = l[i].allow,
			.response = { .mode = l[i].mode, .ttl = 42, .v4 = { 10, 9, 9, 9 },
				      .has_v4 = (uint8_t)l[i].has_v4 },
		};

		CU_ASSERT_EQUAL_FATAL(hd_filter_builder_add_list(b, &spec, l[i].text,
								 strlen(l[i].text), &rep), (int)i);
	}
	if (groups) {
		CU_ASSERT_EQUAL_FATAL(hd_filter_builder_add_group(b, "kids", kids, 1, kid_lists, 2,
								  err, sizeof(err)), 0);
		CU_ASSERT_EQUAL_FATAL(hd_filter_builder_add_group(b, "adults", adults, 1, NULL, 0,
								  err, sizeof(err)), 0);
	}
	return hd_filter_build(b);
}

static void
policy_on(struct hd_fastpath_policy *p)
{
	memset(hits, 0, sizeof(hits));
	ctx.policy = p;
	ctx.filter_hits = hits;
}

/* Offset of the OPT RR's RDATA in reply message @p m, or 0 when it has none. */
static size_t
opt_rdata(const uint8_t *m, size_t len)
{
	size_t off = skip_name(m, 12) + 4;
	unsigned int n = get16(m + 6) + get16(m + 8), ar = get16(m + 10), i;

	for (i = 0; i < n; i++) {
		off = skip_name(m, off);
		off += 10 + get16(m + off + 8);
	}
	for (i = 0; i < ar && off < len; i++) {
		off = skip_name(m, off);
		if (get16(m + off) == HD_DNS_TYPE_OPT)
			return off + 10;
		off += 10 + get16(m + off + 8);
	}
	return 0;
}

/* The EDE of reply @p m: info code and text into @p text; -1 when absent. */
static int
ede_of(const uint8_t *m, size_t len, char *text, size_t cap)
{
	size_t o = opt_rdata(m, len), tl;

	if (o == 0 || get16(m + o - 2) < 6 || get16(m + o) != HD_DNS_OPT_EDE)
		return -1;
	tl = get16(m + o + 2) - 2;
	if (tl >= cap)
		tl = cap - 1;
	memcpy(text, m + o + 6, tl);
	text[tl] = '\0';
	return get16(m + o + 4);
}

/* Query @p name/@p qtype from @p src through the fast path; the reply's DNS offset, 0 if none. */
static size_t
ask(uint8_t *f, uint16_t *out, const char *name, uint16_t qtype, int edns, const uint8_t *src,
    enum hd_fp_verdict want)
{
	uint8_t dns[256], q[FRAME_CAP];
	struct qopts qo = { .id = 0x5151, .flags = HD_DNS_RD, .edns = edns, .edns_size = 1232 };
	struct fopts fo = { .src = src };
	size_t dl = dns_query(dns, name, qtype, &qo), n = build_frame(f, &fo, dns, dl);
	enum hd_fp_verdict v;

	memcpy(q, f, n);
	v = handle(f, n, out);
	CU_ASSERT_EQUAL(v, want);
	if (v != want)
		fprintf(stderr, "%s/%u: verdict %d, wanted %d\n", name, qtype, v, want);
	if (v == HD_FP_MISS)
		CU_ASSERT(memcmp(f, q, n) == 0);
	if (v != HD_FP_TX)
		return 0;
	return check_reply_frame(f, *out, q);
}

static void
test_local_answers(void)
{
	struct hd_localzone_builder *b = hd_localzone_builder_create();
	struct hd_fastpath_policy p = { .generation = 1 };
	struct hd_localzone *lz;
	uint8_t f[FRAME_CAP];
	char err[256];
	uint16_t out;
	size_t d, rr;

	reset();
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(hd_localzone_add_record(b, "nas.lab.test 600 A 192.168.1.10",
						      "test", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(hd_localzone_builder_add_zone(b, "lab.test", err, sizeof(err)), 0);
	lz = hd_localzone_build(b, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(lz);
	p.local = lz;
	policy_on(&p);
	/* Cached too: local data wins over the cache. */
	cache_put("nas.lab.test", 1, 300);

	d = ask(f, &out, "NAS.lab.test", HD_DNS_TYPE_A, 0, NULL, HD_FP_TX);
	CU_ASSERT_FATAL(d != 0);
	CU_ASSERT_EQUAL(get16(f + d) , 0x5151);
	CU_ASSERT(get16(f + d + 2) & HD_DNS_AA);
	CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(get16(f + d + 6), 1);
	rr = skip_name(f + d, 12 + 14 + 4);
	CU_ASSERT_EQUAL(get16(f + d + rr), HD_DNS_TYPE_A);
	CU_ASSERT_EQUAL(get32(f + d + rr + 4), 600);
	CU_ASSERT(memcmp(f + d + rr + 10, "\xc0\xa8\x01\x0a", 4) == 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_local_answers], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 0);

	/* A name under the zone without records: NXDOMAIN with the SOA. */
	d = ask(f, &out, "nope.lab.test", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT_FATAL(d != 0);
	CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(get16(f + d + 8), 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_local_answers], 2);

	/* Outside the local data: the cache and the slow path as before. */
	ask(f, &out, "elsewhere.example.org", HD_DNS_TYPE_A, 0, NULL, HD_FP_MISS);
	CU_ASSERT_EQUAL(st.c[HD_STAT_local_answers], 2);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_misses], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_queries], 3);

	/* DNS over TCP takes the same path through hd_fastpath_policy_apply(). */
	{
		uint8_t m[512];
		struct qopts qo = { .id = 9 };
		struct hd_dns_query q;
		size_t ml = dns_query(m, "nas.lab.test", HD_DNS_TYPE_A, &qo);
		int n;

		CU_ASSERT_FATAL(hd_dns_query_parse(m, ml, &q) == 0);
		n = hd_fastpath_policy_apply(&p, hits, &st, cli_v4, 0, &q, m, 0, sizeof(m), 65535);
		CU_ASSERT(n > (int)ml);
		CU_ASSERT_EQUAL(get16(m + 6), 1);
		CU_ASSERT_EQUAL(st.c[HD_STAT_local_answers], 3);
		ml = dns_query(m, "www.example.org", HD_DNS_TYPE_A, &qo);
		CU_ASSERT_FATAL(hd_dns_query_parse(m, ml, &q) == 0);
		CU_ASSERT_EQUAL(hd_fastpath_policy_apply(&p, hits, &st, cli_v4, 0, &q, m, 0,
							 sizeof(m), 65535), 0);
	}
	hd_localzone_free(lz);
	reset();
}

/* Every block mode for A, AAAA and MX, with and without EDNS. */
static void
test_block_modes(void)
{
	static const struct {
		enum hd_filter_mode mode;
		int has_v4;
		int rcode;
		int an_a, an_aaaa;	/* records for A and AAAA; MX always NODATA */
		uint8_t a[4];
	} modes[] = {
		{ HD_FILTER_MODE_NXDOMAIN, 0, HD_DNS_RCODE_NXDOMAIN, 0, 0, { 0 } },
		{ HD_FILTER_MODE_NODATA, 0, HD_DNS_RCODE_NOERROR, 0, 0, { 0 } },
		{ HD_FILTER_MODE_NULL, 0, HD_DNS_RCODE_NOERROR, 1, 1, { 0, 0, 0, 0 } },
		{ HD_FILTER_MODE_CUSTOM, 1, HD_DNS_RCODE_NOERROR, 1, 0, { 10, 9, 9, 9 } },
		{ HD_FILTER_MODE_CUSTOM, 0, HD_DNS_RCODE_NOERROR, 0, 0, { 0 } },
		{ HD_FILTER_MODE_REFUSED, 0, HD_DNS_RCODE_REFUSED, 0, 0, { 0 } },
	};
	static const uint8_t v6_zero[16];
	uint8_t f[FRAME_CAP];
	char text[128];
	uint16_t out;
	size_t d, rr;
	unsigned int i;

	for (i = 0; i < RTE_DIM(modes); i++) {
		struct tlist l = { "ads", "# ads\nads.test\n", HD_FILTER_SYNTAX_DOMAINS, 0,
				   modes[i].mode, modes[i].has_v4 };
		struct hd_fastpath_policy p = { .generation = 1 };
		struct hd_filter *flt = filter_make(&l, 1, 0);

		CU_ASSERT_PTR_NOT_NULL_FATAL(flt);
		reset();
		p.filter = flt;
		policy_on(&p);

		d = ask(f, &out, "Ads.Test", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
		CU_ASSERT_FATAL(d != 0);
		CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, modes[i].rcode);
		CU_ASSERT_EQUAL(get16(f + d + 6), modes[i].an_a);
		if (modes[i].an_a) {
			rr = skip_name(f + d, 12 + 10 + 4);
			CU_ASSERT_EQUAL(get16(f + d + rr), HD_DNS_TYPE_A);
			CU_ASSERT_EQUAL(get32(f + d + rr + 4), 42);
			CU_ASSERT_EQUAL(get16(f + d + rr + 8), 4);
			CU_ASSERT(memcmp(f + d + rr + 10, modes[i].a, 4) == 0);
		}
		/* The client sent EDNS: the reply says why (RFC 8914 code 15). */
		CU_ASSERT_EQUAL(ede_of(f + d, out - d, text, sizeof(text)), HD_DNS_EDE_BLOCKED);
		CHECK_TEXT(text, "blocked by list ads");

		d = ask(f, &out, "ads.test", HD_DNS_TYPE_AAAA, 0, NULL, HD_FP_TX);
		CU_ASSERT_FATAL(d != 0);
		CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, modes[i].rcode);
		CU_ASSERT_EQUAL(get16(f + d + 6), modes[i].an_aaaa);
		if (modes[i].an_aaaa) {
			rr = skip_name(f + d, 12 + 10 + 4);
			CU_ASSERT_EQUAL(get16(f + d + rr), HD_DNS_TYPE_AAAA);
			CU_ASSERT(memcmp(f + d + rr + 10, v6_zero, 16) == 0);
		}
		/* No EDNS in the query: no OPT, so no EDE, in the reply. */
		CU_ASSERT_EQUAL(get16(f + d + 10), 0);
		CU_ASSERT_EQUAL(ede_of(f + d, out - d, text, sizeof(text)), -1);

		d = ask(f, &out, "ads.test", HD_DNS_TYPE_MX, 1, NULL, HD_FP_TX);
		CU_ASSERT_FATAL(d != 0);
		CU_ASSERT_EQUAL(get16(f + d + 6), 0);

		/* Hosts/domains lists block the names they list, not their subdomains. */
		ask(f, &out, "www.ads.test", HD_DNS_TYPE_A, 0, NULL, HD_FP_MISS);
		CU_ASSERT_EQUAL(st.c[HD_STAT_blocked], 3);
		CU_ASSERT_EQUAL(st.c[HD_STAT_refused],
				modes[i].mode == HD_FILTER_MODE_REFUSED ? 3 : 0);
		CU_ASSERT_EQUAL(hits[0], 3);
		CU_ASSERT_EQUAL(st.c[HD_STAT_cache_misses], 1);
		hd_filter_free(flt);
	}
	reset();
}

/* An allowlist wins over the blocklist; the allowlist's hits are counted. */
static void
test_allowlist(void)
{
	static const struct tlist l[] = {
		{ "ads", "||ads.test^\n", HD_FILTER_SYNTAX_ADBLOCK, 0, HD_FILTER_MODE_NXDOMAIN, 0 },
		{ "ok", "ok.ads.test\n", HD_FILTER_SYNTAX_DOMAINS, 1, HD_FILTER_MODE_NXDOMAIN, 0 },
	};
	struct hd_fastpath_policy p = { .generation = 1 };
	struct hd_filter *flt = filter_make(l, 2, 0);
	uint8_t f[FRAME_CAP];
	uint16_t out;
	size_t d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(flt);
	reset();
	p.filter = flt;
	policy_on(&p);
	d = ask(f, &out, "x.ads.test", HD_DNS_TYPE_A, 0, NULL, HD_FP_TX);
	CU_ASSERT(d != 0 && (get16(f + d + 2) & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_NXDOMAIN);
	ask(f, &out, "ok.ads.test", HD_DNS_TYPE_A, 0, NULL, HD_FP_MISS);
	CU_ASSERT_EQUAL(st.c[HD_STAT_blocked], 1);
	CU_ASSERT_EQUAL(hits[0], 1);
	CU_ASSERT_EQUAL(hits[1], 1);
	hd_filter_free(flt);
	reset();
}

/* Groups: the same name from three clients, three outcomes. */
static void
test_groups(void)
{
	static const struct tlist l[] = {
		{ "ads", "ads.test\n", HD_FILTER_SYNTAX_DOMAINS, 0, HD_FILTER_MODE_NXDOMAIN, 0 },
		{ "ok", "fine.test\n", HD_FILTER_SYNTAX_DOMAINS, 1, HD_FILTER_MODE_NXDOMAIN, 0 },
		{ "porn", "porn.test\n", HD_FILTER_SYNTAX_DOMAINS, 0, HD_FILTER_MODE_REFUSED, 0 },
	};
	struct hd_fastpath_policy p = { .generation = 1 };
	struct hd_filter *flt = filter_make(l, 3, 1);
	uint8_t f[FRAME_CAP];
	uint16_t out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(flt);
	reset();
	p.filter = flt;
	policy_on(&p);
	/* kids: ads and ok only; adults: no list; everyone else: every list. */
	ask(f, &out, "ads.test", HD_DNS_TYPE_A, 0, kid_v4, HD_FP_TX);
	ask(f, &out, "porn.test", HD_DNS_TYPE_A, 0, kid_v4, HD_FP_MISS);
	ask(f, &out, "ads.test", HD_DNS_TYPE_A, 0, adult_v4, HD_FP_MISS);
	ask(f, &out, "porn.test", HD_DNS_TYPE_A, 0, adult_v4, HD_FP_MISS);
	ask(f, &out, "ads.test", HD_DNS_TYPE_A, 0, NULL, HD_FP_TX);
	ask(f, &out, "porn.test", HD_DNS_TYPE_A, 0, NULL, HD_FP_TX);
	CU_ASSERT_EQUAL(st.c[HD_STAT_blocked], 3);
	CU_ASSERT_EQUAL(hits[0], 2);
	CU_ASSERT_EQUAL(hits[2], 1);
	hd_filter_free(flt);
	reset();
}

/* An upstream reply: @p name CNAME @p target, @p target A 192.0.2.7. */
static size_t
cname_reply(uint8_t *m, const char *name, const char *target)
{
	size_t n = 12, tl;

	memset(m, 0, 12);
	put16(m, 0x4242);
	put16(m + 2, HD_DNS_QR | HD_DNS_RD | HD_DNS_RA);
	put16(m + 4, 1);
	put16(m + 6, 2);
	n += name_wire(m + n, name);
	put16(m + n, HD_DNS_TYPE_A);
	put16(m + n + 2, HD_DNS_CLASS_IN);
	n += 4;
	put16(m + n, 0xc00c);
	put16(m + n + 2, HD_DNS_TYPE_CNAME);
	put16(m + n + 4, HD_DNS_CLASS_IN);
	put32(m + n + 6, 300);
	tl = name_wire(m + n + 12, target);
	put16(m + n + 10, (uint16_t)tl);
	n += 12 + tl;
	n += name_wire(m + n, target);
	put16(m + n, HD_DNS_TYPE_A);
	put16(m + n + 2, HD_DNS_CLASS_IN);
	put32(m + n + 4, 300);
	put16(m + n + 8, 4);
	memcpy(m + n + 10, "\xc0\x00\x02\x07", 4);
	return n + 14;
}

static struct hd_dns_answer *
cname_answer(const char *name, const char *target, struct hd_cache_key *k)
{
	uint8_t qm[256], rm[512];
	struct qopts qo = { .id = 1 };
	struct hd_dns_answer_limits lim = { 0 };
	struct hd_dns_answer *a;
	struct hd_dns_query q;
	size_t ql = dns_query(qm, name, HD_DNS_TYPE_A, &qo), rl = cname_reply(rm, name, target);
	int err;

	CU_ASSERT_FATAL(hd_dns_query_parse(qm, ql, &q) == 0);
	a = hd_dns_answer_build(rm, rl, &q, T0, &lim, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(a->has_cname);
	if (k != NULL)
		hd_cache_key_from_query(k, &q);
	return a;
}

/* CNAME cloaking: a cached answer through a blocked name is blocked per client. */
static void
test_cloaking(void)
{
	static const struct tlist l[] = {
		{ "ads", "tracker.ads.test\n", HD_FILTER_SYNTAX_DOMAINS, 0, HD_FILTER_MODE_NXDOMAIN,
		  0 },
		{ "ok", "fine.test\n", HD_FILTER_SYNTAX_DOMAINS, 1, HD_FILTER_MODE_NXDOMAIN, 0 },
	};
	struct hd_fastpath_policy p = { .generation = 1 };
	struct hd_filter *flt = filter_make(l, 2, 1);
	struct hd_cache_key k __rte_aligned(8);
	uint8_t f[FRAME_CAP], dns[128], q[FRAME_CAP];
	struct hd_dns_answer *a;
	struct qopts qo = { .id = 3, .edns = 1, .edns_size = 1232 };
	struct fopts fo = { 0 };
	char text[128];
	uint16_t out;
	size_t d, n;
	int len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(flt);
	reset();
	p.filter = flt;
	a = cname_answer("www.shop.test", "tracker.ads.test", &k);
	CU_ASSERT_FATAL(hd_cache_insert(cache, &k, a, T0) == 0);
	policy_on(&p);

	d = ask(f, &out, "www.shop.test", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT_FATAL(d != 0);
	CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(get16(f + d + 6), 0);
	CU_ASSERT_EQUAL(ede_of(f + d, out - d, text, sizeof(text)), HD_DNS_EDE_BLOCKED);
	CHECK_TEXT(text, "blocked: CNAME to a blocked name by list ads");
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_blocked], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cname_blocked], 1);
	CU_ASSERT_EQUAL(hits[0], 1);

	/* A client whose group uses no list gets the answer itself. */
	d = ask(f, &out, "www.shop.test", HD_DNS_TYPE_A, 1, adult_v4, HD_FP_TX);
	CU_ASSERT_FATAL(d != 0);
	CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(get16(f + d + 6), 2);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cname_blocked], 1);

	/* Without a policy the same hit is answered as before. */
	ctx.policy = NULL;
	d = ask(f, &out, "www.shop.test", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT(d != 0 && get16(f + d + 6) == 2);

	/* The slow path applies it to an upstream's answer (and over TCP). */
	a = cname_answer("cdn.shop.test", "tracker.ads.test", NULL);
	memset(&st, 0, sizeof(st));
	n = build_frame(f, &fo, dns, dns_query(dns, "cdn.shop.test", HD_DNS_TYPE_A, &qo));
	memcpy(q, f, n);
	len = hd_fastpath_reply_policy(&conf, &st, &p, hits, f, (uint16_t)n, FRAME_CAP, a, 0,
				       T0, 0);
	CU_ASSERT_FATAL(len > 0);
	d = check_reply_frame(f, (size_t)len, q);
	CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cname_blocked], 1);
	memcpy(f, q, n);
	len = hd_fastpath_reply_policy(&conf, &st, NULL, NULL, f, (uint16_t)n, FRAME_CAP, a, 0,
				       T0, 0);
	CU_ASSERT_FATAL(len > 0);
	d = check_reply_frame(f, (size_t)len, q);
	CU_ASSERT_EQUAL(get16(f + d + 6), 2);
	{
		uint8_t m[1024];
		struct hd_dns_query dq;
		size_t ml = dns_query(m, "cdn.shop.test", HD_DNS_TYPE_A, &qo);
		int rl;

		CU_ASSERT_FATAL(hd_dns_query_parse(m, ml, &dq) == 0);
		rl = hd_dns_reply_answer(m, sizeof(m), &dq, a, T0, 0, 65535);
		CU_ASSERT_FATAL(rl > 0);
		CU_ASSERT(hd_fastpath_policy_apply(&p, hits, &st, cli_v4, 0, &dq, m, (size_t)rl,
						   sizeof(m), 65535) > 0);
		CU_ASSERT_EQUAL(get16(m + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NXDOMAIN);
		CU_ASSERT_EQUAL(st.c[HD_STAT_cname_blocked], 2);
		/* From a bypassing client the reply stands. */
		rl = hd_dns_reply_answer(m, sizeof(m), &dq, a, T0, 0, 65535);
		CU_ASSERT_EQUAL(hd_fastpath_policy_apply(&p, hits, &st, adult_v4, 0, &dq, m,
							 (size_t)rl, sizeof(m), 65535), 0);
	}
	free(a);
	hd_filter_free(flt);
	reset();
}

/* Without a cache every valid query is a miss. */
static void
test_no_cache(void)
{
	uint8_t dns[128], f[FRAME_CAP];
	struct qopts qo = { .id = 1 };
	struct fopts fo = { 0 };
	uint16_t out;
	size_t dl, n;

	reset();
	cache_put("nc.example", 1, 300);
	ctx.cache = NULL;
	dl = dns_query(dns, "nc.example", HD_DNS_TYPE_A, &qo);
	n = build_frame(f, &fo, dns, dl);
	CU_ASSERT_EQUAL(handle(f, n, &out), HD_FP_MISS);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_misses], 1);
}

/* TTL of the first answer record of the reply at @p d. */
static uint32_t
first_ttl(const uint8_t *f, size_t d)
{
	size_t rr = skip_name(f + d, skip_name(f + d, 12) + 4);

	return get32(f + d + rr + 4);
}

static int
refresh_is(const char *name)
{
	uint8_t wire[256];
	size_t n = name_wire(wire, name);

	return ctx.refresh_pending && ctx.refresh_q.qname_len == n &&
	       memcmp(ctx.refresh_q.lname, wire, n) == 0 &&
	       ctx.refresh_q.qtype == HD_DNS_TYPE_A;
}

static void
test_serve_stale(void)
{
	uint8_t f[FRAME_CAP];
	uint16_t out = 0;
	size_t d;

	reset();
	conf.serve_stale = 1;
	conf.stale_ttl = 7;
	cache_put_stale("stale.example", 1, 60, 600);

	/* Fresh: normal TTL, no EDE, nothing to refresh. */
	ctx.now = T0 + 10;
	d = ask(f, &out, "stale.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT_FATAL(d != 0);
	CU_ASSERT_EQUAL(first_ttl(f, d), 50);
	CU_ASSERT_EQUAL(ede_of(f + d, out - d, (char[8]){ 0 }, 8), -1);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	CU_ASSERT_EQUAL(st.c[HD_STAT_stale_answers], 0);

	/* Expired, within the window: the stale TTL, EDE 3 and a refresh. */
	ctx.now = T0 + 100;
	d = ask(f, &out, "STALE.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT_FATAL(d != 0);
	CU_ASSERT_EQUAL(get16(f + d + 2) & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(get16(f + d + 6), 1);
	CU_ASSERT_EQUAL(first_ttl(f, d), 7);
	CU_ASSERT_EQUAL(ede_of(f + d, out - d, (char[8]){ 0 }, 8), HD_DNS_EDE_STALE);
	CU_ASSERT(refresh_is("stale.example"));	/* lowercased for the slow path */
	CU_ASSERT_EQUAL(ctx.refresh_q.id, 0x5151);
	CU_ASSERT_EQUAL(st.c[HD_STAT_stale_answers], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_cache_hits], 2);
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 1);

	/* Asked again in the same second: answered, not asked upstream again. */
	d = ask(f, &out, "stale.example", HD_DNS_TYPE_A, 0, NULL, HD_FP_TX);
	CU_ASSERT_FATAL(d != 0);
	CU_ASSERT_EQUAL(first_ttl(f, d), 7);
	/* No EDNS in the query: no OPT, so no EDE. */
	CU_ASSERT_EQUAL(get16(f + d + 10), 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	CU_ASSERT_EQUAL(st.c[HD_STAT_stale_answers], 2);
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 1);

	/* A second later it is asked for again. */
	ctx.now++;
	CU_ASSERT(ask(f, &out, "stale.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX) != 0);
	CU_ASSERT(refresh_is("stale.example"));
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 2);

	/* Without a configured stale TTL, 30 s (RFC 8767). */
	conf.stale_ttl = 0;
	d = ask(f, &out, "stale.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT(d != 0 && first_ttl(f, d) == HD_FP_STALE_TTL);

	/* Past the window: a miss, and no refresh (the miss goes upstream anyway). */
	ctx.now = T0 + 60 + 600;
	CU_ASSERT_EQUAL(ask(f, &out, "stale.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_MISS), 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	CU_ASSERT_EQUAL(st.c[HD_STAT_stale_answers], 4);
}

static void
test_no_stale_without_config(void)
{
	uint8_t f[FRAME_CAP];
	uint16_t out = 0;

	reset();
	cache_put_stale("nostale.example", 1, 60, 600);
	ctx.now = T0 + 100;
	CU_ASSERT_EQUAL(ask(f, &out, "nostale.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_MISS), 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	CU_ASSERT_EQUAL(st.c[HD_STAT_stale_answers], 0);
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 0);
	/* Prefetch alone does not serve stale either. */
	conf.prefetch = 1;
	CU_ASSERT_EQUAL(ask(f, &out, "nostale.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_MISS), 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
}

static void
test_prefetch(void)
{
	uint8_t f[FRAME_CAP];
	uint16_t out = 0;
	size_t d;

	reset();
	conf.prefetch = 1;
	cache_put("pre.example", 1, 100);
	cache_put("short.example", 1, 9);

	/* Well before expiry: nothing. */
	ctx.now = T0 + 50;
	CU_ASSERT(ask(f, &out, "pre.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX) != 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	/* Just over a tenth left: nothing yet. */
	ctx.now = T0 + 89;
	CU_ASSERT(ask(f, &out, "pre.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX) != 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	/* A tenth left: in the last tenth, answered as usual, and refreshed. */
	ctx.now = T0 + 90;
	d = ask(f, &out, "pre.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT(d != 0 && first_ttl(f, d) == 10);
	CU_ASSERT(d != 0 && ede_of(f + d, out - d, (char[8]){ 0 }, 8) == -1);
	CU_ASSERT(refresh_is("pre.example"));
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 1);
	CU_ASSERT_EQUAL(st.c[HD_STAT_stale_answers], 0);
	/* Once per second. */
	CU_ASSERT(ask(f, &out, "pre.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX) != 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	ctx.now = T0 + 91;
	d = ask(f, &out, "pre.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX);
	CU_ASSERT(d != 0 && first_ttl(f, d) == 9);
	CU_ASSERT(refresh_is("pre.example"));
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 2);

	/* The shortest TTL prefetched (10 s) gets its last second. */
	cache_put("ten.example", 1, 10);
	ctx.now = T0 + 9;
	CU_ASSERT(ask(f, &out, "ten.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX) != 0);
	CU_ASSERT(refresh_is("ten.example"));
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 3);

	/* Entries shorter than 10 s are never prefetched. */
	ctx.now = T0 + 8;
	CU_ASSERT(ask(f, &out, "short.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX) != 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);

	/* Prefetch off: nothing, even in the last second. */
	conf.prefetch = 0;
	ctx.now = T0 + 99;
	CU_ASSERT(ask(f, &out, "pre.example", HD_DNS_TYPE_A, 1, NULL, HD_FP_TX) != 0);
	CU_ASSERT_FALSE(ctx.refresh_pending);
	CU_ASSERT_EQUAL(st.c[HD_STAT_prefetches], 3);
}

static void
test_slow_path_stale_reply(void)
{
	uint8_t dns[128], f[FRAME_CAP], q[FRAME_CAP];
	struct qopts qo = { .id = 9, .edns = 1, .edns_size = 1232 };
	struct fopts fo = { 0 };
	struct hd_cache_key k __rte_aligned(8);
	const struct hd_dns_answer *a;
	struct hd_dns_query hq;
	int stale = 0, n;
	size_t dl, fl, d;

	reset();
	cache_put_stale("slowstale.example", 1, 60, 600);
	dl = dns_query(dns, "slowstale.example", HD_DNS_TYPE_A, &qo);
	fl = build_frame(f, &fo, dns, dl);
	memcpy(q, f, fl);
	CU_ASSERT_FATAL(hd_fastpath_query(&conf, f, (uint16_t)fl, &hq) == 0);
	hd_cache_key_from_query(&k, &hq);
	a = hd_cache_lookup(cache, &k, T0 + 100, &stale);
	CU_ASSERT_FATAL(a != NULL && stale);
	/* Every upstream failed: the slow path serves it stale, saying so. */
	n = hd_fastpath_reply(&conf, &st, f, (uint16_t)fl, FRAME_CAP, a, 0, T0 + 100, 30);
	CU_ASSERT_FATAL(n > 0);
	d = check_reply_frame(f, (size_t)n, q);
	CU_ASSERT_EQUAL(first_ttl(f, d), 30);
	CU_ASSERT_EQUAL(ede_of(f + d, (size_t)n - d, (char[8]){ 0 }, 8), HD_DNS_EDE_STALE);
}

int
main(void)
{
	char *eal_args[] = { "test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			     "--log-level=lib.*:error", "-l", "0-1",
			     "--file-prefix=test_fastpath" };
	struct hd_cache_params cp = {
		.name = "test_fastpath", .max_entries = 1024, .socket_id = SOCKET_ID_ANY,
	};
	CU_pSuite s;
	int fails;

	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	cache = hd_cache_create(&cp);
	if (cache == NULL) {
		fprintf(stderr, "hd_cache_create failed\n");
		return 1;
	}
	memcpy(conf.mac.addr_bytes, our_mac, 6);
	memcpy(&conf.v4[0], our_v4, 4);
	memcpy(&conf.v4[1], our_v4b, 4);
	conf.n_v4 = 2;
	memcpy(conf.v6[0], our_v6, 16);
	conf.n_v6 = 1;
	conf.dns_port = 53;
	conf.udp_size = HD_DNS_EDNS_SIZE;
	ctx.conf = &conf;
	ctx.stats = &st;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("fastpath", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "classify offsets", test_classify) ||
	    !CU_add_test(s, "miss then hit, TTL aged, case echoed", test_miss_then_hit) ||
	    !CU_add_test(s, "hit over IPv6, VLAN, IPv4 options, padding",
			 test_hit_v6_vlan_options_padding) ||
	    !CU_add_test(s, "TC for a large answer without EDNS", test_tc_for_large_answer) ||
	    !CU_add_test(s, "FORMERR and NOTIMPL", test_formerr_notimpl) ||
	    !CU_add_test(s, "ARP replies", test_arp) ||
	    !CU_add_test(s, "NDP advertisements", test_ndp) ||
	    !CU_add_test(s, "truncated at every length", test_truncated_everywhere) ||
	    !CU_add_test(s, "malformed frames dropped and counted", test_malformed_dropped) ||
	    !CU_add_test(s, "exception port: the rest to the kernel", test_exception_path) ||
	    !CU_add_test(s, "random damage", test_random_damage) ||
	    !CU_add_test(s, "slow path reply", test_slow_path_reply) ||
	    !CU_add_test(s, "no cache", test_no_cache) ||
	    !CU_add_test(s, "local answers before the cache", test_local_answers) ||
	    !CU_add_test(s, "block modes, EDE iff EDNS", test_block_modes) ||
	    !CU_add_test(s, "allowlist exception", test_allowlist) ||
	    !CU_add_test(s, "client groups", test_groups) ||
	    !CU_add_test(s, "CNAME cloaking", test_cloaking) ||
	    !CU_add_test(s, "serve-stale: stale TTL, EDE 3, one refresh a second",
			 test_serve_stale) ||
	    !CU_add_test(s, "no stale answers without serve-stale", test_no_stale_without_config) ||
	    !CU_add_test(s, "prefetch in the last tenth of the TTL", test_prefetch) ||
	    !CU_add_test(s, "slow path stale reply carries EDE 3", test_slow_path_stale_reply)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() != 0 || CU_get_number_of_tests_failed() != 0;
	CU_cleanup_registry();
	hd_cache_free(cache);
	rte_eal_cleanup();
	return fails;
}
