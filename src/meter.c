// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  Peak and RMS meters.

  Everything on the real-time path is float arithmetic with no library call
  per sample (fabsf is a bit mask).  The transcendental functions run once
  per meter in rtl_meter_init(), or once per read in the dB conversions.

  Denormals: a decaying level is a textbook source of subnormal floats, and
  on x86 every operation on one costs a hundred cycles or more.  Rather than
  depend on the thread's FTZ/DAZ flags (which the host sets, or does not),
  the state is kept out of the subnormal range by construction:

  - an input sample below the floor counts as zero, so its square (at least
    1e-12) is always normal;
  - the peak is flushed to zero as soon as it falls below the floor, and
    the fall multiplier is either zero or at least 1e-20, so the product of
    the two is always normal;
  - the mean square is flushed to zero below 1e-20 (-200 dB), and the RMS
    coefficient is at least 1e-7, so every intermediate of the one-pole
    update stays above FLT_MIN.  The mean square is not flushed at the
    floor itself on every sample: a quiet signal just above the floor
    builds its mean square up from contributions far smaller than the
    floor, and flushing those would pin it at silence.  Instead a block
    with no input above the floor flushes a mean square below the floor,
    so a level that stops reads exactly silence soon after it decays.
*/

#include <rtlane/meter.h>

#include <math.h>
#include <stddef.h>

/// Mean squares below this are flushed to zero (see above).
#define RTL_METER_MS_FLUSH 1e-20f

/// Fall multipliers below this are as good as an instant fall.
#define RTL_METER_MIN_FALL 1e-20

/// Smallest RMS coefficient: a time constant of 1e7 samples.
#define RTL_METER_MIN_COEF 1e-7

/// Largest input magnitude: an infinite sample must not stick at +inf.
#define RTL_METER_MAX_INPUT 1e15f

/// ln(10) / 20: dB to natural-log gain.
#define RTL_DB_TO_LN 0.115129254649702284f

void
rtl_meter_init(RtlMeter* const meter,
               const double    sample_rate,
               const double    fall_db_per_s,
               const double    rms_ms)
{
  const int rate_ok = sample_rate > 0.0 && isfinite(sample_rate);

  double fall = 1.0;
  if (rate_ok && fall_db_per_s > 0.0) {
    fall = pow(10.0, -fall_db_per_s / (20.0 * sample_rate));
    if (fall < RTL_METER_MIN_FALL) {
      fall = 0.0;
    }
  }

  double coef = 1.0;
  if (rate_ok && rms_ms > 0.0) {
    // 1 - exp(-1/(tau*fs)), exact for long time constants too.
    coef = -expm1(-1000.0 / (rms_ms * sample_rate));
    if (!(coef >= RTL_METER_MIN_COEF)) {
      coef = RTL_METER_MIN_COEF;
    }
  }

  meter->peak      = 0.0f;
  meter->mean_sq   = 0.0f;
  meter->peak_fall = (float)fall;
  meter->rms_coef  = (float)coef;
  meter->floor     = (float)pow(10.0, (double)RTL_METER_FLOOR_DB / 20.0);
}

RTL_REALTIME void
rtl_meter_reset(RtlMeter* const meter)
{
  meter->peak    = 0.0f;
  meter->mean_sq = 0.0f;
}

RTL_REALTIME void
rtl_meter_process(RtlMeter* const    meter,
                  const float* const samples,
                  const size_t       n)
{
  const float fall = meter->peak_fall;
  const float coef = meter->rms_coef;
  const float gate = meter->floor;
  float       peak = meter->peak;
  float       ms   = meter->mean_sq;
  float       loud = 0.0f;

  for (size_t i = 0U; i < n; ++i) {
    // NaN compares false and becomes zero: it never enters the state.
    float a = fabsf(samples[i]);
    a = a >= gate ? (a <= RTL_METER_MAX_INPUT ? a : RTL_METER_MAX_INPUT) : 0.0f;
    loud = a > loud ? a : loud;

    peak *= fall;
    peak = a > peak ? a : peak;
    peak = peak >= gate ? peak : 0.0f;

    ms += coef * (a * a - ms);
    ms = ms >= RTL_METER_MS_FLUSH ? ms : 0.0f;
  }

  if (loud == 0.0f && ms < gate * gate) {
    ms = 0.0f;
  }

  meter->peak    = peak;
  meter->mean_sq = ms;
}

RTL_REALTIME float
rtl_meter_peak_db(const RtlMeter* const meter)
{
  return meter->peak >= meter->floor ? 20.0f * log10f(meter->peak) : -INFINITY;
}

RTL_REALTIME float
rtl_meter_rms_db(const RtlMeter* const meter)
{
  const float ms = meter->mean_sq;
  return ms >= meter->floor * meter->floor ? 10.0f * log10f(ms) : -INFINITY;
}

RTL_REALTIME float
rtl_block_peak(const float* const samples, const size_t n)
{
  float peak = 0.0f;
  for (size_t i = 0U; i < n; ++i) {
    const float a = fabsf(samples[i]);
    peak          = a > peak ? a : peak;
  }
  return peak;
}

RTL_REALTIME float
rtl_block_rms(const float* const samples, const size_t n)
{
  if (!n) {
    return 0.0f;
  }

  // Sum in short runs so that the rounding error of a float accumulator
  // grows with the number of runs, not the number of samples.
  enum { RUN = 256 };
  float  total = 0.0f;
  size_t i     = 0U;
  while (i < n) {
    const size_t end  = n - i > RUN ? i + RUN : n;
    float        part = 0.0f;
    for (; i < end; ++i) {
      part += samples[i] * samples[i];
    }
    total += part;
  }
  return sqrtf(total / (float)n);
}

RTL_REALTIME float
rtl_gain_to_db(const float gain)
{
  return gain > 0.0f ? 20.0f * log10f(gain) : -INFINITY;
}

RTL_REALTIME float
rtl_db_to_gain(const float db)
{
  return expf(db * RTL_DB_TO_LN);
}
