// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_PROCESS_H
#define RTL_DAEMON_PROCESS_H

/*
  The real-time side of the daemon: one RtlProcess holds everything the
  JACK process callback touches, allocated and prefaulted before the client
  is activated.  rtl_process_run() is the only function here that runs on
  the audio thread; everything else is set-up and tear-down.

  In:  the state snapshot (adopted when its sequence changes) and a
       control -> RT message ring of timed events (each with a target
       frame).
  Out: a RT -> control message ring of meter readings, and a few atomics
       (adopted snapshot sequence, frames processed, dropped meter messages).
*/

#include "options.h"
#include "state.h"

#include <rtlane/msgring.h>
#include <rtlane/snapshot.h>

#include <jack/jack.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/// Gain and pan ramps last this long, so no change is a step.
#define RTL_RAMP_MS 5U

/// Meter readings leave the RT thread about this often.
#define RTL_METER_INTERVAL_MS 5U

/// Click: a decaying 1 kHz cosine burst.
#define RTL_CLICK_HZ 1000.0
#define RTL_CLICK_MS 10U
#define RTL_CLICK_DOWNBEAT 1.0f
#define RTL_CLICK_BEAT 0.5f
#define RTL_BEATS_PER_BAR 4U
#define RTL_CLICK_MAX_RATE 384000U

/// Control -> RT message types.
typedef enum {
  RTL_EV_PARAM     = 1, ///< param, value
  RTL_EV_TRANSPORT = 2, ///< op (RtlTransportOp)
} RtlEventType;

/// A timed event.  frame 0: at the start of the next period.
typedef struct {
  uint64_t frame;
  uint32_t param;
  float    value;
  uint32_t op;
  uint32_t type;
  uint32_t epoch; ///< rtl_process_epoch() when it was sent
  uint32_t reserved;
} RtlEvent;

/// RT -> control message type.
#define RTL_MSG_METERS 1U

/// Input meters plus out_L and out_R.
#define RTL_MAX_METERS (RTL_MAX_INPUTS + 2U)

/**
   Meter reading: linear peak per input, then out_L, out_R (v[0..n)),
   followed by the RMS levels in the same order (v[n..2n)).  Only the first
   2n values travel, so a reading for 2 inputs is 48 bytes.
*/
typedef struct {
  uint64_t frame;  ///< JACK frame time at the end of the interval
  uint32_t n;      ///< Meters: inputs + 2
  uint32_t frames; ///< Frames the reading covers
  float    v[2U * RTL_MAX_METERS];
} RtlMeterMsg;

typedef struct RtlProcessImpl RtlProcess;

/// Ports, set by the JACK module before activation.
typedef struct {
  jack_port_t** in; ///< n_inputs
  jack_port_t*  out_l;
  jack_port_t*  out_r;
  jack_port_t*  click;
  jack_port_t*  midi_in;
  jack_port_t*  midi_out;
} RtlPorts;

/**
   Create the RT state for `table`.  Non-RT; allocates, initialises to the
   table's defaults and prefaults everything.  `events` (control -> RT) and
   `meters` (RT -> control) are created here and owned by the process.
*/
RtlStatus rtl_process_new(const RtlParamTable* table,
                          RtlSnapshot*         snapshot,
                          uint32_t             sample_rate,
                          RtlProcess**         process);

void rtl_process_free(RtlProcess* process);

/// The control -> RT event ring (the control thread is its only writer).
RtlMsgRing* rtl_process_events(RtlProcess* process);

/// The RT -> control meter ring (the control thread is its only reader).
RtlMsgRing* rtl_process_meters(RtlProcess* process);

/**
   Attach a (new) JACK client and its ports, and bring the RT state back to
   the current parameter values with no transport running.  Non-RT, while
   the client is not active.
*/
void rtl_process_attach(RtlProcess*     process,
                        jack_client_t*  client,
                        const RtlPorts* ports);

/**
   Which client the RT state belongs to; changes with every attach, so that
   events timed against an old server's clock are dropped.  Any thread.
*/
uint32_t rtl_process_epoch(const RtlProcess* process);

/// Follow a sample-rate change.  Non-RT (JACK's notification thread).
void rtl_process_set_sample_rate(RtlProcess* process, uint32_t sample_rate);

/// Sequence of the last snapshot the RT thread adopted.  Any thread.
uint64_t rtl_process_adopted_seq(const RtlProcess* process);

/**
   Unwrap JACK's 32-bit frame time `frame` into the 64-bit frame count that
   timed events carry, relative to the period the RT thread ran last.  Any
   thread; valid within 2^31 frames (12 hours at 48 kHz) of now.
*/
uint64_t rtl_process_frame64(const RtlProcess* process, jack_nframes_t frame);

/// Frames processed since start.  Any thread.
uint64_t rtl_process_frames(const RtlProcess* process);

/// Meter readings dropped because the ring was full.  Any thread.
uint64_t rtl_process_meter_drops(const RtlProcess* process);

/// The JACK process callback body.  RT thread only.
int rtl_process_run(jack_nframes_t nframes, void* process);

#endif // RTL_DAEMON_PROCESS_H
