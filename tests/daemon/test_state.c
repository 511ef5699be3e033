// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// The parameter table, path lookup, range checks and the model's serials.

#include "state.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

Suite*
rtl_suite_daemon_state(void);

START_TEST(test_table_layout)
{
  RtlParamTable t;
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, 3U), RTL_SUCCESS);
  ck_assert_uint_eq(t.n_inputs, 3U);
  ck_assert_uint_eq(t.n_params, 3U * RTL_PARAMS_PER_CHANNEL + 2U);

  static const char* const suffixes[RTL_PARAMS_PER_CHANNEL] = {
    "gain", "pan", "mute", "solo"};
  for (unsigned c = 0U; c < 3U; ++c) {
    for (unsigned k = 0U; k < RTL_PARAMS_PER_CHANNEL; ++k) {
      const unsigned      i = rtl_param_channel_index(c, (RtlParamKind)k);
      const RtlParamInfo* p = &t.params[i];
      char                path[32];
      snprintf(path, sizeof(path), "/ch/%u/%s", c + 1U, suffixes[k]);
      ck_assert_str_eq(p->path, path);
      ck_assert_uint_eq(p->channel, c);
      ck_assert_int_eq(p->kind, (int)k);
      ck_assert_uint_gt(strlen(p->description), 0U);
      // Every default is a value the table itself accepts.
      ck_assert_ptr_null(rtl_param_check(&t, i, p->def));
    }
  }
  const RtlParamInfo* const master = &t.params[rtl_param_master_gain_index(&t)];
  const RtlParamInfo* const bpm    = &t.params[rtl_param_bpm_index(&t)];
  ck_assert_str_eq(master->path, "/master/gain");
  ck_assert_str_eq(bpm->path, "/transport/bpm");
  ck_assert_float_eq(master->min, RTL_GAIN_MIN_DB);
  ck_assert_float_eq(master->max, RTL_GAIN_MAX_DB);
  ck_assert_float_eq(bpm->min, RTL_BPM_MIN);
  ck_assert_float_eq(bpm->max, RTL_BPM_MAX);
  ck_assert_float_eq(bpm->def, 120.0f);

  // Descriptions quote the limits from the constants.
  char range[64];
  snprintf(range,
           sizeof(range),
           "%g..%g",
           (double)RTL_GAIN_MIN_DB,
           (double)RTL_GAIN_MAX_DB);
  ck_assert_ptr_nonnull(strstr(master->description, range));
  snprintf(
    range, sizeof(range), "%g..%g", (double)RTL_BPM_MIN, (double)RTL_BPM_MAX);
  ck_assert_ptr_nonnull(strstr(bpm->description, range));
  rtl_param_table_destroy(&t);
  rtl_param_table_destroy(&t); // twice is harmless
}
END_TEST

START_TEST(test_table_limits)
{
  RtlParamTable t;
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, 0U), RTL_BAD_ARG);
  ck_assert_ptr_null(t.params);
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, RTL_MAX_INPUTS + 1U),
                   RTL_BAD_ARG);
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, RTL_MAX_INPUTS), RTL_SUCCESS);
  char path[32];
  snprintf(path, sizeof(path), "/ch/%u/solo", RTL_MAX_INPUTS);
  unsigned index = 0U;
  ck_assert_int_eq(rtl_param_lookup(&t, path, &index), RTL_LOOKUP_FOUND);
  ck_assert_uint_eq(
    index, rtl_param_channel_index(RTL_MAX_INPUTS - 1U, RTL_PARAM_CH_SOLO));
  rtl_param_table_destroy(&t);
}
END_TEST

START_TEST(test_lookup)
{
  RtlParamTable t;
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, 2U), RTL_SUCCESS);
  unsigned index = 99U;
  ck_assert_int_eq(rtl_param_lookup(&t, "/ch/2/pan", &index), RTL_LOOKUP_FOUND);
  ck_assert_uint_eq(index, rtl_param_channel_index(1U, RTL_PARAM_CH_PAN));
  ck_assert_int_eq(rtl_param_lookup(&t, "/master/gain", &index),
                   RTL_LOOKUP_FOUND);
  ck_assert_uint_eq(index, rtl_param_master_gain_index(&t));
  ck_assert_int_eq(rtl_param_lookup(&t, "/transport/bpm", &index),
                   RTL_LOOKUP_FOUND);
  ck_assert_uint_eq(index, rtl_param_bpm_index(&t));

  // A channel beyond the inputs, or one spelled from 0, is an unknown
  // channel; anything else that is not spelled as /list shows is unknown.
  static const char* const bad_channel[] = {
    "/ch/3/gain", "/ch/0/gain", "/ch/01/gain", "/ch/99999999999/mute"};
  for (size_t i = 0U; i < sizeof(bad_channel) / sizeof(bad_channel[0]); ++i) {
    ck_assert_int_eq(rtl_param_lookup(&t, bad_channel[i], &index),
                     RTL_LOOKUP_UNKNOWN_CHANNEL);
  }
  static const char* const unknown[] = {"/ch/1/gain/",
                                        "/ch/1/volume",
                                        "/ch/1",
                                        "/ch/",
                                        "/ch/x/gain",
                                        "/master",
                                        "/ch/1/gainx",
                                        "",
                                        "/master/gain/"};
  for (size_t i = 0U; i < sizeof(unknown) / sizeof(unknown[0]); ++i) {
    ck_assert_msg(rtl_param_lookup(&t, unknown[i], &index) ==
                    RTL_LOOKUP_UNKNOWN,
                  "'%s' should be unknown",
                  unknown[i]);
  }
  rtl_param_table_destroy(&t);
}
END_TEST

START_TEST(test_check)
{
  RtlParamTable t;
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, 1U), RTL_SUCCESS);
  const unsigned gain = rtl_param_channel_index(0U, RTL_PARAM_CH_GAIN);
  const unsigned pan  = rtl_param_channel_index(0U, RTL_PARAM_CH_PAN);
  const unsigned mute = rtl_param_channel_index(0U, RTL_PARAM_CH_MUTE);
  const unsigned bpm  = rtl_param_bpm_index(&t);
  ck_assert_ptr_null(rtl_param_check(&t, gain, RTL_GAIN_MIN_DB));
  ck_assert_ptr_null(rtl_param_check(&t, gain, RTL_GAIN_MAX_DB));
  ck_assert_ptr_nonnull(rtl_param_check(&t, gain, RTL_GAIN_MAX_DB + 0.001f));
  ck_assert_ptr_nonnull(rtl_param_check(&t, gain, RTL_GAIN_MIN_DB - 0.001f));
  ck_assert_ptr_nonnull(rtl_param_check(&t, gain, NAN));
  ck_assert_ptr_nonnull(rtl_param_check(&t, gain, INFINITY));
  ck_assert_ptr_nonnull(rtl_param_check(&t, pan, -1.5f));
  ck_assert_ptr_null(rtl_param_check(&t, pan, -1.0f));
  ck_assert_ptr_null(rtl_param_check(&t, mute, 1.0f));
  ck_assert_ptr_nonnull(rtl_param_check(&t, mute, 0.5f));
  ck_assert_ptr_nonnull(rtl_param_check(&t, bpm, RTL_BPM_MIN - 1.0f));
  ck_assert_ptr_null(rtl_param_check(&t, bpm, RTL_BPM_MAX));
  rtl_param_table_destroy(&t);
}
END_TEST

START_TEST(test_model)
{
  RtlParamTable t;
  RtlModel      m;
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, 2U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_model_init(NULL, &m, &t), RTL_SUCCESS);
  for (unsigned i = 0U; i < t.n_params; ++i) {
    ck_assert_float_eq(m.slots[i].value, t.params[i].def);
    ck_assert_uint_eq(m.slots[i].serial, 0U);
  }

  // Every setting moves its serial, whatever the value.
  rtl_model_set(&m, 0U, -6.0f, false);
  rtl_model_set(&m, 0U, -6.0f, true);
  ck_assert_uint_eq(m.slots[0].serial, 2U);
  ck_assert_uint_eq(m.slots[0].flags, RTL_SLOT_TIMED);
  rtl_model_map_cc(&m, 7U, 0U);
  rtl_model_map_cc(&m, 8U, t.n_params);   // out of range: unmapped
  rtl_model_map_cc(&m, RTL_MIDI_CCS, 0U); // no such CC: ignored

  RtlStateSnapshot* const a = rtl_model_snapshot(&m);
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq(a->seq, 1U);
  ck_assert_uint_eq(a->n_params, t.n_params);
  ck_assert_float_eq(a->slots[0].value, -6.0f);
  ck_assert_uint_eq(a->slots[0].serial, 2U);
  ck_assert_uint_eq(a->ccmap[7], 1U);
  ck_assert_uint_eq(a->ccmap[8], 0U);

  // A snapshot is a copy: later settings do not reach it.
  rtl_model_set(&m, 0U, 3.0f, false);
  rtl_model_map_cc(&m, 7U, UINT32_MAX);
  RtlStateSnapshot* const b = rtl_model_snapshot(&m);
  ck_assert_uint_eq(b->seq, 2U);
  ck_assert_float_eq(a->slots[0].value, -6.0f);
  ck_assert_float_eq(b->slots[0].value, 3.0f);
  ck_assert_uint_eq(b->slots[0].flags, 0U);
  ck_assert_uint_eq(a->ccmap[7], 1U);
  ck_assert_uint_eq(b->ccmap[7], 0U);
  rtl_state_snapshot_free(a, NULL);
  rtl_state_snapshot_free(b, NULL);
  rtl_model_destroy(&m);
  rtl_param_table_destroy(&t);
}
END_TEST

/*
  MIDI CC reports against settings.  The mixer (worker or RT thread) moves
  a parameter by CC and reports {value, the serial it had adopted}; the
  model meanwhile republishes each taken report under a new serial, which
  the mixer adopts (as timed: serial only) at its own pace.  The last CC
  must be what the model holds, whatever the interleaving; a setting made
  after a CC wins until a CC comes after the mixer adopted it.
*/
START_TEST(test_reports)
{
  RtlParamTable t;
  RtlModel      m;
  ck_assert_int_eq(rtl_param_table_init(NULL, &t, 1U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_model_init(NULL, &m, &t), RTL_SUCCESS);
  unsigned g = 0U;
  ck_assert_int_eq(rtl_param_lookup(&t, "/ch/1/gain", &g), RTL_LOOKUP_FOUND);

  // A setting, adopted by the mixer
  rtl_model_set(&m, g, -6.0f, false);
  const uint32_t s0 = m.slots[g].serial;

  // CCs 10, 100, 64 in consecutive periods.  The mixer adopts the
  // model's serial for the first report between the second and third CC,
  // and the control thread reads the reports after that.
  ck_assert(rtl_model_take_report(&m, g, -80.0f, s0)); // CC 10
  const uint32_t s1 = m.slots[g].serial;
  ck_assert(rtl_model_take_report(&m, g, -9.7f, s0));  // CC 100
  ck_assert(rtl_model_take_report(&m, g, -38.6f, s1)); // CC 64
  ck_assert_float_eq(m.slots[g].value, -38.6f);
  ck_assert_uint_eq(m.slots[g].flags, RTL_SLOT_TIMED);

  // A setting after the CCs: reports from before the mixer adopted it
  // lose, so the setting stands (the mixer applies it on adoption)
  rtl_model_set(&m, g, -3.0f, false);
  const uint32_t s2 = m.slots[g].serial;
  ck_assert(!rtl_model_take_report(&m, g, 12.0f, s1));
  ck_assert(!rtl_model_take_report(&m, g, 12.0f, s0));
  ck_assert_float_eq(m.slots[g].value, -3.0f);
  ck_assert_uint_eq(m.slots[g].flags, 0U);
  // A CC after the mixer adopted it wins again
  ck_assert(rtl_model_take_report(&m, g, 12.0f, s2));
  ck_assert_float_eq(m.slots[g].value, 12.0f);

  // A timed setting is applied by the mixer at its frame: it does not
  // hold back a CC the mixer made after it
  rtl_model_set(&m, g, 0.0f, true);
  ck_assert(rtl_model_take_report(&m, g, 6.0f, s2));
  ck_assert_float_eq(m.slots[g].value, 6.0f);

  // Serials wrap: still ordered
  m.slots[g].serial = UINT32_MAX;
  rtl_model_set(&m, g, 1.0f, false); // serial 0
  ck_assert(!rtl_model_take_report(&m, g, 2.0f, UINT32_MAX));
  ck_assert(rtl_model_take_report(&m, g, 2.0f, 0U));
  ck_assert(!rtl_model_take_report(&m, t.n_params, 2.0f, 0U));

  rtl_model_destroy(&m);
  rtl_param_table_destroy(&t);
}
END_TEST

Suite*
rtl_suite_daemon_state(void)
{
  Suite* const s    = suite_create("daemon_state");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_table_layout);
  tcase_add_test(core, test_table_limits);
  tcase_add_test(core, test_lookup);
  tcase_add_test(core, test_check);
  tcase_add_test(core, test_model);
  tcase_add_test(core, test_reports);
  suite_add_tcase(s, core);
  return s;
}
