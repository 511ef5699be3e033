// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "options.h"

#include <rtlane/attributes.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// JACK client names are at most this long (jack_client_name_size() - 1 is
/// larger; this leaves room for the ports' full names).
#define RTL_NAME_MAX 63U

#define RTL_PORT_MAX 65535U

enum {
  OPT_OSC_TCP = 256,
  OPT_OSC_BIND,
  OPT_OSC_ALLOW,
  OPT_INSERT,
  OPT_RECORD_DIR,
  OPT_RECORD_BUFFER,
  OPT_STATE,
  OPT_REPLY_PORT,
};

static void
usage(void)
{
  printf(
    "Usage: rtlane [OPTION]...\n"
    "A JACK mixer driven over OSC: N mono inputs mixed to stereo, with a\n"
    "metronome, level meters, sample-accurate timed changes and MIDI CC\n"
    "mapping; optionally rendered a fixed delay ahead on a worker thread,\n"
    "with a processor plug-in after the mix.\n"
    "\n"
    "  -n, --name NAME         JACK client name (default rtlane)\n"
    "  -s, --server NAME       JACK server name (default: the default server)\n"
    "  -i, --inputs N          mono input channels in_1..in_N, 1..%u (default "
    "2)\n"
    "  -p, --osc-port PORT     OSC port (default 7770)\n"
    "      --osc-tcp           listen for OSC over TCP too, on the same port\n"
    "      --osc-bind ADDR     address the OSC sockets bind (default "
    "127.0.0.1)\n"
    "      --osc-allow ADDR[/PREFIX]\n"
    "                          take OSC only from these senders (repeatable,\n"
    "                          up to %u; default: every sender)\n"
    "      --reply-port PORT   send UDP replies to this port at the sender's\n"
    "                          address (default: the port it sends from)\n"
    "  -c, --connect           connect inputs to capture and outputs to\n"
    "                          playback ports\n"
    "  -l, --write-ahead MS    mix on a worker thread MS ahead, 0..%g; the\n"
    "                          outputs report that latency to the graph "
    "(default\n"
    "                          0: mix on the audio thread, no added latency)\n"
    "      --insert FILE.so    processor plug-in run after the mix; one that "
    "is\n"
    "                          not real-time safe needs -l\n"
    "      --record-dir DIR    where /record/start creates files (default\n"
    "                          $XDG_MUSIC_DIR, else the working directory)\n"
    "      --record-buffer MS  how far a recording may fall behind before\n"
    "                          it loses audio, %u..%u (default %u)\n"
    "      --state FILE        state file\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Ports: in_1..in_N, out_L, out_R, click (audio); midi_in, midi_out.\n"
    "Send /list to the OSC port for the address space.\n",
    RTL_MAX_INPUTS,
    RTL_ALLOW_MAX,
    (double)RTL_LATENCY_MAX_MS,
    RTL_RECORD_BUFFER_MIN_MS,
    RTL_RECORD_BUFFER_MAX_MS,
    RTL_RECORD_BUFFER_DEFAULT_MS);
}

static RtlOptionsResult
bad(const char* fmt, ...) RTL_LOG_FUNC(1, 2);

static RtlOptionsResult
bad(const char* const fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  fputs("rtlane: ", stderr);
  vfprintf(stderr, fmt, args);
  fputs("\nTry 'rtlane --help'.\n", stderr);
  va_end(args);
  return RTL_OPTIONS_USAGE;
}

static bool
parse_uint(const char* const text, const unsigned long max, unsigned* const out)
{
  if (!text[0] || text[0] == '-' || text[0] == '+') {
    return false;
  }
  char* end             = NULL;
  errno                 = 0;
  const unsigned long v = strtoul(text, &end, 10);
  if (errno || *end || v > max) {
    return false;
  }
  *out = (unsigned)v;
  return true;
}

RtlOptionsResult
rtl_options_parse(const int argc, char** const argv, RtlOptions* const opts)
{
  static const struct option long_opts[] = {
    {"name", required_argument, NULL, 'n'},
    {"server", required_argument, NULL, 's'},
    {"inputs", required_argument, NULL, 'i'},
    {"osc-port", required_argument, NULL, 'p'},
    {"osc-tcp", no_argument, NULL, OPT_OSC_TCP},
    {"osc-bind", required_argument, NULL, OPT_OSC_BIND},
    {"osc-allow", required_argument, NULL, OPT_OSC_ALLOW},
    {"reply-port", required_argument, NULL, OPT_REPLY_PORT},
    {"connect", no_argument, NULL, 'c'},
    {"write-ahead", required_argument, NULL, 'l'},
    {"insert", required_argument, NULL, OPT_INSERT},
    {"record-dir", required_argument, NULL, OPT_RECORD_DIR},
    {"record-buffer", required_argument, NULL, OPT_RECORD_BUFFER},
    {"state", required_argument, NULL, OPT_STATE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };

  *opts = (RtlOptions){
    .name             = "rtlane",
    .inputs           = 2U,
    .osc_port         = 7770U,
    .osc_bind         = "127.0.0.1",
    .record_buffer_ms = RTL_RECORD_BUFFER_DEFAULT_MS,
  };

  // getopt reports its own errors in its own words; ours are one line each.
  opterr = 0;
  optind = 1;
  int c  = 0;
  while ((c = getopt_long(argc, argv, ":n:s:i:p:cl:hV", long_opts, NULL)) !=
         -1) {
    switch (c) {
    case 'n':
      if (!optarg[0] || strlen(optarg) > RTL_NAME_MAX || strchr(optarg, ':')) {
        return bad("invalid client name '%s' (1..%u characters, no ':')",
                   optarg,
                   RTL_NAME_MAX);
      }
      opts->name = optarg;
      break;
    case 's':
      if (!optarg[0]) {
        return bad("empty server name");
      }
      opts->server = optarg;
      break;
    case 'i':
      if (!parse_uint(optarg, RTL_MAX_INPUTS, &opts->inputs) || !opts->inputs) {
        return bad(
          "invalid number of inputs '%s' (1..%u)", optarg, RTL_MAX_INPUTS);
      }
      break;
    case 'p':
      if (!parse_uint(optarg, RTL_PORT_MAX, &opts->osc_port) ||
          !opts->osc_port) {
        return bad("invalid OSC port '%s' (1..%u)", optarg, RTL_PORT_MAX);
      }
      break;
    case OPT_OSC_TCP:
      opts->osc_tcp = true;
      break;
    case OPT_REPLY_PORT:
      if (!parse_uint(optarg, RTL_PORT_MAX, &opts->reply_port) ||
          !opts->reply_port) {
        return bad("invalid reply port '%s' (1..%u)", optarg, RTL_PORT_MAX);
      }
      break;
    case OPT_OSC_BIND:
      if (!optarg[0]) {
        return bad("empty OSC bind address");
      }
      opts->osc_bind = optarg;
      break;
    case OPT_OSC_ALLOW:
      if (opts->n_osc_allow >= RTL_ALLOW_MAX) {
        return bad("more than %u --osc-allow", RTL_ALLOW_MAX);
      }
      if (!rtl_allow_parse(optarg, &opts->osc_allow[opts->n_osc_allow])) {
        return bad("invalid --osc-allow '%s' (an IPv4 or IPv6 address, "
                   "optionally /PREFIX)",
                   optarg);
      }
      ++opts->n_osc_allow;
      break;
    case 'c':
      opts->connect = true;
      break;
    case 'l': {
      char* end       = NULL;
      errno           = 0;
      const double ms = strtod(optarg, &end);
      if (errno || end == optarg || *end || !isfinite(ms) || ms < 0.0 ||
          ms > (double)RTL_LATENCY_MAX_MS) {
        return bad("invalid write-ahead '%s' (0..%g ms)",
                   optarg,
                   (double)RTL_LATENCY_MAX_MS);
      }
      opts->write_ahead = ms;
      break;
    }
    case OPT_INSERT:
      if (!optarg[0]) {
        return bad("empty --insert file name");
      }
      opts->insert = optarg;
      break;
    case OPT_RECORD_DIR:
      if (!optarg[0]) {
        return bad("empty --record-dir");
      }
      opts->record_dir = optarg;
      break;
    case OPT_RECORD_BUFFER:
      if (!parse_uint(
            optarg, RTL_RECORD_BUFFER_MAX_MS, &opts->record_buffer_ms) ||
          opts->record_buffer_ms < RTL_RECORD_BUFFER_MIN_MS) {
        return bad("invalid --record-buffer '%s' (%u..%u ms)",
                   optarg,
                   RTL_RECORD_BUFFER_MIN_MS,
                   RTL_RECORD_BUFFER_MAX_MS);
      }
      break;
    case OPT_STATE:
      opts->state_file = optarg;
      break;
    case 'h':
      usage();
      return RTL_OPTIONS_EXIT;
    case 'V':
      puts("rtlane " RTL_VERSION);
      return RTL_OPTIONS_EXIT;
    case ':':
      // The word as the user typed it: "-i", "--name", "--insert".
      return bad("option '%s' needs a value", argv[optind - 1]);
    default:
      if (optopt > 0 && optopt < 128) {
        return bad("unknown option '-%c'", optopt);
      }
      return bad("unknown option '%s'", argv[optind - 1]);
    }
  }

  if (optind < argc) {
    return bad("unexpected argument '%s'", argv[optind]);
  }

  return RTL_OPTIONS_RUN;
}
