// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_OPTIONS_H
#define RTL_DAEMON_OPTIONS_H

#include "allow.h"
#include "state.h"

#include <stdbool.h>

#ifndef RTL_VERSION
#  define RTL_VERSION "0.1.0"
#endif

/// --record-buffer, in milliseconds.
#define RTL_RECORD_BUFFER_MIN_MS 100U
#define RTL_RECORD_BUFFER_MAX_MS 60000U
#define RTL_RECORD_BUFFER_DEFAULT_MS 4000U

/// The command line, validated.  Strings point into argv.
typedef struct {
  const char* name;     ///< JACK client name
  const char* server;   ///< JACK server name, or NULL for the default
  unsigned    inputs;   ///< Mono input channels, 1..RTL_MAX_INPUTS
  unsigned    osc_port; ///< OSC port, 1..65535
  const char* osc_bind; ///< Address the OSC sockets bind
  RtlAllow    osc_allow[RTL_ALLOW_MAX]; ///< Senders taken (--osc-allow)
  unsigned    n_osc_allow;              ///< 0: every sender
  bool        osc_tcp;                  ///< Also listen on TCP
  unsigned    reply_port; ///< UDP replies to this port, 0: the sender's
  bool        connect;    ///< Autoconnect to physical ports
  double write_ahead; ///< Milliseconds, 0..RTL_LATENCY_MAX_MS; 0 is direct mode
  const char* insert; ///< Processor plug-in file, or NULL
  const char* record_dir;       ///< Where recordings may go, or NULL
  unsigned    record_buffer_ms; ///< How far a take may fall behind
  const char* state_file;       ///< State file, or NULL
} RtlOptions;

typedef enum {
  RTL_OPTIONS_RUN,   ///< Options are valid: start the daemon
  RTL_OPTIONS_EXIT,  ///< --help or --version was printed: exit 0
  RTL_OPTIONS_USAGE, ///< A bad option or value was reported: exit 2
  RTL_OPTIONS_UNSUP, ///< A valid option this version cannot do: exit 1
} RtlOptionsResult;

/**
   Parse `argv` into `opts`.  Writes --help and --version text to stdout and
   one line per problem to stderr.  Main thread.
*/
RtlOptionsResult
rtl_options_parse(int argc, char** argv, RtlOptions* opts);

#endif // RTL_DAEMON_OPTIONS_H
