// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "common.h" // RTL_CACHE_LINE
#include "support/failing_allocator.h"
#include "support/stress.h"

#include <rtlane/snapshot.h>
#include <rtlane/status.h>

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

Suite*
rtl_suite_snapshot(void);

/* --- simple states: slots in an array, freed by counting --------------- */

#define N_SLOTS 128

typedef struct {
  int         value[N_SLOTS];
  atomic_uint n_freed[N_SLOTS];
  atomic_uint n_wrong_user;
  atomic_uint n_total;
} Slots;

static void
slots_init(Slots* const s)
{
  for (int i = 0; i < N_SLOTS; ++i) {
    s->value[i] = i;
    atomic_init(&s->n_freed[i], 0U);
  }
  atomic_init(&s->n_wrong_user, 0U);
  atomic_init(&s->n_total, 0U);
}

static void
slot_free(void* const state, void* const user_data)
{
  Slots* const s   = (Slots*)user_data;
  const int*   p   = (const int*)state;
  const long   idx = p - s->value;
  if (idx < 0 || idx >= N_SLOTS) {
    atomic_fetch_add(&s->n_wrong_user, 1U);
    return;
  }
  atomic_fetch_add(&s->n_freed[idx], 1U);
  atomic_fetch_add(&s->n_total, 1U);
}

static unsigned
freed(Slots* const s, const int i)
{
  return atomic_load(&s->n_freed[i]);
}

static unsigned
total(Slots* const s)
{
  return atomic_load(&s->n_total);
}

static unsigned
wrong_user(Slots* const s)
{
  return atomic_load(&s->n_wrong_user);
}

static const int*
read_now(RtlSnapshot* const snap)
{
  const int* const p = (const int*)rtl_snapshot_read_begin(snap);
  rtl_snapshot_read_end(snap);
  return p;
}

START_TEST(test_publish_read)
{
  static Slots s;
  slots_init(&s);
  rtl_snapshot_register_thread();

  RtlSnapshot* snap = NULL;
  ck_assert_int_eq(rtl_snapshot_new(NULL, &s.value[0], slot_free, &s, &snap),
                   RTL_SUCCESS);
  ck_assert_ptr_nonnull(snap);

  const int* p = (const int*)rtl_snapshot_read_begin(snap);
  ck_assert_ptr_eq(p, &s.value[0]);
  ck_assert_int_eq(*p, 0);
  rtl_snapshot_read_end(snap);

  ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[1]), RTL_SUCCESS);
  ck_assert_ptr_eq(read_now(snap), &s.value[1]);
  ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[2]), RTL_SUCCESS);

  // Nested read sections see the same state; the outer one keeps it alive.
  p = (const int*)rtl_snapshot_read_begin(snap);
  ck_assert_ptr_eq(p, &s.value[2]);
  ck_assert_ptr_eq(read_now(snap), &s.value[2]);
  rtl_snapshot_read_end(snap);

  rtl_snapshot_barrier(snap);
  ck_assert_uint_eq(freed(&s, 0), 1U);
  ck_assert_uint_eq(freed(&s, 1), 1U);
  ck_assert_uint_eq(freed(&s, 2), 0U);

  rtl_snapshot_free(snap);
  ck_assert_uint_eq(freed(&s, 2), 1U);
  ck_assert_uint_eq(total(&s), 3U);
  ck_assert_uint_eq(wrong_user(&s), 0U);
  rtl_snapshot_unregister_thread();
}
END_TEST

START_TEST(test_null_initial)
{
  static Slots s;
  slots_init(&s);
  rtl_snapshot_register_thread();

  RtlSnapshot* snap = NULL;
  ck_assert_int_eq(rtl_snapshot_new(NULL, NULL, slot_free, &s, &snap),
                   RTL_SUCCESS);
  ck_assert_ptr_null(read_now(snap));

  ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[5]), RTL_SUCCESS);
  ck_assert_ptr_eq(read_now(snap), &s.value[5]);

  // Publishing NULL withdraws the state; NULL itself is never "freed".
  ck_assert_int_eq(rtl_snapshot_publish(snap, NULL), RTL_SUCCESS);
  ck_assert_ptr_null(read_now(snap));
  rtl_snapshot_barrier(snap);
  ck_assert_uint_eq(freed(&s, 5), 1U);

  rtl_snapshot_free(snap);
  ck_assert_uint_eq(total(&s), 1U);
  ck_assert_uint_eq(wrong_user(&s), 0U);

  // A holder without a free function never touches its states.
  ck_assert_int_eq(rtl_snapshot_new(NULL, &s.value[7], NULL, NULL, &snap),
                   RTL_SUCCESS);
  ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[8]), RTL_SUCCESS);
  ck_assert_ptr_eq(read_now(snap), &s.value[8]);
  rtl_snapshot_barrier(snap);
  rtl_snapshot_free(snap);
  ck_assert_uint_eq(total(&s), 1U);
  rtl_snapshot_unregister_thread();
}
END_TEST

START_TEST(test_free_once_each)
{
  static Slots s;
  slots_init(&s);

  RtlSnapshot* snap = NULL;
  ck_assert_int_eq(rtl_snapshot_new(NULL, &s.value[0], slot_free, &s, &snap),
                   RTL_SUCCESS);
  for (int i = 1; i < N_SLOTS; ++i) {
    ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[i]), RTL_SUCCESS);
    // Publishing the current state again must not free it.
    if (i % 10 == 0) {
      ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[i]), RTL_SUCCESS);
    }
  }

  rtl_snapshot_barrier(snap);
  for (int i = 0; i < N_SLOTS - 1; ++i) {
    ck_assert_uint_eq(freed(&s, i), 1U);
  }
  ck_assert_uint_eq(freed(&s, N_SLOTS - 1), 0U);
  ck_assert_uint_eq(total(&s), (unsigned)N_SLOTS - 1U);

  // A second barrier finds nothing more to do.
  rtl_snapshot_barrier(snap);
  ck_assert_uint_eq(total(&s), (unsigned)N_SLOTS - 1U);

  rtl_snapshot_free(snap);
  ck_assert_uint_eq(freed(&s, N_SLOTS - 1), 1U);
  ck_assert_uint_eq(total(&s), (unsigned)N_SLOTS);
  ck_assert_uint_eq(wrong_user(&s), 0U);
}
END_TEST

START_TEST(test_bad_args)
{
  static Slots s;
  slots_init(&s);
  ck_assert_int_eq(rtl_snapshot_new(NULL, &s.value[0], slot_free, &s, NULL),
                   RTL_BAD_ARG);
  ck_assert_int_eq(rtl_snapshot_publish(NULL, &s.value[0]), RTL_BAD_ARG);
  rtl_snapshot_barrier(NULL);
  rtl_snapshot_free(NULL);
  ck_assert_uint_eq(total(&s), 0U);

  // Registering twice and unregistering twice is harmless.
  rtl_snapshot_register_thread();
  rtl_snapshot_register_thread();
  rtl_snapshot_unregister_thread();
  rtl_snapshot_unregister_thread();
}
END_TEST

/* --- allocation failures ------------------------------------------------ */

START_TEST(test_new_no_mem)
{
  static Slots s;
  slots_init(&s);

  RtlFailingAllocator a    = rtl_failing_allocator();
  RtlSnapshot*        snap = NULL;
  ck_assert_int_eq(rtl_snapshot_new(&a.base, &s.value[0], slot_free, &s, &snap),
                   RTL_SUCCESS);
  const size_t n = a.n_allocations;
  ck_assert_uint_ge(n, 1U);
  rtl_snapshot_free(snap);
  ck_assert_uint_eq(a.n_live, 0U);
  ck_assert_uint_eq(freed(&s, 0), 1U);

  for (size_t i = 0U; i < n; ++i) {
    a.n_remaining = i;
    snap          = (RtlSnapshot*)&a; // must be overwritten
    ck_assert_int_eq(
      rtl_snapshot_new(&a.base, &s.value[1], slot_free, &s, &snap), RTL_NO_MEM);
    ck_assert_ptr_null(snap);
    ck_assert_uint_eq(a.n_live, 0U);
  }
  // A failed constructor leaves the initial state to the caller.
  ck_assert_uint_eq(freed(&s, 1), 0U);
}
END_TEST

START_TEST(test_publish_no_mem)
{
  static Slots s;
  slots_init(&s);
  rtl_snapshot_register_thread();

  RtlFailingAllocator a    = rtl_failing_allocator();
  RtlSnapshot*        snap = NULL;
  ck_assert_int_eq(rtl_snapshot_new(&a.base, &s.value[0], slot_free, &s, &snap),
                   RTL_SUCCESS);

  // The record cannot be allocated: nothing changes, the old state stays
  // visible and owned by the holder, the new one stays the caller's.
  a.n_remaining = 0U;
  ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[1]), RTL_NO_MEM);
  ck_assert_ptr_eq(read_now(snap), &s.value[0]);
  rtl_snapshot_barrier(snap);
  ck_assert_uint_eq(total(&s), 0U);

  // With memory again, publishing works and the replaced state is freed
  // (the barrier orders the allocator's bookkeeping on liburcu's thread
  // before the next allocation here).
  a.n_remaining = SIZE_MAX;
  ck_assert_int_eq(rtl_snapshot_publish(snap, &s.value[2]), RTL_SUCCESS);
  ck_assert_ptr_eq(read_now(snap), &s.value[2]);
  rtl_snapshot_barrier(snap);
  ck_assert_uint_eq(freed(&s, 0), 1U);
  ck_assert_uint_eq(freed(&s, 1), 0U);

  rtl_snapshot_free(snap);
  ck_assert_uint_eq(freed(&s, 2), 1U);
  ck_assert_uint_eq(total(&s), 2U);
  ck_assert_uint_eq(a.n_live, 0U);
  rtl_snapshot_unregister_thread();
}
END_TEST

/* --- a reader holding a state ------------------------------------------ */

typedef struct {
  RtlSnapshot* snap;
  atomic_int   inside;
  atomic_int   go;
  const int*   seen;
  int          value_after;
} Holder;

static void
sleep_ms(const long ms)
{
  const struct timespec t = {0, ms * 1000000L};
  nanosleep(&t, NULL);
}

static void*
holder_thread(void* const arg)
{
  Holder* const h = (Holder*)arg;
  rtl_snapshot_register_thread();
  h->seen = (const int*)rtl_snapshot_read_begin(h->snap);
  atomic_store_explicit(&h->inside, 1, memory_order_release);
  while (!atomic_load_explicit(&h->go, memory_order_acquire)) {
    sleep_ms(1);
  }
  h->value_after = *h->seen;
  rtl_snapshot_read_end(h->snap);
  rtl_snapshot_unregister_thread();
  return NULL;
}

START_TEST(test_reader_holds_state)
{
  static Slots s;
  slots_init(&s);
  Holder h = {NULL, 0, 0, NULL, -1};
  ck_assert_int_eq(rtl_snapshot_new(NULL, &s.value[3], slot_free, &s, &h.snap),
                   RTL_SUCCESS);
  atomic_init(&h.inside, 0);
  atomic_init(&h.go, 0);

  pthread_t reader;
  ck_assert_int_eq(pthread_create(&reader, NULL, holder_thread, &h), 0);
  while (!atomic_load_explicit(&h.inside, memory_order_acquire)) {
    sleep_ms(1);
  }

  // The reader is inside its critical section with state 3: replacing it
  // must not free it, however long the reclamation thread has.
  ck_assert_int_eq(rtl_snapshot_publish(h.snap, &s.value[4]), RTL_SUCCESS);
  for (int i = 0; i < 20; ++i) {
    sleep_ms(5);
    ck_assert_uint_eq(freed(&s, 3), 0U);
  }
  atomic_store_explicit(&h.go, 1, memory_order_release);
  ck_assert_int_eq(pthread_join(reader, NULL), 0);
  ck_assert_ptr_eq(h.seen, &s.value[3]);
  ck_assert_int_eq(h.value_after, 3);

  // Once it has left, the barrier sees the state freed exactly once.
  rtl_snapshot_barrier(h.snap);
  ck_assert_uint_eq(freed(&s, 3), 1U);
  rtl_snapshot_free(h.snap);
  ck_assert_uint_eq(freed(&s, 4), 1U);
  ck_assert_uint_eq(total(&s), 2U);
}
END_TEST

/* --- writers on short-lived threads ------------------------------------ */

typedef struct {
  RtlSnapshot* snap;
  Slots*       slots;
  int          first;
  int          count;
  RtlStatus    status;
} ShortWriter;

static void*
short_writer(void* const arg)
{
  ShortWriter* const w = (ShortWriter*)arg;
  w->status            = RTL_SUCCESS;
  for (int i = 0; i < w->count && w->status == RTL_SUCCESS; ++i) {
    w->status = rtl_snapshot_publish(w->snap, &w->slots->value[w->first + i]);
  }
  return NULL;
}

START_TEST(test_writer_threads_exit)
{
  // Each publishing thread is registered with liburcu for call_rcu and must
  // be unregistered when it exits, or later grace periods would scan a
  // dead thread's reader record.
  static Slots s;
  slots_init(&s);
  RtlSnapshot* snap = NULL;
  ck_assert_int_eq(rtl_snapshot_new(NULL, &s.value[0], slot_free, &s, &snap),
                   RTL_SUCCESS);

  int next = 1;
  for (int round = 0; round < 8; ++round) {
    ShortWriter w = {snap, &s, next, 10, RTL_FAILURE};
    pthread_t   t;
    ck_assert_int_eq(pthread_create(&t, NULL, short_writer, &w), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(w.status, RTL_SUCCESS);
    next += w.count;
    rtl_snapshot_barrier(snap);
    ck_assert_uint_eq(total(&s), (unsigned)next - 1U);
  }
  rtl_snapshot_register_thread();
  ck_assert_ptr_eq(read_now(snap), &s.value[next - 1]);
  rtl_snapshot_unregister_thread();
  rtl_snapshot_free(snap);
  ck_assert_uint_eq(total(&s), (unsigned)next);
  for (int i = 0; i < next; ++i) {
    ck_assert_uint_eq(freed(&s, i), 1U);
  }
}
END_TEST

/* --- writes made before a publish -------------------------------------- */

/*
  The daemon's /sync relies on this: the control thread sends a round's
  events on a ring and then publishes the round's snapshot, and a reader
  that sees the snapshot must see the events.  Those writes are not reached
  through the published pointer, so only an acquire load of the pointer
  orders them.  `before` is plain memory, written once per state before the
  state is published: TSan reports a race here if the load is not acquire,
  and on a weakly ordered CPU the values would be stale.
*/

#define B_STATES 4096

typedef struct {
  RtlSnapshot* snap;
  uint64_t     seq[B_STATES];    ///< The published states
  uint64_t     before[B_STATES]; ///< Written before each publish, never after
  atomic_int   started;
  uint64_t     n_seen;  ///< Distinct states the reader saw
  uint64_t     n_stale; ///< Seen states whose write was missing
} Before;

static void*
before_reader(void* const arg)
{
  Before* const b = (Before*)arg;
  rtl_snapshot_register_thread();
  atomic_store_explicit(&b->started, 1, memory_order_release);

  // Until the last state: it stays published, so the loop ends.
  uint64_t last = 0U;
  while (last != B_STATES - 1U) {
    const uint64_t* const s = (const uint64_t*)rtl_snapshot_read_begin(b->snap);
    if (s && *s != last) {
      last = *s;
      ++b->n_seen;
      if (b->before[last] != last) {
        ++b->n_stale;
      }
    }
    rtl_snapshot_read_end(b->snap);
  }
  rtl_snapshot_unregister_thread();
  return NULL;
}

START_TEST(test_writes_before_publish_visible)
{
  static Before b;
  memset(&b, 0, sizeof(b));
  atomic_init(&b.started, 0);
  for (uint64_t i = 0U; i < B_STATES; ++i) {
    b.seq[i] = i;
  }
  ck_assert_int_eq(rtl_snapshot_new(NULL, &b.seq[0], NULL, NULL, &b.snap),
                   RTL_SUCCESS);

  pthread_t reader;
  ck_assert_int_eq(pthread_create(&reader, NULL, before_reader, &b), 0);
  while (!atomic_load_explicit(&b.started, memory_order_acquire)) {
    sched_yield();
  }
  for (uint64_t i = 1U; i < B_STATES; ++i) {
    b.before[i] = i;
    ck_assert_int_eq(rtl_snapshot_publish(b.snap, &b.seq[i]), RTL_SUCCESS);
    if (!(i % 64U)) {
      sched_yield();
    }
  }
  ck_assert_int_eq(pthread_join(reader, NULL), 0);

  ck_assert_uint_gt(b.n_seen, 0U);
  ck_assert_uint_eq(b.n_stale, 0U);
  rtl_snapshot_free(b.snap);
}
END_TEST

/* --- torture ------------------------------------------------------------ */

#define T_PAYLOAD 61
#define T_LIVE 0x5AFE5AFE5AFE5AFEULL
#define T_DEAD 0xDEADDEADDEADDEADULL
#define T_MAX_WRITERS 2
#define T_MAX_READERS 3

typedef struct {
  uint64_t magic;
  uint64_t seq; ///< Per writer, from 1; the initial state has 0
  uint32_t writer;
  uint32_t payload[T_PAYLOAD];
  uint64_t checksum;
} TState;

typedef struct {
  RtlSnapshot* snap;
  int          n_writers;
  int          n_readers;
  uint64_t     per_writer; ///< States each writer publishes
  atomic_int   n_ready;    ///< Readers that have read once
  atomic_int   stop;
  _Alignas(RTL_CACHE_LINE)
    atomic_uint_fast64_t latest[T_MAX_WRITERS]; ///< After publish returns
  atomic_uint_fast64_t n_freed;
  atomic_uint_fast64_t n_bad_free; ///< Freed twice or freed a non-state
  atomic_uint_fast64_t n_publish_fail;
} Torture;

typedef struct {
  Torture* t;
  int      id;
  uint64_t n_reads;
  uint64_t n_null;
  uint64_t n_bad_magic;
  uint64_t n_bad_sum;
  uint64_t n_bad_writer;
  uint64_t n_backwards;
  uint64_t n_stale;
  uint64_t final_seq;
} TReader;

static uint32_t
t_mix(const uint64_t seq, const uint32_t writer, const uint32_t i)
{
  uint64_t x = seq * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)writer << 40) ^ i;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 32;
  return (uint32_t)x;
}

static uint64_t
t_checksum(const TState* const s)
{
  uint64_t h = 1469598103934665603ULL ^ s->seq ^ ((uint64_t)s->writer << 56);
  for (int i = 0; i < T_PAYLOAD; ++i) {
    h = (h ^ s->payload[i]) * 1099511628211ULL;
  }
  return h;
}

static TState*
t_make(const uint32_t writer, const uint64_t seq)
{
  TState* const s = (TState*)malloc(sizeof(TState));
  if (!s) {
    return NULL;
  }
  s->magic  = T_LIVE;
  s->seq    = seq;
  s->writer = writer;
  for (uint32_t i = 0U; i < T_PAYLOAD; ++i) {
    s->payload[i] = t_mix(seq, writer, i);
  }
  s->checksum = t_checksum(s);
  return s;
}

static void
t_free(void* const state, void* const user_data)
{
  Torture* const t = (Torture*)user_data;
  TState* const  s = (TState*)state;
  if (s->magic != T_LIVE || s->checksum != t_checksum(s)) {
    atomic_fetch_add(&t->n_bad_free, 1U);
  }
  // Poison, so that a reader that still held it would see garbage even if
  // the allocator does not reuse the memory at once.
  s->magic = T_DEAD;
  s->seq   = UINT64_MAX;
  memset(s->payload, 0xA5, sizeof(s->payload));
  s->checksum = 0U;
  free(s);
  atomic_fetch_add(&t->n_freed, 1U);
}

/// One read: check the state whole and against what this reader saw before.
static void
t_read_once(TReader* const r, uint64_t* const last_seq)
{
  Torture* const t = r->t;

  // Sampled before entering: a state published before this point must be
  // visible (single writer: versions are totally ordered).
  const uint64_t floor_seq =
    t->n_writers == 1
      ? atomic_load_explicit(&t->latest[0], memory_order_acquire)
      : 0U;

  const TState* const s = (const TState*)rtl_snapshot_read_begin(t->snap);
  ++r->n_reads;
  if (!s) {
    ++r->n_null;
  } else if (s->magic != T_LIVE) {
    ++r->n_bad_magic;
  } else if (s->checksum != t_checksum(s)) {
    ++r->n_bad_sum;
  } else if (s->writer >= (uint32_t)t->n_writers) {
    ++r->n_bad_writer;
  } else {
    // Each writer's own versions never go backwards for one reader.
    if (s->seq < last_seq[s->writer]) {
      ++r->n_backwards;
    }
    last_seq[s->writer] = s->seq;
    if (s->seq < floor_seq) {
      ++r->n_stale;
    }
    r->final_seq = s->seq;
  }
  rtl_snapshot_read_end(t->snap);
}

static void*
t_reader(void* const arg)
{
  TReader* const r                       = (TReader*)arg;
  Torture* const t                       = r->t;
  uint64_t       last_seq[T_MAX_WRITERS] = {0U};

  rtl_snapshot_register_thread();
  t_read_once(r, last_seq);
  atomic_fetch_add_explicit(&t->n_ready, 1, memory_order_release);
  while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
    t_read_once(r, last_seq);
  }
  // Every writer has finished: this read must see a final state.
  t_read_once(r, last_seq);
  rtl_snapshot_unregister_thread();
  return NULL;
}

typedef struct {
  Torture* t;
  uint32_t id;
} TWriter;

static void*
t_writer(void* const arg)
{
  TWriter* const w = (TWriter*)arg;
  Torture* const t = w->t;
  while (atomic_load_explicit(&t->n_ready, memory_order_acquire) <
         t->n_readers) {
    sched_yield();
  }
  for (uint64_t seq = 1U; seq <= t->per_writer; ++seq) {
    TState* const s = t_make(w->id, seq);
    if (!s || rtl_snapshot_publish(t->snap, s) != RTL_SUCCESS) {
      atomic_fetch_add(&t->n_publish_fail, 1U);
      free(s);
      continue;
    }
    atomic_store_explicit(&t->latest[w->id], seq, memory_order_release);
  }
  return NULL;
}

static uint64_t
load64(atomic_uint_fast64_t* const a)
{
  return atomic_load(a);
}

static void
run_torture(const int n_writers, const int n_readers)
{
  static Torture t;
  memset(&t, 0, sizeof(t));
  t.n_writers  = n_writers;
  t.n_readers  = n_readers;
  t.per_writer = rtl_stress_count(200000U) / (uint64_t)n_writers;
  atomic_init(&t.n_ready, 0);
  atomic_init(&t.stop, 0);
  for (int i = 0; i < T_MAX_WRITERS; ++i) {
    atomic_init(&t.latest[i], 0U);
  }
  atomic_init(&t.n_freed, 0U);
  atomic_init(&t.n_bad_free, 0U);
  atomic_init(&t.n_publish_fail, 0U);

  TState* const initial = t_make(0U, 0U);
  ck_assert_ptr_nonnull(initial);
  ck_assert_int_eq(rtl_snapshot_new(NULL, initial, t_free, &t, &t.snap),
                   RTL_SUCCESS);

  TReader   readers[T_MAX_READERS];
  TWriter   writers[T_MAX_WRITERS];
  pthread_t rt[T_MAX_READERS];
  pthread_t wt[T_MAX_WRITERS];
  for (int i = 0; i < n_readers; ++i) {
    memset(&readers[i], 0, sizeof(readers[i]));
    readers[i].t  = &t;
    readers[i].id = i;
    ck_assert_int_eq(pthread_create(&rt[i], NULL, t_reader, &readers[i]), 0);
  }
  for (int i = 0; i < n_writers; ++i) {
    writers[i].t  = &t;
    writers[i].id = (uint32_t)i;
    ck_assert_int_eq(pthread_create(&wt[i], NULL, t_writer, &writers[i]), 0);
  }
  for (int i = 0; i < n_writers; ++i) {
    ck_assert_int_eq(pthread_join(wt[i], NULL), 0);
  }
  atomic_store_explicit(&t.stop, 1, memory_order_release);
  for (int i = 0; i < n_readers; ++i) {
    ck_assert_int_eq(pthread_join(rt[i], NULL), 0);
  }

  const uint64_t published = t.per_writer * (uint64_t)n_writers;
  ck_assert_uint_eq(load64(&t.n_publish_fail), 0U);

  for (int i = 0; i < n_readers; ++i) {
    const TReader* const r = &readers[i];
    ck_assert_uint_eq(r->n_null, 0U);
    ck_assert_uint_eq(r->n_bad_magic, 0U);
    ck_assert_uint_eq(r->n_bad_sum, 0U);
    ck_assert_uint_eq(r->n_bad_writer, 0U);
    ck_assert_uint_eq(r->n_backwards, 0U);
    ck_assert_uint_eq(r->n_stale, 0U);
    // The last read, after every writer finished, sees a last version.
    ck_assert_uint_eq(r->final_seq, t.per_writer);
  }

  // Every replaced state is freed exactly once; the current one on free.
  rtl_snapshot_barrier(t.snap);
  ck_assert_uint_eq(load64(&t.n_freed), published);
  rtl_snapshot_free(t.snap);
  ck_assert_uint_eq(load64(&t.n_freed), published + 1U);
  ck_assert_uint_eq(load64(&t.n_bad_free), 0U);
}

START_TEST(test_torture_one_writer)
{
  run_torture(1, 3);
}
END_TEST

START_TEST(test_torture_two_writers)
{
  run_torture(2, 2);
}
END_TEST

Suite*
rtl_suite_snapshot(void)
{
  Suite* const s    = suite_create("snapshot");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_publish_read);
  tcase_add_test(core, test_null_initial);
  tcase_add_test(core, test_free_once_each);
  tcase_add_test(core, test_bad_args);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_add_test(limits, test_new_no_mem);
  tcase_add_test(limits, test_publish_no_mem);
  suite_add_tcase(s, limits);

  TCase* const threads = tcase_create("threads");
  tcase_set_timeout(threads, 120.0);
  tcase_add_test(threads, test_reader_holds_state);
  tcase_add_test(threads, test_writer_threads_exit);
  tcase_add_test(threads, test_writes_before_publish_visible);
  tcase_add_test(threads, test_torture_one_writer);
  tcase_add_test(threads, test_torture_two_writers);
  suite_add_tcase(s, threads);
  return s;
}
