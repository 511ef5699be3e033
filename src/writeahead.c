// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#include "common.h"

#include <rtlane/allocator.h>
#include <rtlane/status.h>
#include <rtlane/writeahead.h>

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/*
  Positions are free-running 64-bit frame numbers on the reader's timeline:
  position p lives in slot p & mask.  The writer owns W (its next position)
  and the reader owns R (its next position); each only ever stores its own
  and loads the other's, with release on the store that publishes (data
  copied before W, data consumed before R) and acquire on the load.

  The reader plays slot p only when p < W as it loaded it, and otherwise
  plays silence and moves R on regardless: the reader never waits and never
  touches a slot the writer has not published.  The writer fills slots only
  below R + capacity as it last loaded R, so it never overwrites a slot the
  reader may still play; and it skips positions it knows are below R,
  because those have been played as silence already.

  Its view of R may be stale, so it may still fill a slot whose position the
  reader has just played as silence.  Such a frame is never played (the
  reader has moved past that position for good) and it is counted where
  the truth is known: on the reader's side.  The reader remembers where its
  silence began (`gap`, with everything from `gap` to R played as silence),
  and whenever it loads W it counts the positions in that stretch that the
  writer has since passed as late frames.  Whether the writer discarded
  such a frame knowingly or filled a dead slot, it is counted exactly once,
  and the delay never moves: position = writer index + L, whatever happens.
*/

struct RtlWriteAheadImpl {
  // Set at construction, read-only afterwards
  RtlAllocator* allocator;
  float*        data; // channels planes of capacity frames each
  size_t        data_size;
  uint64_t      capacity;
  uint64_t      mask;
  unsigned      channels;

  // Writer side
  alignas(RTL_CACHE_LINE) _Atomic uint64_t write_pos; // W, published
  uint64_t         w;                                 // Writer's own W
  uint64_t         r_cache;       // Last R the writer loaded
  uint64_t         trim;          // Frames still to discard (shrinking)
  size_t           latency_local; // L as the writer knows it
  _Atomic size_t   latency;       // L, for any thread
  _Atomic uint64_t frames_written;
  _Atomic uint64_t overruns;
  _Atomic uint64_t adjustments;
  _Atomic uint64_t trimmed;

  // Reader side
  alignas(RTL_CACHE_LINE) _Atomic uint64_t read_pos; // R, published
  uint64_t         r;                                // Reader's own R
  uint64_t         w_cache;                          // Last W the reader loaded
  _Atomic uint64_t gap; // Silence from here to R not yet passed by W
  _Atomic uint64_t frames_read;
  _Atomic uint64_t underruns;
  _Atomic uint64_t underrun_frames;
  _Atomic uint64_t late;
};

// The largest capacity whose frame counts still fit the 32-bit stats fields.
#define RTL_WRITEAHEAD_MAX_CAPACITY ((size_t)1U << 31U)

static inline uint64_t
min_u64(const uint64_t a, const uint64_t b)
{
  return a < b ? a : b;
}

/*
  Copy `n` frames (n <= capacity) into the slots of positions [pos, pos+n),
  from `planes` starting at frame `offset`, or silence if `planes` is NULL.
*/
static void
put_frames(RtlWriteAhead* const      buffer,
           const float* const* const planes,
           const size_t              offset,
           const uint64_t            pos,
           const size_t              n)
{
  const size_t capacity = (size_t)buffer->capacity;
  const size_t slot     = (size_t)(pos & buffer->mask);
  const size_t first    = n < capacity - slot ? n : capacity - slot;
  for (unsigned c = 0U; c < buffer->channels; ++c) {
    float* const plane = buffer->data + (size_t)c * capacity;
    if (planes) {
      const float* const src = planes[c] + offset;
      memcpy(plane + slot, src, first * sizeof(float));
      memcpy(plane, src + first, (n - first) * sizeof(float));
    } else {
      memset(plane + slot, 0, first * sizeof(float));
      memset(plane, 0, (n - first) * sizeof(float));
    }
  }
}

/// Copy the `n` frames (n <= capacity) at positions [pos, pos+n) out.
static void
get_frames(const RtlWriteAhead* const buffer,
           float* const* const        planes,
           const uint64_t             pos,
           const size_t               n)
{
  const size_t capacity = (size_t)buffer->capacity;
  const size_t slot     = (size_t)(pos & buffer->mask);
  const size_t first    = n < capacity - slot ? n : capacity - slot;
  for (unsigned c = 0U; c < buffer->channels; ++c) {
    const float* const plane = buffer->data + (size_t)c * capacity;
    memcpy(planes[c], plane + slot, first * sizeof(float));
    memcpy(planes[c] + first, plane, (n - first) * sizeof(float));
  }
}

/// Put both sides at the start of an empty timeline with `latency` frames
/// of silence in it.  No thread may be using the buffer.
static void
restart(RtlWriteAhead* const buffer, const size_t latency)
{
  memset(buffer->data, 0, buffer->data_size);

  buffer->w             = latency;
  buffer->r_cache       = 0U;
  buffer->trim          = 0U;
  buffer->latency_local = latency;
  atomic_store_explicit(&buffer->latency, latency, memory_order_relaxed);
  atomic_store_explicit(&buffer->frames_written, 0U, memory_order_relaxed);
  atomic_store_explicit(&buffer->overruns, 0U, memory_order_relaxed);
  atomic_store_explicit(&buffer->adjustments, 0U, memory_order_relaxed);
  atomic_store_explicit(&buffer->trimmed, 0U, memory_order_relaxed);

  buffer->r       = 0U;
  buffer->w_cache = 0U;
  atomic_store_explicit(&buffer->gap, 0U, memory_order_relaxed);
  atomic_store_explicit(&buffer->frames_read, 0U, memory_order_relaxed);
  atomic_store_explicit(&buffer->underruns, 0U, memory_order_relaxed);
  atomic_store_explicit(&buffer->underrun_frames, 0U, memory_order_relaxed);
  atomic_store_explicit(&buffer->late, 0U, memory_order_relaxed);

  // Release so that a thread started after this, by whatever means the
  // caller uses, sees the cleared storage together with the positions.
  atomic_store_explicit(&buffer->read_pos, 0U, memory_order_release);
  atomic_store_explicit(&buffer->write_pos, latency, memory_order_release);
}

RtlStatus
rtl_writeahead_new(RtlAllocator* const   allocator,
                   const unsigned        channels,
                   const size_t          capacity,
                   const size_t          latency,
                   RtlWriteAhead** const buffer)
{
  if (!buffer) {
    return RTL_BAD_ARG;
  }
  *buffer = NULL;

  if (!channels) {
    return RTL_BAD_ARG;
  }
  if (!rtl_is_pow2(capacity)) {
    return RTL_NOT_POW2;
  }
  if (latency >= capacity) {
    return RTL_BAD_ARG;
  }
  if (capacity > RTL_WRITEAHEAD_MAX_CAPACITY ||
      capacity > SIZE_MAX / sizeof(float) / channels) {
    return RTL_TOO_BIG;
  }

  RtlWriteAhead* const self = (RtlWriteAhead*)rtl_aligned_alloc(
    allocator, alignof(RtlWriteAhead), sizeof(RtlWriteAhead));
  if (!self) {
    return RTL_NO_MEM;
  }
  memset(self, 0, sizeof(*self));

  self->allocator = allocator;
  self->data_size = (size_t)channels * capacity * sizeof(float);
  self->capacity  = capacity;
  self->mask      = capacity - 1U;
  self->channels  = channels;
  self->data =
    (float*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, self->data_size);
  if (!self->data) {
    rtl_aligned_free(allocator, self);
    return RTL_NO_MEM;
  }

  restart(self, latency);
  *buffer = self;
  return RTL_SUCCESS;
}

void
rtl_writeahead_free(RtlWriteAhead* const buffer)
{
  if (buffer) {
    RtlAllocator* const allocator = buffer->allocator;
    rtl_aligned_free(allocator, buffer->data);
    rtl_aligned_free(allocator, buffer);
  }
}

RtlStatus
rtl_writeahead_lock_memory(RtlWriteAhead* const buffer)
{
  const RtlStatus st = rtl_lock_memory(buffer, sizeof(*buffer));
  const RtlStatus sd = rtl_lock_memory(buffer->data, buffer->data_size);
  return st ? st : sd;
}

RtlStatus
rtl_writeahead_reset(RtlWriteAhead* const buffer, const size_t latency)
{
  if (latency >= buffer->capacity) {
    return RTL_BAD_ARG;
  }
  restart(buffer, latency);
  return RTL_SUCCESS;
}

RTL_REALTIME unsigned
rtl_writeahead_channels(const RtlWriteAhead* const buffer)
{
  return buffer->channels;
}

RTL_REALTIME size_t
rtl_writeahead_capacity(const RtlWriteAhead* const buffer)
{
  return (size_t)buffer->capacity;
}

RTL_REALTIME size_t
rtl_writeahead_latency(const RtlWriteAhead* const buffer)
{
  return atomic_load_explicit(&buffer->latency, memory_order_relaxed);
}

/*
  W - R clamped to [0, capacity].  The two loads are not one snapshot: from
  a third thread either may be the older, so the difference can briefly
  look negative or too large; the clamp keeps the answer meaningful.  From
  either side's own thread its own position is exact.
*/
static uint64_t
current_fill(const RtlWriteAhead* const buffer)
{
  const uint64_t r =
    atomic_load_explicit(&buffer->read_pos, memory_order_acquire);
  const uint64_t w =
    atomic_load_explicit(&buffer->write_pos, memory_order_acquire);
  return w > r ? min_u64(w - r, buffer->capacity) : 0U;
}

RTL_REALTIME size_t
rtl_writeahead_fill(const RtlWriteAhead* const buffer)
{
  return (size_t)current_fill(buffer);
}

RTL_REALTIME size_t
rtl_writeahead_write_space(const RtlWriteAhead* const buffer)
{
  const uint64_t r =
    atomic_load_explicit(&buffer->read_pos, memory_order_acquire);
  const uint64_t room  = r + buffer->capacity - buffer->w;
  const uint64_t space = room + buffer->trim;
  return space > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)space;
}

RTL_REALTIME size_t
rtl_writeahead_write(RtlWriteAhead* const      buffer,
                     const float* const* const planes,
                     const size_t              n_frames)
{
  size_t consumed = 0U;

  // A shrink pending: these frames are not played at all, which is what
  // moves every later frame d positions earlier.
  if (buffer->trim && n_frames) {
    const uint64_t d = min_u64(buffer->trim, n_frames);
    buffer->trim -= d;
    consumed = (size_t)d;
    rtl_counter_add(&buffer->trimmed, d);
  }

  const uint64_t remain = n_frames - consumed;
  if (remain) {
    uint64_t limit = buffer->r_cache + buffer->capacity;
    if (buffer->w + remain > limit) {
      buffer->r_cache =
        atomic_load_explicit(&buffer->read_pos, memory_order_acquire);
      limit = buffer->r_cache + buffer->capacity;
    }

    // limit >= w always: it was true when W was last moved, and R only grows
    const uint64_t m = min_u64(remain, limit - buffer->w);
    if (m) {
      // Positions below the R we know of have been played as silence:
      // skip them (the reader counts them as late when it sees W pass).
      const uint64_t skip = buffer->r_cache > buffer->w
                              ? min_u64(buffer->r_cache - buffer->w, m)
                              : 0U;
      put_frames(buffer,
                 planes,
                 consumed + (size_t)skip,
                 buffer->w + skip,
                 (size_t)(m - skip));
      buffer->w += m;
      atomic_store_explicit(
        &buffer->write_pos, buffer->w, memory_order_release);
      consumed += (size_t)m;
    }
    if (m < remain) {
      rtl_counter_add(&buffer->overruns, 1U);
    }
  }

  rtl_counter_add(&buffer->frames_written, consumed);
  return consumed;
}

RTL_REALTIME size_t
rtl_writeahead_read(RtlWriteAhead* const buffer,
                    float* const* const  planes,
                    const size_t         n_frames)
{
  const uint64_t r   = buffer->r;
  const uint64_t end = r + n_frames;

  uint64_t gap = atomic_load_explicit(&buffer->gap, memory_order_relaxed);
  uint64_t w   = buffer->w_cache;
  if (w < end) {
    w = atomic_load_explicit(&buffer->write_pos, memory_order_acquire);
    buffer->w_cache = w;

    // Silence played in [gap, r) that the writer has now passed: those
    // frames came too late and will never be played.
    const uint64_t passed = min_u64(w, r);
    if (passed > gap) {
      atomic_store_explicit(&buffer->gap, passed, memory_order_relaxed);
      // Release pairs with the stats' acquire so that a reader of the
      // counters never sees the new total together with the old gap.
      atomic_store_explicit(
        &buffer->late,
        atomic_load_explicit(&buffer->late, memory_order_relaxed) +
          (passed - gap),
        memory_order_release);
      gap = passed;
    }
  }

  const size_t real = w > r ? (size_t)min_u64(w - r, n_frames) : 0U;
  if (real) {
    get_frames(buffer, planes, r, real);
  }
  if (real < n_frames) {
    for (unsigned c = 0U; c < buffer->channels; ++c) {
      memset(planes[c] + real, 0, (n_frames - real) * sizeof(float));
    }
    rtl_counter_add(&buffer->underruns, 1U);
    rtl_counter_add(&buffer->underrun_frames, n_frames - real);
  }

  // With no silence outstanding, any silence starts after the real frames
  // (if there was some outstanding, nothing was real and it starts earlier)
  if (gap == r) {
    atomic_store_explicit(&buffer->gap, r + real, memory_order_relaxed);
  }

  buffer->r = end;
  atomic_store_explicit(&buffer->read_pos, end, memory_order_release);
  rtl_counter_add(&buffer->frames_read, n_frames);
  return real;
}

RtlStatus
rtl_writeahead_set_latency(RtlWriteAhead* const buffer, const size_t latency)
{
  if (latency >= buffer->capacity) {
    return RTL_BAD_ARG;
  }

  const size_t current = buffer->latency_local;
  if (latency == current) {
    return RTL_SUCCESS;
  }

  if (latency < current) {
    buffer->trim += current - latency;
  } else {
    // A pending trim not yet spent is simply taken back before any silence
    // is added: both only move later frames' positions.
    const uint64_t d      = latency - current;
    const uint64_t cancel = min_u64(buffer->trim, d);
    const uint64_t pad    = d - cancel;
    if (pad) {
      uint64_t limit = buffer->r_cache + buffer->capacity;
      if (buffer->w + pad > limit) {
        buffer->r_cache =
          atomic_load_explicit(&buffer->read_pos, memory_order_acquire);
        limit = buffer->r_cache + buffer->capacity;
        if (buffer->w + pad > limit) {
          return RTL_FULL;
        }
      }
      const uint64_t skip = buffer->r_cache > buffer->w
                              ? min_u64(buffer->r_cache - buffer->w, pad)
                              : 0U;
      put_frames(buffer, NULL, 0U, buffer->w + skip, (size_t)(pad - skip));
      buffer->w += pad;
      atomic_store_explicit(
        &buffer->write_pos, buffer->w, memory_order_release);
    }
    buffer->trim -= cancel;
  }

  buffer->latency_local = latency;
  atomic_store_explicit(&buffer->latency, latency, memory_order_relaxed);
  rtl_counter_add(&buffer->adjustments, 1U);
  return RTL_SUCCESS;
}

RTL_REALTIME void
rtl_writeahead_stats(const RtlWriteAhead* const buffer,
                     RtlWriteAheadStats* const  stats)
{
  /*
    Late frames not yet counted by the reader: the writer has passed part
    of the silence the reader played since it last looked at W.  R first:
    the gap loaded after it is no older, so [gap, R) is all silence.  The
    total before the gap: seeing a new total implies seeing its gap, so a
    frame is never counted both in the total and as pending.
  */
  const uint64_t r =
    atomic_load_explicit(&buffer->read_pos, memory_order_acquire);
  const uint64_t late =
    atomic_load_explicit(&buffer->late, memory_order_acquire);
  const uint64_t gap = atomic_load_explicit(&buffer->gap, memory_order_relaxed);
  const uint64_t w =
    atomic_load_explicit(&buffer->write_pos, memory_order_acquire);
  const uint64_t passed  = min_u64(w, r);
  const uint64_t pending = passed > gap ? passed - gap : 0U;
  const uint64_t fill    = w > r ? min_u64(w - r, buffer->capacity) : 0U;

  stats->frames_written =
    atomic_load_explicit(&buffer->frames_written, memory_order_relaxed);
  stats->frames_read =
    atomic_load_explicit(&buffer->frames_read, memory_order_relaxed);
  stats->underruns =
    atomic_load_explicit(&buffer->underruns, memory_order_relaxed);
  stats->underrun_frames =
    atomic_load_explicit(&buffer->underrun_frames, memory_order_relaxed);
  stats->dropped_frames =
    atomic_load_explicit(&buffer->trimmed, memory_order_relaxed) + late +
    pending;
  stats->overruns =
    atomic_load_explicit(&buffer->overruns, memory_order_relaxed);
  stats->adjustments =
    atomic_load_explicit(&buffer->adjustments, memory_order_relaxed);
  stats->latency =
    (uint32_t)atomic_load_explicit(&buffer->latency, memory_order_relaxed);
  stats->fill        = (uint32_t)fill;
  stats->capacity    = (uint32_t)buffer->capacity;
  stats->utilisation = (float)((double)fill / (double)buffer->capacity);
}
