// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// One runner for every module's Check suite, so that a run ends with a single
// total.  CK_RUN_SUITE=ring (or CK_RUN_CASE=...) selects part of it.

#include <check.h>

#include <stdlib.h>

#define RTL_SUITE(name) Suite* rtl_suite_##name(void);
#include "suites.h"
#undef RTL_SUITE

int
main(void)
{
  SRunner* const runner = srunner_create(NULL);

#define RTL_SUITE(name) srunner_add_suite(runner, rtl_suite_##name());
#include "suites.h"
#undef RTL_SUITE

  srunner_run_all(runner, CK_NORMAL);
  const int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
