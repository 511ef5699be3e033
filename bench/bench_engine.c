// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  What write-ahead costs over direct mode: 8 channels, 48 kHz, 64-frame
  periods, a processor that only copies (so that the engine's own cost is
  what is measured).

    bench_engine [SECONDS]

  1. Audio-thread time per period, running periods back to back: direct
     mode (the processing, a copy, done in place) against
     rtl_engine_process().  The worker runs on the other core meanwhile;
     the driver keeps at most 32 periods in flight so that no input is
     dropped, waiting outside the timed calls.  The worker's wake-ups are
     the default ones, so most periods make no system call.

  2. CPU time at the real-time rate: periods paced by the clock at
     48000/64 per second for SECONDS (default 1.5) per run, direct mode
     and the engine alternating, three runs each.  The process's CPU time
     (CLOCK_PROCESS_CPUTIME_ID: the audio thread and the worker together)
     is compared; the difference, as a share of one core, is the cost of
     write-ahead.  The engine runs twice: with its default wake-up
     interval (the worker wakes every L/8, about 160 times a second) and
     waking every period (750 times a second), which shows what a wake-up
     costs.  Medians over runs.  "posts/s" counts the audio thread's own
     wake-ups of the worker (system calls): 0 in the steady state.

  The target: under 1% of one core more than direct mode.
*/

#define _GNU_SOURCE

#include <rtlane/engine.h>
#include <rtlane/processor.h>
#include <rtlane/status.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHANNELS 8U
#define PERIOD 64U
#define RATE 48000.0
#define LATENCY 2400U // 50 ms
#define FAST_PERIODS 200000U
#define RUNS 3U

typedef struct {
  uint32_t channels;
} Copy;

static void
copy_process(void* const               self,
             const float* const* const in,
             float* const* const       out,
             const RtlMidiEvent* const events,
             const uint32_t            n_events,
             const uint32_t            n_frames)
{
  (void)self;
  (void)events;
  (void)n_events;
  for (uint32_t c = 0U; c < CHANNELS; ++c) {
    memcpy(out[c], in[c], n_frames * sizeof(float));
  }
}

static const RtlProcessor copy_processor = {
  RTL_PROCESSOR_ABI_VERSION,
  "copy",
  RTL_PROCESSOR_RT_SAFE,
  NULL,
  copy_process,
  NULL,
  NULL,
};

static float        in_data[CHANNELS][PERIOD];
static float        out_data[CHANNELS][PERIOD];
static const float* in_planes[CHANNELS];
static float*       out_planes[CHANNELS];

static double
now_s(const clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
fill_input(const uint64_t period)
{
  for (uint32_t c = 0U; c < CHANNELS; ++c) {
    for (uint32_t i = 0U; i < PERIOD; ++i) {
      in_data[c][i] = (float)((period * PERIOD + i) % 1000U) * 1e-3f;
    }
  }
}

/// Direct mode: the audio thread does the processing itself.
static void
direct_period(void)
{
  copy_process(NULL, in_planes, out_planes, NULL, 0U, PERIOD);
}

static void
engine_period(RtlEngine* const e)
{
  uint32_t n_midi = 0U;
  rtl_engine_process(
    e, in_planes, out_planes, NULL, 0U, NULL, 0U, &n_midi, PERIOD);
}

static RtlEngine*
make_engine(const uint32_t wake_frames)
{
  RtlEngineConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.n_inputs    = CHANNELS;
  cfg.n_outputs   = CHANNELS;
  cfg.sample_rate = RATE;
  cfg.max_block   = PERIOD;
  cfg.latency     = LATENCY;
  cfg.wake_frames = wake_frames;
  RtlEngine* e    = NULL;
  RtlStatus  st   = rtl_engine_new(NULL, &cfg, &copy_processor, &e);
  if (st) {
    fprintf(stderr, "bench_engine: engine: %s\n", rtl_strerror(st));
    exit(EXIT_FAILURE);
  }
  (void)rtl_engine_lock_memory(e);
  if ((st = rtl_engine_start(e))) {
    fprintf(stderr, "bench_engine: start: %s\n", rtl_strerror(st));
    exit(EXIT_FAILURE);
  }
  return e;
}

static int
cmp_double(const void* const a, const void* const b)
{
  const double x = *(const double*)a;
  const double y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double
median(double* const v, const size_t n)
{
  qsort(v, n, sizeof(double), cmp_double);
  return n % 2U ? v[n / 2U] : 0.5 * (v[n / 2U - 1U] + v[n / 2U]);
}

// --- 1. back to back -----------------------------------------------------

static double
fast_direct(void)
{
  const double t0 = now_s(CLOCK_MONOTONIC);
  for (uint32_t i = 0U; i < FAST_PERIODS; ++i) {
    direct_period();
    __asm__ volatile("" ::: "memory"); // Keep every period's copy
  }
  return (now_s(CLOCK_MONOTONIC) - t0) * 1e9 / FAST_PERIODS;
}

static double
fast_engine(RtlStatus* const status)
{
  RtlEngine* const e     = make_engine(0U);
  double           spent = 0.0;
  RtlEngineStats   s;
  uint64_t         sent = 0U;
  for (uint32_t i = 0U; i < FAST_PERIODS; i += 16U) {
    // At most 32 periods ahead of the worker, waited for off the clock
    for (;;) {
      rtl_engine_stats(e, &s);
      if (sent - s.frames_processed <= 16U * PERIOD) {
        break;
      }
      const struct timespec pause = {0, 2000L};
      nanosleep(&pause, NULL);
    }
    const double t0 = now_s(CLOCK_MONOTONIC);
    for (uint32_t j = 0U; j < 16U; ++j) {
      engine_period(e);
    }
    spent += now_s(CLOCK_MONOTONIC) - t0;
    sent += 16U * PERIOD;
  }
  rtl_engine_stats(e, &s);
  *status = s.input_dropped_frames ? RTL_FULL : RTL_SUCCESS;
  rtl_engine_free(e);
  return spent * 1e9 / FAST_PERIODS;
}

// --- 2. at the real-time rate ----------------------------------------------

typedef struct {
  double   cpu;    ///< Process CPU seconds
  double   rt_cpu; ///< Audio thread CPU seconds
  double   wall;   ///< Seconds
  uint64_t wakeups;
  uint64_t posts; ///< The audio thread's wake-ups of the worker (syscalls)
  uint64_t underruns;
  uint64_t dropped;
} Paced;

static Paced
paced(const int mode, const double seconds)
{
  RtlEngine* const e = mode == 0 ? NULL : make_engine(mode == 1 ? 0U : PERIOD);
  const uint64_t   periods = (uint64_t)(seconds * RATE / PERIOD);
  const long       step_ns = (long)(PERIOD * 1e9 / RATE);
  struct timespec  next;
  clock_gettime(CLOCK_MONOTONIC, &next);

  const double cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  const double rt0  = now_s(CLOCK_THREAD_CPUTIME_ID);
  const double w0   = now_s(CLOCK_MONOTONIC);
  for (uint64_t i = 0U; i < periods; ++i) {
    if (e) {
      engine_period(e);
    } else {
      direct_period();
    }
    next.tv_nsec += step_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      ++next.tv_sec;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) ==
           EINTR) {
    }
  }
  Paced r;
  r.cpu     = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  r.rt_cpu  = now_s(CLOCK_THREAD_CPUTIME_ID) - rt0;
  r.wall    = now_s(CLOCK_MONOTONIC) - w0;
  r.wakeups = r.posts = r.underruns = r.dropped = 0U;
  if (e) {
    RtlEngineStats s;
    rtl_engine_stats(e, &s);
    r.wakeups   = s.worker_wakeups;
    r.posts     = s.worker_posts;
    r.underruns = s.underruns;
    r.dropped   = s.input_dropped_frames;
    rtl_engine_free(e);
  }
  return r;
}

int
main(const int argc, char** const argv)
{
  const double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.5;
  if (!(seconds > 0.0) || seconds > 60.0) {
    fprintf(stderr, "usage: bench_engine [SECONDS (0..60], default 1.5]\n");
    return EXIT_FAILURE;
  }
  for (uint32_t c = 0U; c < CHANNELS; ++c) {
    in_planes[c]  = in_data[c];
    out_planes[c] = out_data[c];
  }
  fill_input(0U);

  printf("write-ahead engine, %u channels, %u-frame periods at %.0f Hz, "
         "L = %u frames\n",
         CHANNELS,
         PERIOD,
         RATE,
         LATENCY);

  RtlStatus    fast_status = RTL_SUCCESS;
  const double direct_ns   = fast_direct();
  const double engine_ns   = fast_engine(&fast_status);
  printf("audio thread, back to back:  direct %7.1f ns/period   engine "
         "%7.1f ns/period   (+%.1f ns)%s\n",
         direct_ns,
         engine_ns,
         engine_ns - direct_ns,
         fast_status ? "  [input dropped]" : "");

  static const char* const names[3] = {
    "direct", "engine", "engine wake/period"};
  double   cpu[3][RUNS];
  double   rt[3][RUNS];
  uint64_t wakeups[3] = {0U, 0U, 0U};
  uint64_t posts[3]   = {0U, 0U, 0U};
  uint64_t underruns  = 0U;
  uint64_t dropped    = 0U;
  double   wall       = 0.0;
  for (uint32_t run = 0U; run < RUNS; ++run) {
    for (int mode = 0; mode < 3; ++mode) {
      const Paced p  = paced(mode, seconds);
      cpu[mode][run] = p.cpu / p.wall;
      rt[mode][run]  = p.rt_cpu / p.wall;
      wakeups[mode] += p.wakeups;
      posts[mode] += p.posts;
      underruns += p.underruns;
      dropped += p.dropped;
      wall += p.wall;
    }
  }

  const double periods_per_s = RATE / PERIOD;
  double       base          = 0.0;
  double       over[3]       = {0.0, 0.0, 0.0};
  printf("at the real-time rate (%.0f periods/s, %u runs of %.1f s, "
         "medians):\n",
         periods_per_s,
         RUNS,
         seconds);
  for (int mode = 0; mode < 3; ++mode) {
    const double c = median(cpu[mode], RUNS) * 100.0;
    const double r = median(rt[mode], RUNS) * 100.0;
    if (!mode) {
      base = c;
    }
    over[mode] = c - base;
    printf("  %-19s process %6.3f%% of a core (audio thread %6.3f%%, "
           "worker %6.3f%%)",
           names[mode],
           c,
           r,
           c - r);
    if (mode) {
      printf("  +%.3f%%, %.0f wake-ups/s, %.1f posts/s",
             over[mode],
             (double)wakeups[mode] / (RUNS * seconds),
             (double)posts[mode] / (RUNS * seconds));
    }
    printf("\n");
  }
  printf("underruns %llu, input dropped %llu frames over %.1f s\n",
         (unsigned long long)underruns,
         (unsigned long long)dropped,
         wall);
  printf("write-ahead overhead %.3f%% of one core: %s (target < 1%%)\n",
         over[1],
         over[1] < 1.0 ? "within target" : "OVER TARGET");
  return EXIT_SUCCESS;
}
