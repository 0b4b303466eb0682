/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The query log of heimdall (lib/querylog does the pieces):
 *
 * - every worker's fast-path context logs through hd_querylog_fp_log() into
 *   the worker's own ring; the slow path logs the answers it sends into a
 *   ring of its own (hd_querylog_slow_begin/end);
 * - a drain thread (a plain pthread pinned to the main lcore's CPUs) empties
 *   the rings every DRAIN_MS, turns TSC stamps into wall-clock time, merges
 *   the rings' records in time order, and feeds the in-memory store (for
 *   GET /api/querylog), the top-N summaries (GET /api/stats/top) and the
 *   JSON lines file;
 * - /metrics families and the /heimdall/querylog telemetry command report
 *   the counters.
 *
 * With querylog off nothing is created: the contexts' log hook stays NULL,
 * the routes answer 404 saying so, and the counters read zero.
 *
 * Locking: `lock` guards the store and the top tables, shared by the drain
 * thread (writer, once per pass) and the HTTP thread (reader, which copies
 * what it needs and formats outside the lock).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "hd_app.h"
#include "hd_http.h"
#include "hd_querylog.h"
#include "hd_wire.h"

#define RING_SIZE	16384		/* records per worker: 2 MiB */
#define DRAIN_MS	5
#define BATCH		1024		/* records per ring per drain step */
#define TOP_SLOTS	4096		/* counters per top table */
#define TOP_N_MAX	100
#define LIMIT_DEFAULT	100
#define LIMIT_MAX	10000
#define LINE_MAX_LEN	2048

enum { TOP_DOMAINS, TOP_BLOCKED, TOP_CLIENTS, TOP_KINDS };
static const char *const top_kinds[TOP_KINDS] = { "domains", "blocked", "clients" };

static struct {
	int on;
	int anon;
	unsigned int n_rings;		/* workers + the slow path (the last) */
	struct hd_querylog_ring **rings;
	struct hd_querylog_ring *slow;
	struct hd_querylog_rec *batch;	/* n_rings * BATCH, drain thread only */
	struct hd_querylog_rec **order;	/* the same, sorted by time */
	struct hd_querylog_file *file;
	char (*list_names)[HD_CONFIG_NAME_LEN];
	unsigned int n_lists;

	pthread_mutex_t lock;
	struct hd_querylog_store *store;
	struct hd_querylog_top *top[TOP_KINDS];

	pthread_t thread;
	int thread_started;
	int stop;			/* atomic: the drain thread ends */
	uint64_t file_errors;		/* atomic: copied by the drain thread */
	uint64_t tsc_khz;
	uint64_t slow_cname0;		/* slow path: cname_blocked before a reply */
} ql = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* ---- the slow path's records ---- */

struct hd_querylog_rec *
hd_querylog_slow_begin(const struct rte_mbuf *m, unsigned int status, uint64_t taken_tsc)
{
	const struct hd_fastpath_conf *conf;
	const uint8_t *pkt = rte_pktmbuf_mtod(m, const uint8_t *);
	struct hd_querylog_rec *r;
	struct hd_dns_query q;
	struct hd_pkt p;
	uint64_t now;

	if (ql.slow == NULL)
		return NULL;
	conf = &hd_app.fp_conf[m->port];
	if (hd_fastpath_classify(conf, pkt, m->data_len, &p) != 0 ||
	    hd_fastpath_query(conf, pkt, m->data_len, &q) != 0)
		return NULL;
	r = hd_querylog_ring_reserve(ql.slow);
	if (r == NULL)
		return NULL;
	now = rte_rdtsc();
	r->time = now;
	r->flags = 0;
	hd_querylog_rec_client(r, pkt + p.l3_off + (p.ipv6 ? 8 : 12), p.ipv6);
	hd_querylog_anonymize(r, ql.anon);
	r->qtype = q.qtype;
	r->list = HD_QUERYLOG_LIST_NONE;
	r->lcore = ql.slow->lcore;
	r->latency_ms = 0;
	if (taken_tsc != 0 && taken_tsc <= now)
		r->latency_ms = (uint16_t)RTE_MIN((now - taken_tsc) / ql.tsc_khz,
						  (uint64_t)UINT16_MAX);
	r->status = (uint8_t)status;
	r->rcode = 0;
	hd_querylog_rec_name(r, q.lname, q.qname_len);
	ql.slow_cname0 = hd_stats_self()->c[HD_STAT_cname_blocked];
	return r;
}

/*
 * The RCODE of the reply frame @p pkt (what the slow path just wrote): after
 * Ethernet (one optional VLAN tag), the IP header (IPv4 IHL, or IPv6's 40
 * bytes: the reply carries no extension header) and UDP.
 */
static uint8_t
reply_rcode(const uint8_t *pkt, size_t len)
{
	struct hd_wire w;
	uint16_t et;
	uint8_t b;

	hd_wire_init(&w, (void *)(uintptr_t)pkt, len);
	hd_wire_skip(&w, 12);
	et = hd_wire_read_u16(&w);
	if (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) {
		hd_wire_skip(&w, 2);
		et = hd_wire_read_u16(&w);
	}
	if (et == RTE_ETHER_TYPE_IPV4)
		hd_wire_skip(&w, (size_t)(hd_wire_read_u8(&w) & 0x0f) * 4 - 1);
	else
		hd_wire_skip(&w, 40);
	hd_wire_skip(&w, 8 + 3);	/* UDP, then ID and the first flags byte */
	b = hd_wire_read_u8(&w);
	return hd_wire_ok(&w) ? b & 0x0f : 0;
}

void
hd_querylog_slow_end(struct hd_querylog_rec *r, const struct rte_mbuf *m, int len)
{
	if (r == NULL || len < 0)
		return;
	r->rcode = reply_rcode(rte_pktmbuf_mtod(m, const uint8_t *), (size_t)len);
	/* This thread's own counter moved: the reply was rewritten as a block (cloaking). */
	if (hd_stats_self()->c[HD_STAT_cname_blocked] != ql.slow_cname0)
		r->status = HD_QUERYLOG_CNAME_BLOCKED;
	hd_querylog_ring_commit(ql.slow);
}

/* ---- the drain thread ---- */

static const char *
list_name(uint16_t list)
{
	return list < ql.n_lists ? ql.list_names[list] : NULL;
}

static int
by_time(const void *a, const void *b)
{
	const struct hd_querylog_rec *x = *(const struct hd_querylog_rec *const *)a;
	const struct hd_querylog_rec *y = *(const struct hd_querylog_rec *const *)b;

	return x->time < y->time ? -1 : x->time > y->time;
}

/* Client key of the top table: the flags that tell the family, then the bytes. */
static size_t
client_key(const struct hd_querylog_rec *r, uint8_t *key)
{
	size_t n = (r->flags & HD_QUERYLOG_F_IPV6) ? 16 : 4;

	key[0] = r->flags & (HD_QUERYLOG_F_IPV6 | HD_QUERYLOG_F_HIDDEN);
	memcpy(key + 1, r->client, n);
	return n + 1;
}

static void
summaries_add(const struct hd_querylog_rec *r)
{
	uint8_t key[1 + 16];

	hd_querylog_store_add(ql.store, r);
	if (!(r->flags & HD_QUERYLOG_F_NONAME)) {
		hd_querylog_top_add(ql.top[TOP_DOMAINS], r->name, r->name_len);
		if (r->status == HD_QUERYLOG_BLOCKED || r->status == HD_QUERYLOG_CNAME_BLOCKED)
			hd_querylog_top_add(ql.top[TOP_BLOCKED], r->name, r->name_len);
	}
	hd_querylog_top_add(ql.top[TOP_CLIENTS], key, client_key(r, key));
}

/*
 * One pass: take what every ring holds (up to BATCH each), stamp wall-clock
 * time, sort by time (workers' TSCs are synchronised), then store, count
 * and write. With @p behind (a pass right after a full one: the workers are
 * ahead) stay HD_QUERYLOG_DRAIN_LAG records behind each worker, off the
 * cache lines it is writing. @return the records moved.
 */
static unsigned int
drain_pass(int behind)
{
	uint64_t tsc = rte_rdtsc(), now = hd_wall_ms();
	unsigned int i, n = 0;
	char line[LINE_MAX_LEN];
	int len;

	for (i = 0; i < ql.n_rings; i++)
		n += behind ? hd_querylog_ring_drain_behind(ql.rings[i], ql.batch + n, BATCH)
			    : hd_querylog_ring_drain(ql.rings[i], ql.batch + n, BATCH);
	if (n == 0)
		goto flush;
	for (i = 0; i < n; i++)
		ql.order[i] = &ql.batch[i];
	/* By TSC, before it becomes milliseconds: queries of the same ms keep their order. */
	qsort(ql.order, n, sizeof(*ql.order), by_time);
	for (i = 0; i < n; i++) {
		struct hd_querylog_rec *r = ql.order[i];

		/* TSC to Unix ms against this pass's anchor: NTP steps show at once. */
		r->time = r->time <= tsc ? now - (tsc - r->time) / ql.tsc_khz
					 : now + (r->time - tsc) / ql.tsc_khz;
	}
	pthread_mutex_lock(&ql.lock);
	for (i = 0; i < n; i++)
		summaries_add(ql.order[i]);
	pthread_mutex_unlock(&ql.lock);
	if (ql.file != NULL) {
		for (i = 0; i < n; i++) {
			len = hd_querylog_json_line(ql.order[i], list_name(ql.order[i]->list), line,
						    sizeof(line));
			if (len > 0)
				(void)hd_querylog_file_write(ql.file, line, (size_t)len, now);
		}
	}
flush:
	if (ql.file != NULL) {
		(void)hd_querylog_file_flush(ql.file, now);
		__atomic_store_n(&ql.file_errors, hd_querylog_file_errors(ql.file),
				 __ATOMIC_RELAXED);
	}
	return n;
}

static void *
drain_main(void *arg)
{
	struct timespec nap = { 0, DRAIN_MS * 1000000L };
	unsigned int n;
	int behind = 0;

	RTE_SET_USED(arg);
	while (!__atomic_load_n(&ql.stop, __ATOMIC_ACQUIRE)) {
		n = drain_pass(behind);
		/* A full batch: more is waiting, go again at once (behind the workers). */
		behind = n >= BATCH;
		if (!behind)
			nanosleep(&nap, NULL);
	}
	/* The producers have stopped: take everything left, then flush. */
	while (drain_pass(0) > 0)
		;
	return NULL;
}

static int
drain_start(void)
{
	rte_cpuset_t cpus = rte_lcore_cpuset(rte_get_main_lcore());
	int rc;

	rc = pthread_create(&ql.thread, NULL, drain_main, NULL);
	if (rc != 0) {
		APP_LOG(ERR, "query log: cannot start the drain thread: %s", strerror(rc));
		return -rc;
	}
	ql.thread_started = 1;
	(void)pthread_setname_np(ql.thread, "hd-querylog");
	/* The main lcore never busy-polls; the workers' CPUs stay the workers'. */
	rc = pthread_setaffinity_np(ql.thread, sizeof(cpus), &cpus);
	if (rc != 0)
		APP_LOG(WARNING, "query log: drain thread affinity: %s", strerror(rc));
	return 0;
}

/* ---- counters ---- */

struct counters {
	uint64_t records, dropped, sampled_out;
	uint32_t sample_max;
};

static void
counters_sum(struct counters *c)
{
	struct hd_querylog_ring_stats st;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->sample_max = 1;
	/* Under the lock: hd_querylog_stop() frees the rings while telemetry still runs. */
	pthread_mutex_lock(&ql.lock);
	for (i = 0; i < ql.n_rings; i++) {
		hd_querylog_ring_stats(ql.rings[i], &st);
		c->records += st.records;
		c->dropped += st.dropped;
		c->sampled_out += st.sampled_out;
		c->sample_max = RTE_MAX(c->sample_max,
					__atomic_load_n(&ql.rings[i]->sample_n, __ATOMIC_RELAXED));
	}
	pthread_mutex_unlock(&ql.lock);
}

static void
metrics_write(struct hd_metrics_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fam[] = {
		{ "heimdall_querylog_records_total", "Queries recorded in the query log",
		  offsetof(struct hd_querylog_ring_stats, records) },
		{ "heimdall_querylog_dropped_total",
		  "Queries not recorded because the lcore's query log ring was full",
		  offsetof(struct hd_querylog_ring_stats, dropped) },
		{ "heimdall_querylog_sampled_out_total",
		  "Queries not recorded because the query log was sampling under overload",
		  offsetof(struct hd_querylog_ring_stats, sampled_out) },
	};
	struct hd_querylog_ring_stats st;
	char lcore[16];
	unsigned int f, i;

	pthread_mutex_lock(&ql.lock);
	for (f = 0; f < RTE_DIM(fam); f++) {
		hd_metrics_family(b, fam[f].name, "counter", fam[f].help);
		for (i = 0; i < ql.n_rings; i++) {
			hd_querylog_ring_stats(ql.rings[i], &st);
			snprintf(lcore, sizeof(lcore), "%u", ql.rings[i]->lcore);
			hd_metrics_u64(b, fam[f].name,
				       *(const uint64_t *)(const void *)((const char *)&st +
									 fam[f].off),
				       "lcore", lcore, NULL);
		}
	}
	pthread_mutex_unlock(&ql.lock);
	hd_metrics_family(b, "heimdall_querylog_file_errors_total", "counter",
			  "Query log file open, write and rotation failures");
	hd_metrics_u64(b, "heimdall_querylog_file_errors_total",
		       __atomic_load_n(&ql.file_errors, __ATOMIC_RELAXED), NULL);
}

static int
telemetry_querylog(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct counters c;
	uint32_t kept;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	counters_sum(&c);
	pthread_mutex_lock(&ql.lock);
	kept = ql.store != NULL ? hd_querylog_store_count(ql.store) : 0;
	pthread_mutex_unlock(&ql.lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "enabled", (uint64_t)ql.on);
	rte_tel_data_add_dict_u64(d, "records", c.records);
	rte_tel_data_add_dict_u64(d, "dropped", c.dropped);
	rte_tel_data_add_dict_u64(d, "sampled_out", c.sampled_out);
	rte_tel_data_add_dict_u64(d, "sample_n", c.sample_max);
	rte_tel_data_add_dict_u64(d, "file_errors",
				  __atomic_load_n(&ql.file_errors, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "kept", kept);
	rte_tel_data_add_dict_string(d, "anonymize",
				     hd_config_anonymize_name(hd_app.cfg.querylog_anonymize));
	return 0;
}

/* ---- HTTP ---- */

static int
off_reply(struct hd_http_response *resp)
{
	if (ql.on)
		return 0;
	hd_http_reply_error(resp, 404, "the query log is off (querylog: false)");
	return 1;
}

static json_t *
rec_json(const struct hd_querylog_rec *r)
{
	char name[HD_DNS_NAME_MAX * 4 + 8], client[INET6_ADDRSTRLEN], type[16], rc[16];
	const char *tn = hd_querylog_type_name(r->qtype), *rn = hd_querylog_rcode_name(r->rcode);
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (hd_querylog_name_str(r, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), ".");
	if (hd_querylog_client_str(r, client, sizeof(client)) < 0)
		snprintf(client, sizeof(client), "?");
	if (tn == NULL)
		snprintf(type, sizeof(type), "TYPE%u", r->qtype);
	else
		snprintf(type, sizeof(type), "%s", tn);
	if (rn == NULL)
		snprintf(rc, sizeof(rc), "RCODE%u", r->rcode);
	else
		snprintf(rc, sizeof(rc), "%s", rn);
	json_object_set_new(o, "ts", json_integer((json_int_t)r->time));
	json_object_set_new(o, "client", json_string(client));
	/* Names may hold any byte: \DDD keeps them ASCII, so valid JSON strings. */
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "status", json_string(hd_querylog_status_name(r->status)));
	json_object_set_new(o, "rcode", json_string(rc));
	if (r->list != HD_QUERYLOG_LIST_NONE)
		json_object_set_new(o, "list", list_name(r->list) != NULL ?
					    json_string(list_name(r->list)) : json_integer(r->list));
	if (r->status == HD_QUERYLOG_FORWARDED || r->latency_ms != 0)
		json_object_set_new(o, "latency_ms", json_integer(r->latency_ms));
	json_object_set_new(o, "lcore", json_integer(r->lcore));
	if (r->flags & HD_QUERYLOG_F_TRUNC)
		json_object_set_new(o, "truncated", json_true());
	return o;
}

static int
limit_parse(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (s == NULL)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' || v == 0 || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

struct copy {
	struct hd_querylog_rec *recs;
	unsigned int n;
};

static int
copy_one(void *arg, const struct hd_querylog_rec *r)
{
	struct copy *c = arg;

	c->recs[c->n++] = *r;
	return 0;
}

static void
querylog_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	static const char *const args[] = { "client", "domain", "status", "type" };
	struct hd_querylog_filter f;
	unsigned int limit = LIMIT_DEFAULT, i;
	struct copy c = { 0 };
	json_t *body, *arr;
	const char *v;

	if (off_reply(resp))
		return;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < RTE_DIM(args); i++) {
		v = hd_http_arg(req, args[i]);
		if (v != NULL && hd_querylog_filter_set(&f, args[i], v) != 0) {
			hd_http_reply_error(resp, 400, "bad argument %s: '%s'", args[i], v);
			return;
		}
	}
	if (limit_parse(hd_http_arg(req, "limit"), LIMIT_MAX, &limit) != 0) {
		hd_http_reply_error(resp, 400, "bad argument limit: a number from 1 to %u",
				    LIMIT_MAX);
		return;
	}
	c.recs = malloc(sizeof(*c.recs) * limit);
	if (c.recs == NULL) {
		hd_http_reply_error(resp, 500, "out of memory");
		return;
	}
	/* Copy under the lock, format outside it: the drain waits only for memcpy. */
	pthread_mutex_lock(&ql.lock);
	hd_querylog_store_walk(ql.store, &f, limit, copy_one, &c);
	pthread_mutex_unlock(&ql.lock);
	arr = json_array();
	for (i = 0; i < c.n; i++)
		json_array_append_new(arr, rec_json(&c.recs[i]));
	free(c.recs);
	body = json_pack("{s:b, s:s, s:I, s:o}", "enabled", 1, "anonymize",
			 hd_config_anonymize_name(hd_app.cfg.querylog_anonymize), "count",
			 (json_int_t)c.n, "records", arr);
	hd_http_reply_json(resp, 200, body);
}

static json_t *
top_entry_json(int kind, const struct hd_querylog_top_entry *e)
{
	struct hd_querylog_rec r;
	char text[HD_DNS_NAME_MAX * 4 + 8];

	memset(&r, 0, sizeof(r));
	if (kind == TOP_CLIENTS) {
		r.flags = e->key[0];
		memcpy(r.client, e->key + 1, RTE_MIN((size_t)e->len - 1, sizeof(r.client)));
		if (hd_querylog_client_str(&r, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "?");
	} else {
		hd_querylog_rec_name(&r, e->key, e->len);
		if (hd_querylog_name_str(&r, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), ".");
	}
	return json_pack("{s:s, s:I, s:I}", kind == TOP_CLIENTS ? "client" : "name", text,
			 "count", (json_int_t)e->count, "error", (json_int_t)e->error);
}

static void
top_get(const struct hd_http_request *req, struct hd_http_response *resp)
{
	struct hd_querylog_top_entry ent[TOP_N_MAX];
	const char *kind = hd_http_arg(req, "kind");
	unsigned int n = 10, got, i;
	uint64_t total;
	int k = -1;
	json_t *arr;

	if (off_reply(resp))
		return;
	for (i = 0; i < TOP_KINDS; i++)
		if (kind == NULL ? i == TOP_DOMAINS : strcmp(kind, top_kinds[i]) == 0)
			k = (int)i;
	if (k < 0) {
		hd_http_reply_error(resp, 400, "bad argument kind: domains, blocked or clients");
		return;
	}
	if (limit_parse(hd_http_arg(req, "n"), TOP_N_MAX, &n) != 0) {
		hd_http_reply_error(resp, 400, "bad argument n: a number from 1 to %d", TOP_N_MAX);
		return;
	}
	pthread_mutex_lock(&ql.lock);
	got = hd_querylog_top_get(ql.top[k], ent, n);
	total = hd_querylog_top_total(ql.top[k]);
	pthread_mutex_unlock(&ql.lock);
	arr = json_array();
	for (i = 0; i < got; i++)
		json_array_append_new(arr, top_entry_json(k, &ent[i]));
	hd_http_reply_json(resp, 200, json_pack("{s:s, s:I, s:o}", "kind", top_kinds[k],
						 "total", (json_int_t)total, "top", arr));
}

/* ---- start and stop ---- */

static int
lists_copy(const struct hd_config *cfg)
{
	unsigned int i;

	if (cfg->n_lists == 0)
		return 0;
	ql.list_names = calloc(cfg->n_lists, sizeof(*ql.list_names));
	if (ql.list_names == NULL)
		return -ENOMEM;
	for (i = 0; i < cfg->n_lists; i++)
		snprintf(ql.list_names[i], sizeof(ql.list_names[i]), "%s", cfg->lists[i].name);
	ql.n_lists = cfg->n_lists;
	return 0;
}

static int
rings_create(struct hd_app *app)
{
	unsigned int w, p;

	ql.n_rings = app->n_workers + 1;
	ql.rings = calloc(ql.n_rings, sizeof(*ql.rings));
	ql.batch = calloc((size_t)ql.n_rings * BATCH, sizeof(*ql.batch));
	ql.order = calloc((size_t)ql.n_rings * BATCH, sizeof(*ql.order));
	if (ql.rings == NULL || ql.batch == NULL || ql.order == NULL)
		return -ENOMEM;
	for (w = 0; w < app->n_workers; w++) {
		ql.rings[w] = hd_querylog_ring_create(RING_SIZE, SOCKET_ID_ANY,
						      (uint16_t)app->workers[w].lcore_id, ql.anon);
		if (ql.rings[w] == NULL)
			return -ENOMEM;
	}
	ql.slow = hd_querylog_ring_create(RING_SIZE, SOCKET_ID_ANY,
					  (uint16_t)rte_get_main_lcore(), ql.anon);
	if (ql.slow == NULL)
		return -ENOMEM;
	ql.rings[app->n_workers] = ql.slow;
	/* The workers have not started: their contexts are still ours to write. */
	for (w = 0; w < app->n_workers; w++)
		for (p = 0; p < HD_APP_PORTS_MAX; p++) {
			app->workers[w].ctx[p].log_arg = ql.rings[w];
			app->workers[w].ctx[p].log = hd_querylog_fp_log;
		}
	return 0;
}

static int
summaries_create(const struct hd_config *cfg)
{
	unsigned int k;

	ql.store = hd_querylog_store_create(cfg->querylog_memory);
	if (ql.store == NULL)
		return -ENOMEM;
	for (k = 0; k < TOP_KINDS; k++) {
		ql.top[k] = hd_querylog_top_create(TOP_SLOTS);
		if (ql.top[k] == NULL)
			return -ENOMEM;
	}
	if (cfg->querylog_file[0] != '\0') {
		ql.file = hd_querylog_file_create(cfg->querylog_file, cfg->querylog_max_size,
						  cfg->querylog_files);
		if (ql.file == NULL)
			return -rte_errno;
	}
	return 0;
}

static int
routes_add(void)
{
	if (hd_http_route("GET", "/api/querylog", HD_HTTP_TOKEN, querylog_get) < 0 ||
	    hd_http_route("GET", "/api/stats/top", HD_HTTP_TOKEN, top_get) < 0 ||
	    hd_metrics_register(metrics_write) < 0) {
		APP_LOG(ERR, "query log: cannot register its HTTP routes");
		return -ENOSPC;
	}
	if (rte_telemetry_register_cmd("/heimdall/querylog", telemetry_querylog,
				       "Query log counters: records, dropped, sampled_out, "
				       "file_errors. No parameters") != 0)
		APP_LOG(ERR, "telemetry command /heimdall/querylog could not be registered");
	return 0;
}

int
hd_querylog_register(struct hd_app *app)
{
	const struct hd_config *cfg = &app->cfg;
	int rc;

	ql.on = cfg->querylog != 0;
	ql.anon = cfg->querylog_anonymize;
	ql.tsc_khz = RTE_MAX(rte_get_tsc_hz() / 1000, (uint64_t)1);
	rc = routes_add();
	if (rc < 0 || !ql.on)
		return rc;
	rc = lists_copy(cfg);
	if (rc == 0)
		rc = summaries_create(cfg);
	if (rc == 0)
		rc = rings_create(app);
	if (rc == 0)
		rc = drain_start();
	if (rc < 0) {
		APP_LOG(ERR, "query log: cannot start: %s", strerror(-rc));
		hd_querylog_stop();
		return rc;
	}
	APP_LOG(INFO, "query log: %u record(s) kept in memory%s%s, anonymize %s",
		cfg->querylog_memory, ql.file != NULL ? ", file " : "",
		ql.file != NULL ? cfg->querylog_file : "",
		hd_config_anonymize_name(cfg->querylog_anonymize));
	return 0;
}

void
hd_querylog_stop(void)
{
	unsigned int w, p, k;

	if (ql.thread_started) {
		__atomic_store_n(&ql.stop, 1, __ATOMIC_RELEASE);
		pthread_join(ql.thread, NULL);
		ql.thread_started = 0;
	}
	/* The hooks go before the rings: a context may outlive this (teardown order). */
	if (hd_app.workers != NULL && ql.rings != NULL)
		for (w = 0; w < hd_app.n_workers; w++)
			for (p = 0; p < HD_APP_PORTS_MAX; p++)
				hd_app.workers[w].ctx[p].log = NULL;
	hd_querylog_file_free(ql.file);
	ql.file = NULL;
	pthread_mutex_lock(&ql.lock);
	if (ql.rings != NULL)
		for (w = 0; w < ql.n_rings; w++)
			hd_querylog_ring_free(ql.rings[w]);
	free(ql.rings);
	ql.rings = NULL;
	ql.slow = NULL;
	ql.n_rings = 0;
	free(ql.batch);
	free(ql.order);
	ql.batch = NULL;
	ql.order = NULL;
	hd_querylog_store_free(ql.store);
	ql.store = NULL;
	for (k = 0; k < TOP_KINDS; k++) {
		hd_querylog_top_free(ql.top[k]);
		ql.top[k] = NULL;
	}
	pthread_mutex_unlock(&ql.lock);
	free(ql.list_names);
	ql.list_names = NULL;
	ql.n_lists = 0;
	ql.on = 0;
}
