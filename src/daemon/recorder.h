// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_RECORDER_H
#define RTL_DAEMON_RECORDER_H

/*
  One take: a file in the record directory and the thread that fills it
  from a broadcast ring at its own pace.

  The file is created when the take is made, inside the record directory
  only (no absolute path, no "..", no symlink out of it, never over an
  existing file), so a refused request creates nothing.  The thread reads
  the ring from the position it had when the take was made and cuts the
  take where the RT thread marked it (RtlTakeMarks): the first frame is a
  known frame of the graph's timeline.  Frames the ring overwrote before
  the thread read them become silence in the file, so the timeline stays
  aligned; each such gap is counted and sent to the control thread as an
  RtlDropout.  A write error (disk full, file too large) ends the take:
  the file is cut back to the last whole frame and closed, so what was
  written is a valid file.

  The control thread makes, stops, questions and frees takes; the take's
  own thread does everything else.
*/

#include "comm.h"

#include <rtlane/allocator.h>
#include <rtlane/broadcast.h>
#include <rtlane/msgring.h>
#include <rtlane/status.h>

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RtlRecorderImpl RtlRecorder;

typedef struct {
  RtlAllocator*       allocator; ///< NULL for the system's
  RtlBroadcast*       ring;      ///< The audio of this kind of take
  const RtlTakeMarks* marks;     ///< Where the RT thread cut it
  uint32_t            id;        ///< Matched against the marks' ids
  int                 dir_fd;    ///< The record directory
  const char*         name;      ///< File, relative to the directory
  RtlSampleFormat     format;
  uint32_t            rate;
  sem_t*              wake; ///< Posted after a dropout and at the end
  /// Test hook: stall the thread once for stall_ms after this many frames
  uint64_t stall_after;
  uint32_t stall_ms;
} RtlRecorderConfig;

typedef enum {
  RTL_TAKE_WAITING = 0, ///< The RT thread has not reached the first frame
  RTL_TAKE_RECORDING,
  RTL_TAKE_DONE,   ///< Stopped and finalised
  RTL_TAKE_FAILED, ///< Ended by a write error; finalised all the same
} RtlTakeState;

typedef struct {
  RtlTakeState state;
  uint64_t     start_frame; ///< JACK frame of the first frame, once known
  uint64_t     frames;      ///< Frames in the file so far (with silence)
  uint64_t     lost;        ///< Frames of silence for frames overwritten
  const char*  error;       ///< RTL_TAKE_FAILED: why
} RtlTakeInfo;

/**
   Create the file and start the take's thread.  Control thread.  On
   failure nothing is left on disk, `*recorder` is NULL and `err` says why
   in a few words (as /error gives them): RTL_BAD_ARG for a name that is
   refused, RTL_FAILURE if the file could not be made.
*/
RtlStatus
rtl_recorder_new(const RtlRecorderConfig* config,
                 RtlRecorder**            recorder,
                 char*                    err,
                 size_t                   err_size);

/**
   End the take with the frames the ring holds now, without waiting for a
   stop mark (the RT thread stopped, or the daemon is shutting down).
   Control thread.
*/
void
rtl_recorder_stop_now(RtlRecorder* recorder);

/// Wait until the take's thread has ended (after rtl_recorder_stop_now()
/// or a stop mark).  Control thread.
void
rtl_recorder_join(RtlRecorder* recorder);

/// The take's state and counters.  Control thread.
void
rtl_recorder_info(const RtlRecorder* recorder, RtlTakeInfo* info);

/// The file name as created (an extension added if it had none).
const char*
rtl_recorder_file(const RtlRecorder* recorder);

/// The ring of dropouts for the control thread (its only reader).
RtlMsgRing*
rtl_recorder_dropouts(RtlRecorder* recorder);

/**
   Join the thread and free `recorder`; NULL is ignored.  With `discard`,
   the file is removed (a take that never started).  Control thread; a
   take that has not ended is stopped now first.
*/
void
rtl_recorder_free(RtlRecorder* recorder, bool discard);

#endif // RTL_DAEMON_RECORDER_H
