/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client queries: parsing on the fast path (once per packet, no allocation,
 * one pass) and writing the query we send upstream.
 */

#include <errno.h>
#include <stdint.h>

/* hd_wire.h uses likely/unlikely without including their header. */
#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "dns_private.h"

/* Bits of the OPT TTL field (RFC 6891 section 6.1.3). */
#define OPT_DO 0x8000

/* Written once at start-up, then only read: no synchronisation needed. */
static uint16_t edns_size = HD_DNS_EDNS_SIZE;

void
hd_dns_edns_size_set(uint16_t size)
{
	edns_size = size < HD_DNS_UDP_MIN ? HD_DNS_UDP_MIN : size;
}

uint16_t
hd_dns_edns_size(void)
{
	return edns_size;
}

/*
 * Copy the qname, lowercased, into q->lname. Queries carry one name, so a
 * compression pointer in it can only be an error (it has nothing earlier
 * to point at).
 * @return 0; -EMSGSIZE when the message ends inside the name (a truncated
 *   packet, dropped); -EBADMSG for a label or name over its limit or a
 *   compression pointer (answered FORMERR).
 */
static int
read_qname(struct hd_wire *w, struct hd_dns_query *q)
{
	const uint8_t *p = w->buf + w->pos;
	size_t left = hd_wire_left(w);
	size_t n = 0, i;

	for (;;) {
		uint8_t c;

		if (unlikely(n >= left))
			return -EMSGSIZE;
		c = p[n];
		if (c == 0)
			break;
		if (unlikely(c > HD_DNS_LABEL_MAX || n + c + 2 > HD_DNS_NAME_MAX))
			return -EBADMSG;
		if (unlikely(left - n - 1 < c))
			return -EMSGSIZE;
		/* Length bytes are <= 63 and pass through hd_dns_lower unchanged. */
		for (i = n; i <= n + c; i++)
			q->lname[i] = hd_dns_lower(p[i]);
		n += 1 + (size_t)c;
	}
	q->lname[n++] = 0;
	q->qname_len = (uint16_t)n;
	hd_wire_skip(w, n);
	return 0;
}

/*
 * Walk the additional section for the OPT RR.
 * @return 0, or -1 for a malformed section or OPT (q->has_edns cleared).
 */
static int
read_additional(struct hd_wire *w, uint16_t arcount, struct hd_dns_query *q)
{
	unsigned int i;

	for (i = 0; i < arcount; i++) {
		size_t owner = w->pos;
		uint16_t type, rclass, rdlen;
		uint32_t ttl;
		int root;

		if (hd_dns_name_skip(w) < 0)
			goto bad;
		/* A one-byte owner can only be the root. */
		root = w->pos == owner + 1;

		type = hd_wire_read_u16(w);
		rclass = hd_wire_read_u16(w);
		ttl = hd_wire_read_u32(w);
		rdlen = hd_wire_read_u16(w);
		hd_wire_skip(w, rdlen);
		if (!hd_wire_ok(w))
			goto bad;
		if (type != HD_DNS_TYPE_OPT)
			continue;
		if (q->has_edns || !root)
			goto bad;
		q->has_edns = 1;
		q->edns_size = rclass < HD_DNS_UDP_MIN ? HD_DNS_UDP_MIN : rclass;
		q->edns_version = (uint8_t)(ttl >> 16);
		q->do_bit = (ttl & OPT_DO) != 0;
	}
	return 0;
bad:
	q->has_edns = 0;
	q->edns_version = 0;
	q->do_bit = 0;
	q->edns_size = 0;
	return -1;
}

int
hd_dns_query_parse(const uint8_t *msg, size_t len, struct hd_dns_query *q)
{
	struct hd_wire w;
	uint16_t qdcount, ancount, nscount, arcount;
	int fmt_err, rc;

	q->question_end = 0;
	q->qname_len = 0;
	q->qtype = 0;
	q->qclass = 0;
	q->has_edns = 0;
	q->edns_version = 0;
	q->do_bit = 0;
	q->edns_size = 0;
	q->msg_len = 0;
	if (unlikely(len < HD_DNS_HDR_LEN || len > HD_DNS_MSG_MAX))
		return -EINVAL;
	q->msg_len = (uint16_t)len;
	hd_wire_init(&w, (void *)(uintptr_t)msg, len);
	q->id = hd_wire_read_u16(&w);
	q->flags = hd_wire_read_u16(&w);
	qdcount = hd_wire_read_u16(&w);
	ancount = hd_wire_read_u16(&w);
	nscount = hd_wire_read_u16(&w);
	arcount = hd_wire_read_u16(&w);
	if (unlikely(q->flags & HD_DNS_QR))
		return -EINVAL;
	/*
	 * Another opcode may lay its sections out differently: whatever fails
	 * to parse then, the answer is still NOTIMPL.
	 */
	fmt_err = (q->flags & HD_DNS_OPCODE_MASK) != 0 ?
		HD_DNS_RCODE_NOTIMPL : HD_DNS_RCODE_FORMERR;
	if (unlikely(qdcount != 1))
		return fmt_err;
	/* A packet that ends inside its question is truncated: drop, not FORMERR. */
	rc = read_qname(&w, q);
	if (unlikely(rc == -EMSGSIZE))
		return -EINVAL;
	if (unlikely(rc < 0))
		return fmt_err;
	q->qtype = hd_wire_read_u16(&w);
	q->qclass = hd_wire_read_u16(&w);
	if (unlikely(!hd_wire_ok(&w)))
		return -EINVAL;
	q->question_end = (uint16_t)w.pos;
	if (unlikely(ancount != 0 || nscount != 0))
		return fmt_err;
	if (arcount != 0 && unlikely(read_additional(&w, arcount, q) < 0))
		return fmt_err;
	if (unlikely(fmt_err != HD_DNS_RCODE_FORMERR))
		return fmt_err;
	if (unlikely(q->has_edns && q->edns_version != 0))
		return HD_DNS_RCODE_BADVERS;
	if (unlikely(q->qtype == HD_DNS_TYPE_AXFR || q->qtype == HD_DNS_TYPE_IXFR))
		return HD_DNS_RCODE_REFUSED;
	return 0;
}

int
hd_dns_query_write(uint8_t *msg, size_t cap, const struct hd_dns_query *q, uint16_t id)
{
	struct hd_wire w;
	/*
	 * AD asks the upstream to say whether it validated (RFC 6840 5.7);
	 * hd_dns_reply_answer() only passes it on to clients that asked.
	 */
	uint16_t flags = HD_DNS_RD | HD_DNS_AD | (q->flags & HD_DNS_CD);

	if (q->qname_len == 0 || q->qname_len > HD_DNS_NAME_MAX)
		return -EINVAL;
	hd_wire_init(&w, msg, cap);
	hd_wire_write_u16(&w, id);
	hd_wire_write_u16(&w, flags);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_bytes(&w, q->lname, q->qname_len);
	hd_wire_write_u16(&w, q->qtype);
	hd_wire_write_u16(&w, q->qclass);
	hd_wire_write_u8(&w, 0);
	hd_wire_write_u16(&w, HD_DNS_TYPE_OPT);
	hd_wire_write_u16(&w, hd_dns_edns_size());
	hd_wire_write_u32(&w, q->do_bit ? OPT_DO : 0);
	hd_wire_write_u16(&w, 0);
	return hd_wire_ok(&w) ? (int)w.pos : -ENOSPC;
}
