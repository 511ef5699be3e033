// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_DAEMON_H
#define RTL_DAEMON_DAEMON_H

/*
  The daemon's life cycle, in three calls from the main thread:

  - rtl_daemon_open() loads the insert, builds every part
    (parameter table, command queue, snapshot, RT state, JACK holder, OSC
    sockets, control thread), connects to JACK and starts the threads;
  - rtl_daemon_run() waits for SIGINT or SIGTERM, reconnecting whenever
    the JACK server goes away and comes back, and returns the exit status;
  - rtl_daemon_close() stops and frees everything, in the reverse order.

  SIGINT and SIGTERM must be blocked in the calling thread before open
  (rtl_daemon_block_signals()), so that every thread started after inherits
  the mask and the main thread takes them synchronously.
*/

#include "options.h"

#include <rtlane/allocator.h>
#include <rtlane/status.h>

#include <stddef.h>

typedef struct RtlDaemonImpl RtlDaemon;

/// Block SIGINT and SIGTERM in this thread and ignore SIGPIPE.  Main thread.
void
rtl_daemon_block_signals(void);

/**
   Lock the process's memory (mlockall) where permitted, so that nothing
   the audio thread touches is paged out; log why not otherwise (the RT
   state is prefaulted either way).  Main thread, before open.
*/
void
rtl_daemon_lock_memory(void);

/**
   Build and start the daemon for `opts`.  Main thread.  On failure
   everything built so far is freed again, `*daemon` is NULL and `err`
   holds one line: RTL_BAD_ARG means the options cannot work (an insert
   that cannot be loaded or is not RT-safe without -l: exit 2), anything
   else that the daemon could not start (exit 1).
*/
RtlStatus
rtl_daemon_open(RtlAllocator*     allocator,
                const RtlOptions* opts,
                RtlDaemon**       daemon,
                char*             err,
                size_t            err_size);

/**
   Serve until SIGINT or SIGTERM, surviving JACK server restarts; log the
   write-ahead engine's record at the end.  Main thread.
*/
void
rtl_daemon_run(RtlDaemon* daemon);

/// Stop every thread and free everything; NULL is ignored.  Main thread.
void
rtl_daemon_close(RtlDaemon* daemon);

#endif // RTL_DAEMON_DAEMON_H
