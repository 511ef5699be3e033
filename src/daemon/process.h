// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_PROCESS_H
#define RTL_DAEMON_PROCESS_H

/*
  The real-time side of the daemon: one RtlProcess holds everything the
  JACK process callback touches, allocated and prefaulted before the client
  is activated.  rtl_process_run() is the only function here that runs on
  the audio thread; rtl_process_latency() runs in JACK's latency callback;
  everything else is set-up, tear-down and questions from other threads.

  Every period the audio thread adopts the state snapshot (if its sequence
  changed) and turns what changed into cues for the mixer, takes the timed
  events the control thread sent, and passes each one on as a cue in the
  period it falls in.  Then:

  - direct mode: it runs the mixer (and an RT-safe insert after it) on this
    period's buffers, so output frame t is the mix of input frame t;
  - write-ahead mode (-l MS): the mixer runs on the write-ahead engine's
    worker, L frames ahead, and this thread only trades buffers with the
    engine.  The cues go to the worker through an SPSC ring stamped with
    their input frame.  A change timed for output frame F is stamped F - L,
    so output frame F is still the first one it affects; if F - L has
    already passed (a tag less than L ahead), it is stamped with the start
    of this period and counted as late.  MIDI goes through the engine too:
    the worker's mixer sees it at its frame (for /midi/map) and midi_out
    plays it exactly L frames later.

  Either way the meters measure the period's input and what is played.

  In:  the state snapshot and a control -> RT message ring of timed events
       (each with a target frame in the output timeline).
  Out: a RT -> control ring of meter readings (the library's RtlMeter per
       input and output, with its ballistics), the mixer's ring of
       parameters moved by MIDI CCs, and a few atomics.
  Every message type is in comm.h.
*/

#include "comm.h"
#include "mixer.h"
#include "state.h"

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/broadcast.h>
#include <rtlane/engine.h>
#include <rtlane/msgring.h>
#include <rtlane/processor.h>
#include <rtlane/snapshot.h>

#include <jack/jack.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Meter readings leave the RT thread about this often.
#define RTL_METER_INTERVAL_MS 5U

/// Meter ballistics: peaks fall this fast once the signal drops (a
/// "medium" fall, from full scale to the -120 dB floor in 6 s), and RMS is
/// averaged over this time constant (as a VU meter's 300 ms).
#define RTL_METER_FALL_DB_S 20.0
#define RTL_METER_RMS_MS 300.0

/// The write-ahead engine is sized for at least this much, and for twice
/// the -l value, so /latency/set can raise the delay that far.
#define RTL_LATENCY_ROOM_MS 1000

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

typedef struct {
  RtlAllocator*        allocator; ///< NULL for the system's
  const RtlParamTable* table;
  RtlSnapshot*         snapshot;
  double               write_ahead_ms; ///< 0: direct mode
  const RtlProcessor*  insert;         ///< Plug-in after the mixer, or NULL
  const char*          insert_name;    ///< For messages
  double               record_ms;      ///< Length of the takes' rings
} RtlProcessConfig;

/**
   Create the RT state.  Non-RT; allocates, initialises to the table's
   defaults and prefaults everything.  The event ring (control -> RT) and
   the meter ring (RT -> control) are created here and owned by the
   process.  In direct mode `insert` must be RT-safe (the caller checks).
*/
RtlStatus
rtl_process_new(const RtlProcessConfig* config, RtlProcess** process);

/// Free `process`; NULL is ignored.  Non-RT, once no client runs.
void
rtl_process_free(RtlProcess* process);

/// The control -> RT event ring (the control thread is its only writer).
RtlMsgRing*
rtl_process_events(RtlProcess* process);

/// The RT -> control meter ring (the control thread is its only reader).
RtlMsgRing*
rtl_process_meters(RtlProcess* process);

/**
   The broadcast ring of `kind`'s audio (made by the first
   rtl_process_prepare(); NULL before).  Every period the RT thread writes
   out_L and out_R as played, and the inputs as the mixer saw them.
*/
RtlBroadcast*
rtl_process_tap(RtlProcess* process, RtlTakeKind kind);

/// Where the RT thread marked the start and stop of `kind`'s takes.
const RtlTakeMarks*
rtl_process_take_marks(const RtlProcess* process, RtlTakeKind kind);

/// The mixer -> control ring of parameters moved by MIDI CCs.
RtlMsgRing*
rtl_process_reports(RtlProcess* process);

/**
   Get ready for a client at `rate` with periods of `period` frames: in
   write-ahead mode create the engine (or keep the one made for this rate)
   and start its worker, which runs the insert's init(); in direct mode run
   the insert's init() here.  Non-RT, after the client is opened and before
   it is activated (the audio thread must not be running).  On failure
   writes one line into `err`.
*/
RtlStatus
rtl_process_prepare(RtlProcess* process,
                    uint32_t    rate,
                    uint32_t    period,
                    char*       err,
                    size_t      err_size);

/**
   Attach a (new) JACK client and its ports, and bring the RT state back to
   the current parameter values with no transport running.  Non-RT, after
   rtl_process_prepare(), while the client is not active.
*/
void
rtl_process_attach(RtlProcess*     process,
                   jack_client_t*  client,
                   const RtlPorts* ports);

/**
   The client is closed: stop the engine's worker (which releases the
   insert) or release the insert.  Non-RT, once the audio thread is gone.
*/
void
rtl_process_release(RtlProcess* process);

/**
   Which client the RT state belongs to; changes with every attach, so that
   events timed against an old server's clock are dropped.  Any thread.
*/
uint32_t
rtl_process_epoch(const RtlProcess* process);

/// Follow a sample-rate change.  Non-RT (JACK's notification thread).
void
rtl_process_set_sample_rate(RtlProcess* process, uint32_t sample_rate);

/**
   Sequence of the last snapshot whose changes the mixer has applied (in
   write-ahead mode: that the worker has rendered).  Any thread.
*/
uint64_t
rtl_process_adopted_seq(const RtlProcess* process);

/**
   Unwrap JACK's 32-bit frame time `frame` into the 64-bit frame count that
   timed events carry, relative to the period the RT thread ran last.  Any
   thread; valid within 2^31 frames (12 hours at 48 kHz) of now.
*/
uint64_t
rtl_process_frame64(const RtlProcess* process, jack_nframes_t frame);

/// Frames processed since start.  Any thread.
uint64_t
rtl_process_frames(const RtlProcess* process);

/// Meter readings dropped because the ring was full.  Any thread.
uint64_t
rtl_process_meter_drops(const RtlProcess* process);

/**
   Periods the graph ran without this client: a period whose first frame is
   not where the previous one ended.  Any thread.
*/
uint64_t
rtl_process_skipped(const RtlProcess* process);

/**
   The next period may start anywhere without counting as skipped: the
   period size or the rate has just changed.  Any thread (JACK's callbacks,
   which PipeWire runs off the RT thread).
*/
void
rtl_process_expect_jump(RtlProcess* process);

/**
   Direct mode: start the insert again at the graph's `rate` if it runs at
   another, and free what an earlier change left.  The new state is made
   here and handed to the RT thread, which takes it at a period's start.
   Control thread, every round (cheap when nothing changed).
*/
void
rtl_process_follow_insert_rate(RtlProcess* process, uint32_t rate);

/// Timed events that reached the RT thread after their frame.  Any thread.
uint64_t
rtl_process_late_events(const RtlProcess* process);

/// True in write-ahead mode.  Any thread.
bool
rtl_process_write_ahead(const RtlProcess* process);

/**
   The delay L in frames to report to the graph (0 in direct mode).  Any
   thread, RT-safe: JACK's latency callback calls it.
*/
RTL_REALTIME uint32_t
rtl_process_latency(const RtlProcess* process);

/// The delay asked for, in milliseconds (0 in direct mode).  Any thread.
double
rtl_process_latency_ms(const RtlProcess* process);

/**
   Change the write-ahead delay to `ms` at `rate`.  Control thread.  On
   refusal returns RTL_BAD_STATE (direct mode) or RTL_BAD_ARG (out of
   range or beyond the engine's capacity) with the reason in `*reason`.
   The caller reports the new latency to the graph.
*/
RtlStatus
rtl_process_set_latency_ms(RtlProcess*  process,
                           double       ms,
                           uint32_t     rate,
                           const char** reason);

/**
   After a sample-rate change: the same delay in milliseconds is another
   number of frames.  Control thread.  True if L changed.
*/
bool
rtl_process_follow_latency(RtlProcess* process, uint32_t rate);

/// The engine's counters; false in direct mode.  Any non-RT thread.
bool
rtl_process_engine_stats(RtlProcess* process, RtlEngineStats* stats);

/// The JACK process callback body.  RT thread only.
RTL_REALTIME int
rtl_process_run(jack_nframes_t nframes, void* process);

#endif // RTL_DAEMON_PROCESS_H
