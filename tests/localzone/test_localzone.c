/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Local domains as a client sees them: records given as text and zone
 * files written to a temporary directory are compiled, then queries built
 * by hand go through hd_dns_query_parse() and hd_localzone_answer(), and
 * the replies are read with lib/dns's independent test reader. Checked:
 * answers per type, AA and the SOA of negative answers in zones, NODATA,
 * empty non-terminals, CNAME chains, wildcards, automatic PTRs, names that
 * are not local, operator errors naming file and line, letter case echoed,
 * TC over the client's limit.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>

#include "hd_dns.h"
#include "hd_localzone.h"
#include "dns_test.h"

static char tmpdir[64];
static char errbuf[512];
static struct tmsg cq;
static uint8_t reply[65536];
static struct tparsed pr;
static struct hd_dns_query q;
static size_t rlen;

/* Zone file of most tests: lab.home.arpa with the usual home-lab shapes. */
static const char lab_zone[] =
	"$ORIGIN lab.home.arpa.\n"
	"$TTL 600\n"
	"@\tIN SOA ns1 hostmaster 2024010101 3600 900 604800 120\n"
	"@\tNS ns1\n"
	"ns1\tA 192.168.1.1\n"
	"nas\tA 192.168.1.10\n"
	"nas\tAAAA fd00::10\n"
	"nas\t60 TXT \"storage\" \"box\"\n"
	"www\tCNAME web\n"
	"web\tCNAME nas.lab.home.arpa.\n"
	"ext\tCNAME upstream.example.com.\n"
	"dangling CNAME nothere\n"
	"*.dyn\t30 A 10.0.0.99\n"
	"real.dyn TXT \"exists\"\n"
	"host.deep.down A 192.168.1.20\n"
	"_http._tcp SRV 0 5 80 web\n";

static char *
write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Ask @p lz; @return what hd_localzone_answer() returned, reply parsed on 1. */
static int
ask_lim(const struct hd_localzone *lz, const char *qname, uint16_t qtype, int edns,
	size_t limit)
{
	int rc;

	tm_query(&cq, 0x1234, HD_DNS_RD, qname, qtype, edns, 1232, 0, 0);
	CU_ASSERT_FATAL(hd_dns_query_parse(cq.b, cq.n, &q) == 0);
	memcpy(reply, cq.b, cq.n);
	rlen = 0;
	rc = hd_localzone_answer(lz, &q, reply, sizeof(reply), limit, &rlen);
	if (rc == 1) {
		CU_ASSERT_FATAL(tr_parse(reply, rlen, &pr) == 0);
		CU_ASSERT(pr.end == rlen);
		CU_ASSERT(tr_bad_pointer == 0);
		CU_ASSERT(pr.id == 0x1234);
		CU_ASSERT(pr.flags & HD_DNS_QR);
		/* The question exactly as asked, case included. */
		CU_ASSERT(pr.qname_len == (int)q.qname_len);
		CU_ASSERT(memcmp(reply + 12, cq.b + 12, q.qname_len + 4u) == 0);
	} else {
		/* Not answered: the query is left as it was. */
		CU_ASSERT(memcmp(reply, cq.b, cq.n) == 0);
	}
	return rc;
}

static int
ask(const struct hd_localzone *lz, const char *qname, uint16_t qtype)
{
	return ask_lim(lz, qname, qtype, 0, 65535);
}

static int
rcode(void)
{
	return pr.flags & HD_DNS_RCODE_MASK;
}

/* Wire form of a dotted name, lowercased as the reader gives it. */
static size_t
wire(const char *s, uint8_t *out)
{
	struct tmsg m;

	tm_init(&m);
	tm_name(&m, s);
	memcpy(out, m.b, m.n);
	return m.n;
}

static int
owner_is(const struct trr *r, const char *name)
{
	uint8_t w[256];
	size_t n = wire(name, w);

	return r->owner_len == (int)n && memcmp(r->owner, w, n) == 0;
}

/* RDATA that is one name. */
static int
rd_name_is(const struct trr *r, const char *name)
{
	uint8_t w[256];
	size_t n = wire(name, w);

	return r->rd_len == n && memcmp(r->rd, w, n) == 0;
}

static int
rd_is(const struct trr *r, const void *bytes, size_t n)
{
	return r->rd_len == n && memcmp(r->rd, bytes, n) == 0;
}

static struct hd_localzone_builder *
builder(void)
{
	struct hd_localzone_builder *b = hd_localzone_builder_create();

	CU_ASSERT_FATAL(b != NULL);
	return b;
}

static struct hd_localzone *
build(struct hd_localzone_builder *b)
{
	struct hd_localzone *lz = hd_localzone_build(b, errbuf, sizeof(errbuf));

	if (lz == NULL)
		fprintf(stderr, "build: %s\n", errbuf);
	CU_ASSERT_FATAL(lz != NULL);
	return lz;
}

static void
add(struct hd_localzone_builder *b, const char *text)
{
	int rc = hd_localzone_add_record(b, text, "--record", errbuf, sizeof(errbuf));

	if (rc != 0)
		fprintf(stderr, "%s: %s\n", text, errbuf);
	CU_ASSERT_FATAL(rc == 0);
}

static struct hd_localzone *
lab(int auto_ptr)
{
	struct hd_localzone_builder *b = builder();
	char *path = write_file("lab.zone", lab_zone);

	hd_localzone_builder_auto_ptr(b, auto_ptr);
	CU_ASSERT_FATAL(hd_localzone_add_zone_file(b, path, NULL, errbuf, sizeof(errbuf)) == 0);
	return build(b);
}

static void
test_records_from_text(void)
{
	static const uint8_t a[] = { 192, 168, 1, 10 };
	static const uint8_t aaaa[] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	static const uint8_t mx[] = "\000\012\004mail\004home\004arpa";
	static const uint8_t srv[] = "\000\001\000\002\001\273\003nas\004home\004arpa";
	static const uint8_t txt[] = "\005hello\005world";
	static const uint8_t caa[] = "\000\005issueletsencrypt.org";
	struct hd_localzone_builder *b = builder();
	struct hd_localzone *lz;

	add(b, "nas.home.arpa A 192.168.1.10");
	add(b, "nas.home.arpa. 120 IN AAAA fd00::10");
	add(b, "files.home.arpa CNAME nas.home.arpa");
	add(b, "home.arpa MX 10 mail.home.arpa");
	add(b, "nas.home.arpa TXT hello \"world\"");
	add(b, "_smb._tcp.home.arpa SRV 1 2 443 nas.home.arpa");
	add(b, "99.1.168.192.in-addr.arpa PTR printer.home.arpa");
	add(b, "home.arpa NS nas.home.arpa");
	add(b, "home.arpa CAA 0 issue \"letsencrypt.org\"");
	lz = build(b);
	CU_ASSERT(hd_localzone_n_zones(lz) == 0);
	/* 9 given, plus the PTR of nas's A and AAAA. */
	CU_ASSERT(hd_localzone_n_records(lz) == 11);

	CU_ASSERT_FATAL(ask(lz, "nas.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 1 && pr.ns == 0);
	/* Records outside zones: answered, but not authoritatively. */
	CU_ASSERT(!(pr.flags & HD_DNS_AA));
	CU_ASSERT(pr.flags & HD_DNS_RD);
	CU_ASSERT(pr.rr[0].type == HD_DNS_TYPE_A && pr.rr[0].ttl == 300);
	CU_ASSERT(rd_is(&pr.rr[0], a, 4));

	CU_ASSERT_FATAL(ask(lz, "nas.home.arpa", HD_DNS_TYPE_AAAA) == 1);
	CU_ASSERT(pr.an == 1 && pr.rr[0].ttl == 120 && rd_is(&pr.rr[0], aaaa, 16));

	CU_ASSERT_FATAL(ask(lz, "home.arpa", HD_DNS_TYPE_MX) == 1);
	CU_ASSERT(pr.an == 1 && rd_is(&pr.rr[0], mx, sizeof(mx)));

	CU_ASSERT_FATAL(ask(lz, "nas.home.arpa", HD_DNS_TYPE_TXT) == 1);
	CU_ASSERT(pr.an == 1 && rd_is(&pr.rr[0], txt, sizeof(txt) - 1));

	CU_ASSERT_FATAL(ask(lz, "_smb._tcp.home.arpa", HD_DNS_TYPE_SRV) == 1);
	CU_ASSERT(pr.an == 1 && rd_is(&pr.rr[0], srv, sizeof(srv)));

	CU_ASSERT_FATAL(ask(lz, "99.1.168.192.in-addr.arpa", HD_DNS_TYPE_PTR) == 1);
	CU_ASSERT(pr.an == 1 && rd_name_is(&pr.rr[0], "printer.home.arpa"));

	CU_ASSERT_FATAL(ask(lz, "home.arpa", HD_DNS_TYPE_NS) == 1);
	CU_ASSERT(pr.an == 1 && rd_name_is(&pr.rr[0], "nas.home.arpa"));

	CU_ASSERT_FATAL(ask(lz, "home.arpa", HD_DNS_TYPE_CAA) == 1);
	CU_ASSERT(pr.an == 1 && rd_is(&pr.rr[0], caa, sizeof(caa) - 1));

	/* CNAME to a local name: the chain and the target's records. */
	CU_ASSERT_FATAL(ask(lz, "files.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT_FATAL(pr.an == 2);
	CU_ASSERT(pr.rr[0].type == HD_DNS_TYPE_CNAME && owner_is(&pr.rr[0], "files.home.arpa"));
	CU_ASSERT(pr.rr[1].type == HD_DNS_TYPE_A && owner_is(&pr.rr[1], "nas.home.arpa"));

	/* ANY: every RRset of the name. */
	CU_ASSERT_FATAL(ask(lz, "nas.home.arpa", HD_DNS_TYPE_ANY) == 1);
	CU_ASSERT(pr.an == 3);

	/* A lone name without the type: NODATA, no SOA (there is no zone). */
	CU_ASSERT_FATAL(ask(lz, "nas.home.arpa", HD_DNS_TYPE_MX) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 0 && pr.ns == 0);

	/* Other names, even under a local name, are not local. */
	CU_ASSERT(ask(lz, "other.home.arpa", HD_DNS_TYPE_A) == 0);
	CU_ASSERT(ask(lz, "x.nas.home.arpa", HD_DNS_TYPE_A) == 0);
	CU_ASSERT(ask(lz, "arpa", HD_DNS_TYPE_A) == 0);
	CU_ASSERT(ask(lz, "www.example.com", HD_DNS_TYPE_A) == 0);
	CU_ASSERT(ask(lz, ".", HD_DNS_TYPE_NS) == 0);
	hd_localzone_free(lz);
}

static void
test_zone_file(void)
{
	static const uint8_t nas4[] = { 192, 168, 1, 10 };
	struct hd_localzone *lz = lab(1);
	int i;

	CU_ASSERT(hd_localzone_n_zones(lz) == 1);
	CU_ASSERT_FATAL(ask(lz, "nas.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && (pr.flags & HD_DNS_AA));
	CU_ASSERT(pr.an == 1 && pr.rr[0].ttl == 600 && rd_is(&pr.rr[0], nas4, 4));

	/* Explicit TTL and multi-string TXT. */
	CU_ASSERT_FATAL(ask(lz, "nas.lab.home.arpa", HD_DNS_TYPE_TXT) == 1);
	CU_ASSERT(pr.an == 1 && pr.rr[0].ttl == 60);
	CU_ASSERT(rd_is(&pr.rr[0], "\007storage\003box", 12));

	/* Relative SRV target completed with the origin. */
	CU_ASSERT_FATAL(ask(lz, "_http._tcp.lab.home.arpa", HD_DNS_TYPE_SRV) == 1);
	CU_ASSERT(pr.an == 1 && pr.rr[0].rd_len == 6 + 19);
	CU_ASSERT(memcmp(pr.rr[0].rd + 6, "\003web\003lab\004home\004arpa", 19) == 0);

	/* SOA at the apex. */
	CU_ASSERT_FATAL(ask(lz, "lab.home.arpa", HD_DNS_TYPE_SOA) == 1);
	CU_ASSERT(pr.an == 1 && pr.rr[0].type == HD_DNS_TYPE_SOA && pr.rr[0].ttl == 600);

	/* ANY at nas: A, AAAA, TXT (and nothing of other names). */
	CU_ASSERT_FATAL(ask(lz, "nas.lab.home.arpa", HD_DNS_TYPE_ANY) == 1);
	CU_ASSERT(pr.an == 3);
	for (i = 0; i < pr.n_rr; i++)
		CU_ASSERT(owner_is(&pr.rr[i], "nas.lab.home.arpa"));
	hd_localzone_free(lz);
}

/* The authority section of a negative answer: the zone's SOA, negative TTL. */
static void
check_soa(const char *apex, uint32_t ttl)
{
	CU_ASSERT_FATAL(pr.ns == 1);
	CU_ASSERT(pr.rr[pr.n_rr - 1].sec == 1);
	CU_ASSERT(pr.rr[pr.n_rr - 1].type == HD_DNS_TYPE_SOA);
	CU_ASSERT(owner_is(&pr.rr[pr.n_rr - 1], apex));
	CU_ASSERT(pr.rr[pr.n_rr - 1].ttl == ttl);
}

static void
test_negative(void)
{
	struct hd_localzone *lz = lab(1);

	/* No such name: NXDOMAIN, AA, SOA with min(TTL 600, MINIMUM 120). */
	CU_ASSERT_FATAL(ask(lz, "nope.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN && (pr.flags & HD_DNS_AA));
	CU_ASSERT(pr.an == 0);
	check_soa("lab.home.arpa", 120);
	CU_ASSERT_FATAL(ask(lz, "a.b.c.nope.lab.home.arpa", HD_DNS_TYPE_AAAA) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN);
	/* Below an existing name that has no wildcard. */
	CU_ASSERT_FATAL(ask(lz, "x.nas.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN);

	/* Name with data, other type: NODATA with SOA. */
	CU_ASSERT_FATAL(ask(lz, "nas.lab.home.arpa", HD_DNS_TYPE_MX) == 1);
	CU_ASSERT(rcode() == 0 && (pr.flags & HD_DNS_AA) && pr.an == 0);
	check_soa("lab.home.arpa", 120);

	/* Empty non-terminals exist: NODATA, for ANY too. */
	CU_ASSERT_FATAL(ask(lz, "down.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 0);
	check_soa("lab.home.arpa", 120);
	CU_ASSERT_FATAL(ask(lz, "deep.down.lab.home.arpa", HD_DNS_TYPE_ANY) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 0);
	check_soa("lab.home.arpa", 120);
	CU_ASSERT_FATAL(ask(lz, "host.deep.down.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 1);
	/* A name that is not an ancestor of any data does not exist. */
	CU_ASSERT_FATAL(ask(lz, "deep.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN);

	/* Outside the zone: not local. */
	CU_ASSERT(ask(lz, "home.arpa", HD_DNS_TYPE_SOA) == 0);
	CU_ASSERT(ask(lz, "xlab.home.arpa", HD_DNS_TYPE_A) == 0);
	/* Another class: not ours. */
	tm_query(&cq, 1, 0, "nas.lab.home.arpa", HD_DNS_TYPE_A, 0, 0, 0, 0);
	cq.b[cq.n - 1] = HD_DNS_CLASS_CH;
	CU_ASSERT_FATAL(hd_dns_query_parse(cq.b, cq.n, &q) == 0);
	CU_ASSERT(hd_localzone_answer(lz, &q, reply, sizeof(reply), 512, &rlen) == 0);
	hd_localzone_free(lz);
}

static void
test_cname_chains(void)
{
	struct hd_localzone *lz = lab(1);

	/* www -> web -> nas: both CNAMEs then nas's A, owners as in the chain. */
	CU_ASSERT_FATAL(ask(lz, "WWW.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && (pr.flags & HD_DNS_AA));
	CU_ASSERT_FATAL(pr.an == 3 && pr.ns == 0);
	CU_ASSERT(pr.rr[0].type == HD_DNS_TYPE_CNAME && owner_is(&pr.rr[0], "www.lab.home.arpa"));
	CU_ASSERT(rd_name_is(&pr.rr[0], "web.lab.home.arpa"));
	CU_ASSERT(pr.rr[1].type == HD_DNS_TYPE_CNAME && owner_is(&pr.rr[1], "web.lab.home.arpa"));
	CU_ASSERT(pr.rr[2].type == HD_DNS_TYPE_A && owner_is(&pr.rr[2], "nas.lab.home.arpa"));
	/* The first owner points at the question: the client's case. */
	CU_ASSERT(reply[q.question_end] == 0xc0 && reply[q.question_end + 1] == 12);

	/* Target has no such type: CNAMEs, then NODATA's SOA. */
	CU_ASSERT_FATAL(ask(lz, "www.lab.home.arpa", HD_DNS_TYPE_MX) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 2);
	check_soa("lab.home.arpa", 120);

	/* Asking for the CNAME itself does not follow it. */
	CU_ASSERT_FATAL(ask(lz, "www.lab.home.arpa", HD_DNS_TYPE_CNAME) == 1);
	CU_ASSERT(pr.an == 1 && pr.rr[0].type == HD_DNS_TYPE_CNAME);

	/* To a name outside the local data: the CNAME alone; the client resolves on. */
	CU_ASSERT_FATAL(ask(lz, "ext.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 1 && pr.ns == 0);
	CU_ASSERT(rd_name_is(&pr.rr[0], "upstream.example.com"));

	/* To a missing name of the zone: NXDOMAIN for the target (RFC 6604). */
	CU_ASSERT_FATAL(ask(lz, "dangling.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN && pr.an == 1);
	check_soa("lab.home.arpa", 120);
	hd_localzone_free(lz);
}

static void
test_cname_loop_bounded(void)
{
	struct hd_localzone_builder *b = builder();
	struct hd_localzone *lz;

	add(b, "a.loop.test CNAME b.loop.test");
	add(b, "b.loop.test CNAME a.loop.test");
	lz = build(b);
	CU_ASSERT_FATAL(ask(lz, "a.loop.test", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(pr.an == 9);
	CU_ASSERT(rcode() == 0);
	hd_localzone_free(lz);
}

static void
test_wildcard(void)
{
	static const uint8_t w4[] = { 10, 0, 0, 99 };
	struct hd_localzone *lz = lab(1);

	/* A name that does not exist under *.dyn: the wildcard, owner = qname. */
	CU_ASSERT_FATAL(ask(lz, "Laptop.dyn.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && (pr.flags & HD_DNS_AA));
	CU_ASSERT_FATAL(pr.an == 1);
	CU_ASSERT(owner_is(&pr.rr[0], "laptop.dyn.lab.home.arpa"));
	CU_ASSERT(pr.rr[0].ttl == 30 && rd_is(&pr.rr[0], w4, 4));
	CU_ASSERT(reply[q.question_end] == 0xc0 && reply[q.question_end + 1] == 12);
	/* Several labels deep too. */
	CU_ASSERT_FATAL(ask(lz, "a.b.dyn.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(pr.an == 1 && owner_is(&pr.rr[0], "a.b.dyn.lab.home.arpa"));
	/* Wildcard without the type: NODATA. */
	CU_ASSERT_FATAL(ask(lz, "laptop.dyn.lab.home.arpa", HD_DNS_TYPE_AAAA) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 0);
	check_soa("lab.home.arpa", 120);

	/* An existing name is never answered by the wildcard. */
	CU_ASSERT_FATAL(ask(lz, "real.dyn.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 0);
	check_soa("lab.home.arpa", 120);
	/* Nor is anything below an existing name other than the wildcard's parent. */
	CU_ASSERT_FATAL(ask(lz, "x.real.dyn.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN);
	/* The parent itself is an empty non-terminal. */
	CU_ASSERT_FATAL(ask(lz, "dyn.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 0);
	hd_localzone_free(lz);
}

static void
test_wildcard_outside_zones(void)
{
	struct hd_localzone_builder *b = builder();
	struct hd_localzone *lz;

	add(b, "*.dev.test A 10.9.9.9");
	lz = build(b);
	CU_ASSERT_FATAL(ask(lz, "app.dev.test", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(!(pr.flags & HD_DNS_AA) && pr.an == 1);
	CU_ASSERT(owner_is(&pr.rr[0], "app.dev.test"));
	CU_ASSERT(ask(lz, "dev.test", HD_DNS_TYPE_A) == 0);
	CU_ASSERT(ask(lz, "other.test", HD_DNS_TYPE_A) == 0);
	hd_localzone_free(lz);
}

static void
test_auto_ptr(void)
{
	struct hd_localzone *lz = lab(1);
	const char *v6rev = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa";

	CU_ASSERT_FATAL(ask(lz, "10.1.168.192.in-addr.arpa", HD_DNS_TYPE_PTR) == 1);
	CU_ASSERT(rcode() == 0 && pr.an == 1 && pr.rr[0].type == HD_DNS_TYPE_PTR);
	CU_ASSERT(rd_name_is(&pr.rr[0], "nas.lab.home.arpa"));
	CU_ASSERT(pr.rr[0].ttl == 600);
	CU_ASSERT_FATAL(ask(lz, v6rev, HD_DNS_TYPE_PTR) == 1);
	CU_ASSERT(pr.an == 1 && rd_name_is(&pr.rr[0], "nas.lab.home.arpa"));
	/* Only the exact reverse names: the rest of in-addr.arpa is forwarded. */
	CU_ASSERT(ask(lz, "11.1.168.192.in-addr.arpa", HD_DNS_TYPE_PTR) == 0);
	/* Wildcards get none. */
	CU_ASSERT(ask(lz, "99.0.0.10.in-addr.arpa", HD_DNS_TYPE_PTR) == 0);
	hd_localzone_free(lz);

	/* Opt-out. */
	lz = lab(0);
	CU_ASSERT(ask(lz, "10.1.168.192.in-addr.arpa", HD_DNS_TYPE_PTR) == 0);
	CU_ASSERT(ask(lz, v6rev, HD_DNS_TYPE_PTR) == 0);
	CU_ASSERT(ask(lz, "nas.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	hd_localzone_free(lz);
}

static void
test_auto_ptr_explicit_wins(void)
{
	struct hd_localzone_builder *b = builder();
	struct hd_localzone *lz;

	add(b, "first.home.arpa A 10.0.0.1");
	add(b, "second.home.arpa A 10.0.0.1");
	add(b, "a.home.arpa A 10.0.0.2");
	add(b, "2.0.0.10.in-addr.arpa PTR named.home.arpa");
	lz = build(b);
	CU_ASSERT_FATAL(ask(lz, "1.0.0.10.in-addr.arpa", HD_DNS_TYPE_PTR) == 1);
	CU_ASSERT(pr.an == 1 && rd_name_is(&pr.rr[0], "first.home.arpa"));
	CU_ASSERT_FATAL(ask(lz, "2.0.0.10.in-addr.arpa", HD_DNS_TYPE_PTR) == 1);
	CU_ASSERT(pr.an == 1 && rd_name_is(&pr.rr[0], "named.home.arpa"));
	hd_localzone_free(lz);
}

static void
test_local_zone_synth_soa(void)
{
	static const uint8_t soa[] = "\011localhost\000\006nobody\007invalid"
		"\000\000\000\000\001\000\000\016\020\000\000\004\260\000\011\072\200\000\000\001\054";
	struct hd_localzone_builder *b = builder();
	struct hd_localzone *lz;

	CU_ASSERT(hd_localzone_builder_add_zone(b, "Home.Arpa.", errbuf, sizeof(errbuf)) == 0);
	add(b, "router.home.arpa A 192.168.0.1");
	lz = build(b);
	CU_ASSERT(hd_localzone_n_zones(lz) == 1);
	CU_ASSERT_FATAL(ask(lz, "printer.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN && (pr.flags & HD_DNS_AA));
	check_soa("home.arpa", 300);
	CU_ASSERT(rd_is(&pr.rr[0], soa, sizeof(soa) - 1));
	CU_ASSERT_FATAL(ask(lz, "router.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(pr.an == 1 && (pr.flags & HD_DNS_AA));
	CU_ASSERT(hd_localzone_builder_add_zone(b = builder(), "a..b", errbuf,
						sizeof(errbuf)) == -EINVAL);
	hd_localzone_builder_free(b);
	hd_localzone_free(lz);
}

static void
test_tc_over_limit(void)
{
	struct hd_localzone_builder *b = builder();
	struct hd_localzone *lz;
	char line[80];
	int i;

	hd_localzone_builder_auto_ptr(b, 0);
	for (i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "big.home.arpa A 10.1.0.%d", i);
		add(b, line);
	}
	lz = build(b);
	/* 40 x 16 bytes: over 512 without EDNS. */
	CU_ASSERT_FATAL(ask_lim(lz, "big.home.arpa", HD_DNS_TYPE_A, 0, 512) == 1);
	CU_ASSERT(pr.flags & HD_DNS_TC);
	CU_ASSERT(pr.an == 0 && rlen <= 512);
	/* With room (TCP): all of them. */
	CU_ASSERT_FATAL(ask_lim(lz, "big.home.arpa", HD_DNS_TYPE_A, 1, 65535) == 1);
	CU_ASSERT(!(pr.flags & HD_DNS_TC) && pr.an == 40 && pr.has_opt);
	/* A buffer too small for even the truncated reply. */
	tm_query(&cq, 1, 0, "big.home.arpa", HD_DNS_TYPE_A, 0, 0, 0, 0);
	CU_ASSERT_FATAL(hd_dns_query_parse(cq.b, cq.n, &q) == 0);
	memcpy(reply, cq.b, cq.n);
	CU_ASSERT(hd_localzone_answer(lz, &q, reply, q.question_end - 1, 512, &rlen) == -ENOSPC);
	hd_localzone_free(lz);
}

static void
expect_record_error(const char *text, const char *where, const char *part)
{
	struct hd_localzone_builder *b = builder();

	errbuf[0] = '\0';
	CU_ASSERT(hd_localzone_add_record(b, text, where, errbuf, sizeof(errbuf)) == -EINVAL);
	if (strstr(errbuf, part) == NULL || strncmp(errbuf, where, strlen(where)) != 0)
		fprintf(stderr, "'%s': got '%s'\n", text, errbuf);
	CU_ASSERT(strncmp(errbuf, where, strlen(where)) == 0);
	CU_ASSERT(strstr(errbuf, part) != NULL);
	/* The builder stays usable and holds nothing from the bad line. */
	add(b, "ok.home.arpa A 10.0.0.1");
	hd_localzone_builder_free(b);
}

static void
test_bad_records(void)
{
	expect_record_error("nas.home.arpa A 300.1.1.1", "heimdall.yaml:12", "IPv4");
	expect_record_error("nas.home.arpa BOGUS 1", "--record", "invalid");
	expect_record_error("nas.home.arpa A", "--record", "");
	expect_record_error("", "--record", "expected NAME");
	expect_record_error("$INCLUDE /etc/passwd", "--record", "expected NAME");
	expect_record_error("nas.home.arpa CH A 10.0.0.1", "--record", "");
	expect_record_error("a.home.arpa A 10.0.0.1\nb.home.arpa A 10.0.0.2", "--record",
			    "one record");
	expect_record_error("a.home.arpa MX 10", "--record", "");
}

static void
expect_file_error(const char *text, const char *origin, const char *part)
{
	struct hd_localzone_builder *b = builder();
	char *path = write_file("bad.zone", text);
	char want[160];

	errbuf[0] = '\0';
	CU_ASSERT(hd_localzone_add_zone_file(b, path, origin, errbuf, sizeof(errbuf)) < 0);
	snprintf(want, sizeof(want), "%s", part);
	if (strstr(errbuf, want) == NULL)
		fprintf(stderr, "zone error: got '%s', want '%s'\n", errbuf, want);
	CU_ASSERT(strstr(errbuf, want) != NULL);
	hd_localzone_builder_free(b);
}

static void
test_bad_zone_files(void)
{
	char want[160];

	snprintf(want, sizeof(want), "%s/bad.zone:4: ", tmpdir);
	expect_file_error("$ORIGIN z.test.\n@ SOA ns h 1 2 3 4 5\nok A 10.0.0.1\n"
			  "bad A 10.0.0.999\n", NULL, want);
	snprintf(want, sizeof(want), "%s/bad.zone:3: other.test. is outside the zone z.test.",
		 tmpdir);
	expect_file_error("$ORIGIN z.test.\n@ SOA ns h 1 2 3 4 5\nother.test. A 10.0.0.1\n",
			  NULL, want);
	snprintf(want, sizeof(want), "%s/bad.zone:2: a.test. is outside the zone b.test.",
		 tmpdir);
	expect_file_error("$ORIGIN a.test.\n@ A 10.0.0.1\n", "b.test", want);
	snprintf(want, sizeof(want), "%s/bad.zone: no SOA and no $ORIGIN", tmpdir);
	expect_file_error("a.test. A 10.0.0.1\n", NULL, want);
	snprintf(want, sizeof(want), "%s/bad.zone:3: ", tmpdir);
	expect_file_error("$ORIGIN z.test.\n@ SOA ns h 1 2 3 4 5\nx CH TXT \"a\"\n", NULL, want);
	expect_file_error("", NULL, "no SOA");
	snprintf(want, sizeof(want), "%s/missing.zone: cannot read", tmpdir);
	{
		struct hd_localzone_builder *b = builder();
		char path[128];

		snprintf(path, sizeof(path), "%s/missing.zone", tmpdir);
		CU_ASSERT(hd_localzone_add_zone_file(b, path, NULL, errbuf, sizeof(errbuf)) < 0);
		CU_ASSERT(strstr(errbuf, want) != NULL);
		hd_localzone_builder_free(b);
	}
}

static void
test_build_errors(void)
{
	struct hd_localzone_builder *b = builder();
	char *path;

	/* CNAME beside other data: refused, naming where the CNAME came from. */
	path = write_file("clash.zone", "$ORIGIN c.test.\n@ SOA ns h 1 2 3 4 5\n"
			  "www A 10.0.0.1\nwww CNAME other\n");
	CU_ASSERT_FATAL(hd_localzone_add_zone_file(b, path, NULL, errbuf, sizeof(errbuf)) == 0);
	errbuf[0] = '\0';
	CU_ASSERT(hd_localzone_build(b, errbuf, sizeof(errbuf)) == NULL);
	CU_ASSERT(strstr(errbuf, "clash.zone:4: www.c.test. has a CNAME and other data") != NULL);

	b = builder();
	CU_ASSERT(hd_localzone_add_record(b, "x.test CNAME a.test", "heimdall.yaml:3",
					  errbuf, sizeof(errbuf)) == 0);
	CU_ASSERT(hd_localzone_add_record(b, "x.test CNAME b.test", "heimdall.yaml:4",
					  errbuf, sizeof(errbuf)) == 0);
	CU_ASSERT(hd_localzone_build(b, errbuf, sizeof(errbuf)) == NULL);
	CU_ASSERT(strstr(errbuf, "heimdall.yaml:4: x.test. has more than one CNAME") != NULL);

	/* The same record twice is one record. */
	b = builder();
	add(b, "x.test A 10.0.0.1");
	add(b, "x.test 60 A 10.0.0.1");
	hd_localzone_builder_auto_ptr(b, 0);
	{
		struct hd_localzone *lz = build(b);

		CU_ASSERT(hd_localzone_n_records(lz) == 1);
		CU_ASSERT_FATAL(ask(lz, "x.test", HD_DNS_TYPE_A) == 1);
		CU_ASSERT(pr.an == 1);
		hd_localzone_free(lz);
	}
}

static void
test_nested_zones(void)
{
	struct hd_localzone_builder *b = builder();
	struct hd_localzone *lz;

	CU_ASSERT(hd_localzone_builder_add_zone(b, "home.arpa", errbuf, sizeof(errbuf)) == 0);
	CU_ASSERT(hd_localzone_add_zone_file(b, write_file("lab.zone", lab_zone), NULL,
					     errbuf, sizeof(errbuf)) == 0);
	lz = build(b);
	CU_ASSERT(hd_localzone_n_zones(lz) == 2);
	/* The longest apex wins. */
	CU_ASSERT_FATAL(ask(lz, "nope.lab.home.arpa", HD_DNS_TYPE_A) == 1);
	check_soa("lab.home.arpa", 120);
	CU_ASSERT_FATAL(ask(lz, "nope.home.arpa", HD_DNS_TYPE_A) == 1);
	CU_ASSERT(rcode() == HD_DNS_RCODE_NXDOMAIN);
	check_soa("home.arpa", 300);
	/* Auto PTR names fall in no zone here: exact names only. */
	CU_ASSERT(ask(lz, "10.1.168.192.in-addr.arpa", HD_DNS_TYPE_PTR) == 1);
	hd_localzone_free(lz);
}

static void
test_empty_and_null(void)
{
	struct hd_localzone *lz = build(builder());

	CU_ASSERT(hd_localzone_n_records(lz) == 0);
	CU_ASSERT(ask(lz, "anything.test", HD_DNS_TYPE_A) == 0);
	CU_ASSERT(ask(NULL, "anything.test", HD_DNS_TYPE_A) == 0);
	hd_localzone_free(lz);
	hd_localzone_free(NULL);
	hd_localzone_builder_free(NULL);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_records_from_text),
		T_CASE(test_zone_file),
		T_CASE(test_negative),
		T_CASE(test_cname_chains),
		T_CASE(test_cname_loop_bounded),
		T_CASE(test_wildcard),
		T_CASE(test_wildcard_outside_zones),
		T_CASE(test_auto_ptr),
		T_CASE(test_auto_ptr_explicit_wins),
		T_CASE(test_local_zone_synth_soa),
		T_CASE(test_tc_over_limit),
		T_CASE(test_bad_records),
		T_CASE(test_bad_zone_files),
		T_CASE(test_build_errors),
		T_CASE(test_nested_zones),
		T_CASE(test_empty_and_null),
	};
	static const char *const files[] = { "lab.zone", "bad.zone", "clash.zone" };
	char path[128];
	size_t i;
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hd-localzone-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = t_run("localzone", cases, RTE_DIM(cases));
	for (i = 0; i < RTE_DIM(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	if (rmdir(tmpdir) != 0)
		rc = 1;
	return rc;
}
