// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_WORKER_H
#define RTL_DAEMON_WORKER_H

/*
  Write-ahead mode: the mixer (and the insert after it) as the processor
  that the write-ahead engine runs on its worker thread.

  The engine hands the processor every input frame exactly once, in order,
  from 0 at the run's start (periods it had to drop come as silence in
  their place), so the processor's count of frames processed is the input
  position.  The process thread counts the same positions from the same
  start (the engine is started before the JACK client is activated) and
  stamps each cue with the input frame it belongs to; the cue ring carries
  them here.  A cue is in the ring before the engine learns of the period
  it falls in, so by the time the worker has a block's input it has the
  block's cues too.

  Every function of the processor runs on the engine's worker thread; the
  rest are set-up and tear-down.
*/

#include "mixer.h"

#include <rtlane/allocator.h>
#include <rtlane/msgring.h>
#include <rtlane/processor.h>
#include <rtlane/status.h>

#include <stdint.h>

typedef struct RtlWorkerImpl RtlWorker;

/**
   Create the processor for `mixer`, reading cues from `cues` (the process
   thread is the writer) and running `insert` (or NULL) on the mixer's
   stereo output.  Its outputs are out_L, out_R and click.  Non-RT
   (allocates from `allocator`).
*/
RtlStatus
rtl_worker_new(RtlAllocator*       allocator,
               RtlMixer*           mixer,
               RtlMsgRing*         cues,
               const RtlProcessor* insert,
               uint32_t            max_block,
               RtlWorker**         worker);

/// Free `worker`; NULL is ignored.  Non-RT, once the engine stopped.
void
rtl_worker_free(RtlWorker* worker);

/**
   The graph's rate is now `rate`: the worker starts the insert again at it
   before its next block, on its own thread.  Any thread (JACK's
   sample-rate callback).
*/
void
rtl_worker_set_rate(RtlWorker* worker, uint32_t rate);

/// The processor to give rtl_engine_new(); it lives as long as `worker`.
const RtlProcessor*
rtl_worker_processor(const RtlWorker* worker);

#endif // RTL_DAEMON_WORKER_H
