// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_COMM_H
#define RTL_DAEMON_COMM_H

/*
  Every message that crosses a thread in the daemon, in one place.

    OSC threads  --RtlCommand (MPMC queue)-------->  control thread
    control      --RtlEvent (msgring)------------->  process (RT)
    process (RT) --RtlMeterMsg (msgring)---------->  control
    process (RT) --RtlCue (msgring)--------------->  worker (write-ahead)
    mixer        --RtlParamReport (msgring)------->  control
    process (RT) --audio (RtlBroadcast, one per take kind)--> recorders
    process (RT) --RtlTakeMarks (atomics)--------->  recorder
    recorder     --RtlDropout (msgring)----------->  control

  Messages in a msgring carry one RtlCommType in their header, and are sent
  and received through the typed helpers below, so a ring can never hand a
  reader a message of another kind or size.  Every helper is RT-safe: the
  rings are wait-free and the helpers only copy.
*/

#include "state.h"

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/msgring.h>
#include <rtlane/queue.h>
#include <rtlane/status.h>

#include <netinet/in.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/// The type in the header of every msgring message.
typedef enum {
  RTL_COMM_NONE = 0,
  RTL_COMM_EVENT,   ///< control -> RT: RtlEvent
  RTL_COMM_METERS,  ///< RT -> control: RtlMeterMsg
  RTL_COMM_CUE,     ///< RT -> worker: RtlCue
  RTL_COMM_REPORT,  ///< mixer -> control: RtlParamReport
  RTL_COMM_DROPOUT, ///< recorder -> control: RtlDropout
} RtlCommType;

/**
   Create a ring for messages of `type`, its slots sized for them, and try
   to lock it in memory.  Non-RT, start-up.
*/
RtlStatus
rtl_comm_ring_new(RtlAllocator* allocator,
                  RtlCommType   type,
                  size_t        n_slots,
                  RtlMsgRing**  ring);

// --- OSC threads -> control thread
// ---------------------------------------------

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
  RTL_CMD_GET,           ///< param
  RTL_CMD_SUBSCRIBE,     ///< ival: topic, hz: rate, flags: RtlSubscribeFlags
  RTL_CMD_UNSUBSCRIBE,   ///< ival: topic
  RTL_CMD_TRANSPORT,     ///< ival: RtlTransportOp
  RTL_CMD_PEER_GONE,     ///< a TCP connection closed: drop its subscriptions
  RTL_CMD_LATENCY,       ///< /latency
  RTL_CMD_LATENCY_SET,   ///< value: milliseconds
  RTL_CMD_MIDI_MAP,      ///< ival: CC; param: index, or UINT32_MAX to unmap
  RTL_CMD_RECORD_START,  ///< text: file; ival: RtlTakeKind
  RTL_CMD_RECORD_STOP,   ///< ival: RtlTakeKind, or -1 for every take
  RTL_CMD_RECORD_STATUS, ///< /record/status
  RTL_CMD_RECORD_FORMAT, ///< ival: RtlSampleFormat
  RTL_CMD_SAVE,          ///< text: file in the state directory, "" for --state
  RTL_CMD_LOAD,          ///< text: as SAVE
  RTL_CMD_JACK,          ///< /jack
  RTL_CMD_NSM_SAVE,      ///< The session manager's /nsm/client/save
} RtlCmdKind;

/// What a take records; each kind has its own broadcast ring.
typedef enum {
  RTL_TAKE_MIX = 0, ///< out_L and out_R as played (stereo)
  RTL_TAKE_INPUTS,  ///< every in_N as the mixer saw it (one file)
  RTL_N_TAKES,
} RtlTakeKind;

/// The name of a take kind, as /record/start takes it.  Any thread.
const char*
rtl_take_name(RtlTakeKind kind);

/// Sample formats of recordings.
typedef enum {
  RTL_SAMPLE_FLOAT = 0, ///< 32-bit float (FLAC: 24-bit, it has no float)
  RTL_SAMPLE_24,
  RTL_SAMPLE_16,
  RTL_N_SAMPLE_FORMATS,
} RtlSampleFormat;

/// The name of a sample format, as /record/format takes it.  Any thread.
const char*
rtl_sample_format_name(RtlSampleFormat format);

typedef enum {
  RTL_TRANSPORT_START = 1,
  RTL_TRANSPORT_STOP,
  RTL_TRANSPORT_PAUSE,
  RTL_TRANSPORT_RESET,
} RtlTransportOp;

/// Number of transport operations (they count from 1).
#define RTL_N_TRANSPORT_OPS 4U

typedef enum {
  RTL_TOPIC_METERS = 0,
  RTL_TOPIC_STATE,
  RTL_TOPIC_RECORD,
  RTL_N_TOPICS,
} RtlTopic;

/// The name of a subscription topic, as /subscribe takes it.  Any thread.
const char*
rtl_topic_name(RtlTopic topic);

/// /subscribe meters with "rms": send /meters/rms beside /meters.
#define RTL_SUBSCRIBE_RMS 1U

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
  uint32_t   flags;   ///< SUBSCRIBE: RTL_SUBSCRIBE_*
  RtlOscPeer peer;
  char       text[RTL_PATH_MAX]; ///< RECORD_START, SAVE, LOAD: a file name
} RtlCommand;

/**
   Queue a command for the control thread and wake it.  Any OSC thread;
   RTL_FULL if the queue is full (the caller answers "busy").
*/
RtlStatus
rtl_comm_post_command(RtlQueue* queue, sem_t* wake, const RtlCommand* cmd);

// --- control thread -> RT thread
// -------------------------------------------------

/// What a timed event does.
typedef enum {
  RTL_EV_PARAM     = 1, ///< param, value
  RTL_EV_TRANSPORT = 2, ///< op (RtlTransportOp)
  /// Mark where take `param` (RtlTakeKind) with id `op` starts (value 0) or
  /// stops (value 1) in its ring: RtlTakeMarks
  RTL_EV_RECORD = 3,
} RtlEventType;

/// A timed event.  frame 0: at the start of the next period.
typedef struct {
  uint64_t frame; ///< Output frame it applies at
  uint32_t param;
  float    value;
  uint32_t op;
  uint32_t type;  ///< RtlEventType
  uint32_t epoch; ///< rtl_process_epoch() when it was sent
  uint32_t sent;  ///< Control thread: handed to the RT thread already
} RtlEvent;

RTL_REALTIME RtlStatus
rtl_comm_send_event(RtlMsgRing* ring, const RtlEvent* event);

RTL_REALTIME RtlStatus
rtl_comm_recv_event(RtlMsgRing* ring, RtlEvent* event);

/**
   Insert `event` into the list `events` of `*n` events sorted by frame,
   after any with the same frame, so that arrival order is kept.  The
   caller made sure of the room.  RT-safe (a bounded move).
*/
RTL_REALTIME void
rtl_events_insert(RtlEvent* events, unsigned* n, const RtlEvent* event);

/// Drop the first `done` of `*n` events.  RT-safe.
RTL_REALTIME void
rtl_events_drop_front(RtlEvent* events, unsigned* n, unsigned done);

// --- RT thread -> control thread
// -------------------------------------------------

/// Input meters plus out_L and out_R.
#define RTL_MAX_METERS (RTL_MAX_INPUTS + 2U)

/**
   A meter reading: peak dBFS per input, then out_L, out_R (v[0..n)),
   followed by the RMS levels in the same order (v[n..2n)), -inf for
   silence.  Only the first 2n values travel.
*/
typedef struct {
  uint64_t frame;  ///< JACK frame time at the end of the interval
  uint32_t n;      ///< Meters: inputs + 2
  uint32_t frames; ///< Frames since the last reading
  float    v[2U * RTL_MAX_METERS];
} RtlMeterMsg;

RTL_REALTIME RtlStatus
rtl_comm_send_meters(RtlMsgRing* ring, const RtlMeterMsg* msg);

RTL_REALTIME RtlStatus
rtl_comm_recv_meters(RtlMsgRing* ring, RtlMeterMsg* msg);

// --- RT thread -> recorders
// --------------------------------------------------------

/**
   Where a take starts and stops in its broadcast ring, as the RT thread
   found them in the period of their frame.  The RT thread stores a
   position and frame before the id (release), and before it writes the
   period's audio into the ring, so a recorder that has read audio of that
   period and then finds its id (acquire) knows exactly where to cut.
*/
typedef struct {
  _Atomic uint64_t start_pos;   ///< Ring position of the first frame
  _Atomic uint64_t start_frame; ///< JACK frame (64-bit) of the first frame
  _Atomic uint64_t stop_pos;    ///< Ring position after the last frame
  _Atomic uint32_t start_id;    ///< Take whose start is above
  _Atomic uint32_t stop_id;     ///< Take whose stop is above
} RtlTakeMarks;

// --- recorder -> control thread
// ------------------------------------------------------

/// Frames a take lost (filled with silence), for /record/dropout.
typedef struct {
  uint64_t position; ///< Frame of the take where the silence starts
  uint32_t frames;
  uint32_t reserved;
} RtlDropout;

RtlStatus
rtl_comm_send_dropout(RtlMsgRing* ring, const RtlDropout* dropout);

RtlStatus
rtl_comm_recv_dropout(RtlMsgRing* ring, RtlDropout* dropout);

// --- RT thread -> worker
// -----------------------------------------------------------

typedef enum {
  RTL_CUE_SLOT = 1,  ///< A snapshot slot changed: param, value, serial, flags
  RTL_CUE_PARAM,     ///< A timed parameter change: param, value
  RTL_CUE_TRANSPORT, ///< A transport operation: op (RtlTransportOp)
  RTL_CUE_CCMAP, ///< MIDI CC `param` now drives parameter `op` - 1 (0: none)
  RTL_CUE_SEQ,   ///< Every change of snapshot `seq` is in
} RtlCueKind;

/// A change for the mixer at a frame.  40 bytes.
typedef struct {
  /// Frame offset in the block (rtl_mixer_run), or input position (the
  /// write-ahead ring)
  uint64_t pos;
  uint64_t seq;    ///< SEQ
  uint32_t kind;   ///< RtlCueKind
  uint32_t param;  ///< SLOT, PARAM: parameter index; CCMAP: the CC
  float    value;  ///< SLOT, PARAM
  uint32_t serial; ///< SLOT
  uint32_t flags;  ///< SLOT: RtlSlot flags
  uint32_t op;     ///< TRANSPORT: RtlTransportOp; CCMAP: parameter index + 1
} RtlCue;

RTL_REALTIME RtlStatus
rtl_comm_send_cue(RtlMsgRing* ring, const RtlCue* cue);

RTL_REALTIME RtlStatus
rtl_comm_recv_cue(RtlMsgRing* ring, RtlCue* cue);

// --- mixer -> control thread
// -------------------------------------------------------

/// A parameter moved by a MIDI CC in the mixer.
typedef struct {
  uint32_t param;
  float    value;
  /// The parameter's serial in the mixer when it moved: the control thread
  /// keeps the value only if no newer setting has overtaken it
  uint32_t serial;
  uint32_t reserved;
} RtlParamReport;

RTL_REALTIME RtlStatus
rtl_comm_send_report(RtlMsgRing* ring, const RtlParamReport* report);

RTL_REALTIME RtlStatus
rtl_comm_recv_report(RtlMsgRing* ring, RtlParamReport* report);

#endif // RTL_DAEMON_COMM_H
