/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthesized replies (local records, blocked names): a client query built
 * by hand goes through hd_dns_query_parse() and hd_dns_reply_synth(), and
 * the reply is read back with the test's own reader, so what is checked is
 * what a client would see: rcode and flags, records and their owners in the
 * client's letter case, the SOA of a negative answer, the EDE option only
 * for EDNS clients, TC when the records do not fit.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_test.h"

static struct tmsg cq;
static uint8_t reply[65536];
static struct tparsed pr;
static struct hd_dns_query q;

static const uint8_t v4[4] = { 192, 168, 1, 10 };
static const uint8_t v6[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
/* lab.home.arpa */
static const uint8_t apex[] = "\003lab\004home\004arpa";
/* SOA RDATA: localhost. nobody.invalid. 1 3600 1200 604800 300 */
static const uint8_t soa_rd[] = "\011localhost\000\006nobody\007invalid"
	"\000\000\000\000\001\000\000\016\020\000\000\004\260\000\011\072\200\000\000\001\054";
#define SOA_RDLEN (11 + 16 + 20)

static void
query(const char *qname, uint16_t qtype, int edns, uint16_t size, int do_bit, uint16_t flags)
{
	tm_query(&cq, 0x4242, flags, qname, qtype, edns, size, 0, do_bit);
	CU_ASSERT_FATAL(hd_dns_query_parse(cq.b, cq.n, &q) == 0);
	memcpy(reply, cq.b, cq.n);
}

static int
synth(const struct hd_dns_synth *s, size_t limit)
{
	int n = hd_dns_reply_synth(reply, sizeof(reply), &q, s, limit);

	if (n > 0) {
		CU_ASSERT_FATAL(tr_parse(reply, (size_t)n, &pr) == 0);
		CU_ASSERT(pr.end == (size_t)n);
		CU_ASSERT(tr_bad_pointer == 0);
	}
	return n;
}

static struct hd_dns_rr
rr(const uint8_t *owner, size_t olen, uint16_t type, uint32_t ttl, const uint8_t *rd,
   uint16_t rdlen)
{
	struct hd_dns_rr r = {
		.owner = owner, .owner_len = (uint16_t)olen, .type = type,
		.rclass = HD_DNS_CLASS_IN, .ttl = ttl, .rdata = rd, .rdlen = rdlen,
	};

	return r;
}

/* The question comes back exactly as the client wrote it. */
static void
check_question(void)
{
	CU_ASSERT(pr.id == 0x4242);
	CU_ASSERT(pr.qd == 1);
	CU_ASSERT(pr.qname_len == (int)q.qname_len);
	CU_ASSERT(memcmp(pr.qname, cq.b + 12, q.qname_len) == 0);
	CU_ASSERT(pr.qtype == q.qtype);
}

/* Bytes of the EDE option, found at the end of the OPT RDATA. */
static const uint8_t *
opt_rdata(size_t len)
{
	return reply + len - pr.opt_rdlen;
}

static void
test_nxdomain_soa(void)
{
	struct hd_dns_rr soa = rr(apex, sizeof(apex), HD_DNS_TYPE_SOA, 300, soa_rd, SOA_RDLEN);
	struct hd_dns_synth s = {
		.rcode = HD_DNS_RCODE_NXDOMAIN, .flags = HD_DNS_AA, .ede = HD_DNS_EDE_NONE,
		.ns = &soa, .n_ns = 1,
	};
	int n;

	query("NoSuch.Lab.Home.ARPA", HD_DNS_TYPE_A, 0, 0, 0, HD_DNS_RD);
	n = synth(&s, 512);
	CU_ASSERT_FATAL(n > 0);
	check_question();
	CU_ASSERT((pr.flags & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_NXDOMAIN);
	CU_ASSERT(pr.flags & HD_DNS_QR);
	CU_ASSERT(pr.flags & HD_DNS_AA);
	CU_ASSERT(pr.flags & HD_DNS_RA);
	CU_ASSERT(pr.flags & HD_DNS_RD);
	CU_ASSERT(!(pr.flags & HD_DNS_TC));
	CU_ASSERT(pr.an == 0 && pr.ns == 1 && pr.ar == 0);
	CU_ASSERT(!pr.has_opt);
	CU_ASSERT_FATAL(pr.n_rr == 1);
	CU_ASSERT(pr.rr[0].sec == 1);
	CU_ASSERT(pr.rr[0].type == HD_DNS_TYPE_SOA);
	CU_ASSERT(pr.rr[0].ttl == 300);
	CU_ASSERT(pr.rr[0].owner_len == (int)sizeof(apex));
	CU_ASSERT(memcmp(pr.rr[0].owner, apex, sizeof(apex)) == 0);
	/* The SOA's names are decompressed by the reader: same as given. */
	CU_ASSERT(pr.rr[0].rd_len == SOA_RDLEN);
	CU_ASSERT(memcmp(pr.rr[0].rd, soa_rd, SOA_RDLEN) == 0);
	/* The owner is a pointer to "Lab.Home.ARPA" inside the question. */
	CU_ASSERT(reply[q.question_end] == 0xc0);
	CU_ASSERT(reply[q.question_end + 1] == 12 + 7);
	/* Whole reply: header, question, one 2-byte owner + 10 + SOA RDATA. */
	CU_ASSERT(n == q.question_end + 2 + 10 + SOA_RDLEN);
}

static void
test_a_aaaa_answers(void)
{
	struct hd_dns_rr an[3] = {
		rr(NULL, 0, HD_DNS_TYPE_A, 60, v4, 4),
		rr(NULL, 0, HD_DNS_TYPE_AAAA, 120, v6, 16),
		/* An owner equal to the qname in another case: pointer too. */
		rr((const uint8_t *)"\003nas\003lab\004home\004arpa", 19, HD_DNS_TYPE_A, 60, v4, 4),
	};
	struct hd_dns_synth s = {
		.rcode = HD_DNS_RCODE_NOERROR, .ede = HD_DNS_EDE_NONE, .an = an, .n_an = 3,
	};
	int n, i;

	query("NaS.lAb.home.arpa", HD_DNS_TYPE_ANY, 0, 0, 0, HD_DNS_RD | HD_DNS_CD);
	n = synth(&s, 512);
	CU_ASSERT_FATAL(n > 0);
	check_question();
	CU_ASSERT((pr.flags & HD_DNS_RCODE_MASK) == 0);
	CU_ASSERT(!(pr.flags & HD_DNS_AA));
	CU_ASSERT(pr.flags & HD_DNS_CD);
	CU_ASSERT(pr.an == 3 && pr.ns == 0 && pr.ar == 0);
	CU_ASSERT_FATAL(pr.n_rr == 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT(pr.rr[i].sec == 0);
		CU_ASSERT(pr.rr[i].rclass == HD_DNS_CLASS_IN);
		CU_ASSERT(pr.rr[i].owner_len == (int)q.qname_len);
		CU_ASSERT(memcmp(pr.rr[i].owner, q.lname, q.qname_len) == 0);
	}
	CU_ASSERT(pr.rr[0].type == HD_DNS_TYPE_A && pr.rr[0].ttl == 60);
	CU_ASSERT(pr.rr[0].rd_len == 4 && memcmp(pr.rr[0].rd, v4, 4) == 0);
	CU_ASSERT(pr.rr[1].type == HD_DNS_TYPE_AAAA && pr.rr[1].ttl == 120);
	CU_ASSERT(pr.rr[1].rd_len == 16 && memcmp(pr.rr[1].rd, v6, 16) == 0);
	/* Every owner is the 2-byte pointer to the client's qname. */
	CU_ASSERT(n == q.question_end + 3 * (2 + 10) + 4 + 16 + 4);
	CU_ASSERT(reply[q.question_end] == 0xc0 && reply[q.question_end + 1] == 12);
}

static void
test_owner_forms(void)
{
	/* Under the qname, unrelated, and the root. */
	static const uint8_t below[] = "\001_\003nas\003lab\004home\004arpa";
	static const uint8_t other[] = "\007example\003com";
	static const uint8_t root[] = "";
	struct hd_dns_rr an[3] = {
		rr(below, sizeof(below), HD_DNS_TYPE_TXT, 1, (const uint8_t *)"\001x", 2),
		rr(other, sizeof(other), HD_DNS_TYPE_A, 2, v4, 4),
		rr(root, 1, HD_DNS_TYPE_A, 3, v4, 4),
	};
	struct hd_dns_synth s = {
		.rcode = HD_DNS_RCODE_NOERROR, .ede = HD_DNS_EDE_NONE, .an = an, .n_an = 3,
	};
	size_t p;
	int n;

	query("nas.lab.home.arpa", HD_DNS_TYPE_A, 0, 0, 0, 0);
	n = synth(&s, 512);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(pr.n_rr == 3);
	CU_ASSERT(pr.rr[0].owner_len == (int)sizeof(below));
	CU_ASSERT(memcmp(pr.rr[0].owner, below, sizeof(below)) == 0);
	CU_ASSERT(memcmp(pr.rr[1].owner, other, sizeof(other)) == 0);
	CU_ASSERT(pr.rr[2].owner_len == 1);
	p = q.question_end;
	/* "\001_" then a pointer to the question. */
	CU_ASSERT(reply[p] == 1 && reply[p + 1] == '_' && reply[p + 2] == 0xc0 && reply[p + 3] == 12);
	CU_ASSERT(!(pr.flags & HD_DNS_RD));
}

static void
test_ede_iff_edns(void)
{
	struct hd_dns_rr a = rr(NULL, 0, HD_DNS_TYPE_A, 10, (const uint8_t *)"\0\0\0\0", 4);
	struct hd_dns_synth s = {
		.rcode = HD_DNS_RCODE_NOERROR, .ede = HD_DNS_EDE_BLOCKED,
		.ede_text = "blocked by list ads.txt", .an = &a, .n_an = 1,
	};
	size_t tl = strlen(s.ede_text);
	const uint8_t *o;
	int n;

	/* With EDNS (and DO): OPT, DO echoed, EDE code 15 and the text. */
	query("ads.example.com", HD_DNS_TYPE_A, 1, 4096, 1, HD_DNS_RD);
	n = synth(&s, 1232);
	CU_ASSERT_FATAL(n > 0);
	check_question();
	CU_ASSERT(pr.an == 1 && pr.ar == 1);
	CU_ASSERT_FATAL(pr.has_opt);
	CU_ASSERT(pr.opt_ttl & 0x8000);
	CU_ASSERT((pr.opt_ttl >> 24) == 0);
	CU_ASSERT(pr.opt_class == hd_dns_edns_size());
	CU_ASSERT_FATAL(pr.opt_rdlen == 6 + tl);
	o = opt_rdata((size_t)n);
	CU_ASSERT(tr_u16(o) == 15);
	CU_ASSERT(tr_u16(o + 2) == 2 + tl);
	CU_ASSERT(tr_u16(o + 4) == HD_DNS_EDE_BLOCKED);
	CU_ASSERT(memcmp(o + 6, s.ede_text, tl) == 0);

	/* Without text: INFO-CODE only. */
	s.ede_text = NULL;
	query("ads.example.com", HD_DNS_TYPE_A, 1, 1232, 0, HD_DNS_RD);
	n = synth(&s, 1232);
	CU_ASSERT_FATAL(n > 0 && pr.has_opt);
	CU_ASSERT(!(pr.opt_ttl & 0x8000));
	CU_ASSERT_FATAL(pr.opt_rdlen == 6);
	o = opt_rdata((size_t)n);
	CU_ASSERT(tr_u16(o) == 15 && tr_u16(o + 2) == 2 && tr_u16(o + 4) == 15);

	/* No EDNS in the query: no OPT at all, the answer unchanged. */
	s.ede_text = "blocked";
	query("ads.example.com", HD_DNS_TYPE_A, 0, 0, 0, HD_DNS_RD);
	n = synth(&s, 512);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(!pr.has_opt && pr.ar == 0 && pr.an == 1);
	CU_ASSERT(n == q.question_end + 2 + 10 + 4);

	/* EDNS but no EDE asked for: a bare OPT. */
	s.ede = HD_DNS_EDE_NONE;
	query("ads.example.com", HD_DNS_TYPE_A, 1, 1232, 0, HD_DNS_RD);
	n = synth(&s, 1232);
	CU_ASSERT_FATAL(n > 0 && pr.has_opt);
	CU_ASSERT(pr.opt_rdlen == 0);
}

static void
test_ede_text_bounded(void)
{
	struct hd_dns_synth s = {
		.rcode = HD_DNS_RCODE_NXDOMAIN, .ede = HD_DNS_EDE_BLOCKED,
	};
	char text[400];
	const uint8_t *o;
	size_t i, tl;
	int n;

	/* "é" (2 bytes) repeated: a cut at 200 bytes must not split one. */
	text[0] = 'x';
	for (i = 1; i + 2 < sizeof(text); i += 2) {
		text[i] = (char)0xc3;
		text[i + 1] = (char)0xa9;
	}
	text[i] = '\0';
	s.ede_text = text;
	query("x.example", HD_DNS_TYPE_A, 1, 1232, 0, 0);
	n = synth(&s, 1232);
	CU_ASSERT_FATAL(n > 0 && pr.has_opt);
	tl = pr.opt_rdlen - 6u;
	CU_ASSERT(tl <= 200 && tl >= 199);
	o = opt_rdata((size_t)n);
	CU_ASSERT(memcmp(o + 6, text, tl) == 0);
	/* Ends on a whole character: the last byte is a continuation byte. */
	CU_ASSERT(((uint8_t)o[6 + tl - 1] & 0xc0) == 0x80);
}

static void
test_tc_over_limit(void)
{
	static uint8_t rd[40][4];
	struct hd_dns_rr an[40];
	struct hd_dns_synth s = {
		.rcode = HD_DNS_RCODE_NOERROR, .flags = HD_DNS_AA, .ede = HD_DNS_EDE_BLOCKED,
		.ede_text = "why", .an = an, .n_an = 40,
	};
	int n, i;

	for (i = 0; i < 40; i++) {
		rd[i][0] = 10;
		rd[i][3] = (uint8_t)i;
		an[i] = rr(NULL, 0, HD_DNS_TYPE_A, 60, rd[i], 4);
	}
	/* 40 * 16 bytes of records: over 512, under 1232. */
	query("many.lab.home.arpa", HD_DNS_TYPE_A, 0, 0, 0, HD_DNS_RD);
	n = synth(&s, hd_dns_udp_limit(&q, 1232));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(n <= 512);
	CU_ASSERT(pr.flags & HD_DNS_TC);
	CU_ASSERT(pr.flags & HD_DNS_AA);
	CU_ASSERT(pr.an == 0 && pr.ns == 0 && pr.ar == 0);
	CU_ASSERT(n == q.question_end);
	check_question();

	/* With EDNS the OPT (and EDE) survive truncation. */
	query("many.lab.home.arpa", HD_DNS_TYPE_A, 1, 600, 0, HD_DNS_RD);
	n = synth(&s, hd_dns_udp_limit(&q, 1232));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(n <= 600);
	CU_ASSERT(pr.flags & HD_DNS_TC);
	CU_ASSERT(pr.an == 0 && pr.ar == 1 && pr.has_opt);
	CU_ASSERT(pr.opt_rdlen == 6 + 3);

	/* A limit that fits them: everything, no TC. */
	query("many.lab.home.arpa", HD_DNS_TYPE_A, 1, 1232, 0, HD_DNS_RD);
	n = synth(&s, hd_dns_udp_limit(&q, 1232));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(!(pr.flags & HD_DNS_TC));
	CU_ASSERT(pr.an == 40);
	CU_ASSERT_FATAL(pr.n_rr == 40);
	CU_ASSERT(pr.rr[39].rd[3] == 39);

	/* Exactly at the limit fits; one byte less truncates. */
	CU_ASSERT(synth(&s, (size_t)n) == n);
	CU_ASSERT(!(pr.flags & HD_DNS_TC));
	CU_ASSERT(synth(&s, (size_t)n - 1) > 0);
	CU_ASSERT(pr.flags & HD_DNS_TC);
}

static void
test_errors(void)
{
	struct hd_dns_synth s = { .rcode = HD_DNS_RCODE_BADVERS, .ede = HD_DNS_EDE_NONE };
	static const uint8_t bad_owner[] = "\077ab";
	struct hd_dns_rr a = rr(bad_owner, sizeof(bad_owner), HD_DNS_TYPE_A, 1, v4, 4);
	struct hd_dns_query nq;

	query("x.example", HD_DNS_TYPE_A, 1, 1232, 0, 0);
	/* Extended rcodes are not synthesized (BADVERS is hd_dns_reply_rcode's). */
	CU_ASSERT(hd_dns_reply_synth(reply, sizeof(reply), &q, &s, 1232) == -EINVAL);
	/* No question to echo. */
	s.rcode = HD_DNS_RCODE_REFUSED;
	nq = q;
	nq.question_end = 0;
	CU_ASSERT(hd_dns_reply_synth(reply, sizeof(reply), &nq, &s, 1232) == -EINVAL);
	/* A malformed owner is refused, not written. */
	s.an = &a;
	s.n_an = 1;
	CU_ASSERT(hd_dns_reply_synth(reply, sizeof(reply), &q, &s, 1232) == -EINVAL);
	/* REFUSED with nothing else fits; a buffer smaller than it does not. */
	s.n_an = 0;
	CU_ASSERT(synth(&s, 1232) == q.question_end + HD_DNS_OPT_LEN);
	CU_ASSERT((pr.flags & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_REFUSED);
	CU_ASSERT(hd_dns_reply_synth(reply, q.question_end + 5, &q, &s, 1232) == -ENOSPC);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_nxdomain_soa),
		T_CASE(test_a_aaaa_answers),
		T_CASE(test_owner_forms),
		T_CASE(test_ede_iff_edns),
		T_CASE(test_ede_text_bounded),
		T_CASE(test_tc_over_limit),
		T_CASE(test_errors),
	};

	return t_run("dns_synth", cases, RTE_DIM(cases));
}
