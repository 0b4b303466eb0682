/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests, dedup, attempts over UDP, timeouts and the event loop.
 *
 * Each UDP attempt gets its own connected socket: connect() makes the
 * kernel choose a random ephemeral source port and drop datagrams from any
 * address or port but the server's, so a spoofer has to guess the port and
 * the 16-bit ID. Attempt timeouts are nearly all attempt_ms, so the timer
 * is a list kept in deadline order where an insertion nearly always lands
 * at the tail (a shorter share of the budget walks back a little).
 *
 * A raced attempt that loses (parallel strategy) is not closed: it stays
 * until its reply or deadline, detached from its request, so the reply is
 * counted as dropped and the server's RTT and health stay current.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_log.h>

#include "hd_clock.h"
#include "upstream_private.h"

RTE_LOG_REGISTER_DEFAULT(hd_upstream_logtype, INFO);

#define DEF_ATTEMPT_MS		800
#define DEF_TOTAL_MS		2500
#define DEF_MAX_PENDING		4096
#define DEF_TCP_IDLE_MS		10000
#define DEF_MAX_TCP_CLIENTS	256
#define MAX_PENDING_LIMIT	(1u << 20)
#define MAX_TCP_CLIENTS_LIMIT	65536
#define POLL_EVENTS		64
/* Datagrams read from one socket per event: enough to get past a few
 * forged ones without letting one socket hog the loop. */
#define UDP_RECV_BURST		16
#define QUERY_MAX		(UP_QWIRE_MAX + HD_DNS_OPT_LEN)

socklen_t
up_sockaddr_len(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (ss->ss_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

static uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port;
}

static int
params_fill(struct hd_upstream_params *p)
{
	unsigned int i;

	if (p->n_servers == 0 || p->n_servers > HD_UPSTREAM_MAX ||
	    p->n_listen > HD_UPSTREAM_LISTEN_MAX || p->done == NULL ||
	    p->n_zones > HD_UPSTREAM_ZONES_MAX || (unsigned int)p->strategy > HD_UPSTREAM_PARALLEL)
		return -EINVAL;
	if (p->attempt_ms == 0)
		p->attempt_ms = DEF_ATTEMPT_MS;
	if (p->total_ms == 0)
		p->total_ms = p->attempt_ms > DEF_TOTAL_MS ? p->attempt_ms : DEF_TOTAL_MS;
	if (p->max_pending == 0)
		p->max_pending = DEF_MAX_PENDING;
	if (p->tcp_idle_ms == 0)
		p->tcp_idle_ms = DEF_TCP_IDLE_MS;
	if (p->max_tcp_clients == 0)
		p->max_tcp_clients = DEF_MAX_TCP_CLIENTS;
	if (p->total_ms < p->attempt_ms || p->total_ms > INT_MAX ||
	    p->max_pending > MAX_PENDING_LIMIT || p->max_tcp_clients > MAX_TCP_CLIENTS_LIMIT)
		return -EINVAL;
	for (i = 0; i < p->n_servers; i++)
		if (up_sockaddr_len(&p->servers[i]) == 0 || sockaddr_port(&p->servers[i]) == 0 ||
		    p->opts[i].group > p->n_zones ||
		    memchr(p->opts[i].tls_name, 0, sizeof(p->opts[i].tls_name)) == NULL)
			return -EINVAL;
	for (i = 0; i < p->n_listen; i++)
		if (up_sockaddr_len(&p->listen[i]) == 0)
			return -EINVAL;
	return 0;
}

/*
 * Every attempt holds a socket, and a raced request two, so max_pending
 * requests need twice as many descriptors; the usual soft limit of 1024 would turn load into SERVFAIL.
 */
static void
raise_fd_limit(const struct hd_upstream_params *p)
{
	rlim_t need = (rlim_t)p->max_pending * 2 + (p->n_listen ? p->max_tcp_clients : 0) + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
		HD_UPSTREAM_LOG(WARNING, "open files limit %llu is below the %llu that %u pending requests need",
				(unsigned long long)rl.rlim_cur, (unsigned long long)need,
				p->max_pending);
}

int
up_random_id(struct hd_upstream *u, uint16_t *id)
{
	if (u->rnd_pos + sizeof(*id) > sizeof(u->rnd)) {
		/* Up to 256 bytes getrandom() never returns short once the
		 * pool is initialised; anything else is a failure. */
		ssize_t n = getrandom(u->rnd, sizeof(u->rnd), 0);

		if (n < 0)
			return -errno;
		if (n != (ssize_t)sizeof(u->rnd))
			return -EIO;
		u->rnd_pos = 0;
	}
	memcpy(id, u->rnd + u->rnd_pos, sizeof(*id));
	u->rnd_pos += sizeof(*id);
	return 0;
}

void
up_count_rcode(struct hd_upstream *u, int rcode)
{
	switch (rcode) {
	case HD_DNS_RCODE_SERVFAIL:
		hd_stats_inc(u->stats, HD_STAT_servfail);
		break;
	case HD_DNS_RCODE_FORMERR:
		hd_stats_inc(u->stats, HD_STAT_formerr);
		break;
	case HD_DNS_RCODE_NOTIMPL:
		hd_stats_inc(u->stats, HD_STAT_notimpl);
		break;
	case HD_DNS_RCODE_REFUSED:
		hd_stats_inc(u->stats, HD_STAT_refused);
		break;
	case HD_DNS_RCODE_BADVERS:
		hd_stats_inc(u->stats, HD_STAT_badvers);
		break;
	default:
		break;
	}
}


/* --- timers ---------------------------------------------------------------- */

static void
timer_arm(struct hd_upstream *u, struct up_att *a, uint64_t deadline)
{
	struct up_att *it;

	a->deadline_ms = deadline;
	a->armed = 1;
	TAILQ_FOREACH_REVERSE(it, &u->timers, up_att_list, timer) {
		if (it->deadline_ms <= deadline) {
			TAILQ_INSERT_AFTER(&u->timers, it, a, timer);
			return;
		}
	}
	TAILQ_INSERT_HEAD(&u->timers, a, timer);
}

static void
timer_disarm(struct hd_upstream *u, struct up_att *a)
{
	if (!a->armed)
		return;
	TAILQ_REMOVE(&u->timers, a, timer);
	a->armed = 0;
}

/* --- attempts ------------------------------------------------------------- */

static struct up_att *
att_get(struct hd_upstream *u)
{
	struct up_att *a;

	if (u->n_free_atts == 0)
		return NULL;
	a = &u->atts[u->free_atts[--u->n_free_atts]];
	a->used = 1;
	a->fd = -1;
	a->tbuf = NULL;
	a->state = UP_ATT_IDLE;
	a->req = UP_NONE;
	return a;
}

/* Close the attempt's socket or leave its DoT connection. Idempotent. */
static void
att_close(struct hd_upstream *u, struct up_att *a)
{
	timer_disarm(u, a);
	if (a->state == UP_ATT_TLS)
		up_dot_attempt_end(u, a);
	if (a->fd >= 0) {
		close(a->fd);	/* also leaves the epoll set */
		a->fd = -1;
	}
	/* Events already returned for this attempt in the current batch
	 * now carry a stale generation and are skipped. */
	a->gen++;
	free(a->tbuf);
	a->tbuf = NULL;
	a->state = UP_ATT_IDLE;
}

static void
att_put(struct hd_upstream *u, struct up_att *a)
{
	att_close(u, a);
	if (a->orphan) {
		a->orphan = 0;
		u->n_orphans--;
	}
	a->used = 0;
	a->req = UP_NONE;
	u->free_atts[u->n_free_atts++] = a->idx;
}

static unsigned int
in_flight(const struct up_req *r)
{
	return (r->att[0] != UP_NONE) + (r->att[1] != UP_NONE);
}

static void
att_detach(struct up_req *r, const struct up_att *a)
{
	if (r->att[0] == a->idx)
		r->att[0] = UP_NONE;
	else if (r->att[1] == a->idx)
		r->att[1] = UP_NONE;
}

static int
udp_attempt_start(struct hd_upstream *u, struct up_att *a)
{
	const struct up_server *s = &u->servers[a->server];
	uint8_t msg[QUERY_MAX];
	struct epoll_event ev;
	int fd, len, rc;

	rc = up_random_id(u, &a->id);
	if (rc < 0)
		return rc;
	len = hd_dns_query_write(msg, sizeof(msg), &a->q, a->id);
	if (len < 0)
		return len;
	fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addr_len) != 0 ||
	    send(fd, msg, len, 0) != len)
		goto fail;
	ev.events = EPOLLIN;
	ev.data.u64 = up_ev_pack(UP_EV_ATT, a->gen, a->idx);
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	a->fd = fd;
	a->state = UP_ATT_UDP;
	return 0;
fail:
	rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

static void
attempt_sent(struct hd_upstream *u, struct up_att *a, uint64_t now, uint64_t timeout)
{
	hd_stats_inc(u->stats, HD_STAT_upstream_queries);
	u->servers[a->server].st.queries++;
	a->sent_ms = now;
	timer_arm(u, a, now + timeout);
}

static void
server_failed(struct hd_upstream *u, unsigned int i, uint64_t now)
{
	struct up_server *s = &u->servers[i];
	struct up_health *h = &u->health[i];
	uint8_t was_down = h->down;

	s->st.failures++;
	up_health_fail(h, now);
	if (h->down && !was_down) {
		char name[INET6_ADDRSTRLEN + 8] = "?";

		if (s->addr.ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)&s->addr)->sin_addr,
				  name, sizeof(name));
		else
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)&s->addr)->sin6_addr,
				  name, sizeof(name));
		HD_UPSTREAM_LOG(WARNING, "server %u (%s) down after %u failures in a row", i, name,
				HD_UPSTREAM_FAIL_LIMIT);
	}
}

static void
server_ok(struct hd_upstream *u, unsigned int i, uint64_t rtt)
{
	if (u->health[i].down)
		HD_UPSTREAM_LOG(INFO, "server %u answers again", i);
	up_health_ok(&u->health[i], rtt);
}

/* --- requests -------------------------------------------------------------- */

static uint32_t
key_hash(const struct hd_upstream *u, const struct hd_cache_key *k)
{
	return rte_jhash(k, sizeof(*k), 0x48d5u) & u->hash_mask;
}

static void
req_unhash(struct hd_upstream *u, struct up_req *r)
{
	uint32_t *link;

	if (!r->hashed)
		return;
	link = &u->hash[key_hash(u, &r->key)];
	while (*link != UP_NONE && *link != r->idx)
		link = &u->reqs[*link].hnext;
	if (*link == r->idx)
		*link = r->hnext;
	r->hashed = 0;
}

/* The newest outstanding request for @p k (the first on its chain). */
static struct up_req *
req_find(struct hd_upstream *u, const struct hd_cache_key *k)
{
	uint32_t i = u->hash[key_hash(u, k)];

	for (; i != UP_NONE; i = u->reqs[i].hnext)
		if (memcmp(&u->reqs[i].key, k, sizeof(*k)) == 0)
			return &u->reqs[i];
	return NULL;
}

static void
waiter_add(struct hd_upstream *u, struct up_req *r, struct up_waiter *w)
{
	w->next = UP_NONE;
	if (r->waiters == UP_NONE)
		r->waiters = w->idx;
	else
		u->waiters[r->wtail].next = w->idx;
	r->wtail = w->idx;
	r->n_waiters++;
}

struct up_waiter *
up_waiter_get(struct hd_upstream *u)
{
	struct up_waiter *w;

	if (u->n_free_waiters == 0)
		return NULL;
	w = &u->waiters[u->free_waiters[--u->n_free_waiters]];
	w->used = 1;
	w->internal = 0;
	w->client = NULL;
	w->next = UP_NONE;
	return w;
}

void
up_waiter_put(struct hd_upstream *u, struct up_waiter *w)
{
	w->used = 0;
	w->client = NULL;
	u->free_waiters[u->n_free_waiters++] = w->idx;
}

/*
 * A raced attempt still running when its request ends: a UDP or DoT one
 * waits on alone for its reply (counted as lost, RTT kept) while orphans
 * are fewer than max_pending; anything else is closed.
 */
static void
att_abandon(struct hd_upstream *u, struct up_att *a)
{
	a->req = UP_NONE;
	if ((a->state == UP_ATT_UDP || a->state == UP_ATT_TLS) &&
	    u->n_orphans < u->p.max_pending) {
		a->orphan = 1;
		u->n_orphans++;
		return;
	}
	att_put(u, a);
}

/* Tell every waiting client and free the request. */
static void
req_finish(struct hd_upstream *u, struct up_req *r, const struct hd_dns_answer *ans, int rcode)
{
	uint32_t i, next;
	unsigned int k;

	req_unhash(u, r);
	for (k = 0; k < 2; k++) {
		if (r->att[k] != UP_NONE) {
			struct up_att *a = &u->atts[r->att[k]];

			r->att[k] = UP_NONE;
			att_abandon(u, a);
		}
	}
	for (i = r->waiters; i != UP_NONE; i = next) {
		struct up_waiter *w = &u->waiters[i];

		next = w->next;
		if (w->internal)
			up_conn_request_done(u, w, ans, rcode);
		else
			u->p.done(u->p.done_arg, w->client, &w->q, ans, rcode);
		up_waiter_put(u, w);
	}
	r->waiters = UP_NONE;
	r->n_waiters = 0;
	r->used = 0;
	u->free_reqs[u->n_free_reqs++] = r->idx;
}

static uint64_t
req_end(const struct hd_upstream *u, const struct up_req *r)
{
	return r->start_ms + u->p.total_ms;
}

static int
att_start(struct hd_upstream *u, struct up_req *r, struct up_att *a, unsigned int server)
{
	a->q = r->q;
	a->server = (uint8_t)server;
	a->req = r->idx;
	if (u->servers[server].tls != NULL)
		return up_dot_attempt_start(u, a);
	return udp_attempt_start(u, a);
}

/*
 * Keep r->width attempts running, each on the next server of the request's
 * order, while the budget and the attempt count allow; a request with no
 * attempt left ends with the rcode an upstream relayed, or SERVFAIL. The
 * count bound keeps a server that refuses at once (ICMP port unreachable)
 * from being asked in a tight loop for the whole budget.
 */
static void
req_fill(struct hd_upstream *u, struct up_req *r)
{
	uint64_t now = hd_clock_ms(), end = req_end(u, r), timeout;
	unsigned int server, untried, slot;
	struct up_att *a;
	int rc;

	while (in_flight(r) < r->width && r->next < r->n_order + u->max_attempts && now < end) {
		server = r->order[r->next % r->n_order];
		untried = r->next < r->n_order ? r->n_order - r->next : 1;
		timeout = up_attempt_timeout(u->p.attempt_ms, end - now, untried);
		r->next++;
		a = att_get(u);
		if (a == NULL)
			break;
		rc = att_start(u, r, a, server);
		if (rc < 0) {
			/* Could not even send (refused at once, no route). */
			server_failed(u, server, now);
			att_put(u, a);
			continue;
		}
		slot = r->att[0] == UP_NONE ? 0 : 1;
		r->att[slot] = a->idx;
		attempt_sent(u, a, now, timeout);
	}
	if (in_flight(r) == 0)
		req_finish(u, r, NULL, r->rcode ? r->rcode : HD_DNS_RCODE_SERVFAIL);
}

/* Start a new upstream question for waiter @p w. */
static void
req_new(struct hd_upstream *u, struct up_waiter *w, const struct hd_cache_key *k)
{
	struct up_req *r = &u->reqs[u->free_reqs[--u->n_free_reqs]];
	struct up_group *g;
	uint32_t b;

	r->used = 1;
	r->q = w->q;
	r->key = *k;
	r->waiters = UP_NONE;
	r->n_waiters = 0;
	waiter_add(u, r, w);
	r->att[0] = r->att[1] = UP_NONE;
	r->group = (uint8_t)up_zone_find(u->groups, u->n_groups, r->q.lname, r->q.qname_len);
	g = &u->groups[r->group];
	r->start_ms = hd_clock_ms();
	r->n_order = (uint8_t)up_group_order(g, u->health, r->start_ms, r->order);
	r->next = 0;
	r->rcode = 0;
	r->width = (uint8_t)up_group_width(g);
	/* Newest first on the chain: later duplicates join this one. */
	b = key_hash(u, k);
	r->hnext = u->hash[b];
	u->hash[b] = r->idx;
	r->hashed = 1;
	req_fill(u, r);
}

int
up_waiter_submit(struct hd_upstream *u, struct up_waiter *w)
{
	struct hd_cache_key k;
	struct up_req *r;

	hd_cache_key_from_query(&k, &w->q);
	r = req_find(u, &k);
	if (r != NULL && r->n_waiters < HD_UPSTREAM_WAITERS_MAX) {
		waiter_add(u, r, w);
		if (w->internal || u->p.refresh_client == NULL || w->client != u->p.refresh_client)
			hd_stats_inc(u->stats, HD_STAT_dedup_joined);
		return 0;
	}
	/* A request per waiter at most, so a slot is always free here. */
	req_new(u, w, &k);
	return 0;
}

/* The request of a live attempt; NULL for a raced loser. */
static struct up_req *
att_req(struct hd_upstream *u, const struct up_att *a)
{
	return a->req == UP_NONE ? NULL : &u->reqs[a->req];
}

/*
 * End attempt @p a without an answer (@p health: the server is to blame)
 * and let its request go on with the next server.
 */
void
up_att_failed(struct hd_upstream *u, struct up_att *a, int health)
{
	struct up_req *r = att_req(u, a);

	if (health)
		server_failed(u, a->server, hd_clock_ms());
	if (r != NULL)
		att_detach(r, a);
	att_put(u, a);
	if (r != NULL)
		req_fill(u, r);
}

static void
reject(struct hd_upstream *u, struct up_att *a)
{
	hd_stats_inc(u->stats, HD_STAT_upstream_rejected);
	u->servers[a->server].st.rejected++;
}

/* TC=1 over UDP: ask the same server again over TCP. */
static void
retry_tcp(struct hd_upstream *u, struct up_att *a)
{
	struct up_req *r = att_req(u, a);
	uint64_t now = hd_clock_ms(), t;

	att_close(u, a);
	if (r == NULL) {
		att_put(u, a);
		return;
	}
	if (up_tcp_attempt_start(u, a) != 0) {
		up_att_failed(u, a, 0);
		return;
	}
	hd_stats_inc(u->stats, HD_STAT_upstream_tcp);
	t = req_end(u, r) > now ? req_end(u, r) - now : 1;
	attempt_sent(u, a, now, t < u->p.attempt_ms ? t : u->p.attempt_ms);
}

static void
deliver_answer(struct hd_upstream *u, struct up_req *r, struct hd_dns_answer *ans)
{
	struct hd_cache_key key = r->key;	/* r is released by req_finish() */
	uint32_t now = ans->stored;

	/* Callbacks first: after insertion the entry belongs to the cache. */
	req_finish(u, r, ans, HD_DNS_RCODE_NOERROR);
	if (u->p.cache != NULL && ans->ttl > 0)
		(void)hd_cache_insert(u->p.cache, &key, ans, now);	/* owns @ans even on error */
	else
		free(ans);
}

/* An uncacheable rcode: another server may do better, else relay it. */
static void
relay_rcode(struct hd_upstream *u, struct up_att *a, const uint8_t *msg, size_t len)
{
	struct up_req *r = att_req(u, a);
	struct hd_wire w;
	int rcode;

	hd_wire_init(&w, (void *)(uintptr_t)msg, len);
	rcode = hd_wire_get_u16_at(&w, 2) & HD_DNS_RCODE_MASK;
	if (!hd_wire_ok(&w) || rcode == HD_DNS_RCODE_NOERROR)
		rcode = HD_DNS_RCODE_SERVFAIL;
	r->rcode = (uint8_t)rcode;
	/* REFUSED says the server will not serve us: a health failure. A
	 * SERVFAIL is its honest answer about this name. */
	if (rcode == HD_DNS_RCODE_REFUSED)
		server_failed(u, a->server, hd_clock_ms());
	att_detach(r, a);
	att_put(u, a);
	if (r->next < r->n_order)
		req_fill(u, r);		/* servers not asked yet */
	else if (in_flight(r) == 0)
		req_finish(u, r, NULL, rcode);
}

/*
 * A reply that matches the attempt's ID and question. @p msg may live in
 * the attempt's TCP buffer: it is not used after the attempt is closed.
 */
void
up_att_reply(struct hd_upstream *u, struct up_att *a, const uint8_t *msg, size_t len, int tcp)
{
	struct up_server *s = &u->servers[a->server];
	struct up_req *r = att_req(u, a);
	uint64_t now = hd_clock_ms();
	struct hd_dns_answer *ans;
	int err;

	if (r == NULL) {
		/* Second in a race: only the server's RTT and health matter. */
		hd_stats_inc(u->stats, HD_STAT_upstream_replies);
		s->st.replies++;
		s->st.race_lost++;
		server_ok(u, a->server, now - a->sent_ms);
		att_put(u, a);
		return;
	}
	if (!tcp && hd_dns_reply_truncated(msg, len)) {
		hd_stats_inc(u->stats, HD_STAT_upstream_replies);
		s->st.replies++;
		server_ok(u, a->server, now - a->sent_ms);
		retry_tcp(u, a);
		return;
	}
	ans = hd_dns_answer_build(msg, len, &a->q, hd_clock_sec(), &u->p.limits, &err);
	if (ans == NULL && err != -ENOTSUP && err != -ENOMEM) {
		/* -EBADMSG, -EPROTO: from the server's own address, port and
		 * ID, but broken; this server is no use for this question. */
		reject(u, a);
		up_att_failed(u, a, 1);
		return;
	}
	hd_stats_inc(u->stats, HD_STAT_upstream_replies);
	s->st.replies++;
	server_ok(u, a->server, now - a->sent_ms);
	if (err == -ENOTSUP) {
		relay_rcode(u, a, msg, len);
		return;
	}
	/* Done with this attempt (@msg is not read again): only a raced
	 * other one is left for req_finish() to abandon. */
	att_detach(r, a);
	att_put(u, a);
	if (ans != NULL)
		deliver_answer(u, r, ans);
	else
		req_finish(u, r, NULL, HD_DNS_RCODE_SERVFAIL);	/* out of memory */
}

static void
udp_event(struct hd_upstream *u, struct up_att *a)
{
	uint32_t gen = a->gen;
	unsigned int i;
	ssize_t n;

	for (i = 0; i < UDP_RECV_BURST && a->gen == gen && a->fd >= 0; i++) {
		n = recv(a->fd, u->rbuf, sizeof(u->rbuf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* ECONNREFUSED and the like: nobody serves there. */
			up_att_failed(u, a, 1);
			return;
		}
		/* Same address and port (connected socket), but anyone can
		 * forge those: the ID and question must match as well. */
		if (hd_dns_reply_matches(u->rbuf, (size_t)n, &a->q, a->id) != 0) {
			reject(u, a);
			continue;
		}
		up_att_reply(u, a, u->rbuf, (size_t)n, 0);
		return;
	}
}

static void
dispatch(struct hd_upstream *u, const struct epoll_event *ev)
{
	enum up_ev_kind kind = (enum up_ev_kind)(ev->data.u64 >> 56);
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32) & 0xffffff;
	uint32_t idx = (uint32_t)ev->data.u64;
	struct up_att *a;
	struct up_conn *c;

	switch (kind) {
	case UP_EV_LISTEN:
		if (idx < u->p.n_listen)
			up_listen_event(u, idx);
		break;
	case UP_EV_ATT:
		if (idx >= u->n_atts)
			break;
		a = &u->atts[idx];
		if ((a->gen & 0xffffff) != gen || a->fd < 0)
			break;
		if (a->state == UP_ATT_UDP)
			udp_event(u, a);
		else
			up_tcp_attempt_event(u, a, ev->events);
		break;
	case UP_EV_CONN:
		if (u->conns == NULL || idx >= u->p.max_tcp_clients)
			break;
		c = &u->conns[idx];
		if ((c->gen & 0xffffff) != gen || c->fd < 0)
			break;
		up_conn_event(u, c, ev->events);
		break;
	case UP_EV_TLS:
		if (idx < u->p.n_servers && u->servers[idx].tls != NULL)
			up_dot_event(u, idx, ev->events);
		break;
	}
}

static unsigned int
expire(struct hd_upstream *u, uint64_t now)
{
	unsigned int n = 0;
	struct up_att *a;

	while ((a = TAILQ_FIRST(&u->timers)) != NULL && a->deadline_ms <= now) {
		hd_stats_inc(u->stats, HD_STAT_upstream_timeouts);
		u->servers[a->server].st.timeouts++;
		/* Disarmed by the put; the request's next attempt (if any)
		 * has a deadline after now: the loop moves on. */
		up_att_failed(u, a, 1);
		n++;
	}
	return n;
}

static uint64_t
next_deadline(const struct hd_upstream *u)
{
	const struct up_att *a = TAILQ_FIRST(&u->timers);
	uint64_t next = up_conn_next_deadline(u), t = up_dot_next_deadline(u);

	if (a != NULL && a->deadline_ms < next)
		next = a->deadline_ms;
	return t < next ? t : next;
}

int
hd_upstream_poll(struct hd_upstream *u, int timeout_ms)
{
	struct epoll_event ev[POLL_EVENTS];
	uint64_t now, next;
	int wait = timeout_ms, n, i;

	if (u == NULL)
		return -EINVAL;
	now = hd_clock_ms();
	next = next_deadline(u);
	if (next != UINT64_MAX) {
		uint64_t d = next > now ? next - now : 0;

		if (wait < 0 || d < (uint64_t)wait)
			wait = (int)d;
	}
	n = epoll_wait(u->epfd, ev, POLL_EVENTS, wait);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	for (i = 0; i < n; i++)
		dispatch(u, &ev[i]);
	now = hd_clock_ms();
	up_dot_tick(u, now);
	n += (int)expire(u, now);
	n += (int)up_conn_expire(u, now);
	return n;
}

int
hd_upstream_resolve(struct hd_upstream *u, const struct hd_dns_query *q, void *client)
{
	struct up_waiter *w;

	if (u == NULL || q == NULL || q->qname_len == 0 || q->qname_len > HD_DNS_NAME_MAX)
		return -EINVAL;
	w = up_waiter_get(u);
	if (w == NULL)
		return -ENOBUFS;
	w->q = *q;
	w->client = client;
	return up_waiter_submit(u, w);
}

unsigned int
hd_upstream_pending(const struct hd_upstream *u)
{
	return u == NULL ? 0 : u->p.max_pending - u->n_free_waiters;
}

int
hd_upstream_server_stats(const struct hd_upstream *u, unsigned int i,
			 struct hd_upstream_server_stats *s)
{
	const struct up_health *h;

	if (u == NULL || s == NULL || i >= u->p.n_servers)
		return -ENOENT;
	h = &u->health[i];
	*s = u->servers[i].st;
	s->rtt_ms = h->rtt_ms;
	s->down = h->down;
	s->backoff_ms = h->down ? h->backoff_ms : 0;
	s->down_since_ms = h->down ? h->down_since_ms : 0;
	return 0;
}

unsigned int
hd_upstream_server_count(const struct hd_upstream *u)
{
	return u == NULL ? 0 : u->p.n_servers;
}

unsigned int
hd_upstream_group_of(const struct hd_upstream *u, const struct hd_dns_query *q)
{
	if (u == NULL || q == NULL)
		return 0;
	return up_zone_find(u->groups, u->n_groups, q->lname, q->qname_len);
}

static void *
zcalloc(size_t n, size_t size, int *ok)
{
	void *p = calloc(n, size);

	if (p == NULL)
		*ok = 0;
	return p;
}

static int
pools_alloc(struct hd_upstream *u)
{
	uint32_t i, n = u->p.max_pending, nh = 1;
	int ok = 1;

	/* Two attempts per raced request, and up to n raced losers. */
	u->n_atts = 3 * n;
	while (nh < n)
		nh <<= 1;
	u->waiters = zcalloc(n, sizeof(*u->waiters), &ok);
	u->free_waiters = zcalloc(n, sizeof(*u->free_waiters), &ok);
	u->reqs = zcalloc(n, sizeof(*u->reqs), &ok);
	u->free_reqs = zcalloc(n, sizeof(*u->free_reqs), &ok);
	u->hash = zcalloc(nh, sizeof(*u->hash), &ok);
	u->atts = zcalloc(u->n_atts, sizeof(*u->atts), &ok);
	u->free_atts = zcalloc(u->n_atts, sizeof(*u->free_atts), &ok);
	u->conns = zcalloc(u->p.max_tcp_clients, sizeof(*u->conns), &ok);
	u->free_conns = zcalloc(u->p.max_tcp_clients, sizeof(*u->free_conns), &ok);
	if (!ok) {
		/* Zeroed client slots would look like fd 0 to hd_upstream_free(). */
		free(u->conns);
		u->conns = NULL;
		return -ENOMEM;
	}
	u->hash_mask = nh - 1;
	for (i = 0; i < nh; i++)
		u->hash[i] = UP_NONE;
	/* Stacks hand out slot 0 first. */
	for (i = 0; i < n; i++) {
		u->waiters[i].idx = i;
		u->free_waiters[i] = n - 1 - i;
		u->reqs[i].idx = i;
		u->reqs[i].waiters = UP_NONE;
		u->reqs[i].att[0] = u->reqs[i].att[1] = UP_NONE;
		u->free_reqs[i] = n - 1 - i;
	}
	u->n_free_waiters = n;
	u->n_free_reqs = n;
	for (i = 0; i < u->n_atts; i++) {
		u->atts[i].idx = i;
		u->atts[i].fd = -1;
		u->atts[i].req = UP_NONE;
		u->free_atts[i] = u->n_atts - 1 - i;
	}
	u->n_free_atts = u->n_atts;
	for (i = 0; i < u->p.max_tcp_clients; i++) {
		u->conns[i].idx = i;
		u->conns[i].fd = -1;
		u->free_conns[i] = u->p.max_tcp_clients - 1 - i;
	}
	u->n_free_conns = u->p.max_tcp_clients;
	return 0;
}

/* Groups: the default servers, then one per zone, each in params order. */
static int
groups_build(struct hd_upstream *u)
{
	unsigned int i, z;
	int len;

	u->n_groups = 1 + u->p.n_zones;
	for (z = 0; z < u->n_groups; z++)
		u->groups[z].strategy = (uint8_t)u->p.strategy;
	for (z = 0; z < u->p.n_zones; z++) {
		struct up_group *g = &u->groups[z + 1];

		len = hd_dns_name_from_str(u->p.zones[z].domain, g->zone);
		if (len < 2) {
			/* The root as a zone would be the default group again. */
			HD_UPSTREAM_LOG(ERR, "forward zone \"%s\" is not a domain name",
					u->p.zones[z].domain);
			return -EINVAL;
		}
		hd_dns_name_lower(g->zone, (size_t)len);
		g->zone_len = (uint8_t)len;
	}
	for (i = 0; i < u->p.n_servers; i++) {
		struct up_group *g = &u->groups[u->p.opts[i].group];

		if (g->n == HD_UPSTREAM_GROUP_MAX)
			return -EINVAL;
		g->servers[g->n++] = (uint8_t)i;
	}
	for (z = 0; z < u->n_groups; z++)
		if (u->groups[z].n == 0)
			return -EINVAL;
	return 0;
}

struct hd_upstream *
hd_upstream_create(const struct hd_upstream_params *p)
{
	struct hd_upstream *u;
	unsigned int i;
	int rc;

	if (p == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	u->epfd = -1;
	for (i = 0; i < HD_UPSTREAM_LISTEN_MAX; i++)
		u->listen_fd[i] = -1;
	TAILQ_INIT(&u->timers);
	TAILQ_INIT(&u->conns_idle);
	u->p = *p;
	rc = params_fill(&u->p);
	if (rc == 0)
		rc = groups_build(u);
	if (rc < 0)
		goto fail;
	u->stats = u->p.stats != NULL ? u->p.stats : hd_stats_self();
	/* Beyond one try per server: as many rounds as full attempts fit. */
	u->max_attempts = u->p.total_ms / u->p.attempt_ms;
	if (u->max_attempts > UINT8_MAX - HD_UPSTREAM_GROUP_MAX)
		u->max_attempts = UINT8_MAX - HD_UPSTREAM_GROUP_MAX;
	u->rnd_pos = sizeof(u->rnd);
	for (i = 0; i < u->p.n_servers; i++) {
		u->servers[i].addr = u->p.servers[i];
		u->servers[i].addr_len = up_sockaddr_len(&u->p.servers[i]);
		u->servers[i].u = u;
		u->servers[i].idx = i;
		TAILQ_INIT(&u->servers[i].tls_atts);
	}
	rc = pools_alloc(u);
	if (rc < 0)
		goto fail;
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = up_dot_open(u);
	if (rc < 0)
		goto fail;
	rc = up_listen_open(u);
	if (rc < 0)
		goto fail;
	raise_fd_limit(&u->p);
	HD_UPSTREAM_LOG(INFO, "%u server(s) in %u group(s), %u TCP listener(s), attempt %u ms, budget %u ms",
			u->p.n_servers, u->n_groups, u->p.n_listen, u->p.attempt_ms, u->p.total_ms);
	return u;
fail:
	hd_upstream_free(u);
	rte_errno = -rc;
	return NULL;
}

void
hd_upstream_free(struct hd_upstream *u)
{
	unsigned int i;

	if (u == NULL)
		return;
	/* Clients first, so internal requests find their connection gone. */
	if (u->conns != NULL)
		up_conn_close_all(u);
	if (u->reqs != NULL && u->waiters != NULL && u->atts != NULL)
		for (i = 0; i < u->p.max_pending; i++)
			if (u->reqs[i].used)
				req_finish(u, &u->reqs[i], NULL, HD_DNS_RCODE_SERVFAIL);
	if (u->atts != NULL)
		for (i = 0; i < u->n_atts; i++)
			if (u->atts[i].used)
				att_put(u, &u->atts[i]);
	up_dot_close(u);
	for (i = 0; i < HD_UPSTREAM_LISTEN_MAX; i++)
		if (u->listen_fd[i] >= 0)
			close(u->listen_fd[i]);
	if (u->epfd >= 0)
		close(u->epfd);
	free(u->free_conns);
	free(u->conns);
	free(u->free_atts);
	free(u->atts);
	free(u->hash);
	free(u->free_reqs);
	free(u->reqs);
	free(u->free_waiters);
	free(u->waiters);
	free(u);
}
