// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "nsm.h"

#include "comm.h"
#include "log.h"
#include "thread.h"

#include <lo/lo.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/// The NSM API version this client speaks.
#define RTL_NSM_API_MAJOR 1
#define RTL_NSM_API_MINOR 1

/// How often the serving thread looks at its quit flag.
#define RTL_NSM_POLL_MS 100

struct RtlNsmImpl {
  RtlAllocator* allocator;
  lo_server     server;
  lo_address    manager;
  RtlQueue*     queue;
  sem_t*        wake;
  pthread_t     thread;
  bool          thread_started;
  _Atomic bool  quit;

  // Start-up (main thread, before the serving thread runs)
  bool          announced;
  bool          refused;
  bool          opened;
  char          why[256];
  RtlNsmSession session;
};

static const char*
arg_s(lo_arg** const argv, const int i)
{
  return &argv[i]->s;
}

static int
on_reply(const char* const path,
         const char* const types,
         lo_arg** const    argv,
         const int         argc,
         const lo_message  msg,
         void* const       data)
{
  RtlNsm* const n = (RtlNsm*)data;
  (void)path;
  (void)msg;
  if (argc >= 2 && types[0] == 's' && types[1] == 's' &&
      !strcmp(arg_s(argv, 0), "/nsm/server/announce")) {
    n->announced = true;
    rtl_log("NSM: %s", arg_s(argv, 1));
  }
  return 0;
}

static int
on_error(const char* const path,
         const char* const types,
         lo_arg** const    argv,
         const int         argc,
         const lo_message  msg,
         void* const       data)
{
  RtlNsm* const n = (RtlNsm*)data;
  (void)path;
  (void)msg;
  if (argc >= 3 && !strcmp(types, "sis") &&
      !strcmp(arg_s(argv, 0), "/nsm/server/announce")) {
    n->refused = true;
    snprintf(n->why,
             sizeof(n->why),
             "the session manager refused the announce (%d): %s",
             argv[1]->i,
             arg_s(argv, 2));
  }
  return 0;
}

static int
on_open(const char* const path,
        const char* const types,
        lo_arg** const    argv,
        const int         argc,
        const lo_message  msg,
        void* const       data)
{
  RtlNsm* const n = (RtlNsm*)data;
  (void)types;
  (void)argc;
  if (n->opened) {
    // One session per process: the manager restarts us for another
    lo_send_from(lo_message_get_source(msg),
                 n->server,
                 LO_TT_IMMEDIATE,
                 "/error",
                 "sis",
                 path,
                 RTL_NSM_ERR_NOT_NOW,
                 "rtlane opens one session per process");
    return 0;
  }
  snprintf(n->session.path, sizeof(n->session.path), "%s", arg_s(argv, 0));
  snprintf(
    n->session.display, sizeof(n->session.display), "%s", arg_s(argv, 1));
  snprintf(
    n->session.client_id, sizeof(n->session.client_id), "%s", arg_s(argv, 2));
  n->opened = true;
  return 0;
}

static int
on_save(const char* const path,
        const char* const types,
        lo_arg** const    argv,
        const int         argc,
        const lo_message  msg,
        void* const       data)
{
  RtlNsm* const n = (RtlNsm*)data;
  (void)path;
  (void)types;
  (void)argv;
  (void)argc;
  (void)msg;
  RtlCommand cmd = {0};
  cmd.kind       = RTL_CMD_NSM_SAVE;
  if (rtl_comm_post_command(n->queue, n->wake, &cmd)) {
    rtl_nsm_saved(n, false, "busy");
  }
  return 0;
}

static void
on_lo_error(const int num, const char* const msg, const char* const where)
{
  rtl_log(
    "NSM: liblo error %d: %s (%s)", num, msg ? msg : "", where ? where : "");
}

/// Receive for up to `ms` or until `*flag`; false on timeout.
static bool
wait_for(RtlNsm* const n, const bool* const flag, const int ms)
{
  for (int waited = 0; waited < ms && !*flag && !n->refused; waited += 50) {
    lo_server_recv_noblock(n->server, 50);
  }
  return *flag;
}

/// The instance directory: NSM gives a path to use as we like.
static RtlStatus
make_dir(const char* const path, char* const err, const size_t err_size)
{
  if (mkdir(path, 0755) && errno != EEXIST) {
    snprintf(err, err_size, "cannot make %s: %s", path, strerror(errno));
    return RTL_FAILURE;
  }
  return RTL_SUCCESS;
}

RtlStatus
rtl_nsm_open(RtlAllocator* const  allocator,
             const char* const    url,
             const char* const    executable,
             RtlNsm** const       nsm,
             RtlNsmSession* const session,
             char* const          err,
             const size_t         err_size)
{
  *nsm            = NULL;
  RtlNsm* const n = (RtlNsm*)rtl_calloc(allocator, 1U, sizeof(RtlNsm));
  if (!n) {
    snprintf(err, err_size, "out of memory");
    return RTL_NO_MEM;
  }
  n->allocator = allocator;
  n->manager   = lo_address_new_from_url(url);
  n->server    = lo_server_new_with_proto(NULL, LO_UDP, on_lo_error);
  if (!n->manager || !n->server) {
    snprintf(err, err_size, "NSM_URL '%s' cannot be used", url);
    rtl_nsm_free(n);
    return RTL_BAD_ARG;
  }
  lo_server_add_method(n->server, "/reply", NULL, on_reply, n);
  lo_server_add_method(n->server, "/error", NULL, on_error, n);
  lo_server_add_method(n->server, "/nsm/client/open", "sss", on_open, n);

  lo_send_from(n->manager,
               n->server,
               LO_TT_IMMEDIATE,
               "/nsm/server/announce",
               "sssiii",
               "rtlane",
               ":",
               executable,
               RTL_NSM_API_MAJOR,
               RTL_NSM_API_MINOR,
               (int)getpid());
  if (!wait_for(n, &n->announced, RTL_NSM_TIMEOUT_MS) ||
      !wait_for(n, &n->opened, RTL_NSM_TIMEOUT_MS)) {
    snprintf(err,
             err_size,
             "%s",
             n->refused     ? n->why
             : n->announced ? "the session manager did not open a session"
                            : "no answer from the session manager at NSM_URL");
    rtl_nsm_free(n);
    return RTL_FAILURE;
  }
  if (make_dir(n->session.path, err, err_size)) {
    rtl_nsm_opened(n, false, err);
    rtl_nsm_free(n);
    return RTL_FAILURE;
  }
  *session = n->session;
  *nsm     = n;
  return RTL_SUCCESS;
}

/// The protocol's answer to `path`: /reply, or /error with `code`.
static void
answer(RtlNsm* const     n,
       const char* const path,
       const bool        ok,
       const int         code,
       const char* const message)
{
  if (ok) {
    lo_send_from(
      n->manager, n->server, LO_TT_IMMEDIATE, "/reply", "ss", path, message);
  } else {
    lo_send_from(n->manager,
                 n->server,
                 LO_TT_IMMEDIATE,
                 "/error",
                 "sis",
                 path,
                 code,
                 message);
  }
}

void
rtl_nsm_opened(RtlNsm* const n, const bool ok, const char* const message)
{
  answer(n, "/nsm/client/open", ok, RTL_NSM_ERR_CREATE_FAILED, message);
}

void
rtl_nsm_saved(RtlNsm* const n, const bool ok, const char* const message)
{
  answer(n, "/nsm/client/save", ok, RTL_NSM_ERR_GENERAL, message);
}

static void*
nsm_thread(void* const arg)
{
  RtlNsm* const n = (RtlNsm*)arg;
  while (!atomic_load_explicit(&n->quit, memory_order_acquire)) {
    lo_server_recv_noblock(n->server, RTL_NSM_POLL_MS);
  }
  return NULL;
}

RtlStatus
rtl_nsm_start(RtlNsm* const n, RtlQueue* const queue, sem_t* const wake)
{
  n->queue = queue;
  n->wake  = wake;
  lo_server_add_method(n->server, "/nsm/client/save", "", on_save, n);
  const RtlStatus st =
    rtl_thread_start(&n->thread, "rtlane-nsm", nsm_thread, n);
  n->thread_started = !st;
  return st;
}

void
rtl_nsm_free(RtlNsm* const n)
{
  if (!n) {
    return;
  }
  if (n->thread_started) {
    atomic_store_explicit(&n->quit, true, memory_order_release);
    pthread_join(n->thread, NULL);
  }
  if (n->server) {
    lo_server_free(n->server);
  }
  if (n->manager) {
    lo_address_free(n->manager);
  }
  rtl_free(n->allocator, n);
}
