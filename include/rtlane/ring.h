// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_RING_H
#define RTLANE_RING_H

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/status.h>

#include <stdbool.h>
#include <stddef.h>

RTL_BEGIN_DECLS

/**
   @file ring.h
   Single-producer single-consumer byte ring.

   One thread writes and one thread reads, and neither ever waits for the
   other: both sides are wait-free, so either may be the real-time thread.
   The capacity is a power of two and every byte of it is usable (indices
   run free and are masked on access).  Each side keeps a private copy of
   the other side's index and only reloads it when that copy says there is
   not enough room or data, so in steady state the two threads do not
   share a cache line.

   Samples or any fixed-size frames are moved by passing byte counts that
   are multiples of the frame size; the zero-copy region calls let a reader
   or writer work in place on at most two contiguous segments.
*/

typedef struct RtlRingImpl RtlRing;

/// Up to two contiguous segments of a ring, in order.
typedef struct {
  void*  data[2]; ///< Start of each segment (data[1] is NULL if len[1] == 0)
  size_t len[2];  ///< Length of each segment in bytes
} RtlRingRegions;

/**
   Create a ring of `capacity` bytes.

   Non-RT thread (allocates).  `capacity` must be a non-zero power of two,
   or RTL_NOT_POW2 is returned and `*ring` is set to NULL.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_ring_new(RtlAllocator* allocator, size_t capacity, RtlRing** ring);

/// Free `ring`.  Non-RT thread, after both sides have stopped; NULL is ignored.
RTL_API void
rtl_ring_free(RtlRing* ring);

/**
   Lock the storage into RAM and touch every page.

   Non-RT thread, before the real-time side starts: a page fault on first
   touch would otherwise cost the audio thread a trip into the kernel.
   Returns RTL_SYSTEM_ERROR if mlock is not permitted; the pages are
   prefaulted in any case.
*/
RTL_API RtlStatus
rtl_ring_lock_memory(RtlRing* ring);

/**
   Empty the ring.

   Neither side may be using the ring concurrently; it exists for restarting
   a stopped pipeline.
*/
RTL_API void
rtl_ring_reset(RtlRing* ring);

/// Capacity in bytes.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC size_t
rtl_ring_capacity(const RtlRing* ring);

/// Bytes that can be read now.  Reader thread, RT-safe.
RTL_RT_API size_t
rtl_ring_read_space(const RtlRing* ring);

/**
   Bytes that can be written now.

   Writer thread, RT-safe.  Always loads the reader's index (a cross-core
   transfer when the reader has just moved it); to ask whether a write of a
   known size fits, rtl_ring_has_room() is cheaper.
*/
RTL_RT_API size_t
rtl_ring_write_space(const RtlRing* ring);

/**
   Return true if `bytes` bytes can be written now.

   Writer thread only, RT-safe, wait-free.  Answers from the writer's cached
   copy of the reader's index, and loads the reader's index (acquire) only
   when that copy says there is not room, so a writer that checks before
   every write shares no cache line with the reader in the steady state.
   Free space only grows until the writer writes, so after true the next
   writes of `bytes` in total are written in full.  True for 0; false if
   `bytes` exceeds the capacity.
*/
RTL_RT_API bool
rtl_ring_has_room(RtlRing* ring, size_t bytes);

/**
   Write up to `size` bytes and return how many were written.

   Writer thread, RT-safe.  Writes as much as fits; a caller that needs all
   or nothing checks rtl_ring_write_space() first (it can only grow).
*/
RTL_RT_API size_t
rtl_ring_write(RtlRing* ring, const void* src, size_t size);

/// Read up to `size` bytes and return how many were read.  Reader, RT-safe.
RTL_RT_API size_t
rtl_ring_read(RtlRing* ring, void* dst, size_t size);

/// Copy up to `size` bytes without consuming them.  Reader, RT-safe.
RTL_RT_API size_t
rtl_ring_peek(const RtlRing* ring, void* dst, size_t size);

/// Consume up to `size` bytes without copying.  Reader, RT-safe.
RTL_RT_API size_t
rtl_ring_skip(RtlRing* ring, size_t size);

/**
   Get up to `size` bytes of free space to write in place.

   Writer thread, RT-safe.  Returns the total length of the regions, which
   stay valid until rtl_ring_write_commit().
*/
RTL_RT_API size_t
rtl_ring_write_regions(RtlRing* ring, size_t size, RtlRingRegions* regions);

/**
   Publish `size` bytes written in place (at most what was reserved).

   Writer thread, RT-safe.  Less than was reserved is fine: the rest is
   offered again by the next reservation.  A larger `size` is cut to the
   free space the writer knows of, so a mistake cannot overrun the reader.
*/
RTL_RT_API void
rtl_ring_write_commit(RtlRing* ring, size_t size);

/**
   Get up to `size` readable bytes in place.

   Reader thread, RT-safe.  Returns the total length of the regions, which
   stay valid until rtl_ring_read_commit().
*/
RTL_RT_API size_t
rtl_ring_read_regions(RtlRing* ring, size_t size, RtlRingRegions* regions);

/**
   Release `size` bytes read in place (at most what was obtained).

   Reader thread, RT-safe.  Less than was obtained leaves the rest to be
   read again; a larger `size` is cut to the bytes the reader knows of.
*/
RTL_RT_API void
rtl_ring_read_commit(RtlRing* ring, size_t size);

RTL_END_DECLS

#endif // RTLANE_RING_H
