/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attempts over DNS over TLS: each DoT server has one kept, pipelined
 * connection (tls.c) on our epoll set. A query goes out on it with a random
 * ID unused on that connection; replies come back in any order and are
 * matched by ID (a table of 65536 entries per DoT server), then by
 * question like any reply. A failed connection fails every attempt that
 * was waiting on it, and counts once against the server's health.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hd_clock.h"
#include "tls.h"
#include "upstream_private.h"

#define QUERY_MAX	(UP_QWIRE_MAX + HD_DNS_OPT_LEN)
/* Draws of a random ID before giving up on finding one not in flight. */
#define ID_TRIES	16

static void
dot_fail_all(struct hd_upstream *u, struct up_server *s, int status)
{
	uint32_t epoch = s->tls_epoch++;
	struct up_att *a;

	/* Once per change of state: a wrong certificate must be visible without debug logs. */
	if (!s->tls_failing)
		HD_UPSTREAM_LOG(WARNING, "DoT server %u: %s (%s)", s->idx, strerror(-status),
				hd_tls_conn_error(s->tls));
	else
		HD_UPSTREAM_LOG(DEBUG, "DoT server %u: %s (%s)", s->idx, strerror(-status),
				hd_tls_conn_error(s->tls));
	s->tls_failing = 1;
	s->st.failures++;
	up_health_fail(&u->health[s->idx], hd_clock_ms());
	/* Attempts started by the failover below join the tail with the new
	 * epoch; the old ones are all ahead of them. */
	while ((a = TAILQ_FIRST(&s->tls_atts)) != NULL && a->tls_epoch == epoch)
		up_att_failed(u, a, 0);
}

static void
dot_reply(void *arg, int status, const uint8_t *msg, size_t len)
{
	struct up_server *s = arg;
	struct hd_upstream *u = s->u;
	struct up_att *a;
	struct hd_wire w;
	uint32_t slot;
	uint16_t id;

	if (status < 0) {
		dot_fail_all(u, s, status);
		return;
	}
	hd_wire_init(&w, (void *)(uintptr_t)msg, len);
	id = hd_wire_get_u16_at(&w, 0);
	slot = hd_wire_ok(&w) ? s->tls_ids[id] : 0;
	if (slot != 0 && s->tls_failing) {
		HD_UPSTREAM_LOG(INFO, "DoT server %u: answering again", s->idx);
		s->tls_failing = 0;
	}
	if (slot == 0) {
		/* No query of ours has that ID (any more). */
		hd_stats_inc(u->stats, HD_STAT_upstream_rejected);
		s->st.rejected++;
		return;
	}
	a = &u->atts[slot - 1];
	/* From the server whose certificate we checked: a wrong question
	 * is a broken server, not a forgery to wait out. */
	if (hd_dns_reply_matches(msg, len, &a->q, a->id) != 0) {
		hd_stats_inc(u->stats, HD_STAT_upstream_rejected);
		s->st.rejected++;
		up_att_failed(u, a, 1);
		return;
	}
	up_att_reply(u, a, msg, len, 1);
}

int
up_dot_open(struct hd_upstream *u)
{
	char err[256] = "";
	unsigned int i;

	for (i = 0; i < u->p.n_servers; i++)
		if (u->p.opts[i].tls)
			u->tls_servers[u->n_tls++] = (uint8_t)i;
	if (u->n_tls == 0)
		return 0;
	u->tls_ctx = hd_tls_ctx_create(u->p.tls_ca_file, err, sizeof(err));
	if (u->tls_ctx == NULL) {
		HD_UPSTREAM_LOG(ERR, "DNS over TLS: %s", err);
		return -EKEYREJECTED;
	}
	for (i = 0; i < u->n_tls; i++) {
		struct up_server *s = &u->servers[u->tls_servers[i]];
		const char *name = u->p.opts[s->idx].tls_name;

		s->tls_ids = calloc(UINT16_MAX + 1, sizeof(*s->tls_ids));
		if (s->tls_ids == NULL)
			return -ENOMEM;
		s->tls = hd_tls_conn_create(u->tls_ctx, u->epfd, up_ev_pack(UP_EV_TLS, 0, s->idx),
					    (const struct sockaddr *)&s->addr, s->addr_len,
					    name[0] ? name : NULL, dot_reply, s);
		if (s->tls == NULL)
			return errno ? -errno : -EINVAL;
	}
	return 0;
}

void
up_dot_close(struct hd_upstream *u)
{
	unsigned int i;

	for (i = 0; i < u->n_tls; i++) {
		struct up_server *s = &u->servers[u->tls_servers[i]];

		hd_tls_conn_free(s->tls);
		s->tls = NULL;
		free(s->tls_ids);
		s->tls_ids = NULL;
	}
	u->n_tls = 0;
	hd_tls_ctx_free(u->tls_ctx);
	u->tls_ctx = NULL;
}

int
up_dot_attempt_start(struct hd_upstream *u, struct up_att *a)
{
	struct up_server *s = &u->servers[a->server];
	uint8_t msg[QUERY_MAX];
	unsigned int i;
	int len, rc;

	for (i = 0; i < ID_TRIES; i++) {
		rc = up_random_id(u, &a->id);
		if (rc < 0)
			return rc;
		if (s->tls_ids[a->id] == 0)
			break;
	}
	if (i == ID_TRIES)
		return -EBUSY;
	len = hd_dns_query_write(msg, sizeof(msg), &a->q, a->id);
	if (len < 0)
		return len;
	rc = hd_tls_send(s->tls, msg, (size_t)len);
	if (rc < 0)
		return rc;
	s->tls_ids[a->id] = a->idx + 1;
	a->tls_epoch = s->tls_epoch;
	TAILQ_INSERT_TAIL(&s->tls_atts, a, tls);
	a->state = UP_ATT_TLS;
	return 0;
}

void
up_dot_attempt_end(struct hd_upstream *u, struct up_att *a)
{
	struct up_server *s = &u->servers[a->server];

	if (s->tls_ids[a->id] == a->idx + 1)
		s->tls_ids[a->id] = 0;
	TAILQ_REMOVE(&s->tls_atts, a, tls);
}

void
up_dot_event(struct hd_upstream *u, unsigned int server, uint32_t events)
{
	hd_tls_handle(u->servers[server].tls, events);
}

uint64_t
up_dot_next_deadline(const struct hd_upstream *u)
{
	uint64_t next = UINT64_MAX, t;
	unsigned int i;

	for (i = 0; i < u->n_tls; i++) {
		t = hd_tls_conn_deadline(u->servers[u->tls_servers[i]].tls);
		if (t < next)
			next = t;
	}
	return next;
}

void
up_dot_tick(struct hd_upstream *u, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < u->n_tls; i++) {
		struct hd_tls_conn *c = u->servers[u->tls_servers[i]].tls;

		if (hd_tls_conn_deadline(c) <= now)
			hd_tls_conn_tick(c, now);
	}
}
