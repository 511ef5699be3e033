// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_CTL_CLIENT_H
#define RTL_CTL_CLIENT_H

/*
  rtlane-ctl's side of the conversation: one liblo server that sends every
  request and receives every reply, since the daemon answers the address
  and port a request came from (or, over TCP, the connection).  Replies are
  decoded into owned copies and queued, so a command reads them in order at
  its own pace.  Everything here runs on the one thread rtlane-ctl has.
*/

#include <rtlane/attributes.h>

#include <lo/lo.h>

#include <stdbool.h>
#include <stdint.h>

/// The exit status of rtlane-ctl, as rtlane-ctl(1) documents it.
typedef enum {
  RTL_CTL_OK        = 0, ///< Done as asked
  RTL_CTL_REFUSED   = 1, ///< The daemon answered /error
  RTL_CTL_USAGE     = 2, ///< The command line is wrong
  RTL_CTL_NO_ANSWER = 3, ///< No answer in time, or no TCP connection
  RTL_CTL_FAILED    = 4, ///< Anything else (sockets, memory, output)
} RtlCtlExit;

/// One argument of a reply, decoded (the packet's alignment is not ours).
typedef struct {
  char        type;
  int64_t     i; ///< i h c, and T F as 1 0
  double      f; ///< f d
  const char* s; ///< s S, inside the reply's own storage
} RtlCtlArg;

typedef struct RtlCtlReplyImpl RtlCtlReply;

/// One message from the daemon; one allocation holds it all.
struct RtlCtlReplyImpl {
  RtlCtlReply* next;
  const char*  path;
  const char*  types;
  int          argc;
  RtlCtlArg*   argv;
};

typedef struct {
  const char* host;
  const char* port;
  const char* reply_port; ///< Where to listen; NULL: any free port
  bool        tcp;
  bool        json;
  long        timeout_ms;
} RtlCtlOptions;

typedef struct {
  RtlCtlOptions opts;
  lo_server     server;
  lo_address    target;
  RtlCtlReply*  head; ///< Received, not yet read; oldest first
  RtlCtlReply*  tail;
  char          hosts[8][64]; ///< The daemon's numeric addresses
  unsigned      n_hosts;
  int32_t       sync_id; ///< The last /sync id sent
} RtlCtlClient;

/// What a command makes of one reply while it waits (rtl_ctl_wait()).
typedef enum {
  RTL_CTL_SKIP, ///< Not for this command (a stray notification)
  RTL_CTL_TAKE, ///< Taken; keep waiting, with a fresh timeout
  RTL_CTL_KEEP, ///< As TAKE, and the command keeps the reply (to free it)
  RTL_CTL_DONE, ///< Taken, and the command has all it waited for
} RtlCtlVerdict;

typedef RtlCtlVerdict (*RtlCtlMatch)(void* data, RtlCtlReply* reply);

/// The monotonic clock in milliseconds, for timeouts and the meters' hold.
int64_t
rtl_ctl_now_ms(void);

/// Print "rtlane-ctl: ..." on stderr and return `code`.
RtlCtlExit
rtl_ctl_fail(RtlCtlExit code, const char* fmt, ...) RTL_LOG_FUNC(2, 3);

/// Open the socket (or, for TCP, prepare the connection) to the daemon.
RtlCtlExit
rtl_ctl_open(RtlCtlClient* c, const RtlCtlOptions* opts);

void
rtl_ctl_close(RtlCtlClient* c);

/// Send `msg` (still the caller's) to `path`; over TCP the first send
/// connects.
RtlCtlExit
rtl_ctl_send(RtlCtlClient* c, const char* path, lo_message msg);

/// Send `path` with no arguments, or with one string argument `s`.
RtlCtlExit
rtl_ctl_send_s(RtlCtlClient* c, const char* path, const char* s);

/// Send /sync with a new id; rtl_ctl_is_synced() recognises the answer.
RtlCtlExit
rtl_ctl_send_sync(RtlCtlClient* c);

bool
rtl_ctl_is_synced(const RtlCtlClient* c, const RtlCtlReply* reply);

/**
   Hand each reply to `match` until it says RTL_CTL_DONE.  An /error ends
   the wait with RTL_CTL_REFUSED (the reason printed), and so does silence
   for the timeout (RTL_CTL_NO_ANSWER), which each taken reply restarts.
*/
RtlCtlExit
rtl_ctl_wait(RtlCtlClient* c, RtlCtlMatch match, void* data);

/// Send /sync and wait for /synced: every earlier request is then done.
RtlCtlExit
rtl_ctl_sync(RtlCtlClient* c);

/// The next reply within `timeout_ms`, or NULL; free it with free().
RtlCtlReply*
rtl_ctl_next(RtlCtlClient* c, int timeout_ms);

/// Report an /error reply on stderr (and stdout with --json).
RtlCtlExit
rtl_ctl_refused(const RtlCtlClient* c, const RtlCtlReply* reply);

/// Report that the daemon did not answer in time.
RtlCtlExit
rtl_ctl_no_answer(const RtlCtlClient* c);

/// True if `reply` is at `path` with arguments of `types`.
bool
rtl_ctl_is(const RtlCtlReply* reply, const char* path, const char* types);

#endif // RTL_CTL_CLIENT_H
