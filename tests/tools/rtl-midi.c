// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-midi: a JACK MIDI client for the integration tests.  It sends note-on
// and note-off events into a MIDI input port at chosen absolute frames and
// records the absolute frame at which each one comes out of a MIDI output
// port, so a test can check a device's MIDI delay to the frame; or it sends
// a list of control changes (for /midi/map).
//
// Like rtl-probe it is two JACK clients, `NAME_src` and `NAME_sink`, so the
// graph runs src -> device under test -> sink in one cycle with no feedback
// loop: an event the device passes straight through arrives in the same
// cycle, at the same frame.

#define _POSIX_C_SOURCE 200809L

#include "connect.h"

#include <jack/jack.h>
#include <jack/midiport.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RTL_MIDI_MAX_EVENTS 256
#define RTL_MIDI_MAX_RECEIVED 4096

/// Exit status when the server could not take the clients in.
#define RTL_MIDI_EXIT_ACTIVATE 75

typedef struct {
  uint8_t        data[3];
  jack_nframes_t frame; // when to send (absolute)
  jack_nframes_t sent;  // when it was written (absolute)
  atomic_uint    done;
} RtlMidiOut;

typedef struct {
  uint8_t        data[3];
  size_t         size;
  jack_nframes_t frame;
} RtlMidiIn;

typedef struct {
  jack_client_t* src;
  jack_client_t* sink;
  jack_port_t*   out;
  jack_port_t*   in;

  RtlMidiOut  ev[RTL_MIDI_MAX_EVENTS];
  size_t      n_ev;
  atomic_uint armed; // main -> src: ev[] is ready
  size_t      next;  // src thread: next event to send

  RtlMidiIn      got[RTL_MIDI_MAX_RECEIVED];
  atomic_uint    n_got;     // sink thread writes, main reads (acquire)
  atomic_uint    recording; // main -> sink
  atomic_uint    xruns;
  atomic_uint    gaps;
  jack_nframes_t next_frame; // sink thread: where the next cycle starts
  bool           have_next;
} RtlMidi;

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

static int
src_process(const jack_nframes_t n, void* const arg)
{
  RtlMidi* const p   = (RtlMidi*)arg;
  void* const    buf = jack_port_get_buffer(p->out, n);
  jack_midi_clear_buffer(buf);
  if (!atomic_load_explicit(&p->armed, memory_order_acquire)) {
    return 0;
  }
  const jack_nframes_t first = jack_last_frame_time(p->src);
  jack_nframes_t       prev  = 0U;
  while (p->next < p->n_ev) {
    RtlMidiOut* const e  = &p->ev[p->next];
    const int32_t     at = (int32_t)(e->frame - first);
    if (at >= (int32_t)n) {
      break;
    }
    // An event whose frame has passed (armed late) goes out now, and says so.
    jack_nframes_t off = at < 0 ? 0U : (jack_nframes_t)at;
    off                = off < prev ? prev : off;
    if (jack_midi_event_write(buf, off, e->data, 3U) != 0) {
      break; // no room: next cycle
    }
    prev    = off;
    e->sent = first + off;
    atomic_store_explicit(&e->done, 1U, memory_order_release);
    ++p->next;
  }
  return 0;
}

static int
sink_process(const jack_nframes_t n, void* const arg)
{
  RtlMidi* const       p     = (RtlMidi*)arg;
  void* const          buf   = jack_port_get_buffer(p->in, n);
  const jack_nframes_t first = jack_last_frame_time(p->sink);
  if (p->have_next && first != p->next_frame) {
    atomic_fetch_add_explicit(&p->gaps, 1U, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->xruns, 1U, memory_order_relaxed);
  }
  p->next_frame = first + n;
  p->have_next  = true;
  if (!atomic_load_explicit(&p->recording, memory_order_acquire)) {
    return 0;
  }
  const uint32_t count = jack_midi_get_event_count(buf);
  unsigned       k     = atomic_load_explicit(&p->n_got, memory_order_relaxed);
  for (uint32_t i = 0U; i < count && k < RTL_MIDI_MAX_RECEIVED; ++i) {
    jack_midi_event_t ev;
    if (jack_midi_event_get(&ev, buf, i) != 0) {
      continue;
    }
    RtlMidiIn* const r = &p->got[k++];
    r->size            = ev.size;
    memset(r->data, 0, sizeof(r->data));
    memcpy(r->data, ev.buffer, ev.size < 3U ? ev.size : 3U);
    r->frame = first + ev.time;
  }
  atomic_store_explicit(&p->n_got, k, memory_order_release);
  return 0;
}

/// How many of the first `n` control changes sent came back, in order.
static size_t
count_returned(RtlMidi* const p, const size_t n)
{
  const unsigned n_got = atomic_load_explicit(&p->n_got, memory_order_acquire);
  size_t         k     = 0U;
  for (unsigned i = 0U; i < n_got && k < n; ++i) {
    if (p->got[i].size == 3U && !memcmp(p->got[i].data, p->ev[k].data, 3U)) {
      ++k;
    }
  }
  return k;
}

static int
on_xrun(void* const arg)
{
  RtlMidi* const p = (RtlMidi*)arg;
  atomic_fetch_add_explicit(&p->xruns, 1U, memory_order_relaxed);
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
            "rtl-midi: cannot open JACK client %s (status 0x%x)\n",
            name,
            (unsigned)st);
  }
  return c;
}

static void
usage(FILE* const out)
{
  fputs(
    "usage: rtl-midi [-s SERVER] [-N NAME] -o PORT [-i PORT] [OPTION...]\n"
    "  -s, --server NAME   JACK server (default: the default server)\n"
    "  -N, --name NAME     client name prefix (default rtl-midi)\n"
    "  -o, --to PORT       MIDI input port to send into\n"
    "  -i, --from PORT     MIDI output port to record (needed for notes)\n"
    "  -n, --notes N       note-on/note-off pairs to send (default 8, at most"
    " 64)\n"
    "  -g, --gap MS        between notes (default 40)\n"
    "  -l, --lead SEC      first note this far after arming (default 0.1)\n"
    "  -w, --settle SEC    wait after connecting (default 0.3)\n"
    "  -W, --after SEC     keep recording after the last note (default 0.3)\n"
    "  -c, --cc CC:VALUE   send this control change instead of notes (one\n"
    "                      per period, channel 1); repeatable\n"
    "Output (notes):\n"
    "  event K status S data D sent F received G delay D\n"
    "  (received none delay none when it never came)\n"
    "  summary sent N received M xruns X gaps G period P rate R\n"
    "Output (control changes):\n"
    "  cc K number N value V sent F|none   (one per control change)\n"
    "  cc sent N returned M xruns X gaps G   (M: how many came back in order\n"
    "                      --from, which proves the receiver took them)\n"
    "A run with xruns > 0 measured a glitch of the server, not the device.\n",
    out);
}

int
main(int argc, char** argv)
{
  static RtlMidi p;
  const char*    server = NULL;
  const char*    name   = "rtl-midi";
  const char*    to     = NULL;
  const char*    from   = NULL;
  long           notes  = 8;
  double         gap_ms = 40.0;
  double         lead   = 0.1;
  double         settle = 0.3;
  double         after  = 0.3;
  size_t         n_cc   = 0U;
  uint8_t        cc[RTL_MIDI_MAX_EVENTS][2];

  static const struct option long_opts[] = {
    {"server", required_argument, NULL, 's'},
    {"name", required_argument, NULL, 'N'},
    {"to", required_argument, NULL, 'o'},
    {"from", required_argument, NULL, 'i'},
    {"notes", required_argument, NULL, 'n'},
    {"gap", required_argument, NULL, 'g'},
    {"lead", required_argument, NULL, 'l'},
    {"settle", required_argument, NULL, 'w'},
    {"after", required_argument, NULL, 'W'},
    {"cc", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int c = 0;
  while ((c = getopt_long(
            argc, argv, "s:N:o:i:n:g:l:w:W:c:h", long_opts, NULL)) != -1) {
    switch (c) {
    case 's':
      server = optarg;
      break;
    case 'N':
      name = optarg;
      break;
    case 'o':
      to = optarg;
      break;
    case 'i':
      from = optarg;
      break;
    case 'n':
      notes = strtol(optarg, NULL, 10);
      break;
    case 'g':
      gap_ms = strtod(optarg, NULL);
      break;
    case 'l':
      lead = strtod(optarg, NULL);
      break;
    case 'w':
      settle = strtod(optarg, NULL);
      break;
    case 'W':
      after = strtod(optarg, NULL);
      break;
    case 'c': {
      unsigned num = 0U;
      unsigned val = 0U;
      if (n_cc >= RTL_MIDI_MAX_EVENTS ||
          sscanf(optarg, "%u:%u", &num, &val) != 2 || num > 127U ||
          val > 127U) {
        fprintf(stderr, "rtl-midi: bad --cc '%s'\n", optarg);
        return 2;
      }
      cc[n_cc][0] = (uint8_t)num;
      cc[n_cc][1] = (uint8_t)val;
      ++n_cc;
      break;
    }
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (!to || (!n_cc && !from) || notes < 1 || notes > 64 || gap_ms < 0.0) {
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
  p.out = jack_port_register(
    p.src, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0U);
  p.in = jack_port_register(
    p.sink, "in", JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0U);
  if (!p.out || !p.in) {
    fprintf(stderr, "rtl-midi: cannot register ports\n");
    return 1;
  }
  jack_set_process_callback(p.src, src_process, &p);
  jack_set_process_callback(p.sink, sink_process, &p);
  jack_set_xrun_callback(p.sink, on_xrun, &p);
  if (jack_activate(p.src) || jack_activate(p.sink)) {
    // The server waits a few periods for a graph to take a new client in;
    // a loaded one may not manage: a status of its own, so a test can say
    // so (and try again) rather than blame the daemon.
    fprintf(stderr, "rtl-midi: cannot activate\n");
    jack_client_close(p.sink);
    jack_client_close(p.src);
    return RTL_MIDI_EXIT_ACTIVATE;
  }
  if (rtl_tool_connect(p.src, jack_port_name(p.out), to)) {
    fprintf(stderr, "rtl-midi: cannot connect to %s\n", to);
    return 1;
  }
  if (from && rtl_tool_connect(p.sink, from, jack_port_name(p.in))) {
    fprintf(stderr, "rtl-midi: cannot connect from %s\n", from);
    return 1;
  }
  sleep_s(settle);

  const double         rate   = (double)jack_get_sample_rate(p.src);
  const jack_nframes_t period = jack_get_buffer_size(p.src);
  const unsigned xruns0 = atomic_load_explicit(&p.xruns, memory_order_relaxed);
  const unsigned gaps0  = atomic_load_explicit(&p.gaps, memory_order_relaxed);
  int            rc     = 0;

  if (n_cc) {
    // One control change per period, from the next one on.
    const jack_nframes_t base = jack_frame_time(p.src) + period;
    for (size_t k = 0U; k < n_cc; ++k) {
      RtlMidiOut* const e = &p.ev[k];
      e->data[0]          = 0xB0U;
      e->data[1]          = cc[k][0];
      e->data[2]          = cc[k][1];
      e->frame            = base + (jack_nframes_t)k * period;
    }
    p.n_ev = n_cc;
    // With --from, what comes back proves the receiver took every one
    atomic_store_explicit(&p.recording, from ? 1U : 0U, memory_order_release);
    atomic_store_explicit(&p.armed, 1U, memory_order_release);
    // Until the last one is out (bounded: a loaded server runs late).
    sleep_s((double)(n_cc + 2U) * period / rate + 0.02);
    for (int i = 0;
         i < 300 && !g_stop &&
         !atomic_load_explicit(&p.ev[n_cc - 1U].done, memory_order_acquire);
         ++i) {
      sleep_s(0.01);
    }
    size_t returned = 0U;
    for (int i = 0; from && i < 300 && !g_stop; ++i) {
      returned = count_returned(&p, n_cc);
      if (returned == n_cc) {
        break;
      }
      sleep_s(0.01);
    }
    atomic_store_explicit(&p.recording, 0U, memory_order_release);
    size_t sent = 0U;
    for (size_t k = 0U; k < n_cc; ++k) {
      const RtlMidiOut* const e = &p.ev[k];
      printf("cc %zu number %u value %u sent ", k, e->data[1], e->data[2]);
      if (atomic_load_explicit(&e->done, memory_order_acquire)) {
        printf("%" PRIu32 "\n", e->sent);
        ++sent;
      } else {
        printf("none\n");
      }
    }
    printf("cc sent %zu returned %zu xruns %u gaps %u\n",
           sent,
           from ? returned : sent,
           atomic_load_explicit(&p.xruns, memory_order_relaxed) - xruns0,
           atomic_load_explicit(&p.gaps, memory_order_relaxed) - gaps0);
    rc = sent == n_cc ? 0 : 1;
  } else {
    // Note k: on at base + k * gap + a sub-period offset that walks through
    // the period, off 7 frames later.  Each (status, note) is unique.
    atomic_store_explicit(&p.recording, 1U, memory_order_release);
    const jack_nframes_t base =
      jack_frame_time(p.src) + (jack_nframes_t)(lead * rate);
    const jack_nframes_t gap = (jack_nframes_t)(gap_ms * rate / 1000.0);
    for (long k = 0; k < notes; ++k) {
      const jack_nframes_t at =
        base + (jack_nframes_t)k * gap + (jack_nframes_t)(k * 97) % period;
      RtlMidiOut* const on  = &p.ev[2 * k];
      RtlMidiOut* const off = &p.ev[2 * k + 1];
      on->data[0]           = 0x90U;
      on->data[1]           = (uint8_t)(36 + k);
      on->data[2]           = 100U;
      on->frame             = at;
      off->data[0]          = 0x80U;
      off->data[1]          = (uint8_t)(36 + k);
      off->data[2]          = 0U;
      off->frame            = at + 7U;
    }
    p.n_ev = (size_t)(2 * notes);
    atomic_store_explicit(&p.armed, 1U, memory_order_release);
    sleep_s(lead + (double)notes * gap_ms / 1000.0 + after);
    atomic_store_explicit(&p.recording, 0U, memory_order_release);
    sleep_s(0.05);

    const unsigned n_got = atomic_load_explicit(&p.n_got, memory_order_acquire);
    bool           used[RTL_MIDI_MAX_RECEIVED] = {false};
    size_t         received                    = 0U;
    for (size_t k = 0U; k < p.n_ev; ++k) {
      RtlMidiOut* const e = &p.ev[k];
      const bool done = atomic_load_explicit(&e->done, memory_order_acquire);
      printf("event %zu status %u data %u sent ", k, e->data[0], e->data[1]);
      if (!done) {
        printf("none received none delay none\n");
        rc = 1;
        continue;
      }
      printf("%" PRIu32 " received ", e->sent);
      long match = -1;
      for (unsigned i = 0U; i < n_got && match < 0; ++i) {
        if (!used[i] && p.got[i].size == 3U &&
            !memcmp(p.got[i].data, e->data, 3U)) {
          match   = (long)i;
          used[i] = true;
        }
      }
      if (match < 0) {
        printf("none delay none\n");
        rc = 1;
      } else {
        const jack_nframes_t g = p.got[match].frame;
        printf("%" PRIu32 " delay %" PRId32 "\n", g, (int32_t)(g - e->sent));
        ++received;
      }
    }
    printf("summary sent %zu received %zu xruns %u gaps %u period %" PRIu32
           " rate %.0f\n",
           p.n_ev,
           received,
           atomic_load_explicit(&p.xruns, memory_order_relaxed) - xruns0,
           atomic_load_explicit(&p.gaps, memory_order_relaxed) - gaps0,
           period,
           rate);
  }

  jack_client_close(p.src);
  jack_client_close(p.sink);
  return rc;
}
