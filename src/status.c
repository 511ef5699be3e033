// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#include <rtlane/status.h>

RTL_REALTIME const char*
rtl_strerror(const RtlStatus status)
{
  switch (status) {
  case RTL_SUCCESS:
    return "success";
  case RTL_FAILURE:
    return "failure";
  case RTL_NO_MEM:
    return "out of memory";
  case RTL_BAD_ARG:
    return "invalid argument";
  case RTL_NOT_POW2:
    return "capacity is not a power of two";
  case RTL_FULL:
    return "full";
  case RTL_EMPTY:
    return "empty";
  case RTL_TOO_BIG:
    return "too big";
  case RTL_NOT_FOUND:
    return "not found";
  case RTL_BAD_STATE:
    return "not allowed in this state";
  case RTL_SYSTEM_ERROR:
    return "system error";
  case RTL_UNSUPPORTED:
    return "unsupported";
  }
  return "unknown status";
}
