/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled matcher: what a client sees. A hosts or domain list blocks
 * exactly its names; AdBlock, wildcard, dnsmasq and unbound rules block a
 * subtree; an allow rule of an applied list beats every block; only the
 * lists of the client's group apply (longest prefix wins, a group may
 * bypass blocking); patterns; $badfilter; list limits and duplicates; the
 * load report an operator reads.
 */

#include <errno.h>
#include <string.h>

#include <arpa/inet.h>

#include "filter_test.h"

#define ALL UINT64_MAX

static struct hd_filter *
one_list(enum hd_filter_syntax s, const char *text)
{
	struct hd_filter_builder *b = hd_filter_builder_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "l", s, 0, text, NULL), 0);
	return hd_filter_build(b);
}

static void
test_exact_vs_subtree(void)
{
	struct hd_filter *hosts = one_list(HD_FILTER_SYNTAX_HOSTS, "0.0.0.0 ads.example.com\n");
	struct hd_filter *abp = one_list(HD_FILTER_SYNTAX_ADBLOCK, "||ads.example.com^\n");
	struct hd_filter *wild = one_list(HD_FILTER_SYNTAX_WILDCARD, "*.ads.example.com\n");
	struct hd_filter *dnsm = one_list(HD_FILTER_SYNTAX_DNSMASQ, "address=/ads.example.com/#\n");
	struct hd_filter *unb = one_list(HD_FILTER_SYNTAX_UNBOUND,
					 "local-zone: \"ads.example.com.\" always_null\n");
	struct hd_filter *sub[] = { abp, wild, dnsm, unb };
	unsigned int list = 99;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(hosts);
	/* Hosts: the name only. */
	CU_ASSERT_EQUAL(t_match(hosts, "ads.example.com", ALL, &list), 1);
	CU_ASSERT_EQUAL(list, 0);
	CU_ASSERT_EQUAL(t_match(hosts, "ADS.Example.COM.", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(hosts, "x.ads.example.com", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(hosts, "example.com", ALL, NULL), 0);
	/* The subtree syntaxes: the name and everything under it, nothing else. */
	for (i = 0; i < T_DIM(sub); i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(sub[i]);
		CU_ASSERT_EQUAL(t_match(sub[i], "ads.example.com", ALL, NULL), 1);
		CU_ASSERT_EQUAL(t_match(sub[i], "a.b.ads.example.com", ALL, NULL), 1);
		CU_ASSERT_EQUAL(t_match(sub[i], "example.com", ALL, NULL), 0);
		CU_ASSERT_EQUAL(t_match(sub[i], "xads.example.com", ALL, NULL), 0);
		CU_ASSERT_EQUAL(t_match(sub[i], "ads.example.com.evil", ALL, NULL), 0);
		CU_ASSERT_EQUAL(t_match(sub[i], "com", ALL, NULL), 0);
		hd_filter_free(sub[i]);
	}
	hd_filter_free(hosts);
}

static void
test_allow_wins(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter *f;
	unsigned int list = 99;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "block", HD_FILTER_SYNTAX_ADBLOCK, 0,
			      "||example.com^\n@@||cdn.example.com^\n||tracker.example.net^\n",
			      NULL), 0);
	CU_ASSERT_EQUAL(t_add(b, "allow", HD_FILTER_SYNTAX_DOMAINS, 1,
			      "good.example.com\n*.fine.example.com\n", NULL), 1);
	CU_ASSERT_EQUAL(t_add(b, "other", HD_FILTER_SYNTAX_HOSTS, 0,
			      "0.0.0.0 good.example.com\n", NULL), 2);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);

	CU_ASSERT_EQUAL(t_match(f, "www.example.com", ALL, &list), 1);
	CU_ASSERT_EQUAL(list, 0);
	/* An allowlist (exact) beats the subtree block and another list's exact block. */
	CU_ASSERT_EQUAL(t_match(f, "good.example.com", ALL, &list), 0);
	CU_ASSERT_EQUAL(list, 1);
	CU_ASSERT_EQUAL(t_match(f, "x.good.example.com", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "fine.example.com", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "a.fine.example.com", ALL, NULL), 0);
	/* An @@ exception inside the blocklist itself. */
	CU_ASSERT_EQUAL(t_match(f, "img.cdn.example.com", ALL, &list), 0);
	CU_ASSERT_EQUAL(list, 0);
	/* Only applied lists count: without the allowlist the name is blocked again. */
	list = 99;
	CU_ASSERT_EQUAL(t_match(f, "good.example.com", (1u << 0) | (1u << 2), &list), 1);
	CU_ASSERT_EQUAL(list, 0);
	CU_ASSERT_EQUAL(t_match(f, "good.example.com", 1u << 2, &list), 1);
	CU_ASSERT_EQUAL(list, 2);
	/* Not blocked at all: list is left alone. */
	list = 77;
	CU_ASSERT_EQUAL(t_match(f, "example.org", ALL, &list), 0);
	CU_ASSERT_EQUAL(list, 77);
	hd_filter_free(f);
}

static void
test_lists_mask(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter *f;
	unsigned int list = 99;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "a", HD_FILTER_SYNTAX_DOMAINS, 0, "a.example\nboth.example\n",
			      NULL), 0);
	CU_ASSERT_EQUAL(t_add(b, "b", HD_FILTER_SYNTAX_DOMAINS, 0, "b.example\nboth.example\n",
			      NULL), 1);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(t_match(f, "a.example", 1u << 0, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "a.example", 1u << 1, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "b.example", 1u << 0, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "b.example", 1u << 1, &list), 1);
	CU_ASSERT_EQUAL(list, 1);
	CU_ASSERT_EQUAL(t_match(f, "b.example", 0, NULL), 0);
	/* Several lists block: the first configured one is reported. */
	CU_ASSERT_EQUAL(t_match(f, "both.example", ALL, &list), 1);
	CU_ASSERT_EQUAL(list, 0);
	CU_ASSERT_EQUAL(t_match(f, "both.example", 1u << 1, &list), 1);
	CU_ASSERT_EQUAL(list, 1);
	/* Bits of lists that do not exist change nothing. */
	CU_ASSERT_EQUAL(t_match(f, "a.example", 1ull << 40, NULL), 0);
	hd_filter_free(f);
}

static void
test_patterns(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter *f;
	unsigned int list = 99;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "block", HD_FILTER_SYNTAX_ADBLOCK, 0,
			      "||ads*.example.com^\n||aax-eu.amazon.de^\n"
			      "track.example.org^\n||metrics.*^\n", NULL), 0);
	CU_ASSERT_EQUAL(t_add(b, "allow", HD_FILTER_SYNTAX_ADBLOCK, 1,
			      "@@||aax-*.amazon.*^\n@@||metrics.ok.*^\n", NULL), 1);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(hd_filter_list_rules(f, 0), 4);
	CU_ASSERT_EQUAL(hd_filter_list_rules(f, 1), 2);
	/* "||ads*.example.com^": the name or a parent matches the glob. */
	CU_ASSERT_EQUAL(t_match(f, "ads.example.com", ALL, &list), 1);
	CU_ASSERT_EQUAL(list, 0);
	CU_ASSERT_EQUAL(t_match(f, "ads1.example.com", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "x.ads-eu.cdn.example.com", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "bads1.example.com", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "ads1.example.com.au", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "ads1.example.org", ALL, NULL), 0);
	/* No "||": anywhere in the name, as long as it ends there. */
	CU_ASSERT_EQUAL(t_match(f, "track.example.org", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "stealthtrack.example.org", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "track.example.org.uk", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "metrics.anything.example", ALL, NULL), 1);
	/* Allow patterns beat table blocks and pattern blocks. */
	CU_ASSERT_EQUAL(t_match(f, "aax-eu.amazon.de", ALL, &list), 0);
	CU_ASSERT_EQUAL(list, 1);
	CU_ASSERT_EQUAL(t_match(f, "aax-eu.amazon.de", 1u << 0, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "metrics.ok.example", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "metrics.ok.example", 1u << 0, NULL), 1);
	hd_filter_free(f);
}

static void
test_badfilter(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "sub", HD_FILTER_SYNTAX_ADBLOCK, 0,
			      "||ads.example.com^\n||keep.example.com^\n||ads*.example.net^\n"
			      "|exact.example.com^\n", NULL), 0);
	/* A user's list disables one rule of a subscribed list. */
	CU_ASSERT_EQUAL(t_add(b, "user", HD_FILTER_SYNTAX_ADBLOCK, 0,
			      "||ads.example.com^$badfilter\n||ads*.example.net^$badfilter\n"
			      "||exact.example.com^$badfilter\n", NULL), 1);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(t_match(f, "ads.example.com", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "x.ads.example.com", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "ads1.example.net", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "keep.example.com", ALL, NULL), 1);
	/* Only the same rule: the exact rule stays, the subtree badfilter missed it. */
	CU_ASSERT_EQUAL(t_match(f, "exact.example.com", ALL, NULL), 1);
	CU_ASSERT_EQUAL(hd_filter_list_rules(f, 0), 2);
	hd_filter_free(f);
}

static void
test_unbound_transparent(void)
{
	struct hd_filter *f = one_list(HD_FILTER_SYNTAX_UNBOUND,
				       "server:\n"
				       "local-zone: \"ads.example.\" always_null\n"
				       "local-zone: \"ok.ads.example.\" transparent\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(t_match(f, "x.ads.example", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "ok.ads.example", ALL, NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "a.ok.ads.example", ALL, NULL), 0);
	hd_filter_free(f);
}

static uint64_t
client(const struct hd_filter *f, const char *addr)
{
	uint8_t a[16];
	int v6 = strchr(addr, ':') != NULL;

	CU_ASSERT_EQUAL_FATAL(inet_pton(v6 ? AF_INET6 : AF_INET, addr, a), 1);
	return hd_filter_client_lists(f, a, v6);
}

static void
test_groups(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter *f;
	const char *kids_nets[] = { "10.0.0.0/24", "192.168.1.7/24" };
	const char *kids_lists[] = { "ads", "adult" };
	const char *admin_nets[] = { "10.0.0.5", "fd00::5/128" };
	const char *v6_nets[] = { "fd00::/64" };
	const char *v6_lists[] = { "adult" };
	const char *dflt_nets[] = { "0.0.0.0/0", "::/0" };
	const char *dflt_lists[] = { "ads" };
	char err[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "ads", HD_FILTER_SYNTAX_DOMAINS, 0, "ads.example\n", NULL), 0);
	CU_ASSERT_EQUAL(t_add(b, "adult", HD_FILTER_SYNTAX_DOMAINS, 0, "adult.example\n", NULL),
			1);
	CU_ASSERT_EQUAL(t_add(b, "spare", HD_FILTER_SYNTAX_DOMAINS, 0, "spare.example\n", NULL),
			2);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "kids", kids_nets, 2, kids_lists, 2, err,
						    sizeof(err)), 0);
	/* A group with no lists bypasses blocking; its /32 beats the kids' /24. */
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "admin", admin_nets, 2, NULL, 0, err,
						    sizeof(err)), 0);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "v6", v6_nets, 1, v6_lists, 1, err,
						    sizeof(err)), 0);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(client(f, "10.0.0.7"), 0x3);
	CU_ASSERT_EQUAL(client(f, "192.168.1.200"), 0x3);	/* host bits were dropped */
	CU_ASSERT_EQUAL(client(f, "10.0.0.5"), 0);
	CU_ASSERT_EQUAL(t_match(f, "ads.example", client(f, "10.0.0.5"), NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "ads.example", client(f, "10.0.0.6"), NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "spare.example", client(f, "10.0.0.6"), NULL), 0);
	/* Clients in no group get every list. */
	CU_ASSERT_EQUAL(client(f, "10.0.1.1"), 0x7);
	CU_ASSERT_EQUAL(t_match(f, "spare.example", client(f, "10.0.1.1"), NULL), 1);
	CU_ASSERT_EQUAL(client(f, "fd00::1234"), 0x2);
	CU_ASSERT_EQUAL(client(f, "fd00::5"), 0);
	CU_ASSERT_EQUAL(client(f, "fd01::1"), 0x7);
	CU_ASSERT_EQUAL(client(f, "::ffff:10.0.0.7"), 0x7);	/* v6 is not v4 */
	hd_filter_free(f);

	/* A catch-all default group, less specific than every other one. */
	b = hd_filter_builder_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "ads", HD_FILTER_SYNTAX_DOMAINS, 0, "ads.example\n", NULL), 0);
	CU_ASSERT_EQUAL(t_add(b, "adult", HD_FILTER_SYNTAX_DOMAINS, 0, "adult.example\n", NULL),
			1);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "default", dflt_nets, 2, dflt_lists, 1,
						    err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "kids", kids_nets, 1, kids_lists, 2, err,
						    sizeof(err)), 0);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(client(f, "10.0.0.1"), 0x3);
	CU_ASSERT_EQUAL(client(f, "172.16.0.1"), 0x1);
	CU_ASSERT_EQUAL(client(f, "2001:db8::1"), 0x1);
	hd_filter_free(f);
}

static void
test_group_errors(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	const char *ok[] = { "10.0.0.0/24" };
	const char *bad1[] = { "10.0.0.0/33" };
	const char *bad2[] = { "ten.zero" };
	const char *bad3[] = { "fd00::/129" };
	const char *bad4[] = { "10.0.0.0/" };
	const char *lists[] = { "ads" };
	const char *nolist[] = { "nope" };
	char err[256];
	unsigned int i;
	struct hd_filter *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(t_add(b, "ads", HD_FILTER_SYNTAX_DOMAINS, 0, "ads.example\n", NULL), 0);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "g", bad1, 1, lists, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "10.0.0.0/33"));
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "g", bad2, 1, lists, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ten.zero"));
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "g", bad3, 1, lists, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "g", bad4, 1, lists, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "g", ok, 1, nolist, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown list 'nope'"));
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "g", ok, 1, lists, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "g", ok, 0, lists, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "defined twice"));
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "h", ok, 1, lists, 1, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "already in group 'g'"));
	for (i = 1; i < HD_FILTER_GROUPS_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "g%u", i);
		CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, name, NULL, 0, NULL, 0, err,
							    sizeof(err)), 0);
	}
	CU_ASSERT_EQUAL(hd_filter_builder_add_group(b, "one-too-many", NULL, 0, NULL, 0, err,
						    sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too many groups"));
	/* The failed adds changed nothing: 10.0.0.0/24 is still group g's. */
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(client(f, "10.0.0.9"), 0x1);
	hd_filter_free(f);
}

static void
test_list_limit(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter *f;
	unsigned int i, list = 0;
	char name[32], text[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (i = 0; i < HD_FILTER_LISTS_MAX; i++) {
		snprintf(name, sizeof(name), "list%u", i);
		snprintf(text, sizeof(text), "n%u.example\nshared.example\n", i);
		CU_ASSERT_EQUAL(t_add(b, name, HD_FILTER_SYNTAX_DOMAINS, 0, text, NULL), (int)i);
	}
	CU_ASSERT_EQUAL(t_add(b, "list65", HD_FILTER_SYNTAX_DOMAINS, 0, "x.example\n", NULL),
			-ENOSPC);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(hd_filter_n_lists(f), HD_FILTER_LISTS_MAX);
	CU_ASSERT_EQUAL(t_match(f, "n63.example", ALL, &list), 1);
	CU_ASSERT_EQUAL(list, 63);
	CU_ASSERT_EQUAL(t_match(f, "n63.example", ~(1ull << 63), NULL), 0);
	CU_ASSERT_EQUAL(t_match(f, "shared.example", 1ull << 63, &list), 1);
	CU_ASSERT_EQUAL(list, 63);
	CU_ASSERT_EQUAL(hd_filter_client_lists(f, (const uint8_t *)"\1\2\3\4", 0), UINT64_MAX);
	CU_ASSERT_STRING_EQUAL(hd_filter_list_name(f, 63), "list63");
	hd_filter_free(f);
}

static void
test_duplicates_and_names(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter_report rep;
	struct hd_filter_list_spec spec = {
		.name = "dup", .source = "dup.txt", .syntax = HD_FILTER_SYNTAX_AUTO,
		.response = { .mode = HD_FILTER_MODE_CUSTOM, .ttl = 30, .v4 = { 10, 0, 0, 1 },
			      .has_v4 = 1 },
	};
	const char *text = "0.0.0.0 a.example\n0.0.0.0 A.example.\n127.0.0.1 a.example b.example\n";
	const struct hd_filter_response *resp;
	struct hd_filter *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(hd_filter_builder_add_list(b, &spec, text, strlen(text), &rep), 0);
	CU_ASSERT_EQUAL(rep.syntax, HD_FILTER_SYNTAX_HOSTS);
	CU_ASSERT_EQUAL(rep.rules, 4);		/* as read */
	CU_ASSERT_EQUAL(hd_filter_builder_add_list(b, &spec, "x.example\n", 10, &rep), -EEXIST);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(hd_filter_list_rules(f, 0), 2);	/* after dedup */
	CU_ASSERT_STRING_EQUAL(hd_filter_list_name(f, 0), "dup");
	CU_ASSERT_PTR_NULL(hd_filter_list_name(f, 1));
	resp = hd_filter_response(f, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	CU_ASSERT_EQUAL(resp->mode, HD_FILTER_MODE_CUSTOM);
	CU_ASSERT_EQUAL(resp->ttl, 30);
	CU_ASSERT_EQUAL(resp->v4[3], 1);
	CU_ASSERT_PTR_NULL(hd_filter_response(f, 1));
	CU_ASSERT(hd_filter_memory(f) > 0);
	hd_filter_free(f);
}

static void
test_report(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter_report rep;
	struct hd_filter_list_spec spec = { .name = "r", .source = "/etc/lists/r.txt",
					    .syntax = HD_FILTER_SYNTAX_HOSTS };
	const char *text = "\xef\xbb\xbf# comment\r\n"
			   "0.0.0.0 ok1.example\r\n"
			   "0.0.0.0 1.2.3.4\r\n"
			   "\r\n"
			   "0.0.0.0 bad!1\n0.0.0.0 bad!2\n0.0.0.0 bad!3\n0.0.0.0 bad!4\n"
			   "0.0.0.0 bad!5\n"
			   "127.0.0.1 localhost\n"
			   "0.0.0.0 ok2.example ok3.example";	/* no final newline */
	struct hd_filter *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(hd_filter_builder_add_list(b, &spec, text, strlen(text), &rep), 0);
	CU_ASSERT_EQUAL(rep.syntax, HD_FILTER_SYNTAX_HOSTS);
	CU_ASSERT_EQUAL(rep.lines, 11);
	CU_ASSERT_EQUAL(rep.rules, 3);
	CU_ASSERT_EQUAL(rep.skipped, 3);
	CU_ASSERT_EQUAL(rep.rejected, 6);
	CU_ASSERT_EQUAL(rep.n_errors, HD_FILTER_ERRORS_MAX);
	CU_ASSERT_STRING_EQUAL(rep.errors[0], "/etc/lists/r.txt:3: expected a domain name, not an "
			       "IP address, got '0.0.0.0 1.2.3.4'");
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.errors[1], "r.txt:5: expected only letters"));
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(t_match(f, "ok1.example", ALL, NULL), 1);
	CU_ASSERT_EQUAL(t_match(f, "ok3.example", ALL, NULL), 1);
	CU_ASSERT_EQUAL(hd_filter_list_rules(f, 0), 3);
	hd_filter_free(f);
}

static void
test_bad_wire_names(void)
{
	struct hd_filter *f = one_list(HD_FILTER_SYNTAX_ADBLOCK, "||example.com^\n||*ads*^\n");
	static const uint8_t good[] = "\7example\3com";
	static const uint8_t over[] = "\7example\10com";	/* label runs past the end */
	static const uint8_t big[] = "\100aaaa";		/* label of 64 */
	uint8_t long_name[300];
	unsigned int list;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	/* The root label may be left out. */
	CU_ASSERT_EQUAL(hd_filter_match(f, good, sizeof(good) - 1, ALL, &list), 1);
	CU_ASSERT_EQUAL(hd_filter_match(f, good, sizeof(good), ALL, &list), 1);
	CU_ASSERT_EQUAL(hd_filter_match(f, over, sizeof(over) - 1, ALL, &list), 0);
	CU_ASSERT_EQUAL(hd_filter_match(f, big, sizeof(big) - 1, ALL, &list), 0);
	CU_ASSERT_EQUAL(hd_filter_match(f, (const uint8_t *)"", 1, ALL, &list), 0);
	CU_ASSERT_EQUAL(hd_filter_match(f, good, 0, ALL, &list), 0);
	CU_ASSERT_EQUAL(hd_filter_match(f, NULL, 5, ALL, &list), 0);
	CU_ASSERT_EQUAL(hd_filter_match(NULL, good, sizeof(good), ALL, &list), 0);
	/* 150 one-byte labels: longer than any real name. */
	for (i = 0; i < 300; i += 2) {
		long_name[i] = 1;
		long_name[i + 1] = 'a';
	}
	CU_ASSERT_EQUAL(hd_filter_match(f, long_name, sizeof(long_name), ALL, &list), 0);
	hd_filter_free(f);
}

static void
test_many_names(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	size_t cap = 60000 * 40, len = 0;
	char *text = malloc(cap), name[64];
	struct hd_filter *f;
	unsigned int i, miss = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (i = 0; i < 60000; i++)
		len += (size_t)snprintf(text + len, cap - len, "0.0.0.0 h%u.d%u.example\n", i, i % 97);
	CU_ASSERT_EQUAL(t_add(b, "big", HD_FILTER_SYNTAX_HOSTS, 0, text, NULL), 0);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(hd_filter_list_rules(f, 0), 60000);
	for (i = 0; i < 60000; i++) {
		snprintf(name, sizeof(name), "h%u.d%u.example", i, i % 97);
		miss += t_match(f, name, ALL, NULL) != 1;
		snprintf(name, sizeof(name), "h%u.d%u.example", i, (i + 1) % 97);
		miss += t_match(f, name, ALL, NULL) != 0;
	}
	CU_ASSERT_EQUAL(miss, 0);
	CU_ASSERT(hd_filter_memory(f) > 60000 * 10);
	hd_filter_free(f);
	free(text);
}

static void
test_empty(void)
{
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter *f;

	CU_ASSERT_PTR_NULL(hd_filter_build(NULL));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(hd_filter_n_lists(f), 0);
	CU_ASSERT_EQUAL(hd_filter_client_lists(f, (const uint8_t *)"\1\2\3\4", 0), 0);
	CU_ASSERT_EQUAL(t_match(f, "example.com", ALL, NULL), 0);
	hd_filter_free(f);
	hd_filter_free(NULL);
	hd_filter_builder_free(NULL);
	/* An empty list text is a list with no rules. */
	b = hd_filter_builder_create();
	CU_ASSERT_EQUAL(t_add(b, "none", HD_FILTER_SYNTAX_AUTO, 0, "", NULL), 0);
	f = hd_filter_build(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(hd_filter_list_rules(f, 0), 0);
	hd_filter_free(f);
}

static const struct t_case cases[] = {
	T_CASE(test_exact_vs_subtree),
	T_CASE(test_allow_wins),
	T_CASE(test_lists_mask),
	T_CASE(test_patterns),
	T_CASE(test_badfilter),
	T_CASE(test_unbound_transparent),
	T_CASE(test_groups),
	T_CASE(test_group_errors),
	T_CASE(test_list_limit),
	T_CASE(test_duplicates_and_names),
	T_CASE(test_report),
	T_CASE(test_bad_wire_names),
	T_CASE(test_many_names),
	T_CASE(test_empty),
};

int
main(void)
{
	return t_run("filter_filter", cases, T_DIM(cases));
}
