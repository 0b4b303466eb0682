/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The subscriber: a second connection to the same server as the main one
 * (a subscribed connection takes no other command), opened once the main
 * connection is up and closed with it. It authenticates if it must, then
 * subscribes to every channel asked for; after each reconnect it
 * subscribes again. Messages are handed out from hd_replica_poll().
 *
 * Redis sends nothing on an idle subscribed connection, so a PING every
 * few seconds tells a live server from a silent dead one.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <strings.h>

#include <rte_common.h>

#include "hd_clock.h"
#include "replica_private.h"

#define SUB_RETRY_MS	1000
#define PING_EVERY_MS	5000
#define SILENT_MAX_MS	(3 * PING_EVERY_MS)

void
sub_close(struct hd_replica *r)
{
	if (r->sub_live && !r->freeing && r->state == HD_REPLICA_CONNECTED)
		REPLICA_LOG(WARNING, "redis %s: subscriber lost, resubscribing", r->addr_str);
	r->sub_live = false;
	r->sub_drop = false;
	r->sub_acks = 0;
	rconn_close(&r->sc);
}

static void
sub_fail(struct hd_replica *r, const char *why, uint64_t now)
{
	/* Said once until it works again: the main connection's log tells the rest. */
	if (!r->sub_logged && !r->sub_live)
		REPLICA_LOG(WARNING, "redis %s: cannot subscribe: %s", r->addr_str, why);
	r->sub_logged = true;
	sub_close(r);
	r->sub_next_ms = now + SUB_RETRY_MS;
}

static bool
is_str(const redisReply *e, const char *s)
{
	return e->type == REDIS_REPLY_STRING && strcasecmp(e->str, s) == 0;
}

static void
message(struct hd_replica *r, const redisReply *rep)
{
	const redisReply *ch = rep->element[1], *msg = rep->element[2];
	unsigned int i;

	if (ch->type != REDIS_REPLY_STRING || msg->type != REDIS_REPLY_STRING)
		return;
	for (i = 0; i < r->n_ch; i++)
		if (strlen(r->ch[i].name) == ch->len && memcmp(r->ch[i].name, ch->str, ch->len) == 0)
			r->ch[i].cb(r->ch[i].arg, r->ch[i].name, (const uint8_t *)msg->str,
				    msg->len);
}

/* Everything the subscribed connection receives after the AUTH. */
static void
sub_push(void *owner, redisReply *rep, void *priv __rte_unused)
{
	struct hd_replica *r = owner;

	if (rep == NULL)
		return;
	r->sub_seen_ms = hd_clock_ms();
	if (rep->type == REDIS_REPLY_ERROR) {
		r->sub_drop = true;
		return;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2)
		return;
	if (rep->elements == 3 && is_str(rep->element[0], "message")) {
		message(r, rep);
	} else if (is_str(rep->element[0], "subscribe") && ++r->sub_acks == r->n_ch &&
		   !r->sub_live) {
		r->sub_live = true;
		r->sub_logged = false;
	}
}

static void
sub_auth_cb(void *owner, redisReply *rep, void *priv __rte_unused)
{
	struct hd_replica *r = owner;

	if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
		r->sub_drop = true;
}

static void
sub_open(struct hd_replica *r, uint64_t now)
{
	unsigned int i;
	int rc = 0;

	r->sub_acks = 0;
	r->sub_live = false;
	r->sub_deadline_ms = now + replica_connect_ms(r);
	r->sub_ping_ms = now + PING_EVERY_MS;
	r->sub_seen_ms = now;
	if (rconn_open(&r->sc, (const struct sockaddr *)&r->addr, r->addrlen, r->tls, r->target,
		       4) < 0) {
		sub_fail(r, r->sc.err, now);
		return;
	}
	r->sc.push = sub_push;
	if (r->password[0] != '\0' && r->user[0] != '\0')
		rc = replica_cmd(&r->sc, sub_auth_cb, NULL, "AUTH", r->user, r->password, NULL);
	else if (r->password[0] != '\0')
		rc = replica_cmd(&r->sc, sub_auth_cb, NULL, "AUTH", r->password, NULL);
	for (i = 0; i < r->n_ch && rc == 0; i++)
		rc = replica_cmd(&r->sc, NULL, NULL, "SUBSCRIBE", r->ch[i].name, NULL);
	if (rc < 0)
		sub_fail(r, "cannot queue SUBSCRIBE", now);
}

void
sub_poll(struct hd_replica *r, uint64_t now)
{
	if (r->state != HD_REPLICA_CONNECTED) {
		if (r->sc.phase != RC_CLOSED)
			sub_close(r);
		return;
	}
	if (r->sc.phase == RC_CLOSED) {
		if (now >= r->sub_next_ms)
			sub_open(r, now);
		return;
	}
	if (rconn_io(&r->sc) < 0)
		sub_fail(r, r->sc.err, now);
	else if (r->sub_drop)
		sub_fail(r, "refused", now);
	else if (!r->sub_live && now > r->sub_deadline_ms)
		sub_fail(r, "timed out", now);
	else if (r->sub_live && now > r->sub_seen_ms + SILENT_MAX_MS)
		sub_fail(r, "not answering", now);
	else if (now >= r->sub_ping_ms) {
		r->sub_ping_ms = now + PING_EVERY_MS;
		(void)replica_cmd(&r->sc, NULL, NULL, "PING", NULL);
	}
}

int
sub_add(struct hd_replica *r, const char *channel, hd_replica_message_t cb, void *arg)
{
	struct channel *c;

	if (r->n_ch >= SUB_CHANNELS_MAX)
		return -ENOSPC;
	c = &r->ch[r->n_ch++];
	snprintf(c->name, sizeof(c->name), "%s", channel);
	c->cb = cb;
	c->arg = arg;
	/* Already subscribed: add this one on the same connection. */
	if (r->sc.phase != RC_CLOSED && replica_cmd(&r->sc, NULL, NULL, "SUBSCRIBE", channel,
						    NULL) < 0)
		r->sub_drop = true;
	return 0;
}
