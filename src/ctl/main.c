// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtlane-ctl: the command-line client of the rtlane daemon.  The options
// and the command are read here; commands.c and watch.c hold the rest.

#define _GNU_SOURCE

#include "client.h"
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RTL_VERSION
#  define RTL_VERSION "unknown"
#endif

#define RTL_CTL_DEFAULT_PORT "7770"
#define RTL_CTL_DEFAULT_HOST "127.0.0.1"
#define RTL_CTL_DEFAULT_TIMEOUT_MS 2000L
#define RTL_CTL_MAX_TIMEOUT_MS 3600000L

static void
usage(void)
{
  printf(
    "Usage: rtlane-ctl [OPTION]... COMMAND [ARG]...\n"
    "Controls a running rtlane daemon over OSC and prints its answers.\n"
    "\n"
    "  -p, --port PORT        the daemon's OSC port (default $RTLANE_PORT "
    "or " RTL_CTL_DEFAULT_PORT ")\n"
    "  -H, --host HOST        the daemon's host (default $RTLANE_HOST "
    "or " RTL_CTL_DEFAULT_HOST ")\n"
    "  -t, --tcp              OSC over TCP (rtlane --osc-tcp)\n"
    "  -T, --timeout MS       how long to wait for an answer (default %ld)\n"
    "  -r, --reply-port PORT  receive UDP replies on PORT (rtlane "
    "--reply-port)\n"
    "  -j, --json             print replies as JSON, one object per line\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n"
    "\n"
    "Commands:\n",
    RTL_CTL_DEFAULT_TIMEOUT_MS);
  const RtlCtlCommand* cmd = NULL;
  for (unsigned i = 0U; (cmd = rtl_ctl_command_at(i)); ++i) {
    char call[80];
    snprintf(call, sizeof(call), "%s %s", cmd->name, cmd->args);
    if (strlen(call) > 20U) {
      printf("  %s\n  %-20s  %s\n", call, "", cmd->summary);
    } else {
      printf("  %-20s  %s\n", call, cmd->summary);
    }
  }
  puts("\n"
       "Exit status: 0 done, 1 the daemon answered /error, 2 usage error,\n"
       "3 no answer within the timeout, 4 any other failure.  See "
       "rtlane-ctl(1).");
}

static int
bad_usage(const char* const what, const char* const value)
{
  fprintf(stderr,
          "rtlane-ctl: %s%s%s%s\nTry 'rtlane-ctl --help'.\n",
          what,
          value ? " '" : "",
          value ? value : "",
          value ? "'" : "");
  return RTL_CTL_USAGE;
}

/// A port number 1..65535, written back plainly into `out` ("07770" is
/// "7770", as the replies' source port reads).
static bool
parse_port(const char* const text, char* const out, const size_t size)
{
  char*      end = NULL;
  const long v = text[0] >= '0' && text[0] <= '9' ? strtol(text, &end, 10) : 0L;
  if (!end || *end || v < 1L || v > 65535L) {
    return false;
  }
  snprintf(out, size, "%ld", v);
  return true;
}

static bool
parse_timeout(const char* const text, long* const ms)
{
  char* end = NULL;
  errno     = 0;
  *ms       = strtol(text, &end, 10);
  return end != text && !*end && !errno && *ms > 0L &&
         *ms <= RTL_CTL_MAX_TIMEOUT_MS;
}

typedef struct {
  RtlCtlOptions opts;
  char          port[8];
  char          reply_port[8];
} RtlCtlArgs;

/// Defaults from the environment, where a user keeps a daemon elsewhere.
static int
read_environment(RtlCtlArgs* const a)
{
  const char* const port = getenv("RTLANE_PORT");
  const char* const host = getenv("RTLANE_HOST");
  a->opts.host           = host && host[0] ? host : RTL_CTL_DEFAULT_HOST;
  if (port && port[0] && !parse_port(port, a->port, sizeof(a->port))) {
    return bad_usage("invalid RTLANE_PORT", port);
  }
  return RTL_CTL_OK;
}

/// The options; RTL_CTL_OK and `*done` after --help or --version.
static int
parse_options(const int         argc,
              char** const      argv,
              RtlCtlArgs* const a,
              bool*             done)
{
  static const struct option long_opts[] = {
    {"port", required_argument, NULL, 'p'},
    {"host", required_argument, NULL, 'H'},
    {"tcp", no_argument, NULL, 't'},
    {"timeout", required_argument, NULL, 'T'},
    {"reply-port", required_argument, NULL, 'r'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };
  int opt = 0;
  // '+': options end at the command, so "set /ch/1/gain -6" is a value.
  while ((opt = getopt_long(argc, argv, "+p:H:tT:r:jhV", long_opts, NULL)) !=
         -1) {
    switch (opt) {
    case 'p':
      if (!parse_port(optarg, a->port, sizeof(a->port))) {
        return bad_usage("invalid port", optarg);
      }
      break;
    case 'H':
      a->opts.host = optarg;
      break;
    case 't':
      a->opts.tcp = true;
      break;
    case 'T':
      if (!parse_timeout(optarg, &a->opts.timeout_ms)) {
        return bad_usage("invalid timeout (1..3600000 ms)", optarg);
      }
      break;
    case 'r':
      if (!parse_port(optarg, a->reply_port, sizeof(a->reply_port))) {
        return bad_usage("invalid reply port", optarg);
      }
      a->opts.reply_port = a->reply_port;
      break;
    case 'j':
      a->opts.json = true;
      break;
    case 'h':
      usage();
      *done = true;
      return RTL_CTL_OK;
    case 'V':
      printf("rtlane-ctl %s\n", RTL_VERSION);
      *done = true;
      return RTL_CTL_OK;
    default:
      return bad_usage("see the options above", NULL);
    }
  }
  return RTL_CTL_OK;
}

/// The command and its number of arguments, or NULL after a usage error.
static const RtlCtlCommand*
find_command(const int argc, char** const argv)
{
  if (argc < 1) {
    bad_usage("no command", NULL);
    return NULL;
  }
  const RtlCtlCommand* const cmd = rtl_ctl_command(argv[0]);
  if (!cmd) {
    bad_usage("unknown command", argv[0]);
    return NULL;
  }
  const int n = argc - 1;
  if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args)) {
    fprintf(stderr,
            "rtlane-ctl: usage: rtlane-ctl [OPTION]... %s %s\n",
            cmd->name,
            cmd->args);
    return NULL;
  }
  return cmd;
}

int
main(int argc, char** argv)
{
  RtlCtlArgs a      = {0};
  bool       done   = false;
  a.opts.timeout_ms = RTL_CTL_DEFAULT_TIMEOUT_MS;
  snprintf(a.port, sizeof(a.port), "%s", RTL_CTL_DEFAULT_PORT);
  int st = read_environment(&a);
  if (!st) {
    st = parse_options(argc, argv, &a, &done);
  }
  if (st || done) {
    return st;
  }
  const RtlCtlCommand* const cmd = find_command(argc - optind, argv + optind);
  if (!cmd) {
    return RTL_CTL_USAGE;
  }
  a.opts.port = a.port;

  // A closed stdout is an error to report (or, for watch, the end), never
  // a silent death.
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0U);
  RtlCtlClient c;
  st = (int)rtl_ctl_open(&c, &a.opts);
  if (!st) {
    st = (int)cmd->run(&c, argc - optind - 1, argv + optind + 1);
  }
  rtl_ctl_close(&c);
  // errno says why only if this flush is what failed.
  errno             = 0;
  const bool failed = fflush(stdout) || ferror(stdout);
  if (failed && !st) {
    st = (int)rtl_ctl_fail(
      RTL_CTL_FAILED, "stdout: %s", errno ? strerror(errno) : "write error");
  }
  return st;
}
