/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client query parsing: what gets answered, with which rcode, and what is
 * dropped; and the query written upstream.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_test.h"

static struct tmsg m;

static int
parse(struct hd_dns_query *q)
{
	return hd_dns_query_parse(m.b, m.n, q);
}

static void
test_plain_a(void)
{
	struct hd_dns_query q;

	tm_query(&m, 0xbeef, HD_DNS_RD, "www.example.com", HD_DNS_TYPE_A, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(q.id, 0xbeef);
	CU_ASSERT_EQUAL(q.flags, HD_DNS_RD);
	CU_ASSERT_EQUAL(q.qtype, HD_DNS_TYPE_A);
	CU_ASSERT_EQUAL(q.qclass, HD_DNS_CLASS_IN);
	CU_ASSERT_EQUAL(q.qname_len, 17);
	CU_ASSERT_EQUAL(q.question_end, 12 + 17 + 4);
	CU_ASSERT_EQUAL(q.msg_len, m.n);
	CU_ASSERT_EQUAL(q.has_edns, 0);
	CU_ASSERT_EQUAL(q.do_bit, 0);
	CU_ASSERT_EQUAL(memcmp(q.lname, "\3www\7example\3com", 17), 0);
	CU_ASSERT_EQUAL(hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE), 512);
}

static void
test_edns(void)
{
	struct hd_dns_query q;

	tm_query(&m, 1, 0, "example.com", HD_DNS_TYPE_AAAA, 1, 4096, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(q.has_edns, 1);
	CU_ASSERT_EQUAL(q.edns_size, 4096);
	CU_ASSERT_EQUAL(q.edns_version, 0);
	CU_ASSERT_EQUAL(q.do_bit, 0);
	CU_ASSERT_EQUAL(hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE), HD_DNS_EDNS_SIZE);

	tm_query(&m, 1, 0, "example.com", HD_DNS_TYPE_AAAA, 1, 1400, 0, 1);
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(q.do_bit, 1);
	CU_ASSERT_EQUAL(q.edns_size, 1400);
	CU_ASSERT_EQUAL(hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE), HD_DNS_EDNS_SIZE);
	CU_ASSERT_EQUAL(hd_dns_udp_limit(&q, 4096), 1400);

	/* A size below 512 means 512. */
	tm_query(&m, 1, 0, "example.com", HD_DNS_TYPE_AAAA, 1, 100, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(q.edns_size, 512);
	CU_ASSERT_EQUAL(hd_dns_udp_limit(&q, HD_DNS_EDNS_SIZE), 512);
}

static void
test_case_kept_in_msg(void)
{
	struct hd_dns_query q;
	uint8_t copy[128];

	tm_query(&m, 7, 0, "WwW.ExAmPlE.CoM", HD_DNS_TYPE_A, 1, 1232, 0, 0);
	memcpy(copy, m.b, m.n);
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(memcmp(copy, m.b, m.n), 0);
	CU_ASSERT_EQUAL(memcmp(m.b + 12, "\3WwW\7ExAmPlE\3CoM", 17), 0);
	CU_ASSERT_EQUAL(memcmp(q.lname, "\3www\7example\3com", 17), 0);
}

static void
test_root_and_long_names(void)
{
	struct hd_dns_query q;
	char s[300];

	tm_query(&m, 7, 0, ".", HD_DNS_TYPE_NS, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(q.qname_len, 1);
	CU_ASSERT_EQUAL(q.question_end, 17);

	/* 255 bytes on the wire: fine. */
	memset(s, 'q', sizeof(s));
	s[63] = s[127] = s[191] = '.';
	s[253] = '\0';
	tm_query(&m, 7, 0, s, HD_DNS_TYPE_A, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(q.qname_len, 255);
	/* 256: FORMERR, and no question to echo. */
	s[253] = 'q';
	s[254] = '\0';
	tm_query(&m, 7, 0, s, HD_DNS_TYPE_A, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(q.question_end, 0);
}

static void
test_drop(void)
{
	struct hd_dns_query q;
	size_t len;

	tm_query(&m, 7, HD_DNS_QR, "example.com", HD_DNS_TYPE_A, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), -EINVAL);
	tm_query(&m, 7, 0, "example.com", HD_DNS_TYPE_A, 0, 0, 0, 0);
	for (len = 0; len < 12; len++)
		CU_ASSERT_EQUAL(hd_dns_query_parse(m.b, len, &q), -EINVAL);
}

static void
test_formerr_counts(void)
{
	struct hd_dns_query q;

	/* No question: FORMERR with nothing to echo. */
	tm_init(&m);
	tm_hdr(&m, 9, 0, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(q.question_end, 0);
	CU_ASSERT_EQUAL(q.id, 9);

	/* Two questions. */
	tm_init(&m);
	tm_hdr(&m, 9, 0, 2, 0, 0, 0);
	tm_name(&m, "a.example");
	tm_u16(&m, 1);
	tm_u16(&m, 1);
	tm_name(&m, "b.example");
	tm_u16(&m, 1);
	tm_u16(&m, 1);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);

	/* Records in the answer or authority section of a query. */
	tm_query(&m, 9, 0, "example.com", HD_DNS_TYPE_A, 0, 0, 0, 0);
	m.b[7] = 1;
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(q.question_end, 12 + 13 + 4);	/* the question is echoed */
	m.b[7] = 0;
	m.b[9] = 1;
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
}

static void
test_formerr_qname(void)
{
	struct hd_dns_query q;

	/* A compression pointer in the qname. */
	tm_init(&m);
	tm_hdr(&m, 9, 0, 1, 0, 0, 0);
	tm_labels(&m, "www");
	tm_ptr(&m, 12);
	tm_u16(&m, 1);
	tm_u16(&m, 1);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(q.question_end, 0);

	/* Reserved label types. */
	tm_init(&m);
	tm_hdr(&m, 9, 0, 1, 0, 0, 0);
	tm_u8(&m, 0x41);
	tm_u8(&m, 0);
	tm_u16(&m, 1);
	tm_u16(&m, 1);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	m.b[12] = 0x81;
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
}

static void
test_formerr_opt(void)
{
	struct hd_dns_query q;

	/* Two OPT records. */
	tm_init(&m);
	tm_hdr(&m, 9, 0, 1, 0, 0, 2);
	tm_name(&m, "example.com");
	tm_u16(&m, 1);
	tm_u16(&m, 1);
	tm_opt(&m, 1232, 0, 0);
	tm_opt(&m, 1232, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(q.has_edns, 0);	/* the bad OPT is not echoed */
	CU_ASSERT(q.question_end != 0);

	/* OPT whose owner is not the root. */
	tm_init(&m);
	tm_hdr(&m, 9, 0, 1, 0, 0, 1);
	tm_name(&m, "example.com");
	tm_u16(&m, 1);
	tm_u16(&m, 1);
	tm_ptr(&m, 12);
	size_t at = tm_rr(&m, HD_DNS_TYPE_OPT, 1232, 0);

	tm_rr_end(&m, at);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(q.has_edns, 0);

	/* An additional record whose rdlength runs past the message. */
	tm_query(&m, 9, 0, "example.com", HD_DNS_TYPE_A, 1, 1232, 0, 0);
	m.b[m.n - 1] = 5;
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
	/* ARCOUNT claiming more records than there are. */
	tm_query(&m, 9, 0, "example.com", HD_DNS_TYPE_A, 1, 1232, 0, 0);
	m.b[11] = 2;
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_FORMERR);
}

static void
test_other_additional(void)
{
	struct hd_dns_query q;

	/* A non-OPT record (e.g. a TSIG, compressed owner) before the OPT. */
	tm_init(&m);
	tm_hdr(&m, 9, 0, 1, 0, 0, 2);
	tm_name(&m, "example.com");
	tm_u16(&m, 1);
	tm_u16(&m, 1);
	tm_labels(&m, "key");
	tm_ptr(&m, 12);
	size_t at = tm_rr(&m, 250, 255, 0);

	tm_bytes(&m, "0123456789", 10);
	tm_rr_end(&m, at);
	tm_opt(&m, 2048, 0, 1);
	tm_bytes(&m, "trailing", 8);	/* ignored */
	CU_ASSERT_EQUAL(parse(&q), 0);
	CU_ASSERT_EQUAL(q.has_edns, 1);
	CU_ASSERT_EQUAL(q.edns_size, 2048);
	CU_ASSERT_EQUAL(q.do_bit, 1);
}

static void
test_notimpl(void)
{
	struct hd_dns_query q;
	uint16_t op;

	for (op = 1; op < 16; op++) {
		tm_query(&m, 9, (uint16_t)(op << 11), "example.com", HD_DNS_TYPE_SOA, 1, 1232, 0, 0);
		CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_NOTIMPL);
		CU_ASSERT(q.question_end != 0);
		CU_ASSERT_EQUAL(q.has_edns, 1);
	}
	/* An UPDATE-like layout with records after the zone: still NOTIMPL. */
	tm_query(&m, 9, 5 << 11, "example.com", HD_DNS_TYPE_SOA, 0, 0, 0, 0);
	m.b[7] = 3;
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_NOTIMPL);
	tm_init(&m);
	tm_hdr(&m, 9, 4 << 11, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_NOTIMPL);
	CU_ASSERT_EQUAL(q.question_end, 0);
}

static void
test_badvers(void)
{
	struct hd_dns_query q;

	tm_query(&m, 9, 0, "example.com", HD_DNS_TYPE_A, 1, 1232, 1, 1);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_BADVERS);
	CU_ASSERT_EQUAL(q.has_edns, 1);
	CU_ASSERT_EQUAL(q.edns_version, 1);
	CU_ASSERT_EQUAL(q.do_bit, 1);
	CU_ASSERT_EQUAL(q.question_end, 12 + 13 + 4);
}

static void
test_refused_xfr(void)
{
	struct hd_dns_query q;

	tm_query(&m, 9, 0, "example.com", HD_DNS_TYPE_AXFR, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_REFUSED);
	CU_ASSERT(q.question_end != 0);
	tm_query(&m, 9, 0, "example.com", HD_DNS_TYPE_IXFR, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(parse(&q), HD_DNS_RCODE_REFUSED);
}

static void
test_every_prefix(void)
{
	struct hd_dns_query q;
	size_t full, len;
	size_t qend = 12 + 17 + 4;

	/* Heap copies so ASan sees any read past each prefix. */
	tm_query(&m, 9, 0, "www.example.com", HD_DNS_TYPE_A, 1, 1232, 0, 1);
	full = m.n;
	for (len = 0; len <= full; len++) {
		uint8_t *p = malloc(len ? len : 1);
		int rc;

		memcpy(p, m.b, len);
		rc = hd_dns_query_parse(p, len, &q);
		if (len < 12) {
			CU_ASSERT_EQUAL(rc, -EINVAL);
		} else if (len < qend) {
			/* Cut inside the question: truncated, dropped. */
			CU_ASSERT_EQUAL(rc, -EINVAL);
			CU_ASSERT_EQUAL(q.question_end, 0);
		} else if (len < full) {
			CU_ASSERT_EQUAL(rc, HD_DNS_RCODE_FORMERR);
			CU_ASSERT_EQUAL(q.question_end, qend);
		} else {
			CU_ASSERT_EQUAL(rc, 0);
		}
		free(p);
	}
}

static void
test_query_write(void)
{
	struct hd_dns_query q, q2;
	uint8_t out[600];
	int n;

	tm_query(&m, 9, HD_DNS_CD, "WWW.Example.COM", HD_DNS_TYPE_MX, 1, 4096, 0, 1);
	CU_ASSERT_EQUAL_FATAL(parse(&q), 0);
	n = hd_dns_query_write(out, sizeof(out), &q, 0x4242);
	CU_ASSERT_EQUAL(n, 12 + 17 + 4 + 11);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(out, (size_t)n, &q2), 0);
	CU_ASSERT_EQUAL(q2.id, 0x4242);
	CU_ASSERT(q2.flags & HD_DNS_RD);
	CU_ASSERT(q2.flags & HD_DNS_CD);
	CU_ASSERT_EQUAL(q2.qtype, HD_DNS_TYPE_MX);
	CU_ASSERT_EQUAL(q2.has_edns, 1);
	CU_ASSERT_EQUAL(q2.edns_size, HD_DNS_EDNS_SIZE);
	CU_ASSERT_EQUAL(q2.do_bit, 1);
	/* Sent lowercased. */
	CU_ASSERT_EQUAL(memcmp(out + 12, "\3www\7example\3com", 17), 0);

	/* No DO, no CD from the client: none upstream. */
	tm_query(&m, 9, 0, "example.com", HD_DNS_TYPE_A, 0, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(parse(&q), 0);
	n = hd_dns_query_write(out, sizeof(out), &q, 1);
	CU_ASSERT_EQUAL_FATAL(hd_dns_query_parse(out, (size_t)n, &q2), 0);
	CU_ASSERT_EQUAL(q2.do_bit, 0);
	CU_ASSERT_FALSE(q2.flags & HD_DNS_CD);
	/* Too small a buffer, at every size. */
	for (size_t cap = 0; cap < (size_t)n; cap++)
		CU_ASSERT_EQUAL(hd_dns_query_write(out, cap, &q, 1), -ENOSPC);
}

static const struct t_case cases[] = {
	T_CASE(test_plain_a),
	T_CASE(test_edns),
	T_CASE(test_case_kept_in_msg),
	T_CASE(test_root_and_long_names),
	T_CASE(test_drop),
	T_CASE(test_formerr_counts),
	T_CASE(test_formerr_qname),
	T_CASE(test_formerr_opt),
	T_CASE(test_other_additional),
	T_CASE(test_notimpl),
	T_CASE(test_badvers),
	T_CASE(test_refused_xfr),
	T_CASE(test_every_prefix),
	T_CASE(test_query_write),
};

int
main(void)
{
	return t_run("dns_query", cases, RTE_DIM(cases));
}
