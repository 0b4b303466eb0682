/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef HD_TEST_H
#define HD_TEST_H

/*
 * The CUnit runner every suite shares: one suite of named cases, verbose
 * output (whose closing lines CI reads), and an exit status that is non-zero
 * when registering, the suite set-up or any assertion failed.
 */

#include <stddef.h>

#include <CUnit/Basic.h>

struct t_case {
	const char *name;
	void (*fn)(void);
};

#define T_CASE(f) { #f, f }
#define T_DIM(a) (sizeof(a) / sizeof((a)[0]))

/* Run @p n cases as suite @p suite; @p init / @p clean may be NULL. @return the exit status. */
static inline int
t_run_suite(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean,
	    const struct t_case *c, size_t n)
{
	CU_pSuite s;
	size_t i;
	int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite(suite, init, clean);
	if (s == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (CU_add_test(s, c[i].name, c[i].fn) == NULL)
			goto fail;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() != 0 || CU_get_number_of_tests_failed() != 0 ||
		 CU_get_number_of_suites_failed() != 0;
	CU_cleanup_registry();
	return failed;
fail:
	CU_cleanup_registry();
	return 1;
}

/* A suite without set-up or clean-up. */
static inline int
t_run(const char *suite, const struct t_case *c, size_t n)
{
	return t_run_suite(suite, NULL, NULL, c, n);
}

#endif /* HD_TEST_H */
