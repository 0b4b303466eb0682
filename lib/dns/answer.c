/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cached answers: built once per upstream reply on the slow path (with
 * every name decompressed and re-encoded against a question at offset 12),
 * then copied into each client reply on the fast path, where the only
 * per-record work left is patching TTLs.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* hd_wire.h uses likely/unlikely without including their header. */
#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_private.h"

#define TYPE_TSIG	250
/* Bounds the work one upstream reply can cost the slow path. */
#define RR_MAX		512
#define TTL_MAX_DEFAULT	86400
#define NEG_MAX_DEFAULT	3600
#define OPT_DO		0x8000

enum section { SEC_AN, SEC_NS, SEC_AR, SEC_COUNT };

/* State of one hd_dns_answer_build() call. */
struct build {
	struct hd_wire in;	/* the upstream reply */
	struct hd_wire out;	/* header + question + data being written */
	struct hd_dns_compressor comp;
	size_t data_start;	/* question_end: where the cached data begins */
	uint32_t min_ttl, max_ttl;
	uint32_t smallest;	/* smallest TTL written */
	uint32_t soa_neg;	/* min(SOA TTL, SOA MINIMUM) of the first SOA in NS */
	int have_soa;
	int has_cname;
	uint16_t n_ttl;
	uint16_t count[SEC_COUNT];
	uint16_t ttl_off[RR_MAX];
};

/* RFC 2181 section 8: a TTL with the top bit set means zero. */
static uint32_t
ttl_sane(uint32_t ttl)
{
	return ttl > INT32_MAX ? 0 : ttl;
}

/*
 * Read the question at the cursor and compare it with @p q's.
 * @return 0, -EPROTO (another question) or -EBADMSG (unreadable).
 */
static int
question_match(struct hd_wire *w, const struct hd_dns_query *q)
{
	uint8_t name[HD_DNS_NAME_MAX];
	uint16_t qtype, qclass;
	int n = hd_dns_name_read(w, name);

	if (n < 0)
		return -EBADMSG;
	qtype = hd_wire_read_u16(w);
	qclass = hd_wire_read_u16(w);
	if (!hd_wire_ok(w))
		return -EBADMSG;
	if (qtype != q->qtype || qclass != q->qclass ||
	    !hd_dns_name_equal(name, (size_t)n, q->lname, q->qname_len))
		return -EPROTO;
	return 0;
}

/*
 * OPT and TSIG belong to one transaction with the upstream, as does SIG(0)
 * (a SIG in the additional section covering type 0): never cache them.
 */
static int
rr_is_transport(struct hd_wire *in, enum section sec, uint16_t type, uint16_t rdlen)
{
	if (type == HD_DNS_TYPE_OPT || type == TYPE_TSIG)
		return 1;
	return sec == SEC_AR && type == HD_DNS_TYPE_SIG && rdlen >= 2 &&
	       hd_wire_get_u16_at(in, in->pos) == 0;
}

static uint32_t
ttl_clamp(const struct build *b, uint32_t ttl)
{
	ttl = ttl_sane(ttl);
	if (ttl < b->min_ttl)
		ttl = b->min_ttl;
	return ttl > b->max_ttl ? b->max_ttl : ttl;
}

/* Remember the negative TTL of the first SOA of the authority section. */
static void
note_soa(struct build *b, uint32_t ttl)
{
	uint32_t minimum;

	/* MINIMUM is the last field of the SOA RDATA just written. */
	minimum = ttl_sane(hd_wire_get_u32_at(&b->out, b->out.pos - 4));
	ttl = ttl_sane(ttl);
	b->soa_neg = ttl < minimum ? ttl : minimum;
	b->have_soa = 1;
}

/* Re-encode one RR of section @p sec. @return 0 or a negative errno. */
static int
copy_rr(struct build *b, enum section sec)
{
	uint8_t owner[HD_DNS_NAME_MAX];
	uint16_t type, rclass, rdlen;
	uint32_t ttl, t;
	size_t rdlen_at;
	int n, rc;

	n = hd_dns_name_read(&b->in, owner);
	if (n < 0)
		return -EBADMSG;
	type = hd_wire_read_u16(&b->in);
	rclass = hd_wire_read_u16(&b->in);
	ttl = hd_wire_read_u32(&b->in);
	rdlen = hd_wire_read_u16(&b->in);
	if (!hd_wire_ok(&b->in) || rdlen > hd_wire_left(&b->in))
		return -EBADMSG;
	if (rr_is_transport(&b->in, sec, type, rdlen)) {
		hd_wire_skip(&b->in, rdlen);
		return 0;
	}
	t = ttl_clamp(b, ttl);
	if (t < b->smallest)
		b->smallest = t;
	hd_dns_name_write(&b->out, &b->comp, owner, (size_t)n);
	hd_wire_write_u16(&b->out, type);
	hd_wire_write_u16(&b->out, rclass);
	b->ttl_off[b->n_ttl++] = (uint16_t)(b->out.pos - b->data_start);
	hd_wire_write_u32(&b->out, t);
	rdlen_at = b->out.pos;
	hd_wire_write_u16(&b->out, 0);
	rc = hd_dns_rdata_copy(&b->in, type, rdlen, &b->out, &b->comp);
	if (rc < 0 || !hd_wire_ok(&b->out))
		return -EBADMSG;
	hd_wire_put_u16_at(&b->out, rdlen_at, (uint16_t)(b->out.pos - rdlen_at - 2));
	if (type == HD_DNS_TYPE_SOA && sec == SEC_NS && !b->have_soa)
		note_soa(b, ttl);
	if (type == HD_DNS_TYPE_CNAME && sec == SEC_AN)
		b->has_cname = 1;
	b->count[sec]++;
	return hd_wire_ok(&b->out) ? 0 : -EBADMSG;
}

/*
 * Negative answers (RFC 2308 section 5) live as long as the SOA allows, and
 * every record in them, the SOA included, counts down from that.
 */
static uint32_t
negative_ttl(struct build *b, const struct hd_dns_answer_limits *lim)
{
	uint32_t neg_max = lim && lim->neg_max_ttl ? lim->neg_max_ttl : NEG_MAX_DEFAULT;
	uint32_t t = 0;
	unsigned int i;

	if (b->have_soa) {
		t = b->soa_neg < b->min_ttl ? b->min_ttl : b->soa_neg;
		if (t > neg_max)
			t = neg_max;
	}
	for (i = 0; i < b->n_ttl; i++) {
		size_t off = b->data_start + b->ttl_off[i];

		if (hd_wire_get_u32_at(&b->out, off) > t)
			hd_wire_put_u32_at(&b->out, off, t);
	}
	return t;
}

static struct hd_dns_answer *
finish(struct build *b, uint16_t rflags, uint32_t now,
       const struct hd_dns_answer_limits *lim, int *err)
{
	struct hd_dns_answer *a;
	size_t dlen = b->out.pos - b->data_start;
	int negative;
	uint32_t ttl;

	negative = (rflags & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_NXDOMAIN ||
		   b->count[SEC_AN] == 0;
	ttl = negative ? negative_ttl(b, lim) : b->smallest;
	if (!hd_wire_ok(&b->out)) {
		*err = -EBADMSG;
		return NULL;
	}
	a = malloc(sizeof(*a) + b->n_ttl * sizeof(uint16_t) + dlen);
	if (a == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	a->stored = now;
	a->ttl = ttl;
	a->expires = now + ttl;
	a->stale_until = a->expires + (lim ? lim->stale_ttl : 0);
	/* A forwarder's answers are never authoritative: the upstream's AA stays behind. */
	a->flags = rflags & (HD_DNS_AD | HD_DNS_RCODE_MASK);
	a->ancount = b->count[SEC_AN];
	a->nscount = b->count[SEC_NS];
	a->arcount = b->count[SEC_AR];
	a->n_ttl = b->n_ttl;
	a->len = (uint16_t)dlen;
	a->qname_len = (uint16_t)(b->data_start - HD_DNS_HDR_LEN - 4);
	a->negative = (uint8_t)negative;
	a->has_cname = b->has_cname;
	memcpy(a + 1, b->ttl_off, b->n_ttl * sizeof(uint16_t));
	memcpy((uint16_t *)(a + 1) + b->n_ttl, b->out.buf + b->data_start, dlen);
	*err = 0;
	return a;
}

/* Lay out the question we encode against, as the client's will be. */
static void
build_init(struct build *b, uint8_t *work, const struct hd_dns_query *q,
	   const struct hd_dns_answer_limits *lim)
{
	/* Keep room for the OPT hd_dns_reply_answer() may append. */
	hd_wire_init(&b->out, work, HD_DNS_MSG_MAX - HD_DNS_OPT_LEN);
	memset(work, 0, HD_DNS_HDR_LEN);
	hd_dns_comp_init(&b->comp, work);
	hd_wire_seek(&b->out, HD_DNS_HDR_LEN);
	hd_dns_name_write(&b->out, &b->comp, q->lname, q->qname_len);
	hd_wire_write_u16(&b->out, q->qtype);
	hd_wire_write_u16(&b->out, q->qclass);
	b->data_start = b->out.pos;
	b->min_ttl = lim ? lim->min_ttl : 0;
	b->max_ttl = lim && lim->max_ttl ? lim->max_ttl : TTL_MAX_DEFAULT;
	if (b->min_ttl > b->max_ttl)
		b->min_ttl = b->max_ttl;
	b->smallest = UINT32_MAX;
	b->have_soa = 0;
	b->has_cname = 0;
	b->soa_neg = 0;
	b->n_ttl = 0;
	memset(b->count, 0, sizeof(b->count));
}

/*
 * Header and question checks.
 * @return 0, or the errno hd_dns_answer_build() reports.
 */
static int
check_reply(struct hd_wire *in, const struct hd_dns_query *q, uint16_t *flags,
	    uint16_t counts[SEC_COUNT])
{
	uint16_t qdcount;
	int rc, rcode;

	if (in->len < HD_DNS_HDR_LEN)
		return -EBADMSG;
	hd_wire_skip(in, 2);
	*flags = hd_wire_read_u16(in);
	qdcount = hd_wire_read_u16(in);
	counts[SEC_AN] = hd_wire_read_u16(in);
	counts[SEC_NS] = hd_wire_read_u16(in);
	counts[SEC_AR] = hd_wire_read_u16(in);
	if (!(*flags & HD_DNS_QR) || (*flags & HD_DNS_OPCODE_MASK) != 0 || qdcount != 1)
		return -EPROTO;
	rc = question_match(in, q);
	if (rc < 0)
		return rc;
	rcode = *flags & HD_DNS_RCODE_MASK;
	/* A truncated reply is incomplete: the caller retries over TCP. */
	if ((rcode != HD_DNS_RCODE_NOERROR && rcode != HD_DNS_RCODE_NXDOMAIN) ||
	    (*flags & HD_DNS_TC))
		return -ENOTSUP;
	if ((unsigned int)counts[SEC_AN] + counts[SEC_NS] + counts[SEC_AR] > RR_MAX)
		return -ENOTSUP;
	return 0;
}

struct hd_dns_answer *
hd_dns_answer_build(const uint8_t *reply, size_t len, const struct hd_dns_query *q,
		    uint32_t now, const struct hd_dns_answer_limits *lim, int *err)
{
	struct hd_dns_answer *a = NULL;
	struct build *b = NULL;
	uint8_t *work = NULL;
	uint16_t flags = 0, counts[SEC_COUNT];
	unsigned int s, i;
	int rc;

	if (q->qname_len == 0 || q->qname_len > HD_DNS_NAME_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	b = malloc(sizeof(*b));
	work = malloc(HD_DNS_MSG_MAX);
	if (b == NULL || work == NULL) {
		*err = -ENOMEM;
		goto out;
	}
	hd_wire_init(&b->in, (void *)(uintptr_t)reply, len);
	rc = check_reply(&b->in, q, &flags, counts);
	if (rc < 0) {
		*err = rc;
		goto out;
	}
	build_init(b, work, q, lim);
	for (s = 0; s < SEC_COUNT; s++) {
		for (i = 0; i < counts[s]; i++) {
			rc = copy_rr(b, (enum section)s);
			if (rc < 0) {
				*err = rc;
				goto out;
			}
		}
	}
	a = finish(b, flags, now, lim, err);
out:
	free(work);
	free(b);
	return a;
}

void
hd_dns_opt_write(struct hd_wire *w, const struct hd_dns_query *q, uint8_t ext_rcode)
{
	hd_wire_write_u8(w, 0);
	hd_wire_write_u16(w, HD_DNS_TYPE_OPT);
	hd_wire_write_u16(w, hd_dns_edns_size());
	hd_wire_write_u32(w, ((uint32_t)ext_rcode << 24) | (q->do_bit ? OPT_DO : 0));
	hd_wire_write_u16(w, 0);
}

void
hd_dns_header_write(struct hd_wire *w, uint16_t id, uint16_t flags, uint16_t qd,
		    uint16_t an, uint16_t ns, uint16_t ar)
{
	hd_wire_seek(w, 0);
	hd_wire_write_u16(w, id);
	hd_wire_write_u16(w, flags);
	hd_wire_write_u16(w, qd);
	hd_wire_write_u16(w, an);
	hd_wire_write_u16(w, ns);
	hd_wire_write_u16(w, ar);
}

/* EDE option without EXTRA-TEXT: option code, length, INFO-CODE. */
#define EDE_OPT_LEN	6

/* An OPT at the cursor, carrying EDE @p ede unless it is HD_DNS_EDE_NONE. */
static void
opt_ede_write(struct hd_wire *w, const struct hd_dns_query *q, uint16_t ede)
{
	hd_dns_opt_write(w, q, 0);
	if (ede == HD_DNS_EDE_NONE)
		return;
	hd_wire_put_u16_at(w, w->pos - 2, EDE_OPT_LEN);
	hd_wire_write_u16(w, HD_DNS_OPT_EDE);
	hd_wire_write_u16(w, 2);
	hd_wire_write_u16(w, ede);
}

int
hd_dns_reply_answer(uint8_t *msg, size_t cap, const struct hd_dns_query *q,
		    const struct hd_dns_answer *a, uint32_t now, uint32_t stale_ttl,
		    size_t limit)
{
	return hd_dns_reply_answer_ede(msg, cap, q, a, now, stale_ttl, HD_DNS_EDE_NONE, limit);
}

int
hd_dns_reply_answer_ede(uint8_t *msg, size_t cap, const struct hd_dns_query *q,
			const struct hd_dns_answer *a, uint32_t now, uint32_t stale_ttl,
			uint16_t ede, size_t limit)
{
	const uint16_t *offs = hd_dns_answer_ttl_offs(a);
	size_t qend = q->question_end;
	size_t opt = !q->has_edns ? 0 :
		HD_DNS_OPT_LEN + (ede != HD_DNS_EDE_NONE ? EDE_OPT_LEN : 0);
	uint32_t age = now > a->stored ? now - a->stored : 0;
	uint16_t flags;
	struct hd_wire w;
	unsigned int i;

	if (unlikely(qend == 0 || a->qname_len != q->qname_len))
		return -EINVAL;
	if (limit > cap)
		limit = cap;
	hd_wire_init(&w, msg, cap);
	flags = HD_DNS_QR | HD_DNS_RA | (q->flags & (HD_DNS_RD | HD_DNS_CD)) |
		(a->flags & (HD_DNS_AA | HD_DNS_RCODE_MASK));
	if ((a->flags & HD_DNS_AD) && (q->do_bit || (q->flags & HD_DNS_AD)))
		flags |= HD_DNS_AD;
	if (unlikely(qend + a->len + opt > limit)) {
		hd_dns_header_write(&w, q->id, flags | HD_DNS_TC, 1, 0, 0, opt ? 1 : 0);
		hd_wire_seek(&w, qend);
	} else {
		hd_dns_header_write(&w, q->id, flags, 1, a->ancount, a->nscount,
				    (uint16_t)(a->arcount + (opt ? 1 : 0)));
		hd_wire_seek(&w, qend);
		hd_wire_write_bytes(&w, hd_dns_answer_data(a), a->len);
		for (i = 0; i < a->n_ttl; i++) {
			size_t off = qend + offs[i];
			uint32_t t = hd_wire_get_u32_at(&w, off);

			if (stale_ttl != 0)
				t = stale_ttl;
			else
				t = t > age ? t - age : 0;
			hd_wire_put_u32_at(&w, off, t);
		}
	}
	if (opt)
		opt_ede_write(&w, q, ede);
	return hd_wire_ok(&w) ? (int)w.pos : -ENOSPC;
}

int
hd_dns_reply_rcode(uint8_t *msg, size_t cap, const struct hd_dns_query *q, int rcode)
{
	uint16_t flags = HD_DNS_QR | HD_DNS_RA |
		(q->flags & (HD_DNS_RD | HD_DNS_OPCODE_MASK)) | (rcode & HD_DNS_RCODE_MASK);
	/* An extended rcode only exists in an OPT. */
	int opt = q->has_edns || rcode > HD_DNS_RCODE_MASK;
	struct hd_wire w;

	if (rcode < 0 || rcode > 0xfff)
		return -EINVAL;
	hd_wire_init(&w, msg, cap);
	hd_dns_header_write(&w, q->id, flags, q->question_end ? 1 : 0, 0, 0, opt ? 1 : 0);
	hd_wire_seek(&w, q->question_end ? q->question_end : HD_DNS_HDR_LEN);
	if (opt)
		hd_dns_opt_write(&w, q, (uint8_t)(rcode >> 4));
	return hd_wire_ok(&w) ? (int)w.pos : -ENOSPC;
}

int
hd_dns_reply_matches(const uint8_t *reply, size_t len, const struct hd_dns_query *q,
		     uint16_t id)
{
	struct hd_wire w;
	uint16_t rid, flags, qdcount;

	if (len < HD_DNS_HDR_LEN)
		return -EBADMSG;
	hd_wire_init(&w, (void *)(uintptr_t)reply, len);
	rid = hd_wire_read_u16(&w);
	flags = hd_wire_read_u16(&w);
	qdcount = hd_wire_read_u16(&w);
	hd_wire_skip(&w, 6);
	if (rid != id || !(flags & HD_DNS_QR) || qdcount != 1)
		return -EPROTO;
	return question_match(&w, q);
}

int
hd_dns_reply_truncated(const uint8_t *reply, size_t len)
{
	struct hd_wire w;

	if (len < HD_DNS_HDR_LEN)
		return 0;
	hd_wire_init(&w, (void *)(uintptr_t)reply, len);
	return (hd_wire_get_u16_at(&w, 2) & HD_DNS_TC) != 0;
}

int
hd_dns_cname_foreach(const uint8_t *msg, size_t len,
		     int (*cb)(void *arg, const uint8_t *name, size_t name_len),
		     void *arg)
{
	uint8_t name[HD_DNS_NAME_MAX];
	uint16_t qdcount, ancount, i;
	struct hd_wire w;
	int rc;

	hd_wire_init(&w, (void *)(uintptr_t)msg, len);
	hd_wire_skip(&w, 4);
	qdcount = hd_wire_read_u16(&w);
	ancount = hd_wire_read_u16(&w);
	hd_wire_skip(&w, 4);
	for (i = 0; i < qdcount && hd_wire_ok(&w); i++) {
		if (hd_dns_name_skip(&w) < 0)
			return -EBADMSG;
		hd_wire_skip(&w, 4);
	}
	for (i = 0; i < ancount; i++) {
		uint16_t type, rdlen;
		size_t end;

		if (hd_dns_name_skip(&w) < 0)
			return -EBADMSG;
		type = hd_wire_read_u16(&w);
		hd_wire_skip(&w, 6);
		rdlen = hd_wire_read_u16(&w);
		if (!hd_wire_ok(&w) || rdlen > hd_wire_left(&w))
			return -EBADMSG;
		end = w.pos + rdlen;
		if (type == HD_DNS_TYPE_CNAME) {
			int n = hd_dns_name_read(&w, name);

			if (n < 0)
				return -EBADMSG;
			hd_dns_name_lower(name, (size_t)n);
			rc = cb(arg, name, (size_t)n);
			if (rc != 0)
				return rc;
		}
		hd_wire_seek(&w, end);
	}
	return hd_wire_ok(&w) ? 0 : -EBADMSG;
}
