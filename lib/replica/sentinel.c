/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Redis Sentinel: every attempt to connect asks the Sentinels, in the
 * order given, for the master's address (SENTINEL get-master-addr-by-name)
 * and the client then connects there, checking with ROLE that it is the
 * master. The Sentinel that answered stays connected, subscribed to
 * +switch-master, so a failover is followed at once: the main connection
 * is closed and the Sentinels asked again without waiting for a backoff.
 * Any loss of the main connection also asks again, so a failover missed
 * while the Sentinel connection was down is found on the next attempt.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>

#include "hd_clock.h"
#include "replica_private.h"

#define WATCH_RETRY_MS	1000
#define SWITCH_CHANNEL	"+switch-master"

/* One "HOST:PORT" or "[V6]:PORT" of @p n bytes. @return 0 or -EINVAL. */
static int
parse_one(const char *s, size_t n, struct sentinel_addr *a)
{
	const char *colon = NULL, *host = s;
	size_t hlen;
	char num[8], *end;
	unsigned long v;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL || close + 1 >= s + n || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - s - 1);
		colon = close + 1;
	} else {
		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(a->host))
		return -EINVAL;
	n -= (size_t)(colon + 1 - s);
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, colon + 1, n);
	num[n] = '\0';
	if (num[0] < '0' || num[0] > '9')
		return -EINVAL;
	v = strtoul(num, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	a->port = (uint16_t)v;
	return 0;
}

int
sentinel_parse(struct hd_replica *r, const char *list)
{
	const char *p = list;

	r->n_sen = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (r->n_sen >= SENTINELS_MAX || parse_one(p, n, &r->sen[r->n_sen]) < 0)
			return -EINVAL;
		r->n_sen++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

void
sentinel_close(struct hd_replica *r)
{
	rresolve_free(r->sen_res);
	r->sen_res = NULL;
	r->sen_drop = false;
	r->sen_switch = false;
	rconn_close(&r->nc);
}

static bool
watching(const struct hd_replica *r)
{
	return r->step == M_HANDSHAKE || r->step == M_UP;
}

static bool
is_current(const struct hd_replica *r, const char *ip, const char *port)
{
	return strcmp(ip, r->target) == 0 && (unsigned long)r->target_port == strtoul(port, NULL, 10);
}

static void
ask_cb(void *owner, redisReply *rep, void *priv __rte_unused)
{
	struct hd_replica *r = owner;
	const redisReply *ip, *port;
	char *end;
	unsigned long v;

	if (rep == NULL)
		return;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING) {
		snprintf(r->sen_err, sizeof(r->sen_err), "%s",
			 rep->type == REDIS_REPLY_ERROR ? rep->str : "it does not know the master");
		r->sen_drop = true;
		return;
	}
	ip = rep->element[0];
	port = rep->element[1];
	v = strtoul(port->str, &end, 10);
	if (ip->len == 0 || ip->len >= sizeof(r->target) || *end != '\0' || v == 0 || v > 65535) {
		snprintf(r->sen_err, sizeof(r->sen_err), "a bad master address");
		r->sen_drop = true;
		return;
	}
	r->sen_asked = true;
	if (r->step == M_SENTINEL)
		replica_connect_to(r, ip->str, (uint16_t)v, hd_clock_ms());
	else if (watching(r) && !is_current(r, ip->str, port->str))
		r->sen_switch = true;
}

/* "+switch-master" says "NAME OLD-IP OLD-PORT NEW-IP NEW-PORT". */
static void
switch_push(void *owner, redisReply *rep, void *priv __rte_unused)
{
	struct hd_replica *r = owner;
	char name[128], oip[64], oport[8], nip[64], nport[8];
	const redisReply *m;

	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    strcasecmp(rep->element[0]->str, "message") != 0)
		return;
	m = rep->element[2];
	if (m->type != REDIS_REPLY_STRING ||
	    sscanf(m->str, "%127s %63s %7s %63s %7s", name, oip, oport, nip, nport) != 5 ||
	    strcmp(name, r->master) != 0)
		return;
	if (watching(r) && !is_current(r, nip, nport))
		r->sen_switch = true;
}

static void
sentinel_open(struct hd_replica *r, uint64_t now)
{
	rconn_close(&r->nc);
	rresolve_free(r->sen_res);
	r->sen_asked = false;
	r->sen_drop = false;
	r->sen_deadline_ms = now + replica_connect_ms(r);
	r->sen_res = rresolve_start(r->sen[r->sen_i].host, r->sen[r->sen_i].port);
	if (r->sen_res == NULL) {
		snprintf(r->sen_err, sizeof(r->sen_err), "out of memory");
		r->sen_drop = true;
	}
}

void
sentinel_start(struct hd_replica *r, uint64_t now)
{
	r->step = M_SENTINEL;
	r->state = HD_REPLICA_CONNECTING;
	r->addr_str[0] = '\0';
	snprintf(r->target, sizeof(r->target), "master %s", r->master);
	r->sen_i = 0;
	r->sen_tried = 0;
	sentinel_open(r, now);
}

/* This Sentinel failed: the next one, or give up this attempt. */
static void
sentinel_next(struct hd_replica *r, const char *why, uint64_t now)
{
	char err[256];

	snprintf(err, sizeof(err), "Sentinel %s:%u: %s", r->sen[r->sen_i].host,
		 r->sen[r->sen_i].port, why);
	sentinel_close(r);
	r->sen_i = (r->sen_i + 1) % r->n_sen;
	if (r->step != M_SENTINEL) {
		r->sen_next_ms = now + WATCH_RETRY_MS;
		return;
	}
	if (++r->sen_tried >= r->n_sen) {
		replica_went_down(r, err, now);
		return;
	}
	sentinel_open(r, now);
}

static void
sentinel_connect(struct hd_replica *r, uint64_t now)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	char err[192];
	int rc = rresolve_poll(r->sen_res, &sa, &salen, err, sizeof(err));

	if (rc == 0)
		return;
	rresolve_free(r->sen_res);
	r->sen_res = NULL;
	if (rc < 0) {
		sentinel_next(r, err, now);
		return;
	}
	if (rconn_open(&r->nc, (const struct sockaddr *)&sa, salen, r->tls,
		       r->sen[r->sen_i].host, 4) < 0) {
		sentinel_next(r, r->nc.err, now);
		return;
	}
	r->nc.push = switch_push;
	if (replica_cmd(&r->nc, ask_cb, NULL, "SENTINEL", "get-master-addr-by-name", r->master,
			NULL) < 0 ||
	    replica_cmd(&r->nc, NULL, NULL, "SUBSCRIBE", SWITCH_CHANNEL, NULL) < 0)
		sentinel_next(r, "cannot queue the question", now);
}

void
sentinel_poll(struct hd_replica *r, uint64_t now)
{
	if (r->sen_switch && watching(r)) {
		/* A failover: leave the old master now and ask again at once. */
		replica_went_down(r, "the Sentinels switched the master", now);
		r->next_try_ms = now;
		r->backoff_ms = 1000;
		return;
	}
	if (r->step != M_SENTINEL && !watching(r))
		return;
	if (r->sen_res == NULL && r->nc.phase == RC_CLOSED) {
		/* Watching only: the Sentinel link broke while the master is fine. */
		if (now >= r->sen_next_ms)
			sentinel_open(r, now);
		return;
	}
	if (r->sen_res != NULL) {
		sentinel_connect(r, now);
		return;
	}
	if (rconn_io(&r->nc) < 0)
		sentinel_next(r, r->nc.err, now);
	else if (r->sen_drop)
		sentinel_next(r, r->sen_err, now);
	else if (!r->sen_asked && now > r->sen_deadline_ms)
		sentinel_next(r, "timed out", now);
}
