// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "client.h"

#include "output.h"

#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/// Room for a burst of replies (a /list of 64 channels is ~300 datagrams)
/// while this process is busy printing.
#define RTL_CTL_RCVBUF (1024 * 1024)

/// liblo reports its errors through a handler without user data: the last
/// one is kept to explain a server that could not be made.
static char last_lo_error[160];

RtlCtlExit
rtl_ctl_fail(const RtlCtlExit code, const char* const fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  fputs("rtlane-ctl: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
  return code;
}

int64_t
rtl_ctl_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_lo_error(const int num, const char* const msg, const char* const where)
{
  (void)num;
  (void)where;
  snprintf(last_lo_error, sizeof(last_lo_error), "%s", msg ? msg : "");
}

// --- replies -----------------------------------------------------------------

/// IPv4 sources may show up as IPv6-mapped addresses: compare the IPv4 part.
static const char*
unmapped(const char* const host)
{
  return strncmp(host, "::ffff:", 7) ? host : host + 7;
}

/**
   True if `msg` came from the daemon.  liblo listens on every interface, so
   anyone could send us a datagram (or connect over TCP): only the daemon's
   address and port are believed.
*/
static bool
from_daemon(const RtlCtlClient* const c, const lo_message msg)
{
  const lo_address src = lo_message_get_source(msg);
  if (!src || !c->n_hosts) {
    return true;
  }
  const char* const host = lo_address_get_hostname(src);
  const char* const port = lo_address_get_port(src);
  if (!host || !port || strcmp(port, c->opts.port)) {
    return false;
  }
  for (unsigned i = 0U; i < c->n_hosts; ++i) {
    if (!strcmp(unmapped(host), c->hosts[i])) {
      return true;
    }
  }
  return false;
}

/// Bytes of the strings a reply carries, each with its terminator.
static size_t
text_size(const char* const path,
          const char* const types,
          lo_arg** const    argv,
          const int         argc)
{
  size_t size = strlen(path) + strlen(types) + 2U;
  for (int i = 0; i < argc; ++i) {
    if (types[i] == 's' || types[i] == 'S') {
      size += strlen((const char*)(const void*)argv[i]) + 1U;
    }
  }
  return size;
}

static char*
copy_text(char* const dest, const char* const src)
{
  const size_t len = strlen(src) + 1U;
  memcpy(dest, src, len);
  return dest + len;
}

/// Decode one argument; memcpy, because arguments are only 4-byte aligned.
static char*
decode_arg(RtlCtlArg* const arg, const lo_arg* const src, char* const text)
{
  const void* const p   = (const void*)src;
  int32_t           i32 = 0;
  float             f32 = 0.0f;
  switch (arg->type) {
  case 'i':
  case 'c':
  case 'b': // a blob: its size
    memcpy(&i32, p, sizeof(i32));
    arg->i = i32;
    break;
  case 'h':
  case 't':
  case 'm':
    memcpy(&arg->i, p, arg->type == 'm' ? 4U : sizeof(arg->i));
    break;
  case 'f':
    memcpy(&f32, p, sizeof(f32));
    arg->f = (double)f32;
    break;
  case 'd':
    memcpy(&arg->f, p, sizeof(arg->f));
    break;
  case 's':
  case 'S':
    arg->s = text;
    return copy_text(text, (const char*)p);
  case 'T':
    arg->i = 1;
    break;
  default: // F N I: nothing to read
    break;
  }
  return text;
}

static RtlCtlReply*
reply_new(const char* const path,
          const char* const types,
          lo_arg** const    argv,
          const int         argc)
{
  const size_t       n    = (size_t)argc;
  const size_t       head = sizeof(RtlCtlReply) + n * sizeof(RtlCtlArg);
  RtlCtlReply* const r =
    (RtlCtlReply*)calloc(1U, head + text_size(path, types, argv, argc));
  if (!r) {
    return NULL;
  }
  r->argc    = argc;
  r->argv    = (RtlCtlArg*)(void*)(r + 1);
  char* text = (char*)r + head;
  r->path    = text;
  text       = copy_text(text, path);
  r->types   = text;
  text       = copy_text(text, types);
  for (size_t i = 0U; i < n; ++i) {
    r->argv[i].type = types[i];
    text            = decode_arg(&r->argv[i], argv[i], text);
  }
  return r;
}

static int
on_message(const char* const path,
           const char* const types,
           lo_arg** const    argv,
           const int         argc,
           const lo_message  msg,
           void* const       data)
{
  RtlCtlClient* const c = (RtlCtlClient*)data;
  if (!from_daemon(c, msg)) {
    return 0;
  }
  // Out of memory, a reply is lost; the wait for it then times out.
  RtlCtlReply* const r = reply_new(path, types ? types : "", argv, argc);
  if (r) {
    if (c->tail) {
      c->tail->next = r;
    } else {
      c->head = r;
    }
    c->tail = r;
  }
  return 0;
}

static RtlCtlReply*
pop(RtlCtlClient* const c)
{
  RtlCtlReply* const r = c->head;
  if (r) {
    c->head = r->next;
    if (!c->head) {
      c->tail = NULL;
    }
    r->next = NULL;
  }
  return r;
}

// --- opening -----------------------------------------------------------------

/// The daemon's addresses as numbers, to recognise its replies.
static RtlCtlExit
resolve(RtlCtlClient* const c)
{
  struct addrinfo hints = {0};
  hints.ai_family       = AF_UNSPEC;
  hints.ai_socktype     = c->opts.tcp ? SOCK_STREAM : SOCK_DGRAM;
  struct addrinfo* res  = NULL;
  const int        gai  = getaddrinfo(c->opts.host, c->opts.port, &hints, &res);
  if (gai) {
    return rtl_ctl_fail(
      RTL_CTL_FAILED, "cannot resolve %s: %s", c->opts.host, gai_strerror(gai));
  }
  for (const struct addrinfo* ai = res; ai && c->n_hosts < 8U;
       ai                        = ai->ai_next) {
    char host[64];
    if (!getnameinfo(ai->ai_addr,
                     ai->ai_addrlen,
                     host,
                     sizeof(host),
                     NULL,
                     0U,
                     NI_NUMERICHOST)) {
      snprintf(
        c->hosts[c->n_hosts++], sizeof(c->hosts[0]), "%s", unmapped(host));
    }
  }
  freeaddrinfo(res);
  return RTL_CTL_OK;
}

RtlCtlExit
rtl_ctl_open(RtlCtlClient* const c, const RtlCtlOptions* const opts)
{
  memset(c, 0, sizeof(*c));
  c->opts          = *opts;
  const int  proto = opts->tcp ? LO_TCP : LO_UDP;
  RtlCtlExit st    = resolve(c);
  if (st) {
    return st;
  }
  c->server = lo_server_new_with_proto(opts->reply_port, proto, on_lo_error);
  if (!c->server) {
    return opts->reply_port
             ? rtl_ctl_fail(RTL_CTL_FAILED,
                            "cannot receive on %s port %s (in use?)",
                            opts->tcp ? "TCP" : "UDP",
                            opts->reply_port)
             : rtl_ctl_fail(RTL_CTL_FAILED,
                            "cannot open a %s socket: %s",
                            opts->tcp ? "TCP" : "UDP",
                            last_lo_error[0] ? last_lo_error : "liblo failed");
  }
  // A bundle's messages are handed over at once, whatever its time tag.
  lo_server_enable_queue(c->server, 0, 1);
  lo_server_add_method(c->server, NULL, NULL, on_message, c);
  const int fd  = lo_server_get_socket_fd(c->server);
  const int buf = RTL_CTL_RCVBUF;
  if (!opts->tcp && fd >= 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf))) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  }
  c->target = lo_address_new_with_proto(proto, opts->host, opts->port);
  if (!c->target) {
    st = rtl_ctl_fail(RTL_CTL_FAILED, "cannot address %s", opts->host);
  }
  return st;
}

void
rtl_ctl_close(RtlCtlClient* const c)
{
  RtlCtlReply* r = NULL;
  while ((r = pop(c))) {
    free(r);
  }
  if (c->target) {
    lo_address_free(c->target);
  }
  if (c->server) {
    lo_server_free(c->server);
  }
  c->target = NULL;
  c->server = NULL;
}

// --- sending -----------------------------------------------------------------

RtlCtlExit
rtl_ctl_send(RtlCtlClient* const c, const char* const path, lo_message msg)
{
  if (lo_send_message_from(c->target, c->server, path, msg) >= 0) {
    return RTL_CTL_OK;
  }
  // Over TCP a refused connection means nobody listens: no answer.
  return rtl_ctl_fail(c->opts.tcp ? RTL_CTL_NO_ANSWER : RTL_CTL_FAILED,
                      "cannot send to %s:%s%s: %s",
                      c->opts.host,
                      c->opts.port,
                      c->opts.tcp ? " over TCP" : "",
                      lo_address_errstr(c->target));
}

RtlCtlExit
rtl_ctl_send_s(RtlCtlClient* const c,
               const char* const   path,
               const char* const   s)
{
  const lo_message msg = lo_message_new();
  if (!msg) {
    return rtl_ctl_fail(RTL_CTL_FAILED, "out of memory");
  }
  if (s) {
    lo_message_add_string(msg, s);
  }
  const RtlCtlExit st = rtl_ctl_send(c, path, msg);
  lo_message_free(msg);
  return st;
}

RtlCtlExit
rtl_ctl_send_sync(RtlCtlClient* const c)
{
  const lo_message msg = lo_message_new();
  if (!msg) {
    return rtl_ctl_fail(RTL_CTL_FAILED, "out of memory");
  }
  lo_message_add_int32(msg, ++c->sync_id);
  const RtlCtlExit st = rtl_ctl_send(c, "/sync", msg);
  lo_message_free(msg);
  return st;
}

bool
rtl_ctl_is_synced(const RtlCtlClient* const c, const RtlCtlReply* const reply)
{
  return rtl_ctl_is(reply, "/synced", "i") && reply->argv[0].i == c->sync_id;
}

// --- receiving ---------------------------------------------------------------

bool
rtl_ctl_is(const RtlCtlReply* const reply,
           const char* const        path,
           const char* const        types)
{
  return !strcmp(reply->path, path) && (!types || !strcmp(reply->types, types));
}

RtlCtlExit
rtl_ctl_refused(const RtlCtlClient* const c, const RtlCtlReply* const reply)
{
  if (c->opts.json) {
    rtl_ctl_print_json(stdout, reply);
    fflush(stdout);
  }
  if (rtl_ctl_is(reply, "/error", "ss") && reply->argv[0].s[0]) {
    return rtl_ctl_fail(
      RTL_CTL_REFUSED, "%s: %s", reply->argv[0].s, reply->argv[1].s);
  }
  return rtl_ctl_fail(RTL_CTL_REFUSED,
                      "%s",
                      reply->argc > 1 && reply->argv[1].type == 's'
                        ? reply->argv[1].s
                        : "the daemon answered /error");
}

RtlCtlExit
rtl_ctl_no_answer(const RtlCtlClient* const c)
{
  return rtl_ctl_fail(RTL_CTL_NO_ANSWER,
                      "no answer from %s:%s%s within %ld ms",
                      c->opts.host,
                      c->opts.port,
                      c->opts.tcp ? " (TCP)" : "",
                      c->opts.timeout_ms);
}

/// Receive for at most `ms` (stops at the first message).
static void
receive(RtlCtlClient* const c, const int64_t ms)
{
  lo_server_recv_noblock(c->server, ms > INT_MAX ? INT_MAX : (int)ms);
}

RtlCtlReply*
rtl_ctl_next(RtlCtlClient* const c, const int timeout_ms)
{
  if (!c->head) {
    receive(c, timeout_ms);
  }
  return pop(c);
}

RtlCtlExit
rtl_ctl_wait(RtlCtlClient* const c, const RtlCtlMatch match, void* const data)
{
  int64_t deadline = rtl_ctl_now_ms() + c->opts.timeout_ms;
  for (;;) {
    RtlCtlReply* const r = pop(c);
    if (!r) {
      const int64_t left = deadline - rtl_ctl_now_ms();
      if (left <= 0) {
        return rtl_ctl_no_answer(c);
      }
      receive(c, left);
      continue;
    }
    if (rtl_ctl_is(r, "/error", NULL)) {
      const RtlCtlExit st = rtl_ctl_refused(c, r);
      free(r);
      return st;
    }
    const RtlCtlVerdict v = match(data, r);
    if (v != RTL_CTL_KEEP) {
      free(r);
    }
    if (v == RTL_CTL_DONE) {
      return RTL_CTL_OK;
    }
    if (v != RTL_CTL_SKIP) {
      deadline = rtl_ctl_now_ms() + c->opts.timeout_ms;
    }
  }
}

static RtlCtlVerdict
match_synced(void* const data, RtlCtlReply* const reply)
{
  return rtl_ctl_is_synced((const RtlCtlClient*)data, reply) ? RTL_CTL_DONE
                                                             : RTL_CTL_SKIP;
}

RtlCtlExit
rtl_ctl_sync(RtlCtlClient* const c)
{
  const RtlCtlExit st = rtl_ctl_send_sync(c);
  return st ? st : rtl_ctl_wait(c, match_synced, c);
}
