// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// Command-line parsing: defaults, every option, and the limits at and just
// beyond their ends (taken from the constants, not repeated here).

#include "options.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

Suite*
rtl_suite_daemon_options(void);

/// Parse the words of a NULL-terminated array after the program name.
static RtlOptionsResult
parse_words(RtlOptions* const opts, const char* const* const words)
{
  static char  buf[48][128];
  static char* argv[49];
  int          argc = 0;
  argv[argc]        = strcpy(buf[argc], "rtlane");
  ++argc;
  for (const char* const* w = words; *w && argc < 48; ++w) {
    snprintf(buf[argc], sizeof(buf[argc]), "%s", *w);
    argv[argc] = buf[argc];
    ++argc;
  }
  argv[argc] = NULL;
  // Keep the test output free of the usage lines.
  FILE* const err = freopen("/dev/null", "w", stderr);
  (void)err;
  return rtl_options_parse(argc, argv, opts);
}

#define parse(opts, ...) parse_words((opts), (const char* const[]){__VA_ARGS__})

START_TEST(test_defaults)
{
  RtlOptions o;
  ck_assert_int_eq(parse(&o, NULL), RTL_OPTIONS_RUN);
  ck_assert_str_eq(o.name, "rtlane");
  ck_assert_ptr_null(o.server);
  ck_assert_uint_eq(o.inputs, 2U);
  ck_assert_uint_eq(o.osc_port, 7770U);
  ck_assert_str_eq(o.osc_bind, "127.0.0.1");
  ck_assert_uint_eq(o.n_osc_allow, 0U);
  ck_assert(!o.osc_tcp);
  ck_assert_uint_eq(o.reply_port, 0U);
  ck_assert(!o.connect);
  ck_assert(o.write_ahead == 0.0);
  ck_assert_ptr_null(o.insert);
}
END_TEST

START_TEST(test_every_option)
{
  RtlOptions o;
  ck_assert_int_eq(parse(&o,
                         "-n",
                         "mix",
                         "-s",
                         "studio",
                         "-i",
                         "8",
                         "-p",
                         "9000",
                         "--osc-tcp",
                         "--osc-bind",
                         "0.0.0.0",
                         "-c",
                         "-l",
                         "50",
                         "--insert",
                         "x.so",
                         NULL),
                   RTL_OPTIONS_RUN);
  ck_assert_str_eq(o.name, "mix");
  ck_assert_str_eq(o.server, "studio");
  ck_assert_uint_eq(o.inputs, 8U);
  ck_assert_uint_eq(o.osc_port, 9000U);
  ck_assert(o.osc_tcp);
  ck_assert_str_eq(o.osc_bind, "0.0.0.0");
  ck_assert(o.connect);
  ck_assert(o.write_ahead == 50.0);
  ck_assert_str_eq(o.insert, "x.so");

  ck_assert_int_eq(parse(&o,
                         "--record-dir",
                         "/tmp",
                         "--state",
                         "s.conf",
                         "--inputs=3",
                         "--write-ahead=2.5",
                         "--reply-port",
                         "9001",
                         "--osc-allow",
                         "192.168.1.0/24",
                         "--osc-allow=::1",
                         NULL),
                   RTL_OPTIONS_RUN);
  ck_assert_uint_eq(o.n_osc_allow, 2U);
  ck_assert_int_eq(o.osc_allow[0].family, AF_INET);
  ck_assert_uint_eq(o.osc_allow[0].prefix, 24U);
  ck_assert_int_eq(o.osc_allow[1].family, AF_INET6);
  ck_assert_uint_eq(o.osc_allow[1].prefix, 128U);
  ck_assert_uint_eq(o.reply_port, 9001U);
  ck_assert_str_eq(o.record_dir, "/tmp");
  ck_assert_str_eq(o.state_file, "s.conf");
  ck_assert_uint_eq(o.inputs, 3U);
  ck_assert(o.write_ahead == 2.5);
}
END_TEST

START_TEST(test_limits)
{
  RtlOptions o;
  char       max[32];
  char       over[32];
  snprintf(max, sizeof(max), "%u", RTL_MAX_INPUTS);
  snprintf(over, sizeof(over), "%u", RTL_MAX_INPUTS + 1U);
  ck_assert_int_eq(parse(&o, "-i", max, NULL), RTL_OPTIONS_RUN);
  ck_assert_uint_eq(o.inputs, RTL_MAX_INPUTS);
  ck_assert_int_eq(parse(&o, "-i", over, NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-i", "0", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-i", "-1", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-i", "2x", NULL), RTL_OPTIONS_USAGE);

  snprintf(max, sizeof(max), "%d", RTL_LATENCY_MAX_MS);
  snprintf(over, sizeof(over), "%g", (double)RTL_LATENCY_MAX_MS + 0.5);
  ck_assert_int_eq(parse(&o, "-l", max, NULL), RTL_OPTIONS_RUN);
  ck_assert(o.write_ahead == (double)RTL_LATENCY_MAX_MS);
  ck_assert_int_eq(parse(&o, "-l", over, NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-l", "-1", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-l", "nan", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-l", "inf", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-l", "0", NULL), RTL_OPTIONS_RUN);
  ck_assert(o.write_ahead == 0.0);

  ck_assert_int_eq(parse(&o, "-p", "65535", NULL), RTL_OPTIONS_RUN);
  ck_assert_int_eq(parse(&o, "-p", "65536", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-p", "0", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "--reply-port", "65535", NULL), RTL_OPTIONS_RUN);
  ck_assert_int_eq(parse(&o, "--reply-port", "65536", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "--reply-port", "0", NULL), RTL_OPTIONS_USAGE);

  char name[80];
  memset(name, 'a', sizeof(name));
  name[63] = '\0';
  ck_assert_int_eq(parse(&o, "-n", name, NULL), RTL_OPTIONS_RUN);
  name[63] = 'a';
  name[64] = '\0';
  ck_assert_int_eq(parse(&o, "-n", name, NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-n", "a:b", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-n", "", NULL), RTL_OPTIONS_USAGE);
}
END_TEST

START_TEST(test_usage_errors)
{
  RtlOptions o;
  ck_assert_int_eq(parse(&o, "--bogus", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-x", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-i", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "extra", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "-s", "", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "--osc-bind", "", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "--osc-allow", "studio", NULL), RTL_OPTIONS_USAGE);
  ck_assert_int_eq(parse(&o, "--osc-allow", "10.0.0.0/33", NULL),
                   RTL_OPTIONS_USAGE);
  // RTL_ALLOW_MAX entries, and one more
  const char* words[2U * RTL_ALLOW_MAX + 3U];
  unsigned    n = 0U;
  for (unsigned i = 0U; i <= RTL_ALLOW_MAX; ++i) {
    words[n++] = "--osc-allow";
    words[n++] = "10.0.0.1";
  }
  words[n] = NULL;
  ck_assert_int_eq(parse_words(&o, words), RTL_OPTIONS_USAGE);
  words[n - 2U] = NULL;
  ck_assert_int_eq(parse_words(&o, words), RTL_OPTIONS_RUN);
  ck_assert_uint_eq(o.n_osc_allow, RTL_ALLOW_MAX);
  ck_assert_int_eq(parse(&o, "--insert", "", NULL), RTL_OPTIONS_USAGE);
  FILE* const out = freopen("/dev/null", "w", stdout);
  (void)out;
  ck_assert_int_eq(parse(&o, "--help", NULL), RTL_OPTIONS_EXIT);
  ck_assert_int_eq(parse(&o, "-V", NULL), RTL_OPTIONS_EXIT);
}
END_TEST

Suite*
rtl_suite_daemon_options(void)
{
  Suite* const s    = suite_create("daemon_options");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_defaults);
  tcase_add_test(core, test_every_option);
  tcase_add_test(core, test_limits);
  tcase_add_test(core, test_usage_errors);
  suite_add_tcase(s, core);
  return s;
}
