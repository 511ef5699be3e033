// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_REQUEST_H
#define RTL_DAEMON_REQUEST_H

/*
  OSC packets in, validated commands out: the whole path from the bytes of
  a datagram (or of one framed TCP packet) to an RtlCommand, with nothing
  about sockets or threads in it.

  A packet is a message or a bundle (nested at most RTL_REQUEST_MAX_DEPTH
  deep).  Each message is decoded with liblo and checked against the
  address table and the command table: argument types and count, ranges,
  channel numbers, string lengths.  A valid one becomes one command for
  the `post` sink, carrying the sender and the time tag it came with (a
  future tag converted to a JACK frame at once); anything else is answered
  through the `error` sink with the request's path and a reason, and
  nothing else happens.  A full queue (`post` returning RTL_FULL) is
  answered "busy".

  The functions may run on several threads at once (the UDP and the TCP
  receiver): they keep no state of their own.
*/

#include "comm.h"
#include "state.h"

#include <rtlane/status.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Bundles nest at most this deep.
#define RTL_REQUEST_MAX_DEPTH 8U

/**
   Convert an OSC time tag to the 64-bit JACK frame it names; false if it
   cannot (no JACK client).  `now` receives the current frame.  Called as
   soon as a timed message arrives, so that the clock mapping used is the
   one in force when it was sent.
*/
typedef bool (*RtlTagToFrameFunc)(void*     user_data,
                                  uint64_t  timetag,
                                  uint64_t* frame,
                                  uint64_t* now);

/// Where a valid command goes; RTL_FULL makes the request "busy".
typedef RtlStatus (*RtlPostFunc)(void* user_data, const RtlCommand* cmd);

/// How an invalid request is answered (/error s:path s:reason).
typedef void (*RtlErrorFunc)(void*             user_data,
                             const RtlOscPeer* peer,
                             const char*       path,
                             const char*       reason);

/**
   Send later replies to `peer` (the sender of /reply/port) to `port` at
   its address, 0 for the default; rewrite `peer` so the rest of the packet
   already uses it.  NULL, or the reason it cannot (for example a TCP
   peer, whose replies go back on its connection).
*/
typedef const char* (*RtlReplyPortFunc)(void*       user_data,
                                        RtlOscPeer* peer,
                                        uint16_t    port);

typedef struct {
  const RtlParamTable* table;
  RtlTagToFrameFunc    tag_to_frame; ///< NULL: time tags are ignored
  void*                tag_to_frame_data;
  RtlPostFunc          post;
  RtlErrorFunc         error;
  RtlReplyPortFunc     reply_port; ///< NULL: /reply/port is refused
  void*                sink_data;  ///< For post, error and reply_port
} RtlRequestConfig;

/**
   Handle one packet of `size` bytes from `peer`.  The bytes may be
   modified.  Any non-RT thread.
*/
void
rtl_request_packet(const RtlRequestConfig* config,
                   const RtlOscPeer*       peer,
                   uint8_t*                data,
                   size_t                  size);

/// An address that is a command rather than a parameter, for /list.
typedef struct {
  const char* path;
  const char* types; ///< The canonical type tags
  const char* description;
} RtlCommandInfo;

/**
   The OSC address of a transport operation, from the command table that
   maps addresses to operations (so the two directions cannot disagree);
   "" for none.  Any thread.
*/
const char*
rtl_transport_path(uint32_t op);

/// The i-th entry of the command table, or NULL past its end.  Any thread.
const RtlCommandInfo*
rtl_request_command(size_t i);

#endif // RTL_DAEMON_REQUEST_H
