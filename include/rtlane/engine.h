// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_ENGINE_H
#define RTLANE_ENGINE_H

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/processor.h>
#include <rtlane/status.h>

#include <stdint.h>

RTL_BEGIN_DECLS

/**
   @file engine.h
   Write-ahead engine: run a processor that is not real-time safe on a
   worker thread, a fixed L frames ahead of the audio thread.

   Every period the audio thread hands the engine its input audio and MIDI
   and takes back output audio and MIDI; it never waits.  The input goes
   through SPSC rings to the worker, which runs the processor on it and
   writes the result into a write-ahead buffer that the audio thread reads
   L frames later.  Output frame t is always the processor's answer to input
   frame t - L, and MIDI out is MIDI in delayed by the same L, so audio and
   MIDI stay together.  The application reports L to the graph as the
   ports' latency and the graph compensates.

   The worker can only process input that has arrived, so the buffer holds
   at most L frames (plus the period being played): L is the stall budget.
   A processor that pauses for less than L minus a period and the worker's
   wake-up delay (for example 20 ms at L = 50 ms) causes no underrun.  A
   longer stall plays silence for the frames the worker has not made
   (counted as underruns) and the late frames are dropped, so the delay
   stays exactly L.  If the stall outlasts the input rings, the audio thread
   drops whole periods of input (counted) and the worker processes silence
   in their place, again keeping every frame at its place.

   Threads:
   - one real-time thread calls rtl_engine_process() every period (JACK's
     process callback).  It is RT-safe and wait-free: it copies and
     stores, and makes no system call in the steady state (the worker
     wakes on its own timer; the audio thread calls sem_post(), which
     never blocks, only when input piles up).  It may run before, during
     and after rtl_engine_start()/rtl_engine_stop(): while the worker is
     not running it plays what is left in the buffer and then silence.
   - one control thread (not real-time, not the worker) calls
     rtl_engine_new/start/stop/free and rtl_engine_lock_memory;
     rtl_engine_set_latency() may come from any non-RT thread but the
     worker.
   - the worker thread, created by rtl_engine_start(), runs the processor.
     It inherits the signal mask and scheduling of the thread that starts
     it (normally not real-time); a runtime that must know its threads (a
     garbage collector, an interpreter) registers it in the processor's
     init(), which runs on it.
   - rtl_engine_stats(), rtl_engine_latency() and rtl_engine_config() may
     be called from any thread, the real-time one included.
*/

typedef struct RtlEngineImpl RtlEngine;

/// Frames over which the output fades out before a latency change and back in
/// after.
#define RTL_ENGINE_FADE_FRAMES 64U

/**
   Engine configuration.  Zero in an optional field means "choose";
   rtl_engine_config() returns the values chosen.
*/
typedef struct {
  uint32_t n_inputs;    ///< Audio input channels (may be 0)
  uint32_t n_outputs;   ///< Audio output channels (1 or more)
  double   sample_rate; ///< Frames per second, passed to the processor
  /// Most frames per processor call; the graph's largest period is the
  /// natural choice (the audio thread may pass longer periods: the worker
  /// splits them)
  uint32_t max_block;
  /// The delay L in frames (1 or more).  It must exceed the period plus
  /// the worker's wake-up and processing time, or the output underruns
  uint32_t latency;
  /// Largest latency rtl_engine_set_latency() accepts, so the buffers need
  /// never grow at run time.  0: twice `latency`, and at least `latency` +
  /// `max_block`
  uint32_t high_water;
  /// Write-ahead buffer frames, a power of two above high_water +
  /// max_block.  0: the smallest such.  The input rings hold twice this,
  /// which is the longest worker stall absorbed without dropping input
  uint32_t capacity;
  /// The worker wakes by itself every wake_frames of audio and processes
  /// what has arrived; the audio thread wakes it (sem_post) only when
  /// twice that waits from earlier periods, or after the worker went idle.
  /// Fewer wake-ups cost that much of the stall budget.  0: latency / 8 (at
  /// least 1), following rtl_engine_set_latency(); 1 wakes it every period
  uint32_t wake_frames;
  /// MIDI events that can wait at once, both for the worker and in the
  /// audio thread's delay queue; rounded up to a power of two.  0: 512
  uint32_t midi_capacity;
} RtlEngineConfig;

/**
   Health and work counters.

   Every field is read atomically; while the engine runs they are not one
   snapshot.  They count from rtl_engine_new() on, across restarts.
*/
typedef struct {
  uint64_t underruns;       ///< Periods that played silence for missing frames
  uint64_t underrun_frames; ///< Frames of silence so played
  uint64_t overruns;        ///< Worker writes refused for lack of room
  /// Frames processed but never played: late after an underrun, or cut
  /// by a latency decrease
  uint64_t dropped_frames;
  uint64_t adjustments;           ///< Latency changes applied
  uint64_t input_dropped_frames;  ///< Input frames the audio thread dropped
  uint64_t input_dropped_periods; ///< Periods those came in
  /// MIDI events the processor never saw: longer than
  /// RTL_MIDI_EVENT_MAX, or the worker's MIDI ring full
  uint64_t midi_dropped;
  /// MIDI events not passed through: too long, or the delay queue full
  uint64_t midi_out_dropped;
  uint64_t frames_processed; ///< Frames the worker ran through the processor
  uint64_t worker_chunks;    ///< Processor calls
  uint64_t worker_wakeups;   ///< Times the worker woke with work to do
  /// Times the audio thread woke the worker (a system call): the worker
  /// stalled, or input came back after it went idle.  0 in the steady state
  uint64_t worker_posts;
  uint64_t worker_ns_mean; ///< Mean time of a processor call, ns
  uint64_t worker_ns_max;  ///< Longest processor call, ns
  uint32_t latency;        ///< Delay L applied now, in frames
  uint32_t latency_target; ///< L last requested (see rtl_engine_latency())
  uint32_t fill;           ///< Frames in the write-ahead buffer now
  uint32_t capacity;       ///< Write-ahead buffer frames
  uint32_t running;        ///< 1 between a successful start and stop
} RtlEngineStats;

/**
   Create an engine for `processor` (which must outlive it), allocating
   everything the audio thread will ever touch.

   Non-RT thread.  Validates `config` (RTL_BAD_ARG for a field out of
   range, RTL_NOT_POW2 for a capacity that is not a power of two) and the
   processor (see rtl_processor_check()).  The engine starts stopped: call
   rtl_engine_start().  `*engine` is NULL on failure.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_engine_new(RtlAllocator*          allocator,
               const RtlEngineConfig* config,
               const RtlProcessor*    processor,
               RtlEngine**            engine);

/**
   Stop the engine if it runs, and free it.

   Control thread, once the audio thread no longer calls
   rtl_engine_process(); NULL is ignored.
*/
RTL_API void
rtl_engine_free(RtlEngine* engine);

/**
   Lock every buffer the audio thread touches into RAM, touching each page.

   Control thread, before rtl_engine_start() and before the audio thread
   first calls rtl_engine_process() (it writes to every page).
   RTL_SYSTEM_ERROR if mlock is not permitted; the pages are prefaulted in
   any case.
*/
RTL_API RtlStatus
rtl_engine_lock_memory(RtlEngine* engine);

/**
   Start the worker: reset the buffers (L frames of silence ahead of the
   audio thread, with L the latest rtl_engine_set_latency() value), create
   the worker thread, run the processor's init() on it and wait for it.

   Control thread; the audio thread may be running.  Returns RTL_FAILURE
   if init() failed (the engine stays stopped), RTL_SYSTEM_ERROR if the
   thread could not be created, RTL_BAD_STATE if already running.  Until
   init() has returned, the audio thread plays silence and passes MIDI
   through.
*/
RTL_API RtlStatus
rtl_engine_start(RtlEngine* engine);

/**
   Stop the worker: it calls the processor's release() and exits, and this
   returns once it has.  The audio thread plays out what the worker had
   written and then silence, with no underruns counted.

   Control thread.  Stopping a stopped engine does nothing.
*/
RTL_API void
rtl_engine_stop(RtlEngine* engine);

/**
   One period of the audio thread.

   Real-time thread, RT-safe and wait-free: never allocates, locks or waits
   for the worker.  Pushes `n_frames` frames of `in` (n_inputs planes; may
   be NULL when there are none) and the `n_midi_in` events of `midi_in`
   (sorted by frame, frames within the period) for the worker, plays
   `n_frames` frames of output into `out` (n_outputs planes), and returns
   in `midi_out` the MIDI events whose time (input frame + L) falls in this
   period, with their offsets in it.

   If the worker has fallen so far behind that the input rings are full,
   this period's input is dropped and counted, and the worker processes
   silence in its place.  MIDI events that do not fit `max_midi_out` stay
   queued and come out at the start of the next period.
*/
RTL_RT_API void
rtl_engine_process(RtlEngine*          engine,
                   const float* const* in,
                   float* const*       out,
                   const RtlMidiEvent* midi_in,
                   uint32_t            n_midi_in,
                   RtlMidiEvent*       midi_out,
                   uint32_t            max_midi_out,
                   uint32_t*           n_midi_out,
                   uint32_t            n_frames);

/**
   Change the delay to `latency` frames (1..high_water).

   Any non-RT thread except the worker; returns at once.  The worker
   applies the change between two processor calls: the output fades out
   over RTL_ENGINE_FADE_FRAMES frames, the delay grows by inserting
   silence or shrinks by dropping frames, and the output fades back in, so
   there is no click.  From then on output and MIDI are exactly `latency`
   frames behind input.  rtl_engine_latency() returns the new value at
   once; the application reports it to the graph and then calls
   jack_recompute_total_latencies() from a non-RT thread (never from
   the process or latency callback).  While stopped, the value applies at
   the next start.
*/
RTL_API RtlStatus
rtl_engine_set_latency(RtlEngine* engine, uint32_t latency);

/**
   Tell the engine that the graph now runs at `sample_rate` frames per
   second (PipeWire changes the rate under a running client; jackd
   restarts instead).

   Any non-RT thread; returns at once.  The worker's own wake-ups keep
   their length in time: with wake_frames left at 0 they are L / 8 in
   frames, so a rate change takes this call and rtl_engine_set_latency()
   with L in frames at the new rate.  The processor is not told (it was
   set up for the configured rate and follows a change itself if it
   must), and rtl_engine_config() still reports the configured rate.
   Returns RTL_BAD_ARG unless `sample_rate` is positive and finite.
*/
RTL_API RtlStatus
rtl_engine_set_sample_rate(RtlEngine* engine, double sample_rate);

/**
   The delay L to report to the graph: the latency last set (the output
   reaches it within a few periods; RtlEngineStats.latency says when).

   Any thread, RT-safe: JACK's latency callback may call it.
*/
RTL_RT_API uint32_t
rtl_engine_latency(const RtlEngine* engine);

/// Copy the counters.  Any thread, RT-safe.
RTL_RT_API void
rtl_engine_stats(const RtlEngine* engine, RtlEngineStats* stats);

/// The configuration in use, with every "choose" field filled in.  Any thread.
RTL_RT_API void
rtl_engine_config(const RtlEngine* engine, RtlEngineConfig* config);

RTL_END_DECLS

#endif // RTLANE_ENGINE_H
