// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_LOG_H
#define RTL_DAEMON_LOG_H

#include <rtlane/attributes.h>

/*
  One line on stderr per event, prefixed with "rtlane: ".  Each line leaves
  in a single write() so that lines from different threads never interleave.
  Never called from the process callback.
*/

void
rtl_log(const char* fmt, ...) RTL_LOG_FUNC(1, 2);

#endif // RTL_DAEMON_LOG_H
