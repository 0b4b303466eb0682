/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * One RESP connection to a Redis server or Sentinel: a non-blocking TCP
 * socket, optionally under TLS (GnuTLS), speaking the protocol through the
 * two pieces of hiredis that need no socket of theirs:
 * redisFormatCommandArgv() writes requests and a redisReader parses
 * replies. (Debian's hiredis 0.14 has no TLS, so its own transport cannot
 * be used for rediss://.)
 *
 * Nothing here waits: rconn_io() does the I/O the socket allows now (one
 * poll() with a zero timeout) and returns. Replies are matched to requests
 * in order (Redis answers in order on one connection); a reply nobody
 * awaits is a pub/sub message and goes to the push callback.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "hd_tls_base.h"
#include "replica_private.h"

/* Redis accepts TLS 1.2 and 1.3. */
/* Requests buffered beyond this are refused: the caller counts them dropped. */
#define OUT_MAX		(8u << 20)
#define READ_CHUNK	16384
/*
 * hiredis 0.14's reader buffers a bulk string until it is whole and grows
 * an array as its elements come, with no limit of its own (maxbuf only
 * trims an idle buffer): a server still sending one reply after this many
 * bytes is cut off rather than let fill memory. Our largest reply is a
 * control document (4 MiB) or a member MGET (256 x 8 KiB).
 */
#define IN_MAX		(8u << 20)
/* Reads per rconn_io(), so one busy connection cannot hold the slow path. */
#define READS_MAX	16

struct rconn_tls {
	struct hd_tls_creds c;
};

static void
set_err(struct rconn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

struct rconn_tls *
rconn_tls_create(const char *ca_file, char *err, size_t errlen)
{
	struct rconn_tls *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hd_tls_creds_init(&t->c, ca_file, err, errlen) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

void
rconn_tls_free(struct rconn_tls *t)
{
	if (t == NULL)
		return;
	hd_tls_creds_fini(&t->c);
	free(t);
}

void
rconn_init(struct rconn *c, void *owner, rconn_fn push)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->owner = owner;
	c->push = push;
}

/* The certificate must name the host, or hold the address as an IP SAN. */
static int
tls_setup(struct rconn *c, struct rconn_tls *t, const struct sockaddr *sa, const char *name)
{
	uint8_t tmp[16];
	int rc;

	c->name[0] = '\0';
	if (name != NULL && inet_pton(AF_INET, name, tmp) != 1 &&
	    inet_pton(AF_INET6, name, tmp) != 1)
		snprintf(c->name, sizeof(c->name), "%s", name);
	if (sa->sa_family == AF_INET6) {
		memcpy(c->ip, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		c->ip_len = 16;
	} else {
		memcpy(c->ip, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		c->ip_len = 4;
	}
	/* NO_SIGNAL: a write to a reset connection must not raise SIGPIPE. */
	rc = gnutls_init(&c->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		c->s = NULL;
		return rc;
	}
	rc = gnutls_priority_set(c->s, t->c.prio);
	if (rc == 0)
		rc = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, t->c.cred);
	if (rc == 0 && c->name[0] != '\0')
		rc = gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, c->name, strlen(c->name));
	if (rc < 0)
		return rc;
	memset(&c->vd, 0, sizeof(c->vd));
	if (c->name[0] != '\0') {
		c->vd.type = GNUTLS_DT_DNS_HOSTNAME;
		c->vd.data = (unsigned char *)c->name;
	} else {
		c->vd.type = GNUTLS_DT_IP_ADDRESS;
		c->vd.data = c->ip;
		c->vd.size = c->ip_len;
	}
	gnutls_session_set_verify_cert2(c->s, &c->vd, 1, 0);
	/* The owner's connect deadline bounds the handshake. */
	gnutls_handshake_set_timeout(c->s, 0);
	gnutls_transport_set_int(c->s, c->fd);
	return 0;
}

int
rconn_open(struct rconn *c, const struct sockaddr *sa, socklen_t salen, struct rconn_tls *tls,
	   const char *name, uint32_t max_wait)
{
	int one = 1, rc;

	rconn_close(c);
	c->err[0] = '\0';
	c->w = calloc(max_wait, sizeof(*c->w));
	c->rd = redisReaderCreate();
	if (c->w == NULL || c->rd == NULL) {
		set_err(c, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	c->w_cap = max_wait;
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		set_err(c, "socket: %s", strerror(errno));
		goto fail;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, sa, salen) != 0 && errno != EINPROGRESS) {
		rc = -errno;
		set_err(c, "connect: %s", strerror(errno));
		goto fail;
	}
	if (tls != NULL) {
		rc = tls_setup(c, tls, sa, name);
		if (rc < 0) {
			set_err(c, "TLS session: %s", gnutls_strerror(rc));
			rc = -ENOMEM;
			goto fail;
		}
	}
	c->phase = RC_CONNECTING;
	return 0;
fail:
	c->phase = RC_CONNECTING;	/* so that rconn_close() frees it all */
	rconn_close(c);
	return rc;
}

void
rconn_close(struct rconn *c)
{
	if (c->phase == RC_CLOSED && c->fd < 0 && c->w == NULL && c->rd == NULL)
		return;
	/* Closed first: callbacks that queue commands now get -ENOTCONN. */
	c->phase = RC_CLOSED;
	while (c->w_n > 0) {
		struct rconn_wait w = c->w[c->w_head];

		c->w_head = (c->w_head + 1) % c->w_cap;
		c->w_n--;
		w.fn(c->owner, NULL, w.priv);
	}
	if (c->s != NULL)
		gnutls_deinit(c->s);
	c->s = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->rd != NULL)
		redisReaderFree(c->rd);
	c->rd = NULL;
	c->in_partial = 0;
	free(c->w);
	c->w = NULL;
	c->w_cap = c->w_head = c->w_n = 0;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = c->out_cap = 0;
	memset(c->ip, 0, sizeof(c->ip));
}

static int
out_append(struct rconn *c, const char *p, size_t n)
{
	size_t pending = c->out_len - c->out_off;

	if (pending + n > OUT_MAX)
		return -ENOBUFS;
	if (c->out_off > 0 && c->out_len + n > c->out_cap) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_len = pending;
		c->out_off = 0;
	}
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap == 0 ? 4096 : c->out_cap;
		char *o;

		while (cap < c->out_len + n)
			cap *= 2;
		o = realloc(c->out, cap);
		if (o == NULL)
			return -ENOMEM;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

int
rconn_send(struct rconn *c, rconn_fn fn, void *priv, int argc, const char **argv,
	   const size_t *argvlen)
{
	char *cmd = NULL;
	int len, rc;

	if (c->phase == RC_CLOSED)
		return -ENOTCONN;
	if (fn != NULL && c->w_n >= c->w_cap)
		return -ENOBUFS;
	len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
	if (len < 0 || cmd == NULL)
		return -ENOMEM;
	rc = out_append(c, cmd, (size_t)len);
	redisFreeCommand(cmd);
	if (rc < 0)
		return rc;
	if (fn != NULL) {
		c->w[(c->w_head + c->w_n) % c->w_cap] = (struct rconn_wait){ fn, priv };
		c->w_n++;
	}
	return 0;
}

/* @return 1 connected, 0 not yet, -1 failed. */
static int
step_connect(struct rconn *c, short revents)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
		return 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		soerr = errno;
	if (soerr != 0) {
		set_err(c, "connect: %s", strerror(soerr));
		return -1;
	}
	c->phase = c->s != NULL ? RC_HANDSHAKE : RC_OPEN;
	return 1;
}

/* @return 1 done, 0 not yet, -1 failed. */
static int
step_handshake(struct rconn *c)
{
	int rc = gnutls_handshake(c->s);

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return 0;
	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		hd_tls_verify_error(c->s, c->err, sizeof(c->err));
		return -1;
	}
	if (rc < 0 && gnutls_error_is_fatal(rc)) {
		set_err(c, "TLS handshake: %s", gnutls_strerror(rc));
		return -1;
	}
	if (rc < 0)
		return 0;	/* a warning alert */
	c->phase = RC_OPEN;
	return 1;
}

static int
do_write(struct rconn *c)
{
	while (c->out_off < c->out_len) {
		size_t n = c->out_len - c->out_off;
		ssize_t w;

		if (c->s != NULL) {
			w = gnutls_record_send(c->s, c->out + c->out_off, RTE_MIN(n, (size_t)16384));
			if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
				return 0;
			if (w < 0) {
				set_err(c, "TLS write: %s", gnutls_strerror((int)w));
				return -1;
			}
		} else {
			w = send(c->fd, c->out + c->out_off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (w < 0) {
				set_err(c, "write: %s", strerror(errno));
				return -1;
			}
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Hand every complete reply to whoever awaits it. @return 0 or -1. */
static int
dispatch(struct rconn *c)
{
	void *reply;

	for (;;) {
		if (redisReaderGetReply(c->rd, &reply) != REDIS_OK) {
			set_err(c, "protocol error: %s", c->rd->errstr);
			return -1;
		}
		if (reply == NULL)
			return 0;
		c->in_partial = 0;
		if (c->w_n > 0) {
			struct rconn_wait w = c->w[c->w_head];

			c->w_head = (c->w_head + 1) % c->w_cap;
			c->w_n--;
			w.fn(c->owner, reply, w.priv);
		} else if (c->push != NULL) {
			c->push(c->owner, reply, NULL);
		}
		freeReplyObject(reply);
		/* A callback may not close us, but stay safe if the owner did. */
		if (c->phase != RC_OPEN)
			return 0;
	}
}

static int
do_read(struct rconn *c)
{
	char buf[READ_CHUNK];
	int i;

	for (i = 0; i < READS_MAX; i++) {
		ssize_t n;

		if (c->s != NULL) {
			n = gnutls_record_recv(c->s, buf, sizeof(buf));
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return 0;
			if (n < 0 && !gnutls_error_is_fatal((int)n))
				continue;
			if (n < 0) {
				set_err(c, "TLS read: %s", gnutls_strerror((int)n));
				return -1;
			}
		} else {
			n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (n < 0) {
				set_err(c, "read: %s", strerror(errno));
				return -1;
			}
		}
		if (n == 0) {
			set_err(c, "closed by the server");
			return -1;
		}
		if (redisReaderFeed(c->rd, buf, (size_t)n) != REDIS_OK) {
			set_err(c, "protocol error");
			return -1;
		}
		c->in_partial += (size_t)n;
		if (dispatch(c) < 0)
			return -1;
		if (c->phase != RC_OPEN)
			return 0;
		if (c->in_partial > IN_MAX) {
			set_err(c, "a reply longer than %u bytes: not a reply of ours", IN_MAX);
			return -1;
		}
	}
	return 0;
}

int
rconn_io(struct rconn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	if (c->phase == RC_CLOSED)
		return 0;
	if (c->phase == RC_CONNECTING || c->out_off < c->out_len)
		pfd.events |= POLLOUT;
	/* GnuTLS may hold decrypted bytes the socket no longer shows. */
	if (c->phase == RC_OPEN && c->s != NULL && gnutls_record_check_pending(c->s) > 0)
		pfd.revents = POLLIN;
	else if (c->phase != RC_HANDSHAKE && poll(&pfd, 1, 0) <= 0)
		return 0;
	if (c->phase == RC_CONNECTING) {
		int rc = step_connect(c, pfd.revents);

		if (rc <= 0)
			return rc;
	}
	if (c->phase == RC_HANDSHAKE) {
		int rc = step_handshake(c);

		if (rc <= 0)
			return rc;
	}
	if (do_write(c) < 0)
		return -1;
	return do_read(c);
}
