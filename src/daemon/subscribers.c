// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "subscribers.h"

#include <string.h>

bool
rtl_peer_equal(const RtlOscPeer* const a, const RtlOscPeer* const b)
{
  if (a->transport != b->transport) {
    return false;
  }
  if (a->transport == RTL_PEER_TCP) {
    return a->conn == b->conn;
  }
  if (a->addr.sa.sa_family != b->addr.sa.sa_family) {
    return false;
  }
  if (a->addr.sa.sa_family == AF_INET) {
    return a->addr.in4.sin_port == b->addr.in4.sin_port &&
           a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
  }
  return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
         !memcmp(&a->addr.in6.sin6_addr,
                 &b->addr.in6.sin6_addr,
                 sizeof(a->addr.in6.sin6_addr));
}

bool
rtl_subscriber_wants(const RtlSubscriber* const s, const RtlTopic topic)
{
  return s->used && (s->topics & (1U << (unsigned)topic));
}

static RtlSubscriber*
find(RtlSubscribers* const subs, const RtlOscPeer* const peer)
{
  for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
    if (subs->subs[i].used && rtl_peer_equal(&subs->subs[i].peer, peer)) {
      return &subs->subs[i];
    }
  }
  return NULL;
}

RtlStatus
rtl_subscribers_add(RtlSubscribers* const   subs,
                    const RtlOscPeer* const peer,
                    const RtlTopic          topic,
                    const int32_t           hz,
                    const uint32_t          flags,
                    const int64_t           now_ns)
{
  RtlSubscriber* s = find(subs, peer);
  for (unsigned i = 0U; !s && i < RTL_MAX_SUBSCRIBERS; ++i) {
    if (!subs->subs[i].used) {
      s = &subs->subs[i];
      memset(s, 0, sizeof(*s));
      s->used = true;
      s->peer = *peer;
    }
  }
  if (!s) {
    return RTL_FULL;
  }
  s->topics |= 1U << (unsigned)topic;
  if (topic == RTL_TOPIC_METERS) {
    s->hz            = hz;
    s->flags         = flags;
    s->next_meter_ns = now_ns;
  }
  return RTL_SUCCESS;
}

void
rtl_subscribers_remove(RtlSubscribers* const   subs,
                       const RtlOscPeer* const peer,
                       const RtlTopic          topic)
{
  RtlSubscriber* const s = find(subs, peer);
  if (s) {
    s->topics &= ~(1U << (unsigned)topic);
    s->used = s->topics != 0U;
  }
}

void
rtl_subscribers_drop(RtlSubscribers* const subs, const RtlOscPeer* const peer)
{
  RtlSubscriber* const s = find(subs, peer);
  if (s) {
    s->used = false;
  }
}
