/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests, UDP attempts, timeouts and the event loop.
 *
 * Each attempt gets its own connected UDP socket: connect() makes the
 * kernel choose a random ephemeral source port and drop datagrams from any
 * address or port but the server's, so a spoofer has to guess the port and
 * the 16-bit ID. Attempts all time out after the same attempt_ms (cut short
 * by the request's budget), so the timer is a list kept in deadline order,
 * where an insertion nearly always lands at the tail.
 */
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
	    p->n_listen > HD_UPSTREAM_LISTEN_MAX || p->done == NULL)
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
		if (up_sockaddr_len(&p->servers[i]) == 0 || sockaddr_port(&p->servers[i]) == 0)
			return -EINVAL;
	for (i = 0; i < p->n_listen; i++)
		if (up_sockaddr_len(&p->listen[i]) == 0)
			return -EINVAL;
	return 0;
}

/*
 * Every attempt holds a socket, so max_pending requests need as many
 * descriptors; the usual soft limit of 1024 would turn load into SERVFAIL.
 */
static void
raise_fd_limit(const struct hd_upstream_params *p)
{
	rlim_t need = (rlim_t)p->max_pending + (p->n_listen ? p->max_tcp_clients : 0) + 256;
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

static void
timer_arm(struct hd_upstream *u, struct up_req *r, uint64_t deadline)
{
	struct up_req *it;

	r->deadline_ms = deadline;
	r->armed = 1;
	TAILQ_FOREACH_REVERSE(it, &u->timers, up_req_list, timer) {
		if (it->deadline_ms <= deadline) {
			TAILQ_INSERT_AFTER(&u->timers, it, r, timer);
			return;
		}
	}
	TAILQ_INSERT_HEAD(&u->timers, r, timer);
}

static void
timer_disarm(struct hd_upstream *u, struct up_req *r)
{
	if (!r->armed)
		return;
	TAILQ_REMOVE(&u->timers, r, timer);
	r->armed = 0;
}

/* The deadline of an attempt starting at @p now. */
static uint64_t
attempt_deadline(const struct hd_upstream *u, const struct up_req *r, uint64_t now)
{
	uint64_t end = r->start_ms + u->p.total_ms;
	uint64_t d = now + u->p.attempt_ms;

	return d < end ? d : end;
}

/* End the running attempt; the request itself stays. Idempotent. */
static void
attempt_close(struct hd_upstream *u, struct up_req *r)
{
	timer_disarm(u, r);
	if (r->fd >= 0) {
		close(r->fd);	/* also leaves the epoll set */
		r->fd = -1;
		/* Events already returned for this socket in the current
		 * batch now carry a stale generation and are skipped. */
		r->gen++;
	}
	free(r->tbuf);
	r->tbuf = NULL;
	r->state = UP_REQ_IDLE;
}

struct up_req *
up_req_get(struct hd_upstream *u)
{
	struct up_req *r;

	if (u->n_free == 0)
		return NULL;
	r = &u->reqs[u->free_reqs[--u->n_free]];
	r->attempts = 0;
	r->server = 0;
	r->internal = 0;
	r->client = NULL;
	r->used = 1;
	return r;
}

static void
req_release(struct hd_upstream *u, struct up_req *r)
{
	r->used = 0;
	r->client = NULL;
	u->free_reqs[u->n_free++] = r->idx;
}

/* Tell the requester and free the slot. */
static void
req_finish(struct hd_upstream *u, struct up_req *r, const struct hd_dns_answer *a, int rcode)
{
	attempt_close(u, r);
	if (r->internal)
		up_conn_request_done(u, r, a, rcode);
	else
		u->p.done(u->p.done_arg, r->client, &r->q, a, rcode);
	req_release(u, r);
}

static int
udp_attempt_start(struct hd_upstream *u, struct up_req *r)
{
	const struct up_server *s = &u->servers[r->server];
	uint8_t msg[QUERY_MAX];
	struct epoll_event ev;
	int fd, len, rc;

	rc = up_random_id(u, &r->id);
	if (rc < 0)
		return rc;
	len = hd_dns_query_write(msg, sizeof(msg), &r->q, r->id);
	if (len < 0)
		return len;
	fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addr_len) != 0 ||
	    send(fd, msg, len, 0) != len)
		goto fail;
	ev.events = EPOLLIN;
	ev.data.u64 = up_ev_pack(UP_EV_REQ, r->gen, r->idx);
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	r->fd = fd;
	r->state = UP_REQ_UDP;
	return 0;
fail:
	rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

static void
attempt_sent(struct hd_upstream *u, struct up_req *r, uint64_t now)
{
	hd_stats_inc(u->stats, HD_STAT_upstream_queries);
	u->servers[r->server].st.queries++;
	r->sent_ms = now;
	timer_arm(u, r, attempt_deadline(u, r, now));
}

/*
 * Start attempts (the next server each time) until one is on its way, or
 * give SERVFAIL when the budget or the attempt count is spent. The count
 * bound keeps a server that refuses at once (ICMP port unreachable) from
 * being asked in a tight loop for the whole budget.
 */
static void
attempt_next(struct hd_upstream *u, struct up_req *r, int first)
{
	uint64_t now = hd_clock_ms();

	while (r->attempts < u->max_attempts && now < r->start_ms + u->p.total_ms) {
		if (!first)
			r->server = (r->server + 1) % u->p.n_servers;
		first = 0;
		r->attempts++;
		if (udp_attempt_start(u, r) == 0) {
			attempt_sent(u, r, now);
			return;
		}
	}
	req_finish(u, r, NULL, HD_DNS_RCODE_SERVFAIL);
}

void
up_req_start(struct hd_upstream *u, struct up_req *r)
{
	r->start_ms = hd_clock_ms();
	r->fd = -1;
	r->tbuf = NULL;
	attempt_next(u, r, 1);
}

void
up_req_attempt_failed(struct hd_upstream *u, struct up_req *r)
{
	attempt_close(u, r);
	attempt_next(u, r, 0);
}

static void
server_rtt(struct up_server *s, uint64_t sample)
{
	if (sample > UINT32_MAX)
		sample = UINT32_MAX;
	if (!s->rtt_valid) {
		s->st.rtt_ms = (uint32_t)sample;
		s->rtt_valid = 1;
		return;
	}
	/* EWMA with weight 1/8, as TCP's SRTT. */
	s->st.rtt_ms = (uint32_t)(((uint64_t)s->st.rtt_ms * 7 + sample) / 8);
}

static void
reject(struct hd_upstream *u, struct up_req *r)
{
	hd_stats_inc(u->stats, HD_STAT_upstream_rejected);
	u->servers[r->server].st.rejected++;
}

/* TC=1 over UDP: ask the same server again over TCP. */
static void
retry_tcp(struct hd_upstream *u, struct up_req *r)
{
	attempt_close(u, r);
	if (up_tcp_attempt_start(u, r) != 0) {
		up_req_attempt_failed(u, r);
		return;
	}
	hd_stats_inc(u->stats, HD_STAT_upstream_tcp);
	attempt_sent(u, r, hd_clock_ms());
}

static void
deliver_answer(struct hd_upstream *u, struct up_req *r, struct hd_dns_answer *a)
{
	struct hd_cache_key key;
	uint32_t now = a->stored;

	/* The key is taken before req_finish() releases the request. */
	hd_cache_key_from_query(&key, &r->q);
	/* Callback first: after insertion the entry belongs to the cache. */
	req_finish(u, r, a, HD_DNS_RCODE_NOERROR);
	if (u->p.cache != NULL && a->ttl > 0)
		(void)hd_cache_insert(u->p.cache, &key, a, now);	/* owns @a even on error */
	else
		free(a);
}

/*
 * A reply that matches the attempt's ID and question. @p msg may live in
 * the request's TCP buffer: it is not used after the request is finished
 * or the attempt closed.
 */
void
up_req_reply(struct hd_upstream *u, struct up_req *r, const uint8_t *msg, size_t len, int tcp)
{
	struct up_server *s = &u->servers[r->server];
	struct hd_dns_answer *a;
	struct hd_wire w;
	int err, rcode;

	if (!tcp && hd_dns_reply_truncated(msg, len)) {
		hd_stats_inc(u->stats, HD_STAT_upstream_replies);
		s->st.replies++;
		server_rtt(s, hd_clock_ms() - r->sent_ms);
		retry_tcp(u, r);
		return;
	}
	a = hd_dns_answer_build(msg, len, &r->q, hd_clock_sec(), &u->p.limits, &err);
	if (a == NULL && err != -ENOTSUP && err != -ENOMEM) {
		/* -EBADMSG, -EPROTO: from the server's own address, port and
		 * ID, but broken; this server is no use for this question. */
		reject(u, r);
		up_req_attempt_failed(u, r);
		return;
	}
	hd_stats_inc(u->stats, HD_STAT_upstream_replies);
	s->st.replies++;
	server_rtt(s, hd_clock_ms() - r->sent_ms);
	if (a != NULL) {
		deliver_answer(u, r, a);
		return;
	}
	rcode = HD_DNS_RCODE_SERVFAIL;
	if (err == -ENOTSUP) {
		/* Relay the upstream's rcode (REFUSED, SERVFAIL, ...). */
		hd_wire_init(&w, (void *)(uintptr_t)msg, len);
		rcode = hd_wire_get_u16_at(&w, 2) & HD_DNS_RCODE_MASK;
		if (!hd_wire_ok(&w) || rcode == HD_DNS_RCODE_NOERROR)
			rcode = HD_DNS_RCODE_SERVFAIL;
	}
	req_finish(u, r, NULL, rcode);
}

static void
udp_event(struct hd_upstream *u, struct up_req *r)
{
	unsigned int i;
	ssize_t n;

	for (i = 0; i < UDP_RECV_BURST; i++) {
		n = recv(r->fd, u->rbuf, sizeof(u->rbuf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* ECONNREFUSED and the like: nobody serves there. */
			up_req_attempt_failed(u, r);
			return;
		}
		/* Same address and port (connected socket), but anyone can
		 * forge those: the ID and question must match as well. */
		if (hd_dns_reply_matches(u->rbuf, (size_t)n, &r->q, r->id) != 0) {
			reject(u, r);
			continue;
		}
		up_req_reply(u, r, u->rbuf, (size_t)n, 0);
		return;
	}
}

static void
dispatch(struct hd_upstream *u, const struct epoll_event *ev)
{
	enum up_ev_kind kind = (enum up_ev_kind)(ev->data.u64 >> 56);
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32) & 0xffffff;
	uint32_t idx = (uint32_t)ev->data.u64;
	struct up_req *r;
	struct up_conn *c;

	switch (kind) {
	case UP_EV_LISTEN:
		if (idx < u->p.n_listen)
			up_listen_event(u, idx);
		break;
	case UP_EV_REQ:
		if (idx >= u->p.max_pending)
			break;
		r = &u->reqs[idx];
		if ((r->gen & 0xffffff) != gen || r->fd < 0)
			break;
		if (r->state == UP_REQ_UDP)
			udp_event(u, r);
		else
			up_tcp_attempt_event(u, r, ev->events);
		break;
	case UP_EV_CONN:
		if (u->conns == NULL || idx >= u->p.max_tcp_clients)
			break;
		c = &u->conns[idx];
		if ((c->gen & 0xffffff) != gen || c->fd < 0)
			break;
		up_conn_event(u, c, ev->events);
		break;
	}
}

static unsigned int
expire(struct hd_upstream *u, uint64_t now)
{
	unsigned int n = 0;
	struct up_req *r;

	while ((r = TAILQ_FIRST(&u->timers)) != NULL && r->deadline_ms <= now) {
		hd_stats_inc(u->stats, HD_STAT_upstream_timeouts);
		u->servers[r->server].st.timeouts++;
		/* The next attempt's deadline is later than now, or the
		 * request ends: either way the loop moves on. */
		up_req_attempt_failed(u, r);
		n++;
	}
	return n;
}

static uint64_t
next_deadline(const struct hd_upstream *u)
{
	const struct up_req *r = TAILQ_FIRST(&u->timers);
	uint64_t next = up_conn_next_deadline(u);

	if (r != NULL && r->deadline_ms < next)
		next = r->deadline_ms;
	return next;
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
	n += (int)expire(u, now);
	n += (int)up_conn_expire(u, now);
	return n;
}

int
hd_upstream_resolve(struct hd_upstream *u, const struct hd_dns_query *q, void *client)
{
	struct up_req *r;

	if (u == NULL || q == NULL || q->qname_len == 0 || q->qname_len > HD_DNS_NAME_MAX)
		return -EINVAL;
	r = up_req_get(u);
	if (r == NULL)
		return -ENOBUFS;
	r->q = *q;
	r->client = client;
	up_req_start(u, r);
	return 0;
}

unsigned int
hd_upstream_pending(const struct hd_upstream *u)
{
	return u == NULL ? 0 : u->p.max_pending - u->n_free;
}

int
hd_upstream_server_stats(const struct hd_upstream *u, unsigned int i,
			 struct hd_upstream_server_stats *s)
{
	if (u == NULL || s == NULL || i >= u->p.n_servers)
		return -ENOENT;
	*s = u->servers[i].st;
	return 0;
}

static int
pools_alloc(struct hd_upstream *u)
{
	uint32_t i, n = u->p.max_pending;

	u->reqs = calloc(n, sizeof(*u->reqs));
	u->free_reqs = calloc(n, sizeof(*u->free_reqs));
	u->conns = calloc(u->p.max_tcp_clients, sizeof(*u->conns));
	u->free_conns = calloc(u->p.max_tcp_clients, sizeof(*u->free_conns));
	if (u->reqs == NULL || u->free_reqs == NULL || u->conns == NULL || u->free_conns == NULL) {
		/* Not left for hd_upstream_free(): zeroed slots look like fd 0. */
		free(u->reqs);
		free(u->free_reqs);
		free(u->conns);
		free(u->free_conns);
		u->reqs = NULL;
		u->free_reqs = NULL;
		u->conns = NULL;
		u->free_conns = NULL;
		return -ENOMEM;
	}
	/* Stacks hand out slot 0 first. */
	for (i = 0; i < n; i++) {
		u->reqs[i].idx = i;
		u->reqs[i].fd = -1;
		u->free_reqs[i] = n - 1 - i;
	}
	u->n_free = n;
	for (i = 0; i < u->p.max_tcp_clients; i++) {
		u->conns[i].idx = i;
		u->conns[i].fd = -1;
		u->free_conns[i] = u->p.max_tcp_clients - 1 - i;
	}
	u->n_free_conns = u->p.max_tcp_clients;
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
	if (rc < 0)
		goto fail;
	u->stats = u->p.stats != NULL ? u->p.stats : hd_stats_self();
	u->max_attempts = u->p.n_servers + u->p.total_ms / u->p.attempt_ms;
	if (u->max_attempts > UINT8_MAX)
		u->max_attempts = UINT8_MAX;
	u->rnd_pos = sizeof(u->rnd);
	for (i = 0; i < u->p.n_servers; i++) {
		u->servers[i].addr = u->p.servers[i];
		u->servers[i].addr_len = up_sockaddr_len(&u->p.servers[i]);
	}
	rc = pools_alloc(u);
	if (rc < 0)
		goto fail;
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = up_listen_open(u);
	if (rc < 0)
		goto fail;
	raise_fd_limit(&u->p);
	HD_UPSTREAM_LOG(INFO, "%u server(s), %u TCP listener(s), attempt %u ms, budget %u ms",
			u->p.n_servers, u->p.n_listen, u->p.attempt_ms, u->p.total_ms);
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
	if (u->reqs != NULL)
		for (i = 0; i < u->p.max_pending; i++)
			if (u->reqs[i].used)
				req_finish(u, &u->reqs[i], NULL, HD_DNS_RCODE_SERVFAIL);
	for (i = 0; i < HD_UPSTREAM_LISTEN_MAX; i++)
		if (u->listen_fd[i] >= 0)
			close(u->listen_fd[i]);
	if (u->epfd >= 0)
		close(u->epfd);
	free(u->free_conns);
	free(u->conns);
	free(u->free_reqs);
	free(u->reqs);
	free(u);
}
