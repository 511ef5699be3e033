// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "osc.h"

#include "log.h"
#include "options.h"

#include <rtlane/allocator.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RTL_OSC_MAX_PACKET 65536U
#define RTL_OSC_MAX_TCP 16U
#define RTL_OSC_MAX_DEPTH 8U

typedef enum {
  OP_PING = 1,
  OP_SYNC,
  OP_LIST,
  OP_STATUS,
  OP_GET,
  OP_SUBSCRIBE,
  OP_UNSUBSCRIBE,
  OP_START,
  OP_STOP,
  OP_PAUSE,
  OP_RESET,
  OP_LATENCY,
  OP_LATENCY_SET,
  OP_MIDI_MAP,
  OP_LATER,
} RtlOscOp;

static const struct {
  RtlOscCommandInfo info;
  RtlOscOp          op;
} commands[] = {
  { { "/ping", "", "replies /pong" }, OP_PING },
  { { "/sync", "i",
      "replies /synced i:id once every earlier command has reached the audio" },
    OP_SYNC },
  { { "/list", "",
      "replies /list.reply s:address s:typetags s:description per address, "
      "then /list.reply with no arguments" },
    OP_LIST },
  { { "/status", "",
      "replies /status.reply s:name i:rate i:period i:latency_frames i:xruns "
      "i:underruns i:overruns h:frames f:dsp_load i:cmds_applied "
      "i:cmds_rejected" },
    OP_STATUS },
  { { "/get", "s", "replies with the address and its current value" }, OP_GET },
  { { "/subscribe", "s",
      "topic meters (/meters f... peak dBFS per input then out_L, out_R; "
      "optional i:hz 1..100, default 30), state (/state s:address value, "
      "coalesced per 50 ms) or record" },
    OP_SUBSCRIBE },
  { { "/unsubscribe", "s", "stops a topic for this sender" }, OP_UNSUBSCRIBE },
  { { "/transport/start", "",
      "starts the metronome transport (from the top after stop or reset)" },
    OP_START },
  { { "/transport/stop", "", "stops the transport and rewinds it" }, OP_STOP },
  { { "/transport/pause", "", "stops the transport where it is" }, OP_PAUSE },
  { { "/transport/reset", "", "rewinds the transport to the first beat" },
    OP_RESET },
  { { "/latency", "",
      "replies /latency.reply i:frames f:ms, the write-ahead delay L reported "
      "to the graph (0 in direct mode)" },
    OP_LATENCY },
  { { "/latency/set", "f",
      "sets the write-ahead delay in ms (0 < ms <= 2000, within the capacity "
      "set at start) and reports it to the graph; only with -l" },
    OP_LATENCY_SET },
  { { "/midi/map", "is",
      "maps MIDI CC i (0..127) on midi_in to the parameter at address s, its "
      "value 0..127 spanning the parameter's range; s \"\" unmaps" },
    OP_MIDI_MAP },
  { { NULL, NULL, NULL }, OP_PING },
};

// Addresses of later versions: known, answered with a clear reason.
static const char* const later[] = {
  "/record/start", "/record/stop", "/save", "/load", NULL,
};

typedef struct {
  int        fd;
  uint32_t   gen;
  size_t     fill;
  uint8_t*   buf;
  RtlOscPeer peer;
} RtlTcpConn;

struct RtlOscImpl {
  RtlOscConfig     config;
  int              udp_fd;
  int              tcp_fd;
  int              wake_fd;
  pthread_t        thread;
  bool             thread_started;
  _Atomic bool     quit;
  _Atomic uint64_t rejected;
  char             description[160];
  uint8_t*         packet;
  pthread_mutex_t  tcp_lock; ///< Guards conns against concurrent senders
  RtlTcpConn       conns[RTL_OSC_MAX_TCP];
};

const RtlOscCommandInfo*
rtl_osc_commands(void)
{
  static RtlOscCommandInfo infos[sizeof(commands) / sizeof(commands[0])];
  for (size_t i = 0U; i < sizeof(commands) / sizeof(commands[0]); ++i) {
    infos[i] = commands[i].info;
  }
  return infos;
}

// --- sockets -----------------------------------------------------------------

static int
bind_socket(const char* const host,
            const unsigned    port,
            const int         type,
            char* const       err,
            const size_t      err_size)
{
  char service[16];
  snprintf(service, sizeof(service), "%u", port);

  struct addrinfo hints = { 0 };
  hints.ai_family       = AF_UNSPEC;
  hints.ai_socktype     = type;
  hints.ai_flags        = AI_PASSIVE;
  struct addrinfo* res  = NULL;
  const int        gai  = getaddrinfo(host, service, &hints, &res);
  if (gai) {
    snprintf(err, err_size, "cannot resolve OSC bind address '%s': %s", host,
             gai_strerror(gai));
    return -1;
  }

  int fd    = -1;
  int error = 0;
  for (const struct addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    const int one = 1;
    if (type == SOCK_STREAM) {
      (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    } else {
      // A controller's burst (a fader sweep, a script) arrives faster than
      // one thread decodes it; the default ~200 KiB receive buffer then
      // drops datagrams in the kernel, where no /error can report them.
      // Ask for 4 MiB: forced where permitted, else up to rmem_max.
      const int rcvbuf = 4 * 1024 * 1024;
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf))) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
      }
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
        (type == SOCK_STREAM && listen(fd, 8))) {
      error = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, err_size, "cannot bind OSC %s port %s:%u: %s",
             type == SOCK_STREAM ? "TCP" : "UDP", host, port, strerror(error));
  }
  return fd;
}

RtlStatus
rtl_osc_open(const RtlOscConfig* const config,
             RtlOsc** const            osc,
             char* const               err,
             const size_t              err_size)
{
  *osc            = NULL;
  RtlOsc* const o = (RtlOsc*)rtl_calloc(NULL, 1U, sizeof(RtlOsc));
  if (!o) {
    snprintf(err, err_size, "out of memory");
    return RTL_NO_MEM;
  }
  o->config  = *config;
  o->udp_fd  = -1;
  o->tcp_fd  = -1;
  o->wake_fd = -1;
  pthread_mutex_init(&o->tcp_lock, NULL);
  for (unsigned i = 0U; i < RTL_OSC_MAX_TCP; ++i) {
    o->conns[i].fd = -1;
  }

  o->packet  = (uint8_t*)rtl_malloc(NULL, RTL_OSC_MAX_PACKET);
  o->wake_fd = eventfd(0U, EFD_CLOEXEC | EFD_NONBLOCK);
  if (!o->packet || o->wake_fd < 0) {
    snprintf(err, err_size, "cannot set up the OSC thread: %s",
             strerror(errno));
    rtl_osc_free(o);
    return RTL_NO_MEM;
  }

  o->udp_fd =
    bind_socket(config->bind, config->port, SOCK_DGRAM, err, err_size);
  if (o->udp_fd >= 0 && config->tcp) {
    o->tcp_fd =
      bind_socket(config->bind, config->port, SOCK_STREAM, err, err_size);
  }
  if (o->udp_fd < 0 || (config->tcp && o->tcp_fd < 0)) {
    rtl_osc_free(o);
    return RTL_OSC_ERROR;
  }

  snprintf(o->description, sizeof(o->description), "udp%s %s:%u",
           config->tcp ? "+tcp" : "", config->bind, config->port);
  *osc = o;
  return RTL_SUCCESS;
}

void
rtl_osc_free(RtlOsc* const o)
{
  if (!o) {
    return;
  }
  rtl_osc_stop(o);
  for (unsigned i = 0U; i < RTL_OSC_MAX_TCP; ++i) {
    if (o->conns[i].fd >= 0) {
      close(o->conns[i].fd);
    }
    rtl_free(NULL, o->conns[i].buf);
  }
  if (o->udp_fd >= 0) {
    close(o->udp_fd);
  }
  if (o->tcp_fd >= 0) {
    close(o->tcp_fd);
  }
  if (o->wake_fd >= 0) {
    close(o->wake_fd);
  }
  pthread_mutex_destroy(&o->tcp_lock);
  rtl_free(NULL, o->packet);
  rtl_free(NULL, o);
}

const char*
rtl_osc_describe(const RtlOsc* const o)
{
  return o->description;
}

uint64_t
rtl_osc_rejected(const RtlOsc* const o)
{
  return atomic_load_explicit(&o->rejected, memory_order_relaxed);
}

// --- sending -----------------------------------------------------------------

/// Send `size` bytes at `frame + 4`; the 4 bytes before are headroom for
/// the TCP size prefix.
static void
send_bytes(RtlOsc* const           o,
           const RtlOscPeer* const peer,
           uint8_t* const          frame,
           const size_t            size)
{
  if (peer->transport == RTL_PEER_UDP) {
    (void)sendto(o->udp_fd, frame + 4U, size, MSG_DONTWAIT | MSG_NOSIGNAL,
                 &peer->addr.sa, peer->addr_len);
    return;
  }
  if (peer->transport != RTL_PEER_TCP) {
    return;
  }

  const unsigned slot = peer->conn & 0xFFU;
  const uint32_t gen  = peer->conn >> 8U;
  if (slot >= RTL_OSC_MAX_TCP) {
    return;
  }
  // OSC 1.0 stream framing: a big-endian size before each packet.
  const uint32_t len = htonl((uint32_t)size);
  memcpy(frame, &len, sizeof(len));

  pthread_mutex_lock(&o->tcp_lock);
  RtlTcpConn* const c = &o->conns[slot];
  if (c->fd >= 0 && c->gen == gen) {
    // A client that does not read gets its connection shut rather than
    // stalling the sender; the receive thread then reaps it.
    const ssize_t sent =
      send(c->fd, frame, size + 4U, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent != (ssize_t)(size + 4U)) {
      (void)shutdown(c->fd, SHUT_RDWR);
    }
  }
  pthread_mutex_unlock(&o->tcp_lock);
}

void
rtl_osc_send(RtlOsc* const           o,
             const RtlOscPeer* const peer,
             const char* const       path,
             const lo_message        msg)
{
  uint8_t        stack_buf[2048];
  const size_t   len = lo_message_length(msg, path);
  uint8_t* const buf = len + 4U <= sizeof(stack_buf)
                         ? stack_buf
                         : (uint8_t*)rtl_malloc(NULL, len + 4U);
  if (!buf) {
    return;
  }
  size_t size = len;
  if (lo_message_serialise(msg, path, buf + 4U, &size)) {
    send_bytes(o, peer, buf, size);
  }
  if (buf != stack_buf) {
    rtl_free(NULL, buf);
  }
}

void
rtl_osc_send_error(RtlOsc* const           o,
                   const RtlOscPeer* const peer,
                   const char* const       request_path,
                   const char* const       reason)
{
  atomic_fetch_add_explicit(&o->rejected, 1U, memory_order_relaxed);
  char path[RTL_PATH_MAX];
  snprintf(path, sizeof(path), "%s", request_path);
  const lo_message msg = lo_message_new();
  if (!msg) {
    return;
  }
  lo_message_add_string(msg, path);
  lo_message_add_string(msg, reason);
  rtl_osc_send(o, peer, "/error", msg);
  lo_message_free(msg);
}

// --- validation --------------------------------------------------------------

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

static void
push(RtlOsc* const o, const char* const path, RtlCommand* const cmd)
{
  uint64_t frame = 0U;
  uint64_t now   = 0U;
  if ((cmd->kind == RTL_CMD_SET || cmd->kind == RTL_CMD_TRANSPORT) &&
      cmd->timetag != RTL_TIMETAG_NOW && o->config.tag_to_frame &&
      o->config.tag_to_frame(o->config.tag_to_frame_data, cmd->timetag, &frame,
                             &now) &&
      frame > now) {
    cmd->frame = frame;
  }

  if (rtl_queue_push(o->config.queue, cmd) != RTL_SUCCESS) {
    rtl_osc_send_error(o, &cmd->peer, path, "busy");
    return;
  }
  sem_post(o->config.wake);
}

static RtlTopic
parse_topic(const char* const name, bool* const ok)
{
  static const char* const names[RTL_N_TOPICS] = { "meters", "state",
                                                   "record" };
  for (unsigned t = 0U; t < RTL_N_TOPICS; ++t) {
    if (!strcmp(name, names[t])) {
      *ok = true;
      return (RtlTopic)t;
    }
  }
  *ok = false;
  return RTL_TOPIC_METERS;
}

static void
dispatch_command(RtlOsc* const     o,
                 const RtlOscOp    op,
                 const char*       path,
                 const char*       types,
                 lo_arg** const    argv,
                 RtlCommand* const cmd)
{
  const char* reason = NULL;
  switch (op) {
  case OP_PING:
    cmd->kind = RTL_CMD_PING;
    break;
  case OP_SYNC:
    cmd->kind = RTL_CMD_SYNC;
    cmd->ival = arg_i32(argv[0]);
    break;
  case OP_LIST:
    cmd->kind = RTL_CMD_LIST;
    break;
  case OP_STATUS:
    cmd->kind = RTL_CMD_STATUS;
    break;
  case OP_GET: {
    unsigned        index = 0U;
    const RtlLookup lookup =
      rtl_param_lookup(o->config.table, arg_str(argv[0]), &index);
    if (lookup == RTL_LOOKUP_UNKNOWN_CHANNEL) {
      reason = "unknown channel";
    } else if (lookup != RTL_LOOKUP_FOUND) {
      reason = "unknown parameter address";
    }
    cmd->kind  = RTL_CMD_GET;
    cmd->param = index;
    break;
  }
  case OP_SUBSCRIBE:
  case OP_UNSUBSCRIBE: {
    bool           ok    = false;
    const RtlTopic topic = parse_topic(arg_str(argv[0]), &ok);
    cmd->kind = op == OP_SUBSCRIBE ? RTL_CMD_SUBSCRIBE : RTL_CMD_UNSUBSCRIBE;
    cmd->ival = (int32_t)topic;
    cmd->hz   = 30;
    if (!ok) {
      reason = "unknown topic (meters, state or record)";
    } else if (op == OP_SUBSCRIBE && types[1] == 'i') {
      cmd->hz = arg_i32(argv[1]);
      if (cmd->hz < 1 || cmd->hz > 100) {
        reason = "rate out of range (1..100 Hz)";
      }
    } else if (types[1]) {
      reason = "wrong arguments";
    }
    break;
  }
  case OP_START:
  case OP_STOP:
  case OP_PAUSE:
  case OP_RESET:
    cmd->kind = RTL_CMD_TRANSPORT;
    cmd->ival = op == OP_START   ? RTL_TRANSPORT_START
                : op == OP_STOP  ? RTL_TRANSPORT_STOP
                : op == OP_PAUSE ? RTL_TRANSPORT_PAUSE
                                 : RTL_TRANSPORT_RESET;
    break;
  case OP_LATENCY:
    cmd->kind = RTL_CMD_LATENCY;
    break;
  case OP_LATENCY_SET: {
    // Whether write-ahead is on, and the capacity, the control thread knows.
    const float ms = arg_f32(argv[0]);
    cmd->kind      = RTL_CMD_LATENCY_SET;
    cmd->value     = ms;
    if (!(ms > 0.0f) || (double)ms > RTL_LATENCY_MAX_MS) {
      reason = "out of range (0 < ms <= 2000)";
    }
    break;
  }
  case OP_MIDI_MAP: {
    const int32_t     cc      = arg_i32(argv[0]);
    const char* const address = arg_str(argv[1]);
    cmd->kind                 = RTL_CMD_MIDI_MAP;
    cmd->ival                 = cc;
    cmd->param                = UINT32_MAX;
    if (cc < 0 || cc >= (int32_t)RTL_MIDI_CCS) {
      reason = "CC out of range (0..127)";
    } else if (address[0]) {
      unsigned        index = 0U;
      const RtlLookup lookup =
        rtl_param_lookup(o->config.table, address, &index);
      if (lookup == RTL_LOOKUP_UNKNOWN_CHANNEL) {
        reason = "unknown channel";
      } else if (lookup != RTL_LOOKUP_FOUND) {
        reason = "unknown parameter address";
      }
      cmd->param = index;
    }
    break;
  }
  case OP_LATER:
    reason = "not yet supported";
    break;
  }
  if (reason) {
    rtl_osc_send_error(o, &cmd->peer, path, reason);
    return;
  }
  push(o, path, cmd);
}

static void
handle_message(RtlOsc* const           o,
               const RtlOscPeer* const peer,
               uint8_t* const          data,
               const size_t            size,
               const uint64_t          timetag)
{
  const size_t path_len = strnlen((const char*)data, size);
  if (path_len == size || data[0] != '/') {
    // Not even a path to name in the reply.
    rtl_osc_send_error(o, peer, path_len < size ? (const char*)data : "",
                       "malformed packet");
    return;
  }
  const char* const path = (const char*)data;
  if (path_len >= RTL_PATH_MAX) {
    rtl_osc_send_error(o, peer, path, "address too long");
    return;
  }

  int              result = 0;
  const lo_message msg    = lo_message_deserialise(data, size, &result);
  if (!msg) {
    rtl_osc_send_error(o, peer, path, "malformed message");
    return;
  }
  const char* const types = lo_message_get_types(msg);
  const int         argc  = lo_message_get_argc(msg);
  lo_arg** const    argv  = lo_message_get_argv(msg);

  for (int i = 0; i < argc; ++i) {
    if ((types[i] == 's' || types[i] == 'S') &&
        strlen(arg_str(argv[i])) >= RTL_PATH_MAX) {
      rtl_osc_send_error(o, peer, path, "string too long (at most 255 bytes)");
      lo_message_free(msg);
      return;
    }
  }

  RtlCommand cmd = { 0 };
  cmd.peer       = *peer;
  cmd.timetag    = timetag;

  unsigned        index  = 0U;
  const RtlLookup lookup = rtl_param_lookup(o->config.table, path, &index);
  if (lookup == RTL_LOOKUP_FOUND) {
    const RtlParamInfo* const info = &o->config.table->params[index];
    if (argc != 1 || types[0] != info->type) {
      rtl_osc_send_error(o, peer, path,
                         info->type == 'f' ? "wrong arguments (expected f)"
                                           : "wrong arguments (expected i)");
    } else {
      const int32_t ival  = arg_i32(argv[0]);
      const float   value = info->type == 'f' ? arg_f32(argv[0]) : (float)ival;
      const char* const reason =
        (info->type == 'i' && ival != 0 && ival != 1)
          ? "out of range"
          : rtl_param_check(o->config.table, index, value);
      if (reason) {
        rtl_osc_send_error(o, peer, path, reason);
      } else {
        cmd.kind  = RTL_CMD_SET;
        cmd.param = index;
        cmd.value = value;
        push(o, path, &cmd);
      }
    }
    lo_message_free(msg);
    return;
  }
  if (lookup == RTL_LOOKUP_UNKNOWN_CHANNEL) {
    rtl_osc_send_error(o, peer, path, "unknown channel");
    lo_message_free(msg);
    return;
  }

  for (size_t i = 0U; commands[i].info.path; ++i) {
    if (strcmp(path, commands[i].info.path)) {
      continue;
    }
    const char* const want = commands[i].info.types;
    const bool        ok   = !strcmp(types, want) ||
                    (commands[i].op == OP_SUBSCRIBE && !strcmp(types, "si"));
    if (!ok) {
      char reason[64];
      snprintf(reason, sizeof(reason), "wrong arguments (expected '%s')", want);
      rtl_osc_send_error(o, peer, path, reason);
    } else {
      dispatch_command(o, commands[i].op, path, types, argv, &cmd);
    }
    lo_message_free(msg);
    return;
  }

  for (size_t i = 0U; later[i]; ++i) {
    if (!strcmp(path, later[i])) {
      dispatch_command(o, OP_LATER, path, types, argv, &cmd);
      lo_message_free(msg);
      return;
    }
  }

  rtl_osc_send_error(o, peer, path, "unknown address");
  lo_message_free(msg);
}

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
handle_packet(RtlOsc* const           o,
              const RtlOscPeer* const peer,
              uint8_t* const          data,
              const size_t            size,
              const uint64_t          timetag,
              const unsigned          depth)
{
  static const char bundle_tag[8] = "#bundle";
  if (size < 4U || (size & 3U)) {
    rtl_osc_send_error(o, peer, "", "malformed packet");
    return;
  }
  if (size < 16U || memcmp(data, bundle_tag, sizeof(bundle_tag))) {
    handle_message(o, peer, data, size, timetag);
    return;
  }
  if (depth >= RTL_OSC_MAX_DEPTH) {
    rtl_osc_send_error(o, peer, "#bundle", "bundles nested too deep");
    return;
  }

  // Each element is checked for size before it is handled, so a bundle
  // that turns out to be truncated still had its valid elements applied,
  // in order, as a stream of messages would.
  const uint64_t tag = load_be64(data + 8U);
  size_t         pos = 16U;
  while (pos < size) {
    if (size - pos < 4U) {
      rtl_osc_send_error(o, peer, "#bundle", "malformed bundle");
      return;
    }
    const uint32_t len = load_be32(data + pos);
    pos += 4U;
    if (len > size - pos || (len & 3U) || !len) {
      rtl_osc_send_error(o, peer, "#bundle", "malformed bundle");
      return;
    }
    handle_packet(o, peer, data + pos, len, tag, depth + 1U);
    pos += len;
  }
}

// --- receive thread ----------------------------------------------------------

static void
close_conn(RtlOsc* const o, const unsigned slot)
{
  RtlTcpConn* const c = &o->conns[slot];
  pthread_mutex_lock(&o->tcp_lock);
  close(c->fd);
  c->fd   = -1;
  c->fill = 0U;
  pthread_mutex_unlock(&o->tcp_lock);

  RtlCommand cmd = { 0 };
  cmd.kind       = RTL_CMD_PEER_GONE;
  cmd.peer       = c->peer;
  if (rtl_queue_push(o->config.queue, &cmd) == RTL_SUCCESS) {
    sem_post(o->config.wake);
  }
}

static void
accept_conn(RtlOsc* const o)
{
  RtlOscPeer peer = { 0 };
  peer.addr_len   = sizeof(peer.addr);
  const int fd =
    accept4(o->tcp_fd, &peer.addr.sa, &peer.addr_len, SOCK_CLOEXEC);
  if (fd < 0) {
    return;
  }
  for (unsigned i = 0U; i < RTL_OSC_MAX_TCP; ++i) {
    RtlTcpConn* const c = &o->conns[i];
    if (c->fd >= 0) {
      continue;
    }
    if (!c->buf &&
        !(c->buf = (uint8_t*)rtl_malloc(NULL, RTL_OSC_MAX_PACKET + 4U))) {
      break;
    }
    pthread_mutex_lock(&o->tcp_lock);
    c->fd = fd;
    ++c->gen;
    c->fill        = 0U;
    peer.transport = RTL_PEER_TCP;
    peer.conn      = (uint32_t)i | (c->gen << 8U);
    c->peer        = peer;
    pthread_mutex_unlock(&o->tcp_lock);
    return;
  }
  rtl_log("refusing an OSC TCP connection: %u connections open",
          RTL_OSC_MAX_TCP);
  close(fd);
}

static void
read_conn(RtlOsc* const o, const unsigned slot)
{
  RtlTcpConn* const c   = &o->conns[slot];
  const ssize_t     got = recv(c->fd, c->buf + c->fill,
                               RTL_OSC_MAX_PACKET + 4U - c->fill, MSG_DONTWAIT);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
    close_conn(o, slot);
    return;
  }
  if (got < 0) {
    return;
  }
  c->fill += (size_t)got;

  size_t pos = 0U;
  while (c->fill - pos >= 4U) {
    const uint32_t len = load_be32(c->buf + pos);
    if (len > RTL_OSC_MAX_PACKET) {
      rtl_osc_send_error(o, &c->peer, "", "packet too large");
      close_conn(o, slot);
      return;
    }
    if (c->fill - pos - 4U < len) {
      break;
    }
    handle_packet(o, &c->peer, c->buf + pos + 4U, len, RTL_TIMETAG_NOW, 0U);
    pos += 4U + len;
  }
  memmove(c->buf, c->buf + pos, c->fill - pos);
  c->fill -= pos;
}

static void
read_udp(RtlOsc* const o)
{
  for (unsigned burst = 0U; burst < 64U; ++burst) {
    RtlOscPeer peer = { 0 };
    peer.transport  = RTL_PEER_UDP;
    peer.addr_len   = sizeof(peer.addr);
    const ssize_t got =
      recvfrom(o->udp_fd, o->packet, RTL_OSC_MAX_PACKET,
               MSG_DONTWAIT | MSG_TRUNC, &peer.addr.sa, &peer.addr_len);
    if (got < 0) {
      return;
    }
    if ((size_t)got > RTL_OSC_MAX_PACKET) {
      rtl_osc_send_error(o, &peer, "", "packet too large");
      continue;
    }
    handle_packet(o, &peer, o->packet, (size_t)got, RTL_TIMETAG_NOW, 0U);
  }
}

static void*
osc_thread(void* const arg)
{
  RtlOsc* const o = (RtlOsc*)arg;
  while (!atomic_load_explicit(&o->quit, memory_order_acquire)) {
    struct pollfd fds[3U + RTL_OSC_MAX_TCP];
    unsigned      slot_of[3U + RTL_OSC_MAX_TCP];
    nfds_t        n = 0U;
    fds[n++]        = (struct pollfd){ o->wake_fd, POLLIN, 0 };
    fds[n++]        = (struct pollfd){ o->udp_fd, POLLIN, 0 };
    if (o->tcp_fd >= 0) {
      fds[n++] = (struct pollfd){ o->tcp_fd, POLLIN, 0 };
    }
    const nfds_t first_conn = n;
    for (unsigned i = 0U; i < RTL_OSC_MAX_TCP; ++i) {
      if (o->conns[i].fd >= 0) {
        slot_of[n] = i;
        fds[n++]   = (struct pollfd){ o->conns[i].fd, POLLIN, 0 };
      }
    }

    if (poll(fds, n, -1) < 0) {
      continue;
    }
    if (fds[0].revents) {
      break;
    }
    if (fds[1].revents) {
      read_udp(o);
    }
    if (o->tcp_fd >= 0 && fds[2].revents) {
      accept_conn(o);
    }
    for (nfds_t i = first_conn; i < n; ++i) {
      if (fds[i].revents) {
        read_conn(o, slot_of[i]);
      }
    }
  }
  return NULL;
}

RtlStatus
rtl_osc_start(RtlOsc* const o)
{
  // With mlockall(MCL_FUTURE) a default 8 MiB stack would be locked whole.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, RTL_THREAD_STACK);
  const int err = pthread_create(&o->thread, &attr, osc_thread, o);
  pthread_attr_destroy(&attr);
  if (err) {
    return RTL_SYSTEM_ERROR;
  }
  o->thread_started = true;
  return RTL_SUCCESS;
}

void
rtl_osc_stop(RtlOsc* const o)
{
  if (!o->thread_started) {
    return;
  }
  atomic_store_explicit(&o->quit, true, memory_order_release);
  const uint64_t one = 1U;
  (void)!write(o->wake_fd, &one, sizeof(one));
  pthread_join(o->thread, NULL);
  o->thread_started = false;
}
