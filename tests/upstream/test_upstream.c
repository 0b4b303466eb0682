/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/upstream against fake upstream servers on 127.0.0.1: UDP and TCP
 * sockets on one ephemeral port, served from this thread between
 * hd_upstream_poll() calls, so every exchange is deterministic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "hd_cache.h"
#include "hd_clock.h"
#include "hd_dns.h"
#include "hd_stats.h"
#include "hd_upstream.h"

enum fake_mode {
	FAKE_ANSWER,		/* answer with n_answers A records */
	FAKE_SILENT,		/* read queries, never answer */
	FAKE_HOLD,		/* remember the last query; the test answers it */
	FAKE_WRONG_ID,		/* a reply with a wrong ID, then the right one */
	FAKE_WRONG_QNAME,	/* a reply to another question, then the right one */
	FAKE_TC,		/* UDP: TC=1 without records; TCP: the answer */
	FAKE_RCODE,		/* reply with rcode and no records */
	FAKE_CORRUPT,		/* right ID and question, then a cut-off record */
};

#define FAKE_LOG 128
#define FAKE_CONNS 4
#define FAKE_DELAYED 64

/* A reply held back to make a slow server. */
struct delayed {
	uint64_t due_ms;
	struct sockaddr_in to;
	size_t len;
	uint8_t r[600];
};

struct fake {
	int udp;
	int tcp;
	struct sockaddr_in addr;
	enum fake_mode mode;
	int rcode;
	unsigned int n_answers;
	unsigned int n_udp;		/* UDP queries received */
	unsigned int n_tcp;		/* TCP queries received */
	uint16_t ids[FAKE_LOG];
	uint16_t ports[FAKE_LOG];
	uint8_t last[512];
	size_t last_len;
	struct sockaddr_in last_from;
	int conns[FAKE_CONNS];
	uint8_t cbuf[FAKE_CONNS][1024];
	size_t clen[FAKE_CONNS];
	unsigned int delay_ms;		/* FAKE_ANSWER over UDP: answer this late */
	struct delayed held[FAKE_DELAYED];
	unsigned int n_held;
};

struct done_log {
	unsigned int n;
	int rcode;
	int had_answer;
	uint16_t ancount;
	void *client;
	uint64_t at_ms;
};

static struct hd_stats_lcore st;
static struct done_log dl;
static unsigned int cache_seq;

static void
on_done(void *arg, void *client, const struct hd_dns_query *q,
	const struct hd_dns_answer *a, int rcode)
{
	struct done_log *d = arg;

	(void)q;
	d->n++;
	d->rcode = rcode;
	d->had_answer = a != NULL;
	d->ancount = a != NULL ? a->ancount : 0;
	d->client = client;
	d->at_ms = hd_clock_ms();
}

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static struct fake *
fake_new(enum fake_mode mode)
{
	struct fake *f = calloc(1, sizeof(*f));
	socklen_t sl = sizeof(f->addr);
	int one = 1, i, tries;

	for (tries = 0; tries < 20; tries++) {
		f->addr.sin_family = AF_INET;
		f->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		f->addr.sin_port = 0;
		f->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		bind(f->udp, (struct sockaddr *)&f->addr, sizeof(f->addr));
		getsockname(f->udp, (struct sockaddr *)&f->addr, &sl);
		f->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		setsockopt(f->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(f->tcp, (struct sockaddr *)&f->addr, sizeof(f->addr)) == 0 &&
		    listen(f->tcp, 8) == 0)
			break;
		close(f->udp);
		close(f->tcp);
	}
	for (i = 0; i < FAKE_CONNS; i++)
		f->conns[i] = -1;
	f->mode = mode;
	f->n_answers = 1;
	return f;
}

static void
fake_free(struct fake *f)
{
	int i;

	close(f->udp);
	close(f->tcp);
	for (i = 0; i < FAKE_CONNS; i++)
		if (f->conns[i] >= 0)
			close(f->conns[i]);
	free(f);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* End of the question of a query we can trust (we wrote it). */
static size_t
question_end(const uint8_t *q, size_t len)
{
	size_t off = HD_DNS_HDR_LEN;

	while (off < len && q[off] != 0)
		off += 1 + q[off];
	return off + 1 + 4;
}

/* Build the reply the fake's mode calls for; @p tcp: over TCP. */
static size_t
fake_reply(const struct fake *f, const uint8_t *q, size_t qlen, uint8_t *out, int tcp,
	   uint16_t id_xor, int other_name)
{
	size_t qe = question_end(q, qlen), off;
	uint16_t flags = HD_DNS_QR | HD_DNS_RD | HD_DNS_RA;
	unsigned int i, n = f->n_answers;

	memcpy(out, q, qe);
	put16(out, get16(q) ^ id_xor);
	if (f->mode == FAKE_RCODE) {
		flags |= f->rcode;
		n = 0;
	}
	if (f->mode == FAKE_CORRUPT)
		n = 0;
	if (f->mode == FAKE_TC && !tcp) {
		flags |= HD_DNS_TC;
		n = 0;
	}
	put16(out + 2, flags);
	put16(out + 4, 1);
	put16(out + 6, n);
	put16(out + 8, 0);
	put16(out + 10, 0);
	if (other_name)
		out[HD_DNS_HDR_LEN + 1] ^= 0x01;	/* first letter changes */
	off = qe;
	for (i = 0; i < n; i++) {
		put16(out + off, 0xc00c);
		put16(out + off + 2, HD_DNS_TYPE_A);
		put16(out + off + 4, HD_DNS_CLASS_IN);
		put16(out + off + 6, 0);
		put16(out + off + 8, 300);
		put16(out + off + 10, 4);
		out[off + 12] = 10;
		out[off + 13] = 0;
		out[off + 14] = (uint8_t)(i >> 8);
		out[off + 15] = (uint8_t)i;
		off += 16;
	}
	if (f->mode == FAKE_CORRUPT) {
		put16(out + 6, 1);
		put16(out + off, 0xc00c);
		off += 2;	/* the record stops after its owner */
	}
	return off;
}

static void
fake_udp(struct fake *f)
{
	uint8_t q[512], r[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	size_t rl;

	while ((n = recvfrom(f->udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl)) > 0) {
		if (f->n_udp < FAKE_LOG) {
			f->ids[f->n_udp] = get16(q);
			f->ports[f->n_udp] = ntohs(from.sin_port);
		}
		f->n_udp++;
		memcpy(f->last, q, (size_t)n);
		f->last_len = (size_t)n;
		f->last_from = from;
		if (f->mode == FAKE_SILENT || f->mode == FAKE_HOLD)
			continue;
		if (f->mode == FAKE_WRONG_ID || f->mode == FAKE_WRONG_QNAME) {
			rl = fake_reply(f, q, (size_t)n, r, 0, f->mode == FAKE_WRONG_ID ? 0x5555 : 0,
					f->mode == FAKE_WRONG_QNAME);
			sendto(f->udp, r, rl, 0, (struct sockaddr *)&from, fl);
		}
		rl = fake_reply(f, q, (size_t)n, r, 0, 0, 0);
		if (f->delay_ms > 0 && f->n_held < FAKE_DELAYED && rl <= sizeof(f->held[0].r)) {
			struct delayed *d = &f->held[f->n_held++];

			d->due_ms = hd_clock_ms() + f->delay_ms;
			d->to = from;
			d->len = rl;
			memcpy(d->r, r, rl);
			continue;
		}
		sendto(f->udp, r, rl, 0, (struct sockaddr *)&from, fl);
	}
}

static void
fake_held_send(struct fake *f)
{
	uint64_t now = hd_clock_ms();
	unsigned int i = 0;

	while (i < f->n_held) {
		struct delayed *d = &f->held[i];

		if (d->due_ms > now) {
			i++;
			continue;
		}
		sendto(f->udp, d->r, d->len, 0, (struct sockaddr *)&d->to, sizeof(d->to));
		*d = f->held[--f->n_held];
	}
}

static void
fake_tcp(struct fake *f)
{
	uint8_t r[4096];
	size_t rl, ql;
	ssize_t n;
	int i, fd;

	while ((fd = accept(f->tcp, NULL, NULL)) >= 0) {
		set_nonblock(fd);
		for (i = 0; i < FAKE_CONNS && f->conns[i] >= 0; i++)
			;
		if (i == FAKE_CONNS) {
			close(fd);
			continue;
		}
		f->conns[i] = fd;
		f->clen[i] = 0;
	}
	for (i = 0; i < FAKE_CONNS; i++) {
		if (f->conns[i] < 0)
			continue;
		n = read(f->conns[i], f->cbuf[i] + f->clen[i], sizeof(f->cbuf[i]) - f->clen[i]);
		if (n == 0) {
			close(f->conns[i]);
			f->conns[i] = -1;
			continue;
		}
		if (n > 0)
			f->clen[i] += (size_t)n;
		if (f->clen[i] < 2 || f->clen[i] < 2 + (size_t)get16(f->cbuf[i]))
			continue;
		ql = get16(f->cbuf[i]);
		f->n_tcp++;
		f->clen[i] = 0;
		if (f->mode == FAKE_SILENT)
			continue;
		rl = fake_reply(f, f->cbuf[i] + 2, ql, r + 2, 1, 0, 0);
		put16(r, (uint16_t)rl);
		CU_ASSERT(write(f->conns[i], r, rl + 2) == (ssize_t)(rl + 2));
	}
}

static void
fake_serve(struct fake *f)
{
	if (f == NULL)
		return;
	fake_udp(f);
	fake_held_send(f);
	fake_tcp(f);
}

/* Answer the query FAKE_HOLD kept, from the fake's own socket. */
static void
fake_reply_last(struct fake *f)
{
	uint8_t r[2048];
	size_t rl;
	enum fake_mode m = f->mode;

	f->mode = FAKE_ANSWER;
	rl = fake_reply(f, f->last, f->last_len, r, 0, 0, 0);
	f->mode = m;
	sendto(f->udp, r, rl, 0, (struct sockaddr *)&f->last_from, sizeof(f->last_from));
}

/* Run the resolver and the fakes for @p ms, or until @p stop returns 1. */
static void
pump(struct hd_upstream *u, struct fake *f0, struct fake *f1, unsigned int ms,
     int (*stop)(void *), void *arg)
{
	uint64_t end = hd_clock_ms() + ms;

	while (hd_clock_ms() < end) {
		CU_ASSERT(hd_upstream_poll(u, 1) >= 0);
		fake_serve(f0);
		fake_serve(f1);
		if (stop != NULL && stop(arg))
			return;
	}
}

static int
done_count_reached(void *arg)
{
	return dl.n >= *(unsigned int *)arg;
}

static void
wait_done(struct hd_upstream *u, struct fake *f0, struct fake *f1, unsigned int n,
	  unsigned int ms)
{
	pump(u, f0, f1, ms, done_count_reached, &n);
}

static int
fake_got_query(void *arg)
{
	const struct fake *f = arg;

	return f->n_udp > 0;
}

static int
none_pending(void *arg)
{
	return hd_upstream_pending(arg) == 0;
}

static size_t
make_query(uint8_t *buf, const char *name, uint16_t id, uint16_t qtype)
{
	int nl;

	memset(buf, 0, HD_DNS_HDR_LEN);
	put16(buf, id);
	put16(buf + 2, HD_DNS_RD);
	put16(buf + 4, 1);
	nl = hd_dns_name_from_str(name, buf + HD_DNS_HDR_LEN);
	CU_ASSERT_FATAL(nl > 0);
	put16(buf + HD_DNS_HDR_LEN + nl, qtype);
	put16(buf + HD_DNS_HDR_LEN + nl + 2, HD_DNS_CLASS_IN);
	return HD_DNS_HDR_LEN + (size_t)nl + 4;
}

static void
query_of(struct hd_dns_query *q, const char *name)
{
	uint8_t buf[512];
	size_t len = make_query(buf, name, 0x1234, HD_DNS_TYPE_A);

	CU_ASSERT_FATAL(hd_dns_query_parse(buf, len, q) == 0);
}

static void
params_init(struct hd_upstream_params *p, struct fake *f0, struct fake *f1)
{
	memset(p, 0, sizeof(*p));
	memcpy(&p->servers[0], &f0->addr, sizeof(f0->addr));
	p->n_servers = 1;
	if (f1 != NULL) {
		memcpy(&p->servers[1], &f1->addr, sizeof(f1->addr));
		p->n_servers = 2;
	}
	/* Generous: only the timing tests rely on timeouts, and they set
	 * their own; a loaded machine must not turn a slow poll into a retry. */
	p->attempt_ms = 1000;
	p->total_ms = 3000;
	p->max_pending = 64;
	p->stats = &st;
	p->done = on_done;
	p->done_arg = &dl;
	memset(&st, 0, sizeof(st));
	memset(&dl, 0, sizeof(dl));
}

static struct hd_cache *
cache_new(void)
{
	struct hd_cache_params cp = {
		.max_entries = 1024,
		.socket_id = SOCKET_ID_ANY,
	};
	char name[32];

	snprintf(name, sizeof(name), "uptest%u", cache_seq++);
	cp.name = name;
	return hd_cache_create(&cp);
}

static uint64_t
stat(enum hd_stat k)
{
	return st.c[k];
}

static void
test_answer_cached(void)
{
	struct fake *f = fake_new(FAKE_ANSWER);
	struct hd_upstream_server_stats ss;
	struct hd_upstream_params p;
	struct hd_cache_key key;
	struct hd_dns_query q;
	struct hd_upstream *u;
	struct hd_cache *c = cache_new();
	int client;

	CU_ASSERT_FATAL(c != NULL);
	params_init(&p, f, NULL);
	p.cache = c;
	f->n_answers = 2;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "www.example.com");
	CU_ASSERT(hd_upstream_resolve(u, &q, &client) == 0);
	CU_ASSERT(hd_upstream_pending(u) == 1);
	wait_done(u, f, NULL, 1, 3000);
	CU_ASSERT(dl.n == 1);
	CU_ASSERT(dl.rcode == HD_DNS_RCODE_NOERROR);
	CU_ASSERT(dl.had_answer && dl.ancount == 2);
	CU_ASSERT(dl.client == &client);
	CU_ASSERT(hd_upstream_pending(u) == 0);
	hd_cache_key_from_query(&key, &q);
	CU_ASSERT(hd_cache_lookup(c, &key, hd_clock_sec(), NULL) != NULL);
	CU_ASSERT(stat(HD_STAT_upstream_queries) == 1);
	CU_ASSERT(stat(HD_STAT_upstream_replies) == 1);
	CU_ASSERT(stat(HD_STAT_upstream_rejected) == 0);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &ss) == 0);
	CU_ASSERT(ss.queries == 1 && ss.replies == 1 && ss.timeouts == 0);
	CU_ASSERT(hd_upstream_server_stats(u, 1, &ss) == -ENOENT);
	hd_upstream_free(u);
	CU_ASSERT(dl.n == 1);	/* nothing outstanding: no extra callback */
	hd_cache_free(c);
	fake_free(f);
}

static void
test_random_ids_ports(void)
{
	struct fake *f = fake_new(FAKE_ANSWER);
	unsigned int i, seq = 0, same_port = 0, n = 50;
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;

	params_init(&p, f, NULL);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "random.example");
	for (i = 0; i < n; i++) {
		CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
		wait_done(u, f, NULL, i + 1, 3000);
	}
	CU_ASSERT(dl.n == n);
	if (f->n_udp != n)
		fprintf(stderr, "%u queries upstream for %u requests\n", f->n_udp, n);
	CU_ASSERT_FATAL(f->n_udp == n);
	for (i = 1; i < n; i++) {
		seq += f->ids[i] == (uint16_t)(f->ids[i - 1] + 1);
		same_port += f->ports[i] == f->ports[0];
	}
	/* 50 random 16-bit values: a run of successors is a broken RNG. */
	CU_ASSERT(seq < 3);
	CU_ASSERT(same_port < n / 2);
	CU_ASSERT(stat(HD_STAT_upstream_replies) == n);
	hd_upstream_free(u);
	fake_free(f);
}

static void
test_wrong_id_rejected(void)
{
	struct fake *f = fake_new(FAKE_WRONG_ID);
	struct hd_upstream_server_stats ss;
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;

	params_init(&p, f, NULL);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "id.example");
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f, NULL, 1, 3000);
	CU_ASSERT(dl.n == 1 && dl.had_answer);
	CU_ASSERT(stat(HD_STAT_upstream_rejected) == 1);
	CU_ASSERT(stat(HD_STAT_upstream_replies) == 1);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &ss) == 0 && ss.rejected == 1);
	hd_upstream_free(u);
	fake_free(f);
}

static void
test_wrong_question_rejected(void)
{
	struct fake *f = fake_new(FAKE_WRONG_QNAME);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;

	params_init(&p, f, NULL);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "question.example");
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f, NULL, 1, 3000);
	CU_ASSERT(dl.n == 1 && dl.had_answer);
	CU_ASSERT(stat(HD_STAT_upstream_rejected) == 1);
	CU_ASSERT(stat(HD_STAT_upstream_timeouts) == 0);
	hd_upstream_free(u);
	fake_free(f);
}

/* A reply from any other port never reaches the request's socket. */
static void
test_other_source_dropped(void)
{
	struct fake *f = fake_new(FAKE_HOLD);
	struct fake *spoof = fake_new(FAKE_SILENT);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint8_t r[2048];
	size_t rl;

	params_init(&p, f, NULL);
	p.attempt_ms = 1000;
	p.total_ms = 1000;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "spoof.example");
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	pump(u, f, NULL, 3000, fake_got_query, f);
	CU_ASSERT_FATAL(f->n_udp == 1);
	/* The right ID and question, to the right port, from another port. */
	rl = fake_reply(f, f->last, f->last_len, r, 0, 0, 0);
	CU_ASSERT(sendto(spoof->udp, r, rl, 0, (struct sockaddr *)&f->last_from,
			 sizeof(f->last_from)) == (ssize_t)rl);
	pump(u, f, NULL, 50, NULL, NULL);
	CU_ASSERT(dl.n == 0);
	CU_ASSERT(hd_upstream_pending(u) == 1);
	CU_ASSERT(stat(HD_STAT_upstream_rejected) == 0);
	CU_ASSERT(stat(HD_STAT_upstream_replies) == 0);
	fake_reply_last(f);
	wait_done(u, f, NULL, 1, 3000);
	CU_ASSERT(dl.n == 1 && dl.had_answer);
	CU_ASSERT(stat(HD_STAT_upstream_replies) == 1);
	hd_upstream_free(u);
	fake_free(spoof);
	fake_free(f);
}

static void
test_silence_servfail(void)
{
	struct fake *f = fake_new(FAKE_SILENT);
	struct hd_upstream_server_stats ss;
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint64_t t0, took;

	params_init(&p, f, NULL);
	p.attempt_ms = 100;
	p.total_ms = 300;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "silent.example");
	t0 = hd_clock_ms();
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	/* A long poll timeout: the next deadline must cut the wait short. */
	while (dl.n == 0 && hd_clock_ms() - t0 < 2000)
		CU_ASSERT(hd_upstream_poll(u, 10000) >= 0);
	fake_serve(f);
	took = dl.at_ms - t0;
	if (took < 295 || took > 450 || f->n_udp != 3)
		fprintf(stderr, "SERVFAIL after %llu ms, %u attempts\n",
			(unsigned long long)took, f->n_udp);
	CU_ASSERT(dl.n == 1);
	CU_ASSERT(dl.rcode == HD_DNS_RCODE_SERVFAIL && !dl.had_answer);
	CU_ASSERT(took >= 295 && took <= 300 + 150);
	CU_ASSERT(f->n_udp == 3);	/* three 100 ms attempts in 300 ms */
	CU_ASSERT(stat(HD_STAT_upstream_timeouts) == 3);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &ss) == 0 && ss.timeouts == 3);
	CU_ASSERT(hd_upstream_pending(u) == 0);
	hd_upstream_free(u);
	fake_free(f);
}

static void
test_failover(void)
{
	struct fake *f0 = fake_new(FAKE_SILENT);
	struct fake *f1 = fake_new(FAKE_ANSWER);
	struct hd_upstream_server_stats s0, s1;
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint64_t t0, took;

	params_init(&p, f0, f1);
	p.attempt_ms = 100;
	p.total_ms = 500;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "failover.example");
	t0 = hd_clock_ms();
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f0, f1, 1, 3000);
	took = dl.at_ms - t0;
	CU_ASSERT(dl.n == 1 && dl.had_answer && dl.rcode == 0);
	CU_ASSERT(took >= 95 && took < 500);
	CU_ASSERT(f0->n_udp == 1 && f1->n_udp == 1);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &s0) == 0);
	CU_ASSERT(hd_upstream_server_stats(u, 1, &s1) == 0);
	CU_ASSERT(s0.timeouts == 1 && s0.replies == 0);
	CU_ASSERT(s1.queries == 1 && s1.replies == 1 && s1.timeouts == 0);
	hd_upstream_free(u);
	fake_free(f0);
	fake_free(f1);
}

/* A reply from the server that cannot be read moves on to the next one. */
static void
test_corrupt_reply_fails_over(void)
{
	struct fake *f0 = fake_new(FAKE_CORRUPT);
	struct fake *f1 = fake_new(FAKE_ANSWER);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint64_t t0;

	params_init(&p, f0, f1);
	p.attempt_ms = 300;
	p.total_ms = 900;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "corrupt.example");
	t0 = hd_clock_ms();
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f0, f1, 1, 3000);
	CU_ASSERT(dl.n == 1 && dl.had_answer);
	CU_ASSERT(dl.at_ms - t0 < 300);	/* no timeout was needed */
	CU_ASSERT(stat(HD_STAT_upstream_rejected) == 1);
	CU_ASSERT(f1->n_udp == 1);
	hd_upstream_free(u);
	fake_free(f0);
	fake_free(f1);
}

/* ICMP port unreachable ends an attempt at once, without a timeout. */
static void
test_refused_fails_over(void)
{
	struct fake *dead = fake_new(FAKE_SILENT);
	struct fake *f1 = fake_new(FAKE_ANSWER);
	struct hd_upstream_server_stats s0;
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint64_t t0;

	params_init(&p, dead, f1);
	/* Nothing listens on the dead server's port any more. */
	close(dead->udp);
	dead->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "refused.example");
	t0 = hd_clock_ms();
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f1, NULL, 1, 3000);
	CU_ASSERT(dl.n == 1 && dl.had_answer);
	CU_ASSERT(dl.at_ms - t0 < p.attempt_ms / 2);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &s0) == 0 && s0.queries == 1 && s0.timeouts == 0);
	hd_upstream_free(u);

	/* Only the dead server: SERVFAIL after a bounded number of tries. */
	params_init(&p, dead, NULL);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	t0 = hd_clock_ms();
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, NULL, NULL, 1, 3000);
	CU_ASSERT(dl.n == 1 && dl.rcode == HD_DNS_RCODE_SERVFAIL);
	CU_ASSERT(dl.at_ms - t0 < p.attempt_ms / 2);
	CU_ASSERT(stat(HD_STAT_upstream_queries) <= 4);
	CU_ASSERT(stat(HD_STAT_upstream_timeouts) == 0);
	hd_upstream_free(u);
	fake_free(dead);
	fake_free(f1);
}

static void
test_tc_retry_tcp(void)
{
	struct fake *f = fake_new(FAKE_TC);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;

	params_init(&p, f, NULL);
	f->n_answers = 60;	/* 960 bytes of records: more than 512 */
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "big.example");
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f, NULL, 1, 3000);
	CU_ASSERT(dl.n == 1 && dl.had_answer && dl.ancount == 60);
	CU_ASSERT(f->n_udp == 1 && f->n_tcp == 1);
	CU_ASSERT(stat(HD_STAT_upstream_tcp) == 1);
	CU_ASSERT(stat(HD_STAT_upstream_queries) == 2);
	hd_upstream_free(u);
	fake_free(f);
}

static void
test_rcode_relayed(void)
{
	static const int rcodes[] = { HD_DNS_RCODE_REFUSED, HD_DNS_RCODE_SERVFAIL };
	struct fake *f = fake_new(FAKE_RCODE);
	struct hd_cache *c = cache_new();
	struct hd_upstream_params p;
	struct hd_cache_key key;
	struct hd_dns_query q;
	struct hd_upstream *u;
	unsigned int i;
	uint64_t t0;

	CU_ASSERT_FATAL(c != NULL);
	params_init(&p, f, NULL);
	p.cache = c;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "rcode.example");
	for (i = 0; i < RTE_DIM(rcodes); i++) {
		f->rcode = rcodes[i];
		t0 = hd_clock_ms();
		CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
		wait_done(u, f, NULL, i + 1, 3000);
		CU_ASSERT(dl.n == i + 1);
		CU_ASSERT(dl.rcode == rcodes[i] && !dl.had_answer);
		CU_ASSERT(dl.at_ms - t0 < p.attempt_ms);	/* relayed, not timed out */
	}
	CU_ASSERT(f->n_udp == 2);
	hd_cache_key_from_query(&key, &q);
	CU_ASSERT(hd_cache_lookup(c, &key, hd_clock_sec(), NULL) == NULL);
	hd_upstream_free(u);
	hd_cache_free(c);
	fake_free(f);
}

static void
test_max_pending(void)
{
	struct fake *f = fake_new(FAKE_SILENT);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	int a, b;

	params_init(&p, f, NULL);
	p.max_pending = 2;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "pending.example");
	CU_ASSERT(hd_upstream_resolve(u, &q, &a) == 0);
	CU_ASSERT(hd_upstream_resolve(u, &q, &b) == 0);
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == -ENOBUFS);
	CU_ASSERT(hd_upstream_pending(u) == 2);
	pump(u, f, NULL, 20, NULL, NULL);
	CU_ASSERT(dl.n == 0);
	/* Outstanding requests hold client buffers: free hands them back. */
	hd_upstream_free(u);
	CU_ASSERT(dl.n == 2);
	CU_ASSERT(dl.rcode == HD_DNS_RCODE_SERVFAIL);
	fake_free(f);
}

static void
test_bad_params(void)
{
	struct fake *f = fake_new(FAKE_SILENT);
	struct hd_upstream_params p;

	params_init(&p, f, NULL);
	p.n_servers = 0;
	CU_ASSERT(hd_upstream_create(&p) == NULL && rte_errno == EINVAL);
	params_init(&p, f, NULL);
	p.done = NULL;
	CU_ASSERT(hd_upstream_create(&p) == NULL && rte_errno == EINVAL);
	params_init(&p, f, NULL);
	p.total_ms = 100;
	p.attempt_ms = 200;
	CU_ASSERT(hd_upstream_create(&p) == NULL && rte_errno == EINVAL);
	params_init(&p, f, NULL);
	p.servers[0].ss_family = AF_UNIX;
	CU_ASSERT(hd_upstream_create(&p) == NULL && rte_errno == EINVAL);
	hd_upstream_free(NULL);
	fake_free(f);
}

/* --- DNS over TCP ---------------------------------------------------------- */

static uint16_t
free_tcp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &sl);
	close(fd);
	return a.sin_port;
}

static void
listen_on(struct hd_upstream_params *p, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = free_tcp_port();
	memcpy(&p->listen[0], a, sizeof(*a));
	p->n_listen = 1;
}

static int
tcp_client(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0);
	set_nonblock(fd);
	return fd;
}

struct tcp_reader {
	int fd;
	uint8_t buf[8192];
	size_t len;
	int eof;
};

/* @return 1 once a whole framed message is in the buffer. */
static int
tcp_have_msg(void *arg)
{
	struct tcp_reader *t = arg;
	ssize_t n = read(t->fd, t->buf + t->len, sizeof(t->buf) - t->len);

	if (n > 0)
		t->len += (size_t)n;
	else if (n == 0)
		t->eof = 1;
	return t->eof || (t->len >= 2 && t->len >= 2 + (size_t)get16(t->buf));
}

/* Take one message off the reader into @p msg; @return its length or 0. */
static size_t
tcp_take(struct tcp_reader *t, uint8_t *msg)
{
	size_t l;

	if (t->len < 2 || t->len < 2 + (size_t)get16(t->buf))
		return 0;
	l = get16(t->buf);
	memcpy(msg, t->buf + 2, l);
	memmove(t->buf, t->buf + 2 + l, t->len - 2 - l);
	t->len -= 2 + l;
	return l;
}

static size_t
frame(uint8_t *out, const uint8_t *msg, size_t len)
{
	put16(out, (uint16_t)len);
	memcpy(out + 2, msg, len);
	return len + 2;
}

static void
test_tcp_pipelined(void)
{
	struct fake *f = fake_new(FAKE_ANSWER);
	struct hd_cache *c = cache_new();
	struct hd_upstream_params p;
	struct tcp_reader *t = calloc(1, sizeof(*t));
	struct sockaddr_in la;
	struct hd_cache_key key;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint8_t q1[512], q2[512], out[1200], m[4096];
	size_t l1, l2, ol, ml;
	unsigned int i, got1 = 0, got2 = 0;

	CU_ASSERT_FATAL(c != NULL);
	params_init(&p, f, NULL);
	p.cache = c;
	listen_on(&p, &la);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	/* Put cached.example in the cache through an ordinary request. */
	query_of(&q, "cached.example");
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f, NULL, 1, 3000);
	CU_ASSERT_FATAL(dl.n == 1 && f->n_udp == 1);
	hd_cache_key_from_query(&key, &q);
	CU_ASSERT(hd_cache_lookup(c, &key, hd_clock_sec(), NULL) != NULL);
	memset(&st, 0, sizeof(st));

	t->fd = tcp_client(&la);
	l1 = make_query(q1, "CaChEd.Example", 0xa001, HD_DNS_TYPE_A);
	l2 = make_query(q2, "fwd.example", 0xa002, HD_DNS_TYPE_A);
	ol = frame(out, q1, l1);
	ol += frame(out + ol, q2, l2);
	/* The first bytes alone, then the rest: a frame split across reads. */
	CU_ASSERT(write(t->fd, out, 5) == 5);
	pump(u, f, NULL, 20, NULL, NULL);
	CU_ASSERT(write(t->fd, out + 5, ol - 5) == (ssize_t)(ol - 5));
	for (i = 0; i < 2; i++) {
		pump(u, f, NULL, 3000, tcp_have_msg, t);
		ml = tcp_take(t, m);
		CU_ASSERT_FATAL(ml >= HD_DNS_HDR_LEN);
		CU_ASSERT((get16(m + 2) & HD_DNS_QR) && (get16(m + 2) & HD_DNS_RCODE_MASK) == 0);
		CU_ASSERT(get16(m + 6) == 1);	/* ANCOUNT */
		if (get16(m) == 0xa001) {
			got1++;
			/* The client's letter case is echoed. */
			CU_ASSERT(memcmp(m + HD_DNS_HDR_LEN, q1 + HD_DNS_HDR_LEN, l1 - HD_DNS_HDR_LEN) == 0);
		} else if (get16(m) == 0xa002) {
			got2++;
			CU_ASSERT(memcmp(m + HD_DNS_HDR_LEN, q2 + HD_DNS_HDR_LEN, l2 - HD_DNS_HDR_LEN) == 0);
		}
	}
	CU_ASSERT(got1 == 1 && got2 == 1);
	CU_ASSERT(f->n_udp == 2);	/* only fwd.example went upstream */
	CU_ASSERT(stat(HD_STAT_tcp_queries) == 2);
	CU_ASSERT(stat(HD_STAT_queries) == 2);
	CU_ASSERT(stat(HD_STAT_cache_hits) == 1);
	CU_ASSERT(stat(HD_STAT_cache_misses) == 1);
	CU_ASSERT(dl.n == 1);	/* the app's callback is not used for TCP clients */
	CU_ASSERT(hd_upstream_pending(u) == 0);

	/* The same connection keeps working: fwd.example is now cached. */
	ol = frame(out, q2, l2);
	CU_ASSERT(write(t->fd, out, ol) == (ssize_t)ol);
	pump(u, f, NULL, 3000, tcp_have_msg, t);
	CU_ASSERT(tcp_take(t, m) > 0 && get16(m) == 0xa002);
	CU_ASSERT(stat(HD_STAT_cache_hits) == 2);
	CU_ASSERT(f->n_udp == 2);
	close(t->fd);
	hd_upstream_free(u);
	hd_cache_free(c);
	fake_free(f);
	free(t);
}

static void
test_tcp_formerr(void)
{
	struct fake *f = fake_new(FAKE_ANSWER);
	struct tcp_reader *t = calloc(1, sizeof(*t));
	struct hd_upstream_params p;
	struct sockaddr_in la;
	struct hd_upstream *u;
	uint8_t qm[512], out[600], m[4096];
	size_t l, ol;

	params_init(&p, f, NULL);
	listen_on(&p, &la);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	t->fd = tcp_client(&la);
	l = make_query(qm, "bad.example", 0xbeef, HD_DNS_TYPE_A);
	put16(qm + 4, 2);	/* QDCOUNT=2 with one question */
	ol = frame(out, qm, l);
	CU_ASSERT(write(t->fd, out, ol) == (ssize_t)ol);
	pump(u, f, NULL, 3000, tcp_have_msg, t);
	CU_ASSERT_FATAL(tcp_take(t, m) >= HD_DNS_HDR_LEN);
	CU_ASSERT(get16(m) == 0xbeef);
	CU_ASSERT((get16(m + 2) & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_FORMERR);
	CU_ASSERT(stat(HD_STAT_formerr) == 1);
	CU_ASSERT(f->n_udp == 0);
	/* A query for the upstream's SERVFAIL gets it over TCP too. */
	f->mode = FAKE_RCODE;
	f->rcode = HD_DNS_RCODE_SERVFAIL;
	l = make_query(qm, "sf.example", 0xbef0, HD_DNS_TYPE_A);
	ol = frame(out, qm, l);
	CU_ASSERT(write(t->fd, out, ol) == (ssize_t)ol);
	pump(u, f, NULL, 3000, tcp_have_msg, t);
	CU_ASSERT_FATAL(tcp_take(t, m) >= HD_DNS_HDR_LEN);
	CU_ASSERT(get16(m) == 0xbef0);
	CU_ASSERT((get16(m + 2) & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_SERVFAIL);
	CU_ASSERT(stat(HD_STAT_servfail) == 1);
	close(t->fd);
	hd_upstream_free(u);
	fake_free(f);
	free(t);
}

/* The client leaves before the upstream answers: cached, nothing written. */
static void
test_tcp_client_gone(void)
{
	struct fake *f = fake_new(FAKE_HOLD);
	struct hd_cache *c = cache_new();
	struct hd_upstream_params p;
	struct sockaddr_in la;
	struct hd_cache_key key;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint8_t qm[512], out[600];
	size_t l, ol;
	int fd;

	CU_ASSERT_FATAL(c != NULL);
	params_init(&p, f, NULL);
	p.cache = c;
	listen_on(&p, &la);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	fd = tcp_client(&la);
	l = make_query(qm, "gone.example", 0x0101, HD_DNS_TYPE_A);
	ol = frame(out, qm, l);
	CU_ASSERT(write(fd, out, ol) == (ssize_t)ol);
	pump(u, f, NULL, 3000, fake_got_query, f);
	CU_ASSERT_FATAL(f->n_udp == 1);
	close(fd);
	pump(u, f, NULL, 20, NULL, NULL);
	fake_reply_last(f);
	pump(u, f, NULL, 3000, none_pending, u);
	CU_ASSERT(hd_upstream_pending(u) == 0);
	CU_ASSERT(stat(HD_STAT_upstream_replies) == 1);
	query_of(&q, "gone.example");
	hd_cache_key_from_query(&key, &q);
	CU_ASSERT(hd_cache_lookup(c, &key, hd_clock_sec(), NULL) != NULL);
	hd_upstream_free(u);
	hd_cache_free(c);
	fake_free(f);
}

static void
test_tcp_idle_and_limit(void)
{
	struct fake *f = fake_new(FAKE_ANSWER);
	struct tcp_reader *t = calloc(1, sizeof(*t));
	struct tcp_reader *t2 = calloc(1, sizeof(*t2));
	struct hd_upstream_params p;
	struct sockaddr_in la;
	struct hd_upstream *u;
	uint64_t t0;

	params_init(&p, f, NULL);
	p.tcp_idle_ms = 100;
	p.max_tcp_clients = 1;
	listen_on(&p, &la);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	t0 = hd_clock_ms();
	t->fd = tcp_client(&la);
	pump(u, f, NULL, 20, NULL, NULL);
	/* A second client beyond max_tcp_clients is closed at once. */
	t2->fd = tcp_client(&la);
	pump(u, f, NULL, 3000, tcp_have_msg, t2);
	CU_ASSERT(t2->eof == 1);
	CU_ASSERT(t->eof == 0);
	close(t2->fd);
	/* The first one is closed once idle for tcp_idle_ms. */
	pump(u, f, NULL, 3000, tcp_have_msg, t);
	CU_ASSERT(t->eof == 1);
	CU_ASSERT(hd_clock_ms() - t0 >= 100);
	close(t->fd);
	hd_upstream_free(u);
	fake_free(f);
	free(t2);
	free(t);
}

/* IPv6 listener, and an address the machine does not hold (freebind). */
static void
test_tcp_ipv6_freebind(void)
{
	struct fake *f = fake_new(FAKE_ANSWER);
	struct tcp_reader *t = calloc(1, sizeof(*t));
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in *far = (struct sockaddr_in *)&a6;
	struct hd_upstream_params p;
	struct hd_upstream *u;
	uint8_t qm[512], out[600], m[4096];
	size_t l, ol;
	int fd;

	params_init(&p, f, NULL);
	/* 192.0.2.1 (TEST-NET-1) is on no interface here. */
	memset(far, 0, sizeof(*far));
	far->sin_family = AF_INET;
	far->sin_port = free_tcp_port();
	inet_pton(AF_INET, "192.0.2.1", &far->sin_addr);
	memcpy(&p.listen[0], far, sizeof(*far));
	p.n_listen = 1;
	u = hd_upstream_create(&p);
	CU_ASSERT(u != NULL);
	hd_upstream_free(u);

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	a6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
	if (fd < 0 || bind(fd, (struct sockaddr *)&a6, sizeof(a6)) != 0) {
		fprintf(stderr, "no ::1, IPv6 listener not tested\n");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	{
		socklen_t sl = sizeof(a6);

		getsockname(fd, (struct sockaddr *)&a6, &sl);
		close(fd);
	}
	memcpy(&p.listen[0], &a6, sizeof(a6));
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	t->fd = socket(AF_INET6, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(connect(t->fd, (struct sockaddr *)&a6, sizeof(a6)) == 0);
	set_nonblock(t->fd);
	l = make_query(qm, "v6.example", 0x6666, HD_DNS_TYPE_A);
	ol = frame(out, qm, l);
	CU_ASSERT(write(t->fd, out, ol) == (ssize_t)ol);
	pump(u, f, NULL, 3000, tcp_have_msg, t);
	CU_ASSERT(tcp_take(t, m) >= HD_DNS_HDR_LEN && get16(m) == 0x6666 && get16(m + 6) == 1);
	close(t->fd);
	hd_upstream_free(u);
out:
	fake_free(f);
	free(t);
}

/* --- strategies, health, forwarding, dedup, serve-stale ---------------- */

/* Ask @p n distinct names one after the other; @return answers received. */
static unsigned int
ask_distinct(struct hd_upstream *u, struct fake *f0, struct fake *f1, const char *tag,
	     unsigned int n)
{
	struct hd_dns_query q;
	unsigned int i, ok = 0;
	char name[64];

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "q%u.%s.example", i, tag);
		query_of(&q, name);
		CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
		wait_done(u, f0, f1, dl.n + 1, 3000);
		ok += dl.had_answer && dl.rcode == HD_DNS_RCODE_NOERROR;
	}
	return ok;
}

static void
test_strict_and_round_robin(void)
{
	struct fake *f0 = fake_new(FAKE_ANSWER);
	struct fake *f1 = fake_new(FAKE_ANSWER);
	struct hd_upstream_params p;
	struct hd_upstream *u;

	params_init(&p, f0, f1);
	p.strategy = HD_UPSTREAM_STRICT;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	CU_ASSERT(ask_distinct(u, f0, f1, "strict", 10) == 10);
	CU_ASSERT(f0->n_udp == 10 && f1->n_udp == 0);
	hd_upstream_free(u);

	params_init(&p, f0, f1);
	p.strategy = HD_UPSTREAM_ROUND_ROBIN;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	CU_ASSERT(ask_distinct(u, f0, f1, "rr", 10) == 10);
	CU_ASSERT(f0->n_udp == 15 && f1->n_udp == 5);
	hd_upstream_free(u);
	fake_free(f0);
	fake_free(f1);
}

static void
test_fastest(void)
{
	struct fake *slow = fake_new(FAKE_ANSWER);
	struct fake *fast = fake_new(FAKE_ANSWER);
	struct hd_upstream_server_stats s0, s1;
	struct hd_upstream_params p;
	struct hd_upstream *u;

	slow->delay_ms = 60;
	params_init(&p, slow, fast);
	p.strategy = HD_UPSTREAM_FASTEST;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	/* Both unmeasured at first: each is tried once, then the fast one wins. */
	CU_ASSERT(ask_distinct(u, slow, fast, "fastest", 22) == 22);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &s0) == 0);
	CU_ASSERT(hd_upstream_server_stats(u, 1, &s1) == 0);
	if (slow->n_udp > 2)
		fprintf(stderr, "fastest: slow %u fast %u, rtt %u/%u\n", slow->n_udp, fast->n_udp,
			s0.rtt_ms, s1.rtt_ms);
	CU_ASSERT(slow->n_udp >= 1 && slow->n_udp <= 2);	/* once, and maybe a probe */
	CU_ASSERT(fast->n_udp >= 20);
	CU_ASSERT(s0.rtt_ms >= 50 && s1.rtt_ms < s0.rtt_ms);
	hd_upstream_free(u);
	fake_free(slow);
	fake_free(fast);
}

static void
test_parallel(void)
{
	struct fake *slow = fake_new(FAKE_ANSWER);
	struct fake *fast = fake_new(FAKE_ANSWER);
	struct hd_upstream_server_stats s0, s1;
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	unsigned int i, n = 5;
	uint64_t t0;

	slow->delay_ms = 150;
	params_init(&p, slow, fast);
	p.strategy = HD_UPSTREAM_PARALLEL;
	p.attempt_ms = 300;
	p.total_ms = 900;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	for (i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "race%u.example", i);
		query_of(&q, name);
		t0 = hd_clock_ms();
		CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
		wait_done(u, slow, fast, i + 1, 3000);
		CU_ASSERT(dl.had_answer && dl.rcode == HD_DNS_RCODE_NOERROR);
		CU_ASSERT(dl.at_ms - t0 < 100);	/* the fast one's answer, not the slow one's */
	}
	/* Both were asked every time; the slow replies come and are dropped. */
	CU_ASSERT(slow->n_udp == n && fast->n_udp == n);
	/* Past every attempt's deadline: nothing was left to time out. */
	pump(u, slow, fast, 400, NULL, NULL);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &s0) == 0);
	CU_ASSERT(hd_upstream_server_stats(u, 1, &s1) == 0);
	CU_ASSERT(s0.race_lost == n && s1.race_lost == 0);
	CU_ASSERT(s1.timeouts == 0 && s1.failures == 0);
	CU_ASSERT(s0.replies == n && s0.timeouts == 0 && !s0.down);
	CU_ASSERT(s0.rtt_ms >= 140);
	CU_ASSERT(dl.n == n);	/* a dropped reply answers nobody */
	hd_upstream_free(u);
	fake_free(slow);
	fake_free(fast);
}

/* One dead server: nobody sees SERVFAIL, and after three timeouts it is skipped. */
static void
test_failover_no_servfail(void)
{
	struct fake *dead = fake_new(FAKE_SILENT);
	struct fake *alive = fake_new(FAKE_ANSWER);
	struct hd_upstream_server_stats s0;
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	unsigned int i;
	uint64_t t0;

	params_init(&p, dead, alive);
	p.strategy = HD_UPSTREAM_STRICT;
	p.attempt_ms = 150;
	p.total_ms = 600;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	for (i = 0; i < 10; i++) {
		char name[32];

		snprintf(name, sizeof(name), "fo%u.example", i);
		query_of(&q, name);
		t0 = hd_clock_ms();
		CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
		wait_done(u, dead, alive, i + 1, 3000);
		CU_ASSERT(dl.n == i + 1 && dl.had_answer && dl.rcode == HD_DNS_RCODE_NOERROR);
		/* Once down, the dead server costs nothing. */
		if (i >= 3)
			CU_ASSERT(dl.at_ms - t0 < 100);
	}
	CU_ASSERT(stat(HD_STAT_servfail) == 0);
	CU_ASSERT(dead->n_udp == 3);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &s0) == 0);
	CU_ASSERT(s0.down && s0.failures == 3 && s0.backoff_ms == HD_UPSTREAM_BACKOFF_MIN_MS);
	hd_upstream_free(u);
	fake_free(dead);
	fake_free(alive);
}

/* Every attempt cut to its share: three silent servers and a live one, all within the budget. */
static void
test_budget_shared(void)
{
	struct fake *dead = fake_new(FAKE_SILENT);
	struct fake *alive = fake_new(FAKE_ANSWER);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint64_t t0;

	params_init(&p, dead, NULL);
	/* The same silent fake three times, then the live one. */
	p.servers[1] = p.servers[0];
	p.servers[2] = p.servers[0];
	memcpy(&p.servers[3], &alive->addr, sizeof(alive->addr));
	p.n_servers = 4;
	p.strategy = HD_UPSTREAM_STRICT;
	p.attempt_ms = 1000;
	p.total_ms = 1000;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "budget.example");
	t0 = hd_clock_ms();
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, dead, alive, 1, 3000);
	/* 250 + 250 + 250 ms, then the answer: inside the 1 s budget. */
	CU_ASSERT(dl.n == 1 && dl.had_answer);
	CU_ASSERT(dl.at_ms - t0 >= 700 && dl.at_ms - t0 < 1000);
	CU_ASSERT(dead->n_udp == 3 && alive->n_udp == 1);
	hd_upstream_free(u);
	fake_free(dead);
	fake_free(alive);
}

static void
test_backoff_recovery(void)
{
	struct fake *f0 = fake_new(FAKE_SILENT);
	struct fake *f1 = fake_new(FAKE_ANSWER);
	struct hd_upstream_server_stats s0;
	struct hd_upstream_params p;
	struct hd_upstream *u;
	uint64_t down_at;

	params_init(&p, f0, f1);
	p.strategy = HD_UPSTREAM_STRICT;
	p.attempt_ms = 100;
	p.total_ms = 500;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	CU_ASSERT(ask_distinct(u, f0, f1, "bk", 3) == 3);
	down_at = hd_clock_ms();
	CU_ASSERT(hd_upstream_server_stats(u, 0, &s0) == 0 && s0.down);
	/* It comes back, but nobody asks it before its backoff ends. */
	f0->mode = FAKE_ANSWER;
	CU_ASSERT(ask_distinct(u, f0, f1, "bk2", 5) == 5);
	if (hd_clock_ms() - down_at < 900)
		CU_ASSERT(f0->n_udp == 3);
	pump(u, f0, f1, 1100 - (unsigned int)RTE_MIN(hd_clock_ms() - down_at, (uint64_t)1000), NULL, NULL);
	/* The next question probes it, gets the answer, and it is up. */
	CU_ASSERT(ask_distinct(u, f0, f1, "bk3", 1) == 1);
	CU_ASSERT(f0->n_udp == 4);
	CU_ASSERT(hd_upstream_server_stats(u, 0, &s0) == 0 && !s0.down && s0.backoff_ms == 0);
	CU_ASSERT(ask_distinct(u, f0, f1, "bk4", 3) == 3);
	CU_ASSERT(f0->n_udp == 7);	/* first in strict order again */
	/* The server that answered all along never counted a failure. */
	pump(u, f0, f1, 150, NULL, NULL);
	CU_ASSERT(hd_upstream_server_stats(u, 1, &s0) == 0);
	CU_ASSERT(s0.failures == 0 && s0.timeouts == 0 && !s0.down);
	hd_upstream_free(u);
	fake_free(f0);
	fake_free(f1);
}

static void
test_forward_zones(void)
{
	struct fake *def = fake_new(FAKE_ANSWER);
	struct fake *lan = fake_new(FAKE_ANSWER);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;

	params_init(&p, def, lan);
	p.opts[1].group = 2;
	p.n_zones = 2;
	snprintf(p.zones[0].domain, sizeof(p.zones[0].domain), "lan.test");
	snprintf(p.zones[1].domain, sizeof(p.zones[1].domain), "sub.lan.test");
	/* A zone without a server is refused. */
	CU_ASSERT(hd_upstream_create(&p) == NULL && rte_errno == EINVAL);
	p.n_zones = 1;
	p.opts[1].group = 1;
	snprintf(p.zones[0].domain, sizeof(p.zones[0].domain), "Lan.Test.");
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "printer.LAN.test");
	CU_ASSERT(hd_upstream_group_of(u, &q) == 1);
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, def, lan, 1, 3000);
	CU_ASSERT(dl.had_answer && lan->n_udp == 1 && def->n_udp == 0);
	query_of(&q, "www.example.com");
	CU_ASSERT(hd_upstream_group_of(u, &q) == 0);
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, def, lan, 2, 3000);
	CU_ASSERT(dl.had_answer && lan->n_udp == 1 && def->n_udp == 1);
	query_of(&q, "notlan.test");
	CU_ASSERT(hd_upstream_group_of(u, &q) == 0);
	hd_upstream_free(u);

	/* Longest suffix: sub.lan.test beats lan.test whatever the order. */
	params_init(&p, def, lan);
	memcpy(&p.servers[2], &def->addr, sizeof(def->addr));
	p.n_servers = 3;
	p.opts[1].group = 1;
	p.opts[2].group = 2;
	p.n_zones = 2;
	snprintf(p.zones[0].domain, sizeof(p.zones[0].domain), "sub.lan.test");
	snprintf(p.zones[1].domain, sizeof(p.zones[1].domain), "lan.test");
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "a.sub.lan.test");
	CU_ASSERT(hd_upstream_group_of(u, &q) == 1);
	query_of(&q, "a.lan.test");
	CU_ASSERT(hd_upstream_group_of(u, &q) == 2);
	hd_upstream_free(u);
	fake_free(def);
	fake_free(lan);
}

/* Per-client outcomes for the dedup test. */
#define DEDUP_N 300
static struct {
	unsigned int n;
	unsigned int answered[DEDUP_N];
	unsigned int own_id[DEDUP_N];
} dd;

static void
on_done_each(void *arg, void *client, const struct hd_dns_query *q,
	     const struct hd_dns_answer *a, int rcode)
{
	uintptr_t i = (uintptr_t)client;

	(void)arg;
	dd.n++;
	if (i >= DEDUP_N)
		return;
	dd.answered[i] += a != NULL && rcode == HD_DNS_RCODE_NOERROR;
	dd.own_id[i] += q->id == (uint16_t)(0x4000 + i);
}

static int
dd_reached(void *arg)
{
	return dd.n >= *(unsigned int *)arg;
}

static void
dedup_run(unsigned int n, unsigned int want_upstream)
{
	struct fake *f = fake_new(FAKE_HOLD);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	unsigned int i, ok = 0, ids = 0;
	uint8_t buf[512];
	size_t len;

	memset(&dd, 0, sizeof(dd));
	params_init(&p, f, NULL);
	p.max_pending = 512;
	p.done = on_done_each;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	for (i = 0; i < n; i++) {
		/* Same key, each client with its own ID and letter case. */
		len = make_query(buf, i % 2 ? "DeDup.Example" : "dedup.example",
				 (uint16_t)(0x4000 + i), HD_DNS_TYPE_A);
		CU_ASSERT_FATAL(hd_dns_query_parse(buf, len, &q) == 0);
		CU_ASSERT(hd_upstream_resolve(u, &q, (void *)(uintptr_t)i) == 0);
	}
	CU_ASSERT(hd_upstream_pending(u) == n);
	pump(u, f, NULL, 50, NULL, NULL);
	CU_ASSERT(f->n_udp == want_upstream);
	/* One answer per upstream question, from the fake's own socket. */
	if (want_upstream == 1) {
		fake_reply_last(f);
	} else {
		/* Answer every held query: the same question, by logged ID and port. */
		f->mode = FAKE_ANSWER;
		for (i = 0; i < f->n_udp; i++) {
			uint8_t r[2048];
			size_t rl;

			put16(f->last, f->ids[i]);
			rl = fake_reply(f, f->last, f->last_len, r, 0, 0, 0);
			f->last_from.sin_port = htons(f->ports[i]);
			sendto(f->udp, r, rl, 0, (struct sockaddr *)&f->last_from,
			       sizeof(f->last_from));
		}
	}
	pump(u, f, NULL, 3000, dd_reached, &n);
	for (i = 0; i < n; i++) {
		ok += dd.answered[i] == 1;
		ids += dd.own_id[i] == 1;
	}
	CU_ASSERT(dd.n == n);
	CU_ASSERT(ok == n);
	CU_ASSERT(ids == n);
	CU_ASSERT(stat(HD_STAT_dedup_joined) == n - want_upstream);
	CU_ASSERT(stat(HD_STAT_upstream_queries) == want_upstream);
	CU_ASSERT(hd_upstream_pending(u) == 0);
	hd_upstream_free(u);
	fake_free(f);
}

static void
test_dedup(void)
{
	dedup_run(100, 1);
	/* Past HD_UPSTREAM_WAITERS_MAX a second question starts. */
	dedup_run(DEDUP_N, 2);
}

/* DO and CD are part of the key: not joined, and passed upstream. */
static void
test_dedup_keys_do_cd(void)
{
	struct fake *f = fake_new(FAKE_HOLD);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;

	params_init(&p, f, NULL);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "sec.example");
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	pump(u, f, NULL, 3000, fake_got_query, f);
	CU_ASSERT_FATAL(f->n_udp == 1);
	CU_ASSERT((get16(f->last + 2) & HD_DNS_CD) == 0);
	q.flags |= HD_DNS_CD;
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	pump(u, f, NULL, 50, NULL, NULL);
	CU_ASSERT(f->n_udp == 2);
	CU_ASSERT(get16(f->last + 2) & HD_DNS_CD);
	q.flags &= (uint16_t)~HD_DNS_CD;
	q.do_bit = 1;
	q.has_edns = 1;
	CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	pump(u, f, NULL, 50, NULL, NULL);
	CU_ASSERT(f->n_udp == 3);
	/* The OPT's flags (last 6 bytes: TTL then RDLEN 0) carry DO. */
	CU_ASSERT(f->last_len > 11 && (f->last[f->last_len - 4] & 0x80));
	CU_ASSERT(stat(HD_STAT_dedup_joined) == 0);
	hd_upstream_free(u);
	fake_free(f);
}

/* Every upstream fails: a TCP client gets the expired entry with the stale TTL. */
static void
test_tcp_serve_stale(void)
{
	struct fake *f = fake_new(FAKE_SILENT);
	struct hd_cache *c = cache_new();
	struct tcp_reader *t = calloc(1, sizeof(*t));
	struct hd_dns_answer_limits lim = { .stale_ttl = 86400 };
	struct hd_upstream_params p;
	struct hd_dns_answer *a;
	struct sockaddr_in la;
	struct hd_cache_key key;
	struct hd_dns_query q;
	struct hd_upstream *u;
	uint8_t qm[512], rm[2048], out[600], m[4096];
	uint32_t past = hd_clock_sec() - 1000;
	size_t l, rl, ol, ml;
	int err, stale = 0;

	CU_ASSERT_FATAL(c != NULL);
	/* An answer with TTL 300 stored 1000 s ago: expired, still servable stale. */
	l = make_query(qm, "old.example", 0x0505, HD_DNS_TYPE_A);
	CU_ASSERT_FATAL(hd_dns_query_parse(qm, l, &q) == 0);
	rl = fake_reply(f, qm, l, rm, 0, 0, 0);
	a = hd_dns_answer_build(rm, rl, &q, past, &lim, &err);
	CU_ASSERT_FATAL(a != NULL);
	hd_cache_key_from_query(&key, &q);
	CU_ASSERT_FATAL(hd_cache_insert(c, &key, a, past) == 0);
	CU_ASSERT(hd_cache_lookup(c, &key, hd_clock_sec(), NULL) == NULL);
	CU_ASSERT(hd_cache_lookup(c, &key, hd_clock_sec(), &stale) != NULL && stale == 1);

	params_init(&p, f, NULL);
	p.cache = c;
	p.attempt_ms = 100;
	p.total_ms = 200;
	p.stale_ttl = 30;
	listen_on(&p, &la);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	t->fd = tcp_client(&la);
	l = make_query(qm, "OLD.example", 0x0606, HD_DNS_TYPE_A);
	ol = frame(out, qm, l);
	CU_ASSERT(write(t->fd, out, ol) == (ssize_t)ol);
	pump(u, f, NULL, 3000, tcp_have_msg, t);
	ml = tcp_take(t, m);
	CU_ASSERT_FATAL(ml >= l + 16);
	CU_ASSERT(get16(m) == 0x0606);
	CU_ASSERT((get16(m + 2) & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_NOERROR);
	CU_ASSERT(get16(m + 6) == 1);
	/* The record's TTL (after owner pointer, type, class) is the stale TTL. */
	CU_ASSERT(get16(m + l + 6) == 0 && get16(m + l + 8) == 30);
	CU_ASSERT(f->n_udp >= 1);	/* the upstream was asked first */
	CU_ASSERT(stat(HD_STAT_stale_answers) == 1);
	CU_ASSERT(stat(HD_STAT_servfail) == 0);

	/* Without stale answers the same failure is SERVFAIL. */
	close(t->fd);
	hd_upstream_free(u);
	memset(t, 0, sizeof(*t));
	p.stale_ttl = 0;
	listen_on(&p, &la);
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	t->fd = tcp_client(&la);
	CU_ASSERT(write(t->fd, out, ol) == (ssize_t)ol);
	pump(u, f, NULL, 3000, tcp_have_msg, t);
	CU_ASSERT_FATAL(tcp_take(t, m) >= HD_DNS_HDR_LEN);
	CU_ASSERT((get16(m + 2) & HD_DNS_RCODE_MASK) == HD_DNS_RCODE_SERVFAIL);
	close(t->fd);
	hd_upstream_free(u);
	hd_cache_free(c);
	fake_free(f);
	free(t);
}

/* A forged reply to a shared question is still refused; the real one answers all. */
static void
test_dedup_forged_rejected(void)
{
	struct fake *f = fake_new(FAKE_WRONG_ID);
	struct hd_upstream_params p;
	struct hd_dns_query q;
	struct hd_upstream *u;
	unsigned int i;

	params_init(&p, f, NULL);
	p.strategy = HD_UPSTREAM_PARALLEL;
	u = hd_upstream_create(&p);
	CU_ASSERT_FATAL(u != NULL);
	query_of(&q, "forged.example");
	for (i = 0; i < 5; i++)
		CU_ASSERT(hd_upstream_resolve(u, &q, NULL) == 0);
	wait_done(u, f, NULL, 5, 3000);
	CU_ASSERT(dl.n == 5 && dl.had_answer);
	CU_ASSERT(f->n_udp == 1);
	CU_ASSERT(stat(HD_STAT_upstream_rejected) == 1);
	CU_ASSERT(stat(HD_STAT_dedup_joined) == 4);
	hd_upstream_free(u);
	fake_free(f);
}

int
main(int argc, char **argv)
{
	/* --no-shconf, not --in-memory: DPDK 22.11 refuses the latter beside
	 * --no-huge (which implies legacy memory). */
	char *eal[] = { "test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--log-level=lib.*:error", "--log-level=hd.upstream:warning", "-l", "0-1",
			"--file-prefix=test_upstream" };
	CU_pSuite s;
	int fails;

	(void)argc;
	(void)argv;
	if (rte_eal_init(RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("upstream", NULL, NULL);
	CU_add_test(s, "answer delivered and cached", test_answer_cached);
	CU_add_test(s, "random IDs and source ports", test_random_ids_ports);
	CU_add_test(s, "wrong ID rejected", test_wrong_id_rejected);
	CU_add_test(s, "wrong question rejected", test_wrong_question_rejected);
	CU_add_test(s, "other source port dropped", test_other_source_dropped);
	CU_add_test(s, "silence gives SERVFAIL in budget", test_silence_servfail);
	CU_add_test(s, "failover to the next server", test_failover);
	CU_add_test(s, "corrupt reply fails over", test_corrupt_reply_fails_over);
	CU_add_test(s, "refused port fails over at once", test_refused_fails_over);
	CU_add_test(s, "TC=1 retried over TCP", test_tc_retry_tcp);
	CU_add_test(s, "upstream rcode relayed", test_rcode_relayed);
	CU_add_test(s, "max_pending gives ENOBUFS", test_max_pending);
	CU_add_test(s, "bad params refused", test_bad_params);
	CU_add_test(s, "TCP pipelined queries", test_tcp_pipelined);
	CU_add_test(s, "TCP malformed query gets FORMERR", test_tcp_formerr);
	CU_add_test(s, "TCP client gone before the answer", test_tcp_client_gone);
	CU_add_test(s, "TCP idle timeout and client limit", test_tcp_idle_and_limit);
	CU_add_test(s, "TCP on IPv6 and a foreign address", test_tcp_ipv6_freebind);
	CU_add_test(s, "strict and round robin", test_strict_and_round_robin);
	CU_add_test(s, "fastest prefers the fast server", test_fastest);
	CU_add_test(s, "parallel race, loser dropped", test_parallel);
	CU_add_test(s, "failover: no SERVFAIL while one server lives", test_failover_no_servfail);
	CU_add_test(s, "attempts share the budget", test_budget_shared);
	CU_add_test(s, "down server: backoff then recovery", test_backoff_recovery);
	CU_add_test(s, "forward zones, longest suffix", test_forward_zones);
	CU_add_test(s, "dedup: one upstream question, every client answered", test_dedup);
	CU_add_test(s, "dedup keys on DO and CD, both passed upstream", test_dedup_keys_do_cd);
	CU_add_test(s, "TCP client served stale when upstreams fail", test_tcp_serve_stale);
	CU_add_test(s, "forged reply to a shared question rejected", test_dedup_forged_rejected);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() != 0 || CU_get_number_of_tests_failed() != 0;
	CU_cleanup_registry();
	rte_eal_cleanup();
	return fails;
}
