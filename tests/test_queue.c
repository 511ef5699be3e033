// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "support/failing_allocator.h"
#include "support/stress.h"

#include <rtlane/allocator.h>
#include <rtlane/queue.h>
#include <rtlane/status.h>

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

Suite*
rtl_suite_queue(void);

static RtlQueue*
new_queue(const size_t capacity, const size_t elem_size)
{
  RtlQueue* queue = NULL;
  ck_assert_int_eq(rtl_queue_new(NULL, capacity, elem_size, &queue),
                   RTL_SUCCESS);
  ck_assert_ptr_nonnull(queue);
  return queue;
}

static uint64_t
mix64(uint64_t x)
{
  x += 0x9E3779B97F4A7C15U;
  x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9U;
  x = (x ^ (x >> 27U)) * 0x94D049BB133111EBU;
  return x ^ (x >> 31U);
}

// --- core ---------------------------------------------------------------

START_TEST(test_new_and_getters)
{
  static const size_t caps[]  = {2U, 4U, 64U, 1024U};
  static const size_t sizes[] = {1U, 3U, 8U, 67U, 256U};
  for (size_t c = 0U; c < sizeof(caps) / sizeof(caps[0]); ++c) {
    for (size_t s = 0U; s < sizeof(sizes) / sizeof(sizes[0]); ++s) {
      RtlQueue* const q = new_queue(caps[c], sizes[s]);
      ck_assert_uint_eq(rtl_queue_capacity(q), caps[c]);
      ck_assert_uint_eq(rtl_queue_elem_size(q), sizes[s]);
      ck_assert_uint_eq(rtl_queue_size(q), 0U);

      unsigned char buf[256];
      memset(buf, 0x5A, sizeof(buf));
      ck_assert_int_eq(rtl_queue_pop(q, buf), RTL_EMPTY);
      for (size_t i = 0U; i < sizeof(buf); ++i) {
        ck_assert_uint_eq(buf[i], 0x5AU);
      }
      rtl_queue_free(q);
    }
  }
  rtl_queue_free(NULL);
}
END_TEST

START_TEST(test_fifo_and_size)
{
  RtlQueue* const q = new_queue(8U, sizeof(uint64_t));
  for (uint64_t i = 0U; i < 8U; ++i) {
    const uint64_t v = mix64(i);
    ck_assert_int_eq(rtl_queue_push(q, &v), RTL_SUCCESS);
    ck_assert_uint_eq(rtl_queue_size(q), i + 1U);
  }
  for (uint64_t i = 0U; i < 8U; ++i) {
    uint64_t v = 0U;
    ck_assert_int_eq(rtl_queue_pop(q, &v), RTL_SUCCESS);
    ck_assert_uint_eq(v, mix64(i));
    ck_assert_uint_eq(rtl_queue_size(q), 7U - i);
  }
  rtl_queue_free(q);
}
END_TEST

START_TEST(test_failing_allocator)
{
  RtlFailingAllocator a = rtl_failing_allocator();
  RtlQueue*           q = NULL;
  ck_assert_int_eq(rtl_queue_new(&a.base, 16U, 24U, &q), RTL_SUCCESS);
  const size_t n = a.n_allocations;
  ck_assert_uint_ge(n, 1U);
  ck_assert_uint_eq(a.n_live, n);

  // The allocator it was made with is the one that frees it.
  rtl_queue_free(q);
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n; ++i) {
    a.n_allocations = 0U;
    a.n_remaining   = i;
    q               = (RtlQueue*)&a; // must be overwritten
    ck_assert_int_eq(rtl_queue_new(&a.base, 16U, 24U, &q), RTL_NO_MEM);
    ck_assert_ptr_null(q);
    ck_assert_uint_eq(a.n_allocations, i + 1U);
    ck_assert_uint_eq(a.n_live, 0U);
  }
}
END_TEST

// --- limits -------------------------------------------------------------

START_TEST(test_capacity_two)
{
  RtlQueue* const q = new_queue(2U, sizeof(int));
  int             v = 1;
  ck_assert_int_eq(rtl_queue_push(q, &v), RTL_SUCCESS);
  v = 2;
  ck_assert_int_eq(rtl_queue_push(q, &v), RTL_SUCCESS);
  v = 3;
  ck_assert_int_eq(rtl_queue_push(q, &v), RTL_FULL);
  ck_assert_int_eq(rtl_queue_push(q, &v), RTL_FULL);
  ck_assert_uint_eq(rtl_queue_size(q), 2U);

  // A refused push overwrote nothing.
  int out = 0;
  ck_assert_int_eq(rtl_queue_pop(q, &out), RTL_SUCCESS);
  ck_assert_int_eq(out, 1);
  ck_assert_int_eq(rtl_queue_push(q, &v), RTL_SUCCESS);
  v = 4;
  ck_assert_int_eq(rtl_queue_push(q, &v), RTL_FULL);
  ck_assert_int_eq(rtl_queue_pop(q, &out), RTL_SUCCESS);
  ck_assert_int_eq(out, 2);
  ck_assert_int_eq(rtl_queue_pop(q, &out), RTL_SUCCESS);
  ck_assert_int_eq(out, 3);

  out = -7;
  ck_assert_int_eq(rtl_queue_pop(q, &out), RTL_EMPTY);
  ck_assert_int_eq(out, -7);
  ck_assert_uint_eq(rtl_queue_size(q), 0U);
  rtl_queue_free(q);
}
END_TEST

START_TEST(test_full_after_exactly_capacity)
{
  for (size_t cap = 2U; cap <= 4096U; cap *= 2U) {
    RtlQueue* const q = new_queue(cap, sizeof(uint32_t));

    // Twice, so that the second round starts one lap in.
    for (int round = 0; round < 2; ++round) {
      uint32_t n_pushed = 0U;
      while (rtl_queue_push(q, &n_pushed) == RTL_SUCCESS) {
        ++n_pushed;
        ck_assert_uint_le(n_pushed, cap);
      }
      ck_assert_uint_eq(n_pushed, cap);
      ck_assert_uint_eq(rtl_queue_size(q), cap);
      ck_assert_int_eq(rtl_queue_push(q, &n_pushed), RTL_FULL);

      uint32_t n_popped = 0U;
      uint32_t v        = 0U;
      while (rtl_queue_pop(q, &v) == RTL_SUCCESS) {
        ck_assert_uint_eq(v, n_popped);
        ++n_popped;
      }
      ck_assert_uint_eq(n_popped, cap);
      ck_assert_uint_eq(rtl_queue_size(q), 0U);
      ck_assert_int_eq(rtl_queue_pop(q, &v), RTL_EMPTY);
    }
    rtl_queue_free(q);
  }
}
END_TEST

START_TEST(test_wraparound)
{
  // Capacity 4 and batches of 1 to 4, so that the positions run through
  // every cell at every fill level over some 100000 laps.
  RtlQueue* const q        = new_queue(4U, sizeof(uint64_t));
  uint64_t        next_in  = 0U;
  uint64_t        next_out = 0U;
  for (uint64_t i = 0U; i < 200000U; ++i) {
    const size_t batch = 1U + (size_t)(mix64(i) % 4U);
    for (size_t k = 0U; k < batch; ++k) {
      const uint64_t v = mix64(next_in);
      ck_assert_int_eq(rtl_queue_push(q, &v), RTL_SUCCESS);
      ++next_in;
    }
    ck_assert_uint_eq(rtl_queue_size(q), next_in - next_out);
    if (batch == 4U) {
      const uint64_t v = 0U;
      ck_assert_int_eq(rtl_queue_push(q, &v), RTL_FULL);
    }
    for (size_t k = 0U; k < batch; ++k) {
      uint64_t v = 0U;
      ck_assert_int_eq(rtl_queue_pop(q, &v), RTL_SUCCESS);
      ck_assert_uint_eq(v, mix64(next_out));
      ++next_out;
    }
    uint64_t v = 0U;
    ck_assert_int_eq(rtl_queue_pop(q, &v), RTL_EMPTY);
  }
  ck_assert_uint_ge(next_in / 4U, 100000U);
  rtl_queue_free(q);
}
END_TEST

START_TEST(test_bad_arguments)
{
  static const size_t not_pow2[] = {0U, 1U, 3U, 5U, 6U, 12U, 1000U, SIZE_MAX};
  RtlFailingAllocator a          = rtl_failing_allocator();
  RtlQueue*           q          = NULL;

  for (size_t i = 0U; i < sizeof(not_pow2) / sizeof(not_pow2[0]); ++i) {
    q = (RtlQueue*)&a;
    ck_assert_int_eq(rtl_queue_new(&a.base, not_pow2[i], 8U, &q), RTL_NOT_POW2);
    ck_assert_ptr_null(q);
  }

  q = (RtlQueue*)&a;
  ck_assert_int_eq(rtl_queue_new(&a.base, 8U, 0U, &q), RTL_BAD_ARG);
  ck_assert_ptr_null(q);
  ck_assert_int_eq(rtl_queue_new(&a.base, 8U, 8U, NULL), RTL_BAD_ARG);

  // Cells that could never be addressed are refused before allocating.
  q = (RtlQueue*)&a;
  ck_assert_int_eq(rtl_queue_new(&a.base, 8U, SIZE_MAX, &q), RTL_NO_MEM);
  ck_assert_ptr_null(q);
  ck_assert_int_eq(rtl_queue_new(&a.base, 8U, SIZE_MAX - 8U, &q), RTL_NO_MEM);
  ck_assert_int_eq(
    rtl_queue_new(&a.base, (size_t)1U << 40U, (size_t)1U << 30U, &q),
    RTL_NO_MEM);
  ck_assert_int_eq(rtl_queue_new(&a.base, (SIZE_MAX >> 1U) + 1U, 1U, &q),
                   RTL_NO_MEM);

  ck_assert_uint_eq(a.n_allocations, 0U);
  ck_assert_uint_eq(a.n_live, 0U);
}
END_TEST

START_TEST(test_odd_element_sizes)
{
  static const size_t sizes[] = {
    1U, 2U, 3U, 5U, 7U, 9U, 15U, 17U, 33U, 63U, 65U, 67U, 127U, 129U, 1001U};
  enum { CAP = 8, GUARD = 16 };

  for (size_t s = 0U; s < sizeof(sizes) / sizeof(sizes[0]); ++s) {
    const size_t    size = sizes[s];
    RtlQueue* const q    = new_queue(CAP, size);

    // Exactly-sized heap buffers, so that ASan sees any read past the end
    // on push; pop writes into a larger buffer whose tail must stay intact.
    unsigned char* const in  = (unsigned char*)malloc(size);
    unsigned char* const out = (unsigned char*)malloc(size + GUARD);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);

    uint64_t n_in  = 0U;
    uint64_t n_out = 0U;
    for (int lap = 0; lap < 5; ++lap) {
      // Fill every cell, so a cell that overlapped its neighbour would
      // corrupt one of them.
      for (int i = 0; i < CAP; ++i) {
        for (size_t j = 0U; j < size; ++j) {
          in[j] = (unsigned char)mix64(n_in * 4099U + j);
        }
        ck_assert_int_eq(rtl_queue_push(q, in), RTL_SUCCESS);
        ++n_in;
      }
      ck_assert_int_eq(rtl_queue_push(q, in), RTL_FULL);

      for (int i = 0; i < CAP; ++i) {
        memset(out, 0xA5, size + GUARD);
        ck_assert_int_eq(rtl_queue_pop(q, out), RTL_SUCCESS);
        for (size_t j = 0U; j < size; ++j) {
          ck_assert_uint_eq(out[j], (unsigned char)mix64(n_out * 4099U + j));
        }
        for (size_t j = size; j < size + GUARD; ++j) {
          ck_assert_uint_eq(out[j], 0xA5U);
        }
        ++n_out;
      }
      ck_assert_int_eq(rtl_queue_pop(q, out), RTL_EMPTY);
    }

    free(out);
    free(in);
    rtl_queue_free(q);
  }
}
END_TEST

// --- threads ------------------------------------------------------------

/*
  Each element says who sent it and which of theirs it is, plus a payload
  derived from both and a checksum over everything: an element copied
  while another thread overwrote it would fail the checksum.
*/
typedef struct {
  uint32_t producer;
  uint32_t salt;
  uint64_t seq;
  uint64_t payload[3];
  uint64_t checksum;
} StressElem;

static uint64_t
stress_checksum(const StressElem* const e)
{
  uint64_t h = mix64(((uint64_t)e->producer << 32U) | e->salt);
  h          = mix64(h ^ e->seq);
  for (size_t i = 0U; i < 3U; ++i) {
    h = mix64(h ^ e->payload[i]);
  }
  return h;
}

static StressElem
stress_make(const uint32_t producer, const uint64_t seq)
{
  StressElem e;
  memset(&e, 0, sizeof(e));
  e.producer = producer;
  e.salt     = (uint32_t)mix64(seq + producer);
  e.seq      = seq;
  for (size_t i = 0U; i < 3U; ++i) {
    e.payload[i] = mix64(seq * 3U + i + ((uint64_t)producer << 48U));
  }
  e.checksum = stress_checksum(&e);
  return e;
}

enum { N_PRODUCERS = 4, MAX_CONSUMERS = 2 };

typedef struct {
  RtlQueue* queue;
  uint64_t  per_producer;
  size_t    n_consumers;

  // Consumers wait until a producer has seen RTL_FULL (or all are done),
  // so that the full path is certain to be taken.
  bool        wait_for_full;
  atomic_bool full_seen;

  atomic_int           producers_done;
  atomic_int           consumers_done;
  atomic_uint_fast64_t n_pushed;
  atomic_uint_fast64_t n_full;

  // Index producer * per_producer + seq; counts receipts (exactly-once).
  atomic_uchar* seen;
} StressShared;

typedef struct {
  StressShared* shared;
  uint32_t      id;

  // Consumer results, read after join.
  uint64_t n_received;
  uint64_t n_torn;
  uint64_t n_bad_id;
  uint64_t n_out_of_order;
} StressThread;

static void*
stress_producer(void* const arg)
{
  StressThread* const self   = (StressThread*)arg;
  StressShared* const shared = self->shared;
  uint64_t            n_ok   = 0U;
  uint64_t            n_full = 0U;

  for (uint64_t seq = 0U; seq < shared->per_producer; ++seq) {
    const StressElem e = stress_make(self->id, seq);
    RtlStatus        st;
    while ((st = rtl_queue_push(shared->queue, &e)) == RTL_FULL) {
      ++n_full;
      atomic_store_explicit(&shared->full_seen, true, memory_order_release);
      sched_yield();
    }
    if (st == RTL_SUCCESS) {
      ++n_ok;
    }
  }

  atomic_fetch_add(&shared->n_pushed, n_ok);
  atomic_fetch_add(&shared->n_full, n_full);
  atomic_fetch_add_explicit(&shared->producers_done, 1, memory_order_release);
  return NULL;
}

static void*
stress_consumer(void* const arg)
{
  StressThread* const self   = (StressThread*)arg;
  StressShared* const shared = self->shared;
  uint64_t            next[N_PRODUCERS];
  memset(next, 0, sizeof(next));

  while (shared->wait_for_full &&
         !atomic_load_explicit(&shared->full_seen, memory_order_acquire) &&
         atomic_load_explicit(&shared->producers_done, memory_order_acquire) <
           N_PRODUCERS) {
    sched_yield();
  }

  for (;;) {
    // Read before popping: if every producer had finished and the queue
    // is still empty, nothing more can arrive (and anything lost is lost).
    const int done =
      atomic_load_explicit(&shared->producers_done, memory_order_acquire);
    StressElem e;
    if (rtl_queue_pop(shared->queue, &e) != RTL_SUCCESS) {
      if (done == N_PRODUCERS) {
        break;
      }
      sched_yield();
      continue;
    }

    ++self->n_received;
    if (e.checksum != stress_checksum(&e)) {
      ++self->n_torn;
      continue;
    }
    if (e.producer >= N_PRODUCERS || e.seq >= shared->per_producer) {
      ++self->n_bad_id;
      continue;
    }

    // With one consumer each producer's elements arrive gapless; with
    // several, each consumer still sees them in increasing order.
    if (shared->n_consumers == 1U ? e.seq != next[e.producer]
                                  : e.seq < next[e.producer]) {
      ++self->n_out_of_order;
    }
    next[e.producer] = e.seq + 1U;
    atomic_fetch_add_explicit(
      &shared->seen[e.producer * shared->per_producer + e.seq],
      (unsigned char)1U,
      memory_order_relaxed);
  }

  atomic_fetch_add_explicit(&shared->consumers_done, 1, memory_order_release);
  return NULL;
}

static void
run_stress(const size_t   capacity,
           const size_t   n_consumers,
           const uint64_t total_wanted,
           const bool     wait_for_full)
{
  StressShared shared;
  memset(&shared, 0, sizeof(shared));
  shared.queue         = new_queue(capacity, sizeof(StressElem));
  shared.per_producer  = (total_wanted + N_PRODUCERS - 1U) / N_PRODUCERS;
  shared.n_consumers   = n_consumers;
  shared.wait_for_full = wait_for_full;
  atomic_init(&shared.full_seen, false);
  atomic_init(&shared.producers_done, 0);
  atomic_init(&shared.consumers_done, 0);
  atomic_init(&shared.n_pushed, 0U);
  atomic_init(&shared.n_full, 0U);

  const uint64_t total = shared.per_producer * N_PRODUCERS;
  shared.seen          = (atomic_uchar*)calloc(total, sizeof(atomic_uchar));
  ck_assert_ptr_nonnull(shared.seen);

  StressThread producers[N_PRODUCERS];
  StressThread consumers[MAX_CONSUMERS];
  pthread_t    producer_threads[N_PRODUCERS];
  pthread_t    consumer_threads[MAX_CONSUMERS];
  memset(producers, 0, sizeof(producers));
  memset(consumers, 0, sizeof(consumers));

  ck_assert_uint_le(n_consumers, MAX_CONSUMERS);
  for (size_t i = 0U; i < n_consumers; ++i) {
    consumers[i].shared = &shared;
    consumers[i].id     = (uint32_t)i;
    ck_assert_int_eq(
      pthread_create(
        &consumer_threads[i], NULL, stress_consumer, &consumers[i]),
      0);
  }
  for (size_t i = 0U; i < N_PRODUCERS; ++i) {
    producers[i].shared = &shared;
    producers[i].id     = (uint32_t)i;
    ck_assert_int_eq(
      pthread_create(
        &producer_threads[i], NULL, stress_producer, &producers[i]),
      0);
  }

  // Meanwhile, the size must stay within [0, capacity] however the
  // positions move under it.
  size_t                max_size = 0U;
  const struct timespec nap      = {0, 1000000L};
  while (atomic_load(&shared.consumers_done) < (int)n_consumers) {
    const size_t n = rtl_queue_size(shared.queue);
    max_size       = n > max_size ? n : max_size;
    nanosleep(&nap, NULL);
  }

  for (size_t i = 0U; i < N_PRODUCERS; ++i) {
    ck_assert_int_eq(pthread_join(producer_threads[i], NULL), 0);
  }

  uint64_t received = 0U;
  for (size_t i = 0U; i < n_consumers; ++i) {
    ck_assert_int_eq(pthread_join(consumer_threads[i], NULL), 0);
    ck_assert_uint_eq(consumers[i].n_torn, 0U);
    ck_assert_uint_eq(consumers[i].n_bad_id, 0U);
    ck_assert_uint_eq(consumers[i].n_out_of_order, 0U);
    received += consumers[i].n_received;
  }

  // Every push either succeeded or said RTL_FULL and was retried: what
  // was accepted is exactly what came out, nothing lost, nothing extra.
  ck_assert_uint_eq(atomic_load(&shared.n_pushed), total);
  ck_assert_uint_eq(received, total);
  for (uint64_t i = 0U; i < total; ++i) {
    if (atomic_load_explicit(&shared.seen[i], memory_order_relaxed) != 1U) {
      ck_abort_msg("element %llu received %u times",
                   (unsigned long long)i,
                   (unsigned)atomic_load(&shared.seen[i]));
    }
  }
  if (wait_for_full) {
    ck_assert_uint_gt(atomic_load(&shared.n_full), 0U);
  }

  ck_assert_uint_le(max_size, capacity);
  ck_assert_uint_eq(rtl_queue_size(shared.queue), 0U);
  StressElem e;
  ck_assert_int_eq(rtl_queue_pop(shared.queue, &e), RTL_EMPTY);

  free(shared.seen);
  rtl_queue_free(shared.queue);
}

START_TEST(test_four_producers_one_consumer)
{
  run_stress(16U, 1U, rtl_stress_count(4000000U), true);
}
END_TEST

START_TEST(test_four_producers_two_consumers)
{
  run_stress(64U, 2U, rtl_stress_count(4000000U), false);
}
END_TEST

START_TEST(test_capacity_two_contended)
{
  // The smallest queue, where every cell is reused all the time and
  // producers and consumers meet at the same cells constantly.
  run_stress(2U, 2U, rtl_stress_count(400000U), true);
}
END_TEST

Suite*
rtl_suite_queue(void)
{
  Suite* const s = suite_create("queue");

  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_new_and_getters);
  tcase_add_test(core, test_fifo_and_size);
  tcase_add_test(core, test_failing_allocator);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_add_test(limits, test_capacity_two);
  tcase_add_test(limits, test_full_after_exactly_capacity);
  tcase_add_test(limits, test_wraparound);
  tcase_add_test(limits, test_bad_arguments);
  tcase_add_test(limits, test_odd_element_sizes);
  tcase_set_timeout(limits, 60.0);
  suite_add_tcase(s, limits);

  TCase* const threads = tcase_create("threads");
  tcase_add_test(threads, test_four_producers_one_consumer);
  tcase_add_test(threads, test_four_producers_two_consumers);
  tcase_add_test(threads, test_capacity_two_contended);
  tcase_set_timeout(threads, 300.0);
  suite_add_tcase(s, threads);

  return s;
}
