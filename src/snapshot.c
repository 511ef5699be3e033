// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  RCU snapshots on liburcu's "memb" flavour.

  Why memb and not qsbr: qsbr has the cheapest read side of all, but every
  registered reader must announce quiescent states periodically (or go
  offline), or grace periods never end.  An audio thread is driven by the
  server and may stop being called at any moment (a freewheel switch, a
  suspended graph, a server restart), so it cannot be trusted to announce
  anything, and qsbr would let one stalled client stall every writer's
  reclamation.  With memb a reader that is outside a read-side critical
  section is simply not waited for.  When the kernel has sys_membarrier
  (Linux 4.3+, which liburcu probes at load), the memb read side is a
  thread-local counter update plus compiler barriers: no fence, no atomic
  read-modify-write.  The writers (liburcu's grace-period code, on the
  call_rcu thread) pay instead with a membarrier system call.

  The one known system call on the read side: when a grace-period waiter
  has gone to sleep on liburcu's futex (after spinning for a while without
  seeing the reader leave), urcu_memb_read_unlock() issues a FUTEX_WAKE to
  wake it.  That call never blocks, but it is a system call on the RT
  thread.  It only happens when a reclamation is waiting on this very
  reader, i.e. at most about once per grace period, never per read.

  The library functions are called rather than the inline versions: this
  file is ISC-licensed, so it does not define _LGPL_SOURCE.  The read side
  therefore costs two plain function calls (lock and unlock).

  The published pointer itself is a C11 atomic that this file loads and
  exchanges itself, not through liburcu's pointer macros.  Without
  _LGPL_SOURCE, rcu_dereference(p) evaluates `p` as a plain load in the
  caller and hands the value to rcu_dereference_sym(), whose
  CMM_LOAD_SHARED then applies to its own parameter: the shared load has no
  ordering at all (and is not even volatile).  A dependency through the
  pointer would order reads of the state itself on every CPU but Alpha, but
  the reader also relies on writes that are not reached through the
  pointer: the control thread sends the events of a round to the RT thread
  over a msgring and then publishes the round's snapshot, and /sync
  confirms once the RT thread has seen that snapshot.  On ARM64 or POWER a
  plain load could return the new snapshot while the RT thread's next
  load of the ring's head still returns the old one, and /sync would
  confirm before its events were applied.  An acquire load of the pointer
  synchronises with the writer's exchange (sequentially consistent, a full
  barrier as liburcu's xchg is), so everything written before a publish is
  visible to a reader that sees the published state.  It costs nothing on
  x86 (a plain mov) and one ldar on ARM64, and is what liburcu's inline
  version compiles to anyway (GCC and clang promote its consume to acquire).

  ThreadSanitizer sees the pointer's exchange and acquire load, which are
  C11 atomics, but not the ordering that liburcu provides (liburcu is not
  instrumented and uses its own inline assembly), so under TSan this file
  states that ordering with __tsan_acquire/__tsan_release on private
  addresses: a reader leaving its critical section releases to the grace
  period, a reclamation acquires it before the state is freed, and a
  barrier acquires what the reclamations did.  Normal builds compile none
  of this.
*/

#define _GNU_SOURCE

#include "common.h"

#include <rtlane/allocator.h>
#include <rtlane/snapshot.h>
#include <rtlane/status.h>

#include <urcu/urcu-memb.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_THREAD__)
#  define RTL_SNAPSHOT_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define RTL_SNAPSHOT_TSAN 1
#  endif
#endif

#ifdef RTL_SNAPSHOT_TSAN
#  include <sanitizer/tsan_interface.h>
#  define TSAN_ACQUIRE(addr) __tsan_acquire((void*)(addr))
#  define TSAN_RELEASE(addr) __tsan_release((void*)(addr))
#else
#  define TSAN_ACQUIRE(addr) ((void)0)
#  define TSAN_RELEASE(addr) ((void)0)
#endif

struct RtlSnapshotImpl {
  /*
    The published state: exchanged with seq_cst by writers, loaded with
    acquire by readers (see the top of this file for why not with
    liburcu's rcu_dereference).  Aligned to its own line so that unrelated
    heap neighbours never share it with the readers.
  */
  _Alignas(RTL_CACHE_LINE) _Atomic(void*) current;

  RtlAllocator*       allocator;
  RtlSnapshotFreeFunc free_func;
  void*               user_data;

#ifdef RTL_SNAPSHOT_TSAN
  char readers_done; ///< TSan sync object: reader exits -> reclamation
  char reclaimed;    ///< TSan sync object: reclamations -> barrier
#endif
};

/// What a replaced state needs to be freed on liburcu's call_rcu thread.
typedef struct {
  struct rcu_head head;
  RtlSnapshot*    snapshot;
  void*           state;
} RtlSnapshotReclaim;

/*
  How the calling thread is registered with liburcu.  Readers register
  explicitly; writers are registered on their first publish, because
  liburcu requires call_rcu() to come from a registered thread, and stay
  registered until they exit (a registered thread outside a critical
  section costs grace periods nothing in memb).  Tracking both here keeps
  a thread from being registered twice, which corrupts liburcu's registry.
*/
typedef enum {
  RTL_SNAPSHOT_UNREGISTERED,
  RTL_SNAPSHOT_READER, ///< By rtl_snapshot_register_thread()
  RTL_SNAPSHOT_WRITER, ///< By a publish; undone when the thread exits
} RtlSnapshotRegistration;

static _Thread_local RtlSnapshotRegistration tls_registration =
  RTL_SNAPSHOT_UNREGISTERED;

static pthread_once_t writer_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t  writer_key;
static bool           writer_key_ok = false;

/// A valid address for the read-path warm-up to load.
static _Atomic(void*) warm_up_pointer = NULL;

static void
writer_thread_exit(void* const value)
{
  (void)value;
  if (tls_registration == RTL_SNAPSHOT_WRITER) {
    urcu_memb_unregister_thread();
    tls_registration = RTL_SNAPSHOT_UNREGISTERED;
  }
}

static void
writer_key_init(void)
{
  writer_key_ok = !pthread_key_create(&writer_key, writer_thread_exit);
}

/*
  Make the calling (writer) thread a registered liburcu thread.  Returns
  true if the registration is temporary and must be undone after the
  call_rcu(): that happens only if no thread-exit hook could be installed,
  since a thread that exits registered leaves a dangling entry behind.
*/
static bool
register_writer(void)
{
  if (tls_registration != RTL_SNAPSHOT_UNREGISTERED) {
    return false;
  }

  urcu_memb_register_thread();
  (void)pthread_once(&writer_key_once, writer_key_init);
  if (writer_key_ok && !pthread_setspecific(writer_key, &writer_key)) {
    tls_registration = RTL_SNAPSHOT_WRITER;
    return false;
  }
  return true;
}

static void
reclaim(struct rcu_head* const head)
{
  RtlSnapshotReclaim* const rec =
    (RtlSnapshotReclaim*)(void*)((char*)head -
                                 offsetof(RtlSnapshotReclaim, head));

  TSAN_ACQUIRE(rec);
  RtlSnapshot* const snapshot = rec->snapshot;
  TSAN_ACQUIRE(&snapshot->readers_done);
  snapshot->free_func(rec->state, snapshot->user_data);
  rtl_free(snapshot->allocator, rec);
  TSAN_RELEASE(&snapshot->reclaimed);
}

RtlStatus
rtl_snapshot_new(RtlAllocator* const       allocator,
                 void* const               initial,
                 const RtlSnapshotFreeFunc free_func,
                 void* const               user_data,
                 RtlSnapshot** const       snapshot)
{
  if (!snapshot) {
    return RTL_BAD_ARG;
  }
  *snapshot = NULL;

  RtlSnapshot* const s = (RtlSnapshot*)rtl_aligned_alloc(
    allocator, RTL_CACHE_LINE, sizeof(RtlSnapshot));
  if (!s) {
    return RTL_NO_MEM;
  }

  s->allocator = allocator;
  s->free_func = free_func;
  s->user_data = user_data;
  // Release, as rcu_set_pointer: whatever hands the holder to readers
  // carries `initial`'s contents along.
  atomic_store_explicit(&s->current, initial, memory_order_release);

  // Start liburcu's call_rcu thread now, so that the first publish does not
  // pay for creating it.
  (void)urcu_memb_get_default_call_rcu_data();

  *snapshot = s;
  return RTL_SUCCESS;
}

void
rtl_snapshot_free(RtlSnapshot* const snapshot)
{
  if (!snapshot) {
    return;
  }

  // Readers still inside a critical section may hold the current state, and
  // pending reclamations refer to this holder: wait for both.
  urcu_memb_synchronize_rcu();
  urcu_memb_barrier();
  TSAN_ACQUIRE(&snapshot->readers_done);
  TSAN_ACQUIRE(&snapshot->reclaimed);

  void* const state =
    atomic_load_explicit(&snapshot->current, memory_order_acquire);
  if (state && snapshot->free_func) {
    snapshot->free_func(state, snapshot->user_data);
  }
  rtl_aligned_free(snapshot->allocator, snapshot);
}

RtlStatus
rtl_snapshot_publish(RtlSnapshot* const snapshot, void* const state)
{
  if (!snapshot) {
    return RTL_BAD_ARG;
  }

  // Allocate before publishing, so that a failure changes nothing.  States
  // that are not owned need no record at all.
  RtlSnapshotReclaim* rec = NULL;
  if (snapshot->free_func) {
    rec = (RtlSnapshotReclaim*)rtl_malloc(snapshot->allocator, sizeof(*rec));
    if (!rec) {
      return RTL_NO_MEM;
    }
  }

  // The exchange hands each replaced state to exactly one writer, so
  // concurrent publishers never free the same state twice.  Its release
  // half pairs with the readers' acquire load; sequentially consistent
  // makes it the full barrier that liburcu's rcu_xchg_pointer is, and that
  // snapshot.h promises.
  void* const old =
    atomic_exchange_explicit(&snapshot->current, state, memory_order_seq_cst);

  if (!rec) {
    return RTL_SUCCESS;
  }
  if (!old || old == state) {
    // Nothing was replaced (or the same state was published again).
    rtl_free(snapshot->allocator, rec);
    return RTL_SUCCESS;
  }

  rec->snapshot = snapshot;
  rec->state    = old;
  TSAN_RELEASE(rec);

  const bool temporary = register_writer();
  urcu_memb_call_rcu(&rec->head, reclaim);
  if (temporary) {
    urcu_memb_unregister_thread();
  }
  return RTL_SUCCESS;
}

void
rtl_snapshot_barrier(RtlSnapshot* const snapshot)
{
  if (!snapshot) {
    return;
  }

  if (snapshot->free_func) {
    urcu_memb_barrier();
    TSAN_ACQUIRE(&snapshot->reclaimed);
  } else {
    // Nothing is reclaimed, but the caller may still want to know that no
    // reader holds a replaced state any more.
    urcu_memb_synchronize_rcu();
  }
  TSAN_ACQUIRE(&snapshot->readers_done);
}

void
rtl_snapshot_register_thread(void)
{
  if (tls_registration == RTL_SNAPSHOT_UNREGISTERED) {
    urcu_memb_register_thread();
  }
  // A writer that becomes a reader is now unregistered explicitly, not at
  // thread exit (the exit hook only undoes writer registrations).
  tls_registration = RTL_SNAPSHOT_READER;

  /*
    Take the whole read path once, here, off the RT path: this resolves
    the lazily bound library calls and touches liburcu's thread-local
    reader record (which a dynamically loaded library would allocate on
    first access), so the first real read does neither.
  */
  urcu_memb_read_lock();
  (void)atomic_load_explicit(&warm_up_pointer, memory_order_acquire);
  urcu_memb_read_unlock();
}

void
rtl_snapshot_unregister_thread(void)
{
  if (tls_registration == RTL_SNAPSHOT_READER) {
    urcu_memb_unregister_thread();
    tls_registration = RTL_SNAPSHOT_UNREGISTERED;
  }
}

RTL_REALTIME const void*
rtl_snapshot_read_begin(RtlSnapshot* const snapshot)
{
  // liburcu is not declared nonblocking; its read lock is a thread-local
  // counter update (see the top of this file).
  RTL_EFFECTS_EXCEPTION_BEGIN
  urcu_memb_read_lock();
  RTL_EFFECTS_EXCEPTION_END
  if (!snapshot) {
    return NULL;
  }
  // Acquire, pairing with the publisher's exchange: the writes made before
  // the publish (the state, and anything else such as events sent on a
  // ring) are visible once the state is.  Loaded after the read lock, so
  // the grace period that would free it waits for this reader.
  return atomic_load_explicit(&snapshot->current, memory_order_acquire);
}

RTL_REALTIME void
rtl_snapshot_read_end(RtlSnapshot* const snapshot)
{
  // The documented exception: the unlock may FUTEX_WAKE a waiting grace
  // period (and TSan builds call into TSan).
  RTL_EFFECTS_EXCEPTION_BEGIN
  if (snapshot) {
    TSAN_RELEASE(&snapshot->readers_done);
  }
  urcu_memb_read_unlock();
  RTL_EFFECTS_EXCEPTION_END
}
