/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster: several heimdall nodes sharing one Redis (docs/cluster.md).
 *
 * - Membership: every cluster-interval each node writes its heartbeat key
 *   (a JSON object with its identity and counters, expiring after three
 *   intervals) and adds its id to the member set; it then reads the set
 *   and every member's key. A key that expired drops its member (SREM).
 * - Totals: the sum of the counters the live members published, with this
 *   node's own counters taken live.
 * - Control changes: a local change of the operator's state (records,
 *   lists, groups) is stored in Redis if it is newer than what is there and
 *   announced on a pub/sub channel; other nodes fetch and import it. A
 *   check of the stored versions at every connection and every interval
 *   covers announcements missed while a connection was down.
 *
 * Everything that talks to Redis runs on the slow-path thread (the client
 * belongs to it). The announcer runs on the API's or the control thread:
 * it only records the version (atomics) for the slow path to send. The
 * HTTP and telemetry threads read a copy of the member view taken under a
 * mutex that the slow path holds only to swap in a new view.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include <rte_cycles.h>
#include <rte_random.h>
#include <rte_telemetry.h>

#include "hd_app.h"
#include "hd_build_config.h"
#include "hd_clock.h"
#include "hd_control.h"
#include "hd_http.h"
#include "hd_replica.h"
#include "cluster.h"

#define FORMAT		1	/* of the member and control values; the keys say v1 */
#define ID_MAX		64	/* node-id, host, with the NUL */
#define VERSION_MAX	32
#define ADDRS_MAX	8
#define ADDR_LEN	46	/* INET6_ADDRSTRLEN */
#define KEY_LEN		(HD_REPLICA_PREFIX_MAX + 32 + ID_MAX)
#define MEMBERS_MAX	64	/* other members kept in the view */
#define READ_MAX	256	/* ids read from the member set per interval */
#define VALUE_MAX	8192	/* a member value longer than this is not ours */
#define STATE_MAX	(4u << 20) /* a control document longer than this is refused */
#define EXPIRE_INTERVALS 3	/* a heartbeat key lives this many intervals */
#define STALE_INTERVALS	2	/* older than this many intervals: "stale" */
#define CALM_MS		2000	/* writes without an error this long: Redis accepts again */

/*
 * Store a control change only if it is newer than the stored one, and
 * announce it, in one step. KEYS[1]: the version key, KEYS[2] (state
 * only): the document key. ARGV: version, channel, message, [document].
 */
static const char push_script[] =
	"local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
	"local v = tonumber(ARGV[1])\n"
	"if v == nil or v <= cur then return 0 end\n"
	"if #KEYS > 1 then redis.call('SET', KEYS[2], ARGV[4]) end\n"
	"redis.call('SET', KEYS[1], ARGV[1])\n"
	"redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
	"return 1\n";

struct counters {
	uint64_t queries, cache_hits, cache_misses, blocked, upstream_failures;
	uint64_t upstream_queries, l2_hits;
};

/* Names in the member value, in telemetry and in the HTTP status. */
#define COUNTERS_FOREACH(X) \
	X(queries) X(cache_hits) X(cache_misses) X(blocked) X(upstream_failures) \
	X(upstream_queries) X(l2_hits)

struct member {
	char id[ID_MAX];
	char host[ID_MAX];
	char version[VERSION_MAX];
	uint64_t start;			/* unix seconds */
	uint32_t interval;		/* seconds, as the member publishes */
	uint64_t age_ms;		/* of its heartbeat when read */
	uint64_t read_ms;		/* hd_clock_ms() of the read */
	char addrs[ADDRS_MAX][ADDR_LEN];
	unsigned int n_addrs;
	struct counters c;
};

/* What the readers see: the other members, as last read. */
struct view {
	unsigned int n;
	struct member m[MEMBERS_MAX];
};

/* One interval's read: MGET of every member key and a PTTL of each. */
struct round;
struct slot {
	struct round *rd;
	char id[ID_MAX];
	char key[KEY_LEN];
	char *val;			/* NULL: no such key */
	size_t len;
	long long pttl;
};
struct round {
	unsigned int n, pending;
	int failed;
	struct slot s[];
};

/* A control push waiting for its reply. */
struct push {
	int state;			/* 1: the state document, 0: lists */
	uint64_t version;
};

/* The slow path's side: only that thread touches it. */
static struct {
	struct hd_app *app;
	struct hd_replica *r;
	int ready;			/* identity and keys filled */
	int stopping;
	char id[ID_MAX], host[ID_MAX], instance[20];
	uint64_t start;
	uint32_t interval_ms;
	char key_self[KEY_LEN], key_nodes[KEY_LEN], key_state[KEY_LEN];
	char key_state_ver[KEY_LEN], key_lists[KEY_LEN], channel[KEY_LEN];
	int connected;
	uint64_t next_round_ms;
	int round_busy;
	int wrote_once;			/* our key existed before: its old value is ours */
	int collision_logged;
	uint64_t known_state;		/* newest state version imported, refused or sent */
	uint64_t known_lists;
	int lists_seen;			/* known_lists read once from Redis */
	int fetching;			/* GET of the state document under way */
	uint64_t control_retry_ms;
	int push_error_logged;
	uint64_t last_writes, last_write_errors, calm_since_ms;
	int refusing;			/* Redis answers writes with errors */
} cl;

/* Set by the announcer (any thread), taken by the slow path. */
static uint64_t pending_state, pending_lists;

/* Counters for every reader (relaxed atomics). */
static struct {
	uint64_t invalid_members, id_collisions, heartbeats, heartbeat_errors;
	uint64_t control_sent, control_received, control_errors, control_invalid;
	uint64_t known_state;
} stat;

static pthread_mutex_t view_lock = PTHREAD_MUTEX_INITIALIZER;
static struct view view;
static struct hd_app *g_app;

static void
stat_inc(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static uint64_t
stat_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static void
atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (cur < v && !__atomic_compare_exchange_n(p, &cur, v, 0, __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED))
		;
}

/* node-id's alphabet (lib/config), plus '+' and '~' that versions use. */
static int
token_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._:-+~", s[i]) == NULL)
			return 0;
	return i > 0 && i <= max;
}

/* ---- this node ---- */

static void
identity_init(struct hd_app *app)
{
	const char *pfx = app->cfg.redis_prefix;
	char host[256] = "";
	size_t i;

	if (cl.ready)
		return;
	cl.app = app;
	g_app = app;
	snprintf(cl.id, sizeof(cl.id), "%s", app->cfg.node_id);
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	/* Only what a token may hold: the value must pass other nodes' checks. */
	for (i = 0; host[i] != '\0' && i + 1 < sizeof(cl.host); i++)
		if (!isalnum((unsigned char)host[i]) && strchr("._:-", host[i]) == NULL)
			break;
	host[i] = '\0';
	snprintf(cl.host, sizeof(cl.host), "%s", i > 0 ? host : "unknown");
	cl.start = (uint64_t)time(NULL);
	/* Tells a restart of this node (new instance) from another node using its id. */
	snprintf(cl.instance, sizeof(cl.instance), "%016" PRIx64,
		 rte_rand() ^ ((uint64_t)getpid() << 32) ^ rte_get_tsc_cycles());
	cl.interval_ms = app->cfg.cluster_interval * 1000;
	if (cl.interval_ms == 0)
		cl.interval_ms = 5000;
	snprintf(cl.key_self, sizeof(cl.key_self), "%s:v1:node:%s", pfx, cl.id);
	snprintf(cl.key_nodes, sizeof(cl.key_nodes), "%s:v1:nodes", pfx);
	snprintf(cl.key_state, sizeof(cl.key_state), "%s:v1:control:state", pfx);
	snprintf(cl.key_state_ver, sizeof(cl.key_state_ver), "%s:v1:control:version", pfx);
	snprintf(cl.key_lists, sizeof(cl.key_lists), "%s:v1:control:lists", pfx);
	snprintf(cl.channel, sizeof(cl.channel), "%s:v1:control", pfx);
	cl.ready = 1;
}

/* This node's counters, live; any thread. */
static void
self_counters(struct counters *c)
{
	struct hd_cluster_snap s;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->queries = hd_stats_sum(HD_STAT_queries);
	c->cache_hits = hd_stats_sum(HD_STAT_cache_hits);
	c->cache_misses = hd_stats_sum(HD_STAT_cache_misses);
	c->blocked = hd_stats_sum(HD_STAT_blocked);
	c->upstream_queries = hd_stats_sum(HD_STAT_upstream_queries);
	/* Attempts that failed at every upstream: timeouts, refusals, bad replies, TLS. */
	if (g_app != NULL)
		for (i = 0; i < HD_UPSTREAM_MAX; i++)
			c->upstream_failures += __atomic_load_n(&g_app->up_snap[i].failures,
								__ATOMIC_RELAXED);
	hd_cluster_snap_get(&s);
	c->l2_hits = s.l2_hits;
}

static json_t *
addresses_json(const struct hd_config *cfg)
{
	json_t *a = json_array();
	char ip[ADDR_LEN];
	unsigned int i;

	for (i = 0; a != NULL && i < cfg->n_listen && i < ADDRS_MAX; i++)
		if (inet_ntop(cfg->listen[i].family, cfg->listen[i].addr, ip, sizeof(ip)) != NULL)
			json_array_append_new(a, json_string(ip));
	return a;
}

/* The heartbeat value, format 1 (docs/cluster.md). */
static char *
self_value(void)
{
	struct counters c;
	json_t *o;
	char *s;

	self_counters(&c);
	o = json_pack("{s:i,s:s,s:s,s:s,s:I,s:s,s:o*,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I}",
		      "format", FORMAT, "id", cl.id, "host", cl.host, "version", HD_VERSION,
		      "start", (json_int_t)cl.start, "instance", cl.instance,
		      "addresses", addresses_json(&cl.app->cfg),
		      "interval", (json_int_t)(cl.interval_ms / 1000),
		      "counters",
		      "queries", (json_int_t)c.queries, "cache_hits", (json_int_t)c.cache_hits,
		      "cache_misses", (json_int_t)c.cache_misses, "blocked", (json_int_t)c.blocked,
		      "upstream_failures", (json_int_t)c.upstream_failures,
		      "upstream_queries", (json_int_t)c.upstream_queries,
		      "l2_hits", (json_int_t)c.l2_hits,
		      "at", (json_int_t)hd_wall_ms());
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* ---- reading values from Redis: trust nothing ---- */

static int
json_u64(const json_t *o, const char *name, uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
json_token(const json_t *o, const char *name, char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (s == NULL || !token_ok(s, cap - 1))
		return -EINVAL;
	snprintf(out, cap, "%s", s);
	return 0;
}

static int
member_counters(const json_t *o, struct counters *c)
{
	const json_t *cs = json_object_get(o, "counters");

	if (!json_is_object(cs))
		return -EINVAL;
#define X(name) if (json_u64(cs, #name, INT64_MAX, &c->name) < 0) return -EINVAL;
	COUNTERS_FOREACH(X)
#undef X
	return 0;
}

static int
member_addrs(const json_t *o, struct member *m)
{
	const json_t *a = json_object_get(o, "addresses");
	unsigned char bin[16];
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > ADDRS_MAX)
		return -EINVAL;
	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (s == NULL || (inet_pton(AF_INET, s, bin) != 1 && inet_pton(AF_INET6, s, bin) != 1))
			return -EINVAL;
		snprintf(m->addrs[i], sizeof(m->addrs[i]), "%s", s);
	}
	m->n_addrs = (unsigned int)i;
	return 0;
}

/* Parse member @p id's value into @p m. @return 0, or -EINVAL for anything not format 1. */
static int
member_parse(const char *id, const char *v, size_t len, struct member *m)
{
	uint64_t format, interval;
	json_t *o;
	int ret = -EINVAL;

	if (len > VALUE_MAX)
		return -EINVAL;
	o = json_loadb(v, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o))
		goto out;
	memset(m, 0, sizeof(*m));
	if (json_u64(o, "format", UINT16_MAX, &format) < 0 || format != FORMAT ||
	    json_token(o, "id", m->id, sizeof(m->id)) < 0 || strcmp(m->id, id) != 0 ||
	    json_token(o, "host", m->host, sizeof(m->host)) < 0 ||
	    json_token(o, "version", m->version, sizeof(m->version)) < 0 ||
	    json_u64(o, "start", UINT32_MAX * 16ull, &m->start) < 0 ||
	    json_u64(o, "interval", 3600, &interval) < 0 || interval == 0 ||
	    member_addrs(o, m) < 0 || member_counters(o, &m->c) < 0 ||
	    !json_is_string(json_object_get(o, "instance")) ||
	    !json_is_integer(json_object_get(o, "at")))
		goto out;
	m->interval = (uint32_t)interval;
	ret = 0;
out:
	json_decref(o);
	return ret;
}

/* The "instance" of a heartbeat value, or "" when there is none. */
static void
value_instance(const char *v, size_t len, char *out, size_t cap)
{
	json_t *o = json_loadb(v, len, 0, NULL);
	const char *s = json_string_value(json_object_get(o, "instance"));

	snprintf(out, cap, "%s", s != NULL ? s : "");
	json_decref(o);
}

static void
collision_found(const char *v, size_t len)
{
	const char *host;
	char inst[32];
	json_t *o;

	value_instance(v, len, inst, sizeof(inst));
	if (strcmp(inst, cl.instance) == 0)
		return;
	stat_inc(&stat.id_collisions);
	if (cl.collision_logged)
		return;
	cl.collision_logged = 1;
	o = json_loadb(v, len, 0, NULL);
	host = json_string_value(json_object_get(o, "host"));
	/* The value is anyone's: only a plain token goes into the log. */
	if (host == NULL || !token_ok(host, ID_MAX - 1))
		host = "?";
	APP_LOG(WARNING, "cluster: node id %s is also used by another node (host %s, started %"
		PRId64 "): membership and counters mix; give each node its own --node-id",
		cl.id, host, (int64_t)json_integer_value(json_object_get(o, "start")));
	json_decref(o);
}

/* ---- membership ---- */

static int
command(hd_replica_reply_t cb, void *arg, int argc, const char *const *argv,
	const size_t *argvlen)
{
	return hd_replica_command(cl.r, cb, arg, argc, argv, argvlen);
}

/* Replies nobody needs beyond counting a refusal. */
static void
on_ignored(void *arg, const struct redisReply *reply)
{
	(void)arg;
	(void)reply;
}

static void
on_heartbeat(void *arg, const struct redisReply *reply)
{
	(void)arg;
	if (cl.stopping || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		stat_inc(&stat.heartbeat_errors);
		return;
	}
	stat_inc(&stat.heartbeats);
	/* SET ... GET: the value it replaced. Ours unless another node has our id. */
	if (reply->type == REDIS_REPLY_STRING && cl.wrote_once)
		collision_found(reply->str, reply->len);
	cl.wrote_once = 1;
}

static void
heartbeat_send(void)
{
	char px[24], *v = self_value();
	const char *set[] = { "SET", cl.key_self, v, "PX", px, "GET" };
	const char *sadd[] = { "SADD", cl.key_nodes, cl.id };

	if (v == NULL)
		return;
	snprintf(px, sizeof(px), "%" PRIu64, (uint64_t)cl.interval_ms * EXPIRE_INTERVALS);
	(void)command(on_heartbeat, NULL, 6, set, NULL);
	(void)command(on_ignored, NULL, 3, sadd, NULL);
	free(v);
}

static void
round_free(struct round *rd)
{
	unsigned int i;

	for (i = 0; i < rd->n; i++)
		free(rd->s[i].val);
	free(rd);
	cl.round_busy = 0;
}

/* Every reply of the round is in: the new view. */
static void
round_finish(struct round *rd)
{
	struct view *nv = calloc(1, sizeof(*nv));
	uint64_t now = hd_clock_ms();
	unsigned int i;

	for (i = 0; nv != NULL && i < rd->n; i++) {
		struct slot *s = &rd->s[i];
		struct member *m = &nv->m[nv->n];
		const char *srem[] = { "SREM", cl.key_nodes, s->id };

		if (s->val == NULL || s->pttl == -2) {
			/* Expired: the member stopped renewing it. */
			(void)command(on_ignored, NULL, 3, srem, NULL);
			continue;
		}
		/* A key without expiry was not written by a member (-1); nor a bad value. */
		if (s->pttl < 0 || member_parse(s->id, s->val, s->len, m) < 0) {
			stat_inc(&stat.invalid_members);
			continue;
		}
		if (nv->n == MEMBERS_MAX)
			continue;
		m->age_ms = (uint64_t)m->interval * 1000 * EXPIRE_INTERVALS > (uint64_t)s->pttl ?
			    (uint64_t)m->interval * 1000 * EXPIRE_INTERVALS - (uint64_t)s->pttl : 0;
		m->read_ms = now;
		nv->n++;
	}
	if (nv != NULL) {
		pthread_mutex_lock(&view_lock);
		view = *nv;
		pthread_mutex_unlock(&view_lock);
		free(nv);
	}
}

static void
round_reply_done(struct round *rd)
{
	if (--rd->pending > 0)
		return;
	if (!rd->failed && !cl.stopping)
		round_finish(rd);
	round_free(rd);
}

static void
on_values(void *arg, const struct redisReply *reply)
{
	struct round *rd = arg;
	unsigned int i;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != rd->n) {
		rd->failed = 1;
	} else {
		for (i = 0; i < rd->n; i++) {
			const struct redisReply *e = reply->element[i];

			if (e->type != REDIS_REPLY_STRING)
				continue;
			rd->s[i].val = malloc(e->len + 1);
			if (rd->s[i].val == NULL) {
				rd->failed = 1;
				break;
			}
			memcpy(rd->s[i].val, e->str, e->len);
			rd->s[i].val[e->len] = '\0';
			rd->s[i].len = e->len;
		}
	}
	round_reply_done(rd);
}

static void
on_pttl(void *arg, const struct redisReply *reply)
{
	struct slot *s = arg;

	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER)
		s->rd->failed = 1;
	else
		s->pttl = reply->integer;
	round_reply_done(s->rd);
}

/* MGET every member key, and the PTTL of each: how old its heartbeat is. */
static void
round_read(struct round *rd)
{
	const char **argv = calloc(rd->n + 1, sizeof(*argv));
	unsigned int i;

	if (argv == NULL) {
		round_free(rd);
		return;
	}
	argv[0] = "MGET";
	for (i = 0; i < rd->n; i++)
		argv[i + 1] = rd->s[i].key;
	rd->pending = 1;
	if (command(on_values, rd, (int)rd->n + 1, argv, NULL) < 0) {
		free(argv);
		round_free(rd);
		return;
	}
	free(argv);
	for (i = 0; i < rd->n; i++) {
		const char *pttl[] = { "PTTL", rd->s[i].key };

		rd->pending++;
		if (command(on_pttl, &rd->s[i], 2, pttl, NULL) < 0) {
			rd->pending--;
			rd->failed = 1;
		}
	}
	/* The MGET's reply is still to come: it ends the round when the last arrives. */
}

static void
on_members(void *arg, const struct redisReply *reply)
{
	struct round *rd;
	unsigned int i, n = 0;

	(void)arg;
	if (cl.stopping || reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		cl.round_busy = 0;
		return;
	}
	rd = calloc(1, sizeof(*rd) + sizeof(rd->s[0]) * RTE_MIN(reply->elements, (size_t)READ_MAX));
	if (rd == NULL) {
		cl.round_busy = 0;
		return;
	}
	for (i = 0; i < reply->elements && n < READ_MAX; i++) {
		const struct redisReply *e = reply->element[i];
		struct slot *s = &rd->s[n];
		char id[ID_MAX];

		if (e->type != REDIS_REPLY_STRING || e->len >= sizeof(id) ||
		    memchr(e->str, '\0', e->len) != NULL) {
			stat_inc(&stat.invalid_members);
			continue;
		}
		memcpy(id, e->str, e->len);
		id[e->len] = '\0';
		if (!token_ok(id, sizeof(id) - 1)) {
			stat_inc(&stat.invalid_members);
			continue;
		}
		if (strcmp(id, cl.id) == 0)
			continue;
		memcpy(s->id, id, sizeof(id));
		s->rd = rd;
		s->pttl = -2;
		snprintf(s->key, sizeof(s->key), "%s:v1:node:%s", cl.app->cfg.redis_prefix, id);
		n++;
	}
	rd->n = n;
	if (n == 0) {
		round_finish(rd);
		round_free(rd);
		return;
	}
	round_read(rd);
}

/* ---- control changes ---- */

static void state_fetch(void);

static void
on_versions(void *arg, const struct redisReply *reply)
{
	uint64_t v[2] = { 0, 0 };
	unsigned int i;

	(void)arg;
	if (cl.stopping || reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2)
		return;
	for (i = 0; i < 2; i++) {
		const struct redisReply *e = reply->element[i];
		char buf[24], *end;

		if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len >= sizeof(buf))
			continue;
		memcpy(buf, e->str, e->len);
		buf[e->len] = '\0';
		/* Digits only: strtoull() takes "-1" (as 2^64-1) and blanks, and
		 * saturates; a version that large would stop every later change. */
		errno = 0;
		v[i] = strtoull(buf, &end, 10);
		if (!isdigit((unsigned char)buf[0]) || *end != '\0' || errno != 0 ||
		    v[i] > INT64_MAX) {
			stat_inc(&stat.control_invalid);
			v[i] = 0;
		}
	}
	if (v[0] > cl.known_state)
		state_fetch();
	if (!cl.lists_seen) {
		/* The lists were just loaded at start: only a later change refreshes them. */
		cl.known_lists = v[1];
		cl.lists_seen = 1;
	} else if (v[1] > cl.known_lists) {
		cl.known_lists = v[1];
		stat_inc(&stat.control_received);
		APP_LOG(INFO, "cluster: lists changed on another node (version %" PRIu64
			"): refreshing", v[1]);
		hd_control_lists_refresh();
	}
}

static void
versions_check(void)
{
	const char *mget[] = { "MGET", cl.key_state_ver, cl.key_lists };

	(void)command(on_versions, NULL, 3, mget, NULL);
}

/* A stored state value: {"version": V, "origin": ID, "doc": {...}}. */
static void
state_apply(const char *v, size_t len)
{
	char origin[ID_MAX], *doc;
	uint64_t version;
	json_t *o;
	int ret;

	o = json_loadb(v, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o) || json_u64(o, "version", INT64_MAX, &version) < 0 ||
	    json_token(o, "origin", origin, sizeof(origin)) < 0 ||
	    !json_is_object(json_object_get(o, "doc"))) {
		stat_inc(&stat.control_invalid);
		APP_LOG(WARNING, "cluster: %s does not hold a valid control document: ignored",
			cl.key_state);
		json_decref(o);
		return;
	}
	if (version <= cl.known_state) {
		json_decref(o);
		return;
	}
	doc = json_dumps(json_object_get(o, "doc"), JSON_COMPACT);
	json_decref(o);
	if (doc == NULL)
		return;
	ret = hd_control_state_import(doc, strlen(doc), version);
	free(doc);
	if (ret == 0) {
		stat_inc(&stat.control_received);
		/* The importer logs the change itself; this adds where it came from. */
		APP_LOG(DEBUG, "cluster: state version %" PRIu64 " came from node %s", version,
			origin);
	} else if (ret != -EALREADY) {
		/* Refused (and logged by the importer): not asked again for this version. */
		stat_inc(&stat.control_errors);
	}
	cl.known_state = version;
	__atomic_store_n(&stat.known_state, version, __ATOMIC_RELAXED);
}

static void
on_state(void *arg, const struct redisReply *reply)
{
	(void)arg;
	cl.fetching = 0;
	if (cl.stopping || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_STRING && reply->len <= STATE_MAX)
		state_apply(reply->str, reply->len);
	else if (reply->type != REDIS_REPLY_NIL)
		stat_inc(&stat.control_invalid);
}

static void
state_fetch(void)
{
	const char *get[] = { "GET", cl.key_state };

	if (cl.fetching)
		return;
	if (command(on_state, NULL, 2, get, NULL) == 0)
		cl.fetching = 1;
}

/* A message on the control channel: {"kind": K, "version": V, "origin": ID}. */
static void
on_message(void *arg, const char *channel, const uint8_t *msg, size_t len)
{
	char origin[ID_MAX];
	const char *kind;
	uint64_t version;
	json_t *o;

	(void)arg;
	(void)channel;
	if (cl.stopping)
		return;
	o = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, NULL);
	kind = json_string_value(json_object_get(o, "kind"));
	if (kind == NULL || json_u64(o, "version", INT64_MAX, &version) < 0 ||
	    json_token(o, "origin", origin, sizeof(origin)) < 0 ||
	    (strcmp(kind, "state") != 0 && strcmp(kind, "lists") != 0)) {
		stat_inc(&stat.control_invalid);
		json_decref(o);
		return;
	}
	if (strcmp(origin, cl.id) != 0) {
		if (strcmp(kind, "state") == 0 && version > cl.known_state) {
			state_fetch();
		} else if (strcmp(kind, "lists") == 0 && version > cl.known_lists) {
			cl.known_lists = version;
			stat_inc(&stat.control_received);
			APP_LOG(INFO, "cluster: lists refreshed on node %s: refreshing", origin);
			hd_control_lists_refresh();
		}
	}
	json_decref(o);
}

static void
push_failed(struct push *p, const char *why)
{
	stat_inc(&stat.control_errors);
	atomic_max(p->state ? &pending_state : &pending_lists, p->version);
	cl.control_retry_ms = hd_clock_ms() + cl.interval_ms;
	if (!cl.push_error_logged)
		APP_LOG(WARNING, "cluster: cannot store the %s change (version %" PRIu64 ") in "
			"Redis: %s; retrying every %u s", p->state ? "state" : "lists", p->version,
			why, cl.interval_ms / 1000);
	cl.push_error_logged = 1;
}

static void
on_pushed(void *arg, const struct redisReply *reply)
{
	struct push *p = arg;

	if (cl.stopping) {
		free(p);
		return;
	}
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		push_failed(p, reply == NULL ? "no reply" : reply->str);
	} else {
		cl.push_error_logged = 0;
		if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
			stat_inc(&stat.control_sent);
			APP_LOG(INFO, "cluster: %s version %" PRIu64 " announced",
				p->state ? "state" : "lists", p->version);
		}
		/* 0: Redis holds a newer one, which the version check brings in. */
		if (p->state && p->version > cl.known_state) {
			cl.known_state = p->version;
			__atomic_store_n(&stat.known_state, p->version, __ATOMIC_RELAXED);
		} else if (!p->state && p->version > cl.known_lists) {
			cl.known_lists = p->version;
		}
	}
	free(p);
}

static int
push_send(struct push *p, const char *value)
{
	char ver[24], *msg;
	const char *argv[9];
	json_t *m;
	int argc = 0, ret;

	snprintf(ver, sizeof(ver), "%" PRIu64, p->version);
	m = json_pack("{s:s,s:I,s:s}", "kind", p->state ? "state" : "lists",
		      "version", (json_int_t)p->version, "origin", cl.id);
	msg = m != NULL ? json_dumps(m, JSON_COMPACT) : NULL;
	json_decref(m);
	if (msg == NULL)
		return -ENOMEM;
	argv[argc++] = "EVAL";
	argv[argc++] = push_script;
	argv[argc++] = p->state ? "2" : "1";
	argv[argc++] = p->state ? cl.key_state_ver : cl.key_lists;
	if (p->state)
		argv[argc++] = cl.key_state;
	argv[argc++] = ver;
	argv[argc++] = cl.channel;
	argv[argc++] = msg;
	if (p->state)
		argv[argc++] = value;
	ret = command(on_pushed, p, argc, argv, NULL);
	free(msg);
	return ret;
}

/* The local document as a state value. @return it (free()), or NULL. */
static char *
state_value(uint64_t *version)
{
	char *json = NULL, *out = NULL;
	size_t len = 0;
	json_t *doc, *o;

	if (hd_control_state_export(&json, &len, version) < 0 || json == NULL)
		return NULL;
	doc = json_loadb(json, len, 0, NULL);
	free(json);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	o = json_pack("{s:I,s:s,s:o}", "version", (json_int_t)*version, "origin", cl.id,
		      "doc", doc);
	if (o != NULL)
		out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

static void
control_push(int state, uint64_t announced)
{
	struct push *p = malloc(sizeof(*p));
	char *value = NULL;
	int ret = -ENOMEM;

	if (p == NULL) {
		atomic_max(state ? &pending_state : &pending_lists, announced);
		return;
	}
	p->state = state;
	p->version = announced;
	if (state) {
		/* The document as it is now: its version may be past the announced one. */
		value = state_value(&p->version);
		if (value == NULL || p->version == 0) {
			free(value);
			free(p);
			return;
		}
	}
	ret = push_send(p, value);
	free(value);
	if (ret < 0) {
		push_failed(p, strerror(-ret));
		free(p);
	}
}

static void
control_send(uint64_t now)
{
	uint64_t v;

	if (now < cl.control_retry_ms)
		return;
	v = __atomic_exchange_n(&pending_state, 0, __ATOMIC_ACQUIRE);
	if (v != 0)
		control_push(1, v);
	v = __atomic_exchange_n(&pending_lists, 0, __ATOMIC_ACQUIRE);
	if (v != 0)
		control_push(0, v);
}

/* Any thread (the API's, the control thread's): only note it for the slow path. */
static void
announce(const char *kind, uint64_t version)
{
	if (kind == NULL || version == 0)
		return;
	if (strcmp(kind, "state") == 0)
		atomic_max(&pending_state, version);
	else if (strcmp(kind, "lists") == 0)
		atomic_max(&pending_lists, version);
}

/* ---- the slow path's hooks ---- */

int
hd_cluster_start(struct hd_app *app, struct hd_replica *r)
{
	int ret;

	identity_init(app);
	cl.r = r;
	ret = hd_replica_subscribe(r, cl.channel, on_message, NULL);
	if (ret < 0) {
		APP_LOG(ERR, "cluster: cannot subscribe to %s: %s", cl.channel, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Connected (again): our heartbeat now, our state if newer, theirs if newer. */
static void
connected(uint64_t now)
{
	uint64_t v = 0;
	char *value;

	cl.next_round_ms = now;
	cl.control_retry_ms = 0;
	/* Changes made while Redis was away (or before this start) count as announced. */
	value = state_value(&v);
	free(value);
	if (v != 0)
		atomic_max(&pending_state, v);
}

/* Redis refusing writes (maxmemory, read-only replica...): said once each way. */
static void
write_errors_watch(const struct hd_replica_stats *st, uint64_t now)
{
	if (st->write_errors > cl.last_write_errors) {
		if (!cl.refusing)
			APP_LOG(WARNING, "cluster: redis refuses writes (%" PRIu64 " errors so far, "
				"e.g. maxmemory reached): names are not shared; answers continue "
				"from the local cache and upstreams", st->write_errors);
		cl.refusing = 1;
		cl.calm_since_ms = now;
	} else if (cl.refusing && st->writes > cl.last_writes &&
		   now - cl.calm_since_ms >= CALM_MS) {
		APP_LOG(INFO, "cluster: redis accepts writes again");
		cl.refusing = 0;
	}
	cl.last_writes = st->writes;
	cl.last_write_errors = st->write_errors;
}

void
hd_cluster_tick(uint64_t now)
{
	const char *smembers[] = { "SMEMBERS", cl.key_nodes };
	struct hd_replica_stats st;
	int up;

	if (cl.r == NULL || cl.stopping)
		return;
	hd_replica_stats_get(cl.r, &st);
	write_errors_watch(&st, now);
	up = st.state == HD_REPLICA_CONNECTED;
	if (up && !cl.connected)
		connected(now);
	cl.connected = up;
	if (!up)
		return;
	control_send(now);
	if (now < cl.next_round_ms)
		return;
	cl.next_round_ms = now + cl.interval_ms;
	heartbeat_send();
	versions_check();
	if (cl.round_busy)
		return;		/* the last read is still under way: Redis is slow */
	if (command(on_members, NULL, 2, smembers, NULL) == 0)
		cl.round_busy = 1;
}

void
hd_cluster_stop(void)
{
	cl.stopping = 1;
}

/* ---- what operators see (any thread) ---- */

static void
view_copy(struct view *out)
{
	pthread_mutex_lock(&view_lock);
	*out = view;
	pthread_mutex_unlock(&view_lock);
}

/* Age of @p m's heartbeat now; UINT64_MAX once its key must have expired. */
static uint64_t
member_age(const struct member *m, uint64_t now)
{
	uint64_t age = m->age_ms + (now > m->read_ms ? now - m->read_ms : 0);

	return age >= (uint64_t)m->interval * 1000 * EXPIRE_INTERVALS ? UINT64_MAX : age;
}

static const char *
member_state(const struct member *m, uint64_t age)
{
	return age <= (uint64_t)m->interval * 1000 * STALE_INTERVALS ? "up" : "stale";
}

/* The totals: this node's live counters plus every other live member's. */
static unsigned int
totals(const struct view *v, uint64_t now, struct counters *t)
{
	unsigned int i, n = 1;

	self_counters(t);
	for (i = 0; i < v->n; i++) {
		if (member_age(&v->m[i], now) == UINT64_MAX)
			continue;
#define X(name) t->name += v->m[i].c.name;
		COUNTERS_FOREACH(X)
#undef X
		n++;
	}
	return n;
}

static struct rte_tel_data *
tel_member(const char *id, const char *host, const char *version, uint64_t age,
	   const char *state)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "id", id);
	rte_tel_data_add_dict_string(d, "host", host);
	rte_tel_data_add_dict_string(d, "version", version);
	rte_tel_data_add_dict_u64(d, "age_ms", age);
	rte_tel_data_add_dict_string(d, "state", state);
	return d;
}

int
hd_cluster_telemetry(struct rte_tel_data *d)
{
	struct view *v = malloc(sizeof(*v));
	struct rte_tel_data *members, *tot, *one;
	uint64_t now = hd_clock_ms(), age;
	struct counters t;
	unsigned int i, n = 0;
	char key[16];

	if (v == NULL)
		return -ENOMEM;
	view_copy(v);
	members = rte_tel_data_alloc();
	tot = rte_tel_data_alloc();
	if (members == NULL || tot == NULL)
		goto nomem;
	rte_tel_data_start_dict(members);
	/* Keyed by position: node ids may hold characters dict keys may not. */
	one = tel_member(cl.id, cl.host, HD_VERSION, 0, "up");
	if (one == NULL)
		goto nomem;
	rte_tel_data_add_dict_container(members, "0", one, 0);
	for (i = 0; i < v->n; i++) {
		age = member_age(&v->m[i], now);
		if (age == UINT64_MAX)
			continue;
		one = tel_member(v->m[i].id, v->m[i].host, v->m[i].version, age,
				 member_state(&v->m[i], age));
		if (one == NULL)
			goto nomem;
		snprintf(key, sizeof(key), "%u", ++n);
		rte_tel_data_add_dict_container(members, key, one, 0);
	}
	totals(v, now, &t);
	rte_tel_data_start_dict(tot);
#define X(name) rte_tel_data_add_dict_u64(tot, #name, t.name);
	COUNTERS_FOREACH(X)
#undef X
	rte_tel_data_add_dict_u64(d, "member_count", n + 1);
	rte_tel_data_add_dict_container(d, "members", members, 0);
	rte_tel_data_add_dict_container(d, "totals", tot, 0);
	rte_tel_data_add_dict_u64(d, "invalid_members", stat_get(&stat.invalid_members));
	rte_tel_data_add_dict_u64(d, "id_collisions", stat_get(&stat.id_collisions));
	rte_tel_data_add_dict_u64(d, "heartbeats", stat_get(&stat.heartbeats));
	rte_tel_data_add_dict_u64(d, "heartbeat_errors", stat_get(&stat.heartbeat_errors));
	rte_tel_data_add_dict_u64(d, "control_version", stat_get(&stat.known_state));
	rte_tel_data_add_dict_u64(d, "control_sent", stat_get(&stat.control_sent));
	rte_tel_data_add_dict_u64(d, "control_received", stat_get(&stat.control_received));
	rte_tel_data_add_dict_u64(d, "control_errors", stat_get(&stat.control_errors));
	rte_tel_data_add_dict_u64(d, "control_invalid", stat_get(&stat.control_invalid));
	free(v);
	return 0;
nomem:
	rte_tel_data_free(members);
	rte_tel_data_free(tot);
	free(v);
	return -ENOMEM;
}

static json_t *
counters_json(const struct counters *c)
{
	json_t *o = json_object();

#define X(name) json_object_set_new(o, #name, json_integer((json_int_t)c->name));
	COUNTERS_FOREACH(X)
#undef X
	return o;
}

static json_t *
member_json(const struct member *m, uint64_t age, int self)
{
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; i < m->n_addrs; i++)
		json_array_append_new(a, json_string(m->addrs[i]));
	return json_pack("{s:s,s:s,s:s,s:I,s:o,s:I,s:I,s:s,s:b,s:o}", "id", m->id, "host", m->host,
			 "version", m->version, "start", (json_int_t)m->start, "addresses", a,
			 "interval", (json_int_t)m->interval, "age_ms", (json_int_t)age,
			 "state", member_state(m, age), "self", self, "counters",
			 counters_json(&m->c));
}

/* This node as a member: what its heartbeat says now. */
static void
self_member(struct member *m)
{
	json_t *a = addresses_json(&g_app->cfg);
	size_t i;

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", cl.id);
	snprintf(m->host, sizeof(m->host), "%s", cl.host);
	snprintf(m->version, sizeof(m->version), "%s", HD_VERSION);
	m->start = cl.start;
	m->interval = cl.interval_ms / 1000;
	for (i = 0; i < json_array_size(a) && i < ADDRS_MAX; i++)
		snprintf(m->addrs[i], sizeof(m->addrs[i]), "%s",
			 json_string_value(json_array_get(a, i)));
	m->n_addrs = (unsigned int)i;
	json_decref(a);
	self_counters(&m->c);
}

static json_t *
redis_json(void)
{
	struct hd_cluster_snap s;

	hd_cluster_snap_get(&s);
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "state",
			 !s.enabled ? "off" : hd_replica_state_name((enum hd_replica_state)s.state),
			 "writes", (json_int_t)s.writes, "write_dropped", (json_int_t)s.write_dropped,
			 "write_errors", (json_int_t)s.write_errors, "l2_hits", (json_int_t)s.l2_hits,
			 "l2_misses", (json_int_t)s.l2_misses, "l2_rejected", (json_int_t)s.l2_rejected,
			 "outstanding", (json_int_t)s.outstanding);
}

static json_t *
control_json(void)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I}",
			 "version", (json_int_t)stat_get(&stat.known_state),
			 "sent", (json_int_t)stat_get(&stat.control_sent),
			 "received", (json_int_t)stat_get(&stat.control_received),
			 "errors", (json_int_t)stat_get(&stat.control_errors),
			 "invalid", (json_int_t)stat_get(&stat.control_invalid));
}

/* GET /api/cluster */
static void
on_http_cluster(const struct hd_http_request *req, struct hd_http_response *resp)
{
	struct view *v = malloc(sizeof(*v));
	json_t *members = json_array();
	uint64_t now = hd_clock_ms(), age;
	struct member self;
	struct counters t;
	unsigned int i;

	(void)req;
	if (v == NULL || members == NULL) {
		free(v);
		json_decref(members);
		hd_http_reply_error(resp, 500, "out of memory");
		return;
	}
	view_copy(v);
	self_member(&self);
	json_array_append_new(members, member_json(&self, 0, 1));
	for (i = 0; i < v->n; i++) {
		age = member_age(&v->m[i], now);
		if (age != UINT64_MAX)
			json_array_append_new(members, member_json(&v->m[i], age, 0));
	}
	totals(v, now, &t);
	free(v);
	hd_http_reply_json(resp, 200, json_pack("{s:s,s:o,s:o,s:o,s:o,s:I,s:I}",
		"node_id", cl.id, "redis", redis_json(), "members", members,
		"totals", counters_json(&t), "control", control_json(),
		"invalid_members", (json_int_t)stat_get(&stat.invalid_members),
		"id_collisions", (json_int_t)stat_get(&stat.id_collisions)));
}

static void
on_metrics(struct hd_metrics_buf *b)
{
	struct view *v = malloc(sizeof(*v));
	struct hd_cluster_snap s;
	struct counters t;
	unsigned int n;

	if (v == NULL)
		return;
	view_copy(v);
	n = totals(v, hd_clock_ms(), &t);
	free(v);
	hd_cluster_snap_get(&s);
	hd_metrics_family(b, "heimdall_cluster_members", "gauge",
			  "Live cluster members (heartbeat not expired), this node included");
	hd_metrics_u64(b, "heimdall_cluster_members", n, NULL);
	/* Sums over the live members: they drop when a member leaves, hence gauges. */
#define X(name) \
	hd_metrics_family(b, "heimdall_cluster_" #name, "gauge", \
			  "Sum of " #name " over the live cluster members"); \
	hd_metrics_u64(b, "heimdall_cluster_" #name, t.name, NULL);
	COUNTERS_FOREACH(X)
#undef X
	hd_metrics_family(b, "heimdall_cluster_redis_up", "gauge",
			  "1 when this node is connected to the cluster's Redis");
	hd_metrics_u64(b, "heimdall_cluster_redis_up",
		       s.enabled && s.state == HD_REPLICA_CONNECTED ? 1 : 0, NULL);
	/* This node's side of the L2 cache (/heimdall/cluster shows the same). */
#define L2(name, field, help) \
	hd_metrics_family(b, "heimdall_redis_" name "_total", "counter", help); \
	hd_metrics_u64(b, "heimdall_redis_" name "_total", s.field, NULL);
	L2("writes", writes, "Answers written to Redis (SET)")
	L2("write_dropped", write_dropped, "Writes not sent: Redis down or the queue full")
	L2("write_errors", write_errors, "Writes Redis answered with an error")
	L2("l2_hits", l2_hits, "Local misses answered from Redis")
	L2("l2_misses", l2_misses, "Redis lookups that did not answer")
	L2("l2_rejected", l2_rejected, "Redis values refused as foreign or malformed")
#undef L2
	hd_metrics_family(b, "heimdall_cluster_invalid_members_total", "counter",
			  "Member set entries or values ignored as malformed");
	hd_metrics_u64(b, "heimdall_cluster_invalid_members_total",
		       stat_get(&stat.invalid_members), NULL);
	hd_metrics_family(b, "heimdall_cluster_id_collisions_total", "counter",
			  "Times another node was seen writing this node's id");
	hd_metrics_u64(b, "heimdall_cluster_id_collisions_total", stat_get(&stat.id_collisions),
		       NULL);
	hd_metrics_family(b, "heimdall_cluster_control_received_total", "counter",
			  "Control changes of other nodes applied here");
	hd_metrics_u64(b, "heimdall_cluster_control_received_total",
		       stat_get(&stat.control_received), NULL);
	hd_metrics_family(b, "heimdall_cluster_control_errors_total", "counter",
			  "Control changes that could not be stored or applied");
	hd_metrics_u64(b, "heimdall_cluster_control_errors_total",
		       stat_get(&stat.control_errors), NULL);
}

int
hd_cluster_register(struct hd_app *app)
{
	int ret;

	identity_init(app);
	ret = hd_http_route("GET", "/api/cluster", HD_HTTP_OPEN, on_http_cluster);
	if (ret == 0)
		ret = hd_metrics_register(on_metrics);
	if (ret < 0) {
		APP_LOG(ERR, "cluster: cannot add /api/cluster and its metrics: %s",
			strerror(-ret));
		return ret;
	}
	/* Without Redis there is nobody to tell. */
	if (app->cfg.redis.enabled)
		hd_control_announcer_set(announce);
	return 0;
}
