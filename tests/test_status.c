// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#include "support/failing_allocator.h"

#include <rtlane/allocator.h>
#include <rtlane/status.h>

#include <check.h>
#include <stdint.h>
#include <string.h>

Suite*
rtl_suite_status(void);

START_TEST(test_strerror_all_distinct)
{
  for (int i = 0; i < RTL_N_STATUS; ++i) {
    const char* const a = rtl_strerror((RtlStatus)i);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_gt(strlen(a), 0U);
    ck_assert_str_ne(a, "unknown status");
    for (int j = 0; j < i; ++j) {
      ck_assert_str_ne(a, rtl_strerror((RtlStatus)j));
    }
  }
  ck_assert_str_eq(rtl_strerror(RTL_SUCCESS), "success");
  ck_assert_str_eq(rtl_strerror((RtlStatus)RTL_N_STATUS), "unknown status");
}
END_TEST

START_TEST(test_default_allocator)
{
  void* const p = rtl_malloc(NULL, 16U);
  ck_assert_ptr_nonnull(p);
  rtl_free(NULL, p);

  unsigned char* const z = (unsigned char*)rtl_calloc(NULL, 4U, 8U);
  ck_assert_ptr_nonnull(z);
  for (size_t i = 0U; i < 32U; ++i) {
    ck_assert_uint_eq(z[i], 0U);
  }
  rtl_free(NULL, z);

  void* const a = rtl_aligned_alloc(NULL, 128U, 100U);
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq((uintptr_t)a % 128U, 0U);
  rtl_aligned_free(NULL, a);

  rtl_free(NULL, NULL);
  rtl_aligned_free(NULL, NULL);
}
END_TEST

START_TEST(test_failing_allocator)
{
  RtlFailingAllocator f = rtl_failing_allocator();
  f.n_remaining         = 1U;
  void* const p         = rtl_malloc(&f.base, 8U);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_null(rtl_malloc(&f.base, 8U));
  ck_assert_ptr_null(rtl_aligned_alloc(&f.base, 64U, 8U));
  ck_assert_uint_eq(f.n_allocations, 3U);
  rtl_free(&f.base, p);
  ck_assert_uint_eq(f.n_live, 0U);
}
END_TEST

Suite*
rtl_suite_status(void)
{
  Suite* const s    = suite_create("status");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_strerror_all_distinct);
  tcase_add_test(core, test_default_allocator);
  tcase_add_test(core, test_failing_allocator);
  suite_add_tcase(s, core);
  return s;
}
