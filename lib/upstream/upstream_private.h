/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_UPSTREAM_PRIVATE_H
#define HD_UPSTREAM_PRIVATE_H

/*
 * Shared between select.c (strategies, RTT and health: pure functions),
 * upstream.c (requests, dedup, UDP attempts, timers, the event loop), tcp.c
 * (upstream TCP after TC=1, the DNS-over-TCP listener and its clients) and
 * dot.c (attempts over DNS over TLS, through tls.c). Never installed.
 *
 * A client's request is a waiter; waiters asking the same question share
 * one up_req; a request runs one attempt at a time (two when racing), each
 * an up_att on one server.
 */

#include <stdint.h>
#include <sys/queue.h>

#include <rte_log.h>

#include "hd_upstream.h"

extern int hd_upstream_logtype;
#define HD_UPSTREAM_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, hd_upstream_logtype, "upstream: " fmt "\n", ##__VA_ARGS__)

#define UP_DNS_MSG_MAX		65535
#define UP_TCP_FRAME_MAX	(2 + UP_DNS_MSG_MAX)
#define UP_QWIRE_MAX		(HD_DNS_HDR_LEN + HD_DNS_NAME_MAX + 4)
/* Queries one TCP client may have waiting on upstreams at a time; more
 * are left unread in its buffer (and then in the kernel) until one ends. */
#define UP_TCP_PIPELINE		16
/* Replies a TCP client has not read yet beyond which we stop reading its
 * queries: a client that never reads cannot make us buffer without bound. */
#define UP_TCP_OUT_HIGH		(256 * 1024)

/*
 * epoll user data: kind, generation and index. The generation makes an
 * event that was already returned for a socket closed (and its slot reused)
 * earlier in the same batch harmless.
 */
enum up_ev_kind {
	UP_EV_LISTEN = 1,
	UP_EV_ATT,		/**< an upstream attempt's own socket */
	UP_EV_CONN,		/**< a DNS-over-TCP client */
	UP_EV_TLS,		/**< a DoT server's connection (index: server) */
};

static inline uint64_t
up_ev_pack(enum up_ev_kind kind, uint32_t gen, uint32_t idx)
{
	return ((uint64_t)kind << 56) | ((uint64_t)(gen & 0xffffff) << 32) | idx;
}

#define UP_NONE UINT32_MAX

/* --- selection and health (select.c): no I/O, time passed in ----------- */

/** Health and RTT of one server. */
struct up_health {
	uint64_t down_since_ms;
	uint64_t retry_ms;	/**< while down: no probe before this */
	uint32_t rtt_ms;
	uint32_t backoff_ms;	/**< while down */
	uint8_t rtt_valid;
	uint8_t down;
	uint8_t fails;		/**< consecutive failures */
};

/** The servers one question may go to. */
struct up_group {
	uint8_t servers[HD_UPSTREAM_GROUP_MAX]; /**< indexes into u->servers */
	uint8_t n;
	uint8_t strategy;	/**< enum hd_upstream_strategy */
	uint8_t zone_len;	/**< zone name, lowercase wire form (0: default group) */
	uint8_t zone[HD_DNS_NAME_MAX];
	uint32_t rr;		/**< round robin: the next first server */
	uint32_t seq;		/**< questions ordered, for fastest's probes */
	uint32_t probe;		/**< the next server fastest probes */
};

/* Every UP_PROBE_EVERY-th question of a fastest/parallel group goes to
 * another server first, so the RTT of the others stays known. */
#define UP_PROBE_EVERY 32

void up_health_ok(struct up_health *h, uint64_t rtt_ms);
void up_health_fail(struct up_health *h, uint64_t now_ms);
/** Attempts the group's strategy wants running at once (1, or 2 when racing). */
unsigned int up_group_width(const struct up_group *g);
/**
 * The order in which a new question tries the servers of @p g: servers
 * that are up, ordered by the strategy (at most one due probe of a down
 * server first), then the down ones (so a group that is all down is still
 * asked). Taking a due probe moves that server's retry time on by its
 * backoff, so one question at a time probes it.
 * @param hs  health of every server, indexed like u->servers
 * @return servers written to @p order (g->n)
 */
unsigned int up_group_order(struct up_group *g, struct up_health *hs, uint64_t now_ms,
			    uint8_t *order);
/** min(attempt_ms, remaining / untried), at least 1 ms while time remains. */
uint64_t up_attempt_timeout(uint32_t attempt_ms, uint64_t remaining_ms, unsigned int untried);
/**
 * The group for lowercase wire-form name @p name: the one whose zone is the
 * longest suffix of it on a label boundary, or 0.
 */
unsigned int up_zone_find(const struct up_group *groups, unsigned int n_groups,
			  const uint8_t *name, size_t len);

/* --- requests, clients and attempts -------------------------------------- */

/** One client waiting for an upstream question. */
struct up_waiter {
	struct hd_dns_query q;		/**< the client's own query (ID, case, EDNS) */
	void *client;
	uint32_t idx;
	uint32_t next;			/**< next waiter of the same request, or UP_NONE */
	uint8_t internal;		/**< for one of our TCP clients */
	uint8_t used;
	uint32_t conn_idx;		/**< internal: the client connection... */
	uint32_t conn_gen;		/**< ...while it still has this generation */
	uint16_t qwire_len;		/**< internal: the client's header + question */
	uint8_t qwire[UP_QWIRE_MAX];	/**< (kept to echo the client's letter case) */
};

/** One upstream question (possibly shared by several clients). */
struct up_req {
	struct hd_dns_query q;		/**< as asked upstream */
	struct hd_cache_key key;	/**< dedup index and cache key */
	uint64_t start_ms;		/**< the budget starts */
	uint32_t idx;
	uint32_t hnext;			/**< dedup hash chain */
	uint32_t waiters;		/**< first waiter, UP_NONE when none */
	uint32_t wtail;
	uint32_t att[2];		/**< attempts running, UP_NONE */
	uint16_t n_waiters;
	uint8_t hashed;			/**< in the dedup index */
	uint8_t used;
	uint8_t group;
	uint8_t order[HD_UPSTREAM_GROUP_MAX];
	uint8_t n_order;
	uint8_t next;			/**< attempts started: order[next % n_order] is next */
	uint8_t width;			/**< attempts wanted at once */
	uint8_t rcode;			/**< an upstream's uncacheable rcode, relayed at the end */
};

enum up_att_state {
	UP_ATT_IDLE = 0,
	UP_ATT_UDP,		/**< datagram sent, waiting for the reply */
	UP_ATT_TCP_CONNECT,	/**< non-blocking connect in progress */
	UP_ATT_TCP_SEND,	/**< writing the length-framed query */
	UP_ATT_TCP_RECV,	/**< reading the length-framed reply */
	UP_ATT_TLS,		/**< sent on the server's DoT connection */
};

/** One query sent to one server. */
struct up_att {
	struct hd_dns_query q;		/**< kept: a raced loser outlives its request */
	TAILQ_ENTRY(up_att) timer;	/**< in u->timers while armed */
	TAILQ_ENTRY(up_att) tls;	/**< in its server's tls_atts */
	uint64_t deadline_ms;
	uint64_t sent_ms;
	uint32_t idx;
	uint32_t gen;
	uint32_t req;			/**< UP_NONE: the race was lost, only RTT is left */
	int fd;				/**< own socket (UDP, TCP), or -1 */
	uint16_t id;
	uint8_t state;			/**< enum up_att_state */
	uint8_t server;
	uint8_t armed;
	uint8_t used;
	uint8_t orphan;			/**< its request ended; counted in n_orphans */
	uint32_t tls_epoch;		/**< DoT: its server's failure count when sent */
	uint8_t *tbuf;			/**< TCP: frame being sent, then received */
	uint32_t tlen;
	uint32_t tpos;
};

/** A DNS-over-TCP client. */
struct up_conn {
	TAILQ_ENTRY(up_conn) idle;	/**< in u->conns_idle, oldest activity first */
	uint64_t idle_deadline_ms;
	int fd;				/**< -1 when the slot is free */
	uint32_t idx;
	uint32_t gen;
	uint32_t events;		/**< epoll interest registered */
	uint32_t pending;		/**< internal requests outstanding */
	uint8_t rd_closed;		/**< the client shut its sending side */
	uint8_t err;			/**< a write failed: close when back at the top */
	uint8_t busy;			/**< inside conn_process(): don't re-enter */
	struct sockaddr_storage peer;	/**< the client, for the policy hook */
	uint8_t *in;			/**< UP_TCP_FRAME_MAX bytes */
	uint32_t in_len;
	uint8_t *out;			/**< replies not yet written */
	size_t out_off;
	size_t out_len;
	size_t out_cap;
};

struct hd_tls_ctx;
struct hd_tls_conn;

struct up_server {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct hd_upstream_server_stats st;
	struct hd_upstream *u;		/**< for the TLS callback */
	unsigned int idx;
	struct hd_tls_conn *tls;	/**< DoT servers only */
	uint32_t *tls_ids;		/**< DoT: 65536 attempt indexes + 1 by DNS ID */
	TAILQ_HEAD(, up_att) tls_atts;	/**< DoT: attempts waiting on the connection, oldest first */
	uint32_t tls_epoch;		/**< DoT: connection failures so far */
	int tls_failing;		/**< DoT: failed since its last reply (logged once) */
};

struct hd_upstream {
	struct hd_upstream_params p;
	struct hd_stats_lcore *stats;
	int epfd;
	struct up_server servers[HD_UPSTREAM_MAX];
	struct up_health health[HD_UPSTREAM_MAX]; /**< same index as servers */
	struct up_group groups[1 + HD_UPSTREAM_ZONES_MAX];
	unsigned int n_groups;
	int listen_fd[HD_UPSTREAM_LISTEN_MAX];
	struct hd_tls_ctx *tls_ctx;
	uint8_t tls_servers[HD_UPSTREAM_MAX];	/**< indexes of the DoT servers */
	unsigned int n_tls;

	struct up_waiter *waiters;	/**< max_pending slots */
	uint32_t *free_waiters;
	uint32_t n_free_waiters;
	struct up_req *reqs;		/**< max_pending slots */
	uint32_t *free_reqs;
	uint32_t n_free_reqs;
	uint32_t *hash;			/**< dedup buckets: first request, UP_NONE */
	uint32_t hash_mask;
	struct up_att *atts;		/**< 2 * max_pending slots */
	uint32_t *free_atts;
	uint32_t n_free_atts;
	uint32_t n_atts;
	uint32_t n_orphans;		/**< raced losers still waiting (< max_pending) */
	TAILQ_HEAD(up_att_list, up_att) timers;	/**< armed attempts, earliest deadline first */
	unsigned int max_attempts;

	struct up_conn *conns;		/**< max_tcp_clients slots */
	uint32_t *free_conns;
	uint32_t n_free_conns;
	TAILQ_HEAD(up_conn_list, up_conn) conns_idle;
	uint8_t listen_paused;		/**< out of descriptors: accept later */
	uint64_t listen_resume_ms;

	uint8_t rnd[256];		/**< getrandom() output; IDs are taken from it */
	unsigned int rnd_pos;

	uint8_t rbuf[UP_DNS_MSG_MAX];	/**< upstream datagrams are received here */
	uint8_t wbuf[UP_DNS_MSG_MAX];	/**< replies to TCP clients are built here */
};

/* upstream.c */
struct up_waiter *up_waiter_get(struct hd_upstream *u);
void up_waiter_put(struct hd_upstream *u, struct up_waiter *w);
int up_waiter_submit(struct hd_upstream *u, struct up_waiter *w);
void up_att_reply(struct hd_upstream *u, struct up_att *a, const uint8_t *msg, size_t len,
		  int tcp);
void up_att_failed(struct hd_upstream *u, struct up_att *a, int health);
int up_random_id(struct hd_upstream *u, uint16_t *id);
void up_count_rcode(struct hd_upstream *u, int rcode);
socklen_t up_sockaddr_len(const struct sockaddr_storage *ss);

/* tcp.c */
int up_tcp_attempt_start(struct hd_upstream *u, struct up_att *a);
void up_tcp_attempt_event(struct hd_upstream *u, struct up_att *a, uint32_t events);
int up_listen_open(struct hd_upstream *u);
void up_listen_event(struct hd_upstream *u, unsigned int i);
void up_conn_event(struct hd_upstream *u, struct up_conn *c, uint32_t events);
void up_conn_request_done(struct hd_upstream *u, struct up_waiter *w,
			  const struct hd_dns_answer *a, int rcode);
uint64_t up_conn_next_deadline(const struct hd_upstream *u);
unsigned int up_conn_expire(struct hd_upstream *u, uint64_t now);
void up_conn_close_all(struct hd_upstream *u);

/* dot.c: DNS over TLS attempts on each DoT server's kept connection */
int up_dot_open(struct hd_upstream *u);
void up_dot_close(struct hd_upstream *u);
int up_dot_attempt_start(struct hd_upstream *u, struct up_att *a);
void up_dot_attempt_end(struct hd_upstream *u, struct up_att *a);
void up_dot_event(struct hd_upstream *u, unsigned int server, uint32_t events);
uint64_t up_dot_next_deadline(const struct hd_upstream *u);
void up_dot_tick(struct hd_upstream *u, uint64_t now);

#endif /* HD_UPSTREAM_PRIVATE_H */
