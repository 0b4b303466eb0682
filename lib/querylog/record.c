/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Query log records: filling them (names, clients, anonymisation), showing
 * them (text, JSON lines) and selecting them (filters). Pure functions: no
 * EAL, no allocation, so the tests and the HTTP thread use them freely.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hd_dns.h"
#include "hd_querylog.h"

static const char *const status_names[HD_QUERYLOG_STATUS_MAX] = {
	[HD_QUERYLOG_CACHED] = "cached",
	[HD_QUERYLOG_FORWARDED] = "forwarded",
	[HD_QUERYLOG_BLOCKED] = "blocked",
	[HD_QUERYLOG_CNAME_BLOCKED] = "cname_blocked",
	[HD_QUERYLOG_LOCAL] = "local",
	[HD_QUERYLOG_STALE] = "stale",
	[HD_QUERYLOG_SERVFAIL] = "servfail",
	[HD_QUERYLOG_REPLICA] = "replica",
	[HD_QUERYLOG_REJECTED] = "rejected",
};

static const struct {
	uint16_t type;
	const char *name;
} types[] = {
	{ HD_DNS_TYPE_A, "A" }, { HD_DNS_TYPE_NS, "NS" }, { HD_DNS_TYPE_CNAME, "CNAME" },
	{ HD_DNS_TYPE_SOA, "SOA" }, { HD_DNS_TYPE_PTR, "PTR" }, { HD_DNS_TYPE_MX, "MX" },
	{ HD_DNS_TYPE_TXT, "TXT" }, { HD_DNS_TYPE_AAAA, "AAAA" }, { HD_DNS_TYPE_SRV, "SRV" },
	{ HD_DNS_TYPE_NAPTR, "NAPTR" }, { HD_DNS_TYPE_DS, "DS" }, { HD_DNS_TYPE_RRSIG, "RRSIG" },
	{ HD_DNS_TYPE_NSEC, "NSEC" }, { 48, "DNSKEY" }, { 50, "NSEC3" }, { 52, "TLSA" },
	{ 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" }, { 255, "ANY" }, { 257, "CAA" },
};

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

void
hd_querylog_rec_name(struct hd_querylog_rec *r, const uint8_t *name, size_t len)
{
	size_t off = 0;

	r->flags &= (uint8_t)~(HD_QUERYLOG_F_TRUNC | HD_QUERYLOG_F_NONAME);
	if (len == 0 || len > HD_DNS_NAME_MAX) {
		r->name[0] = 0;
		r->name_len = 1;
		r->flags |= HD_QUERYLOG_F_NONAME;
		return;
	}
	/* Keep the end: the registered domain says more than the first labels. */
	while (off < len && len - off > HD_QUERYLOG_NAME_MAX && name[off] != 0)
		off += 1 + (size_t)name[off];
	if (off >= len || len - off > HD_QUERYLOG_NAME_MAX) {
		/* A malformed length byte walked past the end: keep the root only. */
		off = len - 1;
	}
	if (off > 0)
		r->flags |= HD_QUERYLOG_F_TRUNC;
	memcpy(r->name, name + off, len - off);
	r->name_len = (uint8_t)(len - off);
}

void
hd_querylog_rec_client(struct hd_querylog_rec *r, const uint8_t *addr, int ipv6)
{
	if (ipv6) {
		memcpy(r->client, addr, 16);
		r->flags |= HD_QUERYLOG_F_IPV6;
	} else {
		memcpy(r->client, addr, 4);
		memset(r->client + 4, 0, 12);
		r->flags &= (uint8_t)~HD_QUERYLOG_F_IPV6;
	}
}

void
hd_querylog_anonymize(struct hd_querylog_rec *r, int mode)
{
	switch (mode) {
	case HD_QUERYLOG_ANON_MASK:
		/* IPv4 /24 and IPv6 /48, the prefixes most privacy settings keep. */
		if (r->flags & HD_QUERYLOG_F_IPV6)
			memset(r->client + 6, 0, 10);
		else
			memset(r->client + 3, 0, 13);
		break;
	case HD_QUERYLOG_ANON_HIDE:
		memset(r->client, 0, sizeof(r->client));
		r->flags |= HD_QUERYLOG_F_HIDDEN;
		r->flags &= (uint8_t)~HD_QUERYLOG_F_IPV6;
		break;
	default:
		break;
	}
}

const char *
hd_querylog_status_name(unsigned int status)
{
	return status < HD_QUERYLOG_STATUS_MAX ? status_names[status] : NULL;
}

int
hd_querylog_status_parse(const char *name)
{
	unsigned int i;

	for (i = 0; i < HD_QUERYLOG_STATUS_MAX; i++)
		if (strcasecmp(name, status_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *
hd_querylog_type_name(uint16_t qtype)
{
	size_t i;

	for (i = 0; i < RTE_DIM(types); i++)
		if (types[i].type == qtype)
			return types[i].name;
	return NULL;
}

static int
number_parse(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	return (int)v;
}

int
hd_querylog_type_parse(const char *s)
{
	size_t i;

	for (i = 0; i < RTE_DIM(types); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0)
		s += 4;
	return number_parse(s, UINT16_MAX);
}

const char *
hd_querylog_rcode_name(unsigned int rcode)
{
	return rcode < RTE_DIM(rcode_names) ? rcode_names[rcode] : NULL;
}

int
hd_querylog_name_str(const struct hd_querylog_rec *r, char *out, size_t cap)
{
	size_t pre = (r->flags & HD_QUERYLOG_F_TRUNC) ? 3 : 0;
	int n;

	if (cap < pre + 2)
		return -ENOSPC;
	memcpy(out, "...", pre);
	n = hd_dns_name_to_str(r->name, r->name_len, out + pre, cap - pre);
	if (n < 0)
		return n;
	return (int)pre + n;
}

int
hd_querylog_client_str(const struct hd_querylog_rec *r, char *out, size_t cap)
{
	if (r->flags & HD_QUERYLOG_F_HIDDEN) {
		if (cap < sizeof("hidden"))
			return -ENOSPC;
		memcpy(out, "hidden", sizeof("hidden"));
		return (int)sizeof("hidden") - 1;
	}
	if (inet_ntop((r->flags & HD_QUERYLOG_F_IPV6) ? AF_INET6 : AF_INET, r->client, out,
		      (socklen_t)cap) == NULL)
		return -ENOSPC;
	return (int)strlen(out);
}

int
hd_querylog_json_escape(const char *s, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc = 0;

		switch (c) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		default: break;
		}
		if (esc != 0) {
			if (o + 2 >= cap)
				return -ENOSPC;
			out[o++] = '\\';
			out[o++] = esc;
		} else if (c < 0x20 || c >= 0x7f) {
			/* Not UTF-8 text: each byte stands for itself as U+00XX. */
			if (o + 6 >= cap)
				return -ENOSPC;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
		} else {
			if (o + 1 >= cap)
				return -ENOSPC;
			out[o++] = (char)c;
		}
	}
	if (o >= cap)
		return -ENOSPC;
	out[o] = '\0';
	return (int)o;
}

/* Append formatted text at *o; a sticky overflow turns *o past cap. */
static void __rte_format_printf(4, 5)
put(char *out, size_t cap, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *o, cap - *o, fmt, ap);
	va_end(ap);
	*o = n < 0 ? cap : *o + (size_t)n;
}

/* Append "key":"escaped" at *o. */
static void
put_str(char *out, size_t cap, size_t *o, const char *key, const char *val)
{
	int n;

	put(out, cap, o, ",\"%s\":\"", key);
	if (*o >= cap)
		return;
	n = hd_querylog_json_escape(val, strlen(val), out + *o, cap - *o);
	*o = n < 0 ? cap : *o + (size_t)n;
	put(out, cap, o, "\"");
}

static void
time_iso(uint64_t ms, char *out, size_t cap)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (gmtime_r(&sec, &tm) == NULL) {
		snprintf(out, cap, "%" PRIu64, ms);
		return;
	}
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n > 0 && n + 6 <= cap)
		snprintf(out + n, cap - n, ".%03uZ", (unsigned int)(ms % 1000));
}

int
hd_querylog_json_line(const struct hd_querylog_rec *r, const char *list_name,
		      char *out, size_t cap)
{
	char name[HD_DNS_NAME_MAX * 4 + 8], client[INET6_ADDRSTRLEN], when[40];
	const char *type = hd_querylog_type_name(r->qtype);
	const char *rcode = hd_querylog_rcode_name(r->rcode);
	const char *status = hd_querylog_status_name(r->status);
	size_t o = 0;

	if (hd_querylog_name_str(r, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), ".");
	if (hd_querylog_client_str(r, client, sizeof(client)) < 0)
		snprintf(client, sizeof(client), "?");
	time_iso(r->time, when, sizeof(when));
	put(out, cap, &o, "{\"time\":\"%s\",\"ts\":%" PRIu64, when, r->time);
	put_str(out, cap, &o, "client", client);
	put_str(out, cap, &o, "name", name);
	if (type != NULL)
		put(out, cap, &o, ",\"type\":\"%s\"", type);
	else
		put(out, cap, &o, ",\"type\":\"TYPE%u\"", r->qtype);
	put(out, cap, &o, ",\"status\":\"%s\"", status != NULL ? status : "unknown");
	if (rcode != NULL)
		put(out, cap, &o, ",\"rcode\":\"%s\"", rcode);
	else
		put(out, cap, &o, ",\"rcode\":\"RCODE%u\"", r->rcode);
	if (r->list != HD_QUERYLOG_LIST_NONE) {
		if (list_name != NULL)
			put_str(out, cap, &o, "list", list_name);
		else
			put(out, cap, &o, ",\"list\":\"%u\"", r->list);
	}
	if (r->status == HD_QUERYLOG_FORWARDED || r->latency_ms != 0)
		put(out, cap, &o, ",\"latency_ms\":%u", r->latency_ms);
	put(out, cap, &o, ",\"lcore\":%u", r->lcore);
	if (r->flags & HD_QUERYLOG_F_TRUNC)
		put(out, cap, &o, ",\"truncated\":true");
	put(out, cap, &o, "}\n");
	if (o >= cap)
		return -ENOSPC;
	return (int)o;
}

/* ---- filters ---- */

static int
client_parse(struct hd_querylog_filter *f, const char *value)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(value, '/');
	size_t alen = slash != NULL ? (size_t)(slash - value) : strlen(value);
	int bits;

	if (strcmp(value, "hidden") == 0) {
		memset(f->client, 0, sizeof(f->client));
		f->client_ipv6 = 0;
		f->client_bits = 0xff;	/* matches hidden records only */
		f->has_client = 1;
		return 0;
	}
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, value, alen);
	addr[alen] = '\0';
	memset(f->client, 0, sizeof(f->client));
	if (inet_pton(AF_INET, addr, f->client) == 1)
		f->client_ipv6 = 0;
	else if (inet_pton(AF_INET6, addr, f->client) == 1)
		f->client_ipv6 = 1;
	else
		return -EINVAL;
	bits = f->client_ipv6 ? 128 : 32;
	if (slash != NULL) {
		int b = number_parse(slash + 1, (unsigned long)bits);

		if (b < 0)
			return -EINVAL;
		bits = b;
	}
	f->client_bits = (uint8_t)bits;
	f->has_client = 1;
	return 0;
}

static int
status_parse_list(struct hd_querylog_filter *f, const char *value)
{
	char buf[256], *save = NULL, *tok;
	uint32_t mask = 0;
	int s;

	if (strlen(value) >= sizeof(buf) || value[0] == '\0')
		return -EINVAL;
	memcpy(buf, value, strlen(value) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		s = hd_querylog_status_parse(tok);
		if (s < 0)
			return -EINVAL;
		mask |= 1u << s;
	}
	if (mask == 0)
		return -EINVAL;
	f->status_mask = mask;
	return 0;
}

int
hd_querylog_filter_set(struct hd_querylog_filter *f, const char *arg, const char *value)
{
	int n;

	if (strcmp(arg, "client") == 0)
		return client_parse(f, value);
	if (strcmp(arg, "status") == 0)
		return status_parse_list(f, value);
	if (strcmp(arg, "type") == 0) {
		n = hd_querylog_type_parse(value);
		if (n < 0)
			return n;
		f->qtype = (uint16_t)n;
		f->has_type = 1;
		return 0;
	}
	if (strcmp(arg, "domain") == 0) {
		uint8_t wire[HD_DNS_NAME_MAX];

		if (value[0] == '\0')
			return -EINVAL;
		n = hd_dns_name_from_str(value, wire);
		if (n <= 0 || (size_t)n > sizeof(f->domain))
			return -EINVAL;
		hd_dns_name_lower(wire, (size_t)n);
		memcpy(f->domain, wire, (size_t)n);
		f->domain_len = (uint8_t)n;
		f->has_domain = 1;
		return 0;
	}
	return -ENOENT;
}

static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;
	uint8_t m;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	m = (uint8_t)(0xff << (8 - rest));
	return (a[full] & m) == (b[full] & m);
}

static int
client_match(const struct hd_querylog_filter *f, const struct hd_querylog_rec *r)
{
	int hidden = (r->flags & HD_QUERYLOG_F_HIDDEN) != 0;

	if (f->client_bits == 0xff)
		return hidden;
	if (hidden || f->client_ipv6 != ((r->flags & HD_QUERYLOG_F_IPV6) != 0))
		return 0;
	return prefix_equal(f->client, r->client, f->client_bits);
}

/*
 * The record's name is @p f's domain or under it: its wire form ends with
 * the domain's at a label boundary. A truncated name still keeps its last
 * labels, so it matches any domain it kept whole.
 */
static int
domain_match(const struct hd_querylog_filter *f, const struct hd_querylog_rec *r)
{
	size_t off = 0, len = r->name_len;

	if (r->flags & HD_QUERYLOG_F_NONAME)
		return 0;
	while (off < len && len - off > f->domain_len)
		off += 1 + (size_t)r->name[off];
	return off < len && len - off == f->domain_len &&
	       memcmp(r->name + off, f->domain, f->domain_len) == 0;
}

int
hd_querylog_filter_match(const struct hd_querylog_filter *f, const struct hd_querylog_rec *r)
{
	if (f->status_mask != 0 && (r->status >= 32 || !(f->status_mask & (1u << r->status))))
		return 0;
	if (f->has_type && r->qtype != f->qtype)
		return 0;
	if (f->has_client && !client_match(f, r))
		return 0;
	if (f->has_domain && !domain_match(f, r))
		return 0;
	return 1;
}
