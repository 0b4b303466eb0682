/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CUnit suite for lib/querylog/file.c: rotated file names, rotation by
 * size keeping N files (FILE.1 the newest), and recovery from a file that
 * cannot be written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "hd_querylog.h"
#include "../hd_test.h"

static char dir[64];

static int
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hd-ql-test-XXXXXX");
	return mkdtemp(dir) == NULL;
}

static int
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) != 0;
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The number in the first line of @p path ("line N ..."), or -1. */
static int
first_line_no(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "line %d", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

static void
test_rotate_names(void)
{
	char out[32];

	CU_ASSERT_EQUAL(hd_querylog_rotate_name(out, sizeof(out), "/var/q.json", 0), 11);
	CU_ASSERT_STRING_EQUAL(out, "/var/q.json");
	CU_ASSERT_EQUAL(hd_querylog_rotate_name(out, sizeof(out), "/var/q.json", 1), 13);
	CU_ASSERT_STRING_EQUAL(out, "/var/q.json.1");
	hd_querylog_rotate_name(out, sizeof(out), "/var/q.json", 12);
	CU_ASSERT_STRING_EQUAL(out, "/var/q.json.12");
	CU_ASSERT_EQUAL(hd_querylog_rotate_name(out, 12, "/var/q.json", 1), -ENAMETOOLONG);
}

static void
test_rotation_keeps_n(void)
{
	char base[128], name[160], line[128];
	struct hd_querylog_file *f;
	int i, len;

	snprintf(base, sizeof(base), "%s/q.json", dir);
	f = hd_querylog_file_create(base, 1000, 2);
	CU_ASSERT_FATAL(f != NULL);
	/* 100-byte lines, 10 per file: 45 lines fill q.json.2, q.json.1, q.json and more. */
	for (i = 0; i < 45; i++) {
		len = snprintf(line, sizeof(line), "line %d %*s\n", i, 92 - (i >= 10 ? 1 : 0), "x");
		CU_ASSERT_EQUAL_FATAL(len, 100);
		CU_ASSERT_EQUAL(hd_querylog_file_write(f, line, (size_t)len, 0), 0);
		if (i % 7 == 0)
			CU_ASSERT_EQUAL(hd_querylog_file_flush(f, 0), 0);
	}
	hd_querylog_file_free(f);
	CU_ASSERT_EQUAL(file_size(base), 500);
	hd_querylog_rotate_name(name, sizeof(name), base, 1);
	CU_ASSERT_EQUAL(file_size(name), 1000);
	CU_ASSERT_EQUAL(first_line_no(name), 30);
	hd_querylog_rotate_name(name, sizeof(name), base, 2);
	CU_ASSERT_EQUAL(file_size(name), 1000);
	CU_ASSERT_EQUAL(first_line_no(name), 20);
	hd_querylog_rotate_name(name, sizeof(name), base, 3);
	CU_ASSERT_EQUAL(file_size(name), -1);
	CU_ASSERT_EQUAL(first_line_no(base), 40);

	/* A new run appends, and counts what is already there towards the limit. */
	f = hd_querylog_file_create(base, 1000, 2);
	CU_ASSERT_FATAL(f != NULL);
	for (i = 45; i < 51; i++) {
		len = snprintf(line, sizeof(line), "line %d %*s\n", i, 91, "x");
		hd_querylog_file_write(f, line, (size_t)len, 0);
	}
	hd_querylog_file_free(f);
	CU_ASSERT_EQUAL(file_size(base), 100);
	CU_ASSERT_EQUAL(first_line_no(base), 50);
	hd_querylog_rotate_name(name, sizeof(name), base, 1);
	CU_ASSERT_EQUAL(first_line_no(name), 40);
}

static void
test_unwritable_then_recovers(void)
{
	char sub[96], base[128];
	struct hd_querylog_file *f;
	static const char line[] = "{\"a\":1}\n";

	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(base, sizeof(base), "%s/q.json", sub);
	f = hd_querylog_file_create(base, 1 << 20, 1);
	CU_ASSERT_FATAL(f != NULL);
	hd_querylog_file_write(f, line, sizeof(line) - 1, 1000);
	CU_ASSERT(hd_querylog_file_flush(f, 1000) < 0);
	CU_ASSERT(hd_querylog_file_errors(f) >= 1);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
	/* Not before a second has passed... */
	hd_querylog_file_write(f, line, sizeof(line) - 1, 1500);
	CU_ASSERT(hd_querylog_file_flush(f, 1500) < 0);
	CU_ASSERT_EQUAL(file_size(base), -1);
	/* ...then it writes again. */
	hd_querylog_file_write(f, line, sizeof(line) - 1, 2100);
	CU_ASSERT_EQUAL(hd_querylog_file_flush(f, 2100), 0);
	CU_ASSERT_EQUAL(file_size(base), (long)sizeof(line) - 1);
	hd_querylog_file_free(f);
	CU_ASSERT_PTR_NULL(hd_querylog_file_create("", 1000, 1));
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_rotate_names),
		T_CASE(test_rotation_keeps_n),
		T_CASE(test_unwritable_then_recovers),
	};

	return t_run_suite("querylog_file", setup, cleanup, cases, T_DIM(cases));
}
