/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Cache entries as Redis keys and values (format v1, see hd_replica.h).
 *
 * A value is checked by rebuilding it: the stored sections are laid out
 * after a header and the question they answer, and hd_dns_answer_build()
 * (the code that builds every entry from an upstream reply) parses that
 * reply with its usual rigour. The value is accepted only when the result
 * is the entry the value describes, TTL fields aside, so whatever Redis
 * hands back is something this heimdall could have written itself.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hd_replica.h"
#include "hd_wire.h"

/* A reply must keep room for header, question and our OPT. */
#define DATA_MAX (UINT16_MAX - HD_DNS_HDR_LEN - HD_DNS_NAME_MAX - 4 - HD_DNS_OPT_LEN)

int
hd_replica_key(const char *prefix, const struct hd_cache_key *k, char *out, size_t cap)
{
	char name[4 * HD_DNS_NAME_MAX + 2];
	size_t plen = prefix != NULL ? strlen(prefix) : 0;
	int n;

	if (plen == 0 || plen > HD_REPLICA_PREFIX_MAX || k->name_len == 0)
		return -EINVAL;
	if (hd_dns_name_to_str(k->name, k->name_len, name, sizeof(name)) < 0)
		return -EINVAL;
	n = snprintf(out, cap, "%s:v%u:%u:%u:%u:%s", prefix, HD_REPLICA_VERSION, k->qtype,
		     k->qclass, k->flags, name);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

size_t
hd_replica_value_len(const struct hd_cache_key *k, const struct hd_dns_answer *a)
{
	return HD_REPLICA_VALUE_FIXED + k->name_len + (size_t)a->n_ttl * 2 + a->len;
}

int
hd_replica_encode(const struct hd_cache_key *k, const struct hd_dns_answer *a,
		  uint32_t now, uint8_t *out, size_t cap, uint32_t *left_ms)
{
	const uint16_t *offs = hd_dns_answer_ttl_offs(a);
	uint32_t age = now > a->stored ? now - a->stored : 0, t;
	size_t data_at;
	struct hd_wire w;
	unsigned int i;

	if (now >= a->expires)
		return -ESTALE;
	if (hd_replica_value_len(k, a) > cap)
		return -ENOSPC;
	*left_ms = (a->expires - now) * 1000;
	hd_wire_init(&w, out, cap);
	hd_wire_write_bytes(&w, HD_REPLICA_MAGIC, 4);
	hd_wire_write_u16(&w, HD_REPLICA_VERSION);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u32(&w, a->ttl);
	hd_wire_write_u32(&w, *left_ms);
	hd_wire_write_u16(&w, a->flags);
	hd_wire_write_u16(&w, a->ancount);
	hd_wire_write_u16(&w, a->nscount);
	hd_wire_write_u16(&w, a->arcount);
	hd_wire_write_u16(&w, a->n_ttl);
	hd_wire_write_u16(&w, a->len);
	hd_wire_write_u16(&w, k->qtype);
	hd_wire_write_u16(&w, k->qclass);
	hd_wire_write_u8(&w, k->flags);
	hd_wire_write_u8(&w, k->name_len);
	hd_wire_write_bytes(&w, k->name, k->name_len);
	for (i = 0; i < a->n_ttl; i++)
		hd_wire_write_u16(&w, offs[i]);
	data_at = w.pos;
	hd_wire_write_bytes(&w, hd_dns_answer_data(a), a->len);
	if (!hd_wire_ok(&w))
		return -ENOSPC;
	/* Another node reads the TTLs as they are now, not as received. */
	for (i = 0; i < a->n_ttl; i++) {
		t = hd_wire_get_u32_at(&w, data_at + offs[i]);
		hd_wire_put_u32_at(&w, data_at + offs[i], t > age ? t - age : 0);
	}
	return (int)w.pos;
}

/* The fields of a value, pointing into it. */
struct value {
	uint32_t ttl, left_ms;
	uint16_t flags, ancount, nscount, arcount, n_ttl, len;
	struct hd_cache_key key;
	const uint8_t *offs;	/* n_ttl big-endian u16 */
	const uint8_t *data;
};

static int
value_read(const uint8_t *v, size_t len, struct value *x)
{
	struct hd_wire w;
	uint16_t version, reserved;

	if (len < 4 || memcmp(v, HD_REPLICA_MAGIC, 4) != 0)
		return -EPROTO;
	hd_wire_init(&w, (uint8_t *)(uintptr_t)v, len);
	hd_wire_skip(&w, 4);
	version = hd_wire_read_u16(&w);
	if (!hd_wire_ok(&w))
		return -EBADMSG;
	if (version != HD_REPLICA_VERSION)
		return -ENOTSUP;
	reserved = hd_wire_read_u16(&w);
	x->ttl = hd_wire_read_u32(&w);
	x->left_ms = hd_wire_read_u32(&w);
	x->flags = hd_wire_read_u16(&w);
	x->ancount = hd_wire_read_u16(&w);
	x->nscount = hd_wire_read_u16(&w);
	x->arcount = hd_wire_read_u16(&w);
	x->n_ttl = hd_wire_read_u16(&w);
	x->len = hd_wire_read_u16(&w);
	memset(&x->key, 0, sizeof(x->key));
	x->key.qtype = hd_wire_read_u16(&w);
	x->key.qclass = hd_wire_read_u16(&w);
	x->key.flags = hd_wire_read_u8(&w);
	x->key.name_len = hd_wire_read_u8(&w);
	hd_wire_read_bytes(&w, x->key.name, x->key.name_len);
	x->offs = hd_wire_take(&w, (size_t)x->n_ttl * 2);
	x->data = hd_wire_take(&w, x->len);
	if (!hd_wire_ok(&w) || hd_wire_left(&w) != 0 || reserved != 0)
		return -EBADMSG;
	if ((uint32_t)x->ancount + x->nscount + x->arcount != x->n_ttl ||
	    x->len > DATA_MAX || x->ttl > INT32_MAX ||
	    (uint64_t)x->left_ms > (uint64_t)x->ttl * 1000)
		return -EBADMSG;
	return 0;
}

static inline uint16_t
off_at(const struct value *x, unsigned int i)
{
	return (uint16_t)(x->offs[2 * i] << 8 | x->offs[2 * i + 1]);
}

/*
 * Lay the value out as the reply it came from, TTLs aged by @p age s, in
 * @p msg (UINT16_MAX + 1 bytes). @return the reply length, or -EBADMSG.
 */
static int
reply_layout(const struct value *x, uint32_t age, uint8_t *msg)
{
	size_t qend = HD_DNS_HDR_LEN + x->key.name_len + 4;
	struct hd_wire w;
	unsigned int i;
	uint32_t t;

	hd_wire_init(&w, msg, UINT16_MAX + 1);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, HD_DNS_QR | HD_DNS_RD | HD_DNS_RA | x->flags);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, x->ancount);
	hd_wire_write_u16(&w, x->nscount);
	hd_wire_write_u16(&w, x->arcount);
	hd_wire_write_bytes(&w, x->key.name, x->key.name_len);
	hd_wire_write_u16(&w, x->key.qtype);
	hd_wire_write_u16(&w, x->key.qclass);
	hd_wire_write_bytes(&w, x->data, x->len);
	if (!hd_wire_ok(&w))
		return -EBADMSG;
	for (i = 0; i < x->n_ttl; i++) {
		/* A wrong offset is caught by the comparison with the rebuilt entry. */
		if ((size_t)off_at(x, i) + 4 > x->len)
			return -EBADMSG;
		t = hd_wire_get_u32_at(&w, qend + off_at(x, i));
		hd_wire_put_u32_at(&w, qend + off_at(x, i), t > age ? t - age : 0);
	}
	return (int)w.pos;
}

/* Is @p a the entry @p x describes, its TTL fields aside? */
static bool
same_entry(const struct value *x, const struct hd_dns_answer *a, const uint8_t *aged)
{
	const uint16_t *offs = hd_dns_answer_ttl_offs(a);
	const uint8_t *d = hd_dns_answer_data(a);
	size_t pos = 0;
	unsigned int i;

	if (a->ancount != x->ancount || a->nscount != x->nscount || a->arcount != x->arcount ||
	    a->n_ttl != x->n_ttl || a->len != x->len || a->flags != x->flags)
		return false;
	for (i = 0; i < a->n_ttl; i++) {
		if (offs[i] != off_at(x, i) || offs[i] < pos)
			return false;
		if (memcmp(d + pos, aged + pos, offs[i] - pos) != 0)
			return false;
		pos = (size_t)offs[i] + 4;
	}
	return memcmp(d + pos, aged + pos, a->len - pos) == 0;
}

struct hd_dns_answer *
hd_replica_decode(const uint8_t *v, size_t len, const struct hd_dns_query *q, uint32_t age_ms,
		  uint32_t now, const struct hd_dns_answer_limits *lim, int *err)
{
	struct hd_dns_answer *a;
	struct hd_cache_key want;
	uint32_t left, stale;
	struct value x;
	uint8_t *msg;
	int n;

	*err = value_read(v, len, &x);
	if (*err < 0)
		return NULL;
	hd_cache_key_from_query(&want, q);
	if (want.qtype != x.key.qtype || want.qclass != x.key.qclass ||
	    want.flags != x.key.flags || want.name_len != x.key.name_len ||
	    memcmp(want.name, x.key.name, want.name_len) != 0) {
		*err = -EPROTO;
		return NULL;
	}
	if (age_ms >= x.left_ms || (x.left_ms - age_ms) / 1000 == 0) {
		*err = -ESTALE;
		return NULL;
	}
	left = (x.left_ms - age_ms) / 1000;
	msg = malloc(UINT16_MAX + 1);
	if (msg == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	n = reply_layout(&x, (age_ms + 999) / 1000, msg);
	a = n < 0 ? NULL : hd_dns_answer_build(msg, (size_t)n, q, now, lim, err);
	if (n < 0)
		*err = -EBADMSG;
	else if (a == NULL && *err != -ENOMEM)
		*err = -EBADMSG;
	if (a != NULL && !same_entry(&x, a, msg + HD_DNS_HDR_LEN + x.key.name_len + 4)) {
		free(a);
		a = NULL;
		*err = -EBADMSG;
	}
	free(msg);
	if (a == NULL)
		return NULL;
	/* Never longer than Redis keeps it, whatever a SOA's MINIMUM says. */
	if (a->expires > now + left) {
		stale = a->stale_until - a->expires;
		a->expires = now + left;
		a->stale_until = a->expires + stale;
	}
	a->ttl = x.ttl > left ? x.ttl : left;
	*err = 0;
	return a;
}
