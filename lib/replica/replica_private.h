/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_REPLICA_PRIVATE_H
#define HD_REPLICA_PRIVATE_H

/* What the files of lib/replica share beyond hd_replica.h; never installed. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <hiredis/hiredis.h>
#include <rte_log.h>

#include "hd_replica.h"

extern int hd_replica_logtype;
#define REPLICA_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, hd_replica_logtype, "replica: " fmt "\n", ##__VA_ARGS__)

/* ---- conn.c: one RESP connection (TCP, or TLS over it) ---- */

/**
 * A reply, or NULL when none will come (the connection closed). Runs from
 * rconn_io() or rconn_close(); it may queue commands (rconn_send) but must
 * not close the connection it is called for.
 */
typedef void (*rconn_fn)(void *owner, redisReply *rep, void *priv);

/** TLS credentials (trust store) shared by every connection of a client. */
struct rconn_tls;

struct rconn_tls *rconn_tls_create(const char *ca_file, char *err, size_t errlen);
void rconn_tls_free(struct rconn_tls *t);

enum rconn_phase {
	RC_CLOSED = 0,
	RC_CONNECTING,	/* TCP */
	RC_HANDSHAKE,	/* TLS */
	RC_OPEN,
};

struct rconn_wait {
	rconn_fn fn;
	void *priv;
};

struct rconn {
	enum rconn_phase phase;
	int fd;
	gnutls_session_t s;		/* NULL: plain TCP */
	gnutls_typed_vdata_st vd;	/* GnuTLS keeps a pointer to it */
	char name[256];			/* the name the certificate must hold, or "" */
	uint8_t ip[16];			/* else this address */
	unsigned int ip_len;
	redisReader *rd;
	char *out;			/* requests not yet written */
	size_t out_len, out_off, out_cap;
	struct rconn_wait *w;		/* replies awaited, in order */
	uint32_t w_cap, w_head, w_n;
	rconn_fn push;			/* replies nobody awaits (pub/sub messages) */
	void *owner;
	size_t in_partial;		/* bytes read since the last complete reply */
	char err[192];
};

/** A closed connection whose unawaited replies go to @p push (may be NULL). */
void rconn_init(struct rconn *c, void *owner, rconn_fn push);

/**
 * Start connecting to @p sa; with @p tls, a TLS session that verifies
 * the certificate against @p name (a host name), or the address when
 * @p name is NULL or an IP literal. Commands may be queued at once.
 * @param max_wait  replies that may be awaited at once
 * @return 0, or a negative errno with c->err set.
 */
int rconn_open(struct rconn *c, const struct sockaddr *sa, socklen_t salen,
	       struct rconn_tls *tls, const char *name, uint32_t max_wait);

/**
 * Queue one command; @p fn NULL: the reply goes to the push callback.
 * @return 0, -ENOTCONN (closed), -ENOBUFS (too many awaited or buffered),
 *   -ENOMEM.
 */
int rconn_send(struct rconn *c, rconn_fn fn, void *priv, int argc, const char **argv,
	       const size_t *argvlen);

/** Do the I/O the socket allows now. @return 0, or -1 when it failed (c->err). */
int rconn_io(struct rconn *c);

/** Close; every awaited reply gets its callback with NULL. Closed: no-op. */
void rconn_close(struct rconn *c);

static inline bool
rconn_is_open(const struct rconn *c)
{
	return c->phase == RC_OPEN;
}

/* ---- resolve.c: host names without blocking the slow path ---- */

struct rresolve;

/** Start resolving @p host (an address is resolved at once). @return NULL: ENOMEM. */
struct rresolve *rresolve_start(const char *host, uint16_t port);

/**
 * @return 1 with the first address in @p sa, 0 while under way, or a
 * negative value with @p err set (the name does not resolve).
 */
int rresolve_poll(struct rresolve *q, struct sockaddr_storage *sa, socklen_t *salen,
		  char *err, size_t errlen);

/** Give up (or free a finished one). NULL: no-op. */
void rresolve_free(struct rresolve *q);


/* ---- the client (replica.c, sub.c, sentinel.c) ---- */

#define SUB_CHANNELS_MAX	8
#define SENTINELS_MAX		8

/* Where the main connection stands; hd_replica_state is what telemetry shows. */
enum main_step {
	M_IDLE = 0,	/* down: waiting for the next attempt */
	M_SENTINEL,	/* asking the Sentinels for the master */
	M_RESOLVE,	/* resolving the server's name */
	M_HANDSHAKE,	/* connect, TLS, AUTH, SELECT, ROLE */
	M_UP,
};

/*
 * Slots of one kind (lookups, commands): those in use, linked in the order
 * they were taken, and a stack of the free ones, all by index. Every slot
 * of a kind gets the same timeout from a monotonic clock, so the order
 * taken is the order of the deadlines: expiry looks at the oldest only.
 */
#define SLOT_NIL	UINT32_MAX

struct slot_link {
	uint32_t prev, next;
};

struct slots {
	struct slot_link *link;
	uint32_t n, used;
	uint32_t head, tail;	/* in use, oldest first */
	uint32_t free;		/* free, linked through next */
};

struct lookup {
	hd_replica_get_t cb;
	void *arg;
	void *ctx;
	uint64_t deadline_ms;
	uint32_t gen;
	uint8_t used;
	uint8_t failed;		/* the GET gave no value: nil or an error */
	uint8_t *val;		/* the GET's value, until PTTL's reply */
	size_t val_len;
	struct hd_dns_query q;
};

struct command {
	hd_replica_reply_t cb;
	void *arg;
	uint64_t deadline_ms;
	uint32_t gen;
	uint8_t used;
};

struct channel {
	char name[128];
	hd_replica_message_t cb;
	void *arg;
};

struct sentinel_addr {
	char host[256];
	uint16_t port;
};

struct hd_replica {
	struct hd_replica_params p;
	char host[256], user[128], password[256], prefix[HD_REPLICA_PREFIX_MAX + 1];
	char master[128];
	struct rconn_tls *tls;

	/* the main connection: lookups, writes, commands */
	struct rconn mc;
	enum main_step step;
	enum hd_replica_state state;
	struct rresolve *res;
	char target[256];		/* the host being connected: URL's or Sentinel's */
	uint16_t target_port;
	struct sockaddr_storage addr;	/* its address, once resolved */
	socklen_t addrlen;
	char addr_str[64];		/* "IP:PORT" for logs and stats */
	bool drop;			/* close at the next poll (set inside callbacks) */
	bool down_logged;		/* "unreachable" said once until connected again */
	bool freeing;
	char drop_why[192];
	uint64_t next_try_ms;
	uint32_t backoff_ms;
	uint64_t deadline_ms;		/* connect + handshake */
	uint64_t progress_ms;		/* last reply, or the first command after a quiet spell */
	uint64_t aux_ms;		/* last poll of the subscriber and Sentinel connections */
	struct hd_replica_stats st;
	struct lookup *lk;
	struct slots lks;
	struct command *cmd;
	struct slots cmds;

	/* the subscriber connection (sub.c) */
	struct rconn sc;
	struct channel ch[SUB_CHANNELS_MAX];
	unsigned int n_ch;
	bool sub_live, sub_drop, sub_logged;
	unsigned int sub_acks;
	uint64_t sub_next_ms, sub_deadline_ms, sub_ping_ms, sub_seen_ms;

	/* the Sentinels (sentinel.c) */
	struct rconn nc;
	struct sentinel_addr sen[SENTINELS_MAX];
	unsigned int n_sen, sen_i, sen_tried;
	struct rresolve *sen_res;
	bool sen_asked, sen_drop, sen_switch;
	char sen_err[192];
	uint64_t sen_deadline_ms, sen_next_ms;

	char key[HD_REPLICA_KEY_MAX];
	uint8_t val[];
};

/* replica.c */
uint64_t replica_connect_ms(const struct hd_replica *r);
void replica_connect_to(struct hd_replica *r, const char *host, uint16_t port, uint64_t now);
void replica_went_down(struct hd_replica *r, const char *why, uint64_t now);
void replica_drop_main(struct hd_replica *r, const char *why);
int replica_cmd(struct rconn *c, rconn_fn fn, void *priv, ...) __attribute__((sentinel));
void replica_addr_str(const struct sockaddr_storage *sa, char *out, size_t len);

/* sub.c */
void sub_poll(struct hd_replica *r, uint64_t now);
void sub_close(struct hd_replica *r);
int sub_add(struct hd_replica *r, const char *channel, hd_replica_message_t cb, void *arg);

/* sentinel.c */
int sentinel_parse(struct hd_replica *r, const char *list);
void sentinel_start(struct hd_replica *r, uint64_t now);
void sentinel_poll(struct hd_replica *r, uint64_t now);
void sentinel_close(struct hd_replica *r);

#endif /* HD_REPLICA_PRIVATE_H */
