/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over TCP, both ways: the upstream attempt that follows a TC=1 reply,
 * and the listener that serves clients (RFC 7766: length-framed messages,
 * several per connection, pipelined, answered as they complete).
 *
 * Nothing blocks: sockets are non-blocking, a client's input is kept until
 * a whole message is there, and replies the client has not read yet wait
 * in a per-connection output buffer. A client that sends faster than it
 * reads stops being read (UP_TCP_PIPELINE, UP_TCP_OUT_HIGH), so its cost
 * is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "hd_clock.h"
#include "upstream_private.h"

#define LISTEN_BACKLOG		128
#define ACCEPT_BURST		32
/* After EMFILE/ENFILE the pending connection stays in the backlog and the
 * listener stays readable: stop watching it for a while instead of spinning. */
#define LISTEN_PAUSE_MS		100
#define OUT_MIN_CAP		4096

static uint16_t
frame_len(const uint8_t *p)
{
	struct hd_wire w;

	hd_wire_init(&w, (void *)(uintptr_t)p, 2);
	return hd_wire_get_u16_at(&w, 0);
}

static void
frame_len_put(uint8_t *p, uint16_t len)
{
	struct hd_wire w;

	hd_wire_init(&w, p, 2);
	hd_wire_put_u16_at(&w, 0, len);
}

/* --- upstream over TCP ------------------------------------------------- */

int
up_tcp_attempt_start(struct hd_upstream *u, struct up_att *a)
{
	const struct up_server *s = &u->servers[a->server];
	struct epoll_event ev;
	int fd, len, rc;

	rc = up_random_id(u, &a->id);
	if (rc < 0)
		return rc;
	a->tbuf = malloc(UP_TCP_FRAME_MAX);
	if (a->tbuf == NULL)
		return -ENOMEM;
	len = hd_dns_query_write(a->tbuf + 2, UP_DNS_MSG_MAX, &a->q, a->id);
	if (len < 0)
		return len;	/* the caller's att_put() frees tbuf */
	frame_len_put(a->tbuf, (uint16_t)len);
	a->tlen = 2 + (uint32_t)len;
	a->tpos = 0;
	fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addr_len) != 0 &&
	    errno != EINPROGRESS)
		goto fail;
	ev.events = EPOLLOUT;
	ev.data.u64 = up_ev_pack(UP_EV_ATT, a->gen, a->idx);
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	a->fd = fd;
	a->state = UP_ATT_TCP_CONNECT;
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

/* @return 1 when the whole query is written, 0 to wait, -1 on failure. */
static int
tcp_attempt_send(struct hd_upstream *u, struct up_att *a)
{
	struct epoll_event ev;
	ssize_t n;

	while (a->tpos < a->tlen) {
		n = send(a->fd, a->tbuf + a->tpos, a->tlen - a->tpos, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		a->tpos += (uint32_t)n;
	}
	ev.events = EPOLLIN;
	ev.data.u64 = up_ev_pack(UP_EV_ATT, a->gen, a->idx);
	if (epoll_ctl(u->epfd, EPOLL_CTL_MOD, a->fd, &ev) != 0)
		return -1;
	a->state = UP_ATT_TCP_RECV;
	a->tlen = 0;
	return 1;
}

/* @return 1 when a whole reply is in tbuf, 0 to wait, -1 on failure. */
static int
tcp_attempt_recv(struct hd_upstream *u, struct up_att *a)
{
	uint32_t want;
	ssize_t n;

	for (;;) {
		want = a->tlen < 2 ? 2 : 2 + (uint32_t)frame_len(a->tbuf);
		if (a->tlen >= 2 && want < 2 + HD_DNS_HDR_LEN) {
			/* A reply shorter than a header is not DNS. */
			hd_stats_inc(u->stats, HD_STAT_upstream_rejected);
			u->servers[a->server].st.rejected++;
			return -1;
		}
		if (a->tlen == want && a->tlen > 2)
			return 1;
		n = recv(a->fd, a->tbuf + a->tlen, want - a->tlen, 0);
		if (n == 0)
			return -1;	/* closed before the whole reply */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		a->tlen += (uint32_t)n;
	}
}

void
up_tcp_attempt_event(struct hd_upstream *u, struct up_att *a, uint32_t events)
{
	socklen_t sl = sizeof(int);
	int err = 0, rc;

	if (a->state == UP_ATT_TCP_CONNECT) {
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 || err != 0) {
			up_att_failed(u, a, 1);
			return;
		}
		a->state = UP_ATT_TCP_SEND;
	}
	if (a->state == UP_ATT_TCP_SEND) {
		rc = tcp_attempt_send(u, a);
		if (rc < 0)
			up_att_failed(u, a, 1);
		/* The reply cannot be there yet: wait for EPOLLIN. */
		return;
	}
	rc = tcp_attempt_recv(u, a);
	if (rc < 0) {
		up_att_failed(u, a, 1);
		return;
	}
	if (rc == 0)
		return;
	/* The stream comes from the server we connected to, so a wrong ID or
	 * question is not a forgery to wait out: the attempt failed. */
	if (hd_dns_reply_matches(a->tbuf + 2, a->tlen - 2, &a->q, a->id) != 0) {
		hd_stats_inc(u->stats, HD_STAT_upstream_rejected);
		u->servers[a->server].st.rejected++;
		up_att_failed(u, a, 1);
		return;
	}
	up_att_reply(u, a, a->tbuf + 2, a->tlen - 2, 1);
}

/* --- the listener -------------------------------------------------------- */

static void
addr_str(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, cap, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
}

static int
listen_socket(const struct sockaddr_storage *ss)
{
	int fd, one = 1, rc;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	/* Freebind: the address may not be on the interface yet (af_xdp
	 * mode adds it after start-up, or an operator does). */
	if (ss->ss_family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
			goto fail;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) != 0 &&
		    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) != 0)
			goto fail;
	} else if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) != 0) {
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)ss, up_sockaddr_len(ss)) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

static int
listen_watch(struct hd_upstream *u, unsigned int i, int op)
{
	struct epoll_event ev;

	ev.events = EPOLLIN;
	ev.data.u64 = up_ev_pack(UP_EV_LISTEN, 0, i);
	return epoll_ctl(u->epfd, op, u->listen_fd[i], &ev) == 0 ? 0 : -errno;
}

int
up_listen_open(struct hd_upstream *u)
{
	char name[INET6_ADDRSTRLEN + 16];
	unsigned int i;
	int fd, rc;

	for (i = 0; i < u->p.n_listen; i++) {
		addr_str(&u->p.listen[i], name, sizeof(name));
		fd = listen_socket(&u->p.listen[i]);
		if (fd < 0) {
			HD_UPSTREAM_LOG(ERR, "cannot listen on TCP %s: %s", name, strerror(-fd));
			return fd;
		}
		u->listen_fd[i] = fd;
		rc = listen_watch(u, i, EPOLL_CTL_ADD);
		if (rc < 0)
			return rc;
		HD_UPSTREAM_LOG(INFO, "DNS over TCP on %s", name);
	}
	return 0;
}

static void
listen_pause(struct hd_upstream *u)
{
	unsigned int i;

	if (u->listen_paused)
		return;
	for (i = 0; i < u->p.n_listen; i++)
		(void)epoll_ctl(u->epfd, EPOLL_CTL_DEL, u->listen_fd[i], NULL);
	u->listen_paused = 1;
	u->listen_resume_ms = hd_clock_ms() + LISTEN_PAUSE_MS;
	HD_UPSTREAM_LOG(WARNING, "out of file descriptors: not accepting TCP clients for %u ms",
			LISTEN_PAUSE_MS);
}

static void
listen_resume(struct hd_upstream *u)
{
	unsigned int i;

	for (i = 0; i < u->p.n_listen; i++)
		(void)listen_watch(u, i, EPOLL_CTL_ADD);
	u->listen_paused = 0;
}

/* --- clients --------------------------------------------------------------- */

static void
conn_touch(struct hd_upstream *u, struct up_conn *c)
{
	TAILQ_REMOVE(&u->conns_idle, c, idle);
	c->idle_deadline_ms = hd_clock_ms() + u->p.tcp_idle_ms;
	TAILQ_INSERT_TAIL(&u->conns_idle, c, idle);
}

static void
conn_open(struct hd_upstream *u, int fd, const struct sockaddr_storage *peer)
{
	struct epoll_event ev;
	struct up_conn *c;

	c = &u->conns[u->free_conns[--u->n_free_conns]];
	c->peer = *peer;
	c->in = malloc(UP_TCP_FRAME_MAX);
	if (c->in == NULL)
		goto fail;
	c->in_len = 0;
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	c->pending = 0;
	c->rd_closed = c->err = c->busy = 0;
	c->events = EPOLLIN;
	ev.events = c->events;
	ev.data.u64 = up_ev_pack(UP_EV_CONN, c->gen, c->idx);
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	c->fd = fd;
	c->idle_deadline_ms = hd_clock_ms() + u->p.tcp_idle_ms;
	TAILQ_INSERT_TAIL(&u->conns_idle, c, idle);
	return;
fail:
	free(c->in);
	c->in = NULL;
	close(fd);
	u->free_conns[u->n_free_conns++] = c->idx;
}

/* Requests still running for @p c find a new generation and write nothing. */
static void
conn_close(struct hd_upstream *u, struct up_conn *c)
{
	TAILQ_REMOVE(&u->conns_idle, c, idle);
	close(c->fd);
	c->fd = -1;
	c->gen++;
	free(c->in);
	free(c->out);
	c->in = NULL;
	c->out = NULL;
	u->free_conns[u->n_free_conns++] = c->idx;
}

void
up_conn_close_all(struct hd_upstream *u)
{
	unsigned int i;

	for (i = 0; i < u->p.max_tcp_clients; i++)
		if (u->conns[i].fd >= 0)
			conn_close(u, &u->conns[i]);
}

void
up_listen_event(struct hd_upstream *u, unsigned int i)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	unsigned int k;
	int fd;

	for (k = 0; k < ACCEPT_BURST; k++) {
		plen = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		fd = accept4(u->listen_fd[i], (struct sockaddr *)&peer, &plen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				listen_pause(u);
			/* EAGAIN, or a connection that died in the backlog. */
			if (errno == ECONNABORTED || errno == EINTR)
				continue;
			return;
		}
		/* Full: close at once rather than leave it to time out in the
		 * backlog; the client retries or goes elsewhere. */
		if (u->n_free_conns == 0) {
			close(fd);
			continue;
		}
		conn_open(u, fd, &peer);
	}
}

static void
conn_flush(struct hd_upstream *u, struct up_conn *c)
{
	int wrote = 0;
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->err = 1;
			break;
		}
		c->out_off += (size_t)n;
		wrote = 1;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (wrote)
		conn_touch(u, c);
}

/* Queue one reply of @p len bytes (from u->wbuf) and try to send it. */
static void
conn_append(struct hd_upstream *u, struct up_conn *c, size_t len)
{
	size_t need = 2 + len, cap;
	uint8_t *p;

	if (c->out_cap - c->out_len < need && c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_cap - c->out_len < need) {
		cap = c->out_cap ? c->out_cap * 2 : OUT_MIN_CAP;
		while (cap - c->out_len < need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (p == NULL) {
			c->err = 1;
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	frame_len_put(c->out + c->out_len, (uint16_t)len);
	memcpy(c->out + c->out_len + 2, u->wbuf, len);
	c->out_len += need;
	conn_flush(u, c);
}

/*
 * Reply with @p rcode. @p qmsg holds at least the client's header and,
 * when q->question_end is set, its question.
 */
static void
conn_reply_rcode(struct hd_upstream *u, struct up_conn *c, const uint8_t *qmsg,
		 const struct hd_dns_query *q, int rcode)
{
	size_t qlen = q->question_end ? q->question_end : HD_DNS_HDR_LEN;
	int n;

	memcpy(u->wbuf, qmsg, qlen);
	n = hd_dns_reply_rcode(u->wbuf, sizeof(u->wbuf), q, rcode);
	if (n < 0) {
		c->err = 1;	/* cannot happen with 64 KiB: drop the client */
		return;
	}
	up_count_rcode(u, rcode);
	conn_append(u, c, (size_t)n);
}

static void
conn_reply_answer(struct hd_upstream *u, struct up_conn *c, const uint8_t *qmsg,
		  const struct hd_dns_query *q, const struct hd_dns_answer *a)
{
	int n;

	memcpy(u->wbuf, qmsg, q->question_end);
	n = hd_dns_reply_answer(u->wbuf, sizeof(u->wbuf), q, a, hd_clock_sec(), 0,
				UP_DNS_MSG_MAX);
	if (n < 0) {
		conn_reply_rcode(u, c, qmsg, q, HD_DNS_RCODE_SERVFAIL);
		return;
	}
	/* CNAME cloaking: the hook may turn the answer into a block reply. */
	if (a->has_cname && u->p.policy != NULL) {
		int b = u->p.policy(u->p.policy_arg, &c->peer, q, u->wbuf, (size_t)n,
				    sizeof(u->wbuf));

		if (b > 0) {
			conn_append(u, c, (size_t)b);
			return;
		}
	}
	up_count_rcode(u, a->flags & HD_DNS_RCODE_MASK);
	conn_append(u, c, (size_t)n);
}

/* One whole message from a client. */
static void
conn_query(struct hd_upstream *u, struct up_conn *c, const uint8_t *msg, size_t len)
{
	const struct hd_dns_answer *a = NULL;
	struct hd_cache_key key;
	struct hd_dns_query q;
	struct up_waiter *w;
	int rc;

	rc = hd_dns_query_parse(msg, len, &q);
	if (rc < 0 || q.question_end > UP_QWIRE_MAX || (rc == 0 && q.question_end == 0)) {
		hd_stats_inc(u->stats, HD_STAT_dropped);	/* a response, or not DNS */
		return;
	}
	hd_stats_inc(u->stats, HD_STAT_tcp_queries);
	hd_stats_inc(u->stats, HD_STAT_queries);
	if (rc > 0) {
		conn_reply_rcode(u, c, msg, &q, rc);
		return;
	}
	/* Local data and blocklists answer before the cache, as on the fast path. */
	if (u->p.policy != NULL) {
		memcpy(u->wbuf, msg, len);
		rc = u->p.policy(u->p.policy_arg, &c->peer, &q, u->wbuf, 0, sizeof(u->wbuf));
		if (rc > 0) {
			conn_append(u, c, (size_t)rc);
			return;
		}
	}
	if (u->p.cache != NULL) {
		/* The slow path is the cache's writer: its entries cannot be
		 * freed under it, so no quiescent-state report is needed. */
		hd_cache_key_from_query(&key, &q);
		a = hd_cache_lookup(u->p.cache, &key, hd_clock_sec(), NULL);
	}
	if (a != NULL) {
		hd_stats_inc(u->stats, HD_STAT_cache_hits);
		conn_reply_answer(u, c, msg, &q, a);
		return;
	}
	hd_stats_inc(u->stats, HD_STAT_cache_misses);
	w = up_waiter_get(u);
	if (w == NULL) {
		conn_reply_rcode(u, c, msg, &q, HD_DNS_RCODE_SERVFAIL);
		return;
	}
	w->q = q;
	w->client = c;
	w->internal = 1;
	w->conn_idx = c->idx;
	w->conn_gen = c->gen;
	w->qwire_len = q.question_end;
	memcpy(w->qwire, msg, q.question_end);
	c->pending++;
	(void)up_waiter_submit(u, w);
}

/* Answer the whole messages in the input buffer, as far as limits allow. */
static void
conn_process(struct hd_upstream *u, struct up_conn *c)
{
	uint32_t off = 0, flen;

	c->busy = 1;
	while (c->in_len - off >= 2 && !c->err) {
		flen = frame_len(c->in + off);
		if (flen == 0) {
			c->err = 1;	/* no DNS message is empty: not a DNS client */
			break;
		}
		if (c->in_len - off < 2 + flen)
			break;
		if (c->pending >= UP_TCP_PIPELINE || c->out_len - c->out_off >= UP_TCP_OUT_HIGH)
			break;
		conn_query(u, c, c->in + off + 2, flen);
		off += 2 + flen;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	c->busy = 0;
}

static void
conn_read(struct hd_upstream *u, struct up_conn *c)
{
	int got = 0;
	ssize_t n;

	while (c->in_len < UP_TCP_FRAME_MAX) {
		n = recv(c->fd, c->in + c->in_len, UP_TCP_FRAME_MAX - c->in_len, 0);
		if (n > 0) {
			c->in_len += (uint32_t)n;
			got = 1;
			continue;
		}
		if (n == 0)
			c->rd_closed = 1;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			c->err = 1;
		break;
	}
	if (got)
		conn_touch(u, c);
}

/*
 * After any change: close the connection when it failed or has nothing
 * left to do, else watch for what it waits on.
 */
static void
conn_settle(struct hd_upstream *u, struct up_conn *c)
{
	struct epoll_event ev;
	uint32_t want = 0;

	if (c->err || (c->rd_closed && c->pending == 0 && c->out_off == c->out_len)) {
		conn_close(u, c);
		return;
	}
	if (!c->rd_closed && c->in_len < UP_TCP_FRAME_MAX)
		want |= EPOLLIN;
	if (c->out_off < c->out_len)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.u64 = up_ev_pack(UP_EV_CONN, c->gen, c->idx);
	if (epoll_ctl(u->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		conn_close(u, c);
		return;
	}
	c->events = want;
}

void
up_conn_event(struct hd_upstream *u, struct up_conn *c, uint32_t events)
{
	/* Reset or both directions shut: nobody will read a reply. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(u, c);
		return;
	}
	if (events & EPOLLOUT)
		conn_flush(u, c);
	if (events & EPOLLIN)
		conn_read(u, c);
	conn_process(u, c);
	conn_settle(u, c);
}

/*
 * Every upstream failed: RFC 8767 lets us answer with what the cache still
 * holds past its expiry (or what an identical question put there since).
 */
static int
conn_reply_stale(struct hd_upstream *u, struct up_conn *c, const struct up_waiter *w)
{
	const struct hd_dns_answer *a;
	struct hd_cache_key key;
	int stale = 0, n;

	if (u->p.cache == NULL || u->p.stale_ttl == 0)
		return -ENOENT;
	hd_cache_key_from_query(&key, &w->q);
	a = hd_cache_lookup(u->p.cache, &key, hd_clock_sec(), &stale);
	if (a == NULL)
		return -ENOENT;
	memcpy(u->wbuf, w->qwire, w->q.question_end);
	n = hd_dns_reply_answer(u->wbuf, sizeof(u->wbuf), &w->q, a, hd_clock_sec(),
				stale ? u->p.stale_ttl : 0, UP_DNS_MSG_MAX);
	if (n < 0)
		return n;
	if (stale)
		hd_stats_inc(u->stats, HD_STAT_stale_answers);
	/* The same cloaking check as any answer from the cache. */
	if (a->has_cname && u->p.policy != NULL) {
		int b = u->p.policy(u->p.policy_arg, &c->peer, &w->q, u->wbuf, (size_t)n,
				    sizeof(u->wbuf));

		if (b > 0) {
			conn_append(u, c, (size_t)b);
			return 0;
		}
	}
	up_count_rcode(u, a->flags & HD_DNS_RCODE_MASK);
	conn_append(u, c, (size_t)n);
	return 0;
}

void
up_conn_request_done(struct hd_upstream *u, struct up_waiter *w,
		     const struct hd_dns_answer *a, int rcode)
{
	struct up_conn *c = &u->conns[w->conn_idx];

	if (c->fd < 0 || c->gen != w->conn_gen)
		return;	/* the client left; the answer is still cached */
	c->pending--;
	if (a != NULL)
		conn_reply_answer(u, c, w->qwire, &w->q, a);
	else if (rcode != HD_DNS_RCODE_SERVFAIL || conn_reply_stale(u, c, w) != 0)
		conn_reply_rcode(u, c, w->qwire, &w->q, rcode);
	/* Inside conn_process() (the request failed synchronously), that
	 * loop carries on and settles the connection itself. */
	if (c->busy)
		return;
	conn_process(u, c);
	conn_settle(u, c);
}

uint64_t
up_conn_next_deadline(const struct hd_upstream *u)
{
	const struct up_conn *c = TAILQ_FIRST(&u->conns_idle);
	uint64_t next = UINT64_MAX;

	if (c != NULL)
		next = c->idle_deadline_ms;
	if (u->listen_paused && u->listen_resume_ms < next)
		next = u->listen_resume_ms;
	return next;
}

unsigned int
up_conn_expire(struct hd_upstream *u, uint64_t now)
{
	unsigned int n = 0;
	struct up_conn *c;

	if (u->listen_paused && u->listen_resume_ms <= now)
		listen_resume(u);
	while ((c = TAILQ_FIRST(&u->conns_idle)) != NULL && c->idle_deadline_ms <= now) {
		/* Waiting on an upstream is not idleness: the request's own
		 * budget bounds that wait. tcp_idle_ms > 0, so the touched
		 * connection's deadline is past now and the loop ends. */
		if (c->pending > 0)
			conn_touch(u, c);
		else
			conn_close(u, c);
		n++;
	}
	return n;
}
