// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// The mixer on synthetic buffers: gain law, constant-power pan, mute and
// solo, smoothing that lands exactly on its target, master gain, MIDI CC
// mapping and the click.

#define _GNU_SOURCE

#include "mixer.h"

#include <rtlane/meter.h>

#include <check.h>
#include <math.h>
#include <string.h>

Suite*
rtl_suite_daemon_mixer(void);

#define RATE 48000U
#define BLOCK 1024U
#define RAMP (RATE * RTL_RAMP_MS / 1000U)

typedef struct {
  RtlParamTable table;
  RtlMixer*     mixer;
  float         in[2][BLOCK];
  float         out_l[BLOCK];
  float         out_r[BLOCK];
  float         click[BLOCK];
} Rig;

static void
rig_open(Rig* const r)
{
  memset(r, 0, sizeof(*r));
  ck_assert_int_eq(rtl_param_table_init(NULL, &r->table, 2U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_mixer_new(NULL, &r->table, &r->mixer), RTL_SUCCESS);
  rtl_mixer_set_sample_rate(r->mixer, RATE);
  for (unsigned i = 0U; i < BLOCK; ++i) {
    r->in[0][i] = 1.0f;
    r->in[1][i] = 0.0f;
  }
}

static void
rig_close(Rig* const r)
{
  rtl_mixer_free(r->mixer);
  rtl_param_table_destroy(&r->table);
}

/// One block with `n_cues` cues (and MIDI), into the rig's outputs.
static void
run(Rig* const                r,
    const RtlCue* const       cues,
    const uint32_t            n_cues,
    const RtlMidiEvent* const midi,
    const uint32_t            n_midi)
{
  const float* const in[2] = {r->in[0], r->in[1]};
  rtl_mixer_run(r->mixer,
                in,
                r->out_l,
                r->out_r,
                r->click,
                BLOCK,
                cues,
                n_cues,
                midi,
                n_midi);
}

static RtlCue
param_cue(const uint64_t pos, const unsigned index, const float value)
{
  RtlCue cue = {0};
  cue.pos    = pos;
  cue.kind   = RTL_CUE_PARAM;
  cue.param  = index;
  cue.value  = value;
  return cue;
}

/// Set parameters at frame 0 and run until every ramp has settled.
static void
settle(Rig* const r, const RtlCue* const cues, const uint32_t n_cues)
{
  run(r, cues, n_cues, NULL, 0U);
  run(r, NULL, 0U, NULL, 0U);
}

static unsigned
ch(const unsigned channel, const RtlParamKind kind)
{
  return rtl_param_channel_index(channel, kind);
}

START_TEST(test_defaults)
{
  Rig r;
  rig_open(&r);
  run(&r, NULL, 0U, NULL, 0U);
  // Unity gain, centre pan: -3.01 dB on each side, from the first frame.
  const float centre = cosf((float)(M_PI / 4.0));
  for (unsigned i = 0U; i < BLOCK; ++i) {
    ck_assert_float_eq_tol(r.out_l[i], centre, 1e-6f);
    ck_assert_float_eq_tol(r.out_r[i], centre, 1e-6f);
    ck_assert_float_eq(r.click[i], 0.0f);
  }
  rig_close(&r);
}
END_TEST

START_TEST(test_gain_law_and_smoothing)
{
  Rig r;
  rig_open(&r);
  const float  centre = cosf((float)(M_PI / 4.0));
  const float  target = rtl_db_to_gain(-6.0f) * centre;
  const RtlCue cue    = param_cue(10U, ch(0U, RTL_PARAM_CH_GAIN), -6.0f);
  run(&r, &cue, 1U, NULL, 0U);
  for (unsigned i = 0U; i < 10U; ++i) {
    ck_assert_float_eq_tol(r.out_l[i], centre, 1e-6f);
  }
  // A ramp, not a step: every frame moves a little, in one direction, and
  // the ramp ends on the target exactly where RTL_RAMP_MS says.
  const float step = (centre - target) / (float)RAMP;
  for (unsigned i = 10U; i < 10U + RAMP; ++i) {
    ck_assert_float_lt(r.out_l[i], r.out_l[i - 1U]);
    ck_assert_float_eq_tol(r.out_l[i - 1U] - r.out_l[i], step, step * 0.01f);
  }
  ck_assert_float_eq_tol(r.out_l[10U + RAMP - 1U], target, 1e-5f);
  for (unsigned i = 10U + RAMP; i < BLOCK; ++i) {
    ck_assert_float_eq(r.out_l[i], target);
    ck_assert_float_eq(r.out_r[i], target);
  }
  // -90 dB is silence, not -90 dB.
  const RtlCue off = param_cue(0U, ch(0U, RTL_PARAM_CH_GAIN), RTL_GAIN_MIN_DB);
  settle(&r, &off, 1U);
  ck_assert_float_eq(r.out_l[BLOCK - 1U], 0.0f);
  rig_close(&r);
}
END_TEST

START_TEST(test_pan_law)
{
  Rig r;
  rig_open(&r);
  static const float pans[] = {-1.0f, -0.5f, 0.0f, 0.25f, 1.0f};
  for (size_t p = 0U; p < sizeof(pans) / sizeof(pans[0]); ++p) {
    const RtlCue cue = param_cue(0U, ch(0U, RTL_PARAM_CH_PAN), pans[p]);
    settle(&r, &cue, 1U);
    const float l  = r.out_l[BLOCK - 1U];
    const float rr = r.out_r[BLOCK - 1U];
    // Constant power: the two sides' powers always sum to the input's.
    ck_assert_float_eq_tol(l * l + rr * rr, 1.0f, 1e-5f);
    ck_assert_float_eq_tol(
      l, cosf((pans[p] + 1.0f) * (float)(M_PI / 4.0)), 1e-6f);
  }
  const RtlCue left = param_cue(0U, ch(0U, RTL_PARAM_CH_PAN), -1.0f);
  settle(&r, &left, 1U);
  ck_assert_float_eq_tol(r.out_l[BLOCK - 1U], 1.0f, 1e-6f);
  ck_assert_float_eq_tol(r.out_r[BLOCK - 1U], 0.0f, 1e-6f);
  rig_close(&r);
}
END_TEST

START_TEST(test_mute_solo_master)
{
  Rig r;
  rig_open(&r);
  for (unsigned i = 0U; i < BLOCK; ++i) {
    r.in[1][i] = 0.5f;
  }
  const float centre = cosf((float)(M_PI / 4.0));
  settle(&r, NULL, 0U);
  ck_assert_float_eq_tol(r.out_l[BLOCK - 1U], 1.5f * centre, 1e-5f);

  RtlCue cue = param_cue(0U, ch(0U, RTL_PARAM_CH_MUTE), 1.0f);
  settle(&r, &cue, 1U);
  ck_assert_float_eq_tol(r.out_l[BLOCK - 1U], 0.5f * centre, 1e-5f);

  // Solo a muted channel: mute still wins for it, and the other is not
  // soloed, so nothing is heard.
  cue = param_cue(0U, ch(0U, RTL_PARAM_CH_SOLO), 1.0f);
  settle(&r, &cue, 1U);
  ck_assert_float_eq_tol(r.out_l[BLOCK - 1U], 0.0f, 1e-6f);

  cue = param_cue(0U, ch(0U, RTL_PARAM_CH_MUTE), 0.0f);
  settle(&r, &cue, 1U);
  ck_assert_float_eq_tol(r.out_l[BLOCK - 1U], 1.0f * centre, 1e-5f);

  const RtlCue both[] = {
    param_cue(0U, ch(1U, RTL_PARAM_CH_SOLO), 1.0f),
    param_cue(0U, rtl_param_master_gain_index(&r.table), -6.0f)};
  settle(&r, both, 2U);
  ck_assert_float_eq_tol(
    r.out_l[BLOCK - 1U], 1.5f * centre * rtl_db_to_gain(-6.0f), 1e-5f);
  ck_assert_float_eq_tol(
    r.out_r[BLOCK - 1U], 1.5f * centre * rtl_db_to_gain(-6.0f), 1e-5f);

  // Unsolo one: only the other soloed channel is heard.
  cue = param_cue(0U, ch(0U, RTL_PARAM_CH_SOLO), 0.0f);
  settle(&r, &cue, 1U);
  ck_assert_float_eq_tol(
    r.out_l[BLOCK - 1U], 0.5f * centre * rtl_db_to_gain(-6.0f), 1e-5f);
  rig_close(&r);
}
END_TEST

START_TEST(test_slots_and_seq)
{
  Rig r;
  rig_open(&r);
  const float centre = cosf((float)(M_PI / 4.0));
  // A slot the mixer applied at its frame already (timed, or from a CC)
  // only records its serial; a plain one applies its value.
  RtlCue cues[3] = {{0}};
  cues[0].kind   = RTL_CUE_SLOT;
  cues[0].param  = ch(0U, RTL_PARAM_CH_GAIN);
  cues[0].value  = -20.0f;
  cues[0].serial = 4U;
  cues[0].flags  = RTL_SLOT_TIMED;
  cues[1].kind   = RTL_CUE_SEQ;
  cues[1].seq    = 7U;
  settle(&r, cues, 2U);
  ck_assert_float_eq_tol(r.out_l[BLOCK - 1U], centre, 1e-6f);
  ck_assert_uint_eq(rtl_mixer_adopted_seq(r.mixer), 7U);

  cues[0].flags  = 0U;
  cues[0].serial = 5U;
  cues[1].seq    = 8U;
  settle(&r, cues, 2U);
  ck_assert_float_eq_tol(
    r.out_l[BLOCK - 1U], rtl_db_to_gain(-20.0f) * centre, 1e-6f);
  ck_assert_uint_eq(rtl_mixer_adopted_seq(r.mixer), 8U);

  rtl_mixer_reset(r.mixer);
  ck_assert_uint_eq(rtl_mixer_adopted_seq(r.mixer), 0U);
  run(&r, NULL, 0U, NULL, 0U);
  ck_assert_float_eq_tol(r.out_l[0], centre, 1e-6f);
  rig_close(&r);
}
END_TEST

START_TEST(test_midi_cc)
{
  Rig r;
  rig_open(&r);
  const unsigned gain   = ch(0U, RTL_PARAM_CH_GAIN);
  const unsigned mute   = ch(1U, RTL_PARAM_CH_MUTE);
  RtlCue         map[2] = {{0}};
  map[0].kind           = RTL_CUE_CCMAP;
  map[0].param          = 7U;
  map[0].op             = gain + 1U;
  map[1].kind           = RTL_CUE_CCMAP;
  map[1].param          = 64U;
  map[1].op             = mute + 1U;
  // CC 7 = 0 at frame 100 (the bottom of the range: silence), CC 64 = 100
  // (a toggle: on from 64 up), and a note, which moves nothing.
  RtlMidiEvent midi[3] = {
    {100U, 3U, {0xB0U, 7U, 0U}},
    {200U, 3U, {0xB3U, 64U, 100U}},
    {300U, 3U, {0x90U, 60U, 100U}},
  };
  run(&r, map, 2U, midi, 3U);
  run(&r, NULL, 0U, NULL, 0U);
  ck_assert_float_eq(r.out_l[BLOCK - 1U], 0.0f);

  RtlMsgRing* const ring = rtl_mixer_reports(r.mixer);
  RtlParamReport    rep;
  ck_assert_int_eq(rtl_comm_recv_report(ring, &rep), RTL_SUCCESS);
  ck_assert_uint_eq(rep.param, gain);
  ck_assert_float_eq(rep.value, RTL_GAIN_MIN_DB);
  ck_assert_int_eq(rtl_comm_recv_report(ring, &rep), RTL_SUCCESS);
  ck_assert_uint_eq(rep.param, mute);
  ck_assert_float_eq(rep.value, 1.0f);
  ck_assert_int_eq(rtl_comm_recv_report(ring, &rep), RTL_EMPTY);

  // 127 is the top of the range; unmapping stops the CC moving it.
  midi[0].data[2] = 127U;
  run(&r, NULL, 0U, midi, 1U);
  ck_assert_int_eq(rtl_comm_recv_report(ring, &rep), RTL_SUCCESS);
  ck_assert_float_eq(rep.value, RTL_GAIN_MAX_DB);
  map[0].op       = 0U;
  midi[0].data[2] = 0U;
  run(&r, map, 1U, midi, 1U);
  ck_assert_int_eq(rtl_comm_recv_report(ring, &rep), RTL_EMPTY);
  ck_assert_uint_eq(rtl_mixer_report_drops(r.mixer), 0U);
  rig_close(&r);
}
END_TEST

START_TEST(test_click)
{
  Rig r;
  rig_open(&r);
  RtlCue start = {0};
  start.kind   = RTL_CUE_TRANSPORT;
  start.op     = RTL_TRANSPORT_START;
  start.pos    = 5U;
  // 120 bpm at 48 kHz: a beat every 24000 frames, the first on frame 5.
  float    first[8]  = {0};
  float    beats[5]  = {0};
  unsigned n_nonzero = 0U;
  for (uint64_t block = 0U; block < 5U * 24000U / BLOCK + 1U; ++block) {
    run(&r, block ? NULL : &start, block ? 0U : 1U, NULL, 0U);
    for (unsigned i = 0U; i < BLOCK; ++i) {
      const uint64_t f = block * BLOCK + i;
      if (f < 8U) {
        first[f] = r.click[i];
      }
      if (f >= 5U && (f - 5U) % 24000U == 0U && (f - 5U) / 24000U < 5U) {
        beats[(f - 5U) / 24000U] = r.click[i];
      }
      n_nonzero += f < 5U * 24000U && r.click[i] != 0.0f;
    }
  }
  ck_assert_float_eq(first[4], 0.0f);
  ck_assert_float_eq(beats[0], RTL_CLICK_DOWNBEAT);
  ck_assert_float_eq(beats[1], RTL_CLICK_BEAT);
  ck_assert_float_eq(beats[3], RTL_CLICK_BEAT);
  ck_assert_float_eq(beats[4], RTL_CLICK_DOWNBEAT);
  // Each click lasts RTL_CLICK_MS (a few samples of the cosine are zero).
  ck_assert_uint_le(n_nonzero, 5U * RATE * RTL_CLICK_MS / 1000U);
  ck_assert_uint_gt(n_nonzero, 5U * RATE * RTL_CLICK_MS / 1000U - 50U);
  rig_close(&r);
}
END_TEST

Suite*
rtl_suite_daemon_mixer(void)
{
  Suite* const s    = suite_create("daemon_mixer");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_defaults);
  tcase_add_test(core, test_gain_law_and_smoothing);
  tcase_add_test(core, test_pan_law);
  tcase_add_test(core, test_mute_solo_master);
  tcase_add_test(core, test_slots_and_seq);
  tcase_add_test(core, test_midi_cc);
  tcase_add_test(core, test_click);
  suite_add_tcase(s, core);
  return s;
}
