/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_CONFIG_TEST_H
#define HD_CONFIG_TEST_H

/* Helpers shared by the config suites: message checks and the CUnit runner. */

#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

/* Error texts are what the operator reads: show the whole text on failure. */
static inline void
check_text(const char *file, unsigned int line, const char *s, const char *sub, int whole)
{
	int ok;

	if (s == NULL || sub == NULL)
		ok = 0;
	else if (whole)
		ok = strcmp(s, sub) == 0;
	else
		ok = strstr(s, sub) != NULL;
	if (!ok)
		fprintf(stderr, "%s:%u: \"%s\" %s \"%s\"\n", file, line,
			s != NULL ? s : "(null)",
			whole ? "is not" : "lacks",
			sub != NULL ? sub : "(null)");
	CU_assertImplementation(ok, line, whole ? "CHECK_STR" : "CHECK_HAS", file, "", CU_FALSE);
}

#define CHECK_HAS(s, sub)	check_text(__FILE__, __LINE__, (s), (sub), 0)
#define CHECK_STR(s, want)	check_text(__FILE__, __LINE__, (s), (want), 1)

struct config_test {
	const char *name;
	void (*fn)(void);
};

/* Runs one suite; non-zero when any assertion failed. */
static inline int
config_test_run(const char *suite_name, const struct config_test *tests)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite(suite_name, NULL, NULL);
	if (suite == NULL)
		goto fail;
	for (const struct config_test *t = tests; t->name != NULL; t++)
		if (CU_add_test(suite, t->name, t->fn) == NULL)
			goto fail;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto fail;
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed != 0;
fail:
	CU_cleanup_registry();
	return 1;
}

#endif /* HD_CONFIG_TEST_H */
