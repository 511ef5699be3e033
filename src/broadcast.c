// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <rtlane/broadcast.h>

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/*
  A sequence lock spread over a ring.  Positions are free-running 64-bit
  frame counters that never wrap in practice (2^64 frames is millions of
  years at any sample rate), so "frame p lives in slot p & mask" and "frame
  p is still valid while the writer has claimed less than p + capacity" are
  plain comparisons.

  The writer publishes two counters:

  - `claim`: every frame below claim may be in the middle of being written.
    Stored before any sample of a write, so a slot is never touched before
    readers can know it is being reused.
  - `head`: every frame below head is complete.  Stored with release after
    the samples, so a reader that acquires head sees the samples below it.

  A reader copies what head promises, then (after an acquire fence) reads
  claim again: any frame it copied below claim - capacity may have been
  overwritten while it was copying, and is discarded and counted as lost.
  Samples are atomics accessed with relaxed ordering so that the overlap
  between the writer's stores and a lagging reader's loads is a defined,
  detectable race rather than undefined behaviour.
*/

/*
  ThreadSanitizer does not model standalone fences (GCC refuses to compile
  them under -fsanitize=thread with -Werror).  There, the two fences are
  replaced by release stores and acquire loads of every sample, which imply
  the same ordering (a reader whose load sees a newer sample synchronises
  with the store that wrote it, and so sees the claim made before it), and
  which TSan does understand.  Normal builds keep the single fence on each
  side, which is what the real-time writer should pay.
*/
#if defined(__SANITIZE_THREAD__)
#  define RTL_BCAST_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define RTL_BCAST_TSAN 1
#  endif
#endif

#ifdef RTL_BCAST_TSAN
#  define SAMPLE_STORE memory_order_release
#  define SAMPLE_LOAD memory_order_acquire
#  define fence_before_samples() ((void)0)
#  define fence_after_samples() ((void)0)
#else
#  define SAMPLE_STORE memory_order_relaxed
#  define SAMPLE_LOAD memory_order_relaxed
#  define fence_before_samples() atomic_thread_fence(memory_order_release)
#  define fence_after_samples() atomic_thread_fence(memory_order_acquire)
#endif

// A lock-based atomic would let a reader block the real-time writer.
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
               "the broadcast ring needs lock-free 32- and 64-bit atomics");
_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "uint32_t is unsigned");

struct RtlBroadcastImpl {
  // Written by the writer only, read by every reader.  On their own line so
  // that the writer's stores never evict the read-only fields below.
  alignas(RTL_CACHE_LINE) _Atomic uint64_t claim;
  _Atomic uint64_t head;

  // Read-only after construction.
  alignas(RTL_CACHE_LINE) _Atomic uint32_t* samples;
  void*         storage; ///< `samples` as allocated, to free and lock
  RtlAllocator* allocator;
  size_t        capacity;
  size_t        mask;
  size_t        n_samples;
  unsigned      channels;
};

struct RtlBroadcastReaderImpl {
  // Each reader on its own lines: readers run on different threads.
  alignas(RTL_CACHE_LINE) RtlBroadcast* ring;
  RtlAllocator* allocator;
  // Written by the reader's thread only; atomic so that another thread (a
  // control thread reporting dropouts) may poll them.
  _Atomic uint64_t position;
  _Atomic uint64_t lost;
};

static inline uint32_t
float_bits(const float f)
{
  uint32_t u = 0U;
  memcpy(&u, &f, sizeof(u));
  return u;
}

static inline float
bits_float(const uint32_t u)
{
  float f = 0.0f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

RtlStatus
rtl_broadcast_new(RtlAllocator* const  allocator,
                  const size_t         capacity,
                  const unsigned       channels,
                  RtlBroadcast** const ring)
{
  if (!ring) {
    return RTL_BAD_ARG;
  }
  *ring = NULL;
  if (!channels) {
    return RTL_BAD_ARG;
  }
  if (!rtl_is_pow2(capacity)) {
    return RTL_NOT_POW2;
  }
  if (capacity > SIZE_MAX / channels / sizeof(_Atomic uint32_t)) {
    return RTL_TOO_BIG;
  }

  RtlBroadcast* const self =
    (RtlBroadcast*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, sizeof(*self));
  if (!self) {
    return RTL_NO_MEM;
  }

  const size_t n_samples = capacity * channels;
  const size_t n_bytes   = n_samples * sizeof(_Atomic uint32_t);
  void* const  storage = rtl_aligned_alloc(allocator, RTL_CACHE_LINE, n_bytes);
  if (!storage) {
    rtl_aligned_free(allocator, self);
    return RTL_NO_MEM;
  }

  _Atomic uint32_t* const samples = (_Atomic uint32_t*)storage;

  // Initialise every sample before any reader can exist, so that the first
  // loads read a defined value.  Silence is the only sensible one.
  const uint32_t zero = float_bits(0.0f);
  for (size_t i = 0U; i < n_samples; ++i) {
    atomic_init(&samples[i], zero);
  }

  atomic_init(&self->claim, 0U);
  atomic_init(&self->head, 0U);
  self->samples   = samples;
  self->storage   = storage;
  self->allocator = allocator;
  self->capacity  = capacity;
  self->mask      = capacity - 1U;
  self->n_samples = n_samples;
  self->channels  = channels;

  *ring = self;
  return RTL_SUCCESS;
}

void
rtl_broadcast_free(RtlBroadcast* const ring)
{
  if (ring) {
    RtlAllocator* const allocator = ring->allocator;
    rtl_aligned_free(allocator, ring->storage);
    rtl_aligned_free(allocator, ring);
  }
}

RtlStatus
rtl_broadcast_lock_memory(RtlBroadcast* const ring)
{
  if (!ring) {
    return RTL_BAD_ARG;
  }
  // The samples are only loaded once the writer has published frames, so
  // prefaulting them by writing is safe even while readers poll.  The
  // header is polled by readers at any time and was just written by the
  // constructor, so it is only pinned, never rewritten.
  const RtlStatus ss =
    rtl_lock_memory(ring->storage, ring->n_samples * sizeof(_Atomic uint32_t));
  const RtlStatus st =
    mlock(ring, sizeof(*ring)) ? RTL_SYSTEM_ERROR : RTL_SUCCESS;
  return ss ? ss : st;
}

RTL_REALTIME size_t
rtl_broadcast_capacity(const RtlBroadcast* const ring)
{
  return ring->capacity;
}

RTL_REALTIME unsigned
rtl_broadcast_channels(const RtlBroadcast* const ring)
{
  return ring->channels;
}

RTL_REALTIME uint64_t
rtl_broadcast_position(const RtlBroadcast* const ring)
{
  return atomic_load_explicit(&ring->head, memory_order_acquire);
}

/*
  Announce that frames [head, end) are about to be written, and return the
  first frame that will actually be stored (a write longer than the ring
  keeps only its last `capacity` frames).
*/
static inline uint64_t
begin_write(RtlBroadcast* const ring,
            const size_t        n_frames,
            uint64_t* const     end)
{
  // Only this thread stores head, so a relaxed load reads its own value.
  const uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
  *end                = head + n_frames;

  atomic_store_explicit(&ring->claim, *end, memory_order_relaxed);
  // Order the claim before every sample store below: a reader whose loads
  // see any of those samples (and then issues an acquire fence) is
  // guaranteed to see this claim, and so to discard what it copied from the
  // slots being reused.  A release store of claim would not do: it orders
  // what precedes it, not what follows.
  fence_before_samples();

  return n_frames > ring->capacity ? *end - ring->capacity : head;
}

static inline void
end_write(RtlBroadcast* const ring, const uint64_t end)
{
  atomic_store_explicit(&ring->head, end, memory_order_release);
}

RTL_REALTIME void
rtl_broadcast_write(RtlBroadcast* const ring,
                    const float* const  frames,
                    const size_t        n_frames)
{
  if (!n_frames) {
    return;
  }

  uint64_t       end   = 0U;
  const uint64_t first = begin_write(ring, n_frames, &end);
  const unsigned ch    = ring->channels;

  // Frames [first, end) map onto at most two contiguous runs of slots.
  const float* src   = frames + (size_t)(first - (end - n_frames)) * ch;
  const size_t start = (size_t)(first & ring->mask);
  const size_t count = (size_t)(end - first);
  const size_t first_run =
    count < ring->capacity - start ? count : ring->capacity - start;

  _Atomic uint32_t* dst = ring->samples + start * ch;
  for (size_t i = 0U; i < first_run * ch; ++i) {
    atomic_store_explicit(&dst[i], float_bits(src[i]), SAMPLE_STORE);
  }
  src += first_run * ch;
  dst = ring->samples;
  for (size_t i = 0U; i < (count - first_run) * ch; ++i) {
    atomic_store_explicit(&dst[i], float_bits(src[i]), SAMPLE_STORE);
  }

  end_write(ring, end);
}

RTL_REALTIME void
rtl_broadcast_write_planar(RtlBroadcast* const       ring,
                           const float* const* const planes,
                           const size_t              n_frames)
{
  if (!n_frames) {
    return;
  }

  uint64_t       end   = 0U;
  const uint64_t first = begin_write(ring, n_frames, &end);
  const unsigned ch    = ring->channels;
  const size_t   skip  = (size_t)(first - (end - n_frames));

  // Frame by frame so that the ring is filled in address order.
  size_t i = skip;
  for (uint64_t pos = first; pos < end; ++pos, ++i) {
    _Atomic uint32_t* const slot =
      ring->samples + (size_t)(pos & ring->mask) * ch;
    for (unsigned c = 0U; c < ch; ++c) {
      atomic_store_explicit(&slot[c], float_bits(planes[c][i]), SAMPLE_STORE);
    }
  }

  end_write(ring, end);
}

RtlStatus
rtl_broadcast_reader_new(RtlBroadcast* const        ring,
                         RtlAllocator* const        allocator,
                         RtlBroadcastReader** const reader)
{
  if (!reader) {
    return RTL_BAD_ARG;
  }
  *reader = NULL;
  if (!ring) {
    return RTL_BAD_ARG;
  }

  RtlBroadcastReader* const self = (RtlBroadcastReader*)rtl_aligned_alloc(
    allocator, RTL_CACHE_LINE, sizeof(*self));
  if (!self) {
    return RTL_NO_MEM;
  }

  self->ring      = ring;
  self->allocator = allocator;
  atomic_init(&self->position,
              atomic_load_explicit(&ring->head, memory_order_acquire));
  atomic_init(&self->lost, 0U);

  *reader = self;
  return RTL_SUCCESS;
}

void
rtl_broadcast_reader_free(RtlBroadcastReader* const reader)
{
  if (reader) {
    rtl_aligned_free(reader->allocator, reader);
  }
}

RTL_REALTIME size_t
rtl_broadcast_reader_available(const RtlBroadcastReader* const reader)
{
  const uint64_t head =
    atomic_load_explicit(&reader->ring->head, memory_order_acquire);
  const uint64_t pos =
    atomic_load_explicit(&reader->position, memory_order_relaxed);
  if (head <= pos) {
    return 0U;
  }
  const uint64_t n = head - pos;
  return n > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)n;
}

RTL_REALTIME uint64_t
rtl_broadcast_reader_position(const RtlBroadcastReader* const reader)
{
  return atomic_load_explicit(&reader->position, memory_order_relaxed);
}

RTL_REALTIME uint64_t
rtl_broadcast_reader_lost(const RtlBroadcastReader* const reader)
{
  return atomic_load_explicit(&reader->lost, memory_order_relaxed);
}

/// Copy frames [pos, pos + n) out of the ring; they may be torn.
static void
copy_out(const RtlBroadcast* const ring,
         const uint64_t            pos,
         const size_t              n,
         float* const              frames)
{
  const unsigned ch    = ring->channels;
  const size_t   start = (size_t)(pos & ring->mask);
  const size_t   first_run =
    n < ring->capacity - start ? n : ring->capacity - start;

  const _Atomic uint32_t* src = ring->samples + start * ch;
  float*                  dst = frames;
  for (size_t i = 0U; i < first_run * ch; ++i) {
    dst[i] = bits_float(atomic_load_explicit(&src[i], SAMPLE_LOAD));
  }
  dst += first_run * ch;
  src = ring->samples;
  for (size_t i = 0U; i < (n - first_run) * ch; ++i) {
    dst[i] = bits_float(atomic_load_explicit(&src[i], SAMPLE_LOAD));
  }
}

RTL_REALTIME size_t
rtl_broadcast_read(RtlBroadcastReader* const reader,
                   float* const              frames,
                   const size_t              max_frames,
                   uint64_t* const           lost)
{
  const RtlBroadcast* const ring = reader->ring;
  const uint64_t            cap  = ring->capacity;

  uint64_t pos = atomic_load_explicit(&reader->position, memory_order_relaxed);
  uint64_t skipped = 0U;

  // Acquire pairs with end_write(): every sample below head is visible.
  const uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);

  // A reader may stand past head after skipping frames that the writer has
  // claimed but not yet finished; then there is nothing to read yet.
  size_t n = 0U;
  if (head > pos) {
    if (head - pos > cap) {
      // Already overwritten (or being overwritten) before we even look.
      skipped = head - cap - pos;
      pos     = head - cap;
    }
    const uint64_t avail = head - pos;
    n = avail < (uint64_t)max_frames ? (size_t)avail : max_frames;
  }

  if (n) {
    copy_out(ring, pos, n, frames);
  }

  // Order the copy before the re-check: if any load above saw a sample of a
  // later write, the fence synchronises with that write's release fence in
  // begin_write(), so the claim loaded below is at least that write's.
  fence_after_samples();
  const uint64_t claim =
    atomic_load_explicit(&ring->claim, memory_order_relaxed);
  const uint64_t oldest = claim > cap ? claim - cap : 0U;

  if (oldest > pos) {
    // Frames below `oldest` may have been overwritten during the copy (or
    // were never stored at all, for a write longer than the ring): drop
    // them and keep the valid tail at the front of the caller's buffer.
    const uint64_t bad = oldest - pos;
    if (bad >= n) {
      n = 0U;
    } else {
      const size_t ch  = ring->channels;
      const size_t off = (size_t)bad;
      n -= off;
      memmove(frames, frames + off * ch, n * ch * sizeof(float));
    }
    skipped += bad;
    pos = oldest;
  }
  pos += n;

  atomic_store_explicit(&reader->position, pos, memory_order_relaxed);
  if (skipped) {
    atomic_store_explicit(
      &reader->lost,
      atomic_load_explicit(&reader->lost, memory_order_relaxed) + skipped,
      memory_order_relaxed);
  }
  if (lost) {
    *lost = skipped;
  }
  return n;
}
