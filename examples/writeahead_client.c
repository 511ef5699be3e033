// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  A minimal JACK client that runs processing which is not real-time safe
  through the write-ahead engine, and tells the graph about the delay.

    writeahead_client [-n NAME] [-s SERVER] [-c CHANNELS] [-l MS] [--stall MS]

  The processor here is a one-pole low-pass filter per channel whose
  brightness follows MIDI CC 74 (sample-accurately: the engine hands each
  event over at its frame), and which, with --stall, pauses every 100 ms
  of audio as a garbage collector would.  It runs on the engine's worker
  thread, L = MS milliseconds ahead of the audio thread; the output ports
  and midi_out report L more latency than their inputs, so the graph lines
  everything up.  MIDI in is passed to midi_out delayed by the same L.

  SIGUSR1 / SIGUSR2 make L 10 ms longer / shorter at run time: the engine
  crossfades across the change, and the main thread reports the new L with
  jack_recompute_total_latencies().  SIGINT or SIGTERM quits.  Every second
  a line of health counters goes to stderr.
*/

#define _GNU_SOURCE

#include <rtlane/engine.h>
#include <rtlane/processor.h>
#include <rtlane/status.h>

#include <jack/jack.h>
#include <jack/midiport.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CHANNELS 64U
#define MAX_MIDI 256U // Events per period taken from midi_in

// --- the processor: runs on the worker thread --------------------------------

typedef struct {
  double   rate;
  uint32_t channels;
  float    coef; // One-pole coefficient, from CC 74
  float    state[MAX_CHANNELS];
  uint64_t frames;
  uint64_t next_pause;
  long     stall_ms;
} Filter;

static void*
filter_init(const RtlProcessorConfig* const config, void* const user_data)
{
  const long    stall_ms = *(const long*)user_data;
  Filter* const self     = (Filter*)calloc(1U, sizeof(Filter));
  if (!self) {
    return NULL;
  }
  self->rate       = config->sample_rate;
  self->channels   = config->n_outputs;
  self->coef       = 0.5f;
  self->stall_ms   = stall_ms;
  self->next_pause = (uint64_t)(config->sample_rate / 10.0);
  return self;
}

/// CC 74 (0..127) to a coefficient: 0 is dark, 127 lets everything through.
static float
brightness(const uint8_t value, const double rate)
{
  const double hz = 50.0 * pow(2.0, (double)value / 127.0 * 8.5);
  return (float)(1.0 -
                 exp(-2.0 * M_PI * (hz < rate / 2.0 ? hz : rate / 2.0) / rate));
}

static void
filter_process(void* const               state,
               const float* const* const in,
               float* const* const       out,
               const RtlMidiEvent* const events,
               const uint32_t            n_events,
               const uint32_t            n_frames)
{
  Filter* const self = (Filter*)state;
  uint32_t      next = 0U;
  for (uint32_t i = 0U; i < n_frames; ++i) {
    // Events take effect at their own frame
    for (; next < n_events && events[next].frame <= i; ++next) {
      const uint8_t* const d = events[next].data;
      if (events[next].size == 3U && (d[0] & 0xF0U) == 0xB0U && d[1] == 74U) {
        self->coef = brightness(d[2], self->rate);
      }
    }
    for (uint32_t c = 0U; c < self->channels; ++c) {
      self->state[c] += self->coef * (in[c][i] - self->state[c]);
      out[c][i] = self->state[c];
    }
  }

  self->frames += n_frames;
  if (self->stall_ms && self->frames >= self->next_pause) {
    self->next_pause += (uint64_t)(self->rate / 10.0);
    const struct timespec pause = {self->stall_ms / 1000L,
                                   (self->stall_ms % 1000L) * 1000000L};
    nanosleep(&pause, NULL);
  }
}

static void
filter_release(void* const state)
{
  free(state);
}

// --- the JACK side
// ---------------------------------------------------------------

typedef struct {
  jack_client_t* client;
  RtlEngine*     engine;
  uint32_t       channels;
  jack_port_t*   in[MAX_CHANNELS];
  jack_port_t*   out[MAX_CHANNELS];
  jack_port_t*   midi_in;
  jack_port_t*   midi_out;
  const float*   in_buf[MAX_CHANNELS];
  float*         out_buf[MAX_CHANNELS];
  RtlMidiEvent   midi_in_events[MAX_MIDI];
  RtlMidiEvent   midi_out_events[MAX_MIDI];
} App;

static int
process(const jack_nframes_t n_frames, void* const arg)
{
  App* const app = (App*)arg;
  for (uint32_t c = 0U; c < app->channels; ++c) {
    app->in_buf[c]  = (const float*)jack_port_get_buffer(app->in[c], n_frames);
    app->out_buf[c] = (float*)jack_port_get_buffer(app->out[c], n_frames);
  }

  // MIDI in, with each event's true size: the engine drops and counts
  // what it cannot carry (SysEx)
  void* const    min = jack_port_get_buffer(app->midi_in, n_frames);
  const uint32_t n   = jack_midi_get_event_count(min);
  uint32_t       k   = 0U;
  for (uint32_t i = 0U; i < n && k < MAX_MIDI; ++i) {
    jack_midi_event_t ev;
    if (jack_midi_event_get(&ev, min, i)) {
      continue;
    }
    RtlMidiEvent* const e = &app->midi_in_events[k++];
    e->frame              = ev.time;
    e->size               = (uint32_t)ev.size;
    memcpy(e->data,
           ev.buffer,
           ev.size < RTL_MIDI_EVENT_MAX ? ev.size : RTL_MIDI_EVENT_MAX);
  }

  uint32_t n_out = 0U;
  rtl_engine_process(app->engine,
                     app->in_buf,
                     app->out_buf,
                     app->midi_in_events,
                     k,
                     app->midi_out_events,
                     MAX_MIDI,
                     &n_out,
                     n_frames);

  void* const mout = jack_port_get_buffer(app->midi_out, n_frames);
  jack_midi_clear_buffer(mout);
  for (uint32_t i = 0U; i < n_out; ++i) {
    const RtlMidiEvent* const e = &app->midi_out_events[i];
    (void)jack_midi_event_write(mout, e->frame, e->data, e->size);
  }
  return 0;
}

/// Widen `range` by port's range in `mode`; a port with no connection adds
/// nothing.
static void
widen(jack_port_t* const                 port,
      const jack_latency_callback_mode_t mode,
      jack_latency_range_t* const        range,
      bool* const                        any)
{
  if (!jack_port_connected(port)) {
    return;
  }
  jack_latency_range_t r;
  jack_port_get_latency_range(port, mode, &r);
  range->min = *any && range->min < r.min ? range->min : r.min;
  range->max = *any && range->max > r.max ? range->max : r.max;
  *any       = true;
}

/*
  The engine delays everything by L: a signal leaving an output left the
  capture side L frames more ago than it entered the input, and one
  entering an input reaches the playback side L frames later than it
  leaves the output.  Ports set only here, as JACK requires.
*/
static void
latency(const jack_latency_callback_mode_t mode, void* const arg)
{
  App* const           app   = (App*)arg;
  const jack_nframes_t L     = rtl_engine_latency(app->engine);
  jack_latency_range_t range = {0U, 0U};
  bool                 any   = false;

  jack_port_t* const* from = mode == JackCaptureLatency ? app->in : app->out;
  jack_port_t* const* to   = mode == JackCaptureLatency ? app->out : app->in;
  jack_port_t* const  mfrom =
    mode == JackCaptureLatency ? app->midi_in : app->midi_out;
  jack_port_t* const mto =
    mode == JackCaptureLatency ? app->midi_out : app->midi_in;

  for (uint32_t c = 0U; c < app->channels; ++c) {
    widen(from[c], mode, &range, &any);
  }
  widen(mfrom, mode, &range, &any);
  range.min += L;
  range.max += L;
  for (uint32_t c = 0U; c < app->channels; ++c) {
    jack_port_set_latency_range(to[c], mode, &range);
  }
  jack_port_set_latency_range(mto, mode, &range);
}

static void
usage(FILE* const out)
{
  fprintf(
    out,
    "usage: writeahead_client [OPTION]...\n"
    "Run a (deliberately not real-time safe) filter through rtlane's\n"
    "write-ahead engine as a JACK client, reporting the added latency.\n"
    "\n"
    "  -n, --name NAME      JACK client name (default writeahead)\n"
    "  -s, --server NAME    JACK server (default: the default one)\n"
    "  -c, --channels N     audio channels in and out, 1..%u (default 2)\n"
    "  -l, --latency MS     write-ahead latency in ms (default 50)\n"
    "      --stall MS       pause the filter MS ms every 100 ms of audio\n"
    "  -h, --help           show this and exit\n"
    "\n"
    "Ports: in_1..in_N, out_1..out_N, midi_in, midi_out.  MIDI CC 74\n"
    "sets the filter's brightness.  SIGUSR1/SIGUSR2: latency +/- 10 ms.\n"
    "SIGINT/SIGTERM: quit.\n",
    MAX_CHANNELS);
}

static bool
parse_long(const char* const s, const long lo, const long hi, long* const v)
{
  char* end    = NULL;
  errno        = 0;
  const long x = strtol(s, &end, 10);
  if (errno || end == s || *end || x < lo || x > hi) {
    return false;
  }
  *v = x;
  return true;
}

int
main(const int argc, char** const argv)
{
  const char* name     = "writeahead";
  const char* server   = NULL;
  long        channels = 2;
  long        ms       = 50;
  long        stall_ms = 0;

  static const struct option options[] = {
    {"name", required_argument, NULL, 'n'},
    {"server", required_argument, NULL, 's'},
    {"channels", required_argument, NULL, 'c'},
    {"latency", required_argument, NULL, 'l'},
    {"stall", required_argument, NULL, 'S'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int opt = 0;
  while ((opt = getopt_long(argc, argv, "n:s:c:l:h", options, NULL)) != -1) {
    switch (opt) {
    case 'n':
      name = optarg;
      break;
    case 's':
      server = optarg;
      break;
    case 'c':
      if (!parse_long(optarg, 1, MAX_CHANNELS, &channels)) {
        fprintf(stderr, "writeahead_client: bad --channels '%s'\n", optarg);
        return 2;
      }
      break;
    case 'l':
      if (!parse_long(optarg, 1, 10000, &ms)) {
        fprintf(stderr, "writeahead_client: bad --latency '%s'\n", optarg);
        return 2;
      }
      break;
    case 'S':
      if (!parse_long(optarg, 0, 10000, &stall_ms)) {
        fprintf(stderr, "writeahead_client: bad --stall '%s'\n", optarg);
        return 2;
      }
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    usage(stderr);
    return 2;
  }

  // Signals are taken by sigtimedwait below; every thread JACK and the
  // engine create inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);

  static App    app;
  jack_status_t status = (jack_status_t)0;
  app.channels         = (uint32_t)channels;
  app.client           = jack_client_open(
    name,
    server ? (jack_options_t)(JackNoStartServer | JackServerName)
                     : JackNoStartServer,
    &status,
    server);
  if (!app.client) {
    fprintf(stderr,
            "writeahead_client: cannot connect to JACK (status 0x%x)\n",
            (unsigned)status);
    return 1;
  }

  const double         rate   = (double)jack_get_sample_rate(app.client);
  const jack_nframes_t period = jack_get_buffer_size(app.client);
  const RtlProcessor   filter = {
      RTL_PROCESSOR_ABI_VERSION,
      "filter",
      0U,
      filter_init,
      filter_process,
      filter_release,
      &stall_ms,
  };
  RtlEngineConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.n_inputs    = app.channels;
  cfg.n_outputs   = app.channels;
  cfg.sample_rate = rate;
  cfg.max_block   = period;
  cfg.latency     = (uint32_t)lround((double)ms * rate / 1000.0);
  cfg.high_water  = cfg.latency * 4U; // Room for SIGUSR1
  RtlStatus st    = rtl_engine_new(NULL, &cfg, &filter, &app.engine);
  if (st) {
    fprintf(stderr, "writeahead_client: engine: %s\n", rtl_strerror(st));
    jack_client_close(app.client);
    return 1;
  }
  if (cfg.latency <= period) {
    fprintf(stderr,
            "writeahead_client: warning: %u frames of latency do not "
            "cover the %u-frame period\n",
            cfg.latency,
            period);
  }
  if (rtl_engine_lock_memory(app.engine)) {
    fprintf(stderr,
            "writeahead_client: note: memory not locked (mlock "
            "refused); it is prefaulted\n");
  }

  char port_name[32];
  bool ports_ok = true;
  for (uint32_t c = 0U; c < app.channels; ++c) {
    snprintf(port_name, sizeof(port_name), "in_%u", c + 1U);
    app.in[c] = jack_port_register(
      app.client, port_name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    snprintf(port_name, sizeof(port_name), "out_%u", c + 1U);
    app.out[c] = jack_port_register(
      app.client, port_name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    ports_ok = ports_ok && app.in[c] && app.out[c];
  }
  app.midi_in = jack_port_register(
    app.client, "midi_in", JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0);
  app.midi_out = jack_port_register(
    app.client, "midi_out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
  ports_ok = ports_ok && app.midi_in && app.midi_out;

  // The latency callback goes in before activation, as JACK requires
  if (!ports_ok || jack_set_process_callback(app.client, process, &app) ||
      jack_set_latency_callback(app.client, latency, &app) ||
      (st = rtl_engine_start(app.engine)) || jack_activate(app.client)) {
    fprintf(stderr,
            "writeahead_client: setting up failed%s%s\n",
            st ? ": " : "",
            st ? rtl_strerror(st) : "");
    jack_client_close(app.client);
    rtl_engine_free(app.engine);
    return 1;
  }
  fprintf(stderr,
          "writeahead_client: %s running, %u channels, L = %u frames "
          "(%.1f ms) at %.0f Hz\n",
          jack_get_client_name(app.client),
          app.channels,
          cfg.latency,
          (double)cfg.latency * 1000.0 / rate,
          rate);

  const struct timespec second = {1, 0};
  for (;;) {
    const int sig = sigtimedwait(&signals, NULL, &second);
    if (sig == SIGINT || sig == SIGTERM) {
      break;
    }
    if (sig == SIGUSR1 || sig == SIGUSR2) {
      const long step = lround(rate / 100.0);
      const long now  = (long)rtl_engine_latency(app.engine);
      const long want = sig == SIGUSR1 ? now + step : now - step;
      if (want > 0 && !rtl_engine_set_latency(app.engine, (uint32_t)want)) {
        // Not from a JACK callback: this is a thread of our own
        jack_recompute_total_latencies(app.client);
        fprintf(stderr, "writeahead_client: L = %ld frames\n", want);
      }
      continue;
    }
    RtlEngineStats s;
    rtl_engine_stats(app.engine, &s);
    fprintf(stderr,
            "L %u fill %u underruns %llu dropped %llu input-dropped %llu "
            "worker %.1f/%.1f us (mean/max)\n",
            s.latency,
            s.fill,
            (unsigned long long)s.underruns,
            (unsigned long long)s.dropped_frames,
            (unsigned long long)s.input_dropped_frames,
            (double)s.worker_ns_mean / 1000.0,
            (double)s.worker_ns_max / 1000.0);
  }

  jack_deactivate(app.client);
  jack_client_close(app.client);
  rtl_engine_free(app.engine);
  return 0;
}
