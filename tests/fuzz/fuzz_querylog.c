/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over the query log's pure record code (lib/querylog
 * record.c): filling a record from a wire-form name and a client address,
 * anonymising it, and writing it as text and as a JSON line, then reading
 * the line back with jansson. The line is what GET /api/querylog and the
 * log file give an operator, so it must always be JSON and must say what
 * the record holds.
 *
 * Input (short inputs are padded with zeros):
 *   0..7    time (Unix ms; the top bit is cleared: a drained record's
 *           time never gets there, and jansson's integers are signed)
 *   8..23   client address
 *   24..25  qtype   26..27 list   28..29 lcore   30..31 latency_ms
 *   32 status  33 rcode  34 bits: 0 IPv6, 1-2 anonymise mode, 3 list name,
 *              4-6 which filter argument to try
 *   35      output room for the short-buffer pass (0: skip it)
 *   36      length L of the list name, then L bytes (NULs cut it short)
 *   next    length F of a filter value, then F bytes (cut at a NUL too)
 *   rest    the wire-form name handed to hd_querylog_rec_name()
 *
 * Every output buffer is a heap block of exactly the size the function is
 * told, so AddressSanitizer sees a write past it. The target aborts when a
 * line is not JSON, a field differs from the record, the name does not
 * parse back to the bytes kept, or a record fails a filter built from its
 * own name or client.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hd_dns.h"
#include "hd_querylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 36

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_querylog: check failed at line %d: %s\n", __LINE__, #c); \
		abort(); \
	} \
} while (0)

struct input {
	const uint8_t *p;
	size_t n;
};

static size_t
take(struct input *in, size_t want, const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;

	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

static uint64_t
le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/*
 * Turn a JSON string that jansson decoded (UTF-8) back into the bytes it
 * stood for: the writer escapes every byte >= 0x7f as \u00XX, so no code
 * point above U+00FF may appear. @return the byte count, or -1.
 */
static int
utf8_to_bytes(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (o >= cap)
			return -1;
		if (c < 0x80) {
			out[o++] = c;
			i++;
		} else if ((c == 0xc2 || c == 0xc3) && i + 1 < len &&
			   ((unsigned char)s[i + 1] & 0xc0) == 0x80) {
			out[o++] = (uint8_t)((c & 0x1f) << 6 | ((unsigned char)s[i + 1] & 0x3f));
			i += 2;
		} else {
			return -1;
		}
	}
	return (int)o;
}

static const char *
str_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	CHECK(v != NULL && json_is_string(v));
	return json_string_value(v);
}

static json_int_t
int_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	CHECK(v != NULL && json_is_integer(v));
	return json_integer_value(v);
}

/* The line is JSON and every field says what @p r holds. */
static void
check_line(const struct hd_querylog_rec *r, const char *list_name, const char *line, int n)
{
	char name[HD_DNS_NAME_MAX * 4 + 8], client[64], want[32];
	const char *type = hd_querylog_type_name(r->qtype);
	const char *status = hd_querylog_status_name(r->status);
	const char *rcode = hd_querylog_rcode_name(r->rcode);
	json_error_t err;
	json_t *o;

	CHECK(n > 0 && (size_t)n == strlen(line) && line[n - 1] == '\n');
	CHECK(memchr(line, '\n', (size_t)n - 1) == NULL);
	o = json_loadb(line, (size_t)n, 0, &err);
	if (o == NULL)
		fprintf(stderr, "fuzz_querylog: %s in %s", err.text, line);
	CHECK(o != NULL && json_is_object(o));

	CHECK(int_field(o, "ts") == (json_int_t)r->time);
	CHECK(str_field(o, "time")[0] != '\0');
	CHECK(hd_querylog_client_str(r, client, sizeof(client)) > 0);
	CHECK(strcmp(str_field(o, "client"), client) == 0);
	if (hd_querylog_name_str(r, name, sizeof(name)) < 0)
		strcpy(name, ".");
	CHECK(strcmp(str_field(o, "name"), name) == 0);
	if (type != NULL)
		snprintf(want, sizeof(want), "%s", type);
	else
		snprintf(want, sizeof(want), "TYPE%u", r->qtype);
	CHECK(strcmp(str_field(o, "type"), want) == 0);
	CHECK(strcmp(str_field(o, "status"), status != NULL ? status : "unknown") == 0);
	if (rcode != NULL)
		snprintf(want, sizeof(want), "%s", rcode);
	else
		snprintf(want, sizeof(want), "RCODE%u", r->rcode);
	CHECK(strcmp(str_field(o, "rcode"), want) == 0);
	CHECK(int_field(o, "lcore") == r->lcore);

	if (r->list == HD_QUERYLOG_LIST_NONE) {
		CHECK(json_object_get(o, "list") == NULL);
	} else if (list_name != NULL) {
		json_t *v = json_object_get(o, "list");
		uint8_t back[1024];
		int m;

		CHECK(v != NULL && json_is_string(v));
		m = utf8_to_bytes(json_string_value(v), json_string_length(v), back, sizeof(back));
		CHECK(m >= 0 && (size_t)m == strlen(list_name) &&
		      memcmp(back, list_name, (size_t)m) == 0);
	} else {
		snprintf(want, sizeof(want), "%u", r->list);
		CHECK(strcmp(str_field(o, "list"), want) == 0);
	}
	if (r->status == HD_QUERYLOG_FORWARDED || r->latency_ms != 0)
		CHECK(int_field(o, "latency_ms") == r->latency_ms);
	else
		CHECK(json_object_get(o, "latency_ms") == NULL);
	if (r->flags & HD_QUERYLOG_F_TRUNC)
		CHECK(json_is_true(json_object_get(o, "truncated")));
	else
		CHECK(json_object_get(o, "truncated") == NULL);
	json_decref(o);
}

/* @p name is a well-formed uncompressed wire name of exactly @p len bytes. */
static int
wire_ok(const uint8_t *name, size_t len)
{
	size_t off = 0;

	if (len == 0 || len > HD_DNS_NAME_MAX)
		return 0;
	while (off < len && name[off] != 0) {
		if (name[off] > HD_DNS_LABEL_MAX)
			return 0;
		off += 1 + (size_t)name[off];
	}
	return off + 1 == len;
}

/*
 * The name kept (from a well-formed name: the worker only logs names its
 * parser accepted) parses back to the same wire bytes, and a domain filter
 * on it (and a client filter on the client) selects the record.
 */
static void
check_roundtrip(const struct hd_querylog_rec *r, int well_formed)
{
	struct hd_querylog_filter f;
	char text[HD_DNS_NAME_MAX * 4 + 8], client[64];
	uint8_t wire[HD_DNS_NAME_MAX];
	const char *kept;
	int n;

	n = hd_querylog_name_str(r, text, sizeof(text));
	if (well_formed) {
		CHECK(n > 0 && !(r->flags & HD_QUERYLOG_F_NONAME));
		CHECK(wire_ok(r->name, r->name_len));
		kept = text;
		if (r->flags & HD_QUERYLOG_F_TRUNC) {
			CHECK(strncmp(text, "...", 3) == 0);
			kept += 3;
		}
		n = hd_dns_name_from_str(kept, wire);
		CHECK(n == r->name_len && memcmp(wire, r->name, (size_t)n) == 0);
		memset(&f, 0, sizeof(f));
		CHECK(hd_querylog_filter_set(&f, "domain", kept) == 0);
		CHECK(hd_querylog_filter_match(&f, r) == 1);
	}
	CHECK(hd_querylog_client_str(r, client, sizeof(client)) > 0);
	memset(&f, 0, sizeof(f));
	CHECK(hd_querylog_filter_set(&f, "client", client) == 0);
	CHECK(hd_querylog_filter_match(&f, r) == 1);
}

/* Writers told they have @p room bytes never write past them. */
static void
check_short(const struct hd_querylog_rec *r, const char *list_name, const uint8_t *raw,
	    size_t raw_len, size_t room)
{
	char *buf = malloc(room);
	int n;

	CHECK(buf != NULL);
	n = hd_querylog_json_line(r, list_name, buf, room);
	CHECK(n == -ENOSPC || ((size_t)n < room && buf[n] == '\0'));
	n = hd_querylog_name_str(r, buf, room);
	CHECK(n < 0 || ((size_t)n < room && buf[n] == '\0'));
	n = hd_querylog_client_str(r, buf, room);
	CHECK(n < 0 || ((size_t)n < room && buf[n] == '\0'));
	n = hd_querylog_json_escape((const char *)raw, raw_len, buf, room);
	CHECK(n == -ENOSPC || ((size_t)n < room && buf[n] == '\0'));
	free(buf);
}

/* An operator's filter argument: never a crash, and a match is 0 or 1. */
static void
check_filter(const struct hd_querylog_rec *r, unsigned int which, const uint8_t *v, size_t len)
{
	static const char *const args[] = {
		"client", "domain", "status", "type", "limit", "", "client", "domain",
	};
	struct hd_querylog_filter f;
	char *value = malloc(len + 1);
	int rc;

	CHECK(value != NULL);
	memcpy(value, v, len);
	value[len] = '\0';
	memset(&f, 0, sizeof(f));
	rc = hd_querylog_filter_set(&f, args[which % RTE_DIM(args)], value);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
	rc = hd_querylog_filter_match(&f, r);
	CHECK(rc == 0 || rc == 1);
	free(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR] = { 0 };
	struct input in = { data, size };
	const uint8_t *p, *list_raw, *fval, *name;
	size_t list_len, fval_len, name_len, n;
	struct hd_querylog_rec r;
	char *list_name = NULL, *line;
	int len, bits;

	n = take(&in, HDR, &p);
	memcpy(hdr, p, n);
	bits = hdr[34];
	list_len = take(&in, take(&in, 1, &p) == 1 ? p[0] : 0, &list_raw);
	fval_len = take(&in, take(&in, 1, &p) == 1 ? p[0] : 0, &fval);
	name_len = take(&in, in.n, &name);

	memset(&r, 0, sizeof(r));
	r.time = le(hdr, 8) & INT64_MAX;
	r.qtype = (uint16_t)le(hdr + 24, 2);
	r.list = (uint16_t)le(hdr + 26, 2);
	r.lcore = (uint16_t)le(hdr + 28, 2);
	r.latency_ms = (uint16_t)le(hdr + 30, 2);
	r.status = hdr[32];
	r.rcode = hdr[33];
	hd_querylog_rec_client(&r, hdr + 8, bits & 1);
	hd_querylog_anonymize(&r, (bits >> 1) & 3);
	/* An exact-size copy: ASan sees a read past the name. */
	{
		uint8_t *copy = malloc(name_len > 0 ? name_len : 1);

		CHECK(copy != NULL);
		memcpy(copy, name, name_len);
		hd_querylog_rec_name(&r, copy, name_len);
		free(copy);
	}
	CHECK(r.name_len >= 1 && r.name_len <= HD_QUERYLOG_NAME_MAX);
	CHECK(!(r.flags & HD_QUERYLOG_F_NONAME) || (name_len == 0 || name_len > HD_DNS_NAME_MAX));
	/* What the fast path stores: a lowercase name. */
	hd_dns_name_lower(r.name, r.name_len);
	if (!(r.flags & HD_QUERYLOG_F_TRUNC) && !(r.flags & HD_QUERYLOG_F_NONAME))
		CHECK(r.name_len == name_len);

	if (bits & 8) {
		list_name = malloc(list_len + 1);
		CHECK(list_name != NULL);
		memcpy(list_name, list_raw, list_len);
		list_name[list_len] = '\0';
	}

	/* Room for any record: a 92-byte name is at most 3 + 92 x 4 bytes of
	 * ASCII text, a list name 255 bytes x 6 once escaped. */
	n = 4096;
	line = malloc(n);
	CHECK(line != NULL);
	len = hd_querylog_json_line(&r, list_name, line, n);
	CHECK(len > 0);
	check_line(&r, list_name, line, len);
	free(line);

	check_roundtrip(&r, wire_ok(name, name_len));
	if (hdr[35] != 0)
		check_short(&r, list_name, list_raw, list_len, hdr[35]);
	check_filter(&r, (unsigned int)bits >> 4 & 7, fval, fval_len);

	/* Status and type names parse back to what they name. */
	if (hd_querylog_status_name(r.status) != NULL)
		CHECK(hd_querylog_status_parse(hd_querylog_status_name(r.status)) == r.status);
	if (hd_querylog_type_name(r.qtype) != NULL)
		CHECK(hd_querylog_type_parse(hd_querylog_type_name(r.qtype)) == r.qtype);
	{
		char t[16];

		snprintf(t, sizeof(t), "TYPE%u", r.qtype);
		CHECK(hd_querylog_type_parse(t) == r.qtype);
	}
	free(list_name);
	return 0;
}
