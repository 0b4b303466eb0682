/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * lib/replica/replica.c against a real redis-server on 127.0.0.1:6394: the
 * cluster's commands and pub/sub, lookups and writes, and what a user sees
 * when Redis is absent, killed and started again (local-only, then the
 * subscription back without being asked).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <hiredis/hiredis.h>
#include <rte_errno.h>

#include "hd_replica.h"
#include "hd_wire.h"
#include "redis_srv.h"
#include "../hd_test.h"

#define PORT		6394
#define PORT_S		"6394"
#define DEAD_PORT	6399	/* nothing listens there during the test */

static const char *const srv_args[] = { "--port", PORT_S, "--bind", "127.0.0.1", "--save", "",
					"--appendonly", "no", "--requirepass", "t0pSecret",
					"--loglevel", "warning", "--logfile", "/dev/null",
					"--enable-debug-command", "yes", NULL };
static pid_t srv = -1;

static void
params(struct hd_replica_params *p, uint16_t port)
{
	memset(p, 0, sizeof(*p));
	p->host = "127.0.0.1";
	p->port = port;
	p->db = 2;
	p->password = "t0pSecret";
	p->prefix = "t";
	p->timeout_ms = 100;
	p->max_outstanding = 64;
}

/* ---- replies ---- */

struct got {
	int calls;
	int type;
	long long integer;
	char str[256];
	size_t len;
	int null;
};

static void
reply_cb(void *arg, const struct redisReply *rep)
{
	struct got *g = arg;

	g->calls++;
	g->null = rep == NULL;
	if (rep == NULL)
		return;
	g->type = rep->type;
	g->integer = rep->integer;
	if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_ERROR ||
	    rep->type == REDIS_REPLY_STATUS) {
		g->len = rep->len < sizeof(g->str) ? rep->len : sizeof(g->str) - 1;
		memcpy(g->str, rep->str, g->len);
		g->str[g->len] = '\0';
	}
}

struct msgs {
	int n;
	char channel[64];
	uint8_t last[64];
	size_t len;
};

static void
msg_cb(void *arg, const char *channel, const uint8_t *msg, size_t len)
{
	struct msgs *m = arg;

	m->n++;
	snprintf(m->channel, sizeof(m->channel), "%s", channel);
	m->len = len < sizeof(m->last) ? len : sizeof(m->last);
	memcpy(m->last, msg, m->len);
}

static int
cmd(struct hd_replica *r, struct got *g, const char *a0, const char *a1, const char *a2)
{
	const char *argv[3] = { a0, a1, a2 };

	memset(g, 0, sizeof(*g));
	return hd_replica_command(r, reply_cb, g, a2 != NULL ? 3 : a1 != NULL ? 2 : 1, argv, NULL);
}

/* ---- cases ---- */

static void
test_params(void)
{
	struct hd_replica_params p;

	params(&p, PORT);
	p.host = "";
	CU_ASSERT_PTR_NULL(hd_replica_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	params(&p, PORT);
	p.sentinels = "127.0.0.1:26391";	/* no master name */
	CU_ASSERT_PTR_NULL(hd_replica_create(&p));
	p.sentinel_master = "m";
	p.sentinels = "127.0.0.1:26391,127.0.0.1";	/* the second has no port */
	CU_ASSERT_PTR_NULL(hd_replica_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	p.sentinels = "127.0.0.1:26391,[::1]:26392,s.lan:26393";
	hd_replica_free(hd_replica_create(&p));
	params(&p, PORT);
	p.tls = 1;
	p.ca_file = "/nonexistent/ca.pem";
	CU_ASSERT_PTR_NULL(hd_replica_create(&p));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	hd_replica_free(NULL);
}

/* Nothing listening: down, and every request refused at once (no callback). */
static void
test_down(void)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct msgs m = { 0 };
	struct got g;
	const char *argv[2] = { "GET", NULL };
	char big[200];

	params(&p, DEAD_PORT);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cmd(r, &g, "PING", NULL, NULL), -ENOTCONN);
	POLL_UNTIL(r, false, 50);
	CU_ASSERT_EQUAL(state_of(r), HD_REPLICA_DOWN);
	CU_ASSERT_EQUAL(cmd(r, &g, "PING", NULL, NULL), -ENOTCONN);
	CU_ASSERT_EQUAL(g.calls, 0);
	CU_ASSERT_EQUAL(hd_replica_command(r, reply_cb, &g, 0, argv, NULL), -EINVAL);
	CU_ASSERT_EQUAL(hd_replica_command(r, reply_cb, &g, 2, argv, NULL), -EINVAL);
	CU_ASSERT_EQUAL(hd_replica_subscribe(r, "", msg_cb, &m), -EINVAL);
	CU_ASSERT_EQUAL(hd_replica_subscribe(r, "c", NULL, &m), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(hd_replica_subscribe(r, big, msg_cb, &m), -EINVAL);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(hd_replica_subscribe(r, "c", msg_cb, &m), 0);
	CU_ASSERT_EQUAL(hd_replica_subscribe(r, "c", msg_cb, &m), -ENOSPC);
	hd_replica_free(r);
}

/* A wrong password: never connected, commands refused. */
static void
test_auth_refused(void)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct got g;

	params(&p, PORT);
	p.password = "wrong";
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	POLL_UNTIL(r, false, 300);
	CU_ASSERT_EQUAL(state_of(r), HD_REPLICA_DOWN);
	CU_ASSERT_EQUAL(cmd(r, &g, "PING", NULL, NULL), -ENOTCONN);
	hd_replica_free(r);
}

static void
test_command(void)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct hd_replica_stats st;
	struct got g, g2;
	const char *argv[3] = { "SET", "t:bin", "a\0b" };
	const size_t argvlen[3] = { 3, 5, 3 };

	params(&p, PORT);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_CONNECTED, 2000);
	CU_ASSERT_EQUAL_FATAL(state_of(r), HD_REPLICA_CONNECTED);
	hd_replica_stats_get(r, &st);
	CU_ASSERT_STRING_EQUAL(st.redis_addr, "127.0.0.1:" PORT_S);
	memset(&g, 0, sizeof(g));
	CU_ASSERT_EQUAL(hd_replica_command(r, reply_cb, &g, 3, argv, argvlen), 0);
	CU_ASSERT_EQUAL(cmd(r, &g2, "GET", "t:bin", NULL), 0);
	POLL_UNTIL(r, g2.calls > 0, 1000);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(g.type, REDIS_REPLY_STATUS);
	CU_ASSERT_EQUAL(g2.calls, 1);
	CU_ASSERT_EQUAL(g2.type, REDIS_REPLY_STRING);
	CU_ASSERT_EQUAL(g2.len, 3);
	CU_ASSERT(memcmp(g2.str, "a\0b", 3) == 0);
	/* The handshake's SELECT applies: the key is in db 2. */
	CU_ASSERT_EQUAL(cmd(r, &g, "CLIENT", "INFO", NULL), 0);
	POLL_UNTIL(r, g.calls > 0, 1000);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.str, " db=2 "));
	/* An error is a reply too. */
	CU_ASSERT_EQUAL(cmd(r, &g, "NOSUCHCMD", NULL, NULL), 0);
	POLL_UNTIL(r, g.calls > 0, 1000);
	CU_ASSERT_EQUAL(g.type, REDIS_REPLY_ERROR);
	/* A command without callback. */
	CU_ASSERT_EQUAL(hd_replica_command(r, NULL, NULL, 1, (const char *const[]){ "PING" },
					   NULL), 0);
	/* Freed with a command outstanding: its callback runs, with NULL. */
	CU_ASSERT_EQUAL(cmd(r, &g, "PING", NULL, NULL), 0);
	hd_replica_free(r);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(g.null, 1);
}

/* A command Redis does not answer in time: its callback gets NULL. */
static void
test_command_timeout(void)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct got g, g2;

	params(&p, PORT);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_CONNECTED, 2000);
	CU_ASSERT_EQUAL_FATAL(state_of(r), HD_REPLICA_CONNECTED);
	/* 1.5 s of sleep against 10 x 100 ms. */
	CU_ASSERT_EQUAL(cmd(r, &g, "DEBUG", "SLEEP", "1.5"), 0);
	POLL_UNTIL(r, g.calls > 0, 1300);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(g.null, 1);
	/* Its late reply is dropped; the connection goes on. */
	POLL_UNTIL(r, false, 400);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(cmd(r, &g2, "PING", NULL, NULL), 0);
	POLL_UNTIL(r, g2.calls > 0, 1000);
	CU_ASSERT_EQUAL(g2.type, REDIS_REPLY_STATUS);
	hd_replica_free(r);
}

struct numsub {
	int calls;
	long long n;
};

static void
numsub_cb(void *arg, const struct redisReply *rep)
{
	struct numsub *x = arg;

	x->calls++;
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2)
		x->n = rep->element[1]->integer;
}

/* Subscribers of @p ch, as Redis counts them. */
static int
numsub(struct hd_replica *r, const char *ch)
{
	const char *argv[3] = { "PUBSUB", "NUMSUB", ch };
	struct numsub ns = { 0, -1 };

	if (hd_replica_command(r, numsub_cb, &ns, 3, argv, NULL) != 0)
		return -1;
	POLL_UNTIL(r, ns.calls > 0, 1000);
	return (int)ns.n;
}

static void
publish(struct hd_replica *r, const char *ch, const char *msg)
{
	struct got g;

	CU_ASSERT_EQUAL(cmd(r, &g, "PUBLISH", ch, msg), 0);
	POLL_UNTIL(r, g.calls > 0, 1000);
	CU_ASSERT_EQUAL(g.integer, 1);
}

/* Subscribed, messages handed out; after Redis is killed and started again
 * the client subscribes again by itself. */
static void
test_pubsub(void)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct msgs m = { 0 }, m2 = { 0 };
	struct got g;
	int i;

	params(&p, PORT);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(hd_replica_subscribe(r, "hd:ctl", msg_cb, &m), 0);
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_CONNECTED, 2000);
	CU_ASSERT_EQUAL_FATAL(state_of(r), HD_REPLICA_CONNECTED);
	for (i = 0; i < 100 && numsub(r, "hd:ctl") != 1; i++)
		t_sleep_ms(10);
	CU_ASSERT_EQUAL(numsub(r, "hd:ctl"), 1);
	publish(r, "hd:ctl", "reload 7");
	POLL_UNTIL(r, m.n > 0, 1000);
	CU_ASSERT_EQUAL(m.n, 1);
	CU_ASSERT_STRING_EQUAL(m.channel, "hd:ctl");
	CU_ASSERT_EQUAL(m.len, 8);
	CU_ASSERT(memcmp(m.last, "reload 7", 8) == 0);
	/* A channel added while subscribed. */
	CU_ASSERT_EQUAL(hd_replica_subscribe(r, "hd:members", msg_cb, &m2), 0);
	for (i = 0; i < 100 && numsub(r, "hd:members") != 1; i++)
		t_sleep_ms(10);
	publish(r, "hd:members", "x");
	POLL_UNTIL(r, m2.n > 0, 1000);
	CU_ASSERT_EQUAL(m2.n, 1);
	CU_ASSERT_EQUAL(m.n, 1);

	/* Killed with a command outstanding: its callback gets NULL, we go down. */
	CU_ASSERT_EQUAL(cmd(r, &g, "DEBUG", "SLEEP", "0.5"), 0);
	t_redis_stop(srv);
	srv = -1;
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_DOWN, 1000);
	CU_ASSERT_EQUAL(state_of(r), HD_REPLICA_DOWN);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(g.null, 1);
	srv = t_redis_start(PORT, srv_args);
	CU_ASSERT_FATAL(srv > 0);
	/* Backoff 1 s, then connected and subscribed again. */
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_CONNECTED, 3000);
	CU_ASSERT_EQUAL_FATAL(state_of(r), HD_REPLICA_CONNECTED);
	for (i = 0; i < 200 && numsub(r, "hd:members") != 1; i++)
		t_sleep_ms(10);
	publish(r, "hd:ctl", "reload 8");
	publish(r, "hd:members", "y");
	POLL_UNTIL(r, m.n > 1 && m2.n > 1, 1000);
	CU_ASSERT_EQUAL(m.n, 2);
	CU_ASSERT(memcmp(m.last, "reload 8", 8) == 0);
	CU_ASSERT_EQUAL(m2.n, 2);
	hd_replica_free(r);
}

/* ---- lookups: an entry written by one client is read by another ---- */

static const uint8_t WWW[] = "\3www\7example\3com";

static size_t
msg_make(uint8_t *buf, int reply)
{
	struct hd_wire w;

	hd_wire_init(&w, buf, 512);
	hd_wire_write_u16(&w, 0x1234);
	hd_wire_write_u16(&w, reply ? HD_DNS_QR | HD_DNS_RD | HD_DNS_RA : HD_DNS_RD);
	hd_wire_write_u16(&w, 1);
	hd_wire_write_u16(&w, reply ? 1 : 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_u16(&w, 0);
	hd_wire_write_bytes(&w, WWW, sizeof(WWW));
	hd_wire_write_u16(&w, HD_DNS_TYPE_A);
	hd_wire_write_u16(&w, 1);
	if (reply) {
		hd_wire_write_u16(&w, 0xc00c);
		hd_wire_write_u16(&w, HD_DNS_TYPE_A);
		hd_wire_write_u16(&w, 1);
		hd_wire_write_u32(&w, 300);
		hd_wire_write_u16(&w, 4);
		hd_wire_write_u32(&w, 0xc0000201);
	}
	return hd_wire_ok(&w) ? w.pos : 0;
}

struct hit {
	int calls;
	int found;
};

static void
get_cb(void *arg, void *ctx, const struct hd_dns_query *q, struct hd_dns_answer *a)
{
	struct hit *h = arg;

	(void)ctx;
	(void)q;
	h->calls++;
	h->found = a != NULL;
	free(a);
}

static void
test_lookup(void)
{
	static const struct hd_dns_answer_limits lim = { 0, 0, 0, 0 };
	struct hd_replica_params p;
	struct hd_replica *r;
	struct hd_dns_query q;
	struct hd_cache_key k;
	struct hd_dns_answer *a;
	struct hd_replica_stats st;
	struct hit h = { 0 };
	struct got g;
	uint8_t msg[512];
	size_t n;
	int err;

	n = msg_make(msg, 0);
	CU_ASSERT_FATAL(n > 0 && hd_dns_query_parse(msg, n, &q) == 0);
	hd_cache_key_from_query(&k, &q);
	n = msg_make(msg, 1);
	a = hd_dns_answer_build(msg, n, &q, hd_clock_sec(), &lim, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	params(&p, PORT);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(hd_replica_get(r, &q, get_cb, &h, NULL), -ENOTCONN);
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_CONNECTED, 2000);
	CU_ASSERT_EQUAL(cmd(r, &g, "DEL", "t:v1:1:1:0:www.example.com.", NULL), 0);
	CU_ASSERT_EQUAL(hd_replica_get(r, &q, get_cb, &h, NULL), 0);
	POLL_UNTIL(r, h.calls > 0, 1000);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_EQUAL(h.found, 0);
	CU_ASSERT_EQUAL(hd_replica_write(r, &k, a, hd_clock_sec()), 0);
	CU_ASSERT_EQUAL(hd_replica_get(r, &q, get_cb, &h, NULL), 0);
	POLL_UNTIL(r, h.calls > 1, 1000);
	CU_ASSERT_EQUAL(h.calls, 2);
	CU_ASSERT_EQUAL(h.found, 1);
	CU_ASSERT_EQUAL(cmd(r, &g, "PTTL", "t:v1:1:1:0:www.example.com.", NULL), 0);
	POLL_UNTIL(r, g.calls > 0, 1000);
	CU_ASSERT(g.integer > 298000 && g.integer <= 300000);
	hd_replica_stats_get(r, &st);
	CU_ASSERT_EQUAL(st.writes, 1);
	CU_ASSERT_EQUAL(st.l2_hits, 1);
	CU_ASSERT_EQUAL(st.l2_misses, 1);
	CU_ASSERT_EQUAL(st.outstanding, 0);
	hd_replica_free(r);
	free(a);
}

/* Lookups answered, in the order their callbacks came, and when. */
struct expiry {
	int n;
	int order[64];
	int found[64];
	uint64_t at_ms[64];
};

static void
expiry_cb(void *arg, void *ctx, const struct hd_dns_query *q, struct hd_dns_answer *a)
{
	struct expiry *e = arg;

	(void)q;
	if (e->n < 64) {
		e->order[e->n] = (int)(uintptr_t)ctx;
		e->found[e->n] = a != NULL;
		e->at_ms[e->n] = hd_clock_ms();
	}
	e->n++;
	free(a);
}

/*
 * Redis stops answering (DEBUG SLEEP): every lookup is told "not found" once
 * its own timeout has passed, oldest first, and a lookup sent later is not
 * given up with the earlier ones. Their slots serve new lookups at once; the
 * late replies reach nobody; answered lookups go on once Redis is back.
 */
static void
test_lookup_timeout(void)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct hd_dns_query q;
	struct expiry e;
	struct got g;
	uint8_t msg[512];
	uint64_t t0, t1;
	size_t n;
	int i, sent = 0;

	memset(&e, 0, sizeof(e));
	n = msg_make(msg, 0);
	CU_ASSERT_FATAL(n > 0 && hd_dns_query_parse(msg, n, &q) == 0);
	params(&p, PORT);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_CONNECTED, 2000);
	CU_ASSERT_EQUAL_FATAL(state_of(r), HD_REPLICA_CONNECTED);
	CU_ASSERT_EQUAL(cmd(r, &g, "DEBUG", "SLEEP", "0.6"), 0);
	hd_replica_poll(r, hd_clock_ms());
	/* Ten now, ten 50 ms later (timeout 100 ms). */
	t0 = hd_clock_ms();
	for (i = 0; i < 10; i++)
		sent += hd_replica_get(r, &q, expiry_cb, &e, (void *)(uintptr_t)i) == 0;
	POLL_UNTIL(r, false, 50);
	t1 = hd_clock_ms();
	for (i = 10; i < 20; i++)
		sent += hd_replica_get(r, &q, expiry_cb, &e, (void *)(uintptr_t)i) == 0;
	CU_ASSERT_EQUAL_FATAL(sent, 20);
	CU_ASSERT_EQUAL(hd_replica_pending(r), 20);
	POLL_UNTIL(r, e.n >= 10, 300);
	/* The first ten expired; the later ones are still waiting. */
	CU_ASSERT_EQUAL(e.n, 10);
	CU_ASSERT_EQUAL(hd_replica_pending(r), 10);
	POLL_UNTIL(r, e.n >= 20, 300);
	CU_ASSERT_EQUAL_FATAL(e.n, 20);
	for (i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(e.order[i], i);
		CU_ASSERT_EQUAL(e.found[i], 0);
		CU_ASSERT(e.at_ms[i] >= (i < 10 ? t0 : t1) + 100);
	}
	CU_ASSERT_EQUAL(hd_replica_pending(r), 0);
	/* Every slot is free again: as many lookups as the pipeline allows. */
	sent = 0;
	for (i = 0; i < 40; i++)
		sent += hd_replica_get(r, &q, expiry_cb, &e, (void *)(uintptr_t)(100 + i)) == 0;
	CU_ASSERT(sent >= 10);
	CU_ASSERT_EQUAL(hd_replica_pending(r), (unsigned int)sent);
	POLL_UNTIL(r, e.n >= 20 + sent, 1000);
	CU_ASSERT_EQUAL(e.n, 20 + sent);
	/* The sleep ends (its reply within 10 x 100 ms), the late replies follow it:
	 * none is delivered a second time. */
	POLL_UNTIL(r, g.calls > 0, 1500);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(g.type, REDIS_REPLY_STATUS);
	POLL_UNTIL(r, false, 100);
	CU_ASSERT_EQUAL(e.n, 20 + sent);
	CU_ASSERT_EQUAL(hd_replica_pending(r), 0);
	CU_ASSERT_EQUAL(state_of(r), HD_REPLICA_CONNECTED);
	/* Redis answers again: a lookup gets its answer (no key), not a timeout. */
	CU_ASSERT_EQUAL(cmd(r, &g, "DEL", "t:v1:1:1:0:www.example.com.", NULL), 0);
	t0 = hd_clock_ms();
	CU_ASSERT_EQUAL(hd_replica_get(r, &q, expiry_cb, &e, (void *)(uintptr_t)63), 0);
	POLL_UNTIL(r, e.n > 20 + sent, 1000);
	CU_ASSERT_EQUAL_FATAL(e.n, 21 + sent);
	CU_ASSERT_EQUAL(e.order[e.n - 1], 63);
	CU_ASSERT(e.at_ms[e.n - 1] < t0 + p.timeout_ms);
	hd_replica_free(r);
}

static int
suite_init(void)
{
	if (t_eal("t_replica_client") < 0)
		return -1;
	srv = t_redis_start(PORT, srv_args);
	return srv > 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	t_redis_stop(srv);
	return 0;
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_params), T_CASE(test_down), T_CASE(test_auth_refused),
		T_CASE(test_command), T_CASE(test_command_timeout), T_CASE(test_pubsub),
		T_CASE(test_lookup), T_CASE(test_lookup_timeout),
	};

	return t_run_suite("replica_client", suite_init, suite_clean, cases, T_DIM(cases));
}
