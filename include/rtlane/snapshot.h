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
   with one pointer exchange; the real-time reader takes the read lock,
   dereferences, and unlocks, and so always sees either the old or the new
   state whole, never a half-built one, and never waits.  The old state is
   freed after a grace period by liburcu's call_rcu thread, never on the
   real-time thread.

   Thread contract:
   - Readers call rtl_snapshot_register_thread() once, off the RT path (for
     example in JACK's thread-init callback), then read_begin/read_end on
     every cycle, and rtl_snapshot_unregister_thread() before they exit.
     Register through these functions rather than liburcu's own: a thread
     registered twice corrupts liburcu's registry.
   - Writers need no registration: a thread that publishes is registered
     with liburcu on its first publish (liburcu requires it for call_rcu)
     and unregistered automatically when it exits.
   - rtl_snapshot_barrier() and rtl_snapshot_free() wait for grace periods:
     never call them inside a read-side critical section (deadlock) or from
     a free function.
   - States, and the reclamation records, are freed on liburcu's call_rcu
     thread, so the free function and the holder's allocator must be safe
     to use from another thread.

   The read side makes no system call in the common case.  One exception:
   when a grace period has been waiting on this very reader long enough to
   go to sleep, leaving the critical section wakes it with a non-blocking
   FUTEX_WAKE, at most once per grace period.

   An application's first call into a shared library goes through lazy
   symbol binding: link with -Wl,-z,now, or call read_begin/read_end once
   right after registering, so that the first RT read does not run the
   dynamic linker.  (Registration already does this for the calls that
   librtlane makes into liburcu.)
*/

typedef struct RtlSnapshotImpl RtlSnapshot;

/**
   Frees a state no reader can see any more.

   Runs on liburcu's call_rcu thread for replaced states, and on the thread
   that calls rtl_snapshot_free() for the last one.  It must not call
   rtl_snapshot_barrier() or rtl_snapshot_free().
*/
typedef void (*RtlSnapshotFreeFunc)(void* state, void* user_data);

/**
   Create a snapshot holder that publishes `initial` (which may be NULL).

   Non-RT thread (allocates).  `free_func` reclaims states that have been
   replaced; it may be NULL if the states are not owned.  The holder keeps
   `allocator` and uses it from liburcu's thread too, so it must be
   thread-safe.  On failure nothing is kept: `initial` stays the caller's
   and `*snapshot` is set to NULL.  Also starts liburcu's call_rcu thread,
   so that the first publish does not.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_snapshot_new(RtlAllocator*       allocator,
                 void*               initial,
                 RtlSnapshotFreeFunc free_func,
                 void*               user_data,
                 RtlSnapshot**       snapshot);

/**
   Free `snapshot`, waiting for readers and pending reclamations, and free
   the current state.  Non-RT thread; blocks; NULL is ignored.  No reader
   may start a read of `snapshot` once this is called.
*/
RTL_API void
rtl_snapshot_free(RtlSnapshot* snapshot);

/**
   Publish `state`, replacing the current one.

   Any non-RT thread (several writers may publish; the last one wins).  It
   never waits for readers: the replaced state is reclaimed later, exactly
   once, on liburcu's thread.  Publishing NULL withdraws the state;
   publishing the current state again changes nothing.  The exchange is a
   full barrier and rtl_snapshot_read_begin() loads with acquire: everything
   the publisher wrote before this call, to `state` or anywhere else (events
   sent on a ring, say), is visible to a reader that gets `state`.
   RTL_NO_MEM, and nothing changes (the old state stays visible, `state`
   stays the caller's), if the reclamation record could not be allocated;
   RTL_BAD_ARG if `snapshot` is NULL.
*/
RTL_API RtlStatus
rtl_snapshot_publish(RtlSnapshot* snapshot, void* state);

/**
   Wait until every state replaced before this call has been freed (or,
   for a holder without a free function, until no reader can still see
   one).  Non-RT thread; blocks for at least one grace period.
*/
RTL_API void
rtl_snapshot_barrier(RtlSnapshot* snapshot);

/**
   Register the calling thread as a reader.

   Call once from each reading thread before its first read, outside the
   real-time path (JACK's thread-init callback is the place).  It takes
   liburcu's registry lock and runs the read path once, so that the first
   real read touches nothing for the first time.  Calling it again is
   harmless.
*/
RTL_API void
rtl_snapshot_register_thread(void);

/// Unregister the calling thread.  Call when a reader thread finishes.
RTL_API void
rtl_snapshot_unregister_thread(void);

/**
   Enter a read-side critical section and return the current state.

   Registered reader thread, RT-safe, wait-free.  The state stays valid
   until rtl_snapshot_read_end(); it must be treated as read-only, and
   whatever its publisher wrote before publishing it is visible (acquire).
   May be nested.  Every call must be matched by rtl_snapshot_read_end() on the
   same thread, even when it returns NULL.
*/
RTL_RT_API const void*
rtl_snapshot_read_begin(RtlSnapshot* snapshot);

/// Leave the read-side critical section.  Registered reader, RT-safe.
RTL_RT_API void
rtl_snapshot_read_end(RtlSnapshot* snapshot);

RTL_END_DECLS

#endif // RTLANE_SNAPSHOT_H
