// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_TEST_STRESS_H
#define RTL_TEST_STRESS_H

#include <pthread.h>
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

/*
  Run `reader` and `writer`, each on a thread of its own with `arg`, and wait
  for both.  The reader starts first, so that it is already waiting when the
  first data arrives.  Returns 0, or the first pthread error.
*/
static inline int
rtl_stress_run(void* (*const reader)(void*),
               void* (*const writer)(void*),
               void* const arg)
{
  pthread_t r;
  pthread_t w;
  int       err = pthread_create(&r, NULL, reader, arg);
  if (err) {
    return err;
  }
  err             = pthread_create(&w, NULL, writer, arg);
  const int err_w = err ? 0 : pthread_join(w, NULL);
  const int err_r = pthread_join(r, NULL);
  return err ? err : err_w ? err_w : err_r;
}

#endif // RTL_TEST_STRESS_H
