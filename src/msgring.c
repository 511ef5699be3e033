// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#include "common.h"
#include "smallcopy.h"

#include <rtlane/allocator.h>
#include <rtlane/msgring.h>
#include <rtlane/status.h>

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
  A ring of equal slots with its own slot indices rather than a layer over
  RtlRing: a message is one slot, so sending is two tests, one copy and one
  release store, with no length prefix to parse and no message split
  across the wrap.

  The slot stride is the header plus the largest payload, rounded up to a
  multiple of 8 only: every slot, header and 8-byte payload word is then
  aligned, and slots are as dense as they can be (a 16-byte payload takes
  24 bytes, not 32).  Dense beats aligned to cache lines here: when two
  threads stream messages, the cache lines that cross between the cores
  per message cost more than the odd slot that straddles two lines.  The
  slot address is `(index & mask) * stride`: a multiplication, never a
  division.

  As in RtlRing, each side's line holds its own published index, its private
  copy of the other side's index and its own copy of the constants; the
  other side's index is reloaded only when the copy says full or empty, so a
  burst of messages costs one cross-core transfer, not one per message.

  send and recv are split into a fast path for the common case (room or a
  message known from the cached index, and a payload of at most
  RTL_SMALL_COPY_MAX bytes) and an out-of-line path for everything else.
  The fast path then calls nothing, so it needs no stack frame and saves no
  registers: a handful of loads from the caller's own cache line, the copy
  and one release store.  That matters more than it seems when two threads
  stream messages, because how many messages a core can keep in flight
  while it waits for the other core's cache lines is bounded by how many
  instructions each message costs.
*/

#define RTL_MSG_HEADER_SIZE sizeof(RtlMsgHeader)

typedef struct {
  _Atomic size_t head;        ///< Messages ever sent; published, release
  size_t         cached_tail; ///< Reader's index as last seen by the writer
  uint8_t*       slots;
  size_t         mask;
  size_t         stride;
  size_t         inline_max; ///< min(max_payload, RTL_SMALL_COPY_MAX)
  size_t         max_payload;
} RtlMsgWriter;

typedef struct {
  _Atomic size_t tail;        ///< Messages ever received; published, release
  size_t         cached_head; ///< Writer's index as last seen by the reader
  const uint8_t* slots;
  size_t         mask;
  size_t         stride;
} RtlMsgReader;

struct RtlMsgRingImpl {
  alignas(RTL_CACHE_LINE) RtlMsgWriter w;
  alignas(RTL_CACHE_LINE) RtlMsgReader r;
  alignas(RTL_CACHE_LINE) RtlAllocator* allocator;
  uint8_t* slots;
  size_t   n_slots;
  size_t   max_payload;
  size_t   stride;
};

static size_t
slot_stride(const size_t max_payload)
{
  return (RTL_MSG_HEADER_SIZE + max_payload + 7U) & ~(size_t)7U;
}

RtlStatus
rtl_msgring_new(RtlAllocator* const allocator,
                const size_t        n_slots,
                const size_t        max_payload,
                RtlMsgRing** const  ring)
{
  *ring = NULL;
  if (!rtl_is_pow2(n_slots)) {
    return RTL_NOT_POW2;
  }
  if (!max_payload) {
    return RTL_BAD_ARG;
  }

  // A slot that cannot be addressed could never be allocated, as in
  // RtlQueue.  Where size_t has 32 bits, UINT32_MAX below lets any
  // max_payload through, and header + payload + 7 would wrap to a tiny
  // stride (or 0, and a division by it): sends would then write far past
  // the slots.  Checked before the header's limit so that every target
  // gives the same answer.
  if (max_payload > SIZE_MAX - RTL_MSG_HEADER_SIZE - 7U) {
    return RTL_NO_MEM;
  }
  if (max_payload > UINT32_MAX) {
    return RTL_BAD_ARG;
  }

  const size_t stride = slot_stride(max_payload);
  if (n_slots > SIZE_MAX / stride) {
    return RTL_NO_MEM;
  }

  RtlMsgRing* const self = (RtlMsgRing*)rtl_aligned_alloc(
    allocator, RTL_CACHE_LINE, sizeof(RtlMsgRing));
  if (!self) {
    return RTL_NO_MEM;
  }

  const size_t   size = n_slots * stride;
  uint8_t* const slots =
    (uint8_t*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, size);
  if (!slots) {
    rtl_aligned_free(allocator, self);
    return RTL_NO_MEM;
  }

  memset(self, 0, sizeof(*self));
  memset(slots, 0, size);
  self->allocator   = allocator;
  self->slots       = slots;
  self->n_slots     = n_slots;
  self->max_payload = max_payload;
  self->stride      = stride;
  self->w.slots     = slots;
  self->w.mask      = n_slots - 1U;
  self->w.stride    = stride;
  self->w.inline_max =
    max_payload < RTL_SMALL_COPY_MAX ? max_payload : RTL_SMALL_COPY_MAX;
  self->w.max_payload = max_payload;
  self->r.slots       = slots;
  self->r.mask        = n_slots - 1U;
  self->r.stride      = stride;
  atomic_store_explicit(&self->w.head, 0U, memory_order_relaxed);
  atomic_store_explicit(&self->r.tail, 0U, memory_order_relaxed);
  *ring = self;
  return RTL_SUCCESS;
}

void
rtl_msgring_free(RtlMsgRing* const ring)
{
  if (ring) {
    RtlAllocator* const allocator = ring->allocator;
    rtl_aligned_free(allocator, ring->slots);
    rtl_aligned_free(allocator, ring);
  }
}

RtlStatus
rtl_msgring_lock_memory(RtlMsgRing* const ring)
{
  const RtlStatus st = rtl_lock_memory(ring, sizeof(*ring));
  const RtlStatus ss =
    rtl_lock_memory(ring->slots, ring->n_slots * ring->stride);
  return st ? st : ss;
}

RTL_REALTIME size_t
rtl_msgring_capacity(const RtlMsgRing* const ring)
{
  return ring->n_slots;
}

RTL_REALTIME size_t
rtl_msgring_max_payload(const RtlMsgRing* const ring)
{
  return ring->max_payload;
}

RTL_REALTIME size_t
rtl_msgring_read_space(const RtlMsgRing* const ring)
{
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_relaxed);
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_acquire);
  return head - tail;
}

RTL_REALTIME size_t
rtl_msgring_write_space(const RtlMsgRing* const ring)
{
  const size_t head = atomic_load_explicit(&ring->w.head, memory_order_relaxed);
  const size_t tail = atomic_load_explicit(&ring->r.tail, memory_order_acquire);
  return ring->w.mask + 1U - (head - tail);
}

RTL_REALTIME bool
rtl_msgring_has_room(RtlMsgRing* const ring, const size_t n_msgs)
{
  // As send: the cached reader index first, the reader's line only when the
  // cache says no.  The acquire is for the sends that follow, which write
  // into the slots this refresh shows free without loading it again.
  RtlMsgWriter* const w     = &ring->w;
  const size_t        slots = w->mask + 1U;
  const size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
  if (slots - (head - w->cached_tail) >= n_msgs) {
    return true;
  }
  w->cached_tail = atomic_load_explicit(&ring->r.tail, memory_order_acquire);
  return slots - (head - w->cached_tail) >= n_msgs;
}

/// Write a message into the slot at `head` and publish it.
static inline void
put(RtlMsgWriter* const restrict w,
    const size_t         head,
    const uint32_t       type,
    const uint8_t* const body,
    const uint32_t       size)
{
  uint8_t* const     slot   = w->slots + (head & w->mask) * w->stride;
  const RtlMsgHeader header = {type, size};
  memcpy(slot, &header, RTL_MSG_HEADER_SIZE);
  rtl_copy(slot + RTL_MSG_HEADER_SIZE, body, size);
  atomic_store_explicit(&w->head, head + 1U, memory_order_release);
}

/// Everything send's fast path leaves out: checks, a refresh, a long copy.
static RTL_SLOW_PATH RtlStatus
send_slow(RtlMsgRing* const    ring,
          const uint32_t       type,
          const uint8_t* const body,
          const uint32_t       size)
{
  RtlMsgWriter* const w = &ring->w;
  if (size > w->max_payload) {
    return RTL_TOO_BIG;
  }

  // Full is `head - tail == n_slots`, that is `> mask`.  The acquire pairs
  // with the reader's release of its index: the reader is done with the
  // slot before it is overwritten.
  const size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
  if (head - w->cached_tail > w->mask) {
    w->cached_tail = atomic_load_explicit(&ring->r.tail, memory_order_acquire);
    if (head - w->cached_tail > w->mask) {
      return RTL_FULL;
    }
  }

  put(w, head, type, body, size);
  return RTL_SUCCESS;
}

RTL_REALTIME RtlStatus
rtl_msgring_send(RtlMsgRing* const ring,
                 const uint32_t    type,
                 const void* const body,
                 const uint32_t    size)
{
  RtlMsgWriter* const w = &ring->w;
  const size_t head     = atomic_load_explicit(&w->head, memory_order_relaxed);
  if (RTL_UNLIKELY(size > w->inline_max || head - w->cached_tail > w->mask)) {
    return send_slow(ring, type, (const uint8_t*)body, size);
  }

  uint8_t* const     slot   = w->slots + (head & w->mask) * w->stride;
  const RtlMsgHeader header = {type, size};
  memcpy(slot, &header, RTL_MSG_HEADER_SIZE);
  rtl_copy_small(slot + RTL_MSG_HEADER_SIZE, (const uint8_t*)body, size);
  atomic_store_explicit(&w->head, head + 1U, memory_order_release);
  return RTL_SUCCESS;
}

RTL_REALTIME RtlStatus
rtl_msgring_peek(const RtlMsgRing* const ring, RtlMsgHeader* const header)
{
  // The ring is const here, so the cached index cannot be refreshed.
  const RtlMsgReader* const r = &ring->r;
  const size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  if (tail == r->cached_head &&
      tail == atomic_load_explicit(&ring->w.head, memory_order_acquire)) {
    return RTL_EMPTY;
  }

  memcpy(header, r->slots + (tail & r->mask) * r->stride, RTL_MSG_HEADER_SIZE);
  return RTL_SUCCESS;
}

/// Everything recv's fast path leaves out: a refresh, TOO_BIG, a long copy.
static RTL_SLOW_PATH RtlStatus
recv_slow(RtlMsgRing* const   ring,
          RtlMsgHeader* const header,
          uint8_t* const      body,
          const size_t        body_capacity)
{
  // The acquire pairs with the writer's release of its index, so the slot's
  // contents are visible before they are read.
  RtlMsgReader* const r = &ring->r;
  const size_t tail     = atomic_load_explicit(&r->tail, memory_order_relaxed);
  if (tail == r->cached_head) {
    r->cached_head = atomic_load_explicit(&ring->w.head, memory_order_acquire);
    if (tail == r->cached_head) {
      return RTL_EMPTY;
    }
  }

  const uint8_t* const slot = r->slots + (tail & r->mask) * r->stride;
  memcpy(header, slot, RTL_MSG_HEADER_SIZE);
  if (header->size > body_capacity) {
    return RTL_TOO_BIG;
  }

  rtl_copy(body, slot + RTL_MSG_HEADER_SIZE, header->size);
  atomic_store_explicit(&r->tail, tail + 1U, memory_order_release);
  return RTL_SUCCESS;
}

RTL_REALTIME RtlStatus
rtl_msgring_recv(RtlMsgRing* const   ring,
                 RtlMsgHeader* const header,
                 void* const         body,
                 const size_t        body_capacity)
{
  RtlMsgReader* const r = &ring->r;
  const size_t tail     = atomic_load_explicit(&r->tail, memory_order_relaxed);
  if (RTL_UNLIKELY(tail == r->cached_head)) {
    return recv_slow(ring, header, (uint8_t*)body, body_capacity);
  }

  // A message below the cached index was published with release and that
  // index was loaded with acquire, so the slot is complete.
  const uint8_t* const slot = r->slots + (tail & r->mask) * r->stride;
  RtlMsgHeader         h;
  memcpy(&h, slot, RTL_MSG_HEADER_SIZE);
  if (RTL_UNLIKELY(h.size > body_capacity || h.size > RTL_SMALL_COPY_MAX)) {
    return recv_slow(ring, header, (uint8_t*)body, body_capacity);
  }

  *header = h;
  rtl_copy_small((uint8_t*)body, slot + RTL_MSG_HEADER_SIZE, h.size);
  atomic_store_explicit(&r->tail, tail + 1U, memory_order_release);
  return RTL_SUCCESS;
}
