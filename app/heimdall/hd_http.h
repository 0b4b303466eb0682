/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_APP_HTTP_H
#define HD_APP_HTTP_H

/*
 * The HTTP server (libmicrohttpd, one internal thread): Prometheus /metrics,
 * /health, /ready and the REST API under /api/. Private to app/heimdall.
 *
 * Other parts of heimdall add their routes with hd_http_route() before
 * hd_http_start(). A handler runs on the server's thread: it must only
 * read state that other threads publish for it (atomics, snapshots under a
 * lock, RCU-published structures it has registered for) and hand changes
 * to their owner, never write the data path's state itself.
 *
 * Bodies are JSON (jansson). A route marked HD_HTTP_TOKEN answers 401
 * without "Authorization: Bearer TOKEN" matching the configured token
 * (api-token-file or HEIMDALL_API_TOKEN), and 403 when no token is
 * configured at all (the API is then read-only). The token is compared in
 * constant time and never logged.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

struct hd_app;

/** Who may call a route. */
enum hd_http_access {
	HD_HTTP_OPEN = 0,	/**< anyone who reaches http-listen */
	HD_HTTP_TOKEN,		/**< the API token */
};

struct hd_http_request {
	const char *method;	/**< "GET", "POST", "PUT", "DELETE" */
	const char *path;	/**< without the query string, e.g. "/api/records/nas.lab" */
	const char *rest;	/**< what follows the route's path when it is a prefix route
				 *   ("nas.lab" above, "" when nothing follows) */
	const char *body;	/**< NUL-terminated; "" when none */
	size_t body_len;
	const struct sockaddr *peer;
	void *impl;		/**< the server's, for hd_http_arg() */
};

struct hd_http_response {
	unsigned int status;	/**< 200 unless the handler says otherwise */
	const char *content_type; /**< "application/json" unless set */
	char *body;		/**< malloc()ed; the server frees it */
	size_t len;
};

typedef void (*hd_http_handler_t)(const struct hd_http_request *req,
				  struct hd_http_response *resp);

/**
 * Add a route before hd_http_start(). @p path ending in '/' matches every
 * path under it (req->rest holds the remainder); otherwise the path must
 * match exactly. The same path may have one handler per method. A path
 * with handlers for other methods answers 405; an unknown path 404.
 * @return 0, -EEXIST, -ENOSPC (too many routes), -EINVAL.
 */
int hd_http_route(const char *method, const char *path, enum hd_http_access access,
		  hd_http_handler_t fn);

/** A query-string argument ("?client=10.0.0.1"), decoded, or NULL. */
const char *hd_http_arg(const struct hd_http_request *req, const char *name);

/** Set @p resp to @p status with @p json (reference stolen, may be NULL: "{}"). */
void hd_http_reply_json(struct hd_http_response *resp, unsigned int status, json_t *json);

/** Set @p resp to @p status with {"error": "<message>"}. */
void hd_http_reply_error(struct hd_http_response *resp, unsigned int status, const char *fmt,
			 ...) __attribute__((format(printf, 3, 4)));

/** Set @p resp to a text body (copied) of @p content_type. */
void hd_http_reply_text(struct hd_http_response *resp, unsigned int status,
			const char *content_type, const char *text, size_t len);

/**
 * Parse the request body as a JSON object. @return it (json_decref() it),
 * or NULL with @p resp already set to 400 naming what is wrong.
 */
json_t *hd_http_body_object(const struct hd_http_request *req, struct hd_http_response *resp);

/* ---- Prometheus /metrics (metrics.c) ---- */

/** The text being built for one scrape. */
struct hd_metrics_buf;

/** Writes one part of /metrics; runs on the server's thread at every scrape. */
typedef void (*hd_metrics_fn)(struct hd_metrics_buf *b);

/**
 * Add a writer of metrics before hd_http_start() (query log, cluster, ...).
 * @return 0 or -ENOSPC.
 */
int hd_metrics_register(hd_metrics_fn fn);

/**
 * Start metric family @p name ("heimdall_querylog_dropped_total") of
 * @p type ("counter", "gauge", "histogram"): its HELP and TYPE lines.
 * Every sample of the family must follow before the next family starts.
 */
void hd_metrics_family(struct hd_metrics_buf *b, const char *name, const char *type,
		       const char *help);

/**
 * One sample of the current family (@p name: the family's, or with _bucket,
 * _sum, _count for a histogram). The variable part is label name and value
 * pairs ending with NULL: hd_metrics_u64(b, "heimdall_queries_total", n,
 * "lcore", "1", NULL); no labels: just NULL. Values are escaped.
 */
void hd_metrics_u64(struct hd_metrics_buf *b, const char *name, uint64_t v, ...);
void hd_metrics_double(struct hd_metrics_buf *b, const char *name, double v, ...);

/** The GET /metrics handler (metrics.c), registered by hd_http_start(). */
void hd_metrics_serve(const struct hd_http_request *req, struct hd_http_response *resp);

/**
 * The slow path's answer times (lib/stats/hd_histo.h): written by the slow
 * path only (hd_histo_add), read by /metrics.
 */
struct hd_histo;
extern struct hd_histo hd_metrics_answer_histo;

/**
 * rte_get_tsc_cycles() of the slow path's last loop (relaxed atomic store
 * by the slow path); /health answers 503 when it is more than 5 s old.
 */
extern uint64_t hd_http_loop_tsc;

/**
 * Read the token (api-token-file, else HEIMDALL_API_TOKEN), register the
 * built-in routes (/metrics, /health, /ready) and start listening on
 * http-listen:http-port. Nothing when http-port is 0.
 * @return 0, or a negative errno after logging why (address in use, bad
 *   address, unreadable token file).
 */
int hd_http_start(struct hd_app *app);

/** Stop the server thread; handlers have returned when this returns. */
void hd_http_stop(void);

#endif /* HD_APP_HTTP_H */
