// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-osc: an OSC client for the integration tests.  Unlike oscsend it sends
// from a UDP socket it also listens on, so the daemon's replies (which go to
// the source address of the request) come back to it and are printed, one
// line each: `/path types arg arg...`.  One run can send several messages,
// bundles, raw or random datagrams, and listen in between, all from the same
// socket, so ordering (/sync) and subscriptions can be tested.

#define _POSIX_C_SOURCE 200809L

#include <lo/lo.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define RTL_OSC_EXIT_TIMEOUT 1
#define RTL_OSC_EXIT_USAGE 2
#define RTL_OSC_EXIT_SEND 3

typedef struct {
  lo_server   server;
  lo_address  target;
  long        n_replies;
  const char* until_line; // -u: the run ends after a reply printed so
  bool        until_seen;
  const char* wait_line; // the line the current @wait waits for
  bool        wait_seen;
  char**      lines; // every reply so far, so an @wait also sees earlier ones
  size_t      n_lines;
  size_t      cap_lines;
  size_t      wait_from; // replies before this index were consumed by an @wait
  bool        quiet;
  uint64_t    rng;
  struct sockaddr_storage raw_addr; // the target, for raw datagrams
  socklen_t               raw_addr_len;
} RtlOscClient;

static void
usage(FILE* const out)
{
  fputs(
    "usage: rtl-osc -p PORT [-H HOST] [-T] [-t TIMEOUT_MS] [-n N] [-u LINE]"
    " [-S SEED] [-q] ITEM...\n"
    "       rtl-osc -B ADDR -p PORT [-H HOST] [-T] [-t TIMEOUT_MS] [-n N] /path"
    " [TYPES [ARG...]]\n"
    "Sends OSC from a socket it also listens on and prints every reply as\n"
    "one line: /path types arg...\n"
    "\n"
    "  -p PORT        daemon's OSC port\n"
    "  -H HOST        daemon's host (default 127.0.0.1)\n"
    "  -B ADDR        send one message from a UDP socket bound to ADDR (an\n"
    "                 IPv4 address of this machine: 127.0.0.2 is a sender\n"
    "                 other than 127.0.0.1) and print its replies (with -T\n"
    "                 over a connection from ADDR)\n"
    "  -T             OSC over TCP (replies come back on the connection);\n"
    "                 @raw and @garbage stay UDP datagrams\n"
    "  -t TIMEOUT_MS  how long to wait for replies at the end and for @wait"
    " (default 2000)\n"
    "  -n N           wait for N replies in all (default 1, or 0 when the items"
    "\n                 contain @listen or @wait or -u is given)\n"
    "  -u LINE        wait until a reply prints LINE (exactly, or as a glob)\n"
    "  -S SEED        seed for @garbage (default 1)\n"
    "  -q             count replies but do not print them\n"
    "\n"
    "ITEM:\n"
    "  /path [TYPES [ARG...]]  a message; TYPES from i h f d s S c T F N I,"
    " '-' for none\n"
    "  @bundle TAG     the following messages go into one bundle until @end;\n"
    "                  TAG: now | +SEC | -SEC (relative to now) | SEC:FRAC"
    " (NTP)\n"
    "  @end            send the open bundle\n"
    "  @burst K MSG    send message MSG K times as fast as possible\n"
    "  @listen SEC     receive and print replies for SEC seconds\n"
    "  @wait LINE      receive until a reply prints LINE (exactly, or as a "
    "glob;\n"
    "                  earlier replies since the last @wait count too)\n"
    "  @mark TEXT      print TEXT as a line (to split phases in the output)\n"
    "  @raw HEX        send these bytes as one datagram\n"
    "  @garbage N      send N random, mostly malformed datagrams\n"
    "\n"
    "Exit status: 0 ok, 1 timeout, 2 usage, 3 send error.\n",
    out);
}

static double
now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Renders a message the way it is printed, so -u and @wait compare lines.
static void
format_reply(char* const       line,
             const size_t      size,
             const char* const path,
             const char* const types,
             lo_arg** const    argv,
             const int         argc)
{
  size_t len = 0U;
  int    n   = snprintf(line, size, "%s", path);
  len        = n > 0 ? (size_t)n : 0U;
  if (argc > 0) {
    n = snprintf(line + len, size - len, " %s", types);
    len += n > 0 ? (size_t)n : 0U;
  }
  for (int i = 0; i < argc && len < size - 1U; ++i) {
    // Arguments sit at 4-byte offsets in the packet: a lo_arg member access
    // could be misaligned (undefined behaviour), so copy the bytes out.
    const unsigned char* const a    = (const unsigned char*)argv[i];
    const size_t               room = size - len;
    int32_t                    i32  = 0;
    int64_t                    i64  = 0;
    float                      f32  = 0.0f;
    double                     f64  = 0.0;
    uint32_t                   u[2] = {0U, 0U};
    switch (types[i]) {
    case LO_INT32:
      memcpy(&i32, a, sizeof(i32));
      n = snprintf(line + len, room, " %" PRId32, i32);
      break;
    case LO_INT64:
      memcpy(&i64, a, sizeof(i64));
      n = snprintf(line + len, room, " %" PRId64, i64);
      break;
    case LO_FLOAT:
      memcpy(&f32, a, sizeof(f32));
      n = snprintf(line + len, room, " %g", (double)f32);
      break;
    case LO_DOUBLE:
      memcpy(&f64, a, sizeof(f64));
      n = snprintf(line + len, room, " %g", f64);
      break;
    case LO_STRING:
    case LO_SYMBOL:
      n = snprintf(line + len, room, " %s", (const char*)a);
      break;
    case LO_CHAR:
      memcpy(&i32, a, sizeof(i32));
      n = snprintf(line + len, room, " %c", (char)i32);
      break;
    case LO_MIDI:
      n =
        snprintf(line + len, room, " %02x%02x%02x%02x", a[0], a[1], a[2], a[3]);
      break;
    case LO_TIMETAG:
      memcpy(u, a, sizeof(u));
      n = snprintf(line + len, room, " %" PRIu32 ":%" PRIu32, u[0], u[1]);
      break;
    case LO_BLOB:
      memcpy(&i32, a, sizeof(i32));
      n = snprintf(line + len, room, " blob:%" PRId32, i32);
      break;
    default: // T F N I carry no data: the type string shows them
      n = 0;
      break;
    }
    len += n > 0 ? (size_t)n : 0U;
    if (len >= size) {
      len = size - 1U;
    }
  }
  line[len] = '\0';
}

// A reply line matches a pattern when they are equal or the pattern, as a
// shell glob, matches it: "/meters ffff * * -inf -inf".
static bool
line_matches(const char* const line, const char* const pattern)
{
  return !strcmp(line, pattern) || fnmatch(pattern, line, 0) == 0;
}

static int
on_reply(const char* const path,
         const char* const types,
         lo_arg** const    argv,
         const int         argc,
         lo_message const  msg,
         void* const       user_data)
{
  RtlOscClient* const c = (RtlOscClient*)user_data;
  (void)msg;
  char line[8192];
  format_reply(line, sizeof(line), path, types, argv, argc);
  ++c->n_replies;
  if (!c->quiet) {
    puts(line);
  }
  if (c->until_line && line_matches(line, c->until_line)) {
    c->until_seen = true;
  }
  if (c->wait_line && line_matches(line, c->wait_line)) {
    c->wait_seen = true;
  }
  if (c->n_lines == c->cap_lines) {
    const size_t cap   = c->cap_lines ? 2U * c->cap_lines : 256U;
    char** const grown = (char**)realloc(c->lines, cap * sizeof(char*));
    if (!grown) {
      return 0;
    }
    c->lines     = grown;
    c->cap_lines = cap;
  }
  c->lines[c->n_lines] = strdup(line);
  if (c->lines[c->n_lines]) {
    ++c->n_lines;
  }
  return 0;
}

static void
on_server_error(const int num, const char* const msg, const char* const where)
{
  // `where` may be the first bytes of a malformed packet: keep it printable.
  char   clean[64];
  size_t n = 0U;
  for (const char* p = where; p && *p && n < sizeof(clean) - 1U; ++p) {
    clean[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
  }
  clean[n] = '\0';
  fprintf(
    stderr, "rtl-osc: liblo error %d: %s (%s)\n", num, msg ? msg : "", clean);
}

// Receives for at most `seconds`, returning early once `done` holds.
static void
receive_for(RtlOscClient* const c,
            const double        seconds,
            bool (*const done)(const RtlOscClient*))
{
  const double end = now_seconds() + seconds;
  for (;;) {
    if (done && done(c)) {
      return;
    }
    const double left = end - now_seconds();
    if (left <= 0.0) {
      return;
    }
    const int ms = left > 0.05 ? 50 : (int)(left * 1000.0) + 1;
    lo_server_recv_noblock(c->server, ms);
  }
}

static void
drain(RtlOscClient* const c)
{
  while (lo_server_recv_noblock(c->server, 0) > 0) {
  }
}

static bool
is_types(const char* const s)
{
  if (!strcmp(s, "-")) {
    return true;
  }
  for (const char* p = s; *p; ++p) {
    if (!strchr("ihfdsScTFNImtb", *p)) {
      return false;
    }
  }
  return true;
}

// Builds one message from argv[*i] on; advances *i past it.
static lo_message
parse_message(const int    argc,
              char** const argv,
              int* const   i,
              const char** path)
{
  *path = argv[*i];
  ++*i;
  const char* types = "";
  if (*i < argc && argv[*i][0] != '/' && argv[*i][0] != '@') {
    if (!is_types(argv[*i])) {
      fprintf(stderr, "rtl-osc: bad type string '%s'\n", argv[*i]);
      return NULL;
    }
    types = strcmp(argv[*i], "-") ? argv[*i] : "";
    ++*i;
  } else if (*i < argc && !strcmp(argv[*i], "")) {
    ++*i;
  }
  lo_message const m = lo_message_new();
  for (const char* t = types; *t; ++t) {
    const bool needs_arg = !strchr("TFNI", *t);
    if (needs_arg && *i >= argc) {
      fprintf(stderr, "rtl-osc: %s: missing argument for '%c'\n", *path, *t);
      lo_message_free(m);
      return NULL;
    }
    const char* const a = needs_arg ? argv[(*i)++] : NULL;
    switch (*t) {
    case 'i':
      lo_message_add_int32(m, (int32_t)strtol(a, NULL, 0));
      break;
    case 'h':
      lo_message_add_int64(m, (int64_t)strtoll(a, NULL, 0));
      break;
    case 'f':
      lo_message_add_float(m, strtof(a, NULL));
      break;
    case 'd':
      lo_message_add_double(m, strtod(a, NULL));
      break;
    case 's':
      lo_message_add_string(m, a);
      break;
    case 'S':
      lo_message_add_symbol(m, a);
      break;
    case 'c':
      lo_message_add_char(m, a[0]);
      break;
    case 'm': {
      uint8_t             midi[4] = {0U, 0U, 0U, 0U};
      const unsigned long v       = strtoul(a, NULL, 16);
      midi[0]                     = (uint8_t)(v >> 24U);
      midi[1]                     = (uint8_t)(v >> 16U);
      midi[2]                     = (uint8_t)(v >> 8U);
      midi[3]                     = (uint8_t)v;
      lo_message_add_midi(m, midi);
      break;
    }
    case 't': {
      lo_timetag tt           = {0U, 0U};
      tt.sec                  = (uint32_t)strtoul(a, NULL, 0);
      const char* const colon = strchr(a, ':');
      tt.frac = colon ? (uint32_t)strtoul(colon + 1, NULL, 0) : 0U;
      lo_message_add_timetag(m, tt);
      break;
    }
    case 'b': {
      const size_t  len = strlen(a);
      lo_blob const b   = lo_blob_new((int32_t)len, a);
      lo_message_add_blob(m, b);
      lo_blob_free(b);
      break;
    }
    case 'T':
      lo_message_add_true(m);
      break;
    case 'F':
      lo_message_add_false(m);
      break;
    case 'N':
      lo_message_add_nil(m);
      break;
    case 'I':
      lo_message_add_infinitum(m);
      break;
    default:
      break;
    }
  }
  return m;
}

static bool
parse_timetag(const char* const s, lo_timetag* const tt)
{
  if (!strcmp(s, "now") || !strcmp(s, "immediate")) {
    *tt = LO_TT_IMMEDIATE;
    return true;
  }
  if (s[0] == '+' || s[0] == '-') {
    char*        end = NULL;
    const double rel = strtod(s, &end);
    if (end == s || *end) {
      return false;
    }
    lo_timetag now;
    lo_timetag_now(&now);
    const double ntp = (double)now.sec + (double)now.frac / 4294967296.0 + rel;
    tt->sec          = (uint32_t)floor(ntp);
    tt->frac         = (uint32_t)((ntp - floor(ntp)) * 4294967296.0);
    return true;
  }
  const char* const colon = strchr(s, ':');
  if (!colon) {
    return false;
  }
  tt->sec  = (uint32_t)strtoul(s, NULL, 0);
  tt->frac = (uint32_t)strtoul(colon + 1, NULL, 0);
  return true;
}

static uint64_t
next_random(RtlOscClient* const c)
{
  // xorshift64*: reproducible from the seed, good enough for junk bytes.
  c->rng ^= c->rng >> 12U;
  c->rng ^= c->rng << 25U;
  c->rng ^= c->rng >> 27U;
  return c->rng * 2685821657736338717ULL;
}

static int
send_raw(RtlOscClient* const c, const void* const data, const size_t size)
{
  const int fd = lo_server_get_socket_fd(c->server);
  if (fd < 0 || c->raw_addr_len == 0U) {
    return -1;
  }
  const ssize_t n = sendto(
    fd, data, size, 0, (const struct sockaddr*)&c->raw_addr, c->raw_addr_len);
  return n == (ssize_t)size ? 0 : -1;
}

// Datagrams shaped to get past the first checks of an OSC parser: random
// bytes, messages with broken type tags or truncated arguments, bundles
// with lying element sizes.
static int
send_garbage(RtlOscClient* const c, const long count)
{
  static const char* const heads[] = {
    "/ch/1/gain\0\0,f\0\0",
    "/ch/1/gain\0\0,s\0\0",
    "/sync\0\0\0,iii",
    "/get\0\0\0\0,s\0\0/ch/1/",
    "/subscribe\0\0,si\0meters",
    "#bundle\0\0\0\0\0\0\0\0\x01\x7f\xff\xff\xff/ch",
    "#bundle\0\0\0\0\0\0\0\0\x01\0\0\0\x10",
    "/\0\0\0,\0\0\0",
    ",,,,",
  };
  static const size_t head_lens[] = {16U, 16U, 12U, 20U, 22U, 24U, 20U, 8U, 4U};
  unsigned char       buf[1500];
  for (long k = 0; k < count; ++k) {
    const uint64_t r   = next_random(c);
    size_t         len = 1U + (size_t)(r % sizeof(buf));
    for (size_t j = 0U; j < len; ++j) {
      buf[j] = (unsigned char)(next_random(c) >> 56U);
    }
    const size_t kind = (size_t)((r >> 20U) % 12U);
    if (kind < sizeof(heads) / sizeof(heads[0])) {
      const size_t hl = head_lens[kind];
      if (len < hl) {
        len = hl + (size_t)((r >> 40U) % 16U);
      }
      memcpy(buf, heads[kind], hl);
      if ((r >> 50U) % 2U) {
        len = (len + 3U) & ~(size_t)3U; // aligned, to reach deeper checks
      }
      if (len > sizeof(buf)) {
        len = sizeof(buf);
      }
    }
    if (send_raw(c, buf, len) != 0) {
      perror("rtl-osc: sendto");
      return -1;
    }
    drain(c);
  }
  return 0;
}

static int
send_hex(RtlOscClient* const c, const char* const hex)
{
  unsigned char buf[65536];
  size_t        len = 0U;
  for (const char* p = hex; *p && len < sizeof(buf);) {
    if (*p == ' ' || *p == ':') {
      ++p;
      continue;
    }
    unsigned v = 0U;
    if (sscanf(p, "%2x", &v) != 1) {
      fprintf(stderr, "rtl-osc: bad hex '%s'\n", hex);
      return -1;
    }
    buf[len++] = (unsigned char)v;
    p += p[1] ? 2 : 1;
  }
  return send_raw(c, buf, len);
}

static int
resolve(const char* const host, const char* const port, RtlOscClient* const c)
{
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family      = AF_INET;
  hints.ai_socktype    = SOCK_DGRAM;
  struct addrinfo* res = NULL;
  if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
    return -1;
  }
  memcpy(&c->raw_addr, res->ai_addr, res->ai_addrlen);
  c->raw_addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

static bool
wait_done(const RtlOscClient* const c)
{
  return c->wait_seen;
}

static long g_want_replies;

static bool
replies_done(const RtlOscClient* const c)
{
  return c->n_replies >= g_want_replies && (!c->until_line || c->until_seen);
}

/*
  -B: one message from a socket bound to `from` (liblo's own sockets bind
  to every interface, so a sender's address cannot be chosen through
  them).  Replies are read from the same socket until `want` have come or
  the time is up.  Returns the exit status.
*/
static int
send_from(RtlOscClient* const c,
          const char* const   from,
          const bool          tcp,
          const char* const   host,
          const char* const   port,
          const long          timeout_ms,
          const long          want,
          const int           argc,
          char** const        argv,
          int                 i)
{
  const char* path = NULL;
  lo_message  m    = parse_message(argc, argv, &i, &path);
  if (!m || i < argc) {
    fprintf(stderr, "rtl-osc: -B sends exactly one message\n");
    if (m) {
      lo_message_free(m);
    }
    return RTL_OSC_EXIT_USAGE;
  }
  struct sockaddr_in src;
  struct sockaddr_in dst;
  memset(&src, 0, sizeof(src));
  memset(&dst, 0, sizeof(dst));
  src.sin_family = AF_INET;
  dst.sin_family = AF_INET;
  dst.sin_port   = htons((uint16_t)strtoul(port, NULL, 10));
  if (inet_pton(AF_INET, from, &src.sin_addr) != 1 ||
      inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
    fprintf(stderr, "rtl-osc: -B and -H take IPv4 addresses\n");
    lo_message_free(m);
    return RTL_OSC_EXIT_USAGE;
  }
  // TCP: OSC 1.0 framing, a 32-bit big-endian size before the packet
  static uint8_t buf[65536];
  size_t         len = sizeof(buf) - 4U;
  const int      fd  = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  bool ok = fd >= 0 && !bind(fd, (const struct sockaddr*)&src, sizeof(src)) &&
            lo_message_serialise(m, path, buf + 4U, &len);
  lo_message_free(m);
  if (ok && tcp) {
    const uint32_t be = htonl((uint32_t)len);
    memcpy(buf, &be, 4U);
    ok = !connect(fd, (const struct sockaddr*)&dst, sizeof(dst)) &&
         send(fd, buf, len + 4U, MSG_NOSIGNAL) == (ssize_t)(len + 4U);
  } else if (ok) {
    ok =
      sendto(fd, buf + 4U, len, 0, (const struct sockaddr*)&dst, sizeof(dst)) ==
      (ssize_t)len;
  }
  if (!ok) {
    fprintf(
      stderr, "rtl-osc: cannot send from %s: %s\n", from, strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return RTL_OSC_EXIT_SEND;
  }

  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  size_t fill = 0U; // TCP: bytes of the next frame so far
  while (c->n_replies < want) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const long    left = timeout_ms - ((t1.tv_sec - t0.tv_sec) * 1000L +
                                    (t1.tv_nsec - t0.tv_nsec) / 1000000L);
    struct pollfd pfd  = {fd, POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1U, (int)left) <= 0) {
      break;
    }
    const uint8_t* packet = buf;
    size_t         size   = 0U;
    if (tcp) {
      const ssize_t got = recv(fd, buf + fill, sizeof(buf) - fill, 0);
      if (got <= 0) {
        fprintf(stderr, "rtl-osc: the connection was closed\n");
        break;
      }
      fill += (size_t)got;
      uint32_t be = 0U;
      if (fill < 4U || (memcpy(&be, buf, 4U), fill < 4U + ntohl(be))) {
        continue;
      }
      packet = buf + 4U;
      size   = ntohl(be);
      fill   = 0U; // One reply per request: nothing follows it
    } else {
      const ssize_t got = recv(fd, buf, sizeof(buf), 0);
      size              = got > 0 ? (size_t)got : 0U;
    }
    int              err = 0;
    const lo_message r =
      size ? lo_message_deserialise((void*)(uintptr_t)packet, size, &err)
           : NULL;
    if (r) {
      on_reply((const char*)packet,
               lo_message_get_types(r),
               lo_message_get_argv(r),
               lo_message_get_argc(r),
               r,
               c);
      lo_message_free(r);
    }
  }
  close(fd);
  return c->n_replies >= want ? 0 : RTL_OSC_EXIT_TIMEOUT;
}

int
main(int argc, char** argv)
{
  const char*  port       = NULL;
  const char*  host       = "127.0.0.1";
  long         timeout_ms = 2000;
  long         want       = -1;
  const char*  until      = NULL;
  const char*  from       = NULL;
  RtlOscClient c;
  memset(&c, 0, sizeof(c));
  c.rng = 1U;

  int proto = LO_UDP;
  int opt   = 0;
  while ((opt = getopt(argc, argv, "+p:H:B:t:n:u:S:qTh")) != -1) {
    switch (opt) {
    case 'B':
      from = optarg;
      break;
    case 'p':
      port = optarg;
      break;
    case 'H':
      host = optarg;
      break;
    case 't':
      timeout_ms = strtol(optarg, NULL, 10);
      break;
    case 'n':
      want = strtol(optarg, NULL, 10);
      break;
    case 'u':
      until = optarg;
      break;
    case 'S':
      c.rng = strtoull(optarg, NULL, 0) | 1U;
      break;
    case 'q':
      c.quiet = true;
      break;
    case 'T':
      proto = LO_TCP;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return RTL_OSC_EXIT_USAGE;
    }
  }
  if (!port || optind >= argc || timeout_ms < 0) {
    usage(stderr);
    return RTL_OSC_EXIT_USAGE;
  }
  if (want < 0) {
    want = until ? 0 : 1;
    for (int i = optind; i < argc; ++i) {
      if (!strcmp(argv[i], "@listen") || !strcmp(argv[i], "@wait")) {
        want = 0;
      }
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (from) {
    return send_from(&c,
                     from,
                     proto == LO_TCP,
                     host,
                     port,
                     timeout_ms,
                     want,
                     argc,
                     argv,
                     optind);
  }

  c.server = lo_server_new_with_proto(NULL, proto, on_server_error);
  c.target = lo_address_new_with_proto(proto, host, port);
  if (!c.server || !c.target) {
    fprintf(stderr, "rtl-osc: cannot open a UDP socket\n");
    return RTL_OSC_EXIT_SEND;
  }
  // Bundles addressed to us are not expected, but never hold messages back.
  lo_server_enable_queue(c.server, 0, 1);
  lo_server_add_method(c.server, NULL, NULL, on_reply, &c);
  c.until_line = until;
  if (resolve(host, port, &c) != 0) {
    fprintf(stderr, "rtl-osc: cannot resolve %s:%s\n", host, port);
    return RTL_OSC_EXIT_SEND;
  }

  const double timeout_s = (double)timeout_ms / 1000.0;
  int          status    = 0;
  lo_bundle    bundle    = NULL;
  size_t       n_pending = 0U; // messages in the open bundle, which owns them

  for (int i = optind; i < argc && status == 0;) {
    const char* const item = argv[i];
    if (item[0] == '/') {
      const char*      path = NULL;
      lo_message const m    = parse_message(argc, argv, &i, &path);
      if (!m) {
        status = RTL_OSC_EXIT_USAGE;
        break;
      }
      if (bundle) {
        if (n_pending == 1024U) {
          fprintf(stderr, "rtl-osc: too many messages in a bundle\n");
          lo_message_free(m);
          status = RTL_OSC_EXIT_USAGE;
          break;
        }
        lo_bundle_add_message(bundle, path, m);
        ++n_pending;
      } else {
        if (lo_send_message_from(c.target, c.server, path, m) < 0) {
          fprintf(stderr,
                  "rtl-osc: send %s: %s\n",
                  path,
                  lo_address_errstr(c.target));
          status = RTL_OSC_EXIT_SEND;
        }
        lo_message_free(m);
        drain(&c);
      }
      continue;
    }

    const bool has_arg = i + 1 < argc;
    if (!strcmp(item, "@bundle") && has_arg && !bundle) {
      lo_timetag tt;
      if (!parse_timetag(argv[i + 1], &tt)) {
        fprintf(stderr, "rtl-osc: bad time tag '%s'\n", argv[i + 1]);
        status = RTL_OSC_EXIT_USAGE;
        break;
      }
      bundle = lo_bundle_new(tt);
      i += 2;
    } else if (!strcmp(item, "@end") && bundle) {
      if (lo_send_bundle_from(c.target, c.server, bundle) < 0) {
        fprintf(
          stderr, "rtl-osc: send bundle: %s\n", lo_address_errstr(c.target));
        status = RTL_OSC_EXIT_SEND;
      }
      lo_bundle_free_recursive(bundle); // its messages and paths too
      n_pending = 0U;
      bundle    = NULL;
      ++i;
    } else if (!strcmp(item, "@burst") && has_arg && i + 2 < argc &&
               argv[i + 2][0] == '/') {
      const long k = strtol(argv[i + 1], NULL, 10);
      i += 2;
      const char*      path = NULL;
      lo_message const m    = parse_message(argc, argv, &i, &path);
      if (!m) {
        status = RTL_OSC_EXIT_USAGE;
        break;
      }
      for (long j = 0; j < k && status == 0; ++j) {
        if (lo_send_message_from(c.target, c.server, path, m) < 0) {
          fprintf(stderr,
                  "rtl-osc: send %s: %s\n",
                  path,
                  lo_address_errstr(c.target));
          status = RTL_OSC_EXIT_SEND;
        }
        drain(&c);
      }
      lo_message_free(m);
    } else if (!strcmp(item, "@listen") && has_arg) {
      receive_for(&c, strtod(argv[i + 1], NULL), NULL);
      i += 2;
    } else if (!strcmp(item, "@wait") && has_arg) {
      c.wait_line = argv[i + 1];
      c.wait_seen = false;
      drain(&c);
      for (size_t k = c.wait_from; k < c.n_lines && !c.wait_seen; ++k) {
        c.wait_seen = line_matches(c.lines[k], c.wait_line);
      }
      receive_for(&c, timeout_s, wait_done);
      c.wait_from = c.n_lines;
      if (!c.wait_seen) {
        fprintf(stderr, "rtl-osc: timed out waiting for '%s'\n", argv[i + 1]);
        status = RTL_OSC_EXIT_TIMEOUT;
      }
      c.wait_line = NULL;
      i += 2;
    } else if (!strcmp(item, "@mark") && has_arg) {
      drain(&c);
      printf("%s\n", argv[i + 1]);
      i += 2;
    } else if (!strcmp(item, "@raw") && has_arg) {
      if (send_hex(&c, argv[i + 1]) != 0) {
        status = RTL_OSC_EXIT_SEND;
      }
      i += 2;
    } else if (!strcmp(item, "@garbage") && has_arg) {
      if (send_garbage(&c, strtol(argv[i + 1], NULL, 10)) != 0) {
        status = RTL_OSC_EXIT_SEND;
      }
      i += 2;
    } else {
      fprintf(stderr, "rtl-osc: unexpected item '%s'\n", item);
      status = RTL_OSC_EXIT_USAGE;
    }
  }

  if (bundle && status == 0) {
    if (lo_send_bundle_from(c.target, c.server, bundle) < 0) {
      fprintf(
        stderr, "rtl-osc: send bundle: %s\n", lo_address_errstr(c.target));
      status = RTL_OSC_EXIT_SEND;
    }
  }
  if (bundle) {
    lo_bundle_free_recursive(bundle);
  }

  if (status == 0) {
    g_want_replies = want;
    receive_for(&c, timeout_s, replies_done);
    if (!replies_done(&c)) {
      if (until && !c.until_seen) {
        fprintf(stderr, "rtl-osc: timed out waiting for '%s'\n", until);
      } else {
        fprintf(stderr,
                "rtl-osc: timed out: %ld of %ld replies\n",
                c.n_replies,
                want);
      }
      status = RTL_OSC_EXIT_TIMEOUT;
    }
  }

  for (size_t k = 0U; k < c.n_lines; ++k) {
    free(c.lines[k]);
  }
  free(c.lines);
  lo_address_free(c.target);
  lo_server_free(c.server);
  return status;
}
