// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_NSM_H
#define RTL_DAEMON_NSM_H

/*
  A client of the New Session Manager protocol (NSM API 1.1, also spoken
  by RaySession and Agordejo), used when NSM_URL is set.

  At start, before JACK is touched, the main thread announces the daemon
  (/nsm/server/announce) and waits for /nsm/client/open: its client id
  becomes the JACK client name, and its path the directory of this
  instance's files (the state file, and the takes unless --record-dir says
  otherwise).  Once JACK runs, the main thread answers the open.  Then a
  thread of its own serves the session manager: /nsm/client/save becomes a
  command for the control thread (a third producer of the command queue,
  beside the UDP and TCP receivers), which saves and answers.

  Replies and errors follow the protocol: /reply s:path s:message, or
  /error s:path i:code s:message with NSM's codes.
*/

#include <rtlane/allocator.h>
#include <rtlane/queue.h>
#include <rtlane/status.h>

#include <limits.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>

/// NSM's error codes (the protocol's numbers).
#define RTL_NSM_ERR_GENERAL (-1)
#define RTL_NSM_ERR_CREATE_FAILED (-10)
#define RTL_NSM_ERR_NOT_NOW (-8)

/// How long start-up waits for the session manager's answers.
#define RTL_NSM_TIMEOUT_MS 10000

typedef struct RtlNsmImpl RtlNsm;

/// What /nsm/client/open gave.
typedef struct {
  char path[PATH_MAX]; ///< The directory of this instance's files
  char display[256];   ///< The session's display name
  char client_id[64];  ///< The JACK client name to use
} RtlNsmSession;

/**
   Announce to `url` as `executable` and wait for /nsm/client/open, then
   make the instance directory.  Main thread, before JACK.  On failure
   writes one line into `err`.
*/
RtlStatus
rtl_nsm_open(RtlAllocator*  allocator,
             const char*    url,
             const char*    executable,
             RtlNsm**       nsm,
             RtlNsmSession* session,
             char*          err,
             size_t         err_size);

/// Answer the open: `ok`, or an error with `message`.  Main thread.
void
rtl_nsm_opened(RtlNsm* nsm, bool ok, const char* message);

/**
   Serve the session manager on a thread of its own; /nsm/client/save is
   queued as RTL_CMD_NSM_SAVE and `wake` posted.  Main thread.
*/
RtlStatus
rtl_nsm_start(RtlNsm* nsm, RtlQueue* queue, sem_t* wake);

/// Answer a save: `ok`, or an error with `message`.  Control thread.
void
rtl_nsm_saved(RtlNsm* nsm, bool ok, const char* message);

/// Stop the thread and free `nsm`; NULL is ignored.  Main thread.
void
rtl_nsm_free(RtlNsm* nsm);

#endif // RTL_DAEMON_NSM_H
