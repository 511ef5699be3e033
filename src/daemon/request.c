// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "request.h"

#include <lo/lo.h>

#include <endian.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef enum {
  OP_PING = 1,
  OP_SYNC,
  OP_LIST,
  OP_STATUS,
  OP_GET,
  OP_SUBSCRIBE,
  OP_UNSUBSCRIBE,
  OP_TRANSPORT,
  OP_LATENCY,
  OP_LATENCY_SET,
  OP_MIDI_MAP,
  OP_RECORD_START,
  OP_RECORD_STOP,
  OP_RECORD_STATUS,
  OP_RECORD_FORMAT,
  OP_SAVE,
  OP_LOAD,
  OP_JACK,
  OP_REPLY_PORT,
} RtlOp;

typedef struct {
  RtlCommandInfo info;
  RtlOp          op;
  uint32_t       arg; ///< OP_TRANSPORT: the RtlTransportOp
} RtlCommandEntry;

#define RTL_METERS_TEXT                                                        \
  "topic meters (/meters f... peak dBFS per input then out_L, out_R; "         \
  "optional i:hz " RTL_STR(RTL_METER_HZ_MIN) ".." RTL_STR(                     \
    RTL_METER_HZ_MAX) ", default " RTL_STR(RTL_METER_HZ_DEFAULT) "; optional " \
                                                                 "s:rms adds " \
                                                                 "/meters/"    \
                                                                 "rms f... "   \
                                                                 "RMS dBFS "   \
                                                                 "in the "     \
                                                                 "same "       \
                                                                 "order), "    \
                                                                 "state "      \
                                                                 "(/state "    \
                                                                 "s:address "  \
                                                                 "value, "     \
                                                                 "coalesced "  \
                                                                 "per 50 ms) " \
                                                                 "or record"

static const RtlCommandEntry commands[] = {
  {{"/ping", "", "replies /pong"}, OP_PING, 0U},
  {{"/sync",
    "i",
    "replies /synced i:id once every earlier command has reached the audio"},
   OP_SYNC,
   0U},
  {{"/list",
    "",
    "replies /list.reply s:address s:typetags s:description per address, "
    "then /list.reply with no arguments"},
   OP_LIST,
   0U},
  {{"/status",
    "",
    "replies /status.reply s:name i:rate i:period i:latency_frames i:xruns "
    "i:underruns i:overruns h:frames f:dsp_load i:cmds_applied "
    "i:cmds_rejected i:refused"},
   OP_STATUS,
   0U},
  {{"/get", "s", "replies with the address and its current value"}, OP_GET, 0U},
  {{"/subscribe", "s", RTL_METERS_TEXT}, OP_SUBSCRIBE, 0U},
  {{"/unsubscribe", "s", "stops a topic for this sender"}, OP_UNSUBSCRIBE, 0U},
  {{"/transport/start",
    "",
    "starts the metronome transport (from the top after stop or reset)"},
   OP_TRANSPORT,
   RTL_TRANSPORT_START},
  {{"/transport/stop", "", "stops the transport and rewinds it"},
   OP_TRANSPORT,
   RTL_TRANSPORT_STOP},
  {{"/transport/pause", "", "stops the transport where it is"},
   OP_TRANSPORT,
   RTL_TRANSPORT_PAUSE},
  {{"/transport/reset", "", "rewinds the transport to the first beat"},
   OP_TRANSPORT,
   RTL_TRANSPORT_RESET},
  {{"/latency",
    "",
    "replies /latency.reply i:frames f:ms, the write-ahead delay L reported "
    "to the graph (0 in direct mode)"},
   OP_LATENCY,
   0U},
  {{"/latency/set",
    "f",
    "sets the write-ahead delay in ms (" RTL_LATENCY_RANGE
    ", within the capacity set at start) and reports it to the graph; only "
    "with -l"},
   OP_LATENCY_SET,
   0U},
  {{"/midi/map",
    "is",
    "maps MIDI CC i (0.." RTL_STR(
      RTL_MIDI_CC_MAX) ") on midi_in to the parameter at address s, its "
                       "value 0..127 spanning the parameter's range; s \"\" "
                       "unmaps"},
   OP_MIDI_MAP,
   0U},
  {{"/record/start",
    "s",
    "records into file s (inside the record directory; .wav, .flac, .w64 "
    "or .rf64, .wav if none) from the next period, or from the frame of a "
    "time-tagged bundle; optional s:what mix (default: out_L, out_R as "
    "played) or inputs (every in_N, one file); replies /record/started "
    "s:file h:first_frame"},
   OP_RECORD_START,
   0U},
  {{"/record/stop",
    "",
    "ends the takes (optional s:what: only that one) at the next period or "
    "at the bundle's frame; replies /record/stopped s:file h:frames i:lost "
    "per take"},
   OP_RECORD_STOP,
   0U},
  {{"/record/status",
    "",
    "replies /record/status.reply s:what s:state s:file h:frames i:lost per "
    "kind of take (mix, inputs)"},
   OP_RECORD_STATUS,
   0U},
  {{"/record/format",
    "s",
    "sample format of the next takes: float (default; FLAC takes 24), 24 "
    "or 16"},
   OP_RECORD_FORMAT,
   0U},
  {{"/save",
    "",
    "saves every setting into the --state file, or (optional s:file) into "
    "a file in the state directory; replies /saved s:file"},
   OP_SAVE,
   0U},
  {{"/load",
    "",
    "applies the --state file, or (optional s:file) a file in the state "
    "directory, whole or not at all; replies /loaded s:file i:settings"},
   OP_LOAD,
   0U},
  {{"/jack",
    "",
    "replies /jack.reply s:connected|disconnected s:client "
    "i:connections_remembered i:connections_made (the connections of the "
    "ports come back with a restarted server, and with a peer that "
    "registers again)"},
   OP_JACK,
   0U},
  {{"/reply/port",
    "i",
    "replies to this sender (UDP, its address and port) go to port i from "
    "the next message on, at its address; 0 returns to the daemon's "
    "--reply-port, else the port it sends from; no reply"},
   OP_REPLY_PORT,
   0U},
  {{NULL, NULL, NULL}, OP_PING, 0U},
};

const RtlCommandInfo*
rtl_request_command(const size_t i)
{
  return i < sizeof(commands) / sizeof(commands[0]) && commands[i].info.path
           ? &commands[i].info
           : NULL;
}

const char*
rtl_transport_path(const uint32_t op)
{
  for (const RtlCommandEntry* e = commands; e->info.path; ++e) {
    if (e->op == OP_TRANSPORT && e->arg == op) {
      return e->info.path;
    }
  }
  return "";
}

// --- arguments
// -----------------------------------------------------------------

/*
  liblo's argument pointers point into the packet, which is only 4-byte
  aligned, while lo_arg is a union with 8-byte members: read through memcpy
  rather than through the union.
*/
static int32_t
arg_i32(const lo_arg* const arg)
{
  int32_t v = 0;
  memcpy(&v, (const void*)arg, sizeof(v));
  return v;
}

static float
arg_f32(const lo_arg* const arg)
{
  float v = 0.0f;
  memcpy(&v, (const void*)arg, sizeof(v));
  return v;
}

static const char*
arg_str(const lo_arg* const arg)
{
  return (const char*)(const void*)arg;
}

/*
  Controllers send numbers in whatever type they use: TouchOSC and Pure
  Data floats for everything (a toggle sends 1.0 or 0.0), Max and
  SuperCollider ints, floats or doubles, Open Stage Control booleans.  So a
  number is any of i h f d, or T (1) and F (0), converted as scsynth does;
  the address table keeps the canonical tag for /list.
*/
static bool
is_number_tag(const char tag)
{
  return tag && strchr("ihfdTF", tag) != NULL;
}

/// A table tag against a received one: 'i' and 'f' take any number, 's'
/// a string or a symbol.
static bool
tag_matches(const char want, const char got)
{
  if (want == 'i' || want == 'f') {
    return is_number_tag(got);
  }
  return want == 's' ? got == 's' || got == 'S' : want == got;
}

/// Received tags against table tags, all of them, in order.
static bool
tags_match(const char* want, const char* got)
{
  while (*want && tag_matches(*want, *got)) {
    ++want;
    ++got;
  }
  return !*want && !*got;
}

/// The numeric argument of tag `tag` as a double.
static double
arg_number(const char tag, const lo_arg* const arg)
{
  switch (tag) {
  case 'i':
    return (double)arg_i32(arg);
  case 'f':
    return (double)arg_f32(arg);
  case 'h': {
    int64_t v = 0;
    memcpy(&v, (const void*)arg, sizeof(v));
    return (double)v;
  }
  case 'd': {
    double v = 0.0;
    memcpy(&v, (const void*)arg, sizeof(v));
    return v;
  }
  default:
    return tag == 'T' ? 1.0 : 0.0;
  }
}

/*
  A time tag's frame, taken once per packet: the clock mapping moves as
  the graph runs, so converting the same tag again for the next message
  of a bundle could name the next frame, and two takes or settings meant
  for one frame would land on two.
*/
typedef struct {
  uint64_t tag;   ///< The tag converted, RTL_TIMETAG_NOW for none yet
  uint64_t frame; ///< Its frame, 0 if it is not in the future
} RtlTagCache;

/// A decoded message: what every check below looks at.
typedef struct {
  const RtlRequestConfig* config;
  RtlOscPeer*             peer; ///< /reply/port may redirect it
  const char*             path;
  const char*             types;
  int                     argc;
  lo_arg**                argv;
  uint64_t                timetag;
  RtlTagCache*            tags; ///< The packet's converted tag
} RtlMessage;

/// Argument `i`, a number, as a double.
static double
number(const RtlMessage* const m, const int i)
{
  return arg_number(m->types[i], m->argv[i]);
}

/// Argument `i`, a number, as an int32 (truncated toward zero, as scsynth
/// does); false if out of the int32 range.
static bool
integer(const RtlMessage* const m, const int i, int32_t* const value)
{
  const double v = number(m, i);
  if (!(v > (double)INT32_MIN - 1.0 && v < (double)INT32_MAX + 1.0)) {
    return false;
  }
  *value = (int32_t)v;
  return true;
}

static void
reject(const RtlMessage* const m, const char* const reason)
{
  m->config->error(m->config->sink_data, m->peer, m->path, reason);
}

/// Convert the time tag of a timed command and post it.
static void
post(const RtlMessage* const m, RtlCommand* const cmd)
{
  const RtlRequestConfig* const c = m->config;
  cmd->peer                       = *m->peer;
  cmd->timetag                    = m->timetag;
  if ((cmd->kind == RTL_CMD_SET || cmd->kind == RTL_CMD_TRANSPORT ||
       cmd->kind == RTL_CMD_RECORD_START || cmd->kind == RTL_CMD_RECORD_STOP) &&
      m->timetag != RTL_TIMETAG_NOW && c->tag_to_frame) {
    if (m->tags->tag != m->timetag) {
      uint64_t frame = 0U;
      uint64_t now   = 0U;
      m->tags->tag   = m->timetag;
      m->tags->frame =
        c->tag_to_frame(c->tag_to_frame_data, m->timetag, &frame, &now) &&
            frame > now
          ? frame
          : 0U;
    }
    cmd->frame = m->tags->frame;
  }
  if (c->post(c->sink_data, cmd)) {
    reject(m, "busy");
  }
}

/// Look up a parameter address given as an argument; NULL or the reason.
static const char*
lookup_param(const RtlMessage* const m,
             const char* const       address,
             uint32_t* const         index)
{
  unsigned        i      = 0U;
  const RtlLookup lookup = rtl_param_lookup(m->config->table, address, &i);
  *index                 = i;
  return lookup == RTL_LOOKUP_FOUND             ? NULL
         : lookup == RTL_LOOKUP_UNKNOWN_CHANNEL ? "unknown channel"
                                                : "unknown parameter address";
}

// --- commands
// --------------------------------------------------------------------

/// /subscribe s:topic [i:hz] [s:rms] and /unsubscribe s:topic.
static const char*
parse_subscribe(const RtlMessage* const m,
                const RtlOp             op,
                RtlCommand* const       cmd)
{
  const char* const name = arg_str(m->argv[0]);
  unsigned          t    = 0U;
  while (t < RTL_N_TOPICS && strcmp(name, rtl_topic_name((RtlTopic)t))) {
    ++t;
  }
  cmd->kind = op == OP_SUBSCRIBE ? RTL_CMD_SUBSCRIBE : RTL_CMD_UNSUBSCRIBE;
  cmd->ival = (int32_t)t;
  cmd->hz   = RTL_METER_HZ_DEFAULT;
  if (t == RTL_N_TOPICS) {
    return "unknown topic (meters, state or record)";
  }
  if (op == OP_UNSUBSCRIBE) {
    return m->types[1] ? "wrong arguments" : NULL;
  }
  const char* rest = m->types + 1;
  int         arg  = 1;
  if (is_number_tag(*rest)) {
    const bool whole = integer(m, arg++, &cmd->hz);
    ++rest;
    if (!whole || cmd->hz < RTL_METER_HZ_MIN || cmd->hz > RTL_METER_HZ_MAX) {
      return "rate out of range (" RTL_STR(RTL_METER_HZ_MIN) ".." RTL_STR(
        RTL_METER_HZ_MAX) " Hz)";
    }
  }
  if (tag_matches('s', *rest) && t == RTL_TOPIC_METERS &&
      !strcmp(arg_str(m->argv[arg]), "rms")) {
    cmd->flags |= RTL_SUBSCRIBE_RMS;
    ++rest;
  }
  return *rest ? "wrong arguments" : NULL;
}

/// "mix" or "inputs" as a take kind; NULL or the reason.
static const char*
parse_take(const char* const name, int32_t* const kind)
{
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    if (!strcmp(name, rtl_take_name((RtlTakeKind)k))) {
      *kind = (int32_t)k;
      return NULL;
    }
  }
  return "unknown take (mix or inputs)";
}

/// The /record commands: the control thread owns the takes and the files.
static const char*
parse_record(const RtlMessage* const m, const RtlOp op, RtlCommand* const cmd)
{
  switch (op) {
  case OP_RECORD_START: {
    const char* const file = arg_str(m->argv[0]);
    cmd->kind              = RTL_CMD_RECORD_START;
    cmd->ival              = RTL_TAKE_MIX;
    if (!file[0]) {
      return "empty file name";
    }
    snprintf(cmd->text, sizeof(cmd->text), "%s", file);
    return m->argc > 1 ? parse_take(arg_str(m->argv[1]), &cmd->ival) : NULL;
  }
  case OP_RECORD_STOP:
    cmd->kind = RTL_CMD_RECORD_STOP;
    cmd->ival = -1;
    return m->argc > 0 ? parse_take(arg_str(m->argv[0]), &cmd->ival) : NULL;
  case OP_RECORD_STATUS:
    cmd->kind = RTL_CMD_RECORD_STATUS;
    return NULL;
  default:
    cmd->kind = RTL_CMD_RECORD_FORMAT;
    for (unsigned f = 0U; f < RTL_N_SAMPLE_FORMATS; ++f) {
      if (!strcmp(arg_str(m->argv[0]),
                  rtl_sample_format_name((RtlSampleFormat)f))) {
        cmd->ival = (int32_t)f;
        return NULL;
      }
    }
    return "unknown format (float, 24 or 16)";
  }
}

/// Arguments as the command table says, or /subscribe's optional ones.
static bool
types_match(const RtlCommandEntry* const e, const char* const types)
{
  if (e->op == OP_SUBSCRIBE) {
    return tags_match("s", types) || tags_match("si", types) ||
           tags_match("ss", types) || tags_match("sis", types);
  }
  if (e->op == OP_RECORD_START) {
    return tags_match("s", types) || tags_match("ss", types);
  }
  if (e->op == OP_RECORD_STOP || e->op == OP_SAVE || e->op == OP_LOAD) {
    return !types[0] || tags_match("s", types);
  }
  return tags_match(e->info.types, types);
}

static void
run_command(const RtlMessage* const m, const RtlCommandEntry* const e)
{
  RtlCommand  cmd    = {0};
  const char* reason = NULL;
  switch (e->op) {
  case OP_PING:
    cmd.kind = RTL_CMD_PING;
    break;
  case OP_SYNC:
    cmd.kind = RTL_CMD_SYNC;
    reason   = integer(m, 0, &cmd.ival) ? NULL : "out of range (an int32 id)";
    break;
  case OP_LIST:
    cmd.kind = RTL_CMD_LIST;
    break;
  case OP_STATUS:
    cmd.kind = RTL_CMD_STATUS;
    break;
  case OP_GET:
    cmd.kind = RTL_CMD_GET;
    reason   = lookup_param(m, arg_str(m->argv[0]), &cmd.param);
    break;
  case OP_SUBSCRIBE:
  case OP_UNSUBSCRIBE:
    reason = parse_subscribe(m, e->op, &cmd);
    break;
  case OP_TRANSPORT:
    cmd.kind = RTL_CMD_TRANSPORT;
    cmd.ival = (int32_t)e->arg;
    break;
  case OP_LATENCY:
    cmd.kind = RTL_CMD_LATENCY;
    break;
  case OP_LATENCY_SET: {
    // Whether write-ahead is on, and the capacity, the control thread knows.
    const double ms = number(m, 0);
    cmd.kind        = RTL_CMD_LATENCY_SET;
    cmd.value       = (float)ms;
    if (!(ms > 0.0) || ms > (double)RTL_LATENCY_MAX_MS) {
      reason = "out of range (" RTL_LATENCY_RANGE ")";
    }
    break;
  }
  case OP_RECORD_START:
  case OP_RECORD_STOP:
  case OP_RECORD_STATUS:
  case OP_RECORD_FORMAT:
    reason = parse_record(m, e->op, &cmd);
    break;
  case OP_JACK:
    cmd.kind = RTL_CMD_JACK;
    break;
  case OP_REPLY_PORT: {
    // Taken here, in the order of the packet, so the very next message's
    // reply already goes to the new port; nothing reaches the queue.
    int32_t port = -1;
    if (!integer(m, 0, &port) || port < 0 || port > 65535) {
      reject(m, "out of range (0..65535)");
    } else if (!m->config->reply_port) {
      reject(m, "not supported here");
    } else if ((reason = m->config->reply_port(
                  m->config->sink_data, m->peer, (uint16_t)port))) {
      reject(m, reason);
    }
    return;
  }
  case OP_SAVE:
  case OP_LOAD:
    cmd.kind = e->op == OP_SAVE ? RTL_CMD_SAVE : RTL_CMD_LOAD;
    if (m->argc > 0) {
      snprintf(cmd.text, sizeof(cmd.text), "%s", arg_str(m->argv[0]));
      reason = cmd.text[0] ? NULL : "empty file name";
    }
    break;
  case OP_MIDI_MAP: {
    int32_t           cc      = -1;
    const bool        whole   = integer(m, 0, &cc);
    const char* const address = arg_str(m->argv[1]);
    cmd.kind                  = RTL_CMD_MIDI_MAP;
    cmd.ival                  = cc;
    cmd.param                 = UINT32_MAX;
    if (!whole || cc < 0 || cc > RTL_MIDI_CC_MAX) {
      reason = "CC out of range (0.." RTL_STR(RTL_MIDI_CC_MAX) ")";
    } else if (address[0]) {
      reason = lookup_param(m, address, &cmd.param);
    }
    break;
  }
  }
  if (reason) {
    reject(m, reason);
  } else {
    post(m, &cmd);
  }
}

// --- messages
// --------------------------------------------------------------------

/*
  A parameter address with one number.  A toggle (table type 'i') is on
  from 0.5, so a float fader or button works, but stays within 0..1 as
  every value stays within its parameter's range.
*/
static void
set_param(const RtlMessage* const m, const unsigned index)
{
  const RtlParamInfo* const info = &m->config->table->params[index];
  if (m->argc != 1 || !is_number_tag(m->types[0])) {
    reject(m,
           info->type == 'f' ? "wrong arguments (expected f)"
                             : "wrong arguments (expected i)");
    return;
  }
  // The range is checked on the number as sent, before it becomes a float.
  const double v = number(m, 0);
  if (!(v >= (double)info->min && v <= (double)info->max)) {
    reject(m, "out of range");
    return;
  }
  const float value = info->type == 'i' ? (v >= 0.5 ? 1.0f : 0.0f) : (float)v;
  const char* const reason = rtl_param_check(m->config->table, index, value);
  if (reason) {
    reject(m, reason);
    return;
  }
  RtlCommand cmd = {0};
  cmd.kind       = RTL_CMD_SET;
  cmd.param      = index;
  cmd.value      = value;
  post(m, &cmd);
}

/// Send a decoded message where its address says.
static void
route(const RtlMessage* const m)
{
  for (int i = 0; i < m->argc; ++i) {
    if (is_number_tag(m->types[i]) && !isfinite(number(m, i))) {
      reject(m, "not a finite number");
      return;
    }
    if ((m->types[i] == 's' || m->types[i] == 'S') &&
        strlen(arg_str(m->argv[i])) >= RTL_PATH_MAX) {
      reject(m,
             "string too long (at most " RTL_STR(RTL_PATH_MAX_LEN) " bytes)");
      return;
    }
  }

  unsigned        index  = 0U;
  const RtlLookup lookup = rtl_param_lookup(m->config->table, m->path, &index);
  if (lookup == RTL_LOOKUP_FOUND) {
    set_param(m, index);
    return;
  }
  if (lookup == RTL_LOOKUP_UNKNOWN_CHANNEL) {
    reject(m, "unknown channel");
    return;
  }
  for (const RtlCommandEntry* e = commands; e->info.path; ++e) {
    if (!strcmp(m->path, e->info.path)) {
      if (types_match(e, m->types)) {
        run_command(m, e);
      } else {
        char reason[64];
        snprintf(reason,
                 sizeof(reason),
                 "wrong arguments (expected '%s')",
                 e->info.types);
        reject(m, reason);
      }
      return;
    }
  }
  reject(m, "unknown address");
}

static void
handle_message(const RtlRequestConfig* const config,
               RtlOscPeer* const             peer,
               RtlTagCache* const            tags,
               uint8_t* const                data,
               const size_t                  size,
               const uint64_t                timetag)
{
  const size_t path_len = strnlen((const char*)data, size);
  if (path_len == size || data[0] != '/') {
    // Not even a path to name in the reply.
    config->error(config->sink_data,
                  peer,
                  path_len < size ? (const char*)data : "",
                  "malformed packet");
    return;
  }
  const char* const path = (const char*)data;
  if (path_len >= RTL_PATH_MAX) {
    config->error(config->sink_data, peer, path, "address too long");
    return;
  }

  int              result = 0;
  const lo_message msg    = lo_message_deserialise(data, size, &result);
  if (!msg) {
    config->error(config->sink_data, peer, path, "malformed message");
    return;
  }
  const RtlMessage m = {
    config,
    peer,
    path,
    lo_message_get_types(msg),
    lo_message_get_argc(msg),
    lo_message_get_argv(msg),
    timetag,
    tags,
  };
  route(&m);
  lo_message_free(msg);
}

// --- packets
// ---------------------------------------------------------------------

static uint32_t
load_be32(const uint8_t* const p)
{
  uint32_t v = 0U;
  memcpy(&v, p, sizeof(v));
  return be32toh(v);
}

static uint64_t
load_be64(const uint8_t* const p)
{
  uint64_t v = 0U;
  memcpy(&v, p, sizeof(v));
  return be64toh(v);
}

static void
handle_packet(const RtlRequestConfig* const config,
              RtlOscPeer* const             peer,
              RtlTagCache* const            tags,
              uint8_t* const                data,
              const size_t                  size,
              const uint64_t                timetag,
              const unsigned                depth)
{
  static const char bundle_tag[8] = "#bundle";
  if (size < 4U || (size & 3U)) {
    config->error(config->sink_data, peer, "", "malformed packet");
    return;
  }
  if (size < 16U || memcmp(data, bundle_tag, sizeof(bundle_tag))) {
    handle_message(config, peer, tags, data, size, timetag);
    return;
  }
  if (depth >= RTL_REQUEST_MAX_DEPTH) {
    config->error(
      config->sink_data, peer, "#bundle", "bundles nested too deep");
    return;
  }

  // Each element is checked for size before it is handled, so a bundle
  // that turns out to be truncated still had its valid elements applied,
  // in order, as a stream of messages would.
  const uint64_t tag = load_be64(data + 8U);
  size_t         pos = 16U;
  while (pos < size) {
    const uint32_t len = size - pos < 4U ? 0U : load_be32(data + pos);
    if (!len || len > size - pos - 4U || (len & 3U)) {
      config->error(config->sink_data, peer, "#bundle", "malformed bundle");
      return;
    }
    pos += 4U;
    handle_packet(config, peer, tags, data + pos, len, tag, depth + 1U);
    pos += len;
  }
}

void
rtl_request_packet(const RtlRequestConfig* const config,
                   const RtlOscPeer* const       peer,
                   uint8_t* const                data,
                   const size_t                  size)
{
  RtlOscPeer  sender = *peer;
  RtlTagCache tags   = {RTL_TIMETAG_NOW, 0U};
  handle_packet(config, &sender, &tags, data, size, RTL_TIMETAG_NOW, 0U);
}
