// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_JACK_H
#define RTL_DAEMON_JACK_H

/*
  The JACK client: opening (never starting a server), ports, callbacks,
  activation and autoconnection, and the questions other threads ask it
  (time conversions, rate, period, load, xruns).

  The client may come and go (server shutdown and reconnection) while the
  OSC and control threads keep running, so every query takes a mutex that
  the main thread holds while it opens or closes the client.  Queries are
  non-RT; the process callback never calls anything here.
*/

#include "process.h"

#include <rtlane/allocator.h>
#include <rtlane/status.h>

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RtlJackImpl RtlJack;

typedef struct {
  RtlAllocator* allocator; ///< NULL for the system's
  const char*   name;      ///< Client name (exact)
  const char*   server;    ///< Server name or NULL
  unsigned      inputs;
  bool          connect; ///< Autoconnect to physical ports
  RtlProcess*   process;
  /// Posted when the graph must hear the latency again (a new sample rate
  /// or period): the control thread then calls rtl_jack_update_latency()
  sem_t* wake;
} RtlJackConfig;

typedef struct {
  bool     up;
  uint32_t rate;
  uint32_t period;
  float    dsp_load; ///< Percent
  uint64_t xruns;
} RtlJackInfo;

/// Create the holder (no client yet).  Start-up.
RtlStatus
rtl_jack_new(const RtlJackConfig* config, RtlJack** jack);

/// Stop the client if there is one and free `jack`; NULL is ignored.
void
rtl_jack_free(RtlJack* jack);

/**
   Open the client, register ports, install callbacks, activate and (with
   `connect`) connect.  Main thread.  On failure writes one line into `err`
   and returns RTL_FAILURE.
*/
RtlStatus
rtl_jack_start(RtlJack* jack, char* err, size_t err_size);

/// Deactivate and close the client if there is one.  Main thread.
void
rtl_jack_stop(RtlJack* jack);

/// The graph's rate as the last start or sample-rate callback gave it (0
/// before the first start).  Any thread.
uint32_t
rtl_jack_rate(const RtlJack* jack);

/**
   If the sample rate or the period changed since the last call, or
   `force`, have the graph recompute its latencies (which calls the latency
   callback, where the ports take L = rtl_process_latency()).  Returns true
   if the sample rate changed (the delay in milliseconds is then another
   number of frames: call rtl_process_follow_latency() first and pass
   force).  Control thread, never the process or a JACK callback thread.
*/
bool
rtl_jack_rate_changed(RtlJack* jack);

void
rtl_jack_update_latency(RtlJack* jack, bool force);

/// True once the server has gone away since the last start.  Any thread.
bool
rtl_jack_server_gone(const RtlJack* jack);

/// Snapshot of rate, period, load and xruns.  Any non-RT thread.
void
rtl_jack_info(RtlJack* jack, RtlJackInfo* info);

/**
   Keep the remembered connections of our ports (patchbay.h) up to date
   and make those whose peers are back.  Control thread, every round.
*/
void
rtl_jack_follow_connections(RtlJack* jack, int64_t now_ns);

/// Connections remembered, and in `*made` how many are made now.  Any
/// non-RT thread.
unsigned
rtl_jack_connections(RtlJack* jack, unsigned* made);

/// Copy the client name in use (the requested one before the first start).
void
rtl_jack_name(RtlJack* jack, char* name, size_t size);

/**
   The 64-bit frame at which wall-clock time `unix_us` (microseconds since
   1970) falls, as the contract computes it; and the current frame.  False
   if there is no client.  Any non-RT thread.
*/
bool
rtl_jack_unix_to_frame(RtlJack*  jack,
                       int64_t   unix_us,
                       uint64_t* frame,
                       uint64_t* now);

#endif // RTL_DAEMON_JACK_H
