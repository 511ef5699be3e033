// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_WRITEAHEAD_H
#define RTLANE_WRITEAHEAD_H

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/status.h>

#include <stddef.h>
#include <stdint.h>

RTL_BEGIN_DECLS

/**
   @file writeahead.h
   Write-ahead buffer: a fixed delay of L frames between a worker that
   renders ahead and the real-time thread that plays.

   The buffer starts holding L frames of silence.  From then on the k-th
   frame the writer writes is the frame the reader reads at position k + L,
   always: the delay is a property of frame positions, not of timing.  If
   the writer is late, the reader plays silence for the missing frames
   (an underrun, counted) and the writer's late frames are discarded when
   they arrive (counted), so the delay stays exactly L and the latency
   reported to the graph stays true.  If the writer gets more than the
   capacity ahead, the excess is refused (an overrun, counted).

   L changes only on the writer's side: growing writes silence, shrinking
   discards the next frames the writer produces.  Either is one
   adjustment.  The reader never needs to know L.

   Threads: one writer thread (write, write_space, set_latency) and one
   reader thread (read); the query functions and stats from any thread.
   Frame positions are free-running 64-bit counters, one owned by each
   side and published with release/acquire, so neither side ever waits for
   the other.  The reader is wait-free: it never spins, retries or waits.
*/

typedef struct RtlWriteAheadImpl RtlWriteAhead;

/**
   Health counters, readable from any thread.

   Each field is read atomically; while both sides run they are not one
   snapshot, but once both have stopped they add up exactly:
   frames_written + every frame of prefill and latency padding (read or
   still buffered) == real frames read + dropped_frames + fill, and
   frames_read == real frames read + underrun_frames.
*/
typedef struct {
  uint64_t frames_written;  ///< Frames consumed from the writer (with dropped)
  uint64_t frames_read;     ///< Frames delivered to the reader (with silence)
  uint64_t underruns;       ///< Reads that had to substitute silence
  uint64_t underrun_frames; ///< Frames of silence substituted
  /// Frames never played: trimmed by a shrink, or written for a position
  /// the reader had already played as silence (padding written by a
  /// latency grow while the writer is late counts here too)
  uint64_t dropped_frames;
  uint64_t overruns;    ///< Writes refused (in part) for lack of room
  uint64_t adjustments; ///< Latency changes applied
  uint32_t latency;     ///< Current delay L in frames
  uint32_t fill;        ///< Frames written ahead of the reader now
  uint32_t capacity;    ///< Capacity in frames
  float    utilisation; ///< fill / capacity, 0..1
} RtlWriteAheadStats;

/**
   Create a buffer of `capacity` frames of `channels` channels, delay
   `latency` frames, prefilled with `latency` frames of silence.

   Non-RT thread (allocates).  `capacity` must be a power of two
   (RTL_NOT_POW2), `channels` non-zero and `latency` < `capacity`
   (RTL_BAD_ARG); RTL_TOO_BIG beyond 2^31 frames.  `*buffer` is NULL on
   failure.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_writeahead_new(RtlAllocator*   allocator,
                   unsigned        channels,
                   size_t          capacity,
                   size_t          latency,
                   RtlWriteAhead** buffer);

/// Free `buffer`.  Non-RT thread, after both sides stopped; NULL is ignored.
RTL_API void
rtl_writeahead_free(RtlWriteAhead* buffer);

/// Lock and prefault the storage.  Non-RT thread, before the reader starts.
RTL_API RtlStatus
rtl_writeahead_lock_memory(RtlWriteAhead* buffer);

/**
   Empty the buffer, zero the counters and prefill `latency` frames again.

   Neither side may be running.  RTL_BAD_ARG if `latency` >= capacity.
*/
RTL_API RtlStatus
rtl_writeahead_reset(RtlWriteAhead* buffer, size_t latency);

/// Channels.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC unsigned
rtl_writeahead_channels(const RtlWriteAhead* buffer);

/// Capacity in frames.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC size_t
rtl_writeahead_capacity(const RtlWriteAhead* buffer);

/// Current delay L in frames (after any pending adjustment).  Any thread.
RTL_RT_API size_t
rtl_writeahead_latency(const RtlWriteAhead* buffer);

/// Frames written and not yet read.  Any thread, RT-safe.
RTL_RT_API size_t
rtl_writeahead_fill(const RtlWriteAhead* buffer);

/// Frames the writer may write now without an overrun.  Writer thread.
RTL_RT_API size_t
rtl_writeahead_write_space(const RtlWriteAhead* buffer);

/**
   Write `n_frames` frames from `planes` (one pointer per channel).

   Writer thread, RT-safe (the worker may call it from anywhere).  Returns
   how many input frames were consumed: frames discarded because they were
   late or trimmed count as consumed; frames refused for lack of room do
   not, and make an overrun.
*/
RTL_RT_API size_t
rtl_writeahead_write(RtlWriteAhead*      buffer,
                     const float* const* planes,
                     size_t              n_frames);

/**
   Read exactly `n_frames` frames into `planes`.

   Reader (real-time) thread, RT-safe, wait-free.  Frames the writer has not
   produced are filled with silence and counted as an underrun; the reader
   moves on regardless, and the writer's frames for those positions are
   dropped when they come, so the delay never changes.  Returns the number
   of frames that were in the buffer in time (the leading ones; the prefill
   and latency padding count, being in the buffer); the rest of `planes` is
   silence.
*/
RTL_RT_API size_t
rtl_writeahead_read(RtlWriteAhead* buffer,
                    float* const*  planes,
                    size_t         n_frames);

/**
   Change the delay to `latency` frames.

   Writer thread only.  Growing writes silence (RTL_FULL, and nothing
   changes, if there is not room for it now); shrinking discards the next
   frames the writer writes.  A grow first takes back whatever part of an
   earlier shrink the writer has not spent yet, so the next frame always
   lands at its index + the new latency.  Each call that changes the
   latency is one adjustment.  RTL_BAD_ARG if `latency` >= capacity.
*/
RTL_API RtlStatus
rtl_writeahead_set_latency(RtlWriteAhead* buffer, size_t latency);

/// Copy the counters.  Any thread, RT-safe (each field is read atomically).
RTL_RT_API void
rtl_writeahead_stats(const RtlWriteAhead* buffer, RtlWriteAheadStats* stats);

RTL_END_DECLS

#endif // RTLANE_WRITEAHEAD_H
