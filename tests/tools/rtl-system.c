// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-system: the ports a sound card gives a JACK graph, for a server that
// has none.  jackd's dummy backend brings system:capture_1.. and
// system:playback_1..; PipeWire on its Dummy-Driver, with no devices,
// brings nothing, and the tests that connect to or autoconnect to the
// "physical" ports need them.  This client registers them as a backend
// does (physical and terminal, capture ports as outputs, playback ports as
// inputs), declares a backend's latencies (capture one period, playback
// two, as jackd -d dummy with its default two periods), writes silence to
// the capture ports, and runs until SIGINT or SIGTERM.
//
// The latencies are set from the main thread, as rtlane does on PipeWire
// (src/daemon/jack.c, on_latency): PipeWire 0.3.65 deadlocks a client that
// sets them inside its latency callback during a quantum change.

#define _POSIX_C_SOURCE 200809L

#include <jack/jack.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RTL_SYSTEM_MAX 8

typedef struct {
  jack_client_t* client;
  unsigned       n;
  jack_port_t*   capture[RTL_SYSTEM_MAX];
  jack_port_t*   playback[RTL_SYSTEM_MAX];
} RtlSystem;

static volatile sig_atomic_t g_stop;
static atomic_bool           g_latency_dirty;

static void
on_signal(const int sig)
{
  (void)sig;
  g_stop = 1;
}

static int
process(const jack_nframes_t nframes, void* const arg)
{
  const RtlSystem* const s = (const RtlSystem*)arg;
  for (unsigned i = 0U; i < s->n; ++i) {
    float* const out = (float*)jack_port_get_buffer(s->capture[i], nframes);
    memset(out, 0, nframes * sizeof(float));
  }
  return 0;
}

static void
on_latency(const jack_latency_callback_mode_t mode, void* const arg)
{
  (void)mode;
  (void)arg;
  atomic_store(&g_latency_dirty, true);
}

/// A backend's own latencies: they start the chains that other clients'
/// latencies add to.  Main thread.
static void
declare_latency(const RtlSystem* const s)
{
  const jack_nframes_t period = jack_get_buffer_size(s->client);
  for (unsigned i = 0U; i < s->n; ++i) {
    jack_latency_range_t r = {period, period};
    jack_port_set_latency_range(s->capture[i], JackCaptureLatency, &r);
    r.min = r.max = 2U * period;
    jack_port_set_latency_range(s->playback[i], JackPlaybackLatency, &r);
  }
}

int
main(int argc, char** argv)
{
  const char* server = NULL;
  RtlSystem   s;
  memset(&s, 0, sizeof(s));
  s.n = 2U;

  int opt = 0;
  while ((opt = getopt(argc, argv, "s:n:h")) != -1) {
    switch (opt) {
    case 's':
      server = optarg;
      break;
    case 'n':
      s.n = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 'h':
      printf("usage: rtl-system [-s SERVER] [-n PORTS]\n"
             "Registers system:capture_1..PORTS and system:playback_1..PORTS"
             "\n(default 2 each) as a sound card's ports, until SIGTERM.\n");
      return 0;
    default:
      return 2;
    }
  }
  if (s.n < 1U || s.n > RTL_SYSTEM_MAX) {
    fprintf(stderr, "rtl-system: -n takes 1 to %d\n", RTL_SYSTEM_MAX);
    return 2;
  }

  jack_status_t  status = (jack_status_t)0;
  jack_options_t opts = (jack_options_t)(JackNoStartServer | JackUseExactName);
  if (server) {
    opts     = (jack_options_t)(opts | JackServerName);
    s.client = jack_client_open("system", opts, &status, server);
  } else {
    s.client = jack_client_open("system", opts, &status);
  }
  if (!s.client) {
    fprintf(stderr, "rtl-system: cannot open client system (0x%x)\n", status);
    return 1;
  }

  const unsigned long phys = JackPortIsPhysical | JackPortIsTerminal;
  for (unsigned i = 0U; i < s.n; ++i) {
    char name[32];
    snprintf(name, sizeof(name), "capture_%u", i + 1U);
    s.capture[i] = jack_port_register(
      s.client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput | phys, 0U);
    snprintf(name, sizeof(name), "playback_%u", i + 1U);
    s.playback[i] = jack_port_register(
      s.client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput | phys, 0U);
    if (!s.capture[i] || !s.playback[i]) {
      fprintf(stderr, "rtl-system: cannot register %s\n", name);
      jack_client_close(s.client);
      return 1;
    }
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  if (jack_set_process_callback(s.client, process, &s) ||
      jack_set_latency_callback(s.client, on_latency, &s) ||
      jack_activate(s.client)) {
    fprintf(stderr, "rtl-system: cannot activate\n");
    jack_client_close(s.client);
    return 1;
  }
  declare_latency(&s);
  printf("rtl-system: ready, %u capture and %u playback ports\n", s.n, s.n);
  fflush(stdout);
  const struct timespec tick = {0, 20000000L};
  while (!g_stop) {
    if (atomic_exchange(&g_latency_dirty, false)) {
      declare_latency(&s);
    }
    nanosleep(&tick, NULL);
  }
  jack_client_close(s.client);
  return 0;
}
