/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heimdall-bench: run the workers' hd_fastpath_handle() over pre-built
 * query frames in mbufs, with no NIC and no kernel, and report what one
 * packet costs.
 *
 * Direct mode calls the function over bursts of 32 mbufs taken from an
 * array. --ring puts a net_ring ethdev (rte_eth_from_rings) in front so
 * rte_eth_rx_burst()/rte_eth_tx_burst() and the mbuf handling are timed too.
 *
 * Replies overwrite the queries in place, so after every pass over the
 * frames the templates are copied back. That copy is timed on its own and
 * left out of the per-packet figures; the output says so.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "hd_cache.h"
#include "hd_clock.h"
#include "hd_dns.h"
#include "hd_fastpath.h"
#include "hd_filter.h"
#include "hd_localzone.h"
#include "hd_querylog.h"
#include "hd_stats.h"
#include "hd_wire.h"

#define BURST		32
#define TMPL_MAX	192	/* bytes of one query frame template */
#define ANSWER_TTL	86400	/* no entry expires during a run */

#define POLICY_NAMES	100000	/* --policy: names in the filter no query matches */

enum stream { STREAM_HIT, STREAM_MISS, STREAM_FORMERR, STREAM_BLOCKED, STREAM_LOCAL };

struct opts {
	unsigned int names;
	unsigned int frames;
	double seconds;
	enum stream stream;
	int ring;
	int ipv6;
	int edns;
	int policy;
	int querylog;
	int querylog_cpu;	/* -1: another CPU than the worker's */
	int querylog_spin;
};

/*
 * --querylog: the worker logs every answered query into a query log ring
 * (as heimdall's workers do: staged per query, published after each
 * burst), emptied by a consumer thread pinned to another CPU than the
 * worker's (heimdall's drain thread runs on the main lcore's CPU) that only
 * copies the records out, so what is timed is the worker's side. Like
 * heimdall's drain thread (app/heimdall/querylog.c) it takes up to 1024
 * records at a time, goes again at once after a full batch (staying
 * HD_QUERYLOG_DRAIN_LAG records behind the worker) and naps 5 ms when it got
 * fewer. --querylog-spin makes it poll without napping, always staying
 * behind: a consumer that keeps up, so the worker logs every query.
 */
#define QL_RING_SIZE	16384
#define QL_BATCH	1024
#define QL_NAP_NS	5000000L

static struct {
	struct hd_querylog_ring *ring;
	pthread_t thread;
	int stop;
	int spin;
	int cpu;		/* the consumer's CPU, -1: not pinned (one CPU only) */
	uint64_t drained;
} ql;

static cpu_set_t start_cpus;	/* the process's CPUs before the EAL pinned the main thread */

static void *
ql_consume(void *arg)
{
	static struct hd_querylog_rec batch[QL_BATCH];
	struct timespec nap = { 0, QL_NAP_NS };
	unsigned int n;
	int behind = ql.spin;

	(void)arg;
	while (!__atomic_load_n(&ql.stop, __ATOMIC_ACQUIRE)) {
		n = behind ? hd_querylog_ring_drain_behind(ql.ring, batch, QL_BATCH)
			   : hd_querylog_ring_drain(ql.ring, batch, QL_BATCH);
		ql.drained += n;
		if (ql.spin) {
			if (n == 0)
				sched_yield();
			continue;
		}
		behind = n == QL_BATCH;
		if (!behind)
			nanosleep(&nap, NULL);
	}
	return NULL;
}

/*
 * The consumer's CPU: @p want if >= 0, else the first CPU the process may
 * use that is not the worker's. @return it, or -1 when there is none.
 */
static int
ql_cpu_pick(int want)
{
	rte_cpuset_t worker = rte_lcore_cpuset(rte_lcore_id());
	int c;

	if (want >= 0)
		return want;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &start_cpus) && !CPU_ISSET(c, &worker))
			return c;
	return -1;
}

static int
ql_start(const struct opts *o)
{
	cpu_set_t one;
	int rc;

	ql.ring = hd_querylog_ring_create(QL_RING_SIZE, SOCKET_ID_ANY, (uint16_t)rte_lcore_id(), 0);
	if (ql.ring == NULL)
		return -rte_errno;
	ql.spin = o->querylog_spin;
	ql.cpu = ql_cpu_pick(o->querylog_cpu);
	rc = pthread_create(&ql.thread, NULL, ql_consume, NULL);
	if (rc != 0) {
		hd_querylog_ring_free(ql.ring);
		ql.ring = NULL;
		return -rc;
	}
	if (ql.cpu < 0) {
		/* It inherited the worker's CPU: say so, the figure is not the real layout. */
		printf("heimdall-bench: only one CPU available: the query log consumer "
		       "shares the worker's CPU\n");
		return 0;
	}
	CPU_ZERO(&one);
	CPU_SET(ql.cpu, &one);
	rc = pthread_setaffinity_np(ql.thread, sizeof(one), &one);
	if (rc != 0) {
		fprintf(stderr, "heimdall-bench: query log consumer on CPU %d: %s\n", ql.cpu,
			strerror(rc));
		return -rc;
	}
	return 0;
}

struct tmpl {
	uint16_t len;
	uint8_t b[TMPL_MAX];
};

struct result {
	uint64_t pkts;
	uint64_t cycles;	/* inside the timed section */
	uint64_t reset_cycles;	/* restoring the templates, outside it */
	uint64_t reset_pkts;
	uint64_t wall_cycles;
	uint64_t v[HD_FP_KERNEL + 1];	/* per verdict */
	/* Cycles of each timed pass (the first PASS_MAX): their median ignores preemption. */
	uint32_t *pass;
	unsigned int n_pass;
};

#define PASS_MAX	(1u << 16)

static void
pass_add(struct result *r, uint64_t cycles)
{
	if (r->pass != NULL && r->n_pass < PASS_MAX)
		r->pass[r->n_pass++] = (uint32_t)RTE_MIN(cycles, (uint64_t)UINT32_MAX);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static const char *const stream_names[] = { "hit", "miss", "formerr", "blocked", "local" };
/* Name prefix per stream: the cache holds "h" names, the filter "b", local data "l". */
static const char *const stream_prefix[] = { "h", "m", "h", "b", "l" };

static const char *const default_eal[] = {
	"heimdall-bench", "--no-pci", "--no-huge", "-m", "512", "--no-shconf", "-l", "0",
	"--log-level=lib.*:warning",
};

static const uint8_t srv_mac[6] = { 0x02, 0x53, 0, 0, 0, 0x01 };
static const uint8_t cli_mac[6] = { 0x02, 0x53, 0, 0, 0, 0x02 };
static const uint8_t srv_v4[4] = { 10, 53, 0, 1 };
static const uint8_t cli_v4[4] = { 10, 53, 0, 2 };
static const uint8_t srv_v6[16] = { 0xfd, 0x53, [15] = 1 };
static const uint8_t cli_v6[16] = { 0xfd, 0x53, [15] = 2 };

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: heimdall-bench [EAL options --] [options]\n"
		"Runs hd_fastpath_handle() over pre-built query mbufs in bursts of %d.\n"
		"Without EAL options: --no-pci --no-huge -m 512 --no-shconf -l 0\n\n"
		"  --names N      answers in the cache and names queried (default 1000)\n"
		"  --frames N     query mbufs in flight, a multiple of 32 (default 1024)\n"
		"  --seconds S    how long to run (default 3)\n"
		"  --stream KIND  hit: every query answered from the cache (default)\n"
		"                 miss: valid queries for names not cached\n"
		"                 formerr: QDCOUNT=2 queries, answered FORMERR\n"
		"                 blocked: names of a loaded blocklist (null mode: A 0.0.0.0)\n"
		"                 local: names of local A records (with a local zone)\n"
		"  --policy       with a loaded %d-name blocklist that no query matches\n"
		"                 (the cost of the lookup on every query)\n"
		"  --ring         go through a net_ring ethdev: rx_burst, handle, tx_burst\n"
		"  --ipv6         IPv6 queries (default IPv4)\n"
		"  --no-edns      queries without OPT (default: EDNS, 1232 bytes)\n"
		"  --querylog     log every answered query into a query log ring, emptied\n"
		"                 by a thread on another CPU (heimdall's querylog: true)\n"
		"  --querylog-cpu CPU  run that thread on CPU (default: the first CPU\n"
		"                 allowed that is not the worker's)\n"
		"  --querylog-spin  that thread polls without napping, so every query is\n"
		"                 logged (default: naps 5 ms when it drained less than\n"
		"                 1024 records, as heimdall's; sampling then thins the log)\n"
		"  --help         this text\n", BURST, POLICY_NAMES);
}

static int
parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "names", required_argument, NULL, 'n' },
		{ "frames", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 's' },
		{ "stream", required_argument, NULL, 't' },
		{ "ring", no_argument, NULL, 'r' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "no-edns", no_argument, NULL, 'e' },
		{ "policy", no_argument, NULL, 'p' },
		{ "querylog", no_argument, NULL, 'q' },
		{ "querylog-cpu", required_argument, NULL, 'c' },
		{ "querylog-spin", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int u;
	char *end;
	int c;

	*o = (struct opts){ .names = 1000, .frames = 1024, .seconds = 3.0, .edns = 1,
			    .querylog_cpu = -1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, 1, 10000000, &o->names) < 0) {
				fprintf(stderr, "--names: expected 1..10000000, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'f':
			if (parse_uint(optarg, BURST, 1 << 20, &o->frames) < 0 ||
			    o->frames % BURST != 0) {
				fprintf(stderr, "--frames: expected a multiple of %d, got '%s'\n",
					BURST, optarg);
				return -EINVAL;
			}
			break;
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end != '\0' || !(o->seconds > 0 && o->seconds <= 3600)) {
				fprintf(stderr, "--seconds: expected 0 < S <= 3600, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 't':
			for (c = 0; c < (int)RTE_DIM(stream_names); c++)
				if (strcmp(optarg, stream_names[c]) == 0)
					break;
			if (c == (int)RTE_DIM(stream_names)) {
				fprintf(stderr, "--stream: expected hit, miss, formerr, blocked or "
					"local, got '%s'\n", optarg);
				return -EINVAL;
			}
			o->stream = (enum stream)c;
			break;
		case 'r':
			o->ring = 1;
			break;
		case '6':
			o->ipv6 = 1;
			break;
		case 'e':
			o->edns = 0;
			break;
		case 'p':
			o->policy = 1;
			break;
		case 'q':
			o->querylog = 1;
			break;
		case 'c':
			if (parse_uint(optarg, 0, CPU_SETSIZE - 1, &u) < 0) {
				fprintf(stderr, "--querylog-cpu: expected a CPU number, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			o->querylog_cpu = (int)u;
			break;
		case 'S':
			o->querylog_spin = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void
name_of(char *buf, size_t cap, const char *prefix, unsigned int i)
{
	snprintf(buf, cap, "%s%u.bench.example", prefix, i);
}

/* A query message for @p name; QDCOUNT=2 (FORMERR) when @p two. */
static size_t
write_query(uint8_t *m, size_t cap, const uint8_t *name, int nlen, uint16_t id,
	    int edns, int two)
{
	struct hd_wire w;

	hd_wire_init(&w, m, cap);
	hd_wire_write_u16(&w, id);
	hd_wire_write_u16(&w, HD_DNS_RD);
	hd_wire_write_u16(&w, two ? 2 : 1);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, edns ? 1 : 0);
	hd_wire_write_bytes(&w, name, (size_t)nlen);
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	if (edns) {
		hd_wire_write_u8(&w, 0);
		hd_wire_write_u16(&w, HD_DNS_TYPE_OPT);
		hd_wire_write_u16(&w, HD_DNS_EDNS_SIZE);
		hd_wire_write_u32(&w, 0);
		hd_wire_write_u16(&w, 0);
	}
	return hd_wire_ok(&w) ? w.pos : 0;
}

/* The upstream's reply: one A record, owner compressed to the question. */
static size_t
write_upstream_reply(uint8_t *m, size_t cap, const uint8_t *name, int nlen, unsigned int i)
{
	struct hd_wire w;

	hd_wire_init(&w, m, cap);
	hd_wire_write_u16(&w, 0x1234);
	hd_wire_write_u16(&w, HD_DNS_QR | HD_DNS_RD | HD_DNS_RA);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u32(&w, 0);
	hd_wire_write_bytes(&w, name, (size_t)nlen);
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	hd_wire_write_u16(&w, 0xc000 | HD_DNS_HDR_LEN);
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, HD_DNS_CLASS_IN);
	hd_wire_write_u32(&w, ANSWER_TTL);
	hd_wire_write_u16(&w, 4);
	hd_wire_write_u32(&w, 0xc6120000u | (i & 0xffff));	/* 198.18.0.0/15 */
	return hd_wire_ok(&w) ? w.pos : 0;
}

static int
fill_cache(struct hd_cache *cache, const struct opts *o)
{
	uint8_t name[HD_DNS_NAME_MAX], qm[512], rm[512];
	struct hd_dns_answer_limits lim = { 0 };
	struct hd_dns_query q;
	struct hd_dns_answer *a;
	struct hd_cache_key k __rte_aligned(8);
	uint32_t now = hd_clock_sec();
	char str[64];
	unsigned int i;
	size_t ql, rl;
	int nlen, err, rc;

	for (i = 0; i < o->names; i++) {
		name_of(str, sizeof(str), "h", i);
		nlen = hd_dns_name_from_str(str, name);
		if (nlen < 0)
			return nlen;
		ql = write_query(qm, sizeof(qm), name, nlen, 1, 0, 0);
		rl = write_upstream_reply(rm, sizeof(rm), name, nlen, i);
		if (ql == 0 || rl == 0 || hd_dns_query_parse(qm, ql, &q) != 0)
			return -EINVAL;
		a = hd_dns_answer_build(rm, rl, &q, now, &lim, &err);
		if (a == NULL)
			return err;
		hd_cache_key_from_query(&k, &q);
		rc = hd_cache_insert(cache, &k, a, now);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* "PREFIXi.bench.example" for i < n, one per line, in domains syntax. */
static char *
names_text(const char *prefix, unsigned int n, size_t *len)
{
	size_t cap = (size_t)n * 32 + 1, off = 0;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	for (unsigned int i = 0; i < n; i++)
		off += (size_t)snprintf(t + off, cap - off, "%s%u.bench.example\n", prefix, i);
	*len = off;
	return t;
}

static struct hd_filter *
filter_make(const char *prefix, unsigned int n)
{
	struct hd_filter_list_spec spec = {
		.name = "bench", .source = "heimdall-bench", .syntax = HD_FILTER_SYNTAX_DOMAINS,
		.response = { .mode = HD_FILTER_MODE_NULL, .ttl = 10 },
	};
	struct hd_filter_builder *b = hd_filter_builder_create();
	struct hd_filter_report rep;
	size_t len = 0;
	char *text = names_text(prefix, n, &len);

	if (b == NULL || text == NULL ||
	    hd_filter_builder_add_list(b, &spec, text, len, &rep) != 0) {
		free(text);
		hd_filter_builder_free(b);
		return NULL;
	}
	free(text);
	return hd_filter_build(b);
}

static struct hd_localzone *
local_make(unsigned int n)
{
	struct hd_localzone_builder *b = hd_localzone_builder_create();
	char rec[96], err[256] = "";
	struct hd_localzone *lz;

	if (b == NULL)
		return NULL;
	hd_localzone_builder_auto_ptr(b, 0);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(rec, sizeof(rec), "l%u.bench.example 3600 A 10.%u.%u.%u", i,
			 (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		if (hd_localzone_add_record(b, rec, "heimdall-bench", err, sizeof(err)) < 0) {
			fprintf(stderr, "heimdall-bench: %s: %s\n", rec, err);
			hd_localzone_builder_free(b);
			return NULL;
		}
	}
	if (hd_localzone_builder_add_zone(b, "bench.example", err, sizeof(err)) < 0) {
		hd_localzone_builder_free(b);
		return NULL;
	}
	lz = hd_localzone_build(b, err, sizeof(err));
	if (lz == NULL)
		fprintf(stderr, "heimdall-bench: local data: %s\n", err);
	return lz;
}

/*
 * The policy a stream needs: its blocklist or local data, and with --policy
 * a blocklist of POLICY_NAMES names no query asks for. NULL when none.
 */
static int
policy_make(const struct opts *o, struct hd_fastpath_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->generation = 1;
	if (o->stream == STREAM_BLOCKED)
		p->filter = filter_make("b", o->names);
	else if (o->policy)
		p->filter = filter_make("p", POLICY_NAMES);
	if (o->stream == STREAM_LOCAL)
		p->local = local_make(o->names);
	if (((o->stream == STREAM_BLOCKED || o->policy) && p->filter == NULL) ||
	    (o->stream == STREAM_LOCAL && p->local == NULL)) {
		hd_filter_free((struct hd_filter *)(uintptr_t)p->filter);
		hd_localzone_free((struct hd_localzone *)(uintptr_t)p->local);
		return -ENOMEM;
	}
	return p->filter != NULL || p->local != NULL;
}

static size_t
write_frame(uint8_t *f, size_t cap, const struct opts *o, const uint8_t *dns, size_t dlen,
	    uint16_t sport)
{
	struct hd_wire w;
	uint16_t ulen = (uint16_t)(8 + dlen);

	hd_wire_init(&w, f, cap);
	hd_wire_write_bytes(&w, srv_mac, 6);
	hd_wire_write_bytes(&w, cli_mac, 6);
	if (o->ipv6) {
		hd_wire_write_u16(&w, RTE_ETHER_TYPE_IPV6);
		hd_wire_write_u32(&w, 0x60000000u);
		hd_wire_write_u16(&w, ulen);
		hd_wire_write_u8(&w, IPPROTO_UDP);
		hd_wire_write_u8(&w, 64);
		hd_wire_write_bytes(&w, cli_v6, 16);
		hd_wire_write_bytes(&w, srv_v6, 16);
	} else {
		hd_wire_write_u16(&w, RTE_ETHER_TYPE_IPV4);
		hd_wire_write_u8(&w, 0x45);
		hd_wire_write_u8(&w, 0);
		hd_wire_write_u16(&w, (uint16_t)(20 + ulen));
		hd_wire_write_u32(&w, 0);		/* ID, flags, offset */
		hd_wire_write_u8(&w, 64);
		hd_wire_write_u8(&w, IPPROTO_UDP);
		hd_wire_write_u16(&w, 0);		/* not verified on receive */
		hd_wire_write_bytes(&w, cli_v4, 4);
		hd_wire_write_bytes(&w, srv_v4, 4);
	}
	hd_wire_write_u16(&w, sport);
	hd_wire_write_u16(&w, 53);
	hd_wire_write_u16(&w, ulen);
	hd_wire_write_u16(&w, 0);	/* the fast path does not verify it */
	hd_wire_write_bytes(&w, dns, dlen);
	return hd_wire_ok(&w) ? w.pos : 0;
}

/* One query frame per name: cached names for hit/formerr, others for miss. */
static struct tmpl *
make_templates(const struct opts *o)
{
	uint8_t name[HD_DNS_NAME_MAX], dns[TMPL_MAX];
	struct tmpl *t = calloc(o->names, sizeof(*t));
	char str[64];
	unsigned int i;
	size_t dl;
	int nlen;

	if (t == NULL)
		return NULL;
	for (i = 0; i < o->names; i++) {
		name_of(str, sizeof(str), stream_prefix[o->stream], i);
		nlen = hd_dns_name_from_str(str, name);
		dl = nlen < 0 ? 0 : write_query(dns, sizeof(dns), name, nlen, (uint16_t)i,
						o->edns, o->stream == STREAM_FORMERR);
		t[i].len = dl == 0 ? 0 :
			(uint16_t)write_frame(t[i].b, TMPL_MAX, o, dns, dl,
					      (uint16_t)(1024 + i % 60000));
		if (t[i].len == 0) {
			free(t);
			return NULL;
		}
	}
	return t;
}

static inline uint16_t
mbuf_cap(const struct rte_mbuf *m)
{
	return (uint16_t)RTE_MIN((uint32_t)m->buf_len - m->data_off, (uint32_t)UINT16_MAX);
}

/* Put the query templates back, the next names in turn. @return cycles spent. */
static uint64_t
restore(struct rte_mbuf **mb, unsigned int n, const struct tmpl *t, unsigned int names,
	unsigned int *next)
{
	uint64_t t0 = rte_rdtsc();
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct tmpl *q = &t[*next];

		rte_memcpy(rte_pktmbuf_mtod(mb[i], void *), q->b, q->len);
		mb[i]->data_len = q->len;
		mb[i]->pkt_len = q->len;
		if (++*next == names)
			*next = 0;
	}
	return rte_rdtsc() - t0;
}

/* What a worker does with one burst, before its TX and miss-ring calls. */
static inline void
handle_burst(struct hd_fastpath_ctx *ctx, struct rte_mbuf **mb, unsigned int n,
	     uint8_t *vd, uint64_t *v)
{
	unsigned int i;
	uint16_t out;

	ctx->now = hd_clock_sec();
	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(mb[i + 1], void *));
		vd[i] = (uint8_t)hd_fastpath_handle(ctx, rte_pktmbuf_mtod(mb[i], uint8_t *),
						    mb[i]->data_len, mbuf_cap(mb[i]), &out);
		if (vd[i] == HD_FP_TX) {
			mb[i]->data_len = out;
			mb[i]->pkt_len = out;
		}
		v[vd[i]]++;
	}
	/* As heimdall's worker does after each burst: publish the burst's records at once. */
	if (ctx->log != NULL)
		hd_querylog_fp_flush(ctx->log_arg);
}

static void
run_direct(struct hd_fastpath_ctx *ctx, const struct opts *o, struct rte_mbuf **mb,
	   const struct tmpl *t, struct result *r)
{
	uint64_t start = rte_rdtsc(), end, t0;
	unsigned int b, next = 0;
	uint8_t vd[BURST];

	end = start + (uint64_t)(o->seconds * (double)rte_get_tsc_hz());
	r->reset_cycles += restore(mb, o->frames, t, o->names, &next);
	r->reset_pkts += o->frames;
	while (rte_rdtsc() < end) {
		t0 = rte_rdtsc();
		for (b = 0; b < o->frames; b += BURST)
			handle_burst(ctx, mb + b, BURST, vd, r->v);
		pass_add(r, rte_rdtsc() - t0);
		r->cycles += rte_rdtsc() - t0;
		r->pkts += o->frames;
		r->reset_cycles += restore(mb, o->frames, t, o->names, &next);
		r->reset_pkts += o->frames;
	}
	r->wall_cycles = rte_rdtsc() - start;
}

static int
ring_port(struct rte_mempool *pool, unsigned int frames, struct rte_ring **rx,
	  struct rte_ring **tx, uint16_t *port)
{
	struct rte_eth_conf pc = { 0 };
	unsigned int sz = rte_align32pow2(frames + 1);
	int id;

	*rx = rte_ring_create("bench_rx", sz, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	*tx = rte_ring_create("bench_tx", sz, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (*rx == NULL || *tx == NULL)
		return -rte_errno;
	id = rte_eth_from_rings("net_bench", rx, 1, tx, 1, rte_socket_id());
	if (id < 0)
		return -rte_errno;
	*port = (uint16_t)id;
	if (rte_eth_dev_configure(*port, 1, 1, &pc) < 0 ||
	    rte_eth_rx_queue_setup(*port, 0, 1024, rte_socket_id(), NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup(*port, 0, 1024, rte_socket_id(), NULL) < 0 ||
	    rte_eth_dev_start(*port) < 0)
		return -EIO;
	return 0;
}

/*
 * rx_burst from the port, handle, tx_burst the replies; misses and drops go
 * to a side ring as a worker would hand misses to the slow path.
 */
static void
run_ring(struct hd_fastpath_ctx *ctx, const struct opts *o, struct rte_mbuf **mb,
	 const struct tmpl *t, struct rte_ring *rx, struct rte_ring *tx,
	 struct rte_ring *side, uint16_t port, struct result *r)
{
	struct rte_mbuf *pkts[BURST], *out[BURST], *keep[BURST];
	uint64_t start = rte_rdtsc(), end, t0;
	unsigned int i, n, no, nk, done, got, next = 0;
	uint8_t vd[BURST];

	end = start + (uint64_t)(o->seconds * (double)rte_get_tsc_hz());
	r->reset_cycles += restore(mb, o->frames, t, o->names, &next);
	r->reset_pkts += o->frames;
	while (rte_rdtsc() < end) {
		rte_ring_enqueue_bulk(rx, (void **)mb, o->frames, NULL);
		t0 = rte_rdtsc();
		for (done = 0; done < o->frames; done += n) {
			n = rte_eth_rx_burst(port, 0, pkts, BURST);
			handle_burst(ctx, pkts, n, vd, r->v);
			no = 0;
			nk = 0;
			for (i = 0; i < n; i++) {
				if (vd[i] == HD_FP_TX)
					out[no++] = pkts[i];
				else
					keep[nk++] = pkts[i];
			}
			if (no > 0)
				rte_eth_tx_burst(port, 0, out, (uint16_t)no);
			if (nk > 0)
				rte_ring_enqueue_burst(side, (void **)keep, nk, NULL);
		}
		pass_add(r, rte_rdtsc() - t0);
		r->cycles += rte_rdtsc() - t0;
		r->pkts += o->frames;
		got = rte_ring_dequeue_burst(tx, (void **)mb, o->frames, NULL);
		got += rte_ring_dequeue_burst(side, (void **)(mb + got), o->frames - got, NULL);
		RTE_VERIFY(got == o->frames);
		r->reset_cycles += restore(mb, o->frames, t, o->names, &next);
		r->reset_pkts += o->frames;
	}
	r->wall_cycles = rte_rdtsc() - start;
}

static void
report(const struct opts *o, const struct result *r)
{
	double hz = (double)rte_get_tsc_hz();
	double secs = (double)r->cycles / hz;
	double cpp = r->pkts ? (double)r->cycles / (double)r->pkts : 0;
	double reset_cpp = r->reset_pkts ? (double)r->reset_cycles / (double)r->reset_pkts : 0;
	unsigned int lc = rte_lcore_id();
	enum hd_stat k;

	printf("heimdall-bench: stream=%s mode=%s %s %s names=%u frames=%u burst=%d%s\n",
	       stream_names[o->stream], o->ring ? "ring" : "direct", o->ipv6 ? "ipv6" : "ipv4",
	       o->edns ? "edns" : "no-edns", o->names, o->frames, BURST,
	       o->policy ? " policy=100k-name filter (no match)" : "");
	printf("  packets          %" PRIu64 " in %.3f s timed (%.3f s wall)\n",
	       r->pkts, secs, (double)r->wall_cycles / hz);
	printf("  rate             %.2f Mpps\n", secs > 0 ? (double)r->pkts / secs / 1e6 : 0);
	printf("  per packet       %.1f ns, %.1f cycles (TSC %.3f GHz)\n",
	       cpp / hz * 1e9, cpp, hz / 1e9);
	if (r->n_pass > 0) {
		/* A pass is 1024 frames, well under a scheduler slice: most are never preempted. */
		qsort(r->pass, r->n_pass, sizeof(*r->pass), u32_cmp);
		printf("  median pass      %.1f ns per packet (of %u passes of %u frames)\n",
		       (double)r->pass[r->n_pass / 2] / o->frames / hz * 1e9, r->n_pass, o->frames);
	}
	printf("  verdicts         tx=%" PRIu64 " miss=%" PRIu64 " drop=%" PRIu64 "\n",
	       r->v[HD_FP_TX], r->v[HD_FP_MISS], r->v[HD_FP_DROP]);
	printf("  counters        ");
	for (k = 0; k < HD_STAT_MAX; k++)
		if (hd_stats_get(lc, k) != 0)
			printf(" %s=%" PRIu64, hd_stats_name(k), hd_stats_get(lc, k));
	printf("\n  timed            %s, hd_clock_sec() once per burst, prefetch of the next frame\n",
	       o->ring ? "rte_eth_rx_burst + hd_fastpath_handle + rte_eth_tx_burst (net_ring),"
		       " misses/drops enqueued to a side ring" : "hd_fastpath_handle");
	printf("  not timed        re-copying the query templates after each pass: "
	       "%.1f ns, %.1f cycles per packet\n", reset_cpp / hz * 1e9, reset_cpp);
}

/* EAL arguments: those before "--" if there is one, else the defaults. */
static int
eal_init(int argc, char **argv, int *app_argc, char ***app_argv)
{
	static char *defaults[RTE_DIM(default_eal)];
	int i, dash = -1, rc;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dash = i;
			break;
		}
	if (dash < 0) {
		for (i = 0; i < (int)RTE_DIM(default_eal); i++)
			defaults[i] = (char *)(uintptr_t)default_eal[i];
		rc = rte_eal_init((int)RTE_DIM(defaults), defaults);
		*app_argc = argc;
		*app_argv = argv;
		return rc < 0 ? rc : 0;
	}
	rc = rte_eal_init(dash, argv);
	if (rc < 0)
		return rc;
	/* The app's options follow "--"; keep argv[0] for getopt. */
	argv[dash] = argv[0];
	*app_argc = argc - dash;
	*app_argv = argv + dash;
	return 0;
}

int
main(int argc, char **argv)
{
	struct hd_fastpath_conf conf = { .dns_port = 53, .udp_size = HD_DNS_EDNS_SIZE };
	struct hd_cache_params cp = { .name = "bench" };
	struct hd_fastpath_ctx ctx = { 0 };
	static uint64_t hits[HD_FILTER_LISTS_MAX];
	struct hd_fastpath_policy pol;
	struct rte_ring *rx = NULL, *tx = NULL, *side = NULL;
	struct rte_mempool *pool = NULL;
	struct rte_mbuf **mb = NULL;
	struct hd_cache *cache = NULL;
	struct tmpl *t = NULL;
	struct result r = { 0 };
	struct opts o;
	char **app_argv;
	int app_argc, rc = 1;
	uint16_t port = 0;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
	/* Before the EAL pins this thread to lcore 0: the CPUs the consumer may take. */
	if (sched_getaffinity(0, sizeof(start_cpus), &start_cpus) != 0)
		CPU_ZERO(&start_cpus);
	if (eal_init(argc, argv, &app_argc, &app_argv) < 0) {
		fprintf(stderr, "heimdall-bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (parse_opts(app_argc, app_argv, &o) < 0)
		goto out;

	memcpy(conf.mac.addr_bytes, srv_mac, 6);
	memcpy(&conf.v4[0], srv_v4, 4);
	memcpy(conf.v6[0], srv_v6, 16);
	conf.n_v4 = 1;
	conf.n_v6 = 1;
	cp.max_entries = RTE_MAX(64u, o.names + o.names / 4);
	cp.socket_id = (int)rte_socket_id();
	cache = hd_cache_create(&cp);
	if (cache == NULL) {
		fprintf(stderr, "heimdall-bench: cache: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	rc = fill_cache(cache, &o);
	if (rc < 0) {
		fprintf(stderr, "heimdall-bench: filling the cache: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	t = make_templates(&o);
	mb = calloc(o.frames, sizeof(*mb));
	pool = rte_pktmbuf_pool_create("bench_pool", o.frames + 512, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (t == NULL || mb == NULL || pool == NULL ||
	    rte_pktmbuf_alloc_bulk(pool, mb, o.frames) != 0) {
		fprintf(stderr, "heimdall-bench: out of memory for %u frames\n", o.frames);
		goto out;
	}
	ctx.conf = &conf;
	ctx.cache = cache;
	ctx.stats = hd_stats_self();
	rc = policy_make(&o, &pol);
	if (rc < 0) {
		fprintf(stderr, "heimdall-bench: cannot build the policy: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	/* A worker loads the published pointer once per burst; here it never changes. */
	ctx.policy = rc > 0 ? &pol : NULL;
	ctx.filter_hits = hits;
	rc = 1;
	if (o.querylog) {
		rc = ql_start(&o);
		if (rc < 0) {
			fprintf(stderr, "heimdall-bench: cannot start the query log consumer: %s\n",
				strerror(-rc));
			rc = 1;
			goto out;
		}
		rc = 1;
		ctx.log = hd_querylog_fp_log;
		ctx.log_arg = ql.ring;
	}

	r.pass = malloc(PASS_MAX * sizeof(*r.pass));	/* NULL: no median, nothing else lost */
	if (o.ring) {
		side = rte_ring_create("bench_side", rte_align32pow2(o.frames + 1),
				       (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (side == NULL || ring_port(pool, o.frames, &rx, &tx, &port) < 0) {
			fprintf(stderr, "heimdall-bench: net_ring port: %s\n",
				rte_strerror(rte_errno));
			goto out;
		}
		run_ring(&ctx, &o, mb, t, rx, tx, side, port, &r);
	} else {
		run_direct(&ctx, &o, mb, t, &r);
	}
	report(&o, &r);
	if (ql.ring != NULL) {
		struct hd_querylog_ring_stats st;

		__atomic_store_n(&ql.stop, 1, __ATOMIC_RELEASE);
		pthread_join(ql.thread, NULL);
		hd_querylog_ring_stats(ql.ring, &st);
		printf("  querylog         records=%" PRIu64 " dropped=%" PRIu64
		       " sampled_out=%" PRIu64 " (consumer drained %" PRIu64 ")\n",
		       st.records, st.dropped, st.sampled_out, ql.drained);
		if (ql.cpu >= 0)
			printf("  querylog thread  %s, CPU %d (the worker's: lcore %u)\n",
			       ql.spin ? "polling" : "napping 5 ms below a full batch", ql.cpu,
			       rte_lcore_id());
		else
			printf("  querylog thread  %s, on the worker's CPU (no other allowed)\n",
			       ql.spin ? "polling" : "napping 5 ms below a full batch");
		hd_querylog_ring_free(ql.ring);
		ql.ring = NULL;
	}
	rc = 0;
out:
	if (ql.ring != NULL) {
		__atomic_store_n(&ql.stop, 1, __ATOMIC_RELEASE);
		pthread_join(ql.thread, NULL);
		hd_querylog_ring_free(ql.ring);
	}
	if (o.ring && rx != NULL && tx != NULL) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	if (mb != NULL && pool != NULL)
		rte_pktmbuf_free_bulk(mb, o.frames);
	rte_ring_free(side);
	rte_ring_free(rx);
	rte_ring_free(tx);
	rte_mempool_free(pool);
	free(mb);
	free(t);
	free(r.pass);
	hd_cache_free(cache);
	if (ctx.policy != NULL) {
		hd_filter_free((struct hd_filter *)(uintptr_t)pol.filter);
		hd_localzone_free((struct hd_localzone *)(uintptr_t)pol.local);
	}
	rte_eal_cleanup();
	return rc;
}
