// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_THREAD_H
#define RTL_DAEMON_THREAD_H

/*
  The daemon's own non-RT threads (OSC receivers, control).  They start with
  a small stack, because under mlockall(MCL_FUTURE) a default 8 MiB stack
  would be locked whole, and with the signal mask of the thread that starts
  them (the main thread blocks SIGINT and SIGTERM before starting any).
*/

#include <rtlane/status.h>

#include <pthread.h>

/// Stack size of the daemon's own threads.
#define RTL_THREAD_STACK (512U * 1024U)

/**
   Start `func(arg)` on a new thread named `name` (at most 15 characters,
   shown by top -H and in debuggers).  Non-RT; RTL_SYSTEM_ERROR if the
   thread cannot be created.
*/
RtlStatus
rtl_thread_start(pthread_t*  thread,
                 const char* name,
                 void* (*func)(void*),
                 void* arg);

#endif // RTL_DAEMON_THREAD_H
