// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_SRC_COMMON_H
#define RTL_SRC_COMMON_H

/*
  Internal helpers shared by the library's modules.  Not installed.
*/

#include <rtlane/attributes.h>
#include <rtlane/status.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
  Separate the indices that different threads write by this much, so that
  a write by one side never invalidates the line the other side spins on.
  128 rather than 64 because x86's adjacent-line prefetcher pulls lines in
  pairs.
*/
#define RTL_CACHE_LINE 128

/*
  Brackets for a call that an RTL_REALTIME function makes on purpose into
  code that is not declared nonblocking and whose cost is documented (the
  snapshot read side's calls into liburcu).  Where clang checks
  RTL_REALTIME it would warn about such a call; the brackets record that it
  is a reviewed exception, as zix and jalv do, and nothing else.
*/
#if RTL_REALTIME_CHECKED
#  define RTL_EFFECTS_EXCEPTION_BEGIN \
    _Pragma("clang diagnostic push")  \
    _Pragma("clang diagnostic ignored \"-Wfunction-effects\"")
#  define RTL_EFFECTS_EXCEPTION_END _Pragma("clang diagnostic pop")
#else
#  define RTL_EFFECTS_EXCEPTION_BEGIN
#  define RTL_EFFECTS_EXCEPTION_END
#endif

static inline bool
rtl_is_pow2(const size_t n)
{
  return n && !(n & (n - 1U));
}

/*
  Add `n` to a statistics counter that only the calling thread writes.  With
  a single writer a relaxed load and store is enough, and cheaper than a
  locked read-modify-write on the real-time path; readers on other threads
  still never see a torn value, only one that may be a little old.  Never
  use it where two threads may add at once: increments would be lost.
*/
static inline void
rtl_counter_add(_Atomic uint64_t* const counter, const uint64_t n)
{
  atomic_store_explicit(counter,
                        atomic_load_explicit(counter, memory_order_relaxed) + n,
                        memory_order_relaxed);
}

/// Touch every page of `size` bytes at `ptr` and try to mlock it.
RtlStatus
rtl_lock_memory(void* ptr, size_t size);

#endif // RTL_SRC_COMMON_H
