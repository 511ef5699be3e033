// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_BROADCAST_H
#define RTLANE_BROADCAST_H

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/status.h>

#include <stddef.h>
#include <stdint.h>

RTL_BEGIN_DECLS

/**
   @file broadcast.h
   Single-producer multi-consumer broadcast ring of audio frames.

   The real-time thread writes interleaved float frames and never waits for
   anyone: when the ring is full it overwrites the oldest frames.  Any
   number of readers (a recorder, a stream, a tap) follow at their own pace,
   each with its own position.  A reader that falls behind is told exactly
   how many frames it lost and continues from the oldest frame still valid,
   so the file it writes can fill the gap with silence and stay aligned.
   Readers validate what they copied against the writer's position after
   the copy (as a sequence lock does), so the writer never takes a lock.
*/

typedef struct RtlBroadcastImpl       RtlBroadcast;
typedef struct RtlBroadcastReaderImpl RtlBroadcastReader;

/**
   Create a ring of `capacity` frames of `channels` interleaved floats.

   Non-RT thread (allocates).  `capacity` must be a power of two
   (RTL_NOT_POW2); `channels` must be non-zero (RTL_BAD_ARG); RTL_TOO_BIG
   if the storage would not fit in memory.  The capacity is how far a
   reader may fall behind before it loses frames.  On failure `*ring` is
   NULL.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_broadcast_new(RtlAllocator*  allocator,
                  size_t         capacity,
                  unsigned       channels,
                  RtlBroadcast** ring);

/// Free `ring`.  Non-RT thread, after the writer stopped and all readers
/// were freed; NULL is ignored.
RTL_API void
rtl_broadcast_free(RtlBroadcast* ring);

/// Lock and prefault the storage.  Non-RT thread, before the writer starts
/// (readers may already exist).  RTL_SYSTEM_ERROR if mlock was refused; the
/// storage is prefaulted either way.
RTL_API RtlStatus
rtl_broadcast_lock_memory(RtlBroadcast* ring);

/// Capacity in frames.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC size_t
rtl_broadcast_capacity(const RtlBroadcast* ring);

/// Channels per frame.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC unsigned
rtl_broadcast_channels(const RtlBroadcast* ring);

/// Frames written since creation.  Any thread, RT-safe.
RTL_RT_API uint64_t
rtl_broadcast_position(const RtlBroadcast* ring);

/**
   Append `n_frames` interleaved frames, overwriting the oldest if needed.

   Writer thread (one only), RT-safe, wait-free: it never looks at the
   readers.  A write longer than the capacity stores only its last
   `capacity` frames; readers count the others as lost.
*/
RTL_RT_API void
rtl_broadcast_write(RtlBroadcast* ring, const float* frames, size_t n_frames);

/**
   Append `n_frames` frames from separate channel buffers.

   Writer thread, RT-safe, wait-free.  `planes` holds
   rtl_broadcast_channels() pointers, as a JACK process callback has them.
*/
RTL_RT_API void
rtl_broadcast_write_planar(RtlBroadcast*       ring,
                           const float* const* planes,
                           size_t              n_frames);

/**
   Create a reader that starts at the current write position.

   Non-RT thread (allocates).  Readers may be created and freed while the
   writer runs: the writer does not know about readers, so there is nothing
   to register.  On failure `*reader` is NULL.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_broadcast_reader_new(RtlBroadcast*        ring,
                         RtlAllocator*        allocator,
                         RtlBroadcastReader** reader);

/// Free `reader`.  Its own thread, before the ring is freed; NULL is ignored.
RTL_API void
rtl_broadcast_reader_free(RtlBroadcastReader* reader);

/// Frames written since this reader's position (may exceed the capacity:
/// the excess is what the next read will report lost).  Any thread, RT-safe.
RTL_RT_API size_t
rtl_broadcast_reader_available(const RtlBroadcastReader* reader);

/// Absolute position (in frames since the ring's creation) of this reader's
/// next frame.  Any thread, RT-safe.
RTL_RT_API uint64_t
rtl_broadcast_reader_position(const RtlBroadcastReader* reader);

/// Total frames this reader has lost so far.  Any thread, RT-safe, so that a
/// control thread can report a recorder's dropouts.
RTL_RT_API uint64_t
rtl_broadcast_reader_lost(const RtlBroadcastReader* reader);

/**
   Read up to `max_frames` valid interleaved frames into `frames`.

   Reader's own thread (one thread per reader), RT-safe (it never blocks
   the writer or other readers).  `frames` has room for `max_frames` frames
   of rtl_broadcast_channels() floats.  Returns the number of valid frames
   copied.  If frames this reader had not yet read were overwritten (or
   were being overwritten while it copied), `*lost` (if not NULL) is set to
   how many, the reader skips them, and the frames copied are the ones that
   follow the gap; otherwise `*lost` is set to 0.  So the first frame copied
   is always at the reader's previous position plus `*lost`.  A call may
   return 0 with a non-zero `*lost`.
*/
RTL_RT_API size_t
rtl_broadcast_read(RtlBroadcastReader* reader,
                   float*              frames,
                   size_t              max_frames,
                   uint64_t*           lost);

RTL_END_DECLS

#endif // RTLANE_BROADCAST_H
