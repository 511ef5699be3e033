// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "statefile.h"

#include "confine.h"
#include "request.h"

#include <lo/lo.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/// Longest line of a state file.
#define RTL_STATE_LINE_MAX 1024U

/// Largest state file read (a full 64-input state is about 20 KiB).
#define RTL_STATE_FILE_MAX (1024U * 1024U)

size_t
rtl_statefile_max_lines(const RtlParamTable* const table)
{
  return table->n_params + RTL_MIDI_CCS + 2U;
}

/// Open `name` for reading: beneath `dir_fd`, or as given with AT_FDCWD.
static int
open_read(const int dir_fd, const char* const name)
{
  return dir_fd == AT_FDCWD ? open(name, O_RDONLY | O_CLOEXEC)
                            : rtl_confine_open(dir_fd, name, O_RDONLY, 0U);
}

// --- reading -----------------------------------------------------------------

/// Where the request path sends a line's command, or its error.
typedef struct {
  RtlCommand* commands;
  size_t      max;
  size_t      n;
  const char* error; ///< The first error of the line, copied below
  char        reason[160];
  bool        not_setting;
} Sink;

static RtlStatus
sink_post(void* const data, const RtlCommand* const cmd)
{
  Sink* const s = (Sink*)data;
  switch ((RtlCmdKind)cmd->kind) {
  case RTL_CMD_SET:
  case RTL_CMD_MIDI_MAP:
  case RTL_CMD_LATENCY_SET:
  case RTL_CMD_RECORD_FORMAT:
    break;
  default:
    s->not_setting = true;
    return RTL_SUCCESS;
  }
  if (s->n == s->max) {
    s->not_setting = true; // More lines than settings: a repeated one
    return RTL_SUCCESS;
  }
  s->commands[s->n++] = *cmd;
  return RTL_SUCCESS;
}

static void
sink_error(void* const             data,
           const RtlOscPeer* const peer,
           const char* const       path,
           const char* const       reason)
{
  Sink* const s = (Sink*)data;
  (void)peer;
  (void)path;
  if (!s->error) {
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
    s->error = s->reason;
  }
}

/// The next blank-separated word of `*p` (a "quoted" one may hold blanks
/// and \" or \\), NUL-terminated in place; NULL at the end of the line.
static char*
next_word(char** const p, const char** const why)
{
  char* s = *p;
  while (*s == ' ' || *s == '\t') {
    ++s;
  }
  if (!*s) {
    return NULL;
  }
  if (*s != '"') {
    char* const w = s;
    while (*s && *s != ' ' && *s != '\t') {
      ++s;
    }
    if (*s) {
      *s++ = '\0';
    }
    *p = s;
    return w;
  }
  char* const w = ++s;
  char*       d = s;
  while (*s && *s != '"') {
    if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) {
      ++s;
    }
    *d++ = *s++;
  }
  if (*s != '"') {
    *why = "unterminated string";
    return NULL;
  }
  *d = '\0';
  *p = s + 1;
  return w;
}

/// Turn one line into an OSC message; NULL with `*why` if it cannot be.
static lo_message
parse_line(char* line, const char** const path, const char** const why)
{
  char* const address = next_word(&line, why);
  char* const types   = next_word(&line, why);
  if (!address || address[0] != '/') {
    *why = "a line is: address type-tags value...";
    return NULL;
  }
  *path                = address;
  const lo_message msg = lo_message_new();
  if (!msg) {
    *why = "out of memory";
    return NULL;
  }
  for (const char* t = types && strcmp(types, "-") ? types : ""; *t; ++t) {
    char* const word = next_word(&line, why);
    char*       end  = NULL;
    if (!word) {
      *why = *why ? *why : "fewer values than type tags";
      lo_message_free(msg);
      return NULL;
    }
    errno = 0;
    if (*t == 'i') {
      const long v = strtol(word, &end, 10);
      if (!errno && !*end && v >= INT32_MIN && v <= INT32_MAX) {
        lo_message_add_int32(msg, (int32_t)v);
        continue;
      }
    } else if (*t == 'f') {
      const float v = strtof(word, &end);
      if (!errno && !*end && end != word) {
        lo_message_add_float(msg, v);
        continue;
      }
    } else if (*t == 's') {
      lo_message_add_string(msg, word);
      continue;
    } else {
      *why = "type tags of a state file are i, f and s";
      lo_message_free(msg);
      return NULL;
    }
    *why = "not a number of its type tag";
    lo_message_free(msg);
    return NULL;
  }
  if (next_word(&line, why) || *why) {
    *why = *why ? *why : "more values than type tags";
    lo_message_free(msg);
    return NULL;
  }
  return msg;
}

/// Pass `msg` through the live checks into the sink; NULL or the reason.
static const char*
check_line(const RtlRequestConfig* const config,
           Sink* const                   sink,
           const char* const             path,
           const lo_message              msg)
{
  uint8_t buf[RTL_STATE_LINE_MAX + 64U];
  size_t  size = sizeof(buf);
  if (lo_message_length(msg, path) > sizeof(buf) ||
      !lo_message_serialise(msg, path, buf, &size)) {
    return "line too long";
  }
  const RtlOscPeer peer = {RTL_PEER_NONE, 0U, 0U, {{0}}};
  sink->error           = NULL;
  sink->not_setting     = false;
  rtl_request_packet(config, &peer, buf, size);
  return sink->error         ? sink->error
         : sink->not_setting ? "not a setting (parameters, /midi/map, "
                               "/latency/set, /record/format)"
                             : NULL;
}

RtlStatus
rtl_statefile_read(const RtlParamTable* const table,
                   const int                  dir_fd,
                   const char* const          name,
                   RtlCommand* const          commands,
                   const size_t               max,
                   size_t* const              n,
                   char* const                err,
                   const size_t               err_size)
{
  *n             = 0U;
  const int   fd = open_read(dir_fd, name);
  FILE* const f  = fd >= 0 ? fdopen(fd, "r") : NULL;
  if (!f) {
    snprintf(err, err_size, "%s", rtl_confine_error(errno));
    if (fd >= 0) {
      close(fd);
    }
    return RTL_FAILURE;
  }

  Sink                   sink   = {commands, max, 0U, NULL, {0}, false};
  const RtlRequestConfig config = {
    table, NULL, NULL, sink_post, sink_error, NULL, &sink};
  char      line[RTL_STATE_LINE_MAX];
  unsigned  number = 0U;
  size_t    total  = 0U;
  RtlStatus st     = RTL_SUCCESS;
  while (!st && fgets(line, sizeof(line), f)) {
    ++number;
    const size_t len = strlen(line);
    total += len;
    if (total > RTL_STATE_FILE_MAX) {
      snprintf(err, err_size, "%u: file too large", number);
      st = RTL_BAD_ARG;
      break;
    }
    if (len && line[len - 1U] != '\n' && !feof(f)) {
      snprintf(err, err_size, "%u: line too long", number);
      st = RTL_BAD_ARG;
      break;
    }
    line[strcspn(line, "\r\n")] = '\0';
    const char* p               = line + strspn(line, " \t");
    if (!*p || *p == '#') {
      continue;
    }
    const char*      why  = NULL;
    const char*      path = NULL;
    const lo_message msg  = parse_line(line, &path, &why);
    if (msg) {
      why = check_line(&config, &sink, path, msg);
      lo_message_free(msg);
    }
    if (why) {
      snprintf(err, err_size, "%u: %s", number, why);
      st = RTL_BAD_ARG;
    }
  }
  if (!st && ferror(f)) {
    snprintf(err, err_size, "read error");
    st = RTL_FAILURE;
  }
  fclose(f);
  *n = st ? 0U : sink.n;
  return st;
}

// --- writing -----------------------------------------------------------------

static void
put_string(FILE* const f, const char* const s)
{
  if (s[0] && !strpbrk(s, " \t\"\\")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (const char* c = s; *c; ++c) {
    if (*c == '"' || *c == '\\') {
      fputc('\\', f);
    }
    fputc(*c, f);
  }
  fputc('"', f);
}

static void
write_lines(FILE* const f, const RtlModel* const model, const RtlStateExtras* x)
{
  const RtlParamTable* const t   = model->table;
  time_t                     now = time(NULL);
  struct tm                  tm;
  char                       when[32] = "";
  if (localtime_r(&now, &tm)) {
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
  }
  fprintf(f,
          "# rtlane state, saved %s\n"
          "# One setting per line: address, type tags, values (as OSC).\n",
          when);
  for (unsigned i = 0U; i < t->n_params; ++i) {
    const RtlParamInfo* const info = &t->params[i];
    if (info->type == 'i') {
      fprintf(f, "%s i %d\n", info->path, (int)lroundf(model->slots[i].value));
    } else {
      // %.9g: a float read back is the same float
      fprintf(f, "%s f %.9g\n", info->path, (double)model->slots[i].value);
    }
  }
  for (unsigned cc = 0U; cc < RTL_MIDI_CCS; ++cc) {
    if (model->ccmap[cc]) {
      fprintf(f, "/midi/map is %u ", cc);
      put_string(f, t->params[model->ccmap[cc] - 1U].path);
      fputc('\n', f);
    }
  }
  if (x->latency_ms > 0.0) {
    fprintf(f, "/latency/set f %.9g\n", x->latency_ms);
  }
  fprintf(f, "/record/format s %s\n", rtl_sample_format_name(x->record_format));
}

/// The directory part of `name` opened (beneath `dir_fd` unless AT_FDCWD),
/// and the last component.
static int
open_parent(const int         dir_fd,
            const char* const name,
            char* const       base,
            const size_t      base_size)
{
  const char* const slash = strrchr(name, '/');
  snprintf(base, base_size, "%s", slash ? slash + 1 : name);
  if (!slash) {
    return dir_fd == AT_FDCWD ? open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)
                              : dup(dir_fd);
  }
  char dir[RTL_PATH_MAX + 1U];
  snprintf(
    dir, sizeof(dir), "%.*s", (int)(slash == name ? 1 : slash - name), name);
  return dir_fd == AT_FDCWD
           ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)
           : rtl_confine_open(dir_fd, dir, O_PATH | O_DIRECTORY, 0U);
}

RtlStatus
rtl_statefile_write(const RtlModel* const       model,
                    const RtlStateExtras* const extras,
                    const int                   dir_fd,
                    const char* const           name,
                    char* const                 err,
                    const size_t                err_size)
{
  char      base[RTL_PATH_MAX + 1U];
  const int parent = open_parent(dir_fd, name, base, sizeof(base));
  if (parent < 0) {
    snprintf(err, err_size, "%s", rtl_confine_error(errno));
    return RTL_FAILURE;
  }
  if (!base[0] || !strcmp(base, ".") || !strcmp(base, "..")) {
    close(parent);
    snprintf(err, err_size, "not a file name");
    return RTL_BAD_ARG;
  }

  // A fresh name beside the target, so that rename() replaces it whole
  char tmp[RTL_PATH_MAX + 32U];
  int  fd = -1;
  for (unsigned i = 0U; i < 100U && fd < 0; ++i) {
    snprintf(tmp, sizeof(tmp), ".%s.%ld.%u.tmp", base, (long)getpid(), i);
    fd = openat(parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
      break;
    }
  }
  FILE* const f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    snprintf(err, err_size, "%s", rtl_confine_error(errno));
    if (fd >= 0) {
      close(fd);
      unlinkat(parent, tmp, 0);
    }
    close(parent);
    return RTL_FAILURE;
  }
  write_lines(f, model, extras);
  const bool written = !ferror(f) && !fflush(f) && !fsync(fileno(f));
  const int  e       = errno;
  const bool closed  = !fclose(f);
  if (!written || !closed || renameat(parent, tmp, parent, base)) {
    snprintf(
      err, err_size, "%s", rtl_confine_error(written && closed ? errno : e));
    unlinkat(parent, tmp, 0);
    close(parent);
    return RTL_FAILURE;
  }
  // The rename itself lasts only once the directory is on disk too
  const int dfd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  close(parent);
  return RTL_SUCCESS;
}
