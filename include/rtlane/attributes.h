// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_ATTRIBUTES_H
#define RTLANE_ATTRIBUTES_H

/**
   @file attributes.h
   Declaration decorations shared by every public header.

   RTL_REALTIME marks a function that is safe to call from a real-time audio
   thread: it never allocates, locks, sleeps, logs or makes a blocking system
   call, and it finishes in bounded time.  The library puts it on the
   declarations in these headers and on its own definitions.

   Where a compiler can check the promise, RTL_REALTIME asks it to: with
   clang 20 or later it is clang's `nonblocking` function effect, and clang
   verifies (-Wfunction-effects) that such a function neither allocates nor
   frees memory nor calls anything not itself known to be nonblocking (a
   lock, a system call), and code of your own that is declared nonblocking
   may call these functions without a warning.  Older compilers cannot check it:
   Debian 12's clang 14 (and clang 19, which parses `nonblocking` but does
   not verify it) gets a plain `annotate("realtime")` that analysers can
   read, and GCC gets nothing.  There the proof is the allocation trap
   that tests/test_rtsafe.c arms around every RT-safe function (and `make
   check-rtsafe`, which fails if one is left out).

   RTL_REALTIME_CHECKED is 1 when RTL_REALTIME is the checked attribute and
   0 otherwise.
*/

#ifdef __cplusplus
#  define RTL_BEGIN_DECLS extern "C" {
#  define RTL_END_DECLS }
#else
#  define RTL_BEGIN_DECLS
#  define RTL_END_DECLS
#endif

/// Every exported symbol carries this; everything else stays hidden.
#ifndef RTL_API
#  if defined(__GNUC__)
#    define RTL_API __attribute__((visibility("default")))
#  else
#    define RTL_API
#  endif
#endif

/*
  The version test is what zix uses: clang 19 already knows the attribute
  (so __has_attribute alone would say yes) but only clang 20 checks bodies
  against it.  __has_attribute then guards clang-like compilers whose
  version numbers mean something else.
*/
#if defined(__clang__) && defined(__has_attribute)
#  if __clang_major__ >= 20 && __has_attribute(nonblocking)
#    define RTL_REALTIME_CHECKED 1
#  endif
#endif
#ifndef RTL_REALTIME_CHECKED
#  define RTL_REALTIME_CHECKED 0
#endif

#if RTL_REALTIME_CHECKED
#  define RTL_REALTIME __attribute__((nonblocking))
#elif defined(__clang__)
#  define RTL_REALTIME __attribute__((annotate("realtime")))
#else
#  define RTL_REALTIME
#endif

#if defined(__GNUC__)
#  define RTL_PURE_FUNC __attribute__((pure))
#  define RTL_CONST_FUNC __attribute__((const))
#  define RTL_NODISCARD __attribute__((warn_unused_result))
#  define RTL_LOG_FUNC(fmt, arg1) __attribute__((format(printf, fmt, arg1)))
#else
#  define RTL_PURE_FUNC
#  define RTL_CONST_FUNC
#  define RTL_NODISCARD
#  define RTL_LOG_FUNC(fmt, arg1)
#endif

/// A function that may be called from the real-time thread.
#define RTL_RT_API RTL_API RTL_REALTIME

#endif // RTLANE_ATTRIBUTES_H
