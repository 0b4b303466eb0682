/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compiling the builder into the immutable structure the workers read:
 * records grouped into RRsets per owner, every name the answer logic must
 * know (owners, zone apexes, empty non-terminals, wildcard parents) in one
 * open-addressing hash table, the RDATA and names in one blob. The control
 * thread builds it off-line and publishes it by pointer swap.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "hd_localzone.h"
#include "localzone_private.h"

/* "localhost. nobody.invalid. 1 3600 1200 604800 300" */
static const uint8_t synth_soa[] = {
	9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0,
	6, 'n', 'o', 'b', 'o', 'd', 'y', 7, 'i', 'n', 'v', 'a', 'l', 'i', 'd', 0,
	0, 0, 0, 1,		/* serial */
	0, 0, 0x0e, 0x10,	/* refresh 3600 */
	0, 0, 0x04, 0xb0,	/* retry 1200 */
	0, 0x09, 0x3a, 0x80,	/* expire 604800 */
	0, 0, 0x01, 0x2c,	/* minimum 300: the negative TTL */
};

/* Growable arrays of the structure being compiled. */
struct make {
	struct hd_localzone *lz;
	uint32_t cap_nodes;
	size_t cap_blob;
};

static int
name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Owner, then type, then arrival: RRsets keep the order records were given. */
static int
rec_cmp(const void *x, const void *y)
{
	const struct lz_brec *a = x, *b = y;
	int c = name_cmp(a->owner, a->owner_len, b->owner, b->owner_len);

	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* qsort() may not be given a NULL array, which an empty builder has. */
static void
sort_records(struct hd_localzone_builder *b)
{
	if (b->n_rec > 1)
		qsort(b->rec, b->n_rec, sizeof(*b->rec), rec_cmp);
}

static int
zone_cmp(const void *x, const void *y)
{
	const struct lz_bzone *a = x, *b = y;

	return name_cmp(a->name, a->len, b->name, b->len);
}

/* First record of @p owner among the first @p n (sorted) records, or NULL. */
static const struct lz_brec *
rec_find(const struct hd_localzone_builder *b, size_t n, const uint8_t *owner, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (name_cmp(b->rec[mid].owner, b->rec[mid].owner_len, owner, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && b->rec[lo].owner_len == len &&
	    memcmp(b->rec[lo].owner, owner, len) == 0)
		return &b->rec[lo];
	return NULL;
}

static size_t
put_label(uint8_t *out, size_t p, const char *s)
{
	size_t l = strlen(s);

	out[p] = (uint8_t)l;
	memcpy(out + p + 1, s, l);
	return p + 1 + l;
}

/* The in-addr.arpa / ip6.arpa name of an address. @return its length. */
static size_t
reverse_name(const uint8_t *addr, size_t alen, uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	char buf[4];
	size_t p = 0;
	int i;

	for (i = (int)alen - 1; i >= 0; i--) {
		if (alen == 4) {
			snprintf(buf, sizeof(buf), "%u", addr[i]);
			p = put_label(out, p, buf);
			continue;
		}
		out[p++] = 1;
		out[p++] = (uint8_t)hex[addr[i] & 0xf];
		out[p++] = 1;
		out[p++] = (uint8_t)hex[addr[i] >> 4];
	}
	p = put_label(out, p, alen == 4 ? "in-addr" : "ip6");
	p = put_label(out, p, "arpa");
	out[p++] = 0;
	return p;
}

static int
is_wildcard(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}

/*
 * PTR records for every A/AAAA (wildcards excepted) whose reverse name has
 * no records of its own, the first owner per address winning.
 */
static int
add_auto_ptr(struct hd_localzone_builder *b)
{
	struct lz_brec *cand = NULL;
	size_t n = 0, i, n_rec = b->n_rec;
	int rc = 0;

	cand = calloc(n_rec ? n_rec : 1, sizeof(*cand));
	if (cand == NULL)
		return -ENOMEM;
	for (i = 0; i < n_rec; i++) {
		const struct lz_brec *r = &b->rec[i];
		uint8_t rev[HD_DNS_NAME_MAX];
		size_t rlen;

		if (!((r->type == HD_DNS_TYPE_A && r->rdlen == 4) ||
		      (r->type == HD_DNS_TYPE_AAAA && r->rdlen == 16)) || is_wildcard(r->owner))
			continue;
		rlen = reverse_name(r->rdata, r->rdlen, rev);
		if (rec_find(b, n_rec, rev, rlen) != NULL)
			continue;
		cand[n] = *r;
		cand[n].owner = malloc(rlen);
		if (cand[n].owner == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(cand[n].owner, rev, rlen);
		cand[n].owner_len = (uint16_t)rlen;
		cand[n].type = HD_DNS_TYPE_PTR;
		/* The PTR's RDATA is the A record's owner. */
		cand[n].rdata = r->owner;
		cand[n].rdlen = r->owner_len;
		n++;
	}
	/* By name, then arrival: the first owner given for an address wins. */
	if (n > 1)
		qsort(cand, n, sizeof(*cand), rec_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0 && name_cmp(cand[i].owner, cand[i].owner_len,
				      cand[i - 1].owner, cand[i - 1].owner_len) == 0)
			continue;
		rc = lz_builder_push(b, cand[i].owner, cand[i].owner_len, HD_DNS_TYPE_PTR,
				     cand[i].ttl, cand[i].rdata, cand[i].rdlen, cand[i].src,
				     cand[i].line);
	}
out:
	for (i = 0; i < n; i++)
		free(cand[i].owner);
	free(cand);
	return rc;
}

/* Sort and deduplicate the zones; give each one without a SOA a synthesized one. */
static int
prepare_zones(struct hd_localzone_builder *b)
{
	size_t i, j = 0, n_rec;

	if (b->n_zones > 1)
		qsort(b->zones, b->n_zones, sizeof(*b->zones), zone_cmp);
	for (i = 0; i < b->n_zones; i++) {
		if (j > 0 && zone_cmp(&b->zones[j - 1], &b->zones[i]) == 0)
			continue;
		b->zones[j++] = b->zones[i];
	}
	b->n_zones = j;
	/* Records pushed below are not sorted: search only the ones that are. */
	n_rec = b->n_rec;
	for (i = 0; i < b->n_zones; i++) {
		const struct lz_bzone *z = &b->zones[i];
		const struct lz_brec *r = rec_find(b, n_rec, z->name, z->len);
		int has_soa = 0;

		for (; r != NULL && r < b->rec + n_rec && r->owner_len == z->len &&
		       memcmp(r->owner, z->name, z->len) == 0; r++)
			has_soa |= r->type == HD_DNS_TYPE_SOA;
		if (!has_soa && lz_builder_push(b, z->name, z->len, HD_DNS_TYPE_SOA,
						LZ_DEFAULT_TTL, synth_soa, sizeof(synth_soa),
						z->src, 0) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Drop records equal to an earlier one of the same RRset (RRsets are sets). */
static void
dedupe(struct hd_localzone_builder *b)
{
	size_t i, j = 0, set = 0;

	for (i = 0; i < b->n_rec; i++) {
		struct lz_brec *r = &b->rec[i];
		size_t k;
		int dup = 0;

		if (j == 0 || b->rec[set].type != r->type ||
		    name_cmp(b->rec[set].owner, b->rec[set].owner_len, r->owner, r->owner_len) != 0)
			set = j;
		for (k = set; k < j && !dup; k++)
			dup = b->rec[k].rdlen == r->rdlen &&
			      memcmp(b->rec[k].rdata, r->rdata, r->rdlen) == 0;
		if (dup) {
			free(r->owner);
			continue;
		}
		b->rec[j++] = *r;
	}
	b->n_rec = j;
}

static void
fail_at(const struct hd_localzone_builder *b, const struct lz_brec *r, const char *what,
	char *err, size_t errlen)
{
	char where[320], name[1024];

	lz_where(b, r, where, sizeof(where));
	if (hd_dns_name_to_str(r->owner, r->owner_len, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "?");
	snprintf(err, errlen, "%s: %s %s", where, name, what);
}

/*
 * Rules a name's data must follow: a CNAME alone (RFC 2181 section 10.1),
 * a bounded number of records, at most one SOA.
 */
static int
check_names(const struct hd_localzone_builder *b, char *err, size_t errlen)
{
	size_t i = 0, j;

	while (i < b->n_rec) {
		const struct lz_brec *cname = NULL, *soa = NULL;
		size_t n_other = 0;

		for (j = i; j < b->n_rec && name_cmp(b->rec[i].owner, b->rec[i].owner_len,
						     b->rec[j].owner, b->rec[j].owner_len) == 0; j++) {
			const struct lz_brec *r = &b->rec[j];

			if (r->type == HD_DNS_TYPE_CNAME && cname != NULL) {
				fail_at(b, r, "has more than one CNAME", err, errlen);
				return -EINVAL;
			}
			if (r->type == HD_DNS_TYPE_SOA && soa != NULL) {
				fail_at(b, r, "has more than one SOA", err, errlen);
				return -EINVAL;
			}
			if (r->type == HD_DNS_TYPE_CNAME)
				cname = r;
			else if (r->type == HD_DNS_TYPE_SOA)
				soa = r;
			if (r->type != HD_DNS_TYPE_CNAME)
				n_other++;
		}
		if (cname != NULL && n_other > 0) {
			fail_at(b, cname, "has a CNAME and other data (a CNAME must be alone)",
				err, errlen);
			return -EINVAL;
		}
		if (j - i > LZ_NAME_RR_MAX) {
			char what[64];

			snprintf(what, sizeof(what), "has more than %d records", LZ_NAME_RR_MAX);
			fail_at(b, &b->rec[i + LZ_NAME_RR_MAX], what, err, errlen);
			return -EINVAL;
		}
		i = j;
	}
	return 0;
}

static int
blob_put(struct make *m, const void *p, size_t n, uint32_t *off)
{
	struct hd_localzone *lz = m->lz;

	if (lz->blob_len + n > m->cap_blob) {
		size_t cap = m->cap_blob ? m->cap_blob : 4096;
		uint8_t *nb;

		while (cap < lz->blob_len + n)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		nb = realloc(lz->blob, cap);
		if (nb == NULL)
			return -ENOMEM;
		lz->blob = nb;
		m->cap_blob = cap;
	}
	memcpy(lz->blob + lz->blob_len, p, n);
	*off = (uint32_t)lz->blob_len;
	lz->blob_len += n;
	return 0;
}

/* @return the node named @p name, created (without data) when missing. */
static uint32_t
node_get(struct make *m, const uint8_t *name, size_t len, uint32_t hash, uint32_t zone)
{
	struct hd_localzone *lz = m->lz;
	uint32_t idx = lz_find(lz, name, len, hash), i;
	struct lz_node *n;

	if (idx != LZ_NONE)
		return idx;
	if (lz->n_nodes == m->cap_nodes) {
		uint32_t cap = m->cap_nodes ? m->cap_nodes * 2 : 64;
		struct lz_node *nn = realloc(lz->nodes, cap * sizeof(*nn));

		if (nn == NULL)
			return LZ_NONE;
		lz->nodes = nn;
		m->cap_nodes = cap;
	}
	idx = lz->n_nodes;
	n = &lz->nodes[idx];
	if (blob_put(m, name, len, &n->name_off) < 0)
		return LZ_NONE;
	n->name_len = (uint16_t)len;
	n->n_sets = 0;
	n->first_set = 0;
	n->zone = zone;
	n->wild = LZ_NONE;
	lz->n_nodes++;
	for (i = hash & lz->mask; lz->slots[i].node != LZ_NONE; i = (i + 1) & lz->mask)
		;
	lz->slots[i].hash = hash;
	lz->slots[i].node = idx;
	return idx;
}

static int
lname_init(struct lz_name *ln, const uint8_t *name, size_t len)
{
	ln->name = name;
	ln->len = len;
	ln->nl = lz_labels(name, len, ln->off);
	if (ln->nl < 0)
		return -EINVAL;
	lz_suffix_hashes(name, ln->off, ln->nl, ln->h);
	return 0;
}

/* Offset of the suffix that starts at label @p i (i == nl: the root). */
static size_t
lname_at(const struct lz_name *ln, int i)
{
	return i < ln->nl ? ln->off[i] : ln->len - 1;
}

static uint32_t
lname_node(struct make *m, const struct lz_name *ln, int i, uint32_t zone)
{
	size_t at = lname_at(ln, i);

	return node_get(m, ln->name + at, ln->len - at, ln->h[i], zone);
}

/* The zone of a name: its longest suffix that is an apex. */
static uint32_t
zone_of(const struct hd_localzone *lz, const struct lz_name *ln)
{
	int i;

	for (i = 0; i <= ln->nl; i++) {
		size_t at = lname_at(ln, i);
		uint32_t idx = lz_find(lz, ln->name + at, ln->len - at, ln->h[i]);

		if (idx != LZ_NONE && lz->nodes[idx].zone != LZ_NONE &&
		    lz->zones[lz->nodes[idx].zone].node == idx)
			return lz->nodes[idx].zone;
	}
	return LZ_NONE;
}

/* Apex nodes first, so that every owner can find its zone. */
static int
make_zones(struct make *m, const struct hd_localzone_builder *b)
{
	struct hd_localzone *lz = m->lz;
	size_t i;

	lz->zones = calloc(b->n_zones ? b->n_zones : 1, sizeof(*lz->zones));
	if (lz->zones == NULL)
		return -ENOMEM;
	for (i = 0; i < b->n_zones; i++) {
		struct lz_name ln;

		if (lname_init(&ln, b->zones[i].name, b->zones[i].len) < 0)
			return -EINVAL;
		lz->zones[i].node = lname_node(m, &ln, 0, (uint32_t)i);
		lz->zones[i].soa_set = LZ_NONE;
		if (lz->zones[i].node == LZ_NONE)
			return -ENOMEM;
		lz->n_zones++;
	}
	return 0;
}

/* One owner's records (b->rec[i..j)) become its node's RRsets. */
static int
make_owner(struct make *m, const struct hd_localzone_builder *b, size_t i, size_t j)
{
	struct hd_localzone *lz = m->lz;
	struct lz_node *n;
	struct lz_name ln;
	uint32_t idx, zone;
	size_t k;

	if (lname_init(&ln, b->rec[i].owner, b->rec[i].owner_len) < 0)
		return -EINVAL;
	zone = zone_of(lz, &ln);
	idx = lname_node(m, &ln, 0, zone);
	if (idx == LZ_NONE)
		return -ENOMEM;
	n = &lz->nodes[idx];
	n->zone = zone;
	n->first_set = lz->n_sets;
	for (k = i; k < j; k++) {
		const struct lz_brec *r = &b->rec[k];
		struct lz_rr *rr = &lz->rrs[lz->n_rrs];
		struct lz_rrset *set;

		if (k == i || r->type != b->rec[k - 1].type) {
			set = &lz->sets[lz->n_sets++];
			set->type = r->type;
			set->n = 0;
			set->ttl = r->ttl;
			set->first = lz->n_rrs;
			n->n_sets++;
		} else {
			set = &lz->sets[lz->n_sets - 1];
		}
		/* RFC 2181 section 5.2: one TTL per RRset; the smallest is safest. */
		if (r->ttl < set->ttl)
			set->ttl = r->ttl;
		if (blob_put(m, r->rdata, r->rdlen, &rr->off) < 0)
			return -ENOMEM;
		rr->len = r->rdlen;
		lz->n_rrs++;
		set->n++;
	}
	return 0;
}

/*
 * Names that exist without data: every ancestor of a zone's owner up to
 * the apex (RFC 4592 empty non-terminals answer NODATA, and stop wildcard
 * matching), and the parent of each wildcard, which points at it.
 */
static int
make_implied(struct make *m, uint32_t idx)
{
	struct hd_localzone *lz = m->lz;
	const struct lz_node *n = &lz->nodes[idx];
	uint32_t zone = n->zone, apex = zone != LZ_NONE ? lz->zones[zone].node : LZ_NONE;
	uint8_t name[HD_DNS_NAME_MAX];
	struct lz_name ln;
	uint32_t p;
	int i;

	/* The blob may move while nodes are added: work on a copy. */
	memcpy(name, lz->blob + n->name_off, n->name_len);
	if (lname_init(&ln, name, n->name_len) < 0)
		return -EINVAL;
	if (ln.nl > 0 && is_wildcard(name)) {
		p = lname_node(m, &ln, 1, zone);
		if (p == LZ_NONE)
			return -ENOMEM;
		lz->nodes[p].wild = idx;
	}
	if (zone == LZ_NONE || idx == apex)
		return 0;
	for (i = 1; i <= ln.nl; i++) {
		p = lname_node(m, &ln, i, zone);
		if (p == LZ_NONE)
			return -ENOMEM;
		if (p == apex)
			break;
	}
	return 0;
}

static void
make_soas(struct hd_localzone *lz)
{
	uint32_t z, s;

	for (z = 0; z < lz->n_zones; z++) {
		const struct lz_node *apex = &lz->nodes[lz->zones[z].node];

		for (s = apex->first_set; s < apex->first_set + apex->n_sets; s++) {
			const struct lz_rrset *set = &lz->sets[s];
			const struct lz_rr *rr = &lz->rrs[set->first];
			uint32_t min;

			if (set->type != HD_DNS_TYPE_SOA || rr->len < 4)
				continue;
			memcpy(&min, lz->blob + rr->off + rr->len - 4, 4);
			min = rte_be_to_cpu_32(min);
			lz->zones[z].soa_set = s;
			lz->zones[z].neg_ttl = min < set->ttl ? min : set->ttl;
		}
	}
}

/* Remember @p name's last label. @return 0, or -1 when the filter must go. */
static int
tld_add(struct hd_localzone *lz, const uint8_t *name, const uint8_t *off, int nl)
{
	const uint8_t *l;
	unsigned int i;

	if (nl == 0)
		return -1;
	l = name + off[nl - 1];
	for (i = 0; i < lz->n_tlds; i++)
		if (memcmp(lz->tld[i], l, 1u + l[0]) == 0)
			return 0;
	if (lz->n_tlds == LZ_TLD_MAX)
		return -1;
	memcpy(lz->tld[lz->n_tlds++], l, 1u + l[0]);
	return 0;
}

/* Bounds that let a query skip probes that cannot match. */
static void
label_range(struct hd_localzone *lz)
{
	int filter = 1;
	uint32_t i;

	lz->min_labels = UINT8_MAX;
	lz->max_labels = 0;
	lz->n_tlds = 0;
	for (i = 0; i < lz->n_nodes; i++) {
		const struct lz_node *n = &lz->nodes[i];
		const uint8_t *name = lz->blob + n->name_off;
		uint8_t off[LZ_LABELS_MAX];
		int nl = lz_labels(name, n->name_len, off);

		if (nl < lz->min_labels)
			lz->min_labels = (uint8_t)nl;
		if (nl > lz->max_labels)
			lz->max_labels = (uint8_t)nl;
		if (filter && tld_add(lz, name, off, nl) < 0)
			filter = 0;
	}
	if (!filter)
		lz->n_tlds = 0;
}

/* Table slots: a power of two at least twice the names it may hold. */
static int
make_table(struct hd_localzone *lz, const struct hd_localzone_builder *b)
{
	size_t bound = b->n_zones + 1, size = 64, i;

	for (i = 0; i < b->n_rec; i++) {
		uint8_t off[LZ_LABELS_MAX];
		int nl = lz_labels(b->rec[i].owner, b->rec[i].owner_len, off);

		if (nl < 0)
			return -EINVAL;
		bound += (size_t)nl + 1;
	}
	while (size < 2 * bound)
		size *= 2;
	if (size > UINT32_MAX)
		return -ENOMEM;
	lz->slots = malloc(size * sizeof(*lz->slots));
	lz->sets = calloc(b->n_rec ? b->n_rec : 1, sizeof(*lz->sets));
	lz->rrs = calloc(b->n_rec ? b->n_rec : 1, sizeof(*lz->rrs));
	if (lz->slots == NULL || lz->sets == NULL || lz->rrs == NULL)
		return -ENOMEM;
	for (i = 0; i < size; i++)
		lz->slots[i].node = LZ_NONE;
	lz->mask = (uint32_t)(size - 1);
	return 0;
}

static int
compile(struct make *m, const struct hd_localzone_builder *b)
{
	uint32_t n_owners, i;
	size_t s, e;
	int rc;

	rc = make_table(m->lz, b);
	if (rc == 0)
		rc = make_zones(m, b);
	for (s = 0; rc == 0 && s < b->n_rec; s = e) {
		for (e = s + 1; e < b->n_rec && b->rec[e].owner_len == b->rec[s].owner_len &&
		     memcmp(b->rec[e].owner, b->rec[s].owner, b->rec[s].owner_len) == 0; e++)
			;
		rc = make_owner(m, b, s, e);
	}
	n_owners = m->lz->n_nodes;
	for (i = 0; rc == 0 && i < n_owners; i++)
		rc = make_implied(m, i);
	if (rc == 0) {
		make_soas(m->lz);
		label_range(m->lz);
	}
	return rc;
}

struct hd_localzone *
hd_localzone_build(struct hd_localzone_builder *b, char *err, size_t errlen)
{
	struct make m = { 0 };
	int rc;

	if (errlen > 0)
		err[0] = '\0';

	if (b == NULL) {
		snprintf(err, errlen, "no local data builder");
		return NULL;
	}
	m.lz = calloc(1, sizeof(*m.lz));
	rc = m.lz == NULL ? -ENOMEM : 0;
	if (rc == 0) {
		sort_records(b);
		if (b->auto_ptr)
			rc = add_auto_ptr(b);
	}
	if (rc == 0) {
		sort_records(b);
		rc = prepare_zones(b);
	}
	if (rc == 0) {
		sort_records(b);
		dedupe(b);
		rc = check_names(b, err, errlen);
	}
	if (rc == 0)
		rc = compile(&m, b);
	if (rc < 0 && rc != -EINVAL)
		snprintf(err, errlen, "local data: %s", strerror(-rc));
	else if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "local data: malformed name");
	hd_localzone_builder_free(b);
	if (rc < 0) {
		hd_localzone_free(m.lz);
		return NULL;
	}
	return m.lz;
}

void
hd_localzone_free(struct hd_localzone *lz)
{
	if (lz == NULL)
		return;
	free(lz->slots);
	free(lz->nodes);
	free(lz->sets);
	free(lz->rrs);
	free(lz->zones);
	free(lz->blob);
	free(lz);
}

uint32_t
hd_localzone_n_records(const struct hd_localzone *lz)
{
	return lz != NULL ? lz->n_rrs : 0;
}

uint32_t
hd_localzone_n_zones(const struct hd_localzone *lz)
{
	return lz != NULL ? lz->n_zones : 0;
}
