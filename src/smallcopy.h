// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_SRC_SMALLCOPY_H
#define RTL_SRC_SMALLCOPY_H

/*
  Short copies for the fast paths of the SPSC rings.  Internal, not
  installed.
*/

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/// Longest copy rtl_copy_small() handles; longer ones go to memcpy.
#define RTL_SMALL_COPY_MAX 32U

#if defined(__GNUC__)
#  define RTL_LIKELY(x) __builtin_expect(!!(x), 1)
#  define RTL_UNLIKELY(x) __builtin_expect(!!(x), 0)
/// Kept out of line and out of the way, so a fast path stays a leaf.
#  define RTL_SLOW_PATH __attribute__((noinline, cold))
/// Hide a value from the optimiser so it keeps an 8-byte move an 8-byte move.
#  define RTL_OPAQUE(x) __asm__("" : "+r"(x))
#else
#  define RTL_LIKELY(x) (x)
#  define RTL_UNLIKELY(x) (x)
#  define RTL_SLOW_PATH
#  define RTL_OPAQUE(x) ((void)0)
#endif

static inline uint64_t
rtl_load8(const uint8_t* const src)
{
  uint64_t v = 0U;
  memcpy(&v, src, sizeof(v));
  return v;
}

static inline void
rtl_store8(uint8_t* const dst, const uint64_t v)
{
  memcpy(dst, &v, sizeof(v));
}

/*
  Copy at most RTL_SMALL_COPY_MAX bytes with no call and no loop:
  overlapping moves cover any length between one and two times the move
  size.

  On a writing side the source was usually written field by field just
  before the call and is still in the store buffer.  A load wider than those
  stores cannot be forwarded from it and waits until they reach the cache,
  which costs more than the whole operation, so the moves are at most 8
  bytes wide (RTL_OPAQUE stops the compiler from merging two into one 16
  byte move) and payloads made of 8-byte fields are copied field by field.
*/
static inline void
rtl_copy_small(uint8_t* const restrict dst,
               const uint8_t* const restrict src,
               const size_t n)
{
  if (n >= 8U) {
    uint64_t a = rtl_load8(src);
    RTL_OPAQUE(a);
    const uint64_t d = rtl_load8(src + n - 8U);
    if (n > 16U) {
      uint64_t b = rtl_load8(src + 8U);
      RTL_OPAQUE(b);
      const uint64_t c = rtl_load8(src + n - 16U);
      rtl_store8(dst + 8U, b);
      rtl_store8(dst + n - 16U, c);
    }
    rtl_store8(dst, a);
    rtl_store8(dst + n - 8U, d);
  } else if (n >= 4U) {
    uint32_t a = 0U;
    uint32_t b = 0U;
    memcpy(&a, src, 4U);
    memcpy(&b, src + n - 4U, 4U);
    memcpy(dst, &a, 4U);
    memcpy(dst + n - 4U, &b, 4U);
  } else if (n) {
    const uint8_t a = src[0];
    const uint8_t b = src[n >> 1U];
    const uint8_t c = src[n - 1U];
    dst[0]          = a;
    dst[n >> 1U]    = b;
    dst[n - 1U]     = c;
  }
}

/// Copy `n` bytes, inline when short.
static inline void
rtl_copy(uint8_t* const restrict dst,
         const uint8_t* const restrict src,
         const size_t n)
{
  if (n > RTL_SMALL_COPY_MAX) {
    memcpy(dst, src, n);
  } else {
    rtl_copy_small(dst, src, n);
  }
}

#endif // RTL_SRC_SMALLCOPY_H
