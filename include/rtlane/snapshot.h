// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_SNAPSHOT_H
#define RTLANE_SNAPSHOT_H

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/status.h>

RTL_BEGIN_DECLS

/**
   @file snapshot.h
   Immutable state published with RCU (liburcu, membarrier flavour).

   A writer on a non-RT thread builds a complete new state and publishes it
   with one pointer store; the real-time reader takes the read lock,
   dereferences, and unlocks, and so always sees either the old or the new
   state whole, never a half-built one, and never waits.  The old state is
   freed after a grace period by liburcu's call_rcu thread, never on the
   real-time thread.

   The real-time thread must be registered once before its first read (for
   example in JACK's thread-init callback), so that no lazy initialisation
   happens on the audio path.
*/

typedef struct RtlSnapshotImpl RtlSnapshot;

/// Frees a state no reader can see any more.  Runs on liburcu's thread.
typedef void (*RtlSnapshotFreeFunc)(void* state, void* user_data);

/**
   Create a snapshot holder that publishes `initial` (which may be NULL).

   Non-RT thread (allocates).  `free_func` reclaims states that have been
   replaced; it may be NULL if the states are not owned.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_snapshot_new(RtlAllocator*       allocator,
                 void*               initial,
                 RtlSnapshotFreeFunc free_func,
                 void*               user_data,
                 RtlSnapshot**       snapshot);

/**
   Free `snapshot`, waiting for readers and pending reclamations, and free
   the current state.  Non-RT thread; NULL is ignored.
*/
RTL_API void
rtl_snapshot_free(RtlSnapshot* snapshot);

/**
   Publish `state`, replacing the current one.

   Any non-RT thread (several writers may publish; the last one wins).  It
   never waits for readers: the replaced state is reclaimed later.
   RTL_NO_MEM, and nothing changes, if the reclamation record could not be
   allocated.
*/
RTL_API RtlStatus
rtl_snapshot_publish(RtlSnapshot* snapshot, void* state);

/**
   Wait until every replaced state has been freed.  Non-RT thread; blocks.
*/
RTL_API void
rtl_snapshot_barrier(RtlSnapshot* snapshot);

/**
   Register the calling thread as a reader.

   Call once from each reading thread before its first read, outside the
   real-time path (JACK's thread-init callback is the place).
*/
RTL_API void
rtl_snapshot_register_thread(void);

/// Unregister the calling thread.  Call when a reader thread finishes.
RTL_API void
rtl_snapshot_unregister_thread(void);

/**
   Enter a read-side critical section and return the current state.

   Registered reader thread, RT-safe, wait-free.  The state stays valid
   until rtl_snapshot_read_end(); it must be treated as read-only.
*/
RTL_RT_API const void*
rtl_snapshot_read_begin(RtlSnapshot* snapshot);

/// Leave the read-side critical section.  Registered reader, RT-safe.
RTL_RT_API void
rtl_snapshot_read_end(RtlSnapshot* snapshot);

RTL_END_DECLS

#endif // RTLANE_SNAPSHOT_H
