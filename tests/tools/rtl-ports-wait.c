// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-ports-wait: waits, as one JACK client opened once, until ports exist
// (or are connected, or are gone).  The tests wait for a client started in
// the background this way rather than by polling with jack_lsp, whose
// client opens and closes every time: a client that closes while another
// process opens its own can leave that process's libjack (JACK2 1.9.21,
// jackaudio/jack2 issue #721) with a stale semaphore for the closed
// client's number, and the next client given that number is then never
// woken by it: a synchronous jackd waits ten timeouts every cycle from
// then on.  This client closes only once the ports it waits for are
// there, so after the client that registers them has opened.
//
//   rtl-ports-wait [-s SERVER] [-t SECONDS] [-p PID] [-c | -g] PORT...
//
// -c: each PORT has a connection; -g: no PORT exists; -p: gives up when
// process PID is gone.  Exits 0 once so, 1 on timeout (naming the first
// port not as asked) or when PID is gone, 2 on bad use or no server.

#define _POSIX_C_SOURCE 200809L

#include <jack/jack.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef enum { RTL_WAIT_EXISTS, RTL_WAIT_CONNECTED, RTL_WAIT_GONE } RtlWaitFor;

static int
port_as_asked(jack_client_t* const client,
              const char* const    name,
              const RtlWaitFor     what)
{
  jack_port_t* const port = jack_port_by_name(client, name);
  switch (what) {
  case RTL_WAIT_EXISTS:
    return port != NULL;
  case RTL_WAIT_CONNECTED:
    return port && jack_port_connected(port) > 0;
  case RTL_WAIT_GONE:
    return port == NULL;
  }
  return 0;
}

static void
usage(FILE* const out)
{
  fprintf(out,
          "usage: rtl-ports-wait [-s SERVER] [-t SECONDS] [-p PID] [-c | -g] "
          "PORT...\n");
}

int
main(int argc, char** argv)
{
  const char* server  = NULL;
  double      seconds = 10.0;
  long        pid     = 0;
  RtlWaitFor  what    = RTL_WAIT_EXISTS;
  int         opt     = 0;
  while ((opt = getopt(argc, argv, "s:t:p:cgh")) != -1) {
    switch (opt) {
    case 's':
      server = optarg;
      break;
    case 't':
      seconds = strtod(optarg, NULL);
      break;
    case 'p':
      pid = strtol(optarg, NULL, 10);
      break;
    case 'c':
      what = RTL_WAIT_CONNECTED;
      break;
    case 'g':
      what = RTL_WAIT_GONE;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind >= argc || seconds <= 0.0) {
    usage(stderr);
    return 2;
  }

  // The server may be starting (the tests ask its socket, which it binds
  // before it serves): opened again every 100 ms within the time given.
  const long            rounds = (long)(seconds * 100.0) + 1L;
  const struct timespec tick   = {0, 10000000L};
  jack_status_t         st     = (jack_status_t)0;
  jack_client_t*        client = NULL;
  long                  r      = 0;
  for (; !client && r < rounds; r += 10) {
    client =
      server
        ? jack_client_open(
            "rtl-ports-wait", JackNoStartServer | JackServerName, &st, server)
        : jack_client_open("rtl-ports-wait", JackNoStartServer, &st);
    if (!client) {
      const struct timespec pause = {0, 100000000L};
      nanosleep(&pause, NULL);
    }
  }
  if (!client) {
    fprintf(
      stderr, "rtl-ports-wait: no JACK server (status 0x%x)\n", (unsigned)st);
    return 2;
  }

  // Polled every 10 ms: port lookups are requests to the server, and the
  // client stays open throughout, which is the point.
  const char* missing = NULL;
  int         rc      = 1;
  for (; r < rounds; ++r) {
    missing = NULL;
    for (int i = optind; i < argc && !missing; ++i) {
      if (!port_as_asked(client, argv[i], what)) {
        missing = argv[i];
      }
    }
    if (!missing) {
      rc = 0;
      break;
    }
    if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
      fprintf(stderr, "rtl-ports-wait: process %ld is gone\n", pid);
      break;
    }
    nanosleep(&tick, NULL);
  }
  if (rc) {
    fprintf(stderr,
            "rtl-ports-wait: %s %s after %.1f s\n",
            missing ? missing : "",
            what == RTL_WAIT_GONE        ? "is still there"
            : what == RTL_WAIT_CONNECTED ? "has no connection"
                                         : "does not exist",
            seconds);
  }
  jack_client_close(client);
  return rc;
}
