/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The HTTP server: libmicrohttpd with one internal polling thread, a fixed
 * route table filled before start, bodies accumulated up to a limit, and
 * the bearer-token check for the API's writes. /metrics lives in metrics.c;
 * /health and /ready here.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "hd_app.h"
#include "hd_http.h"

#define ROUTES_MAX	64
#define ROUTE_PATH_MAX	128
#define BODY_MAX	(1u << 20)	/* larger requests get 413 */
#define TOKEN_MAX	512
#define CONN_LIMIT	64		/* operators and scrapers, not the public */
#define CONN_TIMEOUT_S	30

struct route {
	char method[8];
	char path[ROUTE_PATH_MAX];
	size_t len;
	int prefix;			/* path ends with '/' */
	enum hd_http_access access;
	hd_http_handler_t fn;
};

/* Per request, from the first call of the access handler to completion. */
struct conn {
	char *body;
	size_t len, cap;
	int too_large;
};

static struct {
	struct route routes[ROUTES_MAX];
	unsigned int n_routes;
	struct MHD_Daemon *daemon;
	int started;
	char token[TOKEN_MAX];
	size_t token_len;		/* 0: no token, the API is read-only */
	struct hd_app *app;
} srv;

int
hd_http_route(const char *method, const char *path, enum hd_http_access access,
	      hd_http_handler_t fn)
{
	struct route *r;
	size_t len;
	unsigned int i;

	if (method == NULL || path == NULL || fn == NULL || path[0] != '/' || srv.started ||
	    strlen(method) >= sizeof(r->method) || (access != HD_HTTP_OPEN &&
						     access != HD_HTTP_TOKEN))
		return -EINVAL;
	len = strlen(path);
	if (len >= ROUTE_PATH_MAX)
		return -EINVAL;
	for (i = 0; i < srv.n_routes; i++)
		if (strcmp(srv.routes[i].path, path) == 0 &&
		    strcmp(srv.routes[i].method, method) == 0)
			return -EEXIST;
	if (srv.n_routes == ROUTES_MAX)
		return -ENOSPC;
	r = &srv.routes[srv.n_routes++];
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->len = len;
	r->prefix = path[len - 1] == '/';
	r->access = access;
	r->fn = fn;
	return 0;
}

const char *
hd_http_arg(const struct hd_http_request *req, const char *name)
{
	if (req == NULL || req->impl == NULL || name == NULL)
		return NULL;
	return MHD_lookup_connection_value(req->impl, MHD_GET_ARGUMENT_KIND, name);
}

static void
resp_set(struct hd_http_response *resp, unsigned int status, const char *type, char *body,
	 size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = type;
	resp->body = body;
	resp->len = len;
}

void
hd_http_reply_json(struct hd_http_response *resp, unsigned int status, json_t *json)
{
	char *s;

	if (json == NULL)
		json = json_object();
	s = json != NULL ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(json);
	if (s == NULL) {
		/* Out of memory, or a string that is not UTF-8: say so, do not crash. */
		s = strdup("{\"error\":\"reply could not be encoded\"}");
		status = 500;
	}
	resp_set(resp, status, "application/json", s, s != NULL ? strlen(s) : 0);
}

void
hd_http_reply_error(struct hd_http_response *resp, unsigned int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	char *c;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote request paths: keep JSON encodable whatever the client sent. */
	for (c = msg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	hd_http_reply_json(resp, status, json_pack("{s:s}", "error", msg));
}

void
hd_http_reply_text(struct hd_http_response *resp, unsigned int status,
		   const char *content_type, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		hd_http_reply_error(resp, 500, "out of memory");
		return;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	resp_set(resp, status, content_type, copy, len);
}

json_t *
hd_http_body_object(const struct hd_http_request *req, struct hd_http_response *resp)
{
	json_error_t err;
	json_t *o;

	if (req->body_len == 0) {
		hd_http_reply_error(resp, 400, "a JSON object body is required");
		return NULL;
	}
	o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL) {
		hd_http_reply_error(resp, 400, "invalid JSON at line %d column %d: %s",
				    err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		hd_http_reply_error(resp, 400, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

/* ---- the token ---- */

/* First line of the file, surrounding blanks removed. */
static int
token_read_file(const char *file)
{
	char line[TOKEN_MAX + 2];
	size_t n, start = 0;
	FILE *f;
	int err;

	f = fopen(file, "r");
	if (f == NULL) {
		err = errno;
		APP_LOG(ERR, "cannot read api-token-file %s: %s", file, strerror(err));
		return -err;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	err = ferror(f) ? EIO : 0;
	fclose(f);
	n = strlen(line);
	if (err == 0 && n == sizeof(line) - 1 && line[n - 1] != '\n') {
		APP_LOG(ERR, "api-token-file %s: the token is longer than %d bytes", file,
			TOKEN_MAX - 1);
		return -EINVAL;
	}
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	while (start < n && isspace((unsigned char)line[start]))
		start++;
	if (err != 0 || start == n) {
		APP_LOG(ERR, "api-token-file %s: %s", file,
			err != 0 ? "read error" : "no token on its first line");
		return err != 0 ? -err : -EINVAL;
	}
	memcpy(srv.token, line + start, n - start);
	srv.token_len = n - start;
	srv.token[srv.token_len] = '\0';
	explicit_bzero(line, sizeof(line));
	return 0;
}

static int
token_load(const struct hd_config *cfg)
{
	const char *env;
	size_t n;

	srv.token_len = 0;
	if (cfg->api_token_file[0] != '\0')
		return token_read_file(cfg->api_token_file);
	env = getenv("HEIMDALL_API_TOKEN");
	if (env == NULL)
		return 0;
	while (isspace((unsigned char)*env))
		env++;
	n = strlen(env);
	while (n > 0 && isspace((unsigned char)env[n - 1]))
		n--;
	if (n >= TOKEN_MAX) {
		APP_LOG(ERR, "HEIMDALL_API_TOKEN is longer than %d bytes", TOKEN_MAX - 1);
		return -EINVAL;
	}
	memcpy(srv.token, env, n);
	srv.token[n] = '\0';
	srv.token_len = n;
	return 0;
}

/* Time independent of where the first difference is; only the lengths leak. */
static int
token_equal(const char *given, size_t len)
{
	unsigned char diff = len != srv.token_len;
	size_t i;

	for (i = 0; i < srv.token_len; i++)
		diff |= (unsigned char)srv.token[i] ^ (unsigned char)(i < len ? given[i] : 0);
	return diff == 0;
}

/* @return 0 when allowed, else the status already chosen (401 or 403). */
static unsigned int
token_check(struct MHD_Connection *c, struct hd_http_response *resp)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	if (srv.token_len == 0) {
		hd_http_reply_error(resp, 403, "no API token is configured (api-token-file or "
				    "HEIMDALL_API_TOKEN): the API is read-only");
		return 403;
	}
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		if (token_equal(h, strlen(h)))
			return 0;
	}
	hd_http_reply_error(resp, 401, "a valid \"Authorization: Bearer TOKEN\" header is required");
	return 401;
}

/* ---- dispatch ---- */

static int
route_matches(const struct route *r, const char *url)
{
	if (r->prefix)
		return strncmp(url, r->path, r->len) == 0;
	return strcmp(url, r->path) == 0;
}

/*
 * The most specific path (an exact match, else the longest prefix), then
 * the method among that path's handlers. @p allow gets the path's methods.
 */
static const struct route *
route_find(const char *url, const char *method, const struct route **path_match)
{
	const struct route *best = NULL;
	unsigned int i;

	for (i = 0; i < srv.n_routes; i++) {
		const struct route *r = &srv.routes[i];

		if (!route_matches(r, url))
			continue;
		if (best == NULL || (!r->prefix && best->prefix) ||
		    (r->prefix == best->prefix && r->len > best->len))
			best = r;
	}
	*path_match = best;
	if (best == NULL)
		return NULL;
	for (i = 0; i < srv.n_routes; i++) {
		const struct route *r = &srv.routes[i];

		if (strcmp(r->path, best->path) == 0 && strcmp(r->method, method) == 0)
			return r;
	}
	return NULL;
}

static void
allow_header(const struct route *path_match, char *out, size_t size)
{
	size_t off = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < srv.n_routes && off < size; i++) {
		const struct route *r = &srv.routes[i];

		if (strcmp(r->path, path_match->path) != 0)
			continue;
		off += snprintf(out + off, size - off, "%s%s", off > 0 ? ", " : "", r->method);
		if (strcmp(r->method, "GET") == 0 && off < size)
			off += snprintf(out + off, size - off, ", HEAD");
	}
}

static enum MHD_Result
send_reply(struct MHD_Connection *c, struct hd_http_response *resp, const char *allow,
	   int auth_challenge)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->body == NULL) {
		resp->body = strdup("");
		resp->len = 0;
		if (resp->body == NULL)
			return MHD_NO;
	}
	r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(resp->body);
		return MHD_NO;
	}
	resp->body = NULL;	/* MHD frees it with the response */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				resp->content_type != NULL ? resp->content_type :
				"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (auth_challenge)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"heimdall\"");
	ret = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
dispatch(struct MHD_Connection *c, const char *url, const char *method, struct conn *st)
{
	struct hd_http_response resp = { .status = 200 };
	const struct route *route, *path_match;
	const union MHD_ConnectionInfo *ci;
	struct hd_http_request req;
	char allow[128];
	unsigned int denied;

	/* HEAD is GET without the body, which MHD leaves out by itself. */
	route = route_find(url, strcmp(method, "HEAD") == 0 ? "GET" : method, &path_match);
	if (path_match == NULL) {
		hd_http_reply_error(&resp, 404, "no such path: %s", url);
		return send_reply(c, &resp, NULL, 0);
	}
	if (route == NULL) {
		allow_header(path_match, allow, sizeof(allow));
		hd_http_reply_error(&resp, 405, "method %s not allowed on %s (allowed: %s)", method,
				    url, allow);
		return send_reply(c, &resp, allow, 0);
	}
	if (route->access == HD_HTTP_TOKEN) {
		denied = token_check(c, &resp);
		if (denied != 0)
			return send_reply(c, &resp, NULL, denied == 401);
	}
	if (st->too_large) {
		hd_http_reply_error(&resp, 413, "request body larger than %u bytes", BODY_MAX);
		return send_reply(c, &resp, NULL, 0);
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	req = (struct hd_http_request){
		.method = method,
		.path = url,
		.rest = route->prefix ? url + route->len : "",
		.body = st->body != NULL ? st->body : "",
		.body_len = st->len,
		.peer = ci != NULL ? ci->client_addr : NULL,
		.impl = c,
	};
	route->fn(&req, &resp);
	if (resp.status < 100 || resp.status > 599) {
		free(resp.body);
		resp = (struct hd_http_response){ .status = 200 };
		hd_http_reply_error(&resp, 500, "handler for %s gave no valid status", url);
	}
	return send_reply(c, &resp, NULL, 0);
}

static void
body_append(struct conn *st, const char *data, size_t n)
{
	size_t cap;
	char *p;

	if (st->too_large)
		return;		/* keep reading and discarding, then answer 413 */
	if (n > BODY_MAX - st->len) {
		st->too_large = 1;
		return;
	}
	if (st->len + n + 1 > st->cap) {
		cap = st->cap == 0 ? 4096 : st->cap;
		while (cap < st->len + n + 1)
			cap *= 2;
		p = realloc(st->body, cap);
		if (p == NULL) {
			st->too_large = 1;
			return;
		}
		st->body = p;
		st->cap = cap;
	}
	memcpy(st->body + st->len, data, n);
	st->len += n;
	st->body[st->len] = '\0';
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct conn *st = *con_cls;
	const char *cl;

	(void)cls;
	(void)version;
	if (st == NULL) {
		st = calloc(1, sizeof(*st));
		if (st == NULL)
			return MHD_NO;
		*con_cls = st;
		/* A declared body over the limit is refused before it is read. */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > BODY_MAX) {
			struct hd_http_response resp = { .status = 413 };

			st->too_large = 1;
			hd_http_reply_error(&resp, 413, "request body larger than %u bytes",
					    BODY_MAX);
			return send_reply(c, &resp, NULL, 0);
		}
		return MHD_YES;
	}
	if (*upload_size != 0) {
		body_append(st, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(c, url, method, st);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct conn *st = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (st == NULL)
		return;
	free(st->body);
	free(st);
	*con_cls = NULL;
}

/*
 * libmicrohttpd reports every malformed request; a client sending garbage
 * must not be able to flood the log: at most MHD_LOG_BURST messages per
 * MHD_LOG_WINDOW_S seconds, then one line saying how many were left out.
 * Only the server's thread calls this.
 */
#define MHD_LOG_BURST		10
#define MHD_LOG_WINDOW_S	10

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	static uint64_t window_start;
	static unsigned int in_window, suppressed;
	uint64_t now = rte_get_tsc_cycles();
	char msg[256];
	size_t n;

	(void)cls;
	if (window_start == 0 || now - window_start > MHD_LOG_WINDOW_S * rte_get_tsc_hz()) {
		if (suppressed > 0)
			APP_LOG(WARNING, "http: %u more messages from the HTTP library left out "
				"in %d s", suppressed, MHD_LOG_WINDOW_S);
		window_start = now;
		in_window = 0;
		suppressed = 0;
	}
	if (in_window++ >= MHD_LOG_BURST) {
		suppressed++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	APP_LOG(WARNING, "http: %s", msg);
}

/* ---- /health and /ready ---- */

/* The slow path's loop stamps hd_http_loop_tsc; older than this is not live. */
#define HEALTH_STALE_S	5

uint64_t hd_http_loop_tsc;

static void
on_health(const struct hd_http_request *req, struct hd_http_response *resp)
{
	uint64_t now = rte_get_tsc_cycles();
	uint64_t last = __atomic_load_n(&hd_http_loop_tsc, __ATOMIC_RELAXED);
	double age = last != 0 && now > last ? (double)(now - last) / rte_get_tsc_hz() : 0;

	(void)req;
	if (srv.app->stop) {
		hd_http_reply_json(resp, 503, json_pack("{s:s}", "status", "stopping"));
		return;
	}
	if (last != 0 && age > HEALTH_STALE_S) {
		hd_http_reply_json(resp, 503, json_pack("{s:s,s:s,s:f}", "status", "stalled",
							"error", "the slow path loop has not run",
							"seconds", age));
		return;
	}
	hd_http_reply_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ports down, by name, into @p down. @return how many. */
static unsigned int
ports_down(const struct hd_app *app, json_t *down)
{
	struct rte_eth_link link;
	unsigned int n = 0;
	uint16_t i;

	for (i = 0; i < app->n_ports; i++) {
		char name[RTE_ETH_NAME_MAX_LEN];

		/* The kernel's side of an exception TAP does not decide whether DNS is served. */
		if (app->ports[i].mode == HD_PORT_EXCEPTION)
			continue;
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(i, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
			continue;
		if (rte_eth_dev_get_name_by_port(i, name) != 0)
			snprintf(name, sizeof(name), "port%u", i);
		json_array_append_new(down, json_string(name));
		n++;
	}
	return n;
}

/* Ranks as the slow path fills up_snap: default upstreams, then forward zones. */
static unsigned int
upstreams_up(const struct hd_app *app, unsigned int *total)
{
	unsigned int i, n = app->cfg.n_upstream, up = 0;

	for (i = 0; i < app->cfg.n_forwards; i++)
		n += app->cfg.forwards[i].n_servers;
	if (n > HD_UPSTREAM_MAX)
		n = HD_UPSTREAM_MAX;
	for (i = 0; i < n; i++)
		if (!__atomic_load_n(&app->up_snap[i].down, __ATOMIC_RELAXED))
			up++;
	*total = n;
	return up;
}

static void
on_ready(const struct hd_http_request *req, struct hd_http_response *resp)
{
	struct hd_app *app = srv.app;
	json_t *down = json_array(), *errors = json_array();
	unsigned int n_up, n_total, stale_on, stale_ok;
	struct hd_cache_stats cs;

	(void)req;
	if (ports_down(app, down) > 0)
		json_array_append_new(errors, json_string("port down"));
	n_up = upstreams_up(app, &n_total);
	memset(&cs, 0, sizeof(cs));
	if (app->cache != NULL)
		hd_cache_stats_get(app->cache, &cs);
	stale_on = app->cfg.serve_stale && app->cfg.stale_window > 0;
	stale_ok = stale_on && cs.entries > 0;
	if (n_up == 0 && !stale_ok)
		json_array_append_new(errors, json_string(stale_on ?
			"every upstream is down and the cache is empty" :
			"every upstream is down and serve-stale is off"));
	if (app->stop)
		json_array_append_new(errors, json_string("stopping"));
	hd_http_reply_json(resp, json_array_size(errors) == 0 ? 200 : 503,
			   json_pack("{s:s,s:o,s:o,s:I,s:I,s:b,s:I}",
				     "status", json_array_size(errors) == 0 ? "ready" : "not ready",
				     "errors", errors, "ports_down", down,
				     "upstreams_up", (json_int_t)n_up,
				     "upstreams", (json_int_t)n_total,
				     "serve_stale", stale_on,
				     "cache_entries", (json_int_t)cs.entries));
}

/* ---- start and stop ---- */

static int
listen_socket(const struct hd_config *cfg, int *fd_out)
{
	struct sockaddr_storage ss;
	char host[sizeof(cfg->http_listen)];
	socklen_t sl;
	size_t n;
	int fd, one = 1, err;

	/* "::1" or "[::1]" or "127.0.0.1": a literal, never a name to resolve. */
	snprintf(host, sizeof(host), "%s", cfg->http_listen);
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(cfg->http_port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(cfg->http_port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		APP_LOG(ERR, "http-listen %s is not an IPv4 or IPv6 address", cfg->http_listen);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0)
		goto fail;
	*fd_out = fd;
	return 0;
fail:
	err = errno;
	APP_LOG(ERR, "cannot listen on http-listen %s port %u: %s%s", cfg->http_listen,
		cfg->http_port, strerror(err),
		err == EADDRINUSE ? " (another process has it: change http-port)" :
		err == EADDRNOTAVAIL ? " (no interface has this address)" : "");
	if (fd >= 0)
		close(fd);
	return -err;
}

struct start_arg {
	int fd;
	struct MHD_Daemon *daemon;
};

/*
 * Runs on a DPDK control thread so that MHD's thread, created from here,
 * inherits the control cores' affinity rather than the slow path's lcore.
 */
static void *
daemon_start(void *arg)
{
	struct start_arg *sa = arg;

	sa->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
				      NULL, NULL, on_request, NULL,
				      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				      MHD_OPTION_LISTEN_SOCKET, sa->fd,
				      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
				      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
				      MHD_OPTION_END);
	return NULL;
}

static int
builtin_routes(void)
{
	int ret;

	ret = hd_http_route("GET", "/metrics", HD_HTTP_OPEN, hd_metrics_serve);
	if (ret == 0)
		ret = hd_http_route("GET", "/health", HD_HTTP_OPEN, on_health);
	if (ret == 0)
		ret = hd_http_route("GET", "/ready", HD_HTTP_OPEN, on_ready);
	if (ret < 0)
		APP_LOG(ERR, "http: cannot add the built-in routes: %s", strerror(-ret));
	return ret;
}

int
hd_http_start(struct hd_app *app)
{
	struct start_arg sa = { .fd = -1 };
	const struct hd_config *cfg = &app->cfg;
	pthread_t t;
	int ret;

	srv.app = app;
	if (cfg->http_port == 0) {
		APP_LOG(INFO, "HTTP server off (http-port 0): no metrics, health or API");
		return 0;
	}
	ret = token_load(cfg);
	if (ret < 0)
		return ret;
	ret = builtin_routes();
	if (ret < 0)
		return ret;
	ret = listen_socket(cfg, &sa.fd);
	if (ret < 0)
		return ret;
	ret = rte_ctrl_thread_create(&t, "hd-http-start", NULL, daemon_start, &sa);
	if (ret == 0)
		pthread_join(t, NULL);
	else
		daemon_start(&sa);
	if (sa.daemon == NULL) {
		APP_LOG(ERR, "cannot start the HTTP server on %s port %u", cfg->http_listen,
			cfg->http_port);
		close(sa.fd);
		return -EIO;
	}
	srv.daemon = sa.daemon;
	srv.started = 1;
	APP_LOG(INFO, "HTTP on http://%s%s%s:%u (metrics, health, api)%s",
		strchr(cfg->http_listen, ':') != NULL && cfg->http_listen[0] != '[' ? "[" : "",
		cfg->http_listen,
		strchr(cfg->http_listen, ':') != NULL && cfg->http_listen[0] != '[' ? "]" : "",
		cfg->http_port, srv.token_len == 0 ? "; no API token: the API is read-only" : "");
	return 0;
}

void
hd_http_stop(void)
{
	if (srv.daemon != NULL) {
		/* Returns once the polling thread has joined: no handler runs any more. */
		MHD_stop_daemon(srv.daemon);
		srv.daemon = NULL;
	}
	explicit_bzero(srv.token, sizeof(srv.token));
	srv.token_len = 0;
}
