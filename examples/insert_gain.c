// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  A processor plug-in: gain followed by a soft clipper.

    rtlane --insert insert_gain.so

  The gain comes from the environment, RTL_INSERT_GAIN_DB (default -6 dB),
  read once in init().  Output channel c takes input channel c modulo the
  number of inputs.  The clipper is linear up to half scale and bends
  smoothly towards +-1 above it, so loud input saturates instead of
  wrapping or hard-clipping.  process() neither allocates nor waits, so the
  plug-in declares itself RT-safe.
*/

#define _POSIX_C_SOURCE 200809L

#include <rtlane/processor.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

const RtlProcessor*
rtl_processor_descriptor(void);

typedef struct {
  float    gain;
  uint32_t n_inputs;
  uint32_t n_outputs;
} Gain;

static void*
gain_init(const RtlProcessorConfig* const config, void* const user_data)
{
  (void)user_data;
  Gain* const self = (Gain*)calloc(1U, sizeof(Gain));
  if (!self) {
    return NULL;
  }
  const char* const env = getenv("RTL_INSERT_GAIN_DB");
  const double      db  = env ? strtod(env, NULL) : -6.0;
  self->gain            = (float)pow(10.0, (isfinite(db) ? db : 0.0) / 20.0);
  self->n_inputs        = config->n_inputs;
  self->n_outputs       = config->n_outputs;
  return self;
}

/// Identity below 0.5; above, a tanh knee that reaches 1 only at infinity.
static float
soft_clip(const float x)
{
  const float a = fabsf(x);
  if (a <= 0.5f) {
    return x;
  }
  const float y = 0.5f + 0.5f * tanhf((a - 0.5f) * 2.0f);
  return x < 0.0f ? -y : y;
}

static void
gain_process(void* const               state,
             const float* const* const in,
             float* const* const       out,
             const RtlMidiEvent* const events,
             const uint32_t            n_events,
             const uint32_t            n_frames)
{
  (void)events;
  (void)n_events;
  const Gain* const self = (const Gain*)state;
  for (uint32_t c = 0U; c < self->n_outputs; ++c) {
    float* const dst = out[c];
    if (!self->n_inputs) {
      for (uint32_t i = 0U; i < n_frames; ++i) {
        dst[i] = 0.0f;
      }
      continue;
    }
    const float* const src = in[c % self->n_inputs];
    for (uint32_t i = 0U; i < n_frames; ++i) {
      dst[i] = soft_clip(src[i] * self->gain);
    }
  }
}

static void
gain_release(void* const state)
{
  free(state);
}

static const RtlProcessor gain_processor = {
  RTL_PROCESSOR_ABI_VERSION,
  "gain",
  RTL_PROCESSOR_RT_SAFE,
  gain_init,
  gain_process,
  gain_release,
  NULL,
};

RTL_PROCESSOR_EXPORT const RtlProcessor*
rtl_processor_descriptor(void)
{
  return &gain_processor;
}
