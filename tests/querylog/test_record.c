/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CUnit suite for lib/querylog/record.c: what a record keeps of a name and
 * a client, how it reads as text and JSON, and which records a filter picks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hd_dns.h"
#include "hd_querylog.h"
#include "../hd_test.h"

static void
rec_make(struct hd_querylog_rec *r, const char *name, const char *client, unsigned int status,
	 uint16_t qtype)
{
	uint8_t wire[HD_DNS_NAME_MAX], addr[16];
	int n = hd_dns_name_from_str(name, wire);
	int v6 = strchr(client, ':') != NULL;

	CU_ASSERT_FATAL(n > 0);
	memset(r, 0, sizeof(*r));
	hd_dns_name_lower(wire, (size_t)n);
	hd_querylog_rec_name(r, wire, (size_t)n);
	CU_ASSERT_FATAL(inet_pton(v6 ? AF_INET6 : AF_INET, client, addr) == 1);
	hd_querylog_rec_client(r, addr, v6);
	r->status = (uint8_t)status;
	r->qtype = qtype;
	r->list = HD_QUERYLOG_LIST_NONE;
}

static void
test_record_size(void)
{
	/* Two cache lines: the ring's slots and the store's array rely on it. */
	CU_ASSERT_EQUAL(sizeof(struct hd_querylog_rec), 128);
}

static void
test_name_roundtrip(void)
{
	struct hd_querylog_rec r;
	char s[400];

	rec_make(&r, "WWW.Example.COM", "10.0.0.1", HD_QUERYLOG_CACHED, 1);
	CU_ASSERT_EQUAL(hd_querylog_name_str(&r, s, sizeof(s)), 16);
	CU_ASSERT_STRING_EQUAL(s, "www.example.com.");
	CU_ASSERT_FALSE(r.flags & HD_QUERYLOG_F_TRUNC);
	CU_ASSERT_EQUAL(hd_querylog_name_str(&r, s, 5), -ENOSPC);
}

static void
test_name_truncated_keeps_suffix(void)
{
	struct hd_querylog_rec r;
	char name[300], s[400];
	int i, off = 0;

	/* 10 labels of 20 bytes + "example.org": 221 bytes of wire form. */
	for (i = 0; i < 10; i++)
		off += snprintf(name + off, sizeof(name) - off, "aaaaaaaaaaaaaaaaaaa%c.", 'a' + i);
	snprintf(name + off, sizeof(name) - off, "example.org");
	rec_make(&r, name, "10.0.0.1", HD_QUERYLOG_CACHED, 1);
	CU_ASSERT(r.flags & HD_QUERYLOG_F_TRUNC);
	CU_ASSERT(r.name_len <= HD_QUERYLOG_NAME_MAX);
	CU_ASSERT(hd_querylog_name_str(&r, s, sizeof(s)) > 0);
	CU_ASSERT_EQUAL(strncmp(s, "...", 3), 0);
	CU_ASSERT(strstr(s, "aaaaaaaaaaaaaaaaaaaj.example.org.") != NULL);
	/* Whole labels only: the kept part starts right after the dots. */
	CU_ASSERT_EQUAL(s[3] == 'a', 1);
	CU_ASSERT(strstr(s, "aaaaaaaaaaaaaaaaaaaa.") == NULL);
}

static void
test_name_malformed_and_empty(void)
{
	struct hd_querylog_rec r;
	/* A length byte pointing past the end must not be followed. */
	uint8_t bad[120];
	char s[64];

	memset(bad, 0, sizeof(bad));
	memset(&r, 0, sizeof(r));
	bad[0] = 63;
	bad[64] = 200;
	hd_querylog_rec_name(&r, bad, sizeof(bad));
	CU_ASSERT(r.name_len <= HD_QUERYLOG_NAME_MAX);
	hd_querylog_rec_name(&r, NULL, 0);
	CU_ASSERT(r.flags & HD_QUERYLOG_F_NONAME);
	CU_ASSERT_EQUAL(hd_querylog_name_str(&r, s, sizeof(s)), 1);
	CU_ASSERT_STRING_EQUAL(s, ".");
}

static void
test_anonymize(void)
{
	struct hd_querylog_rec r;
	char s[64];

	rec_make(&r, "a.example", "10.53.0.2", 0, 1);
	hd_querylog_anonymize(&r, HD_QUERYLOG_ANON_NONE);
	hd_querylog_client_str(&r, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "10.53.0.2");
	hd_querylog_anonymize(&r, HD_QUERYLOG_ANON_MASK);
	hd_querylog_client_str(&r, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "10.53.0.0");

	rec_make(&r, "a.example", "2001:db8:1234:5678::9", 0, 1);
	hd_querylog_anonymize(&r, HD_QUERYLOG_ANON_MASK);
	hd_querylog_client_str(&r, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "2001:db8:1234::");

	rec_make(&r, "a.example", "fd53::2", 0, 1);
	hd_querylog_anonymize(&r, HD_QUERYLOG_ANON_HIDE);
	hd_querylog_client_str(&r, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "hidden");
	for (int i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(r.client[i], 0);
}

static void
test_names_and_parsers(void)
{
	CU_ASSERT_STRING_EQUAL(hd_querylog_status_name(HD_QUERYLOG_BLOCKED), "blocked");
	CU_ASSERT_PTR_NULL(hd_querylog_status_name(HD_QUERYLOG_STATUS_MAX));
	CU_ASSERT_EQUAL(hd_querylog_status_parse("Forwarded"), HD_QUERYLOG_FORWARDED);
	CU_ASSERT_EQUAL(hd_querylog_status_parse("nope"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_type_parse("aaaa"), 28);
	CU_ASSERT_EQUAL(hd_querylog_type_parse("TYPE65"), 65);
	CU_ASSERT_EQUAL(hd_querylog_type_parse("99"), 99);
	CU_ASSERT_EQUAL(hd_querylog_type_parse("70000"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_type_parse("-1"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_type_parse("TYPE"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(hd_querylog_rcode_name(3), "NXDOMAIN");
}

static void
test_json_escape(void)
{
	char out[64];

	CU_ASSERT_EQUAL(hd_querylog_json_escape("a\"b\\c", 5, out, sizeof(out)), 7);
	CU_ASSERT_STRING_EQUAL(out, "a\\\"b\\\\c");
	CU_ASSERT_EQUAL(hd_querylog_json_escape("\x01\n\x7f\xff", 4, out, sizeof(out)), 20);
	CU_ASSERT_STRING_EQUAL(out, "\\u0001\\n\\u007f\\u00ff");
	CU_ASSERT_EQUAL(hd_querylog_json_escape("abcdef", 6, out, 6), -ENOSPC);
}

static void
test_json_line_odd_name(void)
{
	/* A label holding a quote, a backslash, a dot and a control byte. */
	static const uint8_t wire[] = { 5, 'a', '"', '\\', '.', 0x01, 7, 'e', 'x', 'a', 'm', 'p',
					'l', 'e', 0 };
	struct hd_querylog_rec r;
	uint8_t addr[4] = { 10, 53, 0, 2 };
	char line[1024];
	int n;

	memset(&r, 0, sizeof(r));
	hd_querylog_rec_name(&r, wire, sizeof(wire));
	hd_querylog_rec_client(&r, addr, 0);
	r.time = 1714564800123ULL;	/* 2024-05-01T12:00:00.123Z */
	r.qtype = 1;
	r.status = HD_QUERYLOG_BLOCKED;
	r.list = 0;
	r.lcore = 1;
	n = hd_querylog_json_line(&r, "ads \"list\"", line, sizeof(line));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL((size_t)n, strlen(line));
	CU_ASSERT_EQUAL(line[n - 1], '\n');
	CU_ASSERT(strstr(line, "\"time\":\"2024-05-01T12:00:00.123Z\"") != NULL);
	/* \DDD from the name, with its backslash escaped for JSON. */
	CU_ASSERT(strstr(line, "\"name\":\"a\\\\034\\\\092\\\\046\\\\001.example.\"") != NULL);
	CU_ASSERT(strstr(line, "\"list\":\"ads \\\"list\\\"\"") != NULL);
	CU_ASSERT(strstr(line, "\"status\":\"blocked\"") != NULL);
	CU_ASSERT(strstr(line, "\"client\":\"10.53.0.2\"") != NULL);
	CU_ASSERT(strchr(line, '\n') == line + n - 1);
	CU_ASSERT_EQUAL(hd_querylog_json_line(&r, NULL, line, 40), -ENOSPC);
}

static void
test_filter_parse(void)
{
	struct hd_querylog_filter f;

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "client", "10.0.0.1"), 0);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "client", "10.0.0.0/33"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "client", "fd53::/48"), 0);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "client", "bogus"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "domain", "a..b"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "domain", ""), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "status", "blocked,bogus"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "status", ","), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "type", "XYZ"), -EINVAL);
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "colour", "red"), -ENOENT);
}

static void
test_filter_match(void)
{
	struct hd_querylog_filter f;
	struct hd_querylog_rec a, b, c, h;

	rec_make(&a, "ads.Example.com", "10.0.0.5", HD_QUERYLOG_BLOCKED, 1);
	rec_make(&b, "example.com", "10.0.1.5", HD_QUERYLOG_FORWARDED, 28);
	rec_make(&c, "notexample.com", "fd53::2", HD_QUERYLOG_CACHED, 1);
	rec_make(&h, "example.com", "10.0.0.5", HD_QUERYLOG_CACHED, 1);
	hd_querylog_anonymize(&h, HD_QUERYLOG_ANON_HIDE);

	memset(&f, 0, sizeof(f));
	CU_ASSERT(hd_querylog_filter_match(&f, &a) && hd_querylog_filter_match(&f, &c));

	/* The name or under it, on label boundaries, whatever the case given. */
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "domain", "EXAMPLE.com."), 0);
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &a));
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &b));
	CU_ASSERT_FALSE(hd_querylog_filter_match(&f, &c));

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "client", "10.0.0.0/24"), 0);
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &a));
	CU_ASSERT_FALSE(hd_querylog_filter_match(&f, &b));
	CU_ASSERT_FALSE(hd_querylog_filter_match(&f, &c));
	CU_ASSERT_FALSE(hd_querylog_filter_match(&f, &h));
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "client", "hidden"), 0);
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &h));
	CU_ASSERT_FALSE(hd_querylog_filter_match(&f, &a));
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "client", "fd53::2"), 0);
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &c));

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "status", "blocked,forwarded"), 0);
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &a));
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &b));
	CU_ASSERT_FALSE(hd_querylog_filter_match(&f, &c));
	CU_ASSERT_EQUAL(hd_querylog_filter_set(&f, "type", "AAAA"), 0);
	CU_ASSERT_FALSE(hd_querylog_filter_match(&f, &a));
	CU_ASSERT_TRUE(hd_querylog_filter_match(&f, &b));
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_record_size),
		T_CASE(test_name_roundtrip),
		T_CASE(test_name_truncated_keeps_suffix),
		T_CASE(test_name_malformed_and_empty),
		T_CASE(test_anonymize),
		T_CASE(test_names_and_parsers),
		T_CASE(test_json_escape),
		T_CASE(test_json_line_odd_name),
		T_CASE(test_filter_parse),
		T_CASE(test_filter_match),
	};

	return t_run("querylog_record", cases, T_DIM(cases));
}
