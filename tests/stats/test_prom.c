/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text writer: what a scraper reads. HELP/TYPE once per
 * family, samples under their family, label values escaped, and writer
 * mistakes left out instead of producing text Prometheus rejects.
 */

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hd_prom.h"
#include "../hd_test.h"

static struct hd_prom p;

static void
test_counter_family_text(void)
{
	CU_ASSERT_EQUAL_FATAL(hd_prom_init(&p), 0);
	CU_ASSERT_EQUAL(hd_prom_family(&p, "heimdall_queries_total", "counter", "queries"), 0);
	CU_ASSERT_EQUAL(hd_prom_u64(&p, "heimdall_queries_total", 7, "lcore", "1", "role",
				    "worker", NULL), 0);
	CU_ASSERT_EQUAL(hd_prom_u64(&p, "heimdall_queries_total", UINT64_MAX, NULL), 0);
	CU_ASSERT_STRING_EQUAL(p.buf,
		"# HELP heimdall_queries_total queries\n"
		"# TYPE heimdall_queries_total counter\n"
		"heimdall_queries_total{lcore=\"1\",role=\"worker\"} 7\n"
		"heimdall_queries_total 18446744073709551615\n");
	CU_ASSERT_EQUAL(p.len, strlen(p.buf));
	CU_ASSERT_EQUAL(p.dropped, 0);
	hd_prom_free(&p);
}

static void
test_label_values_escaped(void)
{
	char out[64];

	CU_ASSERT_EQUAL(hd_prom_escape(out, sizeof(out), "a\\b\"c\nd"), 10);
	CU_ASSERT_STRING_EQUAL(out, "a\\\\b\\\"c\\nd");
	/* Too small: truncated, NUL-terminated, the needed length returned. */
	CU_ASSERT_EQUAL(hd_prom_escape(out, 4, "\"\"\""), 6);
	CU_ASSERT_EQUAL(strlen(out), 3);
	CU_ASSERT_EQUAL_FATAL(hd_prom_init(&p), 0);
	hd_prom_family(&p, "x_up", "gauge", "line one\nback\\slash");
	hd_prom_u64(&p, "x_up", 1, "list", "ev\"il\n}", NULL);
	CU_ASSERT_STRING_EQUAL(p.buf,
		"# HELP x_up line one\\nback\\\\slash\n"
		"# TYPE x_up gauge\n"
		"x_up{list=\"ev\\\"il\\n}\"} 1\n");
	hd_prom_free(&p);
}

static void
test_family_only_once(void)
{
	CU_ASSERT_EQUAL_FATAL(hd_prom_init(&p), 0);
	CU_ASSERT_EQUAL(hd_prom_family(&p, "a_total", "counter", "a"), 0);
	hd_prom_u64(&p, "a_total", 1, NULL);
	CU_ASSERT_EQUAL(hd_prom_family(&p, "b", "gauge", "b"), 0);
	hd_prom_u64(&p, "b", 2, NULL);
	/* A second start of a: refused, and its samples with it (they would not be grouped). */
	CU_ASSERT_EQUAL(hd_prom_family(&p, "a_total", "counter", "a"), -EEXIST);
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "a_total", 3, NULL), 0);
	CU_ASSERT_STRING_EQUAL(p.buf,
		"# HELP a_total a\n# TYPE a_total counter\na_total 1\n"
		"# HELP b b\n# TYPE b gauge\nb 2\n");
	CU_ASSERT_EQUAL(p.dropped, 2);
	hd_prom_free(&p);
}

static void
test_samples_must_belong(void)
{
	CU_ASSERT_EQUAL_FATAL(hd_prom_init(&p), 0);
	/* Before any family, and outside the current one. */
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "a", 1, NULL), 0);
	hd_prom_family(&p, "lat_seconds", "histogram", "h");
	CU_ASSERT_EQUAL(hd_prom_u64(&p, "lat_seconds_bucket", 1, "le", "+Inf", NULL), 0);
	CU_ASSERT_EQUAL(hd_prom_double(&p, "lat_seconds_sum", 0.25, NULL), 0);
	CU_ASSERT_EQUAL(hd_prom_u64(&p, "lat_seconds_count", 1, NULL), 0);
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "lat_seconds", 1, NULL), 0);
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "lat_seconds_total", 1, NULL), 0);
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "other", 1, NULL), 0);
	CU_ASSERT_STRING_EQUAL(p.buf,
		"# HELP lat_seconds h\n# TYPE lat_seconds histogram\n"
		"lat_seconds_bucket{le=\"+Inf\"} 1\nlat_seconds_sum 0.25\nlat_seconds_count 1\n");
	CU_ASSERT_EQUAL(p.dropped, 4);
	hd_prom_free(&p);
}

static void
test_bad_names_refused(void)
{
	CU_ASSERT_EQUAL_FATAL(hd_prom_init(&p), 0);
	CU_ASSERT(hd_prom_name_ok("heimdall:x_1"));
	CU_ASSERT(!hd_prom_name_ok("1abc"));
	CU_ASSERT(!hd_prom_name_ok("a-b"));
	CU_ASSERT(!hd_prom_name_ok(""));
	CU_ASSERT_EQUAL(hd_prom_family(&p, "bad-name", "counter", "x"), -EINVAL);
	CU_ASSERT_EQUAL(hd_prom_family(&p, "ok", "countr", "x"), -EINVAL);
	CU_ASSERT_EQUAL(hd_prom_family(&p, "ok", "gauge", "x"), 0);
	/* Label names: no ':' and no reserved "__" prefix; a NULL value is refused. */
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "ok", 1, "a:b", "v", NULL), 0);
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "ok", 1, "__name__", "v", NULL), 0);
	CU_ASSERT_NOT_EQUAL(hd_prom_u64(&p, "ok", 1, "a", NULL), 0);
	CU_ASSERT_STRING_EQUAL(p.buf, "# HELP ok x\n# TYPE ok gauge\n");
	hd_prom_free(&p);
}

static void
test_special_doubles_and_growth(void)
{
	char name[32];
	unsigned int i;

	CU_ASSERT_EQUAL_FATAL(hd_prom_init(&p), 0);
	hd_prom_family(&p, "g", "gauge", "");
	hd_prom_double(&p, "g", NAN, "k", "nan", NULL);
	hd_prom_double(&p, "g", INFINITY, "k", "pinf", NULL);
	hd_prom_double(&p, "g", -INFINITY, "k", "ninf", NULL);
	hd_prom_double(&p, "g", 0.001, "k", "ms", NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "g{k=\"nan\"} NaN\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "g{k=\"pinf\"} +Inf\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "g{k=\"ninf\"} -Inf\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "g{k=\"ms\"} 0.001\n"));
	/* Past the first allocation: the text grows and stays whole. */
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		CU_ASSERT_EQUAL_FATAL(hd_prom_family(&p, name, "gauge", "help text"), 0);
		CU_ASSERT_EQUAL_FATAL(hd_prom_u64(&p, name, i, "a", "b", NULL), 0);
	}
	CU_ASSERT(p.len > 64 * 1024);
	CU_ASSERT_EQUAL(p.len, strlen(p.buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "m4999{a=\"b\"} 4999\n"));
	CU_ASSERT_EQUAL(p.err, 0);
	hd_prom_free(&p);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_counter_family_text),
		T_CASE(test_label_values_escaped),
		T_CASE(test_family_only_once),
		T_CASE(test_samples_must_belong),
		T_CASE(test_bad_names_refused),
		T_CASE(test_special_doubles_and_growth),
	};

	return t_run("stats_prom", cases, T_DIM(cases));
}
