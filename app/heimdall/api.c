/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The REST API under /api/ (docs/api.md): local records, lists, allowlist
 * and blocklist entries, client groups, the cache, pausing blocking, and
 * reloading the configuration. Reads are open; writes need the token.
 *
 * Handlers run on the HTTP server's thread and own nothing of the data
 * path. A change edits a copy of the operator state (state.c), is checked
 * against the running configuration (records compiled), persisted, then
 * built and published by the policy's control thread; the reply waits
 * (bounded) for that publish, so a 200 means the change is answering. The
 * cache's only writer is the slow path: cache requests go through a
 * mailbox that its 100 ms timer empties (hd_api_cache_work()).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hd_app.h"
#include "hd_dns.h"
#include "hd_http.h"
#include "control.h"

#define APPLY_WAIT_MS	10000	/* a change is normally published in milliseconds */
#define REFRESH_WAIT_MS	30000	/* a refresh may download lists */
#define CACHE_WAIT_MS	2000	/* the slow path looks at the mailbox every 100 ms */
#define PAUSE_MAX_MIN	1440
#define ERR_LEN		HD_CONFIG_ERR_LEN

static struct hd_app *api_app;

/* --- the cache mailbox ------------------------------------------------------------ */

enum cache_op { CACHE_NONE = 0, CACHE_FLUSH, CACHE_NAME };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;
	enum cache_op op;		/* pending request, CACHE_NONE when none */
	uint8_t name[HD_DNS_NAME_MAX];
	uint8_t len;
	uint64_t seq, seq_done;
	unsigned int removed;
} mbox = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

void
hd_api_cache_work(struct hd_app *app)
{
	struct hd_cache_stats before, after;

	/* Never wait on the API: the request is done at the next tick instead. */
	if (pthread_mutex_trylock(&mbox.lock) != 0)
		return;
	if (mbox.op == CACHE_FLUSH) {
		hd_cache_stats_get(app->cache, &before);
		hd_cache_flush(app->cache);
		hd_cache_stats_get(app->cache, &after);
		mbox.removed = before.entries - after.entries;
	} else if (mbox.op == CACHE_NAME) {
		mbox.removed = hd_cache_delete_name(app->cache, mbox.name, mbox.len);
	}
	if (mbox.op != CACHE_NONE) {
		mbox.op = CACHE_NONE;
		mbox.seq_done = mbox.seq;
		pthread_cond_broadcast(&mbox.done);
	}
	pthread_mutex_unlock(&mbox.lock);
}

/* @return entries removed, or -ETIMEDOUT (the request is withdrawn). */
static long
cache_request(enum cache_op op, const uint8_t *name, uint8_t len)
{
	struct timespec ts;
	uint64_t mine;
	long rc;

	hd_deadline_ms(&ts, CACHE_WAIT_MS);
	pthread_mutex_lock(&mbox.lock);
	mbox.op = op;
	if (name != NULL)
		memcpy(mbox.name, name, len);
	mbox.len = len;
	mine = ++mbox.seq;
	while (mbox.seq_done < mine)
		if (pthread_cond_timedwait(&mbox.done, &mbox.lock, &ts) == ETIMEDOUT)
			break;
	if (mbox.seq_done >= mine) {
		rc = (long)mbox.removed;
	} else {
		mbox.op = CACHE_NONE;
		rc = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&mbox.lock);
	return rc;
}

/* --- helpers ------------------------------------------------------------------------ */

/* "nas.lab" from "NAS.lab." (owner names and domains are matched this way). */
static void
name_norm(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; in[n] != '\0' && n + 1 < cap; n++)
		out[n] = (char)tolower((unsigned char)in[n]);
	if (n > 1 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
}

static int
domain_ok(const char *s)
{
	uint8_t wire[HD_DNS_NAME_MAX];

	return s[0] != '\0' && strcmp(s, ".") != 0 && strpbrk(s, " \t/") == NULL &&
	       hd_dns_name_from_str(s, wire) > 1;
}

/* The array @p key of the document, created when missing. */
static json_t *
doc_array(json_t *doc, const char *key)
{
	json_t *a = json_object_get(doc, key);

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(doc, key, a);
	}
	return a;
}

/* Index of the object whose "name" is @p name in array @p a, or -1. */
static long
find_named(const json_t *a, const char *name)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
			return (long)i;
	return -1;
}

static long
find_string(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return (long)i;
	return -1;
}

/* Fields of @p body outside @p known: a 400 naming the first. */
static int
fields_known(const json_t *body, const char *const *known, size_t n, const char *expect,
	     struct hd_http_response *resp)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)(uintptr_t)body, key, v) {
		size_t i;

		for (i = 0; i < n && strcmp(key, known[i]) != 0; i++)
			;
		if (i == n) {
			hd_http_reply_error(resp, 400, "unknown field '%s' (expected %s)", key,
					    expect);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *
body_string(const json_t *body, const char *field, struct hd_http_response *resp,
	    const char *expect)
{
	const json_t *v = json_object_get(body, field);

	if (!json_is_string(v) || json_string_length(v) == 0) {
		hd_http_reply_error(resp, 400, "%s: %s (expected %s)", field,
				    v == NULL ? "missing" : "not a non-empty string", expect);
		return NULL;
	}
	return json_string_value(v);
}

/*
 * Finish a change begun with hd_state_begin(): check @p doc against the
 * running configuration, persist it, have it built and published, answer
 * @p status with @p out plus "version" and "applied". Ends the change.
 * @p status is 201 for an addition (refused: 400) or 200 for a removal
 * (refused: 409).
 */
static void
change_finish(struct hd_http_response *resp, json_t *doc, unsigned int status, json_t *out,
	      const char *field)
{
	char err[ERR_LEN];
	uint64_t version, ticket;
	int rc;

	/* The checks a restart's load makes too: what is kept must load again. */
	rc = hd_state_doc_check(doc, err, sizeof(err));
	if (rc == 0)
		rc = hd_policy_state_check(doc, err, sizeof(err));
	if (rc < 0) {
		json_decref(doc);
		hd_state_end();
		json_decref(out);
		/* A removal refused is a conflict with what remains (a group naming the list). */
		hd_http_reply_error(resp, status == 201 ? 400 : 409, "%s: %s", field, err);
		return;
	}
	rc = hd_state_commit(doc, &version, err, sizeof(err));
	if (rc < 0) {
		hd_state_end();
		json_decref(out);
		APP_LOG(ERR, "API change not kept: %s", err);
		hd_http_reply_error(resp, rc == -EROFS ? 503 : 500, "not changed: %s", err);
		return;
	}
	ticket = hd_policy_request(HD_POLICY_REQ_STATE);
	hd_state_end();
	if (out == NULL)
		out = json_object();
	json_object_set_new(out, "version", json_integer((json_int_t)version));
	json_object_set_new(out, "applied",
			    json_boolean(hd_policy_wait(ticket, APPLY_WAIT_MS) == 0));
	hd_http_reply_json(resp, status, out);
}

static json_t *
begin_or_fail(struct hd_http_response *resp)
{
	json_t *doc = hd_state_begin();

	if (doc == NULL)
		hd_http_reply_error(resp, 500, "out of memory");
	return doc;
}

/* --- records ------------------------------------------------------------------------- */

static json_t *
record_view(const char *text, const char *origin, const char *where)
{
	char name[HD_CONFIG_DNAME_LEN] = "", type[24] = "";
	json_t *o;

	(void)hd_config_record_key(text, name, sizeof(name), type, sizeof(type));
	o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "record", text, "name", name, "type", type,
		      "origin", origin, "read_only", strcmp(origin, "config") == 0);
	if (o != NULL && where != NULL)
		json_object_set_new(o, "where", json_string(where));
	return o;
}

static void
records_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	json_t *cfg = hd_policy_config_records_json(), *doc = hd_state_get(NULL), *out, *v;
	size_t i;

	RTE_SET_USED(req);
	out = json_array();
	json_array_foreach(cfg, i, v)
		json_array_append_new(out, record_view(json_string_value(json_object_get(v,
			"record")), "config", json_string_value(json_object_get(v, "where"))));
	json_array_foreach(json_object_get(doc, "records"), i, v)
		json_array_append_new(out, record_view(json_string_value(v), "api", NULL));
	json_decref(cfg);
	json_decref(doc);
	hd_http_reply_json(resp, 200, json_pack("{s:o}", "records", out));
}

static void
records_post(const struct hd_http_request *req, struct hd_http_response *resp)
{
	static const char *const known[] = { "record" };
	char name[HD_CONFIG_DNAME_LEN], type[24];
	json_t *body = hd_http_body_object(req, resp), *doc, *a;
	const char *text;

	if (body == NULL)
		return;
	if (fields_known(body, known, 1, "record", resp) < 0 ||
	    (text = body_string(body, "record", resp, "a record such as \"nas.lab.home.arpa "
				"300 A 192.168.1.10\"")) == NULL) {
		json_decref(body);
		return;
	}
	if (strlen(text) >= HD_CONFIG_RECORD_LEN || strchr(text, '\n') != NULL ||
	    hd_config_record_key(text, name, sizeof(name), type, sizeof(type)) < 0) {
		hd_http_reply_error(resp, 400, "record: expected one line \"NAME [TTL] [CLASS] "
				    "TYPE VALUE\" of at most %d bytes", HD_CONFIG_RECORD_LEN - 1);
		json_decref(body);
		return;
	}
	doc = begin_or_fail(resp);
	if (doc == NULL) {
		json_decref(body);
		return;
	}
	a = doc_array(doc, "records");
	if (find_string(a, text) >= 0) {
		json_decref(doc);
		hd_state_end();
		hd_http_reply_error(resp, 409, "record: \"%s\" is already there", text);
		json_decref(body);
		return;
	}
	json_array_append_new(a, json_string(text));
	change_finish(resp, doc, 201, json_pack("{s:o}", "record", record_view(text, "api", NULL)),
		      "record");
	json_decref(body);
}

static int
config_record_matches(const char *name, const char *type)
{
	json_t *cfg = hd_policy_config_records_json(), *v;
	char n[HD_CONFIG_DNAME_LEN], t[24];
	int found = 0;
	size_t i;

	json_array_foreach(cfg, i, v)
		if (hd_config_record_key(json_string_value(json_object_get(v, "record")), n,
					sizeof(n), t, sizeof(t)) == 0 &&
		    strcmp(n, name) == 0 && (type == NULL || strcasecmp(t, type) == 0))
			found = 1;
	json_decref(cfg);
	return found;
}

static void
records_delete(const struct hd_http_request *req, struct hd_http_response *resp)
{
	const char *type = hd_http_arg(req, "type");
	char name[HD_CONFIG_DNAME_LEN], n[HD_CONFIG_DNAME_LEN], t[24];
	json_t *doc, *a, *v;
	size_t i, removed = 0;

	if (req->rest[0] == '\0' || strlen(req->rest) >= sizeof(name)) {
		hd_http_reply_error(resp, 400, "expected DELETE /api/records/NAME[?type=TYPE]");
		return;
	}
	name_norm(req->rest, name, sizeof(name));
	doc = begin_or_fail(resp);
	if (doc == NULL)
		return;
	a = doc_array(doc, "records");
	for (i = json_array_size(a); i-- > 0;) {
		v = json_array_get(a, i);
		if (hd_config_record_key(json_string_value(v), n, sizeof(n), t, sizeof(t)) == 0 &&
		    strcmp(n, name) == 0 && (type == NULL || strcasecmp(t, type) == 0)) {
			json_array_remove(a, i);
			removed++;
		}
	}
	if (removed == 0) {
		json_decref(doc);
		hd_state_end();
		if (config_record_matches(name, type))
			hd_http_reply_error(resp, 409, "%s%s%s: defined in the configuration file "
					    "(read-only through the API)", name, type ? " " : "",
					    type ? type : "");
		else
			hd_http_reply_error(resp, 404, "no record of %s%s%s added through the API",
					    name, type ? " of type " : "", type ? type : "");
		return;
	}
	change_finish(resp, doc, 200, json_pack("{s:s, s:I}", "name", name, "removed",
						(json_int_t)removed), "records");
}

/* --- lists ------------------------------------------------------------------------- */

static void
lists_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	RTE_SET_USED(req);
	hd_http_reply_json(resp, 200, json_pack("{s:o}", "lists", hd_policy_lists_json()));
}

static int
reserved_list(const char *name)
{
	return strcmp(name, HD_STATE_CUSTOM_BLOCK) == 0 || strcmp(name, HD_STATE_CUSTOM_ALLOW) == 0;
}

/* The list item as the document keeps it, or NULL with @p resp set. */
static json_t *
list_item(const json_t *body, struct hd_http_response *resp)
{
	static const char *const known[] = { "name", "source", "kind", "syntax", "mode", "ttl",
					     "ipv4", "ipv6" };
	static const char *const opt[] = { "syntax", "mode", "ipv4", "ipv6" };
	const char *name, *source, *kind = "block";
	const json_t *v;
	json_t *item;

	if (fields_known(body, known, RTE_DIM(known), "name, source, kind, syntax, mode, ttl, "
			 "ipv4, ipv6", resp) < 0)
		return NULL;
	name = body_string(body, "name", resp, "1 to 63 of a-z, 0-9, '.', '_', '-'");
	if (name == NULL)
		return NULL;
	source = body_string(body, "source", resp, "a file path or an http(s) URL");
	if (source == NULL)
		return NULL;
	v = json_object_get(body, "kind");
	if (v != NULL) {
		kind = json_string_value(v);
		if (kind == NULL || (strcmp(kind, "block") != 0 && strcmp(kind, "allow") != 0)) {
			hd_http_reply_error(resp, 400, "kind: expected \"block\" or \"allow\"");
			return NULL;
		}
	}
	if (strncmp(source, "http://", 7) != 0 && strncmp(source, "https://", 8) != 0 &&
	    access(source, R_OK) != 0) {
		hd_http_reply_error(resp, 400, "source: cannot read %s: %s (expected a readable "
				    "file or an http(s) URL)", source, strerror(errno));
		return NULL;
	}
	item = json_pack("{s:s, s:s, s:s}", "name", name, "source", source, "kind", kind);
	for (unsigned int i = 0; item != NULL && i < RTE_DIM(opt); i++) {
		v = json_object_get(body, opt[i]);
		if (v == NULL)
			continue;
		if (!json_is_string(v)) {
			hd_http_reply_error(resp, 400, "%s: expected a string", opt[i]);
			json_decref(item);
			return NULL;
		}
		json_object_set(item, opt[i], (json_t *)(uintptr_t)v);
	}
	v = json_object_get(body, "ttl");
	if (item != NULL && v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			hd_http_reply_error(resp, 400, "ttl: expected a number of seconds");
			json_decref(item);
			return NULL;
		}
		json_object_set(item, "ttl", (json_t *)(uintptr_t)v);
	}
	if (item == NULL)
		hd_http_reply_error(resp, 500, "out of memory");
	return item;
}

static void
lists_post(const struct hd_http_request *req, struct hd_http_response *resp)
{
	json_t *body = hd_http_body_object(req, resp), *item, *doc, *a;
	const char *name;

	if (body == NULL)
		return;
	item = list_item(body, resp);
	json_decref(body);
	if (item == NULL)
		return;
	name = json_string_value(json_object_get(item, "name"));
	if (reserved_list(name) || hd_policy_config_has_list(name)) {
		hd_http_reply_error(resp, 409, "name: '%s' is %s", name, reserved_list(name) ?
				    "reserved for the /api/blocklist and /api/allowlist entries" :
				    "a list of the configuration file");
		json_decref(item);
		return;
	}
	doc = begin_or_fail(resp);
	if (doc == NULL) {
		json_decref(item);
		return;
	}
	a = doc_array(doc, "lists");
	if (find_named(a, name) >= 0) {
		json_decref(doc);
		hd_state_end();
		hd_http_reply_error(resp, 409, "name: a list '%s' was already added", name);
		json_decref(item);
		return;
	}
	json_array_append(a, item);
	change_finish(resp, doc, 201, json_pack("{s:o}", "list", item), "list");
}

static void
lists_delete(const struct hd_http_request *req, struct hd_http_response *resp)
{
	const char *name = req->rest;
	json_t *doc, *a;
	long i;

	if (name[0] == '\0') {
		hd_http_reply_error(resp, 400, "expected DELETE /api/lists/NAME");
		return;
	}
	doc = begin_or_fail(resp);
	if (doc == NULL)
		return;
	a = doc_array(doc, "lists");
	i = find_named(a, name);
	if (i < 0) {
		json_decref(doc);
		hd_state_end();
		if (reserved_list(name))
			hd_http_reply_error(resp, 409, "%s holds the entries of /api/%s: remove "
					    "them there", name, strcmp(name, HD_STATE_CUSTOM_BLOCK)
					    == 0 ? "blocklist" : "allowlist");
		else if (hd_policy_config_has_list(name))
			hd_http_reply_error(resp, 409, "list %s is defined in the configuration "
					    "file (read-only through the API)", name);
		else
			hd_http_reply_error(resp, 404, "no list %s was added through the API", name);
		return;
	}
	json_array_remove(a, (size_t)i);
	change_finish(resp, doc, 200, json_pack("{s:s}", "removed", name), "lists");
}

static void
lists_refresh(const struct hd_http_request *req, struct hd_http_response *resp)
{
	uint64_t t;
	int done;

	RTE_SET_USED(req);
	t = hd_policy_request(HD_POLICY_REQ_REFRESH | HD_POLICY_REQ_ANNOUNCE);
	done = hd_policy_wait(t, REFRESH_WAIT_MS) == 0;
	hd_http_reply_json(resp, done ? 200 : 202, json_pack("{s:b, s:o}", "refreshed", done,
			   "lists", hd_policy_lists_json()));
}

/* --- allowlist and blocklist entries ------------------------------------------------- */

static const char *
entries_key(const struct hd_http_request *req)
{
	return strncmp(req->path, "/api/allowlist", 14) == 0 ? "allowlist" : "blocklist";
}

static void
entries_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	json_t *doc = hd_state_get(NULL), *a;

	a = json_object_get(doc, entries_key(req));
	hd_http_reply_json(resp, 200, json_pack("{s:o, s:s}", "domains", a != NULL ?
			   json_incref(a) : json_array(), "list", strcmp(entries_key(req), "allowlist") == 0 ?
			   HD_STATE_CUSTOM_ALLOW : HD_STATE_CUSTOM_BLOCK));
	json_decref(doc);
}

static void
entries_post(const struct hd_http_request *req, struct hd_http_response *resp)
{
	static const char *const known[] = { "domain" };
	json_t *body = hd_http_body_object(req, resp), *doc, *a;
	char name[HD_CONFIG_DNAME_LEN];
	const char *key = entries_key(req), *d;

	if (body == NULL)
		return;
	if (fields_known(body, known, 1, "domain", resp) < 0 ||
	    (d = body_string(body, "domain", resp, "a domain name such as ads.example")) == NULL) {
		json_decref(body);
		return;
	}
	if (strlen(d) >= sizeof(name) || !domain_ok(d)) {
		hd_http_reply_error(resp, 400, "domain: '%s' is not a domain name (expected e.g. "
				    "ads.example)", d);
		json_decref(body);
		return;
	}
	name_norm(d, name, sizeof(name));
	json_decref(body);
	doc = begin_or_fail(resp);
	if (doc == NULL)
		return;
	a = doc_array(doc, key);
	if (find_string(a, name) >= 0) {
		json_decref(doc);
		hd_state_end();
		hd_http_reply_error(resp, 409, "domain: %s is already in the %s", name, key);
		return;
	}
	json_array_append_new(a, json_string(name));
	change_finish(resp, doc, 201, json_pack("{s:s}", "domain", name), "domain");
}

static void
entries_delete(const struct hd_http_request *req, struct hd_http_response *resp)
{
	char name[HD_CONFIG_DNAME_LEN];
	const char *key = entries_key(req);
	json_t *doc, *a;
	long i;

	if (req->rest[0] == '\0' || strlen(req->rest) >= sizeof(name)) {
		hd_http_reply_error(resp, 400, "expected DELETE /api/%s/DOMAIN", key);
		return;
	}
	name_norm(req->rest, name, sizeof(name));
	doc = begin_or_fail(resp);
	if (doc == NULL)
		return;
	a = doc_array(doc, key);
	i = find_string(a, name);
	if (i < 0) {
		json_decref(doc);
		hd_state_end();
		hd_http_reply_error(resp, 404, "%s is not in the %s", name, key);
		return;
	}
	json_array_remove(a, (size_t)i);
	change_finish(resp, doc, 200, json_pack("{s:s}", "removed", name), key);
}

/* --- groups ------------------------------------------------------------------------- */

static void
groups_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	json_t *out = hd_policy_config_groups_json(), *doc = hd_state_get(NULL), *v;
	size_t i;

	RTE_SET_USED(req);
	json_array_foreach(out, i, v) {
		json_object_set_new(v, "origin", json_string("config"));
		json_object_set_new(v, "read_only", json_true());
	}
	json_array_foreach(json_object_get(doc, "groups"), i, v) {
		json_t *g = json_deep_copy(v);

		json_object_set_new(g, "origin", json_string("api"));
		json_object_set_new(g, "read_only", json_false());
		json_array_append_new(out, g);
	}
	json_decref(doc);
	hd_http_reply_json(resp, 200, json_pack("{s:o}", "groups", out));
}

static int
strings_ok(const json_t *a, size_t max_n, size_t max_len)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > max_n)
		return 0;
	json_array_foreach(a, i, v)
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= max_len || strchr(json_string_value(v), ',') != NULL)
			return 0;
	return 1;
}

static void
groups_post(const struct hd_http_request *req, struct hd_http_response *resp)
{
	static const char *const known[] = { "name", "clients", "lists" };
	json_t *body = hd_http_body_object(req, resp), *doc, *a, *item;
	const json_t *clients, *lists;
	const char *name;

	if (body == NULL)
		return;
	if (fields_known(body, known, 3, "name, clients, lists", resp) < 0 ||
	    (name = body_string(body, "name", resp, "a group name")) == NULL)
		goto out;
	clients = json_object_get(body, "clients");
	lists = json_object_get(body, "lists");
	if (!strings_ok(clients, HD_CONFIG_GROUP_SUBNETS_MAX, HD_CONFIG_SUBNET_LEN) ||
	    json_array_size(clients) == 0) {
		hd_http_reply_error(resp, 400, "clients: expected an array of 1 to %d subnets or "
				    "addresses, e.g. [\"10.0.0.0/24\"]", HD_CONFIG_GROUP_SUBNETS_MAX);
		goto out;
	}
	if (lists != NULL && !strings_ok(lists, HD_CONFIG_GROUP_LISTS_MAX, HD_CONFIG_NAME_LEN)) {
		hd_http_reply_error(resp, 400, "lists: expected an array of list names (absent: "
				    "every list; []: no blocking)");
		goto out;
	}
	if (hd_policy_config_has_group(name)) {
		hd_http_reply_error(resp, 409, "name: '%s' is a group of the configuration file",
				    name);
		goto out;
	}
	item = json_pack("{s:s, s:O}", "name", name, "clients", clients);
	if (item != NULL && lists != NULL)
		json_object_set(item, "lists", (json_t *)(uintptr_t)lists);
	doc = item != NULL ? begin_or_fail(resp) : NULL;
	if (doc == NULL) {
		json_decref(item);
		goto out;
	}
	a = doc_array(doc, "groups");
	if (find_named(a, name) >= 0) {
		json_decref(doc);
		hd_state_end();
		json_decref(item);
		hd_http_reply_error(resp, 409, "name: a group '%s' was already added", name);
		goto out;
	}
	json_array_append(a, item);
	change_finish(resp, doc, 201, json_pack("{s:o}", "group", item), "group");
out:
	json_decref(body);
}

static void
groups_delete(const struct hd_http_request *req, struct hd_http_response *resp)
{
	const char *name = req->rest;
	json_t *doc, *a;
	long i;

	if (name[0] == '\0') {
		hd_http_reply_error(resp, 400, "expected DELETE /api/groups/NAME");
		return;
	}
	doc = begin_or_fail(resp);
	if (doc == NULL)
		return;
	a = doc_array(doc, "groups");
	i = find_named(a, name);
	if (i < 0) {
		json_decref(doc);
		hd_state_end();
		if (hd_policy_config_has_group(name))
			hd_http_reply_error(resp, 409, "group %s is defined in the configuration "
					    "file (read-only through the API)", name);
		else
			hd_http_reply_error(resp, 404, "no group %s was added through the API", name);
		return;
	}
	json_array_remove(a, (size_t)i);
	change_finish(resp, doc, 200, json_pack("{s:s}", "removed", name), "groups");
}

/* --- cache ---------------------------------------------------------------------------- */

static void
cache_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	struct hd_cache_stats s;

	RTE_SET_USED(req);
	hd_cache_stats_get(api_app->cache, &s);
	hd_http_reply_json(resp, 200, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"entries", (json_int_t)s.entries, "bytes", (json_int_t)s.bytes,
		"capacity", (json_int_t)s.capacity, "inserts", (json_int_t)s.inserts,
		"replaced", (json_int_t)s.replaced, "evictions", (json_int_t)s.evictions,
		"expired", (json_int_t)s.expired));
}

static void
cache_reply(struct hd_http_response *resp, long removed, const char *name)
{
	json_t *out;

	if (removed < 0) {
		hd_http_reply_error(resp, 504, "the slow path did not take the request within "
				    "%u ms; nothing was removed", CACHE_WAIT_MS);
		return;
	}
	out = json_pack("{s:I}", "removed", (json_int_t)removed);
	if (out != NULL && name != NULL)
		json_object_set_new(out, "name", json_string(name));
	hd_http_reply_json(resp, 200, out);
}

static void
cache_flush(const struct hd_http_request *req, struct hd_http_response *resp)
{
	RTE_SET_USED(req);
	cache_reply(resp, cache_request(CACHE_FLUSH, NULL, 0), NULL);
}

static void
cache_delete_name(const struct hd_http_request *req, struct hd_http_response *resp)
{
	char name[HD_CONFIG_DNAME_LEN];
	uint8_t wire[HD_DNS_NAME_MAX];
	int len;

	if (req->rest[0] == '\0') {
		cache_flush(req, resp);
		return;
	}
	if (strlen(req->rest) >= sizeof(name) || !domain_ok(req->rest)) {
		hd_http_reply_error(resp, 400, "'%s' is not a domain name (expected DELETE "
				    "/api/cache/NAME)", req->rest);
		return;
	}
	name_norm(req->rest, name, sizeof(name));
	len = hd_dns_name_from_str(name, wire);
	if (len <= 0) {
		hd_http_reply_error(resp, 400, "'%s' is not a domain name", req->rest);
		return;
	}
	hd_dns_name_lower(wire, (size_t)len);
	cache_reply(resp, cache_request(CACHE_NAME, wire, (uint8_t)len), name);
}

/* --- blocking pause --------------------------------------------------------------------- */

static json_t *
blocking_view(void)
{
	uint64_t left = hd_policy_pause_left_ms();

	return json_pack("{s:b, s:b, s:I}", "blocking", left == 0, "paused", left != 0,
			 "remaining_seconds", (json_int_t)((left + 999) / 1000));
}

static void
blocking_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	RTE_SET_USED(req);
	hd_http_reply_json(resp, 200, blocking_view());
}

static void
blocking_pause(const struct hd_http_request *req, struct hd_http_response *resp)
{
	static const char *const known[] = { "minutes", "seconds" };
	json_t *body = hd_http_body_object(req, resp);
	const json_t *m, *s;
	json_int_t secs;

	if (body == NULL)
		return;
	if (fields_known(body, known, 2, "minutes (or seconds)", resp) < 0) {
		json_decref(body);
		return;
	}
	m = json_object_get(body, "minutes");
	s = json_object_get(body, "seconds");
	if ((m == NULL) == (s == NULL) ||
	    (m != NULL && (!json_is_integer(m) || json_integer_value(m) < 1 ||
			   json_integer_value(m) > PAUSE_MAX_MIN)) ||
	    (s != NULL && (!json_is_integer(s) || json_integer_value(s) < 1 ||
			   json_integer_value(s) > PAUSE_MAX_MIN * 60))) {
		hd_http_reply_error(resp, 400, "minutes: expected a whole number of minutes in "
				    "1..%d (or seconds in 1..%d instead)", PAUSE_MAX_MIN,
				    PAUSE_MAX_MIN * 60);
		json_decref(body);
		return;
	}
	secs = m != NULL ? json_integer_value(m) * 60 : json_integer_value(s);
	json_decref(body);
	(void)hd_policy_wait(hd_policy_pause((uint32_t)secs), APPLY_WAIT_MS);
	hd_http_reply_json(resp, 200, blocking_view());
}

static void
blocking_resume(const struct hd_http_request *req, struct hd_http_response *resp)
{
	RTE_SET_USED(req);
	(void)hd_policy_wait(hd_policy_pause(0), APPLY_WAIT_MS);
	hd_http_reply_json(resp, 200, blocking_view());
}

/* --- reload ------------------------------------------------------------------------------ */

static json_t *
restart_keys(const char *s)
{
	json_t *a = json_array();

	while (a != NULL && s[0] != '\0') {
		size_t n = strcspn(s, ",");

		json_array_append_new(a, json_stringn(s, n));
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return a;
}

static json_t *
reload_view(const struct hd_policy_reload_info *r)
{
	const char *file = hd_params_config_file();

	return json_pack("{s:s?, s:I, s:I, s:I, s:s, s:o}", "config", file,
			 "reloads", (json_int_t)r->ok, "failures", (json_int_t)r->failed,
			 "last_at", (json_int_t)r->last_at, "last_error", r->last_error,
			 "needs_restart", restart_keys(r->needs_restart));
}

static void
reload_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	struct hd_policy_reload_info r;

	RTE_SET_USED(req);
	hd_policy_reload_info(&r);
	hd_http_reply_json(resp, 200, reload_view(&r));
}

static void
reload_post(const struct hd_http_request *req, struct hd_http_response *resp)
{
	struct hd_policy_reload_info before, after;
	json_t *out;
	uint64_t t;
	int done;

	RTE_SET_USED(req);
	hd_policy_reload_info(&before);
	t = hd_policy_request(HD_POLICY_REQ_RELOAD | HD_POLICY_REQ_ANNOUNCE);
	done = hd_policy_wait(t, REFRESH_WAIT_MS) == 0;
	hd_policy_reload_info(&after);
	out = reload_view(&after);
	if (!done) {
		json_object_set_new(out, "applied", json_false());
		json_object_set_new(out, "pending", json_true());
		hd_http_reply_json(resp, 202, out);
		return;
	}
	if (after.failed > before.failed) {
		json_object_set_new(out, "applied", json_false());
		json_object_set_new(out, "error", json_string(after.last_error));
		hd_http_reply_json(resp, 422, out);
		return;
	}
	json_object_set_new(out, "applied", json_true());
	hd_http_reply_json(resp, 200, out);
}

/* --- routes ---------------------------------------------------------------------------------- */

int
hd_api_register(struct hd_app *app)
{
	static const struct {
		const char *method, *path;
		enum hd_http_access access;
		hd_http_handler_t fn;
	} routes[] = {
		{ "GET", "/api/records", HD_HTTP_OPEN, records_get },
		{ "POST", "/api/records", HD_HTTP_TOKEN, records_post },
		{ "DELETE", "/api/records/", HD_HTTP_TOKEN, records_delete },
		{ "GET", "/api/lists", HD_HTTP_OPEN, lists_get },
		{ "POST", "/api/lists", HD_HTTP_TOKEN, lists_post },
		{ "DELETE", "/api/lists/", HD_HTTP_TOKEN, lists_delete },
		{ "POST", "/api/lists/refresh", HD_HTTP_TOKEN, lists_refresh },
		{ "GET", "/api/allowlist", HD_HTTP_OPEN, entries_get },
		{ "POST", "/api/allowlist", HD_HTTP_TOKEN, entries_post },
		{ "DELETE", "/api/allowlist/", HD_HTTP_TOKEN, entries_delete },
		{ "GET", "/api/blocklist", HD_HTTP_OPEN, entries_get },
		{ "POST", "/api/blocklist", HD_HTTP_TOKEN, entries_post },
		{ "DELETE", "/api/blocklist/", HD_HTTP_TOKEN, entries_delete },
		{ "GET", "/api/groups", HD_HTTP_OPEN, groups_get },
		{ "POST", "/api/groups", HD_HTTP_TOKEN, groups_post },
		{ "DELETE", "/api/groups/", HD_HTTP_TOKEN, groups_delete },
		{ "GET", "/api/cache", HD_HTTP_OPEN, cache_get },
		{ "DELETE", "/api/cache", HD_HTTP_TOKEN, cache_flush },
		{ "DELETE", "/api/cache/", HD_HTTP_TOKEN, cache_delete_name },
		{ "GET", "/api/blocking", HD_HTTP_OPEN, blocking_get },
		{ "POST", "/api/blocking/pause", HD_HTTP_TOKEN, blocking_pause },
		{ "POST", "/api/blocking/resume", HD_HTTP_TOKEN, blocking_resume },
		{ "GET", "/api/reload", HD_HTTP_OPEN, reload_get },
		{ "POST", "/api/reload", HD_HTTP_TOKEN, reload_post },
	};
	pthread_condattr_t ca;
	int rc;

	api_app = app;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mbox.done, &ca);
	pthread_condattr_destroy(&ca);
	for (unsigned int i = 0; i < RTE_DIM(routes); i++) {
		rc = hd_http_route(routes[i].method, routes[i].path, routes[i].access,
				   routes[i].fn);
		if (rc < 0) {
			APP_LOG(ERR, "cannot add HTTP route %s %s: %s", routes[i].method,
				routes[i].path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}
