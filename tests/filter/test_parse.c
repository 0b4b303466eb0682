/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Line parsers and syntax detection: every syntax people publish lists in,
 * and every odd line those lists contain. A bad line must be refused with a
 * message that tells the operator what was expected; a line that is not a
 * rule (comment, localhost entry, cosmetic or regex rule, forwarding rule)
 * must add nothing, and the rules that are read must mean what the list's
 * maintainers mean.
 */

#include <errno.h>
#include <string.h>

#include "filter_test.h"

static struct hd_filter_rule r;
static const char *why;

static int
P(enum hd_filter_syntax s, const char *line)
{
	memset(&r, 0xa5, sizeof(r));
	why = "unset";
	return hd_filter_parse_line(s, line, strlen(line), &r, &why);
}

/* The line is one rule of @p kind for @p name. */
static void
expect_rule(enum hd_filter_syntax s, const char *line, enum hd_filter_rule_kind kind,
	    int allow, const char *name)
{
	int rc = P(s, line);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(r.kind, kind);
	CU_ASSERT_EQUAL(r.allow, allow);
	CU_ASSERT_EQUAL(r.badfilter, 0);
	CU_ASSERT_STRING_EQUAL(r.name, name);
	CU_ASSERT_PTR_NULL(why);
	if (rc != 0 || r.kind != kind || strcmp(r.name, name) != 0)
		fprintf(stderr, "\n  line '%s': rc %d kind %d name '%s' why '%s'\n", line, rc,
			r.kind, r.kind != HD_FILTER_RULE_NONE ? r.name : "", why ? why : "");
}

/* The line adds nothing; @p reason NULL: a comment, else a substring of why. */
static void
expect_none(enum hd_filter_syntax s, const char *line, const char *reason)
{
	CU_ASSERT_EQUAL(P(s, line), 0);
	CU_ASSERT_EQUAL(r.kind, HD_FILTER_RULE_NONE);
	if (reason == NULL) {
		CU_ASSERT_PTR_NULL(why);
	} else {
		CU_ASSERT_PTR_NOT_NULL_FATAL(why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, reason));
		if (strstr(why, reason) == NULL)
			fprintf(stderr, "\n  line '%s': why '%s'\n", line, why);
	}
}

/* The line is refused and why contains @p reason. */
static void
expect_bad(enum hd_filter_syntax s, const char *line, const char *reason)
{
	CU_ASSERT_EQUAL(P(s, line), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, reason));
	if (strstr(why, reason) == NULL)
		fprintf(stderr, "\n  line '%s': why '%s', wanted '%s'\n", line, why, reason);
}

#define H HD_FILTER_SYNTAX_HOSTS
#define D HD_FILTER_SYNTAX_DOMAINS
#define A HD_FILTER_SYNTAX_ADBLOCK
#define W HD_FILTER_SYNTAX_WILDCARD
#define M HD_FILTER_SYNTAX_DNSMASQ
#define U HD_FILTER_SYNTAX_UNBOUND
#define EXACT HD_FILTER_RULE_EXACT
#define SUB HD_FILTER_RULE_SUBTREE
#define PAT HD_FILTER_RULE_PATTERN

/* Collects every rule a line yields. */
struct seen {
	char names[8][256];
	int allow[8];
	int n;
};

static int
collect(void *arg, const struct hd_filter_rule *rule)
{
	struct seen *s = arg;

	if (s->n < 8) {
		strcpy(s->names[s->n], rule->name);
		s->allow[s->n] = rule->allow;
	}
	s->n++;
	return 0;
}

static int
each(enum hd_filter_syntax syn, const char *line, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return hd_filter_parse_line_each(syn, line, strlen(line), collect, s, &why);
}

static void
test_hosts(void)
{
	expect_rule(H, "0.0.0.0 ads.example.com", EXACT, 0, "ads.example.com");
	expect_rule(H, "127.0.0.1\tAds.Example.COM.", EXACT, 0, "ads.example.com");
	expect_rule(H, "  0.0.0.0   ads.example.com   ", EXACT, 0, "ads.example.com");
	expect_rule(H, "::1 ads.example.com", EXACT, 0, "ads.example.com");
	expect_rule(H, ":: ads.example.com", EXACT, 0, "ads.example.com");
	expect_rule(H, "0.0.0.0 ads.example.com # tracker", EXACT, 0, "ads.example.com");
	expect_rule(H, "0.0.0.0 ads.example.com#tracker", EXACT, 0, "ads.example.com");
	expect_rule(H, "0.0.0.0 ads.example.com\r", EXACT, 0, "ads.example.com");
	expect_rule(H, "0.0.0.0 xn--bcher-kva.example", EXACT, 0, "xn--bcher-kva.example");
	expect_rule(H, "0.0.0.0 _dmarc.under_score.example", EXACT, 0,
		    "_dmarc.under_score.example");
	expect_rule(H, "0.0.0.0 0--e.info", EXACT, 0, "0--e.info");
	/* A bare name among hosts lines: lists mix them in. */
	expect_rule(H, "tracker.example.net", EXACT, 0, "tracker.example.net");
}

static void
test_hosts_odd_lines(void)
{
	expect_none(H, "", NULL);
	expect_none(H, "   \t ", NULL);
	expect_none(H, "\r", NULL);
	expect_none(H, "# Title: some list", NULL);
	expect_none(H, "   # indented comment", NULL);
	expect_none(H, "0.0.0.0 0.0.0.0", "localhost entry");
	expect_none(H, "127.0.0.1 localhost", "localhost entry");
	expect_none(H, "127.0.0.1 localhost.localdomain", "localhost entry");
	expect_none(H, "127.0.0.1 local", "localhost entry");
	expect_none(H, "255.255.255.255 broadcasthost", "localhost entry");
	expect_none(H, "::1 localhost ip6-localhost ip6-loopback", "localhost entry");
	expect_none(H, "fe80::1%lo0 localhost", "localhost entry");
	expect_none(H, "fe00::0 ip6-localnet", "localhost entry");
	expect_none(H, "ff00::0 ip6-mcastprefix", "localhost entry");
	expect_none(H, "ff02::1 ip6-allnodes", "localhost entry");
	expect_none(H, "ff02::2 ip6-allrouters", "localhost entry");
	/* A localhost name first does not hide the real one after it. */
	expect_rule(H, "127.0.0.1 localhost ads.example.com", EXACT, 0, "ads.example.com");
}

static void
test_hosts_bad_lines(void)
{
	char line[400];

	expect_bad(H, "0.0.0.0 1.2.3.4", "not an IP address");
	expect_bad(H, "0.0.0.0 2001:db8::1", "not an IP address");
	expect_bad(H, "0.0.0.0", "expected a host name after the address");
	expect_bad(H, "ads example", "expected an IP address followed by host names");
	expect_bad(H, "0.0.0.0 bücher.example", "expected an ASCII/punycode (xn--) name");
	expect_bad(H, "0.0.0.0 ads!.example.com", "expected only letters, digits");
	expect_bad(H, "0.0.0.0 ads..example.com", "empty labels");
	expect_bad(H, "0.0.0.0 .example.com", "empty labels");
	expect_bad(H, "0.0.0.0 ads*.example.com", "'*' only as a whole first label");
	/* Labels: 63 is fine, 64 is not. */
	snprintf(line, sizeof(line), "0.0.0.0 %.*s.example", 63,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CU_ASSERT_EQUAL(P(H, line), 0);
	CU_ASSERT_EQUAL(r.kind, EXACT);
	snprintf(line, sizeof(line), "0.0.0.0 %.*s.example", 64,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_bad(H, line, "labels of at most 63 characters");
	/* Names: 253 characters is fine (with or without the trailing dot), 254 not. */
	memset(line, 0, sizeof(line));
	strcpy(line, "0.0.0.0 ");
	for (int i = 0; i < 63; i++)
		strcat(line, "abc.");
	strcat(line, "x");		/* 63 * 4 + 1 = 253 */
	CU_ASSERT_EQUAL(P(H, line), 0);
	CU_ASSERT_EQUAL(strlen(r.name), 253);
	strcat(line, ".");
	CU_ASSERT_EQUAL(P(H, line), 0);
	CU_ASSERT_EQUAL(strlen(r.name), 253);
	line[strlen(line) - 1] = 'y';	/* 254 */
	expect_bad(H, line, "a name of at most 253 characters");
}

static void
test_hosts_many_names(void)
{
	struct seen s;

	/* parse_line gives the first; parse_line_each gives all of them. */
	expect_rule(H, "0.0.0.0 a.example B.example c.example.", EXACT, 0, "a.example");
	CU_ASSERT_EQUAL(each(H, "0.0.0.0 a.example B.example c.example. # x", &s), 3);
	CU_ASSERT_EQUAL(s.n, 3);
	CU_ASSERT_STRING_EQUAL(s.names[0], "a.example");
	CU_ASSERT_STRING_EQUAL(s.names[1], "b.example");
	CU_ASSERT_STRING_EQUAL(s.names[2], "c.example");
	/* localhost names in the middle are skipped, the rest kept. */
	CU_ASSERT_EQUAL(each(H, "127.0.0.1 localhost a.example ip6-localhost b.example", &s), 2);
	CU_ASSERT_STRING_EQUAL(s.names[1], "b.example");
	/* A line is taken whole or not at all. */
	CU_ASSERT_EQUAL(each(H, "0.0.0.0 a.example b.example bad!name", &s), -EINVAL);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "expected only letters"));
	/* Comment lines: nothing, no reason. */
	CU_ASSERT_EQUAL(each(H, "# nothing", &s), 0);
	CU_ASSERT_PTR_NULL(why);
}

static int
stop_at_second(void *arg, const struct hd_filter_rule *rule)
{
	int *n = arg;

	(void)rule;
	return ++*n == 2 ? -ENOMEM : 0;
}

static void
test_each_callback_error(void)
{
	int n = 0;

	/* What the callback returns (out of memory in the builder) comes back. */
	CU_ASSERT_EQUAL(hd_filter_parse_line_each(H, "0.0.0.0 a.x b.x c.x", 19, stop_at_second,
						  &n, &why), -ENOMEM);
	CU_ASSERT_EQUAL(n, 2);
}

static void
test_domains(void)
{
	expect_rule(D, "ads.example.com", EXACT, 0, "ads.example.com");
	expect_rule(D, "ADS.Example.Com.", EXACT, 0, "ads.example.com");
	expect_rule(D, "  ads.example.com  # trailing comment", EXACT, 0, "ads.example.com");
	expect_rule(D, "ads.example.com\r", EXACT, 0, "ads.example.com");
	expect_rule(D, "\xef\xbb\xbf" "ads.example.com", EXACT, 0, "ads.example.com");
	expect_rule(D, "*.ads.example.com", SUB, 0, "ads.example.com");
	expect_rule(D, "xn--80ak6aa92e.com", EXACT, 0, "xn--80ak6aa92e.com");
	expect_none(D, "# comment", NULL);
	expect_none(D, "! comment", NULL);
	expect_none(D, "", NULL);
	expect_none(D, "localhost", "localhost entry");
	expect_bad(D, "ads.example.com other.example.com", "one domain name per line");
	expect_bad(D, "1.2.3.4", "not an IP address");
	expect_bad(D, "2001:db8::1", "not an IP address");
	expect_bad(D, "ads*.example.com", "'*' only as a whole first label");
	expect_bad(D, "*.*.example.com", "'*' only as a whole first label");
	expect_bad(D, "пример.рф", "expected an ASCII/punycode (xn--) name");
	expect_bad(D, "||ads.example.com^", "expected only letters, digits");
}

static void
test_wildcard(void)
{
	expect_rule(W, "*.ads.example.com", SUB, 0, "ads.example.com");
	expect_rule(W, "*.ADS.example.com.", SUB, 0, "ads.example.com");
	/* A plain name in a wildcard list is that name only. */
	expect_rule(W, "ads.example.com", EXACT, 0, "ads.example.com");
	expect_none(W, "# Syntax: Domains Wildcard", NULL);
	expect_bad(W, "*.", "expected a domain name");
	expect_bad(W, "ads.*.example.com", "'*' only as a whole first label");
}

static void
test_adblock(void)
{
	expect_rule(A, "||ads.example.com^", SUB, 0, "ads.example.com");
	expect_rule(A, "||ADS.example.com.^", SUB, 0, "ads.example.com");
	expect_rule(A, "||ads.example.com^|", SUB, 0, "ads.example.com");
	expect_rule(A, "  ||ads.example.com^\r", SUB, 0, "ads.example.com");
	expect_rule(A, "@@||ads.example.com^", SUB, 1, "ads.example.com");
	expect_rule(A, "||ads.example.com^$important", SUB, 0, "ads.example.com");
	expect_rule(A, "|ads.example.com^", EXACT, 0, "ads.example.com");
	/* A bare name, as in a domain list. */
	expect_rule(A, "ads.example.com", EXACT, 0, "ads.example.com");
	/* '*' makes a pattern; without "||" or "^" the rule may start or end anywhere. */
	expect_rule(A, "||ads*.example.com^", PAT, 0, "ads*.example.com");
	expect_rule(A, "@@||aax-*.amazon.*^", PAT, 1, "aax-*.amazon.*");
	expect_rule(A, "||*.ads.example.com^", PAT, 0, "*.ads.example.com");
	expect_rule(A, "ads.example.com^", PAT, 0, "*ads.example.com");
	expect_rule(A, "||ads.example", PAT, 0, "ads.example*");
	expect_rule(A, "||ads**.example^", PAT, 0, "ads*.example");
	/* $badfilter is kept as a rule that disables its twin. */
	CU_ASSERT_EQUAL(P(A, "||ads.example.com^$badfilter"), 0);
	CU_ASSERT_EQUAL(r.kind, SUB);
	CU_ASSERT_EQUAL(r.badfilter, 1);
	CU_ASSERT_EQUAL(P(A, "||ads.example.com^$important,badfilter"), 0);
	CU_ASSERT_EQUAL(r.badfilter, 1);
	CU_ASSERT_EQUAL(P(A, "@@||a*.example^$badfilter"), 0);
	CU_ASSERT_EQUAL(r.kind, PAT);
	CU_ASSERT_EQUAL(r.allow, 1);
	CU_ASSERT_EQUAL(r.badfilter, 1);
}

static void
test_adblock_skipped(void)
{
	expect_none(A, "! Title: a list", NULL);
	expect_none(A, "[Adblock Plus 2.0]", NULL);
	expect_none(A, "# a comment", NULL);
	expect_none(A, "", NULL);
	expect_none(A, "example.com##.banner", "cosmetic");
	expect_none(A, "##.ad-box", "cosmetic");
	expect_none(A, "example.com#@#.banner", "cosmetic");
	expect_none(A, "example.com#?#div:has(> a)", "cosmetic");
	expect_none(A, "example.com#$#body { color: red }", "cosmetic");
	expect_none(A, "/ads[0-9]+\\.example\\.com/", "regular expression");
	expect_none(A, "@@/^ads\\./$important", "regular expression");
	expect_none(A, "|http://example.com/ad.js", "URL or path");
	expect_none(A, "||example.com/ads/banner.gif", "URL or path");
	expect_none(A, "||example.com^/path", "URL or path");
	expect_none(A, "/banner/ad.", "URL or path");
	expect_none(A, "||example.com^$client=192.168.1.2", "$client");
	expect_none(A, "||example.com^$dnstype=AAAA", "$dnstype");
	expect_none(A, "||example.com^$denyallow=x.com", "$denyallow");
	expect_none(A, "||example.com^$dnsrewrite=1.2.3.4", "$dnsrewrite");
	expect_none(A, "||example.com^$ctag=device_pc", "$ctag");
	expect_none(A, "||example.com^$third-party", "browser-only");
	expect_none(A, "||example.com^$important,script", "browser-only");
	expect_none(A, "|ads*.example.com^", "'|' start anchor");
	expect_none(A, "||localhost^", "localhost entry");
	expect_bad(A, "||^", "expected a domain name");
	expect_bad(A, "@@", "expected a domain name");
	expect_bad(A, "||bücher.example^", "expected an ASCII/punycode (xn--) name");
	expect_bad(A, "||1.2.3.4^", "not an IP address");
	expect_bad(A, "||ads!.example^", "expected only letters, digits");
}

static void
test_dnsmasq(void)
{
	struct seen s;

	expect_rule(M, "address=/ads.example.com/0.0.0.0", SUB, 0, "ads.example.com");
	expect_rule(M, "address=/ads.example.com/#", SUB, 0, "ads.example.com");
	expect_rule(M, "address=/ads.example.com/", SUB, 0, "ads.example.com");
	expect_rule(M, "address=/ads.example.com/::", SUB, 0, "ads.example.com");
	expect_rule(M, "address=/Ads.Example.com./127.0.0.1\r", SUB, 0, "ads.example.com");
	expect_rule(M, "--address=/ads.example.com/#", SUB, 0, "ads.example.com");
	expect_rule(M, "address=/*.ads.example.com/#", SUB, 0, "ads.example.com");
	expect_rule(M, "local=/ads.example.com/", SUB, 0, "ads.example.com");
	/* server=/x/ with no upstream answers locally only: the same as local=. */
	expect_rule(M, "server=/ads.example.com/", SUB, 0, "ads.example.com");
	CU_ASSERT_EQUAL(each(M, "address=/a.example/B.example/c.example/#", &s), 3);
	CU_ASSERT_STRING_EQUAL(s.names[0], "a.example");
	CU_ASSERT_STRING_EQUAL(s.names[1], "b.example");
	CU_ASSERT_STRING_EQUAL(s.names[2], "c.example");
	CU_ASSERT_EQUAL(each(M, "local=/a.example/b.example/", &s), 2);
	expect_none(M, "# comment", NULL);
	expect_none(M, "", NULL);
	expect_none(M, "server=/corp.example/10.0.0.1", "forwarding rule");
	expect_none(M, "server=/corp.example/#", "forwarding rule");
	expect_none(M, "server=1.1.1.1", "forwarding rule");
	expect_none(M, "cache-size=1000", "not a blocking rule");
	expect_none(M, "no-resolv", "not a blocking rule");
	expect_none(M, "address=/#/0.0.0.0", "every domain");
	expect_bad(M, "address=/ads.example.com/not-an-address", "expected an address, '#'");
	expect_bad(M, "address=ads.example.com", "expected '/domain/'");
	expect_bad(M, "address=/ads.example.com", "expected '/domain/'");
	expect_bad(M, "local=/ads.example.com/1.2.3.4", "expected nothing after the last '/'");
	expect_bad(M, "address=//ads.example.com/#", "expected a domain between '/'");
	expect_bad(M, "address=/ads!.example/#", "expected only letters, digits");
	expect_bad(M, "ads.example.com", "expected address=/domain/");
	CU_ASSERT_EQUAL(each(M, "address=/good.example/bad!/#", &s), -EINVAL);
	CU_ASSERT_EQUAL(s.n, 0);
}

static void
test_unbound(void)
{
	static const char *const block[] = {
		"always_null", "always_nxdomain", "always_refuse", "refuse", "static", "deny",
		"redirect", "inform_deny",
	};
	char line[128];
	size_t i;

	expect_rule(U, "local-zone: \"ads.example.com.\" always_null", SUB, 0, "ads.example.com");
	expect_rule(U, "  local-zone: \"ADS.example.com\" always_null  # comment", SUB, 0,
		    "ads.example.com");
	expect_rule(U, "local-zone: ads.example.com. always_nxdomain", SUB, 0, "ads.example.com");
	expect_rule(U, "local-zone: \"ads.example.com.\" \"static\"\r", SUB, 0, "ads.example.com");
	for (i = 0; i < T_DIM(block); i++) {
		snprintf(line, sizeof(line), "local-zone: \"x.example.\" %s", block[i]);
		expect_rule(U, line, SUB, 0, "x.example");
	}
	expect_rule(U, "local-zone: \"ok.example.\" transparent", SUB, 1, "ok.example");
	expect_rule(U, "local-zone: \"ok.example.\" typetransparent", SUB, 1, "ok.example");
	expect_none(U, "server:", NULL);
	expect_none(U, "# comment", NULL);
	expect_none(U, "", NULL);
	expect_none(U, "local-data: \"ads.example.com A 0.0.0.0\"", "local-data");
	expect_none(U, "local-data-ptr: \"0.0.0.0 ads.example.com\"", "local-data");
	expect_none(U, "verbosity: 1", "not a local-zone");
	expect_none(U, "local-zone: \"x.example.\" nodefault", "neither blocks nor allows");
	expect_bad(U, "local-zone: \"x.example.\" sometimes", "expected a local-zone type");
	expect_bad(U, "local-zone: \"x.example.\"", "expected a zone type");
	expect_bad(U, "local-zone: \"x.example. always_null", "closing");
	expect_bad(U, "local-zone: \"1.2.3.4\" always_null", "not an IP address");
	expect_bad(U, "ads.example.com", "expected local-zone:");
}

static void
test_bad_syntax_arg(void)
{
	CU_ASSERT_EQUAL(P(HD_FILTER_SYNTAX_AUTO, "x.example"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT_EQUAL(P((enum hd_filter_syntax)99, "x.example"), -EINVAL);
}

static void
test_detect(void)
{
	static const struct {
		const char *text;
		enum hd_filter_syntax s;
	} cases[] = {
		{ "# Title: x\n0.0.0.0 a.example\n0.0.0.0 b.example\n", H },
		{ "\xef\xbb\xbf" "127.0.0.1 localhost\r\n0.0.0.0 a.example\r\n", H },
		{ "# Title\n\na.example\nb.example\n", D },
		{ "! Title\n||a.example^\n||b.example^\n", A },
		{ "[Adblock Plus 2.0]\n@@||a.example^\n", A },
		{ "! only comments\n", A },
		{ "example.com##.ad\n", A },
		{ "# Syntax: Wildcard\n*.a.example\n*.b.example\nc.example\n", W },
		{ "# dnsmasq\naddress=/a.example/#\nlocal=/b.example/\n", M },
		{ "server:\nlocal-zone: \"a.example.\" always_null\n", U },
		{ "", D },
		{ "\n\n# nothing\n", D },
	};
	size_t i;

	for (i = 0; i < T_DIM(cases); i++) {
		enum hd_filter_syntax got = hd_filter_detect(cases[i].text, strlen(cases[i].text));

		CU_ASSERT_EQUAL(got, cases[i].s);
		if (got != cases[i].s)
			fprintf(stderr, "\n  case %zu: got %s\n", i, hd_filter_syntax_name(got));
	}
	CU_ASSERT_EQUAL(hd_filter_detect(NULL, 0), D);
}

static void
test_names(void)
{
	enum hd_filter_syntax s;
	enum hd_filter_mode m;
	static const char *const syn[] = {
		"auto", "hosts", "domains", "adblock", "wildcard", "dnsmasq", "unbound",
	};
	static const char *const modes[] = { "nxdomain", "nodata", "null", "custom", "refused" };
	size_t i;

	for (i = 0; i < T_DIM(syn); i++) {
		CU_ASSERT_EQUAL(hd_filter_syntax_parse(syn[i], &s), 0);
		CU_ASSERT_EQUAL(s, (enum hd_filter_syntax)i);
		CU_ASSERT_STRING_EQUAL(hd_filter_syntax_name(s), syn[i]);
	}
	CU_ASSERT_EQUAL(hd_filter_syntax_parse("hostfile", &s), -EINVAL);
	CU_ASSERT_EQUAL(hd_filter_syntax_parse(NULL, &s), -EINVAL);
	CU_ASSERT_PTR_NULL(hd_filter_syntax_name((enum hd_filter_syntax)42));
	for (i = 0; i < T_DIM(modes); i++) {
		CU_ASSERT_EQUAL(hd_filter_mode_parse(modes[i], &m), 0);
		CU_ASSERT_EQUAL(m, (enum hd_filter_mode)i);
	}
	CU_ASSERT_EQUAL(hd_filter_mode_parse("block", &m), -EINVAL);
}

static unsigned int random_rules;

static int
check_rule(void *arg, const struct hd_filter_rule *rule)
{
	size_t i, n = strlen(rule->name);
	int *bad = arg;

	random_rules++;
	/* Whatever the line, a rule is a checked name (or pattern). */
	if (n == 0 || n > 255 || rule->kind == HD_FILTER_RULE_NONE)
		(*bad)++;
	for (i = 0; i < n; i++) {
		char c = rule->name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || (c == '*' && rule->kind == HD_FILTER_RULE_PATTERN)))
			(*bad)++;
	}
	return 0;
}

/* Random lines of the characters the parsers care about: never a crash, never a bad rule. */
static void
test_random_lines(void)
{
	static const char alphabet[] = "aZ09.-_*|^$@#!/:=\"' \t\r,~%[]\xc3\xa9";
	uint64_t x = 88172645463325252ull;
	char line[300];
	int bad = 0, rc, syn;
	unsigned int i, j, n;

	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = (unsigned int)(x % 280);
		for (j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			line[j] = alphabet[x % (sizeof(alphabet) - 1)];
		}
		/* Give the parsers' keywords a chance too. */
		if (i % 4 == 0 && n > 12)
			memcpy(line, i % 8 ? "address=/" : "local-zone: ", i % 8 ? 9 : 12);
		line[n] = '\0';
		for (syn = HD_FILTER_SYNTAX_HOSTS; syn <= HD_FILTER_SYNTAX_UNBOUND; syn++) {
			rc = hd_filter_parse_line_each((enum hd_filter_syntax)syn, line, n,
						       check_rule, &bad, &why);
			if (rc < 0)
				CU_ASSERT_EQUAL(rc, -EINVAL);
			CU_ASSERT(rc >= 0 || why != NULL);
		}
		(void)hd_filter_detect(line, n);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(random_rules > 100);	/* the lines did reach the rule paths */
	printf(" (%u rules from random lines) ", random_rules);
}

static const struct t_case cases[] = {
	T_CASE(test_hosts),
	T_CASE(test_hosts_odd_lines),
	T_CASE(test_hosts_bad_lines),
	T_CASE(test_hosts_many_names),
	T_CASE(test_each_callback_error),
	T_CASE(test_domains),
	T_CASE(test_wildcard),
	T_CASE(test_adblock),
	T_CASE(test_adblock_skipped),
	T_CASE(test_dnsmasq),
	T_CASE(test_unbound),
	T_CASE(test_bad_syntax_arg),
	T_CASE(test_detect),
	T_CASE(test_names),
	T_CASE(test_random_lines),
};

int
main(void)
{
	return t_run("filter_parse", cases, T_DIM(cases));
}
