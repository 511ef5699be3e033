// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "output.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

/**
   The shortest %g that reads back as the same value: a float of 0.1 is
   "0.1", not "0.100000001", and still exact.  Non-finite values are
   written as -inf, inf and nan.
*/
static void
format_number(char* const buf, const size_t size, const double v, bool single)
{
  if (isnan(v)) {
    snprintf(buf, size, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, size, v < 0.0 ? "-inf" : "inf");
    return;
  }
  for (int digits = single ? 6 : 15; digits < 18; ++digits) {
    snprintf(buf, size, "%.*g", digits, v);
    const bool same =
      single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v;
    if (same) {
      return;
    }
  }
}

void
rtl_ctl_format_arg(char* const buf, const size_t size, const RtlCtlArg* arg)
{
  switch (arg->type) {
  case 'i':
  case 'h':
    snprintf(buf, size, "%" PRId64, arg->i);
    break;
  case 'f':
  case 'd':
    format_number(buf, size, arg->f, arg->type == 'f');
    break;
  case 's':
  case 'S':
    snprintf(buf, size, "%s", arg->s);
    break;
  case 'c':
    snprintf(buf, size, "%c", (char)arg->i);
    break;
  case 'T':
  case 'F':
    snprintf(buf, size, arg->type == 'T' ? "true" : "false");
    break;
  case 'I':
    snprintf(buf, size, "inf");
    break;
  default: // N, and kinds the daemon never sends
    snprintf(buf, size, "nil");
    break;
  }
}

void
rtl_ctl_print_args(FILE* const out, const RtlCtlReply* const reply, int from)
{
  for (int i = from; i < reply->argc; ++i) {
    char                   text[64];
    const RtlCtlArg* const a = &reply->argv[i];
    fputs(i > from ? " " : "", out);
    if (a->type == 's' || a->type == 'S') {
      fputs(a->s, out); // whole, however long
    } else {
      rtl_ctl_format_arg(text, sizeof(text), a);
      fputs(text, out);
    }
  }
  fputc('\n', out);
}

// --- JSON --------------------------------------------------------------------

static void
json_string(FILE* const out, const char* const s)
{
  fputc('"', out);
  for (const unsigned char* p = (const unsigned char*)s; *p; ++p) {
    switch (*p) {
    case '"':
      fputs("\\\"", out);
      break;
    case '\\':
      fputs("\\\\", out);
      break;
    case '\n':
      fputs("\\n", out);
      break;
    case '\r':
      fputs("\\r", out);
      break;
    case '\t':
      fputs("\\t", out);
      break;
    default:
      // Other bytes pass as they are: the daemon's strings are UTF-8.
      if (*p < 0x20U || *p == 0x7fU) {
        fprintf(out, "\\u%04x", (unsigned)*p);
      } else {
        fputc(*p, out);
      }
      break;
    }
  }
  fputc('"', out);
}

static void
json_arg(FILE* const out, const RtlCtlArg* const a)
{
  char text[64];
  rtl_ctl_format_arg(text, sizeof(text), a);
  switch (a->type) {
  case 'f':
  case 'd':
    if (!isfinite(a->f)) {
      json_string(out, text); // -inf, inf, nan: JSON has no such numbers
      break;
    }
    fputs(text, out);
    break;
  case 'i':
  case 'h':
  case 'T':
  case 'F':
    fputs(text, out); // a number, true or false
    break;
  case 's':
  case 'S':
    json_string(out, a->s);
    break;
  case 'c':
  case 'I':
    json_string(out, text);
    break;
  default:
    fputs("null", out);
    break;
  }
}

void
rtl_ctl_print_json(FILE* const out, const RtlCtlReply* const reply)
{
  fputs("{\"path\":", out);
  json_string(out, reply->path);
  fputs(",\"types\":", out);
  json_string(out, reply->types);
  fputs(",\"args\":[", out);
  for (int i = 0; i < reply->argc; ++i) {
    fputs(i ? "," : "", out);
    json_arg(out, &reply->argv[i]);
  }
  fputs("]}\n", out);
}
