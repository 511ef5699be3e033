// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-nsmd: the least of a session manager, as the NSM API describes the
// server's side, for tests (Debian 12 does not package nsmd).
//
//   rtl-nsmd -p PORT -d DIR -c CLIENT_ID [-n DISPLAY] [-w SEC] [-r]
//
// It listens on PORT (127.0.0.1), answers the first /nsm/server/announce
// with /reply (or with /error code -3 when -r refuses it), sends
// /nsm/client/open DIR DISPLAY CLIENT_ID to the client, waits for its
// answer, then SEC seconds later (default 1) sends /nsm/client/save and
// waits for that answer.  Every message is printed as one line:
//   announce NAME CAPABILITIES EXECUTABLE MAJOR MINOR PID
//   reply PATH MESSAGE | error PATH CODE MESSAGE
// It exits 0 after the save's answer, 1 on a timeout (20 s per step).

#define _POSIX_C_SOURCE 200809L

#include <lo/lo.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  lo_server  server;
  lo_address client;
  bool       refuse;
  int        step; ///< 0 announce, 1 open answered, 2 save answered
} Nsmd;

static int
on_announce(const char* const path,
            const char* const types,
            lo_arg** const    argv,
            const int         argc,
            const lo_message  msg,
            void* const       data)
{
  Nsmd* const d = (Nsmd*)data;
  (void)types;
  (void)argc;
  printf("announce %s %s %s %d %d %d\n",
         &argv[0]->s,
         &argv[1]->s,
         &argv[2]->s,
         argv[3]->i,
         argv[4]->i,
         argv[5]->i);
  fflush(stdout);
  if (d->client) {
    return 0;
  }
  d->client =
    lo_address_new_from_url(lo_address_get_url(lo_message_get_source(msg)));
  if (d->refuse) {
    lo_send_from(d->client,
                 d->server,
                 LO_TT_IMMEDIATE,
                 "/error",
                 "sis",
                 path,
                 -3,
                 "refused by rtl-nsmd -r");
  } else {
    lo_send_from(d->client,
                 d->server,
                 LO_TT_IMMEDIATE,
                 "/reply",
                 "ssss",
                 path,
                 "welcome to rtl-nsmd",
                 "rtl-nsmd",
                 ":server-control:");
  }
  return 0;
}

static int
on_answer(const char* const path,
          const char* const types,
          lo_arg** const    argv,
          const int         argc,
          const lo_message  msg,
          void* const       data)
{
  Nsmd* const d = (Nsmd*)data;
  (void)msg;
  if (!strcmp(path, "/reply") && argc >= 2 && !strcmp(types, "ss")) {
    printf("reply %s %s\n", &argv[0]->s, &argv[1]->s);
  } else if (!strcmp(path, "/error") && argc >= 3 && !strcmp(types, "sis")) {
    printf("error %s %d %s\n", &argv[0]->s, argv[1]->i, &argv[2]->s);
  } else {
    printf("other %s %s\n", path, types);
    fflush(stdout);
    return 0;
  }
  fflush(stdout);
  if (!strcmp(&argv[0]->s, "/nsm/client/open")) {
    d->step = 1;
  } else if (!strcmp(&argv[0]->s, "/nsm/client/save")) {
    d->step = 2;
  }
  return 0;
}

/// Serve until `d->step` reaches `step` or `seconds` pass.
static bool
serve(Nsmd* const d, const int step, const double seconds)
{
  for (double t = 0.0; t < seconds; t += 0.05) {
    lo_server_recv_noblock(d->server, 50);
    if (d->step >= step) {
      return true;
    }
  }
  return false;
}

int
main(int argc, char** argv)
{
  const char* port    = NULL;
  const char* dir     = NULL;
  const char* id      = NULL;
  const char* display = "rtl-nsmd session";
  double      wait    = 1.0;
  static Nsmd d;
  int         c = 0;
  while ((c = getopt(argc, argv, "p:d:c:n:w:r")) != -1) {
    switch (c) {
    case 'p':
      port = optarg;
      break;
    case 'd':
      dir = optarg;
      break;
    case 'c':
      id = optarg;
      break;
    case 'n':
      display = optarg;
      break;
    case 'w':
      wait = strtod(optarg, NULL);
      break;
    case 'r':
      d.refuse = true;
      break;
    default:
      fprintf(stderr,
              "usage: rtl-nsmd -p PORT -d DIR -c CLIENT_ID [-n DISPLAY] [-w "
              "SEC] [-r]\n");
      return 2;
    }
  }
  if (!port || !dir || !id) {
    fprintf(stderr,
            "usage: rtl-nsmd -p PORT -d DIR -c CLIENT_ID [-n DISPLAY] [-w SEC] "
            "[-r]\n");
    return 2;
  }
  d.server = lo_server_new_with_proto(port, LO_UDP, NULL);
  if (!d.server) {
    fprintf(stderr, "rtl-nsmd: cannot listen on port %s\n", port);
    return 2;
  }
  lo_server_add_method(
    d.server, "/nsm/server/announce", "sssiii", on_announce, &d);
  lo_server_add_method(d.server, "/reply", NULL, on_answer, &d);
  lo_server_add_method(d.server, "/error", NULL, on_answer, &d);
  printf("listening %d\n", lo_server_get_port(d.server));
  fflush(stdout);

  // The announce, then (unless refused) the open and its answer
  for (double t = 0.0; t < 20.0 && !d.client; t += 0.05) {
    lo_server_recv_noblock(d.server, 50);
  }
  if (!d.client) {
    printf("timeout announce\n");
    return 1;
  }
  if (d.refuse) {
    serve(&d, 99, 1.0);
    return 0;
  }
  lo_send_from(d.client,
               d.server,
               LO_TT_IMMEDIATE,
               "/nsm/client/open",
               "sss",
               dir,
               display,
               id);
  if (!serve(&d, 1, 20.0)) {
    printf("timeout open\n");
    return 1;
  }
  serve(&d, 99, wait);
  lo_send_from(d.client, d.server, LO_TT_IMMEDIATE, "/nsm/client/save", "");
  if (!serve(&d, 2, 20.0)) {
    printf("timeout save\n");
    return 1;
  }
  lo_address_free(d.client);
  lo_server_free(d.server);
  return 0;
}
