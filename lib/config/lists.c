/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Settings of blocking and local data: blocklists, allowlists, client
 * groups, local records, zone files and local zones. Each value is checked
 * as far as it can be without reading files (the app reads lists and zone
 * files, and lib/localzone parses records in full at start-up); what
 * depends on other settings (a group naming a list) is checked by
 * hd_config_validate(). As in options.c, the config is written only once a
 * value is good.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hd_config.h"
#include "config_private.h"

#define DURATION_MAX	(365u * 86400u)
#define BLOCK_TTL_MAX	86400u
#define GROUP_FLAG_HELP	"expected NAME=SUBNET[,SUBNET...][:LIST[,LIST...]]"

static const char *const mode_names[] = {
	[HD_CONFIG_BLOCK_NXDOMAIN] = "nxdomain",
	[HD_CONFIG_BLOCK_NODATA] = "nodata",
	[HD_CONFIG_BLOCK_NULL] = "null",
	[HD_CONFIG_BLOCK_CUSTOM] = "custom",
	[HD_CONFIG_BLOCK_REFUSED] = "refused",
};

/* lib/filter's names (hd_filter_syntax_name()); the app maps them. */
static const char *const syntax_names[] = {
	"auto", "hosts", "domains", "adblock", "wildcard", "dnsmasq", "unbound",
};

const char *
hd_config_block_mode_name(int mode)
{
	if (mode < 0 || mode >= (int)(sizeof(mode_names) / sizeof(mode_names[0])))
		return "?";
	return mode_names[mode];
}

static int
mode_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcasecmp(s, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

int
cfg_set_block_mode(struct hd_config *c, const char *key, const char *value,
		   const char *where, char *err, size_t errlen)
{
	int m = mode_parse(value);

	if (m < 0) {
		cfg_value_err(err, errlen, where, key, value, "is not a block mode (expected "
			      "nxdomain, nodata, null, custom or refused)");
		return -EINVAL;
	}
	c->block_mode = m;
	return 0;
}

/* "90", "90s", "15m", "24h", "7d". */
int
cfg_set_duration(uint32_t *out, uint32_t max, const char *key, const char *value,
		 const char *where, char *err, size_t errlen)
{
	unsigned long long v, mul = 1;
	char *end = NULL;

	if (!isdigit((unsigned char)value[0]))
		goto bad;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno == ERANGE)
		goto range;
	switch (*end) {
	case '\0':
		break;
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		goto bad;
	}
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	if (v > max / mul)
		goto range;
	*out = (uint32_t)(v * mul);
	return 0;
bad:
	cfg_value_err(err, errlen, where, key, value, "is not a duration (expected seconds, "
		      "or a number with an s, m, h or d suffix, in 0..%ud; 0 turns it off)",
		      max / 86400);
	return -EINVAL;
range:
	cfg_value_err(err, errlen, where, key, value, "is out of range (expected a duration "
		      "in 0..%ud)", max / 86400);
	return -EINVAL;
}

/* List and group names: what telemetry keys and EDE texts can carry as is. */
static bool
name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= HD_CONFIG_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool
is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static int
source_check(const char *key, const char *value, const char *src, const char *where,
	     char *err, size_t errlen)
{
	const char *host;

	if (src[0] == '\0') {
		cfg_value_err(err, errlen, where, key, value, "has no source (expected "
			      "[NAME=]PATH or [NAME=]URL)");
		return -EINVAL;
	}
	if (strlen(src) >= HD_CONFIG_SOURCE_LEN) {
		cfg_value_err(err, errlen, where, key, value, "is too long (expected at most "
			      "%d bytes)", HD_CONFIG_SOURCE_LEN - 1);
		return -EINVAL;
	}
	if (strstr(src, "://") != NULL) {
		host = strstr(src, "://") + 3;
		if (!is_url(src) || host[0] == '\0' || host[0] == '/') {
			cfg_value_err(err, errlen, where, key, value, "is not a file path or an "
				      "http(s) URL");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The name a list gets when none is given: the last path segment of the
 * file or URL without its extension, lowercased, other characters as '-'.
 */
static void
name_derive(const char *src, char *out)
{
	const char *p = src, *seg, *end;
	size_t n = 0;

	if (is_url(src)) {
		p = strstr(src, "://") + 3;
		end = p + strcspn(p, "?#");
	} else {
		end = p + strlen(p);
	}
	while (end > p && end[-1] == '/')
		end--;
	seg = end;
	while (seg > p && seg[-1] != '/')
		seg--;
	for (const char *dot = end; dot > seg + 1; dot--)
		if (dot[-1] == '.') {
			end = dot - 1;
			break;
		}
	for (; seg < end && n + 1 < HD_CONFIG_NAME_LEN; seg++) {
		char ch = (char)tolower((unsigned char)*seg);

		out[n++] = name_ok(&ch, 1) ? ch : '-';
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, HD_CONFIG_NAME_LEN, "list");
}

static const struct hd_config_list *
list_find(const struct hd_config *c, const char *name)
{
	for (unsigned int i = 0; i < c->n_lists; i++)
		if (strcmp(c->lists[i].name, name) == 0)
			return &c->lists[i];
	return NULL;
}

/* A derived name that is taken gets "-2", "-3", ... */
static int
name_unique(const struct hd_config *c, char *name)
{
	char base[HD_CONFIG_NAME_LEN], buf[HD_CONFIG_NAME_LEN + 8];

	if (list_find(c, name) == NULL)
		return 0;
	snprintf(base, sizeof(base), "%.*s", HD_CONFIG_NAME_LEN - 5, name);
	for (int i = 2; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "%s-%d", base, i);
		if (list_find(c, buf) == NULL) {
			memcpy(name, buf, strlen(buf) + 1);
			return 0;
		}
	}
	return -EEXIST;
}

void
cfg_where_copy(char *dst, const char *where, const char *key)
{
	if (where != NULL && where[0] != '\0')
		snprintf(dst, HD_CONFIG_WHERE_LEN, "%s", where);
	else
		snprintf(dst, HD_CONFIG_WHERE_LEN, "%s", key);
}

/* "[NAME=]SOURCE" into @p l; the name part only when it is a valid name. */
static int
list_parse(struct hd_config_list *l, int allow, const char *key, const char *value,
	   const char *where, char *err, size_t errlen)
{
	const char *eq = strchr(value, '=');
	const char *src = value;
	int rc;

	memset(l, 0, sizeof(*l));
	l->allow = allow;
	l->mode = -1;
	l->ttl = -1;
	snprintf(l->syntax, sizeof(l->syntax), "auto");
	if (eq != NULL && name_ok(value, (size_t)(eq - value))) {
		memcpy(l->name, value, (size_t)(eq - value));
		l->name[eq - value] = '\0';
		l->named = 1;
		src = eq + 1;
	}
	rc = source_check(key, value, src, where, err, errlen);
	if (rc < 0)
		return rc;
	snprintf(l->source, sizeof(l->source), "%s", src);
	l->is_url = is_url(src);
	cfg_where_copy(l->where, where, key);
	return 0;
}

/* Name it (or check the given name is free) and append it. */
static int
list_commit(struct hd_config *c, struct hd_config_list *l, const char *key, const char *value,
	    const char *where, char *err, size_t errlen)
{
	const struct hd_config_list *other;

	if (!l->named)
		name_derive(l->source, l->name);
	other = list_find(c, l->name);
	if (other != NULL && l->named) {
		cfg_value_err(err, errlen, where, key, value, "has the name '%s' of the list "
			      "given at %s (names must be unique)", l->name, other->where);
		return -EINVAL;
	}
	if (other != NULL && name_unique(c, l->name) < 0) {
		cfg_value_err(err, errlen, where, key, value, "needs a name: give one as "
			      "NAME=%s", l->source);
		return -EINVAL;
	}
	if (c->n_lists >= HD_CONFIG_LISTS_MAX) {
		cfg_value_err(err, errlen, where, key, value, "is one list too many (at most "
			      "%d blocklists and allowlists)", HD_CONFIG_LISTS_MAX);
		return -EINVAL;
	}
	c->lists[c->n_lists++] = *l;
	return 0;
}

int
cfg_set_list(struct hd_config *c, int allow, const char *key, const char *value,
	     const char *where, char *err, size_t errlen)
{
	struct hd_config_list l;
	int rc;

	rc = list_parse(&l, allow, key, value, where, err, errlen);
	if (rc < 0)
		return rc;
	return list_commit(c, &l, key, value, where, err, errlen);
}

void
cfg_clear_lists(struct hd_config *c, int allow)
{
	unsigned int i, n = 0;

	for (i = 0; i < c->n_lists; i++)
		if (c->lists[i].allow != allow)
			c->lists[n++] = c->lists[i];
	memset(&c->lists[n], 0, (HD_CONFIG_LISTS_MAX - n) * sizeof(c->lists[0]));
	c->n_lists = n;
}

/* --- groups --------------------------------------------------------------- */

/* "ADDR" or "ADDR/PREFIX". @return 0 with the parsed form, or -EINVAL. */
static int
subnet_parse(const char *s, size_t len, int *family, uint8_t *addr, unsigned int *prefix)
{
	char ip[HD_CONFIG_SUBNET_LEN];
	const char *slash = memchr(s, '/', len);
	size_t iplen = slash != NULL ? (size_t)(slash - s) : len;
	unsigned int max;

	if (iplen == 0 || iplen >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, ip, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, ip, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	max = *family == AF_INET ? 32 : 128;
	*prefix = max;
	if (slash != NULL) {
		size_t plen = len - iplen - 1;
		unsigned int v = 0;

		if (plen == 0 || plen > 3)
			return -EINVAL;
		for (size_t i = 0; i < plen; i++) {
			if (!isdigit((unsigned char)slash[1 + i]))
				return -EINVAL;
			v = v * 10 + (unsigned int)(slash[1 + i] - '0');
		}
		if (v > max)
			return -EINVAL;
		*prefix = v;
	}
	return 0;
}

/* Call @p fn on every comma-separated item of @p s[0..len). */
static int
split_each(const char *s, size_t len, int (*fn)(void *arg, const char *item, size_t n),
	   void *arg)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		int rc = fn(arg, s + start, i - start);

		if (rc != 0)
			return rc;
		start = i + 1;
	}
	return 0;
}

struct group_build {
	struct hd_config_group *g;
	const char *bad;	/* what was wrong, for the message */
	char item[HD_CONFIG_SOURCE_LEN];
};

static void
item_keep(struct group_build *gb, const char *s, size_t n)
{
	if (n >= sizeof(gb->item))
		n = sizeof(gb->item) - 1;
	memcpy(gb->item, s, n);
	gb->item[n] = '\0';
}

static int
subnet_add(void *arg, const char *s, size_t n)
{
	struct group_build *gb = arg;
	struct hd_config_group *g = gb->g;
	unsigned int prefix;
	uint8_t addr[16];
	int family;

	item_keep(gb, s, n);
	if (n >= HD_CONFIG_SUBNET_LEN || subnet_parse(s, n, &family, addr, &prefix) < 0) {
		gb->bad = "is not a subnet (expected ADDR or ADDR/PREFIX)";
		return -EINVAL;
	}
	for (unsigned int i = 0; i < g->n_subnets; i++)
		if (strcmp(g->subnets[i], gb->item) == 0) {
			gb->bad = "is given twice";
			return -EINVAL;
		}
	if (g->n_subnets >= HD_CONFIG_GROUP_SUBNETS_MAX) {
		gb->bad = "is one subnet too many (at most 16 per group)";
		return -EINVAL;
	}
	memcpy(g->subnets[g->n_subnets++], s, n);	/* zeroed by group_make() */
	return 0;
}

static int
group_list_add(void *arg, const char *s, size_t n)
{
	struct group_build *gb = arg;
	struct hd_config_group *g = gb->g;

	item_keep(gb, s, n);
	if (!name_ok(s, n)) {
		gb->bad = "is not a list name (expected 1 to 63 of a-z, 0-9, '.', '_', '-')";
		return -EINVAL;
	}
	for (unsigned int i = 0; i < g->n_lists; i++)
		if (strcmp(g->lists[i], gb->item) == 0) {
			gb->bad = "is given twice";
			return -EINVAL;
		}
	if (g->n_lists >= HD_CONFIG_GROUP_LISTS_MAX) {
		gb->bad = "is one list too many (at most 32 per group)";
		return -EINVAL;
	}
	memcpy(g->lists[g->n_lists++], s, n);	/* n < HD_CONFIG_NAME_LEN: name_ok() */
	return 0;
}

/*
 * Build a group from its parts. @p lists NULL: every list applies; "": none
 * (the group bypasses blocking).
 */
static int
group_make(struct hd_config *c, const char *key, const char *value, const char *name,
	   size_t name_len, const char *subnets, size_t subnets_len, const char *lists,
	   size_t lists_len, const char *where, char *err, size_t errlen)
{
	struct hd_config_group g;
	struct group_build gb = { .g = &g };

	memset(&g, 0, sizeof(g));
	if (!name_ok(name, name_len)) {
		cfg_value_err(err, errlen, where, key, value, "has a bad group name (expected 1 "
			      "to 63 of a-z, 0-9, '.', '_', '-')");
		return -EINVAL;
	}
	memcpy(g.name, name, name_len);
	for (unsigned int i = 0; i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, g.name) == 0) {
			cfg_value_err(err, errlen, where, key, value, "has the name of the "
				      "group given at %s", c->groups[i].where);
			return -EINVAL;
		}
	if (subnets_len == 0) {
		cfg_value_err(err, errlen, where, key, value, "has no client subnet (%s)",
			      GROUP_FLAG_HELP);
		return -EINVAL;
	}
	if (split_each(subnets, subnets_len, subnet_add, &gb) != 0) {
		cfg_value_err(err, errlen, where, key, value, "has a bad client: '%s' %s",
			      gb.item, gb.bad);
		return -EINVAL;
	}
	g.all_lists = lists == NULL;
	if (lists != NULL && lists_len > 0 &&
	    split_each(lists, lists_len, group_list_add, &gb) != 0) {
		cfg_value_err(err, errlen, where, key, value, "has a bad list: '%s' %s",
			      gb.item, gb.bad);
		return -EINVAL;
	}
	if (c->n_groups >= HD_CONFIG_GROUPS_MAX) {
		cfg_value_err(err, errlen, where, key, value, "is one group too many (at most "
			      "%d)", HD_CONFIG_GROUPS_MAX);
		return -EINVAL;
	}
	cfg_where_copy(g.where, where, key);
	c->groups[c->n_groups++] = g;
	return 0;
}

/* Every comma-separated item of s[0..len) is a subnet. */
static bool
all_subnets(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned int prefix;
		uint8_t addr[16];
		int family;

		if (i < len && s[i] != ',')
			continue;
		if (subnet_parse(s + start, i - start, &family, addr, &prefix) < 0)
			return false;
		start = i + 1;
	}
	return true;
}

/*
 * NAME=SUBNET[,SUBNET...][:LIST[,LIST...]]. IPv6 subnets have colons too:
 * the text after the last ':' is the list part only when what precedes it
 * reads as subnets and it holds no '/' (write IPv6 clients with their
 * prefix length to keep this unambiguous).
 */
int
cfg_set_group(struct hd_config *c, const char *key, const char *value,
	      const char *where, char *err, size_t errlen)
{
	const char *eq = strchr(value, '='), *rest, *colon;
	size_t rest_len;

	if (eq == NULL) {
		cfg_value_err(err, errlen, where, key, value, "is not a group (%s)",
			      GROUP_FLAG_HELP);
		return -EINVAL;
	}
	rest = eq + 1;
	rest_len = strlen(rest);
	colon = strrchr(rest, ':');
	/* Neither reading works: report against the split one, the likelier intent. */
	if (colon != NULL && strchr(colon, '/') == NULL &&
	    (all_subnets(rest, (size_t)(colon - rest)) || !all_subnets(rest, rest_len)))
		return group_make(c, key, value, value, (size_t)(eq - value), rest,
				  (size_t)(colon - rest), colon + 1, strlen(colon + 1), where,
				  err, errlen);
	return group_make(c, key, value, value, (size_t)(eq - value), rest, rest_len, NULL, 0,
			  where, err, errlen);
}

/* --- local data ------------------------------------------------------------ */

/*
 * A domain name in presentation form: labels of 1..63 characters (a
 * backslash escape counts as one), at most 253 characters without the
 * trailing dot. Not a full RFC 1035 check: lib/localzone has the last word.
 */
bool
cfg_dname_ok(const char *s, size_t len)
{
	size_t label = 0, total = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			total++;
			continue;
		}
		if (ch <= ' ' || ch >= 0x7f)
			return false;
		if (ch == '\\') {
			if (i + 1 >= len)
				return false;
			i += isdigit((unsigned char)s[i + 1]) ? 3 : 1;
			if (i >= len)
				return false;
		}
		if (++label > 63)
			return false;
		total++;
	}
	return total <= 253;
}

/* The next blank-separated token of @p s from @p *pos. */
static size_t
token(const char *s, size_t *pos, const char **tok)
{
	size_t p = *pos, start;

	while (s[p] == ' ' || s[p] == '\t')
		p++;
	start = p;
	while (s[p] != '\0' && s[p] != ' ' && s[p] != '\t')
		p++;
	*tok = s + start;
	*pos = p;
	return p - start;
}

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool
type_ok(const char *s, size_t n)
{
	if (n == 0 || n > 16 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* "NAME [TTL] [CLASS] TYPE RDATA...": the shape, not the RDATA. */
static const char *
record_shape(const char *s)
{
	const char *tok;
	size_t pos = 0, n;

	n = token(s, &pos, &tok);
	if (n == 0)
		return "is empty";
	if (!cfg_dname_ok(tok, n))
		return "does not start with a domain name";
	n = token(s, &pos, &tok);
	if (all_digits(tok, n))
		n = token(s, &pos, &tok);
	if ((n == 2 && strncasecmp(tok, "IN", 2) == 0) ||
	    (n == 2 && strncasecmp(tok, "CH", 2) == 0))
		n = token(s, &pos, &tok);
	if (!type_ok(tok, n))
		return "has no record type";
	n = token(s, &pos, &tok);
	if (n == 0)
		return "has no value";
	return NULL;
}

int
hd_config_record_key(const char *text, char *name, size_t ncap, char *type, size_t tcap)
{
	const char *tok;
	size_t pos = 0, n, i;

	n = token(text, &pos, &tok);
	if (n == 0 || n >= ncap)
		return -EINVAL;
	for (i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)tok[i]);
	if (n > 1 && name[n - 1] == '.')
		n--;
	name[n] = '\0';
	n = token(text, &pos, &tok);
	if (all_digits(tok, n))
		n = token(text, &pos, &tok);
	if (n == 2 && (strncasecmp(tok, "IN", 2) == 0 || strncasecmp(tok, "CH", 2) == 0 ||
		       strncasecmp(tok, "HS", 2) == 0 || strncasecmp(tok, "CS", 2) == 0))
		n = token(text, &pos, &tok);
	if (n == 0 || n >= tcap)
		return -EINVAL;
	for (i = 0; i < n; i++)
		type[i] = (char)toupper((unsigned char)tok[i]);
	type[n] = '\0';
	return 0;
}

int
cfg_set_record(struct hd_config *c, const char *key, const char *value,
	       const char *where, char *err, size_t errlen)
{
	struct hd_config_record *r;
	const char *why;

	if (strlen(value) >= HD_CONFIG_RECORD_LEN) {
		cfg_value_err(err, errlen, where, key, value, "is too long (expected at most "
			      "%d bytes; put long records in a zone file)",
			      HD_CONFIG_RECORD_LEN - 1);
		return -EINVAL;
	}
	why = record_shape(value);
	if (why != NULL) {
		cfg_value_err(err, errlen, where, key, value, "%s (expected \"NAME [TTL] TYPE "
			      "VALUE\", e.g. \"nas.lab.home.arpa A 192.168.1.10\")", why);
		return -EINVAL;
	}
	if (c->n_records >= HD_CONFIG_RECORDS_MAX) {
		cfg_value_err(err, errlen, where, key, value, "is one record too many (at most "
			      "%d; put more in a zone file)", HD_CONFIG_RECORDS_MAX);
		return -EINVAL;
	}
	r = &c->records[c->n_records++];
	snprintf(r->text, sizeof(r->text), "%s", value);
	cfg_where_copy(r->where, where, key);
	return 0;
}

int
cfg_set_zone_file(struct hd_config *c, const char *key, const char *value,
		  const char *where, char *err, size_t errlen)
{
	struct hd_config_path *z;

	if (value[0] == '\0' || strlen(value) >= HD_CONFIG_SOURCE_LEN) {
		cfg_value_err(err, errlen, where, key, value, "is not a path (expected 1 to %d "
			      "bytes)", HD_CONFIG_SOURCE_LEN - 1);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < c->n_zone_files; i++)
		if (strcmp(c->zone_files[i].path, value) == 0) {
			cfg_value_err(err, errlen, where, key, value, "is given twice");
			return -EINVAL;
		}
	if (c->n_zone_files >= HD_CONFIG_ZONE_FILES_MAX) {
		cfg_value_err(err, errlen, where, key, value, "is one zone file too many (at "
			      "most %d)", HD_CONFIG_ZONE_FILES_MAX);
		return -EINVAL;
	}
	z = &c->zone_files[c->n_zone_files++];
	snprintf(z->path, sizeof(z->path), "%s", value);
	cfg_where_copy(z->where, where, key);
	return 0;
}

int
cfg_set_local_zone(struct hd_config *c, const char *key, const char *value,
		   const char *where, char *err, size_t errlen)
{
	char name[HD_CONFIG_DNAME_LEN];
	size_t len = strlen(value);
	struct hd_config_dname *d;

	if (!cfg_dname_ok(value, len) || len >= sizeof(name)) {
		cfg_value_err(err, errlen, where, key, value, "is not a domain name (expected "
			      "e.g. lab.home.arpa)");
		return -EINVAL;
	}
	/* One spelling per zone: lowercase, no trailing dot. */
	for (size_t i = 0; i <= len; i++)
		name[i] = (char)tolower((unsigned char)value[i]);
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	for (unsigned int i = 0; i < c->n_local_zones; i++)
		if (strcmp(c->local_zones[i].name, name) == 0) {
			cfg_value_err(err, errlen, where, key, value, "is given twice");
			return -EINVAL;
		}
	if (c->n_local_zones >= HD_CONFIG_LOCAL_ZONES_MAX) {
		cfg_value_err(err, errlen, where, key, value, "is one zone too many (at most "
			      "%d)", HD_CONFIG_LOCAL_ZONES_MAX);
		return -EINVAL;
	}
	d = &c->local_zones[c->n_local_zones++];
	memcpy(d->name, name, strlen(name) + 1);
	cfg_where_copy(d->where, where, key);
	return 0;
}

/* --- items given as YAML mappings -------------------------------------------- */

int
cfg_field_index(const char *const *fields, unsigned int n, const char *name)
{
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(fields[i], name) == 0)
			return (int)i;
	return -1;
}

static bool
word_in(const char *word, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, set[i]) == 0)
			return true;
	return false;
}

const char *
cfg_field_where(const char *const *fwhere, unsigned int i, const char *where)
{
	return fwhere != NULL && fwhere[i] != NULL ? fwhere[i] : where;
}

static const char *
fw(const char *const *fwhere, unsigned int i, const char *where)
{
	return cfg_field_where(fwhere, i, where);
}

/* One field of a blocklist/allowlist item, applied to @p l. */
static int
list_field(struct hd_config_list *l, const char *key, const char *field, const char *value,
	   const char *where, char *err, size_t errlen)
{
	char fkey[64];
	uint8_t a[16];

	snprintf(fkey, sizeof(fkey), "%s.%s", key, field);
	if (l->allow && (strcmp(field, "mode") == 0 || strcmp(field, "ttl") == 0 ||
			 strcmp(field, "ipv4") == 0 || strcmp(field, "ipv6") == 0)) {
		cfg_value_err(err, errlen, where, fkey, value, "is for blocklists only (an "
			      "allowlist blocks nothing)");
		return -EINVAL;
	}
	if (strcmp(field, "syntax") == 0) {
		char low[16];
		size_t n = strlen(value);

		for (size_t i = 0; i <= n && i < sizeof(low); i++)
			low[i] = (char)tolower((unsigned char)value[i]);
		low[sizeof(low) - 1] = '\0';
		if (n >= sizeof(low) || !word_in(low, syntax_names, 7)) {
			cfg_value_err(err, errlen, where, fkey, value, "is not a list syntax "
				      "(expected auto, hosts, domains, adblock, wildcard, dnsmasq "
				      "or unbound)");
			return -EINVAL;
		}
		snprintf(l->syntax, sizeof(l->syntax), "%s", low);
	} else if (strcmp(field, "mode") == 0) {
		l->mode = mode_parse(value);
		if (l->mode < 0) {
			cfg_value_err(err, errlen, where, fkey, value, "is not a block mode "
				      "(expected nxdomain, nodata, null, custom or refused)");
			return -EINVAL;
		}
	} else if (strcmp(field, "ttl") == 0) {
		char *end = NULL;
		unsigned long v;

		errno = 0;
		v = isdigit((unsigned char)value[0]) ? strtoul(value, &end, 10) : 0;
		if (!isdigit((unsigned char)value[0]) || *end != '\0' || errno != 0 ||
		    v > BLOCK_TTL_MAX) {
			cfg_value_err(err, errlen, where, fkey, value, "is not a TTL (expected a "
				      "number in 0..%u)", BLOCK_TTL_MAX);
			return -EINVAL;
		}
		l->ttl = (int64_t)v;
	} else if (strcmp(field, "ipv4") == 0) {
		if (inet_pton(AF_INET, value, a) != 1) {
			cfg_value_err(err, errlen, where, fkey, value, "is not an IPv4 address");
			return -EINVAL;
		}
		memcpy(l->v4, a, 4);
		l->has_v4 = 1;
	} else if (strcmp(field, "ipv6") == 0) {
		if (inet_pton(AF_INET6, value, a) != 1) {
			cfg_value_err(err, errlen, where, fkey, value, "is not an IPv6 address");
			return -EINVAL;
		}
		memcpy(l->v6, a, 16);
		l->has_v6 = 1;
	}
	return 0;
}

static int
set_list_item(struct hd_config *c, int allow, const char *key, const char *const *fields,
	      const char *const *values, const char *const *fwhere, unsigned int n,
	      const char *where, char *err, size_t errlen)
{
	static const char *const known[] = { "name", "source", "syntax", "mode", "ttl",
					     "ipv4", "ipv6" };
	int is = cfg_field_index(fields, n, "source"), in = cfg_field_index(fields, n, "name");
	char spec[HD_CONFIG_NAME_LEN + HD_CONFIG_SOURCE_LEN + 2];
	struct hd_config_list l;
	int rc;

	for (unsigned int i = 0; i < n; i++)
		if (!word_in(fields[i], known, 7)) {
			cfg_err(err, errlen, "%s: %s: unknown field '%s' (expected name, source, "
				"syntax%s)", fw(fwhere, i, where), key, fields[i],
				allow ? "" : ", mode, ttl, ipv4, ipv6");
			return -EINVAL;
		}
	if (is < 0) {
		cfg_err(err, errlen, "%s: %s: an item without 'source' (expected a path or an "
			"http(s) URL)", where, key);
		return -EINVAL;
	}
	if (in >= 0 && !name_ok(values[in], strlen(values[in]))) {
		cfg_value_err(err, errlen, fw(fwhere, (unsigned int)in, where), "name", values[in],
			      "is not a list name (expected 1 to 63 of a-z, 0-9, '.', '_', '-')");
		return -EINVAL;
	}
	snprintf(spec, sizeof(spec), "%s%s%s", in >= 0 ? values[in] : "", in >= 0 ? "=" : "",
		 values[is]);
	rc = list_parse(&l, allow, key, spec, fw(fwhere, (unsigned int)is, where), err, errlen);
	if (rc < 0)
		return rc;
	/* A source that looks like NAME=... must not lose its start to the name. */
	if (in < 0 && l.named) {
		l.named = 0;
		snprintf(l.source, sizeof(l.source), "%s", values[is]);
		l.is_url = is_url(l.source);
	}
	cfg_where_copy(l.where, where, key);
	for (unsigned int i = 0; i < n; i++) {
		rc = list_field(&l, key, fields[i], values[i], fw(fwhere, i, where), err, errlen);
		if (rc < 0)
			return rc;
	}
	return list_commit(c, &l, key, spec, where, err, errlen);
}

static int
set_group_item(struct hd_config *c, const char *key, const char *const *fields,
	       const char *const *values, const char *const *fwhere, unsigned int n,
	       const char *where, char *err, size_t errlen)
{
	static const char *const known[] = { "name", "clients", "lists" };
	int in = cfg_field_index(fields, n, "name"), ic = cfg_field_index(fields, n, "clients");
	int il = cfg_field_index(fields, n, "lists");

	for (unsigned int i = 0; i < n; i++)
		if (!word_in(fields[i], known, 3)) {
			cfg_err(err, errlen, "%s: %s: unknown field '%s' (expected name, clients, "
				"lists)", fw(fwhere, i, where), key, fields[i]);
			return -EINVAL;
		}
	if (in < 0 || ic < 0) {
		cfg_err(err, errlen, "%s: %s: an item needs 'name' and 'clients' (and 'lists', "
			"or every list applies)", where, key);
		return -EINVAL;
	}
	return group_make(c, key, values[in], values[in], strlen(values[in]), values[ic],
			  strlen(values[ic]), il >= 0 ? values[il] : NULL,
			  il >= 0 ? strlen(values[il]) : 0, where, err, errlen);
}

int
hd_config_takes_items(const char *key)
{
	static const char *const with_items[] = { "blocklist", "allowlist", "group", "upstream",
						  "forward-zone" };

	return key != NULL && word_in(key, with_items, sizeof(with_items) / sizeof(with_items[0]));
}

int
hd_config_set_item(struct hd_config *c, const char *key, const char *const *fields,
		   const char *const *values, const char *const *fwhere, unsigned int n,
		   const char *where, char *err, size_t errlen)
{
	if (c == NULL || key == NULL || (n > 0 && (fields == NULL || values == NULL))) {
		cfg_err(err, errlen, "hd_config_set_item: missing argument");
		return -EINVAL;
	}
	if (where == NULL)
		where = "";
	if (strcmp(key, "blocklist") == 0 || strcmp(key, "allowlist") == 0)
		return set_list_item(c, key[0] == 'a', key, fields, values, fwhere, n, where,
				     err, errlen);
	if (strcmp(key, "group") == 0)
		return set_group_item(c, key, fields, values, fwhere, n, where, err, errlen);
	if (strcmp(key, "upstream") == 0)
		return cfg_set_upstream_item(c, key, fields, values, fwhere, n, where, err, errlen);
	if (strcmp(key, "forward-zone") == 0)
		return cfg_set_forward_item(c, key, fields, values, fwhere, n, where, err, errlen);
	if (cfg_option_index(key) < 0) {
		cfg_unknown_key(err, errlen, where, key);
		return -ENOENT;
	}
	cfg_err(err, errlen, "%s: %s: expected a value, found a mapping", where, key);
	return -EINVAL;
}

/* --- checks across settings ------------------------------------------------ */

static int
subnets_overlap_exactly(const char *a, const char *b)
{
	unsigned int pa, pb;
	uint8_t xa[16], xb[16];
	int fa, fb;

	if (subnet_parse(a, strlen(a), &fa, xa, &pa) < 0 ||
	    subnet_parse(b, strlen(b), &fb, xb, &pb) < 0)
		return 0;
	return fa == fb && pa == pb && memcmp(xa, xb, 16) == 0;
}

static void
known_lists(const struct hd_config *c, char *out, size_t cap)
{
	size_t off = 0;

	out[0] = '\0';
	if (c->n_lists == 0) {
		snprintf(out, cap, "none is configured");
		return;
	}
	for (unsigned int i = 0; i < c->n_lists && off + 1 < cap; i++) {
		int n = snprintf(out + off, cap - off, "%s%s", i ? ", " : "lists: ",
				 c->lists[i].name);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int
cfg_validate_lists(const struct hd_config *c, char *err, size_t errlen)
{
	char known[256];

	for (unsigned int g = 0; g < c->n_groups; g++) {
		const struct hd_config_group *gr = &c->groups[g];

		for (unsigned int i = 0; i < gr->n_lists; i++) {
			if (list_find(c, gr->lists[i]) != NULL)
				continue;
			known_lists(c, known, sizeof(known));
			cfg_err(err, errlen, "%s: group '%s' names list '%s', which is not a "
				"blocklist or allowlist name (%s)", gr->where, gr->name,
				gr->lists[i], known);
			return -EINVAL;
		}
		for (unsigned int h = 0; h < g; h++)
			for (unsigned int i = 0; i < gr->n_subnets; i++)
				for (unsigned int j = 0; j < c->groups[h].n_subnets; j++) {
					if (!subnets_overlap_exactly(gr->subnets[i],
								     c->groups[h].subnets[j]))
						continue;
					cfg_err(err, errlen, "%s: group '%s': client %s is also in "
						"group '%s' (%s)", gr->where, gr->name,
						gr->subnets[i], c->groups[h].name,
						c->groups[h].where);
					return -EINVAL;
				}
	}
	return 0;
}
