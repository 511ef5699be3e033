// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-bad-client: a JACK client that allocates in its process callback, on
// purpose.  It exists to prove that rt_alloc_guard.so catches what it claims
// to catch, so a clean report for the daemon cannot be vacuous.  With -g it
// behaves (touches a preallocated buffer only), which shows the guard does
// not flag clients that do not allocate.

#define _POSIX_C_SOURCE 200809L

#include <jack/jack.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  jack_client_t* client;
  jack_port_t*   out;
  bool           good;
  atomic_ulong   cycles;
  float*         scratch;
} RtlBadClient;

// Stored through a volatile pointer so the compiler cannot elide the
// malloc/free pair.
static void* volatile g_sink;

static int
process(const jack_nframes_t nframes, void* const arg)
{
  RtlBadClient* const c   = (RtlBadClient*)arg;
  float* const        out = (float*)jack_port_get_buffer(c->out, nframes);
  if (c->good) {
    memset(c->scratch, 0, nframes * sizeof(float));
    memcpy(out, c->scratch, nframes * sizeof(float));
  } else {
    float* const tmp = (float*)malloc(nframes * sizeof(float));
    g_sink           = tmp;
    if (tmp) {
      memset(tmp, 0, nframes * sizeof(float));
      memcpy(out, tmp, nframes * sizeof(float));
    }
    free(g_sink);
  }
  atomic_fetch_add_explicit(&c->cycles, 1UL, memory_order_relaxed);
  return 0;
}

int
main(int argc, char** argv)
{
  const char*   server = NULL;
  unsigned long want   = 50UL;
  RtlBadClient  c;
  memset(&c, 0, sizeof(c));

  int opt = 0;
  while ((opt = getopt(argc, argv, "s:c:gh")) != -1) {
    switch (opt) {
    case 's':
      server = optarg;
      break;
    case 'c':
      want = strtoul(optarg, NULL, 10);
      break;
    case 'g':
      c.good = true;
      break;
    case 'h':
      printf("usage: rtl-bad-client [-s SERVER] [-c CYCLES] [-g]\n"
             "Runs CYCLES process cycles (default 50), allocating in each one"
             "\nunless -g is given.\n");
      return 0;
    default:
      fprintf(stderr, "usage: rtl-bad-client [-s SERVER] [-c CYCLES] [-g]\n");
      return 2;
    }
  }

  jack_status_t st;
  c.client =
    server
      ? jack_client_open(
          "rtl-bad-client", JackNoStartServer | JackServerName, &st, server)
      : jack_client_open("rtl-bad-client", JackNoStartServer, &st);
  if (!c.client) {
    fprintf(stderr,
            "rtl-bad-client: cannot open a JACK client (0x%x)\n",
            (unsigned)st);
    return 1;
  }
  c.scratch = (float*)calloc(jack_get_buffer_size(c.client), sizeof(float));
  c.out     = jack_port_register(
    c.client, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
  if (!c.scratch || !c.out) {
    fprintf(stderr, "rtl-bad-client: setup failed\n");
    return 1;
  }
  jack_set_process_callback(c.client, process, &c);
  if (jack_activate(c.client)) {
    fprintf(stderr, "rtl-bad-client: cannot activate\n");
    return 1;
  }
  // Bounded: a stalled server ends the run after about 20 s.
  for (int i = 0; i < 2000; ++i) {
    if (atomic_load_explicit(&c.cycles, memory_order_relaxed) >= want) {
      break;
    }
    const struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  jack_deactivate(c.client);
  jack_client_close(c.client);
  const unsigned long ran =
    atomic_load_explicit(&c.cycles, memory_order_relaxed);
  free(c.scratch);
  printf("rtl-bad-client: %lu cycles\n", ran);
  return ran >= want ? 0 : 1;
}
