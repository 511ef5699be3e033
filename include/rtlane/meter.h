// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_METER_H
#define RTLANE_METER_H

#include <rtlane/attributes.h>

#include <stddef.h>

RTL_BEGIN_DECLS

/**
   @file meter.h
   Peak and RMS level meters with ballistics, computed on the real-time
   thread and shipped out as plain numbers.

   A meter is a small value type (no handle, no allocation) so that the
   real-time state can hold an array of them.  Peaks fall at a fixed rate in
   dB per second and RMS follows a one-pole average, so a level that stops
   decays smoothly and reaches silence (-inf dB) instead of sticking.
*/

/// Levels below this are reported as silence (-inf dB).
#define RTL_METER_FLOOR_DB (-120.0f)

typedef struct {
  float peak;      ///< Current peak level, linear
  float mean_sq;   ///< Smoothed mean square
  float peak_fall; ///< Peak multiplier per sample
  float rms_coef;  ///< One-pole coefficient per sample
  float floor;     ///< Linear level treated as silence
} RtlMeter;

/**
   Set up `meter` for `sample_rate`, with peaks falling at `fall_db_per_s`
   and an RMS time constant of `rms_ms`, and reset it to silence.  Any
   thread; not for the RT thread (it uses transcendental functions that may
   be slow on first use).  A fall rate that is not positive holds the peak;
   an RMS time that is not positive follows each sample; a sample rate that
   is not positive does both.  Time constants beyond 1e7 samples are
   clamped to that.
*/
RTL_API void
rtl_meter_init(RtlMeter* meter,
               double    sample_rate,
               double    fall_db_per_s,
               double    rms_ms);

/// Reset the levels to silence.  Owner thread, RT-safe.
RTL_RT_API void
rtl_meter_reset(RtlMeter* meter);

/**
   Feed `n` samples.  Owner thread, RT-safe: float arithmetic only, no
   library call per sample.  Samples below the floor count as silence, NaN
   is ignored and infinities are clamped, so the state never holds a NaN,
   an infinity or a subnormal.
*/
RTL_RT_API void
rtl_meter_process(RtlMeter* meter, const float* samples, size_t n);

/// Peak level in dBFS, or -INFINITY for silence.  Owner thread, RT-safe.
RTL_RT_API float
rtl_meter_peak_db(const RtlMeter* meter);

/// RMS level in dBFS, or -INFINITY for silence.  Owner thread, RT-safe.
RTL_RT_API float
rtl_meter_rms_db(const RtlMeter* meter);

/// Absolute peak of a block.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC float
rtl_block_peak(const float* samples, size_t n);

/// RMS of a block (0 for an empty block).  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC float
rtl_block_rms(const float* samples, size_t n);

/// Linear gain to dB; 0 and below give -INFINITY.  Any thread, RT-safe.
RTL_RT_API RTL_CONST_FUNC float
rtl_gain_to_db(float gain);

/// dB to linear gain; -INFINITY gives 0.  Any thread, RT-safe.
RTL_RT_API RTL_CONST_FUNC float
rtl_db_to_gain(float db);

RTL_END_DECLS

#endif // RTLANE_METER_H
