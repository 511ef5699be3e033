// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-probe: a JACK client for signal tests.  It plays sines or DC into
// named ports, captures named ports, and measures them: peak and RMS, and
// the absolute JACK frame of the first sample that changes.  It can also
// send an OSC message itself, plainly or in a bundle time-tagged for a
// chosen frame, and report when the change reached the captured port.
//
// Playing and capturing are two JACK clients, `NAME_src` and `NAME_sink`,
// so the graph runs src -> device under test -> sink in one cycle with no
// feedback loop: sample i of a sink cycle is the device's output for frame
// jack_last_frame_time() + i.

#define _POSIX_C_SOURCE 200809L

#include "connect.h"
#include "ramp.h"

#include <jack/jack.h>
#include <lo/lo.h>

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
#include <unistd.h>

#define RTL_PROBE_MAX_PORTS 16
#define RTL_PROBE_MAX_MSGS 64
#define RTL_PROBE_NTP_UNIX_OFFSET 2208988800ULL
#define RTL_PROBE_TWO_PI 6.283185307179586476925286766559

typedef enum {
  RTL_PROBE_SILENCE,
  RTL_PROBE_SINE,
  RTL_PROBE_DC,
  RTL_PROBE_RAMP,
} RtlProbeWave;

typedef struct {
  char*        dest;
  RtlProbeWave wave;
  double       freq;
  double       amp;
  double       phase;
  jack_port_t* port;
} RtlProbePlay;

typedef struct {
  const char*  source;
  jack_port_t* port;
  float*       buf;
} RtlProbeCapture;

typedef struct {
  const char* path;
  lo_message  msg;
} RtlProbeMsg;

typedef struct {
  jack_client_t* src;
  jack_client_t* sink;
  double         rate;
  uint32_t       period;

  RtlProbePlay    play[RTL_PROBE_MAX_PORTS];
  size_t          n_play;
  RtlProbeCapture cap[RTL_PROBE_MAX_PORTS];
  size_t          n_cap;
  size_t          cap_frames; // capacity of each capture buffer

  // Capture handshake: main sets want_frames and then arms (release); the
  // sink's process callback starts at the first cycle at or after
  // start_after, publishes start_frame, and sets done (release) when full.
  atomic_uint    armed;
  atomic_uint    started;
  atomic_uint    done;
  size_t         want_frames;
  jack_nframes_t start_after;
  jack_nframes_t start_frame;
  size_t         filled;
  atomic_uint    cycles; // sink cycles, to line a send up with a cycle start
  atomic_uint    cycle_frame; // start frame of the latest sink cycle
  atomic_uint    xruns; // reported by the server, or a gap in the sink's frame
                        // times: a trial with one is void
  atomic_uint    gaps;  // the gaps alone, for the final summary
  jack_nframes_t next_frame; // sink thread only: where the next cycle starts
  bool           have_next;

  // --step: the first played port switches from its DC level to half of it
  // at absolute frame step_frame, once step_armed is set (release).
  atomic_uint    step_armed;
  jack_nframes_t step_frame;

  lo_server  osc;
  lo_address target;
  long       n_errors;
  double     after_s; // how long a trial captures after its target frame
  long   onsets; // > 0: trials also list onsets after that many silent samples
  double threshold;
} RtlProbe;

static volatile sig_atomic_t g_stop;

static void
on_signal(const int sig)
{
  (void)sig;
  g_stop = 1;
}

static void
sleep_ms(const long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_stop) {
  }
}

static double
now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
src_process(const jack_nframes_t nframes, void* const arg)
{
  RtlProbe* const p = (RtlProbe*)arg;
  for (size_t k = 0U; k < p->n_play; ++k) {
    RtlProbePlay* const pl  = &p->play[k];
    float* const        out = (float*)jack_port_get_buffer(pl->port, nframes);
    switch (pl->wave) {
    case RTL_PROBE_SILENCE:
      memset(out, 0, nframes * sizeof(float));
      break;
    case RTL_PROBE_DC:
      if (k == 0U &&
          atomic_load_explicit(&p->step_armed, memory_order_acquire)) {
        const jack_nframes_t t0 = jack_last_frame_time(p->src);
        for (jack_nframes_t i = 0U; i < nframes; ++i) {
          const bool after = (int32_t)(t0 + i - p->step_frame) >= 0;
          out[i]           = (float)(after ? pl->amp * 0.5 : pl->amp);
        }
      } else {
        for (jack_nframes_t i = 0U; i < nframes; ++i) {
          out[i] = (float)pl->amp;
        }
      }
      break;
    case RTL_PROBE_RAMP: {
      const jack_nframes_t t0 = jack_last_frame_time(p->src);
      for (jack_nframes_t i = 0U; i < nframes; ++i) {
        out[i] = rtl_ramp(t0 + i, (uint32_t)pl->freq, (float)pl->amp);
      }
      break;
    }
    case RTL_PROBE_SINE: {
      const double step = RTL_PROBE_TWO_PI * pl->freq / p->rate;
      for (jack_nframes_t i = 0U; i < nframes; ++i) {
        out[i] = (float)(pl->amp * sin(pl->phase));
        pl->phase += step;
        if (pl->phase >= RTL_PROBE_TWO_PI) {
          pl->phase -= RTL_PROBE_TWO_PI;
        }
      }
      break;
    }
    }
  }
  return 0;
}

static int
sink_process(const jack_nframes_t nframes, void* const arg)
{
  RtlProbe* const p = (RtlProbe*)arg;
  atomic_fetch_add_explicit(&p->cycles, 1U, memory_order_release);
  // A cycle that does not start where the last one ended means the server
  // skipped or repeated frames: count it like an xrun.
  const jack_nframes_t start = jack_last_frame_time(p->sink);
  if (p->have_next && start != p->next_frame) {
    atomic_fetch_add_explicit(&p->xruns, 1U, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gaps, 1U, memory_order_relaxed);
  }
  p->next_frame = start + nframes;
  p->have_next  = true;
  atomic_store_explicit(&p->cycle_frame, start, memory_order_release);
  if (!atomic_load_explicit(&p->armed, memory_order_acquire) ||
      atomic_load_explicit(&p->done, memory_order_relaxed)) {
    return 0;
  }
  const jack_nframes_t now = jack_last_frame_time(p->sink);
  if (!atomic_load_explicit(&p->started, memory_order_relaxed)) {
    if ((int32_t)(now - p->start_after) < 0) {
      return 0;
    }
    p->start_frame = now;
    p->filled      = 0U;
    atomic_store_explicit(&p->started, 1U, memory_order_release);
  }
  size_t n = nframes;
  if (n > p->want_frames - p->filled) {
    n = p->want_frames - p->filled;
  }
  for (size_t k = 0U; k < p->n_cap; ++k) {
    const float* const in =
      (const float*)jack_port_get_buffer(p->cap[k].port, nframes);
    memcpy(p->cap[k].buf + p->filled, in, n * sizeof(float));
  }
  p->filled += n;
  if (p->filled == p->want_frames) {
    atomic_store_explicit(&p->done, 1U, memory_order_release);
  }
  return 0;
}

static int
on_xrun(void* const arg)
{
  RtlProbe* const p = (RtlProbe*)arg;
  atomic_fetch_add_explicit(&p->xruns, 1U, memory_order_relaxed);
  return 0;
}

static void
usage(FILE* const out)
{
  fputs(
    "usage: rtl-probe [-s SERVER] [-N NAME] [OPTION...] [/path [TYPES "
    "[ARG...]]...]\n"
    "  -s, --server NAME     JACK server (default: the default server)\n"
    "  -N, --name NAME       client name prefix (default rtl-probe)\n"
    "  -P, --play PORT=WAVE  play into an input port; WAVE: sine:HZ:AMP,"
    " dc:VALUE,\n"
    "                        ramp:PERIOD:AMP (a sawtooth known from the "
    "frame), silence\n"
    "  -C, --capture PORT    capture an output port\n"
    "  -f, --frames N        capture N frames (default: 0.5 s)\n"
    "  -S, --seconds SEC     capture (or, without captures, play) SEC seconds;"
    "\n                        0 plays until SIGINT/SIGTERM\n"
    "  -w, --settle SEC      wait after connecting before capturing"
    " (default 0.3)\n"
    "  -T, --threshold T     a sample has changed when it differs from the"
    "\n                        first captured one by more than T"
    " (default 1e-4)\n"
    "  -p, --osc-port PORT   send the messages given after the options there\n"
    "  -t, --timed SEC       send each message in a bundle time-tagged for a"
    "\n                        frame SEC ahead (default 0.5) and check the"
    " frame\n"
    "  -u, --untimed         send each message plainly and measure the delay\n"
    "  -k, --step SEC        no OSC: the first --play (dc) halves at a frame"
    "\n                        SEC ahead; checks the path's latency\n"
    "  -n, --trials N        --step trials (default 3)\n"
    "  -W, --after SEC       trials capture SEC past their frame (default "
    "0.5)\n"
    "  -o, --onsets N        also list the frames where a captured port starts"
    "\n                        sounding after N silent samples\n"
    "Output lines:\n"
    "  start_frame F frames N xruns X gaps G period P rate R\n"
    "  capture PORT peak P peak_db D rms R rms_db D change_frame F|none"
    " first V\n"
    "  onsets PORT F...\n"
    "  timed N expected F observed G error E remapped M xruns X gaps G "
    "period P rate "
    "R\n"
    "  untimed N sent S observed G delay D xruns X gaps G period P rate R\n"
    "    (S: start frame of the latest cycle when the message was sent)\n"
    "  step N expected F observed G error E xruns X gaps G period P rate R\n"
    "A trial with xruns > 0 measured a glitch of the server, not the device\n"
    "(under jackd -S, which waits for late clients, only gaps > 0 did).\n",
    out);
}

static int
parse_play(const char* const arg, RtlProbePlay* const pl)
{
  const char* const eq = strrchr(arg, '=');
  if (!eq || eq == arg) {
    return -1;
  }
  const size_t dlen = (size_t)(eq - arg);
  char* const  dest = (char*)malloc(dlen + 1U);
  if (!dest) {
    return -1;
  }
  memcpy(dest, arg, dlen);
  dest[dlen]          = '\0';
  pl->dest            = dest;
  const char* const w = eq + 1;
  if (!strcmp(w, "silence")) {
    pl->wave = RTL_PROBE_SILENCE;
    return 0;
  }
  if (sscanf(w, "sine:%lf:%lf", &pl->freq, &pl->amp) == 2) {
    pl->wave = RTL_PROBE_SINE;
    return 0;
  }
  unsigned period = 0U;
  if (sscanf(w, "ramp:%u:%lf", &period, &pl->amp) == 2 && period > 1U) {
    pl->wave = RTL_PROBE_RAMP;
    pl->freq = (double)period; // The period in frames, for a ramp
    return 0;
  }
  if (sscanf(w, "dc:%lf", &pl->amp) == 1) {
    pl->wave = RTL_PROBE_DC;
    return 0;
  }
  return -1;
}

static lo_message
parse_message(const int    argc,
              char** const argv,
              int* const   i,
              const char** path)
{
  *path             = argv[(*i)++];
  const char* types = "";
  if (*i < argc && argv[*i][0] != '/') {
    types = strcmp(argv[*i], "-") ? argv[*i] : "";
    ++*i;
  }
  lo_message const m = lo_message_new();
  for (const char* t = types; *t; ++t) {
    if (*i >= argc) {
      lo_message_free(m);
      return NULL;
    }
    const char* const a = argv[(*i)++];
    switch (*t) {
    case 'i':
      lo_message_add_int32(m, (int32_t)strtol(a, NULL, 0));
      break;
    case 'f':
      lo_message_add_float(m, strtof(a, NULL));
      break;
    case 's':
      lo_message_add_string(m, a);
      break;
    default:
      lo_message_free(m);
      return NULL;
    }
  }
  return m;
}

static int
on_reply(const char* const path,
         const char* const types,
         lo_arg** const    argv,
         const int         argc,
         lo_message const  msg,
         void* const       user_data)
{
  RtlProbe* const p = (RtlProbe*)user_data;
  (void)msg;
  printf("reply %s %s", path, types);
  for (int i = 0; i < argc; ++i) {
    // Copied out: a lo_arg member access could be misaligned.
    const unsigned char* const a = (const unsigned char*)argv[i];
    if (types[i] == 's') {
      printf(" %s", (const char*)a);
    } else if (types[i] == 'f') {
      float f = 0.0f;
      memcpy(&f, a, sizeof(f));
      printf(" %g", (double)f);
    } else if (types[i] == 'i') {
      int32_t v = 0;
      memcpy(&v, a, sizeof(v));
      printf(" %" PRId32, v);
    }
  }
  printf("\n");
  if (!strcmp(path, "/error")) {
    ++p->n_errors;
  }
  return 0;
}

static double
to_db(const double v)
{
  return v > 0.0 ? 20.0 * log10(v) : -INFINITY;
}

// Captures `frames` frames starting at the first cycle at or after `after`;
// returns 0 once done, -1 on timeout or signal.
static int
capture_arm(RtlProbe* const p, const size_t frames, const jack_nframes_t after)
{
  atomic_store_explicit(&p->armed, 0U, memory_order_release);
  atomic_store_explicit(&p->started, 0U, memory_order_relaxed);
  atomic_store_explicit(&p->done, 0U, memory_order_relaxed);
  p->want_frames = frames;
  p->start_after = after;
  atomic_store_explicit(&p->armed, 1U, memory_order_release);
  return 0;
}

static int
capture_wait(RtlProbe* const p, atomic_uint* const flag, const double timeout_s)
{
  const double end = now_seconds() + timeout_s;
  while (!atomic_load_explicit(flag, memory_order_acquire)) {
    if (g_stop || now_seconds() > end) {
      return -1;
    }
    lo_server_recv_noblock(p->osc, 1);
  }
  return 0;
}

// The first frame whose sample differs from the first captured sample by
// more than the threshold, or -1.
static long
first_change(const RtlProbe* const p, const size_t k, const double threshold)
{
  const float* const x = p->cap[k].buf;
  for (size_t i = 1U; i < p->want_frames; ++i) {
    if (fabs((double)x[i] - (double)x[0]) > threshold) {
      return (long)i;
    }
  }
  return -1;
}

// Frames where a port starts sounding after at least `quiet` silent
// samples: the clicks of a metronome.
static void
report_onsets(const RtlProbe* const p, const double threshold, const long quiet)
{
  for (size_t k = 0U; k < p->n_cap; ++k) {
    printf("onsets %s", p->cap[k].source);
    long silent = 0; // a capture that starts mid-sound has no onset there
    for (size_t i = 0U; i < p->want_frames; ++i) {
      if (fabs((double)p->cap[k].buf[i]) > threshold) {
        if (silent >= quiet) {
          printf(" %" PRIu32, (uint32_t)(p->start_frame + (jack_nframes_t)i));
        }
        silent = 0;
      } else {
        ++silent;
      }
    }
    printf("\n");
  }
}

static void
report_captures(const RtlProbe* const p, const double threshold)
{
  for (size_t k = 0U; k < p->n_cap; ++k) {
    double peak = 0.0;
    double sum  = 0.0;
    for (size_t i = 0U; i < p->want_frames; ++i) {
      const double v = (double)p->cap[k].buf[i];
      peak           = fabs(v) > peak ? fabs(v) : peak;
      sum += v * v;
    }
    const double rms = sqrt(sum / (double)p->want_frames);
    const long   ch  = first_change(p, k, threshold);
    printf(
      "capture %s peak %.6f peak_db %.3f rms %.6f rms_db %.3f change_frame ",
      p->cap[k].source,
      peak,
      to_db(peak),
      rms,
      to_db(rms));
    if (ch < 0) {
      printf("none");
    } else {
      printf("%" PRIu32, (uint32_t)(p->start_frame + (jack_nframes_t)ch));
    }
    // The first sample: what the capture began with, so a test can tell a
    // signal that had not arrived yet from a change
    printf(" first %.6f\n", p->want_frames ? (double)p->cap[k].buf[0] : 0.0);
  }
}

// Reads jack_get_time() and CLOCK_REALTIME as close together as possible:
// retries until one pair is bracketed by two JACK reads 2 us apart, so a
// preemption between the reads does not skew the mapping.
static void
read_clock_pair(int64_t* const jack_us, int64_t* const unix_us)
{
  for (int tries = 0; tries < 100; ++tries) {
    const jack_time_t a = jack_get_time();
    struct timespec   ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const jack_time_t b = jack_get_time();
    *jack_us            = (int64_t)(a + (b - a) / 2U);
    *unix_us            = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (b - a <= 2U) {
      return;
    }
  }
}

static lo_timetag
unix_us_to_timetag(const int64_t us)
{
  lo_timetag    tt;
  const int64_t sec = us / 1000000;
  const int64_t rem = us % 1000000;
  tt.sec            = (uint32_t)((uint64_t)sec + RTL_PROBE_NTP_UNIX_OFFSET);
  tt.frac           = (uint32_t)(((uint64_t)rem << 32U) / 1000000U);
  return tt;
}

// Waits for the start of a fresh sink cycle, so the time tag is computed
// (and, a few microseconds later, converted back by the daemon) while the
// server's frame/time mapping is the same.
static void
await_cycle_start(RtlProbe* const p)
{
  // Polls every 50 us rather than spinning: a spinning thread would take a
  // core from the server and the device under test, and cause xruns.
  const unsigned c0  = atomic_load_explicit(&p->cycles, memory_order_acquire);
  const double   end = now_seconds() + 2.0;
  while (atomic_load_explicit(&p->cycles, memory_order_acquire) == c0 &&
         now_seconds() < end && !g_stop) {
    const struct timespec ts = {0, 50000L};
    nanosleep(&ts, NULL);
  }
}

// The middle of the span of times that jack_time_to_frames() maps to
// `frame`.  JACK2 rounds to the nearest frame, so that is t(F) itself, and
// t(F) + half a frame sits right on a boundary; searching the mapping
// instead of assuming it keeps the aim in the middle whichever way the
// server rounds.  Returns false if a cycle began meanwhile (the server's
// mapping may have moved): the caller retries.
static bool
aim_at_frame(RtlProbe* const      p,
             const jack_nframes_t frame,
             jack_time_t* const   t)
{
  const unsigned    c0 = atomic_load_explicit(&p->cycles, memory_order_acquire);
  const jack_time_t guess = jack_frames_to_time(p->sink, frame);
  const jack_time_t span  = (jack_time_t)(4.0e6 / p->rate) + 4U;
  jack_time_t       edge[2];
  for (int k = 0; k < 2; ++k) {
    const jack_nframes_t f  = frame + (jack_nframes_t)k;
    jack_time_t          lo = guess - span;      // maps before f
    jack_time_t          hi = guess + 2U * span; // maps at or after f
    while (hi - lo > 1U) {
      const jack_time_t mid = lo + (hi - lo) / 2U;
      if ((int32_t)(jack_time_to_frames(p->sink, mid) - f) >= 0) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    edge[k] = hi;
  }
  *t = edge[0] + (edge[1] - edge[0]) / 2U;
  return atomic_load_explicit(&p->cycles, memory_order_acquire) == c0 &&
         jack_time_to_frames(p->sink, *t) == frame;
}

static int
run_trial(RtlProbe* const          p,
          const int                n,
          const RtlProbeMsg* const m,
          const bool               timed,
          const double             lead_s,
          const double             threshold)
{
  const size_t lead   = (size_t)(lead_s * p->rate);
  const size_t window = (timed ? lead : 0U) + (size_t)(p->after_s * p->rate);
  if (window > p->cap_frames) {
    fprintf(stderr, "rtl-probe: capture buffer too small\n");
    return -1;
  }
  const unsigned xruns0 = atomic_load_explicit(&p->xruns, memory_order_relaxed);
  const unsigned gaps0  = atomic_load_explicit(&p->gaps, memory_order_relaxed);
  capture_arm(p, window, jack_frame_time(p->sink));
  if (capture_wait(p, &p->started, 5.0) != 0) {
    fprintf(stderr, "rtl-probe: capture did not start\n");
    return -1;
  }
  await_cycle_start(p);

  jack_nframes_t expected = 0U;
  jack_nframes_t remapped = 0U;
  jack_nframes_t sent     = 0U;
  int            rc       = 0;
  if (timed) {
    // Aim at the middle of the target frame's span of times so clock-read
    // jitter cannot move the tag across a frame boundary.
    jack_time_t t_us = 0U;
    for (int tries = 0; tries < 10; ++tries) {
      await_cycle_start(p);
      expected = jack_frame_time(p->sink) + (jack_nframes_t)lead;
      if (aim_at_frame(p, expected, &t_us)) {
        break;
      }
    }
    int64_t j_us = 0;
    int64_t u_us = 0;
    read_clock_pair(&j_us, &u_us);
    const int64_t   tag_us = u_us + ((int64_t)t_us - j_us);
    lo_bundle const b      = lo_bundle_new(unix_us_to_timetag(tag_us));
    // The bundle releases its messages; this one is ours to reuse.
    lo_message_incref(m->msg);
    lo_bundle_add_message(b, m->path, m->msg);
    rc       = lo_send_bundle_from(p->target, p->osc, b);
    remapped = jack_time_to_frames(p->sink, t_us);
    lo_bundle_free_recursive(b);
  } else {
    // The reference is the start of the latest cycle at the moment of
    // sending, not jack_frame_time(): that is an estimate which drifts by
    // more than a period on a loaded machine.  The device under test has
    // finished that cycle (it runs before the sink), so the change lands one
    // period after it at the earliest.
    sent = (jack_nframes_t)atomic_load_explicit(&p->cycle_frame,
                                                memory_order_acquire);
    rc   = lo_send_message_from(p->target, p->osc, m->path, m->msg);
  }
  if (rc < 0) {
    fprintf(stderr,
            "rtl-probe: send %s: %s\n",
            m->path,
            lo_address_errstr(p->target));
    return -1;
  }
  if (capture_wait(p, &p->done, 10.0) != 0) {
    fprintf(stderr, "rtl-probe: capture did not finish\n");
    return -1;
  }
  const long ch = first_change(p, 0U, threshold);
  sleep_ms(200); // xrun notifications arrive asynchronously
  const unsigned xruns =
    atomic_load_explicit(&p->xruns, memory_order_relaxed) - xruns0;
  const unsigned gaps =
    atomic_load_explicit(&p->gaps, memory_order_relaxed) - gaps0;
  if (timed) {
    printf("timed %d expected %" PRIu32 " observed ", n, expected);
    if (ch < 0) {
      printf("none error none");
    } else {
      const jack_nframes_t obs = p->start_frame + (jack_nframes_t)ch;
      printf("%" PRIu32 " error %" PRId32, obs, (int32_t)(obs - expected));
    }
    printf(" remapped %" PRIu32 " xruns %u gaps %u period %" PRIu32
           " rate %.0f\n",
           remapped,
           xruns,
           gaps,
           p->period,
           p->rate);
    if (p->onsets > 0) {
      report_onsets(p, p->threshold, p->onsets);
    }
  } else {
    printf("untimed %d sent %" PRIu32 " observed ", n, sent);
    if (ch < 0) {
      printf("none delay none");
    } else {
      const jack_nframes_t obs = p->start_frame + (jack_nframes_t)ch;
      printf("%" PRIu32 " delay %" PRId32, obs, (int32_t)(obs - sent));
    }
    printf(" xruns %u gaps %u period %" PRIu32 " rate %.0f\n",
           xruns,
           gaps,
           p->period,
           p->rate);
  }
  return ch < 0 ? 1 : 0;
}

// A DC step made by the probe itself at a chosen frame: through a
// zero-latency path it must arrive at the same frame.
static int
run_step_trial(RtlProbe* const p,
               const int       n,
               const double    lead_s,
               const double    threshold)
{
  const size_t lead   = (size_t)(lead_s * p->rate);
  const size_t window = lead + (size_t)(p->after_s * p->rate);
  if (window > p->cap_frames) {
    fprintf(stderr, "rtl-probe: capture buffer too small\n");
    return -1;
  }
  atomic_store_explicit(&p->step_armed, 0U, memory_order_release);
  const unsigned xruns0 = atomic_load_explicit(&p->xruns, memory_order_relaxed);
  const unsigned gaps0  = atomic_load_explicit(&p->gaps, memory_order_relaxed);
  capture_arm(p, window, jack_frame_time(p->sink));
  if (capture_wait(p, &p->started, 5.0) != 0) {
    fprintf(stderr, "rtl-probe: capture did not start\n");
    return -1;
  }
  const jack_nframes_t expected =
    jack_frame_time(p->sink) + (jack_nframes_t)lead;
  p->step_frame = expected;
  atomic_store_explicit(&p->step_armed, 1U, memory_order_release);
  if (capture_wait(p, &p->done, 10.0) != 0) {
    fprintf(stderr, "rtl-probe: capture did not finish\n");
    return -1;
  }
  atomic_store_explicit(&p->step_armed, 0U, memory_order_release);
  const long ch = first_change(p, 0U, threshold);
  sleep_ms(200); // xrun notifications arrive asynchronously
  const unsigned xruns =
    atomic_load_explicit(&p->xruns, memory_order_relaxed) - xruns0;
  const unsigned gaps =
    atomic_load_explicit(&p->gaps, memory_order_relaxed) - gaps0;
  printf("step %d expected %" PRIu32 " observed ", n, expected);
  if (ch < 0) {
    printf("none error none");
  } else {
    const jack_nframes_t obs = p->start_frame + (jack_nframes_t)ch;
    printf("%" PRIu32 " error %" PRId32, obs, (int32_t)(obs - expected));
  }
  printf(" xruns %u gaps %u period %" PRIu32 " rate %.0f\n",
         xruns,
         gaps,
         p->period,
         p->rate);
  return ch < 0 ? 1 : 0;
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
            "rtl-probe: cannot open JACK client %s (status 0x%x)\n",
            name,
            (unsigned)st);
  }
  return c;
}

int
main(int argc, char** argv)
{
  static RtlProbe p;
  p.after_s             = 0.5;
  const char* server    = NULL;
  const char* name      = "rtl-probe";
  const char* osc_port  = NULL;
  double      seconds   = 0.5;
  long        frames    = -1;
  double      settle    = 0.3;
  double      threshold = 1e-4;
  double      lead      = 0.5;
  int         mode      = 0; // 0 capture, 1 timed, 2 untimed, 3 step
  long        trials    = 3;
  long onsets = 0; // > 0: also print onsets after that many silent samples

  static const struct option longopts[] = {
    {"server", required_argument, NULL, 's'},
    {"name", required_argument, NULL, 'N'},
    {"play", required_argument, NULL, 'P'},
    {"capture", required_argument, NULL, 'C'},
    {"frames", required_argument, NULL, 'f'},
    {"seconds", required_argument, NULL, 'S'},
    {"settle", required_argument, NULL, 'w'},
    {"threshold", required_argument, NULL, 'T'},
    {"osc-port", required_argument, NULL, 'p'},
    {"timed", optional_argument, NULL, 't'},
    {"untimed", no_argument, NULL, 'u'},
    {"step", optional_argument, NULL, 'k'},
    {"trials", required_argument, NULL, 'n'},
    {"onsets", required_argument, NULL, 'o'},
    {"after", required_argument, NULL, 'W'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int opt = 0;
  while ((opt = getopt_long(
            argc, argv, "+s:N:P:C:f:S:w:T:p:t::uk::n:o:W:h", longopts, NULL)) !=
         -1) {
    switch (opt) {
    case 's':
      server = optarg;
      break;
    case 'N':
      name = optarg;
      break;
    case 'P':
      if (p.n_play == RTL_PROBE_MAX_PORTS ||
          parse_play(optarg, &p.play[p.n_play])) {
        fprintf(stderr, "rtl-probe: bad --play '%s'\n", optarg);
        return 2;
      }
      ++p.n_play;
      break;
    case 'C':
      if (p.n_cap == RTL_PROBE_MAX_PORTS) {
        fprintf(stderr, "rtl-probe: too many captures\n");
        return 2;
      }
      p.cap[p.n_cap++].source = optarg;
      break;
    case 'f':
      frames = strtol(optarg, NULL, 10);
      break;
    case 'S':
      seconds = strtod(optarg, NULL);
      break;
    case 'w':
      settle = strtod(optarg, NULL);
      break;
    case 'T':
      threshold = strtod(optarg, NULL);
      break;
    case 'p':
      osc_port = optarg;
      break;
    case 't':
      mode = 1;
      if (optarg) {
        lead = strtod(optarg, NULL);
      }
      break;
    case 'u':
      mode = 2;
      break;
    case 'k':
      mode = 3;
      if (optarg) {
        lead = strtod(optarg, NULL);
      }
      break;
    case 'n':
      trials = strtol(optarg, NULL, 10);
      break;
    case 'o':
      onsets = strtol(optarg, NULL, 10);
      break;
    case 'W':
      p.after_s = strtod(optarg, NULL);
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }

  RtlProbeMsg msgs[RTL_PROBE_MAX_MSGS];
  size_t      n_msgs = 0U;
  for (int i = optind; i < argc;) {
    if (argv[i][0] != '/' || n_msgs == RTL_PROBE_MAX_MSGS) {
      usage(stderr);
      return 2;
    }
    msgs[n_msgs].msg = parse_message(argc, argv, &i, &msgs[n_msgs].path);
    if (!msgs[n_msgs].msg) {
      fprintf(stderr, "rtl-probe: bad message at '%s'\n", msgs[n_msgs].path);
      return 2;
    }
    ++n_msgs;
  }
  if (mode == 3 && (p.n_play == 0U || p.play[0].wave != RTL_PROBE_DC ||
                    p.n_cap == 0U || n_msgs > 0U)) {
    fprintf(stderr,
            "rtl-probe: --step needs a dc --play first, a --capture and"
            " no messages\n");
    return 2;
  }
  if ((mode == 1 || mode == 2) &&
      (!osc_port || n_msgs == 0U || p.n_cap == 0U)) {
    fprintf(stderr,
            "rtl-probe: --timed/--untimed need --osc-port, --capture and a "
            "message\n");
    return 2;
  }
  if (n_msgs > 0U && mode == 0) {
    fprintf(stderr, "rtl-probe: messages need --timed or --untimed\n");
    return 2;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  setvbuf(stdout, NULL, _IOLBF, 0);

  p.src  = open_client(name, "src", server);
  p.sink = open_client(name, "sink", server);
  if (!p.src || !p.sink) {
    return 1;
  }
  p.rate   = (double)jack_get_sample_rate(p.src);
  p.period = jack_get_buffer_size(p.src);

  p.onsets    = onsets;
  p.threshold = threshold;
  if (frames < 0) {
    frames = (long)(seconds * p.rate);
  }
  p.cap_frames = (size_t)frames;
  if (mode != 0) {
    p.cap_frames = (size_t)((lead + p.after_s) * p.rate) + 1U;
  }
  for (size_t k = 0U; k < p.n_play; ++k) {
    char pn[32];
    snprintf(pn, sizeof(pn), "out_%zu", k + 1U);
    p.play[k].port = jack_port_register(
      p.src, pn, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    if (!p.play[k].port) {
      fprintf(stderr, "rtl-probe: cannot register %s\n", pn);
      return 1;
    }
  }
  for (size_t k = 0U; k < p.n_cap; ++k) {
    char pn[32];
    snprintf(pn, sizeof(pn), "in_%zu", k + 1U);
    p.cap[k].port = jack_port_register(
      p.sink, pn, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    p.cap[k].buf =
      (float*)calloc(p.cap_frames ? p.cap_frames : 1U, sizeof(float));
    if (!p.cap[k].port || !p.cap[k].buf) {
      fprintf(stderr, "rtl-probe: cannot register %s\n", pn);
      return 1;
    }
  }

  if (osc_port) {
    p.osc    = lo_server_new_with_proto(NULL, LO_UDP, NULL);
    p.target = lo_address_new("127.0.0.1", osc_port);
    if (!p.osc || !p.target) {
      fprintf(stderr, "rtl-probe: cannot open an OSC socket\n");
      return 1;
    }
    lo_server_add_method(p.osc, NULL, NULL, on_reply, &p);
  } else {
    p.osc = lo_server_new_with_proto(NULL, LO_UDP, NULL); // a place to poll
  }

  jack_set_xrun_callback(p.sink, on_xrun, &p);
  jack_set_process_callback(p.src, src_process, &p);
  jack_set_process_callback(p.sink, sink_process, &p);
  if (jack_activate(p.src) || jack_activate(p.sink)) {
    fprintf(stderr, "rtl-probe: cannot activate\n");
    return 1;
  }
  int status = 0;
  for (size_t k = 0U; k < p.n_play; ++k) {
    if (rtl_tool_connect(
          p.src, jack_port_name(p.play[k].port), p.play[k].dest)) {
      fprintf(stderr, "rtl-probe: cannot connect to %s\n", p.play[k].dest);
      status = 1;
    }
  }
  for (size_t k = 0U; k < p.n_cap; ++k) {
    if (rtl_tool_connect(
          p.sink, p.cap[k].source, jack_port_name(p.cap[k].port))) {
      fprintf(stderr, "rtl-probe: cannot connect from %s\n", p.cap[k].source);
      status = 1;
    }
  }

  if (status == 0) {
    const jack_nframes_t after =
      jack_frame_time(p.sink) + (jack_nframes_t)(settle * p.rate);
    if (mode == 0 && p.n_cap > 0U) {
      capture_arm(&p, p.cap_frames, after);
      // Xruns count from the first captured cycle: the settling before it
      // does not matter to what is measured.
      const int      started = capture_wait(&p, &p.started, settle + 10.0);
      const unsigned xruns0 =
        atomic_load_explicit(&p.xruns, memory_order_relaxed);
      const unsigned gaps0 =
        atomic_load_explicit(&p.gaps, memory_order_relaxed);
      if (started != 0 || capture_wait(&p, &p.done, seconds + 10.0) != 0) {
        fprintf(stderr, "rtl-probe: capture did not finish\n");
        status = 1;
      } else {
        sleep_ms(200); // xrun notifications arrive asynchronously
        printf("start_frame %" PRIu32
               " frames %zu xruns %u gaps %u period %" PRIu32 " rate %.0f\n",
               p.start_frame,
               p.want_frames,
               atomic_load_explicit(&p.xruns, memory_order_relaxed) - xruns0,
               atomic_load_explicit(&p.gaps, memory_order_relaxed) - gaps0,
               p.period,
               p.rate);
        report_captures(&p, threshold);
        if (onsets > 0) {
          report_onsets(&p, threshold, onsets);
        }
      }
    } else if (mode == 0) {
      // Play only: for `seconds`, or until a signal when seconds is 0.
      const double end = now_seconds() + seconds;
      while (!g_stop && (seconds <= 0.0 || now_seconds() < end)) {
        sleep_ms(10);
      }
    } else if (mode == 3) {
      for (long k = 0; k < trials && status == 0; ++k) {
        sleep_ms((long)(settle * 1000.0));
        status = run_step_trial(&p, (int)k + 1, lead, threshold) < 0 ? 1 : 0;
      }
    } else {
      sleep_ms((long)(settle * 1000.0));
      for (size_t k = 0U; k < n_msgs && status == 0; ++k) {
        if (k > 0U) {
          sleep_ms((long)(settle * 1000.0)); // let the last ramp finish
        }
        const int rc =
          run_trial(&p, (int)k + 1, &msgs[k], mode == 1, lead, threshold);
        status = rc < 0 ? 1 : status;
      }
      for (int i = 0; i < 20; ++i) {
        lo_server_recv_noblock(p.osc, 5);
      }
    }
  }

  if (mode != 0) {
    printf("summary xruns %u gaps %u\n",
           atomic_load_explicit(&p.xruns, memory_order_relaxed),
           atomic_load_explicit(&p.gaps, memory_order_relaxed));
  }
  jack_deactivate(p.sink);
  jack_deactivate(p.src);
  jack_client_close(p.sink);
  jack_client_close(p.src);
  if (p.target) {
    lo_address_free(p.target);
  }
  lo_server_free(p.osc);
  for (size_t k = 0U; k < n_msgs; ++k) {
    lo_message_free(msgs[k].msg);
  }
  for (size_t k = 0U; k < p.n_cap; ++k) {
    free(p.cap[k].buf);
  }
  for (size_t k = 0U; k < p.n_play; ++k) {
    free(p.play[k].dest);
  }
  if (p.n_errors > 0 && status == 0) {
    status = 1;
  }
  return status;
}
