// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_CONTROL_H
#define RTL_DAEMON_CONTROL_H

/*
  The control thread: the one owner of the parameter model.

  It sleeps on a semaphore that the OSC threads post after every command,
  with a timeout that is the next thing it has to do (meters due, a /state
  window closing, a timed event to hand over, a /sync to confirm).  Each
  round it applies the queued commands, publishes one new snapshot if
  anything changed, hands timed events to the RT thread, reads meter
  readings from the RT thread and serves the subscribers.
*/

#include "comm.h"
#include "jack.h"
#include "nsm.h"
#include "osc.h"
#include "process.h"
#include "state.h"

#include <rtlane/allocator.h>
#include <rtlane/queue.h>
#include <rtlane/snapshot.h>
#include <rtlane/status.h>

#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct RtlControlImpl RtlControl;

typedef struct {
  RtlAllocator*        allocator; ///< NULL for the system's
  const RtlParamTable* table;
  RtlQueue*            queue;
  sem_t*               wake;
  RtlSnapshot*         snapshot;
  RtlProcess*          process;
  RtlJack*             jack;
  RtlOsc*              osc;
  int                  record_dir_fd; ///< Where takes are made
  const char*          state_file;    ///< --state, or NULL
  int                  state_dir_fd;  ///< Where /save and /load name files
  /// The session manager, or NULL: it asks for saves, and under it a
  /// clean exit does not save (its "abort" is a SIGTERM)
  RtlNsm* nsm;
  /// Test hook: the take of stall_kind stalls once for stall_ms after
  /// stall_after frames (stall_ms 0: never)
  RtlTakeKind stall_kind;
  uint64_t    stall_after;
  uint32_t    stall_ms;
} RtlControlConfig;

/**
   Create the control state and publish the initial snapshot.  Start-up,
   before the JACK client is activated.
*/
RtlStatus
rtl_control_new(const RtlControlConfig* config, RtlControl** control);

/// Stop the thread if it runs and free `control`; NULL is ignored.
void
rtl_control_free(RtlControl* control);

/// Start the control thread.  Non-RT.
RtlStatus
rtl_control_start(RtlControl* control);

/// Stop and join the thread.  Safe if it never started.
void
rtl_control_stop(RtlControl* control);

/**
   Convert an OSC time tag to a JACK frame as the contract computes it (an
   RtlTagToFrameFunc; `jack` is the RtlJack).  Any non-RT thread.
*/
bool
rtl_control_tag_to_frame(void*     jack,
                         uint64_t  tag,
                         uint64_t* frame,
                         uint64_t* now);

/**
   Read the --state file again (SIGHUP).  Any thread; the control thread
   does the work.
*/
void
rtl_control_reload(RtlControl* control);

/**
   The RT state was reset (a new JACK client): republish every value and
   drop timed events, applying their values at once.  Any thread; the
   control thread does the work.
*/
void
rtl_control_resync(RtlControl* control);

#endif // RTL_DAEMON_CONTROL_H
