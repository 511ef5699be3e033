// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// State files: what is written reads back as the same settings, and every
// kind of bad line is refused with its number, nothing of the file kept.

#define _GNU_SOURCE

#include "statefile.h"

#include <check.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Suite*
rtl_suite_daemon_statefile(void);

static RtlParamTable g_table;
static RtlModel      g_model;
static char          g_dir[64];
static int           g_dir_fd;
static RtlCommand    g_cmds[512];

static void
setup(void)
{
  ck_assert_int_eq(rtl_param_table_init(NULL, &g_table, 2U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_model_init(NULL, &g_model, &g_table), RTL_SUCCESS);
  snprintf(g_dir, sizeof(g_dir), "/tmp/rtlane-state-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(g_dir));
  g_dir_fd = open(g_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(g_dir_fd, 0);
}

static void
teardown(void)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
  ck_assert_int_eq(system(cmd), 0);
  close(g_dir_fd);
  rtl_model_destroy(&g_model);
  rtl_param_table_destroy(&g_table);
}

static void
write_file(const char* const name, const char* const text)
{
  char path[128];
  snprintf(path, sizeof(path), "%s/%s", g_dir, name);
  FILE* const f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static RtlStatus
read_file(const char* const name, size_t* const n, char* const err)
{
  return rtl_statefile_read(
    &g_table, g_dir_fd, name, g_cmds, 512U, n, err, 128U);
}

START_TEST(test_round_trip)
{
  rtl_model_set(
    &g_model, rtl_param_channel_index(0U, RTL_PARAM_CH_GAIN), -6.25f, false);
  rtl_model_set(
    &g_model, rtl_param_channel_index(1U, RTL_PARAM_CH_MUTE), 1.0f, false);
  rtl_model_set(&g_model, rtl_param_bpm_index(&g_table), 97.3f, false);
  rtl_model_map_cc(&g_model, 7U, rtl_param_channel_index(1U, RTL_PARAM_CH_PAN));
  const RtlStateExtras x = {80.0, RTL_SAMPLE_24};
  char                 err[128];
  ck_assert_int_eq(
    rtl_statefile_write(&g_model, &x, g_dir_fd, "s.state", err, sizeof(err)),
    RTL_SUCCESS);
  size_t n = 0U;
  ck_assert_int_eq(read_file("s.state", &n, err), RTL_SUCCESS);
  // Every parameter, one mapping, the latency and the format
  ck_assert_uint_eq(n, g_table.n_params + 3U);
  bool seen_map = false;
  bool seen_lat = false;
  bool seen_fmt = false;
  for (size_t i = 0U; i < n; ++i) {
    const RtlCommand* const c = &g_cmds[i];
    if (c->kind == RTL_CMD_SET) {
      // A float read back is the same float
      ck_assert_float_eq(c->value, g_model.slots[c->param].value);
    } else if (c->kind == RTL_CMD_MIDI_MAP) {
      seen_map = c->ival == 7 &&
                 c->param == rtl_param_channel_index(1U, RTL_PARAM_CH_PAN);
    } else if (c->kind == RTL_CMD_LATENCY_SET) {
      seen_lat = c->value == 80.0f;
    } else if (c->kind == RTL_CMD_RECORD_FORMAT) {
      seen_fmt = c->ival == RTL_SAMPLE_24;
    }
  }
  ck_assert(seen_map && seen_lat && seen_fmt);
  // Nothing but the file itself is left in the directory
  char cmd[160];
  snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s)\" = s.state", g_dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_comments_and_quotes)
{
  write_file("c.state",
             "# a comment\n"
             "\n"
             "   # an indented one\n"
             "/ch/1/gain f -3\n"
             "/midi/map is 9 \"\"\n"
             "/record/format s \"16\"\n");
  size_t n = 0U;
  char   err[128];
  ck_assert_int_eq(read_file("c.state", &n, err), RTL_SUCCESS);
  ck_assert_uint_eq(n, 3U);
  ck_assert_uint_eq(g_cmds[1].param, UINT32_MAX); // "" unmaps
}
END_TEST

static void
expect_bad(const char* const text, const char* const reason)
{
  write_file("bad.state", text);
  size_t n = 99U;
  char   err[128];
  ck_assert_int_eq(read_file("bad.state", &n, err), RTL_BAD_ARG);
  ck_assert_str_eq(err, reason);
  ck_assert_uint_eq(n, 0U);
}

START_TEST(test_bad_lines)
{
  expect_bad("/ch/1/gain f 0\n/ch/1/gain f 13\n", "2: out of range");
  expect_bad("/ch/3/gain f 0\n", "1: unknown channel");
  expect_bad("/ch/1/gain f\n", "1: fewer values than type tags");
  expect_bad("/ch/1/gain f 1 2\n", "1: more values than type tags");
  expect_bad("/ch/1/gain f loud\n", "1: not a number of its type tag");
  expect_bad("/ch/1/mute i 1.5\n", "1: not a number of its type tag");
  expect_bad("/ch/1/gain s 0\n", "1: wrong arguments (expected f)");
  expect_bad("gain f 0\n", "1: a line is: address type-tags value...");
  expect_bad("/ping -\n",
             "1: not a setting (parameters, /midi/map, /latency/set, "
             "/record/format)");
  expect_bad("/record/start s x.wav\n",
             "1: not a setting (parameters, /midi/map, /latency/set, "
             "/record/format)");
  expect_bad("/midi/map is 7 \"/ch/1/gain\n", "1: unterminated string");
  expect_bad("/ch/1/gain d 0\n", "1: type tags of a state file are i, f and s");
}
END_TEST

START_TEST(test_missing_and_confined)
{
  size_t n = 0U;
  char   err[128];
  ck_assert_int_eq(read_file("none.state", &n, err), RTL_FAILURE);
  ck_assert_str_eq(err, "no such file");
  ck_assert_int_eq(read_file("../etc/passwd", &n, err), RTL_FAILURE);
  ck_assert_str_eq(err, "path leaves the directory");
}
END_TEST

Suite*
rtl_suite_daemon_statefile(void)
{
  Suite* const s    = suite_create("daemon_statefile");
  TCase* const core = tcase_create("core");
  tcase_add_checked_fixture(core, setup, teardown);
  tcase_add_test(core, test_round_trip);
  tcase_add_test(core, test_comments_and_quotes);
  tcase_add_test(core, test_bad_lines);
  tcase_add_test(core, test_missing_and_confined);
  suite_add_tcase(s, core);
  return s;
}
