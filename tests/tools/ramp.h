// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_TESTS_TOOLS_RAMP_H
#define RTL_TESTS_TOOLS_RAMP_H

/*
  The test signal whose every sample is known from its JACK frame alone: a
  sawtooth of `period` frames between -amp and amp, as rtl-probe plays it
  (-P PORT=ramp:PERIOD:AMP) and rtl-wavcheck expects it in a file.  Both
  compute it with this one expression, so a recorded sample matches to the
  bit, and two neighbouring frames differ by 2 * amp / period: a take cut
  one frame off never passes.
*/

#include <stdint.h>

static inline float
rtl_ramp(const uint32_t frame, const uint32_t period, const float amp)
{
  return amp * ((float)(frame % period) / (float)period * 2.0f - 1.0f);
}

#endif // RTL_TESTS_TOOLS_RAMP_H
