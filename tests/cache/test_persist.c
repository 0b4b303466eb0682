/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * CUnit suite for lib/cache/persist.c: a saved cache comes back with its
 * TTLs aged by the time it was down, and a file that is damaged, cut short,
 * foreign or lying about its size is refused without touching the cache.
 * The checksum is recomputed here by an independent bitwise CRC-32C, so the
 * structural checks behind it are tested too.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "hd_cache.h"
#include "hd_dns.h"

#define WALL0	1700000000u	/* wall clock at save */
#define T_SAVE	5000u		/* data-path clock of the saving process */
#define T_LOAD	7u		/* a rebooted machine's TSC starts near zero */
#define HDR_LEN	32

static char dir[64];
static char path[128];
static unsigned int cache_seq;

/* ---- helpers independent of the library ---- */

static uint32_t
crc32c_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Recompute the trailer after a deliberate change. */
static void
reseal(uint8_t *f, size_t len)
{
	put32(f + len - 4, crc32c_ref(f, len - 4));
}

static size_t
name_wire(uint8_t *out, const char *s)
{
	size_t n = 0;
	const char *dot;

	while (*s != '\0') {
		dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		out[n++] = (uint8_t)l;
		memcpy(out + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

static size_t
query_msg(uint8_t *m, const char *name, uint16_t qtype)
{
	size_t n = 12;

	memset(m, 0, 12);
	put16(m, 0x1234);
	put16(m + 2, HD_DNS_RD);
	put16(m + 4, 1);
	n += name_wire(m + n, name);
	put16(m + n, qtype);
	put16(m + n + 2, HD_DNS_CLASS_IN);
	return n + 4;
}

/* An upstream reply: a CNAME (when @p cname) then one A/AAAA record. */
static size_t
reply_msg(uint8_t *m, const char *name, uint16_t qtype, uint32_t ttl, int cname)
{
	size_t n = query_msg(m, name, qtype), rd;
	uint16_t an = 0;

	put16(m, 0x1234);
	put16(m + 2, HD_DNS_QR | HD_DNS_RD | HD_DNS_RA);
	if (cname) {
		put16(m + n, 0xc00c);
		put16(m + n + 2, HD_DNS_TYPE_CNAME);
		put16(m + n + 4, HD_DNS_CLASS_IN);
		put32(m + n + 6, ttl + 100);
		rd = name_wire(m + n + 12, "target.example");
		put16(m + n + 10, (uint16_t)rd);
		n += 12 + rd;
		an++;
	}
	put16(m + n, 0xc00c);
	put16(m + n + 2, qtype);
	put16(m + n + 4, HD_DNS_CLASS_IN);
	put32(m + n + 6, ttl);
	rd = qtype == HD_DNS_TYPE_AAAA ? 16 : 4;
	put16(m + n + 10, (uint16_t)rd);
	memset(m + n + 12, 0x42, rd);
	n += 12 + rd;
	an++;
	put16(m + 6, an);
	return n;
}

static void
query_parse(struct hd_dns_query *q, const char *name, uint16_t qtype)
{
	uint8_t m[512];
	size_t n = query_msg(m, name, qtype);

	CU_ASSERT_FATAL(hd_dns_query_parse(m, n, q) == 0);
}

static struct hd_cache *
cache_new(void)
{
	struct hd_cache_params p = { .max_entries = 1024, .socket_id = SOCKET_ID_ANY };
	char name[32];
	struct hd_cache *c;

	snprintf(name, sizeof(name), "persist%u", cache_seq++);
	p.name = name;
	c = hd_cache_create(&p);
	CU_ASSERT_FATAL(c != NULL);
	return c;
}

/* Insert the answer for @p name at data-path time @p now. */
static void
put(struct hd_cache *c, const char *name, uint16_t qtype, uint32_t ttl, uint32_t window,
    int cname, uint32_t now)
{
	struct hd_dns_answer_limits lim = { .stale_ttl = window };
	struct hd_cache_key k __rte_aligned(8);
	struct hd_dns_answer *a;
	struct hd_dns_query q;
	uint8_t m[512];
	size_t n;
	int err = 0;

	query_parse(&q, name, qtype);
	n = reply_msg(m, name, qtype, ttl, cname);
	a = hd_dns_answer_build(m, n, &q, now, &lim, &err);
	CU_ASSERT_FATAL(a != NULL);
	hd_cache_key_from_query(&k, &q);
	CU_ASSERT_FATAL(hd_cache_insert(c, &k, a, now) == 0);
}

static const struct hd_dns_answer *
get(struct hd_cache *c, const char *name, uint16_t qtype, uint32_t now, int *stale)
{
	struct hd_cache_key k __rte_aligned(8);
	struct hd_dns_query q;

	query_parse(&q, name, qtype);
	hd_cache_key_from_query(&k, &q);
	return hd_cache_lookup(c, &k, now, stale);
}

/* The TTL a client would see in the last record of the reply from @p a. */
static uint32_t
client_ttl(const struct hd_dns_answer *a, const char *name, uint16_t qtype, uint32_t now)
{
	uint8_t m[1024];
	struct hd_dns_query q;
	size_t n = query_msg(m, name, qtype);
	int len;

	CU_ASSERT_FATAL(hd_dns_query_parse(m, n, &q) == 0);
	len = hd_dns_reply_answer(m, sizeof(m), &q, a, now, 0, sizeof(m));
	CU_ASSERT_FATAL(len > 0);
	/* The last record is the address: its TTL sits 10 + rdlen bytes from the end. */
	return get32(m + len - (qtype == HD_DNS_TYPE_AAAA ? 16 : 4) - 6);
}

static uint8_t *
file_get(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *b;
	long n;

	CU_ASSERT_FATAL(f != NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_FATAL(fread(b, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void
file_put(const char *p, const uint8_t *b, size_t len)
{
	FILE *f = fopen(p, "wb");

	CU_ASSERT_FATAL(f != NULL);
	if (len > 0)
		CU_ASSERT_FATAL(fwrite(b, 1, len, f) == len);
	fclose(f);
}

/* A small saved cache: two entries, one with a CNAME. */
static uint8_t *
small_file(size_t *len)
{
	struct hd_cache *c = cache_new();

	put(c, "a.example", HD_DNS_TYPE_A, 300, 600, 0, T_SAVE);
	put(c, "www.example", HD_DNS_TYPE_AAAA, 300, 600, 1, T_SAVE);
	CU_ASSERT_FATAL(hd_cache_save(c, path, WALL0, T_SAVE) == 2);
	hd_cache_free(c);
	return file_get(path, len);
}

/* A saved cache of one A record without CNAME, for byte-exact forgeries. */
static uint8_t *
one_file(size_t *len)
{
	struct hd_cache *c = cache_new();

	put(c, "a.example", HD_DNS_TYPE_A, 300, 600, 0, T_SAVE);
	CU_ASSERT_FATAL(hd_cache_save(c, path, WALL0, T_SAVE) == 1);
	hd_cache_free(c);
	return file_get(path, len);
}

/* A cache holding one sentinel entry, to show a refused load changes nothing. */
static struct hd_cache *
sentinel_cache(void)
{
	struct hd_cache *c = cache_new();

	put(c, "sentinel.example", HD_DNS_TYPE_A, 300, 0, 0, T_LOAD);
	return c;
}

static int
untouched(struct hd_cache *c)
{
	struct hd_cache_stats s;

	hd_cache_stats_get(c, &s);
	return s.entries == 1 && s.inserts == 1 && s.evictions == 0 &&
	       get(c, "sentinel.example", HD_DNS_TYPE_A, T_LOAD, NULL) != NULL;
}

/* ---- tests ---- */

static void
test_round_trip(void)
{
	struct hd_cache *c = cache_new(), *d;
	const struct hd_dns_answer *a;
	struct stat sb;
	char tmp[160];
	int stale;

	/* Stored 10 s before the save; the file is loaded 50 s after it. */
	put(c, "a.example", HD_DNS_TYPE_A, 300, 600, 0, T_SAVE - 10);
	put(c, "six.example", HD_DNS_TYPE_AAAA, 100, 0, 0, T_SAVE - 10);
	put(c, "cname.example", HD_DNS_TYPE_A, 200, 0, 1, T_SAVE - 10);
	/* Expires during the downtime but stays within its stale window. */
	put(c, "stale.example", HD_DNS_TYPE_A, 30, 600, 0, T_SAVE - 10);
	/* Expires during the downtime with no window: not worth loading. */
	put(c, "gone.example", HD_DNS_TYPE_A, 30, 0, 0, T_SAVE - 10);
	/* Already dead at save time: not even written. */
	put(c, "dead.example", HD_DNS_TYPE_A, 5, 0, 0, T_SAVE - 10);
	CU_ASSERT_EQUAL(hd_cache_save(c, path, WALL0, T_SAVE), 5);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CU_ASSERT(stat(tmp, &sb) != 0);	/* renamed into place */
	hd_cache_free(c);

	d = cache_new();
	CU_ASSERT_EQUAL(hd_cache_load(d, path, WALL0 + 50, T_LOAD), 4);
	a = get(d, "a.example", HD_DNS_TYPE_A, T_LOAD, NULL);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(client_ttl(a, "a.example", HD_DNS_TYPE_A, T_LOAD), 240);
	CU_ASSERT_EQUAL(client_ttl(a, "a.example", HD_DNS_TYPE_A, T_LOAD + 40), 200);
	CU_ASSERT_EQUAL(a->expires, T_LOAD + 240);
	CU_ASSERT_EQUAL(a->stale_until, T_LOAD + 240 + 600);
	CU_ASSERT_EQUAL(a->ttl, 300);
	a = get(d, "six.example", HD_DNS_TYPE_AAAA, T_LOAD, NULL);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(client_ttl(a, "six.example", HD_DNS_TYPE_AAAA, T_LOAD), 40);
	a = get(d, "cname.example", HD_DNS_TYPE_A, T_LOAD, NULL);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(a->has_cname);
	CU_ASSERT_EQUAL(a->ancount, 2);
	CU_ASSERT_EQUAL(client_ttl(a, "cname.example", HD_DNS_TYPE_A, T_LOAD), 140);
	/* Stale: only for a caller that serves stale. */
	CU_ASSERT(get(d, "stale.example", HD_DNS_TYPE_A, T_LOAD, NULL) == NULL);
	a = get(d, "stale.example", HD_DNS_TYPE_A, T_LOAD, &stale);
	CU_ASSERT(a != NULL && stale == 1);
	CU_ASSERT(a != NULL && a->stale_until == T_LOAD + 30 + 600 - 60);
	CU_ASSERT(get(d, "gone.example", HD_DNS_TYPE_A, T_LOAD, &stale) == NULL);
	CU_ASSERT(get(d, "dead.example", HD_DNS_TYPE_A, T_LOAD, &stale) == NULL);
	hd_cache_free(d);

	/* Down longer than every window: nothing comes back. */
	d = cache_new();
	CU_ASSERT_EQUAL(hd_cache_load(d, path, WALL0 + 100000, T_LOAD), 0);
	hd_cache_free(d);

	/* A wall clock that went backwards ages nothing rather than wrapping. */
	d = cache_new();
	CU_ASSERT_EQUAL(hd_cache_load(d, path, WALL0 - 1000, T_LOAD), 5);
	a = get(d, "a.example", HD_DNS_TYPE_A, T_LOAD, NULL);
	CU_ASSERT(a != NULL && client_ttl(a, "a.example", HD_DNS_TYPE_A, T_LOAD) == 290);
	hd_cache_free(d);
}

static void
test_corrupt_every_byte(void)
{
	struct hd_cache *c = sentinel_cache();
	size_t len, i;
	uint8_t *f = small_file(&len), *g = malloc(len);
	unsigned int bad = 0;

	CU_ASSERT_FATAL(g != NULL);
	for (i = 0; i < len; i++) {
		memcpy(g, f, len);
		g[i] ^= (uint8_t)(1u << (i % 8));
		file_put(path, g, len);
		if (hd_cache_load(c, path, WALL0, T_LOAD) >= 0)
			bad++;
		memcpy(g, f, len);
		g[i] ^= 0xff;
		file_put(path, g, len);
		if (hd_cache_load(c, path, WALL0, T_LOAD) >= 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(untouched(c));
	/* The undamaged file still loads into the same cache. */
	file_put(path, f, len);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), 2);
	free(g);
	free(f);
	hd_cache_free(c);
}

static void
test_truncated_everywhere(void)
{
	struct hd_cache *c = sentinel_cache();
	size_t len, i;
	uint8_t *f = small_file(&len);
	unsigned int bad = 0;

	/* Length 0 included: an empty file. */
	for (i = 0; i < len; i++) {
		file_put(path, f, i);
		if (hd_cache_load(c, path, WALL0, T_LOAD) >= 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	file_put(path, f, 0);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EPROTO);
	CU_ASSERT(untouched(c));
	free(f);
	hd_cache_free(c);
}

static void
test_foreign(void)
{
	struct hd_cache *c = sentinel_cache();
	static const char text[] = "# not a cache\nserver: 1.1.1.1\n";
	size_t len;
	uint8_t *f = small_file(&len), *g = malloc(len);
	char missing[160];

	CU_ASSERT_FATAL(g != NULL);
	memcpy(g, f, len);
	memcpy(g, "HDCACHE2", 8);
	reseal(g, len);
	file_put(path, g, len);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EPROTO);

	memcpy(g, f, len);
	put32(g + 8, 2);
	reseal(g, len);
	file_put(path, g, len);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -ENOTSUP);

	file_put(path, (const uint8_t *)text, sizeof(text) - 1);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EPROTO);

	/* A directory where the file should be. */
	CU_ASSERT_EQUAL(hd_cache_load(c, dir, WALL0, T_LOAD), -EPROTO);

	snprintf(missing, sizeof(missing), "%s/none", dir);
	CU_ASSERT_EQUAL(hd_cache_load(c, missing, WALL0, T_LOAD), -ENOENT);
	CU_ASSERT(untouched(c));
	free(g);
	free(f);
	hd_cache_free(c);
}

static void
test_counts_not_trusted(void)
{
	struct hd_cache *c = sentinel_cache();
	size_t len;
	uint8_t *f = small_file(&len), *g = malloc(len + 64);
	int fd;

	CU_ASSERT_FATAL(g != NULL);
	/* Four billion entries claimed by a file of a few hundred bytes. */
	memcpy(g, f, len);
	put32(g + HDR_LEN - 8, UINT32_MAX);
	reseal(g, len);
	file_put(path, g, len);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EBADMSG);

	/* One entry more, or one fewer, than the file holds. */
	memcpy(g, f, len);
	put32(g + HDR_LEN - 8, 3);
	reseal(g, len);
	file_put(path, g, len);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EBADMSG);
	put32(g + HDR_LEN - 8, 1);
	reseal(g, len);
	file_put(path, g, len);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EBADMSG);

	/* Garbage appended behind the entries, checksum made good. */
	memcpy(g, f, len - 4);
	memset(g + len - 4, 0, 64);
	reseal(g, len + 60);
	file_put(path, g, len + 60);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EBADMSG);

	/* A file far bigger than this cache could have written is not read. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, f, HDR_LEN) == HDR_LEN);
	CU_ASSERT(ftruncate(fd, (off_t)64 << 30) == 0);	/* sparse */
	close(fd);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), -EFBIG);
	unlink(path);
	CU_ASSERT(untouched(c));
	free(g);
	free(f);
	hd_cache_free(c);
}

/* Offset of the first entry's fields after its name. */
static size_t
after_name(const uint8_t *f)
{
	return HDR_LEN + 6 + f[HDR_LEN + 5];
}

static void
forge(struct hd_cache *c, const uint8_t *f, size_t len, size_t off, const uint8_t *v,
      size_t n, const char *what)
{
	uint8_t *g = malloc(len);
	int rc;

	CU_ASSERT_FATAL(g != NULL);
	memcpy(g, f, len);
	memcpy(g + off, v, n);
	reseal(g, len);
	file_put(path, g, len);
	rc = hd_cache_load(c, path, WALL0, T_LOAD);
	if (rc != -EBADMSG)
		fprintf(stderr, "forged %s: loaded (%d)\n", what, rc);
	CU_ASSERT_EQUAL(rc, -EBADMSG);
	free(g);
}

static void
test_forged_entries(void)
{
	struct hd_cache *c = sentinel_cache();
	size_t len, e;
	uint8_t *f = one_file(&len), v[4];

	e = after_name(f);
	/* Fields after the name: age 0, ttl 4, stale 8, flags 12, an 14, ns 16,
	 * ar 18, n_ttl 20, len 22, negative 24, has_cname 25, ttl_off 26. */
	v[0] = 'A';
	forge(c, f, len, HDR_LEN + 7, v, 1, "uppercase name");
	v[0] = 64;
	forge(c, f, len, HDR_LEN + 6, v, 1, "label too long");
	v[0] = 0x80;
	forge(c, f, len, HDR_LEN + 4, v, 1, "unknown key flag");
	put32(v, 1000);
	forge(c, f, len, e + 4, v, 4, "ttl past the stale limit");
	put32(v, 900);
	forge(c, f, len, e, v, 4, "age past the stale limit");
	put16(v, HD_DNS_RCODE_SERVFAIL);
	forge(c, f, len, e + 12, v, 2, "uncacheable rcode");
	put16(v, HD_DNS_AA);
	forge(c, f, len, e + 12, v, 2, "AA flag");
	put16(v, 2);
	forge(c, f, len, e + 14, v, 2, "answer count");
	put16(v, 1);
	forge(c, f, len, e + 16, v, 2, "authority count");
	v[0] = 1;
	forge(c, f, len, e + 24, v, 1, "negative flag");
	forge(c, f, len, e + 25, v, 1, "CNAME flag");
	put16(v, 7);
	forge(c, f, len, e + 26, v, 2, "TTL offset off a TTL");
	put16(v, 0xfff0);
	forge(c, f, len, e + 26, v, 2, "TTL offset outside the data");
	/* The owner: a pointer forward, then one into the header. */
	put16(v, 0xc0ff);
	forge(c, f, len, e + 28, v, 2, "forward pointer");
	put16(v, 0xc002);
	forge(c, f, len, e + 28, v, 2, "pointer into the header");
	/* An RDLENGTH running past the data, then one stopping short of it. */
	put16(v, 200);
	forge(c, f, len, e + 28 + 10, v, 2, "rdlength");
	put16(v, 3);
	forge(c, f, len, e + 28 + 10, v, 2, "short rdlength");
	CU_ASSERT(untouched(c));
	/* The sane file still loads. */
	file_put(path, f, len);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), 1);
	free(f);
	hd_cache_free(c);
}

static void
test_save_errors(void)
{
	struct hd_cache *c = sentinel_cache();
	struct hd_cache_image img;
	char bad[160];

	snprintf(bad, sizeof(bad), "%s/no/such/dir/cache", dir);
	CU_ASSERT_EQUAL(hd_cache_save(c, bad, WALL0, T_LOAD), -ENOENT);
	CU_ASSERT_EQUAL(hd_cache_save(c, "", WALL0, T_LOAD), -EINVAL);
	/* An empty cache saves a valid empty file. */
	hd_cache_flush(c);
	CU_ASSERT_EQUAL(hd_cache_snapshot(c, WALL0, T_LOAD, &img), 0);
	CU_ASSERT_EQUAL(img.entries, 0);
	CU_ASSERT_EQUAL(img.len, HDR_LEN + 4);
	CU_ASSERT_EQUAL(hd_cache_image_write(&img, path), 0);
	hd_cache_image_free(&img);
	CU_ASSERT_EQUAL(hd_cache_load(c, path, WALL0, T_LOAD), 0);
	hd_cache_free(c);
}

int
main(void)
{
	char *eal_args[] = { "test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			     "--log-level=lib.*:error", "--log-level=hd.*:error", "-l", "0-1",
			     "--file-prefix=test_cache_persist" };
	CU_pSuite suite;
	int failed;

	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/hd_persist_XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/cache.bin", dir);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("cache_persist", NULL, NULL);
	if (suite == NULL ||
	    !CU_add_test(suite, "round trip with aging", test_round_trip) ||
	    !CU_add_test(suite, "a damaged byte anywhere is refused", test_corrupt_every_byte) ||
	    !CU_add_test(suite, "truncated at every length", test_truncated_everywhere) ||
	    !CU_add_test(suite, "foreign files", test_foreign) ||
	    !CU_add_test(suite, "counts and sizes not trusted", test_counts_not_trusted) ||
	    !CU_add_test(suite, "forged entries with a good checksum", test_forged_entries) ||
	    !CU_add_test(suite, "save errors and an empty cache", test_save_errors)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() != 0 || CU_get_number_of_tests_failed() != 0;
	CU_cleanup_registry();
	unlink(path);
	rmdir(dir);
	rte_eal_cleanup();
	return failed;
}
