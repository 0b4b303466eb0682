/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over TLS client transport (lib/upstream/tls.c) against a small
 * GnuTLS DoT server run in a thread on 127.0.0.1. The CA and server
 * certificates are made at start-up in a temporary directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <rte_eal.h>

#include "hd_clock.h"
#include "hd_wire.h"
#include "tls.h"

#define EV_DATA		0x7115ULL
#define SERVER_NAME	"dot.test"
#define QLEN		25

/* --- certificates ----------------------------------------------------------- */

struct pki {
	gnutls_x509_privkey_t ca_key, other_key, srv_key;
	gnutls_x509_crt_t ca, other, srv;
	char dir[64];
	char ca_file[96];
	char other_file[96];
	char empty_file[96];
};

static struct pki pki;

static gnutls_x509_privkey_t
make_key(void)
{
	gnutls_x509_privkey_t k;

	if (gnutls_x509_privkey_init(&k) < 0)
		return NULL;
	if (gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0) {
		gnutls_x509_privkey_deinit(k);
		return NULL;
	}
	return k;
}

static gnutls_x509_crt_t
make_crt(const char *dn, gnutls_x509_privkey_t key, gnutls_x509_crt_t issuer,
	 gnutls_x509_privkey_t issuer_key, unsigned int serial)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };
	gnutls_x509_crt_t c;
	uint8_t ser[2] = { (uint8_t)(serial >> 8), (uint8_t)serial };
	time_t now = time(NULL);
	int rc;

	if (gnutls_x509_crt_init(&c) < 0)
		return NULL;
	rc = gnutls_x509_crt_set_version(c, 3);
	rc |= gnutls_x509_crt_set_serial(c, ser, sizeof(ser));
	rc |= gnutls_x509_crt_set_activation_time(c, now - 3600);
	rc |= gnutls_x509_crt_set_expiration_time(c, now + 86400);
	rc |= gnutls_x509_crt_set_dn(c, dn, NULL);
	rc |= gnutls_x509_crt_set_key(c, key);
	if (issuer == NULL) {
		rc |= gnutls_x509_crt_set_basic_constraints(c, 1, -1);
		rc |= gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN |
						       GNUTLS_KEY_CRL_SIGN);
		rc |= gnutls_x509_crt_sign2(c, c, key, GNUTLS_DIG_SHA256, 0);
	} else {
		rc |= gnutls_x509_crt_set_basic_constraints(c, 0, -1);
		rc |= gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE);
		rc |= gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0);
		rc |= gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, SERVER_NAME,
							   strlen(SERVER_NAME), GNUTLS_FSAN_APPEND);
		rc |= gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, lo,
							   sizeof(lo), GNUTLS_FSAN_APPEND);
		rc |= gnutls_x509_crt_sign2(c, issuer, issuer_key, GNUTLS_DIG_SHA256, 0);
	}
	if (rc != 0) {
		gnutls_x509_crt_deinit(c);
		return NULL;
	}
	return c;
}

static int
write_pem(const char *path, gnutls_x509_crt_t c)
{
	gnutls_datum_t d = { NULL, 0 };
	FILE *f;
	int ok;

	if (c != NULL && gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d) < 0)
		return -1;
	f = fopen(path, "w");
	if (f == NULL) {
		gnutls_free(d.data);
		return -1;
	}
	ok = d.size == 0 || fwrite(d.data, 1, d.size, f) == d.size;
	ok &= fclose(f) == 0;
	gnutls_free(d.data);
	return ok ? 0 : -1;
}

static int
pki_make(void)
{
	snprintf(pki.dir, sizeof(pki.dir), "/tmp/hd-test-tls-XXXXXX");
	if (mkdtemp(pki.dir) == NULL)
		return -1;
	snprintf(pki.ca_file, sizeof(pki.ca_file), "%s/ca.pem", pki.dir);
	snprintf(pki.other_file, sizeof(pki.other_file), "%s/other-ca.pem", pki.dir);
	snprintf(pki.empty_file, sizeof(pki.empty_file), "%s/empty.pem", pki.dir);
	pki.ca_key = make_key();
	pki.other_key = make_key();
	pki.srv_key = make_key();
	if (pki.ca_key == NULL || pki.other_key == NULL || pki.srv_key == NULL)
		return -1;
	pki.ca = make_crt("CN=Heimdall Test CA", pki.ca_key, NULL, NULL, 1);
	pki.other = make_crt("CN=Some Other CA", pki.other_key, NULL, NULL, 2);
	if (pki.ca == NULL || pki.other == NULL)
		return -1;
	pki.srv = make_crt("CN=" SERVER_NAME, pki.srv_key, pki.ca, pki.ca_key, 3);
	if (pki.srv == NULL)
		return -1;
	if (write_pem(pki.ca_file, pki.ca) || write_pem(pki.other_file, pki.other) ||
	    write_pem(pki.empty_file, NULL))
		return -1;
	return 0;
}

static void
pki_free(void)
{
	unlink(pki.ca_file);
	unlink(pki.other_file);
	unlink(pki.empty_file);
	rmdir(pki.dir);
	gnutls_x509_crt_deinit(pki.srv);
	gnutls_x509_crt_deinit(pki.other);
	gnutls_x509_crt_deinit(pki.ca);
	gnutls_x509_privkey_deinit(pki.srv_key);
	gnutls_x509_privkey_deinit(pki.other_key);
	gnutls_x509_privkey_deinit(pki.ca_key);
}

/* --- the DoT server --------------------------------------------------------- */

enum srv_mode {
	SRV_ANSWER,		/* answer each query as it comes */
	SRV_PAIR_REVERSE,	/* read two queries, answer the second first */
	SRV_CLOSE_AFTER_ONE,	/* answer one query, then close */
	SRV_SILENT,		/* read queries, never answer */
	SRV_SHORT_FRAME,	/* answer with a 3-byte message */
	SRV_NO_TLS,		/* accept TCP, never speak */
};

struct srv {
	enum srv_mode mode;
	int lfd;
	uint16_t port;
	pthread_t th;
	atomic_int stop;
	atomic_int accepts;
	atomic_int handshakes;
	atomic_int queries;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t tkey;
};

static int
srv_recv_full(struct srv *s, gnutls_session_t ss, uint8_t *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if (atomic_load(&s->stop))
			return -1;
		r = gnutls_record_recv(ss, p + got, n - got);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;	/* the receive timeout: check stop */
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int
srv_send_full(gnutls_session_t ss, const uint8_t *p, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = gnutls_record_send(ss, p + off, n - off);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r < 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* Read one framed query into @p q (2-byte prefix included). @return its length. */
static int
srv_read_query(struct srv *s, gnutls_session_t ss, uint8_t *q)
{
	struct hd_wire w;
	uint16_t len;

	if (srv_recv_full(s, ss, q, 2) != 0)
		return -1;
	hd_wire_init(&w, q, 2);
	len = hd_wire_get_u16_at(&w, 0);
	if (len < 12 || srv_recv_full(s, ss, q + 2, len) != 0)
		return -1;
	atomic_fetch_add(&s->queries, 1);
	return len;
}

/* The canned reply: the query with QR set. */
static int
srv_answer(gnutls_session_t ss, uint8_t *q, int len)
{
	q[2 + 2] |= 0x80;
	return srv_send_full(ss, q, 2 + (size_t)len);
}

static void
srv_session(struct srv *s, gnutls_session_t ss)
{
	static const uint8_t short_frame[5] = { 0, 3, 1, 2, 3 };
	uint8_t a[2 + 65535], b[2 + 65535];
	int la, lb;

	for (;;) {
		la = srv_read_query(s, ss, a);
		if (la < 0)
			return;
		switch (s->mode) {
		case SRV_PAIR_REVERSE:
			lb = srv_read_query(s, ss, b);
			if (lb < 0 || srv_answer(ss, b, lb) || srv_answer(ss, a, la))
				return;
			break;
		case SRV_CLOSE_AFTER_ONE:
			/* Close a little after the reply, as an idle timeout would:
			 * a client may take the reply and miss the close. */
			srv_answer(ss, a, la);
			usleep(50 * 1000);
			gnutls_bye(ss, GNUTLS_SHUT_WR);
			return;
		case SRV_SILENT:
			break;
		case SRV_SHORT_FRAME:
			if (srv_send_full(ss, short_frame, sizeof(short_frame)))
				return;
			break;
		default:
			if (srv_answer(ss, a, la))
				return;
		}
	}
}

static void
srv_conn(struct srv *s, int fd)
{
	struct timeval tv = { 0, 100 * 1000 };
	gnutls_session_t ss;
	int rc;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (s->mode == SRV_NO_TLS) {
		while (!atomic_load(&s->stop) && recv(fd, (char[64]){ 0 }, 64, 0) != 0)
			;
		return;
	}
	if (gnutls_init(&ss, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0)
		return;
	gnutls_set_default_priority(ss);
	gnutls_credentials_set(ss, GNUTLS_CRD_CERTIFICATE, s->cred);
	gnutls_session_ticket_enable_server(ss, &s->tkey);
	gnutls_transport_set_int(ss, fd);
	do {
		rc = gnutls_handshake(ss);
	} while (rc < 0 && !gnutls_error_is_fatal(rc) && !atomic_load(&s->stop));
	if (rc == 0) {
		atomic_fetch_add(&s->handshakes, 1);
		srv_session(s, ss);
	}
	gnutls_deinit(ss);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd p = { .fd = s->lfd, .events = POLLIN };
	int fd;

	while (!atomic_load(&s->stop)) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&s->accepts, 1);
		srv_conn(s, fd);
		close(fd);
	}
	return NULL;
}

static struct srv *
srv_start_at(enum srv_mode mode, uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct srv *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->mode = mode;
	sin.sin_addr.s_addr = htonl(addr);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(s->lfd, 8) != 0 || getsockname(s->lfd, (struct sockaddr *)&sin, &sl) != 0)
		goto fail;
	s->port = ntohs(sin.sin_port);
	if (gnutls_certificate_allocate_credentials(&s->cred) < 0)
		goto fail;
	if (gnutls_certificate_set_x509_key(s->cred, &pki.srv, 1, pki.srv_key) < 0 ||
	    gnutls_session_ticket_key_generate(&s->tkey) < 0 ||
	    pthread_create(&s->th, NULL, srv_main, s) != 0) {
		gnutls_certificate_free_credentials(s->cred);
		goto fail;
	}
	return s;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
	return NULL;
}

static struct srv *
srv_start(enum srv_mode mode)
{
	return srv_start_at(mode, INADDR_LOOPBACK);
}

static void
srv_stop(struct srv *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	gnutls_free(s->tkey.data);
	gnutls_certificate_free_credentials(s->cred);
	free(s);
}

/* --- the client side ---------------------------------------------------------- */

struct cli {
	struct hd_tls_ctx *ctx;
	struct hd_tls_conn *conn;
	int epfd;
	int replies;
	int errors;
	int last_status;
	uint16_t ids[8];
	char err[256];
	int resend_id;		/* > 0: send this query from inside the reply callback */
	uint64_t max_handle_us;
};

static void
cli_cb(void *arg, int status, const uint8_t *msg, size_t len)
{
	struct cli *c = arg;
	struct hd_wire w;

	if (status < 0) {
		c->errors++;
		c->last_status = status;
		snprintf(c->err, sizeof(c->err), "%s", hd_tls_conn_error(c->conn));
		return;
	}
	CU_ASSERT_FATAL(msg != NULL && len >= 12);
	hd_wire_init(&w, (void *)(uintptr_t)msg, len);
	if (c->replies < 8)
		c->ids[c->replies] = hd_wire_get_u16_at(&w, 0);
	CU_ASSERT(hd_wire_get_u16_at(&w, 2) & 0x8000);	/* QR */
	c->replies++;
	if (c->resend_id > 0) {
		uint8_t q[QLEN];
		int id = c->resend_id;

		c->resend_id = 0;
		hd_wire_init(&w, q, sizeof(q));
		memset(q, 0, sizeof(q));
		hd_wire_put_u16_at(&w, 0, (uint16_t)id);
		CU_ASSERT(hd_tls_send(c->conn, q, sizeof(q)) == 0);
	}
}

static void
query(uint8_t *q, uint16_t id)
{
	static const uint8_t tail[QLEN - 12] = {
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1 };
	struct hd_wire w;

	memset(q, 0, 12);
	memcpy(q + 12, tail, sizeof(tail));
	hd_wire_init(&w, q, QLEN);
	hd_wire_put_u16_at(&w, 0, id);
	hd_wire_put_u16_at(&w, 2, 0x0100);	/* RD */
	hd_wire_put_u16_at(&w, 4, 1);		/* QDCOUNT */
}

static int
send_id(struct cli *c, uint16_t id)
{
	uint8_t q[QLEN];

	query(q, id);
	return hd_tls_send(c->conn, q, sizeof(q));
}

static int
cli_open(struct cli *c, const char *ca_file, uint16_t port, const char *name)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	char err[256] = "";

	memset(c, 0, sizeof(*c));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->ctx = hd_tls_ctx_create(ca_file, err, sizeof(err));
	if (c->epfd < 0 || c->ctx == NULL) {
		fprintf(stderr, "client: %s\n", err);
		return -1;
	}
	c->conn = hd_tls_conn_create(c->ctx, c->epfd, EV_DATA, (struct sockaddr *)&sin,
				     sizeof(sin), name, cli_cb, c);
	return c->conn == NULL ? -1 : 0;
}

static void
cli_close(struct cli *c)
{
	hd_tls_conn_free(c->conn);
	hd_tls_ctx_free(c->ctx);
	if (c->epfd >= 0)
		close(c->epfd);
}

/* The owner's event loop, until @p replies replies or @p errors errors or @p ms pass. */
static void
pump(struct cli *c, int replies, int errors, int ms)
{
	uint64_t end = hd_clock_ms() + (uint64_t)ms, t0, dt;
	struct epoll_event ev[8];
	int n, i;

	while (hd_clock_ms() < end && c->replies < replies && c->errors < errors) {
		n = epoll_wait(c->epfd, ev, 8, 10);
		for (i = 0; i < n; i++) {
			CU_ASSERT(ev[i].data.u64 == EV_DATA);
			t0 = hd_clock_ms();
			hd_tls_handle(c->conn, ev[i].events);
			dt = (hd_clock_ms() - t0) * 1000;
			if (dt > c->max_handle_us)
				c->max_handle_us = dt;
		}
		hd_tls_conn_tick(c->conn, hd_clock_ms());
	}
}

/* --- tests ------------------------------------------------------------------- */

static void
test_ctx_ca_file(void)
{
	char err[256] = "";
	struct hd_tls_ctx *ctx;

	ctx = hd_tls_ctx_create(pki.ca_file, err, sizeof(err));
	CU_ASSERT(ctx != NULL);
	hd_tls_ctx_free(ctx);
	ctx = hd_tls_ctx_create("/nonexistent/ca.pem", err, sizeof(err));
	CU_ASSERT(ctx == NULL);
	CU_ASSERT(strstr(err, "/nonexistent/ca.pem") != NULL);
	err[0] = '\0';
	ctx = hd_tls_ctx_create(pki.empty_file, err, sizeof(err));
	CU_ASSERT(ctx == NULL);
	CU_ASSERT(strstr(err, "no CA certificate") != NULL);
	hd_tls_ctx_free(NULL);
}

static void
test_handshake_name(void)
{
	struct srv *s = srv_start(SRV_ANSWER);
	struct hd_tls_conn_stats st;
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	CU_ASSERT(!hd_tls_conn_is_up(c.conn));
	CU_ASSERT(hd_tls_conn_deadline(c.conn) == UINT64_MAX);
	CU_ASSERT(send_id(&c, 0x1234) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT(c.replies == 1);
	CU_ASSERT(c.ids[0] == 0x1234);
	CU_ASSERT(hd_tls_conn_is_up(c.conn));
	hd_tls_conn_stats_get(c.conn, &st);
	CU_ASSERT(st.connects == 1 && st.handshakes == 1 && st.received == 1);
	cli_close(&c);
	srv_stop(s);
}

/* Without a TLS name the certificate must hold the server's address. */
static void
test_handshake_ip(void)
{
	struct srv *s = srv_start(SRV_ANSWER);
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, "") == 0);
	CU_ASSERT(send_id(&c, 7) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT(c.replies == 1);
	cli_close(&c);
	srv_stop(s);
}

/*
 * The server answers only after reading two queries, so both must be on the
 * wire before any reply; it answers them in reverse order. A later query
 * (one sent from inside the reply callback, one after a pause) reuses the
 * same connection: one accept at the server.
 */
static void
test_pipeline_reuse(void)
{
	struct srv *s = srv_start(SRV_PAIR_REVERSE);
	struct hd_tls_conn_stats st;
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	CU_ASSERT(send_id(&c, 1) == 0);
	CU_ASSERT(send_id(&c, 2) == 0);
	pump(&c, 2, 1, 3000);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT_FATAL(c.replies == 2);
	CU_ASSERT(c.ids[0] == 2 && c.ids[1] == 1);

	/* Query 3 alone gets nothing back: the server waits for its pair. */
	c.resend_id = 4;
	CU_ASSERT(send_id(&c, 3) == 0);
	pump(&c, 4, 1, 300);
	CU_ASSERT(c.replies == 2);
	/* 5 completes the pair; the callback of reply 5 sends 4 from inside
	 * hd_tls_handle(), on the same connection. */
	CU_ASSERT(send_id(&c, 5) == 0);
	pump(&c, 4, 1, 3000);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT(c.replies == 4);
	CU_ASSERT(c.ids[2] == 5 && c.ids[3] == 3);
	pump(&c, 5, 1, 200);
	CU_ASSERT(s->queries == 5);	/* query 4 is waiting for its pair */
	CU_ASSERT(s->accepts == 1);
	hd_tls_conn_stats_get(c.conn, &st);
	CU_ASSERT(st.connects == 1 && st.sent == 5 && st.received == 4);
	cli_close(&c);
	srv_stop(s);
}

static void
expect_verify_failure(const char *ca_file, const char *name)
{
	struct srv *s = srv_start(SRV_ANSWER);
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, ca_file, s->port, name) == 0);
	CU_ASSERT(send_id(&c, 9) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT(c.replies == 0);
	CU_ASSERT(c.errors == 1);
	CU_ASSERT(c.last_status == -EKEYREJECTED);
	CU_ASSERT(strncmp(c.err, "certificate verify failed: ", 27) == 0);
	CU_ASSERT(!hd_tls_conn_is_up(c.conn));
	CU_ASSERT(hd_tls_conn_deadline(c.conn) == UINT64_MAX);	/* socket closed */
	pump(&c, 1, 2, 100);
	CU_ASSERT(s->handshakes == 0 && s->queries == 0);
	cli_close(&c);
	srv_stop(s);
}

static void
test_wrong_name(void)
{
	expect_verify_failure(pki.ca_file, "wrong.test");
}

static void
test_untrusted_ca(void)
{
	expect_verify_failure(pki.other_file, SERVER_NAME);
}

/* Verified by address: 127.0.0.2 is loopback too, but not in the certificate. */
static void
test_wrong_ip(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct srv *s = srv_start_at(SRV_ANSWER, 0x7f000002);
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, "") == 0);
	hd_tls_conn_free(c.conn);
	sin.sin_port = htons(s->port);
	sin.sin_addr.s_addr = htonl(0x7f000002);
	c.conn = hd_tls_conn_create(c.ctx, c.epfd, EV_DATA, (struct sockaddr *)&sin,
				    sizeof(sin), NULL, cli_cb, &c);
	CU_ASSERT_FATAL(c.conn != NULL);
	CU_ASSERT(send_id(&c, 9) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT(c.replies == 0);
	CU_ASSERT(c.errors == 1 && c.last_status == -EKEYREJECTED);
	CU_ASSERT(strncmp(c.err, "certificate verify failed: ", 27) == 0);
	CU_ASSERT(s->queries == 0);
	cli_close(&c);
	srv_stop(s);
}

/* The server closes after each reply: the next send reconnects (and resumes). */
static void
test_server_close_reconnect(void)
{
	struct srv *s = srv_start(SRV_CLOSE_AFTER_ONE);
	struct hd_tls_conn_stats st;
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	CU_ASSERT(send_id(&c, 1) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT_FATAL(c.replies == 1);
	/* The close with nothing outstanding is quiet. */
	pump(&c, 2, 1, 300);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT(!hd_tls_conn_is_up(c.conn));
	CU_ASSERT(send_id(&c, 2) == 0);
	pump(&c, 2, 1, 3000);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT(c.replies == 2 && c.ids[1] == 2);
	CU_ASSERT(s->accepts == 2);
	hd_tls_conn_stats_get(c.conn, &st);
	CU_ASSERT(st.connects == 2 && st.handshakes == 2);
	CU_ASSERT(st.resumed == 1);	/* the server gave a ticket */
	cli_close(&c);
	srv_stop(s);
}

/*
 * The server closed while the owner was not looking, and queries are
 * written into the dead connection: no SIGPIPE, one failure through the
 * callback, and the next send reconnects.
 */
static void
test_write_after_server_close(void)
{
	struct srv *s = srv_start(SRV_CLOSE_AFTER_ONE);
	struct cli c;
	int i;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	CU_ASSERT(send_id(&c, 1) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT_FATAL(c.replies == 1);
	usleep(100 * 1000);	/* the server's close arrives; nobody reads it */
	for (i = 0; i < 3; i++) {
		/* The first write draws a reset, the next ones hit EPIPE. */
		CU_ASSERT(send_id(&c, (uint16_t)(10 + i)) == 0);
		usleep(50 * 1000);
	}
	pump(&c, 2, 1, 3000);
	CU_ASSERT(c.replies == 1);
	CU_ASSERT(c.errors == 1 && c.last_status < 0);
	CU_ASSERT(!hd_tls_conn_is_up(c.conn));
	CU_ASSERT(send_id(&c, 20) == 0);
	pump(&c, 2, 2, 3000);
	CU_ASSERT(c.replies == 2 && c.ids[1] == 20);
	CU_ASSERT(c.errors == 1);
	cli_close(&c);
	srv_stop(s);
}

/* A server that never answers: nothing blocks, the timers end it. */
static void
test_server_silent(void)
{
	struct srv *s = srv_start(SRV_SILENT);
	struct cli c;
	uint64_t t0;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	t0 = hd_clock_ms();
	CU_ASSERT(send_id(&c, 1) == 0);
	CU_ASSERT(send_id(&c, 2) == 0);
	CU_ASSERT(hd_clock_ms() - t0 < 100);
	pump(&c, 1, 1, 500);
	CU_ASSERT(c.replies == 0 && c.errors == 0);
	CU_ASSERT(hd_tls_conn_is_up(c.conn));
	CU_ASSERT(s->queries == 2);
	CU_ASSERT(c.max_handle_us < 100 * 1000);
	/* Not yet: the idle limit is counted from the last traffic. */
	hd_tls_conn_tick(c.conn, hd_clock_ms() + 100);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT(hd_tls_conn_deadline(c.conn) <= hd_clock_ms() + HD_TLS_IDLE_MS);
	hd_tls_conn_tick(c.conn, hd_clock_ms() + HD_TLS_IDLE_MS + 1);
	CU_ASSERT(c.errors == 1 && c.last_status == -ETIMEDOUT);
	CU_ASSERT(strstr(c.err, "2 queries outstanding") != NULL);
	CU_ASSERT(!hd_tls_conn_is_up(c.conn));
	cli_close(&c);
	srv_stop(s);
}

/* A TCP peer that never starts TLS: the handshake deadline ends it. */
static void
test_handshake_timeout(void)
{
	struct srv *s = srv_start(SRV_NO_TLS);
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	CU_ASSERT(send_id(&c, 1) == 0);
	pump(&c, 1, 1, 300);
	CU_ASSERT(c.replies == 0 && c.errors == 0);
	CU_ASSERT(c.max_handle_us < 100 * 1000);
	CU_ASSERT(hd_tls_conn_deadline(c.conn) <= hd_clock_ms() + HD_TLS_HANDSHAKE_MS);
	hd_tls_conn_tick(c.conn, hd_clock_ms() + HD_TLS_HANDSHAKE_MS + 1);
	CU_ASSERT(c.errors == 1 && c.last_status == -ETIMEDOUT);
	CU_ASSERT(strstr(c.err, "TLS handshake") != NULL);
	cli_close(&c);
	srv_stop(s);
}

/* An idle connection with nothing outstanding closes quietly and comes back. */
static void
test_idle_close(void)
{
	struct srv *s = srv_start(SRV_ANSWER);
	struct hd_tls_conn_stats st;
	struct cli c;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	CU_ASSERT(send_id(&c, 1) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT_FATAL(c.replies == 1);
	hd_tls_conn_tick(c.conn, hd_clock_ms() + HD_TLS_IDLE_MS + 1);
	CU_ASSERT(c.errors == 0);
	CU_ASSERT(!hd_tls_conn_is_up(c.conn));
	CU_ASSERT(hd_tls_conn_deadline(c.conn) == UINT64_MAX);
	CU_ASSERT(send_id(&c, 2) == 0);
	pump(&c, 2, 1, 3000);
	CU_ASSERT(c.replies == 2 && c.errors == 0);
	hd_tls_conn_stats_get(c.conn, &st);
	CU_ASSERT(st.connects == 2);
	cli_close(&c);
	srv_stop(s);
}

static void
test_refused_and_bad_frames(void)
{
	struct srv *s = srv_start(SRV_SHORT_FRAME);
	struct srv *gone = srv_start(SRV_ANSWER);
	uint16_t port;
	struct cli c;
	uint8_t big[1];
	int rc;

	CU_ASSERT_FATAL(s != NULL && gone != NULL);
	port = gone->port;
	srv_stop(gone);	/* nothing listens on this port any more */
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, port, SERVER_NAME) == 0);
	CU_ASSERT(hd_tls_send(c.conn, big, 0) == -EMSGSIZE);
	CU_ASSERT(hd_tls_send(c.conn, big, 65536) == -EMSGSIZE);
	/* Loopback may refuse at once (no callback) or through the event. */
	rc = send_id(&c, 1);
	if (rc == 0) {
		pump(&c, 1, 1, 3000);
		CU_ASSERT(c.errors == 1 && c.last_status == -ECONNREFUSED);
		CU_ASSERT(strstr(c.err, "connect") != NULL);
	} else {
		CU_ASSERT(rc == -ECONNREFUSED);
	}
	cli_close(&c);

	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	CU_ASSERT(send_id(&c, 1) == 0);
	pump(&c, 1, 1, 3000);
	CU_ASSERT(c.replies == 0);
	CU_ASSERT(c.errors == 1 && c.last_status == -EBADMSG);
	cli_close(&c);
	srv_stop(s);
}

/* Queued messages are bounded. */
static void
test_queue_bound(void)
{
	static uint8_t msg[60000];
	struct srv *s = srv_start(SRV_SILENT);
	struct cli c;
	int i, rc = 0;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(cli_open(&c, pki.ca_file, s->port, SERVER_NAME) == 0);
	query(msg, 1);
	/* Not connected yet: everything waits in the queue. */
	for (i = 0; i < 10 && rc == 0; i++)
		rc = hd_tls_send(c.conn, msg, sizeof(msg));
	CU_ASSERT(rc == -ENOBUFS);
	CU_ASSERT(i == HD_TLS_OUT_MAX / (sizeof(msg) + 2) + 1);
	cli_close(&c);
	srv_stop(s);
}

int
main(void)
{
	char *eal[] = { "test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--log-level=lib.*:error", "-l", "0-1", "--file-prefix=hd_test_tls" };
	CU_pSuite suite;
	int fails;

	if (rte_eal_init(sizeof(eal) / sizeof(eal[0]), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	if (pki_make() != 0) {
		fprintf(stderr, "cannot make test certificates\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("upstream_tls", NULL, NULL);
	CU_add_test(suite, "ctx_ca_file", test_ctx_ca_file);
	CU_add_test(suite, "handshake_name", test_handshake_name);
	CU_add_test(suite, "handshake_ip", test_handshake_ip);
	CU_add_test(suite, "pipeline_reuse", test_pipeline_reuse);
	CU_add_test(suite, "wrong_name", test_wrong_name);
	CU_add_test(suite, "untrusted_ca", test_untrusted_ca);
	CU_add_test(suite, "wrong_ip", test_wrong_ip);
	CU_add_test(suite, "server_close_reconnect", test_server_close_reconnect);
	CU_add_test(suite, "write_after_server_close", test_write_after_server_close);
	CU_add_test(suite, "server_silent", test_server_silent);
	CU_add_test(suite, "handshake_timeout", test_handshake_timeout);
	CU_add_test(suite, "idle_close", test_idle_close);
	CU_add_test(suite, "refused_and_bad_frames", test_refused_and_bad_frames);
	CU_add_test(suite, "queue_bound", test_queue_bound);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() != 0 || CU_get_number_of_tests_failed() != 0;
	CU_cleanup_registry();
	pki_free();
	rte_eal_cleanup();
	return fails;
}
