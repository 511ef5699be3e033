// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_MSGRING_H
#define RTLANE_MSGRING_H

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/status.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

RTL_BEGIN_DECLS

/**
   @file msgring.h
   Single-producer single-consumer ring of fixed-size typed messages.

   Every slot holds a header (a type chosen by the application and the
   payload size) and up to `max_payload` bytes of payload, so a message is
   always whole: a reader never sees a torn or partial message, and sending
   is all-or-nothing.  Like RtlRing it is wait-free on both sides with
   cached remote indices, and is the way commands reach the audio thread
   and meters and acknowledgements leave it.
*/

typedef struct RtlMsgRingImpl RtlMsgRing;

/// What precedes every payload.
typedef struct {
  uint32_t type; ///< Application-defined message type
  uint32_t size; ///< Payload size in bytes
} RtlMsgHeader;

/**
   Create a ring of `n_slots` messages of up to `max_payload` bytes each.

   Non-RT thread (allocates).  `n_slots` must be a non-zero power of two
   (RTL_NOT_POW2) and `max_payload` non-zero and at most UINT32_MAX, the
   largest size a header can carry (RTL_BAD_ARG).  A slot takes the 8-byte
   header plus `max_payload`, rounded up to a multiple of 8 bytes.  Sizes
   whose slots cannot be addressed give RTL_NO_MEM before anything is
   allocated (a `max_payload` within 15 bytes of SIZE_MAX, checked before
   the UINT32_MAX limit, so 32- and 64-bit targets answer alike).
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_msgring_new(RtlAllocator* allocator,
                size_t        n_slots,
                size_t        max_payload,
                RtlMsgRing**  ring);

/// Free `ring`.  Non-RT thread, after both sides stopped; NULL is ignored.
RTL_API void
rtl_msgring_free(RtlMsgRing* ring);

/// Lock and prefault the storage, as rtl_ring_lock_memory().  Non-RT thread.
RTL_API RtlStatus
rtl_msgring_lock_memory(RtlMsgRing* ring);

/// Number of slots.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC size_t
rtl_msgring_capacity(const RtlMsgRing* ring);

/// Largest payload a message can carry.  Any thread, RT-safe.
RTL_RT_API RTL_PURE_FUNC size_t
rtl_msgring_max_payload(const RtlMsgRing* ring);

/// Messages waiting to be read.  Reader thread, RT-safe.
RTL_RT_API size_t
rtl_msgring_read_space(const RtlMsgRing* ring);

/**
   Free slots.

   Writer thread, RT-safe.  Always loads the reader's index; to ask whether
   a known number of messages fits, rtl_msgring_has_room() is cheaper.
*/
RTL_RT_API size_t
rtl_msgring_write_space(const RtlMsgRing* ring);

/**
   Return true if `n_msgs` messages can be sent now.

   Writer thread only, RT-safe, wait-free.  Answers from the writer's cached
   copy of the reader's index, and loads the reader's index (acquire) only
   when that copy says there is not room, so checking before every send
   costs no cross-core transfer in the steady state.  Free slots only grow
   until the writer sends, so after true the next `n_msgs` sends do not
   return RTL_FULL.  True for 0; false if `n_msgs` exceeds the capacity.
*/
RTL_RT_API bool
rtl_msgring_has_room(RtlMsgRing* ring, size_t n_msgs);

/**
   Send one message.

   Writer thread, RT-safe.  RTL_FULL if no slot is free (nothing is
   written; the caller counts or reports it), RTL_TOO_BIG if `size` exceeds
   the slot payload.  `body` may be NULL when `size` is 0.
*/
RTL_RT_API RtlStatus
rtl_msgring_send(RtlMsgRing* ring,
                 uint32_t    type,
                 const void* body,
                 uint32_t    size);

/// Header of the next message without consuming it.  Reader, RT-safe.
RTL_RT_API RtlStatus
rtl_msgring_peek(const RtlMsgRing* ring, RtlMsgHeader* header);

/**
   Receive the next message into `header` and `body`.

   Reader thread, RT-safe.  RTL_EMPTY if there is none; RTL_TOO_BIG (and the
   message stays queued) if its payload does not fit `body_capacity`, in
   which case `header` is filled in so the caller learns the size it needs.
   `body` may be NULL when `body_capacity` is 0.
*/
RTL_RT_API RtlStatus
rtl_msgring_recv(RtlMsgRing*   ring,
                 RtlMsgHeader* header,
                 void*         body,
                 size_t        body_capacity);

RTL_END_DECLS

#endif // RTLANE_MSGRING_H
