// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_SUBSCRIBERS_H
#define RTL_DAEMON_SUBSCRIBERS_H

/*
  Who asked for what: the senders subscribed to meters, state and record
  notifications, each with its own meter rate.  A fixed table, so that a
  flood of /subscribe requests is bounded (the excess gets an /error).
  Control thread only.
*/

#include "comm.h"

#include <rtlane/status.h>

#include <stdbool.h>
#include <stdint.h>

#define RTL_MAX_SUBSCRIBERS 16U

typedef struct {
  bool       used;
  RtlOscPeer peer;
  uint32_t   topics;        ///< Bit per RtlTopic
  uint32_t   flags;         ///< RTL_SUBSCRIBE_*
  int32_t    hz;            ///< Meter rate
  int64_t    next_meter_ns; ///< When the next /meters is due
} RtlSubscriber;

typedef struct {
  RtlSubscriber subs[RTL_MAX_SUBSCRIBERS];
} RtlSubscribers;

/// True if `a` and `b` are the same sender (address and port, or TCP
/// connection).
bool
rtl_peer_equal(const RtlOscPeer* a, const RtlOscPeer* b);

/// True if `s` is in use and subscribed to `topic`.
bool
rtl_subscriber_wants(const RtlSubscriber* s, RtlTopic topic);

/**
   Subscribe `peer` to `topic` (meters at `hz` with `flags`, the first due
   at `now_ns`).  Subscribing again to meters replaces the rate.  RTL_FULL
   if the table is full.
*/
RtlStatus
rtl_subscribers_add(RtlSubscribers*   subs,
                    const RtlOscPeer* peer,
                    RtlTopic          topic,
                    int32_t           hz,
                    uint32_t          flags,
                    int64_t           now_ns);

/// Unsubscribe `peer` from `topic`; a peer left with no topic is removed.
void
rtl_subscribers_remove(RtlSubscribers*   subs,
                       const RtlOscPeer* peer,
                       RtlTopic          topic);

/// Forget `peer` entirely (its connection closed).
void
rtl_subscribers_drop(RtlSubscribers* subs, const RtlOscPeer* peer);

#endif // RTL_DAEMON_SUBSCRIBERS_H
