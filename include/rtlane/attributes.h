// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_ATTRIBUTES_H
#define RTLANE_ATTRIBUTES_H

/**
   @file attributes.h
   Declaration decorations shared by every public header.

   RTL_REALTIME marks a function that is safe to call from a real-time audio
   thread: it never allocates, locks, sleeps, logs or makes a blocking system
   call, and it finishes in bounded time.  It is an annotation that clang's
   static analysers can see; the test suite enforces the promise.
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

#if defined(__clang__)
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
