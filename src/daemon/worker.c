// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "worker.h"

#include "log.h"

#include <rtlane/allocator.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

struct RtlWorkerImpl {
  RtlAllocator*       allocator;
  RtlProcessor        processor; ///< What the engine runs; user_data: this
  RtlMixer*           mixer;
  RtlMsgRing*         cues;
  const RtlProcessor* insert;
  uint32_t            max_block;
  uint32_t            cue_cap;
  _Atomic uint32_t    rate; ///< The graph's rate now; 0 until told

  // Worker thread.
  void*    insert_self;
  uint32_t insert_rate; ///< The rate the insert was started at
  uint64_t pos;         ///< Input position of the next block
  RtlCue   held;        ///< Cue received but beyond the block
  bool     have_held;
  RtlCue*  block; ///< The block's cues, positions made offsets
  float*   mix;   ///< Mixer output ahead of the insert: 2 * max_block
};

/// The insert's state for `rate`, stereo in and out (NULL if it refused).
static RtlStatus
start_insert(RtlWorker* const w, const double rate)
{
  const RtlProcessorConfig ic = {rate, w->max_block, 2U, 2U};
  return rtl_processor_init(w->insert, &ic, &w->insert_self);
}

static void*
worker_init(const RtlProcessorConfig* const config, void* const user_data)
{
  RtlWorker* const w = (RtlWorker*)user_data;

  // Cues of an earlier run that never got processed: the process thread is
  // still (it starts the engine before activating the client).
  while (!rtl_comm_recv_cue(w->cues, &w->held)) {
  }
  w->pos       = 0U;
  w->have_held = false;
  rtl_mixer_reset(w->mixer);

  w->insert_self = NULL;
  w->insert_rate = (uint32_t)config->sample_rate;
  // The engine's max_block is the one the worker was made with.
  if (w->insert && start_insert(w, config->sample_rate)) {
    return NULL;
  }
  return w;
}

/**
   The graph's rate changed under a running engine (PipeWire does that; a
   JACK2 server does not): the insert starts again at the new rate, here on
   the thread that runs it, as its contract asks.  One that refuses is left
   out (the mix passes through) rather than run at a rate it was not made
   for.
*/
static void
follow_rate(RtlWorker* const w, const uint32_t rate)
{
  w->insert_rate = rate;
  if (!w->insert->init) {
    return; // Its state is its user_data, which never learns a rate
  }
  if (w->insert_self) {
    rtl_processor_release(w->insert, w->insert_self);
  }
  w->insert_self = NULL;
  if (start_insert(w, (double)rate)) {
    w->insert_self = NULL;
    rtl_log("the insert failed to start again at %u Hz: it is left out", rate);
  }
}

/// The cues of input frames [pos, pos + n), as offsets into the block.
static uint32_t
take_cues(RtlWorker* const w, const uint32_t n)
{
  uint32_t count = 0U;
  while (count < w->cue_cap) {
    if (!w->have_held) {
      if (rtl_comm_recv_cue(w->cues, &w->held)) {
        break;
      }
      w->have_held = true;
    }
    if (w->held.pos >= w->pos + n) {
      break;
    }
    RtlCue* const c = &w->block[count++];
    *c              = w->held;
    c->pos          = w->held.pos > w->pos ? w->held.pos - w->pos : 0U;
    w->have_held    = false;
  }
  return count;
}

static void
worker_process(void* const               self,
               const float* const* const in,
               float* const* const       out,
               const RtlMidiEvent* const events,
               const uint32_t            n_events,
               const uint32_t            n_frames)
{
  RtlWorker* const w      = (RtlWorker*)self;
  const uint32_t   n_cues = take_cues(w, n_frames);
  if (!w->insert) {
    rtl_mixer_run(w->mixer,
                  in,
                  out[0],
                  out[1],
                  out[2],
                  n_frames,
                  w->block,
                  n_cues,
                  events,
                  n_events);
  } else {
    const uint32_t rate = atomic_load_explicit(&w->rate, memory_order_relaxed);
    if (rate && rate != w->insert_rate) {
      follow_rate(w, rate);
    }
    float* const mix[2] = {w->mix, w->mix + w->max_block};
    rtl_mixer_run(w->mixer,
                  in,
                  mix[0],
                  mix[1],
                  out[2],
                  n_frames,
                  w->block,
                  n_cues,
                  events,
                  n_events);
    float* const ins_out[2] = {out[0], out[1]};
    if (w->insert_self || !w->insert->init) {
      w->insert->process(w->insert_self,
                         (const float* const*)mix,
                         ins_out,
                         events,
                         n_events,
                         n_frames);
    } else {
      memcpy(out[0], mix[0], n_frames * sizeof(float));
      memcpy(out[1], mix[1], n_frames * sizeof(float));
    }
  }
  w->pos += n_frames;
}

static void
worker_release(void* const self)
{
  RtlWorker* const w = (RtlWorker*)self;
  if (w->insert) {
    rtl_processor_release(w->insert, w->insert_self);
  }
  w->insert_self = NULL;
}

RtlStatus
rtl_worker_new(RtlAllocator* const       allocator,
               RtlMixer* const           mixer,
               RtlMsgRing* const         cues,
               const RtlProcessor* const insert,
               const uint32_t            max_block,
               RtlWorker** const         worker)
{
  *worker            = NULL;
  RtlWorker* const w = (RtlWorker*)rtl_calloc(allocator, 1U, sizeof(RtlWorker));
  if (!w) {
    return RTL_NO_MEM;
  }
  w->allocator = allocator;
  w->mixer     = mixer;
  w->cues      = cues;
  w->insert    = insert;
  w->max_block = max_block;
  // The ring's whole content fits one block's list.
  w->cue_cap = (uint32_t)rtl_msgring_capacity(cues);
  w->block   = (RtlCue*)rtl_calloc(allocator, w->cue_cap, sizeof(RtlCue));
  w->mix = (float*)rtl_calloc(allocator, 2U * (size_t)max_block, sizeof(float));
  if (!w->block || !w->mix) {
    rtl_worker_free(w);
    return RTL_NO_MEM;
  }
  w->processor = (RtlProcessor){
    RTL_PROCESSOR_ABI_VERSION,
    "mixer",
    0U,
    worker_init,
    worker_process,
    worker_release,
    w,
  };
  *worker = w;
  return RTL_SUCCESS;
}

void
rtl_worker_free(RtlWorker* const w)
{
  if (!w) {
    return;
  }
  rtl_free(w->allocator, w->block);
  rtl_free(w->allocator, w->mix);
  rtl_free(w->allocator, w);
}

void
rtl_worker_set_rate(RtlWorker* const w, const uint32_t rate)
{
  atomic_store_explicit(&w->rate, rate, memory_order_relaxed);
}

const RtlProcessor*
rtl_worker_processor(const RtlWorker* const w)
{
  return &w->processor;
}
