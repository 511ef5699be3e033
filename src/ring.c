// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#include "common.h"
#include "smallcopy.h"

#include <rtlane/allocator.h>
#include <rtlane/ring.h>
#include <rtlane/status.h>

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
  Each side's line holds everything that side touches on its fast path: its
  own published index, its private copy of the other side's index, and its
  own copy of the constants.  A write or read then touches exactly one line
  of ring state besides the data, and the only line that ever moves between
  cores is the one whose index the other side has just reloaded.

  Indices run free (they are byte counts modulo SIZE_MAX + 1) and are masked
  on access, so `head - tail` is the fill level even across the wrap of the
  counter, and a full ring is `head - tail == capacity`: no byte is lost to
  telling full from empty.

  rtl_ring_write() and rtl_ring_read() have a fast path for short records
  (at most RTL_SMALL_COPY_MAX bytes, within what the cached index already
  allows, not crossing the end of the storage) that calls nothing, not even
  memcpy; everything else takes the general path.  Bulk audio does not care,
  but a stream of small fixed-size records is then as cheap as a message.
*/

typedef struct {
  _Atomic size_t head;        ///< Bytes ever written; published with release
  size_t         cached_tail; ///< Reader's index as last seen by the writer
  uint8_t*       data;
  size_t         mask;
} RtlRingWriter;

typedef struct {
  _Atomic size_t tail;        ///< Bytes ever read; published with release
  size_t         cached_head; ///< Writer's index as last seen by the reader
  uint8_t*       data;
  size_t         mask;
} RtlRingReader;

struct RtlRingImpl {
  alignas(RTL_CACHE_LINE) RtlRingWriter w;
  alignas(RTL_CACHE_LINE) RtlRingReader r;
  alignas(RTL_CACHE_LINE) RtlAllocator* allocator;
  uint8_t* data;
  size_t   capacity;
};

static size_t
min_size(const size_t a, const size_t b)
{
  return a < b ? a : b;
}

RtlStatus
rtl_ring_new(RtlAllocator* const allocator,
             const size_t        capacity,
             RtlRing** const     ring)
{
  *ring = NULL;
  if (!rtl_is_pow2(capacity)) {
    return RTL_NOT_POW2;
  }

  RtlRing* const self =
    (RtlRing*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, sizeof(RtlRing));
  if (!self) {
    return RTL_NO_MEM;
  }

  // The storage starts on a line of its own so that the first bytes do not
  // share a line with either side's indices.
  uint8_t* const data =
    (uint8_t*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, capacity);
  if (!data) {
    rtl_aligned_free(allocator, self);
    return RTL_NO_MEM;
  }

  memset(self, 0, sizeof(*self));
  memset(data, 0, capacity);
  self->allocator = allocator;
  self->data      = data;
  self->capacity  = capacity;
  self->w.data    = data;
  self->w.mask    = capacity - 1U;
  self->r.data    = data;
  self->r.mask    = capacity - 1U;
  rtl_ring_reset(self);
  *ring = self;
  return RTL_SUCCESS;
}

void
rtl_ring_free(RtlRing* const ring)
{
  if (ring) {
    RtlAllocator* const allocator = ring->allocator;
    rtl_aligned_free(allocator, ring->data);
    rtl_aligned_free(allocator, ring);
  }
}

RtlStatus
rtl_ring_lock_memory(RtlRing* const ring)
{
  const RtlStatus st = rtl_lock_memory(ring, sizeof(*ring));
  const RtlStatus sd = rtl_lock_memory(ring->data, ring->capacity);
  return st ? st : sd;
}

void
rtl_ring_reset(RtlRing* const ring)
{
  atomic_store_explicit(&ring->w.head, 0U, memory_order_relaxed);
  atomic_store_explicit(&ring->r.tail, 0U, memory_order_relaxed);
  ring->w.cached_tail = 0U;
  ring->r.cached_head = 0U;
}

RTL_REALTIME size_t
rtl_ring_capacity(const RtlRing* const ring)
{
  return ring->capacity;
}

RTL_REALTIME size_t
rtl_ring_read_space(const RtlRing* const ring)
{
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_relaxed);
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_acquire);
  return head - tail;
}

RTL_REALTIME size_t
rtl_ring_write_space(const RtlRing* const ring)
{
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_relaxed);
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_acquire);
  return ring->w.mask + 1U - (head - tail);
}

/*
  Free space from the writer's point of view, reloading the reader's index
  only when the cached copy cannot satisfy `wanted`.  The acquire pairs with
  the reader's release of its index, so the reader has finished with the
  bytes before the writer overwrites them.
*/
static size_t
writable(RtlRing* const ring, const size_t head, const size_t wanted)
{
  const size_t capacity = ring->w.mask + 1U;
  size_t       space    = capacity - (head - ring->w.cached_tail);
  if (space < wanted) {
    ring->w.cached_tail =
      atomic_load_explicit(&ring->r.tail, memory_order_acquire);
    space = capacity - (head - ring->w.cached_tail);
  }
  return space;
}

RTL_REALTIME bool
rtl_ring_has_room(RtlRing* const ring, const size_t bytes)
{
  // Unlike rtl_ring_write_space(), which asks the reader's line every time,
  // this answers from the writer's own line whenever it can: only a "no"
  // from the cached index costs a cross-core load.  The refreshed copy is
  // what the following write uses, so it needs the acquire in writable().
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_relaxed);
  return writable(ring, head, bytes) >= bytes;
}

/// Readable bytes from the reader's point of view, as writable().
static size_t
readable(RtlRing* const ring, const size_t tail, const size_t wanted)
{
  size_t avail = ring->r.cached_head - tail;
  if (avail < wanted) {
    ring->r.cached_head =
      atomic_load_explicit(&ring->w.head, memory_order_acquire);
    avail = ring->r.cached_head - tail;
  }
  return avail;
}

/// Split `n` bytes starting at index `pos` into at most two segments.
static void
split(uint8_t* const        data,
      const size_t          mask,
      const size_t          pos,
      const size_t          n,
      RtlRingRegions* const regions)
{
  const size_t offset = pos & mask;
  const size_t first  = min_size(n, mask + 1U - offset);
  regions->data[0]    = data + offset;
  regions->len[0]     = first;
  regions->data[1]    = n > first ? data : NULL;
  regions->len[1]     = n - first;
}

static void
copy_in(uint8_t* const    data,
        const size_t      mask,
        const size_t      pos,
        const void* const src,
        const size_t      n)
{
  const size_t offset = pos & mask;
  const size_t first  = min_size(n, mask + 1U - offset);
  rtl_copy(data + offset, (const uint8_t*)src, first);
  if (n > first) {
    rtl_copy(data, (const uint8_t*)src + first, n - first);
  }
}

static void
copy_out(const uint8_t* const data,
         const size_t         mask,
         const size_t         pos,
         void* const          dst,
         const size_t         n)
{
  const size_t offset = pos & mask;
  const size_t first  = min_size(n, mask + 1U - offset);
  rtl_copy((uint8_t*)dst, data + offset, first);
  if (n > first) {
    rtl_copy((uint8_t*)dst + first, data, n - first);
  }
}

static RTL_SLOW_PATH size_t
write_slow(RtlRing* const ring, const void* const src, const size_t size)
{
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_relaxed);
  const size_t n    = min_size(size, writable(ring, head, size));
  if (n) {
    copy_in(ring->w.data, ring->w.mask, head, src, n);
    atomic_store_explicit(&ring->w.head, head + n, memory_order_release);
  }
  return n;
}

RTL_REALTIME size_t
rtl_ring_write(RtlRing* const ring, const void* const src, const size_t size)
{
  // Fast path, a leaf with no call: a short record that fits the free
  // space the writer already knows of and does not cross the end.
  RtlRingWriter* const w = &ring->w;
  const size_t head      = atomic_load_explicit(&w->head, memory_order_relaxed);
  const size_t offset    = head & w->mask;
  if (RTL_LIKELY(size <= RTL_SMALL_COPY_MAX &&
                 size <= w->mask + 1U - (head - w->cached_tail) &&
                 size <= w->mask + 1U - offset)) {
    rtl_copy_small(w->data + offset, (const uint8_t*)src, size);
    atomic_store_explicit(&w->head, head + size, memory_order_release);
    return size;
  }
  return write_slow(ring, src, size);
}

static RTL_SLOW_PATH size_t
read_slow(RtlRing* const ring, void* const dst, const size_t size)
{
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_relaxed);
  const size_t n    = min_size(size, readable(ring, tail, size));
  if (n) {
    copy_out(ring->r.data, ring->r.mask, tail, dst, n);
    atomic_store_explicit(&ring->r.tail, tail + n, memory_order_release);
  }
  return n;
}

RTL_REALTIME size_t
rtl_ring_read(RtlRing* const ring, void* const dst, const size_t size)
{
  // Fast path as in rtl_ring_write(): short, known readable, no wrap.
  RtlRingReader* const r = &ring->r;
  const size_t tail      = atomic_load_explicit(&r->tail, memory_order_relaxed);
  const size_t offset    = tail & r->mask;
  if (RTL_LIKELY(size <= RTL_SMALL_COPY_MAX && size <= r->cached_head - tail &&
                 size <= r->mask + 1U - offset)) {
    rtl_copy_small((uint8_t*)dst, r->data + offset, size);
    atomic_store_explicit(&r->tail, tail + size, memory_order_release);
    return size;
  }
  return read_slow(ring, dst, size);
}

RTL_REALTIME size_t
rtl_ring_peek(const RtlRing* const ring, void* const dst, const size_t size)
{
  // The ring is const here, so the cached index cannot be refreshed; a
  // fresh load when it falls short gives the same answer.
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_relaxed);
  size_t       head = ring->r.cached_head;
  if (head - tail < size) {
    head = atomic_load_explicit(&ring->w.head, memory_order_acquire);
  }
  const size_t n = min_size(size, head - tail);
  if (n) {
    copy_out(ring->r.data, ring->r.mask, tail, dst, n);
  }
  return n;
}

RTL_REALTIME size_t
rtl_ring_skip(RtlRing* const ring, const size_t size)
{
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_relaxed);
  const size_t n    = min_size(size, readable(ring, tail, size));
  if (n) {
    atomic_store_explicit(&ring->r.tail, tail + n, memory_order_release);
  }
  return n;
}

RTL_REALTIME size_t
rtl_ring_write_regions(RtlRing* const        ring,
                       const size_t          size,
                       RtlRingRegions* const regions)
{
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_relaxed);
  const size_t n    = min_size(size, writable(ring, head, size));
  split(ring->w.data, ring->w.mask, head, n, regions);
  return n;
}

RTL_REALTIME void
rtl_ring_write_commit(RtlRing* const ring, const size_t size)
{
  // Clamped to the space the writer knows to be free, which covers any
  // reservation: a caller's mistake cannot publish bytes the reader still
  // owns or move the index past the reader.
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_relaxed);
  const size_t room = ring->w.mask + 1U - (head - ring->w.cached_tail);
  const size_t n    = min_size(size, room);
  if (n) {
    atomic_store_explicit(&ring->w.head, head + n, memory_order_release);
  }
}

RTL_REALTIME size_t
rtl_ring_read_regions(RtlRing* const        ring,
                      const size_t          size,
                      RtlRingRegions* const regions)
{
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_relaxed);
  const size_t n    = min_size(size, readable(ring, tail, size));
  split(ring->r.data, ring->r.mask, tail, n, regions);
  return n;
}

RTL_REALTIME void
rtl_ring_read_commit(RtlRing* const ring, const size_t size)
{
  // Clamped to what the reader knows to be readable, as in write_commit.
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_relaxed);
  const size_t n    = min_size(size, ring->r.cached_head - tail);
  if (n) {
    atomic_store_explicit(&ring->r.tail, tail + n, memory_order_release);
  }
}
