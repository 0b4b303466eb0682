/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Input side of the local data: record text and zone files, read with Knot
 * DNS's libzscanner (the same parser knotd uses, so every type and RDATA
 * syntax it knows works here), into the builder's flat list of records.
 * Runs on the control thread; nothing here is on the fast path.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libzscanner/scanner.h>

#include "hd_localzone.h"
#include "localzone_private.h"

#define RECORD_SYNTAX "NAME [TTL] [CLASS] TYPE RDATA"

/* State shared with the scanner callbacks while one input is read. */
struct scan {
	struct hd_localzone_builder *b;
	const char *where;	/* the input's name for messages */
	uint32_t src;		/* source index of the current file */
	const char *src_name;	/* s->file.name that src was made for */
	char *err;
	size_t errlen;
	int failed;
	size_t n_read;		/* records read from this input */
	/* Origin in force at the first record: the apex of a file without SOA. */
	uint8_t origin[HD_DNS_NAME_MAX];
	uint32_t origin_len;
};

struct hd_localzone_builder *
hd_localzone_builder_create(void)
{
	struct hd_localzone_builder *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->auto_ptr = 1;
	return b;
}

void
hd_localzone_builder_free(struct hd_localzone_builder *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n_rec; i++)
		free(b->rec[i].owner);
	for (i = 0; i < b->n_srcs; i++)
		free(b->srcs[i]);
	free(b->rec);
	free(b->zones);
	free(b->srcs);
	free(b);
}

void
hd_localzone_builder_auto_ptr(struct hd_localzone_builder *b, int on)
{
	b->auto_ptr = on != 0;
}

/* Make room for one more element of @p size in a growable array. */
static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

uint32_t
lz_builder_src(struct hd_localzone_builder *b, const char *name)
{
	char *copy;

	if (b->n_srcs > 0 && strcmp(b->srcs[b->n_srcs - 1], name) == 0)
		return (uint32_t)(b->n_srcs - 1);
	if (grow((void **)&b->srcs, &b->cap_srcs, b->n_srcs, sizeof(*b->srcs)) < 0)
		return LZ_NONE;
	copy = strdup(name);
	if (copy == NULL)
		return LZ_NONE;
	b->srcs[b->n_srcs] = copy;
	return (uint32_t)b->n_srcs++;
}

int
lz_builder_push(struct hd_localzone_builder *b, const uint8_t *owner, size_t owner_len,
		uint16_t type, uint32_t ttl, const uint8_t *rdata, size_t rdlen,
		uint32_t src, uint32_t line)
{
	struct lz_brec *r;
	uint8_t *mem;

	if (grow((void **)&b->rec, &b->cap_rec, b->n_rec, sizeof(*b->rec)) < 0)
		return -ENOMEM;
	mem = malloc(owner_len + rdlen + 1);
	if (mem == NULL)
		return -ENOMEM;
	memcpy(mem, owner, owner_len);
	hd_dns_name_lower(mem, owner_len);
	if (rdlen > 0)
		memcpy(mem + owner_len, rdata, rdlen);
	r = &b->rec[b->n_rec++];
	r->owner = mem;
	r->rdata = mem + owner_len;
	r->owner_len = (uint16_t)owner_len;
	r->type = type;
	r->rdlen = (uint16_t)rdlen;
	/* RFC 2181 section 8: a TTL with the top bit set means zero. */
	r->ttl = ttl > INT32_MAX ? 0 : ttl;
	r->src = src;
	r->line = line;
	r->seq = b->seq++;
	return 0;
}

int
lz_builder_zone(struct hd_localzone_builder *b, const uint8_t *name, size_t len, uint32_t src)
{
	struct lz_bzone *z;

	if (grow((void **)&b->zones, &b->cap_zones, b->n_zones, sizeof(*b->zones)) < 0)
		return -ENOMEM;
	z = &b->zones[b->n_zones++];
	memcpy(z->name, name, len);
	hd_dns_name_lower(z->name, len);
	z->len = (uint16_t)len;
	z->src = src;
	return 0;
}

void
lz_where(const struct hd_localzone_builder *b, const struct lz_brec *r, char *out, size_t cap)
{
	const char *src = r->src < b->n_srcs ? b->srcs[r->src] : "?";

	if (r->line > 0)
		snprintf(out, cap, "%s:%u", src, r->line);
	else
		snprintf(out, cap, "%s", src);
}

static void
scan_fail(struct scan *sc, const char *fmt, const char *what, unsigned long line,
	  const char *detail)
{
	if (sc->failed)
		return;
	sc->failed = 1;
	if (line > 0)
		snprintf(sc->err, sc->errlen, fmt, what, line, detail);
	else
		snprintf(sc->err, sc->errlen, "%s: %s", what, detail);
}

/* The name messages give the current file: an $INCLUDE'd one, or ours. */
static const char *
scan_where(const zs_scanner_t *s, const struct scan *sc)
{
	return s->file.name != NULL ? s->file.name : sc->where;
}

static void
on_record(zs_scanner_t *s)
{
	struct scan *sc = s->process.data;
	const char *where = scan_where(s, sc);
	/* Record text has one line: its "where" already names it. */
	unsigned long line = s->file.name != NULL ? (unsigned long)s->line_counter : 0;
	char detail[64];

	if (s->r_class != HD_DNS_CLASS_IN) {
		snprintf(detail, sizeof(detail), "class %u is not served, only IN", s->r_class);
		scan_fail(sc, "%s:%lu: %s", where, line, detail);
		s->state = ZS_STATE_STOP;
		return;
	}
	if (sc->src_name != s->file.name) {
		sc->src = lz_builder_src(sc->b, where);
		sc->src_name = s->file.name;
	}
	if (sc->n_read == 0) {
		memcpy(sc->origin, s->zone_origin, s->zone_origin_length);
		sc->origin_len = s->zone_origin_length;
	}
	if (sc->src == LZ_NONE ||
	    lz_builder_push(sc->b, s->r_owner, s->r_owner_length, s->r_type, s->r_ttl,
			    s->r_data, s->r_data_length, sc->src, (uint32_t)line) < 0) {
		scan_fail(sc, "%s:%lu: %s", where, line, "out of memory");
		s->state = ZS_STATE_STOP;
		return;
	}
	sc->n_read++;
}

static void
on_error(zs_scanner_t *s)
{
	struct scan *sc = s->process.data;
	unsigned long line = s->file.name != NULL ? (unsigned long)s->line_counter : 0;

	scan_fail(sc, "%s:%lu: %s", scan_where(s, sc), line, zs_strerror(s->error.code));
	s->state = ZS_STATE_STOP;
}

/* Undo what one failed input added, so the builder stays usable. */
static void
builder_truncate(struct hd_localzone_builder *b, size_t n_rec)
{
	while (b->n_rec > n_rec)
		free(b->rec[--b->n_rec].owner);
}

static zs_scanner_t *
scanner_new(const char *origin, struct scan *sc)
{
	zs_scanner_t *s = malloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	if (zs_init(s, origin, HD_DNS_CLASS_IN, LZ_DEFAULT_TTL) != 0 ||
	    zs_set_processing(s, on_record, on_error, sc) != 0) {
		zs_deinit(s);
		free(s);
		return NULL;
	}
	return s;
}

static void
scanner_free(zs_scanner_t *s)
{
	if (s == NULL)
		return;
	zs_deinit(s);
	free(s);
}

int
hd_localzone_add_record(struct hd_localzone_builder *b, const char *text,
			const char *where, char *err, size_t errlen)
{
	struct scan sc = { .b = b, .where = where, .err = err, .errlen = errlen };
	size_t start = b->n_rec;
	const char *p = text;
	zs_scanner_t *s;

	while (isspace((unsigned char)*p))
		p++;
	/* Directives ($INCLUDE above all) have no place in one record. */
	if (*p == '$' || *p == '\0') {
		snprintf(err, errlen, "%s: expected %s", where, RECORD_SYNTAX);
		return -EINVAL;
	}
	sc.src = lz_builder_src(b, where);
	s = scanner_new(".", &sc);
	if (s == NULL || sc.src == LZ_NONE) {
		scanner_free(s);
		snprintf(err, errlen, "%s: out of memory", where);
		return -ENOMEM;
	}
	sc.src_name = NULL;
	if (zs_set_input_string(s, text, strlen(text)) != 0 || zs_parse_all(s) != 0)
		scan_fail(&sc, "%s:%lu: %s", where, 0, zs_strerror(s->error.code));
	scanner_free(s);
	if (!sc.failed && sc.n_read != 1)
		scan_fail(&sc, "%s:%lu: %s", where, 0,
			  sc.n_read == 0 ? "expected " RECORD_SYNTAX : "one record per entry");
	if (sc.failed) {
		size_t l = strnlen(err, errlen);

		/* The entry itself: a config list or a command line has no line numbers. */
		if (l + 1 < errlen)
			snprintf(err + l, errlen - l, " in '%.120s'", text);
		builder_truncate(b, start);
		return -EINVAL;
	}
	return 0;
}

/* @return 1 when @p name is @p apex or below it (both lowercase). */
static int
in_zone(const uint8_t *name, size_t len, const uint8_t *apex, size_t alen)
{
	size_t p = 0;

	for (;;) {
		if (len - p == alen && memcmp(name + p, apex, alen) == 0)
			return 1;
		if (p >= len || name[p] == 0)
			return 0;
		p += 1 + (size_t)name[p];
	}
}

/*
 * The apex of a zone file read without an explicit origin: its SOA's
 * owner, else the $ORIGIN in force at its first record.
 */
static int
file_apex(struct hd_localzone_builder *b, size_t start, const struct scan *sc,
	  const char *path, uint8_t *apex, size_t *alen, char *err, size_t errlen)
{
	size_t i;

	for (i = start; i < b->n_rec; i++) {
		if (b->rec[i].type == HD_DNS_TYPE_SOA) {
			memcpy(apex, b->rec[i].owner, b->rec[i].owner_len);
			*alen = b->rec[i].owner_len;
			return 0;
		}
	}
	if (sc->origin_len > 1) {
		memcpy(apex, sc->origin, sc->origin_len);
		hd_dns_name_lower(apex, sc->origin_len);
		*alen = sc->origin_len;
		return 0;
	}
	snprintf(err, errlen, "%s: no SOA and no $ORIGIN: cannot tell the zone's apex", path);
	return -EINVAL;
}

/* Every record of the file must lie in its zone, and a SOA only at its apex. */
static int
check_file(struct hd_localzone_builder *b, size_t start, const uint8_t *apex, size_t alen,
	   char *err, size_t errlen)
{
	char where[320], name[1024], zone[1024];
	size_t i;

	for (i = start; i < b->n_rec; i++) {
		const struct lz_brec *r = &b->rec[i];
		const char *what;

		if (!in_zone(r->owner, r->owner_len, apex, alen))
			what = "is outside the zone";
		else if (r->type == HD_DNS_TYPE_SOA &&
			 (r->owner_len != alen || memcmp(r->owner, apex, alen) != 0))
			what = "has a SOA but is not the apex of the zone";
		else
			continue;
		lz_where(b, r, where, sizeof(where));
		if (hd_dns_name_to_str(r->owner, r->owner_len, name, sizeof(name)) < 0 ||
		    hd_dns_name_to_str(apex, alen, zone, sizeof(zone)) < 0)
			snprintf(name, sizeof(name), "?");
		snprintf(err, errlen, "%s: %s %s %s", where, name, what, zone);
		return -EINVAL;
	}
	return 0;
}

int
hd_localzone_add_zone_file(struct hd_localzone_builder *b, const char *path,
			   const char *origin, char *err, size_t errlen)
{
	struct scan sc = { .b = b, .where = path, .err = err, .errlen = errlen,
			   .src = LZ_NONE };
	uint8_t apex[HD_DNS_NAME_MAX];
	size_t start = b->n_rec, alen = 0;
	zs_scanner_t *s;
	int rc;

	if (origin != NULL) {
		rc = hd_dns_name_from_str(origin, apex);
		if (rc < 0) {
			snprintf(err, errlen, "%s: origin '%s' is not a domain name", path, origin);
			return -EINVAL;
		}
		alen = (size_t)rc;
		hd_dns_name_lower(apex, alen);
	}
	s = scanner_new(origin != NULL ? origin : ".", &sc);
	if (s == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (zs_set_input_file(s, path) != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, zs_strerror(s->error.code));
		scanner_free(s);
		return -ENOENT;
	}
	if (zs_parse_all(s) != 0 && !sc.failed)
		scan_fail(&sc, "%s:%lu: %s", path, (unsigned long)s->line_counter,
			  zs_strerror(s->error.code));
	scanner_free(s);
	rc = sc.failed ? -EINVAL : 0;
	if (rc == 0 && origin == NULL)
		rc = file_apex(b, start, &sc, path, apex, &alen, err, errlen);
	if (rc == 0)
		rc = check_file(b, start, apex, alen, err, errlen);
	if (rc == 0) {
		uint32_t src = lz_builder_src(b, path);

		rc = src == LZ_NONE ? -ENOMEM : lz_builder_zone(b, apex, alen, src);
		if (rc < 0)
			snprintf(err, errlen, "%s: out of memory", path);
	}
	if (rc < 0)
		builder_truncate(b, start);
	return rc;
}

int
hd_localzone_builder_add_zone(struct hd_localzone_builder *b, const char *name,
			      char *err, size_t errlen)
{
	uint8_t wire[HD_DNS_NAME_MAX];
	uint32_t src;
	int n = hd_dns_name_from_str(name, wire);

	if (n < 0) {
		snprintf(err, errlen, "local-zone '%s': expected a domain name", name);
		return -EINVAL;
	}
	src = lz_builder_src(b, "local-zone");
	if (src == LZ_NONE || lz_builder_zone(b, wire, (size_t)n, src) < 0) {
		snprintf(err, errlen, "local-zone '%s': out of memory", name);
		return -ENOMEM;
	}
	return 0;
}
