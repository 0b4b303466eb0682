/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_UPSTREAM_PRIVATE_H
#define HD_UPSTREAM_PRIVATE_H

/*
 * Shared between upstream.c (requests, UDP, timers, the event loop) and
 * tcp.c (upstream TCP after TC=1, the DNS-over-TCP listener and its
 * clients). Never installed.
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
	UP_EV_REQ,
	UP_EV_CONN,
};

static inline uint64_t
up_ev_pack(enum up_ev_kind kind, uint32_t gen, uint32_t idx)
{
	return ((uint64_t)kind << 56) | ((uint64_t)(gen & 0xffffff) << 32) | idx;
}

enum up_req_state {
	UP_REQ_IDLE = 0,	/**< no attempt running */
	UP_REQ_UDP,		/**< datagram sent, waiting for the reply */
	UP_REQ_TCP_CONNECT,	/**< non-blocking connect in progress */
	UP_REQ_TCP_SEND,	/**< writing the length-framed query */
	UP_REQ_TCP_RECV,	/**< reading the length-framed reply */
};

/** One client question being resolved, possibly over several attempts. */
struct up_req {
	struct hd_dns_query q;
	void *client;
	TAILQ_ENTRY(up_req) timer;	/**< in u->timers while an attempt runs */
	uint64_t start_ms;		/**< when resolve was called: the budget starts */
	uint64_t deadline_ms;		/**< this attempt ends */
	uint64_t sent_ms;		/**< this attempt's query left, for the RTT */
	uint32_t idx;
	uint32_t gen;
	int fd;				/**< this attempt's socket, or -1 */
	uint16_t id;			/**< this attempt's DNS ID */
	uint8_t state;			/**< enum up_req_state */
	uint8_t server;			/**< this attempt's server */
	uint8_t attempts;		/**< attempts started */
	uint8_t internal;		/**< for one of our TCP clients */
	uint8_t armed;			/**< in u->timers */
	uint8_t used;			/**< outstanding (not in the free stack) */
	uint32_t conn_idx;		/**< internal: the client connection... */
	uint32_t conn_gen;		/**< ...while it still has this generation */
	uint16_t qwire_len;		/**< internal: the client's header + question */
	uint8_t qwire[UP_QWIRE_MAX];	/**< (kept to echo the client's letter case) */
	uint8_t *tbuf;			/**< TCP attempt: frame being sent, then received */
	uint32_t tlen;			/**< bytes of the frame to send / received so far */
	uint32_t tpos;			/**< bytes sent */
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

struct up_server {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct hd_upstream_server_stats st;
	uint8_t rtt_valid;
};

struct hd_upstream {
	struct hd_upstream_params p;
	struct hd_stats_lcore *stats;
	int epfd;
	struct up_server servers[HD_UPSTREAM_MAX];
	int listen_fd[HD_UPSTREAM_LISTEN_MAX];

	struct up_req *reqs;		/**< max_pending slots */
	uint32_t *free_reqs;		/**< stack of free slot indexes */
	uint32_t n_free;
	TAILQ_HEAD(up_req_list, up_req) timers;	/**< running attempts, earliest deadline first */
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
struct up_req *up_req_get(struct hd_upstream *u);
void up_req_start(struct hd_upstream *u, struct up_req *r);
void up_req_reply(struct hd_upstream *u, struct up_req *r, const uint8_t *msg, size_t len,
		  int tcp);
void up_req_attempt_failed(struct hd_upstream *u, struct up_req *r);
int up_random_id(struct hd_upstream *u, uint16_t *id);
void up_count_rcode(struct hd_upstream *u, int rcode);
socklen_t up_sockaddr_len(const struct sockaddr_storage *ss);

/* tcp.c */
int up_tcp_attempt_start(struct hd_upstream *u, struct up_req *r);
void up_tcp_attempt_event(struct hd_upstream *u, struct up_req *r, uint32_t events);
int up_listen_open(struct hd_upstream *u);
void up_listen_event(struct hd_upstream *u, unsigned int i);
void up_conn_event(struct hd_upstream *u, struct up_conn *c, uint32_t events);
void up_conn_request_done(struct hd_upstream *u, struct up_req *r,
			  const struct hd_dns_answer *a, int rcode);
uint64_t up_conn_next_deadline(const struct hd_upstream *u);
unsigned int up_conn_expire(struct hd_upstream *u, uint64_t now);
void up_conn_close_all(struct hd_upstream *u);

#endif /* HD_UPSTREAM_PRIVATE_H */
