/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * rediss://: the client against a redis-server with TLS on 127.0.0.1:6395
 * (and 127.0.0.2:6395, which the certificate does not name), with a CA and
 * a server certificate made by openssl for this run. What a user must see:
 * the round trip works when the certificate is right, a server the CA does
 * not vouch for (or a name it does not hold) is refused and said once, and a
 * plain client on the TLS port fails cleanly.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <hiredis/hiredis.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "hd_replica.h"
#include "redis_srv.h"
#include "../hd_test.h"

#define PORT	6395
#define PORT_S	"6395"

static char dir[] = "/tmp/hd-redis-tls-XXXXXX";
static char ca[128], ca_other[128], crt[128], key[128];
static pid_t srv = -1;
static FILE *log_file;

static void
params(struct hd_replica_params *p, const char *host, const char *ca_file)
{
	memset(p, 0, sizeof(*p));
	p->host = host;
	p->port = PORT;
	p->password = "tl5Secret";
	p->prefix = "t";
	p->timeout_ms = 100;
	p->max_outstanding = 64;
	p->tls = 1;
	p->ca_file = ca_file;
}

/* Occurrences of @p needle in what was logged since the last call. */
static int
logged(const char *needle)
{
	static long done;
	char line[512];
	int n = 0;

	fflush(log_file);
	fseek(log_file, done, SEEK_SET);
	while (fgets(line, sizeof(line), log_file) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	done = ftell(log_file);
	return n;
}

struct got {
	int calls;
	int type;
	char str[64];
};

static void
reply_cb(void *arg, const struct redisReply *rep)
{
	struct got *g = arg;

	g->calls++;
	g->type = rep != NULL ? rep->type : -1;
	if (rep != NULL && rep->type == REDIS_REPLY_STRING)
		snprintf(g->str, sizeof(g->str), "%.*s", (int)rep->len, rep->str);
}

static void
round_trip(const char *host)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct hd_replica_stats st;
	struct got g1 = { 0 }, g2 = { 0 };
	const char *set[3] = { "SET", "t:tls", "over TLS" }, *get[2] = { "GET", "t:tls" };

	params(&p, host, ca);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	POLL_UNTIL(r, state_of(r) == HD_REPLICA_CONNECTED, 3000);
	CU_ASSERT_EQUAL_FATAL(state_of(r), HD_REPLICA_CONNECTED);
	hd_replica_stats_get(r, &st);
	/* localhost may be ::1 first; Redis listens there too. */
	CU_ASSERT(strcmp(st.redis_addr, "127.0.0.1:" PORT_S) == 0 ||
		  strcmp(st.redis_addr, "[::1]:" PORT_S) == 0);
	CU_ASSERT_EQUAL(hd_replica_command(r, reply_cb, &g1, 3, set, NULL), 0);
	CU_ASSERT_EQUAL(hd_replica_command(r, reply_cb, &g2, 2, get, NULL), 0);
	POLL_UNTIL(r, g2.calls > 0, 1000);
	CU_ASSERT_EQUAL(g1.type, REDIS_REPLY_STATUS);
	CU_ASSERT_EQUAL(g2.type, REDIS_REPLY_STRING);
	CU_ASSERT_STRING_EQUAL(g2.str, "over TLS");
	hd_replica_free(r);
}

/* The certificate holds IP:127.0.0.1 and DNS:localhost: both verify. */
static void
test_round_trip_ip(void)
{
	round_trip("127.0.0.1");
}

static void
test_round_trip_name(void)
{
	round_trip("localhost");
}

/* Refused, the cause said once however many retries follow. */
static void
refused(const char *host, const char *ca_file, const char *cause)
{
	struct hd_replica_params p;
	struct hd_replica *r;
	struct got g = { 0 };
	const char *ping[1] = { "PING" };

	params(&p, host, ca_file);
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	(void)logged("");
	/* Attempts at 0, 1 s and 3 s. */
	POLL_UNTIL(r, false, 3300);
	CU_ASSERT_EQUAL(state_of(r), HD_REPLICA_DOWN);
	CU_ASSERT_EQUAL(hd_replica_command(r, reply_cb, &g, 1, ping, NULL), -ENOTCONN);
	CU_ASSERT_EQUAL(logged(cause), 1);
	CU_ASSERT_EQUAL(logged("connected"), 0);
	hd_replica_free(r);
	/* The password is never logged. */
	CU_ASSERT_EQUAL(logged("tl5Secret"), 0);
}

static void
test_wrong_ca(void)
{
	refused("127.0.0.1", ca_other, "certificate verify failed");
}

/* 127.0.0.2 is the same server, but the certificate does not name it. */
static void
test_wrong_name(void)
{
	refused("127.0.0.2", ca, "certificate verify failed");
}

/* The system store does not know our CA either. */
static void
test_system_store(void)
{
	refused("127.0.0.1", NULL, "certificate verify failed");
}

/* A plain client on the TLS port: down, cleanly (no hang, no crash). */
static void
test_plain_on_tls_port(void)
{
	struct hd_replica_params p;
	struct hd_replica *r;

	params(&p, "127.0.0.1", NULL);
	p.tls = 0;
	r = hd_replica_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	(void)logged("");
	POLL_UNTIL(r, false, 1500);
	CU_ASSERT_EQUAL(state_of(r), HD_REPLICA_DOWN);
	CU_ASSERT_EQUAL(logged("unreachable"), 1);
	hd_replica_free(r);
}

static int
sh(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "cd %s && (%s) >/dev/null 2>&1", dir, cmd);
	return system(full) == 0 ? 0 : -1;
}

/* A CA, a server certificate it signs for localhost / 127.0.0.1, another CA. */
static int
certs_make(void)
{
	static const char *const steps[] = {
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"-keyout ca.key -out ca.pem -days 2 -subj /CN=hd-test-ca",
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"-keyout other.key -out other.pem -days 2 -subj /CN=hd-other-ca",
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"-keyout srv.key -out srv.csr -subj /CN=localhost",
		"printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf",
		"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		"-out srv.pem -days 2 -extfile ext.cnf",
	};
	size_t i;

	for (i = 0; i < T_DIM(steps); i++)
		if (sh(steps[i]) < 0)
			return -1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(ca_other, sizeof(ca_other), "%s/other.pem", dir);
	snprintf(crt, sizeof(crt), "%s/srv.pem", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	return 0;
}

static int
suite_init(void)
{
	const char *args[] = { "--port", "0", "--tls-port", PORT_S, "--bind", "127.0.0.1",
			       "127.0.0.2", "-::1", "--tls-cert-file", crt, "--tls-key-file", key,
			       "--tls-ca-cert-file", ca, "--tls-auth-clients", "no",
			       "--requirepass", "tl5Secret", "--save", "", "--appendonly", "no",
			       "--logfile", "/dev/null", NULL };

	if (t_eal("t_replica_tls") < 0 || mkdtemp(dir) == NULL || certs_make() < 0)
		return -1;
	log_file = tmpfile();
	if (log_file == NULL || rte_openlog_stream(log_file) != 0)
		return -1;
	/* The port answers TCP once the server is up. */
	srv = t_redis_start(PORT, args);
	return srv > 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	char cmd[256];

	t_redis_stop(srv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	rte_openlog_stream(NULL);
	return 0;
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_round_trip_ip), T_CASE(test_round_trip_name), T_CASE(test_wrong_ca),
		T_CASE(test_wrong_name), T_CASE(test_system_store), T_CASE(test_plain_on_tls_port),
	};

	return t_run_suite("replica_tls", suite_init, suite_clean, cases, T_DIM(cases));
}
