// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  A processor plug-in that behaves like a garbage-collected runtime: it
  allocates and frees a buffer on every block, and every 100 ms of audio it
  stops for 20 ms, as a collector pausing the world would.

    rtlane -l 50 --insert insert_stall.so

  At a write-ahead latency of 50 ms the pauses are absorbed and the output
  (a copy of the input: output channel c takes input channel c modulo the
  number of inputs) plays without a gap; below about 25 ms they are heard
  as underruns.  It is not RT-safe and says so: a host must not run it on
  the audio thread.
*/

#define _POSIX_C_SOURCE 200809L

#include <rtlane/processor.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STALL_EVERY_MS 100U
#define STALL_MS 20L

const RtlProcessor*
rtl_processor_descriptor(void);

typedef struct {
  uint64_t frames;     ///< Frames processed
  uint64_t next_stall; ///< Frame count at which to pause next
  uint64_t period;     ///< Frames between pauses
  uint32_t n_inputs;
  uint32_t n_outputs;
} Stall;

static void*
stall_init(const RtlProcessorConfig* const config, void* const user_data)
{
  (void)user_data;
  Stall* const self = (Stall*)calloc(1U, sizeof(Stall));
  if (!self) {
    return NULL;
  }
  self->period = (uint64_t)(config->sample_rate * STALL_EVERY_MS / 1000.0);
  if (!self->period) {
    self->period = 1U;
  }
  self->next_stall = self->period;
  self->n_inputs   = config->n_inputs;
  self->n_outputs  = config->n_outputs;
  return self;
}

static void
stall_process(void* const               state,
              const float* const* const in,
              float* const* const       out,
              const RtlMidiEvent* const events,
              const uint32_t            n_events,
              const uint32_t            n_frames)
{
  (void)events;
  (void)n_events;
  Stall* const self  = (Stall*)state;
  const size_t bytes = (size_t)n_frames * sizeof(float);

  for (uint32_t c = 0U; c < self->n_outputs; ++c) {
    // A fresh buffer per block, the way a managed runtime's temporaries go
    float* const tmp = (float*)malloc(bytes);
    if (!tmp || !self->n_inputs) {
      memset(out[c], 0, bytes);
    } else {
      memcpy(tmp, in[c % self->n_inputs], bytes);
      memcpy(out[c], tmp, bytes);
    }
    free(tmp);
  }

  self->frames += n_frames;
  if (self->frames >= self->next_stall) {
    self->next_stall += self->period;
    const struct timespec pause = {0, STALL_MS * 1000000L};
    nanosleep(&pause, NULL);
  }
}

static void
stall_release(void* const state)
{
  free(state);
}

static const RtlProcessor stall_processor = {
  RTL_PROCESSOR_ABI_VERSION,
  "stall",
  0U,
  stall_init,
  stall_process,
  stall_release,
  NULL,
};

RTL_PROCESSOR_EXPORT const RtlProcessor*
rtl_processor_descriptor(void)
{
  return &stall_processor;
}
