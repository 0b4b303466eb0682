/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The operator state: what the REST API (or another node of the cluster)
 * added over the configuration file, as one versioned JSON document:
 *
 *   {"format": 1, "version": <unix ms>,
 *    "records": ["nas.lab A 192.168.1.10", ...],
 *    "lists": [{"name", "source", "kind": "block"|"allow", "syntax", "mode",
 *               "ttl", "ipv4", "ipv6"}, ...],
 *    "blocklist": ["ads.example", ...], "allowlist": ["ok.example", ...],
 *    "groups": [{"name", "clients": [...], "lists": [...]}, ...]}
 *
 * It is kept in <state-dir>/state.json, written atomically (temp file,
 * fsync, rename, fsync of the directory), with the single-domain entries
 * also written as two domain lists beside it (custom-block.domains,
 * custom-allow.domains) that the policy reads like any list file. A file
 * that does not parse is renamed .bad and logged; heimdall then starts
 * without the API's changes rather than guess.
 *
 * Locks: `lock` guards the document and its version (short, any thread);
 * `wlock` is held by one writer from hd_state_begin() to hd_state_end(), so
 * that an API change and a cluster import never interleave.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "hd_app.h"
#include "hd_control.h"
#include "hd_dns.h"
#include "control.h"

#define STATE_FORMAT	1
#define STATE_FILE	"state.json"
#define PATH_LEN	(HD_CONFIG_SOURCE_LEN + 64)
#define ERR_LEN		HD_CONFIG_ERR_LEN

static struct {
	pthread_mutex_t lock;
	pthread_mutex_t wlock;
	json_t *doc;			/* never NULL after init */
	uint64_t version;
	uint64_t announce;		/* a local change not announced yet (its version) */
	char dir[HD_CONFIG_SOURCE_LEN];
	hd_control_announce_t announcer;
} st = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wlock = PTHREAD_MUTEX_INITIALIZER,
};

static json_t *
doc_empty(void)
{
	return json_pack("{s:i, s:I, s:[], s:[], s:[], s:[], s:[]}", "format", STATE_FORMAT,
			 "version", (json_int_t)0, "records", "lists", "blocklist", "allowlist",
			 "groups");
}

/* --- checking the document -------------------------------------------------- */

static int __rte_format_printf(3, 4)
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Printable ASCII without blanks: one token on one line of a list file,
 * in the form the list parser takes (ASCII or punycode, never UTF-8).
 */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
domain_ok(const char *s)
{
	uint8_t wire[HD_DNS_NAME_MAX];

	/* Entries are written one per line to custom-*.domains: a "\n" would add lines. */
	return s[0] != '\0' && strcmp(s, ".") != 0 && printable(s) &&
	       hd_dns_name_from_str(s, wire) > 1;
}

/* A record is one zone-file line: blanks between fields, no line break. */
static int
one_line(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < ' ' && *s != '\t') || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static int
str_array_check(const json_t *doc, const char *key, size_t maxlen, int domains, char *err,
		size_t errlen)
{
	const json_t *a = json_object_get(doc, key), *v;
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return bad(err, errlen, "%s: expected an array of strings", key);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= maxlen)
			return bad(err, errlen, "%s[%zu]: expected a string of 1 to %zu bytes", key,
				   i, maxlen - 1);
		if (domains && !domain_ok(json_string_value(v)))
			return bad(err, errlen, "%s[%zu]: '%s' is not a domain name", key, i,
				   json_string_value(v));
		if (!domains && !one_line(json_string_value(v)))
			return bad(err, errlen, "%s[%zu]: expected one line without control "
				   "characters", key, i);
	}
	return 0;
}

static int
field_str(const json_t *o, const char *where, const char *key, int required, size_t maxlen,
	  char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL)
		return required ? bad(err, errlen, "%s.%s: missing", where, key) : 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= maxlen)
		return bad(err, errlen, "%s.%s: expected a string of 1 to %zu bytes", where, key,
			   maxlen - 1);
	return 0;
}

static int
list_item_check(const json_t *o, const char *where, char *err, size_t errlen)
{
	static const char *const opt[] = { "syntax", "mode", "ipv4", "ipv6" };
	const char *kind;
	const json_t *ttl;
	int rc;

	if (!json_is_object(o))
		return bad(err, errlen, "%s: expected an object", where);
	rc = field_str(o, where, "name", 1, HD_CONFIG_NAME_LEN, err, errlen);
	if (rc == 0)
		rc = field_str(o, where, "source", 1, HD_CONFIG_SOURCE_LEN, err, errlen);
	if (rc == 0)
		rc = field_str(o, where, "kind", 1, 8, err, errlen);
	for (unsigned int i = 0; rc == 0 && i < RTE_DIM(opt); i++)
		rc = field_str(o, where, opt[i], 0, 64, err, errlen);
	if (rc < 0)
		return rc;
	kind = json_string_value(json_object_get(o, "kind"));
	if (strcmp(kind, "block") != 0 && strcmp(kind, "allow") != 0)
		return bad(err, errlen, "%s.kind: expected \"block\" or \"allow\"", where);
	ttl = json_object_get(o, "ttl");
	if (ttl != NULL && (!json_is_integer(ttl) || json_integer_value(ttl) < 0 ||
			    json_integer_value(ttl) > INT32_MAX))
		return bad(err, errlen, "%s.ttl: expected a number of seconds", where);
	return 0;
}

static int
group_item_check(const json_t *o, const char *where, char *err, size_t errlen)
{
	const json_t *c, *l, *v;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return bad(err, errlen, "%s: expected an object", where);
	rc = field_str(o, where, "name", 1, HD_CONFIG_NAME_LEN, err, errlen);
	if (rc < 0)
		return rc;
	c = json_object_get(o, "clients");
	if (!json_is_array(c) || json_array_size(c) == 0 ||
	    json_array_size(c) > HD_CONFIG_GROUP_SUBNETS_MAX)
		return bad(err, errlen, "%s.clients: expected an array of 1 to %d subnets", where,
			   HD_CONFIG_GROUP_SUBNETS_MAX);
	json_array_foreach(c, i, v)
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= HD_CONFIG_SUBNET_LEN)
			return bad(err, errlen, "%s.clients[%zu]: expected a subnet such as "
				   "\"10.0.0.0/24\"", where, i);
	l = json_object_get(o, "lists");
	if (l == NULL)
		return 0;
	if (!json_is_array(l) || json_array_size(l) > HD_CONFIG_GROUP_LISTS_MAX)
		return bad(err, errlen, "%s.lists: expected an array of at most %d list names",
			   where, HD_CONFIG_GROUP_LISTS_MAX);
	json_array_foreach(l, i, v)
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= HD_CONFIG_NAME_LEN)
			return bad(err, errlen, "%s.lists[%zu]: expected a list name", where, i);
	return 0;
}

static int
items_check(const json_t *doc, const char *key,
	    int (*fn)(const json_t *, const char *, char *, size_t), char *err, size_t errlen)
{
	const json_t *a = json_object_get(doc, key), *v;
	char where[64];
	size_t i;
	int rc;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return bad(err, errlen, "%s: expected an array of objects", key);
	json_array_foreach(a, i, v) {
		snprintf(where, sizeof(where), "%s[%zu]", key, i);
		rc = fn(v, where, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
hd_state_doc_check(const json_t *doc, char *err, size_t errlen)
{
	const json_t *f, *v;
	int rc;

	if (!json_is_object(doc))
		return bad(err, errlen, "the document is not a JSON object");
	f = json_object_get(doc, "format");
	if (!json_is_integer(f) || json_integer_value(f) != STATE_FORMAT)
		return bad(err, errlen, "format: expected %d (written by another heimdall "
			   "version?)", STATE_FORMAT);
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(err, errlen, "version: expected a number (unix milliseconds)");
	rc = str_array_check(doc, "records", HD_CONFIG_RECORD_LEN, 0, err, errlen);
	if (rc == 0)
		rc = str_array_check(doc, "blocklist", HD_CONFIG_DNAME_LEN, 1, err, errlen);
	if (rc == 0)
		rc = str_array_check(doc, "allowlist", HD_CONFIG_DNAME_LEN, 1, err, errlen);
	if (rc == 0)
		rc = items_check(doc, "lists", list_item_check, err, errlen);
	if (rc == 0)
		rc = items_check(doc, "groups", group_item_check, err, errlen);
	return rc;
}

/* --- files -------------------------------------------------------------------- */

/* Write <dir>/<name> whole or not at all (hd_file_write_atomic). */
static int
file_write_atomic(const char *name, const char *data, size_t len, char *err, size_t errlen)
{
	char path[PATH_LEN];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", st.dir, name);
	rc = hd_file_write_atomic(st.dir, path, data, len, 0640);
	if (rc < 0)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

static void
custom_path(char *out, size_t cap, const char *list)
{
	snprintf(out, cap, "%s/%s.domains", st.dir, list);
}

/* The domain entries as a list file the policy reads ("domains" syntax). */
static int
custom_write(const json_t *doc, const char *key, const char *list, char *err, size_t errlen)
{
	const json_t *a = json_object_get(doc, key), *v;
	char name[64];
	size_t i, len = 0, cap = 128;
	char *text;
	int rc;

	json_array_foreach(a, i, v)
		cap += json_string_length(v) + 1;
	text = malloc(cap);
	if (text == NULL)
		return -ENOMEM;
	len = (size_t)snprintf(text, cap, "# %s: written by heimdall from %s; change it through "
			       "the API\n", key, STATE_FILE);
	json_array_foreach(a, i, v)
		len += (size_t)snprintf(text + len, cap - len, "%s\n", json_string_value(v));
	snprintf(name, sizeof(name), "%s.domains", list);
	rc = file_write_atomic(name, text, len, err, errlen);
	free(text);
	return rc;
}

static int
persist(const json_t *doc, char *err, size_t errlen)
{
	char *text;
	int rc;

	if (st.dir[0] == '\0') {
		snprintf(err, errlen, "state-dir is empty: changes cannot be kept");
		return -EROFS;
	}
	/* Made at the first change, so that a heimdall never changed leaves no trace. */
	rc = hd_mkdirs(st.dir, 0750);
	if (rc < 0 || access(st.dir, W_OK) != 0) {
		snprintf(err, errlen, "state-dir %s cannot be written: %s", st.dir,
			 strerror(rc < 0 ? -rc : errno));
		return -EROFS;
	}
	rc = custom_write(doc, "blocklist", HD_STATE_CUSTOM_BLOCK, err, errlen);
	if (rc == 0)
		rc = custom_write(doc, "allowlist", HD_STATE_CUSTOM_ALLOW, err, errlen);
	if (rc < 0)
		return rc;
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = file_write_atomic(STATE_FILE, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

/* Keep a file that cannot be used beside, never drop it. */
static void
set_aside(const char *path, const char *why)
{
	char to[PATH_LEN + 32];
	struct stat sb;

	snprintf(to, sizeof(to), "%s.bad", path);
	if (stat(to, &sb) == 0)
		snprintf(to, sizeof(to), "%s.%" PRIu64 ".bad", path, hd_wall_ms());
	if (rename(path, to) == 0)
		APP_LOG(ERR, "%s: %s; kept as %s, starting without the API's changes", path, why,
			to);
	else
		APP_LOG(ERR, "%s: %s; cannot rename it (%s): starting without the API's changes, "
			"and changes will replace it", path, why, strerror(errno));
}

static json_t *
load(const char *path)
{
	char why[ERR_LEN];
	json_error_t je;
	json_t *doc;

	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			return NULL;
		snprintf(why, sizeof(why), "not valid JSON at line %d column %d: %s", je.line,
			 je.column, je.text);
		set_aside(path, why);
		return NULL;
	}
	if (hd_state_doc_check(doc, why, sizeof(why)) < 0) {
		json_decref(doc);
		set_aside(path, why);
		return NULL;
	}
	return doc;
}

int
hd_state_init(const struct hd_config *cfg)
{
	char path[PATH_LEN], err[ERR_LEN];
	json_t *doc = NULL;

	snprintf(st.dir, sizeof(st.dir), "%s", cfg->state_dir);
	st.doc = doc_empty();
	if (st.doc == NULL)
		return -ENOMEM;
	if (st.dir[0] == '\0') {
		APP_LOG(INFO, "state-dir is empty: the API cannot change anything");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", st.dir, STATE_FILE);
	doc = load(path);
	if (doc != NULL) {
		json_decref(st.doc);
		st.doc = doc;
		st.version = (uint64_t)json_integer_value(json_object_get(doc, "version"));
		APP_LOG(INFO, "%s: version %" PRIu64 ": %zu record(s), %zu list(s), %zu group(s), "
			"%zu blocked and %zu allowed domain(s)", path, st.version,
			json_array_size(json_object_get(doc, "records")),
			json_array_size(json_object_get(doc, "lists")),
			json_array_size(json_object_get(doc, "groups")),
			json_array_size(json_object_get(doc, "blocklist")),
			json_array_size(json_object_get(doc, "allowlist")));
	}
	/* The domain files follow the document, whatever happened to them since. */
	if (doc != NULL &&
	    (custom_write(st.doc, "blocklist", HD_STATE_CUSTOM_BLOCK, err, sizeof(err)) < 0 ||
	     custom_write(st.doc, "allowlist", HD_STATE_CUSTOM_ALLOW, err, sizeof(err)) < 0))
		APP_LOG(WARNING, "%s", err);
	else if (doc == NULL && access(st.dir, F_OK) == 0 && access(st.dir, W_OK) != 0)
		APP_LOG(WARNING, "state-dir %s is not writable: changes through the API will be "
			"refused", st.dir);
	return 0;
}

void
hd_state_fini(void)
{
	pthread_mutex_lock(&st.lock);
	json_decref(st.doc);
	st.doc = NULL;
	pthread_mutex_unlock(&st.lock);
}

json_t *
hd_state_get(uint64_t *version)
{
	json_t *copy;

	pthread_mutex_lock(&st.lock);
	copy = st.doc != NULL ? json_deep_copy(st.doc) : doc_empty();
	if (version != NULL)
		*version = st.version;
	pthread_mutex_unlock(&st.lock);
	return copy;
}

json_t *
hd_state_begin(void)
{
	json_t *copy;

	pthread_mutex_lock(&st.wlock);
	copy = hd_state_get(NULL);
	if (copy == NULL)
		pthread_mutex_unlock(&st.wlock);
	return copy;
}

void
hd_state_end(void)
{
	pthread_mutex_unlock(&st.wlock);
}

/* Swap @p doc in at @p version (persisted already); the caller holds wlock. */
static void
install(json_t *doc, uint64_t version, int local)
{
	json_t *old;

	pthread_mutex_lock(&st.lock);
	old = st.doc;
	st.doc = doc;
	st.version = version;
	if (local)
		st.announce = version;
	pthread_mutex_unlock(&st.lock);
	json_decref(old);
}

int
hd_state_commit(json_t *doc, uint64_t *version, char *err, size_t errlen)
{
	uint64_t v;
	int rc;

	pthread_mutex_lock(&st.lock);
	v = RTE_MAX(hd_wall_ms(), st.version + 1);
	pthread_mutex_unlock(&st.lock);
	if (json_object_set_new(doc, "version", json_integer((json_int_t)v)) != 0) {
		json_decref(doc);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = persist(doc, err, errlen);
	if (rc < 0) {
		json_decref(doc);
		return rc;
	}
	install(doc, v, 1);
	*version = v;
	return 0;
}

void
hd_state_announce_applied(uint64_t applied_version, int lists_refreshed)
{
	hd_control_announce_t fn;
	uint64_t v = 0;

	pthread_mutex_lock(&st.lock);
	fn = st.announcer;
	/* Announce a local change once it is in use; an import that replaced it wins. */
	if (st.announce != 0 && st.announce <= applied_version && st.announce == st.version)
		v = st.announce;
	if (st.announce != 0 && st.announce <= applied_version)
		st.announce = 0;
	pthread_mutex_unlock(&st.lock);
	if (fn != NULL && v != 0)
		fn("state", v);
	if (fn != NULL && lists_refreshed)
		fn("lists", hd_wall_ms());
}

/* --- merging into a configuration ------------------------------------------------ */

static int
merge_fail(int strict, int rc, const char *what, const char *msg, char *err, size_t errlen)
{
	if (strict) {
		snprintf(err, errlen, "%s: %s", what, msg);
		return rc;
	}
	APP_LOG(WARNING, "state %s: %s; skipped on this node", what, msg);
	return 0;
}

static int
merge_records(const json_t *doc, struct hd_config *c, int strict, char *err, size_t errlen)
{
	const json_t *a = json_object_get(doc, "records"), *v;
	char e[ERR_LEN], what[32];
	size_t i;
	int rc;

	json_array_foreach(a, i, v) {
		rc = hd_config_set(c, "record", json_string_value(v), HD_STATE_WHERE, e, sizeof(e));
		snprintf(what, sizeof(what), "records[%zu]", i);
		if (rc < 0 && merge_fail(strict, rc, what, e, err, errlen) < 0)
			return rc;
	}
	return 0;
}

static int
merge_list(const json_t *o, struct hd_config *c, char *e, size_t elen)
{
	static const char *const keys[] = { "name", "source", "syntax", "mode", "ttl", "ipv4",
					    "ipv6" };
	const char *fields[RTE_DIM(keys)], *values[RTE_DIM(keys)];
	char ttl[24];
	unsigned int n = 0;

	for (unsigned int k = 0; k < RTE_DIM(keys); k++) {
		const json_t *v = json_object_get(o, keys[k]);

		if (v == NULL)
			continue;
		fields[n] = keys[k];
		if (json_is_integer(v)) {
			snprintf(ttl, sizeof(ttl), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			values[n++] = ttl;
		} else {
			values[n++] = json_string_value(v);
		}
	}
	return hd_config_set_item(c, strcmp(json_string_value(json_object_get(o, "kind")),
					     "allow") == 0 ? "allowlist" : "blocklist",
				  fields, values, NULL, n, HD_STATE_WHERE, e, elen);
}

static int
merge_lists(const json_t *doc, struct hd_config *c, int strict, char *err, size_t errlen)
{
	const json_t *a = json_object_get(doc, "lists"), *v;
	char e[ERR_LEN], what[96];
	size_t i;
	int rc;

	json_array_foreach(a, i, v) {
		rc = merge_list(v, c, e, sizeof(e));
		snprintf(what, sizeof(what), "list %s", json_string_value(json_object_get(v, "name")));
		if (rc < 0 && merge_fail(strict, rc, what, e, err, errlen) < 0)
			return rc;
	}
	return 0;
}

/* The domain entries: one domains list each, when there are entries. */
static int
merge_custom(const json_t *doc, struct hd_config *c, int strict, char *err, size_t errlen)
{
	static const struct {
		const char *key, *list, *kind;
	} k[] = {
		{ "blocklist", HD_STATE_CUSTOM_BLOCK, "blocklist" },
		{ "allowlist", HD_STATE_CUSTOM_ALLOW, "allowlist" },
	};
	char path[PATH_LEN], e[ERR_LEN];
	int rc;

	for (unsigned int i = 0; i < RTE_DIM(k); i++) {
		const char *fields[] = { "name", "source", "syntax" };
		const char *values[] = { k[i].list, path, "domains" };

		if (json_array_size(json_object_get(doc, k[i].key)) == 0)
			continue;
		custom_path(path, sizeof(path), k[i].list);
		rc = hd_config_set_item(c, k[i].kind, fields, values, NULL, 3, HD_STATE_WHERE, e,
					sizeof(e));
		if (rc < 0 && merge_fail(strict, rc, k[i].key, e, err, errlen) < 0)
			return rc;
	}
	return 0;
}

/* "a,b,c" from an array of strings. */
static void
join(const json_t *a, char *out, size_t cap)
{
	const json_t *v;
	size_t i, off = 0;

	out[0] = '\0';
	json_array_foreach(a, i, v) {
		int n = snprintf(out + off, cap - off, "%s%s", i ? "," : "", json_string_value(v));

		if (n < 0 || (size_t)n >= cap - off)
			break;
		off += (size_t)n;
	}
}

static int
merge_group(const json_t *o, struct hd_config *c, char *e, size_t elen)
{
	char clients[HD_CONFIG_GROUP_SUBNETS_MAX * HD_CONFIG_SUBNET_LEN];
	char lists[HD_CONFIG_GROUP_LISTS_MAX * HD_CONFIG_NAME_LEN];
	const char *fields[3] = { "name", "clients", "lists" };
	const char *values[3];
	const json_t *l = json_object_get(o, "lists");

	join(json_object_get(o, "clients"), clients, sizeof(clients));
	values[0] = json_string_value(json_object_get(o, "name"));
	values[1] = clients;
	if (l != NULL)
		join(l, lists, sizeof(lists));
	values[2] = lists;
	return hd_config_set_item(c, "group", fields, values, NULL, l != NULL ? 3 : 2,
				  HD_STATE_WHERE, e, elen);
}

static int
merge_groups(const json_t *doc, struct hd_config *c, int strict, char *err, size_t errlen)
{
	const json_t *a = json_object_get(doc, "groups"), *v;
	char e[ERR_LEN], what[96];
	unsigned int before;
	size_t i;
	int rc;

	json_array_foreach(a, i, v) {
		before = c->n_groups;
		rc = merge_group(v, c, e, sizeof(e));
		/* A group must name lists that exist here and not repeat another's clients. */
		if (rc == 0)
			rc = hd_config_validate(c, e, sizeof(e));
		if (rc < 0)
			c->n_groups = before;
		snprintf(what, sizeof(what), "group %s", json_string_value(json_object_get(v, "name")));
		if (rc < 0 && merge_fail(strict, rc, what, e, err, errlen) < 0)
			return rc;
	}
	return 0;
}

static int
group_has(const struct hd_config_group *g, const char *list)
{
	for (unsigned int i = 0; i < g->n_lists; i++)
		if (strcmp(g->lists[i], list) == 0)
			return 1;
	return 0;
}

/*
 * The domain entries apply to every client: a group that names its lists
 * gets them too (a group with no list bypasses blocking and stays so).
 */
static void
custom_into_groups(struct hd_config *c)
{
	static const char *const names[] = { HD_STATE_CUSTOM_BLOCK, HD_STATE_CUSTOM_ALLOW };

	for (unsigned int k = 0; k < RTE_DIM(names); k++) {
		int present = 0;

		for (unsigned int i = 0; i < c->n_lists; i++)
			present |= strcmp(c->lists[i].name, names[k]) == 0;
		for (unsigned int g = 0; present && g < c->n_groups; g++) {
			struct hd_config_group *gr = &c->groups[g];

			if (gr->all_lists || gr->n_lists == 0 || group_has(gr, names[k]) ||
			    gr->n_lists >= HD_CONFIG_GROUP_LISTS_MAX)
				continue;
			snprintf(gr->lists[gr->n_lists++], HD_CONFIG_NAME_LEN, "%s", names[k]);
		}
	}
}

int
hd_state_merge(const json_t *doc, struct hd_config *c, int strict, char *err, size_t errlen)
{
	int rc;

	rc = merge_records(doc, c, strict, err, errlen);
	if (rc == 0)
		rc = merge_lists(doc, c, strict, err, errlen);
	if (rc == 0)
		rc = merge_custom(doc, c, strict, err, errlen);
	if (rc == 0)
		rc = merge_groups(doc, c, strict, err, errlen);
	if (rc == 0)
		custom_into_groups(c);
	return rc;
}

/* --- hd_control.h ------------------------------------------------------------------ */

int
hd_control_state_export(char **json, size_t *len, uint64_t *version)
{
	json_t *doc = hd_state_get(version);

	*json = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (*json == NULL)
		return -ENOMEM;
	*len = strlen(*json);
	return 0;
}

int
hd_control_state_import(const char *json, size_t len, uint64_t version)
{
	char err[ERR_LEN];
	json_error_t je;
	uint64_t cur;
	json_t *doc;
	int rc;

	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		APP_LOG(WARNING, "state version %" PRIu64 " from the cluster: not JSON (%s); "
			"ignored", version, je.text);
		return -EINVAL;
	}
	if (json_object_set_new(doc, "version", json_integer((json_int_t)version)) != 0 ||
	    hd_state_doc_check(doc, err, sizeof(err)) < 0) {
		APP_LOG(WARNING, "state version %" PRIu64 " from the cluster: %s; ignored",
			version, err);
		json_decref(doc);
		return -EINVAL;
	}
	pthread_mutex_lock(&st.wlock);
	pthread_mutex_lock(&st.lock);
	cur = st.version;
	pthread_mutex_unlock(&st.lock);
	if (version <= cur) {
		pthread_mutex_unlock(&st.wlock);
		json_decref(doc);
		return -EALREADY;
	}
	rc = persist(doc, err, sizeof(err));
	if (rc < 0)
		/* Still run it: the cluster's version matters more than this disk. */
		APP_LOG(WARNING, "state version %" PRIu64 " from the cluster: %s; applied, but "
			"not kept across a restart", version, err);
	install(doc, version, 0);
	pthread_mutex_unlock(&st.wlock);
	APP_LOG(INFO, "state version %" PRIu64 " from the cluster (was %" PRIu64 ")", version,
		cur);
	(void)hd_policy_request(HD_POLICY_REQ_STATE);
	return 0;
}

void
hd_control_announcer_set(hd_control_announce_t fn)
{
	pthread_mutex_lock(&st.lock);
	st.announcer = fn;
	pthread_mutex_unlock(&st.lock);
}

void
hd_control_lists_refresh(void)
{
	(void)hd_policy_request(HD_POLICY_REQ_REFRESH);
}
