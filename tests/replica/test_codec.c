/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * lib/replica/codec.c: cache entries as Redis keys and values. What another
 * node reads back must be the entry this one cached, aged; anything else in
 * Redis (cut short, another program's value, another format version, a
 * value for another question) must be refused, never half-used.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hd_replica.h"
#include "hd_wire.h"
#include "../hd_test.h"

#define T0 1000u

static const struct hd_dns_answer_limits lim = { 0, 0, 0, 60 };

/* "www.example.com" in wire form. */
static const uint8_t WWW[] = "\3www\7example\3com";
#define WWW_LEN 17

static size_t
query_make(uint8_t *buf, const uint8_t *name, size_t nlen, uint16_t qtype)
{
	struct hd_wire w;

	hd_wire_init(&w, buf, 512);
	hd_wire_write_u16(&w, 0x1234);
	hd_wire_write_u16(&w, HD_DNS_RD);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_bytes(&w, name, nlen);
	hd_wire_write_u16(&w, qtype);
	hd_wire_write_u16(&w, 1);
	return w.pos;
}

/* A reply for www.example.com A: a CNAME to web.example.com and two A records. */
static size_t
reply_make(uint8_t *buf)
{
	static const uint8_t web[] = "\3web\7example\3com";
	struct hd_wire w;
	size_t n = query_make(buf, WWW, WWW_LEN, HD_DNS_TYPE_A);
	unsigned int i;

	hd_wire_init(&w, buf, 1024);
	hd_wire_put_u16_at(&w, 2, HD_DNS_QR | HD_DNS_RD | HD_DNS_RA);
	hd_wire_put_u16_at(&w, 6, 3);
	hd_wire_seek(&w, n);
	hd_wire_write_u16(&w, 0xc00c);
	hd_wire_write_u16(&w, HD_DNS_TYPE_CNAME);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u32(&w, 300);
	hd_wire_write_u16(&w, sizeof(web));
	hd_wire_write_bytes(&w, web, sizeof(web));
	for (i = 0; i < 2; i++) {
		hd_wire_write_bytes(&w, web, sizeof(web));
		hd_wire_write_u16(&w, HD_DNS_TYPE_A);
		hd_wire_write_u16(&w, 1);
		hd_wire_write_u32(&w, 120 + i);
		hd_wire_write_u16(&w, 4);
		hd_wire_write_u32(&w, 0xc0000201 + i);
	}
	return hd_wire_ok(&w) ? w.pos : 0;
}

static struct hd_dns_query q;
static struct hd_cache_key key;
static struct hd_dns_answer *orig;
static uint8_t val[4096];
static int val_len;
static uint32_t left_ms;

static int
suite_init(void)
{
	uint8_t msg[1024];
	size_t n;
	int err;

	n = query_make(msg, WWW, WWW_LEN, HD_DNS_TYPE_A);
	if (hd_dns_query_parse(msg, n, &q) != 0)
		return -1;
	hd_cache_key_from_query(&key, &q);
	n = reply_make(msg);
	if (n == 0)
		return -1;
	orig = hd_dns_answer_build(msg, n, &q, T0, &lim, &err);
	if (orig == NULL) {
		fprintf(stderr, "reply not built: %d\n", err);
		return -1;
	}
	/* Written 10 s after it was cached. */
	val_len = hd_replica_encode(&key, orig, T0 + 10, val, sizeof(val), &left_ms);
	return val_len > 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	free(orig);
	return 0;
}

static uint32_t
ttl_at(const struct hd_dns_answer *a, unsigned int i)
{
	const uint8_t *d = hd_dns_answer_data(a) + hd_dns_answer_ttl_offs(a)[i];

	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

static void
test_key(void)
{
	char k[HD_REPLICA_KEY_MAX];
	struct hd_cache_key odd = key;

	CU_ASSERT_EQUAL(hd_replica_key("heimdall", &key, k, sizeof(k)),
			(int)strlen("heimdall:v1:1:1:0:www.example.com."));
	CU_ASSERT_STRING_EQUAL(k, "heimdall:v1:1:1:0:www.example.com.");
	odd.flags = HD_CACHE_KEY_DO;
	odd.qtype = HD_DNS_TYPE_AAAA;
	odd.name[1] = ' ';
	CU_ASSERT(hd_replica_key("c1", &odd, k, sizeof(k)) > 0);
	CU_ASSERT_STRING_EQUAL(k, "c1:v1:28:1:1:\\032ww.example.com.");
	CU_ASSERT_EQUAL(hd_replica_key("", &key, k, sizeof(k)), -EINVAL);
	CU_ASSERT_EQUAL(hd_replica_key("heimdall", &key, k, 10), -ENOSPC);
}

static void
test_round_trip(void)
{
	struct hd_dns_answer *a;
	unsigned int i;
	int err = 1;

	/* The entry lives 120 s: 110 s left when written. */
	CU_ASSERT_EQUAL(left_ms, 110000);
	CU_ASSERT_EQUAL((size_t)val_len, hd_replica_value_len(&key, orig));
	/* Read 5.5 s after it was written, on a node whose clock says 50000. */
	a = hd_replica_decode(val, (size_t)val_len, &q, 5500, 50000, &lim, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(a->ancount, 3);
	CU_ASSERT_EQUAL(a->n_ttl, orig->n_ttl);
	CU_ASSERT_EQUAL(a->len, orig->len);
	CU_ASSERT_EQUAL(a->has_cname, 1);
	CU_ASSERT_EQUAL(a->negative, 0);
	CU_ASSERT_EQUAL(a->stored, 50000);
	/* 104.5 s left; never more than Redis keeps it. */
	CU_ASSERT_EQUAL(a->expires, 50000 + 104);
	CU_ASSERT(a->stale_until >= a->expires);
	/* Aged 10 s at write, 6 s (rounded up) at read. */
	CU_ASSERT_EQUAL(ttl_at(a, 0), 300 - 16);
	CU_ASSERT_EQUAL(ttl_at(a, 1), 120 - 16);
	CU_ASSERT_EQUAL(ttl_at(a, 2), 121 - 16);
	for (i = 0; i < a->n_ttl; i++)
		CU_ASSERT_EQUAL(hd_dns_answer_ttl_offs(a)[i], hd_dns_answer_ttl_offs(orig)[i]);
	free(a);
}

static void
test_expired(void)
{
	int err = 0;
	uint32_t left;

	CU_ASSERT_PTR_NULL(hd_replica_decode(val, (size_t)val_len, &q, left_ms, 50000, &lim,
					     &err));
	CU_ASSERT_EQUAL(err, -ESTALE);
	/* Nothing is written for an entry with no time left. */
	CU_ASSERT_EQUAL(hd_replica_encode(&key, orig, orig->expires, val + 2048, 2048, &left),
			-ESTALE);
	CU_ASSERT_EQUAL(hd_replica_encode(&key, orig, T0, val + 2048, 16, &left), -ENOSPC);
}

static void
test_every_truncation(void)
{
	struct hd_dns_answer *a;
	int n, err;

	for (n = 0; n < val_len; n++) {
		err = 0;
		a = hd_replica_decode(val, (size_t)n, &q, 0, 50000, &lim, &err);
		CU_ASSERT_PTR_NULL(a);
		CU_ASSERT(err == (n < 4 ? -EPROTO : -EBADMSG));
		free(a);
	}
	/* One byte too many is no better. */
	val[val_len] = 0;
	a = hd_replica_decode(val, (size_t)val_len + 1, &q, 0, 50000, &lim, &err);
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_EQUAL(err, -EBADMSG);
	free(a);
}

/* Decode a copy of the value with byte @p at set to @p v. @return err. */
static int
decode_patched(size_t at, uint8_t v)
{
	uint8_t copy[4096];
	struct hd_dns_answer *a;
	int err = 0;

	memcpy(copy, val, (size_t)val_len);
	copy[at] = v;
	a = hd_replica_decode(copy, (size_t)val_len, &q, 0, 50000, &lim, &err);
	free(a);
	return a == NULL ? err : 0;
}

static void
test_version_mismatch(void)
{
	/* version u16 at offset 4 */
	CU_ASSERT_EQUAL(decode_patched(5, 2), -ENOTSUP);
	CU_ASSERT_EQUAL(decode_patched(4, 1), -ENOTSUP);
	CU_ASSERT_EQUAL(decode_patched(5, 0), -ENOTSUP);
}

static void
test_foreign_and_garbage(void)
{
	static const char *const junk[] = { "OK", "hello world", "HDRV", "HDR" };
	uint8_t rnd[512], msg[512];
	struct hd_dns_query other;
	struct hd_dns_answer *a;
	unsigned int i, j;
	size_t n;
	int err;

	for (i = 0; i < RTE_DIM(junk); i++) {
		err = 0;
		a = hd_replica_decode((const uint8_t *)junk[i], strlen(junk[i]), &q, 0, 50000,
				      &lim, &err);
		CU_ASSERT_PTR_NULL(a);
		CU_ASSERT(err == -EPROTO || err == -EBADMSG);
	}
	srand(5);
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < sizeof(rnd); j++)
			rnd[j] = (uint8_t)rand();
		/* Random bytes after our own magic and version. */
		if (i % 2 == 0)
			memcpy(rnd, val, 6);
		a = hd_replica_decode(rnd, 1 + (size_t)rand() % sizeof(rnd), &q, 0, 50000,
				      &lim, &err);
		CU_ASSERT_PTR_NULL(a);
		free(a);
	}
	/* A good value read for another question (planted under another key). */
	n = query_make(msg, (const uint8_t *)"\3ftp\7example\3com", WWW_LEN, HD_DNS_TYPE_A);
	CU_ASSERT_FATAL(hd_dns_query_parse(msg, n, &other) == 0);
	a = hd_replica_decode(val, (size_t)val_len, &other, 0, 50000, &lim, &err);
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_EQUAL(err, -EPROTO);
	free(a);
	/* Reserved field, counts, a TTL offset, the rcode, a name byte in the data. */
	CU_ASSERT_EQUAL(decode_patched(7, 1), -EBADMSG);
	CU_ASSERT_EQUAL(decode_patched(21, 2), -EBADMSG);
	CU_ASSERT_EQUAL(decode_patched(25, 2), -EBADMSG);
	CU_ASSERT_EQUAL(decode_patched(HD_REPLICA_VALUE_FIXED + WWW_LEN + 1, 9), -EBADMSG);
	CU_ASSERT_EQUAL(decode_patched(17, 5), -EBADMSG);
	CU_ASSERT_EQUAL(decode_patched(HD_REPLICA_VALUE_FIXED + WWW_LEN + 6 + 12, 0x44),
			-EBADMSG);
	/* Time left beyond the TTL it claims. */
	CU_ASSERT_EQUAL(decode_patched(12, 0xff), -EBADMSG);
}

int
main(void)
{
	static const struct t_case cases[] = {
		{ "key", test_key },
		{ "round trip", test_round_trip },
		{ "expired", test_expired },
		{ "every truncation", test_every_truncation },
		{ "version mismatch", test_version_mismatch },
		{ "foreign and garbage", test_foreign_and_garbage },
	};

	return t_run_suite("replica_codec", suite_init, suite_clean, cases, T_DIM(cases));
}
