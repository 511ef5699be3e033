// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-delay: checks that a device's audio output is its input delayed by a
// whole number of frames, sample for sample.  It plays into an input port a
// noise whose every sample is a function of its absolute JACK frame
// (noise(f)), captures an output port, finds the delay D at which the first
// captured samples equal noise(t - D) exactly, and then compares every
// captured sample with noise(t - D).
//
// A long capture is cut into rounds, each checked on its own, and each
// round reports the xruns that happened in it or shortly before it: after
// an xrun the server's frame times jump while a delaying device's own
// count of frames does not, so for a while its delay measured in frame
// times is off by the jump.  A round with xruns measured the server.
//
// Like rtl-probe it is two JACK clients, `NAME_src` and `NAME_sink`, so the
// graph runs src -> device -> sink in one cycle: a device that passes its
// input straight through shows D = 0.

#define _POSIX_C_SOURCE 200809L

#include "connect.h"

#include <jack/jack.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/// Samples that must match for a delay to be taken.
#define RTL_DELAY_PROBE 64U

/// Xruns remembered, with the frame time at which they were noticed.
#define RTL_DELAY_MAX_XRUNS 4096U

typedef struct {
  jack_client_t* src;
  jack_client_t* sink;
  jack_port_t*   out;
  jack_port_t*   in;
  float          amp;

  float*          buf;   // captured samples
  jack_nframes_t* frame; // absolute frame of the first sample of each cycle
  size_t          cap;
  size_t          filled;
  atomic_uint     armed;
  atomic_uint     done;
  // Frame times of xruns (notification thread) and of gaps in the sink's
  // timeline (process thread), each list published with a release store
  jack_nframes_t xrun_at[RTL_DELAY_MAX_XRUNS];
  atomic_uint    n_xrun_at;
  jack_nframes_t gap_at[RTL_DELAY_MAX_XRUNS];
  atomic_uint    n_gap_at;
  jack_nframes_t next_frame; // sink thread: where the next cycle starts
  bool           have_next;
} RtlDelay;

static volatile sig_atomic_t g_stop;

static void
on_signal(const int sig)
{
  (void)sig;
  g_stop = 1;
}

static void
sleep_s(const double s)
{
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_stop) {
  }
}

/// A sample in [-amp/2, amp/2) for frame f; exact in float (24 bits).
static float
noise(const uint32_t f, const float amp)
{
  uint32_t x = f * 2654435761U;
  x ^= x >> 16U;
  x *= 0x45d9f3bU;
  x ^= x >> 16U;
  return ((float)(x >> 8U) / 16777216.0f - 0.5f) * amp;
}

static int
src_process(const jack_nframes_t n, void* const arg)
{
  RtlDelay* const      p     = (RtlDelay*)arg;
  float* const         out   = (float*)jack_port_get_buffer(p->out, n);
  const jack_nframes_t first = jack_last_frame_time(p->src);
  for (jack_nframes_t i = 0U; i < n; ++i) {
    out[i] = noise(first + i, p->amp);
  }
  return 0;
}

/// Remember an xrun at frame `at` in `list` (one writing thread per list).
static void
note_xrun(jack_nframes_t* const list,
          atomic_uint* const    n,
          const jack_nframes_t  at)
{
  const unsigned k = atomic_load_explicit(n, memory_order_relaxed);
  if (k < RTL_DELAY_MAX_XRUNS) {
    list[k] = at;
    atomic_store_explicit(n, k + 1U, memory_order_release);
  }
}

static int
on_xrun(void* const arg)
{
  RtlDelay* const p = (RtlDelay*)arg;
  note_xrun(p->xrun_at, &p->n_xrun_at, jack_frame_time(p->sink));
  return 0;
}

static int
sink_process(const jack_nframes_t n, void* const arg)
{
  RtlDelay* const      p     = (RtlDelay*)arg;
  const float* const   in    = (const float*)jack_port_get_buffer(p->in, n);
  const jack_nframes_t first = jack_last_frame_time(p->sink);
  const bool           gap   = p->have_next && first != p->next_frame;
  p->next_frame              = first + n;
  p->have_next               = true;
  if (!atomic_load_explicit(&p->armed, memory_order_acquire) ||
      atomic_load_explicit(&p->done, memory_order_relaxed)) {
    return 0;
  }
  if (gap && p->filled) {
    note_xrun(p->gap_at, &p->n_gap_at, first); // frames were skipped
  }
  for (jack_nframes_t i = 0U; i < n && p->filled < p->cap; ++i) {
    p->buf[p->filled]   = in[i];
    p->frame[p->filled] = first + i;
    ++p->filled;
  }
  if (p->filled == p->cap) {
    atomic_store_explicit(&p->done, 1U, memory_order_release);
  }
  return 0;
}

static jack_client_t*
open_client(const char* const prefix,
            const char* const suffix,
            const char* const server)
{
  char name[128];
  snprintf(name, sizeof(name), "%s_%s", prefix, suffix);
  jack_status_t        st;
  jack_client_t* const c =
    server
      ? jack_client_open(name, JackNoStartServer | JackServerName, &st, server)
      : jack_client_open(name, JackNoStartServer, &st);
  if (!c) {
    fprintf(stderr,
            "rtl-delay: cannot open JACK client %s (status 0x%x)\n",
            name,
            (unsigned)st);
  }
  return c;
}

static void
usage(FILE* const out)
{
  fputs(
    "usage: rtl-delay [-s SERVER] [-N NAME] -P PORT -C PORT [OPTION...]\n"
    "  -s, --server NAME   JACK server (default: the default server)\n"
    "  -N, --name NAME     client name prefix (default rtl-delay)\n"
    "  -P, --play PORT     input port to play the frame-keyed noise into\n"
    "  -C, --capture PORT  output port to capture\n"
    "  -a, --amp A         noise amplitude, peak to peak (default 0.5)\n"
    "  -g, --gain G        the device's gain: compare with G * noise"
    " (default 1)\n"
    "  -T, --tolerance T   a sample matches within T (default 0: exactly)\n"
    "  -S, --seconds SEC   capture rounds this long (default 1)\n"
    "  -R, --rounds N      rounds, back to back (default 1)\n"
    "  -G, --guard SEC     xruns this long before a round count as its own\n"
    "                      (default 0.5: longer than the device's delay)\n"
    "  -w, --settle SEC    wait after connecting (default 0.3)\n"
    "  -m, --max FRAMES    largest delay looked for (default 200000)\n"
    "Output, one line per round:\n"
    "  round K delay D frames N mismatches M first_mismatch F|none xruns X "
    "gaps G"
    " period P rate R\n"
    "  (delay none mismatches none when no delay up to --max fits)\n"
    "and then: summary rounds N clean C xruns X\n"
    "A round with xruns > 0 measured a glitch of the server, not the"
    " device.\n",
    out);
}

int
main(int argc, char** argv)
{
  static RtlDelay p;
  const char*     server  = NULL;
  const char*     name    = "rtl-delay";
  const char*     play    = NULL;
  const char*     capture = NULL;
  double          gain    = 1.0;
  double          tol     = 0.0;
  double          seconds = 1.0;
  long            rounds  = 1;
  double          guard_s = 0.5;
  double          settle  = 0.3;
  long            max_d   = 200000;
  p.amp                   = 0.5f;

  static const struct option long_opts[] = {
    {"server", required_argument, NULL, 's'},
    {"name", required_argument, NULL, 'N'},
    {"play", required_argument, NULL, 'P'},
    {"capture", required_argument, NULL, 'C'},
    {"amp", required_argument, NULL, 'a'},
    {"gain", required_argument, NULL, 'g'},
    {"tolerance", required_argument, NULL, 'T'},
    {"seconds", required_argument, NULL, 'S'},
    {"rounds", required_argument, NULL, 'R'},
    {"guard", required_argument, NULL, 'G'},
    {"settle", required_argument, NULL, 'w'},
    {"max", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int c = 0;
  while ((c = getopt_long(
            argc, argv, "s:N:P:C:a:g:T:S:R:G:w:m:h", long_opts, NULL)) != -1) {
    switch (c) {
    case 's':
      server = optarg;
      break;
    case 'N':
      name = optarg;
      break;
    case 'P':
      play = optarg;
      break;
    case 'C':
      capture = optarg;
      break;
    case 'a':
      p.amp = (float)strtod(optarg, NULL);
      break;
    case 'g':
      gain = strtod(optarg, NULL);
      break;
    case 'T':
      tol = strtod(optarg, NULL);
      break;
    case 'S':
      seconds = strtod(optarg, NULL);
      break;
    case 'R':
      rounds = strtol(optarg, NULL, 10);
      break;
    case 'G':
      guard_s = strtod(optarg, NULL);
      break;
    case 'w':
      settle = strtod(optarg, NULL);
      break;
    case 'm':
      max_d = strtol(optarg, NULL, 10);
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (!play || !capture || seconds <= 0.0 || max_d < 0 || rounds < 1 ||
      guard_s < 0.0) {
    usage(stderr);
    return 2;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  p.src  = open_client(name, "src", server);
  p.sink = open_client(name, "sink", server);
  if (!p.src || !p.sink) {
    return 1;
  }
  const double         rate      = (double)jack_get_sample_rate(p.src);
  const jack_nframes_t period    = jack_get_buffer_size(p.src);
  size_t               round_len = (size_t)(seconds * rate);
  if (round_len < RTL_DELAY_PROBE) {
    round_len = RTL_DELAY_PROBE;
  }
  p.cap   = round_len * (size_t)rounds;
  p.buf   = (float*)calloc(p.cap, sizeof(float));
  p.frame = (jack_nframes_t*)calloc(p.cap, sizeof(jack_nframes_t));
  if (!p.buf || !p.frame) {
    fprintf(stderr, "rtl-delay: out of memory\n");
    return 1;
  }
  p.out = jack_port_register(
    p.src, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0U);
  p.in = jack_port_register(
    p.sink, "in", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0U);
  if (!p.out || !p.in) {
    fprintf(stderr, "rtl-delay: cannot register ports\n");
    return 1;
  }
  jack_set_process_callback(p.src, src_process, &p);
  jack_set_process_callback(p.sink, sink_process, &p);
  jack_set_xrun_callback(p.sink, on_xrun, &p);
  if (jack_activate(p.src) || jack_activate(p.sink)) {
    fprintf(stderr, "rtl-delay: cannot activate\n");
    return 1;
  }
  if (rtl_tool_connect(p.src, jack_port_name(p.out), play) ||
      rtl_tool_connect(p.sink, capture, jack_port_name(p.in))) {
    fprintf(stderr, "rtl-delay: cannot connect %s or %s\n", play, capture);
    return 1;
  }
  sleep_s(settle);

  atomic_store_explicit(&p.armed, 1U, memory_order_release);
  const double deadline = seconds * (double)rounds + 5.0;
  for (double waited = 0.0;
       !atomic_load_explicit(&p.done, memory_order_acquire) && !g_stop &&
       waited < deadline;
       waited += 0.01) {
    sleep_s(0.01);
  }
  if (!atomic_load_explicit(&p.done, memory_order_acquire)) {
    fprintf(stderr, "rtl-delay: capture did not finish\n");
    return 1;
  }
  sleep_s(0.2); // xrun notifications arrive asynchronously
  const unsigned n_xr =
    atomic_load_explicit(&p.n_xrun_at, memory_order_acquire);
  const unsigned n_gap =
    atomic_load_explicit(&p.n_gap_at, memory_order_acquire);

  const float    g     = (float)gain;
  const float    t     = (float)tol;
  const uint32_t guard = (uint32_t)(guard_s * rate);
  long           clean = 0;
  unsigned       total = 0U;
  int            rc    = 0;
  for (long r = 0; r < rounds; ++r) {
    const size_t          base  = (size_t)r * round_len;
    const float* const    buf   = p.buf + base;
    const jack_nframes_t* frame = p.frame + base;

    // Xruns in the round or in the guard time before it (frame times
    // compared with wrap-around arithmetic)
    const jack_nframes_t from = frame[0] - guard;
    const uint32_t       span = frame[round_len - 1U] - from;
    unsigned             xr   = 0U;
    unsigned             gp   = 0U;
    for (unsigned k = 0U; k < n_xr; ++k) {
      xr += (uint32_t)(p.xrun_at[k] - from) <= span;
    }
    for (unsigned k = 0U; k < n_gap; ++k) {
      gp += (uint32_t)(p.gap_at[k] - from) <= span;
    }
    xr += gp;
    total += xr;

    long d = -1;
    for (long cand = 0; cand <= max_d && d < 0; ++cand) {
      bool ok = true;
      for (size_t i = 0U; i < RTL_DELAY_PROBE && ok; ++i) {
        const float want = g * noise(frame[i] - (uint32_t)cand, p.amp);
        ok               = fabsf(buf[i] - want) <= t;
      }
      d = ok ? cand : -1;
    }
    if (d < 0) {
      printf("round %ld delay none frames %zu mismatches none first_mismatch "
             "none xruns %u gaps %u period %" PRIu32 " rate %.0f\n",
             r + 1,
             round_len,
             xr,
             gp,
             period,
             rate);
      rc = 1;
      continue;
    }
    size_t mismatches = 0U;
    long   first_bad  = -1;
    for (size_t i = 0U; i < round_len; ++i) {
      const float want = g * noise(frame[i] - (uint32_t)d, p.amp);
      if (fabsf(buf[i] - want) > t) {
        ++mismatches;
        if (first_bad < 0) {
          first_bad = (long)i;
        }
      }
    }
    printf("round %ld delay %ld frames %zu mismatches %zu first_mismatch ",
           r + 1,
           d,
           round_len,
           mismatches);
    if (first_bad < 0) {
      printf("none");
    } else {
      printf("%" PRIu32, frame[first_bad]);
    }
    printf(
      " xruns %u gaps %u period %" PRIu32 " rate %.0f\n", xr, gp, period, rate);
    clean += xr == 0U;
  }
  printf("summary rounds %ld clean %ld xruns %u\n", rounds, clean, total);

  jack_client_close(p.src);
  jack_client_close(p.sink);
  free(p.buf);
  free(p.frame);
  return rc;
}
