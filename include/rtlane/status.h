// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_STATUS_H
#define RTLANE_STATUS_H

#include <rtlane/attributes.h>

RTL_BEGIN_DECLS

/**
   @file status.h
   One status code for the whole library, so that a caller on any thread can
   turn any failure into a message (for example an OSC `/error` reply)
   without knowing which module produced it.  The enum holds exactly the
   codes the library returns; an application with failures of its own
   (a server that refuses, a file that cannot be written) reports them in
   its own words.
*/

typedef enum {
  RTL_SUCCESS = 0,  ///< Done
  RTL_FAILURE,      ///< Unspecified failure
  RTL_NO_MEM,       ///< An allocation failed
  RTL_BAD_ARG,      ///< An argument is out of its documented range
  RTL_NOT_POW2,     ///< A capacity that must be a power of two is not
  RTL_FULL,         ///< No room: nothing was written
  RTL_EMPTY,        ///< Nothing to read
  RTL_TOO_BIG,      ///< Larger than the buffer or slot can ever hold
  RTL_NOT_FOUND,    ///< No such item
  RTL_BAD_STATE,    ///< Not allowed in the current state
  RTL_SYSTEM_ERROR, ///< A system call failed (see errno)
  RTL_UNSUPPORTED,  ///< Not available on this system
} RtlStatus;

/// Number of status codes, for tables indexed by status.
#define RTL_N_STATUS ((int)RTL_UNSUPPORTED + 1)

/**
   Return a short, static, human-readable description of `status`.

   Any thread, RT-safe: the strings are constant, so the audio thread may
   pick one to ship out without allocating.
*/
RTL_RT_API RTL_CONST_FUNC const char*
rtl_strerror(RtlStatus status);

RTL_END_DECLS

#endif // RTLANE_STATUS_H
