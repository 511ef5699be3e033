// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  Bounded MPMC queue after Dmitry Vyukov's design.

  Every cell holds a sequence number next to its element.  For the cell
  that position `pos` maps to, the sequence number says whose turn it is:

    seq == pos            empty, a producer at `pos` may claim it
    seq == pos + 1        full, a consumer at `pos` may claim it
    seq == pos + capacity empty again, for the producer one lap later

  A producer (consumer) claims a cell by advancing the enqueue (dequeue)
  position with one compare-and-swap, copies the element in (out), and
  then hands the cell over by storing the next sequence number with
  release.  The other side loads the sequence number with acquire before
  it touches the element, so every element copy is ordered after the copy
  that came before it in the same cell: the positions themselves carry no
  data and are only arbitrated, so they use relaxed order throughout.

  Positions are free-running size_t counters that wrap; differences are
  taken modulo 2^N and read as signed, which is exact while the capacity
  stays far below half the range (it does: the cells could not be
  allocated otherwise).
*/

#include "common.h"

#include <rtlane/allocator.h>
#include <rtlane/queue.h>
#include <rtlane/status.h>

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
  A cell is its sequence number followed by elem_size bytes, rounded up so
  that the next cell's sequence number is aligned.  The element bytes are
  only ever touched with memcpy, so they need no alignment of their own.
*/
typedef struct {
  atomic_size_t seq;
} RtlQueueCell;

#define RTL_QUEUE_CELL_ALIGN alignof(RtlQueueCell)

struct RtlQueueImpl {
  // Read-only after construction, shared by every thread.
  RtlAllocator*  allocator;
  unsigned char* cells;
  size_t         mask;
  size_t         elem_size;
  size_t         cell_size;

  // Producers hammer one line and consumers the other, so neither side's
  // CAS invalidates the other's line (nor the read-only fields above).
  alignas(RTL_CACHE_LINE) atomic_size_t enqueue_pos;
  alignas(RTL_CACHE_LINE) atomic_size_t dequeue_pos;
};

static inline RtlQueueCell*
cell_at(const RtlQueue* const queue, const size_t pos)
{
  return (RtlQueueCell*)(void*)(queue->cells +
                                (pos & queue->mask) * queue->cell_size);
}

static inline unsigned char*
cell_data(RtlQueueCell* const cell)
{
  return (unsigned char*)cell + sizeof(RtlQueueCell);
}

/// `a - b` on wrapping positions, as a signed distance.
static inline ptrdiff_t
pos_diff(const size_t a, const size_t b)
{
  return (ptrdiff_t)(a - b);
}

RtlStatus
rtl_queue_new(RtlAllocator* const allocator,
              const size_t        capacity,
              const size_t        elem_size,
              RtlQueue** const    queue)
{
  if (!queue) {
    return RTL_BAD_ARG;
  }

  *queue = NULL;
  if (!elem_size) {
    return RTL_BAD_ARG;
  }

  if (capacity < 2U || !rtl_is_pow2(capacity)) {
    return RTL_NOT_POW2;
  }

  // A size that does not fit in size_t could never be allocated, and the
  // signed position arithmetic needs the capacity well below half the range.
  const size_t header = sizeof(RtlQueueCell);
  const size_t align  = RTL_QUEUE_CELL_ALIGN;
  if (elem_size > SIZE_MAX - header - align) {
    return RTL_NO_MEM;
  }

  const size_t cell_size = (header + elem_size + align - 1U) & ~(align - 1U);
  if (capacity > (size_t)PTRDIFF_MAX / 2U || capacity > SIZE_MAX / cell_size) {
    return RTL_NO_MEM;
  }

  RtlQueue* const q =
    (RtlQueue*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, sizeof(RtlQueue));
  if (!q) {
    return RTL_NO_MEM;
  }

  q->cells = (unsigned char*)rtl_aligned_alloc(
    allocator, RTL_CACHE_LINE, capacity * cell_size);
  if (!q->cells) {
    rtl_aligned_free(allocator, q);
    return RTL_NO_MEM;
  }

  q->allocator = allocator;
  q->mask      = capacity - 1U;
  q->elem_size = elem_size;
  q->cell_size = cell_size;

  // Zero the element bytes too, so that no uninitialised padding is ever
  // copied around (and the pages are touched before the RT thread runs).
  memset(q->cells, 0, capacity * cell_size);
  for (size_t i = 0U; i < capacity; ++i) {
    atomic_init(&cell_at(q, i)->seq, i);
  }

  atomic_init(&q->enqueue_pos, (size_t)0U);
  atomic_init(&q->dequeue_pos, (size_t)0U);

  *queue = q;
  return RTL_SUCCESS;
}

void
rtl_queue_free(RtlQueue* const queue)
{
  if (queue) {
    RtlAllocator* const allocator = queue->allocator;
    rtl_aligned_free(allocator, queue->cells);
    rtl_aligned_free(allocator, queue);
  }
}

RTL_REALTIME size_t
rtl_queue_capacity(const RtlQueue* const queue)
{
  return queue->mask + 1U;
}

RTL_REALTIME size_t
rtl_queue_elem_size(const RtlQueue* const queue)
{
  return queue->elem_size;
}

RTL_REALTIME size_t
rtl_queue_size(const RtlQueue* const queue)
{
  // The two loads are not one snapshot: between them either position may
  // move any distance, so the difference is clamped into [0, capacity].
  // The dequeue position is read first because it never passes the
  // enqueue position, which makes the common case come out in range.
  const size_t tail =
    atomic_load_explicit(&queue->dequeue_pos, memory_order_relaxed);
  const size_t head =
    atomic_load_explicit(&queue->enqueue_pos, memory_order_relaxed);

  const ptrdiff_t n = pos_diff(head, tail);
  if (n <= 0) {
    return 0U;
  }

  const size_t capacity = queue->mask + 1U;
  return (size_t)n > capacity ? capacity : (size_t)n;
}

RTL_REALTIME RtlStatus
rtl_queue_push(RtlQueue* const queue, const void* const elem)
{
  RtlQueueCell* cell = NULL;
  size_t pos = atomic_load_explicit(&queue->enqueue_pos, memory_order_relaxed);

  for (;;) {
    cell = cell_at(queue, pos);

    // Acquire pairs with the consumer's release of this cell one lap ago,
    // so our copy in below cannot overlap its copy out.
    const size_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
    const ptrdiff_t diff = pos_diff(seq, pos);
    if (diff == 0) {
      // Our turn if nobody claimed `pos` meanwhile.  Relaxed: the CAS only
      // decides ownership; the sequence number orders the data.  On
      // failure `pos` is reloaded with the current position.
      if (atomic_compare_exchange_weak_explicit(&queue->enqueue_pos,
                                                &pos,
                                                pos + 1U,
                                                memory_order_relaxed,
                                                memory_order_relaxed)) {
        break;
      }
    } else if (diff < 0) {
      // The cell still holds the element from one lap ago (or its consumer
      // is copying it out right now): the queue is full.
      return RTL_FULL;
    } else {
      // Another producer took `pos` and filled the cell; catch up.
      pos = atomic_load_explicit(&queue->enqueue_pos, memory_order_relaxed);
    }
  }

  memcpy(cell_data(cell), elem, queue->elem_size);
  atomic_store_explicit(&cell->seq, pos + 1U, memory_order_release);
  return RTL_SUCCESS;
}

RTL_REALTIME RtlStatus
rtl_queue_pop(RtlQueue* const queue, void* const elem)
{
  RtlQueueCell* cell = NULL;
  size_t pos = atomic_load_explicit(&queue->dequeue_pos, memory_order_relaxed);

  for (;;) {
    cell = cell_at(queue, pos);

    // Acquire pairs with the producer's release, so the element is whole.
    const size_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
    const ptrdiff_t diff = pos_diff(seq, pos + 1U);
    if (diff == 0) {
      if (atomic_compare_exchange_weak_explicit(&queue->dequeue_pos,
                                                &pos,
                                                pos + 1U,
                                                memory_order_relaxed,
                                                memory_order_relaxed)) {
        break;
      }
    } else if (diff < 0) {
      // Not yet written (or its producer is still copying it in): empty.
      return RTL_EMPTY;
    } else {
      // Another consumer took `pos`; catch up.
      pos = atomic_load_explicit(&queue->dequeue_pos, memory_order_relaxed);
    }
  }

  memcpy(elem, cell_data(cell), queue->elem_size);

  // Hand the cell to the producer of the next lap.
  atomic_store_explicit(
    &cell->seq, pos + queue->mask + 1U, memory_order_release);
  return RTL_SUCCESS;
}
