// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_COMMAND_H
#define RTL_DAEMON_COMMAND_H

/*
  What travels from the OSC threads to the control thread through the MPMC
  queue: one fixed-size, already validated request with the address to
  answer and the OSC time tag it came with.
*/

#include "state.h"

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

typedef enum {
  RTL_PEER_NONE = 0,
  RTL_PEER_UDP,
  RTL_PEER_TCP,
} RtlPeerTransport;

/// Where a request came from, and so where its replies go.
typedef struct {
  uint32_t  transport; ///< RtlPeerTransport
  uint32_t  conn;      ///< TCP connection id (slot and generation)
  socklen_t addr_len;
  union {
    struct sockaddr     sa;
    struct sockaddr_in  in4;
    struct sockaddr_in6 in6;
  } addr;
} RtlOscPeer;

typedef enum {
  RTL_CMD_SET = 1, ///< param, value
  RTL_CMD_PING,
  RTL_CMD_SYNC, ///< ival: id
  RTL_CMD_LIST,
  RTL_CMD_STATUS,
  RTL_CMD_GET,         ///< param
  RTL_CMD_SUBSCRIBE,   ///< ival: topic, hz: rate
  RTL_CMD_UNSUBSCRIBE, ///< ival: topic
  RTL_CMD_TRANSPORT,   ///< ival: RtlTransportOp
  RTL_CMD_PEER_GONE,   ///< a TCP connection closed: drop its subscriptions
  RTL_CMD_LATENCY,     ///< /latency
  RTL_CMD_LATENCY_SET, ///< value: milliseconds
  RTL_CMD_MIDI_MAP,    ///< ival: CC; param: index, or UINT32_MAX to unmap
} RtlCmdKind;

typedef enum {
  RTL_TRANSPORT_START = 1,
  RTL_TRANSPORT_STOP,
  RTL_TRANSPORT_PAUSE,
  RTL_TRANSPORT_RESET,
} RtlTransportOp;

typedef enum {
  RTL_TOPIC_METERS = 0,
  RTL_TOPIC_STATE,
  RTL_TOPIC_RECORD,
  RTL_N_TOPICS,
} RtlTopic;

/// Stack size of the daemon's own threads (OSC, control).
#define RTL_THREAD_STACK (512U * 1024U)

/// The OSC "immediately" time tag (seconds 0, fraction 1).
#define RTL_TIMETAG_NOW 1U

typedef struct {
  uint32_t   kind;    ///< RtlCmdKind
  uint32_t   param;   ///< Parameter index (SET, GET)
  uint64_t   timetag; ///< NTP time tag; RTL_TIMETAG_NOW for plain messages
  uint64_t   frame;   ///< The JACK frame the tag names, 0 if not in the future
  float      value;   ///< SET
  int32_t    ival;    ///< SYNC id, topic, transport op
  int32_t    hz;      ///< SUBSCRIBE rate
  uint32_t   reserved;
  RtlOscPeer peer;
} RtlCommand;

#endif // RTL_DAEMON_COMMAND_H
