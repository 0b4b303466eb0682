/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The Redis client of the slow path, on hiredis' asynchronous API. No
 * event library: hiredis tells us (ev hooks) whether it wants to read or
 * write, and hd_replica_poll() asks the kernel with poll() and a zero
 * timeout, so the slow path never sleeps on Redis; it already wakes every
 * millisecond at most when idle.
 *
 * A lookup is GET then PTTL, pipelined: the value's left_ms minus the
 * PTTL is its age, so no clock is shared between nodes. Lookups wait at
 * most timeout_ms; a late reply finds its slot reused (generation changed)
 * and is dropped. A connection that stops answering altogether is closed
 * and opened again with backoff, which answers every waiting lookup.
 *
 * hiredis frees its context itself when the connection fails inside one of
 * its calls (then onConnect/onDisconnect tell us); we free it ourselves
 * only from hd_replica_poll() or hd_replica_free(), never inside a
 * callback.
 */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <rte_errno.h>

#include "hd_clock.h"
#include "replica_private.h"

RTE_LOG_REGISTER_DEFAULT(hd_replica_logtype, INFO);

#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	30000
#define CONNECT_MIN_MS	1000
#define STALL_MIN_MS	2000
#define VALUE_MAX	(UINT16_MAX + HD_REPLICA_VALUE_FIXED + HD_DNS_NAME_MAX + 2 * 4096)

struct lookup {
	hd_replica_get_t cb;
	void *arg;
	void *ctx;
	uint64_t deadline_ms;
	uint32_t gen;
	uint8_t used;
	uint8_t failed;		/* the GET gave no value: nil or an error */
	uint8_t *val;		/* the GET's value, until PTTL's reply */
	size_t val_len;
	struct hd_dns_query q;
};

struct hd_replica {
	redisAsyncContext *ac;
	enum hd_replica_state state;
	bool want_read, want_write;
	bool drop;		/* close at the next poll (set inside callbacks) */
	bool down_logged;	/* "unreachable" said once until connected again */
	bool freeing;
	const char *drop_why;
	uint64_t next_try_ms;
	uint32_t backoff_ms;
	uint64_t deadline_ms;	/* connect + handshake */
	uint64_t progress_ms;	/* last reply, or the first command after a quiet spell */
	uint32_t outstanding;
	struct hd_replica_stats st;
	struct lookup *lk;
	uint32_t n_lk, lk_used, lk_next;
	struct hd_replica_params p;
	char host[256], user[128], password[256], prefix[HD_REPLICA_PREFIX_MAX + 1];
	char key[HD_REPLICA_KEY_MAX];
	uint8_t val[VALUE_MAX];
};

const char *
hd_replica_state_name(enum hd_replica_state s)
{
	switch (s) {
	case HD_REPLICA_CONNECTED:
		return "connected";
	case HD_REPLICA_CONNECTING:
		return "connecting";
	case HD_REPLICA_DOWN:
		break;
	}
	return "down";
}

/* ---- hiredis event hooks: remember what it waits for ---- */

static void ev_add_read(void *d) { ((struct hd_replica *)d)->want_read = true; }
static void ev_del_read(void *d) { ((struct hd_replica *)d)->want_read = false; }
static void ev_add_write(void *d) { ((struct hd_replica *)d)->want_write = true; }
static void ev_del_write(void *d) { ((struct hd_replica *)d)->want_write = false; }

static void
ev_cleanup(void *d)
{
	struct hd_replica *r = d;

	r->want_read = false;
	r->want_write = false;
}

/* ---- lookups ---- */

static void
lookup_finish(struct hd_replica *r, struct lookup *l, struct hd_dns_answer *a)
{
	hd_replica_get_t cb = l->cb;
	void *arg = l->arg, *ctx = l->ctx;
	struct hd_dns_query q = l->q;

	free(l->val);
	l->val = NULL;
	l->used = 0;
	l->gen++;
	r->lk_used--;
	if (a != NULL)
		r->st.l2_hits++;
	else
		r->st.l2_misses++;
	cb(arg, ctx, &q, a);
}

static uintptr_t
lookup_tag(const struct hd_replica *r, const struct lookup *l)
{
	return (uintptr_t)(l - r->lk) | (uintptr_t)l->gen << 32;
}

/* The lookup a reply belongs to, or NULL when it was given up. */
static struct lookup *
lookup_of(struct hd_replica *r, void *priv)
{
	uintptr_t tag = (uintptr_t)priv;
	uint32_t i = (uint32_t)(tag & UINT32_MAX);
	struct lookup *l;

	if (i >= r->n_lk)
		return NULL;
	l = &r->lk[i];
	return l->used && l->gen == (uint32_t)(tag >> 32) ? l : NULL;
}

/* ---- connection ---- */

static void
went_down(struct hd_replica *r, const char *why)
{
	uint64_t now = hd_clock_ms();

	r->ac = NULL;
	r->want_read = r->want_write = false;
	if (r->freeing)
		return;
	if (r->state == HD_REPLICA_CONNECTED || !r->down_logged) {
		REPLICA_LOG(WARNING, "redis %s:%u %s: %s; running local-only, retrying in %u ms",
			    r->host, r->p.port,
			    r->state == HD_REPLICA_CONNECTED ? "lost" : "unreachable", why,
			    r->backoff_ms);
		r->down_logged = true;
	}
	r->state = HD_REPLICA_DOWN;
	r->next_try_ms = now + r->backoff_ms;
	r->backoff_ms = RTE_MIN(r->backoff_ms * 2, (uint32_t)BACKOFF_MAX_MS);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct hd_replica *r = ac->data;

	/* On failure hiredis frees the context once we return. */
	if (status != REDIS_OK && r->ac == ac)
		went_down(r, ac->errstr[0] != '\0' ? ac->errstr : "connect failed");
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct hd_replica *r = ac->data;

	if (r->ac == ac)
		went_down(r, status == REDIS_OK ? "closed" :
			  ac->errstr[0] != '\0' ? ac->errstr : "connection error");
}

static void
reply_seen(struct hd_replica *r)
{
	r->outstanding--;
	r->progress_ms = hd_clock_ms();
}

/* Close the connection from poll (never inside a hiredis callback). */
static void
drop(struct hd_replica *r, const char *why)
{
	redisAsyncContext *ac = r->ac;

	r->drop = false;
	if (ac == NULL)
		return;
	went_down(r, why);
	/* Every waiting callback runs now with a NULL reply. */
	redisAsyncFree(ac);
}

static void
handshake_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct hd_replica *r = ac->data;
	redisReply *rep = reply;
	const char *what = priv;

	reply_seen(r);
	if (rep == NULL || r->ac != ac)
		return;
	if (rep->type == REDIS_REPLY_ERROR) {
		/* The first refusal is the cause (a refused AUTH makes SELECT fail too). */
		if (!r->drop)
			r->drop_why = strcmp(what, "AUTH") == 0 ? "authentication refused" :
				      "SELECT refused";
		r->drop = true;
		return;
	}
	if (strcmp(what, "SELECT") != 0)
		return;
	r->state = HD_REPLICA_CONNECTED;
	r->down_logged = false;
	r->backoff_ms = BACKOFF_MIN_MS;
	REPLICA_LOG(INFO, "redis %s:%u db %u connected", r->host, r->p.port, r->p.db);
}

static int
send_cmd(struct hd_replica *r, redisCallbackFn *fn, void *priv, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = redisvAsyncCommand(r->ac, fn, priv, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK)
		return -EIO;
	if (r->outstanding++ == 0)
		r->progress_ms = hd_clock_ms();
	return 0;
}

static void
connect_start(struct hd_replica *r, uint64_t now)
{
	redisAsyncContext *ac;
	int rc = 0;

	r->state = HD_REPLICA_CONNECTING;
	r->deadline_ms = now + RTE_MAX((uint64_t)r->p.timeout_ms * 10, (uint64_t)CONNECT_MIN_MS);
	ac = redisAsyncConnect(r->host, r->p.port);
	if (ac == NULL) {
		went_down(r, "out of memory");
		return;
	}
	if (ac->err != 0) {
		went_down(r, ac->errstr);
		redisAsyncFree(ac);
		return;
	}
	r->ac = ac;
	ac->data = r;
	ac->ev.data = r;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	/* Pipelined behind the connect: hiredis sends them once it completes. */
	if (r->password[0] != '\0' && r->user[0] != '\0')
		rc = send_cmd(r, handshake_cb, (void *)"AUTH", "AUTH %s %s", r->user, r->password);
	else if (r->password[0] != '\0')
		rc = send_cmd(r, handshake_cb, (void *)"AUTH", "AUTH %s", r->password);
	if (rc == 0)
		rc = send_cmd(r, handshake_cb, (void *)"SELECT", "SELECT %u", r->p.db);
	if (rc != 0)
		r->drop = true, r->drop_why = "cannot queue the handshake";
}

/* ---- public ---- */

struct hd_replica *
hd_replica_create(const struct hd_replica_params *p)
{
	struct hd_replica *r;

	if (p == NULL || p->host == NULL || p->host[0] == '\0' || p->port == 0 ||
	    p->prefix == NULL || p->prefix[0] == '\0' ||
	    strlen(p->prefix) > HD_REPLICA_PREFIX_MAX || strlen(p->host) >= sizeof(r->host) ||
	    (p->user != NULL && strlen(p->user) >= sizeof(r->user)) ||
	    (p->password != NULL && strlen(p->password) >= sizeof(r->password)) ||
	    p->timeout_ms == 0 || p->max_outstanding < 4) {
		rte_errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	r->p = *p;
	snprintf(r->host, sizeof(r->host), "%s", p->host);
	snprintf(r->user, sizeof(r->user), "%s", p->user != NULL ? p->user : "");
	snprintf(r->password, sizeof(r->password), "%s", p->password != NULL ? p->password : "");
	snprintf(r->prefix, sizeof(r->prefix), "%s", p->prefix);
	/* A lookup takes two commands. */
	r->n_lk = p->max_outstanding / 2;
	r->lk = calloc(r->n_lk, sizeof(*r->lk));
	if (r->lk == NULL) {
		free(r);
		rte_errno = ENOMEM;
		return NULL;
	}
	r->backoff_ms = BACKOFF_MIN_MS;
	r->state = HD_REPLICA_DOWN;
	return r;
}

void
hd_replica_free(struct hd_replica *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	r->freeing = true;
	if (r->ac != NULL) {
		redisAsyncContext *ac = r->ac;

		r->ac = NULL;
		redisAsyncFree(ac);
	}
	for (i = 0; i < r->n_lk; i++)
		if (r->lk[i].used)
			lookup_finish(r, &r->lk[i], NULL);
	free(r->lk);
	memset(r->password, 0, sizeof(r->password));
	free(r);
}

static void
io_run(struct hd_replica *r)
{
	struct pollfd pfd;

	if (r->ac == NULL || (!r->want_read && !r->want_write))
		return;
	pfd.fd = r->ac->c.fd;
	pfd.events = (short)((r->want_read ? POLLIN : 0) | (r->want_write ? POLLOUT : 0));
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0)
		return;
	if (pfd.revents & (POLLIN | POLLERR | POLLHUP))
		redisAsyncHandleRead(r->ac);
	if (r->ac != NULL && (pfd.revents & (POLLOUT | POLLERR)) && r->want_write)
		redisAsyncHandleWrite(r->ac);
}

static void
lookups_expire(struct hd_replica *r, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < r->n_lk && r->lk_used > 0; i++)
		if (r->lk[i].used && r->lk[i].deadline_ms <= now)
			lookup_finish(r, &r->lk[i], NULL);
}

void
hd_replica_poll(struct hd_replica *r, uint64_t now_ms)
{
	uint64_t stall = RTE_MAX((uint64_t)r->p.timeout_ms * 4, (uint64_t)STALL_MIN_MS);

	if (r->state == HD_REPLICA_DOWN && r->ac == NULL && now_ms >= r->next_try_ms)
		connect_start(r, now_ms);
	io_run(r);
	if (r->drop)
		drop(r, r->drop_why);
	else if (r->ac != NULL && r->state == HD_REPLICA_CONNECTING && now_ms > r->deadline_ms)
		drop(r, "connect timed out");
	else if (r->ac != NULL && r->outstanding > 0 && now_ms > r->progress_ms + stall)
		drop(r, "not answering");
	if (r->lk_used > 0)
		lookups_expire(r, now_ms);
}

static void
set_cb(redisAsyncContext *ac, void *reply, void *priv __rte_unused)
{
	struct hd_replica *r = ac->data;
	redisReply *rep = reply;

	reply_seen(r);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
		r->st.write_errors++;
}

int
hd_replica_write(struct hd_replica *r, const struct hd_cache_key *k,
		 const struct hd_dns_answer *a, uint32_t now)
{
	uint32_t left_ms;
	int klen, vlen;

	if (r->state != HD_REPLICA_CONNECTED || r->ac == NULL ||
	    r->outstanding >= r->p.max_outstanding) {
		r->st.write_dropped++;
		return -ENOBUFS;
	}
	vlen = hd_replica_encode(k, a, now, r->val, sizeof(r->val), &left_ms);
	if (vlen < 0)
		return vlen;
	klen = hd_replica_key(r->prefix, k, r->key, sizeof(r->key));
	if (klen < 0)
		return klen;
	if (send_cmd(r, set_cb, NULL, "SET %b %b PX %u", r->key, (size_t)klen, r->val,
		     (size_t)vlen, left_ms) < 0) {
		r->st.write_dropped++;
		return -EIO;
	}
	r->st.writes++;
	return 0;
}

static void
get_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct hd_replica *r = ac->data;
	redisReply *rep = reply;
	struct lookup *l;

	reply_seen(r);
	l = lookup_of(r, priv);
	if (l == NULL)
		return;
	if (rep == NULL) {
		lookup_finish(r, l, NULL);
		return;
	}
	if (rep->type != REDIS_REPLY_STRING) {
		l->failed = 1;
		return;
	}
	l->val = malloc(rep->len > 0 ? rep->len : 1);
	if (l->val == NULL) {
		l->failed = 1;
		return;
	}
	memcpy(l->val, rep->str, rep->len);
	l->val_len = rep->len;
}

static void
pttl_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct hd_replica *r = ac->data;
	redisReply *rep = reply;
	struct hd_dns_answer *a = NULL;
	struct lookup *l;
	uint32_t left = 0, age;
	int err = 0;

	reply_seen(r);
	l = lookup_of(r, priv);
	if (l == NULL)
		return;
	if (rep != NULL && !l->failed && l->val != NULL && rep->type == REDIS_REPLY_INTEGER &&
	    rep->integer > 0) {
		/* left_ms sits at offset 12 of a v1 value; decode checks it all. */
		if (l->val_len >= 16)
			left = (uint32_t)l->val[12] << 24 | (uint32_t)l->val[13] << 16 |
			       (uint32_t)l->val[14] << 8 | l->val[15];
		age = (uint64_t)rep->integer < left ? left - (uint32_t)rep->integer : 0;
		a = hd_replica_decode(l->val, l->val_len, &l->q, age, hd_clock_sec(),
				      &r->p.limits, &err);
		if (a == NULL && err != -ESTALE && err != -ENOMEM)
			r->st.l2_rejected++;
	}
	lookup_finish(r, l, a);
}

int
hd_replica_get(struct hd_replica *r, const struct hd_dns_query *q, hd_replica_get_t cb,
	       void *arg, void *ctx)
{
	struct hd_cache_key k;
	struct lookup *l = NULL;
	uint32_t i;
	int klen;

	if (r->state != HD_REPLICA_CONNECTED || r->ac == NULL)
		return -ENOTCONN;
	if (r->outstanding + 2 > r->p.max_outstanding || r->lk_used >= r->n_lk)
		return -ENOBUFS;
	for (i = 0; i < r->n_lk && l == NULL; i++) {
		struct lookup *c = &r->lk[(r->lk_next + i) % r->n_lk];

		if (!c->used)
			l = c;
	}
	if (l == NULL)
		return -ENOBUFS;
	r->lk_next = (uint32_t)(l - r->lk) + 1;
	hd_cache_key_from_query(&k, q);
	klen = hd_replica_key(r->prefix, &k, r->key, sizeof(r->key));
	if (klen < 0)
		return klen;
	l->gen++;
	if (send_cmd(r, get_cb, (void *)lookup_tag(r, l), "GET %b", r->key, (size_t)klen) < 0)
		return -EIO;
	l->used = 1;
	l->failed = 0;
	l->val = NULL;
	l->val_len = 0;
	l->cb = cb;
	l->arg = arg;
	l->ctx = ctx;
	l->q = *q;
	l->deadline_ms = hd_clock_ms() + r->p.timeout_ms;
	r->lk_used++;
	/* If the PTTL cannot be queued, the lookup times out as a miss. */
	(void)send_cmd(r, pttl_cb, (void *)lookup_tag(r, l), "PTTL %b", r->key, (size_t)klen);
	return 0;
}

unsigned int
hd_replica_pending(const struct hd_replica *r)
{
	return r->lk_used;
}

void
hd_replica_stats_get(const struct hd_replica *r, struct hd_replica_stats *s)
{
	*s = r->st;
	s->outstanding = r->outstanding;
	s->state = r->state;
}
