// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_PATCHBAY_H
#define RTL_DAEMON_PATCHBAY_H

/*
  The connections of the daemon's ports, remembered so that the graph
  comes back as it was: after the JACK server returns, and whenever a peer
  that went away registers its port again.

  JACK's port-connect callback tells of every connection made or broken,
  and the registration callback of every peer port that goes away; they
  only queue the news (a callback may not make server requests), and the
  control thread decides, a second later, when the dust has settled.  A
  connection made is remembered.  One broken while its peer stays, or
  whose peer left while the server stayed up, is forgotten: someone chose
  that, as with any JACK client.  One broken because the server went away
  (it closes its clients on the way out, or dies) is kept, and made again
  once the server is back and the peer's port exists, whenever it
  registers.

  The JACK calls go through RtlPatchbayOps, so the logic is tested without
  a server.  Callbacks: JACK's notification thread.  The rest: the control
  thread (reset: the main thread, with no client running).
*/

#include <rtlane/allocator.h>
#include <rtlane/status.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Connections remembered at most.
#define RTL_PATCHBAY_MAX 256U

/// Longest full port name ("client:port"), as JACK allows it.
#define RTL_PORT_NAME_MAX 320U

typedef struct RtlPatchbayImpl RtlPatchbay;

/// What the patchbay asks of JACK (control thread, client running).
typedef struct {
  void* data;
  /// True if the full port name `port` exists now
  bool (*exists)(void* data, const char* port);
  /// True if our port `ours` (short name) is connected to `peer`
  bool (*connected)(void* data, const char* ours, const char* peer);
  /// Connect our port `ours` and `peer` (`out`: ours is the output)
  bool (*connect)(void* data, const char* ours, const char* peer, bool out);
} RtlPatchbayOps;

RtlStatus
rtl_patchbay_new(RtlAllocator* allocator, RtlPatchbay** patchbay);

void
rtl_patchbay_free(RtlPatchbay* patchbay);

/**
   A connection between our port `ours` (short name) and `peer` (full
   name) was made or broken.  JACK's notification thread.
*/
void
rtl_patchbay_on_connect(RtlPatchbay* patchbay,
                        const char*  ours,
                        const char*  peer,
                        bool         out,
                        bool         connected);

/**
   A port `port` (full name) of another client was registered (a peer
   awaited since a server restart may be back), or unregistered.  JACK's
   notification thread.
*/
void
rtl_patchbay_on_register(RtlPatchbay* patchbay,
                         const char*  port,
                         bool         registered);

/**
   A new client of ours is running: news of the old one is dropped, what
   was broken while the server went away stays remembered, and every
   remembered connection whose peer exists is made on the next follow.
   Main thread.
*/
void
rtl_patchbay_restart(RtlPatchbay* patchbay);

/**
   Take the news, settle broken connections older than a second, and make
   the remembered connections whose peers exist again.  Control thread,
   `now_ns` on the monotonic clock.  Returns the connections made.
*/
unsigned
rtl_patchbay_follow(RtlPatchbay*          patchbay,
                    const RtlPatchbayOps* ops,
                    int64_t               now_ns);

/// Connections remembered (and of those, how many are made now).
unsigned
rtl_patchbay_count(RtlPatchbay*          patchbay,
                   const RtlPatchbayOps* ops,
                   unsigned*             made);

#endif // RTL_DAEMON_PATCHBAY_H
