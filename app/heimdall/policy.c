/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy: blocklists, allowlists and groups (lib/filter) and local
 * records and zones (lib/localzone), built from the configuration off the
 * data path and published to the readers by pointer swap.
 *
 * Readers: every worker (once per burst) and the slow path (CNAME cloaking
 * of upstream answers, DNS over TCP) load hd_policy_published with acquire
 * and report quiescent states on app->policy_qsv once per loop. The writer
 * is the main lcore at start-up (before the readers run), then one control
 * thread: it builds the next policy while the old one serves, swaps the
 * pointer (release), waits for a grace period, and frees what the new one
 * does not share. A query is answered by the old policy or the new one,
 * never by neither.
 *
 * Lists keep their last good version: a file that cannot be read or a URL
 * that cannot be downloaded keeps its previous version. Once a policy is
 * published the texts are not kept in memory (a 1M-name hosts file is
 * 36 MB, close to its compiled filter): the last good copy of every list
 * is on disk under list-dir (written atomically; a URL list's copy is also
 * what it starts from), and memory holds its hash and length, enough to
 * tell a changed list from an unchanged one. Only a list whose copy cannot
 * be written keeps its text in memory. The telemetry thread reads only the
 * snapshot kept under `lock`, never the policy itself.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "hd_app.h"
#include "hd_build_config.h"
#include "hd_clock.h"
#include "hd_localzone.h"
#include "control.h"

#define LIST_MAX_BYTES		(256u << 20)	/* a list bigger than this is not a list */
#define DL_CONNECT_TIMEOUT	10L
#define DL_TIMEOUT		120L
#define DL_MAX_REDIRS		5L
#define ERR_LEN			256
#define TCP_LIMIT		65535
#define TEL_ERRORS_LISTS	8	/* /heimdall/filter shows bad lines up to this many lists */

/*
 * What the last attempt to read or download one list did, and where its
 * last good version is: list-dir's copy (on_disk) or, when that copy cannot
 * be written, `text`.
 */
struct list_state {
	int have;			/* a last good version exists */
	size_t len;			/* its length */
	uint64_t hash;			/* and hash (text_hash) */
	int on_disk;			/* list-dir's copy is that version */
	char *text;			/* or that version, when list-dir cannot hold it */
	int mem_logged;			/* said once that the text stays in memory */
	int64_t loaded_at;		/* unix time it was read, 0: never */
	char last_error[ERR_LEN];	/* "" when the last attempt worked */
	struct hd_filter_report rep;	/* of the last build */
	uint32_t rules;			/* after dedup, in the published filter */
	int changed;			/* differs from the version last compiled */
};

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

struct zone_state {
	int64_t loaded_at;
	char last_error[ERR_LEN];
};

static struct {
	struct hd_app *app;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;		/* the snapshot below, and the requests */
	pthread_cond_t wake;
	int stop;
	int soon;			/* a URL list runs on its disk copy: refresh now */

	/* Snapshot for telemetry, written under lock by the builder. */
	struct list_state lists[HD_CONFIG_LISTS_MAX];
	struct zone_state zones[HD_CONFIG_ZONE_FILES_MAX];
	uint64_t generation;
	size_t filter_memory;
	uint32_t n_records;
	uint32_t n_zones;
	int64_t built_at;
	int building;
	int curl_ready;

	/* Texts read during one rebuild, freed before it returns (builder only). */
	struct buf fresh[HD_CONFIG_LISTS_MAX];
	int fresh_ok[HD_CONFIG_LISTS_MAX];	/* fresh[i] holds a good text (maybe empty) */

	/*
	 * The running configuration (base: app->cfg, then the live settings of
	 * each reload) and what is built from it (eff: base plus the operator
	 * state). Written by the builder only, under lock; read under lock.
	 * eff's lists and groups are base's first, then the state's.
	 */
	struct hd_config *base;
	struct hd_config *eff;
	unsigned int n_cfg_lists;
	int64_t hits_offset[HD_CONFIG_LISTS_MAX]; /* shown hits = counters + offset */
	uint64_t filter_sig;		/* of the settings the published filter was built from */
	struct hd_filter *held;		/* compiled, not published: blocking is paused */
	uint64_t state_version;		/* of the document in eff */
	uint64_t state_ignored;		/* a version that did not apply at start */

	/* Requests to the control thread, under lock. */
	unsigned int pending;		/* HD_POLICY_REQ_* */
	uint64_t seq_req;		/* tickets given */
	uint64_t seq_done;		/* tickets whose work is published */
	pthread_cond_t done;
	uint64_t pause_until;		/* mono_ms(); 0: not paused */
	struct hd_policy_reload_info reload;
} pol = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Set by SIGHUP's handler; the control thread does the reload. */
static volatile sig_atomic_t sighup;

void
hd_policy_sighup(void)
{
	sighup = 1;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct hd_fastpath_policy *hd_policy_published;
static uint64_t slow_hits[HD_FILTER_LISTS_MAX];

uint64_t *
hd_policy_slow_hits(void)
{
	return slow_hits;
}

static int
stopping(void)
{
	return __atomic_load_n(&pol.stop, __ATOMIC_RELAXED);
}

/* --- reading and downloading ---------------------------------------------- */

static int
buf_append(struct buf *b, const void *data, size_t n)
{
	size_t cap;
	char *p;

	if (n > LIST_MAX_BYTES - b->len)
		return -EFBIG;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 1 << 16;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int
file_read(const char *path, struct buf *b, char *err)
{
	char chunk[1 << 16];
	struct stat sb;
	size_t n;
	FILE *f;
	int fd, rc = 0;

	/*
	 * A regular file only: opening a FIFO would wait for a writer and a
	 * device may never end, and this thread publishes every change.
	 * O_NONBLOCK keeps the open itself from waiting on a FIFO.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, ERR_LEN, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(err, ERR_LEN, "%s: not a regular file", path);
		return -EINVAL;
	}
	f = fdopen(fd, "rb");
	if (f == NULL) {
		rc = -errno;
		close(fd);
		snprintf(err, ERR_LEN, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = buf_append(b, chunk, n);
		if (rc < 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = errno != 0 ? -errno : -EIO;
	fclose(f);
	if (rc == -EFBIG)
		snprintf(err, ERR_LEN, "%s: larger than %u MiB, not a list", path,
			 LIST_MAX_BYTES >> 20);
	else if (rc < 0)
		snprintf(err, ERR_LEN, "%s: cannot read: %s", path, strerror(-rc));
	return rc;
}

static size_t
dl_write(char *data, size_t size, size_t nmemb, void *arg)
{
	/* Returning less than given makes curl fail the transfer. */
	return buf_append(arg, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Shutdown must not wait for a slow server. */
static int
dl_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	    curl_off_t ulnow)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(dltotal);
	RTE_SET_USED(dlnow);
	RTE_SET_USED(ultotal);
	RTE_SET_USED(ulnow);
	return stopping();
}

/* A captive portal or an error page served with 200 is not a list. */
static int
looks_like_html(const char *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return (len - i >= 14 && strncasecmp(p + i, "<!doctype html", 14) == 0) ||
	       (len - i >= 5 && strncasecmp(p + i, "<html", 5) == 0);
}

static int
download(const char *url, struct buf *b, char *err)
{
	char cerr[CURL_ERROR_SIZE] = "";
	CURLcode res;
	long status = 0;
	CURL *h;

	h = curl_easy_init();
	if (h == NULL) {
		snprintf(err, ERR_LEN, "%s: cannot start a download", url);
		return -ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, DL_MAX_REDIRS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, DL_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, DL_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LIST_MAX_BYTES);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "heimdall/" HD_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, dl_progress);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (res != CURLE_OK) {
		if (res == CURLE_WRITE_ERROR && b->len >= LIST_MAX_BYTES - (1 << 16))
			snprintf(cerr, sizeof(cerr), "larger than %u MiB", LIST_MAX_BYTES >> 20);
		snprintf(err, ERR_LEN, "%s: download failed: %s", url,
			 cerr[0] ? cerr : curl_easy_strerror(res));
		return -EIO;
	}
	if (looks_like_html(b->p != NULL ? b->p : "", b->len)) {
		snprintf(err, ERR_LEN, "%s: got an HTML page (HTTP %ld), not a list", url, status);
		return -EPROTO;
	}
	return 0;
}

static void
copy_path(char *out, size_t cap, const struct hd_config *cfg, const char *name,
	  const char *suffix)
{
	snprintf(out, cap, "%s/%s.list%s", cfg->list_dir, name, suffix);
}

#define COPY_PATH_LEN		(HD_CONFIG_SOURCE_LEN + 96)

/* An error message naming a path; a long path is cut, the message stays whole enough. */
static void __rte_format_printf(2, 3)
err_printf(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, ERR_LEN, fmt, ap);
	va_end(ap);
}

/* Make a rename in @p dir survive a crash; best effort. */
/*
 * Write list @p name's copy in list-dir: temp file, fsync, rename, so that
 * the copy is always a whole version, the old one or the new one.
 * @return 0, or a negative errno with @p err saying what failed.
 */
static int
copy_save(const struct hd_config *cfg, const char *name, const struct buf *b, char *err)
{
	char path[COPY_PATH_LEN];
	int rc;

	rc = hd_mkdirs(cfg->list_dir, 0755);
	if (rc < 0) {
		err_printf(err, "cannot create list-dir %s: %s", cfg->list_dir, strerror(-rc));
		return rc;
	}
	copy_path(path, sizeof(path), cfg, name, "");
	rc = hd_file_write_atomic(cfg->list_dir, path, b->p, b->len, 0644);
	if (rc < 0)
		err_printf(err, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

/* @return 1 when list-dir's copy of @p name holds exactly @p b. */
static int
copy_same(const struct hd_config *cfg, const char *name, const struct buf *b)
{
	char path[COPY_PATH_LEN], chunk[1 << 16];
	struct stat st;
	size_t off = 0, n;
	int same = 1;
	FILE *f;

	copy_path(path, sizeof(path), cfg, name, "");
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != b->len)
		return 0;
	f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	while (same && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (n > b->len - off || memcmp(chunk, b->p + off, n) != 0)
			same = 0;
		off += n;
	}
	same = same && off == b->len && !ferror(f);
	fclose(f);
	return same;
}

/*
 * A 64-bit hash of a list's text, eight bytes a step (about 10 ms for a
 * 36 MB list): with the length it tells a changed list from an unchanged
 * one without keeping the text, and checks a copy read back from list-dir.
 * It is no defence against a list made to collide, and needs none: whoever
 * writes a list already decides what it blocks.
 */
static uint64_t
text_hash(const char *p, size_t len)
{
	const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)len * m), k;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&k, p + i, 8);
		k *= m;
		k ^= k >> 47;
		k *= m;
		h = (h ^ k) * m;
	}
	if (i < len) {
		k = 0;
		memcpy(&k, p + i, len - i);
		h = (h ^ k) * m;
	}
	h ^= h >> 47;
	h *= m;
	return h ^ (h >> 47);
}

/*
 * @p b holds a good version of list @p i (read from list-dir's copy when
 * @p from_disk): note its hash, and keep it for this rebuild only.
 */
static void
text_take(unsigned int i, struct buf *b, int from_disk)
{
	struct list_state *ls = &pol.lists[i];
	uint64_t h = text_hash(b->p, b->len);

	pthread_mutex_lock(&pol.lock);
	if (!ls->have || ls->len != b->len || ls->hash != h) {
		ls->changed = 1;
		ls->on_disk = from_disk;
	}
	/* This round's text replaces one kept in memory; texts_settle() decides where it goes. */
	free(ls->text);
	ls->text = NULL;
	ls->have = 1;
	ls->len = b->len;
	ls->hash = h;
	ls->loaded_at = (int64_t)time(NULL);
	pthread_mutex_unlock(&pol.lock);
	pol.fresh[i] = *b;
	pol.fresh_ok[i] = 1;
	*b = (struct buf){ 0 };
}

static void
error_set(char *dst, const char *msg)
{
	pthread_mutex_lock(&pol.lock);
	snprintf(dst, ERR_LEN, "%s", msg);
	pthread_mutex_unlock(&pol.lock);
}

/*
 * Refresh the text of list @p i. At start a URL list with a copy in
 * list-dir starts from that copy and is downloaded right after start: the
 * network (or the resolver it needs, which may be heimdall) may not be up.
 */
static void
list_refresh(const struct hd_config *cfg, unsigned int i, int initial)
{
	const struct hd_config_list *l = &cfg->lists[i];
	struct list_state *ls = &pol.lists[i];
	char err[ERR_LEN] = "", path[COPY_PATH_LEN];
	struct buf b = { 0 };
	int rc;

	if (!l->is_url) {
		rc = file_read(l->source, &b, err);
	} else if (initial && cfg->list_dir[0] != '\0') {
		copy_path(path, sizeof(path), cfg, l->name, "");
		rc = file_read(path, &b, err);
		if (rc == 0) {
			APP_LOG(INFO, "list %s: starting from the copy in %s; downloading %s "
				"after start", l->name, path, l->source);
			text_take(i, &b, 1);
			pol.soon = 1;
			return;
		}
		free(b.p);
		b = (struct buf){ 0 };
		rc = download(l->source, &b, err);
	} else {
		rc = download(l->source, &b, err);
	}
	if (rc == 0) {
		error_set(ls->last_error, "");
		text_take(i, &b, 0);
		return;
	}
	free(b.p);
	error_set(ls->last_error, err);
	if (ls->have)
		APP_LOG(WARNING, "list %s: %s; keeping its last good version (%s)", l->name, err,
			ls->text != NULL ? "in memory" : "its copy in list-dir");
	else
		APP_LOG(ERR, "list %s: %s; the list is empty until it loads", l->name, err);
}

/*
 * The last good text of list @p i for a build: this round's, the one kept
 * in memory, or list-dir's copy read into @p tmp, checked against the hash
 * so that a copy edited or cut short is not taken for that version.
 * @return 0 with *text and *len set ("" for a list that never loaded), or a
 *   negative errno with @p err saying why.
 */
static int
text_recover(const struct hd_config *cfg, unsigned int i, struct buf *tmp,
	     const char **text, size_t *len, char *err)
{
	const struct list_state *ls = &pol.lists[i];
	char path[COPY_PATH_LEN];
	int rc;

	*text = "";
	*len = 0;
	if (pol.fresh_ok[i]) {
		*text = pol.fresh[i].p != NULL ? pol.fresh[i].p : "";
		*len = pol.fresh[i].len;
		return 0;
	}
	if (!ls->have || ls->len == 0)
		return 0;
	if (ls->text != NULL) {
		*text = ls->text;
		*len = ls->len;
		return 0;
	}
	copy_path(path, sizeof(path), cfg, cfg->lists[i].name, "");
	if (!ls->on_disk) {
		err_printf(err, "%s: does not hold the last good version", path);
		return -ENOENT;
	}
	rc = file_read(path, tmp, err);
	if (rc < 0)
		return rc;
	if (tmp->len != ls->len || text_hash(tmp->p, tmp->len) != ls->hash) {
		err_printf(err, "%s: changed since heimdall wrote it", path);
		return -ESTALE;
	}
	*text = tmp->p;
	*len = tmp->len;
	return 0;
}

/*
 * After a build: this round's texts leave memory. Each becomes list-dir's
 * copy (unless the copy already holds it); one that cannot be written stays
 * in memory, said once per list, so that a later failure still has it.
 */
static void
texts_settle(const struct hd_config *cfg)
{
	char err[ERR_LEN];

	for (unsigned int i = 0; i < cfg->n_lists; i++) {
		const char *name = cfg->lists[i].name;
		struct list_state *ls = &pol.lists[i];
		struct buf *b = &pol.fresh[i];
		int rc = -ENOENT, logged;
		char *p;

		if (!pol.fresh_ok[i])
			continue;
		if (cfg->list_dir[0] == '\0')
			snprintf(err, ERR_LEN, "list-dir is empty (no copies kept)");
		else if (copy_same(cfg, name, b))
			rc = 0;
		else
			rc = copy_save(cfg, name, b, err);
		if (rc < 0 && b->p != NULL && b->cap > b->len + 1) {
			/* The buffer grew by doubling: give back what the text does not use. */
			p = realloc(b->p, b->len + 1);
			if (p != NULL)
				b->p = p;
		}
		pthread_mutex_lock(&pol.lock);
		logged = ls->mem_logged;
		ls->on_disk = rc == 0;
		ls->mem_logged = rc < 0;
		if (rc < 0) {
			ls->text = b->p;
			b->p = NULL;
		}
		pthread_mutex_unlock(&pol.lock);
		if (rc < 0 && !logged && cfg->list_dir[0] == '\0')
			APP_LOG(INFO, "list %s: %s; its last good text (%zu bytes) stays in "
				"memory", name, err, ls->len);
		else if (rc < 0 && !logged)
			APP_LOG(WARNING, "list %s: %s; its last good text (%zu bytes) stays in "
				"memory", name, err, ls->len);
		free(b->p);
		*b = (struct buf){ 0 };
		pol.fresh_ok[i] = 0;
	}
}

/* Forget this round's texts (stop, or a start that failed). */
static void
texts_drop(void)
{
	for (unsigned int i = 0; i < HD_CONFIG_LISTS_MAX; i++) {
		free(pol.fresh[i].p);
		pol.fresh[i] = (struct buf){ 0 };
		pol.fresh_ok[i] = 0;
	}
}

/* --- building ----------------------------------------------------------------- */

static enum hd_filter_mode
mode_of(int m)
{
	switch (m) {
	case HD_CONFIG_BLOCK_NXDOMAIN:
		return HD_FILTER_MODE_NXDOMAIN;
	case HD_CONFIG_BLOCK_NODATA:
		return HD_FILTER_MODE_NODATA;
	case HD_CONFIG_BLOCK_CUSTOM:
		return HD_FILTER_MODE_CUSTOM;
	case HD_CONFIG_BLOCK_REFUSED:
		return HD_FILTER_MODE_REFUSED;
	default:
		return HD_FILTER_MODE_NULL;
	}
}

static void
spec_fill(const struct hd_config *cfg, const struct hd_config_list *l,
	  struct hd_filter_list_spec *spec)
{
	struct hd_filter_response *r = &spec->response;

	memset(spec, 0, sizeof(*spec));
	spec->name = l->name;
	spec->source = l->source;
	spec->allow = l->allow;
	if (hd_filter_syntax_parse(l->syntax, &spec->syntax) < 0)
		spec->syntax = HD_FILTER_SYNTAX_AUTO;
	r->mode = mode_of(l->mode >= 0 ? l->mode : cfg->block_mode);
	r->ttl = l->ttl >= 0 ? (uint32_t)l->ttl : cfg->block_ttl;
	if (l->has_v4 || cfg->has_block_v4) {
		memcpy(r->v4, l->has_v4 ? l->v4 : cfg->block_v4, 4);
		r->has_v4 = 1;
	}
	if (l->has_v6 || cfg->has_block_v6) {
		memcpy(r->v6, l->has_v6 ? l->v6 : cfg->block_v6, 16);
		r->has_v6 = 1;
	}
}

static void
report_log(const struct hd_config_list *l, const struct hd_filter_report *rep, int fresh)
{
	const char *syn = hd_filter_syntax_name(rep->syntax);

	APP_LOG(INFO, "list %s: %u rules from %s%s (%s, %u lines, %u skipped, %u rejected)",
		l->name, rep->rules, fresh ? "" : "the last good version of ", l->source,
		syn != NULL ? syn : "?", rep->lines, rep->skipped, rep->rejected);
	if (rep->rejected == 0)
		return;
	APP_LOG(WARNING, "list %s: %u line(s) not understood; the first:", l->name,
		rep->rejected);
	for (uint32_t k = 0; k < rep->n_errors && k < HD_FILTER_ERRORS_MAX; k++)
		APP_LOG(WARNING, "  %s", rep->errors[k]);
}

static int
groups_add(const struct hd_config *cfg, struct hd_filter_builder *b)
{
	const char *subnets[HD_CONFIG_GROUP_SUBNETS_MAX];
	const char *lists[HD_CONFIG_LISTS_MAX];
	char err[ERR_LEN] = "";

	for (unsigned int g = 0; g < cfg->n_groups; g++) {
		const struct hd_config_group *gr = &cfg->groups[g];
		unsigned int n_lists = 0;

		for (unsigned int i = 0; i < gr->n_subnets; i++)
			subnets[i] = gr->subnets[i];
		if (gr->all_lists) {
			for (unsigned int i = 0; i < cfg->n_lists; i++)
				lists[n_lists++] = cfg->lists[i].name;
		} else {
			for (unsigned int i = 0; i < gr->n_lists; i++)
				lists[n_lists++] = gr->lists[i];
		}
		if (hd_filter_builder_add_group(b, gr->name, subnets, gr->n_subnets, lists,
						n_lists, err, sizeof(err)) < 0) {
			APP_LOG(ERR, "%s: group %s: %s", gr->where, gr->name, err);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Compile every list (its last good text; empty when it never loaded, so
 * list i is always index i and per-list counters survive reloads). A text
 * read back from list-dir is freed as soon as it is compiled. When a list's
 * last good text cannot be had back, nothing is built: the lists in use stay.
 * @return the filter, NULL with *rc 0 when there is no list, or NULL with
 *   *rc < 0 on failure.
 */
static struct hd_filter *
filter_build(const struct hd_config *cfg, int *rc)
{
	struct hd_filter_report *reps;
	struct hd_filter_list_spec spec;
	struct hd_filter_builder *b;
	struct hd_filter *f;
	int idx;

	*rc = 0;
	if (cfg->n_lists == 0)
		return NULL;
	reps = calloc(cfg->n_lists, sizeof(*reps));
	b = hd_filter_builder_create();
	if (reps == NULL || b == NULL) {
		*rc = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < cfg->n_lists; i++) {
		const struct list_state *ls = &pol.lists[i];
		char err[ERR_LEN] = "";
		struct buf tmp = { 0 };
		const char *text;
		size_t len;

		*rc = text_recover(cfg, i, &tmp, &text, &len, err);
		if (*rc < 0) {
			free(tmp.p);
			APP_LOG(ERR, "list %s: %s; keeping the lists in use", cfg->lists[i].name,
				err);
			pthread_mutex_lock(&pol.lock);
			if (ls->last_error[0] == '\0')
				snprintf(pol.lists[i].last_error, ERR_LEN, "%s", err);
			pthread_mutex_unlock(&pol.lock);
			goto fail;
		}
		spec_fill(cfg, &cfg->lists[i], &spec);
		idx = hd_filter_builder_add_list(b, &spec, text, len, &reps[i]);
		free(tmp.p);
		if (idx != (int)i) {
			APP_LOG(ERR, "list %s: cannot be compiled: %s", cfg->lists[i].name,
				strerror(idx < 0 ? -idx : EINVAL));
			*rc = idx < 0 ? idx : -EINVAL;
			goto fail;
		}
	}
	*rc = groups_add(cfg, b);
	if (*rc < 0)
		goto fail;
	f = hd_filter_build(b);
	b = NULL;
	if (f == NULL) {
		APP_LOG(ERR, "the lists cannot be compiled: %s", strerror(ENOMEM));
		*rc = -ENOMEM;
		goto fail;
	}
	pthread_mutex_lock(&pol.lock);
	for (unsigned int i = 0; i < cfg->n_lists; i++) {
		pol.lists[i].rep = reps[i];
		pol.lists[i].rules = hd_filter_list_rules(f, i);
		pol.lists[i].changed = 0;
	}
	pthread_mutex_unlock(&pol.lock);
	for (unsigned int i = 0; i < cfg->n_lists; i++)
		if (pol.lists[i].have)
			report_log(&cfg->lists[i], &reps[i], pol.fresh_ok[i]);
	free(reps);
	return f;
fail:
	hd_filter_builder_free(b);
	free(reps);
	return NULL;
}

/*
 * Local data. Records and local zones come from the configuration: an error
 * there is fatal at start. A zone file that fails is skipped at start; at a
 * reload it keeps the previous local data whole (*keep_old set).
 */
static struct hd_localzone *
local_build(const struct hd_config *cfg, int initial, int *rc, int *keep_old)
{
	struct hd_localzone_builder *b;
	struct hd_localzone *lz;
	char err[ERR_LEN] = "";

	*rc = 0;
	*keep_old = 0;
	if (cfg->n_records == 0 && cfg->n_zone_files == 0 && cfg->n_local_zones == 0)
		return NULL;
	b = hd_localzone_builder_create();
	if (b == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	hd_localzone_builder_auto_ptr(b, cfg->local_ptr);
	for (unsigned int i = 0; i < cfg->n_records; i++) {
		if (hd_localzone_add_record(b, cfg->records[i].text, cfg->records[i].where, err,
					    sizeof(err)) < 0) {
			/* lib/localzone's message names the source and quotes the record. */
			APP_LOG(ERR, "%s", err);
			*rc = -EINVAL;
			goto fail;
		}
	}
	for (unsigned int i = 0; i < cfg->n_local_zones; i++) {
		if (hd_localzone_builder_add_zone(b, cfg->local_zones[i].name, err,
						  sizeof(err)) < 0) {
			APP_LOG(ERR, "%s: local-zone %s: %s", cfg->local_zones[i].where,
				cfg->local_zones[i].name, err);
			*rc = -EINVAL;
			goto fail;
		}
	}
	for (unsigned int i = 0; i < cfg->n_zone_files; i++) {
		const char *path = cfg->zone_files[i].path;
		int zr = hd_localzone_add_zone_file(b, path, NULL, err, sizeof(err));

		error_set(pol.zones[i].last_error, zr < 0 ? err : "");
		if (zr == 0) {
			pthread_mutex_lock(&pol.lock);
			pol.zones[i].loaded_at = (int64_t)time(NULL);
			pthread_mutex_unlock(&pol.lock);
			continue;
		}
		if (!initial) {
			APP_LOG(ERR, "zone file %s: %s; keeping the local data loaded before",
				path, err);
			*keep_old = 1;
			goto fail;
		}
		APP_LOG(ERR, "zone file %s: %s; starting without it", path, err);
	}
	lz = hd_localzone_build(b, err, sizeof(err));
	if (lz == NULL) {
		APP_LOG(ERR, "local records and zones: %s", err);
		*rc = -EINVAL;
		*keep_old = !initial;
		return NULL;
	}
	return lz;
fail:
	hd_localzone_builder_free(b);
	return NULL;
}

static void
policy_free_unshared(struct hd_fastpath_policy *old, const struct hd_fastpath_policy *now,
		     const struct hd_filter *keep)
{
	if (old == NULL)
		return;
	if ((now == NULL || old->filter != now->filter) && old->filter != keep)
		hd_filter_free((struct hd_filter *)(uintptr_t)old->filter);
	if (now == NULL || old->local != now->local)
		hd_localzone_free((struct hd_localzone *)(uintptr_t)old->local);
	free(old);
}

/*
 * Swap, wait until no reader can hold the old policy, free it (but @p keep,
 * the filter held back while blocking is paused).
 */
static void
publish(struct hd_fastpath_policy *next, const struct hd_filter *keep)
{
	struct hd_fastpath_policy *old = hd_policy_published;

	__atomic_store_n(&hd_policy_published, next, __ATOMIC_RELEASE);
	if (old != NULL)
		rte_rcu_qsbr_synchronize(pol.app->policy_qsv, RTE_QSBR_THRID_INVALID);
	policy_free_unshared(old, next, keep);
}

static int
lists_changed(const struct hd_config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_lists; i++)
		if (pol.lists[i].changed)
			return 1;
	return 0;
}

static void
sig_str(struct buf *b, const char *s)
{
	(void)buf_append(b, s, strlen(s) + 1);
}

/*
 * What a filter is built from besides the list texts: when it changes
 * (a list or group added or removed, block-mode edited), the filter is
 * rebuilt even though no text changed.
 */
static uint64_t
filter_sig(const struct hd_config *c)
{
	struct buf b = { 0 };
	uint64_t h;

	for (unsigned int i = 0; i < c->n_lists; i++) {
		const struct hd_config_list *l = &c->lists[i];
		int64_t nums[] = { l->allow, l->mode, l->ttl, l->has_v4, l->has_v6 };

		sig_str(&b, l->name);
		sig_str(&b, l->source);
		sig_str(&b, l->syntax);
		(void)buf_append(&b, nums, sizeof(nums));
		(void)buf_append(&b, l->v4, sizeof(l->v4));
		(void)buf_append(&b, l->v6, sizeof(l->v6));
	}
	for (unsigned int g = 0; g < c->n_groups; g++) {
		const struct hd_config_group *gr = &c->groups[g];

		sig_str(&b, gr->name);
		for (unsigned int i = 0; i < gr->n_subnets; i++)
			sig_str(&b, gr->subnets[i]);
		sig_str(&b, gr->all_lists ? "*" : "|");
		for (unsigned int i = 0; i < gr->n_lists; i++)
			sig_str(&b, gr->lists[i]);
	}
	{
		int64_t nums[] = { c->block_mode, c->block_ttl, c->has_block_v4, c->has_block_v6 };

		(void)buf_append(&b, nums, sizeof(nums));
		(void)buf_append(&b, c->block_v4, sizeof(c->block_v4));
		(void)buf_append(&b, c->block_v6, sizeof(c->block_v6));
	}
	h = text_hash(b.p != NULL ? b.p : "", b.len);
	free(b.p);
	return h;
}

static uint64_t
hits_raw(unsigned int i)
{
	const struct hd_app *app = pol.app;
	uint64_t sum = __atomic_load_n(&slow_hits[i], __ATOMIC_RELAXED);

	for (unsigned int w = 0; app != NULL && app->workers != NULL && w < app->n_workers; w++)
		sum += __atomic_load_n(&app->workers[w].filter_hits[i], __ATOMIC_RELAXED);
	return sum;
}

/* The configuration plus the operator state, as the builder uses it. */
static struct hd_config *
eff_make(uint64_t *version)
{
	struct hd_config *e = malloc(sizeof(*e));
	json_t *doc;

	if (e == NULL)
		return NULL;
	memcpy(e, pol.base, sizeof(*e));
	doc = hd_state_get(version);
	if (doc != NULL && *version != pol.state_ignored)
		(void)hd_state_merge(doc, e, 0, NULL, 0);
	json_decref(doc);
	return e;
}

static int
same_list(const struct hd_config_list *a, const struct hd_config_list *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->source, b->source) == 0 &&
	       a->allow == b->allow;
}

/*
 * Make @p now the effective configuration. A list keeps its state (last
 * good text, counters) when it keeps its name and source, wherever it
 * moved; the per-index hit counters of the workers cannot move, so the
 * count shown carries an offset.
 */
static void
eff_install(struct hd_config *now, uint64_t version)
{
	static struct list_state next[HD_CONFIG_LISTS_MAX];	/* builder only */
	const struct hd_config *old = pol.eff;
	int64_t offs[HD_CONFIG_LISTS_MAX];
	int used[HD_CONFIG_LISTS_MAX] = { 0 };

	for (unsigned int j = 0; j < now->n_lists; j++) {
		memset(&next[j], 0, sizeof(next[j]));
		offs[j] = -(int64_t)hits_raw(j);
		for (unsigned int i = 0; old != NULL && i < old->n_lists; i++) {
			if (used[i] || !same_list(&old->lists[i], &now->lists[j]))
				continue;
			next[j] = pol.lists[i];
			used[i] = 1;
			offs[j] = (int64_t)hits_raw(i) + pol.hits_offset[i] - (int64_t)hits_raw(j);
			break;
		}
	}
	for (unsigned int i = 0; old != NULL && i < old->n_lists; i++)
		if (!used[i])
			free(pol.lists[i].text);
	pthread_mutex_lock(&pol.lock);
	memset(pol.lists, 0, sizeof(pol.lists));
	memcpy(pol.lists, next, now->n_lists * sizeof(next[0]));
	memset(pol.hits_offset, 0, sizeof(pol.hits_offset));
	memcpy(pol.hits_offset, offs, now->n_lists * sizeof(offs[0]));
	pol.eff = now;
	pol.n_cfg_lists = pol.base->n_lists;
	pol.state_version = version;
	pthread_mutex_unlock(&pol.lock);
	free((void *)(uintptr_t)old);
}

static int
pause_active(void)
{
	int on;

	pthread_mutex_lock(&pol.lock);
	on = pol.pause_until != 0 && mono_ms() < pol.pause_until;
	pthread_mutex_unlock(&pol.lock);
	return on;
}

/* A list the builder should read now: every one at a refresh, else the new and the API's domains. */
static int
list_needs_read(const struct hd_config *cfg, unsigned int i, int refresh)
{
	const struct list_state *ls = &pol.lists[i];
	const char *name = cfg->lists[i].name;

	if (refresh)
		return 1;
	if (i >= pol.n_cfg_lists && (strcmp(name, HD_STATE_CUSTOM_BLOCK) == 0 ||
				     strcmp(name, HD_STATE_CUSTOM_ALLOW) == 0))
		return 1;
	/* Never tried: a list just added. One that failed waits for the next refresh. */
	return !ls->have && ls->last_error[0] == '\0';
}

/*
 * Read the lists (all of them when @p refresh, else only new ones), build,
 * publish. At a reload, what fails to build keeps the part of the current
 * policy it would replace. While blocking is paused the filter is built but
 * held back: the published policy has local data only.
 * @return 0, or a negative errno (fatal at start only).
 */
static int
rebuild(int initial, int refresh)
{
	const struct hd_fastpath_policy *cur = hd_policy_published;
	struct hd_filter *f, *compiled, *cur_f, *old_held;
	struct hd_fastpath_policy *next;
	struct hd_localzone *lz;
	struct hd_config *cfg;
	uint64_t t0 = mono_ms(), version = 0, sig;
	int frc, lrc, keep_local, paused;

	cfg = eff_make(&version);
	if (cfg == NULL)
		return -ENOMEM;
	eff_install(cfg, version);
	for (unsigned int i = 0; i < cfg->n_lists && !stopping(); i++)
		if (initial || list_needs_read(cfg, i, refresh))
			list_refresh(cfg, i, initial);
	if (stopping()) {
		texts_drop();
		return 0;
	}
	sig = filter_sig(cfg);
	cur_f = pol.held != NULL ? pol.held :
		cur != NULL ? (struct hd_filter *)(uintptr_t)cur->filter : NULL;
	/* Same lists, same texts (the usual refresh): keep the compiled filter. */
	if (!initial && cur_f != NULL && sig == pol.filter_sig && !lists_changed(cfg)) {
		f = NULL;
		frc = -EALREADY;
	} else {
		f = filter_build(cfg, &frc);
		if (frc == 0)
			pol.filter_sig = sig;
	}
	lz = local_build(cfg, initial, &lrc, &keep_local);
	if (initial && (frc < 0 || (lrc < 0 && !keep_local))) {
		/* At start every failure is the configuration's: refuse to run with half of it. */
		hd_filter_free(f);
		hd_localzone_free(lz);
		texts_drop();
		return frc < 0 ? frc : lrc;
	}
	next = calloc(1, sizeof(*next));
	if (next == NULL) {
		hd_filter_free(f);
		hd_localzone_free(lz);
		texts_settle(cfg);
		return -ENOMEM;
	}
	compiled = frc < 0 ? cur_f : f;
	paused = pause_active();
	next->filter = paused ? NULL : compiled;
	next->local = (lrc < 0 || keep_local) && cur != NULL ? cur->local : lz;
	next->generation = pol.generation + 1;
	pthread_mutex_lock(&pol.lock);
	pol.generation = next->generation;
	pol.filter_memory = compiled != NULL ? hd_filter_memory(compiled) : 0;
	pol.n_records = next->local != NULL ? hd_localzone_n_records(next->local) : 0;
	pol.n_zones = next->local != NULL ? hd_localzone_n_zones(next->local) : 0;
	pol.built_at = (int64_t)time(NULL);
	pthread_mutex_unlock(&pol.lock);
	/* Nothing to apply: the workers keep the path without a policy. */
	if (next->filter == NULL && next->local == NULL) {
		free(next);
		next = NULL;
	}
	old_held = pol.held;
	pol.held = paused ? compiled : NULL;
	publish(next, pol.held);
	/* A filter held during the pause was not published: nobody reads it. */
	if (old_held != NULL && old_held != compiled)
		hd_filter_free(old_held);
	APP_LOG(INFO, "policy %" PRIu64 " published in %" PRIu64 " ms: %u list(s), %zu bytes "
		"of filter%s, %u local record(s), %u zone(s), state version %" PRIu64,
		pol.generation, mono_ms() - t0, cfg->n_lists, pol.filter_memory,
		paused ? " (blocking paused)" : "", pol.n_records, pol.n_zones, version);
	/* After the publish, so that writing copies does not delay the new lists. */
	texts_settle(cfg);
	/* The texts and the builder's scratch were large: return them to the system. */
	malloc_trim(0);
	return 0;
}

/* --- configuration reload ------------------------------------------------------ */

static void
log_level_set(const char *level)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err", "warning",
		"notice", "info", "debug" };

	for (unsigned int i = 0; i < RTE_DIM(names); i++)
		if (strcmp(level, names[i]) == 0)
			rte_log_set_level_pattern("hd.*", RTE_LOG_EMERG + i);
}

/* The settings a reload applies; every other one needs a restart. */
static void
live_copy(struct hd_config *dst, const struct hd_config *src)
{
#define LIVE(f) memcpy(&dst->f, &src->f, sizeof(dst->f))
	LIVE(lists);
	LIVE(n_lists);
	LIVE(block_mode);
	LIVE(block_ttl);
	LIVE(block_v4);
	LIVE(block_v6);
	LIVE(has_block_v4);
	LIVE(has_block_v6);
	LIVE(list_refresh);
	LIVE(list_dir);
	LIVE(groups);
	LIVE(n_groups);
	LIVE(records);
	LIVE(n_records);
	LIVE(zone_files);
	LIVE(n_zone_files);
	LIVE(local_zones);
	LIVE(n_local_zones);
	LIVE(local_ptr);
	LIVE(log_level);
#undef LIVE
}

static int
sa_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		       memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
	return 1;
}

static int
server_same(const struct hd_config_server *a, const struct hd_config_server *b)
{
	return sa_same(&a->addr, &b->addr) && a->tls == b->tls &&
	       strcmp(a->tls_name, b->tls_name) == 0;
}

static int
same_listen(const struct hd_config *a, const struct hd_config *b)
{
	if (a->n_listen != b->n_listen)
		return 0;
	for (unsigned int i = 0; i < a->n_listen; i++)
		if (a->listen[i].family != b->listen[i].family ||
		    a->listen[i].prefix != b->listen[i].prefix ||
		    memcmp(a->listen[i].addr, b->listen[i].addr, 16) != 0)
			return 0;
	return 1;
}

static int
same_upstream(const struct hd_config *a, const struct hd_config *b)
{
	if (a->n_upstream != b->n_upstream)
		return 0;
	for (unsigned int i = 0; i < a->n_upstream; i++)
		if (!sa_same(&a->upstream[i], &b->upstream[i]) ||
		    !server_same(&a->upstream_server[i], &b->upstream_server[i]))
			return 0;
	return 1;
}

static int
same_forwards(const struct hd_config *a, const struct hd_config *b)
{
	if (a->n_forwards != b->n_forwards)
		return 0;
	for (unsigned int i = 0; i < a->n_forwards; i++) {
		const struct hd_config_forward *x = &a->forwards[i], *y = &b->forwards[i];

		if (strcmp(x->domain, y->domain) != 0 || x->n_servers != y->n_servers)
			return 0;
		for (unsigned int s = 0; s < x->n_servers; s++)
			if (!server_same(&x->servers[s], &y->servers[s]))
				return 0;
	}
	return 1;
}

static int
same_redis(const struct hd_config *a, const struct hd_config *b)
{
	const struct hd_config_redis *x = &a->redis, *y = &b->redis;

	return x->enabled == y->enabled && strcmp(x->host, y->host) == 0 && x->port == y->port &&
	       x->db == y->db && strcmp(x->user, y->user) == 0 &&
	       strcmp(x->password, y->password) == 0 && x->tls == y->tls;
}

#define RK_MEM(key, f) { key, offsetof(struct hd_config, f), \
	sizeof(((struct hd_config *)0)->f), 0, NULL }
#define RK_STR(key, f) { key, offsetof(struct hd_config, f), \
	sizeof(((struct hd_config *)0)->f), 1, NULL }
#define RK_FN(key, fn) { key, 0, 0, 0, fn }

/* Settings read once at start (ports, cores, memory, sockets, threads). */
static const struct restart_key {
	const char *key;
	size_t off, size;
	int is_str;
	int (*same)(const struct hd_config *, const struct hd_config *);
} restart_keys[] = {
	RK_FN("listen", same_listen), RK_MEM("port", port), RK_FN("upstream", same_upstream),
	RK_MEM("upstream-timeout-ms", upstream_timeout_ms),
	RK_MEM("upstream-budget-ms", upstream_budget_ms),
	RK_MEM("upstream-strategy", upstream_strategy), RK_STR("tls-ca-file", tls_ca_file),
	RK_FN("forward-zone", same_forwards), RK_MEM("cache.entries", cache_entries),
	RK_MEM("cache.bytes", cache_bytes), RK_MEM("cache.min-ttl", cache_min_ttl),
	RK_MEM("cache.max-ttl", cache_max_ttl), RK_MEM("cache.negative-max-ttl", cache_neg_max_ttl),
	RK_MEM("serve-stale", serve_stale), RK_MEM("stale-ttl", stale_ttl),
	RK_MEM("stale-window", stale_window), RK_MEM("prefetch", prefetch),
	RK_STR("cache-file", cache_file), RK_MEM("cache-save-interval", cache_save_interval),
	RK_MEM("udp-size", udp_size), RK_MEM("tcp", tcp),
	RK_MEM("manage-addresses", manage_addresses), RK_MEM("ring-size", ring_size),
	RK_MEM("mbufs", mbufs), RK_MEM("max-pending", max_pending), RK_STR("xdp-prog", xdp_prog),
	RK_FN("redis", same_redis), RK_STR("node-id", node_id), RK_STR("redis-prefix", redis_prefix),
	RK_MEM("redis-timeout-ms", redis_timeout_ms), RK_STR("redis-sentinel", redis_sentinel),
	RK_STR("redis-sentinel-master", redis_sentinel_master),
	RK_STR("redis-ca-file", redis_ca_file), RK_MEM("cluster-interval", cluster_interval),
	RK_STR("http-listen", http_listen), RK_MEM("http-port", http_port),
	RK_STR("api-token-file", api_token_file), RK_STR("state-dir", state_dir),
	RK_MEM("querylog", querylog), RK_STR("querylog-file", querylog_file),
	RK_MEM("querylog-max-size", querylog_max_size), RK_MEM("querylog-files", querylog_files),
	RK_MEM("querylog-memory", querylog_memory),
	RK_MEM("querylog-anonymize", querylog_anonymize),
};

/* "key1, key2" of the settings that differ and need a restart. */
static void
restart_diff(const struct hd_config *run, const struct hd_config *now, char *out, size_t cap)
{
	size_t off = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < RTE_DIM(restart_keys); i++) {
		const struct restart_key *k = &restart_keys[i];
		const char *a = (const char *)run + k->off, *b = (const char *)now + k->off;
		int same;
		int n;

		if (k->same != NULL)
			same = k->same(run, now);
		else if (k->is_str)
			same = strncmp(a, b, k->size) == 0;
		else
			same = memcmp(a, b, k->size) == 0;
		if (same)
			continue;
		n = snprintf(out + off, cap - off, "%s%s", off ? ", " : "", k->key);
		if (n < 0 || (size_t)n >= cap - off)
			break;
		off += (size_t)n;
	}
}

static void
reload_done(int ok, const char *err, const char *restart)
{
	pthread_mutex_lock(&pol.lock);
	if (ok)
		pol.reload.ok++;
	else
		pol.reload.failed++;
	pol.reload.last_at = (int64_t)time(NULL);
	snprintf(pol.reload.last_error, sizeof(pol.reload.last_error), "%s", err);
	snprintf(pol.reload.needs_restart, sizeof(pol.reload.needs_restart), "%s", restart);
	pthread_mutex_unlock(&pol.lock);
}

/*
 * Read the configuration again (same file, same flags, same checks as at
 * start, and its records and zones compiled): when it is good, its live
 * settings replace the running ones; otherwise the running ones stay.
 * @return 0 when applied.
 */
static int
config_reload(void)
{
	char err[HD_CONFIG_ERR_LEN], restart[sizeof(pol.reload.needs_restart)];
	struct hd_config *n = malloc(sizeof(*n));
	const char *file = hd_params_config_file();
	int rc;

	if (n == NULL) {
		reload_done(0, "out of memory", "");
		return -ENOMEM;
	}
	rc = hd_params_reload(n, err, sizeof(err));
	if (rc == 0)
		rc = hd_policy_check(n, 0, err, sizeof(err));
	if (rc < 0) {
		APP_LOG(ERR, "reload: %s; the running configuration stays", err);
		reload_done(0, err, "");
		free(n);
		return rc;
	}
	restart_diff(pol.base, n, restart, sizeof(restart));
	pthread_mutex_lock(&pol.lock);
	live_copy(pol.base, n);
	pthread_mutex_unlock(&pol.lock);
	log_level_set(pol.base->log_level);
	if (restart[0] != '\0')
		APP_LOG(WARNING, "reload: %s changed; needs restart: %s (not applied)",
			file != NULL ? file : "the command line", restart);
	APP_LOG(INFO, "reload: configuration %s read; lists, groups, records, zones, "
		"block settings, list-refresh and log-level applied",
		file != NULL ? file : "(command line only)");
	reload_done(1, "", restart);
	free(n);
	return 0;
}

/* --- the control thread ----------------------------------------------------- */

#define CONTROL_TICK_MS	200	/* SIGHUP and the pause's end are noticed within this */

/*
 * Sleeps until a request (API, telemetry, cluster), SIGHUP, the end of a
 * pause or the list-refresh timer; then does the work and publishes. The
 * lock is held while waiting, never while building.
 */
static void *
control_main(void *arg)
{
	uint64_t next_refresh, now, seq;
	unsigned int work;
	int refresh;

	RTE_SET_USED(arg);
	pthread_mutex_lock(&pol.lock);
	next_refresh = mono_ms() + (uint64_t)pol.base->list_refresh * 1000;
	while (!pol.stop) {
		now = mono_ms();
		if (sighup) {
			sighup = 0;
			APP_LOG(INFO, "SIGHUP: reloading the configuration");
			pol.pending |= HD_POLICY_REQ_RELOAD | HD_POLICY_REQ_ANNOUNCE;
		}
		if (pol.pause_until != 0 && now >= pol.pause_until) {
			pol.pause_until = 0;
			pol.pending |= HD_POLICY_REQ_PAUSE;
			APP_LOG(INFO, "blocking pause over: blocking again");
		}
		refresh = pol.soon || (pol.base->list_refresh > 0 && now >= next_refresh);
		if (pol.pending == 0 && !refresh) {
			struct timespec ts;

			hd_deadline_ms(&ts, CONTROL_TICK_MS);
			pthread_cond_timedwait(&pol.wake, &pol.lock, &ts);
			continue;
		}
		work = pol.pending;
		pol.pending = 0;
		seq = pol.seq_req;
		pol.soon = 0;
		pol.building = 1;
		pthread_mutex_unlock(&pol.lock);
		if ((work & HD_POLICY_REQ_RELOAD) && config_reload() == 0)
			refresh = 1;
		refresh |= (work & HD_POLICY_REQ_REFRESH) != 0;
		(void)rebuild(0, refresh);
		hd_state_announce_applied(pol.state_version, (work & HD_POLICY_REQ_ANNOUNCE) &&
					  refresh);
		pthread_mutex_lock(&pol.lock);
		pol.building = 0;
		pol.seq_done = seq;
		pthread_cond_broadcast(&pol.done);
		if (refresh)
			next_refresh = mono_ms() + (uint64_t)pol.base->list_refresh * 1000;
	}
	pthread_mutex_unlock(&pol.lock);
	return NULL;
}

uint64_t
hd_policy_request(unsigned int what)
{
	uint64_t t;

	pthread_mutex_lock(&pol.lock);
	pol.pending |= what;
	t = ++pol.seq_req;
	pthread_cond_signal(&pol.wake);
	pthread_mutex_unlock(&pol.lock);
	return t;
}

int
hd_policy_wait(uint64_t ticket, unsigned int timeout_ms)
{
	struct timespec ts;
	int rc;

	hd_deadline_ms(&ts, timeout_ms);
	pthread_mutex_lock(&pol.lock);
	while (pol.seq_done < ticket && !pol.stop && pol.thread_started)
		if (pthread_cond_timedwait(&pol.done, &pol.lock, &ts) == ETIMEDOUT)
			break;
	rc = pol.seq_done >= ticket ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&pol.lock);
	return rc;
}

void
hd_policy_reload_info(struct hd_policy_reload_info *r)
{
	pthread_mutex_lock(&pol.lock);
	*r = pol.reload;
	pthread_mutex_unlock(&pol.lock);
}

uint64_t
hd_policy_pause(uint32_t seconds)
{
	pthread_mutex_lock(&pol.lock);
	pol.pause_until = seconds != 0 ? mono_ms() + (uint64_t)seconds * 1000 : 0;
	pthread_mutex_unlock(&pol.lock);
	if (seconds != 0)
		APP_LOG(INFO, "blocking paused for %u s", seconds);
	else
		APP_LOG(INFO, "blocking resumed");
	return hd_policy_request(HD_POLICY_REQ_PAUSE);
}

uint64_t
hd_policy_pause_left_ms(void)
{
	uint64_t left = 0, now = mono_ms();

	pthread_mutex_lock(&pol.lock);
	if (pol.pause_until > now)
		left = pol.pause_until - now;
	pthread_mutex_unlock(&pol.lock);
	return left;
}

/* --- checks ----------------------------------------------------------------------- */

static int
local_check(const struct hd_config *cfg, char *err, size_t errlen)
{
	struct hd_localzone_builder *b;
	struct hd_localzone *lz;
	char e[HD_CONFIG_ERR_LEN];

	if (cfg->n_records == 0 && cfg->n_zone_files == 0 && cfg->n_local_zones == 0)
		return 0;
	b = hd_localzone_builder_create();
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	hd_localzone_builder_auto_ptr(b, cfg->local_ptr);
	for (unsigned int i = 0; i < cfg->n_records; i++)
		if (hd_localzone_add_record(b, cfg->records[i].text, cfg->records[i].where, err,
					    errlen) < 0)
			goto fail;
	for (unsigned int i = 0; i < cfg->n_local_zones; i++)
		if (hd_localzone_builder_add_zone(b, cfg->local_zones[i].name, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s: local-zone %s: %s", cfg->local_zones[i].where,
				 cfg->local_zones[i].name, e);
			goto fail;
		}
	for (unsigned int i = 0; i < cfg->n_zone_files; i++)
		if (hd_localzone_add_zone_file(b, cfg->zone_files[i].path, NULL, e,
					       sizeof(e)) < 0) {
			snprintf(err, errlen, "%s: zone-file: %s", cfg->zone_files[i].where, e);
			goto fail;
		}
	lz = hd_localzone_build(b, e, sizeof(e));
	if (lz == NULL) {
		snprintf(err, errlen, "local records and zones: %s", e);
		return -EINVAL;
	}
	hd_localzone_free(lz);
	return 0;
fail:
	hd_localzone_builder_free(b);
	return -EINVAL;
}

/* Every local list file can be read and parsed (URLs are not downloaded). */
static int
lists_check(const struct hd_config *cfg, char *err, size_t errlen)
{
	struct hd_filter_builder *fb = hd_filter_builder_create();
	struct hd_filter_list_spec spec;
	char e[ERR_LEN];
	int rc = 0;

	if (fb == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < cfg->n_lists && rc == 0; i++) {
		const struct hd_config_list *l = &cfg->lists[i];
		struct buf b = { 0 };
		int idx;

		if (l->is_url)
			continue;
		rc = file_read(l->source, &b, e);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s %s: %s", l->where, l->allow ? "allowlist" :
				 "blocklist", l->name, e);
		} else {
			spec_fill(cfg, l, &spec);
			idx = hd_filter_builder_add_list(fb, &spec, b.p != NULL ? b.p : "", b.len,
							 NULL);
			if (idx < 0) {
				snprintf(err, errlen, "%s: %s %s: cannot be parsed: %s", l->where,
					 l->allow ? "allowlist" : "blocklist", l->name,
					 strerror(-idx));
				rc = -EINVAL;
			}
		}
		free(b.p);
	}
	hd_filter_builder_free(fb);
	return rc < 0 ? -EINVAL : 0;
}

int
hd_policy_check(const struct hd_config *cfg, int read_lists, char *err, size_t errlen)
{
	int rc = local_check(cfg, err, errlen);

	if (rc == 0 && read_lists)
		rc = lists_check(cfg, err, errlen);
	return rc;
}

int
hd_policy_state_check(const json_t *doc, char *err, size_t errlen)
{
	struct hd_config *c = malloc(sizeof(*c));
	int rc;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&pol.lock);
	if (pol.base == NULL) {
		pthread_mutex_unlock(&pol.lock);
		free(c);
		snprintf(err, errlen, "not running");
		return -ENODEV;
	}
	memcpy(c, pol.base, sizeof(*c));
	pthread_mutex_unlock(&pol.lock);
	rc = hd_state_merge(doc, c, 1, err, errlen);
	if (rc == 0)
		rc = hd_config_validate(c, err, errlen);
	if (rc == 0)
		rc = local_check(c, err, errlen);
	free(c);
	return rc < 0 ? -EINVAL : 0;
}

/* --- start and stop ------------------------------------------------------------- */

int
hd_policy_init(struct hd_app *app)
{
	unsigned int readers = app->n_workers + 1;
	size_t sz = rte_rcu_qsbr_get_memsize(readers);
	pthread_condattr_t ca;
	uint64_t version;
	int rc;

	pol.app = app;
	app->policy_qsv = rte_zmalloc("hd_policy_qsv", sz, RTE_CACHE_LINE_SIZE);
	if (app->policy_qsv == NULL || rte_rcu_qsbr_init(app->policy_qsv, readers) != 0) {
		APP_LOG(ERR, "cannot create the policy RCU variable for %u readers", readers);
		return -ENOMEM;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pol.wake, &ca);
	pthread_cond_init(&pol.done, &ca);
	pthread_condattr_destroy(&ca);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		APP_LOG(ERR, "cannot initialise libcurl");
		return -ENOMEM;
	}
	pol.curl_ready = 1;
	pol.base = malloc(sizeof(*pol.base));
	if (pol.base == NULL || hd_state_init(&app->cfg) < 0)
		return -ENOMEM;
	memcpy(pol.base, &app->cfg, sizeof(*pol.base));
	for (unsigned int w = 0; w < app->n_workers; w++)
		for (unsigned int p = 0; p < HD_APP_PORTS_MAX; p++)
			app->workers[w].ctx[p].filter_hits = app->workers[w].filter_hits;
	rc = rebuild(1, 1);
	json_decref(hd_state_get(&version));
	if (rc < 0 && version != 0) {
		/* The configuration may have changed under the API's state: run without it. */
		APP_LOG(ERR, "the API's changes (state version %" PRIu64 ") do not apply over "
			"this configuration; starting without them (state.json is kept; the next "
			"change through the API replaces it)", version);
		pol.state_ignored = version;
		rc = rebuild(1, 1);
	}
	if (rc < 0)
		APP_LOG(ERR, "cannot build the blocklists and local data: %s", strerror(-rc));
	return rc;
}

int
hd_policy_start(struct hd_app *app)
{
	int rc;

	RTE_SET_USED(app);
	/* Always: the API, the cluster and SIGHUP hand their work to this thread. */
	rc = rte_ctrl_thread_create(&pol.thread, "hd-policy", NULL, control_main, NULL);
	if (rc != 0) {
		APP_LOG(ERR, "cannot start the policy control thread: %s", strerror(rc));
		return -rc;
	}
	pthread_mutex_lock(&pol.lock);
	pol.thread_started = 1;
	pthread_mutex_unlock(&pol.lock);
	return 0;
}

void
hd_policy_fini(struct hd_app *app)
{
	if (pol.thread_started) {
		pthread_mutex_lock(&pol.lock);
		__atomic_store_n(&pol.stop, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&pol.wake);
		pthread_cond_broadcast(&pol.done);
		pthread_mutex_unlock(&pol.lock);
		pthread_join(pol.thread, NULL);
		pol.thread_started = 0;
	}
	/* The readers are stopped: no grace period to wait for. */
	policy_free_unshared(hd_policy_published, NULL, NULL);
	hd_policy_published = NULL;
	hd_filter_free(pol.held);
	pol.held = NULL;
	texts_drop();
	for (unsigned int i = 0; i < HD_CONFIG_LISTS_MAX; i++) {
		free(pol.lists[i].text);
		pol.lists[i].text = NULL;
	}
	if (pol.curl_ready)
		curl_global_cleanup();
	pol.curl_ready = 0;
	rte_free(app->policy_qsv);
	app->policy_qsv = NULL;
	pthread_mutex_lock(&pol.lock);
	pol.app = NULL;
	free(pol.eff);
	pol.eff = NULL;
	free(pol.base);
	pol.base = NULL;
	pthread_mutex_unlock(&pol.lock);
	hd_state_fini();
}

/* --- DNS over TCP ---------------------------------------------------------------- */

int
hd_policy_tcp_hook(void *arg, const struct sockaddr_storage *client,
		   const struct hd_dns_query *q, uint8_t *msg, size_t reply_len, size_t cap)
{
	const struct hd_fastpath_policy *p = hd_policy_current();
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *addr;
	int v6 = 0;

	RTE_SET_USED(arg);
	if (p == NULL)
		return 0;
	if (client->ss_family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)client)->sin_addr;
	} else if (client->ss_family == AF_INET6) {
		addr = (const uint8_t *)&((const struct sockaddr_in6 *)client)->sin6_addr;
		v6 = 1;
		/* Groups are written with IPv4 subnets for IPv4 clients. */
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			addr += sizeof(mapped);
			v6 = 0;
		}
	} else {
		return 0;
	}
	return hd_fastpath_policy_apply(p, slow_hits, hd_stats_self(), addr, v6, q, msg,
					reply_len, cap, TCP_LIMIT);
}

/* --- telemetry ------------------------------------------------------------------- */

/* Called with pol.lock held. */
static uint64_t
hits_of(unsigned int i)
{
	int64_t v = (int64_t)hits_raw(i) + pol.hits_offset[i];

	return v > 0 ? (uint64_t)v : 0;
}

/*
 * DPDK 22.11 accepts only [A-Za-z0-9_/] in dict keys, and list and group
 * names may hold '.' and '-': those become '_' in the key, and the entry
 * carries the real name in "name".
 */
static void
tel_key(const char *name, char *key, size_t cap)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < cap; i++) {
		char ch = name[i];

		key[i] = (isalnum((unsigned char)ch) || ch == '_' || ch == '/') ? ch : '_';
	}
	key[i] = '\0';
}

/* Called with pol.lock held. */
static struct rte_tel_data *
list_dict(const struct hd_config_list *l, unsigned int i, int with_errors)
{
	const struct list_state *ls = &pol.lists[i];
	struct rte_tel_data *d = rte_tel_data_alloc(), *errs = rte_tel_data_alloc();
	const char *syn = hd_filter_syntax_name(ls->rep.syntax);

	if (d == NULL || errs == NULL) {
		rte_tel_data_free(d);
		rte_tel_data_free(errs);
		return NULL;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", l->name);
	rte_tel_data_add_dict_string(d, "source", l->source);
	rte_tel_data_add_dict_string(d, "syntax", ls->have && syn != NULL ? syn :
				     l->syntax);
	rte_tel_data_add_dict_u64(d, "allow", (uint64_t)l->allow);
	if (!l->allow)
		rte_tel_data_add_dict_string(d, "mode", hd_config_block_mode_name(
					     l->mode >= 0 ? l->mode : pol.eff->block_mode));
	rte_tel_data_add_dict_u64(d, "rules", ls->rules);
	rte_tel_data_add_dict_u64(d, "rejected", ls->rep.rejected);
	rte_tel_data_add_dict_u64(d, "skipped", ls->rep.skipped);
	rte_tel_data_add_dict_u64(d, "lines", ls->rep.lines);
	rte_tel_data_add_dict_u64(d, "hits", hits_of(i));
	rte_tel_data_add_dict_u64(d, "loaded_at", (uint64_t)ls->loaded_at);
	rte_tel_data_add_dict_string(d, "last_error", ls->last_error);
	rte_tel_data_start_array(errs, RTE_TEL_STRING_VAL);
	for (uint32_t k = 0; with_errors && k < ls->rep.n_errors && k < HD_FILTER_ERRORS_MAX; k++)
		rte_tel_data_add_array_string(errs, ls->rep.errors[k]);
	rte_tel_data_add_dict_container(d, "errors", errs, 0);
	return d;
}

static struct rte_tel_data *
group_dict(const struct hd_config_group *g)
{
	struct rte_tel_data *d = rte_tel_data_alloc(), *c = rte_tel_data_alloc();
	struct rte_tel_data *l = rte_tel_data_alloc();
	const struct hd_config *cfg = pol.eff;

	if (d == NULL || c == NULL || l == NULL) {
		rte_tel_data_free(d);
		rte_tel_data_free(c);
		rte_tel_data_free(l);
		return NULL;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", g->name);
	rte_tel_data_start_array(c, RTE_TEL_STRING_VAL);
	for (unsigned int i = 0; i < g->n_subnets; i++)
		rte_tel_data_add_array_string(c, g->subnets[i]);
	rte_tel_data_start_array(l, RTE_TEL_STRING_VAL);
	for (unsigned int i = 0; g->all_lists && i < cfg->n_lists; i++)
		rte_tel_data_add_array_string(l, cfg->lists[i].name);
	for (unsigned int i = 0; !g->all_lists && i < g->n_lists; i++)
		rte_tel_data_add_array_string(l, g->lists[i]);
	rte_tel_data_add_dict_container(d, "clients", c, 0);
	rte_tel_data_add_dict_container(d, "lists", l, 0);
	return d;
}

/* /heimdall/filter[,NAME]: every list (or the one named), the groups, the generation. */
static int
handle_filter(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *lists = rte_tel_data_alloc(), *groups = rte_tel_data_alloc();
	char key[HD_CONFIG_NAME_LEN];
	const struct hd_config *cfg;
	int rc = 0;

	if (lists == NULL || groups == NULL) {
		rte_tel_data_free(lists);
		rte_tel_data_free(groups);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_start_dict(lists);
	rte_tel_data_start_dict(groups);
	pthread_mutex_lock(&pol.lock);
	if (pol.app == NULL || pol.eff == NULL) {
		pthread_mutex_unlock(&pol.lock);
		rte_tel_data_free(lists);
		rte_tel_data_free(groups);
		return -ENODEV;
	}
	cfg = pol.eff;
	for (unsigned int i = 0; i < cfg->n_lists && rc == 0; i++) {
		struct rte_tel_data *one;

		tel_key(cfg->lists[i].name, key, sizeof(key));
		if (params != NULL && params[0] != '\0' && strcmp(params, cfg->lists[i].name) != 0 &&
		    strcmp(params, key) != 0)
			continue;
		/* The reply holds 16 KiB: with many lists, bad lines only for one asked by name. */
		one = list_dict(&cfg->lists[i], i, cfg->n_lists <= TEL_ERRORS_LISTS ||
				(params != NULL && params[0] != '\0'));
		if (one == NULL) {
			rc = -ENOMEM;
			break;
		}
		tel_key(cfg->lists[i].name, key, sizeof(key));
		if (rte_tel_data_add_dict_container(lists, key, one, 0) != 0)
			rte_tel_data_free(one);
	}
	for (unsigned int g = 0; g < cfg->n_groups && rc == 0; g++) {
		struct rte_tel_data *one = group_dict(&cfg->groups[g]);

		if (one == NULL) {
			rc = -ENOMEM;
			break;
		}
		tel_key(cfg->groups[g].name, key, sizeof(key));
		if (rte_tel_data_add_dict_container(groups, key, one, 0) != 0)
			rte_tel_data_free(one);
	}
	rte_tel_data_add_dict_u64(d, "generation", pol.generation);
	rte_tel_data_add_dict_u64(d, "memory", pol.filter_memory);
	rte_tel_data_add_dict_string(d, "block_mode", hd_config_block_mode_name(cfg->block_mode));
	rte_tel_data_add_dict_u64(d, "block_ttl", cfg->block_ttl);
	rte_tel_data_add_dict_u64(d, "list_refresh", cfg->list_refresh);
	rte_tel_data_add_dict_u64(d, "reloading", (uint64_t)pol.building);
	pthread_mutex_unlock(&pol.lock);
	if (rc < 0) {
		rte_tel_data_free(lists);
		rte_tel_data_free(groups);
		return rc;
	}
	rte_tel_data_add_dict_container(d, "lists", lists, 0);
	rte_tel_data_add_dict_container(d, "groups", groups, 0);
	return 0;
}

static int
handle_records(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *d)
{
	struct rte_tel_data *files = rte_tel_data_alloc();
	const struct hd_config *cfg;
	int rc = 0;

	if (files == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_start_dict(files);
	pthread_mutex_lock(&pol.lock);
	if (pol.app == NULL || pol.eff == NULL) {
		pthread_mutex_unlock(&pol.lock);
		rte_tel_data_free(files);
		return -ENODEV;
	}
	cfg = pol.eff;
	rte_tel_data_add_dict_u64(d, "records", pol.n_records);
	rte_tel_data_add_dict_u64(d, "zones", pol.n_zones);
	rte_tel_data_add_dict_u64(d, "generation", pol.generation);
	rte_tel_data_add_dict_u64(d, "config_records", cfg->n_records);
	/* Paths cannot be telemetry keys: one entry per zone file, by rank. */
	for (unsigned int i = 0; i < cfg->n_zone_files && rc == 0; i++) {
		struct rte_tel_data *one = rte_tel_data_alloc();
		char key[16];

		if (one == NULL) {
			rc = -ENOMEM;
			break;
		}
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_string(one, "path", cfg->zone_files[i].path);
		rte_tel_data_add_dict_u64(one, "loaded_at", (uint64_t)pol.zones[i].loaded_at);
		rte_tel_data_add_dict_string(one, "last_error", pol.zones[i].last_error);
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(files, key, one, 0);
	}
	pthread_mutex_unlock(&pol.lock);
	if (rc < 0) {
		rte_tel_data_free(files);
		return rc;
	}
	rte_tel_data_add_dict_container(d, "zone_files", files, 0);
	return 0;
}

static int
handle_reload(const char *cmd __rte_unused, const char *params __rte_unused,
	      struct rte_tel_data *d)
{
	uint64_t gen;

	/* The same as SIGHUP: the configuration file, then every list and zone file. */
	(void)hd_policy_request(HD_POLICY_REQ_RELOAD | HD_POLICY_REQ_ANNOUNCE);
	pthread_mutex_lock(&pol.lock);
	gen = pol.generation;
	pthread_mutex_unlock(&pol.lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "reload", "started");
	rte_tel_data_add_dict_u64(d, "generation", gen);
	return 0;
}

/* /heimdall/control: reloads (applied, refused, why), state version, pause. */
static int
handle_control(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *d)
{
	struct hd_policy_reload_info r;
	uint64_t gen, version, left = hd_policy_pause_left_ms();

	hd_policy_reload_info(&r);
	pthread_mutex_lock(&pol.lock);
	gen = pol.generation;
	version = pol.state_version;
	pthread_mutex_unlock(&pol.lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "reloads", r.ok);
	rte_tel_data_add_dict_u64(d, "reload_failures", r.failed);
	rte_tel_data_add_dict_u64(d, "last_reload_at", (uint64_t)r.last_at);
	rte_tel_data_add_dict_string(d, "last_reload_error", r.last_error);
	rte_tel_data_add_dict_string(d, "needs_restart", r.needs_restart);
	rte_tel_data_add_dict_u64(d, "state_version", version);
	rte_tel_data_add_dict_u64(d, "blocking_paused_ms", left);
	rte_tel_data_add_dict_u64(d, "generation", gen);
	return 0;
}

void
hd_policy_telemetry_register(void)
{
	/* DPDK refuses help texts of 128 characters or more: keep them short. */
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/heimdall/filter", handle_filter,
		  "Lists by name ('.', '-' shown as '_'): rules, rejected, hits, errors...; groups. Param: a list name." },
		{ "/heimdall/records", handle_records,
		  "Local records and zones, zone file states, generation. No parameters." },
		{ "/heimdall/reload", handle_reload,
		  "Reload every list and zone file now; returns the generation in use. No parameters." },
		{ "/heimdall/control", handle_control,
		  "Config reloads (applied, refused, last error, needs restart), API state version, pause. No parameters." },
	};

	for (unsigned int i = 0; i < RTE_DIM(cmds); i++)
		if (rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help) != 0)
			APP_LOG(WARNING, "cannot register telemetry command %s", cmds[i].cmd);
}

/* --- metrics ------------------------------------------------------------------------ */

unsigned int
hd_policy_lists_get(struct hd_policy_list_stat *out, unsigned int max)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&pol.lock);
	for (i = 0; pol.eff != NULL && i < pol.eff->n_lists && n < max; i++, n++) {
		snprintf(out[n].name, sizeof(out[n].name), "%s", pol.eff->lists[i].name);
		out[n].rules = pol.lists[i].rules;
		out[n].hits = hits_of(i);
	}
	pthread_mutex_unlock(&pol.lock);
	return n;
}

/* --- for the REST API ----------------------------------------------------------------- */

static json_t *
strings_json(const char (*v)[HD_CONFIG_NAME_LEN], unsigned int n)
{
	json_t *a = json_array();

	for (unsigned int i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *
hd_policy_lists_json(void)
{
	json_t *out = json_array();
	const struct hd_config *cfg;

	pthread_mutex_lock(&pol.lock);
	cfg = pol.eff;
	for (unsigned int i = 0; out != NULL && cfg != NULL && i < cfg->n_lists; i++) {
		const struct hd_config_list *l = &cfg->lists[i];
		const struct list_state *ls = &pol.lists[i];
		const char *syn = hd_filter_syntax_name(ls->rep.syntax);
		const char *origin = i < pol.n_cfg_lists ? "config" :
			strcmp(l->name, HD_STATE_CUSTOM_BLOCK) == 0 ||
			strcmp(l->name, HD_STATE_CUSTOM_ALLOW) == 0 ? "entries" : "api";
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b}",
			"name", l->name, "source", l->source, "kind", l->allow ? "allow" : "block",
			"syntax", ls->have && syn != NULL ? syn : l->syntax, "origin", origin,
			"rules", (json_int_t)ls->rules, "hits", (json_int_t)hits_of(i),
			"loaded_at", (json_int_t)ls->loaded_at, "last_error", ls->last_error,
			"read_only", strcmp(origin, "api") != 0);

		if (o != NULL && !l->allow)
			json_object_set_new(o, "mode", json_string(hd_config_block_mode_name(
				l->mode >= 0 ? l->mode : cfg->block_mode)));
		json_array_append_new(out, o);
	}
	pthread_mutex_unlock(&pol.lock);
	return out;
}

json_t *
hd_policy_config_records_json(void)
{
	json_t *out = json_array();

	pthread_mutex_lock(&pol.lock);
	for (unsigned int i = 0; out != NULL && pol.base != NULL && i < pol.base->n_records; i++)
		json_array_append_new(out, json_pack("{s:s, s:s}", "record",
			pol.base->records[i].text, "where", pol.base->records[i].where));
	pthread_mutex_unlock(&pol.lock);
	return out;
}

json_t *
hd_policy_config_groups_json(void)
{
	json_t *out = json_array();

	pthread_mutex_lock(&pol.lock);
	for (unsigned int g = 0; out != NULL && pol.base != NULL && g < pol.base->n_groups; g++) {
		const struct hd_config_group *gr = &pol.base->groups[g];
		json_t *c = json_array(), *o;

		for (unsigned int i = 0; c != NULL && i < gr->n_subnets; i++)
			json_array_append_new(c, json_string(gr->subnets[i]));
		o = json_pack("{s:s, s:o, s:s}", "name", gr->name, "clients", c, "where",
			      gr->where);
		if (o != NULL && !gr->all_lists)
			json_object_set_new(o, "lists", strings_json(gr->lists, gr->n_lists));
		json_array_append_new(out, o);
	}
	pthread_mutex_unlock(&pol.lock);
	return out;
}

int
hd_policy_config_has_list(const char *name)
{
	int found = 0;

	pthread_mutex_lock(&pol.lock);
	for (unsigned int i = 0; pol.base != NULL && i < pol.base->n_lists; i++)
		found |= strcmp(pol.base->lists[i].name, name) == 0;
	pthread_mutex_unlock(&pol.lock);
	return found;
}

int
hd_policy_config_has_group(const char *name)
{
	int found = 0;

	pthread_mutex_lock(&pol.lock);
	for (unsigned int i = 0; pol.base != NULL && i < pol.base->n_groups; i++)
		found |= strcmp(pol.base->groups[i].name, name) == 0;
	pthread_mutex_unlock(&pol.lock);
	return found;
}
