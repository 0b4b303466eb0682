/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Answering from local data on the fast path: find the query name (or its
 * closest existing ancestor) with one hash probe per label, then apply the
 * authoritative-server rules of hd_localzone.h and write the reply with
 * hd_dns_reply_synth(). No allocation: the records of one reply are
 * described by a fixed array on the stack that points into the immutable
 * blob.
 *
 * A CNAME is followed while its target is local (at most LZ_CHAIN_MAX
 * hops). A target outside the local data ends the answer with the CNAME:
 * the client's resolver asks for the target itself, as it would after any
 * authoritative server's out-of-zone CNAME.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "hd_localzone.h"
#include "localzone_private.h"

/* The reply being assembled. */
struct answer {
	struct hd_dns_rr an[LZ_ANSWER_MAX];
	struct hd_dns_rr ns[1];
	unsigned int n_an, n_ns;
	int rcode;
};

/* Outcome of resolving one name of the chain. */
enum step { STEP_NOT_LOCAL, STEP_DONE, STEP_CNAME };

/* @return 1 when the last label of @p n is one some local name ends in. */
static int
tld_known(const struct hd_localzone *lz, const struct lz_name *n)
{
	const uint8_t *l;
	unsigned int i;

	if (lz->n_tlds == 0)
		return 1;
	if (n->nl == 0)
		return 0;
	l = n->name + n->off[n->nl - 1];
	for (i = 0; i < lz->n_tlds; i++)
		if (lz->tld[i][0] == l[0] && memcmp(lz->tld[i] + 1, l + 1, l[0]) == 0)
			return 1;
	return 0;
}

/*
 * Split @p name and hash its suffixes, unless no local name can match it.
 * @return 0, or -1 when it is not local (or malformed).
 */
static int
qname_init(const struct hd_localzone *lz, struct lz_name *n, const uint8_t *name, size_t len)
{
	n->name = name;
	n->len = len;
	n->nl = lz_labels(name, len, n->off);
	if (unlikely(n->nl < 0) || n->nl < lz->min_labels || !tld_known(lz, n))
		return -1;
	lz_suffix_hashes(name, n->off, n->nl, n->h);
	return 0;
}

/*
 * The node of @p n itself, or of its closest existing ancestor.
 * @param at  set to the label the found suffix starts at (0: exact)
 */
static uint32_t
closest(const struct hd_localzone *lz, const struct lz_name *n, int *at)
{
	int i = n->nl > lz->max_labels ? n->nl - lz->max_labels : 0;

	/* No name has fewer labels than min_labels: stop before probing it. */
	for (; n->nl - i >= lz->min_labels; i++) {
		size_t off = i < n->nl ? n->off[i] : n->len - 1;
		uint32_t idx = lz_find(lz, n->name + off, n->len - off, n->h[i]);

		if (idx != LZ_NONE) {
			*at = i;
			return idx;
		}
	}
	return LZ_NONE;
}

static const struct lz_rrset *
set_of(const struct hd_localzone *lz, const struct lz_node *node, uint16_t type)
{
	uint32_t s;

	for (s = node->first_set; s < node->first_set + node->n_sets; s++)
		if (lz->sets[s].type == type)
			return &lz->sets[s];
	return NULL;
}

static void
add_set(const struct hd_localzone *lz, const struct lz_rrset *set, const uint8_t *owner,
	size_t owner_len, struct answer *a)
{
	uint16_t k;

	for (k = 0; k < set->n && a->n_an < LZ_ANSWER_MAX; k++) {
		const struct lz_rr *rr = &lz->rrs[set->first + k];
		struct hd_dns_rr *o = &a->an[a->n_an++];

		o->owner = owner;
		o->owner_len = (uint16_t)owner_len;
		o->type = set->type;
		o->rclass = HD_DNS_CLASS_IN;
		o->ttl = set->ttl;
		o->rdata = lz->blob + rr->off;
		o->rdlen = rr->len;
	}
}

/* NXDOMAIN / NODATA in a zone carry its SOA, with the negative TTL. */
static void
add_soa(const struct hd_localzone *lz, uint32_t zone, struct answer *a)
{
	const struct lz_zone *z = &lz->zones[zone];
	const struct lz_node *apex = &lz->nodes[z->node];
	const struct lz_rrset *set;
	struct hd_dns_rr *o = &a->ns[0];

	if (z->soa_set == LZ_NONE)
		return;
	set = &lz->sets[z->soa_set];
	o->owner = lz->blob + apex->name_off;
	o->owner_len = apex->name_len;
	o->type = HD_DNS_TYPE_SOA;
	o->rclass = HD_DNS_CLASS_IN;
	o->ttl = z->neg_ttl;
	o->rdata = lz->blob + lz->rrs[set->first].off;
	o->rdlen = lz->rrs[set->first].len;
	a->n_ns = 1;
}

/*
 * Answer @p qtype from @p node's data, written under @p owner (NULL: the
 * question's name). @p target gets a CNAME's target to follow.
 */
static enum step
from_node(const struct hd_localzone *lz, const struct lz_node *node, uint32_t zone,
	  const uint8_t *owner, size_t owner_len, uint16_t qtype, struct answer *a,
	  const struct lz_rr **target)
{
	const struct lz_rrset *set, *cname;
	uint32_t s;

	if (qtype == HD_DNS_TYPE_ANY && node->n_sets > 0) {
		for (s = node->first_set; s < node->first_set + node->n_sets; s++)
			add_set(lz, &lz->sets[s], owner, owner_len, a);
		return STEP_DONE;
	}
	set = set_of(lz, node, qtype);
	if (set != NULL) {
		add_set(lz, set, owner, owner_len, a);
		return STEP_DONE;
	}
	cname = set_of(lz, node, HD_DNS_TYPE_CNAME);
	if (cname != NULL) {
		add_set(lz, cname, owner, owner_len, a);
		*target = &lz->rrs[cname->first];
		return STEP_CNAME;
	}
	if (zone != LZ_NONE)
		add_soa(lz, zone, a);
	return STEP_DONE;
}

/* Resolve one name of the chain (the qname first, then CNAME targets). */
static enum step
step(const struct hd_localzone *lz, const struct lz_name *n, const uint8_t *owner,
     uint16_t qtype, struct answer *a, uint32_t *zone_out, const struct lz_rr **target)
{
	const struct lz_node *node;
	uint32_t idx;
	int at = 0;

	idx = closest(lz, n, &at);
	if (idx == LZ_NONE)
		return STEP_NOT_LOCAL;
	node = &lz->nodes[idx];
	*zone_out = node->zone;
	if (at == 0) {
		/* A wildcard's parent outside zones exists only for the wildcard. */
		if (node->zone == LZ_NONE && node->n_sets == 0)
			return STEP_NOT_LOCAL;
		return from_node(lz, node, node->zone, owner, n->len, qtype, a, target);
	}
	/* The name does not exist: RFC 4592 wildcard at the closest encloser. */
	if (node->wild != LZ_NONE)
		return from_node(lz, &lz->nodes[node->wild], node->zone, owner, n->len, qtype,
				 a, target);
	if (node->zone == LZ_NONE)
		return STEP_NOT_LOCAL;
	a->rcode = HD_DNS_RCODE_NXDOMAIN;
	add_soa(lz, node->zone, a);
	return STEP_DONE;
}

int
hd_localzone_answer(const struct hd_localzone *lz, const struct hd_dns_query *q,
		    uint8_t *msg, size_t cap, size_t limit, size_t *len)
{
	struct hd_dns_synth s = { .ede = HD_DNS_EDE_NONE };
	uint8_t tname[HD_DNS_NAME_MAX];
	const struct lz_rr *target = NULL;
	const uint8_t *owner = NULL;
	struct answer a;
	struct lz_name n;
	uint32_t zone = LZ_NONE, first_zone = LZ_NONE;
	enum step st;
	int hops, rc;

	if (lz == NULL || lz->n_nodes == 0 || q->question_end == 0 ||
	    q->qclass != HD_DNS_CLASS_IN)
		return 0;
	if (qname_init(lz, &n, q->lname, q->qname_len) < 0)
		return 0;
	a.n_an = 0;
	a.n_ns = 0;
	a.rcode = HD_DNS_RCODE_NOERROR;
	st = step(lz, &n, NULL, q->qtype, &a, &first_zone, &target);
	if (st == STEP_NOT_LOCAL)
		return 0;
	for (hops = 0; st == STEP_CNAME && hops < LZ_CHAIN_MAX; hops++) {
		/* RDATA keeps the case it was written in; the table is lowercase. */
		if (target->len > sizeof(tname))
			break;
		memcpy(tname, lz->blob + target->off, target->len);
		hd_dns_name_lower(tname, target->len);
		if (qname_init(lz, &n, tname, target->len) < 0)
			break;
		owner = lz->blob + target->off;
		a.n_ns = 0;
		st = step(lz, &n, owner, q->qtype, &a, &zone, &target);
	}
	s.rcode = a.rcode;
	s.flags = first_zone != LZ_NONE ? HD_DNS_AA : 0;
	s.an = a.an;
	s.n_an = a.n_an;
	s.ns = a.ns;
	s.n_ns = a.n_ns;
	rc = hd_dns_reply_synth(msg, cap, q, &s, limit);
	if (rc < 0)
		return rc == -ENOSPC ? -ENOSPC : -EINVAL;
	*len = (size_t)rc;
	return 1;
}
