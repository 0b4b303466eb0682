/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_DNS_TEST_H
#define HD_DNS_TEST_H

/*
 * Helpers for the lib/dns suites: a hand message builder (so tests control
 * every byte, pointers included) and a reader written independently of
 * lib/dns, so a bug in the library cannot hide itself by being used to
 * check its own output.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../hd_test.h"

/* ---- builder ---------------------------------------------------------- */

struct tmsg {
	uint8_t b[65536];
	size_t n;
};

static inline void
tm_init(struct tmsg *m)
{
	m->n = 0;
}

static inline void
tm_u8(struct tmsg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static inline void
tm_u16(struct tmsg *m, uint16_t v)
{
	tm_u8(m, (uint8_t)(v >> 8));
	tm_u8(m, (uint8_t)v);
}

static inline void
tm_u32(struct tmsg *m, uint32_t v)
{
	tm_u16(m, (uint16_t)(v >> 16));
	tm_u16(m, (uint16_t)v);
}

static inline void
tm_bytes(struct tmsg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Labels of a dotted name ("a.b"), no root byte; "" writes nothing. */
static inline void
tm_labels(struct tmsg *m, const char *s)
{
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		tm_u8(m, (uint8_t)l);
		tm_bytes(m, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
}

/* Uncompressed name; "" or "." is the root. */
static inline void
tm_name(struct tmsg *m, const char *s)
{
	if (strcmp(s, ".") != 0)
		tm_labels(m, s);
	tm_u8(m, 0);
}

static inline void
tm_ptr(struct tmsg *m, uint16_t off)
{
	tm_u16(m, (uint16_t)(0xc000 | off));
}

static inline void
tm_hdr(struct tmsg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
       uint16_t ns, uint16_t ar)
{
	tm_u16(m, id);
	tm_u16(m, flags);
	tm_u16(m, qd);
	tm_u16(m, an);
	tm_u16(m, ns);
	tm_u16(m, ar);
}

/* After the owner: type, class, ttl, a placeholder rdlength. @return its offset. */
static inline size_t
tm_rr(struct tmsg *m, uint16_t type, uint16_t rclass, uint32_t ttl)
{
	size_t at;

	tm_u16(m, type);
	tm_u16(m, rclass);
	tm_u32(m, ttl);
	at = m->n;
	tm_u16(m, 0);
	return at;
}

static inline void
tm_rr_end(struct tmsg *m, size_t at)
{
	size_t l = m->n - at - 2;

	m->b[at] = (uint8_t)(l >> 8);
	m->b[at + 1] = (uint8_t)l;
}

static inline void
tm_opt(struct tmsg *m, uint16_t size, uint8_t version, int do_bit)
{
	tm_u8(m, 0);
	tm_u16(m, 41);
	tm_u16(m, size);
	tm_u32(m, ((uint32_t)version << 16) | (do_bit ? 0x8000u : 0));
	tm_u16(m, 0);
}

/* A client query: header, one question, optional OPT. */
static inline void
tm_query(struct tmsg *m, uint16_t id, uint16_t flags, const char *qname,
	 uint16_t qtype, int edns, uint16_t size, uint8_t version, int do_bit)
{
	tm_init(m);
	tm_hdr(m, id, flags, 1, 0, 0, edns ? 1 : 0);
	tm_name(m, qname);
	tm_u16(m, qtype);
	tm_u16(m, 1);
	if (edns)
		tm_opt(m, size, version, do_bit);
}

/* ---- independent reader ----------------------------------------------- */

static inline uint16_t
tr_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
tr_u32(const uint8_t *p)
{
	return (uint32_t)tr_u16(p) << 16 | tr_u16(p + 2);
}

/* Set by the reader when a rule is broken; tests assert it stays 0. */
static int tr_bad_pointer;

/*
 * Read a name at *pos of msg[0..len), lowercased into out. Pointers must
 * point before the byte that holds them; at most 64 are followed.
 * @return the wire length, or -1.
 */
static inline int
tr_name(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out)
{
	size_t p = *pos, end = 0, n = 0;
	int hops = 0;

	for (;;) {
		if (p >= len)
			return -1;
		if (msg[p] == 0) {
			out[n++] = 0;
			if (!hops)
				end = p + 1;
			break;
		}
		if ((msg[p] & 0xc0) == 0xc0) {
			size_t t;

			if (p + 1 >= len)
				return -1;
			t = (size_t)(msg[p] & 0x3f) << 8 | msg[p + 1];
			if (t >= p) {
				tr_bad_pointer = 1;
				return -1;
			}
			if (!hops)
				end = p + 2;
			if (++hops > 64)
				return -1;
			p = t;
			continue;
		}
		if (msg[p] > 63 || p + 1 + msg[p] > len || n + 1 + msg[p] > 254)
			return -1;
		out[n++] = msg[p];
		for (size_t i = 1; i <= msg[p]; i++) {
			uint8_t c = msg[p + i];

			out[n++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
		}
		p += 1 + msg[p];
	}
	*pos = end;
	return (int)n;
}

/* A parsed RR with its RDATA names decompressed and lowercased. */
struct trr {
	uint8_t owner[256];
	int owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	uint8_t rd[4096];	/* decompressed RDATA */
	size_t rd_len;
	const uint8_t *raw;	/* RDATA as it stands in the message */
	size_t raw_len;
	size_t ttl_at;		/* offset of the TTL field */
	int sec;		/* 0 answer, 1 authority, 2 additional */
};

#define TR_MAX_RR 64

struct tparsed {
	uint16_t id, flags, qd, an, ns, ar;
	uint8_t qname[256];	/* exactly as in the message */
	int qname_len;
	uint16_t qtype, qclass;
	int n_rr;
	struct trr rr[TR_MAX_RR];
	/* OPT, if one was in the additional section */
	int has_opt;
	uint16_t opt_class;
	uint32_t opt_ttl;
	uint16_t opt_rdlen;
	size_t end;		/* bytes consumed */
};

/*
 * Field codes of the test's own RDATA model: 'N' name, 'S' character-string,
 * digits a fixed field, 'F' 20 fixed bytes, 'G' 18, 'R' the rest.
 */
static inline const char *
tr_layout(uint16_t type)
{
	switch (type) {
	case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 39:
		return "N";
	case 6:
		return "NNF";	/* F: 20 bytes */
	case 14: case 17:
		return "NN";
	case 15: case 18: case 21: case 36:
		return "2N";
	case 26:
		return "2NN";
	case 33:
		return "6N";
	case 35:
		return "4SSSN";
	case 24:
		return "GNR";
	case 30:
		return "NR";
	default:
		return NULL;
	}
}

static inline int
tr_rdata(const uint8_t *msg, size_t len, size_t pos, size_t rdlen, struct trr *r)
{
	const char *lay = tr_layout(r->type);
	size_t end = pos + rdlen;

	r->raw = msg + pos;
	r->raw_len = rdlen;
	r->rd_len = 0;
	if (lay == NULL) {
		memcpy(r->rd, msg + pos, rdlen);
		r->rd_len = rdlen;
		return 0;
	}
	for (; *lay; lay++) {
		size_t n;
		int l;

		switch (*lay) {
		case 'N':
			l = tr_name(msg, len, &pos, r->rd + r->rd_len);
			if (l < 0 || pos > end)
				return -1;
			r->rd_len += (size_t)l;
			continue;
		case 'S':
			if (pos >= end)
				return -1;
			n = 1 + msg[pos];
			break;
		case 'F':
			n = 20;
			break;
		case 'G':
			n = 18;
			break;
		case 'R':
			n = end - pos;
			break;
		default:
			n = (size_t)(*lay - '0');
			break;
		}
		if (pos + n > end)
			return -1;
		memcpy(r->rd + r->rd_len, msg + pos, n);
		r->rd_len += n;
		pos += n;
	}
	return pos == end ? 0 : -1;
}

/* Parse a whole message. @return 0 or -1. */
static inline int
tr_parse(const uint8_t *msg, size_t len, struct tparsed *t)
{
	size_t pos = 12;
	unsigned int i, total;

	memset(t, 0, sizeof(*t));
	if (len < 12)
		return -1;
	t->id = tr_u16(msg);
	t->flags = tr_u16(msg + 2);
	t->qd = tr_u16(msg + 4);
	t->an = tr_u16(msg + 6);
	t->ns = tr_u16(msg + 8);
	t->ar = tr_u16(msg + 10);
	if (t->qd > 1)
		return -1;
	if (t->qd == 1) {
		uint8_t tmp[256];
		size_t start = pos;

		if (tr_name(msg, len, &pos, tmp) < 0 || pos + 4 > len)
			return -1;
		t->qname_len = (int)(pos - start);
		memcpy(t->qname, msg + start, pos - start);
		t->qtype = tr_u16(msg + pos);
		t->qclass = tr_u16(msg + pos + 2);
		pos += 4;
	}
	total = (unsigned int)t->an + t->ns + t->ar;
	for (i = 0; i < total; i++) {
		struct trr *r;
		uint8_t owner[256];
		int ol = tr_name(msg, len, &pos, owner);
		uint16_t rdlen;

		if (ol < 0 || pos + 10 > len)
			return -1;
		rdlen = tr_u16(msg + pos + 8);
		if (pos + 10 + rdlen > len)
			return -1;
		if (tr_u16(msg + pos) == 41) {
			if (t->has_opt || i < (unsigned int)t->an + t->ns || ol != 1)
				return -1;
			t->has_opt = 1;
			t->opt_class = tr_u16(msg + pos + 2);
			t->opt_ttl = tr_u32(msg + pos + 4);
			t->opt_rdlen = rdlen;
			pos += 10 + rdlen;
			continue;
		}
		if (t->n_rr >= TR_MAX_RR)
			return -1;
		r = &t->rr[t->n_rr++];
		memcpy(r->owner, owner, (size_t)ol);
		r->owner_len = ol;
		r->type = tr_u16(msg + pos);
		r->rclass = tr_u16(msg + pos + 2);
		r->ttl_at = pos + 4;
		r->ttl = tr_u32(msg + pos + 4);
		r->sec = i < t->an ? 0 : i < (unsigned int)t->an + t->ns ? 1 : 2;
		pos += 10;
		if (tr_rdata(msg, len, pos, rdlen, r) < 0)
			return -1;
		pos += rdlen;
	}
	t->end = pos;
	return 0;
}

#endif /* HD_DNS_TEST_H */
