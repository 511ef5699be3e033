// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_OSC_H
#define RTL_DAEMON_OSC_H

/*
  The OSC front end: sockets, the threads that read them, and sending.

  liblo 0.31 binds its servers to every interface whatever the URL says, so
  the daemon owns its sockets (UDP, and TCP with --osc-tcp, bound to
  --osc-bind) and uses liblo to decode and encode messages.  UDP and TCP
  each have their own receive thread, so a slow or stalled TCP client never
  delays a UDP controller; both hand every packet to request.c, which
  validates it and posts commands to the MPMC queue (the reason the queue
  is multi-producer).  Invalid requests and a full queue ("busy") are
  answered with /error right there.

  Replies leave from the bound sockets, so a UDP client hears them on the
  port it sent from, unless --reply-port or the sender's /reply/port names
  another port at its address (controllers that listen on another port
  than they send from).  The UDP thread owns that table of redirections
  and rewrites each sender as its packet arrives, so the commands carry the
  address their replies and subscriptions go to.  The send functions may
  be called from any non-RT thread and never block.

  TCP connections speak OSC 1.0's size-prefixed framing or OSC 1.1's SLIP
  (double END) framing, told apart by a connection's first byte (a size
  below 64 KiB starts with 0; SLIP with END, '/' or '#'); replies use the
  connection's framing.
*/

#include "allow.h"
#include "comm.h"
#include "request.h"
#include "state.h"

#include <rtlane/allocator.h>
#include <rtlane/queue.h>
#include <rtlane/status.h>

#include <lo/lo.h>

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RtlOscImpl RtlOsc;

typedef struct {
  RtlAllocator*        allocator; ///< NULL for the system's
  const char*          bind;      ///< Address to bind
  const RtlAllow*      allow;     ///< Senders taken (copied), or NULL
  unsigned             n_allow;   ///< 0: every sender
  unsigned             port;
  bool                 tcp;        ///< Also listen on TCP
  unsigned             reply_port; ///< UDP replies go there; 0: sender's
  const RtlParamTable* table;
  RtlQueue*            queue; ///< Where validated commands go
  sem_t*               wake;  ///< Posted after each push
  RtlTagToFrameFunc    tag_to_frame;
  void*                tag_to_frame_data;
} RtlOscConfig;

/**
   Bind the sockets.  Non-RT, start-up.  On failure writes one line
   describing it into `err` and returns RTL_SYSTEM_ERROR or RTL_NO_MEM.
*/
RtlStatus
rtl_osc_open(const RtlOscConfig* config,
             RtlOsc**            osc,
             char*               err,
             size_t              err_size);

/// Start the receive threads.  Non-RT.
RtlStatus
rtl_osc_start(RtlOsc* osc);

/// Stop the receive threads (joins them).  Safe if they never started.
void
rtl_osc_stop(RtlOsc* osc);

/// Stop, close the sockets and free `osc`; NULL is ignored.
void
rtl_osc_free(RtlOsc* osc);

/// "udp 127.0.0.1:7770" ("udp+tcp ..." when TCP is on), for the log.
const char*
rtl_osc_describe(const RtlOsc* osc);

/// Send `msg` to `peer` as `path`.  Any non-RT thread; never blocks.
void
rtl_osc_send(RtlOsc*           osc,
             const RtlOscPeer* peer,
             const char*       path,
             lo_message        msg);

/**
   Send `path` with arguments of OSC type tags `types` ('i' int32_t, 'h'
   int64_t, 'f' double, 's' const char*) to `peer`.  Any non-RT thread.
*/
#define rtl_osc_reply(osc, peer, path, ...) \
  rtl_osc_reply_args((osc), (peer), (path), __VA_ARGS__, LO_ARGS_END)

void
rtl_osc_reply_args(RtlOsc*           osc,
                   const RtlOscPeer* peer,
                   const char*       path,
                   const char*       types,
                   ...);

/// Send /error s:request_path s:reason and count a rejected command.
void
rtl_osc_send_error(RtlOsc*           osc,
                   const RtlOscPeer* peer,
                   const char*       request_path,
                   const char*       reason);

/// Requests rejected so far (by the receive threads and send_error).
uint64_t
rtl_osc_rejected(const RtlOsc* osc);

/// Whether the sockets are bound to a loopback address only.
bool
rtl_osc_loopback_only(const RtlOsc* osc);

/// Packets and connections refused so far for coming from a sender that
/// --osc-allow leaves out (never answered).
uint64_t
rtl_osc_refused(const RtlOsc* osc);

#endif // RTL_DAEMON_OSC_H
