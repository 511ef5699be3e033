// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_OSC_H
#define RTL_DAEMON_OSC_H

/*
  The OSC front end.

  liblo 0.31 binds its servers to every interface whatever the URL says, so
  the daemon owns its sockets (UDP, and TCP with --osc-tcp, bound to
  --osc-bind) and uses liblo to decode and encode messages.  One receive
  thread reads packets, unpacks bundles with their time tags, validates each
  message against the address table (types, argument count, ranges,
  channel numbers, string length) and pushes a fixed-size RtlCommand to the
  MPMC queue, then posts the control thread's semaphore.  Invalid requests
  and a full queue ("busy") are answered with /error right there.

  Replies leave from the bound socket, so a UDP client hears them on the
  port it sent from; rtl_osc_send() may be called from any thread.
*/

#include "command.h"
#include "state.h"

#include <rtlane/queue.h>
#include <rtlane/status.h>

#include <lo/lo.h>

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RtlOscImpl RtlOsc;

/**
   Convert an OSC time tag to the 64-bit JACK frame it names; false if it
   cannot (no JACK client).  `now` receives the current frame.  Called on
   the OSC thread as soon as a timed message arrives, so that the clock
   mapping used is the one in force when it was sent.
*/
typedef bool (*RtlTagToFrameFunc)(void*     user_data,
                                  uint64_t  timetag,
                                  uint64_t* frame,
                                  uint64_t* now);

typedef struct {
  const char*          bind; ///< Address to bind
  unsigned             port;
  bool                 tcp; ///< Also listen on TCP
  const RtlParamTable* table;
  RtlQueue*            queue; ///< Where validated commands go
  sem_t*               wake;  ///< Posted after each push
  RtlTagToFrameFunc    tag_to_frame;
  void*                tag_to_frame_data;
} RtlOscConfig;

/**
   Bind the sockets.  Non-RT, start-up.  On failure writes one line
   describing it into `err` and returns RTL_OSC_ERROR or RTL_NO_MEM.
*/
RtlStatus rtl_osc_open(const RtlOscConfig* config,
                       RtlOsc**            osc,
                       char*               err,
                       size_t              err_size);

/// Start the receive thread.
RtlStatus rtl_osc_start(RtlOsc* osc);

/// Stop the receive thread (joins it).  Safe if it was never started.
void rtl_osc_stop(RtlOsc* osc);

void rtl_osc_free(RtlOsc* osc);

/// "udp 127.0.0.1:7770" (and " tcp ..." when TCP is on), for the log.
const char* rtl_osc_describe(const RtlOsc* osc);

/// Send `msg` to `peer` as `path`.  Any non-RT thread; never blocks.
void rtl_osc_send(RtlOsc*           osc,
                  const RtlOscPeer* peer,
                  const char*       path,
                  lo_message        msg);

/// Send /error s:request_path s:reason and count a rejected command.
void rtl_osc_send_error(RtlOsc*           osc,
                        const RtlOscPeer* peer,
                        const char*       request_path,
                        const char*       reason);

/// Requests rejected so far (by the OSC threads and by rtl_osc_send_error()).
uint64_t rtl_osc_rejected(const RtlOsc* osc);

/// Addresses that are commands rather than parameters, for /list.
typedef struct {
  const char* path;
  const char* types;
  const char* description;
} RtlOscCommandInfo;

/// The command table, terminated by an entry with a NULL path.
const RtlOscCommandInfo* rtl_osc_commands(void);

#endif // RTL_DAEMON_OSC_H
