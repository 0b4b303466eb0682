/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The Redis client of the slow path. Its transport is ours (conn.c: a
 * non-blocking socket, TLS when asked, hiredis' reader and formatter), so
 * hd_replica_poll() does the socket work that is ready with a zero
 * timeout and the slow path never sleeps on Redis.
 *
 * The main connection carries lookups, writes and the cluster's commands,
 * pipelined; a second one (sub.c) is subscribed to the cluster's channels;
 * behind Sentinels a third (sentinel.c) finds the master and follows its
 * failovers.
 *
 * A lookup is GET then PTTL, pipelined: the value's left_ms minus the
 * PTTL is its age, so no clock is shared between nodes. Lookups wait at
 * most timeout_ms, commands 10 x timeout_ms; a late reply finds its slot
 * reused (generation changed) and is dropped. Slots in use are kept in
 * the order they were taken, which is their deadlines' order, so expiry
 * costs one look at the oldest per poll, not a scan of every slot: the
 * slow path polls on every pass while lookups wait. A connection that stops
 * answering altogether is closed and opened again with backoff, which
 * answers every waiting lookup and command (NULL reply).
 *
 * Callbacks never close a connection themselves: they set a flag that
 * hd_replica_poll() acts on once the connection's I/O has returned.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "hd_clock.h"
#include "replica_private.h"

RTE_LOG_REGISTER_DEFAULT(hd_replica_logtype, INFO);

#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	30000
#define CONNECT_MIN_MS	1000
#define STALL_MIN_MS	2000
/* The subscriber and Sentinel connections carry no lookup: polled once per ms. */
#define AUX_EVERY_MS	1
#define VALUE_MAX	(UINT16_MAX + HD_REPLICA_VALUE_FIXED + HD_DNS_NAME_MAX + 2 * 4096)
#define CMD_ARGS_MAX	8
/* The handshake's replies, awaited beyond max_outstanding. */
#define HANDSHAKE_CMDS	4

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

/* Queue a command given as NUL-terminated strings, NULL after the last. */
int
replica_cmd(struct rconn *c, rconn_fn fn, void *priv, ...)
{
	const char *argv[CMD_ARGS_MAX];
	va_list ap;
	int argc = 0;
	const char *a;

	va_start(ap, priv);
	while ((a = va_arg(ap, const char *)) != NULL && argc < CMD_ARGS_MAX)
		argv[argc++] = a;
	va_end(ap);
	return rconn_send(c, fn, priv, argc, argv, NULL);
}

void
replica_addr_str(const struct sockaddr_storage *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

uint64_t
replica_connect_ms(const struct hd_replica *r)
{
	return RTE_MAX((uint64_t)r->p.timeout_ms * 10, (uint64_t)CONNECT_MIN_MS);
}

/* ---- lookups and commands: generation-tagged slots ---- */

static int
slots_init(struct slots *s, uint32_t n)
{
	uint32_t i;

	s->link = calloc(n, sizeof(*s->link));
	if (s->link == NULL)
		return -ENOMEM;
	s->n = n;
	s->used = 0;
	s->head = s->tail = SLOT_NIL;
	for (i = 0; i < n; i++)
		s->link[i].next = i + 1 < n ? i + 1 : SLOT_NIL;
	s->free = n > 0 ? 0 : SLOT_NIL;
	return 0;
}

/* Take the first free slot (s->free) as the newest in use. @return its index. */
static uint32_t
slots_take(struct slots *s)
{
	uint32_t i = s->free;

	if (i == SLOT_NIL)
		return SLOT_NIL;
	s->free = s->link[i].next;
	s->link[i].prev = s->tail;
	s->link[i].next = SLOT_NIL;
	if (s->tail != SLOT_NIL)
		s->link[s->tail].next = i;
	else
		s->head = i;
	s->tail = i;
	s->used++;
	return i;
}

/* Slot @p i, in use, is free again (reused first: its memory is warm). */
static void
slots_give(struct slots *s, uint32_t i)
{
	struct slot_link *l = &s->link[i];

	if (l->prev != SLOT_NIL)
		s->link[l->prev].next = l->next;
	else
		s->head = l->next;
	if (l->next != SLOT_NIL)
		s->link[l->next].prev = l->prev;
	else
		s->tail = l->prev;
	l->prev = SLOT_NIL;
	l->next = s->free;
	s->free = i;
	s->used--;
}

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
	slots_give(&r->lks, (uint32_t)(l - r->lk));
	if (a != NULL)
		r->st.l2_hits++;
	else
		r->st.l2_misses++;
	cb(arg, ctx, &q, a);
}

static void *
tag_of(uint32_t i, uint32_t gen)
{
	return (void *)((uintptr_t)i | (uintptr_t)gen << 32);
}

static uint32_t
tag_index(void *priv)
{
	return (uint32_t)((uintptr_t)priv & UINT32_MAX);
}

static uint32_t
tag_gen(void *priv)
{
	return (uint32_t)((uintptr_t)priv >> 32);
}

/* The lookup a reply belongs to, or NULL when it was given up. */
static struct lookup *
lookup_of(struct hd_replica *r, void *priv)
{
	uint32_t i = tag_index(priv);

	if (i >= r->lks.n)
		return NULL;
	return r->lk[i].used && r->lk[i].gen == tag_gen(priv) ? &r->lk[i] : NULL;
}

static void
command_finish(struct hd_replica *r, struct command *c, const redisReply *rep)
{
	hd_replica_reply_t cb = c->cb;
	void *arg = c->arg;

	c->used = 0;
	c->gen++;
	slots_give(&r->cmds, (uint32_t)(c - r->cmd));
	if (cb != NULL)
		cb(arg, rep);
}

/*
 * Oldest first: the first one still in time ends the walk. A callback may
 * queue a new one; it goes last, with a deadline after @p now.
 */
static void
expire(struct hd_replica *r, uint64_t now)
{
	uint32_t i;

	while ((i = r->lks.head) != SLOT_NIL && r->lk[i].deadline_ms <= now)
		lookup_finish(r, &r->lk[i], NULL);
	while ((i = r->cmds.head) != SLOT_NIL && r->cmd[i].deadline_ms <= now)
		command_finish(r, &r->cmd[i], NULL);
}

/* ---- the main connection ---- */

static void
reply_seen(struct hd_replica *r)
{
	r->progress_ms = hd_clock_ms();
}

/* Queue on the main connection; a reply is awaited from now on. */
static int
main_send(struct hd_replica *r, rconn_fn fn, void *priv, int argc, const char **argv,
	  const size_t *argvlen)
{
	uint32_t before = r->mc.w_n;
	int rc = rconn_send(&r->mc, fn, priv, argc, argv, argvlen);

	if (rc == 0 && before == 0)
		r->progress_ms = hd_clock_ms();
	return rc;
}

/* Ask for a close at the next poll: callbacks may not close the connection. */
void
replica_drop_main(struct hd_replica *r, const char *why)
{
	if (r->drop)
		return;	/* the first cause is the one worth telling */
	r->drop = true;
	snprintf(r->drop_why, sizeof(r->drop_why), "%s", why);
}

/* The main connection is gone (or never came): log once, back off. */
void
replica_went_down(struct hd_replica *r, const char *why, uint64_t now)
{
	bool was_up = r->state == HD_REPLICA_CONNECTED;

	r->state = HD_REPLICA_DOWN;
	r->step = M_IDLE;
	rresolve_free(r->res);
	r->res = NULL;
	sub_close(r);
	/* Behind Sentinels every new attempt asks them again. */
	sentinel_close(r);
	rconn_close(&r->mc);
	r->drop = false;
	if (r->freeing)
		return;
	if (was_up || !r->down_logged) {
		REPLICA_LOG(WARNING, "redis %s %s: %s; running local-only, retrying in %u ms",
			    r->addr_str[0] != '\0' ? r->addr_str : r->target,
			    was_up ? "lost" : "unreachable", why, r->backoff_ms);
		r->down_logged = true;
	}
	r->next_try_ms = now + r->backoff_ms;
	r->backoff_ms = RTE_MIN(r->backoff_ms * 2, (uint32_t)BACKOFF_MAX_MS);
}

static void
handshake_cb(void *owner, redisReply *rep, void *priv)
{
	struct hd_replica *r = owner;
	const char *what = priv;

	reply_seen(r);
	if (rep == NULL || r->step != M_HANDSHAKE)
		return;
	if (rep->type == REDIS_REPLY_ERROR) {
		/* The first refusal is the cause (a refused AUTH makes SELECT fail too). */
		replica_drop_main(r, strcmp(what, "AUTH") == 0 ? "authentication refused" :
				  strcmp(what, "SELECT") == 0 ? "SELECT refused" : "ROLE refused");
		return;
	}
	if (strcmp(what, "ROLE") == 0) {
		/* Behind Sentinels the server must be the master itself. */
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(rep->element[0]->str, "master") != 0) {
			replica_drop_main(r, "not a master");
			return;
		}
	} else if (strcmp(what, "SELECT") != 0 || r->n_sen > 0) {
		return;
	}
	r->step = M_UP;
	r->state = HD_REPLICA_CONNECTED;
	r->down_logged = false;
	r->backoff_ms = BACKOFF_MIN_MS;
	if (r->n_sen > 0)
		REPLICA_LOG(INFO, "redis %s db %u connected (master %s)", r->addr_str, r->p.db,
			    r->master);
	else
		REPLICA_LOG(INFO, "redis %s db %u connected", r->addr_str, r->p.db);
}

static int
handshake_send(struct hd_replica *r)
{
	char db[16];
	int rc = 0;

	snprintf(db, sizeof(db), "%u", r->p.db);
	/* Pipelined behind the connect: written once it completes. */
	if (r->password[0] != '\0' && r->user[0] != '\0')
		rc = replica_cmd(&r->mc, handshake_cb, (void *)"AUTH", "AUTH", r->user,
				 r->password, NULL);
	else if (r->password[0] != '\0')
		rc = replica_cmd(&r->mc, handshake_cb, (void *)"AUTH", "AUTH", r->password, NULL);
	if (rc == 0)
		rc = replica_cmd(&r->mc, handshake_cb, (void *)"SELECT", "SELECT", db, NULL);
	if (rc == 0 && r->n_sen > 0)
		rc = replica_cmd(&r->mc, handshake_cb, (void *)"ROLE", "ROLE", NULL);
	if (rc == 0)
		r->progress_ms = hd_clock_ms();
	return rc;
}

/* Connect the main connection to @p host (a name is resolved first). */
void
replica_connect_to(struct hd_replica *r, const char *host, uint16_t port, uint64_t now)
{
	snprintf(r->target, sizeof(r->target), "%s", host);
	r->target_port = port;
	r->addr_str[0] = '\0';
	r->state = HD_REPLICA_CONNECTING;
	r->step = M_RESOLVE;
	r->deadline_ms = now + replica_connect_ms(r);
	rresolve_free(r->res);
	r->res = rresolve_start(host, port);
	if (r->res == NULL)
		replica_went_down(r, "out of memory", now);
}

static void
main_open(struct hd_replica *r, uint64_t now)
{
	char err[192];
	int rc = rresolve_poll(r->res, &r->addr, &r->addrlen, err, sizeof(err));

	if (rc == 0)
		return;
	rresolve_free(r->res);
	r->res = NULL;
	if (rc < 0) {
		replica_went_down(r, err, now);
		return;
	}
	replica_addr_str(&r->addr, r->addr_str, sizeof(r->addr_str));
	r->step = M_HANDSHAKE;
	if (rconn_open(&r->mc, (const struct sockaddr *)&r->addr, r->addrlen, r->tls, r->target,
		       r->p.max_outstanding + HANDSHAKE_CMDS) < 0) {
		replica_went_down(r, r->mc.err, now);
		return;
	}
	if (handshake_send(r) < 0)
		replica_went_down(r, "cannot queue the handshake", now);
}

static void
attempt(struct hd_replica *r, uint64_t now)
{
	if (r->n_sen > 0)
		sentinel_start(r, now);
	else
		replica_connect_to(r, r->host, r->p.port, now);
}

static void
main_poll(struct hd_replica *r, uint64_t now)
{
	uint64_t stall = RTE_MAX((uint64_t)r->p.timeout_ms * 4, (uint64_t)STALL_MIN_MS);

	if (r->step == M_IDLE && now >= r->next_try_ms)
		attempt(r, now);
	if (r->step == M_RESOLVE)
		main_open(r, now);
	if (r->step == M_RESOLVE && now > r->deadline_ms) {
		replica_went_down(r, "name resolution timed out", now);
		return;
	}
	if (r->step != M_HANDSHAKE && r->step != M_UP)
		return;
	if (rconn_io(&r->mc) < 0)
		replica_went_down(r, r->mc.err, now);
	else if (r->drop)
		replica_went_down(r, r->drop_why, now);
	else if (r->step == M_HANDSHAKE && now > r->deadline_ms)
		replica_went_down(r, "connect timed out", now);
	else if (r->mc.w_n > 0 && now > r->progress_ms + stall)
		replica_went_down(r, "not answering", now);
}

/* ---- public ---- */

static bool
params_ok(const struct hd_replica_params *p)
{
	return p != NULL && p->host != NULL && p->host[0] != '\0' && p->port != 0 &&
	       p->prefix != NULL && p->prefix[0] != '\0' &&
	       strlen(p->prefix) <= HD_REPLICA_PREFIX_MAX && strlen(p->host) < 256 &&
	       (p->user == NULL || strlen(p->user) < 128) &&
	       (p->password == NULL || strlen(p->password) < 256) &&
	       p->timeout_ms != 0 && p->max_outstanding >= 4 &&
	       (p->sentinels == NULL || p->sentinels[0] == '\0' ||
		(p->sentinel_master != NULL && p->sentinel_master[0] != '\0' &&
		 strlen(p->sentinel_master) < 128));
}

static int
create_fill(struct hd_replica *r, const struct hd_replica_params *p)
{
	char err[256];

	r->p = *p;
	snprintf(r->host, sizeof(r->host), "%s", p->host);
	snprintf(r->user, sizeof(r->user), "%s", p->user != NULL ? p->user : "");
	snprintf(r->password, sizeof(r->password), "%s", p->password != NULL ? p->password : "");
	snprintf(r->prefix, sizeof(r->prefix), "%s", p->prefix);
	snprintf(r->master, sizeof(r->master), "%s",
		 p->sentinel_master != NULL ? p->sentinel_master : "");
	r->p.host = r->p.user = r->p.password = r->p.prefix = NULL;
	r->p.ca_file = r->p.sentinels = r->p.sentinel_master = NULL;
	rconn_init(&r->mc, r, NULL);
	rconn_init(&r->sc, r, NULL);
	rconn_init(&r->nc, r, NULL);
	if (p->sentinels != NULL && p->sentinels[0] != '\0' && sentinel_parse(r, p->sentinels) < 0)
		return -EINVAL;
	if (p->tls) {
		r->tls = rconn_tls_create(p->ca_file, err, sizeof(err));
		if (r->tls == NULL) {
			REPLICA_LOG(ERR, "rediss: %s", err);
			return -ENOENT;
		}
	}
	/* A lookup takes two commands. */
	r->lk = calloc(p->max_outstanding / 2, sizeof(*r->lk));
	r->cmd = calloc(p->max_outstanding / 2, sizeof(*r->cmd));
	if (r->lk == NULL || r->cmd == NULL ||
	    slots_init(&r->lks, p->max_outstanding / 2) < 0 ||
	    slots_init(&r->cmds, p->max_outstanding / 2) < 0)
		return -ENOMEM;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->state = HD_REPLICA_DOWN;
	return 0;
}

struct hd_replica *
hd_replica_create(const struct hd_replica_params *p)
{
	struct hd_replica *r;
	int rc;

	if (!params_ok(p)) {
		rte_errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r) + VALUE_MAX);
	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	rc = create_fill(r, p);
	if (rc < 0) {
		rconn_tls_free(r->tls);
		free(r->lk);
		free(r->cmd);
		free(r->lks.link);
		free(r->cmds.link);
		free(r);
		rte_errno = -rc;
		return NULL;
	}
	return r;
}

void
hd_replica_free(struct hd_replica *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	r->freeing = true;
	/* Every awaited reply gets its callback (NULL) here. */
	replica_went_down(r, "stopping", hd_clock_ms());
	while ((i = r->lks.head) != SLOT_NIL)
		lookup_finish(r, &r->lk[i], NULL);
	while ((i = r->cmds.head) != SLOT_NIL)
		command_finish(r, &r->cmd[i], NULL);
	rresolve_free(r->sen_res);
	rconn_tls_free(r->tls);
	free(r->lk);
	free(r->cmd);
	free(r->lks.link);
	free(r->cmds.link);
	memset(r->password, 0, sizeof(r->password));
	free(r);
}

void
hd_replica_poll(struct hd_replica *r, uint64_t now_ms)
{
	main_poll(r, now_ms);
	/* Each is a syscall or two: not on every pass of a busy slow path. */
	if (now_ms >= r->aux_ms + AUX_EVERY_MS || now_ms < r->aux_ms) {
		r->aux_ms = now_ms;
		if (r->n_sen > 0)
			sentinel_poll(r, now_ms);
		if (r->n_ch > 0)
			sub_poll(r, now_ms);
	}
	expire(r, now_ms);
}

static bool
main_ready(const struct hd_replica *r)
{
	return r->step == M_UP && rconn_is_open(&r->mc) && !r->drop;
}

static void
set_cb(void *owner, redisReply *rep, void *priv __rte_unused)
{
	struct hd_replica *r = owner;

	reply_seen(r);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
		r->st.write_errors++;
}

int
hd_replica_write(struct hd_replica *r, const struct hd_cache_key *k,
		 const struct hd_dns_answer *a, uint32_t now)
{
	const char *argv[5];
	size_t argvlen[5];
	char px[16];
	uint32_t left_ms;
	int klen, vlen;

	if (!main_ready(r) || r->mc.w_n >= r->p.max_outstanding) {
		r->st.write_dropped++;
		return -ENOBUFS;
	}
	vlen = hd_replica_encode(k, a, now, r->val, VALUE_MAX, &left_ms);
	if (vlen < 0)
		return vlen;
	klen = hd_replica_key(r->prefix, k, r->key, sizeof(r->key));
	if (klen < 0)
		return klen;
	snprintf(px, sizeof(px), "%u", left_ms);
	argv[0] = "SET", argvlen[0] = 3;
	argv[1] = r->key, argvlen[1] = (size_t)klen;
	argv[2] = (const char *)r->val, argvlen[2] = (size_t)vlen;
	argv[3] = "PX", argvlen[3] = 2;
	argv[4] = px, argvlen[4] = strlen(px);
	if (main_send(r, set_cb, NULL, 5, argv, argvlen) < 0) {
		r->st.write_dropped++;
		return -EIO;
	}
	r->st.writes++;
	return 0;
}

static void
get_cb(void *owner, redisReply *rep, void *priv)
{
	struct hd_replica *r = owner;
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
pttl_cb(void *owner, redisReply *rep, void *priv)
{
	struct hd_replica *r = owner;
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
	struct lookup *l;
	const char *argv[2];
	size_t argvlen[2];
	uint32_t i;
	void *tag;
	int klen;

	if (!main_ready(r))
		return -ENOTCONN;
	/* The first free slot: taken once the GET is queued. */
	i = r->lks.free;
	if (r->mc.w_n + 2 > r->p.max_outstanding || i == SLOT_NIL)
		return -ENOBUFS;
	hd_cache_key_from_query(&k, q);
	klen = hd_replica_key(r->prefix, &k, r->key, sizeof(r->key));
	if (klen < 0)
		return klen;
	l = &r->lk[i];
	l->gen++;
	tag = tag_of(i, l->gen);
	argv[0] = "GET", argvlen[0] = 3;
	argv[1] = r->key, argvlen[1] = (size_t)klen;
	if (main_send(r, get_cb, tag, 2, argv, argvlen) < 0)
		return -EIO;
	(void)slots_take(&r->lks);
	l->used = 1;
	l->failed = 0;
	l->val = NULL;
	l->val_len = 0;
	l->cb = cb;
	l->arg = arg;
	l->ctx = ctx;
	l->q = *q;
	l->deadline_ms = hd_clock_ms() + r->p.timeout_ms;
	/* If the PTTL cannot be queued, the lookup times out as a miss. */
	argv[0] = "PTTL", argvlen[0] = 4;
	(void)main_send(r, pttl_cb, tag, 2, argv, argvlen);
	return 0;
}

static void
command_cb(void *owner, redisReply *rep, void *priv)
{
	struct hd_replica *r = owner;
	uint32_t i = tag_index(priv);

	reply_seen(r);
	if (i < r->cmds.n && r->cmd[i].used && r->cmd[i].gen == tag_gen(priv))
		command_finish(r, &r->cmd[i], rep);
}

int
hd_replica_command(struct hd_replica *r, hd_replica_reply_t cb, void *arg, int argc,
		   const char *const *argv, const size_t *argvlen)
{
	struct command *c;
	uint32_t i;
	int rc;

	if (r == NULL || argc <= 0 || argv == NULL)
		return -EINVAL;
	for (i = 0; i < (uint32_t)argc; i++)
		if (argv[i] == NULL)
			return -EINVAL;
	if (!main_ready(r))
		return -ENOTCONN;
	/* The first free slot: taken once the command is queued. */
	i = r->cmds.free;
	if (r->mc.w_n >= r->p.max_outstanding || i == SLOT_NIL)
		return -ENOBUFS;
	c = &r->cmd[i];
	c->gen++;
	rc = main_send(r, command_cb, tag_of(i, c->gen), argc,
		       (const char **)(uintptr_t)argv, argvlen);
	if (rc < 0)
		return rc == -ENOTCONN ? rc : -ENOBUFS;
	(void)slots_take(&r->cmds);
	c->used = 1;
	c->cb = cb;
	c->arg = arg;
	c->deadline_ms = hd_clock_ms() + (uint64_t)r->p.timeout_ms * 10;
	return 0;
}

int
hd_replica_subscribe(struct hd_replica *r, const char *channel, hd_replica_message_t cb,
		     void *arg)
{
	if (r == NULL || channel == NULL || channel[0] == '\0' || cb == NULL ||
	    strlen(channel) >= sizeof(r->ch[0].name))
		return -EINVAL;
	return sub_add(r, channel, cb, arg);
}

unsigned int
hd_replica_pending(const struct hd_replica *r)
{
	return r->lks.used;
}

void
hd_replica_stats_get(const struct hd_replica *r, struct hd_replica_stats *s)
{
	*s = r->st;
	s->outstanding = r->mc.w_n;
	s->state = r->state;
	snprintf(s->redis_addr, sizeof(s->redis_addr), "%s", r->addr_str);
}
