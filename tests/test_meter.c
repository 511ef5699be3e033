// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#include <rtlane/meter.h>

#include <check.h>
#include <float.h>
#include <math.h>
#include <stddef.h>

Suite*
rtl_suite_meter(void);

#define RATE 48000.0
#define TWO_PI 6.283185307179586
#define SINE_DB (-3.0103f) // 20 log10(1/sqrt(2))
#define BLOCK 256U

/// One block of a sine at `freq` that continues from `*phase`.
static void
fill_sine(float* const  out,
          const size_t  n,
          const double  freq,
          const double  amp,
          double* const phase)
{
  for (size_t i = 0U; i < n; ++i) {
    out[i] = (float)(amp * sin(*phase));
    *phase += TWO_PI * freq / RATE;
  }
  *phase = fmod(*phase, TWO_PI);
}

static void
feed_sine(RtlMeter* const m,
          const size_t    n_samples,
          const double    freq,
          const double    amp,
          double* const   phase)
{
  float buf[BLOCK];
  for (size_t done = 0U; done < n_samples; done += BLOCK) {
    const size_t n = n_samples - done < BLOCK ? n_samples - done : BLOCK;
    fill_sine(buf, n, freq, amp, phase);
    rtl_meter_process(m, buf, n);
  }
}

static void
feed_const(RtlMeter* const m, const size_t n_samples, const float value)
{
  float buf[BLOCK];
  for (size_t i = 0U; i < BLOCK; ++i) {
    buf[i] = value;
  }
  for (size_t done = 0U; done < n_samples; done += BLOCK) {
    const size_t n = n_samples - done < BLOCK ? n_samples - done : BLOCK;
    rtl_meter_process(m, buf, n);
  }
}

static int
state_is_clean(const RtlMeter* const m)
{
  const int p = fpclassify(m->peak);
  const int s = fpclassify(m->mean_sq);
  return (p == FP_ZERO || p == FP_NORMAL) && (s == FP_ZERO || s == FP_NORMAL);
}

START_TEST(test_block_levels)
{
  // A whole number of cycles of a 1 kHz sine at 48 kHz, full scale.
  static float buf[48000];
  double       phase = 0.0;
  fill_sine(buf, 48000U, 1000.0, 1.0, &phase);
  ck_assert_float_eq_tol(
    rtl_gain_to_db(rtl_block_peak(buf, 48000U)), 0.0f, 0.01f);
  ck_assert_float_eq_tol(
    rtl_gain_to_db(rtl_block_rms(buf, 48000U)), SINE_DB, 0.05f);

  // Half-scale sine: everything 6.02 dB lower.
  phase = 0.0;
  fill_sine(buf, 48000U, 1000.0, 0.5, &phase);
  ck_assert_float_eq_tol(
    rtl_gain_to_db(rtl_block_peak(buf, 48000U)), -6.0206f, 0.01f);
  ck_assert_float_eq_tol(
    rtl_gain_to_db(rtl_block_rms(buf, 48000U)), SINE_DB - 6.0206f, 0.05f);

  // DC, either sign: peak and RMS are its magnitude.
  for (size_t i = 0U; i < 1000U; ++i) {
    buf[i] = -0.5f;
  }
  ck_assert_float_eq_tol(rtl_block_peak(buf, 1000U), 0.5f, 1e-7f);
  ck_assert_float_eq_tol(rtl_block_rms(buf, 1000U), 0.5f, 1e-6f);
  buf[500] = 0.75f;
  ck_assert_float_eq(rtl_block_peak(buf, 1000U), 0.75f);

  // Silence and empty blocks read -inf.
  for (size_t i = 0U; i < 1000U; ++i) {
    buf[i] = 0.0f;
  }
  ck_assert_float_eq(rtl_block_peak(buf, 1000U), 0.0f);
  ck_assert_float_eq(rtl_block_rms(buf, 1000U), 0.0f);
  ck_assert(isinf(rtl_gain_to_db(rtl_block_rms(buf, 1000U))));
  ck_assert_float_eq(rtl_block_rms(buf, 0U), 0.0f);
  ck_assert_float_eq(rtl_block_peak(buf, 0U), 0.0f);
}
END_TEST

START_TEST(test_db_conversions)
{
  ck_assert_float_eq(rtl_gain_to_db(1.0f), 0.0f);
  ck_assert_float_eq(rtl_db_to_gain(0.0f), 1.0f);
  ck_assert_float_eq_tol(rtl_gain_to_db(2.0f), 6.0206f, 1e-4f);
  ck_assert_float_eq_tol(rtl_gain_to_db(0.1f), -20.0f, 1e-4f);
  ck_assert_float_eq_tol(rtl_db_to_gain(-6.0206f), 0.5f, 1e-5f);
  ck_assert_float_eq_tol(rtl_db_to_gain(-120.0f), 1e-6f, 1e-11f);

  // Zero, negative and NaN gains have no level.
  const float neg_inf = -INFINITY;
  ck_assert(rtl_gain_to_db(0.0f) == neg_inf);
  ck_assert(rtl_gain_to_db(-0.0f) == neg_inf);
  ck_assert(rtl_gain_to_db(-1.0f) == neg_inf);
  ck_assert(rtl_gain_to_db(NAN) == neg_inf);
  ck_assert_float_eq(rtl_db_to_gain(neg_inf), 0.0f);

  // Round trips across the whole useful range.
  for (int i = -1400; i <= 240; ++i) {
    const float db = (float)i / 10.0f;
    ck_assert_float_eq_tol(rtl_gain_to_db(rtl_db_to_gain(db)), db, 1e-3f);
  }
  for (float g = 1e-6f; g < 16.0f; g *= 1.37f) {
    ck_assert_float_eq_tol(rtl_db_to_gain(rtl_gain_to_db(g)), g, g * 1e-5f);
  }
}
END_TEST

START_TEST(test_meter_instant_attack)
{
  RtlMeter m;
  rtl_meter_init(&m, RATE, 20.0, 300.0);
  ck_assert(isinf(rtl_meter_peak_db(&m)) && rtl_meter_peak_db(&m) < 0.0f);
  ck_assert(isinf(rtl_meter_rms_db(&m)) && rtl_meter_rms_db(&m) < 0.0f);

  // One block of a full-scale sine: the peak is there at once, the RMS is
  // still rising (256 samples is a small part of a 300 ms time constant).
  double phase = 0.0;
  feed_sine(&m, BLOCK, 1000.0, 1.0, &phase);
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), 0.0f, 0.01f);
  ck_assert_float_lt(rtl_meter_rms_db(&m), -10.0f);
  ck_assert(!isinf(rtl_meter_rms_db(&m)));

  // A louder sample takes over immediately, whatever the ballistics.
  const float spike = 2.0f;
  rtl_meter_process(&m, &spike, 1U);
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), 6.0206f, 1e-3f);
}
END_TEST

START_TEST(test_meter_peak_fall)
{
  RtlMeter m;
  rtl_meter_init(&m, RATE, 20.0, 300.0);
  feed_const(&m, 4800U, 1.0f);
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), 0.0f, 1e-4f);

  // 20 dB/s: half a second of silence takes the peak down 10 dB.
  feed_const(&m, 24000U, 0.0f);
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), -10.0f, 0.05f);

  // Another half second: -20 dB.  The fall is exponential, not linear in
  // gain.
  feed_const(&m, 24000U, 0.0f);
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), -20.0f, 0.05f);

  // It reaches silence after 120 dB worth of falling (6 s in all), and
  // exactly silence: the level is flushed, not left at a tiny value.
  size_t silent = 48000U;
  while (!isinf(rtl_meter_peak_db(&m)) && silent < 20U * 48000U) {
    feed_const(&m, BLOCK, 0.0f);
    silent += BLOCK;
  }
  ck_assert_uint_ge(silent, 5U * 48000U + 48000U / 2U);
  ck_assert_uint_le(silent, 6U * 48000U + 48000U / 2U);
  ck_assert_float_eq(m.peak, 0.0f);
  ck_assert_int_eq(fpclassify(m.peak), FP_ZERO);
}
END_TEST

START_TEST(test_meter_rms_ballistics)
{
  RtlMeter m;
  rtl_meter_init(&m, RATE, 20.0, 300.0);

  // After one time constant the mean square is 1 - 1/e of its final value.
  double phase = 0.0;
  feed_sine(&m, 14400U, 1000.0, 1.0, &phase);
  const float one_tau = SINE_DB + 10.0f * log10f(1.0f - expf(-1.0f));
  ck_assert_float_eq_tol(rtl_meter_rms_db(&m), one_tau, 0.1f);

  // After ten it has settled on the sine's RMS.
  feed_sine(&m, 9U * 14400U, 1000.0, 1.0, &phase);
  ck_assert_float_eq_tol(rtl_meter_rms_db(&m), SINE_DB, 0.05f);

  // A quiet sine (-100 dBFS peak, 20 dB above the floor) settles too: its
  // mean square builds up from contributions far below the floor.
  rtl_meter_reset(&m);
  feed_sine(&m, 10U * 14400U, 1000.0, 1e-5, &phase);
  ck_assert_float_eq_tol(rtl_meter_rms_db(&m), SINE_DB - 100.0f, 0.05f);
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), -100.0f, 0.05f);

  // After the signal stops, the RMS decays by 1/e of its mean square per
  // time constant (4.34 dB) and then reads exactly silence.
  rtl_meter_reset(&m);
  feed_sine(&m, 10U * 14400U, 1000.0, 1.0, &phase);
  feed_const(&m, 14400U, 0.0f);
  ck_assert_float_eq_tol(rtl_meter_rms_db(&m), SINE_DB - 4.3429f, 0.1f);
  size_t silent = 14400U;
  while (m.mean_sq != 0.0f && silent < 60U * 48000U) {
    feed_const(&m, BLOCK, 0.0f);
    silent += BLOCK;
  }
  ck_assert_float_eq(m.mean_sq, 0.0f);
  ck_assert(isinf(rtl_meter_rms_db(&m)));
  // 117 dB of decay at 4.34 dB per 300 ms is about 8.1 s.
  ck_assert_uint_ge(silent, 7U * 48000U);
  ck_assert_uint_le(silent, 9U * 48000U);
}
END_TEST

START_TEST(test_meter_reset)
{
  RtlMeter m;
  rtl_meter_init(&m, RATE, 12.0, 100.0);
  const float fall = m.peak_fall;
  const float coef = m.rms_coef;
  feed_const(&m, 48000U, 0.5f); // ten time constants
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), -6.0206f, 1e-3f);
  ck_assert_float_eq_tol(rtl_meter_rms_db(&m), -6.0206f, 0.01f);

  rtl_meter_reset(&m);
  ck_assert_float_eq(m.peak, 0.0f);
  ck_assert_float_eq(m.mean_sq, 0.0f);
  ck_assert(isinf(rtl_meter_peak_db(&m)));
  ck_assert(isinf(rtl_meter_rms_db(&m)));
  ck_assert_float_eq(m.peak_fall, fall);
  ck_assert_float_eq(m.rms_coef, coef);

  // And it meters again from scratch.
  feed_const(&m, 4800U, 0.25f);
  ck_assert_float_eq_tol(rtl_meter_peak_db(&m), -12.0412f, 1e-3f);
}
END_TEST

START_TEST(test_meter_no_denormals)
{
  // Slow and very fast ballistics, each fed a loud block, then signals
  // that are themselves subnormal, then a long silence.  The state must
  // never be subnormal and must end at exactly zero.
  const double falls[] = {20.0, 1e6, 1e9};
  const double rms[]   = {300.0, 0.01, 1e-6};
  for (size_t k = 0U; k < 3U; ++k) {
    RtlMeter m;
    rtl_meter_init(&m, RATE, falls[k], rms[k]);
    feed_const(&m, 4800U, 1.0f);
    ck_assert(state_is_clean(&m));

    float tiny[BLOCK];
    for (size_t i = 0U; i < BLOCK; ++i) {
      tiny[i] = (i & 1U) ? FLT_MIN / 8.0f : -FLT_MIN / 3.0f;
    }
    ck_assert_int_eq(fpclassify(tiny[0]), FP_SUBNORMAL);

    for (size_t b = 0U; b < 60U * 48000U / BLOCK; ++b) {
      if (b % 100U == 7U) {
        rtl_meter_process(&m, tiny, BLOCK);
      } else {
        feed_const(&m, BLOCK, 0.0f);
      }
      ck_assert_msg(
        state_is_clean(&m), "subnormal state at block %zu (case %zu)", b, k);
    }
    ck_assert_int_eq(fpclassify(m.peak), FP_ZERO);
    ck_assert_int_eq(fpclassify(m.mean_sq), FP_ZERO);
    ck_assert(isinf(rtl_meter_peak_db(&m)));
    ck_assert(isinf(rtl_meter_rms_db(&m)));
  }
}
END_TEST

START_TEST(test_meter_bad_input)
{
  // NaN never enters the state; an infinite sample is clamped, so it shows
  // as a huge level that still falls instead of sticking at +inf.
  RtlMeter m;
  rtl_meter_init(&m, RATE, 1000.0, 10.0);
  const float bad[] = {NAN, INFINITY, -INFINITY, NAN};
  rtl_meter_process(&m, bad, 4U);
  ck_assert(!isnan(m.peak) && !isnan(m.mean_sq));
  ck_assert(isfinite(m.peak) && isfinite(m.mean_sq));
  ck_assert_float_gt(rtl_meter_peak_db(&m), 200.0f);
  feed_const(&m, 10U * 48000U, 0.0f);
  ck_assert_float_eq(m.peak, 0.0f);
  ck_assert_float_eq(m.mean_sq, 0.0f);

  // Out-of-range settings give a meter that holds its peak and does not
  // smooth, rather than NaN.
  rtl_meter_init(&m, 0.0, 20.0, 300.0);
  ck_assert_float_eq(m.peak_fall, 1.0f);
  ck_assert_float_eq(m.rms_coef, 1.0f);
  rtl_meter_init(&m, RATE, -5.0, -1.0);
  ck_assert_float_eq(m.peak_fall, 1.0f);
  ck_assert_float_eq(m.rms_coef, 1.0f);
  feed_const(&m, 100U, 0.5f);
  feed_const(&m, 100U, 0.0f);
  ck_assert_float_eq(m.peak, 0.5f);
  ck_assert(isinf(rtl_meter_rms_db(&m)));
}
END_TEST

Suite*
rtl_suite_meter(void)
{
  Suite* const s    = suite_create("meter");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_block_levels);
  tcase_add_test(core, test_db_conversions);
  tcase_add_test(core, test_meter_instant_attack);
  tcase_add_test(core, test_meter_peak_fall);
  tcase_add_test(core, test_meter_rms_ballistics);
  tcase_add_test(core, test_meter_reset);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_set_timeout(limits, 30.0);
  tcase_add_test(limits, test_meter_no_denormals);
  tcase_add_test(limits, test_meter_bad_input);
  suite_add_tcase(s, limits);
  return s;
}
