// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// A program that uses only the installed headers, pkg-config file and
// shared library, as a packager's user would.

#include <rtlane/rtlane.h>

#include <stdio.h>
#include <string.h>

int
main(void)
{
  RtlMsgRing* ring = NULL;
  if (rtl_msgring_new(NULL, 8U, 16U, &ring)) {
    return 1;
  }

  const char   text[] = "hello";
  RtlMsgHeader header;
  char         body[16];
  const int    ok =
    !rtl_msgring_send(ring, 1U, text, (uint32_t)sizeof(text)) &&
    !rtl_msgring_recv(ring, &header, body, sizeof(body)) && header.type == 1U &&
    !strcmp(body, text) &&
    !strcmp(rtl_strerror(RTL_NOT_POW2), "capacity is not a power of two");

  rtl_msgring_free(ring);
  puts(ok ? "consumer: ok" : "consumer: FAILED");
  return ok ? 0 : 1;
}
