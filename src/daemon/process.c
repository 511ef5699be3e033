// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "process.h"

#include "common.h"
#include "log.h"
#include "worker.h"

#include <rtlane/allocator.h>
#include <rtlane/broadcast.h>
#include <rtlane/meter.h>

#include <jack/midiport.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/// Events the RT thread holds at once; the control thread holds the rest.
#define RTL_RT_PENDING 256U

/// Control -> RT ring slots, and RT -> control meter ring slots.
#define RTL_EVENT_SLOTS 256U
#define RTL_METER_SLOTS 128U

/// RT -> worker cue slots: a whole snapshot of 64 channels (258 slots and
/// 128 CC mappings) and a period's events fit with room to spare.
#define RTL_CUE_SLOTS 1024U

/// MIDI events taken from midi_in (and given to midi_out) per period.
#define RTL_MIDI_MAX 1024U

/// Record marks the RT thread holds at once (two per take kind at most).
#define RTL_RECORD_EVENTS 8U

/// Most frames per call of the worker's processor, and of a direct-mode
/// insert (longer periods are cut into pieces this long).
#define RTL_BLOCK 1024U

struct RtlProcessImpl {
  // Set up before activation, read-only on the RT thread.
  RtlAllocator*        allocator;
  const RtlParamTable* table;
  unsigned             n_inputs;
  unsigned             n_meters;
  jack_client_t*       client;
  RtlPorts             ports;
  RtlSnapshot*         snapshot;
  RtlMsgRing*          events;
  RtlMsgRing*          meters_out;
  RtlMixer*            mixer;
  bool                 wa; ///< Write-ahead mode
  const RtlProcessor*  insert;
  const char*          insert_name;

  // Write-ahead mode: the engine, its worker and the cues for it.  The
  // engine is replaced only while no client runs (a new sample rate); the
  // lock keeps the control thread's questions off it meanwhile.
  pthread_mutex_t engine_lock;
  RtlEngine*      engine;
  uint32_t        engine_rate;
  double          max_ms;
  double          wa_ms; ///< Delay asked for; under engine_lock
  RtlWorker*      worker;
  RtlMsgRing*     cues;

  // Direct mode: the insert's state between prepare and release.  A new
  // rate under a running client brings a state made for it (control
  // thread, insert_next), which the RT thread takes at a period's start,
  // leaving the old one in insert_retired for the control thread to free.
  // The control thread makes a new one only while both are empty.  Off the
  // RT thread, these fields are read and written under engine_lock.
  void*          insert_self;
  bool           insert_ready;
  uint32_t       insert_rate; ///< Control thread
  _Atomic(void*) insert_next;
  _Atomic(void*) insert_retired;

  // Shared with other threads.
  _Atomic uint64_t frames;
  _Atomic uint64_t period_frame; ///< 64-bit frame time of the last period
  _Atomic bool     started;      ///< period_frame is valid
  _Atomic uint64_t meter_drops;
  _Atomic uint64_t late_events;
  _Atomic uint64_t skipped; ///< Periods the graph did not run us for
  _Atomic bool     jump_ok; ///< A new period or rate: the next may jump
  _Atomic uint64_t midi_drops;
  _Atomic uint32_t epoch;          ///< Bumped by every attach
  _Atomic uint32_t latency_frames; ///< L reported to the graph
  _Atomic uint64_t latency_ms_bits;

  // RT thread only from here on.
  uint64_t      seq;     ///< Adopted snapshot sequence
  uint64_t      first64; ///< JACK's 32-bit frame time, unwrapped
  uint32_t      next32;  ///< Where the next period starts if none is skipped
  uint64_t      pos;     ///< Input frames given to the engine since attach
  uint32_t*     serials; ///< Adopted serial per parameter
  uint16_t      ccmap[RTL_MIDI_CCS];
  const float** in_buf;
  RtlCue*       cue_buf; ///< Direct mode: the period's cues
  uint32_t      cue_cap;
  uint32_t      n_cues;
  RtlMidiEvent* midi_in;
  RtlMidiEvent* midi_out;
  RtlMidiEvent* ins_events;
  float*        ins_buf; ///< Direct-mode insert input: 2 * RTL_BLOCK

  RtlEvent* pending; ///< Sorted by frame, arrival order kept
  unsigned  n_pending;

  // Recording: the audio of each kind of take (made at the first prepare,
  // when the rate is known), and where takes start and stop in it
  double        record_ms;
  RtlBroadcast* taps[RTL_N_TAKES];
  RtlTakeMarks  marks[RTL_N_TAKES];
  RtlEvent      record_events[RTL_RECORD_EVENTS]; ///< Not yet due
  unsigned      n_record_events;

  // Meters: one per input, then out_L and out_R, read every
  // meter_interval frames.  Their ballistics are in frames, so the
  // coefficients follow the sample rate (set off the RT thread as bit
  // patterns, copied into the meters each period).
  _Atomic uint32_t meter_interval;
  _Atomic uint32_t meter_fall_bits;
  _Atomic uint32_t meter_coef_bits;
  RtlMeter*        meters;
  uint32_t         meter_frames;
  RtlMeterMsg      meter_msg;
};

// --- set-up ----------------------------------------------------------------

static void
store_latency(RtlProcess* const p, const uint32_t frames, const double ms)
{
  uint64_t bits = 0U;
  memcpy(&bits, &ms, sizeof(bits));
  atomic_store_explicit(&p->latency_ms_bits, bits, memory_order_relaxed);
  atomic_store_explicit(&p->latency_frames, frames, memory_order_release);
}

/// Allocate `n` zeroed elements of `size` and map their pages now, so the
/// RT thread never takes a page fault on them.
static void*
rt_calloc(RtlProcess* const p, const size_t n, const size_t size)
{
  void* const ptr = rtl_calloc(p->allocator, n, size);
  if (ptr) {
    // Refused under a small RLIMIT_MEMLOCK; the pages are touched anyway.
    (void)rtl_lock_memory(ptr, n * size);
  }
  return ptr;
}

static RtlStatus
new_rings(RtlProcess* const p)
{
  RtlStatus st = rtl_mixer_new(p->allocator, p->table, &p->mixer);
  if (!st) {
    st = rtl_comm_ring_new(
      p->allocator, RTL_COMM_EVENT, RTL_EVENT_SLOTS, &p->events);
  }
  if (!st) {
    st = rtl_comm_ring_new(
      p->allocator, RTL_COMM_METERS, RTL_METER_SLOTS, &p->meters_out);
  }
  if (!st && p->wa) {
    st = rtl_comm_ring_new(p->allocator, RTL_COMM_CUE, RTL_CUE_SLOTS, &p->cues);
    if (!st) {
      st = rtl_worker_new(
        p->allocator, p->mixer, p->cues, p->insert, RTL_BLOCK, &p->worker);
    }
  }
  return st;
}

RtlStatus
rtl_process_new(const RtlProcessConfig* const config,
                RtlProcess** const            process)
{
  *process            = NULL;
  RtlProcess* const p = (RtlProcess*)rtl_aligned_alloc(
    config->allocator, RTL_CACHE_LINE, sizeof(RtlProcess));
  if (!p) {
    return RTL_NO_MEM;
  }
  memset(p, 0, sizeof(*p));
  (void)rtl_lock_memory(p, sizeof(*p));
  const RtlParamTable* const table = config->table;
  p->allocator                     = config->allocator;
  p->table                         = table;
  p->n_inputs                      = table->n_inputs;
  p->n_meters                      = table->n_inputs + 2U;
  p->snapshot                      = config->snapshot;
  p->wa                            = config->write_ahead_ms > 0.0;
  p->insert                        = config->insert;
  p->insert_name                   = config->insert_name;
  p->record_ms                     = config->record_ms;
  p->wa_ms                         = p->wa ? config->write_ahead_ms : 0.0;
  p->max_ms = 2.0 * p->wa_ms > (double)RTL_LATENCY_ROOM_MS
                ? 2.0 * p->wa_ms
                : (double)RTL_LATENCY_ROOM_MS;
  p->max_ms = p->max_ms < (double)RTL_LATENCY_MAX_MS
                ? p->max_ms
                : (double)RTL_LATENCY_MAX_MS;
  pthread_mutex_init(&p->engine_lock, NULL);
  store_latency(p, 0U, p->wa_ms);

  const size_t n = p->n_inputs;
  p->cue_cap     = table->n_params + RTL_MIDI_CCS + RTL_RT_PENDING + 1U;
  p->serials     = (uint32_t*)rt_calloc(p, table->n_params, sizeof(uint32_t));
  p->in_buf      = (const float**)rt_calloc(p, n, sizeof(float*));
  p->pending     = (RtlEvent*)rt_calloc(p, RTL_RT_PENDING, sizeof(RtlEvent));
  p->meters      = (RtlMeter*)rt_calloc(p, p->n_meters, sizeof(RtlMeter));
  p->cue_buf     = (RtlCue*)rt_calloc(p, p->cue_cap, sizeof(RtlCue));
  p->midi_in  = (RtlMidiEvent*)rt_calloc(p, RTL_MIDI_MAX, sizeof(RtlMidiEvent));
  p->midi_out = (RtlMidiEvent*)rt_calloc(p, RTL_MIDI_MAX, sizeof(RtlMidiEvent));
  p->ins_events =
    (RtlMidiEvent*)rt_calloc(p, RTL_MIDI_MAX, sizeof(RtlMidiEvent));
  p->ins_buf   = (float*)rt_calloc(p, 2U * RTL_BLOCK, sizeof(float));
  RtlStatus st = RTL_NO_MEM;
  if (!p->serials || !p->in_buf || !p->pending || !p->meters || !p->cue_buf ||
      !p->midi_in || !p->midi_out || !p->ins_events || !p->ins_buf ||
      (st = new_rings(p))) {
    rtl_process_free(p);
    return st;
  }

  for (unsigned m = 0U; m < p->n_meters; ++m) {
    rtl_meter_init(
      &p->meters[m], 48000.0, RTL_METER_FALL_DB_S, RTL_METER_RMS_MS);
  }
  rtl_process_set_sample_rate(p, 48000U);
  *process = p;
  return RTL_SUCCESS;
}

void
rtl_process_free(RtlProcess* const p)
{
  if (!p) {
    return;
  }
  rtl_process_release(p);
  rtl_engine_free(p->engine);
  rtl_worker_free(p->worker);
  rtl_msgring_free(p->cues);
  rtl_mixer_free(p->mixer);
  rtl_msgring_free(p->events);
  rtl_msgring_free(p->meters_out);
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    rtl_broadcast_free(p->taps[k]);
  }
  RtlAllocator* const a = p->allocator;
  rtl_free(a, p->serials);
  rtl_free(a, (void*)p->in_buf);
  rtl_free(a, p->pending);
  rtl_free(a, p->meters);
  rtl_free(a, p->cue_buf);
  rtl_free(a, p->midi_in);
  rtl_free(a, p->midi_out);
  rtl_free(a, p->ins_events);
  rtl_free(a, p->ins_buf);
  pthread_mutex_destroy(&p->engine_lock);
  rtl_aligned_free(a, p);
}

RtlMsgRing*
rtl_process_events(RtlProcess* const p)
{
  return p->events;
}

RtlMsgRing*
rtl_process_meters(RtlProcess* const p)
{
  return p->meters_out;
}

RtlBroadcast*
rtl_process_tap(RtlProcess* const p, const RtlTakeKind kind)
{
  return p->taps[kind];
}

const RtlTakeMarks*
rtl_process_take_marks(const RtlProcess* const p, const RtlTakeKind kind)
{
  return &p->marks[kind];
}

RtlMsgRing*
rtl_process_reports(RtlProcess* const p)
{
  return rtl_mixer_reports(p->mixer);
}

/// `ms` at `rate`, in whole frames (at least 1).
static uint32_t
ms_to_frames(const double ms, const uint32_t rate)
{
  const double frames = floor(ms * (double)rate / 1000.0 + 0.5);
  return frames < 1.0 ? 1U : (uint32_t)frames;
}

static RtlStatus
prepare_engine(RtlProcess* const p,
               const uint32_t    rate,
               char* const       err,
               const size_t      err_size)
{
  const uint32_t frames = ms_to_frames(p->wa_ms, rate);
  if (p->engine && p->engine_rate != rate) {
    // Sized for another rate: a new one, while no audio thread runs.
    rtl_engine_free(p->engine);
    p->engine = NULL;
  }
  if (!p->engine) {
    const RtlEngineConfig cfg = {
      p->n_inputs,
      3U, // out_L, out_R, click
      (double)rate,
      RTL_BLOCK,
      frames,
      ms_to_frames(p->max_ms, rate),
      0U,
      0U,
      0U,
    };
    const RtlStatus st = rtl_engine_new(
      p->allocator, &cfg, rtl_worker_processor(p->worker), &p->engine);
    if (st) {
      snprintf(err,
               err_size,
               "cannot set up write-ahead of %g ms at %u Hz: %s",
               p->wa_ms,
               rate,
               rtl_strerror(st));
      return st;
    }
    // Refused under a small RLIMIT_MEMLOCK; the pages are prefaulted anyway.
    (void)rtl_engine_lock_memory(p->engine);
    p->engine_rate = rate;
  } else {
    (void)rtl_engine_set_latency(p->engine, frames); // within capacity
  }

  const RtlStatus st = rtl_engine_start(p->engine);
  if (st) {
    snprintf(err,
             err_size,
             "%s%s%s",
             "cannot start the write-ahead worker",
             st == RTL_FAILURE && p->insert ? ": the insert failed to start: "
                                            : "",
             st == RTL_FAILURE && p->insert ? p->insert_name : "");
    return st;
  }
  store_latency(p, frames, p->wa_ms);
  return RTL_SUCCESS;
}

/**
   The broadcast rings of the takes, record_ms long at the first rate.  They
   stay when the rate changes (a take's reader may still hold one), so at
   a higher rate they hold less time.
*/
static RtlStatus
make_taps(RtlProcess* const p, const uint32_t rate)
{
  const unsigned channels[RTL_N_TAKES] = {2U, p->n_inputs};
  size_t         frames                = 1024U;
  while ((double)frames < p->record_ms * (double)rate / 1000.0) {
    frames *= 2U;
  }
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    if (!p->taps[k]) {
      const RtlStatus st =
        rtl_broadcast_new(p->allocator, frames, channels[k], &p->taps[k]);
      if (st) {
        return st;
      }
      // Refused under a small RLIMIT_MEMLOCK; the pages are touched anyway
      (void)rtl_broadcast_lock_memory(p->taps[k]);
    }
  }
  return RTL_SUCCESS;
}

/// A direct-mode insert's state for `rate`: stereo in and out, in blocks
/// of at most RTL_BLOCK.
static RtlStatus
start_insert(const RtlProcess* const p, const uint32_t rate, void** const self)
{
  const RtlProcessorConfig ic = {(double)rate, RTL_BLOCK, 2U, 2U};
  return rtl_processor_init(p->insert, &ic, self);
}

RtlStatus
rtl_process_prepare(RtlProcess* const p,
                    const uint32_t    rate,
                    const uint32_t    period,
                    char* const       err,
                    const size_t      err_size)
{
  rtl_process_set_sample_rate(p, rate);
  RtlStatus st = make_taps(p, rate);
  if (st) {
    snprintf(
      err, err_size, "cannot make the recording buffers: %s", rtl_strerror(st));
    return st;
  }

  if (p->wa) {
    pthread_mutex_lock(&p->engine_lock);
    st = prepare_engine(p, rate, err, err_size);
    pthread_mutex_unlock(&p->engine_lock);
    if (st) {
      return st;
    }
    const uint32_t frames = rtl_process_latency(p);
    if (frames <= period) {
      rtl_log("write-ahead of %u frames is not longer than the period (%u): "
              "expect underruns",
              frames,
              period);
    }
    return RTL_SUCCESS;
  }

  // Under the lock: the control thread may be making a state for a new
  // rate (rtl_process_follow_insert_rate) while this thread starts again.
  pthread_mutex_lock(&p->engine_lock);
  RtlStatus ist = RTL_SUCCESS;
  if (p->insert && !p->insert_ready) {
    if (start_insert(p, rate, &p->insert_self)) {
      snprintf(err, err_size, "the insert failed to start: %s", p->insert_name);
      ist = RTL_FAILURE;
    } else {
      p->insert_ready = true;
      p->insert_rate  = rate;
    }
  }
  pthread_mutex_unlock(&p->engine_lock);
  return ist;
}

/// Free what the RT thread let go of, and a state it never took.
static void
collect_insert(RtlProcess* const p, const bool all)
{
  void* const old =
    atomic_exchange_explicit(&p->insert_retired, NULL, memory_order_acq_rel);
  if (old) {
    rtl_processor_release(p->insert, old);
  }
  if (all) {
    void* const next =
      atomic_exchange_explicit(&p->insert_next, NULL, memory_order_acq_rel);
    if (next) {
      rtl_processor_release(p->insert, next);
    }
  }
}

void
rtl_process_follow_insert_rate(RtlProcess* const p, const uint32_t rate)
{
  if (p->wa || !p->insert || !p->insert->init) {
    return; // Write-ahead: the worker follows by itself
  }
  // The lock keeps a start or stop of the client (main thread) out.
  pthread_mutex_lock(&p->engine_lock);
  if (p->insert_ready) {
    collect_insert(p, false);
  }
  if (!p->insert_ready || !rate || rate == p->insert_rate ||
      atomic_load_explicit(&p->insert_next, memory_order_acquire) ||
      atomic_load_explicit(&p->insert_retired, memory_order_acquire)) {
    // Not running, nothing new, or the last swap is not done (next round)
    pthread_mutex_unlock(&p->engine_lock);
    return;
  }
  void* self     = NULL;
  p->insert_rate = rate;
  if (start_insert(p, rate, &self)) {
    rtl_log("the insert failed to start again at %u Hz: it runs on at its "
            "old rate",
            rate);
  } else {
    atomic_store_explicit(&p->insert_next, self, memory_order_release);
  }
  pthread_mutex_unlock(&p->engine_lock);
}

void
rtl_process_release(RtlProcess* const p)
{
  if (p->wa) {
    pthread_mutex_lock(&p->engine_lock);
    if (p->engine) {
      rtl_engine_stop(p->engine);
    }
    pthread_mutex_unlock(&p->engine_lock);
  } else {
    pthread_mutex_lock(&p->engine_lock);
    if (p->insert_ready) {
      collect_insert(p, true);
      rtl_processor_release(p->insert, p->insert_self);
      p->insert_self  = NULL;
      p->insert_ready = false;
    }
    pthread_mutex_unlock(&p->engine_lock);
  }
}

static uint32_t
float_bits(const float f)
{
  uint32_t bits = 0U;
  memcpy(&bits, &f, sizeof(bits));
  return bits;
}

static RTL_REALTIME float
bits_float(const uint32_t bits)
{
  float f = 0.0f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

void
rtl_process_set_sample_rate(RtlProcess* const p, const uint32_t sample_rate)
{
  rtl_mixer_set_sample_rate(p->mixer, sample_rate);
  if (p->worker) {
    rtl_worker_set_rate(p->worker, sample_rate);
  }
  // The library computes the ballistics for this rate; the RT thread takes
  // the coefficients (a period of a mix of two rates' values is harmless).
  RtlMeter proto;
  rtl_meter_init(
    &proto, (double)sample_rate, RTL_METER_FALL_DB_S, RTL_METER_RMS_MS);
  atomic_store_explicit(
    &p->meter_fall_bits, float_bits(proto.peak_fall), memory_order_relaxed);
  atomic_store_explicit(
    &p->meter_coef_bits, float_bits(proto.rms_coef), memory_order_relaxed);
  atomic_store_explicit(&p->meter_interval,
                        sample_rate * RTL_METER_INTERVAL_MS / 1000U,
                        memory_order_relaxed);
}

uint32_t
rtl_process_epoch(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->epoch, memory_order_acquire);
}

uint64_t
rtl_process_adopted_seq(const RtlProcess* const p)
{
  return rtl_mixer_adopted_seq(p->mixer);
}

uint64_t
rtl_process_frames(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->frames, memory_order_relaxed);
}

uint64_t
rtl_process_meter_drops(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->meter_drops, memory_order_relaxed);
}

uint64_t
rtl_process_skipped(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->skipped, memory_order_relaxed);
}

void
rtl_process_expect_jump(RtlProcess* const p)
{
  atomic_store_explicit(&p->jump_ok, true, memory_order_relaxed);
}

uint64_t
rtl_process_late_events(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->late_events, memory_order_relaxed);
}

bool
rtl_process_write_ahead(const RtlProcess* const p)
{
  return p->wa;
}

RTL_REALTIME uint32_t
rtl_process_latency(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->latency_frames, memory_order_acquire);
}

double
rtl_process_latency_ms(const RtlProcess* const p)
{
  const uint64_t bits =
    atomic_load_explicit(&p->latency_ms_bits, memory_order_relaxed);
  double ms = 0.0;
  memcpy(&ms, &bits, sizeof(ms));
  return ms;
}

RtlStatus
rtl_process_set_latency_ms(RtlProcess* const  p,
                           const double       ms,
                           const uint32_t     rate,
                           const char** const reason)
{
  if (!p->wa) {
    *reason = "write-ahead is off (start with -l)";
    return RTL_BAD_STATE;
  }
  if (!(ms > 0.0) || ms > p->max_ms + 1e-9) {
    *reason = ms > 0.0 && ms <= (double)RTL_LATENCY_MAX_MS
                ? "beyond the write-ahead capacity set at start "
                  "(at most twice -l, or " RTL_STR(RTL_LATENCY_ROOM_MS) " ms)"
                : "out of range (" RTL_LATENCY_RANGE ")";
    return RTL_BAD_ARG;
  }
  pthread_mutex_lock(&p->engine_lock);
  RtlStatus st = RTL_SUCCESS;
  if (p->engine && rate) {
    const uint32_t frames = ms_to_frames(ms, rate);
    st                    = rtl_engine_set_latency(p->engine, frames);
    if (!st) {
      store_latency(p, frames, ms);
    }
  }
  if (!st) {
    p->wa_ms = ms;
  }
  pthread_mutex_unlock(&p->engine_lock);
  if (st) {
    *reason = "beyond the write-ahead capacity";
  }
  return st;
}

bool
rtl_process_follow_latency(RtlProcess* const p, const uint32_t rate)
{
  if (!p->wa || !rate) {
    return false;
  }
  bool changed = false;
  pthread_mutex_lock(&p->engine_lock);
  if (p->engine) {
    RtlEngineConfig cfg;
    rtl_engine_config(p->engine, &cfg);
    // The worker's wake-ups keep their length in time (L / 8)
    (void)rtl_engine_set_sample_rate(p->engine, (double)rate);
    uint32_t frames = ms_to_frames(p->wa_ms, rate);
    frames          = frames < cfg.high_water ? frames : cfg.high_water;
    if (frames != rtl_engine_latency(p->engine) &&
        rtl_engine_set_latency(p->engine, frames) == RTL_SUCCESS) {
      store_latency(p, frames, p->wa_ms);
      changed = true;
    }
  }
  pthread_mutex_unlock(&p->engine_lock);
  return changed;
}

bool
rtl_process_engine_stats(RtlProcess* const p, RtlEngineStats* const stats)
{
  if (!p->wa) {
    return false;
  }
  pthread_mutex_lock(&p->engine_lock);
  if (p->engine) {
    rtl_engine_stats(p->engine, stats);
  } else {
    memset(stats, 0, sizeof(*stats));
  }
  pthread_mutex_unlock(&p->engine_lock);
  return true;
}

void
rtl_process_attach(RtlProcess* const     p,
                   jack_client_t* const  client,
                   const RtlPorts* const ports)
{
  p->client = client;
  p->ports  = *ports;
  atomic_fetch_add_explicit(&p->epoch, 1U, memory_order_acq_rel);

  // Start from the defaults; the control thread republishes the current
  // values, and serials of zero make the RT thread adopt every one of them.
  // In write-ahead mode the worker reset the mixer when it started.
  if (!p->wa) {
    rtl_mixer_reset(p->mixer);
  }
  p->seq       = 0U;
  p->pos       = 0U;
  p->n_pending = 0U;
  memset(p->serials, 0, p->table->n_params * sizeof(uint32_t));
  memset(p->ccmap, 0, sizeof(p->ccmap));
  p->meter_frames = 0U;
  for (unsigned m = 0U; m < p->n_meters; ++m) {
    rtl_meter_reset(&p->meters[m]);
  }
  atomic_store_explicit(&p->started, false, memory_order_release);
}

uint64_t
rtl_process_frame64(const RtlProcess* const p, const jack_nframes_t frame)
{
  if (!atomic_load_explicit(&p->started, memory_order_acquire)) {
    return frame;
  }
  const uint64_t base =
    atomic_load_explicit(&p->period_frame, memory_order_relaxed);
  const int32_t diff = (int32_t)(frame - (uint32_t)base);
  return (uint64_t)((int64_t)base + diff);
}

// --- the process callback ----------------------------------------------------

/// Hand a cue to the mixer: into this period's list, or to the worker.
static RTL_REALTIME void
put_cue(RtlProcess* const p, RtlCue cue)
{
  if (p->wa) {
    cue.pos += p->pos;
    // Callers made sure of the room.
    (void)rtl_comm_send_cue(p->cues, &cue);
  } else if (p->n_cues < p->cue_cap) {
    p->cue_buf[p->n_cues++] = cue;
  }
}

/**
   True if `n` more cues fit this period (direct mode: the list has room
   for everything a period can bring).  The ring answers from its cached
   view of the worker's position, so a period with room costs no load of
   the other side's index.
*/
static RTL_REALTIME bool
cue_room(RtlProcess* const p, const size_t n)
{
  return p->wa ? rtl_msgring_has_room(p->cues, n) : n <= p->cue_cap - p->n_cues;
}

/**
   Adopt a new snapshot: a cue for every slot and CC mapping that changed.
   In write-ahead mode, if the ring lacks room for all of them and the
   closing SEQ cue, the snapshot waits for the next period whole.  Returns
   true if a new sequence was adopted.
*/
static RTL_REALTIME bool
adopt_snapshot(RtlProcess* const p)
{
  bool                          adopted = false;
  const RtlStateSnapshot* const s =
    (const RtlStateSnapshot*)rtl_snapshot_read_begin(p->snapshot);
  if (s && s->seq != p->seq) {
    const uint32_t n =
      s->n_params < p->table->n_params ? s->n_params : p->table->n_params;
    size_t changes = 1U;
    for (uint32_t i = 0U; i < n; ++i) {
      changes += s->slots[i].serial != p->serials[i];
    }
    for (unsigned cc = 0U; cc < RTL_MIDI_CCS; ++cc) {
      changes += s->ccmap[cc] != p->ccmap[cc];
    }
    if (cue_room(p, changes)) {
      for (uint32_t i = 0U; i < n; ++i) {
        const RtlSlot* const slot = &s->slots[i];
        if (slot->serial != p->serials[i]) {
          p->serials[i] = slot->serial;
          put_cue(p,
                  (RtlCue){.kind   = RTL_CUE_SLOT,
                           .param  = i,
                           .value  = slot->value,
                           .serial = slot->serial,
                           .flags  = slot->flags});
        }
      }
      for (unsigned cc = 0U; cc < RTL_MIDI_CCS; ++cc) {
        if (s->ccmap[cc] != p->ccmap[cc]) {
          p->ccmap[cc] = s->ccmap[cc];
          put_cue(
            p,
            (RtlCue){.kind = RTL_CUE_CCMAP, .param = cc, .op = s->ccmap[cc]});
        }
      }
      p->seq  = s->seq;
      adopted = true;
    }
  }
  rtl_snapshot_read_end(p->snapshot);
  return adopted;
}

/// Move events from the ring into the sorted pending list, while there is room.
static RTL_REALTIME void
drain_events(RtlProcess* const p)
{
  RtlEvent       ev;
  const uint32_t epoch = atomic_load_explicit(&p->epoch, memory_order_relaxed);
  while (p->n_pending < RTL_RT_PENDING &&
         !rtl_comm_recv_event(p->events, &ev)) {
    if (ev.epoch != epoch) {
      continue;
    }
    if (ev.type != RTL_EV_RECORD) {
      rtl_events_insert(p->pending, &p->n_pending, &ev);
    } else if (p->n_record_events < RTL_RECORD_EVENTS &&
               ev.param < RTL_N_TAKES) {
      // The control thread never has more than two per kind out
      p->record_events[p->n_record_events++] = ev;
    }
  }
}

/**
   Pass on the pending events that fall in this period, as cues at their
   offsets.  An event for output frame F falls at input frame F - L (L is 0
   in direct mode).  `reserve` cues of room are kept for the caller.
   Returns the offset of the last one passed on.
*/
static RTL_REALTIME uint64_t
pass_events(RtlProcess* const p,
            const uint64_t    first,
            const uint32_t    nframes,
            const uint32_t    latency,
            const size_t      reserve)
{
  uint64_t last = 0U;
  unsigned done = 0U;
  while (done < p->n_pending && cue_room(p, reserve + 1U)) {
    const RtlEvent* const ev  = &p->pending[done];
    const uint64_t        due = ev->frame > latency ? ev->frame - latency : 0U;
    if (due >= first + nframes) {
      break;
    }
    if (ev->frame && due < first) {
      rtl_counter_add(&p->late_events, 1U);
    }
    const uint64_t off = due > first ? due - first : 0U;
    if (ev->type == RTL_EV_PARAM) {
      put_cue(p,
              (RtlCue){.pos   = off,
                       .kind  = RTL_CUE_PARAM,
                       .param = ev->param,
                       .value = ev->value});
    } else {
      put_cue(p, (RtlCue){.pos = off, .kind = RTL_CUE_TRANSPORT, .op = ev->op});
    }
    last = off;
    ++done;
  }
  rtl_events_drop_front(p->pending, &p->n_pending, done);
  return last;
}

/**
   Mark where takes start and stop in their rings: at their output frame
   in this period (the rings hold this period's frames next), at its start
   if the frame has passed or was not given.  Marks stay in arrival order.
*/
static RTL_REALTIME void
mark_takes(RtlProcess* const p, const uint64_t first, const uint32_t nframes)
{
  unsigned kept = 0U;
  for (unsigned i = 0U; i < p->n_record_events; ++i) {
    const RtlEvent* const ev = &p->record_events[i];
    if (ev->frame >= first + nframes) {
      p->record_events[kept++] = *ev;
      continue;
    }
    const uint64_t      off = ev->frame > first ? ev->frame - first : 0U;
    RtlTakeMarks* const m   = &p->marks[ev->param];
    const uint64_t      pos = rtl_broadcast_position(p->taps[ev->param]) + off;
    if (ev->value == 0.0f) {
      atomic_store_explicit(&m->start_pos, pos, memory_order_relaxed);
      atomic_store_explicit(&m->start_frame, first + off, memory_order_relaxed);
      atomic_store_explicit(&m->start_id, ev->op, memory_order_release);
    } else {
      atomic_store_explicit(&m->stop_pos, pos, memory_order_relaxed);
      atomic_store_explicit(&m->stop_id, ev->op, memory_order_release);
    }
  }
  p->n_record_events = kept;
}

static RTL_REALTIME void
meter(RtlProcess* const  p,
      const float* const out_l,
      const float* const out_r,
      const uint32_t     nframes,
      const uint64_t     frame_end)
{
  const unsigned n = p->n_meters;
  const float    fall =
    bits_float(atomic_load_explicit(&p->meter_fall_bits, memory_order_relaxed));
  const float coef =
    bits_float(atomic_load_explicit(&p->meter_coef_bits, memory_order_relaxed));
  for (unsigned m = 0U; m < n; ++m) {
    const float* const buf = m < p->n_inputs    ? p->in_buf[m]
                             : m == p->n_inputs ? out_l
                                                : out_r;
    p->meters[m].peak_fall = fall;
    p->meters[m].rms_coef  = coef;
    rtl_meter_process(&p->meters[m], buf, nframes);
  }
  p->meter_frames += nframes;
  if (p->meter_frames <
      atomic_load_explicit(&p->meter_interval, memory_order_relaxed)) {
    return;
  }

  RtlMeterMsg* const msg = &p->meter_msg;
  msg->frame             = frame_end;
  msg->n                 = n;
  msg->frames            = p->meter_frames;
  for (unsigned m = 0U; m < n; ++m) {
    msg->v[m]     = rtl_meter_peak_db(&p->meters[m]);
    msg->v[n + m] = rtl_meter_rms_db(&p->meters[m]);
  }
  p->meter_frames = 0U;
  if (rtl_comm_send_meters(p->meters_out, msg)) {
    rtl_counter_add(&p->meter_drops, 1U);
  }
}

/// midi_in's events as RtlMidiEvents (true size, at most RTL_MIDI_EVENT_MAX
/// bytes copied: the engine drops and counts longer ones).
static RTL_REALTIME uint32_t
read_midi(RtlProcess* const p, void* const buf)
{
  const uint32_t n = jack_midi_get_event_count(buf);
  uint32_t       k = 0U;
  for (uint32_t i = 0U; i < n; ++i) {
    jack_midi_event_t ev;
    if (jack_midi_event_get(&ev, buf, i)) {
      continue;
    }
    if (k == RTL_MIDI_MAX) {
      rtl_counter_add(&p->midi_drops, 1U);
      continue;
    }
    RtlMidiEvent* const dst = &p->midi_in[k++];
    const size_t        len =
      ev.size < RTL_MIDI_EVENT_MAX ? ev.size : RTL_MIDI_EVENT_MAX;
    memset(dst->data, 0, sizeof(dst->data));
    memcpy(dst->data, ev.buffer, len);
    dst->frame = ev.time;
    dst->size  = ev.size > UINT32_MAX ? UINT32_MAX : (uint32_t)ev.size;
  }
  return k;
}

static RTL_REALTIME void
midi_through(const RtlPorts* const ports, const jack_nframes_t nframes)
{
  void* const in  = jack_port_get_buffer(ports->midi_in, nframes);
  void* const out = jack_port_get_buffer(ports->midi_out, nframes);
  jack_midi_clear_buffer(out);
  const uint32_t n = jack_midi_get_event_count(in);
  for (uint32_t i = 0U; i < n; ++i) {
    jack_midi_event_t ev;
    if (!jack_midi_event_get(&ev, in, i)) {
      (void)jack_midi_event_write(out, ev.time, ev.buffer, ev.size);
    }
  }
}

/// The direct-mode insert, after the mixer, in pieces of RTL_BLOCK frames.
static RTL_REALTIME void
run_insert(RtlProcess* const p,
           float* const      out_l,
           float* const      out_r,
           const uint32_t    nframes,
           const uint32_t    n_midi)
{
  uint32_t mi = 0U;
  for (uint32_t off = 0U; off < nframes; off += RTL_BLOCK) {
    const uint32_t k = nframes - off < RTL_BLOCK ? nframes - off : RTL_BLOCK;
    float* const   in[2]  = {p->ins_buf, p->ins_buf + RTL_BLOCK};
    float* const   out[2] = {out_l + off, out_r + off};
    memcpy(in[0], out[0], k * sizeof(float));
    memcpy(in[1], out[1], k * sizeof(float));
    uint32_t ne = 0U;
    while (mi < n_midi && p->midi_in[mi].frame < off + k) {
      p->ins_events[ne] = p->midi_in[mi++];
      p->ins_events[ne].frame =
        p->ins_events[ne].frame > off ? p->ins_events[ne].frame - off : 0U;
      ++ne;
    }
    p->insert->process(
      p->insert_self, (const float* const*)in, out, p->ins_events, ne, k);
  }
}

RTL_REALTIME int
rtl_process_run(const jack_nframes_t nframes, void* const arg)
{
  RtlProcess* const p = (RtlProcess*)arg;

  const jack_nframes_t first32 = jack_last_frame_time(p->client);
  if (atomic_load_explicit(&p->started, memory_order_relaxed)) {
    p->first64 += (uint32_t)(first32 - (uint32_t)p->first64);
    // A period that does not start where the last one ended is one the
    // graph ran without us (JACK2 reports those as xruns itself; PipeWire's
    // dummy driver does not), except right after a new period size or
    // rate, when PipeWire's JACK layer skips a cycle of its own.
    if (atomic_load_explicit(&p->jump_ok, memory_order_relaxed)) {
      atomic_store_explicit(&p->jump_ok, false, memory_order_relaxed);
    } else if (first32 != p->next32) {
      rtl_counter_add(&p->skipped, 1U);
    }
  } else {
    p->first64 = first32;
  }
  p->next32 = first32 + nframes;
  atomic_store_explicit(&p->period_frame, p->first64, memory_order_relaxed);
  atomic_store_explicit(&p->started, true, memory_order_release);
  const uint64_t first = p->first64;

  // Snapshot first, then the ring: the control thread sends events before
  // it publishes, so having seen a snapshot means its events are visible.
  // The SEQ cue goes last, so that a mixer that has run it has run every
  // change of that snapshot and every event sent before it.
  p->n_cues        = 0U;
  const bool fresh = adopt_snapshot(p);
  drain_events(p);
  const uint64_t last =
    pass_events(p, first, nframes, rtl_process_latency(p), fresh ? 1U : 0U);
  if (fresh) {
    put_cue(p, (RtlCue){.pos = last, .kind = RTL_CUE_SEQ, .seq = p->seq});
  }

  for (unsigned c = 0U; c < p->n_inputs; ++c) {
    p->in_buf[c] = (const float*)jack_port_get_buffer(p->ports.in[c], nframes);
  }
  float* const   out_l  = (float*)jack_port_get_buffer(p->ports.out_l, nframes);
  float* const   out_r  = (float*)jack_port_get_buffer(p->ports.out_r, nframes);
  float* const   click  = (float*)jack_port_get_buffer(p->ports.click, nframes);
  void* const    mi     = jack_port_get_buffer(p->ports.midi_in, nframes);
  const uint32_t n_midi = read_midi(p, mi);

  if (p->wa) {
    float* const outs[3] = {out_l, out_r, click};
    uint32_t     n_out   = 0U;
    rtl_engine_process(p->engine,
                       p->in_buf,
                       outs,
                       p->midi_in,
                       n_midi,
                       p->midi_out,
                       RTL_MIDI_MAX,
                       &n_out,
                       nframes);
    void* const mo = jack_port_get_buffer(p->ports.midi_out, nframes);
    jack_midi_clear_buffer(mo);
    for (uint32_t i = 0U; i < n_out; ++i) {
      const RtlMidiEvent* const ev = &p->midi_out[i];
      (void)jack_midi_event_write(mo, ev->frame, ev->data, ev->size);
    }
  } else {
    rtl_mixer_run(p->mixer,
                  p->in_buf,
                  out_l,
                  out_r,
                  click,
                  nframes,
                  p->cue_buf,
                  p->n_cues,
                  p->midi_in,
                  n_midi);
    if (p->insert_ready) {
      if (atomic_load_explicit(&p->insert_next, memory_order_relaxed)) {
        // Made for the graph's new rate
        void* const next =
          atomic_exchange_explicit(&p->insert_next, NULL, memory_order_acq_rel);
        atomic_store_explicit(
          &p->insert_retired, p->insert_self, memory_order_release);
        p->insert_self = next;
      }
      run_insert(p, out_l, out_r, nframes, n_midi);
    }
    midi_through(&p->ports, nframes);
  }

  meter(p, out_l, out_r, nframes, first + nframes);
  // What was played, and the inputs as the mixer saw them, for the takes
  mark_takes(p, first, nframes);
  const float* const mix[2] = {out_l, out_r};
  rtl_broadcast_write_planar(p->taps[RTL_TAKE_MIX], mix, nframes);
  rtl_broadcast_write_planar(p->taps[RTL_TAKE_INPUTS], p->in_buf, nframes);
  p->pos += nframes;
  rtl_counter_add(&p->frames, nframes);
  return 0;
}
