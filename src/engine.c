// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "common.h"
#include "smallcopy.h"

#include <rtlane/allocator.h>
#include <rtlane/engine.h>
#include <rtlane/msgring.h>
#include <rtlane/processor.h>
#include <rtlane/ring.h>
#include <rtlane/status.h>
#include <rtlane/writeahead.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/*
  Three timelines, all counted in frames:

  - the audio thread's own position `rt_pos`, which runs from creation on
    and never restarts;
  - a run's input positions, from 0 at the audio thread's first period of a
    run (`rt_pos - base`): period headers, the worker's MIDI and the worker's
    position `w_pos` use these;
  - the write-ahead buffer's positions, where input frame k lands at k + L.
    The audio thread reads position k at its run position k, so input frame
    k plays at run position k + L.

  The audio thread sends, every period: the MIDI events (absolute run
  positions) into `midi_ring`, then the audio into one byte ring per
  channel, then a header {position, frames} into `headers`.  All or none of
  a period's audio is sent, so the channel rings stay in step; a period
  that does not fit is dropped, and the next header's position tells the
  worker how much silence to process in its place.  The MIDI of a period is
  in its ring before the header, so once the worker has a header it has
  every event up to that header's end.

  MIDI out does not go through the worker: the audio thread keeps its own
  delay queue and plays each event at input position + L.  When the worker
  changes L it tells the audio thread at which input frame the change took
  effect (`splices`), and the audio thread moves the queued events that
  are affected.

  Start and restart.  The worker and its buffers are reset while the audio
  thread may be running, so the two agree with a handshake in which the
  audio thread never waits: it stores `rt_busy` = 1 and then loads `state`,
  and the control thread stores `state` = RESETTING and then loads
  `rt_busy` until it reads 0.  Both pairs are seq_cst: a store followed by a
  load of another variable is the one pattern acquire/release cannot order
  (Dekker's), and with a single total order either the audio thread sees
  RESETTING and keeps its hands off, or the control thread sees it busy and
  waits for its release store of `rt_busy` = 0.  That costs the audio
  thread one locked instruction per period.
*/

enum {
  STATE_STOPPED,   // Worker gone or going.  Audio thread drains the buffer.
  STATE_RESETTING, // Control thread resets the buffers.  Audio: hands off.
  STATE_STARTING,  // Worker running init().  Audio: silence.
  STATE_RUNNING,
};

enum {
  PHASE_IDLE,     // No latency change under way
  PHASE_FADE_OUT, // Fading out before the splice
  PHASE_FADE_IN,  // Spliced; passing trimmed frames, then fading in
};

// Bounds that keep every size computation far from overflow.
#define RTL_ENGINE_MAX_CHANNELS 1024U
#define RTL_ENGINE_MAX_BLOCK (1U << 16U)
#define RTL_ENGINE_MAX_CAPACITY (1U << 24U)
#define RTL_ENGINE_MAX_MIDI (1U << 16U)
#define RTL_ENGINE_DEFAULT_MIDI 512U
#define RTL_ENGINE_MIN_HEADERS 64U
#define RTL_ENGINE_MAX_HEADERS (1U << 16U)
#define RTL_ENGINE_SPLICE_SLOTS 16U

/// Longest sleep of an idle worker, and the shortest of a busy one.
#define RTL_ENGINE_IDLE_NS 100000000L
#define RTL_ENGINE_MIN_SLEEP_NS 100000L

/// A period as the worker learns of it.
typedef struct {
  uint64_t pos;      ///< Run position of its first frame
  uint64_t n_frames; ///< Frames
} Header;

/// A MIDI event on its way to the worker: exactly 32 bytes, so the ring's
/// free space is always a whole number of records.
typedef struct {
  uint64_t pos; ///< Run position
  uint32_t size;
  uint8_t  data[RTL_MIDI_EVENT_MAX];
  uint32_t pad;
} MidiRecord;

_Static_assert(sizeof(MidiRecord) == 32U, "MIDI records tile the ring");

/// A MIDI event in the audio thread's delay queue.
typedef struct {
  uint64_t pos; ///< Absolute input position (audio thread timeline)
  uint64_t due; ///< Absolute output position
  uint32_t size;
  uint8_t  data[RTL_MIDI_EVENT_MAX];
} Delayed;

/// A latency change: input frame `k0` (run position) and later get `to`.
typedef struct {
  uint64_t k0;
  uint32_t from;
  uint32_t to;
} Splice;

struct RtlEngineImpl {
  // Set in rtl_engine_new, read-only afterwards
  RtlAllocator*       allocator;
  const RtlProcessor* processor;
  RtlEngineConfig     config;
  size_t              ring_frames; // Per input channel
  RtlRing**           in_rings;
  RtlMsgRing*         headers;
  RtlRing*            midi_ring;
  RtlMsgRing*         splices;
  RtlWriteAhead*      wa;
  float*              scratch; // (n_inputs + n_outputs) * max_block
  size_t              scratch_size;
  float**             planes; // in, out, worker write, RT read
  float**             in_planes;
  float**             out_planes;
  float**             wa_planes;
  float**             rt_planes;
  RtlMidiEvent*       events; // Worker's block of MIDI
  Delayed*            delay;  // Audio thread's MIDI delay queue
  uint32_t            midi_mask;
  sem_t               wake;
  sem_t               started;
  bool                wake_ok;
  bool                started_ok;

  // Control thread
  pthread_t thread;
  bool      running;
  bool      init_failed;   // Written by the worker before `started`
  void*     self;          // Processor state, worker's
  uint64_t  epoch;         // Runs started; read by the audio thread
  uint32_t  start_latency; // L of the current run; read by the audio thread

  // Shared flags
  alignas(RTL_CACHE_LINE) _Atomic int state;
  _Atomic int rt_busy;
  alignas(RTL_CACHE_LINE) _Atomic uint32_t latency_target;
  _Atomic uint64_t rate_bits; // The graph's rate, a double's bits
  _Atomic bool     quit;
  bool             wake_follows; // wake_frames was 0: L / 8, whatever L is
  // Counters carried over from the buffer's earlier runs (it resets its own)
  _Atomic uint64_t carry_underruns;
  _Atomic uint64_t carry_underrun_frames;
  _Atomic uint64_t carry_overruns;
  _Atomic uint64_t carry_dropped;
  _Atomic uint64_t carry_adjustments;

  // Audio thread
  alignas(RTL_CACHE_LINE) uint64_t rt_pos;
  uint64_t         base;       // rt_pos at the run's first period
  uint64_t         rt_epoch;   // Run the audio thread has joined
  uint64_t         floor;      // No MIDI due before this (absolute)
  uint64_t         last_due;   // Due position of the last event queued
  uint32_t         rt_latency; // L that MIDI entering the queue gets
  uint32_t         dq_head;    // Delay queue: events ever emitted
  uint32_t         dq_tail;    // Delay queue: events ever queued
  _Atomic uint64_t input_dropped_frames;
  _Atomic uint64_t input_dropped_periods;
  _Atomic uint64_t midi_dropped_rt;
  _Atomic uint64_t midi_out_dropped;
  // Underruns of a stopped engine, which plays silence by design: the
  // buffer counts them, the engine's stats take them back out
  _Atomic uint64_t idle_underruns;
  _Atomic uint64_t idle_underrun_frames;

  // The worker's progress, for the audio thread's wake-up decision
  alignas(RTL_CACHE_LINE) _Atomic uint64_t worker_pos;
  _Atomic bool     worker_idle; // Sleeping longer than its wake interval
  _Atomic uint64_t posts;       // Times the audio thread woke the worker

  // Worker thread
  alignas(RTL_CACHE_LINE) uint64_t w_pos; // Next run position to process
  uint64_t         seg_end;               // Frames in the rings up to here
  Header           held;                  // Header received but not yet used
  bool             have_held;
  MidiRecord       midi; // MIDI record received but not yet due
  bool             have_midi;
  uint32_t         applied; // L in the buffer now
  uint32_t         phase;
  uint32_t         fade_pos;
  uint32_t         splice_to;
  uint64_t         trim_left;
  _Atomic uint64_t frames_processed;
  _Atomic uint64_t chunks;
  _Atomic uint64_t wakeups;
  _Atomic uint64_t ns_total;
  _Atomic uint64_t ns_max;
  _Atomic uint64_t midi_dropped_worker;
};

static inline uint64_t
load_relaxed(const _Atomic uint64_t* const counter)
{
  return atomic_load_explicit(counter, memory_order_relaxed);
}

static inline uint64_t
max_u64(const uint64_t a, const uint64_t b)
{
  return a > b ? a : b;
}

static inline uint64_t
min_u64(const uint64_t a, const uint64_t b)
{
  return a < b ? a : b;
}

static size_t
next_pow2(const size_t n)
{
  size_t p = 1U;
  while (p < n) {
    p <<= 1U;
  }
  return p;
}

// --- configuration ----------------------------------------------------------

/// A double's bits, for an atomic that C11 does not promise lock-free as
/// a double.
static uint64_t
double_bits(const double d)
{
  uint64_t u = 0U;
  memcpy(&u, &d, sizeof(u));
  return u;
}

static double
bits_double(const uint64_t u)
{
  double d = 0.0;
  memcpy(&d, &u, sizeof(d));
  return d;
}

/// The default wake_frames for L: L / 8, at least 1.
static uint32_t
default_wake_frames(const uint32_t latency)
{
  return latency / 8U ? latency / 8U : 1U;
}

/// Fill in the "choose" fields of `config` and check every field.
static RtlStatus
resolve_config(RtlEngineConfig* const config)
{
  if (!config->n_outputs || config->n_outputs > RTL_ENGINE_MAX_CHANNELS ||
      config->n_inputs > RTL_ENGINE_MAX_CHANNELS) {
    return RTL_BAD_ARG;
  }
  if (!(config->sample_rate > 0.0) || !isfinite(config->sample_rate)) {
    return RTL_BAD_ARG;
  }
  if (!config->max_block || config->max_block > RTL_ENGINE_MAX_BLOCK) {
    return RTL_BAD_ARG;
  }
  if (!config->latency || config->latency >= RTL_ENGINE_MAX_CAPACITY / 2U) {
    return RTL_BAD_ARG;
  }

  const uint64_t latency = config->latency;
  const uint64_t block   = config->max_block;
  if (!config->high_water) {
    config->high_water = (uint32_t)max_u64(2U * latency, latency + block);
  } else if (config->high_water < latency) {
    return RTL_BAD_ARG;
  }

  const uint64_t need = (uint64_t)config->high_water + block;
  if (!config->capacity) {
    if (need > RTL_ENGINE_MAX_CAPACITY) {
      return RTL_TOO_BIG;
    }
    config->capacity = (uint32_t)next_pow2((size_t)need);
  } else if (!rtl_is_pow2(config->capacity)) {
    return RTL_NOT_POW2;
  } else if (config->capacity < need) {
    return RTL_BAD_ARG;
  }
  if (config->capacity > RTL_ENGINE_MAX_CAPACITY) {
    return RTL_TOO_BIG;
  }

  if (!config->wake_frames) {
    config->wake_frames = default_wake_frames(config->latency);
  } else if (config->wake_frames > config->latency) {
    return RTL_BAD_ARG;
  }

  if (!config->midi_capacity) {
    config->midi_capacity = RTL_ENGINE_DEFAULT_MIDI;
  } else if (config->midi_capacity > RTL_ENGINE_MAX_MIDI) {
    return RTL_BAD_ARG;
  }
  config->midi_capacity = (uint32_t)next_pow2(config->midi_capacity);
  return RTL_SUCCESS;
}

// --- construction -----------------------------------------------------------

static void
destroy(RtlEngine* const e)
{
  RtlAllocator* const allocator = e->allocator;
  if (e->in_rings) {
    for (uint32_t c = 0U; c < e->config.n_inputs; ++c) {
      rtl_ring_free(e->in_rings[c]);
    }
    rtl_free(allocator, e->in_rings);
  }
  rtl_msgring_free(e->headers);
  rtl_ring_free(e->midi_ring);
  rtl_msgring_free(e->splices);
  rtl_writeahead_free(e->wa);
  rtl_aligned_free(allocator, e->scratch);
  rtl_free(allocator, e->planes);
  rtl_free(allocator, e->events);
  rtl_free(allocator, e->delay);
  if (e->wake_ok) {
    sem_destroy(&e->wake);
  }
  if (e->started_ok) {
    sem_destroy(&e->started);
  }
  rtl_aligned_free(allocator, e);
}

static RtlStatus
allocate(RtlEngine* const e)
{
  RtlAllocator* const    allocator = e->allocator;
  const RtlEngineConfig* cfg       = &e->config;
  const size_t           n_in      = cfg->n_inputs;
  const size_t           n_out     = cfg->n_outputs;
  const size_t           midi      = cfg->midi_capacity;
  RtlStatus              st        = RTL_SUCCESS;

  // Input rings hold twice the buffer: a stall that long is absorbed.
  e->ring_frames = 2U * (size_t)cfg->capacity;
  if (n_in) {
    e->in_rings = (RtlRing**)rtl_calloc(allocator, n_in, sizeof(RtlRing*));
    if (!e->in_rings) {
      return RTL_NO_MEM;
    }
    for (size_t c = 0U; c < n_in; ++c) {
      if ((st = rtl_ring_new(
             allocator, e->ring_frames * sizeof(float), &e->in_rings[c]))) {
        return st;
      }
    }
  }

  // One header per period: enough for periods of 16 frames and up before
  // the headers rather than the audio run out of room.
  size_t n_headers = e->ring_frames / 16U;
  n_headers        = n_headers < RTL_ENGINE_MIN_HEADERS ? RTL_ENGINE_MIN_HEADERS
                     : n_headers > RTL_ENGINE_MAX_HEADERS ? RTL_ENGINE_MAX_HEADERS
                                                          : n_headers;
  if ((st =
         rtl_msgring_new(allocator, n_headers, sizeof(Header), &e->headers)) ||
      (st =
         rtl_ring_new(allocator, midi * sizeof(MidiRecord), &e->midi_ring)) ||
      (st = rtl_msgring_new(
         allocator, RTL_ENGINE_SPLICE_SLOTS, sizeof(Splice), &e->splices)) ||
      (st = rtl_writeahead_new(
         allocator, (unsigned)n_out, cfg->capacity, cfg->latency, &e->wa))) {
    return st;
  }

  e->scratch_size = (n_in + n_out) * cfg->max_block * sizeof(float);
  e->scratch =
    (float*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, e->scratch_size);
  e->planes =
    (float**)rtl_calloc(allocator, n_in + 3U * n_out + 1U, sizeof(float*));
  e->events = (RtlMidiEvent*)rtl_calloc(allocator, midi, sizeof(RtlMidiEvent));
  e->delay  = (Delayed*)rtl_calloc(allocator, midi, sizeof(Delayed));
  if (!e->scratch || !e->planes || !e->events || !e->delay) {
    return RTL_NO_MEM;
  }
  memset(e->scratch, 0, e->scratch_size);

  // The pointer arrays are one allocation; const views share the storage.
  e->in_planes  = e->planes;
  e->out_planes = e->planes + n_in;
  e->wa_planes  = e->planes + n_in + n_out;
  e->rt_planes  = e->planes + n_in + 2U * n_out;
  for (size_t c = 0U; c < n_in; ++c) {
    e->in_planes[c] = e->scratch + c * cfg->max_block;
  }
  for (size_t c = 0U; c < n_out; ++c) {
    e->out_planes[c] = e->scratch + (n_in + c) * cfg->max_block;
  }

  if (sem_init(&e->wake, 0, 0U)) {
    return RTL_SYSTEM_ERROR;
  }
  e->wake_ok = true;
  if (sem_init(&e->started, 0, 0U)) {
    return RTL_SYSTEM_ERROR;
  }
  e->started_ok = true;
  return RTL_SUCCESS;
}

RtlStatus
rtl_engine_new(RtlAllocator* const          allocator,
               const RtlEngineConfig* const config,
               const RtlProcessor* const    processor,
               RtlEngine** const            engine)
{
  if (!engine) {
    return RTL_BAD_ARG;
  }
  *engine = NULL;
  if (!config) {
    return RTL_BAD_ARG;
  }

  RtlStatus st = rtl_processor_check(processor);
  if (st) {
    return st;
  }

  RtlEngineConfig cfg = *config;
  if ((st = resolve_config(&cfg))) {
    return st;
  }

  RtlEngine* const e = (RtlEngine*)rtl_aligned_alloc(
    allocator, alignof(RtlEngine), sizeof(RtlEngine));
  if (!e) {
    return RTL_NO_MEM;
  }
  memset(e, 0, sizeof(*e));
  e->allocator    = allocator;
  e->processor    = processor;
  e->config       = cfg;
  e->wake_follows = !config->wake_frames;
  e->midi_mask    = cfg.midi_capacity - 1U;

  if ((st = allocate(e))) {
    destroy(e);
    return st;
  }

  atomic_init(&e->state, STATE_STOPPED);
  atomic_init(&e->rt_busy, 0);
  atomic_init(&e->latency_target, cfg.latency);
  atomic_init(&e->rate_bits, double_bits(cfg.sample_rate));
  atomic_init(&e->quit, false);
  atomic_init(&e->worker_idle, false);
  e->start_latency = cfg.latency;
  e->rt_latency    = cfg.latency;
  e->applied       = cfg.latency;
  *engine          = e;
  return RTL_SUCCESS;
}

void
rtl_engine_free(RtlEngine* const engine)
{
  if (engine) {
    rtl_engine_stop(engine);
    destroy(engine);
  }
}

RtlStatus
rtl_engine_lock_memory(RtlEngine* const engine)
{
  const RtlEngineConfig* cfg = &engine->config;
  RtlStatus              st  = rtl_lock_memory(engine, sizeof(*engine));
  for (uint32_t c = 0U; c < cfg->n_inputs; ++c) {
    const RtlStatus s = rtl_ring_lock_memory(engine->in_rings[c]);
    st                = st ? st : s;
  }
  const RtlStatus s[] = {
    rtl_msgring_lock_memory(engine->headers),
    rtl_ring_lock_memory(engine->midi_ring),
    rtl_msgring_lock_memory(engine->splices),
    rtl_writeahead_lock_memory(engine->wa),
    rtl_lock_memory(engine->scratch, engine->scratch_size),
    rtl_lock_memory(engine->planes,
                    ((size_t)cfg->n_inputs + 3U * cfg->n_outputs + 1U) *
                      sizeof(float*)),
    rtl_lock_memory(engine->events, cfg->midi_capacity * sizeof(RtlMidiEvent)),
    rtl_lock_memory(engine->delay, cfg->midi_capacity * sizeof(Delayed)),
  };
  for (size_t i = 0U; i < sizeof(s) / sizeof(s[0]); ++i) {
    st = st ? st : s[i];
  }
  return st;
}

// --- worker -----------------------------------------------------------------

static uint64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000U + (uint64_t)ts.tv_nsec;
}

/// Begin a latency change if one is asked for and none is under way.
static void
begin_splice(RtlEngine* const e)
{
  if (e->phase != PHASE_IDLE) {
    return;
  }
  const uint32_t target =
    atomic_load_explicit(&e->latency_target, memory_order_acquire);
  // The audio thread must be told, so wait for room to tell it.
  if (target != e->applied && rtl_msgring_has_room(e->splices, 1U)) {
    e->phase     = PHASE_FADE_OUT;
    e->fade_pos  = 0U;
    e->splice_to = target;
  }
}

/// The fade-out is complete: change the buffer's delay and fade back in.
static void
splice(RtlEngine* const e)
{
  if (rtl_writeahead_set_latency(e->wa, e->splice_to)) {
    return; // No room for the silence yet: stay silent and try again
  }
  const Splice s = {e->w_pos, e->applied, e->splice_to};
  // begin_splice() saw a free slot and only this thread sends
  (void)rtl_msgring_send(e->splices, 0U, &s, sizeof(s));
  e->trim_left = e->applied > e->splice_to ? e->applied - e->splice_to : 0U;
  e->applied   = e->splice_to;
  e->phase     = PHASE_FADE_IN;
  e->fade_pos  = 0U;
}

static void
scale(float* const* const planes,
      const uint32_t      channels,
      const uint32_t      i,
      const float         gain)
{
  for (uint32_t c = 0U; c < channels; ++c) {
    planes[c][i] *= gain;
  }
}

/// Apply the fades of a latency change to `n` output frames.
static void
apply_fades(RtlEngine* const e, const uint32_t n)
{
  const uint32_t F     = RTL_ENGINE_FADE_FRAMES;
  const uint32_t n_out = e->config.n_outputs;
  float* const*  out   = e->out_planes;

  if (e->phase == PHASE_FADE_OUT) {
    // Gains (F-1)/F down to 0: the last frame before the splice is silent
    for (uint32_t i = 0U; i < n; ++i, ++e->fade_pos) {
      const uint32_t j = e->fade_pos < F ? e->fade_pos : F - 1U;
      scale(out, n_out, i, (float)(F - 1U - j) / (float)F);
    }
    if (e->fade_pos > F) {
      e->fade_pos = F;
    }
  } else if (e->phase == PHASE_FADE_IN) {
    uint32_t i = 0U;
    // Frames the buffer discards for a shrink are never heard
    for (; i < n && e->trim_left; ++i, --e->trim_left) {
      scale(out, n_out, i, 0.0f);
    }
    // Gains 1/F up to 1
    for (; i < n && e->fade_pos < F; ++i, ++e->fade_pos) {
      scale(out, n_out, i, (float)(e->fade_pos + 1U) / (float)F);
    }
    if (!e->trim_left && e->fade_pos == F) {
      e->phase = PHASE_IDLE;
    }
  }
}

/*
  Decide the next block: up to max_block frames (fewer while fading out, so
  that the splice falls between blocks), either input waiting in the rings
  (`*real`) or silence for periods the audio thread dropped.  0: nothing to
  do.
*/
static uint32_t
next_block(RtlEngine* const e, bool* const real)
{
  uint64_t limit = e->config.max_block;
  if (e->phase == PHASE_FADE_OUT && e->fade_pos < RTL_ENGINE_FADE_FRAMES) {
    limit = min_u64(limit, RTL_ENGINE_FADE_FRAMES - e->fade_pos);
  }

  for (;;) {
    // Join the headers that follow on, to run the processor on longer blocks
    while (e->seg_end - e->w_pos < limit) {
      if (!e->have_held) {
        RtlMsgHeader h;
        if (rtl_msgring_recv(e->headers, &h, &e->held, sizeof(e->held))) {
          break;
        }
        e->have_held = true;
      }
      if (e->held.pos != e->seg_end) {
        break;
      }
      e->seg_end += e->held.n_frames;
      e->have_held = false;
    }

    if (e->w_pos < e->seg_end) {
      *real = true;
      return (uint32_t)min_u64(e->seg_end - e->w_pos, limit);
    }
    if (!e->have_held) {
      return 0U;
    }
    if (e->held.pos > e->w_pos) {
      // Periods dropped: silence until the held header's position
      *real = false;
      return (uint32_t)min_u64(e->held.pos - e->w_pos, limit);
    }

    // A header behind the worker cannot happen with one audio thread; skip
    // whatever part of it is behind, so the timeline stays intact.
    const uint64_t behind = min_u64(e->w_pos - e->held.pos, e->held.n_frames);
    for (uint32_t c = 0U; c < e->config.n_inputs; ++c) {
      (void)rtl_ring_skip(e->in_rings[c], (size_t)behind * sizeof(float));
    }
    e->held.pos += behind;
    e->held.n_frames -= behind;
    e->seg_end = e->held.pos;
    if (!e->held.n_frames) {
      e->have_held = false;
    }
  }
}

/// Gather the MIDI events of the block [start, start + n) from the ring.
static uint32_t
gather_midi(RtlEngine* const e, const uint64_t start, const uint32_t n)
{
  uint32_t n_events = 0U;
  for (;;) {
    if (!e->have_midi) {
      // Records are written whole, so the ring holds whole records only
      if (rtl_ring_read(e->midi_ring, &e->midi, sizeof(e->midi)) !=
          sizeof(e->midi)) {
        break;
      }
      e->have_midi = true;
    }
    if (e->midi.pos >= start + n) {
      break;
    }
    if (n_events <= e->midi_mask) {
      RtlMidiEvent* const ev = &e->events[n_events++];
      ev->frame = e->midi.pos > start ? (uint32_t)(e->midi.pos - start) : 0U;
      ev->size  = e->midi.size;
      memcpy(ev->data, e->midi.data, RTL_MIDI_EVENT_MAX);
    } else {
      rtl_counter_add(&e->midi_dropped_worker, 1U);
    }
    e->have_midi = false;
  }
  return n_events;
}

/// Write `n` frames of output to the buffer, waiting for room if need be.
static void
deliver(RtlEngine* const e, const uint32_t n)
{
  const uint32_t n_out = e->config.n_outputs;
  size_t         done =
    rtl_writeahead_write(e->wa, (const float* const*)e->out_planes, n);
  while (done < n) {
    // Only an audio thread with periods longer than configured fills the
    // buffer: wait for it to play some.
    if (atomic_load_explicit(&e->quit, memory_order_acquire)) {
      return;
    }
    const struct timespec pause = {0, 1000000L};
    nanosleep(&pause, NULL);
    for (uint32_t c = 0U; c < n_out; ++c) {
      e->wa_planes[c] = e->out_planes[c] + done;
    }
    done +=
      rtl_writeahead_write(e->wa, (const float* const*)e->wa_planes, n - done);
  }
}

/// Process one block; false if there was nothing to do.
static bool
run_block(RtlEngine* const e)
{
  begin_splice(e);

  bool           real = false;
  const uint32_t n    = next_block(e, &real);
  if (!n) {
    return false;
  }

  const uint32_t n_in  = e->config.n_inputs;
  const size_t   bytes = (size_t)n * sizeof(float);
  for (uint32_t c = 0U; c < n_in; ++c) {
    float* const dst = e->in_planes[c];
    const size_t got = real ? rtl_ring_read(e->in_rings[c], dst, bytes) : 0U;
    if (got < bytes) {
      memset((char*)dst + got, 0, bytes - got);
    }
  }
  const uint32_t n_events = gather_midi(e, e->w_pos, n);

  const uint64_t t0 = now_ns();
  e->processor->process(e->self,
                        (const float* const*)e->in_planes,
                        e->out_planes,
                        e->events,
                        n_events,
                        n);
  const uint64_t dt = now_ns() - t0;

  apply_fades(e, n);
  deliver(e, n);

  e->w_pos += n;
  if (e->phase == PHASE_FADE_OUT && e->fade_pos >= RTL_ENGINE_FADE_FRAMES) {
    splice(e);
  }

  /*
    The position first: whoever sees frames_processed (rtl_engine_stats,
    with its acquire fence) and then pushes a period must find the worker
    at least this far, or the audio thread takes the period just done for
    a backlog and posts for nothing.
  */
  atomic_store_explicit(&e->worker_pos, e->w_pos, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  rtl_counter_add(&e->frames_processed, n);
  rtl_counter_add(&e->chunks, 1U);
  rtl_counter_add(&e->ns_total, dt);
  if (dt > load_relaxed(&e->ns_max)) {
    atomic_store_explicit(&e->ns_max, dt, memory_order_relaxed);
  }
  return true;
}

/// Sleep `ns` nanoseconds, or until the audio or control thread posts.
static void
sleep_ns(RtlEngine* const e, const long ns)
{
  // CLOCK_MONOTONIC: a step of the wall clock must not lengthen the sleep
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ns / 1000000000L;
  deadline.tv_nsec += ns % 1000000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_nsec -= 1000000000L;
    ++deadline.tv_sec;
  }
  while (sem_clockwait(&e->wake, CLOCK_MONOTONIC, &deadline) &&
         errno == EINTR) {
  }
  // Posts that piled up while the worker was busy are spent already
  while (!sem_trywait(&e->wake)) {
  }
}

/// The frames the worker lets pass between its own wake-ups, for L.
static inline uint32_t
wake_frames(const RtlEngine* const e, const uint32_t latency)
{
  return e->wake_follows ? default_wake_frames(latency) : e->config.wake_frames;
}

/// The graph's rate, as rtl_engine_set_sample_rate() last set it.
static double
graph_rate(const RtlEngine* const e)
{
  return bits_double(atomic_load_explicit(&e->rate_bits, memory_order_relaxed));
}

/// The worker's sleep between wake-ups while busy: wake_frames of audio
/// at the graph's current rate, within the engine's bounds.
static long
busy_sleep_ns(const RtlEngine* const e)
{
  const double   rate = graph_rate(e);
  const uint32_t latency =
    atomic_load_explicit(&e->latency_target, memory_order_relaxed);
  const double interval = (double)wake_frames(e, latency) * 1e9 / rate;
  return interval < (double)RTL_ENGINE_MIN_SLEEP_NS ? RTL_ENGINE_MIN_SLEEP_NS
         : interval > (double)RTL_ENGINE_IDLE_NS    ? RTL_ENGINE_IDLE_NS
                                                    : (long)interval;
}

static void*
worker_main(void* const arg)
{
  RtlEngine* const          e  = (RtlEngine*)arg;
  const RtlProcessor* const p  = e->processor;
  const RtlProcessorConfig  pc = {
     e->config.sample_rate,
     e->config.max_block,
     e->config.n_inputs,
     e->config.n_outputs,
  };

  e->init_failed = rtl_processor_init(p, &pc, &e->self) != RTL_SUCCESS;
  sem_post(&e->started);
  if (e->init_failed) {
    return NULL;
  }

  /*
    The worker wakes on its own every wake_frames of audio (L / 8 unless
    configured, at the graph's current rate) and processes
    whatever has arrived, so that in the steady state the audio thread
    makes no system call at all: it posts only when input piles up (the
    worker stalled) or when input comes back to an idle worker.  A worker
    that found nothing for longer than two of the longest periods (so
    never between the periods of a running graph) is idle: it says so and
    doubles its sleep, up to 100 ms.
  */
  long     pause     = busy_sleep_ns(e);
  uint64_t last_work = now_ns();
  while (!atomic_load_explicit(&e->quit, memory_order_acquire)) {
    bool worked = false;
    while (!atomic_load_explicit(&e->quit, memory_order_acquire) &&
           run_block(e)) {
      worked = true;
    }
    // Both follow the rate and L, which may change while the worker runs
    const uint64_t idle_after_ns =
      (uint64_t)(2.0 * (double)e->config.max_block * 1e9 / graph_rate(e));
    if (worked) {
      rtl_counter_add(&e->wakeups, 1U);
      last_work = now_ns();
      pause     = busy_sleep_ns(e);
      atomic_store_explicit(&e->worker_idle, false, memory_order_relaxed);
    } else if (now_ns() - last_work >= idle_after_ns &&
               pause < RTL_ENGINE_IDLE_NS / 2L) {
      atomic_store_explicit(&e->worker_idle, true, memory_order_relaxed);
      pause *= 2L;
    }
    sleep_ns(e, pause);
  }

  rtl_processor_release(p, e->self);
  e->self = NULL;
  return NULL;
}

// --- control ----------------------------------------------------------------

/// Keep the audio thread out, then put every buffer back to its start.
static void
reset(RtlEngine* const e, const uint32_t latency)
{
  atomic_store_explicit(&e->state, STATE_RESETTING, memory_order_seq_cst);
  while (atomic_load_explicit(&e->rt_busy, memory_order_seq_cst)) {
    const struct timespec pause = {0, 50000L};
    nanosleep(&pause, NULL);
  }

  RtlWriteAheadStats s;
  rtl_writeahead_stats(e->wa, &s);
  rtl_counter_add(&e->carry_underruns, s.underruns);
  rtl_counter_add(&e->carry_underrun_frames, s.underrun_frames);
  rtl_counter_add(&e->carry_overruns, s.overruns);
  rtl_counter_add(&e->carry_dropped, s.dropped_frames);
  rtl_counter_add(&e->carry_adjustments, s.adjustments);
  (void)rtl_writeahead_reset(e->wa, latency); // latency < capacity: checked

  for (uint32_t c = 0U; c < e->config.n_inputs; ++c) {
    rtl_ring_reset(e->in_rings[c]);
  }
  rtl_ring_reset(e->midi_ring);
  // Message rings have no reset: both sides are still, so drain them
  RtlMsgHeader h;
  Header       hb;
  Splice       sb;
  while (!rtl_msgring_recv(e->headers, &h, &hb, sizeof(hb))) {
  }
  while (!rtl_msgring_recv(e->splices, &h, &sb, sizeof(sb))) {
  }
  while (!sem_trywait(&e->wake)) {
  }

  ++e->epoch;
  e->start_latency = latency;
  e->w_pos         = 0U;
  e->seg_end       = 0U;
  e->have_held     = false;
  e->have_midi     = false;
  e->applied       = latency;
  e->phase         = PHASE_IDLE;
  e->fade_pos      = 0U;
  e->trim_left     = 0U;
  atomic_store_explicit(&e->worker_pos, 0U, memory_order_relaxed);
  atomic_store_explicit(&e->worker_idle, false, memory_order_relaxed);
  atomic_store_explicit(&e->quit, false, memory_order_relaxed);
}

RtlStatus
rtl_engine_start(RtlEngine* const engine)
{
  if (engine->running) {
    return RTL_BAD_STATE;
  }

  reset(engine,
        atomic_load_explicit(&engine->latency_target, memory_order_acquire));
  // The audio thread may come back, but plays silence until RUNNING
  atomic_store_explicit(&engine->state, STATE_STARTING, memory_order_release);

  if (pthread_create(&engine->thread, NULL, worker_main, engine)) {
    atomic_store_explicit(&engine->state, STATE_STOPPED, memory_order_release);
    return RTL_SYSTEM_ERROR;
  }
  pthread_setname_np(engine->thread, "rtl-engine");
  while (sem_wait(&engine->started) && errno == EINTR) {
  }
  if (engine->init_failed) {
    pthread_join(engine->thread, NULL);
    atomic_store_explicit(&engine->state, STATE_STOPPED, memory_order_release);
    return RTL_FAILURE;
  }

  engine->running = true;
  atomic_store_explicit(&engine->state, STATE_RUNNING, memory_order_release);
  return RTL_SUCCESS;
}

void
rtl_engine_stop(RtlEngine* const engine)
{
  if (!engine->running) {
    return;
  }
  // The audio thread stops feeding the worker and plays out the buffer
  atomic_store_explicit(&engine->state, STATE_STOPPED, memory_order_release);
  atomic_store_explicit(&engine->quit, true, memory_order_release);
  sem_post(&engine->wake);
  pthread_join(engine->thread, NULL);
  engine->running = false;
}

RtlStatus
rtl_engine_set_latency(RtlEngine* const engine, const uint32_t latency)
{
  if (!latency || latency > engine->config.high_water) {
    return RTL_BAD_ARG;
  }
  atomic_store_explicit(&engine->latency_target, latency, memory_order_release);
  sem_post(&engine->wake);
  return RTL_SUCCESS;
}

RtlStatus
rtl_engine_set_sample_rate(RtlEngine* const engine, const double sample_rate)
{
  if (!engine || !(sample_rate > 0.0) || !isfinite(sample_rate)) {
    return RTL_BAD_ARG;
  }
  atomic_store_explicit(
    &engine->rate_bits, double_bits(sample_rate), memory_order_relaxed);
  return RTL_SUCCESS;
}

RTL_REALTIME uint32_t
rtl_engine_latency(const RtlEngine* const engine)
{
  return atomic_load_explicit(&engine->latency_target, memory_order_acquire);
}

RTL_REALTIME void
rtl_engine_config(const RtlEngine* const engine, RtlEngineConfig* const config)
{
  *config = engine->config;
}

RTL_REALTIME void
rtl_engine_stats(const RtlEngine* const engine, RtlEngineStats* const stats)
{
  // The stopped engine's underruns first: the buffer's, loaded after
  // them, include at least these
  const uint64_t idle =
    atomic_load_explicit(&engine->idle_underruns, memory_order_acquire);
  const uint64_t     idle_frames = load_relaxed(&engine->idle_underrun_frames);
  RtlWriteAheadStats s;
  rtl_writeahead_stats(engine->wa, &s);

  const uint64_t chunks = load_relaxed(&engine->chunks);
  const uint64_t underruns =
    load_relaxed(&engine->carry_underruns) + s.underruns;
  const uint64_t underrun_frames =
    load_relaxed(&engine->carry_underrun_frames) + s.underrun_frames;
  stats->underruns = underruns > idle ? underruns - idle : 0U;
  stats->underrun_frames =
    underrun_frames > idle_frames ? underrun_frames - idle_frames : 0U;
  stats->overruns = load_relaxed(&engine->carry_overruns) + s.overruns;
  stats->dropped_frames =
    load_relaxed(&engine->carry_dropped) + s.dropped_frames;
  stats->adjustments = load_relaxed(&engine->carry_adjustments) + s.adjustments;
  stats->input_dropped_frames  = load_relaxed(&engine->input_dropped_frames);
  stats->input_dropped_periods = load_relaxed(&engine->input_dropped_periods);
  stats->midi_dropped          = load_relaxed(&engine->midi_dropped_rt) +
                        load_relaxed(&engine->midi_dropped_worker);
  stats->midi_out_dropped = load_relaxed(&engine->midi_out_dropped);
  stats->frames_processed = load_relaxed(&engine->frames_processed);
  atomic_thread_fence(memory_order_acquire); // Pairs with run_block's
  stats->worker_chunks  = chunks;
  stats->worker_wakeups = load_relaxed(&engine->wakeups);
  stats->worker_posts   = load_relaxed(&engine->posts);
  stats->worker_ns_mean =
    chunks ? load_relaxed(&engine->ns_total) / chunks : 0U;
  stats->worker_ns_max = load_relaxed(&engine->ns_max);
  stats->latency       = s.latency;
  stats->latency_target =
    atomic_load_explicit(&engine->latency_target, memory_order_relaxed);
  stats->fill     = s.fill;
  stats->capacity = s.capacity;
  stats->running =
    atomic_load_explicit(&engine->state, memory_order_relaxed) == STATE_RUNNING
      ? 1U
      : 0U;
}

// --- audio thread -----------------------------------------------------------

/// First period of a run: start the run's timeline here.
static RTL_REALTIME void
join_run(RtlEngine* const e)
{
  e->rt_epoch   = e->epoch;
  e->base       = e->rt_pos;
  e->rt_latency = e->start_latency;
  e->floor      = 0U;
}

/// Apply the worker's latency changes to the MIDI delay queue.
static RTL_REALTIME void
take_splices(RtlEngine* const e)
{
  RtlMsgHeader h;
  Splice       s;
  while (!rtl_msgring_recv(e->splices, &h, &s, sizeof(s))) {
    // Input k0 and later: k + to, but never before where the old delay
    // put k0 (a shrink drops the frames between)
    const uint64_t k0    = e->base + s.k0;
    const uint64_t floor = k0 + s.from;
    for (uint32_t i = e->dq_head; i != e->dq_tail; ++i) {
      Delayed* const d = &e->delay[i & e->midi_mask];
      if (d->pos >= k0) {
        d->due = max_u64(d->pos + s.to, floor);
      }
    }
    if (e->dq_head != e->dq_tail) {
      e->last_due = e->delay[(e->dq_tail - 1U) & e->midi_mask].due;
    }
    e->rt_latency = s.to;
    e->floor      = floor;
  }
}

/// Take MIDI in: to the worker (if it runs) and to the delay queue.
static RTL_REALTIME void
midi_in(RtlEngine* const          e,
        const RtlMidiEvent* const events,
        const uint32_t            n_events,
        const uint32_t            n_frames,
        const bool                to_worker)
{
  uint32_t prev = 0U;
  for (uint32_t i = 0U; i < n_events; ++i) {
    const RtlMidiEvent* const ev = &events[i];
    if (!ev->size || ev->size > RTL_MIDI_EVENT_MAX) {
      rtl_counter_add(&e->midi_dropped_rt, 1U);
      rtl_counter_add(&e->midi_out_dropped, 1U);
      continue;
    }
    // Frames are kept in the period and in order, whatever the caller sent
    uint32_t frame     = ev->frame < n_frames ? ev->frame : n_frames - 1U;
    frame              = frame < prev ? prev : frame;
    prev               = frame;
    const uint64_t pos = e->rt_pos + frame;

    if (to_worker) {
      MidiRecord rec;
      rec.pos  = pos - e->base;
      rec.size = ev->size;
      memcpy(rec.data, ev->data, RTL_MIDI_EVENT_MAX);
      rec.pad = 0U;
      // Whole records only, so the free space is 0 or a whole record
      if (rtl_ring_write(e->midi_ring, &rec, sizeof(rec)) != sizeof(rec)) {
        rtl_counter_add(&e->midi_dropped_rt, 1U);
      }
    }

    if (e->dq_tail - e->dq_head > e->midi_mask) {
      rtl_counter_add(&e->midi_out_dropped, 1U);
      continue;
    }
    Delayed* const d = &e->delay[e->dq_tail & e->midi_mask];
    d->pos           = pos;
    d->due  = max_u64(max_u64(pos + e->rt_latency, e->floor), e->last_due);
    d->size = ev->size;
    memcpy(d->data, ev->data, RTL_MIDI_EVENT_MAX);
    e->last_due = d->due;
    ++e->dq_tail;
  }
}

/// Emit the queued MIDI due before `end`.
static RTL_REALTIME uint32_t
midi_out(RtlEngine* const    e,
         RtlMidiEvent* const out,
         const uint32_t      max_out,
         const uint64_t      end)
{
  uint32_t n = 0U;
  while (e->dq_head != e->dq_tail && n < max_out) {
    const Delayed* const d = &e->delay[e->dq_head & e->midi_mask];
    if (d->due >= end) {
      break;
    }
    RtlMidiEvent* const ev = &out[n++];
    ev->frame = d->due > e->rt_pos ? (uint32_t)(d->due - e->rt_pos) : 0U;
    ev->size  = d->size;
    memcpy(ev->data, d->data, RTL_MIDI_EVENT_MAX);
    ++e->dq_head;
  }
  return n;
}

/// Send a period of input to the worker, all channels or none.
static RTL_REALTIME void
push_input(RtlEngine* const e, const float* const* const in, const uint32_t n)
{
  const uint32_t n_in  = e->config.n_inputs;
  const size_t   bytes = (size_t)n * sizeof(float);
  const uint64_t pos   = e->rt_pos - e->base;

  // The worker reads the channels in order and each ring's space only
  // grows, so room in the last ring means room in all of them.
  if (!rtl_msgring_has_room(e->headers, 1U) ||
      (n_in && !rtl_ring_has_room(e->in_rings[n_in - 1U], bytes))) {
    rtl_counter_add(&e->input_dropped_frames, n);
    rtl_counter_add(&e->input_dropped_periods, 1U);
  } else {
    for (uint32_t c = 0U; c < n_in; ++c) {
      (void)rtl_ring_write(e->in_rings[c], in[c], bytes);
    }
    const Header h = {pos, n};
    (void)rtl_msgring_send(e->headers, 0U, &h, sizeof(h));
  }

  // The worker wakes by itself every wake_frames, so between two periods
  // it takes what came before this one.  Wake it only if twice that still
  // waits from earlier periods (it stalled), and always before half of L
  // does; or if it went idle while no input came.  The backlog leaves
  // this period out: counting it would post every period as soon as one
  // is as long as the threshold.  A stale worker position only makes the
  // backlog look larger: an extra post, never a lost one.
  const uint64_t done =
    atomic_load_explicit(&e->worker_pos, memory_order_relaxed);
  const uint64_t twice   = 2U * (uint64_t)wake_frames(e, e->rt_latency);
  const uint64_t half    = e->rt_latency / 2U ? e->rt_latency / 2U : 1U;
  const uint64_t backlog = pos > done ? pos - done : 0U;
  if (backlog >= min_u64(twice, half) ||
      (atomic_load_explicit(&e->worker_idle, memory_order_relaxed) &&
       atomic_exchange_explicit(
         &e->worker_idle, false, memory_order_relaxed))) {
    rtl_counter_add(&e->posts, 1U);
    // Reviewed exception: sem_post never blocks, and runs only off the
    // steady state (test_engine.c counts it)
    RTL_EFFECTS_EXCEPTION_BEGIN
    sem_post(&e->wake);
    RTL_EFFECTS_EXCEPTION_END
  }
}

/*
  Play `n` frames from the buffer, in pieces if longer than it, and return
  how many reads came up short (each one an underrun to the buffer) and
  the frames missing.  Reading always moves the buffer's reader by exactly
  `n`, so its positions stay on the audio thread's timeline.
*/
static RTL_REALTIME uint64_t
play(RtlEngine* const    e,
     float* const* const out,
     const uint32_t      n,
     uint64_t* const     missing)
{
  const size_t cap = e->config.capacity;
  if (RTL_LIKELY(n <= cap)) {
    const size_t real = rtl_writeahead_read(e->wa, out, n);
    *missing          = n - real;
    return real < n ? 1U : 0U;
  }
  uint64_t short_reads = 0U;
  *missing             = 0U;
  for (size_t done = 0U; done < n;) {
    const size_t k = min_u64(n - done, cap);
    for (uint32_t c = 0U; c < e->config.n_outputs; ++c) {
      e->rt_planes[c] = out[c] + done;
    }
    const size_t real = rtl_writeahead_read(e->wa, e->rt_planes, k);
    short_reads += real < k ? 1U : 0U;
    *missing += k - real;
    done += k;
  }
  return short_reads;
}

static RTL_REALTIME void
silence(RtlEngine* const e, float* const* const out, const size_t n)
{
  for (uint32_t c = 0U; c < e->config.n_outputs; ++c) {
    memset(out[c], 0, n * sizeof(float));
  }
}

RTL_REALTIME void
rtl_engine_process(RtlEngine* const          engine,
                   const float* const* const in,
                   float* const* const       out,
                   const RtlMidiEvent* const midi_in_events,
                   const uint32_t            n_midi_in,
                   RtlMidiEvent* const       midi_out_events,
                   const uint32_t            max_midi_out,
                   uint32_t* const           n_midi_out,
                   const uint32_t            n_frames)
{
  *n_midi_out = 0U;
  if (!n_frames) {
    return;
  }

  atomic_store_explicit(&engine->rt_busy, 1, memory_order_seq_cst);
  const int  state = atomic_load_explicit(&engine->state, memory_order_seq_cst);
  const bool running = state == STATE_RUNNING;

  if (running && engine->rt_epoch != engine->epoch) {
    join_run(engine);
  }
  if (state != STATE_RESETTING) {
    take_splices(engine);
  }
  midi_in(engine, midi_in_events, n_midi_in, n_frames, running);

  uint64_t missing = 0U;
  if (running) {
    push_input(engine, in, n_frames);
    (void)play(engine, out, n_frames, &missing);
  } else if (state == STATE_STOPPED) {
    // Play out what the worker left, then silence, by reading on as if it
    // ran: a worker still finishing its last block after stop() writes
    // where its frames belong.  The silence is no underrun.
    const uint64_t short_reads = play(engine, out, n_frames, &missing);
    if (short_reads) {
      rtl_counter_add(&engine->idle_underrun_frames, missing);
      // Release: whoever sees this count sees the buffer's as well
      atomic_store_explicit(&engine->idle_underruns,
                            load_relaxed(&engine->idle_underruns) + short_reads,
                            memory_order_release);
    }
  } else {
    // Starting: the buffer's reader waits at the new run's first frame
    silence(engine, out, n_frames);
  }

  *n_midi_out =
    midi_out(engine, midi_out_events, max_midi_out, engine->rt_pos + n_frames);
  engine->rt_pos += n_frames;
  atomic_store_explicit(&engine->rt_busy, 0, memory_order_release);
}
