// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void
rtl_log(const char* const fmt, ...)
{
  char              line[1024];
  static const char prefix[] = "rtlane: ";
  const size_t      plen     = sizeof(prefix) - 1U;
  memcpy(line, prefix, plen);

  va_list args;
  va_start(args, fmt);
  const int n = vsnprintf(line + plen, sizeof(line) - plen - 1U, fmt, args);
  va_end(args);

  size_t len = plen;
  if (n > 0) {
    len += (size_t)n < sizeof(line) - plen - 1U ? (size_t)n
                                                : sizeof(line) - plen - 2U;
  }
  line[len++] = '\n';

  const char* p = line;
  while (len) {
    const ssize_t w = write(STDERR_FILENO, p, len);
    if (w <= 0) {
      break;
    }
    p += w;
    len -= (size_t)w;
  }
}
