// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "support/alloc_trap.h"
#include "support/failing_allocator.h"
#include "support/frames.h"
#include "support/stress.h"

#include <rtlane/engine.h>
#include <rtlane/processor.h>
#include <rtlane/status.h>

#include <check.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

Suite*
rtl_suite_engine(void);

/*
  The test thread plays the audio thread: it calls rtl_engine_process()
  period by period while the engine's worker runs for real.  Most tests
  run in lockstep (after each period, wait until the worker has processed
  everything sent), which makes every output frame predictable whatever
  the machine's load; the stall tests pace themselves against the clock
  instead, or hold the worker at a gate.

  Audio frames encode their input position k: channel c of input frame k
  is (k + 1) * (c + 1), so silence (0) is never a real frame and a frame
  played at position t proves its delay: it must be k = t - L.  Floats
  hold these exactly below 2^24.
*/

#define MAX_CH 4U
#define MAX_PERIOD 1024U
#define FADE RTL_ENGINE_FADE_FRAMES

static void
sleep_us(const long us)
{
  const struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
  nanosleep(&ts, NULL);
}

// --- a test processor --------------------------------------------------------

#define LOG_MAX 4096U

typedef struct {
  // Set by the test before start
  uint32_t    fail_inits;  ///< init() fails this many times first
  uint64_t    stall_every; ///< Pause every this many frames (0: never)
  long        stall_us;    ///< for this long
  atomic_bool gate;        ///< While true, process() waits at its start

  // Worker's, read by the test after stop or through the atomics
  atomic_int       inits;
  atomic_int       releases;
  atomic_bool      at_gate;
  _Atomic uint64_t frames;
  uint64_t         next_stall;
  uint32_t         stalls;
  uint32_t         n_in;
  uint32_t         n_out;
  uint64_t         max_block_seen;
  uint32_t         bad_blocks;
  size_t           n_log;
  uint64_t         log_pos[LOG_MAX]; ///< Run position of each MIDI event
  uint32_t         log_id[LOG_MAX];
  RtlProcessor     proc; ///< This processor, as start_engine() made it
} TestProc;

static void*
tp_init(const RtlProcessorConfig* const config, void* const user_data)
{
  TestProc* const tp = (TestProc*)user_data;
  atomic_fetch_add(&tp->inits, 1);
  if (tp->fail_inits) {
    --tp->fail_inits;
    return NULL;
  }
  tp->n_in       = config->n_inputs;
  tp->n_out      = config->n_outputs;
  tp->next_stall = tp->stall_every;
  atomic_store(&tp->frames, 0U);
  tp->n_log = 0U;
  return tp;
}

/// Output channel c copies input channel c (modulo the inputs).
static void
tp_process(void* const               self,
           const float* const* const in,
           float* const* const       out,
           const RtlMidiEvent* const events,
           const uint32_t            n_events,
           const uint32_t            n_frames)
{
  TestProc* const tp = (TestProc*)self;
  while (atomic_load(&tp->gate)) {
    atomic_store(&tp->at_gate, true);
    sleep_us(200L);
  }
  atomic_store(&tp->at_gate, false);

  if (n_frames > tp->max_block_seen) {
    tp->max_block_seen = n_frames;
  }
  const uint64_t start =
    atomic_load_explicit(&tp->frames, memory_order_relaxed);
  for (uint32_t i = 0U; i < n_events; ++i) {
    if (events[i].frame >= n_frames ||
        (i && events[i].frame < events[i - 1U].frame)) {
      ++tp->bad_blocks;
    }
    if (tp->n_log < LOG_MAX) {
      tp->log_pos[tp->n_log] = start + events[i].frame;
      tp->log_id[tp->n_log] =
        (uint32_t)events[i].data[1] << 7U | events[i].data[2];
      ++tp->n_log;
    }
  }
  for (uint32_t c = 0U; c < tp->n_out; ++c) {
    if (tp->n_in) {
      memcpy(out[c], in[c % tp->n_in], n_frames * sizeof(float));
    } else {
      memset(out[c], 0, n_frames * sizeof(float));
    }
  }
  atomic_store_explicit(&tp->frames, start + n_frames, memory_order_relaxed);

  if (tp->stall_every) {
    if (start + n_frames >= tp->next_stall) {
      tp->next_stall += tp->stall_every;
      ++tp->stalls;
      sleep_us(tp->stall_us);
    }
  }
}

static void
tp_release(void* const self)
{
  TestProc* const tp = (TestProc*)self;
  atomic_fetch_add(&tp->releases, 1);
}

static RtlProcessor
test_processor(TestProc* const tp)
{
  const RtlProcessor p = {
    RTL_PROCESSOR_ABI_VERSION,
    "test",
    0U,
    tp_init,
    tp_process,
    tp_release,
    tp,
  };
  return p;
}

static RtlEngineConfig
base_config(const uint32_t channels, const uint32_t latency)
{
  RtlEngineConfig c;
  memset(&c, 0, sizeof(c));
  c.n_inputs    = channels;
  c.n_outputs   = channels;
  c.sample_rate = 48000.0;
  c.max_block   = 256U;
  c.latency     = latency;
  c.wake_frames = 1U; // Lockstep drivers wait for every period
  return c;
}

// --- the driver: the test thread as audio thread -----------------------------

typedef struct {
  RtlEngine*   e;
  unsigned     n_in;
  unsigned     n_out;
  uint64_t     pos;  ///< Frames played so far (the audio thread's position)
  uint64_t     sent; ///< Frames sent while running (processed in lockstep)
  float        in[MAX_CH][MAX_PERIOD];
  float        out[MAX_CH][MAX_PERIOD];
  const float* in_p[MAX_CH];
  float*       out_p[MAX_CH];
  RtlMidiEvent midi_out[64];
  uint32_t     n_midi_out;
  // Checking
  uint64_t drop_from; ///< Input dropped from here...
  uint64_t drop_to;   ///< ...to here: its output is silence
  uint64_t latency;   ///< Expected delay
  uint64_t silent;    ///< Silent frames seen
  uint64_t real;      ///< Real frames seen
  uint64_t errors;
  char     first_error[160];
} Driver;

static void
driver_init(Driver* const d, RtlEngine* const e, const unsigned channels)
{
  memset(d, 0, sizeof(*d));
  d->e     = e;
  d->n_in  = channels;
  d->n_out = channels;
  for (unsigned c = 0U; c < MAX_CH; ++c) {
    d->in_p[c]  = d->in[c];
    d->out_p[c] = d->out[c];
  }
}

static void
driver_fail(Driver* const d, const char* const what, const uint64_t t)
{
  if (!d->errors++) {
    snprintf(d->first_error,
             sizeof(d->first_error),
             "%s at frame %llu",
             what,
             (unsigned long long)t);
  }
}

/// Wait until the worker has processed `frames` frames in all.
static void
wait_processed(RtlEngine* const e, const uint64_t frames)
{
  RtlEngineStats s;
  for (;;) {
    rtl_engine_stats(e, &s);
    if (s.frames_processed >= frames) {
      return;
    }
    sleep_us(20L);
  }
}

/// One period of `n` frames of encoded input, with MIDI; returns nothing,
/// leaves the output in d->out.
static void
driver_period(Driver* const             d,
              const uint32_t            n,
              const RtlMidiEvent* const midi,
              const uint32_t            n_midi,
              const bool                running)
{
  for (unsigned c = 0U; c < d->n_in; ++c) {
    for (uint32_t i = 0U; i < n; ++i) {
      d->in[c][i] = encode(d->pos + i, c);
    }
  }
  rtl_engine_process(
    d->e, d->in_p, d->out_p, midi, n_midi, d->midi_out, 64U, &d->n_midi_out, n);
  if (running) {
    d->sent += n;
  }
}

/// Start an engine on `tp` (reset) with `cfg`, and `d` to drive it with
/// the configured latency as the expected delay.
static RtlEngine*
start_engine(TestProc* const              tp,
             const RtlEngineConfig* const cfg,
             Driver* const                d)
{
  memset(tp, 0, sizeof(*tp));
  tp->proc     = test_processor(tp);
  RtlEngine* e = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, cfg, &tp->proc, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
  driver_init(d, e, cfg->n_inputs);
  d->latency = cfg->latency;
  return e;
}

/// Check d->out (n frames at d->pos): each frame silence or delayed by L.
static void
driver_check(Driver* const d, const uint32_t n, const bool all_real)
{
  for (uint32_t i = 0U; i < n; ++i) {
    const uint64_t t = d->pos + i;
    const int64_t  k = decode((const float* const*)d->out_p, d->n_out, i);
    if (k == -2) {
      driver_fail(d, "corrupt frame", t);
    } else if (k == -1) {
      ++d->silent;
      const bool dropped = t >= d->latency && t - d->latency >= d->drop_from &&
                           t - d->latency < d->drop_to;
      if (all_real && t >= d->latency && !dropped) {
        driver_fail(d, "silence where a frame was due", t);
      }
    } else {
      ++d->real;
      if ((uint64_t)k + d->latency != t) {
        driver_fail(d, "frame not delayed by L", t);
      }
    }
  }
}

/// A lockstep period: play, check, wait for the worker to catch up.
static void
driver_step(Driver* const d, const uint32_t n, const bool all_real)
{
  driver_period(d, n, NULL, 0U, true);
  driver_check(d, n, all_real);
  d->pos += n;
  wait_processed(d->e, d->sent);
}

// --- core --------------------------------------------------------------------

START_TEST(test_delay_exact)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor    p   = test_processor(&tp);
  const RtlEngineConfig cfg = base_config(3U, 1000U);
  RtlEngine*            e   = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
  ck_assert_int_eq(atomic_load(&tp.inits), 1);

  static Driver d;
  driver_init(&d, e, 3U);
  d.latency = 1000U;

  // Lockstep: every frame is real and exactly L late, with periods of any
  // size up to L, longer than max_block too (the worker splits them).
  uint64_t       rng   = 0x2545F4914F6CDD1DULL;
  const uint64_t total = rtl_stress_count(200000U);
  while (d.pos < total) {
    const bool     longer = xorshift(&rng) % 8U == 0U;
    const uint32_t n =
      1U + (uint32_t)(xorshift(&rng) % (longer ? 1000U : 256U));
    driver_step(&d, n, true);
  }
  ck_assert_msg(!d.errors,
                "%llu errors, first: %s",
                (unsigned long long)d.errors,
                d.first_error);
  ck_assert_uint_eq(d.silent, 1000U); // The prefill, and nothing else
  ck_assert_uint_eq(d.real, d.pos - 1000U);

  // Free-running, faster than the worker may keep up with: frames may be
  // missing (silence), but a frame played is never misplaced.
  // (Held within the input rings, so that no input is dropped.)
  for (int i = 0; i < 2000; ++i) {
    const uint32_t n = 1U + (uint32_t)(xorshift(&rng) % 256U);
    driver_period(&d, n, NULL, 0U, true);
    driver_check(&d, n, false);
    d.pos += n;
    if (i % 16 == 15) {
      wait_processed(e, d.sent - 2048U);
    }
  }
  ck_assert_msg(!d.errors,
                "%llu errors, first: %s",
                (unsigned long long)d.errors,
                d.first_error);

  // And back in lockstep everything is exact again at once.
  wait_processed(e, d.sent);
  for (int i = 0; i < 200; ++i) {
    driver_step(&d, 1U + (uint32_t)(xorshift(&rng) % 256U), true);
  }
  ck_assert_msg(!d.errors,
                "%llu errors, first: %s",
                (unsigned long long)d.errors,
                d.first_error);

  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.frames_processed, d.sent);
  ck_assert_uint_eq(s.input_dropped_frames, 0U);
  ck_assert_uint_eq(s.overruns, 0U);
  ck_assert_uint_eq(s.latency, 1000U);
  ck_assert_uint_eq(s.running, 1U);
  ck_assert_uint_gt(s.worker_chunks, 0U);
  ck_assert_uint_le(s.worker_ns_mean, s.worker_ns_max);
  // Underruns only where the free-running part played silence
  ck_assert_uint_eq(s.underrun_frames, d.silent - 1000U);

  rtl_engine_free(e);
  ck_assert_int_eq(atomic_load(&tp.releases), 1);
  // Long periods were split to max_block, short ones joined up to it
  ck_assert_uint_eq(tp.max_block_seen, 256U);
}
END_TEST

START_TEST(test_channel_mapping)
{
  // Fewer inputs than outputs, and none at all
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(1U, 64U);
  cfg.n_outputs          = 2U;
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 1U);
  d.n_out = 2U;
  for (int i = 0; i < 20; ++i) {
    driver_period(&d, 32U, NULL, 0U, true);
    for (uint32_t j = 0U; j < 32U; ++j) {
      const uint64_t t = d.pos + j;
      const float    v = t >= 64U ? encode(t - 64U, 0U) : 0.0f;
      ck_assert_float_eq(d.out[0][j], v);
      ck_assert_float_eq(d.out[1][j], v);
    }
    d.pos += 32U;
    wait_processed(e, d.sent);
  }
  rtl_engine_free(e);

  cfg.n_inputs = 0U;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
  float    o[2][32];
  float*   op[2] = {o[0], o[1]};
  uint32_t n_midi;
  for (int i = 0; i < 10; ++i) {
    rtl_engine_process(e, NULL, op, NULL, 0U, NULL, 0U, &n_midi, 32U);
    wait_processed(e, 32U * (uint64_t)(i + 1));
  }
  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.frames_processed, 320U);
  ck_assert_uint_eq(s.underruns, 0U);
  rtl_engine_free(e);
}
END_TEST

START_TEST(test_midi_exact)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  const uint32_t     L   = 777U;
  RtlEngineConfig    cfg = base_config(1U, L);
  RtlEngine*         e   = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 1U);
  d.latency = L;

  enum { N_EVENTS = 3000 };
  static uint64_t in_pos[N_EVENTS];
  uint32_t        n_in     = 0U;
  uint32_t        n_out    = 0U;
  uint64_t        rng      = 0x9E3779B97F4A7C15ULL;
  uint64_t        crossing = 0U;
  RtlMidiEvent    ev[8];

  while (n_out < n_in || n_in < N_EVENTS) {
    const uint32_t n = 1U + (uint32_t)(xorshift(&rng) % 200U);
    uint32_t       k = n_in < N_EVENTS ? (uint32_t)(xorshift(&rng) % 4U) : 0U;
    if (k > N_EVENTS - n_in) {
      k = N_EVENTS - n_in;
    }
    // Sorted frames anywhere in the period, the last frame included
    uint32_t frame = 0U;
    for (uint32_t j = 0U; j < k; ++j) {
      frame += (uint32_t)(xorshift(&rng) % (n - frame));
      if (j == k - 1U && xorshift(&rng) % 4U == 0U) {
        frame = n - 1U;
      }
      memset(&ev[j], 0, sizeof(ev[j]));
      ev[j].frame    = frame;
      ev[j].size     = 3U;
      ev[j].data[0]  = 0x90U;
      ev[j].data[1]  = (uint8_t)(n_in >> 7U);
      ev[j].data[2]  = (uint8_t)(n_in & 0x7FU);
      in_pos[n_in++] = d.pos + frame;
    }
    driver_period(&d, n, ev, k, true);
    driver_check(&d, n, true);

    for (uint32_t j = 0U; j < d.n_midi_out; ++j) {
      const RtlMidiEvent* const o  = &d.midi_out[j];
      const uint32_t            id = (uint32_t)o->data[1] << 7U | o->data[2];
      ck_assert_uint_eq(id, n_out); // In order, none lost or repeated
      ck_assert_uint_eq(o->size, 3U);
      ck_assert_uint_eq(o->data[0], 0x90U);
      ck_assert_uint_lt(o->frame, n);
      ck_assert_uint_eq(d.pos + o->frame, in_pos[id] + L);
      if (in_pos[id] / 256U != (in_pos[id] + L) / 256U) {
        ++crossing;
      }
      ++n_out;
    }
    d.pos += n;
    wait_processed(e, d.sent);
  }
  ck_assert_msg(!d.errors, "first: %s", d.first_error);
  ck_assert_uint_eq(n_out, N_EVENTS);
  ck_assert_uint_gt(crossing, 0U);
  rtl_engine_stop(e);

  // The processor saw every event at its own input frame, in order
  ck_assert_uint_eq(tp.n_log, N_EVENTS);
  ck_assert_uint_eq(tp.bad_blocks, 0U);
  for (uint32_t i = 0U; i < N_EVENTS; ++i) {
    ck_assert_uint_eq(tp.log_id[i], i);
    ck_assert_uint_eq(tp.log_pos[i], in_pos[i]);
  }

  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.midi_dropped, 0U);
  ck_assert_uint_eq(s.midi_out_dropped, 0U);
  rtl_engine_free(e);
}
END_TEST

START_TEST(test_midi_limits)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(1U, 100U);
  cfg.midi_capacity      = 4U;
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 1U);
  RtlMidiEvent ev[8];
  memset(ev, 0, sizeof(ev));
  for (uint32_t j = 0U; j < 8U; ++j) {
    ev[j].frame   = j;
    ev[j].size    = 3U;
    ev[j].data[0] = 0x80U;
    ev[j].data[2] = (uint8_t)j;
  }
  ev[1].size = RTL_MIDI_EVENT_MAX + 1U; // SysEx, say: dropped and counted
  ev[2].size = 0U;                      // Nothing: dropped and counted

  // 8 in: 2 unusable, 4 fit the delay queue, 2 overflow it
  driver_period(&d, 64U, ev, 8U, true);
  d.pos += 64U;
  wait_processed(e, d.sent);

  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.midi_out_dropped, 4U);
  ck_assert_uint_eq(s.midi_dropped, 2U + 2U); // The worker's ring holds 4 too

  // Due at 100, 103, 104, 105.  The period 64..101 takes the first; with
  // room for one event per period, the others come one a period, late
  // ones at offset 0.
  driver_period(&d, 38U, NULL, 0U, true); // 64..101
  ck_assert_uint_eq(d.n_midi_out, 1U);
  ck_assert_uint_eq(d.midi_out[0].frame, 100U - 64U);
  ck_assert_uint_eq(d.midi_out[0].data[2], 0U);
  uint32_t n_midi = 0U;
  rtl_engine_process(e,
                     d.in_p,
                     d.out_p,
                     NULL,
                     0U,
                     d.midi_out,
                     1U,
                     &n_midi,
                     64U); // 102..165
  ck_assert_uint_eq(n_midi, 1U);
  ck_assert_uint_eq(d.midi_out[0].frame, 103U - 102U);
  ck_assert_uint_eq(d.midi_out[0].data[2], 3U);
  for (uint8_t id = 4U; id <= 5U; ++id) {
    rtl_engine_process(
      e, d.in_p, d.out_p, NULL, 0U, d.midi_out, 1U, &n_midi, 64U);
    ck_assert_uint_eq(n_midi, 1U);
    ck_assert_uint_eq(d.midi_out[0].frame, 0U);
    ck_assert_uint_eq(d.midi_out[0].data[2], id);
  }
  rtl_engine_process(
    e, d.in_p, d.out_p, NULL, 0U, d.midi_out, 1U, &n_midi, 64U);
  ck_assert_uint_eq(n_midi, 0U);
  rtl_engine_stop(e);

  // The processor saw the 4 that fit its ring, at their frames
  ck_assert_uint_eq(tp.n_log, 4U);
  ck_assert_uint_eq(tp.log_pos[0], 0U);
  ck_assert_uint_eq(tp.log_pos[1], 3U);
  ck_assert_uint_eq(tp.log_pos[3], 5U);
  rtl_engine_free(e);
}
END_TEST

/// Pace periods of `n` frames against the clock: period i starts at
/// start + i * n / rate.
static void
pace(struct timespec* const next, const uint32_t n, const double rate)
{
  next->tv_nsec += (long)((double)n * 1e9 / rate);
  while (next->tv_nsec >= 1000000000L) {
    next->tv_nsec -= 1000000000L;
    ++next->tv_sec;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR) {
  }
}

/*
  20 ms pauses every 100 ms of audio at L = 50 ms, in real time: the
  buffer absorbs every one of them.  The machine is shared and nothing here
  runs with real-time priority, so a trial can be disturbed by the
  scheduler (the driver or the worker kept off a core for tens of ms); the
  test allows three trials for one clean one.  An engine that did not
  absorb the pauses would underrun in every trial: there are 30 of them in
  each.
*/
static uint64_t
stall_trial(uint32_t* const stalls, uint64_t* const ns_max)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  tp.stall_every         = 4800U;
  tp.stall_us            = 20000L;
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(2U, 2400U);
  cfg.max_block          = 64U;
  cfg.wake_frames        = 0U; // The default wake-up interval
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  (void)rtl_engine_lock_memory(e); // mlock may be refused; prefault anyway
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 2U);
  d.latency              = 2400U;
  const uint64_t  frames = 3U * 48000U;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (d.pos < frames) {
    driver_period(&d, 64U, NULL, 0U, true);
    driver_check(&d, 64U, false);
    d.pos += 64U;
    pace(&next, 64U, 48000.0);
  }
  rtl_engine_stop(e);

  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_msg(!d.errors, "first: %s", d.first_error);
  ck_assert_uint_eq(s.input_dropped_frames, 0U);
  ck_assert_uint_eq(s.underrun_frames, d.silent - 2400U);
  *stalls = tp.stalls;
  *ns_max = s.worker_ns_max;
  rtl_engine_free(e);
  return s.underruns;
}

START_TEST(test_stall_absorbed)
{
  uint64_t underruns = 0U;
  for (int trial = 0; trial < 3; ++trial) {
    uint32_t stalls = 0U;
    uint64_t ns_max = 0U;
    underruns       = stall_trial(&stalls, &ns_max);
    ck_assert_uint_ge(stalls, 25U);       // It did pause
    ck_assert_uint_ge(ns_max, 20000000U); // and it was measured
    if (!underruns) {
      break;
    }
    fprintf(stderr,
            "test_stall_absorbed: trial %d disturbed: %llu "
            "underruns\n",
            trial + 1,
            (unsigned long long)underruns);
  }
  ck_assert_uint_eq(underruns, 0U);
}
END_TEST

START_TEST(test_stall_longer_than_latency)
{
  static TestProc tp;
  static Driver   d;
  RtlEngineConfig cfg = base_config(2U, 1024U);
  cfg.max_block       = 128U;
  RtlEngine* const e  = start_engine(&tp, &cfg, &d);
  for (int i = 0; i < 30; ++i) {
    driver_step(&d, 128U, true);
  }

  // The worker stops for longer than L: 20 periods is 2560 frames
  atomic_store(&tp.gate, true);
  for (int i = 0; i < 20; ++i) {
    driver_period(&d, 128U, NULL, 0U, true);
    driver_check(&d, 128U, false);
    d.pos += 128U;
  }
  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_gt(s.underruns, 0U);
  ck_assert_uint_ge(s.underrun_frames, 2560U - 1024U);
  ck_assert_uint_eq(s.input_dropped_frames, 0U);

  // It resumes: the late frames are dropped, and the delay is still L
  atomic_store(&tp.gate, false);
  wait_processed(e, d.sent);
  for (int i = 0; i < 40; ++i) {
    driver_step(&d, 128U, true);
  }
  ck_assert_msg(!d.errors, "first: %s", d.first_error);
  rtl_engine_stats(e, &s);
  ck_assert_uint_gt(s.dropped_frames, 0U);
  ck_assert_uint_eq(s.underrun_frames, d.silent - 1024U);
  ck_assert_uint_eq(s.latency, 1024U);
  rtl_engine_free(e);
}
END_TEST

START_TEST(test_input_dropped)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(2U, 512U);
  cfg.max_block          = 128U;
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  RtlEngineConfig got;
  rtl_engine_config(e, &got);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 2U);
  d.latency = 512U;
  for (int i = 0; i < 10; ++i) {
    driver_step(&d, 128U, true);
  }

  // Stalled far longer than the input rings hold (twice the capacity),
  // from the moment the worker holds the first period
  atomic_store(&tp.gate, true);
  driver_period(&d, 128U, NULL, 0U, true);
  driver_check(&d, 128U, false);
  d.pos += 128U;
  while (!atomic_load(&tp.at_gate)) {
    sleep_us(100L);
  }
  const uint32_t periods = 2U * (4U * got.capacity / 128U);
  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  for (uint32_t i = 0U; i < periods; ++i) {
    const uint64_t before = s.input_dropped_periods;
    driver_period(&d, 128U, NULL, 0U, true);
    driver_check(&d, 128U, false);
    rtl_engine_stats(e, &s);
    // The audio thread counts on its own thread: this period's fate
    if (s.input_dropped_periods != before) {
      ck_assert(!d.drop_to || d.drop_to == d.pos); // One stretch
      d.drop_from = d.drop_to ? d.drop_from : d.pos;
      d.drop_to   = d.pos + 128U;
    }
    d.pos += 128U;
  }
  ck_assert_uint_gt(s.input_dropped_frames, 0U);
  ck_assert_uint_eq(s.input_dropped_frames, 128U * s.input_dropped_periods);
  ck_assert_uint_eq(s.input_dropped_frames, d.drop_to - d.drop_from);
  // The rings took exactly twice the capacity, the rest was dropped
  ck_assert_uint_eq(s.input_dropped_frames,
                    (uint64_t)periods * 128U - 2U * got.capacity);

  // After it, the worker processes silence for the lost periods and every
  // later frame is exactly where it belongs.
  atomic_store(&tp.gate, false);
  // Until a period gets through (the worker only learns of a gap from the
  // period after it), playing on as the graph would
  for (;;) {
    const uint64_t dropped = s.input_dropped_periods;
    driver_period(&d, 128U, NULL, 0U, true);
    driver_check(&d, 128U, false);
    rtl_engine_stats(e, &s);
    if (s.input_dropped_periods == dropped) {
      d.pos += 128U;
      break;
    }
    ck_assert_uint_eq(d.drop_to, d.pos);
    d.drop_to = d.pos + 128U;
    d.pos += 128U;
    sleep_us(1000L);
  }
  wait_processed(e, d.sent);
  for (int i = 0; i < 40; ++i) {
    driver_step(&d, 128U, true);
  }
  ck_assert_msg(!d.errors, "first: %s", d.first_error);
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.frames_processed, d.sent);
  // Real frames: the ones played before the stall and after the dropped
  // stretch's silence, none of the dropped ones
  ck_assert_uint_gt(d.real, 40U * 128U);
  rtl_engine_free(e);
}
END_TEST

/*
  A control change is state: the MIDI of a period whose audio the audio
  thread had to drop still reaches the processor, at its own frame, in
  order, while the worker processes silence in the period's place.
*/
START_TEST(test_midi_of_dropped_period)
{
  static TestProc tp;
  static Driver   d;
  RtlEngineConfig cfg = base_config(1U, 512U);
  cfg.max_block       = 128U;
  RtlEngine* const e  = start_engine(&tp, &cfg, &d);
  for (int i = 0; i < 4; ++i) {
    driver_step(&d, 128U, true);
  }

  enum { MAX_EVENTS = 200 };
  static uint64_t in_pos[MAX_EVENTS];
  static bool     in_dropped[MAX_EVENTS];
  uint32_t        n_ev    = 0U;
  uint32_t        dropped = 0U;
  RtlEngineStats  s;
  atomic_store(&tp.gate, true);
  // One control change per period, until eight periods were dropped
  while (dropped < 8U) {
    ck_assert_uint_lt(n_ev, MAX_EVENTS);
    RtlMidiEvent ev;
    memset(&ev, 0, sizeof(ev));
    ev.frame   = (n_ev * 37U) % 128U;
    ev.size    = 3U;
    ev.data[0] = 0xB0U;
    ev.data[1] = 7U;
    ev.data[2] = (uint8_t)(n_ev & 0x7FU);
    rtl_engine_stats(e, &s);
    const uint64_t before = s.input_dropped_periods;
    in_pos[n_ev]          = d.pos + ev.frame;
    driver_period(&d, 128U, &ev, 1U, true);
    rtl_engine_stats(e, &s);
    in_dropped[n_ev++] = s.input_dropped_periods != before;
    dropped += s.input_dropped_periods != before ? 1U : 0U;
    d.pos += 128U;
    if (!atomic_load(&tp.at_gate)) {
      sleep_us(200L); // Let the worker reach the gate early on
    }
  }
  atomic_store(&tp.gate, false);
  // A period that gets through tells the worker where the gap ends
  for (int i = 0; i < 200; ++i) {
    driver_period(&d, 128U, NULL, 0U, true);
    d.pos += 128U;
    rtl_engine_stats(e, &s);
    if (s.frames_processed >= d.pos) {
      break;
    }
    sleep_us(1000L);
  }
  rtl_engine_stop(e);

  ck_assert_uint_eq(tp.bad_blocks, 0U);
  ck_assert_uint_eq(tp.n_log, n_ev);
  uint32_t seen_in_dropped = 0U;
  for (uint32_t i = 0U; i < n_ev; ++i) {
    ck_assert_uint_eq(tp.log_id[i], (7U << 7U) | (i & 0x7FU));
    ck_assert_uint_eq(tp.log_pos[i], in_pos[i]);
    seen_in_dropped += in_dropped[i] ? 1U : 0U;
  }
  ck_assert_uint_eq(seen_in_dropped, 8U);
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.midi_dropped, 0U);
  ck_assert_uint_ge(s.input_dropped_periods, 8U);
  rtl_engine_free(e);
}
END_TEST

/*
  In the steady state the audio thread makes no system call: the worker
  wakes on its own timer and takes each period before the next, so the
  audio thread never posts, whatever the period's size against L (a
  period of L/4, L/2 or L once posted every time).  The trial paces
  itself by the worker, not the clock (the period after the worker caught
  up), at 8 kHz, where the worker's wake interval is 16 ms and it goes
  idle only after two periods of silence; a trial in which the test thread
  was held up that long proves nothing and runs again.

  The controls: a stalled worker is woken, and a worker that went idle is
  woken once when input comes back, not every period.
*/
static bool
posts_trial(const uint32_t n, uint64_t* const posts)
{
  static TestProc tp;
  static Driver   d;
  RtlEngineConfig cfg = base_config(1U, 1024U);
  cfg.sample_rate     = 8000.0;
  cfg.max_block       = n;
  cfg.wake_frames     = 0U; // L / 8
  RtlEngine* const e  = start_engine(&tp, &cfg, &d);
  driver_step(&d, n, true);

  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  const uint64_t  first  = s.worker_posts;
  const double    idle_s = 2.0 * n / cfg.sample_rate;
  bool            valid  = true;
  struct timespec t0;
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 24 && valid; ++i) {
    // Timed from one step's end to the next's: a hold-up anywhere counts
    driver_step(&d, n, true);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double dt = (double)(t1.tv_sec - t0.tv_sec) +
                      1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    valid = dt < idle_s / 2.0;
    t0    = t1;
  }
  ck_assert_msg(!d.errors, "first: %s", d.first_error);
  rtl_engine_stats(e, &s);
  *posts = s.worker_posts - first;
  rtl_engine_free(e);
  return valid;
}

START_TEST(test_no_posts_steady_state)
{
  static const uint32_t periods[] = {256U, 512U, 1024U}; // L/4, L/2, L
  for (size_t i = 0U; i < sizeof(periods) / sizeof(periods[0]); ++i) {
    uint64_t posts = 0U;
    int      tries = 0;
    while (!posts_trial(periods[i], &posts)) {
      ck_assert_msg(++tries < 5, "machine too loaded: no valid trial");
    }
    ck_assert_msg(posts == 0U,
                  "period %u: %llu posts in the steady state",
                  periods[i],
                  (unsigned long long)posts);
  }
}
END_TEST

/*
  A rate change under a running engine (PipeWire): with the rate and L
  both doubled, the audio thread's threshold for waking a stalled worker
  (twice L / 8) doubles with them, where the old rate's 256 frames would
  have it post every period at the new one.
*/
START_TEST(test_posts_follow_rate)
{
  static TestProc tp;
  static Driver   d;
  RtlEngineConfig cfg = base_config(1U, 1024U);
  cfg.sample_rate     = 8000.0;
  cfg.max_block       = 128U;
  cfg.high_water      = 2048U;
  cfg.wake_frames     = 0U;
  RtlEngine* const e  = start_engine(&tp, &cfg, &d);
  driver_step(&d, 128U, true);
  ck_assert_int_eq(rtl_engine_set_sample_rate(NULL, 16000.0), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_set_sample_rate(e, 0.0), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_set_sample_rate(e, -8000.0), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_set_sample_rate(e, (double)NAN), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_set_sample_rate(e, (double)INFINITY),
                   RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_set_sample_rate(e, 16000.0), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_set_latency(e, 2048U), RTL_SUCCESS);

  // Until the worker has made the change and the audio thread has taken
  // it (from the next period on)
  RtlEngineStats s;
  for (int i = 0; i < 10000; ++i) {
    driver_period(&d, 128U, NULL, 0U, true);
    d.pos += 128U;
    wait_processed(e, d.sent);
    rtl_engine_stats(e, &s);
    if (s.adjustments == 1U) {
      break;
    }
  }
  ck_assert_uint_eq(s.adjustments, 1U);
  for (int i = 0; i < 2; ++i) {
    driver_period(&d, 128U, NULL, 0U, true);
    d.pos += 128U;
    wait_processed(e, d.sent);
  }

  // Stalled: backlogs before the six periods of 0..640 frames (128..768 if
  // the worker has not taken the first): only those of 512 frames or more
  // post, where those of 256 or more did at the old rate (4 or 5)
  rtl_engine_stats(e, &s);
  const uint64_t before = s.worker_posts;
  atomic_store(&tp.gate, true);
  for (int i = 0; i < 6; ++i) {
    driver_period(&d, 128U, NULL, 0U, true);
    d.pos += 128U;
  }
  rtl_engine_stats(e, &s);
  ck_assert_uint_ge(s.worker_posts - before, 1U);
  ck_assert_uint_le(s.worker_posts - before, 3U);
  atomic_store(&tp.gate, false);
  wait_processed(e, d.sent);
  rtl_engine_free(e);
}
END_TEST

START_TEST(test_posts_when_needed)
{
  static TestProc tp;
  static Driver   d;
  RtlEngineConfig cfg = base_config(1U, 1024U);
  cfg.sample_rate     = 8000.0;
  cfg.max_block       = 128U;
  cfg.wake_frames     = 0U;
  RtlEngine* const e  = start_engine(&tp, &cfg, &d);
  driver_step(&d, 128U, true);

  // Stalled: once twice the wake interval (256 frames) waits from earlier
  // periods, every period posts
  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  uint64_t before = s.worker_posts;
  atomic_store(&tp.gate, true);
  for (int i = 0; i < 6; ++i) {
    driver_period(&d, 128U, NULL, 0U, true);
    d.pos += 128U;
  }
  rtl_engine_stats(e, &s);
  // Backlogs before the periods: 0..640 frames once the worker holds the
  // first; at least the last three are over 256
  ck_assert_uint_ge(s.worker_posts - before, 3U);
  atomic_store(&tp.gate, false);
  wait_processed(e, d.sent);

  // Idle: no input for a second (the worker goes idle after 32 ms), then
  // ten periods in lockstep: at most one post, for the first
  sleep_us(1000000L);
  rtl_engine_stats(e, &s);
  before = s.worker_posts;
  for (int i = 0; i < 10; ++i) {
    driver_step(&d, 128U, false);
  }
  rtl_engine_stats(e, &s);
  ck_assert_uint_le(s.worker_posts - before, 1U);
  rtl_engine_free(e);
}
END_TEST

/*
  Latency changes, on two channels: a 375 Hz sine (a smooth signal whose
  largest step between frames is known) and the position code.  Every
  frame is classified as "old" (exactly the input L_old frames back),
  "new" (L_new back) or neither (faded, or inserted silence).
*/
#define SINE_PERIOD 128.0

static float
sine_at(const uint64_t k)
{
  return (float)(0.5 * sin(2.0 * M_PI * (double)k / SINE_PERIOD));
}

typedef struct {
  uint64_t pos;
  uint64_t n_old;
  uint64_t n_between;
  uint64_t n_new;
  bool     order_broken;
  float    prev;
  float    max_step;
} Change;

static void
classify(Change* const       ch,
         const float* const* out,
         const uint32_t      n,
         const uint64_t      l_old,
         const uint64_t      l_new)
{
  for (uint32_t i = 0U; i < n; ++i, ++ch->pos) {
    const uint64_t t = ch->pos;
    const float    s = out[0][i];
    const float    k = out[1][i];
    const bool     is_old =
      t >= l_old && k == (float)(t - l_old + 1U) && s == sine_at(t - l_old);
    const bool is_new =
      t >= l_new && k == (float)(t - l_new + 1U) && s == sine_at(t - l_new);
    if (is_old && !ch->n_between && !ch->n_new) {
      ++ch->n_old;
    } else if (is_new) {
      ++ch->n_new;
    } else if (!ch->n_new) {
      ++ch->n_between;
    } else {
      ch->order_broken = true;
    }
    const float step = fabsf(s - ch->prev);
    if (step > ch->max_step) {
      ch->max_step = step;
    }
    ch->prev = s;
  }
}

static void
change_period(RtlEngine* const e,
              Driver* const    d,
              Change* const    ch,
              const uint32_t   n,
              const uint64_t   l_old,
              const uint64_t   l_new)
{
  for (uint32_t i = 0U; i < n; ++i) {
    d->in[0][i] = sine_at(d->pos + i);
    d->in[1][i] = (float)(d->pos + i + 1U);
  }
  rtl_engine_process(
    e, d->in_p, d->out_p, NULL, 0U, d->midi_out, 64U, &d->n_midi_out, n);
  d->sent += n;
  classify(ch, (const float* const*)d->out_p, n, l_old, l_new);
  d->pos += n;
  wait_processed(e, d->sent);
}

START_TEST(test_latency_change)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(2U, 1200U);
  cfg.max_block          = 128U;
  cfg.high_water         = 4000U;
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_set_latency(e, 0U), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_set_latency(e, 4001U), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 2U);
  const float    normal     = (float)(2.0 * 0.5 * sin(M_PI / SINE_PERIOD));
  const uint64_t steps[][2] = {{1200U, 2000U}, {2000U, 600U}, {600U, 601U}};

  Change ch;
  memset(&ch, 0, sizeof(ch));
  // Past the prefill first
  while (d.pos < 1200U + 1280U) {
    change_period(e, &d, &ch, 128U, 1200U, 1200U);
  }
  for (size_t i = 0U; i < sizeof(steps) / sizeof(steps[0]); ++i) {
    const uint64_t l_old = steps[i][0];
    const uint64_t l_new = steps[i][1];
    memset(&ch, 0, sizeof(ch));
    ch.pos  = d.pos;
    ch.prev = d.out[0][127];

    ck_assert_int_eq(rtl_engine_set_latency(e, (uint32_t)l_new), RTL_SUCCESS);
    ck_assert_uint_eq(rtl_engine_latency(e), l_new); // Report it at once
    // Until the change is through and the new delay has played a while
    while (ch.n_new < 4000U) {
      change_period(e, &d, &ch, 128U, l_old, l_new);
      ck_assert_uint_lt(d.pos, 1000000U);
    }
    RtlEngineStats s;
    rtl_engine_stats(e, &s);
    ck_assert_uint_eq(s.adjustments, i + 1U);
    ck_assert_uint_eq(s.latency, l_new);
    ck_assert_uint_eq(s.underruns, 0U);
    ck_assert(!ch.order_broken);
    ck_assert_uint_gt(ch.n_old, 0U);
    // Fade out, the inserted silence of a grow, fade in: and no more
    const uint64_t grow = l_new > l_old ? l_new - l_old : 0U;
    ck_assert_uint_le(ch.n_between, 2U * FADE + grow);
    ck_assert_uint_ge(ch.n_between, FADE);
    // No click: the splice moves no faster than the signal itself does
    ck_assert_float_le(ch.max_step, 1.5f * normal);
  }
  rtl_engine_free(e);
}
END_TEST

/*
  MIDI follows a latency change.  The worker is held at a gate while it
  processes the block that ends the fade-out (period G), so the audio
  thread queues the MIDI of the next periods before it learns of the
  change: those events must still come out at the new delay.
*/
typedef struct {
  uint64_t in_pos[2048];
  uint64_t out_pos[2048];
  uint32_t n_in;
  uint32_t n_out;
} MidiTrack;

static void
midi_period(Driver* const    d,
            MidiTrack* const m,
            const bool       lockstep,
            const uint32_t   n_events)
{
  RtlMidiEvent ev;
  memset(&ev, 0, sizeof(ev));
  ev.size    = 3U;
  ev.data[0] = 0x90U;
  ev.frame   = (m->n_in * 7U) % 64U;
  ev.data[1] = (uint8_t)(m->n_in >> 7U);
  ev.data[2] = (uint8_t)(m->n_in & 0x7FU);
  if (n_events) {
    m->in_pos[m->n_in++] = d->pos + ev.frame;
  }
  driver_period(d, 64U, &ev, n_events, true);
  for (uint32_t j = 0U; j < d->n_midi_out; ++j) {
    const uint32_t id =
      (uint32_t)d->midi_out[j].data[1] << 7U | d->midi_out[j].data[2];
    ck_assert_uint_eq(id, m->n_out);
    m->out_pos[m->n_out++] = d->pos + d->midi_out[j].frame;
  }
  d->pos += 64U;
  if (lockstep) {
    wait_processed(d->e, d->sent);
  }
}

START_TEST(test_latency_change_midi)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(1U, 1000U);
  cfg.max_block          = 64U;
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver    d;
  static MidiTrack m;
  memset(&m, 0, sizeof(m));
  driver_init(&d, e, 1U);
  for (int i = 0; i < 40; ++i) {
    midi_period(&d, &m, true, 1U);
  }

  const uint32_t lat[] = {1000U, 1500U, 400U};
  uint32_t       first_after[3];
  uint64_t       k0[3];
  for (size_t phase = 1U; phase < 3U; ++phase) {
    atomic_store(&tp.gate, true);
    ck_assert_int_eq(rtl_engine_set_latency(e, lat[phase]), RTL_SUCCESS);
    // Period G: the fade-out block, at the end of which L changes
    k0[phase] = d.pos + 64U;
    midi_period(&d, &m, false, 1U);
    while (!atomic_load(&tp.at_gate)) {
      sleep_us(100L);
    }
    first_after[phase] = m.n_in;
    for (int i = 0; i < 5; ++i) {
      midi_period(&d, &m, false, 1U); // Queued at the old delay
    }
    atomic_store(&tp.gate, false);
    for (int i = 0; i < 60; ++i) {
      midi_period(&d, &m, true, 1U);
    }
  }
  for (int i = 0; i < 30; ++i) {
    midi_period(&d, &m, true, 0U);
  }
  ck_assert_uint_eq(m.n_out, m.n_in);

  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.adjustments, 2U);
  ck_assert_uint_eq(s.underruns, 0U);

  for (uint32_t i = 0U; i < m.n_out; ++i) {
    const uint64_t in    = m.in_pos[i];
    const uint64_t delay = m.out_pos[i] - in;
    if (i) {
      ck_assert_uint_ge(m.out_pos[i], m.out_pos[i - 1U]);
    }
    if (i < first_after[1]) {
      ck_assert_uint_eq(delay, 1000U);
    } else if (i < first_after[2]) {
      ck_assert_uint_eq(delay, 1500U); // Queued early or not: the new L
    } else if (in + 400U < k0[2] + 1500U) {
      // Their frames are cut by the shrink: played where the cut is
      ck_assert_uint_eq(m.out_pos[i], k0[2] + 1500U);
    } else {
      ck_assert_uint_eq(delay, 400U);
    }
  }
  // The gate period's events went out before the change
  ck_assert_uint_eq(
    m.out_pos[first_after[1] - 1U] - m.in_pos[first_after[1] - 1U], 1000U);
  ck_assert_uint_lt(m.in_pos[first_after[1]], k0[1] + 64U);
  rtl_engine_free(e);
}
END_TEST

START_TEST(test_start_stop)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  tp.fail_inits          = 1U;
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(2U, 300U);
  cfg.max_block          = 100U;
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 2U);

  // Before start: silence, nothing sent, nothing counted
  driver_period(&d, 100U, NULL, 0U, false);
  driver_check(&d, 100U, false);
  d.pos += 100U;
  ck_assert_uint_eq(d.silent, 100U);

  // init() fails: start says so, and nothing runs
  ck_assert_int_eq(rtl_engine_start(e), RTL_FAILURE);
  ck_assert_int_eq(atomic_load(&tp.inits), 1);
  ck_assert_int_eq(atomic_load(&tp.releases), 0);
  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.running, 0U);

  for (int run = 0; run < 3; ++run) {
    ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
    ck_assert_int_eq(rtl_engine_start(e), RTL_BAD_STATE);
    ck_assert_int_eq(atomic_load(&tp.inits), run + 2);

    // Each run starts a fresh timeline: L frames of silence, then exact
    d.latency = d.pos + 300U;
    d.silent  = 0U;
    for (int i = 0; i < 30; ++i) {
      driver_period(&d, 100U, NULL, 0U, true);
      for (uint32_t j = 0U; j < 100U; ++j) {
        const uint64_t t = d.pos + j;
        const int64_t  k = decode((const float* const*)d.out_p, 2U, j);
        if (t < d.latency) {
          ck_assert_int_eq(k, -1);
        } else {
          ck_assert_int_eq(k, (int64_t)(t - 300U));
        }
      }
      d.pos += 100U;
      wait_processed(e, d.sent);
    }

    // Stop: the buffer plays out (300 frames), then silence
    const uint64_t stopped_at = d.pos;
    rtl_engine_stats(e, &s);
    const uint64_t underruns = s.underruns;
    rtl_engine_stop(e);
    rtl_engine_stop(e); // Again: nothing
    ck_assert_int_eq(atomic_load(&tp.releases), run + 1);
    for (int i = 0; i < 6; ++i) {
      driver_period(&d, 100U, NULL, 0U, false);
      for (uint32_t j = 0U; j < 100U; ++j) {
        const uint64_t t = d.pos + j;
        const int64_t  k = decode((const float* const*)d.out_p, 2U, j);
        if (t < stopped_at + 300U) {
          ck_assert_int_eq(k, (int64_t)(t - 300U));
        } else {
          ck_assert_int_eq(k, -1);
        }
      }
      d.pos += 100U;
    }
    rtl_engine_stats(e, &s);
    ck_assert_uint_eq(s.underruns, underruns);
    ck_assert_uint_eq(s.running, 0U);
    ck_assert_uint_eq(s.fill, 0U);
  }
  rtl_engine_free(e);
  ck_assert_int_eq(atomic_load(&tp.releases), 3);
}
END_TEST

START_TEST(test_accessors)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(2U, 2400U);
  cfg.max_block          = 1024U;
  cfg.wake_frames        = 0U;
  RtlEngine* e           = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);

  RtlEngineConfig got;
  rtl_engine_config(e, &got);
  ck_assert_uint_eq(got.n_inputs, 2U);
  ck_assert_uint_eq(got.n_outputs, 2U);
  ck_assert_uint_eq(got.latency, 2400U);
  ck_assert_uint_eq(got.high_water, 4800U);
  ck_assert_uint_eq(got.capacity, 8192U); // >= 4800 + 1024
  ck_assert_uint_eq(got.wake_frames, 300U);
  ck_assert_uint_eq(got.midi_capacity, 512U);
  ck_assert_uint_eq(rtl_engine_latency(e), 2400U);

  RtlEngineStats s;
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.latency, 2400U);
  ck_assert_uint_eq(s.latency_target, 2400U);
  ck_assert_uint_eq(s.fill, 2400U);
  ck_assert_uint_eq(s.capacity, 8192U);
  ck_assert_uint_eq(s.running, 0U);
  ck_assert_uint_eq(s.frames_processed, 0U);

  // While stopped a new latency waits for the next start
  ck_assert_int_eq(rtl_engine_set_latency(e, 3000U), RTL_SUCCESS);
  ck_assert_uint_eq(rtl_engine_latency(e), 3000U);
  (void)rtl_engine_lock_memory(e); // mlock may be refused: prefaulted anyway
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.latency, 3000U);
  ck_assert_uint_eq(s.fill, 3000U);
  ck_assert_uint_eq(s.adjustments, 0U);
  rtl_engine_free(e);

  // Odd sizes are rounded up
  cfg.midi_capacity = 100U;
  cfg.wake_frames   = 7U;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  rtl_engine_config(e, &got);
  ck_assert_uint_eq(got.midi_capacity, 128U);
  ck_assert_uint_eq(got.wake_frames, 7U);
  rtl_engine_free(e);
  rtl_engine_free(NULL);
}
END_TEST

// --- limits
// -------------------------------------------------------------------

START_TEST(test_validation)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  RtlProcessor          p   = test_processor(&tp);
  const RtlEngineConfig ok  = base_config(2U, 1000U);
  RtlEngine*            e   = (RtlEngine*)&tp;
  RtlEngineConfig       cfg = ok;

  ck_assert_int_eq(rtl_engine_new(NULL, NULL, &p, &e), RTL_BAD_ARG);
  ck_assert_ptr_null(e);
  ck_assert_int_eq(rtl_engine_new(NULL, &ok, NULL, &e), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_engine_new(NULL, &ok, &p, NULL), RTL_BAD_ARG);

#define BAD(field, value, status)                                   \
  do {                                                              \
    cfg       = ok;                                                 \
    cfg.field = (value);                                            \
    e         = (RtlEngine*)&tp;                                    \
    ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), (status)); \
    ck_assert_ptr_null(e);                                          \
  } while (0)

  BAD(n_outputs, 0U, RTL_BAD_ARG);
  BAD(n_outputs, 100000U, RTL_BAD_ARG);
  BAD(n_inputs, 100000U, RTL_BAD_ARG);
  BAD(sample_rate, 0.0, RTL_BAD_ARG);
  BAD(sample_rate, -48000.0, RTL_BAD_ARG);
  BAD(sample_rate, NAN, RTL_BAD_ARG);
  BAD(sample_rate, INFINITY, RTL_BAD_ARG);
  BAD(max_block, 0U, RTL_BAD_ARG);
  BAD(max_block, 1U << 20U, RTL_BAD_ARG);
  BAD(latency, 0U, RTL_BAD_ARG);
  BAD(latency, UINT32_MAX, RTL_BAD_ARG);
  BAD(high_water, 999U, RTL_BAD_ARG); // Below the latency
  BAD(capacity, 3000U, RTL_NOT_POW2);
  BAD(capacity, 2048U, RTL_BAD_ARG); // < 2000 + 256
  BAD(wake_frames, 1001U, RTL_BAD_ARG);
  BAD(midi_capacity, 1U << 20U, RTL_BAD_ARG);
  BAD(high_water, 1U << 25U, RTL_TOO_BIG);
#undef BAD

  // Just enough
  cfg          = ok;
  cfg.capacity = 4096U;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  rtl_engine_free(e);
  cfg.high_water = 1000U;
  cfg.capacity   = 2048U;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  rtl_engine_free(e);

  // The processor
  p.abi_version = RTL_PROCESSOR_ABI_VERSION + 1U;
  ck_assert_int_eq(rtl_engine_new(NULL, &ok, &p, &e), RTL_UNSUPPORTED);
  ck_assert_int_eq(rtl_processor_check(&p), RTL_UNSUPPORTED);
  p         = test_processor(&tp);
  p.process = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &ok, &p, &e), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_processor_check(&p), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_processor_check(NULL), RTL_BAD_ARG);

  // No init/release: the state is user_data as it stands
  p         = test_processor(&tp);
  p.init    = NULL;
  p.release = NULL;
  ck_assert_int_eq(rtl_processor_check(&p), RTL_SUCCESS);
  tp.n_in  = 2U;
  tp.n_out = 2U;
  ck_assert_int_eq(rtl_engine_new(NULL, &ok, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
  rtl_engine_free(e);
  ck_assert_int_eq(atomic_load(&tp.inits), 0);
  ck_assert_int_eq(atomic_load(&tp.releases), 0);
}
END_TEST

START_TEST(test_failing_allocator)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor    p   = test_processor(&tp);
  const RtlEngineConfig cfg = base_config(3U, 500U);
  RtlFailingAllocator   a   = rtl_failing_allocator();
  RtlEngine*            e   = NULL;

  ck_assert_int_eq(rtl_engine_new(&a.base, &cfg, &p, &e), RTL_SUCCESS);
  const size_t n = a.n_allocations;
  ck_assert_uint_gt(n, 10U);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
  rtl_engine_stop(e);
  ck_assert_uint_eq(a.n_allocations, n); // Start allocates nothing of ours
  rtl_engine_free(e);
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n; ++i) {
    a             = rtl_failing_allocator();
    a.n_remaining = i;
    e             = (RtlEngine*)&a;
    ck_assert_int_eq(rtl_engine_new(&a.base, &cfg, &p, &e), RTL_NO_MEM);
    ck_assert_ptr_null(e);
    ck_assert_uint_eq(a.n_live, 0U);
  }
}
END_TEST

START_TEST(test_no_allocation_on_rt_path)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(2U, 500U);
  RtlEngine*         e   = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);

  static Driver d;
  driver_init(&d, e, 2U);
  RtlMidiEvent ev[2];
  memset(ev, 0, sizeof(ev));
  ev[0].size  = 3U;
  ev[1].size  = 40U; // Dropped
  ev[1].frame = 5U;
  RtlEngineStats  s;
  RtlEngineConfig got;

  // Running, through a latency change, then stopped and draining
  for (int round = 0; round < 3; ++round) {
    if (round == 1) {
      ck_assert_int_eq(rtl_engine_set_latency(e, 900U), RTL_SUCCESS);
    } else if (round == 2) {
      rtl_engine_stop(e);
    }
    rtl_alloc_trap_arm();
    for (int i = 0; i < 1000; ++i) {
      driver_period(&d, 64U + (uint32_t)(i % 3), ev, 2U, round < 2);
      d.pos += 64U;
      rtl_engine_stats(e, &s);
      rtl_engine_config(e, &got);
      (void)rtl_engine_latency(e);
      if (round < 2 && i % 8 == 7) {
        wait_processed(e, d.sent); // Keep within the input rings
      }
    }
    driver_period(&d, MAX_PERIOD, ev, 2U, round < 2);
    ck_assert_uint_eq(rtl_alloc_trap_disarm(), 0U);
    if (round < 2) {
      wait_processed(e, d.sent);
    }
  }
  rtl_engine_stats(e, &s);
  ck_assert_uint_eq(s.adjustments, 1U); // The change did go through
  rtl_engine_free(e);
}
END_TEST

/// The plug-ins are built next to the unit runner: build/.../examples/.
static void
plugin_path(char* const buf, const size_t size, const char* const name)
{
  char          exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1U);
  ck_assert_int_gt(n, 0);
  exe[n] = '\0';
  // .../tests/unit -> .../examples/NAME
  snprintf(buf, size, "%s/../examples/%s", dirname(exe), name);
}

START_TEST(test_plugin_load)
{
  char path[PATH_MAX + 64];
  plugin_path(path, sizeof(path), "insert_gain.so");
  ck_assert_msg(access(path, R_OK) == 0,
                "%s is missing: build it first (make examples, or the "
                "check-unit target)",
                path);

  setenv("RTL_INSERT_GAIN_DB", "-6.0206", 1); // A half
  const RtlProcessor* p      = NULL;
  void*               handle = NULL;
  ck_assert_int_eq(rtl_processor_load(path, &p, &handle), RTL_SUCCESS);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(handle);
  ck_assert_str_eq(rtl_processor_load_error(), "");
  ck_assert_str_eq(p->name, "gain");
  ck_assert_uint_eq(p->flags & RTL_PROCESSOR_RT_SAFE, RTL_PROCESSOR_RT_SAFE);

  // It runs in an engine: half the input, and linear at low levels
  RtlEngineConfig cfg = base_config(1U, 64U);
  RtlEngine*      e   = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, p, &e), RTL_SUCCESS);
  ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
  float        in[64];
  float        out[64];
  const float* ip[1] = {in};
  float*       op[1] = {out};
  uint32_t     n_midi;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 64; ++j) {
      in[j] = 0.25f * (float)sin((double)(i * 64 + j) * 0.01);
    }
    rtl_engine_process(e, ip, op, NULL, 0U, NULL, 0U, &n_midi, 64U);
    if (i > 0) {
      for (int j = 0; j < 64; ++j) {
        const float want =
          0.125f * (float)sin((double)((i - 1) * 64 + j) * 0.01);
        ck_assert_float_eq_tol(out[j], want, 1e-5f);
      }
    }
    wait_processed(e, 64U * (uint64_t)(i + 1));
  }
  rtl_engine_free(e);
  rtl_processor_unload(handle);
  rtl_processor_unload(NULL);

  plugin_path(path, sizeof(path), "insert_stall.so");
  ck_assert_int_eq(rtl_processor_load(path, &p, &handle), RTL_SUCCESS);
  ck_assert_str_eq(p->name, "stall");
  ck_assert_uint_eq(p->flags & RTL_PROCESSOR_RT_SAFE, 0U);
  rtl_processor_unload(handle);

  // Failures say what went wrong and leave nothing loaded
  p      = (const RtlProcessor*)path;
  handle = path;
  ck_assert_int_eq(rtl_processor_load("/nonexistent/x.so", &p, &handle),
                   RTL_NOT_FOUND);
  ck_assert_ptr_null(p);
  ck_assert_ptr_null(handle);
  ck_assert_ptr_nonnull(strstr(rtl_processor_load_error(), "cannot load"));
  // A real shared object, but not a plug-in
  ck_assert_int_eq(rtl_processor_load("libm.so.6", &p, &handle), RTL_NOT_FOUND);
  ck_assert_ptr_nonnull(
    strstr(rtl_processor_load_error(), RTL_PROCESSOR_DESCRIPTOR_SYMBOL));
  // Not a shared object at all
  char      text[] = "/tmp/rtl-engine-test-XXXXXX";
  const int fd     = mkstemp(text);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "hello\n", 6), 6);
  close(fd);
  ck_assert_int_eq(rtl_processor_load(text, &p, &handle), RTL_NOT_FOUND);
  unlink(text);
  ck_assert_int_eq(rtl_processor_load(NULL, &p, &handle), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_processor_load(path, NULL, &handle), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_processor_load(path, &p, NULL), RTL_BAD_ARG);
}
END_TEST

// --- threads
// -------------------------------------------------------------------

/*
  The handshake: one thread is the audio thread, playing periods as fast
  as it likes, while another starts and stops the engine over and over.
  Whatever the interleaving, a frame played is silence or exactly L late,
  and the counters agree.
*/
typedef struct {
  RtlEngine*  e;
  atomic_bool done;
  uint64_t    periods;
  uint64_t    errors;
  char        first_error[160];
} Restart;

static void*
restart_audio(void* const arg)
{
  Restart* const r = (Restart*)arg;
  static Driver  d;
  driver_init(&d, r->e, 2U);
  d.latency = 256U;
  while (!atomic_load(&r->done)) {
    driver_period(&d, 64U, NULL, 0U, false);
    // Runs restart at arbitrary positions, so check the delay only
    for (uint32_t i = 0U; i < 64U; ++i) {
      const int64_t k = decode((const float* const*)d.out_p, 2U, i);
      if (k == -2 || (k >= 0 && (uint64_t)k + 256U != d.pos + i)) {
        if (!r->errors++) {
          snprintf(r->first_error,
                   sizeof(r->first_error),
                   "frame %lld at %llu",
                   (long long)k,
                   (unsigned long long)(d.pos + i));
        }
      }
    }
    d.pos += 64U;
    ++r->periods;
    if (r->periods % 4U == 0U) {
      sleep_us(100L);
    }
  }
  return NULL;
}

START_TEST(test_threads_restart)
{
  static TestProc tp;
  memset(&tp, 0, sizeof(tp));
  const RtlProcessor p   = test_processor(&tp);
  RtlEngineConfig    cfg = base_config(2U, 256U);
  cfg.max_block          = 64U;
  static Restart r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &r.e), RTL_SUCCESS);

  pthread_t audio;
  ck_assert_int_eq(pthread_create(&audio, NULL, restart_audio, &r), 0);
  const uint64_t cycles = rtl_stress_count(300U);
  uint64_t       rng    = 12345U;
  RtlEngineStats s;
  for (uint64_t i = 0U; i < cycles; ++i) {
    ck_assert_int_eq(rtl_engine_start(r.e), RTL_SUCCESS);
    sleep_us((long)(xorshift(&rng) % 3000U));
    rtl_engine_stats(r.e, &s);
    rtl_engine_stop(r.e);
    sleep_us((long)(xorshift(&rng) % 1000U));
  }
  atomic_store(&r.done, true);
  ck_assert_int_eq(pthread_join(audio, NULL), 0);

  ck_assert_msg(!r.errors,
                "%llu errors, first: %s",
                (unsigned long long)r.errors,
                r.first_error);
  ck_assert_uint_gt(r.periods, 0U);
  ck_assert_int_eq(atomic_load(&tp.inits), (int)cycles);
  ck_assert_int_eq(atomic_load(&tp.releases), (int)cycles);
  rtl_engine_stats(r.e, &s);
  ck_assert_uint_eq(s.overruns, 0U);
  ck_assert_uint_gt(s.frames_processed, 0U);
  rtl_engine_free(r.e);
}
END_TEST

Suite*
rtl_suite_engine(void)
{
  Suite* const s = suite_create("engine");

  TCase* const core = tcase_create("core");
  tcase_set_timeout(core, 60);
  tcase_add_test(core, test_delay_exact);
  tcase_add_test(core, test_channel_mapping);
  tcase_add_test(core, test_midi_exact);
  tcase_add_test(core, test_midi_limits);
  tcase_add_test(core, test_stall_absorbed);
  tcase_add_test(core, test_stall_longer_than_latency);
  tcase_add_test(core, test_input_dropped);
  tcase_add_test(core, test_midi_of_dropped_period);
  tcase_add_test(core, test_no_posts_steady_state);
  tcase_add_test(core, test_posts_when_needed);
  tcase_add_test(core, test_posts_follow_rate);
  tcase_add_test(core, test_latency_change);
  tcase_add_test(core, test_latency_change_midi);
  tcase_add_test(core, test_start_stop);
  tcase_add_test(core, test_accessors);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_set_timeout(limits, 60);
  tcase_add_test(limits, test_validation);
  tcase_add_test(limits, test_failing_allocator);
  tcase_add_test(limits, test_plugin_load);
  if (rtl_alloc_trap_available()) {
    tcase_add_test(limits, test_no_allocation_on_rt_path);
  }
  suite_add_tcase(s, limits);

  TCase* const threads = tcase_create("threads");
  tcase_set_timeout(threads, 120);
  tcase_add_test(threads, test_threads_restart);
  suite_add_tcase(s, threads);

  return s;
}
