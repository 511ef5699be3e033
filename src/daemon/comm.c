// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "comm.h"

#include <rtlane/attributes.h>

#include <stddef.h>
#include <string.h>

const char*
rtl_topic_name(const RtlTopic topic)
{
  static const char* const names[RTL_N_TOPICS] = {"meters", "state", "record"};
  return (unsigned)topic < RTL_N_TOPICS ? names[topic] : "";
}

const char*
rtl_take_name(const RtlTakeKind kind)
{
  static const char* const names[RTL_N_TAKES] = {"mix", "inputs"};
  return (unsigned)kind < RTL_N_TAKES ? names[kind] : "";
}

const char*
rtl_sample_format_name(const RtlSampleFormat format)
{
  static const char* const names[RTL_N_SAMPLE_FORMATS] = {"float", "24", "16"};
  return (unsigned)format < RTL_N_SAMPLE_FORMATS ? names[format] : "";
}

RtlStatus
rtl_comm_post_command(RtlQueue* const         queue,
                      sem_t* const            wake,
                      const RtlCommand* const cmd)
{
  const RtlStatus st = rtl_queue_push(queue, cmd);
  if (!st) {
    sem_post(wake);
  }
  return st;
}

RtlStatus
rtl_comm_ring_new(RtlAllocator* const allocator,
                  const RtlCommType   type,
                  const size_t        n_slots,
                  RtlMsgRing** const  ring)
{
  static const size_t payload[] = {
    0U,
    sizeof(RtlEvent),
    sizeof(RtlMeterMsg),
    sizeof(RtlCue),
    sizeof(RtlParamReport),
    sizeof(RtlDropout),
  };
  if ((unsigned)type == RTL_COMM_NONE ||
      (unsigned)type >= sizeof(payload) / sizeof(payload[0])) {
    *ring = NULL;
    return RTL_BAD_ARG;
  }
  RtlStatus st = rtl_msgring_new(allocator, n_slots, payload[type], ring);
  if (!st) {
    // Refused under a small RLIMIT_MEMLOCK; the pages are touched anyway.
    (void)rtl_msgring_lock_memory(*ring);
  }
  return st;
}

/**
   Receive the next message of `type` and `size` bytes.  Anything else in
   the ring would be a bug of the sender; it is skipped, so that one bad
   message cannot block the ring.  A ring made by rtl_comm_ring_new() never
   holds a message larger than `size`.
*/
static RTL_REALTIME RtlStatus
recv_typed(RtlMsgRing* const ring,
           const RtlCommType type,
           void* const       body,
           const uint32_t    size)
{
  RtlMsgHeader hdr;
  RtlStatus    st = RTL_EMPTY;
  while ((st = rtl_msgring_recv(ring, &hdr, body, size)) == RTL_SUCCESS) {
    if (hdr.type == (uint32_t)type && hdr.size == size) {
      return RTL_SUCCESS;
    }
  }
  return st;
}

RTL_REALTIME RtlStatus
rtl_comm_send_event(RtlMsgRing* const ring, const RtlEvent* const event)
{
  return rtl_msgring_send(ring, RTL_COMM_EVENT, event, sizeof(*event));
}

RTL_REALTIME RtlStatus
rtl_comm_recv_event(RtlMsgRing* const ring, RtlEvent* const event)
{
  return recv_typed(ring, RTL_COMM_EVENT, event, sizeof(*event));
}

RTL_REALTIME void
rtl_events_insert(RtlEvent* const       events,
                  unsigned* const       n,
                  const RtlEvent* const event)
{
  unsigned i = *n;
  while (i > 0U && events[i - 1U].frame > event->frame) {
    events[i] = events[i - 1U];
    --i;
  }
  events[i] = *event;
  ++*n;
}

RTL_REALTIME void
rtl_events_drop_front(RtlEvent* const events,
                      unsigned* const n,
                      const unsigned  done)
{
  if (done) {
    memmove(events, events + done, (*n - done) * sizeof(RtlEvent));
    *n -= done;
  }
}

RTL_REALTIME RtlStatus
rtl_comm_send_meters(RtlMsgRing* const ring, const RtlMeterMsg* const msg)
{
  // Only the values in use travel.
  const uint32_t size =
    (uint32_t)(offsetof(RtlMeterMsg, v) + 2U * msg->n * sizeof(float));
  return rtl_msgring_send(ring, RTL_COMM_METERS, msg, size);
}

RTL_REALTIME RtlStatus
rtl_comm_recv_meters(RtlMsgRing* const ring, RtlMeterMsg* const msg)
{
  RtlMsgHeader hdr;
  RtlStatus    st = RTL_EMPTY;
  while ((st = rtl_msgring_recv(ring, &hdr, msg, sizeof(*msg))) ==
         RTL_SUCCESS) {
    if (hdr.type == RTL_COMM_METERS && msg->n <= RTL_MAX_METERS &&
        hdr.size == offsetof(RtlMeterMsg, v) + 2U * msg->n * sizeof(float)) {
      return RTL_SUCCESS;
    }
  }
  return st;
}

RTL_REALTIME RtlStatus
rtl_comm_send_cue(RtlMsgRing* const ring, const RtlCue* const cue)
{
  return rtl_msgring_send(ring, RTL_COMM_CUE, cue, sizeof(*cue));
}

RTL_REALTIME RtlStatus
rtl_comm_recv_cue(RtlMsgRing* const ring, RtlCue* const cue)
{
  return recv_typed(ring, RTL_COMM_CUE, cue, sizeof(*cue));
}

RTL_REALTIME RtlStatus
rtl_comm_send_report(RtlMsgRing* const ring, const RtlParamReport* const report)
{
  return rtl_msgring_send(ring, RTL_COMM_REPORT, report, sizeof(*report));
}

RTL_REALTIME RtlStatus
rtl_comm_recv_report(RtlMsgRing* const ring, RtlParamReport* const report)
{
  return recv_typed(ring, RTL_COMM_REPORT, report, sizeof(*report));
}

RtlStatus
rtl_comm_send_dropout(RtlMsgRing* const ring, const RtlDropout* const dropout)
{
  return rtl_msgring_send(ring, RTL_COMM_DROPOUT, dropout, sizeof(*dropout));
}

RtlStatus
rtl_comm_recv_dropout(RtlMsgRing* const ring, RtlDropout* const dropout)
{
  return recv_typed(ring, RTL_COMM_DROPOUT, dropout, sizeof(*dropout));
}
