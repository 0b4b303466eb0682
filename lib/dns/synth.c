/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthesized replies: answers heimdall makes up itself (local records,
 * blocked names) rather than copies from the cache. Runs per packet on the
 * workers, so it writes straight into the query's buffer and allocates
 * nothing; owners are compressed only against the question, the one name
 * every reply has, which covers the records local data produces (owners at
 * or under the qname, SOA owners that are its suffix) without the cost of a
 * general compressor.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* hd_wire.h uses likely/unlikely without including their header. */
#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_private.h"

/* A name has at most 127 labels plus the root. */
#define LABELS_MAX 128
/*
 * EXTRA-TEXT is for humans reading a dig output: a short reason is enough,
 * and a bound keeps the OPT far below any client's limit.
 */
#define EDE_TEXT_MAX 200
/* EDE option: code, length, INFO-CODE. */
#define EDE_OPT_FIXED 6

/*
 * Offsets of the labels of wire name @p name (root excluded).
 * @return the label count, or -1 when @p name is not @p len bytes of labels.
 */
static int
labels_of(const uint8_t *name, size_t len, uint8_t *lab)
{
	size_t p = 0;
	int n = 0;

	while (p < len && name[p] != 0) {
		if (name[p] > HD_DNS_LABEL_MAX || n == LABELS_MAX - 1)
			return -1;
		lab[n++] = (uint8_t)p;
		p += 1 + (size_t)name[p];
	}
	if (p + 1 != len || len > HD_DNS_NAME_MAX)
		return -1;
	return n;
}

/* The qname's labels, split once per reply and only when an owner needs them. */
struct qlabels {
	int n;			/* -1 until split */
	uint8_t off[LABELS_MAX];
};

/*
 * Write @p owner: the labels it does not share with the qname, then a
 * pointer to the shared suffix inside the question (at offset 12, in the
 * client's letter case). A NULL owner is the qname itself.
 */
static void
owner_write(struct hd_wire *w, const struct hd_dns_query *q, struct qlabels *ql,
	    const uint8_t *owner, size_t len)
{
	uint8_t ol[LABELS_MAX];
	int no, nq, i, j;

	if (owner == NULL) {
		hd_wire_write_u16(w, 0xc000 | HD_DNS_HDR_LEN);
		return;
	}
	if (ql->n < 0)
		ql->n = labels_of(q->lname, q->qname_len, ql->off);
	no = labels_of(owner, len, ol);
	nq = ql->n;
	if (no < 0 || nq < 0) {
		hd_wire_fail(w, -EINVAL);
		return;
	}
	for (i = no - 1, j = nq - 1; i >= 0 && j >= 0; i--, j--)
		if (!hd_dns_label_equal(owner + ol[i], q->lname + ql->off[j]))
			break;
	if (j == nq - 1) {
		/* Nothing in common but the root: a pointer would save nothing. */
		hd_wire_write_bytes(w, owner, len);
		return;
	}
	hd_wire_write_bytes(w, owner, ol[i + 1]);
	hd_wire_write_u16(w, (uint16_t)(0xc000 | (HD_DNS_HDR_LEN + ql->off[j + 1])));
}

static void
rrs_write(struct hd_wire *w, const struct hd_dns_query *q, struct qlabels *ql,
	  const struct hd_dns_rr *rr, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && hd_wire_ok(w); i++) {
		owner_write(w, q, ql, rr[i].owner, rr[i].owner_len);
		hd_wire_write_u16(w, rr[i].type);
		hd_wire_write_u16(w, rr[i].rclass);
		hd_wire_write_u32(w, rr[i].ttl);
		hd_wire_write_u16(w, rr[i].rdlen);
		hd_wire_write_bytes(w, rr[i].rdata, rr[i].rdlen);
	}
}

/* Length of @p text cut to EDE_TEXT_MAX without splitting a UTF-8 sequence. */
static size_t
ede_text_len(const char *text)
{
	size_t n;

	if (text == NULL)
		return 0;
	n = strnlen(text, EDE_TEXT_MAX + 1);
	if (n <= EDE_TEXT_MAX)
		return n;
	n = EDE_TEXT_MAX;
	while (n > 0 && ((uint8_t)text[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* OPT with the EDE option when one is asked for (RFC 8914 section 2). */
static void
opt_write(struct hd_wire *w, const struct hd_dns_query *q, const struct hd_dns_synth *s,
	  size_t text_len)
{
	hd_dns_opt_write(w, q, 0);
	if (s->ede == HD_DNS_EDE_NONE)
		return;
	/* hd_dns_opt_write() ends with an empty RDLENGTH: fill it in. */
	hd_wire_put_u16_at(w, w->pos - 2, (uint16_t)(EDE_OPT_FIXED + text_len));
	hd_wire_write_u16(w, HD_DNS_OPT_EDE);
	hd_wire_write_u16(w, (uint16_t)(2 + text_len));
	hd_wire_write_u16(w, s->ede);
	if (text_len > 0)
		hd_wire_write_bytes(w, s->ede_text, text_len);
}

int
hd_dns_reply_synth(uint8_t *msg, size_t cap, const struct hd_dns_query *q,
		   const struct hd_dns_synth *s, size_t limit)
{
	size_t qend = q->question_end, opt_len = 0, text_len = 0, end;
	uint16_t flags, an = (uint16_t)s->n_an, ns = (uint16_t)s->n_ns;
	struct qlabels ql;
	struct hd_wire w;

	/* Extended rcodes need the OPT a client may not have sent: not ours to make. */
	if (unlikely(qend == 0 || s->rcode < 0 || s->rcode > HD_DNS_RCODE_MASK ||
		     s->n_an > UINT16_MAX || s->n_ns > UINT16_MAX))
		return -EINVAL;
	ql.n = -1;
	if (q->has_edns) {
		opt_len = HD_DNS_OPT_LEN;
		if (s->ede != HD_DNS_EDE_NONE) {
			text_len = ede_text_len(s->ede_text);
			opt_len += EDE_OPT_FIXED + text_len;
		}
	}
	if (limit > cap)
		limit = cap;
	flags = HD_DNS_QR | HD_DNS_RA | (q->flags & (HD_DNS_RD | HD_DNS_CD)) |
		(s->flags & (HD_DNS_AA | HD_DNS_AD)) | (uint16_t)s->rcode;

	/* Records go into what the limit leaves after the OPT; overflow means TC. */
	hd_wire_init(&w, msg, limit > qend + opt_len ? limit - opt_len : qend);
	hd_wire_seek(&w, qend);
	rrs_write(&w, q, &ql, s->an, s->n_an);
	rrs_write(&w, q, &ql, s->ns, s->n_ns);
	if (unlikely(w.err == -EINVAL))
		return -EINVAL;
	end = w.pos;
	if (unlikely(!hd_wire_ok(&w))) {
		flags |= HD_DNS_TC;
		an = 0;
		ns = 0;
		end = qend;
	}
	hd_wire_init(&w, msg, cap);
	hd_dns_header_write(&w, q->id, flags, 1, an, ns, q->has_edns ? 1 : 0);
	hd_wire_seek(&w, end);
	if (q->has_edns)
		opt_write(&w, q, s, text_len);
	return hd_wire_ok(&w) ? (int)w.pos : -ENOSPC;
}
