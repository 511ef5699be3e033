// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  Writes rtlane-osc(7), the OSC reference, as troff on stdout.

  The addresses, their type tags, ranges, defaults and descriptions come
  from the daemon's own tables, the ones it validates requests against and
  answers /list from: the parameter table (built for one input, with N
  printed for the channel) and the command table.  The Makefile builds the
  page from this program, linked with the daemon's objects, so the page
  and the daemon cannot disagree.
*/

#define _POSIX_C_SOURCE 200809L

#include "daemon/options.h"
#include "daemon/request.h"
#include "daemon/state.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/// The channel parameters' paths for channel 1 begin with this.
#define CHANNEL_PREFIX "/ch/1/"

/**
   Write `text` as troff running text: backslashes escaped, a dash that
   starts a word (a minus sign, an option) as \-, and a control character
   at the start of a line made literal.  With `sentence` the first letter
   is capitalised and a full stop ends the text.
*/
static void
put_text(const char* const text, const bool sentence)
{
  char prev = ' ';
  fputs("\\&", stdout);
  for (const char* p = text; *p; ++p) {
    const char c = *p;
    if (c == '\\') {
      fputs("\\e", stdout);
    } else if (c == '-' && !isalnum((unsigned char)prev)) {
      fputs("\\-", stdout);
    } else if (sentence && p == text) {
      putchar(toupper((unsigned char)c));
    } else {
      putchar(c);
    }
    prev = c;
  }
  if (sentence && *text && text[strlen(text) - 1U] != '.') {
    putchar('.');
  }
  putchar('\n');
}

/// A .TP heading: the address in bold (a channel's N in italics), then the
/// type tags of its arguments in italics.
static void
put_heading(const char* const path, const char* const types)
{
  fputs(".TP\n", stdout);
  if (!strncmp(path, CHANNEL_PREFIX, strlen(CHANNEL_PREFIX))) {
    printf("\\fB/ch/\\fIN\\fB/%s\\fR", path + strlen(CHANNEL_PREFIX));
  } else {
    printf("\\fB%s\\fR", path);
  }
  if (types[0]) {
    printf(" \\fI%s\\fR", types);
  }
  putchar('\n');
}

static void
put_number(const float value)
{
  if (value < 0.0f) {
    fputs("\\-", stdout);
  }
  printf("%g", (double)(value < 0.0f ? -value : value));
}

static void
put_parameters(const RtlParamTable* const table)
{
  for (unsigned i = 0U; i < table->n_params; ++i) {
    const RtlParamInfo* const p = &table->params[i];
    // A channel's four parameters stand for every channel's.
    if (p->kind <= RTL_PARAM_CH_SOLO && p->channel) {
      continue;
    }
    const char types[2] = {p->type, '\0'};
    put_heading(p->path, types);
    put_text(p->description, true);
    fputs("Default ", stdout);
    put_number(p->def);
    fputs(".\n", stdout);
  }
}

static void
put_commands(void)
{
  const RtlCommandInfo* cmd = NULL;
  for (size_t i = 0U; (cmd = rtl_request_command(i)); ++i) {
    put_heading(cmd->path, cmd->types);
    put_text(cmd->description, true);
  }
}

int
main(void)
{
  RtlParamTable table;
  if (rtl_param_table_init(NULL, &table, 1U)) {
    fputs("oscdoc: cannot build the parameter table\n", stderr);
    return 1;
  }

  fputs(".\\\" SPDX-License-Identifier: ISC\n"
        ".\\\" Copyright 2026 The rtlane authors\n"
        ".\\\" Written by oscdoc (src/doc/oscdoc.c) from the daemon's "
        "address tables.\n",
        stdout);
  printf(".TH RTLANE-OSC 7 2026 \"rtlane %s\" \"rtlane\"\n", RTL_VERSION);
  fputs(".SH NAME\n"
        "rtlane-osc \\- the OSC address space of the rtlane mixer\n"
        ".SH DESCRIPTION\n"
        ".BR rtlane (1)\n"
        "listens for Open Sound Control messages on its OSC port (UDP, and\n"
        "TCP with\n"
        ".BR \\-\\-osc\\-tcp ).\n"
        "This page lists every address it takes, from the tables the\n"
        "daemon itself checks requests against;\n"
        ".B /list\n"
        "asks a running daemon for the same list.\n"
        ".PP\n"
        "Arguments are given by their OSC type tags:\n"
        ".B f\n"
        "a 32-bit float,\n"
        ".B i\n"
        "a 32-bit integer,\n"
        ".B h\n"
        "a 64-bit integer,\n"
        ".B s\n"
        "a string.\n"
        "Replies go to the address and port the request came from.\n"
        "A request that is refused changes nothing and is answered with\n"
        ".B /error\n"
        ".IR s:path \" \" s:reason ;\n"
        "a full command queue answers\n"
        ".BR busy .\n"
        ".PP\n"
        "Messages apply at the start of the next JACK period.\n"
        "Messages in a bundle whose time tag lies in the future apply on\n"
        "the exact frame the tag names.\n"
        ".SH PARAMETERS\n"
        "A parameter is set by sending its address with one value of its\n"
        "type, read with\n"
        ".BR /get ,\n"
        "kept in the state file, reported to\n"
        ".B state\n"
        "subscribers, and can be driven by a MIDI control change\n"
        ".RB ( /midi/map ).\n",
        stdout);
  printf("\\fIN\\fR is an input channel, 1 to the number of inputs\n"
         "(\\fB\\-i\\fR, at most %u).\n",
         RTL_MAX_INPUTS);
  put_parameters(&table);
  fputs(".SH COMMANDS\n", stdout);
  put_commands();
  fputs(".SH SEE ALSO\n"
        ".BR rtlane (1),\n"
        ".BR rtlane\\-ctl (1),\n"
        ".BR oscsend (1),\n"
        ".BR oscdump (1)\n",
        stdout);

  rtl_param_table_destroy(&table);
  return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
