// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_QUEUE_H
#define RTLANE_QUEUE_H

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/status.h>

#include <stddef.h>

RTL_BEGIN_DECLS

/**
   @file queue.h
   Bounded multi-producer multi-consumer queue of fixed-size elements.

   Several OSC server threads post commands at once, so the command path
   needs more than SPSC.  Each cell carries a sequence number, so producers
   and consumers claim cells with one compare-and-swap and never take a
   lock.  A full queue is reported to the producer as RTL_FULL (it is never
   a silent drop and never a wait); an empty one to the consumer as
   RTL_EMPTY.

   Elements are handed out in the order their pushes claimed a cell, so
   what one producer pushes is claimed by the consumers in the order it
   was pushed, and each consumer sees it in that order.  Push and pop
   never wait for another thread.  The price is that a thread preempted
   between claiming a cell and finishing its copy holds that one cell:
   until it resumes, consumers see RTL_EMPTY at it (and producers one lap
   later RTL_FULL), even if elements behind it are ready.  Retrying later
   is always correct; nothing is lost either way.
*/

typedef struct RtlQueueImpl RtlQueue;

/**
   Create a queue of `capacity` elements of `elem_size` bytes.

   Non-RT thread (allocates).  `capacity` must be a power of two of at
   least 2 (RTL_NOT_POW2); `elem_size` must be non-zero (RTL_BAD_ARG).
   Sizes whose cells cannot be addressed give RTL_NO_MEM.  Each cell holds
   a sequence number plus `elem_size` bytes, rounded up to a multiple of
   the sequence number's alignment.  On failure `*queue` is set to NULL.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_queue_new(RtlAllocator* allocator,
              size_t        capacity,
              size_t        elem_size,
              RtlQueue**    queue);

/// Free `queue`.  Non-RT thread, after all users stopped; NULL is ignored.
RTL_API void
rtl_queue_free(RtlQueue* queue);

/// Capacity in elements.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC size_t
rtl_queue_capacity(const RtlQueue* queue);

/// Element size in bytes.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC size_t
rtl_queue_elem_size(const RtlQueue* queue);

/**
   Approximate number of queued elements.

   Any thread, RT-safe.  Exact only when no push or pop is in progress; it
   is for statistics, not for deciding whether a push will succeed.
*/
RTL_RT_API size_t
rtl_queue_size(const RtlQueue* queue);

/**
   Copy `elem_size` bytes from `elem` into the queue.

   Any thread, RT-safe, lock-free.  RTL_FULL if there is no free cell, in
   which case nothing was written and the caller still owns the element.
*/
RTL_RT_API RtlStatus
rtl_queue_push(RtlQueue* queue, const void* elem);

/**
   Copy the oldest element out into the `elem_size` bytes at `elem`.

   Any thread, RT-safe, lock-free.  RTL_EMPTY if there is nothing ready, in
   which case `elem` is not touched.
*/
RTL_RT_API RtlStatus
rtl_queue_pop(RtlQueue* queue, void* elem);

RTL_END_DECLS

#endif // RTLANE_QUEUE_H
