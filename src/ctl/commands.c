// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "commands.h"

#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RTL_CTL_MAX_NAMES 32U

// --- one reply, printed ------------------------------------------------------

typedef void (*RtlCtlPrinter)(const RtlCtlReply* reply);

/// Wait for one reply at `path` (with `types`, unless NULL) and print it.
typedef struct {
  const RtlCtlClient* c;
  const char*         path;
  const char*         types;
  RtlCtlPrinter       print;
} RtlCtlExpect;

static RtlCtlVerdict
match_expect(void* const data, RtlCtlReply* const reply)
{
  const RtlCtlExpect* const e = (const RtlCtlExpect*)data;
  if (!rtl_ctl_is(reply, e->path, e->types)) {
    return RTL_CTL_SKIP;
  }
  if (e->c->opts.json) {
    rtl_ctl_print_json(stdout, reply);
  } else if (e->print) {
    e->print(reply);
  }
  return RTL_CTL_DONE;
}

static RtlCtlExit
expect(RtlCtlClient* const c,
       const char* const   path,
       const char* const   types,
       const RtlCtlPrinter print)
{
  RtlCtlExpect e = {c, path, types, print};
  return rtl_ctl_wait(c, match_expect, &e);
}

/// Send `path` (with the string `s`, if not NULL), then expect a reply.
static RtlCtlExit
request(RtlCtlClient* const c,
        const char* const   path,
        const char* const   s,
        const char* const   reply_path,
        const char* const   reply_types,
        const RtlCtlPrinter print)
{
  const RtlCtlExit st = rtl_ctl_send_s(c, path, s);
  return st ? st : expect(c, reply_path, reply_types, print);
}

static RtlCtlExit
usage_error(const char* const name, const char* const what)
{
  return rtl_ctl_fail(
    RTL_CTL_USAGE, "%s: %s\nTry 'rtlane-ctl --help'.", name, what);
}

// --- ping, get, sync, save, load ---------------------------------------------

static void
print_pong(const RtlCtlReply* const reply)
{
  (void)reply;
  puts("pong");
}

static RtlCtlExit
run_ping(RtlCtlClient* const c, const int argc, char** const argv)
{
  (void)argc;
  (void)argv;
  return request(c, "/ping", NULL, "/pong", NULL, print_pong);
}

static void
print_values(const RtlCtlReply* const reply)
{
  rtl_ctl_print_args(stdout, reply, 0);
}

static RtlCtlExit
run_get(RtlCtlClient* const c, const int argc, char** const argv)
{
  (void)argc;
  return request(c, "/get", argv[0], argv[0], NULL, print_values);
}

static RtlCtlVerdict
match_sync(void* const data, RtlCtlReply* const reply)
{
  const RtlCtlClient* const c = (const RtlCtlClient*)data;
  if (!rtl_ctl_is_synced(c, reply)) {
    return RTL_CTL_SKIP;
  }
  if (c->opts.json) {
    rtl_ctl_print_json(stdout, reply);
  }
  return RTL_CTL_DONE;
}

/// /sync, and wait for /synced: printed with --json, silent otherwise.
static RtlCtlExit
sync_printed(RtlCtlClient* const c)
{
  const RtlCtlExit st = rtl_ctl_send_sync(c);
  return st ? st : rtl_ctl_wait(c, match_sync, c);
}

static RtlCtlExit
run_sync(RtlCtlClient* const c, const int argc, char** const argv)
{
  (void)argc;
  (void)argv;
  return sync_printed(c);
}

static void
print_saved(const RtlCtlReply* const reply)
{
  printf("saved %s\n", reply->argv[0].s);
}

static RtlCtlExit
run_save(RtlCtlClient* const c, const int argc, char** const argv)
{
  return request(c, "/save", argc ? argv[0] : NULL, "/saved", "s", print_saved);
}

static void
print_loaded(const RtlCtlReply* const reply)
{
  printf(
    "loaded %s (%" PRId64 " settings)\n", reply->argv[0].s, reply->argv[1].i);
}

static RtlCtlExit
run_load(RtlCtlClient* const c, const int argc, char** const argv)
{
  return request(
    c, "/load", argc ? argv[0] : NULL, "/loaded", "si", print_loaded);
}

// --- latency -----------------------------------------------------------------

static void
print_latency(const RtlCtlReply* const reply)
{
  char ms[64];
  rtl_ctl_format_arg(ms, sizeof(ms), &reply->argv[1]);
  printf("%s ms (%" PRId64 " frames)\n", ms, reply->argv[0].i);
}

static RtlCtlExit
run_latency(RtlCtlClient* const c, const int argc, char** const argv)
{
  if (argc) {
    char*        end = NULL;
    const double ms  = strtod(argv[0], &end);
    if (end == argv[0] || *end) {
      return usage_error("latency", "MS must be a number of milliseconds");
    }
    const lo_message msg = lo_message_new();
    if (!msg) {
      return rtl_ctl_fail(RTL_CTL_FAILED, "out of memory");
    }
    lo_message_add_float(msg, (float)ms);
    const RtlCtlExit st = rtl_ctl_send(c, "/latency/set", msg);
    lo_message_free(msg);
    if (st) {
      return st;
    }
  }
  // After /latency/set, the daemon's answer to /latency is the new delay
  // (or, before it, the /error that refused it).
  return request(c, "/latency", NULL, "/latency.reply", "if", print_latency);
}

// --- status ------------------------------------------------------------------

/// /status with its values named as /list describes them.
typedef struct {
  const RtlCtlClient* c;
  char                types[RTL_CTL_MAX_NAMES + 1U];
  char                names[RTL_CTL_MAX_NAMES][32];
  unsigned            n_names;
} RtlCtlStatus;

/// The "t:name" words after "/status.reply" in /status's description.
static void
parse_names(RtlCtlStatus* const s, const char* const description)
{
  const char* p = strstr(description, "/status.reply");
  if (!p) {
    return;
  }
  p += strlen("/status.reply");
  for (;;) {
    p += strspn(p, " ");
    const size_t len = p[0] && p[1] == ':' ? strcspn(p + 2, " ,;)") : 0U;
    if (!len || s->n_names == RTL_CTL_MAX_NAMES) {
      return;
    }
    s->types[s->n_names] = p[0];
    snprintf(
      s->names[s->n_names], sizeof(s->names[0]), "%.*s", (int)len, p + 2);
    ++s->n_names;
    p += 2U + len;
  }
}

static void
print_status(const RtlCtlStatus* const s, const RtlCtlReply* const reply)
{
  // Named when the description matches what came, else by position.
  const bool named = !strcmp(s->types, reply->types);
  int        width = 0;
  char       keys[RTL_CTL_MAX_NAMES][40];
  const int  n =
    reply->argc < (int)RTL_CTL_MAX_NAMES ? reply->argc : (int)RTL_CTL_MAX_NAMES;
  for (int i = 0; i < n; ++i) {
    const int len = named
                      ? snprintf(keys[i], sizeof(keys[i]), "%s:", s->names[i])
                      : snprintf(keys[i], sizeof(keys[i]), "arg%d:", i + 1);
    width         = len > width ? len : width;
  }
  for (int i = 0; i < n; ++i) {
    char value[64];
    rtl_ctl_format_arg(value, sizeof(value), &reply->argv[i]);
    printf("%-*s %s\n",
           width,
           keys[i],
           reply->argv[i].type == 's' ? reply->argv[i].s : value);
  }
}

static RtlCtlVerdict
match_status(void* const data, RtlCtlReply* const reply)
{
  RtlCtlStatus* const s = (RtlCtlStatus*)data;
  if (rtl_ctl_is(reply, "/list.reply", NULL)) {
    if (rtl_ctl_is(reply, "/list.reply", "sss") &&
        !strcmp(reply->argv[0].s, "/status")) {
      parse_names(s, reply->argv[2].s);
    }
    return RTL_CTL_TAKE;
  }
  if (!rtl_ctl_is(reply, "/status.reply", NULL)) {
    return RTL_CTL_SKIP;
  }
  if (s->c->opts.json) {
    rtl_ctl_print_json(stdout, reply);
  } else {
    print_status(s, reply);
  }
  return RTL_CTL_DONE;
}

static RtlCtlExit
run_status(RtlCtlClient* const c, const int argc, char** const argv)
{
  (void)argc;
  (void)argv;
  RtlCtlStatus s = {0};
  s.c            = c;
  RtlCtlExit st  = RTL_CTL_OK;
  // /list first: its replies come before /status.reply's, in order.
  if (!c->opts.json) {
    st = rtl_ctl_send_s(c, "/list", NULL);
  }
  if (!st) {
    st = rtl_ctl_send_s(c, "/status", NULL);
  }
  return st ? st : rtl_ctl_wait(c, match_status, &s);
}

// --- list --------------------------------------------------------------------

typedef struct {
  const RtlCtlClient* c;
  RtlCtlReply**       rows;
  size_t              n_rows;
  size_t              cap;
  bool                lost; ///< Out of memory: rows left out
} RtlCtlList;

static RtlCtlVerdict
match_list(void* const data, RtlCtlReply* const reply)
{
  RtlCtlList* const l = (RtlCtlList*)data;
  if (rtl_ctl_is(reply, "/list.reply", "")) {
    return RTL_CTL_DONE;
  }
  if (!rtl_ctl_is(reply, "/list.reply", "sss")) {
    return RTL_CTL_SKIP;
  }
  if (l->c->opts.json) {
    rtl_ctl_print_json(stdout, reply);
    return RTL_CTL_TAKE;
  }
  if (l->n_rows == l->cap) {
    const size_t        cap = l->cap ? 2U * l->cap : 64U;
    RtlCtlReply** const rows =
      (RtlCtlReply**)realloc(l->rows, cap * sizeof(*rows));
    if (!rows) {
      l->lost = true;
      return RTL_CTL_TAKE;
    }
    l->rows = rows;
    l->cap  = cap;
  }
  l->rows[l->n_rows++] = reply;
  return RTL_CTL_KEEP;
}

/// ADDRESS TYPES DESCRIPTION, in columns.
static void
print_table(const RtlCtlList* const l)
{
  int address_w = (int)strlen("ADDRESS");
  int types_w   = (int)strlen("TYPES");
  for (size_t i = 0U; i < l->n_rows; ++i) {
    const int a = (int)strlen(l->rows[i]->argv[0].s);
    const int t = (int)strlen(l->rows[i]->argv[1].s);
    address_w   = a > address_w ? a : address_w;
    types_w     = t > types_w ? t : types_w;
  }
  printf(
    "%-*s  %-*s  %s\n", address_w, "ADDRESS", types_w, "TYPES", "DESCRIPTION");
  for (size_t i = 0U; i < l->n_rows; ++i) {
    const RtlCtlArg* const a = l->rows[i]->argv;
    printf("%-*s  %-*s  %s\n",
           address_w,
           a[0].s,
           types_w,
           a[1].s[0] ? a[1].s : "-",
           a[2].s);
  }
}

static RtlCtlExit
run_list(RtlCtlClient* const c, const int argc, char** const argv)
{
  (void)argc;
  (void)argv;
  RtlCtlList l  = {c, NULL, 0U, 0U, false};
  RtlCtlExit st = rtl_ctl_send_s(c, "/list", NULL);
  if (!st) {
    st = rtl_ctl_wait(c, match_list, &l);
  }
  if (!st && l.lost) {
    st = rtl_ctl_fail(RTL_CTL_FAILED, "out of memory");
  } else if (!st && !c->opts.json) {
    print_table(&l);
  }
  for (size_t i = 0U; i < l.n_rows; ++i) {
    free(l.rows[i]);
  }
  free(l.rows);
  return st;
}

// --- set ---------------------------------------------------------------------

/// An address's type tags, as /list gives them.
typedef struct {
  const char* address;
  char        types[16];
  bool        found;
} RtlCtlLookup;

static RtlCtlVerdict
match_lookup(void* const data, RtlCtlReply* const reply)
{
  RtlCtlLookup* const l = (RtlCtlLookup*)data;
  if (rtl_ctl_is(reply, "/list.reply", "")) {
    return RTL_CTL_DONE;
  }
  if (!rtl_ctl_is(reply, "/list.reply", "sss")) {
    return RTL_CTL_SKIP;
  }
  if (!l->found && !strcmp(reply->argv[0].s, l->address)) {
    l->found = true;
    snprintf(l->types, sizeof(l->types), "%s", reply->argv[1].s);
  }
  return RTL_CTL_TAKE;
}

/// An integer, or a toggle's word (on/off, true/false, yes/no).
static bool
parse_int(const char* const text, long long* const value)
{
  static const char* const words[][2] = {
    {"on", "off"}, {"true", "false"}, {"yes", "no"}};
  for (size_t i = 0U; i < sizeof(words) / sizeof(words[0]); ++i) {
    for (unsigned v = 0U; v < 2U; ++v) {
      if (!strcasecmp(text, words[i][v])) {
        *value = v ? 0 : 1;
        return true;
      }
    }
  }
  char* end = NULL;
  errno     = 0;
  *value    = strtoll(text, &end, 10);
  return end != text && !*end && !errno;
}

static bool
parse_double(const char* const text, double* const value)
{
  char* end = NULL;
  *value    = strtod(text, &end);
  return end != text && !*end;
}

/// The type of a value for an address /list does not know.
static char
guess_type(const char* const text)
{
  long long i = 0;
  double    f = 0.0;
  return parse_double(text, &f) ? (parse_int(text, &i) ? 'i' : 'f') : 's';
}

static bool
add_value(const lo_message msg, const char type, const char* const text)
{
  long long i = 0;
  double    f = 0.0;
  switch (type) {
  case 'i':
    if (!parse_int(text, &i) || i < INT32_MIN || i > INT32_MAX) {
      return false;
    }
    return !lo_message_add_int32(msg, (int32_t)i);
  case 'h':
    return parse_int(text, &i) && !lo_message_add_int64(msg, (int64_t)i);
  case 'f':
    return parse_double(text, &f) && !lo_message_add_float(msg, (float)f);
  case 'd':
    return parse_double(text, &f) && !lo_message_add_double(msg, f);
  case 's':
    return !lo_message_add_string(msg, text);
  case 'S':
    return !lo_message_add_symbol(msg, text);
  default:
    return false;
  }
}

static RtlCtlExit
bad_value(const char* const address, const char type, const char* const text)
{
  const char* const what = type == 'i' || type == 'h' ? "an integer (or on/off)"
                           : type == 'f' || type == 'd' ? "a number"
                                                        : "of a known type";
  return rtl_ctl_fail(RTL_CTL_USAGE, "%s: '%s' is not %s", address, text, what);
}

/**
   The values typed as /list says; those beyond its tags (the optional
   file or take of some commands) as strings; those of an address /list
   does not know guessed, for the daemon to judge.
*/
static RtlCtlExit
add_values(const lo_message          msg,
           const RtlCtlLookup* const look,
           const int                 n,
           char** const              values)
{
  const size_t n_types = look->found ? strlen(look->types) : 0U;
  if ((size_t)n < n_types) {
    return rtl_ctl_fail(RTL_CTL_USAGE,
                        "%s takes %zu value%s (%s)",
                        look->address,
                        n_types,
                        n_types > 1U ? "s" : "",
                        look->types);
  }
  for (int i = 0; i < n; ++i) {
    const char type = (size_t)i < n_types ? look->types[i]
                      : look->found       ? 's'
                                          : guess_type(values[i]);
    if (!add_value(msg, type, values[i])) {
      return bad_value(look->address, type, values[i]);
    }
  }
  return RTL_CTL_OK;
}

static RtlCtlExit
run_set(RtlCtlClient* const c, const int argc, char** const argv)
{
  RtlCtlLookup look = {argv[0], "", false};
  if (argv[0][0] != '/') {
    return usage_error("set", "ADDRESS starts with '/'");
  }
  RtlCtlExit st = rtl_ctl_send_s(c, "/list", NULL);
  if (!st) {
    st = rtl_ctl_wait(c, match_lookup, &look);
  }
  const lo_message msg = st ? NULL : lo_message_new();
  if (!st && !msg) {
    st = rtl_ctl_fail(RTL_CTL_FAILED, "out of memory");
  }
  if (!st) {
    st = add_values(msg, &look, argc - 1, argv + 1);
  }
  if (!st) {
    st = rtl_ctl_send(c, argv[0], msg);
  }
  if (msg) {
    lo_message_free(msg);
  }
  // Errors come before /synced, so the exit status is the daemon's verdict.
  return st ? st : sync_printed(c);
}

// --- record ------------------------------------------------------------------

static void
print_started(const RtlCtlReply* const reply)
{
  printf("recording %s from frame %" PRId64 "\n",
         reply->argv[0].s,
         reply->argv[1].i);
}

static RtlCtlExit
record_start(RtlCtlClient* const c, const int argc, char** const argv)
{
  const lo_message msg = lo_message_new();
  if (!msg) {
    return rtl_ctl_fail(RTL_CTL_FAILED, "out of memory");
  }
  for (int i = 0; i < argc; ++i) {
    lo_message_add_string(msg, argv[i]);
  }
  const RtlCtlExit st = rtl_ctl_send(c, "/record/start", msg);
  lo_message_free(msg);
  return st ? st : expect(c, "/record/started", "sh", print_started);
}

/// The takes /record/status shows, until /synced; and what ends them.
typedef struct {
  RtlCtlClient* c;
  const char*   what; ///< Only this kind of take, or NULL: every kind
  bool          print;
  unsigned      running; ///< Takes that a /record/stop will end
  unsigned      stopped; ///< /record/stopped received
  bool          synced;
} RtlCtlTakes;

static void
print_take(const RtlCtlReply* const reply)
{
  const RtlCtlArg* const a = reply->argv;
  if (!a[2].s[0]) {
    printf("%s: %s\n", a[0].s, a[1].s);
    return;
  }
  printf("%s: %s %s, %" PRId64 " frames, %" PRId64 " lost\n",
         a[0].s,
         a[1].s,
         a[2].s,
         a[3].i,
         a[4].i);
}

static RtlCtlVerdict
match_takes(void* const data, RtlCtlReply* const reply)
{
  RtlCtlTakes* const t = (RtlCtlTakes*)data;
  if (rtl_ctl_is(reply, "/record/status.reply", "ssshi")) {
    const char* const state = reply->argv[1].s;
    if ((!t->what || !strcmp(t->what, reply->argv[0].s)) &&
        (!strcmp(state, "recording") || !strcmp(state, "waiting"))) {
      ++t->running;
    }
    if (t->print && t->c->opts.json) {
      rtl_ctl_print_json(stdout, reply);
    } else if (t->print) {
      print_take(reply);
    }
    return RTL_CTL_TAKE;
  }
  return rtl_ctl_is_synced(t->c, reply) ? RTL_CTL_DONE : RTL_CTL_SKIP;
}

static RtlCtlExit
record_status(RtlCtlTakes* const t)
{
  RtlCtlExit st = rtl_ctl_send_s(t->c, "/record/status", NULL);
  if (!st) {
    st = rtl_ctl_send_sync(t->c);
  }
  return st ? st : rtl_ctl_wait(t->c, match_takes, t);
}

static RtlCtlVerdict
match_stopped(void* const data, RtlCtlReply* const reply)
{
  RtlCtlTakes* const t = (RtlCtlTakes*)data;
  if (rtl_ctl_is(reply, "/record/stopped", "shi")) {
    ++t->stopped;
    if (t->c->opts.json) {
      rtl_ctl_print_json(stdout, reply);
    } else {
      printf("%s: %" PRId64 " frames, %" PRId64 " lost\n",
             reply->argv[0].s,
             reply->argv[1].i,
             reply->argv[2].i);
    }
  } else if (rtl_ctl_is_synced(t->c, reply)) {
    t->synced = true;
  } else {
    return RTL_CTL_SKIP;
  }
  return t->synced && t->stopped >= t->running ? RTL_CTL_DONE : RTL_CTL_TAKE;
}

/// Ask which takes run, stop them, and wait for each one's last word
/// (a take ends once its file is complete, after /synced).
static RtlCtlExit
record_stop(RtlCtlClient* const c, const char* const what)
{
  RtlCtlTakes t  = {c, what, false, 0U, 0U, false};
  RtlCtlExit  st = record_status(&t);
  if (!st) {
    st = rtl_ctl_send_s(c, "/record/stop", what);
  }
  if (!st) {
    st = rtl_ctl_send_sync(c);
  }
  return st ? st : rtl_ctl_wait(c, match_stopped, &t);
}

static RtlCtlExit
run_record(RtlCtlClient* const c, const int argc, char** const argv)
{
  const char* const sub = argv[0];
  if (!strcmp(sub, "start") && argc >= 2) {
    return record_start(c, argc - 1, argv + 1);
  }
  if (!strcmp(sub, "stop") && argc <= 2) {
    return record_stop(c, argc > 1 ? argv[1] : NULL);
  }
  if (!strcmp(sub, "status") && argc == 1) {
    RtlCtlTakes t = {c, NULL, true, 0U, 0U, false};
    return record_status(&t);
  }
  return usage_error("record",
                     "start FILE [mix|inputs], stop [mix|inputs] or status");
}

// --- the table ---------------------------------------------------------------

static const RtlCtlCommand commands[] = {
  {"status",
   "",
   "the daemon's JACK client, rate, period, load, counts",
   0,
   0,
   run_status},
  {"list", "", "every OSC address, its types and what it does", 0, 0, run_list},
  {"get", "ADDRESS", "a parameter's value", 1, 1, run_get},
  {"set",
   "ADDRESS [VALUE]...",
   "send values typed as /list says; wait until applied",
   1,
   -1,
   run_set},
  {"record",
   "start FILE [mix|inputs] | stop [mix|inputs] | status",
   "start, stop (until the files are done) or show takes",
   1,
   3,
   run_record},
  {"latency",
   "[MS]",
   "the write-ahead delay; MS sets it (rtlane -l)",
   0,
   1,
   run_latency},
  {"save", "[FILE]", "save the settings (the --state file)", 0, 1, run_save},
  {"load", "[FILE]", "load settings (the --state file)", 0, 1, run_load},
  {"sync", "", "wait until every earlier command is applied", 0, 0, run_sync},
  {"ping", "", "check that the daemon answers", 0, 0, run_ping},
  {"watch",
   "",
   "print each change of a setting until Ctrl-C",
   0,
   0,
   rtl_ctl_watch},
  {"meters",
   "[HZ]",
   "live level meters until Ctrl-C or q (HZ 1..100: 20)",
   0,
   1,
   rtl_ctl_meters},
};

const RtlCtlCommand*
rtl_ctl_command_at(const unsigned i)
{
  return i < sizeof(commands) / sizeof(commands[0]) ? &commands[i] : NULL;
}

const RtlCtlCommand*
rtl_ctl_command(const char* const name)
{
  const RtlCtlCommand* cmd = NULL;
  for (unsigned i = 0U; (cmd = rtl_ctl_command_at(i)); ++i) {
    if (!strcmp(cmd->name, name)) {
      return cmd;
    }
  }
  return NULL;
}
