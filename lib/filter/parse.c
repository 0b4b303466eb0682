/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Line parsers for the list syntaxes people publish, and syntax detection.
 *
 * Every parser works on one line as a (pointer, length) slice: no copies of
 * the line, no allocation. A line is parsed in "check" mode first, which
 * validates every name and keeps the first rule; only a line with several
 * rules (hosts lines with many names, dnsmasq lines with many domains) is
 * parsed a second time to deliver them, so a line is taken whole or not at
 * all and the common one-name line costs a single pass.
 *
 * The `why` strings are what an operator reads in the load report after
 * "list.txt:12: ", so they say what was expected.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "filter_private.h"

#define WHY_ASCII	"expected an ASCII/punycode (xn--) name"
#define WHY_IP		"expected a domain name, not an IP address"
#define WHY_EMPTY	"expected a domain name"
#define WHY_LONG_NAME	"expected a name of at most 253 characters"
#define WHY_LONG_LABEL	"expected labels of at most 63 characters"
#define WHY_EMPTY_LABEL	"expected a name without empty labels ('..' or a leading '.')"
#define WHY_CHARS	"expected only letters, digits, '-', '_' and '.' in a name"
#define WHY_STAR	"expected '*' only as a whole first label ('*.example.com')"

struct emit {
	hd_filter_rule_fn fn;
	void *arg;
	int deliver;		/* 0: check the line and keep its first rule */
	int count;		/* rules found (check) or delivered */
	const char *why;	/* bad line, or why a rule line adds nothing */
	struct hd_filter_rule first;
	struct hd_filter_rule tmp;
};

/* ---- small slice helpers ---------------------------------------------- */

static inline int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* Next blank-separated token of *s; advances *s. */
static size_t
next_token(const char **s, size_t *n, const char **tok)
{
	size_t len = 0;

	while (*n > 0 && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	*tok = *s;
	while (len < *n && !is_blank((*s)[len]))
		len++;
	*s += len;
	*n -= len;
	return len;
}

static int
has_prefix(const char *s, size_t n, const char *p)
{
	size_t pl = strlen(p);

	return n >= pl && memcmp(s, p, pl) == 0;
}

static int
equals(const char *s, size_t n, const char *p)
{
	return strlen(p) == n && memcmp(s, p, n) == 0;
}

/* Cut the line at its first '#': hosts, domains, unbound trailing comments. */
static void
cut_comment(const char *s, size_t *n)
{
	const char *h = memchr(s, '#', *n);

	if (h != NULL)
		*n = (size_t)(h - s);
}

/* An IPv4 or IPv6 literal (an IPv6 zone "%eth0" is allowed). */
static int
is_ip(const char *s, size_t n)
{
	char buf[64];
	uint8_t addr[16];
	const char *pct;
	size_t i;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	/* Names are checked a million times per big list: skip inet_pton for them. */
	for (i = 0; i < n; i++)
		if (s[i] == ':' || !((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			break;
	if (i == n) {
		if (n == 7 && memcmp(s, "0.0.0.0", 7) == 0)
			return 1;
	} else if (memchr(s + i, ':', n - i) == NULL) {
		return 0;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		return 1;
	pct = memchr(buf, '%', n);
	if (pct != NULL)
		buf[pct - buf] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

/* ---- names -------------------------------------------------------------- */

int
filter_name_norm(const char *s, size_t n, char *out, int star, const char **why)
{
	size_t i, label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0) {
		*why = WHY_EMPTY;
		return -EINVAL;
	}
	/* Non-ASCII first: an IDN in Unicode gets the message that helps. */
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			*why = WHY_ASCII;
			return -EINVAL;
		}
	}
	if (is_ip(s, n)) {
		*why = WHY_IP;
		return -EINVAL;
	}
	if (n > 253) {
		*why = WHY_LONG_NAME;
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0) {
				*why = WHY_EMPTY_LABEL;
				return -EINVAL;
			}
			label = 0;
			out[i] = c;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || (star && c == '*'))) {
			*why = c == '*' ? WHY_STAR : WHY_CHARS;
			return -EINVAL;
		}
		if (++label > 63) {
			*why = WHY_LONG_LABEL;
			return -EINVAL;
		}
		out[i] = c;
	}
	out[n] = '\0';
	return (int)n;
}

int
filter_name_is_local(const char *name)
{
	static const char *const local[] = {
		"localhost", "localhost.localdomain", "local", "broadcasthost",
		"localhost4", "localhost4.localdomain4",
		"localhost6", "localhost6.localdomain6",
	};
	size_t i;

	if (name[0] != 'l' && name[0] != 'b' && name[0] != 'i')
		return 0;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strcmp(name, local[i]) == 0)
			return 1;
	/* ip6-localhost, ip6-loopback, ip6-allnodes, ip6-mcastprefix, ... */
	return strncmp(name, "ip6-", 4) == 0 && strchr(name, '.') == NULL;
}

size_t
filter_name_to_wire(const char *name, uint8_t *out)
{
	size_t o = 0;

	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		out[o++] = (uint8_t)l;
		memcpy(out + o, name, l);
		o += l;
		name += l;
		if (*name == '.')
			name++;
	}
	return o;
}

/* ---- emitting rules ------------------------------------------------------ */

static int
emit_tmp(struct emit *e)
{
	int rc;

	if (!e->deliver) {
		if (e->count == 0)
			e->first = e->tmp;
		e->count++;
		return 0;
	}
	rc = e->fn(e->arg, &e->tmp);
	if (rc != 0)
		return rc;
	e->count++;
	return 0;
}

/* Check a name and emit it; localhost names are skipped (with a reason). */
static int
add_name(struct emit *e, const char *s, size_t n, enum hd_filter_rule_kind kind,
	 int allow, int badfilter)
{
	if (filter_name_norm(s, n, e->tmp.name, 0, &e->why) < 0)
		return -EINVAL;
	if (filter_name_is_local(e->tmp.name)) {
		e->why = "a localhost entry (hosts files map these names to themselves)";
		return 0;
	}
	e->tmp.kind = kind;
	e->tmp.allow = allow;
	e->tmp.badfilter = badfilter;
	return emit_tmp(e);
}

/* ---- hosts ---------------------------------------------------------------- */

static int
parse_hosts(struct emit *e, const char *s, size_t n)
{
	const char *tok;
	size_t tl;
	int names = 0, rc;

	cut_comment(s, &n);
	tl = next_token(&s, &n, &tok);
	if (tl == 0)
		return 0;
	if (!is_ip(tok, tl)) {
		const char *t1 = tok;
		size_t l1 = tl;

		/* A bare name in a hosts file: lists mix them in; take it. */
		if (next_token(&s, &n, &tok) == 0)
			return add_name(e, t1, l1, HD_FILTER_RULE_EXACT, 0, 0);
		e->why = "expected an IP address followed by host names";
		return -EINVAL;
	}
	while ((tl = next_token(&s, &n, &tok)) != 0) {
		names++;
		if (equals(tok, tl, "0.0.0.0")) {	/* `0.0.0.0 0.0.0.0` */
			e->why = "a localhost entry (hosts files map these names to themselves)";
			continue;
		}
		rc = add_name(e, tok, tl, HD_FILTER_RULE_EXACT, 0, 0);
		if (rc != 0)
			return rc;
	}
	if (names == 0) {
		e->why = "expected a host name after the address";
		return -EINVAL;
	}
	return 0;
}

/* ---- domains and wildcard ------------------------------------------------- */

static int
parse_domains(struct emit *e, const char *s, size_t n)
{
	const char *tok;
	size_t tl;

	trim(&s, &n);
	if (n == 0 || s[0] == '#' || s[0] == '!')
		return 0;
	cut_comment(s, &n);
	tl = next_token(&s, &n, &tok);
	if (next_token(&s, &n, &s) != 0) {
		e->why = "expected one domain name per line";
		return -EINVAL;
	}
	if (tl >= 2 && tok[0] == '*' && tok[1] == '.') {
		if (memchr(tok + 2, '*', tl - 2) != NULL) {
			e->why = WHY_STAR;
			return -EINVAL;
		}
		return add_name(e, tok + 2, tl - 2, HD_FILTER_RULE_SUBTREE, 0, 0);
	}
	return add_name(e, tok, tl, HD_FILTER_RULE_EXACT, 0, 0);
}

/* ---- AdBlock ---------------------------------------------------------------- */

static int
is_cosmetic(const char *s, size_t n)
{
	static const char *const marks[] = {
		"##", "#@#", "#?#", "#$#", "#%#", "#@?#", "#@$#", "#@%#", "$$", "$@$",
	};
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (memmem(s, n, marks[i], strlen(marks[i])) != NULL)
			return 1;
	return 0;
}

/*
 * Modifiers after '$'. @return 1 when the rule applies to DNS (none, or
 * only important/badfilter), 0 with e->why when it must be skipped.
 */
static int
adblock_modifiers(struct emit *e, const char *m, size_t n, int *badfilter)
{
	static const char *const dns_only[] = {
		"client", "ctag", "dnstype", "denyallow", "dnsrewrite",
	};

	while (n > 0) {
		const char *comma = memchr(m, ',', n);
		size_t l = comma != NULL ? (size_t)(comma - m) : n;
		const char *mod = m;
		size_t ml = l, i, kl;

		trim(&mod, &ml);
		m += l;
		n -= l;
		if (n > 0) {
			m++;
			n--;
		}
		if (ml == 0 || equals(mod, ml, "important"))
			continue;
		if (equals(mod, ml, "badfilter")) {
			*badfilter = 1;
			continue;
		}
		kl = ml;
		for (i = 0; i < ml; i++)
			if (mod[i] == '=') {
				kl = i;
				break;
			}
		for (i = 0; i < sizeof(dns_only) / sizeof(dns_only[0]); i++) {
			if (equals(mod, kl, dns_only[i])) {
				e->why = "a rule with $client, $ctag, $dnstype, $denyallow or "
					 "$dnsrewrite (not supported)";
				return 0;
			}
		}
		e->why = "a rule with a browser-only modifier ($third-party, $script, ...), "
			 "not a DNS rule";
		return 0;
	}
	return 1;
}

/* Build the glob of a rule with '*' (or an unanchored end) into e->tmp. */
static int
adblock_pattern(struct emit *e, const char *s, size_t n, int label_anchor, int end_anchor)
{
	char body[256];
	char *out = e->tmp.name;
	int bl;
	size_t o = 0, i;

	bl = filter_name_norm(s, n, body, 1, &e->why);
	if (bl < 0)
		return -EINVAL;
	/* Without "||" the rule may start anywhere in the name. */
	if (!label_anchor)
		out[o++] = '*';
	for (i = 0; i < (size_t)bl; i++) {
		if (body[i] == '*' && o > 0 && out[o - 1] == '*')
			continue;
		out[o++] = body[i];
	}
	if (!end_anchor && out[o - 1] != '*')
		out[o++] = '*';
	out[o] = '\0';
	e->tmp.kind = HD_FILTER_RULE_PATTERN;
	return 0;
}

static int
parse_adblock(struct emit *e, const char *s, size_t n)
{
	int allow = 0, badfilter = 0, label_anchor = 0, start_anchor = 0, end_anchor = 0;
	const char *dollar;
	size_t i;

	trim(&s, &n);
	if (n == 0 || s[0] == '!' || s[0] == '[')
		return 0;
	if (is_cosmetic(s, n)) {
		e->why = "a cosmetic rule (hides page elements; not a DNS rule)";
		return 0;
	}
	if (s[0] == '#')
		return 0;
	if (has_prefix(s, n, "@@")) {
		allow = 1;
		s += 2;
		n -= 2;
	}
	if (n > 0 && s[0] == '/') {
		dollar = memchr(s, '$', n);
		i = dollar != NULL ? (size_t)(dollar - s) : n;
		e->why = i >= 2 && s[i - 1] == '/' ?
			"a regular expression rule (not supported)" :
			"a URL or path rule (not a DNS rule)";
		return 0;
	}
	dollar = memchr(s, '$', n);
	if (dollar != NULL) {
		if (!adblock_modifiers(e, dollar + 1, n - (size_t)(dollar - s) - 1, &badfilter))
			return 0;
		n = (size_t)(dollar - s);
	}
	if (has_prefix(s, n, "||")) {
		label_anchor = 1;
		s += 2;
		n -= 2;
	} else if (has_prefix(s, n, "|")) {
		start_anchor = 1;
		s += 1;
		n -= 1;
	}
	if (n > 0 && s[n - 1] == '|') {
		end_anchor = 1;
		n--;
	}
	if (n > 0 && s[n - 1] == '^') {
		end_anchor = 1;
		n--;
	}
	for (i = 0; i < n; i++) {
		if (strchr("/^?=&:;,", s[i]) != NULL) {
			e->why = "a URL or path rule (not a DNS rule)";
			return 0;
		}
	}
	if (n == 0) {
		e->why = WHY_EMPTY;
		return -EINVAL;
	}
	if (memchr(s, '*', n) == NULL) {
		if ((label_anchor && end_anchor) || (!label_anchor && !start_anchor && !end_anchor))
			return add_name(e, s, n, label_anchor ? HD_FILTER_RULE_SUBTREE :
					HD_FILTER_RULE_EXACT, allow, badfilter);
		if (start_anchor && end_anchor)
			return add_name(e, s, n, HD_FILTER_RULE_EXACT, allow, badfilter);
	}
	if (start_anchor) {
		e->why = "a '|' start anchor with '*' or without '^' (not supported)";
		return 0;
	}
	if (adblock_pattern(e, s, n, label_anchor, end_anchor) < 0)
		return -EINVAL;
	e->tmp.allow = allow;
	e->tmp.badfilter = badfilter;
	return emit_tmp(e);
}

/* ---- dnsmasq ---------------------------------------------------------------- */

static int
dnsmasq_value_ok(const char *v, size_t n)
{
	return n == 0 || equals(v, n, "#") || is_ip(v, n);
}

static int
parse_dnsmasq(struct emit *e, const char *s, size_t n)
{
	const char *eq, *val, *last, *seg;
	size_t vl, i;
	int is_server, is_local, rc;

	trim(&s, &n);
	if (n == 0 || s[0] == '#')
		return 0;
	if (has_prefix(s, n, "--")) {
		s += 2;
		n -= 2;
	}
	eq = memchr(s, '=', n);
	if (eq == NULL) {
		for (i = 0; i < n; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
				break;
		if (i == n) {	/* a flag such as no-resolv */
			e->why = "a dnsmasq option that is not a blocking rule";
			return 0;
		}
		e->why = "expected address=/domain/..., local=/domain/ or server=/domain/";
		return -EINVAL;
	}
	is_server = equals(s, (size_t)(eq - s), "server");
	is_local = equals(s, (size_t)(eq - s), "local");
	if (!is_server && !is_local && !equals(s, (size_t)(eq - s), "address")) {
		e->why = "a dnsmasq option that is not a blocking rule";
		return 0;
	}
	val = eq + 1;
	vl = n - (size_t)(val - s);
	if (vl == 0 || val[0] != '/') {
		if (is_server) {
			e->why = "a dnsmasq forwarding rule (server=...), not a block";
			return 0;
		}
		e->why = "expected '/domain/' after address= or local=";
		return -EINVAL;
	}
	last = val + vl - 1;
	while (*last != '/')
		last--;
	if (last == val) {
		e->why = "expected '/domain/' after address=, local= or server=";
		return -EINVAL;
	}
	/* The value after the last '/': an upstream for server=, an answer for address=. */
	if (is_server && last + 1 < val + vl) {
		e->why = "a dnsmasq forwarding rule (server=/domain/address), not a block";
		return 0;
	}
	if (is_local && last + 1 < val + vl) {
		e->why = "expected nothing after the last '/' of local=/domain/";
		return -EINVAL;
	}
	if (!dnsmasq_value_ok(last + 1, (size_t)(val + vl - last - 1))) {
		e->why = "expected an address, '#' or nothing after the last '/'";
		return -EINVAL;
	}
	for (seg = val + 1; seg < last;) {
		const char *sl = memchr(seg, '/', (size_t)(last - seg) + 1);
		size_t l = (size_t)(sl - seg);

		if (equals(seg, l, "#")) {
			e->why = "a rule for every domain (/#/) (not supported)";
			return 0;
		}
		seg = sl + 1;
	}
	for (seg = val + 1; seg < last;) {
		const char *sl = memchr(seg, '/', (size_t)(last - seg) + 1);
		const char *d = seg;
		size_t l = (size_t)(sl - seg);

		seg = sl + 1;
		/* dnsmasq treats "*.x" and ".x" as x and its subdomains. */
		if (has_prefix(d, l, "*.")) {
			d += 2;
			l -= 2;
		} else if (has_prefix(d, l, ".")) {
			d += 1;
			l -= 1;
		}
		if (l == 0) {
			e->why = "expected a domain between '/'";
			return -EINVAL;
		}
		rc = add_name(e, d, l, HD_FILTER_RULE_SUBTREE, 0, 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- unbound ---------------------------------------------------------------- */

static int
unbound_zone_type(const char *t, size_t n, int *allow)
{
	static const char *const block[] = {
		"always_null", "always_nxdomain", "always_refuse", "refuse", "static",
		"deny", "redirect", "inform_deny", "inform_redirect",
	};
	static const char *const pass[] = {
		"transparent", "typetransparent", "always_transparent", "inform",
	};
	static const char *const other[] = { "nodefault", "noview", "block_a" };
	size_t i;

	for (i = 0; i < sizeof(block) / sizeof(block[0]); i++)
		if (equals(t, n, block[i])) {
			*allow = 0;
			return 1;
		}
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (equals(t, n, pass[i])) {
			*allow = 1;
			return 1;
		}
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (equals(t, n, other[i]))
			return 0;
	return -EINVAL;
}

static int
parse_unbound(struct emit *e, const char *s, size_t n)
{
	const char *colon, *name, *type;
	size_t nl, tl;
	int allow = 0, rc;

	cut_comment(s, &n);
	trim(&s, &n);
	if (n == 0)
		return 0;
	colon = memchr(s, ':', n);
	if (colon == NULL) {
		e->why = "expected local-zone: \"name.\" type";
		return -EINVAL;
	}
	type = colon + 1;
	tl = n - (size_t)(type - s);
	trim(&type, &tl);
	if (tl == 0)		/* a clause: server:, forward-zone: */
		return 0;
	if (equals(s, (size_t)(colon - s), "local-data") ||
	    equals(s, (size_t)(colon - s), "local-data-ptr")) {
		e->why = "a local-data record (not a blocking rule)";
		return 0;
	}
	if (!equals(s, (size_t)(colon - s), "local-zone")) {
		e->why = "an unbound option that is not a local-zone";
		return 0;
	}
	if (type[0] == '"') {
		const char *q = memchr(type + 1, '"', tl - 1);

		if (q == NULL) {
			e->why = "expected a closing '\"' after the zone name";
			return -EINVAL;
		}
		name = type + 1;
		nl = (size_t)(q - name);
		tl -= nl + 2;
		type = q + 1;
	} else {
		nl = next_token(&type, &tl, &name);
	}
	trim(&type, &tl);
	if (tl >= 2 && type[0] == '"' && type[tl - 1] == '"') {
		type++;
		tl -= 2;
	}
	if (tl == 0) {
		e->why = "expected a zone type after the zone name";
		return -EINVAL;
	}
	rc = unbound_zone_type(type, tl, &allow);
	if (rc < 0) {
		e->why = "expected a local-zone type (always_null, always_nxdomain, refuse, "
			 "static, deny, redirect, transparent, ...)";
		return -EINVAL;
	}
	if (rc == 0) {
		e->why = "a local-zone type that neither blocks nor allows";
		return 0;
	}
	return add_name(e, name, nl, HD_FILTER_RULE_SUBTREE, allow, 0);
}

/* ---- entry points ---------------------------------------------------------- */

static int
parse_any(enum hd_filter_syntax syntax, const char *s, size_t n, struct emit *e)
{
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	switch (syntax) {
	case HD_FILTER_SYNTAX_HOSTS:
		return parse_hosts(e, s, n);
	case HD_FILTER_SYNTAX_DOMAINS:
	case HD_FILTER_SYNTAX_WILDCARD:
		return parse_domains(e, s, n);
	case HD_FILTER_SYNTAX_ADBLOCK:
		return parse_adblock(e, s, n);
	case HD_FILTER_SYNTAX_DNSMASQ:
		return parse_dnsmasq(e, s, n);
	case HD_FILTER_SYNTAX_UNBOUND:
		return parse_unbound(e, s, n);
	default:
		e->why = "expected a list syntax (hosts, domains, adblock, wildcard, dnsmasq, "
			 "unbound)";
		return -EINVAL;
	}
}

/*
 * The first pass over a line (NULL: an empty one): the rules it gives are
 * counted and the first one kept in @p e, none delivered yet.
 */
static int
count_pass(enum hd_filter_syntax syntax, const char *line, size_t len, struct emit *e,
	   hd_filter_rule_fn fn, void *arg)
{
	e->fn = fn;
	e->arg = arg;
	e->deliver = 0;
	e->count = 0;
	e->why = NULL;
	if (line == NULL) {
		line = "";
		len = 0;
	}
	return parse_any(syntax, line, len, e);
}

int
hd_filter_parse_line_each(enum hd_filter_syntax syntax, const char *line, size_t len,
			  hd_filter_rule_fn fn, void *arg, const char **why)
{
	struct emit e;
	const char *dummy;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	rc = count_pass(syntax, line, len, &e, fn, arg);
	if (rc < 0) {
		*why = e.why;
		return rc;
	}
	if (e.count == 0) {
		*why = e.why;
		return 0;
	}
	if (e.count == 1) {
		rc = fn(arg, &e.first);
		return rc != 0 ? rc : 1;
	}
	e.deliver = 1;
	e.count = 0;
	rc = parse_any(syntax, line, len, &e);
	return rc != 0 ? rc : e.count;
}

int
hd_filter_parse_line(enum hd_filter_syntax syntax, const char *line, size_t len,
		     struct hd_filter_rule *r, const char **why)
{
	struct emit e;
	const char *dummy;
	int rc;

	if (why == NULL)
		why = &dummy;
	rc = count_pass(syntax, line, len, &e, NULL, NULL);
	*why = e.why;
	if (rc < 0)
		return rc;
	if (e.count == 0) {
		memset(r, 0, sizeof(*r));
		r->kind = HD_FILTER_RULE_NONE;
		return 0;
	}
	*r = e.first;
	*why = NULL;
	return 0;
}

/* ---- detection ---------------------------------------------------------------- */

static enum hd_filter_syntax
classify(const char *s, size_t n)
{
	const char *tok;
	size_t tl;

	if (has_prefix(s, n, "||") || has_prefix(s, n, "@@") || has_prefix(s, n, "|") ||
	    memchr(s, '^', n) != NULL || is_cosmetic(s, n) ||
	    (n >= 2 && s[0] == '/' && s[n - 1] == '/'))
		return HD_FILTER_SYNTAX_ADBLOCK;
	if (has_prefix(s, n, "--"))
		s += 2, n -= 2;
	if (has_prefix(s, n, "address=") || has_prefix(s, n, "local=") ||
	    has_prefix(s, n, "server="))
		return HD_FILTER_SYNTAX_DNSMASQ;
	if (has_prefix(s, n, "local-zone:") || has_prefix(s, n, "local-data") ||
	    equals(s, n, "server:"))
		return HD_FILTER_SYNTAX_UNBOUND;
	tl = next_token(&s, &n, &tok);
	if (is_ip(tok, tl) && next_token(&s, &n, &s) != 0)
		return HD_FILTER_SYNTAX_HOSTS;
	if (has_prefix(tok, tl, "*."))
		return HD_FILTER_SYNTAX_WILDCARD;
	return HD_FILTER_SYNTAX_DOMAINS;
}

enum hd_filter_syntax
hd_filter_detect(const char *text, size_t len)
{
	unsigned int votes[HD_FILTER_SYNTAX_UNBOUND + 1] = { 0 };
	unsigned int seen = 0, bangs = 0, best = HD_FILTER_SYNTAX_DOMAINS, i;
	/* Ties go to the syntax whose lines are least likely to look like another. */
	static const enum hd_filter_syntax order[] = {
		HD_FILTER_SYNTAX_ADBLOCK, HD_FILTER_SYNTAX_DNSMASQ, HD_FILTER_SYNTAX_UNBOUND,
		HD_FILTER_SYNTAX_HOSTS, HD_FILTER_SYNTAX_WILDCARD, HD_FILTER_SYNTAX_DOMAINS,
	};
	size_t pos = 0;

	if (text == NULL)
		return HD_FILTER_SYNTAX_DOMAINS;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && seen < 50) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;

		pos += n + 1;
		trim(&s, &n);
		if (n == 0)
			continue;
		if (s[0] == '!' || s[0] == '[') {
			bangs++;
			continue;
		}
		if (s[0] == '#' && !is_cosmetic(s, n))
			continue;
		seen++;
		votes[classify(s, n)]++;
	}
	if (seen == 0)
		return bangs > 0 ? HD_FILTER_SYNTAX_ADBLOCK : HD_FILTER_SYNTAX_DOMAINS;
	best = order[0];
	for (i = 1; i < sizeof(order) / sizeof(order[0]); i++)
		if (votes[order[i]] > votes[best])
			best = order[i];
	/* A wildcard list may name some hosts plainly: still a wildcard list. */
	if (best == HD_FILTER_SYNTAX_DOMAINS && votes[HD_FILTER_SYNTAX_WILDCARD] > 0)
		best = HD_FILTER_SYNTAX_WILDCARD;
	return (enum hd_filter_syntax)best;
}

/* ---- names of syntaxes and modes ---------------------------------------------- */

static const char *const syntax_names[] = {
	[HD_FILTER_SYNTAX_AUTO] = "auto",
	[HD_FILTER_SYNTAX_HOSTS] = "hosts",
	[HD_FILTER_SYNTAX_DOMAINS] = "domains",
	[HD_FILTER_SYNTAX_ADBLOCK] = "adblock",
	[HD_FILTER_SYNTAX_WILDCARD] = "wildcard",
	[HD_FILTER_SYNTAX_DNSMASQ] = "dnsmasq",
	[HD_FILTER_SYNTAX_UNBOUND] = "unbound",
};

const char *
hd_filter_syntax_name(enum hd_filter_syntax s)
{
	if ((unsigned int)s >= sizeof(syntax_names) / sizeof(syntax_names[0]))
		return NULL;
	return syntax_names[s];
}

int
hd_filter_syntax_parse(const char *name, enum hd_filter_syntax *s)
{
	unsigned int i;

	if (name == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(syntax_names) / sizeof(syntax_names[0]); i++) {
		if (strcmp(name, syntax_names[i]) == 0) {
			*s = (enum hd_filter_syntax)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
hd_filter_mode_parse(const char *name, enum hd_filter_mode *m)
{
	static const char *const modes[] = {
		[HD_FILTER_MODE_NXDOMAIN] = "nxdomain",
		[HD_FILTER_MODE_NODATA] = "nodata",
		[HD_FILTER_MODE_NULL] = "null",
		[HD_FILTER_MODE_CUSTOM] = "custom",
		[HD_FILTER_MODE_REFUSED] = "refused",
	};
	unsigned int i;

	if (name == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(name, modes[i]) == 0) {
			*m = (enum hd_filter_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}
