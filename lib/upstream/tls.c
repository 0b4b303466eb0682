/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over TLS to an upstream (RFC 7858) with GnuTLS: one persistent,
 * pipelined connection per server, driven by the slow path's epoll loop.
 *
 * States: CLOSED -> CONNECTING (TCP) -> HANDSHAKE -> READY -> CLOSED.
 * Messages sent before READY wait in the output buffer. Every step is
 * non-blocking and retried on the next event; the connection never trusts
 * the epoll flags it is given (they may belong to a socket it closed in the
 * same batch) and simply tries the I/O its state allows.
 *
 * Failures are reported through the callback, from hd_tls_handle() or
 * hd_tls_conn_tick() only, so the owner never sees a callback from inside
 * its own hd_tls_send(). A write that fails inside hd_tls_send() is kept
 * in 'dead' and reported on the next event, which the still-open socket
 * raises at once (it is errored or writable).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "hd_clock.h"
#include "hd_wire.h"
#include "hd_tls_base.h"
#include "tls.h"

#define DNS_MSG_MAX	65535
#define DNS_HDR_LEN	12
#define FRAME_MAX	(2 + DNS_MSG_MAX)
/* Largest write handed to GnuTLS at once: one TLS record. */
#define WRITE_CHUNK	16384
#define ERR_LEN		256

/* RFC 8310 section 9: DoT uses TLS 1.2 or later. */

struct hd_tls_ctx {
	struct hd_tls_creds c;
};

enum conn_state {
	ST_CLOSED = 0,
	ST_CONNECTING,
	ST_HANDSHAKE,
	ST_READY,
};

struct hd_tls_conn {
	struct hd_tls_ctx *ctx;
	hd_tls_reply_fn cb;
	void *cb_arg;
	int epfd;
	uint64_t ev_data;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[256];			/**< "" = verify the IP address */
	uint8_t ip[16];			/**< the address, for IP verification */
	unsigned int ip_len;
	gnutls_typed_vdata_st vd;	/**< GnuTLS keeps a pointer to it: lives here */

	enum conn_state state;
	int fd;				/**< -1 when CLOSED */
	gnutls_session_t s;
	uint32_t events;		/**< epoll interest registered */
	int dead;			/**< failure seen in hd_tls_send(), not yet reported */
	int busy;			/**< inside hd_tls_handle(): sends only queue */
	int ticket_saved;		/**< this session's resumption data stored */
	uint64_t open_ms;		/**< connect started */
	uint64_t active_ms;		/**< last byte read or written */
	uint32_t outstanding;		/**< messages queued minus replies received */

	uint8_t *out;			/**< framed messages not yet written */
	size_t out_off;
	size_t out_len;
	size_t inflight;		/**< length of a write GnuTLS must be asked to finish */
	uint8_t *in;			/**< FRAME_MAX bytes: replies being reassembled */
	size_t in_len;

	gnutls_datum_t resume;		/**< session data for the next connect */
	struct hd_tls_conn_stats st;
	char err[ERR_LEN];
};

/* --- context ------------------------------------------------------------- */

struct hd_tls_ctx *
hd_tls_ctx_create(const char *ca_file, char *err, size_t errlen)
{
	struct hd_tls_ctx *ctx;

	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hd_tls_creds_init(&ctx->c, ca_file, err, errlen) < 0) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

void
hd_tls_ctx_free(struct hd_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	hd_tls_creds_fini(&ctx->c);
	free(ctx);
}

/* --- connection life ------------------------------------------------------ */

struct hd_tls_conn *
hd_tls_conn_create(struct hd_tls_ctx *ctx, int epfd, uint64_t ev_data,
		   const struct sockaddr *addr, socklen_t addrlen,
		   const char *tls_name, hd_tls_reply_fn cb, void *cb_arg)
{
	const struct sockaddr_in *s4 = (const void *)addr;
	const struct sockaddr_in6 *s6 = (const void *)addr;
	struct hd_tls_conn *c;

	if (ctx == NULL || addr == NULL || cb == NULL || addrlen > sizeof(c->addr) ||
	    (addr->sa_family == AF_INET && addrlen < sizeof(*s4)) ||
	    (addr->sa_family == AF_INET6 && addrlen < sizeof(*s6)) ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)) {
		errno = EINVAL;
		return NULL;
	}
	if (tls_name != NULL && strlen(tls_name) >= sizeof(c->name)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->out = malloc(HD_TLS_OUT_MAX);
	c->in = malloc(FRAME_MAX);
	if (c->out == NULL || c->in == NULL) {
		free(c->out);
		free(c->in);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->ctx = ctx;
	c->epfd = epfd;
	c->ev_data = ev_data;
	memcpy(&c->addr, addr, addrlen);
	c->addrlen = addrlen;
	if (tls_name != NULL)
		snprintf(c->name, sizeof(c->name), "%s", tls_name);
	if (addr->sa_family == AF_INET) {
		memcpy(c->ip, &s4->sin_addr, 4);
		c->ip_len = 4;
	} else {
		memcpy(c->ip, &s6->sin6_addr, 16);
		c->ip_len = 16;
	}
	c->cb = cb;
	c->cb_arg = cb_arg;
	c->fd = -1;
	return c;
}

static void
set_err(struct hd_tls_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/*
 * Keep what resumes this session on the next connect. Under TLS 1.3 that
 * is only possible once the server's ticket arrived (after the handshake),
 * and asking earlier would wait for it: check the flag first.
 */
static void
save_ticket(struct hd_tls_conn *c)
{
	gnutls_datum_t d;

	if (c->ticket_saved || c->state != ST_READY)
		return;
	if (gnutls_protocol_get_version(c->s) == GNUTLS_TLS1_3 &&
	    !(gnutls_session_get_flags(c->s) & GNUTLS_SFLAGS_SESSION_TICKET))
		return;
	if (gnutls_session_get_data2(c->s, &d) < 0)
		return;
	gnutls_free(c->resume.data);
	c->resume = d;
	c->ticket_saved = 1;
}

/* Close the socket and forget everything on it; keeps resumption data. */
static void
conn_close(struct hd_tls_conn *c)
{
	if (c->state == ST_CLOSED)
		return;
	save_ticket(c);
	if (c->state == ST_READY)
		(void)gnutls_bye(c->s, GNUTLS_SHUT_WR);	/* best effort, non-blocking */
	gnutls_deinit(c->s);
	c->s = NULL;
	(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = ST_CLOSED;
	c->events = 0;
	c->dead = 0;
	c->out_off = c->out_len = c->inflight = 0;
	c->in_len = 0;
	c->outstanding = 0;
}

/* Drop the connection and tell the owner, who loses every query on it. */
static void
conn_fail(struct hd_tls_conn *c, int status)
{
	conn_close(c);
	c->st.failures++;
	c->cb(c->cb_arg, status, NULL, 0);
}

void
hd_tls_conn_reset(struct hd_tls_conn *c, int status)
{
	uint32_t had = c->outstanding;

	if (c->state == ST_CLOSED)
		return;
	if (had > 0 && status < 0) {
		set_err(c, "connection reset by its owner");
		conn_fail(c, status);
	} else {
		conn_close(c);
	}
}

void
hd_tls_conn_free(struct hd_tls_conn *c)
{
	if (c == NULL)
		return;
	conn_close(c);
	gnutls_free(c->resume.data);
	free(c->out);
	free(c->in);
	free(c);
}

static int
session_setup(struct hd_tls_conn *c)
{
	gnutls_typed_vdata_st *vd = &c->vd;
	int rc;

	/* NO_SIGNAL: writing to a connection the server reset must not raise
	 * SIGPIPE, which would end the process. */
	rc = gnutls_init(&c->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0)
		return rc;
	rc = gnutls_priority_set(c->s, c->ctx->c.prio);
	if (rc == 0)
		rc = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->ctx->c.cred);
	if (rc == 0 && c->name[0] != '\0')
		rc = gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, c->name, strlen(c->name));
	if (rc < 0)
		return rc;
	/* The handshake fails unless the chain is trusted and the certificate
	 * names the server: the TLS name, or else its address (RFC 8310 8.1). */
	memset(vd, 0, sizeof(*vd));
	if (c->name[0] != '\0') {
		vd->type = GNUTLS_DT_DNS_HOSTNAME;
		vd->data = (unsigned char *)c->name;
	} else {
		vd->type = GNUTLS_DT_IP_ADDRESS;
		vd->data = c->ip;
		vd->size = c->ip_len;
	}
	gnutls_session_set_verify_cert2(c->s, vd, 1, 0);
	/* Our own deadline (HD_TLS_HANDSHAKE_MS) bounds the handshake. */
	gnutls_handshake_set_timeout(c->s, 0);
	if (c->resume.data != NULL) {
		(void)gnutls_session_set_data(c->s, c->resume.data, c->resume.size);
		/* TLS 1.3 tickets are for one use: the new session brings another. */
		gnutls_free(c->resume.data);
		c->resume.data = NULL;
		c->resume.size = 0;
	}
	gnutls_transport_set_int(c->s, c->fd);
	return 0;
}

/* Start TCP and prepare the TLS session. @return 0 or negative errno. */
static int
conn_open(struct hd_tls_conn *c)
{
	struct epoll_event ev;
	int fd, rc;

	fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&c->addr, c->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		rc = -errno;
		set_err(c, "connect: %s", strerror(-rc));
		close(fd);
		return rc;
	}
	ev.events = EPOLLOUT;
	ev.data.u64 = c->ev_data;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	c->fd = fd;
	c->events = EPOLLOUT;
	rc = session_setup(c);
	if (rc < 0) {
		set_err(c, "TLS session: %s", gnutls_strerror(rc));
		if (c->s != NULL)
			gnutls_deinit(c->s);
		c->s = NULL;
		(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		c->fd = -1;
		return -ENOMEM;
	}
	c->state = ST_CONNECTING;
	c->ticket_saved = 0;
	c->open_ms = hd_clock_ms();
	c->active_ms = c->open_ms;
	c->st.connects++;
	return 0;
}

/* --- I/O ------------------------------------------------------------------ */

/* Write queued frames. @return 0 (all written or would block) or negative errno. */
static int
conn_flush(struct hd_tls_conn *c)
{
	ssize_t n;
	size_t len;

	while (c->out_off < c->out_len) {
		/* After GNUTLS_E_AGAIN the same write must be repeated. */
		len = c->inflight;
		if (len == 0) {
			len = c->out_len - c->out_off;
			if (len > WRITE_CHUNK)
				len = WRITE_CHUNK;
		}
		n = gnutls_record_send(c->s, c->out + c->out_off, len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			c->inflight = len;
			return 0;
		}
		if (n < 0) {
			set_err(c, "TLS write: %s", gnutls_strerror((int)n));
			return -EPROTO;
		}
		c->inflight = 0;
		c->out_off += (size_t)n;
		c->active_ms = hd_clock_ms();
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/*
 * Hand every whole frame in the input buffer to the owner.
 * @return 0, or -EBADMSG for a frame that cannot be a DNS message.
 */
static int
deliver(struct hd_tls_conn *c)
{
	struct hd_wire w;
	size_t off = 0, flen;

	while (c->in_len - off >= 2) {
		hd_wire_init(&w, c->in + off, 2);
		flen = hd_wire_get_u16_at(&w, 0);
		if (flen < DNS_HDR_LEN) {
			set_err(c, "server sent a %zu-byte message", flen);
			return -EBADMSG;
		}
		if (c->in_len - off < 2 + flen)
			break;
		if (c->outstanding > 0)
			c->outstanding--;
		c->st.received++;
		c->cb(c->cb_arg, 0, c->in + off + 2, flen);
		off += 2 + flen;
		/* The callback may have reset the connection. */
		if (c->state != ST_READY)
			return 0;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return 0;
}

/*
 * Read and deliver until the socket is drained.
 * @return 1 when the server closed cleanly, 0 to wait, negative errno on failure.
 */
static int
conn_read(struct hd_tls_conn *c)
{
	ssize_t n;
	int rc;

	for (;;) {
		/* in_len < FRAME_MAX here: deliver() consumed any whole frame. */
		n = gnutls_record_recv(c->s, c->in + c->in_len, FRAME_MAX - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			c->active_ms = hd_clock_ms();
			rc = deliver(c);
			if (rc < 0 || c->state != ST_READY)
				return rc;
			continue;
		}
		/* Many servers close without close_notify; DNS frames carry their
		 * own length, so a truncation attack cannot forge a message. */
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
			return 1;
		if (n == GNUTLS_E_AGAIN)
			return 0;
		if (n == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal((int)n))
			continue;	/* a warning alert, a refused renegotiation... */
		set_err(c, "TLS read: %s", gnutls_strerror((int)n));
		return -EPROTO;
	}
}

static void
conn_watch(struct hd_tls_conn *c, uint32_t want)
{
	struct epoll_event ev;

	if (want == c->events)
		return;
	ev.events = want;
	ev.data.u64 = c->ev_data;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
	else
		c->dead = -errno;	/* cannot happen with a valid fd; fail on next tick */
}

/* @return 1 when connected, 0 to wait, negative errno on failure. */
static int
step_connect(struct hd_tls_conn *c)
{
	struct sockaddr_storage peer;
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
		err = errno;
	if (err != 0) {
		set_err(c, "connect: %s", strerror(err));
		return -err;
	}
	/* Not an error yet: the event may be a stale one for an earlier socket. */
	sl = sizeof(peer);
	if (getpeername(c->fd, (struct sockaddr *)&peer, &sl) != 0)
		return errno == ENOTCONN ? 0 : -errno;
	c->state = ST_HANDSHAKE;
	return 1;
}

static int
verify_error(struct hd_tls_conn *c)
{
	hd_tls_verify_error(c->s, c->err, sizeof(c->err));
	return -EKEYREJECTED;
}

/* @return 1 when the session is up, 0 to wait, negative errno on failure. */
static int
step_handshake(struct hd_tls_conn *c)
{
	int rc = gnutls_handshake(c->s);

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return 0;
	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
		return verify_error(c);
	if (rc < 0 && gnutls_error_is_fatal(rc)) {
		set_err(c, "TLS handshake: %s", gnutls_strerror(rc));
		return -EPROTO;
	}
	if (rc < 0)
		return 0;	/* a warning alert: carry on */
	c->state = ST_READY;
	c->active_ms = hd_clock_ms();
	c->st.handshakes++;
	if (gnutls_session_is_resumed(c->s))
		c->st.resumed++;
	save_ticket(c);
	return 1;
}

/* Advance the connection as far as possible; reports failures. */
static void
conn_run(struct hd_tls_conn *c)
{
	uint32_t want;
	int rc;

	if (c->dead != 0) {
		conn_fail(c, c->dead);
		return;
	}
	if (c->state == ST_CONNECTING) {
		rc = step_connect(c);
		if (rc <= 0)
			goto wait;
	}
	if (c->state == ST_HANDSHAKE) {
		rc = step_handshake(c);
		if (rc <= 0)
			goto wait;
	}
	rc = conn_flush(c);
	if (rc < 0)
		goto wait;
	rc = conn_read(c);
	if (c->state != ST_READY)
		return;	/* a callback reset it */
	if (rc == 0)
		rc = conn_flush(c);	/* replies may have led to more queries */
	save_ticket(c);
	if (rc == 1) {
		if (c->outstanding > 0) {
			set_err(c, "server closed the connection with %u queries outstanding",
				c->outstanding);
			conn_fail(c, -ECONNRESET);
		} else {
			conn_close(c);	/* idle close by the server: reconnect on demand */
		}
		return;
	}
wait:
	if (rc < 0) {
		conn_fail(c, rc);
		return;
	}
	if (c->state == ST_CONNECTING)
		want = EPOLLOUT;
	else if (c->state == ST_HANDSHAKE)
		want = gnutls_record_get_direction(c->s) ? EPOLLOUT : EPOLLIN;
	else
		want = EPOLLIN | (c->out_off < c->out_len ? EPOLLOUT : 0);
	conn_watch(c, want);
}

void
hd_tls_handle(struct hd_tls_conn *c, uint32_t epoll_events)
{
	(void)epoll_events;	/* see the file comment: we try instead of trusting */
	if (c->state == ST_CLOSED || c->busy)
		return;
	c->busy = 1;
	conn_run(c);
	c->busy = 0;
}

int
hd_tls_send(struct hd_tls_conn *c, const uint8_t *msg, size_t len)
{
	struct hd_wire w;
	int rc;

	if (len == 0 || len > DNS_MSG_MAX)
		return -EMSGSIZE;
	/* Room is made only when no write is pending: GnuTLS may still point
	 * at the bytes it was given. */
	if (HD_TLS_OUT_MAX - c->out_len < 2 + len && c->out_off > 0 && c->inflight == 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (HD_TLS_OUT_MAX - c->out_len < 2 + len)
		return -ENOBUFS;
	if (c->state == ST_CLOSED) {
		rc = conn_open(c);
		if (rc < 0)
			return rc;
	}
	hd_wire_init(&w, c->out + c->out_len, 2);
	hd_wire_put_u16_at(&w, 0, (uint16_t)len);
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += 2 + len;
	c->outstanding++;
	c->st.sent++;
	if (c->state != ST_READY || c->busy || c->dead != 0)
		return 0;	/* the handshake, or the running handle(), writes it */
	rc = conn_flush(c);
	if (rc < 0) {
		c->dead = rc;
		conn_watch(c, EPOLLIN | EPOLLOUT);
		return 0;
	}
	if (c->out_off < c->out_len)
		conn_watch(c, EPOLLIN | EPOLLOUT);
	return 0;
}

/* --- timers --------------------------------------------------------------- */

uint64_t
hd_tls_conn_deadline(const struct hd_tls_conn *c)
{
	if (c->state == ST_CLOSED)
		return UINT64_MAX;
	if (c->dead != 0)
		return 0;
	if (c->state != ST_READY)
		return c->open_ms + HD_TLS_HANDSHAKE_MS;
	return c->active_ms + HD_TLS_IDLE_MS;
}

void
hd_tls_conn_tick(struct hd_tls_conn *c, uint64_t now_ms)
{
	if (c->state == ST_CLOSED || c->busy || now_ms < hd_tls_conn_deadline(c))
		return;
	if (c->dead != 0) {
		conn_fail(c, c->dead);
		return;
	}
	if (c->state != ST_READY) {
		set_err(c, "%s not finished after %u ms",
			c->state == ST_CONNECTING ? "TCP connect" : "TLS handshake",
			HD_TLS_HANDSHAKE_MS);
		conn_fail(c, -ETIMEDOUT);
		return;
	}
	if (c->outstanding > 0) {
		set_err(c, "no reply for %u ms with %u queries outstanding", HD_TLS_IDLE_MS,
			c->outstanding);
		conn_fail(c, -ETIMEDOUT);
		return;
	}
	conn_close(c);	/* idle: free the server's resources, reconnect on demand */
}

/* --- introspection -------------------------------------------------------- */

const char *
hd_tls_conn_error(const struct hd_tls_conn *c)
{
	return c->err;
}

void
hd_tls_conn_stats_get(const struct hd_tls_conn *c, struct hd_tls_conn_stats *st)
{
	*st = c->st;
}

int
hd_tls_conn_is_up(const struct hd_tls_conn *c)
{
	return c->state == ST_READY;
}
