/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cached answers, end to end inside lib/dns: an upstream reply built by hand
 * (with compression pointers in owners and RDATA) goes through
 * hd_dns_answer_build(), then hd_dns_reply_answer() writes the reply to a
 * client that asked in another letter case, and the test's own reader
 * checks that the client sees exactly the upstream's records, TTLs aged,
 * with every pointer pointing backwards inside the reply.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_test.h"

#define NOW	1000u
#define UPFLAGS	(HD_DNS_QR | HD_DNS_RD | HD_DNS_RA)

static struct tmsg up;		/* the upstream reply */
static struct tmsg cq;		/* the client query */
static uint8_t reply[65536];
static struct tparsed pu, pr;	/* parsed upstream, parsed reply */

/* The upstream reply's header and question. */
static void
up_begin(const char *qname, uint16_t qtype, uint16_t flags, uint16_t an,
	 uint16_t ns, uint16_t ar)
{
	tm_init(&up);
	tm_hdr(&up, 0x5555, UPFLAGS | flags, 1, an, ns, ar);
	tm_name(&up, qname);
	tm_u16(&up, qtype);
	tm_u16(&up, HD_DNS_CLASS_IN);
}

/* Owner as a pointer, then the RR header. @return the rdlength offset. */
static size_t
rr_ptr(uint16_t owner, uint16_t type, uint32_t ttl)
{
	tm_ptr(&up, owner);
	return tm_rr(&up, type, HD_DNS_CLASS_IN, ttl);
}

/* "www.example.com" -> "WwW.ExAmPlE.CoM": the client's letter case. */
static void
mixcase(const char *in, char *out)
{
	size_t i;

	for (i = 0; in[i] != '\0'; i++)
		out[i] = (i % 2 == 0 && in[i] >= 'a' && in[i] <= 'z') ?
			(char)(in[i] - 32) : in[i];
	out[i] = '\0';
}

static int
client_query(const char *qname, uint16_t qtype, int edns, uint16_t size, int do_bit,
	     struct hd_dns_query *q)
{
	char mixed[300];

	mixcase(qname, mixed);
	tm_query(&cq, 0xabcd, HD_DNS_RD, mixed, qtype, edns, size, 0, do_bit);
	return hd_dns_query_parse(cq.b, cq.n, q);
}

/* The client's query in the reply buffer, then the reply written over it. */
static int
write_reply(const struct hd_dns_query *q, const struct hd_dns_answer *a, uint32_t now,
	    uint32_t stale_ttl, size_t limit)
{
	memcpy(reply, cq.b, cq.n);
	return hd_dns_reply_answer(reply, sizeof(reply), q, a, now, stale_ttl, limit);
}

/* Records that never reach the cache: TSIG, SIG(0). */
static int
transport_rr(const struct trr *r)
{
	return r->type == 250 ||
	       (r->sec == 2 && r->type == 24 && r->raw_len >= 2 && tr_u16(r->raw) == 0);
}

/* Names of RFC 3597 section 4 types must reach the client uncompressed. */
static int
written_whole(uint16_t type)
{
	return hd_dns_rdata_names(type) == HD_DNS_RDATA_DECOMPRESS;
}

static uint32_t
aged(uint32_t ttl, uint32_t age)
{
	if (ttl > INT32_MAX)
		ttl = 0;
	if (ttl > 86400)
		ttl = 86400;
	return ttl > age ? ttl - age : 0;
}

/*
 * The reply in reply[0..len) against the upstream message in up: header,
 * echoed question, OPT iff the query had one, and every record.
 * @param age  seconds since the answer was stored; UINT32_MAX: skip TTLs
 */
static void
check_reply(int len, const struct hd_dns_query *q, uint32_t age)
{
	int i, k, sec_count[3] = { 0, 0, 0 };

	CU_ASSERT_FATAL(len > 0);
	tr_bad_pointer = 0;
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	CU_ASSERT_EQUAL(tr_bad_pointer, 0);
	CU_ASSERT_EQUAL(pr.end, (size_t)len);
	CU_ASSERT_EQUAL_FATAL(tr_parse(up.b, up.n, &pu), 0);

	/* Header: the client's ID and RD, ours QR/RA, the upstream's rcode. */
	CU_ASSERT_EQUAL(pr.id, 0xabcd);
	CU_ASSERT(pr.flags & HD_DNS_QR);
	CU_ASSERT(pr.flags & HD_DNS_RA);
	CU_ASSERT(pr.flags & HD_DNS_RD);
	CU_ASSERT_FALSE(pr.flags & HD_DNS_TC);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_OPCODE_MASK, 0);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_RCODE_MASK, pu.flags & HD_DNS_RCODE_MASK);

	/* The question exactly as the client wrote it. */
	CU_ASSERT_EQUAL(pr.qd, 1);
	CU_ASSERT_EQUAL(pr.qname_len, q->qname_len);
	CU_ASSERT_EQUAL(memcmp(pr.qname, cq.b + 12, q->qname_len), 0);
	CU_ASSERT_EQUAL(pr.qtype, q->qtype);
	CU_ASSERT_EQUAL(pr.qclass, q->qclass);

	/* OPT iff the client sent one: our size, version 0, DO echoed. */
	CU_ASSERT_EQUAL(pr.has_opt, q->has_edns);
	if (pr.has_opt) {
		CU_ASSERT_EQUAL(pr.opt_class, HD_DNS_EDNS_SIZE);
		CU_ASSERT_EQUAL(pr.opt_ttl, q->do_bit ? 0x8000u : 0);
		CU_ASSERT_EQUAL(pr.opt_rdlen, 0);
	}

	/* Every upstream record, in order, minus transport records. */
	for (i = 0, k = 0; i < pu.n_rr; i++) {
		const struct trr *u = &pu.rr[i], *r;

		if (transport_rr(u))
			continue;
		sec_count[u->sec]++;
		CU_ASSERT_FATAL(k < pr.n_rr);
		r = &pr.rr[k++];
		CU_ASSERT_EQUAL(r->sec, u->sec);
		CU_ASSERT_EQUAL(r->owner_len, u->owner_len);
		CU_ASSERT_EQUAL(memcmp(r->owner, u->owner, (size_t)u->owner_len), 0);
		CU_ASSERT_EQUAL(r->type, u->type);
		CU_ASSERT_EQUAL(r->rclass, u->rclass);
		if (age != UINT32_MAX)
			CU_ASSERT_EQUAL(r->ttl, aged(u->ttl, age));
		CU_ASSERT_EQUAL(r->rd_len, u->rd_len);
		CU_ASSERT_EQUAL(memcmp(r->rd, u->rd, u->rd_len), 0);
		if (hd_dns_rdata_names(u->type) == HD_DNS_RDATA_OPAQUE)
			/* Byte for byte. */
			CU_ASSERT(r->raw_len == u->raw_len &&
				  memcmp(r->raw, u->raw, u->raw_len) == 0);
		if (written_whole(u->type)) {
			/* No pointer: the raw RDATA is its decompressed form. */
			CU_ASSERT_EQUAL(r->raw_len, r->rd_len);
			for (size_t b = 0; b < r->raw_len && b < r->rd_len; b++) {
				uint8_t c = r->raw[b], d = r->rd[b];

				if (c >= 'A' && c <= 'Z')
					c = (uint8_t)(c + 32);
				if (d >= 'A' && d <= 'Z')
					d = (uint8_t)(d + 32);
				CU_ASSERT_EQUAL(c, d);
			}
		}
	}
	CU_ASSERT_EQUAL(k, pr.n_rr);
	CU_ASSERT_EQUAL(pr.an, sec_count[0]);
	CU_ASSERT_EQUAL(pr.ns, sec_count[1]);
	CU_ASSERT_EQUAL(pr.ar, sec_count[2] + (q->has_edns ? 1 : 0));
}

/*
 * Build the answer from up for a client asking @p qname / @p qtype (in mixed
 * case), write the reply @p age seconds later and check it in full.
 * @param ttl_check  check every TTL is the upstream's minus @p age
 * @return the answer (caller frees) for further checks.
 */
static struct hd_dns_answer *
roundtrip(const char *qname, uint16_t qtype, int edns, int do_bit, uint32_t age,
	  int ttl_check)
{
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int err = 1, len;

	CU_ASSERT_EQUAL_FATAL(client_query(qname, qtype, edns, 4096, do_bit, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->stored, NOW);
	CU_ASSERT_EQUAL(a->qname_len, q.qname_len);
	CU_ASSERT_EQUAL(a->expires, NOW + a->ttl);
	CU_ASSERT_EQUAL(a->stale_until, a->expires);
	len = write_reply(&q, a, NOW + age, 0, hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE));
	check_reply(len, &q, ttl_check ? age : UINT32_MAX);
	/* A client without EDNS and one with DO get the same records. */
	if (len > 0 && (size_t)len <= 400) {
		CU_ASSERT_EQUAL_FATAL(client_query(qname, qtype, !edns, 1232, !do_bit, &q), 0);
		len = write_reply(&q, a, NOW + age, 0, hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE));
		check_reply(len, &q, ttl_check ? age : UINT32_MAX);
	}
	return a;
}

static void
roundtrip_free(const char *qname, uint16_t qtype)
{
	free(roundtrip(qname, qtype, 1, 0, 10, 1));
}

/* ---- one upstream reply per type ---------------------------------------- */

/*
 * www.example.com at 12: "www" 12, "example.com" 16, "com" 24.
 * example.com at 12: "example.com" 12, "com" 20.
 */

static void
build_a(void)
{
	size_t at, ns1;

	up_begin("www.example.com", HD_DNS_TYPE_A, 0, 2, 1, 1);
	at = rr_ptr(12, HD_DNS_TYPE_A, 300);
	tm_bytes(&up, "\xc0\x00\x02\x01", 4);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_A, 200);
	tm_bytes(&up, "\xc0\x00\x02\x02", 4);
	tm_rr_end(&up, at);
	at = rr_ptr(16, HD_DNS_TYPE_NS, 3600);
	ns1 = up.n;
	tm_labels(&up, "ns1");
	tm_ptr(&up, 16);
	tm_rr_end(&up, at);
	at = rr_ptr((uint16_t)ns1, HD_DNS_TYPE_A, 3600);
	tm_bytes(&up, "\xc0\x00\x02\x35", 4);
	tm_rr_end(&up, at);
}

static void
test_a(void)
{
	struct hd_dns_answer *a;

	build_a();
	a = roundtrip("www.example.com", HD_DNS_TYPE_A, 1, 0, 10, 1);
	CU_ASSERT_EQUAL(a->ancount, 2);
	CU_ASSERT_EQUAL(a->nscount, 1);
	CU_ASSERT_EQUAL(a->arcount, 1);
	CU_ASSERT_EQUAL(a->n_ttl, 4);
	CU_ASSERT_EQUAL(a->ttl, 200);
	CU_ASSERT_EQUAL(a->negative, 0);
	/* Owners re-compressed against the client's question at 12. */
	CU_ASSERT_EQUAL(reply[33], 0xc0);
	CU_ASSERT_EQUAL(reply[34], 12);
	free(a);
}

static void
build_aaaa(void)
{
	size_t at;

	up_begin("www.example.com", HD_DNS_TYPE_AAAA, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_AAAA, 300);
	tm_bytes(&up, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	tm_rr_end(&up, at);
}

static void
test_aaaa(void)
{
	build_aaaa();
	roundtrip_free("www.example.com", HD_DNS_TYPE_AAAA);
}

static void
build_cname_chain(void)
{
	size_t at, c1, c2;

	up_begin("www.example.com", HD_DNS_TYPE_A, 0, 3, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_CNAME, 300);
	c1 = up.n;
	tm_name(&up, "alias1.example.net");
	tm_rr_end(&up, at);
	at = rr_ptr((uint16_t)c1, HD_DNS_TYPE_CNAME, 200);
	c2 = up.n;
	tm_labels(&up, "alias2");
	tm_ptr(&up, (uint16_t)(c1 + 7));	/* example.net */
	tm_rr_end(&up, at);
	at = rr_ptr((uint16_t)c2, HD_DNS_TYPE_A, 100);
	tm_bytes(&up, "\xc6\x33\x64\x07", 4);
	tm_rr_end(&up, at);
}

static void
test_cname_chain(void)
{
	struct hd_dns_answer *a;

	build_cname_chain();
	a = roundtrip("www.example.com", HD_DNS_TYPE_A, 0, 0, 10, 1);
	CU_ASSERT_EQUAL(a->ancount, 3);
	CU_ASSERT_EQUAL(a->ttl, 100);
	/* The chain reads www -> alias1.example.net -> alias2.example.net -> A. */
	CU_ASSERT_EQUAL(memcmp(pr.rr[0].rd, "\6alias1\7example\3net", 20), 0);
	CU_ASSERT_EQUAL(memcmp(pr.rr[1].owner, "\6alias1\7example\3net", 20), 0);
	CU_ASSERT_EQUAL(memcmp(pr.rr[1].rd, "\6alias2\7example\3net", 20), 0);
	CU_ASSERT_EQUAL(memcmp(pr.rr[2].owner, "\6alias2\7example\3net", 20), 0);
	free(a);
}

static void
build_mx(void)
{
	size_t at, mail;

	up_begin("example.com", HD_DNS_TYPE_MX, HD_DNS_AA, 2, 0, 1);
	at = rr_ptr(12, HD_DNS_TYPE_MX, 3600);
	tm_u16(&up, 10);
	mail = up.n;
	tm_labels(&up, "mail");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_MX, 3600);
	tm_u16(&up, 20);
	tm_labels(&up, "backup");
	tm_ptr(&up, (uint16_t)mail);	/* backup.mail.example.com */
	tm_rr_end(&up, at);
	at = rr_ptr((uint16_t)mail, HD_DNS_TYPE_A, 600);
	tm_bytes(&up, "\xc0\x00\x02\x19", 4);
	tm_rr_end(&up, at);
}

struct cname_seen {
	unsigned int n;
	uint8_t names[4][HD_DNS_NAME_MAX];
	unsigned int stop_at;	/* return 7 on this call (1-based), 0: never */
};

static int
cname_collect(void *arg, const uint8_t *name, size_t len)
{
	struct cname_seen *s = arg;

	if (s->n < 4)
		memcpy(s->names[s->n], name, len);
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

static void
test_cname_targets(void)
{
	struct cname_seen seen = { 0 };
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int err = 1, len;

	build_cname_chain();
	CU_ASSERT_EQUAL_FATAL(client_query("WWW.Example.com", HD_DNS_TYPE_A, 1, 4096, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->has_cname, 1);
	len = write_reply(&q, a, NOW, 0, 4096);
	CU_ASSERT_FATAL(len > 0);
	/* Our reply: both targets, decompressed, in chain order. */
	CU_ASSERT_EQUAL(hd_dns_cname_foreach(reply, (size_t)len, cname_collect, &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 2);
	CU_ASSERT_EQUAL(memcmp(seen.names[0], "\6alias1\7example\3net", 20), 0);
	CU_ASSERT_EQUAL(memcmp(seen.names[1], "\6alias2\7example\3net", 20), 0);
	/* The upstream's own message, and a callback that stops the walk. */
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	CU_ASSERT_EQUAL(hd_dns_cname_foreach(up.b, up.n, cname_collect, &seen), 7);
	CU_ASSERT_EQUAL(seen.n, 1);
	/* A cut message cannot be walked. */
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(hd_dns_cname_foreach(reply, (size_t)len - 20, cname_collect, &seen),
			-EBADMSG);
	free(a);

	build_mx();
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	/* The question differs from the MX reply's: rejected, nothing to check. */
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_MX, 1, 4096, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->has_cname, 0);
	free(a);
}

static void
test_mx(void)
{
	struct hd_dns_answer *a;

	build_mx();
	a = roundtrip("example.com", HD_DNS_TYPE_MX, 1, 0, 10, 1);
	/* The upstream was authoritative; our forwarded answer is not. */
	CU_ASSERT_FALSE(a->flags & HD_DNS_AA);
	CU_ASSERT_FALSE(pr.flags & HD_DNS_AA);
	free(a);
}

static void
txt_string(size_t n, char c)
{
	tm_u8(&up, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		tm_u8(&up, (uint8_t)c);
}

static void
build_txt(void)
{
	size_t at;

	up_begin("example.com", HD_DNS_TYPE_TXT, 0, 2, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_TXT, 300);
	tm_u8(&up, 11);
	tm_bytes(&up, "v=spf1 -all", 11);
	tm_u8(&up, 0);				/* an empty string */
	tm_u8(&up, 11);
	tm_bytes(&up, "\xc0\x0c looks ptr", 11);	/* not a pointer: TXT is opaque */
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_TXT, 300);
	txt_string(255, 'a');
	txt_string(255, 'b');
	txt_string(100, 'c');
	tm_rr_end(&up, at);
}

static void
test_txt(void)
{
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int len;

	build_txt();
	CU_ASSERT(up.n > 512);
	a = roundtrip("example.com", HD_DNS_TYPE_TXT, 1, 0, 10, 1);
	CU_ASSERT_EQUAL(pr.rr[1].raw_len, 613);

	/* Over TCP (limit 65535) a client without EDNS gets it all too. */
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_TXT, 0, 0, 0, &q), 0);
	len = write_reply(&q, a, NOW + 10, 0, 65535);
	check_reply(len, &q, 10);
	free(a);
}

static void
build_ns(void)
{
	size_t at, ns1, ns2;

	up_begin("example.com", HD_DNS_TYPE_NS, 0, 2, 0, 2);
	at = rr_ptr(12, HD_DNS_TYPE_NS, 86400);
	ns1 = up.n;
	tm_labels(&up, "ns1");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_NS, 86400);
	ns2 = up.n;
	tm_name(&up, "ns2.example.org");
	tm_rr_end(&up, at);
	at = rr_ptr((uint16_t)ns1, HD_DNS_TYPE_A, 86400);
	tm_bytes(&up, "\xc0\x00\x02\x35", 4);
	tm_rr_end(&up, at);
	at = rr_ptr((uint16_t)ns2, HD_DNS_TYPE_AAAA, 86400);
	tm_bytes(&up, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x35", 16);
	tm_rr_end(&up, at);
}

static void
test_ns(void)
{
	build_ns();
	roundtrip_free("example.com", HD_DNS_TYPE_NS);
}

static void
soa_rdata(uint16_t zone, uint32_t minimum)
{
	tm_labels(&up, "ns1");
	tm_ptr(&up, zone);
	tm_labels(&up, "hostmaster");
	tm_ptr(&up, zone);
	tm_u32(&up, 2024010101);
	tm_u32(&up, 7200);
	tm_u32(&up, 3600);
	tm_u32(&up, 1209600);
	tm_u32(&up, minimum);
}

static void
build_soa(void)
{
	size_t at;

	up_begin("example.com", HD_DNS_TYPE_SOA, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_SOA, 3600);
	soa_rdata(12, 300);
	tm_rr_end(&up, at);
}

static void
test_soa(void)
{
	struct hd_dns_answer *a;

	build_soa();
	a = roundtrip("example.com", HD_DNS_TYPE_SOA, 1, 0, 10, 1);
	/* A positive SOA answer lives by its own TTL, not MINIMUM. */
	CU_ASSERT_EQUAL(a->negative, 0);
	CU_ASSERT_EQUAL(a->ttl, 3600);
	free(a);
}

static void
build_srv(void)
{
	size_t at;

	/* _sip 12, _tcp 17, example.com 22 */
	up_begin("_sip._tcp.example.com", HD_DNS_TYPE_SRV, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_SRV, 300);
	tm_u16(&up, 10);
	tm_u16(&up, 60);
	tm_u16(&up, 5060);
	tm_labels(&up, "sip");
	tm_ptr(&up, 22);
	tm_rr_end(&up, at);
}

static void
test_srv(void)
{
	build_srv();
	roundtrip_free("_sip._tcp.example.com", HD_DNS_TYPE_SRV);
	CU_ASSERT_EQUAL(pr.rr[0].raw_len, 6 + 17);
}

static void
build_ptr(void)
{
	size_t at, host;

	up_begin("4.3.2.1.in-addr.arpa", HD_DNS_TYPE_PTR, 0, 2, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_PTR, 300);
	host = up.n;
	tm_name(&up, "host.example.com");
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_PTR, 300);
	tm_labels(&up, "host2");
	tm_ptr(&up, (uint16_t)(host + 5));
	tm_rr_end(&up, at);
}

static void
test_ptr(void)
{
	build_ptr();
	roundtrip_free("4.3.2.1.in-addr.arpa", HD_DNS_TYPE_PTR);
}

static void
build_caa(void)
{
	size_t at;

	up_begin("example.com", HD_DNS_TYPE_CAA, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_CAA, 300);
	tm_u8(&up, 0);
	tm_u8(&up, 5);
	tm_bytes(&up, "issue", 5);
	tm_bytes(&up, "letsencrypt.org", 15);
	tm_rr_end(&up, at);
}

static void
test_caa(void)
{
	build_caa();
	roundtrip_free("example.com", HD_DNS_TYPE_CAA);
}

static void
build_https(void)
{
	size_t at;

	up_begin("example.com", HD_DNS_TYPE_HTTPS, HD_DNS_AD, 2, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_HTTPS, 300);
	tm_u16(&up, 1);
	tm_u8(&up, 0);		/* target "." */
	tm_u16(&up, 1);		/* alpn */
	tm_u16(&up, 6);
	tm_bytes(&up, "\2h2\2h3", 6);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_HTTPS, 300);
	tm_u16(&up, 2);
	tm_name(&up, "svc.example.net");	/* never compressed (RFC 9460) */
	tm_u16(&up, 3);		/* port */
	tm_u16(&up, 2);
	tm_u16(&up, 8443);
	tm_rr_end(&up, at);
}

static void
test_https(void)
{
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int len;

	build_https();
	a = roundtrip("example.com", HD_DNS_TYPE_HTTPS, 1, 1, 10, 1);
	CU_ASSERT(a->flags & HD_DNS_AD);
	/* AD passes to a client that set DO... */
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_HTTPS, 1, 1232, 1, &q), 0);
	len = write_reply(&q, a, NOW, 0, 1232);
	check_reply(len, &q, 0);
	CU_ASSERT(pr.flags & HD_DNS_AD);
	/* ...not to one that set neither DO nor AD... */
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_HTTPS, 1, 1232, 0, &q), 0);
	len = write_reply(&q, a, NOW, 0, 1232);
	check_reply(len, &q, 0);
	CU_ASSERT_FALSE(pr.flags & HD_DNS_AD);
	/* ...and to one that set AD. */
	tm_query(&cq, 0xabcd, HD_DNS_RD | HD_DNS_AD, "example.com", HD_DNS_TYPE_HTTPS, 0, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(cq.b, cq.n, &q), 0);
	len = write_reply(&q, a, NOW, 0, 512);
	check_reply(len, &q, 0);
	CU_ASSERT(pr.flags & HD_DNS_AD);
	free(a);
}

static void
build_svcb(void)
{
	size_t at;

	/* _dns 12, resolver 17, arpa 26 */
	up_begin("_dns.resolver.arpa", HD_DNS_TYPE_SVCB, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_SVCB, 300);
	tm_u16(&up, 1);
	tm_name(&up, "dns.example.net");
	tm_u16(&up, 1);
	tm_u16(&up, 3);
	tm_bytes(&up, "\2h2", 3);
	tm_rr_end(&up, at);
}

static void
test_svcb(void)
{
	build_svcb();
	roundtrip_free("_dns.resolver.arpa", HD_DNS_TYPE_SVCB);
}

static void
build_naptr(void)
{
	size_t at;

	up_begin("example.com", HD_DNS_TYPE_NAPTR, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_NAPTR, 300);
	tm_u16(&up, 100);
	tm_u16(&up, 10);
	tm_u8(&up, 1);
	tm_bytes(&up, "S", 1);
	tm_u8(&up, 7);
	tm_bytes(&up, "SIP+D2U", 7);
	tm_u8(&up, 0);		/* no regexp */
	tm_labels(&up, "_sip._udp");
	tm_ptr(&up, 12);	/* compressed although it should not be */
	tm_rr_end(&up, at);
}

static void
test_naptr(void)
{
	build_naptr();
	roundtrip_free("example.com", HD_DNS_TYPE_NAPTR);
	CU_ASSERT_EQUAL(pr.rr[0].raw_len, 4 + 2 + 8 + 1 + 23);
}

static void
build_dname(void)
{
	size_t at, target, cname;

	up_begin("www.example.com", HD_DNS_TYPE_A, 0, 3, 0, 0);
	at = rr_ptr(16, HD_DNS_TYPE_DNAME, 3600);
	target = up.n;
	tm_labels(&up, "Foo");
	tm_ptr(&up, 16);	/* compressed although it should not be */
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_CNAME, 3600);
	cname = up.n;
	tm_labels(&up, "www");
	tm_ptr(&up, (uint16_t)target);
	tm_rr_end(&up, at);
	at = rr_ptr((uint16_t)cname, HD_DNS_TYPE_A, 3600);
	tm_bytes(&up, "\xc0\x00\x02\x07", 4);
	tm_rr_end(&up, at);
}

static void
test_dname(void)
{
	build_dname();
	roundtrip_free("www.example.com", HD_DNS_TYPE_A);
	/* The DNAME target is written whole, its case kept. */
	CU_ASSERT_EQUAL(pr.rr[0].raw_len, 17);
	CU_ASSERT_EQUAL(memcmp(pr.rr[0].raw, "\3Foo\7example\3com", 17), 0);
	CU_ASSERT_EQUAL(memcmp(pr.rr[2].owner, "\3www\3foo\7example\3com", 21), 0);
}

static void
build_unknown(void)
{
	size_t at;

	up_begin("example.com", 65280, 0, 1, 0, 0);
	at = rr_ptr(12, 65280, 300);
	tm_bytes(&up, "\xc0\x0c\x00\x01\x02hello\x03www", 13);
	tm_rr_end(&up, at);
}

static void
test_unknown(void)
{
	build_unknown();
	roundtrip_free("example.com", 65280);
	CU_ASSERT_EQUAL(memcmp(pr.rr[0].raw, "\xc0\x0c\x00\x01\x02hello\x03www", 13), 0);
}

/* RFC 3597 section 4 types, and the rarer RFC 1035 ones, in one answer. */
static void
build_rare(void)
{
	size_t at;

	up_begin("example.com", HD_DNS_TYPE_ANY, 0, 10, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_RP, 300);
	tm_labels(&up, "admin");
	tm_ptr(&up, 12);
	tm_labels(&up, "txt");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_AFSDB, 300);
	tm_u16(&up, 1);
	tm_labels(&up, "afs");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_RT, 300);
	tm_u16(&up, 2);
	tm_labels(&up, "relay");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_KX, 300);
	tm_u16(&up, 3);
	tm_labels(&up, "kx");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_PX, 300);
	tm_u16(&up, 4);
	tm_labels(&up, "map822");
	tm_ptr(&up, 12);
	tm_labels(&up, "mapx400");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_SIG, 300);	/* covers A: not SIG(0) */
	tm_bytes(&up, "\x00\x01\x05\x02\x00\x00\x01\x2c\x60\x00\x00\x00\x5f\x00\x00\x00\x12\x34",
		 18);
	tm_ptr(&up, 12);
	tm_bytes(&up, "signature", 9);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_NXT, 300);
	tm_labels(&up, "next");
	tm_ptr(&up, 12);
	tm_bytes(&up, "\x40\x01", 2);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_MINFO, 300);
	tm_labels(&up, "rmail");
	tm_ptr(&up, 12);
	tm_labels(&up, "email");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_MB, 300);
	tm_labels(&up, "mb");
	tm_ptr(&up, 12);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_HINFO, 300);
	tm_bytes(&up, "\3CPU\2OS", 7);
	tm_rr_end(&up, at);
}

static void
test_rare_types(void)
{
	build_rare();
	roundtrip_free("example.com", HD_DNS_TYPE_ANY);
	CU_ASSERT_EQUAL(pr.n_rr, 10);
}

/* ---- sections, flags, TTLs ---------------------------------------------- */

static void
build_transport_records(void)
{
	size_t at;

	up_begin("www.example.com", HD_DNS_TYPE_A, 0, 1, 0, 4);
	at = rr_ptr(12, HD_DNS_TYPE_A, 300);
	tm_bytes(&up, "\xc0\x00\x02\x01", 4);
	tm_rr_end(&up, at);
	tm_opt(&up, 4096, 0, 1);
	at = rr_ptr(16, 250, 0);		/* TSIG */
	tm_bytes(&up, "tsig-rdata", 10);
	tm_rr_end(&up, at);
	at = rr_ptr(16, HD_DNS_TYPE_SIG, 0);	/* SIG(0): covers type 0 */
	tm_bytes(&up, "\0\0\x05\x02\0\0\0\0\x60\0\0\0\x5f\0\0\0\x12\x34", 18);
	tm_u8(&up, 0);
	tm_bytes(&up, "sig", 3);
	tm_rr_end(&up, at);
	at = rr_ptr(16, HD_DNS_TYPE_TXT, 300);	/* an ordinary additional RR */
	tm_bytes(&up, "\2ok", 3);
	tm_rr_end(&up, at);
}

static void
test_transport_records_stripped(void)
{
	struct hd_dns_answer *a;

	build_transport_records();
	a = roundtrip("www.example.com", HD_DNS_TYPE_A, 1, 1, 10, 1);
	CU_ASSERT_EQUAL(a->arcount, 1);
	CU_ASSERT_EQUAL(pr.n_rr, 2);
	CU_ASSERT_EQUAL(pr.ar, pr.has_opt ? 2 : 1);	/* the TXT and our own OPT */
	free(a);
}

static void
build_nxdomain(uint16_t rcode, uint32_t soa_ttl, uint32_t minimum)
{
	size_t at;

	/* nx 12, example.com 15 */
	up_begin("nx.example.com", HD_DNS_TYPE_A, rcode, 0, 1, 0);
	at = rr_ptr(15, HD_DNS_TYPE_SOA, soa_ttl);
	soa_rdata(15, minimum);
	tm_rr_end(&up, at);
}

static void
test_nxdomain(void)
{
	struct hd_dns_answer *a;

	build_nxdomain(HD_DNS_RCODE_NXDOMAIN, 3600, 300);
	a = roundtrip("nx.example.com", HD_DNS_TYPE_A, 1, 0, 10, 0);
	CU_ASSERT_EQUAL(a->negative, 1);
	CU_ASSERT_EQUAL(a->ttl, 300);
	CU_ASSERT_EQUAL(a->expires, NOW + 300);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(pr.an, 0);
	CU_ASSERT_EQUAL(pr.ns, 1);
	/* The SOA counts down from the negative TTL, not its own. */
	CU_ASSERT_EQUAL(pr.rr[0].ttl, 300 - 10);
	free(a);
}

static void
test_nodata(void)
{
	struct hd_dns_answer *a;

	/* SOA TTL below MINIMUM: the TTL wins (RFC 2308 section 5). */
	build_nxdomain(HD_DNS_RCODE_NOERROR, 60, 300);
	a = roundtrip("nx.example.com", HD_DNS_TYPE_A, 0, 0, 10, 0);
	CU_ASSERT_EQUAL(a->negative, 1);
	CU_ASSERT_EQUAL(a->ttl, 60);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(pr.rr[0].ttl, 50);
	free(a);
}

static void
test_negative_without_soa(void)
{
	struct hd_dns_answer *a;
	size_t at;

	/* A NODATA with only an NS record: nothing says how long to cache. */
	up_begin("nx.example.com", HD_DNS_TYPE_A, 0, 0, 1, 0);
	at = rr_ptr(15, HD_DNS_TYPE_NS, 3600);
	tm_labels(&up, "ns1");
	tm_ptr(&up, 15);
	tm_rr_end(&up, at);
	a = roundtrip("nx.example.com", HD_DNS_TYPE_A, 1, 0, 10, 0);
	CU_ASSERT_EQUAL(a->negative, 1);
	CU_ASSERT_EQUAL(a->ttl, 0);
	CU_ASSERT_EQUAL(a->expires, NOW);
	CU_ASSERT_EQUAL(pr.rr[0].ttl, 0);
	free(a);

	up_begin("nx.example.com", HD_DNS_TYPE_A, HD_DNS_RCODE_NXDOMAIN, 0, 0, 0);
	a = roundtrip("nx.example.com", HD_DNS_TYPE_A, 1, 0, 10, 1);
	CU_ASSERT_EQUAL(a->negative, 1);
	CU_ASSERT_EQUAL(a->ttl, 0);
	CU_ASSERT_EQUAL(a->len, 0);
	free(a);
}

static void
test_ttl_limits(void)
{
	struct hd_dns_answer_limits lim = { .min_ttl = 60, .max_ttl = 1000,
					    .neg_max_ttl = 100, .stale_ttl = 600 };
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	size_t at;
	int err;

	up_begin("www.example.com", HD_DNS_TYPE_A, 0, 3, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_A, 5);
	tm_bytes(&up, "\1\2\3\4", 4);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_A, 100000);
	tm_bytes(&up, "\1\2\3\5", 4);
	tm_rr_end(&up, at);
	at = rr_ptr(12, HD_DNS_TYPE_A, 0x80000001u);	/* means 0 */
	tm_bytes(&up, "\1\2\3\6", 4);
	tm_rr_end(&up, at);
	CU_ASSERT_EQUAL_FATAL(client_query("www.example.com", HD_DNS_TYPE_A, 0, 0, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, &lim, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ttl, 60);
	CU_ASSERT_EQUAL(a->expires, NOW + 60);
	CU_ASSERT_EQUAL(a->stale_until, NOW + 60 + 600);
	CU_ASSERT_EQUAL(write_reply(&q, a, NOW, 0, 512) > 0, 1);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, sizeof(reply), &pr), 0);
	CU_ASSERT_EQUAL(pr.rr[0].ttl, 60);
	CU_ASSERT_EQUAL(pr.rr[1].ttl, 1000);
	CU_ASSERT_EQUAL(pr.rr[2].ttl, 60);
	free(a);

	/* Without limits: the top-bit TTL is 0, the cap is one day. */
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ttl, 0);
	CU_ASSERT_EQUAL(write_reply(&q, a, NOW, 0, 512) > 0, 1);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, sizeof(reply), &pr), 0);
	CU_ASSERT_EQUAL(pr.rr[1].ttl, 86400);
	CU_ASSERT_EQUAL(pr.rr[2].ttl, 0);
	free(a);

	/* Negative answers are capped by neg_max_ttl. */
	build_nxdomain(HD_DNS_RCODE_NXDOMAIN, 3600, 900);
	CU_ASSERT_EQUAL_FATAL(client_query("nx.example.com", HD_DNS_TYPE_A, 0, 0, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, &lim, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ttl, 100);
	CU_ASSERT_EQUAL(write_reply(&q, a, NOW + 1, 0, 512) > 0, 1);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, sizeof(reply), &pr), 0);
	CU_ASSERT_EQUAL(pr.rr[0].ttl, 99);
	free(a);
}

static void
test_ttl_aging_and_stale(void)
{
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int len, i;

	build_a();
	CU_ASSERT_EQUAL_FATAL(client_query("www.example.com", HD_DNS_TYPE_A, 0, 0, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	/* Past some TTLs: those read 0, the others keep counting. */
	len = write_reply(&q, a, NOW + 250, 0, 512);
	check_reply(len, &q, 250);
	CU_ASSERT_EQUAL(pr.rr[0].ttl, 50);
	CU_ASSERT_EQUAL(pr.rr[1].ttl, 0);
	/* A clock behind the store time: no aging, no wrap. */
	len = write_reply(&q, a, NOW - 5, 0, 512);
	check_reply(len, &q, 0);
	/* Serving stale: every TTL is the stale value. */
	len = write_reply(&q, a, NOW + 100000, 30, 512);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	for (i = 0; i < pr.n_rr; i++)
		CU_ASSERT_EQUAL(pr.rr[i].ttl, 30);
	/* The same answer again is the same reply: the cache entry is untouched. */
	len = write_reply(&q, a, NOW + 10, 0, 512);
	check_reply(len, &q, 10);
	free(a);
}

static void
test_truncation(void)
{
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int len, err;

	build_txt();
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_TXT, 0, 0, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	/* No EDNS: 512 bytes, so TC with only header and question. */
	len = write_reply(&q, a, NOW, 0, hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE));
	CU_ASSERT_EQUAL(len, q.question_end);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	CU_ASSERT(pr.flags & HD_DNS_TC);
	CU_ASSERT(pr.flags & HD_DNS_QR);
	CU_ASSERT_EQUAL(pr.id, 0xabcd);
	CU_ASSERT_EQUAL(pr.qd, 1);
	CU_ASSERT_EQUAL(pr.an + pr.ns + pr.ar, 0);
	CU_ASSERT_EQUAL(memcmp(pr.qname, cq.b + 12, q.qname_len), 0);

	/* EDNS with a 512 size: TC too, with our OPT. */
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_TXT, 1, 512, 1, &q), 0);
	len = write_reply(&q, a, NOW, 0, hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE));
	CU_ASSERT_EQUAL(len, q.question_end + HD_DNS_OPT_LEN);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	CU_ASSERT(pr.flags & HD_DNS_TC);
	CU_ASSERT_EQUAL(pr.an + pr.ns, 0);
	CU_ASSERT_EQUAL(pr.ar, 1);
	CU_ASSERT(pr.has_opt);
	CU_ASSERT_EQUAL(pr.opt_ttl, 0x8000);

	/* Exactly at the limit fits; one byte less truncates. */
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_TXT, 1, 4096, 0, &q), 0);
	size_t full = (size_t)q.question_end + a->len + HD_DNS_OPT_LEN;

	len = write_reply(&q, a, NOW, 0, full);
	CU_ASSERT_EQUAL(len, (int)full);
	check_reply(len, &q, 0);
	len = write_reply(&q, a, NOW, 0, full - 1);
	CU_ASSERT_EQUAL(len, q.question_end + HD_DNS_OPT_LEN);

	/* A buffer too small for even the truncated reply. */
	memcpy(reply, cq.b, cq.n);
	CU_ASSERT_EQUAL(hd_dns_reply_answer(reply, (size_t)q.question_end + 5, &q, a, NOW, 0,
					    512), -ENOSPC);
	/* An answer encoded for another question length is refused. */
	CU_ASSERT_EQUAL_FATAL(client_query("www.example.com", HD_DNS_TYPE_TXT, 1, 4096, 0, &q), 0);
	CU_ASSERT_EQUAL(write_reply(&q, a, NOW, 0, 4096), -EINVAL);
	free(a);
}

/* ---- rcode replies and reply checks ------------------------------------- */

static void
test_badvers_reply(void)
{
	struct hd_dns_query q;
	int len;

	tm_query(&cq, 0x1111, HD_DNS_RD, "Example.COM", HD_DNS_TYPE_A, 1, 1232, 1, 1);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(cq.b, cq.n, &q), HD_DNS_RCODE_BADVERS);
	memcpy(reply, cq.b, cq.n);
	len = hd_dns_reply_rcode(reply, sizeof(reply), &q, HD_DNS_RCODE_BADVERS);
	CU_ASSERT_EQUAL(len, q.question_end + HD_DNS_OPT_LEN);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	CU_ASSERT_EQUAL(pr.id, 0x1111);
	CU_ASSERT(pr.flags & HD_DNS_QR);
	CU_ASSERT(pr.flags & HD_DNS_RD);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_RCODE_MASK, 0);	/* BADVERS lives in OPT */
	CU_ASSERT_EQUAL(pr.qd, 1);
	CU_ASSERT_EQUAL(memcmp(pr.qname, "\7Example\3COM", 13), 0);
	CU_ASSERT_EQUAL(pr.an + pr.ns, 0);
	CU_ASSERT_EQUAL(pr.ar, 1);
	CU_ASSERT(pr.has_opt);
	CU_ASSERT_EQUAL(pr.opt_class, HD_DNS_EDNS_SIZE);
	CU_ASSERT_EQUAL(pr.opt_ttl >> 24, 1);		/* extended rcode: 16 >> 4 */
	CU_ASSERT_EQUAL((pr.opt_ttl >> 16) & 0xff, 0);	/* our version */
	CU_ASSERT_EQUAL(pr.opt_ttl & 0x8000, 0x8000);	/* DO echoed */
}

static void
test_rcode_replies(void)
{
	struct hd_dns_query q;
	int len;

	/* FORMERR for a query without a question: header only. */
	tm_init(&cq);
	tm_hdr(&cq, 0x2222, HD_DNS_RD, 0, 0, 0, 1);
	tm_opt(&cq, 1232, 0, 0);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(cq.b, cq.n, &q), HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(q.question_end, 0);
	memcpy(reply, cq.b, cq.n);
	len = hd_dns_reply_rcode(reply, sizeof(reply), &q, HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(len, 12);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	CU_ASSERT_EQUAL(pr.id, 0x2222);
	CU_ASSERT_EQUAL(pr.qd + pr.an + pr.ns + pr.ar, 0);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_RCODE_MASK, HD_DNS_RCODE_FORMERR);
	CU_ASSERT(pr.flags & HD_DNS_QR);

	/* REFUSED for AXFR: the question and the OPT are echoed. */
	tm_query(&cq, 0x3333, 0, "example.com", HD_DNS_TYPE_AXFR, 1, 1232, 0, 0);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(cq.b, cq.n, &q), HD_DNS_RCODE_REFUSED);
	memcpy(reply, cq.b, cq.n);
	len = hd_dns_reply_rcode(reply, sizeof(reply), &q, HD_DNS_RCODE_REFUSED);
	CU_ASSERT_EQUAL(len, q.question_end + HD_DNS_OPT_LEN);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_RCODE_MASK, HD_DNS_RCODE_REFUSED);
	CU_ASSERT_FALSE(pr.flags & HD_DNS_RD);
	CU_ASSERT_EQUAL(pr.qtype, HD_DNS_TYPE_AXFR);
	CU_ASSERT(pr.has_opt);
	CU_ASSERT_EQUAL(pr.opt_ttl, 0);

	/* NOTIMPL keeps the client's opcode. */
	tm_query(&cq, 0x4444, 4 << 11, "example.com", HD_DNS_TYPE_SOA, 0, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(cq.b, cq.n, &q), HD_DNS_RCODE_NOTIMPL);
	memcpy(reply, cq.b, cq.n);
	len = hd_dns_reply_rcode(reply, sizeof(reply), &q, HD_DNS_RCODE_NOTIMPL);
	CU_ASSERT_EQUAL(len, q.question_end);
	CU_ASSERT_EQUAL_FATAL(tr_parse(reply, (size_t)len, &pr), 0);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_OPCODE_MASK, 4 << 11);
	CU_ASSERT_EQUAL(pr.flags & HD_DNS_RCODE_MASK, HD_DNS_RCODE_NOTIMPL);

	/* SERVFAIL for a good query, and no room for it. */
	tm_query(&cq, 0x5555, HD_DNS_RD, "example.com", HD_DNS_TYPE_A, 0, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(cq.b, cq.n, &q), 0);
	memcpy(reply, cq.b, cq.n);
	CU_ASSERT_EQUAL(hd_dns_reply_rcode(reply, sizeof(reply), &q, HD_DNS_RCODE_SERVFAIL),
			q.question_end);
	CU_ASSERT_EQUAL(reply[3] & 0xf, HD_DNS_RCODE_SERVFAIL);
	CU_ASSERT(reply[2] & 0x80);
	CU_ASSERT(reply[3] & 0x80);	/* RA */
	CU_ASSERT_EQUAL(hd_dns_reply_rcode(reply, 20, &q, HD_DNS_RCODE_SERVFAIL), -ENOSPC);
}

static void
test_reply_matches(void)
{
	struct hd_dns_query q;
	uint8_t up_q[600];
	int n;

	build_mx();
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_MX, 0, 0, 0, &q), 0);
	up.b[0] = 0x12;
	up.b[1] = 0x34;
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), 0);
	/* Letter case of the upstream's question does not matter. */
	up.b[13] = 'E';
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), 0);
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1235), -EPROTO);
	up.b[14] = 'y';
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), -EPROTO);
	up.b[14] = 'x';
	up.b[26] = HD_DNS_TYPE_A;	/* qtype low byte */
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), -EPROTO);
	up.b[26] = HD_DNS_TYPE_MX;
	up.b[28] = HD_DNS_CLASS_CH;	/* qclass low byte */
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), -EPROTO);
	up.b[28] = HD_DNS_CLASS_IN;
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), 0);
	/* Not a response; no question; truncated; shorter than a header. */
	up.b[2] &= 0x7f;
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), -EPROTO);
	up.b[2] |= 0x80;
	up.b[5] = 0;
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, up.n, &q, 0x1234), -EPROTO);
	up.b[5] = 1;
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, 20, &q, 0x1234), -EBADMSG);
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up.b, 11, &q, 0x1234), -EBADMSG);

	/* What we send upstream is matched by the reply to it. */
	n = hd_dns_query_write(up_q, sizeof(up_q), &q, 0x7777);
	CU_ASSERT_FATAL(n > 0);
	up_q[2] |= 0x80;
	CU_ASSERT_EQUAL(hd_dns_reply_matches(up_q, (size_t)n, &q, 0x7777), 0);

	CU_ASSERT_EQUAL(hd_dns_reply_truncated(up.b, up.n), 0);
	up.b[2] |= 0x02;
	CU_ASSERT_EQUAL(hd_dns_reply_truncated(up.b, up.n), 1);
	CU_ASSERT_EQUAL(hd_dns_reply_truncated(up.b, 11), 0);
}

/* ---- malformed upstream replies ----------------------------------------- */

static int
build_err(const char *qname, uint16_t qtype)
{
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int err = 0;

	CU_ASSERT_EQUAL_FATAL(client_query(qname, qtype, 0, 0, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	CU_ASSERT_PTR_NULL(a);
	free(a);
	return err;
}

static void
test_malformed_upstream(void)
{
	size_t at;

	/* rdlength running past the message. */
	build_a();
	up.b[up.n - 5] = 9;
	CU_ASSERT_EQUAL(build_err("www.example.com", HD_DNS_TYPE_A), -EBADMSG);
	/* A record missing: ANCOUNT larger than what follows. */
	build_aaaa();
	up.b[7] = 2;
	CU_ASSERT_EQUAL(build_err("www.example.com", HD_DNS_TYPE_AAAA), -EBADMSG);
	/* A forward pointer in CNAME RDATA. */
	up_begin("www.example.com", HD_DNS_TYPE_A, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_CNAME, 300);
	tm_ptr(&up, (uint16_t)(up.n + 2));
	tm_name(&up, "x");
	tm_rr_end(&up, at);
	CU_ASSERT_EQUAL(build_err("www.example.com", HD_DNS_TYPE_A), -EBADMSG);
	/* A bad label type in the owner. */
	build_aaaa();
	up.b[33] = 0x80;
	CU_ASSERT_EQUAL(build_err("www.example.com", HD_DNS_TYPE_AAAA), -EBADMSG);
	/* SOA rdlength (at 29 + 10) cutting off MINIMUM, then its first name. */
	build_soa();
	CU_ASSERT_EQUAL_FATAL(up.b[40], 39);
	up.b[40] = 35;
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_SOA), -EBADMSG);
	up.b[40] = 5;
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_SOA), -EBADMSG);
	/* Names that end before rdlength does: trailing garbage. */
	up_begin("example.com", HD_DNS_TYPE_CNAME, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_CNAME, 300);
	tm_name(&up, "target.example.com");
	tm_u8(&up, 0);
	tm_rr_end(&up, at);
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_CNAME), -EBADMSG);
	/* MX too short for its preference; NAPTR string past the RDATA. */
	up_begin("example.com", HD_DNS_TYPE_MX, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_MX, 300);
	tm_u8(&up, 0);
	tm_rr_end(&up, at);
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -EBADMSG);
	up_begin("example.com", HD_DNS_TYPE_NAPTR, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_NAPTR, 300);
	tm_u32(&up, 0);
	tm_u8(&up, 40);
	tm_bytes(&up, "abc", 3);
	tm_rr_end(&up, at);
	tm_bytes(&up, "0123456789012345678901234567890123456789", 40);
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_NAPTR), -EBADMSG);
	/* An empty CNAME. */
	up_begin("example.com", HD_DNS_TYPE_CNAME, 0, 1, 0, 0);
	at = rr_ptr(12, HD_DNS_TYPE_CNAME, 300);
	tm_rr_end(&up, at);
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_CNAME), -EBADMSG);
	/* Cut short anywhere after the question. */
	build_mx();
	size_t full = up.n;

	for (up.n = 12 + 13 + 4 + 1; up.n < full; up.n++)
		CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -EBADMSG);
}

static void
test_not_a_reply_to_us(void)
{
	/* Another question. */
	build_mx();
	CU_ASSERT_EQUAL(build_err("example.org", HD_DNS_TYPE_MX), -EPROTO);
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_A), -EPROTO);
	/* Not a response. */
	up.b[2] &= 0x7f;
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -EPROTO);
	/* No question. */
	build_mx();
	up.b[5] = 0;
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -EPROTO);
	/* Rcodes we do not cache. */
	build_mx();
	up.b[3] = (uint8_t)((up.b[3] & 0xf0) | HD_DNS_RCODE_SERVFAIL);
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -ENOTSUP);
	up.b[3] = (uint8_t)((up.b[3] & 0xf0) | HD_DNS_RCODE_REFUSED);
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -ENOTSUP);
	/* A truncated reply is never cached. */
	build_mx();
	up.b[2] |= 0x02;
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -ENOTSUP);
	/* Shorter than a header. */
	build_mx();
	up.n = 11;
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_MX), -EBADMSG);
}

static void
test_too_many_records(void)
{
	size_t i, at;

	/* 600 tiny records: more work than one reply may cost. */
	up_begin("example.com", HD_DNS_TYPE_A, 0, 600, 0, 0);
	for (i = 0; i < 600; i++) {
		at = rr_ptr(12, HD_DNS_TYPE_A, 300);
		tm_u32(&up, (uint32_t)i);
		tm_rr_end(&up, at);
	}
	CU_ASSERT_EQUAL(build_err("example.com", HD_DNS_TYPE_A), -ENOTSUP);

	/* 500 are fine, and the reply needs TCP. */
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	int err, len;

	up.b[6] = 500 >> 8;
	up.b[7] = 500 & 0xff;
	CU_ASSERT_EQUAL_FATAL(client_query("example.com", HD_DNS_TYPE_A, 0, 0, 0, &q), 0);
	a = hd_dns_answer_build(up.b, up.n, &q, NOW, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ancount, 500);
	CU_ASSERT_EQUAL(a->n_ttl, 500);
	CU_ASSERT_EQUAL(a->len, 500 * 16);
	len = write_reply(&q, a, NOW, 0, 65535);
	CU_ASSERT_EQUAL(len, q.question_end + 500 * 16);
	CU_ASSERT_EQUAL(reply[7], 500 & 0xff);
	free(a);
}

/* ---- robustness --------------------------------------------------------- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

struct sample {
	void (*build)(void);
	const char *qname;
	uint16_t qtype;
};

static void build_nx_sample(void) { build_nxdomain(HD_DNS_RCODE_NXDOMAIN, 3600, 300); }

static const struct sample samples[] = {
	{ build_a, "www.example.com", HD_DNS_TYPE_A },
	{ build_cname_chain, "www.example.com", HD_DNS_TYPE_A },
	{ build_mx, "example.com", HD_DNS_TYPE_MX },
	{ build_txt, "example.com", HD_DNS_TYPE_TXT },
	{ build_ns, "example.com", HD_DNS_TYPE_NS },
	{ build_srv, "_sip._tcp.example.com", HD_DNS_TYPE_SRV },
	{ build_naptr, "example.com", HD_DNS_TYPE_NAPTR },
	{ build_dname, "www.example.com", HD_DNS_TYPE_A },
	{ build_rare, "example.com", HD_DNS_TYPE_ANY },
	{ build_transport_records, "www.example.com", HD_DNS_TYPE_A },
	{ build_nx_sample, "nx.example.com", HD_DNS_TYPE_A },
};

/* Whatever answer_build accepts must give a reply a strict reader accepts. */
static void
fuzz_one(const uint8_t *msg, size_t len, const struct hd_dns_query *q, int *built)
{
	struct hd_dns_answer *a;
	uint8_t *copy = malloc(len ? len : 1);	/* exact size: ASan sees overreads */
	int err, n;

	memcpy(copy, msg, len);
	a = hd_dns_answer_build(copy, len, q, NOW, NULL, &err);
	free(copy);
	if (a == NULL) {
		CU_ASSERT(err == -EBADMSG || err == -EPROTO || err == -ENOTSUP);
		return;
	}
	(*built)++;
	CU_ASSERT_EQUAL(err, 0);
	n = write_reply(q, a, NOW + 1, 0, 65535);
	CU_ASSERT_FATAL(n > 0);
	tr_bad_pointer = 0;
	if (tr_parse(reply, (size_t)n, &pr) != 0 || tr_bad_pointer || pr.end != (size_t)n)
		CU_FAIL("a reply from an accepted answer does not parse");
	CU_ASSERT_EQUAL(pr.n_rr, a->ancount + a->nscount + a->arcount);
	free(a);
}

static void
test_robustness_answer(void)
{
	struct hd_dns_query q;
	uint8_t buf[2048];
	size_t s, i, len;
	int built = 0;

	for (s = 0; s < RTE_DIM(samples); s++) {
		samples[s].build();
		CU_ASSERT_EQUAL_FATAL(client_query(samples[s].qname, samples[s].qtype, 0, 0, 0,
						   &q), 0);
		size_t orig = up.n;

		memcpy(buf, up.b, orig);
		for (i = 0; i < 10000; i++) {
			int flips = 1 + (int)(rnd() % 4), f;

			memcpy(up.b, buf, orig);
			len = orig;
			for (f = 0; f < flips; f++) {
				/* Mostly after the question, so the reply stays "ours". */
				size_t lo = rnd() % 4 ? (size_t)q.question_end : 0;
				size_t at = lo + rnd() % (orig - lo);

				up.b[at] ^= (uint8_t)(1u << (rnd() % 8));
			}
			if (rnd() % 4 == 0)
				len = rnd() % (orig + 1);
			fuzz_one(up.b, len, &q, &built);
		}
		/* Random bytes after a valid header and question. */
		for (i = 0; i < 1000; i++) {
			len = q.question_end + rnd() % 300;
			memcpy(up.b, buf, q.question_end);
			for (size_t b = q.question_end; b < len; b++)
				up.b[b] = (uint8_t)rnd();
			up.b[6] = 0;
			up.b[7] = (uint8_t)(rnd() % 8);
			fuzz_one(up.b, len, &q, &built);
		}
	}
	/* Pure noise. */
	for (i = 0; i < 5000; i++) {
		len = rnd() % 600;
		for (size_t b = 0; b < len; b++)
			up.b[b] = (uint8_t)rnd();
		fuzz_one(up.b, len, &q, &built);
	}
	/* The mutations must reach the accepting paths too, not only errors. */
	CU_ASSERT(built > 1000);
}

static void
test_robustness_query(void)
{
	struct hd_dns_query q;
	uint8_t orig[128], out[700];
	size_t olen, len, i;
	int accepted = 0;

	tm_query(&cq, 0x1234, HD_DNS_RD, "www.Example.com", HD_DNS_TYPE_A, 1, 1232, 0, 1);
	olen = cq.n;
	memcpy(orig, cq.b, olen);
	for (i = 0; i < 100000; i++) {
		uint8_t *copy;
		int rc, flips = 1 + (int)(rnd() % 3), f;

		memcpy(cq.b, orig, olen);
		len = olen;
		for (f = 0; f < flips; f++)
			cq.b[rnd() % olen] ^= (uint8_t)(1u << (rnd() % 8));
		if (rnd() % 4 == 0)
			len = rnd() % (olen + 1);
		if (i % 5 == 0) {
			len = rnd() % 120;
			for (size_t b = 0; b < len; b++)
				cq.b[b] = (uint8_t)rnd();
		}
		copy = malloc(len ? len : 1);
		memcpy(copy, cq.b, len);
		rc = hd_dns_query_parse(copy, len, &q);
		free(copy);
		if (rc < 0) {
			CU_ASSERT_EQUAL(rc, -EINVAL);
			continue;
		}
		CU_ASSERT(q.question_end <= len);
		if (rc == 0) {
			accepted++;
			CU_ASSERT(hd_dns_query_write(out, sizeof(out), &q, 1) > 0);
		}
		/* Any parsed query can be answered with an rcode. */
		memcpy(out, cq.b, len);
		CU_ASSERT(hd_dns_reply_rcode(out, sizeof(out), &q,
					     rc ? rc : HD_DNS_RCODE_SERVFAIL) > 0);
	}
	CU_ASSERT(accepted > 100);
}

static const struct t_case cases[] = {
	T_CASE(test_a),
	T_CASE(test_aaaa),
	T_CASE(test_cname_chain),
	T_CASE(test_cname_targets),
	T_CASE(test_mx),
	T_CASE(test_txt),
	T_CASE(test_ns),
	T_CASE(test_soa),
	T_CASE(test_srv),
	T_CASE(test_ptr),
	T_CASE(test_caa),
	T_CASE(test_https),
	T_CASE(test_svcb),
	T_CASE(test_naptr),
	T_CASE(test_dname),
	T_CASE(test_unknown),
	T_CASE(test_rare_types),
	T_CASE(test_transport_records_stripped),
	T_CASE(test_nxdomain),
	T_CASE(test_nodata),
	T_CASE(test_negative_without_soa),
	T_CASE(test_ttl_limits),
	T_CASE(test_ttl_aging_and_stale),
	T_CASE(test_truncation),
	T_CASE(test_badvers_reply),
	T_CASE(test_rcode_replies),
	T_CASE(test_reply_matches),
	T_CASE(test_malformed_upstream),
	T_CASE(test_not_a_reply_to_us),
	T_CASE(test_too_many_records),
	T_CASE(test_robustness_answer),
	T_CASE(test_robustness_query),
};

int
main(void)
{
	return t_run("dns_answer", cases, RTE_DIM(cases));
}
