// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// The --osc-allow list: what parses, what matches (prefixes at and beside
// their bounds, IPv4-mapped senders), and which addresses are loopback.

#include "allow.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

Suite*
rtl_suite_daemon_allow(void);

static struct sockaddr_in
v4(const char* const text)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  ck_assert_int_eq(inet_pton(AF_INET, text, &a.sin_addr), 1);
  return a;
}

static struct sockaddr_in6
v6(const char* const text)
{
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof(a));
  a.sin6_family = AF_INET6;
  ck_assert_int_eq(inet_pton(AF_INET6, text, &a.sin6_addr), 1);
  return a;
}

/// Whether `sender` matches the one entry `entry`.
static bool
matches(const char* const entry, const struct sockaddr* const sender)
{
  RtlAllow a;
  ck_assert_msg(rtl_allow_parse(entry, &a), "'%s' should parse", entry);
  return rtl_allow_match(&a, 1U, sender);
}

#define SA(x) ((const struct sockaddr*)(const void*)&(x))

START_TEST(test_parse)
{
  RtlAllow a;
  ck_assert(rtl_allow_parse("127.0.0.1", &a));
  ck_assert_int_eq(a.family, AF_INET);
  ck_assert_uint_eq(a.prefix, 32U);
  ck_assert(rtl_allow_parse("10.0.0.0/8", &a));
  ck_assert_uint_eq(a.prefix, 8U);
  ck_assert(rtl_allow_parse("0.0.0.0/0", &a));
  ck_assert_uint_eq(a.prefix, 0U);
  ck_assert(rtl_allow_parse("::1", &a));
  ck_assert_int_eq(a.family, AF_INET6);
  ck_assert_uint_eq(a.prefix, 128U);
  ck_assert(rtl_allow_parse("fd00::/8", &a));
  ck_assert_uint_eq(a.prefix, 8U);

  static const char* const bad[] = {
    "",
    "/8",
    "10.0.0.0/",
    "10.0.0.0/33",
    "::/129",
    "10.0.0.0/-1",
    "10.0.0.0/+8",
    "10.0.0.0/ 8",
    "10.0.0.0/8x",
    "10.0.0",
    "localhost",
    "10.0.0.0/0008",
    "1.2.3.4.5",
    "10.0.0.0//8",
  };
  for (size_t i = 0U; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    ck_assert_msg(!rtl_allow_parse(bad[i], &a), "'%s' parsed", bad[i]);
  }
}
END_TEST

START_TEST(test_match)
{
  const struct sockaddr_in  lo     = v4("127.0.0.1");
  const struct sockaddr_in  lo2    = v4("127.0.0.2");
  const struct sockaddr_in  lan    = v4("192.168.1.77");
  const struct sockaddr_in6 lo6    = v6("::1");
  const struct sockaddr_in6 mapped = v6("::ffff:127.0.0.1");

  // No entry: everyone
  ck_assert(rtl_allow_match(NULL, 0U, SA(lan)));

  ck_assert(matches("127.0.0.1", SA(lo)));
  ck_assert(!matches("127.0.0.1", SA(lo2)));
  ck_assert(matches("127.0.0.0/8", SA(lo2)));
  ck_assert(matches("192.168.1.64/26", SA(lan))); // .64 .. .127
  ck_assert(!matches("192.168.1.128/26", SA(lan)));
  ck_assert(matches("192.168.1.76/31", SA(lan))); // .76 and .77
  ck_assert(!matches("192.168.1.78/31", SA(lan)));
  ck_assert(matches("0.0.0.0/0", SA(lan)));

  // An IPv4 entry takes an IPv4-mapped IPv6 sender; an IPv6 entry only IPv6
  ck_assert(matches("127.0.0.1", SA(mapped)));
  ck_assert(matches("::1", SA(lo6)));
  ck_assert(!matches("::1", SA(lo)));
  ck_assert(!matches("127.0.0.1", SA(lo6)));
  ck_assert(matches("::/0", SA(mapped)));

  // Any of several
  RtlAllow list[2];
  ck_assert(rtl_allow_parse("10.0.0.0/8", &list[0]));
  ck_assert(rtl_allow_parse("127.0.0.1", &list[1]));
  ck_assert(rtl_allow_match(list, 2U, SA(lo)));
  ck_assert(!rtl_allow_match(list, 2U, SA(lan)));
  ck_assert(!rtl_allow_match(list, 1U, SA(lo))); // only the first counted
}
END_TEST

START_TEST(test_loopback)
{
  const struct sockaddr_in  lo     = v4("127.0.0.1");
  const struct sockaddr_in  lo_end = v4("127.255.255.254");
  const struct sockaddr_in  any    = v4("0.0.0.0");
  const struct sockaddr_in  lan    = v4("192.168.1.77");
  const struct sockaddr_in6 lo6    = v6("::1");
  const struct sockaddr_in6 any6   = v6("::");
  const struct sockaddr_in6 mapped = v6("::ffff:127.0.0.1");
  ck_assert(rtl_allow_is_loopback(SA(lo)));
  ck_assert(rtl_allow_is_loopback(SA(lo_end)));
  ck_assert(rtl_allow_is_loopback(SA(lo6)));
  ck_assert(rtl_allow_is_loopback(SA(mapped)));
  ck_assert(!rtl_allow_is_loopback(SA(any)));
  ck_assert(!rtl_allow_is_loopback(SA(lan)));
  ck_assert(!rtl_allow_is_loopback(SA(any6)));
}
END_TEST

Suite*
rtl_suite_daemon_allow(void)
{
  Suite* const s    = suite_create("daemon_allow");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_parse);
  tcase_add_test(core, test_match);
  tcase_add_test(core, test_loopback);
  suite_add_tcase(s, core);
  return s;
}
