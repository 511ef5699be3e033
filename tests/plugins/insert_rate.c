// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  A processor plug-in for the tests: it says which sample rate it was
  started at, by writing it into the audio as a constant, rate / 10^6 on
  its last output (0.048 at 48 kHz, 0.0441 at 44.1 kHz, 0.096 at 96 kHz),
  and passes its other inputs through untouched.  A test reads the level
  off out_R and knows whether the insert was started again after the
  graph's rate changed, while out_L still carries the mix for the tests
  that measure it.
*/

#define _POSIX_C_SOURCE 200809L

#include <rtlane/processor.h>

#include <stdint.h>
#include <stdlib.h>

const RtlProcessor*
rtl_processor_descriptor(void);

typedef struct {
  float    level;
  uint32_t n_inputs;
  uint32_t n_outputs;
} Rate;

static void*
rate_init(const RtlProcessorConfig* const config, void* const user_data)
{
  (void)user_data;
  Rate* const self = (Rate*)calloc(1U, sizeof(Rate));
  if (self) {
    self->level     = (float)(config->sample_rate / 1e6);
    self->n_inputs  = config->n_inputs;
    self->n_outputs = config->n_outputs;
  }
  return self;
}

static void
rate_process(void* const               self,
             const float* const* const in,
             float* const* const       out,
             const RtlMidiEvent* const events,
             const uint32_t            n_events,
             const uint32_t            n_frames)
{
  (void)events;
  (void)n_events;
  const Rate* const r    = (const Rate*)self;
  const uint32_t    last = r->n_outputs - 1U;
  for (uint32_t c = 0U; c < last; ++c) {
    for (uint32_t i = 0U; i < n_frames; ++i) {
      out[c][i] = c < r->n_inputs ? in[c][i] : 0.0f;
    }
  }
  for (uint32_t i = 0U; i < n_frames; ++i) {
    out[last][i] = r->level;
  }
}

static void
rate_release(void* const self)
{
  free(self);
}

static const RtlProcessor rate_processor = {
  RTL_PROCESSOR_ABI_VERSION,
  "rate",
  RTL_PROCESSOR_RT_SAFE,
  rate_init,
  rate_process,
  rate_release,
  NULL,
};

RTL_PROCESSOR_EXPORT const RtlProcessor*
rtl_processor_descriptor(void)
{
  return &rate_processor;
}
