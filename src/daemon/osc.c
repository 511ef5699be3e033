// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "osc.h"

#include "log.h"
#include "subscribers.h"
#include "thread.h"

#include <rtlane/allocator.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RTL_OSC_MAX_PACKET 65536U
#define RTL_OSC_MAX_TCP 16U

/// A UDP receive thread reads at most this many datagrams per wake-up
/// before it looks at its stop flag again.
#define RTL_OSC_UDP_BURST 64U

/// Senders whose replies /reply/port redirected; the oldest is forgotten
/// when a new one needs its place.
#define RTL_OSC_MAX_ROUTES 64U

// SLIP (RFC 1055), as OSC 1.1 frames packets on a stream.
#define RTL_SLIP_END 0xC0U
#define RTL_SLIP_ESC 0xDBU
#define RTL_SLIP_ESC_END 0xDCU
#define RTL_SLIP_ESC_ESC 0xDDU

/// How a TCP connection frames its packets, known from its first byte.
typedef enum {
  RTL_FRAMING_UNKNOWN,
  RTL_FRAMING_SIZE, ///< OSC 1.0: a big-endian size before each packet
  RTL_FRAMING_SLIP, ///< OSC 1.1: SLIP, END before and after each packet
} RtlFraming;

typedef struct {
  int        fd;
  uint32_t   gen;
  size_t     fill;
  uint8_t*   buf;
  RtlOscPeer peer;
  RtlFraming framing; ///< Written by the TCP thread under tcp_lock
  bool       escaped; ///< SLIP: the last byte read was ESC
} RtlTcpConn;

/// A UDP sender whose replies go to another port at its address.
typedef struct {
  RtlOscPeer source; ///< As it sent; RTL_PEER_NONE: a free entry
  uint16_t   port;
  uint64_t   used; ///< For choosing the oldest to forget
} RtlReplyRoute;

struct RtlOscImpl {
  RtlOscConfig     config;
  RtlRequestConfig request;
  int              udp_fd;
  int              tcp_fd;
  int              quit_fd; ///< Readable once the threads must stop
  pthread_t        udp_thread;
  pthread_t        tcp_thread;
  bool             udp_started;
  bool             tcp_started;
  _Atomic uint64_t rejected;
  _Atomic uint64_t refused; ///< Senders --osc-allow leaves out
  RtlAllow         allow[RTL_ALLOW_MAX];
  unsigned         n_allow;
  char             description[160];
  uint8_t*         packet;   ///< UDP thread's receive buffer
  pthread_mutex_t  tcp_lock; ///< Guards conns against concurrent senders
  RtlTcpConn       conns[RTL_OSC_MAX_TCP];
  // UDP thread only: the redirections, and the packet being handled
  RtlReplyRoute routes[RTL_OSC_MAX_ROUTES];
  uint64_t      routes_used;
  RtlOscPeer    source; ///< The sender as it sent, before any redirection
};

// --- sockets -----------------------------------------------------------------

static void
tune_socket(const int fd, const int type)
{
  const int one = 1;
  if (type == SOCK_STREAM) {
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    return;
  }
  // A controller's burst (a fader sweep, a script) arrives faster than one
  // thread decodes it; the default ~200 KiB receive buffer then drops
  // datagrams in the kernel, where no /error can report them.  Ask for
  // 4 MiB: forced where permitted, else up to rmem_max.
  const int rcvbuf = 4 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf))) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
}

static int
bind_socket(const char* const host,
            const unsigned    port,
            const int         type,
            char* const       err,
            const size_t      err_size)
{
  char service[16];
  snprintf(service, sizeof(service), "%u", port);

  struct addrinfo hints = {0};
  hints.ai_family       = AF_UNSPEC;
  hints.ai_socktype     = type;
  hints.ai_flags        = AI_PASSIVE;
  struct addrinfo* res  = NULL;
  const int        gai  = getaddrinfo(host, service, &hints, &res);
  if (gai) {
    snprintf(err,
             err_size,
             "cannot resolve OSC bind address '%s': %s",
             host,
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
    tune_socket(fd, type);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
        (type == SOCK_STREAM && listen(fd, 8))) {
      error = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err,
             err_size,
             "cannot bind OSC %s port %s:%u: %s",
             type == SOCK_STREAM ? "TCP" : "UDP",
             host,
             port,
             strerror(error));
  }
  return fd;
}

static RtlStatus
post_command(void* const data, const RtlCommand* const cmd)
{
  RtlOsc* const o = (RtlOsc*)data;
  return rtl_comm_post_command(o->config.queue, o->config.wake, cmd);
}

static void
set_peer_port(RtlOscPeer* const peer, const uint16_t port)
{
  if (peer->addr.sa.sa_family == AF_INET6) {
    peer->addr.in6.sin6_port = htons(port);
  } else if (peer->addr.sa.sa_family == AF_INET) {
    peer->addr.in4.sin_port = htons(port);
  }
}

/// The route of the sender `peer` as it sent, or NULL.  UDP thread.
static RtlReplyRoute*
find_route(RtlOsc* const o, const RtlOscPeer* const peer)
{
  for (unsigned i = 0U; i < RTL_OSC_MAX_ROUTES; ++i) {
    if (rtl_peer_equal(&o->routes[i].source, peer)) {
      return &o->routes[i];
    }
  }
  return NULL;
}

/// Where replies to a UDP sender go: its own route, --reply-port, or back.
static void
redirect(RtlOsc* const o, RtlOscPeer* const peer)
{
  const RtlReplyRoute* const r = find_route(o, peer);
  if (r) {
    set_peer_port(peer, r->port);
  } else if (o->config.reply_port) {
    set_peer_port(peer, (uint16_t)o->config.reply_port);
  }
}

/// /reply/port, for the packet the UDP thread is handling.
static const char*
route_replies(void* const data, RtlOscPeer* const peer, const uint16_t port)
{
  RtlOsc* const o = (RtlOsc*)data;
  if (peer->transport != RTL_PEER_UDP) {
    return "UDP only (replies go back on the TCP connection)";
  }
  RtlReplyRoute* r = find_route(o, &o->source);
  if (!port) {
    if (r) {
      r->source.transport = RTL_PEER_NONE;
    }
  } else {
    for (unsigned i = 0U; !r && i < RTL_OSC_MAX_ROUTES; ++i) {
      r = o->routes[i].source.transport ? NULL : &o->routes[i];
    }
    if (!r) { // All taken: the one set longest ago makes room
      r = &o->routes[0];
      for (unsigned i = 1U; i < RTL_OSC_MAX_ROUTES; ++i) {
        r = o->routes[i].used < r->used ? &o->routes[i] : r;
      }
    }
    r->source = o->source;
    r->port   = port;
    r->used   = ++o->routes_used;
  }
  *peer = o->source;
  redirect(o, peer);
  return NULL;
}

static void
post_error(void* const             data,
           const RtlOscPeer* const peer,
           const char* const       path,
           const char* const       reason)
{
  rtl_osc_send_error((RtlOsc*)data, peer, path, reason);
}

RtlStatus
rtl_osc_open(const RtlOscConfig* const config,
             RtlOsc** const            osc,
             char* const               err,
             const size_t              err_size)
{
  *osc            = NULL;
  RtlOsc* const o = (RtlOsc*)rtl_calloc(config->allocator, 1U, sizeof(RtlOsc));
  if (!o) {
    snprintf(err, err_size, "%s", rtl_strerror(RTL_NO_MEM));
    return RTL_NO_MEM;
  }
  o->config  = *config;
  o->request = (RtlRequestConfig){
    config->table,
    config->tag_to_frame,
    config->tag_to_frame_data,
    post_command,
    post_error,
    route_replies,
    o,
  };
  o->udp_fd  = -1;
  o->tcp_fd  = -1;
  o->quit_fd = -1;
  o->n_allow =
    config->n_allow < RTL_ALLOW_MAX ? config->n_allow : RTL_ALLOW_MAX;
  if (o->n_allow) {
    memcpy(o->allow, config->allow, o->n_allow * sizeof(RtlAllow));
  }
  o->config.allow = NULL; // Copied; the caller's may go
  pthread_mutex_init(&o->tcp_lock, NULL);
  for (unsigned i = 0U; i < RTL_OSC_MAX_TCP; ++i) {
    o->conns[i].fd = -1;
  }

  o->packet = (uint8_t*)rtl_malloc(config->allocator, RTL_OSC_MAX_PACKET);
  if (!o->packet) {
    snprintf(err, err_size, "%s", rtl_strerror(RTL_NO_MEM));
    rtl_osc_free(o);
    return RTL_NO_MEM;
  }
  o->quit_fd = eventfd(0U, EFD_CLOEXEC | EFD_NONBLOCK);
  if (o->quit_fd < 0) {
    snprintf(
      err, err_size, "cannot set up the OSC threads: %s", strerror(errno));
    rtl_osc_free(o);
    return RTL_SYSTEM_ERROR;
  }

  o->udp_fd =
    bind_socket(config->bind, config->port, SOCK_DGRAM, err, err_size);
  if (o->udp_fd >= 0 && config->tcp) {
    o->tcp_fd =
      bind_socket(config->bind, config->port, SOCK_STREAM, err, err_size);
  }
  if (o->udp_fd < 0 || (config->tcp && o->tcp_fd < 0)) {
    rtl_osc_free(o);
    return RTL_SYSTEM_ERROR;
  }

  snprintf(o->description,
           sizeof(o->description),
           "udp%s %s:%u",
           config->tcp ? "+tcp" : "",
           config->bind,
           config->port);
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
    rtl_free(o->config.allocator, o->conns[i].buf);
  }
  const int fds[] = {o->udp_fd, o->tcp_fd, o->quit_fd};
  for (size_t i = 0U; i < sizeof(fds) / sizeof(fds[0]); ++i) {
    if (fds[i] >= 0) {
      close(fds[i]);
    }
  }
  pthread_mutex_destroy(&o->tcp_lock);
  rtl_free(o->config.allocator, o->packet);
  rtl_free(o->config.allocator, o);
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

uint64_t
rtl_osc_refused(const RtlOsc* const o)
{
  return atomic_load_explicit(&o->refused, memory_order_relaxed);
}

bool
rtl_osc_loopback_only(const RtlOsc* const o)
{
  struct sockaddr_storage addr;
  socklen_t               len = sizeof(addr);
  return getsockname(o->udp_fd, (struct sockaddr*)&addr, &len) == 0 &&
         rtl_allow_is_loopback((const struct sockaddr*)&addr);
}

/// Whether `sender` may talk to the daemon; counts it if not.
static bool
sender_allowed(RtlOsc* const o, const struct sockaddr* const sender)
{
  if (rtl_allow_match(o->allow, o->n_allow, sender)) {
    return true;
  }
  atomic_fetch_add_explicit(&o->refused, 1U, memory_order_relaxed);
  return false;
}

// --- sending -----------------------------------------------------------------

/// Send all `size` bytes on `c`, or shut it: a client that does not read
/// gets its connection shut rather than stalling the sender; the TCP
/// thread then reaps it.  Under tcp_lock.
static void
send_whole(const RtlTcpConn* const c,
           const uint8_t* const    bytes,
           const size_t            size)
{
  const ssize_t sent = send(c->fd, bytes, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent != (ssize_t)size) {
    (void)shutdown(c->fd, SHUT_RDWR);
  }
}

/// SLIP-encode `size` bytes into `out`, which holds 2 * size + 2: END, the
/// bytes with END and ESC escaped, END (the leading END flushes any noise
/// the peer received before, as OSC 1.1 recommends).
static size_t
slip_encode(const uint8_t* const in, const size_t size, uint8_t* const out)
{
  size_t n = 0U;
  out[n++] = RTL_SLIP_END;
  for (size_t i = 0U; i < size; ++i) {
    if (in[i] == RTL_SLIP_END || in[i] == RTL_SLIP_ESC) {
      out[n++] = RTL_SLIP_ESC;
      out[n++] = in[i] == RTL_SLIP_END ? RTL_SLIP_ESC_END : RTL_SLIP_ESC_ESC;
    } else {
      out[n++] = in[i];
    }
  }
  out[n++] = RTL_SLIP_END;
  return n;
}

static void
send_slip(RtlOsc* const           o,
          const RtlTcpConn* const c,
          const uint8_t* const    packet,
          const size_t            size)
{
  uint8_t        stack_buf[2048];
  const size_t   need = 2U * size + 2U;
  uint8_t* const out  = need <= sizeof(stack_buf)
                          ? stack_buf
                          : (uint8_t*)rtl_malloc(o->config.allocator, need);
  if (!out) {
    (void)shutdown(c->fd, SHUT_RDWR); // A reply lost would break the stream
    return;
  }
  send_whole(c, out, slip_encode(packet, size, out));
  if (out != stack_buf) {
    rtl_free(o->config.allocator, out);
  }
}

/// Send `size` bytes at `frame + 4`; the 4 bytes before are headroom for
/// the TCP size prefix.
static void
send_bytes(RtlOsc* const           o,
           const RtlOscPeer* const peer,
           uint8_t* const          frame,
           const size_t            size)
{
  if (peer->transport == RTL_PEER_UDP) {
    (void)sendto(o->udp_fd,
                 frame + 4U,
                 size,
                 MSG_DONTWAIT | MSG_NOSIGNAL,
                 &peer->addr.sa,
                 peer->addr_len);
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
  const uint32_t len = htonl((uint32_t)size);
  memcpy(frame, &len, sizeof(len));

  pthread_mutex_lock(&o->tcp_lock);
  const RtlTcpConn* const c = &o->conns[slot];
  if (c->fd >= 0 && c->gen == gen) {
    // A reply answers a packet, so the connection's framing is known.
    if (c->framing == RTL_FRAMING_SLIP) {
      send_slip(o, c, frame + 4U, size);
    } else {
      send_whole(c, frame, size + 4U);
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
                         : (uint8_t*)rtl_malloc(o->config.allocator, len + 4U);
  if (!buf) {
    return;
  }
  size_t size = len;
  if (lo_message_serialise(msg, path, buf + 4U, &size)) {
    send_bytes(o, peer, buf, size);
  }
  if (buf != stack_buf) {
    rtl_free(o->config.allocator, buf);
  }
}

void
rtl_osc_reply_args(RtlOsc* const           o,
                   const RtlOscPeer* const peer,
                   const char* const       path,
                   const char* const       types,
                   ...)
{
  const lo_message msg = lo_message_new();
  if (!msg) {
    return;
  }
  va_list args;
  va_start(args, types);
  const int err = lo_message_add_varargs(msg, types, args);
  va_end(args);
  if (!err) {
    rtl_osc_send(o, peer, path, msg);
  }
  lo_message_free(msg);
}

void
rtl_osc_send_error(RtlOsc* const           o,
                   const RtlOscPeer* const peer,
                   const char* const       request_path,
                   const char* const       reason)
{
  atomic_fetch_add_explicit(&o->rejected, 1U, memory_order_relaxed);
  // An over-long or unterminated path is cut to what the reply can carry.
  char path[RTL_PATH_MAX];
  snprintf(path, sizeof(path), "%s", request_path);
  rtl_osc_reply(o, peer, "/error", "ss", path, reason);
}

// --- UDP thread --------------------------------------------------------------

static void
read_udp(RtlOsc* const o)
{
  for (unsigned burst = 0U; burst < RTL_OSC_UDP_BURST; ++burst) {
    RtlOscPeer peer   = {0};
    peer.transport    = RTL_PEER_UDP;
    peer.addr_len     = sizeof(peer.addr);
    const ssize_t got = recvfrom(o->udp_fd,
                                 o->packet,
                                 RTL_OSC_MAX_PACKET,
                                 MSG_DONTWAIT | MSG_TRUNC,
                                 &peer.addr.sa,
                                 &peer.addr_len);
    if (got < 0) {
      return;
    }
    // Before anything else looks at it, redirections and /error included
    if (!sender_allowed(o, &peer.addr.sa)) {
      continue;
    }
    o->source = peer;
    redirect(o, &peer);
    if ((size_t)got > RTL_OSC_MAX_PACKET) {
      rtl_osc_send_error(o, &peer, "", "packet too large");
      continue;
    }
    rtl_request_packet(&o->request, &peer, o->packet, (size_t)got);
  }
}

static void*
udp_thread(void* const arg)
{
  RtlOsc* const o = (RtlOsc*)arg;
  for (;;) {
    struct pollfd fds[2] = {
      {o->quit_fd, POLLIN, 0},
      {o->udp_fd, POLLIN, 0},
    };
    if (poll(fds, 2U, -1) < 0) {
      continue;
    }
    if (fds[0].revents) {
      return NULL;
    }
    if (fds[1].revents) {
      read_udp(o);
    }
  }
}

// --- TCP thread --------------------------------------------------------------

static void
close_conn(RtlOsc* const o, const unsigned slot)
{
  RtlTcpConn* const c = &o->conns[slot];
  pthread_mutex_lock(&o->tcp_lock);
  close(c->fd);
  c->fd   = -1;
  c->fill = 0U;
  pthread_mutex_unlock(&o->tcp_lock);

  // Its subscriptions go with it.  If the queue is full they stay until a
  // send to the closed connection finds nobody, which is harmless.
  RtlCommand cmd = {0};
  cmd.kind       = RTL_CMD_PEER_GONE;
  cmd.peer       = c->peer;
  (void)rtl_comm_post_command(o->config.queue, o->config.wake, &cmd);
}

static void
accept_conn(RtlOsc* const o)
{
  RtlOscPeer peer = {0};
  peer.addr_len   = sizeof(peer.addr);
  const int fd =
    accept4(o->tcp_fd, &peer.addr.sa, &peer.addr_len, SOCK_CLOEXEC);
  if (fd < 0) {
    return;
  }
  if (!sender_allowed(o, &peer.addr.sa)) {
    close(fd);
    return;
  }
  for (unsigned i = 0U; i < RTL_OSC_MAX_TCP; ++i) {
    RtlTcpConn* const c = &o->conns[i];
    if (c->fd >= 0) {
      continue;
    }
    if (!c->buf && !(c->buf = (uint8_t*)rtl_malloc(o->config.allocator,
                                                   RTL_OSC_MAX_PACKET + 4U))) {
      break;
    }
    pthread_mutex_lock(&o->tcp_lock);
    c->fd = fd;
    ++c->gen;
    c->fill        = 0U;
    c->framing     = RTL_FRAMING_UNKNOWN;
    c->escaped     = false;
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

static uint32_t
load_be32(const uint8_t* const p)
{
  uint32_t v = 0U;
  memcpy(&v, p, sizeof(v));
  return ntohl(v);
}

/// The whole size-prefixed packets in the connection's buffer.
static void
take_sized(RtlOsc* const o, const unsigned slot)
{
  RtlTcpConn* const c   = &o->conns[slot];
  size_t            pos = 0U;
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
    rtl_request_packet(&o->request, &c->peer, c->buf + pos + 4U, len);
    pos += 4U + len;
  }
  memmove(c->buf, c->buf + pos, c->fill - pos);
  c->fill -= pos;
}

/*
  SLIP-framed packets from the `got` bytes just read behind the decoded
  part of the buffer.  They are decoded in place: each byte read yields at
  most one, and a packet's end starts the next one at the front, so the
  decoded bytes never overtake the ones still to be read.
*/
static void
take_slip(RtlOsc* const o, const unsigned slot, const size_t got)
{
  RtlTcpConn* const    c   = &o->conns[slot];
  const uint8_t* const raw = c->buf + c->fill;
  for (size_t i = 0U; i < got; ++i) {
    uint8_t b = raw[i];
    if (b == RTL_SLIP_END) { // Empty frames (the leading END) are no packets
      if (c->fill) {
        rtl_request_packet(&o->request, &c->peer, c->buf, c->fill);
      }
      c->fill    = 0U;
      c->escaped = false;
      continue;
    }
    if (c->escaped) {
      // RFC 1055: a byte other than the two escapes stands for itself.
      b          = b == RTL_SLIP_ESC_END   ? RTL_SLIP_END
                   : b == RTL_SLIP_ESC_ESC ? RTL_SLIP_ESC
                                           : b;
      c->escaped = false;
    } else if (b == RTL_SLIP_ESC) {
      c->escaped = true;
      continue;
    }
    if (c->fill == RTL_OSC_MAX_PACKET) {
      rtl_osc_send_error(o, &c->peer, "", "packet too large");
      close_conn(o, slot);
      return;
    }
    c->buf[c->fill++] = b;
  }
}

static void
read_conn(RtlOsc* const o, const unsigned slot)
{
  RtlTcpConn* const c   = &o->conns[slot];
  const ssize_t     got = recv(
    c->fd, c->buf + c->fill, RTL_OSC_MAX_PACKET + 4U - c->fill, MSG_DONTWAIT);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
    close_conn(o, slot);
    return;
  }
  if (got < 0) {
    return;
  }
  if (c->framing == RTL_FRAMING_UNKNOWN) {
    // A size below 64 KiB starts with a zero byte; a SLIP stream with END,
    // or with a message or bundle when the sender leaves the first END out.
    const uint8_t first = c->buf[0];
    pthread_mutex_lock(&o->tcp_lock);
    c->framing = first == RTL_SLIP_END || first == '/' || first == '#'
                   ? RTL_FRAMING_SLIP
                   : RTL_FRAMING_SIZE;
    pthread_mutex_unlock(&o->tcp_lock);
  }
  if (c->framing == RTL_FRAMING_SLIP) {
    take_slip(o, slot, (size_t)got);
  } else {
    c->fill += (size_t)got;
    take_sized(o, slot);
  }
}

static void*
tcp_thread(void* const arg)
{
  RtlOsc* const o = (RtlOsc*)arg;
  for (;;) {
    struct pollfd fds[2U + RTL_OSC_MAX_TCP];
    unsigned      slot_of[2U + RTL_OSC_MAX_TCP];
    nfds_t        n = 0U;
    fds[n++]        = (struct pollfd){o->quit_fd, POLLIN, 0};
    fds[n++]        = (struct pollfd){o->tcp_fd, POLLIN, 0};
    for (unsigned i = 0U; i < RTL_OSC_MAX_TCP; ++i) {
      if (o->conns[i].fd >= 0) {
        slot_of[n] = i;
        fds[n++]   = (struct pollfd){o->conns[i].fd, POLLIN, 0};
      }
    }

    if (poll(fds, n, -1) < 0) {
      continue;
    }
    if (fds[0].revents) {
      return NULL;
    }
    if (fds[1].revents) {
      accept_conn(o);
    }
    for (nfds_t i = 2U; i < n; ++i) {
      if (fds[i].revents) {
        read_conn(o, slot_of[i]);
      }
    }
  }
}

// --- life cycle --------------------------------------------------------------

RtlStatus
rtl_osc_start(RtlOsc* const o)
{
  if (rtl_thread_start(&o->udp_thread, "rtlane-osc-udp", udp_thread, o)) {
    return RTL_SYSTEM_ERROR;
  }
  o->udp_started = true;
  if (o->tcp_fd >= 0) {
    if (rtl_thread_start(&o->tcp_thread, "rtlane-osc-tcp", tcp_thread, o)) {
      return RTL_SYSTEM_ERROR;
    }
    o->tcp_started = true;
  }
  return RTL_SUCCESS;
}

void
rtl_osc_stop(RtlOsc* const o)
{
  if (!o->udp_started && !o->tcp_started) {
    return;
  }
  // The event stays readable, so one write stops both threads.
  const uint64_t one = 1U;
  (void)!write(o->quit_fd, &one, sizeof(one));
  if (o->udp_started) {
    pthread_join(o->udp_thread, NULL);
    o->udp_started = false;
  }
  if (o->tcp_started) {
    pthread_join(o->tcp_thread, NULL);
    o->tcp_started = false;
  }
}
