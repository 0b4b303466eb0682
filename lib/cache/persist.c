/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Saving the cache to a file and loading it back, so a restart starts warm.
 *
 * File format, version 1, every integer big-endian:
 *
 *   header   magic "HDCACHE1" (8), version u32, flags u32 (0),
 *            created u64 (wall-clock seconds), count u32, reserved u32 (0)
 *   count x  qtype u16, qclass u16, key flags u8, name_len u8, name,
 *            age u32 (seconds since stored, at save time),
 *            ttl u32 (expiry - stored), stale u32 (stale limit - stored),
 *            flags u16, ancount u16, nscount u16, arcount u16, n_ttl u16,
 *            len u16, negative u8, has_cname u8,
 *            ttl_off u16 x n_ttl, data (len bytes)
 *   trailer  CRC-32C u32 of every byte before it
 *
 * The data-path clock (TSC seconds) means nothing to another process, so
 * ages are kept relative: an entry's age at load is its age at save plus
 * the wall-clock time between save and load. TTL fields are rewritten to
 * the time left and the entry is stored "now": the TSC restarts near zero
 * after a reboot, so "now - age" could be before it began.
 *
 * Loading trusts nothing: a file bigger than the cache could hold is not
 * read; the count must fit in the bytes present; the checksum and every
 * entry are checked before the first insert, so a damaged file changes
 * nothing. The checksum only guards against damage: a file forged with a
 * good checksum still has to pass every structural check, since whoever can
 * write it could also write our configuration.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_hash_crc.h>

#include "cache_private.h"
#include "hd_wire.h"

#define FILE_HDR_LEN	32
#define FILE_TRAILER	4
/* Key (6), age/ttl/stale (12), flags and counts (12), negative, has_cname. */
#define ENTRY_FIXED	32
#define ENTRY_MIN	(ENTRY_FIXED + 1)
/* Per entry on top of its answer and name: room for the file bound. */
#define ENTRY_SLACK	(ENTRY_FIXED + HD_DNS_NAME_MAX)
/* Without a byte bound, assume answers of this size for the file bound. */
#define ENTRY_TYPICAL	4096
/* A reply must keep room for header, question and our OPT. */
#define DATA_MAX	(UINT16_MAX - HD_DNS_HDR_LEN - HD_DNS_NAME_MAX - 4 - HD_DNS_OPT_LEN)

/* CRC-32C (Castagnoli), standard init and final inversion. */
static uint32_t
crc32c(const uint8_t *p, size_t len)
{
	return ~hd_cache_crc(p, len, UINT32_MAX);
}

static void
write_u64(struct hd_wire *w, uint64_t v)
{
	hd_wire_write_u32(w, (uint32_t)(v >> 32));
	hd_wire_write_u32(w, (uint32_t)v);
}

static uint64_t
read_u64(struct hd_wire *w)
{
	uint64_t hi = hd_wire_read_u32(w);

	return hi << 32 | hd_wire_read_u32(w);
}

/* ---- saving ---- */

static inline bool
servable(const struct hd_dns_answer *a, uint32_t now)
{
	return now < a->stale_until && a->stored <= now;
}

static size_t
entry_len(const struct hd_cache_key *k, const struct hd_dns_answer *a)
{
	return ENTRY_FIXED + k->name_len + (size_t)a->n_ttl * 2 + a->len;
}

static void
entry_write(struct hd_wire *w, const struct hd_cache_key *k, const struct hd_dns_answer *a,
	    uint32_t now)
{
	const uint16_t *offs = hd_dns_answer_ttl_offs(a);
	unsigned int i;

	hd_wire_write_u16(w, k->qtype);
	hd_wire_write_u16(w, k->qclass);
	hd_wire_write_u8(w, k->flags);
	hd_wire_write_u8(w, k->name_len);
	hd_wire_write_bytes(w, k->name, k->name_len);
	hd_wire_write_u32(w, now - a->stored);
	hd_wire_write_u32(w, a->expires - a->stored);
	hd_wire_write_u32(w, a->stale_until - a->stored);
	hd_wire_write_u16(w, a->flags);
	hd_wire_write_u16(w, a->ancount);
	hd_wire_write_u16(w, a->nscount);
	hd_wire_write_u16(w, a->arcount);
	hd_wire_write_u16(w, a->n_ttl);
	hd_wire_write_u16(w, a->len);
	hd_wire_write_u8(w, a->negative);
	hd_wire_write_u8(w, a->has_cname);
	for (i = 0; i < a->n_ttl; i++)
		hd_wire_write_u16(w, offs[i]);
	hd_wire_write_bytes(w, hd_dns_answer_data(a), a->len);
}

/* Make room for @p need more bytes behind the cursor. @return 0 or -ENOMEM. */
static int
image_reserve(uint8_t **buf, size_t *cap, struct hd_wire *w, size_t need)
{
	size_t ncap = *cap;
	uint8_t *nb;

	if (w->pos + need <= *cap)
		return 0;
	while (ncap < w->pos + need)
		ncap = ncap + ncap / 2 + need;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	w->buf = nb;
	w->len = ncap;
	return 0;
}

int
hd_cache_snapshot(struct hd_cache *c, uint64_t wall_now, uint32_t now,
		  struct hd_cache_image *img)
{
	const struct hd_cache_key *k;
	const struct hd_dns_answer *a;
	struct hd_cache_stats st;
	uint32_t next = 0, n = 0;
	struct hd_wire w;
	uint8_t *buf;
	size_t cap;

	memset(img, 0, sizeof(*img));
	/* One pass over the table (it is the slow path's time we spend):
	 * sized from the counters for names of about 32 bytes, grown if not. */
	hd_cache_stats_get(c, &st);
	cap = FILE_HDR_LEN + FILE_TRAILER + st.bytes + (size_t)st.entries * (ENTRY_FIXED + 32);
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	hd_wire_init(&w, buf, cap);
	hd_wire_write_bytes(&w, HD_CACHE_FILE_MAGIC, 8);
	hd_wire_write_u32(&w, HD_CACHE_FILE_VERSION);
	hd_wire_write_u32(&w, 0);
	write_u64(&w, wall_now);
	hd_wire_write_u32(&w, 0);	/* count, patched below */
	hd_wire_write_u32(&w, 0);
	while (hd_cache_iterate_(c, &k, &a, &next) >= 0) {
		if (!servable(a, now))
			continue;
		if (image_reserve(&buf, &cap, &w, entry_len(k, a) + FILE_TRAILER) < 0) {
			free(buf);
			return -ENOMEM;
		}
		entry_write(&w, k, a, now);
		n++;
	}
	hd_wire_put_u32_at(&w, FILE_HDR_LEN - 8, n);
	hd_wire_write_u32(&w, crc32c(buf, w.pos));
	/* Room was reserved before every write. */
	RTE_VERIFY(hd_wire_ok(&w));
	img->buf = buf;
	img->len = w.pos;
	img->entries = n;
	return 0;
}

void
hd_cache_image_free(struct hd_cache_image *img)
{
	free(img->buf);
	img->buf = NULL;
	img->len = 0;
	img->entries = 0;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The rename is only durable once the directory holding it is synced. */
static void
dir_sync(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

int
hd_cache_image_write(const struct hd_cache_image *img, const char *path)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (img->buf == NULL || path == NULL || path[0] == '\0')
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, img->buf, img->len);
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -errno;
	if (ret != 0) {
		unlink(tmp);
		return ret;
	}
	dir_sync(path);
	return 0;
}

int
hd_cache_save(struct hd_cache *c, const char *path, uint64_t wall_now, uint32_t now)
{
	struct hd_cache_image img;
	int ret;

	ret = hd_cache_snapshot(c, wall_now, now, &img);
	if (ret < 0)
		return ret;
	ret = hd_cache_image_write(&img, path);
	if (ret == 0)
		ret = (int)RTE_MIN(img.entries, (uint32_t)INT32_MAX);
	hd_cache_image_free(&img);
	return ret;
}

/* ---- loading ---- */

/* One entry of the file, pointing into the file's buffer. */
struct rec {
	struct hd_cache_key key;
	uint32_t age, ttl, stale;
	uint16_t flags, ancount, nscount, arcount, n_ttl, len;
	uint8_t negative, has_cname;
	const uint8_t *offs;	/* n_ttl big-endian u16 */
	const uint8_t *data;
};

/* A lowercase wire-form name of exactly @p len bytes, root label last. */
static bool
key_name_ok(const uint8_t *name, size_t len)
{
	size_t off = 0;
	uint8_t l;

	while (off < len) {
		l = name[off];
		if (l == 0)
			return off + 1 == len;
		if (l > HD_DNS_LABEL_MAX || off + 1 + l >= len)
			return false;
		for (off++; l > 0; l--, off++)
			if (name[off] >= 'A' && name[off] <= 'Z')
				return false;
	}
	return false;
}

/*
 * Lay the entry out as the reply it answers would be (header, question,
 * data) in @p msg and walk every record: owner names must parse with their
 * pointers going backwards, the TTL offsets must be where the TTLs are,
 * the counts must add up and the last record end with the data.
 */
static bool
rec_walk(const struct rec *r, uint8_t *msg)
{
	size_t qend = HD_DNS_HDR_LEN + r->key.name_len + 4;
	unsigned int i, n = (unsigned int)r->ancount + r->nscount + r->arcount;
	uint8_t owner[HD_DNS_NAME_MAX];
	uint16_t type, rdlen;
	struct hd_wire w;
	bool cname = false;

	if (n != r->n_ttl)
		return false;
	/* A reserved label type: a pointer into the header fails to parse,
	 * as no name we compressed ever points there. */
	memset(msg, 0x40, HD_DNS_HDR_LEN);
	memcpy(msg + HD_DNS_HDR_LEN, r->key.name, r->key.name_len);
	msg[qend - 4] = (uint8_t)(r->key.qtype >> 8);
	msg[qend - 3] = (uint8_t)r->key.qtype;
	msg[qend - 2] = (uint8_t)(r->key.qclass >> 8);
	msg[qend - 1] = (uint8_t)r->key.qclass;
	memcpy(msg + qend, r->data, r->len);
	hd_wire_init(&w, msg, qend + r->len);
	hd_wire_seek(&w, qend);
	for (i = 0; i < n; i++) {
		if (hd_dns_name_read(&w, owner) < 0)
			return false;
		type = hd_wire_read_u16(&w);
		hd_wire_skip(&w, 2);
		if (w.pos - qend != (size_t)(r->offs[2 * i] << 8 | r->offs[2 * i + 1]))
			return false;
		hd_wire_skip(&w, 4);
		rdlen = hd_wire_read_u16(&w);
		hd_wire_skip(&w, rdlen);
		if (!hd_wire_ok(&w))
			return false;
		if (i < r->ancount && type == HD_DNS_TYPE_CNAME)
			cname = true;
	}
	return w.pos == qend + r->len && cname == (r->has_cname != 0);
}

/* Read and check one entry at the cursor. @return 0 or -EBADMSG. */
static int
rec_read(struct hd_wire *w, struct rec *r, uint8_t *msg)
{
	uint8_t rcode;

	memset(&r->key, 0, sizeof(r->key));
	r->key.qtype = hd_wire_read_u16(w);
	r->key.qclass = hd_wire_read_u16(w);
	r->key.flags = hd_wire_read_u8(w);
	r->key.name_len = hd_wire_read_u8(w);
	hd_wire_read_bytes(w, r->key.name, r->key.name_len);
	r->age = hd_wire_read_u32(w);
	r->ttl = hd_wire_read_u32(w);
	r->stale = hd_wire_read_u32(w);
	r->flags = hd_wire_read_u16(w);
	r->ancount = hd_wire_read_u16(w);
	r->nscount = hd_wire_read_u16(w);
	r->arcount = hd_wire_read_u16(w);
	r->n_ttl = hd_wire_read_u16(w);
	r->len = hd_wire_read_u16(w);
	r->negative = hd_wire_read_u8(w);
	r->has_cname = hd_wire_read_u8(w);
	r->offs = hd_wire_take(w, (size_t)r->n_ttl * 2);
	r->data = hd_wire_take(w, r->len);
	if (!hd_wire_ok(w))
		return -EBADMSG;

	rcode = r->flags & HD_DNS_RCODE_MASK;
	if ((r->key.flags & ~(HD_CACHE_KEY_DO | HD_CACHE_KEY_CD)) != 0 ||
	    !key_name_ok(r->key.name, r->key.name_len) ||
	    r->ttl > INT32_MAX || r->stale < r->ttl || r->age >= r->stale ||
	    (r->flags & ~(HD_DNS_AD | HD_DNS_RCODE_MASK)) != 0 ||
	    (rcode != HD_DNS_RCODE_NOERROR && rcode != HD_DNS_RCODE_NXDOMAIN) ||
	    r->negative != (rcode == HD_DNS_RCODE_NXDOMAIN || r->ancount == 0) ||
	    r->has_cname > 1 || r->len > DATA_MAX)
		return -EBADMSG;
	return rec_walk(r, msg) ? 0 : -EBADMSG;
}

/* The answer of @p r aged by @p age seconds, stored at @p now; NULL: no memory. */
static struct hd_dns_answer *
rec_answer(const struct rec *r, uint32_t age, uint32_t now)
{
	struct hd_dns_answer *a;
	uint16_t *offs;
	uint8_t *data;
	unsigned int i;

	a = malloc(sizeof(*a) + (size_t)r->n_ttl * 2 + r->len);
	if (a == NULL)
		return NULL;
	a->stored = now;
	/* What was received: prefetch compares the time left with it. */
	a->ttl = r->ttl;
	a->expires = now + (r->ttl > age ? r->ttl - age : 0);
	a->stale_until = now + (r->stale - age);
	a->flags = r->flags;
	a->ancount = r->ancount;
	a->nscount = r->nscount;
	a->arcount = r->arcount;
	a->n_ttl = r->n_ttl;
	a->len = r->len;
	a->qname_len = r->key.name_len;
	a->negative = r->negative;
	a->has_cname = r->has_cname;
	offs = (uint16_t *)(void *)(a + 1);
	data = (uint8_t *)(offs + r->n_ttl);
	memcpy(data, r->data, r->len);
	for (i = 0; i < r->n_ttl; i++) {
		uint32_t t;

		offs[i] = (uint16_t)(r->offs[2 * i] << 8 | r->offs[2 * i + 1]);
		/* rec_walk() put every offset at a TTL inside the data. */
		t = (uint32_t)data[offs[i]] << 24 | (uint32_t)data[offs[i] + 1] << 16 |
		    (uint32_t)data[offs[i] + 2] << 8 | data[offs[i] + 3];
		t = t > age ? t - age : 0;
		data[offs[i]] = (uint8_t)(t >> 24);
		data[offs[i] + 1] = (uint8_t)(t >> 16);
		data[offs[i] + 2] = (uint8_t)(t >> 8);
		data[offs[i] + 3] = (uint8_t)t;
	}
	return a;
}

/* Largest file this cache could have written, with room for a bigger one's entries. */
static uint64_t
file_bound(const struct hd_cache *c)
{
	uint64_t entries = hd_cache_max_entries_(c);
	uint64_t bytes = hd_cache_max_bytes_(c);

	if (bytes == 0)
		bytes = entries * ENTRY_TYPICAL;
	return 2 * (bytes + entries * ENTRY_SLACK) + FILE_HDR_LEN + FILE_TRAILER;
}

/* Read the whole of @p path into *buf. @return 0 or a negative errno. */
static int
file_read(const struct hd_cache *c, const char *path, uint8_t **buf, size_t *len)
{
	struct stat sb;
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) != 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		ret = -EPROTO;
		goto out;
	}
	if ((uint64_t)sb.st_size > file_bound(c) || (uint64_t)sb.st_size > SIZE_MAX / 2) {
		ret = -EFBIG;
		goto out;
	}
	*len = (size_t)sb.st_size;
	*buf = malloc(*len + 1);
	if (*buf == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	/* One byte more than announced: a file growing under us is not ours to trust. */
	while (got <= *len) {
		n = read(fd, *buf + got, *len + 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (ret == 0 && got != *len)
		ret = -EBADMSG;
out:
	if (ret != 0) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return ret;
}

/* Check everything before the entries' contents. @return count, or < 0 with *why set. */
static int64_t
file_check(const uint8_t *buf, size_t len, uint64_t *created, const char **why)
{
	struct hd_wire w;
	uint32_t version, flags, count, crc;

	if (len < FILE_HDR_LEN + FILE_TRAILER) {
		*why = len < 8 || memcmp(buf, HD_CACHE_FILE_MAGIC, 8) != 0 ?
			"not a heimdall cache file" : "truncated header";
		return len < 8 || memcmp(buf, HD_CACHE_FILE_MAGIC, 8) != 0 ? -EPROTO : -EBADMSG;
	}
	if (memcmp(buf, HD_CACHE_FILE_MAGIC, 8) != 0) {
		*why = "not a heimdall cache file (bad magic)";
		return -EPROTO;
	}
	hd_wire_init(&w, (void *)(uintptr_t)buf, len);
	hd_wire_skip(&w, 8);
	version = hd_wire_read_u32(&w);
	flags = hd_wire_read_u32(&w);
	*created = read_u64(&w);
	count = hd_wire_read_u32(&w);
	if (version != HD_CACHE_FILE_VERSION) {
		*why = "unsupported version";
		return -ENOTSUP;
	}
	crc = (uint32_t)buf[len - 4] << 24 | (uint32_t)buf[len - 3] << 16 |
	      (uint32_t)buf[len - 2] << 8 | buf[len - 1];
	if (crc32c(buf, len - FILE_TRAILER) != crc) {
		*why = "checksum mismatch (damaged or truncated)";
		return -EBADMSG;
	}
	if (flags != 0) {
		*why = "unknown header flags";
		return -EBADMSG;
	}
	if ((uint64_t)count * ENTRY_MIN > len - FILE_HDR_LEN - FILE_TRAILER) {
		*why = "entry count larger than the file";
		return -EBADMSG;
	}
	return count;
}

/* Walk every entry; with @p c NULL only check them. @return inserted, or -EBADMSG. */
static int64_t
entries_apply(struct hd_cache *c, const uint8_t *buf, size_t len, uint32_t count,
	      uint64_t since_save, uint32_t now, uint8_t *msg, uint32_t *skipped)
{
	struct hd_wire w;
	struct hd_dns_answer *a;
	struct rec *r;
	uint64_t age;
	int64_t inserted = 0;
	uint32_t i;

	/* struct rec holds a 264-byte key: keep it off the stack. */
	r = (struct rec *)(void *)(msg + UINT16_MAX + 1);
	hd_wire_init(&w, (void *)(uintptr_t)buf, len - FILE_TRAILER);
	hd_wire_seek(&w, FILE_HDR_LEN);
	for (i = 0; i < count; i++) {
		if (rec_read(&w, r, msg) < 0)
			return -EBADMSG;
		if (c == NULL)
			continue;
		age = (uint64_t)r->age + since_save;
		if (age >= r->stale) {
			(*skipped)++;
			continue;
		}
		a = rec_answer(r, (uint32_t)age, now);
		if (a == NULL)
			return -ENOMEM;
		if (hd_cache_insert(c, &r->key, a, now) == 0)
			inserted++;
		else
			(*skipped)++;
	}
	return hd_wire_left(&w) == 0 ? inserted : -EBADMSG;
}

int
hd_cache_load(struct hd_cache *c, const char *path, uint64_t wall_now, uint32_t now)
{
	const char *why = "unreadable";
	uint8_t *buf = NULL, *msg = NULL;
	uint32_t skipped = 0;
	uint64_t created = 0, since;
	int64_t count, ret;
	size_t len = 0;

	if (c == NULL || path == NULL || path[0] == '\0')
		return -EINVAL;
	ret = file_read(c, path, &buf, &len);
	if (ret == -ENOENT) {
		CACHE_LOG(INFO, "%s: no cache file yet, starting cold", path);
		return (int)ret;
	}
	if (ret < 0) {
		why = ret == -EFBIG ? "larger than this cache could have saved" :
		      ret == -EBADMSG ? "changed while being read" : strerror((int)-ret);
		goto fail;
	}
	count = file_check(buf, len, &created, &why);
	if (count < 0) {
		ret = count;
		goto fail;
	}
	msg = malloc(UINT16_MAX + 1 + sizeof(struct rec));
	if (msg == NULL) {
		ret = -ENOMEM;
		why = "out of memory";
		goto fail;
	}
	/* Everything is checked before anything goes in. */
	ret = entries_apply(NULL, buf, len, (uint32_t)count, 0, now, msg, &skipped);
	if (ret < 0) {
		why = "malformed entry";
		goto fail;
	}
	since = wall_now > created ? wall_now - created : 0;
	ret = entries_apply(c, buf, len, (uint32_t)count, since, now, msg, &skipped);
	if (ret < 0) {
		why = "out of memory";
		goto fail;
	}
	CACHE_LOG(INFO, "%s: loaded %" PRId64 " of %" PRId64 " entries saved %" PRIu64
		  " s ago (%u expired or refused)", path, ret, count, since, skipped);
	free(msg);
	free(buf);
	return (int)ret;

fail:
	CACHE_LOG(WARNING, "%s: ignored: %s", path, why);
	free(msg);
	free(buf);
	return (int)ret;
}
