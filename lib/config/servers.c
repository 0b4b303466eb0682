/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Upstream servers: the default upstreams (with DNS over TLS), the strategy
 * among them, and conditional forwarding (forward-zone). One parser reads a
 * server wherever one can be written, so "tls://9.9.9.9#dns.quad9.net"
 * means the same in --upstream and in a forward zone, and the YAML mapping
 * form {address, port, tls, tls-name} ends in the same checks. As in
 * options.c, the config is written only once a value is good.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hd_config.h"
#include "config_private.h"

#define PLAIN_EXPECTED	"(expected IP, IP:PORT, IPv6 or [IPv6]:PORT)"
#define TLS_EXPECTED	"(expected tls://IP[:PORT][#NAME], an IPv6 address in brackets " \
			"when a port follows)"
#define NAME_EXPECTED	"(expected a host name such as dns.example: labels of letters, " \
			"digits and '-')"
#define FORWARD_EXPECTED "(expected DOMAIN=SERVER[,SERVER...], e.g. lan=192.168.1.1)"
#define PORT_DNS	53
#define PORT_TLS	853	/* RFC 7858 */

static const char *const strategy_names[] = {
	[HD_CONFIG_STRATEGY_STRICT] = "strict",
	[HD_CONFIG_STRATEGY_ROUND_ROBIN] = "round_robin",
	[HD_CONFIG_STRATEGY_FASTEST] = "fastest",
	[HD_CONFIG_STRATEGY_PARALLEL] = "parallel",
};

const char *
hd_config_strategy_name(int strategy)
{
	if (strategy < 0 ||
	    strategy >= (int)(sizeof(strategy_names) / sizeof(strategy_names[0])))
		return "?";
	return strategy_names[strategy];
}

int
cfg_set_strategy(struct hd_config *c, const char *key, const char *value,
		 const char *where, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(strategy_names) / sizeof(strategy_names[0]); i++) {
		if (strcasecmp(value, strategy_names[i]) == 0) {
			c->upstream_strategy = (int)i;
			return 0;
		}
	}
	/* Flags are spelt with '-', so the dash form is what people will try. */
	if (strcasecmp(value, "round-robin") == 0) {
		c->upstream_strategy = HD_CONFIG_STRATEGY_ROUND_ROBIN;
		return 0;
	}
	cfg_value_err(err, errlen, where, key, value, "is not an upstream strategy (expected "
		      "strict, round_robin, fastest or parallel)");
	return -EINVAL;
}

/*
 * The name a DoT server's certificate must hold: a host name (letters,
 * digits and '-' in labels of 1..63 that neither start nor end with '-',
 * 253 characters at most), stored lowercase without a trailing dot so
 * that it compares as the certificate check will compare it.
 */
static int
tls_name_norm(const char *s, size_t len, char out[HD_CONFIG_DNAME_LEN])
{
	size_t label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return -EINVAL;
			label = 0;
		} else if (isalnum(ch) || (ch == '-' && label > 0)) {
			if (++label > 63)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		out[i] = (char)tolower(ch);
	}
	if (s[len - 1] == '-')
		return -EINVAL;
	out[len] = '\0';
	return 0;
}

static void
server_store(struct hd_config_server *sv, int family, const uint8_t *addr, uint16_t port)
{
	memset(&sv->addr, 0, sizeof(sv->addr));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&sv->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sv->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
	}
}

/* 1..65535, decimal only. @return the port, or 0. */
static uint16_t
port_parse(const char *s, size_t len)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535 ? (uint16_t)v : 0;
}

/*
 * "IP", "IP:port", "IPv6", "[IPv6]" or "[IPv6]:port" in s[0..len). A bare
 * IPv6 address has several colons, which is how it is told apart from
 * "IPv4:port". @return NULL, or why the text is refused.
 */
static const char *
host_port_parse(const char *s, size_t len, uint16_t dflt, int *family, uint8_t addr[16],
		uint16_t *port, const char *bad_addr)
{
	char ip[INET6_ADDRSTRLEN + 8];
	const char *host = s, *host_end, *port_str = NULL, *end = s + len, *colon;

	if (len > 0 && s[0] == '[') {
		host = s + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (host_end == NULL)
			return bad_addr;
		if (host_end + 1 < end && host_end[1] == ':')
			port_str = host_end + 2;
		else if (host_end + 1 != end)
			return bad_addr;
	} else {
		host_end = end;
		colon = memchr(s, ':', len);
		if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) == NULL) {
			host_end = colon;
			port_str = colon + 1;
		}
	}
	if ((size_t)(host_end - host) >= sizeof(ip))
		return bad_addr;
	memcpy(ip, host, (size_t)(host_end - host));
	ip[host_end - host] = '\0';
	if (cfg_parse_ip(ip, family, addr) < 0 || (s[0] == '[' && *family != AF_INET6))
		return bad_addr;
	*port = dflt;
	if (port_str != NULL) {
		*port = port_parse(port_str, (size_t)(end - port_str));
		if (*port == 0)
			return "has a bad port (expected 1..65535)";
	}
	if (!cfg_usable_unicast(*family, addr))
		return "is not a unicast address";
	return NULL;
}

static bool
has_scheme(const char *s, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return true;
	return false;
}

/*
 * One server written as text, s[0..len): a plain address (UDP and TCP,
 * port 53) or "tls://ADDR[:PORT][#NAME]" (port 853). @return NULL, or why
 * the text is refused, to follow the quoted text in a message.
 */
static const char *
server_parse(const char *s, size_t len, struct hd_config_server *sv)
{
	const char *hash, *bad = "is not an upstream address " PLAIN_EXPECTED;
	uint16_t port;
	uint8_t addr[16];
	int family;

	memset(sv, 0, sizeof(*sv));
	if (len >= 6 && strncasecmp(s, "tls://", 6) == 0) {
		sv->tls = 1;
		s += 6;
		len -= 6;
		bad = "is not a DNS-over-TLS server " TLS_EXPECTED;
	} else if (has_scheme(s, len)) {
		return "has an unknown scheme (expected none, or tls:// for DNS over TLS)";
	}
	hash = memchr(s, '#', len);
	if (hash != NULL && !sv->tls)
		return "names a certificate but is not DNS over TLS (expected "
		       "tls://IP[:PORT][#NAME])";
	if (hash != NULL) {
		if (tls_name_norm(hash + 1, (size_t)(s + len - hash - 1), sv->tls_name) < 0)
			return "has a bad certificate name after '#' " NAME_EXPECTED;
		len = (size_t)(hash - s);
	}
	bad = host_port_parse(s, len, sv->tls ? PORT_TLS : PORT_DNS, &family, addr, &port, bad);
	if (bad != NULL)
		return bad;
	server_store(sv, family, addr, port);
	return NULL;
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
}

/* --- upstream -------------------------------------------------------------- */

/*
 * upstream[] keeps the bare address for the code that only sends UDP and
 * TCP; upstream_server[] at the same index adds how to talk to it.
 */
static int
upstream_add(struct hd_config *c, const struct hd_config_server *sv, const char *key,
	     const char *shown, const char *where, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < c->n_upstream; i++) {
		if (same_addr(&c->upstream[i], &sv->addr)) {
			cfg_value_err(err, errlen, where, key, shown, "is given twice");
			return -EINVAL;
		}
	}
	if (c->n_upstream >= HD_CONFIG_UPSTREAM_MAX) {
		cfg_value_err(err, errlen, where, key, shown, "is one upstream too many "
			      "(at most %d)", HD_CONFIG_UPSTREAM_MAX);
		return -EINVAL;
	}
	c->upstream[c->n_upstream] = sv->addr;
	c->upstream_server[c->n_upstream++] = *sv;
	return 0;
}

int
cfg_set_upstream(struct hd_config *c, const char *key, const char *value,
		 const char *where, char *err, size_t errlen)
{
	struct hd_config_server sv;
	const char *why = server_parse(value, strlen(value), &sv);

	if (why != NULL) {
		cfg_value_err(err, errlen, where, key, value, "%s", why);
		return -EINVAL;
	}
	return upstream_add(c, &sv, key, value, where, err, errlen);
}

static int
item_unknown_field(const char *const *fields, unsigned int n, const char *const *known,
		   size_t n_known)
{
	for (unsigned int i = 0; i < n; i++) {
		size_t k = 0;

		while (k < n_known && strcmp(fields[i], known[k]) != 0)
			k++;
		if (k == n_known)
			return (int)i;
	}
	return -1;
}

/* The fields of an upstream item, each checked with its own line. */
static int
upstream_fields(struct hd_config_server *sv, const char *const *fields,
		const char *const *values, const char *const *fwhere, unsigned int n,
		const char *where, char *err, size_t errlen)
{
	int ia = cfg_field_index(fields, n, "address"), ip = cfg_field_index(fields, n, "port");
	int it = cfg_field_index(fields, n, "tls"), in = cfg_field_index(fields, n, "tls-name");
	uint16_t port = 0;
	uint8_t addr[16];
	int family;

	memset(sv, 0, sizeof(*sv));
	if (ia < 0) {
		cfg_err(err, errlen, "%s: upstream: an item without 'address' (expected an IPv4 "
			"or IPv6 address)", where);
		return -EINVAL;
	}
#define FW(i) cfg_field_where(fwhere, (unsigned int)(i), where)
	if (cfg_parse_ip(values[ia], &family, addr) < 0) {
		cfg_value_err(err, errlen, FW(ia), "upstream.address", values[ia], "is not an "
			      "IPv4 or IPv6 address (a port goes in 'port')");
		return -EINVAL;
	}
	if (!cfg_usable_unicast(family, addr)) {
		cfg_value_err(err, errlen, FW(ia), "upstream.address", values[ia],
			      "is not a unicast address");
		return -EINVAL;
	}
	if (it >= 0) {
		sv->tls = cfg_parse_bool(values[it]);
		if (sv->tls < 0) {
			cfg_value_err(err, errlen, FW(it), "upstream.tls", values[it], "%s",
				      CFG_BOOL_EXPECTED);
			return -EINVAL;
		}
	}
	if (ip >= 0) {
		port = port_parse(values[ip], strlen(values[ip]));
		if (port == 0) {
			cfg_value_err(err, errlen, FW(ip), "upstream.port", values[ip],
				      "is not a port (expected 1..65535)");
			return -EINVAL;
		}
	}
	if (in >= 0 && !sv->tls) {
		cfg_value_err(err, errlen, FW(in), "upstream.tls-name", values[in],
			      "is for DNS over TLS only (add 'tls: true')");
		return -EINVAL;
	}
	if (in >= 0 && tls_name_norm(values[in], strlen(values[in]), sv->tls_name) < 0) {
		cfg_value_err(err, errlen, FW(in), "upstream.tls-name", values[in],
			      "is not a host name " NAME_EXPECTED);
		return -EINVAL;
	}
#undef FW
	server_store(sv, family, addr, port != 0 ? port : sv->tls ? PORT_TLS : PORT_DNS);
	return 0;
}

int
cfg_set_upstream_item(struct hd_config *c, const char *key, const char *const *fields,
		      const char *const *values, const char *const *fwhere, unsigned int n,
		      const char *where, char *err, size_t errlen)
{
	static const char *const known[] = { "address", "port", "tls", "tls-name" };
	struct hd_config_server sv;
	int bad = item_unknown_field(fields, n, known, 4);
	int rc;

	if (bad >= 0) {
		cfg_err(err, errlen, "%s: %s: unknown field '%s' (expected address, port, tls, "
			"tls-name)", cfg_field_where(fwhere, (unsigned int)bad, where), key,
			fields[bad]);
		return -EINVAL;
	}
	rc = upstream_fields(&sv, fields, values, fwhere, n, where, err, errlen);
	if (rc < 0)
		return rc;
	return upstream_add(c, &sv, key, values[cfg_field_index(fields, n, "address")], where,
			    err, errlen);
}

/* --- forward-zone ------------------------------------------------------------ */

/* Servers of a zone, "A,B,..." in s[0..len); @p f is the zone being built. */
static int
forward_servers(struct hd_config_forward *f, const char *key, const char *shown,
		const char *s, size_t len, const char *where, char *err, size_t errlen)
{
	size_t start = 0;

	if (len == 0) {
		cfg_value_err(err, errlen, where, key, shown, "has no server " FORWARD_EXPECTED);
		return -EINVAL;
	}
	for (size_t i = 0; i <= len; i++) {
		struct hd_config_server sv;
		const char *item = s + start, *why;
		int ilen = (int)(i - start);

		if (i < len && s[i] != ',')
			continue;
		start = i + 1;
		why = ilen == 0 ? "is empty " FORWARD_EXPECTED : server_parse(item, (size_t)ilen, &sv);
		for (unsigned int j = 0; why == NULL && j < f->n_servers; j++)
			if (same_addr(&f->servers[j].addr, &sv.addr))
				why = "is given twice";
		if (why == NULL && f->n_servers >= HD_CONFIG_FORWARD_SERVERS_MAX)
			why = "is one server too many (at most 4 per zone)";
		if (why != NULL) {
			cfg_value_err(err, errlen, where, key, shown, "has a bad server: '%.*s' %s",
				      ilen, item, why);
			return -EINVAL;
		}
		f->servers[f->n_servers++] = sv;
	}
	return 0;
}

/* The zone's domain, lowercase and without the trailing dot: one spelling per zone. */
static int
forward_domain(struct hd_config_forward *f, const char *key, const char *shown,
	       const char *d, size_t len, const char *where, char *err, size_t errlen)
{
	if (len == 1 && d[0] == '.') {
		cfg_value_err(err, errlen, where, key, shown, "forwards the root zone: the "
			      "default servers are set with upstream");
		return -EINVAL;
	}
	if (len >= sizeof(f->domain) || !cfg_dname_ok(d, len)) {
		cfg_value_err(err, errlen, where, key, shown, "has a bad domain: '%.*s' is not "
			      "a domain name " FORWARD_EXPECTED, (int)len, d);
		return -EINVAL;
	}
	if (d[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++)
		f->domain[i] = (char)tolower((unsigned char)d[i]);
	f->domain[len] = '\0';
	return 0;
}

static int
forward_make(struct hd_config *c, const char *key, const char *shown, const char *domain,
	     size_t dlen, const char *servers, size_t slen, const char *where, char *err,
	     size_t errlen)
{
	struct hd_config_forward f;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = forward_domain(&f, key, shown, domain, dlen, where, err, errlen);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < c->n_forwards; i++) {
		if (strcmp(c->forwards[i].domain, f.domain) == 0) {
			cfg_value_err(err, errlen, where, key, shown, "has the domain of the "
				      "forward zone given at %s", c->forwards[i].where);
			return -EINVAL;
		}
	}
	rc = forward_servers(&f, key, shown, servers, slen, where, err, errlen);
	if (rc < 0)
		return rc;
	if (c->n_forwards >= HD_CONFIG_FORWARDS_MAX) {
		cfg_value_err(err, errlen, where, key, shown, "is one forward zone too many "
			      "(at most %d)", HD_CONFIG_FORWARDS_MAX);
		return -EINVAL;
	}
	cfg_where_copy(f.where, where, key);
	c->forwards[c->n_forwards++] = f;
	return 0;
}

int
cfg_set_forward(struct hd_config *c, const char *key, const char *value,
		const char *where, char *err, size_t errlen)
{
	const char *eq = strchr(value, '=');

	if (eq == NULL) {
		cfg_value_err(err, errlen, where, key, value, "is not a forward zone "
			      FORWARD_EXPECTED);
		return -EINVAL;
	}
	return forward_make(c, key, value, value, (size_t)(eq - value), eq + 1, strlen(eq + 1),
			    where, err, errlen);
}

int
cfg_set_forward_item(struct hd_config *c, const char *key, const char *const *fields,
		     const char *const *values, const char *const *fwhere, unsigned int n,
		     const char *where, char *err, size_t errlen)
{
	static const char *const known[] = { "domain", "servers" };
	int bad = item_unknown_field(fields, n, known, 2);
	int id = cfg_field_index(fields, n, "domain"), is = cfg_field_index(fields, n, "servers");

	if (bad >= 0) {
		cfg_err(err, errlen, "%s: %s: unknown field '%s' (expected domain, servers)",
			cfg_field_where(fwhere, (unsigned int)bad, where), key, fields[bad]);
		return -EINVAL;
	}
	if (id < 0 || is < 0) {
		cfg_err(err, errlen, "%s: %s: an item needs 'domain' and 'servers' (e.g. "
			"{domain: lan, servers: [192.168.1.1]})", where, key);
		return -EINVAL;
	}
	return forward_make(c, key, values[id], values[id], strlen(values[id]), values[is],
			    strlen(values[is]), where, err, errlen);
}
