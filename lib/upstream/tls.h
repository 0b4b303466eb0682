/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_UPSTREAM_TLS_H
#define HD_UPSTREAM_TLS_H

/*
 * DNS over TLS to one upstream (RFC 7858), for the slow path. Private to
 * lib/upstream, never installed.
 *
 * One struct hd_tls_conn per DoT server, kept for the life of the upstream
 * module: it opens a TCP+TLS connection when a message is sent, keeps it
 * for later messages (several may be outstanding at once: pipelining), and
 * closes it after HD_TLS_IDLE_MS without traffic. The next send reconnects,
 * resuming the TLS session when the server allows it.
 *
 * The transport only frames messages (2-byte length, RFC 1035 4.2.2). It
 * does not look at IDs: replies can come in any order and the owner matches
 * them to its queries by ID and question.
 *
 * Nothing blocks. The connection registers its socket with the owner's
 * epoll set under the owner's epoll data word; the owner calls
 * hd_tls_handle() for every event carrying that word, and
 * hd_tls_conn_tick() once the time from hd_tls_conn_deadline() is reached.
 * Events left over from a socket the connection already closed are
 * harmless: the connection tries I/O and finds nothing to do.
 *
 * The callback is called only from hd_tls_handle() and hd_tls_conn_tick(),
 * never from hd_tls_send(). It may call hd_tls_send() (also on a failed
 * connection: that reconnects) but not hd_tls_conn_free().
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** Close a connection after this long without a byte read or written. */
#define HD_TLS_IDLE_MS		10000
/** A TCP connect plus TLS handshake that takes longer has failed. */
#define HD_TLS_HANDSHAKE_MS	5000
/** Bytes of framed messages waiting to be written, at most. */
#define HD_TLS_OUT_MAX		(256 * 1024)

struct hd_tls_ctx;
struct hd_tls_conn;

/**
 * A reply, or the end of a connection that had queries outstanding.
 *
 * @param arg
 *   The cb_arg given to hd_tls_conn_create().
 * @param status
 *   0: @p msg holds one whole message of @p len bytes (at least a DNS
 *   header), valid only during the call.
 *   Negative errno: the connection failed and every query sent or queued on
 *   it is lost (@p msg is NULL); hd_tls_conn_error() says why:
 *   -EKEYREJECTED  certificate verify failed (untrusted, wrong name, expired)
 *   -EPROTO        TLS handshake or record error (alert, not TLS, ...)
 *   -ETIMEDOUT     connect/handshake too slow, or no reply for HD_TLS_IDLE_MS
 *   -ECONNRESET    the server closed with queries outstanding
 *   -EBADMSG       a frame too short to be DNS
 *   other          a socket error (-ECONNREFUSED, -ENETUNREACH, ...)
 *   It is called once per failure, not once per query.
 */
typedef void (*hd_tls_reply_fn)(void *arg, int status, const uint8_t *msg, size_t len);

/**
 * Credentials shared by all DoT connections.
 *
 * @param ca_file
 *   PEM bundle of trusted CAs; NULL or "" for the system's trust store.
 * @param err
 *   Receives the reason on failure (e.g. "no certificate in FILE").
 * @return
 *   The context, or NULL on failure.
 */
struct hd_tls_ctx *hd_tls_ctx_create(const char *ca_file, char *err, size_t errlen);

/** Free a context after all its connections. NULL is a no-op. */
void hd_tls_ctx_free(struct hd_tls_ctx *ctx);

/**
 * A connection to one server. No socket is opened until the first send.
 *
 * @param epfd
 *   The owner's epoll set; sockets are added to it with @p ev_data.
 * @param addr, addrlen
 *   The server (AF_INET or AF_INET6, port included).
 * @param tls_name
 *   The name the server certificate must hold (also sent as SNI); NULL or
 *   "" to require the server's IP address in the certificate instead.
 * @return
 *   The connection, or NULL (errno set: EINVAL, ENAMETOOLONG, ENOMEM).
 */
struct hd_tls_conn *hd_tls_conn_create(struct hd_tls_ctx *ctx, int epfd, uint64_t ev_data,
				       const struct sockaddr *addr, socklen_t addrlen,
				       const char *tls_name, hd_tls_reply_fn cb, void *cb_arg);

/** Close the connection (no callback) and free it. NULL is a no-op. */
void hd_tls_conn_free(struct hd_tls_conn *c);

/**
 * Queue one DNS message (without the length prefix) and write what the
 * connection allows now; connects first when there is no connection.
 * A failure after the message is queued is reported through the callback.
 *
 * @return
 *   0 when queued; -EMSGSIZE (empty or > 65535 bytes), -ENOBUFS (more than
 *   HD_TLS_OUT_MAX waiting), or the socket()/connect() error when there was
 *   no connection (then nothing was queued and no callback follows).
 */
int hd_tls_send(struct hd_tls_conn *c, const uint8_t *msg, size_t len);

/** Drive connect/handshake/read/write after an epoll event for this connection. */
void hd_tls_handle(struct hd_tls_conn *c, uint32_t epoll_events);

/**
 * When hd_tls_conn_tick() should be called next (hd_clock_ms() time), or
 * UINT64_MAX when no socket is open.
 */
uint64_t hd_tls_conn_deadline(const struct hd_tls_conn *c);

/** Enforce the handshake timeout and the idle close at time @p now_ms. */
void hd_tls_conn_tick(struct hd_tls_conn *c, uint64_t now_ms);

/** Drop the connection now, reporting @p status (< 0) if queries were outstanding. */
void hd_tls_conn_reset(struct hd_tls_conn *c, int status);

/** Why the last failure happened ("" if none), valid until the next call on @p c. */
const char *hd_tls_conn_error(const struct hd_tls_conn *c);

/** Counters, for telemetry and tests. */
struct hd_tls_conn_stats {
	uint64_t connects;	/**< TCP connects started */
	uint64_t handshakes;	/**< handshakes completed (certificate verified) */
	uint64_t resumed;	/**< of those, resumed sessions */
	uint64_t failures;	/**< failures reported through the callback */
	uint64_t sent;		/**< messages accepted by hd_tls_send() */
	uint64_t received;	/**< replies delivered */
};

void hd_tls_conn_stats_get(const struct hd_tls_conn *c, struct hd_tls_conn_stats *st);

/** 1 while a TLS session is established and usable, else 0. */
int hd_tls_conn_is_up(const struct hd_tls_conn *c);

#endif /* HD_UPSTREAM_TLS_H */
