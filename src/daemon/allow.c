// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#include "allow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

bool
rtl_allow_parse(const char* const text, RtlAllow* const allow)
{
  char              addr[INET6_ADDRSTRLEN + 1];
  const char* const slash = strchr(text, '/');
  const size_t      len   = slash ? (size_t)(slash - text) : strlen(text);
  if (!len || len >= sizeof(addr)) {
    return false;
  }
  memcpy(addr, text, len);
  addr[len] = '\0';

  memset(allow, 0, sizeof(*allow));
  unsigned bits = 0U;
  if (inet_pton(AF_INET, addr, allow->addr) == 1) {
    allow->family = AF_INET;
    bits          = 32U;
  } else if (inet_pton(AF_INET6, addr, allow->addr) == 1) {
    allow->family = AF_INET6;
    bits          = 128U;
  } else {
    return false;
  }

  allow->prefix = bits;
  if (slash) {
    // Digits only: strtoul would take a sign or spaces
    const char* const p = slash + 1;
    if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3U) {
      return false;
    }
    const unsigned long v = strtoul(p, NULL, 10);
    if (v > bits) {
      return false;
    }
    allow->prefix = (unsigned)v;
  }
  return true;
}

/// Whether the first `bits` bits of `a` and `b` agree.
static bool
prefix_equal(const uint8_t* const a,
             const uint8_t* const b,
             const unsigned       bits)
{
  const unsigned whole = bits / 8U;
  if (memcmp(a, b, whole)) {
    return false;
  }
  const unsigned rest = bits % 8U;
  if (!rest) {
    return true;
  }
  const uint8_t mask = (uint8_t)(0xFFU << (8U - rest));
  return ((a[whole] ^ b[whole]) & mask) == 0U;
}

bool
rtl_allow_is_loopback(const struct sockaddr* const addr)
{
  static const RtlAllow loopback[] = {
    {AF_INET, 8U, {127}},
    {AF_INET6, 128U, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
  };
  return rtl_allow_match(loopback, 2U, addr);
}

bool
rtl_allow_match(const RtlAllow* const        list,
                const unsigned               n,
                const struct sockaddr* const sender)
{
  if (!n) {
    return true;
  }
  uint8_t v4[4];
  uint8_t v6[16];
  bool    has_v4 = false;
  bool    has_v6 = false;
  if (sender->sa_family == AF_INET) {
    const struct sockaddr_in* const in =
      (const struct sockaddr_in*)(const void*)sender;
    memcpy(v4, &in->sin_addr, sizeof(v4));
    has_v4 = true;
  } else if (sender->sa_family == AF_INET6) {
    const struct sockaddr_in6* const in6 =
      (const struct sockaddr_in6*)(const void*)sender;
    memcpy(v6, &in6->sin6_addr, sizeof(v6));
    has_v6 = true;
    // ::ffff:a.b.c.d is an IPv4 sender on a dual-stack socket
    static const uint8_t mapped[12] = {
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (!memcmp(v6, mapped, sizeof(mapped))) {
      memcpy(v4, v6 + 12, sizeof(v4));
      has_v4 = true;
    }
  }
  for (unsigned i = 0U; i < n; ++i) {
    const RtlAllow* const a = &list[i];
    if ((a->family == AF_INET && has_v4 &&
         prefix_equal(a->addr, v4, a->prefix)) ||
        (a->family == AF_INET6 && has_v6 &&
         prefix_equal(a->addr, v6, a->prefix))) {
      return true;
    }
  }
  return false;
}
