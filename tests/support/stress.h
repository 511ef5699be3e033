// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_TEST_STRESS_H
#define RTL_TEST_STRESS_H

#include <stdint.h>
#include <stdlib.h>

/*
  Stress tests run their full counts by default.  Sanitizer builds are 5 to
  50 times slower, so `make check-tsan` sets RTL_STRESS_DIVISOR to scale the
  counts down; the checks themselves are unchanged.
*/
static inline uint64_t
rtl_stress_count(const uint64_t full)
{
  const char* const env = getenv("RTL_STRESS_DIVISOR");
  const long        div = env ? strtol(env, NULL, 10) : 1L;
  const uint64_t    n   = div > 1L ? full / (uint64_t)div : full;
  return n ? n : 1U;
}

#endif // RTL_TEST_STRESS_H
